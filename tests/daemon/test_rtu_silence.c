/*
 * The RS-485 inter-frame silence: t3.5 from the line's settings, and the
 * wait before a request that drops (and reports) bytes arriving meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "device_poll.h"
#include "rtu_silence.h"
#include "timeutil.h"

static void test_t35_is_three_and_a_half_characters_up_to_19200_baud(void **state)
{
    (void)state;
    /* 9600 8N1: 10 bits a character, 1041.7 us; 3.5 of them 3645.8 us */
    assert_int_equal(rtu_char_us(9600, 'N', 8, 1), 1042);
    assert_int_equal(rtu_t35_us(9600, 'N', 8, 1), 3646);
    /* 9600 8E1: 11 bits, 4010.4 us */
    assert_int_equal(rtu_t35_us(9600, 'E', 8, 1), 4011);
    /* 19200 8E1: 2005.2 us */
    assert_int_equal(rtu_t35_us(19200, 'E', 8, 1), 2006);
    /* 1200 8N2: 11 bits, 32083.3 us */
    assert_int_equal(rtu_t35_us(1200, 'N', 8, 2), 32084);
}

static void test_t35_is_fixed_at_1750_us_above_19200_baud(void **state)
{
    (void)state;
    assert_int_equal(rtu_t35_us(38400, 'E', 8, 1), 1750);
    assert_int_equal(rtu_t35_us(115200, 'N', 8, 1), 1750);
}

static void test_pacing_of_an_rtu_bus_keeps_t35_and_of_a_tcp_bus_none(void **state)
{
    (void)state;
    struct bus_pacing pacing;
    struct bus_def rtu = {.type = BUS_RTU,
                          .baud = 9600,
                          .parity = 'N',
                          .data_bits = 8,
                          .stop_bits = 1,
                          .timeout_ms = 300,
                          .gap_ms = 5};
    device_poll_pacing_init(&pacing, &rtu);
    assert_int_equal(pacing.silence_us, 3646);
    assert_int_equal(pacing.gap_ms, 5);
    assert_int_equal(pacing.fd, -1);
    struct bus_def tcp = {.type = BUS_TCP, .timeout_ms = 500};
    device_poll_pacing_init(&pacing, &tcp);
    assert_int_equal(pacing.silence_us, 0);
}

static void test_silence_is_counted_from_the_end_of_the_last_frame(void **state)
{
    (void)state;
    struct rtu_stray stray = {.first_byte = -1};
    uint64_t last_frame_end_us = time_monotonic_us();
    rtu_silence_keep(-1, 20000, &last_frame_end_us, 0, &stray);
    assert_true(time_monotonic_us() >= last_frame_end_us + 20000);
    /* a frame that ended long ago asks for no more wait */
    last_frame_end_us = 1;
    uint64_t before_us = time_monotonic_us();
    rtu_silence_keep(-1, 20000, &last_frame_end_us, 0, &stray);
    assert_true(time_monotonic_us() - before_us < 20000);
    assert_int_equal(stray.bytes, 0);
}

static void test_bytes_that_arrive_while_silent_are_dropped_and_reported(void **state)
{
    (void)state;
    int line[2];
    assert_int_equal(pipe2(line, O_NONBLOCK), 0);
    static const unsigned char late_reply[] = {0x04, 0x03, 0x02, 0x00, 0x0b, 0xf4, 0x43};
    assert_int_equal(write(line[1], late_reply, sizeof late_reply), (ssize_t)sizeof late_reply);
    struct rtu_stray stray = {.first_byte = -1};
    uint64_t last_frame_end_us = 1;
    rtu_silence_keep(line[0], 3646, &last_frame_end_us, 0, &stray);
    assert_int_equal(stray.bytes, sizeof late_reply);
    assert_int_equal(stray.first_byte, 0x04);
    assert_false(stray.gave_up);
    /* the silence starts again at their arrival */
    assert_true(last_frame_end_us > 1);
    assert_true(time_monotonic_us() >= last_frame_end_us + 3646);
    unsigned char left;
    assert_int_equal(read(line[0], &left, 1), -1);
    close(line[0]);
    close(line[1]);
}

static void test_the_wait_before_a_request_counts_a_late_reply_on_its_address(void **state)
{
    (void)state;
    int line[2];
    assert_int_equal(pipe2(line, O_NONBLOCK), 0);
    struct bus_def rtu = {.type = BUS_RTU,
                          .baud = 19200,
                          .parity = 'E',
                          .data_bits = 8,
                          .stop_bits = 1,
                          .timeout_ms = 100};
    struct bus_pacing pacing;
    device_poll_pacing_init(&pacing, &rtu);
    pacing.fd = line[0];
    device_poll_request_done(&pacing, REQUEST_UNANSWERED, 7);
    static const unsigned char late_reply[] = {0x07, 0x03, 0x02, 0x00, 0x01, 0x00, 0x00};
    assert_int_equal(write(line[1], late_reply, sizeof late_reply), (ssize_t)sizeof late_reply);
    device_poll_wait_gap(&pacing);
    assert_int_equal(pacing.late_replies, 1);
    assert_int_equal(pacing.late_address, 7);
    close(line[0]);
    close(line[1]);
}

static void test_requests_end_answered_or_unanswered_by_their_error(void **state)
{
    (void)state;
    assert_int_equal(device_poll_request_end(ETIMEDOUT), REQUEST_UNANSWERED);
    assert_int_equal(device_poll_request_end(EMBBADCRC), REQUEST_ANSWERED);
    assert_int_equal(device_poll_request_end(EMBXILADD), REQUEST_ANSWERED);
    assert_int_equal(device_poll_request_end(EMBBADDATA), REQUEST_ANSWERED);
    assert_int_equal(device_poll_request_end(EMBBADSLAVE), REQUEST_ANSWERED);
    assert_int_equal(device_poll_request_end(EIO), REQUEST_UNANSWERED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t35_is_three_and_a_half_characters_up_to_19200_baud),
        cmocka_unit_test(test_t35_is_fixed_at_1750_us_above_19200_baud),
        cmocka_unit_test(test_pacing_of_an_rtu_bus_keeps_t35_and_of_a_tcp_bus_none),
        cmocka_unit_test(test_silence_is_counted_from_the_end_of_the_last_frame),
        cmocka_unit_test(test_bytes_that_arrive_while_silent_are_dropped_and_reported),
        cmocka_unit_test(test_the_wait_before_a_request_counts_a_late_reply_on_its_address),
        cmocka_unit_test(test_requests_end_answered_or_unanswered_by_their_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
