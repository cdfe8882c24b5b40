/*
 * The room directory in a shared region.
 *
 * Rooms and participants are preallocated arrays threaded by free lists, so
 * nothing is allocated while the server runs. A room's participants form a
 * singly linked list in join order; rooms hang in hash chains by id; away
 * participants on a list of their own.
 */

#include <string.h>

#include "parley_directory.h"


/* each part starts on its own cache line */
#define PARLEY_DIR_ALIGN  64


static size_t parley_dir_align(size_t n);
static size_t parley_dir_rooms_offset(void);
static uint32_t parley_dir_buckets(uint32_t max_rooms);
static size_t parley_dir_hash_offset(uint32_t max_rooms);
static size_t parley_dir_pool_offset(uint32_t max_rooms);
static uint32_t *parley_dir_hash(parley_dir_t *dir);
static uint32_t parley_dir_bucket(parley_dir_t *dir, const char *id,
    size_t len);
static void parley_dir_hash_unlink(parley_dir_t *dir, uint32_t room);
static void parley_dir_away_unlink(parley_dir_t *dir, uint32_t p);
static int parley_dir_limits_valid(const parley_dir_limits_t *limits);
static void parley_dir_init_lists(parley_dir_t *dir);
static parley_dir_inbox_t *parley_dir_slots(parley_dir_t *dir);
static parley_room_t *parley_dir_rooms(parley_dir_t *dir);
static parley_participant_t *parley_dir_pool(parley_dir_t *dir);
static int parley_dir_room_in_use(parley_dir_t *dir, uint32_t room);
static void parley_dir_room_free(parley_dir_t *dir, uint32_t room);
static void parley_dir_participant_free(parley_dir_t *dir, uint32_t p);
static void parley_dir_append(parley_dir_t *dir, parley_room_t *r,
    uint32_t p);
static void parley_dir_unlink(parley_dir_t *dir, parley_room_t *r,
    uint32_t p);
static uint32_t parley_dir_reap_slot(parley_dir_t *dir, uint16_t slot,
    uint32_t dead, uint32_t self,
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data);
static uint32_t parley_dir_empty_slot_locked(parley_dir_t *dir,
    uint16_t slot,
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data);
static void parley_copy_str(char *dst, size_t cap, const char *src);


size_t
parley_dir_size(const parley_dir_limits_t *limits, uint32_t participants)
{
    size_t  pool;

    if (!parley_dir_limits_valid(limits)) {
        return 0;
    }

    pool = parley_dir_pool_offset(limits->max_rooms);

    if (participants > (SIZE_MAX - pool) / sizeof(parley_participant_t)) {
        return 0;
    }

    return pool + (size_t) participants * sizeof(parley_participant_t);
}


parley_rc_t
parley_dir_init(void *mem, size_t size, const parley_dir_limits_t *limits)
{
    size_t         pool;
    uint64_t       n, cap;
    parley_dir_t  *dir;

    if (mem == NULL
        || (uintptr_t) mem % _Alignof(parley_dir_t) != 0
        || !parley_dir_limits_valid(limits))
    {
        return PARLEY_ERR_INVAL;
    }

    pool = parley_dir_pool_offset(limits->max_rooms);

    if (size < pool + sizeof(parley_participant_t)) {
        return PARLEY_ERR_NOSPACE;
    }

    n = (size - pool) / sizeof(parley_participant_t);
    cap = (uint64_t) limits->max_rooms * limits->max_per_room;

    if (n > cap) {
        n = cap;
    }

    /* indices are 32 bits and PARLEY_NONE is one of them */
    if (n >= PARLEY_NONE) {
        n = PARLEY_NONE - 1;
    }

    memset(mem, 0, pool + n * sizeof(parley_participant_t));

    dir = mem;
    dir->version = PARLEY_DIR_VERSION;
    dir->limits = *limits;
    dir->max_participants = (uint32_t) n;
    dir->next_uid = 1;
    dir->size = size;
    dir->buckets = parley_dir_buckets(limits->max_rooms);
    dir->away_first = PARLEY_NONE;
    parley_lock_init(&dir->lock);

    parley_dir_init_lists(dir);

    /* last: a layout cut short is never mistaken for a directory */
    dir->magic = PARLEY_DIR_MAGIC;

    return PARLEY_OK;
}


