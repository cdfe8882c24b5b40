/*
 * RTCP (RFC 3550 6) and the feedback messages WebRTC uses: generic NACK and
 * PLI (RFC 4585), FIR (RFC 5104), transport-wide congestion control
 * feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01) and REMB
 * (draft-alvestrand-rmcat-remb-03).
 *
 * Parsing: parley_rtcp_next() walks a compound packet and checks every
 * length field (RFC 3550 A.2, with RFC 5506 reduced-size packets allowed:
 * the first packet need not be an SR or RR). Each parley_rtcp_parse_*()
 * then reads one packet into a struct; strings point into the caller's
 * buffer, lists go to bounded arrays the caller provides.
 *
 * Building: every parley_rtcp_build_*() appends one packet to a writer over
 * the caller's buffer, so a compound packet is a sequence of calls. A
 * packet that does not fit is not written at all (PARLEY_RTP_ERR_NOSPACE)
 * and the writer is left as it was.
 *
 * No I/O, no allocation; errors are parley_rtp_rc_t values.
 */

#ifndef _PARLEY_RTCP_H_INCLUDED_
#define _PARLEY_RTCP_H_INCLUDED_


#include "parley_rtp.h"


#define PARLEY_RTCP_VERSION          2
#define PARLEY_RTCP_HEADER_LEN       4

/* RFC 3550 12.1, RFC 4585 6.1, RFC 3611 */
#define PARLEY_RTCP_SR               200
#define PARLEY_RTCP_RR               201
#define PARLEY_RTCP_SDES             202
#define PARLEY_RTCP_BYE              203
#define PARLEY_RTCP_APP              204
#define PARLEY_RTCP_RTPFB            205
#define PARLEY_RTCP_PSFB             206
#define PARLEY_RTCP_XR               207

/* feedback message types, in the count field */
#define PARLEY_RTCP_FMT_NACK         1     /* RTPFB, RFC 4585 6.2.1 */
#define PARLEY_RTCP_FMT_TWCC         15    /* RTPFB, the TWCC draft 3.1 */
#define PARLEY_RTCP_FMT_PLI          1     /* PSFB, RFC 4585 6.3.1 */
#define PARLEY_RTCP_FMT_FIR          4     /* PSFB, RFC 5104 4.3.1 */
#define PARLEY_RTCP_FMT_AFB          15    /* PSFB, RFC 4585 6.4; REMB */

#define PARLEY_RTCP_SDES_END         0
#define PARLEY_RTCP_SDES_CNAME       1

#define PARLEY_RTCP_MAX_COUNT        31    /* a 5-bit count field */
#define PARLEY_RTCP_REMB_MAX_SSRC    255   /* an 8-bit count field */

/* NACK: one FCI entry names up to 17 sequence numbers, PID and BLP */
#define PARLEY_RTCP_NACK_PER_ENTRY   17

/* TWCC packet status symbols (draft 3.1.1) */
#define PARLEY_RTCP_TWCC_NOT_RECEIVED  0
#define PARLEY_RTCP_TWCC_SMALL_DELTA   1   /* 1-byte delta, 0..63.75 ms */
#define PARLEY_RTCP_TWCC_LARGE_DELTA   2   /* 2-byte signed delta */

#define PARLEY_RTCP_TWCC_DELTA_US      250   /* unit of a recv delta */
#define PARLEY_RTCP_TWCC_REF_US        64000 /* unit of the reference time */


/* One packet of a compound; the body follows the 4-byte header. */
typedef struct {
    const uint8_t  *data;          /* the header's first byte */
    size_t          len;           /* the whole packet, padding included */
    size_t          body_len;      /* after the header, without padding */
    uint8_t         type;
    uint8_t         count;         /* RC, SC or FMT */
    unsigned        padding:1;
} parley_rtcp_packet_t;


typedef struct {
    const uint8_t  *buf;
    size_t          len;
    size_t          offset;
} parley_rtcp_iter_t;


/* RFC 3550 6.4.1 */
typedef struct {
    uint32_t        ssrc;
    uint8_t         fraction_lost;
    int32_t         cumulative_lost;   /* 24-bit signed on the wire */
    uint32_t        ext_highest_seq;
    uint32_t        jitter;
    uint32_t        lsr;
    uint32_t        dlsr;              /* in 1/65536 s */
} parley_rtcp_report_block_t;


typedef struct {
    uint32_t                    ssrc;
    uint32_t                    ntp_sec;
    uint32_t                    ntp_frac;
    uint32_t                    rtp_ts;
    uint32_t                    packet_count;
    uint32_t                    octet_count;
    size_t                      block_count;
    parley_rtcp_report_block_t  blocks[PARLEY_RTCP_MAX_COUNT];
} parley_rtcp_sr_t;


