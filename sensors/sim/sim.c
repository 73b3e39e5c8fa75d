#include "sim.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "sim_control.h"
#include "sim_kind.h"
#include "sim_rtu.h"
#include "sim_scenario.h"
#include "sim_tcp.h"

uint64_t sim_step_now(const struct sim *sim)
{
    return (sim_loop_now_ns() - sim->start_ns) / (SIM_STEP_MS * 1000000ULL);
}

uint64_t sim_late_ns(const struct sim_bus *bus)
{
    return 2ULL * bus->def->timeout_ms * 1000000ULL;
}

struct sim_device *sim_find_device(struct sim *sim, const char *id)
{
    for (size_t i = 0; i < sim->config->device_count; i++)
        if (strcmp(sim->config->devices[i].id, id) == 0)
            return &sim->devices[i];
    return NULL;
}

struct sim_device *sim_bus_device(const struct sim_bus *bus, uint8_t address)
{
    size_t slots = sizeof bus->by_address / sizeof bus->by_address[0];
    return address < slots ? bus->by_address[address] : NULL;
}

struct sim_bus *sim_find_bus(struct sim *sim, const char *name)
{
    for (size_t i = 0; i < sim->config->bus_count; i++)
        if (strcmp(sim->config->buses[i].name, name) == 0)
            return &sim->buses[i];
    return NULL;
}

/* Lets the behaviour see what a master wrote: a valve to close, a port to stop. */
static void notify_write(struct sim_device *device, const struct sim_reply *reply,
                         const uint8_t *req)
{
    uint16_t address = sim_reply_u16(reply, req, 1);
    switch (sim_reply_function(reply, req)) {
    case MODBUS_FC_WRITE_SINGLE_COIL:
        device->kind->written(device, TABLE_COIL, address, 1);
        break;
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
        device->kind->written(device, TABLE_COIL, address, sim_reply_u16(reply, req, 3));
        break;
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
        device->kind->written(device, TABLE_HOLDING, address, 1);
        break;
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        device->kind->written(device, TABLE_HOLDING, address, sim_reply_u16(reply, req, 3));
        break;
    default:
        break;
    }
}

static enum sim_answer ignore(struct sim_device *device)
{
    device->ignored++;
    return SIM_ANSWER_NONE;
}

enum sim_answer sim_answer(struct sim_device *device, struct sim_reply *reply, const uint8_t *req,
                           int req_length, uint8_t *rsp, int *rsp_length)
{
    *rsp_length = 0;
    if (device->bus->down || device->fault == SIM_FAULT_SILENT)
        return ignore(device);
    sim_device_advance(device, sim_step_now(device->bus->sim));
    int code = device->fault == SIM_FAULT_EXCEPTION ? device->fault_exception
                                                    : sim_reply_check(reply, req, req_length);
    int length = code != 0 ? sim_reply_exception(reply, req, code, rsp)
                           : sim_reply_build(reply, req, req_length, device->map, rsp);
    if (length < 0)
        return ignore(device);
    if (code == 0 && length > 0 && (rsp[reply->header_length] & 0x80) == 0)
        notify_write(device, reply, req);
    if (code == 0 && length == 0)
        notify_write(device, reply, req); /* a broadcast write: applied, never answered */
    device->served++;
    *rsp_length = length;
    if (length == 0)
        return SIM_ANSWER_NONE;
    if (device->fault == SIM_FAULT_BAD_CRC)
        return SIM_ANSWER_CORRUPT;
    return device->fault == SIM_FAULT_SLOW ? SIM_ANSWER_LATE : SIM_ANSWER_NOW;
}

static bool bus_selected(const struct sim_options *options, const char *name)
{
    if (options->only_buses == NULL)
        return true;
    for (size_t i = 0; i < options->only_bus_count; i++)
        if (strcmp(options->only_buses[i], name) == 0)
            return true;
    return false;
}

static int check_only_buses(const struct sim *sim, char *error, size_t error_size)
{
    for (size_t i = 0; i < sim->options.only_bus_count; i++) {
        bool known = false;
        for (size_t b = 0; b < sim->config->bus_count; b++)
            known = known || strcmp(sim->config->buses[b].name, sim->options.only_buses[i]) == 0;
        if (!known) {
            snprintf(error, error_size, "--only-bus %s: %s has no such bus",
                     sim->options.only_buses[i], sim->config->path);
            return -1;
        }
    }
    return 0;
}

static int make_bindings(struct sim *sim, char *error, size_t error_size)
{
    sim->bindings = calloc(sim->config->profile_count + 1, sizeof *sim->bindings);
    if (sim->bindings == NULL)
        goto out_of_memory;
    for (size_t i = 0; i < sim->config->profile_count; i++) {
        const struct profile *profile = &sim->config->profiles[i];
        sim->bindings[i] = sim_kind_find(profile->kind)->bind(profile);
        if (sim->bindings[i] == NULL)
            goto out_of_memory;
    }
    return 0;
out_of_memory:
    snprintf(error, error_size, "out of memory binding the profiles' points");
    return -1;
}

static int make_buses(struct sim *sim, char *error, size_t error_size)
{
    sim->buses = calloc(sim->config->bus_count + 1, sizeof *sim->buses);
    if (sim->buses == NULL) {
        snprintf(error, error_size, "out of memory for %zu buses", sim->config->bus_count);
        return -1;
    }
    for (size_t i = 0; i < sim->config->bus_count; i++) {
        sim->buses[i].def = &sim->config->buses[i];
        sim->buses[i].sim = sim;
        sim->buses[i].served = bus_selected(&sim->options, sim->config->buses[i].name);
    }
    return check_only_buses(sim, error, error_size);
}

