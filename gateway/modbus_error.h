/*
 * modbus_error.h — sorts libmodbus's errno values into what a crew can act on:
 * a timeout (wrong address, baud or wiring; device dead), a CRC error (baud or
 * parity mismatch, noise), an exception reply (wrong register map), or a lost
 * link (tty unplugged, TCP connection reset).
 */
#ifndef SAFETYGW_MODBUS_ERROR_H
#define SAFETYGW_MODBUS_ERROR_H

enum modbus_error_class {
    MODBUS_ERROR_TIMEOUT,
    MODBUS_ERROR_CRC,
    MODBUS_ERROR_EXCEPTION,
    MODBUS_ERROR_LINK_LOST,
    MODBUS_ERROR_OTHER, /* a reply that makes no sense: wrong length, wrong slave */
};

enum modbus_error_class modbus_error_classify(int error_number);

/* The exception code (1..11) carried by an errno of class MODBUS_ERROR_EXCEPTION. */
int modbus_error_exception_code(int error_number);

#endif
