/*
 * DTLS 1.2 for WebRTC peer connections, with OpenSSL 3: the handshake that
 * keys SRTP (DTLS-SRTP, RFC 5763 and RFC 5764), the check of the peer's
 * certificate against the fingerprint its SDP announced (RFC 8122 5,
 * RFC 8827 6.5), the client and server roles that a=setup picks
 * (RFC 8842 5, RFC 4145 4), and application data for SCTP (RFC 8261).
 *
 * An identity is the process's key, self-signed certificate and SSL_CTX;
 * a transport is one peer's DTLS association, made from an identity. A
 * transport does no I/O and arms no timer: datagrams come in through
 * parley_dtls_feed() and go out through the send() callback, one call per
 * UDP datagram, never larger than the MTU; the caller asks
 * parley_dtls_timeout_ms() when to call parley_dtls_handle_timeout() for a
 * retransmission (RFC 6347 4.2.4).
 *
 * OpenSSL is initialised by whoever owns the process (nginx's ngx_ssl_init()
 * in a worker, OpenSSL's own automatic initialisation in a test); nothing
 * here initialises or cleans up the library.
 *
 * One thread per transport, as in an nginx worker. send(), on_connected()
 * and on_app_data() must not destroy the transport that calls them, and
 * send() must not call back into it; on_error() and on_closed() are the last
 * thing a call does, so they may destroy it.
 */

#ifndef _PARLEY_DTLS_H_INCLUDED_
#define _PARLEY_DTLS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* What the identity offers when its conf names no profiles: GCM first. */
#define PARLEY_DTLS_SRTP_PROFILES                                            \
    "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

#define PARLEY_DTLS_MTU_DEFAULT          1200  /* UDP payload */
#define PARLEY_DTLS_MTU_MIN              256   /* OpenSSL's smallest */
#define PARLEY_DTLS_MTU_MAX              9000
#define PARLEY_DTLS_VALIDITY_DAYS        30
#define PARLEY_DTLS_TIMEOUT_DEFAULT_MS   1000  /* RFC 6347 4.2.4.1 */

/* OpenSSL takes a timer with less than 15 ms left as expired. */
#define PARLEY_DTLS_TIMEOUT_MIN_MS       50
#define PARLEY_DTLS_TIMEOUT_MAX_MS       60000 /* RFC 6347 4.2.4.1 */

#define PARLEY_DTLS_DIGEST_MAX           64    /* sha-512 */
#define PARLEY_DTLS_MAX_FINGERPRINTS     4     /* a=fingerprint lines kept */

/* "sha-512 " and 64 hex pairs with colons, and the NUL. */
#define PARLEY_DTLS_FINGERPRINT_STR_MAX  200

/* Master key and master salt, the longest of the profiles below. */
#define PARLEY_DTLS_SRTP_KEY_MAX         32
#define PARLEY_DTLS_SRTP_SALT_MAX        14
#define PARLEY_DTLS_SRTP_MASTER_MAX                                          \
    (PARLEY_DTLS_SRTP_KEY_MAX + PARLEY_DTLS_SRTP_SALT_MAX)

#define PARLEY_DTLS_DETAIL_MAX           128


/* Results; each failure is distinct, and counted in the stats by it. */
#define PARLEY_DTLS_RESULTS(X)                                               \
    X(OK,                  "ok")                                             \
    X(ERR_INVAL,           "invalid argument")                               \
    X(ERR_NOMEM,           "out of memory")                                  \
    X(ERR_CRYPTO,          "OpenSSL could not build the identity")           \
    X(ERR_STATE,           "not allowed in this state")                      \
    X(ERR_NOT_DTLS,        "datagram is not a sequence of DTLS records")     \
    X(ERR_TOO_BIG,         "datagram or message too long")                   \
    X(ERR_HANDSHAKE,       "handshake failed")                               \
    X(ERR_ALERT,           "peer sent a fatal alert")                        \
    X(ERR_TIMEOUT,         "peer stopped answering retransmissions")         \
    X(ERR_FINGERPRINT,     "peer certificate does not match its fingerprint") \
    X(ERR_NO_SRTP_PROFILE, "no DTLS-SRTP profile negotiated")                \
    X(ERR_KEY_EXPORT,      "keying material export failed")                  \
    X(ERR_PROTOCOL,        "fatal error after the handshake")

#define PARLEY_DTLS_RESULT_ENUM(name, text)  PARLEY_DTLS_##name,

typedef enum {
    PARLEY_DTLS_RESULTS(PARLEY_DTLS_RESULT_ENUM)
    PARLEY_DTLS_NRESULTS
} parley_dtls_rc_t;


/* RFC 4145 4, RFC 8842 5: a=setup:active is the DTLS client. */
typedef enum {
    PARLEY_DTLS_ROLE_CLIENT = 1,
    PARLEY_DTLS_ROLE_SERVER
} parley_dtls_role_t;


