/*
 * sim_scenario.h — a scenario file: a YAML list of steps
 *
 *   - { at_ms: 2000, do: "hazard gas-1 gas_leak" }
 *   - { at_ms: 20000, do: "calm gas-1" }
 *
 * each a control command run at its time after the simulator started (in
 * order of at_ms; equal times keep file order). Results go to the log.
 * Owned by struct sim; loop thread only.
 */
#ifndef SAFETYGW_SIM_SCENARIO_H
#define SAFETYGW_SIM_SCENARIO_H

#include <stddef.h>

#include "sim.h"

/* Loads and checks the file, then arms its first step. 0, or -1 with "file:line:col: why". */
int sim_scenario_open(struct sim *sim, const char *path, char *error, size_t error_size);
void sim_scenario_close(struct sim *sim);

#endif
