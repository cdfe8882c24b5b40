/*
 * The shared track table: see parley_tracks.h.
 *
 * Records are a preallocated array threaded by a free list. Each worker
 * slot's wake state (a pending flag and a T-bit bitmap) starts on its own
 * cache line, so markers for one worker do not bounce another's line.
 *
 * Wake-ups follow the inbox's protocol (parley_inbox.c): the marker sets
 * the track bit, then exchanges the pending flag with 1 and wakes only if
 * it was 0; the consumer stores 0 into the flag, then exchanges each bitmap
 * word with 0. All four are seq_cst. A marker that finds the flag already
 * set therefore did so before the consumer's next clearing in the single
 * total order, so the exchange that follows that clearing takes its bit.
 */

#include <string.h>

#include "parley_tracks.h"


typedef struct {
    uint32_t   pending;
    uint32_t   reserved;
    uint64_t   bits[];
} parley_tracks_wake_t;


static size_t parley_tracks_align(size_t n);
static int parley_tracks_geometry_valid(const parley_tracks_geometry_t *g);
static int parley_tracks_layout(const parley_tracks_geometry_t *g,
    uint64_t *wake_offset, uint64_t *wake_stride, uint64_t *rings_offset,
    uint64_t *ring_stride, uint64_t *total);
static parley_track_t *parley_tracks_records(parley_tracks_t *tracks);
static parley_tracks_wake_t *parley_tracks_wake(parley_tracks_t *tracks,
    uint16_t slot);
static void parley_tracks_wake_clear(parley_tracks_t *tracks, uint16_t slot);
static int parley_tracks_copy_str(char *dst, size_t cap, const char *src);


size_t
parley_tracks_size(const parley_tracks_geometry_t *geometry)
{
    uint64_t  wo, ws, ro, rs, total;

    if (!parley_tracks_layout(geometry, &wo, &ws, &ro, &rs, &total)) {
        return 0;
    }

    return (size_t) total;
}


parley_rc_t
parley_tracks_init(void *mem, size_t size,
    const parley_tracks_geometry_t *geometry)
{
    uint32_t          i;
    uint64_t          wo, ws, ro, rs, total;
    parley_rc_t       rc;
    parley_track_t   *rec;
    parley_tracks_t  *tracks;

    if (mem == NULL || (uintptr_t) mem % PARLEY_RING_ALIGN != 0
        || !parley_tracks_layout(geometry, &wo, &ws, &ro, &rs, &total))
    {
        return PARLEY_ERR_INVAL;
    }

    if (size < total) {
        return PARLEY_ERR_NOSPACE;
    }

    /* the rings lay themselves out */
    memset(mem, 0, ro);

    tracks = mem;
    tracks->version = PARLEY_TRACKS_VERSION;
    tracks->geometry = *geometry;
    tracks->wake_words = (geometry->max_tracks + 63) / 64;
    tracks->next_uid = 1;
    tracks->size = size;
    tracks->wake_offset = wo;
    tracks->wake_stride = ws;
    tracks->rings_offset = ro;
    tracks->ring_stride = rs;
    parley_lock_init(&tracks->lock);

    rec = parley_tracks_records(tracks);

    for (i = 0; i < geometry->max_tracks; i++) {
        rec[i].next_free = (i + 1 < geometry->max_tracks) ? i + 1
                                                          : PARLEY_NONE;

        rc = parley_ring_init(parley_tracks_ring(tracks, i), rs,
                              geometry->ring_slots, geometry->slot_size);
        if (rc != PARLEY_OK) {
            return rc;
        }
    }

    tracks->free_track = 0;

    /* last: a layout cut short is never mistaken for a table */
    __atomic_store_n(&tracks->magic, PARLEY_TRACKS_MAGIC, __ATOMIC_RELEASE);

    return PARLEY_OK;
}


