/* json_writer: compact JSON as json_dumps(JSON_COMPACT) writes it, into a reused buffer. */
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_writer.h"

static const char *finished(struct json_writer *writer)
{
    assert_int_equal(json_writer_finish(writer), 0);
    assert_int_equal(strlen(writer->text), writer->length);
    return writer->text;
}

static void test_members_and_elements_are_separated_by_commas(void **state)
{
    (void)state;
    struct json_writer writer = JSON_WRITER_INIT;
    json_writer_begin_object(&writer);
    json_writer_key(&writer, "a");
    json_writer_begin_array(&writer);
    json_writer_begin_array(&writer);
    json_writer_end_array(&writer);
    json_writer_integer(&writer, -3);
    json_writer_begin_object(&writer);
    json_writer_end_object(&writer);
    json_writer_null(&writer);
    json_writer_end_array(&writer);
    json_writer_key(&writer, "b");
    json_writer_boolean(&writer, false);
    json_writer_key(&writer, "c");
    json_writer_raw(&writer, "[{\"x\":1}]");
    json_writer_end_object(&writer);
    assert_string_equal(finished(&writer), "{\"a\":[[],-3,{},null],\"b\":false,\"c\":[{\"x\":1}]}");
    json_writer_free(&writer);
}

/* Every byte below 0x20, '"' and '\\' escaped exactly as json_dumps escapes them. */
static void test_strings_are_escaped_like_json_dumps(void **state)
{
    (void)state;
    char text[64];
    size_t n = 0;
    for (int c = 1; c < 0x20; c++)
        text[n++] = (char)c;
    memcpy(text + n, "\"\\/\x7f\xc3\xa9", 7);
    text[n + 7] = '\0';
    struct json_writer writer = JSON_WRITER_INIT;
    json_writer_string(&writer, text);
    json_t *string = json_string(text);
    char *expected = json_dumps(string, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(finished(&writer), expected);
    free(expected);
    json_decref(string);
    json_writer_free(&writer);
}

static void test_bytes_that_are_not_utf8_become_question_marks(void **state)
{
    (void)state;
    struct json_writer writer = JSON_WRITER_INIT;
    json_writer_string(&writer, "a\xff"
                                "b\xe6\x8d"
                                "c\xc0\xaf");
    assert_string_equal(finished(&writer), "\"a?b??c??\"");
    json_writer_free(&writer);
}

/* The shortest text that reads back as the same double, in Jansson's notation. */
static void test_doubles_are_the_shortest_text_that_reads_back(void **state)
{
    (void)state;
    static const struct {
        double value;
        const char *text;
    } doubles[] = {{0.1, "0.1"},
                   {0.1 + 0.2, "0.30000000000000004"},
                   {1.0 / 3, "0.3333333333333333"},
                   {27.5, "27.5"},
                   {-0.0, "-0.0"},
                   {100, "100.0"},
                   {1e21, "1e21"},
                   {1.5e-7, "1.5e-7"},
                   {5e-324, "5e-324"},
                   {DBL_MAX, "1.7976931348623157e308"},
                   {(float)43.2, "43.20000076293945"}};
    struct json_writer writer = JSON_WRITER_INIT;
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        json_writer_reset(&writer);
        json_writer_double(&writer, doubles[i].value);
        const char *text = finished(&writer);
        assert_string_equal(text, doubles[i].text);
        assert_true(strtod(text, NULL) == doubles[i].value);
    }
    json_writer_free(&writer);
}

static void test_doubles_that_are_not_finite_are_null(void **state)
{
    (void)state;
    struct json_writer writer = JSON_WRITER_INIT;
    json_writer_begin_array(&writer);
    json_writer_double(&writer, NAN);
    json_writer_double(&writer, INFINITY);
    json_writer_double(&writer, -INFINITY);
    json_writer_end_array(&writer);
    assert_string_equal(finished(&writer), "[null,null,null]");
    json_writer_free(&writer);
}

/* A long text grows the buffer once; reset keeps it for the next text. */
static void test_buffer_grows_and_is_kept(void **state)
{
    (void)state;
    struct json_writer writer = JSON_WRITER_INIT;
    char long_text[3000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    json_writer_string(&writer, long_text);
    assert_int_equal(strlen(finished(&writer)), sizeof long_text + 1);
    char *buffer = writer.text;
    size_t capacity = writer.capacity;
    for (int i = 0; i < 10; i++) {
        json_writer_reset(&writer);
        json_writer_string(&writer, long_text);
        finished(&writer);
    }
    assert_ptr_equal(writer.text, buffer);
    assert_int_equal(writer.capacity, capacity);
    json_writer_free(&writer);
    assert_null(writer.text);
}

static void test_nesting_too_deep_fails(void **state)
{
    (void)state;
    struct json_writer writer = JSON_WRITER_INIT;
    for (int i = 0; i < JSON_WRITER_DEPTH_MAX + 1; i++)
        json_writer_begin_array(&writer);
    assert_int_equal(json_writer_finish(&writer), -1);
    json_writer_reset(&writer);
    json_writer_integer(&writer, 1);
    assert_string_equal(finished(&writer), "1");
    json_writer_free(&writer);
}

/* Integers as %lld writes them, the ends of long long included. */
static void test_integers_read_as_printf_writes_them(void **state)
{
    (void)state;
    const long long values[] = {0, 7, -1, 10, -10, 1234567890123LL, LLONG_MAX, LLONG_MIN};
    struct json_writer writer = JSON_WRITER_INIT;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char expected[32];
        snprintf(expected, sizeof expected, "%lld", values[i]);
        json_writer_reset(&writer);
        json_writer_integer(&writer, values[i]);
        assert_string_equal(finished(&writer), expected);
    }
    json_writer_free(&writer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_and_elements_are_separated_by_commas),
        cmocka_unit_test(test_integers_read_as_printf_writes_them),
        cmocka_unit_test(test_strings_are_escaped_like_json_dumps),
        cmocka_unit_test(test_bytes_that_are_not_utf8_become_question_marks),
        cmocka_unit_test(test_doubles_are_the_shortest_text_that_reads_back),
        cmocka_unit_test(test_doubles_that_are_not_finite_are_null),
        cmocka_unit_test(test_buffer_grows_and_is_kept),
        cmocka_unit_test(test_nesting_too_deep_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
