/*
 * Per-worker inbox: a bounded multi-producer, single-consumer queue of
 * fixed-size control events in shared memory.
 *
 * Any process may push; only the owner of the inbox pops. The queue carries
 * no wake-up of its own: parley_inbox_push() says whether the consumer must
 * be woken (the queue's "wake pending" flag went from clear to set), so a
 * burst of events costs the producer one wake-up, and the consumer clears the
 * flag before draining so that no event is left behind unannounced.
 */

#ifndef _PARLEY_INBOX_H_INCLUDED_
#define _PARLEY_INBOX_H_INCLUDED_


#include "parley_shm.h"
#include "parley_lock.h"


#define PARLEY_INBOX_EVENTS  256          /* power of two */


typedef enum {
    PARLEY_EV_JOINED = 1,      /* participant joined room */
    PARLEY_EV_LEFT,            /* participant left room (reason set) */
    PARLEY_EV_CLOSED,          /* room closed for everyone (reason set) */
    PARLEY_EV_KICK,            /* the session of participant_id whose attach
                                  count is not "attach" must end: the
                                  participant resumed elsewhere */
    PARLEY_EV_TRACKS,          /* the room's tracks changed (room_uid 0:
                                  any room) */
    PARLEY_EV_KEYFRAME,        /* owner of track (index "participant",
                                  uid "track_uid") must ask for one */
    PARLEY_EV_AWAY,            /* participant's connection is gone; it may
                                  resume until its deadline */
    PARLEY_EV_BACK             /* participant resumed */
} parley_event_code_t;


typedef enum {
    PARLEY_REASON_LEFT = 1,
    PARLEY_REASON_DISCONNECTED,
    PARLEY_REASON_WORKER_DIED,
    PARLEY_REASON_KICKED,
    PARLEY_REASON_ORGANISER_CLOSED,
    PARLEY_REASON_ORGANISER_LEFT,
    PARLEY_REASON_SHUTDOWN         /* the worker moved its sessions away */
} parley_reason_t;


typedef struct {
    uint32_t        code;          /* parley_event_code_t */
    uint32_t        reason;        /* parley_reason_t, 0 if none */
    uint64_t        room_uid;      /* room's unique id, never reused */
    uint32_t        room;          /* room index in the directory */
    uint32_t        participant;   /* participant index in the directory */
    uint64_t        participant_id;
    uint32_t        role;
    uint32_t        layer;         /* PARLEY_EV_KEYFRAME */
    uint64_t        track_uid;     /* PARLEY_EV_KEYFRAME */
    uint32_t        attach;        /* PARLEY_EV_KICK */
    uint32_t        reserved1;
    uint64_t        reserved2;
} parley_event_t;                  /* 64 bytes */


typedef struct {
    parley_lock_t   lock;          /* producers serialise on it */
    uint32_t        wake_pending;  /* set by the producer that must wake */
    uint32_t        overflowed;    /* events were lost: consumer resyncs */
    uint32_t        head;          /* next slot to pop (consumer) */
    uint32_t        tail;          /* next slot to push (producers) */
    uint64_t        pushed;        /* counters, for the status page */
    uint64_t        dropped;
    parley_event_t  events[PARLEY_INBOX_EVENTS];
} parley_inbox_t;


void parley_inbox_init(parley_inbox_t *ib);

/*
 * Empties the queue and clears its flags and counters for a new owner, under
 * the queue's lock: a producer still pushing into an inbox whose slot changed
 * hands must not have the queue rebuilt under it.
 */
void parley_inbox_reset(parley_inbox_t *ib, uint32_t self);

/*
 * Pushes a copy of *ev. Returns PARLEY_OK, or PARLEY_ERR_FULL (the event is
 * dropped, counted, and the inbox marked overflowed). *wake is set to 1 when
 * the caller must wake the consumer, 0 otherwise; it is set even on
 * PARLEY_ERR_FULL, so a consumer that missed events is still woken.
 * "self" is the caller's pid, recorded as the lock holder.
 */
parley_rc_t parley_inbox_push(parley_inbox_t *ib, const parley_event_t *ev,
    uint32_t self, int *wake);

/*
 * Consumer side. Call parley_inbox_drain_begin() once per wake-up: it clears
 * the wake flag and returns (and clears) the overflow flag. Then pop until
 * PARLEY_ERR_EMPTY.
 */
int parley_inbox_drain_begin(parley_inbox_t *ib);
parley_rc_t parley_inbox_pop(parley_inbox_t *ib, parley_event_t *ev,
    uint32_t self);


#endif /* _PARLEY_INBOX_H_INCLUDED_ */
