/*
 * table.h — aligned tables for people: columns padded to the widest cell
 * by display width, so that Chinese location names (two columns a character)
 * line up with ASCII ones. Cells are UTF-8; widths come from wcwidth().
 */
#ifndef SAFETYGW_CLI_TABLE_H
#define SAFETYGW_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_table;

/* A table with count columns and these headers (copied). NULL when out of memory. */
struct cli_table *cli_table_new(size_t count, const char *const *headers);
void cli_table_free(struct cli_table *table);

/* Right-aligns a column (numbers). */
void cli_table_align_right(struct cli_table *table, size_t column);

/* Adds a row of count cells (copied; NULL prints as "-"). Returns 0 or -1 (out of memory). */
int cli_table_add(struct cli_table *table, const char *const *cells);

/* Prints the header and the rows, two spaces between columns, no trailing blanks. */
void cli_table_print(const struct cli_table *table, FILE *stream);

/* Terminal columns the UTF-8 text takes (invalid bytes and unprintables count as one). */
size_t cli_table_width(const char *text);

#endif
