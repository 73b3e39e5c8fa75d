/*
 * options.h — the command line of every `safetygw` command: the options
 * they share (--json; and for commands that ask the daemon --socket, -c and
 * --fail-on), the command's own options, and its positional arguments.
 * Exit codes are the CLI contract (DESIGN.md, "Binaries").
 */
#ifndef SAFETYGW_CLI_OPTIONS_H
#define SAFETYGW_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_BAD_NEWS 1 /* the answer is bad news (--fail-on; probe: no good answer) */
#define CLI_EXIT_USAGE 2    /* usage or connection error */

#define CLI_DEFAULT_SOCKET "/run/safetygw/control.sock"

/* --fail-on STATE[,STATE...]: exit 1 when a device is in one of these. */
enum cli_fail_on {
    CLI_FAIL_OFFLINE = 1 << 0,
    CLI_FAIL_ALARM = 1 << 1,
    CLI_FAIL_FAULT = 1 << 2,
};

/* One option of a command: with a value (value set) or a flag (flag set). */
struct cli_option {
    const char *name; /* "--kind" */
    const char **value;
    bool *flag;
};

struct cli_options {
    const char *command; /* "devices", for messages */
    bool asks_daemon;    /* takes --socket, -c and --fail-on */
    bool json;
    bool help;
    const char *socket_path; /* --socket */
    const char *config_path; /* -c / --config: the socket is its gateway.control_socket */
    unsigned fail_on;        /* enum cli_fail_on bits */
};

/*
 * Parses argv[1..argc) ("--name value" or "--name=value"). Positional
 * arguments go to positional[0..max_positional); *positional_count says how
 * many came. Returns 0, or -1 after printing what is wrong.
 */
int cli_options_parse(int argc, char **argv, struct cli_options *options,
                      const struct cli_option *extra, const char **positional,
                      size_t max_positional, size_t *positional_count);

#define CLI_OPTIONS_RUN (-1) /* cli_options_parse_or_help: go on with the command */

/*
 * cli_options_parse, then usage: on an error printed on stderr (returns
 * CLI_EXIT_USAGE), on --help on stdout (returns CLI_EXIT_OK). Otherwise
 * returns CLI_OPTIONS_RUN.
 */
int cli_options_parse_or_help(int argc, char **argv, struct cli_options *options,
                              const struct cli_option *extra, const char **positional,
                              size_t max_positional, const char *usage);

/*
 * The control socket: --socket, else -c FILE's gateway.control_socket, else
 * CLI_DEFAULT_SOCKET. Returns a malloc'd path, or NULL after printing why.
 */
char *cli_options_socket_path(const struct cli_options *options);

#endif
