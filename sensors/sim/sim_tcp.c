#include "sim_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define MBAP_LENGTH 7
#define RX_CAPACITY 2048

struct sim_tcp_connection {
    struct sim_watch watch;
    struct sim_tcp *tcp;
    struct sim_tcp_connection *previous, *next;
    uint8_t rx[RX_CAPACITY];
    size_t rx_length;
    struct sim_timer late_timer; /* one reply of a `slow` device */
    uint8_t late[SIM_REPLY_MAX];
    size_t late_length;
};

/* The listening socket and its connections (a doubly linked list). */
struct sim_tcp {
    struct sim_bus *bus;
    struct sim_watch watch;
    struct sim_tcp_connection *connections;
};

static void drop(struct sim_tcp_connection *connection)
{
    struct sim_tcp *tcp = connection->tcp;
    struct sim_loop *loop = &tcp->bus->sim->loop;
    sim_loop_disarm(loop, &connection->late_timer);
    sim_loop_unwatch(loop, &connection->watch);
    close(connection->watch.fd);
    if (connection->previous != NULL)
        connection->previous->next = connection->next;
    else
        tcp->connections = connection->next;
    if (connection->next != NULL)
        connection->next->previous = connection->previous;
    free(connection);
}

/* Replies are small and clients wait for them: a full socket means a dead client. */
static int send_frame(struct sim_tcp_connection *connection, const uint8_t *frame, size_t length)
{
    ssize_t sent = send(connection->watch.fd, frame, length, MSG_NOSIGNAL);
    if (sent == (ssize_t)length)
        return 0;
    log_warning("safetygw-sim: bus %s: dropping a client: %s", connection->tcp->bus->def->name,
                sent < 0 ? strerror(errno) : "socket full");
    drop(connection);
    return -1;
}

static void on_late_due(struct sim_timer *timer)
{
    struct sim_tcp_connection *connection =
        sim_container_of(timer, struct sim_tcp_connection, late_timer);
    send_frame(connection, connection->late, connection->late_length);
}

static void schedule_late(struct sim_tcp_connection *connection, const uint8_t *rsp, int length)
{
    if (sim_timer_armed(&connection->late_timer))
        return;
    memcpy(connection->late, rsp, (size_t)length);
    connection->late_length = (size_t)length;
    struct sim_bus *bus = connection->tcp->bus;
    sim_loop_arm(&bus->sim->loop, &connection->late_timer, sim_loop_now_ns() + sim_late_ns(bus));
}

/* No CRC on TCP: a garbled reply is one whose transaction id the client never sent. */
static void corrupt(uint8_t *rsp)
{
    rsp[0] ^= 0x5a;
}

static enum sim_answer answer_unit(struct sim_bus *bus, const uint8_t *req, int length,
                                   uint8_t *rsp, int *rsp_length)
{
    struct sim_device *device = sim_bus_device(bus, req[6]);
    *rsp_length = 0;
    if (bus->down) {
        if (device != NULL)
            device->ignored++;
        return SIM_ANSWER_NONE;
    }
    if (device == NULL) {
        *rsp_length =
            sim_reply_exception(&bus->sim->tcp_reply, req, MODBUS_EXCEPTION_GATEWAY_TARGET, rsp);
        return *rsp_length > 0 ? SIM_ANSWER_NOW : SIM_ANSWER_NONE;
    }
    return sim_answer(device, &bus->sim->tcp_reply, req, length, rsp, rsp_length);
}

/* One request ADU. Returns -1 when the connection was dropped. */
static int serve(struct sim_tcp_connection *connection, const uint8_t *req, int length)
{
    struct sim_bus *bus = connection->tcp->bus;
    uint8_t rsp[SIM_REPLY_MAX];
    int rsp_length;
    enum sim_answer answer = answer_unit(bus, req, length, rsp, &rsp_length);
    if (answer == SIM_ANSWER_NONE) {
        bus->ignored_requests++;
        return 0;
    }
    bus->served_requests++;
    if (answer == SIM_ANSWER_LATE) {
        schedule_late(connection, rsp, rsp_length);
        return 0;
    }
    if (answer == SIM_ANSWER_CORRUPT)
        corrupt(rsp);
    return send_frame(connection, rsp, (size_t)rsp_length);
}

