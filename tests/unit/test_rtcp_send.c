/*
 * Unit tests for a leg's sender reports and the subscriber's reports
 * about it (relay/parley_rtcp_send.c): SR bytes, timestamp translation
 * from the publisher's SR, RTT against RFC 3550 6.4.1's worked example,
 * and the report interval.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parley_rtcp_recv.h"
#include "parley_rtcp_send.h"


#define LEG       0x01020304
#define SUB       0xaabbccdd
#define MS        1000ULL
#define SEC       1000000ULL


/*
 * RFC 3550 6.4.1's example: an RR arriving at A = 0xb710:8000 (46864.500
 * s) with LSR 0xb705:2000 (46853.125 s) and DLSR 0x0005:4000 (5.250 s):
 * RTT 0x0006:2000, 6.125 s. Here the SR leaves with that LSR at 100 s and
 * the RR comes 11.375 s later.
 */
#define RFC_NTP   0x0000b70520000000ULL

static const uint8_t  rr_rfc[] = {
    0x81, 0xc9, 0x00, 0x07, 0xaa, 0xbb, 0xcc, 0xdd,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x00, 0x07,
    0x00, 0x01, 0x00, 0x20, 0x00, 0x00, 0x01, 0x2c,
    0xb7, 0x05, 0x20, 0x00, 0x00, 0x05, 0x40, 0x00
};


static parley_rtcp_send_t *
send_new(void)
{
    parley_rtcp_send_t  *s;

    s = malloc(sizeof(*s));
    assert_non_null(s);
    assert_int_equal(parley_rtcp_send_init(s, LEG, 90000,
                                           (const uint8_t *) "ab", 2, 0),
                     PARLEY_RTP_OK);

    return s;
}


static void
parse_sr(const uint8_t *buf, size_t len, parley_rtcp_sr_t *sr)
{
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    parley_rtcp_iter_init(&it, buf, len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_sr(&pkt, sr), PARLEY_RTP_OK);
}


static void
test_init_and_silence(void **state)
{
    uint8_t               buf[128];
    parley_rtcp_send_t   *s;
    parley_rtcp_writer_t  w;

    (void) state;

    s = malloc(sizeof(*s));
    assert_non_null(s);
    assert_int_equal(parley_rtcp_send_init(s, LEG, 0,
                                           (const uint8_t *) "ab", 2, 0),
                     PARLEY_RTP_ERR_INVAL);
    assert_int_equal(parley_rtcp_send_init(s, LEG, 90000, NULL, 0, 0),
                     PARLEY_RTP_ERR_INVAL);
    free(s);

    /* nothing sent: no SR (RFC 3550 6.4), no timer */
    s = send_new();
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_send_build(s, &w, SEC, RFC_NTP, 0),
                     PARLEY_RTP_DONE);
    assert_int_equal(w.len, 0);
    assert_int_equal(parley_rtcp_send_due(s, 100 * SEC), 0);
    assert_int_equal(parley_rtcp_send_next_us(s), 0);

    free(s);
}


static void
test_sr_exact_without_source(void **state)
{
    uint8_t               buf[128];
    parley_rtcp_send_t   *s;
    parley_rtcp_writer_t  w;

    /*
     * ts 93000 sent at 5.033333 s, the SR 100 ms later: 9000 ticks more,
     * 102000; two packets, 300 payload octets; NTP from the caller.
     */
    static const uint8_t  want[] = {
        0x80, 0xc8, 0x00, 0x06, 0x01, 0x02, 0x03, 0x04,
        0x83, 0xaa, 0x7e, 0x80, 0x80, 0x00, 0x00, 0x00,
        0x00, 0x01, 0x8e, 0x70, 0x00, 0x00, 0x00, 0x02,
        0x00, 0x00, 0x01, 0x2c,
        0x81, 0xca, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04,
        0x01, 0x02, 0x61, 0x62, 0x00, 0x00, 0x00, 0x00
    };

    (void) state;

    s = send_new();
    parley_rtcp_send_on_rtp(s, 90000, 100, 5 * SEC);
    parley_rtcp_send_on_rtp(s, 93000, 200, 5 * SEC + 33333);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_send_build(s, &w, 5 * SEC + 133333,
                                            0x83aa7e8080000000ULL, 0),
                     PARLEY_RTP_OK);
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    free(s);
}


