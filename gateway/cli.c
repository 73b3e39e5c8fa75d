/*
 * cli.c — `safetygw`, the command-line tool: dispatches the first argument
 * to its command. Each command lives in its own cli_<name>.c and takes
 * argc/argv from its own name on, returning the exit code (0 ok, 1 bad news,
 * 2 usage or connection error).
 */
#include <stdio.h>
#include <string.h>

#include "cli_alarms.h"
#include "cli_check.h"
#include "cli_device.h"
#include "cli_devices.h"
#include "cli_options.h"
#include "cli_probe.h"
#include "cli_scan.h"
#include "cli_status.h"

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
    {"check", cli_check,
     "check [--strict] FILE   validate a configuration offline, with the rtu buses' wire budget"},
    {"probe", cli_probe,
     "probe (--port TTY --address N | --tcp HOST:PORT --unit N) --profile P\n"
     "                          read one device directly (no daemon needed)"},
    {"scan", cli_scan,
     "scan (--port TTY [--baud B,..] [--parity P,..] | --tcp HOST:PORT) [--profile P]\n"
     "                          which addresses answer (no daemon needed)"},
};

static void print_usage(FILE *stream)
{
    fprintf(stream, "usage: safetygw COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(stream, "  %s\n", commands[i].usage);
    }
    fprintf(stream,
            "\nEvery command takes --json. status, devices, device and alarms ask the daemon\n"
            "over its control socket: --socket PATH, or -c gateway.yaml (its\n"
            "gateway.control_socket), default %s.\n"
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

int main(int argc, char **argv)
{
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
