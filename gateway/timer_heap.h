/*
 * timer_heap.h — one timer structure for many deadlines: a min-heap of
 * entries (embedded in their owners) ordered by their monotonic deadline.
 * Each entry knows its place in the heap, so a deadline moves or goes in
 * O(log n) without a search. The reactor (reactor.c) keeps one deadline
 * per tcp bus here instead of one timer per socket.
 *
 * Pure and owned by one thread: no locks, no clock reads.
 */
#ifndef SAFETYGW_TIMER_HEAP_H
#define SAFETYGW_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_HEAP_NONE SIZE_MAX /* an entry's index while it is not in the heap */

struct timer_entry {
    uint64_t deadline_us;
    size_t index; /* the heap's: where the entry sits, or TIMER_HEAP_NONE */
};

struct timer_heap {
    struct timer_entry **entries;
    size_t count;
    size_t capacity;
};

/* An entry in no heap. */
void timer_entry_init(struct timer_entry *entry);

void timer_heap_init(struct timer_heap *heap);
void timer_heap_free(struct timer_heap *heap);

/* Room for count entries in all (done when an owner joins, never per deadline). 0 or -1. */
int timer_heap_reserve(struct timer_heap *heap, size_t count);

/* Sets the entry's deadline, adding it when it is not in the heap (room reserved before). */
void timer_heap_set(struct timer_heap *heap, struct timer_entry *entry, uint64_t deadline_us);

/* Takes the entry out, if it is in. */
void timer_heap_remove(struct timer_heap *heap, struct timer_entry *entry);

/* The entry due first, or NULL. */
struct timer_entry *timer_heap_first(const struct timer_heap *heap);

#endif
