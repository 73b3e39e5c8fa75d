/*
 * control.h — the control socket: a Unix stream socket at
 * gateway.control_socket (mode 0660) that answers the CLI's requests
 * (docs/control-protocol.md) from snapshots of the running gateway.
 *
 * One thread serves every client with poll(): non-blocking sockets, at most
 * CONTROL_MAX_CLIENTS at once, a request must arrive whole within
 * CONTROL_READ_DEADLINE_MS and fit in CONTROL_MAX_REQUEST bytes, so a client
 * that connects and says nothing, or too much, cannot hang it. The thread
 * owns the clients and the answerer; it reads the runtime only through
 * snapshots (snapshot.h), never holding a bus lock while it writes to a client.
 */
#ifndef SAFETYGW_CONTROL_H
#define SAFETYGW_CONTROL_H

#include <stdint.h>

#include "runtime.h"

#define CONTROL_MAX_CLIENTS 16
#define CONTROL_MAX_REQUEST 4096        /* bytes, the newline included */
#define CONTROL_READ_DEADLINE_MS 2000   /* from connect to the request's newline */
#define CONTROL_WRITE_DEADLINE_MS 10000 /* for the whole response to leave */

/*
 * Opens the socket (replacing a stale one, creating its folder if missing)
 * and starts the thread. Returns 0, or -1 with the reason logged (socket in
 * use by a running daemon, folder not writable, path too long, ...).
 */
int control_start(struct runtime *runtime, uint64_t started_wall_ms);

/* Stops the thread, closes every client and removes the socket file. */
void control_stop(void);

#endif
