/*
 * log.h — the log of the daemon, the CLI and the simulator.
 *
 * By default each line goes to stderr with its sd-daemon priority prefix
 * ("<3>..."), which journald turns into a priority. Once the daemon has called
 * log_use_journal() and its stderr is the journal (systemd's JOURNAL_STREAM),
 * each line goes to journald as one entry with fields: MESSAGE, PRIORITY,
 * SYSLOG_IDENTIFIER, CODE_FILE/LINE/FUNC, and for a line about a device, a
 * bus or an alarm SAFETYGW_DEVICE, SAFETYGW_BUS, SAFETYGW_ALARM, so that
 * `journalctl -u safetygwd SAFETYGW_DEVICE=gas-12-2-301` finds them
 * (docs/logging.md). Thread-safe: one line, or one entry, per call.
 */
#ifndef SAFETYGW_LOG_H
#define SAFETYGW_LOG_H

#include <stddef.h>
#include <sys/uio.h>
#include <syslog.h>

/* Messages above this priority (LOG_DEBUG is highest) are dropped. Default LOG_INFO. */
void log_set_level(int priority);
int log_level_from_name(const char *name); /* "debug", "info", ...; -1 if unknown */

/* What a line is about; each may be NULL. A bus_down alarm is {.bus, .alarm}. */
struct log_fields {
    const char *device; /* device id: SAFETYGW_DEVICE= */
    const char *bus;    /* bus name: SAFETYGW_BUS= */
    const char *alarm;  /* alarm (rule) name: SAFETYGW_ALARM= */
};

/*
 * Sends one journal entry, one "NAME=value" field an iovec (the signature of
 * libsystemd's sd_journal_sendv); returns 0, or a negative errno when the entry
 * was not sent. The CLI and the simulator never log to the journal; the daemon
 * hands in journal_native_sendv (gateway/journal_native.h).
 */
typedef int log_journal_sendv(const struct iovec *fields, int count);

/*
 * Logs to the journal through sendv when stderr is the journal: JOURNAL_STREAM
 * ("device:inode", set by systemd for a service whose stderr is the journal)
 * names stderr's file (systemd.exec(5), "Environment variables set or
 * propagated by the service manager"). Returns 1 when it does, 0 when lines keep
 * going to stderr (sendv NULL, not under systemd, stderr redirected). Call it
 * before starting threads. An entry the journal refuses goes to stderr, but
 * one it has no room for (-EAGAIN: journald behind) is dropped, not waited
 * for longer (stderr is the journal too); the next entry it takes is followed
 * by one saying how many were dropped.
 */
int log_use_journal(log_journal_sendv *sendv);

void log_write(int priority, const struct log_fields *fields, const char *code_file, int code_line,
               const char *code_func, const char *format, ...)
    __attribute__((format(printf, 6, 7)));

/* Without fields or source position; for a priority worked out at run time. */
void log_msg(int priority, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* CODE_FILE is the file's name; __FILE__ would be the build machine's path. */
#ifdef __FILE_NAME__
#define LOG_CODE_FILE __FILE_NAME__
#else
#define LOG_CODE_FILE __FILE__
#endif
#define LOG_WRITE(priority, fields, ...)                                                           \
    log_write(priority, fields, LOG_CODE_FILE, __LINE__, __func__, __VA_ARGS__)

#define log_critical(...) LOG_WRITE(LOG_CRIT, NULL, __VA_ARGS__)
#define log_error(...) LOG_WRITE(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) LOG_WRITE(LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...) LOG_WRITE(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) LOG_WRITE(LOG_DEBUG, NULL, __VA_ARGS__)

/*
 * A line about a device, a bus or an alarm: the same text as log_info() and
 * friends would print, plus the fields. priority is LOG_INFO, LOG_WARNING, ...
 *     log_device(LOG_INFO, device->def->id, "device %s is online", device->def->id);
 *     log_alarm(LOG_INFO, device->def->id, rule->name, "alarm %s raised on %s", ...);
 *     log_about(LOG_WARNING, NULL, bus->def->name, "bus_down", "alarm bus_down raised ...");
 */
#define log_device(priority, device_id, ...) log_about(priority, device_id, NULL, NULL, __VA_ARGS__)
#define log_bus(priority, bus_name, ...) log_about(priority, NULL, bus_name, NULL, __VA_ARGS__)
#define log_alarm(priority, device_id, alarm_name, ...)                                            \
    log_about(priority, device_id, NULL, alarm_name, __VA_ARGS__)
#define log_about(priority, device_id, bus_name, alarm_name, ...)                                  \
    LOG_WRITE(priority,                                                                            \
              (&(const struct log_fields){                                                         \
                  .device = (device_id), .bus = (bus_name), .alarm = (alarm_name)}),               \
              __VA_ARGS__)

#endif
