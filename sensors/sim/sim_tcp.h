/*
 * sim_tcp.h — a serial-to-Ethernet converter: a Modbus TCP server on
 * 127.0.0.1 (or the bus's host when that is a loopback address) at the bus's
 * port, answering the unit ids of the bus's devices. Any number of client
 * connections. A unit id with no device gets exception 0x0B (gateway target
 * device failed to respond) at once, as converters with a slave table do; a
 * device that is faulted silent, or a bus that is down, gets no answer at all.
 */
#ifndef SAFETYGW_SIM_TCP_H
#define SAFETYGW_SIM_TCP_H

#include <stddef.h>

#include "sim.h"

int sim_tcp_open(struct sim_bus *bus, char *error, size_t error_size);
void sim_tcp_close(struct sim_bus *bus);

#endif
