/*
 * The rate a stream arrives at, over the last second: what one encoding
 * of a publisher's track costs a subscriber, for the layer allocation
 * (parley_alloc). Bytes go into PARLEY_RATE_SLOTS slots of
 * PARLEY_RATE_SLOT_MS each, a ring over time; the rate is what the slots
 * of the last window hold, so a stream that stops reads 0 a window later.
 *
 * No allocation, no clock (times are passed in, in milliseconds, and a
 * clock that goes back is taken as not moving), O(1) per packet.
 */

#ifndef _PARLEY_RATE_H_INCLUDED_
#define _PARLEY_RATE_H_INCLUDED_


#include <stdint.h>


#define PARLEY_RATE_SLOTS    10
#define PARLEY_RATE_SLOT_MS  100
#define PARLEY_RATE_YOUNG_MS 500           /* read 0 before */
#define PARLEY_RATE_RESTART  1024          /* numbers behind ... */
#define PARLEY_RATE_RESYNC   32            /* ... so many in a row: anew */


typedef struct {
    uint64_t  bytes[PARLEY_RATE_SLOTS];
    uint64_t  slot;                    /* the current slot's number */
    uint64_t  first_ms;                /* of the first packet */
    uint64_t  seq;                     /* the highest numbered counted */
    uint32_t  behind;                  /* far behind it, in a row */
    unsigned  started:1;
} parley_rate_t;


void parley_rate_init(parley_rate_t *r);

/* "bytes" arrived at now_ms. */
void parley_rate_add(parley_rate_t *r, uint64_t bytes, uint64_t now_ms);

/*
 * A packet of "bytes" numbered "seq" (an extended sequence number, above
 * 0) arrived at now_ms: counted only if it is new, so that what a sender
 * repeats, or what is repaired late, does not read as a dearer stream.
 * PARLEY_RATE_RESYNC numbers in a row more than PARLEY_RATE_RESTART
 * behind the highest start the count again from there (a restarted
 * encoder, as parley_renumber follows one); streams interleaved far
 * apart are counted as one.
 */
void parley_rate_add_packet(parley_rate_t *r, uint64_t seq, uint64_t bytes,
    uint64_t now_ms);

/*
 * Bits per second over the last window at now_ms; over the time since
 * the stream started (its first packet, or its first after a window of
 * silence) while that is shorter than the window; 0 while the stream is
 * younger than PARLEY_RATE_YOUNG_MS, whose first burst (a keyframe, a
 * reader catching up) would read as several times its rate: "not
 * measured yet", which parley_alloc takes as "costs nothing yet".
 */
uint64_t parley_rate_bps(parley_rate_t *r, uint64_t now_ms);


#endif /* _PARLEY_RATE_H_INCLUDED_ */
