/*
 * NACK answers from the track's ring: see parley_retransmit.h.
 */

#include <string.h>

#include "parley_retransmit.h"


#define PARLEY_RETRANSMIT_MASK   (PARLEY_RETRANSMIT_HISTORY - 1)
#define PARLEY_RETRANSMIT_ORIGIN ((uint64_t) 1 << 16)

/* tokens are kept in millionths of a byte: rate * microseconds */
#define PARLEY_RETRANSMIT_UNIT   1000000


static int parley_retransmit_probe(const parley_ring_t *ring, uint64_t r,
    uint32_t layer, uint64_t ext, uint8_t *buf, uint32_t cap, uint32_t *len,
    uint64_t *meta);
static parley_rc_t parley_retransmit_guess(const parley_ring_t *ring,
    const parley_retransmit_index_t *idx, uint32_t layer, uint64_t ext,
    uint8_t *buf, uint32_t cap, uint32_t *len, uint64_t *ring_seq);
static int parley_retransmit_around(uint64_t center, int64_t *off,
    const uint64_t *seen, unsigned n, uint64_t oldest, uint64_t head,
    uint64_t *r);
static uint64_t parley_retransmit_add(uint64_t r, int64_t step);
static uint64_t parley_retransmit_clamp(uint64_t r, uint64_t oldest,
    uint64_t head);
static int parley_retransmit_seen(const uint64_t *seen, unsigned n,
    uint64_t r);
static int64_t parley_retransmit_secant(const parley_retransmit_index_t *idx,
    uint32_t layer, uint64_t r, uint64_t got, uint64_t ext);
static void parley_retransmit_refill(parley_retransmit_limiter_t *lim,
    uint64_t now_us);


void
parley_retransmit_seq_init(parley_retransmit_seq_t *w)
{
    memset(w, 0, sizeof(*w));
}


uint64_t
parley_retransmit_extend(parley_retransmit_seq_t *w, uint32_t layer,
    uint16_t seq)
{
    int16_t   diff;
    uint64_t  ext;

    if (layer >= PARLEY_RETRANSMIT_LAYERS) {
        return UINT64_MAX;
    }

    if (!w->started[layer]) {
        w->started[layer] = 1;
        w->highest[layer] = PARLEY_RETRANSMIT_ORIGIN + seq;
        return w->highest[layer];
    }

    diff = (int16_t) (uint16_t) (seq - (uint16_t) w->highest[layer]);
    ext = w->highest[layer] + (int64_t) diff;

    if (diff > 0) {
        w->highest[layer] = ext;
    }

    return ext & PARLEY_RETRANSMIT_SEQ_MASK;
}


void
parley_retransmit_index_init(parley_retransmit_index_t *idx)
{
    memset(idx, 0, sizeof(*idx));
}


void
parley_retransmit_index_note(parley_retransmit_index_t *idx,
    uint64_t ring_seq, uint64_t meta)
{
    uint32_t  layer;
    uint64_t  ext, hi;

    layer = parley_retransmit_meta_layer(meta);

    if (parley_retransmit_meta_kind(meta) != PARLEY_RETRANSMIT_KIND_RTP
        || layer >= PARLEY_RETRANSMIT_LAYERS)
    {
        return;
    }

    ext = parley_retransmit_meta_seq(meta);
    hi = idx->highest_ext[layer];

    /* 0 marks an empty entry: ring sequence + 1 */
    idx->ring_lo[layer][ext & PARLEY_RETRANSMIT_MASK] = (uint32_t) (ring_seq
                                                                    + 1);

    /* newer, or so much older that the writer must have started again */
    if (hi == 0 || ext > hi || hi - ext > 0x8000) {
        idx->highest_ext[layer] = ext;
        idx->highest_ring[layer] = ring_seq;
    }
}


parley_rc_t
parley_retransmit_find(const parley_ring_t *ring,
    const parley_retransmit_index_t *idx, uint32_t layer, uint16_t seq,
    uint8_t *buf, uint32_t cap, uint32_t *len, uint64_t *ring_seq)
{
    int16_t   diff;
    uint32_t  lo;
    uint64_t  hi, ext, head, r, meta;

    if (layer >= PARLEY_RETRANSMIT_LAYERS
        || cap < parley_ring_slot_size(ring))
    {
        return PARLEY_ERR_INVAL;
    }

    hi = idx->highest_ext[layer];
    if (hi == 0) {
        return PARLEY_ERR_NOT_FOUND;
    }

    diff = (int16_t) (uint16_t) (seq - (uint16_t) hi);
    ext = hi + (int64_t) diff;

    if (diff > 0 || hi - ext >= PARLEY_RETRANSMIT_HISTORY) {
        return PARLEY_ERR_NOT_FOUND;
    }

    lo = idx->ring_lo[layer][ext & PARLEY_RETRANSMIT_MASK];

    if (lo != 0) {
        head = parley_ring_head(ring);
        r = head - (uint32_t) ((uint32_t) head - (lo - 1));

        if (parley_retransmit_probe(ring, r, layer, ext, buf, cap, len,
                                    &meta))
        {
            if (ring_seq != NULL) {
                *ring_seq = r;
            }
            return PARLEY_OK;
        }
    }

    return parley_retransmit_guess(ring, idx, layer, ext, buf, cap, len,
                                   ring_seq);
}


