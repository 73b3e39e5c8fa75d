/*
 * check.c — `safetygw check`. Prints "ok: B buses, D devices, P points,
 * R rules" and the wire budget of every rtu bus (wire_budget.h), with a
 * warning for each bus over 100 %; or every error and then "FILE: N errors".
 * With --json, one JSON object on stdout either way, built with Jansson.
 * --strict makes a warning fail the check too.
 */
#include "check.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "table.h"
#include "config.h"
#include "config_load.h"
#include "readplan.h"
#include "wire_budget.h"

#define CHECK_EXIT_OK 0
#define CHECK_EXIT_ERRORS 1
#define CHECK_EXIT_USAGE 2

static void print_usage(FILE *stream)
{
    fprintf(stream, "usage: safetygw check [--json] [--strict] FILE\n");
}

/* The wire budgets of the rtu buses, and a warning for each one over 100 %. */
struct budgets {
    struct wire_budget *of_bus; /* by bus index; rtu buses only */
    size_t warnings;
};

/* Every profile's read plan, once: the daemon's plans, as it would build them. */
static int plan_profiles(const struct config *config, struct read_plan *plans)
{
    for (size_t p = 0; p < config->profile_count; p++) {
        char error[256];
        if (readplan_build(&config->profiles[p], &plans[p], error, sizeof error) != 0) {
            fprintf(stderr, "safetygw check: profile %s: cannot plan its reads: %s\n",
                    config->profiles[p].name, error);
            return -1;
        }
    }
    return 0;
}

static int compute_budgets(const struct config *config, struct budgets *out)
{
    out->warnings = 0;
    out->of_bus = calloc(config->bus_count + 1, sizeof *out->of_bus);
    struct read_plan *plans = calloc(config->profile_count + 1, sizeof *plans);
    int result = out->of_bus && plans ? plan_profiles(config, plans) : -1;
    for (size_t b = 0; result == 0 && b < config->bus_count; b++)
        wire_budget_start(&out->of_bus[b], &config->buses[b]);
    for (size_t d = 0; result == 0 && d < config->device_count; d++) {
        const struct device_def *device = &config->devices[d];
        size_t profile = (size_t)(device->profile - config->profiles);
        wire_budget_add(&out->of_bus[device->bus_index], &plans[profile], device->poll_ms);
    }
    for (size_t b = 0; result == 0 && b < config->bus_count; b++)
        out->warnings += config->buses[b].type == BUS_RTU && out->of_bus[b].devices > 0 &&
                         wire_budget_load(&out->of_bus[b]) > 1.0;
    for (size_t p = 0; plans && p < config->profile_count; p++)
        readplan_free(&plans[p]);
    free(plans);
    return result;
}

static bool budget_shown(const struct wire_budget *budget)
{
    return budget->bus->type == BUS_RTU && budget->devices > 0;
}

static void line_text(const struct bus_def *bus, char *out, size_t size)
{
    snprintf(out, size, "%u %u%c%u", bus->baud, bus->data_bits, bus->parity, bus->stop_bits);
}

/* "bus bldg-3 is over its wire budget: ..., fits with at most 22 devices, ..." */
static void warning_text(const struct wire_budget *budget, char *out, size_t size)
{
    struct wire_budget_fit fit = wire_budget_what_fits(budget);
    char line[32], baud[96] = "";
    line_text(budget->bus, line, sizeof line);
    if (fit.baud)
        snprintf(baud, sizeof baud, ", or at %u baud (load %.0f %%)", fit.baud,
                 100 * wire_budget_load_at(budget, fit.baud));
    snprintf(out, size,
             "bus %s is over its wire budget: %zu devices at %s need %.0f %% of the line "
             "(one cycle %.0f ms, shortest poll_ms %u); it fits with at most %zu of them%s, or "
             "with every poll_ms %.2f times as long (shortest %u)",
             budget->bus->name, budget->devices, line, 100 * wire_budget_load(budget),
             wire_budget_cycle_ms(budget), budget->shortest_poll_ms, fit.devices, baud,
             fit.poll_factor, fit.shortest_poll_ms);
}

static void print_budgets_text(const struct config *config, const struct budgets *budgets)
{
    static const char *const headers[] = {"BUS",   "LINE",          "DEVICES",
                                          "CYCLE", "SHORTEST POLL", "LOAD"};
    struct cli_table *table = cli_table_new(6, headers);
    size_t shown = 0;
    for (size_t b = 0; table && b < config->bus_count; b++) {
        const struct wire_budget *budget = &budgets->of_bus[b];
        if (!budget_shown(budget))
            continue;
        char line[32], devices[16], cycle[32], poll[32], load[16];
        line_text(budget->bus, line, sizeof line);
        snprintf(devices, sizeof devices, "%zu", budget->devices);
        snprintf(cycle, sizeof cycle, "%.0f ms", wire_budget_cycle_ms(budget));
        snprintf(poll, sizeof poll, "%u ms", budget->shortest_poll_ms);
        snprintf(load, sizeof load, "%.0f %%", 100 * wire_budget_load(budget));
        const char *cells[] = {budget->bus->name, line, devices, cycle, poll, load};
        cli_table_add(table, cells);
        shown++;
    }
    if (shown > 0) {
        printf("\nwire budget of the rtu buses (each read's bytes at the bus's baud, 2 x t3.5, "
               "%d ms reply latency; %d %% kept for retries of offline devices):\n",
               WIRE_BUDGET_REPLY_LATENCY_MS, WIRE_BUDGET_RETRY_PERCENT);
        for (size_t column = 2; column < 6; column++)
            cli_table_align_right(table, column);
        cli_table_print(table, stdout);
    }
    cli_table_free(table);
    for (size_t b = 0; b < config->bus_count; b++) {
        char warning[600];
        if (!budget_shown(&budgets->of_bus[b]) || wire_budget_load(&budgets->of_bus[b]) <= 1.0)
            continue;
        warning_text(&budgets->of_bus[b], warning, sizeof warning);
        fprintf(stderr, "warning: %s\n", warning);
    }
}

