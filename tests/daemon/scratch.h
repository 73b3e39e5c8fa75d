/*
 * scratch.h — what the state-file tests share: a fresh folder per test, files
 * written and read whole by name, and the daemon's log lines captured from
 * stderr so a test can assert what the operator would see.
 */
#ifndef SAFETYGW_TEST_SCRATCH_H
#define SAFETYGW_TEST_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Makes a new empty folder under $TMPDIR (or /tmp) and returns its path (free with scratch_remove).
 */
char *scratch_folder(void);
/* Removes the folder and everything in it, and frees the path. */
void scratch_remove(char *folder);

/* folder/name, in a static buffer overwritten by the next call. */
const char *scratch_path(const char *folder, const char *name);
void scratch_write(const char *folder, const char *name, const char *data, size_t length);
void scratch_write_text(const char *folder, const char *name, const char *text);
/* The whole content, NUL-terminated (free it), or NULL when absent. */
char *scratch_read(const char *folder, const char *name, size_t *length);
bool scratch_exists(const char *folder, const char *name);

/* Between start and stop, stderr (the log) goes to a file; stop returns its text (free it). */
void log_capture_start(void);
char *log_capture_stop(void);

#endif
