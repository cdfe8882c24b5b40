/*
 * Unit tests for NACK answers from a track's ring
 * (relay/parley_retransmit.c): the meta layout, the lookup with and
 * without the reader's index under loss, reordering, wrap-around,
 * interleaved simulcast layers and overwriting, the RTX wrap, and the
 * per-leg limiter.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parley_retransmit.h"


#define SLOTS      64
#define SLOT_SIZE  256
#define MS         1000ULL
#define SEC        1000000ULL


typedef struct {
    void                       *mem;
    parley_ring_t              *ring;
    parley_retransmit_seq_t     wseq;
    parley_retransmit_index_t   idx;
    parley_ring_reader_t        rd;
} track_t;


static track_t *
track_new(void)
{
    size_t    size;
    track_t  *t;

    t = calloc(1, sizeof(*t));
    assert_non_null(t);

    size = parley_ring_size(SLOTS, SLOT_SIZE);
    assert_true(size > 0);
    t->mem = aligned_alloc(PARLEY_RING_ALIGN, size);
    assert_non_null(t->mem);
    assert_int_equal(parley_ring_init(t->mem, size, SLOTS, SLOT_SIZE),
                     PARLEY_OK);
    assert_int_equal(parley_ring_attach(t->mem, size, &t->ring), PARLEY_OK);

    parley_retransmit_seq_init(&t->wseq);
    parley_retransmit_index_init(&t->idx);
    parley_ring_reader_init(t->ring, &t->rd);

    return t;
}


static void
track_free(track_t *t)
{
    free(t->mem);
    free(t);
}


/* the writer: an RTP packet whose payload names its layer and seq */
static void
publish(track_t *t, uint32_t layer, uint16_t seq)
{
    uint8_t   pkt[16];
    uint64_t  ext;

    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x80;
    pkt[1] = 96;
    pkt[2] = (uint8_t) (seq >> 8);
    pkt[3] = (uint8_t) seq;
    pkt[11] = (uint8_t) (0x10 + layer);           /* SSRC per layer */
    pkt[12] = (uint8_t) layer;
    pkt[13] = (uint8_t) (seq >> 8);
    pkt[14] = (uint8_t) seq;

    ext = parley_retransmit_extend(&t->wseq, layer, seq);
    assert_true(ext != UINT64_MAX);
    assert_int_equal(parley_ring_publish(t->ring, pkt, sizeof(pkt),
                                         parley_retransmit_meta(ext, layer,
                                                                0)),
                     PARLEY_OK);
}


/* the reader: reads what is new and notes it in the index */
static void
read_all(track_t *t)
{
    uint8_t      buf[SLOT_SIZE];
    uint32_t     len;
    uint64_t     meta, seq;
    parley_rc_t  rc;

    for ( ;; ) {
        seq = t->rd.next;
        rc = parley_ring_read(t->ring, &t->rd, buf, sizeof(buf), &len, &meta);

        if (rc == PARLEY_ERR_EMPTY) {
            return;
        }

        if (rc == PARLEY_OK) {
            parley_retransmit_index_note(&t->idx, seq, meta);
        }
    }
}


static void
assert_found(track_t *t, uint32_t layer, uint16_t seq)
{
    uint8_t   buf[SLOT_SIZE];
    uint32_t  len;
    uint64_t  r;

    assert_int_equal(parley_retransmit_find(t->ring, &t->idx, layer, seq,
                                            buf, sizeof(buf), &len, &r),
                     PARLEY_OK);
    assert_int_equal(len, 16);
    assert_int_equal(buf[12], layer);
    assert_int_equal((buf[13] << 8) | buf[14], seq);
    assert_int_equal((buf[2] << 8) | buf[3], seq);
    assert_true(r < parley_ring_head(t->ring));
}


static void
assert_not_found(track_t *t, uint32_t layer, uint16_t seq)
{
    uint8_t   buf[SLOT_SIZE];
    uint32_t  len;

    assert_int_equal(parley_retransmit_find(t->ring, &t->idx, layer, seq,
                                            buf, sizeof(buf), &len, NULL),
                     PARLEY_ERR_NOT_FOUND);
}


