/*
 * config_rule.c — a profile's `rules` lists into profile->rules (names and
 * all, the profile's to free), and a device's overrides applied to its copy of
 * them: exactly one condition key, a clear threshold on the right side of it
 * (hysteresis), a point or a named bit, an optional action.
 */
#include "config_rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULE_OFFLINE_MAX_POLLS 1000
#define RULE_RATE_WINDOW_DEFAULT_MS 60000
#define RULE_RATE_WINDOW_MIN_MS 1000
#define RULE_RATE_WINDOW_MAX_MS 3600000
/* Chattering (ISA-18.2 shelving): defaults per rule, and bounds of what may be set. */
#define CHATTER_RAISES_DEFAULT 3
#define CHATTER_RAISES_MIN 2
#define CHATTER_WINDOW_DEFAULT_MS 60000
#define CHATTER_WINDOW_MAX_MS 3600000
#define SHELVE_DEFAULT_MS 600000
#define SHELVE_MAX_MS 86400000

/* Indexed by enum rule_kind. */
static const char *const condition_keys[] = {"above",      "below",         "equals", "not_equals",
                                             "rate_above", "offline_after", NULL};
static const char *const severity_names[] = {"critical", "major", "minor", "warning", NULL};

static const char *const rule_keys[] = {
    "name",           "point",         "above",       "below",       "equals", "not_equals",
    "rate_above",     "offline_after", "clear_below", "clear_above", "for_ms", "clear_for_ms",
    "rate_window_ms", "severity",      "action",      "enabled",     "chatter", NULL};
static const char *const rule_required[] = {"name", "severity", NULL};

static const char *const override_keys[] = {
    "above",       "below",  "equals",       "not_equals", "rate_above", "clear_below",
    "clear_above", "for_ms", "clear_for_ms", "severity",   "enabled",    NULL};

/* A rule as written, before it is bound to a block instance. */
struct rule_template {
    struct rule_def rule; /* name NULL, point_index unresolved */
    const char *name;
    const char *point; /* as written, relative to the block; NULL for offline rules */
    const struct config_node *node;
    const struct config_node *point_node;
    const struct config_node *action_node;
    bool indexed_action;
};

/* The one condition key of map, or -1 after reporting none or several. */
static int read_kind(struct config_yaml *file, const struct config_node *map, const char *what)
{
    int kind = -1;
    for (int i = 0; condition_keys[i] != NULL; i++) {
        const struct config_node *value = config_yaml_get(file, map, condition_keys[i]);
        if (value == NULL) {
            continue;
        }
        if (kind >= 0) {
            config_yaml_error(file, value,
                              "%s has both %s and %s; give exactly one of: above, below, equals, "
                              "not_equals, rate_above, offline_after",
                              what, condition_keys[kind], condition_keys[i]);
            return -1;
        }
        kind = i;
    }
    if (kind < 0) {
        config_yaml_error(file, map,
                          "%s needs one of: above, below, equals, not_equals, rate_above, "
                          "offline_after",
                          what);
    }
    return kind;
}

static const char *clear_key_of(enum rule_kind kind)
{
    if (kind == RULE_ABOVE || kind == RULE_RATE_ABOVE) {
        return "clear_below";
    }
    return kind == RULE_BELOW ? "clear_above" : NULL;
}

/* clear_below / clear_above: only the one that fits the rule's condition. */
static int read_clear(struct config_yaml *file, const struct config_node *map,
                      struct rule_def *rule, const char *what)
{
    static const char *const clear_keys[] = {"clear_below", "clear_above", NULL};
    const char *fitting = clear_key_of(rule->kind);
    int result = 0;
    for (int i = 0; clear_keys[i] != NULL; i++) {
        const struct config_node *value = config_yaml_get(file, map, clear_keys[i]);
        if (value == NULL) {
            continue;
        }
        if (fitting == NULL || strcmp(fitting, clear_keys[i]) != 0) {
            config_yaml_error(file, value, "%s does not apply to %s, which uses %s", clear_keys[i],
                              what, condition_keys[rule->kind]);
            result = -1;
        } else if (config_yaml_real(file, value, clear_keys[i], &rule->clear_threshold) < 0) {
            result = -1;
        }
    }
    return result;
}

