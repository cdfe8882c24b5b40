/*
 * Unit tests for the shared-memory packet ring (shm/parley_ring.c).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "parley_ring.h"


#define RTP_SLOT_SIZE  1500

#define MP_PACKETS     200000
#define MP_SLOTS       64
#define MP_READERS     3              /* reader 0 is the slow one */
#define MP_TIMEOUT     60             /* seconds */


/* what a reader child reports through its exit status */
enum {
    MP_PASS = 0,
    MP_BAD_RC,
    MP_TORN,
    MP_OUT_OF_ORDER,
    MP_BAD_COUNT,
    MP_READ_NOTHING,
    MP_NEVER_LAPPED,
    MP_TIMED_OUT,
    MP_WRITER_FAILED
};


static uint8_t  region[64 * 1024] __attribute__((aligned(PARLEY_RING_ALIGN)));
static uint8_t  region2[64 * 1024] __attribute__((aligned(PARLEY_RING_ALIGN)));


static uint32_t
packet_len(uint64_t seq, uint32_t slot_size)
{
    return (uint32_t) (seq * 37 % (slot_size + 1));
}


static uint64_t
packet_meta(uint64_t seq)
{
    return seq * 0x9e3779b97f4a7c15ULL;
}


static void
packet_fill(uint8_t *buf, uint64_t seq, uint32_t len)
{
    uint32_t  i;

    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t) (seq * 31 + i * 7 + 1);
    }
}


static void
publish_seq(parley_ring_t *ring, uint64_t seq)
{
    uint8_t   buf[RTP_SLOT_SIZE];
    uint32_t  len;

    len = packet_len(seq, parley_ring_slot_size(ring));
    packet_fill(buf, seq, len);

    assert_int_equal(parley_ring_head(ring), seq);
    assert_int_equal(parley_ring_publish(ring, buf, len, packet_meta(seq)),
                     PARLEY_OK);
}


static void
assert_packet(const uint8_t *buf, uint32_t len, uint64_t meta, uint64_t seq,
    uint32_t slot_size)
{
    uint8_t  want[RTP_SLOT_SIZE];

    assert_int_equal(len, packet_len(seq, slot_size));
    assert_int_equal(meta, packet_meta(seq));
    packet_fill(want, seq, len);
    assert_memory_equal(buf, want, len);
}


static void
read_expect(parley_ring_t *ring, parley_ring_reader_t *rd, uint64_t seq)
{
    uint8_t   buf[RTP_SLOT_SIZE];
    uint32_t  len;
    uint64_t  meta;

    assert_int_equal(rd->next, seq);
    assert_int_equal(parley_ring_read(ring, rd, buf, sizeof(buf), &len, &meta),
                     PARLEY_OK);
    assert_packet(buf, len, meta, seq, parley_ring_slot_size(ring));
    assert_int_equal(rd->next, seq + 1);
}


static void
read_expect_rc(parley_ring_t *ring, parley_ring_reader_t *rd, parley_rc_t rc)
{
    uint8_t   buf[RTP_SLOT_SIZE];
    uint32_t  len;
    uint64_t  meta;

    assert_int_equal(parley_ring_read(ring, rd, buf, sizeof(buf), &len, &meta),
                     rc);
}


static parley_ring_t *
ring_new(uint32_t slots, uint32_t slot_size)
{
    size_t          size;
    parley_ring_t  *ring;

    size = parley_ring_size(slots, slot_size);
    assert_true(size != 0 && size <= sizeof(region));
    assert_int_equal(parley_ring_init(region, size, slots, slot_size),
                     PARLEY_OK);
    assert_int_equal(parley_ring_attach(region, size, &ring), PARLEY_OK);

    return ring;
}


