/*
 * Unit tests for the layers a subscriber gets within its budget
 * (relay/parley_alloc.c): audio first, the large window before the
 * thumbnails, thumbnails paused when their lowest encoding does not fit,
 * encodings that do not arrive neither paid nor chosen.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "parley_alloc.h"


#define NONE  PARLEY_NONE


static parley_alloc_leg_t  legs[8];


static parley_alloc_leg_t *
audio(size_t i, uint32_t bps)
{
    memset(&legs[i], 0, sizeof(parley_alloc_leg_t));
    legs[i].audio = 1;
    legs[i].layers = 1;
    legs[i].bps[0] = bps;
    legs[i].wish = 0;
    legs[i].prev = NONE;

    return &legs[i];
}


/* a camera in three encodings: 150 kbit/s, 500 kbit/s, 1.2 Mbit/s */
static parley_alloc_leg_t *
camera(size_t i, uint32_t wish, unsigned large)
{
    memset(&legs[i], 0, sizeof(parley_alloc_leg_t));
    legs[i].layers = 3;
    legs[i].bps[0] = 150000;
    legs[i].bps[1] = 500000;
    legs[i].bps[2] = 1200000;
    legs[i].wish = wish;
    legs[i].large = large;
    legs[i].prev = NONE;

    return &legs[i];
}


/* Two voices, a large camera and three thumbnails. */
static void
room(void)
{
    audio(0, 40000);
    audio(1, 40000);
    camera(2, 2, 1);
    camera(3, 0, 0);
    camera(4, 0, 0);
    camera(5, 0, 0);
}


static void
test_plenty(void **state)
{
    (void) state;

    room();
    assert_int_equal(parley_alloc(legs, 6, 10000000),
                     80000 + 1200000 + 3 * 150000);
    assert_int_equal(legs[0].cap, 0);
    assert_int_equal(legs[2].cap, 2);
    assert_int_equal(legs[3].cap, 0);
    assert_int_equal(legs[5].cap, 0);
    assert_false(legs[3].paused);

    /* no limit at all (nothing heard from the browser) is no negative one */
    room();
    assert_int_equal(parley_alloc(legs, 6, UINT64_MAX),
                     80000 + 1200000 + 3 * 150000);
    assert_int_equal(legs[2].cap, 2);
    assert_false(legs[5].paused);
}


/* 300 kbit/s: the voices and the large window at its lowest. */
static void
test_narrow(void **state)
{
    (void) state;

    room();
    assert_int_equal(parley_alloc(legs, 6, 300000), 80000 + 150000);
    assert_int_equal(legs[0].cap, 0);
    assert_int_equal(legs[1].cap, 0);
    assert_int_equal(legs[2].cap, 0);
    assert_false(legs[2].paused);

    assert_int_equal(legs[3].cap, NONE);
    assert_true(legs[3].paused);
    assert_true(legs[4].paused);
    assert_true(legs[5].paused);
}


/* 1 Mbit/s: the large window up to mid, then two thumbnails of three. */
static void
test_large_before_thumbnails(void **state)
{
    (void) state;

    room();
    assert_int_equal(parley_alloc(legs, 6, 1000000),
                     80000 + 500000 + 2 * 150000);
    assert_int_equal(legs[2].cap, 1);
    assert_int_equal(legs[3].cap, 0);
    assert_int_equal(legs[4].cap, 0);
    assert_int_equal(legs[5].cap, NONE);
    assert_true(legs[5].paused);
}


/* Less than the voices: they are kept, every picture paused. */
static void
test_audio_whatever_it_costs(void **state)
{
    (void) state;

    room();
    assert_int_equal(parley_alloc(legs, 6, 50000), 80000);
    assert_int_equal(legs[0].cap, 0);
    assert_int_equal(legs[1].cap, 0);
    assert_true(legs[2].paused);
    assert_true(legs[3].paused);

    /*
     * A voice that reads 24 Mbit/s (its publisher repeats every packet)
     * costs what a voice can, and the pictures still fit.
     */
    room();
    legs[1].bps[0] = 24000000;
    assert_int_equal(parley_alloc(legs, 6, 2000000),
                     40000 + PARLEY_ALLOC_VOICE_BPS + 1200000 + 3 * 150000);
    assert_false(legs[2].paused);
    assert_int_equal(legs[2].cap, 2);
    assert_false(legs[5].paused);
}


/*
 * Wished off: paused by the wish, not counted as paused for bandwidth.
 * Encodings that do not arrive: skipped, unpaid; nothing arriving at all:
 * the wish stands at no cost.
 */
