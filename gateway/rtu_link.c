#include "rtu_link.h"

#include <errno.h>
#include <modbus.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "modbus_pdu.h"
#include "rtu_silence.h"

#define US_PER_S 1000000u
#define ADDRESS_MAX 247 /* 0 is broadcast (never answered), 248..255 reserved (§2.2) */
#define EXCEPTION_BIT 0x80
#define EXCEPTION_LENGTH 5  /* address, function | 0x80, code, CRC */
#define WRITE_ECHO_LENGTH 8 /* address, function, address, value or quantity, CRC */
#define BYTE_COUNT_MAX 250  /* FC01..04 carry at most 2000 bits or 125 registers */
#define RX_SIZE (2 * RTU_LINK_ADU_MAX)

void rtu_link_init(struct rtu_link *link, const struct bus_def *line)
{
    uint32_t t35_us = rtu_t35_us(line->baud, line->parity, line->data_bits, line->stop_bits);
    *link = (struct rtu_link){
        .fd = -1,
        .timeout_us = line->timeout_ms * 1000u,
        .char_us = rtu_char_us(line->baud, line->parity, line->data_bits, line->stop_bits),
        .straggle_us =
            4 * t35_us > RTU_LINK_STRAGGLE_MIN_US ? 4 * t35_us : RTU_LINK_STRAGGLE_MIN_US,
    };
}

uint16_t rtu_link_crc16(const uint8_t *bytes, size_t length)
{
    uint16_t crc = 0xffff;
    for (size_t i = 0; i < length; i++) {
        crc ^= bytes[i];
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 1u ? (uint16_t)(crc >> 1 ^ 0xa001u) : (uint16_t)(crc >> 1);
    }
    return crc;
}

static bool crc_good(const uint8_t *frame, size_t length)
{
    uint16_t crc = rtu_link_crc16(frame, length - 2);
    return frame[length - 2] == (crc & 0xff) && frame[length - 1] == crc >> 8;
}

size_t rtu_link_reply_length(const uint8_t *request, size_t request_length)
{
    if (request_length < 5)
        return 0;
    unsigned count = (unsigned)(request[3] << 8 | request[4]);
    switch (request[0]) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS:
        return 3 + (count + 7u) / 8u + 2;
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
        return 3 + 2u * count + 2;
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        return WRITE_ECHO_LENGTH;
    default:
        return 0;
    }
}

/*
 * The length of the frame that starts at bytes, from its header (as a slave
 * answers): -1 when no reply frame can start there, 0 while its header is not
 * all in.
 */
static int frame_length(const uint8_t *bytes, size_t available)
{
    if (available < 1)
        return 0;
    if (bytes[0] == 0 || bytes[0] > ADDRESS_MAX)
        return -1;
    if (available < 2)
        return 0;
    uint8_t function = bytes[1];
    if (function & EXCEPTION_BIT)
        return function == EXCEPTION_BIT ? -1 : EXCEPTION_LENGTH;
    switch (function) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS:
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
        if (available < 3)
            return 0;
        return bytes[2] == 0 || bytes[2] > BYTE_COUNT_MAX ? -1 : 5 + bytes[2];
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        return WRITE_ECHO_LENGTH;
    default:
        return -1;
    }
}

int rtu_link_parse(const uint8_t *bytes, size_t length, uint8_t slave, uint8_t function,
                   size_t expected_length, struct rtu_link_scan *scan)
{
    *scan = (struct rtu_link_scan){0};
    size_t begun = length; /* the first frame that may still be coming in */
    size_t late_bytes = 0;
    size_t at = 0;
    while (at < length) {
        int frame = frame_length(bytes + at, length - at);
        if (frame < 0) {
            at++;
            continue;
        }
        if (frame == 0 || at + (size_t)frame > length) {
            /* Begun: noise that looks like a header may be, so the soonest to end counts. */
            size_t have = length - at;
            size_t whole = frame > 0 ? (size_t)frame : expected_length;
            size_t missing = whole > have ? whole - have : 1;
            if (begun == length || missing < scan->missing)
                scan->missing = missing;
            if (begun == length)
                begun = at;
            at++;
            continue;
        }
        bool ours = bytes[at] == slave && (bytes[at + 1] & ~EXCEPTION_BIT) == function;
        if (!crc_good(bytes + at, (size_t)frame)) {
            scan->bad_crc |= ours;
            at++;
            continue;
        }
        if (ours) {
            scan->pdu = bytes + at + 1;
            scan->pdu_length = (size_t)frame - 3;
            scan->consumed = at + (size_t)frame;
            scan->noise_bytes = (uint32_t)(at - late_bytes);
            scan->missing = 0;
            return 1;
        }
        /* Two frames never overlap: whatever seemed to begin before this one did not. */
        scan->late_frames++;
        scan->late_address = bytes[at];
        late_bytes += (size_t)frame;
        at += (size_t)frame;
        begun = length;
        scan->missing = 0;
    }
    scan->consumed = begun;
    scan->noise_bytes = (uint32_t)(begun - late_bytes);
    return 0;
}

