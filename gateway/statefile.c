#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* Written by whichever thread writes a state file; read by health reporting. */
static atomic_bool write_failing;

bool statefile_write_failing(void)
{
    return atomic_load(&write_failing);
}

/* path with suffix appended, into a PATH_MAX buffer; -1 with ENAMETOOLONG if it does not fit. */
static int sibling_path(const char *path, const char *suffix, char *sibling)
{
    if (snprintf(sibling, PATH_MAX, "%s%s", path, suffix) >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return -1;
        if (written == 0) {
            errno = ENOSPC; /* no progress: the disk is full */
            return -1;
        }
        data += written;
        length -= (size_t)written;
    }
    return 0;
}

/* Makes a rename in path's folder durable: the folder's entries are data too. */
static int sync_folder(const char *path)
{
    char folder[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(folder, sizeof folder, ".");
    else if (slash == path)
        snprintf(folder, sizeof folder, "/");
    else
        snprintf(folder, sizeof folder, "%.*s", (int)(slash - path), path);
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* EINVAL: a filesystem that cannot sync a folder has nothing more to make durable. */
    int result = fsync(fd) == 0 || errno == EINVAL ? 0 : -1;
    int error_number = errno;
    close(fd);
    errno = error_number;
    return result;
}

/*
 * Makes path's content path.prev while path stays in place, as a second name
 * of the same file: at every step path, path.prev or both are whole.
 */
static int keep_previous(const char *path)
{
    char previous[PATH_MAX], staging[PATH_MAX];
    if (sibling_path(path, ".prev", previous) != 0 || sibling_path(path, ".prev.tmp", staging) != 0)
        return -1;
    unlink(staging); /* left by a crash */
    if (link(path, staging) == 0) {
        if (rename(staging, previous) != 0)
            return -1;
        /* Still there if previous already was this file: rename then does nothing. */
        unlink(staging);
        return 0;
    }
    if (errno == ENOENT)
        return 0; /* the first write, or a bad file set aside: nothing to keep */
    /*
     * No hard links here (a FAT disk; protected_hardlinks on a file another user
     * owns). Until the new file is renamed in, only path.prev exists, which
     * statefile_load accepts.
     */
    if (errno == EPERM || errno == EOPNOTSUPP)
        return rename(path, previous);
    return -1;
}

/* Drops the temporary file and returns -1 with error_number in errno. */
static int give_up(const char *temporary, int error_number)
{
    unlink(temporary);
    errno = error_number;
    return -1;
}

static int replace(const char *path, const struct iovec *parts, int count, unsigned options)
{
    char temporary[PATH_MAX];
    if (sibling_path(path, ".tmp", temporary) != 0)
        return -1;
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    for (int i = 0; i < count; i++)
        if (write_all(fd, parts[i].iov_base, parts[i].iov_len) != 0) {
            int error_number = errno;
            close(fd);
            return give_up(temporary, error_number);
        }
    if ((options & STATEFILE_DURABLE) && fsync(fd) != 0) {
        int error_number = errno;
        close(fd);
        return give_up(temporary, error_number);
    }
    if (close(fd) != 0)
        return give_up(temporary, errno);
    if ((options & STATEFILE_KEEP_PREVIOUS) && keep_previous(path) != 0)
        return give_up(temporary, errno);
    if (rename(temporary, path) != 0)
        return give_up(temporary, errno);
    if ((options & STATEFILE_DURABLE) && sync_folder(path) != 0)
        return -1; /* replaced, but perhaps not durably */
    return 0;
}

int statefile_write_parts(const char *path, const struct iovec *parts, int count, unsigned options)
{
    int result = replace(path, parts, count, options);
    if (options & STATEFILE_DURABLE)
        atomic_store(&write_failing, result != 0);
    return result;
}

int statefile_write(const char *path, const char *data, size_t length)
{
    struct iovec part = {.iov_base = (void *)data, .iov_len = length};
    return statefile_write_parts(path, &part, 1, STATEFILE_DURABLE | STATEFILE_KEEP_PREVIOUS);
}

/* Reads fd to its end into a buffer that grows as needed, NUL-terminated. */
static char *read_to_end(int fd, size_t size_hint, size_t max_size, size_t *length)
{
    size_t limit = max_size + 1; /* one byte more tells a file too large from one that fits */
    size_t capacity = size_hint < max_size ? size_hint + 1 : limit;
    size_t total = 0;
    char *data = malloc(capacity + 1);
    while (data) {
        if (total == capacity && capacity < limit) {
            capacity = capacity < limit / 2 ? capacity * 2 + 64 : limit;
            char *larger = realloc(data, capacity + 1);
            if (!larger) {
                free(data);
                return NULL;
            }
            data = larger;
        }
        if (total == capacity)
            break;
        ssize_t got = read(fd, data + total, capacity - total);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int error_number = errno;
            free(data);
            errno = error_number;
            return NULL;
        }
        if (got == 0)
            break;
        total += (size_t)got;
    }
    if (data && total > max_size) {
        free(data);
        errno = EFBIG;
        return NULL;
    }
    if (data) {
        data[total] = '\0';
        *length = total;
    }
    return data;
}

