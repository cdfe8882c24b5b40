/*
 * DTLS 1.2 and DTLS-SRTP keying with OpenSSL: see parley_dtls.h.
 *
 * The SSL object reads and writes through a BIO of our own that stands for
 * one UDP flow: a read hands OpenSSL the datagram being fed, whole, and
 * writes gather records into one datagram of at most the MTU, sent when
 * OpenSSL flushes (at the end of a flight) or when the next record would
 * not fit. OpenSSL sizes handshake fragments by what the BIO says is
 * pending, so a flight leaves in as few datagrams as the MTU allows.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "parley_dtls.h"


/* RFC 5764 4.2: the exporter label of DTLS-SRTP. */
#define PARLEY_DTLS_EXPORTER_LABEL  "EXTRACTOR-dtls_srtp"

/*
 * RFC 8827 6.5: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 is mandatory, so it
 * comes first; the RSA suites are there for peers with RSA certificates
 * when we are the client.
 */
#define PARLEY_DTLS_CIPHERS                                                  \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"           \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"             \
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:"               \
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"

/* RFC 8827 6.5: P-256 is mandatory; browsers prefer X25519. */
#define PARLEY_DTLS_GROUPS          "X25519:P-256:P-384"

#define PARLEY_DTLS_COMMON_NAME     "parley"
#define PARLEY_DTLS_DAY             (24L * 60 * 60)

/* RFC 6347 4.1: type, version, epoch, sequence number, length. */
#define PARLEY_DTLS_RECORD_HEADER   13

/* The largest plaintext SSL_read() hands out at once. */
#define PARLEY_DTLS_RECORD_MAX      SSL3_RT_MAX_PLAIN_LENGTH

/* What OpenSSL's read buffer holds: one datagram must fit in it. */
#define PARLEY_DTLS_DATAGRAM_MAX                                             \
    (SSL3_RT_MAX_PLAIN_LENGTH + SSL3_RT_MAX_ENCRYPTED_OVERHEAD               \
     + DTLS1_RT_HEADER_LENGTH)


struct parley_dtls_identity_s {
    unsigned                  refs;    /* the creator and each transport */
    SSL_CTX                  *ctx;
    X509                     *cert;
    EVP_PKEY                 *key;
    BIO_METHOD               *bio_method;
    size_t                    mtu;
    unsigned                  timeout_ms;
    unsigned                  timeout_max_ms;
    char                      fingerprint[PARLEY_DTLS_FINGERPRINT_STR_MAX];
};


struct parley_dtls_s {
    parley_dtls_identity_t     *identity;
    SSL                        *ssl;
    parley_dtls_role_t          role;
    parley_dtls_state_t         state;
    parley_dtls_handler_t       handler;

    parley_dtls_fingerprint_t   fingerprints[PARLEY_DTLS_MAX_FINGERPRINTS];
    size_t                      nfingerprints;
    unsigned                    fingerprint_rejected:1;

    /* on_error() or on_closed(), called last thing before returning */
    unsigned                    notify_error:1;
    unsigned                    notify_closed:1;
    parley_dtls_rc_t            error;

    const uint8_t              *in;      /* the datagram being fed */
    size_t                      in_len;

    unsigned                    timeout_us;
    unsigned                    timeout_max_us;
    size_t                      mtu;
    size_t                      out_len;

    parley_dtls_stats_t         stats;
    char                        detail[PARLEY_DTLS_DETAIL_MAX];

    uint8_t                     out[];   /* mtu bytes: the next datagram */
};


typedef struct {
    parley_dtls_srtp_profile_t  profile;
    const char                 *name;
    size_t                      key_len;
    size_t                      salt_len;
} parley_dtls_srtp_spec_t;


typedef struct {
    const char  *name;
    size_t       len;
} parley_dtls_hash_spec_t;


static parley_dtls_rc_t parley_dtls_identity_check_conf(
    const parley_dtls_identity_conf_t *conf);
static int parley_dtls_timeout_valid(unsigned ms);
static parley_dtls_rc_t parley_dtls_identity_build(parley_dtls_identity_t *id,
    const parley_dtls_identity_conf_t *conf);
static void parley_dtls_identity_release(parley_dtls_identity_t *id);
static parley_dtls_rc_t parley_dtls_make_key(parley_dtls_identity_t *id);
static parley_dtls_rc_t parley_dtls_make_cert(parley_dtls_identity_t *id,
    unsigned days);
static parley_dtls_rc_t parley_dtls_make_ctx(parley_dtls_identity_t *id,
    const char *profiles);
static parley_dtls_rc_t parley_dtls_make_bio_method(
    parley_dtls_identity_t *id);
static parley_dtls_rc_t parley_dtls_make_ssl(parley_dtls_t *dtls);

static int parley_dtls_bio_create(BIO *bio);
static int parley_dtls_bio_write(BIO *bio, const char *buf, int len);
static int parley_dtls_bio_read(BIO *bio, char *buf, int size);
static long parley_dtls_bio_ctrl(BIO *bio, int cmd, long num, void *ptr);
static void parley_dtls_queue_record(parley_dtls_t *dtls, const uint8_t *rec,
    size_t len);
static void parley_dtls_flush(parley_dtls_t *dtls);
static void parley_dtls_send(parley_dtls_t *dtls, const uint8_t *buf,
    size_t len);

static unsigned int parley_dtls_timer(SSL *ssl, unsigned int timer_us);
static int parley_dtls_verify_cert(X509_STORE_CTX *store, void *arg);
static int parley_dtls_cert_matches(const parley_dtls_t *dtls, X509 *cert);
static parley_dtls_rc_t parley_dtls_digest(const X509 *cert,
    parley_dtls_hash_t hash, parley_dtls_fingerprint_t *fp);
static const EVP_MD *parley_dtls_hash_md(parley_dtls_hash_t hash);
static parley_dtls_rc_t parley_dtls_check_fingerprints(
    const parley_dtls_fingerprint_t *fps, size_t n);

static parley_dtls_rc_t parley_dtls_check_records(const uint8_t *buf,
    size_t len);
static parley_dtls_rc_t parley_dtls_drive(parley_dtls_t *dtls);
static parley_dtls_rc_t parley_dtls_handshake(parley_dtls_t *dtls);
static parley_dtls_rc_t parley_dtls_handshake_done(parley_dtls_t *dtls);
static parley_dtls_rc_t parley_dtls_verify_and_connect(parley_dtls_t *dtls);
static parley_dtls_rc_t parley_dtls_export_keys(parley_dtls_t *dtls,
    parley_dtls_srtp_keys_t *keys);
static const parley_dtls_srtp_spec_t *parley_dtls_srtp_spec(
    unsigned long id);
