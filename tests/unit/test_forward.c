/*
 * Unit tests for per-subscriber RTP rewriting (relay/parley_forward.c).
 *
 * Input and expected packets are written by hand from RFC 3550 5.1 and
 * RFC 8285 4; each comment says what the bytes mean. Inputs and outputs
 * live in heap buffers of exactly their length, so that ASan sees any
 * access past them, and every output is parsed back with parley_rtp.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley_forward.h"
#include "bytes.h"


#define LEG_SSRC    0x11223344
#define LEG_RTX     0x55667788
#define OUT_SEQ     0x1000
#define OUT_TS      0x00abcdef
#define TWCC_SEQ    0x0102

/* the leg's ids */
#define LEG_AUDIO   1
#define LEG_AST     2
#define LEG_MID     3
#define LEG_TWCC    5
#define LEG_RID     10
#define LEG_RRID    11


/*
 * Publisher side: V=2, P, X, CC=2; M, PT 96 (VP8); seq 7, ts 1000, SSRC
 * 01020304; two CSRCs; a one-byte-form block of four words: mid id 1 "0",
 * audio level id 2 (V=1, level 21), abs-send-time id 3 0x123456, transport
 * seq id 4 0xabcd, rid id 10 "l", id 5 (not negotiated by the leg) 0xee,
 * one padding byte; payload aa bb cc; three bytes of RTP padding.
 */
#define PKT_IN                                                              \
    "b2 e0 00 07 | 00 00 03 e8 | 01 02 03 04 | 0a 0a 0a 0a | 0b 0b 0b 0b"   \
    "| be de 00 04 | 10 30 | 20 95 | 32 12 34 56 | 41 ab cd | a0 6c"        \
    "| 50 ee | 00"                                                          \
    "| aa bb cc | 00 00 03"

/*
 * PKT_IN for a single-layer leg: PT 98, the leg's SSRC, seq and ts; the
 * CSRCs kept; mid id 3 "1", audio level id 1, abs-send-time id 2, transport
 * seq id 5 = TWCC_SEQ, rid and id 5 gone, one padding byte: three words.
 */
#define PKT_OUT                                                             \
    "b2 e2 10 00 | 00 ab cd ef | 11 22 33 44 | 0a 0a 0a 0a | 0b 0b 0b 0b"   \
    "| be de 00 03 | 30 31 | 10 95 | 22 12 34 56 | 51 01 02 | 00"           \
    "| aa bb cc | 00 00 03"


static void
set_mid(parley_forward_map_t *map, const char *mid)
{
    assert_int_equal(parley_forward_map_set_mid(map, (const uint8_t *) mid,
                                                strlen(mid)),
                     PARLEY_FORWARD_OK);
}


/* VP8 96 -> 98 and its RTX 97 -> 99; Opus 111 not on this leg. */
static void
video_map(parley_forward_map_t *map)
{
    parley_forward_map_init(map, LEG_SSRC, LEG_RTX);

    map->pt[96] = 98;
    map->pt[97] = 99;
    map->pt_is_rtx[97] = 1;

    map->ext[1].id = LEG_MID;
    map->ext[1].kind = PARLEY_FORWARD_EXT_MID;
    map->ext[2].id = LEG_AUDIO;
    map->ext[2].kind = PARLEY_FORWARD_EXT_AUDIO_LEVEL;
    map->ext[3].id = LEG_AST;
    map->ext[3].kind = PARLEY_FORWARD_EXT_ABS_SEND_TIME;
    map->ext[4].id = LEG_TWCC;
    map->ext[4].kind = PARLEY_FORWARD_EXT_TWCC;
    map->ext[10].id = LEG_RID;
    map->ext[10].kind = PARLEY_FORWARD_EXT_RID;
    map->ext[11].id = LEG_RRID;
    map->ext[11].kind = PARLEY_FORWARD_EXT_REPAIRED_RID;
    map->single_layer = 1;

    set_mid(map, "1");

    assert_int_equal(parley_forward_map_check(map), PARLEY_FORWARD_OK);
}