/* Hysteresis must widen the alarm, never make it clear while still raised. */
static int check_clear_side(struct config_yaml *file, const struct config_node *map,
                            const struct rule_def *rule, const char *what)
{
    bool below_side = rule->kind == RULE_ABOVE || rule->kind == RULE_RATE_ABOVE;
    const char *clear_key = clear_key_of(rule->kind);
    const struct config_node *clear_node = clear_key ? config_yaml_get(file, map, clear_key) : NULL;
    const struct config_node *at = clear_node ? clear_node : map;
    if (below_side && rule->clear_threshold > rule->threshold) {
        config_yaml_error(file, at, "%s: clear_below %g must be <= the threshold %g", what,
                          rule->clear_threshold, rule->threshold);
        return -1;
    }
    if (rule->kind == RULE_BELOW && rule->clear_threshold < rule->threshold) {
        config_yaml_error(file, at, "%s: clear_above %g must be >= the threshold %g", what,
                          rule->clear_threshold, rule->threshold);
        return -1;
    }
    return 0;
}

static int read_condition(struct config_yaml *file, const struct config_node *map,
                          struct rule_def *rule, const char *what)
{
    const struct config_node *value = config_yaml_get(file, map, condition_keys[rule->kind]);
    if (rule->kind == RULE_OFFLINE) {
        int64_t polls = 0;
        if (config_yaml_integer(file, value, "offline_after", 1, RULE_OFFLINE_MAX_POLLS, &polls) <
            0) {
            return -1;
        }
        rule->offline_after_polls = (uint32_t)polls;
        return 0;
    }
    if (config_yaml_real(file, value, condition_keys[rule->kind], &rule->threshold) < 0) {
        return -1;
    }
    rule->clear_threshold = rule->threshold;
    if (read_clear(file, map, rule, what) < 0) {
        return -1;
    }
    return check_clear_side(file, map, rule, what);
}

static int read_rate_window(struct config_yaml *file, const struct config_node *map,
                            struct rule_def *rule, const char *what)
{
    rule->rate_window_ms = RULE_RATE_WINDOW_DEFAULT_MS;
    const struct config_node *value = config_yaml_get(file, map, "rate_window_ms");
    if (value != NULL && rule->kind != RULE_RATE_ABOVE) {
        config_yaml_error(file, value, "rate_window_ms applies only to rate_above, not to %s",
                          what);
        return -1;
    }
    return config_yaml_get_u32(file, map, "rate_window_ms", RULE_RATE_WINDOW_MIN_MS,
                               RULE_RATE_WINDOW_MAX_MS, &rule->rate_window_ms);
}

static const char *const chatter_keys[] = {"raises", "within_ms", "shelve_ms", NULL};
static const char *const chatter_required[] = {NULL};

/* chatter: off, or { raises, within_ms, shelve_ms } (each optional, defaults above). */
static int read_chatter(struct config_yaml *file, const struct config_node *map,
                        struct rule_def *rule, const char *what)
{
    rule->chatter_raises = CHATTER_RAISES_DEFAULT;
    rule->chatter_window_ms = CHATTER_WINDOW_DEFAULT_MS;
    rule->shelve_ms = SHELVE_DEFAULT_MS;
    const struct config_node *node = config_yaml_get(file, map, "chatter");
    if (node == NULL)
        return 0;
    const char *text = config_yaml_text(node);
    if (text != NULL && strcmp(text, "off") == 0) {
        rule->chatter_raises = 0;
        return 0;
    }
    if (text != NULL) {
        config_yaml_error(file, node,
                          "chatter of %s must be off or a map of raises, within_ms, shelve_ms",
                          what);
        return -1;
    }
    if (!config_yaml_expect_map(file, node, "chatter"))
        return -1;
    int result = config_yaml_check_keys(file, node, "chatter", chatter_keys, chatter_required);
    result |= config_yaml_get_u32(file, node, "raises", CHATTER_RAISES_MIN, CHATTER_RAISES_MAX,
                                  &rule->chatter_raises);
    result |= config_yaml_get_u32(file, node, "within_ms", 1000, CHATTER_WINDOW_MAX_MS,
                                  &rule->chatter_window_ms);
    result |= config_yaml_get_u32(file, node, "shelve_ms", 1000, SHELVE_MAX_MS, &rule->shelve_ms);
    return result;
}

