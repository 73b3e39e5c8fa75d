#include "shelving_store.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "statefile.h"

#define STORE_FILE "shelved.json"
#define STORE_FILE_MAX (4u << 20) /* far more than SHELVINGS_MAX per device of a site */

static bool same_alarm(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static struct shelving_entry *find(struct shelving_store *store, const char *device_id,
                                   const char *alarm)
{
    for (size_t i = 0; i < store->count; i++)
        if (strcmp(store->entries[i].device_id, device_id) == 0 &&
            same_alarm(store->entries[i].alarm, alarm))
            return &store->entries[i];
    return NULL;
}

static void drop(struct shelving_store *store, struct shelving_entry *entry)
{
    free(entry->device_id);
    free(entry->alarm);
    *entry = store->entries[--store->count];
}

static int append(struct shelving_store *store, const char *device_id, const char *alarm,
                  const struct shelving *shelving)
{
    struct shelving_entry *grown =
        realloc(store->entries, (store->count + 1) * sizeof *store->entries);
    if (!grown)
        return -1;
    store->entries = grown;
    struct shelving_entry *entry = &store->entries[store->count];
    *entry = (struct shelving_entry){.device_id = strdup(device_id),
                                     .alarm = alarm ? strdup(alarm) : NULL,
                                     .shelving = *shelving};
    if (!entry->device_id || (alarm && !entry->alarm)) {
        free(entry->device_id);
        free(entry->alarm);
        return -1;
    }
    store->count++;
    return 0;
}

void shelving_store_set(struct shelving_store *store, const char *device_id, const char *alarm,
                        const struct shelving *shelving)
{
    struct shelving_entry *entry = find(store, device_id, alarm);
    store->dirty = true;
    if (entry && shelving)
        entry->shelving = *shelving;
    else if (entry)
        drop(store, entry);
    else if (shelving && append(store, device_id, alarm, shelving) != 0)
        log_device(LOG_CRIT, device_id,
                   "shelving store: out of memory: the shelving of %s is not kept for a restart",
                   device_id);
}

static int parse_entry(struct shelving_store *store, json_t *entry, char *why, size_t why_size)
{
    const char *device_id = json_string_value(json_object_get(entry, "device"));
    json_t *alarm = json_object_get(entry, "alarm");
    json_t *until = json_object_get(entry, "until_ms");
    const char *reason = json_string_value(json_object_get(entry, "reason"));
    const char *by = json_string_value(json_object_get(entry, "by"));
    if (!device_id || (alarm && !json_is_string(alarm) && !json_is_null(alarm)) ||
        !json_is_integer(until) || json_integer_value(until) <= 0 || !reason ||
        strlen(reason) > SHELVING_REASON_MAX || !by || strlen(by) >= sizeof ((struct shelving *)0)->by) {
        snprintf(why, why_size, "an entry lacks device, until_ms, reason or by, or has them wrong");
        return -1;
    }
    struct shelving shelving = {.rule_index = -1,
                                .until_wall_ms = (uint64_t)json_integer_value(until)};
    snprintf(shelving.reason, sizeof shelving.reason, "%s", reason);
    snprintf(shelving.by, sizeof shelving.by, "%s", by);
    if (append(store, device_id, json_string_value(alarm), &shelving) != 0) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    return 0;
}

static int parse_file(const char *data, size_t length, void *context, char *why, size_t why_size)
{
    struct shelving_store *store = context;
    json_error_t error;
    json_t *root = json_loadb(data, length, JSON_REJECT_DUPLICATES, &error);
    json_t *list = json_object_get(root, "shelved");
    int result = 0;
    if (!json_is_array(list)) {
        snprintf(why, why_size, "not {\"shelved\":[...]}%s%s", root ? "" : ": ",
                 root ? "" : error.text);
        result = -1;
    }
    size_t index;
    json_t *entry;
    json_array_foreach(list, index, entry) if (result == 0) result =
        parse_entry(store, entry, why, why_size);
    json_decref(root);
    if (result != 0) { /* leave the store as it was found */
        while (store->count > 0)
            drop(store, &store->entries[store->count - 1]);
    }
    return result;
}

int shelving_store_load(struct shelving_store *store, const char *state_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", state_dir, STORE_FILE);
    char error[1024];
    if (statefile_load(path, STORE_FILE_MAX, parse_file, store, error, sizeof error) < 0) {
        log_error("shelving store: %s; starting with no shelvings: shelve again what is still "
                  "under maintenance",
                  error);
        return -1;
    }
    if (store->count > 0)
        log_info("shelving store: %zu shelvings read from %s", store->count, path);
    return 0;
}

static json_t *entry_json(const struct shelving_entry *entry)
{
    return json_pack("{s:s, s:o, s:I, s:s, s:s}", "device", entry->device_id, "alarm",
                     entry->alarm ? json_string(entry->alarm) : json_null(), "until_ms",
                     (json_int_t)entry->shelving.until_wall_ms, "reason", entry->shelving.reason,
                     "by", entry->shelving.by);
}

int shelving_store_save(struct shelving_store *store, const char *state_dir, uint64_t wall_ms)
{
    if (!store->dirty)
        return 0;
    for (size_t i = 0; i < store->count;)
        if (store->entries[i].shelving.until_wall_ms <= wall_ms)
            drop(store, &store->entries[i]);
        else
            i++;
    json_t *list = json_array();
    for (size_t i = 0; i < store->count; i++)
        json_array_append_new(list, entry_json(&store->entries[i]));
    json_t *root = json_pack("{s:o}", "shelved", list);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", state_dir, STORE_FILE);
    int result = text ? statefile_write(path, text, strlen(text)) : -1;
    if (result != 0)
        log_critical("shelving store: cannot write %s: %s; a restart now would forget shelvings",
                     path, text ? strerror(errno) : "out of memory");
    else
        store->dirty = false;
    free(text);
    return result;
}

void shelving_store_free(struct shelving_store *store)
{
    while (store->count > 0)
        drop(store, &store->entries[store->count - 1]);
    free(store->entries);
    *store = (struct shelving_store){0};
}
