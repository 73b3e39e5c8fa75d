#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int statefile_write(const char *path, const char *data, size_t length)
{
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.tmp", path) >= (int)sizeof temporary) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    ssize_t written = write(fd, data, length);
    int saved_errno = written < 0 ? errno : ENOSPC; /* a short write means a full disk */
    if (written != (ssize_t)length || fsync(fd) != 0) {
        if (written == (ssize_t)length)
            saved_errno = errno;
        close(fd);
        unlink(temporary);
        errno = saved_errno;
        return -1;
    }
    if (close(fd) != 0 || rename(temporary, path) != 0) {
        saved_errno = errno;
        unlink(temporary);
        errno = saved_errno;
        return -1;
    }
    return 0;
}
