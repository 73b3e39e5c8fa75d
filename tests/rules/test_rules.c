/*
 * test_rules.c — every transition of the alarm rule state machines:
 * thresholds with hysteresis, equals / not-equals, for_ms / clear_for_ms,
 * rate of change, offline, disabled rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "assert_close.h"
#include "rules.h"

#define POLL_MS 2000
#define MINUTE_MS 60000

static struct rule_def rule_of(enum rule_kind kind, double threshold, double clear_threshold)
{
    return (struct rule_def){
        .name = "test_rule",
        .kind = kind,
        .point_index = kind == RULE_OFFLINE ? -1 : 0,
        .bit = -1,
        .threshold = threshold,
        .clear_threshold = clear_threshold,
        .rate_window_ms = MINUTE_MS,
        .severity = SEVERITY_MAJOR,
        .action_index = -1,
        .action_param = -1,
        .enabled = true,
    };
}

static struct rule_state fresh_state(void)
{
    struct rule_state state;
    rules_state_init(&state);
    return state;
}

static void assert_transition(enum rule_transition actual, enum rule_transition expected)
{
    static const char *names[] = {"no change", "raised", "cleared"};
    if (actual != expected)
        fail_msg("got %s, expected %s", names[actual], names[expected]);
}

/* --- above --- */

static void test_state_starts_clear_with_nothing_timed(void **unused)
{
    (void)unused;
    struct rule_state state = fresh_state();
    assert_false(state.active);
    assert_false(state.condition_since_valid);
    assert_int_equal(state.rate.filled, 0);
    assert_int_equal(state.failed_polls, 0);
}

static void test_above_raises_when_value_reaches_threshold(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 24.9, 1000), RULE_NO_CHANGE);
    assert_false(state.active);
    assert_transition(rules_eval(&gas_high, &state, 25.0, 3000), RULE_RAISED);
    assert_true(state.active);
}

static void test_gas_high_clears_only_below_clear_threshold(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 27.5, 0), RULE_RAISED);
    assert_transition(rules_eval(&gas_high, &state, 22.0, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 20.0, 4000), RULE_NO_CHANGE);
    assert_true(state.active);
    assert_transition(rules_eval(&gas_high, &state, 19.9, 6000), RULE_CLEARED);
    assert_false(state.active);
}

static void test_value_chattering_around_threshold_raises_once(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    double readings[] = {24.0, 25.5, 24.0, 26.0, 23.0, 25.0, 21.0, 25.1, 24.9};
    int raised = 0, cleared = 0;
    for (size_t i = 0; i < sizeof readings / sizeof readings[0]; i++) {
        enum rule_transition t = rules_eval(&gas_high, &state, readings[i], i * POLL_MS);
        raised += t == RULE_RAISED;
        cleared += t == RULE_CLEARED;
    }
    assert_int_equal(raised, 1);
    assert_int_equal(cleared, 0);
    assert_true(state.active);
}

static void test_active_alarm_does_not_raise_again(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 0), RULE_RAISED);
    for (int i = 1; i <= 10; i++)
        assert_transition(rules_eval(&gas_high, &state, 30.0 + i, i * POLL_MS), RULE_NO_CHANGE);
    assert_int_equal(state.raised_at_ms, 0);
}

static void test_alarm_raises_again_after_it_cleared(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 0), RULE_RAISED);
    assert_transition(rules_eval(&gas_high, &state, 10.0, 2000), RULE_CLEARED);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 4000), RULE_RAISED);
    assert_int_equal(state.raised_at_ms, 4000);
}

static void test_raised_at_is_the_time_of_the_raise(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    rules_eval(&gas_high, &state, 10.0, 1000);
    rules_eval(&gas_high, &state, 26.0, 123456);
    assert_int_equal(state.raised_at_ms, 123456);
    rules_eval(&gas_high, &state, 27.0, 125456);
    assert_int_equal(state.raised_at_ms, 123456);
}

static void test_state_value_is_the_last_reading(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    rules_eval(&gas_high, &state, 12.5, 0);
    assert_close(state.value, 12.5, 0);
    rules_eval(&gas_high, &state, 27.5, 2000);
    assert_close(state.value, 27.5, 0);
}

static void test_above_without_hysteresis_clears_just_below_threshold(void **unused)
{
    (void)unused;
    struct rule_def cabinet_hot = rule_of(RULE_ABOVE, 60.0, 60.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&cabinet_hot, &state, 60.0, 0), RULE_RAISED);
    assert_transition(rules_eval(&cabinet_hot, &state, 60.0, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&cabinet_hot, &state, 59.9, 4000), RULE_CLEARED);
}

/* --- below --- */

static void test_below_raises_when_value_reaches_threshold(void **unused)
{
    (void)unused;
    struct rule_def life_low = rule_of(RULE_BELOW, 90.0, 90.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&life_low, &state, 91.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&life_low, &state, 90.0, 2000), RULE_RAISED);
}

static void test_below_clears_only_above_clear_threshold(void **unused)
{
    (void)unused;
    struct rule_def voltage_low = rule_of(RULE_BELOW, 180.0, 190.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&voltage_low, &state, 175.0, 0), RULE_RAISED);
    assert_transition(rules_eval(&voltage_low, &state, 185.0, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&voltage_low, &state, 190.0, 4000), RULE_NO_CHANGE);
    assert_true(state.active);
    assert_transition(rules_eval(&voltage_low, &state, 190.1, 6000), RULE_CLEARED);
}

