#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

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

/* Drops the temporary file and returns -1 with error_number in errno. */
static int give_up(const char *temporary, int error_number)
{
    unlink(temporary);
    errno = error_number;
    return -1;
}

int statefile_write_parts(const char *path, const struct iovec *parts, int count, bool durable)
{
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.tmp", path) >= (int)sizeof temporary) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    for (int i = 0; i < count; i++)
        if (write_all(fd, parts[i].iov_base, parts[i].iov_len) != 0) {
            int error_number = errno;
            close(fd);
            return give_up(temporary, error_number);
        }
    if (durable && fsync(fd) != 0) {
        int error_number = errno;
        close(fd);
        return give_up(temporary, error_number);
    }
    if (close(fd) != 0 || rename(temporary, path) != 0)
        return give_up(temporary, errno);
    return 0;
}

int statefile_write(const char *path, const char *data, size_t length)
{
    struct iovec part = {.iov_base = (void *)data, .iov_len = length};
    return statefile_write_parts(path, &part, 1, true);
}