static json_t *budgets_json(const struct config *config, const struct budgets *budgets,
                            json_t **warnings)
{
    json_t *list = json_array();
    *warnings = json_array();
    for (size_t b = 0; b < config->bus_count; b++) {
        const struct wire_budget *budget = &budgets->of_bus[b];
        if (!budget_shown(budget))
            continue;
        char line[32];
        line_text(budget->bus, line, sizeof line);
        double load = wire_budget_load(budget);
        json_t *entry =
            json_pack("{s:s, s:s, s:I, s:f, s:I, s:f}", "name", budget->bus->name, "line", line,
                      "devices", (json_int_t)budget->devices, "cycle_ms",
                      round(wire_budget_cycle_ms(budget) * 10) / 10, "shortest_poll_ms",
                      (json_int_t)budget->shortest_poll_ms, "load", round(load * 1000) / 1000);
        if (load > 1.0) {
            struct wire_budget_fit fit = wire_budget_what_fits(budget);
            json_object_set_new(entry, "fits",
                                json_pack("{s:I, s:o, s:I}", "devices", (json_int_t)fit.devices,
                                          "baud", fit.baud ? json_integer(fit.baud) : json_null(),
                                          "shortest_poll_ms", (json_int_t)fit.shortest_poll_ms));
            char warning[600];
            warning_text(budget, warning, sizeof warning);
            json_array_append_new(*warnings, json_string(warning));
        }
        json_array_append_new(list, entry);
    }
    return list;
}

static void print_json(json_t *object)
{
    char *text = json_dumps(object, JSON_COMPACT);
    if (text != NULL) {
        printf("%s\n", text);
        free(text);
    }
    json_decref(object);
}

static void report_ok_text(const struct config *config)
{
    printf("ok: %zu buses, %zu devices, %zu points, %zu rules\n", config->bus_count,
           config->device_count, config_total_points(config), config_total_rules(config));
}

static void report_ok_json(const struct config *config, const struct budgets *budgets, bool strict)
{
    json_t *warnings;
    json_t *wire = budgets_json(config, budgets, &warnings);
    print_json(json_pack(
        "{s:b, s:I, s:I, s:I, s:I, s:o, s:o}", "ok", !(strict && budgets->warnings > 0), "buses",
        (json_int_t)config->bus_count, "devices", (json_int_t)config->device_count, "points",
        (json_int_t)config_total_points(config), "rules", (json_int_t)config_total_rules(config),
        "wire_budget", wire, "warnings", warnings));
}

static void report_errors_text(const char *path, const struct config_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++) {
        fprintf(stderr, "%s\n", errors->messages[i]);
    }
    fprintf(stderr, "%s: %zu error%s\n", path, errors->count, errors->count == 1 ? "" : "s");
}

static void report_errors_json(const struct config_errors *errors)
{
    json_t *list = json_array();
    for (size_t i = 0; i < errors->count; i++) {
        json_array_append_new(list, json_string(errors->messages[i]));
    }
    print_json(json_pack("{s:b, s:o}", "ok", 0, "errors", list));
}

/* One FILE, an optional --json and --strict, in any order. */
static int parse_arguments(int argc, char **argv, const char **path, bool *json, bool *strict)
{
    *path = NULL;
    *json = false;
    *strict = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            *json = true;
        } else if (strcmp(argv[i], "--strict") == 0) {
            *strict = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "safetygw check: unknown option %s\n", argv[i]);
            return -1;
        } else if (*path != NULL) {
            fprintf(stderr, "safetygw check: one FILE only (got %s and %s)\n", *path, argv[i]);
            return -1;
        } else {
            *path = argv[i];
        }
    }
    if (*path == NULL) {
        fprintf(stderr, "safetygw check: which FILE?\n");
        return -1;
    }
    return 0;
}

int cli_check(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false, strict = false;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_usage(stdout);
        return CHECK_EXIT_OK;
    }
    if (parse_arguments(argc, argv, &path, &json, &strict) < 0) {
        print_usage(stderr);
        return CHECK_EXIT_USAGE;
    }
    struct config_errors errors;
    struct config *config = config_load(path, &errors);
    int status = config ? CHECK_EXIT_OK : CHECK_EXIT_ERRORS;
    struct budgets budgets = {0};
    if (config != NULL && compute_budgets(config, &budgets) != 0) {
        status = CHECK_EXIT_ERRORS;
    } else if (config != NULL) {
        if (json) {
            report_ok_json(config, &budgets, strict);
        } else {
            report_ok_text(config);
            print_budgets_text(config, &budgets);
        }
        if (strict && budgets.warnings > 0)
            status = CHECK_EXIT_ERRORS;
    } else {
        json ? report_errors_json(&errors) : report_errors_text(path, &errors);
    }
    free(budgets.of_bus);
    config_free(config);
    config_errors_free(&errors);
    return status;
}
