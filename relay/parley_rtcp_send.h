/*
 * Sender reports for one forwarded stream (a leg: one track towards one
 * subscriber), and what the subscriber's receiver reports say about it
 * (RFC 3550 6.4).
 *
 * The SFU is the sender of every leg, so each leg needs its own SR: its
 * packet and octet counts, and an NTP time with the leg's RTP timestamp of
 * the same instant, which is what the subscriber's browser uses to put the
 * audio and video of one publisher in sync (RFC 3550 6.4.1). For that the
 * NTP timeline must be the publisher's, shared by all its streams: with a
 * publisher SR known (parley_rtcp_send_set_source()) the leg's SR is that
 * SR moved forward by the time passed on our clock, with its timestamp
 * translated by the leg's offset (leg ts = publisher ts + ts_offset, from
 * the forward map or parley_simulcast). Before any publisher SR the leg's
 * SR takes the caller's NTP wallclock and extrapolates the newest sent
 * timestamp: enough for RTT, not for lip sync.
 *
 * The round-trip time comes from the subscriber's report blocks: RFC 3550
 * 6.4.1 gives RTT = A - LSR - DLSR, A being the arrival time on the clock
 * of the SR. Since the SR's NTP time may be the publisher's, A is taken as
 * the monotonic time the SR with that LSR was sent plus the time since:
 * RTT = (now - sent(LSR)) - DLSR, in 1/65536 s. Reports naming an LSR this
 * leg did not send give no RTT.
 *
 *   - every packet sent on the leg: parley_rtcp_send_on_rtp();
 *   - a publisher SR of the forwarded source, and every layer switch:
 *     parley_rtcp_send_set_source();
 *   - every RTCP compound from the subscriber: parley_rtcp_send_on_rtcp()
 *     (or parley_rtcp_send_on_report_block() with blocks the caller
 *     parsed once for all legs of the connection);
 *   - when parley_rtcp_send_due(): parley_rtcp_send_build() (SR + SDES),
 *     or parley_rtcp_send_build_sr() for one SR of a compound that the
 *     caller assembles for several legs.
 *
 * Times are microseconds on a monotonic clock, NTP times 32.32. Fixed-size
 * state, no allocation, no I/O.
 */

#ifndef _PARLEY_RTCP_SEND_H_INCLUDED_
#define _PARLEY_RTCP_SEND_H_INCLUDED_


#include "parley_rtcp.h"
#include "parley_rtcp_report.h"


#define PARLEY_RTCP_SEND_SR_HISTORY  8     /* SRs an RR may answer */
#define PARLEY_RTCP_SEND_CNAME_MAX   255


/* What the subscriber last reported, for stats and bandwidth decisions. */
typedef struct {
    unsigned   have_report:1;
    unsigned   have_rtt:1;
    uint8_t    fraction_lost;      /* 1/256, RFC 3550 6.4.1 */
    int32_t    cumulative_lost;
    uint32_t   ext_highest_seq;
    uint32_t   jitter;             /* RTP timestamp units */
    uint64_t   jitter_us;
    uint32_t   rtt_q16;            /* latest, 1/65536 s */
    uint64_t   rtt_us;             /* latest */
    uint64_t   srtt_us;            /* smoothed, 7/8 old + 1/8 new */
    uint64_t   report_us;          /* when the last block came */
    uint64_t   reports;
} parley_rtcp_leg_stats_t;


typedef struct {
    uint32_t   lsr;                /* middle 32 bits of its NTP time */
    uint64_t   sent_us;
} parley_rtcp_sent_sr_t;


