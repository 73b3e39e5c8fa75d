/*
 * device.h — the live state of one polled device: last values, rule states,
 * online/offline, back-off and health counters.
 *
 * Ownership: each struct device belongs to its bus, which the reactor thread
 * serves; only that thread writes it. Other threads (health, control socket)
 * read the counters, values and rule states only while holding the bus's
 * snapshot_lock, which the reactor thread also holds while it updates them
 * (see bus.h); nothing here does I/O, so that lock is held for a copy's time.
 */
#ifndef SAFETYGW_DEVICE_H
#define SAFETYGW_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "readplan.h"
#include "rules.h"

/*
 * What the current run of failed polls consisted of (zeroed by a good poll),
 * so that the offline log line can name the real failure.
 */
struct failure_run {
    uint32_t timeouts;
    uint32_t crc_errors;
    uint32_t exceptions;
    uint32_t other_errors; /* malformed replies, a reply from another slave */
    uint32_t link_errors;  /* the tty or TCP connection went away */
    uint32_t late_replies; /* its replies found on the bus after their request timed out */
    uint32_t last_exception_code;
};

struct device_stats {
    uint64_t polls_ok;
    uint64_t polls_failed;
    uint64_t timeouts;     /* no (complete) answer in time */
    uint64_t crc_errors;   /* answers with a bad checksum: noise, baud or parity mismatch */
    uint64_t exceptions;   /* Modbus exception replies */
    uint64_t other_errors; /* malformed replies, connection errors */
    uint64_t late_replies; /* its replies that came after the bus's timeout_ms (dropped) */
    uint32_t last_exception_code;
    uint64_t last_seen_wall_ms; /* last good poll; 0 = never */
    uint32_t last_latency_us;   /* whole poll, every request of it */
    uint64_t latency_total_us;  /* over polls_ok, for the mean */
    struct failure_run failing; /* since the last good poll */
};

enum device_link {
    DEVICE_UNKNOWN, /* not answered yet since start */
    DEVICE_ONLINE,
    DEVICE_OFFLINE, /* offline_after polls failed in a row */
};

/* A rule's shelving: its recent raises (chattering) and until when it is shelved. */
struct alarm_shelf {
    uint64_t raises_ms[CHATTER_RAISES_MAX]; /* monotonic, a ring of the latest raises */
    uint32_t raise_count;                   /* entries of raises_ms in use */
    uint32_t next_raise;                    /* where the next raise goes in the ring */
    uint64_t until_ms;                      /* monotonic end of the shelving; 0: not shelved */
    uint64_t until_wall_ms;
};

struct shelving; /* shelving.h: shelving works on a device, not the other way */

struct device {
    const struct device_def *def;
    const struct read_plan *plan;   /* shared by every device of the profile */
    double *values;                 /* engineering value per profile point */
    bool values_valid;              /* at least one good poll */
    struct rule_state *rule_states; /* one per def->rules entry */
    uint64_t *raised_wall_ms;       /* per rule: wall-clock time its active alarm was raised */
    struct alarm_shelf *shelves;    /* per rule: chattering; NULL until the device first raises */
    struct shelving *shelvings;     /* SHELVINGS_MAX by hand (shelving.h), or NULL: none yet */
    size_t active_alarm_count;
    enum device_link link;
    bool last_poll_silent;   /* the last poll got no reply of the device's own */
    bool offline_suppressed; /* offline alarm active but not sent: its bus is down (bus_down.h) */
    uint32_t failed_in_row;
    uint32_t offline_after_polls; /* from the profile's offline rule, else 3 */
    uint32_t backoff_ms;          /* current retry interval while offline; 0 when not */
    uint64_t next_due_ms;         /* monotonic */
    bool poll_fast;               /* near or in alarm: polled at the profile's fast_poll_ms */
    double fast_share;            /* the share of its bus's time that fast polling adds */
    size_t schedule_rank;         /* place on its bus: breaks ties between equal due times */
    bool state_owed;              /* its retained state found the uplink queue full: resent */
    uint64_t last_poll_start_ms;  /* monotonic; 0 = never polled */
    bool last_poll_timed_out;     /* its last poll got no answer */
    struct device_stats stats;
    /* telemetry (profiles that ask for it): values last sent, when the next is due */
    double *telemetry_values;
    bool telemetry_sent;
    bool telemetry_owed; /* its telemetry found the uplink queue full: posted again, latest values */
    uint64_t telemetry_due_ms;
};

int device_init(struct device *device, const struct device_def *def, const struct read_plan *plan);
void device_free(struct device *device);

struct poll_outcome;

/*
 * Takes in one poll's outcome: values (on success), counters, and the link
 * state. Returns true when the device went online or offline.
 */
bool device_record_poll(struct device *device, const double *values,
                        const struct poll_outcome *outcome, uint64_t wall_ms);

/* Logs the device going online or offline (outside the snapshot lock). */
void device_log_link(const struct device *device);

/* True when the device itself replied (values, or an exception of its own). */
bool device_poll_answered(const struct poll_outcome *outcome);

/* Counts replies of this device found on the bus after their request had timed out. */
void device_note_late_replies(struct device *device, uint32_t count);

/*
 * The failures of a run in words, most telling first: "late replies (2 ...);
 * no answer (3 timeouts)". Pure; returns out.
 */
char *device_failure_reason(const struct failure_run *run, char *out, size_t size);

/* Bounds of an offline device's retry interval. */
struct backoff_limits {
    uint32_t min_ms; /* the bus's retry budget (see bus.c) */
    uint32_t max_ms; /* the bus's backoff_max_ms */
    /*
     * rtu: a device whose last request timed out is not asked again sooner
     * than this, so that its late reply cannot land on its own next request
     * (where nothing tells the two apart); 0 on tcp (transaction ids do).
     */
    uint32_t quiet_after_timeout_ms;
    bool keep_cadence; /* no back-off: the whole bus is down, its silence costs nobody */
};

/*
 * Sets next_due_ms after a poll that was due at due_ms: the next interval for
 * a device that answers; for one that is offline a back-off that doubles from
 * twice its poll interval, kept within limits; and after a timeout no sooner
 * than limits.quiet_after_timeout_ms.
 */
void device_schedule_next(struct device *device, uint64_t due_ms, uint64_t now_ms,
                          struct backoff_limits limits);

/* The value a rule judges: the point's value, or 0/1 for a named bit. */
double device_rule_input(const struct device *device, const struct rule_def *rule);

#endif
