/*
 * Unit tests for the simulcast layer switcher (relay/parley_simulcast.c).
 *
 * A simulated publisher sends three layers, each with its own sequence and
 * timestamp origin, one frame per layer every 33 ms (low first, as
 * browsers do): 1 packet per frame on layer 0, 2 on layer 1, 4 on layer 2.
 * Every forwarded packet is recorded, so tests can check the outgoing
 * stream as a whole.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "parley_simulcast.h"


#define T0          5000000        /* ms; any start will do */
#define FRAME_MS    33
#define FRAME_TS    3000           /* 33 ms at 90 kHz */
#define MAX_FWD     65536
#define NONE        PARLEY_NONE


typedef struct {
    uint16_t  seq;
    uint32_t  ts;
    uint32_t  ts_step;             /* per frame */
    uint32_t  packets;             /* per frame */
    int       on;
} pub_layer_t;


typedef struct {
    uint32_t                layer;
    uint16_t                in_seq;
    uint32_t                in_ts;
    unsigned                keyframe_start;
    parley_simulcast_out_t  out;
} fwd_t;


typedef struct {
    parley_simulcast_t  sw;
    pub_layer_t         pub[PARLEY_SIMULCAST_LAYERS];
    uint64_t            now;
    fwd_t               fwd[MAX_FWD];
    uint32_t            nfwd;
} sim_t;


static sim_t  sim;


static void
sim_init(uint16_t out_seq, uint32_t out_ts, uint16_t in_seq, uint32_t in_ts)
{
    uint32_t  l;

    memset(&sim, 0, sizeof(sim_t));
    sim.now = T0;

    assert_int_equal(parley_simulcast_init(&sim.sw, NULL, out_seq, out_ts),
                     PARLEY_OK);

    /* each layer its own origins, a few apart so that they wrap apart */
    for (l = 0; l < PARLEY_SIMULCAST_LAYERS; l++) {
        sim.pub[l].seq = (uint16_t) (in_seq + l * 7);
        sim.pub[l].ts = in_ts + l * 1000003;
        sim.pub[l].ts_step = FRAME_TS;
        sim.pub[l].packets = 1u << l;
        sim.pub[l].on = 1;
    }
}


static parley_simulcast_verdict_t
sim_send(uint32_t layer, uint16_t seq, uint32_t ts, unsigned marker,
    unsigned key, uint32_t size)
{
    fwd_t                       *f;
    parley_simulcast_out_t       out;
    parley_simulcast_packet_t    pkt;
    parley_simulcast_verdict_t   v;

    pkt.layer = layer;
    pkt.seq = seq;
    pkt.ts = ts;
    pkt.marker = marker;
    pkt.keyframe_start = key;
    pkt.size = size;
    pkt.arrival_ms = sim.now;

    v = parley_simulcast_packet(&sim.sw, &pkt, &out);

    if (v == PARLEY_SIMULCAST_FORWARD) {
        assert_true(sim.nfwd < MAX_FWD);
        f = &sim.fwd[sim.nfwd++];
        f->layer = layer;
        f->in_seq = seq;
        f->in_ts = ts;
        f->keyframe_start = key;
        f->out = out;
    }

    return v;
}


/* one frame of "layer"; returns how many of its packets went out */
static uint32_t
sim_frame(uint32_t layer, unsigned key)
{
    uint32_t      i, n, sent;
    pub_layer_t  *pub;

    pub = &sim.pub[layer];
    n = pub->packets;
    sent = 0;

    for (i = 0; i < n; i++) {
        if (sim_send(layer, pub->seq++, pub->ts, i == n - 1, key && i == 0,
                     1000)
            == PARLEY_SIMULCAST_FORWARD)
        {
            sent++;
        }
    }

    pub->ts += pub->ts_step;

    return sent;
}


/* one frame on every layer that is on; "keys" has a bit per keyframe */
static void
sim_step(uint32_t keys)
{
    uint32_t  l;

    for (l = 0; l < PARLEY_SIMULCAST_LAYERS; l++) {
        if (sim.pub[l].on) {
            sim_frame(l, (keys >> l) & 1);
        }
    }

    sim.now += FRAME_MS;
}


static void
sim_steps(uint32_t n)
{
    while (n--) {
        sim_step(0);
    }
}


static uint32_t
sim_layer_of_last(void)
{
    assert_true(sim.nfwd > 0);
    return sim.fwd[sim.nfwd - 1].layer;
}


