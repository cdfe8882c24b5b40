/*
 * Synthetic media and its checks.
 *
 * A publisher sends Opus-like audio (50 packets/s, about 100 bytes) and
 * VP8-shaped video (30 frames/s, video_pps packets/s of video_size bytes,
 * which --video-fps, --video-pps and --video-size change; a real VP8
 * payload descriptor and frame header, keyframes on PLI). The
 * payload is filler, but every payload ends with a trailer:
 *
 *     magic "PRLY" | publisher SSRC | packet counter | send time (ns,
 *     CLOCK_MONOTONIC) | FNV-1a of every payload byte before the checksum
 *
 * so a receiver on the same machine checks integrity and measures the
 * added latency without knowing the codec. The trailer is inside the SRTP
 * payload: it is only readable, and only checked, after authentication.
 *
 * A receiver counts every RTP datagram from its clear header (SSRC,
 * sequence number: continuity and loss per SSRC), and unprotects one in
 * "sample" of them (every one when sample is 1): SRTP authentication,
 * then the trailer. A server that sends garbage fails authentication; one
 * that corrupts before encrypting fails the checksum.
 *
 * Retransmission (RFC 4585 generic NACK, RFC 4588 RTX), both ways: a
 * subscriber with --drop-every throws away every Nth video packet before
 * counting it, NACKs it, and takes the RTX answer as that packet's first
 * arrival, checked like any other; a publisher keeps its last
 * PEER_HISTORY video packets and answers the server's NACKs from them as
 * RTX, and with --skip-every leaves every Nth one unsent until asked.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#include "parley_rtp.h"
#include "peer.h"


#define PEER_AUDIO_SIZE     100           /* Opus at ~32 kbit/s */
#define PEER_AUDIO_PTIME_NS 20000000ULL
#define PEER_FPS            30
#define PEER_VIDEO_PPS      130
#define PEER_VIDEO_SIZE     1130          /* ~1.2 Mbit/s on the wire */
#define PEER_RTP_EXT_LEN    8             /* 0xbede block: mid + twcc */
#define PEER_VP8_DESC_LEN   4             /* X, I, 15-bit PictureID */


unsigned  peer_corrupt_every;
unsigned  peer_drop_every;
unsigned  peer_skip_every;
uint32_t  peer_fixed_ssrc;
unsigned  peer_video_pps;
unsigned  peer_video_size;
unsigned  peer_video_fps;


static uint32_t
peer_fnv1a(const uint8_t *p, size_t n)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u;

    for (i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }

    return h;
}


void
peer_sender_init(peer_sender_t *s, peer_conn_t *c)
{
    uint32_t      r[4];
    peer_sent_t  *history;

    /* a publisher offering again keeps its history's memory */
    history = s->history;
    memset(s, 0, sizeof(peer_sender_t));

    (void) RAND_bytes((uint8_t *) r, sizeof(r));

    s->conn = c;
    s->audio_ssrc = r[0] | 1;
    s->video_ssrc = r[1] | 1;
    s->rtx_ssrc = r[2] | 1;

    if (peer_fixed_ssrc != 0) {
        s->audio_ssrc = peer_fixed_ssrc;
        s->video_ssrc = peer_fixed_ssrc + 1;
        s->rtx_ssrc = peer_fixed_ssrc + 2;
    }
    s->audio_seq = (uint16_t) r[3];
    s->video_seq = (uint16_t) (r[3] >> 16);
    s->audio_pt = 111;
    s->video_pt = 96;
    snprintf(s->audio_mid, sizeof(s->audio_mid), "0");
    snprintf(s->video_mid, sizeof(s->video_mid), "1");
    s->video_pps = peer_video_pps ? peer_video_pps : PEER_VIDEO_PPS;
    s->video_size = peer_video_size ? peer_video_size : PEER_VIDEO_SIZE;
    s->video_fps = peer_video_fps ? peer_video_fps : PEER_FPS;
    s->keyframe_due = 1;
    s->rtx_pt = PEER_RTX_PT;
    s->rtx_seq = (uint16_t) r[2];

    /* once per publisher: nothing is allocated per packet */
    if (history != NULL) {
        memset(history, 0, PEER_HISTORY * sizeof(peer_sent_t));
    } else {
        history = calloc(PEER_HISTORY, sizeof(peer_sent_t));
    }

    s->history = history;

    if (s->history == NULL) {
        peer_log("out of memory for the send history");
        exit(2);
    }
}


