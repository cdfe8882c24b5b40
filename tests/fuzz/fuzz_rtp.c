/*
 * libFuzzer target: the RTP side of the receive path. The datagram goes
 * through the demultiplexer, the RTP header parser, every extension reader,
 * the payload descriptors, the in-place rewriters, RTX wrap and unwrap and
 * the receiver statistics.
 *
 * Besides what ASan and UBSan catch, it checks that what the code promises
 * holds: elements lie inside the extension block, a rewrite changes only
 * what it should, and RTX unwrap gives back what wrap was given.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley_demux.h"
#include "parley_rtp.h"
#include "parley_codec.h"


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static parley_rtp_stats_t  stats;
static uint64_t            now_us;


static void
fuzz_extensions(const uint8_t *buf, size_t len, const parley_rtp_header_t *h)
{
    size_t                    slen;
    unsigned                  id;
    uint16_t                  seq;
    uint32_t                  ast;
    const uint8_t            *s;
    parley_rtp_ext_t          e;
    parley_rtp_ext_iter_t     it;
    parley_rtp_audio_level_t  al;

    parley_rtp_ext_iter_init(h, &it);

    while (parley_rtp_ext_next(buf, len, &it, &e) == PARLEY_RTP_OK) {
        CHECK(e.id != 0);
        CHECK(e.offset >= h->ext_offset);
        CHECK(e.offset + e.len <= h->ext_offset + h->ext_len);
    }

    for (id = 1; id <= 16; id++) {
        (void) parley_rtp_ext_string(buf, len, h, (uint8_t) id, &s, &slen);
        (void) parley_rtp_ext_audio_level(buf, len, h, (uint8_t) id, &al);
        (void) parley_rtp_ext_abs_send_time(buf, len, h, (uint8_t) id, &ast);
        (void) parley_rtp_ext_twcc_seq(buf, len, h, (uint8_t) id, &seq);
    }

    (void) parley_rtp_ext_find(buf, len, h, 255, &e);
}


static void
fuzz_payload(const uint8_t *buf, const parley_rtp_header_t *h)
{
    unsigned           key;
    uint8_t           *copy;
    const uint8_t     *p;
    parley_vp8_desc_t  d, d2;

    p = buf + h->payload_offset;

    (void) parley_h264_keyframe(p, h->payload_len, &key);
    (void) parley_vp9_keyframe(p, h->payload_len, &key);
    (void) parley_av1_keyframe(p, h->payload_len, &key);

    if (parley_vp8_parse(p, h->payload_len, &d) != PARLEY_RTP_OK) {
        return;
    }

    CHECK(d.header_len < h->payload_len);

    /* rewriting PictureID and TL0PICIDX moves nothing else */
    copy = malloc(h->payload_len);
    CHECK(copy != NULL);
    memcpy(copy, p, h->payload_len);

    (void) parley_vp8_set_picture_id(copy, h->payload_len, &d, 0x1234);
    (void) parley_vp8_set_tl0picidx(copy, h->payload_len, &d, 0x56);
    CHECK(parley_vp8_parse(copy, h->payload_len, &d2) == PARLEY_RTP_OK);
    CHECK(d2.header_len == d.header_len);
    CHECK(d2.keyframe == d.keyframe);
    CHECK(!d.has_picture_id
          || d2.picture_id == (d.picture_id_bits == 15 ? 0x1234 : 0x34));
    CHECK(!d.has_tl0picidx || d2.tl0picidx == 0x56);

    free(copy);
}


