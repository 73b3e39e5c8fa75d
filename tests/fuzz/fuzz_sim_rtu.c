/*
 * fuzz_sim_rtu.c — the simulator's RTU line (sensors/sim/sim_rtu.c) on
 * arbitrary bytes from the master: framing by function code and silence, CRC
 * checks, broadcast, and each request decoded and answered by its simulated
 * device (sim_answer, sim_reply.c's checks, libmodbus's modbus_reply).
 *
 * A real simulator runs one RTU bus (a pty, its link in the harness folder)
 * with a gas alarm at address 1, an elevator at 2 and a charger at 3, without
 * wire delay so that replies leave at once; the harness reads and drops them
 * from the link's side. The loop is never run: bytes go in through
 * sim_rtu_receive() and silence through sim_rtu_silence().
 *
 * Input: [0] chunk size (0: everything at once), [1] flags: bit 0 silence
 * after every chunk, bits 1-3 a fault for the gas alarm (silent, bad_crc,
 * slow, exception), bit 4 the bus down. The rest are the master's bytes. A
 * silence ends every input, and the faults are healed, so inputs do not leak
 * into each other beyond what the devices were written.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_support.h"
#include "sim.h"
#include "sim_rtu.h"

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
static struct sim_bus *line;
static int line_fd = -1; /* the gateway's end of the pty, where replies arrive */

static void close_sim(void)
{
    sim_close(&sim);
    if (line_fd >= 0)
        close(line_fd);
    config_free(config);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
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
    line = sim_find_bus(&sim, "line-a");
    FUZZ_CHECK(line != NULL && line->rtu != NULL);
    line_fd = open(fuzz_path("line-a"), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    FUZZ_CHECK(line_fd >= 0);
    atexit(close_sim);
    return 0;
}

static void drop_replies(void)
{
    uint8_t discard[512];
    while (read(line_fd, discard, sizeof discard) > 0)
        ;
}

static void set_faults(uint8_t flags)
{
    static const enum sim_fault faults[] = {SIM_FAULT_NONE, SIM_FAULT_SILENT, SIM_FAULT_BAD_CRC,
                                            SIM_FAULT_SLOW, SIM_FAULT_EXCEPTION};
    struct sim_device *gas = line->by_address[1];
    gas->fault = faults[((flags >> 1) & 7) % 5];
    gas->fault_exception = (uint8_t)(1 + (flags >> 5) % 11);
    line->down = (flags & 0x10) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t chunk = data[0] ? data[0] : size;
    bool silence_between = data[1] & 1;
    set_faults(data[1]);
    for (size_t offset = 2; offset < size; offset += chunk) {
        size_t length = size - offset < chunk ? size - offset : chunk;
        sim_rtu_receive(line, data + offset, length);
        if (silence_between)
            sim_rtu_silence(line);
        drop_replies();
    }
    sim_rtu_silence(line);
    drop_replies();
    set_faults(0);
    return 0;
}
