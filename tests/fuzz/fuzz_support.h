/*
 * fuzz_support.h — what the libFuzzer targets share: one private temporary
 * folder per fuzzing process for the files a loader insists on reading, and
 * the configurations built from the shipped profiles.
 *
 * A target runs single-threaded in one process; nothing here is thread-safe.
 * Any failure of the harness itself (not of the code under test) aborts with a
 * message, so that it is never mistaken for a quiet pass.
 */
#ifndef SAFETYGW_FUZZ_SUPPORT_H
#define SAFETYGW_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The folder, created on first use and removed with everything in it at exit. */
const char *fuzz_folder(void);

/* folder/name in a static buffer, valid until the next call. */
const char *fuzz_path(const char *name);

/* Writes bytes to folder/name, replacing it; makes folder/name's first folder if needed. */
void fuzz_write(const char *name, const void *bytes, size_t length);

/* Removes folder/name if present. */
void fuzz_remove(const char *name);

/*
 * Writes gateway_yaml to folder/name and loads it; aborts with every error when
 * it does not load. "@PROFILES@" in the text stands for the shipped profile
 * folder and "@FOLDER@" for the temporary folder.
 */
struct config *fuzz_load_config(const char *name, const char *gateway_yaml);

/* A shipped profile (config/profiles/<file>), loaded or aborts. */
struct profile *fuzz_load_shipped_profile(const char *file);

/* Stops the fuzzer with a crash when condition is false: a broken invariant is a finding. */
#define FUZZ_CHECK(condition)                                                                      \
    ((condition) ? (void)0 : fuzz_check_failed(#condition, __FILE__, __LINE__))
void fuzz_check_failed(const char *condition, const char *file, int line) __attribute__((noreturn));

#endif
