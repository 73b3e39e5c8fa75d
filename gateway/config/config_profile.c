/*
 * config_profile.c — one profile file into a struct profile: its header keys,
 * points with named bits, repeated blocks expanded into instances, actions,
 * then (through config_rule.c) rules. The profile owns everything it points to
 * until config_profile_clear().
 */
#include "config_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "config_index.h"
#include "config_rule.h"
#include "config_yaml.h"

#define PROFILE_POLL_DEFAULT_MS 1000
#define PROFILE_POLL_MIN_MS 10
#define PROFILE_POLL_MAX_MS 3600000
#define PROFILE_MAX_REGISTERS 125 /* longest FC03/FC04 read, Modbus application protocol 6.3 */
#define BLOCK_MAX_COUNT 256
#define BIT_MAX 15
#define TELEMETRY_PERIOD_MIN_MS 1000
#define TELEMETRY_PERIOD_MAX_MS 86400000

static const char *const profile_keys[] = {"name",          "kind",    "description", "poll_ms",
                                           "max_registers", "max_gap", "points",      "blocks",
                                           "actions",       "rules",   "telemetry",   "fast_poll",
                                           NULL};
static const char *const fast_poll_keys[] = {"poll_ms", "margin_percent", NULL};
static const char *const fast_poll_required[] = {"poll_ms", NULL};
#define FAST_MARGIN_DEFAULT_PERCENT 80
static const char *const telemetry_keys[] = {"period_ms", "on_change", NULL};
static const char *const telemetry_required[] = {NULL};
static const char *const profile_required[] = {"name", "kind", "points", NULL};
static const char *const point_keys[] = {"name",       "table", "address", "type", "word_order",
                                         "byte_order", "scale", "offset",  "unit", "bits",
                                         "deadband",   "min",   "max",     NULL};
static const char *const point_required[] = {"name", "table", "address", NULL};
static const char *const block_keys[] = {"name", "count", "stride", "points", "rules", NULL};
static const char *const block_required[] = {"name", "count", "stride", "points", NULL};
static const char *const action_keys[] = {"table", "address",     "value",        "count",
                                          "param", "param_count", "param_stride", NULL};
static const char *const action_required[] = {"table", "address", NULL};

/* Indexed by enum point_table, enum point_type, enum word_order / byte_order. */
static const char *const table_names[] = {"coil", "discrete", "input", "holding", NULL};
static const char *const type_names[] = {"bool",  "uint16",  "int16", "uint32",
                                         "int32", "float32", "bits",  NULL};
static const char *const order_names[] = {"big", "little", NULL};
static const char *const action_table_names[] = {"coil", "holding", NULL};

struct block {
    const struct config_node *node;
    const char *name;
    uint32_t instance_count; /* its `count` */
    uint32_t stride;
    const struct config_node *points;
    const struct config_node *rules;
};

struct profile_loader {
    struct config_yaml *file;
    struct profile *profile;
    const struct config_node **point_nodes; /* parallel to profile->points */
    struct config_index point_names;
    struct config_index rule_names;
    struct block *blocks; /* the valid ones */
    size_t block_count;
};

static void point_clear(struct point_def *point)
{
    free(point->name);
    free(point->unit);
    for (size_t i = 0; i < point->bit_count; i++) {
        free(point->bits[i].name);
    }
    free(point->bits);
    memset(point, 0, sizeof *point);
}

