/*
 * parley: what each subscriber's network carries. A subscribe connection's
 * congestion feedback (transport-wide, or REMB) goes into its downlink
 * (relay/parley_downlink); the layers of its sections are allocated within
 * the budget that gives (relay/parley_alloc), from what each encoding
 * costs as it arrives here (relay/parley_rate, per local track); a
 * simulcast section gets a cap, a video section that does not fit even at
 * its lowest is paused, and the client is told (the "paused" message).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_module.h"
#include "ngx_http_parley_media.h"

#include "parley_alloc.h"
#include "parley_downlink.h"


#define NGX_HTTP_PARLEY_TWCC_MAX  1024      /* a feedback's packets read */
#define NGX_HTTP_PARLEY_PAD_MAX   255       /* RFC 3550 5.1: the count */
#define NGX_HTTP_PARLEY_PAD_TICK  5         /* ms between padding bursts */
#define NGX_HTTP_PARLEY_PAD_BURST 32        /* packets at most a burst */


static ngx_http_parley_leg_t *ngx_http_parley_bandwidth_padder(
    ngx_http_parley_pc_t *pc);
static ngx_int_t ngx_http_parley_bandwidth_pad(ngx_http_parley_pc_t *pc,
    ngx_http_parley_leg_t *leg, size_t padding);
static void ngx_http_parley_bandwidth_malformed(ngx_http_parley_pc_t *pc,
    const char *what);
static void ngx_http_parley_bandwidth_leg(ngx_http_parley_leg_t *leg,
    parley_alloc_leg_t *a);
static void ngx_http_parley_bandwidth_apply(ngx_http_parley_leg_t *leg,
    const parley_alloc_leg_t *a);


static parley_rtcp_twcc_packet_t  ngx_http_parley_twcc[NGX_HTTP_PARLEY_TWCC_MAX];


ngx_int_t
ngx_http_parley_bandwidth_start(ngx_http_parley_pc_t *pc)
{
    pc->downlink = ngx_alloc(sizeof(parley_downlink_t), pc->timer.log);
    if (pc->downlink == NULL) {
        return NGX_ERROR;
    }

    parley_downlink_init(pc->downlink);

    return NGX_OK;
}


void
ngx_http_parley_bandwidth_free(ngx_http_parley_pc_t *pc)
{
    ngx_free(pc->downlink);
    pc->downlink = NULL;
}


/*
 * The leg's packet about to be rewritten: the transport-wide sequence
 * number it will carry if it carries one (its publisher sent the
 * extension), PARLEY_FORWARD_TWCC_NONE when the connection has no
 * downlink. ngx_http_parley_bandwidth_sent() counts it once it does.
 */

uint32_t
ngx_http_parley_bandwidth_seq(ngx_http_parley_pc_t *pc)
{
    if (pc->downlink == NULL) {
        return PARLEY_FORWARD_TWCC_NONE;
    }

    return parley_downlink_next_seq(pc->downlink);
}


void
ngx_http_parley_bandwidth_sent(ngx_http_parley_pc_t *pc, size_t len)
{
    if (pc->downlink) {
        (void) parley_downlink_on_send(pc->downlink, (uint32_t) len,
                                       (int64_t) ngx_http_parley_now_us());
    }
}


/*
 * RTPFB FMT 15 (transport-wide feedback) or PSFB FMT 15 (REMB) from the
 * subscriber: into its downlink, and the layers again if it is time.
 */

void
ngx_http_parley_bandwidth_rtcp(ngx_http_parley_pc_t *pc,
    const parley_rtcp_packet_t *pkt)
{
    int64_t             now;
    parley_rtp_rc_t     rc;
    parley_rtcp_twcc_t  twcc;
    parley_rtcp_remb_t  remb;

    if (pc->downlink == NULL) {
        return;
    }

    now = (int64_t) ngx_http_parley_now_us();

    if (!parley_downlink_accept(pc->downlink, now)) {
        ngx_http_parley_count(feedback_limited);
        return;
    }

    if (pkt->type == PARLEY_RTCP_RTPFB) {
        rc = parley_rtcp_parse_twcc(pkt, &twcc, ngx_http_parley_twcc,
                                    NGX_HTTP_PARLEY_TWCC_MAX);

        /* more than the estimate remembers: the first ones are enough */

        if (rc != PARLEY_RTP_OK && rc != PARLEY_RTP_ERR_NOSPACE) {
            ngx_http_parley_bandwidth_malformed(pc, "transport-wide feedback");
            return;
        }

        parley_downlink_on_twcc(pc->downlink, ngx_http_parley_twcc,
                                twcc.packet_count, now);
        ngx_http_parley_count(twcc_in);

    } else {
        rc = parley_rtcp_parse_remb(pkt, &remb);

        if (rc == PARLEY_RTP_ERR_NOT_FOUND) {
            return;                 /* another application message */
        }

        if (rc != PARLEY_RTP_OK) {
            ngx_http_parley_bandwidth_malformed(pc, "REMB");
            return;
        }

        parley_downlink_on_remb(pc->downlink, remb.bitrate, now);
        ngx_http_parley_count(remb_in);
    }

    ngx_http_parley_bandwidth_check(pc);
}


