/*
 * Loss detection for one received RTP stream: which packets the SFU asks
 * the publisher to send again, with generic NACKs (RFC 4585 6.2.1).
 *
 * Every received packet of the stream (and the original sequence number of
 * every RTX packet, RFC 4588 4) goes to parley_nack_on_packet(). A gap in
 * the sequence numbers puts the missing numbers on a bounded list; each is
 * asked for when it has been missing for first_delay_us (late packets are
 * not lost), then again every round-trip time at most max_retries times,
 * and forgotten after max_age_us or when it arrives. parley_nack_build()
 * appends one NACK for what is due now, so calling it on every packet or
 * from a timer never sends more than one request per number per interval.
 *
 * When recovery is hopeless (a gap longer than the list, a number given
 * up) the stream wants a keyframe: parley_nack_keyframe_wanted() says so
 * once, and the caller sends a PLI (RFC 4585 6.3.1).
 *
 * Times are microseconds on a monotonic clock. Fixed-size state, no
 * allocation, no I/O.
 */

#ifndef _PARLEY_NACK_H_INCLUDED_
#define _PARLEY_NACK_H_INCLUDED_


#include "parley_rtcp.h"


#define PARLEY_NACK_MAX_MISSING     256    /* numbers on the list */
#define PARLEY_NACK_MAX_PER_BUILD   64     /* numbers in one NACK packet */
#define PARLEY_NACK_MAX_MISORDER    1000   /* further back: a new numbering */
#define PARLEY_NACK_DEFAULT_RTT_US  100000 /* until the caller knows it */


typedef enum {
    PARLEY_NACK_IN_ORDER = 0,          /* the next number */
    PARLEY_NACK_GAP,                   /* numbers were skipped: listed */
    PARLEY_NACK_RECOVERED,             /* a listed number arrived */
    PARLEY_NACK_OLD,                   /* late or duplicate, not listed */
    PARLEY_NACK_RESET                  /* a jump: the list is dropped */
} parley_nack_event_t;


/* Tuning; parley_nack_params_default() gives the values in brackets. */
typedef struct {
    uint64_t  first_delay_us;          /* [5000] wait for reordering */
    uint64_t  min_retry_us;            /* [10000] floor of the interval */
    uint64_t  max_age_us;              /* [1000000] then give up */
    uint32_t  max_retries;             /* [10] requests per number */
} parley_nack_params_t;


typedef struct {
    uint64_t  ext_seq;                 /* 0: removed */
    uint64_t  first_us;                /* when found missing */
    uint64_t  sent_us;                 /* last request; 0: none yet */
    uint32_t  retries;
} parley_nack_entry_t;


typedef struct {
    parley_nack_params_t  params;
    uint64_t              highest;     /* extended, highest received */
    uint32_t              head;        /* oldest entry */
    uint32_t              count;       /* entries, removed ones included */
    uint64_t              requested;   /* numbers put in NACKs, in total */
    uint64_t              recovered;
    uint64_t              given_up;
    unsigned              started:1;
    unsigned              keyframe_wanted:1;
    parley_nack_entry_t   entry[PARLEY_NACK_MAX_MISSING];
} parley_nack_t;


void parley_nack_params_default(parley_nack_params_t *params);

/* "params" may be NULL for the defaults. */
void parley_nack_init(parley_nack_t *n, const parley_nack_params_t *params);

/* Accounts one received sequence number. */
parley_nack_event_t parley_nack_on_packet(parley_nack_t *n, uint16_t seq,
    uint64_t now_us);

/*
 * Writes up to "cap" numbers due for a request at now_us, oldest first,
 * and counts them as requested. rtt_us 0 means not known yet.
 */
size_t parley_nack_collect(parley_nack_t *n, uint64_t now_us,
    uint64_t rtt_us, uint16_t *seqs, size_t cap);

/*
 * Appends a NACK with what is due (up to PARLEY_NACK_MAX_PER_BUILD
 * numbers): PARLEY_RTP_OK, PARLEY_RTP_DONE when nothing is due, or
 * PARLEY_RTP_ERR_NOSPACE, after which nothing counts as requested.
 */
parley_rtp_rc_t parley_nack_build(parley_nack_t *n, parley_rtcp_writer_t *w,
    uint32_t sender_ssrc, uint32_t media_ssrc, uint64_t now_us,
    uint64_t rtt_us);

/* The earliest time a listed number becomes due; 0 when none is listed. */
uint64_t parley_nack_next_us(const parley_nack_t *n, uint64_t rtt_us);

/* 1 once after recovery became hopeless; the caller then sends a PLI. */
int parley_nack_keyframe_wanted(parley_nack_t *n);

/* Numbers listed and not yet arrived nor given up. */
size_t parley_nack_missing(const parley_nack_t *n);


#endif /* _PARLEY_NACK_H_INCLUDED_ */
