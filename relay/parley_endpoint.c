/*
 * The per-worker demultiplexer of one shared UDP socket: see
 * parley_endpoint.h.
 *
 * Two open-addressing tables with linear probing: local ufrag -> peer and
 * remote address -> peer. A slot keeps its key's hash, so that probing
 * compares keys only on a hash match and deletion (backward shift, which
 * needs no tombstones) finds each entry's home slot without rehashing.
 * The ufrag table keeps no copy of the ufrag: it compares with the one the
 * peer holds, which changes only through ufrag_changing().
 */

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <openssl/rand.h>

#include "parley_demux.h"
#include "parley_endpoint.h"


typedef struct {
    parley_peer_t       *peer;     /* NULL: a free slot */
    uint64_t             hash;
    parley_stun_addr_t   addr;     /* the address table's key */
} parley_endpoint_slot_t;


typedef struct {
    parley_endpoint_slot_t  *slots;
    size_t                   mask;     /* slots - 1, a power of two less 1 */
    size_t                   count;
    size_t                   limit;    /* at most half the slots */
} parley_endpoint_table_t;


struct parley_endpoint_s {
    parley_endpoint_table_t   ufrags;
    parley_endpoint_table_t   addresses;
    uint64_t                  seed;
    uint64_t                  hold_ms;
    parley_endpoint_stats_t   stats;
};


static parley_endpoint_rc_t parley_endpoint_table_init(
    parley_endpoint_table_t *t, size_t limit);
static size_t parley_endpoint_table_insert(parley_endpoint_table_t *t,
    uint64_t hash, parley_peer_t *peer);
static void parley_endpoint_table_delete(parley_endpoint_table_t *t,
    size_t i);
static int parley_endpoint_in_chain(size_t home, size_t hole, size_t j);

static uint64_t parley_endpoint_hash(uint64_t seed, const uint8_t *p,
    size_t n);
static uint64_t parley_endpoint_addr_hash(const parley_endpoint_t *ep,
    const parley_stun_addr_t *addr);
static ssize_t parley_endpoint_ufrag_find(parley_endpoint_t *ep,
    uint64_t hash, const uint8_t *ufrag, size_t len);
static ssize_t parley_endpoint_ufrag_slot(parley_endpoint_t *ep,
    parley_peer_t *peer);
static ssize_t parley_endpoint_addr_find(parley_endpoint_t *ep,
    uint64_t hash, const parley_stun_addr_t *addr);

static parley_peer_t *parley_endpoint_stun_peer(parley_endpoint_t *ep,
    const parley_stun_addr_t *from, const parley_stun_msg_t *msg,
    parley_endpoint_drop_t *drop);
static parley_endpoint_drop_t parley_endpoint_drop(parley_endpoint_t *ep,
    parley_endpoint_drop_t drop);

static parley_peer_rc_t parley_endpoint_address_validated(void *data,
    parley_peer_t *peer, const parley_stun_addr_t *addr, uint64_t now_ms);
static void parley_endpoint_address_forgotten(void *data,
    parley_peer_t *peer, const parley_stun_addr_t *addr);
static parley_peer_rc_t parley_endpoint_ufrag_changing(void *data,
    parley_peer_t *peer, const uint8_t *ufrag, size_t len);
static void parley_endpoint_detach(void *data, parley_peer_t *peer);


#define PARLEY_ENDPOINT_TEXT(name, text)  text,

static const char  *parley_endpoint_rc_text[] = {
    PARLEY_ENDPOINT_RESULTS(PARLEY_ENDPOINT_TEXT)
};

static const char  *parley_endpoint_drop_text[] = {
    PARLEY_ENDPOINT_DROPS(PARLEY_ENDPOINT_TEXT)
};


static const parley_peer_registry_t  parley_endpoint_registry = {
    parley_endpoint_address_validated,
    parley_endpoint_address_forgotten,
    parley_endpoint_ufrag_changing,
    parley_endpoint_detach
};


const char *
parley_endpoint_rc_str(parley_endpoint_rc_t rc)
{
    return (size_t) rc < PARLEY_ENDPOINT_NRESULTS
           ? parley_endpoint_rc_text[rc] : "unknown result";
}


const char *
parley_endpoint_drop_str(parley_endpoint_drop_t drop)
{
    return (size_t) drop < PARLEY_ENDPOINT_NDROPS
           ? parley_endpoint_drop_text[drop] : "unknown drop";
}


