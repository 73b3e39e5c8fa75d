/*
 * config_fixture.c — temporary folders for configuration tests.
 */
#include "config_fixture.h"
#include "config_load.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

const char *const config_fixture_sensor_profile =
    "name: sensor\n"
    "kind: gas_alarm\n"
    "points:\n"
    "  - { name: gas, table: holding, address: 0, scale: 0.1, unit: \"%LEL\" }\n"
    "  - name: status\n"
    "    table: holding\n"
    "    address: 1\n"
    "    type: bits\n"
    "    bits: { valve_closed: 4, fault: 3 }\n"
    "actions:\n"
    "  close_valve: { table: coil, address: 0 }\n"
    "rules:\n"
    "  - { name: gas_high, point: gas, above: 25, clear_below: 20, severity: critical,\n"
    "      action: close_valve }\n"
    "  - { name: valve_closed, point: status.valve_closed, equals: 1, severity: minor }\n"
    "  - { name: offline, offline_after: 3, severity: major }\n";

int config_fixture_setup(void **state)
{
    struct config_fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    snprintf(fixture->dir, sizeof fixture->dir, "/tmp/safetygw-config-XXXXXX");
    assert_non_null(mkdtemp(fixture->dir));
    config_fixture_write(fixture, "profiles/sensor.yaml", config_fixture_sensor_profile);
    *state = fixture;
    return 0;
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int config_fixture_teardown(void **state)
{
    struct config_fixture *fixture = *state;
    config_free(fixture->config);
    config_errors_free(&fixture->errors);
    nftw(fixture->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(fixture);
    return 0;
}

void config_fixture_write(struct config_fixture *fixture, const char *name, const char *text)
{
    char path[512];
    const char *slash = strchr(name, '/');
    if (slash != NULL) {
        snprintf(path, sizeof path, "%s/%.*s", fixture->dir, (int)(slash - name), name);
        mkdir(path, 0700);
    }
    snprintf(path, sizeof path, "%s/%s", fixture->dir, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

struct config *config_fixture_load(struct config_fixture *fixture, const char *gateway_yaml)
{
    char path[512];
    config_fixture_write(fixture, "gateway.yaml", gateway_yaml);
    snprintf(path, sizeof path, "%s/gateway.yaml", fixture->dir);
    config_free(fixture->config);
    config_errors_free(&fixture->errors);
    fixture->config = config_load(path, &fixture->errors);
    return fixture->config;
}

bool config_fixture_has_error(const struct config_fixture *fixture, const char *file, int line,
                              int column, const char *text)
{
    char where[512];
    snprintf(where, sizeof where, "%s/%s:%d:%d: ", fixture->dir, file, line, column);
    for (size_t i = 0; i < fixture->errors.count; i++) {
        const char *message = fixture->errors.messages[i];
        if (strncmp(message, where, strlen(where)) == 0 && strstr(message, text) != NULL) {
            return true;
        }
    }
    print_error("expected at %s: %s\ngot %zu error(s):\n", where, text, fixture->errors.count);
    for (size_t i = 0; i < fixture->errors.count; i++) {
        print_error("  %s\n", fixture->errors.messages[i]);
    }
    return false;
}
