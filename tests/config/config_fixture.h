/*
 * config_fixture.h — test configurations written from C strings into a fresh
 * temporary folder, so each test shows the YAML whose lines its assertions
 * name.
 */
#ifndef SAFETYGW_CONFIG_FIXTURE_H
#define SAFETYGW_CONFIG_FIXTURE_H

#include <stdbool.h>

#include "config.h"

/* A folder with profiles/sensor.yaml (below) and whatever a test writes. */
struct config_fixture {
    char dir[64];
    struct config_errors errors;
    struct config *config;
};

/*
 * The profile most gateway tests use, in profiles/sensor.yaml:
 * points gas (holding 0) and status (holding 1, bits valve_closed 4, fault 3);
 * action close_valve; rules gas_high, valve_closed, offline.
 */
extern const char *const config_fixture_sensor_profile;

int config_fixture_setup(void **state);
int config_fixture_teardown(void **state);

/* Writes text to dir/name (creating one level of sub-folder if name has one). */
void config_fixture_write(struct config_fixture *fixture, const char *name, const char *text);

/* Writes gateway.yaml and loads it into fixture->config / fixture->errors. */
struct config *config_fixture_load(struct config_fixture *fixture, const char *gateway_yaml);

/*
 * True if some error is at file (a name inside the fixture folder) line:column
 * and contains text. Prints every error when it is not, to show what was said.
 */
bool config_fixture_has_error(const struct config_fixture *fixture, const char *file, int line,
                              int column, const char *text);

#define assert_config_error(fixture, file, line, column, text)                                     \
    assert_true(config_fixture_has_error((fixture), (file), (line), (column), (text)))

#endif
