/* The JSON of the MQTT contract, field by field. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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

/*
 * The text of each payload, as the Jansson code before json_writer wrote it
 * (captured from it), with ' standing for " to keep it readable: same keys,
 * same order, same numbers. Where the text differs on purpose, the test says
 * what Jansson wrote and why.
 */
static struct bit_def charger_bits[] = {{.name = "smoke", .bit = 0},
                                        {.name = "door_open", .bit = 3}};
static struct point_def site_points[] = {
    {.name = "gas_lel", .type = TYPE_UINT16, .scale = 0.1, .unit = "%LEL"},
    {.name = "status", .type = TYPE_BITS, .scale = 1, .bits = charger_bits, .bit_count = 2},
    {.name = "valve_open", .type = TYPE_BOOL, .scale = 1},
    {.name = "power", .type = TYPE_FLOAT32, .scale = 1, .unit = "kW"},
    {.name = "energy", .type = TYPE_UINT32, .scale = 0.01, .unit = "kWh"},
    {.name = "port3.temperature", .type = TYPE_INT16, .scale = 0.1},
};
enum { GAS_HIGH, SMOKE, OFFLINE, TEMPERATURE_RISING, POWER_HIGH, BUS_DOWN };
static struct rule_def site_rules[] = {
    [GAS_HIGH] = {.name = "gas_high",
                  .kind = RULE_ABOVE,
                  .point_index = 0,
                  .bit = -1,
                  .threshold = 25,
                  .clear_threshold = 20,
                  .severity = SEVERITY_CRITICAL},
    [SMOKE] = {.name = "smoke",
               .kind = RULE_EQUALS,
               .point_index = 1,
               .bit = 0,
               .threshold = 1,
               .clear_threshold = 1,
               .severity = SEVERITY_MAJOR},
    [OFFLINE] = {.name = "offline",
                 .kind = RULE_OFFLINE,
                 .point_index = -1,
                 .bit = -1,
                 .severity = SEVERITY_MAJOR},
    [TEMPERATURE_RISING] = {.name = "port3.temperature_rising",
                            .kind = RULE_RATE_ABOVE,
                            .point_index = 5,
                            .bit = -1,
                            .threshold = 5,
                            .clear_threshold = 2,
                            .severity = SEVERITY_MINOR},
    [POWER_HIGH] = {.name = "power_high",
                    .kind = RULE_ABOVE,
                    .point_index = 3,
                    .bit = -1,
                    .threshold = 7.5,
                    .clear_threshold = 7,
                    .severity = SEVERITY_WARNING},
    [BUS_DOWN] = {.name = "bus_down",
                  .kind = RULE_OFFLINE,
                  .point_index = -1,
                  .bit = -1,
                  .severity = SEVERITY_CRITICAL},
};
static struct profile site_profile = {.name = "charger",
                                      .kind = "ebike_charger",
                                      .points = site_points,
                                      .point_count = 6,
                                      .rules = site_rules,
                                      .rule_count = 5};
static struct location_field site_location[] = {{.key = "compound", .value = "长寿新村"},
                                                {.key = "building", .value = "12"}};
static struct device_def site_device = {.id = "chg-12-1",
                                        .profile = &site_profile,
                                        .location = site_location,
                                        .location_count = 2,
                                        .rules = site_rules,
                                        .rule_count = 5};

/* produced is JSON equal to expected (with ' for "), in content and byte for byte. */
static void assert_payload(char *produced, const char *expected_quoted)
{
    assert_non_null(produced);
    char expected[2048];
    size_t length = strlen(expected_quoted);
    assert_true(length < sizeof expected);
    for (size_t i = 0; i <= length; i++)
        expected[i] = expected_quoted[i] == '\'' ? '"' : expected_quoted[i];
    json_error_t error;
    json_t *got = json_loads(produced, 0, &error);
    if (!got)
        fail_msg("not JSON (%s): %s", error.text, produced);
    json_t *want = json_loads(expected, 0, &error);
    if (!want)
        fail_msg("the expectation is not JSON (%s): %s", error.text, expected);
    if (!json_equal(got, want))
        fail_msg("content differs:\n  got  %s\n  want %s", produced, expected);
    assert_string_equal(produced, expected);
    json_decref(got);
    json_decref(want);
    free(produced);
}

