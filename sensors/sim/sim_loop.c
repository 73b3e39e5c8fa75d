#include "sim_loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

uint64_t sim_loop_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

static void heap_swap(struct sim_loop *loop, size_t a, size_t b)
{
    struct sim_timer *timer = loop->heap[a];
    loop->heap[a] = loop->heap[b];
    loop->heap[b] = timer;
    loop->heap[a]->heap_slot = a;
    loop->heap[b]->heap_slot = b;
}

static void heap_up(struct sim_loop *loop, size_t slot)
{
    while (slot > 1 && loop->heap[slot / 2]->due_ns > loop->heap[slot]->due_ns) {
        heap_swap(loop, slot, slot / 2);
        slot /= 2;
    }
}

static void heap_down(struct sim_loop *loop, size_t slot)
{
    for (;;) {
        size_t smallest = slot;
        size_t left = 2 * slot, right = 2 * slot + 1;
        if (left <= loop->heap_count && loop->heap[left]->due_ns < loop->heap[smallest]->due_ns)
            smallest = left;
        if (right <= loop->heap_count && loop->heap[right]->due_ns < loop->heap[smallest]->due_ns)
            smallest = right;
        if (smallest == slot)
            return;
        heap_swap(loop, slot, smallest);
        slot = smallest;
    }
}

/* Keeps timer_fd armed for the earliest timer, touching it only when that changes. */
static void timer_fd_update(struct sim_loop *loop)
{
    uint64_t due_ns = loop->heap_count > 0 ? loop->heap[1]->due_ns : 0;
    if (due_ns == loop->timer_fd_due_ns)
        return;
    struct itimerspec spec = {0};
    if (due_ns != 0) {
        spec.it_value.tv_sec = (time_t)(due_ns / 1000000000ULL);
        spec.it_value.tv_nsec = (long)(due_ns % 1000000000ULL);
    }
    if (timerfd_settime(loop->timer_fd, TFD_TIMER_ABSTIME, &spec, NULL) != 0)
        log_error("safetygw-sim: timerfd_settime: %s", strerror(errno));
    loop->timer_fd_due_ns = due_ns;
}

static void fire_due_timers(struct sim_watch *watch, uint32_t events)
{
    (void)events;
    struct sim_loop *loop = sim_container_of(watch, struct sim_loop, timer_watch);
    uint64_t expirations;
    if (read(loop->timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        log_error("safetygw-sim: reading timerfd: %s", strerror(errno));
    uint64_t now_ns = sim_loop_now_ns();
    while (loop->heap_count > 0 && loop->heap[1]->due_ns <= now_ns) {
        struct sim_timer *timer = loop->heap[1];
        sim_loop_disarm(loop, timer);
        timer->fire(timer);
    }
    timer_fd_update(loop);
}

int sim_loop_init(struct sim_loop *loop, char *error, size_t error_size)
{
    memset(loop, 0, sizeof *loop);
    loop->epoll_fd = loop->timer_fd = -1;
    loop->batch = calloc(SIM_LOOP_BATCH, sizeof(struct epoll_event));
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (loop->batch == NULL || loop->epoll_fd < 0 || loop->timer_fd < 0) {
        snprintf(error, error_size, "creating the event loop (epoll, timerfd): %s",
                 strerror(errno));
        sim_loop_close(loop);
        return -1;
    }
    loop->timer_watch.fd = loop->timer_fd;
    loop->timer_watch.ready = fire_due_timers;
    return sim_loop_watch(loop, &loop->timer_watch, EPOLLIN) == 0 ? 0 : -1;
}

void sim_loop_close(struct sim_loop *loop)
{
    if (loop->epoll_fd >= 0)
        close(loop->epoll_fd);
    if (loop->timer_fd >= 0)
        close(loop->timer_fd);
    free(loop->heap);
    free(loop->batch);
    memset(loop, 0, sizeof *loop);
    loop->epoll_fd = loop->timer_fd = -1;
}

int sim_loop_watch(struct sim_loop *loop, struct sim_watch *watch, uint32_t events)
{
    struct epoll_event event = {.events = events, .data.ptr = watch};
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, watch->fd, &event) != 0) {
        log_error("safetygw-sim: epoll_ctl add fd %d: %s", watch->fd, strerror(errno));
        return -1;
    }
    return 0;
}

void sim_loop_unwatch(struct sim_loop *loop, struct sim_watch *watch)
{
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
    /* The owner may free the watch now: forget events of this batch still naming it. */
    struct epoll_event *batch = loop->batch;
    for (int i = loop->batch_index + 1; i < loop->batch_count; i++)
        if (batch[i].data.ptr == watch)
            batch[i].data.ptr = NULL;
}

void sim_timer_init(struct sim_timer *timer, sim_timer_fn *fire)
{
    timer->due_ns = 0;
    timer->fire = fire;
    timer->heap_slot = 0;
}

bool sim_timer_armed(const struct sim_timer *timer)
{
    return timer->heap_slot != 0;
}

static int heap_reserve(struct sim_loop *loop)
{
    if (loop->heap_count + 1 < loop->heap_capacity)
        return 0;
    size_t capacity = loop->heap_capacity == 0 ? 64 : loop->heap_capacity * 2;
    struct sim_timer **heap = realloc(loop->heap, capacity * sizeof *heap);
    if (heap == NULL) {
        log_error("safetygw-sim: out of memory for %zu timers", capacity);
        return -1;
    }
    loop->heap = heap;
    loop->heap_capacity = capacity;
    return 0;
}

int sim_loop_arm(struct sim_loop *loop, struct sim_timer *timer, uint64_t due_ns)
{
    if (sim_timer_armed(timer))
        sim_loop_disarm(loop, timer);
    if (heap_reserve(loop) != 0)
        return -1;
    timer->due_ns = due_ns != 0 ? due_ns : 1;
    timer->heap_slot = ++loop->heap_count;
    loop->heap[timer->heap_slot] = timer;
    heap_up(loop, timer->heap_slot);
    timer_fd_update(loop);
    return 0;
}

void sim_loop_disarm(struct sim_loop *loop, struct sim_timer *timer)
{
    size_t slot = timer->heap_slot;
    if (slot == 0)
        return;
    heap_swap(loop, slot, loop->heap_count);
    loop->heap_count--;
    timer->heap_slot = 0;
    if (slot <= loop->heap_count) {
        heap_up(loop, slot);
        heap_down(loop, slot);
    }
    timer_fd_update(loop);
}

int sim_loop_run(struct sim_loop *loop)
{
    struct epoll_event *batch = loop->batch;
    loop->stop = false;
    while (!loop->stop) {
        int count = epoll_wait(loop->epoll_fd, batch, SIM_LOOP_BATCH, -1);
        if (count < 0) {
            if (errno == EINTR)
                continue;
            log_error("safetygw-sim: epoll_wait: %s", strerror(errno));
            return -1;
        }
        loop->batch_count = count;
        for (loop->batch_index = 0; loop->batch_index < count; loop->batch_index++) {
            struct sim_watch *watch = batch[loop->batch_index].data.ptr;
            if (watch != NULL)
                watch->ready(watch, batch[loop->batch_index].events);
        }
        loop->batch_count = 0;
    }
    return 0;
}

void sim_loop_stop(struct sim_loop *loop)
{
    loop->stop = true;
}
