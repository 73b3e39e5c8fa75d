#include "action.h"

#include <errno.h>
#include <stdio.h>

#include "modbus_pdu.h"
#include "rtu_silence.h"

/*
 * The limits are config.h's, which the loader enforces; they are checked again
 * here because a write past them would overrun these buffers. They must agree
 * with what libmodbus sends in one request, or an action `check` accepted
 * would fail on the wire.
 */
_Static_assert(ACTION_MAX_COILS == MODBUS_MAX_WRITE_BITS, "FC15 coil limit differs from libmodbus");
_Static_assert(ACTION_MAX_REGISTERS == MODBUS_MAX_WRITE_REGISTERS,
               "FC16 register limit differs from libmodbus");

static unsigned max_write_count(enum point_table table)
{
    return table == TABLE_COIL ? ACTION_MAX_COILS : ACTION_MAX_REGISTERS;
}

static int write_values(modbus_t *ctx, struct bus_pacing *pacing, int unit,
                        const struct action_def *action, int address)
{
    if (pacing->tcp != NULL)
        return tcp_link_write(pacing->tcp, (uint8_t)unit, action->table, (uint16_t)address,
                              action->count, action->value);
    struct rtu_link *rtu = device_poll_rtu(pacing);
    if (rtu != NULL)
        return rtu_link_write(rtu, (uint8_t)unit, action->table, (uint16_t)address, action->count,
                              action->value);
    if (action->table == TABLE_COIL) {
        uint8_t bits[ACTION_MAX_COILS];
        for (unsigned i = 0; i < action->count; i++)
            bits[i] = action->value ? 1 : 0;
        if (action->count == 1)
            return modbus_write_bit(ctx, address, bits[0]);
        return modbus_write_bits(ctx, address, action->count, bits);
    }
    uint16_t registers[ACTION_MAX_REGISTERS];
    for (unsigned i = 0; i < action->count; i++)
        registers[i] = action->value;
    if (action->count == 1)
        return modbus_write_register(ctx, address, registers[0]);
    return modbus_write_registers(ctx, address, action->count, registers);
}

/* Another slave's late reply came first: read on for the device's own echo. */
static int write_read_on(modbus_t *ctx, struct bus_pacing *pacing, int unit,
                         const struct action_def *action, int address, uint64_t started_us)
{
    uint8_t request[MODBUS_PDU_MAX], reply[MODBUS_PDU_MAX];
    modbus_pdu_write_request(action->table, (uint16_t)address, action->count, action->value,
                             request);
    int length = device_poll_read_on(ctx, pacing, (uint8_t)unit, started_us + pacing->timeout_us,
                                     reply, sizeof reply);
    if (length < 0)
        return -1;
    return modbus_pdu_write_reply(reply, (size_t)length, request);
}

int action_first_address(const struct action_def *action, int param, int *first, char *error,
                         size_t error_size)
{
    *first = action->address;
    if (action->param_name) {
        if (param < 0 || param >= action->param_count) {
            snprintf(error, error_size, "%s needs %s 0..%u", action->name, action->param_name,
                     action->param_count - 1u);
            return -1;
        }
        *first += param * action->param_stride;
    }
    unsigned limit = max_write_count(action->table);
    if (action->count == 0 || action->count > limit || *first + action->count > 65536) {
        snprintf(error, error_size,
                 "%s writes %u %s values from %d; one Modbus write takes 1..%u, up to 65535",
                 action->name, action->count, point_table_name(action->table), *first, limit);
        return -1;
    }
    return 0;
}

void action_failure(const struct action_def *action, int first, int error_number, char *error,
                    size_t error_size)
{
    snprintf(error, error_size, "write of %s %d failed: %s", point_table_name(action->table), first,
             modbus_strerror(error_number));
}

int action_execute(modbus_t *ctx, struct bus_pacing *pacing, int address,
                   const struct action_def *action, int param, char *error, size_t error_size)
{
    int first;
    if (action_first_address(action, param, &first, error, error_size) != 0)
        return -1;
    modbus_set_slave(ctx, address);
    device_poll_wait_gap(pacing);
    uint64_t started_us = rtu_silence_now_us();
    int written = write_values(ctx, pacing, address, action, first);
    if (written < 0 && errno == EMBBADSLAVE)
        written = write_read_on(ctx, pacing, address, action, first, started_us);
    int error_number = errno;
    device_poll_request_done(pacing,
                             written < 0 ? device_poll_request_end(error_number) : REQUEST_ANSWERED,
                             (uint8_t)address);
    if (written < 0) {
        if (pacing->silence_us == 0 && pacing->tcp == NULL) /* else drained or framed by id */
            modbus_flush(ctx);
        action_failure(action, first, error_number, error, error_size);
        return -1;
    }
    return 0;
}
