/*
 * probe.c — `safetygw probe`: opens a link itself, polls one device once
 * with a profile (as the daemon would, device_poll.c), and prints every
 * decoded point, or explains a failure (probe_explain.c).
 */
#include "probe.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_load.h"
#include "device_poll.h"
#include "format.h"
#include "link.h"
#include "options.h"
#include "payload.h"
#include "probe_explain.h"
#include "profile.h"
#include "readplan.h"
#include "socket.h"
#include "table.h"

#define EXPLANATION_MAX 700
#define RAW_TEXT_MAX 64

static const char usage[] =
    "usage: safetygw probe --port TTY [--baud 9600] [--parity N|E|O] [--data-bits 8]\n"
    "                      [--stop-bits 1] [--rs485] --address N --profile NAME|FILE\n"
    "       safetygw probe --tcp HOST:PORT --unit N --profile NAME|FILE\n"
    "         [--profiles DIR (default " CLI_PROFILE_FOLDER
    ")] [--timeout-ms 500] [--raw] [--json]\n";

/* The command line, as given. */
struct probe_arguments {
    struct cli_link_options link;
    const char *address, *unit, *profile, *profiles;
    bool raw;
};

/* What the command line asks for, checked. */
struct probe_request {
    struct cli_link link;
    long address; /* slave address (RTU) or unit id (TCP) */
    bool raw, json;
};

static int check_rtu(const struct probe_arguments *in, struct probe_request *out)
{
    struct cli_link *link = &out->link;
    link->port = in->link.port;
    link->parity = 'N';
    if ((in->link.parity && cli_link_parity("probe", in->link.parity, &link->parity) != 0) ||
        cli_link_number("probe", "--baud", in->link.baud ? in->link.baud : "9600", 300, 4000000,
                        &link->baud) != 0 ||
        cli_link_line_bits("probe", &in->link, link) != 0 ||
        cli_link_number("probe", "--address", in->address, 1, 247, &out->address) != 0)
        return -1;
    link->rs485 = in->link.rs485;
    cli_link_describe_rtu(link);
    return 0;
}

static int check_tcp(const struct probe_arguments *in, struct probe_request *out)
{
    if (cli_link_tcp("probe", in->link.tcp, &out->link) != 0)
        return -1;
    return cli_link_number("probe", "--unit", in->unit, 0, 255, &out->address);
}

static int check_arguments(const struct probe_arguments *in, struct probe_request *out)
{
    if (cli_link_check_options("probe", &in->link, "500", &out->link) != 0)
        return -1;
    if (!in->profile) {
        fprintf(stderr, "safetygw probe: which --profile?\n");
        return -1;
    }
    if (in->link.tcp && (in->address || in->link.baud || in->link.parity)) {
        fprintf(stderr, "safetygw probe: with --tcp, give --unit (not --address, --baud, "
                        "--parity)\n");
        return -1;
    }
    if (in->link.port && in->unit) {
        fprintf(stderr, "safetygw probe: with --port, give --address (not --unit)\n");
        return -1;
    }
    out->raw = in->raw;
    return in->link.tcp ? check_tcp(in, out) : check_rtu(in, out);
}

/* --raw: the plan's reads once more, the registers kept as they came. */
static void raw_text(const struct profile *profile, const struct read_plan *plan,
                     const uint16_t *registers, size_t p, char *out, size_t size)
{
    const struct point_def *point = &profile->points[p];
    const uint16_t *first = registers + readplan_point_buffer_index(plan, p);
    bool wide =
        point->type == TYPE_INT32 || point->type == TYPE_UINT32 || point->type == TYPE_FLOAT32;
    if (point->table == TABLE_COIL || point->table == TABLE_DISCRETE)
        snprintf(out, size, "%s %u = %u", point_table_name(point->table), point->address, first[0]);
    else if (wide)
        snprintf(out, size, "%s %u = 0x%04x 0x%04x", point_table_name(point->table), point->address,
                 first[0], first[1]);
    else
        snprintf(out, size, "%s %u = 0x%04x", point_table_name(point->table), point->address,
                 first[0]);
}

/* The decoded value as JSON (status words carry their named bits), with its registers. */
static json_t *point_json(const struct point_def *point, double value, const char *raw)
{
    json_t *root = payload_point_entry(point, value);
    if (raw)
        json_object_set_new(root, "raw", json_string(raw));
    return root;
}

static json_t *result_json(const struct profile *profile, const struct read_plan *plan,
                           const double *values, const uint16_t *registers,
                           const struct poll_outcome *outcome)
{
    json_t *points = json_array();
    for (size_t p = 0; p < profile->point_count; p++) {
        char raw[RAW_TEXT_MAX];
        if (registers)
            raw_text(profile, plan, registers, p, raw, sizeof raw);
        json_array_append_new(points,
                              point_json(&profile->points[p], values[p], registers ? raw : NULL));
    }
    return json_pack("{s:b, s:s, s:f, s:o}", "ok", 1, "profile", profile->name, "latency_ms",
                     (double)outcome->latency_us / 1000.0, "values", points);
}

