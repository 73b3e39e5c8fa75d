/*
 * scan.h — `safetygw scan`: which addresses on an RS-485 line (at one or
 * more baud rates and parities), or which unit ids behind a Modbus TCP
 * converter, answer; with --profile, whether each answering device's
 * registers decode sensibly under that profile. For installers, without a
 * daemon. Usage in man/safetygw.1.
 */
#ifndef SAFETYGW_CLI_SCAN_H
#define SAFETYGW_CLI_SCAN_H

/*
 * argv[0] is "scan". Returns 0 (something answers, and with --profile every
 * answering device decodes in range), 1 (nothing answers, or a device fails
 * the profile check) or 2 (usage, a port or converter that cannot be opened).
 */
int cli_scan(int argc, char **argv);

#endif
