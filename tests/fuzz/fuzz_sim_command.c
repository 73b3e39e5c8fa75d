/*
 * fuzz_sim_command.c — the simulator's control language
 * (sensors/sim/sim_command.c: set, get, hazard, calm, fault, heal, counters,
 * quit, help) on arbitrary lines, as its control socket and scenario files
 * hand them over.
 *
 * The input is cut into lines at '\n' as sim_control.c cuts what a client
 * sends (a trailing '\r' dropped, empty lines skipped, at most 1023 bytes a
 * line, a NUL ending the command early), and each line is run against the
 * simulator of fuzz_sim_fixture.h. After each input every device is healed
 * and calmed, so one input's faults and pinned values do not outlive it.
 *
 * Checked: every reply is terminated within its buffer and says "ok" exactly
 * when the command returned 0, "error: " otherwise.
 */
#include <string.h>

#include "fuzz_sim_fixture.h"
#include "fuzz_support.h"
#include "sim_command.h"

#define LINE_CAPACITY 1024 /* sim_control.c's */
#define REPLY_CAPACITY 1024

static struct sim *sim;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sim = fuzz_sim_open();
    return 0;
}

static void run_line(const char *line)
{
    char reply[REPLY_CAPACITY];
    memset(reply, 0x55, sizeof reply);
    int result = sim_command_run(sim, line, reply, sizeof reply - 1); /* room for its '\n' */
    FUZZ_CHECK(memchr(reply, '\0', sizeof reply - 1) != NULL);
    if (result == 0)
        FUZZ_CHECK(strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' || reply[2] == ' '));
    else
        FUZZ_CHECK(result == -1 && strncmp(reply, "error: ", 7) == 0);
    (void)sim_command_known(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t offset = 0;
    while (offset < size) {
        const uint8_t *end = memchr(data + offset, '\n', size - offset);
        size_t length = (end ? (size_t)(end - data) : size) - offset;
        char line[LINE_CAPACITY];
        size_t kept = length < LINE_CAPACITY - 1 ? length : LINE_CAPACITY - 1;
        memcpy(line, data + offset, kept);
        line[kept] = '\0';
        if (kept > 0 && line[kept - 1] == '\r')
            line[kept - 1] = '\0';
        if (line[0] != '\0')
            run_line(line);
        offset += length + 1;
    }
    fuzz_sim_drop_replies();
    fuzz_sim_reset(sim);
    return 0;
}