parley_rc_t
parley_tracks_attach(void *mem, size_t size,
    const parley_tracks_geometry_t *geometry, parley_tracks_t **tracks)
{
    parley_tracks_t  *t;

    if (mem == NULL || (uintptr_t) mem % PARLEY_RING_ALIGN != 0
        || size < sizeof(parley_tracks_t) || geometry == NULL
        || tracks == NULL)
    {
        return PARLEY_ERR_INVAL;
    }

    t = mem;

    if (__atomic_load_n(&t->magic, __ATOMIC_ACQUIRE) != PARLEY_TRACKS_MAGIC) {
        return PARLEY_ERR_INVAL;
    }

    if (t->version != PARLEY_TRACKS_VERSION
        || t->geometry.max_tracks != geometry->max_tracks
        || t->geometry.ring_slots != geometry->ring_slots
        || t->geometry.slot_size != geometry->slot_size
        || t->size != size)
    {
        return PARLEY_ERR_GEOMETRY;
    }

    *tracks = t;

    return PARLEY_OK;
}


void
parley_tracks_lock(parley_tracks_t *tracks, uint32_t self)
{
    parley_lock(&tracks->lock, self);
}


void
parley_tracks_unlock(parley_tracks_t *tracks, uint32_t self)
{
    parley_unlock(&tracks->lock, self);
}


parley_rc_t
parley_tracks_publish_locked(parley_tracks_t *tracks,
    const parley_track_info_t *info, uint32_t *track)
{
    uint32_t         i, w;
    parley_rc_t      rc;
    parley_track_t  *rec;

    if (info->owner >= PARLEY_MAX_INBOXES
        || info->kind < PARLEY_TRACK_AUDIO
        || info->kind > PARLEY_TRACK_SCREEN)
    {
        return PARLEY_ERR_INVAL;
    }

    i = tracks->free_track;

    if (i == PARLEY_NONE) {
        return PARLEY_ERR_FULL;
    }

    rec = parley_tracks_track(tracks, i);

    if (!parley_tracks_copy_str(rec->mid, sizeof(rec->mid), info->mid)
        || !parley_tracks_copy_str(rec->codec, sizeof(rec->codec),
                                   info->codec))
    {
        return PARLEY_ERR_INVAL;
    }

    rc = parley_ring_init(parley_tracks_ring(tracks, i), tracks->ring_stride,
                          tracks->geometry.ring_slots,
                          tracks->geometry.slot_size);
    if (rc != PARLEY_OK) {
        return rc;
    }

    tracks->free_track = rec->next_free;
    tracks->in_use++;
    tracks->generation++;

    rec->next_free = PARLEY_NONE;
    rec->room_uid = info->room_uid;
    rec->publisher = info->publisher;
    rec->owner = info->owner;
    rec->kind = info->kind;
    rec->ssrc = info->ssrc;
    rec->rtx_ssrc = info->rtx_ssrc;
    rec->pt = info->pt;
    rec->rtx_pt = info->rtx_pt;
    rec->layers = info->layers;
    memcpy(rec->ext, info->ext, sizeof(rec->ext));
    rec->generation++;

    for (w = 0; w < PARLEY_TRACKS_MASK_WORDS; w++) {
        __atomic_store_n(&rec->subscribed[w], 0, __ATOMIC_RELAXED);
    }

    for (w = 0; w < PARLEY_TRACK_LAYERS; w++) {
        __atomic_store_n(&rec->sr[w].seq, 0, __ATOMIC_RELAXED);
        rec->sr[w].arrival_us = 0;
    }

    /* release, last: whoever sees the uid sees the record and its ring */
    __atomic_store_n(&rec->uid, tracks->next_uid++, __ATOMIC_RELEASE);

    *track = i;

    return PARLEY_OK;
}


void
parley_tracks_unpublish_locked(parley_tracks_t *tracks, uint32_t track)
{
    uint32_t         w;
    parley_track_t  *rec;

    rec = parley_tracks_track(tracks, track);

    if (rec == NULL || __atomic_load_n(&rec->uid, __ATOMIC_RELAXED) == 0) {
        return;
    }

    /* first, so that a marker or reader racing with us can tell */
    __atomic_store_n(&rec->uid, 0, __ATOMIC_SEQ_CST);

    for (w = 0; w < PARLEY_TRACKS_MASK_WORDS; w++) {
        __atomic_store_n(&rec->subscribed[w], 0, __ATOMIC_RELAXED);
    }

    for (w = 0; w < PARLEY_TRACK_LAYERS; w++) {
        __atomic_store_n(&rec->sr[w].seq, 0, __ATOMIC_RELAXED);
        rec->sr[w].arrival_us = 0;
    }

    rec->generation++;
    rec->room_uid = 0;
    rec->next_free = tracks->free_track;
    tracks->free_track = track;
    tracks->in_use--;
    tracks->generation++;
}


