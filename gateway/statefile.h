/*
 * statefile.h — replaces a small file in state_dir so that a crash leaves
 * either the old content or the new, never a torn mix: write a temporary file
 * beside it, then rename it over the old one. A failed write (a full disk)
 * is reported, never taken for a success.
 *
 * Generations: a state file (seq, active-alarms.json) also keeps the content
 * it replaced as PATH.prev, so a current file that a disk later damages still
 * has a whole predecessor. At every instant of a replace at least one of PATH
 * and PATH.prev is whole, and statefile_load falls back from one to the other.
 */
#ifndef SAFETYGW_STATEFILE_H
#define SAFETYGW_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

enum statefile_options {
    /* fsync the file before the rename and the folder after it: survives a power cut. */
    STATEFILE_DURABLE = 1 << 0,
    /* The replaced content stays as PATH.prev. */
    STATEFILE_KEEP_PREVIOUS = 1 << 1,
};

/*
 * Writes parts[0..count) in order as path's new content. Returns 0, or -1 with
 * errno set: path unchanged, unless only the last step (syncing the folder)
 * failed. A durable write also sets or clears the process-wide failing flag.
 */
int statefile_write_parts(const char *path, const struct iovec *parts, int count, unsigned options);

/* One buffer, durably, keeping the previous generation. */
int statefile_write(const char *path, const char *data, size_t length);

/*
 * True from a failed durable write until the next successful one, whichever
 * thread wrote: the state on disk may be behind what was published.
 */
bool statefile_write_failing(void);

/*
 * The whole of path in a new buffer (free it), NUL-terminated after *length
 * bytes. NULL with errno: ENOENT when absent, EFBIG when larger than max_size,
 * EISDIR or EINVAL when not a regular file, or the read's own error.
 */
char *statefile_read(const char *path, size_t max_size, size_t *length);

/*
 * A caller's strict parse of one generation's bytes. Returns 0, or -1 with
 * what is wrong in why; on failure it must leave context as it found it.
 */
typedef int statefile_parse_fn(const char *data, size_t length, void *context, char *why,
                               size_t why_size);

enum statefile_source {
    STATEFILE_ABSENT,   /* neither generation exists: a fresh start */
    STATEFILE_CURRENT,  /* path parsed */
    STATEFILE_PREVIOUS, /* path was missing or bad, path.prev parsed (logged) */
};

/*
 * Reads path and parses it; when that fails, path.prev. Falling back is logged
 * with the reason, and a bad current file is moved aside to path.corrupt so
 * the next write does not keep it as the previous generation. Returns a
 * statefile_source, or -1 when a generation exists but none parses, with
 * each file and what is wrong with it in error (nothing moved).
 */
int statefile_load(const char *path, size_t max_size, statefile_parse_fn *parse, void *context,
                   char *error, size_t error_size);

/* Renames path to path.corrupt, to keep a bad file for the operator; 0 or -1 (logged). */
int statefile_set_aside(const char *path);

#endif
