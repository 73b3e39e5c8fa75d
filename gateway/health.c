/*
 * health.c — the P/health message the main thread posts every
 * health_interval_ms: the gateway's queue and state-file health, and each
 * bus's statistics and device counts (stats_json.c), read from snapshots.
 */
#include "health.h"

#include <stdlib.h>

#include "log.h"
#include "mqtt_store.h"
#include "payload.h"
#include "publish.h"
#include "snapshot.h"
#include "statefile.h"
#include "stats_json.h"
#include "timeutil.h"
#include "uplink.h"

static struct device_counts count_devices(struct bus *bus)
{
    struct device_counts counts = {0};
    for (size_t i = 0; i < bus_device_count(bus); i++) {
        struct device_snapshot device = {0};
        bus_snapshot_device(bus, bus_device(bus, i), &device);
        /* no fault window here: only online, offline and in alarm are told */
        stats_json_count_device(&counts, &device, snapshot_state(&device, UINT64_MAX));
    }
    return counts;
}

static json_t *bus_health(struct bus *bus)
{
    struct bus_stats stats = bus_snapshot_stats(bus);
    struct device_counts counts = count_devices(bus);
    json_t *entry = stats_json_bus(bus_def(bus), &stats);
    json_object_set_new(entry, "devices", json_integer((json_int_t)counts.total));
    json_object_set_new(entry, "online", json_integer((json_int_t)counts.online));
    json_object_set_new(entry, "offline",
                        json_integer((json_int_t)counts.by_state[SNAPSHOT_OFFLINE]));
    json_object_set_new(entry, "in_alarm", json_integer((json_int_t)counts.in_alarm));
    return entry;
}

char *health_payload(struct runtime *runtime, uint64_t started_wall_ms)
{
    json_t *root = json_object();
    uint64_t now_wall_ms = time_wall_ms();
    char ts[32];
    time_format_rfc3339(now_wall_ms, ts, sizeof ts);
    json_object_set_new(root, "gateway", json_string(runtime->config->gateway.id));
    json_object_set_new(root, "ts", json_string(ts));
    json_object_set_new(root, "uptime_s",
                        json_integer((json_int_t)((now_wall_ms - started_wall_ms) / 1000u)));
    json_object_set_new(root, "mqtt_connected", json_boolean(publish_connected()));
    json_object_set_new(root, "queued", json_integer((json_int_t)publish_pending()));
    json_object_set_new(root, "dropped", json_integer((json_int_t)publish_dropped()));
    json_object_set_new(root, "lost", json_integer((json_int_t)mqtt_store_lost()));
    json_object_set_new(root, "next_seq", json_integer((json_int_t)uplink_next_seq()));
    json_object_set_new(root, "state_write_failing", json_boolean(statefile_write_failing()));
    json_t *buses = json_array();
    for (size_t b = 0; b < runtime->buses_prepared; b++)
        json_array_append_new(buses, bus_health(runtime->buses[b]));
    json_object_set_new(root, "buses", buses);
    return payload_dump(root);
}

void health_publish(struct runtime *runtime, uint64_t started_wall_ms)
{
    char *payload = health_payload(runtime, started_wall_ms);
    if (payload) {
        log_debug("health: %s", payload); /* the statistics, also when the broker is away */
        uplink_post_message("health", payload, 0, false, PUBLISH_VOLATILE);
    }
}
