#include "alarm_store.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "statefile.h"

#define STORE_FILE "active-alarms.json"
/* A few thousand alarms take a few hundred kB; a larger file is not ours. */
#define STORE_FILE_MAX (16u << 20)

struct alarm_store {
    /*
     * Sorted by device id, then alarm. Each entry owns one allocation holding
     * both strings, starting at device_id.
     */
    struct alarm_store_entry *entries;
    size_t count, capacity;
    bool dirty;
};

struct alarm_store *alarm_store_new(void)
{
    return calloc(1, sizeof(struct alarm_store));
}

static void free_entry(struct alarm_store_entry *entry)
{
    free((char *)entry->device_id); /* the block that also holds alarm */
}

static void free_entries(struct alarm_store *store)
{
    for (size_t i = 0; i < store->count; i++)
        free_entry(&store->entries[i]);
    free(store->entries);
    store->entries = NULL;
    store->count = store->capacity = 0;
}

void alarm_store_free(struct alarm_store *store)
{
    if (!store)
        return;
    free_entries(store);
    free(store);
}

size_t alarm_store_count(const struct alarm_store *store)
{
    return store->count;
}

const struct alarm_store_entry *alarm_store_entry(const struct alarm_store *store, size_t index)
{
    return index < store->count ? &store->entries[index] : NULL;
}

bool alarm_store_dirty(const struct alarm_store *store)
{
    return store->dirty;
}

static int compare_key(const struct alarm_store_entry *entry, const char *device_id,
                       const char *alarm)
{
    int by_device = strcmp(entry->device_id, device_id);
    return by_device != 0 ? by_device : strcmp(entry->alarm, alarm);
}

/* The index of (device_id, alarm), or where it would go; *found says which. */
static size_t search(const struct alarm_store *store, const char *device_id, const char *alarm,
                     bool *found)
{
    size_t low = 0, high = store->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = compare_key(&store->entries[middle], device_id, alarm);
        if (order == 0) {
            *found = true;
            return middle;
        }
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    *found = false;
    return low;
}

const struct alarm_store_entry *alarm_store_find(const struct alarm_store *store,
                                                 const char *device_id, const char *alarm)
{
    bool found;
    size_t index = search(store, device_id, alarm, &found);
    return found ? &store->entries[index] : NULL;
}

/* Inserts a new entry at index; -1 when out of memory (store unchanged). */
static int insert(struct alarm_store *store, size_t index, const char *device_id, const char *alarm,
                  uint64_t raised_at_wall_ms, double value)
{
    if (store->count == store->capacity) {
        size_t capacity = store->capacity ? store->capacity * 2 : 16;
        struct alarm_store_entry *entries =
            realloc(store->entries, capacity * sizeof *store->entries);
        if (!entries)
            return -1;
        store->entries = entries;
        store->capacity = capacity;
    }
    size_t device_size = strlen(device_id) + 1, alarm_size = strlen(alarm) + 1;
    char *block = malloc(device_size + alarm_size);
    if (!block)
        return -1;
    memcpy(block, device_id, device_size);
    memcpy(block + device_size, alarm, alarm_size);
    memmove(&store->entries[index + 1], &store->entries[index],
            (store->count - index) * sizeof *store->entries);
    store->entries[index] = (struct alarm_store_entry){.device_id = block,
                                                       .alarm = block + device_size,
                                                       .raised_at_wall_ms = raised_at_wall_ms,
                                                       .value = value};
    store->count++;
    return 0;
}

