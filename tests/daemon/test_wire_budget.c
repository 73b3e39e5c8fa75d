/*
 * The wire budget of an RS-485 bus: its devices' read plans at the bus's baud
 * rate and framing against their poll intervals (DOMAIN.md: request 8 bytes,
 * reply 5 + 2N, two t3.5 per read), and what would fit when it is over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "wire_budget.h"

static struct read_request eight_holding = {.table = TABLE_HOLDING, .address = 0, .count = 8};
static const struct read_plan gas_alarm = {.requests = &eight_holding, .request_count = 1};

static struct bus_def bus_9600_8n1(void)
{
    return (struct bus_def){.name = "bldg",
                            .type = BUS_RTU,
                            .baud = 9600,
                            .parity = 'N',
                            .data_bits = 8,
                            .stop_bits = 1,
                            .timeout_ms = 300};
}

static void test_one_read_of_eight_registers_at_9600_8n1(void **state)
{
    (void)state;
    struct bus_def bus = bus_9600_8n1();
    /* 29 characters of 1.0417 ms, two t3.5 of 3.646 ms, 5 ms reply latency */
    assert_float_equal(wire_budget_request_ms(&bus, &eight_holding), 42.50, 0.01);
}

static void test_31_gas_alarms_every_2_s_load_a_9600_bus_to_69_percent(void **state)
{
    (void)state;
    struct bus_def bus = bus_9600_8n1();
    struct wire_budget budget;
    wire_budget_start(&budget, &bus);
    for (int i = 0; i < 31; i++)
        wire_budget_add(&budget, &gas_alarm, 2000);
    assert_int_equal(budget.devices, 31);
    assert_int_equal(budget.shortest_poll_ms, 2000);
    assert_float_equal(wire_budget_cycle_ms(&budget), 1317.6, 0.5);
    /* 1317.6 / 2000, of the 95 % left beside retries of offline devices */
    assert_float_equal(wire_budget_load(&budget), 0.6935, 0.001);
    struct wire_budget_fit fit = wire_budget_what_fits(&budget);
    assert_int_equal(fit.devices, 31);
}

static void test_an_overloaded_bus_is_told_what_would_fit(void **state)
{
    (void)state;
    struct bus_def bus = bus_9600_8n1();
    struct wire_budget budget;
    wire_budget_start(&budget, &bus);
    for (int i = 0; i < 31; i++)
        wire_budget_add(&budget, &gas_alarm, 1000);
    assert_float_equal(wire_budget_load(&budget), 1.387, 0.001);
    struct wire_budget_fit fit = wire_budget_what_fits(&budget);
    assert_int_equal(fit.devices, 22);
    assert_int_equal(fit.baud, 19200); /* 23.75 ms a read: 77.5 % */
    assert_int_equal(fit.shortest_poll_ms, 1400);
}

static void test_devices_polled_less_often_take_their_share_only(void **state)
{
    (void)state;
    struct bus_def bus = bus_9600_8n1();
    struct wire_budget budget;
    wire_budget_start(&budget, &bus);
    for (int i = 0; i < 30; i++)
        wire_budget_add(&budget, &gas_alarm, 2000);
    wire_budget_add(&budget, &gas_alarm, 500); /* one device four times as often */
    assert_int_equal(budget.shortest_poll_ms, 500);
    assert_float_equal(wire_budget_load(&budget), (30 * 42.5 / 2000 + 42.5 / 500) / 0.95, 0.001);
}

static void test_above_19200_baud_t35_is_fixed_and_gap_ms_counts_per_read(void **state)
{
    (void)state;
    struct bus_def bus = bus_9600_8n1();
    bus.baud = 38400;
    bus.parity = 'E';
    bus.gap_ms = 10;
    /* 29 characters of 0.2865 ms, 2 x 1.75 ms, 5 ms latency, 10 ms gap */
    assert_float_equal(wire_budget_request_ms(&bus, &eight_holding), 26.81, 0.01);
}

static void test_coil_reads_pack_eight_to_a_byte(void **state)
{
    (void)state;
    struct bus_def bus = bus_9600_8n1();
    struct read_request coils = {.table = TABLE_COIL, .count = 10};
    /* request 8, reply 5 + 2 bytes */
    assert_float_equal(wire_budget_request_ms(&bus, &coils), 15 * 10000.0 / 9600 + 12.29, 0.01);
}

static void test_no_baud_rate_fits_a_hopeless_bus(void **state)
{
    (void)state;
    struct bus_def bus = bus_9600_8n1();
    struct wire_budget budget;
    wire_budget_start(&budget, &bus);
    for (int i = 0; i < 200; i++)
        wire_budget_add(&budget, &gas_alarm, 100);
    assert_int_equal(wire_budget_what_fits(&budget).baud, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_read_of_eight_registers_at_9600_8n1),
        cmocka_unit_test(test_31_gas_alarms_every_2_s_load_a_9600_bus_to_69_percent),
        cmocka_unit_test(test_an_overloaded_bus_is_told_what_would_fit),
        cmocka_unit_test(test_devices_polled_less_often_take_their_share_only),
        cmocka_unit_test(test_above_19200_baud_t35_is_fixed_and_gap_ms_counts_per_read),
        cmocka_unit_test(test_coil_reads_pack_eight_to_a_byte),
        cmocka_unit_test(test_no_baud_rate_fits_a_hopeless_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
