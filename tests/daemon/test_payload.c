/* The JSON of the MQTT contract, field by field. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "payload.h"

static struct bit_def status_bits[] = {{.name = "al1", .bit = 1},
                                       {.name = "valve_closed", .bit = 4}};
static struct point_def points[] = {
    {.name = "gas_lel", .table = TABLE_HOLDING, .type = TYPE_UINT16, .scale = 0.1, .unit = "%LEL"},
    {.name = "status",
     .table = TABLE_HOLDING,
     .address = 1,
     .type = TYPE_BITS,
     .scale = 1,
     .bits = status_bits,
     .bit_count = 2},
};
static struct rule_def rules[] = {
    {.name = "gas_high",
     .kind = RULE_ABOVE,
     .point_index = 0,
     .bit = -1,
     .threshold = 25,
     .clear_threshold = 20,
     .severity = SEVERITY_CRITICAL,
     .action_index = -1},
    {.name = "device_al1",
     .kind = RULE_EQUALS,
     .point_index = 1,
     .bit = 1,
     .threshold = 1,
     .clear_threshold = 1,
     .severity = SEVERITY_MAJOR,
     .action_index = -1},
};
static struct profile profile = {.name = "gas-alarm",
                                 .kind = "gas_alarm",
                                 .points = points,
                                 .point_count = 2,
                                 .rules = rules,
                                 .rule_count = 2};
static struct location_field location[] = {{.key = "compound", .value = "长寿新村"},
                                           {.key = "room", .value = "301"}};
static struct device_def device = {.id = "gas-12-2-301",
                                   .profile = &profile,
                                   .address = 1,
                                   .location = location,
                                   .location_count = 2,
                                   .rules = rules,
                                   .rule_count = 2};

static json_t *parse(char *text)
{
    assert_non_null(text);
    json_t *root = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(root);
    return root;
}

static void test_alarm_event_carries_every_contract_field(void **state)
{
    (void)state;
    struct alarm_event event = {.gateway_id = "cs-gw-01",
                                .seq = 1042,
                                .raised = true,
                                .device = &device,
                                .rule = &rules[0],
                                .value = 27.500000000000004, /* 275 * 0.1 */
                                .raised_at_wall_ms = 1795766401250,
                                .ts_wall_ms = 1795766403500};
    json_t *root = parse(payload_alarm_event(&event));
    assert_string_equal(json_string_value(json_object_get(root, "gateway")), "cs-gw-01");
    assert_int_equal(json_integer_value(json_object_get(root, "seq")), 1042);
    assert_string_equal(json_string_value(json_object_get(root, "event")), "raised");
    assert_string_equal(json_string_value(json_object_get(root, "alarm")), "gas_high");
    assert_string_equal(json_string_value(json_object_get(root, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(root, "device")), "gas-12-2-301");
    assert_string_equal(json_string_value(json_object_get(root, "kind")), "gas_alarm");
    json_t *where = json_object_get(root, "location");
    assert_string_equal(json_string_value(json_object_get(where, "compound")), "长寿新村");
    assert_string_equal(json_string_value(json_object_get(root, "point")), "gas_lel");
    assert_true(json_is_real(json_object_get(root, "value")));
    assert_true(json_real_value(json_object_get(root, "value")) == 27.5);
    assert_true(json_is_integer(json_object_get(root, "threshold")));
    assert_int_equal(json_integer_value(json_object_get(root, "threshold")), 25);
    assert_string_equal(json_string_value(json_object_get(root, "unit")), "%LEL");
    assert_string_equal(json_string_value(json_object_get(root, "raised_at")),
                        "2026-11-27T08:00:01.250Z");
    assert_string_equal(json_string_value(json_object_get(root, "ts")), "2026-11-27T08:00:03.500Z");
    assert_null(json_object_get(root, "action"));
    assert_null(json_object_get(root, "value_error"));
    assert_null(json_object_get(root, "threshold_error"));
    json_decref(root);
}

