#include "action.h"

#include <stdio.h>

#include "modbus_pdu.h"

/*
 * The limits are config.h's, which the loader enforces; they are checked again
 * here because a write past them would overrun these buffers. They must agree
 * with what libmodbus sends in one request, or an action `check` accepted
 * would fail on the wire.
 */
_Static_assert(ACTION_MAX_COILS == MODBUS_MAX_WRITE_BITS, "FC15 coil limit differs from libmodbus");
_Static_assert(ACTION_MAX_REGISTERS == MODBUS_MAX_WRITE_REGISTERS,
               "FC16 register limit differs from libmodbus");

static unsigned max_write_count(enum point_table table)
{
    return table == TABLE_COIL ? ACTION_MAX_COILS : ACTION_MAX_REGISTERS;
}

int action_first_address(const struct action_def *action, int param, int *first, char *error,
                         size_t error_size)
{
    *first = action->address;
    if (action->param_name) {
        if (param < 0 || param >= action->param_count) {
            snprintf(error, error_size, "%s needs %s 0..%u", action->name, action->param_name,
                     action->param_count - 1u);
            return -1;
        }
        *first += param * action->param_stride;
    }
    unsigned limit = max_write_count(action->table);
    if (action->count == 0 || action->count > limit || *first + action->count > 65536) {
        snprintf(error, error_size,
                 "%s writes %u %s values from %d; one Modbus write takes 1..%u, up to 65535",
                 action->name, action->count, point_table_name(action->table), *first, limit);
        return -1;
    }
    return 0;
}

void action_failure(const struct action_def *action, int first, int error_number, char *error,
                    size_t error_size)
{
    snprintf(error, error_size, "write of %s %d failed: %s", point_table_name(action->table), first,
             modbus_strerror(error_number));
}
