#include "sim_rtu.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "sim_wire.h"

#define RX_CAPACITY 1024
#define MIN_SILENCE_NS 5000000ULL /* a pty splits no frame, but be patient with slow writers */
#define CRC_LENGTH 2

/*
 * One line. Requests are taken one at a time: while a reply is on its way
 * (reply_timer armed) later bytes wait in rx, as a real master would wait.
 * busy_until_ns is when the line is silent again (after the trailing t3.5).
 */
struct sim_rtu {
    struct sim_bus *bus;
    struct sim_wire wire;
    int master_fd;
    int slave_fd; /* held open so the master never sees a hang-up between clients */
    char slave_path[64];
    char *link_path;
    struct sim_watch watch;
    uint8_t rx[RX_CAPACITY];
    size_t rx_length;
    struct sim_timer silence_timer;
    struct sim_timer reply_timer;
    uint8_t reply[SIM_REPLY_MAX];
    size_t reply_length;
    struct sim_timer late_timer; /* one reply of a `slow` device, out of turn */
    uint8_t late[SIM_REPLY_MAX];
    size_t late_length;
    uint64_t busy_until_ns;
};

uint16_t sim_rtu_crc16(const uint8_t *bytes, size_t length)
{
    uint16_t crc = 0xffff;
    for (size_t i = 0; i < length; i++) {
        crc ^= bytes[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 1u) ? (uint16_t)((crc >> 1) ^ 0xa001u) : (uint16_t)(crc >> 1);
    }
    return crc;
}

int sim_rtu_request_length(const uint8_t *frame, size_t available)
{
    if (available < 2)
        return 0;
    switch (frame[1]) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x08:
        return 8;
    case 0x07:
    case 0x0b:
    case 0x0c:
    case 0x11:
        return 4;
    case 0x16:
        return 10;
    case 0x0f:
    case 0x10: /* address, function, start, quantity, byte count, data, CRC */
        return available < 7 ? 0 : 9 + frame[6];
    case 0x17:
        return available < 11 ? 0 : 13 + frame[10];
    default:
        return -1;
    }
}

static bool crc_ok(const uint8_t *frame, size_t length)
{
    if (length < 4)
        return false;
    uint16_t crc = sim_rtu_crc16(frame, length - CRC_LENGTH);
    return frame[length - 2] == (crc & 0xff) && frame[length - 1] == (crc >> 8);
}

static void write_frame(struct sim_rtu *rtu, const uint8_t *frame, size_t length)
{
    ssize_t written = write(rtu->master_fd, frame, length);
    if (written != (ssize_t)length)
        log_warning("safetygw-sim: bus %s: reply of %zu bytes not written (%s): nobody reading %s?",
                    rtu->bus->def->name, length, written < 0 ? strerror(errno) : "short write",
                    rtu->link_path);
}

static void consume(struct sim_rtu *rtu, size_t length)
{
    memmove(rtu->rx, rtu->rx + length, rtu->rx_length - length);
    rtu->rx_length -= length;
}

/* Where a request that arrived now begins on the wire: after the line falls silent. */
static uint64_t wire_start(struct sim_rtu *rtu)
{
    uint64_t now_ns = sim_loop_now_ns();
    return rtu->busy_until_ns > now_ns ? rtu->busy_until_ns : now_ns;
}

static void schedule_late(struct sim_rtu *rtu, const uint8_t *rsp, int length)
{
    if (sim_timer_armed(&rtu->late_timer))
        return; /* one late reply in flight is enough to confuse a master */
    memcpy(rtu->late, rsp, (size_t)length);
    rtu->late_length = (size_t)length;
    sim_loop_arm(&rtu->bus->sim->loop, &rtu->late_timer, sim_loop_now_ns() + sim_late_ns(rtu->bus));
}

/* Sends now, or holds the reply until its last byte would have left the device. */
static void send_reply(struct sim_rtu *rtu, size_t request_length, const uint8_t *rsp, int length)
{
    if (!rtu->bus->sim->options.wire_delay) {
        write_frame(rtu, rsp, (size_t)length);
        return;
    }
    uint64_t start_ns = wire_start(rtu);
    uint64_t done_ns = start_ns +
                       sim_wire_transaction_ns(&rtu->wire, request_length, (size_t)length) -
                       rtu->wire.t35_ns;
    rtu->busy_until_ns = done_ns + rtu->wire.t35_ns;
    memcpy(rtu->reply, rsp, (size_t)length);
    rtu->reply_length = (size_t)length;
    sim_loop_arm(&rtu->bus->sim->loop, &rtu->reply_timer, done_ns);
}

