/*
 * parley: RTCP in a worker: what subscribers ask of the tracks they
 * receive, and what publishers are told.
 *
 * Keyframes. A subscriber's PLI or FIR, a leg newly answered, and a
 * simulcast switch waiting for a layer ask the owner of the track for a
 * keyframe: directly when this worker owns it, through the owner's inbox
 * otherwise. The owner sends at most one PLI per layer per
 * NGX_HTTP_PARLEY_PLI_GAP, and folds the ones asked sooner into one sent
 * when the gap has passed.
 *
 * Retransmissions. A subscriber's generic NACK (RFC 4585 6.2.1) is
 * answered from the track's ring, which every reading worker indexes
 * (relay/parley_retransmit): as RTX (RFC 4588) on the leg's RTX stream,
 * never as the packet itself, whose number the leg sent already; a per-leg
 * limiter keeps a NACK storm from becoming a retransmission storm.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_media.h"


#define NGX_HTTP_PARLEY_PLI_GAP       300     /* ms between asked keyframes */
#define NGX_HTTP_PARLEY_ASK_GAP       100     /* ms between a leg's asks */
#define NGX_HTTP_PARLEY_NACKS         64      /* numbers read from a NACK */
#define NGX_HTTP_PARLEY_NACK_SOON     10      /* ms to a publisher's NACK */


static void ngx_http_parley_subscriber_nack(ngx_http_parley_pc_t *pc,
    parley_rtcp_packet_t *pkt);
static void ngx_http_parley_leg_resend(ngx_http_parley_leg_t *leg,
    uint16_t seq, uint64_t now_us);
static void ngx_http_parley_feedback_send(ngx_http_parley_pc_t *pc,
    uint64_t now);
static void ngx_http_parley_legs_send(ngx_http_parley_pc_t *pc,
    uint64_t now);
static uint64_t ngx_http_parley_nacks_build(ngx_http_parley_pc_t *pc,
    parley_rtcp_writer_t *w, uint64_t now);
static void ngx_http_parley_leg_source(ngx_http_parley_leg_t *leg);
static ngx_http_parley_leg_t *ngx_http_parley_leg_by_ssrc(
    ngx_http_parley_pc_t *pc, uint32_t ssrc);


/*
 * RFC 4585 6.3.1 PLI, RFC 5104 4.3.1 FIR: the subscriber lost a frame of
 * the track it names, and asks for a keyframe of it; RFC 4585 6.2.1: it
 * lost packets, and asks for them again.
 */

void
ngx_http_parley_subscriber_rtcp(ngx_http_parley_pc_t *pc, uint8_t *buf,
    size_t len)
{
    size_t                   i, n;
    parley_rtcp_fb_t         fb;
    parley_rtcp_iter_t       it;
    parley_rtcp_packet_t     pkt;
    ngx_http_parley_leg_t   *leg;
    parley_rtcp_fir_entry_t  fir[8];

    parley_rtcp_iter_init(&it, buf, len);

    while (parley_rtcp_next(&it, &pkt) == PARLEY_RTP_OK) {

        if (pkt.type == PARLEY_RTCP_RTPFB && pkt.count == 1) {
            ngx_http_parley_subscriber_nack(pc, &pkt);
            continue;
        }

        /* transport-wide feedback; REMB (an application-layer PSFB) */

        if ((pkt.type == PARLEY_RTCP_RTPFB || pkt.type == PARLEY_RTCP_PSFB)
            && pkt.count == 15)
        {
            ngx_http_parley_bandwidth_rtcp(pc, &pkt);
            continue;
        }

        if (pkt.type != PARLEY_RTCP_PSFB) {
            continue;
        }

        if (pkt.count == 1 && parley_rtcp_parse_pli(&pkt, &fb)
                              == PARLEY_RTP_OK)
        {
            leg = ngx_http_parley_leg_by_ssrc(pc, fb.media_ssrc);

            if (leg) {
                (void) ngx_http_parley_leg_keyframe(leg, PARLEY_NONE);
            }

        } else if (pkt.count == 4
                   && parley_rtcp_parse_fir(&pkt, &fb, fir, 8, &n)
                      != PARLEY_RTP_ERR_MALFORMED)
        {
            for (i = 0; i < n && i < 8; i++) {
                leg = ngx_http_parley_leg_by_ssrc(pc, fir[i].ssrc);

                if (leg) {
                    (void) ngx_http_parley_leg_keyframe(leg, PARLEY_NONE);
                }
            }
        }
    }
}


