/*
 * One device's live state: what a poll's outcome does to its values, counters
 * and link (online / offline), and when it is polled next: its cadence, the
 * back-off of an offline device, and its limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "device.h"
#include "device_poll.h"

enum { POINTS = 2, POLL_MS = 1000, OFFLINE_AFTER = 4 };

static struct point_def points[POINTS] = {{.name = "gas_lel"}, {.name = "temperature"}};
static struct rule_def offline_rule[] = {
    {.name = "offline",
     .kind = RULE_OFFLINE,
     .point_index = -1,
     .bit = -1,
     .offline_after_polls = OFFLINE_AFTER,
     .enabled = true},
};
static struct profile profile = {.name = "gas-alarm",
                                 .kind = "gas_alarm",
                                 .points = points,
                                 .point_count = POINTS,
                                 .poll_ms = POLL_MS,
                                 .fast_poll_ms = 200};
/* A device whose profile has an offline rule (after 4 polls), and one without (3, the default). */
static struct device_def with_rule = {
    .id = "gas-1", .profile = &profile, .poll_ms = POLL_MS, .rules = offline_rule, .rule_count = 1};
static struct device_def without_rule = {.id = "gas-2", .profile = &profile, .poll_ms = POLL_MS};

static const struct backoff_limits no_floor = {.min_ms = 0, .max_ms = 60000};

static const struct poll_outcome answered = {.result = DEVICE_POLL_OK, .latency_us = 21000};
static const struct poll_outcome timed_out = {.result = DEVICE_POLL_FAILED,
                                              .error_class = MODBUS_ERROR_TIMEOUT};

static struct poll_outcome failed(enum modbus_error_class error_class, int exception_code)
{
    return (struct poll_outcome){
        .result = DEVICE_POLL_FAILED, .error_class = error_class, .exception_code = exception_code};
}

static struct device device;

static int setup(void **state)
{
    (void)state;
    return device_init(&device, &with_rule, NULL);
}

static int teardown(void **state)
{
    (void)state;
    device_free(&device);
    return 0;
}

static bool poll_ok(double gas_lel, uint64_t wall_ms)
{
    const double values[POINTS] = {gas_lel, 20.5};
    return device_record_poll(&device, values, &answered, wall_ms);
}

static bool poll_failed(struct poll_outcome outcome)
{
    return device_record_poll(&device, NULL, &outcome, 0);
}

/* --- device_record_poll: values and counters --- */

static void test_a_good_poll_records_values_and_counters(void **state)
{
    (void)state;
    poll_ok(1.5, 1700000000000);
    assert_true(device.values_valid);
    assert_true(device.values[0] == 1.5 && device.values[1] == 20.5);
    assert_int_equal(device.stats.polls_ok, 1);
    assert_int_equal(device.stats.polls_failed, 0);
    assert_int_equal(device.stats.last_seen_wall_ms, 1700000000000);
    assert_int_equal(device.stats.last_latency_us, 21000);
    poll_ok(2.0, 1700000001000);
    assert_int_equal(device.stats.polls_ok, 2);
    assert_int_equal(device.stats.latency_total_us, 42000);
    assert_int_equal(device.stats.last_seen_wall_ms, 1700000001000);
}

static void test_a_failed_poll_keeps_the_last_values(void **state)
{
    (void)state;
    poll_ok(1.5, 1700000000000);
    poll_failed(timed_out);
    assert_true(device.values_valid);
    assert_true(device.values[0] == 1.5);
    assert_int_equal(device.stats.last_seen_wall_ms, 1700000000000);
    assert_int_equal(device.stats.polls_ok, 1);
    assert_int_equal(device.stats.polls_failed, 1);
}

static void test_each_failure_is_counted_by_its_kind(void **state)
{
    (void)state;
    poll_failed(timed_out);
    poll_failed(failed(MODBUS_ERROR_CRC, 0));
    poll_failed(failed(MODBUS_ERROR_EXCEPTION, 2));
    poll_failed((struct poll_outcome){.result = DEVICE_POLL_LINK_LOST,
                                      .error_class = MODBUS_ERROR_LINK_LOST});
    poll_failed(failed(MODBUS_ERROR_OTHER, 0));
    assert_int_equal(device.stats.polls_failed, 5);
    assert_int_equal(device.stats.timeouts, 1);
    assert_int_equal(device.stats.crc_errors, 1);
    assert_int_equal(device.stats.exceptions, 1);
    assert_int_equal(device.stats.last_exception_code, 2);
    assert_int_equal(device.stats.other_errors, 2); /* a lost link and a senseless reply */
    assert_int_equal(device.stats.polls_ok, 0);
}

/* An exception is the device's own answer; 10 and 11 are a TCP converter speaking for silence. */
static void test_silence_is_told_from_an_answer(void **state)
{
    (void)state;
    poll_failed(timed_out);
    assert_true(device.last_poll_silent);
    poll_failed(failed(MODBUS_ERROR_EXCEPTION, 2));
    assert_false(device.last_poll_silent);
    poll_failed(failed(MODBUS_ERROR_EXCEPTION, 10));
    assert_true(device.last_poll_silent);
    poll_failed(failed(MODBUS_ERROR_EXCEPTION, 11));
    assert_true(device.last_poll_silent);
    poll_ok(1.0, 1);
    assert_false(device.last_poll_silent);
}

