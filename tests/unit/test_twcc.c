/*
 * Unit tests for the transport-wide congestion control recorder
 * (relay/parley_twcc.c): what it builds is read back with the independent
 * parser of relay/parley_rtcp.c, and the smallest case is pinned byte for
 * byte from the draft's layout.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parley_twcc.h"


#define SENDER      0x11223344
#define MEDIA       0x55667788
#define MAX_PARSED  4096


typedef struct {
    size_t                     feedbacks;
    size_t                     n;
    parley_rtcp_twcc_t         last;
    parley_rtcp_twcc_packet_t  p[MAX_PARSED];
} parsed_t;


/* parses every TWCC feedback of a compound, appending their packets */
static void
parse_all(const uint8_t *buf, size_t len, parsed_t *out)
{
    parley_rtp_rc_t       rc;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    assert_int_equal(parley_rtcp_validate(buf, len), PARLEY_RTP_OK);
    parley_rtcp_iter_init(&it, buf, len);

    while ((rc = parley_rtcp_next(&it, &pkt)) == PARLEY_RTP_OK) {
        assert_int_equal(pkt.type, PARLEY_RTCP_RTPFB);
        assert_int_equal(pkt.count, PARLEY_RTCP_FMT_TWCC);
        assert_int_equal(parley_rtcp_parse_twcc(&pkt, &out->last,
                                                out->p + out->n,
                                                MAX_PARSED - out->n),
                         PARLEY_RTP_OK);
        assert_int_equal(out->last.sender_ssrc, SENDER);
        assert_int_equal(out->last.media_ssrc, MEDIA);
        out->n += out->last.packet_count;
        out->feedbacks++;
    }

    assert_int_equal(rc, PARLEY_RTP_DONE);
}


static parley_twcc_t *
twcc_new(void)
{
    parley_twcc_t  *t;

    t = malloc(sizeof(*t));
    assert_non_null(t);
    parley_twcc_init(t, SENDER, 0);

    return t;
}


static void
test_exact_small(void **state)
{
    uint8_t               buf[1500];
    parley_twcc_t        *t;
    parley_rtcp_writer_t  w;

    /*
     * seq 10 at 64 ms, 11 at 65 ms, 12 lost, 13 at 67 ms: reference time 1
     * (64 ms units), small deltas 0, 4 and 8 (250 us units), one 1-bit
     * status vector chunk 1 0 | 1 1 0 1 0... (draft 3.1.4).
     */
    static const uint8_t  want[] = {
        0x8f, 0xcd, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44,
        0x55, 0x66, 0x77, 0x88, 0x00, 0x0a, 0x00, 0x04,
        0x00, 0x00, 0x01, 0x00, 0xb4, 0x00, 0x00, 0x04,
        0x08, 0x00, 0x00, 0x00
    };

    (void) state;

    t = twcc_new();
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 10, 64000), 1);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 11, 65000), 1);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 13, 67000), 1);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 70000), PARLEY_RTP_OK);
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    /* everything is reported: nothing more to build */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 70000), PARLEY_RTP_DONE);
    assert_int_equal(w.len, 0);

    free(t);
}


static void
test_seq_wrap(void **state)
{
    uint8_t               buf[1500];
    parsed_t             *p;
    parley_twcc_t        *t;
    parley_rtcp_writer_t  w;

    (void) state;

    t = twcc_new();
    p = calloc(1, sizeof(*p));
    assert_non_null(p);

    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 65534, 1000), 1);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 65535, 2000), 1);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 1, 4000), 1);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 0, 5000), 1);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 6000), PARLEY_RTP_OK);
    parse_all(buf, w.len, p);

    assert_int_equal(p->feedbacks, 1);
    assert_int_equal(p->last.base_seq, 65534);
    assert_int_equal(p->n, 4);
    assert_int_equal(p->p[2].seq, 0);
    assert_int_equal(p->p[3].seq, 1);

    /* reordered across the wrap: 0 came after 1, its own time is kept */
    assert_int_equal(p->p[2].arrival_us, 5000);
    assert_int_equal(p->p[3].arrival_us, 4000);
    assert_int_equal(p->p[1].arrival_us, 2000);

    free(p);
    free(t);
}


