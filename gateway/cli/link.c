/*
 * link.c — opening a link for the commands that talk to devices themselves
 * (probe, scan): their shared link options, checked into a struct cli_link,
 * the libmodbus context and the pacing the daemon would keep on it.
 */
#include "link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbus_open.h"
#include "rtu_silence.h"
#include "timeutil.h"

int cli_link_number(const char *command, const char *option, const char *text, long min, long max,
                    long *out)
{
    char *end = NULL;
    errno = 0;
    *out = text ? strtol(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || *out < min || *out > max) {
        fprintf(stderr, "safetygw %s: %s takes a number %ld..%ld, not \"%s\"\n", command, option,
                min, max, text ? text : "");
        return -1;
    }
    return 0;
}

int cli_link_parity(const char *command, const char *text, char *parity)
{
    if (strlen(text) != 1 || !strchr("NEO", text[0])) {
        fprintf(stderr, "safetygw %s: --parity takes N, E or O, not \"%s\"\n", command, text);
        return -1;
    }
    *parity = text[0];
    return 0;
}

int cli_link_tcp(const char *command, const char *text, struct cli_link *link)
{
    const char *colon = strrchr(text, ':');
    long port;
    if (!colon || colon == text ||
        cli_link_number(command, "--tcp port", colon + 1, 1, 65535, &port) != 0) {
        fprintf(stderr, "safetygw %s: --tcp takes HOST:PORT, not \"%s\"\n", command, text);
        return -1;
    }
    snprintf(link->host, sizeof link->host, "%.*s", (int)(colon - text), text);
    snprintf(link->service, sizeof link->service, "%ld", port);
    link->tcp = true;
    snprintf(link->where, sizeof link->where, "%s", text);
    return 0;
}

void cli_link_option_table(struct cli_link_options *given, struct cli_option *table)
{
    const struct cli_option options[CLI_LINK_OPTION_COUNT] = {
        {"--port", &given->port, NULL},
        {"--baud", &given->baud, NULL},
        {"--parity", &given->parity, NULL},
        {"--data-bits", &given->data_bits, NULL},
        {"--stop-bits", &given->stop_bits, NULL},
        {"--rs485", NULL, &given->rs485},
        {"--tcp", &given->tcp, NULL},
        {"--timeout-ms", &given->timeout_ms, NULL}};
    for (size_t i = 0; i < CLI_LINK_OPTION_COUNT; i++)
        table[i] = options[i];
}

int cli_link_check_options(const char *command, const struct cli_link_options *given,
                           const char *default_timeout_ms, struct cli_link *link)
{
    if (!given->port == !given->tcp) {
        fprintf(stderr, "safetygw %s: give either --port TTY or --tcp HOST:PORT\n", command);
        return -1;
    }
    return cli_link_number(command, "--timeout-ms",
                           given->timeout_ms ? given->timeout_ms : default_timeout_ms, 10, 60000,
                           &link->timeout_ms);
}

int cli_link_line_bits(const char *command, const struct cli_link_options *given,
                       struct cli_link *link)
{
    if (cli_link_number(command, "--data-bits", given->data_bits ? given->data_bits : "8", 5, 8,
                        &link->data_bits) != 0 ||
        cli_link_number(command, "--stop-bits", given->stop_bits ? given->stop_bits : "1", 1, 2,
                        &link->stop_bits) != 0)
        return -1;
    return 0;
}

void cli_link_describe_rtu(struct cli_link *link)
{
    snprintf(link->where, sizeof link->where, "%s (%ld %ld%c%ld)", link->port, link->baud,
             link->data_bits, link->parity, link->stop_bits);
}

/* The link as the daemon's configuration would describe it (modbus_open.h, device_poll.h). */
static struct bus_def link_line(const struct cli_link *link, char *port_text)
{
    return (struct bus_def){.type = link->tcp ? BUS_TCP : BUS_RTU,
                            .port = port_text,
                            .baud = (uint32_t)link->baud,
                            .parity = link->parity,
                            .data_bits = (uint8_t)link->data_bits,
                            .stop_bits = (uint8_t)link->stop_bits,
                            .rs485 = link->rs485,
                            .host = (char *)link->host,
                            .tcp_port = (uint16_t)atoi(link->service),
                            .timeout_ms = (uint32_t)link->timeout_ms};
}

modbus_t *cli_link_open(const char *command, const struct cli_link *link)
{
    struct bus_def line = link_line(link, (char *)link->port);
    char warning[300];
    modbus_t *ctx = modbus_open_context(&line);
    if (!ctx || modbus_open_connect(ctx, &line, warning, sizeof warning) != 0) {
        fprintf(stderr, "safetygw %s: cannot open %s: %s\n", command, link->where,
                modbus_strerror(errno));
        if (ctx)
            modbus_free(ctx);
        return NULL;
    }
    if (warning[0])
        fprintf(stderr, "safetygw %s: %s\n", command, warning);
    return ctx;
}

void cli_link_pacing(const struct cli_link *link, modbus_t *ctx, struct bus_pacing *pacing,
                     struct tcp_link *tcp)
{
    const struct bus_def line = link_line(link, (char *)link->port);
    device_poll_pacing_init(pacing, &line);
    if (link->tcp) {
        tcp_link_open(tcp, modbus_get_socket(ctx), (uint32_t)link->timeout_ms);
        pacing->tcp = tcp;
    } else {
        pacing->rtu_framed = false; /* libmodbus's blocking calls fit a one-off probe or scan */
        pacing->fd = modbus_get_socket(ctx);
        pacing->last_request_end_us = time_monotonic_us();
    }
}
