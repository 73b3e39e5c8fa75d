/*
 * tcp_link.h — Modbus TCP transactions on a converter's open connection,
 * framed here (MBAP header, transaction ids) instead of by libmodbus, which
 * still opens and closes the connection.
 *
 * Why not libmodbus's read and write calls: a reply whose transaction id is
 * not the one it waits for (the late reply of a request that timed out) makes
 * libmodbus fail the request with EMBBADDATA, and the awaited reply, still on
 * its way, is then read by the next request, which fails the same way: one
 * late reply takes every later request on the connection down with it
 * (measured with the simulator's `slow` fault: a healthy neighbour went
 * offline). Here a reply to a transaction nobody waits for any more is read,
 * dropped and counted as a late reply of its unit, and the wait for ours goes
 * on until the timeout. A reply arrives whole, so one recv usually reads it.
 *
 * Two ways to use it, one framing: tcp_link_transact waits for the reply
 * (the CLI), tcp_link_send and tcp_link_receive never wait (the daemon's
 * reactor, reactor.h, calls receive when the socket is readable).
 *
 * Owner: the reactor thread while its bus runs (or a CLI command). fd is the
 * connected socket; the link never closes it.
 */
#ifndef SAFETYGW_TCP_LINK_H
#define SAFETYGW_TCP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TCP_LINK_ADU_MAX 260 /* MBAP header (7) + the largest PDU (253) */

struct tcp_link {
    int fd; /* the connected socket, -1 when closed */
    uint32_t timeout_ms;
    uint16_t last_transaction_id;
    uint16_t awaited_transaction_id; /* the request sent last, whose reply is taken */
    bool awaiting;                   /* ... while its reply has neither come nor timed out */
    /* Replies to transactions no longer waited for, since the owner last took them. */
    uint32_t late_replies;
    uint8_t late_unit; /* the unit id of the last of them */
    size_t rx_length;
    uint8_t rx[2 * TCP_LINK_ADU_MAX];
};

/* A new connection on fd (or none: -1): nothing buffered, transaction ids start again. */
void tcp_link_open(struct tcp_link *link, int fd, uint32_t timeout_ms);

/*
 * One transaction: the request PDU (function code and data) to unit, the
 * reply PDU back into reply. Returns the reply PDU's length, or -1 with errno:
 * ETIMEDOUT (no reply of ours in time), ECONNRESET (the connection failed or
 * was closed: reopen it), EPROTO (bytes that are not Modbus TCP: reopen it).
 */
int tcp_link_transact(struct tcp_link *link, uint8_t unit, const uint8_t *request,
                      size_t request_length, uint8_t *reply, size_t reply_size);

/*
 * The non-blocking halves of a transaction. tcp_link_send sends the request
 * (one send; a full socket buffer is a failed connection) and makes its
 * transaction the awaited one. tcp_link_receive reads what the socket holds
 * and returns the awaited reply's PDU length once it is whole, or -1 with
 * errno EAGAIN (not yet: wait for the socket), or as tcp_link_transact.
 * Replies to other transactions are dropped and counted as late.
 */
int tcp_link_send(struct tcp_link *link, uint8_t unit, const uint8_t *request,
                  size_t request_length);
int tcp_link_receive(struct tcp_link *link, uint8_t *reply, size_t reply_size);

/* The awaited reply timed out: when it comes after all, it is a late reply. */
void tcp_link_abandon(struct tcp_link *link);

/*
 * Reads count registers (or coils and discrete inputs, as 0/1 each) of table
 * from address into out, as modbus_read_registers & co. Returns count, or -1
 * with errno as above, MODBUS_ENOBASE + the code for an exception reply, or
 * EMBBADDATA for a reply that does not fit the request.
 */
int tcp_link_read(struct tcp_link *link, uint8_t unit, enum point_table table, uint16_t address,
                  uint16_t count, uint16_t *out);

/*
 * Writes count coils or holding registers from address, each set to value
 * (FC05/FC06 for one, FC15/FC16 for more). Returns 0, or -1 with errno as
 * tcp_link_read.
 */
int tcp_link_write(struct tcp_link *link, uint8_t unit, enum point_table table, uint16_t address,
                   uint16_t count, uint16_t value);

/*
 * SO_KEEPALIVE with short probes and TCP_USER_TIMEOUT on a converter's socket,
 * so a connection whose peer vanished (a rebooted converter, a cut cable)
 * fails within about user_timeout_ms instead of hanging on forever.
 * Returns 0, or -1 with errno (the connection still works then).
 */
int tcp_link_set_keepalive(int fd, uint32_t user_timeout_ms);

#endif
