/*
 * Unit tests for a subscribe connection's budget (relay/parley_downlink.c):
 * unlimited until the browser reports, transport-wide feedback before
 * REMB, a silence of feedback taken as loss, bounds whatever is reported,
 * and when to allocate the layers again.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "parley_alloc.h"
#include "parley_downlink.h"
#include "parley_rtcp.h"


#define MS  1000


/* "n" packets of 1,000 bytes sent 10 ms apart from "t0", all received. */
static int64_t
send_and_report(parley_downlink_t *d, int64_t t0, size_t n)
{
    size_t                     i;
    parley_rtcp_twcc_packet_t  pkts[64];

    assert_true(n <= 64);

    for (i = 0; i < n; i++) {
        pkts[i].seq = parley_downlink_on_send(d, 1000,
                                              t0 + (int64_t) i * 10 * MS);
        pkts[i].status = PARLEY_RTCP_TWCC_SMALL_DELTA;
        pkts[i].delta = 40;
        pkts[i].arrival_us = t0 + (int64_t) i * 10 * MS + 20 * MS;
    }

    t0 += (int64_t) n * 10 * MS + 30 * MS;
    parley_downlink_on_twcc(d, pkts, n, t0);

    return t0;
}


/* a browser that never reports: every section gets its wish, as before */
static void
test_unlimited_until_heard(void **state)
{
    parley_downlink_t  d;

    (void) state;

    parley_downlink_init(&d);

    assert_int_equal(d.source, PARLEY_DOWNLINK_NONE);
    assert_true(parley_downlink_budget(&d, 0) == PARLEY_DOWNLINK_UNLIMITED);

    /* sending alone changes nothing: nobody is listening */
    (void) parley_downlink_on_send(&d, 1200, 0);
    assert_true(parley_downlink_budget(&d, 10000 * MS)
                == PARLEY_DOWNLINK_UNLIMITED);
}


/* numbers follow each other; the estimate is the budget */
static void
test_twcc(void **state)
{
    int64_t            t;
    uint16_t           a, b;
    uint64_t           bps;
    parley_downlink_t  d;

    (void) state;

    parley_downlink_init(&d);

    a = parley_downlink_on_send(&d, 100, 0);
    b = parley_downlink_on_send(&d, 100, 0);
    assert_int_equal((uint16_t) (a + 1), b);

    t = send_and_report(&d, 0, 20);

    assert_int_equal(d.source, PARLEY_DOWNLINK_TWCC);
    assert_int_equal(d.twcc_feedbacks, 1);

    bps = parley_downlink_budget(&d, t);
    assert_true(bps >= PARLEY_DOWNLINK_MIN_BPS);
    assert_true(bps <= PARLEY_DOWNLINK_MAX_BPS);
    assert_true(bps == parley_bwe_estimate(&d.bwe));

    /* REMB changes nothing once transport-wide feedback was heard */
    parley_downlink_on_remb(&d, 100000, t);
    assert_int_equal(d.source, PARLEY_DOWNLINK_TWCC);
    assert_true(parley_downlink_budget(&d, t) == bps);
    assert_int_equal(d.rembs, 1);
}


/* a browser that sends only REMB: its figure, within bounds */
static void
test_remb(void **state)
{
    parley_downlink_t  d;

    (void) state;

    parley_downlink_init(&d);

    parley_downlink_on_remb(&d, 300000, 0);
    assert_int_equal(d.source, PARLEY_DOWNLINK_REMB);
    assert_true(parley_downlink_budget(&d, 0) == 300000);

    /* hostile figures are held within bounds */
    parley_downlink_on_remb(&d, 0, 0);
    assert_true(parley_downlink_budget(&d, 0) == PARLEY_DOWNLINK_MIN_BPS);

    parley_downlink_on_remb(&d, UINT64_MAX, 0);
    assert_true(parley_downlink_budget(&d, 0) == PARLEY_DOWNLINK_MAX_BPS);

    /* a REMB goes on holding: browsers send it when it changes */
    assert_true(parley_downlink_budget(&d, 60000 * MS)
                == PARLEY_DOWNLINK_MAX_BPS);

    /* transport-wide feedback takes over for good */
    (void) send_and_report(&d, 0, 10);
    assert_int_equal(d.source, PARLEY_DOWNLINK_TWCC);
}


