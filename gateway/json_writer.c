#include "json_writer.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* A new buffer's size: most payloads (a device's state, an alarm event) fit. */
#define FIRST_CAPACITY 512

void json_writer_reset(struct json_writer *writer)
{
    writer->length = 0;
    writer->failed = false;
    writer->after_key = false;
    writer->depth = 0;
    writer->has_members = 0;
}

void json_writer_free(struct json_writer *writer)
{
    free(writer->text);
    *writer = (struct json_writer)JSON_WRITER_INIT;
}

/* Room for size more bytes and a terminator; false (and failed) when there is none. */
static bool reserve(struct json_writer *writer, size_t size)
{
    if (writer->failed)
        return false;
    size_t needed = writer->length + size + 1;
    if (needed <= writer->capacity)
        return true;
    size_t capacity = writer->capacity ? writer->capacity : FIRST_CAPACITY;
    while (capacity < needed)
        capacity *= 2;
    char *text = realloc(writer->text, capacity);
    if (!text) {
        writer->failed = true;
        return false;
    }
    writer->text = text;
    writer->capacity = capacity;
    return true;
}

static void append(struct json_writer *writer, const char *bytes, size_t size)
{
    if (!reserve(writer, size))
        return;
    memcpy(writer->text + writer->length, bytes, size);
    writer->length += size;
}

static void append_char(struct json_writer *writer, char c)
{
    if (!reserve(writer, 1))
        return;
    writer->text[writer->length++] = c;
}

/* Before a value or a key: the comma between members, unless a key just came. */
static void separate(struct json_writer *writer)
{
    if (writer->after_key) {
        writer->after_key = false;
        return;
    }
    uint32_t level = 1u << writer->depth;
    if (writer->has_members & level)
        append_char(writer, ',');
    writer->has_members |= level;
}

static void begin(struct json_writer *writer, char bracket)
{
    separate(writer);
    append_char(writer, bracket);
    if (writer->depth + 1 >= JSON_WRITER_DEPTH_MAX) {
        writer->failed = true;
        return;
    }
    writer->depth++;
    writer->has_members &= ~(1u << writer->depth);
}

static void end(struct json_writer *writer, char bracket)
{
    if (writer->depth > 0)
        writer->depth--;
    append_char(writer, bracket);
}

void json_writer_begin_object(struct json_writer *writer)
{
    begin(writer, '{');
}

void json_writer_end_object(struct json_writer *writer)
{
    end(writer, '}');
}

void json_writer_begin_array(struct json_writer *writer)
{
    begin(writer, '[');
}

void json_writer_end_array(struct json_writer *writer)
{
    end(writer, ']');
}

/* The escape Jansson writes for a byte below 0x20, '"' or '\\'. */
static void append_escape(struct json_writer *writer, unsigned char c)
{
    const char *named = NULL;
    switch (c) {
    case '"':
        named = "\\\"";
        break;
    case '\\':
        named = "\\\\";
        break;
    case '\b':
        named = "\\b";
        break;
    case '\f':
        named = "\\f";
        break;
    case '\n':
        named = "\\n";
        break;
    case '\r':
        named = "\\r";
        break;
    case '\t':
        named = "\\t";
        break;
    }
    if (named) {
        append(writer, named, 2);
        return;
    }
    char code[8];
    snprintf(code, sizeof code, "\\u%04X", c);
    append(writer, code, 6);
}

static void append_quoted(struct json_writer *writer, const char *text)
{
    const unsigned char *next = (const unsigned char *)text, *run = next;
    append_char(writer, '"');
    while (*next != '\0') {
        unsigned char c = *next;
        if (c >= 0x80) {
            size_t length = utf8_character(next);
            if (length > 0) {
                next += length;
                continue;
            }
        } else if (c >= 0x20 && c != '"' && c != '\\') {
            next++;
            continue;
        }
        append(writer, (const char *)run, (size_t)(next - run));
        if (c >= 0x80)
            append_char(writer, '?');
        else
            append_escape(writer, c);
        run = ++next;
    }
    append(writer, (const char *)run, (size_t)(next - run));
    append_char(writer, '"');
}

void json_writer_key(struct json_writer *writer, const char *key)
{
    separate(writer);
    append_quoted(writer, key);
    append_char(writer, ':');
    writer->after_key = true;
}

void json_writer_string(struct json_writer *writer, const char *text)
{
    separate(writer);
    append_quoted(writer, text);
}

/* value as %lld writes it, without printf's cost (ten integers in a telemetry payload). */
static size_t format_integer(long long value, char text[static 20])
{
    unsigned long long magnitude =
        value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
    char reversed[20];
    size_t count = 0;
    do {
        reversed[count++] = (char)('0' + magnitude % 10u);
        magnitude /= 10u;
    } while (magnitude);
    size_t length = 0;
    if (value < 0)
        text[length++] = '-';
    while (count)
        text[length++] = reversed[--count];
    return length;
}

void json_writer_integer(struct json_writer *writer, long long value)
{
    char text[20];
    size_t length = format_integer(value, text);
    separate(writer);
    append(writer, text, length);
}

void json_writer_boolean(struct json_writer *writer, bool value)
{
    separate(writer);
    if (value)
        append(writer, "true", 4);
    else
        append(writer, "false", 5);
}

void json_writer_null(struct json_writer *writer)
{
    separate(writer);
    append(writer, "null", 4);
}

/*
 * As Jansson's jsonp_dtostr: no '+' and no leading zeros in the exponent, and
 * ".0" after an integral value written without one, so that a reader sees a
 * real. length is that of text; returns the new one.
 */
static size_t as_jansson_writes_reals(char *text, size_t length, size_t size)
{
    char *exponent = strchr(text, 'e');
    if (exponent) {
        char *digits = exponent + 1;
        if (*digits == '-')
            digits++;
        char *first = digits;
        while (*first == '+' || *first == '0')
            first++;
        memmove(digits, first, length + 1 - (size_t)(first - text));
        return length - (size_t)(first - digits);
    }
    if (!strchr(text, '.') && length + 2 < size) {
        memcpy(text + length, ".0", 3);
        return length + 2;
    }
    return length;
}

size_t json_format_double(double value, char *text, size_t size)
{
    /*
     * If any text of 15 significant digits or fewer reads back as value,
     * %.15g does (a double holds 15 decimal digits for sure, DBL_DIG), and
     * %g drops its trailing zeros: that is the shortest. Otherwise 16, and
     * 17 always reads back. Subnormal doubles hold fewer digits: from 1 up.
     */
    int length = 0;
    int first = fabs(value) < DBL_MIN && value != 0 ? 1 : DBL_DIG;
    for (int precision = first; precision <= 17; precision++) {
        length = snprintf(text, size, "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    return as_jansson_writes_reals(text, (size_t)length, size);
}

void json_writer_double(struct json_writer *writer, double value)
{
    if (!isfinite(value)) {
        json_writer_null(writer);
        return;
    }
    char text[40];
    size_t length = json_format_double(value, text, sizeof text);
    separate(writer);
    append(writer, text, length);
}

void json_writer_raw(struct json_writer *writer, const char *json)
{
    separate(writer);
    append(writer, json, strlen(json));
}

int json_writer_finish(struct json_writer *writer)
{
    if (!reserve(writer, 0))
        return -1;
    writer->text[writer->length] = '\0';
    return writer->failed ? -1 : 0;
}
