#include "control_json.h"

#include <math.h>
#include <modbus.h>
#include <stdio.h>

#include "payload.h"
#include "timeutil.h"

#define POINT_NAME_MAX 160
#define SENSOR_LIFE_POINT "sensor_life_days"

json_t *control_json_timestamp(uint64_t wall_ms)
{
    if (wall_ms == 0)
        return json_null();
    char text[32];
    time_format_rfc3339(wall_ms, text, sizeof text);
    return json_string(text);
}

static json_t *location_object(const struct device_def *def)
{
    json_t *location = json_object();
    for (size_t i = 0; i < def->location_count; i++)
        json_object_set_new(location, def->location[i].key, json_string(def->location[i].value));
    return location;
}

static const char *link_name(enum device_link link)
{
    return link == DEVICE_ONLINE ? "online" : link == DEVICE_OFFLINE ? "offline" : "unknown";
}

static json_t *active_alarm_names(const struct device_snapshot *device)
{
    json_t *names = json_array();
    for (size_t i = 0; i < device->def->rule_count; i++)
        if (device->rule_states[i].active)
            json_array_append_new(names, json_string(device->def->rules[i].name));
    return names;
}

json_t *control_json_device_summary(const struct device_snapshot *device, enum snapshot_state state)
{
    const struct device_def *def = device->def;
    json_t *root = json_object();
    json_object_set_new(root, "id", json_string(def->id));
    json_object_set_new(root, "kind", json_string(def->profile->kind));
    json_object_set_new(root, "profile", json_string(def->profile->name));
    json_object_set_new(root, "bus", json_string(device->bus->name));
    json_object_set_new(root, "address", json_integer(def->address));
    json_object_set_new(root, "state", json_string(snapshot_state_name(state)));
    json_object_set_new(root, "link", json_string(link_name(device->link)));
    if (device->offline_suppressed)
        json_object_set_new(root, "suppressed_by", json_string("bus_down"));
    json_object_set_new(root, "alarms", active_alarm_names(device));
    json_object_set_new(root, "last_seen", control_json_timestamp(device->stats.last_seen_wall_ms));
    json_object_set_new(root, "location", location_object(def));
    return root;
}

static double latency_ms(uint64_t latency_us)
{
    return round((double)latency_us / 100.0) / 10.0; /* 0.1 ms is all a crew needs */
}

static json_t *stats_object(const struct device_snapshot *device)
{
    const struct device_stats *stats = &device->stats;
    json_t *root = json_object();
    json_object_set_new(root, "polls_ok", json_integer((json_int_t)stats->polls_ok));
    json_object_set_new(root, "polls_failed", json_integer((json_int_t)stats->polls_failed));
    json_object_set_new(root, "failed_in_row", json_integer(device->failed_in_row));
    json_object_set_new(root, "timeouts", json_integer((json_int_t)stats->timeouts));
    json_object_set_new(root, "crc_errors", json_integer((json_int_t)stats->crc_errors));
    json_object_set_new(root, "exceptions", json_integer((json_int_t)stats->exceptions));
    if (stats->exceptions > 0) {
        json_object_set_new(root, "last_exception_code", json_integer(stats->last_exception_code));
        json_object_set_new(
            root, "last_exception",
            json_string(modbus_strerror(MODBUS_ENOBASE + (int)stats->last_exception_code)));
    }
    json_object_set_new(root, "other_errors", json_integer((json_int_t)stats->other_errors));
    json_object_set_new(root, "late_replies", json_integer((json_int_t)stats->late_replies));
    if (device->failed_in_row > 0) {
        char reason[400];
        json_object_set_new(
            root, "failing",
            json_string(device_failure_reason(&stats->failing, reason, sizeof reason)));
    }
    if (stats->polls_ok > 0) {
        json_object_set_new(root, "last_latency_ms",
                            payload_number(latency_ms(stats->last_latency_us)));
        json_object_set_new(root, "mean_latency_ms",
                            payload_number(latency_ms(stats->latency_total_us / stats->polls_ok)));
    } else {
        json_object_set_new(root, "last_latency_ms", json_null());
        json_object_set_new(root, "mean_latency_ms", json_null());
    }
    return root;
}

