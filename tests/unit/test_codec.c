/*
 * Unit tests for what parley reads inside RTP payloads (relay/parley_codec.c):
 * the VP8, H.264, VP9 and AV1 descriptors, keyframe starts by codec.
 *
 * The byte vectors are written by hand from the RFC layouts; each comment
 * says what the bytes mean. Payloads are copied into buffers of exactly
 * their length on the heap, so that ASan sees any read past them.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley_codec.h"
#include "bytes.h"


static parley_rtp_rc_t
vp8_exact(const char *h, parley_vp8_desc_t *d)
{
    size_t           len;
    uint8_t         *p;
    parley_rtp_rc_t  rc;

    p = exact_hex(h, &len);
    rc = parley_vp8_parse(p, len, d);
    free(p);

    return rc;
}


static void
test_vp8_descriptor(void **state)
{
    parley_vp8_desc_t  d;

    (void) state;

    /*
     * S=1, PID 0; then a key frame (RFC 6386 9.1): frame tag with P=0,
     * start code 9d 01 2a, 640x480.
     */
    assert_int_equal(vp8_exact("10 | 50 42 00 9d 01 2a 80 02 e0 01", &d),
                     PARLEY_RTP_OK);
    assert_int_equal(d.start, 1);
    assert_int_equal(d.partition_id, 0);
    assert_int_equal(d.header_len, 1);
    assert_int_equal(d.keyframe, 1);
    assert_int_equal(d.width, 640);
    assert_int_equal(d.height, 480);
    assert_int_equal(d.has_picture_id, 0);

    /* X, S; I L T; 15-bit PictureID 0x1234; TL0PICIDX 0x56; TID 2, Y */
    assert_int_equal(vp8_exact("90 | e0 | 92 34 | 56 | a0 | 01 00 00", &d),
                     PARLEY_RTP_OK);
    assert_int_equal(d.has_picture_id, 1);
    assert_int_equal(d.picture_id_bits, 15);
    assert_int_equal(d.picture_id, 0x1234);
    assert_int_equal(d.has_tl0picidx, 1);
    assert_int_equal(d.tl0picidx, 0x56);
    assert_int_equal(d.has_tid, 1);
    assert_int_equal(d.tid, 2);
    assert_int_equal(d.layer_sync, 1);
    assert_int_equal(d.has_keyidx, 0);
    assert_int_equal(d.header_len, 6);
    assert_int_equal(d.keyframe, 0);        /* P = 1: an inter frame */

    /* N; 7-bit PictureID 42; K with KEYIDX 5; key frame but no size */
    assert_int_equal(vp8_exact("b0 | 90 | 2a | 05 | 00", &d), PARLEY_RTP_OK);
    assert_int_equal(d.non_reference, 1);
    assert_int_equal(d.picture_id_bits, 7);
    assert_int_equal(d.picture_id, 42);
    assert_int_equal(d.has_tid, 0);
    assert_int_equal(d.has_keyidx, 1);
    assert_int_equal(d.keyidx, 5);
    assert_int_equal(d.keyframe, 1);
    assert_int_equal(d.width, 0);

    /* not the start of partition 0: never a key frame, whatever follows */
    assert_int_equal(vp8_exact("00 | 00", &d), PARLEY_RTP_OK);
    assert_int_equal(d.keyframe, 0);
    assert_int_equal(vp8_exact("11 | 00", &d), PARLEY_RTP_OK);
    assert_int_equal(d.partition_id, 1);
    assert_int_equal(d.keyframe, 0);
}