static void test_cleared_event_reports_the_clear_threshold(void **state)
{
    (void)state;
    struct alarm_event event = {.gateway_id = "g",
                                .seq = 2,
                                .raised = false,
                                .device = &device,
                                .rule = &rules[0],
                                .value = 19.5};
    json_t *root = parse(payload_alarm_event(&event));
    assert_string_equal(json_string_value(json_object_get(root, "event")), "cleared");
    assert_int_equal(json_integer_value(json_object_get(root, "threshold")), 20);
    json_decref(root);
}

static void test_bit_rule_names_its_bit(void **state)
{
    (void)state;
    struct alarm_event event = {
        .gateway_id = "g", .raised = true, .device = &device, .rule = &rules[1], .value = 1};
    json_t *root = parse(payload_alarm_event(&event));
    assert_string_equal(json_string_value(json_object_get(root, "point")), "status.al1");
    json_decref(root);
}

static void test_device_state_lists_alarms_and_named_bits(void **state)
{
    (void)state;
    double values[] = {3.2, 0x12}; /* al1 (bit 1) and valve_closed (bit 4) set */
    struct rule_state rule_states[2] = {{.active = false}, {.active = true}};
    struct device live = {.def = &device,
                          .values = values,
                          .values_valid = true,
                          .rule_states = rule_states,
                          .link = DEVICE_ONLINE,
                          .stats = {.last_seen_wall_ms = 1795766401250}};
    json_t *root = parse(payload_device_state(&live));
    assert_true(json_is_true(json_object_get(root, "online")));
    json_t *alarms = json_object_get(root, "alarms");
    assert_int_equal(json_array_size(alarms), 1);
    assert_string_equal(json_string_value(json_array_get(alarms, 0)), "device_al1");
    json_t *status = json_object_get(json_object_get(root, "values"), "status");
    assert_true(json_is_true(json_object_get(status, "al1")));
    assert_true(json_is_true(json_object_get(status, "valve_closed")));
    assert_string_equal(json_string_value(json_object_get(root, "last_seen")),
                        "2026-11-27T08:00:01.250Z");
    json_decref(root);
}

/* key is present in object and JSON null (not dropped), and key_error says why. */
static void assert_null_with_reason(const json_t *object, const char *key, const char *error_key,
                                    const char *reason)
{
    json_t *value = json_object_get(object, key);
    if (value == NULL)
        fail_msg("\"%s\" is missing", key);
    assert_true(json_is_null(value));
    assert_string_equal(json_string_value(json_object_get(object, error_key)), reason);
}

static struct alarm_event gas_high_event(double value)
{
    return (struct alarm_event){.gateway_id = "cs-gw-01",
                                .seq = 7,
                                .raised = true,
                                .device = &device,
                                .rule = &rules[0],
                                .value = value,
                                .raised_at_wall_ms = 1795766401250,
                                .ts_wall_ms = 1795766401250};
}

static void test_alarm_event_nan_value_is_null_with_a_reason(void **state)
{
    (void)state;
    struct alarm_event event = gas_high_event(NAN);
    json_t *root = parse(payload_alarm_event(&event));
    assert_null_with_reason(root, "value", "value_error", "not a number");
    assert_int_equal(json_integer_value(json_object_get(root, "threshold")), 25);
    assert_null(json_object_get(root, "threshold_error"));
    assert_string_equal(json_string_value(json_object_get(root, "point")), "gas_lel");
    assert_string_equal(json_string_value(json_object_get(root, "ts")), "2026-11-27T08:00:01.250Z");
    json_decref(root);
}

