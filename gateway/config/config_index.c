/*
 * config_index.c — the loader's string-keyed hash index: open addressing with
 * linear probing over FNV-1a hashes. It owns its slot array, never its keys.
 */
#include "config_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"

#define CONFIG_INDEX_FIRST_CAPACITY 16

void config_index_init(struct config_index *index)
{
    memset(index, 0, sizeof *index);
}

void config_index_free(struct config_index *index)
{
    free(index->slots);
    memset(index, 0, sizeof *index);
}

static uint64_t hash_of(const char *key)
{
    uint64_t hash = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        hash = (hash ^ *p) * 1099511628211ull;
    }
    return hash;
}

/* The slot holding key, or the empty slot where it belongs. */
static struct config_index_slot *slot_of(const struct config_index *index, const char *key)
{
    size_t mask = index->capacity - 1;
    size_t i = (size_t)hash_of(key) & mask;
    while (index->slots[i].key != NULL && strcmp(index->slots[i].key, key) != 0) {
        i = (i + 1) & mask;
    }
    return &index->slots[i];
}

static void double_capacity(struct config_index *index)
{
    struct config_index old = *index;
    index->capacity = old.capacity ? old.capacity * 2 : CONFIG_INDEX_FIRST_CAPACITY;
    index->slots = config_yaml_calloc(index->capacity, sizeof *index->slots);
    for (size_t i = 0; i < old.capacity; i++) {
        if (old.slots[i].key != NULL) {
            *slot_of(index, old.slots[i].key) = old.slots[i];
        }
    }
    free(old.slots);
}

long config_index_find(const struct config_index *index, const char *key)
{
    if (index->capacity == 0) {
        return -1;
    }
    const struct config_index_slot *slot = slot_of(index, key);
    return slot->key ? (long)slot->value : -1;
}

long config_index_add(struct config_index *index, const char *key, size_t value)
{
    if ((index->count + 1) * 2 > index->capacity) {
        double_capacity(index);
    }
    struct config_index_slot *slot = slot_of(index, key);
    if (slot->key != NULL) {
        return (long)slot->value;
    }
    slot->key = key;
    slot->value = value;
    index->count++;
    return -1;
}
