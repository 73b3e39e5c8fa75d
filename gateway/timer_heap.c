#include "timer_heap.h"

#include <stdlib.h>

void timer_entry_init(struct timer_entry *entry)
{
    *entry = (struct timer_entry){.deadline_us = UINT64_MAX, .index = TIMER_HEAP_NONE};
}

void timer_heap_init(struct timer_heap *heap)
{
    *heap = (struct timer_heap){0};
}

void timer_heap_free(struct timer_heap *heap)
{
    free(heap->entries);
    *heap = (struct timer_heap){0};
}

int timer_heap_reserve(struct timer_heap *heap, size_t count)
{
    if (count <= heap->capacity)
        return 0;
    struct timer_entry **grown = realloc(heap->entries, count * sizeof *grown);
    if (!grown)
        return -1;
    heap->entries = grown;
    heap->capacity = count;
    return 0;
}

static void place(struct timer_heap *heap, size_t index, struct timer_entry *entry)
{
    heap->entries[index] = entry;
    entry->index = index;
}

static void sift_up(struct timer_heap *heap, size_t index)
{
    struct timer_entry *entry = heap->entries[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (heap->entries[parent]->deadline_us <= entry->deadline_us)
            break;
        place(heap, index, heap->entries[parent]);
        index = parent;
    }
    place(heap, index, entry);
}

static void sift_down(struct timer_heap *heap, size_t index)
{
    struct timer_entry *entry = heap->entries[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= heap->count)
            break;
        if (child + 1 < heap->count &&
            heap->entries[child + 1]->deadline_us < heap->entries[child]->deadline_us)
            child++;
        if (entry->deadline_us <= heap->entries[child]->deadline_us)
            break;
        place(heap, index, heap->entries[child]);
        index = child;
    }
    place(heap, index, entry);
}

void timer_heap_set(struct timer_heap *heap, struct timer_entry *entry, uint64_t deadline_us)
{
    if (entry->index == TIMER_HEAP_NONE) {
        if (heap->count == heap->capacity)
            return; /* room is reserved when an owner joins */
        entry->deadline_us = deadline_us;
        place(heap, heap->count++, entry);
        sift_up(heap, entry->index);
        return;
    }
    uint64_t before = entry->deadline_us;
    entry->deadline_us = deadline_us;
    if (deadline_us < before)
        sift_up(heap, entry->index);
    else if (deadline_us > before)
        sift_down(heap, entry->index);
}

void timer_heap_remove(struct timer_heap *heap, struct timer_entry *entry)
{
    size_t index = entry->index;
    if (index == TIMER_HEAP_NONE)
        return;
    entry->index = TIMER_HEAP_NONE;
    struct timer_entry *last = heap->entries[--heap->count];
    if (index == heap->count)
        return;
    place(heap, index, last);
    sift_up(heap, index);
    sift_down(heap, last->index);
}

struct timer_entry *timer_heap_first(const struct timer_heap *heap)
{
    return heap->count ? heap->entries[0] : NULL;
}
