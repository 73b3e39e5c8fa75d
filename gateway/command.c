/*
 * command.c — an operator's command as text, and its answer: parses
 * P/cmd/<device-id> payloads against the device's profile (hostile input:
 * bounded, strict keys, printable ids and reasons) and builds the
 * P/cmd-result body. Pure: no runtime, bus or uplink; routing a command is
 * command_route.c's, posting its result command_reply.c's.
 */
#include "command.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "timeutil.h"

bool command_usable_id(const char *id)
{
    size_t length = strlen(id);
    if (length == 0 || length > COMMAND_ID_MAX)
        return false;
    for (const char *c = id; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return false;
    return true;
}

static int fail(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *error, size_t error_size, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, error_size, format, arguments);
    va_end(arguments);
    return -1;
}

static int read_id(json_t *root, struct command *command, char *error, size_t error_size)
{
    json_t *id = json_object_get(root, "id");
    if (!id)
        return fail(error, error_size, "missing \"id\"");
    if (!json_is_string(id))
        return fail(error, error_size, "\"id\" must be a string");
    if (!command_usable_id(json_string_value(id)))
        return fail(error, error_size, "\"id\" must be 1-%d printable ASCII characters",
                    COMMAND_ID_MAX);
    snprintf(command->id, sizeof command->id, "%s", json_string_value(id));
    return 0;
}

static int read_param(json_t *root, const struct action_def *action, struct command *command,
                      char *error, size_t error_size)
{
    json_t *param = json_object_get(root, action->param_name);
    if (!param)
        return fail(error, error_size, "action needs \"%s\"", action->param_name);
    if (!json_is_integer(param))
        return fail(error, error_size, "\"%s\" must be an integer", action->param_name);
    json_int_t value = json_integer_value(param);
    if (value < 0 || value >= action->param_count)
        return fail(error, error_size, "\"%s\" must be 0..%u", action->param_name,
                    action->param_count - 1u);
    command->param = (int)value;
    return 0;
}

static int check_keys(json_t *root, const char *const *allowed, char *error, size_t error_size)
{
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known)
            return fail(error, error_size, "unknown field \"%.40s\"", key);
    }
    return 0;
}

/* "alarm": one of the profile's rules; absent: every alarm of the device. */
static int read_alarm(const struct profile *profile, json_t *root, struct command *command,
                      char *error, size_t error_size)
{
    json_t *alarm = json_object_get(root, "alarm");
    command->rule_index = -1;
    if (!alarm)
        return 0;
    if (!json_is_string(alarm))
        return fail(error, error_size, "\"alarm\" must be a string");
    for (size_t i = 0; i < profile->rule_count; i++)
        if (strcmp(profile->rules[i].name, json_string_value(alarm)) == 0) {
            command->rule_index = (int)i;
            return 0;
        }
    return fail(error, error_size, "the device has no alarm \"%.40s\"", json_string_value(alarm));
}

/* Printable text, no control characters: it goes into JSON, logs and the crew's terminal. */
static bool printable(const char *text)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

static int read_shelve(const struct profile *profile, json_t *root, struct command *command,
                       char *error, size_t error_size)
{
    static const char *const keys[] = {"id", "action", "alarm", "for", "reason", NULL};
    command->kind = COMMAND_SHELVE;
    if (check_keys(root, keys, error, error_size) != 0 ||
        read_alarm(profile, root, command, error, error_size) != 0)
        return -1;
    const char *duration = json_string_value(json_object_get(root, "for"));
    if (!duration || time_parse_duration(duration, &command->for_ms) != 0 || command->for_ms == 0 ||
        command->for_ms > SHELVING_LONGEST_MS)
        return fail(error, error_size,
                    "\"for\" must be a duration such as \"90m\", \"8h\" or \"2d\", at most 30d");
    const char *reason = json_string_value(json_object_get(root, "reason"));
    if (!reason || !reason[0] || strlen(reason) > SHELVING_REASON_MAX || !printable(reason))
        return fail(error, error_size, "\"reason\" must be 1-%d printable characters",
                    SHELVING_REASON_MAX);
    snprintf(command->reason, sizeof command->reason, "%s", reason);
    return 0;
}

static int read_unshelve(const struct profile *profile, json_t *root, struct command *command,
                         char *error, size_t error_size)
{
    static const char *const keys[] = {"id", "action", "alarm", NULL};
    command->kind = COMMAND_UNSHELVE;
    if (check_keys(root, keys, error, error_size) != 0)
        return -1;
    return read_alarm(profile, root, command, error, error_size);
}

static int read_action(const struct profile *profile, json_t *root, struct command *command,
                       char *error, size_t error_size)
{
    json_t *action = json_object_get(root, "action");
    if (!action)
        return fail(error, error_size, "missing \"action\"");
    if (!json_is_string(action))
        return fail(error, error_size, "\"action\" must be a string");
    if (strcmp(json_string_value(action), "shelve") == 0)
        return read_shelve(profile, root, command, error, error_size);
    if (strcmp(json_string_value(action), "unshelve") == 0)
        return read_unshelve(profile, root, command, error, error_size);
    command->action_index = config_action_index(profile, json_string_value(action));
    if (command->action_index < 0)
        return fail(error, error_size, "action \"%.40s\" is not declared for this device",
                    json_string_value(action));
    const struct action_def *declared = &profile->actions[command->action_index];
    const char *const keys[] = {"id", "action", declared->param_name, NULL};
    if (check_keys(root, keys, error, error_size) != 0)
        return -1;
    return declared->param_name ? read_param(root, declared, command, error, error_size) : 0;
}

static int parse(const struct profile *profile, const char *payload, size_t length,
                 struct command *command, char *error, size_t error_size)
{
    if (length > COMMAND_MAX_PAYLOAD) {
        snprintf(error, error_size, "command of %zu bytes is over the %d-byte limit", length,
                 COMMAND_MAX_PAYLOAD);
        return -1;
    }
    json_error_t parse_error;
    json_t *root = json_loadb(payload, length, JSON_REJECT_DUPLICATES, &parse_error);
    if (!root) {
        snprintf(error, error_size, "not JSON: %s at byte %d", parse_error.text,
                 parse_error.position);
        return -1;
    }
    int result = -1;
    if (!json_is_object(root))
        snprintf(error, error_size, "command must be a JSON object");
    else if (read_id(root, command, error, error_size) == 0)
        result = read_action(profile, root, command, error, error_size);
    json_decref(root);
    return result;
}

int command_parse(const struct profile *profile, const char *payload, size_t length,
                  struct command *command, char *error, size_t error_size)
{
    *command = (struct command){.action_index = -1, .param = -1, .rule_index = -1, .by = "mqtt"};
    int result = parse(profile, payload, length, command, error, error_size);
    /* The reason goes out as a JSON string, yet may quote the payload's bytes (Jansson's
     * parse errors do) or cut a character in two (%.40s). */
    if (result != 0)
        payload_make_utf8(error);
    return result;
}

char *command_result_payload(const char *command_id, const char *error)
{
    json_t *root = json_object();
    json_object_set_new(root, "id",
                        command_id && command_id[0] ? json_string(command_id) : json_null());
    json_object_set_new(root, "ok", json_boolean(error == NULL));
    if (error)
        json_object_set_new(root, "error", json_string(error));
    return payload_dump(root);
}
