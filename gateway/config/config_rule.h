/*
 * config_rule.h — reading the alarm rules of a profile (its own and those of
 * its repeated blocks) into profile->rules, and applying a device's overrides
 * to them.
 */
#ifndef SAFETYGW_CONFIG_RULE_H
#define SAFETYGW_CONFIG_RULE_H

#include "config.h"
#include "config_index.h"
#include "config_yaml.h"

/* Where the rules of one list are read: the profile level, or one repeated block. */
struct config_rule_scope {
    /* Points and actions are complete; rules are appended at rules[rule_count],
     * which has room for every instance. */
    struct profile *profile;
    const struct config_index *point_names; /* point name -> index into profile->points */
    struct config_index *rule_names;        /* names (templates too) seen so far, for duplicates */
    const char *block_name;                 /* NULL for the profile's own rules */
    unsigned instance_count;                /* 1 for the profile's own rules */
};

/* Reads a `rules` list; bad rules are reported and skipped. */
void config_rule_read_list(struct config_yaml *file, const struct config_node *list,
                           const struct config_rule_scope *scope);

/*
 * Applies a device's override map (above, clear_below, for_ms, severity,
 * enabled, ...) to rule. what names it in messages: `override of rule
 * "gas_low" in device "gas-1"`. On error rule is left unchanged.
 */
int config_rule_override(struct config_yaml *file, const struct config_node *fields,
                         struct rule_def *rule, const char *what);

/* True when rule is an instance of the block rule template named template_name. */
bool config_rule_is_instance_of(const struct rule_def *rule, const char *template_name);

#endif
