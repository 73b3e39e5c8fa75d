/* The MQTT message store: broken queue files are moved aside, logged and counted; seq is found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <MQTTAsync.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mqtt_store.h"
#include "paho.h"
#include "scratch.h"

/* The folder store_open makes for this client and broker (':' and '/' become '-'). */
#define QUEUE "gw-1-tcp---broker-1883"

struct fixture {
    char *base;
    MQTTClient_persistence store;
    void *handle;
};

static int open_store(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    fixture->base = scratch_folder();
    fixture->store = mqtt_store_callbacks(fixture->base);
    assert_int_equal(
        fixture->store.popen(&fixture->handle, "gw-1", "tcp://broker:1883", fixture->store.context),
        0);
    *state = fixture;
    return 0;
}

static int close_store(void **state)
{
    struct fixture *fixture = *state;
    fixture->store.pclose(fixture->handle);
    scratch_remove(fixture->base);
    free(fixture);
    return 0;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* Stores text under key in two pieces, as Paho stores a command in several. */
static void put(struct fixture *fixture, const char *key, const char *text)
{
    size_t half = strlen(text) / 2;
    char *buffers[] = {(char *)text, (char *)text + half};
    int lengths[] = {(int)half, (int)(strlen(text) - half)};
    assert_int_equal(fixture->store.pput(fixture->handle, (char *)key, 2, buffers, lengths), 0);
}

/* The keys pkeys lists, sorted and joined by spaces. */
static char *listed_keys(struct fixture *fixture)
{
    char **keys;
    int count;
    assert_int_equal(fixture->store.pkeys(fixture->handle, &keys, &count), 0);
    static char joined[1024];
    joined[0] = '\0';
    for (int i = 0; i < count; i++) {
        for (int j = i + 1; j < count; j++)
            if (strcmp(keys[j], keys[i]) < 0) {
                char *swap = keys[i];
                keys[i] = keys[j];
                keys[j] = swap;
            }
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? " " : "",
                 keys[i]);
        paho_api()->free(keys[i]);
    }
    paho_api()->free(keys);
    return joined;
}

static size_t files_in(const char *folder)
{
    DIR *dir = opendir(folder);
    if (!dir)
        return 0;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL)
        count += entry->d_name[0] != '.';
    closedir(dir);
    return count;
}

static const char *queue_path(struct fixture *fixture, const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/" QUEUE "/%s", fixture->base, name);
    return path;
}

/* Lists the keys with the log captured; returns the log (free it). */
static char *list_capturing_log(struct fixture *fixture, const char *expected_keys)
{
    log_capture_start();
    char *keys = listed_keys(fixture);
    char *log = log_capture_stop();
    assert_string_equal(keys, expected_keys);
    return log;
}

static void test_message_comes_back_byte_for_byte(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "{\"seq\":5}");
    char *buffer;
    int length;
    assert_int_equal(fixture->store.pget(fixture->handle, "c-1", &buffer, &length), 0);
    assert_int_equal(length, 9);
    assert_memory_equal(buffer, "{\"seq\":5}", 9);
    paho_api()->free(buffer);
}

static void test_whole_messages_are_listed(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "first");
    put(fixture, "c-2", "second");
    assert_string_equal(listed_keys(fixture), "c-1 c-2");
    assert_int_equal(fixture->store.pcontainskey(fixture->handle, "c-2"), 0);
}

static void test_message_truncated_to_half_is_moved_to_lost_logged_and_counted(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "{\"gateway\":\"gw-1\",\"seq\":41,\"event\":\"raised\"}");
    struct stat status;
    assert_int_equal(stat(queue_path(fixture, "c-1.msg"), &status), 0);
    assert_int_equal(truncate(queue_path(fixture, "c-1.msg"), status.st_size / 2), 0);
    uint64_t lost_before = mqtt_store_lost();
    char *log = list_capturing_log(fixture, "");
    assert_int_equal(mqtt_store_lost(), lost_before + 1);
    assert_contains(log, "<3>mqtt: queued message ");
    assert_contains(log, QUEUE "/c-1.msg cannot be read whole (truncated: ");
    assert_contains(log, "moved to ");
    assert_contains(log, QUEUE "/lost/c-1.");
    free(log);
    assert_false(scratch_exists(fixture->base, QUEUE "/c-1.msg"));
    assert_int_equal(files_in(queue_path(fixture, "lost")), 1);
}

static void test_empty_message_file_is_moved_to_lost(void **state)
{
    struct fixture *fixture = *state;
    scratch_write(fixture->base, QUEUE "/c-1.msg", "", 0);
    uint64_t lost_before = mqtt_store_lost();
    char *log = list_capturing_log(fixture, "");
    assert_contains(log, "c-1.msg cannot be read whole (empty)");
    free(log);
    assert_int_equal(mqtt_store_lost(), lost_before + 1);
    assert_false(scratch_exists(fixture->base, QUEUE "/c-1.msg"));
    assert_int_equal(files_in(queue_path(fixture, "lost")), 1);
}

