/*
 * bus.c — what a bus decides: which device is polled next, what a poll's
 * outcome means (record, link watch, alarms, interlocks, bus_down, cadence,
 * telemetry), operator commands, reconnecting. Every bus, tcp or rtu, is
 * served by the reactor thread (reactor.h), whose calls do one
 * non-blocking step at a time (bus_steps.c) and come back to these
 * decisions (bus_next_work, bus_finish_poll_*, bus_begin_command:
 * bus_internal.h).
 */
#include "bus.h"
#include "bus_internal.h"

#include <errno.h>
#include <modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "action.h"
#include "alarm.h"
#include "command.h"
#include "command_reply.h"
#include "device_poll.h"
#include "link_watch.h"
#include "log.h"
#include "modbus_open.h"
#include "modbus_pdu.h"
#include "payload.h"
#include "publish.h"
#include "reactor.h"
#include "rtu_silence.h"
#include "schedule.h"
#include "telemetry.h"
#include "timeutil.h"
#include "uplink.h"

#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 30000
#define IDLE_WAKE_MS 1000 /* look at the schedule at least this often */
#define ROOM_RETRY_MS 10  /* an uplink without room looked at again (uplink_has_room) */
/*
 * The reactor's grid (reactor.h) for a bus's deadlines: converters' polls due
 * within 2 ms go out together; lines' silences that end within the same
 * 0.5 ms send together, for at most 0.5 ms more a transaction (about 1 % of a
 * 9600-baud read of 8 registers).
 */
#define TCP_SLOT_US 2000u
#define RTU_SLOT_US 500u
#define CYCLE_SMOOTHING 0.1
/*
 * Retries of offline devices may take at most this share of a bus's time: each
 * retry of a dead device holds the line for a whole timeout, and a bus that
 * spends its time waiting on the dead is the complaint users have of every
 * other gateway.
 */
#define OFFLINE_RETRY_BUDGET_PERCENT 5
/*
 * Devices near or in alarm are polled faster, but that may take at most this
 * share of a bus's time, so the healthy majority keep their poll interval: on
 * a bus of 30 gas alarms at 2 s, a reply of 50 ms, 25 % lets about 6 devices
 * go from 2 s to 500 ms.
 */
#define FAST_POLL_BUDGET_PERCENT 25
#define LATE_REPLY_TIMEOUTS 2         /* see quiet_after_timeout_ms */
#define TCP_USER_TIMEOUT_MIN_MS 10000 /* see set_tcp_keepalive */

static const char *bus_address(const struct bus_def *def, char *text, size_t size)
{
    return modbus_open_address(def, text, size);
}

/* Exponential back-off with ±25 % jitter so many gateways do not reconnect in step. */
static void schedule_reconnect(struct bus *bus, uint64_t now_ms)
{
    uint32_t base = bus->reconnect_backoff_ms ? bus->reconnect_backoff_ms : RECONNECT_MIN_MS;
    uint32_t jitter = base / 4;
    uint32_t wait = base - jitter + (jitter ? (uint32_t)rand() % (2 * jitter + 1) : 0);
    bus->next_connect_ms = now_ms + wait;
    bus->reconnect_backoff_ms = base * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : base * 2;
}

/* The link cannot be opened: the whole bus is down (bus_link_silent). */
void bus_link_open_failed(struct bus *bus, uint64_t now_ms, int error_number)
{
    char address[300];
    log_bus(LOG_WARNING, bus->def->name, "bus %s: cannot open %s: %s%s", bus->def->name,
            bus_address(bus->def, address, sizeof address), modbus_strerror(error_number),
            bus->def->type == BUS_TCP ? " (the converter is gone: the whole bus is down)" : "");
    bus->link_failed = true;
    schedule_reconnect(bus, now_ms);
    bus->connect_failures++;
    pthread_mutex_lock(&bus->snapshot_lock);
    bus->stats.link_silent = true;
    pthread_mutex_unlock(&bus->snapshot_lock);
}

/*
 * A half-open connection to a converter that rebooted or dropped off the
 * network can look alive for hours; keepalive probes and TCP_USER_TIMEOUT
 * make the kernel give up on it (link_timeout_ms, but not so soon that a
 * few retransmissions on a lossy network end a good connection).
 */
static void set_tcp_keepalive(struct bus *bus, int fd)
{
    uint32_t user_timeout_ms = bus->def->link_timeout_ms > TCP_USER_TIMEOUT_MIN_MS
                                   ? bus->def->link_timeout_ms
                                   : TCP_USER_TIMEOUT_MIN_MS;
    if (tcp_link_set_keepalive(fd, user_timeout_ms) != 0)
        log_bus(LOG_WARNING, bus->def->name,
                "bus %s: cannot set TCP keepalive on the connection: %s", bus->def->name,
                strerror(errno));
}

