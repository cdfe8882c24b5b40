/*
 * Dominant speaker detection: see parley_speaker.h.
 *
 * Per participant, a ring of PARLEY_SPEAKER_BUCKETS closed 100 ms buckets
 * and two running sums over its newest short_buckets and medium_buckets
 * entries. A packet lands in the participant's open bucket; when time moves
 * into a later bucket the open one closes (its value is the mean strength
 * of its packets) and the sums slide. Closing is bounded by the ring size,
 * so a packet costs O(1) however long the participant was quiet.
 *
 * Scores compare as sums: "mean of the window >= x dB" is written
 * "sum >= x * buckets", which keeps everything in integers.
 *
 * Memory: the detector header, then part[capacity], then
 * member[capacity], the indices of the added participants (dense, so that a
 * tick visits only them).
 */

#include <string.h>

#include "parley_speaker.h"


#define PARLEY_SPEAKER_MASK  (PARLEY_SPEAKER_BUCKETS - 1)


typedef struct {
    uint64_t  bucket;              /* the open bucket: time / BUCKET_MS */
    uint64_t  active_ms;           /* last tick that found it active */
    uint32_t  acc;                 /* sum of strengths in the open bucket */
    uint32_t  pos;                 /* its index in member[] */
    uint16_t  packets;             /* packets in the open bucket */
    uint16_t  short_sum;
    uint16_t  medium_sum;
    uint8_t   present;
    uint8_t   active;              /* short window, as of the last tick */
    uint8_t   talking;             /* newest closed bucket, likewise */
    uint8_t   hist[PARLEY_SPEAKER_BUCKETS];   /* closed bucket values */
} parley_speaker_part_t;


struct parley_speaker_s {
    parley_speaker_params_t  params;
    uint32_t                 capacity;
    uint32_t                 members;
    uint32_t                 short_buckets;
    uint32_t                 medium_buckets;
    uint32_t                 speaker;
    uint32_t                 left;         /* removed speaker, unannounced */
    uint32_t                 challenger;
    uint32_t                 changed;      /* a change ever happened */
    uint64_t                 challenge_ms; /* challenger leads since */
    uint64_t                 change_ms;    /* last change */
    parley_speaker_part_t    part[];
};


static int parley_speaker_params_valid(const parley_speaker_params_t *prm);
static uint32_t *parley_speaker_member(parley_speaker_t *det);
static uint32_t parley_speaker_strength(const parley_speaker_t *det,
    uint32_t level, unsigned vad);
static void parley_speaker_close(parley_speaker_t *det,
    parley_speaker_part_t *pt, uint32_t value);
static void parley_speaker_age(parley_speaker_t *det,
    parley_speaker_part_t *pt, uint64_t bucket);
static void parley_speaker_age_all(parley_speaker_t *det, uint64_t now_ms);
static uint32_t parley_speaker_best(parley_speaker_t *det);
static int parley_speaker_holds_floor(parley_speaker_t *det,
    uint64_t now_ms);
static int parley_speaker_leads(parley_speaker_t *det, uint32_t c,
    uint64_t now_ms);
static int parley_speaker_change(parley_speaker_t *det, uint32_t to,
    uint32_t from, parley_speaker_reason_t reason, uint64_t now_ms,
    parley_speaker_event_t *ev);
static uint64_t parley_speaker_elapsed(uint64_t now, uint64_t since);


void
parley_speaker_params_default(parley_speaker_params_t *params)
{
    /*
     * Browsers measure the level after their own noise suppression: speech
     * sits around -20 to -45 dBov, room tone and comfort noise around -70
     * dBov and below (RFC 6464 3 allows down to -127, digital silence).
     * -60 dBov splits the two with some room on each side.
     */
    params->noise_level = 60;

    /*
     * The sender's voice-activity decision (RFC 6464 3, the V bit) already
     * tells keyboard and music from speech; it costs nothing to trust it.
     */
    params->use_vad = 1;

    /*
     * 300 ms spans a syllable or two: short enough to follow turn-taking,
     * long enough to bridge the gaps between words. 1.5 s spans a phrase:
     * a speaker's pause to breathe or think does not empty it.
     */
    params->short_ms = 300;
    params->medium_ms = 1500;

    /*
     * A mean of 3 dB over 300 ms is one 100 ms bucket of quiet speech
     * (9 dB above the noise threshold); one loud click in a bucket of five
     * packets stays below it.
     */
    params->active_db = 3;

    /*
     * 6 dB (twice the power) is more than the spread between two people
     * talking over each other at a similar level, so crosstalk does not
     * flap; a clearly louder or longer talker still gets through.
     */
    params->margin_db = 6;

    /*
     * 500 ms is longer than backchannel ("yes", "mm-hm", a laugh) and
     * shorter than a sentence: the floor moves for a statement only.
     */
    params->hold_ms = 500;

    /*
     * After 2 s of silence the speaker has finished, not paused; from then
     * on a quiet challenger that could never beat a 6 dB margin may take
     * over.
     */
    params->silence_ms = 2000;

    /* watching the big window change more than once a second is tiring */
    params->min_interval_ms = 1000;
}


