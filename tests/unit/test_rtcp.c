/*
 * Unit tests for RTCP compound packets, reports and feedback messages
 * (relay/parley_rtcp.c).
 *
 * Known-answer vectors are written by hand from the RFC and draft layouts;
 * builders are checked against such vectors and by parsing what they
 * build. Every parsed vector lives in a heap buffer of exactly its length,
 * so ASan reports any read past it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley_rtcp.h"
#include "bytes.h"


#define MAX_TWCC   65536


/* the packets of a test, in heap buffers of their exact length */
typedef struct {
    uint8_t               *buf;
    size_t                 len;
    parley_rtcp_packet_t   pkt;
} vec_t;


static void
vec_load(vec_t *v, const char *h)
{
    uint8_t  tmp[MAX_PKT];

    v->len = hex(h, tmp);
    v->buf = malloc(v->len ? v->len : 1);
    assert_non_null(v->buf);
    memcpy(v->buf, tmp, v->len);
}


/* loads a single-packet vector and returns its packet */
static const parley_rtcp_packet_t *
vec_packet(vec_t *v, const char *h)
{
    parley_rtcp_iter_t  it;

    vec_load(v, h);
    parley_rtcp_iter_init(&it, v->buf, v->len);
    assert_int_equal(parley_rtcp_next(&it, &v->pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_next(&it, &v->pkt), PARLEY_RTP_DONE);

    /* DONE leaves the packet alone: read it again */
    parley_rtcp_iter_init(&it, v->buf, v->len);
    assert_int_equal(parley_rtcp_next(&it, &v->pkt), PARLEY_RTP_OK);

    return &v->pkt;
}


static void
vec_free(vec_t *v)
{
    free(v->buf);
    v->buf = NULL;
}


static parley_rtp_rc_t
validate_exact(const char *h)
{
    vec_t            v;
    parley_rtp_rc_t  rc;

    vec_load(&v, h);
    rc = parley_rtcp_validate(v.buf, v.len);
    vec_free(&v);

    return rc;
}


static void
assert_built(const parley_rtcp_writer_t *w, const char *h)
{
    size_t   len;
    uint8_t  want[MAX_PKT];

    len = hex(h, want);
    assert_int_equal(w->len, len);
    assert_memory_equal(w->buf, want, len);
}


/* An SR with one report block: cumulative lost -2. */
#define VEC_SR                                                              \
    "81 c8 00 0c | 11 22 33 44 | 83 aa 7e 80 | 12 34 56 78 | 00 01 e2 40"   \
    "| 00 00 00 64 | 00 00 3e 80"                                           \
    "| 55 66 77 88 | 40 | ff ff fe | 00 01 00 05 | 00 00 00 20"             \
    "| 7e 80 12 34 | 00 01 00 00"

#define VEC_RR                                                              \
    "81 c9 00 07 | 11 22 33 44"                                             \
    "| 55 66 77 88 | 00 | 00 00 03 | 00 00 ff ff | 00 00 00 10"             \
    "| 00 00 00 00 | 00 00 00 00"

/* SDES: CNAME "alice"; then a NOTE "hi" and CNAME "b" */
#define VEC_SDES                                                            \
    "82 ca 00 06 | 11 22 33 44 | 01 05 61 6c 69 63 65 00"                   \
    "| 55 66 77 88 | 07 02 68 69 | 01 01 62 00"

/* BYE, reason "goodbye!" padded with nulls */
#define VEC_BYE                                                             \
    "81 cb 00 04 | 11 22 33 44 | 08 67 6f 6f 64 62 79 65 21 | 00 00 00"

/* the draft's TWCC layout: a two-bit vector chunk, 5 packets from 10 */
#define VEC_TWCC                                                            \
    "8f cd 00 06 | 00 00 00 01 | 00 00 00 02 | 00 0a 00 05 | 00 00 01 07"   \
    "| d1 90 | 04 08 ff fc 01 | 00"


static void
test_parse_sr(void **state)
{
    vec_t                        v;
    parley_rtcp_sr_t             sr;
    parley_rtcp_report_block_t  *rb;

    (void) state;

    assert_int_equal(parley_rtcp_parse_sr(vec_packet(&v, VEC_SR), &sr),
                     PARLEY_RTP_OK);
    assert_int_equal(v.pkt.type, PARLEY_RTCP_SR);
    assert_int_equal(v.pkt.len, 52);
    assert_int_equal(sr.ssrc, 0x11223344);
    assert_int_equal(sr.ntp_sec, 0x83aa7e80);
    assert_int_equal(sr.ntp_frac, 0x12345678);
    assert_int_equal(sr.rtp_ts, 123456);
    assert_int_equal(sr.packet_count, 100);
    assert_int_equal(sr.octet_count, 16000);
    assert_int_equal(sr.block_count, 1);

    rb = &sr.blocks[0];
    assert_int_equal(rb->ssrc, 0x55667788);
    assert_int_equal(rb->fraction_lost, 0x40);
    assert_int_equal(rb->cumulative_lost, -2);
    assert_int_equal(rb->ext_highest_seq, 0x00010005);
    assert_int_equal(rb->jitter, 32);
    assert_int_equal(rb->lsr, 0x7e801234);
    assert_int_equal(rb->dlsr, 65536);

    assert_int_equal(parley_rtcp_ntp_middle(sr.ntp_sec, sr.ntp_frac),
                     0x7e801234);

    vec_free(&v);
}


static void
test_parse_rr(void **state)
{
    vec_t             v;
    parley_rtcp_rr_t  rr;
    parley_rtcp_sr_t  sr;

    (void) state;

    assert_int_equal(parley_rtcp_parse_rr(vec_packet(&v, VEC_RR), &rr),
                     PARLEY_RTP_OK);
    assert_int_equal(rr.ssrc, 0x11223344);
    assert_int_equal(rr.block_count, 1);
    assert_int_equal(rr.blocks[0].ssrc, 0x55667788);
    assert_int_equal(rr.blocks[0].cumulative_lost, 3);
    assert_int_equal(rr.blocks[0].ext_highest_seq, 0xffff);
    assert_int_equal(rr.blocks[0].jitter, 16);

    assert_int_equal(parley_rtcp_parse_sr(&v.pkt, &sr), PARLEY_RTP_ERR_INVAL);
    vec_free(&v);
}


static void
test_parse_sdes(void **state)
{
    vec_t                       v;
    parley_rtcp_sdes_t          sdes;
    const parley_rtcp_packet_t *packet;

    (void) state;

    assert_int_equal(parley_rtcp_parse_sdes(vec_packet(&v, VEC_SDES), &sdes),
                     PARLEY_RTP_OK);
    assert_int_equal(sdes.chunk_count, 2);
    assert_int_equal(sdes.chunks[0].ssrc, 0x11223344);
    assert_int_equal(sdes.chunks[0].cname_len, 5);
    assert_memory_equal(sdes.chunks[0].cname, "alice", 5);
    assert_int_equal(sdes.chunks[1].ssrc, 0x55667788);
    assert_int_equal(sdes.chunks[1].cname_len, 1);
    assert_memory_equal(sdes.chunks[1].cname, "b", 1);
    vec_free(&v);

    /* CNAME "ab": the null octet, 3 more to the boundary, chunk two */
    packet = vec_packet(&v, "82 ca 00 05 | 11 22 33 44 | 01 02 61 62"
                            "| 00 00 00 00 | 55 66 77 88 | 01 01 63 00");
    assert_int_equal(parley_rtcp_parse_sdes(packet, &sdes), PARLEY_RTP_OK);
    assert_int_equal(sdes.chunks[1].ssrc, 0x55667788);
    assert_memory_equal(sdes.chunks[1].cname, "c", 1);
    vec_free(&v);

    /* a chunk with no items: the null octet and padding only */
    packet = vec_packet(&v, "81 ca 00 02 | 11 22 33 44 | 00 00 00 00");
    assert_int_equal(parley_rtcp_parse_sdes(packet, &sdes), PARLEY_RTP_OK);
    assert_null(sdes.chunks[0].cname);
    vec_free(&v);
}


static void
test_parse_bye(void **state)
{
    vec_t                       v;
    parley_rtcp_bye_t           bye;
    const parley_rtcp_packet_t *packet;

    (void) state;

    assert_int_equal(parley_rtcp_parse_bye(vec_packet(&v, VEC_BYE), &bye),
                     PARLEY_RTP_OK);
    assert_int_equal(bye.ssrc_count, 1);
    assert_int_equal(bye.ssrcs[0], 0x11223344);
    assert_int_equal(bye.reason_len, 8);
    assert_memory_equal(bye.reason, "goodbye!", 8);
    vec_free(&v);

    packet = vec_packet(&v, "82 cb 00 02 | 00 00 00 01 | 00 00 00 02");
    assert_int_equal(parley_rtcp_parse_bye(packet, &bye), PARLEY_RTP_OK);
    assert_int_equal(bye.ssrc_count, 2);
    assert_int_equal(bye.ssrcs[1], 2);
    assert_null(bye.reason);
    vec_free(&v);
}


static void
test_compound_iteration(void **state)
{
    vec_t                 v;
    size_t                n;
    uint8_t               types[8];
    parley_rtp_rc_t       rc;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    (void) state;

    /* RR, SDES, then a BYE padded by 4 bytes (RFC 3550 6.4.1) */
    vec_load(&v, VEC_RR "|" VEC_SDES
                 "| a1 cb 00 02 | 11 22 33 44 | 00 00 00 04");
    assert_int_equal(parley_rtcp_validate(v.buf, v.len), PARLEY_RTP_OK);

    parley_rtcp_iter_init(&it, v.buf, v.len);
    n = 0;

    while ((rc = parley_rtcp_next(&it, &pkt)) == PARLEY_RTP_OK) {
        types[n++] = pkt.type;
    }

    assert_int_equal(rc, PARLEY_RTP_DONE);
    assert_int_equal(n, 3);
    assert_int_equal(types[0], PARLEY_RTCP_RR);
    assert_int_equal(types[1], PARLEY_RTCP_SDES);
    assert_int_equal(types[2], PARLEY_RTCP_BYE);
    assert_int_equal(pkt.padding, 1);
    assert_int_equal(pkt.len, 12);
    assert_int_equal(pkt.body_len, 4);

    /* RFC 5506: a reduced-size packet, a lone PLI, is fine */
    vec_free(&v);
    assert_int_equal(validate_exact("81 ce 00 02 | 00 00 00 01 | 00 00 00 02"),
                     PARLEY_RTP_OK);
}


static void
test_compound_malformed(void **state)
{
    vec_t                 v;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    (void) state;

    assert_int_equal(validate_exact(""), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(validate_exact("80 c9 00"), PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(validate_exact("40 c9 00 01 | 11 22 33 44"),
                     PARLEY_RTP_ERR_VERSION);

    /* a length past the end of the datagram */
    assert_int_equal(validate_exact("81 c9 00 07 | 11 22 33 44"),
                     PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(validate_exact("81 c9 ff ff | 11 22 33 44"),
                     PARLEY_RTP_ERR_TRUNCATED);

    /* garbage after a valid packet: short, bad version, long length */
    assert_int_equal(validate_exact("80 c9 00 01 | 11 22 33 44 | de ad"),
                     PARLEY_RTP_ERR_TRUNCATED);
    assert_int_equal(validate_exact("80 c9 00 01 | 11 22 33 44 | 00 00 00 00"),
                     PARLEY_RTP_ERR_VERSION);
    assert_int_equal(validate_exact("80 c9 00 01 | 11 22 33 44 | 80 c9 00 05"),
                     PARLEY_RTP_ERR_TRUNCATED);

    /* the iterator hands out the good packet before the bad tail */
    vec_load(&v, "80 c9 00 01 | 11 22 33 44 | de ad");
    parley_rtcp_iter_init(&it, v.buf, v.len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(pkt.type, PARLEY_RTCP_RR);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_ERR_TRUNCATED);
    vec_free(&v);

    /* padding: on a packet that is not the last; zero; too large */
    assert_int_equal(validate_exact("a0 c9 00 01 | 11 22 33 04"
                                    "| 80 c9 00 01 | 11 22 33 44"),
                     PARLEY_RTP_ERR_PADDING);
    assert_int_equal(validate_exact("a0 c9 00 01 | 11 22 33 00"),
                     PARLEY_RTP_ERR_PADDING);
    assert_int_equal(validate_exact("a0 c9 00 01 | 11 22 33 05"),
                     PARLEY_RTP_ERR_PADDING);
    assert_int_equal(validate_exact("a0 c9 00 00"), PARLEY_RTP_ERR_PADDING);
}


/* the parser that fits the packet, as a receiver would dispatch it */
static parley_rtp_rc_t
parse_any(const parley_rtcp_packet_t *pkt)
{
    size_t                     n;
    uint16_t                   seqs[64];
    parley_rtcp_sr_t           sr;
    parley_rtcp_rr_t           rr;
    parley_rtcp_fb_t           fb;
    parley_rtcp_bye_t          bye;
    parley_rtcp_sdes_t         sdes;
    parley_rtcp_remb_t         remb;
    parley_rtcp_twcc_t         twcc;
    parley_rtcp_fir_entry_t    fir[8];
    parley_rtcp_twcc_packet_t  pkts[64];

    switch (pkt->type) {

    case PARLEY_RTCP_SR:
        return parley_rtcp_parse_sr(pkt, &sr);
    case PARLEY_RTCP_RR:
        return parley_rtcp_parse_rr(pkt, &rr);
    case PARLEY_RTCP_SDES:
        return parley_rtcp_parse_sdes(pkt, &sdes);
    case PARLEY_RTCP_BYE:
        return parley_rtcp_parse_bye(pkt, &bye);

    case PARLEY_RTCP_RTPFB:
        if (pkt->count == PARLEY_RTCP_FMT_NACK) {
            return parley_rtcp_parse_nack(pkt, &fb, seqs, 64, &n);
        }
        return parley_rtcp_parse_twcc(pkt, &twcc, pkts, 64);

    case PARLEY_RTCP_PSFB:
        if (pkt->count == PARLEY_RTCP_FMT_PLI) {
            return parley_rtcp_parse_pli(pkt, &fb);
        }
        if (pkt->count == PARLEY_RTCP_FMT_FIR) {
            return parley_rtcp_parse_fir(pkt, &fb, fir, 8, &n);
        }
        return parley_rtcp_parse_remb(pkt, &remb);
    }

    return PARLEY_RTP_ERR_INVAL;
}


static void
expect_parse_rc(const char *h, parley_rtp_rc_t want)
{
    vec_t  v;

    assert_int_equal(parse_any(vec_packet(&v, h)), want);
    vec_free(&v);
}


static void
test_reports_malformed(void **state)
{
    (void) state;

    /* SR: one block announced, none present; no sender info at all */
    expect_parse_rc("81 c8 00 06 | 11 22 33 44 | 00 00 00 00 00 00 00 00"
                    "| 00 00 00 00 00 00 00 00 00 00 00 00",
                    PARLEY_RTP_ERR_TRUNCATED);
    expect_parse_rc("80 c8 00 01 | 11 22 33 44", PARLEY_RTP_ERR_TRUNCATED);

    /* RR: no SSRC; two blocks announced, one present */
    expect_parse_rc("80 c9 00 00", PARLEY_RTP_ERR_TRUNCATED);
    expect_parse_rc("82 c9 00 07 | 11 22 33 44 | 00 00 00 00 00 00 00 00"
                    "| 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
                    PARLEY_RTP_ERR_TRUNCATED);

    /* RR: padding reaching into the report block */
    expect_parse_rc("a1 c9 00 07 | 11 22 33 44 | 00 00 00 00 00 00 00 00"
                    "| 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 04",
                    PARLEY_RTP_ERR_TRUNCATED);

    /* SDES: no null item; an item past the end; a missing chunk */
    expect_parse_rc("81 ca 00 02 | 11 22 33 44 | 01 02 61 62",
                    PARLEY_RTP_ERR_TRUNCATED);
    expect_parse_rc("81 ca 00 02 | 11 22 33 44 | 01 09 61 62",
                    PARLEY_RTP_ERR_TRUNCATED);
    expect_parse_rc("82 ca 00 02 | 11 22 33 44 | 01 01 61 00",
                    PARLEY_RTP_ERR_TRUNCATED);

    /* BYE: a reason past the end; SSRCs missing */
    expect_parse_rc("81 cb 00 02 | 11 22 33 44 | 09 61 62 63",
                    PARLEY_RTP_ERR_TRUNCATED);
    expect_parse_rc("83 cb 00 01 | 11 22 33 44", PARLEY_RTP_ERR_TRUNCATED);
}


static void
test_parse_nack(void **state)
{
    vec_t                       v;
    size_t                      n;
    uint16_t                    seqs[64];
    parley_rtcp_fb_t            fb;
    const parley_rtcp_packet_t *packet;

    (void) state;

    /* PID 100, BLP 0x0005: 100, 101, 103 */
    packet = vec_packet(&v, "81 cd 00 03 | 00 00 00 01 | 00 00 00 02"
                            "| 00 64 00 05");
    assert_int_equal(parley_rtcp_parse_nack(packet, &fb, seqs, 64, &n),
                     PARLEY_RTP_OK);
    assert_int_equal(fb.sender_ssrc, 1);
    assert_int_equal(fb.media_ssrc, 2);
    assert_int_equal(n, 3);
    assert_int_equal(seqs[0], 100);
    assert_int_equal(seqs[1], 101);
    assert_int_equal(seqs[2], 103);

    /* the caller's array is too small: the first ones, and NOSPACE */
    assert_int_equal(parley_rtcp_parse_nack(&v.pkt, &fb, seqs, 2, &n),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(n, 2);
    assert_int_equal(seqs[1], 101);
    vec_free(&v);

    /* across the wrap: PID 65535, BLP 0x8003: 65535, 0, 1, 15 */
    packet = vec_packet(&v, "81 cd 00 03 | 00 00 00 01 | 00 00 00 02"
                            "| ff ff 80 03");
    assert_int_equal(parley_rtcp_parse_nack(packet, &fb, seqs, 64, &n),
                     PARLEY_RTP_OK);
    assert_int_equal(n, 4);
    assert_int_equal(seqs[0], 65535);
    assert_int_equal(seqs[1], 0);
    assert_int_equal(seqs[2], 1);
    assert_int_equal(seqs[3], 15);
    vec_free(&v);

    /* no FCI; an FCI of 6 bytes (padding eats into it) */
    expect_parse_rc("81 cd 00 02 | 00 00 00 01 | 00 00 00 02",
                    PARLEY_RTP_ERR_MALFORMED);
    expect_parse_rc("a1 cd 00 04 | 00 00 00 01 | 00 00 00 02 | 00 64 00 05"
                    "| 00 00 00 02", PARLEY_RTP_ERR_MALFORMED);

    /* feedback with no room for its two SSRCs */
    expect_parse_rc("81 cd 00 01 | 00 00 00 01", PARLEY_RTP_ERR_TRUNCATED);
}


static void
test_build_nack_wrap(void **state)
{
    size_t                i, n;
    uint8_t               buf[MAX_PKT];
    uint16_t              seqs[64];
    const uint16_t        lost[] = { 65534, 65535, 0, 1, 17, 40 };
    parley_rtcp_fb_t      fb;
    parley_rtcp_iter_t    it;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  pkt;

    (void) state;

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_nack(&w, 1, 2, lost, 6),
                     PARLEY_RTP_OK);

    /* 65534 takes 65535, 0 and 1 as bits 0..2; 17 and 40 are too far */
    assert_built(&w, "81 cd 00 05 | 00 00 00 01 | 00 00 00 02"
                     "| ff fe 00 07 | 00 11 00 00 | 00 28 00 00");

    parley_rtcp_iter_init(&it, buf, w.len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_nack(&pkt, &fb, seqs, 64, &n),
                     PARLEY_RTP_OK);
    assert_int_equal(n, 6);
    for (i = 0; i < n; i++) {
        assert_int_equal(seqs[i], lost[i]);
    }
}


static void
test_nack_round_trip(void **state)
{
    size_t                i, n, want;
    uint8_t               buf[MAX_PKT];
    uint16_t              lost[300], seqs[300], seq;
    parley_rtcp_fb_t      fb;
    parley_rtcp_iter_t    it;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  pkt;

    (void) state;

    /* gaps of 1 to 20 from 65000 on, wrapping past 65535 */
    seq = 65000;
    want = 0;
    for (i = 0; i < 300; i++) {
        lost[want++] = seq;
        seq = (uint16_t) (seq + 1 + (i * 7) % 20);
    }

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_nack(&w, 9, 8, lost, want),
                     PARLEY_RTP_OK);

    parley_rtcp_iter_init(&it, buf, w.len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_nack(&pkt, &fb, seqs, 300, &n),
                     PARLEY_RTP_OK);
    assert_int_equal(n, want);
    for (i = 0; i < n; i++) {
        assert_int_equal(seqs[i], lost[i]);
    }

    /* 17 in a row are one entry, BLP all ones */
    for (i = 0; i < 17; i++) {
        lost[i] = (uint16_t) (65530 + i);
    }
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_nack(&w, 1, 2, lost, 17),
                     PARLEY_RTP_OK);
    assert_built(&w, "81 cd 00 03 | 00 00 00 01 | 00 00 00 02 | ff fa ff ff");

    /* duplicates are folded */
    lost[0] = 5;
    lost[1] = 5;
    lost[2] = 6;
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_nack(&w, 1, 2, lost, 3),
                     PARLEY_RTP_OK);
    assert_built(&w, "81 cd 00 03 | 00 00 00 01 | 00 00 00 02 | 00 05 00 01");

    assert_int_equal(parley_rtcp_build_nack(&w, 1, 2, lost, 0),
                     PARLEY_RTP_ERR_INVAL);
}


static void
test_pli_fir(void **state)
{
    vec_t                       v;
    size_t                      n;
    uint8_t                     buf[MAX_PKT], seq_nr;
    parley_rtcp_fb_t            fb;
    parley_rtcp_writer_t        w;
    parley_rtcp_fir_entry_t     fir[4];
    const parley_rtcp_packet_t *packet;

    (void) state;

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_pli(&w, 1, 2), PARLEY_RTP_OK);
    assert_built(&w, "81 ce 00 02 | 00 00 00 01 | 00 00 00 02");

    packet = vec_packet(&v, "81 ce 00 02 | 00 00 00 01 | 00 00 00 02");
    assert_int_equal(parley_rtcp_parse_pli(packet, &fb), PARLEY_RTP_OK);
    assert_int_equal(fb.media_ssrc, 2);
    assert_int_equal(fb.fci_len, 0);
    vec_free(&v);

    /* RFC 5104 4.3.1: media source 0, the target in the FCI */
    seq_nr = 5;
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_fir(&w, 1, 2, &seq_nr), PARLEY_RTP_OK);
    assert_built(&w, "84 ce 00 04 | 00 00 00 01 | 00 00 00 00"
                     "| 00 00 00 02 | 05 00 00 00");
    assert_int_equal(seq_nr, 6);

    /* the next request is a new one; the counter wraps */
    seq_nr = 255;
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_fir(&w, 1, 2, &seq_nr), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_fir(&w, 1, 2, &seq_nr), PARLEY_RTP_OK);
    assert_int_equal(buf[16], 255);
    assert_int_equal(buf[20 + 16], 0);
    assert_int_equal(seq_nr, 1);

    packet = vec_packet(&v, "84 ce 00 06 | 00 00 00 01 | 00 00 00 00"
                            "| 00 00 00 02 | 05 00 00 00"
                            "| 00 00 00 03 | 09 00 00 00");
    assert_int_equal(parley_rtcp_parse_fir(packet, &fb, fir, 4, &n),
                     PARLEY_RTP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(fir[0].ssrc, 2);
    assert_int_equal(fir[0].seq_nr, 5);
    assert_int_equal(fir[1].ssrc, 3);
    assert_int_equal(fir[1].seq_nr, 9);
    assert_int_equal(parley_rtcp_parse_fir(&v.pkt, &fb, fir, 1, &n),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(parley_rtcp_parse_pli(&v.pkt, &fb), PARLEY_RTP_ERR_INVAL);
    vec_free(&v);

    /* an FCI that is not whole entries */
    expect_parse_rc("84 ce 00 03 | 00 00 00 01 | 00 00 00 00 | 00 00 00 02",
                    PARLEY_RTP_ERR_MALFORMED);
}


static void
test_remb(void **state)
{
    vec_t                       v;
    uint8_t                     buf[MAX_PKT];
    uint64_t                    big;
    const uint32_t              ssrcs[] = { 2, 3 };
    parley_rtcp_remb_t          remb;
    parley_rtcp_iter_t          it;
    parley_rtcp_writer_t        w;
    parley_rtcp_packet_t        pkt;
    const parley_rtcp_packet_t *packet;

    (void) state;

    /* 1 Mbit/s = 250000 * 2^2: exponent 2, mantissa 0x3d090 */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_remb(&w, 1, 1000000, ssrcs, 1),
                     PARLEY_RTP_OK);
    assert_built(&w, "8f ce 00 05 | 00 00 00 01 | 00 00 00 00"
                     "| 52 45 4d 42 | 01 0b d0 90 | 00 00 00 02");

    packet = vec_packet(&v, "8f ce 00 06 | 00 00 00 01 | 00 00 00 00"
                            "| 52 45 4d 42 | 02 0b d0 90"
                            "| 00 00 00 02 | 00 00 00 03");
    assert_int_equal(parley_rtcp_parse_remb(packet, &remb), PARLEY_RTP_OK);
    assert_int_equal(remb.sender_ssrc, 1);
    assert_int_equal(remb.bitrate, 1000000);
    assert_int_equal(remb.ssrc_count, 2);
    assert_int_equal(remb.ssrcs[0], 2);
    assert_int_equal(remb.ssrcs[1], 3);
    vec_free(&v);

    /* large rates lose only low bits; the largest saturates the fields */
    big = ((uint64_t) 1 << 40) + 12345;
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_remb(&w, 1, big, ssrcs, 2),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_remb(&w, 1, UINT64_MAX, ssrcs, 0),
                     PARLEY_RTP_OK);

    parley_rtcp_iter_init(&it, buf, w.len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_remb(&pkt, &remb), PARLEY_RTP_OK);
    assert_true(remb.bitrate <= big && big - remb.bitrate < (big >> 17));
    assert_int_equal(remb.ssrc_count, 2);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_remb(&pkt, &remb), PARLEY_RTP_OK);
    assert_true(remb.bitrate == (uint64_t) 0x3ffff << 46);

    /* exponent 63: more than 64 bits, saturated */
    packet = vec_packet(&v, "8f ce 00 04 | 00 00 00 01 | 00 00 00 00"
                            "| 52 45 4d 42 | 00 ff ff ff");
    assert_int_equal(parley_rtcp_parse_remb(packet, &remb), PARLEY_RTP_OK);
    assert_true(remb.bitrate == UINT64_MAX);
    vec_free(&v);

    /* another application message; SSRCs past the end; no bitrate */
    expect_parse_rc("8f ce 00 03 | 00 00 00 01 | 00 00 00 00 | 41 42 43 44",
                    PARLEY_RTP_ERR_NOT_FOUND);
    expect_parse_rc("8f ce 00 04 | 00 00 00 01 | 00 00 00 00 | 52 45 4d 42"
                    "| 02 0b d0 90", PARLEY_RTP_ERR_TRUNCATED);
    expect_parse_rc("8f ce 00 03 | 00 00 00 01 | 00 00 00 00 | 52 45 4d 42",
                    PARLEY_RTP_ERR_TRUNCATED);
}


