#include "alarm_store.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "statefile.h"
#include "timeutil.h"

#define STORE_FILE "active-alarms.json"

static atomic_bool changed;

void alarm_store_mark_changed(void)
{
    atomic_store(&changed, true);
}

static void store_path(const struct runtime *runtime, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", runtime->config->gateway.state_dir, STORE_FILE);
}

static void restore_one(struct runtime *runtime, json_t *entry, uint64_t now_ms)
{
    const char *device_id = json_string_value(json_object_get(entry, "device"));
    const char *alarm = json_string_value(json_object_get(entry, "alarm"));
    json_t *raised = json_object_get(entry, "raised_at_ms");
    struct device *device = device_id ? runtime_find_device(runtime, device_id) : NULL;
    int index = device && alarm ? config_rule_index(device->def, alarm) : -1;
    if (index < 0 || !json_is_integer(raised) || !device->def->rules[index].enabled) {
        log_info("alarm store: dropping saved alarm %s of %s (no longer configured)",
                 alarm ? alarm : "?", device_id ? device_id : "?");
        return;
    }
    struct rule_state *state = &device->rule_states[index];
    if (state->active)
        return;
    state->active = true;
    state->raised_at_ms = now_ms;
    state->value = json_number_value(json_object_get(entry, "value"));
    device->raised_wall_ms[index] = (uint64_t)json_integer_value(raised);
    device->active_alarm_count++;
}

void alarm_store_restore(struct runtime *runtime)
{
    char path[1100];
    store_path(runtime, path, sizeof path);
    json_error_t error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        if (errno != ENOENT && error.line >= 0)
            log_warning("alarm store: ignoring %s:%d: %s", path, error.line, error.text);
        return;
    }
    json_t *alarms = json_object_get(root, "alarms");
    size_t index;
    json_t *entry;
    uint64_t now_ms = time_monotonic_ms();
    json_array_foreach(alarms, index, entry) restore_one(runtime, entry, now_ms);
    log_info("alarm store: %zu active alarms restored from %s", json_array_size(alarms), path);
    json_decref(root);
}

static void add_device_alarms(json_t *alarms, const struct device *device)
{
    for (size_t i = 0; i < device->def->rule_count; i++) {
        if (!device->rule_states[i].active)
            continue;
        json_t *entry = json_object();
        json_object_set_new(entry, "device", json_string(device->def->id));
        json_object_set_new(entry, "alarm", json_string(device->def->rules[i].name));
        json_object_set_new(entry, "raised_at_ms",
                            json_integer((json_int_t)device->raised_wall_ms[i]));
        json_object_set_new(entry, "value", json_real(device->rule_states[i].value));
        json_array_append_new(alarms, entry);
    }
}

static json_t *collect(struct runtime *runtime)
{
    json_t *alarms = json_array();
    for (size_t b = 0; b < runtime->buses_started; b++) {
        struct bus *bus = &runtime->buses[b];
        pthread_mutex_lock(&bus->lock);
        for (size_t d = 0; d < bus->device_count; d++)
            add_device_alarms(alarms, bus->devices[d]);
        pthread_mutex_unlock(&bus->lock);
    }
    json_t *root = json_object();
    json_object_set_new(root, "alarms", alarms);
    return root;
}

void alarm_store_save(struct runtime *runtime, bool force)
{
    if (!atomic_exchange(&changed, false) && !force)
        return;
    char path[1100];
    store_path(runtime, path, sizeof path);
    json_t *root = collect(runtime);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text || statefile_write(path, text, strlen(text)) != 0) {
        log_error("alarm store: cannot write %s: %s; will retry", path,
                  text ? strerror(errno) : "out of memory");
        atomic_store(&changed, true);
    }
    free(text);
}