static uint16_t
seq_offset(const fwd_t *f)
{
    return (uint16_t) (f->out.seq - f->in_seq);
}


/*
 * The outgoing stream from packet "from" on: no sequence gap, timestamps
 * never going back, within a span of one layer the incoming spacing kept,
 * and a new span (another layer, or the same one after a pause) starting
 * only at the first packet of a keyframe, at least a frame later.
 */
static void
assert_clean(uint32_t from)
{
    uint32_t      i;
    int32_t       dts;
    const fwd_t  *a, *b;

    for (i = from + 1; i < sim.nfwd; i++) {
        a = &sim.fwd[i - 1];
        b = &sim.fwd[i];

        assert_int_equal((uint16_t) (b->out.seq - a->out.seq), 1);

        dts = (int32_t) (b->out.ts - a->out.ts);
        assert_true(dts >= 0);

        if (b->layer != a->layer || seq_offset(b) != seq_offset(a)) {
            assert_true(b->keyframe_start);
            assert_true(dts >= FRAME_TS);

        } else {
            assert_int_equal(dts, (int32_t) (b->in_ts - a->in_ts));
        }
    }
}


static void
assert_nack(uint16_t out_seq, uint32_t layer, uint16_t in_seq)
{
    uint32_t  l;
    uint16_t  s;

    assert_int_equal(parley_simulcast_nack(&sim.sw, out_seq, &l, &s),
                     PARLEY_OK);
    assert_int_equal(l, layer);
    assert_int_equal(s, in_seq);
}


static uint32_t
rnd(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;

    return (uint32_t) (*state >> 32);
}


static void
test_api_errors(void **state)
{
    uint32_t                    layer;
    uint16_t                    in_seq;
    parley_simulcast_t          sw;
    parley_simulcast_out_t      out;
    parley_simulcast_params_t   prm;
    parley_simulcast_packet_t   pkt;

    (void) state;

    assert_int_equal(parley_simulcast_init(NULL, NULL, 0, 0),
                     PARLEY_ERR_INVAL);

    parley_simulcast_params_default(&prm);
    prm.frame_ts = 0;
    assert_int_equal(parley_simulcast_init(&sw, &prm, 0, 0),
                     PARLEY_ERR_INVAL);

    parley_simulcast_params_default(&prm);
    prm.layer_timeout_ms = 0;
    assert_int_equal(parley_simulcast_init(&sw, &prm, 0, 0),
                     PARLEY_ERR_INVAL);

    assert_int_equal(parley_simulcast_init(&sw, NULL, 0, 0), PARLEY_OK);
    assert_int_equal(parley_simulcast_current(&sw), NONE);
    assert_int_equal(parley_simulcast_set_target(&sw, 3), PARLEY_ERR_INVAL);
    assert_int_equal(parley_simulcast_set_cap(&sw, 3), PARLEY_ERR_INVAL);
    assert_int_equal(parley_simulcast_set_target(&sw, NONE), PARLEY_OK);
    assert_int_equal(parley_simulcast_set_cap(&sw, 0), PARLEY_OK);

    memset(&pkt, 0, sizeof(pkt));
    pkt.layer = 3;
    pkt.size = 100;
    pkt.keyframe_start = 1;
    assert_int_equal(parley_simulcast_packet(&sw, &pkt, &out),
                     PARLEY_SIMULCAST_DROP_INVALID);

    /* nothing forwarded: nothing to map back */
    assert_int_equal(parley_simulcast_nack(&sw, 0, &layer, &in_seq),
                     PARLEY_ERR_NOT_FOUND);
}


