/*
 * reload.c — SIGHUP on the main thread (reload.h): load the new file aside,
 * refuse what cannot change without a restart, prepare the new runtime,
 * stop the old buses, carry each device over (reload_carry.c), start the new
 * buses, retire what is gone, swap under the write lock, and free the old
 * configuration once the uplink has sent its events.
 */
#include "reload.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alarm.h"
#include "config_load.h"
#include "log.h"
#include "reload_carry.h"
#include "text.h"
#include "timeutil.h"
#include "uplink.h"

struct reload_counts {
    size_t kept;   /* same id, same definition */
    size_t edited; /* same id, something in its entry or profile changed */
    size_t added;
    size_t removed;
};

static bool same_northbound(const struct config *a, const struct config *b)
{
    const struct mqtt_config *x = &a->mqtt, *y = &b->mqtt;
    return text_same(a->gateway.id, b->gateway.id) && text_same(a->gateway.site, b->gateway.site) &&
           text_same(a->gateway.state_dir, b->gateway.state_dir) &&
           text_same(a->gateway.control_socket, b->gateway.control_socket) &&
           text_same(x->uri, y->uri) && text_same(x->client_id, y->client_id) &&
           text_same(x->topic_prefix, y->topic_prefix) && x->qos == y->qos &&
           x->keepalive_s == y->keepalive_s && text_same(x->username, y->username) &&
           text_same(x->password_file, y->password_file) && x->max_buffered == y->max_buffered &&
           x->tls_enabled == y->tls_enabled && text_same(x->tls.ca_file, y->tls.ca_file) &&
           text_same(x->tls.cert_file, y->tls.cert_file) &&
           text_same(x->tls.key_file, y->tls.key_file) && x->tls.verify == y->tls.verify;
}

static void retire(const struct device *old, size_t rule_index, const char *reason)
{
    struct alarm_event event = alarm_retire(old, rule_index, reason, time_wall_ms());
    uplink_post_event(&event);
}

/* Clears the active alarms of old that its successor (NULL: none) no longer has. */
static void retire_alarms(const struct device *old, const struct device *fresh)
{
    for (size_t i = 0; i < old->def->rule_count; i++) {
        const char *reason = reload_retire_reason(old, i, fresh);
        if (reason)
            retire(old, i, reason);
    }
}

/* An empty retained message deletes the state of a device that is no longer configured. */
static void forget_device_state(const char *device_id)
{
    char topic[PUBLISH_TOPIC_MAX];
    snprintf(topic, sizeof topic, "device/%s/state", device_id);
    char *empty = strdup("");
    if (empty)
        uplink_post_message(topic, empty, 1, true, PUBLISH_KEPT);
}

/* A bus_down of a bus the new configuration no longer has. */
static void retire_bus(const struct bus *old, uint64_t wall_ms)
{
    const struct bus_down *down = bus_down_stopped(old);
    log_about(LOG_INFO, NULL, bus_def(old)->name, "bus_down",
              "alarm bus_down cleared on bus %s: bus removed by a configuration reload",
              bus_def(old)->name);
    struct alarm_event event = {.bus = bus_def(old),
                                .rule = &bus_down_rule,
                                .devices_affected = down->devices_affected,
                                .raised_at_wall_ms = down->raised_wall_ms,
                                .ts_wall_ms = wall_ms,
                                .reason = "bus removed by a configuration reload"};
    uplink_post_event(&event);
}

/* Once the new configuration runs: what the old one had and the new one lacks is cleared. */
static void retire_removed(struct runtime *old, struct runtime *fresh)
{
    for (size_t b = 0; b < old->buses_prepared; b++) {
        const struct bus *bus = old->buses[b];
        if (bus_down_stopped(bus)->active && !runtime_bus_named(fresh, bus_def(bus)->name))
            retire_bus(bus, time_wall_ms());
    }
    for (size_t d = 0; d < old->config->device_count; d++) {
        const struct device *device = &old->devices[d];
        const struct device *successor = runtime_find_device(fresh, device->def->id);
        retire_alarms(device, successor);
        if (!successor)
            forget_device_state(device->def->id);
    }
}

static struct reload_counts carry_over_all(struct runtime *old, struct runtime *fresh)
{
    struct reload_counts counts = {0};
    for (size_t d = 0; d < fresh->config->device_count; d++) {
        struct device *device = &fresh->devices[d];
        struct device *before = runtime_find_device(old, device->def->id);
        if (!before)
            counts.added++;
        else if (reload_carry_device(before, device, old->config, fresh->config))
            counts.edited++;
        else
            counts.kept++;
    }
    for (size_t d = 0; d < old->config->device_count; d++)
        counts.removed += !runtime_find_device(fresh, old->devices[d].def->id);
    return counts;
}

/*
 * The old buses are stopped (their state final), the new ones start from it;
 * if one cannot start, the old ones start again and nothing changed.
 */
static int switch_buses(struct runtime *running, struct runtime *fresh,
                        struct reload_counts *counts)
{
    runtime_stop(running);
    *counts = carry_over_all(running, fresh);
    if (runtime_start_buses(fresh, running) == 0)
        return 0;
    if (runtime_start_buses(running, NULL) != 0)
        log_critical("reload: the previous buses cannot start again either; the watchdog will "
                     "restart the daemon");
    return -1;
}

int reload_apply(const char *path, struct config **config, struct runtime *runtime)
{
    struct config *next =
        config_load_logged(path, "reload: ", "reload refused, the running configuration stays");
    if (!next)
        return -1;
    struct runtime fresh;
    struct reload_counts counts;
    if (!same_northbound(*config, next)) {
        log_error("reload refused: the gateway or mqtt section of %s changed; restart the "
                  "service to apply that (systemctl restart safetygwd)",
                  path);
    } else if (runtime_prepare(&fresh, next) != 0) {
        log_error("reload refused: %s cannot be set up; the running configuration stays", path);
    } else if (switch_buses(runtime, &fresh, &counts) != 0) {
        log_error("reload refused: a bus of %s failed to start; the running configuration stays",
                  path);
        runtime_free(&fresh);
    } else {
        retire_removed(runtime, &fresh);
        struct runtime old = *runtime;
        struct config *old_config = *config;
        runtime_lock_write(); /* a pointer swap: readers wait microseconds */
        *runtime = fresh;
        *config = next;
        runtime_unlock();
        uplink_sync(); /* the old configuration's events are sent: now it may go */
        runtime_free(&old);
        config_free(old_config);
        log_info("reloaded %s: %zu devices kept, %zu edited, %zu added, %zu removed", path,
                 counts.kept, counts.edited, counts.added, counts.removed);
        return 0;
    }
    config_free(next);
    return -1;
}
