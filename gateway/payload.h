/*
 * payload.h — the JSON bodies of the MQTT contract (DESIGN.md, "MQTT
 * contract"): status, alarm events, device state, telemetry.
 *
 * Those are published per poll or per change, so they are written with
 * json_writer into a buffer the calling thread reuses (payload_write_*,
 * payload_thread_writer): no allocation per message. The payload_* functions
 * that return a string are the same text in a malloc'd string the caller
 * frees (NULL when out of memory). The json_t helpers below serve the
 * control protocol and the CLI, which stay with Jansson.
 *
 * Numbers: integral values are integers; others are trimmed to 6 decimals
 * (float noise) and written as the shortest text that reads back as the same
 * double; not finite is null with "<key>_error" beside it. A float32 point's
 * value is the decimal of the float its device sent (43.2, not 43.200001), a
 * rate has 6 significant digits (rules.c keeps rates as floats).
 */
#ifndef SAFETYGW_PAYLOAD_H
#define SAFETYGW_PAYLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "device.h"
#include "json_writer.h"
#include "shelving.h"

struct alarm_event {
    const char *gateway_id;
    uint64_t seq;
    bool raised;  /* false: cleared */
    bool shelved; /* "event":"shelved" (raised is then true): reason says why, until when */
    bool held_back; /* the alarm is shelved: the interlock acts, the event is not sent */
    const struct shelving *shelved_as; /* shelved by hand: "shelved":{"until","reason","by"} */
    uint64_t shelved_until_wall_ms;
    const struct device_def *device; /* NULL for a bus-level alarm */
    /* a bus-level alarm (bus_down): the bus, how many devices went silent, where they are */
    const struct bus_def *bus;
    uint32_t devices_affected;
    const char *locations_json; /* [{"compound":..,"building":..},..] */
    const struct rule_def *rule;
    double value; /* what the rule judged (value, bit, rate per minute) */
    uint64_t raised_at_wall_ms;
    uint64_t ts_wall_ms;
    const char *action; /* interlock run on raise, or NULL */
    bool action_ok;
    const char *action_error; /* why it failed, or NULL */
    const char *reason;       /* a clear that is not a return to normal (reload), or NULL */
};

/* {"until":..,"reason":..,"by":..} of a shelving by hand. */
json_t *payload_shelving(const struct shelving *shelving);

/*
 * The shelvings in force at wall_ms (SHELVINGS_MAX slots, or NULL): a list of
 * {"alarm":name or null (all),"until","reason","by"}.
 */
json_t *payload_shelvings(const struct device_def *def, const struct shelving *shelvings,
                          uint64_t wall_ms);

/* The device id, or the bus name of a bus-level alarm: P/alarm/<this>. */
const char *payload_event_source(const struct alarm_event *event);

/*
 * Each writes its payload into writer (reset first; its buffer grows when
 * needed and is kept): 0, or -1 when out of memory. The text is writer->text,
 * writer->length bytes.
 */
int payload_write_status(struct json_writer *writer, bool online, uint64_t started_wall_ms);
int payload_write_alarm_event(struct json_writer *writer, const struct alarm_event *event);
/* Reads the device: on the reactor thread, or on a copy. */
int payload_write_device_state(struct json_writer *writer, const struct device *device);
/* P/telemetry/<id>: {"ts":..,"values":{..}} with the device's current values. */
int payload_write_telemetry(struct json_writer *writer, const struct device *device);

/*
 * The calling thread's writer for the payloads above, made at its first use
 * and freed when the thread ends; NULL only when out of memory.
 */
struct json_writer *payload_thread_writer(void);

/* The same payloads as malloc'd strings. */
char *payload_status(bool online, uint64_t started_wall_ms);
char *payload_alarm_event(const struct alarm_event *event);
char *payload_device_state(const struct device *device);
char *payload_telemetry(const struct device *device);

/*
 * A number as people write it: 25 rather than 25.0, 27.5 rather than
 * 27.500000000000004. JSON has no NaN or infinity: those are null, so that
 * the key is never silently dropped (docs/mqtt.md, "Values that are not numbers").
 */
json_t *payload_number(double value);

/*
 * Why value is null in JSON: "not a number", "positive infinity" or
 * "negative infinity"; NULL when it is finite.
 */
const char *payload_number_error(double value);

/*
 * Sets key to payload_number(value) and, when value is not finite, also
 * "<key>_error" to the reason: {"value":null,"value_error":"not a number"}.
 */
void payload_set_number(json_t *object, const char *key, double value);

/*
 * Replaces, in place, every byte of text that does not belong to a valid UTF-8
 * character with '?'. JSON strings are UTF-8 and Jansson refuses to build one
 * from anything else, yet messages quote what a client sent (Jansson's own
 * parse errors quote raw bytes) or cut it short in the middle of a character.
 */
void payload_make_utf8(char *text);

/* A status word's named bits: {"al1":true,"valve_closed":false,...}. */
json_t *payload_bits(const struct point_def *point, double value);

/*
 * One point for people and scripts: {"point":..,"value":..,"unit":..[,"bits":{..}]};
 * a value that is not finite is "value":null with "value_error" and no "bits".
 */
json_t *payload_point_entry(const struct point_def *point, double value);

/* Dumps and frees root. */
char *payload_dump(json_t *root);

#endif
