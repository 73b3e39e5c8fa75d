/*
 * test_codec.c — register codec: every type, word order and byte order, with
 * register pairs written out so a swapped word or byte cannot pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>

#include "assert_close.h"
#include "codec.h"

/* 123.456f is 0x42F6E979: A=0x42 B=0xF6 C=0xE9 D=0x79. */
#define FLOAT_123_456_BITS 0x42F6E979u

static struct point_def point_of(enum point_type type, enum word_order word_order,
                                 enum byte_order byte_order)
{
    return (struct point_def){
        .name = "test_point",
        .table = type == TYPE_BOOL ? TABLE_COIL : TABLE_HOLDING,
        .type = type,
        .word_order = word_order,
        .byte_order = byte_order,
        .scale = 1.0,
        .offset = 0.0,
        .block_instance = -1,
    };
}

static struct point_def plain(enum point_type type)
{
    return point_of(type, WORD_ORDER_BIG, BYTE_ORDER_BIG);
}

static void assert_registers(const uint16_t *regs, uint16_t first, uint16_t second)
{
    if (regs[0] != first || regs[1] != second)
        fail_msg("registers {0x%04X, 0x%04X}, expected {0x%04X, 0x%04X}", regs[0], regs[1], first,
                 second);
}

/* --- width --- */

static void test_32_bit_types_take_two_registers_others_one(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_UINT32);
    assert_int_equal(codec_point_width(&point), 2);
    point = plain(TYPE_INT32);
    assert_int_equal(codec_point_width(&point), 2);
    point = plain(TYPE_FLOAT32);
    assert_int_equal(codec_point_width(&point), 2);
    point = plain(TYPE_UINT16);
    assert_int_equal(codec_point_width(&point), 1);
    point = plain(TYPE_INT16);
    assert_int_equal(codec_point_width(&point), 1);
    point = plain(TYPE_BITS);
    assert_int_equal(codec_point_width(&point), 1);
    point = plain(TYPE_BOOL);
    assert_int_equal(codec_point_width(&point), 1);
}

/* --- 16-bit types --- */

static void test_uint16_ffff_is_65535(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_UINT16);
    uint16_t regs[] = {0xFFFF};
    assert_close(codec_decode_raw(&point, regs), 65535.0, 0);
}

static void test_int16_8000_is_minus_32768(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_INT16);
    uint16_t regs[] = {0x8000};
    assert_close(codec_decode_raw(&point, regs), -32768.0, 0);
}

static void test_int16_ffff_is_minus_one(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_INT16);
    uint16_t regs[] = {0xFFFF};
    assert_close(codec_decode_raw(&point, regs), -1.0, 0);
}

static void test_int16_little_byte_order_swaps_the_two_bytes(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_INT16, WORD_ORDER_BIG, BYTE_ORDER_LITTLE);
    uint16_t regs[] = {0x38FF}; /* 0xFF38 = -200 */
    assert_close(codec_decode_raw(&point, regs), -200.0, 0);
}

static void test_uint16_little_byte_order_swaps_the_two_bytes(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_UINT16, WORD_ORDER_BIG, BYTE_ORDER_LITTLE);
    uint16_t regs[] = {0x3412};
    assert_close(codec_decode_raw(&point, regs), 0x1234, 0);
}

/* --- 32-bit integers in every order --- */

static void test_uint32_abcd_is_high_word_first(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_UINT32, WORD_ORDER_BIG, BYTE_ORDER_BIG);
    uint16_t regs[] = {0x1234, 0x5678};
    assert_close(codec_decode_raw(&point, regs), 0x12345678, 0);
}

static void test_uint32_cdab_is_low_word_first(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_UINT32, WORD_ORDER_LITTLE, BYTE_ORDER_BIG);
    uint16_t regs[] = {0x5678, 0x1234};
    assert_close(codec_decode_raw(&point, regs), 0x12345678, 0);
}