/*
 * Rewrites "in" into an exact-size buffer of out_cap bytes, checks that
 * the input is untouched, and on success that the output parses back and
 * carries the leg's mid.
 */
static parley_forward_rc_t
rewrite(const parley_forward_map_t *map, const char *in_hex, size_t out_cap,
    uint32_t twcc_seq, uint8_t *out, size_t *out_len)
{
    size_t               i, in_len;
    uint8_t              in[MAX_PKT], *pin, *pout;
    const uint8_t       *mid;
    size_t               mid_len;
    int                  carried;
    uint8_t              twcc_id;
    uint16_t             twcc;
    parley_rtp_rc_t      rrc;
    parley_forward_rc_t  rc;
    parley_rtp_header_t  h;

    in_len = hex(in_hex, in);
    pin = exact(in, in_len);
    pout = malloc(out_cap ? out_cap : 1);
    assert_non_null(pout);
    memset(pout, 0x5a, out_cap);

    *out_len = 0;
    carried = -1;
    rc = parley_forward_rewrite(map, pin, in_len, pout, out_cap, OUT_SEQ,
                                OUT_TS, twcc_seq, out_len, &carried);

    assert_memory_equal(pin, in, in_len);

    if (rc != PARLEY_FORWARD_OK) {
        /* nothing written on failure */
        for (i = 0; i < out_cap; i++) {
            assert_int_equal(pout[i], 0x5a);
        }

    } else {
        assert_true(*out_len <= out_cap);
        assert_int_equal(parley_rtp_parse(pout, *out_len, &h),
                         PARLEY_RTP_OK);
        assert_int_equal(h.seq, OUT_SEQ);
        assert_int_equal(h.ts, OUT_TS);

        rrc = parley_rtp_ext_string(pout, *out_len, &h, LEG_MID, &mid,
                                    &mid_len);
        if (rrc == PARLEY_RTP_OK) {
            assert_int_equal(mid_len, map->mid_len);
            assert_memory_equal(mid, map->mid, mid_len);

        } else {
            assert_int_equal(rrc, PARLEY_RTP_ERR_NOT_FOUND);
        }

        /* what the caller is told it carries is what it carries */

        twcc_id = map->twcc_id;

        for (i = 1; i < PARLEY_FORWARD_EXT_COUNT; i++) {
            if (map->ext[i].kind == PARLEY_FORWARD_EXT_TWCC
                && map->ext[i].id != 0)
            {
                twcc_id = map->ext[i].id;
            }
        }

        if (twcc_id
            && parley_rtp_ext_twcc_seq(pout, *out_len, &h, twcc_id, &twcc)
               == PARLEY_RTP_OK)
        {
            assert_int_equal(carried, 1);
            assert_int_equal(twcc, twcc_seq);

        } else {
            assert_int_equal(carried, 0);
        }

        memcpy(out, pout, *out_len);
    }

    free(pin);
    free(pout);

    return rc;
}


static void
expect_rewrite(const parley_forward_map_t *map, const char *in_hex,
    uint32_t twcc_seq, const char *want_hex)
{
    size_t   want_len, out_len;
    uint8_t  want[MAX_PKT], out[MAX_PKT];

    want_len = hex(want_hex, want);

    /* exactly the room it needs */
    assert_int_equal(rewrite(map, in_hex, want_len, twcc_seq, out, &out_len),
                     PARLEY_FORWARD_OK);
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
}


