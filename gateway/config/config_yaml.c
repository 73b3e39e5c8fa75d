/*
 * config_yaml.c — libyaml's document API wrapped for the configuration
 * loader: typed values with file:line:column errors. Marks are zero-based in
 * libyaml and one-based in every message, as editors count.
 */
#include "config_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_ID_MAX_LENGTH 64

void *config_yaml_calloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size ? size : 1);
    if (memory == NULL) {
        fprintf(stderr, "safetygw: out of memory loading the configuration\n");
        abort();
    }
    return memory;
}

char *config_yaml_strdup(const char *text)
{
    size_t length = strlen(text);
    char *copy = config_yaml_calloc(length + 1, 1);
    memcpy(copy, text, length);
    return copy;
}

static char *vprintf_alloc(const char *format, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int length = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    char *text = config_yaml_calloc((size_t)(length > 0 ? length : 0) + 1, 1);
    vsnprintf(text, (size_t)length + 1, format, args);
    return text;
}

char *config_yaml_printf(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = vprintf_alloc(format, args);
    va_end(args);
    return text;
}

/* The messages array grows by doubling: its capacity is the next power of two of count. */
static void errors_append(struct config_errors *errors, char *message)
{
    if (errors == NULL) {
        free(message);
        return;
    }
    size_t count = errors->count;
    if (count == 0 || (count & (count - 1)) == 0) {
        size_t capacity = count ? count * 2 : 8;
        char **grown = realloc(errors->messages, capacity * sizeof *grown);
        if (grown == NULL) {
            fprintf(stderr, "safetygw: out of memory loading the configuration\n");
            abort();
        }
        errors->messages = grown;
    }
    errors->messages[errors->count++] = message;
}

void config_yaml_add_error(struct config_errors *errors, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    errors_append(errors, vprintf_alloc(format, args));
    va_end(args);
}

void config_yaml_where(const struct config_yaml *file, const yaml_node_t *node, char *out,
                       size_t size)
{
    if (node == NULL) {
        snprintf(out, size, "%s", file->path);
        return;
    }
    snprintf(out, size, "%s:%zu:%zu", file->path, node->start_mark.line + 1,
             node->start_mark.column + 1);
}

void config_yaml_error(struct config_yaml *file, const yaml_node_t *node, const char *format, ...)
{
    char where[4096];
    config_yaml_where(file, node, where, sizeof where);
    va_list args;
    va_start(args, format);
    char *what = vprintf_alloc(format, args);
    va_end(args);
    errors_append(file->errors, config_yaml_printf("%s: %s", where, what));
    free(what);
}

static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return config_yaml_strdup(".");
    }
    if (slash == path) {
        return config_yaml_strdup("/");
    }
    char *folder = config_yaml_strdup(path);
    folder[slash - path] = '\0';
    return folder;
}

char *config_yaml_resolve_path(const struct config_yaml *file, const char *path)
{
    if (path[0] == '/' || strcmp(file->dir, ".") == 0) {
        return config_yaml_strdup(path);
    }
    return config_yaml_printf("%s/%s", file->dir, path);
}

static void report_syntax_error(struct config_yaml *file, const yaml_parser_t *parser)
{
    const char *problem = parser->problem ? parser->problem : "cannot parse";
    if (parser->error == YAML_READER_ERROR) {
        config_yaml_add_error(file->errors, "%s: %s at byte %zu", file->path, problem,
                              parser->problem_offset);
        return;
    }
    if (parser->context != NULL) {
        config_yaml_add_error(file->errors, "%s:%zu:%zu: YAML syntax error: %s (%s at line %zu)",
                              file->path, parser->problem_mark.line + 1,
                              parser->problem_mark.column + 1, problem, parser->context,
                              parser->context_mark.line + 1);
        return;
    }
    config_yaml_add_error(file->errors, "%s:%zu:%zu: YAML syntax error: %s", file->path,
                          parser->problem_mark.line + 1, parser->problem_mark.column + 1, problem);
}

static int parse_stream(struct config_yaml *file, FILE *stream)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        config_yaml_add_error(file->errors, "%s: cannot start the YAML parser", file->path);
        return -1;
    }
    yaml_parser_set_input_file(&parser, stream);
    int result = 0;
    if (!yaml_parser_load(&parser, &file->document)) {
        report_syntax_error(file, &parser);
        result = -1;
    } else {
        file->has_document = true;
    }
    yaml_parser_delete(&parser);
    return result;
}

