/* The set of active alarms: kept across restarts, strictly loaded, never half a set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alarm_store.h"
#include "scratch.h"
#include "statefile.h"

#define FILE_NAME "active-alarms.json"
#define TWO_ALARMS                                                                                 \
    "{\"alarms\":[{\"device\":\"gas-1\",\"alarm\":\"gas_high\",\"raised_at_ms\":1700000000000,"    \
    "\"value\":27.5},{\"device\":\"lift-1\",\"alarm\":\"offline\",\"raised_at_ms\":1700000001000," \
    "\"value\":3}]}"
#define ONE_ALARM                                                                                  \
    "{\"alarms\":[{\"device\":\"pump-9\",\"alarm\":\"overheat\",\"raised_at_ms\":1690000000000,"   \
    "\"value\":91}]}"

struct fixture {
    char *state_dir;
    struct alarm_store *store;
};

static int make_store(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    fixture->state_dir = scratch_folder();
    fixture->store = alarm_store_new();
    assert_non_null(fixture->store);
    *state = fixture;
    return 0;
}

static int free_store(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_free(fixture->store);
    scratch_remove(fixture->state_dir);
    free(fixture);
    return 0;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static void assert_entry(const struct alarm_store *store, size_t index, const char *device_id,
                         const char *alarm, uint64_t raised_at_wall_ms, double value)
{
    const struct alarm_store_entry *entry = alarm_store_entry(store, index);
    assert_non_null(entry);
    assert_string_equal(entry->device_id, device_id);
    assert_string_equal(entry->alarm, alarm);
    assert_int_equal(entry->raised_at_wall_ms, raised_at_wall_ms);
    assert_true(entry->value == value);
}

/* Loads state_dir into a fresh store with the log captured; returns the log (free it). */
static char *load_capturing_log(struct fixture *fixture)
{
    log_capture_start();
    assert_int_equal(alarm_store_load(fixture->store, fixture->state_dir), 0);
    return log_capture_stop();
}

static struct alarm_store *reloaded(const char *state_dir)
{
    struct alarm_store *store = alarm_store_new();
    log_capture_start();
    assert_int_equal(alarm_store_load(store, state_dir), 0);
    free(log_capture_stop());
    return store;
}

static void test_new_store_is_empty_and_clean(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(alarm_store_count(fixture->store), 0);
    assert_false(alarm_store_dirty(fixture->store));
    assert_null(alarm_store_entry(fixture->store, 0));
}

static void test_raise_adds_an_entry_and_marks_dirty(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1700000000000, 27.5);
    assert_int_equal(alarm_store_count(fixture->store), 1);
    assert_entry(fixture->store, 0, "gas-1", "gas_high", 1700000000000, 27.5);
    assert_true(alarm_store_dirty(fixture->store));
}

static void test_entries_come_in_device_then_alarm_order(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "lift-1", "trapped", 3, 1);
    alarm_store_raise(fixture->store, "gas-1", "gas_low", 2, 12);
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1, 27);
    assert_entry(fixture->store, 0, "gas-1", "gas_high", 1, 27);
    assert_entry(fixture->store, 1, "gas-1", "gas_low", 2, 12);
    assert_entry(fixture->store, 2, "lift-1", "trapped", 3, 1);
}

static void test_raise_of_an_active_alarm_updates_it_without_a_second_entry(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1000, 27.5);
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 2000, 30);
    assert_int_equal(alarm_store_count(fixture->store), 1);
    assert_entry(fixture->store, 0, "gas-1", "gas_high", 2000, 30);
}

static void test_clear_removes_only_that_alarm(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1000, 27.5);
    alarm_store_raise(fixture->store, "gas-1", "gas_low", 1000, 27.5);
    alarm_store_clear(fixture->store, "gas-1", "gas_high");
    assert_int_equal(alarm_store_count(fixture->store), 1);
    assert_entry(fixture->store, 0, "gas-1", "gas_low", 1000, 27.5);
    assert_null(alarm_store_find(fixture->store, "gas-1", "gas_high"));
}

static void test_clear_of_an_inactive_alarm_changes_nothing(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_clear(fixture->store, "gas-1", "gas_high");
    assert_false(alarm_store_dirty(fixture->store));
}

