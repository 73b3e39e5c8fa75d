#include "schedule.h"

#include <stdlib.h>

#include "device.h"

int schedule_init(struct schedule *schedule, size_t capacity)
{
    schedule->heap = calloc(capacity ? capacity : 1, sizeof *schedule->heap);
    schedule->count = 0;
    schedule->capacity = capacity;
    return schedule->heap ? 0 : -1;
}

void schedule_free(struct schedule *schedule)
{
    free(schedule->heap);
    schedule->heap = NULL;
    schedule->count = schedule->capacity = 0;
}

/*
 * Equal due times (every device of a bus starts due at once) are broken by the
 * device's fixed place on the bus, so the round keeps its order and each
 * device is polled every poll_ms, not somewhere between half and twice that.
 */
static int due_before(const struct device *a, const struct device *b)
{
    if (a->next_due_ms != b->next_due_ms)
        return a->next_due_ms < b->next_due_ms;
    return a->schedule_rank < b->schedule_rank;
}

static void swap(struct device **heap, size_t i, size_t j)
{
    struct device *held = heap[i];
    heap[i] = heap[j];
    heap[j] = held;
}

void schedule_clear(struct schedule *schedule)
{
    schedule->count = 0;
}

void schedule_push(struct schedule *schedule, struct device *device)
{
    if (schedule->count == schedule->capacity)
        return; /* every device of a bus is in its schedule at most once */
    size_t child = schedule->count++;
    schedule->heap[child] = device;
    while (child > 0) {
        size_t parent = (child - 1) / 2;
        if (!due_before(schedule->heap[child], schedule->heap[parent]))
            break;
        swap(schedule->heap, child, parent);
        child = parent;
    }
}

struct device *schedule_peek(const struct schedule *schedule)
{
    return schedule->count ? schedule->heap[0] : NULL;
}

struct device *schedule_pop(struct schedule *schedule)
{
    if (schedule->count == 0)
        return NULL;
    struct device *first = schedule->heap[0];
    schedule->heap[0] = schedule->heap[--schedule->count];
    size_t parent = 0;
    for (;;) {
        size_t smallest = parent, left = 2 * parent + 1, right = left + 1;
        if (left < schedule->count && due_before(schedule->heap[left], schedule->heap[smallest]))
            smallest = left;
        if (right < schedule->count && due_before(schedule->heap[right], schedule->heap[smallest]))
            smallest = right;
        if (smallest == parent)
            break;
        swap(schedule->heap, parent, smallest);
        parent = smallest;
    }
    return first;
}
