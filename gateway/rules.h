/*
 * rules.h — alarm rule state machines: threshold with hysteresis, equals /
 * not-equals on values and status bits, for_ms / clear_for_ms delays, rate of
 * change per minute, and offline after N failed polls.
 *
 * Pure: the caller passes the value and the time; nothing here reads a clock,
 * touches a bus or allocates. One struct rule_state per (device, rule), owned
 * by the bus thread that polls the device.
 */
#ifndef SAFETYGW_RULES_H
#define SAFETYGW_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum rule_transition { RULE_NO_CHANGE, RULE_RAISED, RULE_CLEARED };

struct rule_state {
    bool active;                 /* the alarm is raised */
    bool condition_since_valid;  /* a raise (or clear) condition is being timed */
    uint64_t condition_since_ms; /* when that condition started to hold */
    uint64_t raised_at_ms;
    double value; /* what the rule last judged: the value, or the rate per minute */
    /* RULE_RATE_ABOVE: the reference sample the rate is measured from */
    bool rate_reference_valid;
    double rate_reference_value;
    uint64_t rate_reference_ms;
    /* RULE_OFFLINE: failed polls in a row */
    uint32_t failed_polls;
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
