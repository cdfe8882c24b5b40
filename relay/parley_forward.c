/*
 * Per-subscriber rewriting of RTP packets: see parley_forward.h.
 *
 * The extension block is walked twice: once to learn its new size and
 * form, so that out_cap is checked before any byte is written, and once to
 * write it. Both walks decide each element with the same function.
 */

#include <string.h>

#include "parley_forward.h"


/* RFC 8285 4.2: a one-byte form element holds 1..16 bytes */
#define PARLEY_FORWARD_ONE_BYTE_MAX_LEN  16


/* An element as the leg receives it. */
typedef struct {
    uint8_t         id;
    const uint8_t  *val;
    size_t          len;
} parley_forward_elem_t;


/* The new extension block: its form and size, header and padding included. */
typedef struct {
    unsigned        two_byte:1;
    unsigned        twcc:1;         /* carries the leg's transport seq */
    unsigned        add_twcc:1;     /* ... as an element of its own */
    size_t          len;
} parley_forward_block_t;


static int parley_forward_pick(const parley_forward_map_t *map,
    const uint8_t *in, const parley_rtp_ext_t *ext, uint32_t twcc_seq,
    uint8_t *twcc_buf, parley_forward_elem_t *e);
static parley_forward_rc_t parley_forward_plan(const parley_forward_map_t *map,
    const uint8_t *in, size_t in_len, const parley_rtp_header_t *h,
    uint32_t twcc_seq, parley_forward_block_t *b);
static void parley_forward_write_block(const parley_forward_map_t *map,
    const uint8_t *in, size_t in_len, const parley_rtp_header_t *h,
    uint32_t twcc_seq, const parley_forward_block_t *b, uint8_t *out);


const char *
parley_forward_rc_str(parley_forward_rc_t rc)
{
    switch (rc) {

    case PARLEY_FORWARD_OK:
        return "ok";
    case PARLEY_FORWARD_NOT_FOR_LEG:
        return "not for this leg";
    case PARLEY_FORWARD_ERR_MALFORMED:
        return "malformed";
    case PARLEY_FORWARD_ERR_NOSPACE:
        return "no space";
    case PARLEY_FORWARD_ERR_INVAL:
        return "invalid argument";
    }

    return "unknown error";
}


void
parley_forward_map_init(parley_forward_map_t *map, uint32_t ssrc,
    uint32_t rtx_ssrc)
{
    memset(map, 0, sizeof(parley_forward_map_t));
    memset(map->pt, PARLEY_FORWARD_PT_DROP, sizeof(map->pt));

    map->ssrc = ssrc;
    map->rtx_ssrc = rtx_ssrc;
}


parley_forward_rc_t
parley_forward_map_set_mid(parley_forward_map_t *map, const uint8_t *mid,
    size_t len)
{
    /* RFC 7941 4.1: an SDES item of 0 bytes names nothing */
    if (len == 0 || len > PARLEY_FORWARD_MID_MAX) {
        return PARLEY_FORWARD_ERR_INVAL;
    }

    memcpy(map->mid, mid, len);
    map->mid_len = (uint8_t) len;

    return PARLEY_FORWARD_OK;
}


parley_forward_rc_t
parley_forward_map_check(const parley_forward_map_t *map)
{
    size_t   i;
    uint8_t  used[256];

    for (i = 0; i < PARLEY_FORWARD_PT_COUNT; i++) {
        if (map->pt[i] > 0x7f && map->pt[i] != PARLEY_FORWARD_PT_DROP) {
            return PARLEY_FORWARD_ERR_INVAL;
        }
    }

    if (map->ext[0].id != 0) {
        return PARLEY_FORWARD_ERR_INVAL;
    }

    memset(used, 0, sizeof(used));

    for (i = 1; i < PARLEY_FORWARD_EXT_COUNT; i++) {
        if (map->ext[i].id == 0) {
            continue;
        }

        /* RFC 8285 5: one id names one extension within a media section */
        if (used[map->ext[i].id]) {
            return PARLEY_FORWARD_ERR_INVAL;
        }

        used[map->ext[i].id] = 1;

        if (map->ext[i].kind > PARLEY_FORWARD_EXT_REPAIRED_RID) {
            return PARLEY_FORWARD_ERR_INVAL;
        }

        if (map->ext[i].kind == PARLEY_FORWARD_EXT_MID && map->mid_len == 0) {
            return PARLEY_FORWARD_ERR_INVAL;
        }
    }

    /* the added element shares its id with the publisher's own only */
    for (i = 1; map->twcc_id && i < PARLEY_FORWARD_EXT_COUNT; i++) {
        if (map->ext[i].id == map->twcc_id
            && map->ext[i].kind != PARLEY_FORWARD_EXT_TWCC)
        {
            return PARLEY_FORWARD_ERR_INVAL;
        }
    }

    return PARLEY_FORWARD_OK;
}


