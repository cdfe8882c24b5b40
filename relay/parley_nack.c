/*
 * Loss detection and generic NACK requests for one received stream: see
 * parley_nack.h.
 */

#include <string.h>

#include "parley_nack.h"


/* the first packet's place: room below it to unwrap late ones */
#define PARLEY_NACK_ORIGIN   ((uint64_t) 1 << 32)


static void parley_nack_reset(parley_nack_t *n, uint16_t seq);
static void parley_nack_add(parley_nack_t *n, uint64_t ext, uint64_t now_us);
static int parley_nack_remove(parley_nack_t *n, uint64_t ext);
static void parley_nack_trim(parley_nack_t *n);
static void parley_nack_give_up(parley_nack_t *n, parley_nack_entry_t *e);
static uint64_t parley_nack_interval(const parley_nack_t *n,
    uint64_t rtt_us);
static uint64_t parley_nack_due_at(const parley_nack_t *n,
    const parley_nack_entry_t *e, uint64_t interval);
static size_t parley_nack_scan(parley_nack_t *n, uint64_t now_us,
    uint64_t rtt_us, uint16_t *seqs, size_t cap, unsigned commit);


void
parley_nack_params_default(parley_nack_params_t *params)
{
    /* a few ms of reordering is common on Wi-Fi; more is loss */
    params->first_delay_us = 5000;
    params->min_retry_us = 10000;

    /* past a second a retransmission is late for a jitter buffer */
    params->max_age_us = 1000000;

    /* libwebrtc's receiver gives up after 10 requests as well */
    params->max_retries = 10;
}


void
parley_nack_init(parley_nack_t *n, const parley_nack_params_t *params)
{
    memset(n, 0, sizeof(*n));

    if (params != NULL) {
        n->params = *params;

    } else {
        parley_nack_params_default(&n->params);
    }
}


parley_nack_event_t
parley_nack_on_packet(parley_nack_t *n, uint16_t seq, uint64_t now_us)
{
    int16_t   diff;
    uint64_t  ext, e;

    if (!n->started) {
        parley_nack_reset(n, seq);
        n->started = 1;
        return PARLEY_NACK_IN_ORDER;
    }

    diff = (int16_t) (uint16_t) (seq - (uint16_t) n->highest);
    ext = n->highest + (int64_t) diff;

    if (diff == 1) {
        n->highest = ext;
        return PARLEY_NACK_IN_ORDER;
    }

    if (diff > 1) {
        if (diff - 1 > PARLEY_NACK_MAX_MISSING) {
            parley_nack_reset(n, seq);
            n->keyframe_wanted = 1;
            return PARLEY_NACK_RESET;
        }

        for (e = n->highest + 1; e < ext; e++) {
            parley_nack_add(n, e, now_us);
        }

        n->highest = ext;
        return PARLEY_NACK_GAP;
    }

    if (diff < -PARLEY_NACK_MAX_MISORDER) {
        /* RFC 3550 A.1 treats such a jump as a restarted sender too */
        parley_nack_reset(n, seq);
        n->keyframe_wanted = 1;
        return PARLEY_NACK_RESET;
    }

    if (diff < 0 && parley_nack_remove(n, ext)) {
        n->recovered++;
        return PARLEY_NACK_RECOVERED;
    }

    return PARLEY_NACK_OLD;
}


static void
parley_nack_reset(parley_nack_t *n, uint16_t seq)
{
    n->highest = PARLEY_NACK_ORIGIN + seq;
    n->head = 0;
    n->count = 0;
}


static void
parley_nack_add(parley_nack_t *n, uint64_t ext, uint64_t now_us)
{
    parley_nack_entry_t  *e;

    if (n->count == PARLEY_NACK_MAX_MISSING) {
        /* the list is full: the oldest is the least likely to matter */
        parley_nack_give_up(n, &n->entry[n->head]);
        parley_nack_trim(n);
    }

    e = &n->entry[(n->head + n->count) % PARLEY_NACK_MAX_MISSING];
    e->ext_seq = ext;
    e->first_us = now_us;
    e->sent_us = 0;
    e->retries = 0;
    n->count++;
}


static int
parley_nack_remove(parley_nack_t *n, uint64_t ext)
{
    uint32_t              i;
    parley_nack_entry_t  *e;

    for (i = 0; i < n->count; i++) {
        e = &n->entry[(n->head + i) % PARLEY_NACK_MAX_MISSING];

        if (e->ext_seq == ext) {
            e->ext_seq = 0;
            parley_nack_trim(n);
            return 1;
        }
    }

    return 0;
}