static void test_message_file_that_cannot_be_read_is_moved_to_lost(void **state)
{
    struct fixture *fixture = *state;
    /* A folder in a message file's place: read() fails even for root. */
    assert_int_equal(mkdir(queue_path(fixture, "c-1.msg"), 0700), 0);
    char *log = list_capturing_log(fixture, "");
    assert_contains(log, "c-1.msg cannot be read whole (cannot read: Is a directory)");
    free(log);
    assert_false(scratch_exists(fixture->base, QUEUE "/c-1.msg"));
}

static void test_damaged_message_is_moved_to_lost(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "{\"seq\":41}");
    size_t length;
    char *bytes = scratch_read(fixture->base, QUEUE "/c-1.msg", &length);
    bytes[length - 2] ^= 0x01; /* one bit of the payload */
    scratch_write(fixture->base, QUEUE "/c-1.msg", bytes, length);
    free(bytes);
    char *log = list_capturing_log(fixture, "");
    assert_contains(log, "c-1.msg cannot be read whole (damaged: the checksum does not match)");
    free(log);
}

static void test_file_without_the_store_header_is_moved_to_lost(void **state)
{
    struct fixture *fixture = *state;
    scratch_write_text(fixture->base, QUEUE "/c-1.msg", "raw bytes from elsewhere");
    char *log = list_capturing_log(fixture, "");
    assert_contains(log, "c-1.msg cannot be read whole (no safetygw queue header in its 24 bytes)");
    free(log);
}

static void test_whole_messages_beside_a_broken_one_are_all_listed(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "first");
    scratch_write(fixture->base, QUEUE "/c-2.msg", "", 0);
    put(fixture, "c-3", "third");
    free(list_capturing_log(fixture, "c-1 c-3"));
}

static void test_get_of_a_file_broken_after_listing_fails_and_moves_it_aside(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "first");
    assert_string_equal(listed_keys(fixture), "c-1");
    assert_int_equal(truncate(queue_path(fixture, "c-1.msg"), 5), 0);
    char *buffer = NULL;
    int length;
    uint64_t lost_before = mqtt_store_lost();
    log_capture_start();
    int result = fixture->store.pget(fixture->handle, "c-1", &buffer, &length);
    free(log_capture_stop());
    assert_int_not_equal(result, 0);
    assert_null(buffer);
    assert_int_equal(mqtt_store_lost(), lost_before + 1);
    assert_false(scratch_exists(fixture->base, QUEUE "/c-1.msg"));
}

/* Closes and opens the store again, as a restart of the daemon does. */
static void reopen(struct fixture *fixture)
{
    fixture->store.pclose(fixture->handle);
    assert_int_equal(
        fixture->store.popen(&fixture->handle, "gw-1", "tcp://broker:1883", fixture->store.context),
        0);
}

static void test_same_key_lost_twice_keeps_both_files(void **state)
{
    struct fixture *fixture = *state;
    scratch_write(fixture->base, QUEUE "/c-1.msg", "", 0);
    free(list_capturing_log(fixture, ""));
    reopen(fixture);
    scratch_write(fixture->base, QUEUE "/c-1.msg", "", 0);
    free(list_capturing_log(fixture, ""));
    assert_int_equal(files_in(queue_path(fixture, "lost")), 2);
}

static void test_only_the_first_listing_after_open_reads_the_files(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "first");
    assert_string_equal(listed_keys(fixture), "c-1");
    /* Broken while running: listed again, caught by pget (see the test above). */
    assert_int_equal(truncate(queue_path(fixture, "c-1.msg"), 5), 0);
    assert_string_equal(listed_keys(fixture), "c-1");
    reopen(fixture);
    free(list_capturing_log(fixture, ""));
}

static void test_removed_messages_leave_no_file(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "first");
    put(fixture, "s-7", "in flight");
    assert_int_equal(fixture->store.premove(fixture->handle, "c-1"), 0);
    assert_int_equal(fixture->store.premove(fixture->handle, "s-7"), 0);
    assert_int_equal(files_in(queue_path(fixture, "")), 0);
}

/* Paho removes every command it sent, also a QoS 0 one it never put here. */
static void test_removing_a_command_never_stored_is_no_error(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(fixture->store.premove(fixture->handle, "c-3"), 0);
    put(fixture, "c-4", "queued");
    assert_int_equal(fixture->store.premove(fixture->handle, "c-3"), MQTTCLIENT_PERSISTENCE_ERROR);
    assert_int_equal(fixture->store.premove(fixture->handle, "c-4"), 0);
    assert_int_equal(files_in(queue_path(fixture, "")), 0);
}

