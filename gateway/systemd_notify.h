/*
 * systemd_notify.h — telling the service manager how the daemon is doing, and
 * how often it wants to hear so: the two calls of libsystemd's sd-daemon the
 * daemon needs, spoken directly (sd_notify(3), "Notes": the protocol is the
 * stable interface, the library only a wrapper round it).
 */
#ifndef SAFETYGW_SYSTEMD_NOTIFY_H
#define SAFETYGW_SYSTEMD_NOTIFY_H

#include <stdint.h>

/*
 * Sends state ("READY=1", "WATCHDOG=1", ...) as one datagram to $NOTIFY_SOCKET,
 * a path or, starting with '@', a name in Linux's abstract namespace. Returns 1
 * when sent, 0 without NOTIFY_SOCKET (not run by systemd, as sd_notify), or a
 * negative errno. Safe from any thread: each call opens a socket of its own.
 */
int systemd_notify(const char *state);

/*
 * The watchdog period systemd asks pings within, from WATCHDOG_USEC, when
 * WATCHDOG_PID is absent or names this process (a child inherits the variables
 * of a watchdog meant for its parent). Returns 1 with *usec set, 0 when there
 * is no watchdog for this process, -EINVAL when a variable is not a positive
 * decimal number (as sd_watchdog_enabled).
 */
int systemd_watchdog_usec(uint64_t *usec);

#endif