static void
test_steady_forwarding(void **state)
{
    uint32_t  i, layer;
    uint16_t  seq0;
    uint32_t  ts0;

    (void) state;

    sim_init(1000, 777777, 40000, 123456);
    sim.pub[1].on = 0;
    sim.pub[2].on = 0;
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);

    /* nothing goes out before a keyframe, and one is asked for */
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     0);
    sim_steps(3);
    assert_int_equal(sim.nfwd, 0);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    assert_int_equal(layer, 0);

    seq0 = sim.pub[0].seq;
    ts0 = sim.pub[0].ts;
    sim_step(1);

    for (i = 0; i < 200; i++) {
        sim_step(i % 50 == 0);
    }

    /* the first packet takes the initial seq and ts, then one offset */
    assert_int_equal(sim.nfwd, 201);
    assert_int_equal(sim.fwd[0].in_seq, seq0);
    assert_int_equal(sim.fwd[0].out.seq, 1000);
    assert_int_equal(sim.fwd[0].out.ts, 777777);
    assert_int_equal(sim.fwd[0].in_ts, ts0);

    for (i = 0; i < sim.nfwd; i++) {
        assert_int_equal((uint16_t) (sim.fwd[i].out.seq - sim.fwd[i].in_seq),
                         (uint16_t) (1000 - seq0));
        assert_int_equal(sim.fwd[i].out.ts - sim.fwd[i].in_ts,
                         777777 - ts0);
    }

    assert_clean(0);
    assert_int_equal(parley_simulcast_current(&sim.sw), 0);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     0);
}


static void
test_up_switch_waits_for_keyframe(void **state)
{
    uint32_t  layer, before;

    (void) state;

    sim_init(1, 1, 100, 100);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);
    sim_step(7);
    sim_steps(10);
    assert_int_equal(parley_simulcast_current(&sim.sw), 0);

    assert_int_equal(parley_simulcast_set_target(&sim.sw, 2), PARLEY_OK);
    assert_int_equal(parley_simulcast_desired(&sim.sw, sim.now), 2);

    /* asked once, not again within 500 ms, again after */
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    assert_int_equal(layer, 2);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw,
                                                       sim.now + 499,
                                                       &layer),
                     0);

    /* the low layer flows on meanwhile; keyframes of mid do not count */
    before = sim.nfwd;
    sim_steps(5);
    sim_step(2);
    sim_steps(5);
    assert_int_equal(sim.nfwd, before + 11);
    assert_int_equal(sim_layer_of_last(), 0);

    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw,
                                                       sim.now + 500,
                                                       &layer),
                     1);
    assert_int_equal(layer, 2);

    sim_step(4);
    assert_int_equal(parley_simulcast_current(&sim.sw), 2);
    sim_steps(10);
    assert_int_equal(sim_layer_of_last(), 2);

    /* the low frame of the switch step, then four high packets a frame */
    assert_int_equal(sim.nfwd, before + 12 + 11 * 4);
    assert_clean(0);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw,
                                                       sim.now + 5000,
                                                       &layer),
                     0);
}


/*
 * Nothing flows yet: a keyframe of a lower layer starts the picture, one
 * above the wish does not (it would cost the subscriber more than it
 * asked for), and the wished layer follows at its own keyframe.
 */
static void
test_start_below_not_above(void **state)
{
    uint32_t  layer;

    (void) state;

    sim_init(1, 1, 100, 100);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 1), PARLEY_OK);
    sim_steps(3);
    sim_step(4);
    assert_int_equal(sim.nfwd, 0);
    assert_int_equal(parley_simulcast_current(&sim.sw), NONE);

    sim_step(1);
    assert_int_equal(parley_simulcast_current(&sim.sw), 0);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    assert_int_equal(layer, 1);
    sim_steps(3);
    sim_step(2);
    sim_steps(3);
    assert_int_equal(parley_simulcast_current(&sim.sw), 1);
    assert_int_equal(sim_layer_of_last(), 1);
    assert_clean(0);
}


/*
 * A request made by other means counts as the switcher's own; one that
 * could not be sent is due again at once.
 */
static void
test_noted_and_forgotten_requests(void **state)
{
    uint32_t  layer;

    (void) state;

    sim_init(1, 1, 100, 100);
    parley_simulcast_note_request(&sim.sw, 2, sim.now);
    sim_steps(2);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     0);

    /* the same layer, after the interval: asked again */
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw,
                                                       sim.now + 500,
                                                       &layer),
                     1);
    assert_int_equal(layer, 2);

    /* not sent after all: due at the next call */
    parley_simulcast_forget_request(&sim.sw);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw,
                                                       sim.now + 501,
                                                       &layer),
                     1);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw,
                                                       sim.now + 502,
                                                       &layer),
                     0);
}


