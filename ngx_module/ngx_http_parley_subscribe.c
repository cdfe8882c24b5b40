/*
 * parley: the shared track table in a worker.
 *
 * A publisher's worker owns its tracks: it publishes each into the table
 * in shared memory, writes every decrypted packet once into the track's
 * ring, and after each receive batch marks the tracks it wrote, which
 * wakes (once) every worker with subscribers to them, itself included.
 * A woken worker collects the marked tracks, reads their rings and sends
 * each packet to its subscribers, rewritten and encrypted per leg, in
 * sendmmsg batches. Signaling and media of one participant stay in the
 * worker that holds its WebSocket; only packets and keyframe requests
 * cross workers.
 *
 * A subscriber's peer connection has one section per track it receives.
 * When the room's tracks change, the table's owner tells every worker of
 * the room (PARLEY_EV_TRACKS), and each offers its subscribers the new set:
 * mids are kept, an ended track's section becomes inactive, a new track
 * takes an inactive section of its kind or a new one (RFC 8829 5.2.2).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_media.h"


#define NGX_HTTP_PARLEY_FLOOD_PPS     3000
#define NGX_HTTP_PARLEY_FLOOD_BPS     3000000    /* 24 Mbit/s */

/*
 * What one leg may be sent, media and retransmissions together: its
 * track's flood cap, the retransmissions its limiter allows, and a tenth
 * more; a ring's worth at once.
 */
#define NGX_HTTP_PARLEY_LEG_BPS       (NGX_HTTP_PARLEY_FLOOD_BPS * 11 / 10 \
                                       + 80000)
#define NGX_HTTP_PARLEY_LEG_BURST     1000000


/* A new leg's own numbers, drawn before the track table is locked. */
typedef struct {
    uint32_t                     ssrc;
    uint32_t                     rtx_ssrc;
    uint32_t                     ts;
    uint16_t                     seq;
    uint16_t                     rtx_seq;
} ngx_http_parley_numbers_t;


static void ngx_http_parley_fan_out(ngx_http_parley_local_t *lt,
    uint8_t *buf, size_t len, uint64_t meta);
static ngx_uint_t ngx_http_parley_reconcile(ngx_http_parley_pc_t *pc);
static ngx_int_t ngx_http_parley_subscribe_restart(ngx_http_parley_pc_t *pc,
    const char **error);
static ngx_http_parley_leg_t *ngx_http_parley_leg_free(
    ngx_http_parley_pc_t *pc, parley_sdp_kind_t kind);
static ngx_int_t ngx_http_parley_leg_numbers(ngx_http_parley_pc_t *pc,
    ngx_http_parley_numbers_t *numbers);
static ngx_int_t ngx_http_parley_leg_start_locked(ngx_http_parley_leg_t *leg,
    uint32_t index, parley_track_t *rec);
static void ngx_http_parley_leg_map(ngx_http_parley_leg_t *leg,
    parley_track_t *rec);
static void ngx_http_parley_leg_stop_locked(ngx_http_parley_leg_t *leg);
static ngx_int_t ngx_http_parley_offer(ngx_http_parley_pc_t *pc);
static ngx_int_t ngx_http_parley_offer_write(ngx_http_parley_pc_t *pc,
    ngx_str_t *text);
static ngx_http_parley_track_t *ngx_http_parley_track_of(
    ngx_http_parley_pc_t *pc, uint8_t *buf, size_t len,
    parley_rtp_header_t *h, uint32_t *layer, ngx_uint_t *rtx);
static ngx_uint_t ngx_http_parley_track_flooding(ngx_http_parley_track_t *t,
    size_t len);
static ngx_uint_t ngx_http_parley_keyframe_start(ngx_http_parley_track_t *t,
    uint8_t *buf, parley_rtp_header_t *h);
static void ngx_http_parley_leg_send(ngx_http_parley_leg_t *leg,
    uint8_t *buf, size_t len, parley_rtp_header_t *h, uint64_t meta);
static int ngx_http_parley_leg_wants_keyframe(parley_leg_t *core,
    uint32_t layer);
static void ngx_http_parley_tracks_announce(ngx_http_parley_pc_t *pc);


const char  *ngx_http_parley_track_kinds[] = {
    "", "audio", "video", "screen"
};


ngx_int_t
ngx_http_parley_tracks_start(ngx_cycle_t *cycle)
{
    uint32_t                  i;
    parley_tracks_t          *tracks;
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;
    tracks = ngx_http_parley_worker.tracks;

    if (tracks == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "parley: no track table");
        return NGX_ERROR;
    }

    m->tracks = tracks;
    m->max_tracks = tracks->geometry.max_tracks;

    m->local = ngx_calloc(m->max_tracks * sizeof(ngx_http_parley_local_t),
                          cycle->log);
    m->owned = ngx_calloc(m->max_tracks * sizeof(ngx_http_parley_track_t *),
                          cycle->log);
    m->dirty = ngx_alloc(m->max_tracks * sizeof(uint32_t), cycle->log);
    m->collected = ngx_alloc(m->max_tracks * sizeof(uint32_t), cycle->log);
    m->packet = ngx_alloc(tracks->geometry.slot_size, cycle->log);

    if (m->local == NULL || m->owned == NULL || m->dirty == NULL
        || m->collected == NULL || m->packet == NULL)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < m->max_tracks; i++) {
        ngx_queue_init(&m->local[i].legs);
    }

    /* the NACK indexes, 12 KB a track, touched only for tracks read here */

    m->indexes = ngx_alloc(m->max_tracks * sizeof(parley_retransmit_index_t),
                           cycle->log);
    if (m->indexes == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < m->max_tracks; i++) {
        m->local[i].index = &m->indexes[i];
    }

    return NGX_OK;
}


void
ngx_http_parley_tracks_stop(void)
{
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;

    ngx_free(m->local);
    ngx_free(m->owned);
    ngx_free(m->dirty);
    ngx_free(m->collected);
    ngx_free(m->packet);
    ngx_free(m->indexes);

    m->tracks = NULL;
    m->local = NULL;
    m->owned = NULL;
}


/*
 * The publisher's tracks not yet in the table go in, all or none, and the
 * room's workers are told. The caps are checked under the table's lock
 * with the publishing itself, so that no other worker's publish comes in
 * between: parley_max_participant_tracks for the publisher,
 * parley_max_room_tracks for its room, parley_max_tracks for the table.
 * Returns NULL, or the error code the client is answered with.
 */

