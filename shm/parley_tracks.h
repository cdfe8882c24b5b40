/*
 * The shared track table: every published track, the packet ring it is
 * forwarded through, which workers have subscribers to it, and per-worker
 * "tracks with new packets" bitmaps that let an owner wake only the workers
 * that care, once per loop iteration.
 *
 * Layout (all offsets from the region's start, no pointers inside):
 *
 *     parley_tracks_t header | track records | wake bitmaps | rings
 *
 * Every track record has its own ring, laid out when the table is, so
 * publishing a track allocates nothing: the ring is re-initialised.
 *
 * One lock guards publish, unpublish and subscription bookkeeping; functions
 * named *_locked expect the caller to hold it. The per-packet path
 * (parley_tracks_ring, parley_tracks_mark, parley_tracks_collect,
 * parley_tracks_uid) takes no lock and makes no system call.
 *
 * Track indices are reused. A worker that keeps state about a track keeps
 * its uid too, and checks parley_tracks_uid() before trusting the index: a
 * collected index or a subscription may outlive the track it was made for.
 */

#ifndef _PARLEY_TRACKS_H_INCLUDED_
#define _PARLEY_TRACKS_H_INCLUDED_


#include "parley_shm.h"
#include "parley_lock.h"
#include "parley_ring.h"
#include "parley_directory.h"


#define PARLEY_TRACKS_MAGIC      0x7074726bu   /* "ptrk" */
#define PARLEY_TRACKS_VERSION    3
#define PARLEY_TRACK_MID_MAX     15            /* bytes, without the NUL */
#define PARLEY_TRACK_CODEC_MAX   15
#define PARLEY_TRACKS_MASK_WORDS (PARLEY_MAX_INBOXES / 64)
#define PARLEY_TRACK_EXT_IDS     15            /* one-byte ids 1..14 */
#define PARLEY_TRACK_LAYERS      3             /* simulcast encodings */


typedef enum {
    PARLEY_TRACK_AUDIO = 1,
    PARLEY_TRACK_VIDEO,
    PARLEY_TRACK_SCREEN
} parley_track_kind_t;


typedef struct {
    uint32_t   max_tracks;           /* T */
    uint32_t   ring_slots;           /* S, a power of two */
    uint32_t   slot_size;            /* Z, bytes of one RTP packet at most */
} parley_tracks_geometry_t;


/*
 * The publisher's latest sender report of one encoding (RFC 3550 6.4.1),
 * for the readers' own SRs: NTP time, RTP time, and when it arrived (the
 * system's monotonic clock, the same in every process). A seqlock: the
 * owner makes "seq" odd while it writes.
 */
typedef struct {
    uint32_t   seq;
    uint32_t   rtp_ts;
    uint64_t   ntp;
    uint64_t   arrival_us;
} parley_track_sr_t;


/* A worker slot set: bit s of word s / 64 is inbox slot s. */
typedef struct {
    uint64_t   bits[PARLEY_TRACKS_MASK_WORDS];
} parley_slot_mask_t;


typedef struct {
    uint64_t   uid;                  /* never reused; 0: free */
    uint64_t   room_uid;
    uint64_t   publisher;            /* participant id */
    uint32_t   generation;           /* bumped at publish and unpublish */
    uint16_t   owner;                /* inbox slot of the ring's writer */
    uint8_t    kind;                 /* parley_track_kind_t */
    uint8_t    reserved;
    uint32_t   ssrc;
    uint32_t   rtx_ssrc;             /* 0 if none */
    uint32_t   next_free;            /* free-list link while free */
    uint8_t    pt;                   /* the publisher's payload types */
    uint8_t    rtx_pt;
    uint8_t    layers;               /* simulcast encodings; 0: one */
    uint8_t    reserved2;
    /* what each of the publisher's extension ids carries, by a code the
       media plane defines (0: not used): readers rebuild the extension
       block in their own numbering */
    uint8_t    ext[PARLEY_TRACK_EXT_IDS];
    uint8_t    reserved3;
    char       mid[PARLEY_TRACK_MID_MAX + 1];
    char       codec[PARLEY_TRACK_CODEC_MAX + 1];
    uint64_t   subscribed[PARLEY_TRACKS_MASK_WORDS];  /* atomic */
    parley_track_sr_t  sr[PARLEY_TRACK_LAYERS];    /* the owner writes */
} parley_track_t;


typedef struct {
    uint32_t        magic;
    uint32_t        version;
    parley_tracks_geometry_t  geometry;
    uint32_t        in_use;
    uint32_t        free_track;      /* free-list head */
    uint32_t        generation;      /* bumped at every publish/unpublish */
    uint32_t        wake_words;      /* bitmap words per worker */
    uint64_t        next_uid;
    uint64_t        size;            /* region size it was laid out for */
    uint64_t        wake_offset;
    uint64_t        wake_stride;
    uint64_t        rings_offset;
    uint64_t        ring_stride;
    parley_lock_t   lock;
    uint32_t        reserved;
} parley_tracks_t;


/* What the publisher says about a track; strings are NUL-terminated. */
typedef struct {
    uint64_t        room_uid;
    uint64_t        publisher;
    uint16_t        owner;
    uint8_t         kind;
    uint32_t        ssrc;
    uint32_t        rtx_ssrc;
    uint8_t         pt;
    uint8_t         rtx_pt;
    uint8_t         layers;
    uint8_t         ext[PARLEY_TRACK_EXT_IDS];
    const char     *mid;             /* <= PARLEY_TRACK_MID_MAX, or NULL */
    const char     *codec;           /* <= PARLEY_TRACK_CODEC_MAX, or NULL */
} parley_track_info_t;


