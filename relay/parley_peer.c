/*
 * One peer connection on the SFU side: see parley_peer.h.
 *
 * A received datagram goes by its RFC 7983 class: STUN to the ICE-lite
 * handler, DTLS to the transport, SRTP and SRTCP to the inbound session.
 * Every way through ends in one drop reason (PARLEY_PEER_DROP_NONE when
 * the datagram was taken), counted once.
 *
 * The validated addresses ("paths") are a small array: a browser brings
 * one or two (IPv4 and IPv6, host and reflexive), and PARLEY_PEER_MAX_PATHS
 * bounds what a client can make the endpoint remember. Each path carries
 * at most one consent check of ours (RFC 7675) at a time, so the
 * transactions a peer keeps are bounded the same way, and need nothing
 * allocated.
 */

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "parley_demux.h"
#include "parley_peer.h"


typedef struct {
    parley_stun_addr_t        addr;
    struct sockaddr_storage   sa;          /* the same, for send() */
    socklen_t                 salen;
    uint64_t                  last_check_ms;  /* a check or an answer */
    uint32_t                  priority;    /* of its latest nomination */
    unsigned                  generation;  /* the ICE session of that */

    /* our consent check to this address */
    uint8_t                   tid[PARLEY_STUN_TID_SIZE];
    unsigned                  sends;       /* of the transaction so far */
    uint64_t                  next_ms;     /* resend, or give up, then */
    uint64_t                  retry_ms;    /* no new one before */
    uint64_t                  consent_ms;  /* its last answer to ours */
    uint64_t                  fresh_ms;    /* the next freshness check */

    unsigned                  in_use:1;
    unsigned                  nominated:1;
    unsigned                  consent:1;   /* it answered our check */
    unsigned                  checking:1;  /* our check is out (with
                                              consent: a freshness one) */
} parley_peer_path_t;


typedef struct {
    char                      ufrag[PARLEY_PEER_UFRAG_MAX + 1];
    size_t                    ufrag_len;
    char                      pwd[PARLEY_PEER_PWD_MAX + 1];
    size_t                    pwd_len;
    char                      remote_ufrag[PARLEY_PEER_UFRAG_MAX + 1];
    size_t                    remote_ufrag_len;
    char                      remote_pwd[PARLEY_PEER_PWD_MAX + 1];
    size_t                    remote_pwd_len;
} parley_peer_credentials_t;


struct parley_peer_s {
    parley_peer_handler_t          handler;
    parley_peer_state_t            state;
    parley_dtls_role_t             role;
    unsigned                       consent_timeout_ms;
    unsigned                       consent_interval_ms;
    unsigned                       handshake_timeout_ms;
    unsigned                       srtp_window;

    parley_peer_credentials_t      creds;
    parley_stun_key_t              local_key;   /* from creds.pwd */
    parley_stun_key_t              remote_key;  /* creds.remote_pwd's */
    parley_icelite_t              ice;         /* points into creds */
    unsigned                       generation;  /* ICE restarts so far */
    uint64_t                       tie_breaker; /* RFC 8445 7.1.3 */

    parley_peer_path_t             paths[PARLEY_PEER_MAX_PATHS];
    int                            selected;    /* index, -1: none */
    int                            dtls_from;   /* last DTLS source with
                                                   consent, -1 */
    uint64_t                       alive_ms;    /* last check or (re)start */
    uint64_t                       nominated_ms;
    unsigned                       nominated_once:1;
    unsigned                       secure:1;
    unsigned                       shed_dtls:1;  /* at the first SRTP */

    /* the first DTLS datagram, until an address has consent */
    parley_stun_addr_t             held_from;
    size_t                         held_len;
    uint8_t                        held[PARLEY_PEER_DTLS_HOLD_MAX];

    parley_dtls_t                 *dtls;
    parley_srtp_session_t          srtp_in;
    parley_srtp_session_t          srtp_out;
    parley_srtp_profile_t          profile;

    const parley_peer_registry_t  *registry;
    void                          *registry_data;

    parley_peer_stats_t            stats;
};


static parley_peer_rc_t parley_peer_credentials_make(
    parley_peer_credentials_t *c, const parley_peer_ice_t *ice);
static parley_peer_rc_t parley_peer_credential(char *dst, size_t *dst_len,
    const parley_stun_str_t *given, size_t min, size_t max, size_t gen_len);
static int parley_peer_ice_chars(const uint8_t *s, size_t len);
static parley_peer_rc_t parley_peer_remote_credentials(
    parley_peer_credentials_t *c, const parley_stun_str_t *ufrag,
    const parley_stun_str_t *pwd);
static parley_peer_rc_t parley_peer_keys_make(
    const parley_peer_credentials_t *c, parley_stun_key_t *key,
    parley_stun_key_t *remote_key);
static void parley_peer_credentials_commit(parley_peer_t *peer,
    const parley_peer_credentials_t *c, parley_stun_key_t *key,
    parley_stun_key_t *remote_key);
static parley_peer_rc_t parley_peer_dtls_create(parley_peer_t *peer,
    parley_dtls_identity_t *identity, const parley_peer_conf_t *conf);
static void parley_peer_free(parley_peer_t *peer);

static parley_peer_drop_t parley_peer_stun(parley_peer_t *peer,
    const parley_stun_addr_t *from, const parley_stun_msg_t *msg,
    uint64_t now_ms);
static parley_peer_drop_t parley_peer_stun_unanswered(
    parley_icelite_reason_t reason);
static parley_peer_drop_t parley_peer_dtls_in(parley_peer_t *peer,
    const parley_stun_addr_t *from, const uint8_t *buf, size_t len);
static parley_peer_drop_t parley_peer_dtls_hold(parley_peer_t *peer,
    const parley_stun_addr_t *from, const uint8_t *buf, size_t len);
static void parley_peer_dtls_release(parley_peer_t *peer);
static int parley_peer_dtls_target(const parley_peer_t *peer);
static void parley_peer_shed_dtls(parley_peer_t *peer);
static parley_peer_drop_t parley_peer_srtp_in(parley_peer_t *peer,
    const parley_stun_addr_t *from, uint8_t *buf, size_t len, int rtcp);
static parley_peer_drop_t parley_peer_srtp_drop(parley_srtp_rc_t rc);
static parley_peer_drop_t parley_peer_drop(parley_peer_t *peer,
    parley_peer_drop_t drop);

static int parley_peer_path_find(const parley_peer_t *peer,
    const parley_stun_addr_t *addr);
static int parley_peer_path_validate(parley_peer_t *peer,
    const parley_stun_addr_t *from, uint64_t now_ms);
static int parley_peer_path_slot(const parley_peer_t *peer);
static void parley_peer_path_forget(parley_peer_t *peer, int i);
static void parley_peer_forget_all(parley_peer_t *peer);
static int parley_peer_path_best(const parley_peer_t *peer, int except);
static void parley_peer_nominate(parley_peer_t *peer, int i,
    uint32_t priority, uint64_t now_ms);
static void parley_peer_select(parley_peer_t *peer);

static void parley_peer_consent_want(parley_peer_t *peer, int i,
    uint64_t now_ms);
static int parley_peer_has_consent(const parley_peer_t *peer);
static void parley_peer_consent_begin(parley_peer_t *peer, int i,
    uint64_t now_ms);
static void parley_peer_consent_send(parley_peer_t *peer, int i,
    uint64_t now_ms);
static void parley_peer_consent_expire(parley_peer_t *peer, uint64_t now_ms);
static parley_peer_drop_t parley_peer_consent_response(parley_peer_t *peer,
    const parley_stun_addr_t *from, const parley_stun_msg_t *msg,
    uint64_t now_ms);
static void parley_peer_consent_end(parley_peer_path_t *p, uint64_t now_ms);
static void parley_peer_consent_granted(parley_peer_t *peer,
    parley_peer_path_t *p, uint64_t now_ms);
static void parley_peer_consent_refresh(parley_peer_t *peer,
    uint64_t now_ms);
static uint64_t parley_peer_consent_interval(const parley_peer_t *peer);
static void parley_peer_consent_event(parley_peer_t *peer,
    parley_peer_consent_event_t event);
static void parley_peer_consent_lapse(parley_peer_t *peer, int i,
    uint64_t now_ms);
static void parley_peer_expire(parley_peer_t *peer, uint64_t now_ms);
static uint64_t parley_peer_min(uint64_t a, uint64_t b);

static void parley_peer_set_state(parley_peer_t *peer,
    parley_peer_state_t state);
static void parley_peer_fail(parley_peer_t *peer,
    parley_peer_failure_t failure);
static void parley_peer_end(parley_peer_t *peer, parley_peer_state_t state);

static parley_peer_rc_t parley_peer_check_send(parley_peer_t *peer);
static parley_peer_rc_t parley_peer_protect(parley_peer_t *peer, uint8_t *buf,
    size_t *len, size_t cap, int rtcp);
static void parley_peer_send_path(parley_peer_t *peer,
    const parley_peer_path_t *path, const uint8_t *buf, size_t len);
