/*
 * control_answer.c — answers the control socket's requests (status, devices,
 * device, alarms, shelve, unshelve) on the control thread, from snapshots
 * taken under the runtime's read lock. Owns its scratch buffers for one
 * device's values and rule states, and the fault window (each device's
 * polls_failed at the last two marks) that tells "fault" from "ok".
 */
#include "control_answer.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "control_json.h"
#include "mqtt_store.h"
#include "payload.h"
#include "publish.h"
#include "snapshot.h"
#include "statefile.h"
#include "stats_json.h"
#include "timeutil.h"
#include "uplink.h"
#include "wire_budget.h"

#define ERROR_MAX 300

/* One device's fault window: its polls_failed at the last two marks (older, newer). */
struct window_entry {
    char *device_id; /* own copy: a reload frees the configuration the id came from */
    uint64_t failed_at_older_mark;
    uint64_t failed_at_newer_mark;
};

struct control_answer {
    struct runtime *runtime; /* read under runtime_lock_read() only */
    uint64_t started_wall_ms;
    /* One device's snapshot buffers, grown to the largest profile and rule list seen. */
    double *values;
    size_t values_capacity;
    struct rule_state *rule_states;
    uint64_t *raised_wall_ms; /* and when each was raised */
    size_t rules_capacity;
    /* The fault window, one entry per device of the configuration, in its order. */
    struct window_entry *window;
    size_t window_count;
    uint64_t next_mark_ms;
};

/* What `status` tells besides the runtime, read before the runtime lock is taken. */
struct gateway_facts {
    bool mqtt_connected;
    size_t mqtt_queued;
    uint64_t mqtt_dropped; /* messages refused by the uplink's queue or by Paho since start */
    uint64_t next_seq;
    bool state_write_failing;  /* the last write of state_dir failed */
    uint64_t queue_files_lost; /* queued messages that could not be read back */
};

/* Filters of `devices`; NULL or -1 means any. */
struct device_filter {
    const char *kind;
    const char *bus;
    int state;
};

struct alarm_entry {
    uint64_t raised_wall_ms;
    json_t *alarm;
};

/* The most points of any profile of config (at least 1): a device snapshot's values. */
static size_t most_points(const struct config *config)
{
    size_t most = 1;
    for (size_t p = 0; p < config->profile_count; p++)
        most = config->profiles[p].point_count > most ? config->profiles[p].point_count : most;
    return most;
}

/* The most rules of any profile or device (with its overrides) of config, at least 1. */
static size_t most_rules(const struct config *config)
{
    size_t most = 1;
    for (size_t p = 0; p < config->profile_count; p++)
        most = config->profiles[p].rule_count > most ? config->profiles[p].rule_count : most;
    for (size_t d = 0; d < config->device_count; d++)
        most = config->devices[d].rule_count > most ? config->devices[d].rule_count : most;
    return most;
}

struct control_answer *control_answer_new(struct runtime *runtime, uint64_t started_wall_ms)
{
    struct control_answer *answer = calloc(1, sizeof *answer);
    if (!answer)
        return NULL;
    *answer =
        (struct control_answer){.runtime = runtime,
                                .started_wall_ms = started_wall_ms,
                                .next_mark_ms = time_monotonic_ms() + CONTROL_FAULT_WINDOW_MS};
    return answer;
}

static void free_window(struct window_entry *window, size_t count)
{
    for (size_t d = 0; d < count; d++)
        free(window[d].device_id);
    free(window);
}

void control_answer_free(struct control_answer *answer)
{
    if (!answer)
        return;
    free(answer->values);
    free(answer->rule_states);
    free(answer->raised_wall_ms);
    free_window(answer->window, answer->window_count);
    free(answer);
}

/* Grows a buffer to count elements of size bytes; keeps it as it was on failure. */
static int grow(void **buffer, size_t count, size_t size)
{
    void *grown = realloc(*buffer, count * size);
    if (!grown)
        return -1;
    *buffer = grown;
    return 0;
}

