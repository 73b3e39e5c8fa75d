/*
 * The log under systemd: when JOURNAL_STREAM names stderr, a line is one
 * journal entry with MESSAGE, PRIORITY and the SAFETYGW_DEVICE / _BUS / _ALARM
 * fields a crew filters on; otherwise it stays a "<N>text" line on stderr.
 * The journal sender is replaced by a capture: journald need not run here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define ENTRY_FIELDS_MAX 16
#define FIELD_MAX 1100

static struct {
    char fields[ENTRY_FIELDS_MAX][FIELD_MAX];
    int count;
    int entries;
    int answer; /* what the fake journal returns */
} journal;

static int capture(const struct iovec *fields, int count)
{
    journal.entries++;
    journal.count = count;
    for (int i = 0; i < count && i < ENTRY_FIELDS_MAX; i++)
        snprintf(journal.fields[i], FIELD_MAX, "%.*s", (int)fields[i].iov_len,
                 (const char *)fields[i].iov_base);
    return journal.answer;
}

/* The value of field name in the last entry, or NULL. */
static const char *field(const char *name)
{
    size_t length = strlen(name);
    for (int i = 0; i < journal.count; i++)
        if (strncmp(journal.fields[i], name, length) == 0 && journal.fields[i][length] == '=')
            return journal.fields[i] + length + 1;
    return NULL;
}

/* stderr goes to a scratch file from here to stderr_text(). */
static FILE *scratch;
static int saved_stderr = -1;

static void stderr_to_scratch(void)
{
    fflush(stderr);
    scratch = tmpfile();
    assert_non_null(scratch);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(dup2(fileno(scratch), STDERR_FILENO) >= 0);
}

/* Puts stderr back and returns what was written to it meanwhile. */
static const char *stderr_text(void)
{
    static char text[4096];
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    rewind(scratch);
    size_t length = fread(text, 1, sizeof text - 1, scratch);
    text[length] = '\0';
    fclose(scratch);
    return text;
}

static void set_journal_stream(uintmax_t device, uintmax_t inode)
{
    char value[64];
    snprintf(value, sizeof value, "%ju:%ju", device, inode);
    setenv("JOURNAL_STREAM", value, 1);
}

/* As systemd starts a service whose stderr is the journal: JOURNAL_STREAM names stderr. */
static void start_under_journald(void)
{
    struct stat status;
    stderr_to_scratch();
    assert_int_equal(fstat(STDERR_FILENO, &status), 0);
    set_journal_stream((uintmax_t)status.st_dev, (uintmax_t)status.st_ino);
    assert_int_equal(log_use_journal(capture), 1);
}

static int reset(void **state)
{
    (void)state;
    memset(&journal, 0, sizeof journal);
    unsetenv("JOURNAL_STREAM");
    log_use_journal(NULL);
    log_set_level(LOG_INFO);
    return 0;
}

static void test_without_journal_stream_a_line_goes_to_stderr_with_its_priority_prefix(void **state)
{
    (void)state;
    stderr_to_scratch();
    assert_int_equal(log_use_journal(capture), 0);
    log_device(LOG_WARNING, "gas-12-2-301", "device %s is offline", "gas-12-2-301");
    log_info("safetygwd %s started", "0.1.0");
    assert_string_equal(stderr_text(),
                        "<4>device gas-12-2-301 is offline\n<6>safetygwd 0.1.0 started\n");
    assert_int_equal(journal.entries, 0);
}

static void test_journal_stream_of_another_file_is_not_stderr(void **state)
{
    (void)state;
    struct stat status;
    stderr_to_scratch();
    assert_int_equal(fstat(STDERR_FILENO, &status), 0);
    /* A child of the service whose stderr was redirected inherits the variable. */
    set_journal_stream((uintmax_t)status.st_dev, (uintmax_t)status.st_ino + 1);
    assert_int_equal(log_use_journal(capture), 0);
    set_journal_stream((uintmax_t)status.st_dev + 1, (uintmax_t)status.st_ino);
    assert_int_equal(log_use_journal(capture), 0);
    log_bus(LOG_INFO, "bldg-12", "bus %s: opened /dev/ttyUSB0", "bldg-12");
    assert_string_equal(stderr_text(), "<6>bus bldg-12: opened /dev/ttyUSB0\n");
    assert_int_equal(journal.entries, 0);
}

