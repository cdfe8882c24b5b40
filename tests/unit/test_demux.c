/*
 * Unit tests for the bundled-transport demultiplexer
 * (relay/parley_demux.c).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parley_demux.h"


/* the class of a datagram of len bytes starting with b0 b1, from the heap */
static parley_demux_class_t
classify(uint8_t b0, uint8_t b1, size_t len)
{
    uint8_t               *p;
    parley_demux_class_t   cls;

    p = malloc(len ? len : 1);
    assert_non_null(p);
    memset(p, 0, len);

    if (len > 0) {
        p[0] = b0;
    }
    if (len > 1) {
        p[1] = b1;
    }

    cls = parley_demux_classify(p, len);
    free(p);

    return cls;
}


/* RFC 7983 7, written out as the figure draws it */
static parley_demux_class_t
expected_class(unsigned b)
{
    if (b <= 3) {
        return PARLEY_DEMUX_STUN;
    }
    if (b >= 16 && b <= 19) {
        return PARLEY_DEMUX_ZRTP;
    }
    if (b >= 20 && b <= 63) {
        return PARLEY_DEMUX_DTLS;
    }
    if (b >= 64 && b <= 79) {
        return PARLEY_DEMUX_TURN_CHANNEL;
    }
    if (b >= 128 && b <= 191) {
        return PARLEY_DEMUX_RTP;
    }
    return PARLEY_DEMUX_UNKNOWN;
}


static void
test_every_first_byte(void **state)
{
    unsigned  b;

    (void) state;

    /* second byte 96: an RTP payload type, outside RTCP's range */
    for (b = 0; b < 256; b++) {
        assert_int_equal(classify((uint8_t) b, 96, 100), expected_class(b));
    }

    /* the edges, spelled out */
    assert_int_equal(classify(3, 0, 100), PARLEY_DEMUX_STUN);
    assert_int_equal(classify(4, 0, 100), PARLEY_DEMUX_UNKNOWN);
    assert_int_equal(classify(15, 0, 100), PARLEY_DEMUX_UNKNOWN);
    assert_int_equal(classify(16, 0, 100), PARLEY_DEMUX_ZRTP);
    assert_int_equal(classify(20, 0, 100), PARLEY_DEMUX_DTLS);
    assert_int_equal(classify(63, 0, 100), PARLEY_DEMUX_DTLS);
    assert_int_equal(classify(64, 0, 100), PARLEY_DEMUX_TURN_CHANNEL);
    assert_int_equal(classify(79, 0, 100), PARLEY_DEMUX_TURN_CHANNEL);
    assert_int_equal(classify(80, 0, 100), PARLEY_DEMUX_UNKNOWN);
    assert_int_equal(classify(127, 0, 100), PARLEY_DEMUX_UNKNOWN);
    assert_int_equal(classify(128, 0, 100), PARLEY_DEMUX_RTP);
    assert_int_equal(classify(191, 0, 100), PARLEY_DEMUX_RTP);
    assert_int_equal(classify(192, 0, 100), PARLEY_DEMUX_UNKNOWN);
    assert_int_equal(classify(255, 0, 100), PARLEY_DEMUX_UNKNOWN);
}


static void
test_rtp_or_rtcp(void **state)
{
    unsigned  b;

    (void) state;

    /* RFC 5761 4: a second byte of 192..223 is RTCP, anything else RTP */
    for (b = 0; b < 256; b++) {
        assert_int_equal(classify(0x80, (uint8_t) b, 100),
                         b >= 192 && b <= 223 ? PARLEY_DEMUX_RTCP
                                              : PARLEY_DEMUX_RTP);
    }

    /* SR, RR, PSFB; RTP PT 96 with and without marker; PT 127 marked */
    assert_int_equal(classify(0x80, 200, 28), PARLEY_DEMUX_RTCP);
    assert_int_equal(classify(0x81, 201, 32), PARLEY_DEMUX_RTCP);
    assert_int_equal(classify(0x81, 206, 12), PARLEY_DEMUX_RTCP);
    assert_int_equal(classify(0x90, 96, 100), PARLEY_DEMUX_RTP);
    assert_int_equal(classify(0x90, 0x80 | 96, 100), PARLEY_DEMUX_RTP);
    assert_int_equal(classify(0x80, 0xff, 100), PARLEY_DEMUX_RTP);
}


