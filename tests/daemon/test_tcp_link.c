/*
 * Modbus TCP framed by the gateway: a reply to a transaction nobody waits for
 * any more is dropped and counted, never taken for the awaited one; and the
 * PDUs of the reads and writes it makes, built and checked.
 */
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "modbus_pdu.h"
#include "tcp_link.h"

struct pair {
    int gateway; /* the link's end */
    int converter;
};

static struct pair socket_pair(void)
{
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    return (struct pair){fds[0], fds[1]};
}

/* A reply ADU of unit to transaction id, carrying pdu. */
static void converter_sends(struct pair *pair, uint16_t id, uint8_t unit, const uint8_t *pdu,
                            size_t length)
{
    uint8_t adu[300] = {(uint8_t)(id >> 8), (uint8_t)id, 0, 0, 0, (uint8_t)(length + 1), unit};
    memcpy(adu + 7, pdu, length);
    assert_int_equal(write(pair->converter, adu, 7 + length), (ssize_t)(7 + length));
}

static const uint8_t two_registers[] = {0x03, 0x04, 0x00, 0x2a, 0x01, 0x00};

static void test_a_reply_to_an_older_transaction_is_dropped_and_counted(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 200);
    static const uint8_t stale[] = {0x03, 0x04, 0xde, 0xad, 0xbe, 0xef};
    converter_sends(&pair, 0x7777, 5, stale, sizeof stale); /* a late reply of unit 5 */
    converter_sends(&pair, 1, 9, two_registers, sizeof two_registers);
    uint16_t registers[2];
    assert_int_equal(tcp_link_read(&link, 9, TABLE_HOLDING, 0, 2, registers), 2);
    assert_int_equal(registers[0], 42);
    assert_int_equal(registers[1], 256);
    assert_int_equal(link.late_replies, 1);
    assert_int_equal(link.late_unit, 5);
    close(pair.gateway);
    close(pair.converter);
}

static void test_the_request_goes_out_with_a_new_transaction_id(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 200);
    converter_sends(&pair, 1, 9, two_registers, sizeof two_registers);
    converter_sends(&pair, 2, 9, two_registers, sizeof two_registers);
    uint16_t registers[2];
    assert_int_equal(tcp_link_read(&link, 9, TABLE_HOLDING, 0x10, 2, registers), 2);
    assert_int_equal(tcp_link_read(&link, 9, TABLE_HOLDING, 0x10, 2, registers), 2);
    uint8_t sent[24];
    assert_int_equal(read(pair.converter, sent, sizeof sent), 24);
    static const uint8_t first[] = {0, 1, 0, 0, 0, 6, 9, 0x03, 0x00, 0x10, 0x00, 0x02};
    assert_memory_equal(sent, first, sizeof first);
    assert_int_equal(sent[12 + 1], 2); /* the second request's transaction id */
    close(pair.gateway);
    close(pair.converter);
}

static void test_only_late_replies_before_the_timeout_is_a_timeout(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 50);
    converter_sends(&pair, 0x0100, 3, two_registers, sizeof two_registers);
    uint16_t registers[2];
    assert_int_equal(tcp_link_read(&link, 9, TABLE_HOLDING, 0, 2, registers), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(link.late_replies, 1);
    close(pair.gateway);
    close(pair.converter);
}

static void test_a_closed_connection_is_a_lost_link(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 200);
    shutdown(pair.converter, SHUT_WR);
    uint16_t registers[2];
    assert_int_equal(tcp_link_read(&link, 9, TABLE_HOLDING, 0, 2, registers), -1);
    assert_int_equal(errno, ECONNRESET);
    close(pair.gateway);
    close(pair.converter);
}

static void test_bytes_that_are_not_modbus_tcp_break_the_link(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 200);
    static const char garbage[] = "HTTP/1.1 400 Bad Request\r\n";
    assert_int_equal(write(pair.converter, garbage, sizeof garbage - 1), sizeof garbage - 1);
    uint16_t registers[2];
    assert_int_equal(tcp_link_read(&link, 9, TABLE_HOLDING, 0, 2, registers), -1);
    assert_int_equal(errno, EPROTO);
    close(pair.gateway);
    close(pair.converter);
}

static void test_an_exception_reply_is_its_code(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 200);
    static const uint8_t gateway_target[] = {0x84, 0x0b};
    converter_sends(&pair, 1, 9, gateway_target, sizeof gateway_target);
    uint16_t registers[2];
    assert_int_equal(tcp_link_read(&link, 9, TABLE_INPUT, 0, 2, registers), -1);
    assert_int_equal(errno, EMBXGTAR);
    close(pair.gateway);
    close(pair.converter);
}

static void test_keepalive_and_user_timeout_are_set_on_a_tcp_socket(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(tcp_link_set_keepalive(fd, 10000), 0);
    int on = 0;
    socklen_t size = sizeof on;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &size), 0);
    assert_int_equal(on, 1);
    close(fd);
}

static void test_read_reply_unpacks_coils_lowest_bit_first(void **state)
{
    (void)state;
    static const uint8_t reply[] = {0x01, 0x02, 0x05, 0x01};
    uint16_t bits[10];
    assert_int_equal(modbus_pdu_read_reply(reply, sizeof reply, TABLE_COIL, 10, bits), 10);
    static const uint16_t expected[] = {1, 0, 1, 0, 0, 0, 0, 0, 1, 0};
    assert_memory_equal(bits, expected, sizeof expected);
}

static void test_read_reply_of_the_wrong_length_is_bad_data(void **state)
{
    (void)state;
    static const uint8_t reply[] = {0x03, 0x02, 0x00, 0x01};
    uint16_t registers[2];
    assert_int_equal(modbus_pdu_read_reply(reply, sizeof reply, TABLE_HOLDING, 2, registers), -1);
    assert_int_equal(errno, EMBBADDATA);
}