/* Makes the snapshot buffers big enough for every device of config. */
static int fit_scratch(struct control_answer *answer, const struct config *config)
{
    size_t points = most_points(config), rules = most_rules(config);
    if (points > answer->values_capacity) {
        if (grow((void **)&answer->values, points, sizeof *answer->values) != 0)
            return -1;
        answer->values_capacity = points;
    }
    if (rules > answer->rules_capacity) {
        if (grow((void **)&answer->rule_states, rules, sizeof *answer->rule_states) != 0 ||
            grow((void **)&answer->raised_wall_ms, rules, sizeof *answer->raised_wall_ms) != 0)
            return -1;
        answer->rules_capacity = rules;
    }
    return 0;
}

static bool window_describes(const struct control_answer *answer, const struct config *config)
{
    if (answer->window_count != config->device_count)
        return false;
    for (size_t d = 0; d < config->device_count; d++)
        if (strcmp(answer->window[d].device_id, config->devices[d].id) != 0)
            return false;
    return true;
}

static int by_device_id(const void *left, const void *right)
{
    const struct window_entry *a = left, *b = right;
    return strcmp(a->device_id, b->device_id);
}

/*
 * A window for config's devices: a device that was in the old window keeps its
 * marks (matched by id, as a reload matches devices and carries their counters
 * over); a new one starts with none. The old window is left sorted by id.
 */
static struct window_entry *rebuild_window(struct control_answer *answer,
                                           const struct config *config)
{
    size_t count = config->device_count;
    struct window_entry *window = calloc(count ? count : 1, sizeof *window);
    if (!window)
        return NULL;
    if (answer->window_count > 0)
        qsort(answer->window, answer->window_count, sizeof *answer->window, by_device_id);
    for (size_t d = 0; d < count; d++) {
        struct window_entry key = {.device_id = config->devices[d].id};
        const struct window_entry *old = answer->window_count > 0
                                             ? bsearch(&key, answer->window, answer->window_count,
                                                       sizeof *answer->window, by_device_id)
                                             : NULL;
        if (old)
            window[d] = *old;
        window[d].device_id = strdup(config->devices[d].id);
        if (!window[d].device_id) {
            free_window(window, d);
            return NULL;
        }
    }
    return window;
}

/*
 * Under the read lock, before anything reads the runtime: makes the answerer's
 * per-device state describe the runtime's configuration, which a reload may
 * have replaced since the last call.
 *
 * A change is found by comparing device ids, not the config pointer: a reload
 * loads the new configuration before it frees the old one, so two reloads in a
 * row can put a configuration at the address of one this answerer saw before
 * (and main has no reload counter to tell them apart). Comparing every id
 * costs a few microseconds per thousand devices, less than the snapshots.
 */
static int follow_config(struct control_answer *answer)
{
    const struct config *config = answer->runtime->config;
    if (fit_scratch(answer, config) != 0)
        return -1;
    if (window_describes(answer, config))
        return 0;
    struct window_entry *window = rebuild_window(answer, config);
    if (!window)
        return -1;
    free_window(answer->window, answer->window_count);
    answer->window = window;
    answer->window_count = config->device_count;
    return 0;
}

/* Copies device d (values and rule states into the answerer's scratch buffers). */
static void snapshot_device_into_scratch(struct control_answer *answer, size_t d,
                                         struct device_snapshot *snapshot)
{
    struct runtime *runtime = answer->runtime;
    struct bus *bus = runtime->buses[runtime->config->devices[d].bus_index];
    *snapshot = (struct device_snapshot){.values = answer->values,
                                         .rule_states = answer->rule_states,
                                         .raised_wall_ms = answer->raised_wall_ms};
    bus_snapshot_device(bus, &runtime->devices[d], snapshot);
}

static enum snapshot_state state_of(const struct control_answer *answer, size_t d,
                                    const struct device_snapshot *snapshot)
{
    return snapshot_state(snapshot, answer->window[d].failed_at_older_mark);
}