static int read_bit(struct config_yaml *file, const struct config_node *bits, size_t i,
                    struct point_def *point)
{
    const struct config_node *key = config_yaml_map_key(file, bits, i);
    struct bit_def *bit = &point->bits[point->bit_count];
    int64_t bit_number = 0;
    if (config_yaml_name(file, key, "bit name", CONFIG_CHARSET_WORD, &bit->name) < 0) {
        return -1;
    }
    for (size_t j = 0; j < point->bit_count; j++) {
        if (strcmp(point->bits[j].name, bit->name) == 0) {
            config_yaml_error(file, key, "duplicate bit name \"%s\" in point \"%s\"", bit->name,
                              point->name);
            free(bit->name);
            bit->name = NULL; /* the next bit is read into this slot */
            return -1;
        }
    }
    if (config_yaml_integer(file, config_yaml_map_value(file, bits, i), "bit", 0, BIT_MAX,
                            &bit_number) < 0) {
        free(bit->name);
        bit->name = NULL;
        return -1;
    }
    bit->bit = (uint8_t)bit_number;
    point->bit_count++;
    return 0;
}

static int read_bits(struct config_yaml *file, const struct config_node *node,
                     struct point_def *point)
{
    const struct config_node *bits = config_yaml_get(file, node, "bits");
    if (bits == NULL) {
        return 0;
    }
    if (point->type != TYPE_BITS) {
        config_yaml_error(file, bits, "point \"%s\" has bits but its type is %s, not bits",
                          point->name, type_names[point->type]);
        return -1;
    }
    if (!config_yaml_expect_map(file, bits, "bits")) {
        return -1;
    }
    size_t length = config_yaml_map_length(bits);
    int result = 0;
    point->bits = config_yaml_calloc(length, sizeof *point->bits);
    for (size_t i = 0; i < length; i++) {
        result |= read_bit(file, bits, i, point);
    }
    return result;
}

/* coil and discrete hold single bits: bool there and only there. */
static int read_point_type(struct config_yaml *file, const struct config_node *node,
                           struct point_def *point)
{
    bool bit_table = point->table == TABLE_COIL || point->table == TABLE_DISCRETE;
    int type = bit_table ? TYPE_BOOL : TYPE_UINT16;
    if (config_yaml_get_choice(file, node, "type", type_names, &type) < 0) {
        return -1;
    }
    point->type = (enum point_type)type;
    if (bit_table != (point->type == TYPE_BOOL)) {
        config_yaml_error(file, config_yaml_get(file, node, "type"),
                          "point \"%s\": type %s does not fit table %s (coil and discrete "
                          "points are bool, and only they are)",
                          point->name, type_names[type], table_names[point->table]);
        return -1;
    }
    return 0;
}

static int check_point_end(struct config_yaml *file, const struct config_node *node,
                           const struct point_def *point)
{
    if ((uint32_t)point->address + codec_point_width(point) - 1 <= UINT16_MAX) {
        return 0;
    }
    config_yaml_error(file, config_yaml_get(file, node, "address"),
                      "point \"%s\" (%s) at address %u runs past register 65535", point->name,
                      type_names[point->type], point->address);
    return -1;
}

static int read_deadband(struct config_yaml *file, const struct config_node *node,
                         struct point_def *point)
{
    if (config_yaml_get_real(file, node, "deadband", &point->deadband) < 0)
        return -1;
    if (point->deadband >= 0)
        return 0;
    config_yaml_error(file, config_yaml_get(file, node, "deadband"),
                      "deadband of point \"%s\" must be 0 or more", point->name);
    return -1;
}

/* min / max: the range a sensible reading stays in (engineering units), optional. */
static int read_range(struct config_yaml *file, const struct config_node *node,
                      struct point_def *point)
{
    point->has_min = config_yaml_get(file, node, "min") != NULL;
    point->has_max = config_yaml_get(file, node, "max") != NULL;
    int result = config_yaml_get_real(file, node, "min", &point->min);
    result |= config_yaml_get_real(file, node, "max", &point->max);
    if (result == 0 && point->has_min && point->has_max && point->min > point->max) {
        config_yaml_error(file, config_yaml_get(file, node, "max"),
                          "max %g of point \"%s\" is below its min %g", point->max, point->name,
                          point->min);
        return -1;
    }
    return result;
}