parley_endpoint_rc_t
parley_endpoint_create(parley_endpoint_t **out,
    const parley_endpoint_conf_t *conf)
{
    parley_endpoint_t     *ep;
    parley_endpoint_rc_t   rc;

    if (out == NULL || conf == NULL || conf->max_peers == 0
        || conf->max_peers > PARLEY_ENDPOINT_MAX_PEERS)
    {
        return PARLEY_ENDPOINT_ERR_INVAL;
    }

    *out = NULL;

    ep = calloc(1, sizeof(parley_endpoint_t));
    if (ep == NULL) {
        return PARLEY_ENDPOINT_ERR_NOMEM;
    }

    if (RAND_bytes((unsigned char *) &ep->seed, sizeof(ep->seed)) != 1) {
        free(ep);
        return PARLEY_ENDPOINT_ERR_CRYPTO;
    }

    ep->hold_ms = conf->address_hold_ms ? conf->address_hold_ms
                                        : PARLEY_ENDPOINT_ADDRESS_HOLD_MS;

    rc = parley_endpoint_table_init(&ep->ufrags, conf->max_peers);

    /*
     * A peer registers a new address before it lets its oldest go, so
     * each may hold one more than PARLEY_PEER_MAX_PATHS for a moment.
     */
    if (rc == PARLEY_ENDPOINT_OK) {
        rc = parley_endpoint_table_init(&ep->addresses,
                                        conf->max_peers
                                        * (PARLEY_PEER_MAX_PATHS + 1));
    }

    if (rc != PARLEY_ENDPOINT_OK) {
        free(ep->ufrags.slots);
        free(ep);
        return rc;
    }

    *out = ep;

    return PARLEY_ENDPOINT_OK;
}


void
parley_endpoint_destroy(parley_endpoint_t *ep)
{
    size_t  i;

    if (ep == NULL) {
        return;
    }

    /*
     * Removal shifts later entries of a chain back into the slot just
     * emptied, never into one already passed: look at each slot until it
     * stays empty.
     */
    for (i = 0; i <= ep->ufrags.mask; i++) {
        while (ep->ufrags.slots[i].peer != NULL) {
            parley_endpoint_remove_peer(ep, ep->ufrags.slots[i].peer);
        }
    }

    free(ep->ufrags.slots);
    free(ep->addresses.slots);
    free(ep);
}


parley_endpoint_rc_t
parley_endpoint_add_peer(parley_endpoint_t *ep, parley_peer_t *peer)
{
    uint64_t           hash;
    parley_stun_str_t  ufrag;

    if (ep == NULL || peer == NULL) {
        return PARLEY_ENDPOINT_ERR_INVAL;
    }

    if (ep->ufrags.count >= ep->ufrags.limit) {
        return PARLEY_ENDPOINT_ERR_FULL;
    }

    parley_peer_local_credentials(peer, &ufrag, NULL);
    hash = parley_endpoint_hash(ep->seed, ufrag.data, ufrag.len);

    if (parley_endpoint_ufrag_find(ep, hash, ufrag.data, ufrag.len) >= 0) {
        return PARLEY_ENDPOINT_ERR_DUPLICATE;
    }

    if (parley_peer_attach(peer, &parley_endpoint_registry, ep)
        != PARLEY_PEER_OK)
    {
        return PARLEY_ENDPOINT_ERR_STATE;
    }

    (void) parley_endpoint_table_insert(&ep->ufrags, hash, peer);
    ep->stats.peers = ep->ufrags.count;

    return PARLEY_ENDPOINT_OK;
}


void
parley_endpoint_remove_peer(parley_endpoint_t *ep, parley_peer_t *peer)
{
    ssize_t  i;

    if (ep == NULL || peer == NULL) {
        return;
    }

    i = parley_endpoint_ufrag_slot(ep, peer);
    if (i < 0) {
        return;
    }

    parley_endpoint_table_delete(&ep->ufrags, (size_t) i);
    ep->stats.peers = ep->ufrags.count;

    /* its addresses come back through address_forgotten() */
    parley_peer_detach(peer);
}


/* Receiving */


