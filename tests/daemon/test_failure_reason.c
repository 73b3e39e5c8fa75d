/* The offline log line names the real failure, from the run of failed polls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "device.h"

static void test_late_replies_come_first_and_say_what_to_do(void **state)
{
    (void)state;
    struct failure_run run = {.timeouts = 3, .late_replies = 2};
    char reason[400];
    device_failure_reason(&run, reason, sizeof reason);
    assert_string_equal(reason, "late replies (2 answers came after the bus's timeout_ms and "
                                "were dropped: raise timeout_ms); no answer (3 timeouts)");
}

static void test_an_exception_is_named_with_its_code_and_meaning(void **state)
{
    (void)state;
    struct failure_run run = {.exceptions = 3, .last_exception_code = 2};
    char reason[400];
    device_failure_reason(&run, reason, sizeof reason);
    assert_non_null(strstr(reason, "exception 2, illegal data address"));
    assert_non_null(strstr(reason, "(3)"));
}

static void test_gateway_target_exception_says_the_converter_answers(void **state)
{
    (void)state;
    struct failure_run run = {.exceptions = 3, .last_exception_code = 11};
    char reason[400];
    device_failure_reason(&run, reason, sizeof reason);
    assert_non_null(strstr(reason, "the converter answers, the device behind it does not"));
}

static void test_crc_errors_and_timeouts_are_both_named(void **state)
{
    (void)state;
    struct failure_run run = {.crc_errors = 2, .timeouts = 1};
    char reason[400];
    device_failure_reason(&run, reason, sizeof reason);
    assert_string_equal(reason, "CRC errors (2: baud or parity mismatch, noise or wiring); "
                                "no answer (1 timeouts)");
}

static void test_an_empty_run_never_says_zero_polls(void **state)
{
    (void)state;
    struct failure_run run = {0};
    char reason[400];
    device_failure_reason(&run, reason, sizeof reason);
    assert_null(strstr(reason, " 0 "));
}

static void test_a_short_buffer_is_cut_not_overrun(void **state)
{
    (void)state;
    struct failure_run run = {.crc_errors = 2, .timeouts = 1, .late_replies = 5};
    char reason[24];
    memset(reason, 'x', sizeof reason);
    device_failure_reason(&run, reason, sizeof reason);
    assert_int_equal(strlen(reason), sizeof reason - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_replies_come_first_and_say_what_to_do),
        cmocka_unit_test(test_an_exception_is_named_with_its_code_and_meaning),
        cmocka_unit_test(test_gateway_target_exception_says_the_converter_answers),
        cmocka_unit_test(test_crc_errors_and_timeouts_are_both_named),
        cmocka_unit_test(test_an_empty_run_never_says_zero_polls),
        cmocka_unit_test(test_a_short_buffer_is_cut_not_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