/* A restart: what was queued before is restored, sent, then removed from disk too. */
static void test_messages_found_at_open_are_removed_once_sent(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "first");
    put(fixture, "c-2", "second");
    reopen(fixture);
    assert_string_equal(listed_keys(fixture), "c-1 c-2");
    assert_int_equal(fixture->store.premove(fixture->handle, "c-1"), 0);
    assert_int_equal(fixture->store.premove(fixture->handle, "c-2"), 0);
    assert_int_equal(files_in(queue_path(fixture, "")), 0);
}

static void test_highest_seq_of_an_empty_store_is_zero(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(mqtt_store_highest_seq(fixture->base), 0);
}

static void test_highest_seq_of_a_missing_folder_is_zero(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(mqtt_store_highest_seq(queue_path(fixture, "no-such-folder")), 0);
}

static void test_highest_seq_is_the_largest_across_every_queue(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "{\"gateway\":\"gw-1\",\"seq\":41,\"event\":\"raised\"}");
    put(fixture, "c-2", "{\"gateway\":\"gw-1\",\"seq\":7,\"event\":\"cleared\"}");
    put(fixture, "c-3", "{\"state\":\"online\",\"last_seq\":99999}"); /* not an event's seq */
    void *other;
    assert_int_equal(
        fixture->store.popen(&other, "gw-1", "tcp://backup:1883", fixture->store.context), 0);
    char *event = "{\"gateway\":\"gw-1\",\"seq\":1038,\"event\":\"raised\"}";
    int length = (int)strlen(event);
    assert_int_equal(fixture->store.pput(other, "c-9", 1, &event, &length), 0);
    fixture->store.pclose(other);
    assert_int_equal(mqtt_store_highest_seq(fixture->base), 1038);
}

static void test_highest_seq_counts_messages_set_aside_as_lost(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "{\"seq\":41}");
    put(fixture, "c-2", "{\"gateway\":\"gw-1\",\"seq\":2000,\"event\":\"raised\"}");
    assert_int_equal(truncate(queue_path(fixture, "c-2.msg"), 40), 0);
    free(list_capturing_log(fixture, "c-1"));
    assert_int_equal(mqtt_store_highest_seq(fixture->base), 2000);
}

static void test_highest_seq_ignores_numbers_beyond_2_pow_53(void **state)
{
    struct fixture *fixture = *state;
    put(fixture, "c-1", "{\"seq\":12}");
    put(fixture, "c-2", "{\"seq\":99999999999999999999999}");
    assert_int_equal(mqtt_store_highest_seq(fixture->base), 12);
}

/*
 * In the daemon Paho is loaded (paho_load) and initialised (a client created)
 * before it calls the store. Its allocator's bookkeeping, which the store uses
 * for what Paho frees, is set up there: without it Paho's free leaks (Paho 1.3.12).
 */
static MQTTAsync client;

static int start_paho(void **state)
{
    (void)state;
    char error[256];
    if (paho_open(PAHO_SONAME_PLAIN, error, sizeof error) != 0)
        fail_msg("%s", error);
    MQTTAsync_createOptions options = MQTTAsync_createOptions_initializer;
    return paho_api()->create_with_options(&client, "tcp://localhost:1", "test",
                                           MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                           &options) == MQTTASYNC_SUCCESS
               ? 0
               : -1;
}

static int stop_paho(void **state)
{
    (void)state;
    paho_api()->destroy(&client);
    return 0;
}

#define STORE_TEST(name) cmocka_unit_test_setup_teardown(name, open_store, close_store)

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_message_comes_back_byte_for_byte),
        STORE_TEST(test_whole_messages_are_listed),
        STORE_TEST(test_message_truncated_to_half_is_moved_to_lost_logged_and_counted),
        STORE_TEST(test_empty_message_file_is_moved_to_lost),
        STORE_TEST(test_message_file_that_cannot_be_read_is_moved_to_lost),
        STORE_TEST(test_damaged_message_is_moved_to_lost),
        STORE_TEST(test_file_without_the_store_header_is_moved_to_lost),
        STORE_TEST(test_whole_messages_beside_a_broken_one_are_all_listed),
        STORE_TEST(test_get_of_a_file_broken_after_listing_fails_and_moves_it_aside),
        STORE_TEST(test_same_key_lost_twice_keeps_both_files),
        STORE_TEST(test_only_the_first_listing_after_open_reads_the_files),
        STORE_TEST(test_removed_messages_leave_no_file),
        STORE_TEST(test_removing_a_command_never_stored_is_no_error),
        STORE_TEST(test_messages_found_at_open_are_removed_once_sent),
        STORE_TEST(test_highest_seq_of_an_empty_store_is_zero),
        STORE_TEST(test_highest_seq_of_a_missing_folder_is_zero),
        STORE_TEST(test_highest_seq_is_the_largest_across_every_queue),
        STORE_TEST(test_highest_seq_counts_messages_set_aside_as_lost),
        STORE_TEST(test_highest_seq_ignores_numbers_beyond_2_pow_53),
    };
    return cmocka_run_group_tests(tests, start_paho, stop_paho);
}
