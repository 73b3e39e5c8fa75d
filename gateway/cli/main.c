/*
 * main.c — `safetygw`, the command-line tool: dispatches the first argument
 * to its command. Each command lives in its own <name>.c here and takes
 * argc/argv from its own name on, returning the exit code (0 ok, 1 bad news,
 * 2 usage or connection error).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "alarms.h"
#include "check.h"
#include "device.h"
#include "devices.h"
#include "options.h"
#include "probe.h"
#include "shelve.h"
#include "scan.h"
#include "status.h"
#include "watch.h"

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct cli_command commands[] = {
    {"status", cli_status, "status                  the gateway at a glance"},
    {"devices", cli_devices,
     "devices [--kind K] [--bus B] [--state ok|alarm|fault|offline|unknown]"},
    {"device", cli_device, "device ID               one device's health in detail"},
    {"alarms", cli_alarms, "alarms                  active alarms, newest first"},
    {"shelve", cli_shelve,
     "shelve DEVICE [--alarm A] --for D --reason R\n"
     "                          maintenance: its events go out marked shelved"},
    {"unshelve", cli_unshelve, "unshelve DEVICE [--alarm A]"},
    {"check", cli_check,
     "check [--strict] FILE   validate a configuration offline, with the rtu buses' wire budget"},
    {"probe", cli_probe,
     "probe (--port TTY --address N | --tcp HOST:PORT --unit N) --profile P\n"
     "                          read one device directly (no daemon needed)"},
    {"scan", cli_scan,
     "scan (--port TTY [--baud B,..] [--parity P,..] | --tcp HOST:PORT) [--profile P]\n"
     "                          which addresses answer (no daemon needed)"},
    {"watch", cli_watch,
     "watch --broker URI[,URI...] [--topic-prefix P] [--share GROUP] [--client-id ID]\n"
     "                          every gateway's alarm stream, with seq gaps and duplicates"},
};

static void print_usage(FILE *stream)
{
    fprintf(stream, "usage: safetygw COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(stream, "  %s\n", commands[i].usage);
    }
    fprintf(stream,
            "\nEvery command takes --json. status, devices, device, alarms, shelve and unshelve\n"
            "ask the daemon over its control socket: --socket PATH, or -c gateway.yaml (its\n"
            "gateway.control_socket), default %s. These options may come\n"
            "before the command too (safetygw --socket PATH status).\n"
            "They take --fail-on offline|alarm|fault.\n"
            "Exit codes: 0 ok, 1 bad news, 2 usage or connection error. See safetygw(1).\n"
            "\nsafetygw --help, safetygw --version\n",
            CLI_DEFAULT_SOCKET);
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

/* Options every command that asks the daemon takes; with a value or not. */
static bool global_option(const char *argument, bool *takes_value)
{
    static const char *const with_value[] = {"--socket", "-c", "--config", NULL};
    *takes_value = false;
    for (size_t i = 0; with_value[i]; i++)
        if (strcmp(argument, with_value[i]) == 0) {
            *takes_value = true;
            return true;
        }
    return strcmp(argument, "--json") == 0 || strncmp(argument, "--socket=", 9) == 0 ||
           strncmp(argument, "--config=", 9) == 0;
}

/*
 * `safetygw --socket PATH status` as `safetygw status --socket PATH`: connection
 * options may come before the command, as with systemctl -H or git -C. Moves
 * them behind it in argv; returns -1 when one lacks its value.
 */
static int move_global_options(int argc, char **argv)
{
    int first = 1;
    bool takes_value;
    while (first < argc && global_option(argv[first], &takes_value))
        first += takes_value ? 2 : 1;
    if (first > argc)
        return -1;
    int moved = first - 1;
    if (moved == 0 || first == argc)
        return 0;
    char *globals[moved];
    memcpy(globals, argv + 1, (size_t)moved * sizeof *argv);
    memmove(argv + 1, argv + first, (size_t)(argc - first) * sizeof *argv);
    memcpy(argv + 1 + (argc - first), globals, (size_t)moved * sizeof *argv);
    return 0;
}

int main(int argc, char **argv)
{
    if (move_global_options(argc, argv) != 0) {
        fprintf(stderr, "safetygw: %s needs a value\n", argv[argc - 1]);
        return CLI_EXIT_USAGE;
    }
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("safetygw %s\n", SAFETYGW_VERSION);
        return CLI_EXIT_OK;
    }
    const struct cli_command *command = find_command(argv[1]);
    if (command == NULL) {
        fprintf(stderr, "safetygw: unknown command \"%s\"\n", argv[1]);
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return command->run(argc - 1, argv + 1);
}
