#include "payload.h"

#include <float.h>
#include <math.h>
#include <stdio.h>

#include "timeutil.h"
#include "utf8.h"

/* Engineering values carry at most this many decimals; the rest is float noise. */
#define VALUE_DECIMALS 1e6

/* Integers up to this are exact in a double and in json_int_t. */
#define LARGEST_EXACT_INTEGER 9e15

const char *payload_number_error(double value)
{
    if (isnan(value))
        return "not a number";
    if (isinf(value))
        return value > 0 ? "positive infinity" : "negative infinity";
    return NULL;
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
    /* value * VALUE_DECIMALS would overflow to infinity; such a value has no decimals to trim. */
    if (fabs(value) >= DBL_MAX / VALUE_DECIMALS)
        return json_real(value);
    double rounded = round(value * VALUE_DECIMALS) / VALUE_DECIMALS;
    if (rounded == floor(rounded) && fabs(rounded) < LARGEST_EXACT_INTEGER)
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

char *payload_status(bool online, uint64_t started_wall_ms)
{
    json_t *root = json_object();
    json_object_set_new(root, "state", json_string(online ? "online" : "offline"));
    json_object_set_new(root, "version", json_string(SAFETYGW_VERSION));
    json_object_set_new(root, "started", timestamp(started_wall_ms));
    return payload_dump(root);
}

static json_t *location_object(const struct device_def *device)
{
    json_t *location = json_object();
    for (size_t i = 0; i < device->location_count; i++)
        json_object_set_new(location, device->location[i].key,
                            json_string(device->location[i].value));
    return location;
}

static void add_point_fields(json_t *root, const struct alarm_event *event)
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
    json_object_set_new(root, "point", json_string(name));
    payload_set_number(root, "value", event->value);
    payload_set_number(root, "threshold", event->raised ? rule->threshold : rule->clear_threshold);
    if (rule->kind == RULE_RATE_ABOVE)
        json_object_set_new(root, "unit", json_sprintf("%s/min", point->unit ? point->unit : ""));
    else if (point->unit)
        json_object_set_new(root, "unit", json_string(point->unit));
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

const char *payload_event_source(const struct alarm_event *event)
{
    return event->device ? event->device->id : event->bus->name;
}

static void add_device_fields(json_t *root, const struct alarm_event *event)
{
    json_object_set_new(root, "device", json_string(event->device->id));
    json_object_set_new(root, "kind", json_string(event->device->profile->kind));
    json_object_set_new(root, "location", location_object(event->device));
    if (event->rule->kind == RULE_OFFLINE)
        json_object_set_new(root, "polls_failed", payload_number(event->value));
    else
        add_point_fields(root, event);
}

static void add_bus_fields(json_t *root, const struct alarm_event *event)
{
    const struct bus_def *bus = event->bus;
    json_object_set_new(root, "bus", json_string(bus->name));
    if (bus->type == BUS_RTU)
        json_object_set_new(root, "port", json_string(bus->port));
    else
        json_object_set_new(root, "host", json_sprintf("%s:%u", bus->host, bus->tcp_port));
    json_object_set_new(root, "devices", json_integer(event->devices_affected));
    json_t *locations = event->locations_json ? json_loads(event->locations_json, 0, NULL) : NULL;
    json_object_set_new(root, "locations", locations ? locations : json_array());
}

static const char *event_name(const struct alarm_event *event)
{
    if (event->shelved)
        return "shelved";
    return event->raised ? "raised" : "cleared";
}

char *payload_alarm_event(const struct alarm_event *event)
{
    json_t *root = json_object();
    json_object_set_new(root, "gateway", json_string(event->gateway_id));
    json_object_set_new(root, "seq", json_integer((json_int_t)event->seq));
    json_object_set_new(root, "event", json_string(event_name(event)));
    json_object_set_new(root, "alarm", json_string(event->rule->name));
    json_object_set_new(root, "severity", json_string(severity_name(event->rule->severity)));
    if (event->device)
        add_device_fields(root, event);
    else
        add_bus_fields(root, event);
    if (event->shelved)
        json_object_set_new(root, "until", timestamp(event->shelved_until_wall_ms));
    if (event->shelved_as)
        json_object_set_new(root, "shelved", payload_shelving(event->shelved_as));
    if (event->action) {
        json_object_set_new(root, "action", json_string(event->action));
        json_object_set_new(root, "action_ok", json_boolean(event->action_ok));
        if (event->action_error)
            json_object_set_new(root, "action_error", json_string(event->action_error));
    }
    if (event->reason)
        json_object_set_new(root, "reason", json_string(event->reason));
    json_object_set_new(root, "raised_at", timestamp(event->raised_at_wall_ms));
    json_object_set_new(root, "ts", timestamp(event->ts_wall_ms));
    return payload_dump(root);
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

/* A point's value in "values": null when not finite (see payload_number). */
static json_t *point_value(const struct point_def *point, double value)
{
    if (!isfinite(value))
        return json_null();
    if (point->type == TYPE_BOOL)
        return json_boolean(value != 0);
    /* Status words go out as their named bits, which is what a reader wants. */
    return point->type == TYPE_BITS ? payload_bits(point, value) : payload_number(value);
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

/*
 * "values" of the device's points, and beside it "value_errors" naming each
 * point whose value is null and why ({"port3.temperature":"not a number"}),
 * only when there is one.
 */
static void add_values(json_t *root, const struct device *device)
{
    const struct profile *profile = device->def->profile;
    json_t *values = json_object();
    json_t *errors = NULL;
    for (size_t p = 0; device->values_valid && p < profile->point_count; p++) {
        const struct point_def *point = &profile->points[p];
        double value = device->values[p];
        json_object_set_new(values, point->name, point_value(point, value));
        const char *error = payload_number_error(value);
        if (!error)
            continue;
        if (!errors)
            errors = json_object();
        json_object_set_new(errors, point->name, json_string(error));
    }
    json_object_set_new(root, "values", values);
    if (errors)
        json_object_set_new(root, "value_errors", errors);
}

char *payload_telemetry(const struct device *device)
{
    json_t *root = json_object();
    json_object_set_new(root, "ts", timestamp(device->stats.last_seen_wall_ms));
    add_values(root, device);
    return payload_dump(root);
}

char *payload_device_state(const struct device *device)
{
    const struct device_def *def = device->def;
    json_t *root = json_object();
    json_object_set_new(root, "online", json_boolean(device->link == DEVICE_ONLINE));
    json_t *alarms = json_array();
    for (size_t i = 0; i < def->rule_count; i++)
        if (device->rule_states[i].active)
            json_array_append_new(alarms, json_string(def->rules[i].name));
    json_object_set_new(root, "alarms", alarms);
    add_values(root, device);
    /* An offline device's values are its last answer's: say so. */
    if (device->link == DEVICE_OFFLINE && device->values_valid)
        json_object_set_new(root, "stale", json_true());
    if (device->offline_suppressed)
        json_object_set_new(root, "suppressed_by", json_string("bus_down"));
    json_t *shelved = payload_shelvings(device->def, device->shelvings, time_wall_ms());
    if (json_array_size(shelved) > 0)
        json_object_set_new(root, "shelved", shelved);
    else
        json_decref(shelved);
    if (device->stats.last_seen_wall_ms)
        json_object_set_new(root, "last_seen", timestamp(device->stats.last_seen_wall_ms));
    else
        json_object_set_new(root, "last_seen", json_null());
    return payload_dump(root);
}
