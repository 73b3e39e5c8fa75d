#include "shelving.h"

#include <stdio.h>
#include <stdlib.h>

#include "device.h"

int shelving_add(struct device *device, const struct shelving *shelving, char *error,
                 size_t error_size)
{
    if (!device->shelvings)
        device->shelvings = calloc(SHELVINGS_MAX, sizeof *device->shelvings);
    if (!device->shelvings) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    struct shelving *slot = NULL;
    for (size_t i = 0; i < SHELVINGS_MAX && !slot; i++)
        if (device->shelvings[i].until_wall_ms &&
            device->shelvings[i].rule_index == shelving->rule_index)
            slot = &device->shelvings[i];
    for (size_t i = 0; i < SHELVINGS_MAX && !slot; i++)
        if (!device->shelvings[i].until_wall_ms)
            slot = &device->shelvings[i];
    if (!slot) {
        snprintf(error, error_size, "%s already has %d shelvings; unshelve one first",
                 device->def->id, SHELVINGS_MAX);
        return -1;
    }
    *slot = *shelving;
    return 0;
}

size_t shelving_remove(struct device *device, int rule_index)
{
    size_t removed = 0;
    for (size_t i = 0; device->shelvings && i < SHELVINGS_MAX; i++) {
        struct shelving *slot = &device->shelvings[i];
        if (slot->until_wall_ms && (rule_index < 0 || slot->rule_index == rule_index)) {
            slot->until_wall_ms = 0;
            removed++;
        }
    }
    return removed;
}

const struct shelving *shelving_find(const struct shelving *shelvings, size_t rule_index,
                                     uint64_t wall_ms)
{
    for (size_t i = 0; shelvings && i < SHELVINGS_MAX; i++)
        if (shelvings[i].until_wall_ms > wall_ms &&
            (shelvings[i].rule_index < 0 || (size_t)shelvings[i].rule_index == rule_index))
            return &shelvings[i];
    return NULL;
}
