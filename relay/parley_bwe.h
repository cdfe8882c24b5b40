/*
 * A send-side bandwidth estimate for one subscribe connection, from the
 * transport-wide congestion control feedback its browser sends
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01): what the server
 * may send that subscriber without building a queue on its path.
 *
 * A simplified Google congestion control (draft-ietf-rmcat-gcc-02), the
 * sender's half:
 *
 *   - delay: packets sent within PARLEY_BWE_GROUP_US of each other form a
 *     group; between consecutive groups, the arrival spacing minus the send
 *     spacing is the one-way delay variation. Its running sum, smoothed,
 *     over the last PARLEY_BWE_TREND_SAMPLES groups, gives a trend (a
 *     least-squares slope): a rising trend past an adaptive threshold
 *     (gcc 5.4), for PARLEY_BWE_OVERUSE_US and two samples, and still
 *     rising, is a queue building, "overuse"; falling is "underuse";
 *     groups that arrive out of order are skipped, and three in a row, or
 *     arrival and send spacings more than PARLEY_BWE_JUMP_US apart (the
 *     receiver's clock jumped or wrapped), start the delay state afresh;
 *   - the delay-based rate: on overuse, 85 % of what the subscriber
 *     received (over the last PARLEY_BWE_RATE_WINDOW_US of arrivals), at
 *     most once per PARLEY_BWE_DECREASE_GAP_US; on underuse, held (the
 *     queue drains); otherwise it grows by
 *     PARLEY_BWE_GROWTH per second. Growth is not held to the rate that
 *     was delivered: a subscriber is mostly sent less than it could take
 *     (the layers are coarse steps), and the next overuse sets it right;
 *   - the loss-based rate (gcc 6): the loss over at least
 *     PARLEY_BWE_LOSS_PACKETS reported packets, or over a second with at
 *     least a tenth of that (a feedback's few packets say little): over
 *     10 %, cut by half the loss; under 2 %, grown like the delay-based
 *     one; between, held. Random loss of a few percent thus leaves the
 *     estimate alone;
 *   - the estimate: the lower of the two, within [min, max].
 *
 * The sender numbers every packet of the connection with
 * parley_bwe_on_send() (the 16-bit number goes into the packet's
 * transport-wide sequence number extension) and hands every parsed
 * feedback (parley_rtcp_parse_twcc()) to parley_bwe_on_feedback().
 *
 * Fixed-size state, no allocation, no I/O, no clock: times are passed in,
 * in microseconds of a monotonic clock.
 */

#ifndef _PARLEY_BWE_H_INCLUDED_
#define _PARLEY_BWE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "parley_rtcp.h"


#define PARLEY_BWE_HISTORY          1024   /* packets sent, a power of two */
#define PARLEY_BWE_GROUP_US         5000   /* a burst of sends: one group */
#define PARLEY_BWE_TREND_SAMPLES    20     /* groups the trend is over */
#define PARLEY_BWE_DECREASE_GAP_US  200000 /* one cut per round trip or so */
#define PARLEY_BWE_GROWTH           1.2    /* per second, when not held */
#define PARLEY_BWE_RATE_WINDOW_US   500000 /* arrivals a received rate spans */
#define PARLEY_BWE_LOSS_PACKETS     100    /* a loss rate's sample */
#define PARLEY_BWE_OVERUSE_US       10000  /* gcc 5.4's overuse time */
#define PARLEY_BWE_JUMP_US          3000000


typedef enum {
    PARLEY_BWE_NORMAL = 0,
    PARLEY_BWE_OVERUSE,
    PARLEY_BWE_UNDERUSE
} parley_bwe_usage_t;


/*
 * 12 bytes a packet, 12 KB a subscribe connection: the low 32 bits of the
 * extended number and of the send time are enough, for every packet
 * remembered was sent within the last PARLEY_BWE_HISTORY packets, and its
 * send time is rebuilt from the last one's (parley_bwe_send_us).
 */
