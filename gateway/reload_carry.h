/*
 * reload_carry.h — what a device takes over from its old self across a
 * reload (same id), and which of its active alarms end with the old
 * configuration. Runs on the main thread while every bus is stopped; no
 * lock, clock or uplink here: reload.c posts the retirements.
 *
 * The rules: a device that is still configured keeps its link state,
 * counters and schedule; its last values only while its profile reads and
 * decodes the same registers (else it waits for its first poll); its rule
 * states, raise times, chattering and shelvings follow their rule by name,
 * if the rule is still there and enabled. An active alarm whose rule is gone
 * or disabled, or whose device is gone, is retired with a reason.
 */
#ifndef SAFETYGW_RELOAD_CARRY_H
#define SAFETYGW_RELOAD_CARRY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "device.h"

/*
 * Carries old's state over to fresh, its successor (freshly initialised;
 * old belongs to before, fresh to after). Returns true when the device's
 * definition was edited (address, poll, location, bus, profile or rules).
 */
bool reload_carry_device(const struct device *old, struct device *fresh,
                         const struct config *before, const struct config *after);

/*
 * Why old's alarm rule_index is retired by the reload (fresh: its successor,
 * NULL when the device is gone), or NULL when it is not active or carries on.
 */
const char *reload_retire_reason(const struct device *old, size_t rule_index,
                                 const struct device *fresh);

#endif