static void
test_loss_pattern(void **state)
{
    size_t                i, got;
    uint8_t               buf[1500];
    parsed_t             *p;
    parley_twcc_t        *t;
    parley_rtcp_writer_t  w;

    (void) state;

    t = twcc_new();
    p = calloc(1, sizeof(*p));
    assert_non_null(p);

    /* 100 packets from 60000, every 10th lost, one every 2 ms */
    for (i = 0; i < 100; i++) {
        if (i % 10 == 5) {
            continue;
        }
        assert_int_equal(parley_twcc_on_packet(t, MEDIA,
                                               (uint16_t) (60000 + i),
                                               100000 + i * 2000), 1);
    }

    assert_int_equal(t->recorded, 90);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 400000), PARLEY_RTP_OK);
    parse_all(buf, w.len, p);

    assert_int_equal(p->feedbacks, 1);
    assert_int_equal(p->n, 100);
    got = 0;

    for (i = 0; i < 100; i++) {
        assert_int_equal(p->p[i].seq, (uint16_t) (60000 + i));

        if (i % 10 == 5) {
            assert_int_equal(p->p[i].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);
            continue;
        }

        assert_int_not_equal(p->p[i].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);
        assert_int_equal(p->p[i].arrival_us, 100000 + (int64_t) i * 2000);
        got++;
    }

    assert_int_equal(got, 90);

    free(p);
    free(t);
}


static void
test_late_and_duplicate(void **state)
{
    uint8_t               buf[1500];
    parsed_t             *p;
    parley_twcc_t        *t;
    parley_rtcp_writer_t  w;

    (void) state;

    t = twcc_new();
    p = calloc(1, sizeof(*p));
    assert_non_null(p);

    /* before any feedback, a packet older than the first still counts */
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 100, 1000), 1);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 99, 1500), 1);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 100, 1600), 0);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 102, 2000), 1);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 3000), PARLEY_RTP_OK);
    parse_all(buf, w.len, p);
    assert_int_equal(p->last.base_seq, 99);
    assert_int_equal(p->n, 4);
    assert_int_equal(p->p[2].status, PARLEY_RTCP_TWCC_NOT_RECEIVED);

    /* 101 arrives after its place went out as lost: dropped, counted */
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 101, 4000), 0);
    assert_int_equal(t->late, 1);

    /* the next feedback starts after the last one */
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 103, 5000), 1);
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 6000), PARLEY_RTP_OK);
    memset(p, 0, sizeof(*p));
    parse_all(buf, w.len, p);
    assert_int_equal(p->last.base_seq, 103);
    assert_int_equal(p->n, 1);
    assert_int_equal(p->last.fb_count, 1);

    free(p);
    free(t);
}


static void
test_bounded_size(void **state)
{
    size_t                i, calls;
    uint8_t               buf[1500];
    parsed_t             *p;
    parley_twcc_t        *t;
    parley_rtcp_writer_t  w;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    (void) state;

    t = twcc_new();
    p = calloc(1, sizeof(*p));
    assert_non_null(p);

    /* 900 packets with irregular times: large deltas, many bytes */
    for (i = 0; i < 900; i++) {
        assert_int_equal(parley_twcc_on_packet(t, MEDIA, (uint16_t) i,
                                               1000000 + i * 70000 % 900000
                                               + i * 100), 1);
    }

    calls = 0;

    for ( ;; ) {
        parley_rtcp_writer_init(&w, buf, 300);
        if (parley_twcc_build(t, &w, 2000000) != PARLEY_RTP_OK) {
            break;
        }

        assert_true(w.len <= 300);

        /* each packet of the compound is within the writer's bytes */
        parley_rtcp_iter_init(&it, buf, w.len);
        while (parley_rtcp_next(&it, &pkt) == PARLEY_RTP_OK) {
            assert_true(pkt.len <= 300);
        }

        parse_all(buf, w.len, p);
        calls++;
        assert_true(calls < 100);
    }

    /* each packet reported once, in order, with its own time */
    assert_true(p->feedbacks > 3);
    assert_int_equal(p->n, 900);

    for (i = 0; i < 900; i++) {
        assert_int_equal(p->p[i].seq, (uint16_t) i);
        assert_int_equal(p->p[i].arrival_us,
                         1000000 + (int64_t) (i * 70000 % 900000 + i * 100)
                         / 250 * 250);
    }

    /* feedback counters follow one another */
    assert_int_equal(p->last.fb_count, p->feedbacks - 1);

    free(p);
    free(t);
}


