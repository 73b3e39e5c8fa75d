#include "uplink.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alarm_store.h"
#include "log.h"
#include "mqtt_store.h"
#include "seqfile.h"
#include "shelving_store.h"
#include "timeutil.h"

/*
 * Sizes: a burst of every device's retained state after a reconnection passes
 * through the queue while the uplink drains it, so the queue need not hold a
 * whole site; 1024 items are about 170 KB. The inbox holds commands that
 * arrived while the uplink was busy; past that Paho keeps them for us.
 *
 * What must never be lost (alarm events, command results, shelvings: kept
 * items) is taken even when QUEUE_CAPACITY items wait: the ring grows for it,
 * and shrinks back once the uplink has emptied it. No poster waits for room
 * (on the reactor a wait would hold up every bus). What bounds the growth is
 * the buses: none starts a poll or a command while KEPT_WAITING_MAX kept
 * items wait (uplink_has_room), so past that come at most the events of one
 * poll and the result of one command a bus, and what the main thread posts
 * at a reload. Telemetry and states filling the queue stop no poll.
 */
#define QUEUE_CAPACITY 1024
#define KEPT_WAITING_MAX 1024
/*
 * A broker that stays connected but takes less than the gateway sends (a
 * slow link, a stalled node) would grow Paho's memory without end: Paho
 * queues whatever it is handed while connected. So telemetry and health are
 * not taken while WAITING_MAX messages wait, in this queue and in Paho
 * together (publish_backlog), about 10 MiB: three seconds of a 5,000-device
 * site's readings. A retained device state (QoS 1: a disk write, and Paho's memory
 * until the broker acknowledges it) waits from STATES_WAITING_MAX on: the
 * burst of every state after a (re)connection is paced by the broker, and an
 * alarm event posted meanwhile waits behind at most that many. The buses
 * post states and telemetry again once there is room. Alarm events and
 * command results are always taken: they wait on disk (mqtt_store.c).
 */
#define WAITING_MAX 16384
#define STATES_WAITING_MAX 1024
#define INBOX_CAPACITY 256
#define BATCH_MAX 64
#define TICK_MS 200 /* publish_tick: reconnect back-off steps (publish.c), Paho's pending count */
#define STORE_SAVE_EVERY_MS 1000
/*
 * The topics and payloads of queued messages are copied into one ring of
 * bytes, so that posting a message allocates nothing. The ring holds more
 * than the queue's QUEUE_CAPACITY items of a usual size (telemetry ~250
 * bytes, a device state 200-600), so that the item count, not the ring,
 * bounds the queue: with 128 KiB, 5,000 telemetry messages a second filled
 * the ring within ~100 ms of an uplink kept off the CPU on a busy machine,
 * and 4 % of them were dropped. A text longer than TEXT_INLINE_MAX (the
 * health of a big site) is malloc'd instead.
 */
#define TEXT_RING_SIZE (512u * 1024u)
#define TEXT_INLINE_MAX (16u * 1024u)
/*
 * Wake-ups. Alarm events, command results, fences and commands wake the
 * uplink at once. Retained states, telemetry and health only when it would
 * otherwise sleep longer than BATCH_WAIT_MS: after a wake-up that found work,
 * it sleeps BATCH_WAIT_MS and takes what came meanwhile in one go, so a busy
 * gateway's messages cost one wake-up per batch instead of one per message.
 * A quarter full queue wakes it too.
 */
#define BATCH_WAIT_MS 10
#define WAKE_AT_ITEMS (QUEUE_CAPACITY / 4)
#define WAKE_AT_TEXT_BYTES (TEXT_RING_SIZE / 4u)

enum item_kind { ITEM_EVENT, ITEM_MESSAGE, ITEM_SHELVING, ITEM_FENCE };

/* A shelving to keep (or end) in state_dir. */
struct shelving_change {
    char *device_id;
    char *alarm; /* NULL: all */
    bool ended;
    struct shelving shelving;
};

struct item {
    enum item_kind kind;
    bool urgent; /* wakes the uplink at once (see BATCH_WAIT_MS) */
    bool kept;   /* never dropped: taken past QUEUE_CAPACITY (push_kept) */
    union {
        struct alarm_event event; /* action_error and locations_json, when set, are ours */
        struct {
            char *text;        /* "topic suffix\0payload\0": in queue.texts, or malloc'd */
            bool malloced;     /* text is ours to free, not in queue.texts */
            uint64_t text_end; /* in queue.texts: where it ends (see text_reserved) */
            int qos;
            bool retained;
            enum publish_kind kind;
        } message;
        struct shelving_change *shelving_change; /* malloc'd, ours */
        uint64_t fence_ticket;
    };
};

