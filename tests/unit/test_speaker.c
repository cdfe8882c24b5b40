/*
 * Unit tests for the dominant speaker detector (relay/parley_speaker.c).
 *
 * A small simulator plays scripted talk segments: every present
 * participant sends one packet every 20 ms (silence when not talking, as a
 * sender without DTX does) and the detector ticks every 100 ms.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "parley_speaker.h"


#define T0          1000000        /* ms; any start will do */
#define PTIME       20             /* ms between packets of one sender */
#define TICK        100            /* ms between ticks */
#define SILENT      127            /* RFC 6464: -127 dBov */
#define MAX_PARTS   1000
#define MAX_SEGS    64
#define MAX_EVENTS  4096


typedef struct {
    uint32_t  p;
    uint64_t  from;                /* ms after T0, inclusive */
    uint64_t  to;                  /* ms after T0, exclusive */
    uint32_t  level;
    unsigned  vad;
} segment_t;


typedef struct {
    parley_speaker_t        *det;
    uint32_t                 parts;
    uint8_t                  present[MAX_PARTS];
    segment_t                seg[MAX_SEGS];
    uint32_t                 nsegs;
    parley_speaker_event_t   ev[MAX_EVENTS];
    uint32_t                 nev;
    uint64_t                 now;  /* ms after T0 */
} sim_t;


static uint64_t  region[131072 / 8];
static sim_t     sim;


static void
sim_init(uint32_t parts, const parley_speaker_params_t *params)
{
    uint32_t  p;

    memset(&sim, 0, sizeof(sim_t));
    sim.parts = parts;

    assert_true(parley_speaker_size(parts) <= sizeof(region));
    assert_int_equal(parley_speaker_init(region, sizeof(region), parts,
                                         params, &sim.det),
                     PARLEY_OK);

    for (p = 0; p < parts; p++) {
        assert_int_equal(parley_speaker_add(sim.det, p, T0), PARLEY_OK);
        sim.present[p] = 1;
    }
}


static void
talk(uint32_t p, uint64_t from, uint64_t to, uint32_t level)
{
    segment_t  *s;

    assert_true(sim.nsegs < MAX_SEGS);

    s = &sim.seg[sim.nsegs++];
    s->p = p;
    s->from = from;
    s->to = to;
    s->level = level;
    s->vad = 1;
}


static void
sim_packet(uint32_t p)
{
    uint32_t    i, level;
    unsigned    vad;
    segment_t  *s;

    level = SILENT;
    vad = 0;

    for (i = 0; i < sim.nsegs; i++) {
        s = &sim.seg[i];

        if (s->p == p && sim.now >= s->from && sim.now < s->to) {
            level = s->level;
            vad = s->vad;
        }
    }

    assert_int_equal(parley_speaker_packet(sim.det, p, T0 + sim.now, level,
                                           vad),
                     PARLEY_OK);
}


static void
sim_tick(void)
{
    parley_speaker_event_t  ev;

    if (parley_speaker_tick(sim.det, T0 + sim.now, &ev)) {
        assert_true(sim.nev < MAX_EVENTS);
        ev.time_ms -= T0;
        sim.ev[sim.nev++] = ev;
    }
}


/* plays the script up to "until" ms after T0 */
static void
sim_run(uint64_t until)
{
    uint32_t  p;

    for ( /* void */ ; sim.now < until; sim.now += PTIME) {

        for (p = 0; p < sim.parts; p++) {
            if (sim.present[p]) {
                sim_packet(p);
            }
        }

        if (sim.now % TICK == 0) {
            sim_tick();
        }
    }
}


static void
sim_remove(uint32_t p)
{
    assert_int_equal(parley_speaker_remove(sim.det, p), PARLEY_OK);
    sim.present[p] = 0;
}


static void
assert_event(uint32_t i, uint32_t speaker, uint32_t previous,
    parley_speaker_reason_t reason)
{
    assert_true(i < sim.nev);
    assert_int_equal(sim.ev[i].speaker, speaker);
    assert_int_equal(sim.ev[i].previous, previous);
    assert_int_equal(sim.ev[i].reason, reason);
}


/* deterministic xorshift, so the "random" runs are the same every time */
static uint32_t
rnd(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;

    return (uint32_t) (*state >> 32);
}