static void test_uint32_badc_swaps_bytes_in_each_word(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_UINT32, WORD_ORDER_BIG, BYTE_ORDER_LITTLE);
    uint16_t regs[] = {0x3412, 0x7856};
    assert_close(codec_decode_raw(&point, regs), 0x12345678, 0);
}

static void test_uint32_dcba_is_fully_reversed(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_UINT32, WORD_ORDER_LITTLE, BYTE_ORDER_LITTLE);
    uint16_t regs[] = {0x7856, 0x3412};
    assert_close(codec_decode_raw(&point, regs), 0x12345678, 0);
}

static void test_uint32_ffffffff_is_4294967295(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_UINT32);
    uint16_t regs[] = {0xFFFF, 0xFFFF};
    assert_close(codec_decode_raw(&point, regs), 4294967295.0, 0);
}

static void test_int32_ffff_fffe_is_minus_two(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_INT32);
    uint16_t regs[] = {0xFFFF, 0xFFFE};
    assert_close(codec_decode_raw(&point, regs), -2.0, 0);
}

static void test_int32_cdab_fffe_ffff_is_minus_two(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_INT32, WORD_ORDER_LITTLE, BYTE_ORDER_BIG);
    uint16_t regs[] = {0xFFFE, 0xFFFF};
    assert_close(codec_decode_raw(&point, regs), -2.0, 0);
}

static void test_int32_8000_0000_is_the_minimum(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_INT32);
    uint16_t regs[] = {0x8000, 0x0000};
    assert_close(codec_decode_raw(&point, regs), -2147483648.0, 0);
}

/* --- float32 in every order --- */

static void test_float32_abcd_decodes_123_456(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_FLOAT32, WORD_ORDER_BIG, BYTE_ORDER_BIG);
    uint16_t regs[] = {0x42F6, 0xE979};
    assert_close(codec_decode_raw(&point, regs), 123.456f, 0);
}

static void test_float32_cdab_decodes_123_456(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_FLOAT32, WORD_ORDER_LITTLE, BYTE_ORDER_BIG);
    uint16_t regs[] = {0xE979, 0x42F6};
    assert_close(codec_decode_raw(&point, regs), 123.456f, 0);
}

static void test_float32_badc_decodes_123_456(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_FLOAT32, WORD_ORDER_BIG, BYTE_ORDER_LITTLE);
    uint16_t regs[] = {0xF642, 0x79E9};
    assert_close(codec_decode_raw(&point, regs), 123.456f, 0);
}

static void test_float32_dcba_decodes_123_456(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_FLOAT32, WORD_ORDER_LITTLE, BYTE_ORDER_LITTLE);
    uint16_t regs[] = {0x79E9, 0xF642};
    assert_close(codec_decode_raw(&point, regs), 123.456f, 0);
}

static void test_float32_encodes_123_456_in_every_order(void **unused)
{
    (void)unused;
    struct {
        enum word_order word_order;
        enum byte_order byte_order;
        uint16_t first, second;
    } cases[] = {
        {WORD_ORDER_BIG, BYTE_ORDER_BIG, 0x42F6, 0xE979},       /* ABCD */
        {WORD_ORDER_LITTLE, BYTE_ORDER_BIG, 0xE979, 0x42F6},    /* CDAB */
        {WORD_ORDER_BIG, BYTE_ORDER_LITTLE, 0xF642, 0x79E9},    /* BADC */
        {WORD_ORDER_LITTLE, BYTE_ORDER_LITTLE, 0x79E9, 0xF642}, /* DCBA */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct point_def point = point_of(TYPE_FLOAT32, cases[i].word_order, cases[i].byte_order);
        uint16_t regs[2] = {0};
        assert_int_equal(codec_encode(&point, 123.456f, regs), 0);
        assert_registers(regs, cases[i].first, cases[i].second);
    }
}

static void test_float32_nan_pattern_decodes_as_nan(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_FLOAT32);
    uint16_t regs[] = {0x7FC0, 0x0000};
    assert_true(isnan(codec_decode(&point, regs)));
}

/* --- scale and offset --- */