parley_endpoint_drop_t
parley_endpoint_receive(parley_endpoint_t *ep, const struct sockaddr *from,
    uint8_t *buf, size_t len, uint64_t now_ms, parley_peer_t **to)
{
    ssize_t                 i;
    parley_peer_t          *peer;
    parley_stun_msg_t       msg;
    parley_stun_addr_t      addr;
    parley_peer_drop_t      pd;
    parley_endpoint_drop_t  drop;

    if (to != NULL) {
        *to = NULL;
    }

    ep->stats.datagrams_in++;
    ep->stats.bytes_in += len;

    if (parley_stun_addr_from_sockaddr(&addr, from) != PARLEY_STUN_OK) {
        return parley_endpoint_drop(ep, PARLEY_ENDPOINT_DROP_BAD_ADDRESS);
    }

    switch (parley_demux_classify(buf, len)) {

    case PARLEY_DEMUX_STUN:
        if (parley_stun_parse(&msg, buf, len) != PARLEY_STUN_OK) {
            return parley_endpoint_drop(ep, PARLEY_ENDPOINT_DROP_MALFORMED);
        }

        peer = parley_endpoint_stun_peer(ep, &addr, &msg, &drop);
        if (peer == NULL) {
            return parley_endpoint_drop(ep, drop);
        }

        pd = parley_peer_receive_stun(peer, &addr, &msg, now_ms);
        break;

    case PARLEY_DEMUX_DTLS:
    case PARLEY_DEMUX_RTP:
    case PARLEY_DEMUX_RTCP:
        i = parley_endpoint_addr_find(ep, parley_endpoint_addr_hash(ep, &addr),
                                      &addr);
        if (i < 0) {
            return parley_endpoint_drop(ep,
                                        PARLEY_ENDPOINT_DROP_UNKNOWN_ADDRESS);
        }

        peer = ep->addresses.slots[i].peer;
        pd = parley_peer_receive(peer, &addr, buf, len, now_ms);
        break;

    case PARLEY_DEMUX_INVALID:
        return parley_endpoint_drop(ep, PARLEY_ENDPOINT_DROP_MALFORMED);

    default:
        return parley_endpoint_drop(ep, PARLEY_ENDPOINT_DROP_NOT_WEBRTC);
    }

    if (to != NULL) {
        *to = peer;
    }

    if (pd != PARLEY_PEER_DROP_NONE) {
        ep->stats.peer_drops[pd]++;
        return parley_endpoint_drop(ep, PARLEY_ENDPOINT_DROP_PEER);
    }

    return parley_endpoint_drop(ep, PARLEY_ENDPOINT_DROP_NONE);
}


/*
 * RFC 8445 7.3: a check's USERNAME starts with the receiver's ufrag and a
 * colon. Other STUN (a keepalive indication, RFC 8445 11, or the answer to
 * a peer's own check) can only be the peer's whose address it comes from:
 * that is where the peer sent its check. An answer may carry USERNAME too
 * (libnice copies the request's), but that one starts with the browser's
 * ufrag, not ours.
 */
static parley_peer_t *
parley_endpoint_stun_peer(parley_endpoint_t *ep,
    const parley_stun_addr_t *from, const parley_stun_msg_t *msg,
    parley_endpoint_drop_t *drop)
{
    size_t          n;
    ssize_t         i;
    uint64_t        hash;
    const uint8_t  *ufrag, *colon;

    if ((msg->attrs & PARLEY_STUN_HAS_USERNAME)
        && msg->class == PARLEY_STUN_REQUEST)
    {
        *drop = PARLEY_ENDPOINT_DROP_UNKNOWN_UFRAG;

        ufrag = msg->username.data;
        colon = memchr(ufrag, ':', msg->username.len);
        if (colon == NULL) {
            return NULL;
        }

        n = (size_t) (colon - ufrag);
        hash = parley_endpoint_hash(ep->seed, ufrag, n);

        i = parley_endpoint_ufrag_find(ep, hash, ufrag, n);

        return i >= 0 ? ep->ufrags.slots[i].peer : NULL;
    }

    *drop = PARLEY_ENDPOINT_DROP_UNKNOWN_ADDRESS;

    i = parley_endpoint_addr_find(ep, parley_endpoint_addr_hash(ep, from),
                                  from);

    return i >= 0 ? ep->addresses.slots[i].peer : NULL;
}


static parley_endpoint_drop_t
parley_endpoint_drop(parley_endpoint_t *ep, parley_endpoint_drop_t drop)
{
    ep->stats.drops[drop]++;

    return drop;
}


parley_peer_t *
parley_endpoint_find_ufrag(parley_endpoint_t *ep, const uint8_t *ufrag,
    size_t len)
{
    ssize_t   i;
    uint64_t  hash;

    hash = parley_endpoint_hash(ep->seed, ufrag, len);
    i = parley_endpoint_ufrag_find(ep, hash, ufrag, len);

    return i >= 0 ? ep->ufrags.slots[i].peer : NULL;
}