/* --- device_record_poll: the link --- */

static void test_the_first_good_poll_brings_the_device_online(void **state)
{
    (void)state;
    assert_int_equal(device.link, DEVICE_UNKNOWN);
    assert_true(poll_ok(1.0, 1));
    assert_int_equal(device.link, DEVICE_ONLINE);
    assert_false(poll_ok(1.0, 2)); /* still online: no transition */
}

static void test_offline_after_the_rules_count_of_failures_in_a_row(void **state)
{
    (void)state;
    poll_ok(1.0, 1);
    for (int failure = 1; failure < OFFLINE_AFTER; failure++) {
        assert_false(poll_failed(timed_out));
        assert_int_equal(device.link, DEVICE_ONLINE);
    }
    assert_true(poll_failed(timed_out)); /* the 4th in a row */
    assert_int_equal(device.link, DEVICE_OFFLINE);
    assert_int_equal(device.failed_in_row, OFFLINE_AFTER);
    assert_false(poll_failed(timed_out)); /* already offline: no transition */
    assert_int_equal(device.failed_in_row, OFFLINE_AFTER + 1);
}

static void test_a_good_poll_between_failures_starts_the_count_again(void **state)
{
    (void)state;
    poll_ok(1.0, 1);
    for (int failure = 1; failure < OFFLINE_AFTER; failure++)
        poll_failed(timed_out);
    poll_ok(1.0, 2);
    assert_int_equal(device.failed_in_row, 0);
    for (int failure = 1; failure < OFFLINE_AFTER; failure++)
        assert_false(poll_failed(timed_out));
    assert_int_equal(device.link, DEVICE_ONLINE);
}

static void test_a_device_that_never_answered_goes_offline_from_unknown(void **state)
{
    (void)state;
    for (int failure = 1; failure < OFFLINE_AFTER; failure++) {
        assert_false(poll_failed(timed_out));
        assert_int_equal(device.link, DEVICE_UNKNOWN);
    }
    assert_true(poll_failed(timed_out));
    assert_int_equal(device.link, DEVICE_OFFLINE);
    assert_false(device.values_valid);
}

static void test_without_an_offline_rule_three_failures_take_it_offline(void **state)
{
    (void)state;
    device_free(&device);
    assert_int_equal(device_init(&device, &without_rule, NULL), 0);
    assert_int_equal(device.offline_after_polls, 3);
    poll_failed(timed_out);
    poll_failed(timed_out);
    assert_int_equal(device.link, DEVICE_UNKNOWN);
    assert_true(poll_failed(timed_out));
    assert_int_equal(device.link, DEVICE_OFFLINE);
}

static void test_a_good_poll_brings_an_offline_device_back_and_ends_its_backoff(void **state)
{
    (void)state;
    for (int failure = 0; failure < OFFLINE_AFTER; failure++)
        poll_failed(timed_out);
    device_schedule_next(&device, 0, 0, no_floor);
    assert_int_not_equal(device.backoff_ms, 0);
    assert_true(poll_ok(1.0, 1));
    assert_int_equal(device.link, DEVICE_ONLINE);
    assert_int_equal(device.failed_in_row, 0);
    assert_int_equal(device.backoff_ms, 0);
}

/* --- device_schedule_next: cadence --- */

static void test_an_answering_device_is_due_one_poll_interval_after_it_was_due(void **state)
{
    (void)state;
    poll_ok(1.0, 1);
    device_schedule_next(&device, 10000, 10040, no_floor); /* polled 40 ms late */
    assert_int_equal(device.next_due_ms, 11000);           /* the cadence, not now + poll_ms */
}

static void test_a_late_bus_polls_round_robin_from_now(void **state)
{
    (void)state;
    poll_ok(1.0, 1);
    device_schedule_next(&device, 2000, 5000, no_floor);
    assert_int_equal(device.next_due_ms, 5000); /* fell behind: due now, not in the past */
}

static void test_a_failing_device_keeps_its_cadence_until_it_is_offline(void **state)
{
    (void)state;
    poll_ok(1.0, 1);
    poll_failed(timed_out);
    device_schedule_next(&device, 10000, 10000, no_floor);
    assert_int_equal(device.next_due_ms, 11000);
    assert_int_equal(device.backoff_ms, 0);
}

static void test_a_device_near_alarm_is_polled_at_the_fast_interval(void **state)
{
    (void)state;
    poll_ok(1.0, 1);
    device.poll_fast = true;
    device_schedule_next(&device, 10000, 10000, no_floor);
    assert_int_equal(device.next_due_ms, 10200);
    device.poll_fast = false;
    device_schedule_next(&device, 10200, 10200, no_floor);
    assert_int_equal(device.next_due_ms, 11200);
}

/* --- device_schedule_next: back-off of an offline device --- */

