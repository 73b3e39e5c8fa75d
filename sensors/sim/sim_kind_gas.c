/*
 * sim_kind_gas.c — a household gas alarm (kind gas_alarm, DOMAIN.md): gas a
 * little above zero, a slowly wandering room temperature, a sensor that ages a
 * day per day, AL1/AL2 status bits that follow the gas against the device's
 * own set points (HR4/HR5), and a valve that closes on coil 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_kind.h"

#define LEAK_PEAK_LEL 30.0
#define LEAK_RAMP_STEPS (10000u / SIM_STEP_MS) /* reaches the peak in 10 s */
#define SELF_TEST_STEPS (3000u / SIM_STEP_MS)
#define ALARM_HYSTERESIS_LEL 2.0 /* a bit clears this far below its set point */
#define DEFAULT_AL1_LEL 10.0
#define DEFAULT_AL2_LEL 25.0
#define STEPS_PER_DAY (86400000.0 / SIM_STEP_MS)

struct gas_binding {
    int gas, fault_code, life_days, al1_setpoint, al2_setpoint, temperature, unit_code;
    struct sim_bit_ref al1, al2, valve_closed, self_test, end_of_life;
    int close_valve_coil, self_test_coil, reset_coil;
};

struct gas_state {
    double gas_lel;
    double temperature_c;
    double life_days;
    bool leaking;
    double leak_from_lel;
    unsigned leak_steps;
    unsigned self_test_steps_left;
    bool valve_closed;
    bool al1, al2;
};

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void *gas_bind(const struct profile *profile)
{
    struct gas_binding *b = malloc(sizeof *b);
    if (b == NULL)
        return NULL;
    b->gas = sim_kind_point(profile, NAMES("gas_lel", "gas", "concentration"));
    b->fault_code = sim_kind_point(profile, NAMES("fault_code", "fault"));
    b->life_days = sim_kind_point(
        profile, NAMES("sensor_life_days", "sensor_life", "life_days", "sensor_life_left"));
    b->al1_setpoint = sim_kind_point(
        profile, NAMES("al1_setpoint", "al1_set_point", "setpoint_al1", "al1_threshold"));
    b->al2_setpoint = sim_kind_point(
        profile, NAMES("al2_setpoint", "al2_set_point", "setpoint_al2", "al2_threshold"));
    b->temperature = sim_kind_point(profile, NAMES("temperature", "temperature_c"));
    b->unit_code = sim_kind_point(profile, NAMES("unit_code", "unit"));
    b->al1 = sim_kind_bit(profile, NAMES("al1", "alarm_low", "low_alarm"));
    b->al2 = sim_kind_bit(profile, NAMES("al2", "alarm_high", "high_alarm"));
    b->valve_closed = sim_kind_bit(profile, NAMES("valve_closed"));
    b->self_test = sim_kind_bit(profile, NAMES("self_test", "self_test_running"));
    b->end_of_life = sim_kind_bit(profile, NAMES("end_of_life", "eol"));
    b->close_valve_coil = sim_kind_coil(profile, NAMES("close_valve"));
    b->self_test_coil = sim_kind_coil(profile, NAMES("self_test", "start_self_test"));
    b->reset_coil = sim_kind_coil(profile, NAMES("reset_alarm", "reset"));
    return b;
}

static double setpoint(const struct sim_device *device, int point, double fallback)
{
    return point >= 0 ? sim_device_value(device, point) : fallback;
}

/* Like a real detector: a bit sets at its set point and clears a little below it. */
static bool follow(bool active, double gas_lel, double setpoint_lel)
{
    if (gas_lel >= setpoint_lel)
        return true;
    return active && gas_lel >= setpoint_lel - ALARM_HYSTERESIS_LEL;
}

static void publish(struct sim_device *device)
{
    const struct gas_binding *b = device->binding;
    struct gas_state *s = device->state;
    sim_device_put(device, b->gas, s->gas_lel);
    sim_device_put(device, b->temperature, s->temperature_c);
    sim_device_put(device, b->life_days, floor(s->life_days));
    /* The status follows the gas value in the map, so `set gas_lel` moves it too. */
    double gas_lel = b->gas >= 0 ? sim_device_value(device, b->gas) : s->gas_lel;
    s->al1 = follow(s->al1, gas_lel, setpoint(device, b->al1_setpoint, DEFAULT_AL1_LEL));
    s->al2 = follow(s->al2, gas_lel, setpoint(device, b->al2_setpoint, DEFAULT_AL2_LEL));
    sim_device_put_bit(device, b->al1.point, b->al1.bit, s->al1);
    sim_device_put_bit(device, b->al2.point, b->al2.bit, s->al2);
    sim_device_put_bit(device, b->valve_closed.point, b->valve_closed.bit, s->valve_closed);
    sim_device_put_bit(device, b->self_test.point, b->self_test.bit, s->self_test_steps_left > 0);
    sim_device_put_bit(device, b->end_of_life.point, b->end_of_life.bit, s->life_days < 1.0);
}