parley_peer_t *
parley_endpoint_find_address(parley_endpoint_t *ep,
    const struct sockaddr *sa)
{
    ssize_t             i;
    parley_stun_addr_t  addr;

    if (parley_stun_addr_from_sockaddr(&addr, sa) != PARLEY_STUN_OK) {
        return NULL;
    }

    i = parley_endpoint_addr_find(ep, parley_endpoint_addr_hash(ep, &addr),
                                  &addr);

    return i >= 0 ? ep->addresses.slots[i].peer : NULL;
}


const parley_endpoint_stats_t *
parley_endpoint_stats(const parley_endpoint_t *ep)
{
    return &ep->stats;
}


/* What the peers tell */


/*
 * An address validated by a check to "peer". If another peer had it (a
 * port reused, a NAT binding handed to someone else), it moves, unless
 * the other peer heard from it within hold_ms: a check from a spoofed
 * source, made with the credentials of a peer the attacker owns, must not
 * take a live path from its owner.
 */
static parley_peer_rc_t
parley_endpoint_address_validated(void *data, parley_peer_t *peer,
    const parley_stun_addr_t *addr, uint64_t now_ms)
{
    size_t              i;
    ssize_t             found;
    uint64_t            hash;
    parley_peer_t      *owner;
    parley_endpoint_t  *ep = data;

    hash = parley_endpoint_addr_hash(ep, addr);
    found = parley_endpoint_addr_find(ep, hash, addr);

    if (found >= 0) {
        owner = ep->addresses.slots[found].peer;

        if (owner == peer) {
            return PARLEY_PEER_OK;
        }

        if (parley_peer_holds_address(owner, addr, now_ms, ep->hold_ms)) {
            ep->stats.moves_refused++;
            return PARLEY_PEER_ERR_REFUSED;
        }

        /* the owner's address_forgotten() frees the slot */
        parley_peer_forget_address(owner, addr);

        found = parley_endpoint_addr_find(ep, hash, addr);
        if (found >= 0) {
            parley_endpoint_table_delete(&ep->addresses, (size_t) found);
        }

        ep->stats.addresses_moved++;
    }

    if (ep->addresses.count >= ep->addresses.limit) {
        return PARLEY_PEER_ERR_FULL;
    }

    i = parley_endpoint_table_insert(&ep->addresses, hash, peer);
    ep->addresses.slots[i].addr = *addr;
    ep->stats.addresses = ep->addresses.count;

    return PARLEY_PEER_OK;
}


static void
parley_endpoint_address_forgotten(void *data, parley_peer_t *peer,
    const parley_stun_addr_t *addr)
{
    ssize_t             i;
    parley_endpoint_t  *ep = data;

    i = parley_endpoint_addr_find(ep, parley_endpoint_addr_hash(ep, addr),
                                  addr);

    if (i >= 0 && ep->addresses.slots[i].peer == peer) {
        parley_endpoint_table_delete(&ep->addresses, (size_t) i);
        ep->stats.addresses = ep->addresses.count;
    }
}


/* RFC 8445 9: an ICE restart gives the peer a new ufrag to be found by. */
static parley_peer_rc_t
parley_endpoint_ufrag_changing(void *data, parley_peer_t *peer,
    const uint8_t *ufrag, size_t len)
{
    ssize_t             i;
    uint64_t            hash;
    parley_endpoint_t  *ep = data;

    hash = parley_endpoint_hash(ep->seed, ufrag, len);

    i = parley_endpoint_ufrag_find(ep, hash, ufrag, len);
    if (i >= 0) {
        return ep->ufrags.slots[i].peer == peer ? PARLEY_PEER_OK
                                                : PARLEY_PEER_ERR_REFUSED;
    }

    i = parley_endpoint_ufrag_slot(ep, peer);
    if (i < 0) {
        return PARLEY_PEER_ERR_REFUSED;
    }

    parley_endpoint_table_delete(&ep->ufrags, (size_t) i);
    (void) parley_endpoint_table_insert(&ep->ufrags, hash, peer);

    return PARLEY_PEER_OK;
}


static void
parley_endpoint_detach(void *data, parley_peer_t *peer)
{
    parley_endpoint_remove_peer(data, peer);
}


/* Tables */


static parley_endpoint_rc_t
parley_endpoint_table_init(parley_endpoint_table_t *t, size_t limit)
{
    size_t  n;

    /* at most half full: short probe sequences, even for misses */
    for (n = 16; n < 2 * limit; n *= 2) {
        /* void */
    }

    t->slots = calloc(n, sizeof(parley_endpoint_slot_t));
    if (t->slots == NULL) {
        return PARLEY_ENDPOINT_ERR_NOMEM;
    }

    t->mask = n - 1;
    t->count = 0;
    t->limit = limit;

    return PARLEY_ENDPOINT_OK;
}


