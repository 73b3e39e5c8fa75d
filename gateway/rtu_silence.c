#include "rtu_silence.h"

#include <errno.h>
#include <poll.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define US_PER_S 1000000u
#define T35_FIXED_US 1750u /* above 19200 baud the spec fixes t3.5 (§2.5.1.1, note) */
#define DRAIN_CHUNK 256

unsigned rtu_bits_per_char(char parity, unsigned data_bits, unsigned stop_bits)
{
    return 1u + data_bits + (parity == 'N' ? 0u : 1u) + stop_bits;
}

uint32_t rtu_char_us(uint32_t baud, char parity, unsigned data_bits, unsigned stop_bits)
{
    uint64_t bits = rtu_bits_per_char(parity, data_bits, stop_bits);
    if (baud == 0)
        baud = 9600;
    return (uint32_t)((bits * US_PER_S + baud - 1) / baud);
}

uint32_t rtu_t35_us(uint32_t baud, char parity, unsigned data_bits, unsigned stop_bits)
{
    if (baud > 19200)
        return T35_FIXED_US;
    uint64_t bits = rtu_bits_per_char(parity, data_bits, stop_bits);
    if (baud == 0)
        baud = 9600;
    /* 3.5 characters = 7 bits-per-char / 2 / baud seconds, rounded up */
    return (uint32_t)((7u * bits * US_PER_S + 2u * baud - 1) / (2u * baud));
}

uint64_t rtu_silence_now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * US_PER_S + (uint64_t)now.tv_nsec / 1000u;
}

static void sleep_us(uint64_t wait_us)
{
    struct timespec wait = {.tv_sec = (time_t)(wait_us / US_PER_S),
                            .tv_nsec = (long)(wait_us % US_PER_S) * 1000L};
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR) {
    }
}

/* Waits up to wait_us for a byte on fd; true when there is one to read. */
static bool byte_arrives(int fd, uint64_t wait_us)
{
    struct pollfd watch = {.fd = fd, .events = POLLIN};
    struct timespec wait = {.tv_sec = (time_t)(wait_us / US_PER_S),
                            .tv_nsec = (long)(wait_us % US_PER_S) * 1000L};
    int ready = ppoll(&watch, 1, &wait, NULL);
    return ready > 0 && (watch.revents & POLLIN);
}

/* Reads what is there (the tty is non-blocking). Returns the count, 0 when nothing. */
static uint32_t drop_bytes(int fd, int *first_byte)
{
    uint8_t chunk[DRAIN_CHUNK];
    uint32_t dropped = 0;
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got <= 0)
            break;
        if (dropped == 0)
            *first_byte = chunk[0];
        dropped += (uint32_t)got;
        if ((size_t)got < sizeof chunk)
            break;
    }
    return dropped;
}

void rtu_silence_keep(int fd, uint32_t silence_us, uint64_t *last_frame_end_us,
                      uint64_t not_before_us, struct rtu_stray *stray)
{
    uint64_t started_us = rtu_silence_now_us();
    for (;;) {
        uint64_t end_us = *last_frame_end_us > not_before_us ? *last_frame_end_us : not_before_us;
        uint64_t ready_us = end_us + silence_us;
        uint64_t now_us = rtu_silence_now_us();
        uint64_t wait_us = ready_us > now_us ? ready_us - now_us : 0;
        if (fd < 0) {
            if (wait_us > 0)
                sleep_us(wait_us);
            return;
        }
        if (!byte_arrives(fd, wait_us)) {
            if (wait_us == 0 || rtu_silence_now_us() >= ready_us)
                return;
            continue; /* woken early (a signal): wait the rest */
        }
        int first = -1;
        uint32_t dropped = drop_bytes(fd, &first);
        if (dropped == 0)
            return; /* readable but empty: a hang-up; the request will say what is wrong */
        stray->bytes += dropped;
        stray->bursts++;
        stray->first_byte = first;
        *last_frame_end_us = rtu_silence_now_us();
        if (*last_frame_end_us - started_us >= RTU_SILENCE_MAX_WAIT_US) {
            stray->gave_up = true;
            return;
        }
    }
}

uint64_t rtu_silence_sent(int fd)
{
    if (fd >= 0)
        tcdrain(fd);
    return rtu_silence_now_us();
}
