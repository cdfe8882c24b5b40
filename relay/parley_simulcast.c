/*
 * Simulcast layer switching: see parley_simulcast.h.
 *
 * Outgoing sequence numbers are handled as 64-bit "extended" numbers that
 * never wrap (the 16-bit seq is their low bits). Each switch opens a span:
 * from its first extended seq on, outgoing = incoming + seq_offset for its
 * layer. Spans are contiguous, so any outgoing seq up to the highest maps
 * back to exactly one (layer, incoming seq): that answers NACKs, and the
 * current span's start tells a late packet of the new layer from one that
 * belongs before the switch.
 *
 * "sent" has one bit per extended seq modulo PARLEY_SIMULCAST_HISTORY: set
 * when that seq goes out, cleared when the highest seq moves past it, so a
 * set bit within the last HISTORY seqs means a duplicate.
 */

#include <string.h>

#include "parley_simulcast.h"


/* the extended seq of the first packet out: room below for the history */
#define PARLEY_SIMULCAST_EXT_BASE     0x10000

/*
 * The timestamp jump across a switch follows the wall clock up to this
 * long; 10 s at 90 kHz is far below 2^31, past which RTP timestamp order
 * (RFC 3550 5.1, modular) would read as going backwards.
 */
#define PARLEY_SIMULCAST_MAX_GAP_MS   10000

/* a timestamp step longer than one second is a pause, not a frame */
#define PARLEY_SIMULCAST_MAX_FRAME_TS (1000 * PARLEY_SIMULCAST_CLOCK_KHZ)


static int parley_simulcast_present(const parley_simulcast_t *sw,
    uint32_t layer, uint64_t now_ms);
static void parley_simulcast_note_arrival(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt);
static int parley_simulcast_may_switch(const parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt, uint32_t desired);
static void parley_simulcast_switch(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt);
static uint32_t parley_simulcast_ts_gap(const parley_simulcast_t *sw,
    uint64_t arrival_ms);
static parley_simulcast_verdict_t parley_simulcast_pause(
    parley_simulcast_t *sw, const parley_simulcast_packet_t *pkt,
    parley_simulcast_out_t *out);
static parley_simulcast_verdict_t parley_simulcast_map(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt, parley_simulcast_out_t *out);
static void parley_simulcast_advance(parley_simulcast_t *sw, uint64_t ext,
    const parley_simulcast_packet_t *pkt);
static void parley_simulcast_note_ts(parley_simulcast_t *sw, uint32_t ts);
static const parley_simulcast_span_t *parley_simulcast_span_of(
    const parley_simulcast_t *sw, uint64_t ext);
static int parley_simulcast_sent(const parley_simulcast_t *sw, uint64_t ext);
static void parley_simulcast_mark(parley_simulcast_t *sw, uint64_t ext,
    int sent);
static uint64_t parley_simulcast_elapsed(uint64_t now, uint64_t since);


void
parley_simulcast_params_default(parley_simulcast_params_t *params)
{
    /*
     * Browsers send the lowest layer at 7.5 fps or more, a frame every
     * 133 ms at most; a layer with nothing for a second has been dropped
     * by its publisher (bandwidth or CPU), not delayed by the network.
     */
    params->layer_timeout_ms = 1000;

    /*
     * A keyframe costs the publisher several times a normal frame and
     * takes a round trip to come: one request per half second gets a lost
     * request repeated without flooding the publisher.
     */
    params->pli_interval_ms = 500;

    /* 30 fps at 90 kHz, until the stream shows its real frame step */
    params->frame_ts = 3000;
}


parley_rc_t
parley_simulcast_init(parley_simulcast_t *sw,
    const parley_simulcast_params_t *params, uint16_t initial_seq,
    uint32_t initial_ts)
{
    if (sw == NULL) {
        return PARLEY_ERR_INVAL;
    }

    if (params != NULL
        && (params->layer_timeout_ms == 0 || params->frame_ts == 0
            || params->frame_ts > PARLEY_SIMULCAST_MAX_FRAME_TS))
    {
        return PARLEY_ERR_INVAL;
    }

    memset(sw, 0, sizeof(parley_simulcast_t));

    if (params != NULL) {
        sw->params = *params;

    } else {
        parley_simulcast_params_default(&sw->params);
    }

    sw->target = PARLEY_SIMULCAST_LAYERS - 1;
    sw->cap = PARLEY_SIMULCAST_LAYERS - 1;
    sw->current = PARLEY_NONE;
    sw->frame_ts = sw->params.frame_ts;
    sw->initial_seq = initial_seq;
    sw->initial_ts = initial_ts;

    return PARLEY_OK;
}


