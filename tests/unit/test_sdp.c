/*
 * Unit tests for the SDP layer (relay/parley_sdp*.c).
 *
 * The fixtures in tests/fixtures/sdp/ are real offers and answers captured
 * from Chromium, Firefox and GStreamer's webrtcbin by tools/capture-sdp/;
 * the tests run from the repository root. Every description is parsed from
 * a buffer of exactly its length, so AddressSanitizer catches a read past
 * the end.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parley_sdp.h"


#define FIXTURES  "tests/fixtures/sdp/"

#define FB_ALL    (PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI                \
                   | PARLEY_SDP_FB_CCM_FIR | PARLEY_SDP_FB_GOOG_REMB          \
                   | PARLEY_SDP_FB_TRANSPORT_CC)
#define AUDIO     PARLEY_SDP_KIND_BIT(PARLEY_SDP_AUDIO)
#define VIDEO     PARLEY_SDP_KIND_BIT(PARLEY_SDP_VIDEO)

#define URI_LEVEL  "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define URI_AST    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define URI_TWCC   "http://www.ietf.org/id/draft-holmer-rmcat-transport-" \
                   "wide-cc-extensions-01"
#define URI_MID    "urn:ietf:params:rtp-hdrext:sdes:mid"
#define URI_RID    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define URI_RRID   "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"


/* the SFU's configuration used throughout */

static const parley_sdp_codec_conf_t  codecs[] = {
    { "opus", 48000, 2, 111, PARLEY_SDP_NO_PT, PARLEY_SDP_FB_TRANSPORT_CC,
      NULL, "minptime=10;useinbandfec=1" },
    { "VP8", 90000, 0, 96, 97, FB_ALL, NULL, NULL },
    { "H264", 90000, 0, 102, 103, FB_ALL,
      "packetization-mode=1;profile-level-id=42e01f",
      "level-asymmetry-allowed=1;packetization-mode=1;"
      "profile-level-id=42e01f" },
    { "VP9", 90000, 0, 98, 99, FB_ALL, "profile-id=0", "profile-id=0" },
    { "AV1", 90000, 0, 45, 46, FB_ALL, NULL, NULL }
};

static const parley_sdp_extmap_conf_t  extmaps[] = {
    { URI_LEVEL, 1, AUDIO },
    { URI_AST, 2, AUDIO | VIDEO },
    { URI_TWCC, 3, AUDIO | VIDEO },
    { URI_MID, 4, AUDIO | VIDEO },
    { URI_RID, 10, VIDEO },
    { URI_RRID, 11, VIDEO }
};

static const parley_sdp_codec_conf_t  nack_only[] = {
    { "VP8", 90000, 0, 96, PARLEY_SDP_NO_PT,
      PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI, NULL, NULL }
};

static const parley_sdp_host_t  hosts[] = {
    { "127.0.0.1", 40000, 0 },
    { "::1", 40001, 0 },
    { "127.0.0.1", 40443, 1 }
};


static void
local_init(parley_sdp_local_t *local)
{
    int  i;

    memset(local, 0, sizeof(*local));
    local->ice_ufrag = "pRly";
    local->ice_pwd = "parley+ice/password0123";

    for (i = 0; i < 32; i++) {
        local->fingerprint[i] = (uint8_t) (0xa0 + i);
    }

    local->sess_id = 1234567890123ULL;
    local->sess_version = 2;
    local->hosts = hosts;
    local->n_hosts = 3;
    local->codecs = codecs;
    local->n_codecs = sizeof(codecs) / sizeof(codecs[0]);
    local->extmaps = extmaps;
    local->n_extmaps = sizeof(extmaps) / sizeof(extmaps[0]);
    local->sctp_port = 5000;
    local->max_message_size = 262144;
}


/* helpers */

static char *
read_fixture(const char *name, size_t *len)
{
    char   path[256];
    char  *buf;
    long   size;
    FILE  *f;

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    f = fopen(path, "rb");
    assert_non_null(f);

    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    rewind(f);

    /* exactly the file's bytes: no NUL after them */
    buf = malloc((size_t) size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) size, f), (size_t) size);
    fclose(f);

    *len = (size_t) size;

    return buf;
}


static parley_sdp_t *
sdp_new(void)
{
    parley_sdp_t  *sdp;

    sdp = calloc(1, sizeof(*sdp));
    assert_non_null(sdp);

    return sdp;
}


static parley_sdp_t *
parse_fixture(const char *name)
{
    char                *buf;
    size_t               len;
    parley_sdp_t        *sdp;
    parley_sdp_error_t   err;

    buf = read_fixture(name, &len);
    sdp = sdp_new();

    if (parley_sdp_parse(sdp, buf, len, 0, &err) != PARLEY_SDP_OK) {
        fail_msg("%s: %s", name, err.msg);
    }

    free(buf);

    return sdp;
}


/* parses "text" from an exact-length copy; returns the result code */
static parley_sdp_rc_t
parse_text(parley_sdp_t *sdp, const char *text, size_t len,
    parley_sdp_error_t *err)
{
    char             *copy;
    parley_sdp_rc_t   rc;

    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);

    rc = parley_sdp_parse(sdp, copy, len, 0, err);
    free(copy);

    return rc;
}


/* for string literals, which may hold a NUL */
#define parse_literal(sdp, lit, err)                                          \
    parse_text(sdp, lit, sizeof(lit) - 1, err)


static parley_sdp_t *
write_and_parse(const parley_sdp_t *sdp)
{
    char                *buf;
    size_t               len;
    parley_sdp_t        *back;
    parley_sdp_error_t   err;

    buf = malloc(1 << 20);
    assert_non_null(buf);
    assert_int_equal(parley_sdp_write(sdp, buf, 1 << 20, &len),
                     PARLEY_SDP_OK);
    assert_int_equal(strlen(buf), len);

    back = sdp_new();

    if (parse_text(back, buf, len, &err) != PARLEY_SDP_OK) {
        fail_msg("written SDP does not parse: %s\n%s", err.msg, buf);
    }

    free(buf);

    return back;
}


static parley_sdp_t *
answer_fixture_local(const char *name, const parley_sdp_local_t *local,
    parley_sdp_t **offer_out)
{
    parley_sdp_t        *offer, *answer, *back;
    parley_sdp_error_t   err;

    offer = parse_fixture(name);
    answer = sdp_new();

    if (parley_sdp_answer(answer, offer, local, &err) != PARLEY_SDP_OK) {
        fail_msg("%s: answer: %s", name, err.msg);
    }

    back = write_and_parse(answer);
    free(answer);

    if (offer_out != NULL) {
        *offer_out = offer;

    } else {
        free(offer);
    }

    return back;
}


static parley_sdp_t *
answer_fixture(const char *name, parley_sdp_t **offer_out)
{
    parley_sdp_local_t  local;

    local_init(&local);

    return answer_fixture_local(name, &local, offer_out);
}


#define answer_fixture_with(name, local)                                      \
    answer_fixture_local(name, local, NULL)


static const parley_sdp_codec_t *
codec(const parley_sdp_media_t *m, uint8_t pt)
{
    const parley_sdp_codec_t  *c;

    c = parley_sdp_find_codec(m, pt);
    assert_non_null(c);

    return c;
}


static void
assert_codec(const parley_sdp_media_t *m, uint8_t pt, const char *name,
    uint32_t clock, uint8_t channels)
{
    const parley_sdp_codec_t  *c;

    c = codec(m, pt);
    assert_string_equal(c->name, name);
    assert_int_equal(c->clock_rate, clock);
    assert_int_equal(c->channels, channels);
}


static void
assert_rtx(const parley_sdp_media_t *m, uint8_t pt, uint8_t rtx)
{
    assert_int_equal(codec(m, pt)->rtx_pt, rtx);
    assert_string_equal(codec(m, rtx)->name, "rtx");
    assert_int_equal(codec(m, rtx)->apt, pt);
}


/* both sections of a BUNDLE share one transport */
static void
assert_same_transport(const parley_sdp_media_t *a, const parley_sdp_media_t *b)
{
    assert_string_equal(a->ice_ufrag, b->ice_ufrag);
    assert_string_equal(a->ice_pwd, b->ice_pwd);
    assert_int_equal(a->fingerprint.hash, b->fingerprint.hash);
    assert_memory_equal(a->fingerprint.bytes, b->fingerprint.bytes, 32);
}


/* parsing real offers */

