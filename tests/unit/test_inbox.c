/*
 * parley_inbox: the bounded MPSC queue and its wake-up protocol.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parley_inbox.h"


#define SELF         1000
#define PRODUCERS    4
#define PER_PRODUCER 50000
#define WAKE_WAIT_MS 5000
#define TIMEOUT_S    120         /* for the whole run, and for each child */


typedef struct {
    parley_inbox_t  inbox;
    uint64_t        fulls[PRODUCERS];
    uint64_t        wakes[PRODUCERS];
} shared_inbox_t;


static parley_event_t
make_event(uint32_t producer, uint64_t seq)
{
    parley_event_t  ev;

    memset(&ev, 0, sizeof(parley_event_t));
    ev.code = PARLEY_EV_JOINED;
    ev.room = producer;
    ev.participant_id = seq;

    return ev;
}


static void
push_ok(parley_inbox_t *ib, uint64_t seq, int expect_wake)
{
    int             wake;
    parley_event_t  ev;

    ev = make_event(0, seq);
    wake = -1;

    assert_int_equal(parley_inbox_push(ib, &ev, SELF, &wake), PARLEY_OK);
    assert_int_equal(wake, expect_wake);
}


static void
pop_expect(parley_inbox_t *ib, uint64_t seq)
{
    parley_event_t  ev;

    assert_int_equal(parley_inbox_pop(ib, &ev, SELF), PARLEY_OK);
    assert_int_equal(ev.participant_id, seq);
}


static void
test_fifo(void **state)
{
    parley_inbox_t  ib;
    parley_event_t  ev;

    (void) state;

    parley_inbox_init(&ib);
    assert_int_equal(parley_inbox_pop(&ib, &ev, SELF), PARLEY_ERR_EMPTY);

    push_ok(&ib, 1, 1);
    push_ok(&ib, 2, 0);
    push_ok(&ib, 3, 0);

    pop_expect(&ib, 1);
    pop_expect(&ib, 2);
    pop_expect(&ib, 3);
    assert_int_equal(parley_inbox_pop(&ib, &ev, SELF), PARLEY_ERR_EMPTY);
    assert_int_equal(ib.pushed, 3);
    assert_int_equal(ib.dropped, 0);
}


static void
test_wraparound(void **state)
{
    int             wake;
    uint64_t        i, pushed, popped;
    parley_inbox_t  ib;
    parley_event_t  ev;

    (void) state;

    parley_inbox_init(&ib);
    pushed = 0;
    popped = 0;

    /* batches of N - 1 move the slots around the whole ring many times */
    while (pushed < 5 * PARLEY_INBOX_EVENTS) {
        for (i = 0; i < PARLEY_INBOX_EVENTS - 1; i++) {
            ev = make_event(0, pushed++);
            assert_int_equal(parley_inbox_push(&ib, &ev, SELF, &wake),
                             PARLEY_OK);
        }

        while (parley_inbox_pop(&ib, &ev, SELF) == PARLEY_OK) {
            assert_int_equal(ev.participant_id, popped);
            popped++;
        }

        assert_int_equal(popped, pushed);
    }

    assert_true(ib.tail > PARLEY_INBOX_EVENTS);
    assert_int_equal(ib.dropped, 0);
}


static void
test_full(void **state)
{
    int             wake;
    uint64_t        i;
    parley_inbox_t  ib;
    parley_event_t  ev;

    (void) state;

    parley_inbox_init(&ib);

    for (i = 0; i < PARLEY_INBOX_EVENTS; i++) {
        ev = make_event(0, i);
        assert_int_equal(parley_inbox_push(&ib, &ev, SELF, &wake), PARLEY_OK);
    }

    ev = make_event(0, 999);
    assert_int_equal(parley_inbox_push(&ib, &ev, SELF, &wake),
                     PARLEY_ERR_FULL);
    assert_int_equal(parley_inbox_push(&ib, &ev, SELF, &wake),
                     PARLEY_ERR_FULL);
    assert_int_equal(ib.dropped, 2);
    assert_int_equal(ib.pushed, PARLEY_INBOX_EVENTS);

    assert_int_equal(parley_inbox_drain_begin(&ib), 1);
    assert_int_equal(parley_inbox_drain_begin(&ib), 0);

    /* a full queue still wakes a consumer that has not drained it */
    wake = 0;
    assert_int_equal(parley_inbox_push(&ib, &ev, SELF, &wake),
                     PARLEY_ERR_FULL);
    assert_int_equal(wake, 1);
    assert_int_equal(parley_inbox_drain_begin(&ib), 1);

    /* the queued events survive, the dropped ones never appear */
    for (i = 0; i < PARLEY_INBOX_EVENTS; i++) {
        pop_expect(&ib, i);
    }

    assert_int_equal(parley_inbox_pop(&ib, &ev, SELF), PARLEY_ERR_EMPTY);

    push_ok(&ib, 1000, 1);
    pop_expect(&ib, 1000);
}


static void
test_wake_once_until_drain(void **state)
{
    parley_inbox_t  ib;

    (void) state;

    parley_inbox_init(&ib);

    push_ok(&ib, 1, 1);
    push_ok(&ib, 2, 0);
    push_ok(&ib, 3, 0);

    assert_int_equal(parley_inbox_drain_begin(&ib), 0);
    pop_expect(&ib, 1);

    /* after drain_begin, the next push wakes again even mid-drain */
    push_ok(&ib, 4, 1);
    push_ok(&ib, 5, 0);

    pop_expect(&ib, 2);
    pop_expect(&ib, 3);
    pop_expect(&ib, 4);
    pop_expect(&ib, 5);

    /* popping alone does not re-arm the wake-up */
    push_ok(&ib, 6, 0);

    parley_inbox_drain_begin(&ib);
    push_ok(&ib, 7, 1);
}