parley_rc_t
parley_tracks_find_locked(parley_tracks_t *tracks, uint64_t uid,
    uint32_t *track)
{
    uint32_t         i;
    parley_track_t  *rec;

    if (uid == 0) {
        return PARLEY_ERR_NOT_FOUND;
    }

    rec = parley_tracks_records(tracks);

    for (i = 0; i < tracks->geometry.max_tracks; i++) {
        if (rec[i].uid == uid) {
            *track = i;
            return PARLEY_OK;
        }
    }

    return PARLEY_ERR_NOT_FOUND;
}


uint32_t
parley_tracks_room_next_locked(parley_tracks_t *tracks, uint64_t room_uid,
    uint32_t from)
{
    uint32_t         i;
    parley_track_t  *rec;

    rec = parley_tracks_records(tracks);

    for (i = from; i < tracks->geometry.max_tracks; i++) {
        if (rec[i].uid != 0 && rec[i].room_uid == room_uid) {
            return i;
        }
    }

    return PARLEY_NONE;
}


uint32_t
parley_tracks_room_count_locked(parley_tracks_t *tracks, uint64_t room_uid)
{
    uint32_t  i, n;

    n = 0;

    for (i = parley_tracks_room_next_locked(tracks, room_uid, 0);
         i != PARLEY_NONE;
         i = parley_tracks_room_next_locked(tracks, room_uid, i + 1))
    {
        n++;
    }

    return n;
}


parley_rc_t
parley_tracks_subscribe_locked(parley_tracks_t *tracks, uint32_t track,
    uint64_t uid, uint16_t slot)
{
    parley_track_t  *rec;

    rec = parley_tracks_track(tracks, track);

    if (rec == NULL || slot >= PARLEY_MAX_INBOXES) {
        return PARLEY_ERR_INVAL;
    }

    if (uid == 0 || rec->uid != uid) {
        return PARLEY_ERR_NOT_FOUND;
    }

    /* atomic: the owner reads the mask in parley_tracks_mark() unlocked */
    __atomic_fetch_or(&rec->subscribed[slot / 64],
                      (uint64_t) 1 << (slot % 64), __ATOMIC_SEQ_CST);

    return PARLEY_OK;
}


parley_rc_t
parley_tracks_unsubscribe_locked(parley_tracks_t *tracks, uint32_t track,
    uint64_t uid, uint16_t slot)
{
    parley_track_t  *rec;

    rec = parley_tracks_track(tracks, track);

    if (rec == NULL || slot >= PARLEY_MAX_INBOXES) {
        return PARLEY_ERR_INVAL;
    }

    if (uid == 0 || rec->uid != uid) {
        return PARLEY_ERR_NOT_FOUND;
    }

    __atomic_fetch_and(&rec->subscribed[slot / 64],
                       ~((uint64_t) 1 << (slot % 64)), __ATOMIC_SEQ_CST);

    return PARLEY_OK;
}


uint32_t
parley_tracks_release_slot_locked(parley_tracks_t *tracks, uint16_t slot)
{
    uint32_t         i, n;
    parley_track_t  *rec;

    if (slot >= PARLEY_MAX_INBOXES) {
        return 0;
    }

    rec = parley_tracks_records(tracks);
    n = 0;

    for (i = 0; i < tracks->geometry.max_tracks; i++) {
        if (rec[i].uid == 0) {
            continue;
        }

        if (rec[i].owner == slot) {
            parley_tracks_unpublish_locked(tracks, i);
            n++;
            continue;
        }

        __atomic_fetch_and(&rec[i].subscribed[slot / 64],
                           ~((uint64_t) 1 << (slot % 64)), __ATOMIC_SEQ_CST);
    }

    parley_tracks_wake_clear(tracks, slot);

    return n;
}


parley_track_t *
parley_tracks_track(parley_tracks_t *tracks, uint32_t track)
{
    if (track >= tracks->geometry.max_tracks) {
        return NULL;
    }

    return &parley_tracks_records(tracks)[track];
}


parley_ring_t *
parley_tracks_ring(parley_tracks_t *tracks, uint32_t track)
{
    if (track >= tracks->geometry.max_tracks) {
        return NULL;
    }

    return (parley_ring_t *) ((uintptr_t) tracks + tracks->rings_offset
                              + (uint64_t) track * tracks->ring_stride);
}