/* What the uplink takes out of the queue in one go. */
struct batch {
    struct item items[BATCH_MAX];
    size_t item_count;
    uint64_t text_end; /* the texts of queue.texts up to here are sent once the batch is */
    char *commands[INBOX_CAPACITY]; /* "device id\0payload" each, malloc'd */
    size_t command_count;
    bool connected; /* the connection came up since the last batch */
    bool stop;
};

/*
 * The queue: guarded by `lock`, which is held only to push (and copy a
 * message's text in) or pop. The reactor, the main thread and Paho's threads
 * push; the uplink thread pops.
 */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t filled; /* something to do for the uplink */
    pthread_cond_t room;   /* the ring (or the text ring) has room again */
    pthread_cond_t synced; /* a fence was passed */
    struct item *ring;     /* ring_size items: QUEUE_CAPACITY, more while kept items overflow it */
    size_t ring_size, first, count;
    _Atomic size_t kept_count; /* of count: kept items; changed under lock, read without */
    bool storm;                /* kept_count reached kept_waiting_max and has not been 0 since */
    size_t in_hand; /* items of the uplink's batch: taken from the ring, maybe not yet in Paho's */
    /*
     * Message texts, in the order of their items. Counted in bytes since the
     * start: [text_released, text_reserved) is in use, each text contiguous
     * (the end of the ring is skipped when a text does not fit there). The
     * uplink releases a batch's texts once it has sent them.
     */
    char texts[TEXT_RING_SIZE];
    uint64_t text_reserved, text_released;
    char *inbox[INBOX_CAPACITY];
    size_t inbox_first, inbox_count;
    bool connected;
    bool stop;
    uint64_t fences_posted, fences_passed;
    /* The uplink sleeps in take() until uplink_wakes_at_ms (monotonic) unless signalled. */
    bool uplink_waiting;
    uint64_t uplink_wakes_at_ms;
} queue = {.lock = PTHREAD_MUTEX_INITIALIZER,
           .room = PTHREAD_COND_INITIALIZER,
           .synced = PTHREAD_COND_INITIALIZER}; /* filled: uplink_open, on the monotonic clock */

/*
 * Owned by the uplink thread once it runs (uplink_open fills them before).
 * next_seq is also published as an atomic for the health and status readers.
 */
static struct {
    pthread_t thread;
    bool running;
    uplink_command_handler *handle_command;
    void *command_context;
    struct alarm_store *active_alarms;
    struct shelving_store shelvings;
    char *state_dir;
    char *gateway_id;
    int event_qos;
    uint64_t next_seq;
    uint64_t next_tick_ms;
    uint64_t next_store_save_ms;
    struct json_writer event_writer; /* alarm event payloads, reused */
} uplink;

/* Set before the threads that read them start. */
static size_t waiting_max = WAITING_MAX;
static size_t states_waiting_max = STATES_WAITING_MAX;
static size_t kept_waiting_max = KEPT_WAITING_MAX;
static _Atomic uint64_t shown_next_seq;
static _Atomic uint64_t heartbeat_ms;

/* Wakes the uplink if it sleeps: one signal per sleep, whoever comes first. */
static void wake_locked(void)
{
    if (!queue.uplink_waiting)
        return;
    queue.uplink_waiting = false;
    pthread_cond_signal(&queue.filled);
}

/*
 * After a push, at now_ms: wakes the uplink for urgent work, a quarter full
 * queue, or when it would sleep past BATCH_WAIT_MS from now; otherwise it
 * takes the item with the others at its next wake-up.
 */
static void wake_if_due_locked(bool urgent, uint64_t now_ms)
{
    if (urgent || queue.uplink_wakes_at_ms > now_ms + BATCH_WAIT_MS ||
        queue.count >= WAKE_AT_ITEMS ||
        queue.text_reserved - queue.text_released >= WAKE_AT_TEXT_BYTES)
        wake_locked();
}

static void push_locked(const struct item *item, uint64_t now_ms)
{
    queue.ring[(queue.first + queue.count++) % queue.ring_size] = *item;
    wake_if_due_locked(item->urgent, now_ms);
}

/*
 * Room in the text ring for size bytes, contiguous: where they go, or NULL
 * when the ring has not that much room now.
 */
