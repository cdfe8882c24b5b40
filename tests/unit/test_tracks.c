/*
 * Unit tests for the shared track table (shm/parley_tracks.c).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "parley_tracks.h"


#define T_TRACKS       16
#define T_SLOTS        64
#define T_SLOT_SIZE    1536

#define MP_TRACKS      4
#define MP_PACKETS     50000          /* per track */
#define MP_BURST       8              /* packets per track per iteration */
#define MP_WRITER      0              /* inbox slots */
#define MP_READER      1
#define MP_IDLE        2              /* subscribed, never collects */
#define TIMEOUT_S      60
#define MP_PROGRESS    3              /* stats[]: reader's next on track 0 */

#define SELF           1              /* lock holder id in one process */


/* what the reader child reports through its exit status */
enum {
    MP_PASS = 0,
    MP_BAD_RC,
    MP_BAD_PACKET,
    MP_OUT_OF_ORDER,
    MP_BAD_COUNT,
    MP_STALE_TRACK
};


static const parley_tracks_geometry_t  geometry = {
    T_TRACKS, T_SLOTS, T_SLOT_SIZE
};


typedef struct {
    void             *mem;
    size_t            size;
    parley_tracks_t  *tracks;
} fixture_t;


static int
setup(void **state)
{
    fixture_t  *f;

    f = calloc(1, sizeof(fixture_t));
    if (f == NULL) {
        return -1;
    }

    f->size = parley_tracks_size(&geometry);
    f->mem = mmap(NULL, f->size, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (f->size == 0 || f->mem == MAP_FAILED
        || parley_tracks_init(f->mem, f->size, &geometry) != PARLEY_OK
        || parley_tracks_attach(f->mem, f->size, &geometry, &f->tracks)
           != PARLEY_OK)
    {
        free(f);
        return -1;
    }

    *state = f;

    return 0;
}


static int
teardown(void **state)
{
    fixture_t  *f;

    f = *state;
    munmap(f->mem, f->size);
    free(f);

    return 0;
}


static uint32_t
publish(parley_tracks_t *tracks, uint64_t room, uint16_t owner,
    uint32_t ssrc)
{
    uint32_t             idx;
    parley_track_info_t  info;

    memset(&info, 0, sizeof(info));
    info.room_uid = room;
    info.publisher = 100 + ssrc;
    info.owner = owner;
    info.kind = PARLEY_TRACK_VIDEO;
    info.ssrc = ssrc;
    info.rtx_ssrc = ssrc + 1;
    info.pt = 96;
    info.rtx_pt = 97;
    info.layers = 2;
    info.ext[3] = 2;
    info.mid = "1";
    info.codec = "VP8";

    parley_tracks_lock(tracks, SELF);
    assert_int_equal(parley_tracks_publish_locked(tracks, &info, &idx),
                     PARLEY_OK);
    parley_tracks_unlock(tracks, SELF);

    return idx;
}


static void
subscribe(parley_tracks_t *tracks, uint32_t idx, uint16_t slot)
{
    parley_tracks_lock(tracks, SELF);
    assert_int_equal(parley_tracks_subscribe_locked(tracks, idx,
                         parley_tracks_uid(tracks, idx), slot), PARLEY_OK);
    parley_tracks_unlock(tracks, SELF);
}


static void
test_geometry(void **state)
{
    void                      *mem;
    size_t                     size;
    parley_tracks_t           *t;
    parley_tracks_geometry_t   g;

    (void) state;

    size = parley_tracks_size(&geometry);
    assert_true(size >= T_TRACKS * parley_ring_size(T_SLOTS, T_SLOT_SIZE)
                        + T_TRACKS * sizeof(parley_track_t));

    g = geometry;
    g.ring_slots = 48;
    assert_int_equal(parley_tracks_size(&g), 0);
    g = geometry;
    g.max_tracks = 0;
    assert_int_equal(parley_tracks_size(&g), 0);
    g = geometry;
    g.slot_size = 0;
    assert_int_equal(parley_tracks_size(&g), 0);
    g.max_tracks = UINT32_MAX - 1;
    g.slot_size = UINT32_MAX / 2;
    g.ring_slots = 1u << 30;
    assert_int_equal(parley_tracks_size(&g), 0);

    mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);

    /* nothing there yet */
    assert_int_equal(parley_tracks_attach(mem, size, &geometry, &t),
                     PARLEY_ERR_INVAL);

    assert_int_equal(parley_tracks_init(mem, size - 1, &geometry),
                     PARLEY_ERR_NOSPACE);
    assert_int_equal(parley_tracks_init((char *) mem + 8, size - 64,
                                        &geometry), PARLEY_ERR_INVAL);
    assert_int_equal(parley_tracks_init(mem, size, &geometry), PARLEY_OK);
    assert_int_equal(parley_tracks_attach(mem, size, &geometry, &t),
                     PARLEY_OK);
    assert_ptr_equal(t, mem);

    g = geometry;
    g.ring_slots = 128;
    assert_int_equal(parley_tracks_attach(mem, size, &g, &t),
                     PARLEY_ERR_GEOMETRY);
    g = geometry;
    g.max_tracks = 8;
    assert_int_equal(parley_tracks_attach(mem, size, &g, &t),
                     PARLEY_ERR_GEOMETRY);
    assert_int_equal(parley_tracks_attach(mem, size + 64, &geometry, &t),
                     PARLEY_ERR_GEOMETRY);

    /* every ring is laid out, inside the region, cache-line aligned */
    assert_int_equal((uintptr_t) parley_tracks_ring(t, 0) % 64, 0);
    assert_true((char *) parley_tracks_ring(t, T_TRACKS - 1)
                + parley_ring_size(T_SLOTS, T_SLOT_SIZE)
                <= (char *) mem + size);
    assert_null(parley_tracks_ring(t, T_TRACKS));
    assert_null(parley_tracks_track(t, T_TRACKS));

    munmap(mem, size);
}


