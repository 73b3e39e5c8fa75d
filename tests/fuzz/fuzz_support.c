/*
 * fuzz_support.c — temporary folder and configuration helpers for the fuzz
 * targets (fuzz_support.h).
 */
#include "fuzz_support.h"
#include "config_load.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char folder[64];

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_folder(void)
{
    if (folder[0] != '\0')
        nftw(folder, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void fail(const char *what, const char *path)
{
    fprintf(stderr, "fuzz harness: %s %s\n", what, path);
    abort();
}

const char *fuzz_folder(void)
{
    if (folder[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(folder, sizeof folder, "%s/safetygw-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        if (mkdtemp(folder) == NULL)
            fail("cannot create", folder);
        atexit(remove_folder);
    }
    return folder;
}

const char *fuzz_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_folder(), name);
    return path;
}

void fuzz_write(const char *name, const void *bytes, size_t length)
{
    const char *slash = strchr(name, '/');
    if (slash != NULL) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%.*s", fuzz_folder(), (int)(slash - name), name);
        mkdir(sub, 0700);
    }
    const char *path = fuzz_path(name);
    FILE *file = fopen(path, "wb");
    if (file == NULL || (length > 0 && fwrite(bytes, length, 1, file) != 1) || fclose(file) != 0)
        fail("cannot write", path);
}

void fuzz_remove(const char *name)
{
    unlink(fuzz_path(name));
}

/* text with every "@PROFILES@" and "@FOLDER@" replaced. */
static char *expand(const char *text)
{
    static const char *const names[] = {"@PROFILES@", "@FOLDER@"};
    const char *values[] = {SAFETYGW_PROFILES_DIR, fuzz_folder()};
    size_t capacity = strlen(text) * 16 + 1024, used = 0;
    char *out = malloc(capacity);
    if (out == NULL)
        fail("out of memory expanding", "a fixture");
    while (*text != '\0') {
        size_t n;
        for (n = 0; n < 2; n++)
            if (strncmp(text, names[n], strlen(names[n])) == 0)
                break;
        const char *piece = n < 2 ? values[n] : text;
        size_t length = n < 2 ? strlen(values[n]) : 1;
        if (used + length + 1 > capacity)
            fail("fixture too long:", text);
        memcpy(out + used, piece, length);
        used += length;
        text += n < 2 ? strlen(names[n]) : 1;
    }
    out[used] = '\0';
    return out;
}

struct config *fuzz_load_config(const char *name, const char *gateway_yaml)
{
    char *text = expand(gateway_yaml);
    fuzz_write(name, text, strlen(text));
    free(text);
    struct config_errors errors = {NULL, 0};
    struct config *config = config_load(fuzz_path(name), &errors);
    for (size_t i = 0; i < errors.count; i++)
        fprintf(stderr, "fuzz harness: %s\n", errors.messages[i]);
    config_errors_free(&errors);
    if (config == NULL)
        fail("the fixture does not load:", name);
    return config;
}

struct profile *fuzz_load_shipped_profile(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SAFETYGW_PROFILES_DIR, file);
    struct config_errors errors = {NULL, 0};
    struct profile *profile = config_load_profile_file(path, &errors);
    for (size_t i = 0; i < errors.count; i++)
        fprintf(stderr, "fuzz harness: %s\n", errors.messages[i]);
    config_errors_free(&errors);
    if (profile == NULL)
        fail("cannot load", path);
    return profile;
}

void fuzz_check_failed(const char *condition, const char *file, int line)
{
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, condition);
    abort();
}
