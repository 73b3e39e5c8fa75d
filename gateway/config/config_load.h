/*
 * config_load.h — the loader's entry points: load gateway.yaml and the
 * profiles it names, or one profile file alone, and free what a load made.
 * The types they fill are in config.h, which the section readers share; this
 * header stands above them (config_load.c calls the readers, never the
 * other way round).
 */
#ifndef SAFETYGW_CONFIG_LOAD_H
#define SAFETYGW_CONFIG_LOAD_H

#include "config.h"

/*
 * Loads path and the profiles it names. On success returns the configuration
 * and leaves errors empty; on failure returns NULL with every error found (not
 * only the first) in errors. Free errors with config_errors_free either way.
 */
struct config *config_load(const char *path, struct config_errors *errors);
void config_free(struct config *config);
void config_errors_free(struct config_errors *errors);

/*
 * config_load for the daemon: every error goes to the log (after prefix), then
 * a last line "path: N errors; outcome". Returns NULL when there were errors.
 */
struct config *config_load_logged(const char *path, const char *prefix, const char *outcome);

/* Loads one profile file on its own (for `safetygw probe --profile FILE`); same errors. */
struct profile *config_load_profile_file(const char *path, struct config_errors *errors);
void config_free_profile(struct profile *profile);

#endif
