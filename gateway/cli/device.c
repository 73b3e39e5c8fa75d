/*
 * device.c — `safetygw device ID`: asks the daemon for one device and shows
 * its identity, poll counters, values and active alarms; --fail-on judges
 * its state. The run itself is query.c's.
 */
#include "device.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "options.h"
#include "query.h"
#include "table.h"

#define BITS_TEXT_MAX 512

static const char usage[] = "usage: safetygw device ID [--json] [--fail-on offline|alarm|fault] "
                            "[--socket PATH | -c FILE]\n";

static void print_identity(const json_t *device, time_t now)
{
    char location[CLI_FORMAT_MAX], seen[CLI_FORMAT_MAX], seen_at[CLI_FORMAT_MAX];
    cli_format_location(json_object_get(device, "location"), location, sizeof location);
    cli_format_age(json_object_get(device, "last_seen"), now, seen, sizeof seen);
    cli_format_local_time(json_object_get(device, "last_seen"), seen_at, sizeof seen_at);
    printf("device       %s (%s, profile %s)\n", cli_format_text_of(device, "id"),
           cli_format_text_of(device, "kind"), cli_format_text_of(device, "profile"));
    printf("bus          %s, address %" JSON_INTEGER_FORMAT ", polled every %" JSON_INTEGER_FORMAT
           " ms\n",
           cli_format_text_of(device, "bus"), cli_format_integer_of(device, "address"),
           cli_format_integer_of(device, "poll_ms"));
    printf("location     %s\n", location[0] ? location : "-");
    printf("state        %s (link %s%s)\n", cli_format_text_of(device, "state"),
           cli_format_text_of(device, "link"),
           json_object_get(device, "suppressed_by") ? ", suppressed by bus_down" : "");
    size_t i;
    const json_t *shelving;
    json_array_foreach(json_object_get(device, "shelved"), i, shelving)
    {
        char until[CLI_FORMAT_MAX];
        cli_format_local_time(json_object_get(shelving, "until"), until, sizeof until);
        const char *alarm = json_string_value(json_object_get(shelving, "alarm"));
        printf("shelved      %s until %s by %s: %s\n", alarm ? alarm : "every alarm", until,
               cli_format_text_of(shelving, "by"), cli_format_text_of(shelving, "reason"));
    }
    if (json_is_string(json_object_get(device, "last_seen")))
        printf("last seen    %s (%s)\n", seen, seen_at);
    else
        printf("last seen    never\n");
}

static void print_latency(const json_t *stats)
{
    char last[64], mean[64];
    cli_format_value(json_object_get(stats, "last_latency_ms"), NULL, last, sizeof last);
    cli_format_value(json_object_get(stats, "mean_latency_ms"), NULL, mean, sizeof mean);
    printf("latency      last %s ms, mean %s ms\n", last, mean);
}

static void print_stats(const json_t *stats)
{
    printf("polls        %" JSON_INTEGER_FORMAT " ok, %" JSON_INTEGER_FORMAT
           " failed (%" JSON_INTEGER_FORMAT " in a row)\n",
           cli_format_integer_of(stats, "polls_ok"), cli_format_integer_of(stats, "polls_failed"),
           cli_format_integer_of(stats, "failed_in_row"));
    printf("errors       %" JSON_INTEGER_FORMAT " timeouts, %" JSON_INTEGER_FORMAT
           " CRC errors, %" JSON_INTEGER_FORMAT " exceptions, %" JSON_INTEGER_FORMAT " other\n",
           cli_format_integer_of(stats, "timeouts"), cli_format_integer_of(stats, "crc_errors"),
           cli_format_integer_of(stats, "exceptions"),
           cli_format_integer_of(stats, "other_errors"));
    if (json_object_get(stats, "last_exception_code"))
        printf("exception    last code %" JSON_INTEGER_FORMAT ": %s\n",
               cli_format_integer_of(stats, "last_exception_code"),
               cli_format_text_of(stats, "last_exception"));
    print_latency(stats);
}

static void print_sensor_life(const json_t *device)
{
    const json_t *days = json_object_get(device, "sensor_life_days");
    if (!days)
        return;
    char life[64];
    cli_format_value(days, NULL, life, sizeof life);
    printf("sensor life  %s%s\n", life, json_is_number(days) ? " days left" : " (not read yet)");
}

static void add_value_row(struct cli_table *table, const json_t *value, time_t now)
{
    (void)now;
    char shown[BITS_TEXT_MAX];
    cli_format_point(value, shown, sizeof shown);
    const char *cells[] = {cli_format_text_of(value, "point"), shown};
    cli_table_add(table, cells);
}

static void print_values(const json_t *values)
{
    static const char *const headers[] = {"POINT", "VALUE"};
    static const struct cli_query_table shape = {
        .headers = headers,
        .column_count = 2,
        .nothing = "no values yet: the device has not answered since safetygwd started",
        .add_row = add_value_row};
    printf("\n");
    cli_query_print_table(&shape, values);
}

static void add_alarm_row(struct cli_table *table, const json_t *alarm, time_t now)
{
    char since[CLI_FORMAT_MAX], age[CLI_FORMAT_MAX], detail[CLI_FORMAT_MAX];
    cli_format_local_time(json_object_get(alarm, "since"), since, sizeof since);
    cli_format_age(json_object_get(alarm, "since"), now, age, sizeof age);
    cli_format_alarm_detail(alarm, detail, sizeof detail);
    const char *cells[] = {cli_format_text_of(alarm, "alarm"),
                           cli_format_text_of(alarm, "severity"), since, age, detail};
    cli_table_add(table, cells);
}

static void print_alarms(const json_t *alarms)
{
    static const char *const headers[] = {"ALARM", "SEVERITY", "SINCE", "AGE", "DETAIL"};
    static const struct cli_query_table shape = {.headers = headers,
                                                 .column_count = 5,
                                                 .nothing = "no active alarms",
                                                 .add_row = add_alarm_row};
    printf("\n");
    cli_query_print_table(&shape, alarms);
}

static int verdict(const json_t *device, unsigned fail_on)
{
    const char *state = cli_format_text_of(device, "state");
    bool bad = ((fail_on & CLI_FAIL_OFFLINE) && strcmp(state, "offline") == 0) ||
               ((fail_on & CLI_FAIL_ALARM) && json_array_size(json_object_get(device, "alarms"))) ||
               ((fail_on & CLI_FAIL_FAULT) && strcmp(state, "fault") == 0);
    return bad ? CLI_EXIT_BAD_NEWS : CLI_EXIT_OK;
}

static void print_device(const json_t *device)
{
    print_identity(device, time(NULL));
    print_stats(json_object_get(device, "stats"));
    print_sensor_life(device);
    print_values(json_object_get(device, "values"));
    print_alarms(json_object_get(device, "active_alarms"));
}

int cli_device(int argc, char **argv)
{
    static const struct cli_query query = {.usage = usage,
                                           .argument_name = "device ID",
                                           .answer_member = "device",
                                           .print = print_device,
                                           .verdict = verdict};
    struct cli_options options = {.command = "device", .asks_daemon = true};
    const char *id = NULL;
    int code = cli_query_parse(&query, argc, argv, &options, NULL, &id);
    if (code != CLI_OPTIONS_RUN)
        return code;
    return cli_query_ask(&query, &options, json_pack("{s:s, s:s}", "cmd", "device", "id", id));
}