typedef struct {
    uint32_t                    ssrc;
    size_t                      block_count;
    parley_rtcp_report_block_t  blocks[PARLEY_RTCP_MAX_COUNT];
} parley_rtcp_rr_t;


typedef struct {
    uint32_t        ssrc;
    const uint8_t  *cname;         /* into the packet; NULL if none */
    size_t          cname_len;
} parley_rtcp_sdes_chunk_t;


typedef struct {
    size_t                    chunk_count;
    parley_rtcp_sdes_chunk_t  chunks[PARLEY_RTCP_MAX_COUNT];
} parley_rtcp_sdes_t;


typedef struct {
    size_t          ssrc_count;
    uint32_t        ssrcs[PARLEY_RTCP_MAX_COUNT];
    const uint8_t  *reason;        /* into the packet; NULL if none */
    size_t          reason_len;
} parley_rtcp_bye_t;


/* RFC 4585 6.1: what every RTPFB and PSFB message starts with. */
typedef struct {
    uint32_t        sender_ssrc;
    uint32_t        media_ssrc;
    const uint8_t  *fci;
    size_t          fci_len;
} parley_rtcp_fb_t;


/* RFC 5104 4.3.1.1 */
typedef struct {
    uint32_t        ssrc;
    uint8_t         seq_nr;
} parley_rtcp_fir_entry_t;


typedef struct {
    uint32_t        sender_ssrc;
    uint64_t        bitrate;       /* bits per second */
    size_t          ssrc_count;
    uint32_t        ssrcs[PARLEY_RTCP_REMB_MAX_SSRC];
} parley_rtcp_remb_t;


typedef struct {
    uint32_t        sender_ssrc;
    uint32_t        media_ssrc;
    uint16_t        base_seq;
    uint16_t        status_count;
    uint32_t        ref_time;      /* 24 bits, in 64 ms */
    uint8_t         fb_count;
    size_t          packet_count;  /* entries written to the array */
} parley_rtcp_twcc_t;


/* One packet of a TWCC feedback, as parsed. */
typedef struct {
    uint16_t        seq;
    uint8_t         status;        /* PARLEY_RTCP_TWCC_* */
    int32_t         delta;         /* in 250 us, if received */
    int64_t         arrival_us;    /* ref_time and the deltas, if received */
} parley_rtcp_twcc_packet_t;


/* One received packet, to build a TWCC feedback from. */
typedef struct {
    uint16_t        seq;
    int64_t         arrival_us;    /* >= 0 */
} parley_rtcp_twcc_arrival_t;


typedef struct {
    uint8_t        *buf;
    size_t          cap;
    size_t          len;           /* bytes written so far */
} parley_rtcp_writer_t;


void parley_rtcp_iter_init(parley_rtcp_iter_t *it, const uint8_t *buf,
    size_t len);

/*
 * The next packet of a compound: PARLEY_RTP_OK, PARLEY_RTP_DONE after the
 * last one, or an error (an empty datagram, a bad version, a length past
 * the end, padding on any but the last packet or a bad padding count), after
 * which the rest of the compound is not to be trusted: RFC 3550 A.2 says to
 * discard all of it, which parley_rtcp_validate() does beforehand.
 */
parley_rtp_rc_t parley_rtcp_next(parley_rtcp_iter_t *it,
    parley_rtcp_packet_t *pkt);
parley_rtp_rc_t parley_rtcp_validate(const uint8_t *buf, size_t len);

/*
 * Parsers. Each checks the packet's type (and feedback type),
 * PARLEY_RTP_ERR_INVAL if it is another, and its lengths.
 */
parley_rtp_rc_t parley_rtcp_parse_sr(const parley_rtcp_packet_t *pkt,
    parley_rtcp_sr_t *sr);
parley_rtp_rc_t parley_rtcp_parse_rr(const parley_rtcp_packet_t *pkt,
    parley_rtcp_rr_t *rr);
parley_rtp_rc_t parley_rtcp_parse_sdes(const parley_rtcp_packet_t *pkt,
    parley_rtcp_sdes_t *sdes);
parley_rtp_rc_t parley_rtcp_parse_bye(const parley_rtcp_packet_t *pkt,
    parley_rtcp_bye_t *bye);
parley_rtp_rc_t parley_rtcp_parse_fb(const parley_rtcp_packet_t *pkt,
    parley_rtcp_fb_t *fb);