static int read_point_key(struct config_yaml *file, const struct config_node *map,
                          struct rule_template *tmpl, const char *what)
{
    tmpl->point_node = config_yaml_get(file, map, "point");
    if (tmpl->rule.kind == RULE_OFFLINE) {
        if (tmpl->point_node != NULL) {
            config_yaml_error(file, tmpl->point_node, "%s uses offline_after and takes no point",
                              what);
            return -1;
        }
        return 0;
    }
    if (tmpl->point_node == NULL) {
        config_yaml_error(file, map, "missing required key \"point\" in %s", what);
        return -1;
    }
    tmpl->point = config_yaml_text(tmpl->point_node);
    if (tmpl->point == NULL || tmpl->point[0] == '\0') {
        config_yaml_error(file, tmpl->point_node, "point of %s must be a point name", what);
        return -1;
    }
    return 0;
}

static int read_action(struct config_yaml *file, const struct config_node *map,
                       struct rule_template *tmpl, const struct config_rule_scope *scope,
                       const char *what)
{
    tmpl->action_node = config_yaml_get(file, map, "action");
    if (tmpl->action_node == NULL) {
        return 0;
    }
    const char *name = config_yaml_text(tmpl->action_node);
    int index = name ? config_action_index(scope->profile, name) : -1;
    if (index < 0) {
        config_yaml_error(file, tmpl->action_node, "%s refers to unknown action \"%s\"", what,
                          name ? name : "");
        return -1;
    }
    const struct action_def *action = &scope->profile->actions[index];
    tmpl->rule.action_index = index;
    tmpl->indexed_action = action->param_name != NULL;
    if (tmpl->indexed_action && scope->block_name == NULL) {
        config_yaml_error(file, tmpl->action_node,
                          "%s uses indexed action \"%s\" (by %s) outside a block; only block "
                          "rules pass an instance number",
                          what, name, action->param_name);
        return -1;
    }
    if (tmpl->indexed_action && scope->instance_count > action->param_count) {
        config_yaml_error(file, tmpl->action_node,
                          "%s: block \"%s\" has %u instances but action \"%s\" takes %s 0..%u",
                          what, scope->block_name, scope->instance_count, name, action->param_name,
                          action->param_count - 1u);
        return -1;
    }
    return 0;
}

static int read_template(struct config_yaml *file, const struct config_node *node,
                         const struct config_rule_scope *scope, struct rule_template *tmpl)
{
    memset(tmpl, 0, sizeof *tmpl);
    tmpl->node = node;
    tmpl->rule.point_index = -1;
    tmpl->rule.bit = -1;
    tmpl->rule.action_index = -1;
    tmpl->rule.action_param = -1;
    tmpl->rule.enabled = true;
    if (!config_yaml_expect_map(file, node, "a rule")) {
        return -1;
    }
    const struct config_node *name_node = config_yaml_get(file, node, "name");
    char *name = NULL;
    if (name_node != NULL &&
        config_yaml_name(file, name_node, "rule name", CONFIG_CHARSET_WORD, &name) == 0) {
        tmpl->name = config_yaml_text(name_node);
    }
    free(name);
    char what[160];
    snprintf(what, sizeof what, "rule \"%s\"", tmpl->name ? tmpl->name : "?");
    int result = config_yaml_check_keys(file, node, what, rule_keys, rule_required);
    int kind = read_kind(file, node, what);
    if (tmpl->name == NULL || kind < 0) {
        return -1;
    }
    tmpl->rule.kind = (enum rule_kind)kind;
    int severity = 0;
    result |= read_condition(file, node, &tmpl->rule, what);
    result |= read_rate_window(file, node, &tmpl->rule, what);
    result |= read_chatter(file, node, &tmpl->rule, what);
    result |= config_yaml_get_u32(file, node, "for_ms", 0, UINT32_MAX, &tmpl->rule.for_ms);
    result |=
        config_yaml_get_u32(file, node, "clear_for_ms", 0, UINT32_MAX, &tmpl->rule.clear_for_ms);
    result |= config_yaml_get_choice(file, node, "severity", severity_names, &severity);
    result |= config_yaml_get_bool(file, node, "enabled", &tmpl->rule.enabled);
    result |= read_point_key(file, node, tmpl, what);
    result |= read_action(file, node, tmpl, scope, what);
    tmpl->rule.severity = (enum severity)severity;
    return result;
}