static int make_devices(struct sim *sim, char *error, size_t error_size)
{
    const struct config *config = sim->config;
    sim->devices = calloc(config->device_count + 1, sizeof *sim->devices);
    if (sim->devices == NULL) {
        snprintf(error, error_size, "out of memory for %zu devices", config->device_count);
        return -1;
    }
    for (size_t i = 0; i < config->device_count; i++) {
        const struct device_def *def = &config->devices[i];
        struct sim_bus *bus = &sim->buses[def->bus_index];
        size_t profile = (size_t)(def->profile - config->profiles);
        if (sim_device_init(&sim->devices[i], def, bus, sim->bindings[profile], sim->options.seed,
                            error, error_size) != 0)
            return -1;
        if (bus->by_address[def->address] != NULL) {
            snprintf(error, error_size, "devices %s and %s share address %u on bus %s",
                     bus->by_address[def->address]->def->id, def->id, def->address, bus->def->name);
            return -1;
        }
        bus->by_address[def->address] = &sim->devices[i];
        bus->device_count++;
    }
    return 0;
}

static int open_buses(struct sim *sim, char *error, size_t error_size)
{
    for (size_t i = 0; i < sim->config->bus_count; i++) {
        struct sim_bus *bus = &sim->buses[i];
        if (!bus->served)
            continue;
        int rc = bus->def->type == BUS_RTU ? sim_rtu_open(bus, error, error_size)
                                           : sim_tcp_open(bus, error, error_size);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void on_signal(struct sim_watch *watch, uint32_t events)
{
    (void)events;
    struct sim *sim = sim_container_of(watch, struct sim, signal_watch);
    struct signalfd_siginfo info;
    if (read(sim->signal_fd, &info, sizeof info) == (ssize_t)sizeof info)
        log_info("safetygw-sim: %s, stopping", strsignal((int)info.ssi_signo));
    sim_loop_stop(&sim->loop);
}

static int watch_signals(struct sim *sim, char *error, size_t error_size)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sim->signal_fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sim->signal_fd < 0 || sigprocmask(SIG_BLOCK, &signals, NULL) != 0) {
        snprintf(error, error_size, "watching SIGINT/SIGTERM: %s", strerror(errno));
        return -1;
    }
    sim->signal_watch.fd = sim->signal_fd;
    sim->signal_watch.ready = on_signal;
    return sim_loop_watch(&sim->loop, &sim->signal_watch, EPOLLIN);
}

int sim_open(struct sim *sim, const struct config *config, const struct sim_options *options,
             char *error, size_t error_size)
{
    memset(sim, 0, sizeof *sim);
    sim->config = config;
    sim->options = *options;
    sim->signal_fd = -1;
    sim->start_ns = sim_loop_now_ns();
    sim->rtu_reply.capture[0] = sim->rtu_reply.capture[1] = -1;
    sim->tcp_reply.capture[0] = sim->tcp_reply.capture[1] = -1;
    if (sim_loop_init(&sim->loop, error, error_size) != 0 ||
        sim_reply_init(&sim->rtu_reply, true, error, error_size) != 0 ||
        sim_reply_init(&sim->tcp_reply, false, error, error_size) != 0 ||
        make_bindings(sim, error, error_size) != 0 || make_buses(sim, error, error_size) != 0 ||
        make_devices(sim, error, error_size) != 0 || watch_signals(sim, error, error_size) != 0 ||
        open_buses(sim, error, error_size) != 0)
        return -1;
    if (options->scenario_path != NULL &&
        sim_scenario_open(sim, options->scenario_path, error, error_size) != 0)
        return -1;
    /* Last: the socket appearing tells scripts that every bus is ready. */
    if (options->control_path != NULL &&
        sim_control_open(sim, options->control_path, error, error_size) != 0)
        return -1;
    return 0;
}

int sim_run(struct sim *sim)
{
    return sim_loop_run(&sim->loop);
}

static void close_buses(struct sim *sim)
{
    for (size_t i = 0; sim->buses != NULL && i < sim->config->bus_count; i++) {
        if (sim->buses[i].rtu != NULL)
            sim_rtu_close(&sim->buses[i]);
        if (sim->buses[i].tcp != NULL)
            sim_tcp_close(&sim->buses[i]);
    }
}

void sim_close(struct sim *sim)
{
    sim_control_close(sim);
    sim_scenario_close(sim);
    close_buses(sim);
    for (size_t i = 0; sim->devices != NULL && i < sim->config->device_count; i++)
        sim_device_free(&sim->devices[i]);
    for (size_t i = 0; sim->bindings != NULL && i < sim->config->profile_count; i++)
        free(sim->bindings[i]);
    free(sim->devices);
    free(sim->buses);
    free(sim->bindings);
    sim_reply_close(&sim->rtu_reply);
    sim_reply_close(&sim->tcp_reply);
    if (sim->signal_fd >= 0)
        close(sim->signal_fd);
    sim_loop_close(&sim->loop);
    memset(sim, 0, sizeof *sim);
    sim->signal_fd = -1;
}

void sim_print_counters(const struct sim *sim)
{
    for (size_t i = 0; i < sim->config->bus_count; i++) {
        const struct sim_bus *bus = &sim->buses[i];
        if (bus->served)
            fprintf(stderr,
                    "safetygw-sim: bus %s: %zu devices, %llu requests served, %llu ignored, "
                    "%llu bad frames, %llu merged\n",
                    bus->def->name, bus->device_count, (unsigned long long)bus->served_requests,
                    (unsigned long long)bus->ignored_requests, (unsigned long long)bus->bad_frames,
                    (unsigned long long)bus->merged);
    }
}
