/*
 * parley_directory: geometry, rooms, participants, inbox slots, reaping.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parley_directory.h"


#define SELF        1000
#define NOW         1700000000

#define CHILDREN    4
#define ROUNDS      20000
#define ROOM_IDS    10           /* more ids than rooms: creates can fail */
#define MINE_MAX    64
#define TIMEOUT_S   120          /* for the whole run, and for each child */


typedef struct {
    uint32_t  calls;
    uint32_t  p[16];
    uint64_t  id[16];
    uint16_t  inbox[16];
} calls_t;


static const parley_dir_limits_t  small_limits = { 4, 3 };


static void *
map_shared(size_t size)
{
    void  *mem;

    mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);

    return mem;
}


static parley_dir_t *
dir_new(const parley_dir_limits_t *limits, uint32_t participants,
    size_t *size)
{
    void  *mem;

    *size = parley_dir_size(limits, participants);
    assert_true(*size > 0);

    mem = map_shared(*size);
    assert_int_equal(parley_dir_init(mem, *size, limits), PARLEY_OK);

    return mem;
}


static uint32_t
room_new(parley_dir_t *dir, const char *id)
{
    uint32_t  room;

    assert_int_equal(parley_dir_room_create_locked(dir, id, NOW, &room),
                     PARLEY_OK);

    return room;
}


static parley_rc_t
join(parley_dir_t *dir, uint32_t room, const char *name, uint8_t role,
    uint16_t inbox, uint32_t *p)
{
    parley_member_t  m;

    memset(&m, 0, sizeof(parley_member_t));
    m.name = name;
    m.role = role;
    m.inbox = inbox;

    return parley_dir_join_locked(dir, room, &m, p);
}


static uint32_t
join_ok(parley_dir_t *dir, uint32_t room, const char *name, uint16_t inbox)
{
    uint32_t  p;

    assert_int_equal(join(dir, room, name, PARLEY_ROLE_PARTICIPANT, inbox,
                          &p),
                     PARLEY_OK);

    return p;
}


/*
 * Checks every invariant the directory keeps: counters, free lists, room
 * lists. Returns 1 if all hold; usable in child processes (no asserts).
 */
static int
dir_consistent(parley_dir_t *dir)
{
    uint32_t               r, p, n, rooms, members, in_rooms;
    parley_room_t         *rm;
    parley_participant_t  *pt;

    rooms = 0;
    in_rooms = 0;

    for (r = 0; r < dir->limits.max_rooms; r++) {
        rm = parley_dir_room(dir, r);

        if (rm->uid == 0) {
            continue;
        }

        rooms++;
        n = 0;

        for (p = rm->first; p != PARLEY_NONE; p = parley_dir_room_next(dir, p))
        {
            pt = parley_dir_participant(dir, p);

            if (pt == NULL || pt->id == 0 || pt->room != r
                || ++n > dir->limits.max_per_room)
            {
                return 0;
            }
        }

        if (n != rm->count) {
            return 0;
        }

        in_rooms += n;
    }

    members = 0;

    for (p = 0; p < dir->max_participants; p++) {
        members += (parley_dir_participant(dir, p)->id != 0);
    }

    if (rooms != dir->rooms_in_use
        || in_rooms != dir->participants_in_use
        || members != dir->participants_in_use)
    {
        return 0;
    }

    n = 0;

    for (r = dir->free_room; r != PARLEY_NONE;
         r = parley_dir_room(dir, r)->next_free)
    {
        if (parley_dir_room(dir, r)->uid != 0
            || ++n > dir->limits.max_rooms)
        {
            return 0;
        }
    }

    if (n + dir->rooms_in_use != dir->limits.max_rooms) {
        return 0;
    }

    n = 0;

    for (p = dir->free_participant; p != PARLEY_NONE;
         p = parley_dir_participant(dir, p)->next)
    {
        if (parley_dir_participant(dir, p)->id != 0
            || ++n > dir->max_participants)
        {
            return 0;
        }
    }

    if (n + dir->participants_in_use != dir->max_participants) {
        return 0;
    }

    /* every room is found by its id, and only rooms are */

    for (r = 0; r < dir->limits.max_rooms; r++) {
        rm = parley_dir_room(dir, r);

        if (rm->uid != 0
            && (parley_dir_room_find_locked(dir, rm->id, &p) != PARLEY_OK
                || p != r))
        {
            return 0;
        }
    }

    /* the away list holds exactly the away participants */

    n = 0;

    for (p = dir->away_first; p != PARLEY_NONE;
         p = parley_dir_participant(dir, p)->away_next)
    {
        if (!parley_dir_is_away(parley_dir_participant(dir, p))
            || ++n > dir->max_participants)
        {
            return 0;
        }
    }

    members = 0;

    for (p = 0; p < dir->max_participants; p++) {
        members += parley_dir_is_away(parley_dir_participant(dir, p));
    }

    return n == dir->away && members == dir->away;
}


static void
record_call(parley_dir_t *dir, uint32_t p, void *data)
{
    calls_t               *calls;
    parley_participant_t  *pt;

    calls = data;
    pt = parley_dir_participant(dir, p);

    /* called before removal: the record must still be live */
    assert_non_null(pt);
    assert_true(pt->id != 0);
    assert_true(calls->calls < 16);

    calls->p[calls->calls] = p;
    calls->id[calls->calls] = pt->id;
    calls->inbox[calls->calls] = pt->inbox;
    calls->calls++;
}


static void
test_rc_str(void **state)
{
    int  a, b;

    (void) state;

    for (a = PARLEY_OK; a <= PARLEY_ERR_LAPPED; a++) {
        assert_non_null(parley_rc_str((parley_rc_t) a));

        for (b = PARLEY_OK; b < a; b++) {
            assert_string_not_equal(parley_rc_str((parley_rc_t) a),
                                    parley_rc_str((parley_rc_t) b));
        }
    }

    assert_string_equal(parley_rc_str((parley_rc_t) 999), "unknown error");
}


