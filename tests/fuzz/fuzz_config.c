/*
 * fuzz_config.c — the YAML configuration loader (gateway/config/config*.c) on
 * arbitrary files.
 *
 * The loader reads paths, so the input is written to files in the harness's
 * temporary folder. It is split at lines "# fuzz: next file":
 *   - one part: a profile file alone (config_load_profile_file, as `safetygw
 *     probe --profile` loads it);
 *   - several: gateway.yaml, then profiles/p1.yaml, profiles/p2.yaml, ...
 *     (config_load, as the daemon and `safetygw check` load it). The gateway
 *     file names them as `profiles: [profiles]` or `[profiles/p1.yaml]`.
 *
 * A gateway file whose profile paths leave the folder (absolute, or with
 * "..") is skipped: the loader would read whatever the machine holds there.
 *
 * Whatever loads must keep the promises the daemon relies on (checked below):
 * every index in range, every rule on a point, every bit 0..15, every action
 * writable in one request, and every profile plannable into reads.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "config.h"
#include "config_load.h"
#include "config_yaml.h"
#include "fuzz_support.h"
#include "readplan.h"

#define SEPARATOR "\n# fuzz: next file\n"
#define MAX_PROFILE_FILES 8

static size_t files_written; /* profiles/p<n>.yaml of the last input, removed before the next */

static void check_point(const struct point_def *point)
{
    bool bit_table = point->table == TABLE_COIL || point->table == TABLE_DISCRETE;
    FUZZ_CHECK(point->name != NULL);
    FUZZ_CHECK(bit_table == (point->type == TYPE_BOOL));
    FUZZ_CHECK(point->type == TYPE_BITS || point->bit_count == 0);
    for (size_t b = 0; b < point->bit_count; b++)
        FUZZ_CHECK(point->bits[b].name != NULL && point->bits[b].bit <= 15);
    FUZZ_CHECK((unsigned)point->address + codec_point_width(point) - 1 <= UINT16_MAX);
}

static void check_action(const struct action_def *action)
{
    FUZZ_CHECK(action->name != NULL);
    FUZZ_CHECK(action->table == TABLE_COIL || action->table == TABLE_HOLDING);
    unsigned most = action->table == TABLE_COIL ? ACTION_MAX_COILS : ACTION_MAX_REGISTERS;
    FUZZ_CHECK(action->count >= 1 && action->count <= most);
    FUZZ_CHECK((action->param_name != NULL) == (action->param_count > 0));
    unsigned long long last = (unsigned long long)action->address + action->count - 1;
    if (action->param_name != NULL)
        last += (unsigned long long)(action->param_count - 1) * action->param_stride;
    FUZZ_CHECK(last <= UINT16_MAX);
}

static void check_rule(const struct profile *profile, const struct rule_def *rule)
{
    FUZZ_CHECK(rule->name != NULL);
    if (rule->kind == RULE_OFFLINE) {
        FUZZ_CHECK(rule->offline_after_polls >= 1);
    } else {
        FUZZ_CHECK(rule->point_index >= 0 && (size_t)rule->point_index < profile->point_count);
        const struct point_def *point = &profile->points[rule->point_index];
        FUZZ_CHECK(rule->bit >= -1 && rule->bit <= 15);
        FUZZ_CHECK(rule->bit < 0 || point->type == TYPE_BITS);
    }
    FUZZ_CHECK(rule->action_index >= -1 && rule->action_index < (int)profile->action_count);
    if (rule->action_index >= 0) {
        const struct action_def *action = &profile->actions[rule->action_index];
        if (action->param_name != NULL)
            FUZZ_CHECK(rule->action_param >= 0 && rule->action_param < action->param_count);
        else
            FUZZ_CHECK(rule->action_param == -1);
    }
}

/* What the daemon does next with a profile: look its names up and plan its reads. */
static void check_profile(const struct profile *profile)
{
    FUZZ_CHECK(profile->name != NULL && profile->kind != NULL);
    FUZZ_CHECK(profile->max_registers >= 1);
    for (size_t p = 0; p < profile->point_count; p++) {
        check_point(&profile->points[p]);
        FUZZ_CHECK(config_point_index(profile, profile->points[p].name) == (int)p);
    }
    for (size_t a = 0; a < profile->action_count; a++) {
        check_action(&profile->actions[a]);
        FUZZ_CHECK(config_action_index(profile, profile->actions[a].name) == (int)a);
    }
    for (size_t r = 0; r < profile->rule_count; r++)
        check_rule(profile, &profile->rules[r]);
    struct read_plan plan;
    char error[256];
    if (readplan_build(profile, &plan, error, sizeof error) != 0) {
        fprintf(stderr, "loaded, yet no read plan: %s\n", error);
        FUZZ_CHECK(!"a profile that loads can be planned");
    }
    readplan_free(&plan);
}

