#include "alarm.h"

#include <stdlib.h>

#include "log.h"

void alarm_log(const struct device *device, const struct alarm_event *event)
{
    const struct rule_def *rule = event->rule;
    const char *change = event->raised ? "raised" : "cleared";
    const char *shelved = event->held_back ? " (shelved: not sent)" : "";
    if (event->shelved) {
        log_alarm(LOG_WARNING, device->def->id, rule->name,
                  "alarm %s on %s chatters (%u raises within %u s): shelved for %u s", rule->name,
                  device->def->id, rule->chatter_raises, rule->chatter_window_ms / 1000,
                  rule->shelve_ms / 1000);
        return;
    }
    if (rule->kind == RULE_OFFLINE)
        log_alarm(LOG_INFO, device->def->id, rule->name, "alarm %s %s on %s%s: %s", rule->name,
                  change, device->def->id, shelved,
                  event->raised ? "no answer for several polls" : "answers again");
    else
        log_alarm(LOG_INFO, device->def->id, rule->name, "alarm %s %s (%s) on %s%s: %s = %g",
                  rule->name, change, severity_name(rule->severity), device->def->id, shelved,
                  device->def->profile->points[rule->point_index].name, event->value);
}

static struct alarm_event decide(struct device *device, size_t rule_index,
                                 enum rule_transition transition, uint64_t wall_ms)
{
    const struct rule_def *rule = &device->def->rules[rule_index];
    const struct rule_state *state = &device->rule_states[rule_index];
    bool raised = transition == RULE_RAISED;
    if (raised)
        device->raised_wall_ms[rule_index] = wall_ms;
    device->active_alarm_count += raised ? 1 : (size_t)-1;
    struct alarm_event event = {
        .raised = raised,
        .device = device->def,
        .rule = rule,
        .value = rule->kind == RULE_OFFLINE ? (double)state->failed_polls : state->value,
        .raised_at_wall_ms = device->raised_wall_ms[rule_index],
        .ts_wall_ms = wall_ms,
    };
    return event;
}

/* Raises of the rule within its chatter window up to now_ms, this one included. */
static uint32_t recent_raises(struct alarm_shelf *shelf, const struct rule_def *rule,
                              uint64_t now_ms)
{
    shelf->raises_ms[shelf->next_raise] = now_ms;
    shelf->next_raise = (shelf->next_raise + 1) % rule->chatter_raises;
    if (shelf->raise_count < rule->chatter_raises)
        shelf->raise_count++;
    uint32_t recent = 0;
    for (uint32_t r = 0; r < shelf->raise_count; r++)
        recent += now_ms - shelf->raises_ms[r] <= rule->chatter_window_ms;
    return recent;
}

static struct alarm_event shelving(const struct device *device, size_t rule_index,
                                   const struct alarm_shelf *shelf, uint64_t wall_ms)
{
    const struct rule_def *rule = &device->def->rules[rule_index];
    return (struct alarm_event){.raised = true,
                                .shelved = true,
                                .shelved_until_wall_ms = shelf->until_wall_ms,
                                .device = device->def,
                                .rule = rule,
                                .value = device->rule_states[rule_index].value,
                                .raised_at_wall_ms = device->raised_wall_ms[rule_index],
                                .ts_wall_ms = wall_ms,
                                .reason = "chattering"};
}

/* The shelving's end: an alarm still active is raised again, as new. */
static void end_shelving(struct device *device, size_t rule_index, uint64_t wall_ms,
                         struct alarm_decisions *decisions)
{
    struct alarm_shelf *shelf = &device->shelves[rule_index];
    *shelf = (struct alarm_shelf){0};
    if (!device->rule_states[rule_index].active)
        return;
    device->raised_wall_ms[rule_index] = wall_ms;
    struct alarm_event event = decide(device, rule_index, RULE_RAISED, wall_ms);
    device->active_alarm_count--; /* decide counted it again; it never stopped being active */
    decisions->events[decisions->count++] = event;
}

/*
 * The device's chattering state, made at its first raise: most devices never
 * raise, and a few thousand rules' rings of raise times would be megabytes.
 * NULL when out of memory (chattering is then not judged; the alarm still is).
 */
static struct alarm_shelf *shelves_of(struct device *device)
{
    if (!device->shelves)
        device->shelves = calloc(device->def->rule_count, sizeof *device->shelves);
    return device->shelves;
}

