#include "alarm.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alarm_store_legacy.h"
#include "log.h"
#include "payload.h"
#include "publish.h"
#include "statefile.h"
#include "timeutil.h"

/* Guarded by event_lock: numbering, persisting and sending are one step. */
static pthread_mutex_t event_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_seq = 1;
static char seq_path[1024];
/* Copied at init: a reload may free the configuration (it cannot change these). */
static char gateway_id[128];
static int event_qos;

static uint64_t read_saved_seq(void)
{
    FILE *file = fopen(seq_path, "r");
    if (!file)
        return 0;
    uint64_t saved = 0;
    if (fscanf(file, "%" SCNu64, &saved) != 1)
        saved = 0;
    fclose(file);
    return saved;
}

/* Written before the event is sent, so a crash can skip a number but never reuse one. */
static void save_seq(uint64_t seq)
{
    char text[32];
    int length = snprintf(text, sizeof text, "%" PRIu64 "\n", seq);
    if (statefile_write(seq_path, text, (size_t)length) != 0)
        log_error("alarm: cannot save sequence number %" PRIu64 " to %s: %s", seq, seq_path,
                  strerror(errno));
}

int alarm_init(const struct config *config)
{
    snprintf(gateway_id, sizeof gateway_id, "%s", config->gateway.id);
    event_qos = config->mqtt.qos;
    if (mkdir(config->gateway.state_dir, 0750) != 0 && errno != EEXIST) {
        log_error("alarm: cannot create state_dir %s: %s", config->gateway.state_dir,
                  strerror(errno));
        return -1;
    }
    snprintf(seq_path, sizeof seq_path, "%s/seq", config->gateway.state_dir);
    next_seq = read_saved_seq() + 1;
    return 0;
}

uint64_t alarm_next_seq(void)
{
    pthread_mutex_lock(&event_lock);
    uint64_t seq = next_seq;
    pthread_mutex_unlock(&event_lock);
    return seq;
}

static void publish_event(struct alarm_event *event)
{
    char topic[PUBLISH_TOPIC_MAX];
    snprintf(topic, sizeof topic, "alarm/%s", event->device->id);
    pthread_mutex_lock(&event_lock);
    event->seq = next_seq++;
    save_seq(event->seq);
    char *payload = payload_alarm_event(event);
    if (payload)
        publish_send(topic, payload, event_qos, false, PUBLISH_KEPT);
    else
        log_error("alarm: out of memory for event %" PRIu64 " of %s", event->seq,
                  event->device->id);
    pthread_mutex_unlock(&event_lock);
    free(payload);
}

static void log_transition(const struct device *device, const struct rule_def *rule,
                           const struct alarm_event *event)
{
    if (rule->kind == RULE_OFFLINE)
        log_info("alarm %s %s on %s: no answer for %g polls", rule->name,
                 event->raised ? "raised" : "cleared", device->def->id, event->value);
    else
        log_info("alarm %s %s (%s) on %s: %s = %g", rule->name,
                 event->raised ? "raised" : "cleared", severity_name(rule->severity),
                 device->def->id, device->def->profile->points[rule->point_index].name,
                 event->value);
}

static void run_interlock(const struct device *device, const struct rule_def *rule,
                          const struct action_runner *runner, struct alarm_event *event,
                          char *error, size_t error_size)
{
    const struct action_def *action = &device->def->profile->actions[rule->action_index];
    event->action = action->name;
    event->action_ok =
        runner->run(runner->context, device, action, rule->action_param, error, error_size) == 0;
    if (event->action_ok) {
        log_info("action %s on %s done (alarm %s)", action->name, device->def->id, rule->name);
    } else {
        event->action_error = error;
        log_error("action %s on %s failed (alarm %s): %s", action->name, device->def->id,
                  rule->name, error);
    }
}

static void emit(struct device *device, size_t rule_index, enum rule_transition transition,
                 const struct action_runner *runner)
{
    const struct rule_def *rule = &device->def->rules[rule_index];
    const struct rule_state *state = &device->rule_states[rule_index];
    uint64_t now_wall_ms = time_wall_ms();
    struct alarm_event event = {
        .gateway_id = gateway_id,
        .raised = transition == RULE_RAISED,
        .device = device->def,
        .rule = rule,
        .value = rule->kind == RULE_OFFLINE ? (double)state->failed_polls : state->value,
        .ts_wall_ms = now_wall_ms,
    };
    if (event.raised)
        device->raised_wall_ms[rule_index] = now_wall_ms;
    event.raised_at_wall_ms = device->raised_wall_ms[rule_index];
    char action_error[256];
    if (event.raised && rule->action_index >= 0 && runner)
        run_interlock(device, rule, runner, &event, action_error, sizeof action_error);
    log_transition(device, rule, &event);
    publish_event(&event);
}

void alarm_retire(const struct device *device, size_t rule_index, const char *reason)
{
    const struct rule_def *rule = &device->def->rules[rule_index];
    struct alarm_event event = {
        .gateway_id = gateway_id,
        .raised = false,
        .device = device->def,
        .rule = rule,
        .value = device->rule_states[rule_index].value,
        .raised_at_wall_ms = device->raised_wall_ms[rule_index],
        .ts_wall_ms = time_wall_ms(),
        .reason = reason,
    };
    log_info("alarm %s cleared on %s: %s", rule->name, device->def->id, reason);
    publish_event(&event);
    alarm_store_legacy_mark_changed();
}

void alarm_forget_device_state(const char *device_id)
{
    char topic[PUBLISH_TOPIC_MAX];
    snprintf(topic, sizeof topic, "device/%s/state", device_id);
    publish_send(topic, "", 1, true, PUBLISH_KEPT); /* an empty retained message deletes it */
}

bool alarm_evaluate(struct device *device, bool poll_ok, uint64_t now_ms,
                    const struct action_runner *runner)
{
    bool changed = false;
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
        if (transition == RULE_NO_CHANGE)
            continue;
        device->active_alarm_count += transition == RULE_RAISED ? 1 : (size_t)-1;
        emit(device, i, transition, runner);
        alarm_store_legacy_mark_changed();
        changed = true;
    }
    return changed;
}

void alarm_publish_device_state(const struct device *device)
{
    char topic[PUBLISH_TOPIC_MAX];
    snprintf(topic, sizeof topic, "device/%s/state", device->def->id);
    char *payload = payload_device_state(device);
    if (payload)
        publish_send(topic, payload, 1, true, PUBLISH_LATEST);
    free(payload);
}