static void
test_rewrite_full(void **state)
{
    size_t                    out_len;
    uint8_t                   out[MAX_PKT];
    uint16_t                  twcc;
    uint32_t                  ast;
    parley_forward_map_t      map;
    parley_rtp_header_t       h;
    parley_rtp_audio_level_t  al;

    (void) state;

    video_map(&map);
    expect_rewrite(&map, PKT_IN, TWCC_SEQ, PKT_OUT);

    /* the extensions read back under the leg's ids */
    assert_int_equal(rewrite(&map, PKT_IN, MAX_PKT, TWCC_SEQ, out, &out_len),
                     PARLEY_FORWARD_OK);
    assert_int_equal(parley_rtp_parse(out, out_len, &h), PARLEY_RTP_OK);
    assert_int_equal(h.payload_type, 98);
    assert_int_equal(h.ssrc, LEG_SSRC);
    assert_true(h.marker);
    assert_true(h.padding);
    assert_int_equal(h.csrc_count, 2);
    assert_int_equal(h.payload_len, 3);
    assert_int_equal(h.padding_len, 3);

    assert_int_equal(parley_rtp_ext_twcc_seq(out, out_len, &h, LEG_TWCC,
                                             &twcc),
                     PARLEY_RTP_OK);
    assert_int_equal(twcc, TWCC_SEQ);
    assert_int_equal(parley_rtp_ext_abs_send_time(out, out_len, &h, LEG_AST,
                                                  &ast),
                     PARLEY_RTP_OK);
    assert_int_equal(ast, 0x123456);
    assert_int_equal(parley_rtp_ext_audio_level(out, out_len, &h, LEG_AUDIO,
                                                &al),
                     PARLEY_RTP_OK);
    assert_true(al.voice);
    assert_int_equal(al.level, 21);
}


/* A simulcast leg keeps the rid; without twcc_seq the transport seq goes. */
static void
test_rewrite_rid_kept_twcc_none(void **state)
{
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);
    map.single_layer = 0;

    expect_rewrite(&map, PKT_IN, PARLEY_FORWARD_TWCC_NONE,
        "b2 e2 10 00 | 00 ab cd ef | 11 22 33 44 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| be de 00 03 | 30 31 | 10 95 | 22 12 34 56 | a0 6c | 00 00"
        "| aa bb cc | 00 00 03");
}


/*
 * A publisher that sends no transport-wide number (or never negotiated
 * one): the leg's number is added all the same, so that the subscriber's
 * feedback covers every packet it is sent.
 */
static void
test_rewrite_twcc_added(void **state)
{
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);
    map.ext[4].id = 0;                  /* the publisher's is not carried */
    map.twcc_id = LEG_TWCC;
    assert_int_equal(parley_forward_map_check(&map), PARLEY_FORWARD_OK);

    expect_rewrite(&map, PKT_IN, TWCC_SEQ, PKT_OUT);

    /* a packet without any extension gets a block of its own */
    expect_rewrite(&map,
        "a2 e0 00 07 | 00 00 03 e8 | 01 02 03 04 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| aa bb cc | 00 00 03",
        TWCC_SEQ,
        "b2 e2 10 00 | 00 ab cd ef | 11 22 33 44 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| be de 00 01 | 51 01 02 | 00"
        "| aa bb cc | 00 00 03");

    /* without a number to give, nothing is added */
    expect_rewrite(&map,
        "a2 e0 00 07 | 00 00 03 e8 | 01 02 03 04 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| aa bb cc | 00 00 03",
        PARLEY_FORWARD_TWCC_NONE,
        "a2 e2 10 00 | 00 ab cd ef | 11 22 33 44 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| aa bb cc | 00 00 03");

    /* the publisher's own, when it sends one, is not doubled */
    map.ext[4].id = LEG_TWCC;
    expect_rewrite(&map, PKT_IN, TWCC_SEQ, PKT_OUT);

    /* and the id is not another extension's */
    map.ext[5].id = LEG_TWCC;
    map.ext[4].id = 0;
    assert_int_equal(parley_forward_map_check(&map),
                     PARLEY_FORWARD_ERR_INVAL);
}


static void
test_rewrite_pt_drop(void **state)
{
    size_t                out_len;
    uint8_t               out[MAX_PKT];
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);

    /* PKT_IN with PT 111 (Opus): this leg did not negotiate it */
    assert_int_equal(rewrite(&map,
        "b2 ef 00 07 | 00 00 03 e8 | 01 02 03 04 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| be de 00 04 | 10 30 | 20 95 | 32 12 34 56 | 41 ab cd | a0 6c"
        "| 50 ee | 00 | aa bb cc | 00 00 03",
        MAX_PKT, TWCC_SEQ, out, &out_len),
        PARLEY_FORWARD_NOT_FOR_LEG);
    assert_string_equal(parley_forward_rc_str(PARLEY_FORWARD_NOT_FOR_LEG),
                        "not for this leg");

    /* the same packet once the leg has Opus 111 -> 109 */
    map.pt[111] = 109;
    assert_int_equal(rewrite(&map,
        "80 6f 00 07 | 00 00 03 e8 | 01 02 03 04 | 68 69",
        MAX_PKT, TWCC_SEQ, out, &out_len),
        PARLEY_FORWARD_OK);
    assert_int_equal(out[1], 109);
}