parley_rc_t
parley_dir_attach(void *mem, size_t size, const parley_dir_limits_t *limits)
{
    parley_dir_t  *dir;

    if (mem == NULL
        || (uintptr_t) mem % _Alignof(parley_dir_t) != 0
        || size < sizeof(parley_dir_t)
        || limits == NULL)
    {
        return PARLEY_ERR_INVAL;
    }

    dir = mem;

    if (dir->magic != PARLEY_DIR_MAGIC) {
        return PARLEY_ERR_INVAL;
    }

    if (dir->version != PARLEY_DIR_VERSION
        || dir->limits.max_rooms != limits->max_rooms
        || dir->limits.max_per_room != limits->max_per_room
        || dir->size != size)
    {
        return PARLEY_ERR_GEOMETRY;
    }

    return PARLEY_OK;
}


void
parley_dir_seed(parley_dir_t *dir, const uint8_t key[16])
{
    memcpy(dir->hash_key, key, sizeof(dir->hash_key));
}


void
parley_dir_lock(parley_dir_t *dir, uint32_t self)
{
    parley_lock(&dir->lock, self);
}


void
parley_dir_unlock(parley_dir_t *dir, uint32_t self)
{
    parley_unlock(&dir->lock, self);
}


parley_rc_t
parley_dir_inbox_claim(parley_dir_t *dir, uint32_t pid, uint16_t *slot)
{
    uint16_t             i;
    parley_dir_inbox_t  *slots;

    if (pid == 0) {
        return PARLEY_ERR_INVAL;
    }

    slots = parley_dir_slots(dir);

    parley_dir_lock(dir, pid);

    for (i = 0; i < PARLEY_MAX_INBOXES; i++) {
        if (__atomic_load_n(&slots[i].pid, __ATOMIC_ACQUIRE) == 0) {
            break;
        }
    }

    if (i == PARLEY_MAX_INBOXES) {
        parley_dir_unlock(dir, pid);
        return PARLEY_ERR_FULL;
    }

    slots[i].generation++;
    parley_inbox_reset(&slots[i].inbox, pid);
    memset(&slots[i].counters, 0, sizeof(parley_counters_t));
    __atomic_store_n(&slots[i].pid, pid, __ATOMIC_RELEASE);

    parley_dir_unlock(dir, pid);

    *slot = i;

    return PARLEY_OK;
}


void
parley_dir_inbox_release(parley_dir_t *dir, uint16_t slot)
{
    if (slot >= PARLEY_MAX_INBOXES) {
        return;
    }

    /*
     * No lock: claiming and reaping decide on pid under the directory lock,
     * and one atomic store cannot be seen half done.
     */
    __atomic_store_n(&parley_dir_slots(dir)[slot].pid, 0, __ATOMIC_RELEASE);
}


parley_dir_inbox_t *
parley_dir_inbox(parley_dir_t *dir, uint16_t slot)
{
    if (slot >= PARLEY_MAX_INBOXES) {
        return NULL;
    }

    return &parley_dir_slots(dir)[slot];
}


parley_rc_t
parley_dir_room_create_locked(parley_dir_t *dir, const char *id,
    uint64_t now, uint32_t *room)
{
    size_t          len;
    uint32_t        r, b;
    parley_room_t  *rm;

    if (id == NULL) {
        return PARLEY_ERR_INVAL;
    }

    len = strnlen(id, PARLEY_ROOM_ID_MAX + 1);

    if (len == 0 || len > PARLEY_ROOM_ID_MAX) {
        return PARLEY_ERR_INVAL;
    }

    if (parley_dir_room_find_locked(dir, id, &r) == PARLEY_OK) {
        return PARLEY_ERR_ROOM_EXISTS;
    }

    r = dir->free_room;

    if (r == PARLEY_NONE) {
        return PARLEY_ERR_TOO_MANY_ROOMS;
    }

    rm = &parley_dir_rooms(dir)[r];
    dir->free_room = rm->next_free;

    rm->uid = dir->next_uid++;
    rm->created = now;
    rm->organiser = 0;
    rm->first = PARLEY_NONE;
    rm->count = 0;
    rm->next_free = PARLEY_NONE;
    memcpy(rm->id, id, len);
    rm->id[len] = '\0';

    b = parley_dir_bucket(dir, id, len);
    rm->hash_next = parley_dir_hash(dir)[b];
    parley_dir_hash(dir)[b] = r;

    dir->rooms_in_use++;

    *room = r;

    return PARLEY_OK;
}


