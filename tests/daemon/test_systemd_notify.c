/*
 * Notifying systemd without libsystemd: READY=1 reaches a real datagram socket
 * named by NOTIFY_SOCKET (a path or an abstract name), and the watchdog period
 * is taken from WATCHDOG_USEC only for the process WATCHDOG_PID names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "scratch.h"
#include "systemd_notify.h"

#define RECEIVE_TIMEOUT_MS 5000

static int clean_environment(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return 0;
}

/* A datagram socket bound at name as NOTIFY_SOCKET spells it (a path, or "@" and a name). */
static int bind_receiver(const char *name)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    size_t name_length = strlen(name);
    assert_true(name_length < sizeof address.sun_path);
    memcpy(address.sun_path, name, name_length);
    if (name[0] == '@')
        address.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    socklen_t length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + name_length);
    if (bind(fd, (struct sockaddr *)&address, length) != 0)
        fail_msg("bind %s: %s", name, strerror(errno));
    return fd;
}

/* The next datagram, waited for up to RECEIVE_TIMEOUT_MS, as text. */
static void receive_text(int fd, char *text, size_t size)
{
    struct pollfd readable = {.fd = fd, .events = POLLIN};
    if (poll(&readable, 1, RECEIVE_TIMEOUT_MS) != 1)
        fail_msg("no notification within %d ms", RECEIVE_TIMEOUT_MS);
    ssize_t length = recv(fd, text, size - 1, 0);
    assert_true(length >= 0);
    text[length] = '\0';
}

static void test_ready_reaches_the_socket_at_the_path_in_notify_socket(void **state)
{
    (void)state;
    char *folder = scratch_folder();
    char path[4096];
    snprintf(path, sizeof path, "%s/notify", folder);
    int receiver = bind_receiver(path);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(systemd_notify("READY=1"), 1);
    char text[256];
    receive_text(receiver, text, sizeof text);
    assert_string_equal(text, "READY=1");
    close(receiver);
    scratch_remove(folder);
}

static void test_ready_reaches_an_abstract_socket_named_with_an_at_sign(void **state)
{
    (void)state;
    char name[108];
    snprintf(name, sizeof name, "@safetygw-test-notify-%ld", (long)getpid());
    int receiver = bind_receiver(name);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(systemd_notify("WATCHDOG=1"), 1);
    assert_int_equal(systemd_notify("STOPPING=1"), 1);
    char text[256];
    receive_text(receiver, text, sizeof text);
    assert_string_equal(text, "WATCHDOG=1");
    receive_text(receiver, text, sizeof text);
    assert_string_equal(text, "STOPPING=1");
    close(receiver);
}

static void test_without_notify_socket_notifying_does_nothing(void **state)
{
    (void)state;
    assert_int_equal(systemd_notify("READY=1"), 0);
}

static void test_notify_socket_nobody_listens_on_is_an_error(void **state)
{
    (void)state;
    char *folder = scratch_folder();
    char path[4096];
    snprintf(path, sizeof path, "%s/gone", folder);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(systemd_notify("READY=1"), -ENOENT);
    scratch_remove(folder);
}

static void test_notify_socket_neither_path_nor_abstract_is_refused(void **state)
{
    (void)state;
    setenv("NOTIFY_SOCKET", "run/notify", 1);
    assert_int_equal(systemd_notify("READY=1"), -EAFNOSUPPORT);
}

static void set_watchdog_pid(pid_t pid)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", (long)pid);
    setenv("WATCHDOG_PID", text, 1);
}

static void test_watchdog_usec_without_pid_is_for_this_process(void **state)
{
    (void)state;
    uint64_t usec = 0;
    setenv("WATCHDOG_USEC", "30000000", 1);
    assert_int_equal(systemd_watchdog_usec(&usec), 1);
    assert_int_equal(usec, 30000000);
}

static void test_watchdog_usec_with_this_pid_is_for_this_process(void **state)
{
    (void)state;
    uint64_t usec = 0;
    setenv("WATCHDOG_USEC", "1000000", 1);
    set_watchdog_pid(getpid());
    assert_int_equal(systemd_watchdog_usec(&usec), 1);
    assert_int_equal(usec, 1000000);
}

static void test_watchdog_of_another_pid_is_off(void **state)
{
    (void)state;
    uint64_t usec = 0;
    setenv("WATCHDOG_USEC", "1000000", 1); /* the parent's, inherited */
    set_watchdog_pid(getpid() + 1);
    assert_int_equal(systemd_watchdog_usec(&usec), 0);
    assert_int_equal(usec, 0);
}

static void test_without_watchdog_usec_the_watchdog_is_off(void **state)
{
    (void)state;
    uint64_t usec = 0;
    assert_int_equal(systemd_watchdog_usec(&usec), 0);
    set_watchdog_pid(getpid());
    assert_int_equal(systemd_watchdog_usec(&usec), 0);
    assert_int_equal(usec, 0);
}

static void test_malformed_watchdog_variables_are_refused(void **state)
{
    (void)state;
    uint64_t usec = 0;
    const char *const bad_usec[] = {"",
                                    "abc",
                                    "-1",
                                    " 1000000",
                                    "1000000x",
                                    "0",
                                    "18446744073709551615",
                                    "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad_usec / sizeof bad_usec[0]; i++) {
        setenv("WATCHDOG_USEC", bad_usec[i], 1);
        if (systemd_watchdog_usec(&usec) != -EINVAL)
            fail_msg("WATCHDOG_USEC=\"%s\" was not refused", bad_usec[i]);
    }
    setenv("WATCHDOG_USEC", "1000000", 1);
    const char *const bad_pid[] = {"", "abc", "0", "-1", "12x"};
    for (size_t i = 0; i < sizeof bad_pid / sizeof bad_pid[0]; i++) {
        setenv("WATCHDOG_PID", bad_pid[i], 1);
        if (systemd_watchdog_usec(&usec) != -EINVAL)
            fail_msg("WATCHDOG_PID=\"%s\" was not refused", bad_pid[i]);
    }
    assert_int_equal(usec, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ready_reaches_the_socket_at_the_path_in_notify_socket,
                               clean_environment),
        cmocka_unit_test_setup(test_ready_reaches_an_abstract_socket_named_with_an_at_sign,
                               clean_environment),
        cmocka_unit_test_setup(test_without_notify_socket_notifying_does_nothing,
                               clean_environment),
        cmocka_unit_test_setup(test_notify_socket_nobody_listens_on_is_an_error, clean_environment),
        cmocka_unit_test_setup(test_notify_socket_neither_path_nor_abstract_is_refused,
                               clean_environment),
        cmocka_unit_test_setup(test_watchdog_usec_without_pid_is_for_this_process,
                               clean_environment),
        cmocka_unit_test_setup(test_watchdog_usec_with_this_pid_is_for_this_process,
                               clean_environment),
        cmocka_unit_test_setup(test_watchdog_of_another_pid_is_off, clean_environment),
        cmocka_unit_test_setup(test_without_watchdog_usec_the_watchdog_is_off, clean_environment),
        cmocka_unit_test_setup(test_malformed_watchdog_variables_are_refused, clean_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