/* RTX: the leg's RTX PT and RTX SSRC; OSN and payload copied. */
static void
test_rewrite_rtx(void **state)
{
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);

    expect_rewrite(&map,
        "90 61 00 09 | 00 00 03 e8 | 0f 0f 0f 0f"
        "| be de 00 01 | 10 30 | 00 00 | 00 07 | de ad",
        TWCC_SEQ,
        "90 63 10 00 | 00 ab cd ef | 55 66 77 88"
        "| be de 00 01 | 30 31 | 00 00 | 00 07 | de ad");
}


/* Leg mid longer than the publisher's: the block grows. */
static void
test_rewrite_mid_longer(void **state)
{
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);
    set_mid(&map, "camera-8");

    expect_rewrite(&map, PKT_IN, TWCC_SEQ,
        "b2 e2 10 00 | 00 ab cd ef | 11 22 33 44 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| be de 00 05 | 37 63 61 6d 65 72 61 2d 38 | 10 95 | 22 12 34 56"
        "| 51 01 02 | 00 00"
        "| aa bb cc | 00 00 03");
}


/* Leg mid shorter than the publisher's: the block shrinks. */
static void
test_rewrite_mid_shorter(void **state)
{
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);

    /* mid id 1 "abcdef", one padding byte */
    expect_rewrite(&map,
        "90 60 00 07 | 00 00 03 e8 | 01 02 03 04"
        "| be de 00 02 | 15 61 62 63 64 65 66 | 00 | 01 02",
        TWCC_SEQ,
        "90 62 10 00 | 00 ab cd ef | 11 22 33 44"
        "| be de 00 01 | 30 31 | 00 00 | 01 02");
}


/* Nothing the leg negotiated: no block at all, X cleared. */
static void
test_rewrite_block_removed(void **state)
{
    parley_forward_map_t  map;

    (void) state;

    parley_forward_map_init(&map, LEG_SSRC, LEG_RTX);
    map.pt[96] = 98;
    assert_int_equal(parley_forward_map_check(&map), PARLEY_FORWARD_OK);

    expect_rewrite(&map, PKT_IN, TWCC_SEQ,
        "a2 e2 10 00 | 00 ab cd ef | 11 22 33 44 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| aa bb cc | 00 00 03");

    /* only the transport seq was mapped, and there is none to give */
    map.ext[4].id = LEG_TWCC;
    map.ext[4].kind = PARLEY_FORWARD_EXT_TWCC;
    expect_rewrite(&map, PKT_IN, PARLEY_FORWARD_TWCC_NONE,
        "a2 e2 10 00 | 00 ab cd ef | 11 22 33 44 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| aa bb cc | 00 00 03");

    /* a block of another profile than RFC 8285's is not the leg's either */
    expect_rewrite(&map,
        "90 60 00 07 | 00 00 03 e8 | 01 02 03 04 | ab cd 00 01 | 41 ab cd 00"
        "| 68 69",
        TWCC_SEQ,
        "80 62 10 00 | 00 ab cd ef | 11 22 33 44 | 68 69");
}