/* before any packet: the layer to ask a keyframe of */
static void
test_wanted(void **state)
{
    (void) state;

    sim_init(1, 1, 100, 100);
    assert_int_equal(parley_simulcast_wanted(&sim.sw), 2);
    assert_int_equal(parley_simulcast_desired(&sim.sw, sim.now), NONE);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);
    assert_int_equal(parley_simulcast_wanted(&sim.sw), 0);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 2), PARLEY_OK);
    assert_int_equal(parley_simulcast_set_cap(&sim.sw, 1), PARLEY_OK);
    assert_int_equal(parley_simulcast_wanted(&sim.sw), 1);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, NONE), PARLEY_OK);
    assert_int_equal(parley_simulcast_wanted(&sim.sw), NONE);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 1), PARLEY_OK);
    assert_int_equal(parley_simulcast_set_cap(&sim.sw, NONE), PARLEY_OK);
    assert_int_equal(parley_simulcast_wanted(&sim.sw), NONE);
}


/* another wish is asked for at once; the same one again is not */
static void
test_new_wish_asked_at_once(void **state)
{
    uint32_t  layer;

    (void) state;

    sim_init(1, 1, 100, 100);
    sim_step(7);
    sim_steps(5);
    assert_int_equal(parley_simulcast_current(&sim.sw), 2);

    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    assert_int_equal(layer, 0);

    /* the same wish repeated: still one request per 500 ms */
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now + 10,
                                                       &layer),
                     0);

    /* another wish: asked at once */
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 1), PARLEY_OK);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now + 20,
                                                       &layer),
                     1);
    assert_int_equal(layer, 1);

    /* back to what flows (nothing to ask), then the same wish again: the
       request for it stands */
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 2), PARLEY_OK);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now + 30,
                                                       &layer),
                     0);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 1), PARLEY_OK);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now + 40,
                                                       &layer),
                     0);
}


static void
test_down_switch_waits_for_keyframe(void **state)
{
    uint32_t  layer, before;

    (void) state;

    sim_init(65000, 0xfffff000, 500, 0);
    sim_step(4);
    sim_steps(10);
    assert_int_equal(parley_simulcast_current(&sim.sw), 2);

    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    assert_int_equal(layer, 0);

    before = sim.nfwd;
    sim_steps(10);
    assert_int_equal(sim.nfwd, before + 10 * 4);
    assert_int_equal(sim_layer_of_last(), 2);

    sim_step(1);
    sim_steps(10);
    assert_int_equal(parley_simulcast_current(&sim.sw), 0);
    assert_int_equal(sim.nfwd, before + 10 * 4 + 11);
    assert_clean(0);
}


static void
test_loss_preserved(void **state)
{
    uint32_t  i, from;
    uint16_t  gap;

    (void) state;

    sim_init(300, 0, 65520, 0);
    sim.pub[1].on = 0;
    sim.pub[2].on = 0;
    sim_step(1);
    sim_steps(5);

    /* three packets of layer 0 are lost before they reach us */
    gap = (uint16_t) (sim.fwd[sim.nfwd - 1].out.seq + 1);
    sim.pub[0].seq += 3;
    sim.pub[0].ts += 3 * FRAME_TS;
    from = sim.nfwd;
    sim_steps(20);

    assert_int_equal((uint16_t) (sim.fwd[from].out.seq
                                 - sim.fwd[from - 1].out.seq),
                     4);
    assert_clean(from);

    /* the missing seqs map back to the packets to look for */
    for (i = 0; i < 3; i++) {
        assert_nack((uint16_t) (gap + i), 0,
                    (uint16_t) (sim.fwd[from].in_seq - 3 + i));
    }
}


static void
test_wraparound(void **state)
{
    uint32_t  i, wrapped_out, wrapped_in, wrapped_ts;

    (void) state;

    /* everything starts a little below its wrap */
    sim_init(65500, 0xffff0000, 65490, 0xfffe0000);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 1), PARLEY_OK);
    sim_step(2);

    for (i = 0; i < 200; i++) {
        /* switch back and forth across the wraps */
        if (i == 30) {
            assert_int_equal(parley_simulcast_set_target(&sim.sw, 2),
                             PARLEY_OK);
        }

        if (i == 60) {
            assert_int_equal(parley_simulcast_set_target(&sim.sw, 0),
                             PARLEY_OK);
        }

        sim_step(i % 10 == 5 ? 7 : 0);
    }

    wrapped_out = 0;
    wrapped_in = 0;
    wrapped_ts = 0;

    for (i = 1; i < sim.nfwd; i++) {
        wrapped_out += sim.fwd[i].out.seq < sim.fwd[i - 1].out.seq;
        wrapped_ts += sim.fwd[i].out.ts < sim.fwd[i - 1].out.ts;
        wrapped_in += sim.fwd[i].layer == sim.fwd[i - 1].layer
                      && sim.fwd[i].in_seq < sim.fwd[i - 1].in_seq;
    }

    assert_int_equal(wrapped_out, 1);
    assert_int_equal(wrapped_ts, 1);
    assert_true(wrapped_in >= 1);
    assert_int_equal(parley_simulcast_current(&sim.sw), 0);
    assert_clean(0);
}