static char *reserve_text_locked(size_t size, uint64_t *text_end)
{
    size_t offset = (size_t)(queue.text_reserved % TEXT_RING_SIZE);
    size_t skipped = offset + size > TEXT_RING_SIZE ? TEXT_RING_SIZE - offset : 0;
    if (queue.text_reserved + skipped + size - queue.text_released > TEXT_RING_SIZE)
        return NULL;
    queue.text_reserved += skipped + size;
    *text_end = queue.text_reserved;
    return queue.texts + (skipped ? 0 : offset);
}

/* What a message's text is: "topic suffix\0payload\0". */
struct text {
    const char *topic_suffix;
    size_t suffix_length;
    const char *payload;
    size_t payload_length;
};

static size_t text_size(const struct text *text)
{
    return text->suffix_length + 1 + text->payload_length + 1;
}

static void copy_text(char *to, const struct text *text)
{
    memcpy(to, text->topic_suffix, text->suffix_length);
    to[text->suffix_length] = '\0';
    memcpy(to + text->suffix_length + 1, text->payload, text->payload_length);
    to[text_size(text) - 1] = '\0';
}

/* Room for a message's text in the text ring (always for a text on the heap, or none). */
static bool text_fits_locked(const struct item *item, const struct text *text)
{
    if (!text || item->message.malloced)
        return true;
    size_t size = text_size(text);
    size_t offset = (size_t)(queue.text_reserved % TEXT_RING_SIZE);
    size_t skipped = offset + size > TEXT_RING_SIZE ? TEXT_RING_SIZE - offset : 0;
    return queue.text_reserved + skipped + size - queue.text_released <= TEXT_RING_SIZE;
}

/* Room within QUEUE_CAPACITY for item and its text: false when there is none now. */
static bool has_room_locked(const struct item *item, const struct text *text)
{
    return queue.count < QUEUE_CAPACITY && text_fits_locked(item, text);
}

static void push_with_text_locked(struct item *item, const struct text *text, uint64_t now_ms)
{
    if (text && !item->message.malloced) {
        item->message.text = reserve_text_locked(text_size(text), &item->message.text_end);
        copy_text(item->message.text, text);
    }
    push_locked(item, now_ms);
}

/* The ring's items, in order, moved to the start of a new ring of size items; false: no memory. */
static bool resize_ring_locked(size_t size)
{
    struct item *ring = malloc(size * sizeof *ring);
    if (!ring)
        return false;
    for (size_t i = 0; i < queue.count; i++)
        ring[i] = queue.ring[(queue.first + i) % queue.ring_size];
    free(queue.ring);
    queue.ring = ring;
    queue.ring_size = size;
    queue.first = 0;
    return true;
}

/*
 * Room for an item that must never be lost: the ring grown when it is full,
 * its text put on the heap when the text ring is. False only when memory ran
 * out for either.
 */
static bool make_kept_room_locked(struct item *item, const struct text *text)
{
    if (queue.count == queue.ring_size && !resize_ring_locked(2 * queue.ring_size))
        return false;
    if (text_fits_locked(item, text))
        return true;
    item->message.text = malloc(text_size(text));
    if (!item->message.text)
        return false;
    item->message.malloced = true;
    copy_text(item->message.text, text);
    return true;
}

/*
 * For what must never be lost: taken at once, past QUEUE_CAPACITY if need be
 * (see there). Waits for room only when memory runs out. False only once the
 * uplink has stopped (nothing posts then, but a mistake must not hang the
 * exit). text: a message's text to copy into the text ring, or NULL.
 */
static bool push_kept(struct item *item, const struct text *text)
{
    pthread_mutex_lock(&queue.lock);
    while (!queue.stop && !make_kept_room_locked(item, text)) {
        wake_locked();
        pthread_cond_wait(&queue.room, &queue.lock);
    }
    bool taken = !queue.stop, storm_began = false;
    if (taken) {
        item->kept = true;
        storm_began =
            atomic_fetch_add(&queue.kept_count, 1) + 1 == kept_waiting_max && !queue.storm;
        queue.storm |= storm_began;
        push_with_text_locked(item, text, time_monotonic_ms());
    }
    pthread_mutex_unlock(&queue.lock);
    if (storm_began)
        log_warning("uplink: %zu alarm events and command results wait to be sent: no bus starts "
                    "a poll or a command till some are",
                    kept_waiting_max);
    return taken;
}

bool uplink_has_room(void)
{
    return atomic_load(&queue.kept_count) < kept_waiting_max; /* asked before every poll */
}