static void test_alarm_event_infinite_value_is_null_with_its_sign(void **state)
{
    (void)state;
    struct alarm_event event = gas_high_event(INFINITY);
    json_t *root = parse(payload_alarm_event(&event));
    assert_null_with_reason(root, "value", "value_error", "positive infinity");
    json_decref(root);

    event = gas_high_event(-INFINITY);
    root = parse(payload_alarm_event(&event));
    assert_null_with_reason(root, "value", "value_error", "negative infinity");
    json_decref(root);
}

static void test_alarm_event_scaled_overflow_is_null_with_a_reason(void **state)
{
    (void)state;
    /* The largest float32 times a scale of 1e300 is no longer a double. */
    double overflow = 3.4028234663852886e38 * 1e300;
    assert_true(isinf(overflow));
    struct alarm_event event = gas_high_event(overflow);
    json_t *root = parse(payload_alarm_event(&event));
    assert_null_with_reason(root, "value", "value_error", "positive infinity");
    json_decref(root);
}

static void test_alarm_event_non_finite_threshold_is_null_with_a_reason(void **state)
{
    (void)state;
    struct rule_def odd_rule = rules[0];
    odd_rule.threshold = NAN;
    struct alarm_event event = gas_high_event(27.5);
    event.rule = &odd_rule;
    json_t *root = parse(payload_alarm_event(&event));
    assert_null_with_reason(root, "threshold", "threshold_error", "not a number");
    assert_true(json_real_value(json_object_get(root, "value")) == 27.5);
    json_decref(root);
}

static void test_huge_finite_value_stays_a_number(void **state)
{
    (void)state;
    /* value * 1e6 overflows, but the value itself is finite and must go out as it is. */
    json_t *number = payload_number(1e305);
    assert_true(json_is_real(number));
    assert_true(json_real_value(number) == 1e305);
    json_decref(number);
    assert_null(payload_number_error(1e305));
}

static void test_device_state_nan_value_is_null_with_a_reason(void **state)
{
    (void)state;
    double values[] = {NAN, 0x12};
    struct rule_state rule_states[2] = {{.active = false}, {.active = false}};
    struct device live = {.def = &device,
                          .values = values,
                          .values_valid = true,
                          .rule_states = rule_states,
                          .link = DEVICE_ONLINE,
                          .stats = {.last_seen_wall_ms = 1795766401250}};
    json_t *root = parse(payload_device_state(&live));
    json_t *values_json = json_object_get(root, "values");
    json_t *gas = json_object_get(values_json, "gas_lel");
    assert_non_null(gas);
    assert_true(json_is_null(gas));
    json_t *errors = json_object_get(root, "value_errors");
    assert_string_equal(json_string_value(json_object_get(errors, "gas_lel")), "not a number");
    assert_int_equal(json_object_size(errors), 1); /* status is a good value */
    assert_true(json_is_true(json_object_get(json_object_get(values_json, "status"), "al1")));
    json_decref(root);
}

static void test_device_state_without_bad_values_has_no_value_errors(void **state)
{
    (void)state;
    double values[] = {3.2, 0};
    struct rule_state rule_states[2] = {{.active = false}, {.active = false}};
    struct device live = {.def = &device,
                          .values = values,
                          .values_valid = true,
                          .rule_states = rule_states,
                          .link = DEVICE_ONLINE};
    json_t *root = parse(payload_device_state(&live));
    assert_null(json_object_get(root, "value_errors"));
    json_decref(root);
}

static void test_telemetry_infinite_and_nan_values_are_null_with_reasons(void **state)
{
    (void)state;
    double values[] = {-INFINITY, NAN}; /* a status word can only be NaN by a bug, but still */
    struct device live = {.def = &device,
                          .values = values,
                          .values_valid = true,
                          .stats = {.last_seen_wall_ms = 1795766401250}};
    json_t *root = parse(payload_telemetry(&live));
    assert_string_equal(json_string_value(json_object_get(root, "ts")), "2026-11-27T08:00:01.250Z");
    json_t *values_json = json_object_get(root, "values");
    assert_int_equal(json_object_size(values_json), 2);
    assert_true(json_is_null(json_object_get(values_json, "gas_lel")));
    assert_true(json_is_null(json_object_get(values_json, "status")));
    json_t *errors = json_object_get(root, "value_errors");
    assert_string_equal(json_string_value(json_object_get(errors, "gas_lel")), "negative infinity");
    assert_string_equal(json_string_value(json_object_get(errors, "status")), "not a number");
    json_decref(root);
}

