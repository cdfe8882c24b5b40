/*
 * Transport-wide congestion control feedback (draft-holmer-rmcat-transport-
 * wide-cc-extensions-01 3.1): reading a feedback packet's chunks and
 * deltas, and writing them from a list of arrivals. See parley_rtcp.h.
 *
 * As in parley_rtcp.c, "len - off < n" is only ever tested with off <= len
 * known, so it cannot wrap, before body[off .. off + n) is read.
 */

#include <string.h>

#include "parley_rtcp.h"
#include "parley_rtcp_int.h"


#define PARLEY_RTCP_TWCC_LEN          8    /* base, count, ref, fb count */
#define PARLEY_RTCP_TWCC_RESERVED     3
#define PARLEY_RTCP_TWCC_MAX_RUN      0x1fff


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


static void parley_rtcp_twcc_reader_init(parley_rtcp_twcc_reader_t *r,
    const uint8_t *chunks, size_t len);
static parley_rtp_rc_t parley_rtcp_twcc_read_symbol(
    parley_rtcp_twcc_reader_t *r, uint8_t *sym);
static parley_rtp_rc_t parley_rtcp_twcc_deltas_offset(const uint8_t *chunks,
    size_t len, uint16_t count, size_t *offset);
static void parley_rtcp_twcc_read_packet(parley_rtcp_twcc_reader_t *r,
    const uint8_t **deltas, int64_t *time, parley_rtcp_twcc_packet_t *e);
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
