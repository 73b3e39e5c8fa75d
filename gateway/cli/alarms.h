/*
 * alarms.h — `safetygw alarms`: every active alarm of the gateway, newest
 * first, with its device, location and what raised it.
 */
#ifndef SAFETYGW_CLI_ALARMS_H
#define SAFETYGW_CLI_ALARMS_H

/* argv[0] is "alarms". Returns 0, 1 (alarms, with --fail-on alarm) or 2 (usage, connection). */
int cli_alarms(int argc, char **argv);

#endif
