/*
 * Report timer and NTP arithmetic shared by the report engines: see
 * parley_rtcp_report.h.
 */

#include "parley_rtcp_report.h"


#define PARLEY_US_PER_SEC  1000000ULL


void
parley_rtcp_timer_init(parley_rtcp_timer_t *t, uint64_t interval_us)
{
    t->interval_us = interval_us ? interval_us : PARLEY_RTCP_INTERVAL_US;
    t->next_us = 0;
    t->started = 0;
}


void
parley_rtcp_timer_start(parley_rtcp_timer_t *t, uint64_t now_us)
{
    if (t->started) {
        return;
    }

    /* RFC 3550 6.2: the first report after half the interval */
    t->next_us = now_us + t->interval_us / 2;
    t->started = 1;
}


int
parley_rtcp_timer_due(const parley_rtcp_timer_t *t, uint64_t now_us)
{
    return t->started && now_us >= t->next_us;
}


void
parley_rtcp_timer_sent(parley_rtcp_timer_t *t, uint64_t now_us,
    uint32_t random)
{
    /* RFC 3550 6.3.1: uniformly within [0.5, 1.5] of the interval */
    t->next_us = now_us + t->interval_us / 2
                 + (t->interval_us * random >> 32);
    t->started = 1;
}


uint64_t
parley_rtcp_us_to_ntp(uint64_t us)
{
    uint64_t  sec, frac;

    sec = us / PARLEY_US_PER_SEC;
    frac = ((us % PARLEY_US_PER_SEC) << 32) / PARLEY_US_PER_SEC;

    return (sec << 32) | frac;
}


uint64_t
parley_rtcp_ntp_to_us(uint64_t ntp)
{
    return (ntp >> 32) * PARLEY_US_PER_SEC
           + ((ntp & 0xffffffff) * PARLEY_US_PER_SEC >> 32);
}


uint32_t
parley_rtcp_us_to_q16(uint64_t us)
{
    uint64_t  q;

    q = (us / PARLEY_US_PER_SEC) * 65536
        + (us % PARLEY_US_PER_SEC) * 65536 / PARLEY_US_PER_SEC;

    return q > UINT32_MAX ? UINT32_MAX : (uint32_t) q;
}
