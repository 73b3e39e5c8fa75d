/*
 * sim_probe.c — a libmodbus master for the simulator's tests: runs reads and
 * writes against an RTU line or a TCP server and prints one line per
 * command: the values, or what went wrong as the test expects to see it
 * (timeout, bad_crc, exception N, bad_data).
 *
 *   sim_probe [--timeout-ms N] [--no-silence] rtu PATH BAUD PARITY DATA STOP  COMMAND...
 *   sim_probe [--timeout-ms N] tcp HOST PORT                                  COMMAND...
 *   COMMAND: read UNIT holding|input|coil|discrete ADDRESS COUNT
 *            write-coil UNIT ADDRESS 0|1
 *            time UNIT holding|input ADDRESS COUNT READS   (median ms of back-to-back reads)
 *            sleep MS
 * On rtu it keeps the line silent for t3.5 before every request, as a master
 * must (the simulator drops a request sent sooner); --no-silence does not.
 * Exit status 0 when every command succeeded.
 */
#include <errno.h>
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long silence_us;    /* t3.5 on rtu, 0 on tcp or with --no-silence */
static double last_end_ms; /* end of the last transaction */

/* Decimal or 0x hexadecimal, as register maps are written. */
static int number(const char *text)
{
    return (int)strtol(text, NULL, 0);
}

static void print_failure(void)
{
    int error = errno;
    if (error == ETIMEDOUT)
        puts("timeout");
    else if (error == EMBBADCRC)
        puts("bad_crc");
    else if (error == EMBBADDATA)
        puts("bad_data");
    else if (error > MODBUS_ENOBASE && error <= EMBXGTAR)
        printf("exception %d\n", error - MODBUS_ENOBASE);
    else
        printf("error: %s\n", modbus_strerror(error));
}

static double now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

/* Before a request: t3.5 since the last frame (the reply's last byte, or our timeout). */
static void keep_silence(void)
{
    double wait_ms = last_end_ms + silence_us / 1e3 - now_ms();
    if (silence_us > 0 && wait_ms > 0)
        usleep((useconds_t)(wait_ms * 1000));
}

static void transaction_done(void)
{
    last_end_ms = now_ms();
}

/* t3.5 (Modbus over Serial Line v1.02, 2.5.1.1): 3.5 characters up to 19200 baud, else 1750 us. */
static long t35_us(int baud, char parity, int data_bits, int stop_bits)
{
    int bits = 1 + data_bits + (parity == 'N' ? 0 : 1) + stop_bits;
    return baud > 19200 ? 1750 : (long)(3.5e6 * bits / baud + 0.999);
}

static int read_table(modbus_t *ctx, const char *table, int address, int count, uint16_t *values)
{
    uint8_t bits[2000];
    int rc;
    keep_silence();
    if (strcmp(table, "holding") == 0)
        rc = modbus_read_registers(ctx, address, count, values);
    else if (strcmp(table, "input") == 0)
        rc = modbus_read_input_registers(ctx, address, count, values);
    else if (strcmp(table, "coil") == 0)
        rc = modbus_read_bits(ctx, address, count, bits);
    else
        rc = modbus_read_input_bits(ctx, address, count, bits);
    int error = errno;
    transaction_done();
    errno = error;
    if (strcmp(table, "holding") == 0 || strcmp(table, "input") == 0)
        return rc;
    for (int i = 0; i < rc; i++)
        values[i] = bits[i];
    return rc;
}

static int command_read(modbus_t *ctx, char **args)
{
    uint16_t values[2000];
    int count = number(args[4]);
    modbus_set_slave(ctx, number(args[1]));
    modbus_flush(ctx);
    if (read_table(ctx, args[2], number(args[3]), count, values) != count) {
        print_failure();
        return -1;
    }
    for (int i = 0; i < count; i++)
        printf(i ? " %u" : "%u", values[i]);
    putchar('\n');
    return 0;
}