static json_t *values_array(const struct device_snapshot *device)
{
    const struct profile *profile = device->def->profile;
    json_t *values = json_array();
    if (!device->values_valid)
        return values;
    for (size_t p = 0; p < profile->point_count; p++)
        json_array_append_new(values, payload_point_entry(&profile->points[p], device->values[p]));
    return values;
}

static json_t *active_alarms(const struct device_snapshot *device)
{
    json_t *alarms = json_array();
    for (size_t i = 0; i < device->def->rule_count; i++)
        if (device->rule_states[i].active)
            json_array_append_new(alarms, control_json_alarm(device, i));
    return alarms;
}

/* The sensor's remaining life, when the profile has a point named sensor_life_days. */
static void add_sensor_life(json_t *root, const struct device_snapshot *device)
{
    int point = config_point_index(device->def->profile, SENSOR_LIFE_POINT);
    if (point < 0)
        return;
    json_object_set_new(root, SENSOR_LIFE_POINT,
                        device->values_valid ? payload_number(device->values[point]) : json_null());
}

json_t *control_json_device_detail(const struct device_snapshot *device, enum snapshot_state state)
{
    json_t *root = control_json_device_summary(device, state);
    json_object_set_new(root, "poll_ms", json_integer(device->def->poll_ms));
    json_object_set_new(root, "stats", stats_object(device));
    json_object_set_new(root, "values", values_array(device));
    json_object_set_new(root, "active_alarms", active_alarms(device));
    json_object_set_new(root, "shelved",
                        payload_shelvings(device->def, device->shelvings, time_wall_ms()));
    add_sensor_life(root, device);
    return root;
}

static void point_name(const struct point_def *point, int bit, char *name, size_t size)
{
    if (bit < 0) {
        snprintf(name, size, "%s", point->name);
        return;
    }
    const char *bit_name = "?";
    for (size_t b = 0; b < point->bit_count; b++)
        if (point->bits[b].bit == bit)
            bit_name = point->bits[b].name;
    snprintf(name, size, "%s.%s", point->name, bit_name);
}

static void add_rule_fields(json_t *root, const struct device_snapshot *device,
                            const struct rule_def *rule, const struct rule_state *state)
{
    if (rule->kind == RULE_OFFLINE) {
        json_object_set_new(root, "polls_failed", json_integer(state->failed_polls));
        return;
    }
    const struct point_def *point = &device->def->profile->points[rule->point_index];
    char name[POINT_NAME_MAX];
    point_name(point, rule->bit, name, sizeof name);
    json_object_set_new(root, "point", json_string(name));
    json_object_set_new(root, "value", payload_number(state->value));
    json_object_set_new(root, "threshold", payload_number(rule->threshold));
    if (rule->kind == RULE_RATE_ABOVE)
        json_object_set_new(root, "unit", json_sprintf("%s/min", point->unit ? point->unit : ""));
    else if (point->unit && rule->bit < 0)
        json_object_set_new(root, "unit", json_string(point->unit));
}

json_t *control_json_alarm(const struct device_snapshot *device, size_t rule_index)
{
    const struct rule_def *rule = &device->def->rules[rule_index];
    const struct rule_state *state = &device->rule_states[rule_index];
    json_t *root = json_object();
    json_object_set_new(root, "device", json_string(device->def->id));
    json_object_set_new(root, "kind", json_string(device->def->profile->kind));
    json_object_set_new(root, "bus", json_string(device->bus->name));
    json_object_set_new(root, "alarm", json_string(rule->name));
    json_object_set_new(root, "severity", json_string(severity_name(rule->severity)));
    json_object_set_new(root, "since", control_json_timestamp(device->raised_wall_ms[rule_index]));
    add_rule_fields(root, device, rule, state);
    json_object_set_new(root, "location", location_object(device->def));
    const struct shelving *shelving = shelving_find(device->shelvings, rule_index, time_wall_ms());
    if (shelving)
        json_object_set_new(root, "shelved", payload_shelving(shelving));
    return root;
}
