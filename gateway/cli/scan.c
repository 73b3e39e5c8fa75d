/*
 * scan.c — `safetygw scan`: asks every address on a line (each baud rate and
 * parity given) or every unit behind a converter, counts who answers, and
 * with --profile checks that each answering device decodes in range. Owns
 * its link and buffers for the run.
 */
#include "scan.h"

#include <errno.h>
#include <jansson.h>
#include <modbus.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_load.h"
#include "device_poll.h"
#include "link.h"
#include "options.h"
#include "payload.h"
#include "profile.h"
#include "readplan.h"
#include "socket.h"
#include "table.h"

#define DEFAULT_TIMEOUT_MS "200"
#define MAX_BAUDS 8
#define MAX_PARITIES 3
#define ADDRESSES 256
#define TEXT_MAX 512

static const char usage[] =
    "usage: safetygw scan --port TTY [--baud 9600[,19200...]] [--parity N[,E,O]]\n"
    "                     [--data-bits 8] [--stop-bits 1] [--rs485] [--addresses 1-247]\n"
    "       safetygw scan --tcp HOST:PORT [--units 1-247]\n"
    "         [--profile NAME|FILE [--profiles DIR]] [--timeout-ms " DEFAULT_TIMEOUT_MS "] "
    "[--json]\n";

/* The command line, as given: --baud and --parity are lists. */
struct scan_arguments {
    struct cli_link_options link;
    const char *addresses, *units, *profile, *profiles;
};

/* What the command line asks for, checked. */
struct scan_request {
    struct cli_link link; /* baud and parity: the first of the lists */
    long bauds[MAX_BAUDS];
    size_t baud_count;
    char parities[MAX_PARITIES];
    size_t parity_count;
    bool wanted[ADDRESSES]; /* addresses (unit ids) to ask */
    size_t wanted_count;
    bool json;
};

/* The profile to check answering devices against, with its reads. */
struct scan_profile {
    struct profile *profile;
    struct read_plan plan;
    uint16_t *registers;
    double *values;
};

/* What one combination of line settings (or the converter) found. */
struct scan_totals {
    size_t asked, answered, garbled, failed_check;
};

/* "1-247", "1,5,10-20" into wanted[]. */
static int parse_addresses(const char *option, const char *text, long min, long max,
                           struct scan_request *out)
{
    char copy[256], *save = NULL;
    snprintf(copy, sizeof copy, "%s", text);
    for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(part, '-');
        long first, last;
        if (dash)
            *dash = '\0';
        if (cli_link_number("scan", option, part, min, max, &first) != 0 ||
            cli_link_number("scan", option, dash ? dash + 1 : part, min, max, &last) != 0)
            return -1;
        if (last < first) {
            fprintf(stderr, "safetygw scan: %s: %ld-%ld runs backwards\n", option, first, last);
            return -1;
        }
        for (long a = first; a <= last; a++) {
            out->wanted_count += !out->wanted[a];
            out->wanted[a] = true;
        }
    }
    if (out->wanted_count == 0) {
        fprintf(stderr, "safetygw scan: %s names no address\n", option);
        return -1;
    }
    return 0;
}

static int parse_bauds(const char *text, struct scan_request *out)
{
    char copy[128], *save = NULL;
    snprintf(copy, sizeof copy, "%s", text);
    for (char *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
        if (out->baud_count == MAX_BAUDS) {
            fprintf(stderr, "safetygw scan: --baud takes at most %d rates\n", MAX_BAUDS);
            return -1;
        }
        if (cli_link_number("scan", "--baud", word, 300, 4000000, &out->bauds[out->baud_count]) !=
            0)
            return -1;
        out->baud_count++;
    }
    return out->baud_count > 0 ? 0 : -1;
}

static int parse_parities(const char *text, struct scan_request *out)
{
    char copy[32], *save = NULL;
    snprintf(copy, sizeof copy, "%s", text);
    for (char *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
        if (out->parity_count == MAX_PARITIES) {
            fprintf(stderr, "safetygw scan: --parity takes at most N, E and O\n");
            return -1;
        }
        if (cli_link_parity("scan", word, &out->parities[out->parity_count]) != 0)
            return -1;
        out->parity_count++;
    }
    return out->parity_count > 0 ? 0 : -1;
}