static void
test_geometry(void **state)
{
    char                  *mem;
    size_t                 s0, s1, s5, big;
    parley_dir_t          *dir;
    parley_dir_limits_t    zero = { 0, 3 };

    (void) state;

    s0 = parley_dir_size(&small_limits, 0);
    s1 = parley_dir_size(&small_limits, 1);
    s5 = parley_dir_size(&small_limits, 5);
    big = parley_dir_size(&small_limits, 100);

    assert_int_equal(s0 % 64, 0);
    assert_int_equal(s1 - s0, sizeof(parley_participant_t));
    assert_int_equal(s5 - s0, 5 * sizeof(parley_participant_t));
    assert_true(s0 >= sizeof(parley_dir_t)
                       + PARLEY_MAX_INBOXES * sizeof(parley_dir_inbox_t)
                       + 4 * sizeof(parley_room_t));
    assert_int_equal(parley_dir_size(&zero, 1), 0);

    mem = map_shared(big);
    dir = (parley_dir_t *) mem;

    assert_int_equal(parley_dir_init(mem, s0, &small_limits),
                     PARLEY_ERR_NOSPACE);
    assert_int_equal(parley_dir_init(mem, s1 - 1, &small_limits),
                     PARLEY_ERR_NOSPACE);
    assert_int_equal(parley_dir_init(mem, sizeof(parley_dir_t),
                                     &small_limits),
                     PARLEY_ERR_NOSPACE);
    assert_int_equal(parley_dir_init(mem, big, &zero), PARLEY_ERR_INVAL);
    assert_int_equal(parley_dir_init(NULL, big, &small_limits),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_dir_init(mem + 1, big - 1, &small_limits),
                     PARLEY_ERR_INVAL);

    assert_int_equal(parley_dir_init(mem, s1, &small_limits), PARLEY_OK);
    assert_int_equal(dir->max_participants, 1);

    /* a partial record at the end is not counted */
    assert_int_equal(parley_dir_init(mem, s5 + sizeof(parley_participant_t)
                                          - 1, &small_limits),
                     PARLEY_OK);
    assert_int_equal(dir->max_participants, 5);

    /* the pool never exceeds max_rooms * max_per_room */
    assert_int_equal(parley_dir_init(mem, big, &small_limits), PARLEY_OK);
    assert_int_equal(dir->max_participants, 12);

    assert_int_equal(dir->magic, PARLEY_DIR_MAGIC);
    assert_int_equal(dir->size, big);
    assert_int_equal(dir->rooms_in_use, 0);
    assert_int_equal(dir->participants_in_use, 0);
    assert_int_equal(dir->next_uid, 1);
    assert_true(dir_consistent(dir));

    assert_int_equal(((char *) parley_dir_inbox(dir, 0) - mem) % 64, 0);
    assert_int_equal(((char *) parley_dir_room(dir, 0) - mem) % 64, 0);
    assert_int_equal(((char *) parley_dir_participant(dir, 0) - mem) % 64, 0);
    assert_true((char *) parley_dir_inbox(dir, PARLEY_MAX_INBOXES - 1)
                < (char *) parley_dir_room(dir, 0));
    assert_true((char *) (parley_dir_room(dir, 3) + 1)
                <= (char *) parley_dir_participant(dir, 0));
    assert_true((char *) (parley_dir_participant(dir, 11) + 1) <= mem + big);

    assert_null(parley_dir_inbox(dir, PARLEY_MAX_INBOXES));
    assert_null(parley_dir_room(dir, 4));
    assert_null(parley_dir_participant(dir, 12));

    munmap(mem, big);
}


static void
test_attach(void **state)
{
    char                 *fresh;
    size_t                size;
    uint32_t              room;
    parley_dir_t         *dir;
    parley_dir_limits_t   more_rooms = { 5, 3 }, more_per_room = { 4, 4 };

    (void) state;

    dir = dir_new(&small_limits, 6, &size);
    room_new(dir, "kept");

    assert_int_equal(parley_dir_attach(dir, size, &small_limits), PARLEY_OK);

    /* what a reload finds is still there */
    assert_int_equal(parley_dir_room_find_locked(dir, "kept", &room),
                     PARLEY_OK);

    assert_int_equal(parley_dir_attach(dir, size, &more_rooms),
                     PARLEY_ERR_GEOMETRY);
    assert_int_equal(parley_dir_attach(dir, size, &more_per_room),
                     PARLEY_ERR_GEOMETRY);
    assert_int_equal(parley_dir_attach(dir, size - 64, &small_limits),
                     PARLEY_ERR_GEOMETRY);

    dir->version++;
    assert_int_equal(parley_dir_attach(dir, size, &small_limits),
                     PARLEY_ERR_GEOMETRY);
    dir->version--;

    dir->magic = 0;
    assert_int_equal(parley_dir_attach(dir, size, &small_limits),
                     PARLEY_ERR_INVAL);
    dir->magic = PARLEY_DIR_MAGIC;

    assert_int_equal(parley_dir_attach(dir, 8, &small_limits),
                     PARLEY_ERR_INVAL);

    fresh = map_shared(size);
    assert_int_equal(parley_dir_attach(fresh, size, &small_limits),
                     PARLEY_ERR_INVAL);

    munmap(fresh, size);
    munmap(dir, size);
}


static void
test_rooms(void **state)
{
    char            id[PARLEY_ROOM_ID_MAX + 2];
    size_t          size;
    uint32_t        a, b, room;
    parley_dir_t   *dir;
    parley_room_t  *rm;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);

    a = room_new(dir, "alpha");
    rm = parley_dir_room(dir, a);
    assert_int_equal(rm->uid, 1);
    assert_int_equal(rm->created, NOW);
    assert_string_equal(rm->id, "alpha");
    assert_int_equal(rm->count, 0);
    assert_int_equal(rm->first, PARLEY_NONE);
    assert_int_equal(parley_dir_room_first(dir, a), PARLEY_NONE);

    assert_int_equal(parley_dir_room_find_locked(dir, "alpha", &room),
                     PARLEY_OK);
    assert_int_equal(room, a);
    assert_int_equal(parley_dir_room_find_locked(dir, "alph", &room),
                     PARLEY_ERR_ROOM_NOT_FOUND);
    assert_int_equal(parley_dir_room_find_locked(dir, "alphabet", &room),
                     PARLEY_ERR_ROOM_NOT_FOUND);

    assert_int_equal(parley_dir_room_create_locked(dir, "alpha", NOW, &room),
                     PARLEY_ERR_ROOM_EXISTS);
    assert_int_equal(dir->rooms_in_use, 1);

    assert_int_equal(parley_dir_room_create_locked(dir, "", NOW, &room),
                     PARLEY_ERR_INVAL);
    memset(id, 'x', PARLEY_ROOM_ID_MAX + 1);
    id[PARLEY_ROOM_ID_MAX + 1] = '\0';
    assert_int_equal(parley_dir_room_create_locked(dir, id, NOW, &room),
                     PARLEY_ERR_INVAL);

    id[PARLEY_ROOM_ID_MAX] = '\0';
    b = room_new(dir, id);
    assert_string_equal(parley_dir_room(dir, b)->id, id);
    assert_true(parley_dir_room(dir, b)->uid > parley_dir_room(dir, a)->uid);

    room_new(dir, "gamma");
    room_new(dir, "delta");
    assert_int_equal(dir->rooms_in_use, 4);

    assert_int_equal(parley_dir_room_create_locked(dir, "epsilon", NOW,
                                                   &room),
                     PARLEY_ERR_TOO_MANY_ROOMS);
    assert_int_equal(parley_dir_room_create_locked(dir, "gamma", NOW, &room),
                     PARLEY_ERR_ROOM_EXISTS);
    assert_int_equal(dir->rooms_in_use, 4);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


