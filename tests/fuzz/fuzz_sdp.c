/*
 * libFuzzer target for the SDP layer (relay/parley_sdp*.c).
 *
 * Parses the input; when it parses, writes it back and parses that again,
 * then answers it as the SFU would and parses the written answer. A
 * description the writer produced must always parse, to the same m=
 * sections: anything else aborts.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley_sdp.h"


#define FB_VIDEO  (PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI                \
                   | PARLEY_SDP_FB_CCM_FIR | PARLEY_SDP_FB_GOOG_REMB          \
                   | PARLEY_SDP_FB_TRANSPORT_CC)
#define AUDIO     PARLEY_SDP_KIND_BIT(PARLEY_SDP_AUDIO)
#define VIDEO     PARLEY_SDP_KIND_BIT(PARLEY_SDP_VIDEO)

/* written SDP can be far longer than its input: 64 codecs per section */
#define OUT_SIZE  (2 * 1024 * 1024)


static const parley_sdp_codec_conf_t  codecs[] = {
    { "opus", 48000, 2, 111, PARLEY_SDP_NO_PT, PARLEY_SDP_FB_TRANSPORT_CC,
      NULL, "minptime=10;useinbandfec=1" },
    { "VP8", 90000, 0, 96, 97, FB_VIDEO, NULL, NULL },
    { "H264", 90000, 0, 102, 103, FB_VIDEO,
      "packetization-mode=1;profile-level-id=42e01f", NULL },
    { "VP9", 90000, 0, 98, 99, FB_VIDEO, "profile-id=0", NULL },
    { "AV1", 90000, 0, 45, 46, FB_VIDEO, "profile=0", NULL }
};

static const parley_sdp_extmap_conf_t  extmaps[] = {
    { "urn:ietf:params:rtp-hdrext:ssrc-audio-level", 1, AUDIO },
    { "urn:ietf:params:rtp-hdrext:sdes:mid", 4, AUDIO | VIDEO },
    { "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", 10, VIDEO },
    { "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", 11, VIDEO }
};

static const parley_sdp_host_t  hosts[] = {
    { "192.0.2.1", 40000, 0 },
    { "2001:db8::1", 40000, 0 }
};


static void
check_reparse(const parley_sdp_t *sdp, char *out, parley_sdp_t *back)
{
    size_t              len;
    uint32_t            i;
    parley_sdp_error_t  err;

    if (parley_sdp_write(sdp, out, OUT_SIZE, &len) != PARLEY_SDP_OK
        || parley_sdp_parse(back, out, len, OUT_SIZE, &err) != PARLEY_SDP_OK
        || back->n_skipped != 0         /* the writer's own: nothing odd */
        || back->n_media != sdp->n_media || back->n_bundle != sdp->n_bundle)
    {
        abort();
    }

    for (i = 0; i < sdp->n_media; i++) {
        if (strcmp(back->media[i].mid, sdp->media[i].mid) != 0
            || back->media[i].port != sdp->media[i].port
            || back->media[i].kind != sdp->media[i].kind)
        {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char                *out;
    static parley_sdp_t         offer, answer, back;
    parley_sdp_error_t          err;
    parley_sdp_local_t          local;

    if (out == NULL) {
        out = malloc(OUT_SIZE);
        if (out == NULL) {
            abort();
        }
    }

    if (parley_sdp_parse(&offer, (const char *) data, size, 0, &err)
        != PARLEY_SDP_OK)
    {
        /* an error always says what went wrong */
        if (err.rc == PARLEY_SDP_OK || err.msg[0] == '\0') {
            abort();
        }

        return 0;
    }

    check_reparse(&offer, out, &back);

    memset(&local, 0, sizeof(local));
    local.ice_ufrag = "fUzZ";
    local.ice_pwd = "fuzzfuzzfuzzfuzzfuzzfuzz";
    memset(local.fingerprint, 0x5a, sizeof(local.fingerprint));
    local.sess_id = 1;
    local.sess_version = 1;
    local.hosts = hosts;
    local.n_hosts = 2;
    local.codecs = codecs;
    local.n_codecs = sizeof(codecs) / sizeof(codecs[0]);
    local.extmaps = extmaps;
    local.n_extmaps = sizeof(extmaps) / sizeof(extmaps[0]);
    local.sctp_port = 5000;
    local.max_message_size = 65536;
    local.answer_sendrecv = size & 1;

    if (parley_sdp_answer(&answer, &offer, &local, &err) == PARLEY_SDP_OK) {
        check_reparse(&answer, out, &back);
    }

    return 0;
}
