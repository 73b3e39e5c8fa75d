#include "alarm_store_legacy.h"

#include <stdatomic.h>

#include "alarm_store.h"
#include "log.h"
#include "timeutil.h"

static atomic_bool changed;
/* The main thread's: what active-alarms.json holds. */
static struct alarm_store *saved;

void alarm_store_legacy_mark_changed(void)
{
    atomic_store(&changed, true);
}

static void restore_one(struct runtime *runtime, const struct alarm_store_entry *entry,
                        uint64_t now_ms)
{
    struct device *device = runtime_find_device(runtime, entry->device_id);
    int index = device ? config_rule_index(device->def, entry->alarm) : -1;
    if (index < 0 || !device->def->rules[index].enabled) {
        log_info("alarm store: dropping saved alarm %s of %s (no longer configured)", entry->alarm,
                 entry->device_id);
        return;
    }
    struct rule_state *state = &device->rule_states[index];
    if (state->active)
        return;
    state->active = true;
    state->raised_at_ms = now_ms;
    state->value = entry->value;
    device->raised_wall_ms[index] = entry->raised_at_wall_ms;
    device->active_alarm_count++;
}

void alarm_store_legacy_restore(struct runtime *runtime)
{
    alarm_store_free(saved);
    saved = alarm_store_new();
    if (!saved) {
        log_error("alarm store: out of memory; no active alarms restored");
        return;
    }
    alarm_store_load(saved, runtime->config->gateway.state_dir);
    uint64_t now_ms = time_monotonic_ms();
    for (size_t i = 0; i < alarm_store_count(saved); i++)
        restore_one(runtime, alarm_store_entry(saved, i), now_ms);
    if (alarm_store_dirty(saved))
        alarm_store_legacy_mark_changed(); /* loaded from .prev, or both bad: rewrite it soon */
}

static void collect_device(struct alarm_store *active, const struct device *device)
{
    for (size_t i = 0; i < device->def->rule_count; i++)
        if (device->rule_states[i].active)
            alarm_store_raise(active, device->def->id, device->def->rules[i].name,
                              device->raised_wall_ms[i], device->rule_states[i].value);
}

static void collect(struct runtime *runtime, struct alarm_store *active)
{
    for (size_t b = 0; b < runtime->buses_started; b++) {
        struct bus *bus = &runtime->buses[b];
        pthread_mutex_lock(&bus->lock);
        for (size_t d = 0; d < bus->device_count; d++)
            collect_device(active, bus->devices[d]);
        pthread_mutex_unlock(&bus->lock);
    }
}

/* Makes saved hold what active holds; saved becomes dirty only if that changed it. */
static void sync_saved(const struct alarm_store *active)
{
    for (size_t i = alarm_store_count(saved); i-- > 0;) {
        const struct alarm_store_entry *entry = alarm_store_entry(saved, i);
        if (!alarm_store_find(active, entry->device_id, entry->alarm))
            alarm_store_clear(saved, entry->device_id, entry->alarm);
    }
    for (size_t i = 0; i < alarm_store_count(active); i++) {
        const struct alarm_store_entry *entry = alarm_store_entry(active, i);
        alarm_store_raise(saved, entry->device_id, entry->alarm, entry->raised_at_wall_ms,
                          entry->value);
    }
}

void alarm_store_legacy_save(struct runtime *runtime, bool force)
{
    if (!atomic_exchange(&changed, false) && !force)
        return;
    struct alarm_store *active = alarm_store_new();
    if (!saved)
        saved = alarm_store_new();
    if (!active || !saved) {
        log_error("alarm store: out of memory; will retry");
        atomic_store(&changed, true);
        alarm_store_free(active);
        return;
    }
    collect(runtime, active);
    sync_saved(active);
    alarm_store_free(active);
    if (alarm_store_save(saved, runtime->config->gateway.state_dir) != 0)
        atomic_store(&changed, true); /* logged; retried at the next tick */
}