/*
 * Messages on their way to the broker: in the ring, in the uplink's batch,
 * in Paho's hands (WAITING_MAX). Items of a batch already handed to Paho are
 * counted twice until the next batch: never short.
 */
static size_t waiting_locked(void)
{
    return queue.count + queue.in_hand + publish_backlog();
}

static bool push_unless_full(struct item *item, const struct text *text)
{
    uint64_t now_ms = time_monotonic_ms();
    pthread_mutex_lock(&queue.lock);
    bool room = has_room_locked(item, text);
    size_t limit = item->message.qos > 0 ? states_waiting_max : waiting_max;
    bool taken = room && waiting_locked() < limit && !queue.stop;
    if (taken)
        push_with_text_locked(item, text, now_ms);
    else if (!room)
        wake_locked(); /* a full queue is due now; a slow broker is not helped by a wake-up */
    pthread_mutex_unlock(&queue.lock);
    return taken;
}

/* What uplink_post_event copied for the event to own. */
static void free_event_copies(struct alarm_event *event)
{
    free((char *)event->action_error);
    free((char *)event->locations_json);
    free((struct shelving *)event->shelved_as);
}

static struct shelving *copy_shelving(const struct shelving *shelving)
{
    struct shelving *copy = shelving ? malloc(sizeof *copy) : NULL;
    if (copy)
        *copy = *shelving;
    return copy;
}

void uplink_post_event(const struct alarm_event *event)
{
    struct item item = {.kind = ITEM_EVENT, .urgent = true, .event = *event};
    /* Copies of what only some events have (a failed interlock, a bus_down, a shelving). */
    item.event.action_error = event->action_error ? strdup(event->action_error) : NULL;
    item.event.locations_json = event->locations_json ? strdup(event->locations_json) : NULL;
    item.event.shelved_as = copy_shelving(event->shelved_as);
    if (push_kept(&item, NULL))
        return;
    log_error("uplink: event %s of %s after the uplink stopped; not sent", event->rule->name,
              payload_event_source(event));
    free_event_copies(&item.event);
}

int uplink_post_text(const char *topic_suffix, const char *payload, size_t length, int qos,
                     bool retained, enum publish_kind kind)
{
    struct text text = {.topic_suffix = topic_suffix,
                        .suffix_length = strlen(topic_suffix),
                        .payload = payload,
                        .payload_length = length};
    /* Command results and deletions of a retained state are awaited; states and health not. */
    struct item item = {.kind = ITEM_MESSAGE,
                        .urgent = kind == PUBLISH_KEPT,
                        .message = {.qos = qos, .retained = retained, .kind = kind}};
    if (text_size(&text) > TEXT_INLINE_MAX) {
        item.message.text = malloc(text_size(&text));
        item.message.malloced = true;
        if (!item.message.text) {
            publish_count_dropped();
            return -1;
        }
        copy_text(item.message.text, &text);
    }
    bool taken = kind == PUBLISH_KEPT ? push_kept(&item, &text) : push_unless_full(&item, &text);
    if (taken)
        return 0;
    if (item.message.malloced)
        free(item.message.text);
    if (kind != PUBLISH_LATEST) /* a device's state or telemetry is posted again by its bus */
        publish_count_dropped();
    return -1;
}

int uplink_post_message(const char *topic_suffix, char *payload, int qos, bool retained,
                        enum publish_kind kind)
{
    int result = uplink_post_text(topic_suffix, payload, strlen(payload), qos, retained, kind);
    free(payload);
    return result;
}

int uplink_post_device_state(const struct device *device)
{
    char topic[PUBLISH_TOPIC_MAX];
    snprintf(topic, sizeof topic, "device/%s/state", device->def->id);
    struct json_writer *writer = payload_thread_writer();
    if (writer && payload_write_device_state(writer, device) == 0)
        return uplink_post_text(topic, writer->text, writer->length, 1, true, PUBLISH_LATEST);
    log_error("uplink: out of memory for the state of %s; not sent", device->def->id);
    return -1;
}

static void free_shelving_change(struct shelving_change *change)
{
    if (!change)
        return;
    free(change->device_id);
    free(change->alarm);
    free(change);
}

void uplink_post_shelving(const char *device_id, const char *alarm, const struct shelving *shelving)
{
    struct shelving_change *change = calloc(1, sizeof *change);
    if (change) {
        change->device_id = strdup(device_id);
        change->alarm = alarm ? strdup(alarm) : NULL;
        change->ended = shelving == NULL;
        if (shelving)
            change->shelving = *shelving;
    }
    if (!change || !change->device_id || (alarm && !change->alarm)) {
        log_critical("uplink: out of memory: the shelving of %s is not kept for a restart",
                     device_id);
        free_shelving_change(change);
        return;
    }
    struct item item = {.kind = ITEM_SHELVING, .urgent = true, .shelving_change = change};
    if (!push_kept(&item, NULL))
        free_shelving_change(change);
}

