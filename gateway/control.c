#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_answer.h"
#include "log.h"
#include "timeutil.h"

#define TICK_MS 1000 /* wake at least this often to move the fault window on */
#define LISTEN_BACKLOG CONTROL_MAX_CLIENTS
/* Newcomers taken per wake: those just accepted are read before a flood can evict them. */
#define ACCEPTS_PER_WAKE 8
#define SOCKET_MODE 0660
#define FOLDER_MODE 0750
#define SOCKET_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define MESSAGE_MAX 160

struct client {
    int fd; /* -1: free slot */
    char request[CONTROL_MAX_REQUEST];
    size_t request_length;
    char *response; /* NULL while the request is still arriving */
    size_t response_length;
    size_t response_sent;
    uint64_t connected_ms;  /* monotonic */
    uint64_t progress_ms;   /* monotonic: the last byte in or out, or the connect */
    uint64_t progress_turn; /* control.progress_turns then: orders clients within a millisecond */
};

/*
 * Owned by the control thread once started; control_start/stop touch it only
 * before the thread starts and after it has joined.
 */
static struct {
    struct control_answer *answer;
    int listen_fd;
    int wake_fds[2]; /* control_stop writes to [1] */
    pthread_t thread;
    bool started;
    char path[SOCKET_PATH_MAX];
    struct client clients[CONTROL_MAX_CLIENTS];
    size_t response_bytes;   /* in every client's response: CONTROL_RESPONSE_MEMORY_MAX at most */
    uint64_t progress_turns; /* progress events so far, of every client */
} control = {.listen_fd = -1, .wake_fds = {-1, -1}};

static void close_client(struct client *client)
{
    close(client->fd);
    if (client->response)
        control.response_bytes -= client->response_length;
    free(client->response);
    client->fd = -1;
    client->response = NULL;
}

/* When the client is dropped if nothing moves: whole request by then, or answer progress. */
static uint64_t deadline_of(const struct client *client)
{
    return client->response ? client->progress_ms + CONTROL_WRITE_STALL_MS
                            : client->connected_ms + CONTROL_READ_DEADLINE_MS;
}