static ngx_http_parley_leg_t *
ngx_http_parley_leg_by_ssrc(ngx_http_parley_pc_t *pc, uint32_t ssrc)
{
    ngx_uint_t  k;

    for (k = 0; k < pc->nlegs; k++) {
        if (pc->legs[k]->uid && pc->legs[k]->ssrc == ssrc) {
            return pc->legs[k];
        }
    }

    return NULL;
}


/*
 * A keyframe of the leg's track, of "layer" (PARLEY_NONE: the one the
 * leg wants): asked of the publisher directly when this worker owns the
 * track, through the owner's inbox otherwise, at most once per
 * NGX_HTTP_PARLEY_ASK_GAP per leg, so that a subscriber's flood of PLIs
 * does not flood an inbox. Returns whether it asked.
 */

ngx_uint_t
ngx_http_parley_leg_keyframe(ngx_http_parley_leg_t *leg, uint32_t layer)
{
    parley_track_t           *rec;
    parley_event_t            ev;
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;
    leg->fresh = 0;

    if (leg->kind != PARLEY_SDP_VIDEO
        || (leg->last_ask
            && ngx_current_msec - leg->last_ask < NGX_HTTP_PARLEY_ASK_GAP))
    {
        return 0;
    }

    rec = parley_tracks_track(m->tracks, leg->index);

    if (rec == NULL || parley_tracks_uid(m->tracks, leg->index) != leg->uid) {
        return 0;
    }

    if (layer == PARLEY_NONE) {
        layer = leg->core.simulcast
                ? parley_simulcast_desired(&leg->core.sw, ngx_current_msec) : 0;

        /*
         * Nothing has reached the leg yet (it has just become secure): the
         * layer it wants, as far as the publisher sends layers, rather
         * than waiting for the first packets to say which arrive.
         */

        if (layer == PARLEY_NONE && leg->core.simulcast) {
            layer = parley_simulcast_wanted(&leg->core.sw);

            if (layer != PARLEY_NONE && layer >= rec->layers) {
                layer = rec->layers - 1;
            }
        }

        if (layer == PARLEY_NONE) {
            return 0;
        }

        /* the switcher counts it as its own request, not to repeat it */

        if (leg->core.simulcast) {
            parley_simulcast_note_request(&leg->core.sw, layer, ngx_current_msec);
        }
    }

    leg->last_ask = ngx_current_msec;

    if (rec->owner == ngx_http_parley_worker.inbox) {
        ngx_http_parley_media_keyframe(leg->index, leg->uid, layer);
        return 1;
    }

    ngx_memzero(&ev, sizeof(parley_event_t));
    ev.code = PARLEY_EV_KEYFRAME;
    ev.room_uid = rec->room_uid;
    ev.participant = leg->index;
    ev.track_uid = leg->uid;
    ev.layer = layer;

    ngx_http_parley_inbox_send(rec->owner, &ev);
    ngx_http_parley_count(keyframes_asked);

    return 1;
}


/* PARLEY_EV_KEYFRAME from the inbox: a reader asks this owner */

void
ngx_http_parley_media_keyframe_event(const parley_event_t *ev)
{
    ngx_http_parley_media_keyframe(ev->participant, ev->track_uid, ev->layer);
}


/* The owner's side: a PLI now, or when the gap has passed. */

void
ngx_http_parley_media_keyframe(uint32_t index, uint64_t uid, uint32_t layer)
{
    ngx_http_parley_media_t  *m;
    ngx_http_parley_track_t  *t;

    m = &ngx_http_parley_media;

    if (m->tracks == NULL || index >= m->max_tracks
        || layer >= PARLEY_SIMULCAST_LAYERS)
    {
        return;
    }

    t = m->owned[index];

    if (t == NULL || t->uid != uid || t->kind != PARLEY_SDP_VIDEO) {
        return;
    }

    if (ngx_current_msec - t->last_pli[layer] < NGX_HTTP_PARLEY_PLI_GAP) {
        t->pli_wanted |= (uint8_t) (1 << layer);
        return;
    }

    ngx_http_parley_track_pli(t, layer);
}


