/*
 * SRTP and SRTCP (RFC 3711) for one direction of one DTLS-SRTP association
 * (RFC 5764), with the two protection profiles browsers offer:
 * SRTP_AES128_CM_HMAC_SHA1_80 and SRTP_AEAD_AES_128_GCM (RFC 7714).
 *
 * A session wraps one libsrtp2 srtp_t whose only policy is a wildcard SSRC
 * (ssrc_any_inbound or ssrc_any_outbound): every SSRC of the peer, or every
 * SSRC forwarded to it, is keyed from the same master key without a policy
 * change. An inbound session only unprotects, an outbound one only
 * protects; the DTLS layer makes one of each per peer.
 *
 * Packets are protected and unprotected in place in the caller's buffer.
 * Nothing here does I/O or allocates. libsrtp2 allocates per session and
 * per new SSRC, the latter only once a packet of it has authenticated; and
 * Debian's libsrtp2, built on NSS, also allocates inside every protect and
 * unprotect (NSS PKCS #11 contexts; measured: 11 allocations a call for
 * AES-CM, 5 for GCM), which tests/bench/bench_srtp.c counts in. Errors are values of
 * parley_srtp_rc_t, so that a caller can count drops by reason.
 *
 * libsrtp2 keeps process-wide state: parley_srtp_init() is called once per
 * process, after fork (nginx: init_process in each worker), before any
 * session is made; parley_srtp_shutdown() after the last is destroyed.
 * Neither the sessions nor init are thread-safe; nginx workers do not need
 * them to be.
 */

#ifndef _PARLEY_SRTP_H_INCLUDED_
#define _PARLEY_SRTP_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <srtp2/srtp.h>


/* RFC 5764 4.1.2 and RFC 7714 14.2: DTLS "use_srtp" profile ids */
#define PARLEY_SRTP_DTLS_AES128_CM_SHA1_80   0x0001
#define PARLEY_SRTP_DTLS_AEAD_AES_128_GCM    0x0007

#define PARLEY_SRTP_KEY_LEN          16    /* AES-128 master key */
#define PARLEY_SRTP_CM_SALT_LEN      14    /* RFC 3711 8.2: 112 bits */
#define PARLEY_SRTP_GCM_SALT_LEN     12    /* RFC 7714 12: 96 bits */
#define PARLEY_SRTP_MAX_SALT_LEN     14

/*
 * Free room a caller leaves after a packet it asks to protect. libsrtp2's
 * srtp.h requires SRTP_MAX_TRAILER_LEN after an RTP packet and that plus 4
 * (the SRTCP index) after an RTCP one; one figure serves both. The bytes
 * actually added are 10 (CM) or 16 (GCM) for RTP, 4 more for RTCP; the
 * room asked is 148.
 */
#define PARLEY_SRTP_TRAILER_ROOM     (SRTP_MAX_TRAILER_LEN + 4)

/* a UDP payload is never longer */
#define PARLEY_SRTP_MAX_PACKET       65535

/*
 * Replay window for SRTP, in packets (RFC 3711 3.3.2). 1024 lets a NACKed
 * packet that arrives half a second late at 2000 packets/s still pass;
 * libsrtp2 accepts 64 to 32767. SRTCP's window is libsrtp2's fixed 128.
 */
#define PARLEY_SRTP_WINDOW_DEFAULT   1024
#define PARLEY_SRTP_WINDOW_MIN       64
#define PARLEY_SRTP_WINDOW_MAX       32767


#define PARLEY_SRTP_RESULTS(X)                                               \
    X(OK,              "ok")                                                 \
    X(ERR_INVAL,       "invalid argument")                                   \
    X(ERR_NOT_READY,   "parley_srtp_init() not called")                      \
    X(ERR_PROFILE,     "unknown SRTP protection profile")                    \
    X(ERR_KEY_LENGTH,  "master key or salt length wrong for the profile")    \
    X(ERR_WINDOW,      "replay window size out of range")                    \
    X(ERR_DIRECTION,   "operation of the other direction")                   \
    X(ERR_TOO_SHORT,   "shorter than a header and a tag")                    \
    X(ERR_TOO_LONG,    "longer than a UDP datagram")                         \
    X(ERR_NOSPACE,     "no room after the packet for the trailer")           \
    X(ERR_MALFORMED,   "header fields run past the end of the packet")       \
    X(ERR_AUTH,        "authentication failed")                              \
    X(ERR_REPLAY,      "replayed packet")                                    \
    X(ERR_REPLAY_OLD,  "packet older than the replay window")                \
    X(ERR_NOT_FOUND,   "no stream for that SSRC")                            \
    X(ERR_KEY_EXPIRED, "master key used up")                                 \
    X(ERR_NOMEM,       "out of memory")                                      \
    X(ERR_LIBRARY,     "libsrtp2 failed")

