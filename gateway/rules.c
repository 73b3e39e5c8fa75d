/*
 * rules.c — alarm rule state machines (semantics in config/README.md, Rules).
 *
 * Every rule is the same two-state machine. While clear, it raises once its
 * raise condition has held continuously for for_ms; while active, it clears
 * once its clear condition has held continuously for clear_for_ms. A reading
 * where the condition does not hold restarts the timer. One machine per
 * (device, rule), so an active alarm cannot be raised again until it clears,
 * and a value chattering inside the hysteresis band raises once.
 *
 *   kind         raise condition        clear condition
 *   above        value >= threshold     value < clear_threshold
 *   below        value <= threshold     value > clear_threshold
 *   equals       value == threshold     value != threshold
 *   not_equals   value != threshold     value == threshold
 *   rate_above   rate >= threshold      rate < clear_threshold
 *
 * Values are engineering values (after scale), so "==" allows a small
 * tolerance: 3 * 0.1 is 0.30000000000000004, not 0.3.
 *
 * A NaN reading (a float32 register holding NaN) is treated like a missed
 * poll: it neither raises nor clears nor restarts a timer.
 *
 * Rate of change (rate_above). The rate is the change per minute between a
 * reference sample and the current one, judged only once they are at least
 * rate_window_ms apart, so sensor noise is averaged over a whole window:
 *
 *   - While the alarm is clear, the reference follows the value down: a
 *     reading at or below the reference becomes the new reference (and is
 *     judged "not rising"). The reference is therefore the last low point, a
 *     rise is measured from where it began, and a steady rise of r per minute
 *     is judged as exactly r one window after it starts, whatever the phase
 *     of the window. A flat value always ties its reference and is judged 0.
 *   - Once a reading is a window or more past the reference, the rate over
 *     that span is judged and the reading becomes the new reference.
 *   - While the alarm is active, only whole windows are judged (the
 *     reference no longer follows the value down), so a noisy dip in a rise
 *     that continues does not clear the alarm; a rise that stops or reverses
 *     clears within one to two windows.
 *
 * Between judgements the last judged rate stands (state->value), so for_ms
 * and clear_for_ms are timed against it on every reading. A rate of zero or
 * less never raises, whatever the threshold. A peak-to-peak noise of n
 * reads at most as n per window, so rate_above must exceed that.
 *
 * Offline: failed_polls counts failed polls in a row; the alarm raises when
 * it reaches offline_after_polls and clears on the first good poll
 * (offline_after is its delay; for_ms and clear_for_ms do not apply).
 *
 * A disabled rule never raises. If its state is active (a reload disabled an
 * active rule), the next evaluation clears it, so no alarm outlives its rule.
 *
 * Pure: time comes in as now_ms from the caller's monotonic clock.
 */
#include "rules.h"

#include <math.h>
#include <string.h>

#define MS_PER_MINUTE 60000.0

void rules_state_init(struct rule_state *state)
{
    memset(state, 0, sizeof *state);
}

static bool values_equal(double value, double threshold)
{
    double tolerance = 1e-6 * fmax(1.0, fabs(threshold));
    return fabs(value - threshold) <= tolerance;
}

/* True once a condition that started at since_ms has held for hold_ms. */
static bool held_long_enough(uint64_t since_ms, uint64_t now_ms, uint32_t hold_ms)
{
    return now_ms >= since_ms && now_ms - since_ms >= hold_ms;
}

/*
 * Moves the machine with this reading's judgement: whether the raise
 * condition holds (looked at while clear) and whether the clear condition
 * holds (looked at while active).
 */
static enum rule_transition advance(const struct rule_def *rule, struct rule_state *state,
                                    bool raise_condition, bool clear_condition, uint64_t now_ms)
{
    bool condition = state->active ? clear_condition : raise_condition;
    uint32_t hold_ms = state->active ? rule->clear_for_ms : rule->for_ms;

    if (!condition) {
        state->condition_since_valid = false;
        return RULE_NO_CHANGE;
    }
    /* A clock that went backwards restarts the timer rather than firing it early. */
    if (!state->condition_since_valid || now_ms < state->condition_since_ms) {
        state->condition_since_valid = true;
        state->condition_since_ms = now_ms;
    }
    if (!held_long_enough(state->condition_since_ms, now_ms, hold_ms))
        return RULE_NO_CHANGE;

    state->condition_since_valid = false;
    if (state->active) {
        state->active = false;
        return RULE_CLEARED;
    }
    state->active = true;
    state->raised_at_ms = now_ms;
    return RULE_RAISED;
}

