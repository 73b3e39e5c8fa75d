/*
 * status.c — `safetygw status`: asks the daemon for its status and shows the
 * gateway at a glance, then a table of its buses; --fail-on judges the device
 * counts. The run itself is query.c's.
 */
#include "status.h"

#include <stdio.h>
#include <time.h>

#include "format.h"
#include "options.h"
#include "query.h"
#include "table.h"

static const char usage[] =
    "usage: safetygw status [--json] [--fail-on offline|alarm|fault] [--socket PATH | -c FILE]\n";

static void print_summary(const json_t *status)
{
    const json_t *devices = json_object_get(status, "devices");
    const json_t *mqtt = json_object_get(status, "mqtt");
    char uptime[CLI_FORMAT_MAX], started[CLI_FORMAT_MAX];
    cli_format_duration((uint64_t)cli_format_integer_of(status, "uptime_s"), uptime, sizeof uptime);
    cli_format_local_time(json_object_get(status, "started"), started, sizeof started);
    printf("gateway   %s (site %s), safetygwd %s\n",
           json_string_value(json_object_get(status, "gateway")),
           json_string_value(json_object_get(status, "site")),
           json_string_value(json_object_get(status, "version")));
    printf("uptime    %s (since %s)\n", uptime, started);
    printf("mqtt      %s, %s, %" JSON_INTEGER_FORMAT " queued, %" JSON_INTEGER_FORMAT " dropped\n",
           json_is_true(json_object_get(mqtt, "connected")) ? "connected" : "NOT CONNECTED",
           json_string_value(json_object_get(mqtt, "uri")), cli_format_integer_of(mqtt, "queued"),
           cli_format_integer_of(mqtt, "dropped"));
    printf("devices   %" JSON_INTEGER_FORMAT " total: %" JSON_INTEGER_FORMAT
           " online, %" JSON_INTEGER_FORMAT " offline, %" JSON_INTEGER_FORMAT
           " in alarm, %" JSON_INTEGER_FORMAT " fault, %" JSON_INTEGER_FORMAT
           " ok, %" JSON_INTEGER_FORMAT " not polled yet\n",
           cli_format_integer_of(devices, "total"), cli_format_integer_of(devices, "online"),
           cli_format_integer_of(devices, "offline"), cli_format_integer_of(devices, "in_alarm"),
           cli_format_integer_of(devices, "fault"), cli_format_integer_of(devices, "ok"),
           cli_format_integer_of(devices, "unknown"));
    if (json_is_true(json_object_get(status, "state_write_failing")))
        printf(
            "STATE     cannot write state_dir: a restart may repeat seq numbers (see the log)\n");
    if (cli_format_integer_of(status, "lost") > 0)
        printf("LOST      %" JSON_INTEGER_FORMAT " queued messages could not be read back (see "
               "the log)\n",
               cli_format_integer_of(status, "lost"));
}

static void add_bus_row(struct cli_table *table, const json_t *bus, time_t now)
{
    (void)now;
    const json_t *devices = json_object_get(bus, "devices");
    char cycle[32], load[32] = "-", polls[32], errors[32], count[32], offline[32], alarm[32];
    snprintf(cycle, sizeof cycle, "%" JSON_INTEGER_FORMAT " ms",
             cli_format_integer_of(bus, "cycle_ms"));
    if (json_object_get(bus, "planned_load"))
        snprintf(load, sizeof load, "%.0f %%",
                 100.0 * json_number_value(json_object_get(bus, "planned_load")));
    snprintf(polls, sizeof polls, "%" JSON_INTEGER_FORMAT,
             cli_format_integer_of(bus, "polls_ok") + cli_format_integer_of(bus, "polls_failed"));
    snprintf(errors, sizeof errors, "%.1f %%",
             100.0 * json_number_value(json_object_get(bus, "error_rate")));
    snprintf(count, sizeof count, "%" JSON_INTEGER_FORMAT, cli_format_integer_of(devices, "total"));
    snprintf(offline, sizeof offline, "%" JSON_INTEGER_FORMAT,
             cli_format_integer_of(devices, "offline"));
    snprintf(alarm, sizeof alarm, "%" JSON_INTEGER_FORMAT,
             cli_format_integer_of(devices, "in_alarm"));
    const char *cells[] = {json_string_value(json_object_get(bus, "name")),
                           json_string_value(json_object_get(bus, "type")),
                           json_string_value(json_object_get(bus, "address")),
                           json_is_true(json_object_get(bus, "link_up")) ? "up" : "DOWN",
                           cycle,
                           load,
                           polls,
                           errors,
                           count,
                           offline,
                           alarm};
    cli_table_add(table, cells);
}

static void print_buses(const json_t *buses)
{
    static const char *const headers[] = {"BUS",     "TYPE",    "ADDRESS", "LINK",
                                          "CYCLE",   "LOAD",    "POLLS",   "ERRORS",
                                          "DEVICES", "OFFLINE", "IN ALARM"};
    static const struct cli_query_table shape = {.headers = headers,
                                                 .column_count = 11,
                                                 .right_aligned = 0x7f0u, /* CYCLE on */
                                                 .add_row = add_bus_row};
    printf("\n");
    cli_query_print_table(&shape, buses);
}

static int verdict(const json_t *status, unsigned fail_on)
{
    const json_t *devices = json_object_get(status, "devices");
    bool bad = ((fail_on & CLI_FAIL_OFFLINE) && cli_format_integer_of(devices, "offline") > 0) ||
               ((fail_on & CLI_FAIL_ALARM) && cli_format_integer_of(devices, "in_alarm") > 0) ||
               ((fail_on & CLI_FAIL_FAULT) && cli_format_integer_of(devices, "fault") > 0);
    return bad ? CLI_EXIT_BAD_NEWS : CLI_EXIT_OK;
}

static void print_status(const json_t *status)
{
    print_summary(status);
    print_buses(json_object_get(status, "buses"));
}

int cli_status(int argc, char **argv)
{
    static const struct cli_query query = {
        .usage = usage, .print = print_status, .verdict = verdict};
    struct cli_options options = {.command = "status", .asks_daemon = true};
    int code = cli_query_parse(&query, argc, argv, &options, NULL, NULL);
    if (code != CLI_OPTIONS_RUN)
        return code;
    return cli_query_ask(&query, &options, json_pack("{s:s}", "cmd", "status"));
}
