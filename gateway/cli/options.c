/*
 * options.c — the command line every `safetygw` command shares: the shared
 * options (--json, --socket, -c, --fail-on, --help), the command's own, its
 * positional arguments, the usage on an error or --help, and where the
 * control socket is.
 */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_load.h"

static int parse_fail_on(struct cli_options *options, const char *text)
{
    char copy[64];
    snprintf(copy, sizeof copy, "%s", text);
    char *save = NULL;
    for (char *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
        if (strcmp(word, "offline") == 0)
            options->fail_on |= CLI_FAIL_OFFLINE;
        else if (strcmp(word, "alarm") == 0)
            options->fail_on |= CLI_FAIL_ALARM;
        else if (strcmp(word, "fault") == 0)
            options->fail_on |= CLI_FAIL_FAULT;
        else {
            fprintf(stderr, "safetygw %s: --fail-on takes offline, alarm or fault, not \"%s\"\n",
                    options->command, word);
            return -1;
        }
    }
    return 0;
}

/* Handles the shared options; 1 when argument was one of them, 0 when not, -1 on error. */
static int take_common(struct cli_options *options, const char *name, const char *value)
{
    if (strcmp(name, "--json") == 0)
        return options->json = true, 1;
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return options->help = true, 1;
    if (!options->asks_daemon)
        return 0;
    if (strcmp(name, "--socket") == 0)
        return options->socket_path = value, 1;
    if (strcmp(name, "--config") == 0 || strcmp(name, "-c") == 0)
        return options->config_path = value, 1;
    if (strcmp(name, "--fail-on") == 0)
        return parse_fail_on(options, value) == 0 ? 1 : -1;
    return 0;
}

static bool common_takes_value(const struct cli_options *options, const char *name)
{
    return options->asks_daemon &&
           (strcmp(name, "--socket") == 0 || strcmp(name, "--config") == 0 ||
            strcmp(name, "-c") == 0 || strcmp(name, "--fail-on") == 0);
}

static const struct cli_option *find_extra(const struct cli_option *extra, const char *name)
{
    for (size_t i = 0; extra && extra[i].name; i++)
        if (strcmp(extra[i].name, name) == 0)
            return &extra[i];
    return NULL;
}

/* The value of option name: after "=", or the next argument when it takes one. */
static int option_value(int argc, char **argv, int *index, const char *name, bool wants_value,
                        const char *command, const char **value)
{
    const char *equals = strchr(argv[*index], '=');
    *value = equals ? equals + 1 : NULL;
    if (!wants_value || *value)
        return 0;
    if (*index + 1 >= argc) {
        fprintf(stderr, "safetygw %s: %s needs a value\n", command, name);
        return -1;
    }
    *value = argv[++*index];
    return 0;
}

static int take_option(int argc, char **argv, int *index, struct cli_options *options,
                       const struct cli_option *extra)
{
    char name[64]; /* "--kind" of "--kind=gas_alarm" */
    const char *value;
    snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[*index], "="), argv[*index]);
    const struct cli_option *own = find_extra(extra, name);
    bool wants_value = own ? own->value != NULL : common_takes_value(options, name);
    if (option_value(argc, argv, index, name, wants_value, options->command, &value) != 0)
        return -1;
    if (own && own->flag)
        return *own->flag = true, 0;
    if (own)
        return *own->value = value, 0;
    int taken = take_common(options, name, value);
    if (taken == 0)
        fprintf(stderr, "safetygw %s: unknown option %s\n", options->command, name);
    return taken == 1 ? 0 : -1;
}

int cli_options_parse(int argc, char **argv, struct cli_options *options,
                      const struct cli_option *extra, const char **positional,
                      size_t max_positional, size_t *positional_count)
{
    *positional_count = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            if (take_option(argc, argv, &i, options, extra) != 0)
                return -1;
            continue;
        }
        if (*positional_count == max_positional) {
            fprintf(stderr, "safetygw %s: unexpected argument \"%s\"\n", options->command, argv[i]);
            return -1;
        }
        positional[(*positional_count)++] = argv[i];
    }
    return 0;
}

int cli_options_parse_or_help(int argc, char **argv, struct cli_options *options,
                              const struct cli_option *extra, const char **positional,
                              size_t max_positional, const char *usage)
{
    size_t positional_count;
    if (cli_options_parse(argc, argv, options, extra, positional, max_positional,
                          &positional_count) != 0) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (options->help) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    return CLI_OPTIONS_RUN;
}

static char *socket_from_config(const char *path)
{
    struct config_errors errors = {0};
    struct config *config = config_load(path, &errors);
    for (size_t i = 0; !config && i < errors.count; i++)
        fprintf(stderr, "%s\n", errors.messages[i]);
    config_errors_free(&errors);
    if (!config) {
        fprintf(stderr, "safetygw: cannot read the control socket's path from %s\n", path);
        return NULL;
    }
    char *socket_path = strdup(config->gateway.control_socket);
    config_free(config);
    return socket_path;
}

char *cli_options_socket_path(const struct cli_options *options)
{
    if (options->socket_path)
        return strdup(options->socket_path);
    if (options->config_path)
        return socket_from_config(options->config_path);
    return strdup(CLI_DEFAULT_SOCKET);
}
