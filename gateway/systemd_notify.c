/*
 * systemd_notify.c — the notification datagram to $NOTIFY_SOCKET and the
 * watchdog period from WATCHDOG_USEC / WATCHDOG_PID (sd_notify(3),
 * sd_watchdog_enabled(3)). Owns nothing between calls: each notification
 * opens, sends on and closes its own socket.
 */
#include "systemd_notify.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A path, or '@' and a name in the abstract namespace (its first byte NUL, no terminator). */
static int notify_address(const char *name, struct sockaddr_un *address, socklen_t *length)
{
    size_t name_length = strlen(name);
    if (name[0] != '/' && name[0] != '@')
        return -EAFNOSUPPORT; /* systemd also knows vsock: addresses; it never gives us one */
    if (name_length >= sizeof address->sun_path)
        return -EINVAL;
    *address = (struct sockaddr_un){.sun_family = AF_UNIX};
    memcpy(address->sun_path, name, name_length);
    if (name[0] == '@')
        address->sun_path[0] = '\0';
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + name_length);
    return 0;
}

int systemd_notify(const char *state)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name)
        return 0;
    struct sockaddr_un address;
    socklen_t address_length;
    int refused = notify_address(name, &address, &address_length);
    if (refused)
        return refused;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t sent =
        sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&address, address_length);
    int error = errno;
    close(fd);
    return sent < 0 ? -error : 1;
}

/* A decimal number and nothing else: strtoumax alone would take "-1", " 1" or "1x". */
static bool parse_decimal(const char *text, uintmax_t *value)
{
    if (!isdigit((unsigned char)*text))
        return false;
    char *end;
    errno = 0;
    *value = strtoumax(text, &end, 10);
    return errno == 0 && *end == '\0';
}

int systemd_watchdog_usec(uint64_t *usec)
{
    const char *usec_text = getenv("WATCHDOG_USEC");
    const char *pid_text = getenv("WATCHDOG_PID");
    uintmax_t value, pid;
    if (!usec_text)
        return 0;
    if (pid_text) {
        if (!parse_decimal(pid_text, &pid) || pid == 0)
            return -EINVAL;
        if (pid != (uintmax_t)getpid())
            return 0;
    }
    /* 0 and UINT64_MAX (USEC_INFINITY) are no period systemd would set. */
    if (!parse_decimal(usec_text, &value) || value == 0 || value >= UINT64_MAX)
        return -EINVAL;
    *usec = value;
    return 1;
}
