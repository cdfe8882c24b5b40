/*
 * parley_leg: what each packet of a track becomes for one subscriber.
 *
 * A publisher's VP8 stream (PT 96, RTX 97) goes to a leg that numbers it
 * 98 and 99 under its own SSRCs. The tests drive the leg as the glue
 * does: parse once, hand the packet to parley_leg_forward(), and for a
 * NACK parley_leg_nack(), fetch, parley_leg_resend().
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "parley_shm.h"
#include "parley_leg.h"


#define LEG_SSRC     0x11223344
#define LEG_RTX      0x55667788
#define PUB_SSRC     0x0a0a0a0a
#define FIRST_SEQ    1000
#define FIRST_TS     90000
#define RTX_SEQ      500
#define OUT_CAP      1400
#define BIG_BUDGET   100000000


typedef struct {
    parley_leg_t         leg;
    parley_retransmit_limiter_t  limiter;
    unsigned             asked;           /* keyframe requests */
    uint32_t             asked_layer;
    int                  answer;          /* what the callback returns */
    uint8_t              buf[256];
    parley_rtp_header_t  h;
    parley_leg_packet_t  p;
    uint8_t              out[OUT_CAP + 64];
    size_t               out_len;
    int                  twcc;
} fixture_t;


static fixture_t  fx;


static int
asked_for_keyframe(parley_leg_t *leg, uint32_t layer)
{
    (void) leg;

    fx.asked++;
    fx.asked_layer = layer;

    return fx.answer;
}


/* A single-stream video leg with RTX, a budget that never binds. */
static void
leg_init(int simulcast)
{
    memset(&fx, 0, sizeof(fx));

    parley_forward_map_init(&fx.leg.map, LEG_SSRC, LEG_RTX);
    fx.leg.map.pt[96] = 98;
    fx.leg.map.pt[97] = 99;
    fx.leg.map.pt_is_rtx[97] = 1;
    fx.leg.map.single_layer = 1;
    assert_int_equal(parley_forward_map_check(&fx.leg.map),
                     PARLEY_FORWARD_OK);

    if (simulcast) {
        fx.leg.simulcast = 1;
        assert_int_equal(parley_simulcast_init(&fx.leg.sw, NULL, 7000,
                                               123456),
                         PARLEY_OK);
    } else {
        parley_renumber_init(&fx.leg.rn, 7000, 123456);
    }

    assert_int_equal(parley_retransmit_limiter_init(&fx.limiter, 80000,
                                                    24000),
                     PARLEY_OK);
    fx.leg.limiter = &fx.limiter;
    fx.leg.rtx_ssrc = LEG_RTX;
    fx.leg.rtx_pt = 99;
    fx.leg.rtx_seq = RTX_SEQ;
    fx.leg.keyframe = asked_for_keyframe;
    fx.answer = 1;

    parley_budget_init(&fx.leg.budget, BIG_BUDGET, BIG_BUDGET, 0);
    assert_int_equal(parley_rtcp_send_init(&fx.leg.sr, LEG_SSRC, 90000,
                                           (const uint8_t *) "leg", 3,
                                           1000000),
                     PARLEY_RTP_OK);
}


/* The publisher's packet n (seq FIRST_SEQ + n), 100 bytes of payload. */
static void
packet(unsigned n, uint32_t layer, int keyframe)
{
    size_t  len;

    memset(fx.buf, 0, sizeof(fx.buf));
    fx.buf[0] = 0x80;
    fx.buf[1] = 96;
    fx.buf[2] = (uint8_t) ((FIRST_SEQ + n) >> 8);
    fx.buf[3] = (uint8_t) (FIRST_SEQ + n);
    fx.buf[4] = (uint8_t) ((FIRST_TS + 3000 * n) >> 24);
    fx.buf[5] = (uint8_t) ((FIRST_TS + 3000 * n) >> 16);
    fx.buf[6] = (uint8_t) ((FIRST_TS + 3000 * n) >> 8);
    fx.buf[7] = (uint8_t) (FIRST_TS + 3000 * n);
    fx.buf[8] = (uint8_t) (PUB_SSRC >> 24);
    fx.buf[9] = (uint8_t) (PUB_SSRC >> 16);
    fx.buf[10] = (uint8_t) (PUB_SSRC >> 8);
    fx.buf[11] = (uint8_t) PUB_SSRC;
    memset(fx.buf + 12, (int) (0x40 + n), 100);
    len = 112;

    assert_int_equal(parley_rtp_parse(fx.buf, len, &fx.h), PARLEY_RTP_OK);

    fx.p.buf = fx.buf;
    fx.p.len = len;
    fx.p.h = &fx.h;
    fx.p.layer = layer;
    fx.p.keyframe = keyframe;
}