static void
test_geometry(void **state)
{
    size_t          size;
    parley_ring_t  *ring;

    (void) state;

    /* a 64-byte header, then slots of 24 bytes + payload rounded up to 64 */
    assert_int_equal(parley_ring_size(8, 1500), 64 + 8 * 1536);
    assert_int_equal(parley_ring_size(8, 40), 64 + 8 * 64);
    assert_int_equal(parley_ring_size(8, 41), 64 + 8 * 128);
    assert_int_equal(parley_ring_size(1, 1), 64 + 64);

    assert_int_equal(parley_ring_size(0, 1500), 0);
    assert_int_equal(parley_ring_size(6, 1500), 0);
    assert_int_equal(parley_ring_size(8, 0), 0);
    assert_int_equal(parley_ring_size(8, UINT32_MAX), 0);

    size = parley_ring_size(8, 1500);

    assert_int_equal(parley_ring_init(NULL, size, 8, 1500), PARLEY_ERR_INVAL);
    assert_int_equal(parley_ring_init(region + 8, size, 8, 1500),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_ring_init(region, size, 6, 1500),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_ring_init(region, size, 8, 0), PARLEY_ERR_INVAL);
    assert_int_equal(parley_ring_init(region, size - 1, 8, 1500),
                     PARLEY_ERR_NOSPACE);

    assert_int_equal(parley_ring_init(region, size, 8, 1500), PARLEY_OK);
    assert_int_equal(parley_ring_attach(region, size, &ring), PARLEY_OK);
    assert_ptr_equal(ring, region);
    assert_int_equal(parley_ring_slots(ring), 8);
    assert_int_equal(parley_ring_slot_size(ring), 1500);
    assert_int_equal(parley_ring_head(ring), 0);
}


static void
test_attach_validation(void **state)
{
    size_t                 size;
    uint32_t              *header;
    parley_ring_t         *ring;
    parley_ring_reader_t   rd;

    (void) state;

    size = parley_ring_size(8, 1500);

    memset(region, 0, sizeof(region));
    assert_int_equal(parley_ring_attach(region, size, &ring),
                     PARLEY_ERR_INVAL);

    assert_int_equal(parley_ring_init(region, size, 8, 1500), PARLEY_OK);
    assert_int_equal(parley_ring_attach(region, size - 1, &ring),
                     PARLEY_ERR_NOSPACE);
    assert_int_equal(parley_ring_attach(region, 16, &ring), PARLEY_ERR_INVAL);
    assert_int_equal(parley_ring_attach(region + 8, size, &ring),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_ring_attach(region + 64, size, &ring),
                     PARLEY_ERR_INVAL);

    /* header words: magic, slot_count, slot_size, stride */
    header = (uint32_t *) region;

    header[1] = 6;
    assert_int_equal(parley_ring_attach(region, size, &ring),
                     PARLEY_ERR_GEOMETRY);
    header[1] = 8;
    header[3] = 1024;
    assert_int_equal(parley_ring_attach(region, size, &ring),
                     PARLEY_ERR_GEOMETRY);
    header[3] = 1536;
    assert_int_equal(parley_ring_attach(region, size, &ring), PARLEY_OK);

    /* the region holds no pointers: a copy mapped elsewhere still works */
    publish_seq(ring, 0);
    publish_seq(ring, 1);
    publish_seq(ring, 2);
    memcpy(region2, region, size);
    memset(region, 0, size);

    assert_int_equal(parley_ring_attach(region2, size, &ring), PARLEY_OK);
    rd.next = 0;
    rd.missed = 0;
    read_expect(ring, &rd, 0);
    read_expect(ring, &rd, 1);
    read_expect(ring, &rd, 2);
    read_expect_rc(ring, &rd, PARLEY_ERR_EMPTY);
}


static void
test_fifo(void **state)
{
    uint64_t               seq;
    parley_ring_t         *ring;
    parley_ring_reader_t   rd, late;

    (void) state;

    ring = ring_new(8, RTP_SLOT_SIZE);
    parley_ring_reader_init(ring, &rd);
    read_expect_rc(ring, &rd, PARLEY_ERR_EMPTY);

    /* seq 0 has length 0; the others vary up to the slot size */
    for (seq = 0; seq < 6; seq++) {
        publish_seq(ring, seq);
    }

    parley_ring_reader_init(ring, &late);
    assert_int_equal(late.next, 6);
    read_expect_rc(ring, &late, PARLEY_ERR_EMPTY);

    for (seq = 0; seq < 6; seq++) {
        read_expect(ring, &rd, seq);
    }

    read_expect_rc(ring, &rd, PARLEY_ERR_EMPTY);
    assert_int_equal(rd.next, 6);
    assert_int_equal(rd.missed, 0);

    publish_seq(ring, 6);
    read_expect(ring, &rd, 6);
    read_expect(ring, &late, 6);
    read_expect_rc(ring, &rd, PARLEY_ERR_EMPTY);
    read_expect_rc(ring, &late, PARLEY_ERR_EMPTY);
}