static void
test_parse_twcc(void **state)
{
    vec_t                      v;
    parley_rtcp_twcc_t         tw;
    parley_rtcp_twcc_packet_t  p[8];

    (void) state;

    assert_int_equal(parley_rtcp_parse_twcc(vec_packet(&v, VEC_TWCC), &tw, p,
                                            8),
                     PARLEY_RTP_OK);
    assert_int_equal(tw.sender_ssrc, 1);
    assert_int_equal(tw.media_ssrc, 2);
    assert_int_equal(tw.base_seq, 10);
    assert_int_equal(tw.status_count, 5);
    assert_int_equal(tw.ref_time, 1);
    assert_int_equal(tw.fb_count, 7);
    assert_int_equal(tw.packet_count, 5);

    /* +1 ms from 64 ms; lost; +2 ms; -1 ms; +0.25 ms */
    assert_int_equal(p[0].seq, 10);
    assert_int_equal(p[0].status, PARLEY_RTCP_TWCC_SMALL_DELTA);
    assert_int_equal(p[0].arrival_us, 65000);
    assert_int_equal(p[1].seq, 11);
    assert_int_equal(p[1].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);
    assert_int_equal(p[2].arrival_us, 67000);
    assert_int_equal(p[3].status, PARLEY_RTCP_TWCC_LARGE_DELTA);
    assert_int_equal(p[3].delta, -4);
    assert_int_equal(p[3].arrival_us, 66000);
    assert_int_equal(p[4].seq, 14);
    assert_int_equal(p[4].arrival_us, 66250);

    /* room for two only */
    assert_int_equal(parley_rtcp_parse_twcc(&v.pkt, &tw, p, 2),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(tw.packet_count, 2);
    assert_int_equal(p[0].arrival_us, 65000);
    vec_free(&v);
}


static void
test_parse_twcc_chunks(void **state)
{
    size_t                      i;
    vec_t                       v;
    parley_rtcp_twcc_t          tw;
    parley_rtcp_twcc_packet_t   p[32];
    const parley_rtcp_packet_t *packet;

    (void) state;

    /* a run-length chunk: 20 small deltas of 1 ms */
    packet = vec_packet(&v, "8f cd 00 0a | 00 00 00 01 | 00 00 00 02"
                            "| ff f6 00 14 | 00 00 00 00 | 20 14"
                            "| 04 04 04 04 04 04 04 04 04 04"
                            "| 04 04 04 04 04 04 04 04 04 04"
                            "| 00 00");
    assert_int_equal(parley_rtcp_parse_twcc(packet, &tw, p, 32), PARLEY_RTP_OK);
    assert_int_equal(tw.packet_count, 20);
    for (i = 0; i < 20; i++) {
        assert_int_equal(p[i].seq, (uint16_t) (65526 + i));
        assert_int_equal(p[i].arrival_us, 1000 * (i + 1));
    }
    vec_free(&v);

    /* a one-bit vector: 1 0 1 1 0 0 0 0 0 0 0 0 0 1 */
    packet = vec_packet(&v, "8f cd 00 06 | 00 00 00 01 | 00 00 00 02"
                            "| 00 00 00 0e | 00 00 00 00 | ac 01"
                            "| 01 02 03 04 | 00 00");
    assert_int_equal(parley_rtcp_parse_twcc(packet, &tw, p, 32), PARLEY_RTP_OK);
    assert_int_equal(tw.packet_count, 14);
    assert_int_equal(p[0].arrival_us, 250);
    assert_int_equal(p[1].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);
    assert_int_equal(p[2].arrival_us, 750);
    assert_int_equal(p[3].arrival_us, 1500);
    assert_int_equal(p[12].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);
    assert_int_equal(p[13].arrival_us, 2500);
    vec_free(&v);

    /*
     * 65,535 packets named in 18 bytes of runs (8 x 8,191 not received,
     * then 7): read up to the cap, the rest counted; then the same runs
     * of received packets, whose deltas are not there.
     */
    packet = vec_packet(&v, "8f cd 00 09 | 00 00 00 01 | 00 00 00 02"
                            "| 00 05 ff ff | 00 00 00 00"
                            "| 1f ff 1f ff 1f ff 1f ff 1f ff 1f ff 1f ff"
                            "| 1f ff 00 07 | 00 00");
    assert_int_equal(parley_rtcp_parse_twcc(packet, &tw, p, 32),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(tw.status_count, 65535);
    assert_int_equal(tw.packet_count, 32);
    assert_int_equal(p[31].seq, 5 + 31);
    assert_int_equal(p[31].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);
    vec_free(&v);

    packet = vec_packet(&v, "8f cd 00 09 | 00 00 00 01 | 00 00 00 02"
                            "| 00 05 ff ff | 00 00 00 00"
                            "| 3f ff 3f ff 3f ff 3f ff 3f ff 3f ff 3f ff"
                            "| 3f ff 20 07 | 00 00");
    assert_int_equal(parley_rtcp_parse_twcc(packet, &tw, p, 32),
                     PARLEY_RTP_ERR_TRUNCATED);
    vec_free(&v);

    /* a run that names more than the count: only the count is taken */
    packet = vec_packet(&v, "8f cd 00 06 | 00 00 00 01 | 00 00 00 02"
                            "| 00 05 00 03 | 00 00 00 00 | 3f ff | 01 02 03"
                            "| 00 00 00");
    assert_int_equal(parley_rtcp_parse_twcc(packet, &tw, p, 32),
                     PARLEY_RTP_OK);
    assert_int_equal(tw.packet_count, 3);
    assert_int_equal(p[2].arrival_us, 1500);
    vec_free(&v);
}


static void
test_parse_twcc_malformed(void **state)
{
    (void) state;

    /* 20 packets announced, the chunk covers 7 */
    expect_parse_rc("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 0a 00 14"
                    "| 00 00 01 07 | d1 90 04 08", PARLEY_RTP_ERR_TRUNCATED);

    /* 5 deltas needed, 2 present */
    expect_parse_rc("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 0a 00 05"
                    "| 00 00 01 07 | d1 90 04 08", PARLEY_RTP_ERR_TRUNCATED);

    /* a run of the reserved symbol 11 */
    expect_parse_rc("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 0a 00 01"
                    "| 00 00 01 07 | 60 01 00 00", PARLEY_RTP_ERR_MALFORMED);

    /* no room for base seq, count, reference time */
    expect_parse_rc("8f cd 00 03 | 00 00 00 01 | 00 00 00 02 | 00 0a 00 05",
                    PARLEY_RTP_ERR_TRUNCATED);

    /* zero-length runs forever: bounded by the packet */
    expect_parse_rc("8f cd 00 05 | 00 00 00 01 | 00 00 00 02 | 00 0a 00 01"
                    "| 00 00 01 07 | 00 00 00 00", PARLEY_RTP_ERR_TRUNCATED);
}


static void
build_twcc_expect(const parley_rtcp_twcc_arrival_t *a, size_t n,
    const char *h)
{
    uint8_t               buf[MAX_PKT];
    parley_rtcp_writer_t  w;

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, 0xfb, a, n),
                     PARLEY_RTP_OK);
    assert_built(&w, h);
    assert_int_equal(parley_rtcp_validate(buf, w.len), PARLEY_RTP_OK);
}


