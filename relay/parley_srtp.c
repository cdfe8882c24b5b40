/*
 * SRTP and SRTCP through libsrtp2: see parley_srtp.h.
 *
 * The work per packet is libsrtp2's; what is done here is checking what
 * libsrtp2 takes on trust (that the buffer has room for the trailer, that
 * the length fits an int, that the packet can hold a tag at all) and
 * mapping its status codes to the reasons a caller counts drops by.
 */

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE                  /* explicit_bzero() under -std=c11 */
#endif

#include <string.h>
#include <arpa/inet.h>

#include "parley_srtp.h"
#include "parley_srtp_ossl.h"


#define PARLEY_SRTP_RTP_HEADER_LEN     12    /* RFC 3550 5.1 */
#define PARLEY_SRTP_RTCP_HEADER_LEN    8     /* RFC 3550 6.4.1, to the SSRC */
#define PARLEY_SRTP_SRTCP_INDEX_LEN    4     /* RFC 3711 3.4: E || index */
#define PARLEY_SRTP_CM_TAG_LEN         10    /* RFC 3711 5.2: 80 bits */
#define PARLEY_SRTP_GCM_TAG_LEN        16    /* RFC 7714 12 */


static int parley_srtp_profile_valid(parley_srtp_profile_t profile);
static size_t parley_srtp_tag_len(parley_srtp_profile_t profile);
static parley_srtp_rc_t parley_srtp_check_master(
    parley_srtp_profile_t profile, const parley_srtp_master_t *master);
static void parley_srtp_set_policy(srtp_policy_t *policy,
    parley_srtp_profile_t profile, parley_srtp_direction_t direction,
    unsigned char *key, unsigned window);
static parley_srtp_rc_t parley_srtp_check_session(
    const parley_srtp_session_t *s, parley_srtp_direction_t direction,
    const uint8_t *buf, const size_t *len);
static parley_srtp_rc_t parley_srtp_check_protect(
    const parley_srtp_session_t *s, const uint8_t *buf, const size_t *len,
    size_t cap, size_t header_len);
static parley_srtp_rc_t parley_srtp_check_unprotect(
    const parley_srtp_session_t *s, const uint8_t *buf, const size_t *len,
    size_t fixed_len);
static parley_srtp_rc_t parley_srtp_status(srtp_err_status_t status);


#define PARLEY_SRTP_RESULT_TEXT(name, text)  text,

static const char  *parley_srtp_rc_text[] = {
    PARLEY_SRTP_RESULTS(PARLEY_SRTP_RESULT_TEXT)
};

/* libsrtp2's crypto kernel is per process; so is this flag. */
static int  parley_srtp_initialised;


parley_srtp_rc_t
parley_srtp_init(void)
{
    srtp_err_status_t  status;

    if (parley_srtp_initialised) {
        return PARLEY_SRTP_OK;
    }

    status = srtp_init();
    if (status != srtp_err_status_ok) {
        return parley_srtp_status(status);
    }

    status = parley_srtp_ossl_install();
    if (status != srtp_err_status_ok) {
        (void) srtp_shutdown();
        return parley_srtp_status(status);
    }

    parley_srtp_initialised = 1;

    return PARLEY_SRTP_OK;
}


void
parley_srtp_shutdown(void)
{
    if (!parley_srtp_initialised) {
        return;
    }

    (void) srtp_shutdown();

    parley_srtp_initialised = 0;
}


const char *
parley_srtp_rc_str(parley_srtp_rc_t rc)
{
    size_t  n;

    n = sizeof(parley_srtp_rc_text) / sizeof(parley_srtp_rc_text[0]);

    if ((size_t) rc >= n) {
        return "unknown result";
    }

    return parley_srtp_rc_text[rc];
}


