/*
 * Unit tests for receiver reports towards a publisher
 * (relay/parley_rtcp_recv.c) and the report timer and NTP arithmetic
 * (relay/parley_rtcp_report.c). Reports are pinned byte for byte where the
 * numbers are small, and read back with the parsers of parley_rtcp.c.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parley_rtcp_recv.h"


#define SFU       0x11223344
#define VIDEO     0x55667788
#define AUDIO     0x99aabbcc
#define MS        1000ULL
#define SEC       1000000ULL


/* SR of VIDEO: NTP 83aa7e80.12345678, middle 7e801234 */
static const uint8_t  sr_video[] = {
    0x80, 0xc8, 0x00, 0x06, 0x55, 0x66, 0x77, 0x88,
    0x83, 0xaa, 0x7e, 0x80, 0x12, 0x34, 0x56, 0x78,
    0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x64,
    0x00, 0x00, 0x3e, 0x80
};


static parley_rtcp_recv_t *
recv_new(void)
{
    parley_rtcp_recv_t  *r;

    r = malloc(sizeof(*r));
    assert_non_null(r);
    assert_int_equal(parley_rtcp_recv_init(r, SFU, (const uint8_t *) "ab", 2,
                                           0),
                     PARLEY_RTP_OK);

    return r;
}


static void
feed(parley_rtcp_recv_t *r, uint32_t ssrc, uint16_t seq, uint32_t ts,
    size_t len, uint64_t now_us)
{
    parley_rtp_header_t  h;

    memset(&h, 0, sizeof(h));
    h.ssrc = ssrc;
    h.seq = seq;
    h.ts = ts;

    assert_int_equal(parley_rtcp_recv_on_rtp(r, &h, len, 90000, now_us),
                     PARLEY_RTP_OK);
}


/*
 * n packets from seq "first", one every 20 ms from t0 with timestamps to
 * match (90 kHz, from the time), skipping every lost_every-th (-1: none).
 */
static void
feed_run(parley_rtcp_recv_t *r, uint32_t ssrc, uint16_t first, size_t n,
    int lost_every, size_t len, uint64_t t0)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (lost_every > 0 && i % lost_every == (size_t) lost_every - 1) {
            continue;
        }
        feed(r, ssrc, (uint16_t) (first + i),
             (uint32_t) ((t0 + i * 20 * MS) * 90 / 1000), len,
             t0 + i * 20 * MS);
    }
}


static void
parse_rr(const uint8_t *buf, size_t len, parley_rtcp_rr_t *rr,
    parley_rtcp_remb_t *remb)
{
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    assert_int_equal(parley_rtcp_validate(buf, len), PARLEY_RTP_OK);
    parley_rtcp_iter_init(&it, buf, len);

    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_rr(&pkt, rr), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(pkt.type, PARLEY_RTCP_SDES);

    if (remb != NULL) {
        assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
        assert_int_equal(parley_rtcp_parse_remb(&pkt, remb), PARLEY_RTP_OK);
    }

    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_DONE);
}


static void
test_init_checks_cname(void **state)
{
    uint8_t              long_cname[256];
    parley_rtcp_recv_t  *r;

    (void) state;

    r = malloc(sizeof(*r));
    assert_non_null(r);
    memset(long_cname, 'x', sizeof(long_cname));

    assert_int_equal(parley_rtcp_recv_init(r, SFU, NULL, 0, 0),
                     PARLEY_RTP_ERR_INVAL);
    assert_int_equal(parley_rtcp_recv_init(r, SFU, long_cname, 256, 0),
                     PARLEY_RTP_ERR_INVAL);
    assert_int_equal(parley_rtcp_recv_init(r, SFU, long_cname, 255, 0),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_enable_remb(r, 10, 20, 30),
                     PARLEY_RTP_ERR_INVAL);
    assert_int_equal(parley_rtcp_recv_remb_bps(r), 0);

    free(r);
}