static void
test_join_order_and_fields(void **state)
{
    size_t                 size;
    uint32_t               room, a, b, c, p;
    parley_dir_t          *dir;
    parley_member_t        m;
    parley_participant_t  *pt;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);
    room = room_new(dir, "room");

    memset(&m, 0, sizeof(parley_member_t));
    m.name = "Alice";
    m.email = "alice@example.com";
    m.role = PARLEY_ROLE_ORGANISER;
    m.guest = 1;
    m.inbox = 7;
    m.owner_cookie = 0xdeadbeef;
    assert_int_equal(parley_dir_join_locked(dir, room, &m, &a), PARLEY_OK);

    b = join_ok(dir, room, "Bob", 3);
    c = join_ok(dir, room, "Carol", 3);

    pt = parley_dir_participant(dir, a);
    assert_string_equal(pt->name, "Alice");
    assert_string_equal(pt->email, "alice@example.com");
    assert_int_equal(pt->role, PARLEY_ROLE_ORGANISER);
    assert_int_equal(pt->guest, 1);
    assert_int_equal(pt->inbox, 7);
    assert_int_equal(pt->owner_cookie, 0xdeadbeef);
    assert_int_equal(pt->room, room);
    assert_int_equal(parley_dir_room(dir, room)->organiser, pt->id);

    assert_string_equal(parley_dir_participant(dir, b)->email, "");

    /* ids: never 0, never repeated, rising with the room's uid */
    assert_true(parley_dir_participant(dir, a)->id
                > parley_dir_room(dir, room)->uid);
    assert_true(parley_dir_participant(dir, b)->id
                > parley_dir_participant(dir, a)->id);
    assert_true(parley_dir_participant(dir, c)->id
                > parley_dir_participant(dir, b)->id);

    p = parley_dir_room_first(dir, room);
    assert_int_equal(p, a);
    p = parley_dir_room_next(dir, p);
    assert_int_equal(p, b);
    p = parley_dir_room_next(dir, p);
    assert_int_equal(p, c);
    assert_int_equal(parley_dir_room_next(dir, p), PARLEY_NONE);

    assert_int_equal(parley_dir_room(dir, room)->count, 3);
    assert_int_equal(dir->participants_in_use, 3);

    m.name = NULL;
    assert_int_equal(parley_dir_join_locked(dir, room, &m, &p),
                     PARLEY_ERR_INVAL);
    assert_int_equal(join(dir, 3, "Nobody", PARLEY_ROLE_PARTICIPANT, 0, &p),
                     PARLEY_ERR_ROOM_NOT_FOUND);
    assert_int_equal(join(dir, 99, "Nobody", PARLEY_ROLE_PARTICIPANT, 0, &p),
                     PARLEY_ERR_ROOM_NOT_FOUND);
    assert_int_equal(join(dir, room, "Nobody", 0, 0, &p), PARLEY_ERR_INVAL);
    assert_int_equal(join(dir, room, "Nobody", PARLEY_ROLE_PARTICIPANT,
                          PARLEY_MAX_INBOXES, &p),
                     PARLEY_ERR_INVAL);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


static void
test_names_truncated(void **state)
{
    char                   name[300], email[400];
    size_t                 size;
    uint32_t               room, p;
    parley_dir_t          *dir;
    parley_member_t        m;
    parley_participant_t  *pt;
    parley_dir_limits_t    limits = { 1, 8 };

    (void) state;

    dir = dir_new(&limits, 8, &size);
    room = room_new(dir, "room");

    memset(&m, 0, sizeof(parley_member_t));
    m.role = PARLEY_ROLE_PARTICIPANT;
    m.name = name;
    m.email = email;

    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    memset(email, 'e', sizeof(email) - 1);
    email[sizeof(email) - 1] = '\0';
    assert_int_equal(parley_dir_join_locked(dir, room, &m, &p), PARLEY_OK);
    pt = parley_dir_participant(dir, p);
    assert_int_equal(strlen(pt->name), PARLEY_NAME_MAX);
    assert_int_equal(strlen(pt->email), PARLEY_EMAIL_MAX);

    /* exactly at the limit: kept whole */
    name[PARLEY_NAME_MAX] = '\0';
    assert_int_equal(parley_dir_join_locked(dir, room, &m, &p), PARLEY_OK);
    assert_string_equal(parley_dir_participant(dir, p)->name, name);

    /* a two-byte character across the limit is dropped whole */
    memset(name, 'a', PARLEY_NAME_MAX - 1);
    strcpy(name + PARLEY_NAME_MAX - 1, "\xc3\xa9");
    assert_int_equal(parley_dir_join_locked(dir, room, &m, &p), PARLEY_OK);
    pt = parley_dir_participant(dir, p);
    assert_int_equal(strlen(pt->name), PARLEY_NAME_MAX - 1);
    assert_int_equal(pt->name[PARLEY_NAME_MAX - 2], 'a');

    munmap(dir, size);
}


static void
test_room_full(void **state)
{
    size_t         size;
    uint32_t       room, other, p;
    parley_dir_t  *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);
    room = room_new(dir, "room");

    join_ok(dir, room, "a", 0);
    join_ok(dir, room, "b", 0);
    join_ok(dir, room, "c", 0);

    assert_int_equal(join(dir, room, "d", PARLEY_ROLE_PARTICIPANT, 0, &p),
                     PARLEY_ERR_ROOM_FULL);
    assert_int_equal(parley_dir_room(dir, room)->count, 3);
    assert_int_equal(dir->participants_in_use, 3);

    /* another room is not affected */
    other = room_new(dir, "other");
    join_ok(dir, other, "d", 0);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


