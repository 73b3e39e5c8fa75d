#include "scratch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *scratch_folder(void)
{
    const char *base = getenv("TMPDIR");
    char template[4096];
    snprintf(template, sizeof template, "%s/safetygw-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(template));
    char *folder = strdup(template);
    assert_non_null(folder);
    return folder;
}

static int remove_entry(const char *path, const struct stat *status, int type, struct FTW *walk)
{
    (void)status;
    (void)type;
    (void)walk;
    chmod(path, 0700); /* a test may have made a folder read-only */
    return remove(path);
}

void scratch_remove(char *folder)
{
    chmod(folder, 0700);
    nftw(folder, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(folder);
}

const char *scratch_path(const char *folder, const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    return path;
}

void scratch_write(const char *folder, const char *name, const char *data, size_t length)
{
    FILE *file = fopen(scratch_path(folder, name), "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, length, file), length);
    assert_int_equal(fclose(file), 0);
}

void scratch_write_text(const char *folder, const char *name, const char *text)
{
    scratch_write(folder, name, text, strlen(text));
}

char *scratch_read(const char *folder, const char *name, size_t *length)
{
    FILE *file = fopen(scratch_path(folder, name), "rb");
    if (!file)
        return NULL;
    char *data = NULL;
    size_t size = 0;
    FILE *copy = open_memstream(&data, &size);
    assert_non_null(copy);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, file)) > 0)
        fwrite(chunk, 1, got, copy);
    fclose(file);
    fclose(copy);
    if (length)
        *length = size;
    return data;
}

bool scratch_exists(const char *folder, const char *name)
{
    struct stat status;
    return lstat(scratch_path(folder, name), &status) == 0;
}

static int saved_stderr = -1;
static FILE *capture;

void log_capture_start(void)
{
    fflush(stderr);
    capture = tmpfile();
    assert_non_null(capture);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
}

char *log_capture_stop(void)
{
    fflush(stderr);
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    saved_stderr = -1;
    off_t size = lseek(fileno(capture), 0, SEEK_END);
    assert_true(size >= 0);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(pread(fileno(capture), text, (size_t)size, 0), size);
    fclose(capture);
    capture = NULL;
    fputs(text, stderr); /* still shown in the test's output */
    return text;
}