uint64_t
parley_tracks_uid(parley_tracks_t *tracks, uint32_t track)
{
    parley_track_t  *rec;

    rec = parley_tracks_track(tracks, track);

    return rec ? __atomic_load_n(&rec->uid, __ATOMIC_ACQUIRE) : 0;
}


int
parley_tracks_subscribed(parley_tracks_t *tracks, uint32_t track,
    uint16_t slot)
{
    uint64_t         word;
    parley_track_t  *rec;

    rec = parley_tracks_track(tracks, track);

    if (rec == NULL || slot >= PARLEY_MAX_INBOXES) {
        return 0;
    }

    word = __atomic_load_n(&rec->subscribed[slot / 64], __ATOMIC_ACQUIRE);

    return (word >> (slot % 64)) & 1;
}


uint32_t
parley_tracks_mark(parley_tracks_t *tracks, uint32_t track,
    parley_slot_mask_t *wake)
{
    uint16_t               slot;
    uint32_t               w, n;
    uint64_t               subs, bit;
    parley_track_t        *rec;
    parley_tracks_wake_t  *ws;

    rec = parley_tracks_track(tracks, track);

    if (rec == NULL) {
        return 0;
    }

    bit = (uint64_t) 1 << (track % 64);
    n = 0;

    for (w = 0; w < PARLEY_TRACKS_MASK_WORDS; w++) {
        subs = __atomic_load_n(&rec->subscribed[w], __ATOMIC_ACQUIRE);

        while (subs != 0) {
            slot = (uint16_t) (w * 64 + __builtin_ctzll(subs));
            subs &= subs - 1;

            ws = parley_tracks_wake(tracks, slot);

            /* seq_cst, with the flag below: see the comment at the top */
            __atomic_fetch_or(&ws->bits[track / 64], bit, __ATOMIC_SEQ_CST);

            if (__atomic_exchange_n(&ws->pending, 1, __ATOMIC_SEQ_CST) == 0) {
                wake->bits[w] |= (uint64_t) 1 << (slot % 64);
                n++;
            }
        }
    }

    return n;
}


parley_rc_t
parley_tracks_collect(parley_tracks_t *tracks, uint16_t slot,
    uint32_t *out, uint32_t cap, uint32_t *n)
{
    uint32_t               w, count;
    uint64_t               bits;
    parley_tracks_wake_t  *ws;

    if (slot >= PARLEY_MAX_INBOXES || cap < tracks->geometry.max_tracks) {
        return PARLEY_ERR_INVAL;
    }

    ws = parley_tracks_wake(tracks, slot);

    /* cleared before taking the bits, so a mark from now on wakes us again */
    __atomic_store_n(&ws->pending, 0, __ATOMIC_SEQ_CST);

    count = 0;

    for (w = 0; w < tracks->wake_words; w++) {

        /* cheap check first: most words are idle and stay in our cache */
        if (__atomic_load_n(&ws->bits[w], __ATOMIC_RELAXED) == 0) {
            continue;
        }

        bits = __atomic_exchange_n(&ws->bits[w], 0, __ATOMIC_SEQ_CST);

        while (bits != 0) {
            out[count++] = w * 64 + __builtin_ctzll(bits);
            bits &= bits - 1;
        }
    }

    *n = count;

    return PARLEY_OK;
}


static size_t
parley_tracks_align(size_t n)
{
    return (n + PARLEY_RING_ALIGN - 1) & ~((size_t) PARLEY_RING_ALIGN - 1);
}


static int
parley_tracks_geometry_valid(const parley_tracks_geometry_t *g)
{
    /* indices are 32 bits and PARLEY_NONE is one of them */
    return g != NULL && g->max_tracks != 0 && g->max_tracks < PARLEY_NONE
           && parley_ring_size(g->ring_slots, g->slot_size) != 0;
}


/*
 * Offsets of the parts for a geometry; 0 if it is invalid or its size does
 * not fit a size_t.
 */
