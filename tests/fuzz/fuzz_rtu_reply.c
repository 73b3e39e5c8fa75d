/*
 * fuzz_rtu_reply.c — the daemon's own reading of Modbus RTU replies
 * (gateway/rtu_link.c: rtu_link_parse), on whatever a line may carry: noise,
 * other slaves' frames, garbled and cut frames, in any chunks.
 *
 * Input: [0] the slave polled (1..247), [1] the request: its low 2 bits the
 * function (FC01..FC04), the rest the count; [2] the chunk size (1..64); the
 * rest the bytes on the line, handed over chunk by chunk as the link's
 * receive does: append, parse, drop what the parse consumed.
 *
 * Checked: consumed never exceeds what was read; a reply found lies whole in
 * the bytes, from slave, with the request's function (or its exception) and
 * a good CRC, and modbus_pdu_read_reply takes it or refuses it with an errno;
 * frames counted late and noise lie within what was consumed; a parse that
 * finds nothing and consumes nothing leaves a frame begun (missing > 0) or
 * nothing at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modbus_pdu.h"
#include "rtu_link.h"

#define RX_SIZE (2 * RTU_LINK_ADU_MAX)

static void check(int condition)
{
    if (!condition)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t slave = (uint8_t)(1 + data[0] % 247);
    static const enum point_table tables[] = {TABLE_COIL, TABLE_DISCRETE, TABLE_HOLDING,
                                              TABLE_INPUT};
    enum point_table table = tables[data[1] & 3];
    uint16_t count = (uint16_t)(1 + (data[1] >> 2) % 16);
    size_t chunk = 1 + data[2] % 64;
    uint8_t request[MODBUS_PDU_MAX];
    size_t request_length = modbus_pdu_read_request(table, 0, count, request);
    check(request_length == 5);
    size_t expected = rtu_link_reply_length(request, request_length);
    check(expected >= 6 && expected <= RTU_LINK_ADU_MAX);

    uint8_t rx[RX_SIZE];
    size_t length = 0;
    for (size_t at = 3; at < size; at += chunk) {
        size_t take = size - at < chunk ? size - at : chunk;
        if (take > sizeof rx - length)
            take = sizeof rx - length;
        memcpy(rx + length, data + at, take);
        length += take;
        struct rtu_link_scan scan;
        int found = rtu_link_parse(rx, length, slave, request[0], expected, &scan);
        check(scan.consumed <= length);
        check(scan.noise_bytes <= scan.consumed);
        if (found) {
            check(scan.pdu > rx && scan.pdu + scan.pdu_length + 2 <= rx + scan.consumed);
            const uint8_t *frame = scan.pdu - 1;
            check(frame[0] == slave && (frame[1] & 0x7f) == request[0]);
            uint16_t crc = rtu_link_crc16(frame, scan.pdu_length + 1);
            check(frame[scan.pdu_length + 1] == (crc & 0xff) &&
                  frame[scan.pdu_length + 2] == crc >> 8);
            uint16_t registers[16];
            errno = 0;
            int got = modbus_pdu_read_reply(scan.pdu, scan.pdu_length, table, count, registers);
            check(got == count || (got == -1 && errno != 0));
            return 0;
        }
        check(scan.pdu == NULL);
        check(scan.consumed == length || scan.missing > 0);
        memmove(rx, rx + scan.consumed, length - scan.consumed);
        length -= scan.consumed;
        if (length == sizeof rx) /* as the link does: noise only, keep the newest half */
            length = 0;
    }
    return 0;
}