static void
test_rr_exact(void **state)
{
    uint8_t               buf[256];
    parley_rtcp_recv_t   *r;
    parley_rtcp_writer_t  w;
    parley_rtcp_sr_info_t sr;

    /*
     * 1000..1009 with 1005 lost: 1000 is probation (RFC 3550 A.1), so the
     * base is 1001, 8 received of 9 expected: fraction 256/9 = 28, one
     * lost; packets on time: jitter 0; the SR 500 ms before: DLSR 0x8000.
     */
    static const uint8_t  want[] = {
        0x81, 0xc9, 0x00, 0x07, 0x11, 0x22, 0x33, 0x44,
        0x55, 0x66, 0x77, 0x88, 0x1c, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x03, 0xf1, 0x00, 0x00, 0x00, 0x00,
        0x7e, 0x80, 0x12, 0x34, 0x00, 0x00, 0x80, 0x00,
        0x81, 0xca, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44,
        0x01, 0x02, 0x61, 0x62, 0x00, 0x00, 0x00, 0x00
    };

    static const uint8_t  empty[] = {
        0x80, 0xc9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44,
        0x81, 0xca, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44,
        0x01, 0x02, 0x61, 0x62, 0x00, 0x00, 0x00, 0x00
    };

    (void) state;

    r = recv_new();
    assert_int_equal(parley_rtcp_recv_last_sr(r, VIDEO, &sr), 0);

    feed_run(r, VIDEO, 1000, 5, -1, 1000, 1 * SEC);
    feed_run(r, VIDEO, 1006, 4, -1, 1000, 1 * SEC + 120 * MS);

    assert_int_equal(parley_rtcp_recv_on_rtcp(r, sr_video, sizeof(sr_video),
                                              2 * SEC),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_last_sr(r, VIDEO, &sr), 1);
    assert_true(sr.ntp == 0x83aa7e8012345678ULL);
    assert_int_equal(sr.rtp_ts, 123456);
    assert_int_equal(sr.arrival_us, 2 * SEC);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 2 * SEC + 500 * MS, 0),
                     PARLEY_RTP_OK);
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    /* nothing heard since: an RR without blocks, still with the CNAME */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 3 * SEC, 0), PARLEY_RTP_OK);
    assert_int_equal(w.len, sizeof(empty));
    assert_memory_equal(buf, empty, sizeof(empty));

    free(r);
}


static void
test_seq_wrap_and_two_sources(void **state)
{
    uint8_t               buf[256];
    parley_rtcp_rr_t      rr;
    parley_rtcp_recv_t   *r;
    parley_rtcp_writer_t  w;

    (void) state;

    r = recv_new();

    /* 65530 .. 10 across the wrap, every 4th lost; audio alongside */
    feed_run(r, VIDEO, 65530, 17, 4, 1000, 0);
    feed_run(r, AUDIO, 7, 16, -1, 100, 0);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, SEC, 0), PARLEY_RTP_OK);
    parse_rr(buf, w.len, &rr, NULL);

    assert_int_equal(rr.ssrc, SFU);
    assert_int_equal(rr.block_count, 2);
    assert_int_equal(rr.blocks[0].ssrc, VIDEO);
    assert_int_equal(rr.blocks[0].ext_highest_seq, 0x10000 + 10);
    /* 65531 .. 10 expected (16), lost 65533, 1, 5 and 9 */
    assert_int_equal(rr.blocks[0].cumulative_lost, 4);
    assert_int_equal(rr.blocks[0].fraction_lost, 4 * 256 / 16);
    assert_int_equal(rr.blocks[0].lsr, 0);
    assert_int_equal(rr.blocks[0].dlsr, 0);

    assert_int_equal(rr.blocks[1].ssrc, AUDIO);
    assert_int_equal(rr.blocks[1].cumulative_lost, 0);
    assert_int_equal(rr.blocks[1].ext_highest_seq, 22);

    free(r);
}


