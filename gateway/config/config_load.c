/*
 * config_load.c — the loader's entry points: config_load() reads gateway.yaml (its
 * `gateway` section here, the other sections through config_mqtt.c,
 * config_bus.c, config_device.c, and the profile files it names through
 * config_profile.c), config_load_profile_file() reads one profile alone, and
 * config_free() / config_free_profile() are the one free of everything a load
 * allocated. Calls go one way: from here to the section readers, and from
 * them to config_yaml.c, config_index.c and config_lookup.c, never back.
 */
#include "config_load.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_bus.h"
#include "config_device.h"
#include "config_index.h"
#include "config_mqtt.h"
#include "config_profile.h"
#include "config_yaml.h"
#include "log.h"

#define GATEWAY_HEALTH_DEFAULT_MS 60000
#define GATEWAY_HEALTH_MIN_MS 1000
#define GATEWAY_HEALTH_MAX_MS 3600000

static const char *const top_keys[] = {"gateway", "mqtt", "profiles", "buses", "devices", NULL};
static const char *const top_required[] = {"gateway", "mqtt", NULL};
static const char *const gateway_keys[] = {
    "id", "site", "state_dir", "control_socket", "health_interval_ms", NULL};
static const char *const gateway_required[] = {"id", NULL};

/* Profiles as they load, before they settle into config->profiles. */
struct profile_list {
    struct profile *profiles;
    char **name_wheres; /* "file:line:column" of each name, for duplicates */
    size_t count;
    struct config_index names;
};

/* The site is one MQTT topic level of the default prefix. */
static void check_site(struct config_yaml *file, const struct config_node *map, const char *site)
{
    if (strpbrk(site, "+#/") != NULL) {
        config_yaml_error(file, config_yaml_get(file, map, "site"),
                          "site \"%s\" must not contain '+', '#' or '/' (it is a topic level)",
                          site);
    }
}

static void read_gateway(struct config_yaml *file, const struct config_node *map,
                         struct gateway_section *out)
{
    out->health_interval_ms = GATEWAY_HEALTH_DEFAULT_MS;
    if (map != NULL && config_yaml_expect_map(file, map, "gateway")) {
        config_yaml_check_keys(file, map, "gateway", gateway_keys, gateway_required);
        config_yaml_get_name(file, map, "id", "gateway id", CONFIG_CHARSET_ID, &out->id);
        if (config_yaml_get_string(file, map, "site", &out->site) == 0 && out->site != NULL) {
            check_site(file, map, out->site);
        }
        config_yaml_get_string(file, map, "state_dir", &out->state_dir);
        config_yaml_get_string(file, map, "control_socket", &out->control_socket);
        config_yaml_get_u32(file, map, "health_interval_ms", GATEWAY_HEALTH_MIN_MS,
                            GATEWAY_HEALTH_MAX_MS, &out->health_interval_ms);
    }
    out->site = out->site ? out->site : config_yaml_strdup("default");
    out->state_dir = out->state_dir ? out->state_dir : config_yaml_strdup("/var/lib/safetygw");
    out->control_socket = out->control_socket ? out->control_socket
                                              : config_yaml_strdup("/run/safetygw/control.sock");
}

static void add_profile(struct profile_list *list, const char *path, struct config_errors *errors)
{
    struct profile profile;
    char name_where[4096];
    /* A profile with errors is kept if it has a name, so that its devices do
     * not add "unknown profile" to the real error; the load fails anyway. */
    name_where[0] = '\0';
    config_profile_load(path, errors, &profile, name_where, sizeof name_where);
    if (profile.name == NULL) {
        config_profile_clear(&profile);
        return;
    }
    long first = config_index_find(&list->names, profile.name);
    if (first >= 0) {
        config_yaml_add_error(errors, "%s: duplicate profile name \"%s\" (first at %s)", name_where,
                              profile.name, list->name_wheres[first]);
        config_profile_clear(&profile);
        return;
    }
    size_t count = list->count + 1;
    list->profiles = realloc(list->profiles, count * sizeof *list->profiles);
    list->name_wheres = realloc(list->name_wheres, count * sizeof *list->name_wheres);
    if (list->profiles == NULL || list->name_wheres == NULL) {
        abort(); /* as config_yaml_calloc: no configuration without memory */
    }
    list->profiles[list->count] = profile;
    list->name_wheres[list->count] = config_yaml_strdup(name_where);
    config_index_add(&list->names, list->profiles[list->count].name, list->count);
    list->count = count;
}

static int is_profile_file(const struct dirent *entry)
{
    size_t length = strlen(entry->d_name);
    bool yaml = length > 5 && strcmp(entry->d_name + length - 5, ".yaml") == 0;
    bool yml = length > 4 && strcmp(entry->d_name + length - 4, ".yml") == 0;
    return entry->d_name[0] != '.' && (yaml || yml);
}

/* Every *.yaml / *.yml of folder, in name order so errors come out the same each run. */
static void add_profile_folder(struct config_yaml *file, const struct config_node *node,
                               struct profile_list *list, const char *folder)
{
    struct dirent **entries = NULL;
    int count = scandir(folder, &entries, is_profile_file, alphasort);
    if (count < 0) {
        config_yaml_error(file, node, "cannot read profile folder \"%s\": %s", folder,
                          strerror(errno));
        return;
    }
    if (count == 0) {
        config_yaml_error(file, node, "profile folder \"%s\" holds no *.yaml or *.yml file",
                          folder);
    }
    for (int i = 0; i < count; i++) {
        char *path = config_yaml_printf("%s/%s", folder, entries[i]->d_name);
        add_profile(list, path, file->errors);
        free(path);
        free(entries[i]);
    }
    free(entries);
}