static void
test_publish_find_iterate(void **state)
{
    uint32_t          a, b, c, idx, i, n, gen;
    uint64_t          uid_a, uid_b;
    fixture_t        *f;
    parley_track_t   *rec;
    parley_tracks_t  *t;
    parley_track_info_t  info;

    f = *state;
    t = f->tracks;

    a = publish(t, 7, 3, 1000);
    b = publish(t, 8, 3, 2000);
    c = publish(t, 7, 4, 3000);
    assert_true(a != b && b != c && a != c);

    uid_a = parley_tracks_uid(t, a);
    uid_b = parley_tracks_uid(t, b);
    assert_true(uid_a != 0 && uid_b != 0 && uid_a != uid_b);

    rec = parley_tracks_track(t, c);
    assert_int_equal(rec->room_uid, 7);
    assert_int_equal(rec->owner, 4);
    assert_int_equal(rec->kind, PARLEY_TRACK_VIDEO);
    assert_int_equal(rec->ssrc, 3000);
    assert_int_equal(rec->rtx_ssrc, 3001);
    assert_int_equal(rec->pt, 96);
    assert_int_equal(rec->rtx_pt, 97);
    assert_int_equal(rec->layers, 2);
    assert_int_equal(rec->ext[3], 2);
    assert_int_equal(rec->ext[4], 0);
    assert_string_equal(rec->mid, "1");
    assert_string_equal(rec->codec, "VP8");

    parley_tracks_lock(t, SELF);

    assert_int_equal(parley_tracks_find_locked(t, uid_b, &idx), PARLEY_OK);
    assert_int_equal(idx, b);
    assert_int_equal(parley_tracks_find_locked(t, 0, &idx),
                     PARLEY_ERR_NOT_FOUND);

    /* room 7 holds a and c, in index order */
    n = 0;
    for (i = parley_tracks_room_next_locked(t, 7, 0);
         i != PARLEY_NONE;
         i = parley_tracks_room_next_locked(t, 7, i + 1))
    {
        assert_true(i == a || i == c);
        n++;
    }
    assert_int_equal(n, 2);

    gen = parley_tracks_track(t, a)->generation;
    parley_tracks_unpublish_locked(t, a);

    assert_int_equal(parley_tracks_uid(t, a), 0);
    assert_int_equal(parley_tracks_track(t, a)->generation, gen + 1);
    assert_int_equal(parley_tracks_find_locked(t, uid_a, &idx),
                     PARLEY_ERR_NOT_FOUND);
    assert_int_equal(parley_tracks_room_next_locked(t, 7, 0), c);
    assert_int_equal(parley_tracks_room_next_locked(t, 7, c + 1),
                     PARLEY_NONE);

    /* a string that does not fit is refused, and nothing is taken */
    memset(&info, 0, sizeof(info));
    info.kind = PARLEY_TRACK_AUDIO;
    info.codec = "a-codec-name-too-long";
    assert_int_equal(parley_tracks_publish_locked(t, &info, &idx),
                     PARLEY_ERR_INVAL);
    info.codec = "opus";
    info.kind = 9;
    assert_int_equal(parley_tracks_publish_locked(t, &info, &idx),
                     PARLEY_ERR_INVAL);

    parley_tracks_unlock(t, SELF);

    /* the freed record is reused with a uid never seen before */
    idx = publish(t, 9, 5, 4000);
    assert_int_equal(idx, a);
    assert_true(parley_tracks_uid(t, idx) > uid_b);
    assert_int_equal(t->in_use, 3);

    /* fill the table, then one more is refused */
    for (i = 3; i < T_TRACKS; i++) {
        (void) publish(t, 10, 6, 5000 + i);
    }

    memset(&info, 0, sizeof(info));
    info.kind = PARLEY_TRACK_AUDIO;
    parley_tracks_lock(t, SELF);
    assert_int_equal(parley_tracks_publish_locked(t, &info, &idx),
                     PARLEY_ERR_FULL);

    /* a dead worker's tracks go; the others stay */
    assert_int_equal(parley_tracks_release_slot_locked(t, 6), T_TRACKS - 3);
    assert_int_equal(t->in_use, 3);
    parley_tracks_unlock(t, SELF);
}