/* A 17-byte mid does not fit the one-byte form: RFC 8285 4.3 form. */
static void
test_rewrite_two_byte_fallback(void **state)
{
    size_t                out_len;
    uint8_t               out[MAX_PKT];
    parley_forward_map_t  map;
    parley_rtp_header_t   h;
    uint16_t              twcc;

    (void) state;

    video_map(&map);
    set_mid(&map, "0123456789abcdefg");

    expect_rewrite(&map, PKT_IN, TWCC_SEQ,
        "b2 e2 10 00 | 00 ab cd ef | 11 22 33 44 | 0a 0a 0a 0a | 0b 0b 0b 0b"
        "| 10 00 00 08"
        "| 03 11 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 67"
        "| 01 01 95 | 02 03 12 34 56 | 05 02 01 02 | 00"
        "| aa bb cc | 00 00 03");

    assert_int_equal(rewrite(&map, PKT_IN, MAX_PKT, TWCC_SEQ, out, &out_len),
                     PARLEY_FORWARD_OK);
    assert_int_equal(parley_rtp_parse(out, out_len, &h), PARLEY_RTP_OK);
    assert_int_equal(h.ext_profile, PARLEY_RTP_EXT_TWO_BYTE);
    assert_int_equal(parley_rtp_ext_twcc_seq(out, out_len, &h, LEG_TWCC,
                                             &twcc),
                     PARLEY_RTP_OK);
    assert_int_equal(twcc, TWCC_SEQ);
}


/*
 * Two-byte input: a 20-byte value of an OTHER extension keeps the
 * two-byte form, an id the leg maps above 14 forces it; without them the
 * output is one-byte again.
 */
static void
test_rewrite_two_byte_input(void **state)
{
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);
    map.ext[6].id = 7;
    map.ext[6].kind = PARLEY_FORWARD_EXT_OTHER;

    /* mid id 1 "0", id 6 with 20 bytes, then padding */
    expect_rewrite(&map,
        "90 60 00 07 | 00 00 03 e8 | 01 02 03 04 | 10 00 00 07"
        "| 01 01 30 | 06 14 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"
        "  10 11 12 13 | 00 00 00 | 68 69",
        TWCC_SEQ,
        "90 62 10 00 | 00 ab cd ef | 11 22 33 44 | 10 00 00 07"
        "| 03 01 31 | 07 14 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"
        "  10 11 12 13 | 00 00 00 | 68 69");

    /* a leg id above 14 */
    map.ext[6].id = 20;
    expect_rewrite(&map,
        "90 60 00 07 | 00 00 03 e8 | 01 02 03 04 | be de 00 01 | 10 30 | 60 77"
        "| 68 69",
        TWCC_SEQ,
        "90 62 10 00 | 00 ab cd ef | 11 22 33 44 | 10 00 00 02"
        "| 03 01 31 | 14 01 77 | 00 00 | 68 69");

    /* two-byte in, one-byte out when everything fits */
    expect_rewrite(&map,
        "90 60 00 07 | 00 00 03 e8 | 01 02 03 04 | 10 00 00 02"
        "| 01 01 30 | 02 01 95 | 00 00 | 68 69",
        TWCC_SEQ,
        "90 62 10 00 | 00 ab cd ef | 11 22 33 44 | be de 00 01"
        "| 30 31 | 10 95 | 68 69");
}


/* Every capacity short of the need fails and writes nothing. */
static void
test_rewrite_nospace(void **state)
{
    size_t                cap, need, out_len;
    uint8_t               out[MAX_PKT];
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);
    need = hex(PKT_OUT, out);

    for (cap = 0; cap < need; cap++) {
        assert_int_equal(rewrite(&map, PKT_IN, cap, TWCC_SEQ, out, &out_len),
                         PARLEY_FORWARD_ERR_NOSPACE);
    }

    assert_int_equal(rewrite(&map, PKT_IN, need, TWCC_SEQ, out, &out_len),
                     PARLEY_FORWARD_OK);
    assert_int_equal(out_len, need);
}