parley_rc_t
parley_simulcast_set_target(parley_simulcast_t *sw, uint32_t layer)
{
    if (layer >= PARLEY_SIMULCAST_LAYERS && layer != PARLEY_NONE) {
        return PARLEY_ERR_INVAL;
    }

    sw->target = layer;

    return PARLEY_OK;
}


parley_rc_t
parley_simulcast_set_cap(parley_simulcast_t *sw, uint32_t layer)
{
    if (layer >= PARLEY_SIMULCAST_LAYERS && layer != PARLEY_NONE) {
        return PARLEY_ERR_INVAL;
    }

    sw->cap = layer;

    return PARLEY_OK;
}


parley_simulcast_verdict_t
parley_simulcast_packet(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt, parley_simulcast_out_t *out)
{
    uint32_t  desired;

    if (pkt->layer >= PARLEY_SIMULCAST_LAYERS) {
        return PARLEY_SIMULCAST_DROP_INVALID;
    }

    parley_simulcast_note_arrival(sw, pkt);

    desired = parley_simulcast_desired(sw, pkt->arrival_ms);

    if (desired == PARLEY_NONE) {
        return parley_simulcast_pause(sw, pkt, out);
    }

    if (pkt->layer != sw->current
        && parley_simulcast_may_switch(sw, pkt, desired))
    {
        parley_simulcast_switch(sw, pkt);
    }

    if (pkt->layer != sw->current) {
        return PARLEY_SIMULCAST_DROP_LAYER;
    }

    return parley_simulcast_map(sw, pkt, out);
}


int
parley_simulcast_keyframe_request(parley_simulcast_t *sw, uint64_t now_ms,
    uint32_t *layer)
{
    uint32_t  desired;

    desired = parley_simulcast_desired(sw, now_ms);

    if (desired == PARLEY_NONE || desired == sw->current) {
        return 0;
    }

    /* another layer than the one asked for (a new wish): asked at once */
    if (sw->pli_sent
        && sw->pli_layer == desired
        && parley_simulcast_elapsed(now_ms, sw->pli_ms)
           < sw->params.pli_interval_ms)
    {
        return 0;
    }

    parley_simulcast_note_request(sw, desired, now_ms);
    *layer = desired;

    return 1;
}


void
parley_simulcast_note_request(parley_simulcast_t *sw, uint32_t layer,
    uint64_t now_ms)
{
    sw->pli_sent = 1;
    sw->pli_ms = now_ms;
    sw->pli_layer = layer;
}


void
parley_simulcast_forget_request(parley_simulcast_t *sw)
{
    sw->pli_sent = 0;
}


uint32_t
parley_simulcast_current(const parley_simulcast_t *sw)
{
    return sw->current;
}


uint32_t
parley_simulcast_wanted(const parley_simulcast_t *sw)
{
    if (sw->target == PARLEY_NONE || sw->cap == PARLEY_NONE) {
        return PARLEY_NONE;
    }

    return sw->target < sw->cap ? sw->target : sw->cap;
}


/*
 * The target if present, else the nearest present layer below it; if none
 * is below, the nearest above that the cap allows: a larger picture than
 * asked beats none. Never above the cap.
 */
uint32_t
parley_simulcast_desired(const parley_simulcast_t *sw, uint64_t now_ms)
{
    uint32_t  l, limit;

    if (sw->target == PARLEY_NONE || sw->cap == PARLEY_NONE) {
        return PARLEY_NONE;
    }

    limit = sw->target < sw->cap ? sw->target : sw->cap;

    for (l = limit + 1; l-- > 0; /* void */ ) {
        if (parley_simulcast_present(sw, l, now_ms)) {
            return l;
        }
    }

    for (l = limit + 1; l <= sw->cap; l++) {
        if (parley_simulcast_present(sw, l, now_ms)) {
            return l;
        }
    }

    return PARLEY_NONE;
}


parley_rc_t
parley_simulcast_nack(const parley_simulcast_t *sw, uint16_t seq,
    uint32_t *layer, uint16_t *in_seq)
{
    int32_t                         d;
    uint64_t                        ext;
    const parley_simulcast_span_t  *span;

    if (!sw->forwarded) {
        return PARLEY_ERR_NOT_FOUND;
    }

    d = (int16_t) (uint16_t) (seq - (uint16_t) sw->max_ext);

    if (d > 0 || d <= -PARLEY_SIMULCAST_HISTORY) {
        return PARLEY_ERR_NOT_FOUND;
    }

    ext = (uint64_t) ((int64_t) sw->max_ext + d);
    span = parley_simulcast_span_of(sw, ext);

    if (span == NULL) {
        return PARLEY_ERR_NOT_FOUND;
    }

    *layer = span->layer;
    *in_seq = (uint16_t) (seq - span->seq_offset);

    return PARLEY_OK;
}