static void test_malformed_journal_stream_keeps_stderr(void **state)
{
    (void)state;
    struct stat status;
    assert_int_equal(fstat(STDERR_FILENO, &status), 0);
    char exact[64], bad[80];
    snprintf(exact, sizeof exact, "%ju:%ju", (uintmax_t)status.st_dev, (uintmax_t)status.st_ino);
    const char *const malformed[] = {"", ":", "12", "12:", ":34", "a:b", "-1:-1"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        setenv("JOURNAL_STREAM", malformed[i], 1);
        assert_int_equal(log_use_journal(capture), 0);
    }
    snprintf(bad, sizeof bad, "%sx", exact); /* trailing garbage */
    setenv("JOURNAL_STREAM", bad, 1);
    assert_int_equal(log_use_journal(capture), 0);
    setenv("JOURNAL_STREAM", exact, 1);
    assert_int_equal(log_use_journal(NULL), 0); /* a program without a journal sender */
    assert_int_equal(log_use_journal(capture), 1);
}

static void test_alarm_line_is_an_entry_with_device_and_alarm_fields(void **state)
{
    (void)state;
    start_under_journald();
    int line = __LINE__ + 1;
    log_alarm(LOG_WARNING, "gas-12-2-301", "gas_high", "alarm %s raised on %s: gas_lel = %g",
              "gas_high", "gas-12-2-301", 27.5);
    assert_string_equal(stderr_text(), "");
    assert_int_equal(journal.entries, 1);
    assert_string_equal(journal.fields[0], "MESSAGE=alarm gas_high raised on gas-12-2-301: "
                                           "gas_lel = 27.5");
    assert_string_equal(field("PRIORITY"), "4");
    assert_string_equal(field("SAFETYGW_DEVICE"), "gas-12-2-301");
    assert_string_equal(field("SAFETYGW_ALARM"), "gas_high");
    assert_null(field("SAFETYGW_BUS"));
    assert_string_equal(field("SYSLOG_IDENTIFIER"), program_invocation_short_name);
    const char *code_file = field("CODE_FILE"); /* the name alone with __FILE_NAME__ (GCC 12) */
    assert_non_null(code_file);
    assert_non_null(strstr(code_file, "test_log_journal.c"));
    char line_text[16];
    snprintf(line_text, sizeof line_text, "%d", line);
    assert_string_equal(field("CODE_LINE"), line_text);
    assert_string_equal(field("CODE_FUNC"),
                        "test_alarm_line_is_an_entry_with_device_and_alarm_fields");
}

static void test_bus_down_carries_the_bus_and_the_alarm_not_a_device(void **state)
{
    (void)state;
    start_under_journald();
    log_about(LOG_WARNING, NULL, "bldg-12", "bus_down", "alarm bus_down raised on bus %s",
              "bldg-12");
    stderr_text();
    assert_int_equal(journal.entries, 1);
    assert_string_equal(field("SAFETYGW_BUS"), "bldg-12");
    assert_string_equal(field("SAFETYGW_ALARM"), "bus_down");
    assert_null(field("SAFETYGW_DEVICE"));
}

static void test_device_on_its_bus_carries_both(void **state)
{
    (void)state;
    start_under_journald();
    log_about(LOG_INFO, "lift-7-1", "bldg-7", NULL, "device %s is online (address %u)", "lift-7-1",
              3u);
    stderr_text();
    assert_string_equal(journal.fields[0], "MESSAGE=device lift-7-1 is online (address 3)");
    assert_string_equal(field("PRIORITY"), "6");
    assert_string_equal(field("SAFETYGW_DEVICE"), "lift-7-1");
    assert_string_equal(field("SAFETYGW_BUS"), "bldg-7");
    assert_null(field("SAFETYGW_ALARM"));
}