const char *
ngx_http_parley_tracks_publish(ngx_http_parley_pc_t *pc)
{
    uint32_t                    index[NGX_HTTP_PARLEY_TRACKS];
    ngx_uint_t                  i, n, fresh;
    const char                 *error;
    parley_rc_t                 rc;
    parley_tracks_t            *tracks;
    parley_track_info_t         info[NGX_HTTP_PARLEY_TRACKS];
    ngx_http_parley_media_t    *m;
    ngx_http_parley_track_t    *t;
    ngx_http_parley_session_t  *s;
    ngx_http_parley_main_conf_t *pmcf;

    m = &ngx_http_parley_media;
    s = pc->session;
    tracks = m->tracks;
    pmcf = ngx_http_parley_worker.conf;

    if (s->room == NULL) {
        return NULL;
    }

    if (pc->ntracks > pmcf->participant_tracks) {
        ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                      "parley: an offer of %ui tracks refused "
                      "(parley_max_participant_tracks %ui)", pc->ntracks,
                      pmcf->participant_tracks);
        return "too_many_tracks";
    }

    n = 0;

    for (i = 0; i < pc->ntracks; i++) {
        t = &pc->tracks[i];
        t->pc = pc;

        if (t->uid) {
            m->owned[t->index] = t;
            continue;
        }

        ngx_memzero(&info[n], sizeof(parley_track_info_t));
        info[n].room_uid = s->room->node.key;
        info[n].publisher = s->participant_id;
        info[n].owner = ngx_http_parley_worker.inbox;
        info[n].kind = t->track_kind;
        info[n].ssrc = t->ssrc;
        info[n].rtx_ssrc = t->rtx_ssrc;
        info[n].pt = t->pt;
        info[n].rtx_pt = t->rtx_pt;
        info[n].layers = t->layers;
        ngx_memcpy(info[n].ext, t->ext, sizeof(info[n].ext));
        info[n].codec = ngx_http_parley_codecs[t->codec].name;
        info[n].mid = (ngx_strlen(t->mid) <= PARLEY_TRACK_MID_MAX)
                      ? (const char *) t->mid : NULL;
        n++;
    }

    if (n == 0) {
        return NULL;
    }

    error = NULL;
    fresh = 0;

    parley_tracks_lock(tracks, ngx_http_parley_worker.pid);

    if (parley_tracks_room_count_locked(tracks, s->room->node.key) + n
        > pmcf->room_tracks)
    {
        error = "too_many_tracks";

    } else if (tracks->in_use + n > tracks->geometry.max_tracks) {
        error = "server_full";

    } else {
        for (fresh = 0; fresh < n; fresh++) {
            rc = parley_tracks_publish_locked(tracks, &info[fresh],
                                              &index[fresh]);
            if (rc != PARLEY_OK) {
                break;
            }
        }

        if (fresh < n) {
            /* all or none: a track the table refuses refuses the offer */
            while (fresh) {
                parley_tracks_unpublish_locked(tracks, index[--fresh]);
            }

            error = "internal";
        }
    }

    parley_tracks_unlock(tracks, ngx_http_parley_worker.pid);

    if (error) {
        ngx_log_error(NGX_LOG_WARN, pc->timer.log, 0,
                      "parley: %ui tracks of participant %uL refused: %s "
                      "(parley_max_room_tracks %ui, parley_max_tracks %uD)",
                      n, s->participant_id,
                      error[0] == 's' ? "the track table is full"
                      : error[0] == 't' ? "the room has as many as it may"
                      : "the table refused one", pmcf->room_tracks,
                      m->max_tracks);
        return error;
    }

    for (i = 0, n = 0; i < pc->ntracks; i++) {
        t = &pc->tracks[i];

        if (t->uid) {
            continue;
        }

        t->index = index[n++];
        t->uid = parley_tracks_uid(tracks, t->index);
        ngx_http_parley_track_nack_start(t);
        t->level_id = (t->kind == PARLEY_SDP_AUDIO)
                      ? ngx_http_parley_level_id(t->ext) : 0;
        m->owned[t->index] = t;

        ngx_http_parley_count(tracks_published);
    }

    ngx_http_parley_tracks_announce(pc);

    return NULL;
}


/* Every track of the publisher still in the table leaves it. */

void
ngx_http_parley_tracks_unpublish(ngx_http_parley_pc_t *pc)
{
    ngx_uint_t                i, removed;
    ngx_http_parley_media_t  *m;
    ngx_http_parley_track_t  *t;

    m = &ngx_http_parley_media;
    removed = 0;

    for (i = 0; i < pc->ntracks; i++) {
        t = &pc->tracks[i];

        if (t->uid == 0) {
            continue;
        }

        parley_tracks_lock(m->tracks, ngx_http_parley_worker.pid);

        if (parley_tracks_uid(m->tracks, t->index) == t->uid) {
            parley_tracks_unpublish_locked(m->tracks, t->index);
        }

        parley_tracks_unlock(m->tracks, ngx_http_parley_worker.pid);

        if (m->owned[t->index] == t) {
            m->owned[t->index] = NULL;
        }

        ngx_http_parley_track_nack_stop(t);
        t->uid = 0;
        removed++;
    }

    if (removed) {
        ngx_http_parley_tracks_announce(pc);
    }
}


static void
ngx_http_parley_tracks_announce(ngx_http_parley_pc_t *pc)
{
    if (pc->session->room) {
        ngx_http_parley_signal_tracks_changed(pc->session);
    }
}


/*
 * A publisher's decrypted packet goes into its track's ring, once, with
 * what readers need to know of it in the ring's meta (see
 * parley_retransmit.h): its layer, its extended sequence number, whether
 * it starts a keyframe, or that it is a retransmission. The track is
 * marked for the wake-ups after the receive batch.
 */

