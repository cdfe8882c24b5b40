/*
 * What one subscribe connection's network carries: see parley_downlink.h.
 */

#include <string.h>

#include "parley_downlink.h"


static uint64_t parley_downlink_clamp(uint64_t bps);


void
parley_downlink_init(parley_downlink_t *d)
{
    memset(d, 0, sizeof(parley_downlink_t));

    parley_bwe_init(&d->bwe, PARLEY_DOWNLINK_START_BPS,
                    PARLEY_DOWNLINK_MIN_BPS, PARLEY_DOWNLINK_MAX_BPS);

    d->fb_tokens = (int64_t) PARLEY_DOWNLINK_FB_BURST * 1000000;
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


void
parley_downlink_on_twcc(parley_downlink_t *d,
    const parley_rtcp_twcc_packet_t *pkts, size_t n, int64_t now_us)
{
    parley_bwe_on_feedback(&d->bwe, pkts, n, now_us);

    d->source = PARLEY_DOWNLINK_TWCC;
    d->feedback_us = now_us;
    d->twcc_feedbacks++;
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