static parley_dtls_rc_t parley_dtls_read(parley_dtls_t *dtls);
static void parley_dtls_deliver(parley_dtls_t *dtls, const uint8_t *buf,
    size_t len);
static parley_dtls_rc_t parley_dtls_ssl_result(parley_dtls_t *dtls, int ret);
static parley_dtls_rc_t parley_dtls_ssl_failure(parley_dtls_t *dtls);

static int parley_dtls_takes_records(const parley_dtls_t *dtls);
static void parley_dtls_enter(parley_dtls_t *dtls);
static parley_dtls_rc_t parley_dtls_leave(parley_dtls_t *dtls,
    parley_dtls_rc_t rc);
static parley_dtls_rc_t parley_dtls_count(parley_dtls_t *dtls,
    parley_dtls_rc_t rc);
static parley_dtls_rc_t parley_dtls_fail(parley_dtls_t *dtls,
    parley_dtls_rc_t rc);
static parley_dtls_rc_t parley_dtls_refuse(parley_dtls_t *dtls,
    parley_dtls_rc_t rc);
static void parley_dtls_note_detail(parley_dtls_t *dtls, parley_dtls_rc_t rc);


static const parley_dtls_srtp_spec_t  parley_dtls_srtp_specs[] = {
    /* RFC 5764 4.1.2 */
    { PARLEY_DTLS_SRTP_AES128_CM_SHA1_80, "SRTP_AES128_CM_SHA1_80", 16, 14 },
    { PARLEY_DTLS_SRTP_AES128_CM_SHA1_32, "SRTP_AES128_CM_SHA1_32", 16, 14 },
    /* RFC 7714 14.2 */
    { PARLEY_DTLS_SRTP_AEAD_AES_128_GCM, "SRTP_AEAD_AES_128_GCM", 16, 12 },
    { PARLEY_DTLS_SRTP_AEAD_AES_256_GCM, "SRTP_AEAD_AES_256_GCM", 32, 12 }
};


static const parley_dtls_hash_spec_t  parley_dtls_hashes[] = {
    [PARLEY_DTLS_HASH_NONE]   = { NULL, 0 },
    [PARLEY_DTLS_HASH_SHA1]   = { "sha-1", 20 },
    [PARLEY_DTLS_HASH_SHA224] = { "sha-224", 28 },
    [PARLEY_DTLS_HASH_SHA256] = { "sha-256", 32 },
    [PARLEY_DTLS_HASH_SHA384] = { "sha-384", 48 },
    [PARLEY_DTLS_HASH_SHA512] = { "sha-512", 64 }
};


#define PARLEY_DTLS_RESULT_TEXT(name, text)  text,

static const char  *parley_dtls_rc_texts[] = {
    PARLEY_DTLS_RESULTS(PARLEY_DTLS_RESULT_TEXT)
};


/* A BIO type index is drawn once per process: there are only 127. */
static int  parley_dtls_bio_type = -1;


/* Identity */

parley_dtls_rc_t
parley_dtls_identity_create(parley_dtls_identity_t **out,
    const parley_dtls_identity_conf_t *conf)
{
    parley_dtls_rc_t                rc;
    parley_dtls_identity_t         *id;
    parley_dtls_identity_conf_t     defaults;

    if (out == NULL) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    *out = NULL;

    memset(&defaults, 0, sizeof(defaults));

    if (conf == NULL) {
        conf = &defaults;
    }

    rc = parley_dtls_identity_check_conf(conf);
    if (rc != PARLEY_DTLS_OK) {
        return rc;
    }

    id = calloc(1, sizeof(parley_dtls_identity_t));
    if (id == NULL) {
        return PARLEY_DTLS_ERR_NOMEM;
    }

    id->refs = 1;

    ERR_clear_error();

    rc = parley_dtls_identity_build(id, conf);

    ERR_clear_error();

    if (rc != PARLEY_DTLS_OK) {
        parley_dtls_identity_release(id);
        return rc;
    }

    *out = id;

    return PARLEY_DTLS_OK;
}


static parley_dtls_rc_t
parley_dtls_identity_check_conf(const parley_dtls_identity_conf_t *conf)
{
    if (conf->mtu != 0
        && (conf->mtu < PARLEY_DTLS_MTU_MIN || conf->mtu > PARLEY_DTLS_MTU_MAX))
    {
        return PARLEY_DTLS_ERR_INVAL;
    }

    if (!parley_dtls_timeout_valid(conf->timeout_ms)
        || !parley_dtls_timeout_valid(conf->timeout_max_ms)
        || (conf->timeout_max_ms != 0
            && conf->timeout_max_ms < conf->timeout_ms))
    {
        return PARLEY_DTLS_ERR_INVAL;
    }

    /* X509_gmtime_adj() takes seconds in a long */
    if (conf->validity_days > 100 * 366) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    return PARLEY_DTLS_OK;
}


/*
 * 0 for the default, or a time OpenSSL can keep (see _MIN_MS) that the
 * timer callback can hold in microseconds.
 */
static int
parley_dtls_timeout_valid(unsigned ms)
{
    return ms == 0
           || (ms >= PARLEY_DTLS_TIMEOUT_MIN_MS
               && ms <= PARLEY_DTLS_TIMEOUT_MAX_MS);
}


static parley_dtls_rc_t
parley_dtls_identity_build(parley_dtls_identity_t *id,
    const parley_dtls_identity_conf_t *conf)
{
    parley_dtls_rc_t           rc;
    parley_dtls_fingerprint_t  fp;

    id->mtu = conf->mtu ? conf->mtu : PARLEY_DTLS_MTU_DEFAULT;
    id->timeout_ms = conf->timeout_ms ? conf->timeout_ms
                                      : PARLEY_DTLS_TIMEOUT_DEFAULT_MS;
    id->timeout_max_ms = conf->timeout_max_ms ? conf->timeout_max_ms
                                              : PARLEY_DTLS_TIMEOUT_MAX_MS;

    if (id->timeout_max_ms < id->timeout_ms) {
        id->timeout_max_ms = id->timeout_ms;
    }

    rc = parley_dtls_make_key(id);
    if (rc != PARLEY_DTLS_OK) {
        return rc;
    }

    rc = parley_dtls_make_cert(id, conf->validity_days
                                   ? conf->validity_days
                                   : PARLEY_DTLS_VALIDITY_DAYS);
    if (rc != PARLEY_DTLS_OK) {
        return rc;
    }

    rc = parley_dtls_make_ctx(id, conf->srtp_profiles
                                  ? conf->srtp_profiles
                                  : PARLEY_DTLS_SRTP_PROFILES);
    if (rc != PARLEY_DTLS_OK) {
        return rc;
    }

    rc = parley_dtls_make_bio_method(id);
    if (rc != PARLEY_DTLS_OK) {
        return rc;
    }

    rc = parley_dtls_digest(id->cert, PARLEY_DTLS_HASH_SHA256, &fp);
    if (rc != PARLEY_DTLS_OK) {
        return rc;
    }

    if (parley_dtls_fingerprint_format(&fp, id->fingerprint,
                                       sizeof(id->fingerprint))
        == 0)
    {
        return PARLEY_DTLS_ERR_CRYPTO;
    }

    return PARLEY_DTLS_OK;
}


