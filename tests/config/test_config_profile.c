/*
 * test_config_profile.c — profiles: points and named bits, repeated blocks,
 * actions, rules, and devices' overrides of rules. Profile errors name the
 * profile file and its line.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_fixture.h"
#include "config_load.h"

/* Lines 1-5 of gateway.yaml; devices follow from line 6. */
#define GATEWAY_WITH_DEVICES(devices)                                                              \
    "gateway: { id: gw-1 }\n"                                                                      \
    "mqtt: { uri: tcp://127.0.0.1:1883 }\n"                                                        \
    "profiles: [ profiles ]\n"                                                                     \
    "buses: [ { name: b1, type: tcp, host: 10.0.0.1 } ]\n"                                         \
    "devices:\n" devices

/* Ten-port charger in miniature: three ports at a stride of 0x10. */
static const char *const charger_profile =
    "name: charger\n"                                         /* 1 */
    "kind: ebike_charger\n"                                   /* 2 */
    "points:\n"                                               /* 3 */
    "  - { name: smoke, table: input, address: 1 }\n"         /* 4 */
    "blocks:\n"                                               /* 5 */
    "  - name: port\n"                                        /* 6 */
    "    count: 3\n"                                          /* 7 */
    "    stride: 0x10\n"                                      /* 8 */
    "    points:\n"                                           /* 9 */
    "      - { name: state, table: input, address: 0x100 }\n" /* 10 */
    "      - { name: temperature, table: input, address: 0x106, type: int16, scale: 0.1 }\n"
    "      - name: alarms\n"                      /* 12 */
    "        table: input\n"                      /* 13 */
    "        address: 0x107\n"                    /* 14 */
    "        type: bits\n"                        /* 15 */
    "        bits: { overload: 0, leakage: 4 }\n" /* 16 */
    "    rules:\n"                                /* 17 */
    "      - { name: over_temperature, point: temperature, above: 65, clear_below: 55,\n"
    "          severity: critical, action: stop_port }\n" /* 19 */
    "      - { name: leakage, point: alarms.leakage, equals: 1, severity: critical,\n"
    "          action: stop_all }\n"                                          /* 21 */
    "actions:\n"                                                              /* 22 */
    "  stop_port: { table: coil, address: 0, param: port, param_count: 3 }\n" /* 23 */
    "  stop_all: { table: coil, address: 0, count: 3 }\n"                     /* 24 */
    "rules:\n"                                                                /* 25 */
    "  - { name: smoke, point: smoke, equals: 1, severity: critical, action: stop_all }\n";

static const struct rule_def *find_rule(const struct rule_def *rules, size_t count,
                                        const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(rules[i].name, name) == 0) {
            return &rules[i];
        }
    }
    fail_msg("no rule \"%s\"", name);
    return NULL;
}

static const struct profile *load_profile(struct config_fixture *fixture, const char *text,
                                          const char *name)
{
    config_fixture_write(fixture, "profiles/p.yaml", text);
    const struct config *config = config_fixture_load(fixture, GATEWAY_WITH_DEVICES("  []\n"));
    if (config == NULL) {
        return NULL;
    }
    return config_find_profile(config, name);
}

