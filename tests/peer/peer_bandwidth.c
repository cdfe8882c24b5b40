/*
 * --bandwidth-check: a subscriber whose congestion feedback goes silent,
 * as a link that drops everything would leave it, and then comes back.
 *
 * The subscriber reads the transport-wide sequence number the server puts
 * on each packet (in the clear, RFC 3711 3.1), sends one transport-wide
 * feedback about the last one received, and then none: the server must
 * take the silence for loss and pause the video (a "paused" message with
 * "paused": true). Then it reports every 100 ms: the server must let the
 * video through again ("paused": false), from a keyframe, and video must
 * arrive after that.
 */

#include <string.h>

#include "parley_rtcp.h"
#include "parley_rtp.h"
#include "peer.h"


#define PEER_BW_EVERY_MS  100
#define PEER_BW_TWCC_ID   4        /* the server's offered extmap id */


unsigned  peer_bandwidth_check;


static void peer_bandwidth_report(peer_conn_t *c);


/* One RTP packet of the subscribe connection, as it came (still SRTP). */
void
peer_bandwidth_receive(peer_conn_t *c, const peer_rx_ssrc_t *r,
    const uint8_t *buf, size_t len, uint64_t now_ns)
{
    int                  video;
    uint16_t             seq;
    uint32_t             ext;
    parley_rtp_header_t  h;

    if (!peer_bandwidth_check) {
        return;
    }

    if (parley_rtp_parse(buf, len, &h) == PARLEY_RTP_OK
        && parley_rtp_ext_twcc_seq(buf, len, &h, PEER_BW_TWCC_ID, &seq)
           == PARLEY_RTP_OK)
    {
        c->bw.last_seq = seq;
        c->bw.last_us = (int64_t) (now_ns / 1000);
        c->bw.numbered++;
    }

    video = (r != NULL && r->video && !r->repair && r->started);

    /*
     * Once paused, the server's numbers must go on where they stopped:
     * the packets it did not send are no gap to NACK (the leg resumes
     * right after the last number it sent).
     */

    if (video && c->bw.state >= PEER_BW_FEEDING) {
        seq = parley_rtp_get16(buf + 2);
        ext = r->highest + (uint32_t) (int16_t) (seq - (uint16_t) r->highest);

        if ((int32_t) (ext - r->highest) > 1
            && ext - r->highest - 1 > c->bw.gap)
        {
            c->bw.gap = ext - r->highest - 1;
        }
    }

    if (video && c->bw.state == PEER_BW_RESUMED) {
        c->bw.video_after++;
    }
}


/* The server's "paused" message about a section of ours. */
void
peer_bandwidth_paused(peer_conn_t *c, int paused)
{
    if (paused) {
        c->bw.paused++;

        if (c->bw.state == PEER_BW_SILENT) {
            c->bw.state = PEER_BW_FEEDING;
        }

        return;
    }

    c->bw.resumed++;

    if (c->bw.state == PEER_BW_FEEDING) {
        c->bw.state = PEER_BW_RESUMED;
    }
}


void
peer_bandwidth_tick(peer_conn_t *c, uint64_t now_ms)
{
    if (!peer_bandwidth_check || c->bw.numbered == 0) {
        return;
    }

    switch (c->bw.state) {

    case PEER_BW_START:
        peer_bandwidth_report(c);
        c->bw.state = PEER_BW_SILENT;
        break;

    case PEER_BW_FEEDING:
    case PEER_BW_RESUMED:
        if (now_ms >= c->bw.next_ms) {
            peer_bandwidth_report(c);
            c->bw.next_ms = now_ms + PEER_BW_EVERY_MS;
        }
        break;

    default:
        break;
    }
}


/* A feedback that the last numbered packet arrived. */
static void
peer_bandwidth_report(peer_conn_t *c)
{
    uint8_t                     buf[PEER_PACKET_ROOM];
    parley_rtcp_rr_t            rr;
    parley_rtcp_writer_t        w;
    parley_rtcp_twcc_arrival_t  a;

    memset(&rr, 0, sizeof(rr));
    rr.ssrc = c->rtcp_ssrc;

    a.seq = c->bw.last_seq;
    a.arrival_us = c->bw.last_us;

    parley_rtcp_writer_init(&w, buf, PEER_DATAGRAM_MAX);

    if (parley_rtcp_build_rr(&w, &rr) != PARLEY_RTP_OK
        || parley_rtcp_build_twcc(&w, c->rtcp_ssrc, 0, c->bw.count++, &a, 1)
           != PARLEY_RTP_OK
        || peer_conn_send_rtcp(c, buf, w.len) != 0)
    {
        peer_log("%s: could not send a transport-wide feedback", c->name);
        return;
    }

    c->bw.reports++;
}