static void
test_ring_of_track(void **state)
{
    uint8_t          buf[T_SLOT_SIZE];
    uint32_t         idx, len;
    uint64_t         meta;
    fixture_t       *f;
    parley_ring_t   *ring, *attached;
    parley_ring_reader_t  rd;

    f = *state;

    idx = publish(f->tracks, 1, 0, 42);
    ring = parley_tracks_ring(f->tracks, idx);

    assert_int_equal(parley_ring_attach(ring,
                         parley_ring_size(T_SLOTS, T_SLOT_SIZE), &attached),
                     PARLEY_OK);
    assert_int_equal(parley_ring_slots(attached), T_SLOTS);
    assert_int_equal(parley_ring_slot_size(attached), T_SLOT_SIZE);

    parley_ring_reader_init(ring, &rd);
    assert_int_equal(parley_ring_publish(ring, "rtp", 3, 77), PARLEY_OK);
    assert_int_equal(parley_ring_read(ring, &rd, buf, sizeof(buf), &len,
                                      &meta), PARLEY_OK);
    assert_int_equal(len, 3);
    assert_int_equal(meta, 77);
    assert_memory_equal(buf, "rtp", 3);

    /* republished in the same record: the ring starts over, empty */
    parley_tracks_lock(f->tracks, SELF);
    parley_tracks_unpublish_locked(f->tracks, idx);
    parley_tracks_unlock(f->tracks, SELF);

    assert_int_equal(publish(f->tracks, 1, 0, 43), idx);
    assert_int_equal(parley_ring_head(ring), 0);
    assert_int_equal(parley_ring_get(ring, 0, buf, sizeof(buf), &len, &meta),
                     PARLEY_ERR_NOT_FOUND);
}


static void
test_subscribe_mask(void **state)
{
    uint32_t          idx;
    uint64_t          uid;
    fixture_t        *f;
    parley_tracks_t  *t;

    f = *state;
    t = f->tracks;

    idx = publish(t, 1, 0, 42);
    uid = parley_tracks_uid(t, idx);

    subscribe(t, idx, 1);
    subscribe(t, idx, 127);
    assert_true(parley_tracks_subscribed(t, idx, 1));
    assert_true(parley_tracks_subscribed(t, idx, 127));
    assert_false(parley_tracks_subscribed(t, idx, 2));
    assert_false(parley_tracks_subscribed(t, idx, 63));

    parley_tracks_lock(t, SELF);

    assert_int_equal(parley_tracks_unsubscribe_locked(t, idx, uid, 1),
                     PARLEY_OK);
    assert_int_equal(parley_tracks_subscribe_locked(t, idx, uid, 128),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_tracks_subscribe_locked(t, idx, uid + 1, 5),
                     PARLEY_ERR_NOT_FOUND);

    /* a stale uid leaves no bit on the record's next track */
    parley_tracks_unpublish_locked(t, idx);
    assert_false(parley_tracks_subscribed(t, idx, 127));
    parley_tracks_unlock(t, SELF);

    assert_int_equal(publish(t, 1, 0, 43), idx);

    parley_tracks_lock(t, SELF);
    assert_int_equal(parley_tracks_subscribe_locked(t, idx, uid, 5),
                     PARLEY_ERR_NOT_FOUND);
    parley_tracks_unlock(t, SELF);

    assert_false(parley_tracks_subscribed(t, idx, 5));
    assert_false(parley_tracks_subscribed(t, idx, 1));
}


