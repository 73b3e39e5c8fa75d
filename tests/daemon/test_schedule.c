/* The per-bus schedule hands out devices in the order they are due. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

/*
 * Pushed in an order that is neither their due order nor its reverse, with
 * ties pushed both in and against rank order: they come out by due time, ties
 * by rank. A LIFO, a FIFO or ties broken by push order would each fail.
 */
static void test_pushed_out_of_order_come_out_by_due_time_then_rank(void **state)
{
    (void)state;
    static const struct {
        uint64_t due_ms;
        size_t rank;
    } pushed[] = {
        {300, 5}, {20, 1}, {999, 0}, {300, 2}, {1, 7}, {20, 4}, {450, 3}, {300, 6}, {500, 8},
    };
    enum { COUNT = sizeof pushed / sizeof pushed[0] };
    /* indexes into pushed[], in the order they must come out */
    static const size_t expected[COUNT] = {4, 1, 5, 3, 0, 7, 6, 8, 2};
    struct device devices[COUNT] = {0};
    struct schedule schedule;
    assert_int_equal(schedule_init(&schedule, COUNT), 0);
    for (size_t i = 0; i < COUNT; i++) {
        devices[i].next_due_ms = pushed[i].due_ms;
        devices[i].schedule_rank = pushed[i].rank;
        schedule_push(&schedule, &devices[i]);
    }
    for (size_t i = 0; i < COUNT; i++) {
        assert_ptr_equal(schedule_peek(&schedule), &devices[expected[i]]);
        assert_ptr_equal(schedule_pop(&schedule), &devices[expected[i]]);
    }
    assert_null(schedule_peek(&schedule));
    assert_null(schedule_pop(&schedule));
    schedule_free(&schedule);
}

/* The bus's loop: pop the first, set when it is due again, push it back. */
static void test_a_device_pushed_back_takes_its_place_by_due_time(void **state)
{
    (void)state;
    struct device a = {.next_due_ms = 100, .schedule_rank = 0};
    struct device b = {.next_due_ms = 200, .schedule_rank = 1};
    struct device c = {.next_due_ms = 300, .schedule_rank = 2};
    struct schedule schedule;
    assert_int_equal(schedule_init(&schedule, 3), 0);
    schedule_push(&schedule, &c);
    schedule_push(&schedule, &a);
    schedule_push(&schedule, &b);
    struct device *first = schedule_pop(&schedule);
    assert_ptr_equal(first, &a);
    a.next_due_ms = 250; /* polled, due again between b and c */
    schedule_push(&schedule, &a);
    assert_ptr_equal(schedule_pop(&schedule), &b);
    b.next_due_ms = 250; /* a tie with a: a has the lower rank */
    schedule_push(&schedule, &b);
    assert_ptr_equal(schedule_pop(&schedule), &a);
    assert_ptr_equal(schedule_pop(&schedule), &b);
    assert_ptr_equal(schedule_pop(&schedule), &c);
    assert_null(schedule_pop(&schedule));
    schedule_free(&schedule);
}

static int by_due_then_rank(const void *left, const void *right)
{
    const struct device *a = *(struct device *const *)left, *b = *(struct device *const *)right;
    if (a->next_due_ms != b->next_due_ms)
        return a->next_due_ms < b->next_due_ms ? -1 : 1;
    return a->schedule_rank < b->schedule_rank ? -1 : a->schedule_rank > b->schedule_rank;
}

/* A whole bus (deep heap, many ties) in a scrambled order: the same order as a sort. */
static void test_a_full_bus_comes_out_as_sorted_by_due_time_then_rank(void **state)
{
    (void)state;
    enum { COUNT = 247 };
    static struct device devices[COUNT];
    struct device *sorted[COUNT];
    struct schedule schedule;
    assert_int_equal(schedule_init(&schedule, COUNT), 0);
    uint32_t random = 12345;
    for (size_t i = 0; i < COUNT; i++) {
        random = random * 1103515245u + 12345u; /* a fixed sequence: the test is repeatable */
        devices[i] = (struct device){.next_due_ms = (random >> 16) % 40 * 250,
                                     .schedule_rank = (i * 101) % COUNT};
        sorted[i] = &devices[i];
        schedule_push(&schedule, &devices[i]);
    }
    qsort(sorted, COUNT, sizeof sorted[0], by_due_then_rank);
    for (size_t i = 0; i < COUNT; i++)
        assert_ptr_equal(schedule_pop(&schedule), sorted[i]);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices_come_out_in_due_order),
        cmocka_unit_test(test_pushed_out_of_order_come_out_by_due_time_then_rank),
        cmocka_unit_test(test_a_device_pushed_back_takes_its_place_by_due_time),
        cmocka_unit_test(test_a_full_bus_comes_out_as_sorted_by_due_time_then_rank),
        cmocka_unit_test(test_backed_off_device_waits_behind_healthy_ones),
        cmocka_unit_test(test_equal_due_times_keep_the_order_of_the_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
