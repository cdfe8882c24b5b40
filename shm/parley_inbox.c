/*
 * Per-worker inbox: a bounded MPSC queue of control events.
 *
 * head and tail run freely and wrap at 2^32; the slot is the low bits.
 * Producers serialise on the lock; the single consumer moves head alone.
 */

#include <string.h>

#include "parley_inbox.h"


#define PARLEY_INBOX_MASK  (PARLEY_INBOX_EVENTS - 1)


_Static_assert((PARLEY_INBOX_EVENTS & PARLEY_INBOX_MASK) == 0,
               "PARLEY_INBOX_EVENTS must be a power of two");
_Static_assert(sizeof(parley_event_t) == 64, "parley_event_t is 64 bytes");


void
parley_inbox_init(parley_inbox_t *ib)
{
    memset(ib, 0, sizeof(parley_inbox_t));
    parley_lock_init(&ib->lock);
}


void
parley_inbox_reset(parley_inbox_t *ib, uint32_t self)
{
    parley_lock(&ib->lock, self);

    __atomic_store_n(&ib->wake_pending, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ib->overflowed, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ib->head, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&ib->tail, 0, __ATOMIC_RELEASE);
    ib->pushed = 0;
    ib->dropped = 0;

    parley_unlock(&ib->lock, self);
}


parley_rc_t
parley_inbox_push(parley_inbox_t *ib, const parley_event_t *ev,
    uint32_t self, int *wake)
{
    uint32_t     head, tail;
    parley_rc_t  rc;

    parley_lock(&ib->lock, self);

    tail = __atomic_load_n(&ib->tail, __ATOMIC_RELAXED);

    /* acquire: the consumer has finished copying out the slot it freed */
    head = __atomic_load_n(&ib->head, __ATOMIC_ACQUIRE);

    if (tail - head >= PARLEY_INBOX_EVENTS) {
        ib->dropped++;
        __atomic_store_n(&ib->overflowed, 1, __ATOMIC_SEQ_CST);
        rc = PARLEY_ERR_FULL;

    } else {
        ib->events[tail & PARLEY_INBOX_MASK] = *ev;

        /*
         * seq_cst, like the wake flag below and the consumer's clearing of
         * it and its load of tail: if this producer finds the flag still
         * set, the consumer's clearing comes later in the single total
         * order, so its next load of tail sees this event.
         */
        __atomic_store_n(&ib->tail, tail + 1, __ATOMIC_SEQ_CST);
        ib->pushed++;
        rc = PARLEY_OK;
    }

    parley_unlock(&ib->lock, self);

    /* even when full: a consumer that missed events must learn it */
    *wake = (__atomic_exchange_n(&ib->wake_pending, 1, __ATOMIC_SEQ_CST)
             == 0);

    return rc;
}


int
parley_inbox_drain_begin(parley_inbox_t *ib)
{
    /* cleared before popping, so a push from now on wakes us again */
    __atomic_store_n(&ib->wake_pending, 0, __ATOMIC_SEQ_CST);

    return __atomic_exchange_n(&ib->overflowed, 0, __ATOMIC_SEQ_CST) != 0;
}


parley_rc_t
parley_inbox_pop(parley_inbox_t *ib, parley_event_t *ev, uint32_t self)
{
    uint32_t  head, tail;

    /* one consumer: head is ours alone, and pops need no lock */
    (void) self;

    head = __atomic_load_n(&ib->head, __ATOMIC_RELAXED);
    tail = __atomic_load_n(&ib->tail, __ATOMIC_SEQ_CST);

    if (head == tail) {
        return PARLEY_ERR_EMPTY;
    }

    *ev = ib->events[head & PARLEY_INBOX_MASK];

    /* release: the slot may be overwritten only after the copy above */
    __atomic_store_n(&ib->head, head + 1, __ATOMIC_RELEASE);

    return PARLEY_OK;
}