parley_forward_rc_t
parley_forward_rewrite(const parley_forward_map_t *map, const uint8_t *in,
    size_t in_len, uint8_t *out, size_t out_cap, uint16_t out_seq,
    uint32_t out_ts, uint32_t twcc_seq, size_t *out_len, int *twcc_carried)
{
    size_t                  head, body;
    uint8_t                 pt;
    parley_forward_rc_t     rc;
    parley_rtp_header_t     h;
    parley_forward_block_t  b;

    if (map == NULL || in == NULL || out == NULL || out_len == NULL) {
        return PARLEY_FORWARD_ERR_INVAL;
    }

    if (parley_rtp_parse(in, in_len, &h) != PARLEY_RTP_OK) {
        return PARLEY_FORWARD_ERR_MALFORMED;
    }

    pt = map->pt[h.payload_type];
    if (pt > 0x7f) {
        return PARLEY_FORWARD_NOT_FOR_LEG;
    }

    rc = parley_forward_plan(map, in, in_len, &h, twcc_seq, &b);
    if (rc != PARLEY_FORWARD_OK) {
        return rc;
    }

    head = PARLEY_RTP_HEADER_LEN + 4 * (size_t) h.csrc_count;
    body = in_len - h.payload_offset;

    if (out_cap < head || out_cap - head < b.len
        || out_cap - head - b.len < body)
    {
        return PARLEY_FORWARD_ERR_NOSPACE;
    }

    /* RFC 3550 5.1: V, P and CC as they came; X only if a block is left */
    out[0] = (uint8_t) ((in[0] & 0xef) | (b.len ? 0x10 : 0));
    out[1] = (uint8_t) ((in[1] & 0x80) | pt);
    parley_rtp_put16(out + 2, out_seq);
    parley_rtp_put32(out + 4, out_ts);
    parley_rtp_put32(out + 8,
                     map->pt_is_rtx[h.payload_type] ? map->rtx_ssrc
                                                    : map->ssrc);
    memcpy(out + PARLEY_RTP_HEADER_LEN, in + PARLEY_RTP_HEADER_LEN,
           head - PARLEY_RTP_HEADER_LEN);

    if (b.len) {
        parley_forward_write_block(map, in, in_len, &h, twcc_seq, &b,
                                   out + head);
    }

    memcpy(out + head + b.len, in + h.payload_offset, body);

    *out_len = head + b.len + body;

    if (twcc_carried) {
        *twcc_carried = b.twcc;
    }

    return PARLEY_FORWARD_OK;
}


/* Whether the leg gets this element, and as what; 0: it is dropped. */
static int
parley_forward_pick(const parley_forward_map_t *map, const uint8_t *in,
    const parley_rtp_ext_t *ext, uint32_t twcc_seq, uint8_t *twcc_buf,
    parley_forward_elem_t *e)
{
    const parley_forward_ext_map_t  *m;

    /* a two-byte form id the publisher never negotiated in one-byte range */
    if (ext->id >= PARLEY_FORWARD_EXT_COUNT) {
        return 0;
    }

    m = &map->ext[ext->id];
    if (m->id == 0) {
        return 0;
    }

    e->id = m->id;
    e->val = in + ext->offset;
    e->len = ext->len;

    switch (m->kind) {

    case PARLEY_FORWARD_EXT_MID:
        if (map->mid_len == 0) {
            return 0;
        }

        e->val = map->mid;
        e->len = map->mid_len;
        return 1;

    case PARLEY_FORWARD_EXT_TWCC:
        /*
         * The publisher's transport-wide seq counts its own transport; the
         * leg's feedback must count the packets the SFU sent to it.
         */
        if (twcc_seq > 0xffff) {
            return 0;
        }

        parley_rtp_put16(twcc_buf, (uint16_t) twcc_seq);
        e->val = twcc_buf;
        e->len = 2;
        return 1;

    case PARLEY_FORWARD_EXT_RID:
    case PARLEY_FORWARD_EXT_REPAIRED_RID:
        /*
         * RFC 8852 3.1, 3.2: a rid names one encoding of a simulcast
         * (RFC 8853); a leg that receives a single stream has none.
         */
        return !map->single_layer;

    default:
        return 1;
    }
}


