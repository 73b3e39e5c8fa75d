#include "sim_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_to(const char *path)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) {
        fprintf(stderr, "safetygw-sim: control socket path too long: %s\n", path);
        return -1;
    }
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        fprintf(stderr, "safetygw-sim: cannot reach the simulator at %s: %s\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *bytes, size_t length)
{
    while (length > 0) {
        ssize_t sent = send(fd, bytes, length, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return -1;
        bytes += sent;
        length -= (size_t)sent;
    }
    return 0;
}

/* Reads up to the first newline into reply. Returns its length, or -1. */
static ssize_t read_line(int fd, char *reply, size_t size)
{
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t got = recv(fd, reply + used, size - 1 - used, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t)got;
        if (memchr(reply, '\n', used) != NULL)
            break;
    }
    reply[used] = '\0';
    char *newline = strchr(reply, '\n');
    if (newline != NULL)
        *newline = '\0';
    return used > 0 ? (ssize_t)strlen(reply) : -1;
}

int sim_client_send(const char *control_path, const char *command)
{
    int fd = connect_to(control_path);
    if (fd < 0)
        return 1;
    char reply[16384];
    if (send_all(fd, command, strlen(command)) != 0 || send_all(fd, "\n", 1) != 0 ||
        read_line(fd, reply, sizeof reply) < 0) {
        fprintf(stderr, "safetygw-sim: no reply from %s: %s\n", control_path,
                errno ? strerror(errno) : "connection closed");
        close(fd);
        return 1;
    }
    close(fd);
    puts(reply);
    return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}
