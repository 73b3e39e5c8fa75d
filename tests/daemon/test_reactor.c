/*
 * The reactor thread serves its members: a wake-up when one joins or is
 * woken, its deadline no earlier than set, its readable socket, and it lets
 * a member leave only once the member says nothing is under way. Heartbeats
 * are refreshed, but not a stalled member's.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "reactor.h"
#include "timeutil.h"

struct probe {
    struct reactor_member member;
    _Atomic uint64_t heartbeat_ms;
    atomic_int wakes;
    atomic_int deadlines;
    atomic_int readable;
    _Atomic uint64_t deadline_came_us;
    _Atomic uint64_t set_deadline_us; /* set on the next wake */
    atomic_bool busy;                 /* can_leave says no */
    bool hold;                        /* held from the first wake on */
    int fd;                           /* watched from the first wake */
};

static void on_ready(struct reactor_member *member, uint32_t events, uint64_t now_us)
{
    (void)now_us;
    struct probe *probe = member->owner;
    char byte;
    if ((events & EPOLLIN) && read(probe->fd, &byte, 1) == 1)
        atomic_fetch_add(&probe->readable, 1);
}

static void on_deadline(struct reactor_member *member, uint64_t now_us)
{
    struct probe *probe = member->owner;
    atomic_store(&probe->deadline_came_us, now_us);
    atomic_fetch_add(&probe->deadlines, 1);
}

static void on_wake(struct reactor_member *member, uint64_t now_us)
{
    (void)now_us;
    struct probe *probe = member->owner;
    if (probe->fd >= 0)
        reactor_watch(member, probe->fd, EPOLLIN);
    member->held = probe->hold;
    uint64_t deadline = atomic_exchange(&probe->set_deadline_us, 0);
    if (deadline)
        reactor_at(member, deadline);
    atomic_fetch_add(&probe->wakes, 1);
}

static bool can_leave(struct reactor_member *member)
{
    struct probe *probe = member->owner;
    return !atomic_load(&probe->busy);
}

static const struct reactor_calls calls = {
    .ready = on_ready, .deadline = on_deadline, .wake = on_wake, .can_leave = can_leave};

static void probe_on_grid(struct probe *probe, int fd, uint32_t slot_us)
{
    atomic_init(&probe->heartbeat_ms, 0);
    atomic_init(&probe->wakes, 0);
    atomic_init(&probe->deadlines, 0);
    atomic_init(&probe->readable, 0);
    atomic_init(&probe->deadline_came_us, 0);
    atomic_init(&probe->set_deadline_us, 0);
    atomic_init(&probe->busy, false);
    probe->hold = false;
    probe->fd = fd;
    reactor_member_init(&probe->member, &calls, probe, &probe->heartbeat_ms, slot_us);
}

static void probe_init(struct probe *probe, int fd)
{
    probe_on_grid(probe, fd, 1);
}

static void pause_ms(long ms)
{
    struct timespec wait = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&wait, NULL);
}

/* Waits up to 3 s for *counter to reach at least value. */
static bool reaches(atomic_int *counter, int value)
{
    for (int i = 0; i < 300; i++) {
        if (atomic_load(counter) >= value)
            return true;
        pause_ms(10);
    }
    return false;
}

static void test_a_member_is_woken_when_it_joins_and_when_asked(void **state)
{
    (void)state;
    struct probe probe;
    probe_init(&probe, -1);
    assert_int_equal(reactor_join(&probe.member), 0);
    assert_true(reaches(&probe.wakes, 1));
    reactor_wake(&probe.member);
    assert_true(reaches(&probe.wakes, 2));
    reactor_leave(&probe.member);
}

static void test_a_deadline_calls_the_member_no_earlier_than_it_was_set(void **state)
{
    (void)state;
    struct probe probe;
    probe_init(&probe, -1);
    uint64_t deadline_us = time_monotonic_us() + 50000;
    atomic_store(&probe.set_deadline_us, deadline_us);
    assert_int_equal(reactor_join(&probe.member), 0);
    assert_true(reaches(&probe.deadlines, 1));
    assert_true(atomic_load(&probe.deadline_came_us) >= deadline_us);
    pause_ms(60);
    assert_int_equal(atomic_load(&probe.deadlines), 1); /* once: a deadline is not repeated */
    reactor_leave(&probe.member);
}

