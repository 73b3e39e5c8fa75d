/* Operator commands: only declared actions, strictly validated, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "command.h"

static struct action_def actions[] = {
    {.name = "close_valve", .table = TABLE_COIL, .address = 0, .value = 1, .count = 1},
    {.name = "stop_port",
     .table = TABLE_COIL,
     .address = 0,
     .value = 1,
     .count = 1,
     .param_name = "port",
     .param_count = 10,
     .param_stride = 1},
};
static const struct profile profile = {.name = "test", .actions = actions, .action_count = 2};

static int parse(const char *payload, struct command *command, char *error)
{
    return command_parse(&profile, payload, strlen(payload), command, error, 200);
}

static void test_declared_action_is_accepted(void **state)
{
    (void)state;
    struct command command;
    char error[200];
    assert_int_equal(parse("{\"id\":\"op-1\",\"action\":\"close_valve\"}", &command, error), 0);
    assert_string_equal(command.id, "op-1");
    assert_int_equal(command.action_index, 0);
    assert_int_equal(command.param, -1);
}

static void test_indexed_action_takes_its_parameter(void **state)
{
    (void)state;
    struct command command;
    char error[200];
    assert_int_equal(parse("{\"action\":\"stop_port\",\"port\":7,\"id\":\"x\"}", &command, error),
                     0);
    assert_int_equal(command.action_index, 1);
    assert_int_equal(command.param, 7);
}

/* Each hostile payload is refused with a reason that says what is wrong. */
static void test_malformed_commands_are_refused_with_a_reason(void **state)
{
    (void)state;
    static const struct {
        const char *payload;
        const char *reason;
    } cases[] = {
        {"", "not JSON"},
        {"close_valve", "not JSON"},
        {"{\"id\":\"a\",\"action\":\"close_valve\"", "not JSON"},
        {"[\"close_valve\"]", "JSON object"},
        {"\"close_valve\"", "expected"},
        {"null", "expected"},
        {"{}", "missing \"id\""},
        {"{\"action\":\"close_valve\"}", "missing \"id\""},
        {"{\"id\":5,\"action\":\"close_valve\"}", "\"id\" must be a string"},
        {"{\"id\":\"\",\"action\":\"close_valve\"}", "printable"},
        {"{\"id\":\"a\\nb\",\"action\":\"close_valve\"}", "printable"},
        {"{\"id\":\"a\"}", "missing \"action\""},
        {"{\"id\":\"a\",\"action\":7}", "\"action\" must be a string"},
        {"{\"id\":\"a\",\"action\":\"open_valve\"}", "not declared"},
        {"{\"id\":\"a\",\"action\":\"CLOSE_VALVE\"}", "not declared"},
        {"{\"id\":\"a\",\"action\":\"close_valve\",\"force\":true}", "unknown field \"force\""},
        {"{\"id\":\"a\",\"action\":\"close_valve\",\"port\":1}", "unknown field \"port\""},
        {"{\"id\":\"a\",\"action\":\"stop_port\"}", "needs \"port\""},
        {"{\"id\":\"a\",\"action\":\"stop_port\",\"port\":\"3\"}", "must be an integer"},
        {"{\"id\":\"a\",\"action\":\"stop_port\",\"port\":3.5}", "must be an integer"},
        {"{\"id\":\"a\",\"action\":\"stop_port\",\"port\":10}", "0..9"},
        {"{\"id\":\"a\",\"action\":\"stop_port\",\"port\":-1}", "0..9"},
        {"{\"id\":\"a\",\"action\":\"stop_port\",\"port\":99999999999999999999}", "not JSON"},
        {"{\"id\":\"a\",\"id\":\"b\",\"action\":\"close_valve\"}", "not JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct command command;
        char error[200] = "";
        if (parse(cases[i].payload, &command, error) != -1 || !strstr(error, cases[i].reason))
            fail_msg("payload %s: expected refusal with \"%s\", got \"%s\"", cases[i].payload,
                     cases[i].reason, error);
    }
}

static void test_oversized_command_is_refused_before_parsing(void **state)
{
    (void)state;
    char payload[COMMAND_MAX_PAYLOAD + 64];
    memset(payload, ' ', sizeof payload);
    memcpy(payload, "{\"id\":\"a\",\"action\":\"close_valve\"}", 34);
    struct command command;
    char error[200];
    assert_int_equal(command_parse(&profile, payload, sizeof payload, &command, error, 200), -1);
    assert_non_null(strstr(error, "limit"));
}

static void test_refusal_still_names_the_request(void **state)
{
    (void)state;
    struct command command;
    char error[200];
    assert_int_equal(parse("{\"id\":\"op-9\",\"action\":\"open_valve\"}", &command, error), -1);
    assert_string_equal(command.id, "op-9");
}

/* The reason goes out in JSON: payload bytes that are not UTF-8 are not quoted as they are. */
static void test_refusal_reason_is_utf8_when_the_payload_is_not(void **state)
{
    (void)state;
    static const char *const payloads[] = {
        "{\"id\":\"\\u0\xd0\x9a\"}", /* Jansson quotes 0xd0 */
        "{\"id\":\"a\",\"action\":\"\xe9\x95\xbf\xe9\x95\xbf\xe9\x95\xbf\xe9\x95\xbf"
        "\xe9\x95\xbf\xe9\x95\xbf\xe9\x95\xbf\xe9\x95\xbf\xe9\x95\xbf\xe9\x95\xbf\xe9\x95\xbf"
        "\xe9\x95\xbf\xe9\x95\xbf\xe9\x95\xbf\"}", /* %.40s cuts the 14th character */
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        struct command command;
        char error[200];
        assert_int_equal(parse(payloads[i], &command, error), -1);
        json_t *reason = json_string(error);
        assert_non_null(reason);
        json_decref(reason);
    }
}

static void test_deeply_nested_payload_does_not_crash(void **state)
{
    (void)state;
    char payload[COMMAND_MAX_PAYLOAD];
    size_t depth = (sizeof payload - 1) / 2;
    memset(payload, '[', depth);
    memset(payload + depth, ']', depth);
    payload[2 * depth] = '\0';
    struct command command;
    char error[200];
    assert_int_equal(parse(payload, &command, error), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declared_action_is_accepted),
        cmocka_unit_test(test_indexed_action_takes_its_parameter),
        cmocka_unit_test(test_malformed_commands_are_refused_with_a_reason),
        cmocka_unit_test(test_oversized_command_is_refused_before_parsing),
        cmocka_unit_test(test_refusal_still_names_the_request),
        cmocka_unit_test(test_refusal_reason_is_utf8_when_the_payload_is_not),
        cmocka_unit_test(test_deeply_nested_payload_does_not_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