static int read_point_fields(struct config_yaml *file, const struct config_node *node,
                             struct point_def *point)
{
    int table = 0;
    int word_order = WORD_ORDER_BIG;
    int byte_order = BYTE_ORDER_BIG;
    if (config_yaml_get_choice(file, node, "table", table_names, &table) < 0 ||
        config_yaml_get_u16(file, node, "address", 0, UINT16_MAX, &point->address) < 0) {
        return -1;
    }
    point->table = (enum point_table)table;
    int result = read_point_type(file, node, point);
    result |= config_yaml_get_choice(file, node, "word_order", order_names, &word_order);
    result |= config_yaml_get_choice(file, node, "byte_order", order_names, &byte_order);
    result |= config_yaml_get_real(file, node, "scale", &point->scale);
    result |= config_yaml_get_real(file, node, "offset", &point->offset);
    result |= config_yaml_get_string(file, node, "unit", &point->unit);
    result |= read_deadband(file, node, point);
    result |= read_range(file, node, point);
    if (result == 0) {
        result |= read_bits(file, node, point);
        result |= check_point_end(file, node, point);
    }
    point->word_order = (enum word_order)word_order;
    point->byte_order = (enum byte_order)byte_order;
    return result;
}

static int read_point(struct config_yaml *file, const struct config_node *node,
                      struct point_def *point)
{
    memset(point, 0, sizeof *point);
    point->scale = 1;
    point->block_instance = -1;
    if (!config_yaml_expect_map(file, node, "a point")) {
        return -1;
    }
    int result =
        config_yaml_get_name(file, node, "name", "point name", CONFIG_CHARSET_WORD, &point->name);
    char what[160];
    snprintf(what, sizeof what, "point \"%s\"", point->name ? point->name : "?");
    result |= config_yaml_check_keys(file, node, what, point_keys, point_required);
    if (result == 0) {
        result = read_point_fields(file, node, point);
    }
    if (result < 0) {
        point_clear(point);
    }
    return result;
}

/* Takes point over; a point whose name is taken is reported and freed. */
static int add_point(struct profile_loader *loader, struct point_def *point,
                     const struct config_node *node)
{
    struct profile *profile = loader->profile;
    if (config_index_add(&loader->point_names, point->name, profile->point_count) >= 0) {
        config_yaml_error(loader->file, node, "duplicate point name \"%s\" in profile \"%s\"",
                          point->name, profile->name ? profile->name : "?");
        point_clear(point);
        return -1;
    }
    loader->point_nodes[profile->point_count] = node;
    profile->points[profile->point_count++] = *point;
    return 0;
}

static void read_points(struct profile_loader *loader, const struct config_node *list)
{
    size_t length = config_yaml_list_length(list);
    for (size_t i = 0; i < length; i++) {
        const struct config_node *node = config_yaml_list_item(loader->file, list, i);
        struct point_def point;
        if (read_point(loader->file, node, &point) == 0) {
            add_point(loader, &point, node);
        }
    }
}

static struct point_def copy_point(const struct point_def *template, char *name, uint32_t address,
                                   int instance)
{
    struct point_def copy = *template;
    copy.name = name;
    copy.address = (uint16_t)address;
    copy.block_instance = instance;
    copy.unit = template->unit ? config_yaml_strdup(template->unit) : NULL;
    copy.bits = config_yaml_calloc(template->bit_count, sizeof *copy.bits);
    for (size_t i = 0; i < template->bit_count; i++) {
        copy.bits[i].name = config_yaml_strdup(template->bits[i].name);
        copy.bits[i].bit = template->bits[i].bit;
    }
    return copy;
}

/* Instance i of a block point sits i * stride registers after the first. */
static void add_instance_point(struct profile_loader *loader, const struct block *block,
                               const struct point_def *template, const struct config_node *node,
                               uint32_t i)
{
    uint32_t address = template->address + i * block->stride;
    char *name = config_yaml_printf("%s%u.%s", block->name, i, template->name);
    struct point_def instance = copy_point(template, name, address, (int)i);
    add_point(loader, &instance, node);
}

