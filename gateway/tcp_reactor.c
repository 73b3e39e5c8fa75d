#include "tcp_reactor.h"

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
#define IDLE_WAKE_MS 250 /* round the loop at least this often: the heartbeats */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t left; /* a member left */
    /* under lock */
    struct tcp_reactor_member *joining;
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
    struct tcp_reactor_member **members;
    size_t count;
    size_t capacity;
    struct timer_heap timers;
} reactor = {.lock = PTHREAD_MUTEX_INITIALIZER,
             .left = PTHREAD_COND_INITIALIZER,
             .epoll_fd = -1,
             .wake_fd = -1};

void tcp_reactor_member_init(struct tcp_reactor_member *member,
                             const struct tcp_reactor_calls *calls, void *owner,
                             _Atomic uint64_t *heartbeat_ms)
{
    *member = (struct tcp_reactor_member){
        .calls = calls, .owner = owner, .heartbeat_ms = heartbeat_ms, .fd = -1};
    timer_entry_init(&member->timer);
    atomic_init(&member->woken, false);
}

static void poke(void)
{
    uint64_t one = 1;
    int fd = atomic_load(&reactor.wake_fd);
    /* A full counter (never, in practice) still wakes the reactor. */
    if (fd >= 0 && write(fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_error("tcp reactor: cannot wake its thread: %s", strerror(errno));
}

static void drain_wake_fd(void)
{
    uint64_t count;
    while (read(atomic_load(&reactor.wake_fd), &count, sizeof count) > 0) {
    }
}

void tcp_reactor_wake(struct tcp_reactor_member *member)
{
    atomic_store(&member->woken, true);
    poke();
}

void tcp_reactor_watch(struct tcp_reactor_member *member, int fd, uint32_t events)
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
        log_error("tcp reactor: cannot watch socket %d: %s", fd, strerror(errno));
    member->fd = fd;
    member->events = fd >= 0 ? events : 0;
}

void tcp_reactor_at(struct tcp_reactor_member *member, uint64_t deadline_ms)
{
    if (deadline_ms == TCP_REACTOR_NO_DEADLINE)
        timer_heap_remove(&reactor.timers, &member->timer);
    else
        timer_heap_set(&reactor.timers, &member->timer, deadline_ms);
}

/* --- the reactor thread --- */

static void beat(uint64_t now_ms)
{
    for (size_t i = 0; i < reactor.count; i++)
        if (!reactor.members[i]->stalled)
            atomic_store(reactor.members[i]->heartbeat_ms, now_ms);
}

static int add_member(struct tcp_reactor_member *member)
{
    if (reactor.count == reactor.capacity) {
        size_t capacity = reactor.capacity ? 2 * reactor.capacity : 16;
        if (timer_heap_reserve(&reactor.timers, capacity) != 0)
            return -1;
        struct tcp_reactor_member **grown = realloc(reactor.members, capacity * sizeof *grown);
        if (!grown)
            return -1;
        reactor.members = grown;
        reactor.capacity = capacity;
    }
    reactor.members[reactor.count++] = member;
    member->reactor_knows = true;
    return 0;
}

static void drop_member(struct tcp_reactor_member *member)
{
    tcp_reactor_watch(member, -1, 0);
    timer_heap_remove(&reactor.timers, &member->timer);
    for (size_t i = 0; i < reactor.count; i++)
        if (reactor.members[i] == member) {
            reactor.members[i] = reactor.members[--reactor.count];
            break;
        }
    member->reactor_knows = false;
}

/* Members that joined since last looked; true when the thread is to end. */
static bool take_joining(struct tcp_reactor_member **joined)
{
    pthread_mutex_lock(&reactor.lock);
    *joined = reactor.joining;
    reactor.joining = NULL;
    bool stop = reactor.stop;
    pthread_mutex_unlock(&reactor.lock);
    return stop;
}

static void welcome(struct tcp_reactor_member *joined, uint64_t now_ms)
{
    while (joined) {
        struct tcp_reactor_member *member = joined;
        joined = member->next;
        if (add_member(member) != 0) {
            log_error("tcp reactor: out of memory: a bus cannot be served");
            continue;
        }
        atomic_store(member->heartbeat_ms, now_ms);
        if (!member->stalled)
            member->calls->wake(member, now_ms);
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
        struct tcp_reactor_member *member = reactor.members[i];
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

static void run_deadlines(uint64_t now_ms)
{
    struct timer_entry *first;
    while ((first = timer_heap_first(&reactor.timers)) && first->deadline_ms <= now_ms) {
        struct tcp_reactor_member *member =
            (struct tcp_reactor_member *)((char *)first -
                                          offsetof(struct tcp_reactor_member, timer));
        timer_heap_remove(&reactor.timers, first);
        if (!member->stalled)
            member->calls->deadline(member, now_ms);
    }
}

static void run_wakes(uint64_t now_ms)
{
    for (size_t i = 0; i < reactor.count; i++) {
        struct tcp_reactor_member *member = reactor.members[i];
        if (atomic_load(&member->woken) && atomic_exchange(&member->woken, false) &&
            !member->stalled)
            member->calls->wake(member, now_ms);
    }
}

/*
 * How long epoll_wait may sleep: to the first deadline rounded up to the
 * slot grid, so that deadlines close together are served by one wake-up.
 */
static int wait_ms(uint64_t now_ms)
{
    struct timer_entry *first = timer_heap_first(&reactor.timers);
    uint64_t until_ms = now_ms + IDLE_WAKE_MS;
    if (first && first->deadline_ms < until_ms) {
        uint64_t slot_ms = (first->deadline_ms + TCP_REACTOR_SLOT_MS - 1) / TCP_REACTOR_SLOT_MS *
                           TCP_REACTOR_SLOT_MS;
        until_ms = slot_ms > now_ms ? slot_ms : now_ms;
    }
    return (int)(until_ms - now_ms);
}

static void serve(const struct epoll_event *events, int count, uint64_t now_ms)
{
    bool woken = false;
    for (int i = 0; i < count; i++) {
        struct tcp_reactor_member *member = events[i].data.ptr;
        if (!member) {
            woken = true;
            continue;
        }
        if (!member->stalled && member->fd >= 0)
            member->calls->ready(member, events[i].events, now_ms);
    }
    if (woken) {
        drain_wake_fd();
        run_wakes(now_ms);
    }
}

static void *reactor_thread(void *unused)
{
    (void)unused;
    struct epoll_event events[EVENTS_PER_WAIT];
    for (;;) {
        uint64_t now_ms = time_monotonic_ms();
        struct tcp_reactor_member *joined;
        if (take_joining(&joined))
            break;
        welcome(joined, now_ms);
        let_leave();
        beat(now_ms);
        int count = epoll_wait(reactor.epoll_fd, events, EVENTS_PER_WAIT, wait_ms(now_ms));
        if (count < 0 && errno != EINTR) {
            log_error("tcp reactor: epoll_wait: %s", strerror(errno));
            count = 0;
        }
        /* Replies first: one that came while the loop was held up is taken, not timed out. */
        now_ms = time_monotonic_ms();
        serve(events, count < 0 ? 0 : count, now_ms);
        run_deadlines(now_ms);
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
        log_error("tcp reactor: cannot set up epoll: %s", strerror(errno));
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
        log_error("tcp reactor: cannot start its thread: %s", strerror(rc));
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

int tcp_reactor_join(struct tcp_reactor_member *member)
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

void tcp_reactor_leave(struct tcp_reactor_member *member)
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
