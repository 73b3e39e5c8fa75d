/*
 * reload.h — SIGHUP: apply a new configuration without losing alarm state or
 * queued messages.
 *
 * A new file that does not load is refused with its errors logged, and the
 * running configuration stays. One that loads replaces the running one:
 * devices are matched by id, and a device that is still there keeps its
 * values, counters, schedule and active alarms (matched by rule name), even
 * if it was edited; a bus whose wire settings are unchanged keeps its open
 * connection. An active alarm whose rule or device is gone is cleared with a
 * reason. The gateway and mqtt sections cannot change on a reload (the
 * broker session, the store and the topics hang on them): such a file is
 * refused with a request to restart.
 *
 * Runs on the main thread; the buses leave the reactor and join it again around
 * the swap (a pause of milliseconds, not a missed poll).
 */
#ifndef SAFETYGW_RELOAD_H
#define SAFETYGW_RELOAD_H

#include "config.h"
#include "runtime.h"

/*
 * Loads path and, if it is valid, swaps it in: *config and *runtime then
 * describe the new configuration and the old one is freed. Returns 0, or -1
 * with everything as it was.
 */
int reload_apply(const char *path, struct config **config, struct runtime *runtime);

#endif
