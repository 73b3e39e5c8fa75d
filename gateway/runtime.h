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
    struct read_plan *plans;        /* one per config->profiles entry */
    struct device *devices;         /* one per config->devices entry */
    struct device **devices_by_bus; /* devices grouped by bus, each bus a contiguous run */
    struct device **devices_by_id;  /* sorted by id, for look-ups */
    struct bus **buses;             /* one per config->buses entry */
    size_t buses_prepared;
};

struct alarm_store;

/*
 * Builds plans, devices and buses: everything that can fail but starting the
 * threads. Returns -1 (logged) with nothing left to free.
 */
int runtime_prepare(struct runtime *runtime, const struct config *config);

/*
 * Before the buses start: sets the saved active alarms on the devices, and
 * removes from saved those no longer configured (logged).
 */
void runtime_restore_alarms(struct runtime *runtime, struct alarm_store *saved);

struct shelving_store;

/* Before the buses start: puts the saved shelvings (still in force) back on the devices. */
void runtime_restore_shelvings(struct runtime *runtime, const struct shelving_store *saved);

/*
 * Starts a thread per bus. A bus whose wire is unchanged from predecessor's
 * bus of the same name (predecessor stopped, may be NULL) takes over its open
 * connection instead of reconnecting. On failure (logged) the buses started
 * are stopped again and the connections given back: nothing half-started.
 */
int runtime_start_buses(struct runtime *runtime, struct runtime *predecessor);

/*
 * Threads that read the runtime from outside the reactor thread (control socket,
 * MQTT commands) hold the read lock while they do; a reload holds the write
 * lock while it swaps one runtime for another.
 */
void runtime_lock_read(void);
void runtime_lock_write(void);
void runtime_unlock(void);

/*
 * Stops every bus and refuses the commands they had not run; devices
 * and buses can still be read afterwards.
 */
void runtime_stop(struct runtime *runtime);

/* Frees everything runtime_start built (stops first if still running). */
void runtime_free(struct runtime *runtime);

/* The device with that id, or NULL. Safe from any thread while the runtime runs. */
struct device *runtime_find_device(struct runtime *runtime, const char *id);

/* The bus with that name, or NULL (runtime may be NULL). */
struct bus *runtime_bus_named(struct runtime *runtime, const char *name);

/* The bus that polls device. */
struct bus *runtime_bus_of(struct runtime *runtime, const struct device *device);

/* True when every bus has shown life within max_silence_ms (for the watchdog). */
bool runtime_buses_alive(struct runtime *runtime, uint64_t now_ms, uint64_t max_silence_ms);

#endif