void uplink_sync(void)
{
    pthread_mutex_lock(&queue.lock);
    uint64_t ticket = ++queue.fences_posted;
    while (queue.count >= QUEUE_CAPACITY) {
        wake_locked();
        pthread_cond_wait(&queue.room, &queue.lock);
    }
    struct item fence = {.kind = ITEM_FENCE, .urgent = true, .fence_ticket = ticket};
    push_locked(&fence, time_monotonic_ms());
    while (queue.fences_passed < ticket)
        pthread_cond_wait(&queue.synced, &queue.lock);
    pthread_mutex_unlock(&queue.lock);
}

/* Paho's thread: copy and return. */
static bool command_arrived(const char *device_id, const char *payload, size_t length)
{
    size_t id_length = strlen(device_id);
    char *text = malloc(id_length + length + 2);
    if (!text)
        return false;
    memcpy(text, device_id, id_length + 1);
    memcpy(text + id_length + 1, payload, length);
    text[id_length + 1 + length] = '\0';
    pthread_mutex_lock(&queue.lock);
    bool room = queue.inbox_count < INBOX_CAPACITY;
    if (room) {
        queue.inbox[(queue.inbox_first + queue.inbox_count++) % INBOX_CAPACITY] = text;
        wake_locked();
    }
    pthread_mutex_unlock(&queue.lock);
    if (!room)
        free(text);
    return room;
}

/* Paho's thread: note it and return. */
static void connection_came_up(void)
{
    pthread_mutex_lock(&queue.lock);
    queue.connected = true;
    wake_locked();
    pthread_mutex_unlock(&queue.lock);
}

static bool nothing_to_do(void)
{
    return queue.count == 0 && queue.inbox_count == 0 && !queue.connected && !queue.stop;
}

/*
 * Releases the texts of the batch sent before, waits up to timeout_ms for
 * work (less when a poster wakes it), then takes what there is.
 */
static void take(struct batch *batch, uint64_t timeout_ms)
{
    uint64_t wake_ms = time_monotonic_ms() + timeout_ms; /* queue.filled is on this clock */
    struct timespec until = {.tv_sec = (time_t)(wake_ms / 1000u),
                             .tv_nsec = (long)(wake_ms % 1000u) * 1000000L};
    pthread_mutex_lock(&queue.lock);
    bool released = batch->text_end > queue.text_released;
    if (released)
        queue.text_released = batch->text_end;
    if (nothing_to_do()) {
        queue.uplink_wakes_at_ms = wake_ms;
        queue.uplink_waiting = true;
        while (nothing_to_do() && queue.uplink_waiting &&
               pthread_cond_timedwait(&queue.filled, &queue.lock, &until) == 0) {
        }
        queue.uplink_waiting = false;
    }
    batch->item_count = 0;
    while (queue.count > 0 && batch->item_count < BATCH_MAX) {
        struct item *item = &queue.ring[queue.first];
        if (item->kind == ITEM_MESSAGE && !item->message.malloced)
            batch->text_end = item->message.text_end;
        batch->items[batch->item_count++] = *item;
        queue.first = (queue.first + 1) % queue.ring_size;
        queue.count--;
        if (item->kept)
            atomic_fetch_sub(&queue.kept_count, 1);
    }
    if (queue.count == 0 && queue.ring_size > QUEUE_CAPACITY)
        resize_ring_locked(QUEUE_CAPACITY); /* an overflow passed: its memory back */
    queue.in_hand = batch->item_count;      /* the batch before was handed over in full */
    batch->command_count = 0;
    while (queue.inbox_count > 0) {
        batch->commands[batch->command_count++] = queue.inbox[queue.inbox_first];
        queue.inbox_first = (queue.inbox_first + 1) % INBOX_CAPACITY;
        queue.inbox_count--;
    }
    batch->connected = queue.connected;
    queue.connected = false;
    batch->stop = queue.stop && queue.count == 0;
    if (batch->item_count > 0 || released)
        pthread_cond_broadcast(&queue.room);
    bool storm_ended = queue.storm && atomic_load(&queue.kept_count) == 0;
    queue.storm &= !storm_ended;
    pthread_mutex_unlock(&queue.lock);
    if (storm_ended)
        log_info("uplink: the alarm events and command results that waited are all handed to MQTT");
}