static void
test_server_full(void **state)
{
    size_t         size;
    uint32_t       r1, r2, r3, p, freed;
    parley_dir_t  *dir;

    (void) state;

    /* a region with room for 5 of the 12 participants the limits allow */
    dir = dir_new(&small_limits, 5, &size);
    assert_int_equal(dir->max_participants, 5);

    r1 = room_new(dir, "one");
    r2 = room_new(dir, "two");
    r3 = room_new(dir, "three");

    join_ok(dir, r1, "a", 0);
    join_ok(dir, r1, "b", 0);
    freed = join_ok(dir, r1, "c", 0);
    join_ok(dir, r2, "d", 0);
    join_ok(dir, r2, "e", 0);

    assert_int_equal(join(dir, r2, "f", PARLEY_ROLE_PARTICIPANT, 0, &p),
                     PARLEY_ERR_SERVER_FULL);
    assert_int_equal(join(dir, r3, "f", PARLEY_ROLE_PARTICIPANT, 0, &p),
                     PARLEY_ERR_SERVER_FULL);
    assert_int_equal(dir->participants_in_use, 5);
    assert_int_equal(parley_dir_room(dir, r2)->count, 2);

    parley_dir_leave_locked(dir, freed);
    assert_int_equal(join(dir, r3, "f", PARLEY_ROLE_PARTICIPANT, 0, &p),
                     PARLEY_OK);
    assert_int_equal(p, freed);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


static void
test_leave(void **state)
{
    size_t         size;
    uint32_t       room, a, b, c, p;
    uint64_t       old_id;
    parley_dir_t  *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);
    room = room_new(dir, "room");

    assert_int_equal(join(dir, room, "a", PARLEY_ROLE_ORGANISER, 0, &a),
                     PARLEY_OK);
    b = join_ok(dir, room, "b", 0);
    c = join_ok(dir, room, "c", 0);

    parley_dir_leave_locked(dir, b);
    assert_int_equal(parley_dir_participant(dir, b)->id, 0);
    assert_int_equal(parley_dir_room_first(dir, room), a);
    assert_int_equal(parley_dir_room_next(dir, a), c);
    assert_int_equal(parley_dir_room_next(dir, c), PARLEY_NONE);
    assert_int_equal(parley_dir_room(dir, room)->count, 2);
    assert_int_equal(dir->participants_in_use, 2);

    /* leaving twice changes nothing */
    parley_dir_leave_locked(dir, b);
    parley_dir_leave_locked(dir, 12345);
    assert_int_equal(dir->participants_in_use, 2);
    assert_true(dir_consistent(dir));

    parley_dir_leave_locked(dir, a);
    assert_int_equal(parley_dir_room(dir, room)->organiser, 0);
    assert_int_equal(parley_dir_room_first(dir, room), c);

    old_id = parley_dir_participant(dir, c)->id;
    parley_dir_leave_locked(dir, c);

    assert_int_equal(parley_dir_room(dir, room)->uid, 0);
    assert_int_equal(dir->rooms_in_use, 0);
    assert_int_equal(dir->participants_in_use, 0);
    assert_int_equal(parley_dir_room_first(dir, room), PARLEY_NONE);
    assert_int_equal(parley_dir_room_find_locked(dir, "room", &p),
                     PARLEY_ERR_ROOM_NOT_FOUND);
    assert_true(dir_consistent(dir));

    /* the freed records are reused, under new ids */
    assert_int_equal(room_new(dir, "again"), room);
    p = join_ok(dir, room, "d", 0);
    assert_int_equal(p, c);
    assert_true(parley_dir_participant(dir, p)->id > old_id);
    assert_string_equal(parley_dir_participant(dir, p)->name, "d");
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


static void
test_room_close(void **state)
{
    size_t         size;
    uint32_t       room, other, a, b, c, d;
    calls_t        calls;
    parley_dir_t  *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);
    room = room_new(dir, "room");
    other = room_new(dir, "other");

    a = join_ok(dir, room, "a", 1);
    d = join_ok(dir, other, "d", 1);
    b = join_ok(dir, room, "b", 2);
    c = join_ok(dir, room, "c", 3);

    memset(&calls, 0, sizeof(calls_t));
    parley_dir_room_close_locked(dir, room, record_call, &calls);

    assert_int_equal(calls.calls, 3);
    assert_int_equal(calls.p[0], a);
    assert_int_equal(calls.p[1], b);
    assert_int_equal(calls.p[2], c);
    assert_int_equal(calls.inbox[2], 3);

    assert_int_equal(parley_dir_room(dir, room)->uid, 0);
    assert_int_equal(parley_dir_participant(dir, a)->id, 0);
    assert_int_equal(parley_dir_participant(dir, b)->id, 0);
    assert_int_equal(parley_dir_participant(dir, c)->id, 0);
    assert_int_equal(dir->rooms_in_use, 1);
    assert_int_equal(dir->participants_in_use, 1);
    assert_int_equal(parley_dir_room_first(dir, other), d);
    assert_true(dir_consistent(dir));

    /* a closed room is gone: closing again calls nothing */
    memset(&calls, 0, sizeof(calls_t));
    parley_dir_room_close_locked(dir, room, record_call, &calls);
    assert_int_equal(calls.calls, 0);

    /* an empty room closes too */
    room = room_new(dir, "empty");
    parley_dir_room_close_locked(dir, room, NULL, NULL);
    assert_int_equal(dir->rooms_in_use, 1);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


static void
test_inbox_slots(void **state)
{
    int                  wake;
    size_t               size;
    uint16_t             s0, s1, s;
    uint32_t             i;
    parley_dir_t        *dir;
    parley_event_t       ev;
    parley_dir_inbox_t  *slot;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);

    assert_int_equal(parley_dir_inbox_claim(dir, 0, &s), PARLEY_ERR_INVAL);

    assert_int_equal(parley_dir_inbox_claim(dir, 501, &s0), PARLEY_OK);
    assert_int_equal(parley_dir_inbox_claim(dir, 502, &s1), PARLEY_OK);
    assert_true(s0 != s1);

    slot = parley_dir_inbox(dir, s0);
    assert_int_equal(slot->pid, 501);
    assert_int_equal(slot->generation, 1);
    assert_int_equal(dir->lock.holder, 0);

    memset(&ev, 0, sizeof(parley_event_t));
    assert_int_equal(parley_inbox_push(&slot->inbox, &ev, 502, &wake),
                     PARLEY_OK);

    parley_dir_inbox_release(dir, s0);
    assert_int_equal(slot->pid, 0);

    /* the slot comes back to a new owner with an empty queue */
    assert_int_equal(parley_dir_inbox_claim(dir, 503, &s), PARLEY_OK);
    assert_int_equal(s, s0);
    assert_int_equal(slot->pid, 503);
    assert_int_equal(slot->generation, 2);
    assert_int_equal(parley_inbox_pop(&slot->inbox, &ev, 503),
                     PARLEY_ERR_EMPTY);

    for (i = 2; i < PARLEY_MAX_INBOXES; i++) {
        assert_int_equal(parley_dir_inbox_claim(dir, 600 + i, &s), PARLEY_OK);
    }

    assert_int_equal(parley_dir_inbox_claim(dir, 999, &s), PARLEY_ERR_FULL);
    assert_int_equal(dir->lock.holder, 0);

    munmap(dir, size);
}