static void test_scale_tenth_of_275_is_27_5(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_UINT16);
    point.scale = 0.1;
    uint16_t regs[] = {275};
    assert_close(codec_decode_raw(&point, regs), 275.0, 0);
    assert_close(codec_decode(&point, regs), 27.5, 1e-9);
}

static void test_offset_is_added_after_scale(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_INT16);
    point.scale = 0.1;
    point.offset = -40.0;
    uint16_t regs[] = {500}; /* 500 * 0.1 - 40 */
    assert_close(codec_decode(&point, regs), 10.0, 1e-9);
}

static void test_negative_scaled_temperature(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_INT16);
    point.scale = 0.1;
    uint16_t regs[] = {0xFF9C}; /* -100 */
    assert_close(codec_decode(&point, regs), -10.0, 1e-9);
}

static void test_encode_undoes_scale_and_offset(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_INT16);
    point.scale = 0.1;
    point.offset = -40.0;
    uint16_t regs[1] = {0};
    assert_int_equal(codec_encode(&point, 10.0, regs), 0);
    assert_int_equal(regs[0], 500);
}

static void test_encode_rounds_to_the_nearest_raw_step(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_UINT16);
    point.scale = 0.1;
    uint16_t regs[1] = {0};
    assert_int_equal(codec_encode(&point, 27.46, regs), 0);
    assert_int_equal(regs[0], 275);
    assert_int_equal(codec_encode(&point, 27.44, regs), 0);
    assert_int_equal(regs[0], 274);
    assert_int_equal(codec_encode(&point, 27.5, regs), 0); /* 274.99999... in binary */
    assert_int_equal(regs[0], 275);
}

static void test_encode_rounds_negative_values_to_the_nearest_step(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_INT16);
    uint16_t regs[1] = {0};
    assert_int_equal(codec_encode(&point, -2.4, regs), 0);
    assert_int_equal(regs[0], 0xFFFE);
    assert_int_equal(codec_encode(&point, -2.6, regs), 0);
    assert_int_equal(regs[0], 0xFFFD);
}

/* --- encode range checks --- */

static void assert_rejected(enum point_type type, double value)
{
    struct point_def point = plain(type);
    uint16_t regs[2] = {0xAAAA, 0xAAAA};
    if (codec_encode(&point, value, regs) != -1)
        fail_msg("type %d accepted %.17g", (int)type, value);
    assert_registers(regs, 0xAAAA, 0xAAAA);
}

static void test_encode_rejects_values_the_type_cannot_hold(void **unused)
{
    (void)unused;
    assert_rejected(TYPE_UINT16, -1.0);
    assert_rejected(TYPE_UINT16, 70000.0);
    assert_rejected(TYPE_UINT16, 65535.5); /* rounds to 65536 */
    assert_rejected(TYPE_INT16, 40000.0);
    assert_rejected(TYPE_INT16, 32767.5);
    assert_rejected(TYPE_INT16, -32769.0);
    assert_rejected(TYPE_UINT32, -1.0);
    assert_rejected(TYPE_UINT32, 4294967296.0);
    assert_rejected(TYPE_INT32, 2147483648.0);
    assert_rejected(TYPE_INT32, -2147483649.0);
    assert_rejected(TYPE_BITS, 65536.0);
    assert_rejected(TYPE_BOOL, 2.0);
    assert_rejected(TYPE_BOOL, -1.0);
    assert_rejected(TYPE_FLOAT32, 1e39);
    assert_rejected(TYPE_FLOAT32, -1e39);
}

static void test_encode_rejects_nan_and_infinity(void **unused)
{
    (void)unused;
    enum point_type types[] = {TYPE_BOOL,  TYPE_UINT16,  TYPE_INT16, TYPE_UINT32,
                               TYPE_INT32, TYPE_FLOAT32, TYPE_BITS};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        assert_rejected(types[i], NAN);
        assert_rejected(types[i], INFINITY);
        assert_rejected(types[i], -INFINITY);
    }
}