static uint64_t now_us(void)
{
    return rtu_silence_now_us();
}

static void sleep_us(uint64_t wait_us)
{
    struct timespec wait = {.tv_sec = (time_t)(wait_us / US_PER_S),
                            .tv_nsec = (long)(wait_us % US_PER_S) * 1000L};
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR) {
    }
}

/* Waits up to wait_us for fd to be ready for events. 1 ready, 0 not, -1 with errno. */
static int wait_for(int fd, short events, uint64_t wait_us)
{
    struct pollfd watch = {.fd = fd, .events = events};
    struct timespec wait = {.tv_sec = (time_t)(wait_us / US_PER_S),
                            .tv_nsec = (long)(wait_us % US_PER_S) * 1000L};
    int ready = ppoll(&watch, 1, &wait, NULL);
    if (ready < 0)
        return errno == EINTR ? 0 : -1;
    if (ready > 0 && (watch.revents & POLLNVAL)) {
        errno = EBADF;
        return -1;
    }
    return ready > 0;
}

static int send_request(struct rtu_link *link, const uint8_t *adu, size_t length)
{
    uint64_t deadline_us = now_us() + link->timeout_us;
    size_t sent = 0;
    while (sent < length) {
        ssize_t wrote = write(link->fd, adu + sent, length - sent);
        if (wrote > 0) {
            sent += (size_t)wrote;
            continue;
        }
        if (wrote == 0)
            errno = EIO;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        uint64_t now = now_us();
        if (now >= deadline_us) {
            errno = ETIMEDOUT; /* the tty took nothing for a whole timeout: a stuck line */
            return -1;
        }
        if (wait_for(link->fd, POLLOUT, deadline_us - now) < 0)
            return -1;
    }
    return 0;
}

/* The reply being read: the bytes so far, and when the last of them came. */
struct reply_rx {
    uint8_t bytes[RX_SIZE];
    size_t length;
    uint64_t last_byte_us;
    bool slept; /* for the rest of the frame begun, since the last bytes came */
};