void control_answer_tick(struct control_answer *answer, uint64_t now_ms)
{
    if (now_ms < answer->next_mark_ms)
        return;
    runtime_lock_read();
    if (follow_config(answer) == 0) {
        const struct runtime *runtime = answer->runtime;
        const struct config *config = runtime->config;
        for (size_t d = 0; d < config->device_count; d++) {
            struct device_snapshot snapshot = {0};
            bus_snapshot_device(runtime->buses[config->devices[d].bus_index], &runtime->devices[d],
                                &snapshot);
            answer->window[d].failed_at_older_mark = answer->window[d].failed_at_newer_mark;
            answer->window[d].failed_at_newer_mark = snapshot.stats.polls_failed;
        }
    }
    runtime_unlock();
    answer->next_mark_ms = now_ms + CONTROL_FAULT_WINDOW_MS;
}

/* message may quote the request (or be cut short) in bytes that are not UTF-8. */
static json_t *failure(const char *message)
{
    char error[ERROR_MAX];
    snprintf(error, sizeof error, "%s", message);
    payload_make_utf8(error);
    return json_pack("{s:b, s:s}", "ok", 0, "error", error);
}

static json_t *success(void)
{
    return json_pack("{s:b}", "ok", 1);
}

static json_t *counts_object(const struct device_counts *counts)
{
    json_t *root = json_object();
    json_object_set_new(root, "total", json_integer((json_int_t)counts->total));
    for (int s = 0; s <= SNAPSHOT_OFFLINE; s++)
        json_object_set_new(root, snapshot_state_name((enum snapshot_state)s),
                            json_integer((json_int_t)counts->by_state[s]));
    json_object_set_new(root, "online", json_integer((json_int_t)counts->online));
    json_object_set_new(root, "in_alarm", json_integer((json_int_t)counts->in_alarm));
    return root;
}

/* The wire budget of an rtu bus (wire_budget.h) from its devices' plans: read-only config. */
static json_t *planned_load(const struct bus *bus)
{
    struct wire_budget budget;
    wire_budget_start(&budget, bus_def(bus));
    for (size_t i = 0; i < bus_device_count(bus); i++) {
        const struct device *device = bus_device(bus, i);
        wire_budget_add(&budget, device->plan, device->def->poll_ms);
    }
    return payload_number(round(wire_budget_load(&budget) * 1000) / 1000);
}

static json_t *bus_object(struct bus *bus, const struct device_counts *counts)
{
    const struct bus_def *def = bus_def(bus);
    struct bus_stats stats = bus_snapshot_stats(bus);
    json_t *root = stats_json_bus(def, &stats);
    if (def->type == BUS_RTU)
        json_object_set_new(root, "address", json_string(def->port));
    else
        json_object_set_new(root, "address", json_sprintf("%s:%u", def->host, def->tcp_port));
    json_object_set_new(root, "link_silent", json_boolean(stats.link_silent));
    json_object_set_new(root, "late_replies", json_integer((json_int_t)stats.late_replies));
    if (def->type == BUS_RTU)
        json_object_set_new(root, "planned_load", planned_load(bus));
    json_object_set_new(root, "devices", counts_object(counts));
    return root;
}

