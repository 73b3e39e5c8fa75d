/*
 * bus_down.h — one root-cause alarm for a dead bus or converter.
 *
 * A cut cable or a dead serial-to-Ethernet converter silences every device
 * behind it; one `offline` alarm per device would flood the operator (ISA-18.2
 * and EEMUA 191 call more than 10 alarms in 10 minutes per operator a flood)
 * with echoes of one cause. So when every device of a bus that was answering
 * goes silent together (each missed its last two polls with no reply of its
 * own: one could be noise), or the link cannot be opened, the bus raises `bus_down`
 * instead, and its devices' `offline` alarms are held back (their state says
 * "suppressed_by":"bus_down"). The first answer from any device of the bus
 * clears it. A single silent device, or one a converter answers for with
 * exception 0x0B (gateway target failed to respond), is not silence of the
 * bus: it gets its own `offline`.
 *
 * Pure: judged by the reactor thread from its devices' state after each poll.
 */
#ifndef SAFETYGW_BUS_DOWN_H
#define SAFETYGW_BUS_DOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "device.h"

struct bus_down {
    bool active;
    uint64_t raised_wall_ms;
    uint32_t devices_affected; /* devices whose offline alarm it stands for */
};

enum bus_down_change { BUS_DOWN_NO_CHANGE, BUS_DOWN_RAISED, BUS_DOWN_CLEARED };

/* The alarm's rule: its name and severity (major) in events. */
extern const struct rule_def bus_down_rule;

/*
 * Judges the bus after a poll. answered: the poll got a reply (good or an
 * exception); link_failed: the link is down and opening it again failed.
 */
enum bus_down_change bus_down_judge(struct bus_down *state, struct device *const *devices,
                                    size_t count, bool answered, bool link_failed,
                                    uint64_t wall_ms);

/*
 * Whether a device's offline event must be held back (and the device marked
 * suppressed), given the bus's state: a raise while the bus is down, and the
 * clear of a raise that was held back.
 */
bool bus_down_holds_back(const struct bus_down *state, struct device *device, bool raised);

/*
 * The compound/building pairs the affected devices span, as a JSON array
 * (malloc'd text), for the event.
 */
char *bus_down_locations(struct device *const *devices, size_t count);

#endif