static void add_profile_path(struct config_yaml *file, const struct config_node *node,
                             struct profile_list *list)
{
    char *written = NULL;
    if (config_yaml_string(file, node, "profile path", &written) < 0) {
        return;
    }
    char *path = config_yaml_resolve_path(file, written);
    struct stat info;
    if (stat(path, &info) < 0) {
        config_yaml_error(file, node, "cannot read profile path \"%s\": %s", path, strerror(errno));
    } else if (S_ISDIR(info.st_mode)) {
        add_profile_folder(file, node, list, path);
    } else {
        add_profile(list, path, file->errors);
    }
    free(path);
    free(written);
}

static void read_profiles(struct config_yaml *file, const struct config_node *node,
                          struct config *config)
{
    struct profile_list list = {0};
    config_index_init(&list.names);
    if (node != NULL && config_yaml_expect_list(file, node, "profiles")) {
        size_t length = config_yaml_list_length(node);
        for (size_t i = 0; i < length; i++) {
            add_profile_path(file, config_yaml_list_item(file, node, i), &list);
        }
    }
    for (size_t i = 0; i < list.count; i++) {
        free(list.name_wheres[i]);
    }
    free(list.name_wheres);
    config_index_free(&list.names);
    config->profiles = list.profiles;
    config->profile_count = list.count;
}

static void read_root(struct config_yaml *file, const struct config_node *root,
                      struct config *config)
{
    config_yaml_check_keys(file, root, "the configuration", top_keys, top_required);
    read_gateway(file, config_yaml_get(file, root, "gateway"), &config->gateway);
    config_mqtt_read(file, config_yaml_get(file, root, "mqtt"), config);
    read_profiles(file, config_yaml_get(file, root, "profiles"), config);
    config_bus_read_list(file, config_yaml_get(file, root, "buses"), config);
    config_device_read_list(file, config_yaml_get(file, root, "devices"), config);
}

struct config *config_load_logged(const char *path, const char *prefix, const char *outcome)
{
    struct config_errors errors = {NULL, 0};
    struct config *config = config_load(path, &errors);
    for (size_t i = 0; i < errors.count; i++)
        log_error("%s%s", prefix, errors.messages[i]);
    if (!config)
        log_error("%s%s: %zu error%s; %s", prefix, path, errors.count, errors.count == 1 ? "" : "s",
                  outcome);
    config_errors_free(&errors);
    return config;
}

/* A load's errors go to the caller's list, emptied first, or to discarded when it passes none. */
static struct config_errors *start_collecting(struct config_errors *errors,
                                              struct config_errors *discarded)
{
    *discarded = (struct config_errors){NULL, 0};
    struct config_errors *collected = errors ? errors : discarded;
    *collected = (struct config_errors){NULL, 0};
    return collected;
}

/*
 * Errors are collected, never fatal on their own: each reader reports what is
 * wrong at its line and column, skips the bad item and goes on, and the load
 * returns NULL at the end if anything was reported.
 */
struct config *config_load(const char *path, struct config_errors *errors)
{
    struct config_errors discarded;
    struct config_errors *collected = start_collecting(errors, &discarded);
    struct config *config = config_yaml_calloc(1, sizeof *config);
    config->path = config_yaml_strdup(path);
    struct config_yaml file;
    if (config_yaml_open(&file, path, collected) == 0) {
        const struct config_node *root = config_yaml_root(&file);
        if (config_yaml_expect_map(&file, root, "the configuration")) {
            read_root(&file, root, config);
        }
    }
    config_yaml_close(&file);
    if (collected->count > 0) {
        config_free(config);
        config = NULL;
    }
    config_errors_free(&discarded);
    return config;
}

struct profile *config_load_profile_file(const char *path, struct config_errors *errors)
{
    struct config_errors discarded;
    struct config_errors *collected = start_collecting(errors, &discarded);
    struct profile *profile = config_yaml_calloc(1, sizeof *profile);
    char name_where[16];
    if (config_profile_load(path, collected, profile, name_where, sizeof name_where) < 0) {
        config_free_profile(profile);
        profile = NULL;
    }
    config_errors_free(&discarded);
    return profile;
}

void config_free_profile(struct profile *profile)
{
    if (profile != NULL) {
        config_profile_clear(profile);
        free(profile);
    }
}

void config_free(struct config *config)
{
    if (config == NULL) {
        return;
    }
    free(config->path);
    free(config->gateway.id);
    free(config->gateway.site);
    free(config->gateway.state_dir);
    free(config->gateway.control_socket);
    config_mqtt_clear(&config->mqtt);
    for (size_t i = 0; i < config->device_count; i++) {
        config_device_clear(&config->devices[i]);
    }
    free(config->devices);
    for (size_t i = 0; i < config->bus_count; i++) {
        config_bus_clear(&config->buses[i]);
    }
    free(config->buses);
    for (size_t i = 0; i < config->profile_count; i++) {
        config_profile_clear(&config->profiles[i]);
    }
    free(config->profiles);
    free(config);
}

void config_errors_free(struct config_errors *errors)
{
    if (errors == NULL) {
        return;
    }
    for (size_t i = 0; i < errors->count; i++) {
        free(errors->messages[i]);
    }
    free(errors->messages);
    errors->messages = NULL;
    errors->count = 0;
}
