#include "wire_budget.h"

#include <math.h>
#include <stdbool.h>

#include "rtu_silence.h"

#define READ_REQUEST_BYTES 8 /* address, function, start, quantity, CRC */
#define REPLY_OVERHEAD 5     /* address, function, byte count, CRC */

static const uint32_t standard_bauds[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};

static double char_ms(const struct bus_def *bus, uint32_t baud)
{
    return rtu_bits_per_char(bus->parity, bus->data_bits, bus->stop_bits) * 1000.0 / baud;
}

static double t35_ms(const struct bus_def *bus, uint32_t baud)
{
    return baud > 19200 ? 1.75 : 3.5 * char_ms(bus, baud);
}

static uint64_t request_bytes(const struct read_request *request)
{
    bool bits = request->table == TABLE_COIL || request->table == TABLE_DISCRETE;
    uint64_t data = bits ? (request->count + 7u) / 8u : 2u * request->count;
    return READ_REQUEST_BYTES + REPLY_OVERHEAD + data;
}

/* What each request costs beside its bytes: two silences, the reply latency, gap_ms. */
static double per_request_ms(const struct bus_def *bus, uint32_t baud)
{
    return 2 * t35_ms(bus, baud) + WIRE_BUDGET_REPLY_LATENCY_MS + bus->gap_ms;
}

double wire_budget_request_ms(const struct bus_def *bus, const struct read_request *request)
{
    return (double)request_bytes(request) * char_ms(bus, bus->baud) +
           per_request_ms(bus, bus->baud);
}

void wire_budget_start(struct wire_budget *budget, const struct bus_def *bus)
{
    *budget = (struct wire_budget){.bus = bus};
}

void wire_budget_add(struct wire_budget *budget, const struct read_plan *plan, uint32_t poll_ms)
{
    uint64_t bytes = 0;
    for (size_t r = 0; r < plan->request_count; r++)
        bytes += request_bytes(&plan->requests[r]);
    budget->devices++;
    budget->requests += plan->request_count;
    budget->bytes += bytes;
    if (poll_ms == 0)
        poll_ms = 1;
    if (budget->shortest_poll_ms == 0 || poll_ms < budget->shortest_poll_ms)
        budget->shortest_poll_ms = poll_ms;
    budget->bytes_per_ms += (double)bytes / poll_ms;
    budget->requests_per_ms += (double)plan->request_count / poll_ms;
}

double wire_budget_cycle_ms(const struct wire_budget *budget)
{
    const struct bus_def *bus = budget->bus;
    return (double)budget->bytes * char_ms(bus, bus->baud) +
           (double)budget->requests * per_request_ms(bus, bus->baud);
}

double wire_budget_load_at(const struct wire_budget *budget, uint32_t baud)
{
    const struct bus_def *bus = budget->bus;
    double busy = budget->bytes_per_ms * char_ms(bus, baud) +
                  budget->requests_per_ms * per_request_ms(bus, baud);
    return busy / (1.0 - WIRE_BUDGET_RETRY_PERCENT / 100.0);
}

double wire_budget_load(const struct wire_budget *budget)
{
    return wire_budget_load_at(budget, budget->bus->baud);
}

struct wire_budget_fit wire_budget_what_fits(const struct wire_budget *budget)
{
    double load = wire_budget_load(budget);
    struct wire_budget_fit fit = {.devices = budget->devices, .poll_factor = 1};
    if (load <= 1.0)
        return fit;
    fit.devices = (size_t)floor((double)budget->devices / load);
    for (size_t i = 0; i < sizeof standard_bauds / sizeof standard_bauds[0]; i++) {
        if (standard_bauds[i] > budget->bus->baud &&
            wire_budget_load_at(budget, standard_bauds[i]) <= 1.0) {
            fit.baud = standard_bauds[i];
            break;
        }
    }
    fit.poll_factor = load;
    fit.shortest_poll_ms = (uint32_t)(ceil(budget->shortest_poll_ms * load / 100.0) * 100.0);
    return fit;
}
