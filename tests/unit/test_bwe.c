/*
 * Unit tests for the send-side bandwidth estimate (relay/parley_bwe.c),
 * through a simulated path: a sender paced at the lower of its source
 * rate and the estimate, a bottleneck link of a given capacity with a FIFO
 * queue and a propagation delay, random loss after the link (a fixed
 * seed), and a receiver that reports every 100 ms what arrived, as a
 * transport-wide feedback would (parley_rtcp_parse_twcc()'s entries).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "parley_bwe.h"


#define SIZE        1200            /* bytes a packet */
#define DELAY_US    20000           /* one way */
#define FB_US       100000          /* the receiver's cadence */
#define INFLIGHT    8192            /* a power of two */


typedef struct {
    uint16_t    seq;
    int64_t     arrival_us;         /* -1: lost */
} flight_t;


typedef struct {
    parley_bwe_t  bwe;
    uint64_t      capacity_bps;
    uint64_t      source_bps;
    uint32_t      loss_per_mille;
    uint32_t      jitter_us;        /* added at random, 0 .. this */
    int64_t       clock_us;         /* the receiver's clock minus ours */
    uint32_t      rng;
    int64_t       now_us;
    int64_t       next_send_us;
    int64_t       link_free_us;
    int64_t       next_fb_us;
    int64_t       max_queue_us;     /* since the last reset */
    flight_t      flight[INFLIGHT];
    uint64_t      sent;             /* packets */
    uint64_t      reported;         /* packets covered by feedback */
    unsigned      wire:1;           /* feedback built, sent and parsed */
    uint8_t       fb_count;
} sim_t;


static sim_t  sim;


static void
sim_init(uint64_t capacity_bps, uint64_t source_bps, uint64_t start_bps)
{
    memset(&sim, 0, sizeof(sim));
    parley_bwe_init(&sim.bwe, start_bps, 50000, 5000000);
    sim.capacity_bps = capacity_bps;
    sim.source_bps = source_bps;
    sim.rng = 12345;
    sim.now_us = 1000000;
    sim.next_send_us = sim.now_us;
    sim.next_fb_us = sim.now_us + FB_US;
}


static uint32_t
sim_random(void)
{
    sim.rng = sim.rng * 1103515245 + 12345;
    return (sim.rng >> 16) & 0x7fff;
}


/* One packet now: through the queue and the link, or lost after it. */
static void
sim_send(void)
{
    int64_t    depart;
    flight_t  *f;

    f = &sim.flight[sim.sent % INFLIGHT];
    f->seq = parley_bwe_on_send(&sim.bwe, SIZE, sim.now_us);

    depart = sim.now_us > sim.link_free_us ? sim.now_us : sim.link_free_us;
    depart += (int64_t) (SIZE * 8 * 1000000ULL / sim.capacity_bps);
    sim.link_free_us = depart;

    if (depart - sim.now_us > sim.max_queue_us) {
        sim.max_queue_us = depart - sim.now_us;
    }

    f->arrival_us = (sim_random() % 1000 < sim.loss_per_mille)
                    ? -1
                    : depart + DELAY_US
                      + (sim.jitter_us ? sim_random() % sim.jitter_us : 0);
    sim.sent++;
}


/*
 * The same feedback as the browser sends it: built into an RTPFB FMT=15
 * packet from the received packets (parley_rtcp_build_twcc(): 250 us
 * deltas, a 64 ms reference), then parsed back as the server would. The
 * entries are replaced by what the parser gives; returns their count.
 */
static size_t
sim_wire(parley_rtcp_twcc_packet_t *pkts, size_t n)
{
    size_t                      i, k;
    uint8_t                     buf[8192];
    parley_rtcp_iter_t          it;
    parley_rtcp_twcc_t          fb;
    parley_rtcp_packet_t        pkt;
    parley_rtcp_writer_t        w;
    parley_rtcp_twcc_arrival_t  arrivals[INFLIGHT];

    k = 0;

    for (i = 0; i < n; i++) {
        if (pkts[i].status != PARLEY_RTCP_TWCC_NOT_RECEIVED) {
            arrivals[k].seq = pkts[i].seq;
            arrivals[k].arrival_us = pkts[i].arrival_us;
            k++;
        }
    }

    if (k == 0) {
        return 0;
    }

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_twcc(&w, 1, 2, sim.fb_count++,
                                            arrivals, k),
                     PARLEY_RTP_OK);

    parley_rtcp_iter_init(&it, buf, w.len);
    assert_int_equal(parley_rtcp_next(&it, &pkt), PARLEY_RTP_OK);
    assert_int_equal(parley_rtcp_parse_twcc(&pkt, &fb, pkts, INFLIGHT),
                     PARLEY_RTP_OK);

    return fb.packet_count;
}