/* Serves every whole ADU in rx. Returns -1 when the connection was dropped. */
static int serve_buffered(struct sim_tcp_connection *connection)
{
    size_t offset = 0;
    while (connection->rx_length - offset >= MBAP_LENGTH) {
        const uint8_t *adu = connection->rx + offset;
        size_t length = 6u + (size_t)(adu[4] << 8 | adu[5]);
        if (adu[2] != 0 || adu[3] != 0 || length < 8 || length > MODBUS_TCP_MAX_ADU_LENGTH) {
            connection->tcp->bus->bad_frames++;
            drop(connection); /* not Modbus: a converter closes such a connection */
            return -1;
        }
        if (connection->rx_length - offset < length)
            break;
        if (serve(connection, adu, (int)length) != 0)
            return -1;
        offset += length;
    }
    memmove(connection->rx, connection->rx + offset, connection->rx_length - offset);
    connection->rx_length -= offset;
    return 0;
}

static void on_request_bytes(struct sim_watch *watch, uint32_t events)
{
    (void)events;
    struct sim_tcp_connection *connection =
        sim_container_of(watch, struct sim_tcp_connection, watch);
    ssize_t got = recv(watch->fd, connection->rx + connection->rx_length,
                       RX_CAPACITY - connection->rx_length, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got <= 0) {
        drop(connection);
        return;
    }
    connection->rx_length += (size_t)got;
    serve_buffered(connection);
}

static void accept_one(struct sim_tcp *tcp, int fd)
{
    struct sim_tcp_connection *connection = calloc(1, sizeof *connection);
    if (connection == NULL) {
        log_error("safetygw-sim: bus %s: out of memory for a connection", tcp->bus->def->name);
        close(fd);
        return;
    }
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    connection->tcp = tcp;
    connection->watch.fd = fd;
    connection->watch.ready = on_request_bytes;
    sim_timer_init(&connection->late_timer, on_late_due);
    if (sim_loop_watch(&tcp->bus->sim->loop, &connection->watch, EPOLLIN) != 0) {
        close(fd);
        free(connection);
        return;
    }
    connection->next = tcp->connections;
    if (tcp->connections != NULL)
        tcp->connections->previous = connection;
    tcp->connections = connection;
}

static void on_connect(struct sim_watch *watch, uint32_t events)
{
    (void)events;
    struct sim_tcp *tcp = sim_container_of(watch, struct sim_tcp, watch);
    for (;;) {
        int fd = accept4(watch->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR)
                log_warning("safetygw-sim: bus %s: accept: %s", tcp->bus->def->name,
                            strerror(errno));
            return;
        }
        accept_one(tcp, fd);
    }
}

/* The bus's host when it is an IPv4 loopback address (127.x.y.z), else 127.0.0.1. */
static struct in_addr listen_address(const struct bus_def *bus)
{
    struct in_addr address;
    if (bus->host == NULL || inet_pton(AF_INET, bus->host, &address) != 1 ||
        (ntohl(address.s_addr) >> 24) != 127)
        address.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

static int listen_on(const struct bus_def *bus, char *error, size_t error_size)
{
    struct sockaddr_in address = {
        .sin_family = AF_INET, .sin_port = htons(bus->tcp_port), .sin_addr = listen_address(bus)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 512) != 0) {
        char host[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &address.sin_addr, host, sizeof host);
        snprintf(error, error_size, "bus %s: listening on %s:%u: %s", bus->name, host,
                 bus->tcp_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int sim_tcp_open(struct sim_bus *bus, char *error, size_t error_size)
{
    struct sim_tcp *tcp = calloc(1, sizeof *tcp);
    if (tcp == NULL) {
        snprintf(error, error_size, "bus %s: out of memory", bus->def->name);
        return -1;
    }
    bus->tcp = tcp;
    tcp->bus = bus;
    tcp->watch.ready = on_connect;
    tcp->watch.fd = listen_on(bus->def, error, error_size);
    if (tcp->watch.fd < 0)
        return -1;
    if (sim_loop_watch(&bus->sim->loop, &tcp->watch, EPOLLIN) != 0) {
        snprintf(error, error_size, "bus %s: watching the listening socket failed", bus->def->name);
        return -1;
    }
    log_info("safetygw-sim: bus %s: tcp port %u, %zu devices", bus->def->name, bus->def->tcp_port,
             bus->device_count);
    return 0;
}

void sim_tcp_close(struct sim_bus *bus)
{
    struct sim_tcp *tcp = bus->tcp;
    while (tcp->connections != NULL)
        drop(tcp->connections);
    if (tcp->watch.fd >= 0) {
        sim_loop_unwatch(&bus->sim->loop, &tcp->watch);
        close(tcp->watch.fd);
    }
    free(tcp);
    bus->tcp = NULL;
}
