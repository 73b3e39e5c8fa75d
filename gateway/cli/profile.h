/*
 * profile.h — a device profile named on the command line of `probe` and
 * `scan`: a profile file, or a profile's name looked up among the *.yaml
 * files of a folder (--profiles, default /etc/safetygw/profiles).
 */
#ifndef SAFETYGW_CLI_PROFILE_H
#define SAFETYGW_CLI_PROFILE_H

#include "config.h"

#define CLI_PROFILE_FOLDER "/etc/safetygw/profiles"

/*
 * Loads the profile name_or_file names (a path when it has a slash or ends in
 * .yaml/.yml; else a name in folder, NULL: the default). Returns it (free
 * with config_free_profile), or NULL after saying why on stderr.
 */
struct profile *cli_profile_load(const char *command, const char *name_or_file, const char *folder);

#endif
