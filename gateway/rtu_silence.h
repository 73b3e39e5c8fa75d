/*
 * rtu_silence.h — the silence between frames on a Modbus RTU line (Modbus over
 * Serial Line v1.02, §2.5.1.1): a frame ends at 3.5 character times without a
 * byte (t3.5), a fixed 1.750 ms above 19200 baud. Every slave on the line
 * frames by it, so a master that sends sooner than t3.5 after the last frame
 * ends gets its request glued to that frame and lost, on every slave.
 * libmodbus does not keep it; the poller does, here, before every request.
 *
 * The timing is pure arithmetic; rtu_silence_keep sleeps out the silence and
 * then reads the tty: bytes that arrived while the line should have been
 * silent (a reply the master stopped waiting for, noise) are read, dropped,
 * reported and start the silence again, as they would for every slave on the
 * line. An empty tty at the end proves the silence (the reply before it was
 * read), so the wait is one timed sleep: no watch, no tty poll.
 *
 * The daemon's reactor waits out the silence with a deadline of its own and
 * drains with rtu_silence_drain; a CLI command waits with rtu_silence_keep.
 *
 * Owner: the thread that serves the line (or a CLI command that opened it).
 */
#ifndef SAFETYGW_RTU_SILENCE_H
#define SAFETYGW_RTU_SILENCE_H

#include <stdbool.h>
#include <stdint.h>

/* 1 start + data bits + parity bit (none for N) + stop bits. */
unsigned rtu_bits_per_char(char parity, unsigned data_bits, unsigned stop_bits);

/* One character on the wire, microseconds, rounded up. */
uint32_t rtu_char_us(uint32_t baud, char parity, unsigned data_bits, unsigned stop_bits);

/* t3.5: 3.5 character times at <= 19200 baud, else 1750 us; rounded up. */
uint32_t rtu_t35_us(uint32_t baud, char parity, unsigned data_bits, unsigned stop_bits);

/* What rtu_silence_keep found on the line while it should have been silent. */
struct rtu_stray {
    uint32_t bytes;  /* dropped */
    uint32_t bursts; /* separate arrivals of them: roughly, frames */
    int first_byte;  /* the first byte of the last burst (a slave address), -1 when none */
    bool gave_up;    /* the line never fell silent within the limit; the request goes anyway */
};

/* The longest a babbling line may hold a request back. */
#define RTU_SILENCE_MAX_WAIT_US 1000000u

/*
 * Reads and drops what came on the tty fd (non-blocking) since it was last
 * read, counted in stray as one burst. Returns how many bytes: 0 proves the
 * line silent since then (the reply before it was read).
 */
uint32_t rtu_silence_drain(int fd, struct rtu_stray *stray);

/*
 * Returns once the tty fd has been silent for silence_us since the end of the
 * last frame: the later of *last_frame_end_us and not_before_us (monotonic
 * microseconds; 0: none). Bytes found on the tty then are read, dropped and
 * counted in stray, and move *last_frame_end_us to when they were found (no
 * earlier than their arrival), and the silence starts again. With fd < 0
 * it only sleeps. Adds to stray (the caller zeroes it).
 */
void rtu_silence_keep(int fd, uint32_t silence_us, uint64_t *last_frame_end_us,
                      uint64_t not_before_us, struct rtu_stray *stray);

/*
 * After a request that no reply ended (a broadcast, a timeout): waits for the
 * tty to finish sending it (tcdrain) and returns the time it ended, now.
 */
uint64_t rtu_silence_sent(int fd);

#endif