/* The link is open (fd: a tcp bus's connected socket): pacing, state, statistics. */
void bus_link_opened(struct bus *bus, int fd)
{
    char address[300];
    if (bus->def->type == BUS_RTU) {
        bus->pacing.fd = modbus_get_socket(bus->ctx);
        reactor_watch(&bus->member, bus->pacing.fd, EPOLLIN);
    } else {
        tcp_link_open(&bus->tcp, fd, bus->def->timeout_ms);
        set_tcp_keepalive(bus, fd);
        reactor_watch(&bus->member, fd, EPOLLIN);
    }
    /* We do not know when the line last fell silent: the first request waits a t3.5 too. */
    bus->pacing.last_request_end_us = time_monotonic_us();
    bus->connect_failures = 0;
    bus->link_failed = false;
    bus->link_up = true;
    bus->reconnect_backoff_ms = 0;
    log_bus(LOG_INFO, bus->def->name, "bus %s: opened %s", bus->def->name,
            bus_address(bus->def, address, sizeof address));
    pthread_mutex_lock(&bus->snapshot_lock);
    bus->stats.link_up = true;
    bus->stats.link_silent = bus->watch.silent;
    bus->stats.reconnects++;
    pthread_mutex_unlock(&bus->snapshot_lock);
}

/*
 * A line's tty closed without waiting: what it still holds to send is
 * dropped first, since a serial driver's close waits for its output to drain
 * (30 s by default), which a wedged adapter never does, and that wait would
 * hold up every bus of the reactor, or main at a reload or a stop.
 */
static void close_line(modbus_t *ctx)
{
    modbus_flush(ctx);
    modbus_close(ctx);
}

/* Closes the wire (no longer watched): libmodbus's context on rtu, the socket on tcp. */
static void shut_link(struct bus *bus)
{
    reactor_watch(&bus->member, -1, 0);
    if (bus->def->type == BUS_RTU)
        close_line(bus->ctx);
    else if (bus->tcp.fd >= 0)
        close(bus->tcp.fd);
    bus->pacing.fd = -1;
    bus->tcp.fd = -1;
    bus->link_up = false;
    pthread_mutex_lock(&bus->snapshot_lock);
    bus->stats.link_up = false;
    pthread_mutex_unlock(&bus->snapshot_lock);
}

void bus_close_link(struct bus *bus, uint64_t now_ms)
{
    char address[300];
    log_bus(LOG_WARNING, bus->def->name, "bus %s: lost %s; reopening", bus->def->name,
            bus_address(bus->def, address, sizeof address));
    shut_link(bus);
    schedule_reconnect(bus, now_ms);
}

/* A silent tcp link: closed and opened again at once (link_watch.h). */
static void reopen_link(struct bus *bus, uint64_t now_ms)
{
    char address[300];
    log_bus(LOG_WARNING, bus->def->name,
            "bus %s: nothing answered on %s for %llu ms: reopening the connection (reopen %u)",
            bus->def->name, bus_address(bus->def, address, sizeof address),
            (unsigned long long)link_watch_silent_ms(&bus->watch, now_ms), bus->watch.reopens);
    shut_link(bus);
    bus->next_connect_ms = now_ms;
}

/* --- the whole bus gone, or one device on it (link_watch.h) --- */

bool bus_link_silent(const struct bus *bus)
{
    return bus->link_failed || bus->watch.silent;
}

static bool answered(const struct poll_outcome *outcome)
{
    return outcome->result == DEVICE_POLL_OK || outcome->error_class == MODBUS_ERROR_CRC ||
           outcome->error_class == MODBUS_ERROR_EXCEPTION ||
           outcome->error_class == MODBUS_ERROR_OTHER;
}

static void set_link_silent(struct bus *bus, bool silent)
{
    pthread_mutex_lock(&bus->snapshot_lock);
    bus->stats.link_silent = silent || bus->link_failed;
    pthread_mutex_unlock(&bus->snapshot_lock);
}

/* Shows the watch one poll; says when the whole bus falls silent or answers again. */
static void watch_link(struct bus *bus, const struct device *device,
                       const struct poll_outcome *outcome, uint64_t now_ms)
{
    char address[300]; /* formatted only for a log line: this runs after every poll */
    switch (link_watch_poll(&bus->watch, device->def->address, device->last_poll_timed_out,
                            answered(outcome), now_ms)) {
    case LINK_WATCH_SILENT:
        log_bus(LOG_WARNING, bus->def->name,
                "bus %s: %s is silent: no device answered for %llu ms (%zu of %zu timed out "
                "since): %s",
                bus->def->name, bus_address(bus->def, address, sizeof address),
                (unsigned long long)link_watch_silent_ms(&bus->watch, now_ms),
                bus->watch.timed_out_count, bus->device_count,
                bus->def->type == BUS_TCP
                    ? "the converter or the network to it is gone, not one device"
                    : "the line is cut or unpowered, or its adapter is gone, not one device");
        set_link_silent(bus, true);
        break;
    case LINK_WATCH_ANSWERING:
        log_bus(LOG_INFO, bus->def->name, "bus %s: %s answers again", bus->def->name,
                bus_address(bus->def, address, sizeof address));
        set_link_silent(bus, false);
        break;
    case LINK_WATCH_SAME:
        break;
    }
    if (bus->def->type == BUS_TCP && bus->link_up && link_watch_reopen_due(&bus->watch, now_ms))
        reopen_link(bus, now_ms);
}

