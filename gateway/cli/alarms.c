/*
 * alarms.c — `safetygw alarms`: asks the daemon for its active alarms and
 * shows them as a table (since, age, severity, device, alarm, location, what
 * raised it and any shelving); the run itself is query.c's.
 */
#include "alarms.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "options.h"
#include "query.h"
#include "table.h"

static const char usage[] =
    "usage: safetygw alarms [--json] [--fail-on alarm] [--socket PATH | -c FILE]\n";

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
    const char *cells[] = {since,
                           age,
                           cli_format_text_of(alarm, "severity"),
                           cli_format_text_of(alarm, "device"),
                           cli_format_text_of(alarm, "alarm"),
                           location,
                           detail};
    cli_table_add(table, cells);
}

static void print_table(const json_t *alarms)
{
    static const char *const headers[] = {"SINCE", "AGE",      "SEVERITY", "DEVICE",
                                          "ALARM", "LOCATION", "DETAIL"};
    static const struct cli_query_table shape = {
        .headers = headers, .column_count = 7, .nothing = "no active alarms", .add_row = add_row};
    cli_query_print_table(&shape, alarms);
}

static int verdict(const json_t *alarms, unsigned fail_on)
{
    return fail_on && json_array_size(alarms) > 0 ? CLI_EXIT_BAD_NEWS : CLI_EXIT_OK;
}

int cli_alarms(int argc, char **argv)
{
    static const struct cli_query query = {
        .usage = usage, .answer_member = "alarms", .print = print_table, .verdict = verdict};
    struct cli_options options = {.command = "alarms", .asks_daemon = true};
    int code = cli_query_parse(&query, argc, argv, &options, NULL, NULL);
    if (code != CLI_OPTIONS_RUN)
        return code;
    if (options.fail_on & ~(unsigned)CLI_FAIL_ALARM) {
        fprintf(stderr, "safetygw alarms: only --fail-on alarm applies to alarms\n");
        return CLI_EXIT_USAGE;
    }
    return cli_query_ask(&query, &options, json_pack("{s:s}", "cmd", "alarms"));
}
