#include "socket.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define MESSAGE_MAX 600
#define READ_CHUNK 65536

static void report(const struct cli_options *options, const char *message)
{
    fprintf(stderr, "safetygw %s: %s\n", options->command, message);
    if (!options->json)
        return;
    json_t *error = json_pack("{s:b, s:s}", "ok", 0, "error", message);
    cli_socket_print_json(error);
    json_decref(error);
}

void cli_socket_print_json(const json_t *response)
{
    char *text = json_dumps(response, JSON_COMPACT | JSON_REAL_PRECISION(12));
    if (text)
        printf("%s\n", text);
    free(text);
}

/* Which group may use the socket, for the "permission denied" advice. */
static void group_of(const char *path, char *name, size_t size)
{
    struct stat status;
    struct group *group = stat(path, &status) == 0 ? getgrgid(status.st_gid) : NULL;
    snprintf(name, size, "%s", group ? group->gr_name : "owning");
}

static void explain_connect_error(const char *path, int error, char *message, size_t size)
{
    char group[64];
    switch (error) {
    case ENOENT:
        snprintf(message, size,
                 "no control socket at %s: is safetygwd running? (give the daemon's socket "
                 "with --socket PATH or -c gateway.yaml)",
                 path);
        break;
    case EACCES:
    case EPERM:
        group_of(path, group, sizeof group);
        snprintf(message, size,
                 "permission denied on %s: run as root or as a member of the %s group", path,
                 group);
        break;
    case ECONNREFUSED:
        snprintf(message, size,
                 "nothing listens on %s: safetygwd is not running (the socket file is stale)",
                 path);
        break;
    default:
        snprintf(message, size, "cannot connect to %s: %s", path, strerror(error));
    }
}

static int connect_to(const char *path, char *message, size_t size)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) {
        snprintf(message, size, "socket path %s is too long", path);
        return -1;
    }
    snprintf(address.sun_path, sizeof address.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(message, size, "socket: %s", strerror(errno));
        return -1;
    }
    struct timeval timeout = {.tv_sec = CLI_SOCKET_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        explain_connect_error(path, errno, message, size);
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t sent = send(fd, text, length, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0)
            return -1;
        text += sent;
        length -= (size_t)sent;
    }
    return 0;
}

/* Reads up to the newline (or the end); returns a malloc'd line or NULL with errno. */
static char *read_line(int fd)
{
    size_t length = 0, capacity = 0;
    char *line = NULL;
    for (;;) {
        if (capacity - length < READ_CHUNK) {
            char *grown = realloc(line, capacity + READ_CHUNK + 1);
            if (!grown)
                break;
            line = grown;
            capacity += READ_CHUNK;
        }
        ssize_t got = recv(fd, line + length, capacity - length, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0 && length > 0)
                return line[length] = '\0', line;
            if (got == 0)
                errno = ECONNRESET;
            break;
        }
        char *newline = memchr(line + length, '\n', (size_t)got);
        length += (size_t)got;
        if (newline)
            return *newline = '\0', line;
    }
    int saved = errno;
    free(line);
    errno = saved;
    return NULL;
}

static char *exchange(const char *path, json_t *request, char *message, size_t size)
{
    int fd = connect_to(path, message, size);
    if (fd < 0)
        return NULL;
    char *text = json_dumps(request, JSON_COMPACT);
    bool sent = text && send_all(fd, text, strlen(text)) == 0 && send_all(fd, "\n", 1) == 0;
    int send_error = errno;
    /* Even when sending failed, the daemon may have said why it closed (busy). */
    char *line = read_line(fd);
    if (!line && !sent)
        snprintf(message, size, "cannot send the request to %s: %s", path, strerror(send_error));
    else if (!line)
        snprintf(message, size, "no answer from safetygwd on %s: %s", path,
                 errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
    free(text);
    close(fd);
    return line;
}

json_t *cli_socket_ask(const struct cli_options *options, json_t *request)
{
    char message[MESSAGE_MAX];
    char *path = cli_options_socket_path(options);
    if (!path) {
        json_decref(request);
        return NULL;
    }
    char *line = exchange(path, request, message, sizeof message);
    json_decref(request);
    json_t *response = NULL;
    if (line) {
        json_error_t error = {.text = "not an object"};
        response = json_loads(line, 0, &error);
        const char *refusal = json_string_value(json_object_get(response, "error"));
        if (!response || !json_is_object(response))
            snprintf(message, sizeof message, "the answer on %s is not a JSON object: %s", path,
                     error.text);
        else if (!json_is_true(json_object_get(response, "ok")))
            snprintf(message, sizeof message, "safetygwd says: %s",
                     refusal ? refusal : "(no reason given)");
    }
    free(line);
    free(path);
    if (response && json_is_true(json_object_get(response, "ok")))
        return response;
    json_decref(response);
    report(options, message);
    return NULL;
}
