/*
 * fuzz_readplan.c — read plans (gateway/readplan.c) and the register codec
 * (sensors/codec.c) on arbitrary profiles and arbitrary reply bytes.
 *
 * Input: byte 0 picks the profile: one of the shipped profiles, or (every
 * fourth value) one derived from the next bytes:
 *   [1] max_registers (0..255: 0 and over 125 included), [2] max_gap,
 *   [3] point count (0..63), then 4 bytes a point: table and type, address
 *   (2 bytes, big-endian), and orders, scale and offset.
 * Derived points keep the loader's rule that coil and discrete points are
 * bool and only they are; they may overlap (the loader refuses that, the
 * planner copes). The rest of the input is the device's reply: the plan's
 * buffer, two bytes a register, bits as their low bit.
 *
 * Checked: every point lies whole inside its own request, in its table,
 * within the request limits and the buffer; no request is empty; decoding
 * reads only the point's registers (ASan); an integer value that decodes then
 * encodes gives back the very registers it came from, a float the same value.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fuzz_support.h"
#include "readplan.h"

#define MAX_DERIVED_POINTS 63

static struct profile *shipped[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    shipped[0] = fuzz_load_shipped_profile("gas-alarm.yaml");
    shipped[1] = fuzz_load_shipped_profile("elevator.yaml");
    shipped[2] = fuzz_load_shipped_profile("ebike-charger-10.yaml");
    return 0;
}

/* Scales and offsets whose decode-encode round trip is exact for integers. */
static const double scales[] = {1, 0.1, 0.01, 10, -1, 0.5, 0.001, 100};
static const double offsets[] = {0, -40, 273.15, 1000};

static struct point_def derived_point(const uint8_t *bytes)
{
    static const enum point_type register_types[] = {TYPE_UINT16, TYPE_INT16,   TYPE_UINT32,
                                                     TYPE_INT32,  TYPE_FLOAT32, TYPE_BITS};
    static struct bit_def bits[] = {{"b0", 0}, {"b3", 3}, {"b15", 15}};
    struct point_def point = {.name = "p", .block_instance = -1};
    point.table = (enum point_table)(bytes[0] & 3);
    bool bit_table = point.table == TABLE_COIL || point.table == TABLE_DISCRETE;
    point.type = bit_table ? TYPE_BOOL : register_types[(bytes[0] >> 2) % 6];
    point.address = (uint16_t)(bytes[1] << 8 | bytes[2]);
    unsigned width = codec_point_width(&point);
    if ((unsigned)point.address + width - 1 > UINT16_MAX)
        point.address = (uint16_t)(UINT16_MAX - width + 1); /* the loader refuses the rest */
    point.word_order = (bytes[3] & 1) ? WORD_ORDER_LITTLE : WORD_ORDER_BIG;
    point.byte_order = (bytes[3] & 2) ? BYTE_ORDER_LITTLE : BYTE_ORDER_BIG;
    point.scale = scales[(bytes[3] >> 2) & 7];
    point.offset = offsets[(bytes[3] >> 5) & 3];
    if (point.type == TYPE_BITS) {
        point.bits = bits;
        point.bit_count = sizeof bits / sizeof bits[0];
    }
    return point;
}

/* Parses the derived profile's header and points; returns the bytes used. */
static size_t derive_profile(const uint8_t *data, size_t size, struct profile *profile,
                             struct point_def *points)
{
    if (size < 3)
        return size;
    *profile = (struct profile){.name = "derived", .kind = "fuzz", .points = points};
    profile->max_registers = data[0];
    profile->max_gap = data[1];
    size_t count = data[2] % (MAX_DERIVED_POINTS + 1);
    size_t used = 3;
    while (profile->point_count < count && used + 4 <= size) {
        points[profile->point_count] = derived_point(data + used);
        profile->point_count++;
        used += 4;
    }
    return used;
}

static unsigned limit_of(const struct profile *profile, enum point_table table)
{
    if (table == TABLE_COIL || table == TABLE_DISCRETE)
        return READPLAN_MAX_BITS;
    return profile->max_registers < READPLAN_MAX_REGISTERS ? profile->max_registers
                                                           : READPLAN_MAX_REGISTERS;
}

