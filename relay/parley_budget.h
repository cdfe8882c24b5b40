/*
 * A byte budget: a token bucket of bytes that fill at a rate up to a
 * burst. What a subscriber's leg may be sent, whatever its publisher and
 * its own NACKs ask: the cap of a leg's output, so that no subscriber can
 * make the server send more than it was promised.
 *
 * No allocation, no clock (times are passed in, in milliseconds), O(1).
 */

#ifndef _PARLEY_BUDGET_H_INCLUDED_
#define _PARLEY_BUDGET_H_INCLUDED_


#include <stdint.h>


typedef struct {
    uint64_t  rate;            /* bytes a second */
    uint64_t  burst;           /* bytes at most in the bucket */
    uint64_t  tokens;          /* in thousandths of a byte */
    uint64_t  last_ms;
    uint64_t  refused;         /* bytes refused so far */
} parley_budget_t;


/* A full bucket at now_ms. */
void parley_budget_init(parley_budget_t *b, uint64_t rate, uint64_t burst,
    uint64_t now_ms);

/*
 * 1 and the bytes are taken when the bucket holds them at now_ms; 0 and
 * nothing taken (the bytes counted as refused) otherwise. A clock that
 * goes back is taken as not moving.
 */
int parley_budget_take(parley_budget_t *b, uint64_t now_ms, uint64_t bytes);


#endif /* _PARLEY_BUDGET_H_INCLUDED_ */
