/*
 * control.h — the control socket: a Unix stream socket at
 * gateway.control_socket (mode 0660) that answers the CLI's requests
 * (docs/control-protocol.md) from snapshots of the running gateway.
 *
 * One thread serves every client with poll() on non-blocking sockets, so that
 * no client can delay another: a request must arrive whole within
 * CONTROL_READ_DEADLINE_MS and fit in CONTROL_MAX_REQUEST bytes; an answer
 * that makes no progress (the client takes no byte of it) for
 * CONTROL_WRITE_STALL_MS is dropped. When all CONTROL_MAX_CLIENTS slots are
 * taken, a newcomer is not refused: the client that has gone longest without
 * progress (a byte in or out) is dropped to make room.
 *
 * Memory: each client holds its whole answer until it is sent; the answers
 * held by all clients together stay under CONTROL_RESPONSE_MEMORY_MAX (a new
 * answer drops the least progressing holders until it fits; one bigger than
 * the limit alone is refused with an error). Requests take a fixed
 * CONTROL_MAX_CLIENTS * CONTROL_MAX_REQUEST bytes.
 *
 * The thread owns the clients and the answerer. It reads the runtime only
 * under runtime_lock_read(), copying snapshots (snapshot.h), and releases it
 * before it talks to any client; a reload (which swaps the runtime in place
 * under the write lock) therefore needs no help from it and does not stop it.
 */
#ifndef SAFETYGW_CONTROL_H
#define SAFETYGW_CONTROL_H

#include <stdint.h>

#include "runtime.h"

#define CONTROL_MAX_CLIENTS 64
#define CONTROL_MAX_REQUEST 4096      /* bytes, the newline included */
#define CONTROL_READ_DEADLINE_MS 2000 /* from connect to the request's newline */
#define CONTROL_WRITE_STALL_MS 5000   /* an answer of which the client takes nothing this long */
/* Bytes of answers held for all clients together: 64 `devices` answers of the 798-device
 * sample site (about 220 KB each) fit; of a 10,000-device gateway's, about six. */
#define CONTROL_RESPONSE_MEMORY_MAX (16u << 20)

/*
 * Once, at start: opens the socket (replacing a stale one, creating its
 * folder if missing) and starts the thread. runtime is the struct a reload
 * swaps in place (under runtime_lock_write()); it must stay at that address
 * until control_stop(). Returns 0, or -1 with the reason logged (socket in
 * use by a running daemon, folder not writable, path too long, ...).
 *
 * Nothing is needed at a reload: the thread notices a new configuration by
 * itself (the gateway section, hence the socket path, cannot change on one).
 */
int control_start(struct runtime *runtime, uint64_t started_wall_ms);

/* Once, at exit: stops the thread, closes every client and removes the socket file. */
void control_stop(void);

#endif