parley_rc_t
parley_dir_room_find_locked(parley_dir_t *dir, const char *id,
    uint32_t *room)
{
    size_t          len;
    uint32_t        r;
    parley_room_t  *rooms;

    if (id == NULL) {
        return PARLEY_ERR_INVAL;
    }

    len = strnlen(id, PARLEY_ROOM_ID_MAX + 1);

    if (len > PARLEY_ROOM_ID_MAX) {
        return PARLEY_ERR_ROOM_NOT_FOUND;
    }

    rooms = parley_dir_rooms(dir);

    for (r = parley_dir_hash(dir)[parley_dir_bucket(dir, id, len)];
         r != PARLEY_NONE;
         r = rooms[r].hash_next)
    {
        if (strcmp(rooms[r].id, id) == 0) {
            *room = r;
            return PARLEY_OK;
        }
    }

    return PARLEY_ERR_ROOM_NOT_FOUND;
}


parley_room_t *
parley_dir_room(parley_dir_t *dir, uint32_t room)
{
    if (room >= dir->limits.max_rooms) {
        return NULL;
    }

    return &parley_dir_rooms(dir)[room];
}


void
parley_dir_room_close_locked(parley_dir_t *dir, uint32_t room,
    void (*each)(parley_dir_t *dir, uint32_t p, void *data), void *data)
{
    uint32_t               p, next;
    parley_participant_t  *pool;

    if (!parley_dir_room_in_use(dir, room)) {
        return;
    }

    pool = parley_dir_pool(dir);

    if (each != NULL) {
        for (p = parley_dir_rooms(dir)[room].first;
             p != PARLEY_NONE;
             p = pool[p].next)
        {
            each(dir, p, data);
        }
    }

    for (p = parley_dir_rooms(dir)[room].first; p != PARLEY_NONE; p = next) {
        next = pool[p].next;

        if (parley_dir_is_away(&pool[p])) {
            parley_dir_away_unlink(dir, p);
        }

        parley_dir_participant_free(dir, p);
    }

    parley_dir_room_free(dir, room);
}


parley_rc_t
parley_dir_join_locked(parley_dir_t *dir, uint32_t room,
    const parley_member_t *member, uint32_t *participant)
{
    uint32_t               p;
    parley_room_t         *r;
    parley_participant_t  *pt;

    if (member == NULL
        || member->name == NULL
        || member->inbox >= PARLEY_MAX_INBOXES
        || (member->role != PARLEY_ROLE_ORGANISER
            && member->role != PARLEY_ROLE_PARTICIPANT))
    {
        return PARLEY_ERR_INVAL;
    }

    if (!parley_dir_room_in_use(dir, room)) {
        return PARLEY_ERR_ROOM_NOT_FOUND;
    }

    r = &parley_dir_rooms(dir)[room];

    if (r->count >= dir->limits.max_per_room) {
        return PARLEY_ERR_ROOM_FULL;
    }

    p = dir->free_participant;

    if (p == PARLEY_NONE) {
        return PARLEY_ERR_SERVER_FULL;
    }

    pt = &parley_dir_pool(dir)[p];
    dir->free_participant = pt->next;

    pt->id = dir->next_uid++;
    pt->room = room;
    pt->next = PARLEY_NONE;
    pt->attach = 1;
    pt->away_next = PARLEY_NONE;
    pt->away_until = 0;
    pt->inbox = member->inbox;
    pt->role = member->role;
    pt->guest = member->guest;
    pt->owner_cookie = member->owner_cookie;
    parley_copy_str(pt->name, sizeof(pt->name), member->name);
    parley_copy_str(pt->email, sizeof(pt->email), member->email);

    parley_dir_append(dir, r, p);
    r->count++;
    dir->participants_in_use++;

    if (member->role == PARLEY_ROLE_ORGANISER) {
        r->organiser = pt->id;
    }

    *participant = p;

    return PARLEY_OK;
}


