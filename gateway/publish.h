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
 * Paho's API is thread-safe: bus threads publish directly. Ordering of alarm
 * events is kept by alarm.c, which numbers and sends them under one lock.
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
    PUBLISH_LATEST,   /* retained state: sent only while connected, resent on reconnect */
    PUBLISH_VOLATILE, /* health: sent only while connected */
};

/* Receives P/cmd/<device-id> messages, on Paho's thread. */
typedef void (*publish_command_handler)(const char *device_id, const char *payload, size_t length);

/*
 * Creates the client, restoring what an earlier run left queued; returns -1 on
 * a setup error (logged). Messages sent before publish_connect wait in the queue.
 */
int publish_start(const struct config *config, uint64_t started_wall_ms,
                  publish_command_handler on_command);

/* Starts connecting (and, once connected, receiving commands). */
void publish_connect(void);

/* Called by the main loop about once a second: retries a first connection that failed. */
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

/* Messages accepted but not yet acknowledged by the broker. */
size_t publish_pending(void);

/* Messages Paho refused (buffer full, client error) since start. */
uint64_t publish_dropped(void);

/* Publishes the offline status, waits up to timeout_ms for the queue, disconnects. */
void publish_stop(uint32_t timeout_ms);

#endif
