/*
 * socket.h — the CLI's side of the control protocol
 * (docs/control-protocol.md): one request line to the daemon's socket, one
 * response line back, with errors a crew can act on (daemon not running,
 * socket not accessible, no answer in time).
 */
#ifndef SAFETYGW_CLI_SOCKET_H
#define SAFETYGW_CLI_SOCKET_H

#include <jansson.h>

#include "options.h"

#define CLI_SOCKET_TIMEOUT_S 10

/*
 * Sends request (stolen) to the daemon and returns its response with "ok":
 * true, or NULL after reporting the failure (on stderr; with --json also as
 * {"ok":false,"error":..} on stdout): the caller exits CLI_EXIT_USAGE.
 */
json_t *cli_socket_ask(const struct cli_options *options, json_t *request);

/* Prints a response as one compact JSON line (for --json). */
void cli_socket_print_json(const json_t *response);

#endif
