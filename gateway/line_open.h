/*
 * line_open.h — opens an RS-485 line off the reactor thread. Opening a tty
 * and setting its termios and RS-485 mode (libmodbus, modbus_open.h) go
 * through the adapter's driver, which for a USB adapter sends control
 * transfers and waits for them: a few milliseconds for a healthy one, up to
 * the driver's timeout (1 to 5 s a transfer) for one that came back wedged.
 * The reactor serves every bus and must not wait, so each open runs on a
 * thread of its own, which wakes the bus's reactor member when it is done;
 * the reactor then takes the result (joining the thread, which has only to
 * return by then).
 *
 * Owner: the bus (the reactor thread starts and takes an open); the opener
 * thread alone touches the context and the result until it sets done.
 */
#ifndef SAFETYGW_LINE_OPEN_H
#define SAFETYGW_LINE_OPEN_H

#include <modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "reactor.h"

#define LINE_OPEN_WARNING_SIZE 300

struct line_open {
    /* the reactor's */
    pthread_t thread;
    bool running; /* started, not taken yet */
    /* the opener's, for the reactor once done is set */
    modbus_t *ctx;
    const struct bus_def *line;
    struct reactor_member *member;
    int error_number; /* 0: open */
    char warning[LINE_OPEN_WARNING_SIZE];
    atomic_bool done;
};

/*
 * Starts opening line on ctx; the member is woken when it is done. Returns
 * 0, or -1 with errno when no thread could start (nothing is under way then).
 */
int line_open_begin(struct line_open *open, modbus_t *ctx, const struct bus_def *line,
                    struct reactor_member *member);

/*
 * The open under way, if it is done: true then, with its errno in
 * *error_number (0: open) and any warning in open->warning (modbus_open.h);
 * false while it is still under way.
 */
bool line_open_take(struct line_open *open, int *error_number);

#endif
