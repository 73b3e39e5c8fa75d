#include "payload.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "timeutil.h"
#include "utf8.h"

/* Engineering values carry at most this many decimals; the rest is float noise. */
#define VALUE_DECIMALS 1e6

/* Integers up to this are exact in a double and in json_int_t. */
#define LARGEST_EXACT_INTEGER 9e15

/* Significant digits that always read back as the same float (FLT_DIG is the fewest). */
#define FLOAT_DIGITS_MAX 9

const char *payload_number_error(double value)
{
    if (isnan(value))
        return "not a number";
    if (isinf(value))
        return value > 0 ? "positive infinity" : "negative infinity";
    return NULL;
}

/*
 * A finite value with its float noise trimmed to VALUE_DECIMALS. From 9e9 on
 * a double has no room for 6 decimals (value * VALUE_DECIMALS is no longer
 * exact), and rounding would add noise of its own: such a value stays as it is.
 */
static double trimmed(double value)
{
    if (fabs(value) >= LARGEST_EXACT_INTEGER / VALUE_DECIMALS)
        return value;
    return round(value * VALUE_DECIMALS) / VALUE_DECIMALS;
}

static bool exact_integer(double value)
{
    return value == floor(value) && fabs(value) < LARGEST_EXACT_INTEGER;
}

/*
 * JSON has no NaN or infinity, and Jansson's json_real() returns NULL for
 * them, which json_object_set_new() then drops with the key: null keeps the
 * key, and payload_set_number() says why beside it.
 */
json_t *payload_number(double value)
{
    if (!isfinite(value))
        return json_null();
    double rounded = trimmed(value);
    if (exact_integer(rounded))
        return json_integer((json_int_t)rounded);
    return json_real(rounded);
}

void payload_make_utf8(char *text)
{
    unsigned char *next = (unsigned char *)text;
    while (*next != '\0') {
        size_t length = utf8_character(next);
        if (length == 0)
            *next++ = '?';
        else
            next += length;
    }
}

void payload_set_number(json_t *object, const char *key, double value)
{
    json_object_set_new(object, key, payload_number(value));
    const char *error = payload_number_error(value);
    if (!error)
        return;
    char error_key[64];
    snprintf(error_key, sizeof error_key, "%s_error", key);
    json_object_set_new(object, error_key, json_string(error));
}

char *payload_dump(json_t *root)
{
    if (!root)
        return NULL;
    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(root);
    return text;
}

static json_t *timestamp(uint64_t wall_ms)
{
    char text[32];
    time_format_rfc3339(wall_ms, text, sizeof text);
    return json_string(text);
}

json_t *payload_shelving(const struct shelving *shelving)
{
    return json_pack("{s:o, s:s, s:s}", "until", timestamp(shelving->until_wall_ms), "reason",
                     shelving->reason, "by", shelving->by);
}

json_t *payload_shelvings(const struct device_def *def, const struct shelving *shelvings,
                          uint64_t wall_ms)
{
    json_t *list = json_array();
    for (size_t i = 0; shelvings && i < SHELVINGS_MAX; i++) {
        if (shelvings[i].until_wall_ms <= wall_ms)
            continue;
        json_t *entry = payload_shelving(&shelvings[i]);
        int rule = shelvings[i].rule_index;
        json_object_set_new(entry, "alarm",
                            rule >= 0 ? json_string(def->rules[rule].name) : json_null());
        json_array_append_new(list, entry);
    }
    return list;
}

json_t *payload_bits(const struct point_def *point, double value)
{
    json_t *bits = json_object();
    unsigned long word = (unsigned long)llround(value);
    for (size_t b = 0; b < point->bit_count; b++)
        json_object_set_new(bits, point->bits[b].name,
                            json_boolean((word >> point->bits[b].bit) & 1u));
    return bits;
}

json_t *payload_point_entry(const struct point_def *point, double value)
{
    json_t *root = json_object();
    json_object_set_new(root, "point", json_string(point->name));
    if (point->type == TYPE_BOOL && isfinite(value))
        json_object_set_new(root, "value", json_boolean(value != 0));
    else
        payload_set_number(root, "value", value);
    if (point->unit)
        json_object_set_new(root, "unit", json_string(point->unit));
    if (point->type == TYPE_BITS && isfinite(value))
        json_object_set_new(root, "bits", payload_bits(point, value));
    return root;
}

const char *payload_event_source(const struct alarm_event *event)
{
    return event->device ? event->device->id : event->bus->name;
}

/*
 * The MQTT payloads, written with json_writer (no allocation once the
 * writer's buffer is big enough). Keys and their order are those the Jansson
 * code before wrote; tests/daemon/test_payload.c holds its output.
 */

