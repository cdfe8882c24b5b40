/*
 * What the report engines share (parley_rtcp_recv for publishers,
 * parley_rtcp_send for subscriber legs): the report interval timer, the
 * record of a received sender report, and NTP time arithmetic.
 *
 * Times are microseconds on the caller's monotonic clock; NTP times are
 * 64-bit, seconds in the high 32 bits and the fraction in the low 32 (RFC
 * 3550 4). No allocation, no I/O, no clock.
 */

#ifndef _PARLEY_RTCP_REPORT_H_INCLUDED_
#define _PARLEY_RTCP_REPORT_H_INCLUDED_


#include <stdint.h>


#define PARLEY_RTCP_INTERVAL_US     1000000    /* one report a second */


/*
 * RFC 3550 6.2 sets the interval from the session bandwidth with a 5 s
 * minimum, which it allows to shrink to 360 / (session kb/s) seconds: for
 * any WebRTC call above 360 kb/s that is under a second, and RFC 4585 3.4
 * (AVPF) drops the minimum. parley reports every interval_us, randomised
 * to [0.5, 1.5] of it (RFC 3550 6.3.1) so that legs do not report in step,
 * the first after half of it (RFC 3550 6.2). There is no reconsideration:
 * the interval does not depend on the membership.
 */
typedef struct {
    uint64_t   interval_us;
    uint64_t   next_us;
    unsigned   started:1;
} parley_rtcp_timer_t;


/* A sender report as received, with its arrival time (RFC 3550 6.4.1). */
typedef struct {
    uint64_t   ntp;                /* 32.32 */
    uint32_t   rtp_ts;
    uint32_t   packet_count;
    uint32_t   octet_count;
    uint64_t   arrival_us;
} parley_rtcp_sr_info_t;


/* interval_us 0 means PARLEY_RTCP_INTERVAL_US. */
void parley_rtcp_timer_init(parley_rtcp_timer_t *t, uint64_t interval_us);

/* Arms the timer at the first event, half an interval ahead; idempotent. */
void parley_rtcp_timer_start(parley_rtcp_timer_t *t, uint64_t now_us);

/* 1 when started and due. */
int parley_rtcp_timer_due(const parley_rtcp_timer_t *t, uint64_t now_us);

/*
 * After a report: the next one interval_us * (0.5 + random / 2^32) after
 * now_us. "random" is any uniformly random 32-bit value of the caller's.
 */
void parley_rtcp_timer_sent(parley_rtcp_timer_t *t, uint64_t now_us,
    uint32_t random);

/* Microseconds as an NTP duration, and back (both rounding down). */
uint64_t parley_rtcp_us_to_ntp(uint64_t us);
uint64_t parley_rtcp_ntp_to_us(uint64_t ntp);

/* Microseconds to 1/65536 s, the unit of DLSR (RFC 3550 6.4.1). */
uint32_t parley_rtcp_us_to_q16(uint64_t us);


#endif /* _PARLEY_RTCP_REPORT_H_INCLUDED_ */