static void
test_mark_collect(void **state)
{
    uint32_t            a, b, c, n, out[T_TRACKS];
    fixture_t          *f;
    parley_tracks_t    *t;
    parley_slot_mask_t  wake;

    f = *state;
    t = f->tracks;

    a = publish(t, 1, 0, 10);
    b = publish(t, 1, 0, 20);
    c = publish(t, 1, 0, 30);

    subscribe(t, a, 1);
    subscribe(t, a, 100);
    subscribe(t, b, 1);

    /* the first mark wakes both workers; later ones wake nobody */
    memset(&wake, 0, sizeof(wake));
    assert_int_equal(parley_tracks_mark(t, a, &wake), 2);
    assert_int_equal(wake.bits[0], (uint64_t) 1 << 1);
    assert_int_equal(wake.bits[1], (uint64_t) 1 << (100 - 64));

    memset(&wake, 0, sizeof(wake));
    assert_int_equal(parley_tracks_mark(t, b, &wake), 0);
    assert_int_equal(parley_tracks_mark(t, a, &wake), 0);
    assert_int_equal(parley_tracks_mark(t, c, &wake), 0);  /* nobody */
    assert_int_equal(wake.bits[0] | wake.bits[1], 0);

    assert_int_equal(parley_tracks_collect(t, 1, out, T_TRACKS - 1, &n),
                     PARLEY_ERR_INVAL);

    assert_int_equal(parley_tracks_collect(t, 1, out, T_TRACKS, &n),
                     PARLEY_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], a < b ? a : b);
    assert_int_equal(out[1], a < b ? b : a);

    /* taken: nothing left until the next mark, which wakes again */
    assert_int_equal(parley_tracks_collect(t, 1, out, T_TRACKS, &n),
                     PARLEY_OK);
    assert_int_equal(n, 0);

    memset(&wake, 0, sizeof(wake));
    assert_int_equal(parley_tracks_mark(t, b, &wake), 1);
    assert_int_equal(wake.bits[0], (uint64_t) 1 << 1);

    assert_int_equal(parley_tracks_collect(t, 1, out, T_TRACKS, &n),
                     PARLEY_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], b);

    /* worker 100 was never drained: it still holds a, once */
    assert_int_equal(parley_tracks_collect(t, 100, out, T_TRACKS, &n),
                     PARLEY_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], a);

    /* a released slot forgets its subscriptions and pending wake-ups */
    memset(&wake, 0, sizeof(wake));
    assert_int_equal(parley_tracks_mark(t, a, &wake), 2);
    parley_tracks_lock(t, SELF);
    assert_int_equal(parley_tracks_release_slot_locked(t, 100), 0);
    parley_tracks_unlock(t, SELF);
    assert_false(parley_tracks_subscribed(t, a, 100));
    assert_int_equal(parley_tracks_collect(t, 100, out, T_TRACKS, &n),
                     PARLEY_OK);
    assert_int_equal(n, 0);
}


/*
 * Writer child: bursts of packets into each track's ring, one mark per
 * track per burst, and one byte into the pipe per slot reported, as the
 * module would write the eventfd. For the first half it stays within half
 * a ring of the reader, so that every packet must arrive in order (and a
 * lost wake-up stalls both until the alarm); then it runs free and laps
 * the reader.
 */
static int
mp_write(parley_tracks_t *t, const uint32_t *idx, int wake_fd,
    const uint64_t *stats)
{
    uint8_t             pkt[T_SLOT_SIZE];
    uint32_t            i, k, len;
    uint64_t            seq[MP_TRACKS];
    parley_ring_t      *ring;
    parley_slot_mask_t  wake;

    memset(seq, 0, sizeof(seq));

    while (seq[MP_TRACKS - 1] < MP_PACKETS) {
        memset(&wake, 0, sizeof(wake));

        for (i = 0; i < MP_TRACKS; i++) {
            ring = parley_tracks_ring(t, idx[i]);

            for (k = 0; k < MP_BURST && seq[i] < MP_PACKETS; k++) {
                len = 12 + (uint32_t) (seq[i] % 1000);
                memset(pkt, (int) (seq[i] + i), len);
                memcpy(pkt, &seq[i], sizeof(uint64_t));
                memcpy(pkt + 8, &i, sizeof(uint32_t));

                if (parley_ring_publish(ring, pkt, len, seq[i])
                    != PARLEY_OK)
                {
                    return 1;
                }

                seq[i]++;
            }

            parley_tracks_mark(t, idx[i], &wake);
        }

        if ((wake.bits[0] >> MP_READER) & 1) {
            if (write(wake_fd, "w", 1) != 1) {
                return 1;
            }
        }

        while (seq[0] < MP_PACKETS / 2
               && seq[0] - __atomic_load_n(&stats[MP_PROGRESS],
                                           __ATOMIC_ACQUIRE)
                  > T_SLOTS / 2)
        {
            sched_yield();
        }
    }

    return 0;
}