/* A request nobody answers (now) still held the line for its own bytes and a t3.5. */
static void hold_line(struct sim_rtu *rtu, size_t request_length)
{
    if (rtu->bus->sim->options.wire_delay)
        rtu->busy_until_ns =
            wire_start(rtu) + sim_wire_frame_ns(&rtu->wire, request_length) + rtu->wire.t35_ns;
}

static void pass_silently(struct sim_rtu *rtu, size_t request_length)
{
    rtu->bus->ignored_requests++;
    hold_line(rtu, request_length);
}

/* Address 0: every device applies the write, none answers (Modbus serial line §2.1). */
static void broadcast(struct sim_rtu *rtu, const uint8_t *frame, size_t length)
{
    struct sim_bus *bus = rtu->bus;
    uint8_t rsp[SIM_REPLY_MAX];
    int rsp_length;
    for (size_t address = 1; !bus->down && address < 248; address++)
        if (bus->by_address[address] != NULL)
            sim_answer(bus->by_address[address], &bus->sim->rtu_reply, frame, (int)length, rsp,
                       &rsp_length);
    pass_silently(rtu, length);
}

static void corrupt_crc(uint8_t *rsp, int length)
{
    rsp[length - 1] ^= 0x5a;
}

static void dispatch(struct sim_rtu *rtu, const uint8_t *frame, size_t length)
{
    struct sim_bus *bus = rtu->bus;
    if (frame[0] == 0) {
        broadcast(rtu, frame, length);
        return;
    }
    struct sim_device *device = sim_bus_device(bus, frame[0]);
    uint8_t rsp[SIM_REPLY_MAX];
    int rsp_length = 0;
    enum sim_answer answer =
        device != NULL && !bus->down
            ? sim_answer(device, &bus->sim->rtu_reply, frame, (int)length, rsp, &rsp_length)
            : SIM_ANSWER_NONE;
    if (device != NULL && bus->down)
        device->ignored++;
    if (answer == SIM_ANSWER_NONE) {
        pass_silently(rtu, length);
        return;
    }
    if (answer == SIM_ANSWER_LATE) { /* answered, but out of turn: the line is free meanwhile */
        bus->served_requests++;
        hold_line(rtu, length);
        schedule_late(rtu, rsp, rsp_length);
        return;
    }
    bus->served_requests++;
    if (answer == SIM_ANSWER_CORRUPT)
        corrupt_crc(rsp, rsp_length);
    send_reply(rtu, length, rsp, rsp_length);
}

/* Frame of length bytes at the head of rx: CRC checked, then to its device. */
static void take_frame(struct sim_rtu *rtu, size_t length)
{
    uint8_t frame[RX_CAPACITY];
    memcpy(frame, rtu->rx, length);
    consume(rtu, length);
    if (!crc_ok(frame, length)) {
        /* A real slave drops the frame and resynchronises on the next silence. */
        rtu->bus->bad_frames++;
        pass_silently(rtu, length);
        rtu->rx_length = 0;
        return;
    }
    dispatch(rtu, frame, length);
}

static void drain(struct sim_rtu *rtu)
{
    while (rtu->rx_length > 0 && !sim_timer_armed(&rtu->reply_timer)) {
        int length = sim_rtu_request_length(rtu->rx, rtu->rx_length);
        if (length <= 0 || (size_t)length > rtu->rx_length) {
            uint64_t silence_ns =
                rtu->wire.t35_ns > MIN_SILENCE_NS ? rtu->wire.t35_ns : MIN_SILENCE_NS;
            sim_loop_arm(&rtu->bus->sim->loop, &rtu->silence_timer, sim_loop_now_ns() + silence_ns);
            return;
        }
        sim_loop_disarm(&rtu->bus->sim->loop, &rtu->silence_timer);
        take_frame(rtu, (size_t)length);
    }
}

/* Silence after an incomplete frame: it ends here, whatever it is. */
static void on_silence(struct sim_timer *timer)
{
    struct sim_rtu *rtu = sim_container_of(timer, struct sim_rtu, silence_timer);
    if (rtu->rx_length == 0 || sim_timer_armed(&rtu->reply_timer))
        return;
    if (sim_rtu_request_length(rtu->rx, rtu->rx_length) < 0 && crc_ok(rtu->rx, rtu->rx_length)) {
        take_frame(rtu, rtu->rx_length); /* an unsupported function: the device says so */
    } else {
        rtu->bus->bad_frames++;
        rtu->rx_length = 0;
    }
    drain(rtu);
}