static void test_named_bit_rule_binds_the_bits_point_and_the_bit_number(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(fixture, GATEWAY_WITH_DEVICES("  []\n"));
    assert_non_null(config);
    const struct profile *sensor = config_find_profile(config, "sensor");
    assert_non_null(sensor);
    assert_int_equal(sensor->poll_ms, 1000);
    assert_int_equal(sensor->max_registers, 125);
    assert_int_equal(sensor->max_gap, 0);
    assert_int_equal(sensor->point_count, 2);
    const struct point_def *gas = &sensor->points[0];
    assert_int_equal(gas->type, TYPE_UINT16);
    assert_int_equal(gas->word_order, WORD_ORDER_BIG);
    assert_true(gas->scale == 0.1);
    assert_string_equal(gas->unit, "%LEL");
    assert_int_equal(gas->block_instance, -1);
    const struct point_def *status = &sensor->points[1];
    assert_int_equal(status->type, TYPE_BITS);
    assert_int_equal(status->bit_count, 2);
    assert_string_equal(status->bits[0].name, "valve_closed");
    assert_int_equal(status->bits[0].bit, 4);

    const struct rule_def *valve = find_rule(sensor->rules, sensor->rule_count, "valve_closed");
    assert_int_equal(valve->kind, RULE_EQUALS);
    assert_int_equal(valve->point_index, config_point_index(sensor, "status"));
    assert_int_equal(valve->bit, 4);
    assert_true(valve->threshold == 1 && valve->clear_threshold == 1);

    const struct rule_def *high = find_rule(sensor->rules, sensor->rule_count, "gas_high");
    assert_int_equal(high->kind, RULE_ABOVE);
    assert_int_equal(high->point_index, 0);
    assert_int_equal(high->bit, -1);
    assert_true(high->threshold == 25 && high->clear_threshold == 20);
    assert_int_equal(high->severity, SEVERITY_CRITICAL);
    assert_int_equal(high->action_index, config_action_index(sensor, "close_valve"));
    assert_int_equal(high->action_param, -1);
    assert_int_equal(high->for_ms, 0);
    assert_true(high->enabled);

    const struct rule_def *offline = find_rule(sensor->rules, sensor->rule_count, "offline");
    assert_int_equal(offline->kind, RULE_OFFLINE);
    assert_int_equal(offline->point_index, -1);
    assert_int_equal(offline->offline_after_polls, 3);
    assert_int_equal(offline->action_index, -1);
}

static void test_block_expands_points_by_stride_and_rules_per_instance(void **state)
{
    struct config_fixture *fixture = *state;
    const struct profile *charger = load_profile(fixture, charger_profile, "charger");
    assert_non_null(charger);
    assert_int_equal(charger->point_count, 1 + 3 * 3);
    int temperature2 = config_point_index(charger, "port2.temperature");
    assert_true(temperature2 >= 0);
    assert_int_equal(charger->points[temperature2].address, 0x106 + 2 * 0x10);
    assert_int_equal(charger->points[temperature2].type, TYPE_INT16);
    assert_int_equal(charger->points[temperature2].block_instance, 2);
    int state1 = config_point_index(charger, "port1.state");
    assert_int_equal(charger->points[state1].address, 0x110);
    int alarms1 = config_point_index(charger, "port1.alarms");
    assert_int_equal(charger->points[alarms1].bit_count, 2);
    assert_int_equal(config_point_index(charger, "port3.state"), -1);

    assert_int_equal(charger->rule_count, 1 + 2 * 3);
    const struct rule_def *hot2 =
        find_rule(charger->rules, charger->rule_count, "port2.over_temperature");
    assert_int_equal(hot2->point_index, temperature2);
    assert_int_equal(hot2->action_index, config_action_index(charger, "stop_port"));
    assert_int_equal(hot2->action_param, 2);
    const struct rule_def *hot0 =
        find_rule(charger->rules, charger->rule_count, "port0.over_temperature");
    assert_int_equal(hot0->action_param, 0);
    const struct rule_def *leak1 = find_rule(charger->rules, charger->rule_count, "port1.leakage");
    assert_int_equal(leak1->point_index, alarms1);
    assert_int_equal(leak1->bit, 4);
    assert_int_equal(leak1->action_param, -1); /* stop_all takes no parameter */
    const struct rule_def *smoke = find_rule(charger->rules, charger->rule_count, "smoke");
    assert_int_equal(smoke->point_index, config_point_index(charger, "smoke"));
}

static void test_block_stride_too_small_makes_instances_overlap(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(load_profile(fixture,
                             "name: p\n"
                             "kind: demo\n"
                             "points: []\n"
                             "blocks:\n"
                             "  - name: port\n"
                             "    count: 2\n"
                             "    stride: 1\n"
                             "    points:\n"
                             "      - { name: state, table: input, address: 0x100 }\n"
                             "      - { name: voltage, table: input, address: 0x101 }\n",
                             "p"));
    assert_config_error(fixture, "profiles/p.yaml", 9, 9,
                        "point \"port1.state\" overlaps point \"port0.voltage\" (input 257)");
}