static size_t answering_devices(const struct bus *bus)
{
    size_t count = 0;
    for (size_t i = 0; i < bus->device_count; i++)
        count += bus->devices[i]->link == DEVICE_ONLINE && !bus->devices[i]->last_poll_timed_out;
    return count;
}

/* A device went offline: say whether it is the device alone, when there is evidence. */
static void log_device_gone(const struct bus *bus, const struct device *device)
{
    const struct failure_run *run = &device->stats.failing;
    bool converter_answers =
        run->exceptions > 0 && (run->last_exception_code == MODBUS_EXCEPTION_GATEWAY_PATH ||
                                run->last_exception_code == MODBUS_EXCEPTION_GATEWAY_TARGET);
    size_t others = answering_devices(bus);
    if (converter_answers)
        log_about(LOG_INFO, device->def->id, bus->def->name, NULL,
                  "bus %s: the converter answers for %s with exception %u: the device behind it "
                  "(address %u) is gone, not the converter",
                  bus->def->name, device->def->id, run->last_exception_code, device->def->address);
    else if (others > 0)
        log_about(LOG_INFO, device->def->id, bus->def->name, NULL,
                  "bus %s: %zu other device%s on it answer%s: %s (address %u) is gone, not the %s",
                  bus->def->name, others, others == 1 ? "" : "s", others == 1 ? "s" : "",
                  device->def->id, device->def->address,
                  bus->def->type == BUS_TCP ? "converter" : "line");
}

/* Interval between two polls of the same answering device, smoothed over the bus. */
static void update_cycle(struct bus *bus, const struct device *device, uint64_t now_ms)
{
    if (device->last_poll_start_ms == 0 || device->link != DEVICE_ONLINE)
        return;
    double interval = (double)(now_ms - device->last_poll_start_ms);
    double *cycle = &bus->stats.cycle_ms;
    *cycle = *cycle == 0 ? interval : *cycle + CYCLE_SMOOTHING * (interval - *cycle);
}

/*
 * Starts a write of the action on the device, as a transaction on the bus's
 * link (the reactor never waits). Returns -1 (failed: error says why) or 1
 * (under way: exchange_done takes the reply).
 */
static int start_action(struct bus *bus, const struct device *device,
                        const struct action_def *action, int param, enum exchange_purpose purpose,
                        char *error, size_t error_size)
{
    if (!bus->link_up) {
        snprintf(error, error_size, "bus %s is down", bus->def->name);
        return -1;
    }
    struct bus_exchange *exchange = &bus->exchange;
    if (action_first_address(action, param, &exchange->first_address, error, error_size) != 0)
        return -1;
    exchange->purpose = purpose;
    exchange->unit = device->def->address;
    exchange->action = action;
    exchange->request_length =
        modbus_pdu_write_request(action->table, (uint16_t)exchange->first_address, action->count,
                                 action->value, exchange->request);
    bus_send_when_ready(bus);
    return 1;
}

/* A raised alarm's local interlock (close the valve), whether or not the broker is up. */
static const struct action_def *interlock_of(const struct device *device,
                                             const struct alarm_event *event)
{
    const struct action_def *action = alarm_interlock(device, event->rule);
    return event->raised && !event->shelved ? action : NULL;
}

void bus_interlock_done(const struct device *device, struct alarm_event *event, bool ok,
                        const char *error)
{
    event->action_ok = ok;
    if (ok) {
        log_alarm(LOG_INFO, device->def->id, event->rule->name, "action %s on %s done (alarm %s)",
                  event->action, device->def->id, event->rule->name);
    } else {
        event->action_error = error;
        log_alarm(LOG_ERR, device->def->id, event->rule->name,
                  "action %s on %s failed (alarm %s): %s", event->action, device->def->id,
                  event->rule->name, error);
    }
}

/*
 * The poll's alarm events to the uplink, each after its interlock. Returns
 * false while an interlock's write is under way on a tcp bus (called again
 * once it is done).
 */
static bool hand_over_events(struct bus *bus)
{
    struct finishing *finishing = &bus->finishing;
    const struct device *device = finishing->device;
    for (; finishing->next_event < finishing->decisions.count; finishing->next_event++) {
        struct alarm_event *event = &finishing->decisions.events[finishing->next_event];
        if (finishing->event_started) {
            finishing->event_started = false; /* its interlock is done */
        } else {
            event->shelved_as = shelving_find(
                device->shelvings, (size_t)(event->rule - device->def->rules), finishing->wall_ms);
            alarm_log(device, event);
            const struct action_def *action = interlock_of(device, event);
            if (action) {
                event->action = action->name;
                int result =
                    start_action(bus, device, action, event->rule->action_param, FOR_INTERLOCK,
                                 finishing->action_error, sizeof finishing->action_error);
                if (result > 0) {
                    finishing->event_started = true;
                    return false;
                }
                bus_interlock_done(device, event, result == 0, finishing->action_error);
            }
        }
        if (!event->held_back)
            uplink_post_event(event);
    }
    return true;
}

/*
 * While the bus is down its devices' offline alarms are held back (bus_down
 * stands for them). Once it is up again, a device still silent gets the raise
 * it was spared; one that answers clears without a word.
 */