static uint32_t  fake_alive_pid;


static int
fake_alive(uint32_t pid)
{
    return pid == fake_alive_pid;
}


static void
test_reap_fake_pids(void **state)
{
    size_t         size;
    uint16_t       dead, live, self;
    uint32_t       r, s, p, q;
    calls_t        calls;
    parley_dir_t  *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);

    assert_int_equal(parley_dir_inbox_claim(dir, 501, &dead), PARLEY_OK);
    assert_int_equal(parley_dir_inbox_claim(dir, 502, &live), PARLEY_OK);
    assert_int_equal(parley_dir_inbox_claim(dir, SELF, &self), PARLEY_OK);

    r = room_new(dir, "shared");
    s = room_new(dir, "dead-only");

    assert_int_equal(join(dir, r, "live", PARLEY_ROLE_ORGANISER, live, &p),
                     PARLEY_OK);
    join_ok(dir, r, "dead1", dead);
    join_ok(dir, s, "dead2", dead);
    join_ok(dir, r, "dead3", dead);
    q = join_ok(dir, s, "mine", self);

    /* 501 died holding the directory lock and, as a producer, 502's inbox */
    parley_lock(&dir->lock, 501);
    parley_lock(&parley_dir_inbox(dir, live)->inbox.lock, 501);

    fake_alive_pid = 502;
    memset(&calls, 0, sizeof(calls_t));

    /* alive() says no to SELF too: a reaper never reaps itself */
    assert_int_equal(parley_dir_reap(dir, SELF, fake_alive, record_call,
                                     &calls),
                     3);

    assert_int_equal(calls.calls, 3);
    assert_int_equal(calls.inbox[0], dead);
    assert_int_equal(calls.inbox[1], dead);
    assert_int_equal(calls.inbox[2], dead);

    assert_int_equal(parley_dir_inbox(dir, dead)->pid, 0);
    assert_int_equal(parley_dir_inbox(dir, live)->pid, 502);
    assert_int_equal(parley_dir_inbox(dir, self)->pid, SELF);
    assert_int_equal(dir->lock.holder, 0);
    assert_int_equal(parley_dir_inbox(dir, live)->inbox.lock.holder, 0);

    assert_int_equal(parley_dir_room(dir, r)->count, 1);
    assert_int_equal(parley_dir_room_first(dir, r), p);
    assert_int_equal(parley_dir_room(dir, s)->count, 1);
    assert_int_equal(parley_dir_room_first(dir, s), q);
    assert_int_equal(dir->participants_in_use, 2);
    assert_true(dir_consistent(dir));

    memset(&calls, 0, sizeof(calls_t));
    assert_int_equal(parley_dir_reap(dir, SELF, fake_alive, record_call,
                                     &calls),
                     0);
    assert_int_equal(calls.calls, 0);

    munmap(dir, size);
}


/* As the module would: the organiser's departure ends the room for all. */
static void
close_if_organiser(parley_dir_t *dir, uint32_t p, void *data)
{
    parley_participant_t  *pt;

    pt = parley_dir_participant(dir, p);

    if (pt->role == PARLEY_ROLE_ORGANISER) {
        parley_dir_room_close_locked(dir, pt->room, NULL, NULL);
    }

    (*(uint32_t *) data)++;
}


static void
test_reap_gone_closes_room(void **state)
{
    size_t         size;
    uint16_t       dead, live;
    uint32_t       r, p, gone_calls;
    parley_dir_t  *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);

    assert_int_equal(parley_dir_inbox_claim(dir, 501, &dead), PARLEY_OK);
    assert_int_equal(parley_dir_inbox_claim(dir, 502, &live), PARLEY_OK);

    r = room_new(dir, "room");
    assert_int_equal(join(dir, r, "org", PARLEY_ROLE_ORGANISER, dead, &p),
                     PARLEY_OK);
    join_ok(dir, r, "guest", live);
    join_ok(dir, r, "dead too", dead);

    fake_alive_pid = 502;
    gone_calls = 0;

    assert_int_equal(parley_dir_reap(dir, SELF, fake_alive,
                                     close_if_organiser, &gone_calls),
                     1);
    assert_int_equal(gone_calls, 1);
    assert_int_equal(dir->rooms_in_use, 0);
    assert_int_equal(dir->participants_in_use, 0);
    assert_int_equal(parley_dir_inbox(dir, dead)->pid, 0);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


/*
 * Plays a second reaper that, between the first one's look at a slot and
 * its taking the lock, reaps the slot and sees it claimed by a new worker.
 */
static parley_dir_t  *race_dir;
static uint32_t       race_inner, race_new_p;


static int
alive_while_racing(uint32_t pid)
{
    uint16_t  slot;
    uint32_t  room;

    if (race_dir != NULL) {
        race_inner = parley_dir_reap(race_dir, 888, fake_alive, NULL, NULL);

        if (parley_dir_inbox_claim(race_dir, 777, &slot) != PARLEY_OK
            || parley_dir_room_create_locked(race_dir, "new", NOW, &room)
               != PARLEY_OK
            || join(race_dir, room, "new", PARLEY_ROLE_PARTICIPANT, slot,
                    &race_new_p)
               != PARLEY_OK)
        {
            race_new_p = PARLEY_NONE;
        }

        race_dir = NULL;
    }

    return fake_alive(pid);
}


static void
test_reap_slot_reclaimed_meanwhile(void **state)
{
    size_t         size;
    uint16_t       dead;
    uint32_t       r;
    calls_t        calls;
    parley_dir_t  *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);

    assert_int_equal(parley_dir_inbox_claim(dir, 501, &dead), PARLEY_OK);
    r = room_new(dir, "room");
    join_ok(dir, r, "dead", dead);

    fake_alive_pid = 502;
    race_dir = dir;
    memset(&calls, 0, sizeof(calls_t));

    assert_int_equal(parley_dir_reap(dir, SELF, alive_while_racing,
                                     record_call, &calls),
                     0);
    assert_int_equal(race_inner, 1);
    assert_int_equal(calls.calls, 0);

    /* the new owner keeps its slot and its participant */
    assert_int_equal(parley_dir_inbox(dir, dead)->pid, 777);
    assert_int_not_equal(race_new_p, PARLEY_NONE);
    assert_int_equal(parley_dir_participant(dir, race_new_p)->inbox, dead);
    assert_int_equal(dir->participants_in_use, 1);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