void
peer_sender_free(peer_sender_t *s)
{
    free(s->history);
    s->history = NULL;
}


/*
 * RFC 3550 5.1 header with an RFC 8285 one-byte extension block holding
 * the mid (RFC 8843 15.2) and the transport-wide sequence number; returns
 * the header's length.
 */
static size_t
peer_rtp_header(peer_sender_t *s, uint8_t *b, uint8_t pt, int marker,
    uint16_t seq, uint32_t ts, uint32_t ssrc, const char *mid)
{
    size_t  n, midlen;

    b[0] = 0x80 | (s->mid_ext || s->twcc_ext ? 0x10 : 0);
    b[1] = (uint8_t) (pt | (marker ? 0x80 : 0));
    parley_rtp_put16(b + 2, seq);
    parley_rtp_put32(b + 4, ts);
    parley_rtp_put32(b + 8, ssrc);

    if (!(b[0] & 0x10)) {
        return PARLEY_RTP_HEADER_LEN;
    }

    n = PARLEY_RTP_HEADER_LEN + 4;
    memset(b + n, 0, PEER_RTP_EXT_LEN);
    midlen = strlen(mid);

    if (s->mid_ext && midlen > 0 && midlen <= 3) {
        b[n++] = (uint8_t) (s->mid_ext << 4 | (midlen - 1));
        memcpy(b + n, mid, midlen);
        n += midlen;
    }

    if (s->twcc_ext) {
        b[n++] = (uint8_t) (s->twcc_ext << 4 | 1);
        parley_rtp_put16(b + n, s->twcc_seq++);
    }

    parley_rtp_put16(b + 12, PARLEY_RTP_EXT_ONE_BYTE);
    parley_rtp_put16(b + 14, PEER_RTP_EXT_LEN / 4);

    return PARLEY_RTP_HEADER_LEN + 4 + PEER_RTP_EXT_LEN;
}


/* Filler, then the trailer, from payload + used to payload + size. */
static void
peer_trailer_write(peer_sender_t *s, uint8_t *payload, size_t used,
    size_t size, uint32_t ssrc)
{
    size_t    i, t;
    uint32_t  x;
    uint64_t  now;

    now = peer_now_ns();
    t = size - PEER_TRAILER_LEN;
    x = s->counter * 2654435761u;

    for (i = used; i < t; i++) {
        x = x * 1103515245u + 12345u;
        payload[i] = (uint8_t) (x >> 24);
    }

    parley_rtp_put32(payload + t, PEER_TRAILER_MAGIC);
    parley_rtp_put32(payload + t + 4, ssrc);
    parley_rtp_put32(payload + t + 8, s->counter++);
    parley_rtp_put32(payload + t + 12, (uint32_t) (now >> 32));
    parley_rtp_put32(payload + t + 16, (uint32_t) now);
    parley_rtp_put32(payload + t + 20, peer_fnv1a(payload, t + 20));
}


static void
peer_send_audio(peer_sender_t *s, peer_stats_t *st)
{
    size_t   h;
    uint8_t  buf[PEER_PACKET_ROOM];

    h = peer_rtp_header(s, buf, s->audio_pt, 0, s->audio_seq++,
                        (uint32_t) (s->audio_sent * 960), s->audio_ssrc,
                        s->audio_mid);

    /* an Opus TOC byte: config 15 (CELT FB 20 ms), mono, one frame */
    buf[h] = 0x78;
    peer_trailer_write(s, buf + h, 1, PEER_AUDIO_SIZE, s->audio_ssrc);

    if (peer_conn_send_rtp(s->conn, buf, h + PEER_AUDIO_SIZE) == 0) {
        st->sent++;
    }

    s->audio_sent++;
}