static void
test_build_twcc_chunks(void **state)
{
    const parley_rtcp_twcc_arrival_t  run[] = {
        { 1, 65000 }, { 2, 66000 }, { 3, 67000 }
    };
    const parley_rtcp_twcc_arrival_t  gap[] = {
        { 1, 65000 }, { 3, 66000 }
    };
    const parley_rtcp_twcc_arrival_t  large[] = {
        { 1, 65000 }, { 2, 165000 }
    };
    const parley_rtcp_twcc_arrival_t  long_gap[] = {
        { 0, 65000 }, { 100, 66000 }
    };
    const parley_rtcp_twcc_arrival_t  short_run[] = {
        { 0, 65000 }, { 1, 66000 }, { 2, 67000 }, { 3, 68000 }, { 4, 69000 },
        { 5, 70000 }, { 6, 71000 }, { 7, 72000 }, { 8, 73000 }, { 9, 74000 },
        { 12, 75000 }
    };
    const parley_rtcp_twcc_arrival_t  delta_255[] = {
        { 1, 64000 }, { 2, 64000 + 255 * 250 }
    };
    const parley_rtcp_twcc_arrival_t  delta_256[] = {
        { 1, 64000 }, { 2, 64000 + 256 * 250 }
    };

    (void) state;

    /* reference time 1 (64 ms); three equal symbols: one run chunk */
    build_twcc_expect(run, 3, "8f cd 00 06 | 00 00 00 01 | 00 00 00 02"
                              "| 00 01 00 03 | 00 00 01 fb | 20 03"
                              "| 04 04 04 | 00 00 00");

    /* received, lost, received: a one-bit vector chunk */
    build_twcc_expect(gap, 2, "8f cd 00 05 | 00 00 00 01 | 00 00 00 02"
                              "| 00 01 00 03 | 00 00 01 fb | a8 00 | 04 04");

    /* a 100 ms delta is large: a two-bit vector chunk, delta 0x0190 */
    build_twcc_expect(large, 2, "8f cd 00 06 | 00 00 00 01 | 00 00 00 02"
                                "| 00 01 00 02 | 00 00 01 fb | d8 00"
                                "| 04 01 90 | 00 00 00");

    /* a vector, then a run of 86 lost, then a run of one received */
    build_twcc_expect(long_gap, 2, "8f cd 00 06 | 00 00 00 01 | 00 00 00 02"
                                   "| 00 00 00 65 | 00 00 01 fb"
                                   "| a0 00 | 00 56 | 20 01 | 04 04");

    /* a run of 10 is under 14: one one-bit vector takes it and the rest */
    build_twcc_expect(short_run, 11, "8f cd 00 08 | 00 00 00 01 | 00 00 00 02"
                                     "| 00 00 00 0d | 00 00 01 fb | bf f2"
                                     "| 04 04 04 04 04 04 04 04 04 04 04"
                                     "| 00 00 00");

    /* 63.75 ms is the largest small delta; 64 ms is a large one */
    build_twcc_expect(delta_255, 2, "8f cd 00 05 | 00 00 00 01 | 00 00 00 02"
                                    "| 00 01 00 02 | 00 00 01 fb | 20 02"
                                    "| 00 ff");
    build_twcc_expect(delta_256, 2, "8f cd 00 06 | 00 00 00 01 | 00 00 00 02"
                                    "| 00 01 00 02 | 00 00 01 fb | d8 00"
                                    "| 00 01 00 | 00 00 00");
}


