/*
 * bus_steps.c — a bus's steps on the reactor thread (reactor.h), none of
 * which waits. A tcp bus: a non-blocking connect (EINPROGRESS, then
 * EPOLLOUT), a request sent once gap_ms has passed, its reply taken when the
 * socket is readable (tcp_link.c frames it), a timeout when the deadline
 * comes first. An rtu bus: its tty opened (libmodbus sets the line up, which
 * does not wait), a request written once the line has been silent for t3.5 +
 * gap_ms (a deadline, then a read that finds the tty empty; bytes that come
 * meanwhile are dropped, counted and start the silence again), its reply
 * read when the tty is readable (rtu_link.c frames it and says when to look
 * again). A poll's reads, an interlock's write and an operator's write are
 * all such exchanges on the bus's link, one at a time. Around them, the
 * decisions of bus.c (through bus_internal.h).
 *
 * Owner: the reactor thread, while the bus is joined to it.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "action.h"
#include "bus_internal.h"
#include "line_open.h"
#include "log.h"
#include "modbus_error.h"
#include "rtu_silence.h"
#include "timeutil.h"

#define US_PER_MS 1000u

static void steps_next(struct bus *bus, uint64_t now_ms);
static void poll_send(struct bus *bus);

/* The link's descriptor: the converter's socket or the line's tty (-1: closed). */
static int link_fd(const struct bus *bus)
{
    return bus->def->type == BUS_RTU ? bus->pacing.fd : bus->tcp.fd;
}

/* The link watched for what comes: a socket while open, a tty after a reply till stray bytes. */
static void listen_on_link(struct bus *bus)
{
    if (link_fd(bus) >= 0)
        reactor_watch(&bus->member, link_fd(bus), EPOLLIN);
}

/* After any step: the poll's finishing taken up again, or the next work begun. */
static void steps_continue(struct bus *bus, uint64_t now_ms)
{
    if (bus->exchange.stage != EXCHANGE_IDLE || bus->poll.active || bus->command_running)
        return;
    if (bus->finishing.active && !bus_finish_poll_resume(bus))
        return;
    steps_next(bus, now_ms);
}

/* When the link may carry the next request: gap_ms after the last, on rtu after t3.5 too. */
static uint64_t ready_us(const struct bus *bus)
{
    const struct bus_pacing *pacing = &bus->pacing;
    if (pacing->last_request_end_us == 0)
        return 0;
    return pacing->last_request_end_us + pacing->silence_us + (uint64_t)pacing->gap_ms * US_PER_MS;
}

/*
 * rtu: drains what came on the line while it should have been silent; true
 * when bytes came. They are counted as a late reply and the silence starts
 * again from now, unless a request has waited RTU_SILENCE_MAX_WAIT_US for a
 * babbling line to fall silent (it goes anyway).
 */
static bool stray_bytes_drained(struct bus *bus, uint64_t now_us)
{
    struct rtu_stray stray = {.first_byte = -1};
    if (bus->pacing.fd < 0 || rtu_silence_drain(bus->pacing.fd, &stray) == 0)
        return false;
    bool waits_on = bus->exchange.stage == EXCHANGE_IDLE ||
                    now_us - bus->exchange.ready_since_us < RTU_SILENCE_MAX_WAIT_US;
    stray.gave_up = !waits_on;
    device_poll_note_stray(&bus->pacing, &stray);
    if (waits_on)
        bus->pacing.last_request_end_us = now_us;
    return true;
}

/*
 * rtu: the silence proven before a request. A tty watched since the last
 * frame showed every byte that came (rtu_ready); one that was not (after
 * stray bytes on an idle line, so that a noisy line wakes nobody) is drained
 * now: empty, it was silent. True when bytes came and the silence restarts.
 */
static bool line_not_silent(struct bus *bus, uint64_t now_us)
{
    return !(bus->member.events & EPOLLIN) && stray_bytes_drained(bus, now_us) &&
           now_us < ready_us(bus);
}

