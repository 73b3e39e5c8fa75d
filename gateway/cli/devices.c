/*
 * devices.c — `safetygw devices`: asks the daemon for its devices (filtered
 * by kind, bus or state) and shows one line each; --fail-on judges the
 * devices listed. The run itself is query.c's.
 */
#include "devices.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "options.h"
#include "query.h"
#include "table.h"

#define ALARM_LIST_MAX 512

static const char usage[] =
    "usage: safetygw devices [--kind KIND] [--bus BUS] [--state ok|alarm|fault|offline|unknown]\n"
    "                        [--json] [--fail-on offline|alarm|fault] [--socket PATH | -c FILE]\n";

static void join_names(const json_t *names, char *out, size_t size)
{
    size_t i, used = 0;
    const json_t *name;
    snprintf(out, size, "-");
    json_array_foreach((json_t *)names, i, name)
    {
        int written =
            snprintf(out + used, size - used, "%s%s", i ? "," : "", json_string_value(name));
        if (written < 0 || (size_t)written >= size - used)
            return;
        used += (size_t)written;
    }
}

static void add_row(struct cli_table *table, const json_t *device, time_t now)
{
    char address[16], seen[CLI_FORMAT_MAX], location[CLI_FORMAT_MAX], alarms[ALARM_LIST_MAX];
    snprintf(address, sizeof address, "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(device, "address")));
    cli_format_age(json_object_get(device, "last_seen"), now, seen, sizeof seen);
    cli_format_location(json_object_get(device, "location"), location, sizeof location);
    join_names(json_object_get(device, "alarms"), alarms, sizeof alarms);
    const char *cells[] = {json_string_value(json_object_get(device, "id")),
                           json_string_value(json_object_get(device, "kind")),
                           json_string_value(json_object_get(device, "bus")),
                           address,
                           json_string_value(json_object_get(device, "state")),
                           seen,
                           location,
                           alarms};
    cli_table_add(table, cells);
}

static void print_table(const json_t *devices)
{
    static const char *const headers[] = {"ID",    "KIND",      "BUS",      "ADDR",
                                          "STATE", "LAST SEEN", "LOCATION", "ALARMS"};
    static const struct cli_query_table shape = {.headers = headers,
                                                 .column_count = 8,
                                                 .right_aligned = 1u << 3,
                                                 .nothing = "no devices match",
                                                 .add_row = add_row};
    cli_query_print_table(&shape, devices);
}

/* Bad news among the devices listed. */
static int verdict(const json_t *devices, unsigned fail_on)
{
    size_t i;
    const json_t *device;
    json_array_foreach((json_t *)devices, i, device)
    {
        const char *state = json_string_value(json_object_get(device, "state"));
        bool in_alarm = json_array_size(json_object_get(device, "alarms")) > 0;
        if (((fail_on & CLI_FAIL_OFFLINE) && strcmp(state, "offline") == 0) ||
            ((fail_on & CLI_FAIL_ALARM) && in_alarm) ||
            ((fail_on & CLI_FAIL_FAULT) && strcmp(state, "fault") == 0))
            return CLI_EXIT_BAD_NEWS;
    }
    return CLI_EXIT_OK;
}

static json_t *request(const char *kind, const char *bus, const char *state)
{
    json_t *root = json_pack("{s:s}", "cmd", "devices");
    if (kind)
        json_object_set_new(root, "kind", json_string(kind));
    if (bus)
        json_object_set_new(root, "bus", json_string(bus));
    if (state)
        json_object_set_new(root, "state", json_string(state));
    return root;
}

int cli_devices(int argc, char **argv)
{
    static const struct cli_query query = {
        .usage = usage, .answer_member = "devices", .print = print_table, .verdict = verdict};
    struct cli_options options = {.command = "devices", .asks_daemon = true};
    const char *kind = NULL, *bus = NULL, *state = NULL;
    const struct cli_option own[] = {
        {"--kind", &kind, NULL}, {"--bus", &bus, NULL}, {"--state", &state, NULL}, {0}};
    int code = cli_query_parse(&query, argc, argv, &options, own, NULL);
    if (code != CLI_OPTIONS_RUN)
        return code;
    return cli_query_ask(&query, &options, request(kind, bus, state));
}
