/*
 * Unit tests for loss detection and NACK requests (relay/parley_nack.c):
 * when each number is asked for, how often, when it is given up, and the
 * bytes of the NACK built (RFC 4585 6.2.1).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parley_nack.h"


#define SENDER  0x11223344
#define MEDIA   0x55667788
#define MS      1000


static parley_nack_t *
nack_new(void)
{
    parley_nack_t  *n;

    n = malloc(sizeof(*n));
    assert_non_null(n);
    parley_nack_init(n, NULL);

    return n;
}


static void
test_in_order_asks_nothing(void **state)
{
    uint16_t        seq, out[8];
    parley_nack_t  *n;

    (void) state;

    n = nack_new();

    /* across the wrap */
    for (seq = 65500; seq != 100; seq++) {
        assert_int_equal(parley_nack_on_packet(n, seq, 0),
                         PARLEY_NACK_IN_ORDER);
    }

    assert_int_equal(parley_nack_collect(n, 10 * 1000 * MS, 0, out, 8), 0);
    assert_int_equal(parley_nack_next_us(n, 0), 0);
    assert_int_equal(parley_nack_keyframe_wanted(n), 0);

    free(n);
}


static void
test_gap_timing_and_retries(void **state)
{
    size_t          i;
    uint16_t        out[8];
    uint64_t        t;
    parley_nack_t  *n;

    (void) state;

    n = nack_new();

    assert_int_equal(parley_nack_on_packet(n, 10, 1000 * MS),
                     PARLEY_NACK_IN_ORDER);
    assert_int_equal(parley_nack_on_packet(n, 13, 1000 * MS),
                     PARLEY_NACK_GAP);
    assert_int_equal(parley_nack_missing(n), 2);

    /* first request after first_delay_us (5 ms) */
    assert_int_equal(parley_nack_next_us(n, 0), 1005 * MS);
    assert_int_equal(parley_nack_collect(n, 1004 * MS, 0, out, 8), 0);
    assert_int_equal(parley_nack_collect(n, 1005 * MS, 0, out, 8), 2);
    assert_int_equal(out[0], 11);
    assert_int_equal(out[1], 12);

    /* not again within the RTT (40 ms here) */
    assert_int_equal(parley_nack_collect(n, 1044 * MS, 40 * MS, out, 8), 0);
    assert_int_equal(parley_nack_next_us(n, 40 * MS), 1045 * MS);

    /* 12 comes back: only 11 is asked for again */
    assert_int_equal(parley_nack_on_packet(n, 12, 1030 * MS),
                     PARLEY_NACK_RECOVERED);
    assert_int_equal(parley_nack_on_packet(n, 12, 1031 * MS),
                     PARLEY_NACK_OLD);
    assert_int_equal(parley_nack_collect(n, 1045 * MS, 40 * MS, out, 8), 1);
    assert_int_equal(out[0], 11);

    /* ten requests in all, then it is given up and a keyframe wanted */
    t = 1045 * MS;
    for (i = 2; i < 10; i++) {
        t += 40 * MS;
        assert_int_equal(parley_nack_collect(n, t, 40 * MS, out, 8), 1);
    }

    assert_int_equal(n->requested, 11);
    assert_int_equal(parley_nack_keyframe_wanted(n), 0);

    t += 40 * MS;
    assert_int_equal(parley_nack_collect(n, t, 40 * MS, out, 8), 0);
    assert_int_equal(parley_nack_missing(n), 0);
    assert_int_equal(n->given_up, 1);
    assert_int_equal(parley_nack_keyframe_wanted(n), 1);
    assert_int_equal(parley_nack_keyframe_wanted(n), 0);

    free(n);
}


static void
test_reordering_is_not_loss(void **state)
{
    uint16_t        out[8];
    parley_nack_t  *n;

    (void) state;

    n = nack_new();

    (void) parley_nack_on_packet(n, 100, 0);
    assert_int_equal(parley_nack_on_packet(n, 102, 1 * MS), PARLEY_NACK_GAP);
    assert_int_equal(parley_nack_on_packet(n, 101, 3 * MS),
                     PARLEY_NACK_RECOVERED);

    assert_int_equal(parley_nack_collect(n, 100 * MS, 0, out, 8), 0);
    assert_int_equal(n->requested, 0);

    free(n);
}


static void
test_max_age(void **state)
{
    uint16_t        out[8];
    parley_nack_t  *n;

    (void) state;

    n = nack_new();

    (void) parley_nack_on_packet(n, 1, 0);
    (void) parley_nack_on_packet(n, 3, 0);

    /* an RTT of 600 ms: the second request would come after 1 s */
    assert_int_equal(parley_nack_collect(n, 5 * MS, 600 * MS, out, 8), 1);
    assert_int_equal(parley_nack_collect(n, 605 * MS, 600 * MS, out, 8), 1);
    assert_int_equal(parley_nack_collect(n, 1205 * MS, 600 * MS, out, 8), 0);
    assert_int_equal(n->given_up, 1);

    free(n);
}


