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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
