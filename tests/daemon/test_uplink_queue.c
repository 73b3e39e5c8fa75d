/*
 * The uplink's queue in an alarm storm: while the uplink thread does not
 * drain it (here: not yet started; in the field a slow disk's fsync), alarm
 * events and command results past its capacity are taken at once, never
 * waited for (on the reactor a wait would hold up every bus), and every one
 * is numbered once the uplink runs. Buses are told to start no poll while
 * too many of them wait, but not when telemetry fills the queue (it is turned
 * away instead). The broker is a closed port on loopback: Paho keeps what it
 * is handed for later. When the uplink thread never runs (it could not
 * start), what was queued is freed at the stop: the sanitizer run's leak
 * check is that test's assertion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_fixture.h"
#include "timeutil.h"
#include "uplink.h"

#define STORM_PAST_CAPACITY 600 /* events more than the queue holds */
#define POSTS_MAX 100000        /* a queue that never fills is a failure, not a hang */
#define READINGS 1500           /* telemetry, more than the queue's 1024 items */

static char *no_command(void *context, const char *device_id, const char *payload, size_t length)
{
    (void)context;
    (void)device_id;
    (void)payload;
    (void)length;
    return NULL;
}

static const struct config *open_uplink(struct config_fixture *fixture)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "gateway: { id: gw-1, state_dir: %s/state }\n"
             "mqtt: { uri: tcp://127.0.0.1:1 }\n"
             "profiles: [ profiles ]\n"
             "buses: [ { name: b1, type: rtu, port: /dev/null } ]\n"
             "devices:\n"
             "  - { id: gas-1, profile: sensor, bus: b1, address: 1 }\n",
             fixture->dir);
    const struct config *config = config_fixture_load(fixture, yaml);
    assert_non_null(config);
    assert_int_equal(uplink_open(config, time_wall_ms(), no_command, NULL), 0);
    return config;
}

static void post_raise(const struct device_def *device, uint64_t value)
{
    struct alarm_event event = {.raised = true,
                                .device = device,
                                .rule = &device->rules[0],
                                .value = (double)value,
                                .raised_at_wall_ms = time_wall_ms(),
                                .ts_wall_ms = time_wall_ms()};
    uplink_post_event(&event);
}

/* Posts telemetry readings until one is turned away: how many were taken. */
static int fill_with_telemetry(void)
{
    char reading[] = "{\"gas\":3}";
    for (int taken = 0; taken < READINGS; taken++)
        if (uplink_post_text("telemetry/gas-1", reading, sizeof reading - 1, 0, false,
                             PUBLISH_LATEST) != 0)
            return taken;
    return READINGS;
}

static void test_a_storm_past_the_queue_is_taken_at_once_and_every_event_numbered(void **state)
{
    const struct config *config = open_uplink(*state);
    const struct device_def *device = &config->devices[0];
    uint64_t first_seq = uplink_next_seq();

    assert_in_range(fill_with_telemetry(), 1, READINGS - 1); /* the queue is full ... */
    assert_true(uplink_has_room());                          /* ... and the buses poll on */
    uint64_t posted = 0;
    while (uplink_has_room() && posted < POSTS_MAX)
        post_raise(device, posted++);
    assert_false(uplink_has_room()); /* full: a bus would start no poll now */
    for (int i = 0; i < STORM_PAST_CAPACITY; i++)
        post_raise(device, posted++);
    char result[] = "{\"id\":\"c-1\",\"ok\":true}";
    assert_int_equal(
        uplink_post_text("cmd-result/gas-1", result, sizeof result - 1, 1, false, PUBLISH_KEPT), 0);

    assert_int_equal(uplink_run(), 0);
    uplink_sync();
    assert_int_equal(uplink_next_seq() - first_seq, posted);
    assert_true(uplink_has_room());
    uplink_stop(0);
}

/* Posts one item of each kind that owns memory of its own. */
static void post_owning_items(const struct device_def *device)
{
    struct shelving shelving = {.rule_index = -1, .until_wall_ms = time_wall_ms() + 60000u};
    struct alarm_event event = {.raised = true,
                                .device = device,
                                .rule = &device->rules[0],
                                .action_error = "valve did not answer",
                                .locations_json = "[{\"compound\":\"cx\",\"building\":\"1\"}]",
                                .shelved_as = &shelving,
                                .raised_at_wall_ms = time_wall_ms(),
                                .ts_wall_ms = time_wall_ms()};
    uplink_post_event(&event);
    uplink_post_shelving("gas-1", NULL, &shelving);
    size_t length = 20 * 1024; /* past the texts kept in the queue's ring */
    char *payload = malloc(length + 1);
    assert_non_null(payload);
    memset(payload, 'x', length);
    payload[length] = '\0';
    assert_int_equal(uplink_post_text("cmd-result/gas-1", payload, length, 1, false, PUBLISH_KEPT),
                     0);
    free(payload);
}

static void test_what_a_thread_that_never_ran_left_is_freed_at_the_stop(void **state)
{
    const struct config *config = open_uplink(*state);
    post_owning_items(&config->devices[0]);
    uplink_stop(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_storm_past_the_queue_is_taken_at_once_and_every_event_numbered,
            config_fixture_setup, config_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_what_a_thread_that_never_ran_left_is_freed_at_the_stop,
                                        config_fixture_setup, config_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