static uint32_t
rnd_range(uint64_t *state, uint32_t lo, uint32_t hi)
{
    return lo + rnd(state) % (hi - lo + 1);
}


static void
test_api_errors(void **state)
{
    uint64_t                 small[64];
    parley_speaker_t        *det;
    parley_speaker_params_t  prm;

    (void) state;

    assert_int_equal(parley_speaker_size(0), 0);
    assert_int_equal(parley_speaker_size(PARLEY_SPEAKER_MAX_CAPACITY + 1), 0);
    assert_true(parley_speaker_size(PARLEY_SPEAKER_MAX_CAPACITY) > 0);

    assert_int_equal(parley_speaker_init(NULL, sizeof(region), 4, NULL, &det),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_speaker_init((uint8_t *) region + 4,
                                         sizeof(region) - 4, 4, NULL, &det),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_speaker_init(small, sizeof(small), 1000, NULL,
                                         &det),
                     PARLEY_ERR_NOSPACE);

    parley_speaker_params_default(&prm);
    prm.medium_ms = 1600;          /* the ring keeps 15 closed buckets */
    assert_int_equal(parley_speaker_init(region, sizeof(region), 4, &prm,
                                         &det),
                     PARLEY_ERR_INVAL);

    parley_speaker_params_default(&prm);
    prm.short_ms = 600;
    prm.medium_ms = 500;
    assert_int_equal(parley_speaker_init(region, sizeof(region), 4, &prm,
                                         &det),
                     PARLEY_ERR_INVAL);

    parley_speaker_params_default(&prm);
    prm.active_db = 0;             /* everybody would be talking */
    assert_int_equal(parley_speaker_init(region, sizeof(region), 4, &prm,
                                         &det),
                     PARLEY_ERR_INVAL);

    assert_int_equal(parley_speaker_init(region, sizeof(region), 4, NULL,
                                         &det),
                     PARLEY_OK);
    assert_int_equal(parley_speaker_current(det), PARLEY_NONE);

    assert_int_equal(parley_speaker_add(det, 4, T0), PARLEY_ERR_INVAL);
    assert_int_equal(parley_speaker_packet(det, 1, T0, 30, 1),
                     PARLEY_ERR_NOT_FOUND);
    assert_int_equal(parley_speaker_remove(det, 1), PARLEY_ERR_NOT_FOUND);
    assert_int_equal(parley_speaker_remove(det, 9), PARLEY_ERR_NOT_FOUND);

    assert_int_equal(parley_speaker_add(det, 1, T0), PARLEY_OK);
    assert_int_equal(parley_speaker_add(det, 1, T0), PARLEY_OK);
    assert_int_equal(parley_speaker_packet(det, 1, T0, 128, 1),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_speaker_packet(det, 7, T0, 30, 1),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_speaker_packet(det, 1, T0, 30, 1), PARLEY_OK);
    assert_int_equal(parley_speaker_remove(det, 1), PARLEY_OK);
    assert_int_equal(parley_speaker_remove(det, 1), PARLEY_ERR_NOT_FOUND);
}


static void
test_single_talker(void **state)
{
    (void) state;

    sim_init(3, NULL);
    talk(1, 1000, 5000, 30);
    sim_run(10000);

    /* one election, held for hold_ms after the first active tick */
    assert_int_equal(sim.nev, 1);
    assert_event(0, 1, PARLEY_NONE, PARLEY_SPEAKER_ELECTED);
    assert_true(sim.ev[0].time_ms >= 1000 + 500);
    assert_true(sim.ev[0].time_ms <= 1000 + 500 + 200);

    /* kept through the silence that follows */
    assert_int_equal(parley_speaker_current(sim.det), 1);
}


static void
test_cough_does_not_win(void **state)
{
    (void) state;

    sim_init(2, NULL);
    /* the short window trails these past hold_ms: they must not count */
    talk(0, 1000, 1450, 20);
    talk(1, 3000, 3400, 20);
    sim_run(6000);

    assert_int_equal(sim.nev, 0);
    assert_int_equal(parley_speaker_current(sim.det), PARLEY_NONE);
}


/*
 * A holds the floor and B answers in A's pauses and over A's voice, never
 * for 500 ms; then B takes a real turn, and A answers B the same way.
 */