static void settle_offline(struct bus *bus, struct device *device, bool poll_ok,
                           struct alarm_decisions *decisions, uint64_t wall_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < decisions->count; i++) {
        struct alarm_event *event = &decisions->events[i];
        if (event->rule->kind != RULE_OFFLINE ||
            !bus_down_holds_back(&bus->down, device, event->raised))
            decisions->events[kept++] = *event;
    }
    decisions->count = kept;
    if (bus->down.active || !device->offline_suppressed || poll_ok)
        return;
    device->offline_suppressed = false;
    if (alarm_offline_raise(device, wall_ms, &decisions->events[decisions->count]))
        decisions->count++;
}

/* Takes a poll's outcome in while readers are kept out; returns true when the link changed. */
static bool record_poll(struct bus *bus, struct device *device, const struct poll_outcome *outcome,
                        uint64_t now_ms, struct alarm_decisions *decisions)
{
    bool poll_ok = outcome->result == DEVICE_POLL_OK;
    uint64_t wall_ms = time_wall_ms();
    pthread_mutex_lock(&bus->snapshot_lock);
    if (poll_ok)
        update_cycle(bus, device, now_ms);
    device->last_poll_start_ms = now_ms;
    bool link_changed = device_record_poll(device, bus->poll_values, outcome, wall_ms);
    alarm_evaluate(device, poll_ok, time_monotonic_ms(), wall_ms, decisions);
    settle_offline(bus, device, poll_ok, decisions, wall_ms);
    if (poll_ok)
        bus->stats.polls_ok++;
    else
        bus->stats.polls_failed++;
    pthread_mutex_unlock(&bus->snapshot_lock);
    return link_changed;
}

/* bus_down's event; its clear names the same places as its raise. */
static void post_bus_event(struct bus *bus, bool raised, uint64_t wall_ms)
{
    if (!bus->down_locations) /* raised now, or before a restart */
        bus->down_locations = bus_down_locations(bus->devices, bus->device_count);
    struct alarm_event event = {.raised = raised,
                                .bus = bus->def,
                                .rule = &bus_down_rule,
                                .devices_affected = bus->down.devices_affected,
                                .locations_json = bus->down_locations,
                                .raised_at_wall_ms = bus->down.raised_wall_ms,
                                .ts_wall_ms = wall_ms};
    uplink_post_event(&event);
    if (!raised) {
        free(bus->down_locations);
        bus->down_locations = NULL;
    }
}

/* After every poll: is the whole bus silent, or back? */
static void judge_bus(struct bus *bus, const struct device *polled)
{
    bool link_failed = !bus->link_up && bus->connect_failures > 0;
    uint64_t wall_ms = time_wall_ms();
    enum bus_down_change change = bus_down_judge(&bus->down, bus->devices, bus->device_count,
                                                 !polled->last_poll_silent, link_failed, wall_ms);
    if (change == BUS_DOWN_NO_CHANGE)
        return;
    bool raised = change == BUS_DOWN_RAISED;
    pthread_mutex_lock(&bus->snapshot_lock);
    bus->stats.down = raised;
    pthread_mutex_unlock(&bus->snapshot_lock);
    if (raised) {
        log_about(LOG_WARNING, NULL, bus->def->name, "bus_down",
                  "alarm bus_down raised on bus %s: %u devices silent%s", bus->def->name,
                  bus->down.devices_affected, link_failed ? " (the link cannot be opened)" : "");
    } else {
        log_about(LOG_INFO, NULL, bus->def->name, "bus_down",
                  "alarm bus_down cleared on bus %s: %s answers; polling every device again",
                  bus->def->name, polled->def->id);
        bus->recovering = true;
    }
    post_bus_event(bus, raised, wall_ms);
}

/* The time the device's polls take, per ms: its mean reply time, or the timeout when unknown. */
static double busy_ms_per_poll(const struct bus *bus, const struct device *device)
{
    if (device->stats.polls_ok == 0)
        return bus->def->timeout_ms;
    return (double)device->stats.latency_total_us / 1000.0 / (double)device->stats.polls_ok;
}

/* After a poll: fast while near or in alarm, if the bus's fast-poll budget has room. */
static void choose_cadence(struct bus *bus, struct device *device)
{
    bool wants = alarm_wants_fast_poll(device);
    bus->fast_share -= device->fast_share;
    double busy_ms = busy_ms_per_poll(bus, device);
    double extra =
        wants ? busy_ms / device->def->profile->fast_poll_ms - busy_ms / device->def->poll_ms : 0;
    if (wants && bus->fast_share + extra > FAST_POLL_BUDGET_PERCENT / 100.0) {
        if (!device->poll_fast)
            log_bus(LOG_DEBUG, bus->def->name,
                    "bus %s: no fast polling for %s: %d %% of the bus's time is taken",
                    bus->def->name, device->def->id, FAST_POLL_BUDGET_PERCENT);
        wants = false;
        extra = 0;
    }
    if (wants != device->poll_fast)
        log_about(LOG_INFO, device->def->id, bus->def->name, NULL,
                  "device %s: polled every %u ms (%s)", device->def->id,
                  wants ? device->def->profile->fast_poll_ms : device->def->poll_ms,
                  wants ? "near or in alarm" : "calm again");
    device->poll_fast = wants;
    device->fast_share = extra;
    bus->fast_share += extra;
}

