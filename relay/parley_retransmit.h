/*
 * Answering a subscriber's NACK (RFC 4585 6.2.1) from the track's ring,
 * as RTX (RFC 4588) where the leg negotiated it.
 *
 * The ring (shm/parley_ring.h) numbers packets by its own 64-bit sequence;
 * a NACK names RTP sequence numbers. To find one, the ring's writer stores
 * with each packet a "meta" word in this layout:
 *
 *   bits  0..47  extended RTP sequence number of the packet's stream: the
 *                16-bit number with the count of its wraps above it (RFC
 *                3550 A.1), from parley_retransmit_extend();
 *   bits 48..51  the stream within the track: the simulcast layer
 *                (0 for a track of one stream);
 *   bits 52..55  flags: PARLEY_RETRANSMIT_F_KEYFRAME on a keyframe's
 *                first packet, the rest 0;
 *   bits 56..63  kind: PARLEY_RETRANSMIT_KIND_RTP for a media packet;
 *                other kinds (none yet) are never returned for a NACK.
 *
 * Each worker that reads the ring notes every packet it reads into a
 * parley_retransmit_index_t (O(1): the ring sequence by layer and RTP
 * sequence number), and looks NACK'd numbers up there: one ring read,
 * then the packet's meta and RTP header must agree with what was asked,
 * or it is not returned. When the index has no entry it guesses from the
 * layer's newest packet and probes at most PARLEY_RETRANSMIT_MAX_PROBES
 * ring slots, with the same check. Loss upstream, reordering, late
 * retransmissions and other layers in between make the guess miss, never
 * the answer wrong: it is either the packet asked for or
 * PARLEY_ERR_NOT_FOUND.
 *
 * A NACK storm must not become a retransmission storm: a per-leg
 * parley_retransmit_limiter_t refuses a number sent again within an RTT,
 * and retransmitted bytes above a token-bucket rate. Ask it before the
 * lookup (parley_retransmit_admit()) and charge it after sending
 * (parley_retransmit_sent()).
 *
 * The glue, for each number of a subscriber's NACK on a leg:
 *
 *   1. the leg's number to the publisher's: parley_simulcast_nack() or
 *      minus the leg's sequence offset, which gives layer and seq;
 *   2. parley_retransmit_admit(), else skip;
 *   3. parley_retransmit_find() into a slot-sized buffer;
 *   4. parley_forward_rewrite() with the NACK'd leg number as out_seq (and
 *      the leg's timestamp, a fresh transport-wide seq);
 *   5. with RTX negotiated parley_retransmit_wrap_rtx() with the leg's RTX
 *      PT, RTX SSRC and the leg's RTX sequence counter; else send as is;
 *   6. protect, send, parley_retransmit_sent().
 *
 * No allocation, no I/O; times are microseconds on a monotonic clock.
 */

#ifndef _PARLEY_RETRANSMIT_H_INCLUDED_
#define _PARLEY_RETRANSMIT_H_INCLUDED_


#include "parley_rtp.h"
#include "parley_ring.h"


#define PARLEY_RETRANSMIT_LAYERS       3       /* as PARLEY_SIMULCAST_LAYERS */
#define PARLEY_RETRANSMIT_HISTORY      1024    /* numbers per layer indexed */
#define PARLEY_RETRANSMIT_MAX_PROBES   12

#define PARLEY_RETRANSMIT_SEQ_MASK     0xffffffffffffULL   /* 48 bits */
#define PARLEY_RETRANSMIT_KIND_RTP     0
#define PARLEY_RETRANSMIT_F_KEYFRAME   0x1

/* a number sent again within this is refused, whatever the RTT says */
#define PARLEY_RETRANSMIT_MIN_RESEND_US  10000
#define PARLEY_RETRANSMIT_RECENT       256     /* numbers remembered, 2^n */


/* The writer's state, per track: the extended numbers of each layer. */
typedef struct {
    uint64_t   highest[PARLEY_RETRANSMIT_LAYERS];
    uint8_t    started[PARLEY_RETRANSMIT_LAYERS];
} parley_retransmit_seq_t;


/* A reader's index of one track's ring; one per worker and track. */
typedef struct {
    uint64_t   highest_ext[PARLEY_RETRANSMIT_LAYERS];  /* 0: none noted */
    uint64_t   highest_ring[PARLEY_RETRANSMIT_LAYERS];
    uint32_t   ring_lo[PARLEY_RETRANSMIT_LAYERS][PARLEY_RETRANSMIT_HISTORY];
} parley_retransmit_index_t;


