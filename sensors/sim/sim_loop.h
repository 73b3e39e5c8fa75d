/*
 * sim_loop.h — the simulator's one event loop: epoll for descriptors and a
 * binary heap of timers behind one timerfd (nanosecond precision, so replies
 * leave at their wire time). Single-threaded: everything the simulator owns
 * is touched only from callbacks of this loop, so nothing needs a lock.
 *
 * Watches and timers are embedded in their owner's struct; the loop never
 * allocates them, it only points at them.
 */
#ifndef SAFETYGW_SIM_LOOP_H
#define SAFETYGW_SIM_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define sim_container_of(pointer, type, member)                                                    \
    ((type *)(void *)((char *)(pointer)-offsetof(type, member)))

struct sim_watch;
typedef void sim_watch_fn(struct sim_watch *watch, uint32_t events);

struct sim_watch {
    int fd;
    sim_watch_fn *ready;
};

struct sim_timer;
typedef void sim_timer_fn(struct sim_timer *timer);

struct sim_timer {
    uint64_t due_ns; /* CLOCK_MONOTONIC */
    sim_timer_fn *fire;
    size_t heap_slot; /* 1-based position in the heap; 0 while not armed */
};

#define SIM_LOOP_BATCH 64

struct sim_loop {
    int epoll_fd;
    int timer_fd;
    struct sim_watch timer_watch;
    struct sim_timer **heap; /* heap[1..heap_count] */
    size_t heap_count;
    size_t heap_capacity;
    uint64_t timer_fd_due_ns; /* what timer_fd is armed for; 0 = disarmed */
    bool stop;
    /* Events of the batch being dispatched, so unwatching can forget later ones. */
    void *batch;
    int batch_count;
    int batch_index;
};

uint64_t sim_loop_now_ns(void);

int sim_loop_init(struct sim_loop *loop, char *error, size_t error_size);
void sim_loop_close(struct sim_loop *loop);

/* events: EPOLLIN / EPOLLOUT. The watch must stay valid until sim_loop_unwatch. */
int sim_loop_watch(struct sim_loop *loop, struct sim_watch *watch, uint32_t events);
void sim_loop_unwatch(struct sim_loop *loop, struct sim_watch *watch);

void sim_timer_init(struct sim_timer *timer, sim_timer_fn *fire);
bool sim_timer_armed(const struct sim_timer *timer);
/* Arms (or re-arms) the timer for due_ns. Returns -1 only when out of memory. */
int sim_loop_arm(struct sim_loop *loop, struct sim_timer *timer, uint64_t due_ns);
void sim_loop_disarm(struct sim_loop *loop, struct sim_timer *timer);

/* Dispatches until sim_loop_stop. Returns 0, or -1 when epoll itself fails. */
int sim_loop_run(struct sim_loop *loop);
void sim_loop_stop(struct sim_loop *loop);

#endif
