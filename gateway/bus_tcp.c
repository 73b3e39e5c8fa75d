/*
 * bus_tcp.c — a tcp bus's steps on the reactor thread (tcp_reactor.h), none
 * of which waits: a non-blocking connect (EINPROGRESS, then EPOLLOUT), a
 * request sent once gap_ms has passed, its reply taken when the socket is
 * readable (tcp_link.c frames it), a timeout when the deadline comes first.
 * A poll's reads, an interlock's write and an operator's write are all such
 * exchanges on the bus's connection, one at a time. Around them, the same
 * decisions as an rtu bus's thread makes (bus.c, through bus_internal.h).
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
#include "log.h"
#include "modbus_error.h"
#include "rtu_silence.h"
#include "timeutil.h"

static void tcp_next(struct bus *bus, uint64_t now_ms);
static void tcp_poll_send(struct bus *bus);

/* After any step: the poll's finishing taken up again, or the next work begun. */
static void tcp_continue(struct bus *bus, uint64_t now_ms)
{
    if (bus->exchange.stage != TCP_IDLE || bus->poll.active || bus->command_running)
        return;
    if (bus->finishing.active && !bus_finish_poll_resume(bus))
        return;
    tcp_next(bus, now_ms);
}

/*
 * Sends the exchange's request once gap_ms has passed since the last one.
 * A failed send is not answered here but at the next turn of the reactor
 * (its deadline is now), so that no step ever calls back into its caller.
 */
void bus_tcp_send_when_ready(struct bus *bus)
{
    struct tcp_exchange *exchange = &bus->exchange;
    uint64_t now_us = rtu_silence_now_us();
    uint64_t ready_us = bus->pacing.gap_ms && bus->pacing.last_request_end_us
                            ? bus->pacing.last_request_end_us + bus->pacing.gap_ms * 1000ull
                            : 0;
    if (now_us < ready_us) {
        exchange->stage = TCP_GAP;
        tcp_reactor_at(&bus->member, (ready_us + 999u) / 1000u);
        return;
    }
    exchange->stage = TCP_AWAITING;
    exchange->started_us = now_us;
    exchange->send_error = 0;
    if (exchange->request_length == 0)
        exchange->send_error = EMBMDATA;
    else if (tcp_link_send(&bus->tcp, exchange->unit, exchange->request,
                           exchange->request_length) != 0)
        exchange->send_error = errno;
    tcp_reactor_at(&bus->member, exchange->send_error ? 0 : now_us / 1000u + bus->def->timeout_ms);
}

/* A write's reply (or its failure, error_number): 0 or -1 with the reason in error. */
static int tcp_write_result(struct bus *bus, int length, int error_number, char *error,
                            size_t error_size)
{
    struct tcp_exchange *exchange = &bus->exchange;
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
static void tcp_poll_io_done(struct bus *bus)
{
    struct poll_run *poll = &bus->poll;
    poll->active = false;
    bus_finish_poll_begin(bus, poll->device, &poll->outcome, poll->start_ms, poll->due_ms);
}

/* A read's reply (or its failure): the next read of the plan, or the poll's end. */
static void tcp_poll_reply(struct bus *bus, int length, int error_number)
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
        tcp_poll_send(bus);
        return;
    } else {
        device_poll_decode(device, bus->poll_registers, bus->poll_values);
    }
    tcp_poll_io_done(bus);
}

