/*
 * The SDP the test peer writes: its publish offer and its answers to a
 * server's offers (JSEP, unified plan, BUNDLE, rtcp-mux). The server's
 * descriptions are read with relay/parley_sdp.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"


#define PEER_URI_MID   "urn:ietf:params:rtp-hdrext:sdes:mid"
#define PEER_URI_TWCC  "http://www.ietf.org/id/" \
                       "draft-holmer-rmcat-transport-wide-cc-extensions-01"


typedef struct {
    char    *buf;
    size_t   size;
    size_t   len;
    int      overflow;
} peer_text_t;


static void
peer_text(peer_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
peer_text(peer_text_t *t, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    if (t->overflow) {
        return;
    }

    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);

    if (n < 0 || (size_t) n >= t->size - t->len) {
        t->overflow = 1;
        return;
    }

    t->len += (size_t) n;
}


parley_sdp_t *
peer_sdp_scratch(void)
{
    static parley_sdp_t  *sdp;

    if (sdp == NULL) {
        sdp = malloc(sizeof(parley_sdp_t));
        if (sdp == NULL) {
            peer_log("out of memory for an SDP description");
            exit(2);
        }
    }

    return sdp;
}


const parley_sdp_media_t *
peer_sdp_transport_of(const parley_sdp_t *sdp)
{
    uint32_t  i;

    for (i = 0; i < sdp->n_media; i++) {
        if (sdp->media[i].port != 0 && sdp->media[i].ice_ufrag[0] != '\0') {
            return &sdp->media[i];
        }
    }

    return NULL;
}


static void
peer_sdp_session(peer_text_t *t, const char *mids)
{
    peer_text(t, "v=0\r\n"
                 "o=- %lu 2 IN IP4 127.0.0.1\r\n"
                 "s=-\r\n"
                 "t=0 0\r\n"
                 "a=group:BUNDLE%s\r\n"
                 "a=msid-semantic: WMS\r\n",
              (unsigned long) random(), mids);
}


/* The shared transport, repeated in every bundled section (JSEP 5.2.1). */
static void
peer_sdp_transport(peer_text_t *t, const peer_sdp_transport_t *tr,
    int first)
{
    peer_text(t, "c=IN IP4 0.0.0.0\r\n"
                 "a=rtcp:9 IN IP4 0.0.0.0\r\n");

    if (first && tr->candidate != NULL && tr->candidate[0] != '\0') {
        peer_text(t, "a=%s\r\n"
                     "a=end-of-candidates\r\n", tr->candidate);
    }

    peer_text(t, "a=ice-ufrag:%s\r\n"
                 "a=ice-pwd:%s\r\n"
                 "a=ice-options:trickle\r\n"
                 "a=fingerprint:%s\r\n"
                 "a=setup:%s\r\n",
              tr->ufrag, tr->pwd, tr->fingerprint, tr->setup);
}


static void
peer_sdp_ssrc(peer_text_t *t, uint32_t ssrc, const char *track)
{
    peer_text(t, "a=ssrc:%u cname:parley-peer\r\n"
                 "a=ssrc:%u msid:parley-peer %s\r\n",
              ssrc, ssrc, track);
}


