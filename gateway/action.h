/*
 * action.h — performs a profile's declared write (close a gas valve, stop a
 * charging port) on a device. Runs on the device's bus thread, between polls,
 * so writes never interleave with another request on the line.
 */
#ifndef SAFETYGW_ACTION_H
#define SAFETYGW_ACTION_H

#include <modbus.h>
#include <stddef.h>

#include "config.h"
#include "device_poll.h"

/*
 * The first register or coil the action writes (param applied to an indexed
 * one), checked to fit one Modbus write. 0, or -1 with the reason in error.
 */
int action_first_address(const struct action_def *action, int param, int *first, char *error,
                         size_t error_size);

/* The reason of a write that failed with error_number (libmodbus's errno values). */
void action_failure(const struct action_def *action, int first, int error_number, char *error,
                    size_t error_size);

/*
 * Writes the action to the device at address. param selects the instance of an
 * indexed action (port 3), -1 for a plain one. Returns 0, or -1 with the reason
 * in error.
 */
int action_execute(modbus_t *ctx, struct bus_pacing *pacing, int address,
                   const struct action_def *action, int param, char *error, size_t error_size);

#endif
