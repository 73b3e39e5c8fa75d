/*
 * test_readplan.c — merging a profile's points into Modbus read requests:
 * max_gap, max_registers, 32-bit points, tables, and where each point lands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "readplan.h"

#define MAX_POINTS 2100

/* A profile whose points the test fills in; static: too big for the stack. */
static struct point_def points[MAX_POINTS];
static char point_names[MAX_POINTS][32];

static struct profile profile_of(size_t point_count, uint16_t max_registers, uint16_t max_gap)
{
    return (struct profile){
        .name = "test-profile",
        .kind = "test",
        .points = points,
        .point_count = point_count,
        .max_registers = max_registers,
        .max_gap = max_gap,
        .poll_ms = 1000,
    };
}

static void set_point(size_t index, enum point_table table, uint16_t address, enum point_type type)
{
    snprintf(point_names[index], sizeof point_names[index], "point%zu", index);
    points[index] = (struct point_def){
        .name = point_names[index],
        .table = table,
        .address = address,
        .type = type,
        .scale = 1.0,
        .block_instance = -1,
    };
}

static void assert_request(const struct read_plan *plan, size_t index, enum point_table table,
                           uint16_t address, uint16_t count)
{
    if (index >= plan->request_count)
        fail_msg("request %zu missing: only %zu", index, plan->request_count);
    const struct read_request *request = &plan->requests[index];
    if (request->table != table || request->address != address || request->count != count)
        fail_msg("request %zu is table %d address %u count %u, expected table %d address %u "
                 "count %u",
                 index, (int)request->table, request->address, request->count, (int)table, address,
                 count);
}

/* Every point lies wholly inside its request, in its own table. */
static void assert_every_point_located(const struct profile *profile, const struct read_plan *plan)
{
    assert_int_equal(plan->point_count, profile->point_count);
    for (size_t i = 0; i < profile->point_count; i++) {
        const struct point_def *point = &profile->points[i];
        assert_true(plan->point_request[i] < plan->request_count);
        const struct read_request *request = &plan->requests[plan->point_request[i]];
        unsigned width = codec_point_width(point);
        if (request->table != point->table ||
            request->address + plan->point_offset[i] != point->address ||
            plan->point_offset[i] + width > request->count)
            fail_msg("point %s (address %u) placed at offset %u of request %u (address %u, "
                     "count %u)",
                     point->name, point->address, plan->point_offset[i], plan->point_request[i],
                     request->address, request->count);
    }
}

static struct read_plan build_ok(const struct profile *profile)
{
    struct read_plan plan;
    char error[256] = "";
    if (readplan_build(profile, &plan, error, sizeof error) != 0)
        fail_msg("readplan_build failed: %s", error);
    assert_every_point_located(profile, &plan);
    return plan;
}

static void test_contiguous_points_merge_into_one_request(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < 8; i++)
        set_point(i, TABLE_HOLDING, (uint16_t)i, TYPE_UINT16);
    struct profile profile = profile_of(8, 125, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 1);
    assert_request(&plan, 0, TABLE_HOLDING, 0, 8);
    readplan_free(&plan);
}

static void test_gap_larger_than_max_gap_splits(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    set_point(1, TABLE_HOLDING, 4, TYPE_UINT16); /* registers 1, 2, 3 unused */
    struct profile profile = profile_of(2, 125, 2);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, TABLE_HOLDING, 0, 1);
    assert_request(&plan, 1, TABLE_HOLDING, 4, 1);
    readplan_free(&plan);
}

static void test_gap_equal_to_max_gap_merges(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    set_point(1, TABLE_HOLDING, 4, TYPE_UINT16); /* registers 1, 2, 3 unused */
    struct profile profile = profile_of(2, 125, 3);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 1);
    assert_request(&plan, 0, TABLE_HOLDING, 0, 5);
    assert_int_equal(plan.point_offset[1], 4);
    readplan_free(&plan);
}

static void test_max_gap_zero_merges_only_adjacent_points(void **unused)
{
    (void)unused;
    set_point(0, TABLE_INPUT, 10, TYPE_UINT16);
    set_point(1, TABLE_INPUT, 11, TYPE_UINT16);
    set_point(2, TABLE_INPUT, 13, TYPE_UINT16);
    struct profile profile = profile_of(3, 125, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, TABLE_INPUT, 10, 2);
    assert_request(&plan, 1, TABLE_INPUT, 13, 1);
    readplan_free(&plan);
}