static json_t *answer_status(struct control_answer *answer, const struct gateway_facts *facts)
{
    const struct config *config = answer->runtime->config;
    struct device_counts *per_bus =
        calloc(config->bus_count ? config->bus_count : 1, sizeof *per_bus);
    if (!per_bus)
        return failure("out of memory");
    struct device_counts total = {0};
    for (size_t d = 0; d < config->device_count; d++) {
        struct device_snapshot snapshot;
        snapshot_device_into_scratch(answer, d, &snapshot);
        enum snapshot_state state = state_of(answer, d, &snapshot);
        stats_json_count_device(&total, &snapshot, state);
        stats_json_count_device(&per_bus[config->devices[d].bus_index], &snapshot, state);
    }
    uint64_t now_wall_ms = time_wall_ms();
    json_t *root = success();
    json_object_set_new(root, "gateway", json_string(config->gateway.id));
    json_object_set_new(root, "site",
                        json_string(config->gateway.site ? config->gateway.site : ""));
    json_object_set_new(root, "version", json_string(SAFETYGW_VERSION));
    json_object_set_new(root, "started", control_json_timestamp(answer->started_wall_ms));
    json_object_set_new(root, "uptime_s",
                        json_integer((json_int_t)((now_wall_ms - answer->started_wall_ms) / 1000)));
    json_object_set_new(root, "mqtt",
                        json_pack("{s:s, s:b, s:I, s:I}", "uri", config->mqtt.uri, "connected",
                                  facts->mqtt_connected, "queued", (json_int_t)facts->mqtt_queued,
                                  "dropped", (json_int_t)facts->mqtt_dropped));
    json_object_set_new(root, "next_seq", json_integer((json_int_t)facts->next_seq));
    json_object_set_new(root, "state_write_failing", json_boolean(facts->state_write_failing));
    json_object_set_new(root, "lost", json_integer((json_int_t)facts->queue_files_lost));
    json_object_set_new(root, "devices", counts_object(&total));
    json_t *buses = json_array();
    for (size_t b = 0; b < config->bus_count; b++)
        json_array_append_new(buses, bus_object(answer->runtime->buses[b], &per_bus[b]));
    json_object_set_new(root, "buses", buses);
    free(per_bus);
    return root;
}

static bool matches(const struct device_filter *filter, const struct device_def *def,
                    const struct config *config, enum snapshot_state state)
{
    if (filter->kind && strcmp(filter->kind, def->profile->kind) != 0)
        return false;
    if (filter->bus && strcmp(filter->bus, config->buses[def->bus_index].name) != 0)
        return false;
    return filter->state < 0 || filter->state == (int)state;
}

static json_t *answer_devices(struct control_answer *answer, const struct device_filter *filter)
{
    const struct config *config = answer->runtime->config;
    json_t *devices = json_array();
    for (size_t d = 0; d < config->device_count; d++) {
        struct device_snapshot snapshot;
        snapshot_device_into_scratch(answer, d, &snapshot);
        enum snapshot_state state = state_of(answer, d, &snapshot);
        if (matches(filter, &config->devices[d], config, state))
            json_array_append_new(devices, control_json_device_summary(&snapshot, state));
    }
    json_t *root = success();
    json_object_set_new(root, "devices", devices);
    return root;
}

static json_t *answer_device(struct control_answer *answer, const char *id)
{
    const struct config *config = answer->runtime->config;
    const struct device_def *def = config_find_device(config, id);
    if (!def) {
        char message[ERROR_MAX];
        snprintf(message, sizeof message, "no device with id \"%s\"", id);
        return failure(message);
    }
    size_t d = (size_t)(def - config->devices);
    struct device_snapshot snapshot;
    snapshot_device_into_scratch(answer, d, &snapshot);
    json_t *root = success();
    json_object_set_new(root, "device",
                        control_json_device_detail(&snapshot, state_of(answer, d, &snapshot)));
    return root;
}

static int newest_first(const void *left, const void *right)
{
    const struct alarm_entry *a = left, *b = right;
    return a->raised_wall_ms < b->raised_wall_ms   ? 1
           : a->raised_wall_ms > b->raised_wall_ms ? -1
                                                   : 0;
}

/* Appends the device's active alarms to entries (room for every rule of every device). */
static size_t collect_alarms(const struct device_snapshot *snapshot, struct alarm_entry *entries)
{
    size_t added = 0;
    for (size_t r = 0; r < snapshot->def->rule_count; r++) {
        if (!snapshot->rule_states[r].active)
            continue;
        entries[added].raised_wall_ms = snapshot->raised_wall_ms[r];
        entries[added].alarm = control_json_alarm(snapshot, r);
        added++;
    }
    return added;
}

