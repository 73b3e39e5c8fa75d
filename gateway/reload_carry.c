/*
 * reload_carry.c — a device's state across a reload (reload_carry.h): which
 * definitions count as the same, and what follows a rule by its name. Owns
 * nothing; writes only the successor device it is given.
 */
#include "reload_carry.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "shelving.h"

typedef bool same_item_fn(const void *a, const void *b);

/* Two arrays of items of item_size are alike item by item. */
static bool same_arrays(const void *a, size_t a_count, const void *b, size_t b_count,
                        size_t item_size, same_item_fn *same_item)
{
    if (a_count != b_count)
        return false;
    for (size_t i = 0; i < a_count; i++)
        if (!same_item((const char *)a + i * item_size, (const char *)b + i * item_size))
            return false;
    return true;
}

static bool same_point(const void *a, const void *b)
{
    const struct point_def *x = a, *y = b;
    return strcmp(x->name, y->name) == 0 && x->table == y->table && x->address == y->address &&
           x->type == y->type && x->word_order == y->word_order && x->byte_order == y->byte_order &&
           x->scale == y->scale && x->offset == y->offset;
}

static bool same_rule(const void *a, const void *b)
{
    const struct rule_def *x = a, *y = b;
    return strcmp(x->name, y->name) == 0 && x->kind == y->kind && x->threshold == y->threshold &&
           x->clear_threshold == y->clear_threshold && x->enabled == y->enabled &&
           x->for_ms == y->for_ms && x->clear_for_ms == y->clear_for_ms;
}

static bool same_location_entry(const void *a, const void *b)
{
    const struct location_field *x = a, *y = b;
    return strcmp(x->key, y->key) == 0 && strcmp(x->value, y->value) == 0;
}

/* Same registers read and decoded the same way: last values stay meaningful. */
static bool same_points(const struct profile *a, const struct profile *b)
{
    return same_arrays(a->points, a->point_count, b->points, b->point_count, sizeof *a->points,
                       same_point);
}

static bool same_device(const struct device_def *a, const struct device_def *b,
                        const struct config *before, const struct config *after)
{
    return a->address == b->address && a->poll_ms == b->poll_ms &&
           same_arrays(a->location, a->location_count, b->location, b->location_count,
                       sizeof *a->location, same_location_entry) &&
           strcmp(before->buses[a->bus_index].name, after->buses[b->bus_index].name) == 0 &&
           strcmp(a->profile->name, b->profile->name) == 0 && same_points(a->profile, b->profile) &&
           same_arrays(a->rules, a->rule_count, b->rules, b->rule_count, sizeof *a->rules,
                       same_rule);
}

/* Shelvings follow their alarm by name; one whose alarm is gone ends. */
static void carry_shelvings(const struct device *old, struct device *fresh)
{
    for (size_t i = 0; old->shelvings && i < SHELVINGS_MAX; i++) {
        struct shelving shelving = old->shelvings[i];
        int rule = shelving.rule_index;
        if (!shelving.until_wall_ms)
            continue;
        if (rule >= 0)
            shelving.rule_index = config_rule_index(fresh->def, old->def->rules[rule].name);
        char error[160];
        if ((rule < 0 || shelving.rule_index >= 0) &&
            shelving_add(fresh, &shelving, error, sizeof error) != 0)
            log_device(LOG_WARNING, fresh->def->id, "reload: shelving of %s not carried over: %s",
                       fresh->def->id, error);
    }
}

bool reload_carry_device(const struct device *old, struct device *fresh,
                         const struct config *before, const struct config *after)
{
    if (same_points(old->def->profile, fresh->def->profile)) {
        memcpy(fresh->values, old->values, fresh->def->profile->point_count * sizeof *old->values);
        fresh->values_valid = old->values_valid;
    }
    fresh->link = old->link;
    fresh->failed_in_row = old->failed_in_row;
    fresh->backoff_ms = old->backoff_ms;
    fresh->next_due_ms = old->next_due_ms;
    fresh->last_poll_start_ms = old->last_poll_start_ms;
    fresh->stats = old->stats;
    carry_shelvings(old, fresh);
    for (size_t i = 0; i < old->def->rule_count; i++) {
        int match = config_rule_index(fresh->def, old->def->rules[i].name);
        if (match >= 0 && fresh->def->rules[match].enabled) {
            fresh->rule_states[match] = old->rule_states[i];
            fresh->raised_wall_ms[match] = old->raised_wall_ms[i];
            if (old->shelves && !fresh->shelves)
                fresh->shelves = calloc(fresh->def->rule_count, sizeof *fresh->shelves);
            if (old->shelves && fresh->shelves)
                fresh->shelves[match] = old->shelves[i];
            fresh->active_alarm_count += old->rule_states[i].active;
        }
    }
    return !same_device(old->def, fresh->def, before, after);
}

const char *reload_retire_reason(const struct device *old, size_t rule_index,
                                 const struct device *fresh)
{
    if (!old->rule_states[rule_index].active)
        return NULL;
    if (!fresh)
        return "device removed by a configuration reload";
    int match = config_rule_index(fresh->def, old->def->rules[rule_index].name);
    if (match < 0 || !fresh->def->rules[match].enabled)
        return "rule removed or disabled by a configuration reload";
    return NULL;
}
