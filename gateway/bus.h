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

#include "command.h"
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

#define BUS_COMMAND_QUEUE 16 /* operator commands waiting for their bus */

struct pending_command {
    struct device *device;
    struct command command;
};

struct bus {
    const struct bus_def *def;
    struct device **devices; /* this bus's devices (owned by the runtime) */
    size_t device_count;
    size_t offline_count; /* devices offline now; bus thread only */
    struct schedule schedule;
    /* scratch for one poll, sized for the largest read plan and profile */
    uint16_t *poll_registers;
    double *poll_values;

    modbus_t *ctx;
    bool link_up;
    uint32_t reconnect_backoff_ms;
    uint64_t next_connect_ms;
    struct bus_pacing pacing;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop_requested;                                /* under lock */
    struct pending_command commands[BUS_COMMAND_QUEUE]; /* ring, under lock */
    size_t command_first;
    size_t command_count;
    uint64_t state_epoch;          /* publish_connection_epoch when states were last all sent */
    struct bus_stats stats;        /* under lock */
    _Atomic uint64_t heartbeat_ms; /* monotonic; the watchdog checks it */
    bool stall_for_test;           /* SAFETYGW_TEST_STALL_BUS names this bus: play a stuck thread */
};

/*
 * Prepares the bus for devices[0..count) and starts its thread. Devices keep
 * their next_due_ms if set (a reload), else are due at once. With a stopped
 * predecessor of the same definition, the bus takes over its connection.
 */
int bus_start(struct bus *bus, const struct bus_def *def, struct device **devices, size_t count,
              struct bus *predecessor);

/*
 * Queues an operator command for the bus thread, which writes it before its
 * next poll and publishes the result. Returns -1 when the queue is full.
 */
int bus_post_command(struct bus *bus, struct device *device, const struct command *command);

/* Asks the thread to stop and joins it; the bus can still be read. */
void bus_stop(struct bus *bus);

/* Frees what bus_start allocated (after bus_stop). */
void bus_free(struct bus *bus);

#endif
