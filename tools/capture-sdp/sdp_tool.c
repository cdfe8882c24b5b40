/*
 * A throwaway driver for tools/capture-sdp/capture-chromium.mjs and for
 * looking at fixtures: parley's SDP code from the command line.
 *
 *   sdp_tool offer            an SFU offer (audio, video with rtx, data)
 *   sdp_tool answer < offer   the SFU's answer to an offer
 *   sdp_tool parse < sdp      a summary of what the parser saw
 *
 * With SDP_TOOL_NO_OPUS set in the environment, the SFU takes no audio
 * codec, so that its answers reject the audio sections.
 *
 * Build: cc -std=gnu11 -Wall -Wextra -Ishm -Irelay \
 *            tools/capture-sdp/sdp_tool.c relay/parley_sdp*.c -o build/sdp_tool
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley_sdp.h"


#define FB_VIDEO  (PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI                \
                   | PARLEY_SDP_FB_CCM_FIR | PARLEY_SDP_FB_GOOG_REMB          \
                   | PARLEY_SDP_FB_TRANSPORT_CC)
#define AUDIO     PARLEY_SDP_KIND_BIT(PARLEY_SDP_AUDIO)
#define VIDEO     PARLEY_SDP_KIND_BIT(PARLEY_SDP_VIDEO)


static const parley_sdp_codec_conf_t  codecs[] = {
    { "opus", 48000, 2, 111, PARLEY_SDP_NO_PT, PARLEY_SDP_FB_TRANSPORT_CC,
      NULL, "minptime=10;useinbandfec=1" },
    { "VP8", 90000, 0, 96, 97, FB_VIDEO, NULL, NULL },
    { "H264", 90000, 0, 102, 103, FB_VIDEO,
      "packetization-mode=1;profile-level-id=42e01f",
      "level-asymmetry-allowed=1;packetization-mode=1;"
      "profile-level-id=42e01f" },
    { "VP9", 90000, 0, 98, 99, FB_VIDEO, "profile-id=0", "profile-id=0" },
    { "AV1", 90000, 0, 45, 46, FB_VIDEO, NULL, NULL }
};

static const parley_sdp_extmap_conf_t  extmaps[] = {
    { "urn:ietf:params:rtp-hdrext:ssrc-audio-level", 1, AUDIO },
    { "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", 2,
      AUDIO | VIDEO },
    { "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-"
      "extensions-01", 3, AUDIO | VIDEO },
    { "urn:ietf:params:rtp-hdrext:sdes:mid", 4, AUDIO | VIDEO },
    { "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", 10, VIDEO },
    { "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", 11, VIDEO }
};

static const parley_sdp_host_t  hosts[] = {
    { "127.0.0.1", 40000, 0 }
};


static void
local_init(parley_sdp_local_t *local)
{
    int  i;

    memset(local, 0, sizeof(*local));
    local->ice_ufrag = "pRly";
    local->ice_pwd = "parleyparleyparleyparley";

    for (i = 0; i < 32; i++) {
        local->fingerprint[i] = (uint8_t) (i * 7 + 3);
    }

    local->sess_id = 4242424242u;
    local->sess_version = 1;
    local->hosts = hosts;
    local->n_hosts = 1;
    local->codecs = codecs;
    local->n_codecs = sizeof(codecs) / sizeof(codecs[0]);

    if (getenv("SDP_TOOL_NO_OPUS") != NULL) {
        local->codecs = codecs + 1;
        local->n_codecs--;
    }
    local->extmaps = extmaps;
    local->n_extmaps = sizeof(extmaps) / sizeof(extmaps[0]);
    local->sctp_port = 5000;
    local->max_message_size = 262144;
}


static size_t
read_all(char *buf, size_t size)
{
    size_t  n, len;

    len = 0;

    while ((n = fread(buf + len, 1, size - len, stdin)) > 0) {
        len += n;
    }

    return len;
}


static int
write_sdp(const parley_sdp_t *sdp)
{
    static char  out[65536];
    size_t       len;

    if (parley_sdp_write(sdp, out, sizeof(out), &len) != PARLEY_SDP_OK) {
        fprintf(stderr, "write failed\n");
        return 1;
    }

    fwrite(out, 1, len, stdout);
    return 0;
}


static int
make_offer(const parley_sdp_local_t *local)
{
    static parley_sdp_t  sdp;
    parley_sdp_error_t   err;
    parley_sdp_track_t   tracks[4];

    memset(tracks, 0, sizeof(tracks));
    tracks[0] = (parley_sdp_track_t) { PARLEY_SDP_AUDIO, "0", &codecs[0],
        11111111, 0, "alicecname", "alice", "alice-audio" };
    tracks[1] = (parley_sdp_track_t) { PARLEY_SDP_VIDEO, "1", &codecs[1],
        22222222, 22222223, "alicecname", "alice", "alice-video" };
    tracks[2] = (parley_sdp_track_t) { PARLEY_SDP_VIDEO, "2", &codecs[2],
        33333333, 33333334, "bobcname", "bob", "bob-screen" };
    tracks[3] = (parley_sdp_track_t) { PARLEY_SDP_APPLICATION, "3", NULL,
        0, 0, NULL, NULL, NULL };

    if (parley_sdp_offer(&sdp, local, tracks, 4, &err) != PARLEY_SDP_OK) {
        fprintf(stderr, "offer: %s\n", err.msg);
        return 1;
    }

    return write_sdp(&sdp);
}


static void
summary(const parley_sdp_t *sdp)
{
    uint32_t                   i, j;
    const parley_sdp_media_t  *m;

    printf("bundle %u, ice-lite %u\n", sdp->n_bundle, sdp->ice_lite);

    for (i = 0; i < sdp->n_media; i++) {
        m = &sdp->media[i];
        printf("m=%s mid %s port %u %s, %u codecs, %u extmaps, %u ssrcs, "
               "%u rids, %u/%u sim, %u candidates\n", m->media, m->mid,
               m->port, parley_sdp_dir_str(m->dir), m->n_codecs, m->n_extmaps,
               m->n_ssrcs, m->n_rids, m->sim_send.n, m->sim_recv.n,
               m->n_candidates);

        for (j = 0; j < m->n_codecs; j++) {
            printf("  %u %s/%u/%u apt %d rtx %d fb %#x fmtp %s\n",
                   m->codecs[j].pt, m->codecs[j].name,
                   m->codecs[j].clock_rate, m->codecs[j].channels,
                   m->codecs[j].apt == PARLEY_SDP_NO_PT
                   ? -1 : m->codecs[j].apt,
                   m->codecs[j].rtx_pt == PARLEY_SDP_NO_PT
                   ? -1 : m->codecs[j].rtx_pt,
                   m->codecs[j].fb, m->codecs[j].fmtp);
        }
    }
}


int
main(int argc, char **argv)
{
    static char          in[1 << 20];
    static parley_sdp_t  offer, answer;
    size_t               len;
    parley_sdp_error_t   err;
    parley_sdp_local_t   local;

    local_init(&local);

    if (argc == 2 && strcmp(argv[1], "offer") == 0) {
        return make_offer(&local);
    }

    if (argc != 2) {
        fprintf(stderr, "usage: sdp_tool offer|answer|parse\n");
        return 2;
    }

    len = read_all(in, sizeof(in));

    if (parley_sdp_parse(&offer, in, len, 0, &err) != PARLEY_SDP_OK) {
        fprintf(stderr, "parse: %s\n", err.msg);
        return 1;
    }

    if (offer.n_skipped) {
        fprintf(stderr, "parse: %u values skipped, the first: %s\n",
                offer.n_skipped, offer.skipped);
    }

    if (strcmp(argv[1], "parse") == 0) {
        summary(&offer);
        return 0;
    }

    if (parley_sdp_answer(&answer, &offer, &local, &err) != PARLEY_SDP_OK) {
        fprintf(stderr, "answer: %s\n", err.msg);
        return 1;
    }

    return write_sdp(&answer);
}
