/*
 * sim_main.c — safetygw-sim: serves every bus of a site's gateway.yaml with
 * simulated devices until SIGINT, SIGTERM or `quit`; or, with `send`, is the
 * client of a running one. Usage in sensors/sim/README.md.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_load.h"
#include "log.h"
#include "sim.h"
#include "sim_client.h"

#define MAX_ONLY_BUSES 256
#define EXIT_USAGE 2

struct arguments {
    const char *config_path;
    struct sim_options options;
    const char *only_buses[MAX_ONLY_BUSES];
    const char *send_command; /* client mode */
};

static void usage(FILE *out)
{
    fputs("usage: safetygw-sim -c SITE.yaml [--no-wire-delay] [--lenient] [--latency-ms N]\n"
          "                    [--control PATH]\n"
          "                    [--scenario FILE] [--seed N] [--only-bus NAME[,NAME...]]...\n"
          "                    [--log-level debug|info|warning|error]\n"
          "       safetygw-sim --control PATH send 'COMMAND'\n",
          out);
}

static int parse_number(const char *option, const char *text, unsigned long long max,
                        unsigned long long *value)
{
    char *end = NULL;
    *value = strtoull(text, &end, 0);
    if (end == text || *end != '\0' || *text == '-' || *value > max) {
        fprintf(stderr, "safetygw-sim: %s takes a number 0..%llu, not %s\n", option, max, text);
        return -1;
    }
    return 0;
}

/* --only-bus a,b --only-bus c */
static int add_only_buses(struct arguments *arguments, char *names)
{
    char *save = NULL;
    for (char *name = strtok_r(names, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        if (arguments->options.only_bus_count == MAX_ONLY_BUSES) {
            fprintf(stderr, "safetygw-sim: more than %d --only-bus names\n", MAX_ONLY_BUSES);
            return -1;
        }
        arguments->only_buses[arguments->options.only_bus_count++] = name;
    }
    arguments->options.only_buses = arguments->only_buses;
    return 0;
}

static int parse_option(struct arguments *arguments, int option, char *value)
{
    unsigned long long number;
    switch (option) {
    case 'c':
        arguments->config_path = value;
        return 0;
    case 'n':
        arguments->options.wire_delay = false;
        return 0;
    case 'e':
        arguments->options.lenient = true;
        return 0;
    case 'l':
        if (parse_number("--latency-ms", value, 60000, &number) != 0)
            return -1;
        arguments->options.latency_ms = (uint32_t)number;
        return 0;
    case 'C':
        arguments->options.control_path = value;
        return 0;
    case 's':
        arguments->options.scenario_path = value;
        return 0;
    case 'S':
        if (parse_number("--seed", value, UINT64_MAX, &number) != 0)
            return -1;
        arguments->options.seed = number;
        return 0;
    case 'b':
        return add_only_buses(arguments, value);
    case 'L':
        if (log_level_from_name(value) < 0) {
            fprintf(stderr, "safetygw-sim: unknown log level %s\n", value);
            return -1;
        }
        log_set_level(log_level_from_name(value));
        return 0;
    case 'h':
        usage(stdout);
        exit(0);
    default:
        return -1;
    }
}

static int parse_arguments(int argc, char **argv, struct arguments *arguments)
{
    static const struct option options[] = {{"config", required_argument, NULL, 'c'},
                                            {"no-wire-delay", no_argument, NULL, 'n'},
                                            {"lenient", no_argument, NULL, 'e'},
                                            {"latency-ms", required_argument, NULL, 'l'},
                                            {"control", required_argument, NULL, 'C'},
                                            {"scenario", required_argument, NULL, 's'},
                                            {"seed", required_argument, NULL, 'S'},
                                            {"only-bus", required_argument, NULL, 'b'},
                                            {"log-level", required_argument, NULL, 'L'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    arguments->options.wire_delay = true;
    arguments->options.latency_ms = 10;
    arguments->options.seed = 1;
    int option;
    while ((option = getopt_long(argc, argv, "c:h", options, NULL)) != -1)
        if (parse_option(arguments, option, optarg) != 0)
            return -1;
    if (optind + 2 == argc && strcmp(argv[optind], "send") == 0 &&
        arguments->options.control_path != NULL) {
        arguments->send_command = argv[optind + 1];
        return 0;
    }
    if (optind != argc || arguments->config_path == NULL)
        return -1;
    return 0;
}

static struct config *load_config(const char *path)
{
    struct config_errors errors = {0};
    struct config *config = config_load(path, &errors);
    for (size_t i = 0; i < errors.count; i++)
        fprintf(stderr, "%s\n", errors.messages[i]);
    if (config == NULL && errors.count == 0)
        fprintf(stderr, "safetygw-sim: cannot load %s\n", path);
    config_errors_free(&errors);
    return config;
}

static int simulate(const struct arguments *arguments)
{
    struct config *config = load_config(arguments->config_path);
    if (config == NULL)
        return EXIT_USAGE;
    struct sim sim;
    char error[1024] = "";
    int status = 0;
    if (sim_open(&sim, config, &arguments->options, error, sizeof error) != 0) {
        log_error("safetygw-sim: %s", error);
        status = 1;
    } else {
        log_info("safetygw-sim: ready: %zu buses, %zu devices, wire delay %s, t3.5 %s, seed %llu",
                 config->bus_count, config->device_count,
                 arguments->options.wire_delay ? "on" : "off",
                 !arguments->options.wire_delay ? "not modelled"
                 : arguments->options.lenient   ? "lenient"
                                                : "strict",
                 (unsigned long long)arguments->options.seed);
        status = sim_run(&sim) == 0 ? 0 : 1;
        sim_print_counters(&sim);
    }
    sim_close(&sim);
    config_free(config);
    return status;
}

int main(int argc, char **argv)
{
    struct arguments arguments;
    memset(&arguments, 0, sizeof arguments);
    if (parse_arguments(argc, argv, &arguments) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    if (arguments.send_command != NULL)
        return sim_client_send(arguments.options.control_path, arguments.send_command);
    return simulate(&arguments);
}