/* The report timer, and every feedback: the layers again if it is time. */

void
ngx_http_parley_bandwidth_check(ngx_http_parley_pc_t *pc)
{
    if (pc->downlink
        && parley_downlink_due(pc->downlink,
                               (int64_t) ngx_http_parley_now_us()))
    {
        ngx_http_parley_bandwidth_allocate(pc);
    }
}


/*
 * Every section's layer within the budget, now: after feedback, and when
 * the client's wishes or the sections change.
 */

void
ngx_http_parley_bandwidth_allocate(ngx_http_parley_pc_t *pc)
{
    int64_t                 now;
    uint64_t                budget, given, want;
    ngx_uint_t              k, n;
    ngx_http_parley_leg_t  *legs[NGX_HTTP_PARLEY_LEGS];
    parley_alloc_leg_t      alloc[NGX_HTTP_PARLEY_LEGS];

    if (pc->downlink == NULL) {
        return;
    }

    now = (int64_t) ngx_http_parley_now_us();
    budget = parley_downlink_budget(pc->downlink, now);
    n = 0;

    for (k = 0; k < pc->nlegs; k++) {
        if (pc->legs[k]->uid) {
            legs[n] = pc->legs[k];
            ngx_http_parley_bandwidth_leg(legs[n], &alloc[n]);
            n++;
        }
    }

    /* nothing heard from the browser: no limit, every section its wish */

    given = parley_alloc(alloc, n, budget);

    for (k = 0; k < n; k++) {
        ngx_http_parley_bandwidth_apply(legs[k], &alloc[k]);
    }

    parley_downlink_allocated(pc->downlink, budget, now);

    /*
     * The sections want more than the budget gives: a probe first (see
     * parley_downlink.h), on the padding of a video leg's RTX stream.
     */

    want = parley_alloc(alloc, n, PARLEY_DOWNLINK_UNLIMITED);

    if (ngx_http_parley_bandwidth_padder(pc) != NULL
        && parley_downlink_probe(pc->downlink, want, given, now))
    {
        ngx_http_parley_count(probes);
        ngx_add_timer(&pc->probe, 1);
    }
}


/* An ICE restart: another network, estimated afresh. */

void
ngx_http_parley_bandwidth_restart(ngx_http_parley_pc_t *pc)
{
    uint64_t  next;

    if (pc->downlink) {
        ngx_http_parley_bandwidth_stop(pc);

        /* the browser's feedback goes on counting on the same transport */
        next = pc->downlink->bwe.next_seq;
        parley_downlink_init(pc->downlink);
        pc->downlink->bwe.next_seq = next;
    }
}


void
ngx_http_parley_bandwidth_stop(ngx_http_parley_pc_t *pc)
{
    if (pc->probe.timer_set) {
        ngx_del_timer(&pc->probe);
    }
}


/* The probe's padding, due by now, in bursts every few milliseconds. */

void
ngx_http_parley_bandwidth_probe_handler(ngx_event_t *ev)
{
    int64_t                 now;
    uint64_t                due;
    ngx_uint_t              i;
    ngx_http_parley_pc_t   *pc;
    ngx_http_parley_leg_t  *leg;

    pc = ev->data;

    if (pc->downlink == NULL || pc->peer == NULL
        || !parley_peer_secure(pc->peer, NULL))
    {
        return;
    }

    leg = ngx_http_parley_bandwidth_padder(pc);
    if (leg == NULL) {
        return;
    }

    now = (int64_t) ngx_http_parley_now_us();
    due = parley_downlink_padding(pc->downlink, now);

    for (i = 0; i < NGX_HTTP_PARLEY_PAD_BURST && due > 0; i++) {
        if (ngx_http_parley_bandwidth_pad(pc, leg,
                                          ngx_min(due, NGX_HTTP_PARLEY_PAD_MAX))
            != NGX_OK)
        {
            break;
        }

        due = parley_downlink_padding(pc->downlink, now);
    }

    ngx_http_parley_send_flush();

    if (parley_downlink_probing(pc->downlink)
        && now - pc->downlink->probe_start_us < PARLEY_DOWNLINK_PROBE_US)
    {
        ngx_add_timer(&pc->probe, NGX_HTTP_PARLEY_PAD_TICK);
    }
}


/*
 * A leg padding can go on: video with an RTX stream (RFC 4588: padding
 * there is nobody's media) that carries the transport-wide number.
 */

static ngx_http_parley_leg_t *
ngx_http_parley_bandwidth_padder(ngx_http_parley_pc_t *pc)
{
    ngx_uint_t              k;
    ngx_http_parley_leg_t  *leg;

    for (k = 0; k < pc->nlegs; k++) {
        leg = pc->legs[k];

        if (leg->uid && leg->kind == PARLEY_SDP_VIDEO && leg->core.rtx_ssrc
            && ngx_http_parley_codecs[leg->codec].rtx_pt != PARLEY_SDP_NO_PT
            && leg->core.map.twcc_id
            && leg->core.map.twcc_id <= PARLEY_RTP_EXT_MAX_ID_ONE)
        {
            return leg;
        }
    }

    return NULL;
}


