/*
 * shelve.c — `safetygw shelve` and `unshelve`: asks the daemon to shelve a
 * device's alarm (or all of them) for a while, with a reason, or to end it,
 * and says what was done.
 */
#include "shelve.h"

#include <stdio.h>
#include <string.h>

#include "options.h"
#include "socket.h"
#include "timeutil.h"

static const char shelve_usage[] =
    "usage: safetygw shelve DEVICE [--alarm NAME] --for DURATION --reason TEXT [--json]\n"
    "                       [--socket PATH | -c FILE]\n"
    "DURATION: 90m, 8h, 2d (at most 30d). Without --alarm every alarm of the device.\n";
static const char unshelve_usage[] =
    "usage: safetygw unshelve DEVICE [--alarm NAME] [--json] [--socket PATH | -c FILE]\n";

struct shelving_request {
    const char *command; /* "shelve" or "unshelve" */
    const char *usage;
    const char *alarm;
    const char *duration;
    const char *reason;
};

/* Asks the daemon; prints what was done. */
static int ask(const struct cli_options *options, const struct shelving_request *request,
               const char *device_id)
{
    json_t *message = json_pack("{s:s, s:s}", "cmd", request->command, "id", device_id);
    if (request->alarm)
        json_object_set_new(message, "alarm", json_string(request->alarm));
    if (request->duration)
        json_object_set_new(message, "for", json_string(request->duration));
    if (request->reason)
        json_object_set_new(message, "reason", json_string(request->reason));
    json_t *answer = cli_socket_ask(options, message);
    if (!answer)
        return CLI_EXIT_USAGE;
    if (options->json)
        cli_socket_print_json(answer);
    else if (strcmp(request->command, "shelve") == 0)
        printf("%s%s%s shelved for %s: %s\n", device_id, request->alarm ? " " : "",
               request->alarm ? request->alarm : "", request->duration, request->reason);
    else
        printf("%s%s%s unshelved\n", device_id, request->alarm ? " " : "",
               request->alarm ? request->alarm : "");
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv, struct shelving_request *request)
{
    struct cli_options options = {.command = request->command, .asks_daemon = true};
    bool shelve = strcmp(request->command, "shelve") == 0;
    const struct cli_option extra[] = {{.name = "--alarm", .value = &request->alarm},
                                       {.name = "--for", .value = &request->duration},
                                       {.name = "--reason", .value = &request->reason},
                                       {.name = NULL}};
    const struct cli_option *own = shelve ? extra : (const struct cli_option[]){extra[0], {0}};
    const char *device_id = NULL;
    int code = cli_options_parse_or_help(argc, argv, &options, own, &device_id, 1, request->usage);
    if (code != CLI_OPTIONS_RUN)
        return code;
    uint64_t ms;
    const char *missing = !device_id                     ? "a DEVICE"
                          : shelve && !request->duration ? "--for"
                          : shelve && !request->reason   ? "--reason"
                                                         : NULL;
    if (!missing && shelve && time_parse_duration(request->duration, &ms) != 0)
        missing = "--for as 90m, 8h or 2d";
    if (missing) {
        fprintf(stderr, "safetygw %s: needs %s\n", request->command, missing);
        fputs(request->usage, stderr);
        return CLI_EXIT_USAGE;
    }
    return ask(&options, request, device_id);
}

int cli_shelve(int argc, char **argv)
{
    struct shelving_request request = {.command = "shelve", .usage = shelve_usage};
    return run(argc, argv, &request);
}

int cli_unshelve(int argc, char **argv)
{
    struct shelving_request request = {.command = "unshelve", .usage = unshelve_usage};
    return run(argc, argv, &request);
}