static void pass_fence(uint64_t ticket)
{
    pthread_mutex_lock(&queue.lock);
    queue.fences_passed = ticket;
    pthread_cond_broadcast(&queue.synced);
    pthread_mutex_unlock(&queue.lock);
}

/*
 * Group commit: one durable write of the highest seq of the batch, before any
 * of them is sent. A crash after it can skip numbers (a gap the operations
 * center sees and asks a resync for), never reuse one. A failed write is
 * logged (critical) and flagged by seqfile; the events still go out: holding
 * back a gas alarm for a broken disk would be the worse failure.
 */
static void reserve_seqs(const struct batch *batch)
{
    uint64_t events = 0;
    for (size_t i = 0; i < batch->item_count; i++)
        events += batch->items[i].kind == ITEM_EVENT;
    if (events == 0)
        return;
    seqfile_commit(uplink.next_seq + events - 1);
}

static void send_event(struct alarm_event *event)
{
    event->seq = uplink.next_seq++;
    event->gateway_id = uplink.gateway_id;
    atomic_store(&shown_next_seq, uplink.next_seq);
    const char *source = payload_event_source(event);
    if (event->raised && !event->shelved) /* a shelved alarm leaves the active list */
        alarm_store_raise(uplink.active_alarms, source, event->rule->name, event->raised_at_wall_ms,
                          event->value);
    else
        alarm_store_clear(uplink.active_alarms, source, event->rule->name);
    char topic[PUBLISH_TOPIC_MAX];
    snprintf(topic, sizeof topic, "alarm/%s", source);
    if (payload_write_alarm_event(&uplink.event_writer, event) == 0)
        publish_send(topic, uplink.event_writer.text, uplink.event_qos, false, PUBLISH_KEPT);
    else
        log_error("uplink: out of memory for event %" PRIu64 " of %s", event->seq, source);
    free_event_copies(event);
}

static void send_message(char *text, bool malloced, int qos, bool retained, enum publish_kind kind)
{
    const char *payload = text + strlen(text) + 1;
    publish_send(text, payload, qos, retained, kind);
    if (malloced)
        free(text);
}

static void keep_shelving(struct shelving_change *change)
{
    shelving_store_set(&uplink.shelvings, change->device_id, change->alarm,
                       change->ended ? NULL : &change->shelving);
    free_shelving_change(change);
}

static void send_batch(struct batch *batch)
{
    reserve_seqs(batch);
    for (size_t i = 0; i < batch->item_count; i++) {
        struct item *item = &batch->items[i];
        switch (item->kind) {
        case ITEM_EVENT:
            send_event(&item->event);
            break;
        case ITEM_MESSAGE:
            send_message(item->message.text, item->message.malloced, item->message.qos,
                         item->message.retained, item->message.kind);
            break;
        case ITEM_SHELVING:
            keep_shelving(item->shelving_change);
            break;
        case ITEM_FENCE:
            pass_fence(item->fence_ticket);
            break;
        }
    }
}

static void route_commands(struct batch *batch)
{
    for (size_t i = 0; i < batch->command_count; i++) {
        const char *device_id = batch->commands[i];
        const char *payload = device_id + strlen(device_id) + 1;
        char *refusal =
            uplink.handle_command(uplink.command_context, device_id, payload, strlen(payload));
        if (refusal) {
            char topic[PUBLISH_TOPIC_MAX];
            snprintf(topic, sizeof topic, "cmd-result/%s", device_id);
            publish_send(topic, refusal, 1, false, PUBLISH_KEPT);
            free(refusal);
        }
        free(batch->commands[i]);
    }
}

static void save_state(void)
{
    if (alarm_store_dirty(uplink.active_alarms))
        alarm_store_save(uplink.active_alarms, uplink.state_dir);
    shelving_store_save(&uplink.shelvings, uplink.state_dir, time_wall_ms());
}

/*
 * Says when telemetry starts waiting for a slow broker (WAITING_MAX), and when
 * the broker has caught up. States pace themselves at STATES_WAITING_MAX in
 * every burst of a big site: not worth a line.
 */
static void note_waiting(void)
{
    static bool over; /* the uplink thread's */
    pthread_mutex_lock(&queue.lock);
    size_t waiting = waiting_locked();
    pthread_mutex_unlock(&queue.lock);
    if (!over && waiting >= waiting_max) {
        log_warning("mqtt: %zu messages wait for the broker, which takes them slower than they "
                    "come; device states and telemetry wait until it catches up, health is "
                    "dropped",
                    waiting);
        over = true;
    } else if (over && waiting < states_waiting_max) {
        log_info("mqtt: the broker caught up (%zu messages wait)", waiting);
        over = false;
    }
}

