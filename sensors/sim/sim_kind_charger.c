/*
 * sim_kind_charger.c — an e-bike charging pile (kind ebike_charger,
 * DOMAIN.md): each port cycles idle -> charging -> full -> idle, drawing
 * 1.5-3 A from the mains while charging and tapering towards the end, and
 * warms with its current. Sessions are compressed to minutes so that a demo
 * shows whole cycles. Coil p stops port p (state 4, disabled); writing 0
 * enables it again. Hazards: port_overheat PORT, smoke.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_kind.h"

#define MAX_PORTS 64
#define AMBIENT_C 25.0
#define HEATING_C_PER_A 4.5 /* 3 A settles near 38 C */
/*
 * A port's contacts and cable warm over minutes, not seconds: with a 5-minute
 * time constant a port starting to charge at 3 A rises under 3 C a minute, below
 * the profile's temperature_rising threshold (5 C/min), as a healthy port should.
 */
#define HEATING_TIME_CONSTANT_MS 300000.0
#define OVERHEAT_PEAK_C 80.0
#define OVERHEAT_RAMP_STEPS (10000u / SIM_STEP_MS)
#define POWER_FACTOR 0.95
#define DEFAULT_CUTOFF_C 75.0
#define DEFAULT_MAX_MINUTES 480.0
#define ALARM_OVER_TEMPERATURE 1
#define ALARM_TIME_EXCEEDED 3
enum port_state { PORT_IDLE, PORT_CHARGING, PORT_FULL, PORT_FAULT, PORT_DISABLED };

struct port_points {
    int state, voltage, current, power, energy, temperature, alarms, minutes;
    int stop_coil;
};

struct charger_binding {
    int port_count_point, smoke, mains, cabinet;
    int full_power, hold_minutes, max_minutes, cutoff;
    size_t ports;
    struct port_points port[MAX_PORTS];
};

struct port {
    enum port_state state;
    unsigned steps_left; /* in this state */
    unsigned session_steps;
    unsigned charging_steps; /* since plugged in */
    double target_a, current_a, energy_wh, temperature_c;
    bool overheating;
    unsigned overheat_steps;
    double overheat_from_c;
};

struct charger_state {
    double mains_v, cabinet_c;
    bool smoke;
    struct port port[]; /* binding->ports of them */
};

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static int port_point(const struct profile *profile, size_t port, const char *const *names)
{
    for (; *names != NULL; names++) {
        char name[96];
        snprintf(name, sizeof name, "port%zu.%s", port, *names);
        int point = sim_kind_point(profile, NAMES(name));
        if (point >= 0)
            return point;
    }
    return -1;
}

static int stop_coil(const struct profile *profile, size_t port)
{
    for (size_t i = 0; i < profile->action_count; i++) {
        const struct action_def *action = &profile->actions[i];
        if (action->table == TABLE_COIL && action->param_name != NULL &&
            strcmp(action->name, "stop_port") == 0 && port < action->param_count)
            return action->address + (int)port * (action->param_stride ? action->param_stride : 1);
    }
    return port_point(profile, port, NAMES("stop"));
}

static void bind_port(const struct profile *profile, size_t port, struct port_points *p)
{
    p->state = port_point(profile, port, NAMES("state"));
    p->voltage = port_point(profile, port, NAMES("voltage"));
    p->current = port_point(profile, port, NAMES("current", "current_ma"));
    p->power = port_point(profile, port, NAMES("power", "power_w"));
    p->energy = port_point(profile, port, NAMES("energy", "energy_wh"));
    p->temperature = port_point(profile, port, NAMES("temperature", "temperature_c"));
    p->alarms = port_point(profile, port, NAMES("alarms", "alarm", "alarm_bits", "status"));
    p->minutes =
        port_point(profile, port, NAMES("minutes", "charging_minutes", "minutes_charging"));
    p->stop_coil = stop_coil(profile, port);
}

static void *charger_bind(const struct profile *profile)
{
    struct charger_binding *b = malloc(sizeof *b);
    if (b == NULL)
        return NULL;
    b->port_count_point = sim_kind_point(profile, NAMES("port_count", "ports"));
    b->smoke = sim_kind_point(profile, NAMES("smoke", "smoke_detector"));
    b->mains = sim_kind_point(profile, NAMES("mains_voltage", "mains", "voltage"));
    b->cabinet = sim_kind_point(profile, NAMES("cabinet_temperature", "temperature"));
    b->full_power =
        sim_kind_point(profile, NAMES("full_cutoff_power_w", "full_power", "full_cutoff_power",
                                      "full_charge_power", "cutoff_power"));
    b->hold_minutes = sim_kind_point(
        profile, NAMES("full_hold_minutes", "hold_minutes", "full_hold_min", "hold_time"));
    b->max_minutes = sim_kind_point(profile, NAMES("max_charge_min", "max_minutes", "max_time",
                                                   "max_charge_minutes", "max_charge_time"));
    b->cutoff = sim_kind_point(profile, NAMES("over_temp_cutoff", "over_temperature_cutoff",
                                              "overtemp_cutoff", "temperature_cutoff",
                                              "over_temperature_limit"));
    for (b->ports = 0; b->ports < MAX_PORTS; b->ports++) {
        bind_port(profile, b->ports, &b->port[b->ports]);
        if (b->port[b->ports].state < 0)
            break;
    }
    return b;
}

