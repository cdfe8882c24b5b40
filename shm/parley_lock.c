/*
 * A pid-valued spinlock in shared memory.
 */

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/types.h>

#include "parley_lock.h"


/*
 * Critical sections are a few hundred instructions at most: a holder that
 * is running frees the lock well within this many pauses; past it, the
 * holder was most likely preempted, and yielding lets it run.
 */
#define PARLEY_LOCK_SPINS  256

/*
 * Yields between two looks at whether the holder still exists: a holder
 * that runs frees the lock long before; one that was killed inside its
 * critical section never will.
 */
#define PARLEY_LOCK_CHECK  64


static void parley_lock_check_holder(parley_lock_t *lock);


static inline void
parley_cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}


void
parley_lock_init(parley_lock_t *lock)
{
    __atomic_store_n(&lock->holder, 0, __ATOMIC_RELEASE);
}


void
parley_lock(parley_lock_t *lock, uint32_t self)
{
    unsigned  n, yields;

    for (yields = 1; /* void */; yields++) {

        for (n = 0; n < PARLEY_LOCK_SPINS; n++) {

            /* read before the CAS so that waiters do not bounce the line */
            if (__atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == 0
                && parley_trylock(lock, self))
            {
                return;
            }

            parley_cpu_pause();
        }

        sched_yield();

        if (yields % PARLEY_LOCK_CHECK == 0) {
            parley_lock_check_holder(lock);
        }
    }
}


/*
 * ESRCH: no such process, it died holding the lock. A holder under
 * another user (EPERM) is alive. What it left half done is the price of
 * going on; the critical sections are kept short to make that rare.
 */
static void
parley_lock_check_holder(parley_lock_t *lock)
{
    uint32_t  holder;

    holder = __atomic_load_n(&lock->holder, __ATOMIC_RELAXED);

    if (holder != 0 && kill((pid_t) holder, 0) == -1 && errno == ESRCH) {
        (void) parley_lock_force_unlock(lock, holder);
    }
}


int
parley_trylock(parley_lock_t *lock, uint32_t self)
{
    uint32_t  expected;

    expected = 0;

    return __atomic_compare_exchange_n(&lock->holder, &expected, self, 0,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}


void
parley_unlock(parley_lock_t *lock, uint32_t self)
{
    uint32_t  expected;

    /*
     * Only the holder frees the lock: a process wrongly declared dead and
     * force-unlocked must not free the lock of whoever took it next.
     */
    expected = self;

    (void) __atomic_compare_exchange_n(&lock->holder, &expected, 0, 0,
                                       __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}


int
parley_lock_force_unlock(parley_lock_t *lock, uint32_t dead)
{
    uint32_t  expected;

    if (dead == 0) {
        return 0;
    }

    expected = dead;

    return __atomic_compare_exchange_n(&lock->holder, &expected, 0, 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}
