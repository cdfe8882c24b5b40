/*
 * Transport-wide congestion control feedback, receiver side
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01).
 *
 * One recorder per publisher peer connection: every RTP packet that carries
 * the transport-wide sequence number extension (read it with
 * parley_rtp_ext_twcc_seq()) is recorded with its arrival time, and every
 * ~100 ms parley_twcc_build() turns what arrived since the last feedback
 * into RTPFB FMT=15 packets (parley_rtcp_build_twcc()) so that the
 * browser's sender-side estimator adapts its bitrate.
 *
 * The 16-bit sequence numbers are unwrapped to 64 bits. Late packets fill
 * their place until it is reported; what arrives after its place was
 * reported is counted and dropped (the draft's sender has already taken it
 * as lost). Gaps are reported as "not received" by the builder. A feedback
 * starts at the first received packet not yet reported, so a packet lost
 * just before it is never reported either way: the sender's history
 * forgets it, which errs towards fewer losses, never invented ones.
 *
 * Times are microseconds on a monotonic clock. Fixed-size state, no
 * allocation, no I/O.
 */

#ifndef _PARLEY_TWCC_H_INCLUDED_
#define _PARLEY_TWCC_H_INCLUDED_


#include "parley_rtcp.h"


#define PARLEY_TWCC_WINDOW          1024   /* packets kept, a power of two */
#define PARLEY_TWCC_MAX_PER_FB      256    /* received packets per feedback */
#define PARLEY_TWCC_MAX_FB_PER_CALL 4      /* feedback packets per build */
#define PARLEY_TWCC_INTERVAL_US     100000 /* libwebrtc's default cadence */

/*
 * Consecutive arrivals further apart than this start a new feedback: the
 * 16-bit delta holds +-8.19 s (draft 3.1.5).
 */
#define PARLEY_TWCC_MAX_GAP_US      8000000


typedef struct {
    uint64_t                    ext_seq_1;     /* ext seq + 1; 0: empty */
    int64_t                     arrival_us;
} parley_twcc_slot_t;


typedef struct {
    uint32_t                    sender_ssrc;
    uint32_t                    media_ssrc;    /* of the newest packet */
    uint64_t                    interval_us;
    uint64_t                    last_fb_us;
    uint64_t                    begin;         /* first ext seq to report */
    uint64_t                    highest;       /* highest ext seq recorded */
    uint64_t                    recorded;
    uint64_t                    late;          /* after their feedback */
    uint64_t                    overrun;       /* lost to a full window */
    uint8_t                     fb_count;      /* draft 3.1: wraps */
    unsigned                    started:1;
    unsigned                    reported:1;    /* a feedback went out */
    parley_twcc_slot_t          slot[PARLEY_TWCC_WINDOW];
    parley_rtcp_twcc_arrival_t  scratch[PARLEY_TWCC_MAX_PER_FB];
} parley_twcc_t;


/*
 * sender_ssrc: the SFU's SSRC towards this publisher; interval_us 0 means
 * PARLEY_TWCC_INTERVAL_US.
 */
void parley_twcc_init(parley_twcc_t *t, uint32_t sender_ssrc,
    uint64_t interval_us);

/*
 * Records one arrival. Returns 1 when recorded, 0 for a duplicate or a
 * packet whose place was already reported. A jump back by more than the
 * window (the sender restarted its numbering) starts the recorder afresh.
 */
int parley_twcc_on_packet(parley_twcc_t *t, uint32_t media_ssrc,
    uint16_t twcc_seq, uint64_t now_us);

/* 1 when arrivals wait and the interval has passed (or the window fills). */
int parley_twcc_due(const parley_twcc_t *t, uint64_t now_us);

/* When parley_twcc_due() turns true, for the caller's timer; 0: nothing. */
uint64_t parley_twcc_next_us(const parley_twcc_t *t);

/*
 * Appends feedback packets for the waiting arrivals, each within what the
 * writer has left, up to PARLEY_TWCC_MAX_FB_PER_CALL. PARLEY_RTP_OK when
 * at least one was written, PARLEY_RTP_DONE when nothing waits,
 * PARLEY_RTP_ERR_NOSPACE when not even one fits. Arrivals that did not fit
 * stay for the next call.
 */
parley_rtp_rc_t parley_twcc_build(parley_twcc_t *t, parley_rtcp_writer_t *w,
    uint64_t now_us);


#endif /* _PARLEY_TWCC_H_INCLUDED_ */
