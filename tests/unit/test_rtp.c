/*
 * Unit tests for RTP packets, header extensions, RTX and receiver
 * statistics (relay/parley_rtp.c); payloads are test_codec.c's.
 *
 * The byte vectors are written by hand from the RFC layouts; each comment
 * says what the bytes mean. Malformed packets are copied into buffers of
 * exactly their length on the heap, so that ASan sees any read past it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley_rtp.h"
#include "bytes.h"


static double
absd(double x)
{
    return x < 0 ? -x : x;
}


static parley_rtp_rc_t
parse_exact(const char *h, parley_rtp_header_t *hdr)
{
    size_t           len;
    uint8_t         *p;
    parley_rtp_rc_t  rc;

    p = exact_hex(h, &len);
    rc = parley_rtp_parse(p, len, hdr);
    free(p);

    return rc;
}


/* V=2, PT 111, seq 0x1234, ts 123456, SSRC deadbeef, payload "hi" */
#define PKT_MINIMAL  "80 6f 12 34 | 00 01 e2 40 | de ad be ef | 68 69"

/*
 * Marker, PT 96, two CSRCs, a one-byte-header extension (RFC 8285 4.2) of
 * three words: mid id 1 "0", audio level id 2 (V=1, level 21),
 * abs-send-time id 3 0x123456, transport-wide seq id 4 0xabcd, one padding
 * byte; then a 3-byte payload.
 */
#define PKT_ONE_BYTE                                                        \
    "92 e0 00 07 | 00 00 03 e8 | 01 02 03 04 | 0a 0a 0a 0a | 0b 0b 0b 0b"   \
    "| be de 00 03 | 10 30 | 20 95 | 32 12 34 56 | 41 ab cd | 00"            \
    "| aa bb cc"

/*
 * A two-byte-header extension (RFC 8285 4.3, appbits 5): mid id 1 "ab",
 * a padding byte, rid id 10 "l", an empty element id 200, two padding
 * bytes; then a 1-byte payload.
 */
#define PKT_TWO_BYTE                                                        \
    "90 60 00 08 | 00 00 00 00 | 00 00 00 01"                               \
    "| 10 05 00 03 | 01 02 61 62 | 00 | 0a 01 6c | c8 00 | 00 00 | ff"


static void
test_parse_minimal(void **state)
{
    parley_rtp_header_t  h;

    (void) state;

    assert_int_equal(parse_exact(PKT_MINIMAL, &h), PARLEY_RTP_OK);
    assert_int_equal(h.padding, 0);
    assert_int_equal(h.extension, 0);
    assert_int_equal(h.marker, 0);
    assert_int_equal(h.csrc_count, 0);
    assert_int_equal(h.payload_type, 111);
    assert_int_equal(h.seq, 0x1234);
    assert_int_equal(h.ts, 123456);
    assert_int_equal(h.ssrc, 0xdeadbeef);
    assert_int_equal(h.payload_offset, 12);
    assert_int_equal(h.payload_len, 2);
    assert_int_equal(h.padding_len, 0);
}