static parley_leg_rc_t
forward(uint64_t now_ms)
{
    return parley_leg_forward(&fx.leg, &fx.p, now_ms,
                              PARLEY_FORWARD_TWCC_NONE, fx.out, OUT_CAP,
                              &fx.out_len, &fx.twcc);
}


static uint16_t
out_seq(void)
{
    return (uint16_t) (fx.out[2] << 8 | fx.out[3]);
}


static uint32_t
out_ssrc(void)
{
    return (uint32_t) fx.out[8] << 24 | (uint32_t) fx.out[9] << 16
           | (uint32_t) fx.out[10] << 8 | fx.out[11];
}


/* A single stream: the leg's own numbers, in order, each once. */
static void
test_single_stream_renumbered(void **state)
{
    unsigned  n;

    (void) state;
    leg_init(0);

    for (n = 0; n < 5; n++) {
        packet(n, 0, n == 0);
        assert_int_equal(forward(n), PARLEY_LEG_SEND);
        assert_int_equal(out_seq(), (uint16_t) (7000 + n));
        assert_int_equal(out_ssrc(), LEG_SSRC);
        assert_int_equal(fx.out[1] & 0x7f, 98);
        assert_int_equal(fx.out_len, fx.p.len);
    }

    /* a packet seen before is not sent twice */
    packet(2, 0, 0);
    assert_int_equal(forward(10), PARLEY_LEG_HOLD);
    assert_int_equal(fx.asked, 0);

    /* the sender reports count what the caller sent, not what it meant
     * to: none of the five above was confirmed, the next one is */
    assert_int_equal(fx.leg.sr.packets, 0);
    packet(5, 0, 0);
    assert_int_equal(forward(11), PARLEY_LEG_SEND);
    parley_leg_sent(&fx.leg, fx.h.payload_len, 11);
    assert_int_equal(fx.leg.sr.packets, 1);
    assert_int_equal(fx.leg.sr.octets, 100);
}


/* Paused for bandwidth: nothing; back: nothing until a keyframe, which
 * it asks for, then the numbers go on with no gap. */
static void
test_pause_and_resume_from_a_keyframe(void **state)
{
    (void) state;
    leg_init(0);

    packet(0, 0, 1);
    assert_int_equal(forward(0), PARLEY_LEG_SEND);

    fx.leg.paused = 1;
    packet(1, 0, 0);
    assert_int_equal(forward(1), PARLEY_LEG_HOLD);

    fx.leg.paused = 0;
    fx.leg.resuming = 1;
    parley_renumber_resume(&fx.leg.rn);

    packet(2, 0, 0);
    assert_int_equal(forward(2), PARLEY_LEG_HOLD);
    assert_int_equal(fx.asked, 1);
    assert_int_equal(fx.asked_layer, PARLEY_NONE);

    packet(3, 0, 1);
    assert_int_equal(forward(3), PARLEY_LEG_SEND);
    assert_int_equal(out_seq(), 7001);
    assert_int_equal(fx.leg.resuming, 0);
}


/* Simulcast: the layer asked for is forwarded from its keyframe on; the
 * others are held, and the missing keyframe is asked for. */
static void
test_simulcast_switches_at_a_keyframe(void **state)
{
    unsigned  n;

    (void) state;
    leg_init(1);

    assert_int_equal(parley_simulcast_set_target(&fx.leg.sw, 1), PARLEY_OK);

    /* layer 1 without a keyframe: held, a keyframe of layer 1 asked for */
    packet(0, 1, 0);
    assert_int_equal(forward(0), PARLEY_LEG_HOLD);
    assert_true(fx.asked >= 1);
    assert_int_equal(fx.asked_layer, 1);

    /* layer 0 is not what the leg wants */
    packet(1, 0, 1);
    (void) forward(1);

    for (n = 2; n < 6; n++) {
        packet(n, 1, n == 2);
        assert_int_equal(forward(n), PARLEY_LEG_SEND);
        assert_int_equal(out_ssrc(), LEG_SSRC);
    }
}


/* A keyframe request the leg's glue holds back (too soon) is asked again
 * by the next packet, not forgotten. */