static void
test_build_twcc_invalid(void **state)
{
    uint8_t                     buf[MAX_PKT];
    parley_rtcp_writer_t        w;
    parley_rtcp_twcc_arrival_t  a[2];

    (void) state;

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, 0, a, 0),
                     PARLEY_RTP_ERR_INVAL);

    /* 8.2 s apart: more than a 16-bit delta */
    a[0].seq = 1;
    a[0].arrival_us = 0;
    a[1].seq = 2;
    a[1].arrival_us = 8200000;
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, 0, a, 2),
                     PARLEY_RTP_ERR_INVAL);

    /* 8.19 s apart still fits */
    a[1].arrival_us = 8190000;
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, 0, a, 2),
                     PARLEY_RTP_OK);

    /* out of order, duplicate, negative time */
    a[1].seq = 0;
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, 0, a, 2),
                     PARLEY_RTP_ERR_INVAL);
    a[1].seq = 1;
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, 0, a, 2),
                     PARLEY_RTP_ERR_INVAL);
    a[1].seq = 2;
    a[1].arrival_us = -1;
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, 0, a, 2),
                     PARLEY_RTP_ERR_INVAL);
}


/* a small deterministic generator, so a failure can be replayed */
static uint32_t
lcg(uint32_t *s)
{
    *s = *s * 1103515245 + 12345;
    return *s >> 8;
}