static void
test_parse_one_byte_extensions(void **state)
{
    size_t                    len, slen;
    uint8_t                   buf[MAX_PKT];
    uint16_t                  seq;
    uint32_t                  ast;
    const uint8_t            *s;
    parley_rtp_ext_t          e;
    parley_rtp_header_t       h;
    parley_rtp_audio_level_t  al;

    (void) state;

    len = hex(PKT_ONE_BYTE, buf);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);

    assert_int_equal(h.marker, 1);
    assert_int_equal(h.payload_type, 96);
    assert_int_equal(h.csrc_count, 2);
    assert_int_equal(h.seq, 7);
    assert_int_equal(h.ts, 1000);
    assert_int_equal(h.ssrc, 0x01020304);
    assert_int_equal(h.ext_profile, PARLEY_RTP_EXT_ONE_BYTE);
    assert_int_equal(h.ext_offset, 24);
    assert_int_equal(h.ext_len, 12);
    assert_int_equal(h.payload_offset, 36);
    assert_int_equal(h.payload_len, 3);

    assert_int_equal(parley_rtp_ext_string(buf, len, &h, 1, &s, &slen),
                     PARLEY_RTP_OK);
    assert_int_equal(slen, 1);
    assert_memory_equal(s, "0", 1);

    assert_int_equal(parley_rtp_ext_audio_level(buf, len, &h, 2, &al),
                     PARLEY_RTP_OK);
    assert_int_equal(al.voice, 1);
    assert_int_equal(al.level, 21);

    assert_int_equal(parley_rtp_ext_abs_send_time(buf, len, &h, 3, &ast),
                     PARLEY_RTP_OK);
    assert_int_equal(ast, 0x123456);

    assert_int_equal(parley_rtp_ext_twcc_seq(buf, len, &h, 4, &seq),
                     PARLEY_RTP_OK);
    assert_int_equal(seq, 0xabcd);

    assert_int_equal(parley_rtp_ext_find(buf, len, &h, 5, &e),
                     PARLEY_RTP_ERR_NOT_FOUND);
    assert_int_equal(parley_rtp_ext_find(buf, len, &h, 0, &e),
                     PARLEY_RTP_ERR_INVAL);

    /* the wrong reader on an element: its length gives it away */
    assert_int_equal(parley_rtp_ext_audio_level(buf, len, &h, 3, &al),
                     PARLEY_RTP_ERR_MALFORMED);
    assert_int_equal(parley_rtp_ext_abs_send_time(buf, len, &h, 2, &ast),
                     PARLEY_RTP_ERR_MALFORMED);
    assert_int_equal(parley_rtp_ext_twcc_seq(buf, len, &h, 1, &seq),
                     PARLEY_RTP_ERR_MALFORMED);
}


static void
test_parse_two_byte_extensions(void **state)
{
    size_t                 len, slen, n;
    uint8_t                buf[MAX_PKT];
    const uint8_t         *s;
    parley_rtp_ext_t       e;
    parley_rtp_header_t    h;
    parley_rtp_ext_iter_t  it;

    (void) state;

    len = hex(PKT_TWO_BYTE, buf);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(h.ext_profile, 0x1005);
    assert_int_equal(h.payload_len, 1);

    assert_int_equal(parley_rtp_ext_string(buf, len, &h, 1, &s, &slen),
                     PARLEY_RTP_OK);
    assert_int_equal(slen, 2);
    assert_memory_equal(s, "ab", 2);

    assert_int_equal(parley_rtp_ext_string(buf, len, &h, 10, &s, &slen),
                     PARLEY_RTP_OK);
    assert_int_equal(slen, 1);
    assert_memory_equal(s, "l", 1);

    /* two-byte ids go past 14, and values may be empty */
    assert_int_equal(parley_rtp_ext_find(buf, len, &h, 200, &e),
                     PARLEY_RTP_OK);
    assert_int_equal(e.len, 0);
    assert_int_equal(parley_rtp_ext_string(buf, len, &h, 200, &s, &slen),
                     PARLEY_RTP_ERR_MALFORMED);

    parley_rtp_ext_iter_init(&h, &it);
    n = 0;
    while (parley_rtp_ext_next(buf, len, &it, &e) == PARLEY_RTP_OK) {
        n++;
    }
    assert_int_equal(n, 3);
}


static void
test_extension_of_another_profile(void **state)
{
    size_t               len;
    uint8_t              buf[MAX_PKT];
    parley_rtp_ext_t     e;
    parley_rtp_header_t  h;

    (void) state;

    /* RFC 3550 5.3.1 extension, profile 0x1234: no RFC 8285 elements */
    len = hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01"
              "| 12 34 00 01 | 10 30 00 00 | 01", buf);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_ext_find(buf, len, &h, 1, &e),
                     PARLEY_RTP_ERR_NOT_FOUND);
}


static void
test_one_byte_id_15_stops(void **state)
{
    size_t               len;
    uint8_t              buf[MAX_PKT];
    parley_rtp_ext_t     e;
    parley_rtp_header_t  h;

    (void) state;

    /* RFC 8285 4.2: id 1, then id 15, then an id 2 that must be ignored */
    len = hex("90 60 00 01 | 00 00 00 00 | 00 00 00 01"
              "| be de 00 02 | 10 30 | f0 | 20 95 | 00 00 00 | 01", buf);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_ext_find(buf, len, &h, 1, &e), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_ext_find(buf, len, &h, 2, &e),
                     PARLEY_RTP_ERR_NOT_FOUND);
}


