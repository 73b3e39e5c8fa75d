/*
 * Modbus RTU framed by the gateway, over a pseudo-terminal pair (the gateway
 * holds the slave side as it holds a tty, the test plays the line): a reply
 * is read whole, in chunks, as an exception; a bad CRC, a silent line, a
 * late reply of another slave and noise before the reply are each told apart,
 * and none of them leaves anything for the next request to trip on. Each
 * transaction is driven as the reactor drives it: a wait on the tty or the
 * clock, as the link asks, between its steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <modbus.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "device_poll.h"
#include "modbus_pdu.h"
#include "rtu_link.h"
#include "rtu_silence.h"
#include "timeutil.h"

struct line {
    int gateway; /* the tty end the link reads and writes */
    int device;  /* the pty master: what the slaves on the line say */
    struct rtu_link link;
};

static const struct bus_def line_9600 = {.type = BUS_RTU,
                                         .baud = 9600,
                                         .parity = 'N',
                                         .data_bits = 8,
                                         .stop_bits = 1,
                                         .timeout_ms = 200};

static void open_line(struct line *line)
{
    line->device = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(line->device >= 0);
    assert_int_equal(grantpt(line->device), 0);
    assert_int_equal(unlockpt(line->device), 0);
    line->gateway = open(ptsname(line->device), O_RDWR | O_NOCTTY | O_NONBLOCK);
    assert_true(line->gateway >= 0);
    struct termios raw; /* as libmodbus sets a tty up: raw, VMIN 0, VTIME 0 */
    assert_int_equal(tcgetattr(line->gateway, &raw), 0);
    cfmakeraw(&raw);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    assert_int_equal(tcsetattr(line->gateway, TCSANOW, &raw), 0);
    rtu_link_init(&line->link, &line_9600);
    line->link.fd = line->gateway;
}

static void close_line(struct line *line)
{
    close(line->gateway);
    close(line->device);
}

/* A frame of address: function and data, then its CRC. Returns its length. */
static size_t frame(uint8_t *out, uint8_t address, const uint8_t *pdu, size_t pdu_length)
{
    out[0] = address;
    memcpy(out + 1, pdu, pdu_length);
    uint16_t crc = rtu_link_crc16(out, pdu_length + 1);
    out[pdu_length + 1] = (uint8_t)(crc & 0xff);
    out[pdu_length + 2] = (uint8_t)(crc >> 8);
    return pdu_length + 3;
}

static void device_says(struct line *line, const uint8_t *bytes, size_t length)
{
    assert_int_equal(write(line->device, bytes, length), (ssize_t)length);
}

/* FC03 reply of two registers: 42 and 256. */
static const uint8_t two_registers[] = {0x03, 0x04, 0x00, 0x2a, 0x01, 0x00};

static void say_two_registers(struct line *line, uint8_t address)
{
    uint8_t reply[16];
    device_says(line, reply, frame(reply, address, two_registers, sizeof two_registers));
}

/* One transaction, each step after the wait the link asked for. */
static int transact(void *context, uint8_t slave, const uint8_t *request, size_t request_length,
                    uint8_t *reply, size_t reply_size)
{
    struct rtu_link *link = context;
    if (rtu_link_send(link, slave, request, request_length) != 0)
        return -1;
    bool readable = false;
    for (;;) {
        int length = rtu_link_receive(link, readable, reply, reply_size);
        if (length >= 0 || errno != EAGAIN)
            return length;
        uint64_t now_us = time_monotonic_us();
        uint64_t wait_us = link->wait_until_us > now_us ? link->wait_until_us - now_us : 0;
        struct timespec wait = {.tv_sec = (time_t)(wait_us / 1000000u),
                                .tv_nsec = (long)(wait_us % 1000000u) * 1000L};
        struct pollfd tty = {.fd = link->fd, .events = POLLIN};
        readable = ppoll(&tty, link->wait_readable ? 1 : 0, &wait, NULL) > 0;
    }
}

static int line_read(struct rtu_link *link, uint8_t slave, enum point_table table, uint16_t address,
                     uint16_t count, uint16_t *out)
{
    return modbus_pdu_read(transact, link, slave, table, address, count, out);
}

static int line_write(struct rtu_link *link, uint8_t slave, enum point_table table,
                      uint16_t address, uint16_t count, uint16_t value)
{
    return modbus_pdu_write(transact, link, slave, table, address, count, value);
}