/* payload_number's rule: null when not finite, an integer when integral, else a real. */
static void write_number(struct json_writer *writer, double value)
{
    if (!isfinite(value)) {
        json_writer_null(writer);
        return;
    }
    double rounded = trimmed(value);
    if (exact_integer(rounded))
        json_writer_integer(writer, (long long)rounded);
    else
        json_writer_double(writer, rounded);
}

/* "key":number and, when the number is not finite, "key_error":why (payload_set_number). */
static void write_number_member(struct json_writer *writer, const char *key, double value)
{
    json_writer_key(writer, key);
    write_number(writer, value);
    const char *error = payload_number_error(value);
    if (!error)
        return;
    char error_key[64];
    snprintf(error_key, sizeof error_key, "%s_error", key);
    json_writer_key(writer, error_key);
    json_writer_string(writer, error);
}

/*
 * A float32 point's value as its device meant it: the register holds a float
 * (24 bits), and 43.2 read as a double is 43.20000076293945, which would go
 * out as 43.200001. Taken back to the float the device sent, that float is
 * written as the shortest decimal that is the same float (43.2), then scaled.
 */
static double float32_value(const struct point_def *point, double value)
{
    if (point->type != TYPE_FLOAT32 || point->scale == 0 || !isfinite(value))
        return value;
    float raw = (float)((value - point->offset) / point->scale);
    if (!isfinite(raw))
        return value;
    char text[32];
    for (int precision = FLT_DIG; precision <= FLOAT_DIGITS_MAX; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, (double)raw);
        if (strtof(text, NULL) == raw)
            break;
    }
    return strtod(text, NULL) * point->scale + point->offset;
}

/*
 * rules.c keeps a rate rule's lows and last rate as floats (to keep every
 * rule state small), so a judged rate is good to FLT_DIG significant digits;
 * beyond them it is float noise (43.200001 for 43.2).
 */
static double rate_value(double rate)
{
    if (!isfinite(rate))
        return rate;
    char text[32];
    snprintf(text, sizeof text, "%.*g", FLT_DIG, rate);
    return strtod(text, NULL);
}

static void write_timestamp(struct json_writer *writer, uint64_t wall_ms)
{
    char text[32];
    time_format_rfc3339(wall_ms, text, sizeof text);
    json_writer_string(writer, text);
}

static void write_string_member(struct json_writer *writer, const char *key, const char *text)
{
    json_writer_key(writer, key);
    json_writer_string(writer, text);
}

static void write_shelving_members(struct json_writer *writer, const struct shelving *shelving)
{
    json_writer_key(writer, "until");
    write_timestamp(writer, shelving->until_wall_ms);
    write_string_member(writer, "reason", shelving->reason);
    write_string_member(writer, "by", shelving->by);
}

static void write_location(struct json_writer *writer, const struct device_def *device)
{
    json_writer_begin_object(writer);
    for (size_t i = 0; i < device->location_count; i++)
        write_string_member(writer, device->location[i].key, device->location[i].value);
    json_writer_end_object(writer);
}

static void write_point_fields(struct json_writer *writer, const struct alarm_event *event)
{
    const struct rule_def *rule = event->rule;
    const struct point_def *point = &event->device->profile->points[rule->point_index];
    char name[160];
    if (rule->bit >= 0) {
        const char *bit_name = "?";
        for (size_t b = 0; b < point->bit_count; b++)
            if (point->bits[b].bit == rule->bit)
                bit_name = point->bits[b].name;
        snprintf(name, sizeof name, "%s.%s", point->name, bit_name);
    } else {
        snprintf(name, sizeof name, "%s", point->name);
    }
    write_string_member(writer, "point", name);
    double value = event->value;
    if (rule->kind == RULE_RATE_ABOVE)
        value = rate_value(value);
    else if (rule->bit < 0)
        value = float32_value(point, value);
    write_number_member(writer, "value", value);
    write_number_member(writer, "threshold",
                        event->raised ? rule->threshold : rule->clear_threshold);
    if (rule->kind == RULE_RATE_ABOVE) {
        char unit[160];
        snprintf(unit, sizeof unit, "%s/min", point->unit ? point->unit : "");
        write_string_member(writer, "unit", unit);
    } else if (point->unit) {
        write_string_member(writer, "unit", point->unit);
    }
}

static void write_device_fields(struct json_writer *writer, const struct alarm_event *event)
{
    write_string_member(writer, "device", event->device->id);
    write_string_member(writer, "kind", event->device->profile->kind);
    json_writer_key(writer, "location");
    write_location(writer, event->device);
    if (event->rule->kind == RULE_OFFLINE) {
        json_writer_key(writer, "polls_failed");
        write_number(writer, event->value);
    } else {
        write_point_fields(writer, event);
    }
}

/*
 * bus_down.c makes locations_json with json_dumps(JSON_COMPACT), once per
 * outage of a bus: parsed here to be sure of it, which costs an allocation
 * only on such a rare event.
 */
