/*
 * What the RTCP files (parley_rtcp.c, parley_rtcp_twcc.c) share between
 * them; not part of parley_rtcp.h's interface.
 */

#ifndef _PARLEY_RTCP_INT_H_INCLUDED_
#define _PARLEY_RTCP_INT_H_INCLUDED_

#include "parley_rtcp.h"


#define PARLEY_RTCP_FB_LEN            8    /* two SSRCs, RFC 4585 6.1 */


/* A feedback message of the given type and format, or ERR_INVAL. */
parley_rtp_rc_t parley_rtcp_parse_fb_of(const parley_rtcp_packet_t *pkt,
    uint8_t type, uint8_t fmt, parley_rtcp_fb_t *fb);

/* Room for a packet of "len" bytes at the writer's end, or NULL. */
uint8_t *parley_rtcp_reserve(parley_rtcp_writer_t *w, size_t len);

/* The common header and both SSRCs of a feedback message (RFC 4585 6.1). */
void parley_rtcp_put_fb(uint8_t *p, uint8_t fmt, uint8_t type, size_t len,
    uint32_t sender_ssrc, uint32_t media_ssrc);


#endif /* _PARLEY_RTCP_INT_H_INCLUDED_ */
