/*
 * A leg: one track of someone else's as one subscribe connection receives
 * it (the subscriber side of the router, as mediasoup's Consumer is).
 *
 * For each packet of the track the leg decides whether it goes to this
 * subscriber (the simulcast switcher's layer, a single stream's
 * renumbering, a pause for bandwidth, the byte budget) and writes what
 * the subscriber receives into the caller's buffer: the header rewritten
 * for the leg's SDP, or, for a NACK'd number, a retransmission on the
 * leg's RTX stream. The caller protects and sends it, and says so
 * (parley_leg_sent(), parley_leg_resent()): only what went out counts in
 * the leg's sender reports and against its retransmission limiter.
 *
 * No I/O, no nginx, no shared memory: a keyframe the leg needs is asked
 * for through the keyframe callback, which knows the track's publisher.
 */

#ifndef _PARLEY_LEG_H_INCLUDED_
#define _PARLEY_LEG_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "parley_budget.h"
#include "parley_forward.h"
#include "parley_renumber.h"
#include "parley_retransmit.h"
#include "parley_rtcp_send.h"
#include "parley_rtp.h"
#include "parley_simulcast.h"


typedef struct parley_leg_s  parley_leg_t;

/*
 * Asks the track's publisher for a keyframe of "layer" (PARLEY_NONE: of
 * whatever the leg wants now); 1 when asked, 0 when held back (too soon
 * after the last request).
 */
typedef int (*parley_leg_keyframe_pt)(parley_leg_t *leg, uint32_t layer);


typedef enum {
    PARLEY_LEG_SEND = 0,               /* out holds the packet to send */
    PARLEY_LEG_HOLD,                   /* not for the leg now: another
                                          layer, a pause, a duplicate */
    PARLEY_LEG_OVER_BUDGET,            /* past the leg's byte budget */
    PARLEY_LEG_MISSED,                 /* a NACK'd number the leg cannot
                                          trace back, or no RTX stream */
    PARLEY_LEG_LIMITED,                /* resent too soon, or too much */
    PARLEY_LEG_ERROR                   /* the rewrite failed: malformed
                                          input, no room */
} parley_leg_rc_t;


/* A packet of the track, parsed once by the caller for every leg. */
typedef struct {
    const uint8_t               *buf;
    size_t                       len;
    const parley_rtp_header_t   *h;
    uint32_t                     layer;        /* simulcast encoding */
    unsigned                     keyframe:1;   /* starts a keyframe */
} parley_leg_packet_t;


/*
 * Where a NACK'd number of the leg came from: the caller fetches that
 * packet (the track's ring) and hands it to parley_leg_resend().
 */
typedef struct {
    uint16_t                     seq;          /* the leg's number */
    uint32_t                     layer;
    uint16_t                     in_seq;       /* the publisher's */
} parley_leg_nack_t;


struct parley_leg_s {
    parley_forward_map_t          map;
    parley_simulcast_t            sw;           /* simulcast */
    parley_renumber_t             rn;           /* a single stream */
    parley_budget_t               budget;       /* what it may be sent */
    parley_rtcp_send_t            sr;           /* RFC 3550 6.4.1 */
    parley_retransmit_limiter_t  *limiter;      /* video only, or NULL */
    uint32_t                      rtx_ssrc;     /* 0: no RTX stream */
    uint8_t                       rtx_pt;
    uint16_t                      rtx_seq;
    parley_leg_keyframe_pt        keyframe;
    void                         *data;         /* the caller's */
    uint32_t                      sent_ts;      /* of the last SEND */
    unsigned                      simulcast:1;
    unsigned                      paused:1;     /* for bandwidth */
    unsigned                      resuming:1;   /* one stream, back from a
                                                   pause: from a keyframe */
};


/*
 * One packet of the track, now_ms its arrival: on PARLEY_LEG_SEND the
 * leg's packet is in out[0 .. *out_len) (at most cap bytes; leave the
 * SRTP trailer's room after it) and *twcc says whether it carries
 * twcc_seq (PARLEY_FORWARD_TWCC_NONE: the leg has none).
 */
parley_leg_rc_t parley_leg_forward(parley_leg_t *leg,
    const parley_leg_packet_t *p, uint64_t now_ms, uint32_t twcc_seq,
    uint8_t *out, size_t cap, size_t *out_len, int *twcc);

/* The packet of the last PARLEY_LEG_SEND of parley_leg_forward() went out:
 * its payload counts in the leg's sender reports (RFC 3550 6.4.1). */
void parley_leg_sent(parley_leg_t *leg, size_t payload_len,
    uint64_t now_ms);

/*
 * A NACK of the leg's number "seq": PARLEY_LEG_SEND with *nack filled
 * when the packet may be resent now (fetch it, then parley_leg_resend()),
 * PARLEY_LEG_MISSED when it cannot be traced back or the leg has no RTX
 * stream, PARLEY_LEG_LIMITED when the limiter says not now.
 */
parley_leg_rc_t parley_leg_nack(parley_leg_t *leg, uint16_t seq,
    uint64_t now_us, parley_leg_nack_t *nack);

/*
 * The packet of *nack, found: rewritten as the leg first sent it, then
 * wrapped as RTX on the leg's own RTX numbers (the leg never protects a
 * number twice, RFC 3711 9.1, RFC 4588 4). Out and the rest as for
 * parley_leg_forward().
 */
parley_leg_rc_t parley_leg_resend(parley_leg_t *leg,
    const parley_leg_nack_t *nack, const parley_leg_packet_t *p,
    uint64_t now_ms, uint32_t twcc_seq, uint8_t *out, size_t cap,
    size_t *out_len, int *twcc);

/* The retransmission of *nack, "len" bytes, went out: the limiter counts
 * it, and will not resend the number again within the resend gap. */
void parley_leg_resent(parley_leg_t *leg, const parley_leg_nack_t *nack,
    size_t len, uint64_t now_us);


#endif /* _PARLEY_LEG_H_INCLUDED_ */
