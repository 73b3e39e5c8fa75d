/*
 * device.h — `safetygw device ID`: one device's health in detail: last
 * seen, polls, timeouts, CRC errors, exception codes, latency, every current
 * value with its unit, active alarms with since when, sensor life left.
 */
#ifndef SAFETYGW_CLI_DEVICE_H
#define SAFETYGW_CLI_DEVICE_H

/* argv[0] is "device". Returns 0, 1 (bad news with --fail-on) or 2 (usage, connection). */
int cli_device(int argc, char **argv);

#endif
