/*
 * journald's native protocol without libsystemd: an entry reaches a real
 * datagram socket as one datagram, "NAME=value\n" a field, a value with '\n'
 * in the binary form (NAME\n, 64-bit little-endian length, value, \n); what
 * cannot be sent is refused with an errno so that log.c writes the line to
 * stderr instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal_native.h"
#include "scratch.h"

#define RECEIVE_TIMEOUT_MS 5000
#define DATAGRAM_MAX 65536
#define ENTRY_FIELDS_MAX 16

/* A journald stand-in: a datagram socket in a fresh folder. */
struct listener {
    char *folder;
    char path[4096];
    int fd;
};

static int start_listener(void **state)
{
    struct listener *listener = calloc(1, sizeof *listener);
    assert_non_null(listener);
    listener->folder = scratch_folder();
    snprintf(listener->path, sizeof listener->path, "%s/socket", listener->folder);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    assert_true(strlen(listener->path) < sizeof address.sun_path);
    strcpy(address.sun_path, listener->path);
    listener->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(listener->fd >= 0);
    assert_int_equal(bind(listener->fd, (struct sockaddr *)&address, sizeof address), 0);
    *state = listener;
    return 0;
}

static int stop_listener(void **state)
{
    struct listener *listener = *state;
    close(listener->fd);
    scratch_remove(listener->folder);
    free(listener);
    return 0;
}

/* The next datagram, waited for up to RECEIVE_TIMEOUT_MS; returns its length. */
static size_t receive(int fd, char *data, size_t size)
{
    struct pollfd readable = {.fd = fd, .events = POLLIN};
    if (poll(&readable, 1, RECEIVE_TIMEOUT_MS) != 1)
        fail_msg("no entry within %d ms", RECEIVE_TIMEOUT_MS);
    ssize_t length = recv(fd, data, size, 0);
    assert_true(length >= 0);
    return (size_t)length;
}