size_t
parley_speaker_size(uint32_t capacity)
{
    if (capacity == 0 || capacity > PARLEY_SPEAKER_MAX_CAPACITY) {
        return 0;
    }

    return sizeof(parley_speaker_t)
           + (size_t) capacity * sizeof(parley_speaker_part_t)
           + (size_t) capacity * sizeof(uint32_t);
}


parley_rc_t
parley_speaker_init(void *mem, size_t size, uint32_t capacity,
    const parley_speaker_params_t *params, parley_speaker_t **det)
{
    size_t             need;
    parley_speaker_t  *d;

    need = parley_speaker_size(capacity);

    if (mem == NULL || det == NULL || need == 0
        || (uintptr_t) mem % PARLEY_SPEAKER_ALIGN)
    {
        return PARLEY_ERR_INVAL;
    }

    if (params != NULL && !parley_speaker_params_valid(params)) {
        return PARLEY_ERR_INVAL;
    }

    if (size < need) {
        return PARLEY_ERR_NOSPACE;
    }

    memset(mem, 0, need);
    d = mem;

    if (params != NULL) {
        d->params = *params;

    } else {
        parley_speaker_params_default(&d->params);
    }

    d->capacity = capacity;
    d->short_buckets = d->params.short_ms / PARLEY_SPEAKER_BUCKET_MS;
    d->medium_buckets = d->params.medium_ms / PARLEY_SPEAKER_BUCKET_MS;
    d->speaker = PARLEY_NONE;
    d->left = PARLEY_NONE;
    d->challenger = PARLEY_NONE;

    *det = d;

    return PARLEY_OK;
}


parley_rc_t
parley_speaker_add(parley_speaker_t *det, uint32_t p, uint64_t now_ms)
{
    parley_speaker_part_t  *pt;

    if (p >= det->capacity) {
        return PARLEY_ERR_INVAL;
    }

    pt = &det->part[p];

    if (pt->present) {
        return PARLEY_OK;
    }

    memset(pt, 0, sizeof(parley_speaker_part_t));
    pt->present = 1;
    pt->bucket = now_ms / PARLEY_SPEAKER_BUCKET_MS;
    pt->pos = det->members;

    parley_speaker_member(det)[det->members++] = p;

    return PARLEY_OK;
}


parley_rc_t
parley_speaker_remove(parley_speaker_t *det, uint32_t p)
{
    uint32_t               last, *member;
    parley_speaker_part_t  *pt;

    if (p >= det->capacity || !det->part[p].present) {
        return PARLEY_ERR_NOT_FOUND;
    }

    pt = &det->part[p];
    member = parley_speaker_member(det);

    /* swap the last member into p's place */
    last = member[--det->members];
    member[pt->pos] = last;
    det->part[last].pos = pt->pos;

    pt->present = 0;
    pt->active = 0;
    pt->talking = 0;

    if (det->challenger == p) {
        det->challenger = PARLEY_NONE;
    }

    if (det->speaker == p) {
        det->left = p;
        det->speaker = PARLEY_NONE;
    }

    return PARLEY_OK;
}


parley_rc_t
parley_speaker_packet(parley_speaker_t *det, uint32_t p, uint64_t now_ms,
    uint32_t level, unsigned vad)
{
    parley_speaker_part_t  *pt;

    if (p >= det->capacity || level > PARLEY_SPEAKER_LEVEL_MAX) {
        return PARLEY_ERR_INVAL;
    }

    pt = &det->part[p];

    if (!pt->present) {
        return PARLEY_ERR_NOT_FOUND;
    }

    /* a packet stamped before the open bucket is counted in it */
    parley_speaker_age(det, pt, now_ms / PARLEY_SPEAKER_BUCKET_MS);

    /* a flood saturates the count instead of wrapping the mean */
    if (pt->packets < UINT16_MAX) {
        pt->acc += parley_speaker_strength(det, level, vad);
        pt->packets++;
    }

    return PARLEY_OK;
}