static double minutes(unsigned steps)
{
    return (double)steps / SIM_STEPS_PER_MINUTE;
}

static double setting(const struct sim_device *device, int point, double fallback)
{
    return point >= 0 ? sim_device_value(device, point) : fallback;
}

static void publish_port(struct sim_device *device, size_t i)
{
    const struct charger_binding *b = device->binding;
    const struct charger_state *s = device->state;
    const struct port *port = &s->port[i];
    const struct port_points *p = &b->port[i];
    bool powered = port->state == PORT_CHARGING || port->state == PORT_FULL;
    double volts = powered ? s->mains_v : 0.0;
    double amps = powered ? port->current_a : 0.0;
    double max_minutes = setting(device, b->max_minutes, DEFAULT_MAX_MINUTES);
    sim_device_put(device, p->state, port->state);
    sim_device_put(device, p->voltage, volts);
    sim_device_put(device, p->current, amps * 1000.0);
    sim_device_put(device, p->power, volts * amps * POWER_FACTOR);
    sim_device_put(device, p->energy, port->energy_wh);
    sim_device_put(device, p->temperature, port->temperature_c);
    sim_device_put(device, p->minutes, powered ? minutes(port->charging_steps) : 0);
    sim_device_put_bit(device, p->alarms, ALARM_OVER_TEMPERATURE,
                       port->temperature_c >= setting(device, b->cutoff, DEFAULT_CUTOFF_C));
    sim_device_put_bit(device, p->alarms, ALARM_TIME_EXCEEDED,
                       powered && minutes(port->charging_steps) > max_minutes);
}

static void publish(struct sim_device *device)
{
    const struct charger_binding *b = device->binding;
    const struct charger_state *s = device->state;
    sim_device_put(device, b->port_count_point, (double)b->ports);
    sim_device_put(device, b->smoke, s->smoke);
    sim_device_put(device, b->mains, s->mains_v);
    sim_device_put(device, b->cabinet, s->cabinet_c);
    for (size_t i = 0; i < b->ports; i++)
        publish_port(device, i);
}

static unsigned steps_of_minutes(struct sim_device *device, double low, double high)
{
    return (unsigned)(sim_random_uniform(&device->random, low, high) * SIM_STEPS_PER_MINUTE);
}

static void enter(struct sim_device *device, struct port *port, enum port_state state)
{
    port->state = state;
    if (state == PORT_IDLE) {
        port->steps_left = steps_of_minutes(device, 1, 10);
        port->current_a = port->energy_wh = 0;
        port->charging_steps = 0;
    } else if (state == PORT_CHARGING) {
        port->session_steps = port->steps_left = steps_of_minutes(device, 10, 40);
        port->target_a = sim_random_uniform(&device->random, 1.5, 3.0);
    } else if (state == PORT_FULL) {
        port->steps_left = steps_of_minutes(device, 2, 10);
        port->current_a = 0.05; /* the battery charger's trickle */
    }
}

static void charger_start(struct sim_device *device)
{
    const struct charger_binding *b = device->binding;
    struct charger_state *s = device->state;
    s->mains_v = sim_random_uniform(&device->random, 218, 226);
    s->cabinet_c = sim_random_uniform(&device->random, 26, 32);
    for (size_t i = 0; i < b->ports; i++) {
        struct port *port = &s->port[i];
        port->temperature_c = AMBIENT_C + sim_random_uniform(&device->random, 0, 2);
        enter(device, port, (enum port_state)sim_random_int(&device->random, 0, 2));
    }
    sim_device_put(device, b->full_power, 10);
    sim_device_put(device, b->hold_minutes, 3);
    sim_device_put(device, b->max_minutes, DEFAULT_MAX_MINUTES);
    sim_device_put(device, b->cutoff, DEFAULT_CUTOFF_C);
    publish(device);
}

static void charge(struct sim_device *device, struct port *port)
{
    /* Constant current, then the last fifth of the session tapers to a trickle. */
    double left = (double)port->steps_left / (port->session_steps ? port->session_steps : 1);
    double target = left > 0.2 ? port->target_a : port->target_a * (left / 0.2) + 0.05;
    port->current_a +=
        (target - port->current_a) * 0.3 + sim_random_uniform(&device->random, -0.02, 0.02);
    port->charging_steps++;
    port->energy_wh += 220.0 * port->current_a * POWER_FACTOR * SIM_STEP_MS / 3600000.0;
}

