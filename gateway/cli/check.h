/*
 * check.h — `safetygw check [--json] FILE`: validate a configuration and
 * its profiles offline, without a daemon.
 */
#ifndef SAFETYGW_CLI_CHECK_H
#define SAFETYGW_CLI_CHECK_H

/* argv[0] is "check". Returns the exit code: 0 valid, 1 errors found, 2 usage. */
int cli_check(int argc, char **argv);

#endif
