/*
 * RTCP compound packets, reports and feedback messages: see parley_rtcp.h.
 *
 * As in parley_rtp.c, "len - off < n" is only ever tested with off <= len
 * known, so it cannot wrap, before body[off .. off + n) is read.
 */

#include <string.h>

#include "parley_rtcp.h"


#define PARLEY_RTCP_REPORT_BLOCK_LEN  24   /* RFC 3550 6.4.1 */
#define PARLEY_RTCP_SENDER_INFO_LEN   24   /* SSRC and sender info */
#define PARLEY_RTCP_FB_LEN            8    /* two SSRCs, RFC 4585 6.1 */
#define PARLEY_RTCP_FIR_ENTRY_LEN     8
#define PARLEY_RTCP_NACK_ENTRY_LEN    4
#define PARLEY_RTCP_REMB_LEN          8    /* "REMB", num, exp, mantissa */
#define PARLEY_RTCP_TWCC_LEN          8    /* base, count, ref, fb count */

#define PARLEY_RTCP_TWCC_RESERVED     3
#define PARLEY_RTCP_TWCC_MAX_RUN      0x1fff
#define PARLEY_RTCP_REMB_MAX_MANTISSA 0x3ffff

#define PARLEY_RTCP_LOST_MAX          0x7fffff
#define PARLEY_RTCP_LOST_MIN          (-0x800000)


typedef enum {
    PARLEY_RTCP_CHUNK_RUN = 0,
    PARLEY_RTCP_CHUNK_ONE_BIT,
    PARLEY_RTCP_CHUNK_TWO_BIT
} parley_rtcp_chunk_kind_t;


/* Reads the packet status symbols out of the TWCC chunks, one by one. */
typedef struct {
    const uint8_t             *chunks;
    size_t                     len;
    size_t                     offset;     /* after the current chunk */
    uint16_t                   chunk;
    unsigned                   left;       /* symbols left in it */
    parley_rtcp_chunk_kind_t   kind;
} parley_rtcp_twcc_reader_t;


/* Turns a list of arrivals into the symbols and deltas of a feedback. */
typedef struct {
    const parley_rtcp_twcc_arrival_t  *a;
    size_t                             i;      /* next arrival */
    uint16_t                           seq;    /* of the next symbol */
    int64_t                            time;   /* last one, in 250 us */
} parley_rtcp_twcc_gen_t;


static parley_rtp_rc_t parley_rtcp_check_padding(const uint8_t *p,
    size_t plen, int last, size_t *body_len);
static parley_rtp_rc_t parley_rtcp_parse_report_blocks(const uint8_t *p,
    size_t len, size_t count, parley_rtcp_report_block_t *blocks);
static void parley_rtcp_parse_report_block(const uint8_t *p,
    parley_rtcp_report_block_t *rb);
static parley_rtp_rc_t parley_rtcp_parse_sdes_chunk(const uint8_t *body,
    size_t len, size_t *off, parley_rtcp_sdes_chunk_t *chunk);
static parley_rtp_rc_t parley_rtcp_parse_fb_of(const parley_rtcp_packet_t *pkt,
    uint8_t type, uint8_t fmt, parley_rtcp_fb_t *fb);
static void parley_rtcp_twcc_reader_init(parley_rtcp_twcc_reader_t *r,
    const uint8_t *chunks, size_t len);
static parley_rtp_rc_t parley_rtcp_twcc_read_symbol(
    parley_rtcp_twcc_reader_t *r, uint8_t *sym);
static parley_rtp_rc_t parley_rtcp_twcc_deltas_offset(const uint8_t *chunks,
    size_t len, uint16_t count, size_t *offset);
static void parley_rtcp_twcc_read_packet(parley_rtcp_twcc_reader_t *r,
    const uint8_t **deltas, int64_t *time, parley_rtcp_twcc_packet_t *e);
static uint8_t *parley_rtcp_reserve(parley_rtcp_writer_t *w, size_t len);
static void parley_rtcp_put_header(uint8_t *p, uint8_t count, uint8_t type,
    size_t len);
static void parley_rtcp_put_report_blocks(uint8_t *p,
    const parley_rtcp_report_block_t *blocks, size_t n);
static void parley_rtcp_put_fb(uint8_t *p, uint8_t fmt, uint8_t type,
    size_t len, uint32_t sender_ssrc, uint32_t media_ssrc);
static size_t parley_rtcp_nack_pack(const uint16_t *seqs, size_t n,
    uint8_t *fci);
static void parley_rtcp_twcc_gen_init(parley_rtcp_twcc_gen_t *g,
    const parley_rtcp_twcc_arrival_t *a);
static uint8_t parley_rtcp_twcc_gen_next(parley_rtcp_twcc_gen_t *g,
    int32_t *delta);
static parley_rtp_rc_t parley_rtcp_twcc_check(
    const parley_rtcp_twcc_arrival_t *a, size_t n, size_t *count,
    size_t *delta_bytes);
static size_t parley_rtcp_twcc_put_chunks(const parley_rtcp_twcc_arrival_t *a,
    size_t count, uint8_t *out);
static uint16_t parley_rtcp_twcc_vector_chunk(parley_rtcp_twcc_gen_t *g,
    size_t left, size_t *taken);
static void parley_rtcp_twcc_put_deltas(const parley_rtcp_twcc_arrival_t *a,
    size_t count, uint8_t *out);
static uint8_t parley_rtcp_fraction_lost(uint32_t expected,
    uint32_t received);
static void parley_rtcp_report_block_delay(const parley_rtp_stats_t *s,
    uint64_t now_us, parley_rtcp_report_block_t *rb);


void
parley_rtcp_iter_init(parley_rtcp_iter_t *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = len;
    it->offset = 0;
}


