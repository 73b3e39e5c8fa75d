#include "rtu_link.h"

#include <errno.h>
#include <modbus.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "modbus_pdu.h"
#include "rtu_silence.h"
#include "timeutil.h"

#define ADDRESS_MAX 247 /* 0 is broadcast (never answered), 248..255 reserved (§2.2) */
#define EXCEPTION_BIT 0x80
#define EXCEPTION_LENGTH 5  /* address, function | 0x80, code, CRC */
#define WRITE_ECHO_LENGTH 8 /* address, function, address, value or quantity, CRC */
#define BYTE_COUNT_MAX 250  /* FC01..04 carry at most 2000 bits or 125 registers */

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

int rtu_link_send(struct rtu_link *link, uint8_t slave, const uint8_t *request,
                  size_t request_length)
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
    size_t adu_length = request_length + 3;
    adu[0] = slave;
    memcpy(adu + 1, request, request_length);
    uint16_t crc = rtu_link_crc16(adu, request_length + 1);
    adu[request_length + 1] = (uint8_t)(crc & 0xff);
    adu[request_length + 2] = (uint8_t)(crc >> 8);
    ssize_t wrote = write(link->fd, adu, adu_length);
    if (wrote < 0 && errno != EAGAIN && errno != EINTR)
        return -1;
    uint64_t now_us = time_monotonic_us();
    link->slave = slave;
    link->function = request[0];
    link->expected_length = expected_length;
    link->unsent = wrote != (ssize_t)adu_length;
    link->request_end_us = now_us + adu_length * link->char_us;
    link->deadline_us = now_us + link->timeout_us;
    /* The longest frame begun just before the deadline, and no later: a babbling line ends it. */
    link->last_us =
        link->deadline_us + (uint64_t)RTU_LINK_ADU_MAX * link->char_us + link->straggle_us;
    link->bad_crc = false;
    link->rx_length = 0;
    link->missing = 0;
    link->rested = false;
    link->wait_until_us = link->deadline_us;
    link->wait_readable = !link->unsent;
    return 0;
}

/*
 * Reads up to want bytes (what is there). >0 read, 0 nothing there, -1 with
 * errno. The tty returns at once with VMIN 0 and VTIME 0, an empty read
 * included: after the tty said it was readable, that is a hang-up.
 */
static ssize_t read_more(struct rtu_link *link, bool readable, size_t want)
{
    if (link->rx_length == sizeof link->rx) { /* noise only: keep the newest half */
        memmove(link->rx, link->rx + RTU_LINK_ADU_MAX, link->rx_length - RTU_LINK_ADU_MAX);
        link->rx_length -= RTU_LINK_ADU_MAX;
        link->noise_bytes += RTU_LINK_ADU_MAX;
    }
    size_t room = sizeof link->rx - link->rx_length;
    ssize_t got = read(link->fd, link->rx + link->rx_length, want < room ? want : room);
    if (got > 0) {
        link->rx_length += (size_t)got;
        link->last_byte_us = time_monotonic_us();
        link->rested = false;
        return got;
    }
    if (got == 0 && readable) { /* readable but empty: hung up (a USB adapter unplugged) */
        errno = ECONNRESET;
        return -1;
    }
    return got == 0 || errno == EAGAIN || errno == EINTR ? 0 : -1;
}

/* Takes what one parse found: late frames and noise counted, consumed bytes dropped. */
static void take_scan(struct rtu_link *link, const struct rtu_link_scan *scan)
{
    if (scan->late_frames > 0) {
        link->late_replies += scan->late_frames;
        link->late_address = scan->late_address;
        log_debug("rtu line: dropped %u frame(s) of another slave or request (the last from "
                  "address %u) while waiting for a reply",
                  scan->late_frames, scan->late_address);
    }
    link->noise_bytes += scan->noise_bytes;
    memmove(link->rx, link->rx + scan->consumed, link->rx_length - scan->consumed);
    link->rx_length -= scan->consumed;
    link->missing = scan->missing;
}

/* Until when the wait for the reply may go on, from what has come so far. */
static uint64_t wait_ends_us(const struct rtu_link *link)
{
    /* A frame begun before the deadline may end after it; a garbled reply ends the wait. */
    uint64_t until_us = link->deadline_us;
    if (link->rx_length > 0 && link->last_byte_us + link->straggle_us > until_us)
        until_us = link->last_byte_us + link->straggle_us;
    if (link->bad_crc)
        until_us = link->rx_length > 0 ? link->last_byte_us + link->straggle_us : 0;
    return until_us < link->last_us ? until_us : link->last_us;
}

/* Not yet: what to wait for before rtu_link_receive is called again. */
static int wait_more(struct rtu_link *link, uint64_t now_us, uint64_t until_us)
{
    link->wait_readable = link->missing == 0 || link->rested;
    link->wait_until_us = until_us;
    if (!link->wait_readable) { /* the rest is on the wire at a known rate: then one read */
        uint64_t rest_us = now_us + (uint64_t)link->missing * link->char_us;
        if (rest_us < until_us)
            link->wait_until_us = rest_us;
    }
    errno = EAGAIN;
    return -1;
}

int rtu_link_receive(struct rtu_link *link, bool readable, uint8_t *reply, size_t reply_size)
{
    if (link->slave == 0)
        return 0; /* a broadcast: nobody answers */
    uint64_t now_us = time_monotonic_us();
    if (link->unsent) { /* the tty took not all of the request: a stuck line, not watched */
        errno = readable ? ECONNRESET : now_us < link->deadline_us ? EAGAIN : ETIMEDOUT;
        return -1; /* readable: watched for nothing, the tty hung up */
    }
    if (!link->wait_readable && now_us >= link->wait_until_us)
        link->rested = true; /* else a hang-up came while the rest was on the wire */
    if (read_more(link, readable, link->missing > 0 ? link->missing : link->expected_length) < 0)
        return -1;
    struct rtu_link_scan scan;
    int found = rtu_link_parse(link->rx, link->rx_length, link->slave, link->function,
                               link->expected_length, &scan);
    link->bad_crc |= scan.bad_crc;
    if (found) {
        size_t length = scan.pdu_length < reply_size ? scan.pdu_length : reply_size;
        memcpy(reply, scan.pdu, length);
        take_scan(link, &scan);
        return (int)length;
    }
    take_scan(link, &scan);
    uint64_t until_us = wait_ends_us(link);
    if (time_monotonic_us() >= until_us) {
        errno = link->bad_crc ? EMBBADCRC : ETIMEDOUT;
        return -1;
    }
    return wait_more(link, now_us, until_us);
}
