/*
 * telemetry.c — whether a device's telemetry is due after a poll, and its
 * message (topic and payload) handed to the uplink; telemetry.h says when.
 */
#include "telemetry.h"

#include <math.h>
#include <string.h>

#include "payload.h"
#include "publish.h"
#include "text.h"
#include "timeutil.h"
#include "uplink.h"

static bool moved_beyond_deadband(const struct device *device)
{
    const struct profile *profile = device->def->profile;
    for (size_t p = 0; p < profile->point_count; p++)
        if (fabs(device->values[p] - device->telemetry_values[p]) > profile->points[p].deadband)
            return true;
    return false;
}

static bool due(const struct device *device, uint64_t now_ms)
{
    const struct profile *profile = device->def->profile;
    if (!device->telemetry_sent || device->telemetry_owed)
        return true;
    if (profile->telemetry_period_ms && now_ms >= device->telemetry_due_ms)
        return true;
    return profile->telemetry_on_change && moved_beyond_deadband(device);
}

bool telemetry_after_poll(struct device *device, uint64_t now_ms)
{
    const struct profile *profile = device->def->profile;
    /* Telemetry is not kept for later: while the broker is away there is nothing to send. */
    if (!device->telemetry_values || !publish_connected()) {
        device->telemetry_owed = false;
        return false;
    }
    if (!due(device, now_ms))
        return false;
    char topic[PUBLISH_TOPIC_MAX];
    size_t used = text_append(topic, sizeof topic, 0, "telemetry/");
    text_append(topic, sizeof topic, used, device->def->id);
    /* Formatted into this thread's writer and copied into the queue: no allocation. */
    struct json_writer *writer = payload_thread_writer();
    if (!writer || payload_write_telemetry(writer, device) != 0) {
        device->telemetry_owed = false; /* out of memory: this reading is lost */
        return false;
    }
    device->telemetry_owed =
        uplink_post_text(topic, writer->text, writer->length, 0, false, PUBLISH_LATEST) != 0;
    if (!device->telemetry_owed) {
        memcpy(device->telemetry_values, device->values,
               profile->point_count * sizeof *device->values);
        device->telemetry_sent = true;
        /*
         * Due half a poll early, so that a period equal to the poll interval sends
         * on every poll instead of on every other one when a poll comes a little early.
         */
        uint32_t early_ms = profile->telemetry_period_ms < device->def->poll_ms
                                ? profile->telemetry_period_ms / 2
                                : device->def->poll_ms / 2;
        device->telemetry_due_ms = now_ms + profile->telemetry_period_ms - early_ms;
    }
    return device->telemetry_owed;
}
