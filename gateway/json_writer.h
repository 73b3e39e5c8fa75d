/*
 * json_writer.h — compact JSON written straight into a reused buffer.
 *
 * The payloads published per poll or per change (payload.c) are formatted
 * with this instead of Jansson, which allocates a node per value and a string
 * per dump (DESIGN.md, "Dependencies": the hot path may format itself).
 * Jansson still parses commands and speaks the control protocol.
 *
 * A writer owns its buffer: it grows when a payload does not fit and is kept
 * for the next one, so a thread that formats its messages into one writer
 * allocates nothing once the buffer has reached the largest payload. The
 * output is what json_dumps(JSON_COMPACT) writes for the same values: strings
 * escape '"', '\\' and control characters (as \b \f \n \r \t or \u00XX), and
 * leave '/' and other UTF-8 as they are.
 *
 * Calls that nest wrongly (a value where a key is due) are the caller's bug:
 * they are not checked. A failed growth (out of memory) is remembered and
 * json_writer_finish() reports it.
 */
#ifndef SAFETYGW_JSON_WRITER_H
#define SAFETYGW_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Objects and arrays nest at most this deep (the payloads nest three levels). */
#define JSON_WRITER_DEPTH_MAX 32

struct json_writer {
    char *text; /* NUL-terminated after json_writer_finish(); the writer's */
    size_t length;
    size_t capacity;
    bool failed;    /* out of memory or nested too deep: the text is incomplete */
    bool after_key; /* a key was written: its value follows, without a comma */
    unsigned depth;
    uint32_t has_members; /* bit d: level d has a member, the next needs a comma */
};

#define JSON_WRITER_INIT {0}

/* Starts a new text, keeping the buffer. */
void json_writer_reset(struct json_writer *writer);

/* Frees the buffer; the writer is empty and usable again. */
void json_writer_free(struct json_writer *writer);

void json_writer_begin_object(struct json_writer *writer);
void json_writer_end_object(struct json_writer *writer);
void json_writer_begin_array(struct json_writer *writer);
void json_writer_end_array(struct json_writer *writer);

/* The key of the next member; the value follows with one of the calls below. */
void json_writer_key(struct json_writer *writer, const char *key);

/*
 * A string. Bytes that are not valid UTF-8 become '?' (Jansson refuses such a
 * string, and the payload would lose the key).
 */
void json_writer_string(struct json_writer *writer, const char *text);
void json_writer_integer(struct json_writer *writer, long long value);
void json_writer_boolean(struct json_writer *writer, bool value);
void json_writer_null(struct json_writer *writer);

/*
 * A double as the shortest %.*g text that strtod reads back as the same
 * double, written as Jansson writes a real ("1e21" for 1e+21, "25.0" for an
 * integral value without an exponent). Not finite: null.
 */
void json_writer_double(struct json_writer *writer, double value);

/* A complete JSON value written elsewhere (compact), copied as it is. */
void json_writer_raw(struct json_writer *writer, const char *json);

/* Terminates the text: 0, or -1 when it is incomplete (see failed). */
int json_writer_finish(struct json_writer *writer);

/*
 * The shortest %.*g text of a finite value that reads back as the same
 * double, as above; returns its length. text needs 32 bytes.
 */
size_t json_format_double(double value, char *text, size_t size);

#endif
