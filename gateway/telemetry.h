/*
 * telemetry.h — P/telemetry/<device-id>: a device's point values, sent when a
 * point moved by more than its deadband (profile telemetry.on_change) and/or
 * every telemetry.period_ms. QoS 0 and not buffered: telemetry is for trends,
 * alarms are the events that must arrive.
 *
 * Runs on the device's bus thread after a good poll.
 */
#ifndef SAFETYGW_TELEMETRY_H
#define SAFETYGW_TELEMETRY_H

#include <stdint.h>

#include "device.h"

/* Publishes the device's values if its profile asks for it now. */
void telemetry_after_poll(struct device *device, uint64_t now_ms);

#endif