static int
mp_check(const uint8_t *pkt, uint32_t len, uint64_t meta, uint32_t track,
    uint64_t expect)
{
    uint32_t  i, tr;
    uint64_t  s;

    memcpy(&s, pkt, sizeof(uint64_t));
    memcpy(&tr, pkt + 8, sizeof(uint32_t));

    if (s != meta || tr != track || len != 12 + s % 1000) {
        return MP_BAD_PACKET;
    }

    for (i = 12; i < len; i++) {
        if (pkt[i] != (uint8_t) (s + track)) {
            return MP_BAD_PACKET;
        }
    }

    return s == expect ? MP_PASS : MP_OUT_OF_ORDER;
}


/* Drains one track's ring; returns an MP_ code. */
static int
mp_drain(parley_tracks_t *t, uint32_t idx, uint32_t track,
    parley_ring_reader_t *rd, uint64_t *got)
{
    int             rc;
    uint8_t         pkt[T_SLOT_SIZE];
    uint32_t        len;
    uint64_t        meta, expect;
    parley_ring_t  *ring;
    parley_rc_t     prc;

    ring = parley_tracks_ring(t, idx);

    for ( ;; ) {
        expect = rd->next;
        prc = parley_ring_read(ring, rd, pkt, sizeof(pkt), &len, &meta);

        if (prc == PARLEY_ERR_EMPTY) {
            return MP_PASS;
        }

        if (prc == PARLEY_ERR_LAPPED) {
            continue;
        }

        if (prc != PARLEY_OK) {
            return MP_BAD_RC;
        }

        rc = mp_check(pkt, len, meta, track, expect);
        if (rc != MP_PASS) {
            return rc;
        }

        (*got)++;
    }
}


/*
 * Reader child: sleeps on the pipe, collects, drains the rings it was told
 * about, until read + missed covers every packet of every track. A lost
 * wake-up leaves it short when the writer closes the pipe (MP_BAD_RC), or
 * asleep until the alarm.
 */
static int
mp_read(parley_tracks_t *t, const uint32_t *idx, parley_ring_reader_t *rd,
    int wake_fd, uint64_t *stats)
{
    int        rc, done;
    char       buf[64];
    uint32_t   i, j, n, out[T_TRACKS];
    uint64_t   got[MP_TRACKS];

    for (i = 0; i < MP_TRACKS; i++) {
        got[i] = 0;
    }

    for ( ;; ) {
        if (read(wake_fd, buf, sizeof(buf)) <= 0) {
            return MP_BAD_RC;
        }

        if (parley_tracks_collect(t, MP_READER, out, T_TRACKS, &n)
            != PARLEY_OK)
        {
            return MP_BAD_RC;
        }

        stats[0]++;

        for (j = 0; j < n; j++) {
            for (i = 0; i < MP_TRACKS && idx[i] != out[j]; i++) {
                /* void */
            }

            if (i == MP_TRACKS) {
                return MP_STALE_TRACK;
            }

            rc = mp_drain(t, idx[i], i, &rd[i], &got[i]);
            if (rc != MP_PASS) {
                return rc;
            }
        }

        __atomic_store_n(&stats[MP_PROGRESS], rd[0].next, __ATOMIC_RELEASE);

        done = 1;

        for (i = 0; i < MP_TRACKS; i++) {
            if (got[i] + rd[i].missed > MP_PACKETS
                || rd[i].next > MP_PACKETS)
            {
                return MP_BAD_COUNT;
            }

            if (got[i] + rd[i].missed < MP_PACKETS) {
                done = 0;
            }
        }

        if (done) {
            for (i = 0; i < MP_TRACKS; i++) {
                stats[1] += got[i];
                stats[2] += rd[i].missed;
            }

            return MP_PASS;
        }
    }
}


