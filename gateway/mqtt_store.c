#include "mqtt_store.h"

#include <MQTTAsync.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "statefile.h"

#define SUFFIX ".msg"
#define MAX_PARTS 32 /* Paho writes a command as under a dozen pieces */

struct store {
    char dir[PATH_MAX];
};

/* The file of a key; -1 if the path would not fit. */
static int key_path(const struct store *store, const char *key, const char *suffix, char *path)
{
    int length = snprintf(path, PATH_MAX, "%s/%s%s", store->dir, key, suffix);
    return length < PATH_MAX ? 0 : -1;
}

/* One folder per client and broker, as Paho does: a new broker does not get old messages. */
static int store_open(void **handle, const char *client_id, const char *server_uri, void *context)
{
    struct store *store = calloc(1, sizeof *store);
    if (!store)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    snprintf(store->dir, sizeof store->dir, "%s/%s-%s", (const char *)context, client_id,
             server_uri);
    for (char *c = store->dir + strlen(context) + 1; *c; c++)
        if (*c == '/' || *c == ':')
            *c = '-';
    if (mkdir(store->dir, 0750) != 0 && errno != EEXIST) {
        log_error("mqtt: cannot create the message store %s: %s", store->dir, strerror(errno));
        free(store);
        return MQTTCLIENT_PERSISTENCE_ERROR;
    }
    *handle = store;
    return 0;
}

static int store_close(void *handle)
{
    free(handle);
    return 0;
}

/*
 * Not fsync-ed: like Paho's own store, a queued message survives the daemon's
 * death, not a power cut; a sync per message would cost more than it saves.
 */
static int store_put(void *handle, char *key, int bufcount, char *buffers[], int buflens[])
{
    char path[PATH_MAX];
    struct iovec parts[MAX_PARTS];
    if (bufcount > MAX_PARTS || key_path(handle, key, SUFFIX, path) != 0)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    for (int i = 0; i < bufcount; i++)
        parts[i] = (struct iovec){.iov_base = buffers[i], .iov_len = (size_t)buflens[i]};
    if (statefile_write_parts(path, parts, bufcount, 0) != 0) {
        log_error("mqtt: cannot store a queued message in %s: %s; it stays in memory only",
                  ((struct store *)handle)->dir, strerror(errno));
        return MQTTCLIENT_PERSISTENCE_ERROR;
    }
    return 0;
}

static int store_get(void *handle, char *key, char **buffer, int *buflen)
{
    char path[PATH_MAX];
    if (key_path(handle, key, SUFFIX, path) != 0)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    FILE *file = fopen(path, "rb");
    if (!file)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    struct stat status;
    char *data = NULL;
    int result = MQTTCLIENT_PERSISTENCE_ERROR;
    if (fstat(fileno(file), &status) == 0 && status.st_size > 0 && status.st_size < INT_MAX &&
        (data = MQTTAsync_malloc((size_t)status.st_size)) != NULL &&
        fread(data, 1, (size_t)status.st_size, file) == (size_t)status.st_size) {
        *buffer = data; /* Paho frees it, with its own allocator's free */
        *buflen = (int)status.st_size;
        result = 0;
    } else if (data) {
        MQTTAsync_free(data);
    }
    fclose(file);
    return result;
}

static int store_remove(void *handle, char *key)
{
    char path[PATH_MAX];
    if (key_path(handle, key, SUFFIX, path) != 0 || unlink(path) != 0)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    return 0;
}

/* A copy of name without its suffix, from Paho's allocator (Paho frees it). */
static char *paho_key(const char *name, size_t length)
{
    char *key = MQTTAsync_malloc(length + 1);
    if (key) {
        memcpy(key, name, length);
        key[length] = '\0';
    }
    return key;
}

static bool is_message_file(const char *name)
{
    size_t length = strlen(name);
    return length > strlen(SUFFIX) && strcmp(name + length - strlen(SUFFIX), SUFFIX) == 0;
}

/*
 * The keys of the stored messages (Paho sorts them by sequence number). Paho
 * frees the array and the keys with its own allocator, so they come from it.
 */
static int store_keys(void *handle, char ***keys, int *count)
{
    const struct store *store = handle;
    *keys = NULL;
    *count = 0;
    DIR *dir = opendir(store->dir);
    if (!dir)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    int files = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL)
        files += is_message_file(entry->d_name);
    if (files > 0 && (*keys = MQTTAsync_malloc((size_t)files * sizeof **keys)) != NULL) {
        rewinddir(dir);
        while ((entry = readdir(dir)) != NULL && *count < files)
            if (is_message_file(entry->d_name) &&
                ((*keys)[*count] =
                     paho_key(entry->d_name, strlen(entry->d_name) - strlen(SUFFIX))) != NULL)
                (*count)++;
    }
    closedir(dir);
    return 0;
}

static int store_clear(void *handle)
{
    char **keys;
    int count;
    if (store_keys(handle, &keys, &count) != 0)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    for (int i = 0; i < count; i++) {
        store_remove(handle, keys[i]);
        MQTTAsync_free(keys[i]);
    }
    MQTTAsync_free(keys);
    return 0;
}

static int store_contains(void *handle, char *key)
{
    char path[PATH_MAX];
    if (key_path(handle, key, SUFFIX, path) != 0 || access(path, F_OK) != 0)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    return 0;
}

MQTTClient_persistence mqtt_store_callbacks(const char *base_dir)
{
    return (MQTTClient_persistence){.context = (void *)base_dir,
                                    .popen = store_open,
                                    .pclose = store_close,
                                    .pput = store_put,
                                    .pget = store_get,
                                    .premove = store_remove,
                                    .pkeys = store_keys,
                                    .pclear = store_clear,
                                    .pcontainskey = store_contains};
}