static void parley_peer_send_addr(parley_peer_t *peer,
    const parley_stun_addr_t *to, const uint8_t *buf, size_t len);

static void parley_peer_dtls_send(void *data, const uint8_t *buf,
    size_t len);
static void parley_peer_on_dtls_connected(void *data,
    const parley_dtls_srtp_keys_t *keys);
static void parley_peer_on_dtls_app_data(void *data, const uint8_t *buf,
    size_t len);
static void parley_peer_on_dtls_error(void *data, parley_dtls_rc_t reason);
static void parley_peer_on_dtls_closed(void *data);
static parley_srtp_rc_t parley_peer_srtp_create(parley_peer_t *peer,
    const parley_dtls_srtp_keys_t *keys);


/*
 * RFC 8445 5.1.2.1 and 7.1.1: the PRIORITY of our checks, the one a
 * peer-reflexive candidate of ours would have (type preference 110, one
 * local candidate, component 1).
 */
#define PARLEY_PEER_CONSENT_PRIORITY  ((110u << 24) | (65535u << 8) | 255u)

/* Our checks' USERNAME: the two ufrags and a colon. */
#define PARLEY_PEER_USERNAME_MAX      (2 * PARLEY_PEER_UFRAG_MAX + 1)

/* Header, USERNAME, PRIORITY, ICE-CONTROLLED, MI, FINGERPRINT */
#define PARLEY_PEER_REQUEST_MAX       (20 + 4 + PARLEY_PEER_USERNAME_MAX + 3 \
                                       + 8 + 12 + 24 + 8)


#define PARLEY_PEER_TEXT(name, text)  text,

static const char  *parley_peer_rc_text[] = {
    PARLEY_PEER_RESULTS(PARLEY_PEER_TEXT)
};

static const char  *parley_peer_drop_text[] = {
    PARLEY_PEER_DROPS(PARLEY_PEER_TEXT)
};

static const char  *parley_peer_failure_text[] = {
    PARLEY_PEER_FAILURES(PARLEY_PEER_TEXT)
};

static const char  *parley_peer_consent_text[] = {
    PARLEY_PEER_CONSENT_EVENTS(PARLEY_PEER_TEXT)
};

static const char  *parley_peer_state_text[] = {
    "new", "checking", "connected", "failed", "closed"
};

/* RFC 8839 5.4: ice-char = ALPHA / DIGIT / "+" / "/"; 64 of them */
static const char  parley_peer_ice_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


const char *
parley_peer_rc_str(parley_peer_rc_t rc)
{
    return (size_t) rc < PARLEY_PEER_NRESULTS ? parley_peer_rc_text[rc]
                                              : "unknown result";
}


const char *
parley_peer_drop_str(parley_peer_drop_t drop)
{
    return (size_t) drop < PARLEY_PEER_NDROPS ? parley_peer_drop_text[drop]
                                              : "unknown drop";
}


const char *
parley_peer_state_str(parley_peer_state_t state)
{
    return (size_t) state <= PARLEY_PEER_CLOSED
           ? parley_peer_state_text[state] : "unknown state";
}


const char *
parley_peer_failure_str(parley_peer_failure_t failure)
{
    return (size_t) failure < PARLEY_PEER_NFAILURES
           ? parley_peer_failure_text[failure] : "unknown failure";
}


const char *
parley_peer_consent_event_str(parley_peer_consent_event_t event)
{
    return (size_t) event < PARLEY_PEER_NCONSENT_EVENTS
           ? parley_peer_consent_text[event] : "unknown consent event";
}


parley_peer_rc_t
parley_peer_create(parley_peer_t **out, parley_dtls_identity_t *identity,
    const parley_peer_conf_t *conf, uint64_t now_ms)
{
    parley_peer_t               *peer;
    parley_peer_rc_t             rc;
    parley_stun_key_t            key, remote_key;
    parley_peer_credentials_t    creds;

    if (out == NULL || identity == NULL || conf == NULL
        || conf->handler.send == NULL
        || (conf->dtls_role != PARLEY_DTLS_ROLE_CLIENT
            && conf->dtls_role != PARLEY_DTLS_ROLE_SERVER))
    {
        return PARLEY_PEER_ERR_INVAL;
    }

    *out = NULL;

    rc = parley_peer_credentials_make(&creds, &conf->ice);
    if (rc != PARLEY_PEER_OK) {
        return rc;
    }

    rc = parley_peer_keys_make(&creds, &key, &remote_key);
    if (rc != PARLEY_PEER_OK) {
        OPENSSL_cleanse(&creds, sizeof(creds));
        return rc;
    }

    peer = calloc(1, sizeof(parley_peer_t));

    if (peer == NULL
        || RAND_bytes((unsigned char *) &peer->tie_breaker,
                      sizeof(peer->tie_breaker)) != 1)
    {
        rc = peer == NULL ? PARLEY_PEER_ERR_NOMEM : PARLEY_PEER_ERR_CRYPTO;
        free(peer);
        parley_stun_key_free(&key);
        parley_stun_key_free(&remote_key);
        OPENSSL_cleanse(&creds, sizeof(creds));
        return rc;
    }

    parley_peer_credentials_commit(peer, &creds, &key, &remote_key);
    OPENSSL_cleanse(&creds, sizeof(creds));

    peer->handler = conf->handler;
    peer->state = PARLEY_PEER_NEW;
    peer->role = conf->dtls_role;
    peer->consent_timeout_ms = conf->consent_timeout_ms
                               ? conf->consent_timeout_ms
                               : PARLEY_PEER_CONSENT_TIMEOUT_MS;
    peer->consent_interval_ms = conf->consent_interval_ms
                                ? conf->consent_interval_ms
                                : PARLEY_PEER_CONSENT_INTERVAL_MS;
    peer->handshake_timeout_ms = conf->handshake_timeout_ms
                                 ? conf->handshake_timeout_ms
                                 : PARLEY_PEER_HANDSHAKE_TIMEOUT_MS;
    peer->srtp_window = conf->srtp_window;
    peer->shed_dtls = conf->shed_dtls;
    peer->selected = -1;
    peer->dtls_from = -1;
    peer->alive_ms = now_ms;

    /* RFC 8445 7: checks without FINGERPRINT are not ICE's */
    peer->ice.require_fingerprint = 1;

    rc = parley_peer_dtls_create(peer, identity, conf);
    if (rc != PARLEY_PEER_OK) {
        parley_peer_free(peer);
        return rc;
    }

    *out = peer;

    return PARLEY_PEER_OK;
}


/* Local credentials checked or generated, the remote ones checked. */
static parley_peer_rc_t
parley_peer_credentials_make(parley_peer_credentials_t *c,
    const parley_peer_ice_t *ice)
{
    parley_peer_rc_t  rc;

    memset(c, 0, sizeof(parley_peer_credentials_t));

    rc = parley_peer_credential(c->ufrag, &c->ufrag_len, &ice->local_ufrag,
                                PARLEY_PEER_UFRAG_MIN, PARLEY_PEER_UFRAG_MAX,
                                PARLEY_PEER_UFRAG_LEN);
    if (rc != PARLEY_PEER_OK) {
        return rc;
    }

    rc = parley_peer_credential(c->pwd, &c->pwd_len, &ice->local_pwd,
                                PARLEY_PEER_PWD_MIN, PARLEY_PEER_PWD_MAX,
                                PARLEY_PEER_PWD_LEN);
    if (rc != PARLEY_PEER_OK) {
        return rc;
    }

    return parley_peer_remote_credentials(c, &ice->remote_ufrag,
                                          &ice->remote_pwd);
}


/*
 * The browser's ufrag, and its password with it or later; a password
 * alone names no one to check (RFC 8445 7.2.2: USERNAME needs the ufrag).
 */
static parley_peer_rc_t
parley_peer_remote_credentials(parley_peer_credentials_t *c,
    const parley_stun_str_t *ufrag, const parley_stun_str_t *pwd)
{
    parley_peer_rc_t  rc;

    if (ufrag->len == 0) {
        return pwd->len == 0 ? PARLEY_PEER_OK : PARLEY_PEER_ERR_CREDENTIALS;
    }

    rc = parley_peer_credential(c->remote_ufrag, &c->remote_ufrag_len, ufrag,
                                PARLEY_PEER_UFRAG_MIN, PARLEY_PEER_UFRAG_MAX,
                                0);
    if (rc != PARLEY_PEER_OK || pwd->len == 0) {
        return rc;
    }

    return parley_peer_credential(c->remote_pwd, &c->remote_pwd_len, pwd,
                                  PARLEY_PEER_PWD_MIN, PARLEY_PEER_PWD_MAX, 0);
}


