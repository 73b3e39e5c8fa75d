/*
 * test_config_examples.c — every configuration the project ships loads
 * without an error: the example gateway.yaml, the Changshou site and each
 * profile in config/profiles. Files come from SAFETYGW_SOURCE_DIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_load.h"

static const char *source_dir(void)
{
    const char *dir = getenv("SAFETYGW_SOURCE_DIR");
    if (dir == NULL) {
        fail_msg("SAFETYGW_SOURCE_DIR is not set (ctest sets it)");
    }
    return dir;
}

/* Loads a shipped file and fails with every error it reports. */
static struct config *load_shipped(const char *relative_path)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", source_dir(), relative_path);
    struct config_errors errors;
    struct config *config = config_load(path, &errors);
    for (size_t i = 0; i < errors.count; i++) {
        print_error("%s\n", errors.messages[i]);
    }
    config_errors_free(&errors);
    if (config == NULL) {
        fail_msg("%s does not load", path);
    }
    return config;
}

static void test_example_gateway_yaml_loads(void **state)
{
    (void)state;
    struct config *config = load_shipped("config/gateway.example.yaml");
    assert_true(config->device_count > 0);
    assert_true(config->bus_count > 0);
    config_free(config);
}

static void test_changshou_site_loads_with_its_798_devices(void **state)
{
    (void)state;
    struct config *config = load_shipped("config/sites/changshou/gateway.yaml");
    assert_int_equal(config->device_count, 798);
    config_free(config);
}

static int is_yaml(const struct dirent *entry)
{
    size_t length = strlen(entry->d_name);
    return (length > 5 && strcmp(entry->d_name + length - 5, ".yaml") == 0) ||
           (length > 4 && strcmp(entry->d_name + length - 4, ".yml") == 0);
}

static void test_every_shipped_profile_loads(void **state)
{
    (void)state;
    char folder[1024];
    snprintf(folder, sizeof folder, "%s/config/profiles", source_dir());
    struct dirent **entries = NULL;
    int count = scandir(folder, &entries, is_yaml, alphasort);
    assert_true(count > 0);
    int failed = 0;
    for (int i = 0; i < count; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", folder, entries[i]->d_name);
        struct config_errors errors;
        struct profile *profile = config_load_profile_file(path, &errors);
        for (size_t j = 0; j < errors.count; j++) {
            print_error("%s\n", errors.messages[j]);
        }
        failed += profile == NULL;
        config_free_profile(profile);
        config_errors_free(&errors);
        free(entries[i]);
    }
    free(entries);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_gateway_yaml_loads),
        cmocka_unit_test(test_changshou_site_loads_with_its_798_devices),
        cmocka_unit_test(test_every_shipped_profile_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
