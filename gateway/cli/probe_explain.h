/*
 * probe_explain.h — what a failed probe means in the field, in words an
 * installer can act on: a timeout (wrong address, baud or wiring), a CRC
 * error (baud/parity mismatch or noise), an exception reply (wrong register
 * map), a reply that makes no sense, a lost link.
 */
#ifndef SAFETYGW_CLI_PROBE_EXPLAIN_H
#define SAFETYGW_CLI_PROBE_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "device_poll.h"

/* Where the probe talked: "address 5 on /dev/ttyUSB0 (9600 8N1)", "unit 5 at host:502". */
struct probe_target {
    const char *where; /* "/dev/ttyUSB0 (9600 8N1)" or "10.0.0.5:502" */
    int address;
    unsigned timeout_ms;
    const char *profile;
    bool tcp;
};

/* The failure class as a word: "timeout", "crc", "exception", "link_lost", "bad_reply". */
const char *cli_probe_explain_class(enum modbus_error_class error_class);

/* One paragraph: what happened and what to check. */
void cli_probe_explain(const struct poll_outcome *outcome, const struct probe_target *target,
                       char *out, size_t size);

#endif