/* The last instance must still fit below register 65535. */
static int check_block_end(struct profile_loader *loader, const struct block *block,
                           const struct point_def *template, const struct config_node *node)
{
    uint32_t last = template->address + (block->instance_count - 1) * block->stride;
    if (last + codec_point_width(template) - 1 <= UINT16_MAX) {
        return 0;
    }
    config_yaml_error(loader->file, node,
                      "point \"%s\" of block \"%s\": instance %u at address %u runs past "
                      "register 65535",
                      template->name, block->name, block->instance_count - 1, last);
    return -1;
}

/* Instance-major, as a device lays them out: port0.*, then port1.*, ... */
static void expand_block(struct profile_loader *loader, const struct block *block)
{
    size_t length = config_yaml_list_length(block->points);
    struct point_def *templates = config_yaml_calloc(length, sizeof *templates);
    const struct config_node **nodes = config_yaml_calloc(length, sizeof *nodes);
    size_t template_count = 0; /* the valid ones */
    for (size_t i = 0; i < length; i++) {
        nodes[template_count] = config_yaml_list_item(loader->file, block->points, i);
        if (read_point(loader->file, nodes[template_count], &templates[template_count]) < 0) {
            continue;
        }
        if (check_block_end(loader, block, &templates[template_count], nodes[template_count]) < 0) {
            point_clear(&templates[template_count]);
            continue;
        }
        template_count++;
    }
    for (uint32_t instance = 0; instance < block->instance_count; instance++) {
        for (size_t i = 0; i < template_count; i++) {
            add_instance_point(loader, block, &templates[i], nodes[i], instance);
        }
    }
    for (size_t i = 0; i < template_count; i++) {
        point_clear(&templates[i]);
    }
    free(templates);
    free(nodes);
}

static int read_block_lists(struct config_yaml *file, const struct config_node *node,
                            struct block *block)
{
    block->points = config_yaml_get(file, node, "points");
    block->rules = config_yaml_get(file, node, "rules");
    int result = 0;
    if (block->points != NULL && !config_yaml_expect_list(file, block->points, "points")) {
        result = -1;
    }
    if (block->rules != NULL && !config_yaml_expect_list(file, block->rules, "rules")) {
        result = -1;
    }
    return result;
}

static int read_block(struct config_yaml *file, const struct config_node *node, struct block *block)
{
    memset(block, 0, sizeof *block);
    block->node = node;
    if (!config_yaml_expect_map(file, node, "a block")) {
        return -1;
    }
    char *name = NULL;
    int result = config_yaml_get_name(file, node, "name", "block name", CONFIG_CHARSET_WORD, &name);
    free(name);
    block->name = config_yaml_text(config_yaml_get(file, node, "name"));
    char what[160];
    snprintf(what, sizeof what, "block \"%s\"", block->name ? block->name : "?");
    result |= config_yaml_check_keys(file, node, what, block_keys, block_required);
    result |= config_yaml_get_u32(file, node, "count", 1, BLOCK_MAX_COUNT, &block->instance_count);
    result |= config_yaml_get_u32(file, node, "stride", 0, UINT16_MAX, &block->stride);
    result |= read_block_lists(file, node, block);
    return result;
}

static void read_blocks(struct profile_loader *loader, const struct config_node *list)
{
    if (list == NULL || !config_yaml_expect_list(loader->file, list, "blocks")) {
        return;
    }
    size_t length = config_yaml_list_length(list);
    struct config_index names;
    config_index_init(&names);
    loader->blocks = config_yaml_calloc(length, sizeof *loader->blocks);
    for (size_t i = 0; i < length; i++) {
        const struct config_node *node = config_yaml_list_item(loader->file, list, i);
        struct block *block = &loader->blocks[loader->block_count];
        if (read_block(loader->file, node, block) < 0) {
            continue;
        }
        if (config_index_add(&names, block->name, i) >= 0) {
            config_yaml_error(loader->file, config_yaml_get(loader->file, node, "name"),
                              "duplicate block name \"%s\"", block->name);
            continue;
        }
        loader->block_count++;
    }
    config_index_free(&names);
}

