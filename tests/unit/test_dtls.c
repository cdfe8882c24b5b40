/*
 * Unit tests for the DTLS engine (relay/parley_dtls.c).
 *
 * Two transports, a client and a server, talk in memory: what one sends is
 * queued, and the queue is fed to the other after the call returns, so no
 * call re-enters the engine. Timers are real OpenSSL timers, so the tests
 * that need a retransmission use identities with a short one.
 *
 * With PARLEY_DTLS_CORPUS=DIR in the environment, the handshake tests also
 * write what the client sent, in the format of tests/fuzz/fuzz_dtls.c, as
 * seeds for its corpus.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "parley_dtls.h"


#define TEST_QUEUE_MAX    64
#define TEST_DGRAM_MAX    2048
#define TEST_LOG_MAX      16
#define TEST_TIMEOUT_MS   PARLEY_DTLS_TIMEOUT_MIN_MS

#define CM_ONLY           "SRTP_AES128_CM_SHA1_80"
#define CM_FIRST          "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"

#define EXPORTER_LABEL    "EXTRACTOR-dtls_srtp"

/* fuzz_dtls.c: a first byte of modes, then steps behind a length */
#define FUZZ_MODE_FINGERPRINT  0x01
#define FUZZ_MODE_LATE         0x02
#define FUZZ_STEP_TIMEOUT      0x0000
#define FUZZ_STEP_CLOSE        0xfffe
#define FUZZ_STEP_WRITE        0xffff


typedef struct {
    size_t   len;
    uint8_t  data[TEST_DGRAM_MAX];
} test_dgram_t;


typedef struct {
    parley_dtls_identity_t   *identity;
    parley_dtls_t            *dtls;
    size_t                    mtu;

    test_dgram_t              queue[TEST_QUEUE_MAX];   /* sent, not fed */
    size_t                    nqueue;
    test_dgram_t              log[TEST_LOG_MAX];       /* all sent */
    size_t                    nlog;
    size_t                    nsent;
    size_t                    max_sent;
    int                       dropping;
    size_t                    dropped;

    int                       connected;
    parley_dtls_srtp_keys_t   keys;
    int                       errors;
    parley_dtls_rc_t          error;
    int                       closed;
    int                       destroy_on_error;

    int                       app_count;
    size_t                    app_len;
    uint8_t                   app[TEST_DGRAM_MAX];
} test_end_t;


typedef struct {
    test_end_t  client;
    test_end_t  server;
} test_pair_t;


/* What each side of a pair is made with. */
typedef struct {
    const char  *client_profiles;
    const char  *server_profiles;
    size_t       mtu;
    unsigned     timeout_ms;
    int          client_knows_server;  /* fingerprints at creation */
    int          server_knows_client;
} test_setup_t;


static const test_setup_t  test_default = { NULL, NULL, 0, 0, 1, 1 };


/* Callbacks */

static void
test_send(void *data, const uint8_t *buf, size_t len)
{
    test_end_t  *end;

    end = data;

    /* every datagram fits the MTU: records never merged past it */
    assert_true(len > 0);
    assert_true(len <= end->mtu);

    end->nsent++;

    if (len > end->max_sent) {
        end->max_sent = len;
    }

    if (end->nlog < TEST_LOG_MAX) {
        memcpy(end->log[end->nlog].data, buf, len);
        end->log[end->nlog++].len = len;
    }

    if (end->dropping) {
        end->dropped++;
        return;
    }

    assert_true(end->nqueue < TEST_QUEUE_MAX);
    memcpy(end->queue[end->nqueue].data, buf, len);
    end->queue[end->nqueue++].len = len;
}


static void
test_on_connected(void *data, const parley_dtls_srtp_keys_t *keys)
{
    test_end_t  *end;

    end = data;
    end->connected++;
    end->keys = *keys;
}


static void
test_on_app_data(void *data, const uint8_t *buf, size_t len)
{
    test_end_t  *end;

    end = data;
    assert_true(len <= sizeof(end->app));

    end->app_count++;
    end->app_len = len;
    memcpy(end->app, buf, len);
}


static void
test_on_error(void *data, parley_dtls_rc_t reason)
{
    test_end_t  *end;

    end = data;
    end->errors++;
    end->error = reason;

    /* on_error() is the last thing a call does: destroying here is safe */
    if (end->destroy_on_error) {
        parley_dtls_destroy(end->dtls);
        end->dtls = NULL;
    }
}


static void
test_on_closed(void *data)
{
    test_end_t  *end;

    end = data;
    end->closed++;
}


/* Pairs */

static void
test_make_identity(test_end_t *end, const char *profiles,
    const test_setup_t *setup)
{
    parley_dtls_identity_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.srtp_profiles = profiles;
    conf.mtu = setup->mtu;
    conf.timeout_ms = setup->timeout_ms;

    assert_int_equal(parley_dtls_identity_create(&end->identity, &conf),
                     PARLEY_DTLS_OK);

    end->mtu = setup->mtu ? setup->mtu : PARLEY_DTLS_MTU_DEFAULT;
}


static void
test_make_transport(test_end_t *end, parley_dtls_role_t role,
    const test_end_t *peer, int knows_peer)
{
    parley_dtls_conf_t         conf;
    parley_dtls_fingerprint_t  fp;

    memset(&conf, 0, sizeof(conf));
    conf.role = role;
    conf.handler.data = end;
    conf.handler.send = test_send;
    conf.handler.on_connected = test_on_connected;
    conf.handler.on_app_data = test_on_app_data;
    conf.handler.on_error = test_on_error;
    conf.handler.on_closed = test_on_closed;

    if (knows_peer) {
        assert_int_equal(parley_dtls_identity_fingerprint(
                             peer->identity, PARLEY_DTLS_HASH_SHA256, &fp),
                         PARLEY_DTLS_OK);
        conf.fingerprints = &fp;
        conf.nfingerprints = 1;
    }

    assert_int_equal(parley_dtls_create(&end->dtls, end->identity, &conf),
                     PARLEY_DTLS_OK);
}


static test_pair_t *
test_pair_new(const test_setup_t *setup)
{
    test_pair_t  *p;

    p = calloc(1, sizeof(test_pair_t));
    assert_non_null(p);

    test_make_identity(&p->client, setup->client_profiles, setup);
    test_make_identity(&p->server, setup->server_profiles, setup);

    test_make_transport(&p->client, PARLEY_DTLS_ROLE_CLIENT, &p->server,
                        setup->client_knows_server);
    test_make_transport(&p->server, PARLEY_DTLS_ROLE_SERVER, &p->client,
                        setup->server_knows_client);

    return p;
}


