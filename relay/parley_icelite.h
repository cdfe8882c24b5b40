/*
 * The ICE-lite agent's STUN side (RFC 8445 2.5, 7.3; RFC 7675): what an
 * SFU that never starts checks does with a parsed STUN message. A check
 * from the peer is answered only when it is authenticated with our
 * password, and the answer built into a caller buffer; a response to one
 * of our own checks (consent, RFC 7675) is judged. The STUN messages
 * themselves are parley_stun's; the paths, nomination and consent timers
 * that use these answers are parley_peer's.
 *
 * Nothing here does I/O, reads a clock or draws random numbers.
 */

#ifndef _PARLEY_ICELITE_H_INCLUDED_
#define _PARLEY_ICELITE_H_INCLUDED_


#include "parley_stun.h"


/* The ICE-lite check handler's outcome: what the caller does. */
typedef enum {
    PARLEY_ICELITE_DROP = 0,
    PARLEY_ICELITE_SUCCESS,           /* send the success response */
    PARLEY_ICELITE_ERROR              /* send the error response */
} parley_icelite_action_t;

/*
 * Why, for counters. The code in brackets is the error answered; a check
 * that fails authentication is not answered at all (see
 * parley_icelite_check()).
 */
#define PARLEY_ICELITE_REASONS(X)                                           \
    X(OK,                "check answered")                                   \
    X(INDICATION,        "indication (keepalive)")                           \
    X(NOT_REQUEST,       "response to a request never sent")                 \
    X(NOT_BINDING,       "method other than Binding")                        \
    X(NO_FINGERPRINT,    "no FINGERPRINT")                                   \
    X(BAD_FINGERPRINT,   "FINGERPRINT does not match")                       \
    X(NO_CREDENTIALS,    "no USERNAME or MESSAGE-INTEGRITY")                 \
    X(BAD_USERNAME,      "USERNAME is not the local:remote ufrag")           \
    X(BAD_INTEGRITY,     "MESSAGE-INTEGRITY does not match")                 \
    X(UNKNOWN_ATTRIBUTE, "unknown comprehension-required attribute [420]")   \
    X(ROLE_CONFLICT,     "peer is controlled too [487]")                     \
    X(NO_SPACE,          "response buffer too small")                        \
    X(CRYPTO,            "HMAC computation failed")                          \
    X(INVAL,             "bad source address or credentials")

#define PARLEY_ICELITE_REASON_ENUM(name, text)  PARLEY_ICELITE_##name,

typedef enum {
    PARLEY_ICELITE_REASONS(PARLEY_ICELITE_REASON_ENUM)
    PARLEY_ICELITE_NREASONS
} parley_icelite_reason_t;


/*
 * What a response to one of our own checks is (RFC 8445 7.2.5, RFC 7675
 * 5.1): only an authenticated success is consent. The caller matches the
 * transaction id and the source address first.
 */
#define PARLEY_ICELITE_RESPONSES(X)                                         \
    X(SUCCESS,         "authenticated success response")                     \
    X(ERROR,           "authenticated error response")                       \
    X(NOT_RESPONSE,    "a request or an indication")                         \
    X(NOT_BINDING,     "method other than Binding")                          \
    X(NO_FINGERPRINT,  "no FINGERPRINT")                                     \
    X(BAD_FINGERPRINT, "FINGERPRINT does not match")                         \
    X(NO_INTEGRITY,    "no MESSAGE-INTEGRITY")                               \
    X(BAD_INTEGRITY,   "MESSAGE-INTEGRITY does not match")                   \
    X(CRYPTO,          "HMAC computation failed")

#define PARLEY_ICELITE_RESPONSE_ENUM(name, text)                            \
    PARLEY_ICELITE_RESPONSE_##name,

typedef enum {
    PARLEY_ICELITE_RESPONSES(PARLEY_ICELITE_RESPONSE_ENUM)
    PARLEY_ICELITE_NRESPONSES
} parley_icelite_response_t;


/* One ICE session's credentials, as exchanged in SDP. */
typedef struct {
    parley_stun_str_t     local_ufrag;
    parley_stun_str_t     remote_ufrag;    /* len 0: not known yet */
    parley_stun_key_t    *local_key;       /* made from the local ice-pwd */
    unsigned              require_fingerprint:1;
} parley_icelite_t;


typedef struct {
    parley_icelite_action_t  action;
    parley_icelite_reason_t  reason;
    uint16_t                  error_code;  /* PARLEY_ICELITE_ERROR only */
    size_t                    len;         /* bytes of the answer in "out" */
    uint32_t                  priority;    /* the request's PRIORITY or 0 */
    unsigned                  nominated:1; /* success with USE-CANDIDATE */
} parley_icelite_result_t;


const char *parley_icelite_reason_str(parley_icelite_reason_t reason);
const char *parley_icelite_response_str(parley_icelite_response_t r);

/*
 * The ICE-lite answer to a parsed message received from "source": fills
 * *res, builds the answer (if any) into "out", and returns res->action.
 * "out" should hold PARLEY_STUN_RESPONSE_MAX bytes.
 *
 * Only an authenticated check is answered: a success, or an error that
 * carries MESSAGE-INTEGRITY (420, 487). A check without credentials, with
 * a USERNAME not ours or a MESSAGE-INTEGRITY that does not match is
 * dropped with its reason, never answered with 400 or 401: its source
 * address may be forged, and an answer would reflect traffic at it.
 */
parley_icelite_action_t parley_icelite_check(
    const parley_icelite_t *ice, const parley_stun_msg_t *req,
    const parley_stun_addr_t *source, uint8_t *out, size_t cap,
    parley_icelite_result_t *res);

/*
 * Judges a parsed response to a Binding request we sent with "key" (the
 * peer's password, RFC 8445 7.2.2): a Binding success or error with a
 * FINGERPRINT and a MESSAGE-INTEGRITY that match. Nothing is answered.
 */
parley_icelite_response_t parley_icelite_check_response(
    const parley_stun_msg_t *msg, parley_stun_key_t *key);


#endif /* _PARLEY_ICELITE_H_INCLUDED_ */