/* RFC 8827 6.5: ECDSA with P-256 is what every browser can verify. */
static parley_dtls_rc_t
parley_dtls_make_key(parley_dtls_identity_t *id)
{
    id->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (id->key == NULL) {
        return PARLEY_DTLS_ERR_CRYPTO;
    }

    return PARLEY_DTLS_OK;
}


/*
 * A self-signed certificate: no one checks its chain, only its fingerprint
 * (RFC 8122 5). Valid from a day ago, for peers whose clocks run behind.
 */
static parley_dtls_rc_t
parley_dtls_make_cert(parley_dtls_identity_t *id, unsigned days)
{
    X509       *cert;
    X509_NAME  *name;
    uint64_t    serial;

    cert = X509_new();
    if (cert == NULL) {
        return PARLEY_DTLS_ERR_NOMEM;
    }

    id->cert = cert;

    if (RAND_bytes((unsigned char *) &serial, sizeof(serial)) != 1) {
        return PARLEY_DTLS_ERR_CRYPTO;
    }

    /* RFC 5280 4.1.2.2: a positive integer of at most 20 octets */
    serial = (serial >> 1) | 1;

    name = X509_get_subject_name(cert);

    if (X509_set_version(cert, X509_VERSION_3) != 1
        || ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial) != 1
        || X509_gmtime_adj(X509_getm_notBefore(cert), -PARLEY_DTLS_DAY)
           == NULL
        || X509_gmtime_adj(X509_getm_notAfter(cert),
                           (long) days * PARLEY_DTLS_DAY)
           == NULL
        || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                      (const unsigned char *)
                                          PARLEY_DTLS_COMMON_NAME,
                                      -1, -1, 0)
           != 1
        || X509_set_issuer_name(cert, name) != 1
        || X509_set_pubkey(cert, id->key) != 1
        || X509_sign(cert, id->key, EVP_sha256()) == 0)
    {
        return PARLEY_DTLS_ERR_CRYPTO;
    }

    return PARLEY_DTLS_OK;
}


static parley_dtls_rc_t
parley_dtls_make_ctx(parley_dtls_identity_t *id, const char *profiles)
{
    SSL_CTX  *ctx;

    ctx = SSL_CTX_new(DTLS_method());
    if (ctx == NULL) {
        return PARLEY_DTLS_ERR_NOMEM;
    }

    id->ctx = ctx;

    /* RFC 8827 6.5: DTLS 1.2; SSL_CTX_set_tlsext_use_srtp() is 0 on success */
    if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1
        || SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1
        || SSL_CTX_use_certificate(ctx, id->cert) != 1
        || SSL_CTX_use_PrivateKey(ctx, id->key) != 1
        || SSL_CTX_check_private_key(ctx) != 1
        || SSL_CTX_set_cipher_list(ctx, PARLEY_DTLS_CIPHERS) != 1
        || SSL_CTX_set1_groups_list(ctx, PARLEY_DTLS_GROUPS) != 1
        || SSL_CTX_set_tlsext_use_srtp(ctx, profiles) != 0)
    {
        return PARLEY_DTLS_ERR_CRYPTO;
    }

    /*
     * RFC 5763 5: both ends present a certificate, so a server asks for
     * one and refuses a client without. Whether it is the right one is our
     * fingerprint check, not a chain to a CA.
     */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
    SSL_CTX_set_cert_verify_callback(ctx, parley_dtls_verify_cert, NULL);

    /* one datagram per read, and no resumption across associations */
    SSL_CTX_set_read_ahead(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

    /*
     * The MTU is ours to set, never probed; renegotiation has no use here
     * and is a way to make us work. No cookie exchange: RFC 6347 4.2.1
     * wants one against spoofed sources, and the ICE connectivity checks
     * (RFC 8445 7) have given the same proof before any DTLS reaches us.
     */
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET
                             | SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_CIPHER_SERVER_PREFERENCE);

    return PARLEY_DTLS_OK;
}


static parley_dtls_rc_t
parley_dtls_make_bio_method(parley_dtls_identity_t *id)
{
    BIO_METHOD  *method;

    if (parley_dtls_bio_type == -1) {
        parley_dtls_bio_type = BIO_get_new_index();

        if (parley_dtls_bio_type == -1) {
            return PARLEY_DTLS_ERR_CRYPTO;
        }
    }

    method = BIO_meth_new(parley_dtls_bio_type | BIO_TYPE_SOURCE_SINK,
                          "parley dtls datagrams");
    if (method == NULL) {
        return PARLEY_DTLS_ERR_NOMEM;
    }

    id->bio_method = method;

    if (BIO_meth_set_create(method, parley_dtls_bio_create) != 1
        || BIO_meth_set_write(method, parley_dtls_bio_write) != 1
        || BIO_meth_set_read(method, parley_dtls_bio_read) != 1
        || BIO_meth_set_ctrl(method, parley_dtls_bio_ctrl) != 1)
    {
        return PARLEY_DTLS_ERR_CRYPTO;
    }

    return PARLEY_DTLS_OK;
}


void
parley_dtls_identity_destroy(parley_dtls_identity_t *identity)
{
    if (identity != NULL) {
        parley_dtls_identity_release(identity);
    }
}


static void
parley_dtls_identity_release(parley_dtls_identity_t *id)
{
    if (--id->refs > 0) {
        return;
    }

    SSL_CTX_free(id->ctx);
    X509_free(id->cert);
    EVP_PKEY_free(id->key);
    BIO_meth_free(id->bio_method);
    free(id);
}


const char *
parley_dtls_identity_fingerprint_str(const parley_dtls_identity_t *identity)
{
    return identity != NULL ? identity->fingerprint : "";
}


parley_dtls_rc_t
parley_dtls_identity_fingerprint(const parley_dtls_identity_t *identity,
    parley_dtls_hash_t hash, parley_dtls_fingerprint_t *fp)
{
    parley_dtls_rc_t  rc;

    if (identity == NULL || fp == NULL) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    rc = parley_dtls_digest(identity->cert, hash, fp);

    ERR_clear_error();

    return rc;
}


/* Transport */

