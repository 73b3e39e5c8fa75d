#include "rtu_silence.h"

#include <errno.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

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

/* Sleeps until the monotonic microsecond until_us (an absolute time: no drift on EINTR). */
static void sleep_until_us(uint64_t until_us)
{
    struct timespec until = {.tv_sec = (time_t)(until_us / US_PER_S),
                             .tv_nsec = (long)(until_us % US_PER_S) * 1000L};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
    }
}

uint32_t rtu_silence_drain(int fd, struct rtu_stray *stray)
{
    uint8_t chunk[DRAIN_CHUNK];
    uint32_t dropped = 0;
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got <= 0)
            break;
        if (dropped == 0)
            stray->first_byte = chunk[0];
        dropped += (uint32_t)got;
        if ((size_t)got < sizeof chunk)
            break;
    }
    if (dropped > 0) {
        stray->bytes += dropped;
        stray->bursts++;
    }
    return dropped;
}

/*
 * The silence is proven, not watched: the caller drained the line when the
 * last frame ended (it read the reply), so a tty still empty at the end of
 * the wait means no byte arrived during it, which is all t3.5 asks. Watching
 * the tty in ppoll instead only restarted the silence sooner on a stray byte,
 * and cost a tty poll (on a pty it waits for the flip-buffer work of the
 * reply just read) besides the wake-up; bytes found at the end restart the
 * silence from then, a little later than their arrival: the safe side.
 */
void rtu_silence_keep(int fd, uint32_t silence_us, uint64_t *last_frame_end_us,
                      uint64_t not_before_us, struct rtu_stray *stray)
{
    uint64_t started_us = time_monotonic_us();
    for (;;) {
        uint64_t end_us = *last_frame_end_us > not_before_us ? *last_frame_end_us : not_before_us;
        uint64_t ready_us = end_us + silence_us;
        if (ready_us > time_monotonic_us())
            sleep_until_us(ready_us);
        if (fd < 0)
            return;
        if (rtu_silence_drain(fd, stray) == 0)
            return; /* silent (or hung up: the request will say what is wrong) */
        *last_frame_end_us = time_monotonic_us();
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
    return time_monotonic_us();
}
