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
 * Rate of change (rate_above R, clear_below C, over rate_window_ms W). The
 * rate at a reading is the fastest rise to it, per minute, from an earlier
 * reading at most W before it:
 *
 *   rate = max over earlier readings s of (value - v_s) / max(t - t_s, W/4)
 *
 * The floor of W/4 on the span (15 s of the default minute) keeps noise from
 * reading as a rate: two close readings that differ by n would otherwise be
 * a rate of n per poll interval. With it a rise counts only once it is at
 * least what R gives over W/4 (1.25 degrees for 5 per minute), however fast
 * it came; past W/4 it must be R per minute over its whole span. So:
 *   - a rise at r >= R raises once it has risen that much, (R / r) * W/4
 *     after it began (2.5 s at 30 per minute), plus one confirming reading
 *     (below): within 4.5 s at a 1 s poll, 12.5 s at a 5 s poll;
 *   - a rise slower than R never raises, however long it lasts;
 *   - noise of n peak to peak on a steady value never raises while n is less
 *     than what R gives over W/4. On a slow rise r it adds up to n / (W/4) per
 *     minute (4 per minute for n = 1 and the default window).
 * Why W/4: a floor of W/6 (10 s) needs only 0.83 degrees at 5 per minute,
 * less than the 1 degree peak to peak of a +-0.5 sensor; W/2 would need 2.5
 * and take up to 15 s to catch 30 per minute at a 5 s poll.
 *
 * Memory is fixed: the window is cut into RULES_RATE_SLICES slices aligned to
 * the clock, and of each only its lowest reading (the latest of equal ones)
 * and its time are kept, since the lowest is where a rise is measured from.
 * A low older than W no longer counts.
 *
 * One odd reading is not a rise or a fall. A reading counts as a low only
 * together with the reading before (the higher of the two is remembered), so
 * a single low glitch does not become the start of a "rise". And the rule
 * judges the rates of the last two readings: it raises when both are >= R
 * (and > 0) and clears when both are < C, so a single high glitch does not
 * raise and a single dip during a rise does not clear. for_ms and
 * clear_for_ms are then timed as for every rule. The judged rate
 * (state->value) is the lower of the two while clear and the higher while
 * active, so a raised event's value is >= R and a cleared one's < C.
 *
 * Until there is a low within W (the first reading, after a gap of W or
 * more, after the clock went back or rate_window_ms changed) the rate is
 * unknown: such a reading, and the one after it, neither raise nor clear nor
 * restart a timer. A rise that stops clears once no low within W is far
 * enough below the value: at the latest when every reading from before the
 * stop is older than W, plus one confirming reading.
 *
 * A NaN or infinite reading is skipped by a rate rule like a missed poll.
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
#include <stdint.h>
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

/* The span of a rise is taken as at least this part of rate_window_ms (see above). */
#define RATE_MIN_SPAN_DIVISOR 4
/* A jump the float offsets of the lows cannot carry; the history starts again. */
#define RATE_JUMP_MAX 1e30

static uint32_t rate_slice_ms(const struct rule_def *rule)
{
    uint32_t slice_ms = rule->rate_window_ms / RULES_RATE_SLICES;
    return slice_ms > 0 ? slice_ms : 1;
}

/* low_at counts in these steps, so that it fits 16 bits: 1 ms for slices up to 65.5 s. */
static uint32_t rate_time_unit_ms(uint32_t slice_ms)
{
    return (slice_ms - 1) / UINT16_MAX + 1;
}

static void rate_reset(struct rule_rate_history *history, uint32_t slice_ms, double value,
                       uint64_t now_ms)
{
    memset(history, 0, sizeof *history);
    history->slice_ms = slice_ms;
    history->newest_slice = now_ms / slice_ms;
    history->last_value = value;
    history->last_rate = NAN;
}

/*
 * The fastest rise per minute from a remembered low within the window to
 * value, or NaN when there is no such low.
 */