parley_rtp_rc_t parley_rtcp_parse_pli(const parley_rtcp_packet_t *pkt,
    parley_rtcp_fb_t *fb);

/*
 * The lost sequence numbers of a generic NACK, in the order they are
 * packed. When more than "cap" are named, the first "cap" are written and
 * PARLEY_RTP_ERR_NOSPACE returned.
 */
parley_rtp_rc_t parley_rtcp_parse_nack(const parley_rtcp_packet_t *pkt,
    parley_rtcp_fb_t *fb, uint16_t *seqs, size_t cap, size_t *n);

/* FIR entries; "cap" as for NACK. */
parley_rtp_rc_t parley_rtcp_parse_fir(const parley_rtcp_packet_t *pkt,
    parley_rtcp_fb_t *fb, parley_rtcp_fir_entry_t *entries, size_t cap,
    size_t *n);

/* PARLEY_RTP_ERR_NOT_FOUND for an AFB message that is not REMB. */
parley_rtp_rc_t parley_rtcp_parse_remb(const parley_rtcp_packet_t *pkt,
    parley_rtcp_remb_t *remb);

/*
 * A TWCC feedback: one entry per reported packet, base_seq first. More
 * than "cap" packets: the first "cap" are written, PARLEY_RTP_ERR_NOSPACE.
 */
parley_rtp_rc_t parley_rtcp_parse_twcc(const parley_rtcp_packet_t *pkt,
    parley_rtcp_twcc_t *twcc, parley_rtcp_twcc_packet_t *pkts, size_t cap);

void parley_rtcp_writer_init(parley_rtcp_writer_t *w, uint8_t *buf,
    size_t cap);

/* Builders; "count" fields come from the structs and lists. */
parley_rtp_rc_t parley_rtcp_build_sr(parley_rtcp_writer_t *w,
    const parley_rtcp_sr_t *sr);
parley_rtp_rc_t parley_rtcp_build_rr(parley_rtcp_writer_t *w,
    const parley_rtcp_rr_t *rr);
parley_rtp_rc_t parley_rtcp_build_sdes_cname(parley_rtcp_writer_t *w,
    uint32_t ssrc, const uint8_t *cname, size_t cname_len);
parley_rtp_rc_t parley_rtcp_build_bye(parley_rtcp_writer_t *w,
    const uint32_t *ssrcs, size_t n, const uint8_t *reason,
    size_t reason_len);
parley_rtp_rc_t parley_rtcp_build_pli(parley_rtcp_writer_t *w,
    uint32_t sender_ssrc, uint32_t media_ssrc);

/*
 * A FIR for one media sender. *seq_nr is the requester's counter for that
 * sender (RFC 5104 4.3.1.1): it is written, then incremented, so that a
 * repeated call is a new request.
 */
parley_rtp_rc_t parley_rtcp_build_fir(parley_rtcp_writer_t *w,
    uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *seq_nr);

/*
 * A generic NACK for a list of lost sequence numbers, best given in
 * sending order (wrap-around allowed): each one within 16 after an entry's
 * PID joins its BLP.
 */
parley_rtp_rc_t parley_rtcp_build_nack(parley_rtcp_writer_t *w,
    uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *seqs,
    size_t n);

parley_rtp_rc_t parley_rtcp_build_remb(parley_rtcp_writer_t *w,
    uint32_t sender_ssrc, uint64_t bitrate, const uint32_t *ssrcs,
    size_t n);

/*
 * A TWCC feedback for the received packets "a", in increasing sequence
 * order (wrap-around allowed) and spanning fewer than 65536 numbers; the
 * gaps are reported not received. The reference time is the first
 * arrival's, in 64 ms modulo 2^24. PARLEY_RTP_ERR_INVAL if the order or an
 * arrival is wrong or two consecutive arrivals are more than 8.19 s apart
 * (more than a 16-bit delta holds): split the list then.
 */
parley_rtp_rc_t parley_rtcp_build_twcc(parley_rtcp_writer_t *w,
    uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t fb_count,
    const parley_rtcp_twcc_arrival_t *a, size_t n);

/*
 * A report block about one source from its receiver statistics (RFC 3550
 * A.3); it starts a new reporting interval for the fraction lost.
 */
void parley_rtcp_report_block_from_stats(parley_rtp_stats_t *s,
    uint32_t ssrc, uint64_t now_us, parley_rtcp_report_block_t *rb);

/* The middle 32 bits of an NTP timestamp: LSR (RFC 3550 6.4.1). */
uint32_t parley_rtcp_ntp_middle(uint32_t ntp_sec, uint32_t ntp_frac);


#endif /* _PARLEY_RTCP_H_INCLUDED_ */