/*
 * Feedback stops while packets go out (a link that drops everything):
 * the budget halves each second of it, to the minimum, and the next
 * feedback brings the estimate back.
 */
static void
test_silence_is_loss(void **state)
{
    int64_t            t;
    uint64_t           bps;
    parley_downlink_t  d;

    (void) state;

    parley_downlink_init(&d);

    t = send_and_report(&d, 0, 20);
    bps = parley_downlink_budget(&d, t);

    /* nothing sent since: a silence is no news */
    assert_true(parley_downlink_budget(&d, t + 5000 * MS) == bps);

    (void) parley_downlink_on_send(&d, 1000, t + 10 * MS);

    assert_true(parley_downlink_budget(&d, t + 999 * MS) == bps);
    assert_true(parley_downlink_budget(&d, t + 1000 * MS) == bps / 2);
    assert_true(parley_downlink_budget(&d, t + 2500 * MS) == bps / 4);
    assert_true(parley_downlink_budget(&d, t + 60000 * MS)
                == PARLEY_DOWNLINK_MIN_BPS);

    t = send_and_report(&d, t + 3000 * MS, 10);
    assert_true(parley_downlink_budget(&d, t) >= bps / 2);
}


/* allocate on change, on a refresh, and never more often than the gap */
static void
test_due(void **state)
{
    int64_t            t;
    uint64_t           bps;
    parley_downlink_t  d;

    (void) state;

    parley_downlink_init(&d);

    assert_true(parley_downlink_due(&d, 0));
    parley_downlink_allocated(&d, parley_downlink_budget(&d, 0), 0);

    /* nothing moved */
    assert_false(parley_downlink_due(&d, 500 * MS));
    assert_true(parley_downlink_due(&d, 1000 * MS));

    /* heard: from unlimited to a figure, after the gap */
    parley_downlink_on_remb(&d, 1000000, 10 * MS);
    assert_false(parley_downlink_due(&d, 50 * MS));
    assert_true(parley_downlink_due(&d, 100 * MS));
    parley_downlink_allocated(&d, parley_downlink_budget(&d, 100 * MS),
                              100 * MS);

    /* a twentieth is not worth it; more is */
    parley_downlink_on_remb(&d, 1040000, 200 * MS);
    assert_false(parley_downlink_due(&d, 300 * MS));
    parley_downlink_on_remb(&d, 900000, 300 * MS);
    assert_true(parley_downlink_due(&d, 300 * MS));

    /* and the silence of transport-wide feedback counts as a change */
    parley_downlink_init(&d);
    t = send_and_report(&d, 0, 20);
    bps = parley_downlink_budget(&d, t);
    parley_downlink_allocated(&d, bps, t);
    (void) parley_downlink_on_send(&d, 1000, t + 10 * MS);
    assert_false(parley_downlink_due(&d, t + 900 * MS));
    assert_true(parley_downlink_due(&d, t + 1000 * MS));
}


/*
 * A hostile browser's feedback flood: a burst, then the rate, whatever it
 * sends; a browser's own cadence (every 20 to 250 ms) is never refused.
 */
static void
test_feedback_rate(void **state)
{
    int64_t            t;
    uint32_t           i, accepted;
    parley_downlink_t  d;

    (void) state;

    parley_downlink_init(&d);

    accepted = 0;

    for (i = 0; i < 10000; i++) {
        accepted += parley_downlink_accept(&d, 1000 * MS);
    }

    assert_int_equal(accepted, PARLEY_DOWNLINK_FB_BURST);
    assert_int_equal(d.refused, 10000 - PARLEY_DOWNLINK_FB_BURST);

    /* ten seconds of a flood, one every 100 us */
    accepted = 0;

    for (t = 1000 * MS; t < 11000 * MS; t += 100) {
        accepted += parley_downlink_accept(&d, t);
    }

    assert_true(accepted >= 10 * PARLEY_DOWNLINK_FB_RATE - 1);
    assert_true(accepted <= 10 * PARLEY_DOWNLINK_FB_RATE + 1);

    /* a clock that goes back earns nothing */
    assert_false(parley_downlink_accept(&d, 0));

    /* a browser every 20 ms, after the flood stops */
    parley_downlink_init(&d);

    for (t = 0; t < 60000 * MS; t += 20 * MS) {
        assert_true(parley_downlink_accept(&d, t));
    }
}