static void test_encode_rejects_a_value_that_scales_out_of_range(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_UINT16);
    point.scale = 0.1;
    uint16_t regs[1] = {0xAAAA};
    assert_int_equal(codec_encode(&point, 6553.6, regs), -1); /* raw 65536 */
    assert_int_equal(regs[0], 0xAAAA);
    assert_int_equal(codec_encode(&point, 6553.5, regs), 0);
    assert_int_equal(regs[0], 65535);
}

static void test_encode_accepts_the_limits_of_each_type(void **unused)
{
    (void)unused;
    uint16_t regs[2] = {0};
    struct point_def point = plain(TYPE_UINT16);
    assert_int_equal(codec_encode(&point, 65535.0, regs), 0);
    assert_int_equal(regs[0], 0xFFFF);
    assert_int_equal(codec_encode(&point, 0.0, regs), 0);
    assert_int_equal(regs[0], 0x0000);

    point = plain(TYPE_INT16);
    assert_int_equal(codec_encode(&point, -32768.0, regs), 0);
    assert_int_equal(regs[0], 0x8000);
    assert_int_equal(codec_encode(&point, 32767.0, regs), 0);
    assert_int_equal(regs[0], 0x7FFF);

    point = plain(TYPE_UINT32);
    assert_int_equal(codec_encode(&point, 4294967295.0, regs), 0);
    assert_registers(regs, 0xFFFF, 0xFFFF);

    point = plain(TYPE_INT32);
    assert_int_equal(codec_encode(&point, -2147483648.0, regs), 0);
    assert_registers(regs, 0x8000, 0x0000);
    assert_int_equal(codec_encode(&point, 2147483647.0, regs), 0);
    assert_registers(regs, 0x7FFF, 0xFFFF);

    point = plain(TYPE_FLOAT32);
    assert_int_equal(codec_encode(&point, FLT_MAX, regs), 0);
    assert_registers(regs, 0x7F7F, 0xFFFF);
}

static void test_encode_int32_minus_two_in_every_order(void **unused)
{
    (void)unused;
    uint16_t regs[2] = {0};
    struct point_def point = point_of(TYPE_INT32, WORD_ORDER_BIG, BYTE_ORDER_BIG);
    assert_int_equal(codec_encode(&point, -2.0, regs), 0);
    assert_registers(regs, 0xFFFF, 0xFFFE);
    point = point_of(TYPE_INT32, WORD_ORDER_LITTLE, BYTE_ORDER_BIG);
    assert_int_equal(codec_encode(&point, -2.0, regs), 0);
    assert_registers(regs, 0xFFFE, 0xFFFF);
    point = point_of(TYPE_INT32, WORD_ORDER_BIG, BYTE_ORDER_LITTLE);
    assert_int_equal(codec_encode(&point, -2.0, regs), 0);
    assert_registers(regs, 0xFFFF, 0xFEFF);
    point = point_of(TYPE_INT32, WORD_ORDER_LITTLE, BYTE_ORDER_LITTLE);
    assert_int_equal(codec_encode(&point, -2.0, regs), 0);
    assert_registers(regs, 0xFEFF, 0xFFFF);
}

static void test_encode_uint32_0x12345678_in_every_order(void **unused)
{
    (void)unused;
    uint16_t regs[2] = {0};
    struct point_def point = point_of(TYPE_UINT32, WORD_ORDER_BIG, BYTE_ORDER_BIG);
    assert_int_equal(codec_encode(&point, 0x12345678, regs), 0);
    assert_registers(regs, 0x1234, 0x5678);
    point = point_of(TYPE_UINT32, WORD_ORDER_LITTLE, BYTE_ORDER_BIG);
    assert_int_equal(codec_encode(&point, 0x12345678, regs), 0);
    assert_registers(regs, 0x5678, 0x1234);
    point = point_of(TYPE_UINT32, WORD_ORDER_BIG, BYTE_ORDER_LITTLE);
    assert_int_equal(codec_encode(&point, 0x12345678, regs), 0);
    assert_registers(regs, 0x3412, 0x7856);
    point = point_of(TYPE_UINT32, WORD_ORDER_LITTLE, BYTE_ORDER_LITTLE);
    assert_int_equal(codec_encode(&point, 0x12345678, regs), 0);
    assert_registers(regs, 0x7856, 0x3412);
}

