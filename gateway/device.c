#include "device.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device_poll.h"
#include "log.h"

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
    device->shelves = calloc(def->rule_count ? def->rule_count : 1, sizeof *device->shelves);
    bool telemetry = def->profile->telemetry_period_ms || def->profile->telemetry_on_change;
    if (telemetry)
        device->telemetry_values = calloc(def->profile->point_count ? def->profile->point_count : 1,
                                          sizeof *device->telemetry_values);
    if (!device->values || !device->rule_states || !device->raised_wall_ms || !device->shelves ||
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
    stats->polls_failed++;
    switch (outcome->error_class) {
    case MODBUS_ERROR_TIMEOUT:
        stats->timeouts++;
        break;
    case MODBUS_ERROR_CRC:
        stats->crc_errors++;
        break;
    case MODBUS_ERROR_EXCEPTION:
        stats->exceptions++;
        stats->last_exception_code = (uint32_t)outcome->exception_code;
        break;
    case MODBUS_ERROR_LINK_LOST:
    case MODBUS_ERROR_OTHER:
        stats->other_errors++;
        break;
    }
}

bool device_record_poll(struct device *device, const double *values,
                        const struct poll_outcome *outcome, uint64_t wall_ms)
{
    enum device_link before = device->link;
    if (outcome->result == DEVICE_POLL_OK) {
        memcpy(device->values, values, device->def->profile->point_count * sizeof *values);
        device->values_valid = true;
        device->stats.polls_ok++;
        device->stats.last_latency_us = outcome->latency_us;
        device->stats.latency_total_us += outcome->latency_us;
        device->stats.last_seen_wall_ms = wall_ms;
        device->failed_in_row = 0;
        device->last_poll_silent = false;
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
        log_info("device %s is online (address %u)", device->def->id, device->def->address);
    else if (device->link == DEVICE_OFFLINE)
        log_info("device %s is offline: %u polls failed in a row (address %u)", device->def->id,
                 device->failed_in_row, device->def->address);
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

void device_schedule_next(struct device *device, uint64_t due_ms, uint64_t now_ms,
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
