/*
 * command_route.h — where a command from P/cmd/<device-id> goes: to the bus
 * that polls the device, found under runtime_lock_read, or back as a refusal
 * (no such device, not a valid command for it, its bus's command ring full).
 * Sits above the runtime and the buses; main hands command_route to the
 * uplink as its command handler, so the uplink never calls up into them.
 */
#ifndef SAFETYGW_COMMAND_ROUTE_H
#define SAFETYGW_COMMAND_ROUTE_H

#include <stddef.h>

struct runtime;

/*
 * One message from P/cmd/<device_id>, on the uplink thread: posts a valid
 * command to the device's bus and returns NULL; otherwise returns the
 * refusal's P/cmd-result payload (malloc'd) for the caller to publish.
 */
char *command_route(struct runtime *runtime, const char *device_id, const char *payload,
                    size_t length);

#endif
