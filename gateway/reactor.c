#include "reactor.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

#define EVENTS_PER_WAIT 128
#define IDLE_WAKE_US 250000u /* round the loop at least this often: the heartbeats */
/*
 * The heartbeats are stored at most this often: the watchdog reads them in
 * seconds, and storing every member's at each of the sample site's ~300
 * wake-ups a second was half the loop's own time (perf, bench/README.md).
 */
#define BEAT_EVERY_MS 100u
#define NS_PER_US 1000L
#define US_PER_S 1000000u

static struct {
    pthread_mutex_t lock;
    pthread_cond_t left; /* a member left */
    /* under lock */
    struct reactor_member *joining;
    size_t leave_requests;
    bool stop;
    /* main's (the one thread that joins and leaves) */
    pthread_t thread;
    bool running;
    size_t member_count;
    /* made with the first member and kept (a command may wake a bus at any time) */
    int epoll_fd;
    atomic_int wake_fd;
    /* the reactor thread's */
    struct reactor_member **members;
    size_t count;
    size_t capacity;
    struct timer_heap timers;
    uint64_t beaten_ms; /* when the heartbeats were last stored */
} reactor = {.lock = PTHREAD_MUTEX_INITIALIZER,
             .left = PTHREAD_COND_INITIALIZER,
             .epoll_fd = -1,
             .wake_fd = -1};

void reactor_member_init(struct reactor_member *member, const struct reactor_calls *calls,
                         void *owner, _Atomic uint64_t *heartbeat_ms, uint32_t slot_us)
{
    *member = (struct reactor_member){
        .calls = calls, .owner = owner, .heartbeat_ms = heartbeat_ms, .slot_us = slot_us, .fd = -1};
    timer_entry_init(&member->timer);
    atomic_init(&member->woken, false);
}