/* bus_down cleared: the devices it held back are polled now, not after their back-off. */
static void poll_everyone_now(struct bus *bus, uint64_t now_ms)
{
    bus->recovering = false;
    schedule_clear(&bus->schedule);
    for (size_t i = 0; i < bus->device_count; i++) {
        struct device *device = bus->devices[i];
        device->next_due_ms = now_ms;
        device->backoff_ms = 0;
        schedule_push(&bus->schedule, device);
    }
}

static struct device *device_at_address(struct bus *bus, uint8_t address)
{
    for (size_t i = 0; i < bus->device_count; i++)
        if (bus->devices[i]->def->address == address)
            return bus->devices[i];
    return NULL;
}

/* Late replies the pacing dropped since last looked, counted on the device they came from. */
static void attribute_late_replies(struct bus *bus)
{
    uint64_t found = bus->pacing.late_replies - bus->late_replies_seen;
    if (found == 0)
        return;
    bus->late_replies_seen = bus->pacing.late_replies;
    struct device *from = device_at_address(bus, bus->pacing.late_address);
    pthread_mutex_lock(&bus->snapshot_lock);
    bus->stats.late_replies += found;
    if (from)
        device_note_late_replies(from, (uint32_t)found);
    pthread_mutex_unlock(&bus->snapshot_lock);
    log_bus(LOG_DEBUG, bus->def->name, "bus %s: %llu late repl%s from %s dropped", bus->def->name,
            (unsigned long long)found, found == 1 ? "y" : "ies",
            from ? from->def->id : "an unknown address");
}

static struct backoff_limits backoff_limits(const struct bus *bus);

/*
 * What follows a poll's I/O, up to its alarm events: the outcome recorded,
 * the link watched, the device's coming and going counted. now_ms is when
 * the poll started, due_ms when it was due.
 */
void bus_finish_poll_begin(struct bus *bus, struct device *device,
                           const struct poll_outcome *outcome, uint64_t now_ms, uint64_t due_ms)
{
    if (outcome->result == DEVICE_POLL_LINK_LOST && bus->link_up)
        bus_close_link(bus, now_ms);
    attribute_late_replies(bus);

    struct finishing *finishing = &bus->finishing;
    *finishing = (struct finishing){.active = true,
                                    .device = device,
                                    .outcome = *outcome,
                                    .decisions = {.events = bus->decided},
                                    .now_ms = now_ms,
                                    .due_ms = due_ms};
    finishing->link_changed = record_poll(bus, device, outcome, now_ms, &finishing->decisions);
    watch_link(bus, device, outcome, now_ms);
    if (finishing->link_changed) {
        device_log_link(device);
        if (device->link == DEVICE_OFFLINE) {
            log_device_gone(bus, device);
            bus->offline_count++;
        } else if (bus->offline_count > 0 && device->link == DEVICE_ONLINE)
            bus->offline_count--;
    }
    finishing->wall_ms = time_wall_ms();
}

/*
 * Queues the device's retained state. A full queue never holds the bus up
 * (on the reactor that would hold up every bus): the state is owed and
 * posted again from bus_next_work; only a device's latest state matters.
 */
static void post_state(struct bus *bus, struct device *device)
{
    device->state_owed = uplink_post_device_state(device) != 0;
    bus->owed |= device->state_owed;
}

/* After the poll's events: bus_down, state, cadence, telemetry, and when the device is due again.
 */
static void finish_poll_end(struct bus *bus)
{
    const struct finishing *finishing = &bus->finishing;
    struct device *device = finishing->device;
    judge_bus(bus, device);
    if (finishing->link_changed || finishing->decisions.count > 0)
        post_state(bus, device);
    choose_cadence(bus, device);
    if (finishing->outcome.result == DEVICE_POLL_OK)
        bus->owed |= telemetry_after_poll(device, finishing->now_ms);
    device_schedule_next(device, finishing->due_ms, time_monotonic_ms(), backoff_limits(bus));
    schedule_push(&bus->schedule, device);
    if (bus->recovering)
        poll_everyone_now(bus, time_monotonic_ms());
}

/* Takes the poll's finishing on; false while an interlock's write is under way. */
bool bus_finish_poll_resume(struct bus *bus)
{
    if (!hand_over_events(bus))
        return false;
    finish_poll_end(bus);
    bus->finishing.active = false;
    return true;
}

int bus_post_command(struct bus *bus, struct device *device, const struct command *command)
{
    pthread_mutex_lock(&bus->inbox_lock);
    bool full = bus->command_count == BUS_COMMAND_QUEUE;
    if (!full) {
        size_t slot = (bus->command_first + bus->command_count++) % BUS_COMMAND_QUEUE;
        bus->commands[slot] = (struct pending_command){.device = device, .command = *command};
    }
    pthread_mutex_unlock(&bus->inbox_lock);
    if (!full)
        reactor_wake(&bus->member);
    return full ? -1 : 0;
}