/* The caller has checked that the key is absent and the table not full. */
static size_t
parley_endpoint_table_insert(parley_endpoint_table_t *t, uint64_t hash,
    parley_peer_t *peer)
{
    size_t  i;

    for (i = hash & t->mask; t->slots[i].peer != NULL; i = (i + 1) & t->mask)
    {
        /* void */
    }

    t->slots[i].peer = peer;
    t->slots[i].hash = hash;
    t->count++;

    return i;
}


/*
 * Backward-shift deletion: each later entry of the probe chain whose home
 * does not lie between the hole and itself moves into the hole, so that
 * every entry stays reachable from its home without tombstones.
 */
static void
parley_endpoint_table_delete(parley_endpoint_table_t *t, size_t i)
{
    size_t  j, home;

    j = i;

    for ( ;; ) {
        j = (j + 1) & t->mask;

        if (t->slots[j].peer == NULL) {
            break;
        }

        home = t->slots[j].hash & t->mask;

        if (parley_endpoint_in_chain(home, i, j)) {
            continue;
        }

        t->slots[i] = t->slots[j];
        i = j;
    }

    memset(&t->slots[i], 0, sizeof(parley_endpoint_slot_t));
    t->count--;
}


/* 1 if home is cyclically in (hole, j]: the entry at j must stay. */
static int
parley_endpoint_in_chain(size_t home, size_t hole, size_t j)
{
    if (hole < j) {
        return home > hole && home <= j;
    }

    return home > hole || home <= j;
}


static ssize_t
parley_endpoint_ufrag_find(parley_endpoint_t *ep, uint64_t hash,
    const uint8_t *ufrag, size_t len)
{
    size_t                   i;
    parley_stun_str_t        have;
    parley_endpoint_slot_t  *s;

    for (i = hash & ep->ufrags.mask; ; i = (i + 1) & ep->ufrags.mask) {
        s = &ep->ufrags.slots[i];

        if (s->peer == NULL) {
            return -1;
        }

        if (s->hash != hash) {
            continue;
        }

        parley_peer_local_credentials(s->peer, &have, NULL);

        if (have.len == len && memcmp(have.data, ufrag, len) == 0) {
            return (ssize_t) i;
        }
    }
}


/* The slot of the peer under its current ufrag. */
static ssize_t
parley_endpoint_ufrag_slot(parley_endpoint_t *ep, parley_peer_t *peer)
{
    ssize_t            i;
    uint64_t           hash;
    parley_stun_str_t  ufrag;

    parley_peer_local_credentials(peer, &ufrag, NULL);

    hash = parley_endpoint_hash(ep->seed, ufrag.data, ufrag.len);
    i = parley_endpoint_ufrag_find(ep, hash, ufrag.data, ufrag.len);

    return i >= 0 && ep->ufrags.slots[i].peer == peer ? i : -1;
}


static ssize_t
parley_endpoint_addr_find(parley_endpoint_t *ep, uint64_t hash,
    const parley_stun_addr_t *addr)
{
    size_t                   i;
    parley_endpoint_slot_t  *s;

    for (i = hash & ep->addresses.mask; ; i = (i + 1) & ep->addresses.mask) {
        s = &ep->addresses.slots[i];

        if (s->peer == NULL) {
            return -1;
        }

        if (s->hash == hash && parley_peer_addr_equal(&s->addr, addr)) {
            return (ssize_t) i;
        }
    }
}


/*
 * FNV-1a over the bytes from a random start, then a 64-bit finaliser so
 * that the low bits the mask keeps depend on every input bit.
 */
static uint64_t
parley_endpoint_hash(uint64_t seed, const uint8_t *p, size_t n)
{
    uint64_t  h;

    h = seed ^ 0xcbf29ce484222325ULL;

    while (n-- > 0) {
        h ^= *p++;
        h *= 0x100000001b3ULL;
    }

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    return h;
}


static uint64_t
parley_endpoint_addr_hash(const parley_endpoint_t *ep,
    const parley_stun_addr_t *addr)
{
    size_t   n;
    uint8_t  key[3 + 16];

    key[0] = addr->family == AF_INET6 ? 6 : 4;
    key[1] = (uint8_t) (addr->port >> 8);
    key[2] = (uint8_t) addr->port;

    n = addr->family == AF_INET6 ? 16 : 4;
    memcpy(key + 3, addr->addr, n);

    return parley_endpoint_hash(ep->seed, key, 3 + n);
}
