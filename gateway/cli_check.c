/*
 * cli_check.c — `safetygw check`. Prints "ok: B buses, D devices, P points,
 * R rules", or every error and then "FILE: N errors". With --json, one JSON
 * object on stdout either way, built with Jansson.
 */
#include "cli_check.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"

#define CHECK_EXIT_OK 0
#define CHECK_EXIT_ERRORS 1
#define CHECK_EXIT_USAGE 2

static void print_usage(FILE *stream)
{
    fprintf(stream, "usage: safetygw check [--json] FILE\n");
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

static void report_ok_json(const struct config *config)
{
    print_json(json_pack("{s:b, s:I, s:I, s:I, s:I}", "ok", 1, "buses",
                         (json_int_t)config->bus_count, "devices", (json_int_t)config->device_count,
                         "points", (json_int_t)config_total_points(config), "rules",
                         (json_int_t)config_total_rules(config)));
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

/* One FILE and an optional --json, in any order. */
static int parse_arguments(int argc, char **argv, const char **path, bool *json)
{
    *path = NULL;
    *json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            *json = true;
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
    bool json = false;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_usage(stdout);
        return CHECK_EXIT_OK;
    }
    if (parse_arguments(argc, argv, &path, &json) < 0) {
        print_usage(stderr);
        return CHECK_EXIT_USAGE;
    }
    struct config_errors errors;
    struct config *config = config_load(path, &errors);
    int status = config ? CHECK_EXIT_OK : CHECK_EXIT_ERRORS;
    if (config != NULL) {
        json ? report_ok_json(config) : report_ok_text(config);
    } else {
        json ? report_errors_json(&errors) : report_errors_text(path, &errors);
    }
    config_free(config);
    config_errors_free(&errors);
    return status;
}
