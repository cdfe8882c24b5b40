/*
 * Single-writer, many-reader packet ring in shared memory.
 *
 * One ring per published track: the worker that owns the track publishes
 * each decrypted RTP packet once, every worker with subscribers reads it.
 * The writer never waits: it overwrites the oldest packet, and a reader that
 * falls more than a ring behind is told so (PARLEY_ERR_LAPPED) and skips
 * ahead. The ring also keeps the recent history that answers NACKs.
 *
 * Packets are numbered by the ring with a 64-bit sequence (0, 1, 2, ...)
 * that never wraps; it is not the RTP sequence number.
 *
 * The region holds no pointers: any process that maps it, at any address,
 * attaches and uses it. Publish, read and get take no lock, allocate nothing
 * and make no system call. Each slot is a seqlock, so a packet that the
 * writer overwrites while a reader copies it is reported as lost, never
 * returned torn.
 */

#ifndef _PARLEY_RING_H_INCLUDED_
#define _PARLEY_RING_H_INCLUDED_


#include "parley_shm.h"


#define PARLEY_RING_ALIGN  64      /* region and slots are cache-line aligned */


typedef struct parley_ring_s  parley_ring_t;


/* Kept privately by each reader, in its own process memory. */
typedef struct {
    uint64_t  next;                /* sequence of the next packet to read */
    uint64_t  missed;              /* packets lost to the writer, in total */
} parley_ring_reader_t;


/*
 * Bytes needed for a ring of "slots" packets (a power of two) of up to
 * "slot_size" bytes each; 0 if the geometry is invalid or too large.
 */
size_t parley_ring_size(uint32_t slots, uint32_t slot_size);

/*
 * Lays out an empty ring in "mem" (PARLEY_RING_ALIGN aligned). Returns
 * PARLEY_ERR_INVAL for a bad geometry or alignment, PARLEY_ERR_NOSPACE if
 * "size" is smaller than parley_ring_size(). Call it once, before any
 * process attaches.
 */
parley_rc_t parley_ring_init(void *mem, size_t size, uint32_t slots,
    uint32_t slot_size);

/*
 * Checks that "mem" holds a ring that fits in "size" bytes and sets *ring.
 * Returns PARLEY_ERR_INVAL if it is not a ring (or misaligned),
 * PARLEY_ERR_GEOMETRY if its header is inconsistent, PARLEY_ERR_NOSPACE if
 * the ring is larger than "size".
 */
parley_rc_t parley_ring_attach(void *mem, size_t size, parley_ring_t **ring);

uint32_t parley_ring_slots(const parley_ring_t *ring);
uint32_t parley_ring_slot_size(const parley_ring_t *ring);

/* Sequence the next packet will take, i.e. how many were published. */
uint64_t parley_ring_head(const parley_ring_t *ring);

/*
 * Writer only: copies "len" bytes and "meta" (for example flags and an
 * arrival time) into the oldest slot. Returns PARLEY_ERR_INVAL if len is
 * larger than the slot size; nothing is published then.
 */
parley_rc_t parley_ring_publish(parley_ring_t *ring, const void *data,
    uint32_t len, uint64_t meta);

/* Starts a reader at the head: it will see only packets published later. */
void parley_ring_reader_init(const parley_ring_t *ring,
    parley_ring_reader_t *rd);

/*
 * Copies the reader's next packet into "buf", which must hold at least
 * parley_ring_slot_size() bytes (PARLEY_ERR_INVAL otherwise), and advances.
 * Returns PARLEY_OK, PARLEY_ERR_EMPTY when caught up, or PARLEY_ERR_LAPPED
 * when the writer overtook the reader: the reader then moves to the oldest
 * packet still in the ring and adds what it skipped to rd->missed, so the
 * next call returns that packet.
 */
parley_rc_t parley_ring_read(const parley_ring_t *ring,
    parley_ring_reader_t *rd, void *buf, uint32_t cap, uint32_t *len,
    uint64_t *meta);

/*
 * Copies packet "seq", for a retransmission. Returns PARLEY_OK,
 * PARLEY_ERR_NOT_FOUND if it is not published yet, or PARLEY_ERR_LAPPED if
 * it has been overwritten. "buf" as in parley_ring_read().
 */
parley_rc_t parley_ring_get(const parley_ring_t *ring, uint64_t seq,
    void *buf, uint32_t cap, uint32_t *len, uint64_t *meta);


#endif /* _PARLEY_RING_H_INCLUDED_ */
