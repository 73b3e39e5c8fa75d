/*
 * sim_control.h — the control socket: a Unix stream socket speaking the
 * line protocol of sim_command.h to any number of clients (socat, scripts,
 * `safetygw-sim --control PATH send`). Owned by struct sim; loop thread only.
 */
#ifndef SAFETYGW_SIM_CONTROL_H
#define SAFETYGW_SIM_CONTROL_H

#include <stddef.h>

#include "sim.h"

/* Listens at path (a stale socket there is replaced). 0, or -1 with the reason. */
int sim_control_open(struct sim *sim, const char *path, char *error, size_t error_size);
/* Closes every connection and removes the socket file. Safe when never opened. */
void sim_control_close(struct sim *sim);

#endif