/* What the gateway sent, as the line (the device side) reads it. */
static size_t line_carries(struct line *line, uint8_t *out, size_t size)
{
    usleep(2000);
    ssize_t got = read(line->device, out, size);
    return got > 0 ? (size_t)got : 0;
}

static void test_a_reply_is_read_whole_after_the_request_goes_out_with_its_crc(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    say_two_registers(&line, 9); /* waiting on the pty before the request: read just the same */
    uint16_t registers[2];
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0x10, 2, registers), 2);
    assert_int_equal(registers[0], 42);
    assert_int_equal(registers[1], 256);
    uint8_t sent[16];
    static const uint8_t request[] = {0x09, 0x03, 0x00, 0x10, 0x00, 0x02};
    uint8_t expected[8];
    frame(expected, 9, request + 1, sizeof request - 1);
    assert_int_equal(line_carries(&line, sent, sizeof sent), 8);
    assert_memory_equal(sent, expected, 8);
    assert_int_equal(line.link.late_replies, 0);
    close_line(&line);
}

static void test_crc16_is_the_modbus_one(void **state)
{
    (void)state;
    /* Modbus over Serial Line v1.02, §6.2.2 example frame 02 07: CRC 0x1241, sent 41 12 */
    static const uint8_t read_exception_status[] = {0x02, 0x07};
    assert_int_equal(rtu_link_crc16(read_exception_status, 2), 0x1241);
}

static void test_the_reply_length_follows_from_the_request(void **state)
{
    (void)state;
    static const uint8_t read_10_coils[] = {0x01, 0x00, 0x00, 0x00, 0x0a};
    static const uint8_t read_8_registers[] = {0x03, 0x00, 0x00, 0x00, 0x08};
    static const uint8_t write_coil[] = {0x05, 0x00, 0x01, 0xff, 0x00};
    static const uint8_t unknown[] = {0x2b, 0x0e, 0x01, 0x00, 0x00};
    assert_int_equal(rtu_link_reply_length(read_10_coils, 5), 3 + 2 + 2);
    assert_int_equal(rtu_link_reply_length(read_8_registers, 5), 3 + 16 + 2);
    assert_int_equal(rtu_link_reply_length(write_coil, 5), 8);
    assert_int_equal(rtu_link_reply_length(unknown, 5), 0);
}

struct chunks {
    int fd;
    uint8_t bytes[32];
    size_t length;
    size_t chunk;
    useconds_t pause_us;
};

static void *say_in_chunks(void *argument)
{
    struct chunks *chunks = argument;
    usleep(5000); /* after the request */
    for (size_t at = 0; at < chunks->length; at += chunks->chunk) {
        size_t length = chunks->length - at < chunks->chunk ? chunks->length - at : chunks->chunk;
        if (write(chunks->fd, chunks->bytes + at, length) != (ssize_t)length)
            abort();
        usleep(chunks->pause_us);
    }
    return NULL;
}

static void test_a_reply_in_chunks_is_put_together(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    /* a USB adapter: 3 bytes now, 3 bytes 8 ms later... well within the straggle allowance */
    struct chunks chunks = {.fd = line.device, .chunk = 3, .pause_us = 8000};
    chunks.length = frame(chunks.bytes, 9, two_registers, sizeof two_registers);
    pthread_t device;
    assert_int_equal(pthread_create(&device, NULL, say_in_chunks, &chunks), 0);
    uint16_t registers[2];
    int count = line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers);
    pthread_join(device, NULL);
    assert_int_equal(count, 2);
    assert_int_equal(registers[0], 42);
    assert_int_equal(registers[1], 256);
    close_line(&line);
}

static void test_a_reply_byte_by_byte_at_the_line_rate_is_read(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    struct chunks chunks = {.fd = line.device, .chunk = 1, .pause_us = 1042}; /* 9600 8N1 */
    chunks.length = frame(chunks.bytes, 9, two_registers, sizeof two_registers);
    pthread_t device;
    assert_int_equal(pthread_create(&device, NULL, say_in_chunks, &chunks), 0);
    uint16_t registers[2];
    int count = line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers);
    pthread_join(device, NULL);
    assert_int_equal(count, 2);
    assert_int_equal(registers[1], 256);
    close_line(&line);
}

static void test_an_exception_reply_gives_its_code_as_libmodbus_does(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    static const uint8_t illegal_address[] = {0x83, 0x02};
    uint8_t reply[8];
    device_says(&line, reply, frame(reply, 9, illegal_address, sizeof illegal_address));
    uint16_t registers[8];
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 8, registers), -1);
    assert_int_equal(errno, EMBXILADD);
    close_line(&line);
}