static void
test_pair_free(test_pair_t *p)
{
    parley_dtls_destroy(p->client.dtls);
    parley_dtls_destroy(p->server.dtls);
    parley_dtls_identity_destroy(p->client.identity);
    parley_dtls_identity_destroy(p->server.identity);
    free(p);
}


/* Feeds the oldest datagram from's queue to to; 0 when there is none. */
static int
test_deliver_one(test_end_t *from, test_end_t *to)
{
    test_dgram_t  d;

    if (from->nqueue == 0) {
        return 0;
    }

    d = from->queue[0];
    from->nqueue--;
    memmove(&from->queue[0], &from->queue[1],
            from->nqueue * sizeof(test_dgram_t));

    if (to->dtls != NULL) {
        (void) parley_dtls_feed(to->dtls, d.data, d.len);
    }

    return 1;
}


static void
test_pump(test_pair_t *p)
{
    int  i, moved;

    for (i = 0; i < 1000; i++) {
        moved = test_deliver_one(&p->client, &p->server);
        moved |= test_deliver_one(&p->server, &p->client);

        if (!moved) {
            return;
        }
    }

    fail_msg("the two ends never stop talking");
}


static void
test_handshake(test_pair_t *p)
{
    assert_int_equal(parley_dtls_start(p->client.dtls), PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_start(p->server.dtls), PARLEY_DTLS_OK);
    test_pump(p);
}


static void
test_assert_connected(const test_end_t *end)
{
    assert_int_equal(end->connected, 1);
    assert_int_equal(end->errors, 0);
    assert_int_equal(parley_dtls_state(end->dtls), PARLEY_DTLS_CONNECTED);
    assert_string_equal(parley_dtls_error_detail(end->dtls), "");
}


/* The client's protect keys are the server's unprotect keys, and back. */
static void
test_assert_keys(const test_pair_t *p, parley_dtls_srtp_profile_t profile,
    size_t key_len, size_t salt_len)
{
    size_t                          n;
    const parley_dtls_srtp_keys_t  *c, *s;

    c = &p->client.keys;
    s = &p->server.keys;
    n = key_len + salt_len;

    assert_int_equal(c->profile, profile);
    assert_int_equal(s->profile, profile);
    assert_int_equal(c->key_len, key_len);
    assert_int_equal(s->key_len, key_len);
    assert_int_equal(c->salt_len, salt_len);
    assert_int_equal(s->salt_len, salt_len);

    assert_memory_equal(c->local, s->remote, n);
    assert_memory_equal(c->remote, s->local, n);
    assert_memory_not_equal(c->local, c->remote, n);
}


static void
test_assert_no_errors(const test_end_t *end)
{
    int                         rc;
    const parley_dtls_stats_t  *st;

    st = parley_dtls_stats(end->dtls);

    for (rc = 0; rc < PARLEY_DTLS_NRESULTS; rc++) {
        assert_int_equal(st->errors[rc], 0);
    }
}


static void
test_put_step(FILE *f, size_t len)
{
    fputc((int) (len >> 8), f);
    fputc((int) (len & 0xff), f);
}


/*
 * Seeds for the fuzzer (see the top of this file): the first n datagrams
 * end sent, after a byte of modes; with calls, then a timeout, a write and
 * a close, and the first datagram again.
 */
static void
test_write_seed(const char *name, const test_end_t *end, size_t n,
    int mode, int calls)
{
    FILE        *f;
    size_t       i;
    char         path[1024];
    const char  *dir;

    dir = getenv("PARLEY_DTLS_CORPUS");
    if (dir == NULL) {
        return;
    }

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "wb");
    assert_non_null(f);

    fputc(mode, f);

    for (i = 0; i < n && i < end->nlog; i++) {
        test_put_step(f, end->log[i].len);
        fwrite(end->log[i].data, 1, end->log[i].len, f);
    }

    if (calls) {
        test_put_step(f, FUZZ_STEP_TIMEOUT);
        test_put_step(f, FUZZ_STEP_WRITE);
        test_put_step(f, FUZZ_STEP_CLOSE);
        test_put_step(f, end->log[0].len);
        fwrite(end->log[0].data, 1, end->log[0].len, f);
    }

    assert_int_equal(fclose(f), 0);
}


static void
test_sleep_ms(int64_t ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    nanosleep(&ts, NULL);
}


/* Identity and fingerprints */

static void
test_identity_fingerprint(void **state)
{
    size_t                      i;
    const char                 *s;
    parley_dtls_identity_t     *a, *b;
    parley_dtls_fingerprint_t   fp;
    char                        buf[PARLEY_DTLS_FINGERPRINT_STR_MAX];

    (void) state;

    assert_int_equal(parley_dtls_identity_create(&a, NULL), PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_identity_create(&b, NULL), PARLEY_DTLS_OK);

    /* "sha-256 " and 32 upper-case hex pairs joined by colons */
    s = parley_dtls_identity_fingerprint_str(a);
    assert_int_equal(strlen(s), 8 + 32 * 3 - 1);
    assert_memory_equal(s, "sha-256 ", 8);

    for (i = 8; s[i] != '\0'; i++) {
        if ((i - 8) % 3 == 2) {
            assert_int_equal(s[i], ':');

        } else {
            assert_non_null(strchr("0123456789ABCDEF", s[i]));
        }
    }

    /* the string is the SHA-256 fingerprint, formatted */
    assert_int_equal(parley_dtls_identity_fingerprint(
                         a, PARLEY_DTLS_HASH_SHA256, &fp),
                     PARLEY_DTLS_OK);
    assert_int_equal(fp.len, 32);
    assert_int_equal(parley_dtls_fingerprint_format(&fp, buf, sizeof(buf)),
                     strlen(s));
    assert_string_equal(buf, s);

    /* a new key and certificate each time */
    assert_string_not_equal(s, parley_dtls_identity_fingerprint_str(b));

    assert_int_equal(parley_dtls_identity_fingerprint(
                         a, PARLEY_DTLS_HASH_SHA1, &fp),
                     PARLEY_DTLS_OK);
    assert_int_equal(fp.len, 20);
    assert_int_equal(parley_dtls_identity_fingerprint(
                         a, PARLEY_DTLS_HASH_SHA512, &fp),
                     PARLEY_DTLS_OK);
    assert_int_equal(fp.len, 64);
    assert_int_equal(parley_dtls_identity_fingerprint(
                         a, PARLEY_DTLS_HASH_NONE, &fp),
                     PARLEY_DTLS_ERR_INVAL);

    parley_dtls_identity_destroy(a);
    parley_dtls_identity_destroy(b);
}


