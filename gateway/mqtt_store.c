/*
 * mqtt_store.c — Paho's offline buffer on disk (mqtt_store.h): one checked
 * file a message, written aside and renamed, read back whole or set aside to
 * lost/; and the highest seq still queued, for the uplink's start.
 */
#include "mqtt_store.h"

#include <MQTTAsync.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "paho.h"
#include "seqfile.h"
#include "statefile.h"

#define SUFFIX ".msg"
#define LOST_FOLDER "lost"
/* Our messages are a few kB; a larger file is not one of them. */
#define MESSAGE_MAX (64u << 20)

/*
 * The header before Paho's bytes in every file: magic, then the length and
 * CRC-32 of what follows, both little-endian. A truncated or damaged file
 * fails one of the three.
 */
#define HEADER_MAGIC "SGQ1"
#define HEADER_SIZE 12

struct store {
    char dir[PATH_MAX];
    /*
     * The files present at popen were read and checked by the first listing.
     * Later files are whole by construction; one the disk damages fails in pget.
     */
    bool checked;
    /*
     * Queued commands ("c-<n>") on disk, or more, never fewer. Paho removes
     * every command it has sent from the store, the QoS 0 ones it never put
     * there too (persistQoS0 = 0): while none is on disk, a remove is no
     * unlink, which is one system call fewer per telemetry message.
     */
    atomic_int commands_on_disk;
};

static atomic_uint_fast64_t lost_messages;

uint64_t mqtt_store_lost(void)
{
    return (uint64_t)atomic_load(&lost_messages);
}

/* CRC-32 (IEEE 802.3, as zlib's crc32), bit by bit: messages are small. Start and end with ~0. */
static uint32_t crc32_update(uint32_t crc, const unsigned char *data, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc;
}

static void put_u32_le(unsigned char *out, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(value >> (8 * i));
}

