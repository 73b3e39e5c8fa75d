#include "seqfile.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "statefile.h"

/* The uplink thread's alone (see seqfile.h). */
static char seq_path[PATH_MAX];
static uint64_t committed_seq;

/* "9007199254740992\n" is 17 bytes; a larger file is not ours. */
#define SEQ_FILE_MAX 64

/* Strict: decimal digits, at most one trailing newline, no sign, no space, at most 2^53. */
static int parse_seq(const char *data, size_t length, void *context, char *why, size_t why_size)
{
    size_t digits = length > 0 && data[length - 1] == '\n' ? length - 1 : length;
    if (digits == 0) {
        snprintf(why, why_size, "empty");
        return -1;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < digits; i++) {
        unsigned char byte = (unsigned char)data[i];
        if (!isdigit(byte)) {
            if (isprint(byte))
                snprintf(why, why_size, "'%c' at byte %zu is not a decimal digit", byte, i);
            else
                snprintf(why, why_size, "byte 0x%02x at offset %zu is not a decimal digit", byte,
                         i);
            return -1;
        }
        unsigned digit = byte - '0';
        if (value > (SEQFILE_MAX - digit) / 10) {
            snprintf(why, why_size, "%.*s is larger than 2^53", (int)digits, data);
            return -1;
        }
        value = value * 10 + digit;
    }
    *(uint64_t *)context = value;
    return 0;
}

static int write_seq(uint64_t seq)
{
    char text[32];
    int length = snprintf(text, sizeof text, "%" PRIu64 "\n", seq);
    return statefile_write(seq_path, text, (size_t)length);
}

/* Replaces recorded with seq keeping seq - seq.prev <= SEQFILE_STEP_MAX (seqfile.h). */
static int record(uint64_t recorded, uint64_t seq)
{
    if (seq - recorded > SEQFILE_STEP_MAX && write_seq(seq - SEQFILE_STEP_MAX) != 0)
        return -1;
    return write_seq(seq);
}

static void log_resume(int source, uint64_t saved, uint64_t floor_seq)
{
    if (floor_seq > saved)
        log_info("seq: resuming after %" PRIu64 ", the highest in the MQTT queue (%s: %" PRIu64 ")",
                 floor_seq, seq_path, saved);
    else if (source == STATEFILE_ABSENT)
        log_info("seq: %s is absent; a fresh start", seq_path);
    else if (source == STATEFILE_PREVIOUS)
        log_warning("seq: resuming after %" PRIu64 ", %d past %s.prev: consumers will see a gap "
                    "rather than a repeated seq",
                    saved, SEQFILE_STEP_MAX, seq_path);
    else
        log_info("seq: resuming after %" PRIu64 " (%s)", saved, seq_path);
}

int seqfile_open(const char *state_dir, uint64_t floor_seq, uint64_t *last_used, char *error,
                 size_t error_size)
{
    committed_seq = 0;
    if (snprintf(seq_path, sizeof seq_path, "%s/seq", state_dir) >= (int)sizeof seq_path) {
        snprintf(error, error_size, "state_dir %s: path too long", state_dir);
        return -1;
    }
    if (floor_seq > SEQFILE_MAX) {
        snprintf(error, error_size, "the MQTT queue's highest seq %" PRIu64 " is beyond 2^53",
                 floor_seq);
        return -1;
    }
    if (mkdir(state_dir, 0750) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "cannot create state_dir %s: %s", state_dir, strerror(errno));
        return -1;
    }
    uint64_t saved = 0;
    char why[2 * PATH_MAX + 600];
    int source = statefile_load(seq_path, SEQ_FILE_MAX, parse_seq, &saved, why, sizeof why);
    if (source < 0) {
        snprintf(error, error_size,
                 "no valid seq in %s or its previous generation (%s); refusing to start, since "
                 "seq numbers could repeat: write the last published seq into %s",
                 seq_path, why, seq_path);
        return -1;
    }
    uint64_t recorded = saved;
    if (source == STATEFILE_PREVIOUS)
        saved = saved < SEQFILE_MAX - SEQFILE_STEP_MAX ? saved + SEQFILE_STEP_MAX : SEQFILE_MAX;
    uint64_t last = saved > floor_seq ? saved : floor_seq;
    /* The probe: a state_dir that cannot be written would repeat seq after every restart. */
    if (record(recorded, last) != 0) {
        snprintf(error, error_size,
                 "cannot write %s: %s; state_dir must be writable, or seq numbers would repeat "
                 "after a restart",
                 seq_path, strerror(errno));
        return -1;
    }
    log_resume(source, saved, floor_seq);
    committed_seq = last;
    *last_used = last;
    return 0;
}

int seqfile_commit(uint64_t last_used)
{
    if (seq_path[0] == '\0') {
        log_error("seq: commit of %" PRIu64 " before the seq file was opened", last_used);
        errno = EBADF;
        return -1;
    }
    if (last_used == committed_seq)
        return 0;
    if (last_used < committed_seq) {
        log_error("seq: refusing to record %" PRIu64 " in %s, below the recorded %" PRIu64,
                  last_used, seq_path, committed_seq);
        errno = EINVAL;
        return -1;
    }
    if (last_used > SEQFILE_MAX) {
        log_critical("seq: %" PRIu64 " is beyond 2^53; not recorded in %s", last_used, seq_path);
        errno = EOVERFLOW;
        return -1;
    }
    if (record(committed_seq, last_used) != 0) {
        int error_number = errno;
        log_critical("seq: cannot record %" PRIu64 " in %s: %s; after a restart seq numbers "
                     "may repeat",
                     last_used, seq_path, strerror(error_number));
        errno = error_number;
        return -1;
    }
    committed_seq = last_used;
    return 0;
}
