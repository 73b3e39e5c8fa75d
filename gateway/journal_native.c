/*
 * journal_native.c — the client side of journald's native protocol: an entry
 * is serialized straight from the caller's fields into the iovecs of one
 * sendmsg. Owns the one datagram socket every thread sends on, opened once
 * (pthread_once) and never closed; sendmsg needs no lock around it. A send
 * waits for room in journald's queue at most JOURNAL_WAIT_MS, as a burst of
 * lines needs while journald reads them; past that journald is behind (its
 * disk slow) and for JOURNAL_BEHIND_MS no send waits at all: a wait would
 * hold up the reactor, and with it every bus.
 * Entries too big for a datagram are refused, not passed in a memfd: the
 * log's are 2 KiB at most.
 */
#include "journal_native.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "timeutil.h"

/* A field is at most 5 parts: NAME, "\n", its length, value, "\n". */
#define PARTS_PER_FIELD 5
#define JOURNAL_WAIT_MS 50
#define JOURNAL_BEHIND_MS 1000

static pthread_once_t socket_once = PTHREAD_ONCE_INIT;
static int journal_fd = -1;
static int journal_open_error;           /* errno of a socket() that failed, else 0 */
static _Atomic uint64_t behind_until_ms; /* monotonic: no send waits till then */

static void open_journal_socket(void)
{
    journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    journal_open_error = journal_fd < 0 ? errno : 0;
    struct timeval wait = {.tv_usec = JOURNAL_WAIT_MS * 1000};
    if (journal_fd >= 0)
        setsockopt(journal_fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
}

/* One entry: 0, or a negative errno (-EAGAIN: no room within the wait, or none now). */
static int send_entry(struct msghdr *message)
{
    uint64_t now_ms = time_monotonic_ms();
    int flags = MSG_NOSIGNAL | (now_ms < atomic_load(&behind_until_ms) ? MSG_DONTWAIT : 0);
    if (sendmsg(journal_fd, message, flags) >= 0)
        return 0;
    int error = errno; /* EAGAIN: the wait ran out, or none was allowed */
    if (error == EAGAIN && !(flags & MSG_DONTWAIT))
        atomic_store(&behind_until_ms, time_monotonic_ms() + JOURNAL_BEHIND_MS);
    return -error;
}

static char newline[] = "\n";

/*
 * A value without '\n' goes as "NAME=value\n"; one with '\n' in the binary
 * form, "NAME\n", its length as 64-bit little-endian, the value, "\n".
 * Returns the parts used, or -EINVAL for a field without '='.
 */
static int serialize_field(const struct iovec *field, uint64_t *length_le, struct iovec *parts)
{
    char *text = field->iov_base;
    char *equals = memchr(text, '=', field->iov_len);
    if (!equals || equals == text)
        return -EINVAL;
    size_t name_length = (size_t)(equals - text);
    char *value = equals + 1;
    size_t value_length = field->iov_len - name_length - 1;
    if (!memchr(value, '\n', value_length)) {
        parts[0] = *field;
        parts[1] = (struct iovec){.iov_base = newline, .iov_len = 1};
        return 2;
    }
    *length_le = htole64((uint64_t)value_length);
    parts[0] = (struct iovec){.iov_base = text, .iov_len = name_length};
    parts[1] = (struct iovec){.iov_base = newline, .iov_len = 1};
    parts[2] = (struct iovec){.iov_base = length_le, .iov_len = sizeof *length_le};
    parts[3] = (struct iovec){.iov_base = value, .iov_len = value_length};
    parts[4] = (struct iovec){.iov_base = newline, .iov_len = 1};
    return PARTS_PER_FIELD;
}

int journal_native_sendv_at(const char *socket_path, const struct iovec *fields, int count)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof address.sun_path)
        return -EINVAL;
    strcpy(address.sun_path, socket_path);
    if (count <= 0)
        return -EINVAL;
    if (count > JOURNAL_NATIVE_FIELDS_MAX)
        return -E2BIG;
    struct iovec parts[JOURNAL_NATIVE_FIELDS_MAX * PARTS_PER_FIELD];
    uint64_t lengths_le[JOURNAL_NATIVE_FIELDS_MAX];
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        int added = serialize_field(&fields[i], &lengths_le[i], parts + used);
        if (added < 0)
            return added;
        used += (size_t)added;
    }
    pthread_once(&socket_once, open_journal_socket);
    if (journal_fd < 0)
        return -journal_open_error;
    struct msghdr message = {
        .msg_name = &address, .msg_namelen = sizeof address, .msg_iov = parts, .msg_iovlen = used};
    return send_entry(&message);
}

int journal_native_sendv(const struct iovec *fields, int count)
{
    return journal_native_sendv_at(JOURNAL_NATIVE_SOCKET, fields, count);
}
