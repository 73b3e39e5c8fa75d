#include "modbus_open.h"

#include <errno.h>
#include <stdio.h>

#include "text.h"

modbus_t *modbus_open_context(const struct bus_def *line)
{
    modbus_t *ctx;
    if (line->type == BUS_RTU) {
        ctx = modbus_new_rtu(line->port, (int)line->baud, line->parity, line->data_bits,
                             line->stop_bits);
    } else {
        char service[8];
        snprintf(service, sizeof service, "%u", line->tcp_port);
        ctx = modbus_new_tcp_pi(line->host, service);
    }
    if (!ctx)
        return NULL;
    uint32_t timeout_ms = line->timeout_ms;
    modbus_set_response_timeout(ctx, timeout_ms / 1000, (timeout_ms % 1000) * 1000);
    modbus_set_byte_timeout(ctx, timeout_ms / 1000, (timeout_ms % 1000) * 1000);
    return ctx;
}

int modbus_open_connect(modbus_t *ctx, const struct bus_def *line, char *warning,
                        size_t warning_size)
{
    warning[0] = '\0';
    if (modbus_connect(ctx) != 0)
        return -1;
    if (line->type == BUS_RTU && line->rs485 &&
        modbus_rtu_set_serial_mode(ctx, MODBUS_RTU_RS485) != 0)
        snprintf(warning, warning_size,
                 "%s cannot switch to RS-485 mode (%s); assuming the adapter drives the line "
                 "direction itself",
                 line->port, modbus_strerror(errno));
    modbus_flush(ctx);
    return 0;
}

const char *modbus_open_address(const struct bus_def *line, char *text, size_t size)
{
    if (line->type == BUS_RTU)
        snprintf(text, size, "%s", line->port);
    else
        snprintf(text, size, "%s:%u", line->host, line->tcp_port);
    return text;
}

bool modbus_open_same_line(const struct bus_def *a, const struct bus_def *b)
{
    return a->type == b->type && text_same(a->port, b->port) && a->baud == b->baud &&
           a->parity == b->parity && a->data_bits == b->data_bits && a->stop_bits == b->stop_bits &&
           a->rs485 == b->rs485 && text_same(a->host, b->host) && a->tcp_port == b->tcp_port &&
           a->timeout_ms == b->timeout_ms;
}
