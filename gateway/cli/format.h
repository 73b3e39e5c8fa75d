/*
 * format.h — the daemon's JSON values as people read them in a table:
 * ages ("12s ago"), local times, durations, locations, numbers with units.
 */
#ifndef SAFETYGW_CLI_FORMAT_H
#define SAFETYGW_CLI_FORMAT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CLI_FORMAT_MAX 256

/* object's string member key, or "-" when it has none. */
const char *cli_format_text_of(const json_t *object, const char *key);

/* object's integer member key, or 0 when it has none. */
json_int_t cli_format_integer_of(const json_t *object, const char *key);

/* "12s ago", "3m ago", "2h ago", "4d ago"; "never" when timestamp is not a time string. */
void cli_format_age(const json_t *timestamp, time_t now, char *out, size_t size);

/* An RFC 3339 UTC time as local "YYYY-MM-DD HH:MM:SS"; "-" when not a time string. */
void cli_format_local_time(const json_t *timestamp, char *out, size_t size);

/* "45s", "12m 05s", "3h 04m", "2d 03h". */
void cli_format_duration(uint64_t seconds, char *out, size_t size);

/* A location object's values joined by "/": "长寿新村/12/2/301". */
void cli_format_location(const json_t *location, char *out, size_t size);

/* A number, boolean or string as text; with the unit after a number when unit is a string. */
void cli_format_value(const json_t *value, const json_t *unit, char *out, size_t size);

/* A status word's named bits as the names of those set: "al1,valve_closed", or "none". */
void cli_format_bits(const json_t *bits, char *out, size_t size);

/*
 * One point of a values array ({"point","value","unit"[,"bits"]}): its named bits
 * set, or its value with its unit.
 */
void cli_format_point(const json_t *point, char *out, size_t size);

/* What raised an alarm: "gas_lel = 30 %LEL (threshold 25 %LEL)", "no valid answer for 3 polls". */
void cli_format_alarm_detail(const json_t *alarm, char *out, size_t size);

/* Seconds since the epoch of an RFC 3339 UTC time; -1 when it is not one. */
time_t cli_format_parse_time(const json_t *timestamp);

#endif
