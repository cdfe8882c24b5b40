/*
 * Send-side bandwidth estimate: see parley_bwe.h.
 */

#include <string.h>

#include "parley_bwe.h"


#define PARLEY_BWE_SMOOTHING       0.9     /* gcc: the delay's smoothing */
#define PARLEY_BWE_TREND_GAIN      4.0     /* libwebrtc's threshold gain */
#define PARLEY_BWE_TREND_DELTAS    60      /* the gain's cap on deltas */
#define PARLEY_BWE_THRESHOLD_MS    12.5    /* the threshold's start */
#define PARLEY_BWE_THRESHOLD_MIN   6.0
#define PARLEY_BWE_THRESHOLD_MAX   600.0
#define PARLEY_BWE_K_UP            0.0087  /* gcc 5.4: the threshold's */
#define PARLEY_BWE_K_DOWN          0.039   /* adaptation, per ms */
#define PARLEY_BWE_BACKOFF         0.85    /* of the received rate */
#define PARLEY_BWE_LOSS_HIGH       0.10    /* gcc 6 */
#define PARLEY_BWE_LOSS_LOW        0.02
#define PARLEY_BWE_LOSS_WINDOW_US  1000000 /* or a second of them */


typedef struct {
    uint32_t  received;
    uint32_t  lost;
} parley_bwe_window_t;


static int64_t parley_bwe_send_us(const parley_bwe_t *b,
    const parley_bwe_sent_t *s);
static parley_bwe_sent_t *parley_bwe_find(parley_bwe_t *b, uint16_t seq);
static void parley_bwe_received(parley_bwe_t *b, const parley_bwe_sent_t *s,
    int64_t arrival_us);
static void parley_bwe_rate(parley_bwe_t *b, uint32_t size,
    int64_t arrival_us);
static void parley_bwe_group_done(parley_bwe_t *b);
static void parley_bwe_restart(parley_bwe_t *b);
static void parley_bwe_trend(parley_bwe_t *b, int64_t arrival_us);
static double parley_bwe_slope(const parley_bwe_t *b);
static void parley_bwe_detect(parley_bwe_t *b, double trend, int64_t now_us);
static void parley_bwe_update(parley_bwe_t *b,
    const parley_bwe_window_t *w, int64_t now_us);
static double parley_bwe_clamp(const parley_bwe_t *b, double bps);


void
parley_bwe_init(parley_bwe_t *b, uint64_t start_bps, uint64_t min_bps,
    uint64_t max_bps)
{
    memset(b, 0, sizeof(parley_bwe_t));

    b->min_bps = min_bps;
    b->max_bps = max_bps > min_bps ? max_bps : min_bps;
    b->delay_bps = parley_bwe_clamp(b, (double) start_bps);
    b->loss_bps = b->delay_bps;
    b->threshold_ms = PARLEY_BWE_THRESHOLD_MS;
    b->loss_low = 1;
    b->usage = PARLEY_BWE_NORMAL;
}


uint16_t
parley_bwe_on_send(parley_bwe_t *b, uint32_t size, int64_t now_us)
{
    uint64_t            ext;
    parley_bwe_sent_t  *s;

    ext = b->next_seq++;
    s = &b->sent[ext & (PARLEY_BWE_HISTORY - 1)];

    s->ext_seq_1 = (uint32_t) (ext + 1);
    s->send_us = (uint32_t) now_us;
    s->size = size > UINT16_MAX ? UINT16_MAX : (uint16_t) size;
    s->lost = 0;

    b->last_send_us = now_us;

    return (uint16_t) ext;
}


void
parley_bwe_on_feedback(parley_bwe_t *b, const parley_rtcp_twcc_packet_t *pkts,
    size_t n, int64_t now_us)
{
    size_t               i;
    parley_bwe_sent_t   *s;
    parley_bwe_window_t  w;

    memset(&w, 0, sizeof(w));

    for (i = 0; i < n; i++) {
        s = parley_bwe_find(b, pkts[i].seq);

        /* not ours, forgotten, or reported received before */
        if (s == NULL) {
            continue;
        }

        /*
         * Lost: counted once, and kept, for a packet that arrives late is
         * reported received by a later feedback.
         */
        if (pkts[i].status == PARLEY_RTCP_TWCC_NOT_RECEIVED) {
            if (!s->lost) {
                s->lost = 1;
                w.lost++;
            }

            continue;
        }

        s->ext_seq_1 = 0;
        w.received++;
        parley_bwe_rate(b, s->size, pkts[i].arrival_us);
        parley_bwe_received(b, s, pkts[i].arrival_us);
    }

    b->reported_received += w.received;
    b->reported_lost += w.lost;

    if (w.received || w.lost) {
        parley_bwe_update(b, &w, now_us);
    }
}