/* The HMAC keys of both passwords; the remote one stays empty if unknown. */
static parley_peer_rc_t
parley_peer_keys_make(const parley_peer_credentials_t *c,
    parley_stun_key_t *key, parley_stun_key_t *remote_key)
{
    memset(remote_key, 0, sizeof(parley_stun_key_t));

    if (parley_stun_key_init(key, c->pwd, c->pwd_len) != PARLEY_STUN_OK) {
        return PARLEY_PEER_ERR_CRYPTO;
    }

    if (c->remote_pwd_len > 0
        && parley_stun_key_init(remote_key, c->remote_pwd, c->remote_pwd_len)
           != PARLEY_STUN_OK)
    {
        parley_stun_key_free(key);
        return PARLEY_PEER_ERR_CRYPTO;
    }

    return PARLEY_PEER_OK;
}


/*
 * RFC 8839 5.4 for a given value; RFC 8445 5.3 for a generated one: drawn
 * from a cryptographic generator, so that an attacker who sees one
 * session's credentials cannot guess another's.
 */
static parley_peer_rc_t
parley_peer_credential(char *dst, size_t *dst_len,
    const parley_stun_str_t *given, size_t min, size_t max, size_t gen_len)
{
    size_t   i;
    uint8_t  random[PARLEY_PEER_PWD_LEN];

    if (given->len == 0) {
        if (RAND_bytes(random, (int) gen_len) != 1) {
            return PARLEY_PEER_ERR_CRYPTO;
        }

        /* 256 is a multiple of 64: every ice-char is equally likely */
        for (i = 0; i < gen_len; i++) {
            dst[i] = parley_peer_ice_alphabet[random[i] & 0x3f];
        }

        OPENSSL_cleanse(random, sizeof(random));
        dst[gen_len] = '\0';
        *dst_len = gen_len;

        return PARLEY_PEER_OK;
    }

    if (given->data == NULL || given->len < min || given->len > max
        || !parley_peer_ice_chars(given->data, given->len))
    {
        return PARLEY_PEER_ERR_CREDENTIALS;
    }

    memcpy(dst, given->data, given->len);
    dst[given->len] = '\0';
    *dst_len = given->len;

    return PARLEY_PEER_OK;
}


static int
parley_peer_ice_chars(const uint8_t *s, size_t len)
{
    size_t   i;
    uint8_t  c;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '+' || c == '/'))
        {
            return 0;
        }
    }

    return 1;
}


/* Takes the keys over; the old ones, if any, are freed. */
static void
parley_peer_credentials_commit(parley_peer_t *peer,
    const parley_peer_credentials_t *c, parley_stun_key_t *key,
    parley_stun_key_t *remote_key)
{
    parley_stun_key_free(&peer->local_key);
    peer->local_key = *key;
    memset(key, 0, sizeof(parley_stun_key_t));

    parley_stun_key_free(&peer->remote_key);
    peer->remote_key = *remote_key;
    memset(remote_key, 0, sizeof(parley_stun_key_t));

    peer->creds = *c;

    peer->ice.local_ufrag.data = (const uint8_t *) peer->creds.ufrag;
    peer->ice.local_ufrag.len = peer->creds.ufrag_len;
    peer->ice.remote_ufrag.data = (const uint8_t *) peer->creds.remote_ufrag;
    peer->ice.remote_ufrag.len = peer->creds.remote_ufrag_len;
    peer->ice.local_key = &peer->local_key;
}


static parley_peer_rc_t
parley_peer_dtls_create(parley_peer_t *peer, parley_dtls_identity_t *identity,
    const parley_peer_conf_t *conf)
{
    parley_dtls_rc_t    rc;
    parley_dtls_conf_t  dc;

    memset(&dc, 0, sizeof(parley_dtls_conf_t));

    dc.role = conf->dtls_role;
    dc.fingerprints = conf->fingerprints;
    dc.nfingerprints = conf->nfingerprints;
    dc.handler.data = peer;
    dc.handler.send = parley_peer_dtls_send;
    dc.handler.on_connected = parley_peer_on_dtls_connected;
    dc.handler.on_app_data = parley_peer_on_dtls_app_data;
    dc.handler.on_error = parley_peer_on_dtls_error;
    dc.handler.on_closed = parley_peer_on_dtls_closed;

    rc = parley_dtls_create(&peer->dtls, identity, &dc);

    switch (rc) {

    case PARLEY_DTLS_OK:
        return PARLEY_PEER_OK;

    case PARLEY_DTLS_ERR_NOMEM:
        return PARLEY_PEER_ERR_NOMEM;

    case PARLEY_DTLS_ERR_INVAL:
        return PARLEY_PEER_ERR_INVAL;

    default:
        return PARLEY_PEER_ERR_DTLS;
    }
}


void
parley_peer_destroy(parley_peer_t *peer)
{
    if (peer == NULL) {
        return;
    }

    if (peer->registry != NULL) {
        peer->registry->detach(peer->registry_data, peer);
    }

    parley_peer_detach(peer);
    parley_peer_free(peer);
}


static void
parley_peer_free(parley_peer_t *peer)
{
    parley_dtls_destroy(peer->dtls);
    parley_srtp_destroy(&peer->srtp_in);
    parley_srtp_destroy(&peer->srtp_out);
    parley_stun_key_free(&peer->local_key);
    parley_stun_key_free(&peer->remote_key);

    /* the passwords key every check */
    OPENSSL_cleanse(&peer->creds, sizeof(parley_peer_credentials_t));

    free(peer);
}


void
parley_peer_local_credentials(const parley_peer_t *peer,
    parley_stun_str_t *ufrag, parley_stun_str_t *pwd)
{
    if (ufrag != NULL) {
        ufrag->data = (const uint8_t *) peer->creds.ufrag;
        ufrag->len = peer->creds.ufrag_len;
    }

    if (pwd != NULL) {
        pwd->data = (const uint8_t *) peer->creds.pwd;
        pwd->len = peer->creds.pwd_len;
    }
}


parley_peer_rc_t
parley_peer_set_remote_credentials(parley_peer_t *peer,
    const parley_stun_str_t *ufrag, const parley_stun_str_t *pwd,
    uint64_t now_ms)
{
    int                         i;
    parley_peer_rc_t            rc;
    parley_stun_key_t           key;
    parley_peer_credentials_t   c;

    if (peer == NULL || ufrag == NULL || pwd == NULL || ufrag->len == 0
        || pwd->len == 0)
    {
        return PARLEY_PEER_ERR_INVAL;
    }

    if (peer->state >= PARLEY_PEER_FAILED || peer->creds.remote_pwd_len > 0) {
        return PARLEY_PEER_ERR_STATE;
    }

    c = peer->creds;

    rc = parley_peer_remote_credentials(&c, ufrag, pwd);

    if (rc == PARLEY_PEER_OK
        && parley_stun_key_init(&key, c.remote_pwd, c.remote_pwd_len)
           != PARLEY_STUN_OK)
    {
        rc = PARLEY_PEER_ERR_CRYPTO;
    }

    if (rc != PARLEY_PEER_OK) {
        OPENSSL_cleanse(&c, sizeof(c));
        return rc;
    }

    peer->creds = c;
    OPENSSL_cleanse(&c, sizeof(c));

    peer->ice.remote_ufrag.len = peer->creds.remote_ufrag_len;
    peer->remote_key = key;

    /* the addresses the browser's checks brought meanwhile */
    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        if (peer->paths[i].in_use) {
            parley_peer_consent_want(peer, i, now_ms);
        }
    }

    return PARLEY_PEER_OK;
}


parley_peer_rc_t
parley_peer_set_remote_fingerprints(parley_peer_t *peer,
    const parley_dtls_fingerprint_t *fps, size_t n)
{
    parley_dtls_rc_t  rc;

    if (peer == NULL) {
        return PARLEY_PEER_ERR_INVAL;
    }

    if (peer->state >= PARLEY_PEER_FAILED) {
        return PARLEY_PEER_ERR_STATE;
    }

    /* the keys, or the error, may follow from this call */
    rc = parley_dtls_set_fingerprints(peer->dtls, fps, n);

    switch (rc) {

    case PARLEY_DTLS_OK:
        return PARLEY_PEER_OK;

    case PARLEY_DTLS_ERR_INVAL:
        return PARLEY_PEER_ERR_INVAL;

    default:
        return PARLEY_PEER_ERR_DTLS;
    }
}


/* Receiving */


parley_peer_drop_t
parley_peer_receive(parley_peer_t *peer, const parley_stun_addr_t *from,
    uint8_t *buf, size_t len, uint64_t now_ms)
{
    parley_stun_msg_t  msg;

    peer->stats.datagrams_in++;
    peer->stats.bytes_in += len;

    if (peer->state >= PARLEY_PEER_FAILED) {
        return parley_peer_drop(peer, PARLEY_PEER_DROP_CLOSED);
    }

    switch (parley_demux_classify(buf, len)) {

    case PARLEY_DEMUX_STUN:
        if (parley_stun_parse(&msg, buf, len) != PARLEY_STUN_OK) {
            return parley_peer_drop(peer, PARLEY_PEER_DROP_MALFORMED);
        }

        return parley_peer_stun(peer, from, &msg, now_ms);

    case PARLEY_DEMUX_DTLS:
        return parley_peer_dtls_in(peer, from, buf, len);

    case PARLEY_DEMUX_RTP:
        return parley_peer_srtp_in(peer, from, buf, len, 0);

    case PARLEY_DEMUX_RTCP:
        return parley_peer_srtp_in(peer, from, buf, len, 1);

    case PARLEY_DEMUX_INVALID:
        return parley_peer_drop(peer, PARLEY_PEER_DROP_MALFORMED);

    default:
        return parley_peer_drop(peer, PARLEY_PEER_DROP_NOT_WEBRTC);
    }
}