static uint32_t get_u32_le(const unsigned char *in)
{
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

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
    atomic_init(&store->commands_on_disk, 0);
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
 * Paho 1.3.12 frees the topic and payload of a QoS 1 PUBLISH whose first write
 * fails with a socket error (the broker just died: MQTTAsync_processCommand
 * frees the command while the in-flight copy still points into it), then
 * re-sends that in-flight copy after the reconnection: freed memory. The
 * broker drops the connection for a malformed packet, again at every
 * reconnection, or accepts junk and the event is lost. Paho writes the
 * message here again before each re-send (key "s-<msgid>"), so this is where
 * it shows: the bytes differ from what the file holds, apart from the DUP
 * flag. The file still holds the message whole, so the daemon stops at once,
 * before the junk reaches the wire; systemd starts it again (Restart=on-failure)
 * and Paho restores the good copy and sends it. Found by
 * tests/integration/test_failover.sh (a broker stopped five times while alarms
 * flow).
 */
static unsigned char *read_message(const struct store *store, const char *key, size_t *length,
                                   char *why, size_t why_size);

static bool is_sent_publish(const char *key)
{
    return strncmp(key, "s-", 2) == 0;
}

static bool is_queued_command(const char *key)
{
    return strncmp(key, "c-", 2) == 0;
}

/* A re-send against the file: the same bytes but for the DUP flag (MQTT 3.1.1, 2.2.2: bit 3). */
static bool same_except_dup_flag(const unsigned char *stored, size_t stored_length,
                                 const unsigned char *message, size_t length)
{
    if (length != stored_length)
        return false;
    return length == 0 || ((stored[0] | 0x08) == (message[0] | 0x08) &&
                           memcmp(stored + 1, message + 1, length - 1) == 0);
}

static void refuse_damaged_resend(const struct store *store, const char *key,
                                  const unsigned char *message, size_t message_length)
{
    char why[128];
    size_t length;
    unsigned char *stored = read_message(store, key, &length, why, sizeof why);
    if (!stored)
        return; /* first send, or nothing to compare with */
    bool same = same_except_dup_flag(stored + HEADER_SIZE, length, message, message_length);
    free(stored);
    if (same)
        return;
    log_critical("mqtt: the MQTT client is about to re-send message %s/%s" SUFFIX " from "
                 "damaged memory (Paho 1.3.12 frees a message whose first write failed); the "
                 "file is whole: stopping now so that a restart sends it from disk",
                 store->dir, key);
    _exit(EXIT_FAILURE);
}

/*
 * Paho's parts of a message copied once into one buffer, after HEADER_SIZE
 * bytes left for the header (malloc'd; NULL: out of memory), *length their
 * sum: the re-send check, the checksum and the write all see the same bytes,
 * even while another of Paho's threads frees them (the defect above). The
 * copy is memcpy's, where ASan's report of that defect is Paho's
 * (tests/asan.supp), not a load of ours.
 */
static unsigned char *copy_parts(int bufcount, char *buffers[], int buflens[], size_t *length)
{
    size_t total = 0;
    for (int i = 0; i < bufcount; i++)
        total += (size_t)buflens[i];
    unsigned char *message = malloc(HEADER_SIZE + total);
    if (!message)
        return NULL;
    size_t at = HEADER_SIZE;
    for (int i = 0; i < bufcount; i++) {
        memcpy(message + at, buffers[i], (size_t)buflens[i]);
        at += (size_t)buflens[i];
    }
    *length = total;
    return message;
}

/*
 * Not fsync-ed: like Paho's own store, a queued message survives the daemon's
 * death, not a power cut; a sync per message would cost more than it saves.
 */
static int store_put(void *handle, char *key, int bufcount, char *buffers[], int buflens[])
{
    char path[PATH_MAX];
    size_t length;
    unsigned char *message;
    if (key_path(handle, key, SUFFIX, path) != 0 ||
        !(message = copy_parts(bufcount, buffers, buflens, &length)))
        return MQTTCLIENT_PERSISTENCE_ERROR;
    if (is_sent_publish(key) && access(path, F_OK) == 0)
        refuse_damaged_resend(handle, key, message + HEADER_SIZE, length);
    if (is_queued_command(key)) /* before the file exists: the count is never short */
        atomic_fetch_add(&((struct store *)handle)->commands_on_disk, 1);
    memcpy(message, HEADER_MAGIC, 4);
    put_u32_le(message + 4, (uint32_t)length);
    put_u32_le(message + 8, ~crc32_update(~0u, message + HEADER_SIZE, length));
    struct iovec whole = {.iov_base = message, .iov_len = HEADER_SIZE + length};
    int written = statefile_write_parts(path, &whole, 1, 0);
    int write_error = errno;
    free(message);
    if (written != 0) {
        log_error("mqtt: cannot store a queued message in %s: %s; it stays in memory only",
                  ((struct store *)handle)->dir, strerror(write_error));
        return MQTTCLIENT_PERSISTENCE_ERROR;
    }
    return 0;
}

/* Checks a file's header against its content; 0, or -1 with what is wrong. */
static int check_message(const unsigned char *data, size_t size, char *why, size_t why_size)
{
    if (size == 0) {
        snprintf(why, why_size, "empty");
        return -1;
    }
    if (size < HEADER_SIZE || memcmp(data, HEADER_MAGIC, 4) != 0) {
        snprintf(why, why_size, "no safetygw queue header in its %zu bytes", size);
        return -1;
    }
    size_t expected = get_u32_le(data + 4), present = size - HEADER_SIZE;
    if (present != expected) {
        snprintf(why, why_size, "%s: %zu of %zu bytes",
                 present < expected ? "truncated" : "too long", present, expected);
        return -1;
    }
    if ((~crc32_update(~0u, data + HEADER_SIZE, present)) != get_u32_le(data + 8)) {
        snprintf(why, why_size, "damaged: the checksum does not match");
        return -1;
    }
    return 0;
}

/* Reads and checks the file of key; the bytes Paho stored, or NULL with what is wrong. */
static unsigned char *read_message(const struct store *store, const char *key, size_t *length,
                                   char *why, size_t why_size)
{
    char path[PATH_MAX];
    size_t size;
    unsigned char *data = NULL;
    if (key_path(store, key, SUFFIX, path) != 0)
        snprintf(why, why_size, "path too long");
    else if ((data = (unsigned char *)statefile_read(path, MESSAGE_MAX, &size)) == NULL)
        snprintf(why, why_size, "cannot read: %s", strerror(errno));
    else if (check_message(data, size, why, why_size) != 0) {
        free(data);
        data = NULL;
    } else {
        *length = size - HEADER_SIZE;
    }
    return data;
}

/*
 * Moves a broken file out of the queue folder, where Paho would list it again,
 * into lost/ (stamped to the nanosecond, since Paho reuses keys) and counts it. A file that
 * cannot be moved is logged and counted again at every listing.
 */
static void set_aside(const struct store *store, const char *key, const char *why)
{
    char path[PATH_MAX], folder[PATH_MAX], lost[PATH_MAX];
    const char *failure = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    atomic_fetch_add(&lost_messages, 1);
    if (key_path(store, key, SUFFIX, path) != 0 ||
        snprintf(folder, sizeof folder, "%s/" LOST_FOLDER, store->dir) >= (int)sizeof folder ||
        snprintf(lost, sizeof lost, "%s/%s.%lld.%09ld" SUFFIX, folder, key, (long long)now.tv_sec,
                 now.tv_nsec) >= (int)sizeof lost)
        failure = "path too long";
    else if (mkdir(folder, 0750) != 0 && errno != EEXIST)
        failure = strerror(errno);
    else if (rename(path, lost) != 0)
        failure = strerror(errno);
    if (failure)
        log_error("mqtt: queued message %s/%s" SUFFIX " cannot be read whole (%s): lost; it "
                  "cannot be moved aside to %s/" LOST_FOLDER ": %s",
                  store->dir, key, why, store->dir, failure);
    else
        log_error("mqtt: queued message %s/%s" SUFFIX " cannot be read whole (%s): lost; moved "
                  "to %s",
                  store->dir, key, why, lost);
}

/* The file of key read whole and checked (length: of Paho's bytes), or NULL: set aside. */
static unsigned char *read_whole_or_set_aside(const struct store *store, const char *key,
                                              size_t *length)
{
    char why[128];
    unsigned char *data = read_message(store, key, length, why, sizeof why);
    if (!data)
        set_aside(store, key, why);
    return data;
}

/* Only whole files reach Paho; see store_keys for why the check is also there. */
static int store_get(void *handle, char *key, char **buffer, int *buflen)
{
    size_t length;
    unsigned char *data = read_whole_or_set_aside(handle, key, &length);
    if (!data)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    /* Paho frees it, with its own allocator's free. */
    char *copy = length < INT_MAX ? paho_api()->malloc(length > 0 ? length : 1) : NULL;
    if (copy) {
        memcpy(copy, data + HEADER_SIZE, length);
        *buffer = copy;
        *buflen = (int)length;
    }
    free(data);
    return copy ? 0 : MQTTCLIENT_PERSISTENCE_ERROR;
}

static int store_remove(void *handle, char *key)
{
    struct store *store = handle;
    bool command = is_queued_command(key);
    if (command && atomic_load(&store->commands_on_disk) <= 0)
        return 0; /* a QoS 0 message, sent without ever being put here */
    char path[PATH_MAX];
    if (key_path(store, key, SUFFIX, path) != 0 || unlink(path) != 0)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    if (command)
        atomic_fetch_sub(&store->commands_on_disk, 1);
    return 0;
}

/* A copy of name without its suffix, from Paho's allocator (Paho frees it). */
static char *paho_key(const char *name, size_t length)
{
    char *key = paho_api()->malloc(length + 1);
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

/* A whole message file, checked; a broken one is set aside. */
static bool is_whole(const struct store *store, const char *key)
{
    size_t length;
    unsigned char *data = read_whole_or_set_aside(store, key, &length);
    free(data);
    return data != NULL;
}

/*
 * The keys of the whole stored messages (Paho sorts them by sequence number).
 * Paho frees the array and the keys with its own allocator, so they come from it.
 *
 * Broken files are checked for here, not only in pget: on restore Paho stops
 * at the first pget error and leaves every later message on disk unrestored,
 * and a message that pget returns but Paho cannot parse is dropped without a
 * word, its file left in place (Paho 1.3.12, MQTTAsync_restoreCommands). The
 * first listing after popen, at Paho's restore, reads every file; later ones
 * only list.
 */
static int store_keys(void *handle, char ***keys, int *count)
{
    struct store *store = handle;
    *keys = NULL;
    *count = 0;
    DIR *dir = opendir(store->dir);
    if (!dir)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    int files = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL)
        files += is_message_file(entry->d_name);
    if (files > 0 && (*keys = paho_api()->malloc((size_t)files * sizeof **keys)) != NULL) {
        rewinddir(dir);
        while ((entry = readdir(dir)) != NULL && *count < files) {
            if (!is_message_file(entry->d_name))
                continue;
            char *key = paho_key(entry->d_name, strlen(entry->d_name) - strlen(SUFFIX));
            if (key && !store->checked && is_queued_command(key))
                atomic_fetch_add(&store->commands_on_disk, 1); /* whole or set aside: counted */
            if (key && (store->checked || is_whole(store, key)))
                (*keys)[(*count)++] = key;
            else if (key)
                paho_api()->free(key);
        }
    }
    closedir(dir);
    store->checked = files == 0 || *keys != NULL;
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
        paho_api()->free(keys[i]);
    }
    paho_api()->free(keys);
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

/* The highest "seq":N in data, at most SEQFILE_MAX. */
static uint64_t highest_seq_in(const char *data, size_t length)
{
    static const char key[] = "\"seq\":";
    uint64_t highest = 0;
    const char *end = data + length, *found = data;
    while ((found = memmem(found, (size_t)(end - found), key, sizeof key - 1)) != NULL) {
        found += sizeof key - 1;
        uint64_t seq = 0;
        const char *digit = found;
        for (; digit < end && *digit >= '0' && *digit <= '9' && seq <= SEQFILE_MAX; digit++)
            seq = seq * 10 + (uint64_t)(*digit - '0');
        if (digit > found && seq <= SEQFILE_MAX && seq > highest)
            highest = seq;
    }
    return highest;
}

/* Files in folder and, depth folders deep, below it. */
static void scan_folder(const char *folder, int depth, uint64_t *highest)
{
    DIR *dir = opendir(folder);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        char path[PATH_MAX];
        struct stat status;
        if (entry->d_name[0] == '.' ||
            snprintf(path, sizeof path, "%s/%s", folder, entry->d_name) >= (int)sizeof path ||
            lstat(path, &status) != 0)
            continue;
        if (S_ISDIR(status.st_mode) && depth > 0) {
            scan_folder(path, depth - 1, highest);
        } else if (S_ISREG(status.st_mode)) {
            size_t length;
            char *data = statefile_read(path, MESSAGE_MAX, &length);
            uint64_t seq = data ? highest_seq_in(data, length) : 0;
            *highest = seq > *highest ? seq : *highest;
            free(data);
        }
    }
    closedir(dir);
}

/*
 * A plain byte scan for "seq": followed by digits, in any file, whole or not:
 * the payloads are compact JSON that we write (payload.c, JSON_COMPACT: no
 * space after the colon) and only alarm events have a "seq" key. Paho's
 * binary framing around them could at worst fake a match, and a false match
 * only raises the floor: seq then skips numbers, it never repeats one. Lost
 * messages count too, for the same reason.
 */
uint64_t mqtt_store_highest_seq(const char *base_dir)
{
    uint64_t highest = 0;
    scan_folder(base_dir, 2, &highest); /* base/<client>-<broker>/lost/<file> */
    return highest;
}