static void
test_padding(void **state)
{
    parley_rtp_header_t  h;

    (void) state;

    /* P set: 4 bytes of payload, 4 of padding whose last byte is 4 */
    assert_int_equal(parse_exact("a0 6f 00 01 | 00 00 00 00 | 00 00 00 01"
                                 "| 01 02 03 04 | 00 00 00 04", &h),
                     PARLEY_RTP_OK);
    assert_int_equal(h.padding, 1);
    assert_int_equal(h.payload_len, 4);
    assert_int_equal(h.padding_len, 4);

    /* padding only, as browsers probe bandwidth */
    assert_int_equal(parse_exact("a0 6f 00 01 | 00 00 00 00 | 00 00 00 01"
                                 "| 00 00 00 00 00 00 00 08", &h),
                     PARLEY_RTP_OK);
    assert_int_equal(h.payload_len, 0);
    assert_int_equal(h.padding_len, 8);
}


static void
test_malformed_headers(void **state)
{
    size_t               len, i;
    uint8_t              buf[MAX_PKT], *p;
    parley_rtp_header_t  h;

    (void) state;

    /* every truncation of a valid packet short of its fixed header */
    len = hex(PKT_ONE_BYTE, buf);
    for (i = 0; i < PARLEY_RTP_HEADER_LEN; i++) {
        p = exact(buf, i);
        assert_int_equal(parley_rtp_parse(p, i, &h),
                         PARLEY_RTP_ERR_TRUNCATED);
        free(p);
    }

    /* and past it: cut inside the CSRCs or the extension */
    for (i = PARLEY_RTP_HEADER_LEN; i < 36; i++) {
        p = exact(buf, i);
        assert_int_equal(parley_rtp_parse(p, i, &h),
                         PARLEY_RTP_ERR_TRUNCATED);
        free(p);
    }

    p = exact(buf, len);
    assert_int_equal(parley_rtp_parse(p, len, &h), PARLEY_RTP_OK);
    free(p);

    /* versions 0, 1 and 3 */
    assert_int_equal(parse_exact("00 6f 00 01 00 00 00 00 00 00 00 01", &h),
                     PARLEY_RTP_ERR_VERSION);
    assert_int_equal(parse_exact("40 6f 00 01 00 00 00 00 00 00 00 01", &h),
                     PARLEY_RTP_ERR_VERSION);
    assert_int_equal(parse_exact("c0 6f 00 01 00 00 00 00 00 00 00 01", &h),
                     PARLEY_RTP_ERR_VERSION);

    /* fifteen CSRCs announced, one present */
    assert_int_equal(parse_exact("8f 6f 00 01 00 00 00 00 00 00 00 01"
                                 "| 00 00 00 02", &h),
                     PARLEY_RTP_ERR_TRUNCATED);

    /* X set, no room for the extension header */
    assert_int_equal(parse_exact("90 6f 00 01 00 00 00 00 00 00 00 01 be de",
                                 &h),
                     PARLEY_RTP_ERR_TRUNCATED);

    /* extension of 0xffff words, 4 bytes present */
    assert_int_equal(parse_exact("90 6f 00 01 00 00 00 00 00 00 00 01"
                                 "| be de ff ff | 10 30 00 00", &h),
                     PARLEY_RTP_ERR_TRUNCATED);

    /* extension of 2 words, 1 present */
    assert_int_equal(parse_exact("90 6f 00 01 00 00 00 00 00 00 00 01"
                                 "| be de 00 02 | 10 30 00 00", &h),
                     PARLEY_RTP_ERR_TRUNCATED);
}


static void
test_malformed_padding(void **state)
{
    parley_rtp_header_t  h;

    (void) state;

    /* P set, no byte after the header to count it */
    assert_int_equal(parse_exact("a0 6f 00 01 00 00 00 00 00 00 00 01", &h),
                     PARLEY_RTP_ERR_PADDING);

    /* a count of zero */
    assert_int_equal(parse_exact("a0 6f 00 01 00 00 00 00 00 00 00 01"
                                 "| 01 02 03 00", &h),
                     PARLEY_RTP_ERR_PADDING);

    /* more padding than payload: it would eat into the header */
    assert_int_equal(parse_exact("a0 6f 00 01 00 00 00 00 00 00 00 01"
                                 "| 01 02 03 05", &h),
                     PARLEY_RTP_ERR_PADDING);
    assert_int_equal(parse_exact("a0 6f 00 01 00 00 00 00 00 00 00 01"
                                 "| ff", &h),
                     PARLEY_RTP_ERR_PADDING);

    /* padding past the extension still reaching into it */
    assert_int_equal(parse_exact("b0 6f 00 01 00 00 00 00 00 00 00 01"
                                 "| be de 00 01 | 10 30 00 00 | 00 02", &h),
                     PARLEY_RTP_OK);
    assert_int_equal(parse_exact("b0 6f 00 01 00 00 00 00 00 00 00 01"
                                 "| be de 00 01 | 10 30 00 00 | 00 03", &h),
                     PARLEY_RTP_ERR_PADDING);
}


