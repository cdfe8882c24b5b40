/*
 * The room directory: rooms, their participants, and the table of worker
 * inboxes, laid out in one shared region.
 *
 * Layout (all offsets from the region's start, no pointers inside):
 *
 *     parley_dir_t header | inbox slots | rooms | id hash | participant pool
 *
 * Rooms are found by id through a hash table of chains (SipHash-2-4 keyed
 * by parley_dir_seed(), so that ids chosen by a client cannot lengthen a
 * chain on purpose), never by a scan.
 *
 * A participant is attached to the inbox of the worker holding its
 * session, or "away" (its connection dropped, its worker died or shut
 * down) until a deadline: away participants keep their place and role,
 * wait on a list of their own, and are attached again by a resume or
 * removed when the deadline passes.
 *
 * The geometry (room count, per-room limit, pool size) is fixed when the
 * region is first laid out and recorded in the header, so that a process
 * that finds the region again (nginx reload) can check it still agrees.
 *
 * One lock guards rooms and participants; functions named *_locked expect
 * the caller to hold it (parley_dir_lock / parley_dir_unlock). Inbox queues
 * have locks of their own and are used without the directory lock.
 */

#ifndef _PARLEY_DIRECTORY_H_INCLUDED_
#define _PARLEY_DIRECTORY_H_INCLUDED_


#include "parley_shm.h"
#include "parley_lock.h"
#include "parley_inbox.h"
#include "parley_counters.h"


#define PARLEY_DIR_MAGIC         0x7061726cu   /* "parl" */
#define PARLEY_DIR_VERSION       3
#define PARLEY_MAX_INBOXES       128
#define PARLEY_ROOM_ID_MAX       64            /* bytes, without the NUL */
#define PARLEY_NAME_MAX          128           /* bytes of UTF-8 */
#define PARLEY_EMAIL_MAX         254           /* RFC 5321 path limit */
#define PARLEY_DIR_NO_INBOX      0xffff        /* an away participant's */
#define PARLEY_RESUME_SECRET_LEN 16            /* bytes */


typedef enum {
    PARLEY_ROLE_ORGANISER = 1,
    PARLEY_ROLE_PARTICIPANT = 2
} parley_role_t;


typedef struct {
    uint32_t   max_rooms;
    uint32_t   max_per_room;
} parley_dir_limits_t;


typedef struct {
    uint32_t   pid;                  /* owner, 0 when free */
    uint32_t   generation;           /* bumped at every claim */
    uint32_t   worker;               /* the owner's own number, for show */
    uint32_t   reserved;
    parley_inbox_t  inbox;
    parley_counters_t  counters;     /* the owner's; zeroed at every claim */
} parley_dir_inbox_t;


typedef struct {
    uint64_t   uid;                  /* unique over the region's life, 0: free */
    uint64_t   created;              /* seconds since the epoch */
    uint64_t   organiser;            /* participant id of the organiser */
    uint32_t   first;                /* first participant index or NONE */
    uint32_t   count;
    uint32_t   next_free;            /* free-list link while free */
    uint32_t   hash_next;            /* next room of its hash chain */
    char       id[PARLEY_ROOM_ID_MAX + 1];
} parley_room_t;


typedef struct {
    uint64_t   id;                   /* unique over the region's life, 0: free */
    uint32_t   room;                 /* room index */
    uint32_t   next;                 /* next in the room, or free-list link */
    uint16_t   inbox;                /* owner's inbox slot, or NO_INBOX */
    uint8_t    role;                 /* parley_role_t */
    uint8_t    guest;
    uint32_t   owner_cookie;         /* opaque, for the owner's own use */
    uint32_t   attach;               /* bumped at every (re)attach */
    uint32_t   away_next;            /* away-list link while away */
    uint64_t   away_until;           /* deadline while away, caller's ms */
    uint8_t    secret[PARLEY_RESUME_SECRET_LEN];   /* the owner's to set */
    char       name[PARLEY_NAME_MAX + 1];
    char       email[PARLEY_EMAIL_MAX + 1];
} parley_participant_t;


typedef struct {
    uint32_t        magic;
    uint32_t        version;
    parley_dir_limits_t  limits;
    uint32_t        max_participants;   /* pool size, derived from the size */
    uint32_t        rooms_in_use;
    uint32_t        participants_in_use;
    uint32_t        free_room;          /* free-list heads */
    uint32_t        free_participant;
    uint64_t        next_uid;           /* for rooms and participants */
    uint64_t        size;               /* region size it was laid out for */
    uint64_t        hash_key[2];        /* SipHash key of the id hash */
    uint32_t        buckets;            /* a power of two */
    uint32_t        away_first;         /* the away list, or NONE */
    uint32_t        away;               /* participants on it */
    parley_lock_t   lock;
} parley_dir_t;


typedef struct {
    const char  *name;                  /* NUL-terminated, <= NAME_MAX */
    const char  *email;                 /* may be NULL */
    uint8_t      role;
    uint8_t      guest;
    uint16_t     inbox;
    uint32_t     owner_cookie;
} parley_member_t;


/* SipHash-2-4 of in[0 .. len) under the 128-bit key (two LE words). */
uint64_t parley_siphash(const uint64_t key[2], const uint8_t *in, size_t len);