static int check_rtu(const struct scan_arguments *in, struct scan_request *out)
{
    struct cli_link *link = &out->link;
    if (in->units) {
        fprintf(stderr, "safetygw scan: with --port, give --addresses (not --units)\n");
        return -1;
    }
    link->port = in->link.port;
    link->rs485 = in->link.rs485;
    if (parse_bauds(in->link.baud ? in->link.baud : "9600", out) != 0 ||
        parse_parities(in->link.parity ? in->link.parity : "N", out) != 0 ||
        cli_link_line_bits("scan", &in->link, link) != 0)
        return -1;
    return parse_addresses("--addresses", in->addresses ? in->addresses : "1-247", 1, 247, out);
}

static int check_tcp(const struct scan_arguments *in, struct scan_request *out)
{
    if (in->addresses || in->link.baud || in->link.parity || in->link.data_bits ||
        in->link.stop_bits || in->link.rs485) {
        fprintf(stderr, "safetygw scan: with --tcp, give --units (not --addresses or line "
                        "settings)\n");
        return -1;
    }
    if (cli_link_tcp("scan", in->link.tcp, &out->link) != 0)
        return -1;
    out->baud_count = out->parity_count = 1; /* one pass */
    return parse_addresses("--units", in->units ? in->units : "1-247", 0, 255, out);
}

static int parse(int argc, char **argv, struct scan_arguments *in, struct scan_request *out)
{
    struct cli_options options = {.command = "scan"};
    struct cli_option own[4 + CLI_LINK_OPTION_COUNT + 1] = {{"--addresses", &in->addresses, NULL},
                                                            {"--units", &in->units, NULL},
                                                            {"--profile", &in->profile, NULL},
                                                            {"--profiles", &in->profiles, NULL}};
    cli_link_option_table(&in->link, &own[4]);
    int code = cli_options_parse_or_help(argc, argv, &options, own, NULL, 0, usage);
    if (code != CLI_OPTIONS_RUN)
        return code;
    out->json = options.json;
    if (cli_link_check_options("scan", &in->link, DEFAULT_TIMEOUT_MS, &out->link) != 0 ||
        (in->link.tcp ? check_tcp(in, out) : check_rtu(in, out)) != 0) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    return CLI_OPTIONS_RUN;
}

static int load_profile(const struct scan_arguments *in, struct scan_profile *out)
{
    *out = (struct scan_profile){0};
    if (!in->profile)
        return 0;
    out->profile = cli_profile_load("scan", in->profile, in->profiles);
    if (!out->profile)
        return -1;
    char error[256];
    if (readplan_build(out->profile, &out->plan, error, sizeof error) != 0) {
        fprintf(stderr, "safetygw scan: profile %s: cannot plan its reads: %s\n",
                out->profile->name, error);
        return -1;
    }
    out->registers = calloc(out->plan.buffer_count + 1, sizeof *out->registers);
    out->values = calloc(out->profile->point_count + 1, sizeof *out->values);
    if (!out->registers || !out->values) {
        fprintf(stderr, "safetygw scan: out of memory\n");
        return -1;
    }
    return 0;
}

static void free_profile(struct scan_profile *profile)
{
    free(profile->registers);
    free(profile->values);
    readplan_free(&profile->plan);
    if (profile->profile)
        config_free_profile(profile->profile);
}

/* The probe: FC03 of one register at 0, the smallest read every device understands. */
static void probe(modbus_t *ctx, struct bus_pacing *pacing, int address,
                  struct poll_outcome *outcome)
{
    static const struct profile no_points = {.name = "scan"};
    static struct read_request one_register = {.table = TABLE_HOLDING, .count = 1};
    static const struct read_plan plan = {
        .requests = &one_register, .request_count = 1, .buffer_count = 1};
    const struct device_def def = {
        .id = "scan", .profile = &no_points, .address = (uint8_t)address};
    const struct device device = {.def = &def, .plan = &plan};
    uint16_t registers[1];
    device_poll(ctx, &device, pacing, registers, NULL, outcome);
}