static void
twcc_round_trip(uint32_t seed, size_t n)
{
    size_t                      i, k;
    int64_t                     t;
    uint8_t                     buf[16384];
    uint16_t                    seq;
    uint32_t                    r, s;
    parley_rtcp_twcc_t          tw;
    parley_rtcp_iter_t          it;
    parley_rtcp_writer_t        w;
    parley_rtcp_packet_t        pkt;
    parley_rtcp_twcc_arrival_t  a[600];

    static parley_rtcp_twcc_packet_t  p[MAX_TWCC];

    s = seed;
    seq = (uint16_t) lcg(&s);
    t = 1000000 + lcg(&s) % 5000000;

    for (i = 0; i < n; i++) {
        a[i].seq = seq;
        a[i].arrival_us = t;

        /* mostly in sequence, some gaps, a few long ones */
        r = lcg(&s) % 100;
        seq = (uint16_t) (seq + (r < 70 ? 1 : r < 95 ? 2 + r % 5 : 15 + r));

        /* mostly small steps, some reordering, a few long pauses */
        r = lcg(&s) % 100;
        t += r < 80 ? (int64_t) (lcg(&s) % 20000)
             : r < 95 ? -(int64_t) (lcg(&s) % 3000)
             : (int64_t) (lcg(&s) % 5000000);
        if (t < 0) {
            t = 0;
        }
    }

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, 3, a, n), PARLEY_RTP_OK);

    parley_rtcp_iter_init(&it, buf, w.len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_twcc(&pkt, &tw, p, MAX_TWCC),
                     PARLEY_RTP_OK);
    assert_int_equal(tw.base_seq, a[0].seq);
    assert_int_equal(tw.status_count,
                     (uint16_t) (a[n - 1].seq - a[0].seq + 1));

    /* every arrival back, to its 250 us; every gap reported lost */
    k = 0;
    for (i = 0; i < tw.packet_count; i++) {
        if (k < n && p[i].seq == a[k].seq) {
            assert_int_not_equal(p[i].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);
            assert_true(p[i].arrival_us == a[k].arrival_us / 250 * 250);
            k++;

        } else {
            assert_int_equal(p[i].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);
        }
    }
    assert_int_equal(k, n);
}


