/*
 * The SDP writer (parley_sdp_write()): any parley_sdp_t as text, in the
 * order of RFC 8866 5, sections after the session.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parley_sdp_int.h"


static void parley_sdp_out(parley_sdp_out_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static parley_sdp_rc_t parley_sdp_write_media(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);
static void parley_sdp_write_transport(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);
static void parley_sdp_write_candidate(parley_sdp_out_t *out,
    const parley_sdp_candidate_t *c);
static void parley_sdp_write_fingerprint(parley_sdp_out_t *out,
    const parley_sdp_fingerprint_t *fp);
static void parley_sdp_write_rtp(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);
static void parley_sdp_write_codec(parley_sdp_out_t *out,
    const parley_sdp_codec_t *c);
static void parley_sdp_write_simulcast(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);
static void parley_sdp_write_sim_list(parley_sdp_out_t *out,
    const parley_sdp_simulcast_t *sim);
static void parley_sdp_write_ssrcs(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);


/* the writer */

parley_sdp_rc_t
parley_sdp_write(const parley_sdp_t *sdp, char *buf, size_t size,
    size_t *len)
{
    uint32_t          i;
    parley_sdp_rc_t   rc;
    parley_sdp_out_t  out;

    if (sdp == NULL || buf == NULL || len == NULL
        || !parley_sdp_counts_ok(sdp))
    {
        return PARLEY_SDP_ERR_INVAL;
    }

    out.buf = buf;
    out.size = size;
    out.len = 0;
    out.overflow = 0;

    /*
     * RFC 8866 5: v=, o=, s=, t= in this order; RFC 8829 5.2.1: an origin
     * address that means nothing, s=- and t=0 0
     */
    parley_sdp_out(&out, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\n"
                   "s=-\r\nt=0 0\r\n",
                   (unsigned long long) sdp->sess_id,
                   (unsigned long long) sdp->sess_version);

    if (sdp->ice_lite) {
        parley_sdp_out(&out, "a=ice-lite\r\n");
    }

    if (sdp->n_bundle > 0) {
        parley_sdp_out(&out, "a=group:BUNDLE");

        for (i = 0; i < sdp->n_bundle; i++) {
            parley_sdp_out(&out, " %s", sdp->bundle[i]);
        }

        parley_sdp_out(&out, "\r\n");
    }

    if (sdp->extmap_allow_mixed) {
        parley_sdp_out(&out, "a=extmap-allow-mixed\r\n");
    }

    for (i = 0; i < sdp->n_media; i++) {
        rc = parley_sdp_write_media(&out, &sdp->media[i]);
        if (rc != PARLEY_SDP_OK) {
            return rc;
        }
    }

    if (out.overflow) {
        if (size > 0) {
            buf[0] = '\0';
        }

        return PARLEY_SDP_ERR_NOSPACE;
    }

    *len = out.len;

    return PARLEY_SDP_OK;
}


/* Appends to the output, always leaving room for the final NUL. */
static void
parley_sdp_out(parley_sdp_out_t *out, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  ap;

    if (out->overflow) {
        return;
    }

    room = out->size - out->len;

    va_start(ap, fmt);
    n = vsnprintf(out->buf + out->len, room, fmt, ap);
    va_end(ap);

    if (n < 0 || (size_t) n >= room) {
        out->overflow = 1;
        return;
    }

    out->len += (size_t) n;
}


static parley_sdp_rc_t
parley_sdp_write_media(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t  i;
    int       rtp;

    rtp = parley_sdp_is_rtp(m);

    if (m->media[0] == '\0' || m->proto[0] == '\0'
        || (m->fmt[0] == '\0' && !(rtp && m->n_codecs > 0)))
    {
        return PARLEY_SDP_ERR_INVAL;
    }

    parley_sdp_out(out, "m=%s %u %s", m->media, m->port, m->proto);

    if (rtp && m->n_codecs > 0) {
        for (i = 0; i < m->n_codecs; i++) {
            parley_sdp_out(out, " %u", m->codecs[i].pt);
        }

    } else {
        parley_sdp_out(out, " %s", m->fmt);
    }

    parley_sdp_out(out, "\r\nc=IN %s %s\r\n",
                   strchr(m->conn, ':') ? "IP6" : "IP4",
                   m->conn[0] ? m->conn : "0.0.0.0");

    parley_sdp_write_transport(out, m);

    if (m->mid[0] != '\0') {
        parley_sdp_out(out, "a=mid:%s\r\n", m->mid);
    }

    if (rtp) {
        parley_sdp_write_rtp(out, m);
    }

    if (m->sctp_port != 0) {
        parley_sdp_out(out, "a=sctp-port:%u\r\n", m->sctp_port);
    }

    if (m->max_message_size != 0) {
        parley_sdp_out(out, "a=max-message-size:%u\r\n",
                       m->max_message_size);
    }

    return PARLEY_SDP_OK;
}


