/* The reactor's one timer structure: deadlines come out first-due first, and move or go in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "timer_heap.h"

enum { COUNT = 9 };

static void fill(struct timer_heap *heap, struct timer_entry *entries, const uint64_t *deadlines)
{
    timer_heap_init(heap);
    assert_int_equal(timer_heap_reserve(heap, COUNT), 0);
    for (size_t i = 0; i < COUNT; i++) {
        timer_entry_init(&entries[i]);
        timer_heap_set(heap, &entries[i], deadlines[i]);
    }
}

/* Pops every entry; asserts they come out in deadline order; returns how many. */
static size_t drain_in_order(struct timer_heap *heap)
{
    uint64_t previous = 0;
    size_t count = 0;
    struct timer_entry *first;
    while ((first = timer_heap_first(heap))) {
        assert_true(first->deadline_us >= previous);
        previous = first->deadline_us;
        timer_heap_remove(heap, first);
        assert_int_equal(first->index, TIMER_HEAP_NONE);
        count++;
    }
    return count;
}

static const uint64_t deadlines[COUNT] = {500, 20, 300, 20, 999, 1, 450, 300, 7};

static void test_deadlines_come_out_first_due_first(void **state)
{
    (void)state;
    struct timer_heap heap;
    struct timer_entry entries[COUNT];
    fill(&heap, entries, deadlines);
    assert_ptr_equal(timer_heap_first(&heap), &entries[5]);
    assert_int_equal(drain_in_order(&heap), COUNT);
    timer_heap_free(&heap);
}

static void test_a_deadline_moved_earlier_or_later_takes_its_new_place(void **state)
{
    (void)state;
    struct timer_heap heap;
    struct timer_entry entries[COUNT];
    fill(&heap, entries, deadlines);
    timer_heap_set(&heap, &entries[4], 0); /* 999 -> 0: first now */
    assert_ptr_equal(timer_heap_first(&heap), &entries[4]);
    timer_heap_set(&heap, &entries[4], 2000); /* and last */
    timer_heap_set(&heap, &entries[5], 400);
    assert_ptr_equal(timer_heap_first(&heap), &entries[8]);
    assert_int_equal(drain_in_order(&heap), COUNT);
    timer_heap_free(&heap);
}

static void test_an_entry_taken_out_from_the_middle_leaves_the_rest_in_order(void **state)
{
    (void)state;
    struct timer_heap heap;
    struct timer_entry entries[COUNT];
    fill(&heap, entries, deadlines);
    timer_heap_remove(&heap, &entries[2]);
    timer_heap_remove(&heap, &entries[2]); /* twice: no harm */
    timer_heap_remove(&heap, &entries[5]);
    assert_int_equal(entries[2].index, TIMER_HEAP_NONE);
    assert_ptr_equal(timer_heap_first(&heap), &entries[8]);
    assert_int_equal(drain_in_order(&heap), COUNT - 2);
    timer_heap_free(&heap);
}

static void test_an_entry_set_again_is_in_the_heap_once(void **state)
{
    (void)state;
    struct timer_heap heap;
    struct timer_entry entries[COUNT];
    fill(&heap, entries, deadlines);
    for (int i = 0; i < 5; i++)
        timer_heap_set(&heap, &entries[0], 100u * (uint64_t)i);
    assert_int_equal(heap.count, COUNT);
    timer_heap_free(&heap);
}

/* Many random moves against a brute-force minimum. */
static void test_the_first_is_always_the_smallest_deadline(void **state)
{
    (void)state;
    enum { MANY = 64 };
    struct timer_heap heap;
    struct timer_entry entries[MANY];
    timer_heap_init(&heap);
    assert_int_equal(timer_heap_reserve(&heap, MANY), 0);
    for (size_t i = 0; i < MANY; i++)
        timer_entry_init(&entries[i]);
    srand(7);
    for (int step = 0; step < 5000; step++) {
        struct timer_entry *entry = &entries[rand() % MANY];
        if (rand() % 4 == 0)
            timer_heap_remove(&heap, entry);
        else
            timer_heap_set(&heap, entry, (uint64_t)(rand() % 1000));
        uint64_t smallest = UINT64_MAX;
        for (size_t i = 0; i < MANY; i++)
            if (entries[i].index != TIMER_HEAP_NONE && entries[i].deadline_us < smallest)
                smallest = entries[i].deadline_us;
        struct timer_entry *first = timer_heap_first(&heap);
        if (smallest == UINT64_MAX)
            assert_null(first);
        else
            assert_int_equal(first->deadline_us, smallest);
    }
    timer_heap_free(&heap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadlines_come_out_first_due_first),
        cmocka_unit_test(test_a_deadline_moved_earlier_or_later_takes_its_new_place),
        cmocka_unit_test(test_an_entry_taken_out_from_the_middle_leaves_the_rest_in_order),
        cmocka_unit_test(test_an_entry_set_again_is_in_the_heap_once),
        cmocka_unit_test(test_the_first_is_always_the_smallest_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