parley_peer_drop_t
parley_peer_receive_stun(parley_peer_t *peer, const parley_stun_addr_t *from,
    const parley_stun_msg_t *msg, uint64_t now_ms)
{
    peer->stats.datagrams_in++;
    peer->stats.bytes_in += msg->size;

    if (peer->state >= PARLEY_PEER_FAILED) {
        return parley_peer_drop(peer, PARLEY_PEER_DROP_CLOSED);
    }

    return parley_peer_stun(peer, from, msg, now_ms);
}


/*
 * RFC 8445 7.3: the answer goes back to where the check came from. A
 * successful check validates that address (RFC 8445 7.3.1.3) and keeps it
 * alive (RFC 7675 5.1); one with USE-CANDIDATE nominates it. Either may
 * make the peer check the address itself (parley_peer_consent_want()).
 * Answers to the peer's own checks go to the consent section.
 */
static parley_peer_drop_t
parley_peer_stun(parley_peer_t *peer, const parley_stun_addr_t *from,
    const parley_stun_msg_t *msg, uint64_t now_ms)
{
    int                        i;
    uint8_t                    out[PARLEY_STUN_RESPONSE_MAX];
    parley_icelite_action_t   action;
    parley_icelite_result_t   res;

    if (msg->class == PARLEY_STUN_SUCCESS || msg->class == PARLEY_STUN_ERROR)
    {
        return parley_peer_consent_response(peer, from, msg, now_ms);
    }

    action = parley_icelite_check(&peer->ice, msg, from, out,
                                        sizeof(out), &res);

    if ((size_t) res.reason < PARLEY_ICELITE_NREASONS) {
        peer->stats.checks[res.reason]++;
    }

    if (action == PARLEY_ICELITE_ERROR) {
        parley_peer_send_addr(peer, from, out, res.len);
        return parley_peer_drop(peer, PARLEY_PEER_DROP_STUN_REJECTED);
    }

    if (action != PARLEY_ICELITE_SUCCESS) {
        return parley_peer_drop(peer, parley_peer_stun_unanswered(res.reason));
    }

    /*
     * An address the endpoint keeps for another peer is not answered: the
     * browser retransmits, and is answered once the address is free.
     */
    i = parley_peer_path_validate(peer, from, now_ms);
    if (i < 0) {
        return parley_peer_drop(peer, PARLEY_PEER_DROP_REFUSED);
    }

    parley_peer_send_path(peer, &peer->paths[i], out, res.len);

    peer->alive_ms = now_ms;

    if (peer->state == PARLEY_PEER_NEW) {
        parley_peer_set_state(peer, PARLEY_PEER_CHECKING);
    }

    if (res.nominated) {
        parley_peer_nominate(peer, i, res.priority, now_ms);
    }

    parley_peer_consent_want(peer, i, now_ms);

    return parley_peer_drop(peer, PARLEY_PEER_DROP_NONE);
}


/* What failed authentication is told apart from keepalives and noise. */
static parley_peer_drop_t
parley_peer_stun_unanswered(parley_icelite_reason_t reason)
{
    switch (reason) {

    case PARLEY_ICELITE_NO_CREDENTIALS:
    case PARLEY_ICELITE_BAD_USERNAME:
    case PARLEY_ICELITE_BAD_INTEGRITY:
        return PARLEY_PEER_DROP_UNAUTHENTICATED;

    default:
        return PARLEY_PEER_DROP_STUN_IGNORED;
    }
}


static parley_peer_drop_t
parley_peer_dtls_in(parley_peer_t *peer, const parley_stun_addr_t *from,
    const uint8_t *buf, size_t len)
{
    int               i;
    parley_dtls_rc_t  rc;

    i = parley_peer_path_find(peer, from);
    if (i < 0) {
        return parley_peer_drop(peer, PARLEY_PEER_DROP_UNVALIDATED);
    }

    /*
     * Before a nomination, the handshake answers where it is spoken to if
     * that address has consent, else at one that has; with none, it waits.
     */
    if (peer->paths[i].consent) {
        peer->dtls_from = i;

    } else if (parley_peer_dtls_target(peer) < 0) {
        return parley_peer_dtls_hold(peer, from, buf, len);
    }

    rc = parley_dtls_feed(peer->dtls, buf, len);

    return parley_peer_drop(peer, rc == PARLEY_DTLS_OK
                                  ? PARLEY_PEER_DROP_NONE
                                  : PARLEY_PEER_DROP_DTLS);
}


/*
 * DTLS that arrives before any address has answered our check (the
 * browser's ClientHello may overtake that answer) cannot be answered: it
 * waits, the latest one only, until an address has consent. Feeding it
 * now and dropping the answer would cost the browser's retransmission
 * timeout instead (a second or so).
 */
static parley_peer_drop_t
parley_peer_dtls_hold(parley_peer_t *peer, const parley_stun_addr_t *from,
    const uint8_t *buf, size_t len)
{
    if (len > sizeof(peer->held)) {
        return parley_peer_drop(peer, PARLEY_PEER_DROP_UNCONSENTED);
    }

    memcpy(peer->held, buf, len);
    peer->held_len = len;
    peer->held_from = *from;
    peer->stats.dtls_held++;

    return parley_peer_drop(peer, PARLEY_PEER_DROP_NONE);
}


/* An address has consent: the datagram held, if any, goes in now. */
static void
parley_peer_dtls_release(parley_peer_t *peer)
{
    int     i;
    size_t  len;

    if (peer->held_len == 0 || parley_peer_dtls_target(peer) < 0) {
        return;
    }

    len = peer->held_len;
    peer->held_len = 0;

    /* its address forgotten meanwhile: it is no longer to be believed */
    i = parley_peer_path_find(peer, &peer->held_from);
    if (i < 0) {
        return;
    }

    if (peer->paths[i].consent) {
        peer->dtls_from = i;
    }

    (void) parley_dtls_feed(peer->dtls, peer->held, len);
}


/*
 * RFC 8445 12.1 lets media arrive on any valid pair, nominated or not:
 * any validated address will do.
 */
static parley_peer_drop_t
parley_peer_srtp_in(parley_peer_t *peer, const parley_stun_addr_t *from,
    uint8_t *buf, size_t len, int rtcp)
{
    size_t            n;
    parley_srtp_rc_t  rc;

    if (parley_peer_path_find(peer, from) < 0) {
        return parley_peer_drop(peer, PARLEY_PEER_DROP_UNVALIDATED);
    }

    if (!peer->secure) {
        return parley_peer_drop(peer, PARLEY_PEER_DROP_NOT_SECURE);
    }

    n = len;

    if (rtcp) {
        rc = parley_srtp_unprotect_rtcp(&peer->srtp_in, buf, &n);
        if (rc != PARLEY_SRTP_OK) {
            peer->stats.unprotect_rtcp[rc]++;
            return parley_peer_drop(peer, parley_peer_srtp_drop(rc));
        }

        peer->stats.rtcp_in++;
        peer->stats.rtcp_bytes_in += n;

        if (peer->shed_dtls) {
            parley_peer_shed_dtls(peer);
        }

        if (peer->handler.on_rtcp != NULL) {
            peer->handler.on_rtcp(peer->handler.data, buf, n);
        }

        return parley_peer_drop(peer, PARLEY_PEER_DROP_NONE);
    }

    rc = parley_srtp_unprotect_rtp(&peer->srtp_in, buf, &n);
    if (rc != PARLEY_SRTP_OK) {
        peer->stats.unprotect_rtp[rc]++;
        return parley_peer_drop(peer, parley_peer_srtp_drop(rc));
    }

    peer->stats.rtp_in++;
    peer->stats.rtp_bytes_in += n;

    if (peer->shed_dtls) {
        parley_peer_shed_dtls(peer);
    }

    if (peer->handler.on_rtp != NULL) {
        peer->handler.on_rtp(peer->handler.data, buf, n);
    }

    return parley_peer_drop(peer, PARLEY_PEER_DROP_NONE);
}


/*
 * The browser's first authenticated SRTP or SRTCP: it has our last flight,
 * so nothing of the handshake is to be resent, and no data channel needs
 * the association after it.
 */
static void
parley_peer_shed_dtls(parley_peer_t *peer)
{
    peer->shed_dtls = 0;

    (void) parley_dtls_shed(peer->dtls);
}


static parley_peer_drop_t
parley_peer_srtp_drop(parley_srtp_rc_t rc)
{
    switch (rc) {

    case PARLEY_SRTP_ERR_AUTH:
        return PARLEY_PEER_DROP_SRTP_AUTH;

    case PARLEY_SRTP_ERR_REPLAY:
    case PARLEY_SRTP_ERR_REPLAY_OLD:
        return PARLEY_PEER_DROP_SRTP_REPLAY;

    default:
        return PARLEY_PEER_DROP_SRTP_OTHER;
    }
}