static void test_plain_line_has_no_safetygw_fields(void **state)
{
    (void)state;
    start_under_journald();
    log_error("uplink: cannot create state_dir %s: %s", "/var/lib/safetygw", strerror(EACCES));
    log_msg(LOG_NOTICE, "computed priority");
    stderr_text();
    assert_int_equal(journal.entries, 2);
    assert_string_equal(journal.fields[0], "MESSAGE=computed priority");
    assert_string_equal(field("PRIORITY"), "5");
    assert_null(field("SAFETYGW_DEVICE"));
    assert_null(field("SAFETYGW_BUS"));
    assert_null(field("SAFETYGW_ALARM"));
    assert_null(field("CODE_FILE")); /* log_msg knows no source position */
}

static void test_entry_the_journal_refuses_goes_to_stderr(void **state)
{
    (void)state;
    start_under_journald();
    journal.answer = -ECONNREFUSED; /* journald stopped, or its socket is gone */
    log_device(LOG_ERR, "gas-12-2-301", "action close_valve on %s failed", "gas-12-2-301");
    assert_string_equal(stderr_text(), "<3>action close_valve on gas-12-2-301 failed\n");
    assert_int_equal(journal.entries, 1);
}

/* journald behind (a slow disk): the line is dropped, not waited for, and told of later. */
static void test_entry_the_journal_has_no_room_for_is_dropped_and_told_of(void **state)
{
    (void)state;
    start_under_journald();
    journal.answer = -EAGAIN;
    log_device(LOG_INFO, "gas-12-2-301", "device %s is online (address 1)", "gas-12-2-301");
    log_device(LOG_INFO, "gas-12-2-302", "device %s is online (address 2)", "gas-12-2-302");
    journal.answer = 0;
    log_info("safetygwd %s started", "0.1.0");
    assert_string_equal(stderr_text(), ""); /* stderr is the journal too */
    assert_int_equal(journal.entries, 4);
    assert_string_equal(journal.fields[0],
                        "MESSAGE=log: 2 lines dropped: the journal had no room (journald behind)");
    assert_string_equal(field("PRIORITY"), "4");
}

static void test_lines_above_the_level_are_dropped(void **state)
{
    (void)state;
    start_under_journald();
    log_debug("health: %s", "{}");
    log_device(LOG_DEBUG, "gas-12-2-301", "read failed");
    log_set_level(LOG_DEBUG);
    log_device(LOG_DEBUG, "gas-12-2-301", "read failed");
    assert_string_equal(stderr_text(), "");
    assert_int_equal(journal.entries, 1);
}

static void test_id_too_long_for_a_field_is_left_out_not_cut(void **state)
{
    (void)state;
    char long_id[1500];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    start_under_journald();
    log_alarm(LOG_INFO, long_id, "gas_high", "alarm on a device with a very long id");
    stderr_text();
    assert_int_equal(journal.entries, 1);
    assert_null(field("SAFETYGW_DEVICE"));
    assert_string_equal(field("SAFETYGW_ALARM"), "gas_high");
    assert_string_equal(field("PRIORITY"), "6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(
            test_without_journal_stream_a_line_goes_to_stderr_with_its_priority_prefix, reset),
        cmocka_unit_test_setup(test_journal_stream_of_another_file_is_not_stderr, reset),
        cmocka_unit_test_setup(test_malformed_journal_stream_keeps_stderr, reset),
        cmocka_unit_test_setup(test_alarm_line_is_an_entry_with_device_and_alarm_fields, reset),
        cmocka_unit_test_setup(test_bus_down_carries_the_bus_and_the_alarm_not_a_device, reset),
        cmocka_unit_test_setup(test_device_on_its_bus_carries_both, reset),
        cmocka_unit_test_setup(test_plain_line_has_no_safetygw_fields, reset),
        cmocka_unit_test_setup(test_entry_the_journal_refuses_goes_to_stderr, reset),
        cmocka_unit_test_setup(test_entry_the_journal_has_no_room_for_is_dropped_and_told_of,
                               reset),
        cmocka_unit_test_setup(test_lines_above_the_level_are_dropped, reset),
        cmocka_unit_test_setup(test_id_too_long_for_a_field_is_left_out_not_cut, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