parley_srtp_rc_t
parley_srtp_profile_from_dtls(uint16_t id, parley_srtp_profile_t *profile)
{
    switch (id) {

    case PARLEY_SRTP_DTLS_AES128_CM_SHA1_80:
        *profile = PARLEY_SRTP_AES128_CM_SHA1_80;
        return PARLEY_SRTP_OK;

    case PARLEY_SRTP_DTLS_AEAD_AES_128_GCM:
        *profile = PARLEY_SRTP_AEAD_AES_128_GCM;
        return PARLEY_SRTP_OK;

    default:
        return PARLEY_SRTP_ERR_PROFILE;
    }
}


/*
 * OpenSSL's names, as SSL_CTX_set_tlsext_use_srtp() takes them; RFC 5764
 * 4.1.2 calls the first SRTP_AES128_CM_HMAC_SHA1_80.
 */
const char *
parley_srtp_profile_name(parley_srtp_profile_t profile)
{
    switch (profile) {

    case PARLEY_SRTP_AES128_CM_SHA1_80:
        return "SRTP_AES128_CM_SHA1_80";

    case PARLEY_SRTP_AEAD_AES_128_GCM:
        return "SRTP_AEAD_AES_128_GCM";

    default:
        return "unknown";
    }
}


size_t
parley_srtp_salt_len(parley_srtp_profile_t profile)
{
    switch (profile) {

    case PARLEY_SRTP_AES128_CM_SHA1_80:
        return PARLEY_SRTP_CM_SALT_LEN;

    case PARLEY_SRTP_AEAD_AES_128_GCM:
        return PARLEY_SRTP_GCM_SALT_LEN;

    default:
        return 0;
    }
}


parley_srtp_rc_t
parley_srtp_create(parley_srtp_session_t *s, parley_srtp_profile_t profile,
    parley_srtp_direction_t direction, const parley_srtp_master_t *master,
    unsigned window)
{
    unsigned char      key[PARLEY_SRTP_KEY_LEN + PARLEY_SRTP_MAX_SALT_LEN];
    srtp_err_status_t  status;
    srtp_policy_t      policy;
    parley_srtp_rc_t   rc;

    if (s == NULL || master == NULL
        || (direction != PARLEY_SRTP_INBOUND
            && direction != PARLEY_SRTP_OUTBOUND))
    {
        return PARLEY_SRTP_ERR_INVAL;
    }

    if (!parley_srtp_initialised) {
        return PARLEY_SRTP_ERR_NOT_READY;
    }

    rc = parley_srtp_check_master(profile, master);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    if (window == 0) {
        window = PARLEY_SRTP_WINDOW_DEFAULT;
    }

    if (window < PARLEY_SRTP_WINDOW_MIN || window > PARLEY_SRTP_WINDOW_MAX) {
        return PARLEY_SRTP_ERR_WINDOW;
    }

    /* libsrtp2 takes the master key and salt as one string, key first */
    memcpy(key, master->key, master->key_len);
    memcpy(key + master->key_len, master->salt, master->salt_len);

    parley_srtp_set_policy(&policy, profile, direction, key, window);

    s->ctx = NULL;
    status = srtp_create(&s->ctx, &policy);

    explicit_bzero(key, sizeof(key));

    if (status != srtp_err_status_ok) {
        s->ctx = NULL;
        return parley_srtp_status(status);
    }

    s->profile = profile;
    s->direction = direction;

    return PARLEY_SRTP_OK;
}


void
parley_srtp_destroy(parley_srtp_session_t *s)
{
    if (s == NULL || s->ctx == NULL) {
        return;
    }

    /* it fails only on a session it did not make; nothing to do then */
    (void) srtp_dealloc(s->ctx);

    s->ctx = NULL;
}


parley_srtp_rc_t
parley_srtp_protect_rtp(parley_srtp_session_t *s, uint8_t *buf, size_t *len,
    size_t cap)
{
    int               n;
    parley_srtp_rc_t  rc;

    rc = parley_srtp_check_protect(s, buf, len, cap,
                                   PARLEY_SRTP_RTP_HEADER_LEN);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    n = (int) *len;

    rc = parley_srtp_status(srtp_protect(s->ctx, buf, &n));
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    *len = (size_t) n;

    return PARLEY_SRTP_OK;
}