static parley_peer_drop_t
parley_peer_drop(parley_peer_t *peer, parley_peer_drop_t drop)
{
    peer->stats.drops[drop]++;

    return drop;
}


/* Validated addresses */


static int
parley_peer_path_find(const parley_peer_t *peer,
    const parley_stun_addr_t *addr)
{
    int  i;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        if (peer->paths[i].in_use
            && parley_peer_addr_equal(&peer->paths[i].addr, addr))
        {
            return i;
        }
    }

    return -1;
}


/*
 * The address of a successful check: refreshed if known; otherwise
 * registered with the endpoint first (which may refuse), then remembered
 * in a free slot or in place of one the peer can spare.
 */
static int
parley_peer_path_validate(parley_peer_t *peer, const parley_stun_addr_t *from,
    uint64_t now_ms)
{
    int                  i;
    parley_peer_rc_t     rc;
    parley_peer_path_t  *path;

    i = parley_peer_path_find(peer, from);

    if (i >= 0) {
        peer->paths[i].last_check_ms = now_ms;
        return i;
    }

    i = parley_peer_path_slot(peer);
    if (i < 0) {
        peer->stats.paths_refused++;
        return -1;
    }

    if (peer->registry != NULL) {
        rc = peer->registry->address_validated(peer->registry_data, peer,
                                               from, now_ms);
        if (rc != PARLEY_PEER_OK) {
            return -1;
        }
    }

    if (peer->paths[i].in_use) {
        parley_peer_path_forget(peer, i);
    }

    path = &peer->paths[i];

    memset(path, 0, sizeof(parley_peer_path_t));
    path->addr = *from;
    (void) parley_stun_addr_to_sockaddr(from, &path->sa, &path->salen);
    path->last_check_ms = now_ms;
    path->in_use = 1;

    return i;
}


/*
 * A free slot, or the one of the address checked least recently: never
 * the selected one, nor one our check is out to. Were those evicted, a
 * client forging checks from ever new addresses would have the peer send
 * a fresh check to each, every time: -1 instead, and the check that
 * wanted a slot goes unanswered until one is free.
 */
static int
parley_peer_path_slot(const parley_peer_t *peer)
{
    int                        i, oldest;
    const parley_peer_path_t  *p;

    oldest = -1;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        p = &peer->paths[i];

        if (!p->in_use) {
            return i;
        }

        if (i != peer->selected && !p->checking
            && (oldest < 0
                || p->last_check_ms < peer->paths[oldest].last_check_ms))
        {
            oldest = i;
        }
    }

    return oldest;
}


static void
parley_peer_path_forget(parley_peer_t *peer, int i)
{
    if (peer->registry != NULL) {
        peer->registry->address_forgotten(peer->registry_data, peer,
                                          &peer->paths[i].addr);
    }

    peer->paths[i].in_use = 0;
    peer->stats.paths_forgotten++;

    if (peer->dtls_from == i) {
        peer->dtls_from = -1;
    }

    if (peer->selected != i) {
        return;
    }

    peer->selected = -1;

    /* another nominated address with consent takes over, if there is one */
    if (peer->state == PARLEY_PEER_CONNECTED) {
        parley_peer_select(peer);
    }
}


static void
parley_peer_forget_all(parley_peer_t *peer)
{
    int  i;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        if (peer->paths[i].in_use) {
            parley_peer_path_forget(peer, i);
        }
    }
}


/*
 * Of the nominated paths with consent, the one of the newest ICE session
 * with the highest priority.
 */
static int
parley_peer_path_best(const parley_peer_t *peer, int except)
{
    int                        i, best;
    const parley_peer_path_t  *p, *b;

    best = -1;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        p = &peer->paths[i];

        if (i == except || !p->in_use || !p->nominated || !p->consent) {
            continue;
        }

        if (best >= 0) {
            b = &peer->paths[best];

            if (p->generation < b->generation
                || (p->generation == b->generation
                    && p->priority <= b->priority))
            {
                continue;
            }
        }

        best = i;
    }

    return best;
}


static void
parley_peer_nominate(parley_peer_t *peer, int i, uint32_t priority,
    uint64_t now_ms)
{
    parley_peer_path_t  *p;

    p = &peer->paths[i];
    p->nominated = 1;
    p->priority = priority;
    p->generation = peer->generation;

    peer->stats.nominations++;

    if (!peer->nominated_once) {
        peer->nominated_once = 1;
        peer->nominated_ms = now_ms;
    }

    parley_peer_select(peer);
}


/*
 * RFC 8445 8.2 (lite) with 7.3.1.5: the nominated pair is the one used;
 * of several nominated in one ICE session (a legacy agent's aggressive
 * nomination), the highest priority one. The priority compared is the
 * check's PRIORITY, the remote candidate's: with a single local candidate
 * that orders the pairs as their pair priorities do (RFC 8445 6.1.2.3).
 * After an ICE restart, the new session's first nomination replaces the
 * old session's. With RFC 7675 on top: only among the addresses that
 * answered our check, so that a nomination moves nothing until then.
 */
static void
parley_peer_select(parley_peer_t *peer)
{
    int  best;

    best = parley_peer_path_best(peer, -1);

    if (best != peer->selected) {
        peer->selected = best;

        if (best >= 0) {
            peer->stats.path_changes++;
        }
    }

    if (best < 0) {
        if (peer->state == PARLEY_PEER_CONNECTED) {
            parley_peer_set_state(peer, PARLEY_PEER_CHECKING);
        }

        return;
    }

    if (peer->state != PARLEY_PEER_CONNECTED) {
        parley_peer_set_state(peer, PARLEY_PEER_CONNECTED);
    }

    /* RFC 5763 5: the active side starts the handshake once ICE is done */
    if (peer->role == PARLEY_DTLS_ROLE_CLIENT
        && parley_dtls_state(peer->dtls) == PARLEY_DTLS_NEW)
    {
        (void) parley_dtls_start(peer->dtls);
    }
}


void
parley_peer_forget_address(parley_peer_t *peer,
    const parley_stun_addr_t *addr)
{
    int  i;

    i = parley_peer_path_find(peer, addr);

    if (i >= 0) {
        parley_peer_path_forget(peer, i);
    }
}


int
parley_peer_holds_address(const parley_peer_t *peer,
    const parley_stun_addr_t *addr, uint64_t now_ms, uint64_t hold_ms)
{
    int  i;

    if (peer->state >= PARLEY_PEER_FAILED) {
        return 0;
    }

    i = parley_peer_path_find(peer, addr);

    return i >= 0 && now_ms < peer->paths[i].last_check_ms + hold_ms;
}


int
parley_peer_addr_equal(const parley_stun_addr_t *a,
    const parley_stun_addr_t *b)
{
    if (a->family != b->family || a->port != b->port) {
        return 0;
    }

    return memcmp(a->addr, b->addr, a->family == AF_INET6 ? 16 : 4) == 0;
}


/* Consent: checks of our own (RFC 7675) */


/*
 * An address is checked once it is nominated, or while no address has
 * consent yet (the first one: the round trip then overlaps the browser's
 * nomination and DTLS). Not without the browser's password, not twice at
 * once, and not again soon after an unanswered check.
 */
static void
parley_peer_consent_want(parley_peer_t *peer, int i, uint64_t now_ms)
{
    parley_peer_path_t  *p;

    p = &peer->paths[i];

    if (peer->state >= PARLEY_PEER_FAILED || !p->in_use || p->consent
        || p->checking || now_ms < p->retry_ms
        || peer->creds.remote_pwd_len == 0)
    {
        return;
    }

    if (!p->nominated && parley_peer_has_consent(peer)) {
        return;
    }

    parley_peer_consent_begin(peer, i, now_ms);
}


/*
 * A new check of address i: RFC 8489 6, a transaction id an off-path forger
 * cannot guess. Without random bytes there is no check, and the address
 * stays as it is until the next try.
 */
static void
parley_peer_consent_begin(parley_peer_t *peer, int i, uint64_t now_ms)
{
    parley_peer_path_t  *p;

    p = &peer->paths[i];

    if (RAND_bytes(p->tid, sizeof(p->tid)) != 1) {
        return;
    }

    p->checking = 1;
    p->sends = 0;
    peer->stats.consent_checks++;

    parley_peer_consent_send(peer, i, now_ms);
}


static int
parley_peer_has_consent(const parley_peer_t *peer)
{
    int  i;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        if (peer->paths[i].in_use && peer->paths[i].consent) {
            return 1;
        }
    }

    return 0;
}


/*
 * RFC 8445 7.2.2 for a lite agent's check: USERNAME "the receiver's
 * ufrag:ours", PRIORITY, ICE-CONTROLLED (RFC 8445 6.1.1: facing a full
 * agent, a lite one is controlled), MESSAGE-INTEGRITY under the
 * receiver's password, FINGERPRINT. The same transaction id every time:
 * a retransmission (RFC 8489 6.2.1), the RTO doubling up to its cap.
 */