static void
test_nack_after_switch(void **state)
{
    uint32_t  i, first_high, layer;
    uint16_t  in_seq, last;

    (void) state;

    sim_init(65530, 0, 1000, 0);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);
    sim_step(1);
    sim_steps(9);

    assert_int_equal(parley_simulcast_set_target(&sim.sw, 2), PARLEY_OK);
    sim_step(4);
    sim_steps(9);

    for (first_high = 0; sim.fwd[first_high].layer == 0; first_high++) {
        /* void */
    }

    assert_int_equal(first_high, 11);

    for (i = 0; i < sim.nfwd; i++) {
        assert_nack(sim.fwd[i].out.seq, sim.fwd[i].layer, sim.fwd[i].in_seq);
    }

    /* not sent yet, and too old */
    last = sim.fwd[sim.nfwd - 1].out.seq;
    assert_int_equal(parley_simulcast_nack(&sim.sw, (uint16_t) (last + 1),
                                           &layer, &in_seq),
                     PARLEY_ERR_NOT_FOUND);

    sim_steps(300);
    assert_int_equal(parley_simulcast_nack(&sim.sw, sim.fwd[0].out.seq,
                                           &layer, &in_seq),
                     PARLEY_ERR_NOT_FOUND);

    last = sim.fwd[sim.nfwd - 1].out.seq;
    assert_nack((uint16_t) (last - PARLEY_SIMULCAST_HISTORY + 1), 2,
                (uint16_t) (sim.fwd[sim.nfwd - 1].in_seq
                            - PARLEY_SIMULCAST_HISTORY + 1));
    assert_int_equal(parley_simulcast_nack(&sim.sw,
                                           (uint16_t) (last
                                               - PARLEY_SIMULCAST_HISTORY),
                                           &layer, &in_seq),
                     PARLEY_ERR_NOT_FOUND);
}


static void
test_layer_disappears(void **state)
{
    uint32_t  layer, from;

    (void) state;

    sim_init(0, 0, 0, 0);
    sim_step(4);
    sim_steps(10);
    assert_int_equal(parley_simulcast_current(&sim.sw), 2);

    /* the publisher drops its high layer: nothing until the timeout */
    sim.pub[2].on = 0;
    from = sim.nfwd;
    sim_steps(29);
    assert_int_equal(sim.nfwd, from);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     0);

    sim_steps(2);
    assert_int_equal(parley_simulcast_desired(&sim.sw, sim.now), 1);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    assert_int_equal(layer, 1);

    /* a low keyframe comes first: better than a frozen picture */
    sim_step(1);
    assert_int_equal(parley_simulcast_current(&sim.sw), 0);
    sim_steps(3);
    assert_int_equal(sim_layer_of_last(), 0);

    sim_step(2);
    sim_steps(3);
    assert_int_equal(parley_simulcast_current(&sim.sw), 1);
    assert_clean(0);

    /* the ts jump across the outage follows the time that passed */
    assert_true(sim.fwd[from].out.ts - sim.fwd[from - 1].out.ts
                >= 30 * FRAME_MS * PARLEY_SIMULCAST_CLOCK_KHZ);

    /* the high layer returns: the target is back in reach */
    sim.pub[2].on = 1;
    sim_step(0);
    assert_int_equal(parley_simulcast_desired(&sim.sw, sim.now), 2);
    sim_step(4);
    sim_steps(2);
    assert_int_equal(parley_simulcast_current(&sim.sw), 2);
    assert_clean(0);
}