/* From the publisher's packets: the keyframes asked too soon, now due. */

void
ngx_http_parley_track_pli_due(ngx_http_parley_track_t *t)
{
    uint32_t  layer;

    for (layer = 0; layer < PARLEY_SIMULCAST_LAYERS; layer++) {
        if ((t->pli_wanted & (1 << layer))
            && ngx_current_msec - t->last_pli[layer]
               >= NGX_HTTP_PARLEY_PLI_GAP)
        {
            ngx_http_parley_track_pli(t, layer);
        }
    }
}


void
ngx_http_parley_track_pli(ngx_http_parley_track_t *t, uint32_t layer)
{
    uint32_t              ssrc;
    parley_rtcp_writer_t  w;
    u_char                pli[64 + PARLEY_SRTP_TRAILER_ROOM];

    t->last_pli[layer] = ngx_current_msec;
    t->pli_wanted &= (uint8_t) ~(1 << layer);

    ssrc = t->layer_ssrc[layer];

    if (t->pc->peer == NULL || ssrc == 0) {
        return;
    }

    parley_rtcp_writer_init(&w, pli, 64);

    if (parley_rtcp_build_pli(&w, 1, ssrc) == PARLEY_RTP_OK
        && parley_peer_send_rtcp(t->pc->peer, pli, w.len, sizeof(pli))
           == PARLEY_PEER_OK)
    {
        ngx_http_parley_count(plis_sent);
    }
}


static void
ngx_http_parley_subscriber_nack(ngx_http_parley_pc_t *pc,
    parley_rtcp_packet_t *pkt)
{
    size_t                  i, n;
    uint64_t                now_us;
    parley_rtcp_fb_t        fb;
    ngx_http_parley_leg_t  *leg;
    uint16_t                seqs[NGX_HTTP_PARLEY_NACKS];

    if (parley_rtcp_parse_nack(pkt, &fb, seqs, NGX_HTTP_PARLEY_NACKS, &n)
        == PARLEY_RTP_ERR_MALFORMED)
    {
        return;
    }

    leg = ngx_http_parley_leg_by_ssrc(pc, fb.media_ssrc);

    if (leg == NULL || leg->core.limiter == NULL) {
        return;
    }

    ngx_http_parley_count(nacks_in);

    now_us = (uint64_t) ngx_current_msec * 1000;

    for (i = 0; i < n && i < NGX_HTTP_PARLEY_NACKS; i++) {
        ngx_http_parley_leg_resend(leg, seqs[i], now_us);
    }

    ngx_http_parley_send_flush();
}


/*
 * One NACK'd number of the leg: traced back by parley_leg, found in the
 * ring by the publisher's layer and number, rewritten and wrapped as RTX
 * by parley_leg into the send slot, protected and queued here.
 */