/* sendmsg on AF_UNIX queues the datagram before it returns: a refused entry left nothing. */
static void assert_nothing_received(int fd)
{
    char data[16];
    assert_int_equal(recv(fd, data, sizeof data, MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
}

struct field {
    char name[64];
    const char *value; /* into the datagram */
    size_t value_length;
    bool binary;
};

/* Splits a datagram into its fields, as journald reads it; fails the test on a malformed one. */
static int parse_entry(const char *data, size_t length, struct field *fields)
{
    int count = 0;
    size_t at = 0;
    while (at < length) {
        assert_true(count < ENTRY_FIELDS_MAX);
        struct field *field = &fields[count++];
        *field = (struct field){.binary = false};
        const char *start = data + at;
        const char *newline = memchr(start, '\n', length - at);
        assert_non_null(newline);
        const char *equals = memchr(start, '=', (size_t)(newline - start));
        const char *name_end = equals ? equals : newline;
        assert_true((size_t)(name_end - start) < sizeof field->name);
        snprintf(field->name, sizeof field->name, "%.*s", (int)(name_end - start), start);
        if (equals) {
            field->value = equals + 1;
            field->value_length = (size_t)(newline - field->value);
            at = (size_t)(newline - data) + 1;
            continue;
        }
        uint64_t length_le;
        assert_true((size_t)(newline - data) + 1 + sizeof length_le <= length);
        memcpy(&length_le, newline + 1, sizeof length_le);
        field->binary = true;
        field->value = newline + 1 + sizeof length_le;
        field->value_length = (size_t)le64toh(length_le);
        at = (size_t)(field->value - data) + field->value_length;
        assert_true(at < length);
        assert_int_equal(data[at], '\n');
        at++;
    }
    return count;
}

static struct iovec text_field(const char *text)
{
    return (struct iovec){.iov_base = (void *)text, .iov_len = strlen(text)};
}

static void test_each_field_is_a_line_of_name_equals_value(void **state)
{
    struct listener *listener = *state;
    struct iovec fields[] = {text_field("MESSAGE=device gas-1 is online (address 1)"),
                             text_field("PRIORITY=6"), text_field("SAFETYGW_DEVICE=gas-1")};
    assert_int_equal(journal_native_sendv_at(listener->path, fields, 3), 0);
    char data[DATAGRAM_MAX];
    size_t length = receive(listener->fd, data, sizeof data);
    const char expected[] = "MESSAGE=device gas-1 is online (address 1)\n"
                            "PRIORITY=6\n"
                            "SAFETYGW_DEVICE=gas-1\n";
    assert_int_equal(length, sizeof expected - 1);
    assert_memory_equal(data, expected, length);
}

static void test_equals_sign_in_a_value_stays_in_the_value(void **state)
{
    struct listener *listener = *state;
    struct iovec fields[] = {text_field("MESSAGE=rule gas_high: gas_lel >= 25"),
                             text_field("SAFETYGW_ALARM=a=b")};
    assert_int_equal(journal_native_sendv_at(listener->path, fields, 2), 0);
    char data[DATAGRAM_MAX];
    struct field parsed[ENTRY_FIELDS_MAX];
    assert_int_equal(parse_entry(data, receive(listener->fd, data, sizeof data), parsed), 2);
    assert_string_equal(parsed[0].name, "MESSAGE");
    assert_int_equal(parsed[0].value_length, strlen("rule gas_high: gas_lel >= 25"));
    assert_memory_equal(parsed[0].value, "rule gas_high: gas_lel >= 25", parsed[0].value_length);
    assert_string_equal(parsed[1].name, "SAFETYGW_ALARM");
    assert_int_equal(parsed[1].value_length, 3);
    assert_memory_equal(parsed[1].value, "a=b", 3);
    assert_false(parsed[0].binary || parsed[1].binary);
}

static void test_multi_line_value_goes_in_the_binary_form(void **state)
{
    struct listener *listener = *state;
    struct iovec fields[] = {text_field("MESSAGE=health: {\n  \"buses\": 2\n}"),
                             text_field("PRIORITY=7")};
    assert_int_equal(journal_native_sendv_at(listener->path, fields, 2), 0);
    char data[DATAGRAM_MAX];
    size_t length = receive(listener->fd, data, sizeof data);
    const char value[] = "health: {\n  \"buses\": 2\n}";
    /* "MESSAGE\n", 24 as 8 bytes little-endian, the value, "\n", then the text field. */
    const char expected[] = "MESSAGE\n\x18\0\0\0\0\0\0\0"
                            "health: {\n  \"buses\": 2\n}\n"
                            "PRIORITY=7\n";
    assert_int_equal(sizeof value - 1, 0x18);
    assert_int_equal(length, sizeof expected - 1);
    assert_memory_equal(data, expected, length);
    struct field parsed[ENTRY_FIELDS_MAX];
    assert_int_equal(parse_entry(data, length, parsed), 2);
    assert_true(parsed[0].binary);
    assert_string_equal(parsed[0].name, "MESSAGE");
    assert_int_equal(parsed[0].value_length, sizeof value - 1);
    assert_memory_equal(parsed[0].value, value, sizeof value - 1);
}

static void test_field_without_equals_sign_is_refused_and_nothing_sent(void **state)
{
    struct listener *listener = *state;
    struct iovec fields[] = {text_field("MESSAGE=fine"), text_field("PRIORITY")};
    assert_int_equal(journal_native_sendv_at(listener->path, fields, 2), -EINVAL);
    struct iovec nameless[] = {text_field("=value")};
    assert_int_equal(journal_native_sendv_at(listener->path, nameless, 1), -EINVAL);
    assert_int_equal(journal_native_sendv_at(listener->path, fields, 0), -EINVAL);
    assert_nothing_received(listener->fd);
}

static void test_entry_too_big_for_a_datagram_is_refused_with_emsgsize(void **state)
{
    struct listener *listener = *state;
    /* Far above a datagram socket's send buffer (net.core.wmem_default, 208 KiB here). */
    size_t size = 8u << 20;
    char *message = malloc(size + 1);
    assert_non_null(message);
    memcpy(message, "MESSAGE=", 8);
    memset(message + 8, 'x', size - 8);
    message[size] = '\0';
    struct iovec fields[] = {{.iov_base = message, .iov_len = size}};
    assert_int_equal(journal_native_sendv_at(listener->path, fields, 1), -EMSGSIZE);
    free(message);
    assert_nothing_received(listener->fd);
}

static void test_without_a_listening_journald_the_entry_is_refused(void **state)
{
    struct listener *listener = *state;
    char gone[4200];
    snprintf(gone, sizeof gone, "%s/no-journald", listener->folder);
    struct iovec fields[] = {text_field("MESSAGE=lost?")};
    assert_int_equal(journal_native_sendv_at(gone, fields, 1), -ENOENT);
}

#define SENDER_THREADS 4
#define ENTRIES_PER_THREAD 100

struct sender {
    const char *path;
    int thread;
    int failures;
};

static void *send_entries(void *argument)
{
    struct sender *sender = argument;
    for (int entry = 0; entry < ENTRIES_PER_THREAD; entry++) {
        char message[64], thread[32];
        snprintf(message, sizeof message, "MESSAGE=entry %d\nof a thread", entry);
        snprintf(thread, sizeof thread, "TEST_THREAD=%d", sender->thread);
        struct iovec fields[] = {text_field(message), text_field(thread)};
        int sent;
        while ((sent = journal_native_sendv_at(sender->path, fields, 2)) == -EAGAIN) {
        } /* the reader fell behind the four writers: as the log would, try again */
        if (sent != 0)
            sender->failures++;
    }
    return NULL;
}

/* The log's threads share one socket: every entry arrives once and whole. */
static void test_entries_sent_from_many_threads_arrive_whole(void **state)
{
    struct listener *listener = *state;
    pthread_t threads[SENDER_THREADS];
    struct sender senders[SENDER_THREADS];
    for (int i = 0; i < SENDER_THREADS; i++) {
        senders[i] = (struct sender){.path = listener->path, .thread = i};
        assert_int_equal(pthread_create(&threads[i], NULL, send_entries, &senders[i]), 0);
    }
    bool seen[SENDER_THREADS][ENTRIES_PER_THREAD] = {{false}};
    for (int received = 0; received < SENDER_THREADS * ENTRIES_PER_THREAD; received++) {
        char data[DATAGRAM_MAX];
        struct field parsed[ENTRY_FIELDS_MAX];
        assert_int_equal(parse_entry(data, receive(listener->fd, data, sizeof data), parsed), 2);
        int entry, thread;
        assert_true(parsed[0].binary);
        assert_int_equal(sscanf(parsed[0].value, "entry %d\nof a thread", &entry), 1);
        assert_int_equal(sscanf(parsed[1].value, "%d", &thread), 1);
        assert_true(thread >= 0 && thread < SENDER_THREADS);
        assert_true(entry >= 0 && entry < ENTRIES_PER_THREAD);
        assert_false(seen[thread][entry]);
        seen[thread][entry] = true;
    }
    for (int i = 0; i < SENDER_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(senders[i].failures, 0);
    }
}

#define SENDS_MAX 100000 /* a queue that never fills is a failure, not a hang */

/*
 * A journald that reads nothing (behind on a slow disk): once its queue is
 * full an entry is refused with EAGAIN, not waited for without end (the
 * reactor, which logs, serves every bus); once it reads again, entries go.
 */
static void test_a_journald_behind_is_not_waited_for(void **state)
{
    struct listener *listener = *state;
    struct iovec fields[] = {text_field("MESSAGE=alarm gas_high raised on gas-1"),
                             text_field("PRIORITY=4")};
    int sent = 0, sends = 0;
    while (sent == 0 && sends++ < SENDS_MAX)
        sent = journal_native_sendv_at(listener->path, fields, 2);
    assert_int_equal(sent, -EAGAIN);
    assert_int_equal(journal_native_sendv_at(listener->path, fields, 2), -EAGAIN);
    char data[DATAGRAM_MAX];
    while (recv(listener->fd, data, sizeof data, MSG_DONTWAIT) > 0) {
    }
    assert_int_equal(journal_native_sendv_at(listener->path, fields, 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_field_is_a_line_of_name_equals_value,
                                        start_listener, stop_listener),
        cmocka_unit_test_setup_teardown(test_equals_sign_in_a_value_stays_in_the_value,
                                        start_listener, stop_listener),
        cmocka_unit_test_setup_teardown(test_multi_line_value_goes_in_the_binary_form,
                                        start_listener, stop_listener),
        cmocka_unit_test_setup_teardown(test_field_without_equals_sign_is_refused_and_nothing_sent,
                                        start_listener, stop_listener),
        cmocka_unit_test_setup_teardown(test_entry_too_big_for_a_datagram_is_refused_with_emsgsize,
                                        start_listener, stop_listener),
        cmocka_unit_test_setup_teardown(test_without_a_listening_journald_the_entry_is_refused,
                                        start_listener, stop_listener),
        cmocka_unit_test_setup_teardown(test_entries_sent_from_many_threads_arrive_whole,
                                        start_listener, stop_listener),
        cmocka_unit_test_setup_teardown(test_a_journald_behind_is_not_waited_for, start_listener,
                                        stop_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