static void check_config(const struct config *config)
{
    FUZZ_CHECK(config->gateway.id != NULL && config->mqtt.uri != NULL);
    for (size_t p = 0; p < config->profile_count; p++) {
        check_profile(&config->profiles[p]);
        FUZZ_CHECK(config_find_profile(config, config->profiles[p].name) == &config->profiles[p]);
    }
    for (size_t d = 0; d < config->device_count; d++) {
        const struct device_def *device = &config->devices[d];
        FUZZ_CHECK(config_find_device(config, device->id) == device);
        FUZZ_CHECK(device->bus_index < config->bus_count);
        FUZZ_CHECK(device->address >= 1 && device->address <= 247);
        FUZZ_CHECK(device->profile >= config->profiles &&
                   device->profile < config->profiles + config->profile_count);
        for (size_t r = 0; r < device->rule_count; r++) {
            check_rule(device->profile, &device->rules[r]);
            FUZZ_CHECK(config_rule_index(device, device->rules[r].name) == (int)r);
        }
    }
    (void)config_total_points(config);
    (void)config_total_rules(config);
}

/* Profile paths stay inside the folder: relative, without "..". */
static bool profile_paths_are_local(const char *gateway_path)
{
    struct config_errors errors = {NULL, 0};
    struct config_yaml file;
    bool local = true;
    if (config_yaml_open(&file, gateway_path, &errors) == 0) {
        const struct config_node *profiles =
            config_yaml_get(&file, config_yaml_root(&file), "profiles");
        size_t length = config_yaml_list_length(profiles);
        for (size_t i = 0; i < length && local; i++) {
            const char *path = config_yaml_text(config_yaml_list_item(&file, profiles, i));
            local = path == NULL || (path[0] != '/' && strstr(path, "..") == NULL);
        }
    }
    config_yaml_close(&file);
    config_errors_free(&errors);
    return local;
}

static void load_profile_alone(const uint8_t *data, size_t size)
{
    fuzz_write("profile.yaml", data, size);
    struct config_errors errors = {NULL, 0};
    struct profile *profile = config_load_profile_file(fuzz_path("profile.yaml"), &errors);
    FUZZ_CHECK((profile == NULL) == (errors.count > 0));
    if (profile != NULL)
        check_profile(profile);
    config_free_profile(profile);
    config_errors_free(&errors);
}

/* Next part of data from *offset: up to the separator or the end. */
static size_t next_part(const uint8_t *data, size_t size, size_t *offset, size_t *length)
{
    const uint8_t *start = data + *offset;
    const uint8_t *end = memmem(start, size - *offset, SEPARATOR, strlen(SEPARATOR));
    *length = end ? (size_t)(end - start) : size - *offset;
    *offset += *length + (end ? strlen(SEPARATOR) : 0);
    return (size_t)(start - data);
}

static int load_gateway(const uint8_t *data, size_t size)
{
    for (size_t n = 1; n <= files_written; n++) {
        char name[64];
        snprintf(name, sizeof name, "profiles/p%zu.yaml", n);
        fuzz_remove(name);
    }
    files_written = 0;
    size_t offset = 0, length;
    size_t start = next_part(data, size, &offset, &length);
    fuzz_write("gateway.yaml", data + start, length);
    while (offset < size && files_written < MAX_PROFILE_FILES) {
        start = next_part(data, size, &offset, &length);
        char name[64];
        snprintf(name, sizeof name, "profiles/p%zu.yaml", ++files_written);
        fuzz_write(name, data + start, length);
    }
    if (!profile_paths_are_local(fuzz_path("gateway.yaml")))
        return -1; /* not worth keeping in the corpus */
    struct config_errors errors = {NULL, 0};
    struct config *config = config_load(fuzz_path("gateway.yaml"), &errors);
    FUZZ_CHECK((config == NULL) == (errors.count > 0));
    for (size_t i = 0; i < errors.count; i++)
        FUZZ_CHECK(errors.messages[i] != NULL && errors.messages[i][0] != '\0');
    if (config != NULL)
        check_config(config);
    config_free(config);
    config_errors_free(&errors);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memmem(data, size, SEPARATOR, strlen(SEPARATOR)) == NULL) {
        load_profile_alone(data, size);
        return 0;
    }
    return load_gateway(data, size);
}
