/*
 * A spinlock in shared memory whose value is the holder's pid, so that a
 * lock left held by a process that died (kill -9) can be recovered: by
 * whoever cleans up after it (parley_lock_force_unlock), and by a waiter,
 * which looks whether the holder still exists each PARLEY_LOCK_CHECK
 * yields and frees the lock of one that does not. Critical sections are
 * short (no allocation, rarely a system call): spinning, then yielding,
 * is cheaper than a futex.
 */

#ifndef _PARLEY_LOCK_H_INCLUDED_
#define _PARLEY_LOCK_H_INCLUDED_


#include <stdint.h>


typedef struct {
    uint32_t  holder;            /* pid of the holder, 0 when free */
} parley_lock_t;


void parley_lock_init(parley_lock_t *lock);
void parley_lock(parley_lock_t *lock, uint32_t self);
int parley_trylock(parley_lock_t *lock, uint32_t self);
void parley_unlock(parley_lock_t *lock, uint32_t self);

/* Frees the lock if and only if "dead" holds it; returns 1 if it did. */
int parley_lock_force_unlock(parley_lock_t *lock, uint32_t dead);


#endif /* _PARLEY_LOCK_H_INCLUDED_ */