void
parley_dir_leave_locked(parley_dir_t *dir, uint32_t participant)
{
    uint32_t               room;
    parley_room_t         *r;
    parley_participant_t  *pt;

    pt = parley_dir_participant(dir, participant);

    if (pt == NULL || pt->id == 0) {
        return;
    }

    room = pt->room;
    r = &parley_dir_rooms(dir)[room];

    if (parley_dir_is_away(pt)) {
        parley_dir_away_unlink(dir, participant);
    }

    parley_dir_unlink(dir, r, participant);
    r->count--;

    if (r->organiser == pt->id) {
        r->organiser = 0;
    }

    parley_dir_participant_free(dir, participant);

    if (r->count == 0) {
        parley_dir_room_free(dir, room);
    }
}


parley_participant_t *
parley_dir_participant(parley_dir_t *dir, uint32_t p)
{
    if (p >= dir->max_participants) {
        return NULL;
    }

    return &parley_dir_pool(dir)[p];
}


parley_rc_t
parley_dir_participant_find_locked(parley_dir_t *dir, uint32_t room,
    uint64_t id, uint32_t *participant)
{
    uint32_t  p;

    for (p = parley_dir_room_first(dir, room);
         p != PARLEY_NONE;
         p = parley_dir_room_next(dir, p))
    {
        if (parley_dir_pool(dir)[p].id == id) {
            *participant = p;
            return PARLEY_OK;
        }
    }

    return PARLEY_ERR_NOT_FOUND;
}


int
parley_dir_is_away(const parley_participant_t *p)
{
    return p->id != 0 && p->inbox == PARLEY_DIR_NO_INBOX;
}


void
parley_dir_away_locked(parley_dir_t *dir, uint32_t participant,
    uint64_t until)
{
    parley_participant_t  *pt;

    pt = parley_dir_participant(dir, participant);

    if (pt == NULL || pt->id == 0) {
        return;
    }

    pt->away_until = until;

    if (parley_dir_is_away(pt)) {
        return;
    }

    pt->inbox = PARLEY_DIR_NO_INBOX;
    pt->away_next = dir->away_first;
    dir->away_first = participant;
    dir->away++;
}


parley_rc_t
parley_dir_attach_locked(parley_dir_t *dir, uint32_t participant,
    uint16_t inbox)
{
    parley_participant_t  *pt;

    pt = parley_dir_participant(dir, participant);

    if (pt == NULL || pt->id == 0 || inbox >= PARLEY_MAX_INBOXES) {
        return PARLEY_ERR_INVAL;
    }

    if (parley_dir_is_away(pt)) {
        parley_dir_away_unlink(dir, participant);
    }

    pt->inbox = inbox;
    pt->away_until = 0;
    pt->attach++;

    return PARLEY_OK;
}


uint32_t
parley_dir_away_expired_locked(parley_dir_t *dir, uint64_t now)
{
    uint32_t               p;
    parley_participant_t  *pool;

    pool = parley_dir_pool(dir);

    for (p = dir->away_first; p != PARLEY_NONE; p = pool[p].away_next) {
        if (pool[p].away_until <= now) {
            return p;
        }
    }

    return PARLEY_NONE;
}


void
parley_dir_room_slots_locked(parley_dir_t *dir, uint32_t room,
    uint16_t except, uint64_t mask[PARLEY_MAX_INBOXES / 64])
{
    uint32_t  p;
    uint16_t  inbox;

    memset(mask, 0, PARLEY_MAX_INBOXES / 64 * sizeof(uint64_t));

    for (p = parley_dir_room_first(dir, room);
         p != PARLEY_NONE;
         p = parley_dir_room_next(dir, p))
    {
        inbox = parley_dir_pool(dir)[p].inbox;

        if (inbox < PARLEY_MAX_INBOXES && inbox != except) {
            mask[inbox / 64] |= (uint64_t) 1 << (inbox % 64);
        }
    }
}


uint32_t
parley_dir_room_first(parley_dir_t *dir, uint32_t room)
{
    if (!parley_dir_room_in_use(dir, room)) {
        return PARLEY_NONE;
    }

    return parley_dir_rooms(dir)[room].first;
}


uint32_t
parley_dir_room_next(parley_dir_t *dir, uint32_t participant)
{
    parley_participant_t  *pt;

    pt = parley_dir_participant(dir, participant);

    if (pt == NULL || pt->id == 0) {
        return PARLEY_NONE;
    }

    return pt->next;
}