/* The exchange's request to the link: 0, or -1 with errno. */
static int link_send(struct bus *bus)
{
    struct bus_exchange *exchange = &bus->exchange;
    if (bus->def->type == BUS_TCP)
        return tcp_link_send(&bus->tcp, exchange->unit, exchange->request,
                             exchange->request_length);
    bus->pacing.rtu.fd = bus->pacing.fd; /* the bus opens and closes the tty */
    return rtu_link_send(&bus->pacing.rtu, exchange->unit, exchange->request,
                         exchange->request_length);
}

/* The awaited reply's deadline, and on rtu what the line is watched for meanwhile. */
static void await_reply(struct bus *bus, uint64_t now_us)
{
    if (bus->def->type == BUS_TCP) {
        reactor_at(&bus->member, now_us + (uint64_t)bus->def->timeout_ms * US_PER_MS);
        return;
    }
    const struct rtu_link *rtu = &bus->pacing.rtu;
    reactor_watch(&bus->member, bus->pacing.fd, rtu->wait_readable ? EPOLLIN : 0);
    reactor_at(&bus->member, rtu->wait_until_us);
}

/*
 * Sends the exchange's request once the link may carry it. A failed send is
 * not answered here but at the next turn of the reactor (its deadline is
 * now), so that no step ever calls back into its caller.
 */
static void send_if_ready(struct bus *bus, uint64_t now_us)
{
    struct bus_exchange *exchange = &bus->exchange;
    if (now_us < ready_us(bus) || (bus->def->type == BUS_RTU && line_not_silent(bus, now_us))) {
        exchange->stage = EXCHANGE_GAP;
        reactor_at(&bus->member, ready_us(bus));
        return;
    }
    exchange->stage = EXCHANGE_AWAITING;
    exchange->started_us = now_us;
    exchange->send_error = 0;
    if (exchange->request_length == 0)
        exchange->send_error = EMBMDATA;
    else if (link_send(bus) != 0)
        exchange->send_error = errno;
    if (exchange->send_error)
        reactor_at(&bus->member, 0);
    else
        await_reply(bus, now_us);
}

void bus_send_when_ready(struct bus *bus)
{
    bus->exchange.ready_since_us = time_monotonic_us();
    send_if_ready(bus, bus->exchange.ready_since_us);
}

/* A write's reply (or its failure, error_number): 0 or -1 with the reason in error. */
static int write_result(struct bus *bus, int length, int error_number, char *error,
                        size_t error_size)
{
    struct bus_exchange *exchange = &bus->exchange;
    int result = -1;
    if (length >= 0) {
        result = modbus_pdu_write_reply(exchange->reply, (size_t)length, exchange->request);
        error_number = result == 0 ? 0 : errno;
    }
    device_poll_request_done(&bus->pacing,
                             result == 0 ? REQUEST_ANSWERED : device_poll_request_end(error_number),
                             exchange->unit);
    if (result != 0)
        action_failure(exchange->action, exchange->first_address, error_number, error, error_size);
    return result;
}

/* The poll's I/O is over (bus->poll.outcome says how). */
static void poll_io_done(struct bus *bus)
{
    struct poll_run *poll = &bus->poll;
    poll->active = false;
    bus_finish_poll_begin(bus, poll->device, &poll->outcome, poll->start_ms, poll->due_ms);
}

