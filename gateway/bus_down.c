#include "bus_down.h"

#include <jansson.h>
#include <string.h>

/* A bus needs this many answering devices before its silence means the bus, not a device. */
#define SILENT_DEVICES_MIN 2
/*
 * Polls each must have missed: one could be a burst of noise or a stall of
 * the converter; two in a row is a dead line. Fewer when the devices' own
 * offline rule would fire first.
 */
#define SILENT_POLLS 2

static uint32_t silent_polls_needed(const struct device *device)
{
    uint32_t before_offline = device->offline_after_polls > 1 ? device->offline_after_polls - 1 : 1;
    return before_offline < SILENT_POLLS ? before_offline : SILENT_POLLS;
}

const struct rule_def bus_down_rule = {
    .name = "bus_down",
    .kind = RULE_OFFLINE,
    .point_index = -1,
    .bit = -1,
    .severity = SEVERITY_MAJOR,
    .action_index = -1,
    .action_param = -1,
    .enabled = true,
};

/* A device whose offline alarm was not sent on its own: the bus stands for it. */
static bool affected(const struct device *device)
{
    return device->link != DEVICE_OFFLINE || device->offline_suppressed;
}

static uint32_t count_affected(struct device *const *devices, size_t count)
{
    uint32_t affected_count = 0;
    for (size_t i = 0; i < count; i++)
        affected_count += affected(devices[i]);
    return affected_count;
}

/* Every device that was answering (online) has missed its latest polls without a word. */
static bool all_silent(struct device *const *devices, size_t count)
{
    size_t online = 0;
    for (size_t i = 0; i < count; i++) {
        if (devices[i]->link != DEVICE_ONLINE)
            continue;
        if (!devices[i]->last_poll_silent ||
            devices[i]->failed_in_row < silent_polls_needed(devices[i]))
            return false;
        online++;
    }
    return online >= SILENT_DEVICES_MIN;
}

enum bus_down_change bus_down_judge(struct bus_down *state, struct device *const *devices,
                                    size_t count, bool answered, bool link_failed,
                                    uint64_t wall_ms)
{
    if (state->active) {
        if (!answered)
            return BUS_DOWN_NO_CHANGE;
        state->active = false;
        return BUS_DOWN_CLEARED;
    }
    if (!(link_failed && count > 0) && !all_silent(devices, count))
        return BUS_DOWN_NO_CHANGE;
    *state = (struct bus_down){.active = true,
                               .raised_wall_ms = wall_ms,
                               .devices_affected = count_affected(devices, count)};
    return BUS_DOWN_RAISED;
}

bool bus_down_holds_back(const struct bus_down *state, struct device *device, bool raised)
{
    if (raised && state->active) {
        device->offline_suppressed = true;
        return true;
    }
    if (!raised && device->offline_suppressed) {
        device->offline_suppressed = false;
        return true;
    }
    return false;
}

static const char *location_value(const struct device_def *def, const char *key)
{
    for (size_t i = 0; i < def->location_count; i++)
        if (strcmp(def->location[i].key, key) == 0)
            return def->location[i].value;
    return NULL;
}

static bool listed(json_t *locations, const char *compound, const char *building)
{
    size_t index;
    json_t *entry;
    json_array_foreach(locations, index, entry)
    {
        const char *c = json_string_value(json_object_get(entry, "compound"));
        const char *b = json_string_value(json_object_get(entry, "building"));
        if ((!c == !compound) && (!c || strcmp(c, compound) == 0) && (!b == !building) &&
            (!b || strcmp(b, building) == 0))
            return true;
    }
    return false;
}

char *bus_down_locations(struct device *const *devices, size_t count)
{
    json_t *locations = json_array();
    for (size_t i = 0; i < count; i++) {
        if (!affected(devices[i]))
            continue;
        const char *compound = location_value(devices[i]->def, "compound");
        const char *building = location_value(devices[i]->def, "building");
        if ((!compound && !building) || listed(locations, compound, building))
            continue;
        json_t *entry = json_object();
        if (compound)
            json_object_set_new(entry, "compound", json_string(compound));
        if (building)
            json_object_set_new(entry, "building", json_string(building));
        json_array_append_new(locations, entry);
    }
    char *text = json_dumps(locations, JSON_COMPACT);
    json_decref(locations);
    return text;
}
