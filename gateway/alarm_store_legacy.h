/*
 * alarm_store_legacy.h — TEMPORARY, until the uplink thread owns the alarm
 * store: the daemon's current calls (bus threads mark a change; the main
 * thread restores the set before polling and saves it at most once a second
 * and at shutdown) on top of alarm_store.h. Delete with its callers.
 */
#ifndef SAFETYGW_ALARM_STORE_LEGACY_H
#define SAFETYGW_ALARM_STORE_LEGACY_H

#include <stdbool.h>

#include "runtime.h"

/* Marks the active set changed; called by bus threads on every transition. */
void alarm_store_legacy_mark_changed(void);

/* Before polling starts: sets the saved active alarms on the runtime's devices. */
void alarm_store_legacy_restore(struct runtime *runtime);

/* Writes the active set if it changed (force: compares even without a mark). */
void alarm_store_legacy_save(struct runtime *runtime, bool force);

#endif