static bool same_value(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

void alarm_store_raise(struct alarm_store *store, const char *device_id, const char *alarm,
                       uint64_t raised_at_wall_ms, double value)
{
    /* The file holds raised_at_ms as a JSON integer > 0; keep a bad clock from corrupting it. */
    if (raised_at_wall_ms == 0 || raised_at_wall_ms > INT64_MAX)
        raised_at_wall_ms = raised_at_wall_ms == 0 ? 1 : INT64_MAX;
    if (!isfinite(value))
        value = NAN; /* saved as null, which loads as NaN */
    bool found;
    size_t index = search(store, device_id, alarm, &found);
    if (found) {
        struct alarm_store_entry *entry = &store->entries[index];
        if (entry->raised_at_wall_ms == raised_at_wall_ms && same_value(entry->value, value))
            return;
        entry->raised_at_wall_ms = raised_at_wall_ms;
        entry->value = value;
    } else if (insert(store, index, device_id, alarm, raised_at_wall_ms, value) != 0) {
        log_critical("alarm store: out of memory: alarm %s of %s is not kept for a restart", alarm,
                     device_id);
        return;
    }
    store->dirty = true;
}

void alarm_store_clear(struct alarm_store *store, const char *device_id, const char *alarm)
{
    bool found;
    size_t index = search(store, device_id, alarm, &found);
    if (!found)
        return;
    free_entry(&store->entries[index]); /* device_id and alarm may point into it: not used after */
    memmove(&store->entries[index], &store->entries[index + 1],
            (store->count - index - 1) * sizeof *store->entries);
    store->count--;
    store->dirty = true;
}

/* One entry of the file, strictly; 0, or -1 with what is wrong. */
static int parse_entry(json_t *entry, size_t index, struct alarm_store_entry *parsed, char *why,
                       size_t why_size)
{
    json_t *raised = json_object_get(entry, "raised_at_ms");
    json_t *value = json_object_get(entry, "value");
    parsed->device_id = json_string_value(json_object_get(entry, "device"));
    parsed->alarm = json_string_value(json_object_get(entry, "alarm"));
    const char *wrong = NULL;
    if (!json_is_object(entry))
        wrong = "is not an object";
    else if (!parsed->device_id || !*parsed->device_id)
        wrong = "has no \"device\" string";
    else if (!parsed->alarm || !*parsed->alarm)
        wrong = "has no \"alarm\" string";
    else if (!json_is_integer(raised) || json_integer_value(raised) <= 0)
        wrong = "has no \"raised_at_ms\" integer > 0";
    else if (!json_is_number(value) && !json_is_null(value))
        wrong = "has no \"value\" number";
    if (wrong) {
        snprintf(why, why_size, "alarm %zu %s", index + 1, wrong);
        return -1;
    }
    parsed->raised_at_wall_ms = (uint64_t)json_integer_value(raised);
    parsed->value = json_is_null(value) ? NAN : json_number_value(value);
    return 0;
}

/* Adds one entry of the file to parsed; 0, or -1 with what is wrong. */
static int add_entry(struct alarm_store *parsed, json_t *item, size_t index, char *why,
                     size_t why_size)
{
    struct alarm_store_entry entry;
    bool found;
    if (parse_entry(item, index, &entry, why, why_size) != 0)
        return -1;
    size_t at = search(parsed, entry.device_id, entry.alarm, &found);
    if (found) {
        snprintf(why, why_size, "alarm %zu (%s of %s) appears twice", index + 1, entry.alarm,
                 entry.device_id);
        return -1;
    }
    if (insert(parsed, at, entry.device_id, entry.alarm, entry.raised_at_wall_ms, entry.value) !=
        0) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    return 0;
}

/* The set in alarms, into store; on failure store is untouched: never half a set. */
static int parse_alarms(json_t *alarms, struct alarm_store *store, char *why, size_t why_size)
{
    struct alarm_store parsed = {0};
    size_t index;
    json_t *item;
    json_array_foreach(alarms, index, item)
    {
        if (add_entry(&parsed, item, index, why, why_size) != 0) {
            free_entries(&parsed);
            return -1;
        }
    }
    free_entries(store);
    *store = parsed;
    return 0;
}

/* statefile_parse_fn for active-alarms.json: {"alarms":[{...}, ...]}. */
static int parse_file(const char *data, size_t length, void *context, char *why, size_t why_size)
{
    json_error_t error;
    json_t *root = json_loadb(data, length, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        snprintf(why, why_size, "line %d: %s", error.line, error.text);
        return -1;
    }
    json_t *alarms = json_object_get(root, "alarms");
    int result = -1;
    if (!json_is_array(alarms))
        snprintf(why, why_size, "no \"alarms\" array");
    else
        result = parse_alarms(alarms, context, why, why_size);
    json_decref(root);
    return result;
}

static int store_path(const char *state_dir, char *path)
{
    if (snprintf(path, PATH_MAX, "%s/" STORE_FILE, state_dir) < PATH_MAX)
        return 0;
    errno = ENAMETOOLONG;
    return -1;
}

int alarm_store_load(struct alarm_store *store, const char *state_dir)
{
    char path[PATH_MAX], error[2 * PATH_MAX + 600];
    if (store_path(state_dir, path) != 0) {
        log_error("alarm store: state_dir %s: path too long", state_dir);
        return -1;
    }
    int source = statefile_load(path, STORE_FILE_MAX, parse_file, store, error, sizeof error);
    if (source < 0) {
        /* Kept for the operator, and out of the way of the next save's generations. */
        char kept_as[PATH_MAX + 40] = "";
        if (access(path, F_OK) == 0 && statefile_set_aside(path) == 0)
            snprintf(kept_as, sizeof kept_as, " (the bad file is kept as %s.corrupt)", path);
        log_error("alarm store: %s%s; starting with no active alarms: those still active are "
                  "raised again, and those that ended while the daemon was down are not cleared",
                  error, kept_as);
        free_entries(store);
        store->dirty = true; /* a valid file replaces the bad ones at the next save */
        return 0;
    }
    if (source == STATEFILE_ABSENT)
        free_entries(store);
    /* Loaded from .prev: the next save writes a good current file. */
    store->dirty = source == STATEFILE_PREVIOUS;
    if (source != STATEFILE_ABSENT)
        log_info("alarm store: %zu active alarms restored from %s%s", store->count, path,
                 source == STATEFILE_PREVIOUS ? ".prev" : "");
    return 0;
}

/* The file's text (free it), or NULL when out of memory. */
static char *render(const struct alarm_store *store)
{
    json_t *alarms = json_array();
    for (size_t i = 0; alarms && i < store->count; i++) {
        const struct alarm_store_entry *entry = &store->entries[i];
        json_t *item =
            json_pack("{s:s, s:s, s:I, s:o}", "device", entry->device_id, "alarm", entry->alarm,
                      "raised_at_ms", (json_int_t)entry->raised_at_wall_ms, "value",
                      isfinite(entry->value) ? json_real(entry->value) : json_null());
        if (!item || json_array_append_new(alarms, item) != 0) {
            json_decref(alarms);
            return NULL;
        }
    }
    json_t *root = alarms ? json_pack("{s:o}", "alarms", alarms) : NULL;
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

int alarm_store_save(struct alarm_store *store, const char *state_dir)
{
    char path[PATH_MAX];
    if (!store->dirty)
        return 0;
    if (store_path(state_dir, path) != 0) {
        log_critical("alarm store: state_dir %s: path too long", state_dir);
        return -1;
    }
    char *text = render(store);
    if (!text || statefile_write(path, text, strlen(text)) != 0) {
        int error_number = text ? errno : ENOMEM;
        log_critical("alarm store: cannot write %s: %s; a restart now would raise or clear "
                     "some alarms again (will retry)",
                     path, strerror(error_number));
        free(text);
        errno = error_number;
        return -1;
    }
    free(text);
    store->dirty = false;
    return 0;
}
