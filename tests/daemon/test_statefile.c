/* State files keep their previous generation and fall back to it when the current one is bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "statefile.h"

static int make_folder(void **state)
{
    *state = scratch_folder();
    return 0;
}

static int remove_folder(void **state)
{
    scratch_remove(*state);
    return 0;
}

static void write_state(const char *folder, const char *text)
{
    assert_int_equal(statefile_write(scratch_path(folder, "state"), text, strlen(text)), 0);
}

static void assert_file(const char *folder, const char *name, const char *expected)
{
    char *content = scratch_read(folder, name, NULL);
    assert_non_null(content);
    assert_string_equal(content, expected);
    free(content);
}

/* The tests' strict format: "ok:" and then anything, which lands in context. */
static int parse_ok(const char *data, size_t length, void *context, char *why, size_t why_size)
{
    if (length < 3 || memcmp(data, "ok:", 3) != 0) {
        snprintf(why, why_size, "does not start with ok:");
        return -1;
    }
    snprintf(context, 64, "%.*s", (int)(length - 3), data + 3);
    return 0;
}

static void test_first_write_has_no_previous_generation(void **state)
{
    write_state(*state, "one");
    assert_file(*state, "state", "one");
    assert_false(scratch_exists(*state, "state.prev"));
}

static void test_replace_keeps_the_former_content_as_prev(void **state)
{
    write_state(*state, "one");
    write_state(*state, "two");
    assert_file(*state, "state", "two");
    assert_file(*state, "state.prev", "one");
}

static void test_third_write_keeps_only_the_one_before(void **state)
{
    write_state(*state, "one");
    write_state(*state, "two");
    write_state(*state, "three");
    assert_file(*state, "state", "three");
    assert_file(*state, "state.prev", "two");
}

static void test_write_leaves_no_temporary_files(void **state)
{
    write_state(*state, "one");
    write_state(*state, "two");
    assert_false(scratch_exists(*state, "state.tmp"));
    assert_false(scratch_exists(*state, "state.prev.tmp"));
}

static void test_staging_file_left_by_a_crash_does_not_block_a_write(void **state)
{
    write_state(*state, "one");
    scratch_write_text(*state, "state.prev.tmp", "half");
    write_state(*state, "two");
    assert_file(*state, "state.prev", "one");
    assert_false(scratch_exists(*state, "state.prev.tmp"));
}

static void test_prev_that_already_is_the_current_file_leaves_no_staging_file(void **state)
{
    /* What a write that failed after keeping the previous generation leaves. */
    write_state(*state, "one");
    char current[4096];
    snprintf(current, sizeof current, "%s", scratch_path(*state, "state"));
    assert_int_equal(link(current, scratch_path(*state, "state.prev")), 0);
    write_state(*state, "two");
    assert_file(*state, "state.prev", "one");
    assert_false(scratch_exists(*state, "state.prev.tmp"));
}

static void test_failed_write_changes_neither_generation_and_sets_the_failing_flag(void **state)
{
    write_state(*state, "one");
    write_state(*state, "two");
    /* A folder where the temporary file goes: the write fails even for root. */
    assert_int_equal(mkdir(scratch_path(*state, "state.tmp"), 0700), 0);
    const char *path = scratch_path(*state, "state");
    assert_int_equal(statefile_write(path, "three", 5), -1);
    assert_int_equal(errno, EISDIR);
    assert_true(statefile_write_failing());
    assert_file(*state, "state", "two");
    assert_file(*state, "state.prev", "one");
}

static void test_successful_write_clears_the_failing_flag(void **state)
{
    assert_int_equal(mkdir(scratch_path(*state, "state.tmp"), 0700), 0);
    assert_int_equal(statefile_write(scratch_path(*state, "state"), "one", 3), -1);
    assert_true(statefile_write_failing());
    rmdir(scratch_path(*state, "state.tmp"));
    write_state(*state, "one");
    assert_false(statefile_write_failing());
}

static void test_read_returns_the_whole_file_nul_terminated(void **state)
{
    scratch_write(*state, "state", "a\0b\n", 4);
    size_t length = 0;
    char *data = statefile_read(scratch_path(*state, "state"), 100, &length);
    assert_non_null(data);
    assert_int_equal(length, 4);
    assert_memory_equal(data, "a\0b\n", 4);
    assert_int_equal(data[4], '\0');
    free(data);
}

static void test_read_of_an_absent_file_fails_with_enoent(void **state)
{
    size_t length;
    assert_null(statefile_read(scratch_path(*state, "state"), 100, &length));
    assert_int_equal(errno, ENOENT);
}

static void test_read_of_a_file_over_the_limit_fails_with_efbig(void **state)
{
    scratch_write_text(*state, "state", "12345");
    size_t length;
    assert_null(statefile_read(scratch_path(*state, "state"), 4, &length));
    assert_int_equal(errno, EFBIG);
    char *data = statefile_read(scratch_path(*state, "state"), 5, &length);
    assert_non_null(data);
    assert_int_equal(length, 5);
    free(data);
}

static void test_read_of_a_folder_fails_with_eisdir(void **state)
{
    assert_int_equal(mkdir(scratch_path(*state, "state"), 0700), 0);
    size_t length;
    assert_null(statefile_read(scratch_path(*state, "state"), 100, &length));
    assert_int_equal(errno, EISDIR);
}

static void test_load_uses_the_current_generation_when_it_parses(void **state)
{
    scratch_write_text(*state, "state", "ok:current");
    scratch_write_text(*state, "state.prev", "ok:previous");
    char value[64] = "", error[512] = "";
    assert_int_equal(
        statefile_load(scratch_path(*state, "state"), 100, parse_ok, value, error, sizeof error),
        STATEFILE_CURRENT);
    assert_string_equal(value, "current");
}