static int find_bit(const struct point_def *point, const char *bit_name)
{
    for (size_t i = 0; i < point->bit_count; i++) {
        if (strcmp(point->bits[i].name, bit_name) == 0) {
            return point->bits[i].bit;
        }
    }
    return -1;
}

/* "status.valve_closed": the point "status" and its bit named valve_closed. */
static int resolve_bit(struct config_yaml *file, const struct config_rule_scope *scope,
                       const struct rule_template *tmpl, char *full_name, struct rule_def *rule)
{
    char *dot = strrchr(full_name, '.');
    long index = -1;
    if (dot != NULL) {
        *dot = '\0';
        index = config_index_find(scope->point_names, full_name);
    }
    if (index < 0) {
        config_yaml_error(file, tmpl->point_node, "rule \"%s\" refers to unknown point \"%s\"",
                          tmpl->name, tmpl->point);
        return -1;
    }
    const struct point_def *point = &scope->profile->points[index];
    int bit = find_bit(point, dot + 1);
    if (bit < 0) {
        config_yaml_error(file, tmpl->point_node,
                          "rule \"%s\" refers to unknown bit \"%s\" of point \"%s\"%s", tmpl->name,
                          dot + 1, point->name,
                          point->type == TYPE_BITS ? "" : " (not a bits point)");
        return -1;
    }
    rule->point_index = (int)index;
    rule->bit = bit;
    return 0;
}

/* Binds the template's point to block instance `instance`. */
static int resolve_point(struct config_yaml *file, const struct config_rule_scope *scope,
                         const struct rule_template *tmpl, unsigned instance, struct rule_def *rule)
{
    if (tmpl->point == NULL) {
        return 0;
    }
    char *full_name = scope->block_name
                          ? config_yaml_printf("%s%u.%s", scope->block_name, instance, tmpl->point)
                          : config_yaml_strdup(tmpl->point);
    long index = config_index_find(scope->point_names, full_name);
    int result = 0;
    if (index >= 0) {
        rule->point_index = (int)index;
        rule->bit = -1;
    } else {
        result = resolve_bit(file, scope, tmpl, full_name, rule);
    }
    free(full_name);
    return result;
}

/* A bit is 0 or 1: comparing it with 2 would never (or always) raise. */
static int check_bit_threshold(struct config_yaml *file, const struct rule_template *tmpl,
                               const struct rule_def *rule)
{
    bool compares = rule->kind == RULE_EQUALS || rule->kind == RULE_NOT_EQUALS;
    if (rule->bit < 0 || !compares || rule->threshold == 0 || rule->threshold == 1) {
        return 0;
    }
    config_yaml_error(file, config_yaml_get(file, tmpl->node, condition_keys[rule->kind]),
                      "rule \"%s\" compares bit \"%s\" with %g; a bit is 0 or 1", tmpl->name,
                      tmpl->point, rule->threshold);
    return -1;
}

static int check_unique_name(struct config_yaml *file, const struct config_rule_scope *scope,
                             const struct rule_template *tmpl)
{
    if (config_index_add(scope->rule_names, tmpl->name, 0) < 0) {
        return 0;
    }
    config_yaml_error(file, config_yaml_get(file, tmpl->node, "name"),
                      "duplicate rule name \"%s\" in profile \"%s\"", tmpl->name,
                      scope->profile->name ? scope->profile->name : "?");
    return -1;
}