static void
test_identity_bad_conf(void **state)
{
    parley_dtls_identity_t       *id;
    parley_dtls_identity_conf_t   conf;

    (void) state;

    memset(&conf, 0, sizeof(conf));
    conf.mtu = PARLEY_DTLS_MTU_MIN - 1;
    assert_int_equal(parley_dtls_identity_create(&id, &conf),
                     PARLEY_DTLS_ERR_INVAL);
    assert_null(id);

    memset(&conf, 0, sizeof(conf));
    conf.timeout_ms = PARLEY_DTLS_TIMEOUT_MIN_MS - 1;
    assert_int_equal(parley_dtls_identity_create(&id, &conf),
                     PARLEY_DTLS_ERR_INVAL);

    memset(&conf, 0, sizeof(conf));
    conf.timeout_ms = 500;
    conf.timeout_max_ms = 100;
    assert_int_equal(parley_dtls_identity_create(&id, &conf),
                     PARLEY_DTLS_ERR_INVAL);

    memset(&conf, 0, sizeof(conf));
    conf.srtp_profiles = "SRTP_NO_SUCH_PROFILE";
    assert_int_equal(parley_dtls_identity_create(&id, &conf),
                     PARLEY_DTLS_ERR_CRYPTO);
    assert_null(id);

    /* OpenSSL's complaint is not left for the next caller */
    assert_int_equal(ERR_peek_error(), 0);

    assert_int_equal(parley_dtls_identity_create(NULL, NULL),
                     PARLEY_DTLS_ERR_INVAL);
}


static void
test_fingerprint_format(void **state)
{
    size_t                     i;
    char                       buf[PARLEY_DTLS_FINGERPRINT_STR_MAX];
    parley_dtls_fingerprint_t  fp;

    (void) state;

    memset(&fp, 0, sizeof(fp));
    fp.hash = PARLEY_DTLS_HASH_SHA1;
    fp.len = 20;

    for (i = 0; i < fp.len; i++) {
        fp.digest[i] = (uint8_t) (i * 17 + 10);
    }

    assert_int_equal(parley_dtls_fingerprint_format(&fp, buf, sizeof(buf)),
                     65);
    assert_string_equal(buf, "sha-1 0A:1B:2C:3D:4E:5F:70:81:92:A3:B4:C5:"
                             "D6:E7:F8:09:1A:2B:3C:4D");

    /* exactly enough room, then one byte short */
    assert_int_equal(parley_dtls_fingerprint_format(&fp, buf, 6 + 60),
                     65);
    assert_int_equal(parley_dtls_fingerprint_format(&fp, buf, 6 + 59), 0);

    fp.len = 32;
    assert_int_equal(parley_dtls_fingerprint_format(&fp, buf, sizeof(buf)),
                     0);

    fp.hash = PARLEY_DTLS_HASH_SHA512;
    fp.len = 64;
    assert_int_equal(parley_dtls_fingerprint_format(&fp, buf, sizeof(buf)),
                     PARLEY_DTLS_FINGERPRINT_STR_MAX - 1);

    assert_string_equal(parley_dtls_hash_name(PARLEY_DTLS_HASH_SHA384),
                        "sha-384");
    assert_null(parley_dtls_hash_name(PARLEY_DTLS_HASH_NONE));
}


static void
test_create_bad_conf(void **state)
{
    parley_dtls_t              *dtls;
    parley_dtls_conf_t          conf;
    parley_dtls_identity_t     *id;
    parley_dtls_fingerprint_t   fp;

    (void) state;

    assert_int_equal(parley_dtls_identity_create(&id, NULL), PARLEY_DTLS_OK);

    memset(&conf, 0, sizeof(conf));
    conf.role = PARLEY_DTLS_ROLE_SERVER;

    /* no send() */
    assert_int_equal(parley_dtls_create(&dtls, id, &conf),
                     PARLEY_DTLS_ERR_INVAL);

    conf.handler.send = test_send;
    conf.role = 0;
    assert_int_equal(parley_dtls_create(&dtls, id, &conf),
                     PARLEY_DTLS_ERR_INVAL);

    /* a fingerprint whose length is not its hash's */
    memset(&fp, 0, sizeof(fp));
    fp.hash = PARLEY_DTLS_HASH_SHA256;
    fp.len = 20;
    conf.role = PARLEY_DTLS_ROLE_SERVER;
    conf.fingerprints = &fp;
    conf.nfingerprints = 1;
    assert_int_equal(parley_dtls_create(&dtls, id, &conf),
                     PARLEY_DTLS_ERR_INVAL);

    conf.nfingerprints = PARLEY_DTLS_MAX_FINGERPRINTS + 1;
    assert_int_equal(parley_dtls_create(&dtls, id, &conf),
                     PARLEY_DTLS_ERR_INVAL);

    parley_dtls_identity_destroy(id);
}


/* Handshakes and profiles */

static void
test_handshake_gcm(void **state)
{
    test_pair_t  *p;

    (void) state;

    p = test_pair_new(&test_default);

    assert_int_equal(parley_dtls_state(p->client.dtls), PARLEY_DTLS_NEW);
    assert_int_equal(parley_dtls_state(p->server.dtls),
                     PARLEY_DTLS_CONNECTING);
    assert_int_equal(parley_dtls_data_mtu(p->client.dtls), 0);

    test_handshake(p);

    test_assert_connected(&p->client);
    test_assert_connected(&p->server);
    test_assert_keys(p, PARLEY_DTLS_SRTP_AEAD_AES_128_GCM, 16, 12);
    test_assert_no_errors(&p->client);
    test_assert_no_errors(&p->server);

    /*
     * The server's first flight (ServerHello to ServerHelloDone, five
     * records) fits one 1200-byte datagram, and is sent as one; its last
     * flight is one more.
     */
    assert_int_equal(p->server.nsent, 2);
    assert_true(parley_dtls_data_mtu(p->client.dtls) > 1100);
    assert_true(parley_dtls_data_mtu(p->client.dtls) < 1200);

    assert_int_equal(parley_dtls_stats(p->client.dtls)->datagrams_out,
                     p->client.nsent);
    assert_int_equal(parley_dtls_stats(p->server.dtls)->datagrams_in,
                     p->client.nsent);

    /* no timer once done */
    assert_int_equal(parley_dtls_timeout_ms(p->client.dtls), -1);

    test_write_seed("client-hello", &p->client, 1, FUZZ_MODE_FINGERPRINT, 0);
    test_write_seed("client-flights", &p->client, TEST_LOG_MAX,
                    FUZZ_MODE_FINGERPRINT, 0);
    test_write_seed("client-flights-late", &p->client, TEST_LOG_MAX,
                    FUZZ_MODE_LATE, 0);
    test_write_seed("client-hello-calls", &p->client, 1, 0, 1);

    test_pair_free(p);
}