static void test_below_chattering_inside_band_raises_once(void **unused)
{
    (void)unused;
    struct rule_def voltage_low = rule_of(RULE_BELOW, 180.0, 190.0);
    struct rule_state state = fresh_state();
    double readings[] = {200.0, 179.0, 185.0, 180.0, 189.0, 178.0};
    int raised = 0;
    for (size_t i = 0; i < sizeof readings / sizeof readings[0]; i++)
        raised += rules_eval(&voltage_low, &state, readings[i], i * POLL_MS) == RULE_RAISED;
    assert_int_equal(raised, 1);
    assert_true(state.active);
}

/* --- equals / not equals --- */

static void test_equals_raises_on_a_set_bit_and_clears_when_it_drops(void **unused)
{
    (void)unused;
    struct rule_def sensor_fault = rule_of(RULE_EQUALS, 1.0, 1.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&sensor_fault, &state, 0.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&sensor_fault, &state, 1.0, 2000), RULE_RAISED);
    assert_transition(rules_eval(&sensor_fault, &state, 1.0, 4000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&sensor_fault, &state, 0.0, 6000), RULE_CLEARED);
}

static void test_equals_on_a_cleared_bit_raises_on_zero(void **unused)
{
    (void)unused;
    struct rule_def door_zone_lost = rule_of(RULE_EQUALS, 0.0, 0.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&door_zone_lost, &state, 1.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&door_zone_lost, &state, 0.0, 2000), RULE_RAISED);
    assert_transition(rules_eval(&door_zone_lost, &state, 1.0, 4000), RULE_CLEARED);
}

static void test_equals_tolerates_the_rounding_of_scaled_values(void **unused)
{
    (void)unused;
    struct rule_def at_setpoint = rule_of(RULE_EQUALS, 0.3, 0.3);
    struct rule_state state = fresh_state();
    double scaled = 3 * 0.1; /* raw 3 at scale 0.1 is 0.30000000000000004 */
    assert_true(scaled != 0.3);
    assert_transition(rules_eval(&at_setpoint, &state, scaled, 0), RULE_RAISED);
}

static void test_equals_does_not_match_the_next_step(void **unused)
{
    (void)unused;
    struct rule_def service_mode_fire = rule_of(RULE_EQUALS, 2.0, 2.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&service_mode_fire, &state, 2.001, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&service_mode_fire, &state, 1.0, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&service_mode_fire, &state, 3.0, 4000), RULE_NO_CHANGE);
}

static void test_not_equals_raises_on_a_fault_code_and_clears_on_zero(void **unused)
{
    (void)unused;
    struct rule_def fault_code = rule_of(RULE_NOT_EQUALS, 0.0, 0.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&fault_code, &state, 0.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&fault_code, &state, 3.0, 2000), RULE_RAISED);
    assert_transition(rules_eval(&fault_code, &state, 5.0, 4000), RULE_NO_CHANGE);
    assert_close(state.value, 5.0, 0);
    assert_transition(rules_eval(&fault_code, &state, 0.0, 6000), RULE_CLEARED);
}

/* --- for_ms / clear_for_ms --- */

static void test_for_ms_zero_raises_on_the_first_reading(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 26.0, 5000), RULE_RAISED);
}

static void test_for_ms_raises_only_after_condition_held_that_long(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.for_ms = 5000;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 10000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 14999), RULE_NO_CHANGE);
    assert_false(state.active);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 15000), RULE_RAISED);
    assert_int_equal(state.raised_at_ms, 15000);
}

static void test_for_ms_dip_restarts_the_timer(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.for_ms = 5000;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 10.0, 3000), RULE_NO_CHANGE); /* dip */
    assert_transition(rules_eval(&gas_high, &state, 30.0, 4000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 8000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 9000), RULE_RAISED);
}

static void test_for_ms_dip_into_hysteresis_band_also_restarts_the_timer(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.for_ms = 5000;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 22.0, 1000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 6000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 7000), RULE_RAISED);
}

static void test_clear_for_ms_clears_only_after_clear_condition_held_that_long(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.clear_for_ms = 10000;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 0), RULE_RAISED);
    assert_transition(rules_eval(&gas_high, &state, 5.0, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 5.0, 11999), RULE_NO_CHANGE);
    assert_true(state.active);
    assert_transition(rules_eval(&gas_high, &state, 5.0, 12000), RULE_CLEARED);
}

static void test_clear_for_ms_return_into_band_restarts_the_clear_timer(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.clear_for_ms = 10000;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 0), RULE_RAISED);
    assert_transition(rules_eval(&gas_high, &state, 5.0, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 21.0, 8000), RULE_NO_CHANGE); /* in band */
    assert_transition(rules_eval(&gas_high, &state, 5.0, 10000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 5.0, 19999), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 5.0, 20000), RULE_CLEARED);
}

static void test_for_ms_times_a_new_raise_from_scratch_after_clearing(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.for_ms = 5000;
    gas_high.clear_for_ms = 5000;
    struct rule_state state = fresh_state();
    rules_eval(&gas_high, &state, 30.0, 0);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 5000), RULE_RAISED);
    rules_eval(&gas_high, &state, 5.0, 6000);
    assert_transition(rules_eval(&gas_high, &state, 5.0, 11000), RULE_CLEARED);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 12000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 16999), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 17000), RULE_RAISED);
}

static void test_for_ms_holds_across_missed_polls(void **unused)
{
    (void)unused;
    /* No reading between 1000 and 9000 (device offline): silence is not a dip. */
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.for_ms = 5000;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 1000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 9000), RULE_RAISED);
}

static void test_nan_reading_neither_raises_nor_clears_nor_restarts_timers(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.for_ms = 5000;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, NAN, 2000), RULE_NO_CHANGE);
    assert_close(state.value, 30.0, 0);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 5000), RULE_RAISED);
    assert_transition(rules_eval(&gas_high, &state, NAN, 7000), RULE_NO_CHANGE);
    assert_true(state.active);

    struct rule_def fault_code = rule_of(RULE_NOT_EQUALS, 0.0, 0.0);
    struct rule_state fault_state = fresh_state();
    assert_transition(rules_eval(&fault_code, &fault_state, NAN, 0), RULE_NO_CHANGE);
    assert_false(fault_state.active);
}

