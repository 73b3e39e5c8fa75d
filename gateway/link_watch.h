/*
 * link_watch.h — is a bus's link alive? A converter (or an RS-485 line) that
 * dies whole looks like every one of its devices timing out; one device gone
 * behind a live converter looks like that device timing out while the others
 * answer (or like exception 0x0B, the converter answering for it). The watch
 * tells the two apart from the polls it is shown: the link is silent when
 * nothing on the bus has answered for link_timeout_ms and every device polled
 * since timed out, at least three different ones (all of them on a bus of
 * fewer). Any reply at all (an exception, a bad CRC) is an answer. (Not
 * "every device of the bus": an offline device is retried only after its
 * back-off, up to backoff_max_ms, and the verdict must not wait for it.)
 *
 * A silent tcp link is reopened (a half-open connection to a converter that
 * rebooted or dropped off the network can look alive forever), then again
 * after 2, 4, 8 and 16 × link_timeout_ms while it stays silent.
 *
 * Pure: the reactor thread feeds it polls and the time; nothing here does I/O.
 */
#ifndef SAFETYGW_LINK_WATCH_H
#define SAFETYGW_LINK_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_WATCH_DEVICES_NEEDED 3 /* different devices timed out before a bus is silent */

struct link_watch {
    uint32_t link_timeout_ms;
    size_t device_count;
    uint64_t timed_out[4];   /* by address: timed out since the last answer */
    size_t timed_out_count;  /* addresses set in timed_out */
    uint64_t last_answer_ms; /* monotonic: the last reply of any device, or the watch's start */
    bool silent;
    uint32_t reopens;        /* while silent */
    uint64_t last_reopen_ms; /* monotonic; when silent, or the last reopen since */
};

enum link_watch_change {
    LINK_WATCH_SAME,
    LINK_WATCH_SILENT,    /* every device timed out, nothing answered for link_timeout_ms */
    LINK_WATCH_ANSWERING, /* silent before; a device answered */
};

void link_watch_init(struct link_watch *watch, uint32_t link_timeout_ms, size_t device_count,
                     uint64_t now_ms);

/*
 * One poll of the device at address: whether it timed out, or got any reply
 * at all (neither: the link was down and nothing went out).
 */
enum link_watch_change link_watch_poll(struct link_watch *watch, uint8_t address, bool timed_out,
                                       bool answered, uint64_t now_ms);

/* A silent link is due to be reopened now (counts the reopen). */
bool link_watch_reopen_due(struct link_watch *watch, uint64_t now_ms);

/* How long nothing has answered, for the log. */
uint64_t link_watch_silent_ms(const struct link_watch *watch, uint64_t now_ms);

#endif