int
parley_speaker_tick(parley_speaker_t *det, uint64_t now_ms,
    parley_speaker_event_t *ev)
{
    uint32_t  c, gone;

    parley_speaker_age_all(det, now_ms);

    if (det->left != PARLEY_NONE) {
        gone = det->left;
        det->left = PARLEY_NONE;

        return parley_speaker_change(det, parley_speaker_best(det), gone,
                                     PARLEY_SPEAKER_LEFT, now_ms, ev);
    }

    c = parley_speaker_best(det);

    if (c == PARLEY_NONE || !parley_speaker_leads(det, c, now_ms)) {
        det->challenger = PARLEY_NONE;
        return 0;
    }

    if (c != det->challenger) {
        det->challenger = c;
        det->challenge_ms = now_ms;
    }

    if (parley_speaker_elapsed(now_ms, det->challenge_ms)
        < det->params.hold_ms)
    {
        return 0;
    }

    /*
     * The short window trails speech by up to short_ms: a challenger takes
     * over only while still talking, so that the trail does not stretch a
     * 400 ms remark past hold_ms.
     */
    if (!det->part[c].talking) {
        return 0;
    }

    /* the lead keeps counting while the interval runs out */
    if (det->changed
        && parley_speaker_elapsed(now_ms, det->change_ms)
           < det->params.min_interval_ms)
    {
        return 0;
    }

    return parley_speaker_change(det, c, det->speaker, PARLEY_SPEAKER_ELECTED,
                                 now_ms, ev);
}


uint32_t
parley_speaker_current(const parley_speaker_t *det)
{
    return det->speaker;
}


static int
parley_speaker_params_valid(const parley_speaker_params_t *prm)
{
    uint32_t  short_buckets, medium_buckets;

    short_buckets = prm->short_ms / PARLEY_SPEAKER_BUCKET_MS;
    medium_buckets = prm->medium_ms / PARLEY_SPEAKER_BUCKET_MS;

    /*
     * The ring must keep the bucket that leaves the medium window until its
     * value is subtracted: at most BUCKETS - 1 buckets in a window.
     */
    return prm->noise_level <= PARLEY_SPEAKER_LEVEL_MAX
           && short_buckets >= 1
           && short_buckets <= medium_buckets
           && medium_buckets < PARLEY_SPEAKER_BUCKETS
           && prm->active_db >= 1
           && prm->active_db <= PARLEY_SPEAKER_LEVEL_MAX
           && prm->margin_db <= PARLEY_SPEAKER_LEVEL_MAX;
}


static uint32_t *
parley_speaker_member(parley_speaker_t *det)
{
    return (uint32_t *) &det->part[det->capacity];
}


/* dB above the noise threshold, 0 for noise and for unvoiced packets */
static uint32_t
parley_speaker_strength(const parley_speaker_t *det, uint32_t level,
    unsigned vad)
{
    if (det->params.use_vad && !vad) {
        return 0;
    }

    if (level >= det->params.noise_level) {
        return 0;
    }

    return det->params.noise_level - level;
}


/* closes the open bucket with "value" and opens the next one */
static void
parley_speaker_close(parley_speaker_t *det, parley_speaker_part_t *pt,
    uint32_t value)
{
    uint32_t  leaves_short, leaves_medium;
    uint64_t  b;

    b = pt->bucket;

    /* read before the write: slot b held bucket b - 16, in no window */
    leaves_short = pt->hist[(b - det->short_buckets) & PARLEY_SPEAKER_MASK];
    leaves_medium = pt->hist[(b - det->medium_buckets) & PARLEY_SPEAKER_MASK];

    pt->hist[b & PARLEY_SPEAKER_MASK] = (uint8_t) value;
    pt->short_sum = (uint16_t) (pt->short_sum + value - leaves_short);
    pt->medium_sum = (uint16_t) (pt->medium_sum + value - leaves_medium);
    pt->bucket = b + 1;
}


