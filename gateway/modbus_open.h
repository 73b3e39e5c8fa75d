/*
 * modbus_open.h — opening a Modbus link with libmodbus, the one way the
 * daemon's rtu buses and the CLI's probe and scan do it: a context for the
 * line a bus_def describes (a serial port with its settings, or a converter's
 * host and port), the response and byte timeouts set to timeout_ms, RS-485
 * mode when asked, nothing left to read. The daemon's tcp buses connect
 * without libmodbus (non-blocking, reactor.h) but name their address and
 * compare their lines here too.
 *
 * No state: the caller owns the context it gets.
 */
#ifndef SAFETYGW_MODBUS_OPEN_H
#define SAFETYGW_MODBUS_OPEN_H

#include <modbus.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* A context for the line, its timeouts set; NULL with errno. */
modbus_t *modbus_open_context(const struct bus_def *line);

/*
 * Connects the context and readies the line. Returns 0, or -1 with errno.
 * A port that cannot switch to RS-485 mode (a pty, many USB adapters: they
 * switch direction themselves) is no error: warning then says so (else it is
 * empty).
 */
int modbus_open_connect(modbus_t *ctx, const struct bus_def *line, char *warning,
                        size_t warning_size);

/* "/dev/ttyUSB0" or "10.20.1.14:502", for messages. */
const char *modbus_open_address(const struct bus_def *line, char *text, size_t size);

/* Same wire with the same timing: an open connection may pass from one bus to the other. */
bool modbus_open_same_line(const struct bus_def *a, const struct bus_def *b);

#endif
