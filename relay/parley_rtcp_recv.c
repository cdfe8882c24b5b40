/*
 * Receiver reports, receiver statistics and a loss-based REMB towards one
 * publisher peer connection: see parley_rtcp_recv.h.
 */

#include <string.h>

#include "parley_rtcp_recv.h"


/* RFC 3550 6.4.1: the fraction lost is in 1/256 */
#define PARLEY_REMB_LOSS_HIGH   25     /* about 10% */
#define PARLEY_REMB_LOSS_LOW    5      /* about 2% */


static parley_rtcp_source_t *parley_rtcp_recv_find(parley_rtcp_recv_t *r,
    uint32_t ssrc);
static parley_rtcp_source_t *parley_rtcp_recv_take(parley_rtcp_recv_t *r,
    uint32_t ssrc, uint32_t clock_rate, uint64_t now_us);
static void parley_rtcp_recv_on_sr(parley_rtcp_recv_t *r,
    const parley_rtcp_packet_t *pkt, uint64_t now_us);
static void parley_rtcp_recv_on_bye(parley_rtcp_recv_t *r,
    const parley_rtcp_packet_t *pkt);
static parley_rtp_rc_t parley_rtcp_recv_put_remb(parley_rtcp_recv_t *r,
    parley_rtcp_writer_t *w, uint64_t bitrate);
static uint64_t parley_rtcp_recv_estimate(const parley_rtcp_recv_t *r,
    uint64_t now_us, uint8_t loss, uint64_t *rate_bps);


