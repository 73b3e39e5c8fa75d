/*
 * Alarm decisions on the bus thread: every raise and clear becomes one event
 * record, the device's active count and raise times follow, and nothing is
 * numbered or sent here (that is the uplink's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "alarm.h"
#include "device_poll.h"

static struct point_def points[] = {
    {.name = "gas_lel", .table = TABLE_HOLDING, .type = TYPE_UINT16, .scale = 0.1, .unit = "%LEL"},
};
static struct action_def actions[] = {
    {.name = "close_valve", .table = TABLE_COIL, .address = 0, .value = 1, .count = 1},
};
static struct rule_def rules[] = {
    {.name = "gas_high",
     .kind = RULE_ABOVE,
     .point_index = 0,
     .bit = -1,
     .threshold = 25,
     .clear_threshold = 20,
     .severity = SEVERITY_CRITICAL,
     .action_index = 0,
     .action_param = -1,
     .enabled = true},
    {.name = "offline",
     .kind = RULE_OFFLINE,
     .point_index = -1,
     .bit = -1,
     .offline_after_polls = 2,
     .severity = SEVERITY_MAJOR,
     .action_index = -1,
     .action_param = -1,
     .enabled = true},
};
static struct profile profile = {.name = "gas-alarm",
                                 .kind = "gas_alarm",
                                 .points = points,
                                 .point_count = 1,
                                 .actions = actions,
                                 .action_count = 1,
                                 .rules = rules,
                                 .rule_count = 2};
static struct device_def def = {
    .id = "gas-1", .profile = &profile, .address = 1, .rules = rules, .rule_count = 2};

struct fixture {
    struct device device;
    struct alarm_event events[2 * ALARM_EVENTS_PER_RULE];
    struct alarm_decisions decisions;
};

static int setup(void **state)
{
    static struct fixture fixture;
    memset(&fixture, 0, sizeof fixture);
    assert_int_equal(device_init(&fixture.device, &def, NULL), 0);
    fixture.decisions.events = fixture.events;
    *state = &fixture;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fixture = *state;
    device_free(&fixture->device);
    rules[0].chatter_raises = 0;
    profile.fast_poll_ms = 0;
    return 0;
}

/* One good poll with the gas reading given, judged at now_ms. */
static void poll_gas(struct fixture *fixture, double gas, uint64_t now_ms)
{
    fixture->device.values[0] = gas;
    fixture->device.values_valid = true;
    alarm_evaluate(&fixture->device, true, now_ms, 1000000 + now_ms, &fixture->decisions);
}

static void test_gas_over_threshold_gives_one_raised_event_with_its_interlock(void **state)
{
    struct fixture *fixture = *state;
    poll_gas(fixture, 30, 1000);
    assert_int_equal(fixture->decisions.count, 1);
    const struct alarm_event *event = &fixture->events[0];
    assert_true(event->raised);
    assert_ptr_equal(event->rule, &rules[0]);
    assert_ptr_equal(event->device, &def);
    assert_true(event->value == 30);
    assert_int_equal(event->raised_at_wall_ms, 1001000);
    assert_int_equal(event->seq, 0); /* numbered by the uplink, not here */
    assert_ptr_equal(alarm_interlock(&fixture->device, event->rule), &actions[0]);
    assert_int_equal(fixture->device.active_alarm_count, 1);
}

static void test_an_active_alarm_is_not_raised_again(void **state)
{
    struct fixture *fixture = *state;
    poll_gas(fixture, 30, 1000);
    poll_gas(fixture, 35, 2000);
    assert_int_equal(fixture->decisions.count, 0);
    assert_int_equal(fixture->device.active_alarm_count, 1);
}

static void test_clear_carries_the_time_it_was_raised(void **state)
{
    struct fixture *fixture = *state;
    poll_gas(fixture, 30, 1000);
    poll_gas(fixture, 10, 5000);
    assert_int_equal(fixture->decisions.count, 1);
    const struct alarm_event *event = &fixture->events[0];
    assert_false(event->raised);
    assert_int_equal(event->raised_at_wall_ms, 1001000);
    assert_int_equal(event->ts_wall_ms, 1005000);
    assert_int_equal(fixture->device.active_alarm_count, 0);
}

static void test_failed_polls_raise_offline_but_no_value_alarm(void **state)
{
    struct fixture *fixture = *state;
    alarm_evaluate(&fixture->device, false, 1000, 1001000, &fixture->decisions);
    assert_int_equal(fixture->decisions.count, 0);
    alarm_evaluate(&fixture->device, false, 2000, 1002000, &fixture->decisions);
    assert_int_equal(fixture->decisions.count, 1);
    assert_ptr_equal(fixture->events[0].rule, &rules[1]);
    assert_true(fixture->events[0].raised);
    assert_null(alarm_interlock(&fixture->device, &rules[1]));
}

/* gas_high with chattering on: 3 raises within 60 s shelve it for 10 min. */
static void chatter_on(void)
{
    rules[0].chatter_raises = 3;
    rules[0].chatter_window_ms = 60000;
    rules[0].shelve_ms = 600000;
}