parley_rc_t
parley_simulcast_map_ts(const parley_simulcast_t *sw, uint32_t layer,
    uint32_t ts, uint32_t *out_ts)
{
    if (sw->current == PARLEY_NONE || layer != sw->current) {
        return PARLEY_ERR_NOT_FOUND;
    }

    *out_ts = ts + sw->ts_offset;

    return PARLEY_OK;
}


static int
parley_simulcast_present(const parley_simulcast_t *sw, uint32_t layer,
    uint64_t now_ms)
{
    const parley_simulcast_layer_t  *l;

    l = &sw->layer[layer];

    return l->seen
           && parley_simulcast_elapsed(now_ms, l->last_ms)
              < sw->params.layer_timeout_ms;
}


static void
parley_simulcast_note_arrival(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt)
{
    parley_simulcast_layer_t  *l;

    /*
     * Padding-only packets (RFC 3550 5.1, the P bit) probe bandwidth and
     * may keep coming on a layer its publisher stopped encoding: only
     * media says a layer is there.
     */
    if (pkt->size == 0) {
        return;
    }

    l = &sw->layer[pkt->layer];
    l->seen = 1;

    if (pkt->arrival_ms > l->last_ms) {
        l->last_ms = pkt->arrival_ms;
    }
}


/* whether this packet, of a layer other than the current one, starts it */
static int
parley_simulcast_may_switch(const parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt, uint32_t desired)
{
    /* a decoder can join a stream only at a keyframe */
    if (!pkt->keyframe_start || pkt->size == 0) {
        return 0;
    }

    if (pkt->layer == desired) {
        return 1;
    }

    /*
     * Nothing flows (first packets, after a pause, or the current layer
     * stopped): a keyframe of a lower layer brings the picture back
     * sooner, and the switch up follows at the desired layer's keyframe.
     * Never a higher one: that would cost the subscriber's link more than
     * it asked for.
     */
    return pkt->layer < desired
           && (sw->current == PARLEY_NONE
               || !parley_simulcast_present(sw, sw->current,
                                            pkt->arrival_ms));
}


/*
 * Opens a span at the keyframe "pkt": its first packet takes the seq after
 * the highest sent, and a timestamp one frame, or the time that passed,
 * after the newest sent.
 */
static void
parley_simulcast_switch(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt)
{
    uint32_t                  out_ts;
    uint64_t                  ext;
    parley_simulcast_span_t  *span;

    if (sw->forwarded) {
        ext = sw->max_ext + 1;
        out_ts = sw->max_out_ts + parley_simulcast_ts_gap(sw, pkt->arrival_ms);

    } else {
        ext = PARLEY_SIMULCAST_EXT_BASE + sw->initial_seq;
        out_ts = sw->initial_ts;
    }

    span = &sw->span[sw->spans % PARLEY_SIMULCAST_SPANS];
    sw->spans++;

    span->start = ext;
    span->layer = pkt->layer;
    span->seq_offset = (uint16_t) (ext - pkt->seq);

    sw->current = pkt->layer;
    sw->ts_offset = out_ts - pkt->ts;
    sw->max_out_ts = out_ts;

    /* the keyframe's packet becomes the next highest, one above this */
    sw->max_ext = ext - 1;
}


static uint32_t
parley_simulcast_ts_gap(const parley_simulcast_t *sw, uint64_t arrival_ms)
{
    uint64_t  ms, gap;

    ms = parley_simulcast_elapsed(arrival_ms, sw->max_arrival_ms);

    if (ms > PARLEY_SIMULCAST_MAX_GAP_MS) {
        ms = PARLEY_SIMULCAST_MAX_GAP_MS;
    }

    gap = ms * PARLEY_SIMULCAST_CLOCK_KHZ;

    return (uint32_t) (gap > sw->frame_ts ? gap : sw->frame_ts);
}


/*
 * No layer is wanted (or none is present). The frame being sent is
 * finished first, so that the subscriber is not left holding half a frame;
 * after that the current layer is given up, and the next layer to flow
 * starts at a keyframe.
 */