static void
ngx_http_parley_leg_resend(ngx_http_parley_leg_t *leg, uint16_t seq,
    uint64_t now_us)
{
    int                       twcc;
    size_t                    out_len;
    u_char                   *out;
    uint32_t                  len;
    parley_leg_rc_t           rc;
    parley_leg_nack_t         nack;
    parley_rtp_header_t       h;
    parley_leg_packet_t       p;
    ngx_http_parley_media_t  *m;
    ngx_http_parley_local_t  *lt;

    m = &ngx_http_parley_media;
    lt = &m->local[leg->index];

    if (lt->uid != leg->uid) {
        return;
    }

    rc = parley_leg_nack(&leg->core, seq, now_us, &nack);

    if (rc == PARLEY_LEG_MISSED) {
        ngx_http_parley_count(nacks_missed);
        return;
    }

    if (rc != PARLEY_LEG_SEND) {
        return;
    }

    if (parley_retransmit_find(parley_tracks_ring(m->tracks, leg->index),
                               lt->index, nack.layer, nack.in_seq, m->packet,
                               m->tracks->geometry.slot_size, &len, NULL)
            != PARLEY_OK
        || parley_rtp_parse(m->packet, len, &h) != PARLEY_RTP_OK)
    {
        ngx_http_parley_count(nacks_missed);
        return;
    }

    p.buf = m->packet;
    p.len = len;
    p.h = &h;
    p.layer = nack.layer;
    p.keyframe = 0;

    out = ngx_http_parley_send_slot();

    rc = parley_leg_resend(&leg->core, &nack, &p, ngx_current_msec,
                           ngx_http_parley_bandwidth_seq(leg->pc), out,
                           NGX_HTTP_PARLEY_UDP_BUF - PARLEY_SRTP_TRAILER_ROOM,
                           &out_len, &twcc);

    if (rc == PARLEY_LEG_MISSED) {
        ngx_http_parley_count(nacks_missed);
        return;
    }

    if (rc == PARLEY_LEG_OVER_BUDGET) {
        ngx_http_parley_count(rtp_over_budget);
        return;
    }

    if (rc != PARLEY_LEG_SEND) {
        return;
    }

    if (ngx_http_parley_send_rtp(leg->pc->peer, out_len) == NGX_OK) {
        /* a retransmission takes the path's room as any packet does */
        if (twcc) {
            ngx_http_parley_bandwidth_sent(leg->pc, out_len);
        }

        parley_leg_resent(&leg->core, &nack, out_len, now_us);
        ngx_http_parley_count(nacks_answered);
    }
}