static void
parley_sdp_write_transport(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t  i;

    if (m->bundle_only) {
        parley_sdp_out(out, "a=bundle-only\r\n");
    }

    for (i = 0; i < m->n_candidates; i++) {
        parley_sdp_write_candidate(out, &m->candidates[i]);
    }

    if (m->end_of_candidates) {
        parley_sdp_out(out, "a=end-of-candidates\r\n");
    }

    if (m->ice_ufrag[0] != '\0') {
        parley_sdp_out(out, "a=ice-ufrag:%s\r\n", m->ice_ufrag);
    }

    if (m->ice_pwd[0] != '\0') {
        parley_sdp_out(out, "a=ice-pwd:%s\r\n", m->ice_pwd);
    }

    if (m->ice_trickle) {
        parley_sdp_out(out, "a=ice-options:trickle\r\n");
    }

    parley_sdp_write_fingerprint(out, &m->fingerprint);

    if (m->setup > PARLEY_SDP_SETUP_NONE
        && m->setup <= PARLEY_SDP_SETUP_HOLDCONN)
    {
        parley_sdp_out(out, "a=setup:%s\r\n",
                       parley_sdp_setup_names[m->setup]);
    }
}


static void
parley_sdp_write_candidate(parley_sdp_out_t *out,
    const parley_sdp_candidate_t *c)
{
    parley_sdp_out(out, "a=candidate:%s %u %s %u %s %u typ %s",
                   c->foundation, c->component, c->tcp ? "tcp" : "udp",
                   c->priority, c->address, c->port,
                   parley_sdp_cand_types[c->type & 3]);

    if (c->raddr[0] != '\0') {
        parley_sdp_out(out, " raddr %s rport %u", c->raddr, c->rport);
    }

    if (c->tcptype > PARLEY_SDP_TCP_NONE && c->tcptype <= PARLEY_SDP_TCP_SO) {
        parley_sdp_out(out, " tcptype %s", parley_sdp_tcptypes[c->tcptype]);
    }

    parley_sdp_out(out, "\r\n");
}


static void
parley_sdp_write_fingerprint(parley_sdp_out_t *out,
    const parley_sdp_fingerprint_t *fp)
{
    char    hex[PARLEY_SDP_MAX_FP_BYTES * 3];
    size_t  i;

    if (fp->hash <= PARLEY_SDP_HASH_NONE || fp->hash > PARLEY_SDP_HASH_SHA512
        || fp->len == 0 || fp->len > PARLEY_SDP_MAX_FP_BYTES)
    {
        return;
    }

    for (i = 0; i < fp->len; i++) {
        hex[i * 3] = "0123456789ABCDEF"[fp->bytes[i] >> 4];
        hex[i * 3 + 1] = "0123456789ABCDEF"[fp->bytes[i] & 0x0f];
        hex[i * 3 + 2] = ':';
    }

    hex[fp->len * 3 - 1] = '\0';

    parley_sdp_out(out, "a=fingerprint:%s %s\r\n",
                   parley_sdp_hash_names[fp->hash], hex);
}


static void
parley_sdp_write_rtp(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t                    i;
    const parley_sdp_extmap_t  *e;

    for (i = 0; i < m->n_extmaps; i++) {
        e = &m->extmaps[i];

        if (e->dir != PARLEY_SDP_DIR_NONE) {
            parley_sdp_out(out, "a=extmap:%u/%s %s\r\n", e->id,
                           parley_sdp_dir_str(e->dir), e->uri);

        } else {
            parley_sdp_out(out, "a=extmap:%u %s\r\n", e->id, e->uri);
        }
    }

    if (m->dir != PARLEY_SDP_DIR_NONE) {
        parley_sdp_out(out, "a=%s\r\n", parley_sdp_dir_str(m->dir));
    }

    if (m->msid_stream[0] != '\0') {
        parley_sdp_out(out, "a=msid:%s%s%s\r\n", m->msid_stream,
                       m->msid_track[0] ? " " : "", m->msid_track);
    }

    if (m->rtcp_mux) {
        parley_sdp_out(out, "a=rtcp-mux\r\n");
    }

    if (m->rtcp_mux_only) {
        parley_sdp_out(out, "a=rtcp-mux-only\r\n");
    }

    if (m->rtcp_rsize) {
        parley_sdp_out(out, "a=rtcp-rsize\r\n");
    }

    for (i = 0; i < m->n_codecs; i++) {
        parley_sdp_write_codec(out, &m->codecs[i]);
    }

    parley_sdp_write_simulcast(out, m);
    parley_sdp_write_ssrcs(out, m);
}


