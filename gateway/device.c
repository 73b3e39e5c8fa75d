/*
 * device.c — one device's live state (device.h): taking in a poll's
 * outcome (values, counters, online/offline), its failures in words, and
 * when it is polled next (cadence, back-off, the quiet after a timeout).
 * Pure: the reactor thread calls it for the device's bus, under the bus's
 * snapshot lock.
 */
#include "device.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "poll_outcome.h"

/* Without an offline rule a device is still taken as offline after this many failures. */
#define DEFAULT_OFFLINE_AFTER_POLLS 3

static uint32_t offline_after_polls(const struct device_def *def)
{
    for (size_t i = 0; i < def->rule_count; i++)
        if (def->rules[i].kind == RULE_OFFLINE)
            return def->rules[i].offline_after_polls;
    return DEFAULT_OFFLINE_AFTER_POLLS;
}

int device_init(struct device *device, const struct device_def *def, const struct read_plan *plan)
{
    *device = (struct device){.def = def, .plan = plan, .link = DEVICE_UNKNOWN};
    device->values =
        calloc(def->profile->point_count ? def->profile->point_count : 1, sizeof *device->values);
    device->rule_states =
        calloc(def->rule_count ? def->rule_count : 1, sizeof *device->rule_states);
    device->raised_wall_ms =
        calloc(def->rule_count ? def->rule_count : 1, sizeof *device->raised_wall_ms);
    bool telemetry = def->profile->telemetry_period_ms || def->profile->telemetry_on_change;
    if (telemetry)
        device->telemetry_values = calloc(def->profile->point_count ? def->profile->point_count : 1,
                                          sizeof *device->telemetry_values);
    if (!device->values || !device->rule_states || !device->raised_wall_ms ||
        (telemetry && !device->telemetry_values)) {
        device_free(device);
        return -1;
    }
    for (size_t i = 0; i < def->rule_count; i++)
        rules_state_init(&device->rule_states[i]);
    device->offline_after_polls = offline_after_polls(def);
    return 0;
}

void device_free(struct device *device)
{
    free(device->values);
    free(device->rule_states);
    free(device->raised_wall_ms);
    free(device->shelves);
    free(device->shelvings);
    free(device->telemetry_values);
    device->values = NULL;
    device->rule_states = NULL;
    device->raised_wall_ms = NULL;
    device->shelves = NULL;
    device->shelvings = NULL;
    device->telemetry_values = NULL;
}

double device_rule_input(const struct device *device, const struct rule_def *rule)
{
    double value = device->values[rule->point_index];
    if (rule->bit < 0)
        return value;
    return ((unsigned long)llround(value) >> rule->bit) & 1u;
}

static void count_failure(struct device_stats *stats, const struct poll_outcome *outcome)
{
    struct failure_run *run = &stats->failing;
    stats->polls_failed++;
    switch (outcome->error_class) {
    case MODBUS_ERROR_TIMEOUT:
        stats->timeouts++;
        run->timeouts++;
        break;
    case MODBUS_ERROR_CRC:
        stats->crc_errors++;
        run->crc_errors++;
        break;
    case MODBUS_ERROR_EXCEPTION:
        stats->exceptions++;
        stats->last_exception_code = (uint32_t)outcome->exception_code;
        run->exceptions++;
        run->last_exception_code = (uint32_t)outcome->exception_code;
        break;
    case MODBUS_ERROR_LINK_LOST:
        stats->other_errors++;
        run->link_errors++;
        break;
    case MODBUS_ERROR_OTHER:
        stats->other_errors++;
        run->other_errors++;
        break;
    }
}

void device_note_late_replies(struct device *device, uint32_t count)
{
    device->stats.late_replies += count;
    device->stats.failing.late_replies += count;
}

static const char *exception_meaning(uint32_t code)
{
    switch (code) {
    case 1:
        return "illegal function: the profile reads a table this model does not have";
    case 2:
        return "illegal data address: the profile reads registers this model does not have";
    case 3:
        return "illegal data value: a read too long for this model";
    case 4:
        return "server device failure";
    case 5:
        return "acknowledge";
    case 6:
        return "server device busy";
    case 8:
        return "memory parity error";
    case 10:
        return "gateway path unavailable: the converter has no route to it";
    case 11:
        return "gateway target failed to respond: the converter answers, the device behind it "
               "does not";
    default:
        return "unknown code";
    }
}

/* Appends "; " and the text to out[*used..). */
static void append(char *out, size_t size, size_t *used, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *out, size_t size, size_t *used, const char *format, ...)
{
    if (*used + 1 >= size)
        return;
    if (*used > 0)
        *used += (size_t)snprintf(out + *used, size - *used, "; ");
    if (*used + 1 >= size)
        return;
    va_list arguments;
    va_start(arguments, format);
    int written = vsnprintf(out + *used, size - *used, format, arguments);
    va_end(arguments);
    if (written > 0)
        *used = *used + (size_t)written < size ? *used + (size_t)written : size - 1;
}

