/*
 * Simulcast layer switching for one subscriber of one video track.
 *
 * The publisher sends up to three encodings of the same picture (layer 0
 * low, 1 mid, 2 high), each with its own SSRC, sequence numbers, timestamps
 * and timestamp origin. The subscriber receives one stream: the switcher
 * sees every packet of every layer and says, for each, forward (with the
 * outgoing sequence number and timestamp) or drop.
 *
 * The outgoing stream stays one clean RTP stream (RFC 3550 5.1):
 *
 *   - the switch to another layer happens only at the first packet of a
 *     keyframe of that layer, the one point where a decoder can join it;
 *     until then the old layer keeps flowing;
 *   - within a layer, outgoing = incoming + a constant offset, so a packet
 *     lost upstream stays a gap that the subscriber NACKs, and reordered
 *     packets take the place they had;
 *   - across a switch the sequence continues at the highest outgoing + 1
 *     and the timestamp moves on by the time that passed (at least one
 *     frame), so both stay monotonic;
 *   - duplicates, packets of the old layer after the switch and packets of
 *     the new layer older than its keyframe are dropped.
 *
 * Which layer: the subscriber's target (high for the large window, low for
 * a thumbnail, or none), never above the cap (set from the bandwidth
 * estimate). A layer counts as present while its media keeps arriving; if
 * the target is not present the nearest lower one is used, and if the
 * layer being forwarded stops, the switcher moves to the best present one
 * at its next keyframe; while nothing flows, a keyframe of a lower layer
 * starts the picture sooner. parley_simulcast_keyframe_request() says
 * when to send a PLI (RFC 4585 6.3.1) for the layer it waits for: at once
 * for a new target or another layer, then once per pli_interval_ms.
 *
 * All state is in parley_simulcast_t, which the caller embeds: no
 * allocation, no I/O, no clock (times are passed in, in milliseconds), and
 * O(1) per packet.
 */

#ifndef _PARLEY_SIMULCAST_H_INCLUDED_
#define _PARLEY_SIMULCAST_H_INCLUDED_


#include "parley_shm.h"


#define PARLEY_SIMULCAST_LAYERS     3
#define PARLEY_SIMULCAST_HISTORY    1024   /* outgoing seqs a NACK reaches */
#define PARLEY_SIMULCAST_SPANS      16     /* layer switches a NACK reaches */

/* RFC 7741 4.1 (VP8), RFC 6184 5.1 (H.264): video RTP clocks run at 90 kHz */
#define PARLEY_SIMULCAST_CLOCK_KHZ  90


typedef enum {
    PARLEY_SIMULCAST_FORWARD = 0,
    PARLEY_SIMULCAST_DROP_LAYER,       /* not the layer being forwarded */
    PARLEY_SIMULCAST_DROP_PAUSED,      /* no layer wanted or present */
    PARLEY_SIMULCAST_DROP_DUPLICATE,
    PARLEY_SIMULCAST_DROP_STALE,       /* before the switch, or too old */
    PARLEY_SIMULCAST_DROP_INVALID      /* layer out of range */
} parley_simulcast_verdict_t;


/* What the caller knows of one incoming packet. */
typedef struct {
    uint32_t  layer;                   /* 0 .. PARLEY_SIMULCAST_LAYERS - 1 */
    uint16_t  seq;
    uint32_t  ts;
    unsigned  marker;                  /* last packet of a frame */
    unsigned  keyframe_start;          /* first packet of a keyframe */
    uint32_t  size;                    /* payload bytes; 0: padding only */
    uint64_t  arrival_ms;
} parley_simulcast_packet_t;


typedef struct {
    uint16_t  seq;
    uint32_t  ts;
} parley_simulcast_out_t;


/* Tuning; parley_simulcast_params_default() explains the values. */
typedef struct {
    uint32_t  layer_timeout_ms;        /* 1000 */
    uint32_t  pli_interval_ms;         /* 500 */
    uint32_t  frame_ts;                /* 3000: first guess of one frame */
} parley_simulcast_params_t;


/* The rest is private to parley_simulcast.c; sizes are for embedding. */

typedef struct {
    uint64_t  last_ms;                 /* arrival of its newest media */
    uint32_t  seen;
} parley_simulcast_layer_t;


/* A run of outgoing sequence numbers taken from one layer. */
typedef struct {
    uint64_t  start;                   /* extended outgoing seq, first */
    uint32_t  layer;
    uint16_t  seq_offset;              /* outgoing - incoming, mod 2^16 */
} parley_simulcast_span_t;


