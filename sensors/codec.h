/*
 * codec.h — register codec: Modbus registers <-> engineering values, for every
 * point type, word order, byte order and scale a profile can declare.
 *
 * Pure functions: no I/O, no clock, no globals. The daemon decodes what it
 * reads; the simulator and write actions encode.
 */
#ifndef SAFETYGW_CODEC_H
#define SAFETYGW_CODEC_H

#include <stdint.h>

#include "point.h"

/* Registers (or coils/discrete inputs) the point occupies: 1 or 2. */
unsigned codec_point_width(const struct point_def *point);

/*
 * Raw (unscaled) value of the point whose first register is regs[0]. Coils and
 * discrete inputs arrive one bit per element, as 0 or 1.
 */
double codec_decode_raw(const struct point_def *point, const uint16_t *regs);

/* Engineering value: raw * scale + offset. */
double codec_decode(const struct point_def *point, const uint16_t *regs);

/* Value (0 or 1) of bit number bit (0..15) of a TYPE_BITS point. */
int codec_decode_bit(const struct point_def *point, const uint16_t *regs, unsigned bit);

/*
 * Writes the engineering value into regs (codec_point_width elements), rounding
 * to the nearest raw step. Returns 0, or -1 when the value does not fit the
 * type (regs untouched).
 */
int codec_encode(const struct point_def *point, double value, uint16_t *regs);

#endif
