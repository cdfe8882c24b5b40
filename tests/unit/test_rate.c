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


/* A stream that has just started reads its rate, not a tenth of it. */
static void
test_start(void **state)
{
    parley_rate_t  r;

    (void) state;

    parley_rate_init(&r);
    feed(&r, 10000, 10300);
    assert_in_range(parley_rate_bps(&r, 10300), 760000, 840000);
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
    assert_in_range(parley_rate_bps(&r, 100300), 760000, 840000);
    feed(&r, 100300, 101000);
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


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_steady),
        cmocka_unit_test(test_start),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_clock_back),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
