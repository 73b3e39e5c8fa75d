/* timeutil: wall-clock milliseconds as RFC 3339 UTC, the stamp on everything the gateway sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

/* The stamp as gmtime_r and one formatted print write it. */
static void reference(uint64_t wall_ms, char *text, size_t size)
{
    time_t seconds = (time_t)(wall_ms / 1000u);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    snprintf(text, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", utc.tm_year + 1900, utc.tm_mon + 1,
             utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, (unsigned)(wall_ms % 1000u));
}

static void assert_stamp(uint64_t wall_ms)
{
    char expected[64];
    char text[64];
    reference(wall_ms, expected, sizeof expected);
    time_format_rfc3339(wall_ms, text, sizeof text);
    assert_string_equal(text, expected);
}

static void test_a_known_moment(void **state)
{
    (void)state;
    char text[32];
    time_format_rfc3339(1795852801250u, text, sizeof text);
    assert_string_equal(text, "2026-11-28T08:00:01.250Z");
}

/* A second's text is kept between calls: later, earlier and repeated seconds all read right. */
static void test_within_across_and_back_over_seconds(void **state)
{
    (void)state;
    const uint64_t moments[] = {0,
                                1795852801250u,
                                1795852801251u,
                                1795852801999u,
                                1795852802000u,
                                1795852801007u,
                                1795852802000u,
                                253402300799999u /* 9999-12-31T23:59:59.999Z */};
    for (size_t i = 0; i < sizeof moments / sizeof moments[0]; i++)
        assert_stamp(moments[i]);
}

/* A short buffer gets the stamp's beginning, terminated, as snprintf would leave it. */
static void test_a_short_buffer_is_cut_and_terminated(void **state)
{
    (void)state;
    char text[11];
    time_format_rfc3339(1795852801250u, text, sizeof text);
    assert_string_equal(text, "2026-11-28");
    char untouched = 'x';
    time_format_rfc3339(1795852801250u, &untouched, 0);
    assert_int_equal(untouched, 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_known_moment),
        cmocka_unit_test(test_within_across_and_back_over_seconds),
        cmocka_unit_test(test_a_short_buffer_is_cut_and_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