static void test_a_deadline_comes_at_the_end_of_its_slot_on_the_members_grid(void **state)
{
    (void)state;
    struct probe probe;
    probe_on_grid(&probe, -1, 2000);
    uint64_t deadline_us = time_monotonic_us() / 2000 * 2000 + 50001; /* 1 us into a slot */
    atomic_store(&probe.set_deadline_us, deadline_us);
    assert_int_equal(reactor_join(&probe.member), 0);
    assert_true(reaches(&probe.deadlines, 1));
    assert_true(atomic_load(&probe.deadline_came_us) >= deadline_us - 1 + 2000);
    reactor_leave(&probe.member);
}

static void test_a_readable_socket_calls_the_member(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    struct probe probe;
    probe_init(&probe, fds[0]);
    assert_int_equal(reactor_join(&probe.member), 0);
    assert_true(reaches(&probe.wakes, 1));
    assert_int_equal(write(fds[1], "ab", 2), 2);
    assert_true(reaches(&probe.readable, 2));
    reactor_leave(&probe.member);
    close(fds[0]);
    close(fds[1]);
}

struct leaver {
    struct probe *probe;
    atomic_bool left;
};

static void *leave_in_thread(void *argument)
{
    struct leaver *leaver = argument;
    reactor_leave(&leaver->probe->member);
    atomic_store(&leaver->left, true);
    return NULL;
}

static void test_leave_waits_until_the_member_can_leave(void **state)
{
    (void)state;
    struct probe probe, other;
    probe_init(&probe, -1);
    probe_init(&other, -1);
    atomic_store(&probe.busy, true);
    assert_int_equal(reactor_join(&probe.member), 0);
    assert_int_equal(reactor_join(&other.member), 0);
    assert_true(reaches(&probe.wakes, 1));
    struct leaver leaver = {.probe = &probe};
    atomic_init(&leaver.left, false);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, leave_in_thread, &leaver), 0);
    pause_ms(100);
    assert_false(atomic_load(&leaver.left)); /* its step is under way */
    atomic_store(&probe.busy, false);
    reactor_wake(&other.member); /* any turn of the loop lets it go */
    pthread_join(thread, NULL);
    assert_true(atomic_load(&leaver.left));
    reactor_leave(&other.member);
}

/* Waits up to 3 s for the member's first heartbeat (its welcome); returns it. */
static uint64_t welcomed_ms(struct probe *probe)
{
    for (int i = 0; i < 300 && atomic_load(&probe->heartbeat_ms) == 0; i++)
        pause_ms(10);
    assert_true(atomic_load(&probe->heartbeat_ms) != 0);
    return atomic_load(&probe->heartbeat_ms);
}

/* Both joined, a while later both woken: live's heartbeat moved on, quiet's stayed. */
static void check_only_live_beats(struct probe *live, struct probe *quiet)
{
    assert_int_equal(reactor_join(&live->member), 0);
    assert_int_equal(reactor_join(&quiet->member), 0);
    uint64_t joined_ms = welcomed_ms(quiet);
    reactor_wake(&live->member);
    reactor_wake(&quiet->member);
    assert_true(reaches(&live->wakes, 2));
    for (int i = 0; i < 300 && atomic_load(&live->heartbeat_ms) <= joined_ms; i++)
        pause_ms(10);
    assert_true(atomic_load(&live->heartbeat_ms) > joined_ms);
    assert_int_equal(atomic_load(&quiet->heartbeat_ms), joined_ms);
}

static void test_heartbeats_are_refreshed_but_not_a_stalled_member_s(void **state)
{
    (void)state;
    struct probe live, stalled;
    probe_init(&live, -1);
    probe_init(&stalled, -1);
    stalled.member.stalled = true;
    check_only_live_beats(&live, &stalled);
    assert_int_equal(atomic_load(&stalled.wakes), 0); /* never served */
    reactor_leave(&stalled.member);
    reactor_leave(&live.member);
}

static void test_a_held_member_is_served_but_shows_no_life(void **state)
{
    (void)state;
    struct probe live, held;
    probe_init(&live, -1);
    probe_init(&held, -1);
    held.hold = true;
    check_only_live_beats(&live, &held);
    assert_true(reaches(&held.wakes, 2)); /* still served */
    reactor_leave(&held.member);
    reactor_leave(&live.member);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_member_is_woken_when_it_joins_and_when_asked),
        cmocka_unit_test(test_a_deadline_calls_the_member_no_earlier_than_it_was_set),
        cmocka_unit_test(test_a_deadline_comes_at_the_end_of_its_slot_on_the_members_grid),
        cmocka_unit_test(test_a_readable_socket_calls_the_member),
        cmocka_unit_test(test_leave_waits_until_the_member_can_leave),
        cmocka_unit_test(test_heartbeats_are_refreshed_but_not_a_stalled_member_s),
        cmocka_unit_test(test_a_held_member_is_served_but_shows_no_life),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