typedef struct {
    uint32_t             ext_seq_1;        /* low bits of ext seq + 1;
                                              0: empty */
    uint32_t             send_us;          /* low 32 bits */
    uint16_t             size;             /* bytes, at most 65535 */
    uint8_t              lost;             /* reported lost, kept: a later
                                              feedback may bring it */
} parley_bwe_sent_t;


typedef struct {
    int64_t              arrival_ms;
    double               delay_ms;         /* smoothed accumulated */
} parley_bwe_sample_t;


typedef struct {
    parley_bwe_sent_t    sent[PARLEY_BWE_HISTORY];
    uint64_t             next_seq;         /* the next packet's ext seq */
    int64_t              last_send_us;     /* of the last packet sent */

    /* the group being received, and the one before */
    int64_t              group_first_send_us;
    int64_t              group_send_us;
    int64_t              group_arrival_us;
    int64_t              prev_send_us;
    int64_t              prev_arrival_us;
    uint32_t             reordered;        /* groups in a row */
    unsigned             have_group:1;
    unsigned             have_prev:1;

    /* the delay trend */
    double               acc_delay_ms;
    double               smoothed_ms;
    parley_bwe_sample_t  samples[PARLEY_BWE_TREND_SAMPLES];
    uint32_t             nsamples;         /* in the window, at most all */
    uint32_t             next_sample;
    uint64_t             groups;           /* seen in all */
    double               threshold_ms;
    int64_t              last_threshold_us;
    double               prev_trend;
    int64_t              over_since_us;    /* the trend above since */
    uint32_t             over_count;       /* samples above in a row */
    parley_bwe_usage_t   usage;

    /* what arrived: bytes after the first arrival of the window */
    uint64_t             win_bytes;
    int64_t              win_first_us;
    int64_t              win_last_us;
    unsigned             win_started:1;

    /* what was reported received and lost, for the loss rate */
    uint32_t             loss_received;
    uint32_t             loss_lost;
    int64_t              loss_start_us;

    /* the rates, bits per second */
    double               delay_bps;
    double               loss_bps;
    uint64_t             acked_bps;        /* received, last window */
    uint64_t             min_bps;
    uint64_t             max_bps;
    int64_t              last_update_us;
    int64_t              last_decrease_us;
    unsigned             loss_low:1;       /* the last sample: under 2 % */

    /* totals, for reports */
    uint64_t             reported_received;
    uint64_t             reported_lost;
    uint64_t             overuses;
    uint64_t             resets;           /* of the delay state */
} parley_bwe_t;


/* A fresh estimate of start_bps, kept within [min_bps, max_bps]. */
void parley_bwe_init(parley_bwe_t *b, uint64_t start_bps, uint64_t min_bps,
    uint64_t max_bps);

/*
 * A packet of "size" bytes sent at now_us: returns the transport-wide
 * sequence number it carries.
 */
uint16_t parley_bwe_on_send(parley_bwe_t *b, uint32_t size, int64_t now_us);

/*
 * A feedback, as parley_rtcp_parse_twcc() gives it, received at now_us.
 * Entries for packets this estimate did not send (or no longer remembers)
 * are ignored, so a hostile feedback can only lower or raise the estimate
 * within [min, max], as a real one could.
 */
void parley_bwe_on_feedback(parley_bwe_t *b,
    const parley_rtcp_twcc_packet_t *pkts, size_t n, int64_t now_us);

/*
 * A probe showed the path carries "bps" (the sender sent that much, and
 * the feedback about it showed no queue building and little loss): the
 * estimate is raised to it, within [min, max], as gcc takes a probe's
 * result.
 */
void parley_bwe_raise(parley_bwe_t *b, uint64_t bps);

/*
 * Whether feedback said what became of the packet numbered "ext" (the
 * extended number, next_seq - 1 just after it was sent): received, lost,
 * or no longer remembered.
 */
int parley_bwe_reported(const parley_bwe_t *b, uint64_t ext);

/* The estimate, bits per second. */
uint64_t parley_bwe_estimate(const parley_bwe_t *b);

parley_bwe_usage_t parley_bwe_usage(const parley_bwe_t *b);


#endif /* _PARLEY_BWE_H_INCLUDED_ */