void
ngx_http_parley_tracks_write(ngx_http_parley_pc_t *pc, uint8_t *buf,
    size_t len, parley_rtp_header_t *hp)
{
    uint32_t                  layer;
    uint64_t                  meta;
    ngx_uint_t                rtx;
    parley_rtp_header_t       h;
    ngx_http_parley_media_t  *m;
    ngx_http_parley_track_t  *t;

    m = &ngx_http_parley_media;
    h = *hp;

    t = ngx_http_parley_track_of(pc, buf, len, &h, &layer, &rtx);

    if (t == NULL) {
        ngx_http_parley_unforwarded(pc, "of an SSRC no published track has");
        return;
    }

    if (ngx_http_parley_track_flooding(t, len)) {
        ngx_http_parley_count(rtp_flooded);
        return;
    }

    if (rtx) {

        /*
         * RFC 4588 4: a retransmission (one the SFU asked for) becomes the
         * original again, late; padding-only ones (bandwidth probes) carry
         * nothing to forward.
         */

        if (t->rtx_pt == PARLEY_SDP_NO_PT
            || parley_rtp_rtx_unwrap(buf, len, &h, t->pt,
                                     t->layer_ssrc[layer], &buf, &len, &h)
               != PARLEY_RTP_OK)
        {
            return;
        }
    }

    if (t->nack[layer]
        && parley_nack_on_packet(t->nack[layer], h.seq,
                                 ngx_http_parley_now_us())
           == PARLEY_NACK_GAP)
    {
        ngx_http_parley_track_nack_gap(t);
    }

    meta = parley_retransmit_meta(
               parley_retransmit_extend(&t->seqs, layer, h.seq), layer,
               ngx_http_parley_keyframe_start(t, buf, &h)
               ? PARLEY_RETRANSMIT_F_KEYFRAME : 0);

    if (parley_ring_publish(parley_tracks_ring(m->tracks, t->index), buf,
                            (uint32_t) len, meta)
        != PARLEY_OK)
    {
        ngx_http_parley_unforwarded(pc, "larger than a ring slot");
        return;
    }

    if (!t->dirty) {
        t->dirty = 1;
        m->dirty[m->ndirty++] = t->index;
    }

    if (t->level_id && pc->session->room) {
        ngx_http_parley_speaker_feed(pc->session->room, t->index, t->uid,
                                     pc->session->participant_id, buf, len,
                                     &h, t->level_id);
    }

    if (t->pli_wanted) {
        ngx_http_parley_track_pli_due(t);
    }
}


/*
 * A packet the publisher should not have sent stays with it: counted,
 * and logged sparsely.
 */

void
ngx_http_parley_unforwarded(ngx_http_parley_pc_t *pc, const char *why)
{
    ngx_uint_t                            n;
    static ngx_http_parley_sparse_log_t   sparse;

    ngx_http_parley_count(rtp_unforwarded);

    n = ngx_http_parley_sparse_log(&sparse);

    if (n) {
        ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                      "parley: %ui RTP packets not forwarded since the last "
                      "such line; the last, of participant %uL, was %s",
                      n, pc->session->participant_id, why);
    }
}


/*
 * The published track and layer of a packet, by SSRC; a simulcast
 * encoding's SSRC is learnt from the first packet that names its rid
 * (RFC 8852 3.1), a retransmission stream's from its repaired rid.
 */

static ngx_http_parley_track_t *
ngx_http_parley_track_of(ngx_http_parley_pc_t *pc, uint8_t *buf, size_t len,
    parley_rtp_header_t *h, uint32_t *layer, ngx_uint_t *rtx)
{
    size_t                    n;
    ngx_uint_t                i, k, nl;
    const uint8_t            *rid;
    ngx_http_parley_track_t  *t;

    for (i = 0; i < pc->ntracks; i++) {
        t = &pc->tracks[i];
        nl = t->layers ? t->layers : 1;

        for (k = 0; t->uid && k < nl; k++) {
            if (t->layer_ssrc[k] == h->ssrc
                || (t->layer_rtx_ssrc[k] && t->layer_rtx_ssrc[k] == h->ssrc))
            {
                *layer = (uint32_t) k;
                *rtx = (t->layer_ssrc[k] != h->ssrc);
                return t;
            }
        }
    }

    for (i = 0; i < pc->ntracks; i++) {
        t = &pc->tracks[i];

        if (t->uid == 0 || t->layers == 0) {
            continue;
        }

        *rtx = 0;

        if (parley_rtp_ext_string(buf, len, h, t->rid_id, &rid, &n)
            != PARLEY_RTP_OK)
        {
            *rtx = 1;

            if (parley_rtp_ext_string(buf, len, h, t->rrid_id, &rid, &n)
                != PARLEY_RTP_OK)
            {
                continue;
            }
        }

        for (k = 0; k < t->layers; k++) {
            if (ngx_strlen(t->rids[k]) == n
                && ngx_strncmp(t->rids[k], rid, n) == 0)
            {
                if (*rtx) {
                    t->layer_rtx_ssrc[k] = h->ssrc;

                } else {
                    t->layer_ssrc[k] = h->ssrc;
                }

                *layer = (uint32_t) k;
                return t;
            }
        }
    }

    return NULL;
}


/*
 * A track may send NGX_HTTP_PARLEY_FLOOD_PPS packets and
 * NGX_HTTP_PARLEY_FLOOD_BPS bytes a second (a 4K screen share needs a
 * third of either), with a burst of a quarter second; past that its
 * packets are dropped before they reach anyone, and the log says so once
 * per NGX_HTTP_PARLEY_FLOOD_LOG.
 */

static ngx_uint_t
ngx_http_parley_track_flooding(ngx_http_parley_track_t *t, size_t len)
{
    ngx_msec_t  elapsed;

    elapsed = ngx_current_msec - t->flood_time;

    if (t->flood_time == 0 || elapsed > 250) {
        elapsed = 250;
    }

    t->flood_time = ngx_current_msec;
    t->flood_packets = ngx_min(t->flood_packets + (int64_t) elapsed
                               * NGX_HTTP_PARLEY_FLOOD_PPS / 1000,
                               NGX_HTTP_PARLEY_FLOOD_PPS / 4);
    t->flood_bytes = ngx_min(t->flood_bytes + (int64_t) elapsed
                             * NGX_HTTP_PARLEY_FLOOD_BPS / 1000,
                             NGX_HTTP_PARLEY_FLOOD_BPS / 4);

    if (t->flood_packets > 0 && t->flood_bytes > 0) {
        t->flood_packets--;
        t->flood_bytes -= (int64_t) len;
        return 0;
    }

    if (ngx_current_msec - t->flood_logged >= NGX_HTTP_PARLEY_FLOOD_LOG) {
        t->flood_logged = ngx_current_msec;
        ngx_log_error(NGX_LOG_INFO, t->pc->timer.log, 0,
                      "parley: participant %uL floods a %s track (more "
                      "than %d packets or %d bytes a second): packets "
                      "dropped", t->pc->session->participant_id,
                      ngx_http_parley_track_kinds[t->track_kind],
                      NGX_HTTP_PARLEY_FLOOD_PPS, NGX_HTTP_PARLEY_FLOOD_BPS);
    }

    return 1;
}


/* Whether a video packet is the first of a keyframe, by its codec. */

static ngx_uint_t
ngx_http_parley_keyframe_start(ngx_http_parley_track_t *t, uint8_t *buf,
    parley_rtp_header_t *h)
{
    if (t->kind != PARLEY_SDP_VIDEO || h->payload_len == 0) {
        return 0;
    }

    return parley_codec_keyframe_start(t->payload, buf + h->payload_offset,
                                       h->payload_len);
}


/* After a receive batch: one wake-up per worker that has new packets. */