int
parley_bwe_reported(const parley_bwe_t *b, uint64_t ext)
{
    const parley_bwe_sent_t  *s;

    s = &b->sent[ext & (PARLEY_BWE_HISTORY - 1)];

    return s->ext_seq_1 != (uint32_t) (ext + 1) || s->lost;
}


void
parley_bwe_raise(parley_bwe_t *b, uint64_t bps)
{
    double  r;

    r = parley_bwe_clamp(b, (double) bps);

    if (b->delay_bps < r) {
        b->delay_bps = r;
    }

    if (b->loss_bps < r) {
        b->loss_bps = r;
    }
}


uint64_t
parley_bwe_estimate(const parley_bwe_t *b)
{
    double  bps;

    bps = b->delay_bps < b->loss_bps ? b->delay_bps : b->loss_bps;

    return (uint64_t) parley_bwe_clamp(b, bps);
}


parley_bwe_usage_t
parley_bwe_usage(const parley_bwe_t *b)
{
    return b->usage;
}


/*
 * The sent record of a 16-bit number: the most recent packet that carried
 * it, if it is still remembered and not yet reported received.
 */
static parley_bwe_sent_t *
parley_bwe_find(parley_bwe_t *b, uint16_t seq)
{
    uint16_t            back;
    uint64_t            ext;
    parley_bwe_sent_t  *s;

    back = (uint16_t) ((uint16_t) b->next_seq - seq);

    if (back == 0 || back > PARLEY_BWE_HISTORY || back > b->next_seq) {
        return NULL;
    }

    ext = b->next_seq - back;
    s = &b->sent[ext & (PARLEY_BWE_HISTORY - 1)];

    return s->ext_seq_1 == (uint32_t) (ext + 1) ? s : NULL;
}


/*
 * What the subscriber received, over windows of PARLEY_BWE_RATE_WINDOW_US
 * of arrivals: the bytes after the window's first arrival over the time
 * since it (the first packet's bytes arrived before the window began).
 */
static void
parley_bwe_rate(parley_bwe_t *b, uint32_t size, int64_t arrival_us)
{
    int64_t  span;

    /* the first, or after a silence longer than a window: start anew */
    if (!b->win_started
        || arrival_us > b->win_last_us + PARLEY_BWE_RATE_WINDOW_US
        || arrival_us < b->win_first_us)
    {
        b->win_first_us = arrival_us;
        b->win_last_us = arrival_us;
        b->win_bytes = 0;
        b->win_started = 1;
        return;
    }

    b->win_bytes += size;

    if (arrival_us > b->win_last_us) {
        b->win_last_us = arrival_us;
    }

    span = b->win_last_us - b->win_first_us;

    if (span < PARLEY_BWE_RATE_WINDOW_US) {
        return;
    }

    b->acked_bps = (uint64_t) ((double) b->win_bytes * 8.0 * 1e6
                               / (double) span);
    b->win_first_us = b->win_last_us;
    b->win_bytes = 0;
}


/*
 * The send time of a remembered packet, from its low 32 bits: it was sent
 * at most 2^32 us (71 minutes) before the last packet.
 */
static int64_t
parley_bwe_send_us(const parley_bwe_t *b, const parley_bwe_sent_t *s)
{
    return b->last_send_us
           - (int64_t) (uint32_t) ((uint32_t) b->last_send_us - s->send_us);
}


/* A packet received: it joins the group of its send time, or starts one. */
static void
parley_bwe_received(parley_bwe_t *b, const parley_bwe_sent_t *s,
    int64_t arrival_us)
{
    int64_t  send_us;

    send_us = parley_bwe_send_us(b, s);

    if (b->have_group
        && send_us >= b->group_first_send_us
        && send_us - b->group_first_send_us <= PARLEY_BWE_GROUP_US)
    {
        if (send_us > b->group_send_us) {
            b->group_send_us = send_us;
        }

        if (arrival_us > b->group_arrival_us) {
            b->group_arrival_us = arrival_us;
        }

        return;
    }

    if (b->have_group) {
        parley_bwe_group_done(b);
    }

    b->group_first_send_us = send_us;
    b->group_send_us = send_us;
    b->group_arrival_us = arrival_us;
    b->have_group = 1;
}