static void test_encode_int16_little_byte_order(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_INT16, WORD_ORDER_BIG, BYTE_ORDER_LITTLE);
    uint16_t regs[1] = {0};
    assert_int_equal(codec_encode(&point, -200.0, regs), 0);
    assert_int_equal(regs[0], 0x38FF);
}

/* --- round trips --- */

static void test_every_type_and_order_round_trips(void **unused)
{
    (void)unused;
    struct {
        enum point_type type;
        double values[6];
    } cases[] = {
        {TYPE_UINT16, {0, 1, 255, 256, 0x1234, 65535}},
        {TYPE_INT16, {0, 1, -1, -32768, 32767, -200}},
        {TYPE_UINT32, {0, 1, 65535, 65536, 0x12345678, 4294967295.0}},
        {TYPE_INT32, {0, -1, -2, 65536, -2147483648.0, 2147483647.0}},
        {TYPE_FLOAT32, {0, -1.5, 123.456f, 1e-30f, -3.4e38f, 27.5}},
        {TYPE_BITS, {0, 1, 0x8000, 0x00FF, 0xFF00, 0xFFFF}},
    };
    enum word_order word_orders[] = {WORD_ORDER_BIG, WORD_ORDER_LITTLE};
    enum byte_order byte_orders[] = {BYTE_ORDER_BIG, BYTE_ORDER_LITTLE};

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t w = 0; w < 2; w++)
            for (size_t b = 0; b < 2; b++)
                for (size_t v = 0; v < 6; v++) {
                    struct point_def point =
                        point_of(cases[c].type, word_orders[w], byte_orders[b]);
                    double value = cases[c].values[v];
                    uint16_t regs[2] = {0};
                    assert_int_equal(codec_encode(&point, value, regs), 0);
                    assert_close(codec_decode(&point, regs), value, 0);
                }
}

static void test_scaled_values_round_trip_to_the_nearest_step(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_INT32, WORD_ORDER_LITTLE, BYTE_ORDER_BIG);
    point.scale = 0.01;
    point.offset = 5.0;
    double values[] = {-1234.56, 0.0, 5.0, 99999.99};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint16_t regs[2] = {0};
        assert_int_equal(codec_encode(&point, values[i], regs), 0);
        assert_close(codec_decode(&point, regs), values[i], 1e-6);
    }
}

static void test_bool_round_trips_and_any_nonzero_reads_as_one(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_BOOL);
    uint16_t regs[1] = {0};
    assert_int_equal(codec_encode(&point, 1.0, regs), 0);
    assert_int_equal(regs[0], 1);
    assert_close(codec_decode(&point, regs), 1.0, 0);
    assert_int_equal(codec_encode(&point, 0.0, regs), 0);
    assert_int_equal(regs[0], 0);
    assert_close(codec_decode(&point, regs), 0.0, 0);
    regs[0] = 0xFF00; /* what a coil write looks like on the wire */
    assert_close(codec_decode(&point, regs), 1.0, 0);
}

/* --- bits --- */

static void test_bits_decode_each_named_bit(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_BITS);
    uint16_t regs[] = {0x8012}; /* bits 1, 4 and 15 */
    for (unsigned bit = 0; bit < 16; bit++) {
        int expected = (bit == 1 || bit == 4 || bit == 15) ? 1 : 0;
        if (codec_decode_bit(&point, regs, bit) != expected)
            fail_msg("bit %u: expected %d", bit, expected);
    }
    assert_close(codec_decode_raw(&point, regs), 0x8012, 0);
}