void
ngx_http_parley_tracks_flush(void)
{
    uint16_t                  slot;
    uint32_t                  i;
    parley_slot_mask_t        wake;
    ngx_http_parley_media_t  *m;
    ngx_http_parley_track_t  *t;

    m = &ngx_http_parley_media;

    if (m->ndirty == 0) {
        return;
    }

    ngx_memzero(&wake, sizeof(parley_slot_mask_t));

    for (i = 0; i < m->ndirty; i++) {
        t = m->owned[m->dirty[i]];

        if (t) {
            t->dirty = 0;
        }

        (void) parley_tracks_mark(m->tracks, m->dirty[i], &wake);
    }

    m->ndirty = 0;

    for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {
        if (wake.bits[slot / 64] & ((uint64_t) 1 << (slot % 64))) {
            ngx_http_parley_inbox_wake(slot);
        }
    }
}


/*
 * Woken: the tracks with new packets, read from their rings up to their
 * heads, each packet sent to this worker's subscribers of the track.
 */

void
ngx_http_parley_media_collect(void)
{
    uint32_t                  i, n, len;
    uint64_t                  meta, missed;
    parley_rc_t               rc;
    parley_ring_t            *ring;
    ngx_http_parley_local_t  *lt;
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;

    if (m->tracks == NULL
        || parley_tracks_collect(m->tracks, ngx_http_parley_worker.inbox,
                                 m->collected, m->max_tracks, &n)
           != PARLEY_OK)
    {
        return;
    }

    for (i = 0; i < n; i++) {
        lt = &m->local[m->collected[i]];

        if (lt->uid == 0
            || parley_tracks_uid(m->tracks, m->collected[i]) != lt->uid)
        {
            continue;
        }

        ring = parley_tracks_ring(m->tracks, m->collected[i]);

        for ( ;; ) {
            missed = lt->reader.missed;

            rc = parley_ring_read(ring, &lt->reader, m->packet,
                                  m->tracks->geometry.slot_size, &len, &meta);

            if (rc == PARLEY_OK) {
                if (parley_retransmit_meta_kind(meta)
                    == PARLEY_RETRANSMIT_KIND_RTP)
                {
                    parley_retransmit_index_note(lt->index,
                                                 lt->reader.next - 1, meta);
                }

                ngx_http_parley_fan_out(lt, m->packet, len, meta);
                continue;
            }

            if (rc != PARLEY_ERR_LAPPED) {
                break;
            }

            ngx_http_parley_count(ring_laps);

            if (ngx_http_parley_worker.counters) {
                ngx_http_parley_worker.counters->ring_missed +=
                                                lt->reader.missed - missed;
            }
        }
    }

    ngx_http_parley_send_flush();
}


static void
ngx_http_parley_fan_out(ngx_http_parley_local_t *lt, uint8_t *buf,
    size_t len, uint64_t meta)
{
    uint32_t                index, layer;
    ngx_queue_t            *q;
    parley_rtp_header_t     h;
    ngx_http_parley_leg_t  *leg;

    if (parley_rtp_parse(buf, len, &h) != PARLEY_RTP_OK) {
        return;
    }

    /* what each encoding costs a subscriber, each number counted once */

    layer = parley_retransmit_meta_layer(meta);

    if (parley_retransmit_meta_kind(meta) == PARLEY_RETRANSMIT_KIND_RTP
        && layer < PARLEY_SIMULCAST_LAYERS)
    {
        parley_rate_add_packet(&lt->rate[layer],
                               parley_retransmit_meta_seq(meta), len,
                               ngx_current_msec);
    }

    if (lt->level_id && lt->room) {
        index = (uint32_t) (lt - ngx_http_parley_media.local);
        ngx_http_parley_speaker_feed(lt->room, index, lt->uid, lt->publisher,
                                     buf, len, &h, lt->level_id);
    }

    for (q = ngx_queue_head(&lt->legs);
         q != ngx_queue_sentinel(&lt->legs);
         q = ngx_queue_next(q))
    {
        leg = ngx_queue_data(q, ngx_http_parley_leg_t, queue);

        if (leg->pc->peer && parley_peer_secure(leg->pc->peer, NULL)) {
            ngx_http_parley_leg_send(leg, buf, len, &h, meta);
        }
    }
}


/*
 * One packet to one leg: parley_leg decides and writes it into the send
 * slot; it is protected and queued here.
 */

static void
ngx_http_parley_leg_send(ngx_http_parley_leg_t *leg, uint8_t *buf,
    size_t len, parley_rtp_header_t *h, uint64_t meta)
{
    int                   twcc;
    size_t                out_len;
    u_char               *out;
    parley_leg_packet_t   p;

    /*
     * Only media reaches a leg: the publisher's retransmissions are written
     * into the ring as the packets they repair, and the leg's own are
     * answered from the ring on its own RTX numbering.
     */

    if (parley_retransmit_meta_kind(meta) != PARLEY_RETRANSMIT_KIND_RTP) {
        return;
    }

    p.buf = buf;
    p.len = len;
    p.h = h;
    p.layer = parley_retransmit_meta_layer(meta);
    p.keyframe = (parley_retransmit_meta_flags(meta)
                  & PARLEY_RETRANSMIT_F_KEYFRAME) != 0;

    out = ngx_http_parley_send_slot();

    switch (parley_leg_forward(&leg->core, &p, ngx_current_msec,
                               ngx_http_parley_bandwidth_seq(leg->pc), out,
                               NGX_HTTP_PARLEY_UDP_BUF
                               - PARLEY_SRTP_TRAILER_ROOM,
                               &out_len, &twcc))
    {
    case PARLEY_LEG_SEND:
        break;

    case PARLEY_LEG_OVER_BUDGET:
        ngx_http_parley_count(rtp_over_budget);
        return;

    default:
        return;
    }

    if (ngx_http_parley_send_rtp(leg->pc->peer, out_len) == NGX_OK) {
        if (twcc) {
            ngx_http_parley_bandwidth_sent(leg->pc, out_len);
        }

        parley_leg_sent(&leg->core, h->payload_len, ngx_current_msec);
        ngx_http_parley_count(rtp_out);
    }
}


/* parley_leg's keyframe callback: the glue that reaches the publisher */

static int
ngx_http_parley_leg_wants_keyframe(parley_leg_t *core, uint32_t layer)
{
    return ngx_http_parley_leg_keyframe(core->data, layer) != 0;
}


/*
 * "subscribe": the peer connection the client receives the others'
 * tracks on. It is offered now if the room has tracks, or as soon as it
 * has one.
 */