/* A read's reply (or its failure): the next read of the plan, or the poll's end. */
static void poll_reply(struct bus *bus, int length, int error_number)
{
    struct poll_run *poll = &bus->poll;
    const struct device *device = poll->device;
    const struct read_request *request = &device->plan->requests[poll->request];
    int count = -1;
    if (length >= 0) {
        count = modbus_pdu_read_reply(bus->exchange.reply, (size_t)length, request->table,
                                      request->count, bus->poll_registers + request->buffer_offset);
        error_number = count == request->count ? 0 : count < 0 ? errno : EMBBADDATA;
    }
    device_poll_request_done(
        &bus->pacing, error_number == 0 ? REQUEST_ANSWERED : device_poll_request_end(error_number),
        device->def->address);
    poll->busy_us += bus->pacing.last_request_end_us - bus->exchange.started_us;
    poll->outcome.latency_us = (uint32_t)poll->busy_us;
    if (error_number != 0) {
        log_device(LOG_DEBUG, device->def->id,
                   "device %s (address %u): read of %u at %s %u failed: %s", device->def->id,
                   device->def->address, request->count, point_table_name(request->table),
                   request->address, modbus_strerror(error_number));
        device_poll_note_failure(&poll->outcome, error_number);
    } else if (++poll->request < device->plan->request_count) {
        poll_send(bus);
        return;
    } else {
        device_poll_decode(device, bus->poll_registers, bus->poll_values);
    }
    poll_io_done(bus);
}

/* The exchange on the wire ended: a reply of length bytes, or -1 and error_number. */
static void exchange_done(struct bus *bus, int length, int error_number, uint64_t now_ms)
{
    struct bus_exchange *exchange = &bus->exchange;
    exchange->stage = EXCHANGE_IDLE;
    reactor_at(&bus->member, REACTOR_NO_DEADLINE);
    if (bus->def->type == BUS_RTU && exchange->send_error == 0)
        listen_on_link(bus); /* the rest of a reply may have been awaited unwatched */
    struct finishing *finishing = &bus->finishing;
    switch (exchange->purpose) {
    case FOR_POLL:
        poll_reply(bus, length, error_number);
        break;
    case FOR_INTERLOCK: {
        int result = write_result(bus, length, error_number, finishing->action_error,
                                  sizeof finishing->action_error);
        bus_interlock_done(finishing->device, &finishing->decisions.events[finishing->next_event],
                           result == 0, finishing->action_error);
        break;
    }
    case FOR_COMMAND: {
        int result =
            write_result(bus, length, error_number, bus->command_error, sizeof bus->command_error);
        bus->command_running = false;
        bus_complete_command(bus, &bus->command, result, bus->command_error);
        break;
    }
    }
    /* A write's lost connection is closed as a poll's is (bus_finish_poll_begin). */
    if (exchange->purpose != FOR_POLL && length < 0 && bus->link_up &&
        modbus_error_classify(error_number) == MODBUS_ERROR_LINK_LOST)
        bus_close_link(bus, now_ms);
    steps_continue(bus, now_ms);
}

static void poll_send(struct bus *bus)
{
    const struct device *device = bus->poll.device;
    const struct read_request *request = &device->plan->requests[bus->poll.request];
    struct bus_exchange *exchange = &bus->exchange;
    exchange->purpose = FOR_POLL;
    exchange->unit = device->def->address;
    exchange->request_length = modbus_pdu_read_request(request->table, request->address,
                                                       request->count, exchange->request);
    bus_send_when_ready(bus);
}

/*
 * A non-blocking connect to the bus's converter: 0 connected, 1 under way
 * (fd becomes writable when it is done), -1 with errno. A converter is
 * configured by its address (config_bus.c): getaddrinfo only parses it, and
 * never asks DNS, which could keep every bus waiting.
 */
static int tcp_socket_connect(const struct bus_def *def, int *fd_out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    char service[8];
    snprintf(service, sizeof service, "%u", def->tcp_port);
    struct addrinfo *found = NULL;
    int looked_up = getaddrinfo(def->host, service, &hints, &found);
    if (looked_up != 0) {
        errno = looked_up == EAI_SYSTEM ? errno : EHOSTUNREACH;
        return -1;
    }
    int result = -1, error_number = ECONNREFUSED;
    for (struct addrinfo *address = found; address && result < 0; address = address->ai_next) {
        int fd = socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        address->ai_protocol);
        if (fd < 0) {
            error_number = errno;
            continue;
        }
        int on = 1; /* a request is one small segment: never hold it back */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        if (connect(fd, address->ai_addr, address->ai_addrlen) == 0 || errno == EINPROGRESS) {
            result = errno == EINPROGRESS ? 1 : 0;
            *fd_out = fd;
        } else {
            error_number = errno;
            close(fd);
        }
    }
    freeaddrinfo(found);
    if (result < 0)
        errno = error_number;
    return result;
}