parley_rtp_rc_t
parley_rtcp_recv_init(parley_rtcp_recv_t *r, uint32_t sender_ssrc,
    const uint8_t *cname, size_t cname_len, uint64_t interval_us)
{
    if (cname == NULL || cname_len == 0
        || cname_len > PARLEY_RTCP_CNAME_MAX)
    {
        return PARLEY_RTP_ERR_INVAL;
    }

    memset(r, 0, sizeof(*r));
    r->sender_ssrc = sender_ssrc;
    r->cname_len = (uint8_t) cname_len;
    memcpy(r->cname, cname, cname_len);
    parley_rtcp_timer_init(&r->timer, interval_us);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_recv_enable_remb(parley_rtcp_recv_t *r, uint64_t start_bps,
    uint64_t min_bps, uint64_t max_bps)
{
    if (max_bps == 0 || min_bps > start_bps || start_bps > max_bps) {
        return PARLEY_RTP_ERR_INVAL;
    }

    r->remb.enabled = 1;
    r->remb.bitrate = start_bps;
    r->remb.start_bps = start_bps;
    r->remb.min_bps = min_bps;
    r->remb.max_bps = max_bps;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_recv_on_rtp(parley_rtcp_recv_t *r, const parley_rtp_header_t *h,
    size_t len, uint32_t clock_rate, uint64_t now_us)
{
    parley_rtcp_source_t  *s;

    s = parley_rtcp_recv_find(r, h->ssrc);

    if (s == NULL) {
        s = parley_rtcp_recv_take(r, h->ssrc, clock_rate, now_us);
        if (s == NULL) {
            return PARLEY_RTP_ERR_NOSPACE;
        }
    }

    if (parley_rtp_stats_update(&s->stats, h->seq, h->ts, now_us)) {
        s->heard = 1;
    }

    s->last_us = now_us;
    s->packets++;
    s->bytes += len;

    if (!r->timer.started) {
        r->remb.since_us = now_us;
    }

    r->remb.bytes += len;
    parley_rtcp_timer_start(&r->timer, now_us);

    return PARLEY_RTP_OK;
}


static parley_rtcp_source_t *
parley_rtcp_recv_find(parley_rtcp_recv_t *r, uint32_t ssrc)
{
    size_t  i;

    for (i = 0; i < PARLEY_RTCP_RECV_MAX_SOURCES; i++) {
        if (r->source[i].used && r->source[i].ssrc == ssrc) {
            return &r->source[i];
        }
    }

    return NULL;
}


/* a free place, else the one silent for longest if silent long enough */
static parley_rtcp_source_t *
parley_rtcp_recv_take(parley_rtcp_recv_t *r, uint32_t ssrc,
    uint32_t clock_rate, uint64_t now_us)
{
    size_t                 i;
    parley_rtcp_source_t  *s, *idle;

    s = NULL;
    idle = NULL;

    for (i = 0; i < PARLEY_RTCP_RECV_MAX_SOURCES; i++) {
        if (!r->source[i].used) {
            s = &r->source[i];
            break;
        }

        if (now_us - r->source[i].last_us > PARLEY_RTCP_RECV_IDLE_US
            && (idle == NULL || r->source[i].last_us < idle->last_us))
        {
            idle = &r->source[i];
        }
    }

    if (s == NULL) {
        s = idle;
    }

    if (s == NULL) {
        return NULL;
    }

    memset(s, 0, sizeof(*s));
    s->used = 1;
    s->ssrc = ssrc;
    parley_rtp_stats_init(&s->stats, clock_rate);

    return s;
}


parley_rtp_rc_t
parley_rtcp_recv_on_rtcp(parley_rtcp_recv_t *r, const uint8_t *buf,
    size_t len, uint64_t now_us)
{
    parley_rtp_rc_t       rc;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    rc = parley_rtcp_validate(buf, len);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    parley_rtcp_iter_init(&it, buf, len);

    while (parley_rtcp_next(&it, &pkt) == PARLEY_RTP_OK) {

        switch (pkt.type) {

        case PARLEY_RTCP_SR:
            parley_rtcp_recv_on_sr(r, &pkt, now_us);
            break;

        case PARLEY_RTCP_BYE:
            parley_rtcp_recv_on_bye(r, &pkt);
            break;

        default:
            break;
        }
    }

    return PARLEY_RTP_OK;
}


static void
parley_rtcp_recv_on_sr(parley_rtcp_recv_t *r, const parley_rtcp_packet_t *pkt,
    uint64_t now_us)
{
    parley_rtcp_sr_t       sr;
    parley_rtcp_source_t  *s;

    if (parley_rtcp_parse_sr(pkt, &sr) != PARLEY_RTP_OK) {
        return;
    }

    /* an SR before any media of its SSRC has no stream to go with */
    s = parley_rtcp_recv_find(r, sr.ssrc);
    if (s == NULL) {
        return;
    }

    /* RFC 3550 6.4.1: LSR is the middle 32 bits of the SR's NTP time */
    parley_rtp_stats_on_sr(&s->stats,
                           parley_rtcp_ntp_middle(sr.ntp_sec, sr.ntp_frac),
                           now_us);

    s->have_sr = 1;
    s->sr.ntp = ((uint64_t) sr.ntp_sec << 32) | sr.ntp_frac;
    s->sr.rtp_ts = sr.rtp_ts;
    s->sr.packet_count = sr.packet_count;
    s->sr.octet_count = sr.octet_count;
    s->sr.arrival_us = now_us;
}


static void
parley_rtcp_recv_on_bye(parley_rtcp_recv_t *r, const parley_rtcp_packet_t *pkt)
{
    size_t                 i;
    parley_rtcp_bye_t      bye;
    parley_rtcp_source_t  *s;

    if (parley_rtcp_parse_bye(pkt, &bye) != PARLEY_RTP_OK) {
        return;
    }

    for (i = 0; i < bye.ssrc_count; i++) {
        s = parley_rtcp_recv_find(r, bye.ssrcs[i]);
        if (s != NULL) {
            s->used = 0;
        }
    }
}


int
parley_rtcp_recv_last_sr(const parley_rtcp_recv_t *r, uint32_t ssrc,
    parley_rtcp_sr_info_t *sr)
{
    parley_rtcp_source_t  *s;

    s = parley_rtcp_recv_find((parley_rtcp_recv_t *) r, ssrc);
    if (s == NULL || !s->have_sr) {
        return 0;
    }

    *sr = s->sr;

    return 1;
}


const parley_rtp_stats_t *
parley_rtcp_recv_stats(const parley_rtcp_recv_t *r, uint32_t ssrc)
{
    parley_rtcp_source_t  *s;

    s = parley_rtcp_recv_find((parley_rtcp_recv_t *) r, ssrc);

    return s != NULL ? &s->stats : NULL;
}


int
parley_rtcp_recv_due(const parley_rtcp_recv_t *r, uint64_t now_us)
{
    return parley_rtcp_timer_due(&r->timer, now_us);
}


uint64_t
parley_rtcp_recv_next_us(const parley_rtcp_recv_t *r)
{
    return r->timer.started ? r->timer.next_us : 0;
}


parley_rtp_rc_t
parley_rtcp_recv_build(parley_rtcp_recv_t *r, parley_rtcp_writer_t *w,
    uint64_t now_us, uint32_t random)
{
    size_t              i, k, saved;
    uint8_t             loss;
    uint64_t            bitrate, rate;
    parley_rtp_rc_t     rc;
    parley_rtcp_rr_t    rr;
    parley_rtp_stats_t  stats[PARLEY_RTCP_RECV_MAX_SOURCES];

    saved = w->len;
    rr.ssrc = r->sender_ssrc;
    loss = 0;
    k = 0;

    /* RFC 3550 6.4: a block for each source heard since the last report */
    for (i = 0; i < PARLEY_RTCP_RECV_MAX_SOURCES; i++) {
        stats[i] = r->source[i].stats;

        if (!r->source[i].used || !r->source[i].heard) {
            continue;
        }

        parley_rtcp_report_block_from_stats(&stats[i], r->source[i].ssrc,
                                            now_us, &rr.blocks[k]);
        if (rr.blocks[k].fraction_lost > loss) {
            loss = rr.blocks[k].fraction_lost;
        }
        k++;
    }

    rr.block_count = k;

    rc = parley_rtcp_build_rr(w, &rr);

    if (rc == PARLEY_RTP_OK) {
        rc = parley_rtcp_build_sdes_cname(w, r->sender_ssrc, r->cname,
                                          r->cname_len);
    }

    bitrate = 0;
    rate = 0;

    if (rc == PARLEY_RTP_OK && r->remb.enabled) {
        bitrate = parley_rtcp_recv_estimate(r, now_us, loss, &rate);
        rc = parley_rtcp_recv_put_remb(r, w, bitrate);
    }

    if (rc != PARLEY_RTP_OK) {
        w->len = saved;
        return rc;
    }

    for (i = 0; i < PARLEY_RTCP_RECV_MAX_SOURCES; i++) {
        r->source[i].stats = stats[i];
        r->source[i].heard = 0;
    }

    if (r->remb.enabled) {
        r->remb.bitrate = bitrate;
        r->remb.rate_bps = rate;
        r->remb.bytes = 0;
        r->remb.since_us = now_us;
    }

    r->reports++;
    parley_rtcp_timer_sent(&r->timer, now_us, random);

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_rtcp_recv_put_remb(parley_rtcp_recv_t *r, parley_rtcp_writer_t *w,
    uint64_t bitrate)
{
    size_t    i, n;
    uint32_t  ssrcs[PARLEY_RTCP_RECV_MAX_SOURCES];

    n = 0;

    for (i = 0; i < PARLEY_RTCP_RECV_MAX_SOURCES; i++) {
        if (r->source[i].used) {
            ssrcs[n++] = r->source[i].ssrc;
        }
    }

    return parley_rtcp_build_remb(w, r->sender_ssrc, bitrate, ssrcs, n);
}


/* the loss-based controller described in parley_rtcp_recv.h */
static uint64_t
parley_rtcp_recv_estimate(const parley_rtcp_recv_t *r, uint64_t now_us,
    uint8_t loss, uint64_t *rate_bps)
{
    uint64_t  est, elapsed, cap;

    est = r->remb.bitrate;
    elapsed = now_us - r->remb.since_us;

    *rate_bps = elapsed ? r->remb.bytes * 8 * 1000000 / elapsed
                        : r->remb.rate_bps;

    if (loss > PARLEY_REMB_LOSS_HIGH) {
        est -= est * loss / 512;

    } else if (loss < PARLEY_REMB_LOSS_LOW) {
        est += est * 8 / 100;
    }

    cap = *rate_bps * 2;
    if (cap < r->remb.start_bps) {
        cap = r->remb.start_bps;
    }

    if (est > cap) {
        est = cap;
    }

    if (est < r->remb.min_bps) {
        est = r->remb.min_bps;
    }

    if (est > r->remb.max_bps) {
        est = r->remb.max_bps;
    }

    return est;
}


uint64_t
parley_rtcp_recv_remb_bps(const parley_rtcp_recv_t *r)
{
    return r->remb.enabled ? r->remb.bitrate : 0;
}
