/*
 * The numbers of a leg that forwards one stream: see parley_renumber.h.
 *
 * Incoming sequence numbers are extended to 64 bits (RFC 3550 A.1) around
 * the highest seen; a bitmap of the last PARLEY_RENUMBER_HISTORY says
 * which of them went out.
 */

#include <string.h>

#include "parley_renumber.h"


#define PARLEY_RENUMBER_WORDS  (PARLEY_RENUMBER_HISTORY / 64)


static uint64_t parley_renumber_extend(const parley_renumber_t *rn,
    uint16_t seq);
static int parley_renumber_seen(const parley_renumber_t *rn, uint64_t ext);
static void parley_renumber_mark(parley_renumber_t *rn, uint64_t ext);
static void parley_renumber_advance(parley_renumber_t *rn, uint64_t ext);
static void parley_renumber_start(parley_renumber_t *rn, uint16_t in_seq,
    uint16_t out_seq, int resync);


void
parley_renumber_init(parley_renumber_t *rn, uint16_t initial_seq,
    uint32_t initial_ts)
{
    memset(rn, 0, sizeof(parley_renumber_t));

    rn->initial_seq = initial_seq;
    rn->initial_ts = initial_ts;
}


parley_renumber_verdict_t
parley_renumber_packet(parley_renumber_t *rn, uint16_t in_seq,
    uint32_t in_ts, uint16_t *seq, uint32_t *ts)
{
    uint64_t  ext;

    if (!rn->started) {
        rn->started = 1;
        rn->ts_offset = rn->initial_ts - in_ts;
        parley_renumber_start(rn, in_seq, rn->initial_seq, 0);
        goto forward;
    }

    if (rn->resume) {
        rn->resume = 0;
        parley_renumber_start(rn, in_seq,
                              (uint16_t) (rn->max_ext + rn->seq_offset + 1),
                              1);
        goto forward;
    }

    ext = parley_renumber_extend(rn, in_seq);

    if (ext > rn->max_ext) {
        parley_renumber_advance(rn, ext);
        goto forward;
    }

    if (ext == rn->max_ext
        || (rn->max_ext - ext < PARLEY_RENUMBER_HISTORY
            && ext >= rn->floor_ext && parley_renumber_seen(rn, ext)))
    {
        rn->stale = 0;
        return PARLEY_RENUMBER_DUPLICATE;
    }

    if (rn->max_ext - ext < PARLEY_RENUMBER_HISTORY && ext >= rn->floor_ext) {
        parley_renumber_mark(rn, ext);
        rn->stale = 0;
        goto forward;
    }

    /*
     * Older than the window: a reordering this late is loss, but many in
     * a row are a new stream (an encoder restarted): it goes on after the
     * highest number sent, and what is older than its start stays out.
     */

    if (++rn->stale < PARLEY_RENUMBER_RESYNC) {
        return PARLEY_RENUMBER_STALE;
    }

    parley_renumber_start(rn, in_seq,
                          (uint16_t) (rn->max_ext + rn->seq_offset + 1), 1);

forward:

    *seq = (uint16_t) (in_seq + rn->seq_offset);
    *ts = in_ts + rn->ts_offset;

    return PARLEY_RENUMBER_FORWARD;
}


void
parley_renumber_resume(parley_renumber_t *rn)
{
    /* before the first packet there is nothing to follow */
    rn->resume = rn->started;
}


parley_rc_t
parley_renumber_nack(const parley_renumber_t *rn, uint16_t seq,
    uint16_t *in_seq)
{
    uint16_t  in;
    uint64_t  ext;

    if (!rn->started) {
        return PARLEY_ERR_NOT_FOUND;
    }

    in = (uint16_t) (seq - rn->seq_offset);
    ext = parley_renumber_extend(rn, in);

    if (ext > rn->max_ext || rn->max_ext - ext >= PARLEY_RENUMBER_HISTORY
        || ext < rn->floor_ext)
    {
        return PARLEY_ERR_NOT_FOUND;
    }

    *in_seq = in;

    return PARLEY_OK;
}


uint32_t
parley_renumber_ts(const parley_renumber_t *rn, uint32_t in_ts)
{
    return in_ts + rn->ts_offset;
}


/*
 * A new incoming stream whose packet "in_seq" goes out as "out_seq". The
 * first may be joined by packets reordered before it; after a resync,
 * those would take numbers the past stream sent, and are refused.
 */
static void
parley_renumber_start(parley_renumber_t *rn, uint16_t in_seq,
    uint16_t out_seq, int resync)
{
    /* one cycle up, so that a packet reordered before it extends below */
    rn->max_ext = 0x10000 + (uint64_t) in_seq;
    rn->floor_ext = resync ? rn->max_ext : 0;
    rn->seq_offset = (uint16_t) (out_seq - in_seq);
    rn->stale = 0;

    memset(rn->seen, 0, sizeof(rn->seen));
    parley_renumber_mark(rn, rn->max_ext);
}


/* RFC 3550 A.1: the 64-bit number nearest the highest seen. */
static uint64_t
parley_renumber_extend(const parley_renumber_t *rn, uint16_t seq)
{
    uint64_t  cycle, ext;

    cycle = rn->max_ext & ~(uint64_t) 0xffff;
    ext = cycle | seq;

    if (ext > rn->max_ext && ext - rn->max_ext > 0x8000 && cycle > 0) {
        ext -= 0x10000;

    } else if (ext < rn->max_ext && rn->max_ext - ext > 0x8000) {
        ext += 0x10000;
    }

    return ext;
}


static int
parley_renumber_seen(const parley_renumber_t *rn, uint64_t ext)
{
    uint64_t  bit;

    bit = ext % PARLEY_RENUMBER_HISTORY;

    return (rn->seen[bit / 64] >> (bit % 64)) & 1;
}


static void
parley_renumber_mark(parley_renumber_t *rn, uint64_t ext)
{
    uint64_t  bit;

    bit = ext % PARLEY_RENUMBER_HISTORY;
    rn->seen[bit / 64] |= (uint64_t) 1 << (bit % 64);
}


/* The window moves up to ext: the numbers it passes were not seen. */
static void
parley_renumber_advance(parley_renumber_t *rn, uint64_t ext)
{
    uint64_t  n, bit;

    if (ext - rn->max_ext >= PARLEY_RENUMBER_HISTORY) {
        memset(rn->seen, 0, sizeof(rn->seen));

    } else {
        for (n = rn->max_ext + 1; n <= ext; n++) {
            bit = n % PARLEY_RENUMBER_HISTORY;
            rn->seen[bit / 64] &= ~((uint64_t) 1 << (bit % 64));
        }
    }

    rn->max_ext = ext;
    rn->stale = 0;
    parley_renumber_mark(rn, ext);
}