static void
parley_peer_consent_send(parley_peer_t *peer, int i, uint64_t now_ms)
{
    char                        username[PARLEY_PEER_USERNAME_MAX];
    size_t                      n, len;
    uint8_t                     buf[PARLEY_PEER_REQUEST_MAX];
    unsigned                    rto;
    parley_peer_path_t         *p;
    parley_stun_request_t       req;
    parley_peer_credentials_t  *c;

    p = &peer->paths[i];
    c = &peer->creds;

    n = c->remote_ufrag_len;
    memcpy(username, c->remote_ufrag, n);
    username[n++] = ':';
    memcpy(username + n, c->ufrag, c->ufrag_len);
    n += c->ufrag_len;

    memset(&req, 0, sizeof(parley_stun_request_t));
    memcpy(req.tid, p->tid, PARLEY_STUN_TID_SIZE);
    req.username.data = (const uint8_t *) username;
    req.username.len = n;
    req.priority = PARLEY_PEER_CONSENT_PRIORITY;
    req.role = PARLEY_STUN_ROLE_CONTROLLED;
    req.tie_breaker = peer->tie_breaker;
    req.key = &peer->remote_key;

    rto = PARLEY_PEER_CONSENT_RTO_MS << (p->sends < 5 ? p->sends : 5);
    p->next_ms = now_ms + (rto < PARLEY_PEER_CONSENT_RTO_MAX_MS
                           ? rto : PARLEY_PEER_CONSENT_RTO_MAX_MS);
    p->sends++;

    if (parley_stun_binding_request(buf, sizeof(buf), &req, &len)
        != PARLEY_STUN_OK)
    {
        return;
    }

    peer->stats.consent_requests++;
    parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_CHECK);

    parley_peer_send_path(peer, p, buf, len);
}


/*
 * First checks: retransmissions due, and the transactions given up.
 * Freshness checks (an address with consent) are sent once each and
 * wait for the next (parley_peer_consent_refresh()).
 */
static void
parley_peer_consent_expire(parley_peer_t *peer, uint64_t now_ms)
{
    int                  i;
    parley_peer_path_t  *p;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        p = &peer->paths[i];

        if (!p->in_use || !p->checking || p->consent || p->next_ms > now_ms)
        {
            continue;
        }

        if (p->sends < PARLEY_PEER_CONSENT_SENDS) {
            parley_peer_consent_send(peer, i, now_ms);
            continue;
        }

        parley_peer_consent_end(p, now_ms);
        peer->stats.consent_timeouts++;
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_UNANSWERED);
    }
}


/*
 * RFC 7675 5.1: the selected address is asked again every interval, each
 * time with a new transaction id, sent once ("a response might be for a
 * previous request"): one still unanswered when the next is due is given
 * up, so that a path keeps one transaction at a time. Whoever answers
 * renews consent for consent_timeout_ms; the browser's own checks do not.
 */
static void
parley_peer_consent_refresh(parley_peer_t *peer, uint64_t now_ms)
{
    int                  i;
    parley_peer_path_t  *p;

    i = peer->selected;

    if (i < 0 || peer->creds.remote_pwd_len == 0) {
        return;
    }

    p = &peer->paths[i];

    if (!p->consent || now_ms < p->fresh_ms) {
        return;
    }

    p->fresh_ms = now_ms + parley_peer_consent_interval(peer);

    if (p->checking) {
        p->checking = 0;
        peer->stats.consent_timeouts++;
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_UNANSWERED);
    }

    parley_peer_consent_begin(peer, i, now_ms);
}


/*
 * RFC 7675 5.1: "randomized from between 0.8 and 1.2 times the basic
 * period", so that the checks of many peers do not fall together.
 */
static uint64_t
parley_peer_consent_interval(const parley_peer_t *peer)
{
    uint32_t  r, base;

    base = peer->consent_interval_ms;

    if (RAND_bytes((unsigned char *) &r, sizeof(r)) != 1) {
        return base;
    }

    return base - base / 5 + r % (2 * (base / 5) + 1);
}


static void
parley_peer_consent_event(parley_peer_t *peer,
    parley_peer_consent_event_t event)
{
    if (peer->handler.on_consent != NULL) {
        peer->handler.on_consent(peer->handler.data, event);
    }
}


static void
parley_peer_consent_end(parley_peer_path_t *p, uint64_t now_ms)
{
    p->checking = 0;
    p->retry_ms = now_ms + PARLEY_PEER_CONSENT_RETRY_MS;
}


/* An address not selected whose consent ran out: nothing goes there. */
static void
parley_peer_consent_lapse(parley_peer_t *peer, int i, uint64_t now_ms)
{
    parley_peer_path_t  *p;

    p = &peer->paths[i];

    if (p->checking) {
        peer->stats.consent_timeouts++;
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_UNANSWERED);
    }

    p->consent = 0;
    parley_peer_consent_end(p, now_ms);

    if (peer->dtls_from == i) {
        peer->dtls_from = -1;
    }
}


/*
 * RFC 7675 5.1 with RFC 8445 7.2.5: an answer is consent if it carries
 * the id of a check of ours still out, comes from the address that check
 * went to (7.2.5.2.1: a reply from elsewhere proves nothing about it),
 * and is a Binding success signed with the browser's password. The id is
 * looked at first: it costs nothing, an HMAC does. A forged or mangled
 * answer leaves the transaction running.
 */
static parley_peer_drop_t
parley_peer_consent_response(parley_peer_t *peer,
    const parley_stun_addr_t *from, const parley_stun_msg_t *msg,
    uint64_t now_ms)
{
    int                          i;
    parley_peer_path_t          *p;
    parley_icelite_response_t   r;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        p = &peer->paths[i];

        if (p->in_use && p->checking
            && CRYPTO_memcmp(p->tid, msg->tid, PARLEY_STUN_TID_SIZE) == 0)
        {
            break;
        }
    }

    if (i == PARLEY_PEER_MAX_PATHS) {
        peer->stats.responses_unmatched++;
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_UNMATCHED);
        return parley_peer_drop(peer, PARLEY_PEER_DROP_RESPONSE);
    }

    if (!parley_peer_addr_equal(&p->addr, from)) {
        peer->stats.responses_misrouted++;
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_MISROUTED);
        return parley_peer_drop(peer, PARLEY_PEER_DROP_RESPONSE);
    }

    r = parley_icelite_check_response(msg, &peer->remote_key);
    peer->stats.responses[r]++;

    if (r == PARLEY_ICELITE_RESPONSE_ERROR) {
        parley_peer_consent_end(p, now_ms);
        peer->stats.consent_refused++;
    }

    if (r != PARLEY_ICELITE_RESPONSE_SUCCESS) {
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_INVALID);
        return parley_peer_drop(peer, PARLEY_PEER_DROP_RESPONSE);
    }

    parley_peer_consent_granted(peer, p, now_ms);

    parley_peer_select(peer);
    parley_peer_dtls_release(peer);

    return parley_peer_drop(peer, PARLEY_PEER_DROP_NONE);
}


/*
 * An answer: consent for consent_timeout_ms from now (RFC 7675 5.1). The
 * first one also starts the freshness checks' clock.
 */
static void
parley_peer_consent_granted(parley_peer_t *peer, parley_peer_path_t *p,
    uint64_t now_ms)
{
    if (p->consent) {
        peer->stats.consent_renewed++;
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_RENEWED);

    } else {
        p->consent = 1;
        p->fresh_ms = now_ms + parley_peer_consent_interval(peer);
        peer->stats.consent_granted++;
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_GRANTED);
    }

    p->checking = 0;
    p->consent_ms = now_ms;
    p->last_check_ms = now_ms;
    peer->alive_ms = now_ms;
}


/* Timers */


int64_t
parley_peer_timeout_ms(parley_peer_t *peer, uint64_t now_ms)
{
    int                        i;
    int64_t                    dtls;
    uint64_t                   deadline, consent, t;
    const parley_peer_path_t  *p;

    if (peer->state >= PARLEY_PEER_FAILED) {
        return -1;
    }

    consent = peer->consent_timeout_ms;
    deadline = UINT64_MAX;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        p = &peer->paths[i];

        if (!p->in_use) {
            continue;
        }

        if (i != peer->selected) {
            deadline = parley_peer_min(deadline, p->last_check_ms + consent);
        }

        if (p->consent) {
            deadline = parley_peer_min(deadline, p->consent_ms + consent);

        } else if (p->checking) {
            deadline = parley_peer_min(deadline, p->next_ms);
        }
    }

    if (peer->selected < 0) {
        deadline = parley_peer_min(deadline, peer->alive_ms + consent);

    } else if (peer->creds.remote_pwd_len > 0) {
        deadline = parley_peer_min(deadline,
                                   peer->paths[peer->selected].fresh_ms);
    }

    if (peer->nominated_once && !peer->secure) {
        deadline = parley_peer_min(deadline, peer->nominated_ms
                                             + peer->handshake_timeout_ms);
    }

    t = deadline <= now_ms ? 0 : deadline - now_ms;

    dtls = parley_dtls_timeout_ms(peer->dtls);

    if (dtls >= 0 && (uint64_t) dtls < t) {
        t = (uint64_t) dtls;
    }

    return t > INT64_MAX ? -1 : (int64_t) t;
}