/* The packet before SRTP, which protects it in place. */
static void
peer_history_keep(peer_sender_t *s, const uint8_t *buf, size_t len)
{
    uint16_t      seq;
    peer_sent_t  *e;

    seq = parley_rtp_get16(buf + 2);
    e = &s->history[seq % PEER_HISTORY];
    e->seq = seq;
    e->len = (uint16_t) len;
    memcpy(e->buf, buf, len);
}


/*
 * RFC 4588 4: the original's header with the RTX payload type, SSRC and
 * our own RTX sequence, then the OSN and the original payload. RTX is a
 * new packet on the wire, so it gets its own transport-wide number.
 */
static void
peer_sender_resend(peer_sender_t *s, peer_stats_t *st, uint16_t seq)
{
    size_t                len;
    uint8_t               out[PEER_PACKET_ROOM];
    peer_sent_t          *e;
    parley_rtp_header_t   h;

    e = &s->history[seq % PEER_HISTORY];

    if (e->len == 0 || e->seq != seq
        || parley_rtp_parse(e->buf, e->len, &h) != PARLEY_RTP_OK
        || parley_rtp_rtx_wrap(e->buf, e->len, &h, s->rtx_pt, s->rtx_ssrc,
                               s->rtx_seq, out, PEER_DATAGRAM_MAX, &len)
           != PARLEY_RTP_OK)
    {
        st->rtx_missed++;
        return;
    }

    s->rtx_seq++;

    if (s->twcc_ext != 0 && parley_rtp_parse(out, len, &h) == PARLEY_RTP_OK)
    {
        (void) parley_rtp_ext_set_twcc_seq(out, len, &h, s->twcc_ext,
                                           s->twcc_seq++);
    }

    if (peer_conn_send_rtp(s->conn, out, len) == 0) {
        st->rtx_sent++;
    }
}


void
peer_sender_on_nack(peer_sender_t *s, peer_stats_t *st,
    const uint16_t *seqs, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        st->nacked_seqs++;
        peer_sender_resend(s, st, seqs[i]);
    }
}


/* RFC 7741 4.2 descriptor, and at a frame's start the VP8 frame header. */
static size_t
peer_vp8_payload(peer_sender_t *s, uint8_t *p, int start, int keyframe)
{
    size_t  n;

    p[0] = 0x80 | (start ? 0x10 : 0);          /* X, S, PID 0 */
    p[1] = 0x80;                               /* I */
    p[2] = (uint8_t) (0x80 | (s->picture_id >> 8 & 0x7f));
    p[3] = (uint8_t) s->picture_id;
    n = PEER_VP8_DESC_LEN;

    if (!start) {
        return n;
    }

    /* RFC 6386 9.1: P bit clear for a keyframe, show_frame set */
    p[n] = keyframe ? 0x10 : 0x11;
    p[n + 1] = 0;
    p[n + 2] = 0;
    n += 3;

    if (keyframe) {
        p[n] = 0x9d;                           /* start code */
        p[n + 1] = 0x01;
        p[n + 2] = 0x2a;
        p[n + 3] = 640 & 0xff;                 /* 640x360, no scaling */
        p[n + 4] = 640 >> 8;
        p[n + 5] = 360 & 0xff;
        p[n + 6] = 360 >> 8;
        n += 7;
    }

    return n;
}


static void
peer_send_frame(peer_sender_t *s, peer_stats_t *st, unsigned npackets)
{
    int       keyframe;
    size_t    h, d;
    uint8_t   buf[PEER_PACKET_ROOM];
    uint32_t  ts;
    unsigned  i;

    keyframe = s->keyframe_due;
    s->keyframe_due = 0;
    s->keyframes += keyframe;
    ts = (uint32_t) (s->video_frames * (90000 / s->video_fps));

    for (i = 0; i < npackets; i++) {
        h = peer_rtp_header(s, buf, s->video_pt, i + 1 == npackets,
                            s->video_seq++, ts, s->video_ssrc, s->video_mid);
        d = peer_vp8_payload(s, buf + h, i == 0, keyframe);
        peer_trailer_write(s, buf + h, d, s->video_size, s->video_ssrc);
        peer_history_keep(s, buf, h + s->video_size);
        s->video_sent++;

        /* --skip-every: as if lost on the way, until NACK'd */
        if (peer_skip_every != 0 && s->video_sent % peer_skip_every == 0) {
            st->skipped++;
            continue;
        }

        if (peer_conn_send_rtp(s->conn, buf, h + s->video_size) == 0) {
            st->sent++;
        }
    }

    s->picture_id = (s->picture_id + 1) & 0x7fff;
    s->video_frames++;
}


