/*
 * Unit tests for the arrival rate of a stream (relay/parley_rate.c).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "parley_rate.h"


/* 1,000-byte packets every 10 ms from "from" to "to": 800 kbit/s */
static void
feed(parley_rate_t *r, uint64_t from, uint64_t to)
{
    uint64_t  t;

    for (t = from; t < to; t += 10) {
        parley_rate_add(r, 1000, t);
    }
}


static void
test_steady(void **state)
{
    uint64_t       t;
    parley_rate_t  r;

    (void) state;

    parley_rate_init(&r);
    assert_int_equal(parley_rate_bps(&r, 1000), 0);

    feed(&r, 5000, 8000);

    /* at any moment of a steady stream, between packets too: within 2 % */
    for (t = 8000; t < 8300; t += 10) {
        parley_rate_add(&r, 1000, t);
        assert_in_range(parley_rate_bps(&r, t), 784000, 816000);
        assert_in_range(parley_rate_bps(&r, t + 3), 784000, 816000);
        assert_in_range(parley_rate_bps(&r, t + 9), 784000, 816000);
    }
}


/*
 * A stream too young to say reads 0, not its first burst; once it is old
 * enough, its rate, not a fraction of it.
 */
static void
test_start(void **state)
{
    parley_rate_t  r;

    (void) state;

    parley_rate_init(&r);
    parley_rate_add(&r, 30000, 10000);          /* a keyframe at once */
    feed(&r, 10000, 10300);
    assert_int_equal(parley_rate_bps(&r, 10300), 0);

    parley_rate_init(&r);
    feed(&r, 10000, 10600);
    assert_in_range(parley_rate_bps(&r, 10600), 760000, 840000);
}


/* A stream that stops reads 0 a window later, and less on the way. */
static void
test_stop(void **state)
{
    parley_rate_t  r;

    (void) state;

    parley_rate_init(&r);
    feed(&r, 0, 3000);
    assert_true(parley_rate_bps(&r, 3500) < 500000);
    assert_int_equal(parley_rate_bps(&r, 4100), 0);

    /* back after a long pause: the old bytes are gone, and the new
       stream reads its real rate from its start */
    feed(&r, 100000, 100300);
    assert_int_equal(parley_rate_bps(&r, 100300), 0);
    feed(&r, 100300, 100600);
    assert_in_range(parley_rate_bps(&r, 100600), 760000, 840000);
    feed(&r, 100600, 101000);
    assert_in_range(parley_rate_bps(&r, 101000), 760000, 840000);
}


/* A clock that goes back is taken as not moving. */
static void
test_clock_back(void **state)
{
    parley_rate_t  r;

    (void) state;

    parley_rate_init(&r);
    feed(&r, 50000, 51000);
    parley_rate_add(&r, 1000, 40000);
    assert_in_range(parley_rate_bps(&r, 51000), 760000, 850000);
}


/*
 * A sender that repeats every packet ten times (within its flood limit)
 * reads its real rate, not ten times it; late repairs are not counted
 * again; a restarted encoder's numbers are.
 */
static void
test_repeats_counted_once(void **state)
{
    uint64_t       t, seq, k;
    parley_rate_t  r;

    (void) state;

    parley_rate_init(&r);
    seq = 70000;

    for (t = 10000; t < 11000; t++) {
        for (k = 0; k < 10; k++) {
            parley_rate_add_packet(&r, seq, 100, t);
        }

        if (t % 100 == 0) {
            parley_rate_add_packet(&r, seq - 50, 100, t);  /* a repair */
        }

        seq++;
    }

    assert_in_range(parley_rate_bps(&r, 11000), 760000, 840000);

    /* the encoder restarts far behind: counted from there on */
    seq = 60000;

    for (t = 11000; t < 12000; t++) {
        parley_rate_add_packet(&r, seq++, 100, t);
    }

    assert_in_range(parley_rate_bps(&r, 12000), 760000, 840000);

    /* streams interleaved 2,000 apart: one stream's rate, not three */
    parley_rate_init(&r);
    seq = 100000;

    for (t = 20000; t < 21000; t++) {
        parley_rate_add_packet(&r, seq, 100, t);
        parley_rate_add_packet(&r, seq - 2000, 100, t);
        parley_rate_add_packet(&r, seq - 4000, 100, t);
        seq++;
    }

    assert_in_range(parley_rate_bps(&r, 21000), 760000, 840000);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_steady),
        cmocka_unit_test(test_start),
        cmocka_unit_test(test_repeats_counted_once),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_clock_back),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