static void write_locations(struct json_writer *writer, const char *locations_json)
{
    json_t *locations = locations_json ? json_loads(locations_json, 0, NULL) : NULL;
    char *text = locations ? json_dumps(locations, JSON_COMPACT) : NULL;
    json_decref(locations);
    json_writer_raw(writer, text ? text : "[]");
    free(text);
}

static void write_bus_fields(struct json_writer *writer, const struct alarm_event *event)
{
    const struct bus_def *bus = event->bus;
    write_string_member(writer, "bus", bus->name);
    if (bus->type == BUS_RTU) {
        write_string_member(writer, "port", bus->port);
    } else {
        char host[300];
        snprintf(host, sizeof host, "%s:%u", bus->host, bus->tcp_port);
        write_string_member(writer, "host", host);
    }
    json_writer_key(writer, "devices");
    json_writer_integer(writer, event->devices_affected);
    json_writer_key(writer, "locations");
    write_locations(writer, event->locations_json);
}

static const char *event_name(const struct alarm_event *event)
{
    if (event->shelved)
        return "shelved";
    return event->raised ? "raised" : "cleared";
}

int payload_write_alarm_event(struct json_writer *writer, const struct alarm_event *event)
{
    json_writer_reset(writer);
    json_writer_begin_object(writer);
    write_string_member(writer, "gateway", event->gateway_id);
    json_writer_key(writer, "seq");
    json_writer_integer(writer, (long long)event->seq);
    write_string_member(writer, "event", event_name(event));
    write_string_member(writer, "alarm", event->rule->name);
    write_string_member(writer, "severity", severity_name(event->rule->severity));
    if (event->device)
        write_device_fields(writer, event);
    else
        write_bus_fields(writer, event);
    if (event->shelved) {
        json_writer_key(writer, "until");
        write_timestamp(writer, event->shelved_until_wall_ms);
    }
    if (event->shelved_as) {
        json_writer_key(writer, "shelved");
        json_writer_begin_object(writer);
        write_shelving_members(writer, event->shelved_as);
        json_writer_end_object(writer);
    }
    if (event->action) {
        write_string_member(writer, "action", event->action);
        json_writer_key(writer, "action_ok");
        json_writer_boolean(writer, event->action_ok);
        if (event->action_error)
            write_string_member(writer, "action_error", event->action_error);
    }
    if (event->reason)
        write_string_member(writer, "reason", event->reason);
    json_writer_key(writer, "raised_at");
    write_timestamp(writer, event->raised_at_wall_ms);
    json_writer_key(writer, "ts");
    write_timestamp(writer, event->ts_wall_ms);
    json_writer_end_object(writer);
    return json_writer_finish(writer);
}

static void write_bits(struct json_writer *writer, const struct point_def *point, double value)
{
    unsigned long word = (unsigned long)llround(value);
    json_writer_begin_object(writer);
    for (size_t b = 0; b < point->bit_count; b++) {
        json_writer_key(writer, point->bits[b].name);
        json_writer_boolean(writer, (word >> point->bits[b].bit) & 1u);
    }
    json_writer_end_object(writer);
}

/* A point's value in "values": null when not finite (see payload_number). */
static void write_point_value(struct json_writer *writer, const struct point_def *point,
                              double value)
{
    if (!isfinite(value))
        json_writer_null(writer);
    else if (point->type == TYPE_BOOL)
        json_writer_boolean(writer, value != 0);
    else if (point->type == TYPE_BITS) /* status words go out as their named bits */
        write_bits(writer, point, value);
    else
        write_number(writer, float32_value(point, value));
}

/*
 * "values" of the device's points, and beside it "value_errors" naming each
 * point whose value is null and why ({"port3.temperature":"not a number"}),
 * only when there is one.
 */
static void write_values(struct json_writer *writer, const struct device *device)
{
    const struct profile *profile = device->def->profile;
    size_t points = device->values_valid ? profile->point_count : 0, errors = 0;
    json_writer_key(writer, "values");
    json_writer_begin_object(writer);
    for (size_t p = 0; p < points; p++) {
        json_writer_key(writer, profile->points[p].name);
        write_point_value(writer, &profile->points[p], device->values[p]);
        errors += !isfinite(device->values[p]);
    }
    json_writer_end_object(writer);
    if (errors == 0)
        return;
    json_writer_key(writer, "value_errors");
    json_writer_begin_object(writer);
    for (size_t p = 0; p < points; p++) {
        const char *error = payload_number_error(device->values[p]);
        if (error)
            write_string_member(writer, profile->points[p].name, error);
    }
    json_writer_end_object(writer);
}

