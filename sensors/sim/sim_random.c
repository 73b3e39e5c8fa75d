#include "sim_random.h"

void sim_random_seed(struct sim_random *random, uint64_t seed, const char *name)
{
    /* FNV-1a of the name, mixed with the seed: devices get unrelated streams. */
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++)
        hash = (hash ^ *c) * 0x100000001b3ULL;
    random->state = hash ^ (seed * 0x9e3779b97f4a7c15ULL);
}

uint64_t sim_random_next(struct sim_random *random)
{
    uint64_t z = (random->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double sim_random_uniform(struct sim_random *random, double low, double high)
{
    double unit = (double)(sim_random_next(random) >> 11) / (double)(1ULL << 53);
    return low + (high - low) * unit;
}

int sim_random_int(struct sim_random *random, int low, int high)
{
    uint64_t span = (uint64_t)((int64_t)high - low + 1);
    return low + (int)(sim_random_next(random) % span);
}

int sim_random_chance(struct sim_random *random, double probability)
{
    return sim_random_uniform(random, 0.0, 1.0) < probability;
}
