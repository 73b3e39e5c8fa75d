/*
 * devices.h — `safetygw devices [--kind K] [--bus B] [--state S]`: one
 * line per device with its state, last answer, location and active alarms.
 */
#ifndef SAFETYGW_CLI_DEVICES_H
#define SAFETYGW_CLI_DEVICES_H

/* argv[0] is "devices". Returns 0, 1 (bad news with --fail-on) or 2 (usage, connection). */
int cli_devices(int argc, char **argv);

#endif
