/*
 * A device across a reload (reload_carry.c): kept with the same profile it
 * keeps its values and alarms; with a profile that reads other registers its
 * values are reset while its alarms follow their rules by name; an alarm
 * whose rule is gone or disabled, or whose device is gone, is retired.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "reload_carry.h"
#include "shelving.h"

static struct point_def gas_points[] = {
    {.name = "gas_lel", .table = TABLE_HOLDING, .address = 0, .type = TYPE_UINT16, .scale = 0.1},
};
/* The same point read at another register: last values mean nothing any more. */
static struct point_def moved_points[] = {
    {.name = "gas_lel", .table = TABLE_HOLDING, .address = 8, .type = TYPE_UINT16, .scale = 0.1},
};
static struct rule_def rules[] = {
    {.name = "gas_high",
     .kind = RULE_ABOVE,
     .threshold = 25,
     .clear_threshold = 20,
     .bit = -1,
     .action_index = -1,
     .action_param = -1,
     .enabled = true},
    {.name = "offline",
     .kind = RULE_OFFLINE,
     .point_index = -1,
     .bit = -1,
     .offline_after_polls = 3,
     .action_index = -1,
     .action_param = -1,
     .enabled = true},
};
/* The new configuration keeps "offline" (now first) and drops "gas_high". */
static struct rule_def offline_only[] = {
    {.name = "offline",
     .kind = RULE_OFFLINE,
     .point_index = -1,
     .bit = -1,
     .offline_after_polls = 3,
     .action_index = -1,
     .action_param = -1,
     .enabled = true},
};
static struct rule_def gas_high_disabled[] = {
    {.name = "gas_high",
     .kind = RULE_ABOVE,
     .threshold = 25,
     .clear_threshold = 20,
     .bit = -1,
     .action_index = -1,
     .action_param = -1,
     .enabled = false},
    {.name = "offline",
     .kind = RULE_OFFLINE,
     .point_index = -1,
     .bit = -1,
     .offline_after_polls = 3,
     .action_index = -1,
     .action_param = -1,
     .enabled = true},
};

static struct profile gas = {
    .name = "gas", .points = gas_points, .point_count = 1, .rules = rules, .rule_count = 2};
static struct profile gas_moved = {
    .name = "gas", .points = moved_points, .point_count = 1, .rules = rules, .rule_count = 2};

static struct bus_def buses[] = {{.name = "line-1"}};
static const struct config before = {.buses = buses, .bus_count = 1};
static const struct config after = {.buses = buses, .bus_count = 1};

static const struct device_def old_def = {
    .id = "gas-1", .profile = &gas, .address = 1, .poll_ms = 1000, .rules = rules, .rule_count = 2};

struct pair {
    struct device old, fresh;
};

/* gas-1 as it ran: 42.5 %LEL read, gas_high raised at wall 1000, 7 good polls. */
static void start_old(struct device *old)
{
    assert_int_equal(device_init(old, &old_def, NULL), 0);
    old->values[0] = 42.5;
    old->values_valid = true;
    old->link = DEVICE_ONLINE;
    old->stats.polls_ok = 7;
    old->rule_states[0].active = true;
    old->raised_wall_ms[0] = 1000;
    old->active_alarm_count = 1;
}

static void start_fresh(struct pair *pair, const struct device_def *def)
{
    assert_int_equal(device_init(&pair->fresh, def, NULL), 0);
}

static void free_pair(struct pair *pair)
{
    device_free(&pair->old);
    device_free(&pair->fresh);
}

static void test_device_kept_with_same_profile_keeps_values_and_alarms(void **state)
{
    (void)state;
    struct pair pair;
    start_old(&pair.old);
    start_fresh(&pair, &old_def);

    bool edited = reload_carry_device(&pair.old, &pair.fresh, &before, &after);

    assert_false(edited);
    assert_true(pair.fresh.values_valid);
    assert_true(pair.fresh.values[0] == 42.5);
    assert_int_equal(pair.fresh.link, DEVICE_ONLINE);
    assert_int_equal(pair.fresh.stats.polls_ok, 7);
    assert_true(pair.fresh.rule_states[0].active);
    assert_int_equal(pair.fresh.raised_wall_ms[0], 1000);
    assert_int_equal(pair.fresh.active_alarm_count, 1);
    assert_null(reload_retire_reason(&pair.old, 0, &pair.fresh));
    free_pair(&pair);
}

