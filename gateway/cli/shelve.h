/*
 * shelve.h — `safetygw shelve DEVICE [--alarm A] --for D --reason R` and
 * `safetygw unshelve DEVICE [--alarm A]`: maintenance shelving by the crew,
 * through the control socket (so only members of its group may do it).
 */
#ifndef SAFETYGW_CLI_SHELVE_H
#define SAFETYGW_CLI_SHELVE_H

int cli_shelve(int argc, char **argv);
int cli_unshelve(int argc, char **argv);

#endif
