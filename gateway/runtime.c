#include "runtime.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alarm_store.h"
#include "shelving_store.h"
#include "log.h"
#include "timeutil.h"

static int build_plans(struct runtime *runtime)
{
    const struct config *config = runtime->config;
    runtime->plans =
        calloc(config->profile_count ? config->profile_count : 1, sizeof *runtime->plans);
    if (!runtime->plans)
        return -1;
    for (size_t i = 0; i < config->profile_count; i++) {
        char error[256];
        if (readplan_build(&config->profiles[i], &runtime->plans[i], error, sizeof error) != 0) {
            log_error("profile %s (%s): cannot plan its reads: %s", config->profiles[i].name,
                      config->profiles[i].file, error);
            return -1;
        }
    }
    return 0;
}

static const struct read_plan *plan_of(const struct runtime *runtime, const struct profile *profile)
{
    return &runtime->plans[profile - runtime->config->profiles];
}

static int build_devices(struct runtime *runtime)
{
    const struct config *config = runtime->config;
    size_t count = config->device_count ? config->device_count : 1;
    runtime->devices = calloc(count, sizeof *runtime->devices);
    runtime->devices_by_bus = calloc(count, sizeof *runtime->devices_by_bus);
    if (!runtime->devices || !runtime->devices_by_bus)
        return -1;
    size_t next = 0;
    for (size_t b = 0; b < config->bus_count; b++)
        for (size_t d = 0; d < config->device_count; d++) {
            const struct device_def *def = &config->devices[d];
            if (def->bus_index != b)
                continue;
            if (device_init(&runtime->devices[d], def, plan_of(runtime, def->profile)) != 0)
                return -1;
            runtime->devices_by_bus[next++] = &runtime->devices[d];
        }
    return 0;
}

static int compare_device_ids(const void *a, const void *b)
{
    const struct device *const *left = a, *const *right = b;
    return strcmp((*left)->def->id, (*right)->def->id);
}

static int build_index(struct runtime *runtime)
{
    size_t count = runtime->config->device_count;
    runtime->devices_by_id = calloc(count ? count : 1, sizeof *runtime->devices_by_id);
    if (!runtime->devices_by_id)
        return -1;
    for (size_t d = 0; d < count; d++)
        runtime->devices_by_id[d] = &runtime->devices[d];
    qsort(runtime->devices_by_id, count, sizeof *runtime->devices_by_id, compare_device_ids);
    return 0;
}

struct bus *runtime_bus_named(struct runtime *runtime, const char *name)
{
    if (!runtime)
        return NULL;
    for (size_t b = 0; b < runtime->buses_prepared; b++)
        if (strcmp(bus_def(runtime->buses[b])->name, name) == 0)
            return runtime->buses[b];
    return NULL;
}

static int prepare_buses(struct runtime *runtime)
{
    const struct config *config = runtime->config;
    runtime->buses = calloc(config->bus_count ? config->bus_count : 1, sizeof *runtime->buses);
    if (!runtime->buses)
        return -1;
    size_t first = 0;
    for (size_t b = 0; b < config->bus_count; b++) {
        size_t count = 0;
        while (first + count < config->device_count &&
               runtime->devices_by_bus[first + count]->def->bus_index == b)
            count++;
        runtime->buses[b] = bus_prepare(&config->buses[b], &runtime->devices_by_bus[first], count);
        if (!runtime->buses[b])
            return -1;
        runtime->buses_prepared++;
        first += count;
    }
    return 0;
}

/* Stops the buses started so far and gives the connections they took over back. */
static void undo_start(struct runtime *runtime, struct runtime *predecessor, size_t started)
{
    for (size_t b = 0; b < started; b++) {
        struct bus *bus = runtime->buses[b];
        bus_stop(bus, false);
        bus_give_back(bus, runtime_bus_named(predecessor, bus_def(bus)->name));
    }
}

int runtime_start_buses(struct runtime *runtime, struct runtime *predecessor)
{
    for (size_t b = 0; b < runtime->buses_prepared; b++) {
        struct bus *bus = runtime->buses[b];
        if (bus_run(bus, runtime_bus_named(predecessor, bus_def(bus)->name)) != 0) {
            undo_start(runtime, predecessor, b);
            return -1;
        }
    }
    return 0;
}

int runtime_prepare(struct runtime *runtime, const struct config *config)
{
    *runtime = (struct runtime){.config = config};
    if (build_plans(runtime) != 0 || build_devices(runtime) != 0 || build_index(runtime) != 0 ||
        prepare_buses(runtime) != 0) {
        log_error("cannot start polling: out of memory or a profile cannot be read");
        runtime_free(runtime);
        return -1;
    }
    return 0;
}

static void restore_alarm(struct runtime *runtime, const struct alarm_store_entry *entry,
                          uint64_t now_ms)
{
    struct device *device = runtime_find_device(runtime, entry->device_id);
    int index = device ? config_rule_index(device->def, entry->alarm) : -1;
    struct rule_state *state = &device->rule_states[index];
    if (state->active)
        return;
    state->active = true;
    state->raised_at_ms = now_ms;
    state->value = entry->value;
    device->raised_wall_ms[index] = entry->raised_at_wall_ms;
    device->active_alarm_count++;
}