static void
test_rtcp_input(void **state)
{
    uint8_t               bad[sizeof(sr_video)];
    parley_rtcp_recv_t   *r;
    parley_rtcp_sr_info_t sr;

    static const uint8_t  bye[] = {
        0x81, 0xcb, 0x00, 0x01, 0x55, 0x66, 0x77, 0x88
    };

    (void) state;

    r = recv_new();

    /* an SR before any media of its SSRC: nothing to remember it for */
    assert_int_equal(parley_rtcp_recv_on_rtcp(r, sr_video, sizeof(sr_video),
                                              SEC),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_last_sr(r, VIDEO, &sr), 0);

    feed(r, VIDEO, 1, 0, 100, SEC);

    /* a bad length: the whole compound is dropped (RFC 3550 A.2) */
    memcpy(bad, sr_video, sizeof(bad));
    bad[3] = 0x07;
    assert_int_not_equal(parley_rtcp_recv_on_rtcp(r, bad, sizeof(bad), SEC),
                         PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_last_sr(r, VIDEO, &sr), 0);

    assert_int_equal(parley_rtcp_recv_on_rtcp(r, sr_video, sizeof(sr_video),
                                              SEC),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_last_sr(r, VIDEO, &sr), 1);
    assert_non_null(parley_rtcp_recv_stats(r, VIDEO));
    assert_int_equal(parley_rtcp_recv_stats(r, VIDEO)->last_sr, 0x7e801234);

    assert_int_equal(parley_rtcp_recv_on_rtcp(r, bye, sizeof(bye), SEC),
                     PARLEY_RTP_OK);
    assert_null(parley_rtcp_recv_stats(r, VIDEO));
    assert_int_equal(parley_rtcp_recv_last_sr(r, VIDEO, &sr), 0);

    free(r);
}


static void
test_interval(void **state)
{
    uint8_t               buf[256];
    parley_rtcp_recv_t   *r;
    parley_rtcp_writer_t  w;

    (void) state;

    r = recv_new();

    assert_int_equal(parley_rtcp_recv_due(r, 100 * SEC), 0);
    assert_int_equal(parley_rtcp_recv_next_us(r), 0);

    /* first report half an interval after the first packet */
    feed(r, VIDEO, 1, 0, 100, 10 * SEC);
    assert_int_equal(parley_rtcp_recv_next_us(r), 10 * SEC + 500 * MS);
    assert_int_equal(parley_rtcp_recv_due(r, 10 * SEC + 499 * MS), 0);
    assert_int_equal(parley_rtcp_recv_due(r, 10 * SEC + 500 * MS), 1);

    /* then within [0.5, 1.5] intervals, by the random value */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 11 * SEC, 0),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_next_us(r), 11 * SEC + 500 * MS);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 12 * SEC, 0x80000000),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_next_us(r), 13 * SEC);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 13 * SEC, 0xffffffff),
                     PARLEY_RTP_OK);
    assert_true(parley_rtcp_recv_next_us(r) < 14 * SEC + 500 * MS);
    assert_true(parley_rtcp_recv_next_us(r) >= 14 * SEC + 499 * MS);
    assert_int_equal(r->reports, 3);

    free(r);
}


static void
test_no_space_changes_nothing(void **state)
{
    uint8_t               buf[256];
    uint64_t              next;
    parley_rtcp_rr_t      rr;
    parley_rtcp_recv_t   *r;
    parley_rtcp_writer_t  w;

    (void) state;

    r = recv_new();
    feed_run(r, VIDEO, 100, 21, 5, 1000, 0);
    next = parley_rtcp_recv_next_us(r);

    /* room for the RR but not the SDES */
    parley_rtcp_writer_init(&w, buf, 40);
    assert_int_equal(parley_rtcp_recv_build(r, &w, SEC, 7),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(w.len, 0);
    assert_int_equal(parley_rtcp_recv_next_us(r), next);
    assert_int_equal(r->reports, 0);

    /* the interval's loss is still there to report */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, SEC, 7), PARLEY_RTP_OK);
    parse_rr(buf, w.len, &rr, NULL);
    assert_int_equal(rr.block_count, 1);
    assert_true(rr.blocks[0].fraction_lost > 0);
    assert_int_equal(rr.blocks[0].cumulative_lost, 4);

    free(r);
}


