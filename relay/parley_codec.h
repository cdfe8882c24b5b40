/*
 * What the SFU reads inside an RTP payload, codec by codec: the payload
 * descriptors of VP8 (RFC 7741), H.264 (RFC 6184), VP9 (RFC 9628) and AV1
 * (the AOM RTP payload format), just far enough to find where a keyframe
 * starts, which simulcast switching and keyframe requests need on every
 * video packet, and, for VP8, to rewrite the picture ids of a switched
 * stream.
 *
 * Like parley_rtp.h: (p, len) is the RTP payload (buf + payload_offset,
 * payload_len), owned by the caller; nothing allocates, and nothing reads
 * outside it whatever the bytes say.
 */

#ifndef _PARLEY_CODEC_H_INCLUDED_
#define _PARLEY_CODEC_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "parley_rtp.h"


typedef enum {
    PARLEY_CODEC_OTHER = 0,            /* none of those below: no parsing */
    PARLEY_CODEC_OPUS,
    PARLEY_CODEC_VP8,
    PARLEY_CODEC_H264,
    PARLEY_CODEC_VP9,
    PARLEY_CODEC_AV1
} parley_codec_t;


/* RFC 7741 4.2: the VP8 payload descriptor, and what follows it. */
typedef struct {
    unsigned   non_reference:1;    /* N */
    unsigned   start:1;            /* S: first packet of a partition */
    unsigned   has_picture_id:1;
    unsigned   has_tl0picidx:1;
    unsigned   has_tid:1;
    unsigned   has_keyidx:1;
    unsigned   layer_sync:1;       /* Y */
    unsigned   keyframe:1;
    uint8_t    partition_id;
    uint8_t    picture_id_bits;    /* 7 or 15 */
    uint16_t   picture_id;
    uint8_t    tl0picidx;
    uint8_t    tid;
    uint8_t    keyidx;
    uint16_t   width;              /* keyframes only, 0 when not known */
    uint16_t   height;
    size_t     picture_id_offset;  /* within the RTP payload */
    size_t     tl0picidx_offset;
    size_t     header_len;         /* the descriptor; the VP8 data follows */
} parley_vp8_desc_t;


/* The codec of an SDP encoding name ("VP8", "h264"...: case-insensitive). */
parley_codec_t parley_codec_of(const char *name);

/*
 * Whether a payload of that codec is the first packet of a keyframe: the
 * point where a decoder can join the stream. 0 for anything else,
 * malformed payloads and codecs without keyframes (audio) included.
 */
unsigned parley_codec_keyframe_start(parley_codec_t codec, const uint8_t *p,
    size_t len);

/* The descriptors themselves. */
parley_rtp_rc_t parley_vp8_parse(const uint8_t *p, size_t len,
    parley_vp8_desc_t *d);

/* Rewrite PictureID / TL0PICIDX in place, keeping the sent width. */
parley_rtp_rc_t parley_vp8_set_picture_id(uint8_t *p, size_t len,
    const parley_vp8_desc_t *d, uint16_t picture_id);
parley_rtp_rc_t parley_vp8_set_tl0picidx(uint8_t *p, size_t len,
    const parley_vp8_desc_t *d, uint8_t tl0picidx);

parley_rtp_rc_t parley_h264_keyframe(const uint8_t *p, size_t len,
    unsigned *keyframe);
parley_rtp_rc_t parley_vp9_keyframe(const uint8_t *p, size_t len,
    unsigned *keyframe);
parley_rtp_rc_t parley_av1_keyframe(const uint8_t *p, size_t len,
    unsigned *keyframe);


#endif /* _PARLEY_CODEC_H_INCLUDED_ */
