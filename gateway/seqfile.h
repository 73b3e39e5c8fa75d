/*
 * seqfile.h — the alarm event sequence number on disk (state_dir/seq), so
 * that seq never repeats across restarts: consumers drop an event whose seq
 * they have seen.
 *
 * Owned by one thread (the uplink): it opens the file once at start, hands out
 * seq numbers, and commits the highest one before the events that carry them
 * leave (group commit: one durable write per batch). A crash can then skip
 * numbers, never reuse one.
 *
 * The file holds the last seq handed out, in decimal, and a newline. It is
 * written with statefile's generations, so seq.prev holds the one before.
 */
#ifndef SAFETYGW_SEQFILE_H
#define SAFETYGW_SEQFILE_H

#include <stddef.h>
#include <stdint.h>

/* seq stays exactly representable as a JSON number read into a double. */
#define SEQFILE_MAX ((uint64_t)1 << 53)

/*
 * The most seq numbers on disk between seq.prev and seq (a larger commit is
 * written in two steps). Resuming from seq.prev, when seq is lost, skips this
 * many: consumers see a gap, never a repeated seq, which they would drop.
 */
#define SEQFILE_STEP_MAX 1000

/*
 * Opens state_dir/seq: strict parse (only decimal digits, optional trailing
 * newline, value 0..2^53), falls back to seq.prev with a log line and then
 * resumes SEQFILE_STEP_MAX past it; refuses (returns -1, error text in error)
 * when the state dir is not writable (probed by actually writing the seq
 * file) or when neither generation parses but one exists (says which file and
 * what is wrong; an absent file is a fresh start = 0). floor_seq: the highest
 * seq the caller knows from elsewhere (the MQTT queue, mqtt_store_highest_seq);
 * the result is max(file, floor). Fills *last_used with the last seq ever
 * handed out: the next event gets *last_used + 1.
 */
int seqfile_open(const char *state_dir, uint64_t floor_seq, uint64_t *last_used, char *error,
                 size_t error_size);

/*
 * Durably records that every seq up to last_used may have been published
 * (one fsync, two for a step above SEQFILE_STEP_MAX; nothing when last_used
 * is already recorded; a lower number is refused). 0, or -1 with
 * errno; on failure logs critical and sets the statefile failing flag.
 */
int seqfile_commit(uint64_t last_used);

#endif