static void test_writes_use_single_functions_for_one_and_multiple_for_more(void **state)
{
    (void)state;
    uint8_t pdu[MODBUS_PDU_MAX];
    assert_int_equal(modbus_pdu_write_request(TABLE_COIL, 3, 1, 1, pdu), 5);
    static const uint8_t one_coil[] = {0x05, 0x00, 0x03, 0xff, 0x00};
    assert_memory_equal(pdu, one_coil, sizeof one_coil);
    assert_int_equal(modbus_pdu_write_request(TABLE_COIL, 0, 10, 1, pdu), 8);
    static const uint8_t ten_coils[] = {0x0f, 0x00, 0x00, 0x00, 0x0a, 0x02, 0xff, 0x03};
    assert_memory_equal(pdu, ten_coils, sizeof ten_coils);
    assert_int_equal(modbus_pdu_write_request(TABLE_HOLDING, 0x20, 2, 480, pdu), 10);
    static const uint8_t two_registers_written[] = {0x10, 0x00, 0x20, 0x00, 0x02,
                                                    0x04, 0x01, 0xe0, 0x01, 0xe0};
    assert_memory_equal(pdu, two_registers_written, sizeof two_registers_written);
    assert_int_equal(modbus_pdu_write_request(TABLE_COIL, 0, 1969, 1, pdu), 0);
}

static void test_a_write_reply_must_echo_the_request(void **state)
{
    (void)state;
    uint8_t request[MODBUS_PDU_MAX];
    modbus_pdu_write_request(TABLE_HOLDING, 0x20, 2, 480, request);
    static const uint8_t echo[] = {0x10, 0x00, 0x20, 0x00, 0x02};
    assert_int_equal(modbus_pdu_write_reply(echo, sizeof echo, request), 0);
    static const uint8_t other[] = {0x10, 0x00, 0x21, 0x00, 0x02};
    assert_int_equal(modbus_pdu_write_reply(other, sizeof other, request), -1);
    static const uint8_t refused[] = {0x90, 0x02};
    assert_int_equal(modbus_pdu_write_reply(refused, sizeof refused, request), -1);
    assert_int_equal(errno, EMBXILADD);
}

/* The reactor's halves: nothing waits; a reply split in two is taken once whole. */
static void test_receive_without_a_whole_reply_says_not_yet(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 200);
    static const uint8_t request[] = {0x03, 0x00, 0x00, 0x00, 0x02};
    assert_int_equal(tcp_link_send(&link, 9, request, sizeof request), 0);
    uint8_t reply[MODBUS_PDU_MAX];
    assert_int_equal(tcp_link_receive(&link, reply, sizeof reply), -1);
    assert_int_equal(errno, EAGAIN);
    uint8_t adu[13] = {0, 1, 0, 0, 0, 7, 9};
    memcpy(adu + 7, two_registers, sizeof two_registers);
    assert_int_equal(write(pair.converter, adu, 5), 5);
    assert_int_equal(tcp_link_receive(&link, reply, sizeof reply), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(write(pair.converter, adu + 5, 8), 8);
    assert_int_equal(tcp_link_receive(&link, reply, sizeof reply), (int)sizeof two_registers);
    assert_memory_equal(reply, two_registers, sizeof two_registers);
    close(pair.gateway);
    close(pair.converter);
}

/* After a timeout the awaited reply is late when it comes: counted, never taken. */
static void test_an_abandoned_transaction_s_reply_is_late(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 200);
    static const uint8_t request[] = {0x03, 0x00, 0x00, 0x00, 0x02};
    assert_int_equal(tcp_link_send(&link, 9, request, sizeof request), 0);
    tcp_link_abandon(&link);
    converter_sends(&pair, 1, 9, two_registers, sizeof two_registers);
    uint8_t reply[MODBUS_PDU_MAX];
    assert_int_equal(tcp_link_receive(&link, reply, sizeof reply), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(link.late_replies, 1);
    assert_int_equal(link.late_unit, 9);
    close(pair.gateway);
    close(pair.converter);
}

static void test_receive_on_a_closed_connection_is_a_lost_link(void **state)
{
    (void)state;
    struct pair pair = socket_pair();
    struct tcp_link link;
    tcp_link_open(&link, pair.gateway, 200);
    close(pair.converter);
    uint8_t reply[MODBUS_PDU_MAX];
    assert_int_equal(tcp_link_receive(&link, reply, sizeof reply), -1);
    assert_int_equal(errno, ECONNRESET);
    close(pair.gateway);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_reply_to_an_older_transaction_is_dropped_and_counted),
        cmocka_unit_test(test_the_request_goes_out_with_a_new_transaction_id),
        cmocka_unit_test(test_only_late_replies_before_the_timeout_is_a_timeout),
        cmocka_unit_test(test_a_closed_connection_is_a_lost_link),
        cmocka_unit_test(test_bytes_that_are_not_modbus_tcp_break_the_link),
        cmocka_unit_test(test_an_exception_reply_is_its_code),
        cmocka_unit_test(test_keepalive_and_user_timeout_are_set_on_a_tcp_socket),
        cmocka_unit_test(test_read_reply_unpacks_coils_lowest_bit_first),
        cmocka_unit_test(test_read_reply_of_the_wrong_length_is_bad_data),
        cmocka_unit_test(test_writes_use_single_functions_for_one_and_multiple_for_more),
        cmocka_unit_test(test_a_write_reply_must_echo_the_request),
        cmocka_unit_test(test_receive_without_a_whole_reply_says_not_yet),
        cmocka_unit_test(test_an_abandoned_transaction_s_reply_is_late),
        cmocka_unit_test(test_receive_on_a_closed_connection_is_a_lost_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
