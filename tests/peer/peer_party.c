/*
 * A participant: one signaling WebSocket, a publishing peer connection and
 * a subscribing one, whatever the signaling adapter (parley, Janus) says
 * on the wire. The adapters translate messages; this file does the SDP
 * and the connections.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley_rtp.h"
#include "peer.h"


#define PEER_SDP_TEXT_MAX   16384


static void
peer_party_on_ws_open(peer_ws_t *ws, void *arg)
{
    peer_party_t  *p = arg;

    (void) ws;

    p->run->signaling->on_open(p);
}


static void
peer_party_on_ws_message(peer_ws_t *ws, void *arg, json_t *msg)
{
    peer_party_t  *p = arg;

    (void) ws;

    if (!p->done) {
        p->run->signaling->on_message(p, msg);
    }
}


static void
peer_party_on_ws_close(peer_ws_t *ws, void *arg, const char *why)
{
    peer_party_t  *p = arg;

    if (p->ws == ws) {
        p->ws = NULL;
        peer_ws_close(ws);

        if (!p->done) {
            peer_party_fail(p, "signaling: %s", why);
        }
    }
}


void
peer_party_connect(peer_party_t *p)
{
    peer_ws_handler_t  h;

    h.on_open = peer_party_on_ws_open;
    h.on_message = peer_party_on_ws_message;
    h.on_close = peer_party_on_ws_close;
    h.arg = p;

    p->attempts++;
    p->worker = -1;
    p->ws = peer_ws_open(&p->run->loop, p->run->url,
                         p->run->signaling->subprotocol, &h);

    if (p->ws == NULL) {
        peer_party_fail(p, "could not open %s", p->run->url);
    }
}


/* A connection that landed on the wrong worker: try again (hello.worker). */
void
peer_party_reconnect(peer_party_t *p)
{
    peer_ws_t  *ws;

    if (p->attempts >= p->run->max_attempts) {
        peer_party_fail(p, "%u connections, none landed on worker %d",
                        p->attempts, p->run->want_worker);
        return;
    }

    ws = p->ws;
    p->ws = NULL;
    peer_ws_close(ws);
    peer_party_connect(p);
}


void
peer_party_fail(peer_party_t *p, const char *fmt, ...)
{
    char     why[256];
    va_list  ap;

    if (p->done) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);

    p->done = 1;
    p->run->failures++;

    if (p->run->first_failure[0] == '\0') {
        snprintf(p->run->first_failure, sizeof(p->run->first_failure),
                 "%s: %s", p->name, why);
    }

    peer_log("%s: %s", p->name, why);
}


int
peer_party_send(peer_party_t *p, json_t *msg)
{
    if (p->ws == NULL || peer_ws_send(p->ws, msg) != 0) {
        peer_party_fail(p, "could not send a signaling message");
        return -1;
    }

    return 0;
}


/* The room is known: tell whoever waits for it (the script, stdout). */
void
peer_party_entered(peer_party_t *p, const char *room)
{
    FILE  *f;

    p->in_room = 1;

    if (p->creator) {
        snprintf(p->run->room, sizeof(p->run->room), "%s", room);
        printf("{\"room\":\"%s\",\"worker\":%d}\n", room, p->worker);
        fflush(stdout);
    }

    if (p->creator && p->run->room_file != NULL) {
        f = fopen(p->run->room_file, "w");
        if (f == NULL || fprintf(f, "%s %d\n", room, p->worker) < 0
            || fclose(f) != 0)
        {
            peer_party_fail(p, "could not write %s", p->run->room_file);
        }
    }
}


static void
peer_party_on_secure(peer_conn_t *c, void *arg)
{
    (void) c;
    (void) arg;
}


static void
peer_party_on_failed(peer_conn_t *c, void *arg, const char *why)
{
    peer_party_fail(arg, "%s peer connection: %s", c->name, why);
}


static void
peer_party_on_pli(peer_conn_t *c, void *arg, uint32_t media_ssrc)
{
    peer_party_t  *p = arg;

    /* RFC 4585 6.3.1: the next frame is a keyframe */
    if (c == &p->pub && media_ssrc == p->sender.video_ssrc) {
        p->sender.keyframe_due = 1;
    }
}


static void
peer_party_on_nack(peer_conn_t *c, void *arg, uint32_t media_ssrc,
    const uint16_t *seqs, size_t n)
{
    peer_party_t  *p = arg;

    /* RFC 4585 6.2.1: only our video keeps a history to answer from */
    if (c == &p->pub && media_ssrc == p->sender.video_ssrc) {
        peer_sender_on_nack(&p->sender, &p->run->stats, seqs, n);
    }
}


static void
peer_party_conn_init(peer_party_t *p, peer_conn_t *c, const char *what)
{
    peer_conn_handler_t  h;

    h.on_secure = peer_party_on_secure;
    h.on_failed = peer_party_on_failed;
    h.on_pli = peer_party_on_pli;
    h.on_nack = peer_party_on_nack;
    h.arg = p;

    peer_conn_init(c, &p->run->loop, what, &h, &p->run->stats,
                   p->run->sample);
}


static void
peer_party_transport(peer_conn_t *c, char *fp, size_t fplen,
    const char *setup, peer_sdp_transport_t *t)
{
    peer_conn_fingerprint(c, fp, fplen);

    t->ufrag = c->local_ufrag;
    t->pwd = c->local_pwd;
    t->fingerprint = fp;
    t->candidate = c->candidate;
    t->setup = setup;
}


