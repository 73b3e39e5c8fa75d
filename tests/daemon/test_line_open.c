/*
 * An RS-485 line opened off the reactor thread (line_open.h), on a real
 * pseudo-terminal: the open runs on its own thread, wakes the bus's member
 * when it is done, and hands over the open tty or the reason it failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "line_open.h"
#include "modbus_open.h"
#include "reactor.h"

static void on_ready(struct reactor_member *member, uint32_t events, uint64_t now_us)
{
    (void)member, (void)events, (void)now_us;
}

static void on_call(struct reactor_member *member, uint64_t now_us)
{
    (void)member, (void)now_us;
}

static bool can_leave(struct reactor_member *member)
{
    (void)member;
    return true;
}

static const struct reactor_calls calls = {
    .ready = on_ready, .deadline = on_call, .wake = on_call, .can_leave = can_leave};

/* Takes the open once it is done: waits up to 3 s for it. */
static bool taken(struct line_open *open, int *error_number)
{
    for (int i = 0; i < 300; i++) {
        if (line_open_take(open, error_number))
            return true;
        struct timespec wait = {.tv_nsec = 10 * 1000000L};
        nanosleep(&wait, NULL);
    }
    return false;
}

static void open_line(const char *port, struct reactor_member *member, modbus_t **ctx,
                      int *error_number)
{
    struct bus_def line = {.type = BUS_RTU,
                           .port = (char *)port,
                           .baud = 9600,
                           .parity = 'N',
                           .data_bits = 8,
                           .stop_bits = 1,
                           .timeout_ms = 200};
    *ctx = modbus_open_context(&line);
    assert_non_null(*ctx);
    struct line_open open = {.running = false};
    assert_int_equal(line_open_begin(&open, *ctx, &line, member), 0);
    assert_true(taken(&open, error_number));
    assert_false(line_open_take(&open, error_number)); /* taken once */
}

static void test_a_line_is_opened_on_a_thread_that_wakes_the_bus(void **state)
{
    (void)state;
    int device = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(device >= 0);
    assert_int_equal(grantpt(device), 0);
    assert_int_equal(unlockpt(device), 0);
    _Atomic uint64_t heartbeat_ms = 0;
    struct reactor_member member;
    reactor_member_init(&member, &calls, NULL, &heartbeat_ms, 1);
    modbus_t *ctx;
    int error_number = -1;
    open_line(ptsname(device), &member, &ctx, &error_number);
    assert_int_equal(error_number, 0);
    assert_true(atomic_load(&member.woken));
    assert_true(modbus_get_socket(ctx) >= 0); /* the tty is open on the bus's context */
    modbus_close(ctx);
    modbus_free(ctx);
    close(device);
}

static void test_a_line_that_cannot_be_opened_says_why(void **state)
{
    (void)state;
    _Atomic uint64_t heartbeat_ms = 0;
    struct reactor_member member;
    reactor_member_init(&member, &calls, NULL, &heartbeat_ms, 1);
    modbus_t *ctx;
    int error_number = 0;
    open_line("/dev/safetygw-no-such-adapter", &member, &ctx, &error_number);
    assert_int_equal(error_number, ENOENT);
    assert_true(atomic_load(&member.woken));
    modbus_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_line_is_opened_on_a_thread_that_wakes_the_bus),
        cmocka_unit_test(test_a_line_that_cannot_be_opened_says_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
