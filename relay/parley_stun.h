/*
 * STUN messages (RFC 8489) for an ICE-lite responder (RFC 8445 2.5).
 *
 * The demultiplexer hands a datagram whose first byte is 0..3 (RFC 7983)
 * to parley_stun_parse(); the ICE-lite check handler (parley_icelite.h)
 * then decides whether to drop it or answer it, and builds the answer
 * into a caller buffer with the builders here.
 * Nothing here does I/O, reads a clock or draws random numbers: the caller
 * owns the socket, and supplies transaction ids and tie-breakers.
 *
 * A parsed message points into the datagram it was parsed from, which must
 * outlive it. Parsing, verifying and building allocate nothing; OpenSSL's
 * HMAC contexts are made once per credential by parley_stun_key_init().
 */

#ifndef _PARLEY_STUN_H_INCLUDED_
#define _PARLEY_STUN_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <openssl/types.h>


#define PARLEY_STUN_HEADER_SIZE     20
#define PARLEY_STUN_TID_SIZE        12
#define PARLEY_STUN_MAGIC_COOKIE    0x2112a442

/* Unknown comprehension-required attribute types kept for a 420 answer. */
#define PARLEY_STUN_MAX_UNKNOWN     8

/*
 * Enough for any response that parley_icelite_check() builds; the
 * largest, a 420 listing PARLEY_STUN_MAX_UNKNOWN types, takes 100 bytes.
 */
#define PARLEY_STUN_RESPONSE_MAX    128

#define PARLEY_STUN_BINDING         0x0001

/* Attribute types: RFC 8489 14 and 18.3, RFC 8445 16.1. */
#define PARLEY_STUN_ATTR_MAPPED_ADDRESS      0x0001
#define PARLEY_STUN_ATTR_USERNAME            0x0006
#define PARLEY_STUN_ATTR_MESSAGE_INTEGRITY   0x0008
#define PARLEY_STUN_ATTR_ERROR_CODE          0x0009
#define PARLEY_STUN_ATTR_UNKNOWN_ATTRIBUTES  0x000a
#define PARLEY_STUN_ATTR_REALM               0x0014
#define PARLEY_STUN_ATTR_NONCE               0x0015
#define PARLEY_STUN_ATTR_INTEGRITY_SHA256    0x001c
#define PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS  0x0020
#define PARLEY_STUN_ATTR_PRIORITY            0x0024
#define PARLEY_STUN_ATTR_USE_CANDIDATE       0x0025
#define PARLEY_STUN_ATTR_SOFTWARE            0x8022
#define PARLEY_STUN_ATTR_FINGERPRINT         0x8028
#define PARLEY_STUN_ATTR_ICE_CONTROLLED      0x8029
#define PARLEY_STUN_ATTR_ICE_CONTROLLING     0x802a

/* Bits of parley_stun_msg_t.attrs: the known attributes a message holds. */
#define PARLEY_STUN_HAS_USERNAME             0x0001
#define PARLEY_STUN_HAS_INTEGRITY            0x0002
#define PARLEY_STUN_HAS_INTEGRITY_SHA256     0x0004
#define PARLEY_STUN_HAS_FINGERPRINT          0x0008
#define PARLEY_STUN_HAS_XOR_MAPPED_ADDRESS   0x0010
#define PARLEY_STUN_HAS_ERROR_CODE           0x0020
#define PARLEY_STUN_HAS_UNKNOWN_ATTRIBUTES   0x0040
#define PARLEY_STUN_HAS_REALM                0x0080
#define PARLEY_STUN_HAS_NONCE                0x0100
#define PARLEY_STUN_HAS_PRIORITY             0x0200
#define PARLEY_STUN_HAS_USE_CANDIDATE        0x0400
#define PARLEY_STUN_HAS_SOFTWARE             0x0800
#define PARLEY_STUN_HAS_ICE_CONTROLLED       0x1000
#define PARLEY_STUN_HAS_ICE_CONTROLLING      0x2000