static void test_gap_is_counted_from_the_end_of_a_32_bit_point(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT32); /* registers 0, 1 */
    set_point(1, TABLE_HOLDING, 4, TYPE_UINT16); /* registers 2, 3 unused */
    struct profile merging = profile_of(2, 125, 2);
    struct read_plan plan = build_ok(&merging);
    assert_int_equal(plan.request_count, 1);
    assert_request(&plan, 0, TABLE_HOLDING, 0, 5);
    readplan_free(&plan);

    struct profile splitting = profile_of(2, 125, 1);
    plan = build_ok(&splitting);
    assert_int_equal(plan.request_count, 2);
    readplan_free(&plan);
}

static void test_max_registers_splits_ten_registers_into_4_4_2(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < 10; i++)
        set_point(i, TABLE_HOLDING, (uint16_t)(100 + i), TYPE_UINT16);
    struct profile profile = profile_of(10, 4, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 3);
    assert_request(&plan, 0, TABLE_HOLDING, 100, 4);
    assert_request(&plan, 1, TABLE_HOLDING, 104, 4);
    assert_request(&plan, 2, TABLE_HOLDING, 108, 2);
    assert_int_equal(plan.point_request[9], 2);
    assert_int_equal(plan.point_offset[9], 1);
    readplan_free(&plan);
}

static void test_max_registers_counts_the_gap_it_spans(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    set_point(1, TABLE_HOLDING, 3, TYPE_UINT16); /* merged read would be 4 registers */
    struct profile profile = profile_of(2, 3, 5);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 2);
    readplan_free(&plan);
}

static void test_32_bit_point_at_a_boundary_moves_whole_to_the_next_request(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    set_point(1, TABLE_HOLDING, 1, TYPE_UINT16);
    set_point(2, TABLE_HOLDING, 2, TYPE_UINT16);
    set_point(3, TABLE_HOLDING, 3, TYPE_FLOAT32); /* registers 3, 4: would make 5 */
    struct profile profile = profile_of(4, 4, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, TABLE_HOLDING, 0, 3);
    assert_request(&plan, 1, TABLE_HOLDING, 3, 2);
    assert_int_equal(plan.point_request[3], 1);
    assert_int_equal(plan.point_offset[3], 0);
    readplan_free(&plan);
}

static void test_32_bit_point_that_ends_on_the_limit_stays(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    set_point(1, TABLE_HOLDING, 1, TYPE_UINT16);
    set_point(2, TABLE_HOLDING, 2, TYPE_INT32);
    struct profile profile = profile_of(3, 4, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 1);
    assert_request(&plan, 0, TABLE_HOLDING, 0, 4);
    readplan_free(&plan);
}

static void test_tables_never_mix(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    set_point(1, TABLE_INPUT, 1, TYPE_UINT16);
    set_point(2, TABLE_COIL, 0, TYPE_BOOL);
    set_point(3, TABLE_DISCRETE, 1, TYPE_BOOL);
    struct profile profile = profile_of(4, 125, 10);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 4);
    assert_request(&plan, 0, TABLE_COIL, 0, 1);
    assert_request(&plan, 1, TABLE_DISCRETE, 1, 1);
    assert_request(&plan, 2, TABLE_INPUT, 1, 1);
    assert_request(&plan, 3, TABLE_HOLDING, 0, 1);
    readplan_free(&plan);
}

static void test_points_in_any_order_are_sorted_by_table_and_address(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 7, TYPE_UINT16);
    set_point(1, TABLE_INPUT, 50, TYPE_INT16);
    set_point(2, TABLE_HOLDING, 5, TYPE_UINT32);
    set_point(3, TABLE_HOLDING, 0, TYPE_BITS);
    set_point(4, TABLE_INPUT, 48, TYPE_UINT16);
    set_point(5, TABLE_HOLDING, 1, TYPE_UINT16);
    struct profile profile = profile_of(6, 125, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 4);
    assert_request(&plan, 0, TABLE_INPUT, 48, 1);
    assert_request(&plan, 1, TABLE_INPUT, 50, 1);
    assert_request(&plan, 2, TABLE_HOLDING, 0, 2);
    assert_request(&plan, 3, TABLE_HOLDING, 5, 3);
    assert_int_equal(plan.point_request[0], 3);
    assert_int_equal(plan.point_offset[0], 2);
    assert_int_equal(plan.point_request[2], 3);
    assert_int_equal(plan.point_offset[2], 0);
    assert_int_equal(plan.point_request[5], 2);
    assert_int_equal(plan.point_offset[5], 1);
    readplan_free(&plan);
}

static void test_coils_merge_up_to_2000_bits_whatever_max_registers(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < 2001; i++)
        set_point(i, TABLE_COIL, (uint16_t)i, TYPE_BOOL);
    struct profile profile = profile_of(2001, 4, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, TABLE_COIL, 0, 2000);
    assert_request(&plan, 1, TABLE_COIL, 2000, 1);
    readplan_free(&plan);
}

