/*
 * text.h — small string helpers: comparing the optional strings of a
 * configuration (NULL: not set), for the code that asks whether two
 * configurations agree (bus.c, reload.c); joining a topic without printf on
 * the paths that run once a message (telemetry.c, publish.c).
 */
#ifndef SAFETYGW_TEXT_H
#define SAFETYGW_TEXT_H

#include <stdbool.h>
#include <string.h>

/* Both unset, or both set to the same text. */
static inline bool text_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * Writes text at out + used, cut to fit size (which counts the terminator),
 * and returns the new used. Joins "telemetry/" and an id as snprintf's "%s%s"
 * would, without parsing a format on every message.
 */
static inline size_t text_append(char *out, size_t size, size_t used, const char *text)
{
    size_t length = strlen(text);
    if (used >= size)
        return used;
    if (length > size - 1 - used)
        length = size - 1 - used;
    memcpy(out + used, text, length);
    out[used + length] = '\0';
    return used + length;
}

#endif
