/*
 * uplink.h — the one thread that talks to the broker.
 *
 * Every other thread hands the uplink what it wants sent through one bounded
 * queue and returns at once: the reactor posts alarm events (records, not yet
 * numbered), retained device states, telemetry and command results; the main
 * thread posts health. Paho's callbacks post what they received (commands,
 * connection up or down) into the same queue's inbox and return.
 *
 * The uplink thread alone
 *   - numbers alarm events with the gateway-wide seq, and commits the highest
 *     number handed out to state_dir/seq once per batch (group commit, before
 *     the batch is sent, so a crash can never reuse a number);
 *   - keeps the set of active alarms (from the events it numbers) and the
 *     shelvings in force, and writes them to state_dir at most once a second;
 *   - builds alarm event payloads and calls Paho (publish.c);
 *   - hands received commands to the handler main gave it (command_route.h).
 *
 * The queue's lock is held only to push (copying a message's text in) or
 * pop, and no poster waits for room (unless memory runs out): on the reactor
 * a wait would hold up every bus. Alarm events, command results and shelvings are never
 * dropped: the queue takes them past its capacity. What bounds them is the
 * buses, which start no poll and no command while 1024 of them wait
 * (uplink_has_room), so that past that come at most one poll's events and
 * one command's result a bus. Retained states are posted again by their bus when
 * they were not taken; telemetry and health are replaced by the next ones,
 * so a full queue drops them (counted in publish_dropped()). An uplink that
 * stops draining is the watchdog's (uplink_heartbeat_ms).
 */
#ifndef SAFETYGW_UPLINK_H
#define SAFETYGW_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "payload.h"
#include "publish.h"

struct alarm_store;
struct shelving;
struct shelving_store;

/*
 * What becomes of a command that arrived on P/cmd/<device_id>, on the uplink
 * thread: handed on (returns NULL), or refused (returns the P/cmd-result
 * payload, malloc'd, which the uplink publishes and frees).
 */
typedef char *uplink_command_handler(void *context, const char *device_id, const char *payload,
                                     size_t length);

/*
 * Reads the saved seq and active alarms from state_dir (refusing a state dir
 * it cannot write) and creates the MQTT client. Commands will go to
 * handle_command(command_context, ...). Returns -1 with the reason logged.
 */
int uplink_open(const struct config *config, uint64_t started_wall_ms,
                uplink_command_handler *handle_command, void *command_context);

/*
 * The active alarms saved by the last run: the main thread restores them on
 * the devices (and forgets those no longer configured) before uplink_run;
 * from then on the set is the uplink thread's.
 */
struct alarm_store *uplink_saved_alarms(void);

/* Starts the thread, which connects. Returns -1 with the reason logged. */
int uplink_run(void);

/*
 * Hands an alarm event over to be numbered and sent. The event's pointers
 * into the configuration must stay valid until uplink_sync() returns (a
 * reload syncs before it frees the old configuration). Taken also when the
 * queue is full; never waits, never drops.
 */
void uplink_post_event(const struct alarm_event *event);

/*
 * False while 1024 alarm events, command results and shelvings wait in the
 * queue: a bus then starts no poll and no command (whose events and results
 * the queue would take) until the uplink has taken some. Telemetry and
 * states filling the queue do not count: they are turned away instead.
 */
bool uplink_has_room(void);

/*
 * Hands over a message for P/<topic_suffix>: its payload's length bytes are
 * copied into the queue (no allocation: format it into a reused writer,
 * payload_thread_writer()). PUBLISH_KEPT is always taken, like an event;
 * PUBLISH_LATEST and PUBLISH_VOLATILE are not taken when the queue is full,
 * nor while too many messages wait in it and in Paho together (a slow
 * broker: WAITING_MAX, STATES_WAITING_MAX in uplink.c); a volatile one is
 * then counted as dropped, the poster of a latest one sends it again.
 * Returns 0 when queued.
 *
 * PUBLISH_KEPT messages (command results) wake the uplink at once, like
 * events; the others are taken with what else comes within 10 ms, so that a
 * busy gateway wakes the uplink once per batch rather than once per message.
 */
int uplink_post_text(const char *topic_suffix, const char *payload, size_t length, int qos,
                     bool retained, enum publish_kind kind);

/* As uplink_post_text, with payload taken (malloc'd, freed here). */
int uplink_post_message(const char *topic_suffix, char *payload, int qos, bool retained,
                        enum publish_kind kind);

/*
 * The retained P/device/<id>/state of device, formatted on the calling thread
 * (the reactor thread) into its writer and queued: no allocation. Never
 * waits (a wait would hold up every bus of the reactor): returns -1 when
 * the queue is full, and the bus posts the state again later (only the
 * latest state of a device matters).
 */
int uplink_post_device_state(const struct device *device);

/*
 * Hands over a shelving to keep for a restart: the device's alarm (NULL: all
 * of them) shelved as shelving says, or (shelving NULL) no longer shelved.
 */
void uplink_post_shelving(const char *device_id, const char *alarm,
                          const struct shelving *shelving);

/* The shelvings saved by the last run, to put back on the devices before uplink_run. */
struct shelving_store *uplink_saved_shelvings(void);

/* Returns once the uplink has handled everything posted before the call. */
void uplink_sync(void);

/* The seq the next alarm event will carry. */
uint64_t uplink_next_seq(void);

/* The uplink thread's last sign of life (monotonic ms), for the watchdog. */
uint64_t uplink_heartbeat_ms(void);

/*
 * Sends what is queued, publishes the offline status, gives the broker up to
 * drain_ms to acknowledge, saves seq and the active alarms, and stops the
 * thread. Every poster must have stopped before.
 */
void uplink_stop(uint32_t drain_ms);

#endif
