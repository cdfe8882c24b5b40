/*
 * What one subscribe connection's network carries: see parley_downlink.h.
 */

#include <string.h>

#include "parley_downlink.h"


static uint64_t parley_downlink_clamp(uint64_t bps);
static void parley_downlink_learn(parley_downlink_t *d, int64_t now_us);
static void parley_downlink_probe_done(parley_downlink_t *d, int carried,
    int64_t now_us);


void
parley_downlink_init(parley_downlink_t *d)
{
    memset(d, 0, sizeof(parley_downlink_t));

    parley_bwe_init(&d->bwe, PARLEY_DOWNLINK_START_BPS,
                    PARLEY_DOWNLINK_MIN_BPS, PARLEY_DOWNLINK_MAX_BPS);

    d->fb_tokens = (int64_t) PARLEY_DOWNLINK_FB_BURST * 1000000;
    d->proven_bps = PARLEY_DOWNLINK_START_BPS;
    d->probe_gap_us = PARLEY_DOWNLINK_PROBE_GAP_US;
}


int
parley_downlink_accept(parley_downlink_t *d, int64_t now_us)
{
    int64_t  elapsed;

    elapsed = now_us - d->fb_at_us;
    d->fb_at_us = now_us;

    /* a clock that goes back gives nothing */
    if (elapsed > 0) {
        if (elapsed > (int64_t) PARLEY_DOWNLINK_FB_BURST * 1000000) {
            elapsed = (int64_t) PARLEY_DOWNLINK_FB_BURST * 1000000;
        }

        d->fb_tokens += elapsed * PARLEY_DOWNLINK_FB_RATE;

        if (d->fb_tokens > (int64_t) PARLEY_DOWNLINK_FB_BURST * 1000000) {
            d->fb_tokens = (int64_t) PARLEY_DOWNLINK_FB_BURST * 1000000;
        }
    }

    if (d->fb_tokens < 1000000) {
        d->refused++;
        return 0;
    }

    d->fb_tokens -= 1000000;

    return 1;
}


uint16_t
parley_downlink_on_send(parley_downlink_t *d, uint32_t size, int64_t now_us)
{
    d->sent_us = now_us;

    return parley_bwe_on_send(&d->bwe, size, now_us);
}


uint16_t
parley_downlink_next_seq(const parley_downlink_t *d)
{
    return (uint16_t) d->bwe.next_seq;
}


void
parley_downlink_on_twcc(parley_downlink_t *d,
    const parley_rtcp_twcc_packet_t *pkts, size_t n, int64_t now_us)
{
    parley_bwe_on_feedback(&d->bwe, pkts, n, now_us);

    d->source = PARLEY_DOWNLINK_TWCC;
    d->feedback_us = now_us;
    d->twcc_feedbacks++;

    parley_downlink_learn(d, now_us);
}


/* After a feedback: what the path has shown, and the probe's verdict. */
static void
parley_downlink_learn(parley_downlink_t *d, int64_t now_us)
{
    uint64_t  est, received, lost;

    /* a queue built: the path carries less than was thought */

    if (d->bwe.overuses != d->overuses) {
        d->overuses = d->bwe.overuses;

        /* the failed probe's own queue, draining: not the path's news */

        if (now_us < d->settle_us) {
            parley_bwe_raise(&d->bwe, d->probe_base_bps);
            return;
        }

        est = parley_bwe_estimate(&d->bwe);

        if (d->proven_bps > est) {
            d->proven_bps = est;
        }

        if (d->probe_bps) {
            parley_downlink_probe_done(d, 0, now_us);
        }
    }

    /* what arrived lately, the path carried */

    if (d->bwe.acked_bps > d->proven_bps) {
        d->proven_bps = parley_downlink_clamp(d->bwe.acked_bps);
    }

    if (d->probe_bps == 0) {
        return;
    }

    received = d->bwe.reported_received - d->probe_received;
    lost = d->bwe.reported_lost - d->probe_lost;

    if (received + lost >= 20
        && (double) lost > (double) (received + lost)
                           * PARLEY_DOWNLINK_PROBE_LOSS)
    {
        parley_downlink_probe_done(d, 0, now_us);
        return;
    }

    /*
     * Carried once the feedback has told of the probe's last packet, and
     * the delay trend has had the time to see a queue it built, with no
     * queue building and little lost; a probe that could send nothing
     * proved nothing, and ends unanswered (parley_downlink_probe()).
     */

    if (now_us - d->probe_start_us
            >= PARLEY_DOWNLINK_PROBE_US + PARLEY_DOWNLINK_PROBE_WAIT_US
        && d->probe_padded
        && parley_bwe_reported(&d->bwe, d->probe_last))
    {
        parley_downlink_probe_done(d, 1, now_us);
    }
}