static double rate_fastest_rise(const struct rule_def *rule,
                                const struct rule_rate_history *history, double value,
                                uint64_t now_ms)
{
    uint64_t min_span_ms = rule->rate_window_ms / RATE_MIN_SPAN_DIVISOR;
    uint32_t unit_ms = rate_time_unit_ms(history->slice_ms);
    double fastest = NAN;
    for (uint64_t age = 0; age < RULES_RATE_SLOTS && age <= history->newest_slice; age++) {
        uint64_t slice = history->newest_slice - age;
        unsigned slot = slice % RULES_RATE_SLOTS;
        if (!(history->filled & (1u << slot)))
            continue;
        uint64_t low_ms = slice * history->slice_ms + (uint64_t)history->low_at[slot] * unit_ms;
        uint64_t span_ms = now_ms > low_ms ? now_ms - low_ms : 0;
        if (span_ms > rule->rate_window_ms)
            continue;
        double low = history->last_value + history->low_offset[slot];
        double rate =
            (value - low) * MS_PER_MINUTE / (double)(span_ms > min_span_ms ? span_ms : min_span_ms);
        if (isnan(fastest) || rate > fastest)
            fastest = rate;
    }
    return fastest;
}

/* Takes in a reading: its slice's low, and the lows re-based on it. */
static void rate_remember(struct rule_rate_history *history, double value, double low_candidate,
                          uint64_t now_ms)
{
    uint64_t slice = now_ms / history->slice_ms;
    for (uint64_t next = history->newest_slice + 1;
         next <= slice && next - history->newest_slice <= RULES_RATE_SLOTS; next++)
        history->filled &= (uint8_t) ~(1u << (next % RULES_RATE_SLOTS));
    history->newest_slice = slice;

    for (unsigned slot = 0; slot < RULES_RATE_SLOTS; slot++)
        if (history->filled & (1u << slot))
            history->low_offset[slot] =
                (float)(history->last_value + history->low_offset[slot] - value);
    history->last_value = value;

    unsigned slot = slice % RULES_RATE_SLOTS;
    float offset = (float)(low_candidate - value);
    if ((history->filled & (1u << slot)) && offset > history->low_offset[slot])
        return;
    uint64_t since_slice_ms = now_ms - slice * history->slice_ms;
    history->low_offset[slot] = offset;
    history->low_at[slot] = (uint16_t)(since_slice_ms / rate_time_unit_ms(history->slice_ms));
    history->filled |= (uint8_t)(1u << slot);
}

/*
 * Judges one reading of a rate rule as described at the top. Returns false
 * when the rate of this reading or of the one before is unknown.
 */
static bool judge_rate(const struct rule_def *rule, struct rule_rate_history *history, double value,
                       uint64_t now_ms, double *rate, double *previous_rate)
{
    uint32_t slice_ms = rate_slice_ms(rule);
    if (history->slice_ms != slice_ms || now_ms / slice_ms < history->newest_slice ||
        !(fabs(value - history->last_value) < RATE_JUMP_MAX))
        rate_reset(history, slice_ms, value, now_ms);

    *rate = rate_fastest_rise(rule, history, value, now_ms);
    *previous_rate = history->last_rate;
    history->last_rate = (float)*rate;
    rate_remember(history, value, fmax(value, history->last_value), now_ms);
    return !isnan(*rate) && !isnan(*previous_rate);
}

static enum rule_transition eval_rate(const struct rule_def *rule, struct rule_state *state,
                                      double value, uint64_t now_ms)
{
    if (!isfinite(value))
        return RULE_NO_CHANGE;
    double rate, previous_rate;
    if (!judge_rate(rule, &state->rate, value, now_ms, &rate, &previous_rate))
        return RULE_NO_CHANGE;
    double raise_rate = fmin(rate, previous_rate);
    double clear_rate = fmax(rate, previous_rate);
    state->value = state->active ? clear_rate : raise_rate;
    return advance(rule, state, raise_rate > 0.0 && raise_rate >= rule->threshold,
                   clear_rate < rule->clear_threshold, now_ms);
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
    case RULE_RATE_ABOVE:
        return eval_rate(rule, state, value, now_ms);
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