parley_dtls_rc_t
parley_dtls_create(parley_dtls_t **out, parley_dtls_identity_t *identity,
    const parley_dtls_conf_t *conf)
{
    parley_dtls_t     *dtls;
    parley_dtls_rc_t   rc;

    if (out == NULL) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    *out = NULL;

    if (identity == NULL || conf == NULL || conf->handler.send == NULL
        || (conf->role != PARLEY_DTLS_ROLE_CLIENT
            && conf->role != PARLEY_DTLS_ROLE_SERVER))
    {
        return PARLEY_DTLS_ERR_INVAL;
    }

    rc = parley_dtls_check_fingerprints(conf->fingerprints,
                                        conf->nfingerprints);
    if (rc != PARLEY_DTLS_OK) {
        return rc;
    }

    /* the datagram under construction lives with the transport */
    dtls = calloc(1, sizeof(parley_dtls_t) + identity->mtu);
    if (dtls == NULL) {
        return PARLEY_DTLS_ERR_NOMEM;
    }

    dtls->identity = identity;
    identity->refs++;

    dtls->role = conf->role;
    dtls->handler = conf->handler;
    dtls->mtu = identity->mtu;
    dtls->timeout_us = identity->timeout_ms * 1000;
    dtls->timeout_max_us = identity->timeout_max_ms * 1000;
    dtls->nfingerprints = conf->nfingerprints;

    if (conf->nfingerprints > 0) {
        memcpy(dtls->fingerprints, conf->fingerprints,
               conf->nfingerprints * sizeof(parley_dtls_fingerprint_t));
    }

    ERR_clear_error();

    rc = parley_dtls_make_ssl(dtls);

    ERR_clear_error();

    if (rc != PARLEY_DTLS_OK) {
        parley_dtls_destroy(dtls);
        return rc;
    }

    /* a server waits for a ClientHello from the start */
    dtls->state = dtls->role == PARLEY_DTLS_ROLE_SERVER
                  ? PARLEY_DTLS_CONNECTING : PARLEY_DTLS_NEW;

    *out = dtls;

    return PARLEY_DTLS_OK;
}


static parley_dtls_rc_t
parley_dtls_make_ssl(parley_dtls_t *dtls)
{
    BIO  *bio;
    SSL  *ssl;

    ssl = SSL_new(dtls->identity->ctx);
    if (ssl == NULL) {
        return PARLEY_DTLS_ERR_NOMEM;
    }

    dtls->ssl = ssl;

    bio = BIO_new(dtls->identity->bio_method);
    if (bio == NULL) {
        return PARLEY_DTLS_ERR_NOMEM;
    }

    BIO_set_data(bio, dtls);

    /* one BIO both ways: the SSL takes its one reference */
    SSL_set_bio(ssl, bio, bio);

    if (SSL_set_app_data(ssl, dtls) != 1) {
        return PARLEY_DTLS_ERR_NOMEM;
    }

    /* after the BIO: OpenSSL asks it for the overhead to check the MTU */
    if (SSL_set_mtu(ssl, (long) dtls->mtu) <= 0) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    DTLS_set_timer_cb(ssl, parley_dtls_timer);

    if (dtls->role == PARLEY_DTLS_ROLE_CLIENT) {
        SSL_set_connect_state(ssl);

    } else {
        SSL_set_accept_state(ssl);
    }

    return PARLEY_DTLS_OK;
}


void
parley_dtls_destroy(parley_dtls_t *dtls)
{
    if (dtls == NULL) {
        return;
    }

    /* frees the BIO too */
    SSL_free(dtls->ssl);
    ERR_clear_error();

    parley_dtls_identity_release(dtls->identity);
    free(dtls);
}


parley_dtls_rc_t
parley_dtls_start(parley_dtls_t *dtls)
{
    parley_dtls_rc_t  rc;

    if (dtls == NULL) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    if (dtls->role == PARLEY_DTLS_ROLE_SERVER) {
        return PARLEY_DTLS_OK;
    }

    if (dtls->state != PARLEY_DTLS_NEW) {
        return parley_dtls_count(dtls, PARLEY_DTLS_ERR_STATE);
    }

    parley_dtls_enter(dtls);

    dtls->state = PARLEY_DTLS_CONNECTING;
    rc = parley_dtls_handshake(dtls);

    return parley_dtls_leave(dtls, rc);
}


parley_dtls_rc_t
parley_dtls_feed(parley_dtls_t *dtls, const uint8_t *buf, size_t len)
{
    parley_dtls_rc_t  rc;

    if (dtls == NULL || (buf == NULL && len != 0)) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    dtls->stats.datagrams_in++;
    dtls->stats.bytes_in += len;

    if (!parley_dtls_takes_records(dtls)) {
        return parley_dtls_count(dtls, PARLEY_DTLS_ERR_STATE);
    }

    rc = parley_dtls_check_records(buf, len);
    if (rc != PARLEY_DTLS_OK) {
        return parley_dtls_count(dtls, rc);
    }

    parley_dtls_enter(dtls);

    dtls->in = buf;
    dtls->in_len = len;

    rc = parley_dtls_drive(dtls);

    return parley_dtls_leave(dtls, rc);
}


/*
 * RFC 6347 4.1: a datagram carries whole records, each a 13-byte header and
 * as many bytes as it says. One that does not is dropped here, before
 * OpenSSL, and the association goes on (RFC 6347 4.1.2.7). Only the types
 * of RFC 5246 6.2.1 are let through.
 */
static parley_dtls_rc_t
parley_dtls_check_records(const uint8_t *buf, size_t len)
{
    size_t  off, size;

    if (len > PARLEY_DTLS_DATAGRAM_MAX) {
        return PARLEY_DTLS_ERR_TOO_BIG;
    }

    if (len < PARLEY_DTLS_RECORD_HEADER) {
        return PARLEY_DTLS_ERR_NOT_DTLS;
    }

    for (off = 0; off < len; off += size) {

        if (len - off < PARLEY_DTLS_RECORD_HEADER
            || buf[off] < SSL3_RT_CHANGE_CIPHER_SPEC
            || buf[off] > SSL3_RT_APPLICATION_DATA
            || buf[off + 1] != DTLS1_VERSION_MAJOR)
        {
            return PARLEY_DTLS_ERR_NOT_DTLS;
        }

        size = PARLEY_DTLS_RECORD_HEADER
               + ((size_t) buf[off + 11] << 8 | buf[off + 12]);

        if (size > len - off) {
            return PARLEY_DTLS_ERR_NOT_DTLS;
        }
    }

    return PARLEY_DTLS_OK;
}


