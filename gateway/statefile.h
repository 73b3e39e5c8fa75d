/*
 * statefile.h — replaces a small file in state_dir so that a crash or power
 * cut leaves either the old content or the new, never a torn mix: write a
 * temporary file, fsync it, rename it over the old one.
 */
#ifndef SAFETYGW_STATEFILE_H
#define SAFETYGW_STATEFILE_H

#include <stddef.h>

/* Returns 0, or -1 with errno set (nothing replaced). */
int statefile_write(const char *path, const char *data, size_t length);

#endif
