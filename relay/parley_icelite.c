/*
 * The ICE-lite agent's STUN side: see parley_icelite.h.
 */

#include <string.h>
#include <openssl/crypto.h>

#include "parley_icelite.h"


static parley_icelite_reason_t parley_icelite_decide(
    const parley_icelite_t *ice, const parley_stun_msg_t *req);
static parley_icelite_reason_t parley_icelite_screen(
    const parley_icelite_t *ice, const parley_stun_msg_t *req);
static parley_icelite_reason_t parley_icelite_authenticate(
    const parley_icelite_t *ice, const parley_stun_msg_t *req);
static int parley_icelite_username_ok(const parley_icelite_t *ice,
    const parley_stun_str_t *username);
static parley_icelite_action_t parley_icelite_success(
    const parley_icelite_t *ice, const parley_stun_msg_t *req,
    const parley_stun_addr_t *source, uint8_t *out, size_t cap,
    parley_icelite_result_t *res);
static parley_icelite_action_t parley_icelite_error(
    const parley_icelite_t *ice, const parley_stun_msg_t *req,
    parley_icelite_reason_t reason, uint8_t *out, size_t cap,
    parley_icelite_result_t *res);
static parley_icelite_action_t parley_icelite_drop(
    parley_icelite_result_t *res, parley_icelite_reason_t reason);
static parley_icelite_reason_t parley_icelite_build_failed(
    parley_stun_rc_t rc);


#define PARLEY_ICELITE_REASON_TEXT(name, text)  text,

static const char  *parley_icelite_reason_text[] = {
    PARLEY_ICELITE_REASONS(PARLEY_ICELITE_REASON_TEXT)
};

static const char  *parley_icelite_response_text[] = {
    PARLEY_ICELITE_RESPONSES(PARLEY_ICELITE_REASON_TEXT)
};


const char *
parley_icelite_reason_str(parley_icelite_reason_t reason)
{
    if ((size_t) reason >= PARLEY_ICELITE_NREASONS) {
        return "unknown reason";
    }

    return parley_icelite_reason_text[reason];
}


const char *
parley_icelite_response_str(parley_icelite_response_t r)
{
    if ((size_t) r >= PARLEY_ICELITE_NRESPONSES) {
        return "unknown response";
    }

    return parley_icelite_response_text[r];
}


/* The ICE-lite check handler */


parley_icelite_action_t
parley_icelite_check(const parley_icelite_t *ice,
    const parley_stun_msg_t *req, const parley_stun_addr_t *source,
    uint8_t *out, size_t cap, parley_icelite_result_t *res)
{
    parley_icelite_reason_t  reason;

    memset(res, 0, sizeof(parley_icelite_result_t));

    reason = parley_icelite_decide(ice, req);

    switch (reason) {

    case PARLEY_ICELITE_OK:
        return parley_icelite_success(ice, req, source, out, cap, res);

    /*
     * RFC 8445 7.3 lets an agent drop what fails authentication instead
     * of answering 400 or 401 (RFC 8489 9.1.3): such a request proves
     * nothing about its source address, so an answer could be aimed at
     * a third party by anyone who forges it.
     */
    case PARLEY_ICELITE_UNKNOWN_ATTRIBUTE:
    case PARLEY_ICELITE_ROLE_CONFLICT:
        return parley_icelite_error(ice, req, reason, out, cap, res);

    default:
        return parley_icelite_drop(res, reason);
    }
}


/* The checks in the order RFC 8489 6.3 and 6.3.1 make them. */
static parley_icelite_reason_t
parley_icelite_decide(const parley_icelite_t *ice,
    const parley_stun_msg_t *req)
{
    parley_icelite_reason_t  reason;

    reason = parley_icelite_screen(ice, req);
    if (reason != PARLEY_ICELITE_OK) {
        return reason;
    }

    reason = parley_icelite_authenticate(ice, req);
    if (reason != PARLEY_ICELITE_OK) {
        return reason;
    }

    /* RFC 8489 6.3.1: unknown attributes are looked at after authentication */
    if (req->unknown_count > 0) {
        return PARLEY_ICELITE_UNKNOWN_ATTRIBUTE;
    }

    /*
     * RFC 8445 6.1.1: facing a lite agent, the full agent is controlling.
     * A peer that says it is controlled is in a role conflict that a lite
     * agent, which never sends checks, cannot solve by switching; so it
     * keeps its role and answers 487 whatever the tie-breakers, which is
     * the outcome RFC 8445 7.3.1.1 gives when the answerer keeps its role.
     */
    if (req->attrs & PARLEY_STUN_HAS_ICE_CONTROLLED) {
        return PARLEY_ICELITE_ROLE_CONFLICT;
    }

    return PARLEY_ICELITE_OK;
}