static void test_timer_restarts_when_the_clock_goes_back(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    gas_high.for_ms = 5000;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 100000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 1000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 5999), RULE_NO_CHANGE);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 6000), RULE_RAISED);
}

/* --- disabled --- */

static void test_disabled_rule_never_raises(void **unused)
{
    (void)unused;
    enum rule_kind kinds[] = {RULE_ABOVE, RULE_BELOW, RULE_EQUALS, RULE_NOT_EQUALS,
                              RULE_RATE_ABOVE};
    double readings[] = {-1000.0, 0.0, 1.0, 5.0, 1000.0, 1e6};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct rule_def rule = rule_of(kinds[k], 1.0, 1.0);
        rule.enabled = false;
        struct rule_state state = fresh_state();
        for (size_t i = 0; i < 100; i++) {
            double value = readings[i % 6] * (double)i;
            assert_transition(rules_eval(&rule, &state, value, i * POLL_MS), RULE_NO_CHANGE);
        }
        assert_false(state.active);
    }
    struct rule_def offline = rule_of(RULE_OFFLINE, 0, 0);
    offline.offline_after_polls = 1;
    offline.enabled = false;
    struct rule_state state = fresh_state();
    for (int i = 0; i < 10; i++)
        assert_transition(rules_eval_offline(&offline, &state, false, i * POLL_MS), RULE_NO_CHANGE);
    assert_false(state.active);
}

static void test_disabling_an_active_rule_clears_it(void **unused)
{
    (void)unused;
    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&gas_high, &state, 30.0, 0), RULE_RAISED);
    gas_high.enabled = false; /* as after a reload that disabled it */
    assert_transition(rules_eval(&gas_high, &state, 30.0, 2000), RULE_CLEARED);
    assert_transition(rules_eval(&gas_high, &state, 30.0, 4000), RULE_NO_CHANGE);

    struct rule_def offline = rule_of(RULE_OFFLINE, 0, 0);
    offline.offline_after_polls = 1;
    struct rule_state offline_state = fresh_state();
    assert_transition(rules_eval_offline(&offline, &offline_state, false, 0), RULE_RAISED);
    offline.enabled = false;
    assert_transition(rules_eval_offline(&offline, &offline_state, false, 2000), RULE_CLEARED);
}

/* --- offline --- */

