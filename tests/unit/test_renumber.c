/*
 * Unit tests for a leg's own numbers (relay/parley_renumber.c): the
 * publisher's sequence numbers and timestamps move by constant offsets,
 * nothing goes out twice, NACKs map back, and a restarted stream is
 * followed without reusing a number.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "parley_renumber.h"


#define OUT_SEQ  0x8000
#define OUT_TS   0x12345678u


static uint16_t
forward(parley_renumber_t *rn, uint16_t in_seq, uint32_t in_ts)
{
    uint16_t  seq;
    uint32_t  ts;

    assert_int_equal(parley_renumber_packet(rn, in_seq, in_ts, &seq, &ts),
                     PARLEY_RENUMBER_FORWARD);
    assert_int_equal(ts, in_ts + (OUT_TS - 1000));

    return seq;
}


static parley_renumber_verdict_t
verdict(parley_renumber_t *rn, uint16_t in_seq)
{
    uint16_t  seq;
    uint32_t  ts;

    return parley_renumber_packet(rn, in_seq, 1000, &seq, &ts);
}


/* RFC 3550 5.1: the first packet takes the leg's random numbers */
static void
test_offsets(void **state)
{
    parley_renumber_t  rn;

    (void) state;

    parley_renumber_init(&rn, OUT_SEQ, OUT_TS);

    assert_int_equal(forward(&rn, 100, 1000), OUT_SEQ);
    assert_int_equal(forward(&rn, 101, 4000), OUT_SEQ + 1);

    /* a gap upstream stays a gap, which the subscriber will NACK */
    assert_int_equal(forward(&rn, 105, 7000), OUT_SEQ + 5);

    /* a late packet takes its place */
    assert_int_equal(forward(&rn, 103, 7000), OUT_SEQ + 3);

    assert_int_equal(parley_renumber_ts(&rn, 1000), OUT_TS);
}


/* the same number never goes out twice, whatever the publisher sends */
static void
test_duplicates(void **state)
{
    parley_renumber_t  rn;

    (void) state;

    parley_renumber_init(&rn, OUT_SEQ, OUT_TS);

    (void) forward(&rn, 100, 1000);
    (void) forward(&rn, 102, 1000);
    (void) forward(&rn, 101, 1000);

    assert_int_equal(verdict(&rn, 100), PARLEY_RENUMBER_DUPLICATE);
    assert_int_equal(verdict(&rn, 101), PARLEY_RENUMBER_DUPLICATE);
    assert_int_equal(verdict(&rn, 102), PARLEY_RENUMBER_DUPLICATE);
}


/* the window: too old is dropped, and the bits it passes are cleared */
static void
test_window(void **state)
{
    uint32_t           i;
    parley_renumber_t  rn;

    (void) state;

    parley_renumber_init(&rn, OUT_SEQ, OUT_TS);

    (void) forward(&rn, 10, 1000);

    /* 10 + HISTORY reuses 10's bit: it must be free again */
    assert_int_equal(forward(&rn, 10 + PARLEY_RENUMBER_HISTORY, 1000),
                     (uint16_t) (OUT_SEQ + PARLEY_RENUMBER_HISTORY));

    assert_int_equal(verdict(&rn, 10), PARLEY_RENUMBER_STALE);

    /* one past the window's bottom is still taken, once */
    assert_int_equal(forward(&rn, 11, 1000), OUT_SEQ + 1);
    assert_int_equal(verdict(&rn, 11), PARLEY_RENUMBER_DUPLICATE);

    /* a small step forward clears exactly what it passes */
    for (i = 0; i < 3; i++) {
        (void) forward(&rn, (uint16_t) (11 + PARLEY_RENUMBER_HISTORY + i),
                       1000);
    }

    assert_int_equal(verdict(&rn, (uint16_t) (11 + PARLEY_RENUMBER_HISTORY)),
                     PARLEY_RENUMBER_DUPLICATE);
}


/* numbers wrap at 2^16 on both sides */
static void
test_wrap(void **state)
{
    parley_renumber_t  rn;

    (void) state;

    parley_renumber_init(&rn, 0xfffe, OUT_TS);

    assert_int_equal(forward(&rn, 0xfffe, 1000), 0xfffe);
    assert_int_equal(forward(&rn, 0xffff, 1000), 0xffff);
    assert_int_equal(forward(&rn, 0x0001, 1000), 0x0001);
    assert_int_equal(forward(&rn, 0x0000, 1000), 0x0000);
    assert_int_equal(verdict(&rn, 0xffff), PARLEY_RENUMBER_DUPLICATE);

    /* reordered before the first packet: new numbers, taken */
    parley_renumber_init(&rn, OUT_SEQ, OUT_TS);
    assert_int_equal(forward(&rn, 0x0000, 1000), OUT_SEQ);
    assert_int_equal(forward(&rn, 0xfffd, 1000), OUT_SEQ - 3);
}