static void
test_source_places(void **state)
{
    uint32_t              i;
    parley_rtp_header_t   h;
    parley_rtcp_recv_t   *r;

    (void) state;

    r = recv_new();

    for (i = 0; i < PARLEY_RTCP_RECV_MAX_SOURCES; i++) {
        feed(r, 1000 + i, 1, 0, 100, i == 3 ? 0 : 6 * SEC);
    }

    memset(&h, 0, sizeof(h));
    h.ssrc = 2000;

    /* every place is taken, but source 1003 has been silent for 6 s */
    assert_int_equal(parley_rtcp_recv_on_rtp(r, &h, 100, 90000, 6 * SEC),
                     PARLEY_RTP_OK);
    assert_null(parley_rtcp_recv_stats(r, 1003));
    assert_non_null(parley_rtcp_recv_stats(r, 2000));

    h.ssrc = 2001;
    assert_int_equal(parley_rtcp_recv_on_rtp(r, &h, 100, 90000, 6 * SEC),
                     PARLEY_RTP_ERR_NOSPACE);

    free(r);
}


static void
test_remb(void **state)
{
    uint8_t               buf[256];
    uint64_t              before, want;
    parley_rtcp_rr_t      rr;
    parley_rtcp_remb_t    remb;
    parley_rtcp_recv_t   *r;
    parley_rtcp_writer_t  w;

    (void) state;

    r = recv_new();
    assert_int_equal(parley_rtcp_recv_enable_remb(r, 1000000, 100000,
                                                  5000000),
                     PARLEY_RTP_OK);

    /* 1 s at 1250 bytes per 20 ms, 500 kb/s, no loss: held by the cap */
    feed_run(r, VIDEO, 0, 50, -1, 1250, 0);
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 1 * SEC, 0),
                     PARLEY_RTP_OK);
    parse_rr(buf, w.len, &rr, &remb);
    assert_int_equal(remb.sender_ssrc, SFU);
    assert_int_equal(remb.ssrc_count, 1);
    assert_int_equal(remb.ssrcs[0], VIDEO);
    assert_int_equal(parley_rtcp_recv_remb_bps(r), 1000000);
    assert_int_equal(remb.bitrate, 1000000);

    /* 1 s at 800 kb/s without loss: +8% */
    feed_run(r, VIDEO, 50, 50, -1, 2000, 1 * SEC);
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 2 * SEC, 0),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_remb_bps(r), 1080000);

    /* 1 s with every 5th lost: cut by half the fraction lost */
    before = parley_rtcp_recv_remb_bps(r);
    feed_run(r, VIDEO, 100, 50, 5, 2000, 2 * SEC);
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 3 * SEC, 0),
                     PARLEY_RTP_OK);
    parse_rr(buf, w.len, &rr, &remb);
    /* 9 of 49 lost since the last report */
    assert_int_equal(rr.blocks[0].fraction_lost, 9 * 256 / 49);
    want = before - before * (9 * 256 / 49) / 512;
    assert_int_equal(parley_rtcp_recv_remb_bps(r), want);

    /* the wire form keeps 18 bits of mantissa (REMB draft 2.2) */
    assert_true(remb.bitrate <= want && remb.bitrate > want - 8);

    /* silence: the cap falls back to the start rate, not to nothing */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_recv_build(r, &w, 4 * SEC, 0),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_recv_remb_bps(r), 1000000);

    free(r);
}


static void
test_ntp_arithmetic(void **state)
{
    (void) state;

    assert_true(parley_rtcp_us_to_ntp(1500000) == 0x180000000ULL);
    assert_true(parley_rtcp_ntp_to_us(0x180000000ULL) == 1500000);
    assert_true(parley_rtcp_ntp_to_us(parley_rtcp_us_to_ntp(123456789))
                >= 123456788);
    assert_int_equal(parley_rtcp_us_to_q16(500000), 32768);
    assert_int_equal(parley_rtcp_us_to_q16(2 * SEC + 250000), 2 * 65536
                                                              + 16384);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_checks_cname),
        cmocka_unit_test(test_rr_exact),
        cmocka_unit_test(test_seq_wrap_and_two_sources),
        cmocka_unit_test(test_rtcp_input),
        cmocka_unit_test(test_interval),
        cmocka_unit_test(test_no_space_changes_nothing),
        cmocka_unit_test(test_source_places),
        cmocka_unit_test(test_remb),
        cmocka_unit_test(test_ntp_arithmetic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
