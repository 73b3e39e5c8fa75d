/*
 * command.h — operator commands from the operations center:
 * P/cmd/<device-id> carries {"id":"..","action":"close_valve"} (plus the
 * action's parameter, e.g. "port":3, for an indexed action). Only actions the
 * device's profile declares are accepted; everything else is refused with a
 * reason on P/cmd-result/<device-id>, never acted on.
 *
 * Everything here is pure (tested with hostile payloads). command_route.h
 * hands a valid command to the reactor thread, which writes it between
 * two polls and answers with command_reply (command_reply.h).
 */
#ifndef SAFETYGW_COMMAND_H
#define SAFETYGW_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "shelving.h"

#define COMMAND_MAX_PAYLOAD 1024 /* bytes; a real command is under 100 */
#define COMMAND_ID_MAX 64

enum command_kind {
    COMMAND_ACTION,   /* a write the profile declares */
    COMMAND_SHELVE,   /* {"action":"shelve","alarm":A,"for":"2h","reason":R}; alarm optional */
    COMMAND_UNSHELVE, /* {"action":"unshelve","alarm":A}; alarm optional */
};

struct command {
    char id[COMMAND_ID_MAX + 1]; /* the operator's id for the result; "" if unusable */
    enum command_kind kind;
    int action_index; /* COMMAND_ACTION: into the profile's actions */
    int param;        /* the indexed action's parameter, or -1 */
    /* COMMAND_SHELVE / UNSHELVE */
    int rule_index; /* into the device's rules, or -1: all of them */
    uint64_t for_ms;
    char reason[SHELVING_REASON_MAX + 1];
    char by[8]; /* "mqtt" or "cli": a command from the CLI gets no P/cmd-result */
};

/*
 * Validates payload against profile: one of its declared actions, or
 * "shelve"/"unshelve" of one of its alarms. Returns 0 with command filled
 * (by "mqtt"), or -1 with the reason in error; command->id is filled whenever
 * the payload carried a usable id, so that even a refusal can name the
 * request it answers.
 */
int command_parse(const struct profile *profile, const char *payload, size_t length,
                  struct command *command, char *error, size_t error_size);

/* The P/cmd-result body: {"id":..,"ok":true} or with "error" (error NULL means ok); malloc'd. */
char *command_result_payload(const char *command_id, const char *error);

/* Ids are echoed into JSON, topics and logs: 1-COMMAND_ID_MAX printable ASCII characters. */
bool command_usable_id(const char *id);

#endif
