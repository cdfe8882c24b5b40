/*
 * parley_lock: the pid-valued spinlock.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parley_lock.h"


#define CHILDREN  4
#define ROUNDS    20000
#define TIMEOUT_S 120           /* for the whole run, and for each child */


typedef struct {
    parley_lock_t      lock;
    volatile uint64_t  counter;    /* plain: only the lock keeps it whole */
} shared_counter_t;


static void
test_lock_basic(void **state)
{
    parley_lock_t  lock;

    (void) state;

    parley_lock_init(&lock);
    assert_int_equal(lock.holder, 0);

    assert_true(parley_trylock(&lock, 100));
    assert_int_equal(lock.holder, 100);
    assert_false(parley_trylock(&lock, 200));
    assert_int_equal(lock.holder, 100);

    /* a process that does not hold the lock cannot free it */
    parley_unlock(&lock, 200);
    assert_int_equal(lock.holder, 100);

    parley_unlock(&lock, 100);
    assert_int_equal(lock.holder, 0);

    parley_lock(&lock, 300);
    assert_int_equal(lock.holder, 300);
    parley_unlock(&lock, 300);
    assert_int_equal(lock.holder, 0);
}


static void
test_force_unlock(void **state)
{
    parley_lock_t  lock;

    (void) state;

    parley_lock_init(&lock);
    parley_lock(&lock, 100);

    assert_int_equal(parley_lock_force_unlock(&lock, 200), 0);
    assert_int_equal(lock.holder, 100);

    assert_int_equal(parley_lock_force_unlock(&lock, 100), 1);
    assert_int_equal(lock.holder, 0);

    assert_int_equal(parley_lock_force_unlock(&lock, 100), 0);
    assert_int_equal(parley_lock_force_unlock(&lock, 0), 0);
    assert_int_equal(lock.holder, 0);

    assert_true(parley_trylock(&lock, 300));
    assert_int_equal(lock.holder, 300);
}


static int
hammer_counter(shared_counter_t *sh, uint32_t self)
{
    int       i;
    uint64_t  v;

    for (i = 0; i < ROUNDS; i++) {
        parley_lock(&sh->lock, self);

        if (sh->lock.holder != self) {
            return 1;
        }

        /* a read-modify-write that loses updates unless excluded */
        v = sh->counter;
        sh->counter = v + 1;

        parley_unlock(&sh->lock, self);
    }

    return 0;
}


static void
test_lock_excludes_processes(void **state)
{
    int                i, status;
    pid_t              pids[CHILDREN];
    shared_counter_t  *sh;

    (void) state;

    sh = mmap(NULL, sizeof(shared_counter_t), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);

    parley_lock_init(&sh->lock);
    sh->counter = 0;

    for (i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);

        if (pids[i] == 0) {
            alarm(TIMEOUT_S);
            _exit(hammer_counter(sh, (uint32_t) getpid()));
        }
    }

    for (i = 0; i < CHILDREN; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }

    assert_int_equal(sh->counter, (uint64_t) CHILDREN * ROUNDS);
    assert_int_equal(sh->lock.holder, 0);

    munmap(sh, sizeof(shared_counter_t));
}


/*
 * A process killed inside its critical section: the next one to want the
 * lock notices that the holder no longer exists and takes it, without
 * anyone else's help.
 */
static void
test_dead_holder(void **state)
{
    int             status;
    pid_t           pid;
    parley_lock_t  *lock;

    (void) state;

    lock = mmap(NULL, sizeof(parley_lock_t), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(lock != MAP_FAILED);
    parley_lock_init(lock);

    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        parley_lock(lock, (uint32_t) getpid());
        kill(getpid(), SIGKILL);
        _exit(1);
    }

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(lock->holder, (uint32_t) pid);

    alarm(TIMEOUT_S);
    parley_lock(lock, (uint32_t) getpid());
    alarm(0);

    assert_int_equal(lock->holder, (uint32_t) getpid());
    parley_unlock(lock, (uint32_t) getpid());

    munmap(lock, sizeof(parley_lock_t));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_dead_holder),
        cmocka_unit_test(test_lock_basic),
        cmocka_unit_test(test_force_unlock),
        cmocka_unit_test(test_lock_excludes_processes),
    };

    /* a lock that is never freed fails the run instead of hanging it */
    alarm(TIMEOUT_S);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