parley_srtp_rc_t
parley_srtp_unprotect_rtp(parley_srtp_session_t *s, uint8_t *buf,
    size_t *len)
{
    int               n;
    parley_srtp_rc_t  rc;

    rc = parley_srtp_check_unprotect(s, buf, len, PARLEY_SRTP_RTP_HEADER_LEN);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    n = (int) *len;

    rc = parley_srtp_status(srtp_unprotect(s->ctx, buf, &n));
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    *len = (size_t) n;

    return PARLEY_SRTP_OK;
}


parley_srtp_rc_t
parley_srtp_protect_rtcp(parley_srtp_session_t *s, uint8_t *buf,
    size_t *len, size_t cap)
{
    int               n;
    parley_srtp_rc_t  rc;

    rc = parley_srtp_check_protect(s, buf, len, cap,
                                   PARLEY_SRTP_RTCP_HEADER_LEN);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    n = (int) *len;

    rc = parley_srtp_status(srtp_protect_rtcp(s->ctx, buf, &n));
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    *len = (size_t) n;

    return PARLEY_SRTP_OK;
}


parley_srtp_rc_t
parley_srtp_unprotect_rtcp(parley_srtp_session_t *s, uint8_t *buf,
    size_t *len)
{
    int               n;
    parley_srtp_rc_t  rc;

    rc = parley_srtp_check_unprotect(s, buf, len,
                                     PARLEY_SRTP_RTCP_HEADER_LEN
                                     + PARLEY_SRTP_SRTCP_INDEX_LEN);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    n = (int) *len;

    rc = parley_srtp_status(srtp_unprotect_rtcp(s->ctx, buf, &n));
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    *len = (size_t) n;

    return PARLEY_SRTP_OK;
}


parley_srtp_rc_t
parley_srtp_forget_ssrc(parley_srtp_session_t *s, uint32_t ssrc)
{
    if (s == NULL || s->ctx == NULL) {
        return PARLEY_SRTP_ERR_INVAL;
    }

    /* libsrtp2 takes the SSRC in network byte order here */
    return parley_srtp_status(srtp_remove_stream(s->ctx, htonl(ssrc)));
}


static int
parley_srtp_profile_valid(parley_srtp_profile_t profile)
{
    return profile == PARLEY_SRTP_AES128_CM_SHA1_80
           || profile == PARLEY_SRTP_AEAD_AES_128_GCM;
}


static size_t
parley_srtp_tag_len(parley_srtp_profile_t profile)
{
    return (profile == PARLEY_SRTP_AEAD_AES_128_GCM)
           ? PARLEY_SRTP_GCM_TAG_LEN : PARLEY_SRTP_CM_TAG_LEN;
}


static parley_srtp_rc_t
parley_srtp_check_master(parley_srtp_profile_t profile,
    const parley_srtp_master_t *master)
{
    if (!parley_srtp_profile_valid(profile)) {
        return PARLEY_SRTP_ERR_PROFILE;
    }

    if (master->key == NULL || master->salt == NULL) {
        return PARLEY_SRTP_ERR_INVAL;
    }

    if (master->key_len != PARLEY_SRTP_KEY_LEN
        || master->salt_len != parley_srtp_salt_len(profile))
    {
        return PARLEY_SRTP_ERR_KEY_LENGTH;
    }

    return PARLEY_SRTP_OK;
}


/*
 * One wildcard policy for every SSRC of the direction. SRTCP is always
 * protected with the same transform as SRTP (RFC 5764 4.1.2, RFC 7714
 * 14.2). An index is protected once (allow_repeat_tx off): protecting it
 * again, even with the same bytes, is refused, so that no caller can
 * reuse a keystream or a GCM nonce on another plaintext (RFC 3711 9.1).
 */
