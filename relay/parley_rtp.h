/*
 * RTP packets (RFC 3550) as the SFU sees them: parsed in place, rewritten in
 * place, never copied unless the caller asks for a new packet (RTX wrap).
 *
 * Everything here works on (buf, len) that the caller owns. The parsed
 * header keeps offsets into that buffer, not pointers, so the same parse
 * serves a read-only look and an in-place rewrite. Nothing allocates, nothing
 * does I/O, and no function reads outside [buf, buf + len) whatever the
 * bytes say: every length field is checked before it is followed.
 *
 * Also here: the receiver statistics of RFC 3550 A.1/A.8. What is inside a
 * payload, codec by codec, is parley_codec.h's.
 */

#ifndef _PARLEY_RTP_H_INCLUDED_
#define _PARLEY_RTP_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define PARLEY_RTP_VERSION          2
#define PARLEY_RTP_HEADER_LEN       12     /* fixed header, no CSRC */
#define PARLEY_RTP_MAX_CSRC         15

/* RFC 8285 4.2 and 4.3: the "defined by profile" values of the two forms */
#define PARLEY_RTP_EXT_ONE_BYTE     0xbede
#define PARLEY_RTP_EXT_TWO_BYTE     0x1000 /* low 4 bits are "appbits" */

#define PARLEY_RTP_EXT_MAX_ID_ONE   14
#define PARLEY_RTP_EXT_MAX_ID_TWO   255

#define PARLEY_RTP_RTX_OSN_LEN      2      /* RFC 4588 4 */


/*
 * Shared by the RTP and RTCP code. PARLEY_RTP_DONE ends an iteration and is
 * not an error; every PARLEY_RTP_ERR_* is.
 */
typedef enum {
    PARLEY_RTP_OK = 0,
    PARLEY_RTP_DONE,
    PARLEY_RTP_ERR_TRUNCATED,      /* a field runs past the end */
    PARLEY_RTP_ERR_VERSION,        /* version is not 2 */
    PARLEY_RTP_ERR_PADDING,        /* padding count zero or too large */
    PARLEY_RTP_ERR_MALFORMED,      /* fields that contradict each other */
    PARLEY_RTP_ERR_NOT_FOUND,      /* no such extension, not an error */
    PARLEY_RTP_ERR_NOSPACE,        /* caller's buffer or array too small */
    PARLEY_RTP_ERR_INVAL           /* bad argument from the caller */
} parley_rtp_rc_t;


/* RFC 3550 5.1; offsets are from the first byte of the packet. */
typedef struct {
    unsigned   padding:1;
    unsigned   extension:1;
    unsigned   marker:1;
    uint8_t    csrc_count;
    uint8_t    payload_type;
    uint16_t   seq;
    uint32_t   ts;
    uint32_t   ssrc;

    uint16_t   ext_profile;        /* 0 when there is no extension */
    size_t     ext_offset;         /* first byte after the 4-byte ext header */
    size_t     ext_len;            /* bytes of extension data */

    size_t     payload_offset;
    size_t     payload_len;        /* without the padding */
    size_t     padding_len;        /* including the count octet */
} parley_rtp_header_t;


/* One RFC 8285 extension element: its value is buf[offset .. offset+len). */
typedef struct {
    uint8_t    id;
    size_t     offset;
    size_t     len;
} parley_rtp_ext_t;


typedef struct {
    size_t     offset;             /* next element */
    size_t     end;
    unsigned   two_byte:1;
    unsigned   rfc8285:1;          /* 0: the profile is not RFC 8285's */
} parley_rtp_ext_iter_t;


/* RFC 6464 3 */
typedef struct {
    unsigned   voice:1;            /* the V bit: sender thinks it is speech */
    uint8_t    level;              /* 0..127, -dBov: 0 is loudest */
} parley_rtp_audio_level_t;


/*
 * Receiver statistics for one SSRC: RFC 3550 A.1 (sequence numbers with
 * probation and wrap), A.3 (loss since the last report) and A.8 (jitter).
 * Initialise with parley_rtp_stats_init(), feed every received packet to
 * parley_rtp_stats_update(); parley_rtcp_report_block_from_stats() turns it
 * into a report block.
 */
typedef struct {
    uint32_t   clock_rate;         /* of the RTP timestamps, Hz */
    uint16_t   max_seq;            /* highest sequence number seen */
    uint32_t   cycles;             /* wraps of max_seq, shifted left 16 */
    uint32_t   base_seq;
    uint32_t   bad_seq;            /* the next seq after a big jump */
    uint32_t   probation;          /* sequential packets still to see */
    uint32_t   received;
    uint32_t   expected_prior;
    uint32_t   received_prior;
    uint32_t   transit;            /* of the last packet, in RTP units */
    uint32_t   jitter;             /* scaled by 16, RFC 3550 A.8 */
    uint32_t   last_sr;            /* middle 32 bits of its NTP time */
    uint64_t   last_sr_us;         /* when it arrived */
    unsigned   started:1;
    unsigned   have_transit:1;
} parley_rtp_stats_t;


const char *parley_rtp_rc_str(parley_rtp_rc_t rc);

/*
 * Parses the header of an RTP packet (RFC 3550 5.1) and checks every
 * length in it. Padding-only packets (payload_len 0), which browsers send to
 * probe bandwidth, are valid.
 */
parley_rtp_rc_t parley_rtp_parse(const uint8_t *buf, size_t len,
    parley_rtp_header_t *h);

