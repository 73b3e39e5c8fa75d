/* The per-bus schedule hands out devices in the order they are due. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "device.h"
#include "schedule.h"

static const struct backoff_limits no_floor = {.min_ms = 0, .max_ms = 60000};

static void test_devices_come_out_in_due_order(void **state)
{
    (void)state;
    static const uint64_t due[] = {500, 20, 300, 20, 999, 1, 450, 300};
    enum { COUNT = sizeof due / sizeof due[0] };
    struct device devices[COUNT] = {0};
    struct schedule schedule;
    assert_int_equal(schedule_init(&schedule, COUNT), 0);
    for (size_t i = 0; i < COUNT; i++) {
        devices[i].next_due_ms = due[i];
        schedule_push(&schedule, &devices[i]);
    }
    uint64_t previous = 0;
    for (size_t i = 0; i < COUNT; i++) {
        struct device *next = schedule_pop(&schedule);
        assert_non_null(next);
        assert_true(next->next_due_ms >= previous);
        previous = next->next_due_ms;
    }
    assert_null(schedule_pop(&schedule));
    schedule_free(&schedule);
}

static void test_backed_off_device_waits_behind_healthy_ones(void **state)
{
    (void)state;
    struct device healthy = {.next_due_ms = 1000}, offline = {.next_due_ms = 1000};
    struct device_def def = {.poll_ms = 1000};
    offline.def = &def;
    offline.link = DEVICE_OFFLINE;
    device_schedule_next(&offline, 1000, 1000, no_floor);
    assert_int_equal(offline.backoff_ms, 2000);
    device_schedule_next(&offline, 3000, 3000, no_floor);
    assert_int_equal(offline.backoff_ms, 4000);
    struct schedule schedule;
    assert_int_equal(schedule_init(&schedule, 2), 0);
    schedule_push(&schedule, &offline);
    healthy.next_due_ms = 4000;
    schedule_push(&schedule, &healthy);
    assert_ptr_equal(schedule_pop(&schedule), &healthy);
    schedule_free(&schedule);
}

static void test_backoff_is_capped(void **state)
{
    (void)state;
    struct device_def def = {.poll_ms = 1000};
    struct device offline = {.def = &def, .link = DEVICE_OFFLINE};
    for (int i = 0; i < 20; i++)
        device_schedule_next(&offline, 0, 0, no_floor);
    assert_int_equal(offline.backoff_ms, 60000);
    assert_int_equal(offline.next_due_ms, 60000);
}

static void test_late_bus_keeps_round_robin_from_now(void **state)
{
    (void)state;
    struct device_def def = {.poll_ms = 1000};
    struct device device = {.def = &def, .link = DEVICE_ONLINE};
    device_schedule_next(&device, 1000, 1500, no_floor);
    assert_int_equal(device.next_due_ms, 2000); /* on cadence */
    device_schedule_next(&device, 2000, 5000, no_floor);
    assert_int_equal(device.next_due_ms, 5000); /* fell behind: due now, not in the past */
}

/* Equal due times keep the bus's order, so every device is polled every poll_ms. */
static void test_equal_due_times_keep_the_order_of_the_bus(void **state)
{
    (void)state;
    enum { COUNT = 9 };
    struct device devices[COUNT] = {0};
    struct schedule schedule;
    assert_int_equal(schedule_init(&schedule, COUNT), 0);
    for (size_t round = 0; round < 3; round++) {
        for (size_t i = 0; i < COUNT; i++) {
            devices[i].next_due_ms = 1000 * round;
            devices[i].schedule_rank = i;
            schedule_push(&schedule, &devices[i]);
        }
        for (size_t i = 0; i < COUNT; i++)
            assert_ptr_equal(schedule_pop(&schedule), &devices[i]);
    }
    schedule_free(&schedule);
}

/* The bus's retry budget sets a floor under the back-off, within the cap. */
static void test_retry_budget_is_a_floor_under_the_backoff(void **state)
{
    (void)state;
    struct device_def def = {.poll_ms = 10};
    struct device offline = {.def = &def, .link = DEVICE_OFFLINE};
    device_schedule_next(&offline, 0, 0, (struct backoff_limits){.min_ms = 18000, .max_ms = 60000});
    assert_int_equal(offline.backoff_ms, 18000);
    device_schedule_next(&offline, 0, 0, (struct backoff_limits){.min_ms = 18000, .max_ms = 60000});
    assert_int_equal(offline.backoff_ms, 36000);
    device_schedule_next(&offline, 0, 0, (struct backoff_limits){.min_ms = 90000, .max_ms = 60000});
    assert_int_equal(offline.backoff_ms, 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices_come_out_in_due_order),
        cmocka_unit_test(test_backed_off_device_waits_behind_healthy_ones),
        cmocka_unit_test(test_backoff_is_capped),
        cmocka_unit_test(test_late_bus_keeps_round_robin_from_now),
        cmocka_unit_test(test_equal_due_times_keep_the_order_of_the_bus),
        cmocka_unit_test(test_retry_budget_is_a_floor_under_the_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