int config_yaml_open(struct config_yaml *file, const char *path, struct config_errors *errors)
{
    memset(file, 0, sizeof *file);
    file->path = config_yaml_strdup(path);
    file->dir = folder_of(path);
    file->errors = errors;
    FILE *stream = fopen(path, "rb");
    if (stream == NULL) {
        config_yaml_add_error(errors, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int result = parse_stream(file, stream);
    fclose(stream);
    if (result == 0 && config_yaml_root(file) == NULL) {
        config_yaml_add_error(errors, "%s:1:1: the file is empty", path);
        result = -1;
    }
    return result;
}

void config_yaml_close(struct config_yaml *file)
{
    if (file->has_document) {
        yaml_document_delete(&file->document);
    }
    free(file->path);
    free(file->dir);
    memset(file, 0, sizeof *file);
}

yaml_node_t *config_yaml_root(struct config_yaml *file)
{
    return file->has_document ? yaml_document_get_root_node(&file->document) : NULL;
}

static const char *shape_name(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_MAPPING_NODE:
        return "a map";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a single value";
    }
}

static bool expect_shape(struct config_yaml *file, yaml_node_t *node, const char *what,
                         yaml_node_type_t type, const char *shape)
{
    if (node->type == type) {
        return true;
    }
    if (node->type == YAML_SCALAR_NODE) {
        config_yaml_error(file, node, "%s must be %s, not \"%s\"", what, shape,
                          (const char *)node->data.scalar.value);
    } else {
        config_yaml_error(file, node, "%s must be %s, not %s", what, shape, shape_name(node));
    }
    return false;
}

bool config_yaml_expect_map(struct config_yaml *file, yaml_node_t *node, const char *what)
{
    return expect_shape(file, node, what, YAML_MAPPING_NODE, "a map");
}

bool config_yaml_expect_list(struct config_yaml *file, yaml_node_t *node, const char *what)
{
    return expect_shape(file, node, what, YAML_SEQUENCE_NODE, "a list");
}

size_t config_yaml_list_length(const yaml_node_t *list)
{
    if (list == NULL || list->type != YAML_SEQUENCE_NODE) {
        return 0;
    }
    return (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
}

yaml_node_t *config_yaml_list_item(struct config_yaml *file, const yaml_node_t *list, size_t i)
{
    return yaml_document_get_node(&file->document, list->data.sequence.items.start[i]);
}

size_t config_yaml_map_length(const yaml_node_t *map)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE) {
        return 0;
    }
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

yaml_node_t *config_yaml_map_key(struct config_yaml *file, const yaml_node_t *map, size_t i)
{
    return yaml_document_get_node(&file->document, map->data.mapping.pairs.start[i].key);
}

yaml_node_t *config_yaml_map_value(struct config_yaml *file, const yaml_node_t *map, size_t i)
{
    return yaml_document_get_node(&file->document, map->data.mapping.pairs.start[i].value);
}

const char *config_yaml_text(const yaml_node_t *node)
{
    if (node == NULL || node->type != YAML_SCALAR_NODE) {
        return NULL;
    }
    return (const char *)node->data.scalar.value;
}

yaml_node_t *config_yaml_get(struct config_yaml *file, const yaml_node_t *map, const char *key)
{
    size_t length = config_yaml_map_length(map);
    for (size_t i = 0; i < length; i++) {
        const char *text = config_yaml_text(config_yaml_map_key(file, map, i));
        if (text != NULL && strcmp(text, key) == 0) {
            return config_yaml_map_value(file, map, i);
        }
    }
    return NULL;
}

static bool in_list(const char *const *names, const char *name)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        if (strcmp(names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static void join_names(const char *const *names, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; names[i] != NULL && used < size; i++) {
        int written = snprintf(out + used, size - used, "%s%s", i ? ", " : "", names[i]);
        used += written > 0 ? (size_t)written : 0;
    }
}

/* Reports a key that is not a scalar, not allowed, or given twice. */
static int check_one_key(struct config_yaml *file, yaml_node_t *map, size_t i, const char *what,
                         const char *const *allowed)
{
    yaml_node_t *key = config_yaml_map_key(file, map, i);
    const char *text = config_yaml_text(key);
    if (text == NULL) {
        config_yaml_error(file, key, "a key of %s must be a single value, not %s", what,
                          shape_name(key));
        return -1;
    }
    if (allowed != NULL && !in_list(allowed, text)) {
        char expected[1024];
        join_names(allowed, expected, sizeof expected);
        config_yaml_error(file, key, "unknown key \"%s\" in %s (expected one of: %s)", text, what,
                          expected);
        return -1;
    }
    for (size_t j = 0; j < i; j++) {
        yaml_node_t *earlier = config_yaml_map_key(file, map, j);
        const char *earlier_text = config_yaml_text(earlier);
        if (earlier_text != NULL && strcmp(earlier_text, text) == 0) {
            char first[4096];
            config_yaml_where(file, earlier, first, sizeof first);
            config_yaml_error(file, key, "duplicate key \"%s\" in %s (first at %s)", text, what,
                              first);
            return -1;
        }
    }
    return 0;
}

int config_yaml_check_keys(struct config_yaml *file, yaml_node_t *map, const char *what,
                           const char *const *allowed, const char *const *required)
{
    int result = 0;
    size_t length = config_yaml_map_length(map);
    for (size_t i = 0; i < length; i++) {
        if (check_one_key(file, map, i, what, allowed) < 0) {
            result = -1;
        }
    }
    for (size_t i = 0; required != NULL && required[i] != NULL; i++) {
        if (config_yaml_get(file, map, required[i]) == NULL) {
            config_yaml_error(file, map, "missing required key \"%s\" in %s", required[i], what);
            result = -1;
        }
    }
    return result;
}

/* A scalar, or -1 after saying which shape was given instead. */
static const char *scalar_or_error(struct config_yaml *file, yaml_node_t *node, const char *key,
                                   const char *expected)
{
    const char *text = config_yaml_text(node);
    if (text == NULL) {
        config_yaml_error(file, node, "%s must be %s, not %s", key, expected, shape_name(node));
    }
    return text;
}

/* Quoted scalars are strings in YAML: "9600" is not a number. */
static bool is_quoted(const yaml_node_t *node)
{
    return node->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
           node->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

int config_yaml_string(struct config_yaml *file, yaml_node_t *node, const char *key, char **out)
{
    const char *text = scalar_or_error(file, node, key, "a string");
    if (text == NULL) {
        return -1;
    }
    if (text[0] == '\0' ||
        (!is_quoted(node) && (strcmp(text, "~") == 0 || strcmp(text, "null") == 0))) {
        config_yaml_error(file, node, "%s must not be empty", key);
        return -1;
    }
    free(*out);
    *out = config_yaml_strdup(text);
    return 0;
}

static bool charset_allows(enum config_yaml_charset charset, unsigned char c)
{
    if (charset == CONFIG_CHARSET_WORD) {
        return islower(c) || isdigit(c) || c == '_';
    }
    return isalnum(c) || c == '.' || c == '_' || c == '-';
}

static bool name_is_valid(enum config_yaml_charset charset, const char *text)
{
    size_t length = strlen(text);
    if (length == 0 || (charset == CONFIG_CHARSET_ID && length > CONFIG_ID_MAX_LENGTH)) {
        return false;
    }
    for (size_t i = 0; i < length; i++) {
        if (!charset_allows(charset, (unsigned char)text[i])) {
            return false;
        }
    }
    return true;
}

int config_yaml_name(struct config_yaml *file, yaml_node_t *node, const char *key,
                     enum config_yaml_charset charset, char **out)
{
    const char *text = scalar_or_error(file, node, key, "a name");
    if (text == NULL) {
        return -1;
    }
    if (!name_is_valid(charset, text)) {
        config_yaml_error(file, node, "%s \"%s\" may only hold %s", key, text,
                          charset == CONFIG_CHARSET_ID
                              ? "letters, digits, '.', '_' and '-' (1 to 64 characters)"
                              : "lower-case letters, digits and '_'");
        return -1;
    }
    free(*out);
    *out = config_yaml_strdup(text);
    return 0;
}

/* Decimal or 0x hexadecimal, with an optional sign; nothing else, "1.5" included. */
static bool parse_integer(const char *text, int64_t *out)
{
    const char *digits = text + (text[0] == '-' || text[0] == '+');
    bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
    if (!isdigit((unsigned char)digits[0]) || (hex && !isxdigit((unsigned char)digits[2]))) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, hex ? 16 : 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out = value;
    return true;
}

int config_yaml_integer(struct config_yaml *file, yaml_node_t *node, const char *key, int64_t min,
                        int64_t max, int64_t *out)
{
    const char *text = scalar_or_error(file, node, key, "an integer");
    if (text == NULL) {
        return -1;
    }
    int64_t value = 0;
    if (is_quoted(node) || !parse_integer(text, &value)) {
        config_yaml_error(file, node, "%s must be an integer, not \"%s\"", key, text);
        return -1;
    }
    if (value < min || value > max) {
        config_yaml_error(file, node, "%s %s is out of range %" PRId64 "..%" PRId64, key, text, min,
                          max);
        return -1;
    }
    *out = value;
    return 0;
}

int config_yaml_number(struct config_yaml *file, yaml_node_t *node, const char *key, double *out)
{
    const char *text = scalar_or_error(file, node, key, "a number");
    if (text == NULL) {
        return -1;
    }
    const char *digits = text + (text[0] == '-' || text[0] == '+');
    char *end = NULL;
    double value = strtod(text, &end);
    bool digit_first = isdigit((unsigned char)digits[0]) ||
                       (digits[0] == '.' && isdigit((unsigned char)digits[1]));
    if (is_quoted(node) || !digit_first || *end != '\0' || !isfinite(value)) {
        config_yaml_error(file, node, "%s must be a number, not \"%s\"", key, text);
        return -1;
    }
    *out = value;
    return 0;
}

int config_yaml_bool(struct config_yaml *file, yaml_node_t *node, const char *key, bool *out)
{
    /* YAML 1.2 true/false, and the YAML 1.1 spellings installers still write. */
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON",  NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no",  "No",
                                     "NO",    "off",   "Off",   "OFF", NULL};
    const char *text = scalar_or_error(file, node, key, "true or false");
    if (text == NULL) {
        return -1;
    }
    if (!is_quoted(node) && in_list(yes, text)) {
        *out = true;
    } else if (!is_quoted(node) && in_list(no, text)) {
        *out = false;
    } else {
        config_yaml_error(file, node, "%s must be true or false, not \"%s\"", key, text);
        return -1;
    }
    return 0;
}

int config_yaml_choice(struct config_yaml *file, yaml_node_t *node, const char *key,
                       const char *const *names, int *out)
{
    const char *text = scalar_or_error(file, node, key, "a single value");
    if (text == NULL) {
        return -1;
    }
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(names[i], text) == 0) {
            *out = i;
            return 0;
        }
    }
    char expected[512];
    join_names(names, expected, sizeof expected);
    config_yaml_error(file, node, "%s \"%s\" is not one of: %s", key, text, expected);
    return -1;
}