void
parley_peer_handle_timeout(parley_peer_t *peer, uint64_t now_ms)
{
    if (peer->state >= PARLEY_PEER_FAILED) {
        return;
    }

    if (parley_dtls_timeout_ms(peer->dtls) == 0) {
        /* a give-up comes back through on_error */
        (void) parley_dtls_handle_timeout(peer->dtls);

        if (peer->state >= PARLEY_PEER_FAILED) {
            return;
        }
    }

    parley_peer_expire(peer, now_ms);

    if (peer->state >= PARLEY_PEER_FAILED) {
        return;
    }

    parley_peer_consent_expire(peer, now_ms);
    parley_peer_consent_refresh(peer, now_ms);

    /* RFC 6347 4.2.4 leaves OpenSSL retrying for minutes: give up sooner */
    if (peer->nominated_once && !peer->secure
        && peer->nominated_ms + peer->handshake_timeout_ms <= now_ms)
    {
        parley_peer_fail(peer, PARLEY_PEER_FAILURE_HANDSHAKE_TIMEOUT);
    }
}


static uint64_t
parley_peer_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}


/*
 * RFC 7675 5.1: consent lasts consent_timeout_ms after the last answer to
 * a check of ours. An unselected address loses it quietly, and is
 * forgotten once nothing at all (a check of the browser's, an answer)
 * came from it for as long. The selected one losing it hands over to
 * another nominated address with consent, or the peer fails (RFC 7675
 * 5.2: no consent, no sending). The browser's checks keep it known, not
 * sent to.
 */
static void
parley_peer_expire(parley_peer_t *peer, uint64_t now_ms)
{
    int                  i;
    parley_peer_path_t  *p;

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        p = &peer->paths[i];

        if (!p->in_use || i == peer->selected) {
            continue;
        }

        if (p->consent && p->consent_ms + peer->consent_timeout_ms <= now_ms)
        {
            parley_peer_consent_lapse(peer, i, now_ms);
        }

        if (p->last_check_ms + peer->consent_timeout_ms <= now_ms) {
            parley_peer_path_forget(peer, i);
        }
    }

    i = peer->selected;

    if (i >= 0
        && peer->paths[i].consent_ms + peer->consent_timeout_ms <= now_ms)
    {
        peer->stats.consent_lost++;
        parley_peer_consent_event(peer, PARLEY_PEER_CONSENT_LOST);

        if (parley_peer_path_best(peer, i) < 0) {
            parley_peer_fail(peer, PARLEY_PEER_FAILURE_CONSENT);
            return;
        }

        parley_peer_path_forget(peer, i);
    }

    if (peer->selected < 0
        && peer->alive_ms + peer->consent_timeout_ms <= now_ms)
    {
        parley_peer_fail(peer, PARLEY_PEER_FAILURE_ICE_TIMEOUT);
    }
}


/* States */


static void
parley_peer_set_state(parley_peer_t *peer, parley_peer_state_t state)
{
    if (peer->state == state) {
        return;
    }

    peer->state = state;
    peer->stats.state = state;

    if (peer->handler.on_state != NULL) {
        peer->handler.on_state(peer->handler.data, state);
    }
}


static void
parley_peer_fail(parley_peer_t *peer, parley_peer_failure_t failure)
{
    if (peer->state >= PARLEY_PEER_FAILED) {
        return;
    }

    peer->stats.failure = failure;

    parley_peer_end(peer, PARLEY_PEER_FAILED);
}


/*
 * The addresses go first, so that the endpoint stops routing to the peer
 * before anyone hears of the end; the state is set before that so that
 * losing the selected address does not look for another.
 */
static void
parley_peer_end(parley_peer_t *peer, parley_peer_state_t state)
{
    parley_peer_state_t  old;

    old = peer->state;
    peer->state = state;
    peer->stats.state = state;

    parley_peer_forget_all(peer);

    if (old != state && peer->handler.on_state != NULL) {
        peer->handler.on_state(peer->handler.data, state);
    }
}


parley_peer_rc_t
parley_peer_restart(parley_peer_t *peer, const parley_peer_ice_t *ice,
    uint64_t now_ms)
{
    int                         i;
    parley_peer_rc_t            rc;
    parley_stun_key_t           key, remote_key;
    parley_peer_credentials_t   creds;

    if (peer == NULL || ice == NULL) {
        return PARLEY_PEER_ERR_INVAL;
    }

    if (peer->state == PARLEY_PEER_CLOSED
        || (peer->state == PARLEY_PEER_FAILED
            && peer->stats.failure != PARLEY_PEER_FAILURE_CONSENT
            && peer->stats.failure != PARLEY_PEER_FAILURE_ICE_TIMEOUT))
    {
        return PARLEY_PEER_ERR_STATE;
    }

    rc = parley_peer_credentials_make(&creds, ice);
    if (rc != PARLEY_PEER_OK) {
        return rc;
    }

    rc = parley_peer_keys_make(&creds, &key, &remote_key);
    if (rc != PARLEY_PEER_OK) {
        OPENSSL_cleanse(&creds, sizeof(creds));
        return rc;
    }

    if (peer->registry != NULL) {
        rc = peer->registry->ufrag_changing(peer->registry_data, peer,
                                            (const uint8_t *) creds.ufrag,
                                            creds.ufrag_len);
        if (rc != PARLEY_PEER_OK) {
            parley_stun_key_free(&key);
            parley_stun_key_free(&remote_key);
            OPENSSL_cleanse(&creds, sizeof(creds));
            return rc;
        }
    }

    /* RFC 8445 9: a new ICE session, not a new DTLS association */
    parley_peer_credentials_commit(peer, &creds, &key, &remote_key);
    OPENSSL_cleanse(&creds, sizeof(creds));

    /* our checks out were signed with the old password; consent stays */
    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        peer->paths[i].checking = 0;
        peer->paths[i].retry_ms = 0;
    }

    peer->generation++;
    peer->alive_ms = now_ms;
    peer->stats.restarts++;

    /* failure forgot every address: the new session starts afresh */
    if (peer->state == PARLEY_PEER_FAILED) {
        peer->stats.failure = PARLEY_PEER_FAILURE_NONE;
        parley_peer_set_state(peer, PARLEY_PEER_NEW);
    }

    return PARLEY_PEER_OK;
}


void
parley_peer_close(parley_peer_t *peer)
{
    if (peer == NULL || peer->state == PARLEY_PEER_CLOSED) {
        return;
    }

    /* close_notify leaves by the selected address, before it is forgotten */
    (void) parley_dtls_close(peer->dtls);

    parley_peer_end(peer, PARLEY_PEER_CLOSED);
}


/* Sending */


/*
 * SRTP and SRTCP leave the same way: protected in place, counted, sent to
 * the selected address.
 */

static parley_peer_rc_t
parley_peer_send_protected(parley_peer_t *peer, uint8_t *buf, size_t len,
    size_t cap, int rtcp)
{
    size_t            n;
    parley_peer_rc_t  rc;

    n = len;

    rc = parley_peer_protect(peer, buf, &n, cap, rtcp);
    if (rc != PARLEY_PEER_OK) {
        return rc;
    }

    parley_peer_send_path(peer, &peer->paths[peer->selected], buf, n);

    return PARLEY_PEER_OK;
}


/* Protected in place for the selected path, and counted. */
static parley_peer_rc_t
parley_peer_protect(parley_peer_t *peer, uint8_t *buf, size_t *len,
    size_t cap, int rtcp)
{
    parley_peer_rc_t  rc;
    parley_srtp_rc_t  src;

    rc = parley_peer_check_send(peer);
    if (rc != PARLEY_PEER_OK) {
        return rc;
    }

    src = rtcp ? parley_srtp_protect_rtcp(&peer->srtp_out, buf, len, cap)
               : parley_srtp_protect_rtp(&peer->srtp_out, buf, len, cap);

    if (src != PARLEY_SRTP_OK) {
        if (rtcp) {
            peer->stats.protect_rtcp[src]++;
        } else {
            peer->stats.protect_rtp[src]++;
        }

        return PARLEY_PEER_ERR_SRTP;
    }

    if (rtcp) {
        peer->stats.rtcp_out++;
        peer->stats.rtcp_bytes_out += *len;

    } else {
        peer->stats.rtp_out++;
        peer->stats.rtp_bytes_out += *len;
    }

    return PARLEY_PEER_OK;
}


