/*
 * The demultiplexer of one UDP socket that many peer connections share
 * (one per worker): which peer a received datagram belongs to.
 *
 * A STUN check names its peer: its USERNAME is "local ufrag:remote ufrag"
 * (RFC 8445 7.3), and the local ufrag is unique in the endpoint. Nothing
 * else does, so DTLS, SRTP, SRTCP and the answers to a peer's own checks
 * (RFC 7675) are routed by source address: the addresses that successful,
 * authenticated checks came from (peer-reflexive candidates, RFC 8445
 * 7.3.1.3), which the peers report as they learn and forget them. A datagram from any other address is dropped and counted
 * here: RFC 7675 4 lets nothing but checks through before an address has
 * proven it wants the traffic.
 *
 * Socket-less: the caller reads datagrams (recvmmsg) and hands each to
 * parley_endpoint_receive(). Both tables are sized once, at creation, for
 * max_peers peers and PARLEY_PEER_MAX_PATHS (+1) addresses each; open
 * addressing with linear probing, at most half full, nothing allocated
 * afterwards (about 3 MB for 4096 peers). The
 * hash is seeded per endpoint, so that probe sequences cannot be predicted
 * from outside.
 *
 * The endpoint does not own its peers: the caller creates a peer, adds it
 * here, and destroys it, which removes it (parley_peer_destroy() calls back).
 * Not thread-safe; one per nginx worker.
 */

#ifndef _PARLEY_ENDPOINT_H_INCLUDED_
#define _PARLEY_ENDPOINT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "parley_peer.h"


#define PARLEY_ENDPOINT_MAX_PEERS        16384

/*
 * How long an address stays with the peer whose check last validated it,
 * against a check for another peer from the same address: two consent
 * intervals (RFC 7675 5.1: a check every 5 s or so), so that one lost
 * check does not let a spoofed source take a live path away.
 */
#define PARLEY_ENDPOINT_ADDRESS_HOLD_MS  10000


#define PARLEY_ENDPOINT_RESULTS(X)                                           \
    X(OK,            "ok")                                                   \
    X(ERR_INVAL,     "invalid argument")                                     \
    X(ERR_NOMEM,     "out of memory")                                        \
    X(ERR_CRYPTO,    "no random bytes for the hash seed")                    \
    X(ERR_FULL,      "max_peers peers already")                              \
    X(ERR_DUPLICATE, "another peer has that ufrag")                          \
    X(ERR_STATE,     "peer attached elsewhere or already validated")

#define PARLEY_ENDPOINT_RESULT_ENUM(name, text)  PARLEY_ENDPOINT_##name,

typedef enum {
    PARLEY_ENDPOINT_RESULTS(PARLEY_ENDPOINT_RESULT_ENUM)
    PARLEY_ENDPOINT_NRESULTS
} parley_endpoint_rc_t;


#define PARLEY_ENDPOINT_DROPS(X)                                             \
    X(NONE,            "taken by a peer")                                    \
    X(PEER,            "dropped by its peer (see peer_drops)")               \
    X(BAD_ADDRESS,     "source neither IPv4 nor IPv6")                       \
    X(NOT_WEBRTC,      "not STUN, DTLS, RTP or RTCP (RFC 7983)")             \
    X(MALFORMED,       "too short for its class, or STUN that does not parse") \
    X(UNKNOWN_UFRAG,   "STUN USERNAME names no peer here")                   \
    X(UNKNOWN_ADDRESS, "from an address no check validated")

#define PARLEY_ENDPOINT_DROP_ENUM(name, text)  PARLEY_ENDPOINT_DROP_##name,

typedef enum {
    PARLEY_ENDPOINT_DROPS(PARLEY_ENDPOINT_DROP_ENUM)
    PARLEY_ENDPOINT_NDROPS
} parley_endpoint_drop_t;


typedef struct {
    size_t    max_peers;           /* 1 .. PARLEY_ENDPOINT_MAX_PEERS */
    unsigned  address_hold_ms;     /* 0: PARLEY_ENDPOINT_ADDRESS_HOLD_MS */
} parley_endpoint_conf_t;


typedef struct {
    uint64_t  datagrams_in;
    uint64_t  bytes_in;
    uint64_t  drops[PARLEY_ENDPOINT_NDROPS];
    uint64_t  peer_drops[PARLEY_PEER_NDROPS];  /* summed over all peers */
    uint64_t  addresses_moved;     /* validated by a peer, taken from another */
    uint64_t  moves_refused;       /* ... while the other still used it */
    size_t    peers;               /* now */
    size_t    addresses;           /* now */
} parley_endpoint_stats_t;


typedef struct parley_endpoint_s  parley_endpoint_t;


const char *parley_endpoint_rc_str(parley_endpoint_rc_t rc);
const char *parley_endpoint_drop_str(parley_endpoint_drop_t drop);

parley_endpoint_rc_t parley_endpoint_create(parley_endpoint_t **out,
    const parley_endpoint_conf_t *conf);

/* Removes the peers still added (they live on, standalone). NULL: nothing */
void parley_endpoint_destroy(parley_endpoint_t *ep);

/*
 * Routes the peer's checks (by its local ufrag) and, from then on, the
 * datagrams from the addresses they validate. ERR_DUPLICATE if another
 * peer has the ufrag, ERR_STATE if the peer is in an endpoint already or
 * has validated an address on its own.
 */
parley_endpoint_rc_t parley_endpoint_add_peer(parley_endpoint_t *ep,
    parley_peer_t *peer);

/* Its ufrag and addresses leave the tables; not one of ours: nothing. */
void parley_endpoint_remove_peer(parley_endpoint_t *ep, parley_peer_t *peer);

/*
 * One datagram read from the socket, from "from" (what recvmmsg() filled
 * in). SRTP is decrypted in place in buf. *peer (if not NULL) is set to
 * the peer the datagram was handed to, or NULL: that peer's deadlines may
 * have moved (parley_peer_timeout_ms()).
 */
parley_endpoint_drop_t parley_endpoint_receive(parley_endpoint_t *ep,
    const struct sockaddr *from, uint8_t *buf, size_t len, uint64_t now_ms,
    parley_peer_t **peer);

/* Lookups, as receive does them; NULL if none. */
parley_peer_t *parley_endpoint_find_ufrag(parley_endpoint_t *ep,
    const uint8_t *ufrag, size_t len);
parley_peer_t *parley_endpoint_find_address(parley_endpoint_t *ep,
    const struct sockaddr *sa);

const parley_endpoint_stats_t *parley_endpoint_stats(
    const parley_endpoint_t *ep);


#endif /* _PARLEY_ENDPOINT_H_INCLUDED_ */
