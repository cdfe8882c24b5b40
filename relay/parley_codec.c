/*
 * Payload descriptors, codec by codec: see parley_codec.h.
 *
 * Pattern throughout, as in parley_rtp.c: every "len - off < n" test is
 * made with off <= len already known, so it cannot wrap, before
 * p[off .. off + n) is touched.
 */

#include <string.h>
#include <strings.h>

#include "parley_codec.h"


/* RFC 6184 5.2 and 5.4: NAL unit types */
#define PARLEY_H264_NAL_IDR         5
#define PARLEY_H264_NAL_SPS         7
#define PARLEY_H264_NAL_STAP_A      24
#define PARLEY_H264_NAL_FU_A        28


static parley_rtp_rc_t parley_vp8_parse_extension(const uint8_t *p,
    size_t len, size_t *off, parley_vp8_desc_t *d);
static void parley_vp8_parse_frame_header(const uint8_t *f, size_t len,
    parley_vp8_desc_t *d);
static unsigned parley_h264_nal_is_key(uint8_t type);
static parley_rtp_rc_t parley_h264_stap_a_keyframe(const uint8_t *p,
    size_t len, unsigned *keyframe);


static const struct {
    const char      *name;
    parley_codec_t   codec;
} parley_codec_names[] = {
    { "opus", PARLEY_CODEC_OPUS },
    { "VP8", PARLEY_CODEC_VP8 },
    { "H264", PARLEY_CODEC_H264 },
    { "VP9", PARLEY_CODEC_VP9 },
    { "AV1", PARLEY_CODEC_AV1 }
};


parley_codec_t
parley_codec_of(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(parley_codec_names) / sizeof(parley_codec_names[0]);
         i++)
    {
        if (strcasecmp(name, parley_codec_names[i].name) == 0) {
            return parley_codec_names[i].codec;
        }
    }

    return PARLEY_CODEC_OTHER;
}


unsigned
parley_codec_keyframe_start(parley_codec_t codec, const uint8_t *p,
    size_t len)
{
    unsigned           key;
    parley_vp8_desc_t  d;

    key = 0;

    switch (codec) {

    case PARLEY_CODEC_VP8:
        return parley_vp8_parse(p, len, &d) == PARLEY_RTP_OK
               && d.keyframe && d.start && d.partition_id == 0;

    case PARLEY_CODEC_H264:
        (void) parley_h264_keyframe(p, len, &key);
        break;

    case PARLEY_CODEC_VP9:
        (void) parley_vp9_keyframe(p, len, &key);
        break;

    case PARLEY_CODEC_AV1:
        (void) parley_av1_keyframe(p, len, &key);
        break;

    default:
        break;
    }

    return key;
}


parley_rtp_rc_t
parley_vp8_parse(const uint8_t *p, size_t len, parley_vp8_desc_t *d)
{
    size_t           off;
    parley_rtp_rc_t  rc;

    memset(d, 0, sizeof(*d));

    if (len < 1) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    /* RFC 7741 4.2: |X|R|N|S|R| PID | */
    d->non_reference = (p[0] >> 5) & 1;
    d->start = (p[0] >> 4) & 1;
    d->partition_id = p[0] & 0x07;
    off = 1;

    if (p[0] & 0x80) {
        rc = parley_vp8_parse_extension(p, len, &off, d);
        if (rc != PARLEY_RTP_OK) {
            return rc;
        }
    }

    /* the descriptor is always followed by some VP8 data */
    if (off >= len) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    d->header_len = off;

    if (d->start && d->partition_id == 0) {
        parley_vp8_parse_frame_header(p + off, len - off, d);
    }

    return PARLEY_RTP_OK;
}


static parley_rtp_rc_t
parley_vp8_parse_extension(const uint8_t *p, size_t len, size_t *off,
    parley_vp8_desc_t *d)
{
    uint8_t  x, b;

    /* RFC 7741 4.2: |I|L|T|K| RSV | then the fields it announces */
    if (*off >= len) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }
    x = p[(*off)++];

    if (x & 0x80) {
        if (*off >= len) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }

        d->has_picture_id = 1;
        d->picture_id_offset = *off;

        /* M set: a 15-bit PictureID */
        if (p[*off] & 0x80) {
            if (len - *off < 2) {
                return PARLEY_RTP_ERR_TRUNCATED;
            }
            d->picture_id = parley_rtp_get16(p + *off) & 0x7fff;
            d->picture_id_bits = 15;
            *off += 2;

        } else {
            d->picture_id = p[*off];
            d->picture_id_bits = 7;
            *off += 1;
        }
    }

    if (x & 0x40) {
        if (*off >= len) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }
        d->has_tl0picidx = 1;
        d->tl0picidx_offset = *off;
        d->tl0picidx = p[(*off)++];
    }

    /* T or K: one byte |TID|Y| KEYIDX | shared by both */
    if (x & 0x30) {
        if (*off >= len) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }
        b = p[(*off)++];

        if (x & 0x20) {
            d->has_tid = 1;
            d->tid = b >> 6;
            d->layer_sync = (b >> 5) & 1;
        }

        if (x & 0x10) {
            d->has_keyidx = 1;
            d->keyidx = b & 0x1f;
        }
    }

    return PARLEY_RTP_OK;
}