ngx_int_t
ngx_http_parley_media_subscribe(ngx_http_parley_session_t *s,
    ngx_uint_t restart, const char **error)
{
    uint64_t               speaker;
    ngx_http_parley_pc_t  *pc;

    *error = "internal";

    if (s->subscriber && restart) {
        return ngx_http_parley_subscribe_restart(s->subscriber, error);
    }

    if (s->subscriber) {
        *error = "already_subscribed";
        return NGX_DECLINED;
    }

    pc = ngx_http_parley_pc_alloc(s);
    if (pc == NULL) {
        return NGX_ERROR;
    }

    pc->subscriber = 1;

    if (ngx_http_parley_bandwidth_start(pc) != NGX_OK
        || ngx_http_parley_random_chars(pc->ufrag, PARLEY_PEER_UFRAG_LEN)
           != NGX_OK
        || ngx_http_parley_random_chars(pc->pwd, PARLEY_PEER_PWD_LEN)
           != NGX_OK)
    {
        ngx_http_parley_pc_free(pc);
        return NGX_ERROR;
    }

    s->subscriber = pc;

    speaker = ngx_http_parley_speaker_current(s->room);

    if (speaker) {
        ngx_http_parley_signal_speaker(s->room, s, speaker);
    }

    if (ngx_http_parley_reconcile(pc)) {
        return ngx_http_parley_offer(pc);
    }

    return NGX_OK;
}


/*
 * "subscribe" with "restart": the client's network changed. The next
 * offer has new ICE credentials (RFC 8839 4.4.1.1.1); the restart takes
 * effect with its answer.
 */

static ngx_int_t
ngx_http_parley_subscribe_restart(ngx_http_parley_pc_t *pc,
    const char **error)
{
    if (pc->peer == NULL) {
        *error = "no_connection";
        return NGX_DECLINED;
    }

    if (ngx_http_parley_random_chars(pc->ufrag, PARLEY_PEER_UFRAG_LEN)
        != NGX_OK
        || ngx_http_parley_random_chars(pc->pwd, PARLEY_PEER_PWD_LEN)
           != NGX_OK)
    {
        *error = "internal";
        return NGX_ERROR;
    }

    pc->restart = 1;

    if (pc->offer_pending) {
        pc->renegotiate = 1;
        return NGX_OK;
    }

    (void) ngx_http_parley_reconcile(pc);

    return ngx_http_parley_offer(pc);
}


/* PARLEY_EV_TRACKS from the inbox: the room's tracks changed (0: any) */

void
ngx_http_parley_media_tracks_event(const parley_event_t *ev)
{
    ngx_http_parley_room_t  *room;

    room = ngx_http_parley_room_lookup(ev->room_uid);

    if (room || ev->room_uid == 0) {
        ngx_http_parley_media_tracks_changed(room);
    }
}


/*
 * The room's tracks changed (room NULL: any room may have): every
 * subscriber of it on this worker gets a new offer, or one after the
 * answer it still owes.
 */

void
ngx_http_parley_media_tracks_changed(ngx_http_parley_room_t *room)
{
    ngx_queue_t                *q, *head;
    ngx_http_parley_pc_t       *pc;
    ngx_http_parley_session_t  *s;

    if (ngx_http_parley_media.tracks == NULL) {
        return;
    }

    head = room ? &room->sessions : &ngx_http_parley_worker.sessions;

    for (q = ngx_queue_head(head);
         q != ngx_queue_sentinel(head);
         q = ngx_queue_next(q))
    {
        s = room ? ngx_queue_data(q, ngx_http_parley_session_t, room_queue)
                 : ngx_queue_data(q, ngx_http_parley_session_t, queue);
        pc = s->subscriber;

        if (pc == NULL || s->room == NULL) {
            continue;
        }

        if (pc->offer_pending) {
            pc->renegotiate = 1;

        } else if (ngx_http_parley_reconcile(pc)) {
            (void) ngx_http_parley_offer(pc);
        }
    }
}


/*
 * Brings the subscriber's legs in line with the table: legs of tracks
 * gone stop, tracks of others not received yet get a leg. Returns whether
 * anything changed.
 */

static ngx_uint_t
ngx_http_parley_reconcile(ngx_http_parley_pc_t *pc)
{
    uint32_t                    i;
    uint64_t                    room_uid;
    ngx_uint_t                  k, changed, full;
    parley_track_t             *rec;
    parley_tracks_t            *tracks;
    parley_sdp_kind_t           kind;
    ngx_http_parley_leg_t      *leg;
    ngx_http_parley_session_t  *s;

    s = pc->session;
    tracks = ngx_http_parley_media.tracks;
    room_uid = s->room->node.key;
    changed = 0;
    full = 0;

    parley_tracks_lock(tracks, ngx_http_parley_worker.pid);

    for (k = 0; k < pc->nlegs; k++) {
        leg = pc->legs[k];

        if (leg->uid && parley_tracks_uid(tracks, leg->index) != leg->uid) {
            ngx_http_parley_leg_stop_locked(leg);
            changed = 1;
        }
    }

    for (i = parley_tracks_room_next_locked(tracks, room_uid, 0);
         i != PARLEY_NONE;
         i = parley_tracks_room_next_locked(tracks, room_uid, i + 1))
    {
        rec = parley_tracks_track(tracks, i);

        if (rec->publisher == s->participant_id) {
            continue;
        }

        for (k = 0; k < pc->nlegs; k++) {
            if (pc->legs[k]->uid == rec->uid) {
                break;
            }
        }

        if (k < pc->nlegs) {
            continue;
        }

        kind = (rec->kind == PARLEY_TRACK_AUDIO) ? PARLEY_SDP_AUDIO
                                                 : PARLEY_SDP_VIDEO;

        leg = ngx_http_parley_leg_free(pc, kind);

        if (leg == NULL) {
            full = 1;
            break;
        }

        if (ngx_http_parley_leg_start_locked(leg, i, rec) == NGX_OK) {
            changed = 1;
        }
    }

    parley_tracks_unlock(tracks, ngx_http_parley_worker.pid);

    if (full && pc->nlegs == NGX_HTTP_PARLEY_LEGS) {
        ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                      "parley: a subscriber receives %d tracks at most; "
                      "one more is not offered", NGX_HTTP_PARLEY_LEGS);

    } else if (full) {
        ngx_log_error(NGX_LOG_ALERT, pc->timer.log, 0,
                      "parley: no memory for a subscriber's section; "
                      "a track is not offered");
    }

    return changed;
}


/*
 * An inactive section of the kind to reuse, or a new one: a leg's record
 * is allocated when its section is first offered, and kept for reuse
 * until the connection ends.
 */

