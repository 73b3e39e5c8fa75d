/*
 * config_yaml.c — the YAML side of the loader: a file's first document read
 * with libyaml's event parser into a compact tree (one 24-byte node a value,
 * every text in one block, freed whole by config_yaml_close), and the typed
 * readers over it, whose errors name file:line:column. Marks are zero-based
 * in libyaml and one-based in every message, as editors count.
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

#include <yaml.h>

#define CONFIG_ID_MAX_LENGTH 64

enum config_node_kind { CONFIG_NODE_SCALAR, CONFIG_NODE_LIST, CONFIG_NODE_MAP };

/* One value of the file: 24 bytes, its text (if any) in the file's texts. */
struct config_node {
    union {
        const char *text;   /* a scalar's, once the whole file is read */
        size_t text_offset; /* a scalar's, while the file is read: where it is in texts */
        size_t first_child; /* a list's or map's: where its children start in children */
    };
    uint32_t line; /* where it starts, zero-based as libyaml counts; messages count from 1 */
    uint32_t column;
    uint32_t count; /* a list's items, a map's pairs */
    uint8_t kind;   /* enum config_node_kind */
    bool quoted;    /* a quoted scalar is a string, never a number or a bool */
};

static _Noreturn void out_of_memory(void)
{
    fprintf(stderr, "safetygw: out of memory loading the configuration\n");
    abort();
}

void *config_yaml_calloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size ? size : 1);
    if (memory == NULL) {
        out_of_memory();
    }
    return memory;
}

