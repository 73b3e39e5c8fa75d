/*
 * The whole bus gone, or one device on it: a link is silent when nothing
 * answered for link_timeout_ms and three different devices (all, on a
 * smaller bus) timed out since; one answer of any kind ends it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "link_watch.h"

#define TIMED_OUT true, false
#define ANSWERED false, true

static void test_every_device_timing_out_for_the_link_timeout_is_silence(void **state)
{
    (void)state;
    struct link_watch watch;
    link_watch_init(&watch, 2000, 5, 0);
    assert_int_equal(link_watch_poll(&watch, 1, ANSWERED, 100), LINK_WATCH_SAME);
    assert_int_equal(link_watch_poll(&watch, 1, TIMED_OUT, 600), LINK_WATCH_SAME);
    assert_int_equal(link_watch_poll(&watch, 2, TIMED_OUT, 1100), LINK_WATCH_SAME);
    assert_int_equal(link_watch_poll(&watch, 3, TIMED_OUT, 1600), LINK_WATCH_SAME);
    assert_false(watch.silent); /* three devices, but not yet 2000 ms */
    assert_int_equal(link_watch_poll(&watch, 4, TIMED_OUT, 2100), LINK_WATCH_SILENT);
    assert_true(watch.silent);
}

static void test_one_dead_device_retried_often_is_not_silence(void **state)
{
    (void)state;
    struct link_watch watch;
    link_watch_init(&watch, 1000, 5, 0);
    for (uint64_t t = 500; t < 10000; t += 500)
        assert_int_equal(link_watch_poll(&watch, 7, TIMED_OUT, t), LINK_WATCH_SAME);
    assert_false(watch.silent);
}

static void test_an_exception_is_an_answer(void **state)
{
    (void)state;
    struct link_watch watch;
    link_watch_init(&watch, 1000, 3, 0);
    link_watch_poll(&watch, 1, TIMED_OUT, 900);
    link_watch_poll(&watch, 2, TIMED_OUT, 1200);
    link_watch_poll(&watch, 3, ANSWERED, 1500); /* exception 0x0B: the converter answers */
    assert_int_equal(link_watch_poll(&watch, 1, TIMED_OUT, 2000), LINK_WATCH_SAME);
    assert_false(watch.silent);
}

static void test_a_small_bus_needs_all_its_devices(void **state)
{
    (void)state;
    struct link_watch watch;
    link_watch_init(&watch, 1000, 2, 0);
    assert_int_equal(link_watch_poll(&watch, 1, TIMED_OUT, 1500), LINK_WATCH_SAME);
    assert_int_equal(link_watch_poll(&watch, 2, TIMED_OUT, 1800), LINK_WATCH_SILENT);
}

static void test_the_first_answer_ends_the_silence(void **state)
{
    (void)state;
    struct link_watch watch;
    link_watch_init(&watch, 1000, 1, 0);
    assert_int_equal(link_watch_poll(&watch, 9, TIMED_OUT, 1000), LINK_WATCH_SILENT);
    assert_int_equal(link_watch_poll(&watch, 9, ANSWERED, 5000), LINK_WATCH_ANSWERING);
    assert_false(watch.silent);
    assert_int_equal(watch.timed_out_count, 0);
}

static void test_a_lost_link_neither_answers_nor_times_out(void **state)
{
    (void)state;
    struct link_watch watch;
    link_watch_init(&watch, 1000, 1, 0);
    assert_int_equal(link_watch_poll(&watch, 9, false, false, 5000), LINK_WATCH_SAME);
    assert_false(watch.silent);
}

static void test_a_silent_link_is_reopened_at_once_then_less_and_less_often(void **state)
{
    (void)state;
    struct link_watch watch;
    link_watch_init(&watch, 1000, 1, 0);
    assert_false(link_watch_reopen_due(&watch, 500));
    link_watch_poll(&watch, 1, TIMED_OUT, 1000);
    assert_true(link_watch_reopen_due(&watch, 1000));
    assert_false(link_watch_reopen_due(&watch, 2500)); /* next after 2 x 1000 */
    assert_true(link_watch_reopen_due(&watch, 3000));
    assert_false(link_watch_reopen_due(&watch, 6900)); /* then 4 x */
    assert_true(link_watch_reopen_due(&watch, 7000));
    assert_true(link_watch_reopen_due(&watch, 15000));  /* 8 x */
    assert_true(link_watch_reopen_due(&watch, 31000));  /* 16 x */
    assert_false(link_watch_reopen_due(&watch, 46000)); /* and no longer than that */
    assert_true(link_watch_reopen_due(&watch, 47000));
    link_watch_poll(&watch, 1, ANSWERED, 48000);
    assert_false(link_watch_reopen_due(&watch, 100000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_device_timing_out_for_the_link_timeout_is_silence),
        cmocka_unit_test(test_one_dead_device_retried_often_is_not_silence),
        cmocka_unit_test(test_an_exception_is_an_answer),
        cmocka_unit_test(test_a_small_bus_needs_all_its_devices),
        cmocka_unit_test(test_the_first_answer_ends_the_silence),
        cmocka_unit_test(test_a_lost_link_neither_answers_nor_times_out),
        cmocka_unit_test(test_a_silent_link_is_reopened_at_once_then_less_and_less_often),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
