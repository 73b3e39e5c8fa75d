/*
 * shelving.h — alarms shelved by the crew (`safetygw shelve`) or by the
 * operations center (an MQTT command): maintenance on a device, a known
 * fault. Unlike a chattering alarm (alarm.h), a shelved alarm's events still
 * go out, marked "shelved":{"until","reason","by"}, so the operations center
 * can file them without dispatching anyone; local interlocks act regardless.
 * A shelving expires by itself at its `until` (wall clock: it survives a
 * restart, state_dir/shelved.json).
 *
 * A device has at most SHELVINGS_MAX at once (one per alarm, or one for all
 * of them), allocated at its first shelving. Owned by the device's bus
 * thread; readers copy them under the bus's snapshot lock.
 */
#ifndef SAFETYGW_SHELVING_H
#define SAFETYGW_SHELVING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHELVINGS_MAX 4
#define SHELVING_REASON_MAX 80
#define SHELVING_LONGEST_MS (30ull * 86400000u) /* a month: longer is not maintenance */

struct shelving {
    int rule_index;         /* -1: every alarm of the device */
    uint64_t until_wall_ms; /* 0: slot free */
    char reason[SHELVING_REASON_MAX + 1];
    char by[8]; /* "cli" or "mqtt" */
};

struct device;

/*
 * Shelves the device's rule (-1: all of them) until until_wall_ms, replacing
 * a shelving of the same rule. Returns 0, or -1 with the reason in error.
 */
int shelving_add(struct device *device, const struct shelving *shelving, char *error,
                 size_t error_size);

/* Ends the shelving of that rule (-1: every shelving of the device); returns how many ended. */
size_t shelving_remove(struct device *device, int rule_index);

/* The shelving in force for the rule at wall_ms, or NULL. */
const struct shelving *shelving_find(const struct shelving *shelvings, size_t rule_index,
                                     uint64_t wall_ms);

#endif
