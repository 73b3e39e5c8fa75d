#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t clock_ms(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

uint64_t time_monotonic_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

uint64_t time_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

void time_format_rfc3339(uint64_t wall_ms, char *buf, size_t size)
{
    time_t seconds = (time_t)(wall_ms / 1000u);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", utc.tm_year + 1900, utc.tm_mon + 1,
             utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, (unsigned)(wall_ms % 1000u));
}

int time_parse_duration(const char *text, uint64_t *ms)
{
    static const struct {
        char unit;
        uint64_t ms;
    } units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
    char *end = NULL;
    if (!text || *text < '0' || *text > '9')
        return -1;
    errno = 0;
    unsigned long long count = strtoull(text, &end, 10);
    if (errno != 0 || end == text || end[0] == '\0' || end[1] != '\0' || count > 1000000)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (*end == units[i].unit) {
            *ms = count * units[i].ms;
            return 0;
        }
    return -1;
}
