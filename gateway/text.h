/*
 * text.h — comparing the optional strings of a configuration (NULL: not set),
 * for the code that asks whether two configurations agree (bus.c, reload.c).
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

#endif