static struct alarm_event site_event(int rule, double value)
{
    return (struct alarm_event){.gateway_id = "cs-gw-01",
                                .seq = 1042,
                                .raised = true,
                                .device = &site_device,
                                .rule = &site_rules[rule],
                                .value = value,
                                .raised_at_wall_ms = 1795766401250,
                                .ts_wall_ms = 1795766403500};
}

/*
 * An event of site_device as Jansson wrote it: the fields every such event
 * starts with, then fields (with a trailing comma), then raised_at and ts.
 */
static void assert_site_event(const struct alarm_event *event, const char *what,
                              const char *severity, const char *fields)
{
    char expected[2048];
    snprintf(expected, sizeof expected,
             "{'gateway':'cs-gw-01','seq':1042,'event':'%s','alarm':'%s','severity':'%s',"
             "'device':'chg-12-1','kind':'ebike_charger',"
             "'location':{'compound':'长寿新村','building':'12'},%s"
             "'raised_at':'2026-11-27T08:00:01.250Z','ts':'2026-11-27T08:00:03.500Z'}",
             what, event->rule->name, severity, fields);
    assert_payload(payload_alarm_event(event), expected);
}

static void test_event_texts_are_what_jansson_wrote(void **state)
{
    (void)state;
    struct alarm_event event = site_event(GAS_HIGH, 27.500000000000004);
    assert_site_event(&event, "raised", "critical",
                      "'point':'gas_lel','value':27.5,'threshold':25,'unit':'%LEL',");

    event.raised = false;
    event.value = 19.5;
    event.reason = "rule removed by a configuration reload";
    assert_site_event(&event, "cleared", "critical",
                      "'point':'gas_lel','value':19.5,'threshold':20,'unit':'%LEL',"
                      "'reason':'rule removed by a configuration reload',");

    event = site_event(SMOKE, 1);
    event.action = "stop_all_ports";
    event.action_ok = false;
    event.action_error = "timeout: no reply from address 4";
    assert_site_event(&event, "raised", "major",
                      "'point':'status.smoke','value':1,'threshold':1,'action':'stop_all_ports',"
                      "'action_ok':false,'action_error':'timeout: no reply from address 4',");

    event = site_event(OFFLINE, 3);
    event.action = "stop_all_ports";
    event.action_ok = true;
    assert_site_event(&event, "raised", "major",
                      "'polls_failed':3,'action':'stop_all_ports','action_ok':true,");

    event = site_event(GAS_HIGH, NAN);
    assert_site_event(&event, "raised", "critical",
                      "'point':'gas_lel','value':null,'value_error':'not a number','threshold':25,"
                      "'unit':'%LEL',");
}

static void test_shelved_event_texts_are_what_jansson_wrote(void **state)
{
    (void)state;
    struct shelving by_hand = {.rule_index = GAS_HIGH,
                               .until_wall_ms = 1795770000000,
                               .reason = "sensor swap 换",
                               .by = "cli"};
    struct alarm_event event = site_event(GAS_HIGH, 27.5);
    event.shelved_as = &by_hand;
    assert_site_event(&event, "raised", "critical",
                      "'point':'gas_lel','value':27.5,'threshold':25,'unit':'%LEL',"
                      "'shelved':{'until':'2026-11-27T09:00:00.000Z','reason':'sensor swap 换',"
                      "'by':'cli'},");

    event = site_event(GAS_HIGH, 27.5);
    event.shelved = true;
    event.shelved_until_wall_ms = 1795770000000;
    assert_site_event(&event, "shelved", "critical",
                      "'point':'gas_lel','value':27.5,'threshold':25,'unit':'%LEL',"
                      "'until':'2026-11-27T09:00:00.000Z',");
}

