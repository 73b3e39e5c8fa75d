#include "sim_wire.h"

#define NS_PER_S 1000000000ULL
#define T35_FIXED_NS 1750000ULL /* above 19200 baud the spec fixes t3.5 */

void sim_wire_init(struct sim_wire *wire, const struct bus_def *bus, uint32_t latency_ms)
{
    unsigned bits = 1u + bus->data_bits + (bus->parity == 'N' ? 0u : 1u) + bus->stop_bits;
    uint32_t baud = bus->baud != 0 ? bus->baud : 9600;
    wire->char_ns = bits * NS_PER_S / baud;
    wire->t35_ns = baud <= 19200 ? wire->char_ns * 7 / 2 : T35_FIXED_NS;
    wire->latency_ns = (uint64_t)latency_ms * 1000000ULL;
}

uint64_t sim_wire_frame_ns(const struct sim_wire *wire, size_t bytes)
{
    return wire->char_ns * bytes;
}

uint64_t sim_wire_transaction_ns(const struct sim_wire *wire, size_t request_bytes,
                                 size_t reply_bytes)
{
    return sim_wire_frame_ns(wire, request_bytes + reply_bytes) + 2 * wire->t35_ns +
           wire->latency_ns;
}