static void test_third_raise_within_a_minute_shelves_the_alarm(void **state)
{
    struct fixture *fixture = *state;
    chatter_on();
    poll_gas(fixture, 30, 1000);
    poll_gas(fixture, 10, 2000);
    poll_gas(fixture, 30, 3000);
    poll_gas(fixture, 10, 4000);
    poll_gas(fixture, 30, 5000);
    assert_int_equal(fixture->decisions.count, 2);
    assert_true(fixture->events[0].raised);
    assert_false(fixture->events[0].held_back); /* the third raise still goes out */
    assert_true(fixture->events[1].shelved);
    assert_string_equal(fixture->events[1].reason, "chattering");
    assert_int_equal(fixture->events[1].shelved_until_wall_ms, 1005000 + 600000);
}

static void test_shelved_raises_and_clears_are_held_back_but_still_decided(void **state)
{
    struct fixture *fixture = *state;
    chatter_on();
    for (uint64_t t = 1000; t <= 5000; t += 2000) {
        poll_gas(fixture, 30, t);
        poll_gas(fixture, 10, t + 1000);
    }
    assert_int_equal(fixture->decisions.count, 1);
    assert_false(fixture->events[0].raised);
    assert_true(fixture->events[0].held_back);
    poll_gas(fixture, 30, 8000);
    assert_int_equal(fixture->decisions.count, 1);
    assert_true(fixture->events[0].held_back);
    /* the interlock still acts on a held-back raise: the bus runs it */
    assert_ptr_equal(alarm_interlock(&fixture->device, fixture->events[0].rule), &actions[0]);
}

static void test_raises_spread_wider_than_the_window_do_not_shelve(void **state)
{
    struct fixture *fixture = *state;
    chatter_on();
    for (uint64_t t = 1000; t < 200000; t += 40000) {
        poll_gas(fixture, 30, t);
        assert_false(fixture->events[0].held_back);
        assert_int_equal(fixture->decisions.count, 1);
        poll_gas(fixture, 10, t + 1000);
    }
}

static void test_shelving_ends_with_a_new_raise_when_the_condition_holds(void **state)
{
    struct fixture *fixture = *state;
    chatter_on();
    for (uint64_t t = 1000; t <= 5000; t += 2000) {
        poll_gas(fixture, 30, t);
        poll_gas(fixture, 10, t + 1000);
    }
    poll_gas(fixture, 30, 7000);
    poll_gas(fixture, 30, 5000 + 600000);
    assert_int_equal(fixture->decisions.count, 1);
    assert_true(fixture->events[0].raised);
    assert_false(fixture->events[0].held_back);
    assert_int_equal(fixture->device.active_alarm_count, 1);
}

static void test_shelving_ends_silently_when_the_condition_is_gone(void **state)
{
    struct fixture *fixture = *state;
    chatter_on();
    for (uint64_t t = 1000; t <= 5000; t += 2000) {
        poll_gas(fixture, 30, t);
        poll_gas(fixture, 10, t + 1000);
    }
    poll_gas(fixture, 10, 5000 + 600000);
    assert_int_equal(fixture->decisions.count, 0);
    assert_int_equal(fixture->device.shelves[0].until_ms, 0);
}

static void test_fast_polling_near_a_critical_threshold_and_in_alarm(void **state)
{
    struct fixture *fixture = *state;
    profile.fast_poll_ms = 500;
    profile.fast_margin_percent = 80;
    poll_gas(fixture, 10, 1000);
    assert_false(alarm_wants_fast_poll(&fixture->device)); /* 10 < 80 % of 25 */
    poll_gas(fixture, 20, 2000);
    assert_true(alarm_wants_fast_poll(&fixture->device)); /* 20 = 80 % of 25 */
    poll_gas(fixture, 30, 3000);
    assert_true(alarm_wants_fast_poll(&fixture->device)); /* in alarm */
    poll_gas(fixture, 10, 4000);
    assert_false(alarm_wants_fast_poll(&fixture->device)); /* calm again */
}

static void test_no_fast_polling_without_fast_poll_in_the_profile(void **state)
{
    struct fixture *fixture = *state;
    poll_gas(fixture, 30, 1000);
    assert_false(alarm_wants_fast_poll(&fixture->device));
}

static void test_retire_clears_with_the_reason(void **state)
{
    struct fixture *fixture = *state;
    poll_gas(fixture, 30, 1000);
    struct alarm_event event = alarm_retire(&fixture->device, 0, "device removed", 1009000);
    assert_false(event.raised);
    assert_string_equal(event.reason, "device removed");
    assert_int_equal(event.raised_at_wall_ms, 1001000);
    assert_int_equal(event.ts_wall_ms, 1009000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_gas_over_threshold_gives_one_raised_event_with_its_interlock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_active_alarm_is_not_raised_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_carries_the_time_it_was_raised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_polls_raise_offline_but_no_value_alarm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_third_raise_within_a_minute_shelves_the_alarm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_shelved_raises_and_clears_are_held_back_but_still_decided, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raises_spread_wider_than_the_window_do_not_shelve,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_shelving_ends_with_a_new_raise_when_the_condition_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shelving_ends_silently_when_the_condition_is_gone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_polling_near_a_critical_threshold_and_in_alarm,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_fast_polling_without_fast_poll_in_the_profile,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_retire_clears_with_the_reason, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
