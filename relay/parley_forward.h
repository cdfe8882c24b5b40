/*
 * Per-subscriber rewriting of a publisher's RTP packets.
 *
 * Each subscriber ("leg") negotiated its own SDP, so the same track may
 * arrive with other payload type numbers, other header extension ids and
 * another mid (BUNDLE routes by the mid header extension, RFC 8843 15.2).
 * A parley_forward_map_t says, for one track on one leg, how to translate;
 * it is filled once at negotiation and read by every packet after.
 *
 * parley_forward_rewrite() copies a decrypted packet into a buffer of the
 * caller's with the leg's payload type, SSRC, sequence number, timestamp
 * and header extensions. It never writes into the input: that is shared by
 * every leg (a ring slot). No allocation, no I/O; nothing is read outside
 * [in, in + in_len) nor written outside [out, out + out_cap).
 */

#ifndef _PARLEY_FORWARD_H_INCLUDED_
#define _PARLEY_FORWARD_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "parley_rtp.h"


#define PARLEY_FORWARD_PT_DROP      0xff   /* in pt[]: not for this leg */
#define PARLEY_FORWARD_PT_COUNT     128    /* RFC 3550 5.1: 7-bit PT */

/* publisher ids are one-byte form ids, RFC 8285 4.2: 1..14 */
#define PARLEY_FORWARD_EXT_COUNT    (PARLEY_RTP_EXT_MAX_ID_ONE + 1)

/* RFC 8285 4.3: the longest value an element can hold */
#define PARLEY_FORWARD_MID_MAX      255

/* twcc_seq of parley_forward_rewrite(): the leg has no transport-wide seq */
#define PARLEY_FORWARD_TWCC_NONE    0x10000


typedef enum {
    PARLEY_FORWARD_OK = 0,
    PARLEY_FORWARD_NOT_FOR_LEG,        /* the leg has no such PT: skip it */
    PARLEY_FORWARD_ERR_MALFORMED,      /* the input is no valid RTP */
    PARLEY_FORWARD_ERR_NOSPACE,        /* out_cap too small */
    PARLEY_FORWARD_ERR_INVAL           /* bad map or argument */
} parley_forward_rc_t;


/* What an extension is, for the ones the SFU must not copy blindly. */
typedef enum {
    PARLEY_FORWARD_EXT_OTHER = 0,      /* copied as it is */
    PARLEY_FORWARD_EXT_MID,            /* RFC 8843 15.2 */
    PARLEY_FORWARD_EXT_AUDIO_LEVEL,    /* RFC 6464 */
    PARLEY_FORWARD_EXT_ABS_SEND_TIME,
    PARLEY_FORWARD_EXT_TWCC,           /* transport-wide-cc-extensions-01 */
    PARLEY_FORWARD_EXT_RID,            /* RFC 8852 3.1 */
    PARLEY_FORWARD_EXT_REPAIRED_RID    /* RFC 8852 3.2 */
} parley_forward_ext_kind_t;


typedef struct {
    uint8_t                    id;     /* the leg's id; 0: not negotiated */
    parley_forward_ext_kind_t  kind;
} parley_forward_ext_map_t;


/*
 * One track on one leg. Plain arrays indexed by the publisher's numbers:
 * parley_forward_map_init() makes a map that drops everything, the caller
 * fills in what both SDPs agree on, and parley_forward_map_check() says
 * whether the result is usable.
 *
 * Leg ids 15..255 and values that do not fit the one-byte form (empty or
 * longer than 16 bytes) make packets use the two-byte form (RFC 8285 4.3),
 * which a receiver understands only after a=extmap-allow-mixed (RFC 8285
 * 6): map ids above 14 only for legs that negotiated it.
 */