static void
parley_srtp_set_policy(srtp_policy_t *policy, parley_srtp_profile_t profile,
    parley_srtp_direction_t direction, unsigned char *key, unsigned window)
{
    memset(policy, 0, sizeof(srtp_policy_t));

    if (profile == PARLEY_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);

    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
    }

    if (direction == PARLEY_SRTP_OUTBOUND) {
        policy->ssrc.type = ssrc_any_outbound;
        policy->allow_repeat_tx = 0;

    } else {
        policy->ssrc.type = ssrc_any_inbound;
    }

    policy->key = key;
    policy->window_size = window;
    policy->next = NULL;
}


static parley_srtp_rc_t
parley_srtp_check_session(const parley_srtp_session_t *s,
    parley_srtp_direction_t direction, const uint8_t *buf, const size_t *len)
{
    if (s == NULL || s->ctx == NULL || buf == NULL || len == NULL) {
        return PARLEY_SRTP_ERR_INVAL;
    }

    if (s->direction != direction) {
        return PARLEY_SRTP_ERR_DIRECTION;
    }

    if (*len > PARLEY_SRTP_MAX_PACKET) {
        return PARLEY_SRTP_ERR_TOO_LONG;
    }

    return PARLEY_SRTP_OK;
}


/*
 * libsrtp2 writes the trailer past *len without knowing the buffer's size
 * (srtp.h: "assumes that it can write SRTP_MAX_TRAILER_LEN"): the room is
 * checked here, against the figure it documents, not the bytes it adds.
 */
static parley_srtp_rc_t
parley_srtp_check_protect(const parley_srtp_session_t *s, const uint8_t *buf,
    const size_t *len, size_t cap, size_t header_len)
{
    parley_srtp_rc_t  rc;

    rc = parley_srtp_check_session(s, PARLEY_SRTP_OUTBOUND, buf, len);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    if (*len < header_len) {
        return PARLEY_SRTP_ERR_TOO_SHORT;
    }

    if (cap < *len || cap - *len < PARLEY_SRTP_TRAILER_ROOM) {
        return PARLEY_SRTP_ERR_NOSPACE;
    }

    return PARLEY_SRTP_OK;
}


/*
 * fixed_len is what the packet holds besides its tag at the least: the RTP
 * header, or the RTCP header and the SRTCP index.
 */
static parley_srtp_rc_t
parley_srtp_check_unprotect(const parley_srtp_session_t *s,
    const uint8_t *buf, const size_t *len, size_t fixed_len)
{
    parley_srtp_rc_t  rc;

    rc = parley_srtp_check_session(s, PARLEY_SRTP_INBOUND, buf, len);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    if (*len < fixed_len + parley_srtp_tag_len(s->profile)) {
        return PARLEY_SRTP_ERR_TOO_SHORT;
    }

    return PARLEY_SRTP_OK;
}


static parley_srtp_rc_t
parley_srtp_status(srtp_err_status_t status)
{
    switch (status) {

    case srtp_err_status_ok:
        return PARLEY_SRTP_OK;

    case srtp_err_status_auth_fail:
        return PARLEY_SRTP_ERR_AUTH;

    case srtp_err_status_replay_fail:
        return PARLEY_SRTP_ERR_REPLAY;

    case srtp_err_status_replay_old:
        return PARLEY_SRTP_ERR_REPLAY_OLD;

    /* a CSRC list or header extension that runs past the end */
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
        return PARLEY_SRTP_ERR_MALFORMED;

    case srtp_err_status_no_ctx:
        return PARLEY_SRTP_ERR_NOT_FOUND;

    case srtp_err_status_key_expired:
        return PARLEY_SRTP_ERR_KEY_EXPIRED;

    case srtp_err_status_alloc_fail:
        return PARLEY_SRTP_ERR_NOMEM;

    default:
        return PARLEY_SRTP_ERR_LIBRARY;
    }
}
