/*
 * runtime.h — the running gateway built from one configuration: a read plan
 * per profile, a struct device per configured device, and a bus (thread) per
 * configured bus holding its devices.
 *
 * Owned by the main thread, which starts and stops it; the buses own their
 * devices' poll state while running (see bus.h).
 */
#ifndef SAFETYGW_RUNTIME_H
#define SAFETYGW_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "config.h"
#include "device.h"
#include "readplan.h"

struct runtime {
    const struct config *config;
    struct read_plan *plans; /* one per config->profiles entry */
    struct device *devices; /* one per config->devices entry */
    struct device **devices_by_bus; /* devices grouped by bus, each bus a contiguous run */
    struct bus *buses; /* one per config->buses entry */
    size_t buses_started;
};

int runtime_start(struct runtime *runtime, const struct config *config);
void runtime_stop(struct runtime *runtime);

/* True when every bus thread has shown life within max_silence_ms (for the watchdog). */
bool runtime_buses_alive(struct runtime *runtime, uint64_t now_ms, uint64_t max_silence_ms);

#endif