static void on_reply_due(struct sim_timer *timer)
{
    struct sim_rtu *rtu = sim_container_of(timer, struct sim_rtu, reply_timer);
    write_frame(rtu, rtu->reply, rtu->reply_length);
    drain(rtu);
}

static void on_late_due(struct sim_timer *timer)
{
    struct sim_rtu *rtu = sim_container_of(timer, struct sim_rtu, late_timer);
    write_frame(rtu, rtu->late, rtu->late_length);
    /* A frame on the line like any other: the next request must wait its t3.5 too. */
    uint64_t silent_ns = sim_loop_now_ns() + rtu->wire.t35_ns;
    if (rtu->bus->sim->options.wire_delay && silent_ns > rtu->busy_until_ns)
        rtu->busy_until_ns = silent_ns;
}

/*
 * Strict framing: the first byte of a request must come t3.5 or more after
 * the last frame on the line ended (or the line is still busy with a
 * transaction). Sooner, every slave takes it for more of that frame, so
 * the request is lost, and the glued frame ends only after these bytes.
 */
static bool merges_with_last_frame(struct sim_rtu *rtu, size_t bytes)
{
    const struct sim_options *options = &rtu->bus->sim->options;
    if (options->lenient || !options->wire_delay || rtu->rx_length > 0)
        return false;
    uint64_t now_ns = sim_loop_now_ns();
    if (now_ns >= rtu->busy_until_ns && !sim_timer_armed(&rtu->reply_timer))
        return false;
    uint64_t silent_ns = now_ns + sim_wire_frame_ns(&rtu->wire, bytes) + rtu->wire.t35_ns;
    if (silent_ns > rtu->busy_until_ns)
        rtu->busy_until_ns = silent_ns;
    return true;
}

void sim_rtu_receive(struct sim_bus *bus, const uint8_t *bytes, size_t length)
{
    struct sim_rtu *rtu = bus->rtu;
    while (length > 0) {
        if (rtu->rx_length == RX_CAPACITY)
            rtu->rx_length = 0; /* garbage nobody framed: start over */
        size_t room = RX_CAPACITY - rtu->rx_length;
        size_t taken = length < room ? length : room;
        memcpy(rtu->rx + rtu->rx_length, bytes, taken);
        rtu->rx_length += taken;
        bytes += taken;
        length -= taken;
        drain(rtu);
    }
}

void sim_rtu_silence(struct sim_bus *bus)
{
    sim_loop_disarm(&bus->sim->loop, &bus->rtu->silence_timer);
    on_silence(&bus->rtu->silence_timer);
}

static void on_readable(struct sim_watch *watch, uint32_t events)
{
    (void)events;
    struct sim_rtu *rtu = sim_container_of(watch, struct sim_rtu, watch);
    /* No more than rx holds: the rest waits in the pty for the next call. */
    uint8_t bytes[RX_CAPACITY];
    size_t room = rtu->rx_length == RX_CAPACITY ? RX_CAPACITY : RX_CAPACITY - rtu->rx_length;
    ssize_t got = read(rtu->master_fd, bytes, room);
    if (got <= 0) {
        if (got < 0 && errno != EAGAIN && errno != EINTR)
            log_warning("safetygw-sim: bus %s: reading %s: %s", rtu->bus->def->name,
                        rtu->slave_path, strerror(errno));
        return;
    }
    if (merges_with_last_frame(rtu, (size_t)got)) {
        rtu->bus->merged++;
        log_debug("safetygw-sim: bus %s: %zd bytes came within t3.5 of the last frame: merged "
                  "into it, the request is lost",
                  rtu->bus->def->name, got);
        return;
    }
    sim_rtu_receive(rtu->bus, bytes, (size_t)got);
}

