/*
 * snapshot.h — what the control socket may know of the live gateway, copied
 * out of the buses' state under each bus's lock.
 *
 * This is the one type that carries live state across threads to the control
 * thread: bus_snapshot_device() holds the device's bus lock only while it copies
 * (no I/O, no allocation), so the pollers are never made to wait on a client.
 * The copy points into the read-only configuration and into buffers the caller
 * owns; nothing in it points back into live state.
 */
#ifndef SAFETYGW_SNAPSHOT_H
#define SAFETYGW_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "rules.h"
#include "shelving.h"

/* A device's condition as the crew sees it (docs/control-protocol.md, "Device states"). */
enum snapshot_state {
    SNAPSHOT_UNKNOWN, /* not polled yet since the daemon started */
    SNAPSHOT_OK,
    SNAPSHOT_FAULT,   /* answers, but some recent polls failed */
    SNAPSHOT_ALARM,   /* answers and has active alarms */
    SNAPSHOT_OFFLINE, /* offline_after polls failed in a row */
};

/* What other threads may read of a bus (bus_snapshot_stats). */
struct bus_stats {
    uint64_t polls_ok;
    uint64_t polls_failed;
    uint64_t reconnects;
    /* replies that came after their request had timed out (dropped) */
    uint64_t late_replies;
    double cycle_ms; /* smoothed interval between polls of the same device */
    bool link_up;
    bool down; /* bus_down is raised (bus_down.h) */
    bool link_silent; /* bus_link_silent() */
};

struct device_snapshot {
    const struct device_def *def; /* configuration: read-only, shared */
    const struct bus_def *bus;
    enum device_link link;
    bool offline_suppressed; /* offline, but its bus's bus_down stands for it */
    uint32_t failed_in_row;
    size_t active_alarm_count;
    struct device_stats stats;
    bool values_valid;
    double *values; /* caller's buffer of point_count entries, or NULL: values not copied */
    struct rule_state *rule_states; /* caller's buffer of rule_count entries, or NULL */
    uint64_t *raised_wall_ms;       /* with rule_states: when each active alarm was raised */
    struct shelving shelvings[SHELVINGS_MAX]; /* by hand; until_wall_ms 0: free slot */
};

/*
 * Copies the device's live state, and its values and rule states (with their
 * raise times) when the buffers are given. The caller holds the snapshot lock
 * of the device's bus: others call bus_snapshot_device() (bus.h).
 */
void snapshot_copy_device(const struct device *device, struct device_snapshot *out);

/*
 * The device's state. failed_before is its polls_failed count some time ago
 * (the fault window): a device that failed a poll since then is "fault".
 */
enum snapshot_state snapshot_state(const struct device_snapshot *snapshot, uint64_t failed_before);

/* "unknown", "ok", "fault", "alarm", "offline"; and back (-1 when not a state name). */
const char *snapshot_state_name(enum snapshot_state state);
int snapshot_state_from_name(const char *name);

#endif
