/*
 * What one subscribe connection's network carries: the budget its
 * sections' layers are allocated within (parley_alloc), from the
 * congestion feedback its browser sends.
 *
 * Two sources, the better one winning for good once it is heard:
 *
 *   - transport-wide congestion control feedback (RTPFB FMT 15,
 *     draft-holmer-rmcat-transport-wide-cc-extensions-01): the server
 *     numbers every packet it sends the connection that carries the
 *     extension (parley_downlink_on_send()), the browser says when each
 *     arrived, and parley_bwe estimates from that;
 *   - REMB (draft-alvestrand-rmcat-remb-03), the receiver's own estimate,
 *     for a browser that sends only that.
 *
 * Before either is heard, nothing is known, and the budget is unlimited:
 * each section gets its wish, as without this object. Once transport-wide
 * feedback flows, a silence of it while packets go out is what total loss
 * looks like (feedback comes back only for what arrives): the budget
 * halves for each PARLEY_DOWNLINK_SILENT_US of it, down to the minimum,
 * without touching the estimate, which the next feedback corrects.
 *
 * The estimate alone would have the layers climb blindly: it grows while
 * nothing is wrong, also when the sections take less than it (the layers
 * are coarse steps), and a layer switched up on that faith into a path
 * that cannot carry it freezes the picture until the next overuse sets
 * it right. So the budget is the estimate within what the path has shown
 * it carries ("proven": the most that arrived lately, or the last probe
 * that came through; cut with the estimate on overuse). To go higher the
 * server probes first (parley_downlink_probe()): for
 * PARLEY_DOWNLINK_PROBE_US it sends padding besides the media, up to the
 * rate the sections want, in steps of at most twice the budget, and the
 * feedback about it decides: no queue
 * building and under PARLEY_DOWNLINK_PROBE_LOSS lost, and the estimate
 * and the proven rate rise to it; otherwise the probe stops at once, the
 * budget goes back to what it was before the probe (the queue the probe
 * built says nothing against what was carried before it, nor does the
 * queue building it leaves for PARLEY_DOWNLINK_PROBE_SETTLE_US), and the next
 * waits twice as long as the last (PARLEY_DOWNLINK_PROBE_GAP_US,
 * up to PARLEY_DOWNLINK_PROBE_MAX_GAP_US), so a path that opens again is
 * found within that. Nothing is probed beyond what the sections want, so
 * a subscriber can never make the server send more than its wishes would
 * without any of this.
 *
 * When to allocate again (parley_downlink_due()): when the budget moved by
 * more than a twentieth since the last allocation, or every
 * PARLEY_DOWNLINK_REFRESH_US (what the encodings cost moves too), at most
 * once per PARLEY_DOWNLINK_GAP_US.
 *
 * A browser sends feedback every 50 to 250 ms; what comes faster than
 * PARLEY_DOWNLINK_FB_RATE a second (a burst of PARLEY_DOWNLINK_FB_BURST)
 * is refused, so that a hostile one cannot make the estimate's work per
 * feedback (up to a thousand packets) a flood.
 *
 * Fixed-size state, no allocation, no I/O, no clock: times are passed in,
 * in microseconds of a monotonic clock. Whatever a hostile browser
 * reports, the budget stays within [PARLEY_DOWNLINK_MIN_BPS,
 * PARLEY_DOWNLINK_MAX_BPS] once feedback is heard.
 */

#ifndef _PARLEY_DOWNLINK_H_INCLUDED_
#define _PARLEY_DOWNLINK_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "parley_bwe.h"


#define PARLEY_DOWNLINK_START_BPS   2000000    /* hi video, thumbnails, voices */
#define PARLEY_DOWNLINK_MIN_BPS     50000      /* a few voices */
#define PARLEY_DOWNLINK_MAX_BPS     20000000
#define PARLEY_DOWNLINK_SILENT_US   1000000
#define PARLEY_DOWNLINK_REFRESH_US  1000000
#define PARLEY_DOWNLINK_GAP_US      100000
#define PARLEY_DOWNLINK_FB_RATE     50         /* feedbacks a second ... */
#define PARLEY_DOWNLINK_FB_BURST    25         /* ... and at once */
#define PARLEY_DOWNLINK_PROBE_US          100000
#define PARLEY_DOWNLINK_PROBE_WAIT_US     500000  /* its feedback, and
                                                     the trend's lag */
#define PARLEY_DOWNLINK_PROBE_GAP_US      1000000
#define PARLEY_DOWNLINK_PROBE_MAX_GAP_US  4000000
#define PARLEY_DOWNLINK_PROBE_LOSS        0.05
#define PARLEY_DOWNLINK_PROBE_STEP_BPS    100000  /* at least, above */
#define PARLEY_DOWNLINK_PROBE_SETTLE_US   1000000 /* its queue drains */