static void
parley_downlink_probe_done(parley_downlink_t *d, int carried,
    int64_t now_us)
{
    if (carried) {
        if (d->proven_bps < d->probe_bps) {
            d->proven_bps = d->probe_bps;
        }

        parley_bwe_raise(&d->bwe, d->probe_bps);
        d->probe_gap_us = PARLEY_DOWNLINK_PROBE_GAP_US;

    } else {
        /* what the media took before the probe, the path carried */
        parley_bwe_raise(&d->bwe, d->probe_base_bps);

        if (d->proven_bps < d->probe_base_bps) {
            d->proven_bps = d->probe_base_bps;
        }

        d->probes_failed++;
        d->settle_us = now_us + PARLEY_DOWNLINK_PROBE_SETTLE_US;
        d->probe_gap_us *= 2;

        if (d->probe_gap_us > PARLEY_DOWNLINK_PROBE_MAX_GAP_US) {
            d->probe_gap_us = PARLEY_DOWNLINK_PROBE_MAX_GAP_US;
        }
    }

    d->probe_bps = 0;
    d->probe_next_us = now_us + d->probe_gap_us;
}


int
parley_downlink_may_probe(const parley_downlink_t *d, int64_t now_us)
{
    /* nor into a path that reports nothing */
    return d->source == PARLEY_DOWNLINK_TWCC && d->probe_bps == 0
           && now_us >= d->probe_next_us
           && now_us - d->feedback_us < PARLEY_DOWNLINK_SILENT_US;
}


int
parley_downlink_probe(parley_downlink_t *d, uint64_t want_bps,
    uint64_t media_bps, int64_t now_us)
{
    uint64_t  budget, step;

    /* a probe whose feedback never came (the feedback fell silent) */

    if (d->probe_bps
        && now_us - d->probe_start_us
           >= PARLEY_DOWNLINK_PROBE_US + 4 * PARLEY_DOWNLINK_PROBE_WAIT_US)
    {
        parley_downlink_probe_done(d, 0, now_us);
    }

    if (!parley_downlink_may_probe(d, now_us)) {
        return 0;
    }

    /*
     * An eighth above what they want: a layer switched up needs a tenth of
     * its rate spare (parley_alloc), and the probe must prove that too.
     */

    budget = parley_downlink_budget(d, now_us);
    want_bps = parley_downlink_clamp(want_bps + want_bps / 8);

    if (want_bps <= budget || want_bps <= media_bps + media_bps / 20) {
        return 0;
    }

    /*
     * In steps: at most twice the budget (or a step above it), so that a
     * probe into a path that cannot carry it overflows its queue for a
     * moment, not by many times what flows.
     */

    step = budget * 2;

    if (step < budget + PARLEY_DOWNLINK_PROBE_STEP_BPS) {
        step = budget + PARLEY_DOWNLINK_PROBE_STEP_BPS;
    }

    d->probe_bps = (want_bps < step) ? want_bps : step;
    d->probe_media_bps = media_bps;
    d->probe_base_bps = budget;
    d->probe_padded = 0;
    d->probe_start_us = now_us;
    d->probe_received = d->bwe.reported_received;
    d->probe_lost = d->bwe.reported_lost;
    d->probes++;

    return 1;
}


