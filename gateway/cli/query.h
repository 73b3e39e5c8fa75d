/*
 * query.h — the skeleton every read-only `safetygw` command shares (status,
 * devices, device, alarms): its command line (the shared options, its own,
 * --help), one request to the daemon's control socket, the answer as a table
 * or summary (or as JSON with --json), and the exit code (--fail-on). Each
 * command keeps only what it asks and how it shows and judges the answer.
 */
#ifndef SAFETYGW_CLI_QUERY_H
#define SAFETYGW_CLI_QUERY_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "options.h"

struct cli_query {
    const char *usage;         /* printed on --help (stdout) and after a usage error (stderr) */
    const char *argument_name; /* the one positional argument ("device ID"), or NULL: none */
    const char *answer_member; /* the answer's member shown and judged; NULL: the whole answer */
    void (*print)(const json_t *shown);                    /* without --json */
    int (*verdict)(const json_t *shown, unsigned fail_on); /* CLI_EXIT_OK or _BAD_NEWS */
};

/* A table of a JSON array: one row an entry. */
struct cli_table;
struct cli_query_table {
    const char *const *headers;
    size_t column_count;
    unsigned right_aligned; /* a bit a column (numbers): 1u << column */
    const char *nothing;    /* printed instead when there are no entries; NULL: the headers */
    /* Adds the entry's row; now is the one time every row's ages are taken against. */
    void (*add_row)(struct cli_table *table, const json_t *entry, time_t now);
};

/* Prints entries (a JSON array) as shape says, on stdout. */
void cli_query_print_table(const struct cli_query_table *shape, const json_t *entries);

/*
 * Parses argv into options (own: the command's own options, or NULL; the
 * positional argument, when query->argument_name, into *argument, which
 * starts NULL). Returns CLI_OPTIONS_RUN, or the exit code once it has
 * printed the usage (an error) or the help.
 */
int cli_query_parse(const struct cli_query *query, int argc, char **argv,
                    struct cli_options *options, const struct cli_option *own,
                    const char **argument);

/*
 * Sends request (stolen) to the daemon, shows the answer and returns the
 * exit code: CLI_EXIT_USAGE when the daemon could not be asked, else the
 * verdict on the shown part.
 */
int cli_query_ask(const struct cli_query *query, const struct cli_options *options,
                  json_t *request);

#endif