static void
test_multiprocess(void **state)
{
    int                    fds[2], status;
    pid_t                  writer, reader;
    uint32_t               i, idx[MP_TRACKS];
    uint64_t              *stats;  /* collects, read, missed, progress */
    fixture_t             *f;
    parley_tracks_t       *t;
    parley_ring_reader_t   rd[MP_TRACKS];

    f = *state;
    t = f->tracks;

    /* one track in the table that nobody reads, to be skipped */
    (void) publish(t, 1, MP_WRITER, 1);

    for (i = 0; i < MP_TRACKS; i++) {
        idx[i] = publish(t, 1, MP_WRITER, 1000 + i);
        subscribe(t, idx[i], MP_READER);
        subscribe(t, idx[i], MP_IDLE);

        /*
         * Before either child exists: a reader child that started late would
         * begin at a head the writer had already moved, and wait for packets
         * it can never see.
         */
        parley_ring_reader_init(parley_tracks_ring(t, idx[i]), &rd[i]);
    }

    stats = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(stats != MAP_FAILED);
    memset(stats, 0, 4 * sizeof(uint64_t));

    assert_int_equal(pipe(fds), 0);

    reader = fork();
    assert_true(reader >= 0);

    if (reader == 0) {
        close(fds[1]);
        alarm(TIMEOUT_S);
        _exit(mp_read(t, idx, rd, fds[0], stats));
    }

    writer = fork();
    assert_true(writer >= 0);

    if (writer == 0) {
        close(fds[0]);
        alarm(TIMEOUT_S);
        _exit(mp_write(t, idx, fds[1], stats));
    }

    close(fds[0]);
    close(fds[1]);

    assert_int_equal(waitpid(writer, &status, 0), writer);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    assert_int_equal(waitpid(reader, &status, 0), reader);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), MP_PASS);

    for (i = 0; i < MP_TRACKS; i++) {
        assert_int_equal(parley_ring_head(parley_tracks_ring(t, idx[i])),
                         MP_PACKETS);
    }

    /* woken many times; the paced half arrived whole */
    assert_true(stats[0] > 1);
    assert_int_equal(stats[1] + stats[2], (uint64_t) MP_TRACKS * MP_PACKETS);
    assert_true(stats[1] >= (uint64_t) MP_TRACKS * MP_PACKETS / 2);

    print_message("    %llu wake-ups, %llu packets read, %llu lapped\n",
                  (unsigned long long) stats[0],
                  (unsigned long long) stats[1],
                  (unsigned long long) stats[2]);

    munmap(stats, 4096);
}


static void
test_sender_reports(void **state)
{
    uint32_t          idx, rtp;
    uint64_t          ntp, at;
    parley_tracks_t  *t;

    t = ((fixture_t *) *state)->tracks;
    idx = publish(t, 9, 1, 5000);

    assert_int_equal(parley_tracks_sr_load(t, idx, 0, &ntp, &rtp, &at), 0);

    parley_tracks_sr_store(t, idx, 1, 0x1122334455667788ULL, 90000, 42);
    assert_int_equal(parley_tracks_sr_load(t, idx, 0, &ntp, &rtp, &at), 0);
    assert_int_equal(parley_tracks_sr_load(t, idx, 1, &ntp, &rtp, &at), 1);
    assert_true(ntp == 0x1122334455667788ULL);
    assert_int_equal(rtp, 90000);
    assert_int_equal(at, 42);

    parley_tracks_sr_store(t, idx, 1, 7, 8, 9);
    assert_int_equal(parley_tracks_sr_load(t, idx, 1, &ntp, &rtp, &at), 1);
    assert_true(ntp == 7 && rtp == 8 && at == 9);

    /* out of range, and a record published anew forgets its reports */
    assert_int_equal(parley_tracks_sr_load(t, idx, 3, &ntp, &rtp, &at), 0);
    assert_int_equal(parley_tracks_sr_load(t, 1u << 30, 0, &ntp, &rtp, &at),
                     0);

    parley_tracks_lock(t, SELF);
    parley_tracks_unpublish_locked(t, idx);
    parley_tracks_unlock(t, SELF);

    idx = publish(t, 9, 1, 6000);
    assert_int_equal(parley_tracks_sr_load(t, idx, 1, &ntp, &rtp, &at), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_geometry),
        cmocka_unit_test_setup_teardown(test_publish_find_iterate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ring_of_track, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_mask, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mark_collect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiprocess, setup, teardown),
    };

    /* a lost wake-up fails the run instead of hanging it */
    alarm(TIMEOUT_S + 10);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
