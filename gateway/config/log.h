/*
 * log.h — logging to stderr with sd-daemon priority prefixes ("<3>"), which
 * journald turns into priorities. Thread-safe: one line per call.
 */
#ifndef SAFETYGW_LOG_H
#define SAFETYGW_LOG_H

#include <syslog.h>

/* Messages above this priority (LOG_DEBUG is highest) are dropped. Default LOG_INFO. */
void log_set_level(int priority);
int log_level_from_name(const char *name); /* "debug", "info", ...; -1 if unknown */

void log_msg(int priority, const char *format, ...) __attribute__((format(printf, 2, 3)));

#define log_critical(...) log_msg(LOG_CRIT, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
