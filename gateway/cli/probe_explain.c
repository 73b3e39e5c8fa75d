#include "probe_explain.h"

#include <modbus.h>
#include <stdio.h>

const char *cli_probe_explain_class(enum modbus_error_class error_class)
{
    switch (error_class) {
    case MODBUS_ERROR_TIMEOUT:
        return "timeout";
    case MODBUS_ERROR_CRC:
        return "crc";
    case MODBUS_ERROR_EXCEPTION:
        return "exception";
    case MODBUS_ERROR_LINK_LOST:
        return "link_lost";
    case MODBUS_ERROR_OTHER:
        break;
    }
    return "bad_reply";
}

static void explain_timeout(const struct probe_target *target, char *out, size_t size)
{
    if (target->tcp)
        snprintf(out, size,
                 "timeout: no answer from unit %d at %s within %u ms. Check the unit id "
                 "(--unit), and the converter's serial side: the device's address, baud rate, "
                 "parity and A/B wiring.",
                 target->address, target->where, target->timeout_ms);
    else
        snprintf(out, size,
                 "timeout: no answer from address %d on %s within %u ms. Check the device's "
                 "address (--address), the baud rate and parity (--baud, --parity: they must "
                 "match the device's), the A/B wiring (swapped A and B is common) and the "
                 "device's power.",
                 target->address, target->where, target->timeout_ms);
}

static void explain_exception(int code, const struct probe_target *target, char *out, size_t size)
{
    const char *meaning;
    switch (code) {
    case 1:
        meaning = "it does not support the read function the profile uses (input vs holding "
                  "registers): wrong register map, pick the profile of this model";
        break;
    case 2:
        meaning = "it does not have the registers the profile reads: wrong register map, pick "
                  "the profile of this model";
        break;
    case 3:
        meaning = "it refuses a read of that length: the profile's max_registers may be too "
                  "high for this model, or the register map is wrong";
        break;
    case 10:
    case 11:
        meaning = "the Modbus TCP converter could not reach the device on its serial side: "
                  "check the unit id and the converter's serial wiring, baud and parity";
        break;
    default:
        meaning = "the device itself reports a problem (failure, busy): try again, then check "
                  "the device";
    }
    snprintf(out, size, "exception: %s %d answered with Modbus exception %d (%s): %s (profile %s).",
             target->tcp ? "unit" : "address", target->address, code,
             modbus_strerror(MODBUS_ENOBASE + code), meaning, target->profile);
}

void cli_probe_explain(const struct poll_outcome *outcome, const struct probe_target *target,
                       char *out, size_t size)
{
    switch (outcome->error_class) {
    case MODBUS_ERROR_TIMEOUT:
        explain_timeout(target, out, size);
        return;
    case MODBUS_ERROR_CRC:
        snprintf(out, size,
                 "CRC error: the answer from address %d on %s failed its checksum: the baud "
                 "rate, parity or stop bits differ from the device's, or there is noise on the "
                 "line (termination resistor, shield, cable run next to power).",
                 target->address, target->where);
        return;
    case MODBUS_ERROR_EXCEPTION:
        explain_exception(outcome->exception_code, target, out, size);
        return;
    case MODBUS_ERROR_LINK_LOST:
        snprintf(out, size,
                 "link lost: the connection to %s broke during the read (adapter "
                 "unplugged, converter closed the connection).",
                 target->where);
        return;
    case MODBUS_ERROR_OTHER:
        break;
    }
    snprintf(out, size,
             "bad reply: the answer on %s makes no sense (wrong length or from another "
             "address): two devices may share address %d, or the converter speaks RTU over TCP "
             "rather than Modbus TCP.",
             target->where, target->address);
}
