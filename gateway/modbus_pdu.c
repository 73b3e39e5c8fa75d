#include "modbus_pdu.h"

#include <errno.h>
#include <modbus.h>
#include <stdbool.h>
#include <string.h>

#define EXCEPTION_BIT 0x80

static uint16_t u16_at(const uint8_t *bytes)
{
    return (uint16_t)(bytes[0] << 8 | bytes[1]);
}

static void put_u16(uint8_t *bytes, uint16_t value)
{
    bytes[0] = (uint8_t)(value >> 8);
    bytes[1] = (uint8_t)(value & 0xff);
}

static bool is_bits(enum point_table table)
{
    return table == TABLE_COIL || table == TABLE_DISCRETE;
}

/* An exception reply's code as libmodbus's errno; EMBBADDATA for anything else. */
static int reply_error(const uint8_t *reply, size_t length, uint8_t function)
{
    if (length >= 2 && reply[0] == (function | EXCEPTION_BIT))
        errno = reply[1] >= 1 && reply[1] <= MODBUS_EXCEPTION_GATEWAY_TARGET
                    ? MODBUS_ENOBASE + reply[1]
                    : EMBBADEXC;
    else
        errno = EMBBADDATA;
    return -1;
}

uint8_t modbus_pdu_read_function(enum point_table table)
{
    switch (table) {
    case TABLE_COIL:
        return MODBUS_FC_READ_COILS;
    case TABLE_DISCRETE:
        return MODBUS_FC_READ_DISCRETE_INPUTS;
    case TABLE_INPUT:
        return MODBUS_FC_READ_INPUT_REGISTERS;
    case TABLE_HOLDING:
        break;
    }
    return MODBUS_FC_READ_HOLDING_REGISTERS;
}

size_t modbus_pdu_read_request(enum point_table table, uint16_t address, uint16_t count,
                               uint8_t *pdu)
{
    if (count == 0 || count > (is_bits(table) ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS))
        return 0;
    pdu[0] = modbus_pdu_read_function(table);
    put_u16(pdu + 1, address);
    put_u16(pdu + 3, count);
    return 5;
}

int modbus_pdu_read_reply(const uint8_t *reply, size_t length, enum point_table table,
                          uint16_t count, uint16_t *out)
{
    bool bits = is_bits(table);
    uint8_t function = modbus_pdu_read_function(table);
    size_t data_bytes = bits ? (count + 7u) / 8u : 2u * count;
    if (length < 2 || reply[0] != function || reply[1] != data_bytes || length != 2 + data_bytes)
        return reply_error(reply, length, function);
    for (uint16_t i = 0; i < count; i++)
        out[i] = bits ? (reply[2 + i / 8] >> (i % 8)) & 1u : u16_at(reply + 2 + 2 * i);
    return count;
}

size_t modbus_pdu_write_request(enum point_table table, uint16_t address, uint16_t count,
                                uint16_t value, uint8_t *pdu)
{
    bool coils = table == TABLE_COIL;
    if ((table != TABLE_COIL && table != TABLE_HOLDING) || count == 0 ||
        count > (coils ? MODBUS_MAX_WRITE_BITS : MODBUS_MAX_WRITE_REGISTERS))
        return 0;
    put_u16(pdu + 1, address);
    if (count == 1) {
        pdu[0] = coils ? MODBUS_FC_WRITE_SINGLE_COIL : MODBUS_FC_WRITE_SINGLE_REGISTER;
        put_u16(pdu + 3, coils ? (value ? 0xff00 : 0x0000) : value);
        return 5;
    }
    pdu[0] = coils ? MODBUS_FC_WRITE_MULTIPLE_COILS : MODBUS_FC_WRITE_MULTIPLE_REGISTERS;
    put_u16(pdu + 3, count);
    size_t data_bytes = coils ? (count + 7u) / 8u : 2u * count;
    pdu[5] = (uint8_t)data_bytes;
    memset(pdu + 6, 0, data_bytes);
    for (uint16_t i = 0; i < count; i++) {
        if (coils && value)
            pdu[6 + i / 8] |= (uint8_t)(1u << (i % 8));
        else if (!coils)
            put_u16(pdu + 6 + 2 * i, value);
    }
    return 6 + data_bytes;
}

int modbus_pdu_write_reply(const uint8_t *reply, size_t length, const uint8_t *request)
{
    if (length != 5 || reply[0] != request[0] || memcmp(reply + 1, request + 1, 4) != 0)
        return reply_error(reply, length, request[0]);
    return 0;
}

/* Sends a built request (0 bytes: it could not be built) and takes the reply: its length, or -1. */
static int exchange(modbus_transact_fn *transact, void *link, uint8_t unit, const uint8_t *request,
                    size_t request_length, uint8_t reply[MODBUS_PDU_MAX])
{
    if (request_length == 0) {
        errno = EMBMDATA;
        return -1;
    }
    return transact(link, unit, request, request_length, reply, MODBUS_PDU_MAX);
}

int modbus_pdu_read(modbus_transact_fn *transact, void *link, uint8_t unit, enum point_table table,
                    uint16_t address, uint16_t count, uint16_t *out)
{
    uint8_t request[MODBUS_PDU_MAX], reply[MODBUS_PDU_MAX];
    size_t request_length = modbus_pdu_read_request(table, address, count, request);
    int length = exchange(transact, link, unit, request, request_length, reply);
    if (length < 0)
        return -1;
    return modbus_pdu_read_reply(reply, (size_t)length, table, count, out);
}

int modbus_pdu_write(modbus_transact_fn *transact, void *link, uint8_t unit, enum point_table table,
                     uint16_t address, uint16_t count, uint16_t value)
{
    uint8_t request[MODBUS_PDU_MAX], reply[MODBUS_PDU_MAX];
    size_t request_length = modbus_pdu_write_request(table, address, count, value, request);
    int length = exchange(transact, link, unit, request, request_length, reply);
    if (length < 0)
        return -1;
    if (unit == 0 && length == 0)
        return 0; /* a broadcast on a line: nobody answers */
    return modbus_pdu_write_reply(reply, (size_t)length, request);
}
