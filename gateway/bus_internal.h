/*
 * bus_internal.h — what bus.c (the decisions) and bus_steps.c (a bus's
 * non-blocking steps on the reactor thread) share: struct bus and the
 * decisions the steps call. Not for other modules: they see a bus through
 * bus.h.
 */
#ifndef SAFETYGW_BUS_INTERNAL_H
#define SAFETYGW_BUS_INTERNAL_H

#include <modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alarm.h"
#include "bus.h"
#include "device_poll.h"
#include "line_open.h"
#include "link_watch.h"
#include "modbus_pdu.h"
#include "reactor.h"
#include "schedule.h"

#define BUS_COMMAND_QUEUE 16 /* operator commands waiting for their bus */

struct pending_command {
    struct device *device;
    struct command command;
};

/* A bus's step under way (the reactor thread's). */
enum exchange_stage {
    EXCHANGE_IDLE,       /* nothing on the wire */
    EXCHANGE_CONNECTING, /* tcp: a non-blocking connect, waiting for EPOLLOUT */
    EXCHANGE_GAP,        /* a request waits for gap_ms since the last one (rtu: and t3.5) */
    EXCHANGE_AWAITING,   /* a request sent, its reply awaited until the deadline */
};

/* Why a request is on the wire. */
enum exchange_purpose {
    FOR_POLL,      /* one read of the polled device's plan */
    FOR_INTERLOCK, /* the interlock of an alarm the last poll raised */
    FOR_COMMAND,   /* an operator's action */
};

/* A bus's one request on the wire. */
struct bus_exchange {
    enum exchange_stage stage;
    enum exchange_purpose purpose;
    uint8_t unit;
    uint8_t request[MODBUS_PDU_MAX];
    size_t request_length;
    uint8_t reply[MODBUS_PDU_MAX];
    uint64_t ready_since_us; /* when it was ready to go, but for the gap */
    uint64_t started_us;
    int send_error; /* the request could not go out: answered at the next turn */
    /* a write's */
    const struct action_def *action;
    int first_address;
};

/* A poll under way: its plan's reads, one after another. */
struct poll_run {
    bool active;
    struct device *device;
    uint64_t due_ms;
    uint64_t start_ms;
    size_t request; /* of the device's plan, on the wire or next */
    uint64_t busy_us;
    struct poll_outcome outcome;
};

/*
 * What follows a poll's I/O, kept so that a bus can leave it while an
 * interlock's write is on the wire and take it up again at its reply.
 */
struct finishing {
    bool active;
    struct device *device;
    struct poll_outcome outcome;
    struct alarm_decisions decisions;
    size_t next_event;  /* of decisions: the first not handed over yet */
    bool event_started; /* ... its interlock is under way */
    bool link_changed;
    uint64_t now_ms;
    uint64_t due_ms;
    uint64_t wall_ms;
    char action_error[256];
};

struct bus {
    const struct bus_def *def;
    struct device **devices; /* this bus's devices (owned by the runtime) */
    size_t device_count;

    /* the reactor thread's alone, while the bus is joined (main's before and after) */
    size_t offline_count; /* devices offline now */
    struct schedule schedule;
    uint16_t *poll_registers;    /* scratch for one poll, sized for the largest read plan */
    double *poll_values;         /* ... and profile */
    struct alarm_event *decided; /* one poll's alarm events, room for the most rules */
    modbus_t *ctx;
    bool link_up;
    uint32_t connect_failures; /* in a row */
    struct bus_down down;
    char *down_locations; /* the locations bus_down named when raised (its clear repeats them) */
    bool recovering;      /* bus_down just cleared: every device is polled again at once */
    double fast_share;    /* of the bus's time, taken by devices polled fast (alarm.h) */
    uint32_t reconnect_backoff_ms;
    uint64_t next_connect_ms;
    struct bus_pacing pacing;
    struct tcp_link tcp; /* a tcp bus's transactions (pacing.tcp points here) */
    struct finishing finishing;
    struct reactor_member member;
    bool joined; /* main's: the reactor serves the bus */
    atomic_bool stopping;
    struct bus_exchange exchange;
    struct poll_run poll;
    int connecting_fd;          /* tcp: a connect under way, or -1 */
    struct line_open line_open; /* rtu: the tty's opening, off the reactor thread */
    bool command_running;
    struct pending_command command; /* the one running */
    char command_error[256];
    struct link_watch watch;
    bool link_failed; /* the link could not be opened since it was last open */
    /* pacing.late_replies already counted on their devices */
    uint64_t late_replies_seen;
    uint64_t state_epoch; /* publish_connection_epoch when states were last all sent */
    bool owed;            /* some device's state_owed or telemetry_owed is set */
    bool stall_for_test;  /* SAFETYGW_TEST_STALL_BUS names this bus: play a stuck thread */

    pthread_mutex_t snapshot_lock;
    struct bus_stats stats; /* under snapshot_lock */

    pthread_mutex_t inbox_lock;
    struct pending_command commands[BUS_COMMAND_QUEUE]; /* ring, under inbox_lock */
    size_t command_first;
    size_t command_count;

    _Atomic uint64_t heartbeat_ms; /* monotonic; the watchdog checks it */
};

/* What a bus does next: a command, a poll, or wait (until until_ms, or a command). */
enum bus_work_kind { WORK_COMMAND, WORK_POLL, WORK_WAIT };

struct bus_work {
    enum bus_work_kind kind;
    struct device *device; /* WORK_POLL: taken off the schedule */
    uint64_t until_ms;     /* WORK_WAIT */
};

/* --- bus.c: the decisions --- */

/* The link is open (fd: a tcp bus's connected socket): pacing, state, statistics. */
void bus_link_opened(struct bus *bus, int fd);

/* The link cannot be opened (error_number says why): logged, reconnect scheduled. */
void bus_link_open_failed(struct bus *bus, uint64_t now_ms, int error_number);

/* The link is lost: closed, reopened after the back-off. */
void bus_close_link(struct bus *bus, uint64_t now_ms);

/* A poll's I/O is over: its outcome recorded and watched (now_ms: its start). */
void bus_finish_poll_begin(struct bus *bus, struct device *device,
                           const struct poll_outcome *outcome, uint64_t now_ms, uint64_t due_ms);

/* The rest of the poll's finishing; false while an interlock's write is under way. */
bool bus_finish_poll_resume(struct bus *bus);

/* The alarm event's interlock is done (ok, or failed for error). */
void bus_interlock_done(const struct device *device, struct alarm_event *event, bool ok,
                        const char *error);

/* Commands first, then the device due, else how long to wait. */
struct bus_work bus_next_work(struct bus *bus, struct pending_command *command, uint64_t now_ms);

/* Starts a command: 0 done, -1 failed (error says why), 1 under way (a write on the wire). */
int bus_begin_command(struct bus *bus, const struct pending_command *pending, char *error,
                      size_t error_size);

/* A command is done: logged, its device's state and its result published. */
void bus_complete_command(struct bus *bus, const struct pending_command *pending, int result,
                          const char *error);

/* --- bus_steps.c: a bus's steps on the reactor thread --- */

/* The reactor's calls for a bus (reactor.h). */
extern const struct reactor_calls bus_step_calls;

/* Sends bus->exchange's request once gap_ms has passed (a write queued by bus.c). */
void bus_send_when_ready(struct bus *bus);

#endif
