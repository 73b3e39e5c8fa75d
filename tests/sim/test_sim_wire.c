/*
 * test_sim_wire.c — the pure parts of the RTU line: CRC, where a request
 * frame ends, and how long a transaction holds the wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim_rtu.h"
#include "sim_wire.h"

static struct bus_def bus(uint32_t baud, char parity, uint8_t stop_bits)
{
    struct bus_def def = {.baud = baud, .parity = parity, .data_bits = 8, .stop_bits = stop_bits};
    return def;
}

static void test_crc_matches_the_spec_example(void **state)
{
    (void)state;
    /* Read holding registers of slave 1, address 0, count 1: 01 03 00 00 00 01 84 0A */
    const uint8_t request[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x01};
    uint16_t crc = sim_rtu_crc16(request, sizeof request);
    assert_int_equal(crc & 0xff, 0x84);
    assert_int_equal(crc >> 8, 0x0a);
}

static void test_fixed_length_requests_are_eight_bytes(void **state)
{
    (void)state;
    for (uint8_t function = 1; function <= 6; function++) {
        const uint8_t frame[] = {7, function};
        assert_int_equal(sim_rtu_request_length(frame, sizeof frame), 8);
    }
}

static void test_write_multiple_length_comes_from_its_byte_count(void **state)
{
    (void)state;
    const uint8_t frame[] = {7, 0x10, 0, 4, 0, 2, 4};
    assert_int_equal(sim_rtu_request_length(frame, 6), 0); /* byte count not yet here */
    assert_int_equal(sim_rtu_request_length(frame, sizeof frame), 9 + 4);
}

static void test_unknown_function_ends_at_silence(void **state)
{
    (void)state;
    const uint8_t frame[] = {7, 0x2b};
    assert_int_equal(sim_rtu_request_length(frame, sizeof frame), -1);
    assert_int_equal(sim_rtu_request_length(frame, 1), 0);
}

static void test_9600_8n1_read_of_8_registers_takes_47_5_ms(void **state)
{
    (void)state;
    struct bus_def def = bus(9600, 'N', 1);
    struct sim_wire wire;
    sim_wire_init(&wire, &def, 10);
    /* 29 chars x 10 bits / 9600 + 2 x 3.5 chars + 10 ms */
    uint64_t expected_ns = 29ULL * 1041666 + 2 * (1041666ULL * 7 / 2) + 10000000ULL;
    assert_int_equal(sim_wire_transaction_ns(&wire, 8, 21) / 1000, expected_ns / 1000);
}

static void test_8e1_char_is_eleven_bits(void **state)
{
    (void)state;
    struct bus_def def = bus(9600, 'E', 1);
    struct sim_wire wire;
    sim_wire_init(&wire, &def, 0);
    assert_int_equal(wire.char_ns, 11ULL * 1000000000ULL / 9600);
}

static void test_t35_is_fixed_above_19200_baud(void **state)
{
    (void)state;
    struct bus_def fast = bus(38400, 'N', 1), slow = bus(19200, 'N', 2);
    struct sim_wire wire;
    sim_wire_init(&wire, &fast, 0);
    assert_int_equal(wire.t35_ns, 1750000);
    sim_wire_init(&wire, &slow, 0);
    assert_int_equal(wire.t35_ns, 11ULL * 1000000000ULL / 19200 * 7 / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_matches_the_spec_example),
        cmocka_unit_test(test_fixed_length_requests_are_eight_bytes),
        cmocka_unit_test(test_write_multiple_length_comes_from_its_byte_count),
        cmocka_unit_test(test_unknown_function_ends_at_silence),
        cmocka_unit_test(test_9600_8n1_read_of_8_registers_takes_47_5_ms),
        cmocka_unit_test(test_8e1_char_is_eleven_bits),
        cmocka_unit_test(test_t35_is_fixed_above_19200_baud),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
