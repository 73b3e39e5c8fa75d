/*
 * schedule.h — who is polled next on one bus: a min-heap of devices ordered by
 * the monotonic time they are due. Offline devices are simply due later (their
 * back-off), so they interleave with the healthy ones and never eat the cycle.
 *
 * Owned by the reactor thread (one bus's schedule); not thread-safe.
 */
#ifndef SAFETYGW_SCHEDULE_H
#define SAFETYGW_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

struct device;

struct schedule {
    struct device **heap;
    size_t count;
    size_t capacity;
};

int schedule_init(struct schedule *schedule, size_t capacity);
void schedule_free(struct schedule *schedule);

/* Empties the schedule (a bus that starts again pushes its devices anew). */
void schedule_clear(struct schedule *schedule);

/* Adds a device at its device->next_due_ms. Capacity is fixed at init. */
void schedule_push(struct schedule *schedule, struct device *device);

/* The device due first, or NULL when empty. */
struct device *schedule_peek(const struct schedule *schedule);
struct device *schedule_pop(struct schedule *schedule);

#endif