static void test_max_gap_applies_to_discrete_inputs(void **unused)
{
    (void)unused;
    set_point(0, TABLE_DISCRETE, 0, TYPE_BOOL);
    set_point(1, TABLE_DISCRETE, 4, TYPE_BOOL);
    set_point(2, TABLE_DISCRETE, 9, TYPE_BOOL);
    struct profile profile = profile_of(3, 125, 3);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, TABLE_DISCRETE, 0, 5);
    assert_request(&plan, 1, TABLE_DISCRETE, 9, 1);
    readplan_free(&plan);
}

static void test_max_registers_above_125_is_held_to_the_modbus_limit(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < 130; i++)
        set_point(i, TABLE_INPUT, (uint16_t)i, TYPE_UINT16);
    struct profile profile = profile_of(130, 200, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, TABLE_INPUT, 0, 125);
    assert_request(&plan, 1, TABLE_INPUT, 125, 5);
    readplan_free(&plan);
}

/* The ebike-charger-10 map in DOMAIN.md: cabinet IR0..3, ten ports at 0x100 + 16 p. */
static size_t set_charger_points(void)
{
    size_t n = 0;
    for (uint16_t address = 0; address < 4; address++)
        set_point(n++, TABLE_INPUT, address, TYPE_UINT16);
    for (uint16_t port = 0; port < 10; port++) {
        uint16_t base = (uint16_t)(0x100 + 16 * port);
        set_point(n++, TABLE_INPUT, base + 0, TYPE_UINT16); /* state */
        set_point(n++, TABLE_INPUT, base + 1, TYPE_UINT16); /* voltage */
        set_point(n++, TABLE_INPUT, base + 2, TYPE_UINT16); /* current */
        set_point(n++, TABLE_INPUT, base + 3, TYPE_UINT16); /* power */
        set_point(n++, TABLE_INPUT, base + 4, TYPE_UINT32); /* energy, + 4 and 5 */
        set_point(n++, TABLE_INPUT, base + 6, TYPE_INT16);  /* temperature */
        set_point(n++, TABLE_INPUT, base + 7, TYPE_BITS);   /* alarm bits */
        set_point(n++, TABLE_INPUT, base + 8, TYPE_UINT16); /* minutes charging */
    }
    for (uint16_t address = 0x20; address < 0x24; address++)
        set_point(n++, TABLE_HOLDING, address, TYPE_UINT16);
    return n;
}

static void test_ten_port_charger_reads_in_four_requests(void **unused)
{
    (void)unused;
    /* Ports 0..7 span 0x100..0x178 (121 registers); port 8 would make 137 > 125. */
    size_t n = set_charger_points();
    struct profile profile = profile_of(n, 125, 7);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 4);
    assert_request(&plan, 0, TABLE_INPUT, 0, 4);
    assert_request(&plan, 1, TABLE_INPUT, 0x100, 121);
    assert_request(&plan, 2, TABLE_INPUT, 0x180, 25);
    assert_request(&plan, 3, TABLE_HOLDING, 0x20, 4);
    readplan_free(&plan);
}

static void test_ten_port_charger_with_smaller_gap_reads_each_port_alone(void **unused)
{
    (void)unused;
    size_t n = set_charger_points();
    struct profile profile = profile_of(n, 125, 6); /* 7 unused registers between ports */
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 12);
    for (size_t port = 0; port < 10; port++)
        assert_request(&plan, 1 + port, TABLE_INPUT, (uint16_t)(0x100 + 16 * port), 9);
    readplan_free(&plan);
}

static void test_buffer_places_requests_back_to_back(void **unused)
{
    (void)unused;
    size_t n = set_charger_points();
    struct profile profile = profile_of(n, 125, 7);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.buffer_count, 4 + 121 + 25 + 4);
    assert_int_equal(plan.requests[0].buffer_offset, 0);
    assert_int_equal(plan.requests[1].buffer_offset, 4);
    assert_int_equal(plan.requests[2].buffer_offset, 125);
    assert_int_equal(plan.requests[3].buffer_offset, 150);
    /* Port 9's temperature (0x196) is register 0x196 - 0x180 of request 2. */
    size_t port9_temperature = 4 + 9 * 8 + 5;
    assert_int_equal(points[port9_temperature].address, 0x196);
    assert_int_equal(readplan_point_buffer_index(&plan, port9_temperature), 125 + 0x16);
    readplan_free(&plan);
}