typedef struct {
    parley_simulcast_params_t  params;
    parley_simulcast_layer_t   layer[PARLEY_SIMULCAST_LAYERS];
    parley_simulcast_span_t    span[PARLEY_SIMULCAST_SPANS];
    uint64_t                   spans;           /* ever opened */
    uint64_t                   max_ext;         /* highest outgoing seq */
    uint64_t                   max_arrival_ms;  /* when it arrived */
    uint64_t                   pli_ms;
    uint32_t                   pli_layer;       /* asked for at pli_ms */
    uint32_t                   target;
    uint32_t                   cap;
    uint32_t                   current;         /* layer forwarded */
    uint32_t                   ts_offset;       /* outgoing - incoming */
    uint32_t                   max_out_ts;      /* newest outgoing ts */
    uint32_t                   frame_ts;        /* ts step of one frame */
    uint32_t                   initial_ts;
    uint16_t                   initial_seq;
    uint8_t                    forwarded;       /* anything went out */
    uint8_t                    frame_open;      /* no marker yet */
    uint8_t                    pli_sent;
    uint64_t                   sent[PARLEY_SIMULCAST_HISTORY / 64];
} parley_simulcast_t;


void parley_simulcast_params_default(parley_simulcast_params_t *params);

/*
 * Starts a switcher that forwards nothing yet, with target and cap at the
 * highest layer. The first packet out gets "initial_seq" and "initial_ts"
 * (random, RFC 3550 5.1). "params" may be NULL for the defaults.
 * PARLEY_ERR_INVAL for bad parameters.
 */
parley_rc_t parley_simulcast_init(parley_simulcast_t *sw,
    const parley_simulcast_params_t *params, uint16_t initial_seq,
    uint32_t initial_ts);

/*
 * The layer the subscriber asks for, or PARLEY_NONE for no video (a
 * hidden window). PARLEY_ERR_INVAL for anything else.
 */
parley_rc_t parley_simulcast_set_target(parley_simulcast_t *sw,
    uint32_t layer);

/*
 * The highest layer the subscriber's bandwidth allows, or PARLEY_NONE for
 * none at all. PARLEY_ERR_INVAL for anything else.
 */
parley_rc_t parley_simulcast_set_cap(parley_simulcast_t *sw, uint32_t layer);

/*
 * Decides for one incoming packet; on PARLEY_SIMULCAST_FORWARD fills *out
 * with the outgoing sequence number and timestamp.
 */
parley_simulcast_verdict_t parley_simulcast_packet(parley_simulcast_t *sw,
    const parley_simulcast_packet_t *pkt, parley_simulcast_out_t *out);

/*
 * Returns 1 and sets *layer when a keyframe request should go to that
 * layer's SSRC now: a switch waits for its keyframe and no request went
 * out in the last pli_interval_ms. Call it after packets or from a timer.
 */
int parley_simulcast_keyframe_request(parley_simulcast_t *sw,
    uint64_t now_ms, uint32_t *layer);

/*
 * A keyframe of "layer" was asked for at now_ms by other means (when the
 * connection became secure): keyframe_request() counts it as its own.
 */
void parley_simulcast_note_request(parley_simulcast_t *sw, uint32_t layer,
    uint64_t now_ms);

/*
 * The request keyframe_request() said to send could not be sent (the
 * caller's own limits): it is due again at the next call.
 */
void parley_simulcast_forget_request(parley_simulcast_t *sw);

/* The layer being forwarded, PARLEY_NONE if none. */
uint32_t parley_simulcast_current(const parley_simulcast_t *sw);

/* The layer the switcher wants at "now_ms", PARLEY_NONE if none. */
uint32_t parley_simulcast_desired(const parley_simulcast_t *sw,
    uint64_t now_ms);

/*
 * The layer it would want if every layer arrived: the target within the
 * cap, PARLEY_NONE for none. What to ask a keyframe of before the first
 * packet says which layers the publisher sends.
 */
uint32_t parley_simulcast_wanted(const parley_simulcast_t *sw);

/*
 * For a NACK (RFC 4585 6.2.1): the layer and incoming sequence number of
 * outgoing "seq", if it is among the last PARLEY_SIMULCAST_HISTORY and
 * within the last PARLEY_SIMULCAST_SPANS layer switches; a seq that was
 * lost upstream maps too, so that a retransmission can be looked for.
 * PARLEY_ERR_NOT_FOUND otherwise.
 */
parley_rc_t parley_simulcast_nack(const parley_simulcast_t *sw, uint16_t seq,
    uint32_t *layer, uint16_t *in_seq);

/*
 * Maps an RTP timestamp of "layer" (a sender report's, RFC 3550 6.4.1) to
 * the outgoing stream. PARLEY_ERR_NOT_FOUND unless the layer is the one
 * being forwarded.
 */
parley_rc_t parley_simulcast_map_ts(const parley_simulcast_t *sw,
    uint32_t layer, uint32_t ts, uint32_t *out_ts);


#endif /* _PARLEY_SIMULCAST_H_INCLUDED_ */