static void poke(void)
{
    uint64_t one = 1;
    int fd = atomic_load(&reactor.wake_fd);
    /* A full counter (never, in practice) still wakes the reactor. */
    if (fd >= 0 && write(fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_error("reactor: cannot wake its thread: %s", strerror(errno));
}

static void drain_wake_fd(void)
{
    uint64_t count;
    while (read(atomic_load(&reactor.wake_fd), &count, sizeof count) > 0) {
    }
}

void reactor_wake(struct reactor_member *member)
{
    atomic_store(&member->woken, true);
    poke();
}

void reactor_watch(struct reactor_member *member, int fd, uint32_t events)
{
    if (fd == member->fd && events == member->events)
        return;
    if (member->fd >= 0 && fd != member->fd) {
        epoll_ctl(reactor.epoll_fd, EPOLL_CTL_DEL, member->fd, NULL);
        member->fd = -1;
    }
    struct epoll_event event = {.events = events, .data.ptr = member};
    int operation = member->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (fd >= 0 && epoll_ctl(reactor.epoll_fd, operation, fd, &event) != 0)
        log_error("reactor: cannot watch descriptor %d: %s", fd, strerror(errno));
    member->fd = fd;
    member->events = fd >= 0 ? events : 0;
}

void reactor_at(struct reactor_member *member, uint64_t deadline_us)
{
    if (deadline_us == REACTOR_NO_DEADLINE) {
        timer_heap_remove(&reactor.timers, &member->timer);
        return;
    }
    uint64_t slot_us = member->slot_us ? member->slot_us : 1;
    timer_heap_set(&reactor.timers, &member->timer,
                   (deadline_us + slot_us - 1) / slot_us * slot_us);
}

/* --- the reactor thread --- */

static void beat(uint64_t now_ms)
{
    if (now_ms < reactor.beaten_ms + BEAT_EVERY_MS)
        return;
    reactor.beaten_ms = now_ms;
    for (size_t i = 0; i < reactor.count; i++)
        if (!reactor.members[i]->stalled && !reactor.members[i]->held)
            atomic_store_explicit(reactor.members[i]->heartbeat_ms, now_ms, memory_order_relaxed);
}

static int add_member(struct reactor_member *member)
{
    if (reactor.count == reactor.capacity) {
        size_t capacity = reactor.capacity ? 2 * reactor.capacity : 16;
        if (timer_heap_reserve(&reactor.timers, capacity) != 0)
            return -1;
        struct reactor_member **grown = realloc(reactor.members, capacity * sizeof *grown);
        if (!grown)
            return -1;
        reactor.members = grown;
        reactor.capacity = capacity;
    }
    reactor.members[reactor.count++] = member;
    member->reactor_knows = true;
    return 0;
}

static void drop_member(struct reactor_member *member)
{
    reactor_watch(member, -1, 0);
    timer_heap_remove(&reactor.timers, &member->timer);
    for (size_t i = 0; i < reactor.count; i++)
        if (reactor.members[i] == member) {
            reactor.members[i] = reactor.members[--reactor.count];
            break;
        }
    member->reactor_knows = false;
}

/* Members that joined since last looked; true when the thread is to end. */
static bool take_joining(struct reactor_member **joined)
{
    pthread_mutex_lock(&reactor.lock);
    *joined = reactor.joining;
    reactor.joining = NULL;
    bool stop = reactor.stop;
    pthread_mutex_unlock(&reactor.lock);
    return stop;
}

static void welcome(struct reactor_member *joined, uint64_t now_us)
{
    while (joined) {
        struct reactor_member *member = joined;
        joined = member->next;
        if (add_member(member) != 0) {
            log_error("reactor: out of memory: a bus cannot be served");
            continue;
        }
        atomic_store(member->heartbeat_ms, now_us / 1000u);
        if (!member->stalled)
            member->calls->wake(member, now_us);
    }
}

/* Members asked to leave that can: dropped, and their callers told. */
static void let_leave(void)
{
    pthread_mutex_lock(&reactor.lock);
    size_t requests = reactor.leave_requests;
    pthread_mutex_unlock(&reactor.lock);
    if (requests == 0)
        return;
    for (size_t i = 0; i < reactor.count;) {
        struct reactor_member *member = reactor.members[i];
        pthread_mutex_lock(&reactor.lock);
        bool asked = member->leave_requested;
        pthread_mutex_unlock(&reactor.lock);
        if (!asked || !(member->stalled || member->calls->can_leave(member))) {
            i++;
            continue;
        }
        drop_member(member); /* the last member takes this place: look at i again */
        pthread_mutex_lock(&reactor.lock);
        member->left = true;
        reactor.leave_requests--;
        pthread_cond_broadcast(&reactor.left);
        pthread_mutex_unlock(&reactor.lock);
    }
}

static void run_deadlines(uint64_t now_us)
{
    struct timer_entry *first;
    while ((first = timer_heap_first(&reactor.timers)) && first->deadline_us <= now_us) {
        struct reactor_member *member =
            (struct reactor_member *)((char *)first - offsetof(struct reactor_member, timer));
        timer_heap_remove(&reactor.timers, first);
        if (!member->stalled)
            member->calls->deadline(member, now_us);
    }
}

static void run_wakes(uint64_t now_us)
{
    for (size_t i = 0; i < reactor.count; i++) {
        struct reactor_member *member = reactor.members[i];
        if (atomic_load(&member->woken) && atomic_exchange(&member->woken, false) &&
            !member->stalled)
            member->calls->wake(member, now_us);
    }
}

/* How long epoll_pwait2 may sleep: to the first deadline (on its member's grid already). */
static struct timespec wait_for(uint64_t now_us)
{
    struct timer_entry *first = timer_heap_first(&reactor.timers);
    uint64_t until_us = now_us + IDLE_WAKE_US;
    if (first && first->deadline_us < until_us)
        until_us = first->deadline_us > now_us ? first->deadline_us : now_us;
    uint64_t wait_us = until_us - now_us;
    return (struct timespec){.tv_sec = (time_t)(wait_us / US_PER_S),
                             .tv_nsec = (long)(wait_us % US_PER_S) * NS_PER_US};
}

static void serve(const struct epoll_event *events, int count, uint64_t now_us)
{
    bool woken = false;
    for (int i = 0; i < count; i++) {
        struct reactor_member *member = events[i].data.ptr;
        if (!member) {
            woken = true;
            continue;
        }
        if (!member->stalled && member->fd >= 0)
            member->calls->ready(member, events[i].events, now_us);
    }
    if (woken) {
        drain_wake_fd();
        run_wakes(now_us);
    }
}

static void *reactor_thread(void *unused)
{
    (void)unused;
    struct epoll_event events[EVENTS_PER_WAIT];
    for (;;) {
        uint64_t now_us = time_monotonic_us();
        struct reactor_member *joined;
        if (take_joining(&joined))
            break;
        welcome(joined, now_us);
        let_leave();
        beat(now_us / 1000u);
        struct timespec wait = wait_for(now_us);
        int count = epoll_pwait2(reactor.epoll_fd, events, EVENTS_PER_WAIT, &wait, NULL);
        if (count < 0 && errno != EINTR) {
            log_error("reactor: epoll_pwait2: %s", strerror(errno));
            count = 0;
        }
        /* Replies first: one that came while the loop was held up is taken, not timed out. */
        now_us = time_monotonic_us();
        serve(events, count < 0 ? 0 : count, now_us);
        run_deadlines(now_us);
    }
    return NULL;
}

/* --- joining and leaving (main) --- */

/* The epoll set and the eventfd, made once: a wake-up may come from any thread at any time. */
static int make_fds(void)
{
    if (reactor.epoll_fd >= 0)
        return 0;
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wake = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_fd < 0 || wake_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake) != 0) {
        log_error("reactor: cannot set up epoll: %s", strerror(errno));
        if (epoll_fd >= 0)
            close(epoll_fd);
        if (wake_fd >= 0)
            close(wake_fd);
        return -1;
    }
    reactor.epoll_fd = epoll_fd;
    atomic_store(&reactor.wake_fd, wake_fd);
    return 0;
}

