#include "sim_reply.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define RTU_CRC_LENGTH 2

int sim_reply_init(struct sim_reply *reply, bool rtu, char *error, size_t error_size)
{
    reply->capture[0] = reply->capture[1] = -1;
    /* Neither context ever connects: they only format frames. */
    reply->ctx = rtu ? modbus_new_rtu("/dev/null", 9600, 'N', 8, 1)
                     : modbus_new_tcp("127.0.0.1", MODBUS_TCP_DEFAULT_PORT);
    reply->header_length = rtu ? 1 : 7;
    if (reply->ctx == NULL ||
        socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, reply->capture) != 0 ||
        fcntl(reply->capture[1], F_SETFL, O_NONBLOCK) != 0) {
        snprintf(error, error_size, "creating the %s reply builder: %s", rtu ? "RTU" : "TCP",
                 strerror(errno));
        sim_reply_close(reply);
        return -1;
    }
    modbus_set_socket(reply->ctx, reply->capture[0]);
    return 0;
}

void sim_reply_close(struct sim_reply *reply)
{
    if (reply->ctx != NULL)
        modbus_free(reply->ctx);
    for (int i = 0; i < 2; i++)
        if (reply->capture[i] >= 0)
            close(reply->capture[i]);
    reply->ctx = NULL;
    reply->capture[0] = reply->capture[1] = -1;
}

int sim_reply_function(const struct sim_reply *reply, const uint8_t *req)
{
    return req[reply->header_length];
}

uint16_t sim_reply_u16(const struct sim_reply *reply, const uint8_t *req, int pdu_offset)
{
    const uint8_t *pdu = req + reply->header_length;
    return (uint16_t)(pdu[pdu_offset] << 8 | pdu[pdu_offset + 1]);
}

/* Length of the PDU (function code onwards) inside the ADU. */
static int pdu_length(const struct sim_reply *reply, int req_length)
{
    bool rtu = reply->header_length == 1;
    return req_length - reply->header_length - (rtu ? RTU_CRC_LENGTH : 0);
}

static bool quantity_ok(unsigned quantity, unsigned max)
{
    return quantity >= 1 && quantity <= max;
}

int sim_reply_check(const struct sim_reply *reply, const uint8_t *req, int req_length)
{
    const uint8_t *pdu = req + reply->header_length;
    int length = pdu_length(reply, req_length);
    if (length < 1)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    unsigned quantity = length >= 5 ? (unsigned)(pdu[3] << 8 | pdu[4]) : 0;
    switch (pdu[0]) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS:
        return length >= 5 && quantity_ok(quantity, MODBUS_MAX_READ_BITS)
                   ? 0
                   : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
        return length >= 5 && quantity_ok(quantity, MODBUS_MAX_READ_REGISTERS)
                   ? 0
                   : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
        return length >= 5 ? 0 : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
        return length >= 6 && quantity_ok(quantity, MODBUS_MAX_WRITE_BITS) &&
                       pdu[5] == (quantity + 7) / 8 && length >= 6 + pdu[5]
                   ? 0
                   : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        return length >= 6 && quantity_ok(quantity, MODBUS_MAX_WRITE_REGISTERS) &&
                       pdu[5] == quantity * 2 && length >= 6 + pdu[5]
                   ? 0
                   : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    default:
        return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
    }
}

/* Takes the frame the context just "sent" into the socket pair. */
static int take_frame(struct sim_reply *reply, uint8_t *rsp)
{
    ssize_t length = recv(reply->capture[1], rsp, SIM_REPLY_MAX, 0);
    if (length < 0) {
        log_error("safetygw-sim: no reply frame from libmodbus: %s", strerror(errno));
        return -1;
    }
    return (int)length;
}

int sim_reply_build(struct sim_reply *reply, const uint8_t *req, int req_length,
                    modbus_mapping_t *map, uint8_t *rsp)
{
    int sent = modbus_reply(reply->ctx, req, req_length, map);
    if (sent < 0) {
        log_error("safetygw-sim: modbus_reply: %s", modbus_strerror(errno));
        return -1;
    }
    return sent == 0 ? 0 : take_frame(reply, rsp);
}

int sim_reply_exception(struct sim_reply *reply, const uint8_t *req, int code, uint8_t *rsp)
{
    if (modbus_reply_exception(reply->ctx, req, (unsigned)code) < 0) {
        log_error("safetygw-sim: modbus_reply_exception %d: %s", code, modbus_strerror(errno));
        return -1;
    }
    return take_frame(reply, rsp);
}