static json_t *answer_alarms(struct control_answer *answer)
{
    const struct config *config = answer->runtime->config;
    size_t capacity = config_total_rules(config);
    struct alarm_entry *entries = calloc(capacity ? capacity : 1, sizeof *entries);
    if (!entries)
        return failure("out of memory");
    size_t count = 0;
    for (size_t d = 0; d < config->device_count; d++) {
        struct device_snapshot snapshot;
        snapshot_device_into_scratch(answer, d, &snapshot);
        if (snapshot.active_alarm_count > 0)
            count += collect_alarms(&snapshot, entries + count);
    }
    qsort(entries, count, sizeof *entries, newest_first);
    json_t *alarms = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(alarms, entries[i].alarm);
    free(entries);
    json_t *root = success();
    json_object_set_new(root, "alarms", alarms);
    return root;
}

/* Refuses keys the command does not take: a misspelt filter must not silently match all. */
static int check_keys(json_t *request, const char *const *allowed, char *error, size_t size)
{
    const char *key;
    json_t *value;
    json_object_foreach(request, key, value)
    {
        bool known = strcmp(key, "cmd") == 0;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known) {
            snprintf(error, size, "unknown key \"%s\" for this cmd", key);
            return -1;
        }
    }
    return 0;
}

/* An optional string member: NULL when absent or null; -1 when of another type. */
static int optional_string(json_t *request, const char *key, const char **out, char *error,
                           size_t size)
{
    json_t *value = json_object_get(request, key);
    *out = NULL;
    if (!value || json_is_null(value))
        return 0;
    if (!json_is_string(value)) {
        snprintf(error, size, "\"%s\" must be a string", key);
        return -1;
    }
    *out = json_string_value(value);
    return 0;
}

static int parse_filter(struct control_answer *answer, json_t *request,
                        struct device_filter *filter, char *error, size_t size)
{
    static const char *const keys[] = {"kind", "bus", "state", NULL};
    const char *state = NULL;
    *filter = (struct device_filter){.state = -1};
    if (check_keys(request, keys, error, size) != 0 ||
        optional_string(request, "kind", &filter->kind, error, size) != 0 ||
        optional_string(request, "bus", &filter->bus, error, size) != 0 ||
        optional_string(request, "state", &state, error, size) != 0)
        return -1;
    if (state && (filter->state = snapshot_state_from_name(state)) < 0) {
        snprintf(error, size, "unknown state \"%s\" (ok, alarm, fault, offline, unknown)", state);
        return -1;
    }
    const struct config *config = answer->runtime->config;
    bool bus_found = filter->bus == NULL;
    for (size_t b = 0; b < config->bus_count && !bus_found; b++)
        bus_found = strcmp(config->buses[b].name, filter->bus) == 0;
    if (!bus_found) {
        snprintf(error, size, "no bus named \"%s\"", filter->bus);
        return -1;
    }
    return 0;
}

/*
 * {"cmd":"shelve","id":DEVICE,"alarm":A,"for":"2h","reason":R} and
 * {"cmd":"unshelve","id":DEVICE,"alarm":A}: checked as the same command from
 * the operations center would be (command_parse), then handed to the
 * device's bus, which applies it between two polls. The control
 * thread never waits for a bus: "ok" means accepted.
 */