/*
 * The receiver's feedback at now: every packet up to the newest that has
 * arrived, in order, those that did not arrive as not received.
 */
static void
sim_feedback(void)
{
    uint64_t                   i, last;
    size_t                     n;
    flight_t                  *f;
    parley_rtcp_twcc_packet_t  pkts[INFLIGHT];

    last = sim.reported;

    for (i = sim.reported; i < sim.sent; i++) {
        f = &sim.flight[i % INFLIGHT];

        if (f->arrival_us >= 0 && f->arrival_us <= sim.now_us) {
            last = i + 1;
        }
    }

    n = 0;

    for (i = sim.reported; i < last; i++) {
        f = &sim.flight[i % INFLIGHT];
        pkts[n].seq = f->seq;

        if (f->arrival_us >= 0) {
            pkts[n].status = PARLEY_RTCP_TWCC_SMALL_DELTA;
            pkts[n].arrival_us = f->arrival_us + sim.clock_us;

        } else {
            pkts[n].status = PARLEY_RTCP_TWCC_NOT_RECEIVED;
            pkts[n].arrival_us = 0;
        }

        n++;
    }

    sim.reported = last;

    if (n && sim.wire) {
        n = sim_wire(pkts, n);
    }

    if (n) {
        parley_bwe_on_feedback(&sim.bwe, pkts, n, sim.now_us + DELAY_US);
    }
}


/* Run for "us", in steps of 1 ms; the mean estimate over that time. */
static uint64_t
sim_run(int64_t us)
{
    int64_t   end;
    uint64_t  rate, sum, steps;

    end = sim.now_us + us;
    sum = 0;
    steps = 0;

    while (sim.now_us < end) {
        while (sim.next_send_us <= sim.now_us) {
            sim_send();
            rate = parley_bwe_estimate(&sim.bwe);
            rate = rate < sim.source_bps ? rate : sim.source_bps;
            sim.next_send_us += (int64_t) (SIZE * 8 * 1000000ULL / rate);
        }

        if (sim.now_us >= sim.next_fb_us) {
            sim_feedback();
            sim.next_fb_us += FB_US;
        }

        sum += parley_bwe_estimate(&sim.bwe);
        steps++;
        sim.now_us += 1000;
    }

    return sum / steps;
}


/* A link of 300 kbit/s under a 2 Mbit/s source: it is found and kept. */
static void
test_finds_a_narrow_link(void **state)
{
    uint64_t  mean;

    (void) state;

    sim_init(300000, 2000000, 1000000);
    (void) sim_run(20000000);
    assert_true(sim.bwe.overuses > 0);

    sim.max_queue_us = 0;
    mean = sim_run(20000000);
    assert_in_range(mean, 150000, 360000);
    assert_true(sim.max_queue_us < 500000);
    assert_int_equal(sim.bwe.reported_lost, 0);
}


/* The limit lifted: within 10 s the estimate carries a high layer. */
static void
test_recovers_when_the_link_opens(void **state)
{
    (void) state;

    sim_init(300000, 3000000, 1000000);
    (void) sim_run(20000000);
    assert_true(parley_bwe_estimate(&sim.bwe) < 400000);

    sim.capacity_bps = 10000000;
    (void) sim_run(10000000);
    assert_true(parley_bwe_estimate(&sim.bwe) >= 1500000);
}