static void test_point_wider_than_max_registers_is_an_error(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    set_point(1, TABLE_HOLDING, 8, TYPE_FLOAT32);
    struct profile profile = profile_of(2, 1, 0);
    struct read_plan plan;
    char error[256] = "";
    assert_int_equal(readplan_build(&profile, &plan, error, sizeof error), -1);
    assert_non_null(strstr(error, "test-profile"));
    assert_non_null(strstr(error, "point1"));
    assert_non_null(strstr(error, "max_registers"));
    assert_null(plan.requests);
    assert_int_equal(plan.request_count, 0);
    readplan_free(&plan);
}

static void test_point_running_past_address_65535_is_an_error(void **unused)
{
    (void)unused;
    set_point(0, TABLE_INPUT, 65535, TYPE_UINT32);
    struct profile profile = profile_of(1, 125, 0);
    struct read_plan plan;
    char error[256] = "";
    assert_int_equal(readplan_build(&profile, &plan, error, sizeof error), -1);
    assert_non_null(strstr(error, "65535"));
}

static void test_last_register_65535_is_readable(void **unused)
{
    (void)unused;
    set_point(0, TABLE_INPUT, 65534, TYPE_UINT32);
    struct profile profile = profile_of(1, 125, 0);
    struct read_plan plan = build_ok(&profile);
    assert_request(&plan, 0, TABLE_INPUT, 65534, 2);
    readplan_free(&plan);
}

static void test_max_registers_zero_is_an_error(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    struct profile profile = profile_of(1, 0, 0);
    struct read_plan plan;
    char error[256] = "";
    assert_int_equal(readplan_build(&profile, &plan, error, sizeof error), -1);
    assert_non_null(strstr(error, "max_registers"));
}

static void test_error_buffer_may_be_null(void **unused)
{
    (void)unused;
    struct profile profile = profile_of(1, 0, 0);
    struct read_plan plan;
    assert_int_equal(readplan_build(&profile, &plan, NULL, 0), -1);
}

static void test_profile_without_points_plans_nothing(void **unused)
{
    (void)unused;
    struct profile profile = profile_of(0, 125, 0);
    struct read_plan plan = build_ok(&profile);
    assert_int_equal(plan.request_count, 0);
    assert_int_equal(plan.buffer_count, 0);
    readplan_free(&plan);
}

static void test_free_empties_the_plan_and_may_be_repeated(void **unused)
{
    (void)unused;
    set_point(0, TABLE_HOLDING, 0, TYPE_UINT16);
    struct profile profile = profile_of(1, 125, 0);
    struct read_plan plan = build_ok(&profile);
    readplan_free(&plan);
    assert_null(plan.requests);
    assert_null(plan.point_request);
    assert_null(plan.point_offset);
    assert_int_equal(plan.request_count, 0);
    readplan_free(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_points_merge_into_one_request),
        cmocka_unit_test(test_gap_larger_than_max_gap_splits),
        cmocka_unit_test(test_gap_equal_to_max_gap_merges),
        cmocka_unit_test(test_max_gap_zero_merges_only_adjacent_points),
        cmocka_unit_test(test_gap_is_counted_from_the_end_of_a_32_bit_point),
        cmocka_unit_test(test_max_registers_splits_ten_registers_into_4_4_2),
        cmocka_unit_test(test_max_registers_counts_the_gap_it_spans),
        cmocka_unit_test(test_32_bit_point_at_a_boundary_moves_whole_to_the_next_request),
        cmocka_unit_test(test_32_bit_point_that_ends_on_the_limit_stays),
        cmocka_unit_test(test_tables_never_mix),
        cmocka_unit_test(test_points_in_any_order_are_sorted_by_table_and_address),
        cmocka_unit_test(test_coils_merge_up_to_2000_bits_whatever_max_registers),
        cmocka_unit_test(test_max_gap_applies_to_discrete_inputs),
        cmocka_unit_test(test_max_registers_above_125_is_held_to_the_modbus_limit),
        cmocka_unit_test(test_ten_port_charger_reads_in_four_requests),
        cmocka_unit_test(test_ten_port_charger_with_smaller_gap_reads_each_port_alone),
        cmocka_unit_test(test_buffer_places_requests_back_to_back),
        cmocka_unit_test(test_point_wider_than_max_registers_is_an_error),
        cmocka_unit_test(test_point_running_past_address_65535_is_an_error),
        cmocka_unit_test(test_last_register_65535_is_readable),
        cmocka_unit_test(test_max_registers_zero_is_an_error),
        cmocka_unit_test(test_error_buffer_may_be_null),
        cmocka_unit_test(test_profile_without_points_plans_nothing),
        cmocka_unit_test(test_free_empties_the_plan_and_may_be_repeated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