/*
 * Without an index entry: as far back from the layer's newest packet as
 * the numbers are apart, then along the layer's line (the secant step)
 * from each probe that lands on the layer, one slot on from one that lands
 * on another; once a step leads back to a slot seen before (reordering),
 * outwards from the last one: +1, -1, +2, -2... At most
 * PARLEY_RETRANSMIT_MAX_PROBES reads.
 */
static parley_rc_t
parley_retransmit_guess(const parley_ring_t *ring,
    const parley_retransmit_index_t *idx, uint32_t layer, uint64_t ext,
    uint8_t *buf, uint32_t cap, uint32_t *len, uint64_t *ring_seq)
{
    int64_t   off, step, dir;
    uint64_t  r, next, head, oldest, back, meta, center;
    uint64_t  seen[PARLEY_RETRANSMIT_MAX_PROBES];
    unsigned  n, scan;

    head = parley_ring_head(ring);
    if (head == 0) {
        return PARLEY_ERR_NOT_FOUND;
    }

    oldest = head > parley_ring_slots(ring) ? head - parley_ring_slots(ring)
                                            : 0;
    back = idx->highest_ext[layer] - ext;
    r = parley_retransmit_add(idx->highest_ring[layer], -(int64_t) back);
    r = parley_retransmit_clamp(r, oldest, head);
    center = r;
    scan = 0;
    off = 0;

    /* more layers than one make the first guess too new: look back */
    dir = -1;

    for (n = 0; n < PARLEY_RETRANSMIT_MAX_PROBES; n++) {
        seen[n] = r;

        if (parley_retransmit_probe(ring, r, layer, ext, buf, cap, len,
                                    &meta))
        {
            if (ring_seq != NULL) {
                *ring_seq = r;
            }
            return PARLEY_OK;
        }

        step = dir;

        if (parley_retransmit_meta_kind(meta) == PARLEY_RETRANSMIT_KIND_RTP
            && parley_retransmit_meta_layer(meta) == layer
            && parley_retransmit_meta_seq(meta) != ext)
        {
            step = parley_retransmit_secant(idx, layer, r,
                                            parley_retransmit_meta_seq(meta),
                                            ext);
            dir = step < 0 ? -1 : 1;
        }

        next = parley_retransmit_clamp(parley_retransmit_add(r, step),
                                       oldest, head);

        if (!scan && parley_retransmit_seen(seen, n + 1, next)) {
            scan = 1;
            center = r;
        }

        if (!scan) {
            r = next;
            continue;
        }

        if (!parley_retransmit_around(center, &off, seen, n + 1, oldest,
                                      head, &r))
        {
            break;
        }
    }

    return PARLEY_ERR_NOT_FOUND;
}


/* the next slot in +1, -1, +2, -2... from center, in the ring and unseen */
static int
parley_retransmit_around(uint64_t center, int64_t *off, const uint64_t *seen,
    unsigned n, uint64_t oldest, uint64_t head, uint64_t *r)
{
    for ( ;; ) {
        *off = *off > 0 ? -*off : -*off + 1;

        if (*off > PARLEY_RETRANSMIT_MAX_PROBES) {
            return 0;
        }

        if (*off < 0 && (uint64_t) -*off > center) {
            continue;
        }

        *r = center + *off;

        if (*r >= oldest && *r < head && !parley_retransmit_seen(seen, n, *r)) {
            return 1;
        }
    }
}


static uint64_t
parley_retransmit_add(uint64_t r, int64_t step)
{
    if (step < 0 && (uint64_t) -step > r) {
        return 0;
    }

    return r + step;
}


static uint64_t
parley_retransmit_clamp(uint64_t r, uint64_t oldest, uint64_t head)
{
    return r < oldest ? oldest : r >= head ? head - 1 : r;
}


static int
parley_retransmit_seen(const uint64_t *seen, unsigned n, uint64_t r)
{
    unsigned  i;

    for (i = 0; i < n; i++) {
        if (seen[i] == r) {
            return 1;
        }
    }

    return 0;
}


/*
 * The step from ring packet r, which holds number "got" of the layer,
 * towards "ext": along the line through r and the layer's newest packet,
 * so that other layers in between (ring packets per number above 1) and
 * loss upstream (below 1) are allowed for. Never 0.
 */
static int64_t
parley_retransmit_secant(const parley_retransmit_index_t *idx,
    uint32_t layer, uint64_t r, uint64_t got, uint64_t ext)
{
    int64_t   want, step;
    uint64_t  hr, he;

    hr = idx->highest_ring[layer];
    he = idx->highest_ext[layer];
    want = (int64_t) (ext - got);

    if (he > got && hr > r && he - got < PARLEY_RETRANSMIT_HISTORY
        && hr - r < ((uint64_t) 1 << 32))
    {
        step = want * (int64_t) (hr - r) / (int64_t) (he - got);

    } else {
        step = want;
    }

    if (step == 0) {
        step = want < 0 ? -1 : 1;
    }

    return step;
}