typedef struct {
    uint32_t                 ssrc;         /* the leg's */
    uint32_t                 clock_rate;
    uint32_t                 packets;      /* RFC 3550 6.4.1: wrap */
    uint32_t                 octets;       /* payload octets */
    uint32_t                 last_ts;      /* newest sent timestamp */
    uint64_t                 last_us;      /* when it was sent */
    unsigned                 sent_any:1;
    unsigned                 have_source:1;
    uint32_t                 ts_offset;
    parley_rtcp_sr_info_t    source;
    parley_rtcp_timer_t      timer;
    uint32_t                 sent_next;
    parley_rtcp_sent_sr_t    sent[PARLEY_RTCP_SEND_SR_HISTORY];
    parley_rtcp_leg_stats_t  stats;
    uint8_t                  cname_len;
    uint8_t                  cname[PARLEY_RTCP_SEND_CNAME_MAX];
} parley_rtcp_send_t;


/*
 * ssrc: the leg's SSRC (parley_forward_map_t.ssrc); clock_rate of its RTP
 * timestamps; cname 1..255 bytes, copied (the SFU's, as in the leg's
 * SDP); interval_us 0: PARLEY_RTCP_INTERVAL_US. PARLEY_RTP_ERR_INVAL for
 * a zero clock rate or a bad CNAME.
 */
parley_rtp_rc_t parley_rtcp_send_init(parley_rtcp_send_t *s, uint32_t ssrc,
    uint32_t clock_rate, const uint8_t *cname, size_t cname_len,
    uint64_t interval_us);

/*
 * One packet sent on the leg: its (leg) RTP timestamp and payload size
 * (RFC 3550 6.4.1: octets of payload, without header and padding).
 * Retransmissions are not counted by RFC 3550; the caller does not call
 * this for them.
 */
void parley_rtcp_send_on_rtp(parley_rtcp_send_t *s, uint32_t leg_ts,
    size_t payload_len, uint64_t now_us);

/*
 * The publisher's latest SR of the source being forwarded and the
 * offset that turns its timestamps into the leg's; NULL when the source
 * (after a layer switch) has sent none yet.
 */
void parley_rtcp_send_set_source(parley_rtcp_send_t *s,
    const parley_rtcp_sr_info_t *sr, uint32_t ts_offset);

/*
 * Reads an RTCP compound from the subscriber: the report blocks (in RRs
 * and SRs) about this leg's SSRC. Checked whole first (RFC 3550 A.2).
 */
parley_rtp_rc_t parley_rtcp_send_on_rtcp(parley_rtcp_send_t *s,
    const uint8_t *buf, size_t len, uint64_t now_us);

/* One report block; ignored unless it is about this leg's SSRC. */
void parley_rtcp_send_on_report_block(parley_rtcp_send_t *s,
    const parley_rtcp_report_block_t *rb, uint64_t now_us);

const parley_rtcp_leg_stats_t *parley_rtcp_send_stats(
    const parley_rtcp_send_t *s);

int parley_rtcp_send_due(const parley_rtcp_send_t *s, uint64_t now_us);

/* When the next SR is due, for the caller's timer; 0: nothing sent yet. */
uint64_t parley_rtcp_send_next_us(const parley_rtcp_send_t *s);

/*
 * Appends the leg's SR (no report blocks: the SFU receives nothing on a
 * leg). PARLEY_RTP_DONE when nothing was sent yet (RFC 3550 6.4: only
 * senders send SRs), PARLEY_RTP_ERR_NOSPACE with the writer unchanged.
 * ntp_now: the caller's NTP wallclock at now_us, used only while no
 * publisher SR is known. Does not touch the timer.
 */
parley_rtp_rc_t parley_rtcp_send_build_sr(parley_rtcp_send_t *s,
    parley_rtcp_writer_t *w, uint64_t now_us, uint64_t ntp_now);

/*
 * SR + SDES CNAME (RFC 3550 6.1), then the next report is scheduled with
 * "random" (parley_rtcp_timer_sent()). As parley_rtcp_send_build_sr()
 * otherwise; on PARLEY_RTP_ERR_NOSPACE nothing changes.
 */
parley_rtp_rc_t parley_rtcp_send_build(parley_rtcp_send_t *s,
    parley_rtcp_writer_t *w, uint64_t now_us, uint64_t ntp_now,
    uint32_t random);


#endif /* _PARLEY_RTCP_SEND_H_INCLUDED_ */