static void test_a_reply_with_a_bad_crc_fails_as_a_crc_error_at_once(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    uint8_t reply[16];
    size_t length = frame(reply, 9, two_registers, sizeof two_registers);
    reply[length - 1] ^= 0x55;
    device_says(&line, reply, length);
    uint16_t registers[2];
    uint64_t started_us = time_monotonic_us();
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers), -1);
    assert_int_equal(errno, EMBBADCRC);
    assert_true(time_monotonic_us() - started_us < 100000); /* not the whole 200 ms timeout */
    close_line(&line);
}

static void test_a_silent_line_times_out_after_the_response_timeout(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    uint16_t registers[2];
    uint64_t started_us = time_monotonic_us();
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers), -1);
    assert_int_equal(errno, ETIMEDOUT);
    uint64_t waited_us = time_monotonic_us() - started_us;
    assert_true(waited_us >= 200000);
    assert_true(waited_us < 400000);
    close_line(&line);
}

struct babble {
    int fd;
    useconds_t for_us;
};

/* Noise that keeps looking like the start of a long reply of slave 9. */
static void *babble(void *argument)
{
    struct babble *babble = argument;
    static const uint8_t noise[] = {0x09, 0x03, 0xfa};
    for (useconds_t spent = 0; spent < babble->for_us; spent += 2000) {
        if (write(babble->fd, noise, sizeof noise) != (ssize_t)sizeof noise)
            abort();
        usleep(2000);
    }
    return NULL;
}

static void test_a_babbling_line_cannot_hold_a_request_past_its_timeout(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    struct babble noise = {.fd = line.device, .for_us = 900000};
    pthread_t device;
    assert_int_equal(pthread_create(&device, NULL, babble, &noise), 0);
    uint16_t registers[2];
    uint64_t started_us = time_monotonic_us();
    int count = line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers);
    int error_number = errno;
    uint64_t waited_us = time_monotonic_us() - started_us;
    pthread_join(device, NULL);
    assert_int_equal(count, -1);
    assert_true(error_number == ETIMEDOUT || error_number == EMBBADCRC); /* noise, garbled */
    /* the 200 ms timeout, then at most a longest frame (256 x 1042 us) and 20 ms */
    assert_true(waited_us < 200000 + 256 * 1042 + 20000 + 50000);
    close_line(&line);
}

static void test_a_late_reply_of_another_slave_is_counted_and_ours_still_read(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    static const uint8_t stale[] = {0x03, 0x04, 0xde, 0xad, 0xbe, 0xef};
    uint8_t late[16];
    device_says(&line, late, frame(late, 5, stale, sizeof stale));
    say_two_registers(&line, 9);
    uint16_t registers[2];
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers), 2);
    assert_int_equal(registers[0], 42);
    assert_int_equal(line.link.late_replies, 1);
    assert_int_equal(line.link.late_address, 5);
    close_line(&line);
}

static void test_only_a_late_reply_of_another_slave_is_a_timeout_for_ours(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    uint8_t late[16];
    device_says(&line, late, frame(late, 5, two_registers, sizeof two_registers));
    uint16_t registers[2];
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(line.link.late_replies, 1);
    assert_int_equal(line.link.late_address, 5);
    close_line(&line);
}

static void test_noise_before_the_reply_is_dropped(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    /* noise that even looks like the start of a long reply of slave 9 */
    static const uint8_t noise[] = {0xff, 0x00, 0x09, 0x03, 0x40, 0x13};
    device_says(&line, noise, sizeof noise);
    say_two_registers(&line, 9);
    uint16_t registers[2];
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers), 2);
    assert_int_equal(registers[0], 42);
    assert_int_equal(registers[1], 256);
    assert_int_equal(line.link.late_replies, 0);
    assert_int_equal(line.link.noise_bytes, sizeof noise);
    close_line(&line);
}

static void test_after_a_garbled_reply_the_next_request_reads_its_own(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    uint8_t reply[16];
    size_t length = frame(reply, 9, two_registers, sizeof two_registers);
    reply[3] ^= 0x01;
    device_says(&line, reply, length);
    uint16_t registers[2];
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers), -1);
    assert_int_equal(errno, EMBBADCRC);
    say_two_registers(&line, 9);
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers), 2);
    assert_int_equal(registers[0], 42);
    close_line(&line);
}