static void go_offline(void)
{
    for (int failure = 0; failure < OFFLINE_AFTER; failure++)
        poll_failed(timed_out);
    assert_int_equal(device.link, DEVICE_OFFLINE);
}

static void test_backoff_doubles_from_twice_the_poll_interval(void **state)
{
    (void)state;
    go_offline();
    static const uint32_t expected_ms[] = {2000, 4000, 8000, 16000, 32000};
    uint64_t now_ms = 50000;
    for (size_t i = 0; i < sizeof expected_ms / sizeof expected_ms[0]; i++) {
        device_schedule_next(&device, now_ms - 300, now_ms, no_floor);
        assert_int_equal(device.backoff_ms, expected_ms[i]);
        assert_int_equal(device.next_due_ms, now_ms + expected_ms[i]); /* from now, not due */
        now_ms = device.next_due_ms + 800;                             /* the retry timed out */
    }
}

static void test_backoff_stops_at_the_bus_maximum(void **state)
{
    (void)state;
    go_offline();
    for (int retry = 0; retry < 20; retry++)
        device_schedule_next(&device, 0, 0, no_floor);
    assert_int_equal(device.backoff_ms, 60000);
    assert_int_equal(device.next_due_ms, 60000);
    device_schedule_next(&device, 0, 100000, (struct backoff_limits){.max_ms = 45000});
    assert_int_equal(device.backoff_ms, 45000); /* a lower maximum (a reload) applies at once */
}

/* The bus's retry budget (timeout x offline devices) is a floor under the back-off. */
static void test_retry_budget_is_a_floor_under_the_backoff(void **state)
{
    (void)state;
    go_offline();
    const struct backoff_limits budget = {.min_ms = 18000, .max_ms = 60000};
    device_schedule_next(&device, 0, 0, budget);
    assert_int_equal(device.backoff_ms, 18000);
    device_schedule_next(&device, 0, 0, budget);
    assert_int_equal(device.backoff_ms, 36000);
    device_schedule_next(&device, 0, 0, (struct backoff_limits){.min_ms = 90000, .max_ms = 60000});
    assert_int_equal(device.backoff_ms, 60000); /* the maximum wins over the floor */
}

/* While its whole bus is down the device's silence costs nobody: no back-off. */
static void test_keep_cadence_polls_an_offline_device_every_poll_interval(void **state)
{
    (void)state;
    go_offline();
    const struct backoff_limits bus_down = {.min_ms = 18000, .max_ms = 60000, .keep_cadence = true};
    device_schedule_next(&device, 10000, 10300, bus_down);
    assert_int_equal(device.next_due_ms, 11000);
    assert_int_equal(device.backoff_ms, 0);
    device_schedule_next(&device, 11000, 11300, bus_down);
    assert_int_equal(device.next_due_ms, 12000);
    assert_int_equal(device.backoff_ms, 0);
}

static void test_a_device_offline_again_backs_off_from_the_start(void **state)
{
    (void)state;
    go_offline();
    device_schedule_next(&device, 0, 0, no_floor);
    device_schedule_next(&device, 0, 0, no_floor);
    assert_int_equal(device.backoff_ms, 4000);
    poll_ok(1.0, 1);
    go_offline();
    device_schedule_next(&device, 0, 0, no_floor);
    assert_int_equal(device.backoff_ms, 2000);
}

#define DEVICE_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        DEVICE_TEST(test_a_good_poll_records_values_and_counters),
        DEVICE_TEST(test_a_failed_poll_keeps_the_last_values),
        DEVICE_TEST(test_each_failure_is_counted_by_its_kind),
        DEVICE_TEST(test_silence_is_told_from_an_answer),
        DEVICE_TEST(test_the_first_good_poll_brings_the_device_online),
        DEVICE_TEST(test_offline_after_the_rules_count_of_failures_in_a_row),
        DEVICE_TEST(test_a_good_poll_between_failures_starts_the_count_again),
        DEVICE_TEST(test_a_device_that_never_answered_goes_offline_from_unknown),
        DEVICE_TEST(test_without_an_offline_rule_three_failures_take_it_offline),
        DEVICE_TEST(test_a_good_poll_brings_an_offline_device_back_and_ends_its_backoff),
        DEVICE_TEST(test_an_answering_device_is_due_one_poll_interval_after_it_was_due),
        DEVICE_TEST(test_a_late_bus_polls_round_robin_from_now),
        DEVICE_TEST(test_a_failing_device_keeps_its_cadence_until_it_is_offline),
        DEVICE_TEST(test_a_device_near_alarm_is_polled_at_the_fast_interval),
        DEVICE_TEST(test_backoff_doubles_from_twice_the_poll_interval),
        DEVICE_TEST(test_backoff_stops_at_the_bus_maximum),
        DEVICE_TEST(test_retry_budget_is_a_floor_under_the_backoff),
        DEVICE_TEST(test_keep_cadence_polls_an_offline_device_every_poll_interval),
        DEVICE_TEST(test_a_device_offline_again_backs_off_from_the_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