/* 5 % random loss on a wide link: the estimate holds. */
static void
test_random_loss_is_not_congestion(void **state)
{
    (void) state;

    sim_init(10000000, 1000000, 1000000);
    sim.loss_per_mille = 50;
    (void) sim_run(30000000);

    assert_true(sim.bwe.reported_lost > 0);
    assert_true(parley_bwe_estimate(&sim.bwe) >= 900000);
}


/* 25 % loss: the loss-based rate comes down. */
static void
test_heavy_loss_cuts(void **state)
{
    (void) state;

    sim_init(10000000, 1000000, 1000000);
    sim.loss_per_mille = 250;
    (void) sim_run(10000000);

    assert_true(parley_bwe_estimate(&sim.bwe) < 600000);
    assert_true(parley_bwe_estimate(&sim.bwe) >= 50000);
}


/*
 * A feedback about packets never sent, or the same packets twice, or far
 * in the future: ignored or counted once; the estimate stays within its
 * bounds whatever a subscriber reports.
 */
static void
test_hostile_feedback(void **state)
{
    size_t                     i;
    uint16_t                   seq;
    parley_rtcp_twcc_packet_t  pkts[64];

    (void) state;

    parley_bwe_init(&sim.bwe, 1000000, 50000, 5000000);

    /* the first packet sent; 65535 is not a packet of this estimate */
    seq = parley_bwe_on_send(&sim.bwe, SIZE, 900000);
    pkts[0].seq = 65535;
    pkts[0].status = PARLEY_RTCP_TWCC_SMALL_DELTA;
    pkts[0].arrival_us = 900000;
    parley_bwe_on_feedback(&sim.bwe, pkts, 1, 950000);
    assert_int_equal(sim.bwe.reported_received, 0);
    parley_bwe_init(&sim.bwe, 1000000, 50000, 5000000);

    /* nothing sent: nothing matches */
    for (i = 0; i < 64; i++) {
        pkts[i].seq = (uint16_t) i;
        pkts[i].status = PARLEY_RTCP_TWCC_NOT_RECEIVED;
        pkts[i].arrival_us = 0;
    }

    parley_bwe_on_feedback(&sim.bwe, pkts, 64, 1000000);
    assert_int_equal(sim.bwe.reported_lost, 0);
    assert_int_equal(parley_bwe_estimate(&sim.bwe), 1000000);

    /* 10 sent; 64 reported lost, twice: the 10 count, once */
    for (i = 0; i < 10; i++) {
        seq = parley_bwe_on_send(&sim.bwe, SIZE, 1000000 + (int64_t) i);
        assert_int_equal(seq, i);
    }

    parley_bwe_on_feedback(&sim.bwe, pkts, 64, 1100000);
    parley_bwe_on_feedback(&sim.bwe, pkts, 64, 1200000);
    assert_int_equal(sim.bwe.reported_lost, 10);

    /* everything lost, again and again: never under the minimum */
    for (i = 0; i < 200; i++) {
        seq = parley_bwe_on_send(&sim.bwe, SIZE, 2000000 + (int64_t) i * 1000);
        pkts[0].seq = seq;
        pkts[0].status = PARLEY_RTCP_TWCC_NOT_RECEIVED;
        parley_bwe_on_feedback(&sim.bwe, pkts, 1, 2000000 + (int64_t) i * 400000);
    }

    assert_int_equal(parley_bwe_estimate(&sim.bwe), 50000);

    /* arrivals that make any rate at all: never over the maximum */
    for (i = 0; i < 2000; i++) {
        seq = parley_bwe_on_send(&sim.bwe, SIZE, 100000000 + (int64_t) i * 1000);
        pkts[0].seq = seq;
        pkts[0].status = PARLEY_RTCP_TWCC_SMALL_DELTA;
        pkts[0].arrival_us = 100000000 + (int64_t) i * 1000;
        parley_bwe_on_feedback(&sim.bwe, pkts, 1,
                               100000000 + (int64_t) i * 100000);
    }

    assert_int_equal(parley_bwe_estimate(&sim.bwe), 5000000);
}


/*
 * Through the wire format: the narrow link found the same way, with
 * arrival times rounded to 250 us and packets lost before the first
 * received one of a feedback never reported.
 */
