/* The seq number on disk: strict, with a fallback that never reuses a number, and refused loudly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"
#include "seqfile.h"
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

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static void assert_seq_file(const char *folder, const char *name, const char *expected)
{
    char *content = scratch_read(folder, name, NULL);
    assert_non_null(content);
    assert_string_equal(content, expected);
    free(content);
}

/* Opens folder with no queue floor; returns the last used seq, failing the test on refusal. */
static uint64_t open_seq(const char *folder)
{
    uint64_t last_used = UINT64_MAX;
    char error[8192] = "";
    if (seqfile_open(folder, 0, &last_used, error, sizeof error) != 0)
        fail_msg("refused: %s", error);
    return last_used;
}

/* Opens a folder whose seq holds content (no seq.prev) and expects a refusal; returns the error. */
static char *refusal_of(const char *folder, const char *content, size_t length)
{
    scratch_write(folder, "seq", content, length);
    static char error[8192];
    uint64_t last_used = 77;
    assert_int_equal(seqfile_open(folder, 0, &last_used, error, sizeof error), -1);
    assert_int_equal(last_used, 77);
    assert_contains(error, scratch_path(folder, "seq"));
    assert_contains(error, "refusing to start");
    return error;
}

static void test_absent_seq_file_is_a_fresh_start_at_zero(void **state)
{
    assert_int_equal(open_seq(*state), 0);
    assert_seq_file(*state, "seq", "0\n");
}

static void test_valid_seq_file_resumes_after_its_number(void **state)
{
    scratch_write_text(*state, "seq", "138\n");
    assert_int_equal(open_seq(*state), 138);
}

static void test_seq_without_trailing_newline_is_valid(void **state)
{
    scratch_write_text(*state, "seq", "138");
    assert_int_equal(open_seq(*state), 138);
}

static void test_random_bytes_in_seq_are_refused(void **state)
{
    static const char random_bytes[] = {(char)0x8f, 0x00, (char)0xff, 0x13, 0x37, (char)0xa5};
    char *error = refusal_of(*state, random_bytes, sizeof random_bytes);
    assert_contains(error, "byte 0x8f at offset 0 is not a decimal digit");
}

static void test_empty_seq_file_is_refused(void **state)
{
    assert_contains(refusal_of(*state, "", 0), "/seq: empty");
}

static void test_newline_alone_is_refused_as_empty(void **state)
{
    assert_contains(refusal_of(*state, "\n", 1), "/seq: empty");
}

static void test_letters_in_seq_are_refused(void **state)
{
    assert_contains(refusal_of(*state, "abc", 3), "'a' at byte 0 is not a decimal digit");
}

static void test_negative_seq_is_refused(void **state)
{
    assert_contains(refusal_of(*state, "-5\n", 3), "'-' at byte 0 is not a decimal digit");
}

static void test_seq_too_large_for_uint64_is_refused(void **state)
{
    assert_contains(refusal_of(*state, "99999999999999999999999\n", 24),
                    "99999999999999999999999 is larger than 2^53");
}

static void test_seq_just_above_2_pow_53_is_refused(void **state)
{
    assert_contains(refusal_of(*state, "9007199254740993", 16), "larger than 2^53");
}

static void test_seq_of_exactly_2_pow_53_is_valid(void **state)
{
    scratch_write_text(*state, "seq", "9007199254740992\n");
    assert_int_equal(open_seq(*state), SEQFILE_MAX);
}

static void test_number_followed_by_letters_is_refused(void **state)
{
    assert_contains(refusal_of(*state, "138xyz", 6), "'x' at byte 3 is not a decimal digit");
}

static void test_leading_space_is_refused(void **state)
{
    assert_contains(refusal_of(*state, " 138\n", 5), "' ' at byte 0 is not a decimal digit");
}

static void test_refusal_says_what_is_wrong_with_prev_too(void **state)
{
    scratch_write_text(*state, "seq.prev", "12x");
    char *error = refusal_of(*state, "abc", 3);
    assert_contains(error, "/seq.prev: 'x' at byte 2 is not a decimal digit");
}

static void test_refusal_leaves_the_files_for_the_operator(void **state)
{
    refusal_of(*state, "abc", 3);
    assert_seq_file(*state, "seq", "abc");
    assert_false(scratch_exists(*state, "seq.corrupt"));
}

static void test_corrupt_seq_with_good_prev_resumes_a_step_past_prev(void **state)
{
    scratch_write_text(*state, "seq", "13#");
    scratch_write_text(*state, "seq.prev", "138\n");
    log_capture_start();
    uint64_t last_used = open_seq(*state);
    char *log = log_capture_stop();
    assert_int_equal(last_used, 138 + SEQFILE_STEP_MAX);
    assert_contains(log, "/seq is corrupt ('#' at byte 2 is not a decimal digit); using the "
                         "previous generation ");
    assert_contains(log, "/seq.prev");
    free(log);
    assert_seq_file(*state, "seq", "1138\n");
    assert_seq_file(*state, "seq.prev", "138\n");
    assert_seq_file(*state, "seq.corrupt", "13#");
}

