/*
 * publish.h — the northbound MQTT link (Paho MQTTAsync).
 *
 * Paho owns the outgoing queue: messages sent while the broker is unreachable
 * are buffered (sendWhileDisconnected) and persisted under state_dir, and go
 * out in order when the link returns. Paho's API is thread-safe, so bus
 * threads publish directly; ordering of alarm events is kept by alarm.c, which
 * numbers and sends them under one lock.
 */
#ifndef SAFETYGW_PUBLISH_H
#define SAFETYGW_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Creates the client and starts connecting; returns -1 on a setup error (logged). */
int publish_start(const struct config *config, uint64_t started_wall_ms);

/* Called by the main loop about once a second: retries a first connection that failed. */
void publish_tick(uint64_t now_ms);

/* Publishes P/<topic_suffix>. Returns 0, or -1 if Paho refused it (logged). */
int publish_send(const char *topic_suffix, const char *payload, int qos, bool retained);

bool publish_connected(void);

/* Messages accepted but not yet acknowledged by the broker. */
size_t publish_pending(void);

/* Publishes the offline status, waits up to timeout_ms for the queue, disconnects. */
void publish_stop(uint32_t timeout_ms);

#endif
