/*
 * timeutil.h — the two clocks the gateway uses. Monotonic milliseconds drive
 * polling and rule timers (immune to NTP steps); wall-clock milliseconds only
 * stamp what leaves the gateway (RFC 3339 UTC, as the MQTT contract says).
 */
#ifndef SAFETYGW_TIMEUTIL_H
#define SAFETYGW_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

uint64_t time_monotonic_ms(void);
uint64_t time_wall_ms(void);

/* Milliseconds since the epoch as "2026-11-27T08:00:01.250Z"; buf needs 25 bytes. */
void time_format_rfc3339(uint64_t wall_ms, char *buf, size_t size);

#endif