static ngx_http_parley_leg_t *
ngx_http_parley_leg_free(ngx_http_parley_pc_t *pc, parley_sdp_kind_t kind)
{
    ngx_uint_t              k;
    ngx_http_parley_leg_t  *leg;

    for (k = 0; k < pc->nlegs; k++) {
        if (pc->legs[k]->uid == 0 && pc->legs[k]->kind == kind) {
            return pc->legs[k];
        }
    }

    if (pc->nlegs == NGX_HTTP_PARLEY_LEGS) {
        return NULL;
    }

    leg = ngx_calloc(sizeof(ngx_http_parley_leg_t), pc->timer.log);
    if (leg == NULL) {
        return NULL;
    }

    pc->legs[pc->nlegs] = leg;
    ngx_queue_init(&leg->queue);
    leg->pc = pc;
    leg->kind = kind;
    *ngx_sprintf(leg->mid, "t%ui", pc->nlegs) = '\0';
    pc->nlegs++;

    return leg;
}


static ngx_int_t
ngx_http_parley_leg_start_locked(ngx_http_parley_leg_t *leg, uint32_t index,
    parley_track_t *rec)
{
    ngx_uint_t                  i;
    ngx_queue_t                *q;
    parley_tracks_t            *tracks;
    ngx_http_parley_local_t    *lt;
    ngx_http_parley_numbers_t   numbers;

    tracks = ngx_http_parley_media.tracks;
    lt = &ngx_http_parley_media.local[index];

    if (ngx_http_parley_leg_numbers(leg->pc, &numbers) != NGX_OK) {
        return NGX_ERROR;
    }

    if (lt->uid != rec->uid) {

        /* the index was another track's: whoever still listens lets go */

        while (!ngx_queue_empty(&lt->legs)) {
            q = ngx_queue_head(&lt->legs);
            ngx_queue_remove(q);
            ngx_queue_init(q);
        }

        lt->uid = rec->uid;
        lt->kind = rec->kind;
        parley_ring_reader_init(parley_tracks_ring(tracks, index),
                                &lt->reader);
        parley_retransmit_index_init(lt->index);

        for (i = 0; i < PARLEY_SIMULCAST_LAYERS; i++) {
            parley_rate_init(&lt->rate[i]);
        }

        /* a track this worker writes feeds the speaker as it is written */
        lt->publisher = rec->publisher;
        lt->level_id = (rec->kind == PARLEY_TRACK_AUDIO
                        && rec->owner != ngx_http_parley_worker.inbox)
                       ? ngx_http_parley_level_id(rec->ext) : 0;
    }

    lt->room = leg->pc->session->room;

    if (ngx_queue_empty(&lt->legs)) {
        (void) parley_tracks_subscribe_locked(tracks, index, rec->uid,
                                              ngx_http_parley_worker.inbox);
    }

    leg->index = index;
    leg->uid = rec->uid;
    leg->publisher = rec->publisher;
    leg->track_kind = rec->kind;
    leg->ssrc = numbers.ssrc;
    leg->core.rtx_ssrc = numbers.rtx_ssrc;
    leg->core.rtx_seq = numbers.rtx_seq;
    leg->core.keyframe = ngx_http_parley_leg_wants_keyframe;
    leg->core.data = leg;
    leg->fresh = 1;
    leg->core.simulcast = (rec->layers > 1);

    /*
     * A new track in the section starts unpaused, at its wish; a client
     * told it was paused hears otherwise at the next allocation.
     */
    leg->cap = PARLEY_NONE;
    leg->core.paused = 0;
    leg->core.resuming = 0;

    /*
     * The section carries the same publisher's track of the same kind
     * again (it published anew, e.g. after a resume): the client's wish
     * for the section still holds, and the client will not repeat it.
     * Another track forgets it.
     */

    if (leg->wish_for != rec->publisher || leg->wish_kind != rec->kind) {
        leg->wish_for = 0;
    }

    /*
     * One clean stream of the leg's own numbers (RFC 3550 5.1), whatever
     * SSRCs and sequence numbers the publisher chose: see parley_renumber.h.
     */

    if (leg->core.simulcast) {
        (void) parley_simulcast_init(&leg->core.sw, NULL, numbers.seq,
                                     numbers.ts);

        if (leg->wish_for) {
            (void) parley_simulcast_set_target(&leg->core.sw, leg->wish);
        }

    } else {
        parley_renumber_init(&leg->core.rn, numbers.seq, numbers.ts);
    }

    if (leg->kind == PARLEY_SDP_VIDEO && leg->core.limiter == NULL) {
        leg->core.limiter = ngx_alloc(sizeof(parley_retransmit_limiter_t),
                                      leg->pc->timer.log);
    }

    if (leg->core.limiter) {
        /* a quarter of a 2.5 Mbit/s stream, a burst of 20 packets */
        (void) parley_retransmit_limiter_init(leg->core.limiter, 80000, 24000);
    }

    parley_budget_init(&leg->core.budget, NGX_HTTP_PARLEY_LEG_BPS,
                       NGX_HTTP_PARLEY_LEG_BURST, ngx_current_msec);

    ngx_http_parley_leg_map(leg, rec);
    ngx_http_parley_leg_report_start(leg);

    ngx_queue_insert_tail(&lt->legs, &leg->queue);

    return NGX_OK;
}


/*
 * A leg's SSRCs differ from 0 and from those of the connection's other
 * legs (RFC 3550 8.1), and its first numbers are random (RFC 3550 5.1).
 * The first sequence numbers are below 2^15, as browsers choose theirs: a
 * receiver whose first packets are lost must not see the numbers wrap
 * before its first one arrives, or it guesses the SRTP rollover counter
 * one short of the sender's and fails every packet after (RFC 3711 3.3.1).
 */