static void
test_sr_from_publisher_timeline(void **state)
{
    uint8_t                buf[128];
    parley_rtcp_sr_t       sr;
    parley_rtcp_send_t    *s;
    parley_rtcp_writer_t   w;
    parley_rtcp_sr_info_t  src;

    (void) state;

    s = send_new();
    parley_rtcp_send_on_rtp(s, 5, 100, 7 * SEC);

    /* the publisher's SR: NTP e0000000.0, ts 1000000, came at 7 s */
    memset(&src, 0, sizeof(src));
    src.ntp = 0xe000000000000000ULL;
    src.rtp_ts = 1000000;
    src.arrival_us = 7 * SEC;

    /* leg ts = publisher ts - 4096: the offset wraps */
    parley_rtcp_send_set_source(s, &src, 0xfffff000);

    /* 250 ms on: NTP + 0.25 s, ts + 22500; the caller's NTP is unused */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_send_build_sr(s, &w, 7 * SEC + 250 * MS,
                                               RFC_NTP),
                     PARLEY_RTP_OK);
    assert_int_equal(w.len, 28);
    parse_sr(buf, w.len, &sr);
    assert_int_equal(sr.ssrc, LEG);
    assert_int_equal(sr.ntp_sec, 0xe0000000);
    assert_int_equal(sr.ntp_frac, 0x40000000);
    assert_int_equal(sr.rtp_ts, 1000000 - 4096 + 22500);
    assert_int_equal(sr.packet_count, 1);
    assert_int_equal(sr.octet_count, 100);
    assert_int_equal(sr.block_count, 0);

    /* a layer without an SR yet: back to the caller's clock */
    parley_rtcp_send_set_source(s, NULL, 0);
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_send_build_sr(s, &w, 8 * SEC, RFC_NTP),
                     PARLEY_RTP_OK);
    parse_sr(buf, w.len, &sr);
    assert_int_equal(sr.ntp_sec, 0x0000b705);
    assert_int_equal(sr.ntp_frac, 0x20000000);
    assert_int_equal(sr.rtp_ts, 5 + 90000);

    free(s);
}


static void
test_rtt_rfc_example(void **state)
{
    uint8_t                         buf[128];
    parley_rtcp_send_t             *s;
    parley_rtcp_writer_t            w;
    const parley_rtcp_leg_stats_t  *st;

    (void) state;

    s = send_new();
    parley_rtcp_send_on_rtp(s, 0, 100, 99 * SEC);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_send_build(s, &w, 100 * SEC, RFC_NTP, 0),
                     PARLEY_RTP_OK);

    assert_int_equal(parley_rtcp_send_on_rtcp(s, rr_rfc, sizeof(rr_rfc),
                                              100 * SEC + 11375 * MS),
                     PARLEY_RTP_OK);

    st = parley_rtcp_send_stats(s);
    assert_true(st->have_report);
    assert_true(st->have_rtt);
    assert_int_equal(st->rtt_q16, 0x00062000);
    assert_int_equal(st->rtt_us, 6125000);
    assert_int_equal(st->srtt_us, 6125000);
    assert_int_equal(st->fraction_lost, 5);
    assert_int_equal(st->cumulative_lost, 7);
    assert_int_equal(st->ext_highest_seq, 0x10020);
    assert_int_equal(st->jitter, 300);
    assert_int_equal(st->jitter_us, 3333);
    assert_int_equal(st->reports, 1);

    /* the same report 2 s later: RTT 8.125 s, smoothed by 1/8 */
    assert_int_equal(parley_rtcp_send_on_rtcp(s, rr_rfc, sizeof(rr_rfc),
                                              100 * SEC + 13375 * MS),
                     PARLEY_RTP_OK);
    assert_int_equal(st->rtt_us, 8125000);
    assert_int_equal(st->srtt_us, (6125000 * 7 + 8125000) / 8);

    free(s);
}