/*
 * A group is complete: its delay variation against the one before (gcc
 * 5.2). One that arrived before it is skipped (reordering says nothing of
 * a queue); three in a row, or spacings that differ by more than
 * PARLEY_BWE_JUMP_US, mean the receiver's clock moved: the delay state
 * starts afresh from this group.
 */
static void
parley_bwe_group_done(parley_bwe_t *b)
{
    int64_t  send_delta, arrival_delta, diff;

    if (b->have_prev) {
        send_delta = b->group_send_us - b->prev_send_us;
        arrival_delta = b->group_arrival_us - b->prev_arrival_us;
        diff = arrival_delta - send_delta;

        if (send_delta <= 0) {
            return;
        }

        if (arrival_delta < 0 && ++b->reordered < 3) {
            return;
        }

        if (arrival_delta < 0
            || diff > PARLEY_BWE_JUMP_US || diff < -PARLEY_BWE_JUMP_US)
        {
            parley_bwe_restart(b);

        } else {
            b->reordered = 0;
            b->acc_delay_ms += (double) diff / 1000.0;
            parley_bwe_trend(b, b->group_arrival_us);
        }
    }

    b->prev_send_us = b->group_send_us;
    b->prev_arrival_us = b->group_arrival_us;
    b->have_prev = 1;
}


/* The delay state from nothing: no trend, no samples, no verdict. */
static void
parley_bwe_restart(parley_bwe_t *b)
{
    b->reordered = 0;
    b->acc_delay_ms = 0;
    b->smoothed_ms = 0;
    b->nsamples = 0;
    b->next_sample = 0;
    b->groups = 0;
    b->over_count = 0;
    b->prev_trend = 0;
    b->usage = PARLEY_BWE_NORMAL;
    b->win_started = 0;
    b->resets++;
}


/* The smoothed delay joins the window; a full window gives a trend. */
static void
parley_bwe_trend(parley_bwe_t *b, int64_t arrival_us)
{
    double                n, trend;
    parley_bwe_sample_t  *sample;

    b->smoothed_ms = PARLEY_BWE_SMOOTHING * b->smoothed_ms
                     + (1.0 - PARLEY_BWE_SMOOTHING) * b->acc_delay_ms;

    sample = &b->samples[b->next_sample];
    sample->arrival_ms = arrival_us / 1000;
    sample->delay_ms = b->smoothed_ms;
    b->next_sample = (b->next_sample + 1) % PARLEY_BWE_TREND_SAMPLES;

    if (b->nsamples < PARLEY_BWE_TREND_SAMPLES) {
        b->nsamples++;
    }

    b->groups++;

    if (b->nsamples < PARLEY_BWE_TREND_SAMPLES) {
        return;
    }

    n = (double) (b->groups < PARLEY_BWE_TREND_DELTAS
                  ? b->groups : PARLEY_BWE_TREND_DELTAS);
    trend = parley_bwe_slope(b) * n * PARLEY_BWE_TREND_GAIN;

    parley_bwe_detect(b, trend, arrival_us);
}


/* Least squares: the delay's slope against arrival time, ms per ms. */
static double
parley_bwe_slope(const parley_bwe_t *b)
{
    uint32_t  i;
    double    x0, mx, my, sxy, sxx, dx;

    x0 = (double) b->samples[0].arrival_ms;
    mx = 0;
    my = 0;

    for (i = 0; i < b->nsamples; i++) {
        mx += (double) b->samples[i].arrival_ms - x0;
        my += b->samples[i].delay_ms;
    }

    mx /= b->nsamples;
    my /= b->nsamples;
    sxy = 0;
    sxx = 0;

    for (i = 0; i < b->nsamples; i++) {
        dx = (double) b->samples[i].arrival_ms - x0 - mx;
        sxy += dx * (b->samples[i].delay_ms - my);
        sxx += dx * dx;
    }

    return sxx > 0 ? sxy / sxx : 0;
}