static void
test_interjections_do_not_flip(void **state)
{
    (void) state;

    sim_init(3, NULL);

    talk(0, 1000, 4000, 30);
    talk(1, 4050, 4450, 30);       /* in A's pause */
    talk(0, 4500, 7500, 30);
    talk(1, 6000, 6400, 20);       /* over A, 10 dB louder */
    talk(0, 7900, 10000, 30);
    talk(1, 7550, 7950, 30);       /* in A's pause */

    talk(1, 10000, 16000, 30);     /* B's turn */
    talk(0, 12000, 12400, 30);
    talk(1, 16400, 19000, 30);
    talk(0, 16000, 16450, 25);     /* in B's pause */

    sim_run(20000);

    assert_int_equal(sim.nev, 2);
    assert_event(0, 0, PARLEY_NONE, PARLEY_SPEAKER_ELECTED);
    assert_event(1, 1, 0, PARLEY_SPEAKER_ELECTED);
    assert_true(sim.ev[1].time_ms >= 10000 + 500);
    assert_true(sim.ev[1].time_ms <= 10000 + 2500);
}


static void
test_sustained_takeover(void **state)
{
    (void) state;

    sim_init(3, NULL);
    talk(0, 1000, 5000, 30);
    talk(1, 5000, 10000, 30);
    sim_run(12000);

    assert_int_equal(sim.nev, 2);
    assert_event(1, 1, 0, PARLEY_SPEAKER_ELECTED);
    assert_true(sim.ev[1].time_ms >= 5000 + 500);
    assert_true(sim.ev[1].time_ms <= 5000 + 2500);
}


static void
test_crosstalk(void **state)
{
    uint32_t  i;
    uint64_t  t;

    (void) state;

    sim_init(3, NULL);

    /* A and B at the same level, each with a few dB of jitter */
    talk(0, 1000, 2000, 30);
    for (t = 2000, i = 0; t < 12000; t += 500, i++) {
        talk(0, t, t + 500, 30 + (i % 3));
        talk(1, t, t + 500, 32 - (i % 4));
    }

    sim_run(12000);

    assert_int_equal(sim.nev, 1);
    assert_event(0, 0, PARLEY_NONE, PARLEY_SPEAKER_ELECTED);

    /* a challenger 20 dB louder than A, sustained, gets through */
    talk(0, 12000, 20000, 30);
    talk(2, 13000, 20000, 10);
    sim_run(20000);

    assert_int_equal(sim.nev, 2);
    assert_event(1, 2, 0, PARLEY_SPEAKER_ELECTED);
    assert_true(sim.ev[1].time_ms >= 13000 + 500);
    assert_true(sim.ev[1].time_ms <= 13000 + 2000);
}


static void
test_noise_never_wins(void **state)
{
    uint32_t   p, i;
    uint64_t   t, rs;
    segment_t *s;

    (void) state;

    rs = 0x5eed5eed5eedULL;
    sim_init(5, NULL);

    /* room tone below the threshold, voiced or not, and a loud keyboard
     * that the sender does not flag as voice */
    for (i = 0; i < MAX_SEGS - 8; i++) {
        p = i % 4;
        t = (uint64_t) (i / 4) * 2000;

        talk(p, t, t + 2000, rnd_range(&rs, 60, 126));
        s = &sim.seg[sim.nsegs - 1];
        s->vad = rnd(&rs) & 1;

        if (p == 3) {
            s->level = rnd_range(&rs, 10, 30);
            s->vad = 0;
        }
    }

    sim_run(28000);

    assert_int_equal(sim.nev, 0);
    assert_int_equal(parley_speaker_current(sim.det), PARLEY_NONE);

    /* a real talker among them wins, and nobody else ever does */
    talk(4, 28000, 40000, 45);
    sim_run(40000);

    assert_int_equal(sim.nev, 1);
    assert_event(0, 4, PARLEY_NONE, PARLEY_SPEAKER_ELECTED);
}


static void
test_pause_keeps_floor(void **state)
{
    (void) state;

    sim_init(3, NULL);

    /* pauses of 1.5 s and 1.9 s, and a quiet challenger during them */
    talk(0, 1000, 3000, 30);
    talk(0, 4500, 6000, 30);
    talk(0, 7900, 9000, 30);
    talk(2, 3000, 4500, 55);
    talk(2, 6000, 7900, 55);

    sim_run(9000);

    assert_int_equal(sim.nev, 1);
    assert_event(0, 0, PARLEY_NONE, PARLEY_SPEAKER_ELECTED);
}