/*
 * One padding-only packet (RFC 3550 5.1: P set, the last byte counts the
 * padding) on the leg's RTX stream, numbered in the transport-wide
 * sequence, within the leg's budget.
 */

static ngx_int_t
ngx_http_parley_bandwidth_pad(ngx_http_parley_pc_t *pc,
    ngx_http_parley_leg_t *leg, size_t padding)
{
    size_t   len;
    u_char  *out;

    len = PARLEY_RTP_HEADER_LEN + 8 + padding;

    if (!parley_budget_take(&leg->core.budget, ngx_current_msec, len)) {
        ngx_http_parley_count(rtp_over_budget);
        return NGX_DECLINED;
    }

    out = ngx_http_parley_send_slot();

    out[0] = 0x80 | 0x20 | 0x10;                    /* V=2, P, X */
    out[1] = (u_char) ngx_http_parley_codecs[leg->codec].rtx_pt;
    parley_rtp_put16(out + 2, leg->core.rtx_seq++);
    parley_rtp_put32(out + 4, 0);
    parley_rtp_put32(out + 8, leg->core.rtx_ssrc);

    /* RFC 8285 4.2: one element, the transport-wide number, one word */
    out[12] = 0xbe;
    out[13] = 0xde;
    parley_rtp_put16(out + 14, 1);
    out[16] = (u_char) ((leg->core.map.twcc_id << 4) | 1);
    parley_rtp_put16(out + 17, parley_downlink_next_seq(pc->downlink));
    out[19] = 0;

    ngx_memzero(out + 20, padding - 1);
    out[20 + padding - 1] = (u_char) padding;

    if (ngx_http_parley_send_rtp(pc->peer, len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_parley_bandwidth_sent(pc, len);
    parley_downlink_padded(pc->downlink, len);
    ngx_http_parley_count(padding_out);

    return NGX_OK;
}


/* What the allocation needs of one leg. */

static void
ngx_http_parley_bandwidth_leg(ngx_http_parley_leg_t *leg,
    parley_alloc_leg_t *a)
{
    uint32_t                  l;
    uint64_t                  bps;
    parley_track_t           *rec;
    ngx_http_parley_local_t  *lt;
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;
    lt = &m->local[leg->index];

    ngx_memzero(a, sizeof(parley_alloc_leg_t));

    a->audio = (leg->kind == PARLEY_SDP_AUDIO);
    a->prev = leg->cap;
    a->layers = 1;

    if (leg->core.simulcast) {
        rec = parley_tracks_track(m->tracks, leg->index);

        if (rec && rec->layers > 1 && rec->layers <= PARLEY_SIMULCAST_LAYERS)
        {
            a->layers = rec->layers;
        }
    }

    for (l = 0; l < a->layers; l++) {
        bps = (lt->uid == leg->uid)
              ? parley_rate_bps(&lt->rate[l], ngx_current_msec) : 0;

        a->bps[l] = (uint32_t) ngx_min(bps, NGX_MAX_UINT32_VALUE);
    }

    parley_alloc_wish(a, leg->core.simulcast, leg->wish_for != 0, leg->wish);
}


static void
ngx_http_parley_bandwidth_apply(ngx_http_parley_leg_t *leg,
    const parley_alloc_leg_t *a)
{
    if (a->audio) {
        leg->cap = 0;
        return;
    }

    if (leg->core.simulcast) {
        (void) parley_simulcast_set_cap(&leg->core.sw, a->cap);

    } else if (leg->core.paused && !a->paused) {

        /*
         * Back: the next keyframe starts the picture again, numbered
         * right after the last packet sent (see parley_renumber.h).
         */

        leg->core.resuming = 1;
        parley_renumber_resume(&leg->core.rn);
        (void) ngx_http_parley_leg_keyframe(leg, PARLEY_NONE);
    }

    leg->cap = a->cap;

    if (a->paused && !leg->core.paused) {
        ngx_http_parley_count(sections_paused);
    }

    leg->core.paused = a->paused;

    if (leg->told_paused != a->paused) {
        leg->told_paused = a->paused;
        ngx_http_parley_signal_paused(leg->pc->session, leg->mid, a->paused);
    }
}


/* A subscriber's feedback that does not parse: counted, logged sparingly. */

static void
ngx_http_parley_bandwidth_malformed(ngx_http_parley_pc_t *pc,
    const char *what)
{
    ngx_uint_t                            n;
    static ngx_http_parley_sparse_log_t   sparse;

    ngx_http_parley_count(feedback_malformed);

    n = ngx_http_parley_sparse_log(&sparse);

    if (n) {
        ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                      "parley: %ui malformed congestion feedback packets "
                      "since the last such line; the last, a %s of "
                      "participant %uL", n, what,
                      pc->session->participant_id);
    }
}