static void test_state_dir_that_cannot_be_written_is_refused(void **state)
{
    /* Old state that cannot be replaced, even by root: a folder where the temporary file goes. */
    scratch_write_text(*state, "seq", "138\n");
    assert_int_equal(mkdir(scratch_path(*state, "seq.tmp"), 0700), 0);
    uint64_t last_used = 0;
    char error[8192] = "";
    assert_int_equal(seqfile_open(*state, 0, &last_used, error, sizeof error), -1);
    assert_contains(error, "cannot write ");
    assert_contains(error, "/seq: Is a directory; state_dir must be writable, or seq numbers "
                           "would repeat after a restart");
    assert_seq_file(*state, "seq", "138\n");
}

enum { NOBODY = 65534 };

/*
 * seqfile_open as a user that mode 0500 binds. Root writes through it, so as
 * root the open runs in a child that has become nobody. 1 when that is not
 * possible here.
 */
static int open_read_only(const char *folder, char *error, size_t error_size)
{
    uint64_t last_used;
    if (geteuid() != 0) {
        assert_int_equal(chmod(folder, 0500), 0);
        return seqfile_open(folder, 0, &last_used, error, error_size);
    }
    char seq[4096];
    snprintf(seq, sizeof seq, "%s/seq", folder);
    assert_int_equal(chown(folder, NOBODY, NOBODY), 0);
    assert_int_equal(chown(seq, NOBODY, NOBODY), 0);
    assert_int_equal(chmod(folder, 0500), 0);
    int channel[2];
    assert_int_equal(pipe(channel), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(channel[0]);
        if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
            _exit(2);
        int result = seqfile_open(folder, 0, &last_used, error, error_size);
        ssize_t written = write(channel[1], error, strlen(error));
        _exit(written < 0 ? 3 : result == -1 ? 1 : 0);
    }
    close(channel[1]);
    ssize_t got = read(channel[0], error, error_size - 1);
    error[got > 0 ? got : 0] = '\0';
    close(channel[0]);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 2)
        return 1;
    assert_true(WEXITSTATUS(status) <= 1);
    return WEXITSTATUS(status) == 1 ? -1 : 0;
}

static void test_read_only_state_dir_is_refused(void **state)
{
    scratch_write_text(*state, "seq", "138\n");
    char error[8192] = "";
    int result = open_read_only(*state, error, sizeof error);
    if (result == 1)
        skip(); /* root that cannot become nobody: the test above covers it */
    assert_int_equal(result, -1);
    assert_contains(error, "/seq: Permission denied; state_dir must be writable");
}

static void test_state_dir_below_a_regular_file_is_refused(void **state)
{
    scratch_write_text(*state, "plain-file", "");
    char state_dir[4096];
    snprintf(state_dir, sizeof state_dir, "%s/plain-file/state", (char *)*state);
    uint64_t last_used = 0;
    char error[8192] = "";
    assert_int_equal(seqfile_open(state_dir, 0, &last_used, error, sizeof error), -1);
    assert_contains(error, "cannot create state_dir ");
    assert_contains(error, "plain-file/state: Not a directory");
}

static void test_queue_floor_above_the_file_wins(void **state)
{
    scratch_write_text(*state, "seq", "138\n");
    uint64_t last_used = 0;
    char error[8192] = "";
    assert_int_equal(seqfile_open(*state, 500, &last_used, error, sizeof error), 0);
    assert_int_equal(last_used, 500);
    assert_seq_file(*state, "seq", "500\n");
}

static void test_file_above_the_queue_floor_wins(void **state)
{
    scratch_write_text(*state, "seq", "138\n");
    uint64_t last_used = 0;
    char error[8192] = "";
    assert_int_equal(seqfile_open(*state, 100, &last_used, error, sizeof error), 0);
    assert_int_equal(last_used, 138);
}

static void test_queue_floor_applies_to_a_fresh_start(void **state)
{
    uint64_t last_used = 0;
    char error[8192] = "";
    assert_int_equal(seqfile_open(*state, 42, &last_used, error, sizeof error), 0);
    assert_int_equal(last_used, 42);
}

static void test_commit_then_reopen_gives_the_same_number(void **state)
{
    open_seq(*state);
    assert_int_equal(seqfile_commit(17), 0);
    assert_int_equal(seqfile_commit(25), 0);
    assert_int_equal(open_seq(*state), 25);
}