static void test_offline_raises_after_n_failures_and_clears_on_first_good_poll(void **unused)
{
    (void)unused;
    struct rule_def offline = rule_of(RULE_OFFLINE, 0, 0);
    offline.offline_after_polls = 3;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval_offline(&offline, &state, false, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval_offline(&offline, &state, false, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval_offline(&offline, &state, false, 4000), RULE_RAISED);
    assert_int_equal(state.raised_at_ms, 4000);
    assert_transition(rules_eval_offline(&offline, &state, false, 6000), RULE_NO_CHANGE);
    assert_transition(rules_eval_offline(&offline, &state, false, 8000), RULE_NO_CHANGE);
    assert_transition(rules_eval_offline(&offline, &state, true, 10000), RULE_CLEARED);
    assert_transition(rules_eval_offline(&offline, &state, true, 12000), RULE_NO_CHANGE);
    assert_false(state.active);
}

static void test_offline_good_poll_resets_the_failure_count(void **unused)
{
    (void)unused;
    struct rule_def offline = rule_of(RULE_OFFLINE, 0, 0);
    offline.offline_after_polls = 3;
    struct rule_state state = fresh_state();
    bool polls[] = {false, false, true, false, false};
    for (size_t i = 0; i < sizeof polls / sizeof polls[0]; i++)
        assert_transition(rules_eval_offline(&offline, &state, polls[i], i * POLL_MS),
                          RULE_NO_CHANGE);
    assert_int_equal(state.failed_polls, 2);
    assert_transition(rules_eval_offline(&offline, &state, false, 10000), RULE_RAISED);
}

static void test_offline_after_one_raises_on_the_first_failure(void **unused)
{
    (void)unused;
    struct rule_def offline = rule_of(RULE_OFFLINE, 0, 0);
    offline.offline_after_polls = 1;
    struct rule_state state = fresh_state();
    assert_transition(rules_eval_offline(&offline, &state, true, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval_offline(&offline, &state, false, 2000), RULE_RAISED);
}

static void test_offline_state_value_counts_failed_polls(void **unused)
{
    (void)unused;
    struct rule_def offline = rule_of(RULE_OFFLINE, 0, 0);
    offline.offline_after_polls = 5;
    struct rule_state state = fresh_state();
    rules_eval_offline(&offline, &state, false, 0);
    rules_eval_offline(&offline, &state, false, 2000);
    assert_int_equal(state.failed_polls, 2);
    assert_close(state.value, 2.0, 0);
    rules_eval_offline(&offline, &state, true, 4000);
    assert_close(state.value, 0.0, 0);
}

static void test_offline_rule_ignores_values_and_value_rules_ignore_polls(void **unused)
{
    (void)unused;
    struct rule_def offline = rule_of(RULE_OFFLINE, 0, 0);
    offline.offline_after_polls = 1;
    struct rule_state offline_state = fresh_state();
    assert_transition(rules_eval(&offline, &offline_state, 1e9, 0), RULE_NO_CHANGE);
    assert_false(offline_state.active);

    struct rule_def gas_high = rule_of(RULE_ABOVE, 25.0, 20.0);
    struct rule_state gas_state = fresh_state();
    assert_transition(rules_eval(&gas_high, &gas_state, 30.0, 0), RULE_RAISED);
    for (int i = 1; i <= 5; i++)
        assert_transition(rules_eval_offline(&gas_high, &gas_state, false, i * POLL_MS),
                          RULE_NO_CHANGE);
    assert_true(gas_state.active); /* silence does not clear a value alarm */
}

/* --- rate of change --- */

/* Readings every poll_ms: flat at base, rising slope_per_min from rise_start_ms to rise_end_ms. */
struct ramp {
    double base;
    uint64_t rise_start_ms;
    uint64_t rise_end_ms; /* flat again after this */
    double slope_per_min;
};

static const struct ramp flat_at_20 = {20.0, UINT64_MAX, UINT64_MAX, 0.0};

static double ramp_value(const struct ramp *ramp, uint64_t now_ms)
{
    if (now_ms <= ramp->rise_start_ms)
        return ramp->base;
    uint64_t until = now_ms < ramp->rise_end_ms ? now_ms : ramp->rise_end_ms;
    return ramp->base + ramp->slope_per_min * (double)(until - ramp->rise_start_ms) / MINUTE_MS;
}

struct run {
    int raised;
    int cleared;
    uint64_t first_raised_ms;
    uint64_t first_cleared_ms;
};

static void count_transition(struct run *run, enum rule_transition t, uint64_t now_ms)
{
    if (t == RULE_RAISED && run->raised++ == 0)
        run->first_raised_ms = now_ms;
    if (t == RULE_CLEARED && run->cleared++ == 0)
        run->first_cleared_ms = now_ms;
}

static struct run run_ramp_every(const struct rule_def *rule, struct rule_state *state,
                                 const struct ramp *ramp, uint64_t from_ms, uint64_t to_ms,
                                 uint64_t poll_ms)
{
    struct run run = {0};
    for (uint64_t now = from_ms; now < to_ms; now += poll_ms)
        count_transition(&run, rules_eval(rule, state, ramp_value(ramp, now), now), now);
    return run;
}

static struct run run_ramp(const struct rule_def *rule, struct rule_state *state,
                           const struct ramp *ramp, uint64_t from_ms, uint64_t to_ms)
{
    return run_ramp_every(rule, state, ramp, from_ms, to_ms, POLL_MS);
}

/* Uniform noise in [-amplitude, +amplitude], the same sequence on every run (xorshift32). */
static double noise(uint32_t *seed, double amplitude)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    return amplitude * (2.0 * (double)*seed / UINT32_MAX - 1.0);
}

static const uint64_t poll_intervals_ms[] = {1000, 2000, 5000};

/* The profile's rule: a battery heading for thermal runaway heats 5 degrees a minute. */
static struct rule_def temperature_rising_rule(void)
{
    return rule_of(RULE_RATE_ABOVE, 5.0, 2.0);
}

static void test_rate_30_per_minute_raises_within_15_s_at_every_poll_interval(void **unused)
{
    (void)unused;
    for (size_t p = 0; p < sizeof poll_intervals_ms / sizeof poll_intervals_ms[0]; p++) {
        uint64_t poll_ms = poll_intervals_ms[p];
        /* The rise starts at every phase of the poll cycle and of the window's slices. */
        for (uint64_t rise_start = 300000; rise_start < 300000 + 20000; rise_start += 700) {
            struct rule_def temperature_rising = temperature_rising_rule();
            struct rule_state state = fresh_state();
            struct ramp rise = {20.0, rise_start, UINT64_MAX, 30.0};
            struct run run =
                run_ramp_every(&temperature_rising, &state, &rise, 0, rise_start + 60000, poll_ms);
            assert_int_equal(run.raised, 1);
            assert_true(run.first_raised_ms > rise_start);
            uint64_t delay_ms = run.first_raised_ms - rise_start;
            if (delay_ms > 15000 || (poll_ms <= 2000 && delay_ms > 10000))
                fail_msg("30/min from %llu at poll %llu ms raised %llu ms late",
                         (unsigned long long)rise_start, (unsigned long long)poll_ms,
                         (unsigned long long)delay_ms);
        }
    }
}

static void test_rate_just_over_the_threshold_raises_within_the_window(void **unused)
{
    (void)unused;
    for (size_t p = 0; p < sizeof poll_intervals_ms / sizeof poll_intervals_ms[0]; p++) {
        uint64_t poll_ms = poll_intervals_ms[p];
        for (uint64_t rise_start = 300000; rise_start < 300000 + 20000; rise_start += 700) {
            struct rule_def temperature_rising = temperature_rising_rule();
            struct rule_state state = fresh_state();
            struct ramp rise = {20.0, rise_start, UINT64_MAX, 6.0};
            struct run run =
                run_ramp_every(&temperature_rising, &state, &rise, 0, rise_start + 600000, poll_ms);
            assert_int_equal(run.raised, 1);
            assert_int_equal(run.cleared, 0);
            assert_true(run.first_raised_ms > rise_start + 10000);
            if (run.first_raised_ms > rise_start + MINUTE_MS)
                fail_msg("6/min from %llu at poll %llu ms raised at %llu, past the window",
                         (unsigned long long)rise_start, (unsigned long long)poll_ms,
                         (unsigned long long)run.first_raised_ms);
            assert_true(state.value >= 5.0);
        }
    }
}

static void test_rate_slow_drift_never_raises_however_long_it_lasts(void **unused)
{
    (void)unused;
    for (size_t p = 0; p < sizeof poll_intervals_ms / sizeof poll_intervals_ms[0]; p++) {
        struct rule_def temperature_rising = temperature_rising_rule();
        struct rule_state state = fresh_state();
        struct ramp drift = {20.0, 30000, UINT64_MAX, 3.0};
        struct run run = run_ramp_every(&temperature_rising, &state, &drift, 0,
                                        30000 + 10 * MINUTE_MS, poll_intervals_ms[p]);
        assert_int_equal(run.raised, 0);
        assert_close(state.value, 3.0, 1e-3); /* it is judged, at its true rate */
    }
}

static void test_rate_noisy_flat_signal_never_raises(void **unused)
{
    (void)unused;
    for (size_t p = 0; p < sizeof poll_intervals_ms / sizeof poll_intervals_ms[0]; p++) {
        uint64_t poll_ms = poll_intervals_ms[p];
        struct rule_def temperature_rising = temperature_rising_rule();
        struct rule_state state = fresh_state();
        uint32_t seed = 2463534242u;
        int raised = 0;
        for (uint64_t now = 0; now < 3600000; now += poll_ms)
            raised += rules_eval(&temperature_rising, &state, 23.0 + noise(&seed, 0.5), now) ==
                      RULE_RAISED;
        assert_int_equal(raised, 0);

        /* The worst noise of that size: every reading at the other extreme. */
        state = fresh_state();
        for (uint64_t now = 0, i = 0; now < 600000; now += poll_ms, i++)
            raised +=
                rules_eval(&temperature_rising, &state, i % 2 ? 23.5 : 22.5, now) == RULE_RAISED;
        assert_int_equal(raised, 0);
    }
}

static void test_rate_noise_on_a_fast_rise_still_raises(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    struct ramp rise = {20.0, 300000, UINT64_MAX, 30.0};
    uint32_t seed = 88172645u;
    uint64_t raised_ms = 0;
    for (uint64_t now = 0; now < 400000 && raised_ms == 0; now += POLL_MS)
        if (rules_eval(&temperature_rising, &state, ramp_value(&rise, now) + noise(&seed, 0.5),
                       now) == RULE_RAISED)
            raised_ms = now;
    assert_true(raised_ms > 300000);
    assert_true(raised_ms <= 300000 + 15000);
}

static void test_rate_step_after_a_long_flat_period_raises_on_the_reading_after_it(void **unused)
{
    (void)unused;
    /* 3 degrees at once is more than 5/min gives over a quarter of the window (1.25). */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    struct run before = run_ramp(&temperature_rising, &state, &flat_at_20, 0, 600000);
    assert_int_equal(before.raised, 0);
    assert_transition(rules_eval(&temperature_rising, &state, 23.0, 600000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 23.0, 602000), RULE_RAISED);
    assert_close(state.value, 3.0 * MINUTE_MS / (MINUTE_MS / 4), 1e-6); /* 12 per minute */
}

static void test_rate_small_step_after_a_long_flat_period_never_raises(void **unused)
{
    (void)unused;
    /* 1 degree is less than 1.25: as slow as 4/min over a quarter of the window. */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    run_ramp(&temperature_rising, &state, &flat_at_20, 0, 600000);
    struct ramp stepped = {21.0, UINT64_MAX, UINT64_MAX, 0.0};
    struct run after = run_ramp(&temperature_rising, &state, &stepped, 600000, 1200000);
    assert_int_equal(after.raised, 0);
}

static void test_rate_single_spike_does_not_raise(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    int raised = 0;
    for (uint64_t now = 0; now < 600000; now += POLL_MS) {
        double value = now == 100000 ? 30.0 : 20.0; /* one reading 10 above */
        raised += rules_eval(&temperature_rising, &state, value, now) == RULE_RAISED;
    }
    assert_int_equal(raised, 0);
}

static void test_rate_single_dip_is_not_the_start_of_a_rise(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    int raised = 0;
    for (uint64_t now = 0; now < 600000; now += POLL_MS) {
        double value = now == 100000 ? 10.0 : 20.0; /* one reading 10 below */
        raised += rules_eval(&temperature_rising, &state, value, now) == RULE_RAISED;
    }
    assert_int_equal(raised, 0);
}

static void test_rate_flat_value_never_raises(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = rule_of(RULE_RATE_ABOVE, 5.0, 5.0);
    struct rule_state state = fresh_state();
    struct ramp flat = {23.7, UINT64_MAX, UINT64_MAX, 0.0};
    struct run run = run_ramp(&temperature_rising, &state, &flat, 0, 3600000);
    assert_int_equal(run.raised, 0);
    assert_close(state.value, 0.0, 0);
}

static void test_rate_flat_value_never_raises_even_with_threshold_zero(void **unused)
{
    (void)unused;
    struct rule_def any_rise = rule_of(RULE_RATE_ABOVE, 0.0, 0.0);
    struct rule_state state = fresh_state();
    struct run run = run_ramp(&any_rise, &state, &flat_at_20, 0, 600000);
    assert_int_equal(run.raised, 0);
}

static void test_rate_needs_two_judged_readings_after_a_fresh_start(void **unused)
{
    (void)unused;
    /* The first reading has nothing to be measured from; the second has no reading before. */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&temperature_rising, &state, 20.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 100.0, 2000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 100.0, 4000), RULE_RAISED);
    assert_close(state.value, 80.0 * 4, 1e-6); /* 80 over the floor of 15 s */
}

