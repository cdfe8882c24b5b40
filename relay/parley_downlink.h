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


    /* totals, for reports */
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

/* A transport-wide feedback, as parley_rtcp_parse_twcc() gives it. */
void parley_downlink_on_twcc(parley_downlink_t *d,
    const parley_rtcp_twcc_packet_t *pkts, size_t n, int64_t now_us);

/* A REMB's bitrate; ignored once transport-wide feedback was heard. */
void parley_downlink_on_remb(parley_downlink_t *d, uint64_t bps,
    int64_t now_us);

/* Bits per second the sections may take now, PARLEY_DOWNLINK_UNLIMITED. */
uint64_t parley_downlink_budget(const parley_downlink_t *d, int64_t now_us);

/* Whether the layers should be allocated again now. */
int parley_downlink_due(const parley_downlink_t *d, int64_t now_us);

/* They were, for "budget_bps", at now_us. */
void parley_downlink_allocated(parley_downlink_t *d, uint64_t budget_bps,
    int64_t now_us);


#endif /* _PARLEY_DOWNLINK_H_INCLUDED_ */