typedef struct {
    uint32_t  p;
    uint64_t  id;
} mine_t;


/*
 * One child's share of the hammering: joins and leaves at random under the
 * lock, checking that nobody else touched its participants. Returns the
 * number it still holds, or -1 if anything looked wrong.
 */
static int
hammer_directory(parley_dir_t *dir, uint16_t inbox)
{
    int                    i, held;
    char                   id[16];
    uint32_t               self, room, p, k;
    unsigned               seed;
    mine_t                 mine[MINE_MAX];
    parley_rc_t            rc;
    parley_participant_t  *pt;

    self = (uint32_t) getpid();
    seed = self;
    held = 0;

    for (i = 0; i < ROUNDS; i++) {
        parley_dir_lock(dir, self);

        if (dir->lock.holder != self) {
            return -1;
        }

        if (held > 0 && (held == MINE_MAX || rand_r(&seed) % 2)) {
            k = rand_r(&seed) % held;
            pt = parley_dir_participant(dir, mine[k].p);

            if (pt->id != mine[k].id || pt->inbox != inbox) {
                return -1;
            }

            parley_dir_leave_locked(dir, mine[k].p);
            mine[k] = mine[--held];

        } else {
            snprintf(id, sizeof(id), "room%u", rand_r(&seed) % ROOM_IDS);
            rc = parley_dir_room_find_locked(dir, id, &room);

            if (rc == PARLEY_ERR_ROOM_NOT_FOUND) {
                rc = parley_dir_room_create_locked(dir, id, NOW, &room);
            }

            if (rc == PARLEY_OK) {
                rc = join(dir, room, "x", PARLEY_ROLE_PARTICIPANT, inbox, &p);

                if (rc == PARLEY_OK) {
                    mine[held].p = p;
                    mine[held].id = parley_dir_participant(dir, p)->id;
                    held++;

                } else if (parley_dir_room(dir, room)->count == 0) {
                    /* do not leave behind a room we created for nothing */
                    parley_dir_room_close_locked(dir, room, NULL, NULL);
                }
            }

            if (rc != PARLEY_OK
                && rc != PARLEY_ERR_ROOM_FULL
                && rc != PARLEY_ERR_SERVER_FULL
                && rc != PARLEY_ERR_TOO_MANY_ROOMS)
            {
                return -1;
            }
        }

        if (i % 64 == 0 && !dir_consistent(dir)) {
            return -1;
        }

        parley_dir_unlock(dir, self);
    }

    return held;
}


static void
test_hammer_processes(void **state)
{
    int                    i, status;
    pid_t                  pids[CHILDREN];
    size_t                 size;
    uint32_t               p, held;
    parley_dir_t          *dir;
    parley_dir_limits_t    limits = { 8, 6 };

    (void) state;

    /* a pool smaller than 8 * 6 so that SERVER_FULL happens too */
    dir = dir_new(&limits, 30, &size);

    for (i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);

        if (pids[i] == 0) {
            alarm(TIMEOUT_S);
            status = hammer_directory(dir, (uint16_t) i);
            _exit(status < 0 ? 255 : status);
        }
    }

    held = 0;

    for (i = 0; i < CHILDREN; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_not_equal(WEXITSTATUS(status), 255);
        held += WEXITSTATUS(status);
    }

    assert_int_equal(dir->lock.holder, 0);
    assert_true(dir_consistent(dir));
    assert_int_equal(dir->participants_in_use, held);

    for (p = 0; p < dir->max_participants; p++) {
        parley_dir_leave_locked(dir, p);
    }

    assert_int_equal(dir->participants_in_use, 0);
    assert_int_equal(dir->rooms_in_use, 0);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


static int
pid_alive(uint32_t pid)
{
    return kill((pid_t) pid, 0) == 0 || errno == EPERM;
}


/*
 * The child claims an inbox, joins participants, then stops dead holding
 * the directory lock and the parent's inbox lock, as if killed mid-push.
 */
static void
child_claim_and_hang(parley_dir_t *dir, uint16_t parent_slot, uint32_t room,
    int ready)
{
    char      byte;
    uint16_t  slot;
    uint32_t  self, own, p;

    self = (uint32_t) getpid();
    byte = 'E';

    if (parley_dir_inbox_claim(dir, self, &slot) == PARLEY_OK) {
        parley_dir_lock(dir, self);

        if (join(dir, room, "c1", PARLEY_ROLE_PARTICIPANT, slot, &p)
                == PARLEY_OK
            && join(dir, room, "c2", PARLEY_ROLE_PARTICIPANT, slot, &p)
               == PARLEY_OK
            && parley_dir_room_create_locked(dir, "child", NOW, &own)
               == PARLEY_OK
            && join(dir, own, "c3", PARLEY_ROLE_ORGANISER, slot, &p)
               == PARLEY_OK)
        {
            byte = 'R';
        }

        parley_lock(&parley_dir_inbox(dir, parent_slot)->inbox.lock, self);
    }

    if (write(ready, &byte, 1) != 1) {
        _exit(1);
    }

    for ( ;; ) {
        pause();
    }
}


