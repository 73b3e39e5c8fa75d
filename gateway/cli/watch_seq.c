#include "watch_seq.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Numbers from..to (inclusive) not seen yet, below the highest seen. */
struct missing_range {
    uint64_t from, to;
};

struct gateway_track {
    char *id;
    uint64_t first, highest;
    uint64_t events, duplicates, gaps_opened;
    struct missing_range *missing; /* sorted, disjoint */
    size_t missing_count, missing_capacity;
};

struct watch_seq {
    struct gateway_track *gateways;
    size_t count, capacity;
};

struct watch_seq *watch_seq_new(void)
{
    return calloc(1, sizeof(struct watch_seq));
}

void watch_seq_free(struct watch_seq *tracker)
{
    if (!tracker)
        return;
    for (size_t i = 0; i < tracker->count; i++) {
        free(tracker->gateways[i].id);
        free(tracker->gateways[i].missing);
    }
    free(tracker->gateways);
    free(tracker);
}

/* A city has hundreds of gateways, seen in bursts: a linear search is enough. */
static struct gateway_track *find_or_add(struct watch_seq *tracker, const char *gateway,
                                         bool *added)
{
    *added = false;
    for (size_t i = 0; i < tracker->count; i++)
        if (strcmp(tracker->gateways[i].id, gateway) == 0)
            return &tracker->gateways[i];
    if (tracker->count == tracker->capacity) {
        size_t capacity = tracker->capacity ? tracker->capacity * 2 : 16;
        struct gateway_track *grown =
            realloc(tracker->gateways, capacity * sizeof *tracker->gateways);
        if (!grown)
            return NULL;
        tracker->gateways = grown;
        tracker->capacity = capacity;
    }
    struct gateway_track *track = &tracker->gateways[tracker->count];
    memset(track, 0, sizeof *track);
    if (!(track->id = strdup(gateway)))
        return NULL;
    tracker->count++;
    *added = true;
    return track;
}

static int insert_range(struct gateway_track *track, size_t at, struct missing_range range)
{
    if (track->missing_count == track->missing_capacity) {
        size_t capacity = track->missing_capacity ? track->missing_capacity * 2 : 4;
        struct missing_range *grown = realloc(track->missing, capacity * sizeof *grown);
        if (!grown)
            return -1;
        track->missing = grown;
        track->missing_capacity = capacity;
    }
    memmove(&track->missing[at + 1], &track->missing[at],
            (track->missing_count - at) * sizeof *track->missing);
    track->missing[at] = range;
    track->missing_count++;
    return 0;
}

static void remove_range(struct gateway_track *track, size_t at)
{
    memmove(&track->missing[at], &track->missing[at + 1],
            (track->missing_count - at - 1) * sizeof *track->missing);
    track->missing_count--;
}

/* Takes seq out of the missing ranges; false when it was not missing (a duplicate). */
static bool fill(struct gateway_track *track, uint64_t seq)
{
    for (size_t i = 0; i < track->missing_count; i++) {
        struct missing_range *range = &track->missing[i];
        if (seq < range->from || seq > range->to)
            continue;
        if (range->from == range->to)
            remove_range(track, i);
        else if (seq == range->from)
            range->from++;
        else if (seq == range->to)
            range->to--;
        else {
            struct missing_range upper = {seq + 1, range->to};
            range->to = seq - 1;
            insert_range(track, i + 1, upper);
        }
        return true;
    }
    return false;
}

struct watch_result watch_seq_see(struct watch_seq *tracker, const char *gateway, uint64_t seq)
{
    bool added;
    struct gateway_track *track = find_or_add(tracker, gateway, &added);
    if (!track)
        return (struct watch_result){.verdict = WATCH_NEXT};
    if (added) {
        track->first = track->highest = seq;
        track->events = 1;
        return (struct watch_result){.verdict = WATCH_FIRST};
    }
    if (seq > track->highest) {
        struct watch_result result = {.verdict = WATCH_NEXT};
        if (seq > track->highest + 1) {
            result = (struct watch_result){WATCH_GAP, track->highest + 1, seq - 1};
            insert_range(track, track->missing_count,
                         (struct missing_range){track->highest + 1, seq - 1});
            track->gaps_opened++;
        }
        track->highest = seq;
        track->events++;
        return result;
    }
    if (seq < track->first) {
        /* Older than anything seen since the watch started: it was queued for us. */
        if (seq + 1 < track->first)
            insert_range(track, 0, (struct missing_range){seq + 1, track->first - 1});
        track->first = seq;
        track->events++;
        return (struct watch_result){.verdict = WATCH_LATE};
    }
    if (fill(track, seq)) {
        track->events++;
        return (struct watch_result){.verdict = WATCH_LATE};
    }
    track->duplicates++;
    return (struct watch_result){.verdict = WATCH_DUPLICATE};
}

size_t watch_seq_gateway_count(const struct watch_seq *tracker)
{
    return tracker->count;
}

struct watch_gateway_stats watch_seq_stats(const struct watch_seq *tracker, size_t index)
{
    const struct gateway_track *track = &tracker->gateways[index];
    uint64_t missing = 0;
    for (size_t i = 0; i < track->missing_count; i++)
        missing += track->missing[i].to - track->missing[i].from + 1;
    return (struct watch_gateway_stats){.gateway = track->id,
                                        .first = track->first,
                                        .highest = track->highest,
                                        .events = track->events,
                                        .duplicates = track->duplicates,
                                        .missing = missing,
                                        .gaps_opened = track->gaps_opened};
}
