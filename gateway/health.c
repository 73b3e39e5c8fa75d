#include "health.h"

#include <math.h>
#include <stdlib.h>

#include "log.h"
#include "mqtt_store.h"
#include "payload.h"
#include "publish.h"
#include "snapshot.h"
#include "statefile.h"
#include "timeutil.h"
#include "uplink.h"

struct device_counts {
    size_t online;
    size_t offline;
    size_t in_alarm;
};

static struct device_counts count_devices(struct bus *bus)
{
    struct device_counts counts = {0};
    for (size_t i = 0; i < bus_device_count(bus); i++) {
        struct device_snapshot device = {0};
        bus_snapshot_device(bus, bus_device(bus, i), &device);
        counts.online += device.link == DEVICE_ONLINE;
        counts.offline += device.link == DEVICE_OFFLINE;
        counts.in_alarm += device.active_alarm_count > 0;
    }
    return counts;
}

static json_t *bus_health(struct bus *bus)
{
    json_t *entry = json_object();
    struct bus_stats stats = bus_snapshot_stats(bus);
    struct device_counts counts = count_devices(bus);

    uint64_t polls = stats.polls_ok + stats.polls_failed;
    json_object_set_new(entry, "name", json_string(bus_def(bus)->name));
    json_object_set_new(entry, "type", json_string(bus_def(bus)->type == BUS_RTU ? "rtu" : "tcp"));
    json_object_set_new(entry, "link_up", json_boolean(stats.link_up));
    json_object_set_new(entry, "bus_down", json_boolean(stats.down));
    json_object_set_new(entry, "cycle_ms", json_integer((json_int_t)llround(stats.cycle_ms)));
    json_object_set_new(entry, "polls_ok", json_integer((json_int_t)stats.polls_ok));
    json_object_set_new(entry, "polls_failed", json_integer((json_int_t)stats.polls_failed));
    json_object_set_new(entry, "error_rate",
                        payload_number(polls ? (double)stats.polls_failed / (double)polls : 0));
    json_object_set_new(entry, "devices", json_integer((json_int_t)bus_device_count(bus)));
    json_object_set_new(entry, "online", json_integer((json_int_t)counts.online));
    json_object_set_new(entry, "offline", json_integer((json_int_t)counts.offline));
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