uint32_t
parley_dir_reap(parley_dir_t *dir, uint32_t self,
    int (*alive)(uint32_t pid),
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data)
{
    uint16_t             slot;
    uint32_t             pid, removed;
    parley_dir_inbox_t  *slots;

    slots = parley_dir_slots(dir);
    removed = 0;

    for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {
        pid = __atomic_load_n(&slots[slot].pid, __ATOMIC_ACQUIRE);

        if (pid == 0 || pid == self || alive(pid)) {
            continue;
        }

        removed += parley_dir_reap_slot(dir, slot, pid, self, gone, data);
    }

    return removed;
}


static uint32_t
parley_dir_reap_slot(parley_dir_t *dir, uint16_t slot, uint32_t dead,
    uint32_t self,
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data)
{
    uint32_t               i, removed;
    parley_dir_inbox_t    *slots;

    slots = parley_dir_slots(dir);

    /*
     * The dead process may have held the directory lock, which we are about
     * to take, or, as a producer, the lock of any inbox.
     */
    parley_lock_force_unlock(&dir->lock, dead);

    for (i = 0; i < PARLEY_MAX_INBOXES; i++) {
        parley_lock_force_unlock(&slots[i].inbox.lock, dead);
    }

    parley_dir_lock(dir, self);

    /* another worker may have reaped the slot since we looked */
    if (slots[slot].pid != dead) {
        parley_dir_unlock(dir, self);
        return 0;
    }

    removed = parley_dir_empty_slot_locked(dir, slot, gone, data);

    __atomic_store_n(&slots[slot].pid, 0, __ATOMIC_RELEASE);

    parley_dir_unlock(dir, self);

    return removed;
}


uint32_t
parley_dir_release_slot(parley_dir_t *dir, uint16_t slot, uint32_t self,
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data)
{
    uint32_t             n;
    parley_dir_inbox_t  *slots;

    slots = parley_dir_slots(dir);

    if (slot >= PARLEY_MAX_INBOXES || self == 0) {
        return 0;
    }

    parley_dir_lock(dir, self);

    if (slots[slot].pid != self) {
        parley_dir_unlock(dir, self);
        return 0;
    }

    n = parley_dir_empty_slot_locked(dir, slot, gone, data);

    __atomic_store_n(&slots[slot].pid, 0, __ATOMIC_RELEASE);

    parley_dir_unlock(dir, self);

    return n;
}


/*
 * Every participant attached to the slot goes to gone(), which may set it
 * away (it then stays) or remove it; what is still attached is removed.
 */
static uint32_t
parley_dir_empty_slot_locked(parley_dir_t *dir, uint16_t slot,
    void (*gone)(parley_dir_t *dir, uint32_t p, void *data), void *data)
{
    uint32_t               p, n;
    parley_participant_t  *pool;

    pool = parley_dir_pool(dir);
    n = 0;

    for (p = 0; p < dir->max_participants; p++) {
        if (pool[p].id == 0 || pool[p].inbox != slot) {
            continue;
        }

        if (gone != NULL) {
            gone(dir, p, data);
        }

        if (pool[p].id != 0 && pool[p].inbox == slot) {
            parley_dir_leave_locked(dir, p);
        }

        n++;
    }

    return n;
}


static size_t
parley_dir_align(size_t n)
{
    return (n + PARLEY_DIR_ALIGN - 1) & ~((size_t) PARLEY_DIR_ALIGN - 1);
}


static size_t
parley_dir_rooms_offset(void)
{
    return parley_dir_align(parley_dir_align(sizeof(parley_dir_t))
                            + PARLEY_MAX_INBOXES * sizeof(parley_dir_inbox_t));
}


/* A chain per room or so: the least power of two at least max_rooms. */
static uint32_t
parley_dir_buckets(uint32_t max_rooms)
{
    uint32_t  n;

    for (n = 64; n < max_rooms; n <<= 1) {
        /* void */
    }

    return n;
}


static size_t
parley_dir_hash_offset(uint32_t max_rooms)
{
    return parley_dir_align(parley_dir_rooms_offset()
                            + (size_t) max_rooms * sizeof(parley_room_t));
}


static size_t
parley_dir_pool_offset(uint32_t max_rooms)
{
    return parley_dir_align(parley_dir_hash_offset(max_rooms)
                            + (size_t) parley_dir_buckets(max_rooms)
                              * sizeof(uint32_t));
}


static uint32_t *
parley_dir_hash(parley_dir_t *dir)
{
    return (uint32_t *)
               ((char *) dir + parley_dir_hash_offset(dir->limits.max_rooms));
}


