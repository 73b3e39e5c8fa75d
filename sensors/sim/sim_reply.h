/*
 * sim_reply.h — builds Modbus replies with libmodbus's modbus_reply, for RTU
 * or TCP framing, into a buffer instead of onto a descriptor: the context
 * "sends" into one end of a datagram socket pair and we take the frame from
 * the other, so a transport can hold it for the wire time, corrupt it or drop
 * it. Requests are checked first so that modbus_reply never reaches its
 * flush-and-sleep paths (it sleeps a response timeout on bad quantities).
 */
#ifndef SAFETYGW_SIM_REPLY_H
#define SAFETYGW_SIM_REPLY_H

#include <modbus/modbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_REPLY_MAX 260 /* MODBUS_TCP_MAX_ADU_LENGTH, the larger of the two */

struct sim_reply {
    modbus_t *ctx;
    int capture[2];    /* [0] is the context's socket, [1] where we read the frame */
    int header_length; /* 1 for RTU (address), 7 for TCP (MBAP) */
};

int sim_reply_init(struct sim_reply *reply, bool rtu, char *error, size_t error_size);
void sim_reply_close(struct sim_reply *reply);

/*
 * Modbus exception code the request deserves before touching the map
 * (illegal function or quantity), or 0 when modbus_reply may handle it.
 * req is a whole ADU (RTU: CRC included).
 */
int sim_reply_check(const struct sim_reply *reply, const uint8_t *req, int req_length);

/* Reply to req from map into rsp. Length, 0 when none is due (broadcast), -1 on error. */
int sim_reply_build(struct sim_reply *reply, const uint8_t *req, int req_length,
                    modbus_mapping_t *map, uint8_t *rsp);
/* Exception reply with code into rsp. Length, or -1. */
int sim_reply_exception(struct sim_reply *reply, const uint8_t *req, int code, uint8_t *rsp);

/* The function code and first address of a request ADU. */
int sim_reply_function(const struct sim_reply *reply, const uint8_t *req);
uint16_t sim_reply_u16(const struct sim_reply *reply, const uint8_t *req, int pdu_offset);

#endif
