/*
 * sim_command.h — the control language, shared by the control socket and
 * scenario files: one command a line, one reply a line, "ok ..." or
 * "error: why". The commands are documented in sensors/sim/README.md.
 */
#ifndef SAFETYGW_SIM_COMMAND_H
#define SAFETYGW_SIM_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "sim.h"

/* Runs one command line. Writes the reply (no newline); returns 0 for ok, -1 for error. */
int sim_command_run(struct sim *sim, const char *line, char *reply, size_t reply_size);

/* True when the line's first word is a command (for checking scenario files early). */
bool sim_command_known(const char *line);

#endif
