/*
 * fuzz_sim_rtu.c — the simulator's RTU line (sensors/sim/sim_rtu.c) on
 * arbitrary bytes from the master: framing by function code and silence, CRC
 * checks, broadcast, and each request decoded and answered by its simulated
 * device (sim_answer, sim_reply.c's checks, libmodbus's modbus_reply).
 *
 * A real simulator (fuzz_sim_fixture.h) runs one RTU bus with a gas alarm at
 * address 1, an elevator at 2 and a charger at 3, without wire delay so that
 * replies leave at once; the harness reads and drops them from the line's
 * other end. The loop is never run: bytes go in through sim_rtu_receive()
 * and silence through sim_rtu_silence().
 *
 * Input: [0] chunk size (0: everything at once), [1] flags: bit 0 silence
 * after every chunk, bits 1-3 a fault for the gas alarm (silent, bad_crc,
 * slow, exception), bit 4 the bus down. The rest are the master's bytes. A
 * silence ends every input, and the faults are healed, so inputs do not leak
 * into each other beyond what the devices were written.
 */
#include <stdbool.h>

#include "fuzz_sim_fixture.h"
#include "fuzz_support.h"
#include "sim_rtu.h"

static struct sim *sim;
static struct sim_bus *line;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sim = fuzz_sim_open();
    line = sim_find_bus(sim, "line-a");
    FUZZ_CHECK(line != NULL && line->rtu != NULL);
    return 0;
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
        fuzz_sim_drop_replies();
    }
    sim_rtu_silence(line);
    fuzz_sim_drop_replies();
    fuzz_sim_reset(sim);
    return 0;
}