/*
 * 1 when ring packet r is the one asked for; *meta is its meta, or
 * UINT64_MAX when it could not be read.
 */
static int
parley_retransmit_probe(const parley_ring_t *ring, uint64_t r,
    uint32_t layer, uint64_t ext, uint8_t *buf, uint32_t cap, uint32_t *len,
    uint64_t *meta)
{
    parley_rtp_header_t  h;

    if (parley_ring_get(ring, r, buf, cap, len, meta) != PARLEY_OK) {
        *meta = UINT64_MAX;
        return 0;
    }

    if (parley_retransmit_meta_kind(*meta) != PARLEY_RETRANSMIT_KIND_RTP
        || parley_retransmit_meta_layer(*meta) != layer
        || parley_retransmit_meta_seq(*meta) != ext)
    {
        return 0;
    }

    /* the meta says so; the packet itself must agree */
    return parley_rtp_parse(buf, *len, &h) == PARLEY_RTP_OK
           && h.seq == (uint16_t) ext;
}


parley_rtp_rc_t
parley_retransmit_wrap_rtx(const uint8_t *pkt, size_t len, uint8_t rtx_pt,
    uint32_t rtx_ssrc, uint16_t *rtx_seq, uint8_t *out, size_t cap,
    size_t *out_len)
{
    parley_rtp_rc_t      rc;
    parley_rtp_header_t  h;

    rc = parley_rtp_parse(pkt, len, &h);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* RFC 4588 8.3: the RTX stream has its own sequence numbers */
    rc = parley_rtp_rtx_wrap(pkt, len, &h, rtx_pt, rtx_ssrc, *rtx_seq, out,
                             cap, out_len);
    if (rc == PARLEY_RTP_OK) {
        (*rtx_seq)++;
    }

    return rc;
}


parley_rc_t
parley_retransmit_limiter_init(parley_retransmit_limiter_t *lim,
    uint64_t rate, uint64_t burst)
{
    /* kept below 2^63 millionths of a byte */
    if (rate == 0 || burst == 0 || burst > ((uint64_t) 1 << 40)
        || rate > ((uint64_t) 1 << 40))
    {
        return PARLEY_ERR_INVAL;
    }

    memset(lim, 0, sizeof(*lim));
    lim->rate = rate;
    lim->burst = burst;
    lim->tokens = (int64_t) (burst * PARLEY_RETRANSMIT_UNIT);
    lim->last_us = UINT64_MAX;

    return PARLEY_OK;
}


static void
parley_retransmit_refill(parley_retransmit_limiter_t *lim, uint64_t now_us)
{
    int64_t   max;
    uint64_t  elapsed;

    if (lim->last_us == UINT64_MAX || now_us < lim->last_us) {
        lim->last_us = now_us;
        return;
    }

    max = (int64_t) (lim->burst * PARLEY_RETRANSMIT_UNIT);
    elapsed = now_us - lim->last_us;
    lim->last_us = now_us;

    /* a long silence fills the bucket; no product may overflow */
    if (elapsed >= (uint64_t) max / lim->rate) {
        lim->tokens = max;
        return;
    }

    lim->tokens += (int64_t) (elapsed * lim->rate);
    if (lim->tokens > max) {
        lim->tokens = max;
    }
}


int
parley_retransmit_admit(parley_retransmit_limiter_t *lim, uint16_t seq,
    uint64_t now_us, uint64_t rtt_us)
{
    uint64_t                     gap;
    parley_retransmit_recent_t  *r;

    parley_retransmit_refill(lim, now_us);

    if (lim->tokens <= 0) {
        lim->refused_rate++;
        return 0;
    }

    /* the answer to the last request may still be on its way */
    gap = rtt_us > PARLEY_RETRANSMIT_MIN_RESEND_US
          ? rtt_us : PARLEY_RETRANSMIT_MIN_RESEND_US;
    r = &lim->recent[seq & (PARLEY_RETRANSMIT_RECENT - 1)];

    if (r->sent_us != 0 && r->seq == seq && now_us - r->sent_us < gap) {
        lim->refused_repeat++;
        return 0;
    }

    return 1;
}


void
parley_retransmit_sent(parley_retransmit_limiter_t *lim, uint16_t seq,
    size_t bytes, uint64_t now_us)
{
    parley_retransmit_recent_t  *r;

    parley_retransmit_refill(lim, now_us);
    lim->tokens -= (int64_t) bytes * PARLEY_RETRANSMIT_UNIT;

    r = &lim->recent[seq & (PARLEY_RETRANSMIT_RECENT - 1)];
    r->seq = seq;
    r->sent_us = now_us ? now_us : 1;
    lim->sent++;
}