static enum rule_transition clear_disabled(struct rule_state *state)
{
    state->condition_since_valid = false;
    if (!state->active)
        return RULE_NO_CHANGE;
    state->active = false;
    return RULE_CLEARED;
}

static void set_rate_reference(struct rule_state *state, double value, uint64_t now_ms)
{
    state->rate_reference_valid = true;
    state->rate_reference_value = value;
    state->rate_reference_ms = now_ms;
}

static double rate_per_minute(double change, uint64_t span_ms)
{
    return change * MS_PER_MINUTE / (double)span_ms;
}

/* Updates state->value, the judged rate per minute, as described at the top. */
static void judge_rate(const struct rule_def *rule, struct rule_state *state, double value,
                       uint64_t now_ms)
{
    uint64_t window_ms = rule->rate_window_ms > 0 ? rule->rate_window_ms : 1;

    if (!state->rate_reference_valid || now_ms < state->rate_reference_ms) {
        /* Nothing to measure from yet (or the clock went back): start a window. */
        set_rate_reference(state, value, now_ms);
        return;
    }
    uint64_t span_ms = now_ms - state->rate_reference_ms;
    double change = value - state->rate_reference_value;

    if (!state->active && change <= 0.0) {
        state->value = rate_per_minute(change, span_ms > window_ms ? span_ms : window_ms);
        set_rate_reference(state, value, now_ms);
    } else if (span_ms >= window_ms) {
        state->value = rate_per_minute(change, span_ms);
        set_rate_reference(state, value, now_ms);
    }
}

enum rule_transition rules_eval(const struct rule_def *rule, struct rule_state *state, double value,
                                uint64_t now_ms)
{
    if (rule->kind == RULE_OFFLINE)
        return RULE_NO_CHANGE;
    if (!rule->enabled)
        return clear_disabled(state);
    if (isnan(value))
        return RULE_NO_CHANGE;

    switch (rule->kind) {
    case RULE_ABOVE:
        state->value = value;
        return advance(rule, state, value >= rule->threshold, value < rule->clear_threshold,
                       now_ms);
    case RULE_BELOW:
        state->value = value;
        return advance(rule, state, value <= rule->threshold, value > rule->clear_threshold,
                       now_ms);
    case RULE_EQUALS: {
        bool equal = values_equal(value, rule->threshold);
        state->value = value;
        return advance(rule, state, equal, !equal, now_ms);
    }
    case RULE_NOT_EQUALS: {
        bool equal = values_equal(value, rule->threshold);
        state->value = value;
        return advance(rule, state, !equal, equal, now_ms);
    }
    case RULE_RATE_ABOVE: {
        judge_rate(rule, state, value, now_ms);
        double rate = state->value;
        return advance(rule, state, rate > 0.0 && rate >= rule->threshold,
                       rate < rule->clear_threshold, now_ms);
    }
    case RULE_OFFLINE:
        break;
    }
    return RULE_NO_CHANGE;
}

enum rule_transition rules_eval_offline(const struct rule_def *rule, struct rule_state *state,
                                        bool poll_ok, uint64_t now_ms)
{
    if (rule->kind != RULE_OFFLINE)
        return RULE_NO_CHANGE;

    if (poll_ok)
        state->failed_polls = 0;
    else if (state->failed_polls < UINT32_MAX)
        state->failed_polls++;
    state->value = state->failed_polls;

    if (!rule->enabled)
        return clear_disabled(state);

    uint32_t offline_after = rule->offline_after_polls > 0 ? rule->offline_after_polls : 1;
    if (state->active && poll_ok) {
        state->active = false;
        return RULE_CLEARED;
    }
    if (!state->active && state->failed_polls >= offline_after) {
        state->active = true;
        state->raised_at_ms = now_ms;
        return RULE_RAISED;
    }
    return RULE_NO_CHANGE;
}
