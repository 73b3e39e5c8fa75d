#include "sim_kind.h"

#include <stdio.h>
#include <string.h>

static const struct sim_kind *const kinds[] = {&sim_kind_gas, &sim_kind_elevator,
                                               &sim_kind_charger};

const struct sim_kind *sim_kind_find(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kind != NULL && strcmp(kinds[i]->name, kind) == 0)
            return kinds[i];
    return &sim_kind_generic;
}

int sim_kind_point(const struct profile *profile, const char *const *names)
{
    for (; *names != NULL; names++)
        for (size_t i = 0; i < profile->point_count; i++)
            if (strcmp(profile->points[i].name, *names) == 0)
                return (int)i;
    return -1;
}

struct sim_bit_ref sim_kind_bit(const struct profile *profile, const char *const *names)
{
    for (; *names != NULL; names++)
        for (size_t i = 0; i < profile->point_count; i++) {
            const struct point_def *point = &profile->points[i];
            for (size_t b = 0; point->type == TYPE_BITS && b < point->bit_count; b++)
                if (strcmp(point->bits[b].name, *names) == 0)
                    return (struct sim_bit_ref){(int)i, point->bits[b].bit};
        }
    return (struct sim_bit_ref){-1, -1};
}

int sim_kind_coil(const struct profile *profile, const char *const *names)
{
    for (const char *const *name = names; *name != NULL; name++)
        for (size_t i = 0; i < profile->action_count; i++)
            if (profile->actions[i].table == TABLE_COIL &&
                strcmp(profile->actions[i].name, *name) == 0)
                return profile->actions[i].address;
    int point = sim_kind_point(profile, names);
    return point >= 0 && profile->points[point].table == TABLE_COIL ? profile->points[point].address
                                                                    : -1;
}