/*
 * Whether the address answers: any reply, an exception one too (the device is
 * there, it just does not have register 0); but a converter's exception
 * 0x0A/0x0B says the device behind it is NOT there.
 */
static bool answers(const struct poll_outcome *outcome, bool tcp)
{
    if (outcome->result == DEVICE_POLL_OK || outcome->error_class == MODBUS_ERROR_OTHER)
        return true;
    if (outcome->error_class != MODBUS_ERROR_EXCEPTION)
        return false;
    return !(tcp && (outcome->exception_code == MODBUS_EXCEPTION_GATEWAY_PATH ||
                     outcome->exception_code == MODBUS_EXCEPTION_GATEWAY_TARGET));
}

static const char *answer_word(const struct poll_outcome *outcome, char *text, size_t size)
{
    if (outcome->result == DEVICE_POLL_OK)
        return "ok";
    if (outcome->error_class == MODBUS_ERROR_EXCEPTION)
        snprintf(text, size, "exception %d", outcome->exception_code);
    else
        snprintf(text, size, "malformed reply");
    return text;
}

/* Reads the device with the profile; the verdict as JSON: ok, out_of_range[], error. */
static json_t *check_profile(modbus_t *ctx, struct bus_pacing *pacing, int address,
                             struct scan_profile *profile)
{
    const struct device_def def = {
        .id = "scan", .profile = profile->profile, .address = (uint8_t)address};
    const struct device device = {.def = &def, .plan = &profile->plan};
    struct poll_outcome outcome;
    device_poll(ctx, &device, pacing, profile->registers, profile->values, &outcome);
    json_t *verdict = json_pack("{s:s}", "name", profile->profile->name);
    if (outcome.result != DEVICE_POLL_OK) {
        char error[TEXT_MAX];
        if (outcome.error_class == MODBUS_ERROR_EXCEPTION)
            snprintf(error, sizeof error, "exception %d (%s)", outcome.exception_code,
                     modbus_strerror(MODBUS_ENOBASE + outcome.exception_code));
        else
            snprintf(error, sizeof error, "%s",
                     outcome.error_class == MODBUS_ERROR_TIMEOUT
                         ? "no answer to the profile's reads"
                     : outcome.error_class == MODBUS_ERROR_CRC ? "CRC error"
                                                               : "malformed reply");
        json_object_set_new(verdict, "ok", json_false());
        json_object_set_new(verdict, "error", json_string(error));
        return verdict;
    }
    json_t *outside = json_array();
    for (size_t p = 0; p < profile->profile->point_count; p++) {
        const struct point_def *point = &profile->profile->points[p];
        double value = profile->values[p];
        if (config_point_plausible(point, value))
            continue;
        json_t *entry =
            json_pack("{s:s, s:o}", "point", point->name, "value", payload_number(value));
        if (point->unit)
            json_object_set_new(entry, "unit", json_string(point->unit));
        if (point->has_min)
            json_object_set_new(entry, "min", payload_number(point->min));
        if (point->has_max)
            json_object_set_new(entry, "max", payload_number(point->max));
        json_array_append_new(outside, entry);
    }
    json_object_set_new(verdict, "ok", json_boolean(json_array_size(outside) == 0));
    json_object_set_new(verdict, "points", json_integer((json_int_t)profile->profile->point_count));
    json_object_set_new(verdict, "out_of_range", outside);
    return verdict;
}

static void show_progress(const char *line, int address, size_t index, size_t total,
                          size_t answered)
{
    fprintf(stderr, "\r\033[K%s: %s %d (%zu of %zu), %zu answered", line, "address", address, index,
            total, answered);
    fflush(stderr);
}