static void
test_interval(void **state)
{
    parley_twcc_t  *t;
    uint8_t         buf[1500];
    parley_rtcp_writer_t  w;

    (void) state;

    t = twcc_new();
    assert_int_equal(parley_twcc_due(t, 0), 0);
    assert_int_equal(parley_twcc_next_us(t), 0);

    (void) parley_twcc_on_packet(t, MEDIA, 7, 1000000);
    assert_int_equal(parley_twcc_next_us(t), 1100000);
    assert_int_equal(parley_twcc_due(t, 1099999), 0);
    assert_int_equal(parley_twcc_due(t, 1100000), 1);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 1100000), PARLEY_RTP_OK);
    assert_int_equal(parley_twcc_due(t, 1300000), 0);

    (void) parley_twcc_on_packet(t, MEDIA, 8, 1150000);
    assert_int_equal(parley_twcc_due(t, 1199999), 0);
    assert_int_equal(parley_twcc_due(t, 1200000), 1);

    free(t);
}


static void
test_window_fills_early(void **state)
{
    uint16_t        i;
    parley_twcc_t  *t;

    (void) state;

    t = twcc_new();

    for (i = 0; i < PARLEY_TWCC_WINDOW / 2; i++) {
        assert_int_equal(parley_twcc_due(t, 1000), 0);
        (void) parley_twcc_on_packet(t, MEDIA, i, 1000);
    }

    /* half a window waiting: due before the interval */
    assert_int_equal(parley_twcc_due(t, 1000), 0);
    (void) parley_twcc_on_packet(t, MEDIA, i, 1000);
    assert_int_equal(parley_twcc_due(t, 1000), 1);

    /* a jump past the window drops the oldest, counted */
    (void) parley_twcc_on_packet(t, MEDIA, 5000, 2000);
    assert_int_equal(t->overrun, 5000 - PARLEY_TWCC_WINDOW + 1);

    free(t);
}


static void
test_long_pause_splits(void **state)
{
    uint8_t               buf[1500];
    parsed_t             *p;
    parley_twcc_t        *t;
    parley_rtcp_writer_t  w;

    (void) state;

    t = twcc_new();
    p = calloc(1, sizeof(*p));
    assert_non_null(p);

    /* 9 s between two packets: more than a 16-bit delta holds */
    (void) parley_twcc_on_packet(t, MEDIA, 1, 1000000);
    (void) parley_twcc_on_packet(t, MEDIA, 2, 10000000);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 10000000), PARLEY_RTP_OK);
    parse_all(buf, w.len, p);

    assert_int_equal(p->feedbacks, 2);
    assert_int_equal(p->n, 2);
    assert_int_equal(p->p[0].arrival_us, 1000000);
    assert_int_equal(p->p[1].arrival_us, 10000000 / 250 * 250);

    free(p);
    free(t);
}


static void
test_restart(void **state)
{
    uint8_t               buf[1500];
    parsed_t             *p;
    parley_twcc_t        *t;
    parley_rtcp_writer_t  w;

    (void) state;

    t = twcc_new();
    p = calloc(1, sizeof(*p));
    assert_non_null(p);

    (void) parley_twcc_on_packet(t, MEDIA, 30000, 1000);
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 2000), PARLEY_RTP_OK);

    /* 20000 back: not a late packet but a new numbering */
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 10000, 3000), 1);
    assert_int_equal(parley_twcc_on_packet(t, MEDIA, 10001, 4000), 1);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 5000), PARLEY_RTP_OK);
    parse_all(buf, w.len, p);
    assert_int_equal(p->last.base_seq, 10000);
    assert_int_equal(p->n, 2);

    free(p);
    free(t);
}


static void
test_no_space(void **state)
{
    uint8_t               buf[1500];
    parley_twcc_t        *t;
    parley_rtcp_writer_t  w;

    (void) state;

    t = twcc_new();
    (void) parley_twcc_on_packet(t, MEDIA, 1, 1000);

    /* a feedback needs at least 24 bytes */
    parley_rtcp_writer_init(&w, buf, 20);
    assert_int_equal(parley_twcc_build(t, &w, 2000), PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(w.len, 0);
    assert_int_equal(parley_twcc_due(t, 1000000), 1);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_twcc_build(t, &w, 2000), PARLEY_RTP_OK);

    free(t);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_small),
        cmocka_unit_test(test_seq_wrap),
        cmocka_unit_test(test_loss_pattern),
        cmocka_unit_test(test_late_and_duplicate),
        cmocka_unit_test(test_bounded_size),
        cmocka_unit_test(test_interval),
        cmocka_unit_test(test_window_fills_early),
        cmocka_unit_test(test_long_pause_splits),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_no_space),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
