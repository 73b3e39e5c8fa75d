#include "modbus_error.h"

#include <errno.h>
#include <modbus.h>

enum modbus_error_class modbus_error_classify(int error_number)
{
    if (error_number == ETIMEDOUT)
        return MODBUS_ERROR_TIMEOUT;
    if (error_number == EMBBADCRC)
        return MODBUS_ERROR_CRC;
    if (error_number > MODBUS_ENOBASE && error_number <= EMBXGTAR)
        return MODBUS_ERROR_EXCEPTION;
    switch (error_number) {
    case EBADF:
    case EIO:
    case ENXIO:
    case ENODEV:
    case EPIPE:
    case ECONNRESET:
    case ECONNREFUSED:
    case ENOTCONN:
    case EPROTO: /* a Modbus TCP stream that cannot be framed any more */
        return MODBUS_ERROR_LINK_LOST;
    default:
        return MODBUS_ERROR_OTHER;
    }
}

int modbus_error_exception_code(int error_number)
{
    return error_number - MODBUS_ENOBASE;
}