static void
test_handshake_cm_client_offers_cm_only(void **state)
{
    test_pair_t   *p;
    test_setup_t   setup;

    (void) state;

    setup = test_default;
    setup.client_profiles = CM_ONLY;

    p = test_pair_new(&setup);
    test_handshake(p);

    test_assert_connected(&p->client);
    test_assert_connected(&p->server);
    test_assert_keys(p, PARLEY_DTLS_SRTP_AES128_CM_SHA1_80, 16, 14);

    test_write_seed("client-hello-cm-only", &p->client, 1,
                    FUZZ_MODE_FINGERPRINT, 0);

    test_pair_free(p);
}


static void
test_handshake_cm_server_offers_cm_only(void **state)
{
    test_pair_t   *p;
    test_setup_t   setup;

    (void) state;

    setup = test_default;
    setup.server_profiles = CM_ONLY;

    p = test_pair_new(&setup);
    test_handshake(p);

    test_assert_keys(p, PARLEY_DTLS_SRTP_AES128_CM_SHA1_80, 16, 14);

    test_pair_free(p);
}


/* As a server we pick GCM even when the client lists CM first. */
static void
test_handshake_server_prefers_gcm(void **state)
{
    test_pair_t   *p;
    test_setup_t   setup;

    (void) state;

    setup = test_default;
    setup.client_profiles = CM_FIRST;

    p = test_pair_new(&setup);
    test_handshake(p);

    test_assert_keys(p, PARLEY_DTLS_SRTP_AEAD_AES_128_GCM, 16, 12);

    test_pair_free(p);
}


static void
test_handshake_small_mtu(void **state)
{
    test_pair_t   *p;
    test_setup_t   setup;

    (void) state;

    setup = test_default;
    setup.mtu = PARLEY_DTLS_MTU_MIN;

    p = test_pair_new(&setup);
    test_handshake(p);

    test_assert_connected(&p->client);
    test_assert_connected(&p->server);

    /* its second flight came in fragments: seeds for reassembly */
    test_write_seed("client-flights-small-mtu", &p->client, TEST_LOG_MAX,
                    FUZZ_MODE_FINGERPRINT, 0);

    /* test_send() checked each datagram; the flight needed several */
    assert_true(p->server.nsent > 2);
    assert_true(p->server.max_sent <= PARLEY_DTLS_MTU_MIN);

    test_pair_free(p);
}


/* The transports hold the identity: it may go before them. */
static void
test_identity_outlives_creator(void **state)
{
    test_pair_t  *p;

    (void) state;

    p = test_pair_new(&test_default);

    parley_dtls_identity_destroy(p->client.identity);
    parley_dtls_identity_destroy(p->server.identity);
    p->client.identity = NULL;
    p->server.identity = NULL;

    test_handshake(p);

    test_assert_connected(&p->client);
    test_assert_connected(&p->server);

    test_pair_free(p);
}


/*
 * A DTLS client made with OpenSSL directly, through memory BIOs: the keys
 * the engine hands out are checked against this client's own exporter
 * output, split by RFC 5764 4.2, not against the engine itself.
 */
typedef struct {
    EVP_PKEY  *key;
    X509      *cert;
    SSL_CTX   *ctx;
    SSL       *ssl;
    BIO       *in;                 /* what the server sent */
    BIO       *out;                /* what the client wrote */
} test_raw_client_t;


static void
test_raw_client_init(test_raw_client_t *raw)
{
    X509_NAME  *name;

    raw->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(raw->key);

    raw->cert = X509_new();
    assert_non_null(raw->cert);
    name = X509_get_subject_name(raw->cert);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                         (const unsigned char *) "raw", -1, -1, 0), 1);
    assert_int_equal(X509_set_issuer_name(raw->cert, name), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(raw->cert), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(raw->cert), 3600));
    assert_int_equal(X509_set_pubkey(raw->cert, raw->key), 1);
    assert_true(X509_sign(raw->cert, raw->key, EVP_sha256()) > 0);

    raw->ctx = SSL_CTX_new(DTLS_client_method());
    assert_non_null(raw->ctx);
    assert_int_equal(SSL_CTX_use_certificate(raw->ctx, raw->cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(raw->ctx, raw->key), 1);
    assert_int_equal(SSL_CTX_set_tlsext_use_srtp(raw->ctx,
                                                 PARLEY_DTLS_SRTP_PROFILES),
                     0);

    raw->ssl = SSL_new(raw->ctx);
    assert_non_null(raw->ssl);
    raw->in = BIO_new(BIO_s_mem());
    raw->out = BIO_new(BIO_s_mem());
    assert_non_null(raw->in);
    assert_non_null(raw->out);
    BIO_set_mem_eof_return(raw->in, -1);
    SSL_set_bio(raw->ssl, raw->in, raw->out);
    SSL_set_connect_state(raw->ssl);
}


static void
test_raw_client_free(test_raw_client_t *raw)
{
    SSL_free(raw->ssl);
    SSL_CTX_free(raw->ctx);
    X509_free(raw->cert);
    EVP_PKEY_free(raw->key);
}


/* Drives the raw client and feeds all it wrote to the server at once. */
static void
test_raw_client_step(test_raw_client_t *raw, test_end_t *server)
{
    int      n;
    uint8_t  buf[4096];

    (void) SSL_do_handshake(raw->ssl);

    n = BIO_read(raw->out, buf, sizeof(buf));

    if (n > 0) {
        (void) parley_dtls_feed(server->dtls, buf, (size_t) n);
    }
}