#define PARLEY_ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define PARLEY_SIPROUND                                                       \
    do {                                                                      \
        v0 += v1; v1 = PARLEY_ROTL(v1, 13); v1 ^= v0;                         \
        v0 = PARLEY_ROTL(v0, 32);                                             \
        v2 += v3; v3 = PARLEY_ROTL(v3, 16); v3 ^= v2;                         \
        v0 += v3; v3 = PARLEY_ROTL(v3, 21); v3 ^= v0;                         \
        v2 += v1; v1 = PARLEY_ROTL(v1, 17); v1 ^= v2;                         \
        v2 = PARLEY_ROTL(v2, 32);                                             \
    } while (0)


/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed hash, so that the
 * chains' lengths cannot be chosen by whoever picks the ids.
 */
uint64_t
parley_siphash(const uint64_t key[2], const uint8_t *in, size_t len)
{
    int       i;
    size_t    n;
    uint64_t  v0, v1, v2, v3, m, b;

    v0 = key[0] ^ 0x736f6d6570736575ULL;
    v1 = key[1] ^ 0x646f72616e646f6dULL;
    v2 = key[0] ^ 0x6c7967656e657261ULL;
    v3 = key[1] ^ 0x7465646279746573ULL;

    for (n = 0; n + 8 <= len; n += 8) {
        m = 0;

        for (i = 7; i >= 0; i--) {
            m = (m << 8) | in[n + i];
        }

        v3 ^= m;
        PARLEY_SIPROUND;
        PARLEY_SIPROUND;
        v0 ^= m;
    }

    b = (uint64_t) len << 56;

    for (i = (int) (len - n) - 1; i >= 0; i--) {
        b |= (uint64_t) in[n + i] << (8 * i);
    }

    v3 ^= b;
    PARLEY_SIPROUND;
    PARLEY_SIPROUND;
    v0 ^= b;

    v2 ^= 0xff;
    PARLEY_SIPROUND;
    PARLEY_SIPROUND;
    PARLEY_SIPROUND;
    PARLEY_SIPROUND;

    return v0 ^ v1 ^ v2 ^ v3;
}


static uint32_t
parley_dir_bucket(parley_dir_t *dir, const char *id, size_t len)
{
    return (uint32_t) (parley_siphash(dir->hash_key, (const uint8_t *) id,
                                      len)
                       & (dir->buckets - 1));
}


static void
parley_dir_hash_unlink(parley_dir_t *dir, uint32_t room)
{
    uint32_t       *link;
    parley_room_t  *rooms;

    rooms = parley_dir_rooms(dir);
    link = &parley_dir_hash(dir)[parley_dir_bucket(dir, rooms[room].id,
                                                   strlen(rooms[room].id))];

    while (*link != PARLEY_NONE) {
        if (*link == room) {
            *link = rooms[room].hash_next;
            return;
        }

        link = &rooms[*link].hash_next;
    }
}


static void
parley_dir_away_unlink(parley_dir_t *dir, uint32_t p)
{
    uint32_t              *link;
    parley_participant_t  *pool;

    pool = parley_dir_pool(dir);

    for (link = &dir->away_first; *link != PARLEY_NONE;
         link = &pool[*link].away_next)
    {
        if (*link == p) {
            *link = pool[p].away_next;
            pool[p].away_next = PARLEY_NONE;
            dir->away--;
            return;
        }
    }
}


static int
parley_dir_limits_valid(const parley_dir_limits_t *limits)
{
    size_t  room_bytes_max;

    if (limits == NULL || limits->max_rooms == 0 || limits->max_per_room == 0)
    {
        return 0;
    }

    /* leave headroom so that the offsets plus one record never wrap */
    room_bytes_max = SIZE_MAX / 4 - parley_dir_rooms_offset();

    /* the hash needs a power of two at least max_rooms that fits 32 bits */
    return limits->max_rooms <= 0x80000000u
           && limits->max_rooms <= room_bytes_max
                                   / (sizeof(parley_room_t)
                                      + 2 * sizeof(uint32_t));
}


