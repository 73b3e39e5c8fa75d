/*
 * rules.h — alarm rule state machines: threshold with hysteresis, equals /
 * not-equals on values and status bits, for_ms / clear_for_ms delays, rate of
 * change per minute, and offline after N failed polls.
 *
 * Pure: the caller passes the value and the time; nothing here reads a clock,
 * touches a bus or allocates. One struct rule_state per (device, rule), owned
 * by the reactor thread as it polls the device.
 */
#ifndef SAFETYGW_RULES_H
#define SAFETYGW_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum rule_transition { RULE_NO_CHANGE, RULE_RAISED, RULE_CLEARED };

/* A rate rule remembers one low reading per slice of rate_window_ms (see rules.c). */
#define RULES_RATE_SLICES 4
#define RULES_RATE_SLOTS (RULES_RATE_SLICES + 1) /* the slices a window can touch */

/*
 * RULE_RATE_ABOVE's memory of the last window: the lowest reading of each
 * slice and when it was read. Fixed size and inside struct rule_state, so a
 * state is still copied by assignment (reload, snapshots) and nothing is
 * allocated per rule or per reading. Compact because every rule state of
 * every device carries it: lows are float offsets from last_value, their
 * times in time_unit_ms steps after the start of their slice.
 */
struct rule_rate_history {
    double last_value;     /* the reading before; also the base of low_offset */
    uint64_t newest_slice; /* now_ms / slice_ms of the last reading */
    uint32_t slice_ms;     /* rate_window_ms / RULES_RATE_SLICES; 0 while empty */
    float last_rate;       /* the rate judged at that reading, per minute; NaN: unknown */
    float low_offset[RULES_RATE_SLOTS]; /* low = last_value + low_offset; slot = slice % SLOTS */
    uint16_t low_at[RULES_RATE_SLOTS];  /* time of the low after its slice began, time units */
    uint8_t filled;                     /* bit i: slot i holds a low */
};

struct rule_state {
    bool active;                 /* the alarm is raised */
    bool condition_since_valid;  /* a raise (or clear) condition is being timed */
    uint32_t failed_polls;       /* RULE_OFFLINE: failed polls in a row */
    uint64_t condition_since_ms; /* when that condition started to hold */
    uint64_t raised_at_ms;
    double value; /* what the rule last judged: the value, or the rate per minute */
    struct rule_rate_history rate; /* RULE_RATE_ABOVE only */
};

/* A fresh state: not active, nothing being timed. */
void rules_state_init(struct rule_state *state);

/*
 * Feeds one good reading to a value rule (every kind but RULE_OFFLINE). value
 * is the point's engineering value, or 0/1 for a rule on a named bit.
 * Returns RULE_RAISED or RULE_CLEARED on the poll that changes the alarm.
 */
enum rule_transition rules_eval(const struct rule_def *rule, struct rule_state *state, double value,
                                uint64_t now_ms);

/* Feeds one poll outcome to a RULE_OFFLINE rule. */
enum rule_transition rules_eval_offline(const struct rule_def *rule, struct rule_state *state,
                                        bool poll_ok, uint64_t now_ms);

#endif
