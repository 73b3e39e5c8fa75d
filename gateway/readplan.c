/*
 * readplan.c — merges a profile's points into few Modbus read requests.
 *
 * Points are sorted by (table, address) and swept once: each point joins the
 * open request when the merge rules allow it, else it opens the next request.
 * Any set of points one request may hold is a run of neighbours in that
 * order, and dropping points from either end of a run never breaks the rules
 * (the span shrinks, the gaps inside stay), so this greedy sweep yields the
 * fewest requests.
 *
 * Ownership: readplan_build allocates the plan's three arrays once;
 * readplan_free releases them. Nothing is allocated while polling.
 */
#include "readplan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

static void set_error(char *error, size_t error_size, const char *format, ...)
{
    if (error == NULL || error_size == 0)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, error_size, format, args);
    va_end(args);
}

static bool is_bit_table(enum point_table table)
{
    return table == TABLE_COIL || table == TABLE_DISCRETE;
}

/* Longest read of table this profile allows. */
static unsigned request_limit(const struct profile *profile, enum point_table table)
{
    if (is_bit_table(table))
        return READPLAN_MAX_BITS;
    if (profile->max_registers > READPLAN_MAX_REGISTERS)
        return READPLAN_MAX_REGISTERS;
    return profile->max_registers;
}

/* What the sweep orders points by; index keeps profile order among equals. */
struct sort_key {
    enum point_table table;
    uint16_t address;
    size_t index;
};

static int compare_sort_keys(const void *a, const void *b)
{
    const struct sort_key *p = a;
    const struct sort_key *q = b;
    if (p->table != q->table)
        return p->table < q->table ? -1 : 1;
    if (p->address != q->address)
        return p->address < q->address ? -1 : 1;
    return p->index < q->index ? -1 : p->index > q->index;
}

static int check_point_fits(const struct profile *profile, const struct point_def *point,
                            char *error, size_t error_size)
{
    unsigned width = codec_point_width(point);
    unsigned limit = request_limit(profile, point->table);
    if (limit < width) {
        set_error(error, error_size,
                  "profile %s: point %s (%s %u) needs %u registers, more than max_registers %u",
                  profile->name, point->name, point_table_name(point->table), point->address, width,
                  limit);
        return -1;
    }
    if ((unsigned)point->address + width - 1 > UINT16_MAX) {
        set_error(error, error_size, "profile %s: point %s (%s %u) runs past address 65535",
                  profile->name, point->name, point_table_name(point->table), point->address);
        return -1;
    }
    return 0;
}

static int allocate_plan(struct read_plan *plan, size_t point_count)
{
    /* Never more requests than points. calloc(0) may return NULL: ask for one. */
    size_t capacity = point_count > 0 ? point_count : 1;
    plan->requests = calloc(capacity, sizeof *plan->requests);
    plan->point_request = calloc(capacity, sizeof *plan->point_request);
    plan->point_offset = calloc(capacity, sizeof *plan->point_offset);
    if (plan->requests == NULL || plan->point_request == NULL || plan->point_offset == NULL) {
        readplan_free(plan);
        return -1;
    }
    plan->point_count = point_count;
    return 0;
}

/* Whether point can join request without breaking the merge rules. */
static bool can_merge(const struct profile *profile, const struct read_request *request,
                      const struct point_def *point)
{
    if (request->table != point->table)
        return false;
    unsigned request_end = (unsigned)request->address + request->count; /* one past */
    unsigned point_end = (unsigned)point->address + codec_point_width(point);
    /* Overlapping points (which config rejects) merge with no gap. */
    if (point->address > request_end && point->address - request_end > profile->max_gap)
        return false;
    unsigned merged_end = point_end > request_end ? point_end : request_end;
    return merged_end - request->address <= request_limit(profile, point->table);
}

static void extend_request(struct read_request *request, const struct point_def *point)
{
    unsigned request_end = (unsigned)request->address + request->count;
    unsigned point_end = (unsigned)point->address + codec_point_width(point);
    if (point_end > request_end)
        request->count = (uint16_t)(point_end - request->address);
}

static void assign_buffer_offsets(struct read_plan *plan)
{
    size_t offset = 0;
    for (size_t r = 0; r < plan->request_count; r++) {
        plan->requests[r].buffer_offset = offset;
        offset += plan->requests[r].count;
    }
    plan->buffer_count = offset;
}

int readplan_build(const struct profile *profile, struct read_plan *plan, char *error,
                   size_t error_size)
{
    memset(plan, 0, sizeof *plan);
    if (profile->max_registers == 0) {
        set_error(error, error_size, "profile %s: max_registers is 0", profile->name);
        return -1;
    }
    if (profile->point_count > UINT16_MAX) {
        set_error(error, error_size, "profile %s: %zu points, at most %u can be planned",
                  profile->name, profile->point_count, UINT16_MAX);
        return -1;
    }
    for (size_t i = 0; i < profile->point_count; i++)
        if (check_point_fits(profile, &profile->points[i], error, error_size) < 0)
            return -1;

    size_t key_capacity = profile->point_count > 0 ? profile->point_count : 1;
    struct sort_key *keys = malloc(key_capacity * sizeof *keys);
    if (keys == NULL || allocate_plan(plan, profile->point_count) < 0) {
        free(keys);
        set_error(error, error_size, "profile %s: out of memory planning reads", profile->name);
        return -1;
    }
    for (size_t i = 0; i < profile->point_count; i++)
        keys[i] = (struct sort_key){profile->points[i].table, profile->points[i].address, i};
    qsort(keys, profile->point_count, sizeof *keys, compare_sort_keys);

    struct read_request *current = NULL;
    for (size_t i = 0; i < profile->point_count; i++) {
        size_t point_index = keys[i].index;
        const struct point_def *point = &profile->points[point_index];
        if (current == NULL || !can_merge(profile, current, point)) {
            current = &plan->requests[plan->request_count++];
            current->table = point->table;
            current->address = point->address;
            current->count = 0;
        }
        extend_request(current, point);
        plan->point_request[point_index] = (uint16_t)(current - plan->requests);
        plan->point_offset[point_index] = (uint16_t)(point->address - current->address);
    }
    free(keys);
    assign_buffer_offsets(plan);
    return 0;
}

void readplan_free(struct read_plan *plan)
{
    free(plan->requests);
    free(plan->point_request);
    free(plan->point_offset);
    memset(plan, 0, sizeof *plan);
}
