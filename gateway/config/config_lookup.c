/*
 * config_lookup.c — questions asked of a loaded configuration: an item by its
 * name (profile, device, or the index of a point, action or rule), whether a
 * reading is plausible for its point, the totals `safetygw check` prints, and
 * the names of severities and tables. Pure reads of a struct config (config.h
 * declares them); the section readers call the action look-up while a profile
 * loads, and nothing here calls back into the loader.
 */
#include "config.h"

#include <math.h>
#include <string.h>

const struct profile *config_find_profile(const struct config *config, const char *name)
{
    for (size_t i = 0; i < config->profile_count; i++) {
        if (strcmp(config->profiles[i].name, name) == 0) {
            return &config->profiles[i];
        }
    }
    return NULL;
}

const struct device_def *config_find_device(const struct config *config, const char *id)
{
    for (size_t i = 0; i < config->device_count; i++) {
        if (strcmp(config->devices[i].id, id) == 0) {
            return &config->devices[i];
        }
    }
    return NULL;
}

int config_point_index(const struct profile *profile, const char *point_name)
{
    for (size_t i = 0; i < profile->point_count; i++) {
        if (strcmp(profile->points[i].name, point_name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int config_rule_index(const struct device_def *device, const char *rule_name)
{
    for (size_t i = 0; i < device->rule_count; i++)
        if (strcmp(device->rules[i].name, rule_name) == 0)
            return (int)i;
    return -1;
}

int config_action_index(const struct profile *profile, const char *action_name)
{
    for (size_t i = 0; i < profile->action_count; i++) {
        if (strcmp(profile->actions[i].name, action_name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

bool config_point_plausible(const struct point_def *point, double value)
{
    if (!isfinite(value))
        return false;
    return (!point->has_min || value >= point->min) && (!point->has_max || value <= point->max);
}

size_t config_total_points(const struct config *config)
{
    size_t total = 0;
    for (size_t i = 0; i < config->device_count; i++) {
        total += config->devices[i].profile->point_count;
    }
    return total;
}

size_t config_total_rules(const struct config *config)
{
    size_t total = 0;
    for (size_t i = 0; i < config->device_count; i++) {
        const struct device_def *device = &config->devices[i];
        for (size_t j = 0; j < device->rule_count; j++) {
            total += device->rules[j].enabled ? 1 : 0;
        }
    }
    return total;
}

const char *severity_name(enum severity severity)
{
    static const char *const names[] = {"critical", "major", "minor", "warning"};
    return (unsigned)severity < sizeof names / sizeof names[0] ? names[severity] : "unknown";
}

const char *point_table_name(enum point_table table)
{
    static const char *const names[] = {"coil", "discrete", "input", "holding"};
    return (unsigned)table < sizeof names / sizeof names[0] ? names[table] : "unknown";
}
