/*
 * alarm_store.h — the set of active alarms, kept in state_dir so that a
 * restart neither raises again an alarm that was already raised nor forgets
 * one: a restored alarm whose condition ended while the daemon was down is
 * cleared (and the clear published) on its device's first good poll.
 *
 * A data module owned by one thread (the uplink), which sees every raised and
 * cleared event: no lock, and no knowledge of buses or devices. An entry is
 * (device id, alarm name) -> when it was raised (wall ms) and the value.
 *
 * The file (active-alarms.json) is rewritten whole, durably, keeping the
 * previous generation as active-alarms.json.prev (statefile.h). Between a
 * change and its save a crash can only cause a duplicate raise or clear,
 * which the operations center drops by (device, alarm).
 */
#ifndef SAFETYGW_ALARM_STORE_H
#define SAFETYGW_ALARM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alarm_store;

struct alarm_store_entry {
    const char *device_id;
    const char *alarm;
    uint64_t raised_at_wall_ms;
    double value; /* NaN when it was not finite */
};

/* An empty set, not dirty; NULL when out of memory. */
struct alarm_store *alarm_store_new(void);
void alarm_store_free(struct alarm_store *store);

/*
 * Loads state_dir/active-alarms.json strictly (each entry must have string
 * device, string alarm, integer raised_at_ms > 0, number or null value;
 * anything else is corruption), falling back to the .prev generation with a
 * log line; an absent file is an empty set; when both are corrupt: logs an
 * error naming the file and what is wrong, and returns an empty set (return
 * 0) — never half a set. -1 only when state_dir's path is too long.
 */
int alarm_store_load(struct alarm_store *store, const char *state_dir);

/* Adds the alarm, or updates it when already active; marks the set dirty if anything changed. */
void alarm_store_raise(struct alarm_store *store, const char *device_id, const char *alarm,
                       uint64_t raised_at_wall_ms, double value);
/* Removes the alarm if active (the set is then dirty). */
void alarm_store_clear(struct alarm_store *store, const char *device_id, const char *alarm);

size_t alarm_store_count(const struct alarm_store *store);
/* Entries in (device id, alarm) order: for restoring rule states before polling starts. */
const struct alarm_store_entry *alarm_store_entry(const struct alarm_store *store, size_t index);
/* The active alarm, or NULL. Valid until the next raise or clear. */
const struct alarm_store_entry *alarm_store_find(const struct alarm_store *store,
                                                 const char *device_id, const char *alarm);

bool alarm_store_dirty(const struct alarm_store *store);
/*
 * Writes the set if it changed since the last save (durable, keeps .prev);
 * 0, or -1 with errno (logged critical, failing flag set, stays dirty).
 */
int alarm_store_save(struct alarm_store *store, const char *state_dir);

#endif
