/*
 * sim.h — the simulator: every bus of a site and the devices on it, served
 * from one event loop.
 *
 * Ownership: struct sim owns the loop, the buses (with their transports), the
 * devices, the per-profile behaviour bindings, the control socket and the
 * scenario. The configuration is the caller's and must outlive the sim. All
 * of it is touched only from the loop's thread.
 */
#ifndef SAFETYGW_SIM_H
#define SAFETYGW_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sim_device.h"
#include "sim_loop.h"
#include "sim_reply.h"

struct sim_options {
    bool wire_delay;           /* rtu buses wait the wire time (false: --no-wire-delay) */
    bool lenient;              /* rtu: a request sent within t3.5 of the last frame still counts */
    uint32_t latency_ms;       /* device reply latency on rtu buses */
    const char *control_path;  /* Unix socket of the control protocol, or NULL */
    const char *scenario_path; /* scenario YAML, or NULL */
    uint64_t seed;
    const char *const *only_buses; /* serve only these buses; NULL: all */
    size_t only_bus_count;
};

struct sim_rtu;
struct sim_tcp;

struct sim_bus {
    const struct bus_def *def;
    struct sim *sim;
    bool served;                        /* false when left out by --only-bus */
    bool down;                          /* `fault bus NAME down`: nothing on it answers */
    struct sim_device *by_address[248]; /* slave address / unit id -> device */
    size_t device_count;
    struct sim_rtu *rtu;
    struct sim_tcp *tcp;
    uint64_t served_requests;  /* answered, exceptions included */
    uint64_t ignored_requests; /* not answered: unknown address, silent, down */
    uint64_t bad_frames;       /* CRC or framing errors in requests */
    uint64_t merged;           /* rtu: requests lost to a master that did not keep t3.5 */
};

struct sim_control;
struct sim_scenario;

struct sim {
    const struct config *config;
    struct sim_options options;
    struct sim_loop loop;
    struct sim_bus *buses;      /* parallel to config->buses */
    struct sim_device *devices; /* parallel to config->devices */
    void **bindings;            /* parallel to config->profiles */
    struct sim_reply rtu_reply; /* libmodbus reply builders, one per framing */
    struct sim_reply tcp_reply;
    struct sim_control *control;
    struct sim_scenario *scenario;
    uint64_t start_ns;
    int signal_fd;
    struct sim_watch signal_watch;
};

/* Builds everything and opens every served bus. 0, or -1 with the reason in error. */
int sim_open(struct sim *sim, const struct config *config, const struct sim_options *options,
             char *error, size_t error_size);
/* Runs until `quit`, SIGINT or SIGTERM. */
int sim_run(struct sim *sim);
/* Closes buses (removing their symlinks), the control socket; frees everything. */
void sim_close(struct sim *sim);

struct sim_device *sim_find_device(struct sim *sim, const char *id);
/*
 * The device at a request's slave address (RTU) or unit id (TCP): any byte
 * off the wire, so NULL for 248..255 (reserved, Modbus over serial line §2.2)
 * as for an address nobody holds.
 */
struct sim_device *sim_bus_device(const struct sim_bus *bus, uint8_t address);
struct sim_bus *sim_find_bus(struct sim *sim, const char *name);

/* Current simulated step, for sim_device_advance. */
uint64_t sim_step_now(const struct sim *sim);

/*
 * Everything a transport does with a request for a known device: applies the
 * bus and device faults, advances the device, builds the reply with
 * libmodbus, runs the behaviour of writes, counts. The reply goes to rsp.
 */
enum sim_answer {
    SIM_ANSWER_NONE,    /* stay silent */
    SIM_ANSWER_NOW,     /* send rsp */
    SIM_ANSWER_CORRUPT, /* send rsp after corrupting it (bad_crc) */
    SIM_ANSWER_LATE,    /* send rsp after sim_late_ns */
};
enum sim_answer sim_answer(struct sim_device *device, struct sim_reply *reply, const uint8_t *req,
                           int req_length, uint8_t *rsp, int *rsp_length);
uint64_t sim_late_ns(const struct sim_bus *bus);

/* Prints every served bus's counters to stderr. */
void sim_print_counters(const struct sim *sim);

#endif