int config_yaml_get_string(struct config_yaml *file, const yaml_node_t *map, const char *key,
                           char **out)
{
    yaml_node_t *node = config_yaml_get(file, map, key);
    return node ? config_yaml_string(file, node, key, out) : 0;
}

int config_yaml_get_name(struct config_yaml *file, const yaml_node_t *map, const char *key,
                         const char *label, enum config_yaml_charset charset, char **out)
{
    yaml_node_t *node = config_yaml_get(file, map, key);
    return node ? config_yaml_name(file, node, label, charset, out) : 0;
}

int config_yaml_get_u32(struct config_yaml *file, const yaml_node_t *map, const char *key,
                        uint32_t min, uint32_t max, uint32_t *out)
{
    yaml_node_t *node = config_yaml_get(file, map, key);
    int64_t value = 0;
    if (node == NULL) {
        return 0;
    }
    if (config_yaml_integer(file, node, key, min, max, &value) < 0) {
        return -1;
    }
    *out = (uint32_t)value;
    return 0;
}

int config_yaml_get_u16(struct config_yaml *file, const yaml_node_t *map, const char *key,
                        uint16_t min, uint16_t max, uint16_t *out)
{
    uint32_t value = *out;
    if (config_yaml_get_u32(file, map, key, min, max, &value) < 0) {
        return -1;
    }
    *out = (uint16_t)value;
    return 0;
}

int config_yaml_get_number(struct config_yaml *file, const yaml_node_t *map, const char *key,
                           double *out)
{
    yaml_node_t *node = config_yaml_get(file, map, key);
    return node ? config_yaml_number(file, node, key, out) : 0;
}

int config_yaml_get_bool(struct config_yaml *file, const yaml_node_t *map, const char *key,
                         bool *out)
{
    yaml_node_t *node = config_yaml_get(file, map, key);
    return node ? config_yaml_bool(file, node, key, out) : 0;
}

int config_yaml_get_choice(struct config_yaml *file, const yaml_node_t *map, const char *key,
                           const char *const *names, int *out)
{
    yaml_node_t *node = config_yaml_get(file, map, key);
    return node ? config_yaml_choice(file, node, key, names, out) : 0;
}
