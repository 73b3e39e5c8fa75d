/*
 * stats_json.c — the statistics health and status both show (stats_json.h).
 */
#include "stats_json.h"

#include <math.h>

#include "payload.h"

void stats_json_count_device(struct device_counts *counts, const struct device_snapshot *device,
                             enum snapshot_state state)
{
    counts->by_state[state]++;
    counts->online += device->link == DEVICE_ONLINE;
    counts->in_alarm += device->active_alarm_count > 0;
    counts->total++;
}

json_t *stats_json_bus(const struct bus_def *bus, const struct bus_stats *stats)
{
    uint64_t polls = stats->polls_ok + stats->polls_failed;
    json_t *root = json_object();
    json_object_set_new(root, "name", json_string(bus->name));
    json_object_set_new(root, "type", json_string(bus->type == BUS_RTU ? "rtu" : "tcp"));
    json_object_set_new(root, "link_up", json_boolean(stats->link_up));
    json_object_set_new(root, "bus_down", json_boolean(stats->down));
    json_object_set_new(root, "cycle_ms", json_integer((json_int_t)llround(stats->cycle_ms)));
    json_object_set_new(root, "polls_ok", json_integer((json_int_t)stats->polls_ok));
    json_object_set_new(root, "polls_failed", json_integer((json_int_t)stats->polls_failed));
    json_object_set_new(root, "error_rate",
                        payload_number(polls ? (double)stats->polls_failed / (double)polls : 0));
    return root;
}