/* What is silently discarded (RFC 8489 6.3) or never answered. */
static parley_icelite_reason_t
parley_icelite_screen(const parley_icelite_t *ice,
    const parley_stun_msg_t *req)
{
    /* RFC 8445 11: Binding indications are keepalives */
    if (req->class == PARLEY_STUN_INDICATION) {
        return PARLEY_ICELITE_INDICATION;
    }

    /* RFC 8445 2.5: a lite agent sends no checks, so awaits no response */
    if (req->class != PARLEY_STUN_REQUEST) {
        return PARLEY_ICELITE_NOT_REQUEST;
    }

    /* RFC 8489 6.3: a method the agent does not support is discarded */
    if (req->method != PARLEY_STUN_BINDING) {
        return PARLEY_ICELITE_NOT_BINDING;
    }

    /* RFC 8489 6.3 and 7: a FINGERPRINT that does not match is not STUN */
    if ((req->attrs & PARLEY_STUN_HAS_FINGERPRINT) == 0) {
        return ice->require_fingerprint ? PARLEY_ICELITE_NO_FINGERPRINT
                                        : PARLEY_ICELITE_OK;
    }

    if (parley_stun_verify_fingerprint(req) != PARLEY_STUN_OK) {
        return PARLEY_ICELITE_BAD_FINGERPRINT;
    }

    return PARLEY_ICELITE_OK;
}


/* RFC 8489 9.1.3 with the username rule of RFC 8445 7.3 */
static parley_icelite_reason_t
parley_icelite_authenticate(const parley_icelite_t *ice,
    const parley_stun_msg_t *req)
{
    if ((req->attrs & PARLEY_STUN_HAS_USERNAME) == 0
        || (req->attrs & (PARLEY_STUN_HAS_INTEGRITY
                          | PARLEY_STUN_HAS_INTEGRITY_SHA256))
           == 0)
    {
        return PARLEY_ICELITE_NO_CREDENTIALS;
    }

    if (!parley_icelite_username_ok(ice, &req->username)) {
        return PARLEY_ICELITE_BAD_USERNAME;
    }

    switch (parley_stun_verify_integrity(req, ice->local_key)) {

    case PARLEY_STUN_OK:
        return PARLEY_ICELITE_OK;
    case PARLEY_STUN_ERR_INTEGRITY_MISMATCH:
        return PARLEY_ICELITE_BAD_INTEGRITY;
    case PARLEY_STUN_ERR_INVAL:
        return PARLEY_ICELITE_INVAL;
    default:
        return PARLEY_ICELITE_CRYPTO;
    }
}


/*
 * RFC 8445 7.3: the receiver of a check sees USERNAME as "its own ufrag,
 * a colon, the sender's ufrag". A check may arrive before the answer that
 * carries the sender's ufrag; until the caller knows it, any second part
 * is taken, MESSAGE-INTEGRITY with the local password still proving who
 * sent the check.
 */
static int
parley_icelite_username_ok(const parley_icelite_t *ice,
    const parley_stun_str_t *username)
{
    size_t                    n;
    const parley_stun_str_t  *local, *remote;

    local = &ice->local_ufrag;
    remote = &ice->remote_ufrag;
    n = local->len;

    if (n == 0 || username->len < n + 1
        || memcmp(username->data, local->data, n) != 0
        || username->data[n] != ':')
    {
        return 0;
    }

    if (remote->len == 0) {
        return 1;
    }

    return username->len == n + 1 + remote->len
           && memcmp(username->data + n + 1, remote->data, remote->len) == 0;
}