static int start_thread(void)
{
    if (make_fds() != 0)
        return -1;
    timer_heap_init(&reactor.timers);
    reactor.stop = false;
    int rc = pthread_create(&reactor.thread, NULL, reactor_thread, NULL);
    if (rc != 0) {
        log_error("reactor: cannot start its thread: %s", strerror(rc));
        return -1;
    }
    reactor.running = true;
    return 0;
}

static void stop_thread(void)
{
    pthread_mutex_lock(&reactor.lock);
    reactor.stop = true;
    pthread_mutex_unlock(&reactor.lock);
    poke();
    pthread_join(reactor.thread, NULL);
    reactor.running = false;
    free(reactor.members);
    reactor.members = NULL;
    reactor.count = reactor.capacity = 0;
    timer_heap_free(&reactor.timers);
}

int reactor_join(struct reactor_member *member)
{
    if (!reactor.running && start_thread() != 0)
        return -1;
    reactor.member_count++;
    pthread_mutex_lock(&reactor.lock);
    member->leave_requested = false;
    member->left = false;
    member->next = reactor.joining;
    reactor.joining = member;
    pthread_mutex_unlock(&reactor.lock);
    poke();
    return 0;
}

void reactor_leave(struct reactor_member *member)
{
    pthread_mutex_lock(&reactor.lock);
    member->leave_requested = true;
    reactor.leave_requests++;
    pthread_mutex_unlock(&reactor.lock);
    poke();
    pthread_mutex_lock(&reactor.lock);
    while (!member->left)
        pthread_cond_wait(&reactor.left, &reactor.lock);
    pthread_mutex_unlock(&reactor.lock);
    if (--reactor.member_count == 0)
        stop_thread();
}
