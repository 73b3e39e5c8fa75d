/*
 * probe.h — `safetygw probe`: read one device directly (RTU port or
 * Modbus TCP), with a named profile, and print every decoded point with its
 * unit (--raw: the registers too). For an installer checking the wiring
 * before the daemon runs; works without a daemon.
 */
#ifndef SAFETYGW_CLI_PROBE_H
#define SAFETYGW_CLI_PROBE_H

/* argv[0] is "probe". Returns 0 (read), 1 (the device did not answer well) or 2 (usage, port). */
int cli_probe(int argc, char **argv);

#endif