static void
parley_sdp_write_codec(parley_sdp_out_t *out, const parley_sdp_codec_t *c)
{
    size_t  i;

    static const struct {
        uint32_t     kind;
        const char  *text;
    } fb[] = {
        { PARLEY_SDP_FB_GOOG_REMB, "goog-remb" },
        { PARLEY_SDP_FB_TRANSPORT_CC, "transport-cc" },
        { PARLEY_SDP_FB_CCM_FIR, "ccm fir" },
        { PARLEY_SDP_FB_NACK, "nack" },
        { PARLEY_SDP_FB_NACK_PLI, "nack pli" }
    };

    if (c->name[0] != '\0') {
        parley_sdp_out(out, "a=rtpmap:%u %s/%u", c->pt, c->name,
                       c->clock_rate);

        if (c->channels != 0) {
            parley_sdp_out(out, "/%u", c->channels);
        }

        parley_sdp_out(out, "\r\n");
    }

    for (i = 0; i < sizeof(fb) / sizeof(fb[0]); i++) {
        if (c->fb & fb[i].kind) {
            parley_sdp_out(out, "a=rtcp-fb:%u %s\r\n", c->pt, fb[i].text);
        }
    }

    if (c->fmtp[0] != '\0') {
        parley_sdp_out(out, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
    }
}


static void
parley_sdp_write_simulcast(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t  i;

    for (i = 0; i < m->n_rids; i++) {
        parley_sdp_out(out, "a=rid:%s %s\r\n", m->rids[i].id,
                       m->rids[i].dir == PARLEY_SDP_DIR_SENDONLY
                       ? "send" : "recv");
    }

    if (m->sim_send.n == 0 && m->sim_recv.n == 0) {
        return;
    }

    parley_sdp_out(out, "a=simulcast:");

    if (m->sim_send.n != 0) {
        parley_sdp_out(out, "send ");
        parley_sdp_write_sim_list(out, &m->sim_send);
    }

    if (m->sim_recv.n != 0) {
        parley_sdp_out(out, "%srecv ", m->sim_send.n ? " " : "");
        parley_sdp_write_sim_list(out, &m->sim_recv);
    }

    parley_sdp_out(out, "\r\n");
}


static void
parley_sdp_write_sim_list(parley_sdp_out_t *out,
    const parley_sdp_simulcast_t *sim)
{
    uint32_t  i;

    for (i = 0; i < sim->n; i++) {
        parley_sdp_out(out, "%s%s%s", i ? ";" : "",
                       sim->streams[i].paused ? "~" : "",
                       sim->streams[i].rid);
    }
}


static void
parley_sdp_write_ssrcs(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t                        i, j;
    const parley_sdp_ssrc_t        *s;
    const parley_sdp_ssrc_group_t  *g;

    for (i = 0; i < m->n_ssrc_groups; i++) {
        g = &m->ssrc_groups[i];
        parley_sdp_out(out, "a=ssrc-group:%s",
                       g->semantics == PARLEY_SDP_SSRC_FID ? "FID" : "SIM");

        for (j = 0; j < g->n; j++) {
            parley_sdp_out(out, " %u", g->ssrcs[j]);
        }

        parley_sdp_out(out, "\r\n");
    }

    for (i = 0; i < m->n_ssrcs; i++) {
        s = &m->ssrcs[i];

        if (s->cname[0] != '\0') {
            parley_sdp_out(out, "a=ssrc:%u cname:%s\r\n", s->ssrc, s->cname);
        }

        if (s->msid_stream[0] != '\0') {
            parley_sdp_out(out, "a=ssrc:%u msid:%s%s%s\r\n", s->ssrc,
                           s->msid_stream, s->msid_track[0] ? " " : "",
                           s->msid_track);
        }
    }
}