typedef struct {
    uint8_t                   pt[PARLEY_FORWARD_PT_COUNT];
    uint8_t                   pt_is_rtx[PARLEY_FORWARD_PT_COUNT];
    parley_forward_ext_map_t  ext[PARLEY_FORWARD_EXT_COUNT]; /* [0] unused */
    uint32_t                  ssrc;
    uint32_t                  rtx_ssrc;    /* RFC 4588 4: SSRC multiplexing */
    unsigned                  single_layer:1;
    uint8_t                   twcc_id;     /* the leg's transport-wide id:
                                              added when the publisher's
                                              packet has none; 0: carried
                                              only */
    uint8_t                   mid_len;
    uint8_t                   mid[PARLEY_FORWARD_MID_MAX];
} parley_forward_map_t;


const char *parley_forward_rc_str(parley_forward_rc_t rc);

/* A map that forwards nothing and carries no extension. */
void parley_forward_map_init(parley_forward_map_t *map, uint32_t ssrc,
    uint32_t rtx_ssrc);

/* The leg's mid of this track: 1..255 bytes, else PARLEY_FORWARD_ERR_INVAL. */
parley_forward_rc_t parley_forward_map_set_mid(parley_forward_map_t *map,
    const uint8_t *mid, size_t len);

/*
 * PARLEY_FORWARD_ERR_INVAL when a leg PT is above 127 and not
 * PARLEY_FORWARD_PT_DROP, when two extensions share a leg id (the receiver
 * could not tell them apart), when a kind is unknown, or when the mid is
 * mapped but the leg's mid is not set.
 */
parley_forward_rc_t parley_forward_map_check(const parley_forward_map_t *map);

/*
 * Writes the packet "in" as the leg must receive it into "out" (the two
 * must not overlap) and its length into *out_len:
 *
 *   - the fixed header with the leg's PT and SSRC and out_seq and out_ts
 *     (from parley_simulcast or a per-leg offset); V, P, M and the CSRCs
 *     are kept;
 *   - an extension block with only the elements the leg negotiated, under
 *     the leg's ids, in the one-byte form unless one of them needs the
 *     two-byte form; no block (X=0) when none is left;
 *   - the payload and the RTP padding as they are.
 *
 * Element values: the mid becomes the leg's mid; the transport-wide seq
 * becomes twcc_seq, or is dropped when twcc_seq is PARLEY_FORWARD_TWCC_NONE
 * (the publisher's numbers mean nothing to the leg's feedback), or
 * added under twcc_id when the publisher's packet has none (the leg's
 * feedback must cover every packet it is sent, whatever the publisher
 * negotiated), and
 * *twcc_carried (unless NULL) says whether the packet carries twcc_seq,
 * for the caller to count it as sent (parley_downlink) or not; rid and
 * repaired-rid are dropped for a single-layer leg; the rest are copied,
 * abs-send-time too (a caller that stamps its own send time overwrites it
 * in "out" with parley_rtp_ext_set_abs_send_time()). Elements are only
 * carried, never added (but the transport-wide number): when the publisher stops sending the mid, so does
 * the leg, which then demultiplexes by the SSRC in its SDP (RFC 8843 9.2).
 *
 * An input PT marked in pt_is_rtx is an RTX stream (RFC 4588): it takes
 * the leg's RTX PT from pt[] and rtx_ssrc. The OSN in its payload is
 * copied unchanged; translating it to the leg's sequence numbers is the
 * caller's business, in "out" after the call.
 *
 * PARLEY_FORWARD_NOT_FOR_LEG when the leg has no PT for the packet's;
 * PARLEY_FORWARD_ERR_MALFORMED when "in" does not parse (RFC 3550 5.1,
 * RFC 8285 4); PARLEY_FORWARD_ERR_NOSPACE when out_cap is too small. On
 * any of them "out" is left untouched.
 */
parley_forward_rc_t parley_forward_rewrite(const parley_forward_map_t *map,
    const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
    uint16_t out_seq, uint32_t out_ts, uint32_t twcc_seq, size_t *out_len,
    int *twcc_carried);


#endif /* _PARLEY_FORWARD_H_INCLUDED_ */
