#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>

size_t utf8_character(const unsigned char *text)
{
    /* By lead byte: 0xxxxxxx, 110xxxxx, 1110xxxx, 11110xxx; the least code point of each. */
    static const struct {
        unsigned char mask, lead, payload;
        uint32_t least;
    } forms[] = {{0x80, 0x00, 0x7f, 0},
                 {0xe0, 0xc0, 0x1f, 0x80},
                 {0xf0, 0xe0, 0x0f, 0x800},
                 {0xf8, 0xf0, 0x07, 0x10000}};
    size_t form = 0;
    while (form < 4 && (text[0] & forms[form].mask) != forms[form].lead)
        form++;
    if (form == 4)
        return 0;
    size_t length = form + 1;
    uint32_t least = forms[form].least, code = text[0] & forms[form].payload;
    for (size_t i = 1; i < length; i++) {
        if ((text[i] & 0xc0) != 0x80) /* also the terminator of a cut character */
            return 0;
        code = code << 6 | (text[i] & 0x3fu);
    }
    bool overlong = code < least, surrogate = code >= 0xd800 && code <= 0xdfff;
    return overlong || surrogate || code > 0x10ffff ? 0 : length;
}