static void add_rule_instance(const struct config_rule_scope *scope,
                              const struct rule_template *tmpl, const struct rule_def *bound,
                              unsigned instance)
{
    struct rule_def *rule = &scope->profile->rules[scope->profile->rule_count++];
    *rule = *bound;
    rule->name = scope->block_name
                     ? config_yaml_printf("%s%u.%s", scope->block_name, instance, tmpl->name)
                     : config_yaml_strdup(tmpl->name);
    rule->action_param = tmpl->indexed_action ? (int)instance : -1;
}

/*
 * A block rule is read once as a template and then instantiated per block
 * instance, so a mistake in it is reported once, not ten times.
 */
static void read_rule(struct config_yaml *file, const struct config_node *node,
                      const struct config_rule_scope *scope)
{
    struct rule_template tmpl;
    if (read_template(file, node, scope, &tmpl) < 0 || check_unique_name(file, scope, &tmpl) < 0) {
        return;
    }
    for (unsigned instance = 0; instance < scope->instance_count; instance++) {
        struct rule_def bound = tmpl.rule;
        if (resolve_point(file, scope, &tmpl, instance, &bound) < 0 ||
            check_bit_threshold(file, &tmpl, &bound) < 0) {
            return; /* the same mistake in every instance: reported once */
        }
        add_rule_instance(scope, &tmpl, &bound, instance);
    }
}

void config_rule_read_list(struct config_yaml *file, const struct config_node *list,
                           const struct config_rule_scope *scope)
{
    if (list == NULL || !config_yaml_expect_list(file, list, "rules")) {
        return;
    }
    size_t length = config_yaml_list_length(list);
    for (size_t i = 0; i < length; i++) {
        read_rule(file, config_yaml_list_item(file, list, i), scope);
    }
}

bool config_rule_is_instance_of(const struct rule_def *rule, const char *template_name)
{
    const char *dot = strchr(rule->name, '.');
    return dot != NULL && strcmp(dot + 1, template_name) == 0;
}

/* A new threshold keeps the profile's hysteresis band unless a clear key is given too. */
static int override_threshold(struct config_yaml *file, const struct config_node *fields,
                              struct rule_def *rule, const char *what)
{
    int result = 0;
    for (int i = 0; condition_keys[i] != NULL; i++) {
        const struct config_node *value = config_yaml_get(file, fields, condition_keys[i]);
        if (value == NULL) {
            continue;
        }
        double threshold = 0;
        if (i != (int)rule->kind || rule->kind == RULE_OFFLINE) {
            config_yaml_error(file, value, "%s: %s does not apply; the rule uses %s", what,
                              condition_keys[i], condition_keys[rule->kind]);
            result = -1;
        } else if (config_yaml_real(file, value, condition_keys[i], &threshold) < 0) {
            result = -1;
        } else {
            rule->clear_threshold = threshold + (rule->clear_threshold - rule->threshold);
            rule->threshold = threshold;
        }
    }
    return result;
}

int config_rule_override(struct config_yaml *file, const struct config_node *fields,
                         struct rule_def *rule, const char *what)
{
    if (!config_yaml_expect_map(file, fields, what)) {
        return -1;
    }
    struct rule_def changed = *rule;
    int severity = (int)changed.severity;
    int result = config_yaml_check_keys(file, fields, what, override_keys, NULL);
    result |= override_threshold(file, fields, &changed, what);
    result |= read_clear(file, fields, &changed, what);
    result |= config_yaml_get_u32(file, fields, "for_ms", 0, UINT32_MAX, &changed.for_ms);
    result |=
        config_yaml_get_u32(file, fields, "clear_for_ms", 0, UINT32_MAX, &changed.clear_for_ms);
    result |= config_yaml_get_choice(file, fields, "severity", severity_names, &severity);
    result |= config_yaml_get_bool(file, fields, "enabled", &changed.enabled);
    if (result == 0) {
        result = check_clear_side(file, fields, &changed, what);
    }
    if (result < 0) {
        return -1;
    }
    changed.severity = (enum severity)severity;
    *rule = changed;
    return 0;
}
