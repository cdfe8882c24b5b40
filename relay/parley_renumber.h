/*
 * The numbers of a leg that forwards one stream of a publisher.
 *
 * Every leg sends under its own SSRC, chosen by the SFU: a publisher must
 * not decide what its subscribers' SRTP sessions encrypt under (two
 * publishers with one SSRC would make a subscriber's session encrypt two
 * streams under one SSRC, RFC 3711 9.1). The leg's sequence numbers and
 * timestamps are the publisher's plus constant random offsets (RFC 3550
 * 5.1), so a packet lost upstream stays a gap that the subscriber NACKs,
 * and a NACK maps back by subtracting.
 *
 * What a publisher sends twice goes out once: a duplicate, or a packet
 * older than the window of PARLEY_RENUMBER_HISTORY, is dropped, so that
 * the leg never protects two payloads under one SRTP index. A publisher
 * whose numbers jump back past the window (a restarted encoder) is
 * followed after PARLEY_RENUMBER_RESYNC such packets in a row: the
 * leg's numbering continues after the highest it sent.
 *
 * All state is in parley_renumber_t, which the caller embeds: no
 * allocation, no I/O, O(1) per packet.
 */

#ifndef _PARLEY_RENUMBER_H_INCLUDED_
#define _PARLEY_RENUMBER_H_INCLUDED_


#include <stdint.h>

#include "parley_shm.h"


#define PARLEY_RENUMBER_HISTORY  1024      /* incoming seqs remembered */
#define PARLEY_RENUMBER_RESYNC   32        /* stale in a row: a new stream */


typedef enum {
    PARLEY_RENUMBER_FORWARD = 0,
    PARLEY_RENUMBER_DUPLICATE,         /* sent already */
    PARLEY_RENUMBER_STALE              /* older than the window */
} parley_renumber_verdict_t;


typedef struct {
    uint64_t  max_ext;                 /* highest extended incoming seq */
    uint64_t  floor_ext;               /* older ones belong to a past
                                          stream (after a resync) */
    uint32_t  ts_offset;               /* outgoing - incoming */
    uint32_t  initial_ts;
    uint32_t  stale;                   /* stale packets in a row */
    uint16_t  seq_offset;              /* outgoing - incoming, mod 2^16 */
    uint16_t  initial_seq;
    uint8_t   started;
    uint8_t   resume;                  /* the next packet starts a span */
    uint64_t  seen[PARLEY_RENUMBER_HISTORY / 64];   /* by incoming ext */
} parley_renumber_t;


/* The first packet out will be numbered initial_seq, stamped initial_ts. */
void parley_renumber_init(parley_renumber_t *rn, uint16_t initial_seq,
    uint32_t initial_ts);

/*
 * Decides for one incoming packet; on PARLEY_RENUMBER_FORWARD sets *seq
 * and *ts to the outgoing numbers.
 */
parley_renumber_verdict_t parley_renumber_packet(parley_renumber_t *rn,
    uint16_t in_seq, uint32_t in_ts, uint16_t *seq, uint32_t *ts);

/*
 * For a NACK: the incoming number of outgoing "seq", if it is within the
 * window (sent, or lost upstream); PARLEY_ERR_NOT_FOUND otherwise.
 */
parley_rc_t parley_renumber_nack(const parley_renumber_t *rn, uint16_t seq,
    uint16_t *in_seq);

/*
 * The leg stopped forwarding for a while (paused for bandwidth) and goes
 * on with the next packet forwarded, which the caller chooses (the first
 * of a keyframe): its number follows the highest sent, so the pause is no
 * gap the subscriber asks to have resent, and what came before it stays
 * out. Timestamps keep their offset: they moved on with the time paused.
 */
void parley_renumber_resume(parley_renumber_t *rn);

/* An incoming RTP timestamp (a sender report's) in the leg's numbers. */
uint32_t parley_renumber_ts(const parley_renumber_t *rn, uint32_t in_ts);


#endif /* _PARLEY_RENUMBER_H_INCLUDED_ */
