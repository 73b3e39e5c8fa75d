/*
 * rtu_link.h — Modbus RTU transactions on an RS-485 line's open tty, framed
 * here (address, PDU, CRC-16: Modbus over Serial Line v1.02, §2.5.1) instead
 * of by libmodbus, which still opens, configures (RS-485 mode) and closes the
 * tty, and frames the CLI's probe and scan.
 *
 * Why not libmodbus's read and write calls: its receive select()s and read()s
 * a reply piece by piece (address and function, then the byte count, then the
 * rest), three waits and three reads a reply, where the length of the reply
 * is known from the request. Here a transaction writes the request, waits
 * once for the reply's first bytes, and reads the expected length; when the
 * reply is still on the wire (a real UART hands bytes over as they come) it
 * sleeps for the rest of the frame's wire time, computed from the baud rate
 * and framing, and reads again. Bytes that straggle in later (a USB adapter
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
 * Owner: the bus thread of the line. fd is the tty, non-blocking as libmodbus
 * opens it (VMIN 0, VTIME 0); the link never closes it.
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

struct rtu_link {
    int fd;               /* the open tty, -1 when closed */
    uint32_t timeout_us;  /* from the request's last byte written to the reply's first */
    uint32_t char_us;     /* one character on the wire */
    uint32_t straggle_us; /* see RTU_LINK_STRAGGLE_MIN_US */
    /* Frames of other slaves (late replies) since the owner last took them. */
    uint32_t late_replies;
    uint8_t late_address; /* the address of the last of them */
    uint32_t noise_bytes; /* bytes that formed no frame, since the link started */
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
 * One transaction: the request PDU (function code and data) to slave, the
 * reply PDU back into reply. Returns the reply PDU's length (an exception's
 * too: modbus_pdu.h checks it), or -1 with errno: ETIMEDOUT (no reply of
 * slave in time), EMBBADCRC (the reply of slave came with a wrong CRC),
 * ECONNRESET or the read's errno (EIO: the tty is gone; reopen it), EMBMDATA
 * (a request this link cannot frame). To slave 0 (broadcast) it only sends.
 */
int rtu_link_transact(struct rtu_link *link, uint8_t slave, const uint8_t *request,
                      size_t request_length, uint8_t *reply, size_t reply_size);

/*
 * Reads count registers (or coils and discrete inputs, as 0/1 each) of table
 * from address into out, as modbus_read_registers & co. Returns count, or -1
 * with errno as above, MODBUS_ENOBASE + the code for an exception reply, or
 * EMBBADDATA for a reply that does not fit the request.
 */
int rtu_link_read(struct rtu_link *link, uint8_t slave, enum point_table table, uint16_t address,
                  uint16_t count, uint16_t *out);

/*
 * Writes count coils or holding registers from address, each set to value
 * (FC05/FC06 for one, FC15/FC16 for more). Returns 0, or -1 with errno as
 * rtu_link_read.
 */
int rtu_link_write(struct rtu_link *link, uint8_t slave, enum point_table table, uint16_t address,
                   uint16_t count, uint16_t value);

#endif
