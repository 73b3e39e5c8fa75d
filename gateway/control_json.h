/*
 * control_json.h — the JSON objects of the control protocol
 * (docs/control-protocol.md), built from snapshots with Jansson.
 *
 * Pure: everything comes in as arguments; each function returns a new json_t
 * the caller owns.
 */
#ifndef SAFETYGW_CONTROL_JSON_H
#define SAFETYGW_CONTROL_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* RFC 3339 UTC with milliseconds, or null for 0 ("never"). */
json_t *control_json_timestamp(uint64_t wall_ms);

/* One line of `devices`: id, kind, bus, address, state, alarm names, last seen, location. */
json_t *control_json_device_summary(const struct device_snapshot *device,
                                    enum snapshot_state state);

/* `device ID`: the summary plus counters, latency, values, active alarms, sensor life. */
json_t *control_json_device_detail(const struct device_snapshot *device, enum snapshot_state state);

/* One active alarm (rule rule_index of the device), with when it was raised. */
json_t *control_json_alarm(const struct device_snapshot *device, size_t rule_index);

#endif
