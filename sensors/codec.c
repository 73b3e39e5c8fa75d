/*
 * codec.c — Modbus registers <-> engineering values.
 *
 * On the wire a register is two bytes, high byte first (Modbus Application
 * Protocol v1.1b3, §4.2); libmodbus hands us each register already assembled
 * as a uint16_t. Devices that send the low byte first (byte_order little) get
 * the two bytes of every register swapped back here. A 32-bit value spans two
 * registers; word_order says which of them holds the high 16 bits. With the
 * bytes of the value named A (most significant) to D, the four layouts are:
 *
 *   word_order big,    byte_order big:    regs = {AB, CD}  "ABCD"
 *   word_order little, byte_order big:    regs = {CD, AB}  "CDAB"
 *   word_order big,    byte_order little: regs = {BA, DC}  "BADC"
 *   word_order little, byte_order little: regs = {DC, BA}  "DCBA"
 *
 * Coils and discrete inputs arrive one bit per element, 0 or 1; no order
 * applies to them.
 */
#include "codec.h"

#include <float.h>
#include <math.h>
#include <string.h>

static uint16_t swap_bytes(uint16_t word)
{
    return (uint16_t)((word << 8) | (word >> 8));
}

/* The register as the device meant it: its high byte is the value's high byte. */
static uint16_t register_from_wire(const struct point_def *point, uint16_t wire)
{
    return point->byte_order == BYTE_ORDER_LITTLE ? swap_bytes(wire) : wire;
}

static uint16_t register_to_wire(const struct point_def *point, uint16_t word)
{
    /* Swapping bytes is its own inverse. */
    return register_from_wire(point, word);
}

static uint32_t read_u32(const struct point_def *point, const uint16_t *regs)
{
    uint16_t first = register_from_wire(point, regs[0]);
    uint16_t second = register_from_wire(point, regs[1]);
    if (point->word_order == WORD_ORDER_LITTLE)
        return ((uint32_t)second << 16) | first;
    return ((uint32_t)first << 16) | second;
}

static void write_u32(const struct point_def *point, uint32_t raw, uint16_t *regs)
{
    uint16_t high = (uint16_t)(raw >> 16);
    uint16_t low = (uint16_t)(raw & 0xFFFF);
    if (point->word_order == WORD_ORDER_LITTLE) {
        regs[0] = register_to_wire(point, low);
        regs[1] = register_to_wire(point, high);
    } else {
        regs[0] = register_to_wire(point, high);
        regs[1] = register_to_wire(point, low);
    }
}

unsigned codec_point_width(const struct point_def *point)
{
    switch (point->type) {
    case TYPE_UINT32:
    case TYPE_INT32:
    case TYPE_FLOAT32:
        return 2;
    case TYPE_BOOL:
    case TYPE_UINT16:
    case TYPE_INT16:
    case TYPE_BITS:
        break;
    }
    return 1;
}

double codec_decode_raw(const struct point_def *point, const uint16_t *regs)
{
    switch (point->type) {
    case TYPE_BOOL:
        return regs[0] != 0 ? 1.0 : 0.0;
    case TYPE_UINT16:
    case TYPE_BITS:
        return register_from_wire(point, regs[0]);
    case TYPE_INT16:
        return (int16_t)register_from_wire(point, regs[0]);
    case TYPE_UINT32:
        return read_u32(point, regs);
    case TYPE_INT32:
        return (int32_t)read_u32(point, regs);
    case TYPE_FLOAT32: {
        uint32_t bits = read_u32(point, regs);
        float value;
        memcpy(&value, &bits, sizeof value);
        return value;
    }
    }
    return NAN;
}

double codec_decode(const struct point_def *point, const uint16_t *regs)
{
    return codec_decode_raw(point, regs) * point->scale + point->offset;
}

int codec_decode_bit(const struct point_def *point, const uint16_t *regs, unsigned bit)
{
    if (bit > 15)
        return 0;
    return (register_from_wire(point, regs[0]) >> bit) & 1;
}

/* Integer types: the nearest raw step, -1 when it lies outside [min, max]. */
static int round_to_range(double raw, double min, double max, double *rounded)
{
    double nearest = round(raw);
    if (!(nearest >= min && nearest <= max))
        return -1; /* also catches NaN */
    *rounded = nearest;
    return 0;
}

int codec_encode(const struct point_def *point, double value, uint16_t *regs)
{
    if (!isfinite(value) || point->scale == 0.0)
        return -1;
    double raw = (value - point->offset) / point->scale;
    double rounded;

    switch (point->type) {
    case TYPE_BOOL:
        if (round_to_range(raw, 0, 1, &rounded) < 0)
            return -1;
        regs[0] = (uint16_t)rounded;
        return 0;
    case TYPE_UINT16:
    case TYPE_BITS:
        if (round_to_range(raw, 0, UINT16_MAX, &rounded) < 0)
            return -1;
        regs[0] = register_to_wire(point, (uint16_t)rounded);
        return 0;
    case TYPE_INT16:
        if (round_to_range(raw, INT16_MIN, INT16_MAX, &rounded) < 0)
            return -1;
        regs[0] = register_to_wire(point, (uint16_t)(int16_t)rounded);
        return 0;
    case TYPE_UINT32:
        if (round_to_range(raw, 0, UINT32_MAX, &rounded) < 0)
            return -1;
        write_u32(point, (uint32_t)rounded, regs);
        return 0;
    case TYPE_INT32:
        if (round_to_range(raw, INT32_MIN, INT32_MAX, &rounded) < 0)
            return -1;
        write_u32(point, (uint32_t)(int32_t)rounded, regs);
        return 0;
    case TYPE_FLOAT32: {
        /* The nearest float; a value beyond the largest float would become infinity. */
        if (!(fabs(raw) <= FLT_MAX))
            return -1;
        float narrowed = (float)raw;
        uint32_t bits;
        memcpy(&bits, &narrowed, sizeof bits);
        write_u32(point, bits, regs);
        return 0;
    }
    }
    return -1;
}
