/*
 * The control answerer across reloads: a reload swaps the runtime in place
 * (as reload_apply does) between two answers, and the next answer describes
 * the new configuration, keeps a kept device's fault window, and never reads
 * past what it sized for the old one. Buses are bare (lock and definition, no
 * thread): the devices' state is set by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "config_fixture.h"
#include "control_answer.h"
#include "runtime.h"
#include "timeutil.h"
#include "config_load.h"

#define HEADER                                                                                     \
    "gateway: { id: gw-1 }\n"                                                                      \
    "mqtt: { uri: tcp://127.0.0.1:1883 }\n"                                                        \
    "profiles: [ profiles ]\n"                                                                     \
    "buses: [ { name: b1, type: rtu, port: /dev/null } ]\n"                                        \
    "devices:\n"

/* Two sensors. */
static const char *const two_sensors =
    HEADER "  - { id: gas-1, profile: sensor, bus: b1, address: 1 }\n"
           "  - { id: gas-2, profile: sensor, bus: b1, address: 2 }\n";

/* A new sensor first, the two kept ones, and a meter of 12 points (the sensor has 2). */
static const char *const grown_site =
    HEADER "  - { id: gas-0, profile: sensor, bus: b1, address: 9 }\n"
           "  - { id: gas-1, profile: sensor, bus: b1, address: 1 }\n"
           "  - { id: gas-2, profile: sensor, bus: b1, address: 2 }\n"
           "  - { id: meter-1, profile: meter, bus: b1, address: 3 }\n";

/* As many devices as two_sensors, other ones: a new sensor where gas-1 was, and a meter. */
static const char *const swapped_site =
    HEADER "  - { id: gas-0, profile: sensor, bus: b1, address: 9 }\n"
           "  - { id: meter-1, profile: meter, bus: b1, address: 3 }\n";

static const char *const meter_profile = "name: meter\n"
                                         "kind: meter\n"
                                         "points:\n"
                                         "  - { name: p0, table: holding, address: 0 }\n"
                                         "  - { name: p1, table: holding, address: 1 }\n"
                                         "  - { name: p2, table: holding, address: 2 }\n"
                                         "  - { name: p3, table: holding, address: 3 }\n"
                                         "  - { name: p4, table: holding, address: 4 }\n"
                                         "  - { name: p5, table: holding, address: 5 }\n"
                                         "  - { name: p6, table: holding, address: 6 }\n"
                                         "  - { name: p7, table: holding, address: 7 }\n"
                                         "  - { name: p8, table: holding, address: 8 }\n"
                                         "  - { name: p9, table: holding, address: 9 }\n"
                                         "  - { name: p10, table: holding, address: 10 }\n"
                                         "  - { name: p11, table: holding, address: 11 }\n";

static struct config *load(struct config_fixture *fixture, const char *name, const char *yaml)
{
    char path[512];
    config_fixture_write(fixture, name, yaml);
    snprintf(path, sizeof path, "%s/%s", fixture->dir, name);
    struct config_errors errors = {0};
    struct config *config = config_load(path, &errors);
    for (size_t i = 0; i < errors.count; i++)
        print_error("%s\n", errors.messages[i]);
    config_errors_free(&errors);
    assert_non_null(config);
    return config;
}

/* Plans, devices and buses for config, as the daemon has them before its threads start. */
static void build(struct runtime *runtime, const struct config *config)
{
    assert_int_equal(runtime_prepare(runtime, config), 0);
}

static void unbuild(struct runtime *runtime)
{
    runtime_free(runtime);
}

/* What reload_apply does to the struct the control thread holds, minus the bus threads. */
static void reload_in_place(struct runtime *runtime, const struct config *next)
{
    struct runtime fresh;
    build(&fresh, next);
    for (size_t d = 0; d < next->device_count; d++) {
        struct device *before = runtime_find_device(runtime, next->devices[d].id);
        if (before) {
            fresh.devices[d].stats = before->stats;
            fresh.devices[d].link = before->link;
        }
    }
    unbuild(runtime);
    *runtime = fresh;
}

static struct device *device_named(struct runtime *runtime, const char *id)
{
    struct device *device = runtime_find_device(runtime, id);
    assert_non_null(device);
    return device;
}

static json_t *ask(struct control_answer *answer, const char *request)
{
    char *text = control_answer(answer, request, strlen(request));
    assert_non_null(text);
    json_t *response = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(response);
    assert_true(json_is_true(json_object_get(response, "ok")));
    return response;
}

/* The ids `devices` lists, space-separated, into ids. */
static void listed_ids(struct control_answer *answer, char *ids, size_t size)
{
    json_t *response = ask(answer, "{\"cmd\":\"devices\"}");
    size_t i;
    json_t *device;
    ids[0] = '\0';
    json_array_foreach(json_object_get(response, "devices"), i, device)
    {
        size_t used = strlen(ids);
        snprintf(ids + used, size - used, "%s%s", i ? " " : "",
                 json_string_value(json_object_get(device, "id")));
    }
    json_decref(response);
}

static void assert_state(struct control_answer *answer, const char *id, const char *state)
{
    char request[128];
    snprintf(request, sizeof request, "{\"cmd\":\"device\",\"id\":\"%s\"}", id);
    json_t *response = ask(answer, request);
    const char *got =
        json_string_value(json_object_get(json_object_get(response, "device"), "state"));
    if (strcmp(got, state) != 0)
        print_error("%s is %s, expected %s\n", id, got, state);
    assert_string_equal(got, state);
    json_decref(response);
}