static void
test_rewrite_malformed(void **state)
{
    size_t                i, out_len;
    uint8_t               out[MAX_PKT];
    parley_forward_map_t  map;
    static const char    *bad[] = {
        /* shorter than the fixed header */
        "80 60 00 07 | 00 00 03 e8 | 01 02 03",
        /* version 1 */
        "40 60 00 07 | 00 00 03 e8 | 01 02 03 04 | 68 69",
        /* two CSRCs announced, one present */
        "82 60 00 07 | 00 00 03 e8 | 01 02 03 04 | 0a 0a 0a 0a",
        /* extension block of two words, one present */
        "90 60 00 07 | 00 00 03 e8 | 01 02 03 04 | be de 00 02 | 10 30 00 00",
        /* element of 4 bytes in a block with 3 left */
        "90 60 00 07 | 00 00 03 e8 | 01 02 03 04 | be de 00 01 | 13 30 31 32",
        /* padding count larger than the payload */
        "a0 60 00 07 | 00 00 03 e8 | 01 02 03 04 | 68 69 05",
        /* padding count zero */
        "a0 60 00 07 | 00 00 03 e8 | 01 02 03 04 | 68 69 00",
    };

    (void) state;

    video_map(&map);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(rewrite(&map, bad[i], MAX_PKT, TWCC_SEQ, out,
                                 &out_len),
                         PARLEY_FORWARD_ERR_MALFORMED);
    }

    assert_int_equal(parley_forward_rewrite(&map, NULL, 0, out, MAX_PKT, 0, 0,
                                            TWCC_SEQ, &out_len, NULL),
                     PARLEY_FORWARD_ERR_INVAL);
}


/* Padding-only packets (bandwidth probes) go through. */
static void
test_rewrite_padding_only(void **state)
{
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);

    expect_rewrite(&map,
        "b0 61 00 09 | 00 00 03 e8 | 0f 0f 0f 0f | be de 00 01 | 41 ab cd 00"
        "| 00 00 00 04",
        TWCC_SEQ,
        "b0 63 10 00 | 00 ab cd ef | 55 66 77 88 | be de 00 01 | 51 01 02 00"
        "| 00 00 00 04");
}


static void
test_map_check(void **state)
{
    uint8_t               long_mid[PARLEY_FORWARD_MID_MAX + 1];
    parley_forward_map_t  map;

    (void) state;

    video_map(&map);
    map.pt[100] = 0x80;
    assert_int_equal(parley_forward_map_check(&map),
                     PARLEY_FORWARD_ERR_INVAL);

    video_map(&map);
    map.ext[6].id = LEG_MID;
    assert_int_equal(parley_forward_map_check(&map),
                     PARLEY_FORWARD_ERR_INVAL);

    video_map(&map);
    map.ext[6].id = 6;
    map.ext[6].kind = (parley_forward_ext_kind_t) 99;
    assert_int_equal(parley_forward_map_check(&map),
                     PARLEY_FORWARD_ERR_INVAL);

    parley_forward_map_init(&map, LEG_SSRC, LEG_RTX);
    map.ext[1].id = LEG_MID;
    map.ext[1].kind = PARLEY_FORWARD_EXT_MID;
    assert_int_equal(parley_forward_map_check(&map),
                     PARLEY_FORWARD_ERR_INVAL);

    memset(long_mid, 'm', sizeof(long_mid));
    assert_int_equal(parley_forward_map_set_mid(&map, long_mid,
                                                sizeof(long_mid)),
                     PARLEY_FORWARD_ERR_INVAL);
    assert_int_equal(parley_forward_map_set_mid(&map, long_mid, 0),
                     PARLEY_FORWARD_ERR_INVAL);
    assert_int_equal(parley_forward_map_set_mid(&map, long_mid,
                                                PARLEY_FORWARD_MID_MAX),
                     PARLEY_FORWARD_OK);
    assert_int_equal(parley_forward_map_check(&map), PARLEY_FORWARD_OK);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite_full),
        cmocka_unit_test(test_rewrite_rid_kept_twcc_none),
        cmocka_unit_test(test_rewrite_twcc_added),
        cmocka_unit_test(test_rewrite_pt_drop),
        cmocka_unit_test(test_rewrite_rtx),
        cmocka_unit_test(test_rewrite_mid_longer),
        cmocka_unit_test(test_rewrite_mid_shorter),
        cmocka_unit_test(test_rewrite_block_removed),
        cmocka_unit_test(test_rewrite_two_byte_fallback),
        cmocka_unit_test(test_rewrite_two_byte_input),
        cmocka_unit_test(test_rewrite_nospace),
        cmocka_unit_test(test_rewrite_malformed),
        cmocka_unit_test(test_rewrite_padding_only),
        cmocka_unit_test(test_map_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