char *
peer_party_publish_offer(peer_party_t *p, char *buf, size_t size)
{
    char                  fp[PARLEY_DTLS_FINGERPRINT_STR_MAX];
    peer_sdp_transport_t  t;

    peer_party_conn_init(p, &p->pub, "publish");
    p->pub_made = 1;

    if (peer_conn_gather(&p->pub) != 0) {
        peer_party_fail(p, "could not gather ICE candidates");
        return NULL;
    }

    peer_sender_init(&p->sender, &p->pub);
    peer_party_transport(&p->pub, fp, sizeof(fp), "actpass", &t);

    if (peer_sdp_publish_offer(buf, size, &t, &p->sender) != 0) {
        peer_party_fail(p, "the publish offer does not fit");
        return NULL;
    }

    return buf;
}


static parley_sdp_t *
peer_party_parse(peer_party_t *p, const char *sdp, const char *what)
{
    parley_sdp_t        *d;
    parley_sdp_error_t   err;

    d = peer_sdp_scratch();

    if (peer_verbose > 2) {
        peer_log("%s: the server's %s:\n%s", p->name, what, sdp);
    }

    if (parley_sdp_parse(d, sdp, strlen(sdp), 0, &err) != PARLEY_SDP_OK) {
        peer_party_fail(p, "the server's %s does not parse: %s", what,
                        err.msg);
        return NULL;
    }

    /* what the server writes must need no leniency */
    if (d->n_skipped) {
        peer_party_fail(p, "the server's %s has %u malformed values, the "
                        "first: %s", what, d->n_skipped, d->skipped);
        return NULL;
    }

    return d;
}


/* The answer says which payload types and extension ids to send with. */
static void
peer_party_take_answer(peer_party_t *p, const parley_sdp_t *d)
{
    uint32_t                   i;
    peer_sender_t             *s;
    const parley_sdp_media_t  *m;

    s = &p->sender;
    s->mid_ext = 0;
    s->twcc_ext = 0;

    for (i = 0; i < d->n_media; i++) {
        m = &d->media[i];

        if (m->port == 0) {
            continue;
        }

        s->mid_ext = (uint8_t) parley_sdp_extmap_id(m,
                         "urn:ietf:params:rtp-hdrext:sdes:mid");
        s->twcc_ext = (uint8_t) parley_sdp_extmap_id(m,
                         "http://www.ietf.org/id/"
                         "draft-holmer-rmcat-transport-wide-cc-extensions-01");

        /* one-byte form only (RFC 8285 4.2) */
        if (s->mid_ext > PARLEY_RTP_EXT_MAX_ID_ONE) {
            s->mid_ext = 0;
        }
        if (s->twcc_ext > PARLEY_RTP_EXT_MAX_ID_ONE) {
            s->twcc_ext = 0;
        }
    }
}


int
peer_party_publish_answer(peer_party_t *p, const char *sdp)
{
    char                       err[256];
    parley_sdp_t              *d;
    const parley_sdp_media_t  *m;

    d = peer_party_parse(p, sdp, "publish answer");
    if (d == NULL) {
        return -1;
    }

    m = peer_sdp_transport_of(d);
    if (m == NULL) {
        peer_party_fail(p, "the publish answer has no transport");
        return -1;
    }

    if (d->n_media < 2 || d->media[0].port == 0 || d->media[1].port == 0) {
        peer_party_fail(p, "the server rejected the audio or video section");
        return -1;
    }

    peer_party_take_answer(p, d);

    if (peer_conn_set_remote(&p->pub, m, err, sizeof(err)) != 0) {
        peer_party_fail(p, "publish answer: %s", err);
        return -1;
    }

    return 0;
}


char *
peer_party_subscribe_offer(peer_party_t *p, const char *sdp, char *buf,
    size_t size)
{
    char                       err[256], fp[PARLEY_DTLS_FINGERPRINT_STR_MAX];
    parley_sdp_t              *d;
    peer_sdp_transport_t       t;
    const parley_sdp_media_t  *m;

    d = peer_party_parse(p, sdp, "subscribe offer");
    if (d == NULL) {
        return NULL;
    }

    m = peer_sdp_transport_of(d);
    if (m == NULL) {
        peer_party_fail(p, "the subscribe offer has no transport");
        return NULL;
    }

    if (!p->sub_made) {
        peer_party_conn_init(p, &p->sub, "subscribe");
        p->sub_made = 1;
        p->sub.second.mode = peer_second_path;

        if (peer_conn_gather(&p->sub) != 0) {
            peer_party_fail(p, "could not gather ICE candidates");
            return NULL;
        }
    }

    if (peer_conn_set_remote(&p->sub, m, err, sizeof(err)) != 0) {
        peer_party_fail(p, "subscribe offer: %s", err);
        return NULL;
    }

    peer_conn_expect_ssrcs(&p->sub, d);
    peer_party_transport(&p->sub, fp, sizeof(fp), "active", &t);

    if (peer_sdp_subscribe_answer(buf, size, &t, d) != 0) {
        peer_party_fail(p, "the subscribe answer does not fit");
        return NULL;
    }

    p->offers++;

    return buf;
}