/* Bytes needed for the geometry; 0 if it is invalid or too large. */
size_t parley_tracks_size(const parley_tracks_geometry_t *geometry);

/*
 * Lays out an empty table, with every ring, in [mem, mem + size); "mem" must
 * be PARLEY_RING_ALIGN aligned (PARLEY_ERR_INVAL otherwise, and for a bad
 * geometry). PARLEY_ERR_NOSPACE if size < parley_tracks_size().
 */
parley_rc_t parley_tracks_init(void *mem, size_t size,
    const parley_tracks_geometry_t *geometry);

/*
 * Checks that [mem, mem + size) holds a table laid out with this geometry
 * and sets *tracks: PARLEY_ERR_GEOMETRY if it was laid out otherwise,
 * PARLEY_ERR_INVAL if it holds none.
 */
parley_rc_t parley_tracks_attach(void *mem, size_t size,
    const parley_tracks_geometry_t *geometry, parley_tracks_t **tracks);

void parley_tracks_lock(parley_tracks_t *tracks, uint32_t self);
void parley_tracks_unlock(parley_tracks_t *tracks, uint32_t self);

/*
 * Takes a free record, fills it from *info, re-initialises its ring and
 * sets *track to its index. PARLEY_ERR_FULL when all T are in use,
 * PARLEY_ERR_INVAL for a bad owner, kind, or a string too long. The caller
 * (the owner) starts writing the ring only after this returns.
 */
parley_rc_t parley_tracks_publish_locked(parley_tracks_t *tracks,
    const parley_track_info_t *info, uint32_t *track);

/*
 * Frees the record: its uid becomes 0 first, so that lock-free readers
 * notice, and its subscriptions are cleared. The owner stops writing the
 * ring before calling it.
 */
void parley_tracks_unpublish_locked(parley_tracks_t *tracks, uint32_t track);

parley_rc_t parley_tracks_find_locked(parley_tracks_t *tracks, uint64_t uid,
    uint32_t *track);

/*
 * Tracks of a room, in index order: the first index >= "from" whose room is
 * room_uid, PARLEY_NONE at the end. Walk with from = previous + 1.
 */
uint32_t parley_tracks_room_next_locked(parley_tracks_t *tracks,
    uint64_t room_uid, uint32_t from);

/* How many tracks the room has in the table. */
uint32_t parley_tracks_room_count_locked(parley_tracks_t *tracks,
    uint64_t room_uid);

/*
 * A worker's first local subscriber to the track sets its slot's bit, its
 * last one clears it. Both check that the track is still the one with
 * "uid" (PARLEY_ERR_NOT_FOUND otherwise), so a bit is never left on a
 * record reused for another track.
 */
parley_rc_t parley_tracks_subscribe_locked(parley_tracks_t *tracks,
    uint32_t track, uint64_t uid, uint16_t slot);
parley_rc_t parley_tracks_unsubscribe_locked(parley_tracks_t *tracks,
    uint32_t track, uint64_t uid, uint16_t slot);

/*
 * A worker slot changed hands (its worker died or exited): unpublishes the
 * tracks it owned, clears its subscription bits and its wake bitmap.
 * Returns the number of tracks unpublished.
 */
uint32_t parley_tracks_release_slot_locked(parley_tracks_t *tracks,
    uint16_t slot);

/*
 * Owner: publishes an SR of the track's encoding "layer". Reader: copies
 * the latest, 0 when none was published (or the writer is at it).
 */
void parley_tracks_sr_store(parley_tracks_t *tracks, uint32_t track,
    uint32_t layer, uint64_t ntp, uint32_t rtp_ts, uint64_t arrival_us);
int parley_tracks_sr_load(parley_tracks_t *tracks, uint32_t track,
    uint32_t layer, uint64_t *ntp, uint32_t *rtp_ts, uint64_t *arrival_us);

/* Lock-free accessors; NULL or 0 for an index out of range. */
parley_track_t *parley_tracks_track(parley_tracks_t *tracks, uint32_t track);
parley_ring_t *parley_tracks_ring(parley_tracks_t *tracks, uint32_t track);
uint64_t parley_tracks_uid(parley_tracks_t *tracks, uint32_t track);
int parley_tracks_subscribed(parley_tracks_t *tracks, uint32_t track,
    uint16_t slot);

/*
 * Owner, after writing packets into the track's ring (once per loop
 * iteration and track is enough): sets the track's bit in the wake bitmap
 * of every subscribed worker, and adds to *wake the slots whose pending
 * flag went from clear to set; the caller writes each of those slots'
 * eventfd once, after marking all its tracks. Returns how many slots it
 * added.
 */
uint32_t parley_tracks_mark(parley_tracks_t *tracks, uint32_t track,
    parley_slot_mask_t *wake);

/*
 * Consumer, once per wake-up: clears its pending flag, then takes its
 * bitmap, writing the indices of the tracks with new packets into
 * out[0 .. *n). "cap" must be at least max_tracks (PARLEY_ERR_INVAL
 * otherwise, and nothing is taken).
 */
parley_rc_t parley_tracks_collect(parley_tracks_t *tracks, uint16_t slot,
    uint32_t *out, uint32_t cap, uint32_t *n);


#endif /* _PARLEY_TRACKS_H_INCLUDED_ */
