/*
 * fuzz_command.c — the MQTT command parser (command_parse in
 * gateway/command.c) on arbitrary payloads.
 *
 * Each input is parsed against two shipped profiles: ebike-charger-10, whose
 * stop_port is indexed (a "port" 0..9) and stop_all_ports plain, and
 * gas-alarm (plain actions). Checked: an accepted command names a declared
 * action and, for an indexed one, a parameter in its range (-1 otherwise);
 * the id is 1..64 printable ASCII or empty; a refusal always says why, in a
 * terminated message that fits its buffer and is UTF-8 (it goes out in JSON).
 */
#include <jansson.h>
#include <string.h>

#include "command.h"
#include "fuzz_support.h"

static struct profile *profiles[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    profiles[0] = fuzz_load_shipped_profile("ebike-charger-10.yaml");
    profiles[1] = fuzz_load_shipped_profile("gas-alarm.yaml");
    return 0;
}

static void check_id(const char *id)
{
    size_t length = strnlen(id, COMMAND_ID_MAX + 1);
    FUZZ_CHECK(length <= COMMAND_ID_MAX);
    for (size_t i = 0; i < length; i++)
        FUZZ_CHECK(id[i] >= 0x20 && id[i] <= 0x7e);
}

static void parse(const struct profile *profile, const char *payload, size_t length)
{
    struct command command;
    char error[200]; /* command_route's size */
    memset(error, 0x55, sizeof error);
    int result = command_parse(profile, payload, length, &command, error, sizeof error);
    check_id(command.id);
    if (result == 0 && command.kind != COMMAND_ACTION) {
        FUZZ_CHECK(command.id[0] != '\0');
        FUZZ_CHECK(command.rule_index >= -1 && command.rule_index < (int)profile->rule_count);
        if (command.kind == COMMAND_SHELVE) {
            FUZZ_CHECK(command.for_ms > 0 && command.for_ms <= SHELVING_LONGEST_MS);
            FUZZ_CHECK(command.reason[0] != '\0');
            json_t *reason = json_string(command.reason); /* it goes out in events */
            FUZZ_CHECK(reason != NULL);
            json_decref(reason);
        }
    } else if (result == 0) {
        FUZZ_CHECK(command.id[0] != '\0');
        FUZZ_CHECK(command.action_index >= 0 &&
                   (size_t)command.action_index < profile->action_count);
        const struct action_def *action = &profile->actions[command.action_index];
        if (action->param_name != NULL)
            FUZZ_CHECK(command.param >= 0 && command.param < action->param_count);
        else
            FUZZ_CHECK(command.param == -1);
    } else {
        FUZZ_CHECK(result == -1);
        FUZZ_CHECK(memchr(error, '\0', sizeof error) != NULL && error[0] != '\0');
        /* command_reply sends the reason as a JSON string: it must be UTF-8 */
        json_t *reason = json_string(error);
        FUZZ_CHECK(reason != NULL);
        json_decref(reason);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t p = 0; p < sizeof profiles / sizeof profiles[0]; p++)
        parse(profiles[p], (const char *)data, size);
    return 0;
}