/*
 * Bytes needed for the limits with a pool of "participants" records; 0 if
 * the limits are invalid (a zero limit) or the size does not fit a size_t.
 */
size_t parley_dir_size(const parley_dir_limits_t *limits,
    uint32_t participants);

/*
 * Lays out a fresh directory in [mem, mem + size). The participant pool gets
 * what is left after the fixed parts, capped at max_rooms * max_per_room.
 * PARLEY_ERR_NOSPACE if not even one participant fits, PARLEY_ERR_INVAL for
 * a zero limit or a region not aligned for the header.
 */
parley_rc_t parley_dir_init(void *mem, size_t size,
    const parley_dir_limits_t *limits);

/*
 * Checks that [mem, mem + size) holds a directory laid out with these limits
 * (PARLEY_ERR_GEOMETRY otherwise, PARLEY_ERR_INVAL if it holds none).
 */
parley_rc_t parley_dir_attach(void *mem, size_t size,
    const parley_dir_limits_t *limits);

/*
 * The key of the id hash: 16 random bytes, once, right after
 * parley_dir_init() and before any room is created.
 */
void parley_dir_seed(parley_dir_t *dir, const uint8_t key[16]);

void parley_dir_lock(parley_dir_t *dir, uint32_t self);
void parley_dir_unlock(parley_dir_t *dir, uint32_t self);

/* Inbox slots: claimed by a worker at start, released at exit or reaping. */
parley_rc_t parley_dir_inbox_claim(parley_dir_t *dir, uint32_t pid,
    uint16_t *slot);
void parley_dir_inbox_release(parley_dir_t *dir, uint16_t slot);
parley_dir_inbox_t *parley_dir_inbox(parley_dir_t *dir, uint16_t slot);

/* Rooms. */
parley_rc_t parley_dir_room_create_locked(parley_dir_t *dir, const char *id,
    uint64_t now, uint32_t *room);
parley_rc_t parley_dir_room_find_locked(parley_dir_t *dir, const char *id,
    uint32_t *room);
parley_room_t *parley_dir_room(parley_dir_t *dir, uint32_t room);
/* Removes every participant (calling "each" for each first) and the room. */
void parley_dir_room_close_locked(parley_dir_t *dir, uint32_t room,
    void (*each)(parley_dir_t *dir, uint32_t p, void *data), void *data);

/* Participants. */
parley_rc_t parley_dir_join_locked(parley_dir_t *dir, uint32_t room,
    const parley_member_t *member, uint32_t *participant);
/* Removes the participant; frees the room when it becomes empty. */
void parley_dir_leave_locked(parley_dir_t *dir, uint32_t participant);
parley_participant_t *parley_dir_participant(parley_dir_t *dir, uint32_t p);

/* The participant of the room whose id is "id": PARLEY_ERR_NOT_FOUND. */
parley_rc_t parley_dir_participant_find_locked(parley_dir_t *dir,
    uint32_t room, uint64_t id, uint32_t *participant);

/*
 * Away and back. parley_dir_away_locked() detaches the participant (its
 * inbox becomes PARLEY_DIR_NO_INBOX) until "until" on the caller's clock;
 * parley_dir_attach_locked() attaches it to "inbox", whether it was away
 * or attached elsewhere, and bumps its attach count, which tells its
 * sessions apart. parley_dir_away_expired_locked() gives an away
 * participant whose deadline is past "now", or PARLEY_NONE; the caller
 * then removes it (parley_dir_leave_locked, or a close of its room).
 */
void parley_dir_away_locked(parley_dir_t *dir, uint32_t participant,
    uint64_t until);
parley_rc_t parley_dir_attach_locked(parley_dir_t *dir, uint32_t participant,
    uint16_t inbox);
uint32_t parley_dir_away_expired_locked(parley_dir_t *dir, uint64_t now);
int parley_dir_is_away(const parley_participant_t *p);

/*
 * The inbox slots of the room's attached participants, but "except"
 * (PARLEY_DIR_NO_INBOX: none), as a bitmap: bit s of word s / 64.
 */
void parley_dir_room_slots_locked(parley_dir_t *dir, uint32_t room,
    uint16_t except, uint64_t mask[PARLEY_MAX_INBOXES / 64]);
/* Room membership walk: first/next participant index, PARLEY_NONE at end. */
uint32_t parley_dir_room_first(parley_dir_t *dir, uint32_t room);
uint32_t parley_dir_room_next(parley_dir_t *dir, uint32_t participant);

/*
 * Finds inbox slots whose owner is no longer alive (alive() returns 0 for
 * its pid), and for each: force-unlocks any lock the dead pid held, calls
 * "gone" for every participant it owned (under the directory lock), which
 * may set it away or remove it; those still attached to the slot after it
 * are removed, and the slot is freed. Returns the number of participants
 * the slot held.
 */
uint32_t parley_dir_reap(parley_dir_t *dir, uint32_t self,
    int (*alive)(uint32_t pid),
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data);

/*
 * The same for the caller's own slot ("self" holds it), as it exits:
 * under the directory lock taken as "self", a real one.
 */
uint32_t parley_dir_release_slot(parley_dir_t *dir, uint16_t slot,
    uint32_t self,
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data);


#endif /* _PARLEY_DIRECTORY_H_INCLUDED_ */
