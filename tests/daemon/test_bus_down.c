/* One root-cause alarm for a silent bus: when it is raised, cleared, and whom it stands for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus_down.h"

static struct location_field flat_a[] = {{.key = "compound", .value = "长寿新村"},
                                         {.key = "building", .value = "12"},
                                         {.key = "room", .value = "301"}};
static struct location_field flat_b[] = {{.key = "compound", .value = "长寿新村"},
                                         {.key = "building", .value = "12"},
                                         {.key = "room", .value = "302"}};
static struct location_field flat_c[] = {{.key = "compound", .value = "长寿新村"},
                                         {.key = "building", .value = "14"}};
static struct device_def defs[] = {
    {.id = "gas-a", .location = flat_a, .location_count = 3},
    {.id = "gas-b", .location = flat_b, .location_count = 3},
    {.id = "gas-c", .location = flat_c, .location_count = 2},
};

struct fixture {
    struct device devices[3];
    struct device *list[3];
    struct bus_down state;
};

static int setup(void **state)
{
    static struct fixture fixture;
    memset(&fixture, 0, sizeof fixture);
    for (size_t i = 0; i < 3; i++) {
        fixture.devices[i] =
            (struct device){.def = &defs[i], .link = DEVICE_ONLINE, .offline_after_polls = 3};
        fixture.list[i] = &fixture.devices[i];
    }
    *state = &fixture;
    return 0;
}

/* The device missed its last polls polls without a reply of its own. */
static void silence(struct device *device, uint32_t polls)
{
    device->last_poll_silent = true;
    device->failed_in_row = polls;
}

static enum bus_down_change judge(struct fixture *fixture, bool answered)
{
    return bus_down_judge(&fixture->state, fixture->list, 3, answered, false, 5000);
}

static void test_raised_only_when_every_online_device_is_silent(void **state)
{
    struct fixture *fixture = *state;
    silence(&fixture->devices[0], 2);
    silence(&fixture->devices[1], 2);
    assert_int_equal(judge(fixture, false), BUS_DOWN_NO_CHANGE);
    silence(&fixture->devices[2], 2);
    assert_int_equal(judge(fixture, false), BUS_DOWN_RAISED);
    assert_true(fixture->state.active);
    assert_int_equal(fixture->state.devices_affected, 3);
    assert_int_equal(fixture->state.raised_wall_ms, 5000);
}

static void test_one_missed_poll_each_is_not_yet_a_dead_bus(void **state)
{
    struct fixture *fixture = *state;
    for (size_t i = 0; i < 3; i++)
        silence(&fixture->devices[i], 1); /* a burst of noise, a stalled converter */
    assert_int_equal(judge(fixture, false), BUS_DOWN_NO_CHANGE);
}

static void test_a_device_already_offline_on_its_own_does_not_count(void **state)
{
    struct fixture *fixture = *state;
    fixture->devices[2].link = DEVICE_OFFLINE; /* its own offline was sent before */
    silence(&fixture->devices[0], 2);
    silence(&fixture->devices[1], 2);
    assert_int_equal(judge(fixture, false), BUS_DOWN_RAISED);
    assert_int_equal(fixture->state.devices_affected, 2);
}

static void test_one_silent_device_is_not_a_dead_bus(void **state)
{
    struct fixture *fixture = *state;
    fixture->devices[1].link = DEVICE_OFFLINE;
    fixture->devices[2].link = DEVICE_UNKNOWN; /* never answered */
    silence(&fixture->devices[0], 2);
    assert_int_equal(judge(fixture, false), BUS_DOWN_NO_CHANGE);
}

static void test_a_link_that_cannot_open_is_a_dead_bus(void **state)
{
    struct fixture *fixture = *state;
    for (size_t i = 0; i < 3; i++)
        fixture->devices[i].link = DEVICE_UNKNOWN;
    assert_int_equal(bus_down_judge(&fixture->state, fixture->list, 3, false, true, 1),
                     BUS_DOWN_RAISED);
}

static void test_the_first_answer_clears_it(void **state)
{
    struct fixture *fixture = *state;
    for (size_t i = 0; i < 3; i++)
        silence(&fixture->devices[i], 2);
    judge(fixture, false);
    assert_int_equal(judge(fixture, false), BUS_DOWN_NO_CHANGE);
    assert_int_equal(judge(fixture, true), BUS_DOWN_CLEARED);
    assert_false(fixture->state.active);
}

static void test_offline_raise_held_back_while_down_and_its_clear_too(void **state)
{
    struct fixture *fixture = *state;
    struct device *device = &fixture->devices[0];
    assert_false(bus_down_holds_back(&fixture->state, device, true)); /* bus up: sent */
    fixture->state.active = true;
    assert_true(bus_down_holds_back(&fixture->state, device, true));
    assert_true(device->offline_suppressed);
    fixture->state.active = false;
    assert_true(bus_down_holds_back(&fixture->state, device, false)); /* its clear: not sent */
    assert_false(device->offline_suppressed);
    assert_false(bus_down_holds_back(&fixture->state, device, false));
}

static void test_locations_list_each_compound_and_building_once(void **state)
{
    struct fixture *fixture = *state;
    char *text = bus_down_locations(fixture->list, 3);
    assert_string_equal(text, "[{\"compound\":\"长寿新村\",\"building\":\"12\"},"
                              "{\"compound\":\"长寿新村\",\"building\":\"14\"}]");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_raised_only_when_every_online_device_is_silent, setup),
        cmocka_unit_test_setup(test_one_missed_poll_each_is_not_yet_a_dead_bus, setup),
        cmocka_unit_test_setup(test_a_device_already_offline_on_its_own_does_not_count, setup),
        cmocka_unit_test_setup(test_one_silent_device_is_not_a_dead_bus, setup),
        cmocka_unit_test_setup(test_a_link_that_cannot_open_is_a_dead_bus, setup),
        cmocka_unit_test_setup(test_the_first_answer_clears_it, setup),
        cmocka_unit_test_setup(test_offline_raise_held_back_while_down_and_its_clear_too, setup),
        cmocka_unit_test_setup(test_locations_list_each_compound_and_building_once, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
