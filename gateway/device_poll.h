/*
 * device_poll.h — one poll of one device: the read plan's requests on the
 * bus's libmodbus context, decoded into a caller's array of values. It writes
 * nothing shared: the bus thread then records the outcome under its snapshot
 * lock (device_record_poll), so readers never see a half-written poll.
 */
#ifndef SAFETYGW_DEVICE_POLL_H
#define SAFETYGW_DEVICE_POLL_H

#include <modbus.h>
#include <stdint.h>

#include "device.h"
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
    uint32_t latency_us;                 /* time on the wire, all requests, without gap_ms pacing */
};

/* Spacing of requests on a bus: gap_ms of silence after the previous request's end. */
struct bus_pacing {
    uint32_t gap_ms;
    uint64_t last_request_end_us; /* monotonic microseconds */
};

/* Sleeps what pacing->gap_ms still asks for since the last request on the bus. */
void device_poll_wait_gap(struct bus_pacing *pacing);

/* Marks the end of a request on the bus (poll or write). */
void device_poll_request_done(struct bus_pacing *pacing);

/*
 * Reads every request of the device's plan into registers (plan->buffer_count
 * entries, laid out as the plan says; bits as 0/1), then decodes values (one
 * entry per profile point). The registers stay for whoever wants them raw.
 */
void device_poll(modbus_t *ctx, const struct device *device, struct bus_pacing *pacing,
                 uint16_t *registers, double *values, struct poll_outcome *outcome);

#endif