/* brings a participant's windows up to "bucket", the new open bucket */
static void
parley_speaker_age(parley_speaker_t *det, parley_speaker_part_t *pt,
    uint64_t bucket)
{
    uint32_t  mean;

    if (bucket <= pt->bucket) {
        return;
    }

    if (bucket - pt->bucket >= PARLEY_SPEAKER_BUCKETS) {
        /* everything in the windows is older than the windows */
        memset(pt->hist, 0, sizeof(pt->hist));
        pt->short_sum = 0;
        pt->medium_sum = 0;
        pt->acc = 0;
        pt->packets = 0;
        pt->bucket = bucket;
        return;
    }

    mean = pt->packets ? (pt->acc + pt->packets / 2) / pt->packets : 0;
    pt->acc = 0;
    pt->packets = 0;

    parley_speaker_close(det, pt, mean);

    while (pt->bucket < bucket) {
        parley_speaker_close(det, pt, 0);
    }
}


static void
parley_speaker_age_all(parley_speaker_t *det, uint64_t now_ms)
{
    uint32_t                i, *member;
    parley_speaker_part_t  *pt;

    member = parley_speaker_member(det);

    for (i = 0; i < det->members; i++) {
        pt = &det->part[member[i]];

        parley_speaker_age(det, pt, now_ms / PARLEY_SPEAKER_BUCKET_MS);

        pt->active = pt->short_sum >= det->params.active_db
                                      * det->short_buckets;
        pt->talking = pt->hist[(pt->bucket - 1) & PARLEY_SPEAKER_MASK]
                      >= det->params.active_db;

        if (pt->active) {
            pt->active_ms = now_ms;
        }
    }
}


/*
 * The active participant, other than the speaker, with the highest medium
 * score; ties go to the higher short score, then to the lower index, so
 * that the outcome does not depend on the order of member[].
 */
static uint32_t
parley_speaker_best(parley_speaker_t *det)
{
    uint32_t                i, p, best, *member;
    parley_speaker_part_t  *pt, *bt;

    member = parley_speaker_member(det);
    best = PARLEY_NONE;
    bt = NULL;

    for (i = 0; i < det->members; i++) {
        p = member[i];
        pt = &det->part[p];

        if (!pt->active || p == det->speaker) {
            continue;
        }

        if (bt == NULL
            || pt->medium_sum > bt->medium_sum
            || (pt->medium_sum == bt->medium_sum
                && (pt->short_sum > bt->short_sum
                    || (pt->short_sum == bt->short_sum && p < best))))
        {
            best = p;
            bt = pt;
        }
    }

    return best;
}


static int
parley_speaker_holds_floor(parley_speaker_t *det, uint64_t now_ms)
{
    parley_speaker_part_t  *sp;

    if (det->speaker == PARLEY_NONE) {
        return 0;
    }

    sp = &det->part[det->speaker];

    return sp->active
           || parley_speaker_elapsed(now_ms, sp->active_ms)
              < det->params.silence_ms;
}


/* whether the active challenger "c" is ahead of the speaker by enough */
static int
parley_speaker_leads(parley_speaker_t *det, uint32_t c, uint64_t now_ms)
{
    uint32_t                margin;
    parley_speaker_part_t  *cp, *sp;

    if (det->speaker == PARLEY_NONE) {
        return 1;
    }

    cp = &det->part[c];
    sp = &det->part[det->speaker];

    margin = parley_speaker_holds_floor(det, now_ms) ? det->params.margin_db
                                                     : 0;

    return cp->short_sum >= sp->short_sum + margin * det->short_buckets
           && cp->medium_sum >= sp->medium_sum + margin * det->medium_buckets;
}


static int
parley_speaker_change(parley_speaker_t *det, uint32_t to, uint32_t from,
    parley_speaker_reason_t reason, uint64_t now_ms,
    parley_speaker_event_t *ev)
{
    det->speaker = to;
    det->challenger = PARLEY_NONE;
    det->changed = 1;
    det->change_ms = now_ms;

    ev->speaker = to;
    ev->previous = from;
    ev->reason = reason;
    ev->time_ms = now_ms;

    return 1;
}


/* time must not go backwards; if it does, no time has passed */
static uint64_t
parley_speaker_elapsed(uint64_t now, uint64_t since)
{
    return now > since ? now - since : 0;
}