static void check_plan(const struct profile *profile, const struct read_plan *plan)
{
    FUZZ_CHECK(plan->point_count == profile->point_count);
    FUZZ_CHECK(plan->request_count <= profile->point_count);
    size_t total = 0;
    for (size_t r = 0; r < plan->request_count; r++) {
        const struct read_request *request = &plan->requests[r];
        FUZZ_CHECK(request->count >= 1 && request->count <= limit_of(profile, request->table));
        FUZZ_CHECK((unsigned)request->address + request->count - 1 <= UINT16_MAX);
        FUZZ_CHECK(request->buffer_offset == total);
        total += request->count;
        if (r > 0) /* by table, then address */
            FUZZ_CHECK(plan->requests[r - 1].table < request->table ||
                       (plan->requests[r - 1].table == request->table &&
                        plan->requests[r - 1].address < request->address));
    }
    FUZZ_CHECK(plan->buffer_count == total);
    for (size_t p = 0; p < profile->point_count; p++) {
        const struct point_def *point = &profile->points[p];
        FUZZ_CHECK(plan->point_request[p] < plan->request_count);
        const struct read_request *request = &plan->requests[plan->point_request[p]];
        FUZZ_CHECK(request->table == point->table);
        FUZZ_CHECK(point->address == request->address + plan->point_offset[p]);
        FUZZ_CHECK(plan->point_offset[p] + codec_point_width(point) <= request->count);
        FUZZ_CHECK(readplan_point_buffer_index(plan, p) + codec_point_width(point) <=
                   plan->buffer_count);
    }
}

/* What the poll loop leaves in the plan's buffer, from the reply bytes. */
static uint16_t *fill_buffer(const struct read_plan *plan, const uint8_t *data, size_t size)
{
    uint16_t *buffer = calloc(plan->buffer_count ? plan->buffer_count : 1, sizeof *buffer);
    FUZZ_CHECK(buffer != NULL);
    size_t used = 0;
    for (size_t r = 0; r < plan->request_count; r++) {
        const struct read_request *request = &plan->requests[r];
        bool bits = request->table == TABLE_COIL || request->table == TABLE_DISCRETE;
        for (size_t i = 0; i < request->count; i++) {
            uint16_t word = 0;
            if (bits && used < size)
                word = data[used++] & 1;
            else if (!bits && used + 2 <= size) {
                word = (uint16_t)(data[used] << 8 | data[used + 1]);
                used += 2;
            }
            buffer[request->buffer_offset + i] = word;
        }
    }
    return buffer;
}

/* Decode, then encode the value: the same registers, where the types make that exact. */
static void check_round_trip(const struct point_def *point, const uint16_t *regs, double value)
{
    uint16_t encoded[2] = {0, 0};
    unsigned width = codec_point_width(point);
    if (point->type == TYPE_FLOAT32 && (point->offset != 0 || !isfinite(value)))
        return; /* an offset rounds away a float's low bits; NaN and infinities do not encode */
    if (point->type == TYPE_BOOL && regs[0] > 1)
        return; /* any non-zero bit reads as 1 */
    FUZZ_CHECK(codec_encode(point, value, encoded) == 0);
    if (point->type == TYPE_FLOAT32) /* -0 + 0 is +0: the same value, another pattern */
        FUZZ_CHECK(codec_decode(point, encoded) == value);
    else
        FUZZ_CHECK(memcmp(encoded, regs, width * sizeof *regs) == 0);
}

static void decode_every_point(const struct profile *profile, const struct read_plan *plan,
                               const uint16_t *buffer)
{
    for (size_t p = 0; p < profile->point_count; p++) {
        const struct point_def *point = &profile->points[p];
        const uint16_t *regs = buffer + readplan_point_buffer_index(plan, p);
        double raw = codec_decode_raw(point, regs);
        double value = codec_decode(point, regs);
        FUZZ_CHECK(isnan(raw) == isnan(value) || isinf(raw));
        if (point->type != TYPE_FLOAT32)
            FUZZ_CHECK(isfinite(raw));
        for (size_t b = 0; b < point->bit_count; b++) {
            int bit = codec_decode_bit(point, regs, point->bits[b].bit);
            FUZZ_CHECK(bit == 0 || bit == 1);
            FUZZ_CHECK(bit == (((unsigned)raw >> point->bits[b].bit) & 1u));
        }
        check_round_trip(point, regs, value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct profile derived;
    struct point_def points[MAX_DERIVED_POINTS];
    const struct profile *profile;
    size_t used = 1;
    if (data[0] % 4 < 3) {
        profile = shipped[data[0] % 4];
    } else {
        used += derive_profile(data + 1, size - 1, &derived, points);
        if (used > size || size - used == 0 || used < 4)
            return 0;
        profile = &derived;
    }
    struct read_plan plan;
    char error[256];
    if (readplan_build(profile, &plan, error, sizeof error) != 0) {
        FUZZ_CHECK(error[0] != '\0');
        FUZZ_CHECK(plan.requests == NULL && plan.request_count == 0);
        return 0;
    }
    check_plan(profile, &plan);
    uint16_t *buffer = fill_buffer(&plan, data + used, size - used);
    decode_every_point(profile, &plan, buffer);
    free(buffer);
    readplan_free(&plan);
    return 0;
}