static void test_telemetry_settings_and_deadbands_are_read(void **state)
{
    struct config_fixture *fixture = *state;
    const struct profile *profile =
        load_profile(fixture,
                     "name: p\n"
                     "kind: demo\n"
                     "telemetry: { period_ms: 60000, on_change: true }\n"
                     "points:\n"
                     "  - { name: gas, table: holding, address: 0, deadband: 1.5 }\n"
                     "  - { name: temp, table: holding, address: 1 }\n",
                     "p");
    assert_non_null(profile);
    assert_int_equal(profile->telemetry_period_ms, 60000);
    assert_true(profile->telemetry_on_change);
    assert_true(profile->points[0].deadband == 1.5);
    assert_true(profile->points[1].deadband == 0);
}

static void test_bad_telemetry_settings_are_errors(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(load_profile(fixture,
                             "name: p\n"
                             "kind: demo\n"
                             "telemetry: { period_ms: 500, every: 3 }\n"
                             "points:\n"
                             "  - { name: gas, table: holding, address: 0, deadband: -1 }\n",
                             "p"));
    assert_config_error(fixture, "profiles/p.yaml", 3, 30, "unknown key \"every\"");
    assert_config_error(fixture, "profiles/p.yaml", 5, 56, "deadband of point \"gas\" must be 0");
}

static void test_plausible_ranges_are_read_and_judge_values(void **state)
{
    struct config_fixture *fixture = *state;
    const struct profile *profile =
        load_profile(fixture,
                     "name: p\n"
                     "kind: demo\n"
                     "points:\n"
                     "  - { name: gas, table: holding, address: 0, scale: 0.1, min: 0, max: 100 }\n"
                     "  - { name: code, table: holding, address: 1, min: 3 }\n"
                     "  - { name: temp, table: holding, address: 2 }\n",
                     "p");
    assert_non_null(profile);
    assert_true(config_point_plausible(&profile->points[0], 100));
    assert_false(config_point_plausible(&profile->points[0], 6553.5));
    assert_false(config_point_plausible(&profile->points[0], -0.1));
    assert_true(config_point_plausible(&profile->points[1], 7));
    assert_false(config_point_plausible(&profile->points[1], 2));
    assert_true(config_point_plausible(&profile->points[2], -1e9));
    assert_false(config_point_plausible(&profile->points[2], NAN));
}

static void test_a_range_whose_max_is_below_its_min_is_an_error(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(load_profile(fixture,
                             "name: p\n"
                             "kind: demo\n"
                             "points:\n"
                             "  - { name: gas, table: holding, address: 0, min: 10, max: 5 }\n",
                             "p"));
    assert_config_error(fixture, "profiles/p.yaml", 4, 60,
                        "max 5 of point \"gas\" is below its min 10");
}

static void test_overlapping_registers_in_one_table_are_errors(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(load_profile(fixture,
                             "name: p\n"
                             "kind: demo\n"
                             "points:\n"
                             "  - { name: a, table: holding, address: 3, type: uint32 }\n"
                             "  - { name: b, table: holding, address: 4 }\n"
                             "  - { name: c, table: input, address: 4 }\n"
                             "  - { name: d, table: holding, address: 5, type: float32 }\n"
                             "  - { name: e, table: coil, address: 3 }\n",
                             "p"));
    assert_int_equal(fixture->errors.count, 1);
    assert_config_error(fixture, "profiles/p.yaml", 5, 5,
                        "point \"b\" overlaps point \"a\" (holding 3..4)");
}

static void test_rule_on_unknown_point_or_bit_names_the_profile_file_and_line(void **state)
{
    struct config_fixture *fixture = *state;
    config_fixture_write(
        fixture, "profiles/p.yaml",
        "name: p\n"
        "kind: demo\n"
        "points:\n"
        "  - { name: gas_lel, table: holding, address: 0 }\n"
        "  - { name: status, table: holding, address: 1, type: bits,\n"
        "      bits: { valve_closed: 4 } }\n"
        "rules:\n"
        "  - { name: gas_high, point: gas, above: 25, severity: critical }\n"
        "  - { name: valve, point: status.valve_open, equals: 1, severity: minor }\n"
        "  - { name: lel_bit, point: gas_lel.x, equals: 1, severity: minor }\n");
    assert_null(config_fixture_load(
        fixture, GATEWAY_WITH_DEVICES("  - { id: d1, profile: p, bus: b1, address: 1 }\n")));
    assert_int_equal(fixture->errors.count, 3); /* and no "unknown profile" for d1 */
    assert_config_error(fixture, "profiles/p.yaml", 8, 30,
                        "rule \"gas_high\" refers to unknown point \"gas\"");
    assert_config_error(fixture, "profiles/p.yaml", 9, 27,
                        "rule \"valve\" refers to unknown bit \"valve_open\" of point \"status\"");
    assert_config_error(fixture, "profiles/p.yaml", 10, 29, "(not a bits point)");
}