static void
test_rtt_needs_our_sr(void **state)
{
    uint8_t                         buf[128], rr[sizeof(rr_rfc)];
    parley_rtcp_send_t             *s;
    parley_rtcp_writer_t            w;
    parley_rtcp_report_block_t      rb;
    const parley_rtcp_leg_stats_t  *st;

    (void) state;

    s = send_new();
    st = parley_rtcp_send_stats(s);
    parley_rtcp_send_on_rtp(s, 0, 100, 99 * SEC);

    /* before any SR: loss is taken, no RTT */
    assert_int_equal(parley_rtcp_send_on_rtcp(s, rr_rfc, sizeof(rr_rfc),
                                              100 * SEC),
                     PARLEY_RTP_OK);
    assert_true(st->have_report);
    assert_false(st->have_rtt);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_send_build(s, &w, 100 * SEC, RFC_NTP, 0),
                     PARLEY_RTP_OK);

    /* a block about another SSRC changes nothing */
    memcpy(rr, rr_rfc, sizeof(rr));
    rr[11] = 0x05;
    assert_int_equal(parley_rtcp_send_on_rtcp(s, rr, sizeof(rr), 112 * SEC),
                     PARLEY_RTP_OK);
    assert_int_equal(st->reports, 1);
    assert_false(st->have_rtt);

    /* DLSR longer than the time since the SR: 0, not a wrap */
    memset(&rb, 0, sizeof(rb));
    rb.ssrc = LEG;
    rb.lsr = 0xb7052000;
    rb.dlsr = 0x00100000;
    parley_rtcp_send_on_report_block(s, &rb, 101 * SEC);
    assert_true(st->have_rtt);
    assert_int_equal(st->rtt_q16, 0);

    /* a broken compound is refused whole */
    memcpy(rr, rr_rfc, sizeof(rr));
    rr[3] = 0x08;
    assert_int_not_equal(parley_rtcp_send_on_rtcp(s, rr, sizeof(rr),
                                                  112 * SEC),
                         PARLEY_RTP_OK);
    assert_int_equal(st->reports, 2);

    free(s);
}


static void
test_interval_and_no_space(void **state)
{
    uint8_t                         buf[128];
    parley_rtcp_send_t             *s;
    parley_rtcp_writer_t            w;
    const parley_rtcp_leg_stats_t  *st;

    (void) state;

    s = send_new();
    st = parley_rtcp_send_stats(s);

    parley_rtcp_send_on_rtp(s, 0, 100, 99 * SEC);
    assert_int_equal(parley_rtcp_send_next_us(s), 99 * SEC + 500 * MS);
    assert_int_equal(parley_rtcp_send_due(s, 99 * SEC + 499 * MS), 0);
    assert_int_equal(parley_rtcp_send_due(s, 99 * SEC + 500 * MS), 1);

    /* room for the SR, not the SDES: nothing sent, nothing remembered */
    parley_rtcp_writer_init(&w, buf, 30);
    assert_int_equal(parley_rtcp_send_build(s, &w, 100 * SEC, RFC_NTP, 0),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(w.len, 0);
    assert_int_equal(parley_rtcp_send_due(s, 100 * SEC), 1);

    assert_int_equal(parley_rtcp_send_on_rtcp(s, rr_rfc, sizeof(rr_rfc),
                                              111 * SEC),
                     PARLEY_RTP_OK);
    assert_false(st->have_rtt);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_send_build(s, &w, 100 * SEC, RFC_NTP,
                                            0x40000000),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_send_next_us(s), 100 * SEC + 750 * MS);
    assert_int_equal(parley_rtcp_send_due(s, 100 * SEC + 749 * MS), 0);

    free(s);
}


