/*
 * test_watch_seq.c — what `safetygw watch` tells a console about each
 * gateway's seq: in order, a gap (and the late event that fills it), a
 * duplicate, and gateways kept apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "watch_seq.h"

static int setup(void **state)
{
    *state = watch_seq_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    watch_seq_free(*state);
    return 0;
}

static enum watch_verdict see(void **state, const char *gateway, uint64_t seq)
{
    return watch_seq_see(*state, gateway, seq).verdict;
}

static void test_consecutive_seqs_are_in_order(void **state)
{
    assert_int_equal(see(state, "gw-1", 41), WATCH_FIRST);
    assert_int_equal(see(state, "gw-1", 42), WATCH_NEXT);
    assert_int_equal(see(state, "gw-1", 43), WATCH_NEXT);
    struct watch_gateway_stats stats = watch_seq_stats(*state, 0);
    assert_int_equal(stats.events, 3);
    assert_int_equal(stats.missing, 0);
    assert_int_equal(stats.first, 41);
    assert_int_equal(stats.highest, 43);
}

static void test_a_skipped_number_is_a_gap_naming_what_is_missing(void **state)
{
    see(state, "gw-1", 1);
    struct watch_result result = watch_seq_see(*state, "gw-1", 5);
    assert_int_equal(result.verdict, WATCH_GAP);
    assert_int_equal(result.gap_from, 2);
    assert_int_equal(result.gap_to, 4);
    assert_int_equal(watch_seq_stats(*state, 0).missing, 3);
}

static void test_a_late_event_fills_its_gap_and_a_second_copy_is_a_duplicate(void **state)
{
    see(state, "gw-1", 1);
    see(state, "gw-1", 5);
    assert_int_equal(see(state, "gw-1", 3), WATCH_LATE);
    assert_int_equal(watch_seq_stats(*state, 0).missing, 2);
    assert_int_equal(see(state, "gw-1", 3), WATCH_DUPLICATE);
    assert_int_equal(see(state, "gw-1", 2), WATCH_LATE);
    assert_int_equal(see(state, "gw-1", 4), WATCH_LATE);
    assert_int_equal(watch_seq_stats(*state, 0).missing, 0);
    assert_int_equal(watch_seq_stats(*state, 0).duplicates, 1);
}

static void test_a_repeated_seq_is_a_duplicate(void **state)
{
    see(state, "gw-1", 7);
    see(state, "gw-1", 8);
    assert_int_equal(see(state, "gw-1", 8), WATCH_DUPLICATE);
    assert_int_equal(see(state, "gw-1", 7), WATCH_DUPLICATE);
    assert_int_equal(watch_seq_stats(*state, 0).events, 2);
    assert_int_equal(watch_seq_stats(*state, 0).duplicates, 2);
}

static void test_each_gateway_has_its_own_numbers(void **state)
{
    assert_int_equal(see(state, "gw-1", 10), WATCH_FIRST);
    assert_int_equal(see(state, "gw-2", 10), WATCH_FIRST);
    assert_int_equal(see(state, "gw-2", 11), WATCH_NEXT);
    assert_int_equal(see(state, "gw-1", 11), WATCH_NEXT);
    assert_int_equal(watch_seq_gateway_count(*state), 2);
    assert_string_equal(watch_seq_stats(*state, 1).gateway, "gw-2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        TEST(test_consecutive_seqs_are_in_order),
        TEST(test_a_skipped_number_is_a_gap_naming_what_is_missing),
        TEST(test_a_late_event_fills_its_gap_and_a_second_copy_is_a_duplicate),
        TEST(test_a_repeated_seq_is_a_duplicate),
        TEST(test_each_gateway_has_its_own_numbers),
#undef TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
