/*
 * sim_kind_elevator.c — a lift IoT unit (kind elevator, DOMAIN.md): the car
 * waits with doors closed, answers a call, travels floor by floor at its
 * rated speed, opens and closes its doors, and counts its runs. The hazard
 * "trapped" stops it between floors with a passenger inside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_kind.h"

#define STEPS_PER_FLOOR 4 /* 3 m a floor at ~1.5 m/s, in 500 ms steps */
#define CALL_CHANCE 0.08  /* per step while idle */
enum door { DOOR_CLOSED, DOOR_OPENING, DOOR_OPEN, DOOR_CLOSING };
enum direction { DIRECTION_NONE, DIRECTION_UP, DIRECTION_DOWN };

struct elevator_binding {
    int mode, running, direction, floor, door, fault_code, speed, run_count;
    struct sim_bit_ref door_zone, passenger, trapped, outside_zone, alarm_button;
};

struct elevator_state {
    int floor, target, lowest, highest;
    enum door door;
    unsigned phase_steps; /* steps spent in the current door phase or floor */
    double rated_speed, speed;
    bool running, passenger, trapped;
    uint32_t run_count;
};

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void *elevator_bind(const struct profile *profile)
{
    struct elevator_binding *b = malloc(sizeof *b);
    if (b == NULL)
        return NULL;
    b->mode = sim_kind_point(profile, NAMES("service_mode", "mode"));
    b->running = sim_kind_point(profile, NAMES("running"));
    b->direction = sim_kind_point(profile, NAMES("direction"));
    b->floor = sim_kind_point(profile, NAMES("floor"));
    b->door = sim_kind_point(profile, NAMES("door", "door_state"));
    b->fault_code = sim_kind_point(profile, NAMES("fault_code", "fault"));
    b->speed = sim_kind_point(profile, NAMES("speed", "speed_mps"));
    b->run_count = sim_kind_point(profile, NAMES("run_count", "runs"));
    b->door_zone = sim_kind_bit(profile, NAMES("door_zone", "in_door_zone"));
    b->passenger = sim_kind_bit(profile, NAMES("passenger", "passenger_present"));
    b->trapped = sim_kind_bit(profile, NAMES("trapped", "trapped_passenger"));
    b->outside_zone = sim_kind_bit(
        profile, NAMES("stopped_outside_door_zone", "stopped_outside_zone", "outside_door_zone"));
    b->alarm_button = sim_kind_bit(profile, NAMES("alarm_button"));
    return b;
}

static bool at_floor(const struct elevator_state *s)
{
    return !s->trapped && (!s->running || s->phase_steps % STEPS_PER_FLOOR == 0);
}

static void publish(struct sim_device *device)
{
    const struct elevator_binding *b = device->binding;
    const struct elevator_state *s = device->state;
    enum direction direction = !s->running            ? DIRECTION_NONE
                               : s->target > s->floor ? DIRECTION_UP
                                                      : DIRECTION_DOWN;
    sim_device_put(device, b->running, s->running);
    sim_device_put(device, b->direction, direction);
    sim_device_put(device, b->floor, s->floor);
    sim_device_put(device, b->door, s->door);
    sim_device_put(device, b->speed, s->speed);
    sim_device_put(device, b->run_count, s->run_count);
    sim_device_put_bit(device, b->door_zone.point, b->door_zone.bit, at_floor(s));
    sim_device_put_bit(device, b->passenger.point, b->passenger.bit, s->passenger);
    sim_device_put_bit(device, b->trapped.point, b->trapped.bit, s->trapped);
    sim_device_put_bit(device, b->outside_zone.point, b->outside_zone.bit, s->trapped);
    sim_device_put_bit(device, b->alarm_button.point, b->alarm_button.bit, s->trapped);
}

static void elevator_start(struct sim_device *device)
{
    const struct elevator_binding *b = device->binding;
    struct elevator_state *s = device->state;
    s->lowest = sim_random_chance(&device->random, 0.3) ? -1 : 1;
    s->highest = sim_random_int(&device->random, 6, 33);
    s->floor = s->target = sim_random_int(&device->random, s->lowest, s->highest);
    if (s->floor == 0)
        s->floor = s->target = 1; /* Chinese buildings have no floor 0 */
    s->rated_speed = sim_random_chance(&device->random, 0.5) ? 1.0 : 1.75;
    s->run_count = (uint32_t)sim_random_int(&device->random, 20000, 600000);
    sim_device_put(device, b->mode, 0);
    sim_device_put(device, b->fault_code, 0);
    publish(device);
}