static parley_dtls_rc_t
parley_dtls_drive(parley_dtls_t *dtls)
{
    parley_dtls_rc_t  rc;

    if (dtls->state == PARLEY_DTLS_CONNECTING) {
        rc = parley_dtls_handshake(dtls);

        if (rc != PARLEY_DTLS_OK || dtls->state == PARLEY_DTLS_CONNECTING) {
            return rc;
        }
    }

    /* records after the last handshake message may share its datagram */
    if (dtls->state == PARLEY_DTLS_VERIFYING
        || dtls->state == PARLEY_DTLS_CONNECTED)
    {
        return parley_dtls_read(dtls);
    }

    return PARLEY_DTLS_OK;
}


static parley_dtls_rc_t
parley_dtls_handshake(parley_dtls_t *dtls)
{
    int  ret;

    ret = SSL_do_handshake(dtls->ssl);

    if (ret == 1) {
        return parley_dtls_handshake_done(dtls);
    }

    return parley_dtls_ssl_result(dtls, ret);
}


static parley_dtls_rc_t
parley_dtls_handshake_done(parley_dtls_t *dtls)
{
    /*
     * The SDP with the peer's fingerprint may still be on its way (the
     * answerer's ClientHello can overtake the answer): keep the keys back
     * until parley_dtls_set_fingerprints().
     */
    if (dtls->nfingerprints == 0) {
        dtls->state = PARLEY_DTLS_VERIFYING;
        return PARLEY_DTLS_OK;
    }

    return parley_dtls_verify_and_connect(dtls);
}


/*
 * RFC 5763 5: the certificate must match a fingerprint from the SDP before
 * any key is used. The verify callback has already refused a mismatch when
 * the fingerprints were known in time; this covers the case they were not.
 */
static parley_dtls_rc_t
parley_dtls_verify_and_connect(parley_dtls_t *dtls)
{
    X509                     *cert;
    parley_dtls_rc_t          rc;
    parley_dtls_srtp_keys_t   keys;

    cert = SSL_get0_peer_certificate(dtls->ssl);

    if (cert == NULL || !parley_dtls_cert_matches(dtls, cert)) {
        return parley_dtls_refuse(dtls, PARLEY_DTLS_ERR_FINGERPRINT);
    }

    rc = parley_dtls_export_keys(dtls, &keys);

    if (rc != PARLEY_DTLS_OK) {
        OPENSSL_cleanse(&keys, sizeof(keys));
        return parley_dtls_refuse(dtls, rc);
    }

    dtls->state = PARLEY_DTLS_CONNECTED;

    if (dtls->handler.on_connected != NULL) {
        dtls->handler.on_connected(dtls->handler.data, &keys);
    }

    OPENSSL_cleanse(&keys, sizeof(keys));

    return PARLEY_DTLS_OK;
}


/*
 * RFC 5764 4.2: the exporter gives client key, server key, client salt,
 * server salt, in that order; we protect with our side's and unprotect with
 * the peer's.
 */
static parley_dtls_rc_t
parley_dtls_export_keys(parley_dtls_t *dtls, parley_dtls_srtp_keys_t *keys)
{
    size_t                          k, s;
    uint8_t                         material[2 * PARLEY_DTLS_SRTP_MASTER_MAX];
    const uint8_t                  *client_key, *server_key;
    const uint8_t                  *client_salt, *server_salt;
    const uint8_t                  *local_key, *local_salt;
    const uint8_t                  *remote_key, *remote_salt;
    const parley_dtls_srtp_spec_t  *spec;
    SRTP_PROTECTION_PROFILE        *profile;

    memset(keys, 0, sizeof(parley_dtls_srtp_keys_t));

    profile = SSL_get_selected_srtp_profile(dtls->ssl);
    spec = profile != NULL ? parley_dtls_srtp_spec(profile->id) : NULL;

    if (spec == NULL) {
        return PARLEY_DTLS_ERR_NO_SRTP_PROFILE;
    }

    k = spec->key_len;
    s = spec->salt_len;

    if (SSL_export_keying_material(dtls->ssl, material, 2 * (k + s),
                                   PARLEY_DTLS_EXPORTER_LABEL,
                                   sizeof(PARLEY_DTLS_EXPORTER_LABEL) - 1,
                                   NULL, 0, 0)
        != 1)
    {
        return PARLEY_DTLS_ERR_KEY_EXPORT;
    }

    client_key = material;
    server_key = material + k;
    client_salt = material + 2 * k;
    server_salt = material + 2 * k + s;

    if (dtls->role == PARLEY_DTLS_ROLE_CLIENT) {
        local_key = client_key;
        local_salt = client_salt;
        remote_key = server_key;
        remote_salt = server_salt;

    } else {
        local_key = server_key;
        local_salt = server_salt;
        remote_key = client_key;
        remote_salt = client_salt;
    }

    keys->profile = spec->profile;
    keys->key_len = k;
    keys->salt_len = s;
    memcpy(keys->local, local_key, k);
    memcpy(keys->local + k, local_salt, s);
    memcpy(keys->remote, remote_key, k);
    memcpy(keys->remote + k, remote_salt, s);

    OPENSSL_cleanse(material, sizeof(material));

    return PARLEY_DTLS_OK;
}


static const parley_dtls_srtp_spec_t *
parley_dtls_srtp_spec(unsigned long id)
{
    size_t  i;

    for (i = 0; i < sizeof(parley_dtls_srtp_specs)
                    / sizeof(parley_dtls_srtp_specs[0]); i++)
    {
        if ((unsigned long) parley_dtls_srtp_specs[i].profile == id) {
            return &parley_dtls_srtp_specs[i];
        }
    }

    return NULL;
}


/* DTLS hands out at most one record per SSL_read(). */
static parley_dtls_rc_t
parley_dtls_read(parley_dtls_t *dtls)
{
    int      n;
    uint8_t  buf[PARLEY_DTLS_RECORD_MAX];

    for ( ;; ) {
        n = SSL_read(dtls->ssl, buf, sizeof(buf));

        if (n <= 0) {
            return parley_dtls_ssl_result(dtls, n);
        }

        parley_dtls_deliver(dtls, buf, (size_t) n);

        /* on_app_data() may have closed the transport */
        if (dtls->state != PARLEY_DTLS_VERIFYING
            && dtls->state != PARLEY_DTLS_CONNECTED)
        {
            return PARLEY_DTLS_OK;
        }
    }
}


static void
parley_dtls_deliver(parley_dtls_t *dtls, const uint8_t *buf, size_t len)
{
    /* not a byte from a peer whose certificate is not yet checked */
    if (dtls->state == PARLEY_DTLS_VERIFYING) {
        dtls->stats.app_records_dropped++;
        return;
    }

    dtls->stats.app_bytes_in += len;

    if (dtls->handler.on_app_data != NULL) {
        dtls->handler.on_app_data(dtls->handler.data, buf, len);
    }
}