static void
expect_ext_rc(const char *pkt, uint8_t id, parley_rtp_rc_t want)
{
    size_t               len;
    uint8_t              buf[MAX_PKT], *p;
    parley_rtp_ext_t     e;
    parley_rtp_header_t  h;

    len = hex(pkt, buf);
    p = exact(buf, len);
    assert_int_equal(parley_rtp_parse(p, len, &h), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_ext_find(p, len, &h, id, &e), want);
    free(p);
}


static void
test_malformed_extension_elements(void **state)
{
    (void) state;

    /* one-byte: id 1 of 16 bytes in a 4-byte block */
    expect_ext_rc("90 60 00 01 00 00 00 00 00 00 00 01"
                  "| be de 00 01 | 1f 30 31 32", 1, PARLEY_RTP_ERR_MALFORMED);

    /* one-byte: the element sought comes after one running past the end */
    expect_ext_rc("90 60 00 01 00 00 00 00 00 00 00 01"
                  "| be de 00 01 | 10 30 23 31", 2, PARLEY_RTP_ERR_MALFORMED);

    /* one-byte: a non-zero byte with the padding id 0 */
    expect_ext_rc("90 60 00 01 00 00 00 00 00 00 00 01"
                  "| be de 00 01 | 03 10 30 00", 1, PARLEY_RTP_ERR_MALFORMED);

    /* two-byte: a length past the end */
    expect_ext_rc("90 60 00 01 00 00 00 00 00 00 00 01"
                  "| 10 00 00 01 | 01 05 61 62", 1, PARLEY_RTP_ERR_MALFORMED);

    /* two-byte: an id with no room for its length */
    expect_ext_rc("90 60 00 01 00 00 00 00 00 00 00 01"
                  "| 10 00 00 01 | 00 00 00 01", 1, PARLEY_RTP_ERR_MALFORMED);

    /* the same blocks are fine when the element sought comes first */
    expect_ext_rc("90 60 00 01 00 00 00 00 00 00 00 01"
                  "| be de 00 01 | 10 30 23 31", 1, PARLEY_RTP_OK);
}


