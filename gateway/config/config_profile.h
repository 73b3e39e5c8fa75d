/*
 * config_profile.h — loading one profile file into a struct profile (points
 * with named bits, repeated blocks expanded into instances, actions, and
 * through config_rule.h its rules), and freeing what a profile holds.
 */
#ifndef SAFETYGW_CONFIG_PROFILE_H
#define SAFETYGW_CONFIG_PROFILE_H

#include "config.h"

/*
 * Loads path into profile (zeroed first). name_where receives "file:line:column"
 * of its name, for "duplicate profile" messages. Returns -1 after reporting
 * errors; profile then holds what could be read (its name, if that was
 * valid), for the caller to keep or clear.
 */
int config_profile_load(const char *path, struct config_errors *errors, struct profile *profile,
                        char *name_where, size_t name_where_size);

/* Frees what profile points to, not profile itself. */
void config_profile_clear(struct profile *profile);

#endif