typedef enum {
    PARLEY_DTLS_NEW = 0,           /* a client not yet started */
    PARLEY_DTLS_CONNECTING,
    PARLEY_DTLS_VERIFYING,         /* handshake done, no fingerprint yet */
    PARLEY_DTLS_CONNECTED,         /* keys handed out, app data flows */
    PARLEY_DTLS_CLOSED,            /* close_notify sent or received */
    PARLEY_DTLS_FAILED
} parley_dtls_state_t;


/* RFC 8122 5: the hash functions of a=fingerprint that may be used. */
typedef enum {
    PARLEY_DTLS_HASH_NONE = 0,
    PARLEY_DTLS_HASH_SHA1,
    PARLEY_DTLS_HASH_SHA224,
    PARLEY_DTLS_HASH_SHA256,
    PARLEY_DTLS_HASH_SHA384,
    PARLEY_DTLS_HASH_SHA512
} parley_dtls_hash_t;


typedef struct {
    parley_dtls_hash_t  hash;
    size_t              len;
    uint8_t             digest[PARLEY_DTLS_DIGEST_MAX];
} parley_dtls_fingerprint_t;


/* DTLS-SRTP protection profile ids: RFC 5764 4.1.2, RFC 7714 14.2. */
typedef enum {
    PARLEY_DTLS_SRTP_AES128_CM_SHA1_80 = 0x0001,
    PARLEY_DTLS_SRTP_AES128_CM_SHA1_32 = 0x0002,
    PARLEY_DTLS_SRTP_AEAD_AES_128_GCM = 0x0007,
    PARLEY_DTLS_SRTP_AEAD_AES_256_GCM = 0x0008
} parley_dtls_srtp_profile_t;


/*
 * The SRTP keys of one association. local and remote each hold the master
 * key followed by the master salt, the layout libsrtp2 takes as
 * srtp_policy_t.key: local protects what we send, remote unprotects what
 * the peer sends.
 */
typedef struct {
    parley_dtls_srtp_profile_t  profile;
    size_t                      key_len;
    size_t                      salt_len;
    uint8_t                     local[PARLEY_DTLS_SRTP_MASTER_MAX];
    uint8_t                     remote[PARLEY_DTLS_SRTP_MASTER_MAX];
} parley_dtls_srtp_keys_t;


typedef struct {
    uint64_t  datagrams_in;        /* fed, whether taken or dropped */
    uint64_t  bytes_in;
    uint64_t  datagrams_out;       /* handed to send() */
    uint64_t  bytes_out;
    uint64_t  app_bytes_in;        /* handed to on_app_data() */
    uint64_t  app_bytes_out;       /* taken by parley_dtls_write() */
    uint64_t  app_records_dropped; /* arrived before the fingerprint */
    uint64_t  retransmits;         /* flights resent on a timeout */
    uint64_t  errors[PARLEY_DTLS_NRESULTS];  /* by result; [OK] stays 0 */
    unsigned  shed:1;              /* parley_dtls_shed() done */
} parley_dtls_stats_t;


typedef struct {
    const char  *srtp_profiles;    /* NULL: PARLEY_DTLS_SRTP_PROFILES */
    unsigned     validity_days;    /* 0: PARLEY_DTLS_VALIDITY_DAYS */
    size_t       mtu;              /* 0: PARLEY_DTLS_MTU_DEFAULT */
    unsigned     timeout_ms;       /* 0: PARLEY_DTLS_TIMEOUT_DEFAULT_MS */

    /*
     * The retransmission timer doubles up to this (0: 60 s); OpenSSL gives
     * up after 12 timeouts, about 7 minutes with the defaults, so a caller
     * that wants a handshake over sooner also keeps its own deadline.
     */
    unsigned     timeout_max_ms;
} parley_dtls_identity_conf_t;


typedef struct {
    void   *data;                  /* passed back to each callback */

    /* One UDP datagram for the peer; required. */
    void  (*send)(void *data, const uint8_t *buf, size_t len);

    /* The keys are valid during the call only, and wiped after it. */
    void  (*on_connected)(void *data, const parley_dtls_srtp_keys_t *keys);
    void  (*on_app_data)(void *data, const uint8_t *buf, size_t len);
    void  (*on_error)(void *data, parley_dtls_rc_t reason);
    void  (*on_closed)(void *data);
} parley_dtls_handler_t;


typedef struct {
    parley_dtls_role_t                role;

    /*
     * The peer's a=fingerprint lines; none is allowed when the SDP that
     * carries them has not come yet: see parley_dtls_set_fingerprints().
     */
    const parley_dtls_fingerprint_t  *fingerprints;
    size_t                            nfingerprints;

    parley_dtls_handler_t             handler;
} parley_dtls_conf_t;


