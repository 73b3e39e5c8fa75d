/*
 * statefile.h — replaces a small file in state_dir so that a crash leaves
 * either the old content or the new, never a torn mix: write a temporary file
 * beside it, then rename it over the old one. A failed write (a full disk)
 * is reported, never taken for a success.
 */
#ifndef SAFETYGW_STATEFILE_H
#define SAFETYGW_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/*
 * Writes parts[0..count) in order as path's new content. durable: fsync before
 * the rename, so the content also survives a power cut. Returns 0, or -1 with
 * errno set (nothing replaced).
 */
int statefile_write_parts(const char *path, const struct iovec *parts, int count, bool durable);

/* One buffer, durably. */
int statefile_write(const char *path, const char *data, size_t length);

#endif