static void
test_too_short(void **state)
{
    (void) state;

    assert_int_equal(parley_demux_classify(NULL, 0), PARLEY_DEMUX_INVALID);
    assert_int_equal(classify(0x80, 0, 0), PARLEY_DEMUX_INVALID);

    /* one byte short of each class's fixed header, then exactly it */
    assert_int_equal(classify(0x00, 0x01, 19), PARLEY_DEMUX_INVALID);
    assert_int_equal(classify(0x00, 0x01, 20), PARLEY_DEMUX_STUN);
    assert_int_equal(classify(0x10, 0x00, 15), PARLEY_DEMUX_INVALID);
    assert_int_equal(classify(0x10, 0x00, 16), PARLEY_DEMUX_ZRTP);
    assert_int_equal(classify(0x16, 0xfe, 12), PARLEY_DEMUX_INVALID);
    assert_int_equal(classify(0x16, 0xfe, 13), PARLEY_DEMUX_DTLS);
    assert_int_equal(classify(0x40, 0x00, 3), PARLEY_DEMUX_INVALID);
    assert_int_equal(classify(0x40, 0x00, 4), PARLEY_DEMUX_TURN_CHANNEL);
    assert_int_equal(classify(0x80, 96, 11), PARLEY_DEMUX_INVALID);
    assert_int_equal(classify(0x80, 96, 12), PARLEY_DEMUX_RTP);
    assert_int_equal(classify(0x80, 201, 7), PARLEY_DEMUX_INVALID);
    assert_int_equal(classify(0x80, 201, 8), PARLEY_DEMUX_RTCP);

    /* one byte of RTP/RTCP range: no second byte, too short either way */
    assert_int_equal(classify(0x80, 0, 1), PARLEY_DEMUX_INVALID);

    /* an unknown first byte stays unknown, however short */
    assert_int_equal(classify(0xff, 0, 1), PARLEY_DEMUX_UNKNOWN);
}


static void
test_dropped_and_names(void **state)
{
    int  cls;

    (void) state;

    assert_false(parley_demux_is_dropped(PARLEY_DEMUX_STUN));
    assert_false(parley_demux_is_dropped(PARLEY_DEMUX_DTLS));
    assert_false(parley_demux_is_dropped(PARLEY_DEMUX_RTP));
    assert_false(parley_demux_is_dropped(PARLEY_DEMUX_RTCP));
    assert_true(parley_demux_is_dropped(PARLEY_DEMUX_ZRTP));
    assert_true(parley_demux_is_dropped(PARLEY_DEMUX_TURN_CHANNEL));
    assert_true(parley_demux_is_dropped(PARLEY_DEMUX_UNKNOWN));
    assert_true(parley_demux_is_dropped(PARLEY_DEMUX_INVALID));

    for (cls = PARLEY_DEMUX_UNKNOWN; cls <= PARLEY_DEMUX_RTCP; cls++) {
        assert_non_null(parley_demux_class_str(cls));
    }
    assert_string_equal(parley_demux_class_str(PARLEY_DEMUX_RTCP), "rtcp");
}


static void
test_real_headers(void **state)
{
    /* a STUN binding request: type 0x0001, length 0, magic cookie */
    static const uint8_t  stun[20] = {
        0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
    };

    /* a DTLS 1.2 handshake record header (RFC 6347 4.1) */
    static const uint8_t  dtls[13] = {
        0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00
    };

    (void) state;

    assert_int_equal(parley_demux_classify(stun, sizeof(stun)),
                     PARLEY_DEMUX_STUN);
    assert_int_equal(parley_demux_classify(dtls, sizeof(dtls)),
                     PARLEY_DEMUX_DTLS);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_every_first_byte),
        cmocka_unit_test(test_rtp_or_rtcp),
        cmocka_unit_test(test_too_short),
        cmocka_unit_test(test_dropped_and_names),
        cmocka_unit_test(test_real_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