static void test_find_returns_the_active_alarm(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1000, 27.5);
    const struct alarm_store_entry *entry = alarm_store_find(fixture->store, "gas-1", "gas_high");
    assert_non_null(entry);
    assert_int_equal(entry->raised_at_wall_ms, 1000);
    assert_null(alarm_store_find(fixture->store, "gas-2", "gas_high"));
}

static void test_a_few_thousand_alarms_are_kept_in_order(void **state)
{
    struct fixture *fixture = *state;
    char device_id[32];
    for (int i = 4999; i >= 0; i--) {
        snprintf(device_id, sizeof device_id, "dev-%05d", i);
        alarm_store_raise(fixture->store, device_id, "offline", (uint64_t)i + 1, i);
    }
    assert_int_equal(alarm_store_count(fixture->store), 5000);
    assert_entry(fixture->store, 0, "dev-00000", "offline", 1, 0);
    assert_entry(fixture->store, 4999, "dev-04999", "offline", 5000, 4999);
    assert_int_equal(alarm_store_save(fixture->store, fixture->state_dir), 0);
    struct alarm_store *loaded = reloaded(fixture->state_dir);
    assert_int_equal(alarm_store_count(loaded), 5000);
    assert_entry(loaded, 2500, "dev-02500", "offline", 2501, 2500);
    alarm_store_free(loaded);
}

static void test_save_then_load_gives_the_same_set(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1700000000000, 27.5);
    alarm_store_raise(fixture->store, "lift-1", "offline", 1700000001000, 3);
    assert_int_equal(alarm_store_save(fixture->store, fixture->state_dir), 0);
    assert_false(alarm_store_dirty(fixture->store));
    struct alarm_store *loaded = reloaded(fixture->state_dir);
    assert_int_equal(alarm_store_count(loaded), 2);
    assert_entry(loaded, 0, "gas-1", "gas_high", 1700000000000, 27.5);
    assert_entry(loaded, 1, "lift-1", "offline", 1700000001000, 3);
    assert_false(alarm_store_dirty(loaded));
    alarm_store_free(loaded);
}

static void test_save_of_a_clean_set_writes_nothing(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(alarm_store_save(fixture->store, fixture->state_dir), 0);
    assert_false(scratch_exists(fixture->state_dir, FILE_NAME));
}

static void test_save_keeps_the_previous_generation(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1000, 1);
    assert_int_equal(alarm_store_save(fixture->store, fixture->state_dir), 0);
    alarm_store_clear(fixture->store, "gas-1", "gas_high");
    assert_int_equal(alarm_store_save(fixture->store, fixture->state_dir), 0);
    char *current = scratch_read(fixture->state_dir, FILE_NAME, NULL);
    char *previous = scratch_read(fixture->state_dir, FILE_NAME ".prev", NULL);
    assert_string_equal(current, "{\"alarms\":[]}");
    assert_contains(previous, "\"gas_high\"");
    free(current);
    free(previous);
}

static void test_nan_and_infinite_values_save_valid_json_and_load_as_nan(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1000, NAN);
    alarm_store_raise(fixture->store, "gas-1", "gas_low", 1000, INFINITY);
    assert_int_equal(alarm_store_save(fixture->store, fixture->state_dir), 0);
    char *text = scratch_read(fixture->state_dir, FILE_NAME, NULL);
    assert_contains(text, "\"alarm\":\"gas_high\",\"raised_at_ms\":1000,\"value\":null");
    free(text);
    struct alarm_store *loaded = reloaded(fixture->state_dir);
    assert_int_equal(alarm_store_count(loaded), 2);
    assert_true(isnan(alarm_store_entry(loaded, 0)->value));
    assert_true(isnan(alarm_store_entry(loaded, 1)->value));
    alarm_store_free(loaded);
}

static void test_failed_save_logs_critical_sets_the_failing_flag_and_stays_dirty(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1000, 1);
    assert_int_equal(mkdir(scratch_path(fixture->state_dir, FILE_NAME ".tmp"), 0700), 0);
    log_capture_start();
    int result = alarm_store_save(fixture->store, fixture->state_dir);
    char *log = log_capture_stop();
    assert_int_equal(result, -1);
    assert_true(alarm_store_dirty(fixture->store));
    assert_true(statefile_write_failing());
    assert_contains(log, "<2>alarm store: cannot write ");
    assert_contains(log, FILE_NAME ": Is a directory");
    free(log);
}

