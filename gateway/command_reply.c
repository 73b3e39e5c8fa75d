/*
 * command_reply.c — posts a command's result (command.c's payload) to the
 * uplink queue as a kept message: a result is never dropped for room.
 */
#include "command_reply.h"

#include <stdio.h>

#include "command.h"
#include "publish.h"
#include "uplink.h"

void command_reply(const char *device_id, const char *command_id, const char *error)
{
    char *text = command_result_payload(command_id, error);
    char topic[PUBLISH_TOPIC_MAX];
    snprintf(topic, sizeof topic, "cmd-result/%s", device_id);
    if (text)
        uplink_post_message(topic, text, 1, false, PUBLISH_KEPT);
}