char *device_failure_reason(const struct failure_run *run, char *out, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return out;
    out[0] = '\0';
    if (run->late_replies)
        append(out, size, &used,
               "late replies (%u answer%s came after the bus's timeout_ms and %s dropped: "
               "raise timeout_ms)",
               run->late_replies, run->late_replies == 1 ? "" : "s",
               run->late_replies == 1 ? "was" : "were");
    if (run->exceptions)
        append(out, size, &used, "exception %u, %s (%u)", run->last_exception_code,
               exception_meaning(run->last_exception_code), run->exceptions);
    if (run->crc_errors)
        append(out, size, &used, "CRC errors (%u: baud or parity mismatch, noise or wiring)",
               run->crc_errors);
    if (run->other_errors)
        append(out, size, &used, "malformed or misplaced replies (%u)", run->other_errors);
    if (run->timeouts)
        append(out, size, &used, "no answer (%u timeouts)", run->timeouts);
    if (run->link_errors)
        append(out, size, &used, "the bus's link was lost (%u)", run->link_errors);
    if (used == 0)
        snprintf(out, size, "no poll failed since the last start or reload");
    return out;
}

bool device_record_poll(struct device *device, const double *values,
                        const struct poll_outcome *outcome, uint64_t wall_ms)
{
    enum device_link before = device->link;
    device->last_poll_timed_out =
        outcome->result != DEVICE_POLL_OK && outcome->error_class == MODBUS_ERROR_TIMEOUT;
    if (outcome->result == DEVICE_POLL_OK) {
        memcpy(device->values, values, device->def->profile->point_count * sizeof *values);
        device->values_valid = true;
        device->stats.polls_ok++;
        device->stats.last_latency_us = outcome->latency_us;
        device->stats.latency_total_us += outcome->latency_us;
        device->stats.last_seen_wall_ms = wall_ms;
        device->failed_in_row = 0;
        device->last_poll_silent = false;
        device->stats.failing = (struct failure_run){0};
        device->backoff_ms = 0;
        device->link = DEVICE_ONLINE;
    } else {
        count_failure(&device->stats, outcome);
        device->failed_in_row++;
        device->last_poll_silent = !device_poll_answered(outcome);
        if (device->failed_in_row >= device->offline_after_polls)
            device->link = DEVICE_OFFLINE;
    }
    return device->link != before;
}

void device_log_link(const struct device *device)
{
    if (device->link == DEVICE_ONLINE)
        log_device(LOG_INFO, device->def->id, "device %s is online (address %u)", device->def->id,
                   device->def->address);
    else if (device->link == DEVICE_OFFLINE) {
        char reason[400];
        log_device(LOG_INFO, device->def->id,
                   "device %s is offline (address %u): %u polls failed in a row: %s",
                   device->def->id, device->def->address, device->failed_in_row,
                   device_failure_reason(&device->stats.failing, reason, sizeof reason));
    }
}

/*
 * Modbus exceptions 10 and 11 come from a gateway (a TCP converter) speaking
 * for a device behind it that did not answer: that is silence too.
 */
bool device_poll_answered(const struct poll_outcome *outcome)
{
    if (outcome->result == DEVICE_POLL_OK)
        return true;
    return outcome->error_class == MODBUS_ERROR_EXCEPTION && outcome->exception_code != 10 &&
           outcome->exception_code != 11;
}

static void schedule_interval(struct device *device, uint64_t due_ms, uint64_t now_ms,
                              struct backoff_limits limits)
{
    if (device->link != DEVICE_OFFLINE || limits.keep_cadence) {
        /* Keep the cadence; a bus that fell behind polls round-robin from now. */
        uint32_t interval_ms = device->def->poll_ms;
        uint32_t fast_ms = device->def->profile->fast_poll_ms;
        if (device->poll_fast && fast_ms != 0 && fast_ms < interval_ms)
            interval_ms = fast_ms;
        uint64_t next = due_ms + interval_ms;
        device->next_due_ms = next > now_ms ? next : now_ms;
        return;
    }
    uint32_t doubled = device->backoff_ms ? device->backoff_ms * 2 : device->def->poll_ms * 2;
    if (doubled < limits.min_ms)
        doubled = limits.min_ms;
    device->backoff_ms = doubled < limits.max_ms ? doubled : limits.max_ms;
    device->next_due_ms = now_ms + device->backoff_ms;
}

void device_schedule_next(struct device *device, uint64_t due_ms, uint64_t now_ms,
                          struct backoff_limits limits)
{
    schedule_interval(device, due_ms, now_ms, limits);
    uint64_t quiet_until_ms = now_ms + limits.quiet_after_timeout_ms;
    if (device->last_poll_timed_out && device->next_due_ms < quiet_until_ms)
        device->next_due_ms = quiet_until_ms;
}
