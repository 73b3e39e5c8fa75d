/*
 * config_index.h — a string-keyed hash index used while loading, so that
 * duplicate ids and name look-ups stay linear in the size of the configuration
 * (ten thousand devices load in well under a second). It stores key pointers,
 * not copies: the keys must outlive it, and it lives only as long as one load.
 */
#ifndef SAFETYGW_CONFIG_INDEX_H
#define SAFETYGW_CONFIG_INDEX_H

#include <stddef.h>

struct config_index_slot {
    const char *key;
    size_t value;
};

struct config_index {
    struct config_index_slot *slots;
    size_t capacity; /* a power of two, at least twice count */
    size_t count;
};

void config_index_init(struct config_index *index);
void config_index_free(struct config_index *index);

/* The value stored under key, or -1. */
long config_index_find(const struct config_index *index, const char *key);

/*
 * Stores key -> value unless key is present. Returns -1 when added, else the
 * value already stored (the first holder of a duplicate name).
 */
long config_index_add(struct config_index *index, const char *key, size_t value);

#endif