static void add_transition(struct device *device, size_t rule_index,
                           enum rule_transition transition, uint64_t now_ms, uint64_t wall_ms,
                           struct alarm_decisions *decisions)
{
    const struct rule_def *rule = &device->def->rules[rule_index];
    struct alarm_event event = decide(device, rule_index, transition, wall_ms);
    struct alarm_shelf *shelves = transition == RULE_RAISED ? shelves_of(device) : device->shelves;
    struct alarm_shelf *shelf = shelves ? &shelves[rule_index] : NULL;
    event.held_back = shelf && shelf->until_ms != 0;
    decisions->events[decisions->count++] = event;
    if (!shelf || transition != RULE_RAISED || event.held_back || rule->chatter_raises == 0 ||
        recent_raises(shelf, rule, now_ms) < rule->chatter_raises)
        return;
    shelf->until_ms = now_ms + rule->shelve_ms;
    shelf->until_wall_ms = wall_ms + rule->shelve_ms;
    decisions->events[decisions->count++] = shelving(device, rule_index, shelf, wall_ms);
}

void alarm_evaluate(struct device *device, bool poll_ok, uint64_t now_ms, uint64_t wall_ms,
                    struct alarm_decisions *decisions)
{
    decisions->count = 0;
    for (size_t i = 0; i < device->def->rule_count; i++) {
        const struct rule_def *rule = &device->def->rules[i];
        if (device->shelves && device->shelves[i].until_ms != 0 &&
            now_ms >= device->shelves[i].until_ms)
            end_shelving(device, i, wall_ms, decisions);
        enum rule_transition transition;
        if (rule->kind == RULE_OFFLINE)
            transition = rules_eval_offline(rule, &device->rule_states[i], poll_ok, now_ms);
        else if (poll_ok)
            transition =
                rules_eval(rule, &device->rule_states[i], device_rule_input(device, rule), now_ms);
        else
            continue; /* silence neither raises nor clears a value alarm */
        if (transition != RULE_NO_CHANGE)
            add_transition(device, i, transition, now_ms, wall_ms, decisions);
    }
}

bool alarm_offline_raise(struct device *device, uint64_t wall_ms, struct alarm_event *event)
{
    for (size_t i = 0; i < device->def->rule_count; i++) {
        const struct rule_def *rule = &device->def->rules[i];
        if (rule->kind != RULE_OFFLINE || !device->rule_states[i].active)
            continue;
        *event = (struct alarm_event){
            .raised = true,
            .device = device->def,
            .rule = rule,
            .value = (double)device->rule_states[i].failed_polls,
            .raised_at_wall_ms = device->raised_wall_ms[i],
            .ts_wall_ms = wall_ms,
        };
        return true;
    }
    return false;
}

static bool urgent(const struct rule_def *rule)
{
    return rule->enabled && rule->severity <= SEVERITY_MAJOR;
}

bool alarm_wants_fast_poll(const struct device *device)
{
    const struct profile *profile = device->def->profile;
    if (profile->fast_poll_ms == 0 || !device->values_valid)
        return false;
    for (size_t i = 0; i < device->def->rule_count; i++) {
        const struct rule_def *rule = &device->def->rules[i];
        if (!urgent(rule))
            continue;
        if (device->rule_states[i].active)
            return true;
        if (rule->kind == RULE_ABOVE && rule->threshold > 0 &&
            device_rule_input(device, rule) >=
                rule->threshold * profile->fast_margin_percent / 100.0)
            return true;
    }
    return false;
}

const struct action_def *alarm_interlock(const struct device *device, const struct rule_def *rule)
{
    return rule->action_index >= 0 ? &device->def->profile->actions[rule->action_index] : NULL;
}

struct alarm_event alarm_retire(const struct device *device, size_t rule_index, const char *reason,
                                uint64_t wall_ms)
{
    const struct rule_def *rule = &device->def->rules[rule_index];
    log_alarm(LOG_INFO, device->def->id, rule->name, "alarm %s cleared on %s: %s", rule->name,
              device->def->id, reason);
    return (struct alarm_event){
        .raised = false,
        .device = device->def,
        .rule = rule,
        .value = device->rule_states[rule_index].value,
        .raised_at_wall_ms = device->raised_wall_ms[rule_index],
        .ts_wall_ms = wall_ms,
        .reason = reason,
    };
}