static int open_pty(struct sim_rtu *rtu, char *error, size_t error_size)
{
    struct termios raw;
    rtu->master_fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (rtu->master_fd < 0 || grantpt(rtu->master_fd) != 0 || unlockpt(rtu->master_fd) != 0 ||
        ptsname_r(rtu->master_fd, rtu->slave_path, sizeof rtu->slave_path) != 0)
        goto failed;
    rtu->slave_fd = open(rtu->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (rtu->slave_fd < 0 || tcgetattr(rtu->slave_fd, &raw) != 0)
        goto failed;
    cfmakeraw(&raw);
    if (tcsetattr(rtu->slave_fd, TCSANOW, &raw) != 0)
        goto failed;
    return 0;
failed:
    snprintf(error, error_size, "bus %s: creating a pseudo-terminal: %s", rtu->bus->def->name,
             strerror(errno));
    return -1;
}

static int make_folders(const char *path, char *error, size_t error_size)
{
    char folder[4096];
    snprintf(folder, sizeof folder, "%s", path);
    for (char *slash = strchr(folder + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(folder, 0755) != 0 && errno != EEXIST) {
            snprintf(error, error_size, "creating folder %s for %s: %s", folder, path,
                     strerror(errno));
            return -1;
        }
        *slash = '/';
    }
    return 0;
}

static int make_link(struct sim_rtu *rtu, char *error, size_t error_size)
{
    const char *path = rtu->bus->def->port;
    struct stat status;
    if (make_folders(path, error, error_size) != 0)
        return -1;
    if (lstat(path, &status) == 0) {
        if (!S_ISLNK(status.st_mode)) {
            snprintf(error, error_size,
                     "bus %s: port %s exists and is not a symlink; not replacing it",
                     rtu->bus->def->name, path);
            return -1;
        }
        unlink(path); /* a stale link of an earlier run */
    }
    if (symlink(rtu->slave_path, path) != 0) {
        snprintf(error, error_size, "bus %s: symlink %s -> %s: %s", rtu->bus->def->name, path,
                 rtu->slave_path, strerror(errno));
        return -1;
    }
    rtu->link_path = strdup(path);
    return rtu->link_path != NULL ? 0 : -1;
}

int sim_rtu_open(struct sim_bus *bus, char *error, size_t error_size)
{
    struct sim_rtu *rtu = calloc(1, sizeof *rtu);
    if (rtu == NULL) {
        snprintf(error, error_size, "bus %s: out of memory", bus->def->name);
        return -1;
    }
    bus->rtu = rtu;
    rtu->bus = bus;
    rtu->master_fd = rtu->slave_fd = -1;
    sim_wire_init(&rtu->wire, bus->def, bus->sim->options.latency_ms);
    sim_timer_init(&rtu->silence_timer, on_silence);
    sim_timer_init(&rtu->reply_timer, on_reply_due);
    sim_timer_init(&rtu->late_timer, on_late_due);
    if (open_pty(rtu, error, error_size) != 0 || make_link(rtu, error, error_size) != 0)
        return -1;
    rtu->watch.fd = rtu->master_fd;
    rtu->watch.ready = on_readable;
    if (sim_loop_watch(&bus->sim->loop, &rtu->watch, EPOLLIN) != 0) {
        snprintf(error, error_size, "bus %s: watching the pseudo-terminal failed", bus->def->name);
        return -1;
    }
    log_info("safetygw-sim: bus %s: rtu %s -> %s, %zu devices, %u baud %u%c%u", bus->def->name,
             rtu->link_path, rtu->slave_path, bus->device_count, bus->def->baud,
             bus->def->data_bits, bus->def->parity, bus->def->stop_bits);
    return 0;
}

static void remove_link(struct sim_rtu *rtu)
{
    char target[sizeof rtu->slave_path];
    ssize_t length = readlink(rtu->link_path, target, sizeof target - 1);
    if (length < 0)
        return;
    target[length] = '\0';
    if (strcmp(target, rtu->slave_path) == 0) /* not another simulator's link */
        unlink(rtu->link_path);
}

void sim_rtu_close(struct sim_bus *bus)
{
    struct sim_rtu *rtu = bus->rtu;
    struct sim_loop *loop = &bus->sim->loop;
    sim_loop_disarm(loop, &rtu->silence_timer);
    sim_loop_disarm(loop, &rtu->reply_timer);
    sim_loop_disarm(loop, &rtu->late_timer);
    if (rtu->master_fd >= 0) {
        sim_loop_unwatch(loop, &rtu->watch);
        close(rtu->master_fd);
    }
    if (rtu->slave_fd >= 0)
        close(rtu->slave_fd);
    if (rtu->link_path != NULL)
        remove_link(rtu);
    free(rtu->link_path);
    free(rtu);
    bus->rtu = NULL;
}