/*
 * A subscriber of one voice (40 kbit/s) and one simulcast camera (150
 * kbit/s low, 1.2 Mbit/s high, wished high) behind a link of a given
 * capacity: a drop-tail queue of 200 ms, 20 ms one way, feedback every
 * 100 ms about everything that arrived. The server side is what the
 * module does: the layers allocated (parley_alloc) within the budget
 * every 100 ms, a probe when they want more, its padding in 255-byte
 * packets, the media paced in 1,200-byte ones.
 */

#define SIM_FLIGHT  65536

typedef struct {
    uint16_t            seq;
    int64_t             arrival_us;         /* -1: lost */
} sim_flight_t;

typedef struct {
    parley_downlink_t   d;
    uint64_t            capacity_bps;
    int64_t             now_us;
    int64_t             link_free_us;
    int64_t             next_media_us;
    int64_t             next_alloc_us;
    int64_t             next_fb_us;
    uint64_t            media_bps;
    uint32_t            cap;                /* the camera's layer */
    uint64_t            sent;
    uint64_t            reported;
    uint64_t            dropped;
    sim_flight_t        flight[SIM_FLIGHT];
} sim_t;

static sim_t  sim;


static void
sim_init(uint64_t capacity_bps)
{
    memset(&sim, 0, sizeof(sim));
    parley_downlink_init(&sim.d);
    sim.capacity_bps = capacity_bps;
    sim.now_us = 1000 * MS;
    sim.next_media_us = sim.now_us;
    sim.next_alloc_us = sim.now_us;
    sim.next_fb_us = sim.now_us + 100 * MS;
    sim.cap = 1;
    sim.media_bps = 1240000;
}


static void
sim_packet(uint32_t size)
{
    int64_t        depart;
    sim_flight_t  *f;

    f = &sim.flight[sim.sent % SIM_FLIGHT];
    f->seq = parley_downlink_on_send(&sim.d, size, sim.now_us);

    depart = sim.now_us > sim.link_free_us ? sim.now_us : sim.link_free_us;

    if (depart - sim.now_us > 200 * MS) {
        f->arrival_us = -1;                 /* the queue is full */
        sim.dropped++;

    } else {
        depart += (int64_t) ((uint64_t) size * 8 * 1000000
                             / sim.capacity_bps);
        sim.link_free_us = depart;
        f->arrival_us = depart + 20 * MS;
    }

    sim.sent++;
}


static void
sim_allocate(void)
{
    uint64_t            want, given;
    parley_alloc_leg_t  legs[2];

    memset(legs, 0, sizeof(legs));
    legs[0].audio = 1;
    legs[0].layers = 1;
    legs[0].bps[0] = 40000;
    legs[1].layers = 2;
    legs[1].bps[0] = 150000;
    legs[1].bps[1] = 1200000;
    legs[1].wish = 2;
    legs[1].large = 1;
    legs[1].prev = sim.cap;

    want = parley_alloc(legs, 2, (uint64_t) INT64_MAX / 2);

    legs[1].prev = sim.cap;
    given = parley_alloc(legs, 2, parley_downlink_budget(&sim.d,
                                                         sim.now_us));
    sim.cap = legs[1].cap;
    sim.media_bps = given;

    (void) parley_downlink_probe(&sim.d, want, given, sim.now_us);
}


static void
sim_feedback(void)
{
    size_t                     n;
    uint64_t                   i, last;
    sim_flight_t              *f;
    static parley_rtcp_twcc_packet_t  pkts[SIM_FLIGHT];

    last = sim.reported;

    for (i = sim.reported; i < sim.sent; i++) {
        f = &sim.flight[i % SIM_FLIGHT];

        if (f->arrival_us >= 0 && f->arrival_us <= sim.now_us) {
            last = i + 1;
        }
    }

    n = 0;

    for (i = sim.reported; i < last && n < 1024; i++) {
        f = &sim.flight[i % SIM_FLIGHT];
        pkts[n].seq = f->seq;
        pkts[n].status = f->arrival_us >= 0 ? PARLEY_RTCP_TWCC_SMALL_DELTA
                                            : PARLEY_RTCP_TWCC_NOT_RECEIVED;
        pkts[n].arrival_us = f->arrival_us >= 0 ? f->arrival_us : 0;
        n++;
    }

    sim.reported = i;

    if (n && parley_downlink_accept(&sim.d, sim.now_us)) {
        parley_downlink_on_twcc(&sim.d, pkts, n, sim.now_us + 20 * MS);
    }
}


