#include "device_poll.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "log.h"
#include "modbus_error.h"
#include "modbus_pdu.h"
#include "rtu_silence.h"
#include "timeutil.h"

static uint64_t monotonic_us(void)
{
    return time_monotonic_us();
}

static uint64_t later(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

void device_poll_pacing_init(struct bus_pacing *pacing, const struct bus_def *bus)
{
    *pacing =
        (struct bus_pacing){.gap_ms = bus->gap_ms, .timeout_us = bus->timeout_ms * 1000u, .fd = -1};
    if (bus->type == BUS_RTU) {
        pacing->silence_us = rtu_t35_us(bus->baud, bus->parity, bus->data_bits, bus->stop_bits);
        pacing->rtu_framed = true;
        rtu_link_init(&pacing->rtu, bus);
    }
}

static void wait_gap_only(const struct bus_pacing *pacing)
{
    if (pacing->gap_ms == 0 || pacing->last_request_end_us == 0)
        return;
    uint64_t ready_us = pacing->last_request_end_us + (uint64_t)pacing->gap_ms * 1000u;
    uint64_t now_us = monotonic_us();
    if (now_us >= ready_us)
        return;
    uint64_t wait_us = ready_us - now_us;
    struct timespec wait = {.tv_sec = (time_t)(wait_us / 1000000u),
                            .tv_nsec = (long)(wait_us % 1000000u) * 1000L};
    nanosleep(&wait, NULL);
}

void device_poll_wait_gap(struct bus_pacing *pacing)
{
    if (pacing->silence_us == 0) {
        wait_gap_only(pacing);
        return;
    }
    struct rtu_stray stray = {.first_byte = -1};
    rtu_silence_keep(pacing->fd, pacing->silence_us + pacing->gap_ms * 1000u,
                     &pacing->last_request_end_us, 0, &stray);
    device_poll_note_stray(pacing, &stray);
}

void device_poll_note_stray(struct bus_pacing *pacing, const struct rtu_stray *stray)
{
    if (stray->bytes == 0)
        return;
    /* Bytes on a line nobody asked: most likely the reply of the slave that timed out last. */
    pacing->late_replies++;
    pacing->late_address = stray->first_byte >= 1 && stray->first_byte <= 247
                               ? (uint8_t)stray->first_byte
                               : pacing->unanswered_address;
    log_debug("rtu line: dropped %u bytes that arrived after their request's timeout (first "
              "byte 0x%02x)%s",
              stray->bytes, (unsigned)stray->first_byte,
              stray->gave_up ? "; the line never fell silent, sending anyway" : "");
}

/* Replies the tcp link dropped (to transactions that had timed out) are late replies too. */
static void take_tcp_late_replies(struct bus_pacing *pacing)
{
    if (pacing->tcp == NULL || pacing->tcp->late_replies == 0)
        return;
    pacing->late_replies += pacing->tcp->late_replies;
    pacing->late_address = pacing->tcp->late_unit;
    pacing->tcp->late_replies = 0;
}

/* Frames of other slaves the rtu link dropped while waiting for a reply: late replies. */
static void take_rtu_late_replies(struct bus_pacing *pacing)
{
    if (pacing->rtu.late_replies == 0)
        return;
    pacing->late_replies += pacing->rtu.late_replies;
    pacing->late_address = pacing->rtu.late_address;
    pacing->rtu.late_replies = 0;
}

void device_poll_request_done(struct bus_pacing *pacing, enum request_end end,
                              uint8_t slave_address)
{
    if (pacing->silence_us == 0) {
        pacing->last_request_end_us = monotonic_us();
        take_tcp_late_replies(pacing);
        return;
    }
    take_rtu_late_replies(pacing);
    switch (end) {
    case REQUEST_ANSWERED:
        pacing->last_request_end_us = monotonic_us();
        break;
    case REQUEST_UNANSWERED:
        /* The daemon never waits for the tty: its link knows when the request left the wire. */
        pacing->last_request_end_us = pacing->rtu_framed
                                          ? later(monotonic_us(), pacing->rtu.request_end_us)
                                          : rtu_silence_sent(pacing->fd);
        pacing->unanswered_address = slave_address;
        break;
    }
}

enum request_end device_poll_request_end(int error_number)
{
    switch (modbus_error_classify(error_number)) {
    case MODBUS_ERROR_CRC:
    case MODBUS_ERROR_EXCEPTION:
    case MODBUS_ERROR_OTHER:
        return REQUEST_ANSWERED;
    case MODBUS_ERROR_TIMEOUT:
    case MODBUS_ERROR_LINK_LOST:
        break;
    }
    return REQUEST_UNANSWERED;
}

/*
 * libmodbus gave up on a reply from another slave (EMBBADSLAVE): most likely
 * the late reply of one that timed out before. It is counted as such, and
 * since ours may still be on its way, reading goes on until the request's
 * timeout is up: the PDU of the first frame of slave goes to pdu. Returns its
 * length, or -1 with errno.
 */
int device_poll_read_on(modbus_t *ctx, struct bus_pacing *pacing, uint8_t slave,
                        uint64_t deadline_us, uint8_t *pdu, size_t size)
{
    uint8_t adu[MODBUS_RTU_MAX_ADU_LENGTH];
    uint32_t timeout_s, timeout_us;
    modbus_get_response_timeout(ctx, &timeout_s, &timeout_us);
    int result = -1;
    pacing->late_replies++;
    pacing->late_address = pacing->unanswered_address;
    log_debug("rtu line: a reply from another slave than %u came first; reading on for its own",
              slave);
    for (;;) {
        uint64_t now_us = monotonic_us();
        if (now_us + 1000u >= deadline_us) {
            errno = ETIMEDOUT;
            break;
        }
        uint64_t left_us = deadline_us - now_us;
        modbus_set_response_timeout(ctx, (uint32_t)(left_us / 1000000u),
                                    (uint32_t)(left_us % 1000000u));
        int length = modbus_receive_confirmation(ctx, adu);
        if (length < 0)
            break;
        if (length < 4 || adu[0] != slave) { /* yet another slave's (libmodbus skipped its CRC) */
            pacing->late_replies++;
            continue;
        }
        size_t pdu_length = (size_t)length - 3; /* without address and CRC */
        if (pdu_length > size)
            pdu_length = size;
        memcpy(pdu, adu + 1, pdu_length);
        result = (int)pdu_length;
        break;
    }
    int error_number = errno;
    modbus_set_response_timeout(ctx, timeout_s, timeout_us);
    errno = error_number;
    return result;
}

/* EMBBADSLAVE on a read: reads on for our own reply and unpacks it into regs. */
static int read_on(modbus_t *ctx, struct bus_pacing *pacing, uint8_t slave,
                   const struct read_request *request, uint16_t *regs, uint64_t started_us)
{
    uint8_t pdu[MODBUS_PDU_MAX];
    int length =
        device_poll_read_on(ctx, pacing, slave, started_us + pacing->timeout_us, pdu, sizeof pdu);
    if (length < 0)
        return -1;
    return modbus_pdu_read_reply(pdu, (size_t)length, request->table, request->count, regs);
}

/* Reads one request of the plan into regs (bits arrive as 0/1 per element). */
static int read_request(modbus_t *ctx, struct bus_pacing *pacing, uint8_t unit,
                        const struct read_request *request, uint16_t *regs)
{
    uint8_t bits[READPLAN_MAX_BITS];
    int count;
    if (pacing->tcp != NULL)
        return tcp_link_read(pacing->tcp, unit, request->table, request->address, request->count,
                             regs);
    switch (request->table) {
    case TABLE_HOLDING:
        return modbus_read_registers(ctx, request->address, request->count, regs);
    case TABLE_INPUT:
        return modbus_read_input_registers(ctx, request->address, request->count, regs);
    case TABLE_COIL:
        count = modbus_read_bits(ctx, request->address, request->count, bits);
        break;
    case TABLE_DISCRETE:
        count = modbus_read_input_bits(ctx, request->address, request->count, bits);
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    for (int i = 0; i < count; i++)
        regs[i] = bits[i];
    return count;
}

/* Every point from the device's buffer, each from where the plan put its first register. */
void device_poll_decode(const struct device *device, const uint16_t *registers, double *values)
{
    const struct profile *profile = device->def->profile;
    for (size_t p = 0; p < profile->point_count; p++)
        values[p] = codec_decode(&profile->points[p],
                                 registers + readplan_point_buffer_index(device->plan, p));
}

void device_poll_note_failure(struct poll_outcome *outcome, int error_number)
{
    outcome->error_class = modbus_error_classify(error_number);
    outcome->result =
        outcome->error_class == MODBUS_ERROR_LINK_LOST ? DEVICE_POLL_LINK_LOST : DEVICE_POLL_FAILED;
    if (outcome->error_class == MODBUS_ERROR_EXCEPTION)
        outcome->exception_code = modbus_error_exception_code(error_number);
}

void device_poll(modbus_t *ctx, const struct device *device, struct bus_pacing *pacing,
                 uint16_t *registers, double *values, struct poll_outcome *outcome)
{
    uint64_t busy_us = 0;

    *outcome = (struct poll_outcome){.result = DEVICE_POLL_OK};
    modbus_set_slave(ctx, device->def->address);
    for (size_t r = 0; r < device->plan->request_count; r++) {
        const struct read_request *request = &device->plan->requests[r];
        device_poll_wait_gap(pacing);
        uint64_t started_us = monotonic_us();
        int count = read_request(ctx, pacing, device->def->address, request,
                                 registers + request->buffer_offset);
        if (count < 0 && errno == EMBBADSLAVE)
            count = read_on(ctx, pacing, device->def->address, request,
                            registers + request->buffer_offset, started_us);
        int error_number = count == request->count ? 0 : count < 0 ? errno : EMBBADDATA;
        device_poll_request_done(pacing,
                                 count == request->count ? REQUEST_ANSWERED
                                                         : device_poll_request_end(error_number),
                                 device->def->address);
        busy_us += pacing->last_request_end_us - started_us;
        if (count != request->count) {
            /*
             * What is left of a bad or late answer must not be taken for the
             * next device's reply: on rtu the next wait for silence drains
             * and counts it, on tcp its transaction id gives it away.
             */
            if (pacing->silence_us == 0 && pacing->tcp == NULL)
                modbus_flush(ctx);
            log_device(LOG_DEBUG, device->def->id,
                       "device %s (address %u): read of %u at %s %u failed: %s", device->def->id,
                       device->def->address, request->count, point_table_name(request->table),
                       request->address, modbus_strerror(error_number));
            device_poll_note_failure(outcome, error_number);
            outcome->latency_us = (uint32_t)busy_us;
            return;
        }
    }
    device_poll_decode(device, registers, values);
    outcome->latency_us = (uint32_t)busy_us;
}