/* parley_downlink_budget() before any feedback */
#define PARLEY_DOWNLINK_UNLIMITED   UINT64_MAX


typedef enum {
    PARLEY_DOWNLINK_NONE = 0,
    PARLEY_DOWNLINK_TWCC,
    PARLEY_DOWNLINK_REMB
} parley_downlink_source_t;


typedef struct {
    parley_bwe_t              bwe;
    parley_downlink_source_t  source;
    uint64_t                  remb_bps;
    int64_t                   feedback_us;      /* the source's last */
    int64_t                   sent_us;          /* the last numbered */
    uint64_t                  allocated_bps;    /* the last allocation's */
    int64_t                   allocated_us;
    unsigned                  allocated:1;      /* at least once */
    int64_t                   fb_tokens;        /* in millionths of one */
    int64_t                   fb_at_us;

    /* what the path has shown it carries; the probe that may raise it */
    uint64_t                  proven_bps;
    uint64_t                  overuses;         /* the estimate's, seen */
    uint64_t                  probe_bps;        /* 0: no probe */
    uint64_t                  probe_media_bps;  /* the media's meanwhile */
    uint64_t                  probe_base_bps;   /* the budget before it */
    uint64_t                  probe_padded;     /* bytes so far */
    uint64_t                  probe_last;       /* its last packet's
                                                   transport-wide number */
    uint64_t                  probe_received;   /* the estimate's totals */
    uint64_t                  probe_lost;       /* at its start */
    int64_t                   probe_start_us;
    int64_t                   probe_next_us;    /* none before */
    int64_t                   settle_us;        /* a failed probe's queue
                                                   drains until */
    int64_t                   probe_gap_us;

    /* totals, for reports */
    uint64_t                  probes;
    uint64_t                  probes_failed;
    uint64_t                  twcc_feedbacks;
    uint64_t                  rembs;
    uint64_t                  refused;          /* too many */
} parley_downlink_t;


void parley_downlink_init(parley_downlink_t *d);

/*
 * A packet of "size" bytes that carries the transport-wide sequence
 * number extension goes out at now_us: returns the number it carries.
 */
uint16_t parley_downlink_on_send(parley_downlink_t *d, uint32_t size,
    int64_t now_us);

/*
 * Whether a feedback received at now_us is within the rate: call it
 * before parsing one, and drop it when it returns 0.
 */
int parley_downlink_accept(parley_downlink_t *d, int64_t now_us);

/* The number the next packet counted by parley_downlink_on_send() gets. */
uint16_t parley_downlink_next_seq(const parley_downlink_t *d);

/* A transport-wide feedback, as parley_rtcp_parse_twcc() gives it. */
void parley_downlink_on_twcc(parley_downlink_t *d,
    const parley_rtcp_twcc_packet_t *pkts, size_t n, int64_t now_us);

/* A REMB's bitrate; ignored once transport-wide feedback was heard. */
void parley_downlink_on_remb(parley_downlink_t *d, uint64_t bps,
    int64_t now_us);

/* Bits per second the sections may take now, PARLEY_DOWNLINK_UNLIMITED. */
uint64_t parley_downlink_budget(const parley_downlink_t *d, int64_t now_us);

/*
 * Whether a probe may start now: transport-wide feedback flows, no probe
 * runs, and the last one failed long enough ago.
 */
int parley_downlink_may_probe(const parley_downlink_t *d, int64_t now_us);

/*
 * The sections want "want_bps" and are given "media_bps" (both what
 * parley_alloc() returned, without a budget and with this one's): when
 * they want more than the budget and a probe may start, it starts, and
 * returns 1; the caller then sends what parley_downlink_padding() says.
 */
int parley_downlink_probe(parley_downlink_t *d, uint64_t want_bps,
    uint64_t media_bps, int64_t now_us);

/*
 * Bytes of padding the probe wants sent by now_us beside the media (0:
 * none, or the probe is over); the caller sends them, numbers each packet
 * with parley_downlink_on_send(), and reports each right after with
 * parley_downlink_padded(): the probe is judged once feedback tells of
 * its last packet.
 */
uint64_t parley_downlink_padding(const parley_downlink_t *d, int64_t now_us);
void parley_downlink_padded(parley_downlink_t *d, uint64_t bytes);

/* Whether a probe runs. */
int parley_downlink_probing(const parley_downlink_t *d);

/* Whether the layers should be allocated again now. */
int parley_downlink_due(const parley_downlink_t *d, int64_t now_us);

/* They were, for "budget_bps", at now_us. */
void parley_downlink_allocated(parley_downlink_t *d, uint64_t budget_bps,
    int64_t now_us);


#endif /* _PARLEY_DOWNLINK_H_INCLUDED_ */
