/*
 * health.h — gateway and per-bus statistics, published as P/health every
 * health_interval_ms (QoS 0: a missed one is replaced by the next).
 */
#ifndef SAFETYGW_HEALTH_H
#define SAFETYGW_HEALTH_H

#include <stdint.h>

#include "runtime.h"

/* The P/health payload (malloc'd JSON), read from the buses' snapshots. */
char *health_payload(struct runtime *runtime, uint64_t started_wall_ms);

void health_publish(struct runtime *runtime, uint64_t started_wall_ms);

#endif
