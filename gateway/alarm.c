#include "alarm.h"

#include "log.h"

void alarm_log(const struct device *device, const struct alarm_event *event)
{
    const struct rule_def *rule = event->rule;
    if (rule->kind == RULE_OFFLINE)
        log_info("alarm %s %s on %s: %s", rule->name, event->raised ? "raised" : "cleared",
                 device->def->id,
                 event->raised ? "no answer for several polls" : "answers again");
    else
        log_info("alarm %s %s (%s) on %s: %s = %g", rule->name,
                 event->raised ? "raised" : "cleared", severity_name(rule->severity),
                 device->def->id, device->def->profile->points[rule->point_index].name,
                 event->value);
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

void alarm_evaluate(struct device *device, bool poll_ok, uint64_t now_ms, uint64_t wall_ms,
                    struct alarm_decisions *decisions)
{
    decisions->count = 0;
    for (size_t i = 0; i < device->def->rule_count; i++) {
        const struct rule_def *rule = &device->def->rules[i];
        enum rule_transition transition;
        if (rule->kind == RULE_OFFLINE)
            transition = rules_eval_offline(rule, &device->rule_states[i], poll_ok, now_ms);
        else if (poll_ok)
            transition =
                rules_eval(rule, &device->rule_states[i], device_rule_input(device, rule), now_ms);
        else
            continue; /* silence neither raises nor clears a value alarm */
        if (transition != RULE_NO_CHANGE)
            decisions->events[decisions->count++] = decide(device, i, transition, wall_ms);
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

const struct action_def *alarm_interlock(const struct device *device, const struct rule_def *rule)
{
    return rule->action_index >= 0 ? &device->def->profile->actions[rule->action_index] : NULL;
}

struct alarm_event alarm_retire(const struct device *device, size_t rule_index, const char *reason,
                                uint64_t wall_ms)
{
    const struct rule_def *rule = &device->def->rules[rule_index];
    log_info("alarm %s cleared on %s: %s", rule->name, device->def->id, reason);
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
