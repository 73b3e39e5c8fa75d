/*
 * rtu_link.h — Modbus RTU transactions on an RS-485 line's open tty, framed
 * here (address, PDU, CRC-16: Modbus over Serial Line v1.02, §2.5.1) instead
 * of by libmodbus, which still opens, configures (RS-485 mode) and closes the
 * tty, and frames the CLI's probe and scan.
 *
 * Why not libmodbus's read and write calls: its receive select()s and read()s
 * a reply piece by piece (address and function, then the byte count, then the
 * rest), three waits and three reads a reply, and it blocks its thread, where
 * the daemon serves every line from one thread (reactor.h). Here a
 * transaction is two calls that never wait: rtu_link_send writes the request;
 * rtu_link_receive, called when the tty is readable or the time the link
 * names comes, reads and frames what is there and says what to wait for
 * next. The reply's length is known from the request: the first bytes are
 * waited for once, the expected length read; when the reply is still on the
 * wire (a real UART hands bytes over as they come) the link asks to be called
 * after the rest of the frame's wire time, computed from the baud rate and
 * framing, and reads again. Bytes that straggle in later (a USB adapter
 * delivers in chunks) are waited for, within RTU_LINK_STRAGGLE_MIN_US of the
 * last one.
 *
 * A frame of another slave with a good CRC is a late reply (of a request that
 * timed out before): it is dropped, counted with its address, and the wait for
 * ours goes on until the response timeout, as tcp_link.h does with a stale
 * transaction. Bytes that form no frame (noise) are dropped. Whatever arrives
 * after the reply is left on the tty for the silence before the next request
 * (rtu_silence.h) to drain and count.
 *
 * Owner: the thread that serves the line (the reactor's). fd is the tty,
 * non-blocking as libmodbus opens it (VMIN 0, VTIME 0); the link never
 * closes it.
 */
#ifndef SAFETYGW_RTU_LINK_H
#define SAFETYGW_RTU_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define RTU_LINK_ADU_MAX 256 /* address + the largest PDU (253) + CRC (2) */
/*
 * The longest pause inside a reply before it is taken as ended: a USB-RS485
 * adapter hands bytes over in chunks (an FTDI chip every 16 ms by default).
 */
#define RTU_LINK_STRAGGLE_MIN_US 20000u

#define RTU_LINK_RX_SIZE (2 * RTU_LINK_ADU_MAX)

struct rtu_link {
    int fd;               /* the open tty, -1 when closed */
    uint32_t timeout_us;  /* from the request's last byte written to the reply's first */
    uint32_t char_us;     /* one character on the wire */
    uint32_t straggle_us; /* see RTU_LINK_STRAGGLE_MIN_US */
    /* Frames of other slaves (late replies) since the owner last took them. */
    uint32_t late_replies;
    uint8_t late_address; /* the address of the last of them */
    uint32_t noise_bytes; /* bytes that formed no frame, since the link started */
    /* The transaction under way (rtu_link_send, then rtu_link_receive). */
    uint8_t slave;
    uint8_t function;
    size_t expected_length;
    bool unsent;             /* the tty took not all of the request: a stuck line */
    uint64_t request_end_us; /* when the request's last byte leaves the wire (monotonic) */
    uint64_t deadline_us;    /* the reply's first byte is due by then */
    uint64_t last_us;        /* the wait ends by then, whatever comes (a babbling line) */
    bool bad_crc;            /* a frame of slave and function came with a wrong CRC */
    uint8_t rx[RTU_LINK_RX_SIZE];
    size_t rx_length;
    uint64_t last_byte_us; /* when the last bytes were read */
    size_t missing;        /* bytes still to come of the frame begun, at the last parse */
    bool rested;           /* the rest of that frame was waited for since the last bytes */
    /* After rtu_link_receive said EAGAIN: call it again at wait_until_us, or sooner
     * when the tty is readable if wait_readable (false: the rest of a frame is on
     * the wire and is read at once after its wire time). */
    uint64_t wait_until_us;
    bool wait_readable;
};

/* The link of an rtu bus: its timing from the line's settings, no tty yet (fd -1). */
void rtu_link_init(struct rtu_link *link, const struct bus_def *line);

/* CRC-16/MODBUS of bytes (polynomial 0xA001 reflected, start 0xFFFF); sent low byte first. */
uint16_t rtu_link_crc16(const uint8_t *bytes, size_t length);

/*
 * The length of the whole reply frame (address to CRC) a request PDU asks
 * for: FC01/02 3 + ceil(n/8) + 2, FC03/04 3 + 2n + 2, FC05/06/15/16 8;
 * 0 for a function this link does not frame. An exception reply is 5.
 */
size_t rtu_link_reply_length(const uint8_t *request, size_t request_length);

/* What rtu_link_parse found in the bytes read so far. */
struct rtu_link_scan {
    size_t consumed;    /* leading bytes that can never be part of the reply: drop them */
    const uint8_t *pdu; /* the reply's PDU, when found */
    size_t pdu_length;
    uint32_t late_frames; /* frames of other slaves (or functions) among consumed */
    uint8_t late_address; /* the address of the last of them */
    uint32_t noise_bytes; /* bytes among consumed that formed no frame */
    bool bad_crc;         /* a frame of slave and function came with a wrong CRC */
    size_t missing;       /* bytes still to come of the frame begun soonest to end; 0: none */
};

/*
 * Looks for the reply of slave to a request of function in bytes (what was
 * read so far): a frame of slave with that function (or its exception) and a
 * good CRC. Pure. Returns 1 when it is there, 0 when not (yet).
 * expected_length: the whole reply's length (rtu_link_reply_length), for
 * scan->missing while a frame's header is not all in.
 */
int rtu_link_parse(const uint8_t *bytes, size_t length, uint8_t slave, uint8_t function,
                   size_t expected_length, struct rtu_link_scan *scan);

/*
 * Starts a transaction: the request PDU (function code and data) to slave,
 * written to the tty without waiting. Returns 0 (then rtu_link_receive), or
 * -1 with errno: ENOTCONN (no tty), EMBMDATA (a request this link cannot
 * frame), the write's errno (EIO: the tty is gone; reopen it). A tty that
 * takes not all of the request (a stuck line) is answered as a timeout.
 */
int rtu_link_send(struct rtu_link *link, uint8_t slave, const uint8_t *request,
                  size_t request_length);

/*
 * The transaction's reply, as far as it has come: reads what is there and
 * frames it (readable: called because the tty said so, else at the time the
 * link named). Returns the reply PDU's length (an exception's too: modbus_pdu.h
 * checks it) into reply, or -1 with errno: EAGAIN (not yet: call again as
 * wait_until_us and wait_readable say), ETIMEDOUT (no reply of slave in
 * time), EMBBADCRC (the reply of slave came with a wrong CRC), ECONNRESET or
 * the read's errno (EIO: the tty is gone; reopen it). A broadcast (slave 0)
 * has no reply: 0 at once.
 */
int rtu_link_receive(struct rtu_link *link, bool readable, uint8_t *reply, size_t reply_size);

#endif
