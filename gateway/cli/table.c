#include "table.h"

#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define COLUMN_GAP "  "

struct cli_table {
    size_t columns;
    char **cells;    /* rows * columns, the header first */
    size_t rows;     /* the header included */
    size_t capacity; /* rows */
    bool *right;
};

/*
 * wcwidth() knows East Asian widths only in a UTF-8 locale; a cron job or a
 * service often runs with LANG unset (the "C" locale), so fall back to C.UTF-8.
 */
static void use_utf8_ctype(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    setlocale(LC_CTYPE, "");
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8");
}

/* Decodes one UTF-8 sequence at text; returns its length (1 for an invalid byte). */
static size_t decode(const unsigned char *text, uint32_t *code_point)
{
    size_t length = text[0] < 0x80         ? 1
                    : (text[0] >> 5) == 6  ? 2
                    : (text[0] >> 4) == 14 ? 3
                    : (text[0] >> 3) == 30 ? 4
                                           : 0;
    if (length == 0) {
        *code_point = 0xFFFD;
        return 1;
    }
    *code_point = length == 1 ? text[0] : text[0] & (0x7F >> length);
    for (size_t i = 1; i < length; i++) {
        if ((text[i] & 0xC0) != 0x80) {
            *code_point = 0xFFFD;
            return 1;
        }
        *code_point = (*code_point << 6) | (text[i] & 0x3F);
    }
    return length;
}

size_t cli_table_width(const char *text)
{
    use_utf8_ctype();
    size_t width = 0;
    const unsigned char *at = (const unsigned char *)text;
    while (*at) {
        uint32_t code_point;
        at += decode(at, &code_point);
        int columns = wcwidth((wchar_t)code_point);
        width += columns < 0 ? 1 : (size_t)columns;
    }
    return width;
}

struct cli_table *cli_table_new(size_t count, const char *const *headers)
{
    struct cli_table *table = calloc(1, sizeof *table);
    if (!table)
        return NULL;
    table->columns = count;
    table->right = calloc(count, sizeof *table->right);
    if (!table->right || cli_table_add(table, headers) != 0) {
        cli_table_free(table);
        return NULL;
    }
    return table;
}

void cli_table_free(struct cli_table *table)
{
    if (!table)
        return;
    for (size_t i = 0; i < table->rows * table->columns; i++)
        free(table->cells[i]);
    free(table->cells);
    free(table->right);
    free(table);
}

void cli_table_align_right(struct cli_table *table, size_t column)
{
    table->right[column] = true;
}

int cli_table_add(struct cli_table *table, const char *const *cells)
{
    if (table->rows == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 16;
        char **grown = realloc(table->cells, capacity * table->columns * sizeof *grown);
        if (!grown)
            return -1;
        table->cells = grown;
        table->capacity = capacity;
    }
    char **row = table->cells + table->rows * table->columns;
    for (size_t c = 0; c < table->columns; c++) {
        row[c] = strdup(cells[c] ? cells[c] : "-");
        if (!row[c]) {
            while (c > 0)
                free(row[--c]);
            return -1;
        }
    }
    table->rows++;
    return 0;
}

static void pad(FILE *stream, size_t count)
{
    while (count-- > 0)
        fputc(' ', stream);
}

void cli_table_print(const struct cli_table *table, FILE *stream)
{
    size_t *widths = calloc(table->columns, sizeof *widths);
    if (!widths)
        return;
    for (size_t i = 0; i < table->rows * table->columns; i++) {
        size_t width = cli_table_width(table->cells[i]);
        size_t *column = &widths[i % table->columns];
        *column = width > *column ? width : *column;
    }
    for (size_t r = 0; r < table->rows; r++) {
        for (size_t c = 0; c < table->columns; c++) {
            const char *cell = table->cells[r * table->columns + c];
            size_t room = widths[c] - cli_table_width(cell);
            bool last = c + 1 == table->columns;
            if (table->right[c])
                pad(stream, room);
            fputs(cell, stream);
            if (!table->right[c] && !last)
                pad(stream, room);
            if (!last)
                fputs(COLUMN_GAP, stream);
        }
        fputc('\n', stream);
    }
    free(widths);
}
