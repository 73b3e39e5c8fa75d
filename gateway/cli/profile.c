#include "profile.h"
#include "config_load.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_path(const char *profile)
{
    size_t length = strlen(profile);
    return strchr(profile, '/') || (length > 5 && strcmp(profile + length - 5, ".yaml") == 0) ||
           (length > 4 && strcmp(profile + length - 4, ".yml") == 0);
}

static struct profile *load_file(const char *path, bool report)
{
    struct config_errors errors = {0};
    struct profile *profile = config_load_profile_file(path, &errors);
    for (size_t i = 0; report && i < errors.count; i++)
        fprintf(stderr, "%s\n", errors.messages[i]);
    config_errors_free(&errors);
    return profile;
}

/* The profile called name among folder's *.yaml files. */
static struct profile *find_in_folder(const char *command, const char *name, const char *folder)
{
    DIR *dir = opendir(folder);
    if (!dir) {
        fprintf(stderr,
                "safetygw %s: cannot read profile folder %s: %s (use --profiles DIR "
                "or a profile file)\n",
                command, folder, strerror(errno));
        return NULL;
    }
    struct profile *found = NULL;
    struct dirent *entry;
    while (!found && (entry = readdir(dir))) {
        if (entry->d_name[0] == '.' || !is_path(entry->d_name))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", folder, entry->d_name);
        struct profile *profile = load_file(path, false);
        if (profile && strcmp(profile->name, name) == 0)
            found = profile;
        else if (profile)
            config_free_profile(profile);
    }
    closedir(dir);
    if (!found)
        fprintf(stderr, "safetygw %s: no profile named \"%s\" in %s\n", command, name, folder);
    return found;
}

struct profile *cli_profile_load(const char *command, const char *name_or_file, const char *folder)
{
    if (is_path(name_or_file))
        return load_file(name_or_file, true);
    return find_in_folder(command, name_or_file, folder ? folder : CLI_PROFILE_FOLDER);
}
