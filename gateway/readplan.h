/*
 * readplan.h — the Modbus reads that fetch every point of one profile, with
 * neighbouring points merged into as few requests as the profile allows.
 *
 * Pure: built once per profile when the configuration loads, then read-only,
 * so every bus polling devices of that profile may share it. The plan
 * owns its arrays; readplan_free releases them.
 *
 * The poll loop reads each request into one buffer of buffer_count elements
 * (registers, or bits widened to 0/1 for coils and discrete inputs), request r
 * at buffer + requests[r].buffer_offset. Point p's first register is then
 * buffer[readplan_point_buffer_index(plan, p)], ready for codec_decode.
 */
#ifndef SAFETYGW_READPLAN_H
#define SAFETYGW_READPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Longest reads the Modbus spec allows (Application Protocol v1.1b3, §6.1–6.4). */
#define READPLAN_MAX_REGISTERS 125
#define READPLAN_MAX_BITS 2000

struct read_request {
    enum point_table table;
    uint16_t address;     /* first register or bit read */
    uint16_t count;       /* registers or bits read */
    size_t buffer_offset; /* where this request's data starts in the device buffer */
};

struct read_plan {
    struct read_request *requests; /* by table (coil, discrete, input, holding), then address */
    size_t request_count;
    size_t buffer_count; /* sum of every request's count */
    /* For each point of the profile, in profile order: */
    uint16_t *point_request; /* index into requests */
    uint16_t *point_offset;  /* registers or bits from that request's first address */
    size_t point_count;
};

/*
 * Plans the reads of profile's points. Points are merged into one request
 * while they are in the same table, the unused registers (or bits) between
 * them are at most profile->max_gap, and the request stays within
 * profile->max_registers (registers) or READPLAN_MAX_BITS (coils, discrete
 * inputs). A 32-bit point is never split across two requests. Among plans
 * obeying these rules it has the fewest requests.
 *
 * Returns 0, or -1 with the reason in error (plan then empty): max_registers
 * is 0, or a point does not fit in one read or runs past address 65535.
 */
int readplan_build(const struct profile *profile, struct read_plan *plan, char *error,
                   size_t error_size);

void readplan_free(struct read_plan *plan);

/* Index of point_index's first register in the device buffer. */
static inline size_t readplan_point_buffer_index(const struct read_plan *plan, size_t point_index)
{
    return plan->requests[plan->point_request[point_index]].buffer_offset +
           plan->point_offset[point_index];
}

#endif
