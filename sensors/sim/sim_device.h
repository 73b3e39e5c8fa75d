/*
 * sim_device.h — one simulated field device: its register map (built from its
 * profile's points and actions), its behaviour (by the profile's kind), its
 * pinned points, its fault and its counters.
 *
 * Ownership: struct sim owns every sim_device; only the event loop's thread
 * touches them. Simulated time advances lazily in fixed steps of SIM_STEP_MS
 * whenever the device is read or commanded, so an idle simulator costs
 * nothing and values at step k depend only on the seed and the commands.
 */
#ifndef SAFETYGW_SIM_DEVICE_H
#define SAFETYGW_SIM_DEVICE_H

#include <modbus/modbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sim_random.h"

#define SIM_STEP_MS 500u
#define SIM_STEPS_PER_MINUTE (60000u / SIM_STEP_MS)

enum sim_fault {
    SIM_FAULT_NONE,
    SIM_FAULT_SILENT,    /* never answers */
    SIM_FAULT_BAD_CRC,   /* answers with a corrupted frame */
    SIM_FAULT_SLOW,      /* answers 2 x the bus timeout late */
    SIM_FAULT_EXCEPTION, /* answers every request with an exception code */
};

struct sim_kind;
struct sim_bus;

struct sim_device {
    const struct device_def *def;
    const struct profile *profile;
    struct sim_bus *bus;
    modbus_mapping_t *map;
    const struct sim_kind *kind;
    const void *binding; /* the kind's point look-ups for this profile */
    void *state;         /* the kind's own state, kind->state_size bytes */
    struct sim_random random;
    uint64_t steps_done;
    uint16_t *pins; /* per point: bits the behaviour must not change (0xffff: whole value) */
    enum sim_fault fault;
    uint8_t fault_exception;
    uint64_t served;
    uint64_t ignored;
};

int sim_device_init(struct sim_device *device, const struct device_def *def, struct sim_bus *bus,
                    const void *binding, uint64_t seed, char *error, size_t error_size);
void sim_device_free(struct sim_device *device);

/* Runs the behaviour up to simulated step target_step. */
void sim_device_advance(struct sim_device *device, uint64_t target_step);

/* Engineering value of a point as it is in the register map now. */
double sim_device_value(const struct sim_device *device, int point);
int sim_device_bit(const struct sim_device *device, int point, int bit);

/* What behaviours call: stores unless pinned; out-of-range values are clamped. */
void sim_device_put(struct sim_device *device, int point, double value);
void sim_device_put_bit(struct sim_device *device, int point, int bit, int value);

/* What `set` calls: stores and pins. 0, or -1 when the value does not fit the type. */
int sim_device_force(struct sim_device *device, int point, double value);
int sim_device_force_bit(struct sim_device *device, int point, int bit, int value);
void sim_device_unpin_all(struct sim_device *device);

/* Coil state by address; -1 when the coil is outside the map. */
int sim_device_coil(const struct sim_device *device, uint16_t address);
void sim_device_set_coil(struct sim_device *device, uint16_t address, int value);

/* Finds "status" or "status.al1" (point, and bit or -1). 0, or -1 when unknown. */
int sim_device_resolve(const struct sim_device *device, const char *name, int *point, int *bit);

#endif