static void test_load_of_no_file_at_all_is_a_fresh_start(void **state)
{
    char value[64] = "", error[512] = "";
    assert_int_equal(
        statefile_load(scratch_path(*state, "state"), 100, parse_ok, value, error, sizeof error),
        STATEFILE_ABSENT);
}

static void test_load_falls_back_to_prev_when_current_is_corrupt_and_logs_which(void **state)
{
    scratch_write_text(*state, "state", "garbage");
    scratch_write_text(*state, "state.prev", "ok:previous");
    char value[64] = "", error[512] = "";
    log_capture_start();
    int source =
        statefile_load(scratch_path(*state, "state"), 100, parse_ok, value, error, sizeof error);
    char *log = log_capture_stop();
    assert_int_equal(source, STATEFILE_PREVIOUS);
    assert_string_equal(value, "previous");
    assert_non_null(strstr(log, "<3>"));
    assert_non_null(strstr(log, "state is corrupt (does not start with ok:); using the previous "
                                "generation "));
    assert_non_null(strstr(log, "state.prev"));
    free(log);
}

static void test_corrupt_current_is_set_aside_so_the_next_write_keeps_the_good_one(void **state)
{
    scratch_write_text(*state, "state", "garbage");
    scratch_write_text(*state, "state.prev", "ok:previous");
    char value[64] = "", error[512] = "";
    statefile_load(scratch_path(*state, "state"), 100, parse_ok, value, error, sizeof error);
    assert_file(*state, "state.corrupt", "garbage");
    write_state(*state, "ok:new");
    assert_file(*state, "state", "ok:new");
    assert_file(*state, "state.prev", "ok:previous");
}

static void test_load_falls_back_to_prev_when_current_is_missing(void **state)
{
    /* What a crash leaves between the two renames where hard links are not available. */
    scratch_write_text(*state, "state.prev", "ok:previous");
    char value[64] = "", error[512] = "";
    assert_int_equal(
        statefile_load(scratch_path(*state, "state"), 100, parse_ok, value, error, sizeof error),
        STATEFILE_PREVIOUS);
    assert_string_equal(value, "previous");
}

static void test_load_with_both_generations_bad_names_each_file_and_what_is_wrong(void **state)
{
    scratch_write_text(*state, "state", "garbage");
    scratch_write(*state, "state.prev", "", 0);
    char value[64] = "", error[512] = "";
    assert_int_equal(
        statefile_load(scratch_path(*state, "state"), 100, parse_ok, value, error, sizeof error),
        -1);
    assert_string_equal(value, "");
    char expected[1024];
    snprintf(expected, sizeof expected,
             "%s/state: does not start with ok:; %s/state.prev: does "
             "not start with ok:",
             (char *)*state, (char *)*state);
    assert_string_equal(error, expected);
    assert_true(scratch_exists(*state, "state")); /* left for the operator */
}

static void test_load_with_a_corrupt_current_and_no_prev_is_an_error_not_a_fresh_start(void **state)
{
    scratch_write_text(*state, "state", "garbage");
    char value[64] = "", error[512] = "";
    assert_int_equal(
        statefile_load(scratch_path(*state, "state"), 100, parse_ok, value, error, sizeof error),
        -1);
    assert_non_null(strstr(error, "state.prev: absent"));
}

static void test_load_treats_an_oversized_file_as_bad(void **state)
{
    scratch_write_text(*state, "state", "ok:this is far too long for the limit");
    scratch_write_text(*state, "state.prev", "ok:short");
    char value[64] = "", error[512] = "";
    assert_int_equal(
        statefile_load(scratch_path(*state, "state"), 10, parse_ok, value, error, sizeof error),
        STATEFILE_PREVIOUS);
    assert_string_equal(value, "short");
}

#define STATEFILE_TEST(name) cmocka_unit_test_setup_teardown(name, make_folder, remove_folder)

int main(void)
{
    const struct CMUnitTest tests[] = {
        STATEFILE_TEST(test_first_write_has_no_previous_generation),
        STATEFILE_TEST(test_replace_keeps_the_former_content_as_prev),
        STATEFILE_TEST(test_third_write_keeps_only_the_one_before),
        STATEFILE_TEST(test_write_leaves_no_temporary_files),
        STATEFILE_TEST(test_staging_file_left_by_a_crash_does_not_block_a_write),
        STATEFILE_TEST(test_prev_that_already_is_the_current_file_leaves_no_staging_file),
        STATEFILE_TEST(test_failed_write_changes_neither_generation_and_sets_the_failing_flag),
        STATEFILE_TEST(test_successful_write_clears_the_failing_flag),
        STATEFILE_TEST(test_read_returns_the_whole_file_nul_terminated),
        STATEFILE_TEST(test_read_of_an_absent_file_fails_with_enoent),
        STATEFILE_TEST(test_read_of_a_file_over_the_limit_fails_with_efbig),
        STATEFILE_TEST(test_read_of_a_folder_fails_with_eisdir),
        STATEFILE_TEST(test_load_uses_the_current_generation_when_it_parses),
        STATEFILE_TEST(test_load_of_no_file_at_all_is_a_fresh_start),
        STATEFILE_TEST(test_load_falls_back_to_prev_when_current_is_corrupt_and_logs_which),
        STATEFILE_TEST(test_corrupt_current_is_set_aside_so_the_next_write_keeps_the_good_one),
        STATEFILE_TEST(test_load_falls_back_to_prev_when_current_is_missing),
        STATEFILE_TEST(test_load_with_both_generations_bad_names_each_file_and_what_is_wrong),
        STATEFILE_TEST(test_load_with_a_corrupt_current_and_no_prev_is_an_error_not_a_fresh_start),
        STATEFILE_TEST(test_load_treats_an_oversized_file_as_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
