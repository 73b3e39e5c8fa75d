#include "snapshot.h"

#include <string.h>

static const char *const state_names[] = {
    [SNAPSHOT_UNKNOWN] = "unknown", [SNAPSHOT_OK] = "ok",           [SNAPSHOT_FAULT] = "fault",
    [SNAPSHOT_ALARM] = "alarm",     [SNAPSHOT_OFFLINE] = "offline",
};

void snapshot_copy_device(const struct device *device, struct device_snapshot *out)
{
    const struct profile *profile = device->def->profile;
    out->def = device->def;
    out->link = device->link;
    out->offline_suppressed = device->offline_suppressed;
    if (device->shelvings)
        memcpy(out->shelvings, device->shelvings, sizeof out->shelvings);
    else
        memset(out->shelvings, 0, sizeof out->shelvings);
    out->failed_in_row = device->failed_in_row;
    out->active_alarm_count = device->active_alarm_count;
    out->stats = device->stats;
    out->values_valid = device->values_valid;
    if (out->values)
        memcpy(out->values, device->values, profile->point_count * sizeof *out->values);
    if (out->rule_states) {
        memcpy(out->rule_states, device->rule_states,
               device->def->rule_count * sizeof *out->rule_states);
        memcpy(out->raised_wall_ms, device->raised_wall_ms,
               device->def->rule_count * sizeof *out->raised_wall_ms);
    }
}

enum snapshot_state snapshot_state(const struct device_snapshot *snapshot, uint64_t failed_before)
{
    if (snapshot->link == DEVICE_OFFLINE)
        return SNAPSHOT_OFFLINE;
    if (snapshot->active_alarm_count > 0)
        return SNAPSHOT_ALARM;
    if (snapshot->failed_in_row > 0 || snapshot->stats.polls_failed > failed_before)
        return SNAPSHOT_FAULT;
    if (snapshot->link == DEVICE_UNKNOWN)
        return SNAPSHOT_UNKNOWN;
    return SNAPSHOT_OK;
}

const char *snapshot_state_name(enum snapshot_state state)
{
    return state_names[state];
}

int snapshot_state_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
        if (strcmp(state_names[i], name) == 0)
            return (int)i;
    return -1;
}