static void test_point_entry_nan_is_null_with_a_reason(void **state)
{
    (void)state;
    json_t *entry = payload_point_entry(&points[0], NAN);
    assert_string_equal(json_string_value(json_object_get(entry, "point")), "gas_lel");
    assert_null_with_reason(entry, "value", "value_error", "not a number");
    assert_string_equal(json_string_value(json_object_get(entry, "unit")), "%LEL");
    json_decref(entry);

    entry = payload_point_entry(&points[1], INFINITY);
    assert_null_with_reason(entry, "value", "value_error", "positive infinity");
    assert_null(json_object_get(entry, "bits")); /* no bits can be read from it */
    json_decref(entry);
}

static void test_point_entry_good_value_has_no_error(void **state)
{
    (void)state;
    json_t *entry = payload_point_entry(&points[0], 27.500000000000004);
    assert_true(json_real_value(json_object_get(entry, "value")) == 27.5);
    assert_null(json_object_get(entry, "value_error"));
    json_decref(entry);
}

/* Valid characters of every length stay; stray, cut, overlong and surrogate bytes become '?'. */
static void test_make_utf8_replaces_only_bytes_outside_valid_characters(void **state)
{
    (void)state;
    char valid[] = "gas \xe9\x95\xbf\xe5\xaf\xbf \xc3\xa9 \xf0\x9f\x94\xa5";
    payload_make_utf8(valid);
    assert_string_equal(valid, "gas \xe9\x95\xbf\xe5\xaf\xbf \xc3\xa9 \xf0\x9f\x94\xa5");

    char stray[] = "near '\"cm\\\xdd'";
    payload_make_utf8(stray);
    assert_string_equal(stray, "near '\"cm\\?'");

    char cut[] = "id \"\xe9\x95\xbf\xe5\xaf"; /* %.Ns cut the second character */
    payload_make_utf8(cut);
    assert_string_equal(cut, "id \"\xe9\x95\xbf??");

    char overlong_and_surrogate[] = "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80";
    payload_make_utf8(overlong_and_surrogate);
    assert_string_equal(overlong_and_surrogate, "?? ??? ????");
    json_t *string = json_string(overlong_and_surrogate);
    assert_non_null(string);
    json_decref(string);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alarm_event_carries_every_contract_field),
        cmocka_unit_test(test_cleared_event_reports_the_clear_threshold),
        cmocka_unit_test(test_bit_rule_names_its_bit),
        cmocka_unit_test(test_device_state_lists_alarms_and_named_bits),
        cmocka_unit_test(test_alarm_event_nan_value_is_null_with_a_reason),
        cmocka_unit_test(test_alarm_event_infinite_value_is_null_with_its_sign),
        cmocka_unit_test(test_alarm_event_scaled_overflow_is_null_with_a_reason),
        cmocka_unit_test(test_alarm_event_non_finite_threshold_is_null_with_a_reason),
        cmocka_unit_test(test_huge_finite_value_stays_a_number),
        cmocka_unit_test(test_device_state_nan_value_is_null_with_a_reason),
        cmocka_unit_test(test_device_state_without_bad_values_has_no_value_errors),
        cmocka_unit_test(test_telemetry_infinite_and_nan_values_are_null_with_reasons),
        cmocka_unit_test(test_point_entry_nan_is_null_with_a_reason),
        cmocka_unit_test(test_point_entry_good_value_has_no_error),
        cmocka_unit_test(test_make_utf8_replaces_only_bytes_outside_valid_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
