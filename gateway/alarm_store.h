/*
 * alarm_store.h — the set of active alarms, kept in state_dir so that a
 * restart neither raises again an alarm that was already raised nor forgets
 * one: a restored alarm whose condition ended while the daemon was down is
 * cleared (and the clear published) on its device's first good poll.
 *
 * The file is rewritten whole (write, fsync, rename) by the main thread at most
 * once a second after a change, and at shutdown. Between a change and that
 * write a crash can only cause a duplicate raise or clear, which the
 * operations center drops by (device, alarm); seq numbers are saved at once
 * (alarm.c), so they never repeat.
 */
#ifndef SAFETYGW_ALARM_STORE_H
#define SAFETYGW_ALARM_STORE_H

#include <stdbool.h>

#include "runtime.h"

/* Marks the active set changed; called by bus threads on every transition. */
void alarm_store_mark_changed(void);

/* Before polling starts: sets the saved active alarms on the runtime's devices. */
void alarm_store_restore(struct runtime *runtime);

/* Writes the active set if it changed (or always, with force). */
void alarm_store_save(struct runtime *runtime, bool force);

#endif
