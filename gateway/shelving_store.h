/*
 * shelving_store.h — the shelvings in force, kept in state_dir/shelved.json
 * so that a restart does not end a crew's maintenance shelving. Owned by the
 * uplink thread (which hears of every shelve and unshelve from the buses);
 * read once at start to put the shelvings back on the devices. Expired
 * entries are dropped when the file is written.
 */
#ifndef SAFETYGW_SHELVING_STORE_H
#define SAFETYGW_SHELVING_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shelving.h"

struct shelving_entry {
    char *device_id;
    char *alarm; /* NULL: every alarm of the device */
    struct shelving shelving;
};

struct shelving_store {
    struct shelving_entry *entries;
    size_t count;
    bool dirty;
};

/* Loads state_dir/shelved.json (strict, falling back to .prev); 0, or -1 logged (store empty). */
int shelving_store_load(struct shelving_store *store, const char *state_dir);

/* Sets (shelving non-NULL) or ends (NULL) the shelving of the device's alarm (NULL: all). */
void shelving_store_set(struct shelving_store *store, const char *device_id, const char *alarm,
                        const struct shelving *shelving);

/* Writes the file if anything changed (expired entries left out); 0 or -1 (logged). */
int shelving_store_save(struct shelving_store *store, const char *state_dir, uint64_t wall_ms);

void shelving_store_free(struct shelving_store *store);

#endif