static void
test_reap_killed_process(void **state)
{
    int                  fds[2], status, wake;
    char                 byte;
    pid_t                pid;
    size_t               size;
    uint16_t             slot, i;
    uint32_t             self, room, p, reaped_alive, reaped;
    calls_t              calls;
    parley_dir_t        *dir;
    parley_event_t       ev;
    parley_dir_inbox_t  *mine;

    (void) state;

    self = (uint32_t) getpid();
    dir = dir_new(&small_limits, 12, &size);

    assert_int_equal(parley_dir_inbox_claim(dir, self, &slot), PARLEY_OK);
    mine = parley_dir_inbox(dir, slot);

    parley_dir_lock(dir, self);
    room = room_new(dir, "room");
    assert_int_equal(join(dir, room, "parent", PARLEY_ROLE_ORGANISER, slot,
                          &p),
                     PARLEY_OK);
    parley_dir_unlock(dir, self);

    assert_int_equal(pipe(fds), 0);

    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        alarm(TIMEOUT_S);
        child_claim_and_hang(dir, slot, room, fds[1]);
    }

    if (read(fds[0], &byte, 1) != 1) {
        byte = 0;
    }

    /* while the child lives, nothing is reaped (nor is the lock taken) */
    memset(&calls, 0, sizeof(calls_t));
    reaped_alive = parley_dir_reap(dir, self, pid_alive, record_call, &calls);

    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);

    assert_int_equal(byte, 'R');
    assert_int_equal(reaped_alive, 0);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(dir->lock.holder, (uint32_t) pid);
    assert_int_equal(mine->inbox.lock.holder, (uint32_t) pid);

    reaped = parley_dir_reap(dir, self, pid_alive, record_call, &calls);

    assert_int_equal(reaped, 3);
    assert_int_equal(calls.calls, 3);

    for (i = 0; i < PARLEY_MAX_INBOXES; i++) {
        if (i != slot) {
            assert_int_equal(parley_dir_inbox(dir, i)->pid, 0);
        }
    }

    assert_int_equal(calls.inbox[0], calls.inbox[1]);
    assert_int_equal(calls.inbox[1], calls.inbox[2]);
    assert_int_not_equal(calls.inbox[0], slot);

    assert_int_equal(dir->lock.holder, 0);
    assert_int_equal(mine->inbox.lock.holder, 0);
    assert_int_equal(mine->pid, self);

    assert_true(parley_trylock(&dir->lock, self));
    assert_int_equal(dir->rooms_in_use, 1);
    assert_int_equal(dir->participants_in_use, 1);
    assert_int_equal(parley_dir_room_first(dir, room), p);
    assert_int_equal(parley_dir_room_find_locked(dir, "child", &room),
                     PARLEY_ERR_ROOM_NOT_FOUND);
    assert_true(dir_consistent(dir));
    parley_dir_unlock(dir, self);

    memset(&ev, 0, sizeof(parley_event_t));
    assert_int_equal(parley_inbox_push(&mine->inbox, &ev, self, &wake),
                     PARLEY_OK);

    close(fds[0]);
    close(fds[1]);
    munmap(dir, size);
}


/* SipHash-2-4's reference vectors: key 00..0f, messages 00..(n-1) */
static void
test_siphash(void **state)
{
    size_t    i;
    uint8_t   key[16], msg[64];
    uint64_t  k[2];

    (void) state;

    for (i = 0; i < 16; i++) {
        key[i] = (uint8_t) i;
    }

    for (i = 0; i < 64; i++) {
        msg[i] = (uint8_t) i;
    }

    memcpy(k, key, sizeof(k));

    assert_true(parley_siphash(k, msg, 0) == 0x726fdb47dd0e0e31ULL);
    assert_true(parley_siphash(k, msg, 1) == 0x74f839c593dc67fdULL);
    assert_true(parley_siphash(k, msg, 7) == 0xab0200f58b01d137ULL);
    assert_true(parley_siphash(k, msg, 8) == 0x93f5f5799a932462ULL);
    assert_true(parley_siphash(k, msg, 15) == 0xa129ca6149be45e5ULL);
    assert_true(parley_siphash(k, msg, 63) == 0x958a324ceb064572ULL);
}


/* Rooms by id through the hash, at every fill, with rooms coming and going */
static void
test_room_hash(void **state)
{
    char                 id[32];
    size_t               size;
    uint8_t              key[16];
    uint32_t             i, r, room[1000];
    parley_dir_t        *dir;
    parley_dir_limits_t  limits = { 1000, 2 };

    (void) state;

    dir = dir_new(&limits, 10, &size);

    for (i = 0; i < 16; i++) {
        key[i] = (uint8_t) (0xa5 ^ i);
    }

    parley_dir_seed(dir, key);
    assert_true(dir->buckets >= 1000);

    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "room-%u", i);
        room[i] = room_new(dir, id);
    }

    assert_int_equal(parley_dir_room_create_locked(dir, "room-7", NOW, &r),
                     PARLEY_ERR_ROOM_EXISTS);
    assert_int_equal(parley_dir_room_create_locked(dir, "room-x", NOW, &r),
                     PARLEY_ERR_TOO_MANY_ROOMS);

    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "room-%u", i);
        assert_int_equal(parley_dir_room_find_locked(dir, id, &r), PARLEY_OK);
        assert_int_equal(r, room[i]);
    }

    for (i = 0; i < 1000; i += 2) {
        parley_dir_room_close_locked(dir, room[i], NULL, NULL);
    }

    assert_true(dir_consistent(dir));

    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "room-%u", i);
        assert_int_equal(parley_dir_room_find_locked(dir, id, &r),
                         (i % 2) ? PARLEY_OK : PARLEY_ERR_ROOM_NOT_FOUND);
    }

    /* an id too long, and one never made */
    memset(id, 'a', sizeof(id));
    id[sizeof(id) - 1] = '\0';
    assert_int_equal(parley_dir_room_find_locked(dir, id, &r),
                     PARLEY_ERR_ROOM_NOT_FOUND);

    for (i = 0; i < 1000; i += 2) {
        snprintf(id, sizeof(id), "again-%u", i);
        (void) room_new(dir, id);
    }

    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