static void
test_target_absent_and_cap(void **state)
{
    uint32_t  layer;

    (void) state;

    sim_init(0, 0, 0, 0);
    sim.pub[2].on = 0;

    /* no high layer published: the nearest lower one */
    sim_step(0);
    assert_int_equal(parley_simulcast_desired(&sim.sw, sim.now), 1);
    sim_step(3);
    assert_int_equal(parley_simulcast_current(&sim.sw), 1);

    /* the cap wins over the target */
    sim.pub[2].on = 1;
    assert_int_equal(parley_simulcast_set_cap(&sim.sw, 0), PARLEY_OK);
    sim_step(0);
    assert_int_equal(parley_simulcast_desired(&sim.sw, sim.now), 0);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    assert_int_equal(layer, 0);
    sim_step(4);
    assert_int_equal(parley_simulcast_current(&sim.sw), 1);
    sim_step(1);
    assert_int_equal(parley_simulcast_current(&sim.sw), 0);

    /* a thumbnail whose low layer is gone gets the next one up */
    assert_int_equal(parley_simulcast_set_cap(&sim.sw, 2), PARLEY_OK);
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);
    sim.pub[0].on = 0;
    sim_steps(31);
    assert_int_equal(parley_simulcast_desired(&sim.sw, sim.now), 1);
    sim_step(2);
    assert_int_equal(parley_simulcast_current(&sim.sw), 1);
    assert_clean(0);
}


static void
test_reorder_and_duplicates(void **state)
{
    uint16_t  s, o;
    uint32_t  ts, from;

    (void) state;

    sim_init(20000, 0, 65534, 0);
    sim.pub[1].on = 0;
    sim.pub[2].on = 0;
    sim_step(1);
    sim_steps(3);

    s = sim.pub[0].seq;
    ts = sim.pub[0].ts;
    o = (uint16_t) (sim.fwd[sim.nfwd - 1].out.seq + 1);
    from = sim.nfwd;

    /* s, s+2, s+1, then copies of each */
    assert_int_equal(sim_send(0, s, ts, 1, 0, 900), PARLEY_SIMULCAST_FORWARD);
    assert_int_equal(sim_send(0, (uint16_t) (s + 2), ts + 2 * FRAME_TS, 1, 0,
                              900),
                     PARLEY_SIMULCAST_FORWARD);
    assert_int_equal(sim_send(0, (uint16_t) (s + 1), ts + FRAME_TS, 1, 0,
                              900),
                     PARLEY_SIMULCAST_FORWARD);
    assert_int_equal(sim_send(0, (uint16_t) (s + 1), ts + FRAME_TS, 1, 0,
                              900),
                     PARLEY_SIMULCAST_DROP_DUPLICATE);
    assert_int_equal(sim_send(0, (uint16_t) (s + 2), ts + 2 * FRAME_TS, 1, 0,
                              900),
                     PARLEY_SIMULCAST_DROP_DUPLICATE);
    assert_int_equal(sim_send(0, s, ts, 1, 0, 900),
                     PARLEY_SIMULCAST_DROP_DUPLICATE);

    assert_int_equal(sim.fwd[from].out.seq, o);
    assert_int_equal(sim.fwd[from + 1].out.seq, (uint16_t) (o + 2));
    assert_int_equal(sim.fwd[from + 2].out.seq, (uint16_t) (o + 1));
    assert_int_equal(sim.fwd[from + 2].out.ts - sim.fwd[from].out.ts,
                     FRAME_TS);

    /* far too old to tell from a duplicate */
    assert_int_equal(sim_send(0, (uint16_t) (s - 2000), ts, 1, 0, 900),
                     PARLEY_SIMULCAST_DROP_STALE);

    sim.pub[0].seq = (uint16_t) (s + 3);
    sim.pub[0].ts = ts + 3 * FRAME_TS;

    /* after a switch: late packets of the old layer, and of the new one
     * from before its keyframe, stay out of the stream */
    sim.pub[2].on = 1;
    sim_step(4);
    assert_int_equal(parley_simulcast_current(&sim.sw), 2);
    assert_int_equal(sim_send(0, (uint16_t) (s + 3), ts, 1, 0, 900),
                     PARLEY_SIMULCAST_DROP_LAYER);
    assert_int_equal(sim_send(2, (uint16_t) (sim.pub[2].seq - 5), 0, 1, 0,
                              900),
                     PARLEY_SIMULCAST_DROP_STALE);

    /* a late packet of the new layer, after its keyframe, takes its place */
    sim.pub[2].seq = (uint16_t) (sim.pub[2].seq + 1);
    sim_step(0);
    assert_int_equal(sim_send(2, (uint16_t) (sim.pub[2].seq - 5),
                              sim.pub[2].ts - FRAME_TS, 0, 0, 900),
                     PARLEY_SIMULCAST_FORWARD);
    assert_nack(sim.fwd[sim.nfwd - 1].out.seq, 2,
                (uint16_t) (sim.pub[2].seq - 5));
}


