/*
 * A byte budget: see parley_budget.h.
 */

#include "parley_budget.h"


void
parley_budget_init(parley_budget_t *b, uint64_t rate, uint64_t burst,
    uint64_t now_ms)
{
    b->rate = rate;
    b->burst = burst;
    b->tokens = burst * 1000;
    b->last_ms = now_ms;
    b->refused = 0;
}


int
parley_budget_take(parley_budget_t *b, uint64_t now_ms, uint64_t bytes)
{
    uint64_t  elapsed, cap;

    cap = b->burst * 1000;

    if (now_ms > b->last_ms) {
        elapsed = now_ms - b->last_ms;
        b->last_ms = now_ms;

        /* a second's rate in thousandths is rate * 1000 a 1000 ms */
        if (elapsed >= cap / (b->rate ? b->rate : 1) + 1) {
            b->tokens = cap;

        } else {
            b->tokens += elapsed * b->rate;

            if (b->tokens > cap) {
                b->tokens = cap;
            }
        }
    }

    if (bytes * 1000 > b->tokens) {
        b->refused += bytes;
        return 0;
    }

    b->tokens -= bytes * 1000;

    return 1;
}