static void test_a_write_is_answered_by_its_echo(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    static const uint8_t close_valve_echo[] = {0x05, 0x00, 0x00, 0xff, 0x00};
    uint8_t reply[16];
    device_says(&line, reply, frame(reply, 9, close_valve_echo, sizeof close_valve_echo));
    assert_int_equal(line_write(&line.link, 9, TABLE_COIL, 0, 1, 1), 0);
    /* a wrong echo is no success */
    device_says(&line, reply, frame(reply, 9, close_valve_echo, sizeof close_valve_echo));
    assert_int_equal(line_write(&line.link, 9, TABLE_COIL, 1, 1, 1), -1);
    assert_int_equal(errno, EMBBADDATA);
    close_line(&line);
}

static void test_a_closed_line_is_a_lost_link(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    close(line.device); /* the other end hangs up: the tty reads EIO */
    uint16_t registers[2];
    assert_int_equal(line_read(&line.link, 9, TABLE_HOLDING, 0, 2, registers), -1);
    assert_true(errno == EIO || errno == ECONNRESET);
    close(line.gateway);
}

static void test_the_pacing_of_an_rtu_bus_frames_on_its_tty_and_counts_late_frames(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    struct bus_pacing pacing;
    device_poll_pacing_init(&pacing, &line_9600);
    uint8_t read_one[] = {0x03, 0x00, 0x00, 0x00, 0x01};
    assert_int_equal(rtu_link_send(&pacing.rtu, 9, read_one, sizeof read_one), -1);
    assert_int_equal(errno, ENOTCONN); /* no tty open: a lost link, reopened by the bus */
    pacing.rtu.fd = line.gateway;
    uint8_t late[16];
    device_says(&line, late, frame(late, 5, two_registers, sizeof two_registers));
    say_two_registers(&line, 9);
    uint16_t registers[2];
    assert_int_equal(line_read(&pacing.rtu, 9, TABLE_HOLDING, 0, 2, registers), 2);
    device_poll_request_done(&pacing, REQUEST_ANSWERED, 9);
    assert_int_equal(pacing.late_replies, 1);
    assert_int_equal(pacing.late_address, 5);
    /* Unanswered, the request ended when its last byte left the wire: known, not waited for. */
    assert_int_equal(rtu_link_send(&pacing.rtu, 7, read_one, sizeof read_one), 0);
    device_poll_request_done(&pacing, REQUEST_UNANSWERED, 7);
    assert_true(pacing.last_request_end_us >= pacing.rtu.request_end_us);
    assert_int_equal(pacing.unanswered_address, 7);
    close_line(&line);
}

static void test_the_rest_of_a_reply_begun_is_read_after_its_wire_time(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    uint8_t read_two[] = {0x03, 0x00, 0x00, 0x00, 0x02};
    assert_int_equal(rtu_link_send(&line.link, 9, read_two, sizeof read_two), 0);
    uint8_t reply[MODBUS_PDU_MAX];
    assert_int_equal(rtu_link_receive(&line.link, false, reply, sizeof reply), -1);
    assert_int_equal(errno, EAGAIN); /* nothing yet: the tty is watched until the deadline */
    assert_true(line.link.wait_readable);
    assert_int_equal(line.link.wait_until_us, line.link.deadline_us);
    uint8_t whole[16];
    size_t length = frame(whole, 9, two_registers, sizeof two_registers);
    device_says(&line, whole, 3);
    struct pollfd tty = {.fd = line.gateway, .events = POLLIN};
    assert_int_equal(poll(&tty, 1, 1000), 1);
    uint64_t before_us = time_monotonic_us();
    assert_int_equal(rtu_link_receive(&line.link, true, reply, sizeof reply), -1);
    assert_int_equal(errno, EAGAIN); /* begun: the rest is on the wire, read after its time */
    assert_false(line.link.wait_readable);
    uint64_t rest_us = (uint64_t)(length - 3) * line.link.char_us;
    assert_true(line.link.wait_until_us >= before_us + rest_us);
    assert_true(line.link.wait_until_us <= time_monotonic_us() + rest_us);
    device_says(&line, whole + 3, length - 3);
    assert_int_equal(poll(&tty, 1, 1000), 1);
    while (time_monotonic_us() < line.link.wait_until_us) /* the time the link named */
        usleep(100);
    assert_int_equal(rtu_link_receive(&line.link, false, reply, sizeof reply),
                     (int)sizeof two_registers);
    assert_memory_equal(reply, two_registers, sizeof two_registers);
    close_line(&line);
}