static void tick(uint64_t now_ms)
{
    if (now_ms >= uplink.next_tick_ms) {
        publish_tick(now_ms);
        note_waiting();
        uplink.next_tick_ms = now_ms + TICK_MS;
    }
    if (now_ms >= uplink.next_store_save_ms) {
        save_state();
        uplink.next_store_save_ms = now_ms + STORE_SAVE_EVERY_MS;
    }
}

/*
 * For the tests: SAFETYGW_TEST_STALL_UPLINK_MS=N holds the uplink off for N ms
 * once, after its first connection, as a machine that keeps it off the CPU
 * would; the buses meanwhile fill its queue.
 */
static void stall_once_for_test(void)
{
    static bool stalled;
    const char *stall = getenv("SAFETYGW_TEST_STALL_UPLINK_MS");
    if (stalled || !stall)
        return;
    stalled = true;
    unsigned long stall_ms = strtoul(stall, NULL, 10);
    log_warning("uplink: stalling on purpose for %lu ms (SAFETYGW_TEST_STALL_UPLINK_MS)", stall_ms);
    struct timespec wait = {.tv_sec = (time_t)(stall_ms / 1000),
                            .tv_nsec = (long)(stall_ms % 1000) * 1000000L};
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR) {
    }
    log_warning("uplink: stalled on purpose until now");
}

static void *uplink_thread(void *unused)
{
    (void)unused;
    static struct batch batch; /* the uplink thread's alone; 2 KB is too much for a stack */
    publish_connect();
    bool busy = false;
    for (;;) {
        /* Busy: more is probably on its way; take it in BATCH_WAIT_MS, in one go. */
        take(&batch, busy ? BATCH_WAIT_MS : TICK_MS);
        busy = batch.item_count > 0;
        uint64_t now_ms = time_monotonic_ms();
        atomic_store(&heartbeat_ms, now_ms);
        if (batch.connected) {
            publish_announce();
            stall_once_for_test();
        }
        route_commands(&batch);
        send_batch(&batch);
        tick(now_ms);
        if (batch.stop && batch.item_count == 0 && batch.command_count == 0)
            return NULL;
    }
}

static int check_state_dir(const char *state_dir)
{
    if (mkdir(state_dir, 0750) == 0 || errno == EEXIST)
        return 0;
    log_error("uplink: cannot create state_dir %s: %s; not starting", state_dir, strerror(errno));
    return -1;
}

static int read_saved_state(const struct config *config)
{
    const char *state_dir = config->gateway.state_dir;
    char queue_dir[1100];
    snprintf(queue_dir, sizeof queue_dir, "%s/mqtt", state_dir);
    uint64_t last_used = 0;
    char error[512];
    if (check_state_dir(state_dir) != 0 ||
        seqfile_open(state_dir, mqtt_store_highest_seq(queue_dir), &last_used, error,
                     sizeof error) != 0) {
        if (error[0])
            log_error("uplink: %s; not starting", error);
        return -1;
    }
    uplink.next_seq = last_used + 1;
    atomic_store(&shown_next_seq, uplink.next_seq);
    uplink.active_alarms = alarm_store_new();
    if (!uplink.active_alarms || alarm_store_load(uplink.active_alarms, state_dir) != 0)
        return -1;
    shelving_store_load(&uplink.shelvings, state_dir);
    return 0;
}

/* take() times its wait on the monotonic clock, which NTP cannot step. */
static void init_filled_condition(void)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&queue.filled, &attributes);
    pthread_condattr_destroy(&attributes);
}

int uplink_open(const struct config *config, uint64_t started_wall_ms,
                uplink_command_handler *handle_command, void *command_context)
{
    static const struct publish_hooks hooks = {.command_arrived = command_arrived,
                                               .connected = connection_came_up};
    init_filled_condition();
    uplink.handle_command = handle_command;
    uplink.command_context = command_context;
    uplink.event_qos = config->mqtt.qos;
    uplink.state_dir = strdup(config->gateway.state_dir);
    uplink.gateway_id = strdup(config->gateway.id);
    if (!uplink.state_dir || !uplink.gateway_id) {
        log_error("uplink: out of memory");
        return -1;
    }
    pthread_mutex_lock(&queue.lock);
    queue.stop = false; /* a stopped uplink opened again (the tests do) */
    queue.ring = malloc(QUEUE_CAPACITY * sizeof *queue.ring);
    queue.ring_size = QUEUE_CAPACITY;
    pthread_mutex_unlock(&queue.lock);
    if (!queue.ring) {
        log_error("uplink: out of memory");
        return -1;
    }
    if (read_saved_state(config) != 0)
        return -1;
    return publish_start(config, started_wall_ms, &hooks);
}

