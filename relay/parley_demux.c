/*
 * Demultiplexing of a bundled transport: see parley_demux.h.
 */

#include "parley_demux.h"


static parley_demux_class_t parley_demux_by_first_byte(const uint8_t *buf,
    size_t len);
static size_t parley_demux_min_len(parley_demux_class_t cls);


parley_demux_class_t
parley_demux_classify(const uint8_t *buf, size_t len)
{
    parley_demux_class_t  cls;

    if (len == 0) {
        return PARLEY_DEMUX_INVALID;
    }

    cls = parley_demux_by_first_byte(buf, len);

    if (cls != PARLEY_DEMUX_UNKNOWN && len < parley_demux_min_len(cls)) {
        return PARLEY_DEMUX_INVALID;
    }

    return cls;
}


static parley_demux_class_t
parley_demux_by_first_byte(const uint8_t *buf, size_t len)
{
    uint8_t  b;

    b = buf[0];

    /* RFC 7983 7: the ranges of the first byte */
    if (b <= 3) {
        return PARLEY_DEMUX_STUN;
    }

    if (b >= 16 && b <= 19) {
        return PARLEY_DEMUX_ZRTP;
    }

    if (b >= 20 && b <= 63) {
        return PARLEY_DEMUX_DTLS;
    }

    if (b >= 64 && b <= 79) {
        return PARLEY_DEMUX_TURN_CHANNEL;
    }

    if (b < 128 || b > 191) {
        return PARLEY_DEMUX_UNKNOWN;
    }

    /*
     * RFC 5761 4: RTP payload types 64..95 are never used with rtcp-mux, so
     * a second byte of 192..223 (RTCP types 192..223, or any with the marker
     * bit masked off) is RTCP. Without a second byte, RTP's check of the
     * length will call it invalid.
     */
    if (len >= 2 && buf[1] >= 192 && buf[1] <= 223) {
        return PARLEY_DEMUX_RTCP;
    }

    return PARLEY_DEMUX_RTP;
}


static size_t
parley_demux_min_len(parley_demux_class_t cls)
{
    switch (cls) {

    case PARLEY_DEMUX_STUN:
        return PARLEY_DEMUX_STUN_MIN;
    case PARLEY_DEMUX_ZRTP:
        return PARLEY_DEMUX_ZRTP_MIN;
    case PARLEY_DEMUX_DTLS:
        return PARLEY_DEMUX_DTLS_MIN;
    case PARLEY_DEMUX_TURN_CHANNEL:
        return PARLEY_DEMUX_TURN_CHANNEL_MIN;
    case PARLEY_DEMUX_RTP:
        return PARLEY_DEMUX_RTP_MIN;
    case PARLEY_DEMUX_RTCP:
        return PARLEY_DEMUX_RTCP_MIN;
    default:
        return 0;
    }
}


int
parley_demux_is_dropped(parley_demux_class_t cls)
{
    return cls == PARLEY_DEMUX_ZRTP || cls == PARLEY_DEMUX_TURN_CHANNEL
           || cls == PARLEY_DEMUX_UNKNOWN || cls == PARLEY_DEMUX_INVALID;
}


const char *
parley_demux_class_str(parley_demux_class_t cls)
{
    switch (cls) {

    case PARLEY_DEMUX_UNKNOWN:
        return "unknown";
    case PARLEY_DEMUX_INVALID:
        return "invalid";
    case PARLEY_DEMUX_STUN:
        return "stun";
    case PARLEY_DEMUX_ZRTP:
        return "zrtp";
    case PARLEY_DEMUX_DTLS:
        return "dtls";
    case PARLEY_DEMUX_TURN_CHANNEL:
        return "turn-channel";
    case PARLEY_DEMUX_RTP:
        return "rtp";
    case PARLEY_DEMUX_RTCP:
        return "rtcp";
    }

    return "unknown";
}