static void test_device_whose_profile_reads_other_registers_forgets_its_values(void **state)
{
    (void)state;
    const struct device_def moved = {.id = "gas-1",
                                     .profile = &gas_moved,
                                     .address = 1,
                                     .poll_ms = 1000,
                                     .rules = rules,
                                     .rule_count = 2};
    struct pair pair;
    start_old(&pair.old);
    start_fresh(&pair, &moved);

    bool edited = reload_carry_device(&pair.old, &pair.fresh, &before, &after);

    assert_true(edited);
    assert_false(pair.fresh.values_valid); /* waits for its first poll */
    assert_true(pair.fresh.values[0] == 0);
    /* the alarm still stands for the same rule name: no retirement, no new raise */
    assert_true(pair.fresh.rule_states[0].active);
    assert_int_equal(pair.fresh.active_alarm_count, 1);
    assert_null(reload_retire_reason(&pair.old, 0, &pair.fresh));
    free_pair(&pair);
}

static void test_alarms_follow_their_rule_by_name(void **state)
{
    (void)state;
    const struct device_def reordered = {.id = "gas-1",
                                         .profile = &gas,
                                         .address = 1,
                                         .poll_ms = 1000,
                                         .rules = offline_only,
                                         .rule_count = 1};
    struct pair pair;
    start_old(&pair.old);
    pair.old.rule_states[1].active = true; /* offline too */
    pair.old.raised_wall_ms[1] = 2000;
    start_fresh(&pair, &reordered);

    assert_true(reload_carry_device(&pair.old, &pair.fresh, &before, &after));

    assert_true(pair.fresh.rule_states[0].active); /* offline, now the first rule */
    assert_int_equal(pair.fresh.raised_wall_ms[0], 2000);
    assert_int_equal(pair.fresh.active_alarm_count, 1);
    assert_string_equal(reload_retire_reason(&pair.old, 0, &pair.fresh),
                        "rule removed or disabled by a configuration reload");
    assert_null(reload_retire_reason(&pair.old, 1, &pair.fresh));
    free_pair(&pair);
}

static void test_alarm_of_a_disabled_rule_is_retired_not_carried(void **state)
{
    (void)state;
    const struct device_def disabled = {.id = "gas-1",
                                        .profile = &gas,
                                        .address = 1,
                                        .poll_ms = 1000,
                                        .rules = gas_high_disabled,
                                        .rule_count = 2};
    struct pair pair;
    start_old(&pair.old);
    start_fresh(&pair, &disabled);

    assert_true(reload_carry_device(&pair.old, &pair.fresh, &before, &after));

    assert_false(pair.fresh.rule_states[0].active);
    assert_int_equal(pair.fresh.active_alarm_count, 0);
    assert_string_equal(reload_retire_reason(&pair.old, 0, &pair.fresh),
                        "rule removed or disabled by a configuration reload");
    free_pair(&pair);
}

static void test_removed_device_retires_its_active_alarms_only(void **state)
{
    (void)state;
    struct device old;
    start_old(&old);

    assert_string_equal(reload_retire_reason(&old, 0, NULL),
                        "device removed by a configuration reload");
    assert_null(reload_retire_reason(&old, 1, NULL)); /* offline was not active */
    device_free(&old);
}

static void test_shelving_follows_its_alarm_by_name(void **state)
{
    (void)state;
    const struct device_def reordered = {.id = "gas-1",
                                         .profile = &gas,
                                         .address = 1,
                                         .poll_ms = 1000,
                                         .rules = offline_only,
                                         .rule_count = 1};
    struct pair pair;
    start_old(&pair.old);
    char error[160];
    const struct shelving offline_shelved = {
        .rule_index = 1, .until_wall_ms = 9000, .reason = "converter swap", .by = "cli"};
    const struct shelving gas_shelved = {
        .rule_index = 0, .until_wall_ms = 9000, .reason = "calibration", .by = "cli"};
    assert_int_equal(shelving_add(&pair.old, &offline_shelved, error, sizeof error), 0);
    assert_int_equal(shelving_add(&pair.old, &gas_shelved, error, sizeof error), 0);
    start_fresh(&pair, &reordered);

    reload_carry_device(&pair.old, &pair.fresh, &before, &after);

    const struct shelving *carried = shelving_find(pair.fresh.shelvings, 0, 5000);
    assert_non_null(carried);
    assert_string_equal(carried->reason, "converter swap");
    /* gas_high is gone, and its shelving with it: only one slot in use */
    size_t in_use = 0;
    for (size_t i = 0; i < SHELVINGS_MAX; i++)
        in_use += pair.fresh.shelvings[i].until_wall_ms != 0;
    assert_int_equal(in_use, 1);
    free_pair(&pair);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_kept_with_same_profile_keeps_values_and_alarms),
        cmocka_unit_test(test_device_whose_profile_reads_other_registers_forgets_its_values),
        cmocka_unit_test(test_alarms_follow_their_rule_by_name),
        cmocka_unit_test(test_alarm_of_a_disabled_rule_is_retired_not_carried),
        cmocka_unit_test(test_removed_device_retires_its_active_alarms_only),
        cmocka_unit_test(test_shelving_follows_its_alarm_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