/* Opens the link for the poll under way: true while the connect is under way. */
static bool tcp_connect_begin(struct bus *bus, uint64_t now_ms)
{
    int fd = -1;
    int result = tcp_socket_connect(bus->def, &fd);
    if (result < 0) {
        bus_link_open_failed(bus, now_ms, errno);
        return false;
    }
    if (result == 0) {
        bus_link_opened(bus, fd);
        return false;
    }
    bus->connecting_fd = fd;
    bus->exchange.stage = EXCHANGE_CONNECTING;
    reactor_watch(&bus->member, fd, EPOLLOUT);
    reactor_at(&bus->member, (now_ms + bus->def->timeout_ms) * US_PER_MS);
    return true;
}

/* The link's opening ended (error_number 0: open; fd: tcp's socket): the poll goes on, or fails. */
static void link_open_done(struct bus *bus, int fd, int error_number, uint64_t now_ms)
{
    bus->exchange.stage = EXCHANGE_IDLE;
    reactor_at(&bus->member, REACTOR_NO_DEADLINE);
    if (error_number == 0) {
        bus_link_opened(bus, fd);
        poll_send(bus);
        return;
    }
    bus_link_open_failed(bus, now_ms, error_number);
    bus->poll.outcome =
        (struct poll_outcome){.result = DEVICE_POLL_FAILED, .error_class = MODBUS_ERROR_LINK_LOST};
    poll_io_done(bus);
    steps_continue(bus, now_ms);
}

/* The connect ended (error_number 0: ask the socket how). */
static void tcp_connect_done(struct bus *bus, int error_number, uint64_t now_ms)
{
    int fd = bus->connecting_fd;
    bus->connecting_fd = -1;
    socklen_t length = sizeof error_number;
    if (error_number == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error_number, &length) != 0)
        error_number = errno;
    if (error_number != 0) {
        reactor_watch(&bus->member, -1, 0);
        close(fd);
        fd = -1;
    }
    link_open_done(bus, fd, error_number, now_ms);
}

/* The line's opener is done (line_open.h), or not yet: then nothing. */
static void rtu_open_done(struct bus *bus, uint64_t now_ms)
{
    int error_number;
    if (!line_open_take(&bus->line_open, &error_number))
        return;
    bus->member.held = false;
    if (error_number == 0 && bus->line_open.warning[0])
        log_bus(LOG_WARNING, bus->def->name, "bus %s: %s", bus->def->name, bus->line_open.warning);
    link_open_done(bus, -1, error_number, now_ms);
}

/* Opens the link for the poll under way: true while the opening is under way. */
static bool link_open_begin(struct bus *bus, uint64_t now_ms)
{
    if (bus->def->type == BUS_TCP)
        return tcp_connect_begin(bus, now_ms);
    if (line_open_begin(&bus->line_open, bus->ctx, bus->def, &bus->member) != 0) {
        bus_link_open_failed(bus, now_ms, errno);
        return false;
    }
    bus->exchange.stage = EXCHANGE_CONNECTING; /* the opener wakes the bus when it is done */
    bus->member.held = true; /* an open that never ends stops the bus's heartbeat: the watchdog */
    reactor_at(&bus->member, REACTOR_NO_DEADLINE);
    return true;
}

