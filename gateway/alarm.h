/*
 * alarm.h — alarm decisions, made on the reactor thread for the device's bus:
 * runs a device's rules after each poll and turns every raise or clear into
 * an event record (struct alarm_event) for the uplink to number and send.
 *
 * Nothing here does I/O or takes a lock: the reactor thread calls it while it
 * holds the bus's snapshot lock, then runs the interlocks the events ask for
 * on the bus's own wire and posts the events (bus.c).
 */
#ifndef SAFETYGW_ALARM_H
#define SAFETYGW_ALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "device.h"
#include "payload.h"

/* A poll's alarm events: at most ALARM_EVENTS_PER_RULE per rule of the device. */
struct alarm_decisions {
    struct alarm_event *events; /* room for ALARM_EVENTS_PER_RULE x the device's rule_count */
    size_t count;
};

/* A raise and its shelving, or a shelving's end and a new raise. */
#define ALARM_EVENTS_PER_RULE 2

/*
 * Evaluates the device's rules after a poll (poll_ok false: only the offline
 * rule learns anything) and appends an event per raise or clear, stamped
 * wall_ms. Keeps the device's active alarm count and raise times.
 *
 * Chattering (ISA-18.2): a rule that raises chatter_raises times within
 * chatter_window_ms is shelved for shelve_ms, with one "shelved" event after
 * the raise that tipped it. While shelved, its raises and clears are held back
 * (held_back: the interlock still acts, nothing is sent). When the shelving
 * ends, an alarm whose condition still holds is raised again; otherwise
 * nothing more is sent.
 */
void alarm_evaluate(struct device *device, bool poll_ok, uint64_t now_ms, uint64_t wall_ms,
                    struct alarm_decisions *decisions);

/* Logs a raise or clear (after the snapshot lock is released: a log line is I/O). */
void alarm_log(const struct device *device, const struct alarm_event *event);

/*
 * The raise of the device's active offline alarm, held back while its bus was
 * down and due now that the bus is up and the device still silent. Returns
 * false when the device has no active offline alarm.
 */
bool alarm_offline_raise(struct device *device, uint64_t wall_ms, struct alarm_event *event);

/*
 * Whether the device should be polled at its profile's fast_poll_ms: it has a
 * critical or major alarm, or a value within fast_margin_percent of a
 * critical or major `above` threshold (a gas reading at 20 of 25 %LEL).
 */
bool alarm_wants_fast_poll(const struct device *device);

/* The rule's interlock action (close the valve), or NULL when it has none. */
const struct action_def *alarm_interlock(const struct device *device, const struct rule_def *rule);

/*
 * The clear of an active alarm whose rule or device a reload removed, with the
 * reason, so that the operations center is not left with an alarm no one
 * will ever clear.
 */
struct alarm_event alarm_retire(const struct device *device, size_t rule_index, const char *reason,
                                uint64_t wall_ms);

#endif