static int compare_by_register(const void *a, const void *b, void *points_arg)
{
    const struct point_def *points = points_arg;
    const struct point_def *left = &points[*(const size_t *)a];
    const struct point_def *right = &points[*(const size_t *)b];
    if (left->table != right->table) {
        return left->table < right->table ? -1 : 1;
    }
    if (left->address != right->address) {
        return left->address < right->address ? -1 : 1;
    }
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void report_overlap(struct profile_loader *loader, size_t point, size_t owner)
{
    const struct point_def *points = loader->profile->points;
    unsigned first = points[owner].address;
    unsigned last = first + codec_point_width(&points[owner]) - 1;
    char range[32];
    if (first == last) {
        snprintf(range, sizeof range, "%u", first);
    } else {
        snprintf(range, sizeof range, "%u..%u", first, last);
    }
    config_yaml_error(loader->file, loader->point_nodes[point],
                      "point \"%s\" overlaps point \"%s\" (%s %s)", points[point].name,
                      points[owner].name, table_names[points[owner].table], range);
}

/* Sorted by table and address, a point overlaps when it starts before the last one ended. */
static void check_overlaps(struct profile_loader *loader)
{
    const struct profile *profile = loader->profile;
    size_t *order = config_yaml_calloc(profile->point_count, sizeof *order);
    for (size_t i = 0; i < profile->point_count; i++) {
        order[i] = i;
    }
    qsort_r(order, profile->point_count, sizeof *order, compare_by_register, profile->points);
    for (size_t i = 1, owner = order[0]; i < profile->point_count; i++) {
        const struct point_def *point = &profile->points[order[i]];
        const struct point_def *last = &profile->points[owner];
        uint32_t last_end = (uint32_t)last->address + codec_point_width(last);
        if (point->table == last->table && point->address < last_end) {
            report_overlap(loader, order[i], owner);
        }
        uint32_t end = (uint32_t)point->address + codec_point_width(point);
        if (point->table != last->table || end > last_end) {
            owner = order[i];
        }
    }
    free(order);
}

/*
 * A 32-bit point is read whole, in one request (readplan.c): max_registers 1
 * cannot hold it. A block's point is reported once, at its first instance.
 */
static void check_points_fit_one_read(struct profile_loader *loader)
{
    const struct profile *profile = loader->profile;
    for (size_t i = 0; i < profile->point_count; i++) {
        const struct point_def *point = &profile->points[i];
        unsigned width = codec_point_width(point);
        if (width > profile->max_registers && point->block_instance <= 0) {
            config_yaml_error(loader->file, loader->point_nodes[i],
                              "point \"%s\" (%s) is read in one request of %u registers, more "
                              "than max_registers %u",
                              point->name, type_names[point->type], width, profile->max_registers);
        }
    }
}

static int read_action_param(struct config_yaml *file, const struct config_node *node,
                             struct action_def *action, const char *what)
{
    int result = config_yaml_get_name(file, node, "param", "param", CONFIG_CHARSET_WORD,
                                      &action->param_name);
    const struct config_node *count = config_yaml_get(file, node, "param_count");
    const struct config_node *stride = config_yaml_get(file, node, "param_stride");
    if (action->param_name == NULL && (count != NULL || stride != NULL)) {
        config_yaml_error(file, count ? count : stride, "%s has %s but no param", what,
                          count ? "param_count" : "param_stride");
        return -1;
    }
    if (action->param_name != NULL && count == NULL) {
        config_yaml_error(file, node, "missing required key \"param_count\" in %s (it has a param)",
                          what);
        return -1;
    }
    result |= config_yaml_get_u16(file, node, "param_count", 1, UINT16_MAX, &action->param_count);
    result |= config_yaml_get_u16(file, node, "param_stride", 1, UINT16_MAX, &action->param_stride);
    return result;
}

/* The highest parameter's last coil or register must still exist. */
static int check_action_end(struct config_yaml *file, const struct config_node *node,
                            const struct action_def *action, const char *what)
{
    uint32_t last_param = action->param_name ? action->param_count - 1u : 0;
    uint64_t end =
        (uint64_t)action->address + (uint64_t)last_param * action->param_stride + action->count - 1;
    if (end <= UINT16_MAX) {
        return 0;
    }
    config_yaml_error(file, node, "%s writes up to address %llu, past 65535", what,
                      (unsigned long long)end);
    return -1;
}

static int read_action_fields(struct config_yaml *file, const struct config_node *node,
                              struct action_def *action, const char *what)
{
    int table = 0;
    if (config_yaml_get_choice(file, node, "table", action_table_names, &table) < 0) {
        return -1;
    }
    action->table = table == 0 ? TABLE_COIL : TABLE_HOLDING;
    bool coil = action->table == TABLE_COIL;
    int result = config_yaml_get_u16(file, node, "address", 0, UINT16_MAX, &action->address);
    result |= config_yaml_get_u16(file, node, "value", 0, coil ? 1 : UINT16_MAX, &action->value);
    result |= config_yaml_get_u16(file, node, "count", 1,
                                  coil ? ACTION_MAX_COILS : ACTION_MAX_REGISTERS, &action->count);
    result |= read_action_param(file, node, action, what);
    if (result == 0) {
        result = check_action_end(file, node, action, what);
    }
    return result;
}

static int read_action(struct config_yaml *file, const struct config_node *key,
                       const struct config_node *node, struct action_def *action)
{
    memset(action, 0, sizeof *action);
    action->value = 1;
    action->count = 1;
    action->param_stride = 1;
    if (config_yaml_name(file, key, "action name", CONFIG_CHARSET_WORD, &action->name) < 0) {
        return -1;
    }
    char what[160];
    snprintf(what, sizeof what, "action \"%s\"", action->name);
    int result = -1;
    if (config_yaml_expect_map(file, node, what) &&
        config_yaml_check_keys(file, node, what, action_keys, action_required) == 0) {
        result = read_action_fields(file, node, action, what);
    }
    if (result < 0) {
        free(action->name);
        free(action->param_name);
    }
    return result;
}

static void read_actions(struct profile_loader *loader, const struct config_node *map)
{
    struct profile *profile = loader->profile;
    if (map == NULL || !config_yaml_expect_map(loader->file, map, "actions")) {
        return;
    }
    size_t length = config_yaml_map_length(map);
    profile->actions = config_yaml_calloc(length, sizeof *profile->actions);
    for (size_t i = 0; i < length; i++) {
        const struct config_node *key = config_yaml_map_key(loader->file, map, i);
        struct action_def *action = &profile->actions[profile->action_count];
        if (read_action(loader->file, key, config_yaml_map_value(loader->file, map, i), action) <
            0) {
            continue;
        }
        if (config_action_index(profile, action->name) >= 0) {
            config_yaml_error(loader->file, key, "duplicate action name \"%s\"", action->name);
            free(action->name);
            free(action->param_name);
            continue;
        }
        profile->action_count++;
    }
}

/* The most points the profile can have: those listed, and each block's once per instance. */
static size_t point_capacity(const struct profile_loader *loader, const struct config_node *points)
{
    size_t capacity = config_yaml_list_length(points);
    for (size_t i = 0; i < loader->block_count; i++) {
        const struct block *block = &loader->blocks[i];
        capacity += config_yaml_list_length(block->points) * block->instance_count;
    }
    return capacity;
}

/* The same for rules. */
static size_t rule_capacity(const struct profile_loader *loader, const struct config_node *rules)
{
    size_t capacity = config_yaml_list_length(rules);
    for (size_t i = 0; i < loader->block_count; i++) {
        const struct block *block = &loader->blocks[i];
        capacity += config_yaml_list_length(block->rules) * block->instance_count;
    }
    return capacity;
}

static void read_all_points(struct profile_loader *loader, const struct config_node *root)
{
    const struct config_node *points = config_yaml_get(loader->file, root, "points");
    if (points != NULL && !config_yaml_expect_list(loader->file, points, "points")) {
        points = NULL;
    }
    read_blocks(loader, config_yaml_get(loader->file, root, "blocks"));
    size_t capacity = point_capacity(loader, points);
    loader->profile->points = config_yaml_calloc(capacity, sizeof *loader->profile->points);
    loader->point_nodes = config_yaml_calloc(capacity, sizeof *loader->point_nodes);
    read_points(loader, points);
    for (size_t i = 0; i < loader->block_count; i++) {
        expand_block(loader, &loader->blocks[i]);
    }
    if (loader->profile->point_count > 0) {
        check_overlaps(loader);
        check_points_fit_one_read(loader);
    }
}

static void read_all_rules(struct profile_loader *loader, const struct config_node *root)
{
    const struct config_node *rules = config_yaml_get(loader->file, root, "rules");
    if (rules != NULL && !config_yaml_expect_list(loader->file, rules, "rules")) {
        rules = NULL;
    }
    size_t capacity = rule_capacity(loader, rules);
    loader->profile->rules = config_yaml_calloc(capacity, sizeof *loader->profile->rules);
    struct config_rule_scope scope = {loader->profile, &loader->point_names, &loader->rule_names,
                                      NULL, 1};
    config_rule_read_list(loader->file, rules, &scope);
    for (size_t i = 0; i < loader->block_count; i++) {
        scope.block_name = loader->blocks[i].name;
        scope.instance_count = loader->blocks[i].instance_count;
        config_rule_read_list(loader->file, loader->blocks[i].rules, &scope);
    }
}

/* Optional: telemetry: { period_ms: 0 or 1000..86400000, on_change: bool }. */
static int read_telemetry(struct config_yaml *file, const struct config_node *node,
                          struct profile *profile)
{
    if (!node)
        return 0;
    if (!config_yaml_expect_map(file, node, "telemetry"))
        return -1;
    int result =
        config_yaml_check_keys(file, node, "telemetry", telemetry_keys, telemetry_required);
    result |= config_yaml_get_u32(file, node, "period_ms", 0, TELEMETRY_PERIOD_MAX_MS,
                                  &profile->telemetry_period_ms);
    result |= config_yaml_get_bool(file, node, "on_change", &profile->telemetry_on_change);
    if (result == 0 && profile->telemetry_period_ms != 0 &&
        profile->telemetry_period_ms < TELEMETRY_PERIOD_MIN_MS) {
        config_yaml_error(file, config_yaml_get(file, node, "period_ms"),
                          "telemetry period_ms must be 0 (off) or %d..%d", TELEMETRY_PERIOD_MIN_MS,
                          TELEMETRY_PERIOD_MAX_MS);
        result = -1;
    }
    return result;
}

/* Optional: fast_poll: { poll_ms: 100..poll_ms, margin_percent: 1..99 (80) }. */
static int read_fast_poll(struct config_yaml *file, const struct config_node *node,
                          struct profile *profile)
{
    profile->fast_margin_percent = FAST_MARGIN_DEFAULT_PERCENT;
    if (node == NULL)
        return 0;
    if (!config_yaml_expect_map(file, node, "fast_poll"))
        return -1;
    int result =
        config_yaml_check_keys(file, node, "fast_poll", fast_poll_keys, fast_poll_required);
    result |= config_yaml_get_u32(file, node, "poll_ms", PROFILE_POLL_MIN_MS, profile->poll_ms,
                                  &profile->fast_poll_ms);
    result |= config_yaml_get_u32(file, node, "margin_percent", 1, 99,
                                  &profile->fast_margin_percent);
    return result;
}

static int read_header(struct config_yaml *file, const struct config_node *root,
                       struct profile *profile)
{
    int result =
        config_yaml_get_name(file, root, "name", "profile name", CONFIG_CHARSET_ID, &profile->name);
    char what[160];
    snprintf(what, sizeof what, "profile \"%s\"", profile->name ? profile->name : "?");
    result |= config_yaml_check_keys(file, root, what, profile_keys, profile_required);
    result |= config_yaml_get_name(file, root, "kind", "kind", CONFIG_CHARSET_WORD, &profile->kind);
    result |= config_yaml_get_string(file, root, "description", &profile->description);
    result |= config_yaml_get_u32(file, root, "poll_ms", PROFILE_POLL_MIN_MS, PROFILE_POLL_MAX_MS,
                                  &profile->poll_ms);
    result |= config_yaml_get_u16(file, root, "max_registers", 1, PROFILE_MAX_REGISTERS,
                                  &profile->max_registers);
    result |=
        config_yaml_get_u16(file, root, "max_gap", 0, PROFILE_MAX_REGISTERS - 1, &profile->max_gap);
    result |= read_fast_poll(file, config_yaml_get(file, root, "fast_poll"), profile);
    return result | read_telemetry(file, config_yaml_get(file, root, "telemetry"), profile);
}

/*
 * Order matters: points first (the profile's own, then each block's instances
 * "port0.state", "port1.state", ...), then actions, then rules, because rules
 * name points and actions. Every point remembers the YAML node it came from
 * while loading, so that an overlap found after sorting still has a line.
 */
static void read_profile(struct config_yaml *file, const struct config_node *root,
                         struct profile *profile)
{
    struct profile_loader loader = {.file = file, .profile = profile};
    config_index_init(&loader.point_names);
    config_index_init(&loader.rule_names);
    profile->poll_ms = PROFILE_POLL_DEFAULT_MS;
    profile->max_registers = PROFILE_MAX_REGISTERS;
    read_header(file, root, profile);
    read_all_points(&loader, root);
    read_actions(&loader, config_yaml_get(file, root, "actions"));
    read_all_rules(&loader, root);
    free(loader.point_nodes);
    free(loader.blocks);
    config_index_free(&loader.point_names);
    config_index_free(&loader.rule_names);
}

int config_profile_load(const char *path, struct config_errors *errors, struct profile *profile,
                        char *name_where, size_t name_where_size)
{
    memset(profile, 0, sizeof *profile);
    size_t errors_before = errors->count;
    struct config_yaml file;
    if (config_yaml_open(&file, path, errors) < 0) {
        config_yaml_close(&file);
        return -1;
    }
    const struct config_node *root = config_yaml_root(&file);
    if (config_yaml_expect_map(&file, root, "a profile")) {
        profile->file = config_yaml_strdup(path);
        read_profile(&file, root, profile);
        config_yaml_where(&file, config_yaml_get(&file, root, "name"), name_where, name_where_size);
    }
    config_yaml_close(&file);
    return errors->count > errors_before ? -1 : 0;
}

void config_profile_clear(struct profile *profile)
{
    free(profile->name);
    free(profile->kind);
    free(profile->description);
    free(profile->file);
    for (size_t i = 0; i < profile->point_count; i++) {
        point_clear(&profile->points[i]);
    }
    free(profile->points);
    for (size_t i = 0; i < profile->rule_count; i++) {
        free(profile->rules[i].name);
    }
    free(profile->rules);
    for (size_t i = 0; i < profile->action_count; i++) {
        free(profile->actions[i].name);
        free(profile->actions[i].param_name);
    }
    free(profile->actions);
    memset(profile, 0, sizeof *profile);
}