static ngx_int_t
ngx_http_parley_leg_numbers(ngx_http_parley_pc_t *pc,
    ngx_http_parley_numbers_t *numbers)
{
    ngx_uint_t              k, tries;
    ngx_http_parley_leg_t  *other;

    for (tries = 0; tries < 8; tries++) {
        if (ngx_http_parley_random(numbers, sizeof(*numbers)) != NGX_OK) {
            return NGX_ERROR;
        }

        numbers->seq = (uint16_t) ((numbers->seq & 0x7fff) | 1);
        numbers->rtx_seq = (uint16_t) ((numbers->rtx_seq & 0x7fff) | 1);

        if (numbers->ssrc == 0 || numbers->rtx_ssrc == 0
            || numbers->ssrc == numbers->rtx_ssrc)
        {
            continue;
        }

        for (k = 0; k < pc->nlegs; k++) {
            other = pc->legs[k];

            if (other->ssrc == numbers->ssrc
                || other->ssrc == numbers->rtx_ssrc
                || other->core.rtx_ssrc == numbers->ssrc
                || other->core.rtx_ssrc == numbers->rtx_ssrc)
            {
                break;
            }
        }

        if (k == pc->nlegs) {
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


/*
 * The map that rewrites the publisher's packets into what the leg's
 * section says: the SFU's payload types and extension ids, the leg's mid.
 */

static void
ngx_http_parley_leg_map(ngx_http_parley_leg_t *leg, parley_track_t *rec)
{
    ngx_uint_t                      c, id, k;
    parley_forward_ext_kind_t       kind;
    const parley_sdp_codec_conf_t  *codec;

    for (c = 0; c < ngx_http_parley_ncodecs; c++) {
        if (ngx_strcmp(rec->codec, ngx_http_parley_codecs[c].name) == 0) {
            break;
        }
    }

    leg->codec = (c < ngx_http_parley_ncodecs) ? c : 0;
    codec = &ngx_http_parley_codecs[leg->codec];

    if (codec->rtx_pt == PARLEY_SDP_NO_PT) {
        leg->core.rtx_ssrc = 0;
    }

    leg->core.rtx_pt = (uint8_t) codec->rtx_pt;

    parley_forward_map_init(&leg->core.map, leg->ssrc, leg->core.rtx_ssrc);
    leg->core.map.single_layer = 1;

    /* every packet carries the leg's transport-wide number */

    for (k = 0; k < ngx_http_parley_nextmaps; k++) {
        if (ngx_http_parley_ext_kind(ngx_http_parley_extmaps[k].uri)
                == PARLEY_FORWARD_EXT_TWCC
            && (ngx_http_parley_extmaps[k].kinds
                & PARLEY_SDP_KIND_BIT(leg->kind)))
        {
            leg->core.map.twcc_id = (uint8_t) ngx_http_parley_extmaps[k].id;
        }
    }

    (void) parley_forward_map_set_mid(&leg->core.map, leg->mid,
                                      ngx_strlen(leg->mid));

    if (c == ngx_http_parley_ncodecs || rec->pt >= PARLEY_FORWARD_PT_COUNT) {
        return;
    }

    leg->core.map.pt[rec->pt] = codec->pt;

    if (rec->rtx_pt < PARLEY_FORWARD_PT_COUNT && leg->core.rtx_ssrc) {
        leg->core.map.pt[rec->rtx_pt] = codec->rtx_pt;
        leg->core.map.pt_is_rtx[rec->rtx_pt] = 1;
    }

    /* extensions by kind: the publisher's id to the SFU's offered id */

    for (id = 1; id <= 14; id++) {
        if (rec->ext[id] == 0) {
            continue;
        }

        kind = (parley_forward_ext_kind_t) (rec->ext[id] - 1);

        if (kind == PARLEY_FORWARD_EXT_OTHER) {
            continue;
        }

        for (k = 0; k < ngx_http_parley_nextmaps; k++) {
            if (ngx_http_parley_ext_kind(ngx_http_parley_extmaps[k].uri)
                    == kind
                && (ngx_http_parley_extmaps[k].kinds
                    & PARLEY_SDP_KIND_BIT(leg->kind)))
            {
                leg->core.map.ext[id].id = (uint8_t) ngx_http_parley_extmaps[k].id;
                leg->core.map.ext[id].kind = kind;
            }
        }
    }
}


/* The leg's section becomes inactive; the worker's last leg unsubscribes. */

static void
ngx_http_parley_leg_stop_locked(ngx_http_parley_leg_t *leg)
{
    ngx_http_parley_local_t  *lt;

    ngx_queue_remove(&leg->queue);
    ngx_queue_init(&leg->queue);

    lt = &ngx_http_parley_media.local[leg->index];

    if (lt->uid == leg->uid && ngx_queue_empty(&lt->legs)) {
        (void) parley_tracks_unsubscribe_locked(ngx_http_parley_media.tracks,
                                                leg->index, leg->uid,
                                                ngx_http_parley_worker.inbox);
        lt->uid = 0;
    }

    leg->uid = 0;
    leg->fresh = 0;
}


void
ngx_http_parley_subscriber_closed(ngx_http_parley_pc_t *pc)
{
    ngx_uint_t        k;
    parley_tracks_t  *tracks;

    tracks = ngx_http_parley_media.tracks;

    parley_tracks_lock(tracks, ngx_http_parley_worker.pid);

    for (k = 0; k < pc->nlegs; k++) {
        if (pc->legs[k]->uid) {
            ngx_http_parley_leg_stop_locked(pc->legs[k]);
        }
    }

    parley_tracks_unlock(tracks, ngx_http_parley_worker.pid);
}


/*
 * The SFU offers (a=setup:actpass, ice-lite, the same credentials every
 * time) one section per leg in mid order, and tells the client whose
 * track each is.
 */

static ngx_int_t
ngx_http_parley_offer(ngx_http_parley_pc_t *pc)
{
    ngx_int_t                       rc;
    ngx_str_t                       text;
    ngx_uint_t                      k, n;
    ngx_http_parley_leg_t          *leg;
    ngx_http_parley_offer_track_t   list[NGX_HTTP_PARLEY_LEGS];

    text.data = ngx_alloc(NGX_HTTP_PARLEY_SDP_MAX, pc->timer.log);
    if (text.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_parley_offer_write(pc, &text) != NGX_OK) {
        ngx_free(text.data);
        return NGX_ERROR;
    }

    n = 0;

    for (k = 0; k < pc->nlegs; k++) {
        leg = pc->legs[k];

        if (leg->uid) {
            list[n].mid = leg->mid;
            list[n].participant = leg->publisher;
            list[n].kind = ngx_http_parley_track_kinds[leg->track_kind];
            n++;
        }
    }

    rc = ngx_http_parley_signal_subscribe_offer(pc->session, &text, list, n);

    ngx_free(text.data);

    if (rc == NGX_OK) {
        pc->offer_pending = 1;
        ngx_http_parley_count(offers_sent);
    }

    return rc;
}


static ngx_int_t
ngx_http_parley_offer_write(ngx_http_parley_pc_t *pc, ngx_str_t *text)
{
    size_t                   len;
    ngx_uint_t               k;
    parley_sdp_t            *offer;
    parley_sdp_host_t        host;
    parley_sdp_local_t       local;
    parley_sdp_error_t       perr;
    parley_sdp_track_t      *track;
    ngx_http_parley_leg_t   *leg;
    parley_sdp_track_t       tracks[NGX_HTTP_PARLEY_LEGS];
    u_char                   streams[NGX_HTTP_PARLEY_LEGS][24];

    for (k = 0; k < pc->nlegs; k++) {
        leg = pc->legs[k];
        track = &tracks[k];

        ngx_memzero(track, sizeof(parley_sdp_track_t));
        track->kind = leg->kind;
        track->mid = (const char *) leg->mid;
        track->codec = &ngx_http_parley_codecs[leg->codec];

        if (leg->uid == 0) {
            continue;           /* inactive: no SSRC, no msid */
        }

        *ngx_sprintf(streams[k], "p%uL", leg->publisher) = '\0';

        track->ssrc = leg->ssrc;
        track->rtx_ssrc = leg->core.rtx_ssrc;
        track->cname = "parley";
        track->stream_id = (const char *) streams[k];
        track->track_id = (const char *) leg->mid;
    }

    if (ngx_http_parley_pc_local(pc, &local, &host, pc->ufrag, pc->pwd)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    offer = ngx_alloc(sizeof(parley_sdp_t), pc->timer.log);
    if (offer == NULL) {
        return NGX_ERROR;
    }

    if (parley_sdp_offer(offer, &local, tracks, pc->nlegs, &perr)
            != PARLEY_SDP_OK
        || parley_sdp_write(offer, (char *) text->data,
                            NGX_HTTP_PARLEY_SDP_MAX, &len)
           != PARLEY_SDP_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, pc->timer.log, 0,
                      "parley: no subscribe offer: %s", perr.msg);
        ngx_free(offer);
        return NGX_ERROR;
    }

    ngx_free(offer);
    text->len = len;

    return NGX_OK;
}


/*
 * "subscribe-answer": the client's answer to the last offer. The first
 * one makes the peer; the new legs get a keyframe; changes that came
 * while the offer was out are offered now.
 */

ngx_int_t
ngx_http_parley_media_subscribe_answer(ngx_http_parley_session_t *s,
    const char *text, size_t len, const char **error)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i, k;
    parley_sdp_t               *answer;
    parley_sdp_error_t          perr;
    parley_peer_conf_t          conf;
    ngx_http_parley_pc_t       *pc;
    const parley_sdp_media_t   *first;

    pc = s->subscriber;

    if (pc == NULL || !pc->offer_pending) {
        *error = "no_offer";
        return NGX_DECLINED;
    }

    answer = ngx_alloc(sizeof(parley_sdp_t), s->connection->log);
    if (answer == NULL) {
        *error = "internal";
        return NGX_ERROR;
    }

    first = NULL;

    if (parley_sdp_parse(answer, text, len, NGX_HTTP_PARLEY_SDP_MAX, &perr)
        == PARLEY_SDP_OK)
    {
        if (answer->n_skipped) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, s->connection->log, 0,
                           "parley: SDP answer: %uD values skipped, "
                           "the first: %s", answer->n_skipped,
                           answer->skipped);
        }

        for (i = 0; i < answer->n_media; i++) {
            if (answer->media[i].port != 0 && answer->media[i].ice_ufrag[0]) {
                first = &answer->media[i];
                break;
            }
        }

    } else {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "parley: bad SDP answer: %s", perr.msg);
    }

    if (first == NULL) {
        ngx_free(answer);
        *error = "invalid_sdp";
        return NGX_DECLINED;
    }

    if (pc->peer == NULL) {
        ngx_memzero(&conf, sizeof(parley_peer_conf_t));
        conf.ice.local_ufrag.data = pc->ufrag;
        conf.ice.local_ufrag.len = PARLEY_PEER_UFRAG_LEN;
        conf.ice.local_pwd.data = pc->pwd;
        conf.ice.local_pwd.len = PARLEY_PEER_PWD_LEN;

        rc = ngx_http_parley_pc_start(pc, &conf, first);

        if (rc != NGX_OK) {
            ngx_free(answer);
            *error = (rc == NGX_DECLINED) ? "server_full" : "internal";
            return rc;
        }

        ngx_http_parley_pc_arm(pc);
    }

    /* the answer to the restart's offer comes with a new ufrag */

    if (pc->restart && ngx_strcmp(pc->remote_ufrag, first->ice_ufrag) != 0) {
        pc->restart = 0;

        if (ngx_http_parley_pc_restart(pc, first->ice_ufrag, first->ice_pwd,
                                       pc->pwd)
            != NGX_OK)
        {
            ngx_free(answer);
            *error = "internal";
            return NGX_ERROR;
        }
    }

    ngx_free(answer);
    pc->offer_pending = 0;

    /* the sections as the client has them now, within its budget */
    ngx_http_parley_bandwidth_allocate(pc);

    if (parley_peer_secure(pc->peer, NULL)) {
        for (k = 0; k < pc->nlegs; k++) {
            if (pc->legs[k]->uid && pc->legs[k]->fresh) {
                (void) ngx_http_parley_leg_keyframe(pc->legs[k], PARLEY_NONE);
            }
        }
    }

    if (pc->renegotiate) {
        pc->renegotiate = 0;

        if (ngx_http_parley_reconcile(pc) || pc->restart) {
            (void) ngx_http_parley_offer(pc);
        }
    }

    return NGX_OK;
}