static void clear_progress(void)
{
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

/* One combination of line settings (or the converter): every wanted address, in order. */
static int scan_line(const struct scan_request *request, const struct cli_link *link,
                     const char *line, struct scan_profile *profile, json_t *found,
                     struct scan_totals *totals)
{
    modbus_t *ctx = cli_link_open("scan", link);
    if (!ctx)
        return -1;
    struct bus_pacing pacing;
    struct tcp_link tcp;
    cli_link_pacing(link, ctx, &pacing, &tcp);
    bool progress = isatty(STDERR_FILENO);
    size_t index = 0;
    for (int address = 0; address < ADDRESSES; address++) {
        if (!request->wanted[address])
            continue;
        index++;
        if (progress)
            show_progress(line, address, index, request->wanted_count, totals->answered);
        struct poll_outcome outcome;
        probe(ctx, &pacing, address, &outcome);
        totals->asked++;
        if (outcome.result == DEVICE_POLL_FAILED && outcome.error_class == MODBUS_ERROR_CRC)
            totals->garbled++;
        if (outcome.result == DEVICE_POLL_LINK_LOST) {
            if (progress)
                clear_progress();
            fprintf(stderr, "safetygw scan: lost %s at address %d\n", link->where, address);
            modbus_close(ctx);
            modbus_free(ctx);
            return -1;
        }
        if (!answers(&outcome, link->tcp))
            continue;
        totals->answered++;
        char word[64];
        json_t *entry = json_pack("{s:i, s:s, s:f}", "address", address, "answer",
                                  answer_word(&outcome, word, sizeof word), "latency_ms",
                                  (double)outcome.latency_us / 1000.0);
        if (!link->tcp) {
            json_object_set_new(entry, "line", json_string(line));
            json_object_set_new(entry, "baud", json_integer(link->baud));
            json_object_set_new(entry, "parity", json_sprintf("%c", link->parity));
        }
        if (outcome.error_class == MODBUS_ERROR_EXCEPTION && outcome.result != DEVICE_POLL_OK)
            json_object_set_new(entry, "exception_code", json_integer(outcome.exception_code));
        if (profile->profile) {
            json_t *verdict = check_profile(ctx, &pacing, address, profile);
            totals->failed_check += !json_is_true(json_object_get(verdict, "ok"));
            json_object_set_new(entry, "profile", verdict);
        }
        json_array_append_new(found, entry);
    }
    if (progress)
        clear_progress();
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}

static void profile_text(const json_t *verdict, char *out, size_t size)
{
    if (!verdict) {
        snprintf(out, size, "-");
        return;
    }
    const json_t *error = json_object_get(verdict, "error");
    if (error) {
        snprintf(out, size, "read failed: %s", json_string_value(error));
        return;
    }
    const json_t *outside = json_object_get(verdict, "out_of_range");
    if (json_array_size(outside) == 0) {
        snprintf(out, size, "ok: %lld points in range",
                 (long long)json_integer_value(json_object_get(verdict, "points")));
        return;
    }
    size_t used = (size_t)snprintf(out, size, "%zu out of range:", json_array_size(outside));
    size_t i;
    const json_t *entry;
    json_array_foreach(outside, i, entry)
    {
        if (used >= size)
            break;
        const json_t *min = json_object_get(entry, "min"), *max = json_object_get(entry, "max");
        const char *unit = json_string_value(json_object_get(entry, "unit"));
        char range[64];
        if (min && max)
            snprintf(range, sizeof range, "%g..%g", json_number_value(min), json_number_value(max));
        else if (min || max)
            snprintf(range, sizeof range, "%s %g", min ? "at least" : "at most",
                     json_number_value(min ? min : max));
        else
            snprintf(range, sizeof range, "not a number");
        used += (size_t)snprintf(out + used, size - used, "%s %s = %g%s%s (%s)", i ? "," : "",
                                 json_string_value(json_object_get(entry, "point")),
                                 json_number_value(json_object_get(entry, "value")),
                                 unit ? " " : "", unit ? unit : "", range);
    }
}

static void print_found(const struct scan_request *request, const json_t *found, bool profile)
{
    static const char *const headers[] = {"ADDRESS", "LINE", "ANSWER", "LATENCY", "PROFILE"};
    size_t columns = profile ? 5 : 4;
    struct cli_table *table = cli_table_new(columns, headers);
    size_t i;
    const json_t *entry;
    json_array_foreach(found, i, entry)
    {
        char address[16], latency[32], verdict[TEXT_MAX];
        snprintf(address, sizeof address, "%lld",
                 (long long)json_integer_value(json_object_get(entry, "address")));
        snprintf(latency, sizeof latency, "%.1f ms",
                 json_number_value(json_object_get(entry, "latency_ms")));
        profile_text(json_object_get(entry, "profile"), verdict, sizeof verdict);
        const char *cells[] = {
            address,
            request->link.tcp ? request->link.where
                              : json_string_value(json_object_get(entry, "line")),
            json_string_value(json_object_get(entry, "answer")), latency, verdict};
        cli_table_add(table, cells);
    }
    cli_table_print(table, stdout);
    cli_table_free(table);
}

static void print_summary(const struct scan_request *request, const json_t *lines, size_t answered)
{
    size_t i;
    const json_t *line;
    if (answered == 0)
        printf("no %s answered on %s\n", request->link.tcp ? "unit" : "address",
               request->link.tcp ? request->link.where : request->link.port);
    json_array_foreach(lines, i, line)
    {
        long long garbled = json_integer_value(json_object_get(line, "garbled"));
        if (garbled > 0)
            printf("%s: %lld garbled repl%s (CRC errors): a device answers at another baud "
                   "rate or parity, or the line is noisy\n",
                   json_string_value(json_object_get(line, "line")), garbled,
                   garbled == 1 ? "y" : "ies");
    }
}

static int scan(const struct scan_request *request, struct scan_profile *profile)
{
    json_t *found = json_array(), *lines = json_array();
    struct scan_totals all = {0};
    int code = CLI_EXIT_OK;
    for (size_t b = 0; b < request->baud_count && code == CLI_EXIT_OK; b++) {
        for (size_t p = 0; p < request->parity_count && code == CLI_EXIT_OK; p++) {
            struct cli_link link = request->link;
            char line[64] = "";
            if (!link.tcp) {
                link.baud = request->bauds[b];
                link.parity = request->parities[p];
                cli_link_describe_rtu(&link);
                snprintf(line, sizeof line, "%ld %ld%c%ld", link.baud, link.data_bits, link.parity,
                         link.stop_bits);
            }
            struct scan_totals totals = {0};
            if (scan_line(request, &link, link.tcp ? link.where : line, profile, found, &totals) !=
                0) {
                code = CLI_EXIT_USAGE;
                break;
            }
            json_array_append_new(lines, json_pack("{s:s, s:I, s:I, s:I}", "line",
                                                   link.tcp ? link.where : line, "asked",
                                                   (json_int_t)totals.asked, "answered",
                                                   (json_int_t)totals.answered, "garbled",
                                                   (json_int_t)totals.garbled));
            all.asked += totals.asked;
            all.answered += totals.answered;
            all.failed_check += totals.failed_check;
        }
    }
    if (code == CLI_EXIT_OK && (all.answered == 0 || all.failed_check > 0))
        code = CLI_EXIT_BAD_NEWS;
    if (request->json) {
        json_t *result = json_pack("{s:b, s:s, s:O, s:O}", "ok", code == CLI_EXIT_OK, "link",
                                   request->link.tcp ? request->link.where : request->link.port,
                                   "lines", lines, "found", found);
        cli_socket_print_json(result);
        json_decref(result);
    } else if (code != CLI_EXIT_USAGE) {
        if (all.answered > 0)
            print_found(request, found, profile->profile != NULL);
        print_summary(request, lines, all.answered);
    }
    json_decref(found);
    json_decref(lines);
    return code;
}

int cli_scan(int argc, char **argv)
{
    struct scan_arguments in = {0};
    struct scan_request request = {0};
    int parsed = parse(argc, argv, &in, &request);
    if (parsed != CLI_OPTIONS_RUN)
        return parsed;
    struct scan_profile profile;
    int code = CLI_EXIT_USAGE;
    if (load_profile(&in, &profile) == 0)
        code = scan(&request, &profile);
    free_profile(&profile);
    return code;
}