int
peer_sender_run(peer_sender_t *s, peer_stats_t *st)
{
    uint64_t  now, elapsed, next_audio, next_video, f;
    unsigned  n;

    now = peer_now_ns();

    if (s->start_ns == 0) {
        s->start_ns = now;
    }

    elapsed = now - s->start_ns;

    while (s->audio_sent * PEER_AUDIO_PTIME_NS <= elapsed) {
        peer_send_audio(s, st);
    }

    while (s->video_frames * 1000000000ULL / s->video_fps <= elapsed) {
        /* spread video_pps over the frames without drift */
        f = s->video_frames;
        n = (unsigned) ((f + 1) * s->video_pps / s->video_fps
                        - f * s->video_pps / s->video_fps);
        peer_send_frame(s, st, n ? n : 1);
    }

    next_audio = s->audio_sent * PEER_AUDIO_PTIME_NS;
    next_video = s->video_frames * 1000000000ULL / s->video_fps;
    next_audio = next_audio < next_video ? next_audio : next_video;

    return (int) ((next_audio - elapsed) / 1000000) + 1;
}


/* Receiving */


static peer_rx_ssrc_t *
peer_rx_find(peer_conn_t *c, uint32_t ssrc)
{
    uint32_t  i;

    for (i = 0; i < c->nssrcs; i++) {
        if (c->ssrcs[i].ssrc == ssrc) {
            return &c->ssrcs[i];
        }
    }

    return NULL;
}


/* RFC 3550 A.1 in short: extend seq against the highest seen. */
static void
peer_rx_sequence(peer_rx_ssrc_t *r, uint16_t seq, peer_stats_t *st)
{
    uint32_t  ext;

    if (!r->started) {
        r->started = 1;
        r->first = (1u << 16) + seq;
        r->highest = r->first;
        r->received = 1;
        r->last_seq = seq;
        return;
    }

    ext = r->highest + (uint32_t) (int16_t) (seq - (uint16_t) r->highest);

    if (ext == r->highest || seq == r->last_seq) {
        st->duplicates++;
        return;
    }

    if ((int32_t) (ext - r->highest) > 0) {
        r->highest = ext;

    } else if ((int32_t) (ext - r->first) < 0) {
        r->first = ext;
    }

    r->last_seq = seq;
    r->received++;
}


static void
peer_rx_latency(peer_stats_t *st, uint64_t sent_ns, uint64_t now_ns)
{
    uint64_t  b;

    b = now_ns > sent_ns ? (now_ns - sent_ns) / PEER_LAT_BUCKET_NS : 0;
    st->lat[b < PEER_LAT_BUCKETS - 1 ? b : PEER_LAT_BUCKETS - 1]++;
    st->lat_count++;
}


/* The payload trailer of an unprotected packet: checksum, then latency. */
static void
peer_rx_trailer(peer_conn_t *c, const uint8_t *buf, size_t len,
    uint64_t now_ns)
{
    size_t                t;
    uint64_t              sent;
    const uint8_t        *p;
    parley_rtp_header_t   h;

    if (parley_rtp_parse(buf, len, &h) != PARLEY_RTP_OK
        || h.payload_len < PEER_TRAILER_LEN)
    {
        c->stats->corrupt++;
        return;
    }

    p = buf + h.payload_offset;
    t = h.payload_len - PEER_TRAILER_LEN;

    if (parley_rtp_get32(p + t) != PEER_TRAILER_MAGIC
        || parley_rtp_get32(p + t + 20) != peer_fnv1a(p, t + 20))
    {
        c->stats->corrupt++;
        return;
    }

    sent = (uint64_t) parley_rtp_get32(p + t + 12) << 32
           | parley_rtp_get32(p + t + 16);
    peer_rx_latency(c->stats, sent, now_ns);
}