static int command_write_coil(modbus_t *ctx, char **args)
{
    modbus_set_slave(ctx, number(args[1]));
    modbus_flush(ctx);
    keep_silence();
    int rc = modbus_write_bit(ctx, number(args[2]), number(args[3]));
    int error = errno;
    transaction_done();
    errno = error;
    if (rc != 1) {
        print_failure();
        return -1;
    }
    puts("written");
    return 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int command_time(modbus_t *ctx, char **args)
{
    uint16_t values[125];
    int count = number(args[4]), reads = number(args[5]);
    double took[1000];
    if (reads < 1 || reads > 1000)
        return -1;
    modbus_set_slave(ctx, number(args[1]));
    /* From one reply to the next, the silence before each request included. */
    double previous = last_end_ms > 0 ? last_end_ms : now_ms();
    for (int i = 0; i < reads; i++) {
        if (read_table(ctx, args[2], number(args[3]), count, values) != count) {
            print_failure();
            return -1;
        }
        took[i] = last_end_ms - previous;
        previous = last_end_ms;
    }
    qsort(took, (size_t)reads, sizeof took[0], by_value);
    printf("%.3f\n", took[reads / 2]);
    return 0;
}

static modbus_t *connect_to(char **args, int *used)
{
    modbus_t *ctx = NULL;
    if (strcmp(args[0], "rtu") == 0) {
        ctx =
            modbus_new_rtu(args[1], number(args[2]), args[3][0], number(args[4]), number(args[5]));
        if (silence_us != 0)
            silence_us = t35_us(number(args[2]), args[3][0], number(args[4]), number(args[5]));
        *used = 6;
    } else if (strcmp(args[0], "tcp") == 0) {
        ctx = modbus_new_tcp(args[1], number(args[2]));
        silence_us = 0;
        *used = 3;
    }
    if (ctx == NULL || modbus_connect(ctx) != 0) {
        fprintf(stderr, "sim_probe: connecting to %s %s: %s\n", args[0], args[1],
                modbus_strerror(errno));
        if (ctx != NULL)
            modbus_free(ctx);
        return NULL;
    }
    transaction_done(); /* a master that opens a line does not know when it last fell silent */
    return ctx;
}

static int run(modbus_t *ctx, char **args, int count)
{
    int failures = 0;
    for (int i = 0; i < count;) {
        int rc, width;
        if (strcmp(args[i], "read") == 0 && i + 5 <= count)
            rc = command_read(ctx, args + i), width = 5;
        else if (strcmp(args[i], "write-coil") == 0 && i + 4 <= count)
            rc = command_write_coil(ctx, args + i), width = 4;
        else if (strcmp(args[i], "time") == 0 && i + 6 <= count)
            rc = command_time(ctx, args + i), width = 6;
        else if (strcmp(args[i], "sleep") == 0 && i + 2 <= count)
            rc = usleep((useconds_t)number(args[i + 1]) * 1000u), width = 2;
        else {
            fprintf(stderr, "sim_probe: bad command at %s\n", args[i]);
            return 2;
        }
        fflush(stdout);
        failures += rc != 0;
        i += width;
    }
    return failures != 0;
}

int main(int argc, char **argv)
{
    int first = 1, timeout_ms = 500, used = 0;
    silence_us = 1; /* computed for rtu in connect_to */
    for (;;) {
        if (argc > first + 1 && strcmp(argv[first], "--timeout-ms") == 0) {
            timeout_ms = number(argv[first + 1]);
            first += 2;
        } else if (argc > first && strcmp(argv[first], "--no-silence") == 0) {
            silence_us = 0;
            first += 1;
        } else {
            break;
        }
    }
    if (argc - first < 4) {
        fprintf(stderr, "usage: see the comment at the top of sim_probe.c\n");
        return 2;
    }
    modbus_t *ctx = connect_to(argv + first, &used);
    if (ctx == NULL)
        return 2;
    modbus_set_response_timeout(ctx, (uint32_t)timeout_ms / 1000,
                                (uint32_t)timeout_ms % 1000 * 1000);
    int status = run(ctx, argv + first + used, argc - first - used);
    modbus_close(ctx);
    modbus_free(ctx);
    return status;
}
