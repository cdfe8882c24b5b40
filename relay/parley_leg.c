/*
 * A subscriber's leg: see parley_leg.h.
 */

#include <string.h>

#include "parley_leg.h"


/* the largest packet a leg rewrites before wrapping it as RTX */
#define PARLEY_LEG_MAX_PACKET  2048


static parley_leg_rc_t parley_leg_number(parley_leg_t *leg,
    const parley_leg_packet_t *p, uint64_t now_ms, uint16_t *seq,
    uint32_t *ts);


parley_leg_rc_t
parley_leg_forward(parley_leg_t *leg, const parley_leg_packet_t *p,
    uint64_t now_ms, uint32_t twcc_seq, uint8_t *out, size_t cap,
    size_t *out_len, int *twcc)
{
    uint16_t         seq;
    uint32_t         ts;
    parley_leg_rc_t  rc;

    rc = parley_leg_number(leg, p, now_ms, &seq, &ts);
    if (rc != PARLEY_LEG_SEND) {
        return rc;
    }

    /* a leg is never sent more than its budget, whatever comes in */

    if (!parley_budget_take(&leg->budget, now_ms, p->len)) {
        return PARLEY_LEG_OVER_BUDGET;
    }

    if (parley_forward_rewrite(&leg->map, p->buf, p->len, out, cap, seq, ts,
                               twcc_seq, out_len, twcc)
        != PARLEY_FORWARD_OK)
    {
        return PARLEY_LEG_ERROR;
    }

    leg->sent_ts = ts;

    return PARLEY_LEG_SEND;
}


void
parley_leg_sent(parley_leg_t *leg, size_t payload_len, uint64_t now_ms)
{
    parley_rtcp_send_on_rtp(&leg->sr, leg->sent_ts, payload_len,
                            now_ms * 1000);
}


/*
 * The leg's numbers for a packet, or why it is not the leg's: a simulcast
 * leg's switcher picks the layer and numbers what it forwards; a single
 * stream is renumbered by offsets. Either way the leg sends each of its
 * numbers once.
 */

static parley_leg_rc_t
parley_leg_number(parley_leg_t *leg, const parley_leg_packet_t *p,
    uint64_t now_ms, uint16_t *seq, uint32_t *ts)
{
    uint32_t                    layer;
    parley_simulcast_out_t      sout;
    parley_simulcast_packet_t   sp;

    if (!leg->simulcast) {
        if (leg->paused) {
            return PARLEY_LEG_HOLD;
        }

        /* back from a pause: the picture starts again at a keyframe */

        if (leg->resuming) {
            if (!p->keyframe) {
                if (leg->keyframe) {
                    (void) leg->keyframe(leg, PARLEY_NONE);
                }

                return PARLEY_LEG_HOLD;
            }

            leg->resuming = 0;
        }

        if (parley_renumber_packet(&leg->rn, p->h->seq, p->h->ts, seq, ts)
            != PARLEY_RENUMBER_FORWARD)
        {
            return PARLEY_LEG_HOLD;
        }

        return PARLEY_LEG_SEND;
    }

    sp.layer = p->layer;
    sp.seq = p->h->seq;
    sp.ts = p->h->ts;
    sp.marker = p->h->marker;
    sp.keyframe_start = p->keyframe;
    sp.size = (uint32_t) p->h->payload_len;
    sp.arrival_ms = now_ms;

    if (parley_simulcast_packet(&leg->sw, &sp, &sout)
        != PARLEY_SIMULCAST_FORWARD)
    {
        if (parley_simulcast_keyframe_request(&leg->sw, now_ms, &layer)
            && (leg->keyframe == NULL || !leg->keyframe(leg, layer)))
        {
            /* held back by the leg's own gap: due again */
            parley_simulcast_forget_request(&leg->sw);
        }

        return PARLEY_LEG_HOLD;
    }

    *seq = sout.seq;
    *ts = sout.ts;

    return PARLEY_LEG_SEND;
}


parley_leg_rc_t
parley_leg_nack(parley_leg_t *leg, uint16_t seq, uint64_t now_us,
    parley_leg_nack_t *nack)
{
    nack->seq = seq;
    nack->layer = 0;

    if ((leg->simulcast
         ? parley_simulcast_nack(&leg->sw, seq, &nack->layer, &nack->in_seq)
         : parley_renumber_nack(&leg->rn, seq, &nack->in_seq))
        != PARLEY_OK
        || leg->rtx_ssrc == 0
        || leg->limiter == NULL)
    {
        return PARLEY_LEG_MISSED;
    }

    if (!parley_retransmit_admit(leg->limiter, seq, now_us, 0)) {
        return PARLEY_LEG_LIMITED;
    }

    return PARLEY_LEG_SEND;
}


parley_leg_rc_t
parley_leg_resend(parley_leg_t *leg, const parley_leg_nack_t *nack,
    const parley_leg_packet_t *p, uint64_t now_ms, uint32_t twcc_seq,
    uint8_t *out, size_t cap, size_t *out_len, int *twcc)
{
    size_t    len;
    uint32_t  ts;
    uint8_t   orig[PARLEY_LEG_MAX_PACKET];

    if (!leg->simulcast) {
        ts = parley_renumber_ts(&leg->rn, p->h->ts);

    } else if (parley_simulcast_map_ts(&leg->sw, nack->layer, p->h->ts, &ts)
               != PARLEY_OK)
    {
        return PARLEY_LEG_MISSED;
    }

    /* room for the OSN that RTX adds after the header */

    if (cap < PARLEY_RTP_RTX_OSN_LEN
        || parley_forward_rewrite(&leg->map, p->buf, p->len, orig,
                                  (cap - PARLEY_RTP_RTX_OSN_LEN < sizeof(orig)
                                   ? cap - PARLEY_RTP_RTX_OSN_LEN
                                   : sizeof(orig)),
                                  nack->seq, ts, twcc_seq, &len, twcc)
           != PARLEY_FORWARD_OK
        || parley_retransmit_wrap_rtx(orig, len, leg->rtx_pt, leg->rtx_ssrc,
                                      &leg->rtx_seq, out, cap, out_len)
           != PARLEY_RTP_OK)
    {
        return PARLEY_LEG_ERROR;
    }

    if (!parley_budget_take(&leg->budget, now_ms, *out_len)) {
        return PARLEY_LEG_OVER_BUDGET;
    }

    return PARLEY_LEG_SEND;
}


void
parley_leg_resent(parley_leg_t *leg, const parley_leg_nack_t *nack,
    size_t len, uint64_t now_us)
{
    if (leg->limiter != NULL) {
        parley_retransmit_sent(leg->limiter, nack->seq, len, now_us);
    }
}
