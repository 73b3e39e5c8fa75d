/*
 * publish.h — the northbound MQTT link (Paho MQTTAsync).
 *
 * Paho owns the outgoing queue: alarm events and command results sent while
 * the broker is unreachable are buffered (sendWhileDisconnected), persisted
 * under state_dir/mqtt so they survive a crash, and go out in order when the
 * link returns. Retained device state and health are not buffered: only the
 * newest state matters, so it is published again on every reconnect instead
 * (see publish_connection_epoch), and a stale health report is worthless. So
 * the buffer holds alarm events alone, and a full buffer drops nothing else
 * first.
 *
 * Only the uplink thread (uplink.c) calls the functions below that reach
 * Paho; Paho's callbacks call the hooks, which only copy what they got into
 * the uplink's queue, and never call back into Paho. Reconnection is ours,
 * not Paho's automaticReconnect (publish.c says why), so the uplink's tick
 * drives it. publish_connected(),
 * publish_connection_epoch(), publish_pending() and publish_dropped() read
 * atomics and are safe from any thread.
 */
#ifndef SAFETYGW_PUBLISH_H
#define SAFETYGW_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Room for P/<suffix>: a topic prefix and a device id are each at most a few hundred bytes. */
#define PUBLISH_TOPIC_MAX 512

enum publish_kind {
    PUBLISH_KEPT,     /* alarm events, command results: buffered on disk until delivered */
    PUBLISH_LATEST,   /* a device's latest, retained state or telemetry: sent only while
                         connected; a full queue turns it away and its bus posts it again */
    PUBLISH_VOLATILE, /* health: sent only while connected */
};

/* Called on Paho's threads: each only copies into a queue and returns. */
struct publish_hooks {
    /* A P/cmd/<device-id> message; false: no room now (Paho delivers it again later). */
    bool (*command_arrived)(const char *device_id, const char *payload, size_t length);
    /* The connection came up: the uplink then calls publish_announce. */
    void (*connected)(void);
};

/*
 * Creates the client, restoring what an earlier run left queued; returns -1 on
 * a setup error (logged). Messages sent before publish_connect wait in the queue.
 */
int publish_start(const struct config *config, uint64_t started_wall_ms,
                  const struct publish_hooks *hooks);

/* Starts connecting (and, once connected, receiving commands). */
void publish_connect(void);

/* After hooks->connected: publishes the online status, subscribes to commands, bumps the epoch. */
void publish_announce(void);

/*
 * Called by the uplink every 200 ms or so: reconnects after a lost connection
 * or a failed attempt, with a jittered back-off (up to 2 s) and starting at the
 * next node of mqtt.uris; counts what is pending in Paho.
 */
void publish_tick(uint64_t now_ms);

/*
 * Publishes P/<topic_suffix>. Returns 0 when sent or queued; 1 when a
 * PUBLISH_LATEST or PUBLISH_VOLATILE message was skipped because the broker is
 * unreachable; -1 when Paho refused it (logged and counted as dropped).
 */
int publish_send(const char *topic_suffix, const char *payload, int qos, bool retained,
                 enum publish_kind kind);

bool publish_connected(void);

/* Rises by one on every (re)connection: whoever publishes retained state resends it then. */
uint64_t publish_connection_epoch(void);

/* Messages accepted but not yet acknowledged by the broker, as of the last publish_tick. */
size_t publish_pending(void);

/*
 * Messages in Paho's hands, not yet written (QoS 0) or acknowledged (QoS 1):
 * publish_pending plus those handed to Paho since, so never short of the truth.
 */
size_t publish_backlog(void);

/* Messages Paho refused (buffer full, client error) since start. */
uint64_t publish_dropped(void);

/* Messages refused since start by the uplink's queue or by Paho; adds to the count. */
void publish_count_dropped(void);

/* Publishes the offline status, waits up to timeout_ms for the queue, disconnects. */
void publish_stop(uint32_t timeout_ms);

#endif
