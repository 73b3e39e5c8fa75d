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
uint64_t time_monotonic_us(void); /* the same clock, in microseconds (line timing) */
uint64_t time_wall_ms(void);

/* Milliseconds since the epoch as "2026-11-27T08:00:01.250Z"; buf needs 25 bytes. */
void time_format_rfc3339(uint64_t wall_ms, char *buf, size_t size);

/*
 * A duration as people write it: "90s", "30m", "2h", "1d" (one number and one
 * unit). Returns 0 with *ms filled, or -1 when it is not of that form.
 */
int time_parse_duration(const char *text, uint64_t *ms);

#endif