static void test_rate_rise_after_a_fall_is_measured_from_the_low_point(void **unused)
{
    (void)unused;
    /* Falls 30 -> 20 over the first minute, then rises 6/min from t = 60 s. */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    uint64_t raised_ms = 0;
    for (uint64_t now = 0; now < 300000 && raised_ms == 0; now += POLL_MS) {
        double value =
            now <= 60000 ? 30.0 - 10.0 * now / 60000.0 : 20.0 + 6.0 * (now - 60000) / 60000.0;
        if (rules_eval(&temperature_rising, &state, value, now) == RULE_RAISED)
            raised_ms = now;
    }
    assert_true(raised_ms > 60000 + 12500); /* 6/min needs 12.5 s to rise 1.25 */
    assert_true(raised_ms <= 60000 + MINUTE_MS);
}

static void test_rate_falling_value_never_raises_and_judges_a_negative_rate(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    struct ramp fall = {80.0, 0, UINT64_MAX, -10.0};
    struct run run = run_ramp(&temperature_rising, &state, &fall, 0, 600000);
    assert_int_equal(run.raised, 0);
    assert_true(state.value < 0.0);
}

static void test_rate_is_per_minute_whatever_the_window(void **unused)
{
    (void)unused;
    /* 1 unit a second over a 10 s window is 60 per minute. */
    struct rule_def fast_rise = rule_of(RULE_RATE_ABOVE, 50.0, 50.0);
    fast_rise.rate_window_ms = 10000;
    struct rule_state state = fresh_state();
    struct ramp rise = {0.0, 0, UINT64_MAX, 60.0};
    struct run run = run_ramp(&fast_rise, &state, &rise, 0, 30000);
    assert_int_equal(run.raised, 1);
    assert_int_equal(run.first_raised_ms, 6000); /* 48/min at 2 s (floor 2.5 s), 60 at 4 and 6 s */
    assert_close(state.value, 60.0, 1e-6);
}