static void test_bus_down_texts_are_what_jansson_wrote(void **state)
{
    (void)state;
    struct bus_def rtu = {.name = "bldg-12", .type = BUS_RTU, .port = "/dev/ttyUSB0"};
    struct bus_def tcp = {.name = "conv-7", .type = BUS_TCP, .host = "10.20.1.14", .tcp_port = 502};
    struct alarm_event event = {.gateway_id = "cs-gw-01",
                                .seq = 7,
                                .raised = true,
                                .bus = &rtu,
                                .devices_affected = 31,
                                .locations_json =
                                    "[{\"compound\":\"长寿新村\",\"building\":\"12\"}]",
                                .rule = &site_rules[BUS_DOWN],
                                .value = 31,
                                .raised_at_wall_ms = 1795766401250,
                                .ts_wall_ms = 1795766401250};
    assert_payload(payload_alarm_event(&event),
                   "{'gateway':'cs-gw-01','seq':7,'event':'raised','alarm':'bus_down',"
                   "'severity':'critical','bus':'bldg-12','port':'/dev/ttyUSB0','devices':31,"
                   "'locations':[{'compound':'长寿新村','building':'12'}],"
                   "'raised_at':'2026-11-27T08:00:01.250Z','ts':'2026-11-27T08:00:01.250Z'}");
    event.bus = &tcp;
    event.raised = false;
    event.locations_json = NULL;
    assert_payload(payload_alarm_event(&event),
                   "{'gateway':'cs-gw-01','seq':7,'event':'cleared','alarm':'bus_down',"
                   "'severity':'critical','bus':'conv-7','host':'10.20.1.14:502','devices':31,"
                   "'locations':[],"
                   "'raised_at':'2026-11-27T08:00:01.250Z','ts':'2026-11-27T08:00:01.250Z'}");
}

static void test_state_and_telemetry_texts_are_what_jansson_wrote(void **state)
{
    (void)state;
    double values[] = {3.2, 0x9, 1, 7.25, 12345678.91, -0.1}; /* smoke and door_open set */
    struct rule_state rule_states[5] = {[GAS_HIGH] = {.active = true}, [SMOKE] = {.active = true}};
    struct device live = {.def = &site_device,
                          .values = values,
                          .values_valid = true,
                          .rule_states = rule_states,
                          .link = DEVICE_ONLINE,
                          .stats = {.last_seen_wall_ms = 1795766401250}};
    assert_payload(payload_device_state(&live),
                   "{'online':true,'alarms':['gas_high','smoke'],'values':{'gas_lel':3.2,"
                   "'status':{'smoke':true,'door_open':true},'valve_open':true,'power':7.25,"
                   "'energy':12345678.91,'port3.temperature':-0.1},"
                   "'last_seen':'2026-11-27T08:00:01.250Z'}");
    assert_payload(payload_telemetry(&live),
                   "{'ts':'2026-11-27T08:00:01.250Z','values':{'gas_lel':3.2,"
                   "'status':{'smoke':true,'door_open':true},'valve_open':true,'power':7.25,"
                   "'energy':12345678.91,'port3.temperature':-0.1}}");

    struct shelving shelvings[SHELVINGS_MAX] = {
        {.rule_index = GAS_HIGH,
         .until_wall_ms = 4102444800000,
         .reason = "maintenance",
         .by = "mqtt"},
        {.rule_index = -1, .until_wall_ms = 1000, .reason = "expired", .by = "cli"},
        {.rule_index = -1, .until_wall_ms = 4102444800001, .reason = "all", .by = "cli"}};
    live.link = DEVICE_OFFLINE;
    live.offline_suppressed = true;
    live.shelvings = shelvings;
    assert_payload(payload_device_state(&live),
                   "{'online':false,'alarms':['gas_high','smoke'],'values':{'gas_lel':3.2,"
                   "'status':{'smoke':true,'door_open':true},'valve_open':true,'power':7.25,"
                   "'energy':12345678.91,'port3.temperature':-0.1},'stale':true,"
                   "'suppressed_by':'bus_down','shelved':[{'until':'2100-01-01T00:00:00.000Z',"
                   "'reason':'maintenance','by':'mqtt','alarm':'gas_high'},"
                   "{'until':'2100-01-01T00:00:00.001Z','reason':'all','by':'cli','alarm':null}],"
                   "'last_seen':'2026-11-27T08:00:01.250Z'}");

    double bad[] = {NAN, NAN, NAN, INFINITY, -INFINITY, 0};
    live.values = bad;
    live.link = DEVICE_ONLINE;
    live.offline_suppressed = false;
    live.shelvings = NULL;
    assert_payload(payload_telemetry(&live),
                   "{'ts':'2026-11-27T08:00:01.250Z','values':{'gas_lel':null,'status':null,"
                   "'valve_open':null,'power':null,'energy':null,'port3.temperature':0},"
                   "'value_errors':{'gas_lel':'not a number','status':'not a number',"
                   "'valve_open':'not a number','power':'positive infinity',"
                   "'energy':'negative infinity'}}");

    struct rule_state quiet[5] = {{0}};
    struct device never = {.def = &site_device, .values = values, .rule_states = quiet};
    assert_payload(payload_device_state(&never),
                   "{'online':false,'alarms':[],'values':{},'last_seen':null}");
}

