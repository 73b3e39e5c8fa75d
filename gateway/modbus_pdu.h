/*
 * modbus_pdu.h — the protocol data units (function code and data, Modbus
 * Application Protocol V1.1b3 §6) of the reads and writes the gateway makes,
 * built and checked here where the gateway frames requests itself: on a
 * Modbus TCP connection (tcp_link.c), on an RS-485 line (rtu_link.c), and
 * where libmodbus frames (probe, scan) when it reads on after another
 * slave's late reply (device_poll.c). Pure: no I/O but what a link's
 * transact function does for modbus_pdu_read and modbus_pdu_write.
 *
 * Errors are libmodbus's errno values, so that modbus_error.c sorts them the
 * same way: MODBUS_ENOBASE + code for an exception reply, EMBBADDATA for a
 * reply that does not answer the request, EMBMDATA for a count out of range.
 */
#ifndef SAFETYGW_MODBUS_PDU_H
#define SAFETYGW_MODBUS_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define MODBUS_PDU_MAX 253

/* FC01..FC04 for coils, discrete inputs, input and holding registers. */
uint8_t modbus_pdu_read_function(enum point_table table);

/* The read request (5 bytes) into pdu; returns its length, 0 when count is out of range. */
size_t modbus_pdu_read_request(enum point_table table, uint16_t address, uint16_t count,
                               uint8_t *pdu);

/*
 * Checks a read's reply and unpacks it into out: count registers, or count
 * bits as 0/1 each. Returns count, or -1 with errno.
 */
int modbus_pdu_read_reply(const uint8_t *reply, size_t length, enum point_table table,
                          uint16_t count, uint16_t *out);

/*
 * The write of count coils or holding registers from address, each set to
 * value: FC05/FC06 for one, FC15/FC16 for more. Returns its length, 0 when
 * count is out of range.
 */
size_t modbus_pdu_write_request(enum point_table table, uint16_t address, uint16_t count,
                                uint16_t value, uint8_t *pdu);

/* Checks a write's reply (an echo of function, address and value or quantity): 0, or -1. */
int modbus_pdu_write_reply(const uint8_t *reply, size_t length, const uint8_t *request);

/*
 * One transaction on a link (tcp_link_transact, rtu_link_transact): the
 * request PDU to unit, the reply PDU into reply. Returns the reply's length
 * (0 for a broadcast, which nobody answers), or -1 with errno.
 */
typedef int modbus_transact_fn(void *link, uint8_t unit, const uint8_t *request,
                               size_t request_length, uint8_t *reply, size_t reply_size);

/*
 * A read of count registers (or bits, 0/1 each) through the link: the
 * request built, sent, its reply checked and unpacked into out. Returns
 * count, or -1 with errno (EMBMDATA for a count out of range).
 */
int modbus_pdu_read(modbus_transact_fn *transact, void *link, uint8_t unit, enum point_table table,
                    uint16_t address, uint16_t count, uint16_t *out);

/* A write of count coils or registers set to value through the link: 0, or -1 with errno. */
int modbus_pdu_write(modbus_transact_fn *transact, void *link, uint8_t unit, enum point_table table,
                     uint16_t address, uint16_t count, uint16_t value);

#endif
