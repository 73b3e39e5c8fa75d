#include "link_watch.h"

#include <string.h>

#define MAX_REOPEN_DOUBLINGS 4 /* reopen a silent link at most every 16 x link_timeout_ms */

void link_watch_init(struct link_watch *watch, uint32_t link_timeout_ms, size_t device_count,
                     uint64_t now_ms)
{
    *watch = (struct link_watch){
        .link_timeout_ms = link_timeout_ms, .device_count = device_count, .last_answer_ms = now_ms};
}

static size_t devices_needed(const struct link_watch *watch)
{
    return watch->device_count < LINK_WATCH_DEVICES_NEEDED ? watch->device_count
                                                           : LINK_WATCH_DEVICES_NEEDED;
}

enum link_watch_change link_watch_poll(struct link_watch *watch, uint8_t address, bool timed_out,
                                       bool answered, uint64_t now_ms)
{
    uint64_t bit = 1ull << (address % 64);
    if (timed_out && !(watch->timed_out[address / 64] & bit)) {
        watch->timed_out[address / 64] |= bit;
        watch->timed_out_count++;
    }
    if (answered) {
        memset(watch->timed_out, 0, sizeof watch->timed_out);
        watch->timed_out_count = 0;
        watch->last_answer_ms = now_ms;
        watch->reopens = 0;
        if (watch->silent) {
            watch->silent = false;
            return LINK_WATCH_ANSWERING;
        }
        return LINK_WATCH_SAME;
    }
    bool enough_timed_out =
        watch->device_count > 0 && watch->timed_out_count >= devices_needed(watch);
    if (!watch->silent && enough_timed_out &&
        now_ms - watch->last_answer_ms >= watch->link_timeout_ms) {
        watch->silent = true;
        watch->last_reopen_ms = now_ms;
        return LINK_WATCH_SILENT;
    }
    return LINK_WATCH_SAME;
}

bool link_watch_reopen_due(struct link_watch *watch, uint64_t now_ms)
{
    if (!watch->silent)
        return false;
    uint32_t doublings =
        watch->reopens < MAX_REOPEN_DOUBLINGS ? watch->reopens : MAX_REOPEN_DOUBLINGS;
    uint64_t wait_ms = watch->reopens == 0 ? 0 : (uint64_t)watch->link_timeout_ms << doublings;
    if (now_ms - watch->last_reopen_ms < wait_ms)
        return false;
    watch->reopens++;
    watch->last_reopen_ms = now_ms;
    return true;
}

uint64_t link_watch_silent_ms(const struct link_watch *watch, uint64_t now_ms)
{
    return now_ms - watch->last_answer_ms;
}