static void test_rule_needs_exactly_one_condition_and_a_fitting_clear(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(load_profile(
        fixture,
        "name: p\n"
        "kind: demo\n"
        "points: [ { name: v, table: input, address: 0 } ]\n"
        "rules:\n"
        "  - { name: both, point: v, above: 5, below: 1, severity: minor }\n"
        "  - { name: none, point: v, severity: minor }\n"
        "  - { name: inverted, point: v, above: 5, clear_below: 6, severity: minor }\n"
        "  - { name: wrong_side, point: v, above: 5, clear_above: 6, severity: minor }\n"
        "  - { name: low, point: v, below: 5, clear_above: 4, severity: minor }\n"
        "  - { name: gone, offline_after: 0, severity: minor }\n"
        "  - { name: pointed, point: v, offline_after: 2, severity: minor }\n",
        "p"));
    assert_config_error(fixture, "profiles/p.yaml", 5, 46,
                        "rule \"both\" has both above and below");
    assert_config_error(fixture, "profiles/p.yaml", 6, 5,
                        "rule \"none\" needs one of: above, below");
    assert_config_error(fixture, "profiles/p.yaml", 7, 56,
                        "clear_below 6 must be <= the threshold 5");
    assert_config_error(fixture, "profiles/p.yaml", 8, 58,
                        "clear_above does not apply to rule \"wrong_side\", which uses above");
    assert_config_error(fixture, "profiles/p.yaml", 9, 51,
                        "clear_above 4 must be >= the threshold 5");
    assert_config_error(fixture, "profiles/p.yaml", 10, 34,
                        "offline_after 0 is out of range 1..1000");
    assert_config_error(fixture, "profiles/p.yaml", 11, 29,
                        "uses offline_after and takes no point");
}

static void test_unknown_action_and_indexed_action_outside_a_block_are_errors(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(
        load_profile(fixture,
                     "name: p\n"
                     "kind: demo\n"
                     "points: [ { name: v, table: input, address: 0 } ]\n"
                     "actions:\n"
                     "  stop_port: { table: coil, address: 0, param: port, param_count: 4 }\n"
                     "  bad: { table: input, address: 0 }\n"
                     "rules:\n"
                     "  - { name: a, point: v, above: 1, severity: minor, action: stop_prt }\n"
                     "  - { name: b, point: v, above: 1, severity: minor, action: stop_port }\n",
                     "p"));
    assert_config_error(fixture, "profiles/p.yaml", 6, 17,
                        "table \"input\" is not one of: coil, holding");
    assert_config_error(fixture, "profiles/p.yaml", 8, 61,
                        "rule \"a\" refers to unknown action \"stop_prt\"");
    assert_config_error(fixture, "profiles/p.yaml", 9, 61,
                        "uses indexed action \"stop_port\" (by port) outside a block");
}

static void test_action_counts_over_one_modbus_write_are_errors(void **state)
{
    /* FC15 writes at most 1968 coils, FC16 at most 123 registers (config.h). */
    struct config_fixture *fixture = *state;
    assert_null(load_profile(fixture,
                             "name: p\n"
                             "kind: demo\n"
                             "points: [ { name: v, table: input, address: 0 } ]\n"
                             "actions:\n"
                             "  all_coils: { table: coil, address: 0, count: 1969 }\n"
                             "  all_registers: { table: holding, address: 0, count: 124 }\n",
                             "p"));
    assert_int_equal(fixture->errors.count, 2);
    assert_config_error(fixture, "profiles/p.yaml", 5, 48, "count 1969 is out of range 1..1968");
    assert_config_error(fixture, "profiles/p.yaml", 6, 55, "count 124 is out of range 1..123");
}