parley_rtp_rc_t
parley_rtcp_next(parley_rtcp_iter_t *it, parley_rtcp_packet_t *pkt)
{
    size_t           left, plen, body_len;
    const uint8_t   *p;
    parley_rtp_rc_t  rc;

    if (it->offset >= it->len) {
        return it->len == 0 ? PARLEY_RTP_ERR_TRUNCATED : PARLEY_RTP_DONE;
    }

    left = it->len - it->offset;
    p = it->buf + it->offset;

    /* a tail too short for a header is garbage, not a packet */
    if (left < PARLEY_RTCP_HEADER_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    if (p[0] >> 6 != PARLEY_RTCP_VERSION) {
        return PARLEY_RTP_ERR_VERSION;
    }

    /* RFC 3550 6.4.1: the length is in 32-bit words, minus one */
    plen = ((size_t) parley_rtp_get16(p + 2) + 1) * 4;
    if (plen > left) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    body_len = plen - PARLEY_RTCP_HEADER_LEN;

    if (p[0] & 0x20) {
        rc = parley_rtcp_check_padding(p, plen, plen == left, &body_len);
        if (rc != PARLEY_RTP_OK) {
            return rc;
        }
    }

    pkt->data = p;
    pkt->len = plen;
    pkt->body_len = body_len;
    pkt->type = p[1];
    pkt->count = p[0] & 0x1f;
    pkt->padding = (p[0] >> 5) & 1;

    it->offset += plen;

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_rtcp_check_padding(const uint8_t *p, size_t plen, int last,
    size_t *body_len)
{
    size_t  pad;

    /*
     * RFC 3550 6.4.1: padding is added to the last packet of a compound
     * only, and its last octet counts it, itself included.
     */
    if (!last) {
        return PARLEY_RTP_ERR_PADDING;
    }

    pad = p[plen - 1];
    if (pad == 0 || pad > *body_len) {
        return PARLEY_RTP_ERR_PADDING;
    }

    *body_len -= pad;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_validate(const uint8_t *buf, size_t len)
{
    parley_rtp_rc_t       rc;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    parley_rtcp_iter_init(&it, buf, len);

    do {
        rc = parley_rtcp_next(&it, &pkt);
    } while (rc == PARLEY_RTP_OK);

    return rc == PARLEY_RTP_DONE ? PARLEY_RTP_OK : rc;
}


parley_rtp_rc_t
parley_rtcp_parse_sr(const parley_rtcp_packet_t *pkt, parley_rtcp_sr_t *sr)
{
    const uint8_t  *b;

    if (pkt->type != PARLEY_RTCP_SR) {
        return PARLEY_RTP_ERR_INVAL;
    }

    if (pkt->body_len < PARLEY_RTCP_SENDER_INFO_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    b = pkt->data + PARLEY_RTCP_HEADER_LEN;

    sr->ssrc = parley_rtp_get32(b);
    sr->ntp_sec = parley_rtp_get32(b + 4);
    sr->ntp_frac = parley_rtp_get32(b + 8);
    sr->rtp_ts = parley_rtp_get32(b + 12);
    sr->packet_count = parley_rtp_get32(b + 16);
    sr->octet_count = parley_rtp_get32(b + 20);
    sr->block_count = pkt->count;

    return parley_rtcp_parse_report_blocks(b + PARLEY_RTCP_SENDER_INFO_LEN,
               pkt->body_len - PARLEY_RTCP_SENDER_INFO_LEN, pkt->count,
               sr->blocks);
}


parley_rtp_rc_t
parley_rtcp_parse_rr(const parley_rtcp_packet_t *pkt, parley_rtcp_rr_t *rr)
{
    const uint8_t  *b;

    if (pkt->type != PARLEY_RTCP_RR) {
        return PARLEY_RTP_ERR_INVAL;
    }

    if (pkt->body_len < 4) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    b = pkt->data + PARLEY_RTCP_HEADER_LEN;

    rr->ssrc = parley_rtp_get32(b);
    rr->block_count = pkt->count;

    return parley_rtcp_parse_report_blocks(b + 4, pkt->body_len - 4,
                                           pkt->count, rr->blocks);
}


static parley_rtp_rc_t
parley_rtcp_parse_report_blocks(const uint8_t *p, size_t len, size_t count,
    parley_rtcp_report_block_t *blocks)
{
    size_t  i;

    /* RFC 3550 6.4.1: profile-specific extensions may follow the blocks */
    if (len < count * PARLEY_RTCP_REPORT_BLOCK_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    for (i = 0; i < count; i++) {
        parley_rtcp_parse_report_block(p + i * PARLEY_RTCP_REPORT_BLOCK_LEN,
                                       &blocks[i]);
    }

    return PARLEY_RTP_OK;
}


static void
parley_rtcp_parse_report_block(const uint8_t *p,
    parley_rtcp_report_block_t *rb)
{
    uint32_t  lost;

    rb->ssrc = parley_rtp_get32(p);
    rb->fraction_lost = p[4];

    /* a 24-bit two's complement number */
    lost = parley_rtp_get24(p + 5);
    rb->cumulative_lost = (int32_t) lost - ((lost & 0x800000) ? 0x1000000 : 0);

    rb->ext_highest_seq = parley_rtp_get32(p + 8);
    rb->jitter = parley_rtp_get32(p + 12);
    rb->lsr = parley_rtp_get32(p + 16);
    rb->dlsr = parley_rtp_get32(p + 20);
}


parley_rtp_rc_t
parley_rtcp_parse_sdes(const parley_rtcp_packet_t *pkt,
    parley_rtcp_sdes_t *sdes)
{
    size_t           off, i;
    const uint8_t   *body;
    parley_rtp_rc_t  rc;

    if (pkt->type != PARLEY_RTCP_SDES) {
        return PARLEY_RTP_ERR_INVAL;
    }

    body = pkt->data + PARLEY_RTCP_HEADER_LEN;
    off = 0;

    for (i = 0; i < pkt->count; i++) {
        rc = parley_rtcp_parse_sdes_chunk(body, pkt->body_len, &off,
                                          &sdes->chunks[i]);
        if (rc != PARLEY_RTP_OK) {
            return rc;
        }
    }

    sdes->chunk_count = pkt->count;

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_rtcp_parse_sdes_chunk(const uint8_t *body, size_t len, size_t *off,
    parley_rtcp_sdes_chunk_t *chunk)
{
    size_t  ilen;

    if (len - *off < 4) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    chunk->ssrc = parley_rtp_get32(body + *off);
    chunk->cname = NULL;
    chunk->cname_len = 0;
    *off += 4;

    /* RFC 3550 6.5: items (type, length, text) up to a null type octet */
    for ( ;; ) {
        if (*off >= len) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }

        if (body[*off] == PARLEY_RTCP_SDES_END) {
            break;
        }

        if (len - *off < 2) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }

        ilen = body[*off + 1];
        if (len - *off - 2 < ilen) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }

        if (body[*off] == PARLEY_RTCP_SDES_CNAME && chunk->cname == NULL) {
            chunk->cname = body + *off + 2;
            chunk->cname_len = ilen;
        }

        *off += 2 + ilen;
    }

    /* the null octet, then null octets up to the next 32-bit boundary */
    *off = (*off + 1 + 3) & ~(size_t) 3;
    if (*off > len) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_parse_bye(const parley_rtcp_packet_t *pkt, parley_rtcp_bye_t *bye)
{
    size_t          i, off;
    const uint8_t  *body;

    if (pkt->type != PARLEY_RTCP_BYE) {
        return PARLEY_RTP_ERR_INVAL;
    }

    body = pkt->data + PARLEY_RTCP_HEADER_LEN;
    off = 4 * (size_t) pkt->count;

    if (pkt->body_len < off) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    for (i = 0; i < pkt->count; i++) {
        bye->ssrcs[i] = parley_rtp_get32(body + 4 * i);
    }

    bye->ssrc_count = pkt->count;
    bye->reason = NULL;
    bye->reason_len = 0;

    /* RFC 3550 6.6: an optional length-prefixed reason */
    if (off == pkt->body_len) {
        return PARLEY_RTP_OK;
    }

    bye->reason_len = body[off];
    if (pkt->body_len - off - 1 < bye->reason_len) {
        bye->reason_len = 0;
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    bye->reason = body + off + 1;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_parse_fb(const parley_rtcp_packet_t *pkt, parley_rtcp_fb_t *fb)
{
    const uint8_t  *body;

    if (pkt->type != PARLEY_RTCP_RTPFB && pkt->type != PARLEY_RTCP_PSFB) {
        return PARLEY_RTP_ERR_INVAL;
    }

    if (pkt->body_len < PARLEY_RTCP_FB_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    body = pkt->data + PARLEY_RTCP_HEADER_LEN;

    fb->sender_ssrc = parley_rtp_get32(body);
    fb->media_ssrc = parley_rtp_get32(body + 4);
    fb->fci = body + PARLEY_RTCP_FB_LEN;
    fb->fci_len = pkt->body_len - PARLEY_RTCP_FB_LEN;

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_rtcp_parse_fb_of(const parley_rtcp_packet_t *pkt, uint8_t type,
    uint8_t fmt, parley_rtcp_fb_t *fb)
{
    if (pkt->type != type || pkt->count != fmt) {
        return PARLEY_RTP_ERR_INVAL;
    }

    return parley_rtcp_parse_fb(pkt, fb);
}


parley_rtp_rc_t
parley_rtcp_parse_pli(const parley_rtcp_packet_t *pkt, parley_rtcp_fb_t *fb)
{
    /* RFC 4585 6.3.1: no FCI; anything after the SSRCs is ignored */
    return parley_rtcp_parse_fb_of(pkt, PARLEY_RTCP_PSFB, PARLEY_RTCP_FMT_PLI,
                                   fb);
}


parley_rtp_rc_t
parley_rtcp_parse_nack(const parley_rtcp_packet_t *pkt, parley_rtcp_fb_t *fb,
    uint16_t *seqs, size_t cap, size_t *n)
{
    size_t           off;
    unsigned         bit;
    uint16_t         pid, blp;
    parley_rtp_rc_t  rc;

    *n = 0;

    rc = parley_rtcp_parse_fb_of(pkt, PARLEY_RTCP_RTPFB, PARLEY_RTCP_FMT_NACK,
                                 fb);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* RFC 4585 6.2.1: one or more 32-bit entries, PID then BLP */
    if (fb->fci_len == 0 || fb->fci_len % PARLEY_RTCP_NACK_ENTRY_LEN) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    for (off = 0; off < fb->fci_len; off += PARLEY_RTCP_NACK_ENTRY_LEN) {
        pid = parley_rtp_get16(fb->fci + off);
        blp = parley_rtp_get16(fb->fci + off + 2);

        /* bit i of BLP names PID + i + 1, modulo 2^16 */
        for (bit = 0; bit <= 16; bit++) {
            if (bit > 0 && !(blp & (1u << (bit - 1)))) {
                continue;
            }

            if (*n == cap) {
                return PARLEY_RTP_ERR_NOSPACE;
            }

            seqs[(*n)++] = (uint16_t) (pid + bit);
        }
    }

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_parse_fir(const parley_rtcp_packet_t *pkt, parley_rtcp_fb_t *fb,
    parley_rtcp_fir_entry_t *entries, size_t cap, size_t *n)
{
    size_t           off;
    parley_rtp_rc_t  rc;

    *n = 0;

    rc = parley_rtcp_parse_fb_of(pkt, PARLEY_RTCP_PSFB, PARLEY_RTCP_FMT_FIR,
                                 fb);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* RFC 5104 4.3.1.1: entries of SSRC, seq nr, 24 reserved bits */
    if (fb->fci_len == 0 || fb->fci_len % PARLEY_RTCP_FIR_ENTRY_LEN) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    for (off = 0; off < fb->fci_len; off += PARLEY_RTCP_FIR_ENTRY_LEN) {
        if (*n == cap) {
            return PARLEY_RTP_ERR_NOSPACE;
        }

        entries[*n].ssrc = parley_rtp_get32(fb->fci + off);
        entries[*n].seq_nr = fb->fci[off + 4];
        (*n)++;
    }

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_parse_remb(const parley_rtcp_packet_t *pkt,
    parley_rtcp_remb_t *remb)
{
    size_t            i, count;
    uint8_t           exp;
    uint32_t          mantissa;
    parley_rtp_rc_t   rc;
    parley_rtcp_fb_t  fb;

    rc = parley_rtcp_parse_fb_of(pkt, PARLEY_RTCP_PSFB, PARLEY_RTCP_FMT_AFB,
                                 &fb);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* draft-alvestrand-rmcat-remb-03 2.2: "REMB", then the bitrate */
    if (fb.fci_len < 4 || memcmp(fb.fci, "REMB", 4) != 0) {
        return PARLEY_RTP_ERR_NOT_FOUND;
    }

    if (fb.fci_len < PARLEY_RTCP_REMB_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    count = fb.fci[4];
    exp = fb.fci[5] >> 2;
    mantissa = parley_rtp_get24(fb.fci + 5) & PARLEY_RTCP_REMB_MAX_MANTISSA;

    if (fb.fci_len - PARLEY_RTCP_REMB_LEN < 4 * count) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    remb->sender_ssrc = fb.sender_ssrc;

    /* mantissa * 2^exp may exceed 64 bits with a 6-bit exponent */
    remb->bitrate = mantissa > (UINT64_MAX >> exp)
                    ? UINT64_MAX : (uint64_t) mantissa << exp;

    remb->ssrc_count = count;
    for (i = 0; i < count; i++) {
        remb->ssrcs[i] = parley_rtp_get32(fb.fci + PARLEY_RTCP_REMB_LEN
                                          + 4 * i);
    }

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_parse_twcc(const parley_rtcp_packet_t *pkt,
    parley_rtcp_twcc_t *twcc, parley_rtcp_twcc_packet_t *pkts, size_t cap)
{
    size_t                     i, doff, chunks_len;
    int64_t                    time;
    const uint8_t             *chunks, *deltas;
    parley_rtp_rc_t            rc;
    parley_rtcp_fb_t           fb;
    parley_rtcp_twcc_reader_t  r;

    twcc->packet_count = 0;

    rc = parley_rtcp_parse_fb_of(pkt, PARLEY_RTCP_RTPFB, PARLEY_RTCP_FMT_TWCC,
                                 &fb);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    if (fb.fci_len < PARLEY_RTCP_TWCC_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    twcc->sender_ssrc = fb.sender_ssrc;
    twcc->media_ssrc = fb.media_ssrc;
    twcc->base_seq = parley_rtp_get16(fb.fci);
    twcc->status_count = parley_rtp_get16(fb.fci + 2);
    twcc->ref_time = parley_rtp_get24(fb.fci + 4);
    twcc->fb_count = fb.fci[7];

    chunks = fb.fci + PARLEY_RTCP_TWCC_LEN;
    chunks_len = fb.fci_len - PARLEY_RTCP_TWCC_LEN;

    /* the deltas follow all the chunks: find them, and check they fit */
    rc = parley_rtcp_twcc_deltas_offset(chunks, chunks_len,
                                        twcc->status_count, &doff);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* second pass, now that every symbol and delta is known to be there */
    parley_rtcp_twcc_reader_init(&r, chunks, chunks_len);
    deltas = chunks + doff;
    time = (int64_t) twcc->ref_time * PARLEY_RTCP_TWCC_REF_US;

    for (i = 0; i < twcc->status_count && i < cap; i++) {
        pkts[i].seq = (uint16_t) (twcc->base_seq + i);
        parley_rtcp_twcc_read_packet(&r, &deltas, &time, &pkts[i]);
    }

    twcc->packet_count = i;

    return i < twcc->status_count ? PARLEY_RTP_ERR_NOSPACE : PARLEY_RTP_OK;
}


/*
 * One packet's status and, if received, its delta (draft 3.1.5: 8 bits
 * unsigned or 16 bits signed, in 250 us) added to the running time.
 */
static void
parley_rtcp_twcc_read_packet(parley_rtcp_twcc_reader_t *r,
    const uint8_t **deltas, int64_t *time, parley_rtcp_twcc_packet_t *e)
{
    uint8_t         sym;
    const uint8_t  *d;

    (void) parley_rtcp_twcc_read_symbol(r, &sym);

    d = *deltas;
    e->status = sym;
    e->delta = 0;
    e->arrival_us = 0;

    if (sym == PARLEY_RTCP_TWCC_NOT_RECEIVED) {
        return;
    }

    if (sym == PARLEY_RTCP_TWCC_SMALL_DELTA) {
        e->delta = d[0];
        *deltas = d + 1;

    } else {
        e->delta = (int32_t) parley_rtp_get16(d)
                   - ((d[0] & 0x80) ? 0x10000 : 0);
        *deltas = d + 2;
    }

    *time += (int64_t) e->delta * PARLEY_RTCP_TWCC_DELTA_US;
    e->arrival_us = *time;
}


/*
 * First pass over the chunks: they must cover "count" symbols, and the
 * deltas those symbols announce (1 byte for a small one, 2 for a large,
 * which is the symbol's value) must fit in what follows.
 */
static parley_rtp_rc_t
parley_rtcp_twcc_deltas_offset(const uint8_t *chunks, size_t len,
    uint16_t count, size_t *offset)
{
    size_t                     i, n, need;
    uint8_t                    sym;
    parley_rtp_rc_t            rc;
    parley_rtcp_twcc_reader_t  r;

    parley_rtcp_twcc_reader_init(&r, chunks, len);
    need = 0;

    for (i = 0; i < count; /* void */) {
        rc = parley_rtcp_twcc_read_symbol(&r, &sym);
        if (rc != PARLEY_RTP_OK) {
            return rc;
        }

        need += sym;
        i++;

        /*
         * The rest of a run at once: two bytes may stand for 8,191
         * packets, and a feedback that names 65,535 of them must cost no
         * more to check than its bytes.
         */
        if (r.kind == PARLEY_RTCP_CHUNK_RUN && r.left) {
            n = (r.left < count - i) ? r.left : count - i;
            need += n * sym;
            r.left -= (unsigned) n;
            i += n;
        }
    }

    if (len - r.offset < need) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    *offset = r.offset;

    return PARLEY_RTP_OK;
}


static void
parley_rtcp_twcc_reader_init(parley_rtcp_twcc_reader_t *r,
    const uint8_t *chunks, size_t len)
{
    r->chunks = chunks;
    r->len = len;
    r->offset = 0;
    r->chunk = 0;
    r->left = 0;
    r->kind = PARLEY_RTCP_CHUNK_RUN;
}


static parley_rtp_rc_t
parley_rtcp_twcc_read_symbol(parley_rtcp_twcc_reader_t *r, uint8_t *sym)
{
    /* a run length of 0 is legal, if useless: hence a loop */
    while (r->left == 0) {
        if (r->len - r->offset < 2) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }

        r->chunk = parley_rtp_get16(r->chunks + r->offset);
        r->offset += 2;

        /*
         * Draft 3.1.3: |0| S | run length (13) |; 3.1.4: |1|0| 14 one-bit
         * symbols | or |1|1| 7 two-bit symbols |.
         */
        if (!(r->chunk & 0x8000)) {
            r->kind = PARLEY_RTCP_CHUNK_RUN;
            r->left = r->chunk & PARLEY_RTCP_TWCC_MAX_RUN;

        } else if (!(r->chunk & 0x4000)) {
            r->kind = PARLEY_RTCP_CHUNK_ONE_BIT;
            r->left = 14;

        } else {
            r->kind = PARLEY_RTCP_CHUNK_TWO_BIT;
            r->left = 7;
        }
    }

    r->left--;

    switch (r->kind) {

    case PARLEY_RTCP_CHUNK_RUN:
        *sym = (r->chunk >> 13) & 0x03;
        break;

    case PARLEY_RTCP_CHUNK_ONE_BIT:
        *sym = (r->chunk >> r->left) & 0x01;
        break;

    default:
        *sym = (r->chunk >> (2 * r->left)) & 0x03;
        break;
    }

    return *sym == PARLEY_RTCP_TWCC_RESERVED ? PARLEY_RTP_ERR_MALFORMED
                                             : PARLEY_RTP_OK;
}


void
parley_rtcp_writer_init(parley_rtcp_writer_t *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
}


/* Room for a packet of "len" bytes at the writer's end, or NULL. */
static uint8_t *
parley_rtcp_reserve(parley_rtcp_writer_t *w, size_t len)
{
    if (w->len > w->cap || w->cap - w->len < len) {
        return NULL;
    }

    return w->buf + w->len;
}


static void
parley_rtcp_put_header(uint8_t *p, uint8_t count, uint8_t type, size_t len)
{
    p[0] = (uint8_t) ((PARLEY_RTCP_VERSION << 6) | count);
    p[1] = type;
    parley_rtp_put16(p + 2, (uint16_t) (len / 4 - 1));
}


parley_rtp_rc_t
parley_rtcp_build_sr(parley_rtcp_writer_t *w, const parley_rtcp_sr_t *sr)
{
    size_t    len;
    uint8_t  *p;

    if (sr->block_count > PARLEY_RTCP_MAX_COUNT) {
        return PARLEY_RTP_ERR_INVAL;
    }

    len = PARLEY_RTCP_HEADER_LEN + PARLEY_RTCP_SENDER_INFO_LEN
          + sr->block_count * PARLEY_RTCP_REPORT_BLOCK_LEN;

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    parley_rtcp_put_header(p, (uint8_t) sr->block_count, PARLEY_RTCP_SR, len);
    parley_rtp_put32(p + 4, sr->ssrc);
    parley_rtp_put32(p + 8, sr->ntp_sec);
    parley_rtp_put32(p + 12, sr->ntp_frac);
    parley_rtp_put32(p + 16, sr->rtp_ts);
    parley_rtp_put32(p + 20, sr->packet_count);
    parley_rtp_put32(p + 24, sr->octet_count);
    parley_rtcp_put_report_blocks(p + 28, sr->blocks, sr->block_count);

    w->len += len;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_build_rr(parley_rtcp_writer_t *w, const parley_rtcp_rr_t *rr)
{
    size_t    len;
    uint8_t  *p;

    if (rr->block_count > PARLEY_RTCP_MAX_COUNT) {
        return PARLEY_RTP_ERR_INVAL;
    }

    len = PARLEY_RTCP_HEADER_LEN + 4
          + rr->block_count * PARLEY_RTCP_REPORT_BLOCK_LEN;

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    parley_rtcp_put_header(p, (uint8_t) rr->block_count, PARLEY_RTCP_RR, len);
    parley_rtp_put32(p + 4, rr->ssrc);
    parley_rtcp_put_report_blocks(p + 8, rr->blocks, rr->block_count);

    w->len += len;

    return PARLEY_RTP_OK;
}


static void
parley_rtcp_put_report_blocks(uint8_t *p,
    const parley_rtcp_report_block_t *blocks, size_t n)
{
    size_t                             i;
    int32_t                            lost;
    const parley_rtcp_report_block_t  *rb;

    for (i = 0; i < n; i++, p += PARLEY_RTCP_REPORT_BLOCK_LEN) {
        rb = &blocks[i];

        /* RFC 3550 6.4.1: clamped to what 24 signed bits hold */
        lost = rb->cumulative_lost;
        if (lost > PARLEY_RTCP_LOST_MAX) {
            lost = PARLEY_RTCP_LOST_MAX;
        } else if (lost < PARLEY_RTCP_LOST_MIN) {
            lost = PARLEY_RTCP_LOST_MIN;
        }

        parley_rtp_put32(p, rb->ssrc);
        p[4] = rb->fraction_lost;
        parley_rtp_put24(p + 5, (uint32_t) lost & 0xffffff);
        parley_rtp_put32(p + 8, rb->ext_highest_seq);
        parley_rtp_put32(p + 12, rb->jitter);
        parley_rtp_put32(p + 16, rb->lsr);
        parley_rtp_put32(p + 20, rb->dlsr);
    }
}


parley_rtp_rc_t
parley_rtcp_build_sdes_cname(parley_rtcp_writer_t *w, uint32_t ssrc,
    const uint8_t *cname, size_t cname_len)
{
    size_t    len, used;
    uint8_t  *p;

    /* RFC 3550 6.5.1: a CNAME is never empty, its length is one octet */
    if (cname_len == 0 || cname_len > 255) {
        return PARLEY_RTP_ERR_INVAL;
    }

    /* header, SSRC, type, length, text, then at least one null octet */
    used = PARLEY_RTCP_HEADER_LEN + 4 + 2 + cname_len + 1;
    len = (used + 3) & ~(size_t) 3;

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    parley_rtcp_put_header(p, 1, PARLEY_RTCP_SDES, len);
    parley_rtp_put32(p + 4, ssrc);
    p[8] = PARLEY_RTCP_SDES_CNAME;
    p[9] = (uint8_t) cname_len;
    memcpy(p + 10, cname, cname_len);
    memset(p + 10 + cname_len, 0, len - (10 + cname_len));

    w->len += len;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_build_bye(parley_rtcp_writer_t *w, const uint32_t *ssrcs,
    size_t n, const uint8_t *reason, size_t reason_len)
{
    size_t    i, len, off;
    uint8_t  *p;

    if (n > PARLEY_RTCP_MAX_COUNT || reason_len > 255) {
        return PARLEY_RTP_ERR_INVAL;
    }

    off = PARLEY_RTCP_HEADER_LEN + 4 * n;
    len = off;
    if (reason_len > 0) {
        len = (off + 1 + reason_len + 3) & ~(size_t) 3;
    }

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    parley_rtcp_put_header(p, (uint8_t) n, PARLEY_RTCP_BYE, len);

    for (i = 0; i < n; i++) {
        parley_rtp_put32(p + PARLEY_RTCP_HEADER_LEN + 4 * i, ssrcs[i]);
    }

    /* RFC 3550 6.6: the reason is padded with nulls to 32 bits */
    if (reason_len > 0) {
        p[off] = (uint8_t) reason_len;
        memcpy(p + off + 1, reason, reason_len);
        memset(p + off + 1 + reason_len, 0, len - (off + 1 + reason_len));
    }

    w->len += len;

    return PARLEY_RTP_OK;
}


static void
parley_rtcp_put_fb(uint8_t *p, uint8_t fmt, uint8_t type, size_t len,
    uint32_t sender_ssrc, uint32_t media_ssrc)
{
    parley_rtcp_put_header(p, fmt, type, len);
    parley_rtp_put32(p + 4, sender_ssrc);
    parley_rtp_put32(p + 8, media_ssrc);
}


parley_rtp_rc_t
parley_rtcp_build_pli(parley_rtcp_writer_t *w, uint32_t sender_ssrc,
    uint32_t media_ssrc)
{
    size_t    len;
    uint8_t  *p;

    len = PARLEY_RTCP_HEADER_LEN + PARLEY_RTCP_FB_LEN;

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    parley_rtcp_put_fb(p, PARLEY_RTCP_FMT_PLI, PARLEY_RTCP_PSFB, len,
                       sender_ssrc, media_ssrc);

    w->len += len;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_build_fir(parley_rtcp_writer_t *w, uint32_t sender_ssrc,
    uint32_t media_ssrc, uint8_t *seq_nr)
{
    size_t    len;
    uint8_t  *p;

    len = PARLEY_RTCP_HEADER_LEN + PARLEY_RTCP_FB_LEN
          + PARLEY_RTCP_FIR_ENTRY_LEN;

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    /* RFC 5104 4.3.1.2: the media source field is unused, 0 */
    parley_rtcp_put_fb(p, PARLEY_RTCP_FMT_FIR, PARLEY_RTCP_PSFB, len,
                       sender_ssrc, 0);
    parley_rtp_put32(p + 12, media_ssrc);
    parley_rtp_put32(p + 16, (uint32_t) *seq_nr << 24);

    /* RFC 5104 4.3.1.1: the next request gets the next number */
    (*seq_nr)++;

    w->len += len;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_build_nack(parley_rtcp_writer_t *w, uint32_t sender_ssrc,
    uint32_t media_ssrc, const uint16_t *seqs, size_t n)
{
    size_t    len, entries;
    uint8_t  *p;

    if (n == 0) {
        return PARLEY_RTP_ERR_INVAL;
    }

    entries = parley_rtcp_nack_pack(seqs, n, NULL);
    len = PARLEY_RTCP_HEADER_LEN + PARLEY_RTCP_FB_LEN
          + entries * PARLEY_RTCP_NACK_ENTRY_LEN;

    if (len / 4 - 1 > 0xffff) {
        return PARLEY_RTP_ERR_INVAL;
    }

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    parley_rtcp_put_fb(p, PARLEY_RTCP_FMT_NACK, PARLEY_RTCP_RTPFB, len,
                       sender_ssrc, media_ssrc);
    (void) parley_rtcp_nack_pack(seqs, n, p + 12);

    w->len += len;

    return PARLEY_RTP_OK;
}


/*
 * RFC 4585 6.2.1: the first lost packet of an entry is its PID, the next
 * 16 are bits of its BLP. Counts the entries, and writes them if fci is not
 * NULL.
 */
static size_t
parley_rtcp_nack_pack(const uint16_t *seqs, size_t n, uint8_t *fci)
{
    size_t    i, entries;
    uint16_t  pid, blp, diff;

    entries = 0;
    pid = 0;
    blp = 0;

    for (i = 0; i < n; i++) {
        if (entries > 0) {
            diff = (uint16_t) (seqs[i] - pid);

            if (diff == 0) {
                continue;
            }

            if (diff <= 16) {
                blp |= (uint16_t) (1u << (diff - 1));
                continue;
            }

            if (fci != NULL) {
                parley_rtp_put16(fci + 4 * (entries - 1), pid);
                parley_rtp_put16(fci + 4 * (entries - 1) + 2, blp);
            }
        }

        pid = seqs[i];
        blp = 0;
        entries++;
    }

    if (fci != NULL && entries > 0) {
        parley_rtp_put16(fci + 4 * (entries - 1), pid);
        parley_rtp_put16(fci + 4 * (entries - 1) + 2, blp);
    }

    return entries;
}


parley_rtp_rc_t
parley_rtcp_build_remb(parley_rtcp_writer_t *w, uint32_t sender_ssrc,
    uint64_t bitrate, const uint32_t *ssrcs, size_t n)
{
    size_t    i, len;
    uint8_t  *p, exp;

    if (n > PARLEY_RTCP_REMB_MAX_SSRC) {
        return PARLEY_RTP_ERR_INVAL;
    }

    len = PARLEY_RTCP_HEADER_LEN + PARLEY_RTCP_FB_LEN + PARLEY_RTCP_REMB_LEN
          + 4 * n;

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    /* the smallest exponent whose mantissa fits 18 bits: least rounding */
    exp = 0;
    while ((bitrate >> exp) > PARLEY_RTCP_REMB_MAX_MANTISSA) {
        exp++;
    }

    /* draft-alvestrand-rmcat-remb-03 2.2: the media source is 0 */
    parley_rtcp_put_fb(p, PARLEY_RTCP_FMT_AFB, PARLEY_RTCP_PSFB, len,
                       sender_ssrc, 0);
    memcpy(p + 12, "REMB", 4);
    p[16] = (uint8_t) n;
    parley_rtp_put24(p + 17, ((uint32_t) exp << 18)
                             | (uint32_t) (bitrate >> exp));

    for (i = 0; i < n; i++) {
        parley_rtp_put32(p + 20 + 4 * i, ssrcs[i]);
    }

    w->len += len;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtcp_build_twcc(parley_rtcp_writer_t *w, uint32_t sender_ssrc,
    uint32_t media_ssrc, uint8_t fb_count,
    const parley_rtcp_twcc_arrival_t *a, size_t n)
{
    size_t           count, delta_bytes, chunk_bytes, used, len;
    uint8_t         *p;
    parley_rtp_rc_t  rc;

    rc = parley_rtcp_twcc_check(a, n, &count, &delta_bytes);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    chunk_bytes = parley_rtcp_twcc_put_chunks(a, count, NULL);

    /* draft 3.1: zero padding after the deltas, to 32 bits */
    used = PARLEY_RTCP_HEADER_LEN + PARLEY_RTCP_FB_LEN + PARLEY_RTCP_TWCC_LEN
           + chunk_bytes + delta_bytes;
    len = (used + 3) & ~(size_t) 3;

    p = parley_rtcp_reserve(w, len);
    if (p == NULL) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    parley_rtcp_put_fb(p, PARLEY_RTCP_FMT_TWCC, PARLEY_RTCP_RTPFB, len,
                       sender_ssrc, media_ssrc);
    parley_rtp_put16(p + 12, a[0].seq);
    parley_rtp_put16(p + 14, (uint16_t) count);
    parley_rtp_put24(p + 16, (uint32_t) (a[0].arrival_us
                                         / PARLEY_RTCP_TWCC_REF_US)
                             & 0xffffff);
    p[19] = fb_count;

    (void) parley_rtcp_twcc_put_chunks(a, count, p + 20);
    parley_rtcp_twcc_put_deltas(a, count, p + 20 + chunk_bytes);
    memset(p + used, 0, len - used);

    w->len += len;

    return PARLEY_RTP_OK;
}


/*
 * Checks the arrivals and sizes the feedback: "count" packets from the first
 * sequence number to the last, "delta_bytes" of receive deltas.
 */
static parley_rtp_rc_t
parley_rtcp_twcc_check(const parley_rtcp_twcc_arrival_t *a, size_t n,
    size_t *count, size_t *delta_bytes)
{
    size_t                  i, k;
    int32_t                 delta;
    uint8_t                 sym;
    uint16_t                step;
    parley_rtcp_twcc_gen_t  g;

    if (n == 0) {
        return PARLEY_RTP_ERR_INVAL;
    }

    *count = 1;

    for (i = 0; i < n; i++) {
        if (a[i].arrival_us < 0) {
            return PARLEY_RTP_ERR_INVAL;
        }

        if (i > 0) {
            /* forward by less than half the space: newer, RFC 1982 style */
            step = (uint16_t) (a[i].seq - a[i - 1].seq);
            if (step == 0 || step >= 0x8000) {
                return PARLEY_RTP_ERR_INVAL;
            }

            *count += step;
            if (*count > 0xffff) {
                return PARLEY_RTP_ERR_INVAL;
            }
        }
    }

    parley_rtcp_twcc_gen_init(&g, a);
    *delta_bytes = 0;

    for (k = 0; k < *count; k++) {
        sym = parley_rtcp_twcc_gen_next(&g, &delta);
        if (sym == PARLEY_RTCP_TWCC_RESERVED) {
            return PARLEY_RTP_ERR_INVAL;
        }
        *delta_bytes += sym;
    }

    return PARLEY_RTP_OK;
}


static void
parley_rtcp_twcc_gen_init(parley_rtcp_twcc_gen_t *g,
    const parley_rtcp_twcc_arrival_t *a)
{
    g->a = a;
    g->i = 0;
    g->seq = a[0].seq;

    /* draft 3.1: the first delta is from the reference time, in 64 ms */
    g->time = a[0].arrival_us / PARLEY_RTCP_TWCC_REF_US
              * (PARLEY_RTCP_TWCC_REF_US / PARLEY_RTCP_TWCC_DELTA_US);
}


/*
 * The symbol of the next sequence number and its delta, if received; the
 * reserved symbol when the delta does not fit in 16 bits. The caller asks
 * for no more symbols than the arrivals span.
 */
static uint8_t
parley_rtcp_twcc_gen_next(parley_rtcp_twcc_gen_t *g, int32_t *delta)
{
    int64_t  t, d;

    if (g->a[g->i].seq != g->seq++) {
        *delta = 0;
        return PARLEY_RTCP_TWCC_NOT_RECEIVED;
    }

    /* deltas between quantised times, so rounding errors never add up */
    t = g->a[g->i++].arrival_us / PARLEY_RTCP_TWCC_DELTA_US;
    d = t - g->time;
    g->time = t;
    *delta = (int32_t) d;

    if (d >= 0 && d <= 0xff) {
        return PARLEY_RTCP_TWCC_SMALL_DELTA;
    }

    if (d >= INT16_MIN && d <= INT16_MAX) {
        return PARLEY_RTCP_TWCC_LARGE_DELTA;
    }

    *delta = 0;
    return PARLEY_RTCP_TWCC_RESERVED;
}


/*
 * Encodes the symbols of "count" packets into chunks (or only sizes them
 * when out is NULL). Simple rather than smallest: a run of 14 or more
 * equal symbols, or the equal symbols that end the list, take a run-length
 * chunk; otherwise a status vector chunk takes the next symbols.
 */
static size_t
parley_rtcp_twcc_put_chunks(const parley_rtcp_twcc_arrival_t *a,
    size_t count, uint8_t *out)
{
    size_t                  k, run, taken, bytes;
    int32_t                 delta;
    uint8_t                 sym;
    uint16_t                chunk;
    parley_rtcp_twcc_gen_t  g, peek;

    parley_rtcp_twcc_gen_init(&g, a);
    k = 0;
    bytes = 0;

    while (k < count) {
        peek = g;
        sym = parley_rtcp_twcc_gen_next(&peek, &delta);
        run = 1;

        while (k + run < count && run < PARLEY_RTCP_TWCC_MAX_RUN) {
            if (parley_rtcp_twcc_gen_next(&peek, &delta) != sym) {
                break;
            }
            run++;
        }

        if (run >= 14 || k + run == count) {
            chunk = (uint16_t) ((sym << 13) | run);
            for (taken = 0; taken < run; taken++) {
                (void) parley_rtcp_twcc_gen_next(&g, &delta);
            }

        } else {
            chunk = parley_rtcp_twcc_vector_chunk(&g, count - k, &taken);
        }

        if (out != NULL) {
            parley_rtp_put16(out + bytes, chunk);
        }

        bytes += 2;
        k += taken;
    }

    return bytes;
}


/*
 * A status vector chunk (draft 3.1.4) of the next symbols: 14 one-bit ones
 * when none of them is a large delta, else 7 two-bit ones. Symbols past
 * the end are "not received"; the status count tells the reader to ignore
 * them.
 */
static uint16_t
parley_rtcp_twcc_vector_chunk(parley_rtcp_twcc_gen_t *g, size_t left,
    size_t *taken)
{
    size_t                  i, n;
    int32_t                 delta;
    uint16_t                chunk;
    parley_rtcp_twcc_gen_t  peek;

    n = left < 14 ? left : 14;
    peek = *g;

    for (i = 0; i < n; i++) {
        if (parley_rtcp_twcc_gen_next(&peek, &delta)
            == PARLEY_RTCP_TWCC_LARGE_DELTA)
        {
            break;
        }
    }

    if (i == n) {
        chunk = 0x8000;
        for (i = 0; i < n; i++) {
            chunk |= (uint16_t) (parley_rtcp_twcc_gen_next(g, &delta)
                                 << (13 - i));
        }

    } else {
        n = left < 7 ? left : 7;
        chunk = 0xc000;
        for (i = 0; i < n; i++) {
            chunk |= (uint16_t) (parley_rtcp_twcc_gen_next(g, &delta)
                                 << (12 - 2 * i));
        }
    }

    *taken = n;

    return chunk;
}


static void
parley_rtcp_twcc_put_deltas(const parley_rtcp_twcc_arrival_t *a,
    size_t count, uint8_t *out)
{
    size_t                  k;
    int32_t                 delta;
    uint8_t                 sym;
    parley_rtcp_twcc_gen_t  g;

    parley_rtcp_twcc_gen_init(&g, a);

    for (k = 0; k < count; k++) {
        sym = parley_rtcp_twcc_gen_next(&g, &delta);

        if (sym == PARLEY_RTCP_TWCC_SMALL_DELTA) {
            *out++ = (uint8_t) delta;

        } else if (sym == PARLEY_RTCP_TWCC_LARGE_DELTA) {
            parley_rtp_put16(out, (uint16_t) delta);
            out += 2;
        }
    }
}


void
parley_rtcp_report_block_from_stats(parley_rtp_stats_t *s, uint32_t ssrc,
    uint64_t now_us, parley_rtcp_report_block_t *rb)
{
    int64_t   lost;
    uint32_t  expected, expected_interval, received_interval;

    memset(rb, 0, sizeof(*rb));
    rb->ssrc = ssrc;

    if (!s->started || s->probation) {
        return;
    }

    rb->ext_highest_seq = parley_rtp_stats_ext_highest_seq(s);
    rb->jitter = s->jitter >> 4;

    /* RFC 3550 A.3, in 32-bit arithmetic as the counters wrap */
    expected = rb->ext_highest_seq - s->base_seq + 1;
    lost = (int64_t) expected - s->received;

    rb->cumulative_lost = lost > PARLEY_RTCP_LOST_MAX ? PARLEY_RTCP_LOST_MAX
                          : lost < PARLEY_RTCP_LOST_MIN ? PARLEY_RTCP_LOST_MIN
                          : (int32_t) lost;

    expected_interval = expected - s->expected_prior;
    received_interval = s->received - s->received_prior;
    s->expected_prior = expected;
    s->received_prior = s->received;

    rb->fraction_lost = parley_rtcp_fraction_lost(expected_interval,
                                                  received_interval);

    parley_rtcp_report_block_delay(s, now_us, rb);
}


static uint8_t
parley_rtcp_fraction_lost(uint32_t expected, uint32_t received)
{
    int64_t   lost;
    uint64_t  fraction;

    /* RFC 3550 A.3: duplicates can make the loss negative, it reads 0 */
    lost = (int64_t) expected - received;
    if (expected == 0 || lost <= 0) {
        return 0;
    }

    /* a fixed-point fraction with the binary point at the left edge */
    fraction = ((uint64_t) lost << 8) / expected;

    return fraction > 0xff ? 0xff : (uint8_t) fraction;
}


static void
parley_rtcp_report_block_delay(const parley_rtp_stats_t *s, uint64_t now_us,
    parley_rtcp_report_block_t *rb)
{
    uint64_t  delay_us, dlsr;

    /* RFC 3550 6.4.1: LSR and DLSR are 0 until a sender report came */
    if (s->last_sr == 0 && s->last_sr_us == 0) {
        return;
    }

    rb->lsr = s->last_sr;

    /* DLSR counts 1/65536 seconds */
    delay_us = now_us > s->last_sr_us ? now_us - s->last_sr_us : 0;
    dlsr = (delay_us / 1000000) * 65536
           + (delay_us % 1000000) * 65536 / 1000000;

    rb->dlsr = dlsr > UINT32_MAX ? UINT32_MAX : (uint32_t) dlsr;
}


uint32_t
parley_rtcp_ntp_middle(uint32_t ntp_sec, uint32_t ntp_frac)
{
    return (ntp_sec << 16) | (ntp_frac >> 16);
}