static parley_simulcast_verdict_t
parley_simulcast_pause(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt, parley_simulcast_out_t *out)
{
    parley_simulcast_verdict_t  v;

    if (sw->current == PARLEY_NONE || pkt->layer != sw->current) {
        return PARLEY_SIMULCAST_DROP_PAUSED;
    }

    if (!sw->frame_open || pkt->ts + sw->ts_offset != sw->max_out_ts) {
        sw->current = PARLEY_NONE;
        return PARLEY_SIMULCAST_DROP_PAUSED;
    }

    v = parley_simulcast_map(sw, pkt, out);

    if (!sw->frame_open) {
        sw->current = PARLEY_NONE;
    }

    return v;
}


/* forwards a packet of the current layer, unless stale or a duplicate */
static parley_simulcast_verdict_t
parley_simulcast_map(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt, parley_simulcast_out_t *out)
{
    int32_t                         d;
    uint16_t                        seq;
    uint64_t                        ext;
    const parley_simulcast_span_t  *span;

    span = &sw->span[(sw->spans - 1) % PARLEY_SIMULCAST_SPANS];

    seq = (uint16_t) (pkt->seq + span->seq_offset);

    /* RFC 3550 A.1: distance in modular order, at most 2^15 either way */
    d = (int16_t) (uint16_t) (seq - (uint16_t) sw->max_ext);
    ext = (uint64_t) ((int64_t) sw->max_ext + d);

    if (ext < span->start || d <= -PARLEY_SIMULCAST_HISTORY) {
        return PARLEY_SIMULCAST_DROP_STALE;
    }

    if (d > 0) {
        parley_simulcast_advance(sw, ext, pkt);

    } else if (parley_simulcast_sent(sw, ext)) {
        return PARLEY_SIMULCAST_DROP_DUPLICATE;
    }

    parley_simulcast_mark(sw, ext, 1);
    parley_simulcast_note_ts(sw, pkt->ts + sw->ts_offset);

    sw->forwarded = 1;
    out->seq = seq;
    out->ts = pkt->ts + sw->ts_offset;

    return PARLEY_SIMULCAST_FORWARD;
}


/*
 * "ext" is the new highest: the seqs skipped on the way are unsent. At most
 * HISTORY bits are touched, however large the jump.
 */
static void
parley_simulcast_advance(parley_simulcast_t *sw, uint64_t ext,
    const parley_simulcast_packet_t *pkt)
{
    uint64_t  e;

    if (ext - sw->max_ext >= PARLEY_SIMULCAST_HISTORY) {
        memset(sw->sent, 0, sizeof(sw->sent));

    } else {
        for (e = sw->max_ext + 1; e < ext; e++) {
            parley_simulcast_mark(sw, e, 0);
        }
    }

    sw->max_ext = ext;
    sw->max_arrival_ms = pkt->arrival_ms;
    sw->frame_open = !pkt->marker;
}


/* keeps the newest outgoing timestamp, and the step between frames */
static void
parley_simulcast_note_ts(parley_simulcast_t *sw, uint32_t ts)
{
    uint32_t  step;

    step = ts - sw->max_out_ts;

    if ((int32_t) step <= 0) {
        return;
    }

    if (step <= PARLEY_SIMULCAST_MAX_FRAME_TS) {
        sw->frame_ts = step;
    }

    sw->max_out_ts = ts;
}


/* the newest span that starts at or before "ext", among those kept */
static const parley_simulcast_span_t *
parley_simulcast_span_of(const parley_simulcast_t *sw, uint64_t ext)
{
    uint64_t                        i, kept;
    const parley_simulcast_span_t  *span;

    kept = sw->spans < PARLEY_SIMULCAST_SPANS ? sw->spans
                                              : PARLEY_SIMULCAST_SPANS;

    for (i = 1; i <= kept; i++) {
        span = &sw->span[(sw->spans - i) % PARLEY_SIMULCAST_SPANS];

        if (ext >= span->start) {
            return span;
        }
    }

    return NULL;
}


static int
parley_simulcast_sent(const parley_simulcast_t *sw, uint64_t ext)
{
    uint64_t  bit;

    bit = ext % PARLEY_SIMULCAST_HISTORY;

    return (sw->sent[bit / 64] >> (bit % 64)) & 1;
}


static void
parley_simulcast_mark(parley_simulcast_t *sw, uint64_t ext, int sent)
{
    uint64_t  bit, mask;

    bit = ext % PARLEY_SIMULCAST_HISTORY;
    mask = (uint64_t) 1 << (bit % 64);

    if (sent) {
        sw->sent[bit / 64] |= mask;

    } else {
        sw->sent[bit / 64] &= ~mask;
    }
}


/* time must not go backwards; if it does, no time has passed */
static uint64_t
parley_simulcast_elapsed(uint64_t now, uint64_t since)
{
    return now > since ? now - since : 0;
}
