/*
 * status.h — `safetygw status`: the gateway at a glance (uptime, MQTT,
 * queued messages, devices by state, buses with cycle time and error rate).
 */
#ifndef SAFETYGW_CLI_STATUS_H
#define SAFETYGW_CLI_STATUS_H

/* argv[0] is "status". Returns 0, 1 (bad news with --fail-on) or 2 (usage, connection). */
int cli_status(int argc, char **argv);

#endif