static parley_icelite_action_t
parley_icelite_success(const parley_icelite_t *ice,
    const parley_stun_msg_t *req, const parley_stun_addr_t *source,
    uint8_t *out, size_t cap, parley_icelite_result_t *res)
{
    parley_stun_rc_t  rc;

    /* RFC 8445 7.3.1.2: the mapped address is the check's source */
    rc = parley_stun_binding_success(out, cap, req->tid, source,
                                     ice->local_key, &res->len);
    if (rc != PARLEY_STUN_OK) {
        return parley_icelite_drop(res, parley_icelite_build_failed(rc));
    }

    res->action = PARLEY_ICELITE_SUCCESS;
    res->reason = PARLEY_ICELITE_OK;
    res->priority = req->priority;

    /* RFC 8445 7.3.2: a successful check with USE-CANDIDATE nominates */
    res->nominated = (req->attrs & PARLEY_STUN_HAS_USE_CANDIDATE) != 0;

    return PARLEY_ICELITE_SUCCESS;
}


static parley_icelite_action_t
parley_icelite_error(const parley_icelite_t *ice,
    const parley_stun_msg_t *req, parley_icelite_reason_t reason,
    uint8_t *out, size_t cap, parley_icelite_result_t *res)
{
    size_t            nunknown;
    unsigned          code;
    parley_stun_rc_t  rc;

    /*
     * RFC 8489 9.1.3: a request that passed authentication is answered
     * with MESSAGE-INTEGRITY under the same password.
     */
    if (reason == PARLEY_ICELITE_UNKNOWN_ATTRIBUTE) {
        code = 420;
        nunknown = req->unknown_count;

    } else {
        code = 487;
        nunknown = 0;
    }

    rc = parley_stun_binding_error(out, cap, req->tid, code, req->unknown,
                                   nunknown, ice->local_key, &res->len);
    if (rc != PARLEY_STUN_OK) {
        return parley_icelite_drop(res, parley_icelite_build_failed(rc));
    }

    res->action = PARLEY_ICELITE_ERROR;
    res->reason = reason;
    res->error_code = (uint16_t) code;

    return PARLEY_ICELITE_ERROR;
}


static parley_icelite_action_t
parley_icelite_drop(parley_icelite_result_t *res,
    parley_icelite_reason_t reason)
{
    res->action = PARLEY_ICELITE_DROP;
    res->reason = reason;
    res->len = 0;

    return PARLEY_ICELITE_DROP;
}


static parley_icelite_reason_t
parley_icelite_build_failed(parley_stun_rc_t rc)
{
    switch (rc) {

    case PARLEY_STUN_ERR_NOSPACE:
        return PARLEY_ICELITE_NO_SPACE;
    case PARLEY_STUN_ERR_CRYPTO:
        return PARLEY_ICELITE_CRYPTO;
    default:
        return PARLEY_ICELITE_INVAL;
    }
}


/* Responses to our own checks */


/*
 * RFC 8445 7.2.5.1 with 7 (FINGERPRINT in every ICE message) and RFC
 * 8489 9.1.4: a response is authenticated with the password its request
 * was signed with. The FINGERPRINT comes first: it costs a CRC, not an
 * HMAC.
 */
parley_icelite_response_t
parley_icelite_check_response(const parley_stun_msg_t *msg,
    parley_stun_key_t *key)
{
    if (msg->class != PARLEY_STUN_SUCCESS && msg->class != PARLEY_STUN_ERROR)
    {
        return PARLEY_ICELITE_RESPONSE_NOT_RESPONSE;
    }

    if (msg->method != PARLEY_STUN_BINDING) {
        return PARLEY_ICELITE_RESPONSE_NOT_BINDING;
    }

    switch (parley_stun_verify_fingerprint(msg)) {

    case PARLEY_STUN_OK:
        break;
    case PARLEY_STUN_ERR_NO_FINGERPRINT:
        return PARLEY_ICELITE_RESPONSE_NO_FINGERPRINT;
    default:
        return PARLEY_ICELITE_RESPONSE_BAD_FINGERPRINT;
    }

    switch (parley_stun_verify_integrity(msg, key)) {

    case PARLEY_STUN_OK:
        break;
    case PARLEY_STUN_ERR_NO_INTEGRITY:
        return PARLEY_ICELITE_RESPONSE_NO_INTEGRITY;
    case PARLEY_STUN_ERR_INTEGRITY_MISMATCH:
        return PARLEY_ICELITE_RESPONSE_BAD_INTEGRITY;
    default:
        return PARLEY_ICELITE_RESPONSE_CRYPTO;
    }

    return msg->class == PARLEY_STUN_SUCCESS ? PARLEY_ICELITE_RESPONSE_SUCCESS
                                             : PARLEY_ICELITE_RESPONSE_ERROR;
}