/* Results of parsing, verifying and building; each failure is distinct. */
#define PARLEY_STUN_RESULTS(X)                                               \
    X(OK,                   "ok")                                            \
    X(ERR_INVAL,            "invalid argument")                              \
    X(ERR_TOO_SHORT,        "shorter than a STUN header")                    \
    X(ERR_NOT_STUN,         "first two bits are not zero")                   \
    X(ERR_BAD_COOKIE,       "wrong magic cookie")                            \
    X(ERR_LENGTH_UNALIGNED, "message length not a multiple of 4")            \
    X(ERR_LENGTH_PAST_END,  "message length past the end of the datagram")   \
    X(ERR_TRAILING_BYTES,   "datagram longer than the message")              \
    X(ERR_ATTR_TRUNCATED,   "attribute past the end of the message")         \
    X(ERR_ATTR_INVALID,     "malformed attribute value")                     \
    X(ERR_AFTER_INTEGRITY,  "attribute after MESSAGE-INTEGRITY")             \
    X(ERR_FINGERPRINT_NOT_LAST, "FINGERPRINT is not the last attribute")     \
    X(ERR_NO_INTEGRITY,     "no MESSAGE-INTEGRITY")                          \
    X(ERR_INTEGRITY_MISMATCH, "MESSAGE-INTEGRITY does not match")            \
    X(ERR_NO_FINGERPRINT,   "no FINGERPRINT")                                \
    X(ERR_FINGERPRINT_MISMATCH, "FINGERPRINT does not match")                \
    X(ERR_NOSPACE,          "output buffer too small")                       \
    X(ERR_CRYPTO,           "HMAC computation failed")

#define PARLEY_STUN_RESULT_ENUM(name, text)  PARLEY_STUN_##name,

typedef enum {
    PARLEY_STUN_RESULTS(PARLEY_STUN_RESULT_ENUM)
} parley_stun_rc_t;


/* RFC 8489 5: the two class bits of the message type. */
typedef enum {
    PARLEY_STUN_REQUEST = 0,
    PARLEY_STUN_INDICATION = 1,
    PARLEY_STUN_SUCCESS = 2,
    PARLEY_STUN_ERROR = 3
} parley_stun_class_t;


typedef enum {
    PARLEY_STUN_ROLE_NONE = 0,
    PARLEY_STUN_ROLE_CONTROLLING,
    PARLEY_STUN_ROLE_CONTROLLED
} parley_stun_role_t;


/* Bytes, not NUL-terminated; in a parsed message they point into it. */
typedef struct {
    const uint8_t  *data;
    size_t          len;
} parley_stun_str_t;


typedef struct {
    int       family;              /* AF_INET or AF_INET6 */
    uint16_t  port;                /* host byte order */
    uint8_t   addr[16];            /* network byte order, 4 used for IPv4 */
} parley_stun_addr_t;


/*
 * A short-term credential (RFC 8489 9.1): the HMAC key is the password
 * itself. Made once per password, used for every packet after.
 */
typedef struct {
    EVP_MAC_CTX  *sha1;
    EVP_MAC_CTX  *sha256;
} parley_stun_key_t;


typedef struct {
    const uint8_t        *start;       /* the datagram */
    size_t                size;        /* header and attributes */
    uint16_t              method;
    parley_stun_class_t   class;
    uint8_t               tid[PARLEY_STUN_TID_SIZE];

    uint32_t              attrs;       /* PARLEY_STUN_HAS_* */
    uint16_t              bad_attr;    /* type of a malformed attribute */

    parley_stun_str_t     username;
    parley_stun_str_t     realm;
    parley_stun_str_t     nonce;
    parley_stun_str_t     software;
    parley_stun_addr_t    xor_mapped_address;
    uint16_t              error_code;
    parley_stun_str_t     error_reason;
    parley_stun_str_t     unknown_attributes;  /* the attribute, 2 bytes each */
    uint32_t              priority;
    uint64_t              ice_controlling;     /* tie-breakers */
    uint64_t              ice_controlled;

    size_t                integrity_at;        /* offsets of the attribute */
    size_t                integrity_sha256_at; /* headers in the message */
    size_t                integrity_sha256_len;
    size_t                fingerprint_at;

    /* comprehension-required types not understood here (RFC 8489 6.3.1) */
    uint16_t              unknown[PARLEY_STUN_MAX_UNKNOWN];
    unsigned              unknown_count;
} parley_stun_msg_t;