static void
test_oversize_refused(void **state)
{
    uint8_t                buf[RTP_SLOT_SIZE + 1];
    uint32_t               len;
    uint64_t               meta;
    parley_ring_t         *ring;
    parley_ring_reader_t   rd;

    (void) state;

    ring = ring_new(8, RTP_SLOT_SIZE);
    parley_ring_reader_init(ring, &rd);
    memset(buf, 0xa5, sizeof(buf));

    assert_int_equal(parley_ring_publish(ring, buf, RTP_SLOT_SIZE + 1, 1),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_ring_publish(ring, NULL, 10, 1),
                     PARLEY_ERR_INVAL);
    assert_int_equal(parley_ring_head(ring), 0);
    read_expect_rc(ring, &rd, PARLEY_ERR_EMPTY);

    assert_int_equal(parley_ring_publish(ring, buf, RTP_SLOT_SIZE, 7),
                     PARLEY_OK);
    assert_int_equal(parley_ring_head(ring), 1);

    /* a buffer smaller than a slot is refused and the reader stays put */
    assert_int_equal(parley_ring_read(ring, &rd, buf, RTP_SLOT_SIZE - 1, &len,
                                      &meta),
                     PARLEY_ERR_INVAL);
    assert_int_equal(rd.next, 0);

    memset(buf, 0, sizeof(buf));
    assert_int_equal(parley_ring_read(ring, &rd, buf, sizeof(buf), &len,
                                      &meta),
                     PARLEY_OK);
    assert_int_equal(len, RTP_SLOT_SIZE);
    assert_int_equal(meta, 7);
    assert_int_equal(buf[0], 0xa5);
    assert_int_equal(buf[RTP_SLOT_SIZE - 1], 0xa5);
    assert_int_equal(buf[RTP_SLOT_SIZE], 0);
}


static void
test_wraparound(void **state)
{
    uint64_t               seq, i;
    parley_ring_t         *ring;
    parley_ring_reader_t   rd;

    (void) state;

    ring = ring_new(8, 64);
    parley_ring_reader_init(ring, &rd);

    /* bursts of 5 into 8 slots: the slot index wraps at every offset */
    for (seq = 0; seq < 100; seq += 5) {
        for (i = 0; i < 5; i++) {
            publish_seq(ring, seq + i);
        }

        for (i = 0; i < 5; i++) {
            read_expect(ring, &rd, seq + i);
        }

        read_expect_rc(ring, &rd, PARLEY_ERR_EMPTY);
    }

    /* a reader exactly one ring behind has lost nothing */
    for (seq = 100; seq < 108; seq++) {
        publish_seq(ring, seq);
    }

    for (seq = 100; seq < 108; seq++) {
        read_expect(ring, &rd, seq);
    }

    assert_int_equal(rd.missed, 0);
}