static void
parley_vp8_parse_frame_header(const uint8_t *f, size_t len,
    parley_vp8_desc_t *d)
{
    /* RFC 7741 4.3: P, the low bit of the first octet, is 0 on a key frame */
    if (f[0] & 0x01) {
        return;
    }

    d->keyframe = 1;

    /*
     * RFC 6386 9.1: a key frame's 3-byte frame tag is followed by the start
     * code 9d 01 2a and two little-endian 14-bit dimensions.
     */
    if (len >= 10 && f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a) {
        d->width = (uint16_t) ((f[6] | (f[7] << 8)) & 0x3fff);
        d->height = (uint16_t) ((f[8] | (f[9] << 8)) & 0x3fff);
    }
}


parley_rtp_rc_t
parley_vp8_set_picture_id(uint8_t *p, size_t len, const parley_vp8_desc_t *d,
    uint16_t picture_id)
{
    if (!d->has_picture_id) {
        return PARLEY_RTP_ERR_NOT_FOUND;
    }

    if (d->picture_id_offset >= len
        || (d->picture_id_bits == 15 && len - d->picture_id_offset < 2))
    {
        return PARLEY_RTP_ERR_INVAL;
    }

    if (d->picture_id_bits == 15) {
        parley_rtp_put16(p + d->picture_id_offset,
                         (uint16_t) (0x8000 | (picture_id & 0x7fff)));
    } else {
        p[d->picture_id_offset] = picture_id & 0x7f;
    }

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_vp8_set_tl0picidx(uint8_t *p, size_t len, const parley_vp8_desc_t *d,
    uint8_t tl0picidx)
{
    if (!d->has_tl0picidx) {
        return PARLEY_RTP_ERR_NOT_FOUND;
    }

    if (d->tl0picidx_offset >= len) {
        return PARLEY_RTP_ERR_INVAL;
    }

    p[d->tl0picidx_offset] = tl0picidx;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_h264_keyframe(const uint8_t *p, size_t len, unsigned *keyframe)
{
    uint8_t  type;

    *keyframe = 0;

    if (len < 1) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    type = p[0] & 0x1f;

    switch (type) {

    case PARLEY_H264_NAL_STAP_A:
        return parley_h264_stap_a_keyframe(p, len, keyframe);

    case PARLEY_H264_NAL_FU_A:
        /* RFC 6184 5.8: the FU header's S bit marks the first fragment */
        if (len < 2) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }
        *keyframe = (p[1] & 0x80) && parley_h264_nal_is_key(p[1] & 0x1f);
        return PARLEY_RTP_OK;

    default:
        /*
         * RFC 6184 5.6: 1..23 is a single NAL unit; STAP-B, MTAP and FU-B
         * belong to the interleaved mode, which WebRTC does not use.
         */
        *keyframe = type <= 23 && parley_h264_nal_is_key(type);
        return PARLEY_RTP_OK;
    }
}


/* An IDR slice, or an SPS that precedes one, starts a decodable picture. */
static unsigned
parley_h264_nal_is_key(uint8_t type)
{
    return type == PARLEY_H264_NAL_IDR || type == PARLEY_H264_NAL_SPS;
}


static parley_rtp_rc_t
parley_h264_stap_a_keyframe(const uint8_t *p, size_t len, unsigned *keyframe)
{
    size_t  off, size;

    /* RFC 6184 5.7.1: after the STAP-A octet, (16-bit size, NAL unit)+ */
    off = 1;

    if (off == len) {
        return PARLEY_RTP_ERR_MALFORMED;
    }

    while (off < len) {
        if (len - off < 2) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }

        size = parley_rtp_get16(p + off);
        off += 2;

        if (size == 0) {
            return PARLEY_RTP_ERR_MALFORMED;
        }

        if (len - off < size) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }

        if (parley_h264_nal_is_key(p[off] & 0x1f)) {
            *keyframe = 1;
        }

        off += size;
    }

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_vp9_keyframe(const uint8_t *p, size_t len, unsigned *keyframe)
{
    size_t   off;
    uint8_t  sid;

    *keyframe = 0;

    if (len < 1) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    /* RFC 9628 4.2: |I|P|L|F|B|E|V|Z| */
    off = 1;
    sid = 0;

    if (p[0] & 0x80) {
        /* I: a 7-bit PictureID, 15-bit when its M bit is set */
        if (off >= len) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }
        off += (p[off] & 0x80) ? 2 : 1;
    }

    if (p[0] & 0x20) {
        /* L: | TID |U| SID |D| */
        if (off >= len) {
            return PARLEY_RTP_ERR_TRUNCATED;
        }
        sid = (p[off] >> 1) & 0x07;
        off++;
    }

    if (off > len) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    /*
     * Not inter-predicted (P = 0), beginning of a frame (B = 1), in the
     * base spatial layer: a decoder can start here.
     */
    *keyframe = !(p[0] & 0x40) && (p[0] & 0x08) && sid == 0;

    return PARLEY_RTP_OK;
}


parley_rtp_rc_t
parley_av1_keyframe(const uint8_t *p, size_t len, unsigned *keyframe)
{
    *keyframe = 0;

    if (len < 1) {
        return PARLEY_RTP_ERR_TRUNCATED;
    }

    /*
     * AV1 RTP payload format 4.4: |Z|Y| W |N|-|-|-|; N is set on the first
     * packet of a coded video sequence, which begins with a key frame.
     */
    *keyframe = (p[0] & 0x08) != 0;

    return PARLEY_RTP_OK;
}