static void print_points(const json_t *result, bool raw)
{
    static const char *const headers[] = {"POINT", "VALUE", "RAW"};
    struct cli_table *table = cli_table_new(raw ? 3 : 2, headers);
    size_t i;
    const json_t *point;
    json_array_foreach(json_object_get(result, "values"), i, point)
    {
        char shown[CLI_FORMAT_MAX];
        cli_format_point(point, shown, sizeof shown);
        const char *cells[] = {json_string_value(json_object_get(point, "point")), shown,
                               json_string_value(json_object_get(point, "raw"))};
        cli_table_add(table, cells);
    }
    cli_table_print(table, stdout);
    cli_table_free(table);
}

static int report_failure(const struct probe_request *request, const struct profile *profile,
                          const struct poll_outcome *outcome)
{
    struct probe_target target = {.where = request->link.where,
                                  .address = (int)request->address,
                                  .timeout_ms = (unsigned)request->link.timeout_ms,
                                  .profile = profile->name,
                                  .tcp = request->link.tcp};
    char explanation[EXPLANATION_MAX];
    cli_probe_explain(outcome, &target, explanation, sizeof explanation);
    if (request->json) {
        json_t *failure =
            json_pack("{s:b, s:s, s:s}", "ok", 0, "error_class",
                      cli_probe_explain_class(outcome->error_class), "error", explanation);
        if (outcome->error_class == MODBUS_ERROR_EXCEPTION)
            json_object_set_new(failure, "exception_code", json_integer(outcome->exception_code));
        cli_socket_print_json(failure);
        json_decref(failure);
    }
    fprintf(stderr, "safetygw probe: %s\n", explanation);
    return CLI_EXIT_BAD_NEWS;
}

static int probe(const struct probe_request *request, const struct profile *profile,
                 const struct read_plan *plan, modbus_t *ctx)
{
    const struct device_def def = {
        .id = "probe", .profile = profile, .address = (uint8_t)request->address};
    const struct device device = {.def = &def, .plan = plan};
    struct bus_pacing pacing;
    struct tcp_link tcp;
    cli_link_pacing(&request->link, ctx, &pacing, &tcp);
    modbus_set_slave(ctx, (int)request->address);
    struct poll_outcome outcome;
    double *values = calloc(profile->point_count ? profile->point_count : 1, sizeof *values);
    uint16_t *registers = calloc(plan->buffer_count + 1, sizeof *registers);
    if (!values || !registers) {
        free(values);
        free(registers);
        fprintf(stderr, "safetygw probe: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    device_poll(ctx, &device, &pacing, registers, values, &outcome);
    int code = CLI_EXIT_OK;
    if (outcome.result != DEVICE_POLL_OK) {
        code = report_failure(request, profile, &outcome);
    } else {
        json_t *result =
            result_json(profile, plan, values, request->raw ? registers : NULL, &outcome);
        if (request->json)
            cli_socket_print_json(result);
        else {
            printf("%s %ld on %s answered in %.1f ms (profile %s):\n\n",
                   request->link.tcp ? "unit" : "address", request->address, request->link.where,
                   (double)outcome.latency_us / 1000.0, profile->name);
            print_points(result, request->raw);
        }
        json_decref(result);
    }
    free(values);
    free(registers);
    return code;
}

static int parse(int argc, char **argv, struct probe_arguments *in, struct probe_request *out)
{
    struct cli_options options = {.command = "probe"};
    struct cli_option own[5 + CLI_LINK_OPTION_COUNT + 1] = {{"--address", &in->address, NULL},
                                                            {"--unit", &in->unit, NULL},
                                                            {"--profile", &in->profile, NULL},
                                                            {"--profiles", &in->profiles, NULL},
                                                            {"--raw", NULL, &in->raw}};
    cli_link_option_table(&in->link, &own[5]);
    int code = cli_options_parse_or_help(argc, argv, &options, own, NULL, 0, usage);
    if (code != CLI_OPTIONS_RUN)
        return code;
    out->json = options.json;
    if (check_arguments(in, out) != 0) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    return CLI_OPTIONS_RUN;
}

int cli_probe(int argc, char **argv)
{
    struct probe_arguments in = {0};
    struct probe_request request = {0};
    int parsed = parse(argc, argv, &in, &request);
    if (parsed != CLI_OPTIONS_RUN)
        return parsed;
    struct profile *profile = cli_profile_load("probe", in.profile, in.profiles);
    if (!profile)
        return CLI_EXIT_USAGE;
    struct read_plan plan = {0};
    char error[256];
    int code = CLI_EXIT_USAGE;
    if (readplan_build(profile, &plan, error, sizeof error) != 0) {
        fprintf(stderr, "safetygw probe: profile %s: cannot plan its reads: %s\n", profile->name,
                error);
    } else {
        modbus_t *ctx = cli_link_open("probe", &request.link);
        if (ctx) {
            code = probe(&request, profile, &plan, ctx);
            modbus_close(ctx);
            modbus_free(ctx);
        }
    }
    readplan_free(&plan);
    config_free_profile(profile);
    return code;
}