static void
test_meta_layout(void **state)
{
    uint64_t  meta;

    (void) state;

    meta = parley_retransmit_meta(0x123456789abcULL, 2,
                                  PARLEY_RETRANSMIT_F_KEYFRAME);
    assert_true(meta == 0x0012123456789abcULL);
    assert_true(parley_retransmit_meta_seq(meta) == 0x123456789abcULL);
    assert_int_equal(parley_retransmit_meta_layer(meta), 2);
    assert_int_equal(parley_retransmit_meta_flags(meta),
                     PARLEY_RETRANSMIT_F_KEYFRAME);
    assert_int_equal(parley_retransmit_meta_kind(meta),
                     PARLEY_RETRANSMIT_KIND_RTP);
}


static void
test_extend(void **state)
{
    parley_retransmit_seq_t  w;

    (void) state;

    parley_retransmit_seq_init(&w);

    assert_true(parley_retransmit_extend(&w, 0, 65535) == 0x1ffff);
    assert_true(parley_retransmit_extend(&w, 0, 0) == 0x20000);
    assert_true(parley_retransmit_extend(&w, 0, 65534) == 0x1fffe);
    assert_true(parley_retransmit_extend(&w, 0, 1) == 0x20001);

    /* layers count apart */
    assert_true(parley_retransmit_extend(&w, 1, 7) == 0x10007);
    assert_true(parley_retransmit_extend(&w, 3, 7) == UINT64_MAX);
}


static void
test_find_loss_reorder_wrap(void **state)
{
    track_t  *t;

    (void) state;

    t = track_new();

    /* 65530 .. 65535, 0 lost upstream, 1, 3, 2 reordered, 4 */
    publish(t, 0, 65530);
    publish(t, 0, 65531);
    publish(t, 0, 65532);
    publish(t, 0, 65533);
    publish(t, 0, 65534);
    publish(t, 0, 65535);
    publish(t, 0, 1);
    publish(t, 0, 3);
    publish(t, 0, 2);
    publish(t, 0, 4);
    read_all(t);

    assert_found(t, 0, 65530);
    assert_found(t, 0, 65535);
    assert_found(t, 0, 1);
    assert_found(t, 0, 2);
    assert_found(t, 0, 3);
    assert_found(t, 0, 4);

    /* lost upstream, not yet sent, another layer: none of them */
    assert_not_found(t, 0, 0);
    assert_not_found(t, 0, 5);
    assert_not_found(t, 1, 1);

    /* the publisher's retransmission of 0 comes late: found then */
    publish(t, 0, 0);
    read_all(t);
    assert_found(t, 0, 0);

    track_free(t);
}


static void
test_find_overwritten(void **state)
{
    uint16_t  seq;
    track_t  *t;

    (void) state;

    t = track_new();

    for (seq = 0; seq < SLOTS + 20; seq++) {
        publish(t, 0, seq);
        read_all(t);
    }

    assert_not_found(t, 0, 0);
    assert_not_found(t, 0, 19);
    assert_found(t, 0, 20);
    assert_found(t, 0, SLOTS + 19);

    track_free(t);
}


static void
test_find_interleaved_layers(void **state)
{
    uint16_t  i;
    track_t  *t;

    (void) state;

    t = track_new();

    /* three layers with their own numbers, the high one twice as often */
    for (i = 0; i < 15; i++) {
        publish(t, 0, (uint16_t) (100 + i));
        publish(t, 2, (uint16_t) (60000 + 2 * i));
        publish(t, 1, (uint16_t) (5000 + i));
        publish(t, 2, (uint16_t) (60000 + 2 * i + 1));
    }
    read_all(t);

    assert_found(t, 0, 100);
    assert_found(t, 0, 114);
    assert_found(t, 1, 5007);
    assert_found(t, 2, 60000);
    assert_found(t, 2, 60029);

    /* the same 16-bit number on another layer is not it */
    assert_not_found(t, 1, 100);
    assert_not_found(t, 0, 5007);

    track_free(t);
}


