/*
 * Sender reports for one leg, and the subscriber's reports about it: see
 * parley_rtcp_send.h.
 */

#include <string.h>

#include "parley_rtcp_send.h"


static parley_rtp_rc_t parley_rtcp_send_put_sr(parley_rtcp_send_t *s,
    parley_rtcp_writer_t *w, uint64_t now_us, uint64_t ntp_now,
    uint32_t *lsr);
static uint32_t parley_rtcp_send_ts_after(const parley_rtcp_send_t *s,
    uint32_t ts, uint64_t elapsed_us);
static void parley_rtcp_send_remember(parley_rtcp_send_t *s, uint32_t lsr,
    uint64_t now_us);
static void parley_rtcp_send_rtt(parley_rtcp_send_t *s,
    const parley_rtcp_report_block_t *rb, uint64_t now_us);


parley_rtp_rc_t
parley_rtcp_send_init(parley_rtcp_send_t *s, uint32_t ssrc,
    uint32_t clock_rate, const uint8_t *cname, size_t cname_len,
    uint64_t interval_us)
{
    if (clock_rate == 0 || cname == NULL || cname_len == 0
        || cname_len > PARLEY_RTCP_SEND_CNAME_MAX)
    {
        return PARLEY_RTP_ERR_INVAL;
    }

    memset(s, 0, sizeof(*s));
    s->ssrc = ssrc;
    s->clock_rate = clock_rate;
    s->cname_len = (uint8_t) cname_len;
    memcpy(s->cname, cname, cname_len);
    parley_rtcp_timer_init(&s->timer, interval_us);

    return PARLEY_RTP_OK;
}


void
parley_rtcp_send_on_rtp(parley_rtcp_send_t *s, uint32_t leg_ts,
    size_t payload_len, uint64_t now_us)
{
    s->packets++;
    s->octets += (uint32_t) payload_len;
    s->last_ts = leg_ts;
    s->last_us = now_us;
    s->sent_any = 1;
    parley_rtcp_timer_start(&s->timer, now_us);
}


void
parley_rtcp_send_set_source(parley_rtcp_send_t *s,
    const parley_rtcp_sr_info_t *sr, uint32_t ts_offset)
{
    s->ts_offset = ts_offset;

    if (sr == NULL) {
        s->have_source = 0;
        return;
    }

    s->source = *sr;
    s->have_source = 1;
}


parley_rtp_rc_t
parley_rtcp_send_on_rtcp(parley_rtcp_send_t *s, const uint8_t *buf,
    size_t len, uint64_t now_us)
{
    size_t                i, n;
    parley_rtp_rc_t       rc;
    parley_rtcp_sr_t      sr;
    parley_rtcp_rr_t      rr;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;
    const parley_rtcp_report_block_t  *blocks;

    rc = parley_rtcp_validate(buf, len);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    parley_rtcp_iter_init(&it, buf, len);

    while (parley_rtcp_next(&it, &pkt) == PARLEY_RTP_OK) {

        if (pkt.type == PARLEY_RTCP_RR
            && parley_rtcp_parse_rr(&pkt, &rr) == PARLEY_RTP_OK)
        {
            blocks = rr.blocks;
            n = rr.block_count;

        } else if (pkt.type == PARLEY_RTCP_SR
                   && parley_rtcp_parse_sr(&pkt, &sr) == PARLEY_RTP_OK)
        {
            blocks = sr.blocks;
            n = sr.block_count;

        } else {
            continue;
        }

        for (i = 0; i < n; i++) {
            parley_rtcp_send_on_report_block(s, &blocks[i], now_us);
        }
    }

    return PARLEY_RTP_OK;
}


void
parley_rtcp_send_on_report_block(parley_rtcp_send_t *s,
    const parley_rtcp_report_block_t *rb, uint64_t now_us)
{
    parley_rtcp_leg_stats_t  *st;

    if (rb->ssrc != s->ssrc) {
        return;
    }

    st = &s->stats;
    st->have_report = 1;
    st->fraction_lost = rb->fraction_lost;
    st->cumulative_lost = rb->cumulative_lost;
    st->ext_highest_seq = rb->ext_highest_seq;
    st->jitter = rb->jitter;
    st->jitter_us = (uint64_t) rb->jitter * 1000000 / s->clock_rate;
    st->report_us = now_us;
    st->reports++;

    /* RFC 3550 6.4.1: LSR 0 means no SR was received yet */
    if (rb->lsr != 0) {
        parley_rtcp_send_rtt(s, rb, now_us);
    }
}