/* The connection is ready: every leg starts with a keyframe. */

void
ngx_http_parley_subscriber_secure(ngx_http_parley_pc_t *pc)
{
    ngx_uint_t  k;

    for (k = 0; k < pc->nlegs; k++) {
        if (pc->legs[k]->uid) {
            (void) ngx_http_parley_leg_keyframe(pc->legs[k], PARLEY_NONE);
        }
    }
}




/*
 * "layer": the subscriber's wish for one section. A track sent in one
 * encoding has nothing to choose from, and takes any wish.
 */

ngx_int_t
ngx_http_parley_media_layer(ngx_http_parley_session_t *s, const char *mid,
    uint32_t layer, const char **error)
{
    ngx_uint_t              k;
    ngx_http_parley_pc_t   *pc;
    ngx_http_parley_leg_t  *leg;

    pc = s->subscriber;

    if (pc == NULL) {
        *error = "not_subscribed";
        return NGX_DECLINED;
    }

    for (k = 0; k < pc->nlegs; k++) {
        leg = pc->legs[k];

        if (ngx_strcmp(leg->mid, mid) != 0) {
            continue;
        }

        /*
         * A section that has just become inactive takes any wish: the
         * client may not have had the offer that says so yet.
         */

        if (leg->uid && leg->core.simulcast) {
            (void) parley_simulcast_set_target(&leg->core.sw, layer);
        }

        /* kept for this publisher's next track in the section */
        leg->wish_for = leg->uid ? leg->publisher : 0;
        leg->wish_kind = leg->track_kind;
        leg->wish = layer;

        /* the large window changed hands: the budget is shared anew */
        ngx_http_parley_bandwidth_allocate(pc);

        return NGX_OK;
    }

    *error = "unknown_track";

    return NGX_DECLINED;
}
