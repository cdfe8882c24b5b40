/*
 * Receiver reports towards one publisher peer connection (RFC 3550 6.4.2),
 * with its receiver statistics, and an optional REMB for publishers that
 * did not negotiate transport-cc.
 *
 * One parley_rtcp_recv_t per publisher peer connection, up to
 * PARLEY_RTCP_RECV_MAX_SOURCES media SSRCs (audio, video, simulcast
 * layers; RTX streams are not sources: feed their unwrapped originals).
 *
 *   - every decrypted RTP packet: parley_rtcp_recv_on_rtp();
 *   - every decrypted RTCP compound from the publisher:
 *     parley_rtcp_recv_on_rtcp(), which remembers each SR for LSR/DLSR
 *     (RFC 3550 6.4.1) and for the subscriber legs' own SRs
 *     (parley_rtcp_recv_last_sr()), and forgets sources that say BYE;
 *   - when parley_rtcp_recv_due(), parley_rtcp_recv_build(): a compound of
 *     RR (a report block per source heard since the last report), SDES
 *     CNAME (RFC 3550 6.1 wants one in every compound) and, if enabled,
 *     REMB.
 *
 * The REMB estimate is loss-based only, in the manner of the loss-based
 * controller of draft-ietf-rmcat-gcc-02 6, run at the receiver once per
 * report: more than 10% lost cuts it by half the loss, less than 2% lets
 * it grow 8%, in between it holds; it never exceeds twice the rate that
 * arrives (nor falls under the start rate because of that cap), and stays
 * within [min, max]. It has no delay-based part: it reacts to queues only
 * once they overflow. Prefer transport-cc (parley_twcc) when negotiated.
 *
 * Times are microseconds on a monotonic clock. Fixed-size state, no
 * allocation, no I/O.
 */

#ifndef _PARLEY_RTCP_RECV_H_INCLUDED_
#define _PARLEY_RTCP_RECV_H_INCLUDED_


#include "parley_rtcp.h"
#include "parley_rtcp_report.h"


#define PARLEY_RTCP_RECV_MAX_SOURCES  8
#define PARLEY_RTCP_CNAME_MAX         255      /* RFC 3550 6.5: 8-bit length */

/* a source silent this long may give its place to a new one */
#define PARLEY_RTCP_RECV_IDLE_US      5000000


typedef struct {
    uint32_t               ssrc;
    unsigned               used:1;
    unsigned               heard:1;        /* since the last report */
    unsigned               have_sr:1;
    uint64_t               last_us;        /* newest packet */
    uint64_t               packets;
    uint64_t               bytes;
    parley_rtp_stats_t     stats;
    parley_rtcp_sr_info_t  sr;
} parley_rtcp_source_t;


typedef struct {
    unsigned               enabled:1;
    uint64_t               bitrate;        /* bits per second */
    uint64_t               start_bps;
    uint64_t               min_bps;
    uint64_t               max_bps;
    uint64_t               bytes;          /* since the last estimate */
    uint64_t               since_us;
    uint64_t               rate_bps;       /* measured at the last one */
} parley_rtcp_remb_est_t;


typedef struct {
    uint32_t               sender_ssrc;
    uint8_t                cname_len;
    uint8_t                cname[PARLEY_RTCP_CNAME_MAX];
    parley_rtcp_timer_t    timer;
    parley_rtcp_remb_est_t remb;
    uint64_t               reports;        /* compounds built */
    parley_rtcp_source_t   source[PARLEY_RTCP_RECV_MAX_SOURCES];
} parley_rtcp_recv_t;


/*
 * sender_ssrc: the SFU's SSRC in this session (RFC 3550 8: random);
 * cname: 1..255 bytes, copied; interval_us 0: PARLEY_RTCP_INTERVAL_US.
 * PARLEY_RTP_ERR_INVAL for a bad CNAME.
 */
parley_rtp_rc_t parley_rtcp_recv_init(parley_rtcp_recv_t *r,
    uint32_t sender_ssrc, const uint8_t *cname, size_t cname_len,
    uint64_t interval_us);

/*
 * Adds REMB to every report, starting from start_bps, within [min_bps,
 * max_bps]. PARLEY_RTP_ERR_INVAL unless min <= start <= max and max > 0.
 */
parley_rtp_rc_t parley_rtcp_recv_enable_remb(parley_rtcp_recv_t *r,
    uint64_t start_bps, uint64_t min_bps, uint64_t max_bps);

/*
 * Accounts one received RTP packet of "len" bytes with parsed header h;
 * clock_rate is that of its payload type (used when the SSRC is new).
 * PARLEY_RTP_ERR_NOSPACE when the SSRC is new and every place is taken by
 * a source heard within PARLEY_RTCP_RECV_IDLE_US.
 */
parley_rtp_rc_t parley_rtcp_recv_on_rtp(parley_rtcp_recv_t *r,
    const parley_rtp_header_t *h, size_t len, uint32_t clock_rate,
    uint64_t now_us);

/*
 * Reads a compound RTCP packet from the publisher: SRs of known sources
 * are remembered, BYE forgets sources. The compound is checked whole
 * first (RFC 3550 A.2): an error code and nothing learned if it is bad.
 */
parley_rtp_rc_t parley_rtcp_recv_on_rtcp(parley_rtcp_recv_t *r,
    const uint8_t *buf, size_t len, uint64_t now_us);

/* The last SR of "ssrc": 1 and *sr, or 0 if none came. */
int parley_rtcp_recv_last_sr(const parley_rtcp_recv_t *r, uint32_t ssrc,
    parley_rtcp_sr_info_t *sr);

/* The statistics of "ssrc", NULL if it is not a source. */
const parley_rtp_stats_t *parley_rtcp_recv_stats(const parley_rtcp_recv_t *r,
    uint32_t ssrc);

int parley_rtcp_recv_due(const parley_rtcp_recv_t *r, uint64_t now_us);

/* When the next report is due, for the caller's timer; 0: not started. */
uint64_t parley_rtcp_recv_next_us(const parley_rtcp_recv_t *r);

/*
 * Appends RR + SDES (+ REMB) and schedules the next report with "random"
 * (parley_rtcp_timer_sent()). PARLEY_RTP_ERR_NOSPACE leaves the writer,
 * the statistics and the timer as they were.
 */
parley_rtp_rc_t parley_rtcp_recv_build(parley_rtcp_recv_t *r,
    parley_rtcp_writer_t *w, uint64_t now_us, uint32_t random);

/* The REMB estimate, bits per second; 0 when REMB is not enabled. */
uint64_t parley_rtcp_recv_remb_bps(const parley_rtcp_recv_t *r);


#endif /* _PARLEY_RTCP_RECV_H_INCLUDED_ */
