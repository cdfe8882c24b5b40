/*
 * What a UDP datagram on a bundled WebRTC transport is, from its first byte
 * (RFC 7983 7, which updates RFC 5764 5.1.2), and whether it is long enough
 * to be one. STUN, DTLS, RTP and RTCP all share one 5-tuple under BUNDLE and
 * rtcp-mux; the caller hands each class to its own engine.
 */

#ifndef _PARLEY_DEMUX_H_INCLUDED_
#define _PARLEY_DEMUX_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* Shortest datagram of each class: its fixed header. */
#define PARLEY_DEMUX_STUN_MIN          20  /* RFC 8489 5 */
#define PARLEY_DEMUX_ZRTP_MIN          16  /* RFC 6189 5: header and CRC */
#define PARLEY_DEMUX_DTLS_MIN          13  /* RFC 6347 4.1 record header */
#define PARLEY_DEMUX_TURN_CHANNEL_MIN  4   /* RFC 8656 12.4 */
#define PARLEY_DEMUX_RTP_MIN           12  /* RFC 3550 5.1 */
#define PARLEY_DEMUX_RTCP_MIN          8   /* RFC 3550 6.4.2, an empty RR */


typedef enum {
    PARLEY_DEMUX_UNKNOWN = 0,      /* first byte in no RFC 7983 range */
    PARLEY_DEMUX_INVALID,          /* in a range, but too short for it */
    PARLEY_DEMUX_STUN,
    PARLEY_DEMUX_ZRTP,             /* WebRTC has no use for it: drop */
    PARLEY_DEMUX_DTLS,
    PARLEY_DEMUX_TURN_CHANNEL,     /* only a TURN server sees these: drop */
    PARLEY_DEMUX_RTP,
    PARLEY_DEMUX_RTCP
} parley_demux_class_t;


parley_demux_class_t parley_demux_classify(const uint8_t *buf, size_t len);

/* 1 for the classes an SFU peer connection throws away unread. */
int parley_demux_is_dropped(parley_demux_class_t cls);

const char *parley_demux_class_str(parley_demux_class_t cls);


#endif /* _PARLEY_DEMUX_H_INCLUDED_ */
