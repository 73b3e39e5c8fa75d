/*
 * config_device.c — the `devices` list into config->devices: ids, profiles,
 * bus addresses, locations and per-device rule overrides. A device owns its id
 * and location, and a rule table only when it overrides something (otherwise
 * it shares its profile's); config_device_clear() frees what it owns. Ids are
 * checked with a hash index and bus addresses with one small table per bus, so
 * ten thousand devices load in linear time.
 */
#include "config_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_index.h"
#include "config_rule.h"

#define DEVICE_ADDRESS_MIN 1
#define DEVICE_ADDRESS_MAX 247 /* 0 is broadcast; 248..255 reserved (Modbus serial line 2.2) */
#define DEVICE_POLL_MIN_MS 10
#define DEVICE_POLL_MAX_MS 3600000

static const char *const device_keys[] = {"id",      "profile",  "bus",       "address",
                                          "poll_ms", "location", "overrides", NULL};
static const char *const device_required[] = {"id", "profile", "bus", "address", NULL};

struct device_loader {
    struct config_yaml *file;
    struct config *config;
    struct config_index ids;             /* device id -> index into config->devices */
    const struct config_node **id_nodes; /* parallel to config->devices, for "first at" */
    struct config_index bus_names;
    struct config_index profile_names;
    /* bus_count rows of DEVICE_ADDRESS_MAX + 1: device index + 1, 0 when free */
    size_t *address_owners;
};

static int read_location(struct config_yaml *file, const struct config_node *map,
                         struct device_def *device)
{
    const struct config_node *node = config_yaml_get(file, map, "location");
    if (node == NULL) {
        return 0;
    }
    if (!config_yaml_expect_map(file, node, "location")) {
        return -1;
    }
    size_t length = config_yaml_map_length(node);
    device->location = config_yaml_calloc(length, sizeof *device->location);
    if (config_yaml_check_keys(file, node, "location", NULL, NULL) < 0) {
        return -1;
    }
    for (size_t i = 0; i < length; i++) {
        struct location_field *field = &device->location[device->location_count];
        char *key = NULL;
        char *value = NULL;
        if (config_yaml_string(file, config_yaml_map_key(file, node, i), "location key", &key) <
                0 ||
            config_yaml_string(file, config_yaml_map_value(file, node, i), key, &value) < 0) {
            free(key);
            return -1;
        }
        field->key = key;
        field->value = value;
        device->location_count++;
    }
    return 0;
}

/* Applies one override key to every rule it names; 0 rules named is an error. */
static int override_rules(struct config_yaml *file, const struct config_node *key,
                          const struct config_node *fields, struct rule_def *rules,
                          const struct device_def *device)
{
    const char *name = config_yaml_text(key);
    bool instance = name != NULL && strchr(name, '.') != NULL;
    size_t matched = 0;
    char what[256];
    snprintf(what, sizeof what, "override of rule \"%s\" in device \"%s\"", name ? name : "?",
             device->id);
    for (size_t i = 0; name != NULL && i < device->rule_count; i++) {
        bool named = strcmp(rules[i].name, name) == 0 ||
                     (!instance && config_rule_is_instance_of(&rules[i], name));
        if (!named) {
            continue;
        }
        matched++;
        if (config_rule_override(file, fields, &rules[i], what) < 0) {
            return -1; /* the same fields fail the same way on every instance */
        }
    }
    if (matched == 0) {
        config_yaml_error(file, key,
                          "override of unknown rule \"%s\" in device \"%s\" (profile "
                          "\"%s\" has no such rule)",
                          name ? name : "?", device->id, device->profile->name);
        return -1;
    }
    return 0;
}

/*
 * Template keys ("over_temperature") go first and instance keys
 * ("port3.over_temperature") second, so one port's setting wins over the
 * setting of all ports whatever the order in the file.
 */