static void
test_rewrite_fields(void **state)
{
    size_t               len;
    uint8_t              buf[MAX_PKT];
    parley_rtp_header_t  h;

    (void) state;

    len = hex(PKT_ONE_BYTE, buf);

    assert_int_equal(parley_rtp_set_seq(buf, len, 0xfffe), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_set_ts(buf, len, 0x89abcdef), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_set_ssrc(buf, len, 0x55667788),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_set_payload_type(buf, len, 100),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_set_payload_type(buf, len, 128),
                     PARLEY_RTP_ERR_INVAL);

    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(h.seq, 0xfffe);
    assert_int_equal(h.ts, 0x89abcdef);
    assert_int_equal(h.ssrc, 0x55667788);
    assert_int_equal(h.payload_type, 100);
    assert_int_equal(h.marker, 1);          /* kept across the PT change */
    assert_int_equal(h.csrc_count, 2);

    assert_int_equal(parley_rtp_set_marker(buf, len, 0), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(h.marker, 0);
    assert_int_equal(h.payload_type, 100);

    assert_int_equal(parley_rtp_set_seq(buf, 11, 1), PARLEY_RTP_ERR_TRUNCATED);
}


static void
test_rewrite_extensions(void **state)
{
    size_t                    len;
    uint8_t                   buf[MAX_PKT], orig[MAX_PKT];
    uint16_t                  seq;
    uint32_t                  ast;
    const uint8_t             lvl = 0x7f;
    parley_rtp_header_t       h;
    parley_rtp_audio_level_t  al;

    (void) state;

    len = hex(PKT_ONE_BYTE, buf);
    memcpy(orig, buf, len);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);

    assert_int_equal(parley_rtp_ext_set_twcc_seq(buf, len, &h, 4, 0x0102),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_ext_twcc_seq(buf, len, &h, 4, &seq),
                     PARLEY_RTP_OK);
    assert_int_equal(seq, 0x0102);

    assert_int_equal(parley_rtp_ext_set_abs_send_time(buf, len, &h, 3,
                                                      0xfedcba98),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_ext_abs_send_time(buf, len, &h, 3, &ast),
                     PARLEY_RTP_OK);
    assert_int_equal(ast, 0xdcba98);

    assert_int_equal(parley_rtp_ext_write(buf, len, &h, 2, &lvl, 1),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_ext_audio_level(buf, len, &h, 2, &al),
                     PARLEY_RTP_OK);
    assert_int_equal(al.voice, 0);
    assert_int_equal(al.level, 127);

    /* only the values changed: bytes 27, 29..31 and 33..34 */
    assert_memory_equal(buf, orig, 27);
    assert_int_equal(buf[27], 0x7f);
    assert_int_equal(buf[28], orig[28]);
    assert_memory_equal(buf + 29, "\xdc\xba\x98", 3);
    assert_int_equal(buf[32], orig[32]);
    assert_memory_equal(buf + 33, "\x01\x02", 2);
    assert_memory_equal(buf + 35, orig + 35, len - 35);

    /* no such element; a value of another size */
    assert_int_equal(parley_rtp_ext_set_twcc_seq(buf, len, &h, 9, 1),
                     PARLEY_RTP_ERR_NOT_FOUND);
    assert_int_equal(parley_rtp_ext_set_twcc_seq(buf, len, &h, 3, 1),
                     PARLEY_RTP_ERR_INVAL);
}


static void
test_rtx_wrap_unwrap(void **state)
{
    size_t               len, rtx_len, out_len;
    uint8_t              buf[MAX_PKT], orig[MAX_PKT], rtx[MAX_PKT], *out;
    uint16_t             osn;
    parley_rtp_header_t  h, rh, oh;

    (void) state;

    /* the extension packet, with 2 bytes of padding added */
    len = hex(PKT_ONE_BYTE "| 00 02", buf);
    buf[0] |= 0x20;
    memcpy(orig, buf, len);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(h.payload_len, 3);

    assert_int_equal(parley_rtp_rtx_wrap(buf, len, &h, 97, 0xcafe, 500, rtx,
                                         sizeof(rtx), &rtx_len),
                     PARLEY_RTP_OK);

    /* RFC 4588 4: same header but PT, seq, SSRC; OSN; payload; no padding */
    assert_int_equal(rtx_len, h.payload_offset + 2 + 3);
    assert_int_equal(rtx[0], 0x92);
    assert_int_equal(rtx[1], 0x80 | 97);
    assert_memory_equal(rtx + 12, buf + 12, h.payload_offset - 12);
    assert_int_equal(rtx[h.payload_offset], 0x00);
    assert_int_equal(rtx[h.payload_offset + 1], 0x07);
    assert_memory_equal(rtx + h.payload_offset + 2, "\xaa\xbb\xcc", 3);

    assert_int_equal(parley_rtp_parse(rtx, rtx_len, &rh), PARLEY_RTP_OK);
    assert_int_equal(rh.payload_type, 97);
    assert_int_equal(rh.seq, 500);
    assert_int_equal(rh.ssrc, 0xcafe);
    assert_int_equal(parley_rtp_rtx_osn(rtx, rtx_len, &rh, &osn),
                     PARLEY_RTP_OK);
    assert_int_equal(osn, 7);

    assert_int_equal(parley_rtp_rtx_unwrap(rtx, rtx_len, &rh, 96, 0x01020304,
                                           &out, &out_len, &oh),
                     PARLEY_RTP_OK);
    assert_ptr_equal(out, rtx + 2);
    assert_int_equal(out_len, rtx_len - 2);

    /* the original again, without its padding */
    assert_int_equal(oh.seq, 7);
    assert_int_equal(oh.payload_type, 96);
    assert_int_equal(oh.marker, 1);
    assert_int_equal(oh.ssrc, 0x01020304);
    assert_int_equal(oh.payload_len, 3);
    assert_int_equal(out[0], 0x92);         /* P clear: no padding */
    assert_int_equal(out[1], 0xe0);
    assert_memory_equal(out + 2, orig + 2, h.payload_offset + 3 - 2);

    assert_int_equal(parley_rtp_rtx_wrap(buf, len, &h, 97, 1, 1, rtx,
                                         h.payload_offset + 4, &rtx_len),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(parley_rtp_rtx_wrap(buf, len, &h, 200, 1, 1, rtx,
                                         sizeof(rtx), &rtx_len),
                     PARLEY_RTP_ERR_INVAL);
}


static void
test_rtx_unwrap_keeps_padding(void **state)
{
    size_t               len, out_len;
    uint8_t              buf[MAX_PKT], *out;
    parley_rtp_header_t  h, oh;

    (void) state;

    /* an RTX packet with OSN 0xffff, 2 payload bytes and 3 of padding */
    len = hex("a0 61 00 10 | 00 00 00 00 | 00 00 00 09"
              "| ff ff | 11 22 | 00 00 03", buf);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_rtx_unwrap(buf, len, &h, 96, 5, &out,
                                           &out_len, &oh),
                     PARLEY_RTP_OK);
    assert_int_equal(oh.seq, 0xffff);
    assert_int_equal(oh.padding_len, 3);
    assert_int_equal(oh.payload_len, 2);
    assert_memory_equal(out + oh.payload_offset, "\x11\x22", 2);
}


