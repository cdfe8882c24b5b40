/*
 * The rate a stream arrives at: see parley_rate.h.
 */

#include <string.h>

#include "parley_rate.h"


static void parley_rate_advance(parley_rate_t *r, uint64_t now_ms);


void
parley_rate_init(parley_rate_t *r)
{
    memset(r, 0, sizeof(parley_rate_t));
}


void
parley_rate_add(parley_rate_t *r, uint64_t bytes, uint64_t now_ms)
{
    if (!r->started) {
        r->started = 1;
        r->first_ms = now_ms;
        r->slot = now_ms / PARLEY_RATE_SLOT_MS;
    }

    parley_rate_advance(r, now_ms);

    r->bytes[r->slot % PARLEY_RATE_SLOTS] += bytes;
}


void
parley_rate_add_packet(parley_rate_t *r, uint64_t seq, uint64_t bytes,
    uint64_t now_ms)
{
    if (seq > r->seq) {
        r->behind = 0;

    } else if (r->seq - seq <= PARLEY_RATE_RESTART
               || ++r->behind < PARLEY_RATE_RESYNC)
    {
        return;

    } else {
        r->behind = 0;
    }

    r->seq = seq;
    parley_rate_add(r, bytes, now_ms);
}


uint64_t
parley_rate_bps(parley_rate_t *r, uint64_t now_ms)
{
    uint32_t  i;
    uint64_t  sum, span_ms;

    if (!r->started) {
        return 0;
    }

    parley_rate_advance(r, now_ms);

    /* too young to say: a first burst (a keyframe) is no rate */
    if (!r->started || now_ms < r->first_ms + PARLEY_RATE_YOUNG_MS) {
        return 0;
    }

    sum = 0;

    for (i = 0; i < PARLEY_RATE_SLOTS; i++) {
        sum += r->bytes[i];
    }

    /* from the start of the oldest slot kept to now */
    span_ms = (uint64_t) (PARLEY_RATE_SLOTS - 1) * PARLEY_RATE_SLOT_MS
              + now_ms % PARLEY_RATE_SLOT_MS;

    if (now_ms >= r->first_ms && now_ms - r->first_ms < span_ms) {
        span_ms = now_ms - r->first_ms;
    }

    if (span_ms < PARLEY_RATE_SLOT_MS) {
        span_ms = PARLEY_RATE_SLOT_MS;
    }

    return sum * 8 * 1000 / span_ms;
}


/* Slots whose time has passed are emptied, at most a whole window's. */
static void
parley_rate_advance(parley_rate_t *r, uint64_t now_ms)
{
    uint64_t  slot, n;

    slot = now_ms / PARLEY_RATE_SLOT_MS;

    if (slot <= r->slot) {
        return;
    }

    n = slot - r->slot;

    /* silent for a whole window: the stream starts again from now */
    if (n >= PARLEY_RATE_SLOTS) {
        n = PARLEY_RATE_SLOTS;
        r->first_ms = now_ms;
    }

    while (n--) {
        r->bytes[(slot - n) % PARLEY_RATE_SLOTS] = 0;
    }

    r->slot = slot;
}