static void test_action_counts_of_one_full_modbus_write_are_accepted(void **state)
{
    struct config_fixture *fixture = *state;
    const struct profile *profile =
        load_profile(fixture,
                     "name: p\n"
                     "kind: demo\n"
                     "points: [ { name: v, table: input, address: 0 } ]\n"
                     "actions:\n"
                     "  all_coils: { table: coil, address: 0, count: 1968 }\n"
                     "  all_registers: { table: holding, address: 0, count: 123 }\n",
                     "p");
    assert_non_null(profile);
    const struct action_def *coils = &profile->actions[config_action_index(profile, "all_coils")];
    const struct action_def *registers =
        &profile->actions[config_action_index(profile, "all_registers")];
    assert_int_equal(coils->count, ACTION_MAX_COILS);
    assert_int_equal(coils->count, 1968);
    assert_int_equal(registers->count, ACTION_MAX_REGISTERS);
    assert_int_equal(registers->count, 123);
}

static void test_point_type_must_fit_its_table(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(load_profile(fixture,
                             "name: p\n"
                             "kind: demo\n"
                             "points:\n"
                             "  - { name: relay, table: coil, address: 0, type: uint16 }\n"
                             "  - { name: flag, table: holding, address: 0, type: bool }\n"
                             "  - { name: wide, table: holding, address: 65535, type: uint32 }\n"
                             "  - { name: flags, table: holding, address: 1, bits: { a: 0 } }\n"
                             "  - { name: Temp, table: holding, address: 2 }\n",
                             "p"));
    assert_config_error(fixture, "profiles/p.yaml", 4, 51, "type uint16 does not fit table coil");
    assert_config_error(fixture, "profiles/p.yaml", 5, 53, "type bool does not fit table holding");
    assert_config_error(fixture, "profiles/p.yaml", 6, 44, "runs past register 65535");
    assert_config_error(fixture, "profiles/p.yaml", 7, 54, "has bits but its type is uint16");
    assert_config_error(fixture, "profiles/p.yaml", 8, 13, "point name \"Temp\" may only hold");
}

static void test_profile_ranges_are_checked(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(
        load_profile(fixture,
                     "name: p\n"
                     "kind: demo\n"
                     "max_registers: 126\n"
                     "max_gap: 125\n"
                     "points:\n"
                     "  - { name: s, table: holding, address: 0, type: bits, bits: { a: 16 } }\n"
                     "blocks:\n"
                     "  - { name: port, count: 257, stride: 1, points: [] }\n",
                     "p"));
    assert_config_error(fixture, "profiles/p.yaml", 3, 16,
                        "max_registers 126 is out of range 1..125");
    assert_config_error(fixture, "profiles/p.yaml", 4, 10, "max_gap 125 is out of range 0..124");
    assert_config_error(fixture, "profiles/p.yaml", 6, 67, "bit 16 is out of range 0..15");
    assert_config_error(fixture, "profiles/p.yaml", 8, 26, "count 257 is out of range 1..256");
}

/* What check accepts the daemon can plan: found by tests/fuzz (runtime_prepare refused it). */
static void test_max_registers_must_hold_a_32_bit_point(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(load_profile(fixture,
                             "name: p\n"
                             "kind: demo\n"
                             "max_registers: 1\n"
                             "points:\n"
                             "  - { name: count, table: input, address: 0 }\n"
                             "  - { name: energy, table: input, address: 2, type: uint32 }\n"
                             "blocks:\n"
                             "  - name: port\n"
                             "    count: 3\n"
                             "    stride: 4\n"
                             "    points:\n"
                             "      - { name: total, table: input, address: 8, type: float32 }\n",
                             "p"));
    assert_config_error(fixture, "profiles/p.yaml", 6, 5,
                        "point \"energy\" (uint32) is read in one request of 2 registers, more "
                        "than max_registers 1");
    assert_config_error(fixture, "profiles/p.yaml", 12, 9, "point \"port0.total\" (float32)");
    assert_int_equal(fixture->errors.count, 2);
}

/* A bad bit leaves its slot to the next one: found by tests/fuzz (a double free). */
static void test_bad_or_duplicate_bit_is_reported_and_the_bits_after_it_are_read(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(load_profile(fixture,
                             "name: p\n"
                             "kind: demo\n"
                             "points:\n"
                             "  - name: s\n"
                             "    table: holding\n"
                             "    address: 0\n"
                             "    type: bits\n"
                             "    bits: { a: 99, b: 1, b: 2, c: x, d: 3 }\n",
                             "p"));
    assert_config_error(fixture, "profiles/p.yaml", 8, 16, "bit 99 is out of range 0..15");
    assert_config_error(fixture, "profiles/p.yaml", 8, 26, "duplicate bit name \"b\"");
    assert_config_error(fixture, "profiles/p.yaml", 8, 35, "bit must be an integer, not \"x\"");
    assert_int_equal(fixture->errors.count, 3);
}