static void test_rate_long_window_judges_slow_rises(void **unused)
{
    (void)unused;
    /* 3 per hour over an hour's window (slices of 15 min, lows timed in 14 ms steps). */
    struct rule_def slow_rise = rule_of(RULE_RATE_ABOVE, 0.05, 0.05);
    slow_rise.rate_window_ms = 3600000;
    struct rule_state rising_state = fresh_state();
    struct ramp six_per_hour = {20.0, 7200000, UINT64_MAX, 0.1};
    struct run rising =
        run_ramp_every(&slow_rise, &rising_state, &six_per_hour, 0, 7200000 + 3600000, 60000);
    assert_int_equal(rising.raised, 1);
    assert_true(rising.first_raised_ms >= 7200000 + 450000); /* 0.75 = 15 min at 0.05 */
    assert_true(rising.first_raised_ms <= 7200000 + 3600000);

    struct rule_state drifting_state = fresh_state();
    struct ramp two_per_hour = {20.0, 0, UINT64_MAX, 2.0 / 60};
    assert_int_equal(
        run_ramp_every(&slow_rise, &drifting_state, &two_per_hour, 0, 36000000, 60000).raised, 0);
}

static void test_rate_continuing_rise_raises_once_and_stays_raised(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    struct ramp rise = {20.0, 0, UINT64_MAX, 6.0};
    struct run run = run_ramp(&temperature_rising, &state, &rise, 0, 1200000);
    assert_int_equal(run.raised, 1);
    assert_int_equal(run.cleared, 0);
    assert_true(state.active);
}

static void test_rate_clears_within_a_window_after_the_rise_stops(void **unused)
{
    (void)unused;
    double clear_rates[] = {2.0, 5.0};
    double slopes[] = {6.0, 30.0};
    for (size_t c = 0; c < 2; c++) {
        for (size_t s = 0; s < 2; s++) {
            for (size_t p = 0; p < sizeof poll_intervals_ms / sizeof poll_intervals_ms[0]; p++) {
                uint64_t poll_ms = poll_intervals_ms[p];
                struct rule_def temperature_rising = rule_of(RULE_RATE_ABOVE, 5.0, clear_rates[c]);
                struct rule_state state = fresh_state();
                struct ramp rise_then_flat = {20.0, 60000, 150000, slopes[s]};
                struct run run = run_ramp_every(&temperature_rising, &state, &rise_then_flat, 0,
                                                600000, poll_ms);
                assert_int_equal(run.raised, 1);
                assert_int_equal(run.cleared, 1);
                assert_true(run.first_cleared_ms > 150000);
                /* Every low from before the stop is out of the window; one reading confirms. */
                if (run.first_cleared_ms > 150000 + MINUTE_MS + 2 * poll_ms)
                    fail_msg("%g/min stopped at 150000 cleared (below %g) at %llu, poll %llu ms",
                             slopes[s], clear_rates[c], (unsigned long long)run.first_cleared_ms,
                             (unsigned long long)poll_ms);
                assert_false(state.active);
                assert_true(state.value < clear_rates[c]);
            }
        }
    }
}

static void test_rate_clears_only_below_clear_threshold(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = temperature_rising_rule(); /* clears below 2/min */
    struct rule_state state = fresh_state();
    uint64_t now = 0;
    double value = 20.0;
    int raised = 0, cleared = 0;
    uint64_t cleared_ms = 0;
    /* 6/min for 2 min, 3/min for 5 min (inside the band), then 1/min. */
    for (; now < 900000; now += POLL_MS) {
        double slope = now < 120000 ? 6.0 : now < 420000 ? 3.0 : 1.0;
        enum rule_transition t = rules_eval(&temperature_rising, &state, value, now);
        raised += t == RULE_RAISED;
        if (t == RULE_CLEARED && cleared++ == 0)
            cleared_ms = now;
        value += slope * POLL_MS / MINUTE_MS;
    }
    assert_int_equal(raised, 1);
    assert_int_equal(cleared, 1);
    assert_true(cleared_ms > 420000);
    assert_true(cleared_ms <= 420000 + MINUTE_MS + 2 * POLL_MS);
}

