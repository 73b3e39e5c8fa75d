/*
 * sim_wire.h — how long a Modbus RTU transaction occupies an RS-485 line.
 * Pure arithmetic (Modbus over Serial Line v1.02, §2.5.1.1):
 *
 *   bits per char = 1 start + data bits + (parity ? 1 : 0) + stop bits
 *   char time     = bits per char / baud
 *   t3.5          = 3.5 char times at <= 19200 baud, else a fixed 1.750 ms
 *   transaction   = (request bytes + reply bytes) * char time + 2 * t3.5 + reply latency
 */
#ifndef SAFETYGW_SIM_WIRE_H
#define SAFETYGW_SIM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct sim_wire {
    uint64_t char_ns;    /* one character on the wire */
    uint64_t t35_ns;     /* inter-frame silence */
    uint64_t latency_ns; /* the device's own think time before it answers */
};

void sim_wire_init(struct sim_wire *wire, const struct bus_def *bus, uint32_t latency_ms);

/* Time the bytes of one frame take on the wire. */
uint64_t sim_wire_frame_ns(const struct sim_wire *wire, size_t bytes);

/* Whole transaction as in the header comment, trailing t3.5 included. */
uint64_t sim_wire_transaction_ns(const struct sim_wire *wire, size_t request_bytes,
                                 size_t reply_bytes);

#endif