struct alarm_store *uplink_saved_alarms(void)
{
    return uplink.active_alarms;
}

/*
 * For the tests: SAFETYGW_TEST_WAITING_MAX=N lowers WAITING_MAX and
 * STATES_WAITING_MAX to N, SAFETYGW_TEST_KEPT_WAITING_MAX=N KEPT_WAITING_MAX.
 */
static void set_waiting_max(void)
{
    const char *max = getenv("SAFETYGW_TEST_WAITING_MAX");
    if (max) {
        waiting_max = states_waiting_max = strtoul(max, NULL, 10);
        log_warning("uplink: at most %zu messages wait (SAFETYGW_TEST_WAITING_MAX)", waiting_max);
    }
    const char *kept_max = getenv("SAFETYGW_TEST_KEPT_WAITING_MAX");
    if (kept_max) {
        kept_waiting_max = strtoul(kept_max, NULL, 10);
        log_warning("uplink: polls wait while %zu alarm events and results wait "
                    "(SAFETYGW_TEST_KEPT_WAITING_MAX)",
                    kept_waiting_max);
    }
}

int uplink_run(void)
{
    set_waiting_max();
    atomic_store(&heartbeat_ms, time_monotonic_ms());
    int rc = pthread_create(&uplink.thread, NULL, uplink_thread, NULL);
    if (rc != 0) {
        log_error("uplink: cannot start its thread: %s", strerror(rc));
        return -1;
    }
    /* Named for top -H and /proc/PID/task/TID/comm (at most 15 bytes). */
    pthread_setname_np(uplink.thread, "uplink");
    uplink.running = true;
    return 0;
}

struct shelving_store *uplink_saved_shelvings(void)
{
    return &uplink.shelvings;
}

uint64_t uplink_next_seq(void)
{
    return atomic_load(&shown_next_seq);
}

uint64_t uplink_heartbeat_ms(void)
{
    return atomic_load(&heartbeat_ms);
}

/* What a queued item owns. */
static void free_item_copies(struct item *item)
{
    if (item->kind == ITEM_EVENT)
        free_event_copies(&item->event);
    else if (item->kind == ITEM_MESSAGE && item->message.malloced)
        free(item->message.text);
    else if (item->kind == ITEM_SHELVING)
        free_shelving_change(item->shelving_change);
}

/*
 * The items and commands a thread that never ran (it could not start) left
 * in the queue: freed. A thread that ran took them all before it ended.
 */
static void free_untaken_locked(void)
{
    for (; queue.count > 0; queue.count--) {
        free_item_copies(&queue.ring[queue.first]);
        queue.first = (queue.first + 1) % queue.ring_size;
    }
    for (; queue.inbox_count > 0; queue.inbox_count--) {
        free(queue.inbox[queue.inbox_first]);
        queue.inbox_first = (queue.inbox_first + 1) % INBOX_CAPACITY;
    }
}

void uplink_stop(uint32_t drain_ms)
{
    if (uplink.running) {
        pthread_mutex_lock(&queue.lock);
        queue.stop = true;
        wake_locked();
        pthread_cond_broadcast(&queue.room);
        pthread_mutex_unlock(&queue.lock);
        pthread_join(uplink.thread, NULL);
        uplink.running = false;
    }
    pthread_mutex_lock(&queue.lock);
    queue.stop = true; /* also when the thread never ran: nothing is taken any more */
    free_untaken_locked();
    free(queue.ring);
    queue.ring = NULL;
    queue.ring_size = queue.count = queue.first = 0;
    atomic_store(&queue.kept_count, 0);
    queue.storm = false;
    pthread_mutex_unlock(&queue.lock);
    if (uplink.active_alarms)
        save_state();
    publish_stop(drain_ms);
    alarm_store_free(uplink.active_alarms);
    shelving_store_free(&uplink.shelvings);
    json_writer_free(&uplink.event_writer);
    free(uplink.state_dir);
    free(uplink.gateway_id);
    uplink.active_alarms = NULL;
    uplink.state_dir = uplink.gateway_id = NULL;
}