static int
peer_rx_unprotect(peer_conn_t *c, uint8_t *buf, size_t *len)
{
    if (parley_srtp_unprotect_rtp(&c->srtp_in, buf, len) != PARLEY_SRTP_OK) {
        c->stats->auth_failed++;
        return -1;
    }

    c->stats->authenticated++;

    return 0;
}


static void
peer_rx_check(peer_conn_t *c, uint8_t *buf, size_t len, uint64_t now_ns)
{
    if (peer_rx_unprotect(c, buf, &len) == 0) {
        peer_rx_trailer(c, buf, len, now_ns);
    }
}


/* Dropped packets */


static peer_drop_t *
peer_drop_find(peer_conn_t *c, uint32_t ssrc, uint16_t seq)
{
    uint32_t  i;

    for (i = 0; i < c->ndrops; i++) {
        if (c->drops[i].ssrc == ssrc && c->drops[i].seq == seq) {
            return &c->drops[i];
        }
    }

    return NULL;
}


static void
peer_drop_remove(peer_conn_t *c, peer_drop_t *d)
{
    *d = c->drops[--c->ndrops];
}


/*
 * --drop-every: the packet is gone as if the network lost it, and asked
 * for at once (RFC 4585 3.5.1: immediate feedback). 0 if it was dropped.
 */
static int
peer_drop(peer_conn_t *c, uint32_t ssrc, uint16_t seq)
{
    peer_drop_t  *d;

    if (c->ndrops == PEER_DROPS_MAX) {
        return -1;                  /* too many outstanding: keep it */
    }

    d = &c->drops[c->ndrops++];
    d->ssrc = ssrc;
    d->seq = seq;
    d->nacks = 1;
    d->next_ms = peer_now_ms() + PEER_NACK_RETRY_MS;
    c->stats->dropped++;

    (void) peer_conn_send_nack(c, ssrc, &seq, 1);

    return 0;
}


void
peer_media_tick(peer_conn_t *c, uint64_t now_ms)
{
    uint32_t      i;
    peer_drop_t  *d;

    for (i = 0; i < c->ndrops; /* void */) {
        d = &c->drops[i];

        if (now_ms < d->next_ms) {
            i++;
            continue;
        }

        if (d->nacks >= PEER_NACK_TRIES) {
            c->stats->unrecovered++;
            peer_drop_remove(c, d);
            continue;
        }

        (void) peer_conn_send_nack(c, d->ssrc, &d->seq, 1);
        d->nacks++;
        d->next_ms = now_ms + PEER_NACK_RETRY_MS;
        i++;
    }
}


/* The drops NACK'd less than the give-up time ago: not yet decided. */
void
peer_media_finish(peer_conn_t *c)
{
    c->stats->recovery_pending += c->ndrops;
    c->ndrops = 0;
}


/*
 * RFC 4588 4: an RTX packet of a media SSRC we receive. Authenticated on
 * its own SSRC, unwrapped into the original (OSN, the codec's payload
 * type, the media SSRC), and if it is one we dropped, taken as that
 * packet's first arrival: sequence accounting and the trailer's checks.
 */
static void
peer_rx_repair(peer_conn_t *c, const peer_rx_ssrc_t *r, uint8_t *buf,
    size_t len, uint64_t now_ns)
{
    size_t                out_len;
    uint8_t              *out, apt;
    uint16_t              osn;
    peer_drop_t          *d;
    peer_rx_ssrc_t       *media;
    parley_rtp_header_t   h, orig;

    if (peer_rx_unprotect(c, buf, &len) != 0) {
        return;
    }

    if (parley_rtp_parse(buf, len, &h) != PARLEY_RTP_OK) {
        c->stats->corrupt++;
        return;
    }

    if (h.payload_len == 0) {
        return;                     /* padding only: bandwidth probing */
    }

    c->stats->rtx_received++;
    apt = c->rtx_apt[h.payload_type & 0x7f];
    media = peer_rx_find(c, r->peer);

    if (apt == 0xff || media == NULL
        || parley_rtp_rtx_osn(buf, len, &h, &osn) != PARLEY_RTP_OK)
    {
        /* a payload type or SSRC the offer does not pair: wrong */
        c->stats->corrupt++;
        return;
    }

    d = peer_drop_find(c, media->ssrc, osn);
    if (d == NULL) {
        c->stats->rtx_unsolicited++;
        return;
    }

    peer_drop_remove(c, d);

    if (parley_rtp_rtx_unwrap(buf, len, &h, apt, media->ssrc, &out, &out_len,
                              &orig) != PARLEY_RTP_OK
        || orig.seq != osn)
    {
        c->stats->corrupt++;
        return;
    }

    c->stats->recovered++;
    peer_rx_sequence(media, osn, c->stats);
    peer_rx_trailer(c, out, out_len, now_ns);
}


