/*
 * telemetry.h — P/telemetry/<device-id>: a device's point values, sent when a
 * point moved by more than its deadband (profile telemetry.on_change) and/or
 * every telemetry.period_ms. QoS 0 and not kept while the broker is away:
 * telemetry is for trends, alarms are the events that must arrive. A reading
 * the uplink queue turns away (full, in a burst of polls) is owed instead of
 * lost: its bus posts the device's latest values again when there is room.
 *
 * Runs on the reactor thread after a good poll.
 */
#ifndef SAFETYGW_TELEMETRY_H
#define SAFETYGW_TELEMETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

/*
 * Publishes the device's values if its profile asks for it now, or if a
 * message of it is owed. Returns true when it is owed (the queue was full).
 */
bool telemetry_after_poll(struct device *device, uint64_t now_ms);

#endif