/* RTT = A - LSR - DLSR, with A - LSR measured on our own clock */
static void
parley_rtcp_send_rtt(parley_rtcp_send_t *s,
    const parley_rtcp_report_block_t *rb, uint64_t now_us)
{
    size_t                    i;
    uint32_t                  since, rtt;
    parley_rtcp_leg_stats_t  *st;

    for (i = 0; i < PARLEY_RTCP_SEND_SR_HISTORY; i++) {
        if (s->sent[i].sent_us != 0 && s->sent[i].lsr == rb->lsr) {
            break;
        }
    }

    if (i == PARLEY_RTCP_SEND_SR_HISTORY || now_us < s->sent[i].sent_us) {
        return;
    }

    since = parley_rtcp_us_to_q16(now_us - s->sent[i].sent_us);
    rtt = since > rb->dlsr ? since - rb->dlsr : 0;

    st = &s->stats;
    st->rtt_q16 = rtt;
    st->rtt_us = (uint64_t) rtt * 1000000 >> 16;

    /* RFC 6298 2.3's smoothing, with its 1/8 gain */
    st->srtt_us = st->have_rtt ? (st->srtt_us * 7 + st->rtt_us) / 8
                               : st->rtt_us;
    st->have_rtt = 1;
}


const parley_rtcp_leg_stats_t *
parley_rtcp_send_stats(const parley_rtcp_send_t *s)
{
    return &s->stats;
}


int
parley_rtcp_send_due(const parley_rtcp_send_t *s, uint64_t now_us)
{
    return parley_rtcp_timer_due(&s->timer, now_us);
}


uint64_t
parley_rtcp_send_next_us(const parley_rtcp_send_t *s)
{
    return s->timer.started ? s->timer.next_us : 0;
}


parley_rtp_rc_t
parley_rtcp_send_build_sr(parley_rtcp_send_t *s, parley_rtcp_writer_t *w,
    uint64_t now_us, uint64_t ntp_now)
{
    uint32_t         lsr;
    parley_rtp_rc_t  rc;

    rc = parley_rtcp_send_put_sr(s, w, now_us, ntp_now, &lsr);
    if (rc == PARLEY_RTP_OK) {
        parley_rtcp_send_remember(s, lsr, now_us);
    }

    return rc;
}


parley_rtp_rc_t
parley_rtcp_send_build(parley_rtcp_send_t *s, parley_rtcp_writer_t *w,
    uint64_t now_us, uint64_t ntp_now, uint32_t random)
{
    size_t           saved;
    uint32_t         lsr;
    parley_rtp_rc_t  rc;

    saved = w->len;

    rc = parley_rtcp_send_put_sr(s, w, now_us, ntp_now, &lsr);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    rc = parley_rtcp_build_sdes_cname(w, s->ssrc, s->cname, s->cname_len);
    if (rc != PARLEY_RTP_OK) {
        w->len = saved;
        return rc;
    }

    parley_rtcp_send_remember(s, lsr, now_us);
    parley_rtcp_timer_sent(&s->timer, now_us, random);

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_rtcp_send_put_sr(parley_rtcp_send_t *s, parley_rtcp_writer_t *w,
    uint64_t now_us, uint64_t ntp_now, uint32_t *lsr)
{
    uint64_t          ntp, elapsed;
    parley_rtcp_sr_t  sr;

    if (!s->sent_any) {
        return PARLEY_RTP_DONE;
    }

    memset(&sr, 0, sizeof(sr));
    sr.ssrc = s->ssrc;
    sr.packet_count = s->packets;
    sr.octet_count = s->octets;

    if (s->have_source) {
        /* the publisher's timeline, moved on by the time since its SR */
        elapsed = now_us > s->source.arrival_us
                  ? now_us - s->source.arrival_us : 0;
        ntp = s->source.ntp + parley_rtcp_us_to_ntp(elapsed);
        sr.rtp_ts = parley_rtcp_send_ts_after(s, s->source.rtp_ts
                                                 + s->ts_offset, elapsed);

    } else {
        elapsed = now_us > s->last_us ? now_us - s->last_us : 0;
        ntp = ntp_now;
        sr.rtp_ts = parley_rtcp_send_ts_after(s, s->last_ts, elapsed);
    }

    sr.ntp_sec = (uint32_t) (ntp >> 32);
    sr.ntp_frac = (uint32_t) ntp;
    *lsr = parley_rtcp_ntp_middle(sr.ntp_sec, sr.ntp_frac);

    return parley_rtcp_build_sr(w, &sr);
}


/* RFC 3550 6.4.1: the timestamp of the same instant as the NTP time */
static uint32_t
parley_rtcp_send_ts_after(const parley_rtcp_send_t *s, uint32_t ts,
    uint64_t elapsed_us)
{
    uint64_t  ticks;

    ticks = elapsed_us / 1000000 * s->clock_rate
            + elapsed_us % 1000000 * s->clock_rate / 1000000;

    return ts + (uint32_t) ticks;
}


static void
parley_rtcp_send_remember(parley_rtcp_send_t *s, uint32_t lsr,
    uint64_t now_us)
{
    parley_rtcp_sent_sr_t  *e;

    e = &s->sent[s->sent_next];
    e->lsr = lsr;

    /* 0 marks an empty place: a report at time 0 is taken as 1 us later */
    e->sent_us = now_us ? now_us : 1;

    s->sent_next = (s->sent_next + 1) % PARLEY_RTCP_SEND_SR_HISTORY;
}