static void
test_find_by_guess(void **state)
{
    uint16_t  seq;
    track_t  *t;

    (void) state;

    t = track_new();

    /* one layer, every 5th lost upstream, 12 and 13 swapped */
    for (seq = 0; seq < 40; seq++) {
        if (seq % 5 == 4) {
            continue;
        }
        if (seq == 12) {
            publish(t, 0, 13);
            publish(t, 0, 12);
            seq++;
            continue;
        }
        publish(t, 0, seq);
    }
    read_all(t);

    /* a reader that lost its index keeps only the newest per layer */
    memset(t->idx.ring_lo, 0, sizeof(t->idx.ring_lo));

    assert_found(t, 0, 38);
    assert_found(t, 0, 36);
    assert_found(t, 0, 30);
    assert_found(t, 0, 13);
    assert_found(t, 0, 12);
    assert_not_found(t, 0, 34);

    track_free(t);
}


static void
test_find_by_guess_interleaved(void **state)
{
    uint16_t  i;
    track_t  *t;

    (void) state;

    t = track_new();

    /* the high layer is half of the ring, the two others a quarter each */
    for (i = 0; i < 14; i++) {
        publish(t, 0, (uint16_t) (100 + i));
        publish(t, 2, (uint16_t) (65520 + 2 * i));
        if (i != 6) {
            publish(t, 1, (uint16_t) (5000 + i));
        }
        publish(t, 2, (uint16_t) (65520 + 2 * i + 1));
    }
    read_all(t);
    memset(t->idx.ring_lo, 0, sizeof(t->idx.ring_lo));

    assert_found(t, 0, 100);
    assert_found(t, 0, 107);
    assert_found(t, 1, 5000);
    assert_found(t, 1, 5005);
    assert_found(t, 1, 5007);
    assert_found(t, 2, 65520);
    assert_found(t, 2, 65535);
    assert_found(t, 2, 3);
    assert_not_found(t, 1, 5006);

    track_free(t);
}


static void
test_never_a_wrong_packet(void **state)
{
    uint8_t   pkt[16];
    track_t  *t;

    (void) state;

    t = track_new();

    publish(t, 0, 10);

    /* an entry of another kind with the same numbers */
    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x80;
    pkt[3] = 11;
    assert_int_equal(parley_ring_publish(t->ring, pkt, sizeof(pkt),
                                         parley_retransmit_meta(0x1000b, 0, 0)
                                         | ((uint64_t) 1 << 56)),
                     PARLEY_OK);

    /* meta says 12, the packet's header says 99 */
    pkt[3] = 99;
    (void) parley_retransmit_extend(&t->wseq, 0, 11);
    assert_int_equal(parley_ring_publish(t->ring, pkt, sizeof(pkt),
                                         parley_retransmit_meta(0x1000c, 0,
                                                                0)),
                     PARLEY_OK);
    publish(t, 0, 13);
    read_all(t);

    assert_found(t, 0, 10);
    assert_not_found(t, 0, 11);
    assert_not_found(t, 0, 12);
    assert_found(t, 0, 13);

    track_free(t);
}


static void
test_find_checks_arguments(void **state)
{
    uint8_t   buf[SLOT_SIZE];
    uint32_t  len;
    track_t  *t;

    (void) state;

    t = track_new();
    assert_not_found(t, 0, 1);

    publish(t, 0, 1);
    read_all(t);

    assert_int_equal(parley_retransmit_find(t->ring, &t->idx, 0, 1, buf,
                                            SLOT_SIZE - 1, &len, NULL),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_retransmit_find(t->ring, &t->idx,
                                            PARLEY_RETRANSMIT_LAYERS, 1, buf,
                                            sizeof(buf), &len, NULL),
                     PARLEY_ERR_INVAL);

    track_free(t);
}