/* Starts a poll of the device: true while its I/O is under way. */
static bool poll_begin(struct bus *bus, struct device *device, uint64_t now_ms)
{
    bus->poll = (struct poll_run){.active = true,
                                  .device = device,
                                  .due_ms = device->next_due_ms,
                                  .start_ms = now_ms,
                                  .outcome = {.result = DEVICE_POLL_OK}};
    if (!bus->link_up && now_ms >= bus->next_connect_ms && link_open_begin(bus, now_ms))
        return true;
    if (bus->link_up) {
        poll_send(bus);
        return true;
    }
    bus->poll.outcome =
        (struct poll_outcome){.result = DEVICE_POLL_FAILED, .error_class = MODBUS_ERROR_LINK_LOST};
    poll_io_done(bus);
    return !bus_finish_poll_resume(bus);
}

/* The bus is idle: commands, the due devices, until it must wait for something. */
static void steps_next(struct bus *bus, uint64_t now_ms)
{
    for (;;) {
        if (atomic_load(&bus->stopping)) {
            reactor_at(&bus->member, REACTOR_NO_DEADLINE);
            return;
        }
        struct bus_work work = bus_next_work(bus, &bus->command, now_ms);
        switch (work.kind) {
        case WORK_COMMAND: {
            int result = bus_begin_command(bus, &bus->command, bus->command_error,
                                           sizeof bus->command_error);
            if (result > 0) {
                bus->command_running = true;
                return;
            }
            bus_complete_command(bus, &bus->command, result, bus->command_error);
            break;
        }
        case WORK_POLL:
            if (poll_begin(bus, work.device, now_ms))
                return;
            break;
        case WORK_WAIT:
            reactor_at(&bus->member, work.until_ms * US_PER_MS);
            return;
        }
        now_ms = time_monotonic_ms();
    }
}

/* The link failed before the request went out: answered at the next turn, as a lost link. */
static void fail_before_send(struct bus *bus)
{
    struct bus_exchange *exchange = &bus->exchange;
    exchange->stage = EXCHANGE_AWAITING;
    exchange->started_us = time_monotonic_us();
    exchange->send_error = ECONNRESET;
    reactor_at(&bus->member, 0);
    reactor_watch(&bus->member, -1, 0); /* till it is closed: a dead link stays readable */
}

/* A tcp bus's socket is readable: the reply, a late one, or the converter gone. */
static void tcp_ready(struct bus *bus, uint64_t now_ms)
{
    struct bus_exchange *exchange = &bus->exchange;
    int length = tcp_link_receive(&bus->tcp, exchange->reply, sizeof exchange->reply);
    if (length < 0 && errno == EAGAIN)
        return; /* part of a reply, or a late one dropped */
    int error_number = length < 0 ? errno : 0;
    switch (exchange->stage) {
    case EXCHANGE_AWAITING:
        if (exchange->send_error == 0)
            exchange_done(bus, length, error_number, now_ms);
        break;
    case EXCHANGE_GAP: /* the connection failed before the request went out */
        fail_before_send(bus);
        break;
    case EXCHANGE_IDLE:
    case EXCHANGE_CONNECTING:
        if (length < 0)
            bus_close_link(bus, now_ms); /* between requests: the converter hung up */
        break;
    }
}

/* An rtu bus's awaited reply, as far as it has come: done, or awaited further. */
static void rtu_take_reply(struct bus *bus, bool readable, uint64_t now_us)
{
    struct bus_exchange *exchange = &bus->exchange;
    int length =
        rtu_link_receive(&bus->pacing.rtu, readable, exchange->reply, sizeof exchange->reply);
    if (length < 0 && errno == EAGAIN) {
        await_reply(bus, now_us);
        return;
    }
    exchange_done(bus, length, length < 0 ? errno : 0, now_us / US_PER_MS);
}

/*
 * An rtu bus's tty is readable (or hung up): the reply awaited, or bytes
 * nobody asked for, dropped and counted, which start the silence again. An
 * idle line is not watched again till its next request (which drains it).
 */
