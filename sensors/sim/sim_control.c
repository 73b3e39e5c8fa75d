#include "sim_control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sim_command.h"

#define LINE_CAPACITY 1024
#define REPLY_CAPACITY 16384

struct sim_control_client {
    struct sim_watch watch;
    struct sim_control *control;
    struct sim_control_client *previous, *next;
    char line[LINE_CAPACITY];
    size_t line_length;
};

struct sim_control {
    struct sim *sim;
    struct sim_watch watch;
    char *path;
    struct sim_control_client *clients;
};

static void drop(struct sim_control_client *client)
{
    struct sim_control *control = client->control;
    sim_loop_unwatch(&control->sim->loop, &client->watch);
    close(client->watch.fd);
    if (client->previous != NULL)
        client->previous->next = client->next;
    else
        control->clients = client->next;
    if (client->next != NULL)
        client->next->previous = client->previous;
    free(client);
}

static void answer(struct sim_control_client *client, const char *line)
{
    static char reply[REPLY_CAPACITY]; /* the loop is single-threaded */
    sim_command_run(client->control->sim, line, reply, sizeof reply - 1);
    size_t length = strlen(reply);
    reply[length++] = '\n';
    if (send(client->watch.fd, reply, length, MSG_NOSIGNAL) != (ssize_t)length)
        log_warning("safetygw-sim: control: reply not sent: %s", strerror(errno));
}

/* Answers every whole line received so far. */
static void answer_lines(struct sim_control_client *client)
{
    char *start = client->line;
    char *end;
    while ((end = memchr(start, '\n', client->line_length - (size_t)(start - client->line)))) {
        *end = '\0';
        if (end > start && end[-1] == '\r')
            end[-1] = '\0';
        if (*start != '\0')
            answer(client, start);
        start = end + 1;
    }
    client->line_length -= (size_t)(start - client->line);
    memmove(client->line, start, client->line_length);
}

static void on_client_bytes(struct sim_watch *watch, uint32_t events)
{
    (void)events;
    struct sim_control_client *client = sim_container_of(watch, struct sim_control_client, watch);
    ssize_t got = recv(watch->fd, client->line + client->line_length,
                       LINE_CAPACITY - 1 - client->line_length, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got <= 0) {
        if (client->line_length > 0) { /* a last command without its newline */
            client->line[client->line_length++] = '\n';
            answer_lines(client);
        }
        drop(client);
        return;
    }
    client->line_length += (size_t)got;
    answer_lines(client);
    if (client->line_length == LINE_CAPACITY - 1) {
        static const char too_long[] = "error: line longer than 1023 bytes\n";
        send(watch->fd, too_long, sizeof too_long - 1, MSG_NOSIGNAL);
        drop(client);
    }
}

static void on_connect(struct sim_watch *watch, uint32_t events)
{
    (void)events;
    struct sim_control *control = sim_container_of(watch, struct sim_control, watch);
    int fd = accept4(watch->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct sim_control_client *client = calloc(1, sizeof *client);
    if (client == NULL) {
        close(fd);
        return;
    }
    client->control = control;
    client->watch.fd = fd;
    client->watch.ready = on_client_bytes;
    if (sim_loop_watch(&control->sim->loop, &client->watch, EPOLLIN) != 0) {
        close(fd);
        free(client);
        return;
    }
    client->next = control->clients;
    if (control->clients != NULL)
        control->clients->previous = client;
    control->clients = client;
}

static int listen_at(const char *path, char *error, size_t error_size)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) {
        snprintf(error, error_size, "control socket path %s is longer than %zu bytes", path,
                 sizeof address.sun_path - 1);
        return -1;
    }
    strcpy(address.sun_path, path);
    struct stat status;
    if (lstat(path, &status) == 0 && S_ISSOCK(status.st_mode))
        unlink(path); /* left by a simulator that was killed */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        listen(fd, 16) != 0) {
        snprintf(error, error_size, "control socket %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int sim_control_open(struct sim *sim, const char *path, char *error, size_t error_size)
{
    struct sim_control *control = calloc(1, sizeof *control);
    if (control == NULL || (control->path = strdup(path)) == NULL) {
        free(control);
        snprintf(error, error_size, "control socket %s: out of memory", path);
        return -1;
    }
    sim->control = control;
    control->sim = sim;
    control->watch.ready = on_connect;
    control->watch.fd = listen_at(path, error, error_size);
    if (control->watch.fd < 0)
        return -1;
    if (sim_loop_watch(&sim->loop, &control->watch, EPOLLIN) != 0) {
        snprintf(error, error_size, "control socket %s: cannot watch it", path);
        return -1;
    }
    log_info("safetygw-sim: control socket %s", path);
    return 0;
}

void sim_control_close(struct sim *sim)
{
    struct sim_control *control = sim->control;
    if (control == NULL)
        return;
    while (control->clients != NULL)
        drop(control->clients);
    if (control->watch.fd >= 0) {
        sim_loop_unwatch(&sim->loop, &control->watch);
        close(control->watch.fd);
        unlink(control->path);
    }
    free(control->path);
    free(control);
    sim->control = NULL;
}