static void
test_wrap_rtx(void **state)
{
    size_t    len;
    uint8_t   out[64];
    uint16_t  rtx_seq;

    /* V=2 M=1 PT 96, seq 0x1234, ts 1, SSRC 0x0a0b0c0d, payload "hi" */
    static const uint8_t  pkt[] = {
        0x80, 0xe0, 0x12, 0x34, 0x00, 0x00, 0x00, 0x01,
        0x0a, 0x0b, 0x0c, 0x0d, 'h', 'i'
    };

    /* RFC 4588 4: PT 97, the RTX seq and SSRC, OSN 0x1234, the payload */
    static const uint8_t  want[] = {
        0x80, 0xe1, 0x01, 0xf4, 0x00, 0x00, 0x00, 0x01,
        0x01, 0x02, 0x03, 0x04, 0x12, 0x34, 'h', 'i'
    };

    (void) state;

    rtx_seq = 500;
    assert_int_equal(parley_retransmit_wrap_rtx(pkt, sizeof(pkt), 97,
                                                0x01020304, &rtx_seq, out,
                                                sizeof(out), &len),
                     PARLEY_RTP_OK);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(rtx_seq, 501);

    /* too small: the counter does not move */
    assert_int_equal(parley_retransmit_wrap_rtx(pkt, sizeof(pkt), 97,
                                                0x01020304, &rtx_seq, out,
                                                10, &len),
                     PARLEY_RTP_ERR_NOSPACE);
    assert_int_equal(rtx_seq, 501);

    assert_int_not_equal(parley_retransmit_wrap_rtx(pkt, 5, 97, 1, &rtx_seq,
                                                    out, sizeof(out), &len),
                         PARLEY_RTP_OK);
}


static void
test_limiter(void **state)
{
    uint64_t                      t;
    parley_retransmit_limiter_t  *lim;

    (void) state;

    lim = malloc(sizeof(*lim));
    assert_non_null(lim);

    assert_int_equal(parley_retransmit_limiter_init(lim, 0, 1),
                     PARLEY_ERR_INVAL);

    /* 1000 bytes a second, 2000 at once */
    assert_int_equal(parley_retransmit_limiter_init(lim, 1000, 2000),
                     PARLEY_OK);

    t = 10 * SEC;
    assert_int_equal(parley_retransmit_admit(lim, 1, t, 0), 1);
    parley_retransmit_sent(lim, 1, 1500, t);

    /* the same number again within the 10 ms floor, then the RTT */
    assert_int_equal(parley_retransmit_admit(lim, 1, t + 9 * MS, 0), 0);
    assert_int_equal(lim->refused_repeat, 1);
    assert_int_equal(parley_retransmit_admit(lim, 1, t + 20 * MS, 50 * MS),
                     0);

    /* 520 bytes now: one more, then the bucket is empty */
    assert_int_equal(parley_retransmit_admit(lim, 2, t + 20 * MS, 0), 1);
    parley_retransmit_sent(lim, 2, 1500, t + 20 * MS);
    assert_int_equal(parley_retransmit_admit(lim, 3, t + 20 * MS, 0), 0);
    assert_int_equal(lim->refused_rate, 1);

    /* -980 bytes: 980 ms bring it to 0, still empty; 1 ms more is enough */
    assert_int_equal(parley_retransmit_admit(lim, 3, t + SEC, 0), 0);
    assert_int_equal(parley_retransmit_admit(lim, 3, t + SEC + MS, 0), 1);

    /* an hour of silence fills it to the burst, no more */
    assert_int_equal(parley_retransmit_admit(lim, 4, t + 3600 * SEC, 0), 1);
    parley_retransmit_sent(lim, 4, 2000, t + 3600 * SEC);
    assert_int_equal(parley_retransmit_admit(lim, 5, t + 3600 * SEC, 0), 0);

    /* number 1 long after its RTT: fine again */
    assert_int_equal(parley_retransmit_admit(lim, 1, t + 3602 * SEC, 50 * MS),
                     1);
    assert_int_equal(lim->sent, 3);

    free(lim);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_layout),
        cmocka_unit_test(test_extend),
        cmocka_unit_test(test_find_loss_reorder_wrap),
        cmocka_unit_test(test_find_overwritten),
        cmocka_unit_test(test_find_interleaved_layers),
        cmocka_unit_test(test_find_by_guess),
        cmocka_unit_test(test_find_by_guess_interleaved),
        cmocka_unit_test(test_never_a_wrong_packet),
        cmocka_unit_test(test_find_checks_arguments),
        cmocka_unit_test(test_wrap_rtx),
        cmocka_unit_test(test_limiter),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