static void
test_keys_follow_exporter_layout(void **state)
{
    int                         i;
    size_t                      k, s;
    uint8_t                     m[2 * PARLEY_DTLS_SRTP_MASTER_MAX];
    test_end_t                 *server;
    test_pair_t                *p;
    test_setup_t                setup;
    test_dgram_t               *d;
    unsigned int                len;
    test_raw_client_t           raw;
    parley_dtls_fingerprint_t   fp;
    SRTP_PROTECTION_PROFILE    *profile;

    (void) state;

    setup = test_default;
    setup.server_knows_client = 0;

    p = test_pair_new(&setup);
    server = &p->server;

    test_raw_client_init(&raw);

    memset(&fp, 0, sizeof(fp));
    fp.hash = PARLEY_DTLS_HASH_SHA256;
    assert_int_equal(X509_digest(raw.cert, EVP_sha256(), fp.digest, &len),
                     1);
    fp.len = len;
    assert_int_equal(parley_dtls_set_fingerprints(server->dtls, &fp, 1),
                     PARLEY_DTLS_OK);

    test_raw_client_step(&raw, server);

    for (i = 0; i < 20 && server->nqueue > 0; i++) {
        d = &server->queue[0];
        assert_int_equal(BIO_write(raw.in, d->data, (int) d->len),
                         (int) d->len);
        server->nqueue--;
        memmove(&server->queue[0], &server->queue[1],
                server->nqueue * sizeof(test_dgram_t));

        test_raw_client_step(&raw, server);
    }

    assert_int_equal(SSL_is_init_finished(raw.ssl), 1);
    test_assert_connected(server);

    profile = SSL_get_selected_srtp_profile(raw.ssl);
    assert_non_null(profile);
    assert_int_equal(profile->id, server->keys.profile);

    k = server->keys.key_len;
    s = server->keys.salt_len;
    assert_int_equal(SSL_export_keying_material(raw.ssl, m, 2 * (k + s),
                         EXPORTER_LABEL, sizeof(EXPORTER_LABEL) - 1,
                         NULL, 0, 0), 1);

    /* client key, server key, client salt, server salt */
    assert_memory_equal(server->keys.remote, m, k);
    assert_memory_equal(server->keys.local, m + k, k);
    assert_memory_equal(server->keys.remote + k, m + 2 * k, s);
    assert_memory_equal(server->keys.local + k, m + 2 * k + s, s);

    test_raw_client_free(&raw);
    test_pair_free(p);
}


/* Fingerprints */

static void
test_fingerprint_mismatch_at_server(void **state)
{
    test_pair_t                *p;
    test_setup_t                setup;
    parley_dtls_fingerprint_t   wrong;

    (void) state;

    setup = test_default;
    setup.server_knows_client = 0;

    p = test_pair_new(&setup);

    /* the server expects its own certificate, not the client's */
    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->server.identity, PARLEY_DTLS_HASH_SHA256,
                         &wrong),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_set_fingerprints(p->server.dtls, &wrong, 1),
                     PARLEY_DTLS_OK);

    test_handshake(p);

    /* refused during the handshake: a bad_certificate alert, no keys */
    assert_int_equal(p->server.connected, 0);
    assert_int_equal(p->client.connected, 0);
    assert_int_equal(p->server.error, PARLEY_DTLS_ERR_FINGERPRINT);
    assert_int_equal(p->client.error, PARLEY_DTLS_ERR_ALERT);
    assert_int_equal(parley_dtls_state(p->server.dtls), PARLEY_DTLS_FAILED);
    assert_int_equal(parley_dtls_state(p->client.dtls), PARLEY_DTLS_FAILED);
    assert_int_equal(
        parley_dtls_stats(p->server.dtls)->errors[PARLEY_DTLS_ERR_FINGERPRINT],
        1);
    assert_string_not_equal(parley_dtls_error_detail(p->server.dtls), "");
    assert_string_not_equal(parley_dtls_error_detail(p->client.dtls), "");

    /* nothing left in OpenSSL's error queue for another peer */
    assert_int_equal(ERR_peek_error(), 0);

    /* records after the failure are refused and counted */
    assert_int_equal(parley_dtls_feed(p->server.dtls, p->client.log[0].data,
                                      p->client.log[0].len),
                     PARLEY_DTLS_ERR_STATE);
    assert_int_equal(
        parley_dtls_stats(p->server.dtls)->errors[PARLEY_DTLS_ERR_STATE], 1);
    assert_int_equal(parley_dtls_timeout_ms(p->server.dtls), -1);
    assert_int_equal(parley_dtls_handle_timeout(p->server.dtls),
                     PARLEY_DTLS_OK);

    test_pair_free(p);
}


static void
test_fingerprint_mismatch_at_client(void **state)
{
    test_pair_t                *p;
    test_setup_t                setup;
    parley_dtls_fingerprint_t   wrong;

    (void) state;

    setup = test_default;
    setup.client_knows_server = 0;

    p = test_pair_new(&setup);

    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->client.identity, PARLEY_DTLS_HASH_SHA256,
                         &wrong),
                     PARLEY_DTLS_OK);
    wrong.digest[0] ^= 1;
    assert_int_equal(parley_dtls_set_fingerprints(p->client.dtls, &wrong, 1),
                     PARLEY_DTLS_OK);

    test_handshake(p);

    assert_int_equal(p->server.connected, 0);
    assert_int_equal(p->client.connected, 0);
    assert_int_equal(p->client.error, PARLEY_DTLS_ERR_FINGERPRINT);
    assert_int_equal(p->server.error, PARLEY_DTLS_ERR_ALERT);
    assert_int_equal(ERR_peek_error(), 0);

    test_pair_free(p);
}


/* RFC 8122 5: any supported hash, any one of several lines. */
static void
test_fingerprint_other_hashes(void **state)
{
    test_pair_t                *p;
    test_setup_t                setup;
    parley_dtls_fingerprint_t   fps[3];

    (void) state;

    setup = test_default;
    setup.client_knows_server = 0;
    setup.server_knows_client = 0;

    p = test_pair_new(&setup);

    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->client.identity, PARLEY_DTLS_HASH_SHA384,
                         &fps[0]),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_set_fingerprints(p->server.dtls, fps, 1),
                     PARLEY_DTLS_OK);

    /* a wrong sha-256, then a right sha-1 and sha-512 */
    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->client.identity, PARLEY_DTLS_HASH_SHA256,
                         &fps[0]),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->server.identity, PARLEY_DTLS_HASH_SHA1,
                         &fps[1]),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->server.identity, PARLEY_DTLS_HASH_SHA512,
                         &fps[2]),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_set_fingerprints(p->client.dtls, fps, 3),
                     PARLEY_DTLS_OK);

    test_handshake(p);

    test_assert_connected(&p->client);
    test_assert_connected(&p->server);
    test_assert_keys(p, PARLEY_DTLS_SRTP_AEAD_AES_128_GCM, 16, 12);

    test_pair_free(p);
}