/* What SSL_do_handshake(), SSL_read() or SSL_write() returning ret means. */
static parley_dtls_rc_t
parley_dtls_ssl_result(parley_dtls_t *dtls, int ret)
{
    switch (SSL_get_error(dtls->ssl, ret)) {

    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return PARLEY_DTLS_OK;

    case SSL_ERROR_ZERO_RETURN:
        /*
         * RFC 5246 7.2.1: the peer's close_notify. No close_notify of ours
         * in reply: the association is torn down now, and the reply would
         * only reach a peer that has already closed.
         */
        dtls->state = PARLEY_DTLS_CLOSED;
        dtls->notify_closed = 1;
        return PARLEY_DTLS_OK;

    default:
        return parley_dtls_fail(dtls, parley_dtls_ssl_failure(dtls));
    }
}


static parley_dtls_rc_t
parley_dtls_ssl_failure(parley_dtls_t *dtls)
{
    int            reason;
    unsigned long  err;

    if (dtls->fingerprint_rejected) {
        return PARLEY_DTLS_ERR_FINGERPRINT;
    }

    err = ERR_peek_last_error();
    reason = ERR_GET_REASON(err);

    if (ERR_GET_LIB(err) == ERR_LIB_SSL) {

        if (reason == SSL_R_READ_TIMEOUT_EXPIRED) {
            return PARLEY_DTLS_ERR_TIMEOUT;
        }

        /* OpenSSL's reason for an alert received is the alert plus this */
        if (reason >= SSL_AD_REASON_OFFSET) {
            return PARLEY_DTLS_ERR_ALERT;
        }
    }

    return dtls->state == PARLEY_DTLS_CONNECTING ? PARLEY_DTLS_ERR_HANDSHAKE
                                                 : PARLEY_DTLS_ERR_PROTOCOL;
}


int64_t
parley_dtls_timeout_ms(parley_dtls_t *dtls)
{
    struct timeval  tv;

    if (dtls == NULL || !parley_dtls_takes_records(dtls)
        || DTLSv1_get_timeout(dtls->ssl, &tv) != 1)
    {
        return -1;
    }

    return (int64_t) tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}


parley_dtls_rc_t
parley_dtls_handle_timeout(parley_dtls_t *dtls)
{
    long              ret;
    parley_dtls_rc_t  rc;

    if (dtls == NULL) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    /* a timer that fires after the end has nothing left to resend */
    if (!parley_dtls_takes_records(dtls)) {
        return PARLEY_DTLS_OK;
    }

    parley_dtls_enter(dtls);

    /* 0: the timer has not expired, or runs no more */
    ret = DTLSv1_handle_timeout(dtls->ssl);

    if (ret > 0) {
        dtls->stats.retransmits++;
    }

    rc = PARLEY_DTLS_OK;

    if (ret < 0) {
        rc = parley_dtls_fail(dtls, parley_dtls_ssl_failure(dtls));
    }

    return parley_dtls_leave(dtls, rc);
}


/*
 * Called by OpenSSL with 0 when a flight starts its timer, and with the
 * current duration when it expires.
 */
static unsigned int
parley_dtls_timer(SSL *ssl, unsigned int timer_us)
{
    parley_dtls_t  *dtls;

    dtls = SSL_get_app_data(ssl);

    if (timer_us == 0) {
        return dtls->timeout_us;
    }

    /* RFC 6347 4.2.4.1: double it at each retransmission, up to a cap */
    if (timer_us >= dtls->timeout_max_us / 2) {
        return dtls->timeout_max_us;
    }

    return timer_us * 2;
}


parley_dtls_rc_t
parley_dtls_set_fingerprints(parley_dtls_t *dtls,
    const parley_dtls_fingerprint_t *fps, size_t n)
{
    parley_dtls_rc_t  rc;

    if (dtls == NULL || n == 0) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    rc = parley_dtls_check_fingerprints(fps, n);
    if (rc != PARLEY_DTLS_OK) {
        return rc;
    }

    /* RFC 8842 4: a changed fingerprint means a new association */
    if (dtls->state != PARLEY_DTLS_NEW
        && dtls->state != PARLEY_DTLS_CONNECTING
        && dtls->state != PARLEY_DTLS_VERIFYING)
    {
        return parley_dtls_count(dtls, PARLEY_DTLS_ERR_STATE);
    }

    memcpy(dtls->fingerprints, fps, n * sizeof(parley_dtls_fingerprint_t));
    dtls->nfingerprints = n;

    if (dtls->state != PARLEY_DTLS_VERIFYING) {
        return PARLEY_DTLS_OK;
    }

    parley_dtls_enter(dtls);

    rc = parley_dtls_verify_and_connect(dtls);

    return parley_dtls_leave(dtls, rc);
}


static parley_dtls_rc_t
parley_dtls_check_fingerprints(const parley_dtls_fingerprint_t *fps,
    size_t n)
{
    size_t  i;

    if (n > PARLEY_DTLS_MAX_FINGERPRINTS || (n > 0 && fps == NULL)) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    for (i = 0; i < n; i++) {
        if (parley_dtls_hash_len(fps[i].hash) == 0
            || fps[i].len != parley_dtls_hash_len(fps[i].hash))
        {
            return PARLEY_DTLS_ERR_INVAL;
        }
    }

    return PARLEY_DTLS_OK;
}


/*
 * Replaces the chain check: the peer's certificate is self-signed and is
 * vouched for by its fingerprint alone (RFC 8122 5). A mismatch found here
 * ends the handshake with a bad_certificate alert, before either side has
 * keys. Without fingerprints yet, the check waits for them.
 */
static int
parley_dtls_verify_cert(X509_STORE_CTX *store, void *arg)
{
    SSL            *ssl;
    X509           *cert;
    parley_dtls_t  *dtls;

    (void) arg;

    ssl = X509_STORE_CTX_get_ex_data(store,
                                     SSL_get_ex_data_X509_STORE_CTX_idx());
    dtls = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    cert = X509_STORE_CTX_get0_cert(store);

    if (dtls == NULL || cert == NULL) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }

    if (dtls->nfingerprints == 0 || parley_dtls_cert_matches(dtls, cert)) {
        return 1;
    }

    dtls->fingerprint_rejected = 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);

    return 0;
}


/*
 * RFC 8122 5: with several a=fingerprint lines, a match with any of them
 * is enough.
 */
