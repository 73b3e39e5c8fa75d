/*
 * fuzz_sim_fixture.h — one simulator for the simulator's fuzz targets: a
 * single RTU line, line-a (a pty whose link is in the harness folder), with a
 * gas alarm at address 1 (gas-1), an elevator at 2 (lift-2) and a charger at 3
 * (ebike-3) from the shipped profiles; no wire delay, no control socket, no
 * scenario. The loop is never run: targets call into the simulator directly.
 */
#ifndef SAFETYGW_FUZZ_SIM_FIXTURE_H
#define SAFETYGW_FUZZ_SIM_FIXTURE_H

#include "sim.h"

/* Opens the simulator (aborts if it cannot); closed at exit. */
struct sim *fuzz_sim_open(void);

/* Reads and drops whatever the simulator wrote to the line since the last call. */
void fuzz_sim_drop_replies(void);

/* Every device healed and calm (unpinned), every bus up: what one input did is undone. */
void fuzz_sim_reset(struct sim *sim);

#endif
