/*
 * alarm.h — alarm lifecycle: runs a device's rules after each poll, performs
 * a raised rule's interlock action, numbers every event with the gateway-wide
 * sequence number and publishes it, and publishes the device's state when its
 * link or alarms change.
 *
 * Called from bus threads. The sequence number and the act of publishing are
 * under one lock, so events leave in seq order whichever bus raised them.
 */
#ifndef SAFETYGW_ALARM_H
#define SAFETYGW_ALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "device.h"

/* Runs an action on the device's bus; fills error and returns -1 on failure. */
struct action_runner {
    int (*run)(void *context, const struct device *device, const struct action_def *action,
               int param, char *error, size_t error_size);
    void *context;
};

/* Reads the last sequence number from state_dir; -1 if state_dir is unusable (logged). */
int alarm_init(const struct config *config);

/*
 * Evaluates the device's rules after a poll (poll_ok false: only the offline
 * rule learns anything). Publishes events; returns true when the set of active
 * alarms changed.
 */
bool alarm_evaluate(struct device *device, bool poll_ok, uint64_t now_ms,
                    const struct action_runner *runner);

/*
 * Publishes the clear of an active alarm whose rule or device a reload removed,
 * with the reason, so that the operations center is not left with an alarm no
 * one will ever clear.
 */
void alarm_retire(const struct device *device, size_t rule_index, const char *reason);

/* Removes the retained P/device/<id>/state of a device that is no longer configured. */
void alarm_forget_device_state(const char *device_id);

/* Publishes P/device/<id>/state (retained). */
void alarm_publish_device_state(const struct device *device);

/* The sequence number the next event will carry. */
uint64_t alarm_next_seq(void);

#endif