static void
test_reset(void **state)
{
    int             wake;
    uint64_t        i;
    parley_inbox_t  ib;
    parley_event_t  ev;

    (void) state;

    parley_inbox_init(&ib);

    for (i = 0; i <= PARLEY_INBOX_EVENTS; i++) {
        ev = make_event(0, i);
        (void) parley_inbox_push(&ib, &ev, SELF, &wake);
    }

    parley_inbox_reset(&ib, SELF + 1);

    assert_int_equal(ib.lock.holder, 0);
    assert_int_equal(ib.pushed, 0);
    assert_int_equal(ib.dropped, 0);
    assert_int_equal(parley_inbox_drain_begin(&ib), 0);
    assert_int_equal(parley_inbox_pop(&ib, &ev, SELF), PARLEY_ERR_EMPTY);

    push_ok(&ib, 1, 1);
    pop_expect(&ib, 1);
}


/*
 * A producer rings the doorbell (one byte on a pipe) only when push says
 * so, as a worker would with its wake-up channel.
 */
static int
produce(shared_inbox_t *sh, uint32_t k, int doorbell)
{
    int             wake;
    char            byte;
    uint64_t        seq;
    parley_rc_t     rc;
    parley_event_t  ev;

    byte = 'w';

    for (seq = 0; seq < PER_PRODUCER; seq++) {
        ev = make_event(k, seq);

        for ( ;; ) {
            rc = parley_inbox_push(&sh->inbox, &ev, (uint32_t) getpid(),
                                   &wake);

            if (wake) {
                sh->wakes[k]++;

                if (write(doorbell, &byte, 1) != 1) {
                    return 1;
                }
            }

            if (rc == PARLEY_OK) {
                break;
            }

            if (rc != PARLEY_ERR_FULL) {
                return 1;
            }

            sh->fulls[k]++;
            sched_yield();
        }
    }

    return 0;
}


typedef struct {
    uint64_t  received;
    uint64_t  misordered;
    uint64_t  drains;
    int       lost_wake;
} consumer_result_t;


/* Consumes only when woken: a lost wake-up shows up as a timeout. */
static void
consume(shared_inbox_t *sh, int doorbell, consumer_result_t *res)
{
    char            buf[64];
    uint64_t        next[PRODUCERS];
    parley_event_t  ev;
    struct pollfd   pfd;

    memset(next, 0, sizeof(next));
    memset(res, 0, sizeof(consumer_result_t));

    pfd.fd = doorbell;
    pfd.events = POLLIN;

    while (res->received < (uint64_t) PRODUCERS * PER_PRODUCER) {

        if (poll(&pfd, 1, WAKE_WAIT_MS) != 1) {
            res->lost_wake = 1;
            return;
        }

        if (read(doorbell, buf, sizeof(buf)) <= 0) {
            res->lost_wake = 1;
            return;
        }

        res->drains++;
        (void) parley_inbox_drain_begin(&sh->inbox);

        while (parley_inbox_pop(&sh->inbox, &ev, SELF) == PARLEY_OK) {
            if (ev.room >= PRODUCERS || ev.participant_id != next[ev.room]) {
                res->misordered++;

            } else {
                next[ev.room]++;
            }

            res->received++;
        }
    }
}


static void
test_producer_processes(void **state)
{
    int                i, status, failed, fds[2];
    pid_t              pids[PRODUCERS];
    uint64_t           fulls, wakes;
    shared_inbox_t    *sh;
    consumer_result_t  res;

    (void) state;

    sh = mmap(NULL, sizeof(shared_inbox_t), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);
    assert_int_equal(pipe(fds), 0);

    parley_inbox_init(&sh->inbox);

    for (i = 0; i < PRODUCERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);

        if (pids[i] == 0) {
            alarm(TIMEOUT_S);
            _exit(produce(sh, (uint32_t) i, fds[1]));
        }
    }

    consume(sh, fds[0], &res);

    fulls = 0;
    wakes = 0;

    failed = res.lost_wake || res.misordered != 0
             || res.received != (uint64_t) PRODUCERS * PER_PRODUCER;

    for (i = 0; i < PRODUCERS; i++) {
        if (failed) {
            kill(pids[i], SIGKILL);
        }

        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        fulls += sh->fulls[i];
        wakes += sh->wakes[i];
    }

    assert_false(res.lost_wake);
    assert_int_equal(res.misordered, 0);
    assert_int_equal(res.received, (uint64_t) PRODUCERS * PER_PRODUCER);
    assert_int_equal(sh->inbox.pushed, (uint64_t) PRODUCERS * PER_PRODUCER);
    assert_int_equal(sh->inbox.dropped, fulls);

    /* each clearing of the flag lets exactly one producer wake us */
    assert_true(wakes >= 1);
    assert_true(wakes <= res.drains + 1);

    close(fds[0]);
    close(fds[1]);
    munmap(sh, sizeof(shared_inbox_t));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_wake_once_until_drain),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_producer_processes),
    };

    /* a lock that is never freed fails the run instead of hanging it */
    alarm(TIMEOUT_S);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
