/*
 * wire_budget.h — how much of an RS-485 line's time its polling needs, before
 * the daemon runs: for each device, the wire time of its read plan (request
 * and reply bytes at the bus's baud rate and framing, two t3.5 silences and
 * the device's reply latency per request, plus gap_ms), over its poll_ms.
 * Summed over the bus that is its load: over 100 % the bus cannot poll every
 * device at its interval. WIRE_BUDGET_RETRY_PERCENT of the time is left for
 * retries of offline devices (each costs a whole timeout; the poller keeps
 * them within that share, bus.c), so 100 % is reached a little before the
 * wire is full.
 *
 * Pure: the caller feeds it devices (their plans and intervals) and gets the
 * figures, and what would fit instead: fewer devices, a faster baud rate, a
 * longer poll_ms. `safetygw check` prints them; `status` shows the planned
 * load beside the measured cycle.
 */
#ifndef SAFETYGW_WIRE_BUDGET_H
#define SAFETYGW_WIRE_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "readplan.h"

#define WIRE_BUDGET_RETRY_PERCENT 5    /* of a bus's time kept for retries of offline devices */
#define WIRE_BUDGET_REPLY_LATENCY_MS 5 /* assumed device turnaround before it answers */

struct wire_budget {
    const struct bus_def *bus;
    size_t devices;
    size_t requests;           /* reads of one cycle (every device once) */
    uint64_t bytes;            /* their request and reply bytes */
    uint32_t shortest_poll_ms; /* 0 while there is no device */
    double bytes_per_ms;       /* sum over the devices of their bytes / their poll_ms */
    double requests_per_ms;    /* sum over the devices of their reads / their poll_ms */
};

/* What would bring an overloaded bus to 100 %, each on its own. */
struct wire_budget_fit {
    size_t devices;            /* at most this many of its devices (of the same mix) */
    uint32_t baud;             /* the slowest standard rate that fits; 0: none does */
    double poll_factor;        /* every poll_ms times this */
    uint32_t shortest_poll_ms; /* the shortest poll_ms times poll_factor, up to the next 100 ms */
};

/* Wire time of one read request of plan at the bus's settings, milliseconds. */
double wire_budget_request_ms(const struct bus_def *bus, const struct read_request *request);

/* Starts the budget of an rtu bus. */
void wire_budget_start(struct wire_budget *budget, const struct bus_def *bus);

/* Adds one device: its read plan and poll interval. */
void wire_budget_add(struct wire_budget *budget, const struct read_plan *plan, uint32_t poll_ms);

/* Wire time of one cycle, every device polled once, at the bus's settings. */
double wire_budget_cycle_ms(const struct wire_budget *budget);

/* The share of the bus's time polling needs, retries' share included: 1.0 = full. */
double wire_budget_load(const struct wire_budget *budget);

/* The same devices at another baud rate. */
double wire_budget_load_at(const struct wire_budget *budget, uint32_t baud);

/* What would fit (meaningful when the load is over 1). */
struct wire_budget_fit wire_budget_what_fits(const struct wire_budget *budget);

#endif
