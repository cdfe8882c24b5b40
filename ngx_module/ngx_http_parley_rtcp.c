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
 * (relay/parley_retransmit): as RTX (RFC 4588) where the leg has an RTX
 * stream, as the packet itself otherwise; a per-leg limiter keeps a NACK
 * storm from becoming a retransmission storm.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_media.h"


#define NGX_HTTP_PARLEY_PLI_GAP       300     /* ms between asked keyframes */
#define NGX_HTTP_PARLEY_ASK_GAP       100     /* ms between a leg's asks */
#define NGX_HTTP_PARLEY_NACKS         64      /* numbers read from a NACK */


static void ngx_http_parley_subscriber_nack(ngx_http_parley_pc_t *pc,
    parley_rtcp_packet_t *pkt);
static void ngx_http_parley_leg_resend(ngx_http_parley_leg_t *leg,
    uint16_t seq, uint64_t now_us);
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

        if (pkt.type != PARLEY_RTCP_PSFB) {
            continue;
        }

        if (pkt.count == 1 && parley_rtcp_parse_pli(&pkt, &fb)
                              == PARLEY_RTP_OK)
        {
            leg = ngx_http_parley_leg_by_ssrc(pc, fb.media_ssrc);

            if (leg) {
                ngx_http_parley_leg_keyframe(leg, PARLEY_NONE);
            }

        } else if (pkt.count == 4
                   && parley_rtcp_parse_fir(&pkt, &fb, fir, 8, &n)
                      != PARLEY_RTP_ERR_MALFORMED)
        {
            for (i = 0; i < n && i < 8; i++) {
                leg = ngx_http_parley_leg_by_ssrc(pc, fir[i].ssrc);

                if (leg) {
                    ngx_http_parley_leg_keyframe(leg, PARLEY_NONE);
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
        if (pc->legs[k].uid && pc->legs[k].ssrc == ssrc) {
            return &pc->legs[k];
        }
    }

    return NULL;
}


/*
 * A keyframe of the leg's track, of "layer" (PARLEY_NONE: the one the
 * leg wants): asked of the publisher directly when this worker owns the
 * track, through the owner's inbox otherwise, at most once per
 * NGX_HTTP_PARLEY_ASK_GAP per leg, so that a subscriber's flood of PLIs
 * does not flood an inbox.
 */

void
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
        return;
    }

    rec = parley_tracks_track(m->tracks, leg->index);

    if (rec == NULL || parley_tracks_uid(m->tracks, leg->index) != leg->uid) {
        return;
    }

    if (layer == PARLEY_NONE) {
        layer = leg->simulcast
                ? parley_simulcast_desired(&leg->sw, ngx_current_msec) : 0;

        if (layer == PARLEY_NONE) {
            return;
        }
    }

    leg->last_ask = ngx_current_msec;

    if (rec->owner == ngx_http_parley_worker.inbox) {
        ngx_http_parley_media_keyframe(leg->index, leg->uid, layer);
        return;
    }

    ngx_memzero(&ev, sizeof(parley_event_t));
    ev.code = PARLEY_EV_KEYFRAME;
    ev.room_uid = rec->room_uid;
    ev.participant = leg->index;
    ev.track_uid = leg->uid;
    ev.layer = layer;

    ngx_http_parley_inbox_send(rec->owner, &ev);
    ngx_http_parley_count(keyframes_asked);
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

    if (leg == NULL || leg->limiter == NULL) {
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
 * One NACK'd number of the leg: found in the ring by the publisher's
 * layer and number, rewritten as the leg first sent it, wrapped as RTX
 * when the leg has an RTX stream.
 */

static void
ngx_http_parley_leg_resend(ngx_http_parley_leg_t *leg, uint16_t seq,
    uint64_t now_us)
{
    size_t                    out_len, rtx_len;
    u_char                   *out;
    uint16_t                  in_seq;
    uint32_t                  layer, len, ts;
    parley_rtp_header_t       h;
    ngx_http_parley_media_t  *m;
    ngx_http_parley_local_t  *lt;
    u_char                    orig[NGX_HTTP_PARLEY_UDP_BUF];

    m = &ngx_http_parley_media;
    lt = &m->local[leg->index];

    if (lt->uid != leg->uid) {
        return;
    }

    layer = 0;
    in_seq = seq;

    if (leg->simulcast
        && parley_simulcast_nack(&leg->sw, seq, &layer, &in_seq) != PARLEY_OK)
    {
        ngx_http_parley_count(nacks_missed);
        return;
    }

    if (!parley_retransmit_admit(leg->limiter, seq, now_us, 0)) {
        return;
    }

    if (parley_retransmit_find(parley_tracks_ring(m->tracks, leg->index),
                               lt->index, layer, in_seq, m->packet,
                               m->tracks->geometry.slot_size, &len, NULL)
            != PARLEY_OK
        || parley_rtp_parse(m->packet, len, &h) != PARLEY_RTP_OK)
    {
        ngx_http_parley_count(nacks_missed);
        return;
    }

    ts = h.ts;

    if (leg->simulcast
        && parley_simulcast_map_ts(&leg->sw, layer, h.ts, &ts) != PARLEY_OK)
    {
        ngx_http_parley_count(nacks_missed);
        return;
    }

    if (parley_forward_rewrite(&leg->map, m->packet, len, orig,
                               sizeof(orig) - PARLEY_SRTP_TRAILER_ROOM - 2,
                               seq, ts, PARLEY_FORWARD_TWCC_NONE, &out_len)
        != PARLEY_FORWARD_OK)
    {
        return;
    }

    out = ngx_http_parley_send_slot();

    if (leg->rtx_ssrc
        && ngx_http_parley_codecs[leg->codec].rtx_pt != PARLEY_SDP_NO_PT)
    {
        if (parley_retransmit_wrap_rtx(orig, out_len,
                                       ngx_http_parley_codecs[leg->codec]
                                           .rtx_pt,
                                       leg->rtx_ssrc, &leg->rtx_seq, out,
                                       NGX_HTTP_PARLEY_UDP_BUF
                                       - PARLEY_SRTP_TRAILER_ROOM,
                                       &rtx_len)
            != PARLEY_RTP_OK)
        {
            return;
        }

        out_len = rtx_len;

    } else {
        ngx_memcpy(out, orig, out_len);
    }

    if (parley_peer_send_rtp(leg->pc->peer, out, out_len,
                             NGX_HTTP_PARLEY_UDP_BUF)
        == PARLEY_PEER_OK)
    {
        parley_retransmit_sent(leg->limiter, seq, out_len, now_us);
        ngx_http_parley_count(nacks_answered);
    }
}
