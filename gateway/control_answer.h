/*
 * control_answer.h — answers one control-protocol request (one JSON object)
 * with one JSON response, from snapshots of the running gateway. The protocol
 * is in docs/control-protocol.md.
 *
 * Used by the control thread alone; it owns the answerer, its scratch buffers
 * and the fault window (each device's failed-poll count some time ago).
 *
 * The runtime may be swapped in place by a reload at any time between two
 * calls: each call takes runtime_lock_read() itself while it reads the
 * runtime (snapshot copies and JSON only: no I/O, nothing that waits), so the
 * caller must not hold it. A call that finds a new configuration first fits
 * its buffers and fault window to it; the window follows devices by id, so a
 * device that a reload keeps keeps its fault state.
 */
#ifndef SAFETYGW_CONTROL_ANSWER_H
#define SAFETYGW_CONTROL_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

/* A device that failed a poll within this long (at most twice it) is "fault". */
#define CONTROL_FAULT_WINDOW_MS 30000

struct control_answer;

/* NULL when out of memory. runtime (swapped in place by reloads) must outlive the answerer. */
struct control_answer *control_answer_new(struct runtime *runtime, uint64_t started_wall_ms);
void control_answer_free(struct control_answer *answer);

/* Moves the fault window on; call at least every few seconds with the monotonic time. */
void control_answer_tick(struct control_answer *answer, uint64_t now_ms);

/* The response (malloc'd JSON, no newline) to request[0..length); NULL when out of memory. */
char *control_answer(struct control_answer *answer, const char *request, size_t length);

#endif