static void heat(struct sim_device *device, struct port *port)
{
    if (port->overheating && port->state != PORT_DISABLED) {
        port->overheat_steps++;
        double ramp = port->overheat_steps >= OVERHEAT_RAMP_STEPS
                          ? 1.0
                          : (double)port->overheat_steps / OVERHEAT_RAMP_STEPS;
        port->temperature_c =
            port->overheat_from_c + (OVERHEAT_PEAK_C - port->overheat_from_c) * ramp;
        return;
    }
    bool powered = port->state == PORT_CHARGING || port->state == PORT_FULL;
    double settle = AMBIENT_C + (powered ? port->current_a * HEATING_C_PER_A : 0.0);
    /* A stopped port cools by about 1 C a step; otherwise it drifts to where its current puts it.
     */
    double rate = port->temperature_c - settle > 5.0 ? 1.0 / (port->temperature_c - settle)
                                                     : SIM_STEP_MS / HEATING_TIME_CONSTANT_MS;
    port->temperature_c +=
        (settle - port->temperature_c) * rate + sim_random_uniform(&device->random, -0.05, 0.05);
}

static void step_port(struct sim_device *device, struct port *port)
{
    if (port->state == PORT_CHARGING)
        charge(device, port);
    heat(device, port);
    if (port->state == PORT_DISABLED || port->state == PORT_FAULT)
        return;
    if (port->steps_left > 0 && --port->steps_left > 0)
        return;
    enter(device, port,
          port->state == PORT_IDLE       ? PORT_CHARGING
          : port->state == PORT_CHARGING ? PORT_FULL
                                         : PORT_IDLE);
}

static double wander(struct sim_random *random, double value, double step, double low, double high)
{
    value += sim_random_uniform(random, -step, step);
    return value < low ? low : value > high ? high : value;
}

static void charger_step(struct sim_device *device)
{
    const struct charger_binding *b = device->binding;
    struct charger_state *s = device->state;
    s->mains_v = wander(&device->random, s->mains_v, 0.3, 215, 230);
    s->cabinet_c = wander(&device->random, s->cabinet_c, 0.05, 25, 35);
    for (size_t i = 0; i < b->ports; i++)
        step_port(device, &s->port[i]);
    publish(device);
}

static void charger_written(struct sim_device *device, enum point_table table, uint16_t address,
                            uint16_t count)
{
    const struct charger_binding *b = device->binding;
    struct charger_state *s = device->state;
    for (size_t i = 0; table == TABLE_COIL && i < b->ports; i++) {
        int coil = b->port[i].stop_coil;
        if (coil < address || coil >= address + count)
            continue;
        if (sim_device_coil(device, (uint16_t)coil) == 1)
            s->port[i].state = PORT_DISABLED;
        else if (s->port[i].state == PORT_DISABLED)
            enter(device, &s->port[i], PORT_IDLE);
    }
    publish(device);
}

static int overheat(struct sim_device *device, const char *argument, char *error, size_t error_size)
{
    const struct charger_binding *b = device->binding;
    struct charger_state *s = device->state;
    char *end = NULL;
    long port = argument != NULL ? strtol(argument, &end, 10) : -1;
    if (argument == NULL || *end != '\0' || port < 0 || (size_t)port >= b->ports) {
        snprintf(error, error_size, "port_overheat needs a port number 0..%zu of %s, not %s",
                 b->ports ? b->ports - 1 : 0, device->def->id, argument ? argument : "nothing");
        return -1;
    }
    struct port *p = &s->port[port];
    p->overheating = true;
    p->overheat_steps = 0;
    p->overheat_from_c = p->temperature_c;
    return 0;
}

static int charger_hazard(struct sim_device *device, const char *hazard, const char *argument,
                          char *error, size_t error_size)
{
    struct charger_state *s = device->state;
    if (strcmp(hazard, "port_overheat") == 0)
        return overheat(device, argument, error, error_size);
    if (strcmp(hazard, "smoke") == 0) {
        s->smoke = true;
        publish(device);
        return 0;
    }
    snprintf(error, error_size,
             "a charging pile (%s) knows the hazards port_overheat PORT and smoke, not %s",
             device->def->id, hazard);
    return -1;
}

static void charger_calm(struct sim_device *device)
{
    const struct charger_binding *b = device->binding;
    struct charger_state *s = device->state;
    s->smoke = false;
    for (size_t i = 0; i < b->ports; i++) {
        struct port *port = &s->port[i];
        port->overheating = false;
        port->temperature_c = AMBIENT_C + sim_random_uniform(&device->random, 0, 2);
        if (port->state == PORT_DISABLED || port->state == PORT_FAULT)
            enter(device, port, PORT_IDLE);
        if (b->port[i].stop_coil >= 0)
            sim_device_set_coil(device, (uint16_t)b->port[i].stop_coil, 0);
    }
    publish(device);
}

static size_t charger_state_size(const void *binding)
{
    const struct charger_binding *b = binding;
    return sizeof(struct charger_state) + b->ports * sizeof(struct port);
}

const struct sim_kind sim_kind_charger = {
    .name = "ebike_charger",
    .state_size = charger_state_size,
    .bind = charger_bind,
    .start = charger_start,
    .step = charger_step,
    .written = charger_written,
    .hazard = charger_hazard,
    .calm = charger_calm,
};