static int
parley_dtls_cert_matches(const parley_dtls_t *dtls, X509 *cert)
{
    size_t                            i;
    parley_dtls_fingerprint_t         actual;
    const parley_dtls_fingerprint_t  *expected;

    for (i = 0; i < dtls->nfingerprints; i++) {
        expected = &dtls->fingerprints[i];

        if (parley_dtls_digest(cert, expected->hash, &actual)
                == PARLEY_DTLS_OK
            && actual.len == expected->len
            && CRYPTO_memcmp(actual.digest, expected->digest, actual.len)
               == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* RFC 8122 5: the hash of the DER form of the certificate. */
static parley_dtls_rc_t
parley_dtls_digest(const X509 *cert, parley_dtls_hash_t hash,
    parley_dtls_fingerprint_t *fp)
{
    unsigned int   len;
    const EVP_MD  *md;

    memset(fp, 0, sizeof(parley_dtls_fingerprint_t));

    md = parley_dtls_hash_md(hash);
    if (md == NULL) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    if (X509_digest(cert, md, fp->digest, &len) != 1
        || len != parley_dtls_hash_len(hash))
    {
        return PARLEY_DTLS_ERR_CRYPTO;
    }

    fp->hash = hash;
    fp->len = len;

    return PARLEY_DTLS_OK;
}


static const EVP_MD *
parley_dtls_hash_md(parley_dtls_hash_t hash)
{
    switch (hash) {

    case PARLEY_DTLS_HASH_SHA1:
        return EVP_sha1();
    case PARLEY_DTLS_HASH_SHA224:
        return EVP_sha224();
    case PARLEY_DTLS_HASH_SHA256:
        return EVP_sha256();
    case PARLEY_DTLS_HASH_SHA384:
        return EVP_sha384();
    case PARLEY_DTLS_HASH_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}


parley_dtls_rc_t
parley_dtls_write(parley_dtls_t *dtls, const uint8_t *buf, size_t len)
{
    int               n;
    parley_dtls_rc_t  rc;

    if (dtls == NULL || buf == NULL || len == 0) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    if (dtls->state != PARLEY_DTLS_CONNECTED || dtls->ssl == NULL) {
        return parley_dtls_count(dtls, PARLEY_DTLS_ERR_STATE);
    }

    /* a record never spans datagrams: a larger one would be fragmented */
    if (len > DTLS_get_data_mtu(dtls->ssl)) {
        return parley_dtls_count(dtls, PARLEY_DTLS_ERR_TOO_BIG);
    }

    parley_dtls_enter(dtls);

    n = SSL_write(dtls->ssl, buf, (int) len);

    if (n > 0) {
        dtls->stats.app_bytes_out += (size_t) n;
        rc = PARLEY_DTLS_OK;

    } else {
        rc = parley_dtls_ssl_result(dtls, n);
    }

    return parley_dtls_leave(dtls, rc);
}


size_t
parley_dtls_data_mtu(const parley_dtls_t *dtls)
{
    if (dtls == NULL || dtls->state != PARLEY_DTLS_CONNECTED
        || dtls->ssl == NULL)
    {
        return 0;
    }

    return DTLS_get_data_mtu(dtls->ssl);
}


parley_dtls_rc_t
parley_dtls_close(parley_dtls_t *dtls)
{
    parley_dtls_rc_t  rc;

    if (dtls == NULL) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    if (dtls->state == PARLEY_DTLS_CLOSED
        || dtls->state == PARLEY_DTLS_FAILED)
    {
        return PARLEY_DTLS_OK;
    }

    parley_dtls_enter(dtls);

    /*
     * RFC 5246 7.2.1: close_notify once the handshake is done; during it,
     * OpenSSL has no alert to send, and the peer's timers end it.
     */
    if (dtls->ssl != NULL
        && (dtls->state == PARLEY_DTLS_VERIFYING
            || dtls->state == PARLEY_DTLS_CONNECTED))
    {
        (void) SSL_shutdown(dtls->ssl);
    }

    dtls->state = PARLEY_DTLS_CLOSED;
    rc = PARLEY_DTLS_OK;

    return parley_dtls_leave(dtls, rc);
}


parley_dtls_rc_t
parley_dtls_shed(parley_dtls_t *dtls)
{
    if (dtls == NULL) {
        return PARLEY_DTLS_ERR_INVAL;
    }

    if (dtls->state != PARLEY_DTLS_CONNECTED) {
        return parley_dtls_count(dtls, PARLEY_DTLS_ERR_STATE);
    }

    if (dtls->ssl != NULL) {
        /* frees the BIO, the buffers and the peer's certificate too */
        SSL_free(dtls->ssl);
        ERR_clear_error();
        dtls->ssl = NULL;
        dtls->stats.shed = 1;
    }

    return PARLEY_DTLS_OK;
}


parley_dtls_state_t
parley_dtls_state(const parley_dtls_t *dtls)
{
    return dtls != NULL ? dtls->state : PARLEY_DTLS_FAILED;
}


const parley_dtls_stats_t *
parley_dtls_stats(const parley_dtls_t *dtls)
{
    return dtls != NULL ? &dtls->stats : NULL;
}


const char *
parley_dtls_error_detail(const parley_dtls_t *dtls)
{
    return dtls != NULL ? dtls->detail : "";
}


/* The datagram BIO */

static int
parley_dtls_bio_create(BIO *bio)
{
    BIO_set_init(bio, 1);

    return 1;
}


/* OpenSSL writes one record per call. */
static int
parley_dtls_bio_write(BIO *bio, const char *buf, int len)
{
    parley_dtls_t  *dtls;

    BIO_clear_retry_flags(bio);

    dtls = BIO_get_data(bio);

    if (dtls == NULL || buf == NULL || len <= 0) {
        return 0;
    }

    parley_dtls_queue_record(dtls, (const uint8_t *) buf, (size_t) len);

    return len;
}


/* The whole datagram being fed, once; then "try again later". */
static int
parley_dtls_bio_read(BIO *bio, char *buf, int size)
{
    size_t          n;
    parley_dtls_t  *dtls;

    BIO_clear_retry_flags(bio);

    dtls = BIO_get_data(bio);

    if (dtls == NULL || dtls->in == NULL || buf == NULL || size <= 0) {
        BIO_set_retry_read(bio);
        return -1;
    }

    /* feed() refused datagrams longer than OpenSSL's buffer */
    n = dtls->in_len < (size_t) size ? dtls->in_len : (size_t) size;

    memcpy(buf, dtls->in, n);

    dtls->in = NULL;
    dtls->in_len = 0;

    return (int) n;
}


static long
parley_dtls_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    parley_dtls_t  *dtls;

    (void) num;
    (void) ptr;

    dtls = BIO_get_data(bio);

    if (dtls == NULL) {
        return 0;
    }

    switch (cmd) {

    case BIO_CTRL_FLUSH:
        parley_dtls_flush(dtls);
        return 1;

    /* how much of the datagram is taken: OpenSSL fills up the rest */
    case BIO_CTRL_WPENDING:
        return (long) dtls->out_len;

    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return (long) dtls->mtu;

    /* the MTU we were given is already the UDP payload */
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return 0;

    default:
        return 0;
    }
}


static void
parley_dtls_queue_record(parley_dtls_t *dtls, const uint8_t *rec, size_t len)
{
    if (dtls->out_len + len > dtls->mtu) {
        parley_dtls_flush(dtls);
    }

    /* write() keeps records within the MTU; should one not be, alone */
    if (len > dtls->mtu) {
        parley_dtls_send(dtls, rec, len);
        return;
    }

    memcpy(dtls->out + dtls->out_len, rec, len);
    dtls->out_len += len;
}


static void
parley_dtls_flush(parley_dtls_t *dtls)
{
    if (dtls->out_len == 0) {
        return;
    }

    parley_dtls_send(dtls, dtls->out, dtls->out_len);
    dtls->out_len = 0;
}


static void
parley_dtls_send(parley_dtls_t *dtls, const uint8_t *buf, size_t len)
{
    dtls->stats.datagrams_out++;
    dtls->stats.bytes_out += len;

    dtls->handler.send(dtls->handler.data, buf, len);
}


/* States, errors and the error queue */

static int
parley_dtls_takes_records(const parley_dtls_t *dtls)
{
    return dtls->ssl != NULL
           && (dtls->state == PARLEY_DTLS_CONNECTING
               || dtls->state == PARLEY_DTLS_VERIFYING
               || dtls->state == PARLEY_DTLS_CONNECTED);
}


/*
 * SSL_get_error() reads the thread's error queue, which must be empty
 * before the call it explains.
 */
static void
parley_dtls_enter(parley_dtls_t *dtls)
{
    (void) dtls;

    ERR_clear_error();
}


/*
 * Every public call that drives OpenSSL ends here: what it wrote leaves,
 * no error of this peer is left in the queue for the next peer, and the
 * callback that may destroy the transport comes last.
 */
static parley_dtls_rc_t
parley_dtls_leave(parley_dtls_t *dtls, parley_dtls_rc_t rc)
{
    parley_dtls_handler_t  *h;

    dtls->in = NULL;
    dtls->in_len = 0;

    parley_dtls_flush(dtls);

    ERR_clear_error();

    h = &dtls->handler;

    if (dtls->notify_error) {
        dtls->notify_error = 0;

        if (h->on_error != NULL) {
            h->on_error(h->data, dtls->error);
        }

    } else if (dtls->notify_closed) {
        dtls->notify_closed = 0;

        if (h->on_closed != NULL) {
            h->on_closed(h->data);
        }
    }

    return rc;
}


static parley_dtls_rc_t
parley_dtls_count(parley_dtls_t *dtls, parley_dtls_rc_t rc)
{
    if (rc > PARLEY_DTLS_OK && rc < PARLEY_DTLS_NRESULTS) {
        dtls->stats.errors[rc]++;
    }

    return rc;
}


/* The association is over; the caller hears of it on the way out. */
static parley_dtls_rc_t
parley_dtls_fail(parley_dtls_t *dtls, parley_dtls_rc_t rc)
{
    parley_dtls_note_detail(dtls, rc);

    dtls->state = PARLEY_DTLS_FAILED;
    dtls->error = rc;
    dtls->notify_error = 1;

    return parley_dtls_count(dtls, rc);
}


/*
 * A handshake that OpenSSL completed but we do not accept: the peer may
 * already hold keys, and close_notify is the one word left to tell it.
 */
static parley_dtls_rc_t
parley_dtls_refuse(parley_dtls_t *dtls, parley_dtls_rc_t rc)
{
    (void) SSL_shutdown(dtls->ssl);

    return parley_dtls_fail(dtls, rc);
}


static void
parley_dtls_note_detail(parley_dtls_t *dtls, parley_dtls_rc_t rc)
{
    unsigned long  err;

    err = ERR_peek_last_error();

    if (err != 0) {
        ERR_error_string_n(err, dtls->detail, sizeof(dtls->detail));
        return;
    }

    (void) snprintf(dtls->detail, sizeof(dtls->detail), "%s",
                    parley_dtls_rc_str(rc));
}


/* Names */

size_t
parley_dtls_fingerprint_format(const parley_dtls_fingerprint_t *fp,
    char *buf, size_t size)
{
    char        *p;
    size_t       i, name_len;
    const char  *name;

    static const char  hex[] = "0123456789ABCDEF";

    if (fp == NULL || buf == NULL) {
        return 0;
    }

    name = parley_dtls_hash_name(fp->hash);

    if (name == NULL || fp->len != parley_dtls_hash_len(fp->hash)) {
        return 0;
    }

    name_len = strlen(name);

    /* the name, a space, "XX" per byte with a colon between, a NUL */
    if (size < name_len + 3 * fp->len + 1) {
        return 0;
    }

    p = buf;
    memcpy(p, name, name_len);
    p += name_len;
    *p++ = ' ';

    /* RFC 8122 5: upper-case hex pairs separated by colons */
    for (i = 0; i < fp->len; i++) {
        if (i > 0) {
            *p++ = ':';
        }

        *p++ = hex[fp->digest[i] >> 4];
        *p++ = hex[fp->digest[i] & 0x0f];
    }

    *p = '\0';

    return (size_t) (p - buf);
}


const char *
parley_dtls_hash_name(parley_dtls_hash_t hash)
{
    if (hash > PARLEY_DTLS_HASH_SHA512) {
        return NULL;
    }

    return parley_dtls_hashes[hash].name;
}


size_t
parley_dtls_hash_len(parley_dtls_hash_t hash)
{
    if (hash > PARLEY_DTLS_HASH_SHA512) {
        return 0;
    }

    return parley_dtls_hashes[hash].len;
}


const char *
parley_dtls_srtp_profile_str(parley_dtls_srtp_profile_t profile)
{
    const parley_dtls_srtp_spec_t  *spec;

    spec = parley_dtls_srtp_spec((unsigned long) profile);

    return spec != NULL ? spec->name : "unknown";
}


const char *
parley_dtls_state_str(parley_dtls_state_t state)
{
    switch (state) {

    case PARLEY_DTLS_NEW:
        return "new";
    case PARLEY_DTLS_CONNECTING:
        return "connecting";
    case PARLEY_DTLS_VERIFYING:
        return "verifying";
    case PARLEY_DTLS_CONNECTED:
        return "connected";
    case PARLEY_DTLS_CLOSED:
        return "closed";
    case PARLEY_DTLS_FAILED:
        return "failed";
    }

    return "unknown";
}


const char *
parley_dtls_rc_str(parley_dtls_rc_t rc)
{
    if (rc >= PARLEY_DTLS_NRESULTS) {
        return "unknown";
    }

    return parley_dtls_rc_texts[rc];
}
