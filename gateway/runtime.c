#include "runtime.h"

#include <stdlib.h>

#include "log.h"

static int build_plans(struct runtime *runtime)
{
    const struct config *config = runtime->config;
    runtime->plans = calloc(config->profile_count ? config->profile_count : 1,
                            sizeof *runtime->plans);
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

static const struct read_plan *plan_of(const struct runtime *runtime,
                                       const struct profile *profile)
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

static int start_buses(struct runtime *runtime)
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
        if (bus_start(&runtime->buses[b], &config->buses[b], &runtime->devices_by_bus[first],
                      count) != 0)
            return -1;
        runtime->buses_started++;
        first += count;
    }
    return 0;
}

int runtime_start(struct runtime *runtime, const struct config *config)
{
    *runtime = (struct runtime){.config = config};
    if (build_plans(runtime) != 0 || build_devices(runtime) != 0 || start_buses(runtime) != 0) {
        log_error("cannot start polling (out of memory or a bus failed to start)");
        runtime_stop(runtime);
        return -1;
    }
    return 0;
}

void runtime_stop(struct runtime *runtime)
{
    const struct config *config = runtime->config;
    for (size_t b = 0; b < runtime->buses_started; b++)
        bus_stop(&runtime->buses[b]);
    runtime->buses_started = 0;
    if (runtime->devices)
        for (size_t d = 0; d < config->device_count; d++)
            device_free(&runtime->devices[d]);
    if (runtime->plans)
        for (size_t p = 0; p < config->profile_count; p++)
            readplan_free(&runtime->plans[p]);
    free(runtime->buses);
    free(runtime->devices_by_bus);
    free(runtime->devices);
    free(runtime->plans);
    *runtime = (struct runtime){.config = config};
}

bool runtime_buses_alive(struct runtime *runtime, uint64_t now_ms, uint64_t max_silence_ms)
{
    for (size_t b = 0; b < runtime->buses_started; b++) {
        uint64_t heartbeat = atomic_load(&runtime->buses[b].heartbeat_ms);
        if (now_ms > heartbeat + max_silence_ms)
            return false;
    }
    return true;
}