static void
test_rtx_without_osn(void **state)
{
    size_t               len, out_len;
    uint8_t              buf[MAX_PKT], *out;
    uint16_t             osn;
    parley_rtp_header_t  h, oh;

    (void) state;

    /* a padding-only RTX probe, and one with a single payload byte */
    len = hex("a0 61 00 10 00 00 00 00 00 00 00 09 | 00 00 00 04", buf);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_rtx_osn(buf, len, &h, &osn),
                     PARLEY_RTP_ERR_MALFORMED);
    assert_int_equal(parley_rtp_rtx_unwrap(buf, len, &h, 96, 5, &out,
                                           &out_len, &oh),
                     PARLEY_RTP_ERR_MALFORMED);

    len = hex("80 61 00 10 00 00 00 00 00 00 00 09 | 01", buf);
    assert_int_equal(parley_rtp_parse(buf, len, &h), PARLEY_RTP_OK);
    assert_int_equal(parley_rtp_rtx_osn(buf, len, &h, &osn),
                     PARLEY_RTP_ERR_MALFORMED);

    /* a header that does not belong to this buffer */
    assert_int_equal(parley_rtp_rtx_osn(buf, 5, &h, &osn),
                     PARLEY_RTP_ERR_INVAL);
}


static void
test_stats_probation(void **state)
{
    parley_rtp_stats_t  s;

    (void) state;

    parley_rtp_stats_init(&s, 90000);

    /* RFC 3550 A.1: two in sequence make a source valid */
    assert_int_equal(parley_rtp_stats_update(&s, 100, 0, 0), 0);
    assert_int_equal(parley_rtp_stats_update(&s, 102, 0, 0), 0);
    assert_int_equal(parley_rtp_stats_update(&s, 103, 0, 0), 1);
    assert_int_equal(s.base_seq, 103);
    assert_int_equal(s.received, 1);
    assert_int_equal(parley_rtp_stats_update(&s, 104, 0, 0), 1);
    assert_int_equal(s.received, 2);
}


static void
test_stats_seq_wrap(void **state)
{
    uint16_t            seq;
    unsigned            i;
    parley_rtp_stats_t  s;

    (void) state;

    parley_rtp_stats_init(&s, 90000);

    /* 65530 .. 65535, 0 .. 13: the first is probation */
    for (i = 0; i < 20; i++) {
        seq = (uint16_t) (65530 + i);
        assert_int_equal(parley_rtp_stats_update(&s, seq, i * 3000, 0),
                         i > 0);
    }

    assert_int_equal(s.cycles, 65536);
    assert_int_equal(s.max_seq, 13);
    assert_int_equal(parley_rtp_stats_ext_highest_seq(&s), 65536 + 13);
    assert_int_equal(s.received, 19);

    /* a late packet from before the wrap: counted, the max unchanged */
    assert_int_equal(parley_rtp_stats_update(&s, 65534, 0, 0), 1);
    assert_int_equal(parley_rtp_stats_ext_highest_seq(&s), 65536 + 13);
    assert_int_equal(s.cycles, 65536);
}