/* The exchange on the wire ended: a reply of length bytes, or -1 and error_number. */
static void tcp_exchange_done(struct bus *bus, int length, int error_number, uint64_t now_ms)
{
    struct tcp_exchange *exchange = &bus->exchange;
    exchange->stage = TCP_IDLE;
    tcp_reactor_at(&bus->member, TCP_REACTOR_NO_DEADLINE);
    struct finishing *finishing = &bus->finishing;
    switch (exchange->purpose) {
    case FOR_POLL:
        tcp_poll_reply(bus, length, error_number);
        break;
    case FOR_INTERLOCK: {
        int result = tcp_write_result(bus, length, error_number, finishing->action_error,
                                      sizeof finishing->action_error);
        bus_interlock_done(finishing->device, &finishing->decisions.events[finishing->next_event],
                           result == 0, finishing->action_error);
        break;
    }
    case FOR_COMMAND: {
        int result = tcp_write_result(bus, length, error_number, bus->command_error,
                                      sizeof bus->command_error);
        bus->command_running = false;
        bus_complete_command(bus, &bus->command, result, bus->command_error);
        break;
    }
    }
    /* A write's lost connection is closed as a poll's is (bus_finish_poll_begin). */
    if (exchange->purpose != FOR_POLL && length < 0 && bus->link_up &&
        modbus_error_classify(error_number) == MODBUS_ERROR_LINK_LOST)
        bus_close_link(bus, now_ms);
    tcp_continue(bus, now_ms);
}

static void tcp_poll_send(struct bus *bus)
{
    const struct device *device = bus->poll.device;
    const struct read_request *request = &device->plan->requests[bus->poll.request];
    struct tcp_exchange *exchange = &bus->exchange;
    exchange->purpose = FOR_POLL;
    exchange->unit = device->def->address;
    exchange->request_length = modbus_pdu_read_request(request->table, request->address,
                                                       request->count, exchange->request);
    bus_tcp_send_when_ready(bus);
}

/*
 * A non-blocking connect to the bus's converter: 0 connected, 1 under way
 * (fd becomes writable when it is done), -1 with errno. The host is looked
 * up here; a converter is configured by its address, which needs no lookup.
 */
static int tcp_socket_connect(const struct bus_def *def, int *fd_out)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
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
    bus->exchange.stage = TCP_CONNECTING;
    tcp_reactor_watch(&bus->member, fd, EPOLLOUT);
    tcp_reactor_at(&bus->member, now_ms + bus->def->timeout_ms);
    return true;
}

/* The connect ended (error_number 0: ask the socket how): the poll goes on, or fails. */
static void tcp_connect_done(struct bus *bus, int error_number, uint64_t now_ms)
{
    int fd = bus->connecting_fd;
    bus->connecting_fd = -1;
    bus->exchange.stage = TCP_IDLE;
    tcp_reactor_at(&bus->member, TCP_REACTOR_NO_DEADLINE);
    socklen_t length = sizeof error_number;
    if (error_number == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error_number, &length) != 0)
        error_number = errno;
    if (error_number == 0) {
        bus_link_opened(bus, fd);
        tcp_poll_send(bus);
        return;
    }
    tcp_reactor_watch(&bus->member, -1, 0);
    close(fd);
    bus_link_open_failed(bus, now_ms, error_number);
    bus->poll.outcome =
        (struct poll_outcome){.result = DEVICE_POLL_FAILED, .error_class = MODBUS_ERROR_LINK_LOST};
    tcp_poll_io_done(bus);
    tcp_continue(bus, now_ms);
}

/* Starts a poll of the device: true while its I/O is under way. */
static bool tcp_poll_begin(struct bus *bus, struct device *device, uint64_t now_ms)
{
    bus->poll = (struct poll_run){.active = true,
                                  .device = device,
                                  .due_ms = device->next_due_ms,
                                  .start_ms = now_ms,
                                  .outcome = {.result = DEVICE_POLL_OK}};
    if (!bus->link_up && now_ms >= bus->next_connect_ms && tcp_connect_begin(bus, now_ms))
        return true;
    if (bus->link_up) {
        tcp_poll_send(bus);
        return true;
    }
    bus->poll.outcome =
        (struct poll_outcome){.result = DEVICE_POLL_FAILED, .error_class = MODBUS_ERROR_LINK_LOST};
    tcp_poll_io_done(bus);
    return !bus_finish_poll_resume(bus);
}

