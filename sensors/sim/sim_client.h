/*
 * sim_client.h — `safetygw-sim --control PATH send 'COMMAND'`: sends one
 * command to a running simulator and prints its one-line reply.
 */
#ifndef SAFETYGW_SIM_CLIENT_H
#define SAFETYGW_SIM_CLIENT_H

/* Exit status: 0 when the reply starts with "ok", 1 otherwise (or no simulator). */
int sim_client_send(const char *control_path, const char *command);

#endif