/* Settings for parley_stun_binding_request(). */
typedef struct {
    uint8_t               tid[PARLEY_STUN_TID_SIZE];
    parley_stun_str_t     username;    /* "remote ufrag:local ufrag" */
    uint32_t              priority;
    parley_stun_role_t    role;
    uint64_t              tie_breaker;
    unsigned              use_candidate:1;
    parley_stun_key_t    *key;         /* the peer's password; NULL: no MI */
} parley_stun_request_t;




const char *parley_stun_rc_str(parley_stun_rc_t rc);

/*
 * Parses one datagram as one STUN message. On PARLEY_STUN_OK *msg
 * describes it; on PARLEY_STUN_ERR_ATTR_INVALID msg->bad_attr names the
 * offending attribute. The message's integrity is not checked here.
 */
parley_stun_rc_t parley_stun_parse(parley_stun_msg_t *msg, const uint8_t *buf,
    size_t len);

/*
 * Checks FINGERPRINT: PARLEY_STUN_OK, PARLEY_STUN_ERR_NO_FINGERPRINT or
 * PARLEY_STUN_ERR_FINGERPRINT_MISMATCH.
 */
parley_stun_rc_t parley_stun_verify_fingerprint(const parley_stun_msg_t *msg);

/*
 * Checks MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256, whichever are
 * present; all present must match. Returns PARLEY_STUN_OK,
 * PARLEY_STUN_ERR_NO_INTEGRITY if neither is present,
 * PARLEY_STUN_ERR_INTEGRITY_MISMATCH or PARLEY_STUN_ERR_CRYPTO.
 */
parley_stun_rc_t parley_stun_verify_integrity(const parley_stun_msg_t *msg,
    parley_stun_key_t *key);

/*
 * Makes the HMAC contexts for a password (any bytes, at least one).
 * PARLEY_STUN_ERR_INVAL for an empty password, PARLEY_STUN_ERR_CRYPTO if
 * OpenSSL fails; *key is then left empty. parley_stun_key_free() releases
 * it, and may be called on a key whose init failed.
 */
parley_stun_rc_t parley_stun_key_init(parley_stun_key_t *key,
    const void *password, size_t len);
void parley_stun_key_free(parley_stun_key_t *key);

/* Address conversions: PARLEY_STUN_ERR_INVAL for another family. */
parley_stun_rc_t parley_stun_addr_from_sockaddr(parley_stun_addr_t *addr,
    const struct sockaddr *sa);
parley_stun_rc_t parley_stun_addr_to_sockaddr(const parley_stun_addr_t *addr,
    struct sockaddr_storage *ss, socklen_t *len);

/*
 * Builders. Each writes one Binding message into buf (cap bytes) and sets
 * *len; PARLEY_STUN_ERR_NOSPACE if it does not fit, PARLEY_STUN_ERR_INVAL
 * for a bad argument. Every message ends with FINGERPRINT (RFC 8445 7).
 */

/* XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY with "key", FINGERPRINT. */
parley_stun_rc_t parley_stun_binding_success(uint8_t *buf, size_t cap,
    const uint8_t *tid, const parley_stun_addr_t *mapped,
    parley_stun_key_t *key, size_t *len);

/*
 * ERROR-CODE "code" (300..699) with its reason phrase, UNKNOWN-ATTRIBUTES
 * if "nunknown" is not 0, MESSAGE-INTEGRITY if "key" is not NULL.
 */
parley_stun_rc_t parley_stun_binding_error(uint8_t *buf, size_t cap,
    const uint8_t *tid, unsigned code, const uint16_t *unknown,
    size_t nunknown, parley_stun_key_t *key, size_t *len);

/* USERNAME, PRIORITY, ICE-CONTROLLING/-CONTROLLED, USE-CANDIDATE, MI. */
parley_stun_rc_t parley_stun_binding_request(uint8_t *buf, size_t cap,
    const parley_stun_request_t *req, size_t *len);

/* A keepalive (RFC 8445 11): no attribute but FINGERPRINT. */
parley_stun_rc_t parley_stun_binding_indication(uint8_t *buf, size_t cap,
    const uint8_t *tid, size_t *len);


#endif /* _PARLEY_STUN_H_INCLUDED_ */