/* A saved bus_down of a bus still configured (the store keys it by the bus's name). */
static struct bus *down_bus(struct runtime *runtime, const struct alarm_store_entry *entry)
{
    if (strcmp(entry->alarm, bus_down_rule.name) != 0)
        return NULL;
    return runtime_bus_named(runtime, entry->device_id);
}

static bool still_configured(struct runtime *runtime, const struct alarm_store_entry *entry)
{
    struct device *device = runtime_find_device(runtime, entry->device_id);
    int index = device ? config_rule_index(device->def, entry->alarm) : -1;
    return (index >= 0 && device->def->rules[index].enabled) || down_bus(runtime, entry);
}

void runtime_restore_alarms(struct runtime *runtime, struct alarm_store *saved)
{
    uint64_t now_ms = time_monotonic_ms();
    for (size_t i = 0; i < alarm_store_count(saved);) {
        const struct alarm_store_entry *entry = alarm_store_entry(saved, i);
        struct bus *bus = down_bus(runtime, entry);
        if (bus) {
            bus_restore_down(bus, entry->raised_at_wall_ms);
            i++;
            continue;
        }
        if (still_configured(runtime, entry)) {
            restore_alarm(runtime, entry, now_ms);
            i++;
            continue;
        }
        log_info("alarm store: dropping saved alarm %s of %s (no longer configured)", entry->alarm,
                 entry->device_id);
        alarm_store_clear(saved, entry->device_id, entry->alarm);
    }
    if (alarm_store_count(saved) > 0)
        log_info("alarm store: %zu active alarms restored", alarm_store_count(saved));
}

void runtime_restore_shelvings(struct runtime *runtime, const struct shelving_store *saved)
{
    uint64_t wall_ms = time_wall_ms();
    for (size_t i = 0; i < saved->count; i++) {
        const struct shelving_entry *entry = &saved->entries[i];
        struct device *device = runtime_find_device(runtime, entry->device_id);
        int rule = device && entry->alarm ? config_rule_index(device->def, entry->alarm) : -1;
        if (!device || (entry->alarm && rule < 0) || entry->shelving.until_wall_ms <= wall_ms)
            continue; /* gone or over: the store drops it at its next write */
        struct shelving shelving = entry->shelving;
        shelving.rule_index = rule;
        char error[160];
        if (shelving_add(device, &shelving, error, sizeof error) != 0)
            log_alarm(LOG_WARNING, entry->device_id, entry->alarm, /* NULL: the whole device */
                      "shelving of %s not restored: %s", entry->device_id, error);
    }
}

void runtime_stop(struct runtime *runtime)
{
    for (size_t b = 0; b < runtime->buses_prepared; b++)
        bus_stop(runtime->buses[b], true);
}

void runtime_free(struct runtime *runtime)
{
    const struct config *config = runtime->config;
    for (size_t b = 0; b < runtime->buses_prepared; b++)
        bus_free(runtime->buses[b]);
    runtime->buses_prepared = 0;
    if (runtime->devices)
        for (size_t d = 0; d < config->device_count; d++)
            device_free(&runtime->devices[d]);
    if (runtime->plans)
        for (size_t p = 0; p < config->profile_count; p++)
            readplan_free(&runtime->plans[p]);
    free(runtime->buses);
    free(runtime->devices_by_bus);
    free(runtime->devices_by_id);
    free(runtime->devices);
    free(runtime->plans);
    *runtime = (struct runtime){.config = config};
}

bool runtime_buses_alive(struct runtime *runtime, uint64_t now_ms, uint64_t max_silence_ms)
{
    for (size_t b = 0; b < runtime->buses_prepared; b++) {
        uint64_t heartbeat = bus_heartbeat_ms(runtime->buses[b]);
        if (now_ms > heartbeat + max_silence_ms)
            return false;
    }
    return true;
}

struct device *runtime_find_device(struct runtime *runtime, const char *id)
{
    struct device_def key_def = {.id = (char *)id};
    struct device key = {.def = &key_def}, *key_pointer = &key;
    struct device **found =
        bsearch(&key_pointer, runtime->devices_by_id, runtime->config->device_count,
                sizeof *runtime->devices_by_id, compare_device_ids);
    return found ? *found : NULL;
}

struct bus *runtime_bus_of(struct runtime *runtime, const struct device *device)
{
    return runtime->buses[device->def->bus_index];
}

/*
 * Writer-preferring: a stream of control-socket readers must not hold a
 * reload's pointer swap back. Nobody takes the read lock twice, so a waiting
 * writer cannot deadlock a reader.
 */
static pthread_rwlock_t runtime_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

void runtime_lock_read(void)
{
    pthread_rwlock_rdlock(&runtime_lock);
}

void runtime_lock_write(void)
{
    pthread_rwlock_wrlock(&runtime_lock);
}

void runtime_unlock(void)
{
    pthread_rwlock_unlock(&runtime_lock);
}