static void test_rate_noisy_dip_during_a_rise_does_not_clear(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = rule_of(RULE_RATE_ABOVE, 5.0, 5.0);
    struct rule_state state = fresh_state();
    struct ramp rise = {20.0, 0, UINT64_MAX, 8.0};
    int raised = 0, cleared = 0;
    for (uint64_t now = 0; now < 600000; now += POLL_MS) {
        double value = ramp_value(&rise, now);
        if (now % 14000 == 0 && now > 0)
            value -= 3.0; /* a reading well below the previous ones, every 14 s */
        enum rule_transition t = rules_eval(&temperature_rising, &state, value, now);
        raised += t == RULE_RAISED;
        cleared += t == RULE_CLEARED;
    }
    assert_int_equal(raised, 1);
    assert_int_equal(cleared, 0);
}

static void test_rate_with_for_ms_needs_the_rise_to_last(void **unused)
{
    (void)unused;
    struct ramp rise = {20.0, 30000, UINT64_MAX, 6.0};
    struct rule_def at_once = temperature_rising_rule();
    struct rule_state at_once_state = fresh_state();
    struct run without_delay = run_ramp(&at_once, &at_once_state, &rise, 0, 300000);

    struct rule_def delayed = temperature_rising_rule();
    delayed.for_ms = 30000;
    struct rule_state delayed_state = fresh_state();
    struct run with_delay = run_ramp(&delayed, &delayed_state, &rise, 0, 300000);
    assert_int_equal(with_delay.raised, 1);
    assert_int_equal(with_delay.first_raised_ms, without_delay.first_raised_ms + 30000);
}

static void test_rate_short_rise_does_not_outlast_for_ms(void **unused)
{
    (void)unused;
    /* Rises 6/min for a minute then stays flat: judged rising for less than 90 s. */
    struct rule_def temperature_rising = temperature_rising_rule();
    temperature_rising.for_ms = 90000;
    struct rule_state state = fresh_state();
    struct ramp short_rise = {20.0, 0, 60000, 6.0};
    struct run run = run_ramp(&temperature_rising, &state, &short_rise, 0, 600000);
    assert_int_equal(run.raised, 0);
}

static void test_rate_gap_longer_than_the_window_is_not_judged(void **unused)
{
    (void)unused;
    /* Offline from 100 s to 300 s; 20 -> 40 over 200 s is 6/min, but over no window. */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    struct run before = run_ramp(&temperature_rising, &state, &flat_at_20, 0, 100000);
    struct ramp at_40 = {40.0, UINT64_MAX, UINT64_MAX, 0.0};
    struct run after = run_ramp(&temperature_rising, &state, &at_40, 300000, 600000);
    assert_int_equal(before.raised + after.raised, 0);
}

static void test_rate_rise_over_more_than_the_window_does_not_count(void **unused)
{
    (void)unused;
    /* 20 -> 27 in 61 s is 6.9/min, but over more than the 60 s window. */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    assert_transition(rules_eval(&temperature_rising, &state, 20.0, 15000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 27.0, 76000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 27.0, 78000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 27.0, 80000), RULE_NO_CHANGE);
    assert_false(state.active);
}

static void test_rate_clock_going_back_starts_the_history_again(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    run_ramp(&temperature_rising, &state, &flat_at_20, 500000, 600000);
    /* Back to 0 s at a higher value: not measured against the readings "in the future". */
    assert_transition(rules_eval(&temperature_rising, &state, 30.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 30.0, 2000), RULE_NO_CHANGE);
    struct ramp at_30 = {30.0, UINT64_MAX, UINT64_MAX, 0.0};
    assert_int_equal(run_ramp(&temperature_rising, &state, &at_30, 4000, 200000).raised, 0);
}

static void test_rate_restored_active_alarm_clears_on_the_third_flat_reading(void **unused)
{
    (void)unused;
    /* After a restart the alarm store marks the alarm active; the history is empty. */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    state.active = true;
    assert_transition(rules_eval(&temperature_rising, &state, 40.0, 0), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 40.0, 2000), RULE_NO_CHANGE);
    assert_true(state.active);
    assert_transition(rules_eval(&temperature_rising, &state, 40.0, 4000), RULE_CLEARED);
}

static void test_rate_state_carries_over_when_copied(void **unused)
{
    (void)unused;
    /* A reload copies rule states by assignment; the copy must judge as the original. */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state original = fresh_state();
    struct ramp rise = {20.0, 100000, UINT64_MAX, 30.0};
    run_ramp(&temperature_rising, &original, &rise, 0, 102000);
    struct rule_state copy = original;
    struct run original_run = run_ramp(&temperature_rising, &original, &rise, 102000, 200000);
    struct run copy_run = run_ramp(&temperature_rising, &copy, &rise, 102000, 200000);
    assert_int_equal(copy_run.raised, 1);
    assert_int_equal(copy_run.first_raised_ms, original_run.first_raised_ms);
}

static void test_rate_new_window_length_starts_the_history_again(void **unused)
{
    (void)unused;
    /* A reload that changed rate_window_ms: the slices of the old window mean nothing. */
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    run_ramp(&temperature_rising, &state, &flat_at_20, 0, 100000);
    temperature_rising.rate_window_ms = 2 * MINUTE_MS;
    assert_transition(rules_eval(&temperature_rising, &state, 30.0, 100000), RULE_NO_CHANGE);
    assert_transition(rules_eval(&temperature_rising, &state, 30.0, 102000), RULE_NO_CHANGE);
    assert_int_equal(state.rate.slice_ms, 2 * MINUTE_MS / RULES_RATE_SLICES);
}