/* The SDP answer with the fingerprint comes after the handshake. */
static void
test_fingerprint_late(void **state)
{
    test_pair_t                *p;
    test_setup_t                setup;
    parley_dtls_fingerprint_t   fp;
    static const uint8_t        early[] = "before the fingerprint";

    (void) state;

    setup = test_default;
    setup.server_knows_client = 0;

    p = test_pair_new(&setup);
    test_handshake(p);

    test_assert_connected(&p->client);
    assert_int_equal(p->server.connected, 0);
    assert_int_equal(parley_dtls_state(p->server.dtls),
                     PARLEY_DTLS_VERIFYING);

    /* nothing reaches the caller from a peer not yet checked */
    assert_int_equal(parley_dtls_write(p->client.dtls, early, sizeof(early)),
                     PARLEY_DTLS_OK);
    test_pump(p);
    assert_int_equal(p->server.app_count, 0);
    assert_int_equal(parley_dtls_stats(p->server.dtls)->app_records_dropped,
                     1);
    assert_int_equal(parley_dtls_write(p->server.dtls, early, sizeof(early)),
                     PARLEY_DTLS_ERR_STATE);

    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->client.identity, PARLEY_DTLS_HASH_SHA256, &fp),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_set_fingerprints(p->server.dtls, &fp, 1),
                     PARLEY_DTLS_OK);

    test_assert_connected(&p->server);
    test_assert_keys(p, PARLEY_DTLS_SRTP_AEAD_AES_128_GCM, 16, 12);

    /* once checked, a fingerprint cannot be changed */
    assert_int_equal(parley_dtls_set_fingerprints(p->server.dtls, &fp, 1),
                     PARLEY_DTLS_ERR_STATE);

    test_pair_free(p);
}


static void
test_fingerprint_late_mismatch(void **state)
{
    test_pair_t                *p;
    test_setup_t                setup;
    parley_dtls_fingerprint_t   wrong;

    (void) state;

    setup = test_default;
    setup.server_knows_client = 0;

    p = test_pair_new(&setup);
    test_handshake(p);

    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->server.identity, PARLEY_DTLS_HASH_SHA256,
                         &wrong),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_set_fingerprints(p->server.dtls, &wrong, 1),
                     PARLEY_DTLS_ERR_FINGERPRINT);

    assert_int_equal(p->server.connected, 0);
    assert_int_equal(p->server.errors, 1);
    assert_int_equal(p->server.error, PARLEY_DTLS_ERR_FINGERPRINT);

    /* the client, which already had keys, is told to stop */
    test_pump(p);
    assert_int_equal(p->client.closed, 1);
    assert_int_equal(parley_dtls_state(p->client.dtls), PARLEY_DTLS_CLOSED);
    assert_int_equal(ERR_peek_error(), 0);

    test_pair_free(p);
}


/* Loss and retransmission */

static void
test_retransmission_after_loss(void **state)
{
    int            i;
    int64_t        t, wait;
    test_pair_t   *p;
    test_setup_t   setup;

    (void) state;

    setup = test_default;
    setup.timeout_ms = TEST_TIMEOUT_MS;

    p = test_pair_new(&setup);

    /* a server has no timer before it has sent anything */
    assert_int_equal(parley_dtls_timeout_ms(p->server.dtls), -1);

    assert_int_equal(parley_dtls_start(p->client.dtls), PARLEY_DTLS_OK);

    t = parley_dtls_timeout_ms(p->client.dtls);
    assert_true(t >= 0 && t <= TEST_TIMEOUT_MS);

    /* the server's whole first flight is lost */
    p->server.dropping = 1;
    assert_int_equal(test_deliver_one(&p->client, &p->server), 1);
    p->server.dropping = 0;
    assert_true(p->server.dropped > 0);

    /* a timer that has not expired resends nothing */
    assert_int_equal(parley_dtls_handle_timeout(p->server.dtls),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_stats(p->server.dtls)->retransmits, 0);

    for (i = 0; i < 20 && !(p->client.connected && p->server.connected);
         i++)
    {
        wait = parley_dtls_timeout_ms(p->client.dtls);
        t = parley_dtls_timeout_ms(p->server.dtls);

        if (wait < 0 || (t >= 0 && t < wait)) {
            wait = t;
        }

        assert_true(wait >= 0);
        test_sleep_ms(wait + 1);

        assert_int_equal(parley_dtls_handle_timeout(p->client.dtls),
                         PARLEY_DTLS_OK);
        assert_int_equal(parley_dtls_handle_timeout(p->server.dtls),
                         PARLEY_DTLS_OK);
        test_pump(p);
    }

    test_assert_connected(&p->client);
    test_assert_connected(&p->server);
    test_assert_keys(p, PARLEY_DTLS_SRTP_AEAD_AES_128_GCM, 16, 12);

    assert_true(parley_dtls_stats(p->client.dtls)->retransmits
                + parley_dtls_stats(p->server.dtls)->retransmits
                > 0);

    test_pair_free(p);
}