static void
test_sr_history_is_bounded(void **state)
{
    size_t                          i;
    uint8_t                         buf[128];
    parley_rtcp_send_t             *s;
    parley_rtcp_writer_t            w;
    parley_rtcp_report_block_t      rb;
    const parley_rtcp_leg_stats_t  *st;

    (void) state;

    s = send_new();
    st = parley_rtcp_send_stats(s);
    parley_rtcp_send_on_rtp(s, 0, 100, SEC);

    /* SR i has NTP i s: LSR i << 16 */
    for (i = 1; i <= PARLEY_RTCP_SEND_SR_HISTORY + 1; i++) {
        parley_rtcp_writer_init(&w, buf, sizeof(buf));
        assert_int_equal(parley_rtcp_send_build_sr(s, &w, i * SEC,
                                                   (uint64_t) i << 32),
                         PARLEY_RTP_OK);
    }

    memset(&rb, 0, sizeof(rb));
    rb.ssrc = LEG;

    /* the oldest one is forgotten */
    rb.lsr = 1 << 16;
    parley_rtcp_send_on_report_block(s, &rb, 20 * SEC);
    assert_false(st->have_rtt);

    /* SR 2, sent at 2 s, answered at 2.1 s after 40 ms: RTT 60 ms */
    rb.lsr = 2 << 16;
    rb.dlsr = parley_rtcp_us_to_q16(40 * MS);
    parley_rtcp_send_on_report_block(s, &rb, 2 * SEC + 100 * MS);
    assert_true(st->have_rtt);
    assert_true(st->rtt_us >= 59 * MS && st->rtt_us <= 61 * MS);

    free(s);
}


/* the glue's path: publisher SR -> parley_rtcp_recv -> the leg's SR */
static void
test_publisher_sr_to_leg_sr(void **state)
{
    uint8_t                buf[128];
    parley_rtcp_sr_t       sr;
    parley_rtp_header_t    h;
    parley_rtcp_recv_t    *r;
    parley_rtcp_send_t    *s;
    parley_rtcp_writer_t   w;
    parley_rtcp_sr_info_t  src;

    /* SR of 0x55667788: NTP 83aa7e80.12345678, RTP ts 123456 */
    static const uint8_t  pub_sr[] = {
        0x80, 0xc8, 0x00, 0x06, 0x55, 0x66, 0x77, 0x88,
        0x83, 0xaa, 0x7e, 0x80, 0x12, 0x34, 0x56, 0x78,
        0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x64,
        0x00, 0x00, 0x3e, 0x80
    };

    (void) state;

    r = malloc(sizeof(*r));
    assert_non_null(r);
    assert_int_equal(parley_rtcp_recv_init(r, SUB, (const uint8_t *) "x", 1,
                                           0),
                     PARLEY_RTP_OK);

    memset(&h, 0, sizeof(h));
    h.ssrc = 0x55667788;
    h.seq = 1;
    assert_int_equal(parley_rtcp_recv_on_rtp(r, &h, 100, 90000, SEC),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_on_rtcp(r, pub_sr, sizeof(pub_sr),
                                              2 * SEC),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_last_sr(r, 0x55667788, &src), 1);

    s = send_new();
    parley_rtcp_send_on_rtp(s, 124000, 100, 2 * SEC);
    parley_rtcp_send_set_source(s, &src, 1000);

    /* 100 ms after the SR came: NTP + 0x19999999, ts + 1000 + 9000 */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_send_build_sr(s, &w, 2 * SEC + 100 * MS, 0),
                     PARLEY_RTP_OK);
    parse_sr(buf, w.len, &sr);
    assert_int_equal(sr.ntp_sec, 0x83aa7e80);
    assert_int_equal(sr.ntp_frac, 0x12345678 + 0x19999999);
    assert_int_equal(sr.rtp_ts, 123456 + 1000 + 9000);

    free(s);
    free(r);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_silence),
        cmocka_unit_test(test_sr_exact_without_source),
        cmocka_unit_test(test_sr_from_publisher_timeline),
        cmocka_unit_test(test_rtt_rfc_example),
        cmocka_unit_test(test_rtt_needs_our_sr),
        cmocka_unit_test(test_interval_and_no_space),
        cmocka_unit_test(test_sr_history_is_bounded),
        cmocka_unit_test(test_publisher_sr_to_leg_sr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
