/*
 * Layers within a subscriber's budget: see parley_alloc.h.
 */

#include "parley_alloc.h"


static void parley_alloc_base(parley_alloc_leg_t *leg, int64_t *left);
static void parley_alloc_up(parley_alloc_leg_t *leg, int64_t *left);
static uint32_t parley_alloc_top(const parley_alloc_leg_t *leg);
static int64_t parley_alloc_cost(const parley_alloc_leg_t *leg, uint32_t l,
    int64_t more);


uint64_t
parley_alloc(parley_alloc_leg_t *legs, size_t n, uint64_t budget_bps)
{
    size_t   i;
    int64_t  left;

    /* a budget past any sum of rates is no limit (and no negative one) */
    if (budget_bps > (uint64_t) INT64_MAX / 2) {
        budget_bps = (uint64_t) INT64_MAX / 2;
    }

    left = (int64_t) budget_bps;

    for (i = 0; i < n; i++) {
        legs[i].paused = 0;

        if (legs[i].audio) {
            legs[i].cap = 0;
            left -= (legs[i].bps[0] < PARLEY_ALLOC_VOICE_BPS)
                    ? legs[i].bps[0] : PARLEY_ALLOC_VOICE_BPS;

        } else if (legs[i].wish == PARLEY_NONE) {
            legs[i].cap = PARLEY_NONE;
        }
    }

    /* the large window, whole, first */

    for (i = 0; i < n; i++) {
        if (!legs[i].audio && legs[i].large && legs[i].wish != PARLEY_NONE) {
            parley_alloc_base(&legs[i], &left);
            parley_alloc_up(&legs[i], &left);
        }
    }

    /* then every other picture at its lowest, then up to its wish */

    for (i = 0; i < n; i++) {
        if (!legs[i].audio && !legs[i].large && legs[i].wish != PARLEY_NONE) {
            parley_alloc_base(&legs[i], &left);
        }
    }

    for (i = 0; i < n; i++) {
        if (!legs[i].audio && !legs[i].large && legs[i].wish != PARLEY_NONE) {
            parley_alloc_up(&legs[i], &left);
        }
    }

    return (uint64_t) ((int64_t) budget_bps - left);
}


void
parley_alloc_wish(parley_alloc_leg_t *leg, int simulcast, int wished,
    uint32_t wish)
{
    uint32_t  top;

    top = PARLEY_SIMULCAST_LAYERS - 1;

    if (simulcast) {
        leg->wish = wished ? wish : top;
        leg->large = (leg->wish == top);

    } else {
        leg->wish = 0;
        leg->large = (wished && wish == top);
    }
}


/* The lowest arriving encoding, or paused when it does not fit. */
static void
parley_alloc_base(parley_alloc_leg_t *leg, int64_t *left)
{
    uint32_t  l, top;

    top = parley_alloc_top(leg);

    for (l = 0; l <= top; l++) {
        if (leg->bps[l]) {
            break;
        }
    }

    /*
     * Nothing arrives up to the wish: the switcher takes the nearest
     * arriving encoding above it (parley_simulcast_desired()), so that is
     * the one to pay for; nothing arrives at all: nothing to pay, the
     * wish stands.
     */
    if (l > top) {
        for (l = top + 1; l < leg->layers && l < PARLEY_SIMULCAST_LAYERS;
             l++)
        {
            if (leg->bps[l]) {
                break;
            }
        }

        if (l >= leg->layers || l >= PARLEY_SIMULCAST_LAYERS) {
            leg->cap = top;
            return;
        }
    }

    if (parley_alloc_cost(leg, l, leg->bps[l]) > *left) {
        leg->cap = PARLEY_NONE;
        leg->paused = 1;
        return;
    }

    *left -= leg->bps[l];
    leg->cap = l;
}


/* Each higher arriving encoding up to the wish, while the budget lasts. */
static void
parley_alloc_up(parley_alloc_leg_t *leg, int64_t *left)
{
    uint32_t  l, top;
    int64_t   more;

    if (leg->cap == PARLEY_NONE || leg->bps[leg->cap] == 0) {
        return;
    }

    top = parley_alloc_top(leg);

    for (l = leg->cap + 1; l <= top; l++) {
        if (leg->bps[l] == 0) {
            continue;
        }

        more = (int64_t) leg->bps[l] - (int64_t) leg->bps[leg->cap];

        if (parley_alloc_cost(leg, l, more) > *left) {
            return;
        }

        *left -= more;
        leg->cap = l;
    }
}


/*
 * What taking encoding "l" needs spare: "more" if the leg is sent it (or
 * a higher one) already, a tenth of its rate besides if not.
 */
static int64_t
parley_alloc_cost(const parley_alloc_leg_t *leg, uint32_t l, int64_t more)
{
    if (leg->prev != PARLEY_NONE && leg->prev >= l) {
        return more;
    }

    return more + leg->bps[l] / 10;
}


/* The highest encoding the leg may want: its wish, within what is sent. */
static uint32_t
parley_alloc_top(const parley_alloc_leg_t *leg)
{
    uint32_t  layers;

    layers = leg->layers ? leg->layers : 1;

    if (layers > PARLEY_SIMULCAST_LAYERS) {
        layers = PARLEY_SIMULCAST_LAYERS;
    }

    return leg->wish < layers ? leg->wish : layers - 1;
}
