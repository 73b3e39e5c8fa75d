/*
 * sim_kind.h — behaviour of a kind of device (gas_alarm, elevator,
 * ebike_charger), chosen by a profile's `kind`. A behaviour finds its points
 * by the names of DOMAIN.md once per profile (bind), then writes engineering
 * values through sim_device_put; the register layout itself always comes from
 * the profile. Kinds without a behaviour keep the values they are set to.
 */
#ifndef SAFETYGW_SIM_KIND_H
#define SAFETYGW_SIM_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sim_device.h"

struct sim_kind {
    const char *name; /* the profile kind it simulates */
    /* Bytes of per-device state (zeroed before start) for a profile's binding. */
    size_t (*state_size)(const void *binding);
    /* Looks up the kind's points once per profile; malloc'd (sim frees it), NULL when out of memory
     */
    void *(*bind)(const struct profile *profile);
    void (*start)(struct sim_device *device); /* initial values, from device->random */
    void (*step)(struct sim_device *device);  /* one SIM_STEP_MS of simulated time */
    /* After a Modbus write of count coils or registers from address. */
    void (*written)(struct sim_device *device, enum point_table table, uint16_t address,
                    uint16_t count);
    /* Starts a hazard; 0, or -1 with the reason in error. */
    int (*hazard)(struct sim_device *device, const char *hazard, const char *argument, char *error,
                  size_t error_size);
    void (*calm)(struct sim_device *device); /* end hazards, back to normal values */
};

extern const struct sim_kind sim_kind_gas;
extern const struct sim_kind sim_kind_elevator;
extern const struct sim_kind sim_kind_charger;
extern const struct sim_kind sim_kind_generic;

/* The behaviour for a profile kind; the generic one for kinds without a behaviour. */
const struct sim_kind *sim_kind_find(const char *kind);

/* A point found by name, and one of its named bits. */
struct sim_bit_ref {
    int point; /* -1 when the profile has no such bit */
    int bit;
};

/* First of names (NULL-terminated) that is a point of profile; -1 if none. */
int sim_kind_point(const struct profile *profile, const char *const *names);
/* First of names that is a named bit of any bits point. */
struct sim_bit_ref sim_kind_bit(const struct profile *profile, const char *const *names);
/*
 * Coil address of the first of names that is a coil action (its address) or a
 * coil point; -1 if none.
 */
int sim_kind_coil(const struct profile *profile, const char *const *names);

#endif