static void
test_lapped_reader(void **state)
{
    uint64_t               seq;
    parley_ring_t         *ring;
    parley_ring_reader_t   rd;

    (void) state;

    ring = ring_new(8, 64);
    parley_ring_reader_init(ring, &rd);

    /* 13 packets into 8 slots: 0..4 are gone, 5..12 remain */
    for (seq = 0; seq < 13; seq++) {
        publish_seq(ring, seq);
    }

    read_expect_rc(ring, &rd, PARLEY_ERR_LAPPED);
    assert_int_equal(rd.missed, 5);
    assert_int_equal(rd.next, 5);

    for (seq = 5; seq < 13; seq++) {
        read_expect(ring, &rd, seq);
    }

    read_expect_rc(ring, &rd, PARLEY_ERR_EMPTY);

    /* one packet more than a ring behind: exactly one lost */
    for (seq = 13; seq < 22; seq++) {
        publish_seq(ring, seq);
    }

    read_expect_rc(ring, &rd, PARLEY_ERR_LAPPED);
    assert_int_equal(rd.missed, 6);
    read_expect(ring, &rd, 14);

    /* lapped many times over: 15..32 lost, 33..40 remain */
    for (seq = 22; seq < 41; seq++) {
        publish_seq(ring, seq);
    }

    read_expect_rc(ring, &rd, PARLEY_ERR_LAPPED);
    assert_int_equal(rd.missed, 6 + 18);
    read_expect(ring, &rd, 33);
}


static void
test_get_by_seq(void **state)
{
    uint8_t         buf[RTP_SLOT_SIZE];
    uint32_t        len;
    uint64_t        seq, meta;
    parley_ring_t  *ring;

    (void) state;

    ring = ring_new(8, RTP_SLOT_SIZE);

    assert_int_equal(parley_ring_get(ring, 0, buf, sizeof(buf), &len, &meta),
                     PARLEY_ERR_NOT_FOUND);

    for (seq = 0; seq < 20; seq++) {
        publish_seq(ring, seq);
    }

    /* 12..19 present, in any order, as often as asked */
    for (seq = 19; seq >= 12; seq--) {
        assert_int_equal(parley_ring_get(ring, seq, buf, sizeof(buf), &len,
                                         &meta),
                         PARLEY_OK);
        assert_packet(buf, len, meta, seq, RTP_SLOT_SIZE);
    }

    assert_int_equal(parley_ring_get(ring, 15, buf, sizeof(buf), &len, &meta),
                     PARLEY_OK);
    assert_packet(buf, len, meta, 15, RTP_SLOT_SIZE);

    assert_int_equal(parley_ring_get(ring, 11, buf, sizeof(buf), &len, &meta),
                     PARLEY_ERR_LAPPED);
    assert_int_equal(parley_ring_get(ring, 0, buf, sizeof(buf), &len, &meta),
                     PARLEY_ERR_LAPPED);
    assert_int_equal(parley_ring_get(ring, 20, buf, sizeof(buf), &len, &meta),
                     PARLEY_ERR_NOT_FOUND);
    assert_int_equal(parley_ring_get(ring, UINT64_MAX, buf, sizeof(buf), &len,
                                     &meta),
                     PARLEY_ERR_NOT_FOUND);
    assert_int_equal(parley_ring_get(ring, 19, buf, 100, &len, &meta),
                     PARLEY_ERR_INVAL);
}


/*
 * Multi-process stress: the payload of packet "seq" is its sequence, a
 * filler and an FNV-1a checksum of both, with a length that depends on seq.
 */

static uint32_t
mp_checksum(const uint8_t *p, uint32_t n)
{
    uint32_t  h, i;

    h = 2166136261u;

    for (i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }

    return h;
}


static uint32_t
mp_len(uint64_t seq)
{
    return 12 + (uint32_t) (seq * 7919 % (RTP_SLOT_SIZE - 11));
}


static void
mp_fill(uint8_t *buf, uint64_t seq)
{
    uint32_t  i, len, sum;

    len = mp_len(seq);
    memcpy(buf, &seq, 8);

    for (i = 8; i < len - 4; i++) {
        buf[i] = (uint8_t) (seq >> (i % 8 * 8)) ^ (uint8_t) i;
    }

    sum = mp_checksum(buf, len - 4);
    memcpy(buf + len - 4, &sum, 4);
}


static int
mp_valid(const uint8_t *buf, uint32_t len, uint64_t meta, uint64_t seq)
{
    uint32_t  sum;
    uint64_t  embedded;

    if (len != mp_len(seq) || meta != packet_meta(seq)) {
        return 0;
    }

    memcpy(&embedded, buf, 8);
    memcpy(&sum, buf + len - 4, 4);

    return embedded == seq && sum == mp_checksum(buf, len - 4);
}