/* A peer that never answers: OpenSSL's twelve timeouts, then an error. */
static void
test_handshake_gives_up(void **state)
{
    int                           i;
    int64_t                       t;
    test_end_t                    end;
    parley_dtls_identity_conf_t   conf;
    parley_dtls_conf_t            dconf;

    (void) state;

    memset(&end, 0, sizeof(end));
    memset(&conf, 0, sizeof(conf));
    conf.timeout_ms = TEST_TIMEOUT_MS;
    conf.timeout_max_ms = TEST_TIMEOUT_MS;
    assert_int_equal(parley_dtls_identity_create(&end.identity, &conf),
                     PARLEY_DTLS_OK);
    end.mtu = PARLEY_DTLS_MTU_DEFAULT;
    end.dropping = 1;

    memset(&dconf, 0, sizeof(dconf));
    dconf.role = PARLEY_DTLS_ROLE_CLIENT;
    dconf.handler.data = &end;
    dconf.handler.send = test_send;
    dconf.handler.on_error = test_on_error;
    assert_int_equal(parley_dtls_create(&end.dtls, end.identity, &dconf),
                     PARLEY_DTLS_OK);

    assert_int_equal(parley_dtls_start(end.dtls), PARLEY_DTLS_OK);

    for (i = 0; i < 50; i++) {
        t = parley_dtls_timeout_ms(end.dtls);

        if (t < 0) {
            break;
        }

        /* the cap holds the timer */
        assert_true(t <= TEST_TIMEOUT_MS);
        test_sleep_ms(t + 1);
        (void) parley_dtls_handle_timeout(end.dtls);
    }

    assert_int_equal(parley_dtls_state(end.dtls), PARLEY_DTLS_FAILED);
    assert_int_equal(end.errors, 1);
    assert_int_equal(end.error, PARLEY_DTLS_ERR_TIMEOUT);
    assert_int_equal(
        parley_dtls_stats(end.dtls)->errors[PARLEY_DTLS_ERR_TIMEOUT], 1);
    assert_int_equal(parley_dtls_stats(end.dtls)->retransmits, 12);
    assert_int_equal(end.nsent, 13);
    assert_int_equal(ERR_peek_error(), 0);

    parley_dtls_destroy(end.dtls);
    parley_dtls_identity_destroy(end.identity);
}


/* Bad input */

/* Datagrams that are not a sequence of whole DTLS records. */
static void
test_feed_garbage(test_end_t *end, const test_end_t *source)
{
    size_t                      i;
    uint8_t                     buf[64];
    const parley_dtls_stats_t  *st;
    parley_dtls_state_t         before;

    st = parley_dtls_stats(end->dtls);
    before = parley_dtls_state(end->dtls);

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t) (i * 37 + 5);
    }

    /* handshake type, but version byte garbage */
    buf[0] = 22;
    assert_int_equal(parley_dtls_feed(end->dtls, buf, sizeof(buf)),
                     PARLEY_DTLS_ERR_NOT_DTLS);

    /* shorter than a record header */
    assert_int_equal(parley_dtls_feed(end->dtls, buf, 5),
                     PARLEY_DTLS_ERR_NOT_DTLS);

    /* a real record, cut short */
    assert_int_equal(parley_dtls_feed(end->dtls, source->log[0].data,
                                      source->log[0].len / 2),
                     PARLEY_DTLS_ERR_NOT_DTLS);

    /* a real record with a byte of trailing junk */
    memcpy(buf, source->log[0].data, 13);
    buf[11] = 0;
    buf[12] = 1;
    buf[13] = 0;
    buf[14] = 0xff;
    assert_int_equal(parley_dtls_feed(end->dtls, buf, 15),
                     PARLEY_DTLS_ERR_NOT_DTLS);

    assert_int_equal(st->errors[PARLEY_DTLS_ERR_NOT_DTLS], 4);
    assert_int_equal(parley_dtls_state(end->dtls), before);
    assert_int_equal(ERR_peek_error(), 0);
}


static void
test_garbage_before_handshake(void **state)
{
    test_pair_t  *p;

    (void) state;

    p = test_pair_new(&test_default);

    assert_int_equal(parley_dtls_start(p->client.dtls), PARLEY_DTLS_OK);

    /* RFC 6347 4.1.2.7: dropped, and the association goes on */
    test_feed_garbage(&p->server, &p->client);
    assert_int_equal(p->server.errors, 0);

    test_pump(p);

    test_assert_connected(&p->client);
    test_assert_connected(&p->server);

    test_pair_free(p);
}


static void
test_garbage_after_handshake(void **state)
{
    uint8_t                buf[200];
    test_pair_t           *p;
    static const uint8_t   ping[] = "ping";

    /* application data, DTLS 1.2, epoch 1, a sequence number, no length */
    static const uint8_t   app_record_header[13] = {
        23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0
    };

    (void) state;

    p = test_pair_new(&test_default);
    test_handshake(p);

    test_feed_garbage(&p->client, &p->server);
    test_feed_garbage(&p->server, &p->client);

    /* well formed, but its MAC cannot be right: OpenSSL drops it */
    memset(buf, 0x5a, sizeof(buf));
    memcpy(buf, app_record_header, sizeof(app_record_header));
    buf[12] = sizeof(buf) - 13;
    assert_int_equal(parley_dtls_feed(p->server.dtls, buf, sizeof(buf)),
                     PARLEY_DTLS_OK);

    assert_int_equal(p->server.app_count, 0);
    test_assert_connected(&p->client);
    test_assert_connected(&p->server);

    assert_int_equal(parley_dtls_write(p->client.dtls, ping, sizeof(ping)),
                     PARLEY_DTLS_OK);
    test_pump(p);
    assert_int_equal(p->server.app_count, 1);
    assert_memory_equal(p->server.app, ping, sizeof(ping));

    test_pair_free(p);
}


static void
test_feed_before_start(void **state)
{
    test_pair_t           *p;
    static const uint8_t   empty_record[13] = { 22, 0xfe, 0xfd };

    (void) state;

    p = test_pair_new(&test_default);

    /* a client that has not started takes nothing */
    assert_int_equal(parley_dtls_feed(p->client.dtls, empty_record,
                                      sizeof(empty_record)),
                     PARLEY_DTLS_ERR_STATE);
    assert_int_equal(
        parley_dtls_stats(p->client.dtls)->errors[PARLEY_DTLS_ERR_STATE], 1);

    assert_int_equal(parley_dtls_feed(NULL, NULL, 0), PARLEY_DTLS_ERR_INVAL);
    assert_int_equal(parley_dtls_feed(p->client.dtls, NULL, 3),
                     PARLEY_DTLS_ERR_INVAL);

    assert_int_equal(parley_dtls_start(p->client.dtls), PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_start(p->client.dtls),
                     PARLEY_DTLS_ERR_STATE);

    test_pump(p);

    test_assert_connected(&p->client);
    test_assert_connected(&p->server);

    test_pair_free(p);
}


/* Application data and closing */