/* Reads up to want bytes (what is there). >0 read, 0 nothing there, -1 with errno. */
static ssize_t read_more(struct rtu_link *link, struct reply_rx *rx, size_t want)
{
    if (rx->length == sizeof rx->bytes) { /* noise only: keep the newest half */
        memmove(rx->bytes, rx->bytes + RTU_LINK_ADU_MAX, rx->length - RTU_LINK_ADU_MAX);
        rx->length -= RTU_LINK_ADU_MAX;
        link->noise_bytes += RTU_LINK_ADU_MAX;
    }
    size_t room = sizeof rx->bytes - rx->length;
    ssize_t got = read(link->fd, rx->bytes + rx->length, want < room ? want : room);
    if (got > 0) {
        rx->length += (size_t)got;
        rx->last_byte_us = now_us();
        rx->slept = false;
        return got;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return got;
}

/* Takes what one parse found: late frames and noise counted, consumed bytes dropped. */
static void take_scan(struct rtu_link *link, struct reply_rx *rx, const struct rtu_link_scan *scan)
{
    if (scan->late_frames > 0) {
        link->late_replies += scan->late_frames;
        link->late_address = scan->late_address;
        log_debug("rtu line: dropped %u frame(s) of another slave or request (the last from "
                  "address %u) while waiting for a reply",
                  scan->late_frames, scan->late_address);
    }
    link->noise_bytes += scan->noise_bytes;
    memmove(rx->bytes, rx->bytes + scan->consumed, rx->length - scan->consumed);
    rx->length -= scan->consumed;
}

/*
 * Waits for the reply of slave to function: once for its first bytes, then,
 * while a frame is begun, the rest of its wire time before reading again.
 */
static int receive_reply(struct rtu_link *link, uint8_t slave, uint8_t function,
                         size_t expected_length, uint8_t *reply, size_t reply_size)
{
    struct reply_rx rx = {.length = 0};
    uint64_t deadline_us = now_us() + link->timeout_us;
    /* The longest frame begun just before the deadline, and no later: a babbling line ends it. */
    uint64_t last_us = deadline_us + (uint64_t)RTU_LINK_ADU_MAX * link->char_us + link->straggle_us;
    bool bad_crc = false;
    for (;;) {
        struct rtu_link_scan scan;
        int found = rtu_link_parse(rx.bytes, rx.length, slave, function, expected_length, &scan);
        bad_crc |= scan.bad_crc;
        if (found) {
            size_t length = scan.pdu_length < reply_size ? scan.pdu_length : reply_size;
            memcpy(reply, scan.pdu, length);
            take_scan(link, &rx, &scan);
            return (int)length;
        }
        take_scan(link, &rx, &scan);
        /* A frame begun before the deadline may end after it; a garbled reply ends the wait. */
        uint64_t until_us = deadline_us;
        if (rx.length > 0 && rx.last_byte_us + link->straggle_us > until_us)
            until_us = rx.last_byte_us + link->straggle_us;
        if (bad_crc)
            until_us = rx.length > 0 ? rx.last_byte_us + link->straggle_us : 0;
        if (until_us > last_us)
            until_us = last_us;
        uint64_t now = now_us();
        if (now >= until_us) {
            errno = bad_crc ? EMBBADCRC : ETIMEDOUT;
            return -1;
        }
        ssize_t got;
        if (scan.missing > 0 && !rx.slept) {
            /* The rest is on the wire at a known rate: one sleep, then one read takes it. */
            uint64_t rest_us = (uint64_t)scan.missing * link->char_us;
            sleep_us(rest_us < until_us - now ? rest_us : until_us - now);
            rx.slept = true;
            got = read_more(link, &rx, scan.missing);
        } else {
            int ready = wait_for(link->fd, POLLIN, until_us - now);
            if (ready <= 0) {
                if (ready < 0)
                    return -1;
                continue;
            }
            got = read_more(link, &rx, scan.missing > 0 ? scan.missing : expected_length);
            if (got == 0) { /* readable but empty: hung up (a USB adapter unplugged) */
                errno = ECONNRESET;
                return -1;
            }
        }
        if (got < 0)
            return -1;
    }
}

int rtu_link_transact(struct rtu_link *link, uint8_t slave, const uint8_t *request,
                      size_t request_length, uint8_t *reply, size_t reply_size)
{
    if (link->fd < 0) {
        errno = ENOTCONN;
        return -1;
    }
    size_t expected_length = rtu_link_reply_length(request, request_length);
    if (expected_length == 0 || request_length + 3 > RTU_LINK_ADU_MAX) {
        errno = EMBMDATA;
        return -1;
    }
    uint8_t adu[RTU_LINK_ADU_MAX];
    adu[0] = slave;
    memcpy(adu + 1, request, request_length);
    uint16_t crc = rtu_link_crc16(adu, request_length + 1);
    adu[request_length + 1] = (uint8_t)(crc & 0xff);
    adu[request_length + 2] = (uint8_t)(crc >> 8);
    if (send_request(link, adu, request_length + 3) != 0)
        return -1;
    if (slave == 0)
        return 0; /* a broadcast: nobody answers */
    return receive_reply(link, slave, request[0], expected_length, reply, reply_size);
}

static int transact(void *link, uint8_t slave, const uint8_t *request, size_t request_length,
                    uint8_t *reply, size_t reply_size)
{
    return rtu_link_transact(link, slave, request, request_length, reply, reply_size);
}

int rtu_link_read(struct rtu_link *link, uint8_t slave, enum point_table table, uint16_t address,
                  uint16_t count, uint16_t *out)
{
    return modbus_pdu_read(transact, link, slave, table, address, count, out);
}

int rtu_link_write(struct rtu_link *link, uint8_t slave, enum point_table table, uint16_t address,
                   uint16_t count, uint16_t value)
{
    return modbus_pdu_write(transact, link, slave, table, address, count, value);
}
