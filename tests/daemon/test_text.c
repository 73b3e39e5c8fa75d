/* text: the string helpers of text.h; text_append joins the topic of every message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "text.h"

/* text_append twice against snprintf's "%s%s" into a buffer of size bytes. */
static void assert_joined_as_snprintf(size_t size, const char *first, const char *second)
{
    char expected[64];
    char joined[64];
    assert_true(size <= sizeof joined);
    snprintf(expected, size, "%s%s", first, second);
    memset(joined, 'x', sizeof joined);
    size_t used = text_append(joined, size, text_append(joined, size, 0, first), second);
    assert_string_equal(joined, expected);
    assert_int_equal(used, strlen(expected));
}

static void test_joins_as_snprintf_does(void **state)
{
    (void)state;
    assert_joined_as_snprintf(64, "telemetry/", "ga-cx01-0101");
    assert_joined_as_snprintf(64, "", "status");
    assert_joined_as_snprintf(64, "safetygw/sh-changshou", "");
}

static void test_cuts_to_fit_and_terminates(void **state)
{
    (void)state;
    for (size_t size = 1; size <= 24; size++)
        assert_joined_as_snprintf(size, "telemetry/", "ga-cx01-0101");
}

static void test_a_full_buffer_stays_as_it_is(void **state)
{
    (void)state;
    char text[8] = "abcdefg";
    assert_int_equal(text_append(text, sizeof text, 7, "more"), 7);
    assert_string_equal(text, "abcdefg");
    assert_int_equal(text_append(text, sizeof text, 8, "more"), 8);
    assert_string_equal(text, "abcdefg");
}

static void test_text_same(void **state)
{
    (void)state;
    assert_true(text_same(NULL, NULL));
    assert_true(text_same("ttyUSB0", "ttyUSB0"));
    assert_false(text_same("ttyUSB0", NULL));
    assert_false(text_same(NULL, "ttyUSB0"));
    assert_false(text_same("ttyUSB0", "ttyUSB1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joins_as_snprintf_does),
        cmocka_unit_test(test_cuts_to_fit_and_terminates),
        cmocka_unit_test(test_a_full_buffer_stays_as_it_is),
        cmocka_unit_test(test_text_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