typedef struct parley_dtls_identity_s  parley_dtls_identity_t;
typedef struct parley_dtls_s           parley_dtls_t;


/*
 * An ECDSA P-256 key and a self-signed certificate for it, valid from a day
 * ago for conf->validity_days, and the SSL_CTX that every transport made
 * from the identity shares. conf may be NULL for the defaults.
 */
parley_dtls_rc_t parley_dtls_identity_create(parley_dtls_identity_t **out,
    const parley_dtls_identity_conf_t *conf);

/*
 * Transports made from the identity keep working after this: each holds a
 * reference, and the last one to go frees it.
 */
void parley_dtls_identity_destroy(parley_dtls_identity_t *identity);

/* The a=fingerprint value of the certificate: "sha-256 AB:CD:...". */
const char *parley_dtls_identity_fingerprint_str(
    const parley_dtls_identity_t *identity);

parley_dtls_rc_t parley_dtls_identity_fingerprint(
    const parley_dtls_identity_t *identity, parley_dtls_hash_t hash,
    parley_dtls_fingerprint_t *fp);


parley_dtls_rc_t parley_dtls_create(parley_dtls_t **out,
    parley_dtls_identity_t *identity, const parley_dtls_conf_t *conf);

/* Frees without a word to the peer: parley_dtls_close() says goodbye. */
void parley_dtls_destroy(parley_dtls_t *dtls);

/*
 * A client sends its ClientHello; a server has nothing to say until one
 * comes, and may be fed from its creation on.
 */
parley_dtls_rc_t parley_dtls_start(parley_dtls_t *dtls);

/* One received datagram whose first byte says DTLS (RFC 7983 7). */
parley_dtls_rc_t parley_dtls_feed(parley_dtls_t *dtls, const uint8_t *buf,
    size_t len);

/*
 * Milliseconds until parley_dtls_handle_timeout() is due, or -1 when no
 * retransmission timer runs. Ask after every call that may send.
 */
int64_t parley_dtls_timeout_ms(parley_dtls_t *dtls);

parley_dtls_rc_t parley_dtls_handle_timeout(parley_dtls_t *dtls);

/*
 * The peer's fingerprints when they were not known at creation. If the
 * handshake is already done (PARLEY_DTLS_VERIFYING), the certificate is
 * checked now, and the keys or the error follow from this call.
 */
parley_dtls_rc_t parley_dtls_set_fingerprints(parley_dtls_t *dtls,
    const parley_dtls_fingerprint_t *fps, size_t n);

/* One application record; at most parley_dtls_data_mtu() bytes. */
parley_dtls_rc_t parley_dtls_write(parley_dtls_t *dtls, const uint8_t *buf,
    size_t len);

/* The largest write that fits one datagram; 0 before the handshake. */
size_t parley_dtls_data_mtu(const parley_dtls_t *dtls);

/* Sends close_notify (RFC 5246 7.2.1) if the handshake is done. */
parley_dtls_rc_t parley_dtls_close(parley_dtls_t *dtls);

/*
 * For a connected association that carries nothing after its handshake
 * (no data channel), once the caller knows that the peer has finished too
 * (it has sent SRTP, which it may only after our last flight): OpenSSL's
 * part, its record and handshake buffers (some 60 KB), is freed. The
 * association stays CONNECTED for its state and stats; a datagram fed to
 * it after that is counted and refused (ERR_STATE), nothing can be
 * written, and closing sends no close_notify. PARLEY_DTLS_ERR_STATE
 * before the handshake is done.
 */
parley_dtls_rc_t parley_dtls_shed(parley_dtls_t *dtls);

parley_dtls_state_t parley_dtls_state(const parley_dtls_t *dtls);
const parley_dtls_stats_t *parley_dtls_stats(const parley_dtls_t *dtls);

/* OpenSSL's words for the failure, for the log; "" while there is none. */
const char *parley_dtls_error_detail(const parley_dtls_t *dtls);


/* "sha-256 AB:CD:..."; the length written, 0 if it does not fit. */
size_t parley_dtls_fingerprint_format(const parley_dtls_fingerprint_t *fp,
    char *buf, size_t size);

/* RFC 8122 5 names: "sha-1" ... "sha-512"; NULL for none. */
const char *parley_dtls_hash_name(parley_dtls_hash_t hash);
size_t parley_dtls_hash_len(parley_dtls_hash_t hash);

const char *parley_dtls_srtp_profile_str(parley_dtls_srtp_profile_t profile);
const char *parley_dtls_state_str(parley_dtls_state_t state);
const char *parley_dtls_rc_str(parley_dtls_rc_t rc);


#endif /* _PARLEY_DTLS_H_INCLUDED_ */
