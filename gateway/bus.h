/*
 * bus.h — one poller thread per bus (RS-485 line or Modbus TCP connection),
 * with one libmodbus context: requests on a bus are strictly serialised and
 * each carries its device's slave address.
 *
 * Ownership: the bus thread alone touches the context and its devices' poll
 * state. `lock` guards what other threads may read (devices' values, rule
 * states and counters, and `stats`); the thread holds it only while it records
 * a poll, never while it waits on the wire.
 */
#ifndef SAFETYGW_BUS_H
#define SAFETYGW_BUS_H

#include <modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "device.h"
#include "device_poll.h"
#include "schedule.h"

struct bus_stats {
    uint64_t polls_ok;
    uint64_t polls_failed;
    uint64_t reconnects;
    double cycle_ms; /* smoothed interval between polls of the same device */
    bool link_up;
};

struct bus {
    const struct bus_def *def;
    struct device **devices; /* this bus's devices (owned by the runtime) */
    size_t device_count;
    struct schedule schedule;
    double *poll_values; /* scratch for one poll, sized for the largest profile */

    modbus_t *ctx;
    bool link_up;
    uint32_t reconnect_backoff_ms;
    uint64_t next_connect_ms;
    struct bus_pacing pacing;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop_requested; /* under lock */
    struct bus_stats stats; /* under lock */
    _Atomic uint64_t heartbeat_ms; /* monotonic; the watchdog checks it */
};

/* Prepares the bus for devices[0..count) and starts its thread. */
int bus_start(struct bus *bus, const struct bus_def *def, struct device **devices,
              size_t count);

/* Asks the thread to stop, joins it and frees what bus_start allocated. */
void bus_stop(struct bus *bus);

#endif