static void
test_twcc_round_trip(void **state)
{
    uint32_t  seed;

    (void) state;

    for (seed = 1; seed <= 200; seed++) {
        twcc_round_trip(seed, 1 + seed * 7 % 600);
    }
}


static void
test_build_reports_round_trip(void **state)
{
    size_t                i;
    uint8_t               buf[MAX_PKT];
    parley_rtcp_sr_t      sr, sr2;
    parley_rtcp_rr_t      rr, rr2;
    parley_rtcp_iter_t    it;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  pkt;

    (void) state;

    memset(&sr, 0, sizeof(sr));
    sr.ssrc = 0x11223344;
    sr.ntp_sec = 0x83aa7e80;
    sr.ntp_frac = 0x12345678;
    sr.rtp_ts = 123456;
    sr.packet_count = 100;
    sr.octet_count = 16000;
    sr.block_count = 1;
    sr.blocks[0].ssrc = 0x55667788;
    sr.blocks[0].fraction_lost = 0x40;
    sr.blocks[0].cumulative_lost = -2;
    sr.blocks[0].ext_highest_seq = 0x00010005;
    sr.blocks[0].jitter = 32;
    sr.blocks[0].lsr = 0x7e801234;
    sr.blocks[0].dlsr = 65536;

    /* exactly the hand-written SR */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_sr(&w, &sr), PARLEY_RTP_OK);
    assert_built(&w, VEC_SR);

    /* an RR with all 31 blocks, loss clamped to 24 bits both ways */
    memset(&rr, 0, sizeof(rr));
    rr.ssrc = 7;
    rr.block_count = PARLEY_RTCP_MAX_COUNT;
    for (i = 0; i < rr.block_count; i++) {
        rr.blocks[i].ssrc = (uint32_t) i;
        rr.blocks[i].cumulative_lost = (int32_t) i * 1000 - 5000;
        rr.blocks[i].ext_highest_seq = (uint32_t) i << 16;
    }
    rr.blocks[1].cumulative_lost = 100000000;
    rr.blocks[2].cumulative_lost = -100000000;

    assert_int_equal(parley_rtcp_build_rr(&w, &rr), PARLEY_RTP_OK);

    parley_rtcp_iter_init(&it, buf, w.len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_sr(&pkt, &sr2), PARLEY_RTP_OK);
    assert_int_equal(sr2.blocks[0].ssrc, sr.blocks[0].ssrc);
    assert_int_equal(sr2.blocks[0].fraction_lost, sr.blocks[0].fraction_lost);
    assert_int_equal(sr2.blocks[0].cumulative_lost, -2);
    assert_int_equal(sr2.blocks[0].ext_highest_seq,
                     sr.blocks[0].ext_highest_seq);
    assert_int_equal(sr2.blocks[0].jitter, sr.blocks[0].jitter);
    assert_int_equal(sr2.blocks[0].lsr, sr.blocks[0].lsr);
    assert_int_equal(sr2.blocks[0].dlsr, sr.blocks[0].dlsr);
    assert_int_equal(sr2.octet_count, 16000);

    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_rr(&pkt, &rr2), PARLEY_RTP_OK);
    assert_int_equal(rr2.block_count, 31);
    assert_int_equal(rr2.blocks[1].cumulative_lost, 0x7fffff);
    assert_int_equal(rr2.blocks[2].cumulative_lost, -0x800000);
    for (i = 3; i < rr.block_count; i++) {
        assert_int_equal(rr2.blocks[i].cumulative_lost,
                         rr.blocks[i].cumulative_lost);
        assert_int_equal(rr2.blocks[i].ext_highest_seq, (uint32_t) i << 16);
    }

    rr.block_count = 32;
    assert_int_equal(parley_rtcp_build_rr(&w, &rr), PARLEY_RTP_ERR_INVAL);
}