/* The bus is idle: commands, the due devices, until it must wait for something. */
static void tcp_next(struct bus *bus, uint64_t now_ms)
{
    for (;;) {
        if (atomic_load(&bus->stopping)) {
            tcp_reactor_at(&bus->member, TCP_REACTOR_NO_DEADLINE);
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
            if (tcp_poll_begin(bus, work.device, now_ms))
                return;
            break;
        case WORK_WAIT:
            tcp_reactor_at(&bus->member, work.until_ms);
            return;
        }
        now_ms = time_monotonic_ms();
    }
}

/* The reactor's calls (tcp_reactor.h). */

static void tcp_on_ready(struct tcp_reactor_member *member, uint32_t events, uint64_t now_ms)
{
    struct bus *bus = member->owner;
    struct tcp_exchange *exchange = &bus->exchange;
    if (exchange->stage == TCP_CONNECTING) {
        tcp_connect_done(bus, 0, now_ms);
        return;
    }
    (void)events; /* a hang-up or an error shows as a failed recv */
    int length = tcp_link_receive(&bus->tcp, exchange->reply, sizeof exchange->reply);
    if (length < 0 && errno == EAGAIN)
        return; /* part of a reply, or a late one dropped */
    int error_number = length < 0 ? errno : 0;
    switch (exchange->stage) {
    case TCP_AWAITING:
        if (exchange->send_error == 0)
            tcp_exchange_done(bus, length, error_number, now_ms);
        break;
    case TCP_GAP: /* the connection failed before the request went out */
        exchange->stage = TCP_AWAITING;
        exchange->started_us = rtu_silence_now_us();
        exchange->send_error = ECONNRESET;
        tcp_reactor_at(member, 0);
        tcp_reactor_watch(member, -1, 0); /* till it is closed: a dead socket stays readable */
        break;
    case TCP_IDLE:
    case TCP_CONNECTING:
        if (length < 0)
            bus_close_link(bus, now_ms); /* between requests: the converter hung up */
        break;
    }
}

static void tcp_on_deadline(struct tcp_reactor_member *member, uint64_t now_ms)
{
    struct bus *bus = member->owner;
    struct tcp_exchange *exchange = &bus->exchange;
    switch (exchange->stage) {
    case TCP_GAP:
        bus_tcp_send_when_ready(bus);
        break;
    case TCP_AWAITING:
        if (exchange->send_error == 0) {
            /* A reply that came while the reactor was held up is no timeout. */
            int length = tcp_link_receive(&bus->tcp, exchange->reply, sizeof exchange->reply);
            if (length >= 0 || errno != EAGAIN) {
                tcp_exchange_done(bus, length, length < 0 ? errno : 0, now_ms);
                break;
            }
            tcp_link_abandon(&bus->tcp);
        }
        tcp_exchange_done(bus, -1, exchange->send_error ? exchange->send_error : ETIMEDOUT, now_ms);
        break;
    case TCP_CONNECTING:
        tcp_connect_done(bus, ETIMEDOUT, now_ms);
        break;
    case TCP_IDLE:
        tcp_continue(bus, now_ms);
        break;
    }
}

static void tcp_on_wake(struct tcp_reactor_member *member, uint64_t now_ms)
{
    struct bus *bus = member->owner;
    if (bus->link_up && member->fd != bus->tcp.fd) /* joined with a connection handed over */
        tcp_reactor_watch(member, bus->tcp.fd, EPOLLIN);
    tcp_continue(bus, now_ms);
}

static bool tcp_can_leave(struct tcp_reactor_member *member)
{
    const struct bus *bus = member->owner;
    return bus->exchange.stage == TCP_IDLE && !bus->poll.active && !bus->command_running &&
           !bus->finishing.active;
}

const struct tcp_reactor_calls bus_tcp_calls = {.ready = tcp_on_ready,
                                                .deadline = tcp_on_deadline,
                                                .wake = tcp_on_wake,
                                                .can_leave = tcp_can_leave};