/*
 * The quiet talker (5 dB above the threshold) cannot beat the 6 dB margin;
 * once the speaker has been silent for silence_ms it needs no margin.
 */
static void
test_silent_speaker_loses(void **state)
{
    (void) state;

    sim_init(2, NULL);
    talk(0, 1000, 3000, 20);
    talk(1, 3000, 9000, 55);
    sim_run(9000);

    assert_int_equal(sim.nev, 2);
    assert_event(1, 1, 0, PARLEY_SPEAKER_ELECTED);
    assert_true(sim.ev[1].time_ms >= 3000 + 2000);
    assert_true(sim.ev[1].time_ms <= 3000 + 2000 + 800);
}


static void
test_remove_speaker(void **state)
{
    (void) state;

    sim_init(4, NULL);

    /* B talks over A without the margin, C is silent */
    talk(0, 1000, 8000, 30);
    talk(1, 3000, 8000, 32);
    sim_run(5000);

    assert_int_equal(sim.nev, 1);
    assert_event(0, 0, PARLEY_NONE, PARLEY_SPEAKER_ELECTED);

    /* removing a listener changes nothing */
    sim_remove(3);
    sim_run(5500);
    assert_int_equal(sim.nev, 1);

    /* removing the speaker names the most active one at once */
    sim_remove(0);
    assert_int_equal(parley_speaker_current(sim.det), PARLEY_NONE);
    sim_run(5600);

    assert_int_equal(sim.nev, 2);
    assert_event(1, 1, 0, PARLEY_SPEAKER_LEFT);
    assert_int_equal(sim.ev[1].time_ms, 5500);

    /* with nobody active left, nobody */
    sim_run(9000);
    sim_remove(1);
    sim_run(9200);

    assert_int_equal(sim.nev, 3);
    assert_event(2, PARLEY_NONE, 1, PARLEY_SPEAKER_LEFT);
    assert_int_equal(parley_speaker_current(sim.det), PARLEY_NONE);

    /* the one left can still win the floor */
    talk(2, 9200, 11000, 30);
    sim_run(11000);

    assert_int_equal(sim.nev, 4);
    assert_event(3, 2, PARLEY_NONE, PARLEY_SPEAKER_ELECTED);
}


static void
test_long_gap_between_packets(void **state)
{
    parley_speaker_t        *det;
    parley_speaker_event_t   ev;
    uint64_t                 t, start;

    (void) state;

    assert_int_equal(parley_speaker_init(region, sizeof(region), 2, NULL,
                                         &det),
                     PARLEY_OK);
    assert_int_equal(parley_speaker_add(det, 0, T0), PARLEY_OK);
    assert_int_equal(parley_speaker_packet(det, 0, T0, 10, 1), PARLEY_OK);

    /* an hour without packets or ticks: the old bucket must not count */
    start = T0 + 3600 * 1000;
    assert_int_equal(parley_speaker_tick(det, start, &ev), 0);

    for (t = start; t < start + 1000; t += PTIME) {
        assert_int_equal(parley_speaker_packet(det, 0, t, 30, 1), PARLEY_OK);

        if (t % TICK == 0 && parley_speaker_tick(det, t, &ev)) {
            break;
        }
    }

    assert_int_equal(parley_speaker_current(det), 0);
    assert_true(ev.time_ms >= start + 500);
}


static void
test_large_room(void **state)
{
    (void) state;

    sim_init(MAX_PARTS, NULL);
    talk(MAX_PARTS - 1, 0, 2000, 30);
    sim_run(2000);

    assert_int_equal(sim.nev, 1);
    assert_event(0, MAX_PARTS - 1, PARLEY_NONE, PARLEY_SPEAKER_ELECTED);
}


/*
 * A random script: each participant alternates silence and talk of random
 * lengths and levels; now and then the speaker or someone else leaves and
 * comes back. Checks, at every event, that elected changes are at least
 * min_interval_ms after the previous change, that a "left" change follows
 * the speaker's removal, and that the speaker is always present.
 */