/* drops removed entries from the front, so "count" stays meaningful */
static void
parley_nack_trim(parley_nack_t *n)
{
    while (n->count > 0 && n->entry[n->head].ext_seq == 0) {
        n->head = (n->head + 1) % PARLEY_NACK_MAX_MISSING;
        n->count--;
    }
}


static void
parley_nack_give_up(parley_nack_t *n, parley_nack_entry_t *e)
{
    if (e->ext_seq == 0) {
        return;
    }

    e->ext_seq = 0;
    n->given_up++;
    n->keyframe_wanted = 1;
}


/* RFC 4585 6.2.1 leaves the retry policy open; one RTT is what it takes */
static uint64_t
parley_nack_interval(const parley_nack_t *n, uint64_t rtt_us)
{
    if (rtt_us == 0) {
        rtt_us = PARLEY_NACK_DEFAULT_RTT_US;
    }

    return rtt_us > n->params.min_retry_us ? rtt_us : n->params.min_retry_us;
}


static uint64_t
parley_nack_due_at(const parley_nack_t *n, const parley_nack_entry_t *e,
    uint64_t interval)
{
    if (e->sent_us == 0 && e->retries == 0) {
        return e->first_us + n->params.first_delay_us;
    }

    return e->sent_us + interval;
}


size_t
parley_nack_collect(parley_nack_t *n, uint64_t now_us, uint64_t rtt_us,
    uint16_t *seqs, size_t cap)
{
    return parley_nack_scan(n, now_us, rtt_us, seqs, cap, 1);
}


/*
 * Gives up on entries too old or asked for too often, then lists those
 * due; "commit" marks them as requested.
 */
static size_t
parley_nack_scan(parley_nack_t *n, uint64_t now_us, uint64_t rtt_us,
    uint16_t *seqs, size_t cap, unsigned commit)
{
    size_t                k;
    uint32_t              i;
    uint64_t              interval;
    parley_nack_entry_t  *e;

    interval = parley_nack_interval(n, rtt_us);
    k = 0;

    for (i = 0; i < n->count; i++) {
        e = &n->entry[(n->head + i) % PARLEY_NACK_MAX_MISSING];

        if (e->ext_seq == 0 || now_us < parley_nack_due_at(n, e, interval)) {
            continue;
        }

        if (e->retries >= n->params.max_retries
            || now_us - e->first_us > n->params.max_age_us)
        {
            parley_nack_give_up(n, e);
            continue;
        }

        if (k == cap) {
            continue;
        }

        seqs[k++] = (uint16_t) e->ext_seq;

        if (commit) {
            e->sent_us = now_us;
            e->retries++;
            n->requested++;
        }
    }

    parley_nack_trim(n);

    return k;
}


parley_rtp_rc_t
parley_nack_build(parley_nack_t *n, parley_rtcp_writer_t *w,
    uint32_t sender_ssrc, uint32_t media_ssrc, uint64_t now_us,
    uint64_t rtt_us)
{
    size_t           k;
    uint16_t         seqs[PARLEY_NACK_MAX_PER_BUILD];
    parley_rtp_rc_t  rc;

    k = parley_nack_scan(n, now_us, rtt_us, seqs, PARLEY_NACK_MAX_PER_BUILD,
                         0);
    if (k == 0) {
        return PARLEY_RTP_DONE;
    }

    rc = parley_rtcp_build_nack(w, sender_ssrc, media_ssrc, seqs, k);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* the same scan again, now counting: nothing changed in between */
    (void) parley_nack_scan(n, now_us, rtt_us, seqs,
                            PARLEY_NACK_MAX_PER_BUILD, 1);

    return PARLEY_RTP_OK;
}


uint64_t
parley_nack_next_us(const parley_nack_t *n, uint64_t rtt_us)
{
    uint32_t                   i;
    uint64_t                   interval, at, next;
    const parley_nack_entry_t  *e;

    interval = parley_nack_interval(n, rtt_us);
    next = 0;

    for (i = 0; i < n->count; i++) {
        e = &n->entry[(n->head + i) % PARLEY_NACK_MAX_MISSING];

        if (e->ext_seq == 0) {
            continue;
        }

        at = parley_nack_due_at(n, e, interval);
        if (next == 0 || at < next) {
            next = at;
        }
    }

    return next;
}


int
parley_nack_keyframe_wanted(parley_nack_t *n)
{
    if (!n->keyframe_wanted) {
        return 0;
    }

    n->keyframe_wanted = 0;

    return 1;
}


size_t
parley_nack_missing(const parley_nack_t *n)
{
    size_t    k;
    uint32_t  i;

    k = 0;

    for (i = 0; i < n->count; i++) {
        if (n->entry[(n->head + i) % PARLEY_NACK_MAX_MISSING].ext_seq != 0) {
            k++;
        }
    }

    return k;
}