static void
test_build_sdes_bye_round_trip(void **state)
{
    uint8_t               buf[MAX_PKT], name[255];
    const uint32_t        ssrcs[] = { 0x11223344, 0x55 };
    parley_rtcp_bye_t     bye;
    parley_rtcp_sdes_t    sdes;
    parley_rtcp_iter_t    it;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  pkt;

    (void) state;

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_sdes_cname(&w, 0x11223344,
                                                  (const uint8_t *) "alice", 5),
                     PARLEY_RTP_OK);
    assert_built(&w, "81 ca 00 03 | 11 22 33 44 | 01 05 61 6c 69 63 65 00");

    /* a CNAME of 6 needs a second null octet's word */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(
        parley_rtcp_build_sdes_cname(&w, 1, (const uint8_t *) "alice2", 6),
        PARLEY_RTP_OK);
    assert_built(&w, "81 ca 00 04 | 00 00 00 01 | 01 06 61 6c 69 63 65 32"
                     "| 00 00 00 00");

    memset(name, 'x', sizeof(name));
    assert_int_equal(parley_rtcp_build_sdes_cname(&w, 2, name, 255),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_sdes_cname(&w, 2, name, 0),
                     PARLEY_RTP_ERR_INVAL);

    assert_int_equal(parley_rtcp_build_bye(&w, ssrcs, 1,
                                           (const uint8_t *) "goodbye!", 8),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_bye(&w, ssrcs, 2, NULL, 0),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_validate(buf, w.len), PARLEY_RTP_OK);

    parley_rtcp_iter_init(&it, buf, w.len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_sdes(&pkt, &sdes), PARLEY_RTP_OK);
    assert_int_equal(sdes.chunks[0].cname_len, 255);
    assert_memory_equal(sdes.chunks[0].cname, name, 255);

    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_memory_equal(pkt.data, "\x81\xcb\x00\x04", 4);
    assert_int_equal(parley_rtcp_parse_bye(&pkt, &bye), PARLEY_RTP_OK);
    assert_int_equal(bye.reason_len, 8);
    assert_memory_equal(bye.reason, "goodbye!", 8);

    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_bye(&pkt, &bye), PARLEY_RTP_OK);
    assert_int_equal(bye.ssrc_count, 2);
    assert_int_equal(bye.ssrcs[1], 0x55);
    assert_null(bye.reason);
}


