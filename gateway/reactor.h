/*
 * reactor.h — the one thread that serves every bus: an epoll loop over the
 * converters' non-blocking sockets and the RS-485 lines' non-blocking ttys,
 * one eventfd that other threads write to wake it (a command queued, a bus
 * joining or leaving), and one timer heap (timer_heap.h) holding a deadline
 * per bus (its next due device, the reply it waits for, its gap_ms or t3.5
 * silence, its reconnect). Deadlines are microseconds, each rounded up to its
 * member's grid (slot_us): devices of many converters due within the same
 * slot are sent together, and lines whose silences end within the same slot
 * send their requests together, their replies collected by one epoll_wait,
 * so the thread wakes per time slot rather than per poll.
 *
 * The reactor knows nothing of Modbus: a member (one per bus, embedded in
 * struct bus) says what to do on a readable or writable descriptor, a
 * deadline or a wake-up through its calls; the bus (bus.c) decides,
 * tcp_link.c and rtu_link.c frame. The calls run on the reactor thread and
 * must never block; from them (and only from them) a member sets its
 * descriptor and deadline (reactor_watch, reactor_at). Going round its loop
 * (at least every 250 ms), the reactor refreshes the heartbeats of the
 * members it serves, at most every 100 ms (the watchdog reads them).
 *
 * Threads and locks: reactor_join and reactor_leave are called by
 * one thread (main: start, reload, stop); reactor_wake by any. The
 * reactor's lock guards the joining list and the leave requests only: it is
 * held to push or look at them, never across a member's call, and it nests
 * inside nothing and holds nothing else (a member's calls take the bus's
 * inbox_lock or snapshot_lock themselves, with the reactor's lock free).
 * The reactor thread starts with the first member and ends with the last.
 */
#ifndef SAFETYGW_REACTOR_H
#define SAFETYGW_REACTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "timer_heap.h"

#define REACTOR_NO_DEADLINE UINT64_MAX

struct reactor_member;

struct reactor_calls {
    /* The member's descriptor is ready (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP bits). */
    void (*ready)(struct reactor_member *member, uint32_t events, uint64_t now_us);
    /* The member's deadline came (it is cleared first). */
    void (*deadline)(struct reactor_member *member, uint64_t now_us);
    /* reactor_wake was called, or the member just joined. */
    void (*wake)(struct reactor_member *member, uint64_t now_us);
    /* Asked to leave: true once nothing is under way that it must finish first. */
    bool (*can_leave)(struct reactor_member *member);
};

struct reactor_member {
    /* the owner's, set before reactor_join */
    const struct reactor_calls *calls;
    void *owner;
    _Atomic uint64_t *heartbeat_ms; /* refreshed every 100 ms or so */
    uint32_t slot_us;               /* its deadlines are rounded up to this grid (0, 1: none) */
    bool stalled;                   /* a test: joined, never served, no heartbeat */
    bool held; /* set by its calls while it waits on a thread of its own: no heartbeat */
    /* the reactor's */
    struct timer_entry timer;
    int fd;          /* watched, or -1 */
    uint32_t events; /* what fd is watched for */
    atomic_bool woken;
    bool leave_requested;        /* under the reactor's lock */
    bool left;                   /* under the reactor's lock */
    struct reactor_member *next; /* the joining list, under the reactor's lock */
    bool reactor_knows;          /* the reactor thread's: in its member array */
};

/* Before reactor_join: nothing watched, no deadline; deadlines on a grid of slot_us. */
void reactor_member_init(struct reactor_member *member, const struct reactor_calls *calls,
                         void *owner, _Atomic uint64_t *heartbeat_ms, uint32_t slot_us);

/*
 * The member joins the reactor (its thread started with the first); its wake
 * call runs on the reactor thread soon after. Returns -1 with the reason
 * logged when the thread cannot start.
 */
int reactor_join(struct reactor_member *member);

/*
 * Asks the member to leave and waits until it has (its can_leave said so);
 * afterwards the reactor neither watches its socket nor calls it, and the
 * caller may hand its socket on. The last member to leave ends the thread.
 */
void reactor_leave(struct reactor_member *member);

/* From any thread: the member's wake call runs soon on the reactor thread. */
void reactor_wake(struct reactor_member *member);

/* From the member's calls: watch fd for events (fd -1: watch nothing). */
void reactor_watch(struct reactor_member *member, int fd, uint32_t events);

/*
 * From the member's calls: its one deadline, monotonic microseconds
 * (time_monotonic_us), rounded up to its grid (REACTOR_NO_DEADLINE: none).
 */
void reactor_at(struct reactor_member *member, uint64_t deadline_us);

#endif