#define PARLEY_SRTP_RESULT_ENUM(name, text)  PARLEY_SRTP_##name,

typedef enum {
    PARLEY_SRTP_RESULTS(PARLEY_SRTP_RESULT_ENUM)
    PARLEY_SRTP_RC_COUNT           /* not a result: sizes counter arrays */
} parley_srtp_rc_t;


typedef enum {
    PARLEY_SRTP_AES128_CM_SHA1_80 = 0,
    PARLEY_SRTP_AEAD_AES_128_GCM
} parley_srtp_profile_t;


typedef enum {
    PARLEY_SRTP_INBOUND = 0,       /* from the peer: unprotect */
    PARLEY_SRTP_OUTBOUND           /* to the peer: protect */
} parley_srtp_direction_t;


/*
 * A master key and salt; the bytes belong to the caller. The DTLS layer's
 * parley_dtls_srtp_keys_t holds each direction's as key then salt.
 */
typedef struct {
    const uint8_t  *key;
    size_t          key_len;
    const uint8_t  *salt;
    size_t          salt_len;
} parley_srtp_master_t;


/*
 * Embedded in its owner (a peer's transport), made by parley_srtp_create()
 * over one that holds no session, freed by parley_srtp_destroy(). A zeroed
 * one is "no session".
 */
typedef struct {
    srtp_t                    ctx;
    parley_srtp_profile_t     profile;
    parley_srtp_direction_t   direction;
} parley_srtp_session_t;


parley_srtp_rc_t parley_srtp_init(void);
void parley_srtp_shutdown(void);

const char *parley_srtp_rc_str(parley_srtp_rc_t rc);

parley_srtp_rc_t parley_srtp_profile_from_dtls(uint16_t id,
    parley_srtp_profile_t *profile);
const char *parley_srtp_profile_name(parley_srtp_profile_t profile);
size_t parley_srtp_salt_len(parley_srtp_profile_t profile);

/*
 * window 0 means PARLEY_SRTP_WINDOW_DEFAULT. Inbound, it is how far behind
 * the newest a packet may arrive; outbound, how far behind the newest an
 * RTP packet may be protected again (a NACK answer older fails with
 * PARLEY_SRTP_ERR_REPLAY_OLD).
 */
parley_srtp_rc_t parley_srtp_create(parley_srtp_session_t *s,
    parley_srtp_profile_t profile, parley_srtp_direction_t direction,
    const parley_srtp_master_t *master, unsigned window);
void parley_srtp_destroy(parley_srtp_session_t *s);

/*
 * In place. Protect needs cap >= *len + PARLEY_SRTP_TRAILER_ROOM and
 * grows *len by the trailer; unprotect shrinks *len. On an error the
 * buffer's contents are unspecified and the packet is to be dropped.
 *
 * An outbound session protects each RTP index once: a second protect of
 * it fails with PARLEY_SRTP_ERR_REPLAY (a keystream or a GCM nonce used
 * twice would leak both plaintexts, RFC 3711 9.1). Retransmissions go on
 * an RTX stream with numbers of its own (RFC 4588).
 */
parley_srtp_rc_t parley_srtp_protect_rtp(parley_srtp_session_t *s,
    uint8_t *buf, size_t *len, size_t cap);
parley_srtp_rc_t parley_srtp_unprotect_rtp(parley_srtp_session_t *s,
    uint8_t *buf, size_t *len);
parley_srtp_rc_t parley_srtp_protect_rtcp(parley_srtp_session_t *s,
    uint8_t *buf, size_t *len, size_t cap);
parley_srtp_rc_t parley_srtp_unprotect_rtcp(parley_srtp_session_t *s,
    uint8_t *buf, size_t *len);

/*
 * Frees the per-SSRC state (replay window, rollover counter) of an SSRC
 * that has gone away, so that a long call does not keep one per SSRC ever
 * seen. Should the SSRC come back it starts afresh: inbound, old packets of
 * it would pass the replay check again, so forget only SSRCs the router
 * no longer accepts; outbound, its indexes would restart and reuse
 * keystream (RFC 3711 9.1), so never send it again under this key.
 */
parley_srtp_rc_t parley_srtp_forget_ssrc(parley_srtp_session_t *s,
    uint32_t ssrc);


#endif /* _PARLEY_SRTP_H_INCLUDED_ */
