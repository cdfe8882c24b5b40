/*
 * Single-writer, many-reader packet ring in shared memory: see
 * parley_ring.h.
 *
 * Layout: a 64-byte header, then slot_count slots of "stride" bytes each
 * (a multiple of 64). Packet "seq" lives in slot seq & (slot_count - 1).
 *
 * Each slot is a seqlock whose stamp is the sequence of the packet it holds.
 * The writer sets the stamp to seq | PARLEY_RING_BUSY, writes the contents,
 * then sets the stamp to seq. A reader loads the stamp, copies the contents,
 * and loads the stamp again; if either load is not the sequence it wants,
 * the packet was (or is being) overwritten and the copy is thrown away.
 */

#include <string.h>

#include "parley_ring.h"


#define PARLEY_RING_MAGIC  0x50524e31          /* "PRN1" */
#define PARLEY_RING_BUSY   ((uint64_t) 1 << 63)
#define PARLEY_RING_EMPTY  UINT64_MAX          /* matches no sequence */


struct parley_ring_s {
    uint32_t  magic;
    uint32_t  slot_count;          /* a power of two */
    uint32_t  slot_size;           /* payload capacity of a slot */
    uint32_t  stride;              /* bytes from one slot to the next */
    uint64_t  head;                /* sequence of the next packet */
} __attribute__((aligned(PARLEY_RING_ALIGN)));


typedef struct {
    uint64_t  stamp;               /* seqlock, see above */
    uint64_t  meta;
    uint32_t  len;
    uint32_t  reserved;
    uint8_t   data[];
} parley_ring_slot_t;


static uint64_t parley_ring_stride(uint32_t slot_size);
static parley_ring_slot_t *parley_ring_slot(const parley_ring_t *ring,
    uint64_t seq);
static parley_rc_t parley_ring_copy(const parley_ring_t *ring, uint64_t seq,
    void *buf, uint32_t *len, uint64_t *meta);


size_t
parley_ring_size(uint32_t slots, uint32_t slot_size)
{
    uint64_t  stride, total;

    if (slots == 0 || (slots & (slots - 1)) != 0 || slot_size == 0) {
        return 0;
    }

    stride = parley_ring_stride(slot_size);
    if (stride > UINT32_MAX) {
        return 0;
    }

    /* cannot overflow: stride < 2^32 and slots <= 2^31 */
    total = sizeof(parley_ring_t) + stride * slots;

    if ((size_t) total != total) {
        return 0;
    }

    return (size_t) total;
}


parley_rc_t
parley_ring_init(void *mem, size_t size, uint32_t slots, uint32_t slot_size)
{
    size_t               need;
    uint32_t             i;
    parley_ring_t       *ring;
    parley_ring_slot_t  *slot;

    need = parley_ring_size(slots, slot_size);

    if (mem == NULL || need == 0 || (uintptr_t) mem % PARLEY_RING_ALIGN) {
        return PARLEY_ERR_INVAL;
    }

    if (size < need) {
        return PARLEY_ERR_NOSPACE;
    }

    ring = mem;
    ring->slot_count = slots;
    ring->slot_size = slot_size;
    ring->stride = (uint32_t) parley_ring_stride(slot_size);
    ring->head = 0;

    for (i = 0; i < slots; i++) {
        slot = parley_ring_slot(ring, i);
        slot->stamp = PARLEY_RING_EMPTY;
        slot->meta = 0;
        slot->len = 0;
        slot->reserved = 0;
    }

    /* the magic goes last: a ring that attaches is fully laid out */
    __atomic_store_n(&ring->magic, PARLEY_RING_MAGIC, __ATOMIC_RELEASE);

    return PARLEY_OK;
}


parley_rc_t
parley_ring_attach(void *mem, size_t size, parley_ring_t **ring)
{
    size_t          need;
    parley_ring_t  *r;

    if (mem == NULL || ring == NULL || (uintptr_t) mem % PARLEY_RING_ALIGN
        || size < sizeof(parley_ring_t))
    {
        return PARLEY_ERR_INVAL;
    }

    r = mem;

    if (__atomic_load_n(&r->magic, __ATOMIC_ACQUIRE) != PARLEY_RING_MAGIC) {
        return PARLEY_ERR_INVAL;
    }

    need = parley_ring_size(r->slot_count, r->slot_size);

    if (need == 0 || r->stride != parley_ring_stride(r->slot_size)) {
        return PARLEY_ERR_GEOMETRY;
    }

    if (size < need) {
        return PARLEY_ERR_NOSPACE;
    }

    *ring = r;

    return PARLEY_OK;
}


uint32_t
parley_ring_slots(const parley_ring_t *ring)
{
    return ring->slot_count;
}


uint32_t
parley_ring_slot_size(const parley_ring_t *ring)
{
    return ring->slot_size;
}


uint64_t
parley_ring_head(const parley_ring_t *ring)
{
    return __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
}