static void test_duplicate_profile_names_are_errors(void **state)
{
    struct config_fixture *fixture = *state;
    config_fixture_write(fixture, "profiles/zz-copy.yaml", config_fixture_sensor_profile);
    assert_null(config_fixture_load(fixture, GATEWAY_WITH_DEVICES("  []\n")));
    assert_int_equal(fixture->errors.count, 1);
    assert_config_error(fixture, "profiles/zz-copy.yaml", 1, 7,
                        "duplicate profile name \"sensor\" (first at ");
    assert_config_error(fixture, "profiles/zz-copy.yaml", 1, 7, "/profiles/sensor.yaml:1:7)");
}

static void
test_template_override_applies_to_every_instance_and_instance_override_wins(void **state)
{
    struct config_fixture *fixture = *state;
    config_fixture_write(fixture, "profiles/p.yaml", charger_profile);
    const struct config *config = config_fixture_load(
        fixture,
        GATEWAY_WITH_DEVICES("  - id: c1\n"
                             "    profile: charger\n"
                             "    bus: b1\n"
                             "    address: 1\n"
                             "    overrides:\n"
                             "      port1.over_temperature: { above: 70, clear_below: 60 }\n"
                             "      over_temperature: { above: 60, for_ms: 5000 }\n"
                             "      smoke: { enabled: false, severity: major }\n"));
    assert_non_null(config);
    const struct device_def *device = &config->devices[0];
    assert_true(device->rules_owned);
    assert_ptr_not_equal(device->rules, device->profile->rules);
    const struct rule_def *port0 =
        find_rule(device->rules, device->rule_count, "port0.over_temperature");
    const struct rule_def *port1 =
        find_rule(device->rules, device->rule_count, "port1.over_temperature");
    const struct rule_def *port2 =
        find_rule(device->rules, device->rule_count, "port2.over_temperature");
    /* a new threshold keeps the profile's 10-degree hysteresis band */
    assert_true(port0->threshold == 60 && port0->clear_threshold == 50);
    assert_true(port2->threshold == 60 && port2->clear_threshold == 50);
    assert_int_equal(port2->for_ms, 5000);
    assert_true(port1->threshold == 70 && port1->clear_threshold == 60);
    assert_int_equal(port1->for_ms, 5000);
    const struct rule_def *smoke = find_rule(device->rules, device->rule_count, "smoke");
    assert_false(smoke->enabled);
    assert_int_equal(smoke->severity, SEVERITY_MAJOR);
    /* the profile itself is untouched */
    const struct profile *profile = device->profile;
    assert_true(
        find_rule(profile->rules, profile->rule_count, "port1.over_temperature")->threshold == 65);
    assert_int_equal(config_total_rules(config), 7 - 1);
}

static void test_device_without_overrides_shares_the_profile_rules(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(
        fixture,
        GATEWAY_WITH_DEVICES("  - { id: d1, profile: sensor, bus: b1, address: 1 }\n"
                             "  - { id: d2, profile: sensor, bus: b1, address: 2, overrides: {} }\n"
                             "  - { id: d3, profile: sensor, bus: b1, address: 3,\n"
                             "      overrides: { gas_high: { above: 12, clear_below: 10 } } }\n"));
    assert_non_null(config);
    const struct profile *sensor = config_find_profile(config, "sensor");
    assert_ptr_equal(config->devices[0].rules, sensor->rules);
    assert_false(config->devices[0].rules_owned);
    assert_ptr_equal(config->devices[1].rules, sensor->rules);
    assert_true(config->devices[2].rules_owned);
    const struct rule_def *high = find_rule(config->devices[2].rules, 3, "gas_high");
    assert_true(high->threshold == 12 && high->clear_threshold == 10);
}