void
peer_media_receive(peer_conn_t *c, uint8_t *buf, size_t len,
    uint64_t now_ns)
{
    uint16_t         seq;
    peer_drop_t     *d;
    peer_rx_ssrc_t  *r;

    if (len < PARLEY_RTP_HEADER_LEN) {
        return;
    }

    /* the header is in the clear (RFC 3711 3.1): count every packet */
    seq = parley_rtp_get16(buf + 2);
    r = peer_rx_find(c, parley_rtp_get32(buf + 8));

    if (r != NULL && r->video && !r->repair) {
        d = c->ndrops ? peer_drop_find(c, r->ssrc, seq) : NULL;

        if (d != NULL) {
            /* no RTX stream: the server resends the packet as it was */
            peer_drop_remove(c, d);
            c->stats->recovered++;

        } else if (peer_drop_every != 0
                   && ++c->video_seen % peer_drop_every == 0
                   && peer_drop(c, r->ssrc, seq) == 0)
        {
            return;                 /* lost before anything counted it */
        }
    }

    c->stats->received++;
    c->stats->bytes += len;
    c->received++;

    peer_bandwidth_receive(c, r, buf, len, now_ns);

    if (r == NULL) {
        c->stats->unknown_ssrc++;
        return;
    }

    if (r->repair) {
        peer_rx_repair(c, r, buf, len, now_ns);
        return;
    }

    peer_rx_sequence(r, seq, c->stats);

    if (c->sample == 1 || seq % c->sample == 0) {
        /* --corrupt-every: the checks' own test, a bit flipped in transit */
        if (peer_corrupt_every != 0 && len > PARLEY_RTP_HEADER_LEN
            && ++c->stats->seen_for_corruption % peer_corrupt_every == 0)
        {
            buf[len - 1] ^= 0x01;
        }

        peer_rx_check(c, buf, len, now_ns);
    }
}


void
peer_conn_counts(const peer_conn_t *c, uint64_t *expected,
    uint64_t *received)
{
    uint32_t  i;

    for (i = 0; i < c->nssrcs; i++) {
        if (c->ssrcs[i].started) {
            *expected += c->ssrcs[i].highest - c->ssrcs[i].first + 1;
            *received += c->ssrcs[i].received;
        }
    }
}


void
peer_stats_latency(const peer_stats_t *st, double *p50_us, double *p99_us)
{
    size_t    i;
    uint64_t  sum, at50, at99;

    *p50_us = 0;
    *p99_us = 0;

    if (st->lat_count == 0) {
        return;
    }

    at50 = (st->lat_count + 1) / 2;
    at99 = st->lat_count - st->lat_count / 100;
    sum = 0;

    for (i = 0; i < PEER_LAT_BUCKETS; i++) {
        sum += st->lat[i];

        if (*p50_us == 0 && sum >= at50) {
            *p50_us = (i + 0.5) * PEER_LAT_BUCKET_NS / 1000.0;
        }

        if (sum >= at99) {
            *p99_us = (i + 0.5) * PEER_LAT_BUCKET_NS / 1000.0;
            break;
        }
    }
}


double
peer_stats_later_than(const peer_stats_t *st, unsigned ms)
{
    size_t    i;
    uint64_t  n;

    if (st->lat_count == 0) {
        return 0;
    }

    n = 0;

    for (i = (size_t) ms * 1000000 / PEER_LAT_BUCKET_NS;
         i < PEER_LAT_BUCKETS; i++)
    {
        n += st->lat[i];
    }

    return 100.0 * (double) n / (double) st->lat_count;
}