static void test_absent_file_loads_as_an_empty_set(void **state)
{
    struct fixture *fixture = *state;
    char *log = load_capturing_log(fixture);
    free(log);
    assert_int_equal(alarm_store_count(fixture->store), 0);
    assert_false(alarm_store_dirty(fixture->store));
}

static void test_load_replaces_what_the_store_held(void **state)
{
    struct fixture *fixture = *state;
    scratch_write_text(fixture->state_dir, FILE_NAME, ONE_ALARM);
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1000, 1);
    free(load_capturing_log(fixture));
    assert_int_equal(alarm_store_count(fixture->store), 1);
    assert_entry(fixture->store, 0, "pump-9", "overheat", 1690000000000, 91);
}

static void test_corrupt_file_with_good_prev_loads_prev_and_says_so(void **state)
{
    struct fixture *fixture = *state;
    scratch_write_text(fixture->state_dir, FILE_NAME, "{\"alarms\":[{\"device\":\"gas-1\",");
    scratch_write_text(fixture->state_dir, FILE_NAME ".prev", TWO_ALARMS);
    char *log = load_capturing_log(fixture);
    assert_int_equal(alarm_store_count(fixture->store), 2);
    assert_entry(fixture->store, 1, "lift-1", "offline", 1700000001000, 3);
    assert_contains(log, "<3>");
    assert_contains(log, FILE_NAME " is corrupt (line 1: ");
    assert_contains(log, "using the previous generation ");
    assert_contains(log, FILE_NAME ".prev");
    free(log);
    assert_true(alarm_store_dirty(fixture->store)); /* the next save writes a good current file */
}

static void test_both_generations_corrupt_give_an_empty_set_and_an_error(void **state)
{
    struct fixture *fixture = *state;
    scratch_write_text(fixture->state_dir, FILE_NAME, "\x8f\x01garbage");
    scratch_write_text(fixture->state_dir, FILE_NAME ".prev", "{\"alarms\":{}}");
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 1000, 1);
    char *log = load_capturing_log(fixture);
    assert_int_equal(alarm_store_count(fixture->store), 0);
    assert_contains(log, "<3>alarm store: ");
    assert_contains(log, FILE_NAME ": line 1: ");
    assert_contains(log, FILE_NAME ".prev: no \"alarms\" array");
    assert_contains(log, "starting with no active alarms");
    free(log);
    assert_true(scratch_exists(fixture->state_dir, FILE_NAME ".corrupt"));
    assert_true(alarm_store_dirty(fixture->store));
}

static void test_an_entry_with_a_wrong_field_makes_the_file_corrupt_not_half_a_set(void **state)
{
    struct fixture *fixture = *state;
    /* The first entry is good; the second's raised_at_ms is a string. */
    scratch_write_text(fixture->state_dir, FILE_NAME,
                       "{\"alarms\":[{\"device\":\"gas-1\",\"alarm\":\"gas_high\",\"raised_at_ms\":"
                       "1000,\"value\":1},{\"device\":\"gas-2\",\"alarm\":\"gas_high\","
                       "\"raised_at_ms\":\"1000\",\"value\":1}]}");
    char *log = load_capturing_log(fixture);
    assert_int_equal(alarm_store_count(fixture->store), 0);
    assert_contains(log, FILE_NAME ": alarm 2 has no \"raised_at_ms\" integer > 0");
    free(log);
}

static void assert_entry_rejected(struct fixture *fixture, const char *entry, const char *why)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"alarms\":[%s]}", entry);
    scratch_write_text(fixture->state_dir, FILE_NAME, text);
    char *log = load_capturing_log(fixture);
    assert_int_equal(alarm_store_count(fixture->store), 0);
    assert_contains(log, why);
    free(log);
}

