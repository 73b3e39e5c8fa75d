/*
 * format.c — the daemon's JSON values as the crew reads them (format.h):
 * members read with a fallback, ages, local times, durations, locations,
 * values with their units and named bits. Pure but for the local time zone.
 */
#include "format.h"

#include <stdio.h>
#include <string.h>

const char *cli_format_text_of(const json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value ? value : "-";
}

json_int_t cli_format_integer_of(const json_t *object, const char *key)
{
    return json_integer_value(json_object_get(object, key));
}

time_t cli_format_parse_time(const json_t *timestamp)
{
    const char *text = json_string_value(timestamp);
    struct tm utc = {0};
    if (!text || !strptime(text, "%Y-%m-%dT%H:%M:%S", &utc))
        return -1;
    return timegm(&utc);
}

void cli_format_age(const json_t *timestamp, time_t now, char *out, size_t size)
{
    time_t then = cli_format_parse_time(timestamp);
    if (then < 0) {
        snprintf(out, size, "never");
        return;
    }
    uint64_t seconds = now > then ? (uint64_t)(now - then) : 0;
    if (seconds < 120)
        snprintf(out, size, "%us ago", (unsigned)seconds);
    else if (seconds < 2 * 3600)
        snprintf(out, size, "%um ago", (unsigned)(seconds / 60));
    else if (seconds < 2 * 86400)
        snprintf(out, size, "%uh ago", (unsigned)(seconds / 3600));
    else
        snprintf(out, size, "%ud ago", (unsigned)(seconds / 86400));
}

void cli_format_local_time(const json_t *timestamp, char *out, size_t size)
{
    time_t then = cli_format_parse_time(timestamp);
    struct tm local;
    if (then < 0 || !localtime_r(&then, &local) || strftime(out, size, "%F %T", &local) == 0)
        snprintf(out, size, "-");
}

void cli_format_duration(uint64_t seconds, char *out, size_t size)
{
    unsigned days = (unsigned)(seconds / 86400), hours = (unsigned)(seconds % 86400 / 3600);
    unsigned minutes = (unsigned)(seconds % 3600 / 60), rest = (unsigned)(seconds % 60);
    if (days > 0)
        snprintf(out, size, "%ud %02uh", days, hours);
    else if (hours > 0)
        snprintf(out, size, "%uh %02um", hours, minutes);
    else if (minutes > 0)
        snprintf(out, size, "%um %02us", minutes, rest);
    else
        snprintf(out, size, "%us", rest);
}

void cli_format_location(const json_t *location, char *out, size_t size)
{
    const char *key;
    const json_t *value;
    size_t used = 0;
    out[0] = '\0';
    json_object_foreach((json_t *)location, key, value)
    {
        int written = snprintf(out + used, size - used, "%s%s", used ? "/" : "",
                               json_string_value(value) ? json_string_value(value) : "?");
        if (written < 0 || (size_t)written >= size - used)
            return; /* truncated */
        used += (size_t)written;
    }
    (void)key;
}

void cli_format_value(const json_t *value, const json_t *unit, char *out, size_t size)
{
    const char *unit_text = json_string_value(unit);
    char number[64];
    if (json_is_integer(value))
        snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    else if (json_is_real(value))
        snprintf(number, sizeof number, "%.6g", json_real_value(value));
    else if (json_is_boolean(value))
        snprintf(number, sizeof number, "%s", json_is_true(value) ? "true" : "false");
    else if (json_is_string(value))
        snprintf(number, sizeof number, "%s", json_string_value(value));
    else
        snprintf(number, sizeof number, "-");
    if (unit_text && json_is_number(value))
        snprintf(out, size, "%s %s", number, unit_text);
    else
        snprintf(out, size, "%s", number);
}

void cli_format_alarm_detail(const json_t *alarm, char *out, size_t size)
{
    char value[96], threshold[96];
    const json_t *polls_failed = json_object_get(alarm, "polls_failed");
    if (polls_failed) {
        snprintf(out, size, "no valid answer for %" JSON_INTEGER_FORMAT " polls",
                 json_integer_value(polls_failed));
        return;
    }
    const json_t *unit = json_object_get(alarm, "unit");
    cli_format_value(json_object_get(alarm, "value"), unit, value, sizeof value);
    cli_format_value(json_object_get(alarm, "threshold"), unit, threshold, sizeof threshold);
    const char *point = json_string_value(json_object_get(alarm, "point"));
    snprintf(out, size, "%s = %s (threshold %s)", point ? point : "?", value, threshold);
}

void cli_format_point(const json_t *point, char *out, size_t size)
{
    const json_t *bits = json_object_get(point, "bits");
    if (bits)
        cli_format_bits(bits, out, size);
    else
        cli_format_value(json_object_get(point, "value"), json_object_get(point, "unit"), out,
                         size);
}

void cli_format_bits(const json_t *bits, char *out, size_t size)
{
    const char *name;
    const json_t *value;
    size_t used = 0;
    snprintf(out, size, "none");
    json_object_foreach((json_t *)bits, name, value)
    {
        if (!json_is_true(value))
            continue;
        int written = snprintf(out + used, size - used, "%s%s", used ? "," : "", name);
        if (written < 0 || (size_t)written >= size - used)
            return;
        used += (size_t)written;
    }
}