uint64_t
ngx_http_parley_now_us(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


/* RFC 5905 6: seconds since 1900 in 32.32, from the wall clock. */

static uint64_t
ngx_http_parley_ntp_now(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (((uint64_t) ts.tv_sec + 2208988800ULL) << 32)
           | (((uint64_t) ts.tv_nsec << 32) / 1000000000ULL);
}


/*
 * A publisher's connection reports what it receives: an RR with SDES
 * about once a second (RFC 3550 6.4.2), and transport-wide feedback
 * every 100 ms where it was negotiated, so that the browser's congestion
 * control sees its packets arrive; without it, a REMB estimate (loss
 * based) caps the sender instead.
 */

ngx_int_t
ngx_http_parley_feedback_start(ngx_http_parley_pc_t *pc)
{
    uint32_t                     ssrc;
    ngx_http_parley_feedback_t  *fb;

    fb = pc->feedback;

    if (fb == NULL) {
        if (ngx_http_parley_random32(&ssrc) != NGX_OK) {
            return NGX_ERROR;
        }

        fb = ngx_alloc(sizeof(ngx_http_parley_feedback_t), pc->timer.log);
        if (fb == NULL) {
            return NGX_ERROR;
        }

        if (parley_rtcp_recv_init(&fb->recv, ssrc,
                                  (const uint8_t *) "parley", 6, 0)
            != PARLEY_RTP_OK)
        {
            ngx_free(fb);
            return NGX_ERROR;
        }

        parley_twcc_init(&fb->twcc, fb->recv.sender_ssrc, 0);
        fb->nfree = 0;
        pc->feedback = fb;
    }

    return NGX_OK;
}


/* The publisher's tracks are known: which feedback it negotiated. */

void
ngx_http_parley_feedback_tracks(ngx_http_parley_pc_t *pc)
{
    ngx_uint_t                   i, id;
    ngx_http_parley_feedback_t  *fb;

    fb = pc->feedback;

    if (fb == NULL) {
        return;
    }

    fb->twcc_id = 0;

    for (i = 0; i < pc->ntracks && fb->twcc_id == 0; i++) {
        for (id = 1; id <= 14; id++) {
            if (pc->tracks[i].ext[id] == PARLEY_FORWARD_EXT_TWCC + 1) {
                fb->twcc_id = (uint8_t) id;
                break;
            }
        }
    }

    if (fb->twcc_id == 0 && !fb->recv.remb.enabled) {
        (void) parley_rtcp_recv_enable_remb(&fb->recv, 300000, 50000,
                                            5000000);
    }
}


void
ngx_http_parley_feedback_rtp(ngx_http_parley_pc_t *pc, parley_rtp_header_t *h,
    uint8_t *buf, size_t len)
{
    uint16_t                     seq;
    uint32_t                     clock;
    uint64_t                     now;
    ngx_uint_t                   i;
    ngx_http_parley_feedback_t  *fb;

    fb = pc->feedback;

    if (fb == NULL) {
        return;
    }

    now = ngx_http_parley_now_us();
    clock = 90000;

    for (i = 0; i < pc->ntracks; i++) {
        if (pc->tracks[i].pt == h->payload_type) {
            clock = ngx_http_parley_codecs[pc->tracks[i].codec].clock_rate;
            break;
        }
    }

    (void) parley_rtcp_recv_on_rtp(&fb->recv, h, len, clock, now);

    if (fb->twcc_id
        && parley_rtp_ext_twcc_seq(buf, len, h, fb->twcc_id, &seq)
           == PARLEY_RTP_OK)
    {
        (void) parley_twcc_on_packet(&fb->twcc, h->ssrc, seq, now);
    }

    if (!pc->report.timer_set) {
        ngx_add_timer(&pc->report, 20);
    }
}


/* The publisher's own reports: its SRs, for the RRs' LSR and DLSR. */

void
ngx_http_parley_feedback_rtcp(ngx_http_parley_pc_t *pc, uint8_t *buf,
    size_t len)
{
    ngx_uint_t                i, k;
    parley_rtcp_sr_info_t     sr;
    ngx_http_parley_track_t  *t;

    if (pc->feedback == NULL
        || parley_rtcp_recv_on_rtcp(&pc->feedback->recv, buf, len,
                                    ngx_http_parley_now_us())
           != PARLEY_RTP_OK)
    {
        return;
    }

    /* a new SR goes to the track table, for every worker's legs' SRs */

    for (i = 0; i < pc->ntracks; i++) {
        t = &pc->tracks[i];

        for (k = 0; t->uid && k < PARLEY_SIMULCAST_LAYERS; k++) {
            if (t->layer_ssrc[k]
                && parley_rtcp_recv_last_sr(&pc->feedback->recv,
                                            t->layer_ssrc[k], &sr)
                && sr.arrival_us != t->sr_arrival[k])
            {
                t->sr_arrival[k] = sr.arrival_us;
                parley_tracks_sr_store(ngx_http_parley_media.tracks, t->index,
                                       (uint32_t) k, sr.ntp, sr.rtp_ts,
                                       sr.arrival_us);
            }
        }
    }
}


static void
ngx_http_parley_feedback_send(ngx_http_parley_pc_t *pc, uint64_t now)
{
    uint64_t                     next, n, nack;
    parley_rtcp_writer_t         w;
    ngx_http_parley_feedback_t  *fb;
    u_char                       buf[1200 + PARLEY_SRTP_TRAILER_ROOM];

    fb = pc->feedback;

    parley_rtcp_writer_init(&w, buf, 1200);

    if (parley_rtcp_recv_due(&fb->recv, now)) {
        (void) parley_rtcp_recv_build(&fb->recv, &w, now,
                                      (uint32_t) ngx_random());
    }

    if (fb->twcc_id && parley_twcc_due(&fb->twcc, now)) {
        (void) parley_twcc_build(&fb->twcc, &w, now);
    }

    nack = ngx_http_parley_nacks_build(pc, &w, now);

    if (w.len && parley_peer_send_rtcp(pc->peer, buf, w.len, sizeof(buf))
                 == PARLEY_PEER_OK)
    {
        ngx_http_parley_count(rtcp_out);
    }

    next = parley_rtcp_recv_next_us(&fb->recv);

    if (fb->twcc_id) {
        n = parley_twcc_next_us(&fb->twcc);

        if (n && (next == 0 || n < next)) {
            next = n;
        }
    }

    if (nack && (next == 0 || nack < next)) {
        next = nack;
    }

    if (next == 0 || next <= now) {
        next = now + 100000;
    }

    ngx_add_timer(&pc->report, ngx_min((next - now) / 1000 + 1, 1000));
}


/*
 * Losses on the way from a publisher (RFC 4585 6.2.1): every video
 * encoding has a parley_nack list; its NACKs go with the reports, its
 * retransmissions come back as RTX and are written into the ring late,
 * and a loss past hope asks for a keyframe instead.
 */

void
ngx_http_parley_track_nack_start(ngx_http_parley_track_t *t)
{
    ngx_uint_t                   k, nl;
    ngx_http_parley_feedback_t  *fb;

    fb = t->pc->feedback;
    nl = t->layers ? t->layers : 1;

    if (t->kind != PARLEY_SDP_VIDEO || fb == NULL) {
        return;
    }

    for (k = 0; k < nl; k++) {
        if (t->nack[k] == NULL) {
            t->nack[k] = fb->nfree ? fb->free[--fb->nfree]
                         : ngx_alloc(sizeof(parley_nack_t), t->pc->timer.log);
        }

        if (t->nack[k]) {
            parley_nack_init(t->nack[k], NULL);
        }
    }
}


void
ngx_http_parley_track_nack_stop(ngx_http_parley_track_t *t)
{
    ngx_uint_t                   k;
    ngx_http_parley_feedback_t  *fb;

    fb = t->pc->feedback;

    for (k = 0; k < PARLEY_SIMULCAST_LAYERS; k++) {
        if (t->nack[k] == NULL) {
            continue;
        }

        if (fb
            && fb->nfree < NGX_HTTP_PARLEY_TRACKS * PARLEY_SIMULCAST_LAYERS)
        {
            fb->free[fb->nfree++] = t->nack[k];

        } else {
            ngx_free(t->nack[k]);
        }

        t->nack[k] = NULL;
    }
}


/* A gap: the first request goes out soon, not at the next report. */

void
ngx_http_parley_track_nack_gap(ngx_http_parley_track_t *t)
{
    ngx_event_t  *ev;

    ev = &t->pc->report;

    if (!ev->timer_set
        || ev->timer.key > ngx_current_msec + NGX_HTTP_PARLEY_NACK_SOON)
    {
        ngx_add_timer(ev, NGX_HTTP_PARLEY_NACK_SOON);
    }
}


static uint64_t
ngx_http_parley_nacks_build(ngx_http_parley_pc_t *pc, parley_rtcp_writer_t *w,
    uint64_t now)
{
    uint64_t                  next, n;
    ngx_uint_t                i, k;
    ngx_http_parley_track_t  *t;

    next = 0;

    for (i = 0; i < pc->ntracks; i++) {
        t = &pc->tracks[i];

        for (k = 0; t->uid && k < PARLEY_SIMULCAST_LAYERS; k++) {
            if (t->nack[k] == NULL || t->layer_ssrc[k] == 0) {
                continue;
            }

            if (parley_nack_build(t->nack[k], w, pc->feedback->recv.sender_ssrc,
                                  t->layer_ssrc[k], now, 0)
                == PARLEY_RTP_OK)
            {
                ngx_http_parley_count(nacks_sent);
            }

            if (parley_nack_keyframe_wanted(t->nack[k])) {
                ngx_http_parley_track_pli(t, (uint32_t) k);
            }

            n = parley_nack_next_us(t->nack[k], 0);

            if (n && (next == 0 || n < next)) {
                next = n;
            }
        }
    }

    return next;
}


/*
 * A subscriber's connection reports what it sends: one SR per leg
 * (RFC 3550 6.4.1), so the browser computes RTT from its RR, then SDES,
 * in compounds of up to 1200 bytes, about once a second.
 */

void
ngx_http_parley_leg_report_start(ngx_http_parley_leg_t *leg)
{
    uint32_t  clock;

    clock = ngx_http_parley_codecs[leg->codec].clock_rate;

    (void) parley_rtcp_send_init(&leg->core.sr, leg->ssrc, clock,
                                 (const uint8_t *) "parley", 6, 0);

    if (!leg->pc->report.timer_set) {
        ngx_add_timer(&leg->pc->report, 1000);
    }
}


/*
 * The leg's SR follows the publisher's timeline (RFC 3550 6.4.1: NTP
 * and RTP times of one instant), so that the subscriber lines audio and
 * video up: the publisher's latest SR of the encoding forwarded, from the
 * track table, moved into the leg's RTP times.
 */

static void
ngx_http_parley_leg_source(ngx_http_parley_leg_t *leg)
{
    uint32_t                layer, ts;
    parley_rtcp_sr_info_t   sr;

    layer = leg->core.simulcast ? parley_simulcast_current(&leg->core.sw) : 0;
    ngx_memzero(&sr, sizeof(parley_rtcp_sr_info_t));

    if (layer == PARLEY_NONE
        || !parley_tracks_sr_load(ngx_http_parley_media.tracks, leg->index,
                                  layer, &sr.ntp, &sr.rtp_ts, &sr.arrival_us)
        || parley_tracks_uid(ngx_http_parley_media.tracks, leg->index)
           != leg->uid)
    {
        parley_rtcp_send_set_source(&leg->core.sr, NULL, 0);
        return;
    }

    if (!leg->core.simulcast) {
        ts = parley_renumber_ts(&leg->core.rn, sr.rtp_ts);

    } else if (parley_simulcast_map_ts(&leg->core.sw, layer, sr.rtp_ts, &ts)
               != PARLEY_OK)
    {
        parley_rtcp_send_set_source(&leg->core.sr, NULL, 0);
        return;
    }

    parley_rtcp_send_set_source(&leg->core.sr, &sr, ts - sr.rtp_ts);
}


static void
ngx_http_parley_legs_send(ngx_http_parley_pc_t *pc, uint64_t now)
{
    uint32_t               ssrc;
    uint64_t               ntp;
    ngx_uint_t             k, n;
    parley_rtcp_writer_t   w;
    ngx_http_parley_leg_t *leg;
    u_char                 buf[1200 + PARLEY_SRTP_TRAILER_ROOM];

    ntp = ngx_http_parley_ntp_now();
    n = 0;
    ssrc = 0;

    parley_rtcp_writer_init(&w, buf, 1200);

    for (k = 0; k < pc->nlegs; k++) {
        leg = pc->legs[k];

        if (leg->uid == 0) {
            continue;
        }

        ngx_http_parley_leg_source(leg);

        if (parley_rtcp_send_build_sr(&leg->core.sr, &w, now, ntp)
            != PARLEY_RTP_OK)
        {
            continue;
        }

        n++;
        ssrc = leg->ssrc;           /* the compound's SDES names one */

        if (w.len > 1000) {
            (void) parley_rtcp_build_sdes_cname(&w, ssrc,
                                                (const uint8_t *) "parley",
                                                6);
            (void) parley_peer_send_rtcp(pc->peer, buf, w.len, sizeof(buf));
            ngx_http_parley_count(rtcp_out);
            parley_rtcp_writer_init(&w, buf, 1200);
            n = 0;
        }
    }

    if (n) {
        (void) parley_rtcp_build_sdes_cname(&w, ssrc,
                                            (const uint8_t *) "parley", 6);
        (void) parley_peer_send_rtcp(pc->peer, buf, w.len, sizeof(buf));
        ngx_http_parley_count(rtcp_out);
    }

    /* RFC 3550 6.3.1: randomised over [0.5, 1.5] of the interval */
    ngx_add_timer(&pc->report, 500 + (ngx_msec_t) ngx_random() % 1000);
}


void
ngx_http_parley_report_handler(ngx_event_t *ev)
{
    uint64_t               now;
    ngx_http_parley_pc_t  *pc;

    pc = ev->data;

    if (pc->peer == NULL || !parley_peer_secure(pc->peer, NULL)) {
        ngx_add_timer(ev, 1000);
        return;
    }

    now = ngx_http_parley_now_us();

    if (pc->subscriber) {
        ngx_http_parley_legs_send(pc, now);
        ngx_http_parley_bandwidth_check(pc);

    } else if (pc->feedback) {
        ngx_http_parley_feedback_send(pc, now);
    }
}


void
ngx_http_parley_report_stop(ngx_http_parley_pc_t *pc)
{
    if (pc->report.timer_set) {
        ngx_del_timer(&pc->report);
    }
}
