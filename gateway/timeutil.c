#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

uint64_t time_monotonic_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

uint64_t time_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

/*
 * Each thread keeps the text of the last second it stamped: a gateway stamps
 * hundreds of payloads within one second, and gmtime_r with a formatted print
 * cost more than the rest of a telemetry payload. Only the milliseconds are
 * written for each.
 */
void time_format_rfc3339(uint64_t wall_ms, char *buf, size_t size)
{
    if (size == 0)
        return;
    static _Thread_local uint64_t cached_seconds = UINT64_MAX;
    static _Thread_local char cached_text[32]; /* "2026-11-27T08:00:01" */
    static _Thread_local size_t cached_length;
    uint64_t seconds = wall_ms / 1000u;
    if (seconds != cached_seconds) {
        time_t as_time = (time_t)seconds;
        struct tm utc;
        gmtime_r(&as_time, &utc);
        int length = snprintf(cached_text, sizeof cached_text, "%04d-%02d-%02dT%02d:%02d:%02d",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec);
        cached_length = length < 0 ? 0 : (size_t)length;
        cached_seconds = seconds;
    }
    unsigned ms = (unsigned)(wall_ms % 1000u);
    char text[sizeof cached_text + 6];
    memcpy(text, cached_text, cached_length);
    char *tail = text + cached_length;
    *tail++ = '.';
    *tail++ = (char)('0' + ms / 100u);
    *tail++ = (char)('0' + ms / 10u % 10u);
    *tail++ = (char)('0' + ms % 10u);
    *tail++ = 'Z';
    size_t length = (size_t)(tail - text);
    if (length > size - 1)
        length = size - 1;
    memcpy(buf, text, length);
    buf[length] = '\0';
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