static void test_status_texts_are_what_jansson_wrote(void **state)
{
    (void)state;
    assert_payload(payload_status(true, 1795766401250),
                   "{'state':'online','version':'" SAFETYGW_VERSION "',"
                   "'started':'2026-11-27T08:00:01.250Z'}");
    assert_payload(payload_status(false, 1795766401250),
                   "{'state':'offline','version':'" SAFETYGW_VERSION "',"
                   "'started':'2026-11-27T08:00:01.250Z'}");
}

/* Numbers as Jansson wrote them (%.12g after trimming to 6 decimals), exponents included. */
static void test_numbers_are_written_as_jansson_wrote_them(void **state)
{
    (void)state;
    static const struct {
        double value;
        const char *text;
    } numbers[] = {{27.500000000000004, "27.5"},
                   {0.1 + 0.2, "0.3"},
                   {-27.5, "-27.5"},
                   {0.000225, "0.000225"},
                   {2.5e-5, "2.5e-5"},
                   {1e-7, "0"},
                   {-0.0, "0"},
                   {25, "25"},
                   {12345678.91, "12345678.91"},
                   {9.5e15, "9.5e15"},
                   {1e21, "1e21"},
                   {1e305, "1e305"},
                   {-1e-5, "-1e-5"},
                   {4294967295, "4294967295"}};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        struct alarm_event event = site_event(GAS_HIGH, numbers[i].value);
        char *text = payload_alarm_event(&event);
        char expected[64];
        snprintf(expected, sizeof expected, "\"value\":%s,", numbers[i].text);
        if (!strstr(text, expected))
            fail_msg("%.17g: want %s in %s", numbers[i].value, expected, text);
        free(text);
    }
}

/*
 * On purpose unlike Jansson's JSON_REAL_PRECISION(12), which wrote 1e12 for
 * 1000000000000.5 and 123456789.123 for 123456789.123456: a real keeps every
 * digit that tells it from its neighbours.
 */
static void test_numbers_of_more_than_12_digits_keep_them(void **state)
{
    (void)state;
    struct alarm_event event = site_event(GAS_HIGH, 1e12 + 0.5);
    char *text = payload_alarm_event(&event);
    assert_non_null(strstr(text, "\"value\":1000000000000.5,"));
    free(text);
    event = site_event(GAS_HIGH, 123456789.123456);
    text = payload_alarm_event(&event);
    assert_non_null(strstr(text, "\"value\":123456789.123456,"));
    free(text);
}

/* On purpose unlike Jansson (43.200001): rules.c keeps rates as floats; 6 digits are real. */
static void test_rate_is_written_without_float_noise(void **state)
{
    (void)state;
    double float_rate = (float)43.2; /* 43.20000076293945 */
    struct alarm_event event = site_event(TEMPERATURE_RISING, float_rate);
    assert_site_event(&event, "raised", "minor",
                      "'point':'port3.temperature','value':43.2,'threshold':5,'unit':'/min',");
    event = site_event(TEMPERATURE_RISING, 43.19999885559082); /* from float lows */
    char *text = payload_alarm_event(&event);
    assert_non_null(strstr(text, "\"value\":43.2,"));
    free(text);
}

/* On purpose unlike Jansson (43.200001): the decimal of the float the device sent. */
static void test_float32_value_is_the_decimal_its_device_sent(void **state)
{
    (void)state;
    struct alarm_event event = site_event(POWER_HIGH, (float)43.2);
    assert_site_event(&event, "raised", "warning",
                      "'point':'power','value':43.2,'threshold':7.5,'unit':'kW',");

    double values[] = {0, 0, 0, (float)43.2, 0, 0};
    struct device live = {.def = &site_device,
                          .values = values,
                          .values_valid = true,
                          .stats = {.last_seen_wall_ms = 1795766401250}};
    char *text = payload_telemetry(&live);
    assert_non_null(strstr(text, "\"power\":43.2,"));
    free(text);

    /* Scaled and offset, and a float of full precision: still that float's decimal. */
    struct point_def scaled = site_points[3];
    scaled.scale = 0.1;
    scaled.offset = -40;
    site_points[3] = scaled;
    values[3] = (double)(float)1234.56 * 0.1 - 40; /* 83.45600585937501 */
    text = payload_telemetry(&live);
    assert_non_null(strstr(text, "\"power\":83.456,"));
    free(text);
    values[3] = (double)(float)16777215 * 0.1 - 40;
    text = payload_telemetry(&live);
    assert_non_null(strstr(text, "\"power\":1677681.5,"));
    free(text);
    site_points[3].scale = 1;
    site_points[3].offset = 0;
}