static void
run_property(const parley_speaker_params_t *prm, uint64_t seed,
    uint32_t min_changes, uint32_t min_at_limit)
{
    uint32_t                 p, i, seen, at_limit, ev_checked, gone;
    uint64_t                 rs, next_leave, last_change;
    uint64_t                 seg_end[8];
    parley_speaker_event_t  *ev;

    rs = seed;
    sim_init(8, prm);
    memset(seg_end, 0, sizeof(seg_end));

    next_leave = 20000;
    last_change = 0;
    ev_checked = 0;
    gone = PARLEY_NONE;
    seen = 0;
    at_limit = 0;

    while (sim.now < 600000) {

        /* keep a rolling script: drop segments that ended */
        for (i = 0; i < sim.nsegs; /* void */ ) {
            if (sim.seg[i].to <= sim.now) {
                sim.seg[i] = sim.seg[--sim.nsegs];
            } else {
                i++;
            }
        }

        for (p = 0; p < sim.parts; p++) {
            if (seg_end[p] <= sim.now) {
                seg_end[p] = sim.now + rnd_range(&rs, 100, 4000);
                talk(p, seg_end[p], seg_end[p] + rnd_range(&rs, 100, 5000),
                     rnd_range(&rs, 15, 58));
                seg_end[p] = sim.seg[sim.nsegs - 1].to;
            }
        }

        if (sim.now >= next_leave) {
            p = (rnd(&rs) & 1) ? parley_speaker_current(sim.det)
                               : rnd_range(&rs, 0, sim.parts - 1);

            if (p != PARLEY_NONE && sim.present[p]) {
                gone = (p == parley_speaker_current(sim.det)) ? p : gone;
                sim_remove(p);
            }

            next_leave = sim.now + rnd_range(&rs, 5000, 30000);
        }

        for (p = 0; p < sim.parts; p++) {
            if (!sim.present[p] && rnd(&rs) % 200 == 0) {
                assert_int_equal(parley_speaker_add(sim.det, p, T0 + sim.now),
                                 PARLEY_OK);
                sim.present[p] = 1;
            }
        }

        sim_run(sim.now + TICK);

        for ( /* void */ ; ev_checked < sim.nev; ev_checked++) {
            ev = &sim.ev[ev_checked];

            assert_true(ev->speaker != ev->previous);
            assert_true(ev->speaker == PARLEY_NONE
                        || sim.present[ev->speaker]);

            if (ev->reason == PARLEY_SPEAKER_LEFT) {
                assert_int_equal(ev->previous, gone);
                gone = PARLEY_NONE;

            } else {
                assert_int_equal(ev->reason, PARLEY_SPEAKER_ELECTED);
                assert_true(ev->speaker != PARLEY_NONE);
                assert_true(ev_checked == 0
                            || ev->time_ms - last_change
                               >= prm->min_interval_ms);
                seen++;

                if (ev_checked > 0
                    && ev->time_ms - last_change < prm->min_interval_ms + TICK)
                {
                    at_limit++;
                }
            }

            last_change = ev->time_ms;
        }
    }

    /*
     * The property was exercised, not vacuously true: enough changes, and
     * (where asked) changes that the interval held back to its very end.
     */
    assert_true(seen >= min_changes);
    assert_true(at_limit >= min_at_limit);
}


static void
test_min_interval_property(void **state)
{
    parley_speaker_params_t  prm;

    (void) state;

    parley_speaker_params_default(&prm);
    run_property(&prm, 0x9e3779b97f4a7c15ULL, 50, 0);

    /*
     * No hold and no margin: every tick would change the speaker, only the
     * minimum interval holds it back.
     */
    prm.hold_ms = 0;
    prm.margin_db = 0;
    prm.min_interval_ms = 1000;
    run_property(&prm, 0x0123456789abcdefULL, 200, 50);

    prm.min_interval_ms = 3000;
    run_property(&prm, 0xfeedfacecafebeefULL, 100, 50);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_single_talker),
        cmocka_unit_test(test_cough_does_not_win),
        cmocka_unit_test(test_interjections_do_not_flip),
        cmocka_unit_test(test_sustained_takeover),
        cmocka_unit_test(test_crosstalk),
        cmocka_unit_test(test_noise_never_wins),
        cmocka_unit_test(test_pause_keeps_floor),
        cmocka_unit_test(test_silent_speaker_loses),
        cmocka_unit_test(test_remove_speaker),
        cmocka_unit_test(test_long_gap_between_packets),
        cmocka_unit_test(test_large_room),
        cmocka_unit_test(test_min_interval_property),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
