/*
 * Which layer each section of one subscriber may get, within what its
 * network carries (parley_bwe's estimate): the subscriber's wishes
 * (the "layer" message: high for the large window, low for thumbnails,
 * off), the rates the publishers' encodings arrive at, and one budget.
 *
 * In order, while the budget lasts:
 *
 *   1. audio, always, whatever it costs (but a voice is counted at
 *      most PARLEY_ALLOC_VOICE_BPS: a publisher that sends its audio many
 *      times over must not starve everyone's pictures): a conversation
 *      is its voices;
 *   2. the large window (every section marked large): its lowest arriving
 *      encoding, then each higher one up to its wish;
 *   3. the other video sections, in the order given: each its lowest
 *      arriving encoding, and those that do not fit are paused (the app
 *      shows that);
 *   4. then, in the same order, each of those up to its wish.
 *
 * The result is each section's cap: the highest encoding it may be sent
 * (parley_simulcast_set_cap()), or PARLEY_NONE for paused. An encoding
 * that does not arrive costs nothing and is not chosen; when nothing
 * arrives up to the wish, the nearest arriving encoding above it is the
 * one paid for and sent (as the switcher does); a section with nothing
 * arriving at all keeps its wish (it costs nothing now, and the next
 * allocation sees what arrives). A section wished off is paused by its
 * wish, not by the budget.
 *
 * Against flapping, what a section is sent already costs its rate, but
 * anything more (a higher encoding, or a paused section back) needs a
 * tenth of its rate spare besides: the caller passes each section's
 * previous cap in "prev" (PARLEY_NONE for paused or new).
 *
 * No state, no allocation, no I/O: callers run it when the estimate or
 * the wishes change.
 */

#ifndef _PARLEY_ALLOC_H_INCLUDED_
#define _PARLEY_ALLOC_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "parley_simulcast.h"


#define PARLEY_ALLOC_VOICE_BPS  256000     /* Opus stereo at its best */


typedef struct {
    uint32_t   wish;                           /* 0..2, PARLEY_NONE: off */
    uint32_t   layers;                         /* encodings sent, >= 1 */
    uint32_t   bps[PARLEY_SIMULCAST_LAYERS];   /* each now; 0: absent */
    unsigned   audio:1;
    unsigned   large:1;
    uint32_t   prev;                           /* the last cap */
    uint32_t   cap;                            /* out */
    unsigned   paused:1;                       /* out: for bandwidth */
} parley_alloc_leg_t;


/*
 * A video section's wish and whether it is the large window, from the
 * client's "layer" message: a simulcast section never wished starts at
 * the highest encoding, as its switcher does, and counts as large (the
 * app asks "high" for the large window); a section of one encoding has
 * nothing to choose, and its wish only says whether it is large.
 */
void parley_alloc_wish(parley_alloc_leg_t *leg, int simulcast, int wished,
    uint32_t wish);

/*
 * Sets every leg's cap (and paused) for "budget_bps" (UINT64_MAX: no
 * limit); returns the bits per second allocated, which may pass the
 * budget by the audio alone.
 */
uint64_t parley_alloc(parley_alloc_leg_t *legs, size_t n,
    uint64_t budget_bps);


#endif /* _PARLEY_ALLOC_H_INCLUDED_ */