static void
fuzz_rewrite(const uint8_t *data, size_t size, const parley_rtp_header_t *h)
{
    unsigned             id;
    uint8_t             *copy;
    uint16_t             seq;
    parley_rtp_header_t  h2;

    copy = malloc(size);
    CHECK(copy != NULL);
    memcpy(copy, data, size);

    CHECK(parley_rtp_set_seq(copy, size, 0xbeef) == PARLEY_RTP_OK);
    CHECK(parley_rtp_set_ts(copy, size, 0x01020304) == PARLEY_RTP_OK);
    CHECK(parley_rtp_set_ssrc(copy, size, 0x05060708) == PARLEY_RTP_OK);
    CHECK(parley_rtp_set_payload_type(copy, size, 99) == PARLEY_RTP_OK);

    CHECK(parley_rtp_parse(copy, size, &h2) == PARLEY_RTP_OK);
    CHECK(h2.seq == 0xbeef && h2.ts == 0x01020304 && h2.ssrc == 0x05060708);
    CHECK(h2.payload_type == 99 && h2.marker == h->marker);
    CHECK(h2.payload_offset == h->payload_offset);
    CHECK(h2.payload_len == h->payload_len);

    /* a new transport-wide seq wherever a 2-byte element sits */
    for (id = 1; id <= 14; id++) {
        if (parley_rtp_ext_set_twcc_seq(copy, size, &h2, (uint8_t) id, 0x4242)
            == PARLEY_RTP_OK)
        {
            CHECK(parley_rtp_ext_twcc_seq(copy, size, &h2, (uint8_t) id, &seq)
                  == PARLEY_RTP_OK);
            CHECK(seq == 0x4242);
        }
    }

    CHECK(memcmp(copy + h->payload_offset, data + h->payload_offset,
                 h->payload_len + h->padding_len) == 0);

    free(copy);
}


static void
fuzz_rtx(const uint8_t *data, size_t size, const parley_rtp_header_t *h)
{
    size_t               rtx_len, out_len;
    uint8_t             *rtx, *out;
    uint16_t             osn;
    parley_rtp_header_t  rh, oh;

    rtx = malloc(size + 2);
    CHECK(rtx != NULL);

    CHECK(parley_rtp_rtx_wrap(data, size, h, 97, 0xaabbccdd, 7, rtx,
                              size + 2, &rtx_len) == PARLEY_RTP_OK);
    CHECK(rtx_len == h->payload_offset + 2 + h->payload_len);

    CHECK(parley_rtp_parse(rtx, rtx_len, &rh) == PARLEY_RTP_OK);
    CHECK(parley_rtp_rtx_osn(rtx, rtx_len, &rh, &osn) == PARLEY_RTP_OK);
    CHECK(osn == h->seq);

    CHECK(parley_rtp_rtx_unwrap(rtx, rtx_len, &rh, h->payload_type, h->ssrc,
                                &out, &out_len, &oh) == PARLEY_RTP_OK);
    CHECK(oh.seq == h->seq && oh.ssrc == h->ssrc);
    CHECK(oh.payload_type == h->payload_type && oh.marker == h->marker);
    CHECK(oh.payload_len == h->payload_len);
    CHECK(memcmp(out + oh.payload_offset, data + h->payload_offset,
                 h->payload_len) == 0);

    free(rtx);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parley_rtp_rc_t       rc;
    parley_rtp_header_t   h;
    parley_demux_class_t  cls;

    cls = parley_demux_classify(data, size);

    rc = parley_rtp_parse(data, size, &h);
    if (rc != PARLEY_RTP_OK) {
        return 0;
    }

    /* whatever parses as RTP, the demultiplexer let through */
    CHECK(cls == PARLEY_DEMUX_RTP || cls == PARLEY_DEMUX_RTCP);
    CHECK(h.payload_offset + h.payload_len + h.padding_len == size);

    fuzz_extensions(data, size, &h);
    fuzz_payload(data, &h);
    fuzz_rewrite(data, size, &h);
    fuzz_rtx(data, size, &h);

    if (stats.clock_rate == 0) {
        parley_rtp_stats_init(&stats, 90000);
    }
    now_us += 20000;
    (void) parley_rtp_stats_update(&stats, h.seq, h.ts, now_us);

    return 0;
}