int
peer_sdp_publish_offer(char *buf, size_t size,
    const peer_sdp_transport_t *tr, const peer_sender_t *s)
{
    peer_text_t  t = { buf, size, 0, 0 };

    peer_sdp_session(&t, " 0 1");

    peer_text(&t, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
    peer_sdp_transport(&t, tr, 1);
    peer_text(&t, "a=mid:0\r\n"
                  "a=extmap:1 " PEER_URI_MID "\r\n"
                  "a=extmap:3 " PEER_URI_TWCC "\r\n"
                  "a=sendonly\r\n"
                  "a=msid:parley-peer audio0\r\n"
                  "a=rtcp-mux\r\n"
                  "a=rtcp-rsize\r\n"
                  "a=rtpmap:111 opus/48000/2\r\n"
                  "a=rtcp-fb:111 transport-cc\r\n"
                  "a=fmtp:111 minptime=10;useinbandfec=1\r\n");
    peer_sdp_ssrc(&t, s->audio_ssrc, "audio0");

    peer_text(&t, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n");
    peer_sdp_transport(&t, tr, 0);
    peer_text(&t, "a=mid:1\r\n"
                  "a=extmap:1 " PEER_URI_MID "\r\n"
                  "a=extmap:3 " PEER_URI_TWCC "\r\n"
                  "a=sendonly\r\n"
                  "a=msid:parley-peer video0\r\n"
                  "a=rtcp-mux\r\n"
                  "a=rtcp-rsize\r\n"
                  "a=rtpmap:96 VP8/90000\r\n"
                  "a=rtcp-fb:96 goog-remb\r\n"
                  "a=rtcp-fb:96 transport-cc\r\n"
                  "a=rtcp-fb:96 ccm fir\r\n"
                  "a=rtcp-fb:96 nack\r\n"
                  "a=rtcp-fb:96 nack pli\r\n"
                  "a=rtpmap:97 rtx/90000\r\n"
                  "a=fmtp:97 apt=96\r\n"
                  "a=ssrc-group:FID %u %u\r\n",
              s->video_ssrc, s->rtx_ssrc);
    peer_sdp_ssrc(&t, s->video_ssrc, "video0");
    peer_sdp_ssrc(&t, s->rtx_ssrc, "video0");

    return t.overflow ? -1 : 0;
}


static const char *
peer_sdp_fb_name(uint32_t bit)
{
    switch (bit) {
    case PARLEY_SDP_FB_NACK:          return "nack";
    case PARLEY_SDP_FB_NACK_PLI:      return "nack pli";
    case PARLEY_SDP_FB_CCM_FIR:       return "ccm fir";
    case PARLEY_SDP_FB_GOOG_REMB:     return "goog-remb";
    case PARLEY_SDP_FB_TRANSPORT_CC:  return "transport-cc";
    default:                          return NULL;
    }
}


/* A section's codecs and extensions, echoed: the peer takes them all. */
static void
peer_sdp_echo_media(peer_text_t *t, const parley_sdp_media_t *m)
{
    uint32_t                   i, bit;
    const char                *fb;
    const parley_sdp_codec_t  *k;

    for (i = 0; i < m->n_extmaps; i++) {
        peer_text(t, "a=extmap:%u %s\r\n", (unsigned) m->extmaps[i].id,
                  m->extmaps[i].uri);
    }

    for (i = 0; i < m->n_codecs; i++) {
        k = &m->codecs[i];

        if (k->channels > 1) {
            peer_text(t, "a=rtpmap:%u %s/%u/%u\r\n", (unsigned) k->pt,
                      k->name, (unsigned) k->clock_rate,
                      (unsigned) k->channels);
        } else {
            peer_text(t, "a=rtpmap:%u %s/%u\r\n", (unsigned) k->pt,
                      k->name, (unsigned) k->clock_rate);
        }

        for (bit = 1; bit <= PARLEY_SDP_FB_TRANSPORT_CC; bit <<= 1) {
            fb = peer_sdp_fb_name(bit);
            if ((k->fb & bit) && fb != NULL) {
                peer_text(t, "a=rtcp-fb:%u %s\r\n", (unsigned) k->pt, fb);
            }
        }

        if (k->fmtp[0] != '\0') {
            peer_text(t, "a=fmtp:%u %s\r\n", (unsigned) k->pt, k->fmtp);
        }
    }
}


static void
peer_sdp_answer_media(peer_text_t *t, const peer_sdp_transport_t *tr,
    const parley_sdp_media_t *m, int first)
{
    uint32_t  i;

    if (m->port == 0) {
        /* JSEP 5.3.1: a rejected section stays rejected */
        peer_text(t, "m=%s 0 %s %s\r\n"
                     "c=IN IP4 0.0.0.0\r\n"
                     "a=mid:%s\r\n"
                     "a=inactive\r\n",
                  m->media, m->proto, m->fmt, m->mid);
        return;
    }

    peer_text(t, "m=%s 9 %s", m->media, m->proto);

    if (m->kind == PARLEY_SDP_APPLICATION || m->n_codecs == 0) {
        peer_text(t, " %s\r\n", m->fmt);
    } else {
        for (i = 0; i < m->n_codecs; i++) {
            peer_text(t, " %u", (unsigned) m->codecs[i].pt);
        }
        peer_text(t, "\r\n");
    }

    peer_sdp_transport(t, tr, first);
    peer_text(t, "a=mid:%s\r\n", m->mid);

    if (m->kind == PARLEY_SDP_APPLICATION) {
        peer_text(t, "a=sctp-port:%u\r\n", (unsigned) m->sctp_port);
        return;
    }

    peer_sdp_echo_media(t, m);
    peer_text(t, "a=%s\r\n"
                 "a=rtcp-mux\r\n",
              m->dir == PARLEY_SDP_DIR_INACTIVE
              || m->dir == PARLEY_SDP_DIR_RECVONLY ? "inactive" : "recvonly");

    if (m->rtcp_rsize) {
        peer_text(t, "a=rtcp-rsize\r\n");
    }
}


int
peer_sdp_subscribe_answer(char *buf, size_t size,
    const peer_sdp_transport_t *tr, const parley_sdp_t *offer)
{
    int          first;
    char         mids[PARLEY_SDP_MAX_MEDIA * (PARLEY_SDP_MID_LEN + 1) + 1];
    size_t       n;
    uint32_t     i;
    peer_text_t  t = { buf, size, 0, 0 };

    n = 0;
    mids[0] = '\0';

    for (i = 0; i < offer->n_media; i++) {
        if (offer->media[i].port != 0) {
            n += (size_t) snprintf(mids + n, sizeof(mids) - n, " %s",
                                   offer->media[i].mid);
        }
    }

    peer_sdp_session(&t, mids);
    first = 1;

    for (i = 0; i < offer->n_media; i++) {
        peer_sdp_answer_media(&t, tr, &offer->media[i], first);

        if (offer->media[i].port != 0) {
            first = 0;
        }
    }

    return t.overflow ? -1 : 0;
}