static bool take_command(struct bus *bus, struct pending_command *taken)
{
    pthread_mutex_lock(&bus->inbox_lock);
    bool any = bus->command_count > 0;
    if (any) {
        *taken = bus->commands[bus->command_first];
        bus->command_first = (bus->command_first + 1) % BUS_COMMAND_QUEUE;
        bus->command_count--;
    }
    pthread_mutex_unlock(&bus->inbox_lock);
    return any;
}

/* The alarm a shelving command names, or NULL for all of the device's. */
static const char *shelved_alarm(const struct device *device, const struct command *command)
{
    return command->rule_index >= 0 ? device->def->rules[command->rule_index].name : NULL;
}

static int shelve(struct bus *bus, struct device *device, const struct command *command,
                  char *error, size_t error_size)
{
    struct shelving shelving = {.rule_index = command->rule_index,
                                .until_wall_ms = time_wall_ms() + command->for_ms};
    snprintf(shelving.reason, sizeof shelving.reason, "%s", command->reason);
    snprintf(shelving.by, sizeof shelving.by, "%s", command->by);
    pthread_mutex_lock(&bus->snapshot_lock);
    int result = shelving_add(device, &shelving, error, error_size);
    pthread_mutex_unlock(&bus->snapshot_lock);
    if (result == 0)
        uplink_post_shelving(device->def->id, shelved_alarm(device, command), &shelving);
    return result;
}

static int unshelve(struct bus *bus, struct device *device, const struct command *command,
                    char *error, size_t error_size)
{
    pthread_mutex_lock(&bus->snapshot_lock);
    size_t removed = shelving_remove(device, command->rule_index);
    pthread_mutex_unlock(&bus->snapshot_lock);
    if (removed == 0) {
        snprintf(error, error_size, "%s%s%s is not shelved", device->def->id,
                 command->rule_index >= 0 ? " " : "",
                 command->rule_index >= 0 ? shelved_alarm(device, command) : "");
        return -1;
    }
    uplink_post_shelving(device->def->id, shelved_alarm(device, command), NULL);
    return 0;
}

/* Starts a command: 0 done, -1 failed (error says why), 1 under way (a tcp bus's write). */
int bus_begin_command(struct bus *bus, const struct pending_command *pending, char *error,
                      size_t error_size)
{
    const struct command *command = &pending->command;
    switch (command->kind) {
    case COMMAND_SHELVE:
        return shelve(bus, pending->device, command, error, error_size);
    case COMMAND_UNSHELVE:
        return unshelve(bus, pending->device, command, error, error_size);
    case COMMAND_ACTION:
        break;
    }
    const struct action_def *action =
        &pending->device->def->profile->actions[command->action_index];
    return start_action(bus, pending->device, action, command->param, FOR_COMMAND, error,
                        error_size);
}

static const char *command_name(const struct device *device, const struct command *command)
{
    if (command->kind != COMMAND_ACTION)
        return command->kind == COMMAND_SHELVE ? "shelve" : "unshelve";
    return device->def->profile->actions[command->action_index].name;
}

/* A command is done: logged, its device's state and its result published. */
void bus_complete_command(struct bus *bus, const struct pending_command *pending, int result,
                          const char *error)
{
    const struct command *command = &pending->command;
    log_about(LOG_INFO, pending->device->def->id, bus->def->name, NULL,
              "command %s for %s by %s: %s %s", command->id, pending->device->def->id, command->by,
              command_name(pending->device, command), result == 0 ? "done" : error);
    if (command->kind != COMMAND_ACTION && result == 0)
        post_state(bus, pending->device);
    if (strcmp(command->by, "cli") != 0) /* the CLI had its answer from the control socket */
        command_reply(pending->device->def->id, command->id, result == 0 ? NULL : error);
    attribute_late_replies(bus);
}

/* After every (re)connection the broker gets each device's current state again. */
static void republish_states(struct bus *bus)
{
    uint64_t epoch = publish_connection_epoch();
    if (epoch == bus->state_epoch)
        return;
    bus->state_epoch = epoch;
    for (size_t i = 0; i < bus->device_count; i++)
        if (bus->devices[i]->link != DEVICE_UNKNOWN) /* else its first poll publishes it */
            post_state(bus, bus->devices[i]);
}

/* The states and telemetry a full queue turned away, while the queue takes them. */
static void post_owed(struct bus *bus, uint64_t now_ms)
{
    if (!bus->owed)
        return;
    bus->owed = false;
    for (size_t i = 0; i < bus->device_count; i++) {
        struct device *device = bus->devices[i];
        if (device->state_owed)
            post_state(bus, device);
        if (device->telemetry_owed)
            telemetry_after_poll(device, now_ms);
        if (device->state_owed || device->telemetry_owed) {
            bus->owed = true;
            return; /* still full: the rest wait for the next turn */
        }
    }
}

/*
 * On an RS-485 line nothing but timing tells a late reply from the answer to
 * the next request to the same slave: a slave that timed out is asked again
 * only after two more timeouts, so that replies up to three timeouts late
 * land in between, where they are drained and counted (device_poll.h).
 */
static uint32_t quiet_after_timeout_ms(const struct bus_def *def)
{
    return def->type == BUS_RTU ? LATE_REPLY_TIMEOUTS * def->timeout_ms : 0;
}