/* Away, back, expiry: a participant keeps its place while away */
static void
test_away(void **state)
{
    size_t          size;
    uint16_t        a, b;
    uint32_t        r, p, q, found, attach;
    uint64_t        mask[PARLEY_MAX_INBOXES / 64];
    parley_dir_t   *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);

    assert_int_equal(parley_dir_inbox_claim(dir, 501, &a), PARLEY_OK);
    assert_int_equal(parley_dir_inbox_claim(dir, 502, &b), PARLEY_OK);

    r = room_new(dir, "room");
    p = join_ok(dir, r, "p", a);
    q = join_ok(dir, r, "q", b);

    assert_int_equal(parley_dir_participant_find_locked(dir, r,
                         parley_dir_participant(dir, q)->id, &found),
                     PARLEY_OK);
    assert_int_equal(found, q);
    assert_int_equal(parley_dir_participant_find_locked(dir, r, 99999,
                                                        &found),
                     PARLEY_ERR_NOT_FOUND);

    attach = parley_dir_participant(dir, p)->attach;
    parley_dir_away_locked(dir, p, 100);

    assert_true(parley_dir_is_away(parley_dir_participant(dir, p)));
    assert_int_equal(dir->away, 1);
    assert_int_equal(parley_dir_room(dir, r)->count, 2);
    assert_true(dir_consistent(dir));

    /* an away participant's worker is told nothing */
    parley_dir_room_slots_locked(dir, r, PARLEY_DIR_NO_INBOX, mask);
    assert_true(mask[b / 64] & ((uint64_t) 1 << (b % 64)));
    assert_false(mask[a / 64] & ((uint64_t) 1 << (a % 64)));
    parley_dir_room_slots_locked(dir, r, b, mask);
    assert_false(mask[b / 64] & ((uint64_t) 1 << (b % 64)));

    assert_int_equal(parley_dir_away_expired_locked(dir, 99), PARLEY_NONE);
    assert_int_equal(parley_dir_away_expired_locked(dir, 100), p);

    /* back, on another worker: attached there, a new attach count */
    assert_int_equal(parley_dir_attach_locked(dir, p, b), PARLEY_OK);
    assert_false(parley_dir_is_away(parley_dir_participant(dir, p)));
    assert_int_equal(parley_dir_participant(dir, p)->inbox, b);
    assert_int_equal(parley_dir_participant(dir, p)->attach, attach + 1);
    assert_int_equal(parley_dir_away_expired_locked(dir, 1000), PARLEY_NONE);
    assert_int_equal(dir->away, 0);

    /* taken over while attached: the count moves on again */
    assert_int_equal(parley_dir_attach_locked(dir, p, a), PARLEY_OK);
    assert_int_equal(parley_dir_participant(dir, p)->attach, attach + 2);
    assert_int_equal(parley_dir_attach_locked(dir, p, PARLEY_MAX_INBOXES),
                     PARLEY_ERR_INVAL);
    assert_true(dir_consistent(dir));

    /* away ones leave and close with their room like the others */
    parley_dir_away_locked(dir, p, 100);
    parley_dir_away_locked(dir, q, 200);
    assert_int_equal(dir->away, 2);
    parley_dir_leave_locked(dir, p);
    assert_int_equal(dir->away, 1);
    assert_true(dir_consistent(dir));

    p = join_ok(dir, r, "p again", a);
    parley_dir_away_locked(dir, p, 50);
    parley_dir_room_close_locked(dir, r, NULL, NULL);
    assert_int_equal(dir->away, 0);
    assert_int_equal(dir->away_first, PARLEY_NONE);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


/* A reaper that sets the dead worker's participants away keeps them */
static void
set_away(parley_dir_t *dir, uint32_t p, void *data)
{
    (void) data;

    parley_dir_away_locked(dir, p, 1000);
}


static void
test_reap_sets_away(void **state)
{
    size_t         size;
    uint16_t       dead, live;
    uint32_t       r, p, q;
    parley_dir_t  *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);

    assert_int_equal(parley_dir_inbox_claim(dir, 501, &dead), PARLEY_OK);
    assert_int_equal(parley_dir_inbox_claim(dir, 502, &live), PARLEY_OK);

    r = room_new(dir, "room");
    p = join_ok(dir, r, "dead", dead);
    q = join_ok(dir, r, "live", live);

    fake_alive_pid = 502;

    assert_int_equal(parley_dir_reap(dir, SELF, fake_alive, set_away, NULL),
                     1);
    assert_int_equal(parley_dir_inbox(dir, dead)->pid, 0);
    assert_true(parley_dir_is_away(parley_dir_participant(dir, p)));
    assert_false(parley_dir_is_away(parley_dir_participant(dir, q)));
    assert_int_equal(parley_dir_room(dir, r)->count, 2);
    assert_true(dir_consistent(dir));

    /* the slot's next owner does not inherit it */
    assert_int_equal(parley_dir_inbox_claim(dir, 503, &dead), PARLEY_OK);
    assert_int_equal(parley_dir_reap(dir, SELF, fake_alive, set_away, NULL),
                     0);
    assert_int_equal(parley_dir_participant(dir, p)->inbox,
                     PARLEY_DIR_NO_INBOX);

    munmap(dir, size);
}


/*
 * A worker that exits empties its own slot under the directory lock taken
 * as itself: a real lock that excludes the others.
 */
static uint32_t  release_holder;


static void
note_holder(parley_dir_t *dir, uint32_t p, void *data)
{
    (void) p;
    (void) data;

    release_holder = dir->lock.holder;
}


static void
test_release_slot(void **state)
{
    size_t         size;
    uint16_t       mine, other;
    uint32_t       r, p;
    parley_dir_t  *dir;

    (void) state;

    dir = dir_new(&small_limits, 12, &size);

    assert_int_equal(parley_dir_inbox_claim(dir, SELF, &mine), PARLEY_OK);
    assert_int_equal(parley_dir_inbox_claim(dir, 502, &other), PARLEY_OK);

    r = room_new(dir, "room");
    join_ok(dir, r, "mine", mine);
    p = join_ok(dir, r, "other", other);

    /* only the holder releases its slot */
    assert_int_equal(parley_dir_release_slot(dir, mine, 502, note_holder,
                                             NULL),
                     0);
    assert_int_equal(parley_dir_inbox(dir, mine)->pid, SELF);

    release_holder = 0;
    assert_int_equal(parley_dir_release_slot(dir, mine, SELF, note_holder,
                                             NULL),
                     1);
    assert_int_equal(release_holder, SELF);
    assert_int_equal(dir->lock.holder, 0);
    assert_int_equal(parley_dir_inbox(dir, mine)->pid, 0);
    assert_int_equal(parley_dir_inbox(dir, other)->pid, 502);
    assert_int_equal(parley_dir_room(dir, r)->count, 1);
    assert_int_equal(parley_dir_room_first(dir, r), p);
    assert_true(dir_consistent(dir));

    munmap(dir, size);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_rc_str),
        cmocka_unit_test(test_geometry),
        cmocka_unit_test(test_attach),
        cmocka_unit_test(test_rooms),
        cmocka_unit_test(test_join_order_and_fields),
        cmocka_unit_test(test_names_truncated),
        cmocka_unit_test(test_room_full),
        cmocka_unit_test(test_server_full),
        cmocka_unit_test(test_leave),
        cmocka_unit_test(test_room_close),
        cmocka_unit_test(test_inbox_slots),
        cmocka_unit_test(test_reap_fake_pids),
        cmocka_unit_test(test_reap_gone_closes_room),
        cmocka_unit_test(test_reap_slot_reclaimed_meanwhile),
        cmocka_unit_test(test_hammer_processes),
        cmocka_unit_test(test_reap_killed_process),
        cmocka_unit_test(test_siphash),
        cmocka_unit_test(test_room_hash),
        cmocka_unit_test(test_away),
        cmocka_unit_test(test_reap_sets_away),
        cmocka_unit_test(test_release_slot),
    };

    /* a lock that is never freed fails the run instead of hanging it */
    alarm(TIMEOUT_S);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
