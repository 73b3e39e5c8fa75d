/*
 * query.c — the read-only commands' shared run: parse, help, ask, show,
 * judge (query.h). It owns nothing past one call: the answer is freed here.
 */
#include "query.h"

#include <stdio.h>

#include "socket.h"
#include "table.h"

int cli_query_parse(const struct cli_query *query, int argc, char **argv,
                    struct cli_options *options, const struct cli_option *own,
                    const char **argument)
{
    size_t wanted = query->argument_name ? 1 : 0;
    int code = cli_options_parse_or_help(argc, argv, options, own, argument, wanted, query->usage);
    if (code == CLI_OPTIONS_RUN && wanted && !*argument) {
        fprintf(stderr, "safetygw %s: which %s?\n", options->command, query->argument_name);
        fputs(query->usage, stderr);
        return CLI_EXIT_USAGE;
    }
    return code;
}

int cli_query_ask(const struct cli_query *query, const struct cli_options *options, json_t *request)
{
    json_t *answer = cli_socket_ask(options, request);
    if (!answer)
        return CLI_EXIT_USAGE;
    const json_t *shown =
        query->answer_member ? json_object_get(answer, query->answer_member) : answer;
    if (options->json)
        cli_socket_print_json(answer);
    else
        query->print(shown);
    int code = query->verdict(shown, options->fail_on);
    json_decref(answer);
    return code;
}

void cli_query_print_table(const struct cli_query_table *shape, const json_t *entries)
{
    if (shape->nothing && json_array_size(entries) == 0) {
        printf("%s\n", shape->nothing);
        return;
    }
    struct cli_table *table = cli_table_new(shape->column_count, shape->headers);
    if (!table)
        return;
    for (size_t column = 0; column < shape->column_count; column++)
        if (shape->right_aligned & (1u << column))
            cli_table_align_right(table, column);
    time_t now = time(NULL);
    size_t i;
    const json_t *entry;
    json_array_foreach((json_t *)entries, i, entry)
    {
        shape->add_row(table, entry, now);
    }
    cli_table_print(table, stdout);
    cli_table_free(table);
}
