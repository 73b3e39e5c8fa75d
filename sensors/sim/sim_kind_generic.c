/*
 * sim_kind_generic.c — devices of a kind without a behaviour: every register
 * starts at zero and keeps what `set` or a Modbus write puts there.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim_kind.h"

static void *generic_bind(const struct profile *profile)
{
    (void)profile;
    return calloc(1, 1); /* nothing to look up; sim frees every binding alike */
}

static void generic_start(struct sim_device *device)
{
    (void)device;
}

static void generic_step(struct sim_device *device)
{
    (void)device;
}

static void generic_written(struct sim_device *device, enum point_table table, uint16_t address,
                            uint16_t count)
{
    (void)device, (void)table, (void)address, (void)count;
}

static int generic_hazard(struct sim_device *device, const char *hazard, const char *argument,
                          char *error, size_t error_size)
{
    (void)argument;
    snprintf(error, error_size, "device %s of kind %s has no hazard %s", device->def->id,
             device->profile->kind, hazard);
    return -1;
}

static void generic_calm(struct sim_device *device)
{
    (void)device;
}

static size_t generic_state_size(const void *binding)
{
    (void)binding;
    return 0;
}

const struct sim_kind sim_kind_generic = {
    .name = "generic",
    .state_size = generic_state_size,
    .bind = generic_bind,
    .start = generic_start,
    .step = generic_step,
    .written = generic_written,
    .hazard = generic_hazard,
    .calm = generic_calm,
};