typedef struct {
    uint16_t   seq;
    uint64_t   sent_us;                /* 0: empty */
} parley_retransmit_recent_t;


/* Per leg. */
typedef struct {
    uint64_t                    rate;          /* bytes per second */
    uint64_t                    burst;         /* bytes */
    int64_t                     tokens;        /* bytes, may go negative */
    uint64_t                    last_us;
    uint64_t                    sent;          /* packets, in total */
    uint64_t                    refused_rate;
    uint64_t                    refused_repeat;
    parley_retransmit_recent_t  recent[PARLEY_RETRANSMIT_RECENT];
} parley_retransmit_limiter_t;


static inline uint64_t
parley_retransmit_meta(uint64_t ext_seq, uint32_t layer, unsigned flags)
{
    return (ext_seq & PARLEY_RETRANSMIT_SEQ_MASK)
           | ((uint64_t) (layer & 0xf) << 48)
           | ((uint64_t) (flags & 0xf) << 52)
           | ((uint64_t) PARLEY_RETRANSMIT_KIND_RTP << 56);
}


static inline uint64_t
parley_retransmit_meta_seq(uint64_t meta)
{
    return meta & PARLEY_RETRANSMIT_SEQ_MASK;
}


static inline uint32_t
parley_retransmit_meta_layer(uint64_t meta)
{
    return (uint32_t) (meta >> 48) & 0xf;
}


static inline unsigned
parley_retransmit_meta_flags(uint64_t meta)
{
    return (unsigned) (meta >> 52) & 0xf;
}


static inline unsigned
parley_retransmit_meta_kind(uint64_t meta)
{
    return (unsigned) (meta >> 56);
}


void parley_retransmit_seq_init(parley_retransmit_seq_t *w);

/*
 * Writer: the extended number of "seq" on "layer" (the nearest to that
 * layer's highest so far, RFC 1982 style), for parley_retransmit_meta().
 * The first number of a layer starts at 2^16 + seq, so that late ones
 * before it still extend. UINT64_MAX for a layer out of range.
 */
uint64_t parley_retransmit_extend(parley_retransmit_seq_t *w, uint32_t layer,
    uint16_t seq);

void parley_retransmit_index_init(parley_retransmit_index_t *idx);

/* Reader: every packet read from the ring, with its ring sequence. */
void parley_retransmit_index_note(parley_retransmit_index_t *idx,
    uint64_t ring_seq, uint64_t meta);

/*
 * Copies into "buf" (at least parley_ring_slot_size() bytes) the packet
 * of "layer" with RTP sequence number "seq", and sets *len and, if not
 * NULL, *ring_seq. PARLEY_ERR_NOT_FOUND when it is not in the ring (never
 * written, overwritten, or newer than anything noted), PARLEY_ERR_INVAL
 * for a bad layer or a small buffer.
 */
parley_rc_t parley_retransmit_find(const parley_ring_t *ring,
    const parley_retransmit_index_t *idx, uint32_t layer, uint16_t seq,
    uint8_t *buf, uint32_t cap, uint32_t *len, uint64_t *ring_seq);

/*
 * Wraps a packet as the leg sends it (after parley_forward_rewrite()) into
 * an RTX packet (RFC 4588 4) with rtx_pt, rtx_ssrc and *rtx_seq, which is
 * incremented on success. Errors as parley_rtp_rtx_wrap().
 */
parley_rtp_rc_t parley_retransmit_wrap_rtx(const uint8_t *pkt, size_t len,
    uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t *rtx_seq, uint8_t *out,
    size_t cap, size_t *out_len);

/*
 * rate: retransmitted bytes per second allowed on the leg (say a quarter
 * of its bitrate); burst: bytes allowed at once. PARLEY_ERR_INVAL for 0.
 */
parley_rc_t parley_retransmit_limiter_init(parley_retransmit_limiter_t *lim,
    uint64_t rate, uint64_t burst);

/*
 * 1 when the leg's number "seq" may be sent again now: the bucket is not
 * empty and the number was not sent within max(rtt_us,
 * PARLEY_RETRANSMIT_MIN_RESEND_US) (rtt_us 0: not known). Counts refusals.
 */
int parley_retransmit_admit(parley_retransmit_limiter_t *lim, uint16_t seq,
    uint64_t now_us, uint64_t rtt_us);

/* After sending "bytes" for "seq": charges the bucket, remembers seq. */
void parley_retransmit_sent(parley_retransmit_limiter_t *lim, uint16_t seq,
    size_t bytes, uint64_t now_us);


#endif /* _PARLEY_RETRANSMIT_H_INCLUDED_ */