/* Runs for "us"; returns the milliseconds the camera was sent high. */
static uint64_t
sim_run(int64_t us)
{
    int64_t   end;
    uint64_t  high, pad;

    end = sim.now_us + us;
    high = 0;

    while (sim.now_us < end) {
        if (sim.now_us >= sim.next_alloc_us) {
            sim_allocate();
            sim.next_alloc_us += 100 * MS;
        }

        while (sim.next_media_us <= sim.now_us) {
            sim_packet(1200);
            sim.next_media_us += (int64_t) (1200 * 8 * 1000000ULL
                                            / (sim.media_bps ? sim.media_bps
                                                             : 40000));
        }

        for (pad = parley_downlink_padding(&sim.d, sim.now_us); pad >= 255;
             pad -= 255)
        {
            sim_packet(255);
            parley_downlink_padded(&sim.d, 255);
        }

        if (sim.now_us >= sim.next_fb_us) {
            sim_feedback();
            sim.next_fb_us += 100 * MS;
        }

        high += (sim.cap == 1);
        if (getenv("SIMDBG") && sim.now_us % (100 * MS) == 0) {
            fprintf(stderr, "t=%lld cap=%d media=%llu budget=%llu est=%llu proven=%llu acked=%llu probe=%llu overuses=%llu lost=%llu\n",
                (long long) (sim.now_us / MS), (int) sim.cap, (unsigned long long) sim.media_bps,
                (unsigned long long) parley_downlink_budget(&sim.d, sim.now_us),
                (unsigned long long) parley_bwe_estimate(&sim.d.bwe), (unsigned long long) sim.d.proven_bps,
                (unsigned long long) sim.d.bwe.acked_bps, (unsigned long long) sim.d.probe_bps,
                (unsigned long long) sim.d.bwe.overuses, (unsigned long long) sim.dropped);
        }
        sim.now_us += MS;
    }

    return high;
}


/*
 * Held to 300 kbit/s, the camera goes low and stays low: probes find the
 * path too narrow, and the high layer is never switched to on faith.
 * When the link opens, a probe finds it and the high layer is back
 * within 10 s.
 */
static void
test_probe_finds_the_path(void **state)
{
    uint64_t  high, dropped;
    int64_t   t;

    (void) state;

    sim_init(300000);

    (void) sim_run(5000 * MS);
    assert_int_equal(sim.cap, 0);

    dropped = sim.dropped;
    high = sim_run(30000 * MS);

    assert_int_equal(high, 0);
    assert_true(sim.d.probes >= 5);
    assert_true(sim.d.probes_failed == sim.d.probes
                || sim.d.probes_failed + 1 == sim.d.probes);

    /* what the probes cost: a few lost packets each, not a second's */
    assert_true(sim.dropped - dropped < 60 * sim.d.probes);

    sim.capacity_bps = 5000000;

    for (t = 0; t < 10000 * MS && sim.cap != 1; t += 100 * MS) {
        (void) sim_run(100 * MS);
    }

    assert_int_equal(sim.cap, 1);

    /* and stays there */
    assert_int_equal(sim_run(10000 * MS), 10000);
}


/* A wide path: the high layer from the start, no probe needed. */
static void
test_wide_path_needs_no_probe(void **state)
{
    (void) state;

    sim_init(5000000);

    assert_int_equal(sim_run(20000 * MS), 20000);
    assert_int_equal(sim.d.probes, 0);
    assert_int_equal(sim.dropped, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_unlimited_until_heard),
        cmocka_unit_test(test_twcc),
        cmocka_unit_test(test_remb),
        cmocka_unit_test(test_silence_is_loss),
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_feedback_rate),
        cmocka_unit_test(test_probe_finds_the_path),
        cmocka_unit_test(test_wide_path_needs_no_probe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