static int read_overrides(struct config_yaml *file, const struct config_node *map,
                          struct device_def *device)
{
    const struct config_node *node = config_yaml_get(file, map, "overrides");
    size_t length = config_yaml_map_length(node);
    if (node == NULL || !config_yaml_expect_map(file, node, "overrides") || length == 0) {
        return node == NULL || length == 0 ? 0 : -1;
    }
    struct rule_def *rules = config_yaml_calloc(device->rule_count, sizeof *rules);
    memcpy(rules, device->profile->rules, device->rule_count * sizeof *rules);
    device->rules = rules;
    device->rules_owned = true;
    int result = config_yaml_check_keys(file, node, "overrides", NULL, NULL);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < length; i++) {
            const struct config_node *key = config_yaml_map_key(file, node, i);
            const char *name = config_yaml_text(key);
            bool instance = name != NULL && strchr(name, '.') != NULL;
            if (instance == (pass == 1)) {
                result |=
                    override_rules(file, key, config_yaml_map_value(file, node, i), rules, device);
            }
        }
    }
    return result;
}

/* The index of what map's key (profile, bus) names, or -1, reported unless the key is absent. */
static long find_named(struct device_loader *loader, const struct config_node *map, const char *key,
                       const struct config_index *names)
{
    const struct config_node *node = config_yaml_get(loader->file, map, key);
    if (node == NULL) {
        return -1; /* a required key: config_yaml_check_keys reports it */
    }
    const char *name = config_yaml_text(node);
    long index = name ? config_index_find(names, name) : -1;
    if (index < 0) {
        config_yaml_error(loader->file, node, "unknown %s \"%s\"", key, name ? name : "?");
    }
    return index;
}

static int find_profile(struct device_loader *loader, const struct config_node *map,
                        struct device_def *device)
{
    long index = find_named(loader, map, "profile", &loader->profile_names);
    if (index < 0) {
        return -1;
    }
    device->profile = &loader->config->profiles[index];
    device->rules = device->profile->rules;
    device->rule_count = device->profile->rule_count;
    device->poll_ms = device->profile->poll_ms;
    return 0;
}

static int find_bus(struct device_loader *loader, const struct config_node *map,
                    struct device_def *device)
{
    long index = find_named(loader, map, "bus", &loader->bus_names);
    if (index < 0) {
        return -1;
    }
    device->bus_index = (size_t)index;
    return 0;
}

static int read_fields(struct device_loader *loader, const struct config_node *map,
                       struct device_def *device)
{
    struct config_yaml *file = loader->file;
    uint32_t address = 0;
    int result = find_bus(loader, map, device);
    result |=
        config_yaml_get_u32(file, map, "address", DEVICE_ADDRESS_MIN, DEVICE_ADDRESS_MAX, &address);
    device->address = (uint8_t)address;
    result |= read_location(file, map, device);
    if (find_profile(loader, map, device) < 0) {
        return -1;
    }
    result |= config_yaml_get_u32(file, map, "poll_ms", DEVICE_POLL_MIN_MS, DEVICE_POLL_MAX_MS,
                                  &device->poll_ms);
    result |= read_overrides(file, map, device);
    return result;
}

/*
 * A dead bus raises bus_down on P/alarm/<bus name>, beside the devices'
 * P/alarm/<device id>: one name must not mean both.
 */
static int check_unique_id(struct device_loader *loader, const struct config_node *map,
                           const struct device_def *device)
{
    if (config_index_find(&loader->bus_names, device->id) >= 0) {
        config_yaml_error(loader->file, config_yaml_get(loader->file, map, "id"),
                          "device id \"%s\" is also the name of a bus: alarms of both would go "
                          "to P/alarm/%s",
                          device->id, device->id);
        return -1;
    }
    long first = config_index_find(&loader->ids, device->id);
    if (first < 0) {
        return 0;
    }
    char where[4096];
    config_yaml_where(loader->file, loader->id_nodes[first], where, sizeof where);
    config_yaml_error(loader->file, config_yaml_get(loader->file, map, "id"),
                      "duplicate device id \"%s\" (first at %s)", device->id, where);
    return -1;
}