static int
parley_tracks_layout(const parley_tracks_geometry_t *g, uint64_t *wake_offset,
    uint64_t *wake_stride, uint64_t *rings_offset, uint64_t *ring_stride,
    uint64_t *total)
{
    uint64_t  words, ring, rings;

    if (!parley_tracks_geometry_valid(g)) {
        return 0;
    }

    words = ((uint64_t) g->max_tracks + 63) / 64;
    ring = parley_tracks_align(parley_ring_size(g->ring_slots, g->slot_size));

    /* T < 2^32, so records and bitmaps cannot overflow 64 bits */
    *wake_offset = parley_tracks_align(sizeof(parley_tracks_t)
                       + (uint64_t) g->max_tracks * sizeof(parley_track_t));
    *wake_stride = parley_tracks_align(sizeof(parley_tracks_wake_t)
                                       + words * sizeof(uint64_t));
    *rings_offset = *wake_offset + PARLEY_MAX_INBOXES * *wake_stride;
    *ring_stride = ring;

    if (ring > (SIZE_MAX - *rings_offset) / g->max_tracks) {
        return 0;
    }

    rings = ring * g->max_tracks;
    *total = *rings_offset + rings;

    return 1;
}


static parley_track_t *
parley_tracks_records(parley_tracks_t *tracks)
{
    return (parley_track_t *) ((uintptr_t) tracks + sizeof(parley_tracks_t));
}


static parley_tracks_wake_t *
parley_tracks_wake(parley_tracks_t *tracks, uint16_t slot)
{
    return (parley_tracks_wake_t *) ((uintptr_t) tracks
                                     + tracks->wake_offset
                                     + slot * tracks->wake_stride);
}


static void
parley_tracks_wake_clear(parley_tracks_t *tracks, uint16_t slot)
{
    uint32_t               w;
    parley_tracks_wake_t  *ws;

    ws = parley_tracks_wake(tracks, slot);

    for (w = 0; w < tracks->wake_words; w++) {
        __atomic_store_n(&ws->bits[w], 0, __ATOMIC_SEQ_CST);
    }

    __atomic_store_n(&ws->pending, 0, __ATOMIC_SEQ_CST);
}


/* Copies a string that must fit; NULL copies as "". Returns 0 if too long. */
static int
parley_tracks_copy_str(char *dst, size_t cap, const char *src)
{
    size_t  len;

    len = (src == NULL) ? 0 : strnlen(src, cap);

    if (len == cap) {
        return 0;
    }

    memset(dst, 0, cap);

    if (len != 0) {
        memcpy(dst, src, len);
    }

    return 1;
}


void
parley_tracks_sr_store(parley_tracks_t *tracks, uint32_t track,
    uint32_t layer, uint64_t ntp, uint32_t rtp_ts, uint64_t arrival_us)
{
    uint32_t            seq;
    parley_track_sr_t  *sr;

    if (track >= tracks->geometry.max_tracks || layer >= PARLEY_TRACK_LAYERS)
    {
        return;
    }

    sr = &parley_tracks_records(tracks)[track].sr[layer];

    seq = __atomic_load_n(&sr->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&sr->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);

    __atomic_store_n(&sr->ntp, ntp, __ATOMIC_RELAXED);
    __atomic_store_n(&sr->rtp_ts, rtp_ts, __ATOMIC_RELAXED);
    __atomic_store_n(&sr->arrival_us, arrival_us, __ATOMIC_RELAXED);

    __atomic_store_n(&sr->seq, seq + 2, __ATOMIC_RELEASE);
}


int
parley_tracks_sr_load(parley_tracks_t *tracks, uint32_t track,
    uint32_t layer, uint64_t *ntp, uint32_t *rtp_ts, uint64_t *arrival_us)
{
    uint32_t            seq;
    parley_track_sr_t  *sr;

    if (track >= tracks->geometry.max_tracks || layer >= PARLEY_TRACK_LAYERS)
    {
        return 0;
    }

    sr = &parley_tracks_records(tracks)[track].sr[layer];

    seq = __atomic_load_n(&sr->seq, __ATOMIC_ACQUIRE);

    if (seq == 0 || (seq & 1)) {
        return 0;
    }

    *ntp = __atomic_load_n(&sr->ntp, __ATOMIC_RELAXED);
    *rtp_ts = __atomic_load_n(&sr->rtp_ts, __ATOMIC_RELAXED);
    *arrival_us = __atomic_load_n(&sr->arrival_us, __ATOMIC_RELAXED);

    __atomic_thread_fence(__ATOMIC_ACQUIRE);

    return __atomic_load_n(&sr->seq, __ATOMIC_RELAXED) == seq;
}
