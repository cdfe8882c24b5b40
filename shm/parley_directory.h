/*
 * The room directory: rooms, their participants, and the table of worker
 * inboxes, laid out in one shared region.
 *
 * Layout (all offsets from the region's start, no pointers inside):
 *
 *     parley_dir_t header | inbox slots | rooms | participant pool
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
#define PARLEY_DIR_VERSION       2
#define PARLEY_MAX_INBOXES       128
#define PARLEY_ROOM_ID_MAX       64            /* bytes, without the NUL */
#define PARLEY_NAME_MAX          128           /* bytes of UTF-8 */
#define PARLEY_EMAIL_MAX         254           /* RFC 5321 path limit */


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
    char       id[PARLEY_ROOM_ID_MAX + 1];
} parley_room_t;


typedef struct {
    uint64_t   id;                   /* unique over the region's life, 0: free */
    uint32_t   room;                 /* room index */
    uint32_t   next;                 /* next in the room, or free-list link */
    uint16_t   inbox;                /* owner's inbox slot */
    uint8_t    role;                 /* parley_role_t */
    uint8_t    guest;
    uint32_t   owner_cookie;         /* opaque, for the owner's own use */
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
    parley_lock_t   lock;
    uint32_t        reserved;
} parley_dir_t;


typedef struct {
    const char  *name;                  /* NUL-terminated, <= NAME_MAX */
    const char  *email;                 /* may be NULL */
    uint8_t      role;
    uint8_t      guest;
    uint16_t     inbox;
    uint32_t     owner_cookie;
} parley_member_t;


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
/* Room membership walk: first/next participant index, PARLEY_NONE at end. */
uint32_t parley_dir_room_first(parley_dir_t *dir, uint32_t room);
uint32_t parley_dir_room_next(parley_dir_t *dir, uint32_t participant);

/*
 * Finds inbox slots whose owner is no longer alive (alive() returns 0 for
 * its pid), and for each: force-unlocks any lock the dead pid held, calls
 * "gone" for every participant it owned (under the directory lock, before
 * the participant is removed), removes them, and frees the slot.
 * Returns the number of participants removed.
 */
uint32_t parley_dir_reap(parley_dir_t *dir, uint32_t self,
    int (*alive)(uint32_t pid),
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data);


#endif /* _PARLEY_DIRECTORY_H_INCLUDED_ */