/* array, of *capacity elements of size bytes, with room for count + more of them. */
static void *reserve(void *array, size_t count, size_t more, size_t *capacity, size_t size)
{
    if (count + more <= *capacity) {
        return array;
    }
    size_t grown = *capacity ? *capacity : 64;
    while (grown < count + more) {
        grown *= 2;
    }
    if (grown > SIZE_MAX / size) {
        out_of_memory();
    }
    void *bigger = realloc(array, grown * size);
    if (bigger == NULL) {
        out_of_memory();
    }
    *capacity = grown;
    return bigger;
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
            out_of_memory();
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

void config_yaml_where(const struct config_yaml *file, const struct config_node *node, char *out,
                       size_t size)
{
    if (node == NULL) {
        snprintf(out, size, "%s", file->path);
        return;
    }
    snprintf(out, size, "%s:%lu:%lu", file->path, (unsigned long)node->line + 1,
             (unsigned long)node->column + 1);
}

void config_yaml_error(struct config_yaml *file, const struct config_node *node, const char *format,
                       ...)
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

/* A list or map whose end has not come yet. */
struct open_collection {
    uint32_t node;
    size_t first_pending; /* where its children start in pending */
};

struct anchor {
    char *name;
    uint32_t node;
};

/* What the tree is built with, from libyaml's events, and freed once it is whole. */
struct tree_builder {
    struct config_yaml *file; /* its nodes, children and texts grow here */
    yaml_parser_t parser;
    size_t node_capacity, child_capacity, text_length, text_capacity;
    uint32_t *pending; /* children of the open lists and maps, in the order they came */
    size_t pending_count, pending_capacity;
    struct open_collection *open; /* innermost last */
    size_t open_count, open_capacity;
    struct anchor *anchors;
    size_t anchor_count, anchor_capacity;
};

static uint32_t mark_u32(size_t value)
{
    return value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
}

/* The next node, at mark; -1 after reporting a file with more nodes than an index holds. */
static long add_node(struct tree_builder *builder, enum config_node_kind kind,
                     const yaml_mark_t *mark)
{
    struct config_yaml *file = builder->file;
    if (file->node_count >= UINT32_MAX) {
        config_yaml_add_error(file->errors, "%s: too large: more than %lu YAML nodes", file->path,
                              (unsigned long)UINT32_MAX);
        return -1;
    }
    file->nodes =
        reserve(file->nodes, file->node_count, 1, &builder->node_capacity, sizeof *file->nodes);
    struct config_node *node = &file->nodes[file->node_count];
    memset(node, 0, sizeof *node);
    node->kind = (uint8_t)kind;
    node->line = mark_u32(mark->line);
    node->column = mark_u32(mark->column);
    return (long)file->node_count++;
}

/* node as the next child of the innermost open list or map; the root is nobody's child. */
static void add_child(struct tree_builder *builder, uint32_t node)
{
    if (builder->open_count == 0) {
        return;
    }
    builder->pending = reserve(builder->pending, builder->pending_count, 1,
                               &builder->pending_capacity, sizeof *builder->pending);
    builder->pending[builder->pending_count++] = node;
}

/* libyaml's own loader reports a composer error through the parser; so does this. */
static int composer_error(struct tree_builder *builder, const char *context,
                          const yaml_mark_t *context_mark, const char *problem,
                          const yaml_mark_t *problem_mark)
{
    builder->parser.error = YAML_COMPOSER_ERROR;
    builder->parser.context = context;
    builder->parser.context_mark = context_mark ? *context_mark : (yaml_mark_t){0, 0, 0};
    builder->parser.problem = problem;
    builder->parser.problem_mark = *problem_mark;
    report_syntax_error(builder->file, &builder->parser);
    return -1;
}

/* An anchor names its node from the node's start on, as with libyaml's loader. */
static int add_anchor(struct tree_builder *builder, const yaml_char_t *name, uint32_t node,
                      const yaml_mark_t *mark)
{
    if (name == NULL) {
        return 0;
    }
    for (size_t i = 0; i < builder->anchor_count; i++) {
        if (strcmp(builder->anchors[i].name, (const char *)name) == 0) {
            const struct config_node *first = &builder->file->nodes[builder->anchors[i].node];
            yaml_mark_t first_mark = {0, first->line, first->column};
            return composer_error(builder, "found duplicate anchor; first occurrence", &first_mark,
                                  "second occurrence", mark);
        }
    }
    builder->anchors = reserve(builder->anchors, builder->anchor_count, 1,
                               &builder->anchor_capacity, sizeof *builder->anchors);
    builder->anchors[builder->anchor_count++] =
        (struct anchor){config_yaml_strdup((const char *)name), node};
    return 0;
}

static int add_alias(struct tree_builder *builder, const yaml_event_t *event)
{
    const char *name = (const char *)event->data.alias.anchor;
    for (size_t i = 0; i < builder->anchor_count; i++) {
        if (strcmp(builder->anchors[i].name, name) == 0) {
            add_child(builder, builder->anchors[i].node);
            return 0;
        }
    }
    return composer_error(builder, NULL, NULL, "found undefined alias", &event->start_mark);
}

static int add_scalar(struct tree_builder *builder, const yaml_event_t *event)
{
    struct config_yaml *file = builder->file;
    long index = add_node(builder, CONFIG_NODE_SCALAR, &event->start_mark);
    if (index < 0) {
        return -1;
    }
    size_t length = event->data.scalar.length;
    file->texts =
        reserve(file->texts, builder->text_length, length + 1, &builder->text_capacity, 1);
    memcpy(file->texts + builder->text_length, event->data.scalar.value, length);
    file->texts[builder->text_length + length] = '\0';
    struct config_node *node = &file->nodes[index];
    node->text_offset = builder->text_length;
    node->quoted = event->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                   event->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    builder->text_length += length + 1;
    if (add_anchor(builder, event->data.scalar.anchor, (uint32_t)index, &event->start_mark) < 0) {
        return -1;
    }
    add_child(builder, (uint32_t)index);
    return 0;
}

static int open_collection(struct tree_builder *builder, enum config_node_kind kind,
                           const yaml_char_t *anchor, const yaml_mark_t *mark)
{
    long index = add_node(builder, kind, mark);
    if (index < 0 || add_anchor(builder, anchor, (uint32_t)index, mark) < 0) {
        return -1;
    }
    builder->open = reserve(builder->open, builder->open_count, 1, &builder->open_capacity,
                            sizeof *builder->open);
    builder->open[builder->open_count++] =
        (struct open_collection){(uint32_t)index, builder->pending_count};
    return 0;
}

/* A list's or map's children move from pending to children, where they stay together. */
static void close_collection(struct tree_builder *builder)
{
    struct config_yaml *file = builder->file;
    struct open_collection open = builder->open[--builder->open_count];
    size_t count = builder->pending_count - open.first_pending;
    if (count > 0) { /* an empty list or map may come before any array has memory */
        file->children = reserve(file->children, file->child_count, count, &builder->child_capacity,
                                 sizeof *file->children);
        memcpy(file->children + file->child_count, builder->pending + open.first_pending,
               count * sizeof *file->children);
    }
    struct config_node *node = &file->nodes[open.node];
    node->first_child = file->child_count;
    node->count = (uint32_t)(node->kind == CONFIG_NODE_MAP ? count / 2 : count);
    file->child_count += count;
    builder->pending_count = open.first_pending;
    add_child(builder, open.node);
}

/* 1 when the first document has ended, 0 for more events, -1 after reporting an error. */
static int add_event(struct tree_builder *builder, const yaml_event_t *event)
{
    switch (event->type) {
    case YAML_DOCUMENT_END_EVENT:
    case YAML_STREAM_END_EVENT: /* an empty file: no document */
        return 1;
    case YAML_SCALAR_EVENT:
        return add_scalar(builder, event);
    case YAML_SEQUENCE_START_EVENT:
        return open_collection(builder, CONFIG_NODE_LIST, event->data.sequence_start.anchor,
                               &event->start_mark);
    case YAML_MAPPING_START_EVENT:
        return open_collection(builder, CONFIG_NODE_MAP, event->data.mapping_start.anchor,
                               &event->start_mark);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        close_collection(builder);
        return 0;
    case YAML_ALIAS_EVENT:
        return add_alias(builder, event);
    default: /* stream and document starts */
        return 0;
    }
}

/* Scalars point at their texts once texts has stopped moving. */
static void settle_texts(struct config_yaml *file)
{
    for (size_t i = 0; i < file->node_count; i++) {
        struct config_node *node = &file->nodes[i];
        if (node->kind == CONFIG_NODE_SCALAR) {
            node->text = file->texts + node->text_offset;
        }
    }
}

static void free_tree(struct config_yaml *file)
{
    free(file->nodes);
    free(file->children);
    free(file->texts);
    file->nodes = NULL;
    file->children = NULL;
    file->texts = NULL;
    file->node_count = 0;
    file->child_count = 0;
}

static void builder_free(struct tree_builder *builder)
{
    for (size_t i = 0; i < builder->anchor_count; i++) {
        free(builder->anchors[i].name);
    }
    free(builder->anchors);
    free(builder->open);
    free(builder->pending);
    yaml_parser_delete(&builder->parser);
}

/*
 * The first document of stream, event by event, into file's tree: one small
 * node a value and every text in one block, where libyaml's document would
 * hold a node of its own, a tag and a stack for each (four times the memory
 * for ten thousand devices). Later documents are not read, as with libyaml's
 * loader.
 */
static int build_tree(struct config_yaml *file, FILE *stream)
{
    struct tree_builder builder = {.file = file};
    if (!yaml_parser_initialize(&builder.parser)) {
        config_yaml_add_error(file->errors, "%s: cannot start the YAML parser", file->path);
        return -1;
    }
    yaml_parser_set_input_file(&builder.parser, stream);
    int result = 0;
    while (result == 0) {
        yaml_event_t event;
        if (!yaml_parser_parse(&builder.parser, &event)) {
            report_syntax_error(file, &builder.parser);
            result = -1;
            break;
        }
        result = add_event(&builder, &event);
        yaml_event_delete(&event);
    }
    builder_free(&builder);
    if (result < 0) {
        free_tree(file); /* its texts are not settled: no reader may see it */
        return -1;
    }
    settle_texts(file);
    return 0;
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
    int result = build_tree(file, stream);
    fclose(stream);
    if (result == 0 && config_yaml_root(file) == NULL) {
        config_yaml_add_error(errors, "%s:1:1: the file is empty", path);
        result = -1;
    }
    return result;
}

void config_yaml_close(struct config_yaml *file)
{
    free_tree(file);
    free(file->path);
    free(file->dir);
    memset(file, 0, sizeof *file);
}

const struct config_node *config_yaml_root(const struct config_yaml *file)
{
    return file->node_count > 0 ? &file->nodes[0] : NULL;
}

static const char *shape_name(const struct config_node *node)
{
    switch (node->kind) {
    case CONFIG_NODE_MAP:
        return "a map";
    case CONFIG_NODE_LIST:
        return "a list";
    default:
        return "a single value";
    }
}

static bool expect_shape(struct config_yaml *file, const struct config_node *node, const char *what,
                         enum config_node_kind kind, const char *shape)
{
    if (node->kind == kind) {
        return true;
    }
    if (node->kind == CONFIG_NODE_SCALAR) {
        config_yaml_error(file, node, "%s must be %s, not \"%s\"", what, shape, node->text);
    } else {
        config_yaml_error(file, node, "%s must be %s, not %s", what, shape, shape_name(node));
    }
    return false;
}

bool config_yaml_expect_map(struct config_yaml *file, const struct config_node *node,
                            const char *what)
{
    return expect_shape(file, node, what, CONFIG_NODE_MAP, "a map");
}

bool config_yaml_expect_list(struct config_yaml *file, const struct config_node *node,
                             const char *what)
{
    return expect_shape(file, node, what, CONFIG_NODE_LIST, "a list");
}

size_t config_yaml_list_length(const struct config_node *list)
{
    return list != NULL && list->kind == CONFIG_NODE_LIST ? list->count : 0;
}

const struct config_node *config_yaml_list_item(const struct config_yaml *file,
                                                const struct config_node *list, size_t i)
{
    return &file->nodes[file->children[list->first_child + i]];
}

size_t config_yaml_map_length(const struct config_node *map)
{
    return map != NULL && map->kind == CONFIG_NODE_MAP ? map->count : 0;
}

/* A map's children are its keys and values in turn. */
const struct config_node *config_yaml_map_key(const struct config_yaml *file,
                                              const struct config_node *map, size_t i)
{
    return &file->nodes[file->children[map->first_child + 2 * i]];
}

const struct config_node *config_yaml_map_value(const struct config_yaml *file,
                                                const struct config_node *map, size_t i)
{
    return &file->nodes[file->children[map->first_child + 2 * i + 1]];
}

const char *config_yaml_text(const struct config_node *node)
{
    return node != NULL && node->kind == CONFIG_NODE_SCALAR ? node->text : NULL;
}

const struct config_node *config_yaml_get(const struct config_yaml *file,
                                          const struct config_node *map, const char *key)
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

static bool name_in_list(const char *const *names, const char *name)
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
static int check_one_key(struct config_yaml *file, const struct config_node *map, size_t i,
                         const char *what, const char *const *allowed)
{
    const struct config_node *key = config_yaml_map_key(file, map, i);
    const char *text = config_yaml_text(key);
    if (text == NULL) {
        config_yaml_error(file, key, "a key of %s must be a single value, not %s", what,
                          shape_name(key));
        return -1;
    }
    if (allowed != NULL && !name_in_list(allowed, text)) {
        char expected[1024];
        join_names(allowed, expected, sizeof expected);
        config_yaml_error(file, key, "unknown key \"%s\" in %s (expected one of: %s)", text, what,
                          expected);
        return -1;
    }
    for (size_t j = 0; j < i; j++) {
        const struct config_node *earlier = config_yaml_map_key(file, map, j);
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

int config_yaml_check_keys(struct config_yaml *file, const struct config_node *map,
                           const char *what, const char *const *allowed,
                           const char *const *required)
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
static const char *scalar_or_error(struct config_yaml *file, const struct config_node *node,
                                   const char *key, const char *expected)
{
    const char *text = config_yaml_text(node);
    if (text == NULL) {
        config_yaml_error(file, node, "%s must be %s, not %s", key, expected, shape_name(node));
    }
    return text;
}

/* Quoted scalars are strings in YAML: "9600" is not a number. */
static bool is_quoted(const struct config_node *node)
{
    return node->quoted;
}

int config_yaml_string(struct config_yaml *file, const struct config_node *node, const char *key,
                       char **out)
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

int config_yaml_name(struct config_yaml *file, const struct config_node *node, const char *key,
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

int config_yaml_integer(struct config_yaml *file, const struct config_node *node, const char *key,
                        int64_t min, int64_t max, int64_t *out)
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

int config_yaml_real(struct config_yaml *file, const struct config_node *node, const char *key,
                     double *out)
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

int config_yaml_bool(struct config_yaml *file, const struct config_node *node, const char *key,
                     bool *out)
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
    if (!is_quoted(node) && name_in_list(yes, text)) {
        *out = true;
    } else if (!is_quoted(node) && name_in_list(no, text)) {
        *out = false;
    } else {
        config_yaml_error(file, node, "%s must be true or false, not \"%s\"", key, text);
        return -1;
    }
    return 0;
}

int config_yaml_choice(struct config_yaml *file, const struct config_node *node, const char *key,
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

int config_yaml_get_string(struct config_yaml *file, const struct config_node *map, const char *key,
                           char **out)
{
    const struct config_node *node = config_yaml_get(file, map, key);
    return node ? config_yaml_string(file, node, key, out) : 0;
}

int config_yaml_get_name(struct config_yaml *file, const struct config_node *map, const char *key,
                         const char *label, enum config_yaml_charset charset, char **out)
{
    const struct config_node *node = config_yaml_get(file, map, key);
    return node ? config_yaml_name(file, node, label, charset, out) : 0;
}

int config_yaml_get_u32(struct config_yaml *file, const struct config_node *map, const char *key,
                        uint32_t min, uint32_t max, uint32_t *out)
{
    const struct config_node *node = config_yaml_get(file, map, key);
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

int config_yaml_get_u16(struct config_yaml *file, const struct config_node *map, const char *key,
                        uint16_t min, uint16_t max, uint16_t *out)
{
    uint32_t value = *out;
    if (config_yaml_get_u32(file, map, key, min, max, &value) < 0) {
        return -1;
    }
    *out = (uint16_t)value;
    return 0;
}

int config_yaml_get_real(struct config_yaml *file, const struct config_node *map, const char *key,
                         double *out)
{
    const struct config_node *node = config_yaml_get(file, map, key);
    return node ? config_yaml_real(file, node, key, out) : 0;
}

int config_yaml_get_bool(struct config_yaml *file, const struct config_node *map, const char *key,
                         bool *out)
{
    const struct config_node *node = config_yaml_get(file, map, key);
    return node ? config_yaml_bool(file, node, key, out) : 0;
}

int config_yaml_get_choice(struct config_yaml *file, const struct config_node *map, const char *key,
                           const char *const *names, int *out)
{
    const struct config_node *node = config_yaml_get(file, map, key);
    return node ? config_yaml_choice(file, node, key, names, out) : 0;
}
