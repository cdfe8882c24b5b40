/*
 * Transport-wide congestion control feedback, receiver side: see
 * parley_twcc.h.
 */

#include <string.h>

#include "parley_twcc.h"


#define PARLEY_TWCC_MASK     (PARLEY_TWCC_WINDOW - 1)

/* the first packet's place: room below it to unwrap late ones */
#define PARLEY_TWCC_ORIGIN   ((uint64_t) 1 << 32)


static void parley_twcc_restart(parley_twcc_t *t, uint16_t seq);
static uint64_t parley_twcc_unwrap(const parley_twcc_t *t, uint16_t seq);
static int parley_twcc_place(parley_twcc_t *t, uint16_t seq, uint64_t *ext);
static size_t parley_twcc_collect(parley_twcc_t *t, uint64_t *first);
static parley_rtp_rc_t parley_twcc_build_one(parley_twcc_t *t,
    parley_rtcp_writer_t *w);


void
parley_twcc_init(parley_twcc_t *t, uint32_t sender_ssrc,
    uint64_t interval_us)
{
    memset(t, 0, sizeof(*t));
    t->sender_ssrc = sender_ssrc;
    t->interval_us = interval_us ? interval_us : PARLEY_TWCC_INTERVAL_US;
}


int
parley_twcc_on_packet(parley_twcc_t *t, uint32_t media_ssrc,
    uint16_t twcc_seq, uint64_t now_us)
{
    uint64_t             ext;
    parley_twcc_slot_t  *s;

    if (!t->started) {
        parley_twcc_restart(t, twcc_seq);
        t->last_fb_us = now_us;
    }

    if (!parley_twcc_place(t, twcc_seq, &ext)) {
        return 0;
    }

    s = &t->slot[ext & PARLEY_TWCC_MASK];

    if (s->ext_seq_1 == ext + 1) {
        return 0;
    }

    s->ext_seq_1 = ext + 1;
    s->arrival_us = (int64_t) now_us;
    t->media_ssrc = media_ssrc;
    t->recorded++;

    return 1;
}


static void
parley_twcc_restart(parley_twcc_t *t, uint16_t seq)
{
    memset(t->slot, 0, sizeof(t->slot));
    t->begin = PARLEY_TWCC_ORIGIN + seq;
    t->highest = t->begin;
    t->started = 1;
    t->reported = 0;
}


/* RFC 1982-style: the nearest 64-bit number with these low 16 bits */
static uint64_t
parley_twcc_unwrap(const parley_twcc_t *t, uint16_t seq)
{
    int16_t  diff;

    diff = (int16_t) (uint16_t) (seq - (uint16_t) t->highest);

    return t->highest + (int64_t) diff;
}


/*
 * Unwraps seq into *ext and moves the window so that it fits; 0 when the
 * packet is to be dropped.
 */
static int
parley_twcc_place(parley_twcc_t *t, uint16_t seq, uint64_t *ext_out)
{
    uint64_t  ext;

    ext = parley_twcc_unwrap(t, seq);
    *ext_out = ext;

    if (ext < t->begin) {

        if (t->begin - ext > PARLEY_TWCC_WINDOW) {
            /* far behind: the sender started a new numbering */
            parley_twcc_restart(t, seq);
            *ext_out = t->begin;
            return 1;
        }

        if (t->reported || t->highest - ext >= PARLEY_TWCC_WINDOW) {
            t->late++;
            return 0;
        }

        /* reordered before the very first packet: nothing reported yet */
        t->begin = ext;
        return 1;
    }

    if (ext > t->highest) {
        if (ext - t->begin >= PARLEY_TWCC_WINDOW) {
            t->overrun += ext - PARLEY_TWCC_WINDOW + 1 - t->begin;
            t->begin = ext - PARLEY_TWCC_WINDOW + 1;
        }

        t->highest = ext;
    }

    return 1;
}


int
parley_twcc_due(const parley_twcc_t *t, uint64_t now_us)
{
    if (!t->started || t->begin > t->highest) {
        return 0;
    }

    if (t->highest - t->begin >= PARLEY_TWCC_WINDOW / 2) {
        return 1;
    }

    return now_us - t->last_fb_us >= t->interval_us;
}


uint64_t
parley_twcc_next_us(const parley_twcc_t *t)
{
    if (!t->started || t->begin > t->highest) {
        return 0;
    }

    return t->last_fb_us + t->interval_us;
}


parley_rtp_rc_t
parley_twcc_build(parley_twcc_t *t, parley_rtcp_writer_t *w,
    uint64_t now_us)
{
    size_t           i;
    parley_rtp_rc_t  rc, result;

    result = PARLEY_RTP_DONE;

    for (i = 0; i < PARLEY_TWCC_MAX_FB_PER_CALL; i++) {
        if (!t->started || t->begin > t->highest) {
            break;
        }

        rc = parley_twcc_build_one(t, w);

        if (rc == PARLEY_RTP_DONE) {
            break;
        }

        if (rc != PARLEY_RTP_OK) {
            if (result == PARLEY_RTP_DONE) {
                result = rc;
            }
            break;
        }

        result = PARLEY_RTP_OK;
    }

    if (result == PARLEY_RTP_OK) {
        t->last_fb_us = now_us;
    }

    return result;
}


/*
 * One feedback: the received packets from t->begin on, as many as the
 * array holds, stopping before an arrival too far from the previous one.
 */
static parley_rtp_rc_t
parley_twcc_build_one(parley_twcc_t *t, parley_rtcp_writer_t *w)
{
    size_t           n;
    uint64_t         first, last;
    parley_rtp_rc_t  rc;

    n = parley_twcc_collect(t, &first);

    if (n == 0) {
        t->begin = t->highest + 1;
        return PARLEY_RTP_DONE;
    }

    for ( ;; ) {
        rc = parley_rtcp_build_twcc(w, t->sender_ssrc, t->media_ssrc,
                                    t->fb_count, t->scratch, n);

        if (rc != PARLEY_RTP_ERR_NOSPACE || n == 1) {
            break;
        }

        /* a shorter list makes a shorter packet */
        n /= 2;
    }

    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    last = first + (uint16_t) (t->scratch[n - 1].seq - t->scratch[0].seq);
    t->begin = last + 1;
    t->fb_count++;
    t->reported = 1;

    return PARLEY_RTP_OK;
}


static size_t
parley_twcc_collect(parley_twcc_t *t, uint64_t *first)
{
    size_t               n;
    int64_t              d;
    uint64_t             e;
    parley_twcc_slot_t  *s;

    n = 0;
    *first = 0;

    for (e = t->begin; e <= t->highest && n < PARLEY_TWCC_MAX_PER_FB; e++) {
        s = &t->slot[e & PARLEY_TWCC_MASK];

        if (s->ext_seq_1 != e + 1) {
            continue;
        }

        if (n > 0) {
            d = s->arrival_us - t->scratch[n - 1].arrival_us;
            if (d > PARLEY_TWCC_MAX_GAP_US || d < -PARLEY_TWCC_MAX_GAP_US) {
                break;
            }

        } else {
            *first = e;
        }

        t->scratch[n].seq = (uint16_t) e;
        t->scratch[n].arrival_us = s->arrival_us;
        n++;
    }

    return n;
}
