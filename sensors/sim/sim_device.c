#include "sim_device.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "sim_kind.h"

/* A device read after a long silence catches up at most this much simulated time. */
#define MAX_CATCH_UP_STEPS (3600u * 1000u / SIM_STEP_MS)

/* First address and count of one table, over points and actions. */
struct table_span {
    unsigned first;
    unsigned end; /* one past the last; first == end when the table is empty */
};

static void span_add(struct table_span *span, unsigned first, unsigned count)
{
    if (span->first == span->end) {
        span->first = first;
        span->end = first + count;
        return;
    }
    if (first < span->first)
        span->first = first;
    if (first + count > span->end)
        span->end = first + count;
}

static void action_spans(const struct profile *profile, struct table_span spans[4])
{
    for (size_t i = 0; i < profile->action_count; i++) {
        const struct action_def *action = &profile->actions[i];
        unsigned params = action->param_name != NULL ? action->param_count : 1u;
        unsigned stride = action->param_stride != 0 ? action->param_stride : 1u;
        unsigned last = action->address + (params - 1u) * stride + action->count;
        span_add(&spans[action->table], action->address, last - action->address);
    }
}

static modbus_mapping_t *map_for(const struct profile *profile)
{
    struct table_span spans[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    for (size_t i = 0; i < profile->point_count; i++) {
        const struct point_def *point = &profile->points[i];
        span_add(&spans[point->table], point->address, codec_point_width(point));
    }
    action_spans(profile, spans);
#define SPAN(table) spans[table].first, spans[table].end - spans[table].first
    return modbus_mapping_new_start_address(SPAN(TABLE_COIL), SPAN(TABLE_DISCRETE),
                                            SPAN(TABLE_HOLDING), SPAN(TABLE_INPUT));
#undef SPAN
}

int sim_device_init(struct sim_device *device, const struct device_def *def, struct sim_bus *bus,
                    const void *binding, uint64_t seed, char *error, size_t error_size)
{
    memset(device, 0, sizeof *device);
    device->def = def;
    device->profile = def->profile;
    device->bus = bus;
    device->kind = sim_kind_find(def->profile->kind);
    device->binding = binding;
    sim_random_seed(&device->random, seed, def->id);
    device->map = map_for(def->profile);
    device->pins = calloc(def->profile->point_count + 1, sizeof *device->pins);
    device->state = calloc(1, device->kind->state_size(binding) + 1);
    if (device->map == NULL || device->pins == NULL || device->state == NULL) {
        snprintf(error, error_size, "device %s: allocating its register map: %s", def->id,
                 strerror(errno));
        sim_device_free(device);
        return -1;
    }
    device->kind->start(device);
    return 0;
}

void sim_device_free(struct sim_device *device)
{
    if (device->map != NULL)
        modbus_mapping_free(device->map);
    free(device->pins);
    free(device->state);
    device->map = NULL;
    device->pins = NULL;
    device->state = NULL;
}

void sim_device_advance(struct sim_device *device, uint64_t target_step)
{
    if (target_step > device->steps_done + MAX_CATCH_UP_STEPS)
        device->steps_done = target_step - MAX_CATCH_UP_STEPS;
    while (device->steps_done < target_step) {
        device->kind->step(device);
        device->steps_done++;
    }
}

/*
 * Registers of a point, copied out of (load) or into (store) the map. Coils
 * and discrete inputs travel one bit per element, as the codec expects.
 */
static void load(const struct sim_device *device, const struct point_def *point, uint16_t *regs)
{
    const modbus_mapping_t *map = device->map;
    regs[0] = regs[1] = 0;
    switch (point->table) {
    case TABLE_COIL:
        regs[0] = map->tab_bits[point->address - map->start_bits];
        break;
    case TABLE_DISCRETE:
        regs[0] = map->tab_input_bits[point->address - map->start_input_bits];
        break;
    case TABLE_HOLDING:
        memcpy(regs, &map->tab_registers[point->address - map->start_registers],
               codec_point_width(point) * sizeof *regs);
        break;
    case TABLE_INPUT:
        memcpy(regs, &map->tab_input_registers[point->address - map->start_input_registers],
               codec_point_width(point) * sizeof *regs);
        break;
    }
}

static void store(struct sim_device *device, const struct point_def *point, const uint16_t *regs)
{
    modbus_mapping_t *map = device->map;
    switch (point->table) {
    case TABLE_COIL:
        map->tab_bits[point->address - map->start_bits] = regs[0] != 0;
        break;
    case TABLE_DISCRETE:
        map->tab_input_bits[point->address - map->start_input_bits] = regs[0] != 0;
        break;
    case TABLE_HOLDING:
        memcpy(&map->tab_registers[point->address - map->start_registers], regs,
               codec_point_width(point) * sizeof *regs);
        break;
    case TABLE_INPUT:
        memcpy(&map->tab_input_registers[point->address - map->start_input_registers], regs,
               codec_point_width(point) * sizeof *regs);
        break;
    }
}

double sim_device_value(const struct sim_device *device, int point)
{
    uint16_t regs[2];
    load(device, &device->profile->points[point], regs);
    return codec_decode(&device->profile->points[point], regs);
}

int sim_device_bit(const struct sim_device *device, int point, int bit)
{
    uint16_t regs[2];
    load(device, &device->profile->points[point], regs);
    return (regs[0] >> bit) & 1u;
}

/* The nearest value the point's type can hold, so behaviours never fail to store. */
static double clamp_to_type(const struct point_def *point, double value)
{
    double scale = point->scale != 0 ? point->scale : 1.0;
    double raw = (value - point->offset) / scale;
    double low = 0, high = 0;
    switch (point->type) {
    case TYPE_BOOL:
        low = 0, high = 1;
        break;
    case TYPE_UINT16:
    case TYPE_BITS:
        low = 0, high = 65535;
        break;
    case TYPE_INT16:
        low = -32768, high = 32767;
        break;
    case TYPE_UINT32:
        low = 0, high = 4294967295.0;
        break;
    case TYPE_INT32:
        low = -2147483648.0, high = 2147483647.0;
        break;
    case TYPE_FLOAT32:
        return value;
    }
    raw = raw < low ? low : raw > high ? high : raw;
    return raw * scale + point->offset;
}

static int encode_into(struct sim_device *device, int point, double value)
{
    const struct point_def *def = &device->profile->points[point];
    uint16_t regs[2];
    if (codec_encode(def, value, regs) != 0)
        return -1;
    store(device, def, regs);
    return 0;
}

void sim_device_put(struct sim_device *device, int point, double value)
{
    if (point < 0 || device->pins[point] != 0)
        return;
    encode_into(device, point, clamp_to_type(&device->profile->points[point], value));
}

static void store_bit(struct sim_device *device, int point, int bit, int value)
{
    const struct point_def *def = &device->profile->points[point];
    uint16_t regs[2];
    load(device, def, regs);
    regs[0] = value ? (uint16_t)(regs[0] | 1u << bit) : (uint16_t)(regs[0] & ~(1u << bit));
    store(device, def, regs);
}

void sim_device_put_bit(struct sim_device *device, int point, int bit, int value)
{
    if (point < 0 || bit < 0 || (device->pins[point] >> bit & 1u))
        return;
    store_bit(device, point, bit, value);
}

int sim_device_force(struct sim_device *device, int point, double value)
{
    if (encode_into(device, point, value) != 0)
        return -1;
    device->pins[point] = 0xffff;
    return 0;
}

int sim_device_force_bit(struct sim_device *device, int point, int bit, int value)
{
    store_bit(device, point, bit, value);
    device->pins[point] |= (uint16_t)(1u << bit);
    return 0;
}

void sim_device_unpin_all(struct sim_device *device)
{
    memset(device->pins, 0, device->profile->point_count * sizeof *device->pins);
}

int sim_device_coil(const struct sim_device *device, uint16_t address)
{
    const modbus_mapping_t *map = device->map;
    int index = (int)address - map->start_bits;
    return index >= 0 && index < map->nb_bits ? map->tab_bits[index] : -1;
}

void sim_device_set_coil(struct sim_device *device, uint16_t address, int value)
{
    modbus_mapping_t *map = device->map;
    int index = (int)address - map->start_bits;
    if (index >= 0 && index < map->nb_bits)
        map->tab_bits[index] = value != 0;
}

static int bit_number(const struct point_def *point, const char *name)
{
    for (size_t i = 0; i < point->bit_count; i++)
        if (strcmp(point->bits[i].name, name) == 0)
            return point->bits[i].bit;
    return -1;
}

int sim_device_resolve(const struct sim_device *device, const char *name, int *point, int *bit)
{
    *bit = -1;
    *point = config_point_index(device->profile, name);
    if (*point >= 0)
        return 0;
    const char *dot = strrchr(name, '.');
    if (dot == NULL || (size_t)(dot - name) >= 128)
        return -1;
    char point_name[128];
    memcpy(point_name, name, (size_t)(dot - name));
    point_name[dot - name] = '\0';
    *point = config_point_index(device->profile, point_name);
    if (*point < 0 || device->profile->points[*point].type != TYPE_BITS)
        return -1;
    *bit = bit_number(&device->profile->points[*point], dot + 1);
    return *bit >= 0 ? 0 : -1;
}