parley_rc_t
parley_ring_publish(parley_ring_t *ring, const void *data, uint32_t len,
    uint64_t meta)
{
    uint64_t             seq;
    parley_ring_slot_t  *slot;

    if (len > ring->slot_size || (data == NULL && len != 0)) {
        return PARLEY_ERR_INVAL;
    }

    seq = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
    slot = parley_ring_slot(ring, seq);

    /*
     * The release fence keeps the busy stamp ahead of the new contents: a
     * reader that copied any of them finds the stamp changed when it looks
     * again after its acquire fence.
     */
    __atomic_store_n(&slot->stamp, seq | PARLEY_RING_BUSY, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);

    __atomic_store_n(&slot->len, len, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->meta, meta, __ATOMIC_RELAXED);

    if (len != 0) {
        memcpy(slot->data, data, len);
    }

    /* readers load the head first, so it must not pass the contents */
    __atomic_store_n(&slot->stamp, seq, __ATOMIC_RELEASE);
    __atomic_store_n(&ring->head, seq + 1, __ATOMIC_RELEASE);

    return PARLEY_OK;
}


void
parley_ring_reader_init(const parley_ring_t *ring, parley_ring_reader_t *rd)
{
    rd->next = parley_ring_head(ring);
    rd->missed = 0;
}


parley_rc_t
parley_ring_read(const parley_ring_t *ring, parley_ring_reader_t *rd,
    void *buf, uint32_t cap, uint32_t *len, uint64_t *meta)
{
    uint64_t  head, oldest;

    if (cap < ring->slot_size) {
        return PARLEY_ERR_INVAL;
    }

    head = parley_ring_head(ring);

    if (rd->next >= head) {
        return PARLEY_ERR_EMPTY;
    }

    if (head - rd->next <= ring->slot_count
        && parley_ring_copy(ring, rd->next, buf, len, meta) == PARLEY_OK)
    {
        rd->next++;
        return PARLEY_OK;
    }

    /*
     * Lapped. Everything before head - slot_count has been overwritten.
     * If the copy failed while "next" still looked in range, the writer is
     * overwriting "next" itself (or its head store is not visible yet), so
     * that packet is lost too and the reader moves at least one ahead.
     */
    head = parley_ring_head(ring);
    oldest = head > ring->slot_count ? head - ring->slot_count : 0;

    if (oldest <= rd->next) {
        oldest = rd->next + 1;
    }

    rd->missed += oldest - rd->next;
    rd->next = oldest;

    return PARLEY_ERR_LAPPED;
}


parley_rc_t
parley_ring_get(const parley_ring_t *ring, uint64_t seq, void *buf,
    uint32_t cap, uint32_t *len, uint64_t *meta)
{
    uint64_t  head;

    if (cap < ring->slot_size) {
        return PARLEY_ERR_INVAL;
    }

    head = parley_ring_head(ring);

    if (seq >= head) {
        return PARLEY_ERR_NOT_FOUND;
    }

    if (head - seq > ring->slot_count) {
        return PARLEY_ERR_LAPPED;
    }

    return parley_ring_copy(ring, seq, buf, len, meta);
}


static uint64_t
parley_ring_stride(uint32_t slot_size)
{
    uint64_t  bytes;

    bytes = sizeof(parley_ring_slot_t) + (uint64_t) slot_size
            + PARLEY_RING_ALIGN - 1;

    return bytes - bytes % PARLEY_RING_ALIGN;
}


static parley_ring_slot_t *
parley_ring_slot(const parley_ring_t *ring, uint64_t seq)
{
    uintptr_t  base;

    /* the region is shared and written by the writer: const is the caller's */
    base = (uintptr_t) ring + sizeof(parley_ring_t);

    return (parley_ring_slot_t *)
        (base + (seq & (ring->slot_count - 1)) * ring->stride);
}


/*
 * Seqlock read side. Returns PARLEY_OK with a consistent copy of packet
 * "seq", or PARLEY_ERR_LAPPED if the slot no longer holds it.
 */
static parley_rc_t
parley_ring_copy(const parley_ring_t *ring, uint64_t seq, void *buf,
    uint32_t *len, uint64_t *meta)
{
    uint32_t             n;
    uint64_t             m;
    parley_ring_slot_t  *slot;

    slot = parley_ring_slot(ring, seq);

    if (__atomic_load_n(&slot->stamp, __ATOMIC_ACQUIRE) != seq) {
        return PARLEY_ERR_LAPPED;
    }

    n = __atomic_load_n(&slot->len, __ATOMIC_RELAXED);
    m = __atomic_load_n(&slot->meta, __ATOMIC_RELAXED);

    /* the region is shared: never let its contents bound a copy into buf */
    if (n > ring->slot_size) {
        n = ring->slot_size;
    }

    /*
     * This copy races with the writer by design: the writer may be filling
     * the slot with a newer packet meanwhile. Whatever was copied is
     * discarded unless the stamp still says "seq" after the acquire fence,
     * which orders the copy before that second load.
     */
    memcpy(buf, slot->data, n);

    __atomic_thread_fence(__ATOMIC_ACQUIRE);

    if (__atomic_load_n(&slot->stamp, __ATOMIC_RELAXED) != seq) {
        return PARLEY_ERR_LAPPED;
    }

    *len = n;
    *meta = m;

    return PARLEY_OK;
}