static void
test_held_back_request_is_due_again(void **state)
{
    (void) state;
    leg_init(1);

    assert_int_equal(parley_simulcast_set_target(&fx.leg.sw, 0), PARLEY_OK);

    fx.answer = 0;
    packet(0, 0, 0);
    assert_int_equal(forward(0), PARLEY_LEG_HOLD);
    assert_int_equal(fx.asked, 1);

    fx.answer = 1;
    packet(1, 0, 0);
    assert_int_equal(forward(1), PARLEY_LEG_HOLD);
    assert_int_equal(fx.asked, 2);
}


/* Past the budget nothing goes out; the budget refills with time. */
static void
test_budget(void **state)
{
    (void) state;
    leg_init(0);

    /* 10 kB/s, 200 bytes at once: one 112-byte packet, not two */
    parley_budget_init(&fx.leg.budget, 10000, 200, 0);

    packet(0, 0, 1);
    assert_int_equal(forward(0), PARLEY_LEG_SEND);
    packet(1, 0, 0);
    assert_int_equal(forward(0), PARLEY_LEG_OVER_BUDGET);
    packet(2, 0, 0);
    assert_int_equal(forward(1000), PARLEY_LEG_SEND);
}


/* A NACK'd number goes back as RTX: on the leg's RTX SSRC and its own
 * RTX numbers, with the leg's number as the OSN. */
static void
test_resend_as_rtx(void **state)
{
    unsigned           n;
    parley_leg_nack_t  nack;

    (void) state;
    leg_init(0);

    for (n = 0; n < 3; n++) {
        packet(n, 0, n == 0);
        assert_int_equal(forward(n), PARLEY_LEG_SEND);
    }

    assert_int_equal(parley_leg_nack(&fx.leg, 7001, 5000, &nack),
                     PARLEY_LEG_SEND);
    assert_int_equal(nack.in_seq, FIRST_SEQ + 1);
    assert_int_equal(nack.layer, 0);

    packet(1, 0, 0);
    assert_int_equal(parley_leg_resend(&fx.leg, &nack, &fx.p, 5,
                                       PARLEY_FORWARD_TWCC_NONE, fx.out,
                                       OUT_CAP, &fx.out_len, &fx.twcc),
                     PARLEY_LEG_SEND);

    assert_int_equal(out_ssrc(), LEG_RTX);
    assert_int_equal(fx.out[1] & 0x7f, 99);
    assert_int_equal(out_seq(), RTX_SEQ);
    assert_int_equal(fx.out_len, fx.p.len + PARLEY_RTP_RTX_OSN_LEN);
    assert_int_equal(fx.out[12] << 8 | fx.out[13], 7001);     /* OSN */
    assert_int_equal(fx.leg.rtx_seq, RTX_SEQ + 1);

    /* not sent (the socket refused it): the number may go again at once */
    assert_int_equal(parley_leg_nack(&fx.leg, 7001, 5001, &nack),
                     PARLEY_LEG_SEND);

    /* sent: at once again, the limiter says not yet */
    parley_leg_resent(&fx.leg, &nack, fx.out_len, 5001);
    assert_int_equal(parley_leg_nack(&fx.leg, 7001, 5002, &nack),
                     PARLEY_LEG_LIMITED);
}


/* Numbers the leg never sent, or a leg without RTX: missed. */
static void
test_nack_missed(void **state)
{
    parley_leg_nack_t  nack;

    (void) state;
    leg_init(0);

    packet(0, 0, 1);
    assert_int_equal(forward(0), PARLEY_LEG_SEND);

    assert_int_equal(parley_leg_nack(&fx.leg, 3000, 1000, &nack),
                     PARLEY_LEG_MISSED);

    fx.leg.rtx_ssrc = 0;
    assert_int_equal(parley_leg_nack(&fx.leg, 7000, 1000, &nack),
                     PARLEY_LEG_MISSED);
}


/* A packet that does not fit the caller's buffer is refused, not cut. */
static void
test_no_room(void **state)
{
    (void) state;
    leg_init(0);

    packet(0, 0, 1);
    assert_int_equal(parley_leg_forward(&fx.leg, &fx.p, 0,
                                        PARLEY_FORWARD_TWCC_NONE, fx.out,
                                        50, &fx.out_len, &fx.twcc),
                     PARLEY_LEG_ERROR);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_single_stream_renumbered),
        cmocka_unit_test(test_pause_and_resume_from_a_keyframe),
        cmocka_unit_test(test_simulcast_switches_at_a_keyframe),
        cmocka_unit_test(test_held_back_request_is_due_again),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_resend_as_rtx),
        cmocka_unit_test(test_nack_missed),
        cmocka_unit_test(test_no_room),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
