#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int max_priority = LOG_INFO;

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

void log_msg(int priority, const char *format, ...)
{
    if (priority > max_priority)
        return;
    /* Format the whole line first so concurrent threads never interleave. */
    char line[1024];
    int prefix = snprintf(line, sizeof line, "<%d>", priority);
    va_list args;
    va_start(args, format);
    vsnprintf(line + prefix, sizeof line - (size_t)prefix - 1, format, args);
    va_end(args);
    size_t length = strlen(line);
    line[length] = '\n';
    fwrite(line, 1, length + 1, stderr);
}