parley_peer_rc_t
parley_peer_protect_rtp(parley_peer_t *peer, uint8_t *buf, size_t *len,
    size_t cap, const struct sockaddr **to, socklen_t *tolen)
{
    parley_peer_rc_t           rc;
    const parley_peer_path_t  *path;

    rc = parley_peer_protect(peer, buf, len, cap, 0);
    if (rc != PARLEY_PEER_OK) {
        return rc;
    }

    path = &peer->paths[peer->selected];

    peer->stats.datagrams_out++;
    peer->stats.bytes_out += *len;

    *to = (const struct sockaddr *) &path->sa;
    *tolen = path->salen;

    return PARLEY_PEER_OK;
}


parley_peer_rc_t
parley_peer_send_rtp(parley_peer_t *peer, uint8_t *buf, size_t len,
    size_t cap)
{
    return parley_peer_send_protected(peer, buf, len, cap, 0);
}


parley_peer_rc_t
parley_peer_send_rtcp(parley_peer_t *peer, uint8_t *buf, size_t len,
    size_t cap)
{
    return parley_peer_send_protected(peer, buf, len, cap, 1);
}


parley_peer_rc_t
parley_peer_send_app_data(parley_peer_t *peer, const uint8_t *buf,
    size_t len)
{
    parley_peer_rc_t  rc;

    rc = parley_peer_check_send(peer);
    if (rc != PARLEY_PEER_OK) {
        return rc;
    }

    return parley_dtls_write(peer->dtls, buf, len) == PARLEY_DTLS_OK
           ? PARLEY_PEER_OK : PARLEY_PEER_ERR_DTLS;
}


/* RFC 7675 5.2: only to a nominated address with consent, only keyed. */
static parley_peer_rc_t
parley_peer_check_send(parley_peer_t *peer)
{
    parley_peer_rc_t  rc;

    if (peer->state != PARLEY_PEER_CONNECTED) {
        rc = PARLEY_PEER_ERR_STATE;

    } else if (peer->selected < 0) {
        rc = PARLEY_PEER_ERR_NO_PATH;

    } else if (!peer->secure) {
        rc = PARLEY_PEER_ERR_NOT_SECURE;

    } else {
        return PARLEY_PEER_OK;
    }

    peer->stats.send_refused++;

    return rc;
}


static void
parley_peer_send_path(parley_peer_t *peer, const parley_peer_path_t *path,
    const uint8_t *buf, size_t len)
{
    peer->stats.datagrams_out++;
    peer->stats.bytes_out += len;

    peer->handler.send(peer->handler.data,
                       (const struct sockaddr *) &path->sa, path->salen,
                       buf, len);
}


static void
parley_peer_send_addr(parley_peer_t *peer, const parley_stun_addr_t *to,
    const uint8_t *buf, size_t len)
{
    socklen_t                salen;
    struct sockaddr_storage  sa;

    if (parley_stun_addr_to_sockaddr(to, &sa, &salen) != PARLEY_STUN_OK) {
        return;
    }

    peer->stats.datagrams_out++;
    peer->stats.bytes_out += len;

    peer->handler.send(peer->handler.data, (const struct sockaddr *) &sa,
                       salen, buf, len);
}


/* DTLS */


static void
parley_peer_dtls_send(void *data, const uint8_t *buf, size_t len)
{
    int             i;
    parley_peer_t  *peer = data;

    i = parley_peer_dtls_target(peer);

    if (i < 0) {
        peer->stats.dtls_unsent++;
        return;
    }

    parley_peer_send_path(peer, &peer->paths[i], buf, len);
}


/*
 * Where DTLS goes: the selected address, else the one with consent that
 * DTLS last came from, else any with consent; never one without (-1).
 */
static int
parley_peer_dtls_target(const parley_peer_t *peer)
{
    int  i;

    if (peer->selected >= 0) {
        return peer->selected;
    }

    if (peer->dtls_from >= 0) {
        return peer->dtls_from;
    }

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        if (peer->paths[i].in_use && peer->paths[i].consent) {
            return i;
        }
    }

    return -1;
}


static void
parley_peer_on_dtls_connected(void *data, const parley_dtls_srtp_keys_t *keys)
{
    parley_peer_t     *peer = data;
    parley_srtp_rc_t   rc;

    rc = parley_peer_srtp_create(peer, keys);

    if (rc != PARLEY_SRTP_OK) {
        parley_srtp_destroy(&peer->srtp_in);
        parley_srtp_destroy(&peer->srtp_out);
        parley_peer_fail(peer, PARLEY_PEER_FAILURE_SRTP);
        return;
    }

    peer->secure = 1;

    if (peer->handler.on_secure != NULL) {
        peer->handler.on_secure(peer->handler.data, peer->profile);
    }
}


/*
 * RFC 5764 4.2: what the peer sends is protected with its keys (the
 * remote half), what we send with ours.
 */
static parley_srtp_rc_t
parley_peer_srtp_create(parley_peer_t *peer,
    const parley_dtls_srtp_keys_t *keys)
{
    parley_srtp_rc_t       rc;
    parley_srtp_master_t   in, out;
    parley_srtp_profile_t  profile;

    rc = parley_srtp_profile_from_dtls((uint16_t) keys->profile, &profile);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    in.key = keys->remote;
    in.key_len = keys->key_len;
    in.salt = keys->remote + keys->key_len;
    in.salt_len = keys->salt_len;

    out.key = keys->local;
    out.key_len = keys->key_len;
    out.salt = keys->local + keys->key_len;
    out.salt_len = keys->salt_len;

    parley_srtp_destroy(&peer->srtp_in);
    parley_srtp_destroy(&peer->srtp_out);

    rc = parley_srtp_create(&peer->srtp_in, profile, PARLEY_SRTP_INBOUND,
                            &in, peer->srtp_window);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    rc = parley_srtp_create(&peer->srtp_out, profile, PARLEY_SRTP_OUTBOUND,
                            &out, peer->srtp_window);
    if (rc != PARLEY_SRTP_OK) {
        return rc;
    }

    peer->profile = profile;

    return PARLEY_SRTP_OK;
}


static void
parley_peer_on_dtls_app_data(void *data, const uint8_t *buf, size_t len)
{
    parley_peer_t  *peer = data;

    if (peer->handler.on_app_data != NULL) {
        peer->handler.on_app_data(peer->handler.data, buf, len);
    }
}


static void
parley_peer_on_dtls_error(void *data, parley_dtls_rc_t reason)
{
    parley_peer_t  *peer = data;

    peer->stats.dtls_error = reason;

    parley_peer_fail(peer, PARLEY_PEER_FAILURE_DTLS);
}


/* RFC 5246 7.2.1: the browser's close_notify ends the association. */
static void
parley_peer_on_dtls_closed(void *data)
{
    parley_peer_t  *peer = data;

    if (peer->state != PARLEY_PEER_CLOSED) {
        parley_peer_end(peer, PARLEY_PEER_CLOSED);
    }
}


/* Accessors */


parley_peer_state_t
parley_peer_state(const parley_peer_t *peer)
{
    return peer->state;
}


void *
parley_peer_data(const parley_peer_t *peer)
{
    return peer->handler.data;
}


const parley_peer_stats_t *
parley_peer_stats(const parley_peer_t *peer)
{
    return &peer->stats;
}


const parley_dtls_stats_t *
parley_peer_dtls_stats(const parley_peer_t *peer)
{
    return parley_dtls_stats(peer->dtls);
}


int
parley_peer_secure(const parley_peer_t *peer, parley_srtp_profile_t *profile)
{
    if (peer->secure && profile != NULL) {
        *profile = peer->profile;
    }

    return peer->secure;
}


parley_peer_rc_t
parley_peer_selected_address(const parley_peer_t *peer,
    struct sockaddr_storage *ss, socklen_t *len)
{
    const parley_peer_path_t  *p;

    if (peer->selected < 0) {
        return PARLEY_PEER_ERR_NO_PATH;
    }

    p = &peer->paths[peer->selected];

    memcpy(ss, &p->sa, sizeof(struct sockaddr_storage));
    *len = p->salen;

    return PARLEY_PEER_OK;
}


/* The endpoint's side */


parley_peer_rc_t
parley_peer_attach(parley_peer_t *peer, const parley_peer_registry_t *registry,
    void *data)
{
    int  i;

    if (peer == NULL || registry == NULL) {
        return PARLEY_PEER_ERR_INVAL;
    }

    if (peer->registry != NULL) {
        return PARLEY_PEER_ERR_STATE;
    }

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        if (peer->paths[i].in_use) {
            return PARLEY_PEER_ERR_STATE;
        }
    }

    peer->registry = registry;
    peer->registry_data = data;

    return PARLEY_PEER_OK;
}


void
parley_peer_detach(parley_peer_t *peer)
{
    int                            i;
    const parley_peer_registry_t  *registry;

    registry = peer->registry;

    if (registry == NULL) {
        return;
    }

    for (i = 0; i < PARLEY_PEER_MAX_PATHS; i++) {
        if (peer->paths[i].in_use) {
            registry->address_forgotten(peer->registry_data, peer,
                                        &peer->paths[i].addr);
        }
    }

    peer->registry = NULL;
    peer->registry_data = NULL;
}