static void
test_build_exact_across_wrap(void **state)
{
    uint8_t               buf[64];
    parley_nack_t        *n;
    parley_rtcp_writer_t  w;

    /* PID 65535, BLP bit 0 for 0 and bit 2 for 2 (RFC 4585 6.2.1) */
    static const uint8_t  want[] = {
        0x81, 0xcd, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44,
        0x55, 0x66, 0x77, 0x88, 0xff, 0xff, 0x00, 0x05
    };

    (void) state;

    n = nack_new();

    (void) parley_nack_on_packet(n, 65534, 0);
    (void) parley_nack_on_packet(n, 1, 0);
    (void) parley_nack_on_packet(n, 3, 0);

    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_nack_build(n, &w, SENDER, MEDIA, 1 * MS, 0),
                     PARLEY_RTP_DONE);
    assert_int_equal(parley_nack_build(n, &w, SENDER, MEDIA, 5 * MS, 0),
                     PARLEY_RTP_OK);
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    /* sent: not due again at once */
    assert_int_equal(parley_nack_build(n, &w, SENDER, MEDIA, 6 * MS, 0),
                     PARLEY_RTP_DONE);

    free(n);
}


static void
test_build_no_space_keeps_state(void **state)
{
    uint8_t               buf[64];
    uint16_t              out[8];
    parley_nack_t        *n;
    parley_rtcp_writer_t  w;

    (void) state;

    n = nack_new();

    (void) parley_nack_on_packet(n, 1, 0);
    (void) parley_nack_on_packet(n, 3, 0);

    parley_rtcp_writer_init(&w, buf, 12);
    assert_int_equal(parley_nack_build(n, &w, SENDER, MEDIA, 5 * MS, 0),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(n->requested, 0);

    /* still due */
    assert_int_equal(parley_nack_collect(n, 5 * MS, 0, out, 8), 1);
    assert_int_equal(out[0], 2);

    free(n);
}


static void
test_cap_limits_a_burst(void **state)
{
    size_t          k;
    uint16_t        out[4];
    parley_nack_t  *n;

    (void) state;

    n = nack_new();

    (void) parley_nack_on_packet(n, 0, 0);
    (void) parley_nack_on_packet(n, 11, 0);    /* 1..10 missing */

    k = parley_nack_collect(n, 5 * MS, 0, out, 4);
    assert_int_equal(k, 4);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[3], 4);

    /* the rest come next, oldest first, the first four are not due */
    k = parley_nack_collect(n, 5 * MS, 0, out, 4);
    assert_int_equal(k, 4);
    assert_int_equal(out[0], 5);

    k = parley_nack_collect(n, 6 * MS, 0, out, 4);
    assert_int_equal(k, 2);
    assert_int_equal(out[1], 10);

    free(n);
}


static void
test_long_gap_resets(void **state)
{
    uint16_t        out[8];
    parley_nack_t  *n;

    (void) state;

    n = nack_new();

    (void) parley_nack_on_packet(n, 0, 0);
    (void) parley_nack_on_packet(n, 2, 0);

    /* more missing than the list holds: ask for a keyframe instead */
    assert_int_equal(parley_nack_on_packet(n, 3 + PARLEY_NACK_MAX_MISSING + 1,
                                           0),
                     PARLEY_NACK_RESET);
    assert_int_equal(parley_nack_missing(n), 0);
    assert_int_equal(parley_nack_keyframe_wanted(n), 1);
    assert_int_equal(parley_nack_collect(n, 100 * MS, 0, out, 8), 0);

    /* the list fits exactly: no reset */
    assert_int_equal(parley_nack_on_packet(n, 3 + 2 * PARLEY_NACK_MAX_MISSING
                                              + 2, 0),
                     PARLEY_NACK_GAP);
    assert_int_equal(parley_nack_missing(n), PARLEY_NACK_MAX_MISSING);

    /* a new numbering far behind */
    assert_int_equal(parley_nack_on_packet(n, 40000, 0), PARLEY_NACK_RESET);
    assert_int_equal(parley_nack_on_packet(n, 40001, 0),
                     PARLEY_NACK_IN_ORDER);

    free(n);
}


static void
test_full_list_drops_oldest(void **state)
{
    uint16_t        i, seq, out[8];
    parley_nack_t  *n;

    (void) state;

    n = nack_new();

    /* every other packet lost: more gaps than the list holds */
    seq = 0;
    (void) parley_nack_on_packet(n, seq, 0);

    for (i = 0; i < PARLEY_NACK_MAX_MISSING + 10; i++) {
        seq += 2;
        assert_int_equal(parley_nack_on_packet(n, seq, 0), PARLEY_NACK_GAP);
    }

    assert_int_equal(parley_nack_missing(n), PARLEY_NACK_MAX_MISSING);
    assert_int_equal(n->given_up, 10);
    assert_int_equal(parley_nack_keyframe_wanted(n), 1);

    /* the oldest still listed is the 11th hole */
    assert_int_equal(parley_nack_collect(n, 5 * MS, 0, out, 1), 1);
    assert_int_equal(out[0], 21);

    free(n);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_asks_nothing),
        cmocka_unit_test(test_gap_timing_and_retries),
        cmocka_unit_test(test_reordering_is_not_loss),
        cmocka_unit_test(test_max_age),
        cmocka_unit_test(test_build_exact_across_wrap),
        cmocka_unit_test(test_build_no_space_keeps_state),
        cmocka_unit_test(test_cap_limits_a_burst),
        cmocka_unit_test(test_long_gap_resets),
        cmocka_unit_test(test_full_list_drops_oldest),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
