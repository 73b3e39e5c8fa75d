/*
 * link.h — the link of the commands that talk to devices directly,
 * without a daemon (`probe`, `scan`): a serial port with its line settings,
 * or a Modbus TCP converter, opened with libmodbus's blocking API; the
 * pacing the daemon keeps on it (t3.5 on a line, transaction ids on TCP);
 * and the numbers and HOST:PORT their options take.
 */
#ifndef SAFETYGW_CLI_LINK_H
#define SAFETYGW_CLI_LINK_H

#include <modbus.h>
#include <stdbool.h>

#include "device_poll.h"
#include "options.h"
#include "tcp_link.h"

#define CLI_LINK_WHERE_MAX 300

struct cli_link {
    bool tcp;
    /* rtu */
    const char *port;
    long baud, data_bits, stop_bits;
    char parity;
    bool rs485;
    /* tcp */
    char host[256];
    char service[16];
    /* both */
    long timeout_ms;
    char where[CLI_LINK_WHERE_MAX]; /* "/dev/ttyUSB0 (9600 8N1)" or "10.0.0.5:502" */
};

/* The options of a command that opens a link itself, as given (NULL: not given). */
struct cli_link_options {
    const char *port, *baud, *parity, *data_bits, *stop_bits, *tcp, *timeout_ms;
    bool rs485;
};

#define CLI_LINK_OPTION_COUNT 8

/*
 * Fills table[0..CLI_LINK_OPTION_COUNT) with the link's options (--port,
 * --baud, --parity, --data-bits, --stop-bits, --rs485, --tcp, --timeout-ms),
 * each kept in given; the command adds its own around them.
 */
void cli_link_option_table(struct cli_link_options *given, struct cli_option *table);

/*
 * What every link needs: one of --port and --tcp, and --timeout-ms
 * (default_timeout_ms when not given) into link. 0, or -1 after saying why.
 */
int cli_link_check_options(const char *command, const struct cli_link_options *given,
                           const char *default_timeout_ms, struct cli_link *link);

/* A line's --data-bits (default 8) and --stop-bits (default 1) into link; 0 or -1 (said). */
int cli_link_line_bits(const char *command, const struct cli_link_options *given,
                       struct cli_link *link);

/* text as a number min..max into *out; 0, or -1 after saying what is wrong. */
int cli_link_number(const char *command, const char *option, const char *text, long min, long max,
                    long *out);

/* --parity: N, E or O into *parity; 0, or -1 after saying what is wrong. */
int cli_link_parity(const char *command, const char *text, char *parity);

/* --tcp HOST:PORT into link (host, service, where; tcp set). 0, or -1 after saying why. */
int cli_link_tcp(const char *command, const char *text, struct cli_link *link);

/* Sets link->where for an rtu link from its port and line settings. */
void cli_link_describe_rtu(struct cli_link *link);

/*
 * Opens the link: connect, RS-485 mode when asked (a tty that cannot is only
 * warned about), timeout_ms as response and byte timeout, nothing left to
 * read. Returns the context, or NULL after saying why on stderr.
 */
modbus_t *cli_link_open(const char *command, const struct cli_link *link);

/*
 * The pacing of requests on the open link, as the daemon keeps it: t3.5 of
 * silence on a line (its last frame unknown: the first request waits one
 * too), transaction ids on TCP through tcp (which must outlive the pacing).
 */
void cli_link_pacing(const struct cli_link *link, modbus_t *ctx, struct bus_pacing *pacing,
                     struct tcp_link *tcp);

#endif
