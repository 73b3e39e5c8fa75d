/*
 * watch.h — `safetygw watch`: the operations center's reference consumer.
 * Subscribes to every gateway's alarm stream with a persistent session (clean
 * session off, QoS 1, a stable client id), prints each event, and tracks seq
 * per gateway to report gaps and duplicates (watch_seq.h). Needs no daemon.
 */
#ifndef SAFETYGW_CLI_WATCH_H
#define SAFETYGW_CLI_WATCH_H

/* argv[0] is "watch". Runs until SIGINT or SIGTERM: 0, 1 (a gap still open), or 2 (usage). */
int cli_watch(int argc, char **argv);

#endif
