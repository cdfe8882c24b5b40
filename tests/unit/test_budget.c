/*
 * Unit tests for the byte budget of a leg (relay/parley_budget.c).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "parley_budget.h"


/* the burst at once, then the rate, never more */
static void
test_rate_and_burst(void **state)
{
    int              sent;
    uint64_t         t, bytes;
    parley_budget_t  b;

    (void) state;

    parley_budget_init(&b, 100000, 20000, 1000);

    for (sent = 0; parley_budget_take(&b, 1000, 1000); sent++) {
        /* the burst */
    }

    assert_int_equal(sent, 20);
    assert_int_equal(b.refused, 1000);

    /* ten seconds at 1,000 bytes a millisecond asked, 100 a ms allowed */
    bytes = 0;

    for (t = 1001; t <= 11000; t++) {
        bytes += 1000 * (uint64_t) parley_budget_take(&b, t, 1000);
    }

    assert_true(bytes <= 10 * 100000);
    assert_true(bytes >= 10 * 100000 - 1000);
}


/* a long silence fills the bucket, and no more */
static void
test_silence_and_clock(void **state)
{
    int              sent;
    parley_budget_t  b;

    (void) state;

    parley_budget_init(&b, 1000, 5000, 0);
    assert_true(parley_budget_take(&b, 0, 5000));
    assert_false(parley_budget_take(&b, 0, 1));

    for (sent = 0; parley_budget_take(&b, UINT32_MAX, 1000); sent++) {
        /* the bucket is full once */
    }

    assert_int_equal(sent, 5);

    /* a clock going back takes nothing and gives nothing */
    assert_false(parley_budget_take(&b, 10, 1));
    assert_true(parley_budget_take(&b, UINT32_MAX + 1000ULL, 1000));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_rate_and_burst),
        cmocka_unit_test(test_silence_and_clock),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