static void
parley_dir_init_lists(parley_dir_t *dir)
{
    uint32_t               i, n;
    parley_room_t         *rooms;
    parley_dir_inbox_t    *slots;
    parley_participant_t  *pool;

    slots = parley_dir_slots(dir);

    for (i = 0; i < PARLEY_MAX_INBOXES; i++) {
        slots[i].pid = 0;
        slots[i].generation = 0;
        parley_inbox_init(&slots[i].inbox);
    }

    rooms = parley_dir_rooms(dir);
    n = dir->limits.max_rooms;

    for (i = 0; i < n; i++) {
        rooms[i].first = PARLEY_NONE;
        rooms[i].hash_next = PARLEY_NONE;
        rooms[i].next_free = (i + 1 < n) ? i + 1 : PARLEY_NONE;
    }

    dir->free_room = 0;

    for (i = 0; i < dir->buckets; i++) {
        parley_dir_hash(dir)[i] = PARLEY_NONE;
    }

    pool = parley_dir_pool(dir);
    n = dir->max_participants;

    for (i = 0; i < n; i++) {
        pool[i].room = PARLEY_NONE;
        pool[i].away_next = PARLEY_NONE;
        pool[i].next = (i + 1 < n) ? i + 1 : PARLEY_NONE;
    }

    dir->free_participant = 0;
}


static parley_dir_inbox_t *
parley_dir_slots(parley_dir_t *dir)
{
    return (parley_dir_inbox_t *)
               ((char *) dir + parley_dir_align(sizeof(parley_dir_t)));
}


static parley_room_t *
parley_dir_rooms(parley_dir_t *dir)
{
    return (parley_room_t *) ((char *) dir + parley_dir_rooms_offset());
}


static parley_participant_t *
parley_dir_pool(parley_dir_t *dir)
{
    return (parley_participant_t *)
               ((char *) dir + parley_dir_pool_offset(dir->limits.max_rooms));
}


static int
parley_dir_room_in_use(parley_dir_t *dir, uint32_t room)
{
    return room < dir->limits.max_rooms
           && parley_dir_rooms(dir)[room].uid != 0;
}


static void
parley_dir_room_free(parley_dir_t *dir, uint32_t room)
{
    parley_room_t  *r;

    r = &parley_dir_rooms(dir)[room];

    parley_dir_hash_unlink(dir, room);

    r->uid = 0;
    r->hash_next = PARLEY_NONE;
    r->organiser = 0;
    r->first = PARLEY_NONE;
    r->count = 0;
    r->id[0] = '\0';
    r->next_free = dir->free_room;

    dir->free_room = room;
    dir->rooms_in_use--;
}


static void
parley_dir_participant_free(parley_dir_t *dir, uint32_t p)
{
    parley_participant_t  *pt;

    pt = &parley_dir_pool(dir)[p];

    pt->id = 0;
    pt->room = PARLEY_NONE;
    pt->name[0] = '\0';
    pt->email[0] = '\0';
    memset(pt->secret, 0, sizeof(pt->secret));
    pt->next = dir->free_participant;

    dir->free_participant = p;
    dir->participants_in_use--;
}


static void
parley_dir_append(parley_dir_t *dir, parley_room_t *r, uint32_t p)
{
    uint32_t               q;
    parley_participant_t  *pool;

    if (r->first == PARLEY_NONE) {
        r->first = p;
        return;
    }

    pool = parley_dir_pool(dir);

    for (q = r->first; pool[q].next != PARLEY_NONE; q = pool[q].next) {
        /* walk to the tail: at most max_per_room steps */
    }

    pool[q].next = p;
}


static void
parley_dir_unlink(parley_dir_t *dir, parley_room_t *r, uint32_t p)
{
    uint32_t               q;
    parley_participant_t  *pool;

    pool = parley_dir_pool(dir);

    if (r->first == p) {
        r->first = pool[p].next;
        return;
    }

    for (q = r->first; q != PARLEY_NONE; q = pool[q].next) {
        if (pool[q].next == p) {
            pool[q].next = pool[p].next;
            return;
        }
    }
}


/*
 * Copies a NUL-terminated string into dst[cap], truncating at a UTF-8
 * character boundary so that a cut never leaves half a character behind.
 */
static void
parley_copy_str(char *dst, size_t cap, const char *src)
{
    size_t  len;

    if (src == NULL) {
        dst[0] = '\0';
        return;
    }

    len = strnlen(src, cap);

    if (len == cap) {
        len = cap - 1;

        while (len > 0 && ((unsigned char) src[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    memcpy(dst, src, len);
    dst[len] = '\0';
}
