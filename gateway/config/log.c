/*
 * log.c — one log line at a time, to journald with its fields when the daemon
 * runs under it (log_use_journal), else to stderr with the sd-daemon "<N>"
 * priority prefix. Owns the level threshold and the journal sender; shared
 * by the daemon, the CLI and the simulator (log.h says what each call does).
 */
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024
/* The short fields of one entry ("SAFETYGW_DEVICE=gas-12-2-301", "CODE_LINE=42", ...). */
#define LOG_FIELDS_TEXT_MAX 1024
#define LOG_ENTRY_FIELDS_MAX 9

/*
 * Both set before the threads start (log_set_level, log_use_journal) and only
 * read afterwards.
 */
static int max_priority = LOG_INFO;
static log_journal_sendv *journal_sendv;
/* Lines the journal had no room for, not yet told in an entry of their own (tell_dropped). */
static _Atomic unsigned long lines_dropped;

void log_set_level(int priority)
{
    max_priority = priority;
}

int log_level_from_name(const char *name)
{
    static const struct {
        const char *name;
        int priority;
    } levels[] = {{"error", LOG_ERR},
                  {"warning", LOG_WARNING},
                  {"notice", LOG_NOTICE},
                  {"info", LOG_INFO},
                  {"debug", LOG_DEBUG}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(name, levels[i].name) == 0)
            return levels[i].priority;
    return -1;
}

/* Digits up to the character stop; *rest after it. strtoumax alone would take "-1" or " 1". */
static bool take_decimal(const char *text, char stop, uintmax_t *value, const char **rest)
{
    if (!isdigit((unsigned char)*text))
        return false;
    char *end;
    errno = 0;
    *value = strtoumax(text, &end, 10);
    if (errno || *end != stop)
        return false;
    *rest = end + 1;
    return true;
}

/*
 * JOURNAL_STREAM is "DEVICE:INODE" in decimal. It is inherited by children
 * whose stderr may be elsewhere, so only a match with stderr's own file counts
 * (systemd.exec(5)).
 */
static bool stderr_is_journal(void)
{
    const char *stream = getenv("JOURNAL_STREAM");
    uintmax_t device, inode;
    struct stat status;
    return stream && take_decimal(stream, ':', &device, &stream) &&
           take_decimal(stream, '\0', &inode, &stream) && fstat(STDERR_FILENO, &status) == 0 &&
           (uintmax_t)status.st_dev == device && (uintmax_t)status.st_ino == inode;
}

int log_use_journal(log_journal_sendv *sendv)
{
    journal_sendv = sendv && stderr_is_journal() ? sendv : NULL;
    atomic_store(&lines_dropped, 0);
    return journal_sendv != NULL;
}

/* The fields' text, each "NAME=value" whole in text[], one iovec each. */
struct journal_entry {
    struct iovec fields[LOG_ENTRY_FIELDS_MAX];
    int count;
    char text[LOG_FIELDS_TEXT_MAX];
    size_t used;
};

/*
 * A field that does not fit is left out rather than cut: a cut device id would
 * match another device, or none.
 */
static void add_field(struct journal_entry *entry, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void add_field(struct journal_entry *entry, const char *name, const char *format, ...)
{
    if (entry->count == LOG_ENTRY_FIELDS_MAX)
        return;
    char *start = entry->text + entry->used;
    size_t room = sizeof entry->text - entry->used;
    int name_length = snprintf(start, room, "%s=", name);
    if (name_length < 0 || (size_t)name_length >= room)
        return;
    va_list args;
    va_start(args, format);
    int value_length = vsnprintf(start + name_length, room - (size_t)name_length, format, args);
    va_end(args);
    if (value_length < 0 || (size_t)value_length >= room - (size_t)name_length)
        return;
    size_t length = (size_t)name_length + (size_t)value_length;
    entry->fields[entry->count++] = (struct iovec){.iov_base = start, .iov_len = length};
    entry->used += length + 1;
}

/* message is "MESSAGE=text", built in the caller's buffer. */
static int send_to_journal(int priority, const struct log_fields *about, const char *code_file,
                           int code_line, const char *code_func, const char *message)
{
    struct journal_entry entry = {.count = 1};
    entry.fields[0] = (struct iovec){.iov_base = (void *)message, .iov_len = strlen(message)};
    add_field(&entry, "PRIORITY", "%d", priority);
    add_field(&entry, "SYSLOG_IDENTIFIER", "%s", program_invocation_short_name);
    if (about && about->device)
        add_field(&entry, "SAFETYGW_DEVICE", "%s", about->device);
    if (about && about->bus)
        add_field(&entry, "SAFETYGW_BUS", "%s", about->bus);
    if (about && about->alarm)
        add_field(&entry, "SAFETYGW_ALARM", "%s", about->alarm);
    if (code_file) {
        add_field(&entry, "CODE_FILE", "%s", code_file);
        add_field(&entry, "CODE_LINE", "%d", code_line);
        add_field(&entry, "CODE_FUNC", "%s", code_func);
    }
    return journal_sendv(entry.fields, entry.count);
}

/* After an entry the journal took: one saying how many it had no room for before. */
static void tell_dropped(void)
{
    unsigned long dropped = atomic_exchange(&lines_dropped, 0);
    if (dropped == 0)
        return;
    char notice[128];
    snprintf(notice, sizeof notice,
             "MESSAGE=log: %lu line%s dropped: the journal had no room (journald behind)", dropped,
             dropped == 1 ? "" : "s");
    if (send_to_journal(LOG_WARNING, NULL, NULL, 0, NULL, notice) < 0)
        atomic_fetch_add(&lines_dropped, dropped);
}

static void write_line(int priority, const struct log_fields *about, const char *code_file,
                       int code_line, const char *code_func, const char *format, va_list args)
{
    static const char message_field[] = "MESSAGE=";
    /*
     * Format the whole line first so concurrent threads never interleave. The
     * text goes after a room as long as the longer of its two heads, "MESSAGE="
     * and "<7>", so that either fits in front of it.
     */
    char line[LOG_LINE_MAX];
    size_t head = sizeof message_field - 1;
    vsnprintf(line + head, sizeof line - head - 1, format, args);
    if (journal_sendv) {
        memcpy(line, message_field, head);
        int sent = send_to_journal(priority, about, code_file, code_line, code_func, line);
        if (sent == -EAGAIN) { /* journald behind: stderr is the journal too */
            atomic_fetch_add(&lines_dropped, 1);
            return;
        }
        if (sent >= 0) {
            tell_dropped();
            return;
        }
    }
    char prefix[8];
    size_t prefix_length = (size_t)snprintf(prefix, sizeof prefix, "<%d>", priority);
    if (prefix_length >= sizeof prefix) /* not a syslog priority: cut, never before line */
        prefix_length = sizeof prefix - 1;
    char *start = line + head - prefix_length;
    memcpy(start, prefix, prefix_length);
    size_t length = strlen(start);
    start[length] = '\n';
    fwrite(start, 1, length + 1, stderr);
}

void log_write(int priority, const struct log_fields *fields, const char *code_file, int code_line,
               const char *code_func, const char *format, ...)
{
    if (priority > max_priority)
        return;
    va_list args;
    va_start(args, format);
    write_line(priority, fields, code_file, code_line, code_func, format, args);
    va_end(args);
}

void log_msg(int priority, const char *format, ...)
{
    if (priority > max_priority)
        return;
    va_list args;
    va_start(args, format);
    write_line(priority, NULL, NULL, 0, NULL, format, args);
    va_end(args);
}