/* gcc 5.4 and 5.5: the trend against a threshold that follows it. */
static void
parley_bwe_detect(parley_bwe_t *b, double trend, int64_t now_us)
{
    double  k, abs_trend, dt_ms;

    abs_trend = trend < 0 ? -trend : trend;

    if (b->last_threshold_us == 0) {
        b->last_threshold_us = now_us;
    }

    dt_ms = (double) (now_us - b->last_threshold_us) / 1000.0;
    dt_ms = dt_ms < 0 ? 0 : (dt_ms > 100 ? 100 : dt_ms);
    b->last_threshold_us = now_us;

    /* a spike far past the threshold moves it not at all (gcc 5.4) */
    if (abs_trend <= b->threshold_ms + 15.0) {
        k = abs_trend < b->threshold_ms ? PARLEY_BWE_K_DOWN : PARLEY_BWE_K_UP;
        b->threshold_ms += k * (abs_trend - b->threshold_ms) * dt_ms;

        if (b->threshold_ms < PARLEY_BWE_THRESHOLD_MIN) {
            b->threshold_ms = PARLEY_BWE_THRESHOLD_MIN;

        } else if (b->threshold_ms > PARLEY_BWE_THRESHOLD_MAX) {
            b->threshold_ms = PARLEY_BWE_THRESHOLD_MAX;
        }
    }

    /*
     * Overuse: above the threshold for PARLEY_BWE_OVERUSE_US and two
     * samples, and not falling; one noisy sample is not a queue.
     */
    if (trend > b->threshold_ms) {
        if (b->over_count++ == 0) {
            b->over_since_us = now_us;
        }

        if (b->over_count > 1
            && now_us - b->over_since_us >= PARLEY_BWE_OVERUSE_US
            && trend >= b->prev_trend)
        {
            b->usage = PARLEY_BWE_OVERUSE;
        }

    } else {
        b->over_count = 0;
        b->usage = trend < -b->threshold_ms ? PARLEY_BWE_UNDERUSE
                                            : PARLEY_BWE_NORMAL;
    }

    b->prev_trend = trend;
}


/* After a feedback: both rates move by what it said (gcc 5.5, 6). */
static void
parley_bwe_update(parley_bwe_t *b, const parley_bwe_window_t *w,
    int64_t now_us)
{
    double    dt, grow, rate, loss;
    uint32_t  count;

    dt = b->last_update_us ? (double) (now_us - b->last_update_us) / 1e6 : 0;
    dt = dt < 0 ? 0 : (dt > 1.0 ? 1.0 : dt);
    grow = 1.0 + (PARLEY_BWE_GROWTH - 1.0) * dt;
    b->last_update_us = now_us;

    switch (b->usage) {

    case PARLEY_BWE_OVERUSE:
        if (now_us - b->last_decrease_us >= PARLEY_BWE_DECREASE_GAP_US
            || b->last_decrease_us == 0)
        {
            rate = b->acked_bps ? (double) b->acked_bps : b->delay_bps;

            if (PARLEY_BWE_BACKOFF * rate < b->delay_bps) {
                b->delay_bps = PARLEY_BWE_BACKOFF * rate;
            }

            b->last_decrease_us = now_us;
            b->overuses++;
        }
        break;

    case PARLEY_BWE_UNDERUSE:
        break;

    default:
        b->delay_bps *= grow;
        break;
    }

    if (b->loss_received + b->loss_lost == 0) {
        b->loss_start_us = now_us;
    }

    b->loss_received += w->received;
    b->loss_lost += w->lost;
    count = b->loss_received + b->loss_lost;

    if (count >= PARLEY_BWE_LOSS_PACKETS
        || (count >= PARLEY_BWE_LOSS_PACKETS / 10
            && now_us - b->loss_start_us >= PARLEY_BWE_LOSS_WINDOW_US))
    {
        loss = (double) b->loss_lost / (double) count;

        if (loss > PARLEY_BWE_LOSS_HIGH) {
            b->loss_bps *= 1.0 - 0.5 * loss;
        }

        b->loss_low = (loss < PARLEY_BWE_LOSS_LOW);
        b->loss_received = 0;
        b->loss_lost = 0;
    }

    /* grown while the last sample said under 2 % */
    if (b->loss_low) {
        b->loss_bps *= grow;
    }

    b->delay_bps = parley_bwe_clamp(b, b->delay_bps);
    b->loss_bps = parley_bwe_clamp(b, b->loss_bps);
}


static double
parley_bwe_clamp(const parley_bwe_t *b, double bps)
{
    if (bps < (double) b->min_bps) {
        return (double) b->min_bps;
    }

    if (bps > (double) b->max_bps) {
        return (double) b->max_bps;
    }

    return bps;
}