static void test_commit_keeps_the_previous_commit_as_prev(void **state)
{
    open_seq(*state);
    assert_int_equal(seqfile_commit(17), 0);
    assert_int_equal(seqfile_commit(25), 0);
    assert_seq_file(*state, "seq", "25\n");
    assert_seq_file(*state, "seq.prev", "17\n");
}

static void test_commit_of_a_large_step_keeps_prev_within_one_step(void **state)
{
    open_seq(*state);
    assert_int_equal(seqfile_commit(5000), 0);
    assert_seq_file(*state, "seq", "5000\n");
    assert_seq_file(*state, "seq.prev", "4000\n");
}

static void test_commit_below_the_recorded_number_is_refused(void **state)
{
    open_seq(*state);
    assert_int_equal(seqfile_commit(25), 0);
    log_capture_start();
    int result = seqfile_commit(24);
    free(log_capture_stop());
    assert_int_equal(result, -1);
    assert_int_equal(errno, EINVAL);
    assert_seq_file(*state, "seq", "25\n");
}

static void test_failed_commit_logs_critical_and_sets_the_failing_flag(void **state)
{
    open_seq(*state);
    assert_int_equal(mkdir(scratch_path(*state, "seq.tmp"), 0700), 0);
    log_capture_start();
    int result = seqfile_commit(9);
    int error_number = errno;
    char *log = log_capture_stop();
    assert_int_equal(result, -1);
    assert_int_equal(error_number, EISDIR);
    assert_true(statefile_write_failing());
    assert_contains(log, "<2>seq: cannot record 9 in ");
    assert_contains(log, "after a restart seq numbers may repeat");
    free(log);
}

static void test_commit_after_a_failure_retries_and_clears_the_flag(void **state)
{
    open_seq(*state);
    assert_int_equal(mkdir(scratch_path(*state, "seq.tmp"), 0700), 0);
    log_capture_start();
    seqfile_commit(9);
    free(log_capture_stop());
    rmdir(scratch_path(*state, "seq.tmp"));
    assert_int_equal(seqfile_commit(9), 0);
    assert_false(statefile_write_failing());
    assert_seq_file(*state, "seq", "9\n");
}

#define SEQFILE_TEST(name) cmocka_unit_test_setup_teardown(name, make_folder, remove_folder)

int main(void)
{
    const struct CMUnitTest tests[] = {
        SEQFILE_TEST(test_absent_seq_file_is_a_fresh_start_at_zero),
        SEQFILE_TEST(test_valid_seq_file_resumes_after_its_number),
        SEQFILE_TEST(test_seq_without_trailing_newline_is_valid),
        SEQFILE_TEST(test_random_bytes_in_seq_are_refused),
        SEQFILE_TEST(test_empty_seq_file_is_refused),
        SEQFILE_TEST(test_newline_alone_is_refused_as_empty),
        SEQFILE_TEST(test_letters_in_seq_are_refused),
        SEQFILE_TEST(test_negative_seq_is_refused),
        SEQFILE_TEST(test_seq_too_large_for_uint64_is_refused),
        SEQFILE_TEST(test_seq_just_above_2_pow_53_is_refused),
        SEQFILE_TEST(test_seq_of_exactly_2_pow_53_is_valid),
        SEQFILE_TEST(test_number_followed_by_letters_is_refused),
        SEQFILE_TEST(test_leading_space_is_refused),
        SEQFILE_TEST(test_refusal_says_what_is_wrong_with_prev_too),
        SEQFILE_TEST(test_refusal_leaves_the_files_for_the_operator),
        SEQFILE_TEST(test_corrupt_seq_with_good_prev_resumes_a_step_past_prev),
        SEQFILE_TEST(test_state_dir_that_cannot_be_written_is_refused),
        SEQFILE_TEST(test_read_only_state_dir_is_refused),
        SEQFILE_TEST(test_state_dir_below_a_regular_file_is_refused),
        SEQFILE_TEST(test_queue_floor_above_the_file_wins),
        SEQFILE_TEST(test_file_above_the_queue_floor_wins),
        SEQFILE_TEST(test_queue_floor_applies_to_a_fresh_start),
        SEQFILE_TEST(test_commit_then_reopen_gives_the_same_number),
        SEQFILE_TEST(test_commit_keeps_the_previous_commit_as_prev),
        SEQFILE_TEST(test_commit_of_a_large_step_keeps_prev_within_one_step),
        SEQFILE_TEST(test_commit_below_the_recorded_number_is_refused),
        SEQFILE_TEST(test_failed_commit_logs_critical_and_sets_the_failing_flag),
        SEQFILE_TEST(test_commit_after_a_failure_retries_and_clears_the_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