static void test_rate_infinite_and_nan_readings_are_skipped(void **unused)
{
    (void)unused;
    struct rule_def temperature_rising = temperature_rising_rule();
    struct rule_state state = fresh_state();
    run_ramp(&temperature_rising, &state, &flat_at_20, 0, 100000);
    double odd[] = {INFINITY, NAN, -INFINITY, INFINITY};
    for (size_t i = 0; i < 4; i++)
        assert_transition(rules_eval(&temperature_rising, &state, odd[i], 100000 + i * POLL_MS),
                          RULE_NO_CHANGE);
    assert_false(state.active);
    assert_int_equal(run_ramp(&temperature_rising, &state, &flat_at_20, 108000, 300000).raised, 0);
    assert_close(state.value, 0.0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_starts_clear_with_nothing_timed),
        cmocka_unit_test(test_above_raises_when_value_reaches_threshold),
        cmocka_unit_test(test_gas_high_clears_only_below_clear_threshold),
        cmocka_unit_test(test_value_chattering_around_threshold_raises_once),
        cmocka_unit_test(test_active_alarm_does_not_raise_again),
        cmocka_unit_test(test_alarm_raises_again_after_it_cleared),
        cmocka_unit_test(test_raised_at_is_the_time_of_the_raise),
        cmocka_unit_test(test_state_value_is_the_last_reading),
        cmocka_unit_test(test_above_without_hysteresis_clears_just_below_threshold),
        cmocka_unit_test(test_below_raises_when_value_reaches_threshold),
        cmocka_unit_test(test_below_clears_only_above_clear_threshold),
        cmocka_unit_test(test_below_chattering_inside_band_raises_once),
        cmocka_unit_test(test_equals_raises_on_a_set_bit_and_clears_when_it_drops),
        cmocka_unit_test(test_equals_on_a_cleared_bit_raises_on_zero),
        cmocka_unit_test(test_equals_tolerates_the_rounding_of_scaled_values),
        cmocka_unit_test(test_equals_does_not_match_the_next_step),
        cmocka_unit_test(test_not_equals_raises_on_a_fault_code_and_clears_on_zero),
        cmocka_unit_test(test_for_ms_zero_raises_on_the_first_reading),
        cmocka_unit_test(test_for_ms_raises_only_after_condition_held_that_long),
        cmocka_unit_test(test_for_ms_dip_restarts_the_timer),
        cmocka_unit_test(test_for_ms_dip_into_hysteresis_band_also_restarts_the_timer),
        cmocka_unit_test(test_clear_for_ms_clears_only_after_clear_condition_held_that_long),
        cmocka_unit_test(test_clear_for_ms_return_into_band_restarts_the_clear_timer),
        cmocka_unit_test(test_for_ms_times_a_new_raise_from_scratch_after_clearing),
        cmocka_unit_test(test_for_ms_holds_across_missed_polls),
        cmocka_unit_test(test_nan_reading_neither_raises_nor_clears_nor_restarts_timers),
        cmocka_unit_test(test_timer_restarts_when_the_clock_goes_back),
        cmocka_unit_test(test_disabled_rule_never_raises),
        cmocka_unit_test(test_disabling_an_active_rule_clears_it),
        cmocka_unit_test(test_offline_raises_after_n_failures_and_clears_on_first_good_poll),
        cmocka_unit_test(test_offline_good_poll_resets_the_failure_count),
        cmocka_unit_test(test_offline_after_one_raises_on_the_first_failure),
        cmocka_unit_test(test_offline_state_value_counts_failed_polls),
        cmocka_unit_test(test_offline_rule_ignores_values_and_value_rules_ignore_polls),
        cmocka_unit_test(test_rate_30_per_minute_raises_within_15_s_at_every_poll_interval),
        cmocka_unit_test(test_rate_just_over_the_threshold_raises_within_the_window),
        cmocka_unit_test(test_rate_slow_drift_never_raises_however_long_it_lasts),
        cmocka_unit_test(test_rate_noisy_flat_signal_never_raises),
        cmocka_unit_test(test_rate_noise_on_a_fast_rise_still_raises),
        cmocka_unit_test(test_rate_step_after_a_long_flat_period_raises_on_the_reading_after_it),
        cmocka_unit_test(test_rate_small_step_after_a_long_flat_period_never_raises),
        cmocka_unit_test(test_rate_single_spike_does_not_raise),
        cmocka_unit_test(test_rate_single_dip_is_not_the_start_of_a_rise),
        cmocka_unit_test(test_rate_flat_value_never_raises),
        cmocka_unit_test(test_rate_flat_value_never_raises_even_with_threshold_zero),
        cmocka_unit_test(test_rate_needs_two_judged_readings_after_a_fresh_start),
        cmocka_unit_test(test_rate_rise_after_a_fall_is_measured_from_the_low_point),
        cmocka_unit_test(test_rate_falling_value_never_raises_and_judges_a_negative_rate),
        cmocka_unit_test(test_rate_is_per_minute_whatever_the_window),
        cmocka_unit_test(test_rate_long_window_judges_slow_rises),
        cmocka_unit_test(test_rate_continuing_rise_raises_once_and_stays_raised),
        cmocka_unit_test(test_rate_clears_within_a_window_after_the_rise_stops),
        cmocka_unit_test(test_rate_clears_only_below_clear_threshold),
        cmocka_unit_test(test_rate_noisy_dip_during_a_rise_does_not_clear),
        cmocka_unit_test(test_rate_with_for_ms_needs_the_rise_to_last),
        cmocka_unit_test(test_rate_short_rise_does_not_outlast_for_ms),
        cmocka_unit_test(test_rate_gap_longer_than_the_window_is_not_judged),
        cmocka_unit_test(test_rate_rise_over_more_than_the_window_does_not_count),
        cmocka_unit_test(test_rate_clock_going_back_starts_the_history_again),
        cmocka_unit_test(test_rate_restored_active_alarm_clears_on_the_third_flat_reading),
        cmocka_unit_test(test_rate_state_carries_over_when_copied),
        cmocka_unit_test(test_rate_new_window_length_starts_the_history_again),
        cmocka_unit_test(test_rate_infinite_and_nan_readings_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