static parley_forward_rc_t
parley_forward_plan(const parley_forward_map_t *map, const uint8_t *in,
    size_t in_len, const parley_rtp_header_t *h, uint32_t twcc_seq,
    parley_forward_block_t *b)
{
    size_t                 n, one_len, two_len, data;
    uint8_t                twcc_buf[2];
    parley_rtp_rc_t        rc;
    parley_rtp_ext_t       ext;
    parley_rtp_ext_iter_t  it;
    parley_forward_elem_t  e;

    n = 0;
    one_len = 0;
    two_len = 0;
    b->two_byte = 0;
    b->twcc = 0;
    b->add_twcc = 0;
    b->len = 0;

    parley_rtp_ext_iter_init(h, &it);

    for ( ;; ) {
        rc = parley_rtp_ext_next(in, in_len, &it, &ext);

        if (rc == PARLEY_RTP_DONE) {
            break;
        }

        if (rc != PARLEY_RTP_OK) {
            return PARLEY_FORWARD_ERR_MALFORMED;
        }

        if (!parley_forward_pick(map, in, &ext, twcc_seq, twcc_buf, &e)) {
            continue;
        }

        if (map->ext[ext.id].kind == PARLEY_FORWARD_EXT_TWCC) {
            b->twcc = 1;
        }

        /* RFC 8285 4.2: ids 1..14 and 1..16 bytes, else the 4.3 form */
        if (e.id > PARLEY_RTP_EXT_MAX_ID_ONE || e.len == 0
            || e.len > PARLEY_FORWARD_ONE_BYTE_MAX_LEN)
        {
            b->two_byte = 1;
        }

        n++;
        one_len += 1 + e.len;
        two_len += 2 + e.len;
    }

    if (map->twcc_id && twcc_seq <= 0xffff && !b->twcc) {
        b->twcc = 1;
        b->add_twcc = 1;

        if (map->twcc_id > PARLEY_RTP_EXT_MAX_ID_ONE) {
            b->two_byte = 1;
        }

        n++;
        one_len += 1 + 2;
        two_len += 2 + 2;
    }

    if (n == 0) {
        return PARLEY_FORWARD_OK;
    }

    data = b->two_byte ? two_len : one_len;

    /* RFC 3550 5.3.1: the length counts 32-bit words in 16 bits */
    if ((data + 3) / 4 > 0xffff) {
        return PARLEY_FORWARD_ERR_NOSPACE;
    }

    b->len = 4 + (data + 3) / 4 * 4;

    return PARLEY_FORWARD_OK;
}


/* Writes the block that parley_forward_plan() measured, b->len bytes. */
static void
parley_forward_write_block(const parley_forward_map_t *map,
    const uint8_t *in, size_t in_len, const parley_rtp_header_t *h,
    uint32_t twcc_seq, const parley_forward_block_t *b, uint8_t *out)
{
    size_t                 off;
    uint8_t                twcc_buf[2];
    parley_rtp_ext_t       ext;
    parley_rtp_ext_iter_t  it;
    parley_forward_elem_t  e;

    parley_rtp_put16(out, b->two_byte ? PARLEY_RTP_EXT_TWO_BYTE
                                      : PARLEY_RTP_EXT_ONE_BYTE);
    parley_rtp_put16(out + 2, (uint16_t) ((b->len - 4) / 4));

    off = 4;

    parley_rtp_ext_iter_init(h, &it);

    /* the plan walked the same elements without error */
    while (parley_rtp_ext_next(in, in_len, &it, &ext) == PARLEY_RTP_OK) {

        if (!parley_forward_pick(map, in, &ext, twcc_seq, twcc_buf, &e)) {
            continue;
        }

        if (b->two_byte) {
            out[off++] = e.id;
            out[off++] = (uint8_t) e.len;

        } else {
            out[off++] = (uint8_t) ((e.id << 4) | (e.len - 1));
        }

        memcpy(out + off, e.val, e.len);
        off += e.len;
    }

    if (b->add_twcc) {
        if (b->two_byte) {
            out[off++] = map->twcc_id;
            out[off++] = 2;

        } else {
            out[off++] = (uint8_t) ((map->twcc_id << 4) | 1);
        }

        parley_rtp_put16(out + off, (uint16_t) twcc_seq);
        off += 2;
    }

    /* RFC 8285 4.1: zero bytes pad the block to a 32-bit boundary */
    memset(out + off, 0, b->len - off);
}