static json_t *answer_shelving(struct control_answer *answer, json_t *request, const char *cmd)
{
    const char *id = json_string_value(json_object_get(request, "id"));
    struct device *device = id ? runtime_find_device(answer->runtime, id) : NULL;
    char error[ERROR_MAX];
    if (!device) {
        snprintf(error, sizeof error, "no device with id \"%s\"", id ? id : "");
        return failure(error);
    }
    json_t *as_command = json_deep_copy(request);
    json_object_del(as_command, "cmd");
    json_object_set_new(as_command, "action", json_string(cmd));
    json_object_set_new(as_command, "id", json_string("cli"));
    char *text = json_dumps(as_command, JSON_COMPACT);
    json_decref(as_command);
    if (!text)
        return failure("out of memory");
    struct command command;
    int parsed =
        command_parse(device->def->profile, text, strlen(text), &command, error, sizeof error);
    free(text);
    if (parsed != 0)
        return failure(error);
    snprintf(command.by, sizeof command.by, "cli");
    if (bus_post_command(runtime_bus_of(answer->runtime, device), device, &command) != 0)
        return failure("busy: too many commands waiting for the device's bus; try again");
    return success();
}

static json_t *dispatch(struct control_answer *answer, json_t *request, const char *cmd,
                        const struct gateway_facts *facts)
{
    static const char *const no_keys[] = {NULL};
    static const char *const device_keys[] = {"id", NULL};
    char error[ERROR_MAX];
    if (strcmp(cmd, "devices") == 0) {
        struct device_filter filter;
        if (parse_filter(answer, request, &filter, error, sizeof error) != 0)
            return failure(error);
        return answer_devices(answer, &filter);
    }
    if (strcmp(cmd, "device") == 0) {
        const char *id = NULL;
        if (check_keys(request, device_keys, error, sizeof error) != 0 ||
            optional_string(request, "id", &id, error, sizeof error) != 0)
            return failure(error);
        return id ? answer_device(answer, id) : failure("\"device\" needs an \"id\"");
    }
    if (strcmp(cmd, "shelve") == 0 || strcmp(cmd, "unshelve") == 0)
        return answer_shelving(answer, request, cmd);
    bool status = strcmp(cmd, "status") == 0, alarms = strcmp(cmd, "alarms") == 0;
    if (!status && !alarms) {
        snprintf(error, sizeof error,
                 "unknown cmd \"%s\" (status, devices, device, alarms, shelve, unshelve)", cmd);
        return failure(error);
    }
    if (check_keys(request, no_keys, error, sizeof error) != 0)
        return failure(error);
    return status ? answer_status(answer, facts) : answer_alarms(answer);
}

/*
 * Reads what status needs from outside the runtime first (atomics the uplink
 * keeps), then builds the response under the runtime's read lock: snapshots and
 * JSON, no I/O, nothing that waits.
 */
static json_t *answer_locked(struct control_answer *answer, json_t *request)
{
    const char *cmd = json_string_value(json_object_get(request, "cmd"));
    struct gateway_facts facts = {0};
    if (strcmp(cmd, "status") == 0)
        facts = (struct gateway_facts){.mqtt_connected = publish_connected(),
                                       .mqtt_queued = publish_pending(),
                                       .mqtt_dropped = publish_dropped(),
                                       .next_seq = uplink_next_seq(),
                                       .state_write_failing = statefile_write_failing(),
                                       .queue_files_lost = mqtt_store_lost()};
    runtime_lock_read();
    json_t *response = follow_config(answer) == 0 ? dispatch(answer, request, cmd, &facts)
                                                  : failure("out of memory");
    runtime_unlock();
    return response;
}

char *control_answer(struct control_answer *answer, const char *request, size_t length)
{
    json_error_t parse_error;
    json_t *parsed = json_loadb(request, length, JSON_REJECT_DUPLICATES, &parse_error);
    json_t *response;
    if (!parsed) {
        char message[ERROR_MAX];
        snprintf(message, sizeof message, "request is not JSON: %s (column %d)", parse_error.text,
                 parse_error.column);
        response = failure(message);
    } else if (!json_is_object(parsed) || !json_is_string(json_object_get(parsed, "cmd"))) {
        response = failure("a request is a JSON object with a string \"cmd\"");
    } else {
        response = answer_locked(answer, parsed);
    }
    json_decref(parsed);
    return payload_dump(response); /* the response copies what it took: no lock needed */
}