static void test_the_parser_finds_ours_between_noise_and_late_frames(void **state)
{
    (void)state;
    uint8_t bytes[64];
    size_t length = 0;
    bytes[length++] = 0x00; /* noise */
    length += frame(bytes + length, 5, two_registers, sizeof two_registers);
    size_t ours_at = length;
    length += frame(bytes + length, 9, two_registers, sizeof two_registers);
    struct rtu_link_scan scan;
    assert_int_equal(rtu_link_parse(bytes, length, 9, 0x03, 9, &scan), 1);
    assert_ptr_equal(scan.pdu, bytes + ours_at + 1);
    assert_int_equal(scan.pdu_length, sizeof two_registers);
    assert_int_equal(scan.late_frames, 1);
    assert_int_equal(scan.late_address, 5);
    assert_int_equal(scan.noise_bytes, 1);
    assert_int_equal(scan.consumed, length);
    /* half of ours: nothing yet, the half kept, 4 bytes to come */
    assert_int_equal(rtu_link_parse(bytes + ours_at, 5, 9, 0x03, 9, &scan), 0);
    assert_int_equal(scan.consumed, 0);
    assert_int_equal(scan.missing, 4);
}

static void test_a_stuck_line_is_a_timeout_and_a_hang_up_meanwhile_a_lost_link(void **state)
{
    (void)state;
    struct line line;
    open_line(&line);
    uint8_t filler[64] = {0};
    while (write(line.gateway, filler, sizeof filler) > 0) { /* nobody reads the line */
    }
    uint8_t read_two[] = {0x03, 0x00, 0x00, 0x00, 0x02};
    assert_int_equal(rtu_link_send(&line.link, 9, read_two, sizeof read_two), 0);
    assert_true(line.link.unsent);
    assert_false(line.link.wait_readable); /* nothing can come: only the deadline */
    uint8_t reply[MODBUS_PDU_MAX];
    assert_int_equal(rtu_link_receive(&line.link, false, reply, sizeof reply), -1);
    assert_int_equal(errno, EAGAIN);
    while (time_monotonic_us() < line.link.deadline_us)
        usleep(1000);
    assert_int_equal(rtu_link_receive(&line.link, false, reply, sizeof reply), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(rtu_link_send(&line.link, 9, read_two, sizeof read_two), 0);
    close(line.device); /* the other end hangs up: the tty says so */
    assert_int_equal(rtu_link_receive(&line.link, true, reply, sizeof reply), -1);
    assert_int_equal(errno, ECONNRESET);
    close(line.gateway);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_is_the_modbus_one),
        cmocka_unit_test(test_the_reply_length_follows_from_the_request),
        cmocka_unit_test(test_a_reply_is_read_whole_after_the_request_goes_out_with_its_crc),
        cmocka_unit_test(test_a_reply_in_chunks_is_put_together),
        cmocka_unit_test(test_a_reply_byte_by_byte_at_the_line_rate_is_read),
        cmocka_unit_test(test_an_exception_reply_gives_its_code_as_libmodbus_does),
        cmocka_unit_test(test_a_reply_with_a_bad_crc_fails_as_a_crc_error_at_once),
        cmocka_unit_test(test_a_silent_line_times_out_after_the_response_timeout),
        cmocka_unit_test(test_a_babbling_line_cannot_hold_a_request_past_its_timeout),
        cmocka_unit_test(test_a_late_reply_of_another_slave_is_counted_and_ours_still_read),
        cmocka_unit_test(test_only_a_late_reply_of_another_slave_is_a_timeout_for_ours),
        cmocka_unit_test(test_noise_before_the_reply_is_dropped),
        cmocka_unit_test(test_after_a_garbled_reply_the_next_request_reads_its_own),
        cmocka_unit_test(test_a_write_is_answered_by_its_echo),
        cmocka_unit_test(test_a_closed_line_is_a_lost_link),
        cmocka_unit_test(test_the_parser_finds_ours_between_noise_and_late_frames),
        cmocka_unit_test(test_the_pacing_of_an_rtu_bus_frames_on_its_tty_and_counts_late_frames),
        cmocka_unit_test(test_the_rest_of_a_reply_begun_is_read_after_its_wire_time),
        cmocka_unit_test(test_a_stuck_line_is_a_timeout_and_a_hang_up_meanwhile_a_lost_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