static void
test_writer_no_space(void **state)
{
    uint8_t               buf[40];
    const uint16_t        lost[] = { 1, 100 };
    parley_rtcp_rr_t      rr;
    parley_rtcp_writer_t  w;

    (void) state;

    memset(&rr, 0, sizeof(rr));
    rr.block_count = 2;

    /* 8 + 48 bytes do not fit in 40: nothing written */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_rr(&w, &rr), PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(w.len, 0);

    assert_int_equal(parley_rtcp_build_pli(&w, 1, 2), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_pli(&w, 1, 2), PARLEY_RTP_OK);
    assert_int_equal(w.len, 24);

    /* a 20-byte NACK does not fit in the 16 left; a 12-byte PLI does */
    assert_int_equal(parley_rtcp_build_nack(&w, 1, 2, lost, 2),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(w.len, 24);
    assert_int_equal(parley_rtcp_build_pli(&w, 1, 2), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_pli(&w, 1, 2),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(w.len, 36);
    assert_int_equal(parley_rtcp_validate(buf, w.len), PARLEY_RTP_OK);
}


static void
test_compound_assembly(void **state)
{
    size_t                            n;
    uint8_t                           buf[MAX_PKT], fir_seq;
    uint8_t                           types[8], fmts[8];
    const uint16_t                    lost[] = { 10, 12 };
    const uint32_t                    ssrc = 0xabcdef01;
    parley_rtp_rc_t                   rc;
    parley_rtcp_rr_t                  rr;
    parley_rtcp_iter_t                it;
    parley_rtcp_writer_t              w;
    parley_rtcp_packet_t              pkt;
    const parley_rtcp_twcc_arrival_t  a[] = { { 1, 1000 }, { 3, 2000 } };

    (void) state;

    memset(&rr, 0, sizeof(rr));
    rr.ssrc = ssrc;

    /* RFC 3550 6.1: a report first, then the SDES CNAME, then feedback */
    fir_seq = 0;
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_rr(&w, &rr), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_sdes_cname(&w, ssrc,
                                                  (const uint8_t *) "x", 1),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_nack(&w, ssrc, 2, lost, 2),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_twcc(&w, ssrc, 2, 0, a, 2),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_fir(&w, ssrc, 3, &fir_seq),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_build_remb(&w, ssrc, 500000, &ssrc, 1),
                     PARLEY_RTP_OK);

    assert_int_equal(parley_rtcp_validate(buf, w.len), PARLEY_RTP_OK);

    parley_rtcp_iter_init(&it, buf, w.len);
    n = 0;
    while ((rc = parley_rtcp_next(&it, &pkt)) == PARLEY_RTP_OK) {
        assert_int_equal(parse_any(&pkt), PARLEY_RTP_OK);
        types[n] = pkt.type;
        fmts[n++] = pkt.count;
    }

    assert_int_equal(rc, PARLEY_RTP_DONE);
    assert_int_equal(n, 6);
    assert_int_equal(types[0], PARLEY_RTCP_RR);
    assert_int_equal(types[1], PARLEY_RTCP_SDES);
    assert_int_equal(types[2], PARLEY_RTCP_RTPFB);
    assert_int_equal(fmts[2], PARLEY_RTCP_FMT_NACK);
    assert_int_equal(types[3], PARLEY_RTCP_RTPFB);
    assert_int_equal(fmts[3], PARLEY_RTCP_FMT_TWCC);
    assert_int_equal(types[4], PARLEY_RTCP_PSFB);
    assert_int_equal(fmts[4], PARLEY_RTCP_FMT_FIR);
    assert_int_equal(types[5], PARLEY_RTCP_PSFB);
    assert_int_equal(fmts[5], PARLEY_RTCP_FMT_AFB);
}


static void
test_report_block_from_stats(void **state)
{
    uint32_t                    seq;
    parley_rtp_stats_t          s;
    parley_rtcp_report_block_t  rb;

    (void) state;

    parley_rtp_stats_init(&s, 90000);

    /* nothing yet: an empty block */
    parley_rtcp_report_block_from_stats(&s, 9, 0, &rb);
    assert_int_equal(rb.ssrc, 9);
    assert_int_equal(rb.ext_highest_seq, 0);
    assert_int_equal(rb.cumulative_lost, 0);

    /* 1000 is probation; from 1001 to 1099, every x5 lost: 10 of 99 */
    for (seq = 1000; seq < 1100; seq++) {
        if (seq % 10 != 5) {
            (void) parley_rtp_stats_update(&s, (uint16_t) seq, seq * 3000,
                                           seq * 33333);
        }
    }

    parley_rtcp_report_block_from_stats(&s, 9, 0, &rb);
    assert_int_equal(rb.ext_highest_seq, 1099);
    assert_int_equal(rb.cumulative_lost, 10);
    assert_int_equal(rb.fraction_lost, (10 << 8) / 99);
    assert_int_equal(rb.lsr, 0);
    assert_int_equal(rb.dlsr, 0);

    /* a clean interval: no fraction lost, the total stays */
    for (seq = 1100; seq < 1150; seq++) {
        (void) parley_rtp_stats_update(&s, (uint16_t) seq, seq * 3000,
                                       seq * 33333);
    }

    parley_rtcp_report_block_from_stats(&s, 9, 0, &rb);
    assert_int_equal(rb.fraction_lost, 0);
    assert_int_equal(rb.cumulative_lost, 10);

    /* duplicates: more received than expected, loss goes down, never < 0 */
    for (seq = 0; seq < 5; seq++) {
        (void) parley_rtp_stats_update(&s, 1149, 1149 * 3000, 1149 * 33333);
    }

    parley_rtcp_report_block_from_stats(&s, 9, 0, &rb);
    assert_int_equal(rb.cumulative_lost, 5);
    assert_int_equal(rb.fraction_lost, 0);

    /* RFC 3550 6.4.1: LSR from the SR, DLSR 1.5 s later in 1/65536 s */
    parley_rtp_stats_on_sr(&s, parley_rtcp_ntp_middle(0x83aa7e80, 0x12345678),
                           5000000);
    parley_rtcp_report_block_from_stats(&s, 9, 6500000, &rb);
    assert_int_equal(rb.lsr, 0x7e801234);
    assert_int_equal(rb.dlsr, 98304);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_sr),
        cmocka_unit_test(test_parse_rr),
        cmocka_unit_test(test_parse_sdes),
        cmocka_unit_test(test_parse_bye),
        cmocka_unit_test(test_compound_iteration),
        cmocka_unit_test(test_compound_malformed),
        cmocka_unit_test(test_reports_malformed),
        cmocka_unit_test(test_parse_nack),
        cmocka_unit_test(test_build_nack_wrap),
        cmocka_unit_test(test_nack_round_trip),
        cmocka_unit_test(test_pli_fir),
        cmocka_unit_test(test_remb),
        cmocka_unit_test(test_parse_twcc),
        cmocka_unit_test(test_parse_twcc_chunks),
        cmocka_unit_test(test_parse_twcc_malformed),
        cmocka_unit_test(test_build_twcc_chunks),
        cmocka_unit_test(test_build_twcc_invalid),
        cmocka_unit_test(test_twcc_round_trip),
        cmocka_unit_test(test_build_reports_round_trip),
        cmocka_unit_test(test_build_sdes_bye_round_trip),
        cmocka_unit_test(test_writer_no_space),
        cmocka_unit_test(test_compound_assembly),
        cmocka_unit_test(test_report_block_from_stats),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
