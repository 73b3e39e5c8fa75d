/*
 * journal_native.h — journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL):
 * one journal entry, one datagram, without libsystemd. The daemon hands
 * journal_native_sendv to log_use_journal() (gateway/config/log.h).
 */
#ifndef SAFETYGW_JOURNAL_NATIVE_H
#define SAFETYGW_JOURNAL_NATIVE_H

#include <sys/uio.h>

/* Where journald listens for native entries. */
#define JOURNAL_NATIVE_SOCKET "/run/systemd/journal/socket"

/* More fields than an entry of the log has (log.c sends at most 9). */
#define JOURNAL_NATIVE_FIELDS_MAX 32

/*
 * Sends one entry to journald: count fields, each "NAME=value" (the value may
 * hold '=' and any byte, '\n' included). A log_journal_sendv. Returns 0 when
 * sent, or a negative errno: -EINVAL for no field or a field without '=', -E2BIG beyond
 * JOURNAL_NATIVE_FIELDS_MAX fields, -EMSGSIZE for an entry too big for one
 * datagram, -ENOENT when journald is not listening, -EAGAIN when its queue
 * had no room within 50 ms, or has none now while journald is behind (no send
 * waits for a second after such a wait). Thread-safe: one socket, opened at
 * the first call, and a datagram goes out whole.
 */
int journal_native_sendv(const struct iovec *fields, int count);

/* The same to the datagram socket at socket_path: where a test listens. */
int journal_native_sendv_at(const char *socket_path, const struct iovec *fields, int count);

#endif
