/*
 * RTP packets, header extensions, RTX and receiver statistics: see
 * parley_rtp.h.
 *
 * Pattern throughout: every "len - off < n" test is made with off <= len
 * already known, so it cannot wrap, before buf[off .. off + n) is touched.
 */

#include <string.h>

#include "parley_rtp.h"


#define PARLEY_RTP_SEQ_MOD          (1u << 16)

/* RFC 3550 A.1: the constants its example uses */
#define PARLEY_RTP_MAX_DROPOUT      3000
#define PARLEY_RTP_MAX_MISORDER     100
#define PARLEY_RTP_MIN_SEQUENTIAL   2


static parley_rtp_rc_t parley_rtp_parse_extension(const uint8_t *buf,
    size_t len, size_t *off, parley_rtp_header_t *h);
static parley_rtp_rc_t parley_rtp_parse_padding(const uint8_t *buf,
    size_t len, parley_rtp_header_t *h);
static int parley_rtp_header_fits(const parley_rtp_header_t *h, size_t len);
static parley_rtp_rc_t parley_rtp_ext_next_one_byte(const uint8_t *buf,
    parley_rtp_ext_iter_t *it, parley_rtp_ext_t *ext);
static parley_rtp_rc_t parley_rtp_ext_next_two_byte(const uint8_t *buf,
    parley_rtp_ext_iter_t *it, parley_rtp_ext_t *ext);
static void parley_rtp_stats_restart(parley_rtp_stats_t *s, uint16_t seq);
static int parley_rtp_stats_probation(parley_rtp_stats_t *s, uint16_t seq);
static int parley_rtp_stats_update_seq(parley_rtp_stats_t *s, uint16_t seq);
static void parley_rtp_stats_update_jitter(parley_rtp_stats_t *s,
    uint32_t ts, uint64_t now_us);


const char *
parley_rtp_rc_str(parley_rtp_rc_t rc)
{
    switch (rc) {

    case PARLEY_RTP_OK:
        return "ok";
    case PARLEY_RTP_DONE:
        return "done";
    case PARLEY_RTP_ERR_TRUNCATED:
        return "truncated";
    case PARLEY_RTP_ERR_VERSION:
        return "bad version";
    case PARLEY_RTP_ERR_PADDING:
        return "bad padding";
    case PARLEY_RTP_ERR_MALFORMED:
        return "malformed";
    case PARLEY_RTP_ERR_NOT_FOUND:
        return "not found";
    case PARLEY_RTP_ERR_NOSPACE:
        return "no space";
    case PARLEY_RTP_ERR_INVAL:
        return "invalid argument";
    }

    return "unknown error";
}


