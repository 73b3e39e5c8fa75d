/*
 * point.h — what a point is on the wire: its Modbus table, its type, its word
 * and byte order, its scale and named bits. The codec reads and writes points;
 * profiles (gateway/config/config.h) are made of them.
 */
#ifndef SAFETYGW_POINT_H
#define SAFETYGW_POINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Modbus data tables. Coils and discrete inputs hold bits; the others 16-bit registers. */
enum point_table { TABLE_COIL, TABLE_DISCRETE, TABLE_INPUT, TABLE_HOLDING };

enum point_type {
    TYPE_BOOL, /* one coil or discrete input (the only type those tables allow) */
    TYPE_UINT16,
    TYPE_INT16,
    TYPE_UINT32,  /* two registers */
    TYPE_INT32,   /* two registers */
    TYPE_FLOAT32, /* two registers, IEEE 754 */
    TYPE_BITS,    /* one register read as named status bits */
};

/* Which register of a 32-bit value comes first on the wire. Modbus devices disagree. */
enum word_order { WORD_ORDER_BIG /* high word first, "ABCD" */, WORD_ORDER_LITTLE /* "CDAB" */ };

/* Byte order inside each 16-bit register: big is the Modbus standard. */
enum byte_order { BYTE_ORDER_BIG, BYTE_ORDER_LITTLE };

struct bit_def {
    char *name;  /* "valve_closed" */
    uint8_t bit; /* 0..15 */
};

struct point_def {
    char *name; /* "gas_lel", or "port3.temperature" when expanded from a block */
    enum point_table table;
    uint16_t address;
    enum point_type type;
    enum word_order word_order;
    enum byte_order byte_order;
    double scale; /* engineering value = raw * scale + offset */
    double offset;
    char *unit;           /* "%LEL", may be NULL */
    struct bit_def *bits; /* TYPE_BITS only */
    size_t bit_count;
    int block_instance; /* index within its repeated block, or -1 */
    double deadband;    /* telemetry: a change of more than this (engineering units) is sent */
    /* The range a sensible reading stays in (engineering units), when given: `scan --profile`. */
    bool has_min, has_max;
    double min, max;
};

#endif
