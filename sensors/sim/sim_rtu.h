/*
 * sim_rtu.h — a whole RS-485 line on a pseudo-terminal: the simulator holds
 * the master side, a symlink at the bus's `port` points at the slave side the
 * gateway opens. Frames are cut from the byte stream by the length their
 * function code implies (or by silence when it implies none), checked for
 * CRC, and handed to the device at their slave address; other addresses get
 * silence, as on a real line. Replies wait the wire time (sim_wire.h).
 */
#ifndef SAFETYGW_SIM_RTU_H
#define SAFETYGW_SIM_RTU_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

int sim_rtu_open(struct sim_bus *bus, char *error, size_t error_size);
/* Closes the pty and removes the symlink if it still points at it. */
void sim_rtu_close(struct sim_bus *bus);

/* Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF), low byte first on the wire. */
uint16_t sim_rtu_crc16(const uint8_t *bytes, size_t length);

/*
 * Length of the request frame starting at frame[0] (address, function, ...):
 * > 0 once known, 0 when more bytes are needed to tell, -1 when the function
 * code implies no length (the frame ends at silence).
 */
int sim_rtu_request_length(const uint8_t *frame, size_t available);

/*
 * Bytes from the master, as the pty delivered them (bus opened with
 * sim_rtu_open): appended to the line's receive buffer, cut into frames, each
 * checked and handed to its device, whose reply is written (or timed, with
 * wire delay). What the pty watch calls; tests/fuzz feeds it directly.
 */
void sim_rtu_receive(struct sim_bus *bus, const uint8_t *bytes, size_t length);

/* The line fell silent now (its silence timer, fired early): a pending partial frame ends. */
void sim_rtu_silence(struct sim_bus *bus);

#endif