static void
test_app_data(void **state)
{
    size_t         max;
    uint8_t       *big;
    test_pair_t   *p;
    static const uint8_t  hello[] = "hello over DTLS";
    static const uint8_t  back[] = "and back";

    (void) state;

    p = test_pair_new(&test_default);

    assert_int_equal(parley_dtls_write(p->client.dtls, hello, sizeof(hello)),
                     PARLEY_DTLS_ERR_STATE);

    test_handshake(p);

    assert_int_equal(parley_dtls_write(p->client.dtls, hello, sizeof(hello)),
                     PARLEY_DTLS_OK);
    test_pump(p);
    assert_int_equal(p->server.app_count, 1);
    assert_int_equal(p->server.app_len, sizeof(hello));
    assert_memory_equal(p->server.app, hello, sizeof(hello));

    assert_int_equal(parley_dtls_write(p->server.dtls, back, sizeof(back)),
                     PARLEY_DTLS_OK);
    test_pump(p);
    assert_int_equal(p->client.app_count, 1);
    assert_memory_equal(p->client.app, back, sizeof(back));

    /* the largest record fits one datagram; one byte more is refused */
    max = parley_dtls_data_mtu(p->client.dtls);
    big = malloc(max + 1);
    assert_non_null(big);
    memset(big, 0xab, max + 1);

    assert_int_equal(parley_dtls_write(p->client.dtls, big, max),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_write(p->client.dtls, big, max + 1),
                     PARLEY_DTLS_ERR_TOO_BIG);
    test_pump(p);
    assert_int_equal(p->server.app_count, 2);
    assert_int_equal(p->server.app_len, max);
    assert_true(p->client.max_sent <= PARLEY_DTLS_MTU_DEFAULT);

    assert_int_equal(parley_dtls_stats(p->client.dtls)->app_bytes_out,
                     sizeof(hello) + max);
    assert_int_equal(parley_dtls_stats(p->server.dtls)->app_bytes_in,
                     sizeof(hello) + max);
    assert_int_equal(
        parley_dtls_stats(p->client.dtls)->errors[PARLEY_DTLS_ERR_TOO_BIG],
        1);

    free(big);
    test_pair_free(p);
}


static void
test_close_notify(void **state)
{
    test_pair_t  *p;
    static const uint8_t  late[] = "too late";

    (void) state;

    p = test_pair_new(&test_default);
    test_handshake(p);

    assert_int_equal(parley_dtls_close(p->client.dtls), PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_state(p->client.dtls), PARLEY_DTLS_CLOSED);

    test_pump(p);

    assert_int_equal(p->server.closed, 1);
    assert_int_equal(p->server.errors, 0);
    assert_int_equal(parley_dtls_state(p->server.dtls), PARLEY_DTLS_CLOSED);

    assert_int_equal(parley_dtls_write(p->server.dtls, late, sizeof(late)),
                     PARLEY_DTLS_ERR_STATE);
    assert_int_equal(parley_dtls_write(p->client.dtls, late, sizeof(late)),
                     PARLEY_DTLS_ERR_STATE);
    assert_int_equal(parley_dtls_timeout_ms(p->server.dtls), -1);

    /* closing twice is harmless and says nothing more */
    assert_int_equal(parley_dtls_close(p->client.dtls), PARLEY_DTLS_OK);
    assert_int_equal(p->client.nqueue, 0);
    assert_int_equal(p->client.closed, 0);

    test_pair_free(p);
}


/* on_error() may destroy the transport that calls it. */
static void
test_destroy_from_on_error(void **state)
{
    test_pair_t                *p;
    test_setup_t                setup;
    parley_dtls_fingerprint_t   wrong;

    (void) state;

    setup = test_default;
    setup.server_knows_client = 0;

    p = test_pair_new(&setup);

    assert_int_equal(parley_dtls_identity_fingerprint(
                         p->server.identity, PARLEY_DTLS_HASH_SHA256,
                         &wrong),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_set_fingerprints(p->server.dtls, &wrong, 1),
                     PARLEY_DTLS_OK);

    p->server.destroy_on_error = 1;
    p->client.destroy_on_error = 1;

    test_handshake(p);

    assert_int_equal(p->server.errors, 1);
    assert_int_equal(p->client.errors, 1);
    assert_null(p->server.dtls);
    assert_null(p->client.dtls);

    test_pair_free(p);
}


static void
test_names(void **state)
{
    (void) state;

    assert_string_equal(parley_dtls_rc_str(PARLEY_DTLS_OK), "ok");
    assert_string_equal(parley_dtls_rc_str(PARLEY_DTLS_ERR_FINGERPRINT),
                        "peer certificate does not match its fingerprint");
    assert_string_equal(parley_dtls_rc_str(PARLEY_DTLS_NRESULTS), "unknown");
    assert_string_equal(parley_dtls_state_str(PARLEY_DTLS_VERIFYING),
                        "verifying");
    assert_string_equal(
        parley_dtls_srtp_profile_str(PARLEY_DTLS_SRTP_AEAD_AES_128_GCM),
        "SRTP_AEAD_AES_128_GCM");
    assert_int_equal(parley_dtls_hash_len(PARLEY_DTLS_HASH_SHA224), 28);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_identity_fingerprint),
        cmocka_unit_test(test_identity_bad_conf),
        cmocka_unit_test(test_fingerprint_format),
        cmocka_unit_test(test_create_bad_conf),
        cmocka_unit_test(test_handshake_gcm),
        cmocka_unit_test(test_handshake_cm_client_offers_cm_only),
        cmocka_unit_test(test_handshake_cm_server_offers_cm_only),
        cmocka_unit_test(test_handshake_server_prefers_gcm),
        cmocka_unit_test(test_handshake_small_mtu),
        cmocka_unit_test(test_identity_outlives_creator),
        cmocka_unit_test(test_keys_follow_exporter_layout),
        cmocka_unit_test(test_fingerprint_mismatch_at_server),
        cmocka_unit_test(test_fingerprint_mismatch_at_client),
        cmocka_unit_test(test_fingerprint_other_hashes),
        cmocka_unit_test(test_fingerprint_late),
        cmocka_unit_test(test_fingerprint_late_mismatch),
        cmocka_unit_test(test_retransmission_after_loss),
        cmocka_unit_test(test_handshake_gives_up),
        cmocka_unit_test(test_garbage_before_handshake),
        cmocka_unit_test(test_garbage_after_handshake),
        cmocka_unit_test(test_feed_before_start),
        cmocka_unit_test(test_app_data),
        cmocka_unit_test(test_close_notify),
        cmocka_unit_test(test_destroy_from_on_error),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
