/*
 * stats_json.h — a bus's statistics and its devices' counts as JSON, the
 * part P/health (health.c) and the control socket's `status`
 * (control_answer.c) share. Pure: built from snapshots and bus_stats copied
 * under the bus's snapshot lock; each function's json_t is the caller's.
 */
#ifndef SAFETYGW_STATS_JSON_H
#define SAFETYGW_STATS_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "snapshot.h"

/* How many devices of a set are in each state. */
struct device_counts {
    size_t by_state[SNAPSHOT_OFFLINE + 1];
    size_t online;
    size_t in_alarm; /* with at least one active alarm (also when offline) */
    size_t total;
};

/* Counts one device, in state. */
void stats_json_count_device(struct device_counts *counts, const struct device_snapshot *device,
                             enum snapshot_state state);

/*
 * name, type, link_up, bus_down, cycle_ms (rounded), polls_ok, polls_failed
 * and error_rate (failed / all polls, 0 before any): the caller adds its own.
 */
json_t *stats_json_bus(const struct bus_def *bus, const struct bus_stats *stats);

#endif