static void test_bits_little_byte_order_numbers_bits_of_the_swapped_word(void **unused)
{
    (void)unused;
    struct point_def point = point_of(TYPE_BITS, WORD_ORDER_BIG, BYTE_ORDER_LITTLE);
    uint16_t regs[] = {0x1280}; /* the device meant 0x8012 */
    assert_int_equal(codec_decode_bit(&point, regs, 1), 1);
    assert_int_equal(codec_decode_bit(&point, regs, 4), 1);
    assert_int_equal(codec_decode_bit(&point, regs, 15), 1);
    assert_int_equal(codec_decode_bit(&point, regs, 7), 0);
    assert_int_equal(codec_decode_bit(&point, regs, 12), 0);
}

static void test_bit_beyond_15_reads_as_zero(void **unused)
{
    (void)unused;
    struct point_def point = plain(TYPE_BITS);
    uint16_t regs[] = {0xFFFF};
    assert_int_equal(codec_decode_bit(&point, regs, 16), 0);
    assert_int_equal(codec_decode_bit(&point, regs, 31), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_32_bit_types_take_two_registers_others_one),
        cmocka_unit_test(test_uint16_ffff_is_65535),
        cmocka_unit_test(test_int16_8000_is_minus_32768),
        cmocka_unit_test(test_int16_ffff_is_minus_one),
        cmocka_unit_test(test_int16_little_byte_order_swaps_the_two_bytes),
        cmocka_unit_test(test_uint16_little_byte_order_swaps_the_two_bytes),
        cmocka_unit_test(test_uint32_abcd_is_high_word_first),
        cmocka_unit_test(test_uint32_cdab_is_low_word_first),
        cmocka_unit_test(test_uint32_badc_swaps_bytes_in_each_word),
        cmocka_unit_test(test_uint32_dcba_is_fully_reversed),
        cmocka_unit_test(test_uint32_ffffffff_is_4294967295),
        cmocka_unit_test(test_int32_ffff_fffe_is_minus_two),
        cmocka_unit_test(test_int32_cdab_fffe_ffff_is_minus_two),
        cmocka_unit_test(test_int32_8000_0000_is_the_minimum),
        cmocka_unit_test(test_float32_abcd_decodes_123_456),
        cmocka_unit_test(test_float32_cdab_decodes_123_456),
        cmocka_unit_test(test_float32_badc_decodes_123_456),
        cmocka_unit_test(test_float32_dcba_decodes_123_456),
        cmocka_unit_test(test_float32_encodes_123_456_in_every_order),
        cmocka_unit_test(test_float32_nan_pattern_decodes_as_nan),
        cmocka_unit_test(test_scale_tenth_of_275_is_27_5),
        cmocka_unit_test(test_offset_is_added_after_scale),
        cmocka_unit_test(test_negative_scaled_temperature),
        cmocka_unit_test(test_encode_undoes_scale_and_offset),
        cmocka_unit_test(test_encode_rounds_to_the_nearest_raw_step),
        cmocka_unit_test(test_encode_rounds_negative_values_to_the_nearest_step),
        cmocka_unit_test(test_encode_rejects_values_the_type_cannot_hold),
        cmocka_unit_test(test_encode_rejects_nan_and_infinity),
        cmocka_unit_test(test_encode_rejects_a_value_that_scales_out_of_range),
        cmocka_unit_test(test_encode_accepts_the_limits_of_each_type),
        cmocka_unit_test(test_encode_int32_minus_two_in_every_order),
        cmocka_unit_test(test_encode_uint32_0x12345678_in_every_order),
        cmocka_unit_test(test_encode_int16_little_byte_order),
        cmocka_unit_test(test_every_type_and_order_round_trips),
        cmocka_unit_test(test_scaled_values_round_trip_to_the_nearest_step),
        cmocka_unit_test(test_bool_round_trips_and_any_nonzero_reads_as_one),
        cmocka_unit_test(test_bits_decode_each_named_bit),
        cmocka_unit_test(test_bits_little_byte_order_numbers_bits_of_the_swapped_word),
        cmocka_unit_test(test_bit_beyond_15_reads_as_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
