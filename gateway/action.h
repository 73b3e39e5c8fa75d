/*
 * action.h — a profile's declared write (close a gas valve, stop a charging
 * port) checked and described: which register or coil it starts at, and why
 * it failed. The write itself is one transaction of the device's bus, between
 * polls (bus_steps.c), so writes never interleave with another request on the
 * line.
 */
#ifndef SAFETYGW_ACTION_H
#define SAFETYGW_ACTION_H

#include <modbus.h>
#include <stddef.h>

#include "config.h"

/*
 * The first register or coil the action writes (param applied to an indexed
 * one), checked to fit one Modbus write. 0, or -1 with the reason in error.
 */
int action_first_address(const struct action_def *action, int param, int *first, char *error,
                         size_t error_size);

/* The reason of a write that failed with error_number (libmodbus's errno values). */
void action_failure(const struct action_def *action, int first, int error_number, char *error,
                    size_t error_size);

#endif
