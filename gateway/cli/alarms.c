#include "alarms.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "options.h"
#include "socket.h"
#include "table.h"

static const char usage[] =
    "usage: safetygw alarms [--json] [--fail-on alarm] [--socket PATH | -c FILE]\n";

static const char *text(const json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value ? value : "-";
}

static void add_row(struct cli_table *table, const json_t *alarm, time_t now)
{
    char since[CLI_FORMAT_MAX], age[CLI_FORMAT_MAX], detail[CLI_FORMAT_MAX],
        location[CLI_FORMAT_MAX];
    cli_format_local_time(json_object_get(alarm, "since"), since, sizeof since);
    cli_format_age(json_object_get(alarm, "since"), now, age, sizeof age);
    cli_format_alarm_detail(alarm, detail, sizeof detail);
    const json_t *shelved = json_object_get(alarm, "shelved");
    if (shelved) {
        char until[CLI_FORMAT_MAX];
        cli_format_local_time(json_object_get(shelved, "until"), until, sizeof until);
        size_t length = strlen(detail);
        snprintf(detail + length, sizeof detail - length, " [shelved until %.40s]", until);
    }
    cli_format_location(json_object_get(alarm, "location"), location, sizeof location);
    const char *cells[] = {
        since,    age,   text(alarm, "severity"), text(alarm, "device"), text(alarm, "alarm"),
        location, detail};
    cli_table_add(table, cells);
}

static void print_table(const json_t *alarms)
{
    static const char *const headers[] = {"SINCE", "AGE",      "SEVERITY", "DEVICE",
                                          "ALARM", "LOCATION", "DETAIL"};
    if (json_array_size(alarms) == 0) {
        printf("no active alarms\n");
        return;
    }
    struct cli_table *table = cli_table_new(sizeof headers / sizeof headers[0], headers);
    if (!table)
        return;
    time_t now = time(NULL);
    size_t i;
    const json_t *alarm;
    json_array_foreach((json_t *)alarms, i, alarm)
    {
        add_row(table, alarm, now);
    }
    cli_table_print(table, stdout);
    cli_table_free(table);
}

int cli_alarms(int argc, char **argv)
{
    struct cli_options options = {.command = "alarms", .asks_daemon = true};
    size_t positional_count;
    if (cli_options_parse(argc, argv, &options, NULL, NULL, 0, &positional_count) != 0) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (options.help) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (options.fail_on & ~(unsigned)CLI_FAIL_ALARM) {
        fprintf(stderr, "safetygw alarms: only --fail-on alarm applies to alarms\n");
        return CLI_EXIT_USAGE;
    }
    json_t *answer = cli_socket_ask(&options, json_pack("{s:s}", "cmd", "alarms"));
    if (!answer)
        return CLI_EXIT_USAGE;
    const json_t *alarms = json_object_get(answer, "alarms");
    if (options.json)
        cli_socket_print_json(answer);
    else
        print_table(alarms);
    int code = options.fail_on && json_array_size(alarms) > 0 ? CLI_EXIT_BAD_NEWS : CLI_EXIT_OK;
    json_decref(answer);
    return code;
}