/* Rewrite fields of a packet in place; buf must hold a full fixed header. */
parley_rtp_rc_t parley_rtp_set_seq(uint8_t *buf, size_t len, uint16_t seq);
parley_rtp_rc_t parley_rtp_set_ts(uint8_t *buf, size_t len, uint32_t ts);
parley_rtp_rc_t parley_rtp_set_ssrc(uint8_t *buf, size_t len, uint32_t ssrc);
parley_rtp_rc_t parley_rtp_set_payload_type(uint8_t *buf, size_t len,
    uint8_t pt);
parley_rtp_rc_t parley_rtp_set_marker(uint8_t *buf, size_t len,
    unsigned marker);

/*
 * RFC 8285 header extension elements. The iterator returns PARLEY_RTP_OK
 * with an element, PARLEY_RTP_DONE at the end, or PARLEY_RTP_ERR_MALFORMED
 * when an element runs past the extension block. A header extension that is
 * not RFC 8285's (another profile) has no elements.
 */
void parley_rtp_ext_iter_init(const parley_rtp_header_t *h,
    parley_rtp_ext_iter_t *it);
parley_rtp_rc_t parley_rtp_ext_next(const uint8_t *buf, size_t len,
    parley_rtp_ext_iter_t *it, parley_rtp_ext_t *ext);

/* The element with this id, or PARLEY_RTP_ERR_NOT_FOUND. */
parley_rtp_rc_t parley_rtp_ext_find(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, parley_rtp_ext_t *ext);

/*
 * Readers of the extensions browsers send. "id" is the one negotiated in
 * the SDP (a=extmap). Each returns PARLEY_RTP_ERR_NOT_FOUND when the packet
 * lacks it and PARLEY_RTP_ERR_MALFORMED when its length is wrong.
 *
 * The string one serves sdes:mid (RFC 8843 15.2), rtp-stream-id and
 * repaired-rtp-stream-id (RFC 8852 3.1, 3.2): *s points into buf, it is not
 * NUL-terminated.
 */
parley_rtp_rc_t parley_rtp_ext_string(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, const uint8_t **s,
    size_t *slen);
parley_rtp_rc_t parley_rtp_ext_audio_level(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, parley_rtp_audio_level_t *al);
parley_rtp_rc_t parley_rtp_ext_abs_send_time(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, uint32_t *ast);
parley_rtp_rc_t parley_rtp_ext_twcc_seq(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, uint16_t *seq);

/*
 * Overwrites the value of an extension element in place. The element must
 * exist (PARLEY_RTP_ERR_NOT_FOUND) and have exactly vlen bytes
 * (PARLEY_RTP_ERR_INVAL): the packet never changes size.
 */
parley_rtp_rc_t parley_rtp_ext_write(uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, const uint8_t *val,
    size_t vlen);
parley_rtp_rc_t parley_rtp_ext_set_twcc_seq(uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, uint16_t seq);
parley_rtp_rc_t parley_rtp_ext_set_abs_send_time(uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id, uint32_t ast);

/*
 * RTX (RFC 4588 4). The original sequence number of an RTX packet, from the
 * first two payload bytes. A padding-only RTX packet has none:
 * PARLEY_RTP_ERR_MALFORMED.
 */
parley_rtp_rc_t parley_rtp_rtx_osn(const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint16_t *osn);

/*
 * Turns an RTX packet back into the original in place: the header moves two
 * bytes up over the OSN and takes the original sequence number, payload
 * type "apt" and SSRC "ssrc". The original packet is *out, *out_len bytes
 * (buf + 2, len - 2), and *orig is its parsed header.
 */
parley_rtp_rc_t parley_rtp_rtx_unwrap(uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t apt, uint32_t ssrc, uint8_t **out,
    size_t *out_len, parley_rtp_header_t *orig);

/*
 * Builds an RTX packet from an original into out: same header (CSRCs and
 * extensions included) with payload type rtx_pt, SSRC rtx_ssrc and sequence
 * number rtx_seq, then the OSN, then the original payload. The original's
 * padding is dropped.
 */
parley_rtp_rc_t parley_rtp_rtx_wrap(const uint8_t *orig, size_t orig_len,
    const parley_rtp_header_t *h, uint8_t rtx_pt, uint32_t rtx_ssrc,
    uint16_t rtx_seq, uint8_t *out, size_t cap, size_t *out_len);

void parley_rtp_stats_init(parley_rtp_stats_t *s, uint32_t clock_rate);

/*
 * Accounts one received packet; now_us is its arrival time on a monotonic
 * clock. Returns 1 when the packet counts as received, 0 while the source is
 * on probation or right after a large jump in sequence numbers (RFC 3550
 * A.1).
 */
int parley_rtp_stats_update(parley_rtp_stats_t *s, uint16_t seq, uint32_t ts,
    uint64_t now_us);

/* Remembers a sender report, for LSR and DLSR (RFC 3550 6.4.1). */
void parley_rtp_stats_on_sr(parley_rtp_stats_t *s, uint32_t ntp_middle,
    uint64_t now_us);

uint32_t parley_rtp_stats_ext_highest_seq(const parley_rtp_stats_t *s);

/* Network byte order, for the RTP and RTCP code alike. */

static inline uint16_t
parley_rtp_get16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static inline uint32_t
parley_rtp_get24(const uint8_t *p)
{
    return ((uint32_t) p[0] << 16) | ((uint32_t) p[1] << 8) | p[2];
}


static inline uint32_t
parley_rtp_get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


static inline void
parley_rtp_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static inline void
parley_rtp_put24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 16);
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) v;
}


static inline void
parley_rtp_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


#endif /* _PARLEY_RTP_H_INCLUDED_ */