static void test_each_required_field_is_checked(void **state)
{
    struct fixture *fixture = *state;
    assert_entry_rejected(fixture, "[1]", "alarm 1 is not an object");
    assert_entry_rejected(fixture, "{\"alarm\":\"a\",\"raised_at_ms\":1,\"value\":1}",
                          "alarm 1 has no \"device\" string");
    assert_entry_rejected(fixture, "{\"device\":\"d\",\"alarm\":7,\"raised_at_ms\":1,\"value\":1}",
                          "alarm 1 has no \"alarm\" string");
    assert_entry_rejected(fixture,
                          "{\"device\":\"d\",\"alarm\":\"a\",\"raised_at_ms\":0,\"value\":1}",
                          "alarm 1 has no \"raised_at_ms\" integer > 0");
    assert_entry_rejected(fixture,
                          "{\"device\":\"d\",\"alarm\":\"a\",\"raised_at_ms\":1.5,\"value\":1}",
                          "alarm 1 has no \"raised_at_ms\" integer > 0");
    assert_entry_rejected(fixture,
                          "{\"device\":\"d\",\"alarm\":\"a\",\"raised_at_ms\":1,\"value\":\"1\"}",
                          "alarm 1 has no \"value\" number");
    assert_entry_rejected(fixture, "{\"device\":\"d\",\"alarm\":\"a\",\"raised_at_ms\":1}",
                          "alarm 1 has no \"value\" number");
}

static void test_the_same_alarm_twice_is_corruption(void **state)
{
    struct fixture *fixture = *state;
    const char *entry = "{\"device\":\"d\",\"alarm\":\"a\",\"raised_at_ms\":1,\"value\":1}";
    char both[512];
    snprintf(both, sizeof both, "%s,%s", entry, entry);
    assert_entry_rejected(fixture, both, "alarm 2 (a of d) appears twice");
}

static void test_raised_at_zero_is_saved_as_one_so_the_file_stays_loadable(void **state)
{
    struct fixture *fixture = *state;
    alarm_store_raise(fixture->store, "gas-1", "gas_high", 0, 1);
    assert_int_equal(alarm_store_save(fixture->store, fixture->state_dir), 0);
    struct alarm_store *loaded = reloaded(fixture->state_dir);
    assert_int_equal(alarm_store_count(loaded), 1);
    assert_entry(loaded, 0, "gas-1", "gas_high", 1, 1);
    alarm_store_free(loaded);
}

#define ALARM_STORE_TEST(name) cmocka_unit_test_setup_teardown(name, make_store, free_store)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ALARM_STORE_TEST(test_new_store_is_empty_and_clean),
        ALARM_STORE_TEST(test_raise_adds_an_entry_and_marks_dirty),
        ALARM_STORE_TEST(test_entries_come_in_device_then_alarm_order),
        ALARM_STORE_TEST(test_raise_of_an_active_alarm_updates_it_without_a_second_entry),
        ALARM_STORE_TEST(test_clear_removes_only_that_alarm),
        ALARM_STORE_TEST(test_clear_of_an_inactive_alarm_changes_nothing),
        ALARM_STORE_TEST(test_find_returns_the_active_alarm),
        ALARM_STORE_TEST(test_a_few_thousand_alarms_are_kept_in_order),
        ALARM_STORE_TEST(test_save_then_load_gives_the_same_set),
        ALARM_STORE_TEST(test_save_of_a_clean_set_writes_nothing),
        ALARM_STORE_TEST(test_save_keeps_the_previous_generation),
        ALARM_STORE_TEST(test_nan_and_infinite_values_save_valid_json_and_load_as_nan),
        ALARM_STORE_TEST(test_failed_save_logs_critical_sets_the_failing_flag_and_stays_dirty),
        ALARM_STORE_TEST(test_absent_file_loads_as_an_empty_set),
        ALARM_STORE_TEST(test_load_replaces_what_the_store_held),
        ALARM_STORE_TEST(test_corrupt_file_with_good_prev_loads_prev_and_says_so),
        ALARM_STORE_TEST(test_both_generations_corrupt_give_an_empty_set_and_an_error),
        ALARM_STORE_TEST(test_an_entry_with_a_wrong_field_makes_the_file_corrupt_not_half_a_set),
        ALARM_STORE_TEST(test_each_required_field_is_checked),
        ALARM_STORE_TEST(test_the_same_alarm_twice_is_corruption),
        ALARM_STORE_TEST(test_raised_at_zero_is_saved_as_one_so_the_file_stays_loadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