int payload_write_telemetry(struct json_writer *writer, const struct device *device)
{
    json_writer_reset(writer);
    json_writer_begin_object(writer);
    json_writer_key(writer, "ts");
    write_timestamp(writer, device->stats.last_seen_wall_ms);
    write_values(writer, device);
    json_writer_end_object(writer);
    return json_writer_finish(writer);
}

/* "shelved":[{"until","reason","by","alarm"},..] of the shelvings in force, only when there is one.
 */
static void write_shelvings_in_force(struct json_writer *writer, const struct device *device,
                                     uint64_t wall_ms)
{
    bool listed = false;
    for (size_t i = 0; device->shelvings && i < SHELVINGS_MAX; i++) {
        const struct shelving *shelving = &device->shelvings[i];
        if (shelving->until_wall_ms <= wall_ms)
            continue;
        if (!listed) {
            json_writer_key(writer, "shelved");
            json_writer_begin_array(writer);
            listed = true;
        }
        json_writer_begin_object(writer);
        write_shelving_members(writer, shelving);
        json_writer_key(writer, "alarm");
        if (shelving->rule_index >= 0)
            json_writer_string(writer, device->def->rules[shelving->rule_index].name);
        else
            json_writer_null(writer);
        json_writer_end_object(writer);
    }
    if (listed)
        json_writer_end_array(writer);
}

int payload_write_device_state(struct json_writer *writer, const struct device *device)
{
    const struct device_def *def = device->def;
    json_writer_reset(writer);
    json_writer_begin_object(writer);
    json_writer_key(writer, "online");
    json_writer_boolean(writer, device->link == DEVICE_ONLINE);
    json_writer_key(writer, "alarms");
    json_writer_begin_array(writer);
    for (size_t i = 0; i < def->rule_count; i++)
        if (device->rule_states[i].active)
            json_writer_string(writer, def->rules[i].name);
    json_writer_end_array(writer);
    write_values(writer, device);
    /* An offline device's values are its last answer's: say so. */
    if (device->link == DEVICE_OFFLINE && device->values_valid) {
        json_writer_key(writer, "stale");
        json_writer_boolean(writer, true);
    }
    if (device->offline_suppressed)
        write_string_member(writer, "suppressed_by", "bus_down");
    write_shelvings_in_force(writer, device, time_wall_ms());
    json_writer_key(writer, "last_seen");
    if (device->stats.last_seen_wall_ms)
        write_timestamp(writer, device->stats.last_seen_wall_ms);
    else
        json_writer_null(writer);
    json_writer_end_object(writer);
    return json_writer_finish(writer);
}

int payload_write_status(struct json_writer *writer, bool online, uint64_t started_wall_ms)
{
    json_writer_reset(writer);
    json_writer_begin_object(writer);
    write_string_member(writer, "state", online ? "online" : "offline");
    write_string_member(writer, "version", SAFETYGW_VERSION);
    json_writer_key(writer, "started");
    write_timestamp(writer, started_wall_ms);
    json_writer_end_object(writer);
    return json_writer_finish(writer);
}

/* The text of a writer of its own, handed to the caller; NULL when out of memory. */
static char *handed_over(struct json_writer *writer, int written)
{
    if (written == 0)
        return writer->text;
    json_writer_free(writer);
    return NULL;
}

char *payload_status(bool online, uint64_t started_wall_ms)
{
    struct json_writer writer = JSON_WRITER_INIT;
    return handed_over(&writer, payload_write_status(&writer, online, started_wall_ms));
}

char *payload_alarm_event(const struct alarm_event *event)
{
    struct json_writer writer = JSON_WRITER_INIT;
    return handed_over(&writer, payload_write_alarm_event(&writer, event));
}

char *payload_device_state(const struct device *device)
{
    struct json_writer writer = JSON_WRITER_INIT;
    return handed_over(&writer, payload_write_device_state(&writer, device));
}

char *payload_telemetry(const struct device *device)
{
    struct json_writer writer = JSON_WRITER_INIT;
    return handed_over(&writer, payload_write_telemetry(&writer, device));
}

/* Each thread's writer, freed with the thread (a reload may end the reactor and start it again). */
static pthread_key_t thread_writer_key;
static pthread_once_t thread_writer_once = PTHREAD_ONCE_INIT;

static void free_thread_writer(void *writer)
{
    json_writer_free(writer);
    free(writer);
}

static void create_thread_writer_key(void)
{
    pthread_key_create(&thread_writer_key, free_thread_writer);
}

struct json_writer *payload_thread_writer(void)
{
    pthread_once(&thread_writer_once, create_thread_writer_key);
    struct json_writer *writer = pthread_getspecific(thread_writer_key);
    if (writer)
        return writer;
    writer = calloc(1, sizeof *writer);
    if (writer && pthread_setspecific(thread_writer_key, writer) != 0) {
        free(writer);
        writer = NULL;
    }
    return writer;
}