static char *error_line(const char *message)
{
    char *text = NULL;
    json_t *root = json_pack("{s:b, s:s}", "ok", 0, "error", message);
    if (root)
        text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

/*
 * For a client that has not been answered: says why it is closed, if its
 * socket takes the line at once (it has been sent nothing, so it does), and closes.
 */
static void refuse_and_close(struct client *client, const char *message)
{
    char *text = error_line(message);
    if (text) {
        size_t length = strlen(text);
        text[length] = '\n'; /* replaces the terminator: send length + 1 bytes, no string */
        (void)!send(client->fd, text, length + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    free(text);
    close_client(client);
}

/* Notes that the client moved (connected, sent or took bytes) now. */
static void progressed(struct client *client, uint64_t now_ms)
{
    client->progress_ms = now_ms;
    client->progress_turn = ++control.progress_turns;
}

static uint64_t elapsed_ms(uint64_t since_ms, uint64_t now_ms)
{
    return now_ms > since_ms ? now_ms - since_ms : 0;
}

/* Drops a client to free its slot or its answer's memory, saying why in the log. */
static void evict(struct client *client, uint64_t now_ms, const char *reason)
{
    if (client->response) {
        log_debug("control: dropped a client's answer (%zu of %zu bytes sent, no progress for "
                  "%" PRIu64 " ms) %s",
                  client->response_sent, client->response_length,
                  elapsed_ms(client->progress_ms, now_ms), reason);
        close_client(client);
        return;
    }
    uint64_t waited_ms = elapsed_ms(client->connected_ms, now_ms);
    log_debug("control: dropped a client without a complete request after %" PRIu64 " ms %s",
              waited_ms, reason);
    char message[MESSAGE_MAX + 64]; /* reason (MESSAGE_MAX) and the words around it */
    snprintf(message, sizeof message, "dropped %s: no complete request after %" PRIu64 " ms",
             reason, waited_ms);
    refuse_and_close(client, message);
}

/* The client, other than spared, that has gone longest without progress; NULL if none. */
static struct client *least_progressing(const struct client *spared, bool holding_response)
{
    struct client *found = NULL;
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        struct client *client = &control.clients[i];
        if (client->fd < 0 || client == spared || (holding_response && !client->response))
            continue;
        if (!found || client->progress_turn < found->progress_turn)
            found = client;
    }
    return found;
}

/* Sends what the socket takes now; closes the client when all of it has gone. */
static void send_response(struct client *client)
{
    while (client->response_sent < client->response_length) {
        ssize_t sent =
            send(client->fd, client->response + client->response_sent,
                 client->response_length - client->response_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (sent < 0) {
            log_debug("control: client went away before its response was sent: %s",
                      strerror(errno));
            break;
        }
        client->response_sent += (size_t)sent;
        progressed(client, time_monotonic_ms());
    }
    close_client(client);
}

/* Makes room for length more bytes of answers by dropping the least progressing holders. */
static void make_memory_room(const struct client *spared, size_t length)
{
    char reason[MESSAGE_MAX];
    snprintf(reason, sizeof reason, "to keep answers under the %u-byte limit",
             CONTROL_RESPONSE_MEMORY_MAX);
    uint64_t now_ms = time_monotonic_ms();
    while (control.response_bytes + length > CONTROL_RESPONSE_MEMORY_MAX) {
        struct client *victim = least_progressing(spared, true);
        if (!victim)
            return;
        evict(victim, now_ms, reason);
    }
}

/* Takes a response (malloc'd JSON, without newline) for the client and starts sending it. */
static void respond(struct client *client, char *json)
{
    size_t length = json ? strlen(json) + 1 : 0; /* with the newline */
    if (length > CONTROL_RESPONSE_MEMORY_MAX) {
        log_warning("control: an answer of %zu bytes is over the %u-byte limit of answers; "
                    "refused",
                    length, CONTROL_RESPONSE_MEMORY_MAX);
        free(json);
        char message[MESSAGE_MAX];
        snprintf(message, sizeof message,
                 "the answer (%zu bytes) is over the daemon's %u-byte limit: ask for less "
                 "(filter by kind, bus or state)",
                 length, CONTROL_RESPONSE_MEMORY_MAX);
        json = error_line(message);
        length = json ? strlen(json) + 1 : 0;
    }
    char *response = json ? realloc(json, length + 1) : NULL;
    if (!response) {
        log_error("control: out of memory answering a client");
        free(json);
        close_client(client);
        return;
    }
    make_memory_room(client, length);
    memcpy(response + length - 1, "\n", 2);
    client->response = response;
    client->response_length = length;
    client->response_sent = 0;
    progressed(client, time_monotonic_ms());
    control.response_bytes += length;
    send_response(client);
}

static void answer_request(struct client *client, size_t length)
{
    while (length > 0 &&
           (client->request[length - 1] == '\r' || client->request[length - 1] == '\n'))
        length--;
    respond(client, control_answer(control.answer, client->request, length));
}

/* Reads what has arrived; answers once the line (or the client's side) is complete. */
static void receive_request(struct client *client)
{
    for (;;) {
        size_t room = sizeof client->request - client->request_length;
        if (room == 0) {
            char message[MESSAGE_MAX];
            snprintf(message, sizeof message, "request longer than %d bytes", CONTROL_MAX_REQUEST);
            refuse_and_close(client, message);
            return;
        }
        ssize_t got = recv(client->fd, client->request + client->request_length, room, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (got <= 0) {
            /* A client that shut its side after a request without newline is still served. */
            if (got == 0 && client->request_length > 0)
                answer_request(client, client->request_length);
            else
                close_client(client);
            return;
        }
        progressed(client, time_monotonic_ms());
        char *newline = memchr(client->request + client->request_length, '\n', (size_t)got);
        client->request_length += (size_t)got;
        if (newline) {
            answer_request(client, (size_t)(newline - client->request) + 1);
            return;
        }
    }
}

/* A free slot, or the one of the client that has gone longest without progress. */
static struct client *slot_for_newcomer(uint64_t now_ms)
{
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
        if (control.clients[i].fd < 0)
            return &control.clients[i];
    struct client *victim = least_progressing(NULL, false);
    char reason[MESSAGE_MAX];
    snprintf(reason, sizeof reason, "to make room: all %d slots taken", CONTROL_MAX_CLIENTS);
    evict(victim, now_ms, reason);
    return victim;
}

static void accept_clients(void)
{
    for (int accepted = 0; accepted < ACCEPTS_PER_WAKE; accepted++) {
        int fd = accept4(control.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_warning("control: accept on %s: %s", control.path, strerror(errno));
            return;
        }
        uint64_t now_ms = time_monotonic_ms();
        struct client *client = slot_for_newcomer(now_ms);
        *client = (struct client){.fd = fd, .connected_ms = now_ms};
        progressed(client, now_ms);
    }
}

static void expire(struct client *client, uint64_t now_ms)
{
    if (client->fd < 0 || now_ms < deadline_of(client))
        return;
    if (client->response) {
        log_debug("control: a client made no progress for %d ms; its answer is dropped (%zu of "
                  "%zu bytes sent)",
                  CONTROL_WRITE_STALL_MS, client->response_sent, client->response_length);
        close_client(client);
        return;
    }
    log_debug("control: no complete request within %d ms; closing", CONTROL_READ_DEADLINE_MS);
    char message[MESSAGE_MAX];
    snprintf(message, sizeof message, "no complete request (one JSON line) within %d ms",
             CONTROL_READ_DEADLINE_MS);
    refuse_and_close(client, message);
}

/* Fills fds (listener, wake pipe, then clients); returns how many and the poll timeout. */
static nfds_t build_poll_set(struct pollfd *fds, struct client **owners, int *timeout_ms)
{
    uint64_t now_ms = time_monotonic_ms();
    uint64_t wake_ms = now_ms + TICK_MS;
    fds[0] = (struct pollfd){.fd = control.listen_fd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = control.wake_fds[0], .events = POLLIN};
    nfds_t count = 2;
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        struct client *client = &control.clients[i];
        if (client->fd < 0)
            continue;
        fds[count] =
            (struct pollfd){.fd = client->fd, .events = client->response ? POLLOUT : POLLIN};
        owners[count++] = client;
        uint64_t deadline_ms = deadline_of(client);
        wake_ms = deadline_ms < wake_ms ? deadline_ms : wake_ms;
    }
    *timeout_ms = wake_ms > now_ms ? (int)(wake_ms - now_ms) : 0;
    return count;
}

static void serve(struct client *client, short revents)
{
    if (client->response && (revents & (POLLOUT | POLLERR | POLLHUP)))
        send_response(client);
    else if (!client->response && (revents & (POLLIN | POLLERR | POLLHUP)))
        receive_request(client);
}

static void *control_thread(void *unused)
{
    (void)unused;
    struct pollfd fds[2 + CONTROL_MAX_CLIENTS];
    struct client *owners[2 + CONTROL_MAX_CLIENTS];
    for (;;) {
        int timeout_ms;
        nfds_t count = build_poll_set(fds, owners, &timeout_ms);
        if (poll(fds, count, timeout_ms) < 0 && errno != EINTR) {
            log_error("control: poll: %s; the control socket stops answering", strerror(errno));
            break;
        }
        if (fds[1].revents)
            break;
        control_answer_tick(control.answer, time_monotonic_ms());
        /* A client answered or dropped above has fd -1 (slots are reused only by accept, last). */
        for (nfds_t i = 2; i < count; i++)
            if (fds[i].revents && owners[i]->fd == fds[i].fd)
                serve(owners[i], fds[i].revents);
        uint64_t now_ms = time_monotonic_ms();
        for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
            expire(&control.clients[i], now_ms);
        if (fds[0].revents & POLLIN)
            accept_clients();
    }
    return NULL;
}

/* The socket's folder: /run/safetygw comes from systemd's RuntimeDirectory; make it if not. */
static int make_folder(const char *path)
{
    char copy[SOCKET_PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    const char *folder = dirname(copy);
    if (mkdir(folder, FOLDER_MODE) == 0) {
        log_info("control: created folder %s for the control socket", folder);
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    log_error("control: cannot create folder %s for the control socket %s: %s", folder, path,
              strerror(errno));
    return -1;
}

/* Removes a socket file a dead daemon left; refuses one that answers or is not a socket. */
static int remove_stale(const struct sockaddr_un *address)
{
    struct stat status;
    if (lstat(address->sun_path, &status) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISSOCK(status.st_mode)) {
        log_error("control: %s exists and is not a socket; not replacing it", address->sun_path);
        return -1;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool in_use =
        probe >= 0 && connect(probe, (const struct sockaddr *)address, sizeof *address) == 0;
    if (probe >= 0)
        close(probe);
    if (in_use) {
        log_error("control: %s is in use: is another safetygwd running?", address->sun_path);
        return -1;
    }
    if (unlink(address->sun_path) != 0) {
        log_error("control: cannot remove stale socket %s: %s", address->sun_path, strerror(errno));
        return -1;
    }
    return 0;
}

static int open_listener(const char *path)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) {
        log_error("control: socket path %s is longer than %zu bytes", path,
                  sizeof address.sun_path - 1);
        return -1;
    }
    snprintf(address.sun_path, sizeof address.sun_path, "%s", path);
    if (make_folder(path) != 0 || remove_stale(&address) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        chmod(path, SOCKET_MODE) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        log_error("control: cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void release(void)
{
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
        if (control.clients[i].fd >= 0)
            close_client(&control.clients[i]);
    if (control.listen_fd >= 0) {
        close(control.listen_fd);
        unlink(control.path);
    }
    for (int i = 0; i < 2; i++)
        if (control.wake_fds[i] >= 0)
            close(control.wake_fds[i]);
    control_answer_free(control.answer);
    control.answer = NULL;
    control.response_bytes = 0;
    control.listen_fd = -1;
    control.wake_fds[0] = control.wake_fds[1] = -1;
}

int control_start(struct runtime *runtime, uint64_t started_wall_ms)
{
    /* No lock: this runs on the main thread, the one that reloads, before any reload. */
    const char *path = runtime->config->gateway.control_socket;
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
        control.clients[i].fd = -1;
    snprintf(control.path, sizeof control.path, "%s", path);
    control.answer = control_answer_new(runtime, started_wall_ms);
    if (!control.answer) {
        log_error("control: out of memory");
        return -1;
    }
    control.listen_fd = open_listener(path);
    if (control.listen_fd < 0) {
        release();
        return -1;
    }
    if (pipe2(control.wake_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        log_error("control: cannot make its wake-up pipe: %s", strerror(errno));
        release();
        return -1;
    }
    int rc = pthread_create(&control.thread, NULL, control_thread, NULL);
    if (rc != 0) {
        log_error("control: cannot start its thread: %s", strerror(rc)); /* not errno */
        release();
        return -1;
    }
    control.started = true;
    log_info("control: listening on %s", path);
    return 0;
}

void control_stop(void)
{
    if (!control.started)
        return;
    (void)!write(control.wake_fds[1], "x", 1);
    pthread_join(control.thread, NULL);
    control.started = false;
    release();
}
