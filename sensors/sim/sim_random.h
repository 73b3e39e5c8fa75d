/*
 * sim_random.h — deterministic pseudo-random numbers (splitmix64), one stream
 * per simulated device, so that a run is reproducible from --seed.
 */
#ifndef SAFETYGW_SIM_RANDOM_H
#define SAFETYGW_SIM_RANDOM_H

#include <stdint.h>

struct sim_random {
    uint64_t state;
};

/* Seeds a stream from the run's seed and a name (the device id). */
void sim_random_seed(struct sim_random *random, uint64_t seed, const char *name);

uint64_t sim_random_next(struct sim_random *random);

/* Uniform in [low, high). */
double sim_random_uniform(struct sim_random *random, double low, double high);

/* Uniform integer in [low, high] (inclusive). */
int sim_random_int(struct sim_random *random, int low, int high);

/* 1 with the given probability (0..1), else 0. */
int sim_random_chance(struct sim_random *random, double probability);

#endif