static int
mp_writer(parley_ring_t *ring)
{
    uint8_t   buf[RTP_SLOT_SIZE];
    uint64_t  seq;

    for (seq = 0; seq < MP_PACKETS; seq++) {
        mp_fill(buf, seq);

        if (parley_ring_publish(ring, buf, mp_len(seq), packet_meta(seq))
            != PARLEY_OK)
        {
            return MP_WRITER_FAILED;
        }

        /* let readers run between bursts even on a single CPU */
        if (seq % 256 == 0) {
            sched_yield();
        }
    }

    return MP_PASS;
}


static int
mp_reader(parley_ring_t *ring, parley_ring_reader_t *rd, int slow)
{
    uint8_t      buf[RTP_SLOT_SIZE];
    uint32_t     len;
    uint64_t     seq, meta, nread, laps;
    time_t       deadline;
    parley_rc_t  rc;

    nread = 0;
    laps = 0;
    deadline = time(NULL) + MP_TIMEOUT;

    while (nread + rd->missed < MP_PACKETS) {
        seq = rd->next;
        rc = parley_ring_read(ring, rd, buf, sizeof(buf), &len, &meta);

        if (rc == PARLEY_ERR_EMPTY) {
            if (time(NULL) > deadline) {
                return MP_TIMED_OUT;
            }

            sched_yield();
            continue;
        }

        if (rc == PARLEY_ERR_LAPPED) {
            if (rd->next <= seq) {
                return MP_OUT_OF_ORDER;
            }

            laps++;
            continue;
        }

        if (rc != PARLEY_OK) {
            return MP_BAD_RC;
        }

        /* the payload names its own sequence: it must be the one expected */
        if (!mp_valid(buf, len, meta, seq)) {
            return MP_TORN;
        }

        if (rd->next != seq + 1) {
            return MP_OUT_OF_ORDER;
        }

        nread++;

        if (slow && nread % 64 == 0) {
            usleep(500);
        }
    }

    if (nread + rd->missed != MP_PACKETS || rd->next != MP_PACKETS) {
        return MP_BAD_COUNT;
    }

    if (parley_ring_read(ring, rd, buf, sizeof(buf), &len, &meta)
        != PARLEY_ERR_EMPTY)
    {
        return MP_BAD_COUNT;
    }

    if (nread == 0) {
        return MP_READ_NOTHING;
    }

    if (slow && laps == 0) {
        return MP_NEVER_LAPPED;
    }

    return MP_PASS;
}


static void
test_multiprocess(void **state)
{
    int                    i, status;
    void                  *mem;
    pid_t                  pid[MP_READERS + 1];
    size_t                 size;
    parley_ring_t         *ring;
    parley_ring_reader_t   rd;

    (void) state;

    size = parley_ring_size(MP_SLOTS, RTP_SLOT_SIZE);
    mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1, 0);
    assert_true(mem != MAP_FAILED);
    assert_int_equal(parley_ring_init(mem, size, MP_SLOTS, RTP_SLOT_SIZE),
                     PARLEY_OK);
    assert_int_equal(parley_ring_attach(mem, size, &ring), PARLEY_OK);

    /* readers start at packet 0 so that read + missed covers all of them */
    parley_ring_reader_init(ring, &rd);

    for (i = 0; i < MP_READERS; i++) {
        pid[i] = fork();
        assert_true(pid[i] != -1);

        if (pid[i] == 0) {
            _exit(mp_reader(ring, &rd, i == 0));
        }
    }

    pid[MP_READERS] = fork();
    assert_true(pid[MP_READERS] != -1);

    if (pid[MP_READERS] == 0) {
        _exit(mp_writer(ring));
    }

    for (i = 0; i <= MP_READERS; i++) {
        assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), MP_PASS);
    }

    assert_int_equal(parley_ring_head(ring), MP_PACKETS);
    assert_int_equal(munmap(mem, size), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_geometry),
        cmocka_unit_test(test_attach_validation),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_oversize_refused),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_lapped_reader),
        cmocka_unit_test(test_get_by_seq),
        cmocka_unit_test(test_multiprocess),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
