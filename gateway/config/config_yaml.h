/*
 * config_yaml.h — one YAML file as the configuration loader reads it: its
 * first document as a compact tree of nodes, built from libyaml's events;
 * typed and range-checked values, key checks, and error messages that point
 * at "file:line:column". struct config_yaml owns the tree and its path
 * strings until config_yaml_close(); node pointers and scalar texts live as
 * long as that.
 */
#ifndef SAFETYGW_CONFIG_YAML_H
#define SAFETYGW_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* One value of the file (a scalar, a list or a map) and where it starts; config_yaml.c. */
struct config_node;

struct config_yaml {
    char *path; /* as shown in messages */
    char *dir;  /* folder of path: relative paths in the file are resolved against it */
    /* The file's first document as a tree: nodes[0] is its root; none when empty. */
    struct config_node *nodes;
    size_t node_count;
    uint32_t *children; /* indices into nodes: a list's items, a map's keys and values in turn */
    size_t child_count;
    char *texts;                  /* every scalar's text, each ending in '\0' */
    struct config_errors *errors; /* not owned; where messages go */
};

/* Which characters a name may hold. */
enum config_yaml_charset {
    CONFIG_CHARSET_ID,   /* [A-Za-z0-9._-], 1..64: gateway, device and bus ids */
    CONFIG_CHARSET_WORD, /* [a-z0-9_]: point, bit and kind names */
};

/* Parses path. On failure reports why (unreadable, syntax error) and returns -1. */
int config_yaml_open(struct config_yaml *file, const char *path, struct config_errors *errors);
void config_yaml_close(struct config_yaml *file);
const struct config_node *config_yaml_root(const struct config_yaml *file);

/* "file:line:column: message" at node (NULL: the file alone). */
void config_yaml_error(struct config_yaml *file, const struct config_node *node, const char *format,
                       ...) __attribute__((format(printf, 3, 4)));
void config_yaml_add_error(struct config_errors *errors, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* "file:line:column" of node, for "first at ..." remarks. */
void config_yaml_where(const struct config_yaml *file, const struct config_node *node, char *out,
                       size_t size);

/* Shapes: false after reporting "what must be a map, not a list". */
bool config_yaml_expect_map(struct config_yaml *file, const struct config_node *node,
                            const char *what);
bool config_yaml_expect_list(struct config_yaml *file, const struct config_node *node,
                             const char *what);

/* Lists and maps. */
size_t config_yaml_list_length(const struct config_node *list);
const struct config_node *config_yaml_list_item(const struct config_yaml *file,
                                                const struct config_node *list, size_t i);
size_t config_yaml_map_length(const struct config_node *map);
const struct config_node *config_yaml_map_key(const struct config_yaml *file,
                                              const struct config_node *map, size_t i);
const struct config_node *config_yaml_map_value(const struct config_yaml *file,
                                                const struct config_node *map, size_t i);
const struct config_node *config_yaml_get(const struct config_yaml *file,
                                          const struct config_node *map, const char *key);

/* The text of a scalar node, or NULL for a list or map. */
const char *config_yaml_text(const struct config_node *node);

/*
 * Reports every key of map not in allowed (NULL-terminated; NULL allows any
 * key), every key given
 * twice, and every key of required (NULL-terminated, may be NULL) that is
 * missing. what names the map in messages: `bus "bldg-12"`. Returns -1 if any.
 */
int config_yaml_check_keys(struct config_yaml *file, const struct config_node *map,
                           const char *what, const char *const *allowed,
                           const char *const *required);

/*
 * Values of scalar nodes; key names the value in messages. Every reader
 * reports what is wrong at the node where it is wrong and returns -1, so a
 * caller can skip the bad item and keep looking for more errors. A key that
 * is absent is not an error here: which keys are required is said once per
 * map with config_yaml_check_keys().
 */
int config_yaml_string(struct config_yaml *file, const struct config_node *node, const char *key,
                       char **out);
int config_yaml_name(struct config_yaml *file, const struct config_node *node, const char *key,
                     enum config_yaml_charset charset, char **out);
int config_yaml_integer(struct config_yaml *file, const struct config_node *node, const char *key,
                        int64_t min, int64_t max, int64_t *out);
int config_yaml_real(struct config_yaml *file, const struct config_node *node, const char *key,
                     double *out);
int config_yaml_bool(struct config_yaml *file, const struct config_node *node, const char *key,
                     bool *out);
/* names is NULL-terminated; *out becomes the index of the matching name. */
int config_yaml_choice(struct config_yaml *file, const struct config_node *node, const char *key,
                       const char *const *names, int *out);

/* The same, by key of map; an absent key leaves *out as it is and returns 0. */
int config_yaml_get_string(struct config_yaml *file, const struct config_node *map, const char *key,
                           char **out);
/* label names the value in messages ("device id" for key "id"). */
int config_yaml_get_name(struct config_yaml *file, const struct config_node *map, const char *key,
                         const char *label, enum config_yaml_charset charset, char **out);
int config_yaml_get_u32(struct config_yaml *file, const struct config_node *map, const char *key,
                        uint32_t min, uint32_t max, uint32_t *out);
int config_yaml_get_u16(struct config_yaml *file, const struct config_node *map, const char *key,
                        uint16_t min, uint16_t max, uint16_t *out);
int config_yaml_get_real(struct config_yaml *file, const struct config_node *map, const char *key,
                         double *out);
int config_yaml_get_bool(struct config_yaml *file, const struct config_node *map, const char *key,
                         bool *out);
int config_yaml_get_choice(struct config_yaml *file, const struct config_node *map, const char *key,
                           const char *const *names, int *out);

/* path as named in the file, made relative to the file's folder unless absolute. */
char *config_yaml_resolve_path(const struct config_yaml *file, const char *path);

/*
 * Allocation for the loader. It runs once at start-up or reload; a gateway
 * that cannot allocate its configuration cannot run, so these abort with a
 * message rather than thread NULL through every reader.
 */
void *config_yaml_calloc(size_t count, size_t size);
char *config_yaml_strdup(const char *text);
char *config_yaml_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