static void
check_chromium_audio(const parley_sdp_media_t *a)
{
    assert_int_equal(a->kind, PARLEY_SDP_AUDIO);
    assert_string_equal(a->mid, "0");
    assert_string_equal(a->proto, "UDP/TLS/RTP/SAVPF");
    assert_int_equal(a->dir, PARLEY_SDP_DIR_SENDRECV);
    assert_int_equal(a->port, 48223);
    assert_string_equal(a->conn, "192.0.2.10");
    assert_int_equal(a->line, 8);
    assert_true(a->rtcp_mux);
    assert_true(a->rtcp_rsize);
    assert_true(a->ice_trickle);
    assert_int_equal(a->setup, PARLEY_SDP_SETUP_ACTPASS);
    assert_int_equal(strlen(a->ice_ufrag), 4);
    assert_int_equal(strlen(a->ice_pwd), 24);
    assert_int_equal(a->fingerprint.hash, PARLEY_SDP_HASH_SHA256);
    assert_int_equal(a->fingerprint.len, 32);

    assert_int_equal(a->n_codecs, 8);
    assert_int_equal(a->codecs[0].pt, 111);
    assert_codec(a, 111, "opus", 48000, 2);
    assert_string_equal(codec(a, 111)->fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(codec(a, 111)->fb, PARLEY_SDP_FB_TRANSPORT_CC);
    assert_codec(a, 0, "PCMU", 8000, 0);
    assert_codec(a, 110, "telephone-event", 48000, 0);
    assert_int_equal(codec(a, 111)->rtx_pt, PARLEY_SDP_NO_PT);

    assert_int_equal(a->n_extmaps, 4);
    assert_int_equal(parley_sdp_extmap_id(a, URI_LEVEL), 1);
    assert_int_equal(parley_sdp_extmap_id(a, URI_AST), 2);
    assert_int_equal(parley_sdp_extmap_id(a, URI_TWCC), 3);
    assert_int_equal(parley_sdp_extmap_id(a, URI_MID), 4);

    assert_int_equal(a->n_ssrcs, 1);
    assert_int_equal(a->ssrcs[0].ssrc, 3617142319u);
    assert_string_equal(a->ssrcs[0].cname, "blO9+/WYSkHtMX14");
    assert_int_equal(strlen(a->ssrcs[0].cname), 16);
    assert_string_equal(a->ssrcs[0].msid_stream, a->msid_stream);
    assert_string_equal(a->ssrcs[0].msid_track, a->msid_track);
    assert_int_equal(strlen(a->msid_track), 36);

    assert_int_equal(a->n_candidates, 4);
    assert_false(a->candidates[0].tcp);
    assert_int_equal(a->candidates[0].type, PARLEY_SDP_CAND_HOST);
    assert_int_equal(a->candidates[0].component, 1);
    assert_int_equal(a->candidates[0].priority, 2122194687u);
    assert_string_equal(a->candidates[0].address, "192.0.2.10");
    assert_int_equal(a->candidates[0].port, 48223);
    assert_string_equal(a->candidates[1].address, "2001:db8::11");
    assert_true(a->candidates[2].tcp);
    assert_int_equal(a->candidates[2].tcptype, PARLEY_SDP_TCP_ACTIVE);
    assert_false(a->end_of_candidates);
}


static void
check_chromium_video(const parley_sdp_media_t *v, const parley_sdp_media_t *a)
{
    assert_int_equal(v->kind, PARLEY_SDP_VIDEO);
    assert_string_equal(v->mid, "1");
    assert_int_equal(v->n_codecs, 23);
    assert_codec(v, 96, "VP8", 90000, 0);
    assert_int_equal(codec(v, 96)->fb, FB_ALL);
    assert_rtx(v, 96, 97);
    assert_rtx(v, 108, 109);
    assert_rtx(v, 45, 46);
    assert_rtx(v, 98, 99);
    assert_rtx(v, 118, 119);
    assert_string_equal(codec(v, 108)->fmtp,
                        "level-asymmetry-allowed=1;packetization-mode=1;"
                        "profile-level-id=42e01f");
    assert_codec(v, 120, "ulpfec", 90000, 0);
    assert_int_equal(codec(v, 120)->apt, PARLEY_SDP_NO_PT);

    assert_int_equal(v->n_extmaps, 11);
    assert_int_equal(parley_sdp_extmap_id(v, "urn:ietf:params:rtp-hdrext:"
                                          "toffset"), 14);
    assert_int_equal(parley_sdp_extmap_id(v, URI_RID), 10);
    assert_int_equal(parley_sdp_extmap_id(v, URI_RRID), 11);
    assert_int_equal(parley_sdp_extmap_id(v, URI_LEVEL), 0);

    assert_int_equal(v->n_ssrc_groups, 1);
    assert_int_equal(v->ssrc_groups[0].semantics, PARLEY_SDP_SSRC_FID);
    assert_int_equal(v->ssrc_groups[0].n, 2);
    assert_int_equal(v->n_ssrcs, 2);
    assert_int_equal(v->ssrc_groups[0].ssrcs[0], v->ssrcs[0].ssrc);
    assert_int_equal(v->ssrc_groups[0].ssrcs[1], v->ssrcs[1].ssrc);
    assert_string_equal(v->msid_stream, a->msid_stream);
    assert_string_not_equal(v->msid_track, a->msid_track);
}


static void
test_chromium_av(void **state)
{
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *a, *v;

    (void) state;

    sdp = parse_fixture("chromium-av-offer.sdp");

    assert_int_equal(sdp->n_media, 2);
    assert_int_equal(sdp->n_bundle, 2);
    assert_string_equal(sdp->bundle[0], "0");
    assert_string_equal(sdp->bundle[1], "1");
    assert_true(sdp->extmap_allow_mixed);
    assert_false(sdp->ice_lite);
    assert_int_equal(sdp->sess_version, 2);

    a = &sdp->media[0];
    v = &sdp->media[1];
    check_chromium_audio(a);
    check_chromium_video(v, a);

    assert_same_transport(a, v);
    assert_ptr_equal(parley_sdp_find_mid(sdp, "1"), v);
    assert_null(parley_sdp_find_mid(sdp, "2"));

    free(sdp);
}


static void
test_chromium_simulcast(void **state)
{
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *a, *v;

    (void) state;

    sdp = parse_fixture("chromium-simulcast-offer.sdp");
    assert_int_equal(sdp->n_media, 2);

    a = &sdp->media[0];
    assert_int_equal(a->dir, PARLEY_SDP_DIR_SENDONLY);
    assert_int_equal(a->n_rids, 0);

    v = &sdp->media[1];
    assert_int_equal(v->dir, PARLEY_SDP_DIR_SENDONLY);
    assert_int_equal(v->n_rids, 3);
    assert_string_equal(v->rids[0].id, "h");
    assert_string_equal(v->rids[1].id, "m");
    assert_string_equal(v->rids[2].id, "l");
    assert_int_equal(v->rids[0].dir, PARLEY_SDP_DIR_SENDONLY);
    assert_int_equal(v->rids[2].dir, PARLEY_SDP_DIR_SENDONLY);

    assert_int_equal(v->sim_send.n, 3);
    assert_int_equal(v->sim_recv.n, 0);
    assert_string_equal(v->sim_send.streams[0].rid, "h");
    assert_string_equal(v->sim_send.streams[1].rid, "m");
    assert_string_equal(v->sim_send.streams[2].rid, "l");
    assert_false(v->sim_send.streams[1].paused);

    /* Chromium announces no SSRCs for simulcast: rids identify streams */
    assert_int_equal(v->n_ssrcs, 0);
    assert_int_equal(v->n_extmaps, 13);
    assert_int_equal(parley_sdp_extmap_id(v, URI_RID), 10);
    assert_string_equal(v->msid_stream, a->msid_stream);

    free(sdp);
}


static void
test_chromium_recvonly(void **state)
{
    uint32_t                   i;
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *m;

    (void) state;

    sdp = parse_fixture("chromium-recvonly-offer.sdp");
    assert_int_equal(sdp->n_media, 3);
    assert_int_equal(sdp->n_bundle, 3);

    for (i = 0; i < 3; i++) {
        m = &sdp->media[i];
        assert_int_equal(m->dir, PARLEY_SDP_DIR_RECVONLY);
        assert_int_equal(m->n_ssrcs, 0);
        assert_string_equal(m->msid_stream, "");
    }

    /* a receiver lists more decoders than a sender has encoders */
    assert_int_equal(sdp->media[1].n_codecs, 34);
    assert_int_equal(sdp->media[2].n_codecs, 34);
    assert_codec(&sdp->media[1], 47, "AV1", 90000, 0);
    assert_string_equal(codec(&sdp->media[1], 47)->fmtp,
                        "level-idx=5;profile=1;tier=0");
    assert_rtx(&sdp->media[1], 47, 48);
    assert_int_equal(sdp->media[0].kind, PARLEY_SDP_AUDIO);
    assert_int_equal(sdp->media[2].kind, PARLEY_SDP_VIDEO);

    free(sdp);
}


static void
test_chromium_screen(void **state)
{
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *cam, *screen;

    (void) state;

    sdp = parse_fixture("chromium-screen-offer.sdp");
    assert_int_equal(sdp->n_media, 3);
    assert_string_equal(sdp->bundle[2], "2");

    cam = &sdp->media[1];
    screen = &sdp->media[2];
    assert_int_equal(screen->kind, PARLEY_SDP_VIDEO);
    assert_string_equal(screen->mid, "2");
    assert_int_equal(screen->dir, PARLEY_SDP_DIR_SENDRECV);

    /* the screen is a stream of its own */
    assert_string_not_equal(screen->msid_stream, cam->msid_stream);
    assert_string_equal(sdp->media[0].msid_stream, cam->msid_stream);
    assert_int_equal(screen->n_ssrcs, 2);
    assert_int_equal(screen->n_ssrc_groups, 1);
    assert_string_equal(screen->ssrcs[0].msid_stream, screen->msid_stream);
    assert_int_equal(screen->n_codecs, 23);
    assert_same_transport(cam, screen);

    free(sdp);
}


static void
test_chromium_datachannel(void **state)
{
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *d;

    (void) state;

    sdp = parse_fixture("chromium-datachannel-offer.sdp");
    assert_int_equal(sdp->n_media, 1);

    d = &sdp->media[0];
    assert_int_equal(d->kind, PARLEY_SDP_APPLICATION);
    assert_string_equal(d->media, "application");
    assert_string_equal(d->proto, "UDP/DTLS/SCTP");
    assert_string_equal(d->fmt, "webrtc-datachannel");
    assert_int_equal(d->n_codecs, 0);
    assert_int_equal(d->sctp_port, 5000);
    assert_int_equal(d->max_message_size, 262144);
    assert_int_equal(d->n_candidates, 4);
    assert_int_equal(d->fingerprint.len, 32);

    free(sdp);

    sdp = parse_fixture("chromium-av-datachannel-offer.sdp");
    assert_int_equal(sdp->n_media, 3);
    assert_int_equal(sdp->media[2].kind, PARLEY_SDP_APPLICATION);
    assert_string_equal(sdp->media[2].mid, "2");
    assert_int_equal(sdp->media[2].sctp_port, 5000);

    free(sdp);
}


/* Chromium's answer to an offer of parley_sdp_offer(): see test_offer */
static void
test_chromium_answer(void **state)
{
    uint32_t                   i;
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *m;

    (void) state;

    sdp = parse_fixture("chromium-answer-to-sfu-offer.sdp");
    assert_int_equal(sdp->n_media, 4);
    assert_int_equal(sdp->n_bundle, 4);

    for (i = 0; i < 4; i++) {
        m = &sdp->media[i];
        assert_int_equal(m->setup, PARLEY_SDP_SETUP_ACTIVE);
        assert_int_equal(m->fingerprint.len, 32);
        assert_same_transport(m, &sdp->media[0]);
    }

    for (i = 0; i < 3; i++) {
        assert_int_equal(sdp->media[i].dir, PARLEY_SDP_DIR_RECVONLY);
    }

    /* the answerer gathers on the BUNDLE transport only */
    assert_int_equal(sdp->media[0].n_candidates, 4);
    assert_int_equal(sdp->media[1].n_candidates, 0);
    assert_int_equal(sdp->media[1].port, 9);

    assert_int_equal(sdp->media[0].n_codecs, 1);
    assert_codec(&sdp->media[0], 111, "opus", 48000, 2);
    assert_int_equal(sdp->media[1].n_codecs, 2);
    assert_rtx(&sdp->media[1], 96, 97);
    assert_rtx(&sdp->media[2], 102, 103);
    assert_int_equal(sdp->media[3].kind, PARLEY_SDP_APPLICATION);
    assert_int_equal(sdp->media[3].sctp_port, 5000);

    free(sdp);
}


/* Firefox's answer to parley_sdp_offer(): it has no H264, so rejects mid 2 */
static void
test_firefox_answer(void **state)
{
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *m;

    (void) state;

    sdp = parse_fixture("firefox-answer-to-sfu-offer.sdp");
    assert_int_equal(sdp->n_media, 4);
    assert_int_equal(sdp->n_bundle, 3);
    assert_string_equal(sdp->bundle[2], "3");

    m = &sdp->media[2];
    assert_int_equal(m->port, 0);
    assert_string_equal(m->mid, "2");
    assert_int_equal(m->dir, PARLEY_SDP_DIR_INACTIVE);
    assert_codec(m, 120, "VP8", 90000, 0);

    m = &sdp->media[0];
    assert_int_equal(m->dir, PARLEY_SDP_DIR_RECVONLY);
    assert_int_equal(m->setup, PARLEY_SDP_SETUP_ACTIVE);
    assert_int_equal(m->fingerprint.len, 32);
    assert_int_equal(m->fingerprint.bytes[0], 0x7b);
    assert_int_equal(m->n_ssrcs, 1);
    assert_int_equal(m->ssrcs[0].cname[0], '{');
    assert_same_transport(m, &sdp->media[1]);
    assert_same_transport(m, &sdp->media[3]);
    assert_rtx(&sdp->media[1], 96, 97);
    assert_int_equal(sdp->media[3].dir, PARLEY_SDP_DIR_SENDRECV);
    assert_int_equal(sdp->media[3].max_message_size, 1073741823);

    free(sdp);
}


static void
test_firefox_av(void **state)
{
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *a, *v;

    (void) state;

    sdp = parse_fixture("firefox-av-offer.sdp");
    assert_int_equal(sdp->n_media, 2);
    assert_int_equal(sdp->n_bundle, 2);
    assert_int_equal(sdp->sess_id, 8501439086419732142ULL);

    a = &sdp->media[0];
    v = &sdp->media[1];

    /* Firefox gives the fingerprint once, at session level */
    assert_int_equal(a->fingerprint.hash, PARLEY_SDP_HASH_SHA256);
    assert_int_equal(a->fingerprint.len, 32);
    assert_int_equal(a->fingerprint.bytes[0], 0x78);
    assert_int_equal(a->fingerprint.bytes[31], 0x80);
    assert_same_transport(a, v);
    assert_true(a->ice_trickle);
    assert_string_equal(a->ice_ufrag, "c133691c");

    assert_int_equal(a->dir, PARLEY_SDP_DIR_SENDRECV);
    assert_true(a->end_of_candidates);
    assert_int_equal(a->n_candidates, 8);
    assert_int_equal(a->candidates[4].component, 2);
    assert_string_equal(a->candidates[0].address,
                        "c8174579-963c-49ee-96cc-2bcafd2b08c5.local");
    assert_true(a->candidates[2].tcp);

    assert_int_equal(a->n_codecs, 5);
    assert_codec(a, 109, "opus", 48000, 2);
    assert_codec(a, 9, "G722", 8000, 1);
    assert_string_equal(codec(a, 109)->fmtp,
                        "maxplaybackrate=48000;stereo=1;useinbandfec=1");
    assert_int_equal(codec(a, 0)->fb, PARLEY_SDP_FB_TRANSPORT_CC);
    assert_int_equal(parley_sdp_extmap_id(a, URI_TWCC), 7);
    assert_int_equal(a->extmaps[1].dir, PARLEY_SDP_DIR_RECVONLY);
    assert_int_equal(a->extmaps[0].dir, PARLEY_SDP_DIR_NONE);

    assert_int_equal(v->n_codecs, 9);
    assert_rtx(v, 120, 124);
    assert_rtx(v, 121, 125);
    assert_rtx(v, 99, 100);
    assert_string_equal(codec(v, 121)->name, "VP9");
    assert_string_equal(codec(v, 121)->fmtp, "max-fs=12288;max-fr=60");
    assert_int_equal(v->n_ssrc_groups, 1);
    assert_int_equal(strlen(v->msid_stream), 38);      /* "{uuid}" */

    free(sdp);
}


/* GStreamer's webrtcbin (Debian's 1.22) sending VP8 and Opus */
static void
test_webrtcbin_av(void **state)
{
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *v, *a;

    (void) state;

    sdp = parse_fixture("webrtcbin-av-offer.sdp");
    assert_int_equal(sdp->n_media, 2);
    assert_int_equal(sdp->n_bundle, 2);
    assert_string_equal(sdp->bundle[0], "video0");

    v = &sdp->media[0];
    a = &sdp->media[1];

    /* its msids have an '@', outside the token-chars: both skipped */
    assert_int_equal(sdp->n_skipped, 2);
    assert_non_null(strstr(sdp->skipped, "a=ssrc: msid"));
    assert_string_equal(v->ssrcs[0].msid_stream, "");

    assert_int_equal(v->kind, PARLEY_SDP_VIDEO);
    assert_string_equal(v->mid, "video0");
    assert_int_equal(v->dir, PARLEY_SDP_DIR_SENDRECV);
    assert_true(v->rtcp_mux_only);
    assert_int_equal(v->n_ssrcs, 1);
    assert_non_null(strchr(v->ssrcs[0].cname, '@'));
    assert_codec(v, 96, "VP8", 90000, 0);
    /* no generic NACK unless the application turns on "do-nack" */
    assert_int_equal(codec(v, 96)->fb, PARLEY_SDP_FB_NACK_PLI
                     | PARLEY_SDP_FB_CCM_FIR | PARLEY_SDP_FB_TRANSPORT_CC);
    assert_int_equal(v->n_extmaps, 0);
    assert_int_equal(v->n_candidates, 0);          /* it trickles them */

    /* the second section rides the BUNDLE transport only */
    assert_int_equal(a->kind, PARLEY_SDP_AUDIO);
    assert_int_equal(a->port, 0);
    assert_true(a->bundle_only);
    assert_codec(a, 111, "OPUS", 48000, 2);
    assert_same_transport(v, a);

    free(sdp);
}


static void
test_firefox_simulcast(void **state)
{
    uint32_t                   i;
    parley_sdp_t              *sdp;
    const parley_sdp_media_t  *v;

    (void) state;

    sdp = parse_fixture("firefox-simulcast-offer.sdp");
    assert_int_equal(sdp->n_media, 2);

    v = &sdp->media[1];
    assert_int_equal(v->dir, PARLEY_SDP_DIR_SENDONLY);
    assert_int_equal(v->n_rids, 3);
    assert_int_equal(v->sim_send.n, 3);
    assert_string_equal(v->sim_send.streams[0].rid, "h");
    assert_string_equal(v->sim_send.streams[2].rid, "l");
    assert_int_equal(parley_sdp_extmap_id(v, URI_RID), 9);

    /* Firefox also announces an SSRC and an rtx SSRC per layer */
    assert_int_equal(v->n_ssrcs, 6);
    assert_int_equal(v->n_ssrc_groups, 3);

    for (i = 0; i < 3; i++) {
        assert_int_equal(v->ssrc_groups[i].semantics, PARLEY_SDP_SSRC_FID);
        assert_int_equal(v->ssrc_groups[i].n, 2);
        assert_string_equal(v->ssrcs[2 * i].cname, v->ssrcs[0].cname);
    }

    free(sdp);
}


static void
test_firefox_datachannel(void **state)
{
    parley_sdp_t  *sdp;

    (void) state;

    sdp = parse_fixture("firefox-datachannel-offer.sdp");
    assert_int_equal(sdp->n_media, 1);
    assert_int_equal(sdp->media[0].kind, PARLEY_SDP_APPLICATION);
    assert_int_equal(sdp->media[0].sctp_port, 5000);
    assert_int_equal(sdp->media[0].max_message_size, 1073741823);
    assert_int_equal(sdp->media[0].fingerprint.len, 32);

    free(sdp);
}


static void
test_lf_line_ends(void **state)
{
    char                *buf, *lf;
    size_t               i, n, len;
    parley_sdp_t        *crlf_sdp, *lf_sdp;
    parley_sdp_error_t   err;

    (void) state;

    buf = read_fixture("chromium-av-offer.sdp", &len);
    lf = malloc(len);
    assert_non_null(lf);

    for (i = 0, n = 0; i < len; i++) {
        if (buf[i] != '\r') {
            lf[n++] = buf[i];
        }
    }

    crlf_sdp = sdp_new();
    lf_sdp = sdp_new();
    assert_int_equal(parse_text(crlf_sdp, buf, len, &err), PARLEY_SDP_OK);
    assert_int_equal(parse_text(lf_sdp, lf, n, &err), PARLEY_SDP_OK);
    assert_memory_equal(crlf_sdp, lf_sdp, sizeof(*lf_sdp));

    free(crlf_sdp);
    free(lf_sdp);
    free(lf);
    free(buf);
}


/* malformed input: the right error on the right line */

#define FP32  "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:" \
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"

#define MINIMAL_HEAD                                                          \
    "v=0\r\n"                                                                 \
    "o=- 1 1 IN IP4 0.0.0.0\r\n"                                              \
    "s=-\r\n"                                                                 \
    "t=0 0\r\n"

#define MINIMAL_GROUP  "a=group:BUNDLE 0\r\n"

static const char  minimal[] =
    MINIMAL_HEAD
    MINIMAL_GROUP
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\n"
    "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
    "a=fingerprint:sha-256 " FP32 "\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sendonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n";

#define MINIMAL_LINES  15


/* minimal + "extra", parsed; extra lines are MINIMAL_LINES + 1 on */
static parley_sdp_rc_t
parse_extra(parley_sdp_t *sdp, const char *extra, size_t extra_len,
    parley_sdp_error_t *err)
{
    char             *buf;
    size_t            len;
    parley_sdp_rc_t   rc;

    len = sizeof(minimal) - 1 + extra_len;
    buf = malloc(len);
    assert_non_null(buf);
    memcpy(buf, minimal, sizeof(minimal) - 1);
    memcpy(buf + sizeof(minimal) - 1, extra, extra_len);

    rc = parley_sdp_parse(sdp, buf, len, 0, err);
    free(buf);

    return rc;
}


#define parse_extra_literal(sdp, lit, err)                                    \
    parse_extra(sdp, lit, sizeof(lit) - 1, err)


static void
expect_error(parley_sdp_t *sdp, const char *extra, parley_sdp_rc_t rc,
    uint32_t line, const char *msg)
{
    char                prefix[32];
    parley_sdp_error_t  err;

    assert_int_equal(parse_extra(sdp, extra, strlen(extra), &err), rc);
    assert_int_equal(err.rc, rc);

    if (err.line != line) {
        fail_msg("\"%s\": error on line %u, not %u (%s)", extra, err.line,
                 line, err.msg);
    }

    snprintf(prefix, sizeof(prefix), "line %u: ", line);
    assert_memory_equal(err.msg, prefix, strlen(prefix));

    if (strstr(err.msg, msg) == NULL) {
        fail_msg("\"%s\" is not about \"%s\"", err.msg, msg);
    }
}


/* "extra" parses, without the one value it gets wrong, noted at "line" */
static void
expect_skipped(parley_sdp_t *sdp, const char *extra, uint32_t line,
    const char *msg)
{
    char                prefix[32];
    parley_sdp_error_t  err;

    assert_int_equal(parse_extra(sdp, extra, strlen(extra), &err),
                     PARLEY_SDP_OK);
    assert_int_equal(sdp->n_skipped, 1);

    snprintf(prefix, sizeof(prefix), "line %u: ", line);
    assert_memory_equal(sdp->skipped, prefix, strlen(prefix));

    if (strstr(sdp->skipped, msg) == NULL
        || strstr(sdp->skipped, "skipped") == NULL)
    {
        fail_msg("\"%s\" is not about \"%s\"", sdp->skipped, msg);
    }
}


static void
test_minimal(void **state)
{
    parley_sdp_rc_t      rc;
    parley_sdp_t        *sdp;
    parley_sdp_error_t   err;

    (void) state;

    sdp = sdp_new();
    assert_int_equal(parse_extra_literal(sdp, "", &err), PARLEY_SDP_OK);
    assert_int_equal(err.rc, PARLEY_SDP_OK);
    assert_int_equal(sdp->n_media, 1);
    assert_codec(&sdp->media[0], 0, "PCMU", 8000, 0);   /* static pt */
    assert_int_equal(sdp->media[0].fingerprint.bytes[16], 0xaa);

    /* unknown attributes and lines are ignored; "*" feedback is for all */
    rc = parse_extra_literal(sdp, "a=x-google-flag:conference\r\n"
                             "a=foo\r\nb=AS:30\r\na=rtcp-fb:* nack\r\n"
                             "a=rtcp-fb:111 nack pli\r\n"
                             "a=rtcp-fb:111 unknown\r\n", &err);
    assert_int_equal(rc, PARLEY_SDP_OK);
    assert_int_equal(codec(&sdp->media[0], 0)->fb, PARLEY_SDP_FB_NACK);
    assert_int_equal(codec(&sdp->media[0], 111)->fb,
                     PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI);

    /* a candidate of a transport other than UDP or TCP is skipped */
    rc = parse_extra_literal(sdp, "a=candidate:1 1 ssltcp 1 10.0.0.1 443 typ "
                             "host\r\na=candidate:2 1 TCP 1 10.0.0.1 9 typ "
                             "host tcptype passive\r\n", &err);
    assert_int_equal(rc, PARLEY_SDP_OK);
    assert_int_equal(sdp->media[0].n_candidates, 1);
    assert_string_equal(sdp->media[0].candidates[0].foundation, "2");
    assert_int_equal(sdp->media[0].candidates[0].tcptype,
                     PARLEY_SDP_TCP_PASSIVE);

    /* an unknown hash is ignored; sha-256 is kept over sha-1 */
    rc = parse_extra_literal(sdp, "a=fingerprint:md5 AA:BB\r\n"
                             "a=fingerprint:SHA-1 00:01:02:03:04:05:06:07:"
                             "08:09:0A:0B:0C:0D:0E:0F:10:11:12:13\r\n", &err);
    assert_int_equal(rc, PARLEY_SDP_OK);
    assert_int_equal(sdp->media[0].fingerprint.hash, PARLEY_SDP_HASH_SHA256);
    assert_int_equal(sdp->media[0].fingerprint.bytes[0], 0xaa);

    /* the last line may lack its line end; blank lines are tolerated */
    assert_int_equal(parse_extra_literal(sdp, "\r\n\na=rtcp-rsize", &err),
                     PARLEY_SDP_OK);
    assert_true(sdp->media[0].rtcp_rsize);

    free(sdp);
}


static void
test_malformed_lines(void **state)
{
    parley_sdp_t  *sdp;

    (void) state;

    sdp = sdp_new();

    expect_error(sdp, "a=rtpmap:300 opus/48000/2\r\n", PARLEY_SDP_ERR_VALUE,
                 16, "a=rtpmap: bad payload type");
    expect_error(sdp, "a=rtpmap:111\r\n", PARLEY_SDP_ERR_SYNTAX, 16,
                 "a=rtpmap: expected");
    expect_error(sdp, "a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCM",
                 PARLEY_SDP_ERR_VALUE, 17, "a=rtpmap: bad encoding");
    expect_error(sdp, "a=rtpmap:0 PCMU/0\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "bad encoding");
    expect_error(sdp, "a=fmtp:x apt=1\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=fmtp: bad payload type");
    expect_error(sdp, "a=fmtp:0 apt=200\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=fmtp: bad apt");
    expect_error(sdp, "a=rtcp-fb:-1 nack\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=rtcp-fb: bad payload type");
    expect_error(sdp, "m=video 9x UDP/TLS/RTP/SAVPF 96\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "m=: bad port");
    expect_error(sdp, "m=video 70000 UDP/TLS/RTP/SAVPF 96\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "m=: bad port");
    expect_error(sdp, "m=video 9 UDP/TLS/RTP/SAVPF 96 abc\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "m=: bad payload type");
    expect_error(sdp, "m=video 9 UDP/TLS/RTP/SAVPF 96 96\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "twice");
    expect_error(sdp, "m=video 9 UDP/TLS/RTP/SAVPF\r\n",
                 PARLEY_SDP_ERR_SYNTAX, 16, "m=: expected");
    expect_error(sdp, "c=IN IP4\r\n", PARLEY_SDP_ERR_SYNTAX, 16, "c=");
    expect_error(sdp, "c=IN IPX 1.2.3.4\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "c=");
    expect_error(sdp, "hello\r\n", PARLEY_SDP_ERR_SYNTAX, 16,
                 "not a <type>=<value> line");
    expect_error(sdp, "A=foo\r\n", PARLEY_SDP_ERR_SYNTAX, 16, "not a");
    expect_error(sdp, "s=again\r\n", PARLEY_SDP_ERR_SYNTAX, 16,
                 "s= inside a media section");
    expect_error(sdp, "a=setup:sideways\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=setup");
    expect_error(sdp, "a=mid:1\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "second mid");
    expect_error(sdp, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n",
                 PARLEY_SDP_ERR_VALUE, 17, "same mid");
    expect_error(sdp, "a=mid:a;b\r\n", PARLEY_SDP_ERR_VALUE, 16, "a=mid");
    expect_error(sdp, "a=extmap:0 urn:x\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=extmap: bad id");
    expect_error(sdp, "a=extmap:3/upwards urn:x\r\n", PARLEY_SDP_ERR_VALUE,
                 16, "a=extmap: bad id or direction");
    expect_error(sdp, "a=extmap:3 urn:x\r\na=extmap:3 urn:y\r\n",
                 PARLEY_SDP_ERR_VALUE, 17, "id 3 twice");
    expect_error(sdp, "a=ssrc:12x cname:a\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=ssrc: bad ssrc");
    expect_error(sdp, "a=ssrc:4294967296 cname:a\r\n", PARLEY_SDP_ERR_VALUE,
                 16, "a=ssrc: bad ssrc");
    expect_error(sdp, "a=ssrc:1\r\n", PARLEY_SDP_ERR_SYNTAX, 16, "a=ssrc");
    expect_error(sdp, "a=ssrc-group:FID 1 x\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=ssrc-group");
    expect_error(sdp, "a=rid:h sideways\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=rid");
    expect_error(sdp, "a=rid:h send\r\na=rid:h send\r\n",
                 PARLEY_SDP_ERR_VALUE, 17, "a=rid: same rid twice");
    expect_error(sdp, "a=simulcast:send h;;l\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=simulcast: bad rid");
    expect_error(sdp, "a=simulcast:sideways h\r\n", PARLEY_SDP_ERR_VALUE,
                 16, "a=simulcast: bad direction");
    expect_error(sdp, "a=rid:h send\r\na=simulcast:send h;m\r\n",
                 PARLEY_SDP_ERR_VALUE, 17, "no a=rid:m send");
    expect_error(sdp, "a=simulcast:recv h\r\na=rid:h send\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "no a=rid:h recv");
    expect_error(sdp, "a=sctp-port:65536\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=sctp-port");
    expect_error(sdp, "a=fingerprint:sha-256 AA:BB\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "not a sha-256 fingerprint");
    expect_error(sdp, "a=fingerprint:sha-1 AA:BB:CC:DD:EE:FF:00:11:22:33:"
                 "44:55:66:77:88:99:AA:BB:CC:DG\r\n", PARLEY_SDP_ERR_VALUE,
                 16, "a=fingerprint");
    expect_error(sdp, "a=fingerprint:sha-256\r\n", PARLEY_SDP_ERR_SYNTAX, 16,
                 "a=fingerprint");
    expect_error(sdp, "a=fingerprint:sha-256 " FP32 ":\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "a=fingerprint");
    expect_error(sdp, "a=fingerprint:sha-256 " FP32 ":AA\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "a=fingerprint");
    expect_error(sdp, "a=ice-ufrag:abc\r\n", PARLEY_SDP_ERR_VALUE, 16,
                 "a=ice-ufrag: must be 4 to 256");
    expect_error(sdp, "a=ice-pwd:abcdefghijklmnopqrstu=\r\n",
                 PARLEY_SDP_ERR_VALUE, 16, "a=ice-pwd: bad character");

    free(sdp);
}


static void
test_error_message(void **state)
{
    parley_sdp_rc_t      rc;
    parley_sdp_t        *sdp;
    parley_sdp_error_t   err;

    (void) state;

    sdp = sdp_new();
    rc = parse_extra_literal(sdp, "a=rtcp-rsize\r\na=rtpmap:1x1 VP8/9\r\n",
                             &err);
    assert_int_equal(rc, PARLEY_SDP_ERR_VALUE);
    assert_string_equal(err.msg, "line 17: a=rtpmap: bad payload type");
    assert_string_equal(parley_sdp_rc_str(err.rc), "bad SDP value");

    free(sdp);
}


static void
test_malformed_session(void **state)
{
    parley_sdp_rc_t      rc;
    parley_sdp_t        *sdp;
    parley_sdp_error_t   err;

    (void) state;

    sdp = sdp_new();

    assert_int_equal(parse_literal(sdp, "", &err), PARLEY_SDP_ERR_MISSING);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.msg, "missing v= line");

    assert_int_equal(parse_literal(sdp, "o=- 1 1 IN IP4 0.0.0.0\r\n", &err),
                     PARLEY_SDP_ERR_MISSING);
    assert_string_equal(err.msg, "line 1: the first line must be v=0");

    assert_int_equal(parse_literal(sdp, "v=1\r\n", &err),
                     PARLEY_SDP_ERR_VALUE);
    assert_int_equal(err.line, 1);

    assert_int_equal(parse_literal(sdp, "v=0\r\nv=0\r\n", &err),
                     PARLEY_SDP_ERR_SYNTAX);
    assert_int_equal(err.line, 2);

    rc = parse_literal(sdp, "v=0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n",
                       &err);
    assert_int_equal(rc, PARLEY_SDP_ERR_MISSING);
    assert_int_equal(err.line, 4);

    rc = parse_literal(sdp, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", &err);
    assert_int_equal(rc, PARLEY_SDP_ERR_MISSING);
    assert_string_equal(err.msg, "missing o=, s= or t= line");

    rc = parse_literal(sdp, "v=0\no=- x 1 IN IP4 0.0.0.0\n", &err);
    assert_int_equal(rc, PARLEY_SDP_ERR_VALUE);
    assert_int_equal(err.line, 2);

    assert_int_equal(parse_literal(sdp, "v=0\no=- 1 1\n", &err),
                     PARLEY_SDP_ERR_SYNTAX);
    assert_int_equal(err.line, 2);

    /* media attributes at session level are ignored, and the reverse */
    rc = parse_literal(sdp, MINIMAL_HEAD "a=rtcp-mux\r\na=mid:9\r\n"
                       "a=rtpmap:111 opus/48000/2\r\na=ssrc:1 cname:x\r\n"
                       "a=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\n"
                       "m=audio 9 RTP/AVP 0\r\na=ice-lite\r\n", &err);
    assert_int_equal(rc, PARLEY_SDP_OK);
    assert_false(sdp->ice_lite);
    assert_string_equal(sdp->media[0].mid, "");
    assert_int_equal(sdp->media[0].n_candidates, 0);

    /* a=group belongs to the session: in a media section it is ignored */
    rc = parse_extra_literal(sdp, "a=group:BUNDLE 0 7\r\n", &err);
    assert_int_equal(rc, PARLEY_SDP_OK);
    assert_int_equal(sdp->n_bundle, 1);

    /* a BUNDLE mid must name a section; reported on the group line */
    rc = parse_literal(sdp, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"
                       "t=0 0\r\na=group:BUNDLE 0 7\r\n"
                       "m=audio 9 RTP/AVP 0\r\na=mid:0\r\n", &err);
    assert_int_equal(rc, PARLEY_SDP_ERR_VALUE);
    assert_string_equal(err.msg,
                        "line 5: a=group: mid \"7\" has no m= section");

    free(sdp);
}


static void
test_nul_and_cr(void **state)
{
    parley_sdp_t        *sdp;
    parley_sdp_error_t   err;

    (void) state;

    sdp = sdp_new();

    assert_int_equal(parse_extra_literal(sdp, "a=mid\0:1\r\n", &err),
                     PARLEY_SDP_ERR_SYNTAX);
    assert_string_equal(err.msg, "line 16: NUL byte");

    assert_int_equal(parse_extra_literal(sdp, "a=rtcp-rsize\r\n\0", &err),
                     PARLEY_SDP_ERR_SYNTAX);
    assert_int_equal(err.line, 17);

    assert_int_equal(parse_extra_literal(sdp, "a=rtcp\rmux\r\n", &err),
                     PARLEY_SDP_ERR_SYNTAX);
    assert_string_equal(err.msg, "line 16: CR inside a line");

    free(sdp);
}


static void
test_limits(void **state)
{
    int                  i;
    char                 extra[4096], *p;
    parley_sdp_t        *sdp;
    parley_sdp_error_t   err;

    (void) state;

    sdp = sdp_new();

    /* PARLEY_SDP_MAX_MEDIA m= sections fit, one more does not */
    p = extra;
    for (i = 1; i < PARLEY_SDP_MAX_MEDIA; i++) {
        p += sprintf(p, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:%d\r\n", i);
    }

    assert_int_equal(parse_extra(sdp, extra, (size_t) (p - extra), &err),
                     PARLEY_SDP_OK);
    assert_int_equal(sdp->n_media, PARLEY_SDP_MAX_MEDIA);

    p += sprintf(p, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    assert_int_equal(parse_extra(sdp, extra, (size_t) (p - extra), &err),
                     PARLEY_SDP_ERR_LIMIT);
    assert_int_equal(err.line,
                     MINIMAL_LINES + 2 * (PARLEY_SDP_MAX_MEDIA - 1) + 1);

    /* 64 payload types fit, 65 do not */
    p = extra + sprintf(extra, "m=video 9 UDP/TLS/RTP/SAVPF");
    for (i = 0; i < PARLEY_SDP_MAX_CODECS; i++) {
        p += sprintf(p, " %d", i + 30);
    }

    strcpy(p, "\r\n");
    assert_int_equal(parse_extra(sdp, extra, strlen(extra), &err),
                     PARLEY_SDP_OK);
    assert_int_equal(sdp->media[1].n_codecs, PARLEY_SDP_MAX_CODECS);

    strcpy(p, " 127\r\n");
    expect_error(sdp, extra, PARLEY_SDP_ERR_LIMIT, 16,
                 "more than 64 payload types");

    /* 8 rids, then one too many */
    p = extra;
    for (i = 0; i <= PARLEY_SDP_MAX_RIDS; i++) {
        p += sprintf(p, "a=rid:r%d send\r\n", i);
    }

    expect_error(sdp, extra, PARLEY_SDP_ERR_LIMIT, 16 + PARLEY_SDP_MAX_RIDS,
                 "a=rid: more than 8");

    /* 16 extmaps, then one too many */
    p = extra;
    for (i = 1; i <= PARLEY_SDP_MAX_EXTMAPS + 1; i++) {
        p += sprintf(p, "a=extmap:%d urn:x:%d\r\n", i, i);
    }

    expect_error(sdp, extra, PARLEY_SDP_ERR_LIMIT,
                 16 + PARLEY_SDP_MAX_EXTMAPS, "a=extmap: more than");

    free(sdp);
}


/*
 * Values the SFU does not use (msid, cname, a peer's candidates) are
 * skipped when malformed, as WebRTC stacks differ there; the rest of the
 * description stands.
 */
static void
test_skipped_values(void **state)
{
    int            i;
    char           extra[4096], *p;
    parley_sdp_t  *sdp;

    (void) state;

    sdp = sdp_new();

    expect_skipped(sdp, "a=candidate:1 1 udp 1 1.2.3.4 9 typ\r\n", 16,
                   "a=candidate: expected 8");
    expect_skipped(sdp, "a=candidate:1 1 udp 1 1.2.3.4 99999 typ host\r\n",
                   16, "a=candidate: bad field");
    expect_skipped(sdp, "a=candidate:1 1 udp 1 1.2.3.4 9 typ nat\r\n", 16,
                   "unknown type");
    expect_skipped(sdp, "a=candidate:1 1 udp 1 1.2.3.4 9 typ host raddr\r\n",
                   16, "without a value");
    expect_skipped(sdp, "a=candidate:1 1 udp 1 a<b 9 typ host\r\n", 16,
                   "bad address");
    assert_int_equal(sdp->media[0].n_candidates, 0);

    /* a good candidate after a bad one is kept, and nothing of the bad */
    expect_skipped(sdp, "a=candidate:1 1 udp 1 1.2.3.4 9 typ nat\r\n"
                   "a=candidate:2 1 udp 7 10.0.0.2 5000 typ host\r\n", 16,
                   "unknown type");
    assert_int_equal(sdp->media[0].n_candidates, 1);
    assert_string_equal(sdp->media[0].candidates[0].foundation, "2");
    assert_string_equal(sdp->media[0].candidates[0].address, "10.0.0.2");
    assert_int_equal(sdp->media[0].candidates[0].port, 5000);

    /* 32 candidates are kept, one more is skipped */
    p = extra;
    for (i = 0; i <= PARLEY_SDP_MAX_CANDIDATES; i++) {
        p += sprintf(p, "a=candidate:%d 1 udp 1 10.0.0.1 %d typ host\r\n", i,
                     i + 1000);
    }

    expect_skipped(sdp, extra, 16 + PARLEY_SDP_MAX_CANDIDATES,
                   "a=candidate: more than 32");
    assert_int_equal(sdp->media[0].n_candidates, PARLEY_SDP_MAX_CANDIDATES);

    /* GStreamer's webrtcbin: '@' is not a token-char (RFC 8830, 4566) */
    expect_skipped(sdp, "a=ssrc:1 msid:user1@host-54e73dbc "
                   "webrtctransceiver0\r\na=ssrc:1 cname:user1@host\r\n", 16,
                   "a=ssrc: msid: not 1 to 64 token-chars");
    assert_int_equal(sdp->media[0].n_ssrcs, 1);
    assert_int_equal(sdp->media[0].ssrcs[0].ssrc, 1);
    assert_string_equal(sdp->media[0].ssrcs[0].msid_stream, "");
    assert_string_equal(sdp->media[0].ssrcs[0].cname, "user1@host");

    expect_skipped(sdp, "a=msid:a@b c\r\n", 16, "a=msid: not 1 to 64");
    assert_string_equal(sdp->media[0].msid_stream, "");
    expect_skipped(sdp, "a=msid:a b@c\r\n", 16, "a=msid: not 1 to 64");
    assert_string_equal(sdp->media[0].msid_track, "");
    expect_skipped(sdp, "a=msid:\r\n", 16, "a=msid: no stream id");

    memcpy(extra, "a=msid:", 7);
    memset(extra + 7, 's', 65);
    strcpy(extra + 72, "\r\n");
    expect_skipped(sdp, extra, 16, "a=msid: not 1 to 64 token-chars");

    memcpy(extra, "a=ssrc:7 cname:", 15);
    memset(extra + 15, 'c', PARLEY_SDP_CNAME_LEN);
    strcpy(extra + 15 + PARLEY_SDP_CNAME_LEN, "\r\n");
    expect_skipped(sdp, extra, 16, "a=ssrc: cname empty or longer than");
    assert_string_equal(sdp->media[0].ssrcs[0].cname, "");

    /* every skipped value is counted; the first one is named */
    assert_int_equal(parse_extra_literal(sdp, "a=msid:a@b c\r\n"
                     "a=candidate:x\r\na=ssrc:2 cname:\r\n", NULL),
                     PARLEY_SDP_OK);
    assert_int_equal(sdp->n_skipped, 3);
    assert_non_null(strstr(sdp->skipped, "line 16: a=msid"));

    /* a value the SFU needs is still refused */
    expect_error(sdp, "a=ssrc:1 msid:a@b c\r\na=ssrc:x cname:y\r\n",
                 PARLEY_SDP_ERR_VALUE, 17, "a=ssrc: bad ssrc");

    free(sdp);
}


static void
test_overlong(void **state)
{
    char           extra[1024];
    parley_sdp_t  *sdp;

    (void) state;

    sdp = sdp_new();

    /* a mid of 32 characters does not fit in PARLEY_SDP_MID_LEN */
    memcpy(extra, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:", 38);
    memset(extra + 38, 'x', PARLEY_SDP_MID_LEN);
    strcpy(extra + 38 + PARLEY_SDP_MID_LEN, "\r\n");
    expect_error(sdp, extra, PARLEY_SDP_ERR_OVERLONG, 17,
                 "a=mid: longer than 31 bytes");

    memcpy(extra, "a=ice-ufrag:", 12);
    memset(extra + 12, 'u', 300);
    strcpy(extra + 312, "\r\n");
    expect_error(sdp, extra, PARLEY_SDP_ERR_VALUE, 16,
                 "a=ice-ufrag: must be 4 to 256 characters");

    memcpy(extra, "a=fmtp:111 ", 11);
    memset(extra + 11, 'f', PARLEY_SDP_FMTP_LEN);
    strcpy(extra + 11 + PARLEY_SDP_FMTP_LEN, "\r\n");
    expect_error(sdp, extra, PARLEY_SDP_ERR_OVERLONG, 16,
                 "a=fmtp: longer than");

    memcpy(extra, "a=rtpmap:0 ", 11);
    memset(extra + 11, 'n', 40);
    strcpy(extra + 51, "/8000\r\n");
    expect_error(sdp, extra, PARLEY_SDP_ERR_OVERLONG, 16,
                 "encoding name: longer than");

    free(sdp);
}


static void
test_too_big(void **state)
{
    char                *buf;
    size_t               len;
    parley_sdp_t        *sdp;
    parley_sdp_error_t   err;

    (void) state;

    sdp = sdp_new();
    buf = read_fixture("chromium-recvonly-offer.sdp", &len);

    assert_int_equal(parley_sdp_parse(sdp, buf, len, len, &err),
                     PARLEY_SDP_OK);
    assert_int_equal(parley_sdp_parse(sdp, buf, len, len - 1, &err),
                     PARLEY_SDP_ERR_TOO_BIG);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.msg, "over the limit"));

    free(buf);

    /* the default limit is 64 KiB */
    buf = calloc(1, PARLEY_SDP_DEFAULT_MAX_LEN + 1);
    assert_non_null(buf);
    memcpy(buf, minimal, sizeof(minimal) - 1);
    memset(buf + sizeof(minimal) - 1, '\n',
           PARLEY_SDP_DEFAULT_MAX_LEN + 1 - (sizeof(minimal) - 1));

    assert_int_equal(parley_sdp_parse(sdp, buf, PARLEY_SDP_DEFAULT_MAX_LEN,
                                      0, &err), PARLEY_SDP_OK);
    assert_int_equal(parley_sdp_parse(sdp, buf,
                                      PARLEY_SDP_DEFAULT_MAX_LEN + 1, 0,
                                      &err), PARLEY_SDP_ERR_TOO_BIG);

    assert_int_equal(parley_sdp_parse(NULL, buf, 1, 0, &err),
                     PARLEY_SDP_ERR_INVAL);
    assert_int_equal(parley_sdp_parse(sdp, NULL, 1, 0, NULL),
                     PARLEY_SDP_ERR_INVAL);

    free(buf);
    free(sdp);
}


/* the SFU's answer */

static int
allowed_codec(const char *name)
{
    /* encoding names are case-insensitive (RFC 4855 3) */
    return strcasecmp(name, "opus") == 0 || strcasecmp(name, "VP8") == 0
           || strcasecmp(name, "H264") == 0 || strcasecmp(name, "VP9") == 0
           || strcasecmp(name, "AV1") == 0 || strcasecmp(name, "rtx") == 0;
}


static parley_sdp_dir_t
reversed(parley_sdp_dir_t dir)
{
    switch (dir) {
    case PARLEY_SDP_DIR_SENDONLY:
    case PARLEY_SDP_DIR_SENDRECV:
        return PARLEY_SDP_DIR_RECVONLY;
    case PARLEY_SDP_DIR_RECVONLY:
        return PARLEY_SDP_DIR_SENDONLY;
    default:
        return PARLEY_SDP_DIR_INACTIVE;
    }
}


static void
assert_answer_section(const parley_sdp_media_t *am,
    const parley_sdp_media_t *om)
{
    uint32_t                   i, j;
    const parley_sdp_codec_t  *c;

    assert_string_equal(am->mid, om->mid);
    assert_int_equal(am->kind, om->kind);
    assert_int_equal(am->port, 40000);
    assert_string_equal(am->conn, "127.0.0.1");
    assert_string_equal(am->ice_ufrag, "pRly");
    assert_string_equal(am->ice_pwd, "parley+ice/password0123");
    assert_int_equal(am->fingerprint.hash, PARLEY_SDP_HASH_SHA256);
    assert_int_equal(am->fingerprint.len, 32);
    assert_int_equal(am->fingerprint.bytes[31], 0xa0 + 31);
    assert_int_equal(am->setup, PARLEY_SDP_SETUP_PASSIVE);
    assert_true(am->end_of_candidates);
    assert_int_equal(am->n_candidates, 3);
    assert_string_equal(am->candidates[1].address, "::1");
    assert_true(am->candidates[2].tcp);
    assert_int_equal(am->candidates[2].tcptype, PARLEY_SDP_TCP_PASSIVE);
    assert_true(am->candidates[0].priority > am->candidates[1].priority);
    assert_true(am->candidates[1].priority > am->candidates[2].priority);

    if (am->kind == PARLEY_SDP_APPLICATION) {
        assert_int_equal(am->sctp_port, 5000);
        return;
    }

    assert_int_equal(am->dir, reversed(om->dir));
    assert_true(am->rtcp_mux);
    assert_int_equal(am->rtcp_rsize, om->rtcp_rsize);
    assert_true(am->n_codecs > 0);

    for (i = 0; i < am->n_codecs; i++) {
        c = &am->codecs[i];
        assert_true(allowed_codec(c->name));

        /* the offer's payload type for the same format */
        assert_string_equal(codec(om, c->pt)->name, c->name);
        assert_int_equal(c->fb & ~codec(om, c->pt)->fb, 0);

        if (strcmp(c->name, "H264") == 0) {
            assert_non_null(strstr(c->fmtp, "packetization-mode=1"));
            assert_non_null(strstr(c->fmtp, "profile-level-id=42e01f"));
        }

        if (strcmp(c->name, "rtx") == 0) {
            assert_int_equal(codec(am, c->apt)->rtx_pt, c->pt);
        }
    }

    for (i = 0; i < am->n_extmaps; i++) {
        for (j = 0; j < sizeof(extmaps) / sizeof(extmaps[0]); j++) {
            if (strcmp(extmaps[j].uri, am->extmaps[i].uri) == 0) {
                break;
            }
        }

        assert_true(j < sizeof(extmaps) / sizeof(extmaps[0]));
        assert_int_equal(am->extmaps[i].id,
                         parley_sdp_extmap_id(om, am->extmaps[i].uri));
    }
}


static void
check_answer(const char *name, uint32_t accepted)
{
    uint32_t       i, n;
    parley_sdp_t  *offer, *answer;

    answer = answer_fixture(name, &offer);

    assert_true(answer->ice_lite);
    assert_int_equal(answer->n_media, offer->n_media);
    assert_int_equal(answer->sess_id, 1234567890123ULL);

    for (i = 0, n = 0; i < answer->n_media; i++) {
        if (answer->media[i].port == 0) {
            assert_string_equal(answer->media[i].mid, offer->media[i].mid);
            continue;
        }

        assert_answer_section(&answer->media[i], &offer->media[i]);
        assert_string_equal(answer->bundle[n], answer->media[i].mid);
        n++;
    }

    assert_int_equal(n, accepted);
    assert_int_equal(answer->n_bundle, accepted);

    free(answer);
    free(offer);
}


static void
test_answer_fixtures(void **state)
{
    (void) state;

    check_answer("chromium-av-offer.sdp", 2);
    check_answer("chromium-simulcast-offer.sdp", 2);
    check_answer("chromium-recvonly-offer.sdp", 3);
    check_answer("chromium-screen-offer.sdp", 3);
    check_answer("chromium-datachannel-offer.sdp", 1);
    check_answer("chromium-av-datachannel-offer.sdp", 3);
    check_answer("firefox-av-offer.sdp", 2);
    check_answer("firefox-simulcast-offer.sdp", 2);
    check_answer("firefox-datachannel-offer.sdp", 1);
    check_answer("webrtcbin-av-offer.sdp", 2);
}


static void
test_answer_codecs(void **state)
{
    parley_sdp_t              *answer;
    const parley_sdp_media_t  *a, *v;

    (void) state;

    answer = answer_fixture("chromium-av-offer.sdp", NULL);
    a = &answer->media[0];
    v = &answer->media[1];

    /* opus only: red, G722, PCMU, CN, telephone-event are not allowed */
    assert_int_equal(a->n_codecs, 1);
    assert_codec(a, 111, "opus", 48000, 2);
    assert_string_equal(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(a->codecs[0].fb, PARLEY_SDP_FB_TRANSPORT_CC);
    assert_int_equal(a->n_extmaps, 4);

    /* in the SFU's order, each with its rtx; H264 is 108, not 102 */
    assert_int_equal(v->n_codecs, 8);
    assert_int_equal(v->codecs[0].pt, 96);
    assert_int_equal(v->codecs[1].pt, 97);
    assert_int_equal(v->codecs[2].pt, 108);
    assert_int_equal(v->codecs[3].pt, 109);
    assert_int_equal(v->codecs[4].pt, 98);
    assert_int_equal(v->codecs[6].pt, 45);
    assert_rtx(v, 108, 109);
    assert_int_equal(codec(v, 108)->fb, FB_ALL);
    assert_null(parley_sdp_find_codec(v, 102));
    assert_null(parley_sdp_find_codec(v, 100));     /* VP9 profile 2 */
    assert_null(parley_sdp_find_codec(v, 118));     /* red */

    /* toffset, video-orientation and others are not in the allow-list */
    assert_int_equal(v->n_extmaps, 5);
    assert_int_equal(parley_sdp_extmap_id(v, URI_RID), 10);
    assert_int_equal(parley_sdp_extmap_id(v, URI_MID), 4);
    assert_int_equal(v->n_rids, 0);
    assert_int_equal(v->sim_recv.n, 0);
    assert_int_equal(v->n_ssrcs, 0);

    free(answer);

    /* Firefox names no VP9 profile: profile 0 is implied */
    answer = answer_fixture("firefox-av-offer.sdp", NULL);
    v = &answer->media[1];
    assert_int_equal(v->n_codecs, 6);
    assert_rtx(v, 121, 125);
    assert_rtx(v, 99, 100);
    assert_int_equal(v->extmaps[0].dir, PARLEY_SDP_DIR_NONE);
    assert_int_equal(answer->media[0].n_codecs, 1);
    assert_codec(&answer->media[0], 109, "opus", 48000, 2);

    free(answer);
}


static void
test_answer_simulcast(void **state)
{
    uint32_t                   i;
    parley_sdp_t              *answer;
    const parley_sdp_media_t  *v;

    (void) state;

    answer = answer_fixture("chromium-simulcast-offer.sdp", NULL);
    v = &answer->media[1];
    assert_int_equal(v->dir, PARLEY_SDP_DIR_RECVONLY);
    assert_int_equal(v->n_rids, 3);
    assert_int_equal(v->sim_recv.n, 3);
    assert_int_equal(v->sim_send.n, 0);

    for (i = 0; i < 3; i++) {
        assert_int_equal(v->rids[i].dir, PARLEY_SDP_DIR_RECVONLY);
        assert_string_equal(v->sim_recv.streams[i].rid, v->rids[i].id);
    }

    assert_string_equal(v->rids[0].id, "h");
    assert_string_equal(v->rids[2].id, "l");
    assert_int_equal(parley_sdp_extmap_id(v, URI_RRID), 11);

    free(answer);

    /* Firefox's rid extensions are sendonly: received, they are recvonly */
    answer = answer_fixture("firefox-simulcast-offer.sdp", NULL);
    v = &answer->media[1];
    assert_int_equal(v->sim_recv.n, 3);
    assert_int_equal(v->n_rids, 3);
    assert_int_equal(parley_sdp_extmap_id(v, URI_RID), 9);

    for (i = 0; i < v->n_extmaps; i++) {
        if (v->extmaps[i].id == 9) {
            assert_int_equal(v->extmaps[i].dir, PARLEY_SDP_DIR_RECVONLY);
        }
    }

    free(answer);
}


/*
 * Answers minimal + "extra" with "local", its a=group line replaced by
 * "group" unless NULL; checks the result code.
 */
static parley_sdp_t *
answer_text(const char *group, const char *extra,
    const parley_sdp_local_t *local, parley_sdp_rc_t expect,
    parley_sdp_error_t *err)
{
    char           *text;
    size_t          len;
    parley_sdp_t   *offer, *answer, *back;

    len = sizeof(minimal) + strlen(extra) + (group ? strlen(group) : 0);
    text = malloc(len);
    assert_non_null(text);

    if (group == NULL) {
        snprintf(text, len, "%s%s", minimal, extra);

    } else {
        snprintf(text, len, "%s%s%s%s", MINIMAL_HEAD, group,
                 minimal + sizeof(MINIMAL_HEAD MINIMAL_GROUP) - 1, extra);
    }

    offer = sdp_new();
    answer = sdp_new();

    assert_int_equal(parse_text(offer, text, strlen(text), err),
                     PARLEY_SDP_OK);
    free(text);
    assert_int_equal(parley_sdp_answer(answer, offer, local, err), expect);
    free(offer);

    if (expect != PARLEY_SDP_OK) {
        free(answer);
        return NULL;
    }

    back = write_and_parse(answer);
    free(answer);

    return back;
}


static void
test_answer_rejects(void **state)
{
    parley_sdp_t        *answer;
    parley_sdp_error_t   err;
    parley_sdp_local_t   local;

    (void) state;

    local_init(&local);

    /*
     * mid 1: no codec the SFU takes; mid 2: a kind it does not know;
     * mid 3: disabled by the offerer; mid 4: not in the BUNDLE group;
     * mid 5: no rtcp-mux (RFC 8858)
     */
    answer = answer_text("a=group:BUNDLE 0 1 2 3 5\r\n",
                         "m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\na=mid:1\r\n"
                         "a=rtcp-mux\r\n"
                         "m=text 9 UDP/TLS/RTP/SAVPF 98\r\na=mid:2\r\n"
                         "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:3\r\n"
                         "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
                         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:4\r\n"
                         "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
                         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:5\r\n"
                         "a=rtpmap:111 opus/48000/2\r\n",
                         &local, PARLEY_SDP_OK, &err);

    assert_int_equal(answer->n_media, 6);
    assert_int_equal(answer->media[0].port, 40000);
    assert_int_equal(answer->media[0].dir, PARLEY_SDP_DIR_RECVONLY);
    assert_int_equal(answer->n_bundle, 1);
    assert_string_equal(answer->bundle[0], "0");

    assert_int_equal(answer->media[1].port, 0);
    assert_string_equal(answer->media[1].mid, "1");
    assert_int_equal(answer->media[1].n_codecs, 1);     /* one fmt kept */
    assert_int_equal(answer->media[1].codecs[0].pt, 0);
    assert_int_equal(answer->media[2].port, 0);
    assert_string_equal(answer->media[2].media, "text");
    assert_int_equal(answer->media[3].port, 0);
    assert_int_equal(answer->media[4].port, 0);
    assert_int_equal(answer->media[5].port, 0);
    assert_int_equal(answer->media[5].n_candidates, 0);

    free(answer);

    /* bundle-only: port 0, yet not disabled */
    answer = answer_text("a=group:BUNDLE 0 1\r\n",
                         "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n"
                         "a=bundle-only\r\na=rtcp-mux\r\n"
                         "a=rtpmap:111 opus/48000/2\r\n",
                         &local, PARLEY_SDP_OK, &err);
    assert_int_equal(answer->media[1].port, 40000);
    assert_int_equal(answer->n_bundle, 2);
    assert_false(answer->media[1].bundle_only);
    free(answer);

    /* without data channels configured, the data section is rejected */
    local.sctp_port = 0;
    answer = answer_text("a=group:BUNDLE 0 1\r\n",
                         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                         "a=mid:1\r\na=sctp-port:5000\r\n",
                         &local, PARLEY_SDP_OK, &err);
    assert_int_equal(answer->media[1].port, 0);
    assert_string_equal(answer->media[1].fmt, "webrtc-datachannel");
    assert_int_equal(answer->n_bundle, 1);
    free(answer);
}


static void
test_answer_no_bundle(void **state)
{
    char                *buf;
    size_t               len;
    parley_sdp_t        *offer, *answer;
    parley_sdp_error_t   err;
    parley_sdp_local_t   local;

    (void) state;

    local_init(&local);

    /* the av offer without its a=group line: only mid 0 is taken */
    buf = read_fixture("chromium-av-offer.sdp", &len);
    memcpy(strstr(buf, "a=group:BUNDLE"), "a=x-not-a-group", 15);

    offer = sdp_new();
    answer = sdp_new();
    assert_int_equal(parse_text(offer, buf, len, &err), PARLEY_SDP_OK);
    assert_int_equal(offer->n_bundle, 0);
    assert_int_equal(parley_sdp_answer(answer, offer, &local, &err),
                     PARLEY_SDP_OK);

    assert_int_equal(answer->n_bundle, 0);
    assert_int_equal(answer->media[0].port, 40000);
    assert_int_equal(answer->media[1].port, 0);

    free(answer);
    free(offer);
    free(buf);
}


static void
test_answer_options(void **state)
{
    parley_sdp_t        *answer;
    parley_sdp_error_t   err;
    parley_sdp_local_t   local;

    (void) state;

    local_init(&local);
    local.answer_sendrecv = 1;

    answer = answer_fixture("chromium-recvonly-offer.sdp", NULL);
    assert_int_equal(answer->media[0].dir, PARLEY_SDP_DIR_SENDONLY);
    free(answer);

    answer = answer_text(NULL, "a=sendrecv\r\n", &local, PARLEY_SDP_OK, &err);
    assert_int_equal(answer->media[0].dir, PARLEY_SDP_DIR_SENDRECV);
    free(answer);

    /* an allowed extension is taken only for the kinds it is allowed in */
    answer = answer_text(NULL, "a=extmap:5 " URI_RID "\r\n"
                         "a=extmap:6 " URI_LEVEL "\r\n",
                         &local, PARLEY_SDP_OK, &err);
    assert_int_equal(answer->media[0].n_extmaps, 1);
    assert_int_equal(parley_sdp_extmap_id(&answer->media[0], URI_LEVEL), 6);
    free(answer);

    /* feedback is what both sides have: here the SFU does NACKs only */
    local.codecs = nack_only;
    local.n_codecs = 1;
    answer = answer_fixture_with("chromium-av-offer.sdp", &local);
    assert_int_equal(answer->media[0].port, 0);         /* no opus here */
    assert_int_equal(answer->media[1].n_codecs, 1);     /* nor VP8 rtx */
    assert_int_equal(answer->media[1].codecs[0].fb,
                     PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI);
    assert_int_equal(answer->media[1].codecs[0].rtx_pt, PARLEY_SDP_NO_PT);
    assert_string_equal(answer->bundle[0], "1");
    free(answer);

    local_init(&local);
    local.answer_sendrecv = 1;

    /* an offerer that wants to be the DTLS server makes the SFU client */
    answer = answer_text(NULL, "a=setup:passive\r\n", &local, PARLEY_SDP_OK,
                         &err);
    assert_int_equal(answer->media[0].setup, PARLEY_SDP_SETUP_ACTIVE);
    free(answer);

    /*
     * H264 without packetization-mode means mode 0: not taken; names and
     * values match in any case
     */
    answer = answer_text("a=group:BUNDLE 0 1\r\n",
                         "m=video 9 UDP/TLS/RTP/SAVPF 100 101\r\na=mid:1\r\n"
                         "a=rtcp-mux\r\na=rtpmap:100 H264/90000\r\n"
                         "a=fmtp:100 profile-level-id=42e01f\r\n"
                         "a=rtpmap:101 h264/90000\r\n"
                         "a=fmtp:101 profile-level-id=42E01F; "
                         "packetization-mode=1\r\n",
                         &local, PARLEY_SDP_OK, &err);
    assert_int_equal(answer->media[1].n_codecs, 1);
    assert_int_equal(answer->media[1].codecs[0].pt, 101);
    free(answer);
}


static void
test_answer_errors(void **state)
{
    parley_sdp_rc_t      rc;
    parley_sdp_t        *offer, *answer;
    parley_sdp_error_t   err;
    parley_sdp_local_t   local;

    (void) state;

    local_init(&local);

    /* the offer's transport must be complete: no fingerprint here */
    offer = sdp_new();
    answer = sdp_new();
    rc = parse_literal(offer, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"
                       "s=-\r\nt=0 0\r\n"
                       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                       "a=ice-ufrag:abcd\r\n"
                       "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                       "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n", &err);
    assert_int_equal(rc, PARLEY_SDP_OK);
    assert_int_equal(parley_sdp_answer(answer, offer, &local, &err),
                     PARLEY_SDP_ERR_MISSING);
    assert_int_equal(err.line, 5);

    /* a bad configuration is the caller's error */
    assert_int_equal(parse_extra_literal(offer, "", &err), PARLEY_SDP_OK);
    local.ice_ufrag = "no spaces";
    assert_int_equal(parley_sdp_answer(answer, offer, &local, &err),
                     PARLEY_SDP_ERR_INVAL);

    local_init(&local);
    local.n_hosts = 0;
    assert_int_equal(parley_sdp_answer(answer, offer, &local, &err),
                     PARLEY_SDP_ERR_INVAL);

    local_init(&local);
    assert_int_equal(parley_sdp_answer(answer, answer, &local, &err),
                     PARLEY_SDP_ERR_INVAL);
    assert_int_equal(parley_sdp_answer(answer, offer, NULL, &err),
                     PARLEY_SDP_ERR_INVAL);

    free(answer);
    free(offer);
}


static void
test_write_buffer_too_small(void **state)
{
    char                *buf;
    size_t               len, size, got;
    parley_sdp_t        *offer, *answer;
    parley_sdp_error_t   err;
    parley_sdp_local_t   local;

    (void) state;

    local_init(&local);
    offer = parse_fixture("chromium-simulcast-offer.sdp");
    answer = sdp_new();
    assert_int_equal(parley_sdp_answer(answer, offer, &local, &err),
                     PARLEY_SDP_OK);

    buf = malloc(8192);
    assert_non_null(buf);
    assert_int_equal(parley_sdp_write(answer, buf, 8192, &len),
                     PARLEY_SDP_OK);

    /* every size short of the text and its NUL fails, cleanly */
    for (size = 0; size <= len; size++) {
        got = 12345;
        assert_int_equal(parley_sdp_write(answer, buf, size, &got),
                         PARLEY_SDP_ERR_NOSPACE);
        assert_int_equal(got, 12345);

        if (size > 0) {
            assert_int_equal(buf[0], '\0');
        }
    }

    assert_int_equal(parley_sdp_write(answer, buf, len + 1, &got),
                     PARLEY_SDP_OK);
    assert_int_equal(got, len);
    assert_int_equal(buf[len], '\0');
    assert_int_equal(parley_sdp_write(answer, NULL, 100, &got),
                     PARLEY_SDP_ERR_INVAL);

    free(buf);
    free(answer);
    free(offer);
}


/* the SFU's offer */

static const parley_sdp_track_t  tracks[] = {
    { PARLEY_SDP_AUDIO, "0", &codecs[0], 1001, 0, "alice-cname", "alice",
      "alice-mic" },
    { PARLEY_SDP_VIDEO, "1", &codecs[1], 2001, 2002, "alice-cname", "alice",
      "alice-cam" },
    { PARLEY_SDP_VIDEO, "v2", &codecs[2], 0, 0, NULL, NULL, NULL },
    { PARLEY_SDP_APPLICATION, "data", NULL, 0, 0, NULL, NULL, NULL }
};


static void
test_offer(void **state)
{
    parley_sdp_t              *offer, *back;
    parley_sdp_error_t         err;
    parley_sdp_local_t         local;
    const parley_sdp_media_t  *a, *v, *idle, *d;

    (void) state;

    local_init(&local);
    offer = sdp_new();
    assert_int_equal(parley_sdp_offer(offer, &local, tracks, 4, &err),
                     PARLEY_SDP_OK);

    back = write_and_parse(offer);
    assert_true(back->ice_lite);
    assert_int_equal(back->n_media, 4);
    assert_int_equal(back->n_bundle, 4);
    assert_string_equal(back->bundle[3], "data");

    a = &back->media[0];
    assert_int_equal(a->setup, PARLEY_SDP_SETUP_ACTPASS);
    assert_int_equal(a->dir, PARLEY_SDP_DIR_SENDONLY);
    assert_int_equal(a->n_codecs, 1);
    assert_codec(a, 111, "opus", 48000, 2);
    assert_string_equal(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(a->n_ssrcs, 1);
    assert_int_equal(a->ssrcs[0].ssrc, 1001);
    assert_string_equal(a->ssrcs[0].cname, "alice-cname");
    assert_string_equal(a->ssrcs[0].msid_track, "alice-mic");
    assert_string_equal(a->msid_stream, "alice");
    assert_int_equal(parley_sdp_extmap_id(a, URI_LEVEL), 1);
    assert_int_equal(parley_sdp_extmap_id(a, URI_RID), 0);
    assert_true(a->rtcp_mux);
    assert_true(a->rtcp_rsize);
    assert_int_equal(a->n_candidates, 3);

    v = &back->media[1];
    assert_int_equal(v->n_codecs, 2);
    assert_rtx(v, 96, 97);
    assert_int_equal(codec(v, 96)->fb, FB_ALL);
    assert_int_equal(v->n_ssrcs, 2);
    assert_int_equal(v->n_ssrc_groups, 1);
    assert_int_equal(v->ssrc_groups[0].semantics, PARLEY_SDP_SSRC_FID);
    assert_int_equal(v->ssrc_groups[0].ssrcs[0], 2001);
    assert_int_equal(v->ssrc_groups[0].ssrcs[1], 2002);
    assert_string_equal(v->ssrcs[1].msid_stream, "alice");
    assert_int_equal(parley_sdp_extmap_id(v, URI_RID), 10);

    /* a transceiver with nothing to send yet */
    idle = &back->media[2];
    assert_string_equal(idle->mid, "v2");
    assert_int_equal(idle->dir, PARLEY_SDP_DIR_INACTIVE);
    assert_int_equal(idle->n_ssrcs, 0);
    assert_string_equal(codec(idle, 102)->fmtp, codecs[2].fmtp);

    d = &back->media[3];
    assert_int_equal(d->kind, PARLEY_SDP_APPLICATION);
    assert_string_equal(d->fmt, "webrtc-datachannel");
    assert_int_equal(d->sctp_port, 5000);
    assert_int_equal(d->max_message_size, 262144);
    assert_same_transport(a, d);

    free(back);
    free(offer);
}


static void
test_offer_errors(void **state)
{
    parley_sdp_t        *offer;
    parley_sdp_error_t   err;
    parley_sdp_local_t   local;
    parley_sdp_track_t   bad[2];

    (void) state;

    local_init(&local);
    offer = sdp_new();

    bad[0] = tracks[0];
    bad[1] = tracks[1];
    bad[1].mid = "0";
    assert_int_equal(parley_sdp_offer(offer, &local, bad, 2, &err),
                     PARLEY_SDP_ERR_INVAL);
    assert_string_equal(err.msg, "track 1: same mid as track 0");

    bad[1] = tracks[1];
    bad[1].track_id = "two words";
    assert_int_equal(parley_sdp_offer(offer, &local, bad, 2, &err),
                     PARLEY_SDP_ERR_INVAL);

    bad[1] = tracks[1];
    bad[1].codec = NULL;
    assert_int_equal(parley_sdp_offer(offer, &local, bad, 2, &err),
                     PARLEY_SDP_ERR_INVAL);

    bad[1] = tracks[1];
    bad[1].mid = "line\r\nbreak";
    assert_int_equal(parley_sdp_offer(offer, &local, bad, 2, &err),
                     PARLEY_SDP_ERR_INVAL);

    local.sctp_port = 0;
    assert_int_equal(parley_sdp_offer(offer, &local, tracks, 4, &err),
                     PARLEY_SDP_ERR_INVAL);
    assert_int_equal(parley_sdp_offer(offer, &local, tracks, 0, &err),
                     PARLEY_SDP_ERR_INVAL);

    free(offer);
}


/* write(parse(x)) parses back to the same description, for every fixture */
static void
test_write_round_trip(void **state)
{
    size_t         i, j;
    parley_sdp_t  *sdp, *back;

    static const char  *names[] = {
        "chromium-av-offer.sdp", "chromium-simulcast-offer.sdp",
        "chromium-recvonly-offer.sdp", "chromium-screen-offer.sdp",
        "chromium-datachannel-offer.sdp",
        "chromium-av-datachannel-offer.sdp",
        "chromium-answer-to-sfu-offer.sdp",
        "firefox-answer-to-sfu-offer.sdp", "firefox-av-offer.sdp",
        "firefox-simulcast-offer.sdp", "firefox-datachannel-offer.sdp"
    };

    (void) state;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        sdp = parse_fixture(names[i]);
        back = write_and_parse(sdp);

        /* the m= lines' order of lines is not kept */
        for (j = 0; j < sdp->n_media; j++) {
            back->media[j].line = sdp->media[j].line;
        }

        assert_memory_equal(sdp, back, sizeof(*sdp));

        free(back);
        free(sdp);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_chromium_av),
        cmocka_unit_test(test_chromium_simulcast),
        cmocka_unit_test(test_chromium_recvonly),
        cmocka_unit_test(test_chromium_screen),
        cmocka_unit_test(test_chromium_datachannel),
        cmocka_unit_test(test_chromium_answer),
        cmocka_unit_test(test_firefox_answer),
        cmocka_unit_test(test_firefox_av),
        cmocka_unit_test(test_firefox_simulcast),
        cmocka_unit_test(test_webrtcbin_av),
        cmocka_unit_test(test_firefox_datachannel),
        cmocka_unit_test(test_lf_line_ends),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_skipped_values),
        cmocka_unit_test(test_error_message),
        cmocka_unit_test(test_malformed_session),
        cmocka_unit_test(test_nul_and_cr),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_answer_fixtures),
        cmocka_unit_test(test_answer_codecs),
        cmocka_unit_test(test_answer_simulcast),
        cmocka_unit_test(test_answer_rejects),
        cmocka_unit_test(test_answer_no_bundle),
        cmocka_unit_test(test_answer_options),
        cmocka_unit_test(test_answer_errors),
        cmocka_unit_test(test_write_buffer_too_small),
        cmocka_unit_test(test_offer),
        cmocka_unit_test(test_offer_errors),
        cmocka_unit_test(test_write_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
