/*
 * command_route.c — routes an operator's command to the bus that owns
 * its device, under the runtime's read lock (a reload may be swapping the
 * devices), and words the refusals. It owns nothing: the command is copied
 * into the bus's ring, the refusal handed back to the uplink to publish.
 */
#include "command_route.h"

#include <stdio.h>

#include "bus.h"
#include "command.h"
#include "log.h"
#include "runtime.h"

char *command_route(struct runtime *runtime, const char *device_id, const char *payload,
                    size_t length)
{
    if (!command_usable_id(device_id)) {
        log_warning("command: ignored a command for an unusable device id");
        return NULL;
    }
    struct command command;
    char error[200];
    runtime_lock_read(); /* a reload may be swapping the devices */
    struct device *device = runtime_find_device(runtime, device_id);
    if (!device) {
        static const struct profile no_actions = {.name = ""};
        command_parse(&no_actions, payload, length, &command, error, sizeof error); /* its id */
        snprintf(error, sizeof error, "no device \"%s\" on this gateway", device_id);
    } else if (command_parse(device->def->profile, payload, length, &command, error,
                             sizeof error) == 0) {
        int posted = bus_post_command(runtime_bus_of(runtime, device), device, &command);
        if (posted == 0) {
            runtime_unlock();
            return NULL; /* the reactor thread answers once it has written */
        }
        snprintf(error, sizeof error, "busy: too many commands waiting for bus %s; send it again",
                 runtime->config->buses[device->def->bus_index].name);
    }
    runtime_unlock();
    log_device(LOG_WARNING, device_id, "command %s for %s refused: %s",
               command.id[0] ? command.id : "(no id)", device_id, error);
    return command_result_payload(command.id, error);
}
