/* utf8.h — where a valid UTF-8 character (RFC 3629) starts, and how long it is. */
#ifndef SAFETYGW_UTF8_H
#define SAFETYGW_UTF8_H

#include <stddef.h>

/*
 * Bytes in the valid UTF-8 character at text, 0 when none starts there: a
 * stray continuation byte, a character cut short (also by the terminator),
 * an overlong form, a surrogate or a code point above U+10FFFF.
 */
size_t utf8_character(const unsigned char *text);

#endif
