/*
 * bus.h — one bus (RS-485 line or Modbus TCP converter): requests on it are
 * strictly serialised and each carries its device's slave address.
 *
 * Who drives it: every bus, rtu or tcp, is served by the one reactor thread
 * (reactor.h): a non-blocking tty or socket, its steps (open or connect,
 * the silence or gap, send, reply, timeout) run as the reactor's calls
 * (bus_steps.c), which come back to the decisions in bus.c (next_work,
 * finish_poll_*, commands). "The bus's thread" below is the reactor.
 *
 * Ownership: the bus's thread alone owns the link, the schedule and its
 * devices (struct device); it alone writes them, and it runs its devices'
 * interlocks and operator commands itself, on its own wire (on tcp as
 * transactions queued on its connection, like polls). Two small locks let
 * other threads in, and neither is ever held across I/O, a call into Paho,
 * the disk or another module's callback:
 *   - snapshot_lock guards what other threads may read: the devices' values,
 *     rule states and counters, and `stats`. The bus's thread holds it only
 *     while it records a poll (copying values, running the pure rules);
 *     readers hold it only while they copy (bus_snapshot_device).
 *   - inbox_lock guards the command queue; it is held only to push or pop.
 * Lock order: runtime_lock (read) → inbox_lock or snapshot_lock; the two bus
 * locks are never held together, and never with the reactor's own lock
 * (reactor.h: the reactor calls a bus with its lock free; bus_stop waits
 * for the reactor to let go with no bus lock held).
 * Alarm events, states, telemetry and command results leave through the
 * uplink's queue (uplink.h).
 */
#ifndef SAFETYGW_BUS_H
#define SAFETYGW_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus_down.h"
#include "command.h"
#include "config.h"
#include "device.h"
#include "snapshot.h"


/* A bus's state is its thread's (bus.c); other threads read it through these. */
struct bus;

/*
 * A bus for devices[0..count), with everything that can fail but the thread
 * itself. Returns NULL with the reason logged.
 */
struct bus *bus_prepare(const struct bus_def *def, struct device **devices, size_t count);

/* What the bus is and polls: read-only configuration and the devices it owns. */
const struct bus_def *bus_def(const struct bus *bus);
size_t bus_device_count(const struct bus *bus);
struct device *bus_device(const struct bus *bus, size_t i);

/*
 * Copies a device of the bus's live state under the bus's snapshot lock
 * (snapshot.h says what is copied), and the bus's statistics.
 */
void bus_snapshot_device(struct bus *bus, const struct device *device,
                         struct device_snapshot *out);
struct bus_stats bus_snapshot_stats(struct bus *bus);

/* The bus's bus_down alarm, for a reload once the bus has stopped. */
const struct bus_down *bus_down_stopped(const struct bus *bus);

/*
 * When the bus's thread last showed life (monotonic ms): the watchdog checks
 * it. The reactor refreshes the heartbeats of every bus it serves each time
 * round its loop.
 */
uint64_t bus_heartbeat_ms(struct bus *bus);

/*
 * Starts the bus: it joins the reactor (whose thread starts with the first).
 * Devices keep their next_due_ms if set (a reload), else are due at once.
 * With a stopped predecessor on the same wire, the bus takes over its open
 * tty or connection. Returns -1 with the reason logged.
 */
int bus_run(struct bus *bus, struct bus *predecessor);

/* Before bus_run: the bus was down when the daemon stopped (the saved alarm set says so). */
void bus_restore_down(struct bus *bus, uint64_t raised_wall_ms);

/* Gives a connection taken over by bus_run back to the predecessor (a reload undone). */
void bus_give_back(struct bus *bus, struct bus *predecessor);

/*
 * Queues an operator command for the bus, which writes it before its next
 * poll and publishes the result. Returns -1 when the queue is full.
 */
int bus_post_command(struct bus *bus, struct device *device, const struct command *command);

/*
 * Asks the bus to stop and waits until it has: the reactor lets it go once
 * its step under way (a poll, an interlock's or a command's write) is done,
 * and watches its tty or socket no more. The bus can still be read, its
 * tty or connection handed on. With
 * refuse_commands, commands that never reached the wire are answered with a
 * refusal instead of waiting for a restart of the bus.
 */
void bus_stop(struct bus *bus, bool refuse_commands);

/*
 * The whole bus is gone, not one device on it: its link cannot be opened, or
 * every device's last poll timed out and nothing answered for the bus's
 * link_timeout_ms (link_watch.h): a converter or its network gone, an RS-485
 * line cut or unpowered. False again at the first answer. For the reactor thread
 * (its stats.link_silent carries a copy for other threads).
 */
bool bus_link_silent(const struct bus *bus);

/* Stops the bus and frees it and what bus_prepare allocated. NULL is fine. */
void bus_free(struct bus *bus);

#endif
