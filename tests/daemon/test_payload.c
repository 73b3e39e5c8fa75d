/* The JSON of the MQTT contract, field by field. */
#include <jansson.h>
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
                                .ts_wall_ms = 1795766401250};
    json_t *root = parse(payload_alarm_event(&event));
    assert_string_equal(json_string_value(json_object_get(root, "gateway")), "cs-gw-01");
    assert_int_equal(json_integer_value(json_object_get(root, "seq")), 1042);
    assert_string_equal(json_string_value(json_object_get(root, "event")), "raised");
    assert_string_equal(json_string_value(json_object_get(root, "alarm")), "gas_high");
    assert_string_equal(json_string_value(json_object_get(root, "severity")), "critical");
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
    assert_null(json_object_get(root, "action"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alarm_event_carries_every_contract_field),
        cmocka_unit_test(test_cleared_event_reports_the_clear_threshold),
        cmocka_unit_test(test_bit_rule_names_its_bit),
        cmocka_unit_test(test_device_state_lists_alarms_and_named_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