uint64_t
parley_downlink_padding(const parley_downlink_t *d, int64_t now_us)
{
    int64_t   elapsed;
    uint64_t  due;

    if (d->probe_bps == 0 || d->probe_bps <= d->probe_media_bps) {
        return 0;
    }

    elapsed = now_us - d->probe_start_us;

    if (elapsed <= 0 || elapsed >= PARLEY_DOWNLINK_PROBE_US) {
        return 0;
    }

    due = (d->probe_bps - d->probe_media_bps) / 8 * (uint64_t) elapsed
          / 1000000;

    return due > d->probe_padded ? due - d->probe_padded : 0;
}


void
parley_downlink_padded(parley_downlink_t *d, uint64_t bytes)
{
    d->probe_padded += bytes;
    d->probe_last = d->bwe.next_seq - 1;
}


int
parley_downlink_probing(const parley_downlink_t *d)
{
    return d->probe_bps != 0;
}


void
parley_downlink_on_remb(parley_downlink_t *d, uint64_t bps, int64_t now_us)
{
    d->rembs++;

    if (d->source == PARLEY_DOWNLINK_TWCC) {
        return;
    }

    d->source = PARLEY_DOWNLINK_REMB;
    d->remb_bps = parley_downlink_clamp(bps);
    d->feedback_us = now_us;
}


uint64_t
parley_downlink_budget(const parley_downlink_t *d, int64_t now_us)
{
    int64_t   silent;
    uint64_t  bps;

    switch (d->source) {

    case PARLEY_DOWNLINK_REMB:
        return d->remb_bps;

    case PARLEY_DOWNLINK_TWCC:
        bps = parley_bwe_estimate(&d->bwe);

        /* no higher than the path has shown it carries: see probes */
        if (bps > d->proven_bps) {
            bps = d->proven_bps;
        }

        /*
         * Nothing reported since packets went out: as if all were lost.
         * Packets sent after the last feedback, and a silence past one
         * period, both; a connection sent nothing has nothing to report.
         */

        silent = now_us - d->feedback_us;

        if (d->sent_us > d->feedback_us && silent >= PARLEY_DOWNLINK_SILENT_US)
        {
            silent /= PARLEY_DOWNLINK_SILENT_US;
            bps = (silent >= 16) ? 0 : bps >> silent;
        }

        return parley_downlink_clamp(bps);

    default:
        return PARLEY_DOWNLINK_UNLIMITED;
    }
}


int
parley_downlink_due(const parley_downlink_t *d, int64_t now_us)
{
    uint64_t  bps, diff;

    if (!d->allocated) {
        return 1;
    }

    if (now_us - d->allocated_us < PARLEY_DOWNLINK_GAP_US) {
        return 0;
    }

    if (now_us - d->allocated_us >= PARLEY_DOWNLINK_REFRESH_US) {
        return 1;
    }

    bps = parley_downlink_budget(d, now_us);

    if (bps == d->allocated_bps) {
        return 0;
    }

    if (bps == PARLEY_DOWNLINK_UNLIMITED
        || d->allocated_bps == PARLEY_DOWNLINK_UNLIMITED)
    {
        return 1;
    }

    diff = (bps > d->allocated_bps) ? bps - d->allocated_bps
                                    : d->allocated_bps - bps;

    return diff > d->allocated_bps / 20;
}


void
parley_downlink_allocated(parley_downlink_t *d, uint64_t budget_bps,
    int64_t now_us)
{
    d->allocated = 1;
    d->allocated_bps = budget_bps;
    d->allocated_us = now_us;
}


static uint64_t
parley_downlink_clamp(uint64_t bps)
{
    if (bps < PARLEY_DOWNLINK_MIN_BPS) {
        return PARLEY_DOWNLINK_MIN_BPS;
    }

    if (bps > PARLEY_DOWNLINK_MAX_BPS) {
        return PARLEY_DOWNLINK_MAX_BPS;
    }

    return bps;
}