static int next_floor(int floor, int target)
{
    int next = floor + (target > floor ? 1 : -1);
    if (next == 0)
        next += target > floor ? 1 : -1;
    return next;
}

static void answer_call(struct sim_device *device, struct elevator_state *s)
{
    do
        s->target = sim_random_int(&device->random, s->lowest, s->highest);
    while (s->target == 0);
    s->passenger = sim_random_chance(&device->random, 0.6);
    s->phase_steps = 0;
    if (s->target == s->floor) {
        s->door = DOOR_OPENING;
        return;
    }
    s->running = true;
    s->run_count++;
}

static void travel(struct sim_device *device, struct elevator_state *s)
{
    (void)device;
    s->phase_steps++;
    s->speed = s->speed + 0.5 < s->rated_speed ? s->speed + 0.5 : s->rated_speed;
    if (s->phase_steps % STEPS_PER_FLOOR != 0)
        return;
    s->floor = next_floor(s->floor, s->target);
    if (s->floor == s->target) {
        s->running = false;
        s->speed = 0;
        s->door = DOOR_OPENING;
        s->phase_steps = 0;
    }
}

/* Doors: opening 1 s, open 3-5 s, closing 1 s. */
static void move_doors(struct sim_device *device, struct elevator_state *s)
{
    s->phase_steps++;
    if (s->door == DOOR_OPENING && s->phase_steps >= 2) {
        s->door = DOOR_OPEN;
        s->phase_steps = 0;
    } else if (s->door == DOOR_OPEN &&
               s->phase_steps >= (unsigned)sim_random_int(&device->random, 6, 10)) {
        s->door = DOOR_CLOSING;
        s->passenger = sim_random_chance(&device->random, 0.3);
        s->phase_steps = 0;
    } else if (s->door == DOOR_CLOSING && s->phase_steps >= 2) {
        s->door = DOOR_CLOSED;
        s->phase_steps = 0;
    }
}

static void elevator_step(struct sim_device *device)
{
    struct elevator_state *s = device->state;
    if (s->trapped)
        ; /* stopped between floors until calm */
    else if (s->running)
        travel(device, s);
    else if (s->door != DOOR_CLOSED)
        move_doors(device, s);
    else if (sim_random_chance(&device->random, CALL_CHANCE))
        answer_call(device, s);
    publish(device);
}

static void elevator_written(struct sim_device *device, enum point_table table, uint16_t address,
                             uint16_t count)
{
    (void)table, (void)address, (void)count;
    publish(device);
}

static int elevator_hazard(struct sim_device *device, const char *hazard, const char *argument,
                           char *error, size_t error_size)
{
    struct elevator_state *s = device->state;
    (void)argument;
    if (strcmp(hazard, "trapped") != 0) {
        snprintf(error, error_size, "an elevator (%s) knows only the hazard trapped, not %s",
                 device->def->id, hazard);
        return -1;
    }
    s->trapped = true;
    s->running = false;
    s->speed = 0;
    s->door = DOOR_CLOSED;
    s->passenger = true;
    publish(device);
    return 0;
}

static void elevator_calm(struct sim_device *device)
{
    struct elevator_state *s = device->state;
    if (s->trapped) {
        s->trapped = false; /* rescued: levelled at the nearest floor, doors open */
        s->target = s->floor;
        s->door = DOOR_OPENING;
        s->phase_steps = 0;
    }
    publish(device);
}

static size_t elevator_state_size(const void *binding)
{
    (void)binding;
    return sizeof(struct elevator_state);
}

const struct sim_kind sim_kind_elevator = {
    .name = "elevator",
    .state_size = elevator_state_size,
    .bind = elevator_bind,
    .start = elevator_start,
    .step = elevator_step,
    .written = elevator_written,
    .hazard = elevator_hazard,
    .calm = elevator_calm,
};