/*
 * Each retry of an offline device costs up to one timeout of line time; with
 * N offline devices, retrying each no more often than N timeouts / budget
 * keeps them all within the budget.
 */
static struct backoff_limits backoff_limits(const struct bus *bus)
{
    uint64_t budget_ms =
        (uint64_t)bus->def->timeout_ms * bus->offline_count * 100u / OFFLINE_RETRY_BUDGET_PERCENT;
    uint32_t max_ms = bus->def->backoff_max_ms;
    return (struct backoff_limits){.min_ms = budget_ms < max_ms ? (uint32_t)budget_ms : max_ms,
                                   .max_ms = max_ms,
                                   .keep_cadence = bus->down.active,
                                   .quiet_after_timeout_ms = quiet_after_timeout_ms(bus->def)};
}

/*
 * The one choice of a bus's steps: commands first, then the device due;
 * neither while the uplink has as many alarm events and command results
 * waiting as it keeps room for (uplink.h): it would take theirs past that.
 */
struct bus_work bus_next_work(struct bus *bus, struct pending_command *command, uint64_t now_ms)
{
    if (!uplink_has_room())
        return (struct bus_work){.kind = WORK_WAIT, .until_ms = now_ms + ROOM_RETRY_MS};
    republish_states(bus);
    post_owed(bus, now_ms);
    if (take_command(bus, command))
        return (struct bus_work){.kind = WORK_COMMAND};
    struct device *device = schedule_peek(&bus->schedule);
    if (!device || device->next_due_ms > now_ms)
        return (struct bus_work){.kind = WORK_WAIT,
                                 .until_ms = device ? device->next_due_ms : now_ms + IDLE_WAKE_MS};
    schedule_pop(&bus->schedule);
    return (struct bus_work){.kind = WORK_POLL, .device = device};
}

/* What one poll's scratch must hold: the bus's largest read plan, profile and rule list. */
struct scratch_sizes {
    size_t registers;
    size_t values;
    size_t rules;
};

static size_t larger(size_t a, size_t b)
{
    return a > b ? a : b;
}

static struct scratch_sizes scratch_sizes(struct device **devices, size_t count)
{
    struct scratch_sizes sizes = {1, 1, 1};
    for (size_t i = 0; i < count; i++) {
        sizes.registers = larger(sizes.registers, devices[i]->plan->buffer_count);
        sizes.values = larger(sizes.values, devices[i]->def->profile->point_count);
        sizes.rules = larger(sizes.rules, devices[i]->def->rule_count);
    }
    return sizes;
}

/* What belongs to the wire moves between two buses (a reload, or its undoing). */
static void move_link(struct bus *to, struct bus *from)
{
    modbus_t *spare = to->ctx;
    to->ctx = from->ctx;
    from->ctx = spare;
    to->link_up = from->link_up;
    from->link_up = false;
    to->reconnect_backoff_ms = from->reconnect_backoff_ms;
    to->next_connect_ms = from->next_connect_ms;
    to->pacing.fd = from->pacing.fd;
    from->pacing.fd = -1;
    to->pacing.last_request_end_us = from->pacing.last_request_end_us;
    to->pacing.unanswered_address = from->pacing.unanswered_address;
    to->pacing.late_replies = from->pacing.late_replies;
    to->pacing.late_address = from->pacing.late_address;
    to->late_replies_seen = from->late_replies_seen;
    to->tcp = from->tcp;
    to->tcp.timeout_ms = to->def->timeout_ms; /* the connection moves, the timeout is the bus's */
    from->tcp.fd = -1;
    tcp_link_abandon(&to->tcp); /* what was awaited when the predecessor stopped comes late */
    pthread_mutex_lock(&to->snapshot_lock);
    to->stats = from->stats;
    pthread_mutex_unlock(&to->snapshot_lock);
    to->state_epoch = from->state_epoch;
    to->connect_failures = from->connect_failures;
}

struct bus *bus_prepare(const struct bus_def *def, struct device **devices, size_t count)
{
    struct bus *bus = malloc(sizeof *bus);
    if (!bus) {
        log_bus(LOG_ERR, def->name, "bus %s: cannot set up: out of memory", def->name);
        return NULL;
    }
    *bus = (struct bus){.def = def, .devices = devices, .device_count = count, .connecting_fd = -1};
    atomic_init(&bus->heartbeat_ms, 0);
    atomic_init(&bus->stopping, false);
    reactor_member_init(&bus->member, &bus_step_calls, bus, &bus->heartbeat_ms,
                        def->type == BUS_RTU ? RTU_SLOT_US : TCP_SLOT_US);
    device_poll_pacing_init(&bus->pacing, def);
    tcp_link_open(&bus->tcp, -1, def->timeout_ms);
    if (def->type == BUS_TCP)
        bus->pacing.tcp = &bus->tcp;
    pthread_mutex_init(&bus->snapshot_lock, NULL);
    pthread_mutex_init(&bus->inbox_lock, NULL);

