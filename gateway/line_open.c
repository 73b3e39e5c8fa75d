/*
 * line_open.c — an RS-485 line's tty opened on a short-lived thread of its
 * own, so that the reactor never waits on an adapter's driver (line_open.h).
 */
#include "line_open.h"

#include <errno.h>

#include "modbus_open.h"

static void *opener(void *argument)
{
    struct line_open *open = argument;
    int result = modbus_open_connect(open->ctx, open->line, open->warning, sizeof open->warning);
    open->error_number = result == 0 ? 0 : errno;
    struct reactor_member *member = open->member;
    atomic_store(&open->done, true);
    reactor_wake(member); /* the last touch: the reactor joins this thread before it goes on */
    return NULL;
}

int line_open_begin(struct line_open *open, modbus_t *ctx, const struct bus_def *line,
                    struct reactor_member *member)
{
    open->ctx = ctx;
    open->line = line;
    open->member = member;
    open->error_number = 0;
    open->warning[0] = '\0';
    atomic_store(&open->done, false);
    int rc = pthread_create(&open->thread, NULL, opener, open);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    open->running = true;
    return 0;
}

bool line_open_take(struct line_open *open, int *error_number)
{
    if (!open->running || !atomic_load(&open->done))
        return false;
    pthread_join(open->thread, NULL);
    open->running = false;
    *error_number = open->error_number;
    return true;
}
