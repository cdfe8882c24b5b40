/*
 * Dominant (active) speaker detection for one room, from the audio levels
 * that senders put in the RFC 6464 "ssrc-audio-level" header extension.
 *
 * The caller feeds every audio packet (participant, arrival time, level,
 * voice-activity flag) and calls parley_speaker_tick() every 100 ms or so;
 * a tick reports at most one change of speaker. Time is passed in, in
 * milliseconds, and must not go backwards; nothing here reads a clock,
 * allocates or does I/O.
 *
 * Scoring: each participant's packets are grouped into 100 ms buckets; a
 * bucket's value is the mean loudness of its packets in dB above a noise
 * threshold (0 for silence, noise, and packets without voice activity). A
 * short window (300 ms) of buckets says "talking now", a medium window
 * (1.5 s) says "has been talking".
 *
 * Hysteresis, all of which must hold before the speaker changes:
 *
 *   - a challenger is an active participant (short score above active_db)
 *     and the best of them by medium score;
 *   - while the speaker holds the floor (was active within silence_ms), the
 *     challenger must beat the speaker by margin_db on both windows; once
 *     the speaker has been silent that long, being ahead is enough;
 *   - the challenger must lead at every tick for hold_ms, and still be
 *     talking (its newest 100 ms bucket) when it takes over;
 *   - the previous change must be at least min_interval_ms old.
 *
 * The speaker is kept through silence: a room where nobody talks keeps
 * showing the last speaker. Only parley_speaker_remove() of the speaker
 * forces a change outside these rules: the next tick names the most active
 * remaining participant, or nobody.
 *
 * Cost: parley_speaker_packet() is O(1); parley_speaker_tick() is O(number
 * of participants added). The detector lives in memory the caller provides
 * (parley_speaker_size() bytes) and holds no pointers, but it has no lock:
 * one writer at a time.
 */

#ifndef _PARLEY_SPEAKER_H_INCLUDED_
#define _PARLEY_SPEAKER_H_INCLUDED_


#include "parley_shm.h"


#define PARLEY_SPEAKER_BUCKET_MS     100
#define PARLEY_SPEAKER_BUCKETS       16    /* history per participant */
#define PARLEY_SPEAKER_MAX_CAPACITY  65536
#define PARLEY_SPEAKER_ALIGN         8     /* of the caller's memory */

/* RFC 6464 3: the level is 0..127, in -dBov; 127 is digital silence */
#define PARLEY_SPEAKER_LEVEL_MAX     127


typedef struct parley_speaker_s  parley_speaker_t;


/*
 * Tuning, in the units the names say. parley_speaker_params_default()
 * fills in the values below; the comments in parley_speaker.c explain them.
 * Windows count whole 100 ms buckets (the ms are rounded down).
 */
typedef struct {
    uint32_t  noise_level;      /* 60: packets at -60 dBov or quieter are
                                   noise */
    uint32_t  use_vad;          /* 1: a packet with the V bit clear is
                                   silence */
    uint32_t  short_ms;         /* 300: "talking now" window */
    uint32_t  medium_ms;        /* 1500: "has been talking" window, at most
                                   1500 */
    uint32_t  active_db;        /* 3: short-window mean that counts as
                                   talking, at least 1 */
    uint32_t  margin_db;        /* 6: lead a challenger needs on both
                                   windows */
    uint32_t  hold_ms;          /* 500: how long the lead must last */
    uint32_t  silence_ms;       /* 2000: silence after which the speaker no
                                   longer holds the floor */
    uint32_t  min_interval_ms;  /* 1000: between two elected changes */
} parley_speaker_params_t;


typedef enum {
    PARLEY_SPEAKER_ELECTED = 1,    /* won under the hysteresis rules */
    PARLEY_SPEAKER_LEFT            /* the previous speaker was removed */
} parley_speaker_reason_t;


typedef struct {
    uint32_t                 speaker;    /* PARLEY_NONE: nobody */
    uint32_t                 previous;   /* PARLEY_NONE: nobody */
    parley_speaker_reason_t  reason;
    uint64_t                 time_ms;
} parley_speaker_event_t;


void parley_speaker_params_default(parley_speaker_params_t *params);

/*
 * Bytes needed for a room of up to "capacity" participants (indices
 * 0..capacity - 1); 0 if capacity is 0 or above PARLEY_SPEAKER_MAX_CAPACITY.
 */
size_t parley_speaker_size(uint32_t capacity);

/*
 * Lays out an empty detector in "mem" (PARLEY_SPEAKER_ALIGN aligned) and
 * sets *det. "params" may be NULL for the defaults. Returns
 * PARLEY_ERR_INVAL for bad arguments or parameters, PARLEY_ERR_NOSPACE if
 * "size" is below parley_speaker_size().
 */
parley_rc_t parley_speaker_init(void *mem, size_t size, uint32_t capacity,
    const parley_speaker_params_t *params, parley_speaker_t **det);

/*
 * Starts scoring participant "p", silent so far. Adding a participant
 * already added changes nothing. PARLEY_ERR_INVAL if p is out of range.
 */
parley_rc_t parley_speaker_add(parley_speaker_t *det, uint32_t p,
    uint64_t now_ms);

/*
 * Forgets participant "p" (left, or muted: a muted sender sends nothing to
 * score). If p was the speaker, the next tick names a successor.
 * PARLEY_ERR_NOT_FOUND if p was not added.
 */
parley_rc_t parley_speaker_remove(parley_speaker_t *det, uint32_t p);

/*
 * Scores one audio packet of "p". "level" is the extension's 7-bit level,
 * "vad" its V bit; pass vad = 1 if the extension was negotiated without
 * voice activity (RFC 6464 4: "vad=off"). PARLEY_ERR_INVAL for a bad p or
 * level, PARLEY_ERR_NOT_FOUND if p was not added.
 */
parley_rc_t parley_speaker_packet(parley_speaker_t *det, uint32_t p,
    uint64_t now_ms, uint32_t level, unsigned vad);

/*
 * Decides. Returns 1 and fills *ev when the speaker changed, 0 otherwise.
 */
int parley_speaker_tick(parley_speaker_t *det, uint64_t now_ms,
    parley_speaker_event_t *ev);

/* The current speaker, PARLEY_NONE if nobody. */
uint32_t parley_speaker_current(const parley_speaker_t *det);


#endif /* _PARLEY_SPEAKER_H_INCLUDED_ */