parley_rtp_rc_t
parley_rtp_parse(const uint8_t *buf, size_t len, parley_rtp_header_t *h)
{
    size_t           off;
    parley_rtp_rc_t  rc;

    if (len < PARLEY_RTP_HEADER_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    if (buf[0] >> 6 != PARLEY_RTP_VERSION) {
        return PARLEY_RTP_ERR_VERSION;
    }

    h->padding = (buf[0] >> 5) & 1;
    h->extension = (buf[0] >> 4) & 1;
    h->csrc_count = buf[0] & 0x0f;
    h->marker = buf[1] >> 7;
    h->payload_type = buf[1] & 0x7f;
    h->seq = parley_rtp_get16(buf + 2);
    h->ts = parley_rtp_get32(buf + 4);
    h->ssrc = parley_rtp_get32(buf + 8);

    h->ext_profile = 0;
    h->ext_offset = 0;
    h->ext_len = 0;
    h->padding_len = 0;

    off = PARLEY_RTP_HEADER_LEN + 4 * (size_t) h->csrc_count;
    if (off > len) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    if (h->extension) {
        rc = parley_rtp_parse_extension(buf, len, &off, h);
        if (rc != PARLEY_RTP_OK) {
            return rc;
        }
    }

    h->payload_offset = off;
    h->payload_len = len - off;

    if (h->padding) {
        return parley_rtp_parse_padding(buf, len, h);
    }

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_rtp_parse_extension(const uint8_t *buf, size_t len, size_t *off,
    parley_rtp_header_t *h)
{
    /* RFC 3550 5.3.1: 16 bits profile-defined, 16 bits length in words */
    if (len - *off < 4) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    h->ext_profile = parley_rtp_get16(buf + *off);
    h->ext_len = 4 * (size_t) parley_rtp_get16(buf + *off + 2);
    h->ext_offset = *off + 4;

    if (len - h->ext_offset < h->ext_len) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    *off = h->ext_offset + h->ext_len;

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_rtp_parse_padding(const uint8_t *buf, size_t len,
    parley_rtp_header_t *h)
{
    size_t  pad;

    /*
     * RFC 3550 5.1: the last octet counts the padding, itself included, so
     * it is never 0 and never reaches into the header. It may cover the
     * whole payload: RTX padding packets (bandwidth probes) are all padding.
     */
    if (h->payload_len == 0) {
        return PARLEY_RTP_ERR_PADDING;
    }

    pad = buf[len - 1];
    if (pad == 0 || pad > h->payload_len) {
        return PARLEY_RTP_ERR_PADDING;
    }

    h->padding_len = pad;
    h->payload_len -= pad;

    return PARLEY_RTP_OK;
}


/* A header parsed from another buffer must not lead us outside this one. */
static int
parley_rtp_header_fits(const parley_rtp_header_t *h, size_t len)
{
    return h->payload_offset >= PARLEY_RTP_HEADER_LEN
           && h->payload_offset <= len
           && len - h->payload_offset >= h->payload_len
           && h->ext_offset <= len
           && len - h->ext_offset >= h->ext_len;
}


parley_rtp_rc_t
parley_rtp_set_seq(uint8_t *buf, size_t len, uint16_t seq)
{
    if (len < PARLEY_RTP_HEADER_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    parley_rtp_put16(buf + 2, seq);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_set_ts(uint8_t *buf, size_t len, uint32_t ts)
{
    if (len < PARLEY_RTP_HEADER_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    parley_rtp_put32(buf + 4, ts);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_set_ssrc(uint8_t *buf, size_t len, uint32_t ssrc)
{
    if (len < PARLEY_RTP_HEADER_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    parley_rtp_put32(buf + 8, ssrc);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_set_payload_type(uint8_t *buf, size_t len, uint8_t pt)
{
    if (len < PARLEY_RTP_HEADER_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    if (pt > 0x7f) {
        return PARLEY_RTP_ERR_INVAL;
    }

    buf[1] = (uint8_t) ((buf[1] & 0x80) | pt);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_set_marker(uint8_t *buf, size_t len, unsigned marker)
{
    if (len < PARLEY_RTP_HEADER_LEN) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    buf[1] = (uint8_t) ((buf[1] & 0x7f) | (marker ? 0x80 : 0));

    return PARLEY_RTP_OK;
}


void
parley_rtp_ext_iter_init(const parley_rtp_header_t *h,
    parley_rtp_ext_iter_t *it)
{
    it->offset = h->ext_offset;
    it->end = h->ext_offset + h->ext_len;
    it->two_byte = (h->ext_profile & 0xfff0) == PARLEY_RTP_EXT_TWO_BYTE;
    it->rfc8285 = h->extension
                  && (h->ext_profile == PARLEY_RTP_EXT_ONE_BYTE
                      || it->two_byte);
}


parley_rtp_rc_t
parley_rtp_ext_next(const uint8_t *buf, size_t len, parley_rtp_ext_iter_t *it,
    parley_rtp_ext_t *ext)
{
    if (!it->rfc8285) {
        return PARLEY_RTP_DONE;
    }

    if (it->end > len || it->offset > it->end) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    /* RFC 8285 4.1: zero bytes are padding, between or after elements */
    while (it->offset < it->end && buf[it->offset] == 0) {
        it->offset++;
    }

    if (it->offset == it->end) {
        return PARLEY_RTP_DONE;
    }

    if (it->two_byte) {
        return parley_rtp_ext_next_two_byte(buf, it, ext);
    }

    return parley_rtp_ext_next_one_byte(buf, it, ext);
}


static parley_rtp_rc_t
parley_rtp_ext_next_one_byte(const uint8_t *buf, parley_rtp_ext_iter_t *it,
    parley_rtp_ext_t *ext)
{
    uint8_t  id;
    size_t   vlen;

    id = buf[it->offset] >> 4;
    vlen = (size_t) (buf[it->offset] & 0x0f) + 1;

    /*
     * RFC 8285 4.2: ID 15 ends processing of the whole block, only the
     * elements before it count. ID 0 is reserved for the padding byte, so a
     * non-zero byte with ID 0 is no element at all.
     */
    if (id == 15) {
        it->offset = it->end;
        return PARLEY_RTP_DONE;
    }

    if (id == 0 || it->end - it->offset - 1 < vlen) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    ext->id = id;
    ext->offset = it->offset + 1;
    ext->len = vlen;
    it->offset += 1 + vlen;

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_rtp_ext_next_two_byte(const uint8_t *buf, parley_rtp_ext_iter_t *it,
    parley_rtp_ext_t *ext)
{
    size_t  vlen;

    /* RFC 8285 4.3: an 8-bit ID, an 8-bit length, then 0..255 bytes */
    if (it->end - it->offset < 2) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    vlen = buf[it->offset + 1];
    if (it->end - it->offset - 2 < vlen) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    ext->id = buf[it->offset];
    ext->offset = it->offset + 2;
    ext->len = vlen;
    it->offset += 2 + vlen;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_ext_find(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, parley_rtp_ext_t *ext)
{
    parley_rtp_rc_t        rc;
    parley_rtp_ext_iter_t  it;

    if (id == 0) {
        return PARLEY_RTP_ERR_INVAL;
    }

    parley_rtp_ext_iter_init(h, &it);

    for ( ;; ) {
        rc = parley_rtp_ext_next(buf, len, &it, ext);

        if (rc == PARLEY_RTP_DONE) {
            return PARLEY_RTP_ERR_NOT_FOUND;
        }

        if (rc != PARLEY_RTP_OK || ext->id == id) {
            return rc;
        }
    }
}


parley_rtp_rc_t
parley_rtp_ext_string(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, const uint8_t **s,
    size_t *slen)
{
    parley_rtp_rc_t   rc;
    parley_rtp_ext_t  ext;

    rc = parley_rtp_ext_find(buf, len, h, id, &ext);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* RFC 7941 4.1: the SDES item text; an empty MID or RID names nothing */
    if (ext.len == 0) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    *s = buf + ext.offset;
    *slen = ext.len;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_ext_audio_level(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, parley_rtp_audio_level_t *al)
{
    parley_rtp_rc_t   rc;
    parley_rtp_ext_t  ext;

    rc = parley_rtp_ext_find(buf, len, h, id, &ext);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* RFC 6464 3: one byte, V then a 7-bit level in -dBov */
    if (ext.len != 1) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    al->voice = buf[ext.offset] >> 7;
    al->level = buf[ext.offset] & 0x7f;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_ext_abs_send_time(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, uint32_t *ast)
{
    parley_rtp_rc_t   rc;
    parley_rtp_ext_t  ext;

    rc = parley_rtp_ext_find(buf, len, h, id, &ext);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /* abs-send-time: 24 bits, seconds in 6.18 fixed point */
    if (ext.len != 3) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    *ast = parley_rtp_get24(buf + ext.offset);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_ext_twcc_seq(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, uint16_t *seq)
{
    parley_rtp_rc_t   rc;
    parley_rtp_ext_t  ext;

    rc = parley_rtp_ext_find(buf, len, h, id, &ext);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /*
     * draft-holmer-rmcat-transport-wide-cc-extensions-01 2: a 16-bit
     * sequence number; version 2 of the extension may add 2 bytes after it.
     */
    if (ext.len < 2) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    *seq = parley_rtp_get16(buf + ext.offset);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_ext_write(uint8_t *buf, size_t len, const parley_rtp_header_t *h,
    uint8_t id, const uint8_t *val, size_t vlen)
{
    parley_rtp_rc_t   rc;
    parley_rtp_ext_t  ext;

    rc = parley_rtp_ext_find(buf, len, h, id, &ext);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    if (ext.len != vlen) {
        return PARLEY_RTP_ERR_INVAL;
    }

    memcpy(buf + ext.offset, val, vlen);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_ext_set_twcc_seq(uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, uint16_t seq)
{
    uint8_t  val[2];

    parley_rtp_put16(val, seq);

    return parley_rtp_ext_write(buf, len, h, id, val, sizeof(val));
}


parley_rtp_rc_t
parley_rtp_ext_set_abs_send_time(uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, uint32_t ast)
{
    uint8_t  val[3];

    parley_rtp_put24(val, ast & 0xffffff);

    return parley_rtp_ext_write(buf, len, h, id, val, sizeof(val));
}


parley_rtp_rc_t
parley_rtp_rtx_osn(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint16_t *osn)
{
    if (!parley_rtp_header_fits(h, len)) {
        return PARLEY_RTP_ERR_INVAL;
    }

    /* RFC 4588 4: the RTX payload starts with the original seq number */
    if (h->payload_len < PARLEY_RTP_RTX_OSN_LEN) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    *osn = parley_rtp_get16(buf + h->payload_offset);

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_rtp_rtx_unwrap(uint8_t *buf, size_t len, const parley_rtp_header_t *h,
    uint8_t apt, uint32_t ssrc, uint8_t **out, size_t *out_len,
    parley_rtp_header_t *orig)
{
    uint8_t          *pkt;
    uint16_t          osn;
    parley_rtp_rc_t   rc;

    if (apt > 0x7f) {
        return PARLEY_RTP_ERR_INVAL;
    }

    rc = parley_rtp_rtx_osn(buf, len, h, &osn);
    if (rc != PARLEY_RTP_OK) {
        return rc;
    }

    /*
     * Sliding the header (usually under 40 bytes) over the OSN leaves the
     * payload and the padding where they are: no copy of the payload.
     */
    pkt = buf + PARLEY_RTP_RTX_OSN_LEN;
    memmove(pkt, buf, h->payload_offset);

    parley_rtp_put16(pkt + 2, osn);
    pkt[1] = (uint8_t) ((pkt[1] & 0x80) | apt);
    parley_rtp_put32(pkt + 8, ssrc);

    *out = pkt;
    *out_len = len - PARLEY_RTP_RTX_OSN_LEN;

    return parley_rtp_parse(pkt, *out_len, orig);
}


parley_rtp_rc_t
parley_rtp_rtx_wrap(const uint8_t *orig, size_t orig_len,
    const parley_rtp_header_t *h, uint8_t rtx_pt, uint32_t rtx_ssrc,
    uint16_t rtx_seq, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t  hlen, need;

    if (rtx_pt > 0x7f || !parley_rtp_header_fits(h, orig_len)) {
        return PARLEY_RTP_ERR_INVAL;
    }

    hlen = h->payload_offset;
    need = hlen + PARLEY_RTP_RTX_OSN_LEN + h->payload_len;

    if (cap < need) {
        return PARLEY_RTP_ERR_NOSPACE;
    }

    memcpy(out, orig, hlen);

    /* the original padding is not carried over: clear P */
    out[0] &= (uint8_t) ~0x20;
    out[1] = (uint8_t) ((out[1] & 0x80) | rtx_pt);
    parley_rtp_put16(out + 2, rtx_seq);
    parley_rtp_put32(out + 8, rtx_ssrc);

    parley_rtp_put16(out + hlen, h->seq);
    memcpy(out + hlen + PARLEY_RTP_RTX_OSN_LEN, orig + h->payload_offset,
           h->payload_len);

    *out_len = need;

    return PARLEY_RTP_OK;
}


void
parley_rtp_stats_init(parley_rtp_stats_t *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof(*s));
    s->clock_rate = clock_rate;
}


int
parley_rtp_stats_update(parley_rtp_stats_t *s, uint16_t seq, uint32_t ts,
    uint64_t now_us)
{
    /* RFC 3550 A.1: a new source starts on probation */
    if (!s->started) {
        parley_rtp_stats_restart(s, seq);
        s->max_seq = (uint16_t) (seq - 1);
        s->probation = PARLEY_RTP_MIN_SEQUENTIAL;
        s->started = 1;
    }

    if (!parley_rtp_stats_update_seq(s, seq)) {
        return 0;
    }

    parley_rtp_stats_update_jitter(s, ts, now_us);

    return 1;
}


static void
parley_rtp_stats_restart(parley_rtp_stats_t *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = PARLEY_RTP_SEQ_MOD + 1;   /* matches no 16-bit seq */
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
}


static int
parley_rtp_stats_update_seq(parley_rtp_stats_t *s, uint16_t seq)
{
    uint16_t  udelta;

    if (s->probation) {
        return parley_rtp_stats_probation(s, seq);
    }

    udelta = (uint16_t) (seq - s->max_seq);

    if (udelta < PARLEY_RTP_MAX_DROPOUT) {
        /* in order, perhaps after a gap: a smaller seq means a wrap */
        if (seq < s->max_seq) {
            s->cycles += PARLEY_RTP_SEQ_MOD;
        }
        s->max_seq = seq;

    } else if (udelta <= PARLEY_RTP_SEQ_MOD - PARLEY_RTP_MAX_MISORDER) {
        /*
         * A very large jump. RFC 3550 A.1: believe it only when the next
         * packet follows it, then the sender restarted without telling us.
         */
        if (seq != s->bad_seq) {
            s->bad_seq = (seq + 1u) & (PARLEY_RTP_SEQ_MOD - 1);
            return 0;
        }

        parley_rtp_stats_restart(s, seq);
    }

    /* otherwise a duplicate or a late packet: counted, max_seq unchanged */
    s->received++;

    return 1;
}


static int
parley_rtp_stats_probation(parley_rtp_stats_t *s, uint16_t seq)
{
    /* RFC 3550 A.1: valid after MIN_SEQUENTIAL packets in sequence */
    if (seq != (uint16_t) (s->max_seq + 1)) {
        s->probation = PARLEY_RTP_MIN_SEQUENTIAL - 1;
        s->max_seq = seq;
        return 0;
    }

    s->probation--;
    s->max_seq = seq;

    if (s->probation > 0) {
        return 0;
    }

    parley_rtp_stats_restart(s, seq);
    s->received++;

    return 1;
}


static void
parley_rtp_stats_update_jitter(parley_rtp_stats_t *s, uint32_t ts,
    uint64_t now_us)
{
    uint32_t  arrival, transit, d;
    uint64_t  j;

    if (s->clock_rate == 0) {
        return;
    }

    /* the arrival time in RTP units, without overflowing 64 bits */
    arrival = (uint32_t) ((now_us / 1000000) * s->clock_rate
                          + (now_us % 1000000) * s->clock_rate / 1000000);

    /* RFC 3550 A.8: wrapping differences of 32-bit clocks */
    transit = arrival - ts;

    if (s->have_transit) {
        d = transit - s->transit;
        if (d & 0x80000000) {
            d = 0u - d;
        }

        /* J += (|D| - J) / 16, kept scaled by 16 to stay in integers */
        j = (uint64_t) s->jitter + d - ((s->jitter + 8) >> 4);
        s->jitter = j > UINT32_MAX ? UINT32_MAX : (uint32_t) j;
    }

    s->transit = transit;
    s->have_transit = 1;
}


void
parley_rtp_stats_on_sr(parley_rtp_stats_t *s, uint32_t ntp_middle,
    uint64_t now_us)
{
    s->last_sr = ntp_middle;
    s->last_sr_us = now_us;
}


uint32_t
parley_rtp_stats_ext_highest_seq(const parley_rtp_stats_t *s)
{
    return s->cycles + s->max_seq;
}
