/*
 * RTCP compound packets, reports and feedback messages: see parley_rtcp.h.
 *
 * As in parley_rtp.c, "len - off < n" is only ever tested with off <= len
 * known, so it cannot wrap, before body[off .. off + n) is read.
 */

#include <string.h>

#include "parley_rtcp.h"
#include "parley_rtcp_int.h"


#define PARLEY_RTCP_REPORT_BLOCK_LEN  24   /* RFC 3550 6.4.1 */
#define PARLEY_RTCP_SENDER_INFO_LEN   24   /* SSRC and sender info */
#define PARLEY_RTCP_FIR_ENTRY_LEN     8
#define PARLEY_RTCP_NACK_ENTRY_LEN    4
#define PARLEY_RTCP_REMB_LEN          8    /* "REMB", num, exp, mantissa */

#define PARLEY_RTCP_REMB_MAX_MANTISSA 0x3ffff

#define PARLEY_RTCP_LOST_MAX          0x7fffff
#define PARLEY_RTCP_LOST_MIN          (-0x800000)


static parley_rtp_rc_t parley_rtcp_check_padding(const uint8_t *p,
    size_t plen, int last, size_t *body_len);
static parley_rtp_rc_t parley_rtcp_parse_report_blocks(const uint8_t *p,
    size_t len, size_t count, parley_rtcp_report_block_t *blocks);
static void parley_rtcp_parse_report_block(const uint8_t *p,
    parley_rtcp_report_block_t *rb);
static parley_rtp_rc_t parley_rtcp_parse_sdes_chunk(const uint8_t *body,
    size_t len, size_t *off, parley_rtcp_sdes_chunk_t *chunk);
static void parley_rtcp_put_header(uint8_t *p, uint8_t count, uint8_t type,
    size_t len);
static void parley_rtcp_put_report_blocks(uint8_t *p,
    const parley_rtcp_report_block_t *blocks, size_t n);
static size_t parley_rtcp_nack_pack(const uint16_t *seqs, size_t n,
    uint8_t *fci);
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


parley_rtp_rc_t
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


void
parley_rtcp_writer_init(parley_rtcp_writer_t *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
}


/* Room for a packet of "len" bytes at the writer's end, or NULL. */
uint8_t *
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


void
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