char *statefile_read(const char *path, size_t max_size, size_t *length)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct stat status;
    char *data = NULL;
    int stat_result = fstat(fd, &status);
    if (stat_result == 0 && S_ISREG(status.st_mode))
        data = read_to_end(fd, (size_t)status.st_size, max_size, length);
    else if (stat_result == 0)
        errno = S_ISDIR(status.st_mode) ? EISDIR : EINVAL;
    int error_number = errno;
    close(fd);
    errno = error_number;
    return data;
}

enum generation { GENERATION_ABSENT, GENERATION_BAD, GENERATION_PARSED };

static enum generation parse_generation(const char *path, size_t max_size,
                                        statefile_parse_fn *parse, void *context, char *why,
                                        size_t why_size)
{
    size_t length;
    char *data = statefile_read(path, max_size, &length);
    if (!data && errno == ENOENT) {
        snprintf(why, why_size, "absent");
        return GENERATION_ABSENT;
    }
    if (!data && errno == EFBIG) {
        snprintf(why, why_size, "larger than %zu bytes", max_size);
        return GENERATION_BAD;
    }
    if (!data) {
        snprintf(why, why_size, "cannot read: %s", strerror(errno));
        return GENERATION_BAD;
    }
    int parsed = parse(data, length, context, why, why_size);
    free(data);
    return parsed == 0 ? GENERATION_PARSED : GENERATION_BAD;
}

int statefile_set_aside(const char *path)
{
    char aside[PATH_MAX];
    if (sibling_path(path, ".corrupt", aside) != 0 || rename(path, aside) != 0) {
        log_warning("cannot move the bad %s aside to %s.corrupt: %s", path, path, strerror(errno));
        return -1;
    }
    return 0;
}

int statefile_load(const char *path, size_t max_size, statefile_parse_fn *parse, void *context,
                   char *error, size_t error_size)
{
    char previous[PATH_MAX];
    if (sibling_path(path, ".prev", previous) != 0) {
        snprintf(error, error_size, "%s: path too long", path);
        return -1;
    }
    char current_why[256], previous_why[256];
    enum generation current =
        parse_generation(path, max_size, parse, context, current_why, sizeof current_why);
    if (current == GENERATION_PARSED)
        return STATEFILE_CURRENT;
    enum generation older =
        parse_generation(previous, max_size, parse, context, previous_why, sizeof previous_why);
    if (older == GENERATION_PARSED && current == GENERATION_ABSENT) {
        log_warning("%s is missing; using the previous generation %s", path, previous);
        return STATEFILE_PREVIOUS;
    }
    if (older == GENERATION_PARSED) {
        log_error("%s is corrupt (%s); using the previous generation %s", path, current_why,
                  previous);
        statefile_set_aside(path);
        return STATEFILE_PREVIOUS;
    }
    if (current == GENERATION_ABSENT && older == GENERATION_ABSENT)
        return STATEFILE_ABSENT;
    snprintf(error, error_size, "%s: %s; %s: %s", path, current_why, previous, previous_why);
    return -1;
}