static int check_unique_address(struct device_loader *loader, const struct config_node *map,
                                const struct device_def *device)
{
    size_t *owner =
        &loader->address_owners[device->bus_index * (DEVICE_ADDRESS_MAX + 1) + device->address];
    if (*owner == 0) {
        return 0;
    }
    const struct config *config = loader->config;
    config_yaml_error(loader->file, config_yaml_get(loader->file, map, "address"),
                      "address %u on bus \"%s\" is already used by device \"%s\"", device->address,
                      config->buses[device->bus_index].name, config->devices[*owner - 1].id);
    return -1;
}

static int read_device(struct device_loader *loader, const struct config_node *map,
                       struct device_def *device)
{
    struct config_yaml *file = loader->file;
    memset(device, 0, sizeof *device);
    if (!config_yaml_expect_map(file, map, "a device")) {
        return -1;
    }
    int result = config_yaml_get_name(file, map, "id", "device id", CONFIG_CHARSET_ID, &device->id);
    char what[160];
    snprintf(what, sizeof what, "device \"%s\"", device->id ? device->id : "?");
    result |= config_yaml_check_keys(file, map, what, device_keys, device_required);
    result |= read_fields(loader, map, device);
    if (device->id != NULL) {
        result |= check_unique_id(loader, map, device);
    }
    if (result == 0) {
        result = check_unique_address(loader, map, device);
    }
    return result;
}

static void add_device(struct device_loader *loader, const struct config_node *map)
{
    struct config *config = loader->config;
    size_t index = config->device_count;
    struct device_def *device = &config->devices[index];
    if (read_device(loader, map, device) < 0) {
        config_device_clear(device);
        return;
    }
    config_index_add(&loader->ids, device->id, index);
    loader->id_nodes[index] = config_yaml_get(loader->file, map, "id");
    loader->address_owners[device->bus_index * (DEVICE_ADDRESS_MAX + 1) + device->address] =
        index + 1;
    config->device_count++;
}

static void index_names(struct device_loader *loader)
{
    const struct config *config = loader->config;
    for (size_t i = 0; i < config->bus_count; i++) {
        config_index_add(&loader->bus_names, config->buses[i].name, i);
    }
    for (size_t i = 0; i < config->profile_count; i++) {
        config_index_add(&loader->profile_names, config->profiles[i].name, i);
    }
}

void config_device_read_list(struct config_yaml *file, const struct config_node *list,
                             struct config *config)
{
    if (list == NULL || !config_yaml_expect_list(file, list, "devices")) {
        return;
    }
    size_t length = config_yaml_list_length(list);
    struct device_loader loader = {.file = file, .config = config};
    config_index_init(&loader.ids);
    config_index_init(&loader.bus_names);
    config_index_init(&loader.profile_names);
    index_names(&loader);
    loader.id_nodes = config_yaml_calloc(length, sizeof *loader.id_nodes);
    loader.address_owners = config_yaml_calloc(config->bus_count * (DEVICE_ADDRESS_MAX + 1),
                                               sizeof *loader.address_owners);
    config->devices = config_yaml_calloc(length, sizeof *config->devices);
    for (size_t i = 0; i < length; i++) {
        add_device(&loader, config_yaml_list_item(file, list, i));
    }
    free(loader.id_nodes);
    free(loader.address_owners);
    config_index_free(&loader.ids);
    config_index_free(&loader.bus_names);
    config_index_free(&loader.profile_names);
}

void config_device_clear(struct device_def *device)
{
    free(device->id);
    for (size_t i = 0; i < device->location_count; i++) {
        free(device->location[i].key);
        free(device->location[i].value);
    }
    free(device->location);
    if (device->rules_owned) {
        /* Rule names stay the profile's: the copy shares them. */
        free((struct rule_def *)device->rules);
    }
    memset(device, 0, sizeof *device);
}