/* Names and locations may hold quotes, backslashes, control characters and any UTF-8. */
static void test_strings_are_escaped_as_jansson_escapes_them(void **state)
{
    (void)state;
    struct location_field odd[] = {{.key = "building", .value = "12 \"east\""},
                                   {.key = "room", .value = "3\\01\t/\x01\x1f\x7f 🔥"}};
    struct device_def def = site_device;
    def.location = odd;
    def.location_count = 2;
    struct alarm_event event = site_event(OFFLINE, 3);
    event.device = &def;
    char *text = payload_alarm_event(&event);
    json_t *root = json_loads(text, 0, NULL);
    char *jansson = json_dumps(json_object_get(root, "location"), JSON_COMPACT);
    json_decref(root);
    /* what json_dumps wrote for it: '/' and DEL as they are, \u00XX in capitals */
    assert_string_equal(
        jansson, "{\"building\":\"12 \\\"east\\\"\",\"room\":\"3\\\\01\\t/\\u0001\\u001F\x7f 🔥\"}");
    assert_non_null(strstr(text, jansson));
    free(jansson);
    free(text);
}

/*
 * Bytes that are not UTF-8 become '?'. (Jansson refused such a string and
 * the key went missing from the payload; a config loaded by libyaml holds
 * none, a shelving's reason cut at 80 bytes might.)
 */
static void test_bytes_that_are_not_utf8_become_question_marks(void **state)
{
    (void)state;
    struct shelving cut = {.rule_index = GAS_HIGH, .until_wall_ms = 1795770000000, .by = "mqtt"};
    snprintf(cut.reason, sizeof cut.reason, "valve \xe6\x8d\xa2\xe6\x8d"); /* 换 and a cut 换 */
    struct alarm_event event = site_event(GAS_HIGH, 27.5);
    event.shelved_as = &cut;
    char *text = payload_alarm_event(&event);
    json_t *root = json_loads(text, 0, NULL);
    assert_non_null(root);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(root, "shelved"), "reason")),
        "valve 换??");
    json_decref(root);
    free(text);
}

/* A bus thread's writer: after the first payload, the next ones fit in the same buffer. */
static void test_thread_writer_keeps_its_buffer(void **state)
{
    (void)state;
    double values[] = {3.2, 0x9, 1, 7.25, 12345678.91, -0.1};
    struct device live = {.def = &site_device, .values = values, .values_valid = true};
    struct json_writer *writer = payload_thread_writer();
    assert_non_null(writer);
    assert_int_equal(payload_write_telemetry(writer, &live), 0);
    char *buffer = writer->text;
    size_t capacity = writer->capacity;
    for (int i = 0; i < 100; i++) {
        values[0] = i * 0.1;
        assert_int_equal(payload_write_telemetry(writer, &live), 0);
    }
    assert_ptr_equal(writer->text, buffer);
    assert_int_equal(writer->capacity, capacity);
    assert_int_equal(strlen(writer->text), writer->length);
    assert_ptr_equal(payload_thread_writer(), writer);
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
        cmocka_unit_test(test_event_texts_are_what_jansson_wrote),
        cmocka_unit_test(test_shelved_event_texts_are_what_jansson_wrote),
        cmocka_unit_test(test_bus_down_texts_are_what_jansson_wrote),
        cmocka_unit_test(test_state_and_telemetry_texts_are_what_jansson_wrote),
        cmocka_unit_test(test_status_texts_are_what_jansson_wrote),
        cmocka_unit_test(test_numbers_are_written_as_jansson_wrote_them),
        cmocka_unit_test(test_numbers_of_more_than_12_digits_keep_them),
        cmocka_unit_test(test_rate_is_written_without_float_noise),
        cmocka_unit_test(test_float32_value_is_the_decimal_its_device_sent),
        cmocka_unit_test(test_strings_are_escaped_as_jansson_escapes_them),
        cmocka_unit_test(test_bytes_that_are_not_utf8_become_question_marks),
        cmocka_unit_test(test_thread_writer_keeps_its_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