static void rtu_ready(struct bus *bus, uint32_t events, uint64_t now_us)
{
    struct bus_exchange *exchange = &bus->exchange;
    if (exchange->stage == EXCHANGE_AWAITING) {
        if (exchange->send_error == 0)
            rtu_take_reply(bus, true, now_us);
        return;
    }
    if (stray_bytes_drained(bus, now_us)) {
        if (exchange->stage == EXCHANGE_GAP)
            reactor_at(&bus->member, ready_us(bus));
        else
            reactor_watch(&bus->member, bus->pacing.fd, 0);
        return;
    }
    if (!(events & (EPOLLHUP | EPOLLERR)))
        return;
    if (exchange->stage == EXCHANGE_GAP)
        fail_before_send(bus);
    else
        bus_close_link(bus, now_us / US_PER_MS); /* between requests: the adapter is gone */
}

/* The reactor's calls (reactor.h). */

static void on_ready(struct reactor_member *member, uint32_t events, uint64_t now_us)
{
    struct bus *bus = member->owner;
    if (bus->exchange.stage == EXCHANGE_CONNECTING)
        tcp_connect_done(bus, 0, now_us / US_PER_MS);
    else if (bus->def->type == BUS_RTU)
        rtu_ready(bus, events, now_us);
    else
        tcp_ready(bus, now_us / US_PER_MS); /* a hang-up or an error shows as a failed recv */
}

/* The reply's deadline came: a reply that came while the reactor was held up is no timeout. */
static void reply_deadline(struct bus *bus, uint64_t now_us)
{
    struct bus_exchange *exchange = &bus->exchange;
    uint64_t now_ms = now_us / US_PER_MS;
    if (exchange->send_error != 0) {
        exchange_done(bus, -1, exchange->send_error, now_ms);
        return;
    }
    if (bus->def->type == BUS_RTU) {
        rtu_take_reply(bus, false, now_us); /* the link knows when its wait is over */
        return;
    }
    int length = tcp_link_receive(&bus->tcp, exchange->reply, sizeof exchange->reply);
    if (length >= 0 || errno != EAGAIN) {
        exchange_done(bus, length, length < 0 ? errno : 0, now_ms);
        return;
    }
    tcp_link_abandon(&bus->tcp);
    exchange_done(bus, -1, ETIMEDOUT, now_ms);
}

static void on_deadline(struct reactor_member *member, uint64_t now_us)
{
    struct bus *bus = member->owner;
    switch (bus->exchange.stage) {
    case EXCHANGE_GAP:
        send_if_ready(bus, now_us);
        break;
    case EXCHANGE_AWAITING:
        reply_deadline(bus, now_us);
        break;
    case EXCHANGE_CONNECTING: /* tcp: an rtu opening has no deadline */
        tcp_connect_done(bus, ETIMEDOUT, now_us / US_PER_MS);
        break;
    case EXCHANGE_IDLE:
        steps_continue(bus, now_us / US_PER_MS);
        break;
    }
}

static void on_wake(struct reactor_member *member, uint64_t now_us)
{
    struct bus *bus = member->owner;
    if (bus->exchange.stage == EXCHANGE_CONNECTING && bus->def->type == BUS_RTU) {
        rtu_open_done(bus, now_us / US_PER_MS);
        return;
    }
    if (bus->link_up && member->fd != link_fd(bus)) /* joined with a link handed over */
        listen_on_link(bus);
    steps_continue(bus, now_us / US_PER_MS);
}

static bool can_leave(struct reactor_member *member)
{
    const struct bus *bus = member->owner;
    return bus->exchange.stage == EXCHANGE_IDLE && !bus->poll.active && !bus->command_running &&
           !bus->finishing.active;
}

const struct reactor_calls bus_step_calls = {
    .ready = on_ready, .deadline = on_deadline, .wake = on_wake, .can_leave = can_leave};