/*
 * A seq lost upstream and recovered late, long after its slot in the
 * duplicate history was last used: the old mark must not read as a copy.
 */
static void
test_late_packet_after_history_wrap(void **state)
{
    uint16_t  lost;
    uint32_t  ts;

    (void) state;

    sim_init(0, 0, 0, 0);
    sim.pub[1].on = 0;
    sim.pub[2].on = 0;
    sim_step(1);
    sim_steps(PARLEY_SIMULCAST_HISTORY + 10);

    lost = sim.pub[0].seq++;
    ts = sim.pub[0].ts;
    sim.pub[0].ts += FRAME_TS;
    sim_steps(3);

    assert_int_equal(sim_send(0, lost, ts, 1, 0, 900),
                     PARLEY_SIMULCAST_FORWARD);
    assert_int_equal(sim_send(0, lost, ts, 1, 0, 900),
                     PARLEY_SIMULCAST_DROP_DUPLICATE);
    assert_int_equal((uint16_t) (sim.fwd[sim.nfwd - 1].out.seq
                                 - sim.fwd[sim.nfwd - 2].out.seq),
                     (uint16_t) -3);
}


/*
 * The timestamp jump across a switch is at least the frame step the
 * stream showed (here a 15 fps low layer), not the configured guess.
 */
static void
test_frame_step_learned(void **state)
{
    uint32_t  i;

    (void) state;

    sim_init(0, 0, 0, 0);
    sim.pub[0].ts_step = 2 * FRAME_TS;
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 0), PARLEY_OK);
    sim_step(1);
    sim_steps(5);

    assert_int_equal(parley_simulcast_set_target(&sim.sw, 2), PARLEY_OK);
    sim_step(4);

    for (i = 1; sim.fwd[i].layer == 0; i++) {
        /* void */
    }

    assert_int_equal(sim.fwd[i].out.ts - sim.fwd[i - 1].out.ts,
                     2 * FRAME_TS);
}


static void
test_pause_finishes_frame(void **state)
{
    uint16_t  s;
    uint32_t  ts, from, layer;

    (void) state;

    sim_init(7, 7, 7, 7);
    sim.pub[0].on = 0;
    sim.pub[1].on = 0;
    sim_step(4);
    sim_steps(3);

    /* half a frame out, then the window is hidden */
    s = sim.pub[2].seq;
    ts = sim.pub[2].ts;
    assert_int_equal(sim_send(2, s, ts, 0, 0, 900), PARLEY_SIMULCAST_FORWARD);
    assert_int_equal(sim_send(2, (uint16_t) (s + 1), ts, 0, 0, 900),
                     PARLEY_SIMULCAST_FORWARD);

    assert_int_equal(parley_simulcast_set_target(&sim.sw, NONE), PARLEY_OK);
    assert_int_equal(sim_send(2, (uint16_t) (s + 2), ts, 0, 0, 900),
                     PARLEY_SIMULCAST_FORWARD);
    assert_int_equal(sim_send(2, (uint16_t) (s + 3), ts, 1, 0, 900),
                     PARLEY_SIMULCAST_FORWARD);
    assert_int_equal(parley_simulcast_current(&sim.sw), NONE);

    sim.pub[2].seq = (uint16_t) (s + 4);
    sim.pub[2].ts = ts + FRAME_TS;
    from = sim.nfwd;
    sim_step(4);
    sim_steps(20);
    assert_int_equal(sim.nfwd, from);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     0);

    /* shown again: from a keyframe, seq right after the last */
    assert_int_equal(parley_simulcast_set_target(&sim.sw, 2), PARLEY_OK);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    sim_steps(2);
    assert_int_equal(sim.nfwd, from);
    sim_step(4);
    assert_int_equal(sim.nfwd, from + 4);
    assert_clean(0);
}


