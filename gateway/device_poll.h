/*
 * device_poll.h — one poll of one device, waiting for each reply: the read
 * plan's requests on a libmodbus context (rtu) or tcp_link.h (tcp), decoded
 * into a caller's array of values; the CLI's probe and scan poll this way.
 * The daemon never waits: its buses poll in steps on the reactor
 * (bus_steps.c), and share with this file the pacing of a bus (the silence
 * and the gap, late replies counted) and the decoding.
 */
#ifndef SAFETYGW_DEVICE_POLL_H
#define SAFETYGW_DEVICE_POLL_H

#include <modbus.h>
#include <stdint.h>

#include "device.h"
#include "modbus_error.h"
#include "poll_outcome.h"
#include "rtu_link.h"
#include "rtu_silence.h"
#include "tcp_link.h"

/*
 * How requests take turns on a bus. On an rtu bus the line is kept silent
 * for t3.5 + gap_ms after the end of the last frame on it (rtu_silence.h),
 * and whatever arrives meanwhile is dropped and counted as a late reply; on
 * a tcp bus requests are spaced by gap_ms and framed by tcp_link.h, which
 * drops replies to transactions nobody waits for any more (late replies
 * too). The daemon frames rtu requests itself (rtu_link.h, on fd); the
 * CLI's probe and scan leave them to libmodbus. Owned by the reactor thread
 * (or a CLI command); fd and tcp follow the link's opening and closing.
 */
struct bus_pacing {
    uint32_t gap_ms;
    uint32_t silence_us;          /* rtu: t3.5 of the line; 0 on tcp */
    uint32_t timeout_us;          /* the response timeout (how long a misplaced reply drains) */
    int fd;                       /* rtu: the open tty, watched while silent; -1 when not */
    uint64_t last_request_end_us; /* end of the last frame on the line, monotonic us; 0: none */
    uint8_t unanswered_address;   /* slave of the last request that got no reply; 0: none */
    struct tcp_link *tcp;         /* tcp: the connection's transactions; NULL: libmodbus frames */
    bool rtu_framed;              /* rtu: requests framed by rtu_link.h; false: by libmodbus */
    struct rtu_link rtu;          /* rtu: the line's transactions (its fd is fd's) */
    /* Replies nobody waited for any more (late replies), since the bus started. */
    uint64_t late_replies;
    uint8_t late_address; /* the slave address the last of them came from; 0: unknown */
};

/* How a request ended, for the silence that must follow it. */
enum request_end {
    REQUEST_ANSWERED,   /* a reply (good, exception, bad CRC, another slave's) ended: now */
    REQUEST_UNANSWERED, /* nothing came (a timeout, a broadcast): our own last byte ended it */
};

/* Pacing for a bus: t3.5 from its serial settings on rtu, gap_ms, no link open yet. */
void device_poll_pacing_init(struct bus_pacing *pacing, const struct bus_def *bus);

/*
 * Waits until the bus may carry the next request: gap_ms since the last
 * request's end, and on rtu t3.5 of silence on the line on top of it,
 * dropping (and counting as late replies) bytes that arrive meanwhile.
 */
void device_poll_wait_gap(struct bus_pacing *pacing);

/* Bytes found on an rtu line while it should have been silent: counted as a late reply. */
void device_poll_note_stray(struct bus_pacing *pacing, const struct rtu_stray *stray);

/* Marks the end of a request to slave_address on the bus (poll or write). */
void device_poll_request_done(struct bus_pacing *pacing, enum request_end end,
                              uint8_t slave_address);

/* How the request that set errno (libmodbus's codes) ended on the line. */
enum request_end device_poll_request_end(int error_number);

/*
 * On an rtu line, after libmodbus gave up on a reply from another slave
 * (EMBBADSLAVE, the late reply of one that timed out before): counts it as a
 * late reply and reads on until a frame of slave comes, or deadline_us
 * (monotonic). Returns that frame's PDU length (in pdu), or -1 with errno.
 */
int device_poll_read_on(modbus_t *ctx, struct bus_pacing *pacing, uint8_t slave,
                        uint64_t deadline_us, uint8_t *pdu, size_t size);

/*
 * The two ends of a poll, for the daemon's buses, which poll in steps on the
 * reactor (bus_steps.c): every point decoded from the registers of the plan,
 * and a failed request's errno sorted into outcome.
 */
void device_poll_decode(const struct device *device, const uint16_t *registers, double *values);
void device_poll_note_failure(struct poll_outcome *outcome, int error_number);

/*
 * Reads every request of the device's plan into registers (plan->buffer_count
 * entries, laid out as the plan says; bits as 0/1), then decodes values (one
 * entry per profile point). The registers stay for whoever wants them raw.
 */
void device_poll(modbus_t *ctx, const struct device *device, struct bus_pacing *pacing,
                 uint16_t *registers, double *values, struct poll_outcome *outcome);

#endif
