/*
 * poll_outcome.h — how one poll of one device ended: the result the bus acts
 * on (keep going, or reopen the link), the kind of failure a crew can act
 * on, and the time on the wire. bus_steps.c (the daemon) and device_poll.c
 * (the CLI) fill it, device.c records it,
 * the CLI's probe and scan explain it; a type of its own so that the device
 * need not know how a poll is made.
 */
#ifndef SAFETYGW_POLL_OUTCOME_H
#define SAFETYGW_POLL_OUTCOME_H

#include <stdint.h>

#include "modbus_error.h"

enum device_poll_result {
    DEVICE_POLL_OK,
    DEVICE_POLL_FAILED,    /* the device did not answer well; the bus is fine */
    DEVICE_POLL_LINK_LOST, /* the tty or TCP connection is gone: reopen the bus */
};

struct poll_outcome {
    enum device_poll_result result;
    enum modbus_error_class error_class; /* when not OK */
    int exception_code;                  /* MODBUS_ERROR_EXCEPTION: 1..11 */
    uint32_t latency_us; /* time on the wire, all requests (up to the failed one), no pacing */
};

#endif