static void
test_padding(void **state)
{
    uint32_t  layer, i;

    (void) state;

    sim_init(0, 0, 0, 0);
    sim.pub[0].on = 0;
    sim.pub[1].on = 0;
    sim_step(4);

    /* probing padding on the current layer keeps its place in the seqs */
    assert_int_equal(sim_send(2, sim.pub[2].seq++, sim.pub[2].ts - FRAME_TS,
                              0, 0, 0),
                     PARLEY_SIMULCAST_FORWARD);
    sim_steps(2);
    assert_clean(0);

    /* a layer with padding only is not there: the switch goes to mid */
    sim.pub[1].on = 1;
    for (i = 0; i < 40; i++) {
        sim_send(2, sim.pub[2].seq++, sim.pub[2].ts, 0, 0, 0);
        sim_step(0);
        sim.pub[2].on = 0;
    }

    assert_int_equal(parley_simulcast_desired(&sim.sw, sim.now), 1);
    assert_int_equal(parley_simulcast_keyframe_request(&sim.sw, sim.now,
                                                       &layer),
                     1);
    assert_int_equal(layer, 1);
}


static void
test_map_ts(void **state)
{
    uint32_t  ts;

    (void) state;

    sim_init(0, 5000, 0, 100);
    assert_int_equal(parley_simulcast_map_ts(&sim.sw, 0, 100, &ts),
                     PARLEY_ERR_NOT_FOUND);

    sim_step(4);
    assert_int_equal(parley_simulcast_map_ts(&sim.sw, 2,
                                             sim.fwd[0].in_ts + 90000, &ts),
                     PARLEY_OK);
    assert_int_equal(ts, 5000 + 90000);
    assert_int_equal(parley_simulcast_map_ts(&sim.sw, 1, 100, &ts),
                     PARLEY_ERR_NOT_FOUND);
}


/*
 * Random targets, caps, layers coming and going, keyframes at random and
 * in answer to requests (on the next frame): the outgoing stream stays
 * clean and every packet sent maps back through the NACK lookup.
 */
static void
test_random_switching(void **state)
{
    uint32_t  i, l, keys, layer, pending, switches, checked;
    uint64_t  rs;

    (void) state;

    rs = 0x243f6a8885a308d3ULL;
    sim_init(65000, 0xfff00000, 64000, 0xffe00000);
    pending = 0;
    switches = 0;
    checked = 0;

    for (i = 0; i < 12000; i++) {
        if (rnd(&rs) % 30 == 0) {
            l = rnd(&rs) % 4;
            parley_simulcast_set_target(&sim.sw, l == 3 ? NONE : l);
        }

        if (rnd(&rs) % 150 == 0) {
            parley_simulcast_set_cap(&sim.sw, rnd(&rs) % 3);
        }

        if (rnd(&rs) % 200 == 0) {
            l = rnd(&rs) % 3;
            sim.pub[l].on = !sim.pub[l].on;
        }

        keys = pending;
        pending = 0;

        if (parley_simulcast_keyframe_request(&sim.sw, sim.now, &layer)) {
            pending = 1u << layer;
        }

        for (l = 0; l < PARLEY_SIMULCAST_LAYERS; l++) {
            keys |= (rnd(&rs) % 90 == 0) << l;
        }

        sim_step(keys);

        for ( /* void */ ; checked < sim.nfwd; checked++) {
            assert_nack(sim.fwd[checked].out.seq, sim.fwd[checked].layer,
                        sim.fwd[checked].in_seq);
            switches += checked > 0
                        && (sim.fwd[checked].layer
                               != sim.fwd[checked - 1].layer
                            || seq_offset(&sim.fwd[checked])
                               != seq_offset(&sim.fwd[checked - 1]));
        }
    }

    assert_clean(0);
    assert_true(switches >= 60);
    assert_true(sim.nfwd >= 5000);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_steady_forwarding),
        cmocka_unit_test(test_up_switch_waits_for_keyframe),
        cmocka_unit_test(test_down_switch_waits_for_keyframe),
        cmocka_unit_test(test_start_below_not_above),
        cmocka_unit_test(test_noted_and_forgotten_requests),
        cmocka_unit_test(test_new_wish_asked_at_once),
        cmocka_unit_test(test_wanted),
        cmocka_unit_test(test_loss_preserved),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_nack_after_switch),
        cmocka_unit_test(test_layer_disappears),
        cmocka_unit_test(test_target_absent_and_cap),
        cmocka_unit_test(test_reorder_and_duplicates),
        cmocka_unit_test(test_late_packet_after_history_wrap),
        cmocka_unit_test(test_frame_step_learned),
        cmocka_unit_test(test_pause_finishes_frame),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_map_ts),
        cmocka_unit_test(test_random_switching),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