static void test_override_of_unknown_rule_or_field_is_an_error(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(
        fixture, GATEWAY_WITH_DEVICES("  - id: d1\n"
                                      "    profile: sensor\n"
                                      "    bus: b1\n"
                                      "    address: 1\n"
                                      "    overrides:\n"
                                      "      gas_hihg: { above: 12 }\n"
                                      "      gas_high: { below: 12 }\n"
                                      "      valve_closed: { clear_below: 0 }\n"
                                      "      offline: { offline_after: 5 }\n"
                                      "      port1.gas_high: { enabled: false }\n")));
    assert_config_error(
        fixture, "gateway.yaml", 11, 7,
        "override of unknown rule \"gas_hihg\" in device \"d1\" (profile \"sensor\"");
    assert_config_error(fixture, "gateway.yaml", 12, 26,
                        "below does not apply; the rule uses above");
    assert_config_error(fixture, "gateway.yaml", 13, 36,
                        "clear_below does not apply to override of rule \"valve_closed\"");
    assert_config_error(fixture, "gateway.yaml", 14, 18, "unknown key \"offline_after\"");
    assert_config_error(fixture, "gateway.yaml", 15, 7,
                        "override of unknown rule \"port1.gas_high\"");
}

static void test_override_clear_must_stay_on_its_side_of_the_threshold(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(
        fixture, GATEWAY_WITH_DEVICES("  - { id: d1, profile: sensor, bus: b1, address: 1,\n"
                                      "      overrides: { gas_high: { clear_below: 30 } } }\n")));
    assert_config_error(fixture, "gateway.yaml", 7, 45,
                        "clear_below 30 must be <= the threshold 25");
}

static void test_profile_file_loads_on_its_own_and_reports_its_errors(void **state)
{
    struct config_fixture *fixture = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/profiles/sensor.yaml", fixture->dir);
    struct config_errors errors;
    struct profile *profile = config_load_profile_file(path, &errors);
    assert_non_null(profile);
    assert_int_equal(errors.count, 0);
    assert_string_equal(profile->name, "sensor");
    assert_string_equal(profile->kind, "gas_alarm");
    assert_string_equal(profile->file, path);
    assert_int_equal(profile->rule_count, 3);
    config_free_profile(profile);

    config_fixture_write(fixture, "profiles/bad.yaml", "name: bad\nkind: Gas\npoints: []\n");
    snprintf(path, sizeof path, "%s/profiles/bad.yaml", fixture->dir);
    assert_null(config_load_profile_file(path, &errors));
    assert_int_equal(errors.count, 1);
    assert_non_null(strstr(errors.messages[0], "bad.yaml:2:7: kind \"Gas\" may only hold"));
    config_errors_free(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define TEST(name)                                                                                 \
    cmocka_unit_test_setup_teardown(name, config_fixture_setup, config_fixture_teardown)
        TEST(test_named_bit_rule_binds_the_bits_point_and_the_bit_number),
        TEST(test_block_expands_points_by_stride_and_rules_per_instance),
        TEST(test_block_stride_too_small_makes_instances_overlap),
        TEST(test_telemetry_settings_and_deadbands_are_read),
        TEST(test_bad_telemetry_settings_are_errors),
        TEST(test_plausible_ranges_are_read_and_judge_values),
        TEST(test_a_range_whose_max_is_below_its_min_is_an_error),
        TEST(test_overlapping_registers_in_one_table_are_errors),
        TEST(test_rule_on_unknown_point_or_bit_names_the_profile_file_and_line),
        TEST(test_rule_needs_exactly_one_condition_and_a_fitting_clear),
        TEST(test_unknown_action_and_indexed_action_outside_a_block_are_errors),
        TEST(test_action_counts_over_one_modbus_write_are_errors),
        TEST(test_action_counts_of_one_full_modbus_write_are_accepted),
        TEST(test_point_type_must_fit_its_table),
        TEST(test_profile_ranges_are_checked),
        TEST(test_bad_or_duplicate_bit_is_reported_and_the_bits_after_it_are_read),
        TEST(test_max_registers_must_hold_a_32_bit_point),
        TEST(test_duplicate_profile_names_are_errors),
        TEST(test_template_override_applies_to_every_instance_and_instance_override_wins),
        TEST(test_device_without_overrides_shares_the_profile_rules),
        TEST(test_override_of_unknown_rule_or_field_is_an_error),
        TEST(test_override_clear_must_stay_on_its_side_of_the_threshold),
        TEST(test_profile_file_loads_on_its_own_and_reports_its_errors),
#undef TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
