#include "tcp_link.h"

#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "modbus_pdu.h"

#define MBAP_LENGTH 7 /* transaction id, protocol id, length, unit id */
#define PDU_MAX MODBUS_PDU_MAX
#define KEEPALIVE_IDLE_S 5 /* an idle connection is probed after this */
#define KEEPALIVE_INTERVAL_S 2
#define KEEPALIVE_PROBES 3 /* unanswered probes before the kernel gives up */

static uint64_t now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

static uint16_t u16_at(const uint8_t *bytes)
{
    return (uint16_t)(bytes[0] << 8 | bytes[1]);
}

static void put_u16(uint8_t *bytes, uint16_t value)
{
    bytes[0] = (uint8_t)(value >> 8);
    bytes[1] = (uint8_t)(value & 0xff);
}

void tcp_link_open(struct tcp_link *link, int fd, uint32_t timeout_ms)
{
    link->fd = fd;
    link->timeout_ms = timeout_ms;
    link->last_transaction_id = 0;
    link->awaited_transaction_id = 0;
    link->awaiting = false;
    link->late_replies = 0;
    link->late_unit = 0;
    link->rx_length = 0;
}

int tcp_link_set_keepalive(int fd, uint32_t user_timeout_ms)
{
    int on = 1, idle = KEEPALIVE_IDLE_S, interval = KEEPALIVE_INTERVAL_S, probes = KEEPALIVE_PROBES;
    unsigned user_timeout = user_timeout_ms;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout) != 0)
        return -1;
    return 0;
}

/* A failed socket: reopen. What the kernel said goes to the debug log. */
static int link_failed(const char *what, int error_number)
{
    log_debug("modbus tcp: %s: %s", what, strerror(error_number));
    errno = ECONNRESET;
    return -1;
}

static int send_request(struct tcp_link *link, uint16_t transaction_id, uint8_t unit,
                        const uint8_t *pdu, size_t pdu_length)
{
    uint8_t adu[TCP_LINK_ADU_MAX];
    put_u16(adu, transaction_id);
    put_u16(adu + 2, 0);
    put_u16(adu + 4, (uint16_t)(pdu_length + 1));
    adu[6] = unit;
    memcpy(adu + MBAP_LENGTH, pdu, pdu_length);
    size_t length = MBAP_LENGTH + pdu_length;
    /* Never block: a full send buffer means the converter stopped reading long ago. */
    ssize_t sent = send(link->fd, adu, length, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent == (ssize_t)length)
        return 0;
    return link_failed("sending a request", sent < 0 ? errno : EAGAIN);
}

static void consume(struct tcp_link *link, size_t length)
{
    memmove(link->rx, link->rx + length, link->rx_length - length);
    link->rx_length -= length;
}

/*
 * The reply to transaction_id among the whole frames buffered: 1 when found
 * (its PDU copied to reply, *pdu_length set), 0 when not yet, -1 when the
 * bytes are not Modbus TCP. Replies to other transactions are dropped and
 * counted as late.
 */
static int take_reply(struct tcp_link *link, int transaction_id, uint8_t *reply,
                      size_t reply_size, size_t *pdu_length)
{
    while (link->rx_length >= MBAP_LENGTH) {
        size_t length = u16_at(link->rx + 4); /* unit id + PDU */
        if (u16_at(link->rx + 2) != 0 || length < 2 || length > PDU_MAX + 1)
            return -1;
        size_t frame = 6 + length;
        if (link->rx_length < frame)
            return 0;
        if (transaction_id >= 0 && u16_at(link->rx) == transaction_id) {
            *pdu_length = length - 1 < reply_size ? length - 1 : reply_size;
            memcpy(reply, link->rx + MBAP_LENGTH, *pdu_length);
            consume(link, frame);
            return 1;
        }
        link->late_replies++;
        link->late_unit = link->rx[6];
        log_debug("modbus tcp: dropped a reply of unit %u to transaction %u (waiting for %d)",
                  link->rx[6], u16_at(link->rx), transaction_id);
        consume(link, frame);
    }
    return 0;
}

/* Appends what the socket holds to rx without waiting. 0, or -1 with errno. */
static int receive_available(struct tcp_link *link)
{
    ssize_t got =
        recv(link->fd, link->rx + link->rx_length, sizeof link->rx - link->rx_length, MSG_DONTWAIT);
    if (got > 0) {
        link->rx_length += (size_t)got;
        return 0;
    }
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    return link_failed("reading a reply", got == 0 ? ECONNRESET : errno);
}

int tcp_link_send(struct tcp_link *link, uint8_t unit, const uint8_t *request,
                  size_t request_length)
{
    if (link->fd < 0) {
        errno = ENOTCONN;
        return -1;
    }
    link->awaited_transaction_id = ++link->last_transaction_id;
    link->awaiting = true;
    return send_request(link, link->awaited_transaction_id, unit, request, request_length);
}

int tcp_link_receive(struct tcp_link *link, uint8_t *reply, size_t reply_size)
{
    if (link->fd < 0) {
        errno = ENOTCONN;
        return -1;
    }
    if (receive_available(link) != 0)
        return -1;
    size_t pdu_length = 0;
    int awaited = link->awaiting ? link->awaited_transaction_id : -1;
    int found = take_reply(link, awaited, reply, reply_size, &pdu_length);
    if (found > 0) {
        link->awaiting = false;
        return (int)pdu_length;
    }
    if (found < 0) {
        link->awaiting = false;
        link->rx_length = 0;
        errno = EPROTO;
        return -1;
    }
    errno = EAGAIN;
    return -1;
}

void tcp_link_abandon(struct tcp_link *link)
{
    link->awaiting = false;
}

/* Waits up to wait_us for the socket to be readable. 0, or -1 with errno. */
static int wait_readable(struct tcp_link *link, uint64_t wait_us)
{
    struct pollfd watch = {.fd = link->fd, .events = POLLIN};
    struct timespec wait = {.tv_sec = (time_t)(wait_us / 1000000u),
                            .tv_nsec = (long)(wait_us % 1000000u) * 1000L};
    if (ppoll(&watch, 1, &wait, NULL) < 0 && errno != EINTR)
        return link_failed("waiting for a reply", errno);
    return 0;
}

int tcp_link_transact(struct tcp_link *link, uint8_t unit, const uint8_t *request,
                      size_t request_length, uint8_t *reply, size_t reply_size)
{
    if (tcp_link_send(link, unit, request, request_length) != 0)
        return -1;
    uint64_t deadline_us = now_us() + (uint64_t)link->timeout_ms * 1000u;
    for (;;) {
        int length = tcp_link_receive(link, reply, reply_size);
        if (length >= 0 || errno != EAGAIN)
            return length;
        uint64_t now = now_us();
        if (now >= deadline_us) {
            tcp_link_abandon(link);
            errno = ETIMEDOUT;
            return -1;
        }
        if (wait_readable(link, deadline_us - now) != 0)
            return -1;
    }
}

static int transact(void *link, uint8_t unit, const uint8_t *request, size_t request_length,
                    uint8_t *reply, size_t reply_size)
{
    return tcp_link_transact(link, unit, request, request_length, reply, reply_size);
}

int tcp_link_read(struct tcp_link *link, uint8_t unit, enum point_table table, uint16_t address,
                  uint16_t count, uint16_t *out)
{
    return modbus_pdu_read(transact, link, unit, table, address, count, out);
}

int tcp_link_write(struct tcp_link *link, uint8_t unit, enum point_table table, uint16_t address,
                   uint16_t count, uint16_t value)
{
    return modbus_pdu_write(transact, link, unit, table, address, count, value);
}