static void
test_stats_jump_and_restart(void **state)
{
    unsigned            i;
    parley_rtp_stats_t  s;

    (void) state;

    parley_rtp_stats_init(&s, 90000);

    for (i = 0; i < 10; i++) {
        (void) parley_rtp_stats_update(&s, (uint16_t) (1000 + i), 0, 0);
    }
    assert_int_equal(s.max_seq, 1009);

    /* a jump of 20000: not believed alone */
    assert_int_equal(parley_rtp_stats_update(&s, 21009, 0, 0), 0);
    assert_int_equal(s.max_seq, 1009);

    /* the stream goes on where it was: fine */
    assert_int_equal(parley_rtp_stats_update(&s, 1010, 0, 0), 1);

    /* the jump again, then its successor: the sender restarted */
    assert_int_equal(parley_rtp_stats_update(&s, 30000, 0, 0), 0);
    assert_int_equal(parley_rtp_stats_update(&s, 30001, 0, 0), 1);
    assert_int_equal(s.base_seq, 30001);
    assert_int_equal(s.max_seq, 30001);
    assert_int_equal(s.received, 1);
}


static void
test_stats_jitter(void **state)
{
    unsigned            i;
    double              j, d, transit, prev;
    uint64_t            now;
    uint32_t            ts;
    parley_rtp_stats_t  s;

    (void) state;

    /* 8 kHz audio, 20 ms packets: arrival exact, then 0 or +2 ms late */
    parley_rtp_stats_init(&s, 8000);
    j = 0;
    prev = 0;

    for (i = 0; i < 200; i++) {
        ts = 5000 + i * 160;
        now = 1000000 + (uint64_t) i * 20000 + (i % 2 ? 2000 : 0);
        (void) parley_rtp_stats_update(&s, (uint16_t) (7 + i), ts, now);

        /* RFC 3550 6.4.1 in floating point, from the second counted one */
        transit = (double) now * 8000 / 1e6 - ts;
        if (i >= 2) {
            d = absd(transit - prev);
            j += (d - j) / 16;
        }
        prev = transit;
    }

    /* |D| is 16 units every time: J approaches 16 */
    assert_true(absd((double) s.jitter / 16 - j) < 1.0);
    assert_int_equal(s.jitter >> 4, 15);
    assert_true(j > 15.9 && j < 16.0);

    /* steady arrivals: the jitter decays towards 0 */
    for (i = 200; i < 400; i++) {
        ts = 5000 + i * 160;
        now = 1000000 + (uint64_t) i * 20000;
        (void) parley_rtp_stats_update(&s, (uint16_t) (7 + i), ts, now);
    }
    assert_true(s.jitter >> 4 == 0);
}


static void
test_rc_str(void **state)
{
    int  rc;

    (void) state;

    for (rc = PARLEY_RTP_OK; rc <= PARLEY_RTP_ERR_INVAL; rc++) {
        assert_string_not_equal(parley_rtp_rc_str(rc), "unknown error");
    }
    assert_string_equal(parley_rtp_rc_str(PARLEY_RTP_ERR_PADDING),
                        "bad padding");
    assert_string_equal(parley_rtp_rc_str(99), "unknown error");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_minimal),
        cmocka_unit_test(test_parse_one_byte_extensions),
        cmocka_unit_test(test_parse_two_byte_extensions),
        cmocka_unit_test(test_extension_of_another_profile),
        cmocka_unit_test(test_one_byte_id_15_stops),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_malformed_padding),
        cmocka_unit_test(test_malformed_extension_elements),
        cmocka_unit_test(test_rewrite_fields),
        cmocka_unit_test(test_rewrite_extensions),
        cmocka_unit_test(test_rtx_wrap_unwrap),
        cmocka_unit_test(test_rtx_unwrap_keeps_padding),
        cmocka_unit_test(test_rtx_without_osn),
        cmocka_unit_test(test_stats_probation),
        cmocka_unit_test(test_stats_seq_wrap),
        cmocka_unit_test(test_stats_jump_and_restart),
        cmocka_unit_test(test_stats_jitter),
        cmocka_unit_test(test_rc_str),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
