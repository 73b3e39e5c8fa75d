/*
 * fuzz_sim_fixture.c — the simulator the simulator's fuzz targets share
 * (fuzz_sim_fixture.h).
 */
#include "fuzz_sim_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_support.h"
#include "log.h"
#include "sim_kind.h"
#include "config_load.h"

static const char *const gateway_yaml =
    "gateway: { id: fuzz-sim }\n"
    "mqtt: { uri: \"tcp://127.0.0.1:1883\" }\n"
    "profiles: [ @PROFILES@ ]\n"
    "buses:\n"
    "  - { name: line-a, type: rtu, port: @FOLDER@/line-a, baud: 9600, timeout_ms: 300 }\n"
    "devices:\n"
    "  - { id: gas-1, profile: gas-alarm, bus: line-a, address: 1 }\n"
    "  - { id: lift-2, profile: elevator, bus: line-a, address: 2 }\n"
    "  - { id: ebike-3, profile: ebike-charger-10, bus: line-a, address: 3 }\n";

static struct config *config;
static struct sim sim;
static int line_fd = -1; /* the gateway's end of the pty, where replies arrive */

static void close_sim(void)
{
    sim_close(&sim);
    if (line_fd >= 0)
        close(line_fd);
    config_free(config);
}

struct sim *fuzz_sim_open(void)
{
    log_set_level(log_level_from_name("warning")); /* not a line per fault or hazard */
    config = fuzz_load_config("gateway.yaml", gateway_yaml);
    struct sim_options options = {.wire_delay = false, .seed = 1};
    char error[512];
    if (sim_open(&sim, config, &options, error, sizeof error) != 0) {
        fprintf(stderr, "fuzz harness: %s\n", error);
        FUZZ_CHECK(!"the simulator opens");
    }
    /* sim_open blocks SIGINT and SIGTERM for its signalfd: give them back to libFuzzer. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &signals, NULL);
    line_fd = open(fuzz_path("line-a"), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    FUZZ_CHECK(line_fd >= 0);
    atexit(close_sim);
    return &sim;
}

void fuzz_sim_drop_replies(void)
{
    uint8_t discard[512];
    while (read(line_fd, discard, sizeof discard) > 0)
        ;
}

void fuzz_sim_reset(struct sim *simulator)
{
    for (size_t b = 0; b < simulator->config->bus_count; b++)
        simulator->buses[b].down = false;
    for (size_t d = 0; d < simulator->config->device_count; d++) {
        struct sim_device *device = &simulator->devices[d];
        device->fault = SIM_FAULT_NONE;
        sim_device_unpin_all(device);
        device->kind->calm(device);
    }
    simulator->loop.stop = false; /* a `quit` */
}