    struct scratch_sizes sizes = scratch_sizes(devices, count);
    bus->poll_registers = calloc(sizes.registers, sizeof *bus->poll_registers);
    bus->poll_values = calloc(sizes.values, sizeof *bus->poll_values);
    bus->decided = calloc(sizes.rules * ALARM_EVENTS_PER_RULE, sizeof *bus->decided);
    /* a tcp bus connects without libmodbus (tcp_connect_begin): the reactor never waits */
    bus->ctx = def->type == BUS_RTU ? modbus_open_context(def) : NULL;
    bool context_ok = bus->ctx || def->type == BUS_TCP;
    if (!bus->poll_registers || !bus->poll_values || !bus->decided || !context_ok ||
        schedule_init(&bus->schedule, count) != 0) {
        log_bus(LOG_ERR, def->name, "bus %s: cannot set up: %s", def->name,
                context_ok ? "out of memory" : modbus_strerror(errno));
        bus_free(bus);
        return NULL;
    }
    const char *stall = getenv("SAFETYGW_TEST_STALL_BUS");
    bus->stall_for_test = stall && strcmp(stall, def->name) == 0;
    return bus;
}

const struct bus_def *bus_def(const struct bus *bus)
{
    return bus->def;
}

size_t bus_device_count(const struct bus *bus)
{
    return bus->device_count;
}

struct device *bus_device(const struct bus *bus, size_t i)
{
    return bus->devices[i];
}

void bus_snapshot_device(struct bus *bus, const struct device *device, struct device_snapshot *out)
{
    out->bus = bus->def;
    pthread_mutex_lock(&bus->snapshot_lock);
    snapshot_copy_device(device, out);
    pthread_mutex_unlock(&bus->snapshot_lock);
}

struct bus_stats bus_snapshot_stats(struct bus *bus)
{
    pthread_mutex_lock(&bus->snapshot_lock);
    struct bus_stats stats = bus->stats;
    pthread_mutex_unlock(&bus->snapshot_lock);
    return stats;
}

const struct bus_down *bus_down_stopped(const struct bus *bus)
{
    return &bus->down;
}

uint64_t bus_heartbeat_ms(struct bus *bus)
{
    return atomic_load(&bus->heartbeat_ms);
}

/* A bus is served by the reactor thread (started with the first). */
static int join_reactor(struct bus *bus)
{
    atomic_store(&bus->stopping, false);
    bus->member.stalled = bus->stall_for_test;
    if (bus->stall_for_test)
        log_bus(LOG_WARNING, bus->def->name,
                "bus %s: stalling on purpose (SAFETYGW_TEST_STALL_BUS)", bus->def->name);
    if (reactor_join(&bus->member) != 0)
        return -1;
    bus->joined = true;
    return 0;
}

int bus_run(struct bus *bus, struct bus *predecessor)
{
    if (predecessor && predecessor->down.active) /* the alarm belongs to the bus's name */
        bus_restore_down(bus, predecessor->down.raised_wall_ms);
    if (predecessor && modbus_open_same_line(bus->def, predecessor->def))
        move_link(bus, predecessor);
    uint64_t now_ms = time_monotonic_ms();
    schedule_clear(&bus->schedule);
    bus->offline_count = 0;
    link_watch_init(&bus->watch, bus->def->link_timeout_ms, bus->device_count, now_ms);
    for (size_t i = 0; i < bus->device_count; i++) {
        struct device *device = bus->devices[i];
        bus->offline_count += device->link == DEVICE_OFFLINE; /* carried over by a reload */
        if (device->next_due_ms == 0)
            device->next_due_ms = now_ms;
        device->schedule_rank = i;
        schedule_push(&bus->schedule, device);
    }
    atomic_store(&bus->heartbeat_ms, now_ms);
    return join_reactor(bus);
}

void bus_restore_down(struct bus *bus, uint64_t raised_wall_ms)
{
    bus->down = (struct bus_down){.active = true,
                                  .raised_wall_ms = raised_wall_ms,
                                  .devices_affected = (uint32_t)bus->device_count};
    bus->stats.down = true;
}

void bus_give_back(struct bus *bus, struct bus *predecessor)
{
    if (predecessor && modbus_open_same_line(bus->def, predecessor->def))
        move_link(predecessor, bus);
}

void bus_stop(struct bus *bus, bool refuse_commands)
{
    if (bus->joined) { /* the reactor lets go once the bus's step under way is done */
        atomic_store(&bus->stopping, true);
        reactor_leave(&bus->member);
        bus->joined = false;
    }
    struct pending_command pending;
    while (refuse_commands && take_command(bus, &pending))
        command_reply(pending.device->def->id, pending.command.id,
                      "the gateway stopped or reloaded before the command ran; send it again");
}

void bus_free(struct bus *bus)
{
    if (!bus)
        return;
    bus_stop(bus, true);
    if (bus->ctx) {
        close_line(bus->ctx);
        modbus_free(bus->ctx);
        bus->ctx = NULL;
    }
    if (bus->tcp.fd >= 0)
        close(bus->tcp.fd);
    schedule_free(&bus->schedule);
    free(bus->poll_registers);
    free(bus->poll_values);
    free(bus->decided);
    free(bus->down_locations);
    pthread_mutex_destroy(&bus->inbox_lock);
    pthread_mutex_destroy(&bus->snapshot_lock);
    free(bus);
}
