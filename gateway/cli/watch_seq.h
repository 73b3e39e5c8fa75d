/*
 * watch_seq.h — what a consumer of alarm events must track (docs/mqtt.md):
 * per gateway, the seq numbers seen, so that a repeated one is a duplicate
 * (QoS 1 is at least once) and a skipped one a gap (ask for a resync). Pure:
 * no I/O, no clock; `safetygw watch` feeds it from Paho's callback thread.
 */
#ifndef SAFETYGW_WATCH_SEQ_H
#define SAFETYGW_WATCH_SEQ_H

#include <stddef.h>
#include <stdint.h>

enum watch_verdict {
    WATCH_FIRST,     /* the first event of this gateway since the watch started */
    WATCH_NEXT,      /* one above the highest seen: in order */
    WATCH_GAP,       /* above the highest seen + 1: gap_from..gap_to are missing */
    WATCH_LATE,      /* a number that was missing: fills (part of) a gap */
    WATCH_DUPLICATE, /* seen before: drop it */
};

struct watch_result {
    enum watch_verdict verdict;
    uint64_t gap_from, gap_to; /* WATCH_GAP only */
};

/* Per-gateway counts, for the summary. */
struct watch_gateway_stats {
    const char *gateway;
    uint64_t first, highest;
    uint64_t events;      /* distinct seq numbers seen */
    uint64_t duplicates;  /* repeats dropped */
    uint64_t missing;     /* numbers still missing between first and highest */
    uint64_t gaps_opened; /* WATCH_GAP verdicts */
};

struct watch_seq;

struct watch_seq *watch_seq_new(void);
void watch_seq_free(struct watch_seq *tracker);

/* Records that gateway sent seq. Out of memory counts as WATCH_NEXT/FIRST without tracking. */
struct watch_result watch_seq_see(struct watch_seq *tracker, const char *gateway, uint64_t seq);

size_t watch_seq_gateway_count(const struct watch_seq *tracker);
/* Gateways in the order they were first seen. */
struct watch_gateway_stats watch_seq_stats(const struct watch_seq *tracker, size_t index);

#endif