static void
test_vp8_truncated(void **state)
{
    parley_vp8_desc_t  d;

    (void) state;

    assert_int_equal(vp8_exact("", &d), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(vp8_exact("10", &d), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(vp8_exact("90", &d), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(vp8_exact("90 80", &d), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(vp8_exact("90 80 80", &d), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(vp8_exact("90 80 80 01", &d), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(vp8_exact("90 40", &d), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(vp8_exact("90 20", &d), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(vp8_exact("90 e0 92 34 56 a0", &d),
                     PARLEY_RTP_ERR_TRUNCATED);
}


static void
test_vp8_rewrite(void **state)
{
    size_t             len;
    uint8_t            buf[MAX_PKT];
    parley_vp8_desc_t  d;

    (void) state;

    len = hex("90 | e0 | 92 34 | 56 | a0 | 01 00 00", buf);
    assert_int_equal(parley_vp8_parse(buf, len, &d), PARLEY_RTP_OK);
    assert_int_equal(parley_vp8_set_picture_id(buf, len, &d, 0xfffe),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_vp8_set_tl0picidx(buf, len, &d, 0x99),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_vp8_parse(buf, len, &d), PARLEY_RTP_OK);
    assert_int_equal(d.picture_id, 0x7ffe);   /* 15 bits kept */
    assert_int_equal(d.tl0picidx, 0x99);
    assert_int_equal(d.tid, 2);

    len = hex("90 | 80 | 2a | 00", buf);
    assert_int_equal(parley_vp8_parse(buf, len, &d), PARLEY_RTP_OK);
    assert_int_equal(parley_vp8_set_picture_id(buf, len, &d, 300),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_vp8_parse(buf, len, &d), PARLEY_RTP_OK);
    assert_int_equal(d.picture_id, 300 & 0x7f);
    assert_int_equal(d.header_len, 3);
    assert_int_equal(parley_vp8_set_tl0picidx(buf, len, &d, 1),
                     PARLEY_RTP_ERR_NOT_FOUND);
}


static parley_rtp_rc_t
key_exact(parley_rtp_rc_t (*fn)(const uint8_t *, size_t, unsigned *),
    const char *h, unsigned *key)
{
    size_t           len;
    uint8_t         *p;
    parley_rtp_rc_t  rc;

    p = exact_hex(h, &len);
    rc = fn(p, len, key);
    free(p);

    return rc;
}


static void
expect_key(parley_rtp_rc_t (*fn)(const uint8_t *, size_t, unsigned *),
    const char *h, parley_rtp_rc_t rc, unsigned want)
{
    unsigned  key;

    assert_int_equal(key_exact(fn, h, &key), rc);
    assert_int_equal(key, want);
}


static void
test_h264_keyframes(void **state)
{
    (void) state;

    /* single NAL units: IDR (5), SPS (7), non-IDR slice (1), PPS (8) */
    expect_key(parley_h264_keyframe, "65 88 84 00", PARLEY_RTP_OK, 1);
    expect_key(parley_h264_keyframe, "67 42 c0 1f", PARLEY_RTP_OK, 1);
    expect_key(parley_h264_keyframe, "41 9a 00", PARLEY_RTP_OK, 0);
    expect_key(parley_h264_keyframe, "68 ce 3c 80", PARLEY_RTP_OK, 0);

    /* STAP-A: SPS, PPS, IDR; and one of two non-IDR slices */
    expect_key(parley_h264_keyframe,
               "78 | 00 02 67 42 | 00 02 68 ce | 00 03 65 88 84",
               PARLEY_RTP_OK, 1);
    expect_key(parley_h264_keyframe, "78 | 00 02 41 9a | 00 01 41",
               PARLEY_RTP_OK, 0);

    /* FU-A: start of an IDR; middle of one; start of a non-IDR slice */
    expect_key(parley_h264_keyframe, "7c 85 b8 00", PARLEY_RTP_OK, 1);
    expect_key(parley_h264_keyframe, "7c 05 b8 00", PARLEY_RTP_OK, 0);
    expect_key(parley_h264_keyframe, "5c 81 9a 00", PARLEY_RTP_OK, 0);

    /* STAP-B (25), FU-B (29): not produced by WebRTC, never key here */
    expect_key(parley_h264_keyframe, "79 00 00 00 02 65 88", PARLEY_RTP_OK,
               0);
    expect_key(parley_h264_keyframe, "7d 85 00 00", PARLEY_RTP_OK, 0);
}


static void
test_h264_malformed(void **state)
{
    (void) state;

    expect_key(parley_h264_keyframe, "", PARLEY_RTP_ERR_TRUNCATED, 0);
    expect_key(parley_h264_keyframe, "7c", PARLEY_RTP_ERR_TRUNCATED, 0);
    expect_key(parley_h264_keyframe, "78", PARLEY_RTP_ERR_MALFORMED, 0);
    expect_key(parley_h264_keyframe, "78 00", PARLEY_RTP_ERR_TRUNCATED, 0);
    expect_key(parley_h264_keyframe, "78 00 05 65 88",
               PARLEY_RTP_ERR_TRUNCATED, 0);
    expect_key(parley_h264_keyframe, "78 00 00 00 01 65",
               PARLEY_RTP_ERR_MALFORMED, 0);
    expect_key(parley_h264_keyframe, "78 00 01 41 | 00 01",
               PARLEY_RTP_ERR_TRUNCATED, 0);
}


static void
test_vp9_keyframes(void **state)
{
    (void) state;

    /* I with a 15-bit PictureID, B, P=0: a key frame */
    expect_key(parley_vp9_keyframe, "88 | 81 23 | 00", PARLEY_RTP_OK, 1);

    /* P=1: inter-predicted */
    expect_key(parley_vp9_keyframe, "c8 | 81 23", PARLEY_RTP_OK, 0);

    /* B=0: not the start of the frame */
    expect_key(parley_vp9_keyframe, "80 | 05", PARLEY_RTP_OK, 0);

    /* L: SID 0 is the first layer, SID 1 is not */
    expect_key(parley_vp9_keyframe, "a8 | 05 | 00 | 07", PARLEY_RTP_OK, 1);
    expect_key(parley_vp9_keyframe, "a8 | 05 | 02 | 07", PARLEY_RTP_OK, 0);

    /* TID 7 and D set around SID 0: still the first layer; SID 7 is not */
    expect_key(parley_vp9_keyframe, "a8 | 05 | e1 | 07", PARLEY_RTP_OK, 1);
    expect_key(parley_vp9_keyframe, "a8 | 05 | 0e | 07", PARLEY_RTP_OK, 0);

    /* no I, no L */
    expect_key(parley_vp9_keyframe, "08", PARLEY_RTP_OK, 1);

    expect_key(parley_vp9_keyframe, "", PARLEY_RTP_ERR_TRUNCATED, 0);
    expect_key(parley_vp9_keyframe, "88", PARLEY_RTP_ERR_TRUNCATED, 0);
    expect_key(parley_vp9_keyframe, "88 81", PARLEY_RTP_ERR_TRUNCATED, 0);
    expect_key(parley_vp9_keyframe, "a8 05", PARLEY_RTP_ERR_TRUNCATED, 0);
    expect_key(parley_vp9_keyframe, "a8 81 23", PARLEY_RTP_ERR_TRUNCATED, 0);
}


static void
test_av1_keyframes(void **state)
{
    (void) state;

    /* |Z|Y| W |N|: N set on a new coded video sequence */
    expect_key(parley_av1_keyframe, "18 | 0a 0b", PARLEY_RTP_OK, 1);
    expect_key(parley_av1_keyframe, "10 | 32 00", PARLEY_RTP_OK, 0);
    expect_key(parley_av1_keyframe, "", PARLEY_RTP_ERR_TRUNCATED, 0);
}


static void
test_codec_of(void **state)
{
    (void) state;

    /* SDP encoding names are case-insensitive (RFC 4855 3) */
    assert_int_equal(parley_codec_of("VP8"), PARLEY_CODEC_VP8);
    assert_int_equal(parley_codec_of("vp8"), PARLEY_CODEC_VP8);
    assert_int_equal(parley_codec_of("H264"), PARLEY_CODEC_H264);
    assert_int_equal(parley_codec_of("VP9"), PARLEY_CODEC_VP9);
    assert_int_equal(parley_codec_of("AV1"), PARLEY_CODEC_AV1);
    assert_int_equal(parley_codec_of("OPUS"), PARLEY_CODEC_OPUS);
    assert_int_equal(parley_codec_of("opus"), PARLEY_CODEC_OPUS);
    assert_int_equal(parley_codec_of("H265"), PARLEY_CODEC_OTHER);
    assert_int_equal(parley_codec_of("VP8X"), PARLEY_CODEC_OTHER);
    assert_int_equal(parley_codec_of(""), PARLEY_CODEC_OTHER);
}


static unsigned
start_exact(parley_codec_t codec, const char *h)
{
    size_t    len;
    uint8_t  *p;
    unsigned  key;

    p = exact_hex(h, &len);
    key = parley_codec_keyframe_start(codec, p, len);
    free(p);

    return key;
}


static void
test_keyframe_start(void **state)
{
    (void) state;

    /* VP8: S=1, partition 0, P=0 (RFC 6386 9.1) */
    assert_true(start_exact(PARLEY_CODEC_VP8,
                            "10 | 50 42 00 9d 01 2a 80 02 e0 01"));
    /* the same frame tag, but not the start of the frame */
    assert_false(start_exact(PARLEY_CODEC_VP8,
                             "00 | 50 42 00 9d 01 2a 80 02 e0 01"));
    /* the start of partition 1 */
    assert_false(start_exact(PARLEY_CODEC_VP8, "11 | 00"));
    /* an inter frame */
    assert_false(start_exact(PARLEY_CODEC_VP8,
                             "90 | e0 | 92 34 | 56 | a0 | 01 00 00"));
    assert_false(start_exact(PARLEY_CODEC_VP8, "90 80"));    /* truncated */

    /* H.264: an IDR slice; a non-IDR one; an FU-A starting an IDR */
    assert_true(start_exact(PARLEY_CODEC_H264, "65 88 84 00"));
    assert_false(start_exact(PARLEY_CODEC_H264, "41 9a 00"));
    assert_true(start_exact(PARLEY_CODEC_H264, "7c 85 b8 00"));
    assert_false(start_exact(PARLEY_CODEC_H264, "78"));      /* malformed */

    /* VP9: B, P=0 with a picture id; an inter frame */
    assert_true(start_exact(PARLEY_CODEC_VP9, "88 | 81 23 | 00"));
    assert_false(start_exact(PARLEY_CODEC_VP9, "c8 | 81 23"));

    /* AV1: N=1 starts a coded video sequence */
    assert_true(start_exact(PARLEY_CODEC_AV1, "18 | 0a 0b"));
    assert_false(start_exact(PARLEY_CODEC_AV1, "10 | 32 00"));

    /* audio has no keyframes, and an unknown codec is not read */
    assert_false(start_exact(PARLEY_CODEC_OPUS, "65 88 84 00"));
    assert_false(start_exact(PARLEY_CODEC_OTHER, "65 88 84 00"));
    assert_false(start_exact(PARLEY_CODEC_VP8, ""));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_vp8_descriptor),
        cmocka_unit_test(test_vp8_truncated),
        cmocka_unit_test(test_vp8_rewrite),
        cmocka_unit_test(test_h264_keyframes),
        cmocka_unit_test(test_h264_malformed),
        cmocka_unit_test(test_vp9_keyframes),
        cmocka_unit_test(test_av1_keyframes),
        cmocka_unit_test(test_codec_of),
        cmocka_unit_test(test_keyframe_start),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