static void
test_through_the_wire_format(void **state)
{
    uint64_t  mean;

    (void) state;

    sim_init(300000, 2000000, 1000000);
    sim.wire = 1;
    (void) sim_run(20000000);
    sim.max_queue_us = 0;
    mean = sim_run(20000000);
    assert_in_range(mean, 150000, 360000);
    assert_true(sim.max_queue_us < 500000);

    /* and random loss still leaves it be */
    sim_init(10000000, 1000000, 1000000);
    sim.wire = 1;
    sim.loss_per_mille = 50;
    (void) sim_run(30000000);
    assert_true(sim.bwe.reported_lost > 0);
    assert_true(parley_bwe_estimate(&sim.bwe) >= 900000);
}


/*
 * The receiver's clock jumps back (its 24-bit reference wrapped, or it
 * was reset), then the link narrows: the narrowing is still seen.
 */
static void
test_receiver_clock_jumps(void **state)
{
    (void) state;

    sim_init(10000000, 2000000, 1000000);
    (void) sim_run(5000000);
    sim.clock_us = -(int64_t) 1073741824 * 1000;      /* 2^24 x 64 ms */
    sim.capacity_bps = 300000;
    (void) sim_run(20000000);

    assert_true(sim.bwe.resets > 0);
    assert_true(sim.bwe.overuses > 0);
    assert_true(parley_bwe_estimate(&sim.bwe) < 400000);
}


/*
 * Jitter of up to 30 ms on a wide link (packets reordered, groups
 * skipped) is not a queue: the estimate stays at least what is sent.
 */
static void
test_jitter_is_not_congestion(void **state)
{
    (void) state;

    sim_init(10000000, 2000000, 2000000);
    sim.jitter_us = 30000;
    (void) sim_run(20000000);

    assert_true(sim_run(10000000) >= 1800000);
}


/* A packet reported lost, then received by a later feedback: it counts. */
static void
test_lost_then_received(void **state)
{
    uint16_t                   seq;
    parley_rtcp_twcc_packet_t  pkt;

    (void) state;

    parley_bwe_init(&sim.bwe, 1000000, 50000, 5000000);
    seq = parley_bwe_on_send(&sim.bwe, SIZE, 1000000);

    pkt.seq = seq;
    pkt.status = PARLEY_RTCP_TWCC_NOT_RECEIVED;
    pkt.arrival_us = 0;
    parley_bwe_on_feedback(&sim.bwe, &pkt, 1, 1100000);
    parley_bwe_on_feedback(&sim.bwe, &pkt, 1, 1150000);
    assert_int_equal(sim.bwe.reported_lost, 1);

    pkt.status = PARLEY_RTCP_TWCC_SMALL_DELTA;
    pkt.arrival_us = 1120000;
    parley_bwe_on_feedback(&sim.bwe, &pkt, 1, 1200000);
    assert_int_equal(sim.bwe.reported_received, 1);

    /* and only once */
    parley_bwe_on_feedback(&sim.bwe, &pkt, 1, 1250000);
    assert_int_equal(sim.bwe.reported_received, 1);
}


/* Across the 16-bit wrap of the transport-wide numbers. */
static void
test_sequence_wrap(void **state)
{
    (void) state;

    sim_init(300000, 2000000, 1000000);
    sim.bwe.next_seq = 65536 - 500;
    (void) sim_run(20000000);

    assert_true(sim.bwe.next_seq > 65536);
    assert_int_equal(sim.bwe.reported_lost, 0);
    assert_int_equal(sim.bwe.reported_received, sim.reported);
    assert_true(parley_bwe_estimate(&sim.bwe) < 400000);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_finds_a_narrow_link),
        cmocka_unit_test(test_recovers_when_the_link_opens),
        cmocka_unit_test(test_random_loss_is_not_congestion),
        cmocka_unit_test(test_heavy_loss_cuts),
        cmocka_unit_test(test_hostile_feedback),
        cmocka_unit_test(test_through_the_wire_format),
        cmocka_unit_test(test_receiver_clock_jumps),
        cmocka_unit_test(test_jitter_is_not_congestion),
        cmocka_unit_test(test_lost_then_received),
        cmocka_unit_test(test_sequence_wrap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