static void gas_start(struct sim_device *device)
{
    const struct gas_binding *b = device->binding;
    struct gas_state *s = device->state;
    s->gas_lel = sim_random_uniform(&device->random, 0.0, 2.0);
    s->temperature_c = sim_random_uniform(&device->random, 18.5, 21.5);
    s->life_days = sim_random_int(&device->random, 1200, 3600);
    sim_device_put(device, b->al1_setpoint, DEFAULT_AL1_LEL);
    sim_device_put(device, b->al2_setpoint, DEFAULT_AL2_LEL);
    sim_device_put(device, b->unit_code, 3); /* 3 = %LEL */
    sim_device_put(device, b->fault_code, 0);
    publish(device);
}

static double wander(struct sim_random *random, double value, double step, double low, double high)
{
    value += sim_random_uniform(random, -step, step);
    return value < low ? low : value > high ? high : value;
}

static void gas_step(struct sim_device *device)
{
    struct gas_state *s = device->state;
    if (s->leaking) {
        s->leak_steps++;
        double ramp =
            s->leak_steps >= LEAK_RAMP_STEPS ? 1.0 : (double)s->leak_steps / LEAK_RAMP_STEPS;
        s->gas_lel = s->leak_from_lel + (LEAK_PEAK_LEL - s->leak_from_lel) * ramp +
                     sim_random_uniform(&device->random, -0.3, 0.3) * ramp;
    } else {
        s->gas_lel = wander(&device->random, s->gas_lel, 0.2, 0.0, 2.0);
    }
    s->temperature_c = wander(&device->random, s->temperature_c, 0.05, 18.0, 22.0);
    s->life_days = s->life_days > 1.0 / STEPS_PER_DAY ? s->life_days - 1.0 / STEPS_PER_DAY : 0;
    if (s->self_test_steps_left > 0)
        s->self_test_steps_left--;
    publish(device);
}

static bool covers(uint16_t address, uint16_t count, int coil)
{
    return coil >= 0 && coil >= address && coil < address + count;
}

static void gas_written(struct sim_device *device, enum point_table table, uint16_t address,
                        uint16_t count)
{
    const struct gas_binding *b = device->binding;
    struct gas_state *s = device->state;
    if (table != TABLE_COIL) {
        publish(device); /* new set points take effect at once */
        return;
    }
    if (covers(address, count, b->close_valve_coil) &&
        sim_device_coil(device, (uint16_t)b->close_valve_coil) == 1)
        s->valve_closed = true;
    if (covers(address, count, b->self_test_coil) &&
        sim_device_coil(device, (uint16_t)b->self_test_coil) == 1) {
        s->self_test_steps_left = SELF_TEST_STEPS;
        sim_device_set_coil(device, (uint16_t)b->self_test_coil, 0); /* a push button */
    }
    if (covers(address, count, b->reset_coil) &&
        sim_device_coil(device, (uint16_t)b->reset_coil) == 1) {
        s->al1 = s->al2 = false; /* set again at once if the gas is still there */
        sim_device_set_coil(device, (uint16_t)b->reset_coil, 0);
    }
    publish(device);
}

static int gas_hazard(struct sim_device *device, const char *hazard, const char *argument,
                      char *error, size_t error_size)
{
    struct gas_state *s = device->state;
    (void)argument;
    if (strcmp(hazard, "gas_leak") != 0) {
        snprintf(error, error_size, "a gas alarm (%s) knows only the hazard gas_leak, not %s",
                 device->def->id, hazard);
        return -1;
    }
    s->leaking = true;
    s->leak_from_lel = s->gas_lel;
    s->leak_steps = 0;
    return 0;
}

static void gas_calm(struct sim_device *device)
{
    const struct gas_binding *b = device->binding;
    struct gas_state *s = device->state;
    s->leaking = false;
    s->gas_lel = sim_random_uniform(&device->random, 0.0, 2.0);
    s->valve_closed = false;
    s->al1 = s->al2 = false;
    if (b->close_valve_coil >= 0)
        sim_device_set_coil(device, (uint16_t)b->close_valve_coil, 0);
    publish(device);
}

static size_t gas_state_size(const void *binding)
{
    (void)binding;
    return sizeof(struct gas_state);
}

const struct sim_kind sim_kind_gas = {
    .name = "gas_alarm",
    .state_size = gas_state_size,
    .bind = gas_bind,
    .start = gas_start,
    .step = gas_step,
    .written = gas_written,
    .hazard = gas_hazard,
    .calm = gas_calm,
};