static void
test_off_absent_and_single(void **state)
{
    (void) state;

    room();
    legs[3].wish = NONE;
    legs[2].bps[1] = 0;                 /* the large window's mid stopped */
    memset(legs[4].bps, 0, sizeof(legs[4].bps));

    /* a camera sent in one encoding */
    memset(&legs[5], 0, sizeof(parley_alloc_leg_t));
    legs[5].layers = 1;
    legs[5].bps[0] = 400000;
    legs[5].wish = 0;
    legs[5].prev = NONE;

    assert_int_equal(parley_alloc(legs, 6, 2000000),
                     80000 + 1200000 + 400000);
    assert_int_equal(legs[2].cap, 2);
    assert_int_equal(legs[3].cap, NONE);
    assert_false(legs[3].paused);
    assert_int_equal(legs[4].cap, 0);
    assert_false(legs[4].paused);
    assert_int_equal(legs[5].cap, 0);

    /* the single encoding does not fit: paused */
    assert_int_equal(parley_alloc(legs, 6, 1500000), 80000 + 1200000);
    assert_true(legs[5].paused);

    /* a wish above what the publisher sends is held to what it sends */
    legs[5].wish = 2;
    assert_int_equal(parley_alloc(legs, 6, 5000000),
                     80000 + 1200000 + 400000);
    assert_int_equal(legs[5].cap, 0);
}


/*
 * A thumbnail whose low encoding does not arrive is sent the nearest one
 * above (as the switcher does), and pays for it; a paused section that
 * fits again is no longer marked paused.
 */
static void
test_absent_low_and_unpause(void **state)
{
    (void) state;

    camera(0, 0, 0);
    legs[0].bps[0] = 0;
    assert_int_equal(parley_alloc(legs, 1, 1000000), 500000);
    assert_int_equal(legs[0].cap, 1);

    assert_int_equal(parley_alloc(legs, 1, 400000), 0);
    assert_true(legs[0].paused);
    assert_int_equal(legs[0].cap, NONE);

    assert_int_equal(parley_alloc(legs, 1, 600000), 500000);
    assert_false(legs[0].paused);
    assert_int_equal(legs[0].cap, 1);
}


/* The large window wished low: it gets no more than its wish. */
static void
test_wish_bounds(void **state)
{
    (void) state;

    room();
    legs[2].wish = 1;
    legs[3].wish = 2;
    assert_int_equal(parley_alloc(legs, 6, 10000000),
                     80000 + 500000 + 1200000 + 2 * 150000);
    assert_int_equal(legs[2].cap, 1);
    assert_int_equal(legs[3].cap, 2);
}


/*
 * Against flapping: what is sent already keeps at its exact cost; more
 * needs a tenth of its rate spare.
 */
static void
test_hysteresis(void **state)
{
    (void) state;

    /* a large camera alone: 1.2 Mbit/s exactly */
    camera(0, 2, 1);

    /* sent high already: kept */
    legs[0].prev = 2;
    assert_int_equal(parley_alloc(legs, 1, 1200000), 1200000);
    assert_int_equal(legs[0].cap, 2);

    /* sent mid: high needs 120 kbit/s spare besides */
    legs[0].prev = 1;
    assert_int_equal(parley_alloc(legs, 1, 1200000), 500000);
    assert_int_equal(legs[0].cap, 1);
    assert_int_equal(parley_alloc(legs, 1, 1320000), 1200000);
    assert_int_equal(legs[0].cap, 2);

    /* paused: back only with its tenth spare */
    legs[0].prev = NONE;
    assert_int_equal(parley_alloc(legs, 1, 160000), 0);
    assert_true(legs[0].paused);
    assert_int_equal(parley_alloc(legs, 1, 165000), 150000);
    assert_int_equal(legs[0].cap, 0);
}


/* What a section's "layer" wish makes of it. */
static void
test_wish_of_layer(void **state)
{
    parley_alloc_leg_t  a;

    (void) state;

    memset(&a, 0, sizeof(a));

    /* simulcast, never wished: the highest, as the switcher starts; large */
    parley_alloc_wish(&a, 1, 0, 0);
    assert_int_equal(a.wish, 2);
    assert_true(a.large);

    parley_alloc_wish(&a, 1, 1, 0);             /* "low": a thumbnail */
    assert_int_equal(a.wish, 0);
    assert_false(a.large);

    parley_alloc_wish(&a, 1, 1, NONE);          /* "off" */
    assert_int_equal(a.wish, NONE);
    assert_false(a.large);

    /* one encoding: nothing to choose; "high" says it is large */
    parley_alloc_wish(&a, 0, 1, 2);
    assert_int_equal(a.wish, 0);
    assert_true(a.large);

    parley_alloc_wish(&a, 0, 0, 2);
    assert_false(a.large);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_plenty),
        cmocka_unit_test(test_narrow),
        cmocka_unit_test(test_large_before_thumbnails),
        cmocka_unit_test(test_audio_whatever_it_costs),
        cmocka_unit_test(test_off_absent_and_single),
        cmocka_unit_test(test_wish_bounds),
        cmocka_unit_test(test_hysteresis),
        cmocka_unit_test(test_absent_low_and_unpause),
        cmocka_unit_test(test_wish_of_layer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