/* a NACK of the leg's number finds the publisher's */
static void
test_nack(void **state)
{
    uint16_t           in;
    parley_renumber_t  rn;

    (void) state;

    parley_renumber_init(&rn, OUT_SEQ, OUT_TS);

    assert_int_equal(parley_renumber_nack(&rn, OUT_SEQ, &in),
                     PARLEY_ERR_NOT_FOUND);

    (void) forward(&rn, 500, 1000);
    (void) forward(&rn, 503, 1000);

    /* lost upstream: mapped, so the ring can be asked */
    assert_int_equal(parley_renumber_nack(&rn, OUT_SEQ + 1, &in), PARLEY_OK);
    assert_int_equal(in, 501);

    /* not sent yet */
    assert_int_equal(parley_renumber_nack(&rn, OUT_SEQ + 4, &in),
                     PARLEY_ERR_NOT_FOUND);

    /* out of the window */
    (void) forward(&rn, 503 + PARLEY_RENUMBER_HISTORY, 1000);
    assert_int_equal(parley_renumber_nack(&rn, OUT_SEQ, &in),
                     PARLEY_ERR_NOT_FOUND);
}


/*
 * A publisher that starts its numbers over: after PARLEY_RENUMBER_RESYNC
 * stale packets in a row the leg follows, going on after the highest
 * number it sent; the old stream's stragglers stay out, so no number
 * goes out twice.
 */
static void
test_resync(void **state)
{
    uint16_t           seq, first, in;
    uint32_t           i;
    parley_renumber_t  rn;

    (void) state;

    parley_renumber_init(&rn, OUT_SEQ, OUT_TS);

    for (i = 0; i < 3000; i++) {
        (void) forward(&rn, (uint16_t) (20000 + i), 1000);
    }

    for (i = 0; i + 1 < PARLEY_RENUMBER_RESYNC; i++) {
        assert_int_equal(verdict(&rn, (uint16_t) (100 + i)),
                         PARLEY_RENUMBER_STALE);
    }

    first = forward(&rn, (uint16_t) (100 + i), 1000);
    assert_int_equal(first, (uint16_t) (OUT_SEQ + 3000));

    seq = forward(&rn, (uint16_t) (101 + i), 1000);
    assert_int_equal(seq, (uint16_t) (first + 1));

    /* older than the new stream's start: its numbers were the old one's */
    assert_int_equal(verdict(&rn, (uint16_t) (99 + i)),
                     PARLEY_RENUMBER_STALE);

    assert_int_equal(parley_renumber_nack(&rn, first, &in), PARLEY_OK);
    assert_int_equal(in, (uint16_t) (100 + i));
    assert_int_equal(parley_renumber_nack(&rn, (uint16_t) (first - 1), &in),
                     PARLEY_ERR_NOT_FOUND);

    /* a stale packet between good ones does not count towards a resync */
    for (i = 0; i < 2 * PARLEY_RENUMBER_RESYNC; i++) {
        assert_int_equal(verdict(&rn, 5), PARLEY_RENUMBER_STALE);
        (void) forward(&rn, (uint16_t) (200 + i), 1000);
    }
}


/*
 * After a pause (for bandwidth) the leg goes on right after the highest
 * number it sent: the packets it skipped are no gap to resend.
 */
static void
test_resume(void **state)
{
    uint16_t           seq, in;
    uint32_t           i;
    parley_renumber_t  rn;

    (void) state;

    /* before any packet, nothing to follow: the leg's first numbers */
    parley_renumber_init(&rn, OUT_SEQ, OUT_TS);
    parley_renumber_resume(&rn);
    assert_int_equal(forward(&rn, 500, 1000), OUT_SEQ);

    for (i = 1; i < 10; i++) {
        (void) forward(&rn, (uint16_t) (500 + i), 1000);
    }

    /* 300 packets not forwarded, then the keyframe the caller waited for */
    parley_renumber_resume(&rn);
    seq = forward(&rn, 809, 91000);
    assert_int_equal(seq, (uint16_t) (OUT_SEQ + 10));
    assert_int_equal(forward(&rn, 810, 91000), (uint16_t) (OUT_SEQ + 11));

    /* a packet from before the pause would take a number already sent */
    assert_int_equal(verdict(&rn, 808), PARLEY_RENUMBER_STALE);
    assert_int_equal(verdict(&rn, 505), PARLEY_RENUMBER_STALE);

    /* a NACK reaches the span's packets, not the skipped ones */
    assert_int_equal(parley_renumber_nack(&rn, seq, &in), PARLEY_OK);
    assert_int_equal(in, 809);
    assert_int_equal(parley_renumber_nack(&rn, (uint16_t) (seq - 1), &in),
                     PARLEY_ERR_NOT_FOUND);

    /* once: the packets after it keep their offset */
    assert_int_equal(forward(&rn, 812, 91000), (uint16_t) (OUT_SEQ + 13));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_nack),
        cmocka_unit_test(test_resync),
        cmocka_unit_test(test_resume),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
