/*
 * bus.h — one poller thread per bus (RS-485 line or Modbus TCP connection),
 * with one libmodbus context: requests on a bus are strictly serialised and
 * each carries its device's slave address.
 *
 * Ownership: the bus thread alone owns the context, the schedule and its
 * devices (struct device); it alone writes them, and it runs its devices'
 * interlocks and operator commands itself, on its own wire. Two small locks
 * let other threads in, and neither is ever held across I/O, a call into
 * Paho, the disk or another module's callback:
 *   - snapshot_lock guards what other threads may read: the devices' values,
 *     rule states and counters, and `stats`. The bus thread holds it only
 *     while it records a poll (copying values, running the pure rules);
 *     readers hold it only while they copy (snapshot.c).
 *   - inbox_lock guards the command queue and the stop request; it is held
 *     only to push or pop.
 * Alarm events, states, telemetry and command results leave through the
 * uplink's queue (uplink.h). The two locks are never held together.
 */
#ifndef SAFETYGW_BUS_H
#define SAFETYGW_BUS_H

#include <modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus_down.h"
#include "command.h"
#include "config.h"
#include "device.h"
#include "device_poll.h"
#include "link_watch.h"
#include "payload.h"
#include "schedule.h"

struct bus_stats {
    uint64_t polls_ok;
    uint64_t polls_failed;
    uint64_t reconnects;
    /* replies that came after their request had timed out (dropped) */
    uint64_t late_replies;
    double cycle_ms; /* smoothed interval between polls of the same device */
    bool link_up;
    bool down; /* bus_down is raised (bus_down.h) */
    bool link_silent; /* bus_link_silent() */
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

    /* the bus thread's alone */
    size_t offline_count; /* devices offline now */
    struct schedule schedule;
    uint16_t *poll_registers; /* scratch for one poll, sized for the largest read plan */
    double *poll_values;      /* ... and profile */
    struct alarm_event *decided; /* one poll's alarm events, room for the most rules */
    modbus_t *ctx;
    bool link_up;
    uint32_t connect_failures; /* in a row */
    struct bus_down down;
    char *down_locations; /* the locations bus_down named when raised (its clear repeats them) */
    bool recovering; /* bus_down just cleared: every device is polled again at once */
    double fast_share; /* of the bus's time, taken by devices polled fast (alarm.h) */
    uint32_t reconnect_backoff_ms;
    uint64_t next_connect_ms;
    struct bus_pacing pacing;
    struct tcp_link tcp; /* a tcp bus's transactions (pacing.tcp points here) */
    struct link_watch watch;
    bool link_failed; /* the link could not be opened since it was last open */
    /* pacing.late_replies already counted on their devices */
    uint64_t late_replies_seen;
    uint64_t state_epoch; /* publish_connection_epoch when states were last all sent */
    bool stall_for_test;  /* SAFETYGW_TEST_STALL_BUS names this bus: play a stuck thread */

    pthread_mutex_t snapshot_lock;
    struct bus_stats stats; /* under snapshot_lock */

    pthread_mutex_t inbox_lock;
    pthread_cond_t wake;
    bool stop_requested;                                /* under inbox_lock */
    struct pending_command commands[BUS_COMMAND_QUEUE]; /* ring, under inbox_lock */
    size_t command_first;
    size_t command_count;

    pthread_t thread;
    bool thread_started;
    _Atomic uint64_t heartbeat_ms; /* monotonic; the watchdog checks it */
};

/*
 * Prepares the bus for devices[0..count): everything that can fail but the
 * thread itself. Returns -1 with the reason logged (nothing to free then).
 */
int bus_prepare(struct bus *bus, const struct bus_def *def, struct device **devices,
                size_t count);

/*
 * Starts the bus thread. Devices keep their next_due_ms if set (a reload),
 * else are due at once. With a stopped predecessor on the same wire, the bus
 * takes over its open connection. Returns -1 with the reason logged.
 */
int bus_run(struct bus *bus, struct bus *predecessor);

/* Before bus_run: the bus was down when the daemon stopped (the saved alarm set says so). */
void bus_restore_down(struct bus *bus, uint64_t raised_wall_ms);

/* Gives a connection taken over by bus_run back to the predecessor (a reload undone). */
void bus_give_back(struct bus *bus, struct bus *predecessor);

/*
 * Queues an operator command for the bus thread, which writes it before its
 * next poll and publishes the result. Returns -1 when the queue is full.
 */
int bus_post_command(struct bus *bus, struct device *device, const struct command *command);

/*
 * Asks the thread to stop and joins it; the bus can still be read. With
 * refuse_commands, commands that never reached the wire are answered with a
 * refusal instead of waiting for a restart of the bus.
 */
void bus_stop(struct bus *bus, bool refuse_commands);

/*
 * The whole bus is gone, not one device on it: its link cannot be opened, or
 * every device's last poll timed out and nothing answered for the bus's
 * link_timeout_ms (link_watch.h): a converter or its network gone, an RS-485
 * line cut or unpowered. False again at the first answer. For the bus thread
 * (its stats.link_silent carries a copy for other threads).
 */
bool bus_link_silent(const struct bus *bus);

/* Frees what bus_prepare allocated (after bus_stop). */
void bus_free(struct bus *bus);

#endif