/* The window's marks are due 30 s after the answerer is made; these are well after. */
static uint64_t mark_ms(int mark)
{
    return time_monotonic_ms() + (uint64_t)(2 + mark) * CONTROL_FAULT_WINDOW_MS;
}

static int setup(void **state)
{
    config_fixture_setup(state);
    config_fixture_write(*state, "profiles/meter.yaml", meter_profile);
    return 0;
}

static void test_answers_follow_a_reload_to_more_devices_and_a_bigger_profile(void **state)
{
    struct config_fixture *fixture = *state;
    struct config *before = load(fixture, "before.yaml", two_sensors);
    struct config *after = load(fixture, "after.yaml", grown_site);
    struct runtime runtime;
    build(&runtime, before);
    struct control_answer *answer = control_answer_new(&runtime, 1);
    char ids[256];
    listed_ids(answer, ids, sizeof ids);
    assert_string_equal(ids, "gas-1 gas-2");

    reload_in_place(&runtime, after);
    struct device *meter = device_named(&runtime, "meter-1");
    for (size_t p = 0; p < 12; p++)
        meter->values[p] = (double)p;
    meter->values_valid = true;

    listed_ids(answer, ids, sizeof ids);
    assert_string_equal(ids, "gas-0 gas-1 gas-2 meter-1");
    json_t *response = ask(answer, "{\"cmd\":\"device\",\"id\":\"meter-1\"}");
    json_t *values = json_object_get(json_object_get(response, "device"), "values");
    assert_int_equal(json_array_size(values), 12);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(values, 11), "value")), 11);
    json_decref(response);

    control_answer_free(answer);
    unbuild(&runtime);
    config_free(before);
    config_free(after);
}

static void test_a_device_kept_by_a_reload_keeps_its_fault_window(void **state)
{
    struct config_fixture *fixture = *state;
    struct config *before = load(fixture, "before.yaml", two_sensors);
    struct config *after = load(fixture, "after.yaml", grown_site);
    struct runtime runtime;
    build(&runtime, before);
    struct control_answer *answer = control_answer_new(&runtime, 1);
    struct device *gas_2 = device_named(&runtime, "gas-2");
    gas_2->link = DEVICE_ONLINE;
    gas_2->stats.polls_failed = 4;
    control_answer_tick(answer, mark_ms(0));
    assert_state(answer, "gas-2", "fault"); /* failed since the mark before: none */
    control_answer_tick(answer, mark_ms(1));
    assert_state(answer, "gas-2", "ok"); /* nothing failed since the last mark */

    reload_in_place(&runtime, after); /* gas-2 moves from index 1 to 2 */
    device_named(&runtime, "gas-0")->link = DEVICE_ONLINE;
    assert_state(answer, "gas-2", "ok");
    assert_state(answer, "gas-0", "ok");
    device_named(&runtime, "gas-0")->stats.polls_failed = 1;
    assert_state(answer, "gas-0", "fault"); /* a new device's window starts at 0 */

    control_answer_free(answer);
    unbuild(&runtime);
    config_free(before);
    config_free(after);
}

/*
 * A reload loads the new configuration before it frees the old one, so a
 * later one can land at an address the answerer has seen: it must still be
 * taken for what it is. Here the new configuration sits in the very struct of
 * the old.
 */
static void test_a_new_configuration_at_the_old_ones_address_is_noticed(void **state)
{
    struct config_fixture *fixture = *state;
    struct config *before = load(fixture, "before.yaml", two_sensors);
    struct config *after = load(fixture, "after.yaml", swapped_site);
    struct config same_address = *before;
    struct runtime runtime;
    build(&runtime, &same_address);
    struct control_answer *answer = control_answer_new(&runtime, 1);
    struct device *gas_1 = device_named(&runtime, "gas-1");
    gas_1->link = DEVICE_ONLINE;
    gas_1->stats.polls_failed = 7;
    control_answer_tick(answer, mark_ms(0));
    control_answer_tick(answer, mark_ms(1));
    assert_state(answer, "gas-1", "ok");

    unbuild(&runtime);
    same_address = *after; /* same address, same device count, other devices */
    build(&runtime, &same_address);
    struct device *gas_0 = device_named(&runtime, "gas-0"); /* where gas-1 was: index 0 */
    gas_0->link = DEVICE_ONLINE;
    gas_0->stats.polls_failed = 3;
    assert_state(answer, "gas-0", "fault"); /* not gas-1's window, where 3 < 7 would be "ok" */
    struct device *meter = device_named(&runtime, "meter-1");
    meter->values[11] = 11;
    meter->values_valid = true;
    json_t *response = ask(answer, "{\"cmd\":\"device\",\"id\":\"meter-1\"}");
    json_t *values = json_object_get(json_object_get(response, "device"), "values");
    assert_int_equal(json_array_size(values), 12);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(values, 11), "value")), 11);
    json_decref(response);

    control_answer_free(answer);
    unbuild(&runtime);
    config_free(before);
    config_free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_answers_follow_a_reload_to_more_devices_and_a_bigger_profile, setup,
            config_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_device_kept_by_a_reload_keeps_its_fault_window,
                                        setup, config_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_new_configuration_at_the_old_ones_address_is_noticed,
                                        setup, config_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
