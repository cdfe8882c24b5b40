/*
 * Unit tests for the SFU side of a peer connection (relay/parley_peer.c)
 * and the demultiplexer of the socket its peers share
 * (relay/parley_endpoint.c).
 *
 * End to end on 127.0.0.1: the SFU is one UDP socket on an ephemeral port,
 * read with recvmmsg() into a parley_endpoint that holds ICE-lite
 * parley_peers, as a worker will. The browser is played by parley_ice in
 * full controlling mode (libnice) on a GMainContext that this test's epoll
 * loop drives through parley_glib, with a parley_dtls client and two
 * parley_srtp sessions on top. A second plain socket plays an attacker on
 * the same host. Everything runs in this thread.
 *
 * The endpoint tests feed crafted datagrams with a clock of their own and
 * no socket at all.
 */

#define _GNU_SOURCE                        /* recvmmsg() */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "parley_demux.h"
#include "parley_dtls.h"
#include "parley_endpoint.h"
#include "parley_glib.h"
#include "parley_ice.h"
#include "parley_peer.h"
#include "parley_rtcp.h"
#include "parley_rtp.h"
#include "parley_srtp.h"
#include "parley_stun.h"


#define LOCALHOST        "127.0.0.1"
#define PORT_MIN         40200             /* the client's libnice sockets */
#define PORT_MAX         40300

#define FD_LIMIT         4096
#define TAG_PUMP         1
#define TAG_SFU          2
#define TAG_ATTACKER     3

#define BATCH            16                /* datagrams per recvmmsg() */
#define DATAGRAM_MAX     2048
#define PACKET_ROOM      (DATAGRAM_MAX + PARLEY_SRTP_TRAILER_ROOM)

#define PACKETS          200
#define BURST            25
#define SEQ_MAX          400
#define CLIENT_SSRC      0x11223344
#define SFU_SSRC         0x55667788

#define SFU_PEERS        4
#define CONSENT_MS       1000              /* the consent test's timeout */

/* The browser of the socket-less tests: its ice-ufrag and ice-pwd */
#define BROWSER_UFRAG    "brws"
#define BROWSER_PWD      "browserPassword+0123/456"


typedef struct sfu_s     sfu_t;
typedef struct client_s  client_t;


/* The worker: one socket, one endpoint, its peers and their timers. */
struct sfu_s {
    int                       fd;
    struct sockaddr_in        addr;
    parley_endpoint_t        *endpoint;
    parley_dtls_identity_t   *identity;
    parley_peer_t            *peers[SFU_PEERS];

    /* what the first peer's callbacks saw */
    parley_peer_state_t       state;
    unsigned                  states[PARLEY_PEER_CLOSED + 1];
    unsigned                  secure;
    parley_srtp_profile_t     profile;
    unsigned                  rtp_ok;
    unsigned                  rtp_bad;
    unsigned char             rtp_seen[SEQ_MAX];
    unsigned                  rtcp;
    unsigned                  app_data;
};


/* The browser: libnice, a DTLS client, SRTP both ways. */
struct client_s {
    parley_ice_t             *ice;
    parley_ice_state_t        state;
    unsigned                  pairs;
    struct sockaddr_storage   local;       /* its end of the selected pair */
    parley_dtls_identity_t   *identity;
    parley_dtls_t            *dtls;
    unsigned                  dtls_started:1;
    unsigned                  secure;
    parley_dtls_srtp_profile_t  profile;
    parley_dtls_rc_t          dtls_error;
    unsigned                  closed;
    parley_srtp_session_t     srtp_out;
    parley_srtp_session_t     srtp_in;
    unsigned                  rtp_ok;
    unsigned                  rtp_bad;
    unsigned                  pli;
    unsigned                  rtcp_bad;
    unsigned                  app_data;
};


/* A socket on the same host that no check validated. */
typedef struct {
    int                       fd;
    struct sockaddr_in        addr;
    unsigned                  responses;   /* every datagram */
    unsigned                  stun;        /* of them, STUN */
    unsigned                  requests;    /* of those, Binding requests */
    parley_stun_class_t       last_class;
    uint16_t                  last_error;
} attacker_t;


typedef struct {
    GMainContext             *ctx;
    parley_glib_pump_t       *pump;
    int                       ep;
    int                       timeout;      /* GLib's */
    unsigned char             registered[FD_LIMIT];
    size_t                    nregistered;
    sfu_t                    *sfu;
    client_t                 *client;
    attacker_t               *attacker;
} loop_t;


static uint64_t
now_ms(void)
{
    return (uint64_t) (g_get_monotonic_time() / 1000);
}


/*
 * The SFU's clock: the real one, moved on by the tests that need time to
 * pass (consent, timeouts) instead of waiting for it. libnice and the
 * browser's DTLS keep the real clock.
 */
static uint64_t  sfu_skew_ms;

static uint64_t
sfu_now(void)
{
    return now_ms() + sfu_skew_ms;
}


static void
put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


/*
 * RTP packet "seq" of "ssrc" (RFC 3550 5.1): version 2, payload type 96,
 * a timestamp and a payload derived from seq, of a length that varies.
 */
static size_t
make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc)
{
    size_t  i, len;

    len = 12 + 20 + ((size_t) seq * 53) % 900;

    buf[0] = 0x80;
    buf[1] = 96;
    put16(buf + 2, seq);
    put32(buf + 4, (uint32_t) seq * 3000);
    put32(buf + 8, ssrc);

    for (i = 12; i < len; i++) {
        buf[i] = (uint8_t) (seq * 31 + i);
    }

    return len;
}


/* 1 if buf is exactly make_rtp() of its own seq and "ssrc" */
static int
rtp_intact(const uint8_t *buf, size_t len, uint32_t ssrc, uint16_t *seq)
{
    uint8_t              expect[DATAGRAM_MAX];
    parley_rtp_header_t  h;

    if (parley_rtp_parse(buf, len, &h) != PARLEY_RTP_OK) {
        return 0;
    }

    *seq = h.seq;

    return make_rtp(expect, h.seq, ssrc) == len
           && memcmp(expect, buf, len) == 0;
}


static struct sockaddr_in
sin_of(const char *ip, uint16_t port)
{
    struct sockaddr_in  sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);

    return sin;
}


static int
udp_socket(struct sockaddr_in *bound)
{
    int        fd;
    socklen_t  len;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);

    *bound = sin_of(LOCALHOST, 0);
    assert_int_equal(bind(fd, (struct sockaddr *) bound, sizeof(*bound)), 0);

    len = sizeof(*bound);
    assert_int_equal(getsockname(fd, (struct sockaddr *) bound, &len), 0);

    return fd;
}


/*
 * A Binding request as a browser sends it (RFC 8445 7.2.2): USERNAME,
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE if nominating, MESSAGE-INTEGRITY
 * with "key", FINGERPRINT.
 */
static size_t
make_check(uint8_t *buf, size_t cap, const char *username,
    parley_stun_key_t *key, int nominate, uint32_t priority)
{
    size_t                 i, len;
    parley_stun_request_t  req;

    memset(&req, 0, sizeof(req));

    for (i = 0; i < PARLEY_STUN_TID_SIZE; i++) {
        req.tid[i] = (uint8_t) random();
    }

    req.username.data = (const uint8_t *) username;
    req.username.len = strlen(username);
    req.priority = priority;
    req.role = PARLEY_STUN_ROLE_CONTROLLING;
    req.tie_breaker = 0x0123456789abcdefULL;
    req.use_candidate = nominate ? 1 : 0;
    req.key = key;

    assert_int_equal(parley_stun_binding_request(buf, cap, &req, &len),
                     PARLEY_STUN_OK);

    return len;
}


/* "<peer's local ufrag>:<remote>", what a check to that peer carries */
static void
check_username(char *out, size_t size, parley_peer_t *peer,
    const char *remote)
{
    parley_stun_str_t  ufrag;

    parley_peer_local_credentials(peer, &ufrag, NULL);
    assert_true((size_t) snprintf(out, size, "%.*s:%s", (int) ufrag.len,
                                  (const char *) ufrag.data, remote)
                < size);
}


static void
peer_key(parley_peer_t *peer, parley_stun_key_t *key)
{
    parley_stun_str_t  pwd;

    parley_peer_local_credentials(peer, NULL, &pwd);
    assert_int_equal(parley_stun_key_init(key, pwd.data, pwd.len),
                     PARLEY_STUN_OK);
}


/* The SFU */


static void
sfu_send(void *data, const struct sockaddr *to, socklen_t tolen,
    const uint8_t *buf, size_t len)
{
    sfu_t  *sfu = data;

    assert_int_equal(sendto(sfu->fd, buf, len, 0, to, tolen), (ssize_t) len);
}


static void
sfu_on_state(void *data, parley_peer_state_t state)
{
    sfu_t  *sfu = data;

    sfu->state = state;
    sfu->states[state]++;
}


static void
sfu_on_secure(void *data, parley_srtp_profile_t profile)
{
    sfu_t  *sfu = data;

    sfu->secure++;
    sfu->profile = profile;
}


static void
sfu_on_rtp(void *data, uint8_t *buf, size_t len)
{
    sfu_t     *sfu = data;
    uint16_t   seq;

    if (!rtp_intact(buf, len, CLIENT_SSRC, &seq) || seq >= SEQ_MAX
        || sfu->rtp_seen[seq])
    {
        sfu->rtp_bad++;
        return;
    }

    sfu->rtp_seen[seq] = 1;
    sfu->rtp_ok++;
}


static void
sfu_on_rtcp(void *data, uint8_t *buf, size_t len)
{
    (void) buf;
    (void) len;

    ((sfu_t *) data)->rtcp++;
}


static void
sfu_on_app_data(void *data, const uint8_t *buf, size_t len)
{
    (void) buf;
    (void) len;

    ((sfu_t *) data)->app_data++;
}


static void
sfu_init(sfu_t *sfu, size_t max_peers)
{
    parley_endpoint_conf_t  conf;

    memset(sfu, 0, sizeof(sfu_t));

    sfu->fd = udp_socket(&sfu->addr);

    conf.max_peers = max_peers;
    conf.address_hold_ms = 0;
    assert_int_equal(parley_endpoint_create(&sfu->endpoint, &conf),
                     PARLEY_ENDPOINT_OK);
    assert_int_equal(parley_dtls_identity_create(&sfu->identity, NULL),
                     PARLEY_DTLS_OK);
}


static void
sfu_conf(sfu_t *sfu, parley_peer_conf_t *conf)
{
    memset(conf, 0, sizeof(parley_peer_conf_t));

    conf->dtls_role = PARLEY_DTLS_ROLE_SERVER;  /* the browser is active */
    conf->handler.data = sfu;
    conf->handler.send = sfu_send;
    conf->handler.on_state = sfu_on_state;
    conf->handler.on_secure = sfu_on_secure;
    conf->handler.on_rtp = sfu_on_rtp;
    conf->handler.on_rtcp = sfu_on_rtcp;
    conf->handler.on_app_data = sfu_on_app_data;
}


/* What the worker's read handler does: drain the socket in batches. */
static void
sfu_read(sfu_t *sfu)
{
    int                      i, n;
    uint8_t                  bufs[BATCH][DATAGRAM_MAX];
    uint64_t                 now;
    struct iovec             iov[BATCH];
    struct mmsghdr           msgs[BATCH];
    struct sockaddr_storage  from[BATCH];

    for ( ;; ) {
        memset(msgs, 0, sizeof(msgs));

        for (i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = DATAGRAM_MAX;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }

        n = recvmmsg(sfu->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            assert_true(n == 0 || errno == EAGAIN);
            return;
        }

        now = sfu_now();

        for (i = 0; i < n; i++) {
            (void) parley_endpoint_receive(sfu->endpoint,
                                           (struct sockaddr *) &from[i],
                                           bufs[i], msgs[i].msg_len, now,
                                           NULL);
        }
    }
}


/* The peers' timers; the loop waits no longer than the first. */
static int
sfu_timers(sfu_t *sfu, int wait)
{
    int       i;
    int64_t   t;
    uint64_t  now;

    now = sfu_now();

    for (i = 0; i < SFU_PEERS; i++) {
        if (sfu->peers[i] == NULL) {
            continue;
        }

        if (parley_peer_timeout_ms(sfu->peers[i], now) == 0) {
            parley_peer_handle_timeout(sfu->peers[i], now);
        }

        t = parley_peer_timeout_ms(sfu->peers[i], now);

        if (t >= 0 && t < wait) {
            wait = (int) t;
        }
    }

    return wait;
}


static void
sfu_free(sfu_t *sfu)
{
    int  i;

    for (i = 0; i < SFU_PEERS; i++) {
        parley_peer_destroy(sfu->peers[i]);
        sfu->peers[i] = NULL;
    }

    assert_int_equal(parley_endpoint_stats(sfu->endpoint)->peers, 0);
    assert_int_equal(parley_endpoint_stats(sfu->endpoint)->addresses, 0);

    parley_endpoint_destroy(sfu->endpoint);
    parley_dtls_identity_destroy(sfu->identity);
    close(sfu->fd);
}


/* The browser */


static void
client_dtls_send(void *data, const uint8_t *buf, size_t len)
{
    client_t  *c = data;

    (void) parley_ice_send(c->ice, buf, len);
}


static void
client_on_connected(void *data, const parley_dtls_srtp_keys_t *keys)
{
    client_t               *c = data;
    parley_srtp_master_t    in, out;
    parley_srtp_profile_t   profile;

    assert_int_equal(parley_srtp_profile_from_dtls((uint16_t) keys->profile,
                                                   &profile),
                     PARLEY_SRTP_OK);

    out.key = keys->local;
    out.key_len = keys->key_len;
    out.salt = keys->local + keys->key_len;
    out.salt_len = keys->salt_len;
    in.key = keys->remote;
    in.key_len = keys->key_len;
    in.salt = keys->remote + keys->key_len;
    in.salt_len = keys->salt_len;

    assert_int_equal(parley_srtp_create(&c->srtp_out, profile,
                                        PARLEY_SRTP_OUTBOUND, &out, 0),
                     PARLEY_SRTP_OK);
    assert_int_equal(parley_srtp_create(&c->srtp_in, profile,
                                        PARLEY_SRTP_INBOUND, &in, 0),
                     PARLEY_SRTP_OK);

    c->profile = keys->profile;
    c->secure++;
}


static void
client_on_dtls_error(void *data, parley_dtls_rc_t reason)
{
    ((client_t *) data)->dtls_error = reason;
}


static void
client_on_closed(void *data)
{
    ((client_t *) data)->closed++;
}


static void
client_on_app_data(void *data, const uint8_t *buf, size_t len)
{
    client_t  *c = data;

    if (len == 5 && memcmp(buf, "hello", 5) == 0) {
        c->app_data++;
    }
}


static void
client_on_rtcp(client_t *c, const uint8_t *buf, size_t len)
{
    size_t                n;
    uint8_t               copy[PACKET_ROOM];
    parley_rtcp_fb_t      fb;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    n = len;
    memcpy(copy, buf, len);

    if (parley_srtp_unprotect_rtcp(&c->srtp_in, copy, &n) != PARLEY_SRTP_OK)
    {
        c->rtcp_bad++;
        return;
    }

    parley_rtcp_iter_init(&it, copy, n);

    while (parley_rtcp_next(&it, &pkt) == PARLEY_RTP_OK) {
        if (parley_rtcp_parse_pli(&pkt, &fb) == PARLEY_RTP_OK
            && fb.sender_ssrc == SFU_SSRC && fb.media_ssrc == CLIENT_SSRC)
        {
            c->pli++;
        }
    }
}


static void
client_on_rtp(client_t *c, const uint8_t *buf, size_t len)
{
    size_t     n;
    uint8_t    copy[PACKET_ROOM];
    uint16_t   seq;

    n = len;
    memcpy(copy, buf, len);

    if (parley_srtp_unprotect_rtp(&c->srtp_in, copy, &n) != PARLEY_SRTP_OK
        || !rtp_intact(copy, n, SFU_SSRC, &seq))
    {
        c->rtp_bad++;
        return;
    }

    c->rtp_ok++;
}


/* What libnice hands up: everything but STUN (RFC 7983). */
static void
client_on_data(void *arg, const uint8_t *buf, size_t len)
{
    client_t  *c = arg;

    switch (parley_demux_classify(buf, len)) {

    case PARLEY_DEMUX_DTLS:
        (void) parley_dtls_feed(c->dtls, buf, len);
        break;

    case PARLEY_DEMUX_RTCP:
        client_on_rtcp(c, buf, len);
        break;

    case PARLEY_DEMUX_RTP:
        client_on_rtp(c, buf, len);
        break;

    default:
        fail_msg("client got a datagram of class %s",
                 parley_demux_class_str(parley_demux_classify(buf, len)));
    }
}


static void
client_on_candidate(void *arg, const char *candidate)
{
    /* a lite agent learns the browser's addresses from its checks */
    (void) arg;
    (void) candidate;
}


static void
client_on_state(void *arg, parley_ice_state_t state)
{
    ((client_t *) arg)->state = state;
}


static void
client_on_pair(void *arg, const struct sockaddr *local,
    const struct sockaddr *remote)
{
    client_t  *c = arg;

    (void) remote;

    c->pairs++;
    memcpy(&c->local, local, sizeof(struct sockaddr_in));
}


static void
client_init(client_t *c, loop_t *l, const parley_dtls_identity_t *sfu_id,
    parley_dtls_role_t role)
{
    parley_dtls_conf_t          dc;
    parley_ice_options_t        o;
    parley_dtls_fingerprint_t   fp;
    static const char          *addrs[] = { LOCALHOST };

    memset(c, 0, sizeof(client_t));

    memset(&o, 0, sizeof(o));
    o.mode = PARLEY_ICE_FULL_CONTROLLING;
    o.port_min = PORT_MIN;
    o.port_max = PORT_MAX;
    o.local_addresses = addrs;
    o.nlocal_addresses = 1;
    o.pump = l->pump;
    o.handler.local_candidate = client_on_candidate;
    o.handler.state = client_on_state;
    o.handler.selected_pair = client_on_pair;
    o.handler.data = client_on_data;
    o.handler.arg = c;

    assert_int_equal(parley_ice_create(l->ctx, &o, &c->ice), PARLEY_ICE_OK);

    /* the SFU's a=fingerprint, as its answer would carry it */
    assert_int_equal(parley_dtls_identity_fingerprint(sfu_id,
                                                      PARLEY_DTLS_HASH_SHA256,
                                                      &fp),
                     PARLEY_DTLS_OK);

    assert_int_equal(parley_dtls_identity_create(&c->identity, NULL),
                     PARLEY_DTLS_OK);

    memset(&dc, 0, sizeof(dc));
    dc.role = role;
    dc.fingerprints = &fp;
    dc.nfingerprints = 1;
    dc.handler.data = c;
    dc.handler.send = client_dtls_send;
    dc.handler.on_connected = client_on_connected;
    dc.handler.on_error = client_on_dtls_error;
    dc.handler.on_closed = client_on_closed;
    dc.handler.on_app_data = client_on_app_data;

    assert_int_equal(parley_dtls_create(&c->dtls, c->identity, &dc),
                     PARLEY_DTLS_OK);

    l->client = c;
}


static void
client_fingerprint(client_t *c, parley_dtls_fingerprint_t *fp)
{
    assert_int_equal(parley_dtls_identity_fingerprint(c->identity,
                                                      PARLEY_DTLS_HASH_SHA256,
                                                      fp),
                     PARLEY_DTLS_OK);
}


static const char *
client_ufrag(client_t *c)
{
    const char  *ufrag, *pwd;

    parley_ice_local_credentials(c->ice, &ufrag, &pwd);

    return ufrag;
}


static const char *
client_pwd(client_t *c)
{
    const char  *ufrag, *pwd;

    parley_ice_local_credentials(c->ice, &ufrag, &pwd);

    return pwd;
}


/* The browser's ice-ufrag and ice-pwd, as its SDP gives them to the SFU. */
static void
client_credentials(client_t *c, parley_peer_ice_t *ice)
{
    const char  *ufrag, *pwd;

    ufrag = client_ufrag(c);
    pwd = client_pwd(c);

    ice->remote_ufrag.data = (const uint8_t *) ufrag;
    ice->remote_ufrag.len = strlen(ufrag);
    ice->remote_pwd.data = (const uint8_t *) pwd;
    ice->remote_pwd.len = strlen(pwd);
}


/* The SFU's answer reaches the browser: credentials and its candidate. */
static void
client_signal(client_t *c, sfu_t *sfu, parley_peer_t *peer)
{
    char               ufrag[PARLEY_PEER_UFRAG_MAX + 1];
    char               pwd[PARLEY_PEER_PWD_MAX + 1];
    char               candidate[128];
    parley_stun_str_t  u, p;

    parley_peer_local_credentials(peer, &u, &p);
    memcpy(ufrag, u.data, u.len);
    ufrag[u.len] = '\0';
    memcpy(pwd, p.data, p.len);
    pwd[p.len] = '\0';

    assert_int_equal(parley_ice_set_remote_credentials(c->ice, ufrag, pwd),
                     PARLEY_ICE_OK);

    snprintf(candidate, sizeof(candidate),
             "candidate:1 1 udp 2130706431 %s %u typ host", LOCALHOST,
             (unsigned) ntohs(sfu->addr.sin_port));

    assert_int_equal(parley_ice_add_remote_candidate(c->ice, candidate),
                     PARLEY_ICE_OK);
    assert_int_equal(parley_ice_end_of_candidates(c->ice), PARLEY_ICE_OK);
}


/* RFC 5763 5: the active side starts once ICE has a pair. */
static int
client_timers(client_t *c, int wait)
{
    int64_t  t;

    if (c == NULL || c->dtls == NULL) {
        return wait;
    }

    if (!c->dtls_started && c->state == PARLEY_ICE_CONNECTED && c->pairs > 0)
    {
        c->dtls_started = 1;
        assert_int_equal(parley_dtls_start(c->dtls), PARLEY_DTLS_OK);
    }

    if (parley_dtls_timeout_ms(c->dtls) == 0) {
        (void) parley_dtls_handle_timeout(c->dtls);
    }

    t = parley_dtls_timeout_ms(c->dtls);

    return t >= 0 && t < wait ? (int) t : wait;
}


/* Protects RTP "seq" and sends it from the browser's selected socket. */
static void
client_send_rtp(client_t *c, uint16_t seq, uint8_t *keep, size_t *keep_len)
{
    size_t   len;
    uint8_t  buf[PACKET_ROOM];

    len = make_rtp(buf, seq, CLIENT_SSRC);
    assert_int_equal(parley_srtp_protect_rtp(&c->srtp_out, buf, &len,
                                             sizeof(buf)),
                     PARLEY_SRTP_OK);
    assert_int_equal(parley_ice_send(c->ice, buf, len), PARLEY_ICE_OK);

    if (keep != NULL) {
        memcpy(keep, buf, len);
        *keep_len = len;
    }
}


/* Raw bytes from the browser's socket, as libnice would send them. */
static void
client_send_raw(client_t *c, sfu_t *sfu, const uint8_t *buf, size_t len)
{
    assert_int_equal(sendto(parley_ice_selected_fd(c->ice), buf, len, 0,
                            (struct sockaddr *) &sfu->addr,
                            sizeof(sfu->addr)),
                     (ssize_t) len);
}


static void
client_free(client_t *c)
{
    parley_dtls_destroy(c->dtls);
    parley_dtls_identity_destroy(c->identity);
    parley_srtp_destroy(&c->srtp_out);
    parley_srtp_destroy(&c->srtp_in);
    parley_ice_destroy(c->ice);
    c->ice = NULL;
    c->dtls = NULL;
}


/* The attacker */


static void
attacker_init(attacker_t *a)
{
    memset(a, 0, sizeof(attacker_t));
    a->fd = udp_socket(&a->addr);
}


static void
attacker_read(attacker_t *a)
{
    ssize_t            n;
    uint8_t            buf[DATAGRAM_MAX];
    parley_stun_msg_t  msg;

    while ((n = recv(a->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        a->responses++;

        if (parley_demux_classify(buf, (size_t) n) == PARLEY_DEMUX_STUN
            && parley_stun_parse(&msg, buf, (size_t) n) == PARLEY_STUN_OK)
        {
            a->stun++;
            a->requests += msg.class == PARLEY_STUN_REQUEST;
            a->last_class = msg.class;
            a->last_error = msg.error_code;
        }
    }
}


static void
attacker_send(attacker_t *a, sfu_t *sfu, const uint8_t *buf, size_t len)
{
    assert_int_equal(sendto(a->fd, buf, len, 0,
                            (struct sockaddr *) &sfu->addr,
                            sizeof(sfu->addr)),
                     (ssize_t) len);
}


/* The loop: the worker's epoll, with GLib driven through the pump */


static void
loop_watch(loop_t *l, int fd, uint32_t tag)
{
    struct epoll_event  ev;

    ev.events = EPOLLIN;
    ev.data.u64 = ((uint64_t) tag << 32) | (uint32_t) fd;
    assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev), 0);
}


static void
loop_init(loop_t *l, sfu_t *sfu)
{
    memset(l, 0, sizeof(loop_t));

    l->ctx = g_main_context_new();
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(l->ep >= 0);
    assert_int_equal(parley_glib_pump_create(l->ctx, &l->pump),
                     PARLEY_GLIB_OK);

    l->sfu = sfu;
    loop_watch(l, sfu->fd, TAG_SFU);
}


static void
loop_attacker(loop_t *l, attacker_t *a)
{
    l->attacker = a;
    loop_watch(l, a->fd, TAG_ATTACKER);
}


static void
loop_apply(loop_t *l, const parley_glib_watch_t *w)
{
    int                 fd;
    size_t              i;
    struct epoll_event  ev;

    for (i = 0; i < w->nremoved; i++) {
        fd = w->removed[i].fd;
        assert_true(fd >= 0 && fd < FD_LIMIT && l->registered[fd]);

        if (!w->removed[i].closed) {
            assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL), 0);
        }

        l->registered[fd] = 0;
        l->nregistered--;
    }

    for (i = 0; i < w->nadded; i++) {
        fd = w->added[i].fd;
        assert_true(fd >= 0 && fd < FD_LIMIT && !l->registered[fd]);

        ev.events = w->added[i].events;
        ev.data.u64 = ((uint64_t) TAG_PUMP << 32) | (uint32_t) fd;
        assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev), 0);

        l->registered[fd] = 1;
        l->nregistered++;
    }

    for (i = 0; i < w->nchanged; i++) {
        fd = w->changed[i].fd;
        ev.events = w->changed[i].events;
        ev.data.u64 = ((uint64_t) TAG_PUMP << 32) | (uint32_t) fd;
        assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev), 0);
    }
}


static void
loop_once(loop_t *l, int max_ms)
{
    int                  i, n, wait, npump;
    uint32_t             tag;
    struct epoll_event   evs[64];
    parley_glib_watch_t  w;
    parley_glib_ready_t  ready[64];

    wait = sfu_timers(l->sfu, max_ms);
    wait = client_timers(l->client, wait);

    assert_int_equal(parley_glib_pump_prepare(l->pump, &w), PARLEY_GLIB_OK);
    loop_apply(l, &w);

    if (w.timeout >= 0 && w.timeout < wait) {
        wait = w.timeout;
    }

    n = epoll_wait(l->ep, evs, 64, wait);
    assert_true(n >= 0 || errno == EINTR);

    npump = 0;

    for (i = 0; i < n; i++) {
        tag = (uint32_t) (evs[i].data.u64 >> 32);

        if (tag == TAG_SFU) {
            sfu_read(l->sfu);

        } else if (tag == TAG_ATTACKER) {
            attacker_read(l->attacker);

        } else {
            ready[npump].fd = (int) (uint32_t) evs[i].data.u64;
            ready[npump].revents = (unsigned short) evs[i].events;
            npump++;
        }
    }

    if (npump > 0) {
        assert_int_equal(parley_glib_pump_dispatch(l->pump, ready,
                                                   (size_t) npump),
                         PARLEY_GLIB_OK);

    } else if (n <= 0) {
        assert_int_equal(parley_glib_pump_timer(l->pump), PARLEY_GLIB_OK);
    }
}


static int
loop_until(loop_t *l, int (*done)(loop_t *), unsigned ms)
{
    uint64_t  end;

    end = now_ms() + ms;

    while (!done(l)) {
        if (now_ms() >= end) {
            return 0;
        }

        loop_once(l, 10);
    }

    return 1;
}


static int
only_wakeup_left(loop_t *l)
{
    return l->nregistered == 1;
}


static void
loop_free(loop_t *l)
{
    /* libnice's sockets close on a later dispatch */
    assert_true(loop_until(l, only_wakeup_left, 1000));

    parley_glib_pump_destroy(l->pump);
    g_main_context_unref(l->ctx);
    close(l->ep);
}


/* Conditions */


static int
ice_connected(loop_t *l)
{
    return l->sfu->state == PARLEY_PEER_CONNECTED
           && l->client->state == PARLEY_ICE_CONNECTED
           && l->client->pairs > 0;
}


static int
both_secure(loop_t *l)
{
    return l->sfu->secure > 0 && l->client->secure > 0;
}


static unsigned  want;


static int
sfu_rtp_enough(loop_t *l)
{
    return l->sfu->rtp_ok + l->sfu->rtp_bad >= want;
}


static int
client_rtp_enough(loop_t *l)
{
    return l->client->rtp_ok + l->client->rtp_bad >= want;
}


static int
client_got_pli(loop_t *l)
{
    return l->client->pli + l->client->rtcp_bad >= want;
}


static int
endpoint_seen(loop_t *l)
{
    return parley_endpoint_stats(l->sfu->endpoint)->datagrams_in >= want;
}


static unsigned  want_pairs;
static uint64_t  want_nominations;


static int
reconnected(loop_t *l)
{
    return l->client->pairs >= want_pairs
           && l->client->state == PARLEY_ICE_CONNECTED
           && parley_peer_stats(l->sfu->peers[0])->nominations
              >= want_nominations;
}


static int
client_closed(loop_t *l)
{
    return l->client->closed > 0;
}


/* Sends count RTP packets from seq on, in bursts the loop drains. */
static void
client_send_burst(loop_t *l, uint16_t seq, unsigned count)
{
    unsigned  i, start;

    start = l->sfu->rtp_ok + l->sfu->rtp_bad;

    for (i = 0; i < count; i++) {
        client_send_rtp(l->client, (uint16_t) (seq + i), NULL, NULL);

        if ((i + 1) % BURST == 0 || i + 1 == count) {
            want = start + i + 1;
            assert_true(loop_until(l, sfu_rtp_enough, 2000));
        }
    }
}


/* Waits until the SFU has read "n" more datagrams. */
static void
wait_endpoint(loop_t *l, unsigned n)
{
    want = (unsigned) parley_endpoint_stats(l->sfu->endpoint)->datagrams_in
           + n;
}


/* The SFU's peer for the browser's offer in "conf", in its endpoint. */
static parley_peer_t *
sfu_peer(sfu_t *sfu, const parley_peer_conf_t *conf)
{
    parley_peer_t  *peer;

    assert_int_equal(parley_peer_create(&peer, sfu->identity, conf,
                                        sfu_now()),
                     PARLEY_PEER_OK);
    sfu->peers[0] = peer;
    assert_int_equal(parley_endpoint_add_peer(sfu->endpoint, peer),
                     PARLEY_ENDPOINT_OK);

    return peer;
}


/* End to end */


static void
connect_pair(loop_t *l, sfu_t *sfu, client_t *c, parley_peer_t *peer)
{
    client_signal(c, sfu, peer);
    assert_int_equal(parley_ice_gather(c->ice), PARLEY_ICE_OK);

    assert_true(loop_until(l, ice_connected, 3000));
}


/* The browser's checks validate its address and nominate it. */
static void
assert_ice_connected(sfu_t *sfu, client_t *c, parley_peer_t *peer)
{
    socklen_t                   len;
    struct sockaddr_in         *a, *b;
    struct sockaddr_storage     ss;
    const parley_peer_stats_t  *st;

    st = parley_peer_stats(peer);

    assert_true(st->checks[PARLEY_ICELITE_OK] >= 1);
    assert_true(st->nominations >= 1);
    assert_int_equal(sfu->states[PARLEY_PEER_CONNECTED], 1);

    assert_int_equal(parley_peer_selected_address(peer, &ss, &len),
                     PARLEY_PEER_OK);
    assert_int_equal(len, sizeof(struct sockaddr_in));

    a = (struct sockaddr_in *) &ss;
    b = (struct sockaddr_in *) &c->local;
    assert_int_equal(a->sin_port, b->sin_port);
    assert_memory_equal(&a->sin_addr, &b->sin_addr, 4);

    assert_ptr_equal(parley_endpoint_find_address(sfu->endpoint,
                                                  (struct sockaddr *) a),
                     peer);
}


static void
exchange_media(loop_t *l, sfu_t *sfu, client_t *c, parley_peer_t *peer)
{
    size_t                      len;
    unsigned                    i;
    uint8_t                     buf[PACKET_ROOM];
    socklen_t                   tolen;
    parley_rtcp_writer_t        w;
    const struct sockaddr      *to;
    const parley_peer_stats_t  *st;

    /* 200 packets, seq 1..200, each decrypted byte for byte */
    client_send_burst(l, 1, PACKETS);

    assert_int_equal(sfu->rtp_ok, PACKETS);
    assert_int_equal(sfu->rtp_bad, 0);

    for (i = 1; i <= PACKETS; i++) {
        assert_true(sfu->rtp_seen[i]);
    }

    st = parley_peer_stats(peer);
    assert_int_equal(st->rtp_in, PACKETS);

    /* a keyframe request the other way (RFC 4585 6.3.1) */
    parley_rtcp_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(parley_rtcp_build_pli(&w, SFU_SSRC, CLIENT_SSRC),
                     PARLEY_RTP_OK);
    assert_int_equal(parley_peer_send_rtcp(peer, buf, w.len, sizeof(buf)),
                     PARLEY_PEER_OK);

    want = 1;
    assert_true(loop_until(l, client_got_pli, 2000));
    assert_int_equal(c->pli, 1);
    assert_int_equal(c->rtcp_bad, 0);

    /* forwarded media to the browser, half of it sent by the caller */
    for (i = 0; i < 20; i++) {
        len = make_rtp(buf, (uint16_t) (1000 + i), SFU_SSRC);

        if (i % 2) {
            assert_int_equal(parley_peer_send_rtp(peer, buf, len,
                                                  sizeof(buf)),
                             PARLEY_PEER_OK);
            continue;
        }

        assert_int_equal(parley_peer_protect_rtp(peer, buf, &len,
                                                 sizeof(buf), &to, &tolen),
                         PARLEY_PEER_OK);
        sfu_send(sfu, to, tolen, buf, len);
    }

    want = 20;
    assert_true(loop_until(l, client_rtp_enough, 2000));
    assert_int_equal(c->rtp_ok, 20);
    assert_int_equal(c->rtp_bad, 0);
    assert_int_equal(st->rtcp_out, 1);
    assert_int_equal(st->rtp_out, 20);

    /* no room for the trailer: refused, counted, nothing sent */
    len = make_rtp(buf, 1100, SFU_SSRC);
    assert_int_equal(parley_peer_send_rtp(peer, buf, len, len),
                     PARLEY_PEER_ERR_SRTP);
    assert_int_equal(st->protect_rtp[PARLEY_SRTP_ERR_NOSPACE], 1);
}


/*
 * A check with the right ufrags and the wrong password: no path, and no
 * answer at all (a 401 would go wherever a forger pointed it).
 */
static void
negative_wrong_password(loop_t *l, sfu_t *sfu, client_t *c,
    parley_peer_t *peer, attacker_t *a)
{
    char                        username[600];
    size_t                      len;
    uint8_t                     buf[512];
    unsigned                    responses;
    parley_stun_key_t           key;
    const parley_peer_stats_t  *st;

    st = parley_peer_stats(peer);
    responses = a->responses;

    check_username(username, sizeof(username), peer, client_ufrag(c));
    assert_int_equal(parley_stun_key_init(&key, "not the password at all", 23),
                     PARLEY_STUN_OK);
    len = make_check(buf, sizeof(buf), username, &key, 1, 0x7e7f00ff);
    parley_stun_key_free(&key);

    wait_endpoint(l, 1);
    attacker_send(a, sfu, buf, len);
    assert_true(loop_until(l, endpoint_seen, 2000));

    /* an answer would have been sent while the SFU read the check */
    attacker_read(a);
    assert_int_equal(a->responses, responses);

    assert_int_equal(st->checks[PARLEY_ICELITE_BAD_INTEGRITY], 1);
    assert_int_equal(st->drops[PARLEY_PEER_DROP_UNAUTHENTICATED], 1);
    assert_int_equal(st->drops[PARLEY_PEER_DROP_STUN_REJECTED], 0);
    assert_null(parley_endpoint_find_address(sfu->endpoint,
                                             (struct sockaddr *) &a->addr));
    assert_int_equal(sfu->state, PARLEY_PEER_CONNECTED);
}


/* Sends "n" RTP packets to the browser; they must all arrive there. */
static void
sfu_send_burst(loop_t *l, parley_peer_t *peer, uint16_t seq, unsigned n)
{
    size_t    len;
    uint8_t   buf[PACKET_ROOM];
    unsigned  i;

    want = l->client->rtp_ok + l->client->rtp_bad + n;

    for (i = 0; i < n; i++) {
        len = make_rtp(buf, (uint16_t) (seq + i), SFU_SSRC);
        assert_int_equal(parley_peer_send_rtp(peer, buf, len, sizeof(buf)),
                         PARLEY_PEER_OK);
    }

    assert_true(loop_until(l, client_rtp_enough, 2000));
}


/*
 * The redirect, with sockets and keys: a nominating check of the highest
 * priority, signed with the credentials the browser's owner knows, comes
 * from another socket (standing for a forged source address). It is
 * answered, and that socket gets the SFU's own check and its
 * retransmissions: STUN only. The media goes on reaching the browser.
 */
static void
negative_redirect(loop_t *l, sfu_t *sfu, client_t *c, parley_peer_t *peer,
    attacker_t *a)
{
    char                        username[600];
    size_t                      len;
    uint8_t                     buf[512];
    unsigned                    stun, rto;
    parley_stun_key_t           key;
    const parley_peer_stats_t  *st;

    st = parley_peer_stats(peer);
    attacker_read(a);
    stun = a->stun;

    check_username(username, sizeof(username), peer, client_ufrag(c));
    peer_key(peer, &key);
    len = make_check(buf, sizeof(buf), username, &key, 1, 0x7fffffff);
    parley_stun_key_free(&key);

    wait_endpoint(l, 1);
    attacker_send(a, sfu, buf, len);
    assert_true(loop_until(l, endpoint_seen, 2000));

    attacker_read(a);
    assert_int_equal(a->stun, stun + 2);          /* the answer, our check */
    assert_int_equal(a->requests, 1);
    assert_int_equal(st->consent_timeouts, 0);

    sfu_send_burst(l, peer, 3000, 20);

    /* the SFU's clock runs on through every retransmission, to give-up */
    for (rto = PARLEY_PEER_CONSENT_RTO_MS; a->requests
                                           < PARLEY_PEER_CONSENT_SENDS;
         rto = rto < PARLEY_PEER_CONSENT_RTO_MAX_MS ? 2 * rto : rto)
    {
        sfu_skew_ms += rto;
        (void) sfu_timers(sfu, 0);
        attacker_read(a);
    }

    sfu_skew_ms += PARLEY_PEER_CONSENT_RTO_MAX_MS;
    (void) sfu_timers(sfu, 0);
    assert_int_equal(st->consent_timeouts, 1);

    sfu_send_burst(l, peer, 3020, 20);

    attacker_read(a);
    assert_int_equal(a->requests, PARLEY_PEER_CONSENT_SENDS);
    assert_int_equal(a->responses, a->stun);      /* not one SRTP packet */
    assert_int_equal(c->rtp_bad, 0);
}


/* SRTP, valid even, from an address no check came from: never delivered */
static void
negative_unvalidated(loop_t *l, sfu_t *sfu, client_t *c, attacker_t *a)
{
    size_t                          len;
    uint8_t                         buf[PACKET_ROOM];
    unsigned                        delivered;
    const parley_endpoint_stats_t  *es;

    es = parley_endpoint_stats(sfu->endpoint);
    delivered = sfu->rtp_ok;

    len = make_rtp(buf, 201, CLIENT_SSRC);
    assert_int_equal(parley_srtp_protect_rtp(&c->srtp_out, buf, &len,
                                             sizeof(buf)),
                     PARLEY_SRTP_OK);

    wait_endpoint(l, 2);
    attacker_send(a, sfu, buf, len);

    /* DTLS from there too */
    memset(buf, 0, 40);
    buf[0] = 22;
    buf[1] = 0xfe;
    buf[2] = 0xfd;
    buf[12] = 27;
    attacker_send(a, sfu, buf, 40);

    assert_true(loop_until(l, endpoint_seen, 2000));
    assert_int_equal(es->drops[PARLEY_ENDPOINT_DROP_UNKNOWN_ADDRESS], 2);
    assert_int_equal(sfu->rtp_ok, delivered);
}


/* DTLS that is not, and a record that does not decrypt: both dropped. */
static void
negative_dtls_garbage(loop_t *l, sfu_t *sfu, client_t *c,
    parley_peer_t *peer)
{
    size_t                      i;
    uint8_t                     buf[100];
    const parley_peer_stats_t  *st;
    const parley_dtls_stats_t  *ds;

    st = parley_peer_stats(peer);
    ds = parley_peer_dtls_stats(peer);

    /* a DTLS first byte, then a record length past the datagram */
    memset(buf, 0xa5, sizeof(buf));
    buf[0] = 23;
    buf[1] = 0xfe;
    buf[2] = 0xfd;

    wait_endpoint(l, 2);
    client_send_raw(c, sfu, buf, sizeof(buf));

    /* a well-formed application_data record of epoch 1 with noise */
    for (i = 13; i < 60; i++) {
        buf[i] = (uint8_t) (i * 37);
    }

    buf[3] = 0;
    buf[4] = 1;
    put16(buf + 11, 60 - 13);
    client_send_raw(c, sfu, buf, 60);

    assert_true(loop_until(l, endpoint_seen, 2000));

    assert_int_equal(st->drops[PARLEY_PEER_DROP_DTLS], 1);
    assert_int_equal(ds->errors[PARLEY_DTLS_ERR_NOT_DTLS], 1);
    assert_int_equal(sfu->app_data, 0);
    assert_int_equal(sfu->state, PARLEY_PEER_CONNECTED);
    assert_true(parley_peer_secure(peer, NULL));
}


/* A flipped bit fails SRTP authentication; a replay fails the window. */
static void
negative_srtp(loop_t *l, sfu_t *sfu, client_t *c, parley_peer_t *peer,
    const uint8_t *replay, size_t replay_len)
{
    size_t                      len;
    uint8_t                     buf[PACKET_ROOM];
    unsigned                    delivered;
    const parley_peer_stats_t  *st;

    st = parley_peer_stats(peer);
    delivered = sfu->rtp_ok;

    len = make_rtp(buf, 202, CLIENT_SSRC);
    assert_int_equal(parley_srtp_protect_rtp(&c->srtp_out, buf, &len,
                                             sizeof(buf)),
                     PARLEY_SRTP_OK);
    buf[20] ^= 0x01;

    wait_endpoint(l, 2);
    assert_int_equal(parley_ice_send(c->ice, buf, len), PARLEY_ICE_OK);
    assert_int_equal(parley_ice_send(c->ice, replay, replay_len),
                     PARLEY_ICE_OK);
    assert_true(loop_until(l, endpoint_seen, 2000));

    assert_int_equal(st->drops[PARLEY_PEER_DROP_SRTP_AUTH], 1);
    assert_int_equal(st->unprotect_rtp[PARLEY_SRTP_ERR_AUTH], 1);
    assert_int_equal(st->drops[PARLEY_PEER_DROP_SRTP_REPLAY], 1);
    assert_int_equal(sfu->rtp_ok, delivered);
    assert_int_equal(sfu->rtp_bad, 0);
}


/* Checks for no peer here, and datagrams of no WebRTC class. */
static void
negative_unknown(loop_t *l, sfu_t *sfu, attacker_t *a)
{
    size_t                          len;
    uint8_t                         buf[512];
    unsigned                        responses;
    parley_stun_key_t               key;
    const parley_endpoint_stats_t  *es;

    es = parley_endpoint_stats(sfu->endpoint);
    responses = a->responses;

    assert_int_equal(parley_stun_key_init(&key, "some password or other", 22),
                     PARLEY_STUN_OK);
    len = make_check(buf, sizeof(buf), "nosuchufrag:abcd", &key, 1, 1000);
    parley_stun_key_free(&key);

    wait_endpoint(l, 2);
    attacker_send(a, sfu, buf, len);

    buf[0] = 0xff;                        /* RFC 7983: no class */
    attacker_send(a, sfu, buf, 64);

    assert_true(loop_until(l, endpoint_seen, 2000));
    attacker_read(a);

    assert_int_equal(es->drops[PARLEY_ENDPOINT_DROP_UNKNOWN_UFRAG], 1);
    assert_int_equal(es->drops[PARLEY_ENDPOINT_DROP_NOT_WEBRTC], 1);
    assert_int_equal(a->responses, responses);     /* never answered */
}


/* RFC 8445 9: new credentials both sides; DTLS and SRTP carry on. */
static void
restart_ice(loop_t *l, sfu_t *sfu, client_t *c, parley_peer_t *peer)
{
    char                        old[PARLEY_PEER_UFRAG_MAX + 1];
    unsigned                    delivered;
    parley_peer_ice_t           ice;
    parley_stun_str_t           u;
    const parley_peer_stats_t  *st;

    st = parley_peer_stats(peer);
    want_nominations = st->nominations + 1;
    want_pairs = c->pairs + 1;
    delivered = sfu->rtp_ok;

    parley_peer_local_credentials(peer, &u, NULL);
    memcpy(old, u.data, u.len);
    old[u.len] = '\0';

    /* the browser's new offer, the SFU's new answer */
    assert_int_equal(parley_ice_restart(c->ice), PARLEY_ICE_OK);

    memset(&ice, 0, sizeof(ice));
    client_credentials(c, &ice);
    assert_int_equal(parley_peer_restart(peer, &ice, sfu_now()),
                     PARLEY_PEER_OK);

    parley_peer_local_credentials(peer, &u, NULL);
    assert_false(u.len == strlen(old) && memcmp(u.data, old, u.len) == 0);
    assert_null(parley_endpoint_find_ufrag(sfu->endpoint,
                                           (const uint8_t *) old,
                                           strlen(old)));
    assert_ptr_equal(parley_endpoint_find_ufrag(sfu->endpoint, u.data, u.len),
                     peer);

    client_signal(c, sfu, peer);

    assert_true(loop_until(l, reconnected, 3000));
    assert_int_equal(st->restarts, 1);
    assert_int_equal(sfu->state, PARLEY_PEER_CONNECTED);

    client_send_burst(l, 211, 20);
    assert_int_equal(sfu->rtp_ok, delivered + 20);
    assert_int_equal(sfu->rtp_bad, 0);

    /* one handshake, whatever ICE did */
    assert_int_equal(sfu->secure, 1);
    assert_int_equal(c->secure, 1);
}


static void
test_peer_end_to_end(void **state)
{
    size_t                          replay_len;
    uint8_t                         replay[PACKET_ROOM];
    loop_t                          l;
    sfu_t                           sfu;
    client_t                        c;
    attacker_t                      a;
    parley_peer_t                  *peer;
    parley_peer_conf_t              conf;
    parley_srtp_profile_t           profile;
    parley_dtls_fingerprint_t       fp;
    const parley_endpoint_stats_t  *es;

    (void) state;

    sfu_skew_ms = 0;
    sfu_init(&sfu, 64);
    loop_init(&l, &sfu);
    client_init(&c, &l, sfu.identity, PARLEY_DTLS_ROLE_CLIENT);
    attacker_init(&a);
    loop_attacker(&l, &a);

    /* the browser's offer: its credentials, fingerprint, a=setup:active */
    client_fingerprint(&c, &fp);

    sfu_conf(&sfu, &conf);
    client_credentials(&c, &conf.ice);
    conf.fingerprints = &fp;
    conf.nfingerprints = 1;

    peer = sfu_peer(&sfu, &conf);
    assert_int_equal(parley_peer_state(peer), PARLEY_PEER_NEW);

    /* nothing to send to before a nomination */
    assert_int_equal(parley_peer_send_rtp(peer, replay, 12, sizeof(replay)),
                     PARLEY_PEER_ERR_STATE);

    connect_pair(&l, &sfu, &c, peer);
    assert_ice_connected(&sfu, &c, peer);

    assert_true(loop_until(&l, both_secure, 3000));
    assert_int_equal(c.dtls_error, PARLEY_DTLS_OK);
    assert_true(parley_peer_secure(peer, &profile));
    assert_int_equal(profile, PARLEY_SRTP_AEAD_AES_128_GCM);
    assert_int_equal(sfu.profile, PARLEY_SRTP_AEAD_AES_128_GCM);
    assert_int_equal(c.profile, PARLEY_DTLS_SRTP_AEAD_AES_128_GCM);

    exchange_media(&l, &sfu, &c, peer);

    /* a copy of a packet already delivered, for the replay */
    client_send_rtp(&c, 203, replay, &replay_len);
    want = PACKETS + 1;
    assert_true(loop_until(&l, sfu_rtp_enough, 2000));

    negative_wrong_password(&l, &sfu, &c, peer, &a);
    negative_unvalidated(&l, &sfu, &c, &a);
    negative_dtls_garbage(&l, &sfu, &c, peer);
    negative_srtp(&l, &sfu, &c, peer, replay, replay_len);
    negative_unknown(&l, &sfu, &a);
    negative_redirect(&l, &sfu, &c, peer, &a);

    assert_int_equal(sfu.rtp_ok, PACKETS + 1);

    restart_ice(&l, &sfu, &c, peer);

    /* the goodbye reaches the browser; the addresses leave the endpoint */
    parley_peer_close(peer);
    assert_int_equal(sfu.state, PARLEY_PEER_CLOSED);
    assert_true(loop_until(&l, client_closed, 2000));

    es = parley_endpoint_stats(sfu.endpoint);
    assert_int_equal(es->addresses, 0);
    assert_int_equal(es->peers, 1);
    assert_int_equal(parley_peer_timeout_ms(peer, sfu_now()), -1);

    client_free(&c);
    sfu_free(&sfu);
    close(a.fd);
    loop_free(&l);
    sfu_skew_ms = 0;
}


static int
app_data_both_ways(loop_t *l)
{
    return l->sfu->app_data > 0 && l->client->app_data > 0;
}


/*
 * The browser answers a=setup:passive (RFC 8842 5): the SFU is the DTLS
 * client and says ClientHello once the browser has nominated (RFC 5763 5).
 * DTLS application data (SCTP's, later) flows both ways.
 */
static void
test_peer_dtls_client(void **state)
{
    loop_t                      l;
    sfu_t                       sfu;
    client_t                    c;
    parley_peer_t              *peer;
    parley_peer_conf_t          conf;
    parley_dtls_fingerprint_t   fp;

    (void) state;

    sfu_init(&sfu, 4);
    loop_init(&l, &sfu);
    client_init(&c, &l, sfu.identity, PARLEY_DTLS_ROLE_SERVER);

    client_fingerprint(&c, &fp);

    sfu_conf(&sfu, &conf);
    conf.dtls_role = PARLEY_DTLS_ROLE_CLIENT;
    client_credentials(&c, &conf.ice);

    peer = sfu_peer(&sfu, &conf);

    /* the fingerprint comes with a later SDP, before the handshake ends */
    assert_int_equal(parley_peer_set_remote_fingerprints(peer, &fp, 1),
                     PARLEY_PEER_OK);

    /* no ClientHello before a nomination */
    assert_int_equal(parley_peer_dtls_stats(peer)->datagrams_out, 0);

    connect_pair(&l, &sfu, &c, peer);
    assert_true(parley_peer_dtls_stats(peer)->datagrams_out > 0);

    assert_true(loop_until(&l, both_secure, 3000));
    assert_int_equal(sfu.profile, PARLEY_SRTP_AEAD_AES_128_GCM);

    client_send_burst(&l, 1, BURST);
    assert_int_equal(sfu.rtp_ok, BURST);

    assert_int_equal(parley_peer_send_app_data(peer, (const uint8_t *) "hello",
                                               5),
                     PARLEY_PEER_OK);
    assert_int_equal(parley_dtls_write(c.dtls, (const uint8_t *) "hello", 5),
                     PARLEY_DTLS_OK);
    assert_true(loop_until(&l, app_data_both_ways, 2000));

    client_free(&c);
    sfu_free(&sfu);
    loop_free(&l);
}


/*
 * A connection with no data channel sheds its DTLS association at the
 * browser's first SRTP: not before (the browser may still need our last
 * flight again), media goes on both ways after, DTLS that arrives later
 * is refused and counted, nothing can be written, and closing is quiet.
 */
static void
test_peer_sheds_dtls(void **state)
{
    loop_t                      l;
    sfu_t                       sfu;
    client_t                    c;
    parley_peer_t              *peer;
    parley_peer_conf_t          conf;
    parley_dtls_fingerprint_t   fp;
    const parley_dtls_stats_t  *ds;

    (void) state;

    sfu_skew_ms = 0;
    sfu_init(&sfu, 4);
    loop_init(&l, &sfu);
    client_init(&c, &l, sfu.identity, PARLEY_DTLS_ROLE_CLIENT);
    client_fingerprint(&c, &fp);

    sfu_conf(&sfu, &conf);
    client_credentials(&c, &conf.ice);
    conf.fingerprints = &fp;
    conf.nfingerprints = 1;
    conf.shed_dtls = 1;

    peer = sfu_peer(&sfu, &conf);

    connect_pair(&l, &sfu, &c, peer);
    assert_true(loop_until(&l, both_secure, 3000));

    ds = parley_peer_dtls_stats(peer);
    assert_int_equal(ds->shed, 0);

    /* the browser's first SRTP (exchange_media begins with it) sheds it */
    exchange_media(&l, &sfu, &c, peer);
    assert_int_equal(ds->shed, 1);
    assert_int_equal(parley_dtls_state(c.dtls), PARLEY_DTLS_CONNECTED);

    /* media after it, both ways */
    client_send_burst(&l, 301, BURST);
    assert_int_equal(sfu.rtp_bad, 0);

    /* DTLS after it: refused and counted, never delivered */
    wait_endpoint(&l, 1);
    assert_int_equal(parley_dtls_write(c.dtls, (const uint8_t *) "late", 4),
                     PARLEY_DTLS_OK);
    assert_true(loop_until(&l, endpoint_seen, 2000));
    assert_int_equal(sfu.app_data, 0);
    assert_true(ds->errors[PARLEY_DTLS_ERR_STATE] >= 1);

    assert_int_equal(parley_peer_send_app_data(peer, (const uint8_t *) "x", 1),
                     PARLEY_PEER_ERR_DTLS);

    parley_peer_close(peer);
    assert_int_equal(sfu.state, PARLEY_PEER_CLOSED);

    client_free(&c);
    sfu_free(&sfu);
    loop_free(&l);
}


/*
 * RFC 7675 5.1 end to end: libnice answers the SFU's freshness checks,
 * and that keeps the path; once libnice is gone, the peer fails within
 * the consent timeout of the last answer. The SFU's clock is moved on
 * instead of waiting for time to pass, its interval and timeout made
 * short. The browser's credentials come after the peer is made, as with
 * a subscriber's answer.
 */
static int
consent_renewed(loop_t *l)
{
    return parley_peer_stats(l->sfu->peers[0])->consent_renewed >= want;
}


static void
test_peer_consent(void **state)
{
    uint8_t                     buf[64];
    uint64_t                    checks, renewed, start, renewed_since;
    unsigned                    i;
    loop_t                      l;
    sfu_t                       sfu;
    client_t                    c;
    parley_peer_t              *peer;
    parley_peer_ice_t           ice;
    parley_peer_conf_t          conf;
    const parley_peer_stats_t  *st;

    (void) state;

    sfu_skew_ms = 0;
    sfu_init(&sfu, 4);
    loop_init(&l, &sfu);
    client_init(&c, &l, sfu.identity, PARLEY_DTLS_ROLE_CLIENT);

    sfu_conf(&sfu, &conf);
    conf.consent_timeout_ms = CONSENT_MS;
    conf.consent_interval_ms = CONSENT_MS / 5;

    peer = sfu_peer(&sfu, &conf);

    memset(&ice, 0, sizeof(ice));
    client_credentials(&c, &ice);
    assert_int_equal(parley_peer_set_remote_credentials(peer,
                                                        &ice.remote_ufrag,
                                                        &ice.remote_pwd,
                                                        sfu_now()),
                     PARLEY_PEER_OK);
    assert_int_equal(parley_peer_set_remote_credentials(peer,
                                                        &ice.remote_ufrag,
                                                        &ice.remote_pwd,
                                                        sfu_now()),
                     PARLEY_PEER_ERR_STATE);

    /* the client does no DTLS here */
    parley_dtls_destroy(c.dtls);
    c.dtls = NULL;

    connect_pair(&l, &sfu, &c, peer);
    st = parley_peer_stats(peer);
    assert_true(st->consent_granted >= 1);

    /* two and a half timeouts, 100 ms at a time: libnice answers */
    renewed_since = sfu_now();

    for (i = 0; i < 5 * CONSENT_MS / 2 / 100; i++) {
        sfu_skew_ms += 100;
        start = sfu_now();
        checks = st->consent_checks;
        renewed = st->consent_renewed;

        (void) sfu_timers(&sfu, 0);

        if (st->consent_checks > checks) {
            want = (unsigned) st->consent_renewed + 1;
            assert_true(loop_until(&l, consent_renewed, 2000));
        }

        if (st->consent_renewed > renewed) {
            renewed_since = start;
        }

        assert_int_equal(sfu.state, PARLEY_PEER_CONNECTED);
    }

    /*
     * Renewed over and over; not every time: the clock here is the
     * machine's plus the skew, and on a loaded machine a check may time
     * out before libnice gets to answer it.
     */
    assert_true(st->consent_renewed >= 3);
    assert_int_equal(st->responses[PARLEY_ICELITE_RESPONSE_SUCCESS],
                     st->consent_granted + st->consent_renewed);
    assert_int_equal(sfu.states[PARLEY_PEER_FAILED], 0);

    /* libnice goes: the last answer came after renewed_since */
    parley_ice_destroy(c.ice);
    c.ice = NULL;

    parley_peer_handle_timeout(peer, renewed_since + CONSENT_MS - 1);
    assert_int_equal(sfu.state, PARLEY_PEER_CONNECTED);

    parley_peer_handle_timeout(peer, sfu_now() + CONSENT_MS);
    assert_int_equal(sfu.state, PARLEY_PEER_FAILED);
    assert_int_equal(st->failure, PARLEY_PEER_FAILURE_CONSENT);
    assert_int_equal(st->consent_lost, 1);
    assert_int_equal(parley_endpoint_stats(sfu.endpoint)->addresses, 0);
    assert_int_equal(parley_peer_timeout_ms(peer, sfu_now()), -1);

    /* RFC 7675 5.2: nothing is sent without consent */
    assert_int_equal(parley_peer_send_rtp(peer, buf, 12, sizeof(buf)),
                     PARLEY_PEER_ERR_STATE);

    /* an ICE restart may bring it back */
    memset(&conf.ice, 0, sizeof(conf.ice));
    assert_int_equal(parley_peer_restart(peer, &conf.ice, sfu_now()),
                     PARLEY_PEER_OK);
    assert_int_equal(parley_peer_state(peer), PARLEY_PEER_NEW);

    client_free(&c);
    sfu_free(&sfu);
    loop_free(&l);
    sfu_skew_ms = 0;
}


/* The endpoint and the peer without sockets */


typedef struct {
    unsigned                  sent;
    struct sockaddr_storage   to;
    uint8_t                   last[DATAGRAM_MAX];
    size_t                    last_len;

    /* the peer's own checks (Binding requests), the last one kept */
    unsigned                  requests;
    struct sockaddr_storage   request_to;
    uint8_t                   request[DATAGRAM_MAX];
    size_t                    request_len;

    /* what went to one address the test watches */
    struct sockaddr_in        watch;
    unsigned                  watched;
    unsigned                  watched_requests;
    unsigned                  watched_srtp;    /* SRTP and SRTCP */

    /* a DTLS client that the peer's DTLS goes to (secure_direct()) */
    parley_dtls_t            *dtls;

    parley_peer_state_t       state;
} capture_t;


/* 1 if "to" (a captured destination) is "sin" */
static int
sent_to(const struct sockaddr_storage *to, const struct sockaddr_in *sin)
{
    const struct sockaddr_in  *a = (const struct sockaddr_in *) to;

    return a->sin_family == AF_INET && a->sin_port == sin->sin_port
           && a->sin_addr.s_addr == sin->sin_addr.s_addr;
}


static void
capture_send(void *data, const struct sockaddr *to, socklen_t tolen,
    const uint8_t *buf, size_t len)
{
    int                    request;
    capture_t             *cap = data;
    parley_stun_msg_t      msg;
    parley_demux_class_t   class;

    cap->sent++;
    memcpy(&cap->to, to, tolen);
    memcpy(cap->last, buf, len);
    cap->last_len = len;

    class = parley_demux_classify(buf, len);
    request = class == PARLEY_DEMUX_STUN
              && parley_stun_parse(&msg, buf, len) == PARLEY_STUN_OK
              && msg.class == PARLEY_STUN_REQUEST;

    if (request) {
        cap->requests++;
        memcpy(&cap->request_to, to, tolen);
        memcpy(cap->request, buf, len);
        cap->request_len = len;
    }

    if (sent_to(&cap->to, &cap->watch)) {
        cap->watched++;
        cap->watched_requests += request;
        cap->watched_srtp += class == PARLEY_DEMUX_RTP
                             || class == PARLEY_DEMUX_RTCP;
    }

    if (cap->dtls != NULL && class == PARLEY_DEMUX_DTLS) {
        (void) parley_dtls_feed(cap->dtls, buf, len);
    }
}


static void
capture_state(void *data, parley_peer_state_t state)
{
    ((capture_t *) data)->state = state;
}


static parley_dtls_identity_t  *identity;


static parley_peer_t *
make_peer_with(capture_t *cap, const char *ufrag, unsigned handshake_ms,
    uint64_t now)
{
    parley_peer_t       *peer;
    parley_peer_conf_t   conf;

    memset(cap, 0, sizeof(capture_t));
    memset(&conf, 0, sizeof(conf));

    conf.handshake_timeout_ms = handshake_ms;
    conf.dtls_role = PARLEY_DTLS_ROLE_SERVER;
    conf.handler.data = cap;
    conf.handler.send = capture_send;
    conf.handler.on_state = capture_state;

    /* the browser's credentials, as its SDP would give them */
    conf.ice.remote_ufrag.data = (const uint8_t *) BROWSER_UFRAG;
    conf.ice.remote_ufrag.len = strlen(BROWSER_UFRAG);
    conf.ice.remote_pwd.data = (const uint8_t *) BROWSER_PWD;
    conf.ice.remote_pwd.len = strlen(BROWSER_PWD);

    if (ufrag != NULL) {
        conf.ice.local_ufrag.data = (const uint8_t *) ufrag;
        conf.ice.local_ufrag.len = strlen(ufrag);
    }

    assert_int_equal(parley_peer_create(&peer, identity, &conf, now),
                     PARLEY_PEER_OK);

    return peer;
}


static parley_peer_t *
make_peer(capture_t *cap, const char *ufrag, uint64_t now)
{
    return make_peer_with(cap, ufrag, 0, now);
}


/* A check to "peer" from "from" at "now", through the endpoint. */
static parley_endpoint_drop_t
send_check(parley_endpoint_t *ep, parley_peer_t *peer,
    const struct sockaddr *from, int nominate, uint32_t priority,
    uint64_t now)
{
    char               username[600];
    size_t             len;
    uint8_t            buf[512];
    parley_stun_key_t  key;

    check_username(username, sizeof(username), peer, BROWSER_UFRAG);
    peer_key(peer, &key);
    len = make_check(buf, sizeof(buf), username, &key, nominate, priority);
    parley_stun_key_free(&key);

    return parley_endpoint_receive(ep, from, buf, len, now, NULL);
}


/*
 * The browser's answer to the last check the peer sent (RFC 8445 7.3.1):
 * the same transaction id, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY under
 * "pwd", FINGERPRINT.
 */
static size_t
make_answer(uint8_t *buf, size_t cap_len, const capture_t *cap,
    const char *pwd)
{
    size_t              len;
    parley_stun_key_t   key;
    parley_stun_msg_t   req;
    parley_stun_addr_t  mapped;

    assert_true(cap->requests > 0);
    assert_int_equal(parley_stun_parse(&req, cap->request, cap->request_len),
                     PARLEY_STUN_OK);

    memset(&mapped, 0, sizeof(mapped));
    mapped.family = AF_INET;
    mapped.port = 40000;

    assert_int_equal(parley_stun_key_init(&key, pwd, strlen(pwd)),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_binding_success(buf, cap_len, req.tid,
                                                 &mapped, &key, &len),
                     PARLEY_STUN_OK);
    parley_stun_key_free(&key);

    return len;
}


/* That answer, from "from", through the endpoint. */
static parley_endpoint_drop_t
answer_check(parley_endpoint_t *ep, const capture_t *cap,
    const struct sockaddr *from, uint64_t now)
{
    size_t   len;
    uint8_t  buf[256];

    len = make_answer(buf, sizeof(buf), cap, BROWSER_PWD);

    return parley_endpoint_receive(ep, from, buf, len, now, NULL);
}


/* The same, handed to a peer with no endpoint in front. */
static parley_peer_drop_t
answer_check_direct(parley_peer_t *peer, const capture_t *cap,
    const parley_stun_addr_t *from, uint64_t now)
{
    size_t   len;
    uint8_t  buf[256];

    len = make_answer(buf, sizeof(buf), cap, BROWSER_PWD);

    return parley_peer_receive(peer, from, buf, len, now);
}


static parley_endpoint_drop_t
send_rtp_from(parley_endpoint_t *ep, const struct sockaddr *from,
    uint64_t now, parley_peer_t **to)
{
    size_t   len;
    uint8_t  buf[DATAGRAM_MAX];

    len = make_rtp(buf, 1, CLIENT_SSRC);

    return parley_endpoint_receive(ep, from, buf, len, now, to);
}


static void
test_peer_credentials(void **state)
{
    size_t              i;
    capture_t           cap;
    parley_peer_t      *a, *b;
    parley_stun_str_t   ua, pa, ub;
    parley_peer_conf_t  conf;

    (void) state;

    a = make_peer(&cap, NULL, 0);
    b = make_peer(&cap, NULL, 0);

    /* RFC 8445 5.3 lengths, RFC 8839 5.4 characters, and NUL-terminated */
    parley_peer_local_credentials(a, &ua, &pa);
    parley_peer_local_credentials(b, &ub, NULL);
    assert_int_equal(ua.len, PARLEY_PEER_UFRAG_LEN);
    assert_int_equal(pa.len, PARLEY_PEER_PWD_LEN);
    assert_int_equal(strlen((const char *) ua.data), ua.len);
    assert_int_equal(strlen((const char *) pa.data), pa.len);
    assert_memory_not_equal(ua.data, ub.data, ua.len);

    for (i = 0; i < pa.len; i++) {
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                               "tuvwxyz0123456789+/", pa.data[i]));
    }

    parley_peer_destroy(a);
    parley_peer_destroy(b);

    memset(&conf, 0, sizeof(conf));
    conf.dtls_role = PARLEY_DTLS_ROLE_SERVER;
    conf.handler.send = capture_send;
    conf.handler.data = &cap;

    conf.ice.local_ufrag.data = (const uint8_t *) "abc";
    conf.ice.local_ufrag.len = 3;
    assert_int_equal(parley_peer_create(&a, identity, &conf, 0),
                     PARLEY_PEER_ERR_CREDENTIALS);

    conf.ice.local_ufrag.data = (const uint8_t *) "ab:cd";
    conf.ice.local_ufrag.len = 5;
    assert_int_equal(parley_peer_create(&a, identity, &conf, 0),
                     PARLEY_PEER_ERR_CREDENTIALS);

    conf.ice.local_ufrag.data = (const uint8_t *) "abcd";
    conf.ice.local_ufrag.len = 4;
    conf.ice.local_pwd.data = (const uint8_t *) "only21charactersthere";
    conf.ice.local_pwd.len = 21;
    assert_int_equal(parley_peer_create(&a, identity, &conf, 0),
                     PARLEY_PEER_ERR_CREDENTIALS);

    conf.ice.local_pwd.len = 0;
    conf.handler.send = NULL;
    assert_int_equal(parley_peer_create(&a, identity, &conf, 0),
                     PARLEY_PEER_ERR_INVAL);

    /* a remote password names no one without the ufrag (RFC 8445 7.2.2) */
    conf.handler.send = capture_send;
    conf.ice.remote_pwd.data = (const uint8_t *) BROWSER_PWD;
    conf.ice.remote_pwd.len = strlen(BROWSER_PWD);
    assert_int_equal(parley_peer_create(&a, identity, &conf, 0),
                     PARLEY_PEER_ERR_CREDENTIALS);
    conf.ice.remote_pwd.len = 0;

    conf.handler.send = capture_send;
    assert_int_equal(parley_peer_create(&a, identity, &conf, 0),
                     PARLEY_PEER_OK);
    {
        parley_stun_str_t  bad, good;

        bad.data = (const uint8_t *) "a b";
        bad.len = 3;
        good.data = (const uint8_t *) BROWSER_PWD;
        good.len = strlen(BROWSER_PWD);

        assert_int_equal(parley_peer_set_remote_credentials(a, &bad, &good,
                                                            0),
                         PARLEY_PEER_ERR_CREDENTIALS);

        /* RFC 8839 5.4: 22 ice-chars at least */
        bad.data = (const uint8_t *) "only21charactersthere";
        bad.len = 21;
        good.data = (const uint8_t *) "brws";
        good.len = 4;
        assert_int_equal(parley_peer_set_remote_credentials(a, &good, &bad,
                                                            0),
                         PARLEY_PEER_ERR_CREDENTIALS);
    }

    parley_peer_destroy(a);
}


static void
test_endpoint_routing(void **state)
{
    uint64_t                        t0;
    capture_t                       cap0, cap1;
    parley_peer_t                  *p0, *p1, *to;
    parley_stun_msg_t               msg;
    parley_endpoint_t              *ep;
    struct sockaddr_in              a1, a2, got;
    struct sockaddr_in6             a6;
    parley_endpoint_conf_t          conf;
    const parley_peer_stats_t      *st0, *st1;
    const parley_endpoint_stats_t  *es;

    (void) state;

    conf.max_peers = 8;
    conf.address_hold_ms = 1000;
    assert_int_equal(parley_endpoint_create(&ep, &conf), PARLEY_ENDPOINT_OK);
    es = parley_endpoint_stats(ep);

    t0 = 100000;
    p0 = make_peer(&cap0, NULL, t0);
    p1 = make_peer(&cap1, NULL, t0);
    st0 = parley_peer_stats(p0);
    st1 = parley_peer_stats(p1);
    assert_int_equal(parley_endpoint_add_peer(ep, p0), PARLEY_ENDPOINT_OK);
    assert_int_equal(parley_endpoint_add_peer(ep, p1), PARLEY_ENDPOINT_OK);
    assert_int_equal(parley_endpoint_add_peer(ep, p1),
                     PARLEY_ENDPOINT_ERR_DUPLICATE);

    a1 = sin_of("192.0.2.1", 5000);
    a2 = sin_of("192.0.2.2", 5000);

    /* before any check, nothing comes through from a1 */
    assert_int_equal(send_rtp_from(ep, (struct sockaddr *) &a1, t0, &to),
                     PARLEY_ENDPOINT_DROP_UNKNOWN_ADDRESS);
    assert_null(to);

    /*
     * A nominating check: answered to its source, the address mapped, and
     * checked by the peer in turn; selected once it answers (through the
     * endpoint, which routes the answer by its source).
     */
    assert_int_equal(send_check(ep, p0, (struct sockaddr *) &a1, 1, 100, t0),
                     PARLEY_ENDPOINT_DROP_NONE);
    assert_int_equal(cap0.sent, 2);
    assert_int_equal(cap0.requests, 1);
    assert_true(sent_to(&cap0.request_to, &a1));
    memcpy(&got, &cap0.to, sizeof(got));
    assert_int_equal(got.sin_port, a1.sin_port);
    assert_int_equal(parley_stun_parse(&msg, cap0.last, cap0.last_len),
                     PARLEY_STUN_OK);
    assert_int_equal(msg.class, PARLEY_STUN_REQUEST);
    assert_int_equal(cap0.state, PARLEY_PEER_CHECKING);
    assert_ptr_equal(parley_endpoint_find_address(ep, (struct sockaddr *) &a1),
                     p0);

    assert_int_equal(answer_check(ep, &cap0, (struct sockaddr *) &a1, t0),
                     PARLEY_ENDPOINT_DROP_NONE);
    assert_int_equal(cap0.state, PARLEY_PEER_CONNECTED);
    assert_int_equal(st0->consent_granted, 1);

    /* RTP from a1 reaches p0, which has no keys yet */
    assert_int_equal(send_rtp_from(ep, (struct sockaddr *) &a1, t0, &to),
                     PARLEY_ENDPOINT_DROP_PEER);
    assert_ptr_equal(to, p0);
    assert_ptr_equal(parley_peer_data(to), &cap0);
    assert_int_equal(st0->drops[PARLEY_PEER_DROP_NOT_SECURE], 1);
    assert_int_equal(es->peer_drops[PARLEY_PEER_DROP_NOT_SECURE], 1);
    assert_int_equal(send_rtp_from(ep, (struct sockaddr *) &a2, t0, NULL),
                     PARLEY_ENDPOINT_DROP_UNKNOWN_ADDRESS);

    /* IPv6 */
    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(6000);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr), 1);
    assert_int_equal(send_check(ep, p1, (struct sockaddr *) &a6, 1, 100, t0),
                     PARLEY_ENDPOINT_DROP_NONE);
    assert_int_equal(cap1.sent, 2);
    assert_int_equal(answer_check(ep, &cap1, (struct sockaddr *) &a6, t0),
                     PARLEY_ENDPOINT_DROP_NONE);
    assert_int_equal(cap1.state, PARLEY_PEER_CONNECTED);
    assert_int_equal(send_rtp_from(ep, (struct sockaddr *) &a6, t0, &to),
                     PARLEY_ENDPOINT_DROP_PEER);
    assert_ptr_equal(to, p1);

    /* p1's check from p0's live address is refused, and not answered */
    assert_int_equal(send_check(ep, p1, (struct sockaddr *) &a1, 1, 200,
                                t0 + 500),
                     PARLEY_ENDPOINT_DROP_PEER);
    assert_int_equal(st1->drops[PARLEY_PEER_DROP_REFUSED], 1);
    assert_int_equal(es->moves_refused, 1);
    assert_int_equal(cap1.sent, 2);
    assert_ptr_equal(parley_endpoint_find_address(ep, (struct sockaddr *) &a1),
                     p0);

    /* once p0 has not heard from it for the hold time, it moves */
    assert_int_equal(send_check(ep, p1, (struct sockaddr *) &a1, 1, 200,
                                t0 + 1500),
                     PARLEY_ENDPOINT_DROP_NONE);
    assert_int_equal(es->addresses_moved, 1);
    assert_ptr_equal(parley_endpoint_find_address(ep, (struct sockaddr *) &a1),
                     p1);
    assert_int_equal(cap0.state, PARLEY_PEER_CHECKING);
    assert_int_equal(parley_peer_selected_address(p0, NULL, NULL),
                     PARLEY_PEER_ERR_NO_PATH);
    assert_int_equal(es->addresses, 2);

    /*
     * The higher PRIORITY of the same ICE session is p1's choice, but
     * only once a1 has answered p1's own check (RFC 7675).
     */
    {
        socklen_t                len;
        struct sockaddr_storage  ss;

        assert_int_equal(parley_peer_selected_address(p1, &ss, &len),
                         PARLEY_PEER_OK);
        assert_int_equal(ss.ss_family, AF_INET6);

        assert_int_equal(answer_check(ep, &cap1, (struct sockaddr *) &a1,
                                      t0 + 1500),
                         PARLEY_ENDPOINT_DROP_NONE);
        assert_int_equal(parley_peer_selected_address(p1, &ss, &len),
                         PARLEY_PEER_OK);
        assert_int_equal(ss.ss_family, AF_INET);
    }

    /* a lower priority nomination does not take over (RFC 8445 8.2) */
    assert_int_equal(send_check(ep, p1, (struct sockaddr *) &a6, 1, 100,
                                t0 + 1600),
                     PARLEY_ENDPOINT_DROP_NONE);
    {
        socklen_t                len;
        struct sockaddr_storage  ss;

        assert_int_equal(parley_peer_selected_address(p1, &ss, &len),
                         PARLEY_PEER_OK);
        assert_int_equal(ss.ss_family, AF_INET);
    }

    /* destroying a peer takes its ufrag and addresses out */
    parley_peer_destroy(p1);
    assert_int_equal(es->peers, 1);
    assert_int_equal(es->addresses, 0);
    assert_int_equal(send_rtp_from(ep, (struct sockaddr *) &a6, t0, NULL),
                     PARLEY_ENDPOINT_DROP_UNKNOWN_ADDRESS);

    /* the endpoint goes first: its peers live on, standalone */
    parley_endpoint_destroy(ep);
    assert_int_equal(parley_peer_state(p0), PARLEY_PEER_CHECKING);
    parley_peer_destroy(p0);
}


/* What the endpoint drops before any peer sees it. */
static void
test_endpoint_drops(void **state)
{
    uint8_t                         buf[64];
    capture_t                       cap;
    parley_peer_t                  *p;
    parley_endpoint_t              *ep;
    struct sockaddr_in              a1;
    struct sockaddr                 unix_like;
    parley_endpoint_conf_t          conf;
    const parley_endpoint_stats_t  *es;

    (void) state;

    conf.max_peers = 1;
    conf.address_hold_ms = 0;
    assert_int_equal(parley_endpoint_create(&ep, &conf), PARLEY_ENDPOINT_OK);
    es = parley_endpoint_stats(ep);

    p = make_peer(&cap, NULL, 0);
    assert_int_equal(parley_endpoint_add_peer(ep, p), PARLEY_ENDPOINT_OK);

    a1 = sin_of("192.0.2.1", 5000);
    memset(buf, 0, sizeof(buf));

    /* STUN that does not parse: a bad magic cookie */
    buf[1] = 0x01;
    assert_int_equal(parley_endpoint_receive(ep, (struct sockaddr *) &a1, buf,
                                             20, 0, NULL),
                     PARLEY_ENDPOINT_DROP_MALFORMED);

    /* an RTP first byte on something too short to be RTP */
    buf[0] = 0x80;
    assert_int_equal(parley_endpoint_receive(ep, (struct sockaddr *) &a1, buf,
                                             5, 0, NULL),
                     PARLEY_ENDPOINT_DROP_MALFORMED);

    /* ZRTP and TURN channel data have no business here */
    buf[0] = 0x10;
    assert_int_equal(parley_endpoint_receive(ep, (struct sockaddr *) &a1, buf,
                                             64, 0, NULL),
                     PARLEY_ENDPOINT_DROP_NOT_WEBRTC);
    buf[0] = 0x40;
    assert_int_equal(parley_endpoint_receive(ep, (struct sockaddr *) &a1, buf,
                                             64, 0, NULL),
                     PARLEY_ENDPOINT_DROP_NOT_WEBRTC);

    /* a source of another family */
    memset(&unix_like, 0, sizeof(unix_like));
    unix_like.sa_family = AF_UNIX;
    assert_int_equal(parley_endpoint_receive(ep, &unix_like, buf, 64, 0, NULL),
                     PARLEY_ENDPOINT_DROP_BAD_ADDRESS);

    /* a second peer does not fit */
    {
        capture_t       cap2;
        parley_peer_t  *q;

        q = make_peer(&cap2, NULL, 0);
        assert_int_equal(parley_endpoint_add_peer(ep, q),
                         PARLEY_ENDPOINT_ERR_FULL);
        parley_peer_destroy(q);
    }

    assert_int_equal(es->datagrams_in, 5);
    assert_int_equal(es->drops[PARLEY_ENDPOINT_DROP_MALFORMED], 2);
    assert_int_equal(es->drops[PARLEY_ENDPOINT_DROP_NOT_WEBRTC], 2);
    assert_int_equal(es->drops[PARLEY_ENDPOINT_DROP_BAD_ADDRESS], 1);
    assert_int_equal(cap.sent, 0);

    parley_peer_destroy(p);
    assert_int_equal(es->peers, 0);
    parley_endpoint_destroy(ep);

    conf.max_peers = PARLEY_ENDPOINT_MAX_PEERS + 1;
    assert_int_equal(parley_endpoint_create(&ep, &conf),
                     PARLEY_ENDPOINT_ERR_INVAL);
}


/* ICE restart under the endpoint: found by the new ufrag only. */
static void
test_endpoint_restart(void **state)
{
    char                   old[PARLEY_PEER_UFRAG_MAX + 1];
    capture_t              cap0, cap1;
    parley_peer_t         *p0, *p1;
    parley_stun_str_t      u0, u1;
    parley_peer_ice_t      ice;
    parley_endpoint_t     *ep;
    struct sockaddr_in     a1;
    parley_endpoint_conf_t conf;

    (void) state;

    conf.max_peers = 4;
    conf.address_hold_ms = 0;
    assert_int_equal(parley_endpoint_create(&ep, &conf), PARLEY_ENDPOINT_OK);

    p0 = make_peer(&cap0, "peerzero", 0);
    p1 = make_peer(&cap1, "peerone1", 0);
    assert_int_equal(parley_endpoint_add_peer(ep, p0), PARLEY_ENDPOINT_OK);
    assert_int_equal(parley_endpoint_add_peer(ep, p1), PARLEY_ENDPOINT_OK);

    a1 = sin_of("192.0.2.1", 5000);
    assert_int_equal(send_check(ep, p0, (struct sockaddr *) &a1, 1, 100, 0),
                     PARLEY_ENDPOINT_DROP_NONE);
    assert_int_equal(answer_check(ep, &cap0, (struct sockaddr *) &a1, 0),
                     PARLEY_ENDPOINT_DROP_NONE);

    parley_peer_local_credentials(p0, &u0, NULL);
    memcpy(old, u0.data, u0.len);
    old[u0.len] = '\0';

    /* another peer's ufrag is refused, and nothing changes */
    memset(&ice, 0, sizeof(ice));
    parley_peer_local_credentials(p1, &u1, NULL);
    ice.local_ufrag = u1;
    assert_int_equal(parley_peer_restart(p0, &ice, 10),
                     PARLEY_PEER_ERR_REFUSED);
    parley_peer_local_credentials(p0, &u0, NULL);
    assert_string_equal((const char *) u0.data, old);

    memset(&ice, 0, sizeof(ice));
    assert_int_equal(parley_peer_restart(p0, &ice, 10), PARLEY_PEER_OK);
    parley_peer_local_credentials(p0, &u0, NULL);
    assert_string_not_equal((const char *) u0.data, old);

    assert_null(parley_endpoint_find_ufrag(ep, (const uint8_t *) old,
                                           strlen(old)));
    assert_ptr_equal(parley_endpoint_find_ufrag(ep, u0.data, u0.len), p0);
    assert_ptr_equal(parley_endpoint_find_ufrag(ep, u1.data, u1.len), p1);

    /* the old path carries media until the browser nominates anew */
    assert_ptr_equal(parley_endpoint_find_address(ep, (struct sockaddr *) &a1),
                     p0);
    assert_int_equal(parley_peer_state(p0), PARLEY_PEER_CONNECTED);

    /* checks under the new ufrag are answered */
    assert_int_equal(send_check(ep, p0, (struct sockaddr *) &a1, 1, 100, 20),
                     PARLEY_ENDPOINT_DROP_NONE);
    assert_int_equal(parley_peer_stats(p0)->nominations, 2);

    parley_peer_destroy(p0);
    parley_peer_destroy(p1);
    assert_int_equal(parley_endpoint_stats(ep)->peers, 0);
    parley_endpoint_destroy(ep);
}


/*
 * The tables half full, as with max_peers peers of PARLEY_PEER_MAX_PATHS
 * addresses each, so that probe chains form; then every other peer goes,
 * and every entry left must still be found from its home slot.
 */
#define TABLE_PEERS  64

static void
test_endpoint_tables(void **state)
{
    size_t                   i, k;
    capture_t                cap[TABLE_PEERS];
    parley_peer_t           *p[TABLE_PEERS];
    parley_stun_str_t        u;
    parley_endpoint_t       *ep;
    struct sockaddr_in       a;
    parley_endpoint_conf_t   conf;

    (void) state;

    conf.max_peers = TABLE_PEERS;
    conf.address_hold_ms = 0;
    assert_int_equal(parley_endpoint_create(&ep, &conf), PARLEY_ENDPOINT_OK);

    for (i = 0; i < TABLE_PEERS; i++) {
        p[i] = make_peer(&cap[i], NULL, 0);
        assert_int_equal(parley_endpoint_add_peer(ep, p[i]),
                         PARLEY_ENDPOINT_OK);

        for (k = 0; k < PARLEY_PEER_MAX_PATHS; k++) {
            a = sin_of("198.51.100.7", (uint16_t) (1000 + i * 8 + k));
            assert_int_equal(send_check(ep, p[i], (struct sockaddr *) &a,
                                        k == 0, 100, 0),
                             PARLEY_ENDPOINT_DROP_NONE);
        }
    }

    assert_int_equal(parley_endpoint_stats(ep)->addresses,
                     TABLE_PEERS * PARLEY_PEER_MAX_PATHS);

    for (i = 0; i < TABLE_PEERS; i += 2) {
        parley_peer_destroy(p[i]);
        p[i] = NULL;
    }

    for (i = 0; i < TABLE_PEERS; i++) {
        for (k = 0; k < PARLEY_PEER_MAX_PATHS; k++) {
            a = sin_of("198.51.100.7", (uint16_t) (1000 + i * 8 + k));
            assert_ptr_equal(parley_endpoint_find_address(ep,
                                                    (struct sockaddr *) &a),
                             p[i]);
        }

        if (p[i] != NULL) {
            parley_peer_local_credentials(p[i], &u, NULL);
            assert_ptr_equal(parley_endpoint_find_ufrag(ep, u.data, u.len),
                             p[i]);
        }
    }

    assert_int_equal(parley_endpoint_stats(ep)->peers, TABLE_PEERS / 2);

    /* the endpoint goes with half its peers still in */
    parley_endpoint_destroy(ep);

    for (i = 1; i < TABLE_PEERS; i += 2) {
        parley_peer_destroy(p[i]);
    }
}


/* Deadlines on a clock of the test's own. */
static void
test_peer_timers(void **state)
{
    char                        username[600];
    size_t                      len;
    uint8_t                     buf[512];
    uint64_t                    t0, t;
    unsigned                    requests;
    capture_t                   cap0, cap1;
    parley_peer_t              *p0, *p1;
    struct sockaddr_in          a1, a2, a3;
    parley_stun_key_t           key;
    parley_stun_addr_t          s1, s2, s3;
    const parley_peer_stats_t  *st;

    (void) state;

    t0 = 5000;
    p0 = make_peer(&cap0, NULL, t0);

    /* no check at all within the consent timeout */
    assert_int_equal(parley_peer_timeout_ms(p0, t0),
                     PARLEY_PEER_CONSENT_TIMEOUT_MS);
    parley_peer_handle_timeout(p0, t0 + PARLEY_PEER_CONSENT_TIMEOUT_MS - 1);
    assert_int_equal(parley_peer_state(p0), PARLEY_PEER_NEW);
    parley_peer_handle_timeout(p0, t0 + PARLEY_PEER_CONSENT_TIMEOUT_MS);
    assert_int_equal(cap0.state, PARLEY_PEER_FAILED);
    assert_int_equal(parley_peer_stats(p0)->failure,
                     PARLEY_PEER_FAILURE_ICE_TIMEOUT);
    parley_peer_destroy(p0);

    /*
     * Standalone (no endpoint): two nominated addresses, each answered
     * the peer's first check. The selected one answers none of its
     * freshness checks: its consent ends and the other takes over; then
     * that one answers none either, and the peer fails.
     */
    p1 = make_peer_with(&cap1, NULL, 3 * PARLEY_PEER_CONSENT_TIMEOUT_MS, t0);
    st = parley_peer_stats(p1);

    a1 = sin_of("192.0.2.1", 5000);
    a2 = sin_of("192.0.2.2", 5000);
    assert_int_equal(parley_stun_addr_from_sockaddr(&s1,
                                                    (struct sockaddr *) &a1),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_addr_from_sockaddr(&s2,
                                                    (struct sockaddr *) &a2),
                     PARLEY_STUN_OK);

    check_username(username, sizeof(username), p1, BROWSER_UFRAG);
    peer_key(p1, &key);

    len = make_check(buf, sizeof(buf), username, &key, 1, 200);
    assert_int_equal(parley_peer_receive(p1, &s1, buf, len, t0),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(answer_check_direct(p1, &cap1, &s1, t0),
                     PARLEY_PEER_DROP_NONE);
    len = make_check(buf, sizeof(buf), username, &key, 1, 100);
    assert_int_equal(parley_peer_receive(p1, &s2, buf, len, t0 + 10000),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(answer_check_direct(p1, &cap1, &s2, t0 + 10000),
                     PARLEY_PEER_DROP_NONE);
    parley_stun_key_free(&key);

    /* s1 has the higher priority: it stays selected (RFC 8445 8.2) */
    assert_int_equal(cap1.state, PARLEY_PEER_CONNECTED);
    assert_int_equal(st->nominations, 2);
    assert_int_equal(st->path_changes, 1);

    /* validated addresses reach the peer, which has no keys yet */
    len = make_rtp(buf, 1, CLIENT_SSRC);
    assert_int_equal(parley_peer_receive(p1, &s2, buf, len, t0 + 10000),
                     PARLEY_PEER_DROP_NOT_SECURE);

    /* without an endpoint in front, the peer itself keeps strangers out */
    a3 = sin_of("192.0.2.3", 5000);
    assert_int_equal(parley_stun_addr_from_sockaddr(&s3,
                                                    (struct sockaddr *) &a3),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_peer_receive(p1, &s3, buf, len, t0 + 10000),
                     PARLEY_PEER_DROP_UNVALIDATED);
    buf[0] = 22;
    assert_int_equal(parley_peer_receive(p1, &s3, buf, len, t0 + 10000),
                     PARLEY_PEER_DROP_UNVALIDATED);
    assert_int_equal(st->drops[PARLEY_PEER_DROP_UNVALIDATED], 2);
    assert_int_equal(parley_peer_dtls_stats(p1)->datagrams_in, 0);
    len = make_rtp(buf, 1, CLIENT_SSRC);
    assert_int_equal(parley_peer_receive(p1, &s1, buf, 5, t0 + 10000),
                     PARLEY_PEER_DROP_MALFORMED);

    /* RFC 7675 5.1: only checks are consent; media and DTLS are not */
    assert_int_equal(parley_peer_receive(p1, &s1, buf, len, t0 + 20000),
                     PARLEY_PEER_DROP_NOT_SECURE);
    buf[0] = 22;
    assert_int_equal(parley_peer_receive(p1, &s1, buf, len, t0 + 20000),
                     PARLEY_PEER_DROP_DTLS);
    len = make_rtp(buf, 2, CLIENT_SSRC);

    /*
     * The nearest deadline is s1's freshness check (RFC 7675 5.1), 4 to
     * 6 s after its answer: due by now, sent to s1 alone, and the next
     * one 4 to 6 s on.
     */
    assert_int_equal(parley_peer_timeout_ms(p1, t0 + 10000), 0);
    requests = cap1.requests;
    parley_peer_handle_timeout(p1, t0 + 10000);
    assert_int_equal(cap1.requests, requests + 1);
    assert_true(sent_to(&cap1.request_to, &a1));
    assert_true(parley_peer_timeout_ms(p1, t0 + 10000) >= 4000);
    assert_true(parley_peer_timeout_ms(p1, t0 + 10000) <= 6000);

    /* none answered: s1's consent ends 30 s after its first answer */
    parley_peer_handle_timeout(p1, t0 + PARLEY_PEER_CONSENT_TIMEOUT_MS - 1);
    assert_int_equal(st->path_changes, 1);
    assert_int_equal(st->consent_lost, 0);

    /* s2, nominated and answered, takes over, and is checked at once */
    t = t0 + PARLEY_PEER_CONSENT_TIMEOUT_MS;
    requests = cap1.requests;
    parley_peer_handle_timeout(p1, t);
    assert_int_equal(parley_peer_state(p1), PARLEY_PEER_CONNECTED);
    assert_int_equal(st->consent_lost, 1);
    assert_int_equal(st->path_changes, 2);
    assert_int_equal(st->paths_forgotten, 1);
    assert_int_equal(cap1.requests, requests + 1);
    assert_true(sent_to(&cap1.request_to, &a2));
    assert_true(parley_peer_timeout_ms(p1, t) <= 6000);

    /* s2 does not answer either: its consent ends 30 s after its answer */
    parley_peer_handle_timeout(p1, t + 10000 - 1);
    assert_int_equal(cap1.state, PARLEY_PEER_CONNECTED);
    parley_peer_handle_timeout(p1, t + 10000);
    assert_int_equal(cap1.state, PARLEY_PEER_FAILED);
    assert_int_equal(st->failure, PARLEY_PEER_FAILURE_CONSENT);
    assert_int_equal(st->consent_lost, 2);

    /* a failed peer takes nothing */
    assert_int_equal(parley_peer_receive(p1, &s1, buf, len, t0 + 50000),
                     PARLEY_PEER_DROP_CLOSED);

    parley_peer_destroy(p1);
}


/* The peer's own checks (RFC 7675), socket-less, on the test's clock */


static parley_stun_addr_t
stun_addr(const struct sockaddr_in *sin)
{
    parley_stun_addr_t  a;

    assert_int_equal(parley_stun_addr_from_sockaddr(&a,
                                                    (struct sockaddr *) sin),
                     PARLEY_STUN_OK);

    return a;
}


/* A browser's check to a peer with no endpoint in front. */
static parley_peer_drop_t
check_direct(parley_peer_t *peer, const parley_stun_addr_t *from,
    int nominate, uint32_t priority, uint64_t now)
{
    char               username[600];
    size_t             len;
    uint8_t            buf[512];
    parley_stun_key_t  key;

    check_username(username, sizeof(username), peer, BROWSER_UFRAG);
    peer_key(peer, &key);
    len = make_check(buf, sizeof(buf), username, &key, nominate, priority);
    parley_stun_key_free(&key);

    return parley_peer_receive(peer, from, buf, len, now);
}


/* The address the peer sends everything to, or port 0 if none. */
static uint16_t
selected_port(parley_peer_t *peer)
{
    socklen_t                len;
    struct sockaddr_storage  ss;

    if (parley_peer_selected_address(peer, &ss, &len) != PARLEY_PEER_OK) {
        return 0;
    }

    return ntohs(((struct sockaddr_in *) &ss)->sin_port);
}


/*
 * The first address: the peer checks it at once, before a nomination,
 * and sends nothing else to it until the answer; answers that do not
 * count are dropped and counted, each with its reason.
 */
static void
test_consent_first_path(void **state)
{
    char                        want_user[64];
    size_t                      len;
    uint8_t                     buf[512];
    uint64_t                    t0;
    capture_t                   cap;
    parley_peer_t              *p;
    parley_stun_msg_t           req;
    parley_stun_key_t           key, wrong;
    parley_stun_str_t           ufrag;
    parley_stun_addr_t          s1, s2;
    struct sockaddr_in          a1, a2;
    const parley_peer_stats_t  *st;

    (void) state;

    t0 = 1000;
    p = make_peer(&cap, NULL, t0);
    st = parley_peer_stats(p);
    a1 = sin_of("192.0.2.1", 5000);
    a2 = sin_of("192.0.2.2", 5000);
    s1 = stun_addr(&a1);
    s2 = stun_addr(&a2);

    /* a check, not nominating yet: answered, and checked in turn */
    assert_int_equal(check_direct(p, &s1, 0, 100, t0), PARLEY_PEER_DROP_NONE);
    assert_int_equal(cap.sent, 2);
    assert_int_equal(cap.requests, 1);
    assert_true(sent_to(&cap.request_to, &a1));
    assert_int_equal(st->consent_checks, 1);
    assert_int_equal(parley_peer_state(p), PARLEY_PEER_CHECKING);

    /* RFC 8445 7.2.2 from the lite side, signed with the browser's pwd */
    assert_int_equal(parley_stun_parse(&req, cap.request, cap.request_len),
                     PARLEY_STUN_OK);
    assert_int_equal(req.method, PARLEY_STUN_BINDING);
    parley_peer_local_credentials(p, &ufrag, NULL);
    snprintf(want_user, sizeof(want_user), "%s:%.*s", BROWSER_UFRAG,
             (int) ufrag.len, (const char *) ufrag.data);
    assert_int_equal(req.username.len, strlen(want_user));
    assert_memory_equal(req.username.data, want_user, req.username.len);
    assert_true(req.attrs & PARLEY_STUN_HAS_ICE_CONTROLLED);
    assert_false(req.attrs & PARLEY_STUN_HAS_ICE_CONTROLLING);
    assert_false(req.attrs & PARLEY_STUN_HAS_USE_CANDIDATE);
    assert_true(req.attrs & PARLEY_STUN_HAS_PRIORITY);
    assert_int_equal(parley_stun_verify_fingerprint(&req), PARLEY_STUN_OK);
    assert_int_equal(parley_stun_key_init(&key, BROWSER_PWD,
                                          strlen(BROWSER_PWD)),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&req, &key),
                     PARLEY_STUN_OK);

    /* the nomination alone selects nothing: no answer yet */
    assert_int_equal(check_direct(p, &s1, 1, 100, t0 + 5),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(parley_peer_state(p), PARLEY_PEER_CHECKING);
    assert_int_equal(selected_port(p), 0);
    assert_int_equal(parley_peer_send_rtp(p, buf, 12, sizeof(buf)),
                     PARLEY_PEER_ERR_STATE);
    assert_int_equal(st->consent_checks, 1);      /* one at a time */

    /* another address of the browser's, checked too while none answered */
    assert_int_equal(check_direct(p, &s2, 0, 50, t0 + 6),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(st->consent_checks, 2);
    assert_true(sent_to(&cap.request_to, &a2));

    /* a2's answer, under a1's transaction id: wrong source */
    len = make_answer(buf, sizeof(buf), &cap, BROWSER_PWD);
    memcpy(buf + 8, req.tid, PARLEY_STUN_TID_SIZE);
    assert_int_equal(parley_peer_receive(p, &s2, buf, len, t0 + 10),
                     PARLEY_PEER_DROP_RESPONSE);
    assert_int_equal(st->responses_misrouted, 1);

    /* a transaction id never sent */
    buf[8] ^= 0xff;
    assert_int_equal(parley_peer_receive(p, &s1, buf, len, t0 + 10),
                     PARLEY_PEER_DROP_RESPONSE);
    assert_int_equal(st->responses_unmatched, 1);

    /* a1's own id, but signed with another password */
    assert_int_equal(parley_stun_key_init(&wrong, "not" BROWSER_PWD,
                                          strlen(BROWSER_PWD) + 3),
                     PARLEY_STUN_OK);
    {
        parley_stun_addr_t  mapped = s1;

        assert_int_equal(parley_stun_binding_success(buf, sizeof(buf),
                                                     req.tid, &mapped,
                                                     &wrong, &len),
                         PARLEY_STUN_OK);
        assert_int_equal(parley_peer_receive(p, &s1, buf, len, t0 + 10),
                         PARLEY_PEER_DROP_RESPONSE);
        assert_int_equal(st->responses[PARLEY_ICELITE_RESPONSE_BAD_INTEGRITY],
                         1);

        /* no FINGERPRINT (RFC 8445 7) */
        assert_int_equal(parley_stun_binding_success(buf, sizeof(buf),
                                                     req.tid, &mapped, &key,
                                                     &len),
                         PARLEY_STUN_OK);
        put16(buf + 2, (uint16_t) (len - 8 - 20));
        assert_int_equal(parley_peer_receive(p, &s1, buf, len - 8, t0 + 10),
                         PARLEY_PEER_DROP_RESPONSE);
        assert_int_equal(
            st->responses[PARLEY_ICELITE_RESPONSE_NO_FINGERPRINT], 1);
    }

    parley_stun_key_free(&wrong);
    assert_int_equal(parley_peer_state(p), PARLEY_PEER_CHECKING);
    assert_int_equal(st->consent_granted, 0);
    assert_int_equal(st->drops[PARLEY_PEER_DROP_RESPONSE], 4);

    /* the forgeries did not end the transaction: the real answer counts */
    {
        parley_stun_addr_t  mapped = s1;

        assert_int_equal(parley_stun_binding_success(buf, sizeof(buf),
                                                     req.tid, &mapped, &key,
                                                     &len),
                         PARLEY_STUN_OK);
    }
    assert_int_equal(parley_peer_receive(p, &s1, buf, len, t0 + 20),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(st->consent_granted, 1);
    assert_int_equal(cap.state, PARLEY_PEER_CONNECTED);
    assert_int_equal(selected_port(p), 5000);

    /* a late copy of the same answer matches nothing any more */
    assert_int_equal(parley_peer_receive(p, &s1, buf, len, t0 + 25),
                     PARLEY_PEER_DROP_RESPONSE);
    assert_int_equal(st->responses_unmatched, 2);

    parley_stun_key_free(&key);
    parley_peer_destroy(p);
}


/*
 * The redirect: a client with a live path forges a nominating check from
 * a victim's address. The check is answered (RFC 8445 7.3), the victim
 * gets the peer's check and its retransmissions, and nothing else: the
 * selected address stays. Then a real move, answered, does move.
 */
static void
test_consent_redirect(void **state)
{
    uint64_t                    t0, t;
    unsigned                    sent;
    capture_t                   cap;
    parley_peer_t              *p;
    parley_stun_addr_t          s1, sv, s2;
    struct sockaddr_in          a1, victim, a2;
    const parley_peer_stats_t  *st;

    (void) state;

    t0 = 1000;
    p = make_peer(&cap, NULL, t0);
    st = parley_peer_stats(p);
    a1 = sin_of("192.0.2.1", 5000);
    victim = sin_of("198.51.100.66", 9);
    a2 = sin_of("192.0.2.1", 5002);
    s1 = stun_addr(&a1);
    sv = stun_addr(&victim);
    s2 = stun_addr(&a2);
    cap.watch = victim;

    assert_int_equal(check_direct(p, &s1, 1, 100, t0), PARLEY_PEER_DROP_NONE);
    assert_int_equal(answer_check_direct(p, &cap, &s1, t0),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(selected_port(p), 5000);
    assert_int_equal(st->path_changes, 1);

    /* a forged check that nominates nothing: answered, nothing more */
    sent = cap.sent;
    assert_int_equal(check_direct(p, &sv, 0, 0x7fffffff, t0 + 500),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(cap.sent, sent + 1);
    assert_int_equal(st->consent_checks, 1);

    /* the forged nomination, of a higher priority */
    sent = cap.sent;
    assert_int_equal(check_direct(p, &sv, 1, 0x7fffffff, t0 + 1000),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(cap.sent, sent + 2);         /* answer, our check */
    assert_true(sent_to(&cap.request_to, &victim));
    assert_int_equal(selected_port(p), 5000);
    assert_int_equal(st->nominations, 2);
    assert_int_equal(st->path_changes, 1);

    /*
     * RFC 8489 6.2.1: retransmitted at 100, 300, 700, 1500 and 3100 ms.
     * (a1, selected, gets its freshness check somewhere in there too.)
     */
    assert_int_equal(parley_peer_timeout_ms(p, t0 + 1000), 100);
    parley_peer_handle_timeout(p, t0 + 1099);
    assert_int_equal(cap.watched_requests, 1);

    for (t = 100; t <= 3100; t = 2 * t + 100) {
        sent = cap.watched_requests;
        parley_peer_handle_timeout(p, t0 + 1000 + t);
        assert_int_equal(cap.watched_requests, sent + 1);
    }

    assert_int_equal(cap.watched_requests, PARLEY_PEER_CONSENT_SENDS);

    /* a forged check again meanwhile starts nothing new */
    sent = cap.watched;
    assert_int_equal(check_direct(p, &sv, 1, 0x7fffffff, t0 + 4000),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(cap.watched, sent + 1);      /* the answer */
    assert_int_equal(cap.watched_requests, PARLEY_PEER_CONSENT_SENDS);

    /* given up 1600 ms after the last; nothing more, nothing moved */
    sent = cap.watched;
    parley_peer_handle_timeout(p, t0 + 1000 + 4699);
    assert_int_equal(st->consent_timeouts, 0);
    parley_peer_handle_timeout(p, t0 + 1000 + 4700);
    assert_int_equal(st->consent_timeouts, 1);
    assert_int_equal(cap.watched, sent);
    assert_int_equal(selected_port(p), 5000);

    /* not asked again before PARLEY_PEER_CONSENT_RETRY_MS */
    assert_int_equal(check_direct(p, &sv, 1, 0x7fffffff, t0 + 6000),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(cap.watched_requests, PARLEY_PEER_CONSENT_SENDS);
    assert_int_equal(check_direct(p, &sv, 1, 0x7fffffff,
                                  t0 + 5700 + PARLEY_PEER_CONSENT_RETRY_MS),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(cap.watched_requests, PARLEY_PEER_CONSENT_SENDS + 1);
    assert_int_equal(selected_port(p), 5000);

    /* a real move (a new port of the browser's): it answers, it moves */
    t = t0 + 6000 + PARLEY_PEER_CONSENT_RETRY_MS;
    assert_int_equal(check_direct(p, &s2, 1, 0x7ffffff0, t),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(selected_port(p), 5000);
    assert_int_equal(answer_check_direct(p, &cap, &s2, t),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(selected_port(p), 5002);
    assert_int_equal(st->path_changes, 2);
    assert_int_equal(parley_peer_state(p), PARLEY_PEER_CONNECTED);

    parley_peer_destroy(p);
}


/* What a DTLS client (the browser's side) says first: its ClientHello. */
typedef struct {
    uint8_t   buf[DATAGRAM_MAX];
    size_t    len;
    unsigned  sent;
} hello_t;


static void
hello_send(void *data, const uint8_t *buf, size_t len)
{
    hello_t  *h = data;

    memcpy(h->buf, buf, len);
    h->len = len;
    h->sent++;
}


/*
 * DTLS before any address answered is held, unanswered, then handled
 * once one has: the handshake's flight goes to the address with consent,
 * never to one a forged check brought.
 */
static void
test_consent_dtls_hold(void **state)
{
    uint64_t                    t0;
    unsigned                    sent;
    hello_t                     hello;
    capture_t                   cap;
    parley_dtls_t              *client;
    parley_peer_t              *p;
    parley_dtls_conf_t          dc;
    parley_stun_addr_t          s1, sv;
    struct sockaddr_in          a1, victim;
    const parley_peer_stats_t  *st;
    const parley_dtls_stats_t  *ds;

    (void) state;

    memset(&hello, 0, sizeof(hello));
    memset(&dc, 0, sizeof(dc));
    dc.role = PARLEY_DTLS_ROLE_CLIENT;
    dc.handler.data = &hello;
    dc.handler.send = hello_send;
    assert_int_equal(parley_dtls_create(&client, identity, &dc),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_dtls_start(client), PARLEY_DTLS_OK);
    assert_int_equal(hello.sent, 1);

    t0 = 1000;
    p = make_peer(&cap, NULL, t0);
    st = parley_peer_stats(p);
    ds = parley_peer_dtls_stats(p);
    a1 = sin_of("192.0.2.1", 5000);
    victim = sin_of("198.51.100.66", 9);
    s1 = stun_addr(&a1);
    sv = stun_addr(&victim);

    /* a1 passed the browser's check, but has not answered ours */
    assert_int_equal(check_direct(p, &s1, 1, 100, t0), PARLEY_PEER_DROP_NONE);
    sent = cap.sent;

    assert_int_equal(parley_peer_receive(p, &s1, hello.buf, hello.len, t0),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(st->dtls_held, 1);
    assert_int_equal(ds->datagrams_in, 0);
    assert_int_equal(cap.sent, sent);

    /* too large to hold: dropped, and counted */
    {
        uint8_t  big[PARLEY_PEER_DTLS_HOLD_MAX + 1];

        memset(big, 0, sizeof(big));
        memcpy(big, hello.buf, 13);
        assert_int_equal(parley_peer_receive(p, &s1, big, sizeof(big), t0),
                         PARLEY_PEER_DROP_UNCONSENTED);
    }

    /* the answer: the held ClientHello is handled, its flight goes to a1 */
    assert_int_equal(answer_check_direct(p, &cap, &s1, t0 + 30),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(ds->datagrams_in, 1);
    assert_true(cap.sent > sent);
    assert_true(sent_to(&cap.to, &a1));
    assert_int_equal(parley_demux_classify(cap.last, cap.last_len),
                     PARLEY_DEMUX_DTLS);

    /*
     * A forged check from the victim, then DTLS "from" it: the DTLS is
     * taken (a validated address), but whatever it makes the handshake
     * say goes to a1, the selected address.
     */
    assert_int_equal(check_direct(p, &sv, 1, 0x7fffffff, t0 + 40),
                     PARLEY_PEER_DROP_NONE);
    sent = cap.sent;
    assert_int_equal(parley_peer_receive(p, &sv, hello.buf, hello.len,
                                         t0 + 41),
                     PARLEY_PEER_DROP_NONE);

    if (cap.sent > sent) {
        assert_true(sent_to(&cap.to, &a1));
    }

    assert_int_equal(st->dtls_held, 1);

    parley_peer_destroy(p);
    parley_dtls_destroy(client);
}


/*
 * No browser password, no check of ours, no selected address: media is
 * never sent. Once the password comes, the addresses already validated
 * are checked at once.
 */
static void
test_consent_needs_password(void **state)
{
    uint8_t                     buf[64];
    capture_t                   cap;
    parley_peer_t              *p;
    parley_stun_str_t           u, pw;
    parley_stun_addr_t          s1;
    parley_peer_conf_t          conf;
    struct sockaddr_in          a1;
    const parley_peer_stats_t  *st;

    (void) state;

    memset(&cap, 0, sizeof(cap));
    memset(&conf, 0, sizeof(conf));
    conf.dtls_role = PARLEY_DTLS_ROLE_SERVER;
    conf.handler.data = &cap;
    conf.handler.send = capture_send;
    conf.handler.on_state = capture_state;
    conf.ice.remote_ufrag.data = (const uint8_t *) BROWSER_UFRAG;
    conf.ice.remote_ufrag.len = strlen(BROWSER_UFRAG);

    assert_int_equal(parley_peer_create(&p, identity, &conf, 0),
                     PARLEY_PEER_OK);
    st = parley_peer_stats(p);
    a1 = sin_of("192.0.2.1", 5000);
    s1 = stun_addr(&a1);

    assert_int_equal(check_direct(p, &s1, 1, 100, 10), PARLEY_PEER_DROP_NONE);
    assert_int_equal(check_direct(p, &s1, 1, 100, 20), PARLEY_PEER_DROP_NONE);
    assert_int_equal(cap.sent, 2);                 /* two answers, no check */
    assert_int_equal(cap.requests, 0);
    assert_int_equal(parley_peer_state(p), PARLEY_PEER_CHECKING);
    assert_int_equal(parley_peer_send_rtp(p, buf, 12, sizeof(buf)),
                     PARLEY_PEER_ERR_STATE);
    assert_true(parley_peer_timeout_ms(p, 20) > 10000);   /* nothing due */

    u.data = (const uint8_t *) BROWSER_UFRAG;
    u.len = strlen(BROWSER_UFRAG);
    pw.data = (const uint8_t *) BROWSER_PWD;
    pw.len = strlen(BROWSER_PWD);
    assert_int_equal(parley_peer_set_remote_credentials(p, &u, &pw, 30),
                     PARLEY_PEER_OK);
    assert_int_equal(cap.requests, 1);
    assert_true(sent_to(&cap.request_to, &a1));
    assert_int_equal(answer_check_direct(p, &cap, &s1, 40),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(parley_peer_state(p), PARLEY_PEER_CONNECTED);
    assert_int_equal(st->consent_granted, 1);

    parley_peer_destroy(p);
}


/*
 * Bounded: one transaction per address, at most PARLEY_PEER_MAX_PATHS
 * addresses, and an address our check is out to is not evicted for a
 * newer one: a client forging checks from ever new sources gets no more
 * checks sent, only its checks left unanswered.
 */
static void
test_consent_bounded(void **state)
{
    int                         k;
    unsigned                    sent;
    uint64_t                    checks;
    capture_t                   cap;
    parley_peer_t              *p;
    parley_stun_addr_t          s1, sv;
    struct sockaddr_in          a1, v;
    const parley_peer_stats_t  *st;

    (void) state;

    p = make_peer(&cap, NULL, 0);
    st = parley_peer_stats(p);
    a1 = sin_of("192.0.2.1", 5000);
    s1 = stun_addr(&a1);

    assert_int_equal(check_direct(p, &s1, 1, 100, 0), PARLEY_PEER_DROP_NONE);
    assert_int_equal(answer_check_direct(p, &cap, &s1, 0),
                     PARLEY_PEER_DROP_NONE);

    for (k = 0; k < PARLEY_PEER_MAX_PATHS - 1; k++) {
        v = sin_of("198.51.100.66", (uint16_t) (1000 + k));
        sv = stun_addr(&v);
        assert_int_equal(check_direct(p, &sv, 1, 1000, 10 + k),
                         PARLEY_PEER_DROP_NONE);
    }

    assert_int_equal(st->consent_checks, PARLEY_PEER_MAX_PATHS);

    /* a fifth address: no slot to spare, not answered, not checked */
    sent = cap.sent;
    v = sin_of("198.51.100.66", 2000);
    sv = stun_addr(&v);
    assert_int_equal(check_direct(p, &sv, 1, 1000, 20),
                     PARLEY_PEER_DROP_REFUSED);
    assert_int_equal(cap.sent, sent);
    assert_int_equal(st->paths_refused, 1);
    assert_int_equal(st->consent_checks, PARLEY_PEER_MAX_PATHS);
    assert_int_equal(selected_port(p), 5000);

    /* once those checks are given up, the slots may be had again */
    for (k = 0; k <= 5000; k += 50) {
        parley_peer_handle_timeout(p, (uint64_t) k);
    }

    assert_int_equal(st->consent_timeouts, PARLEY_PEER_MAX_PATHS - 1);
    checks = st->consent_checks;           /* a1's freshness check too */
    assert_int_equal(check_direct(p, &sv, 1, 1000, 5000),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(st->consent_checks, checks + 1);
    assert_int_equal(selected_port(p), 5000);

    parley_peer_destroy(p);
}


/*
 * ICE restart: the check out under the old password is forgotten (its
 * answer matches nothing), the next one is signed with the new password,
 * and media stays on the address that answered before.
 */
static void
test_consent_restart(void **state)
{
    size_t                      len;
    uint8_t                     old_answer[256];
    capture_t                   cap;
    parley_peer_t              *p;
    parley_peer_ice_t           ice;
    parley_stun_key_t           key;
    parley_stun_msg_t           req;
    parley_stun_addr_t          s1, s2;
    struct sockaddr_in          a1, a2;
    const parley_peer_stats_t  *st;
    static const char           new_pwd[] = "theBrowsersNewPassword+1";

    (void) state;

    p = make_peer(&cap, NULL, 0);
    st = parley_peer_stats(p);
    a1 = sin_of("192.0.2.1", 5000);
    a2 = sin_of("192.0.2.2", 5000);
    s1 = stun_addr(&a1);
    s2 = stun_addr(&a2);

    assert_int_equal(check_direct(p, &s1, 1, 100, 0), PARLEY_PEER_DROP_NONE);
    assert_int_equal(answer_check_direct(p, &cap, &s1, 0),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(check_direct(p, &s2, 1, 200, 10), PARLEY_PEER_DROP_NONE);
    len = make_answer(old_answer, sizeof(old_answer), &cap, BROWSER_PWD);

    memset(&ice, 0, sizeof(ice));
    ice.remote_ufrag.data = (const uint8_t *) "brw2";
    ice.remote_ufrag.len = 4;
    ice.remote_pwd.data = (const uint8_t *) new_pwd;
    ice.remote_pwd.len = strlen(new_pwd);
    assert_int_equal(parley_peer_restart(p, &ice, 20), PARLEY_PEER_OK);

    assert_int_equal(parley_peer_receive(p, &s2, old_answer, len, 30),
                     PARLEY_PEER_DROP_RESPONSE);
    assert_int_equal(st->responses_unmatched, 1);
    assert_int_equal(selected_port(p), 5000);
    assert_int_equal(parley_peer_state(p), PARLEY_PEER_CONNECTED);

    /* the new session nominates a2 again: checked under the new pwd */
    {
        char               username[600];
        uint8_t            buf[512];
        parley_stun_key_t  lk;

        check_username(username, sizeof(username), p, "brw2");
        peer_key(p, &lk);
        len = make_check(buf, sizeof(buf), username, &lk, 1, 200);
        parley_stun_key_free(&lk);
        assert_int_equal(parley_peer_receive(p, &s2, buf, len, 40),
                         PARLEY_PEER_DROP_NONE);
    }

    assert_int_equal(parley_stun_parse(&req, cap.request, cap.request_len),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_key_init(&key, new_pwd, strlen(new_pwd)),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&req, &key),
                     PARLEY_STUN_OK);
    parley_stun_key_free(&key);
    assert_int_equal(req.username.len, strlen("brw2:") + PARLEY_PEER_UFRAG_LEN);
    assert_memory_equal(req.username.data, "brw2:", 5);

    /* an answer under the old password is no consent now */
    len = make_answer(old_answer, sizeof(old_answer), &cap, BROWSER_PWD);
    assert_int_equal(parley_peer_receive(p, &s2, old_answer, len, 50),
                     PARLEY_PEER_DROP_RESPONSE);
    assert_int_equal(selected_port(p), 5000);

    len = make_answer(old_answer, sizeof(old_answer), &cap, new_pwd);
    assert_int_equal(parley_peer_receive(p, &s2, old_answer, len, 60),
                     PARLEY_PEER_DROP_NONE);
    assert_int_equal(selected_port(p), 5000);
    {
        socklen_t                sl;
        struct sockaddr_storage  ss;

        assert_int_equal(parley_peer_selected_address(p, &ss, &sl),
                         PARLEY_PEER_OK);
        assert_true(sent_to(&ss, &a2));
    }

    parley_peer_destroy(p);
}


/* Consent freshness (RFC 7675 5.1), on the test's clock */


/* The browser's DTLS flights, kept for the test to hand to the peer. */
typedef struct {
    uint8_t   buf[8][DATAGRAM_MAX];
    size_t    len[8];
    unsigned  n;
} flights_t;


static void
flights_send(void *data, const uint8_t *buf, size_t len)
{
    flights_t  *f = data;

    assert_true(f->n < 8 && len <= DATAGRAM_MAX);
    memcpy(f->buf[f->n], buf, len);
    f->len[f->n++] = len;
}


/*
 * A DTLS handshake with the peer in memory, the browser's datagrams
 * coming from "from": afterwards the peer has SRTP keys and sends media.
 */
static void
secure_direct(parley_peer_t *peer, capture_t *cap,
    const parley_stun_addr_t *from, uint64_t now)
{
    unsigned                    k;
    flights_t                  *f;
    parley_dtls_t              *client;
    parley_dtls_conf_t          dc;
    parley_dtls_fingerprint_t   fp;

    f = calloc(1, sizeof(flights_t));
    assert_non_null(f);

    assert_int_equal(parley_dtls_identity_fingerprint(identity,
                                                      PARLEY_DTLS_HASH_SHA256,
                                                      &fp),
                     PARLEY_DTLS_OK);
    assert_int_equal(parley_peer_set_remote_fingerprints(peer, &fp, 1),
                     PARLEY_PEER_OK);

    memset(&dc, 0, sizeof(dc));
    dc.role = PARLEY_DTLS_ROLE_CLIENT;
    dc.fingerprints = &fp;
    dc.nfingerprints = 1;
    dc.handler.data = f;
    dc.handler.send = flights_send;
    assert_int_equal(parley_dtls_create(&client, identity, &dc),
                     PARLEY_DTLS_OK);

    cap->dtls = client;
    assert_int_equal(parley_dtls_start(client), PARLEY_DTLS_OK);

    /* what the peer answers reaches the client, whose answer is queued */
    for (k = 0; k < f->n; k++) {
        assert_int_equal(parley_peer_receive(peer, from, f->buf[k],
                                             f->len[k], now),
                         PARLEY_PEER_DROP_NONE);
    }

    cap->dtls = NULL;
    parley_dtls_destroy(client);
    free(f);

    assert_true(parley_peer_secure(peer, NULL));
}


/* An RTP packet the peer protects and sends to its selected address. */
static parley_peer_rc_t
send_media(parley_peer_t *peer, uint16_t seq)
{
    size_t   len;
    uint8_t  buf[PACKET_ROOM];

    len = make_rtp(buf, seq, SFU_SSRC);

    return parley_peer_send_rtp(peer, buf, len, sizeof(buf));
}


/*
 * The address changed hands: its new owner does not answer the peer's
 * checks, while the old one, who knows the password, goes on sending
 * nominating checks from it every half second. Media stops when consent
 * runs out, 30 s after the last answer, and the peer fails for consent;
 * the new owner got one request per freshness check, nothing more.
 */
static void
test_consent_fresh_lost(void **state)
{
    uint16_t                    seq;
    uint64_t                    t0, t, end;
    unsigned                    srtp;
    capture_t                   cap;
    parley_peer_t              *p;
    parley_stun_addr_t          s1;
    struct sockaddr_in          a1;
    const parley_peer_stats_t  *st;

    (void) state;

    t0 = 1000;
    p = make_peer(&cap, NULL, t0);
    st = parley_peer_stats(p);
    a1 = sin_of("192.0.2.1", 5000);
    s1 = stun_addr(&a1);
    cap.watch = a1;

    assert_int_equal(check_direct(p, &s1, 1, 100, t0), PARLEY_PEER_DROP_NONE);
    assert_int_equal(answer_check_direct(p, &cap, &s1, t0),
                     PARLEY_PEER_DROP_NONE);
    secure_direct(p, &cap, &s1, t0);
    assert_int_equal(cap.watched_requests, 1);

    end = t0 + PARLEY_PEER_CONSENT_TIMEOUT_MS;
    seq = 1;

    for (t = t0 + 500; t < end; t += 500) {
        assert_int_equal(check_direct(p, &s1, 1, 100, t),
                         PARLEY_PEER_DROP_NONE);
        parley_peer_handle_timeout(p, t);

        srtp = cap.watched_srtp;
        assert_int_equal(send_media(p, seq++), PARLEY_PEER_OK);
        assert_int_equal(cap.watched_srtp, srtp + 1);
    }

    /* the checks went, one at a time, each once (RFC 7675 5.1) */
    assert_true(st->consent_checks >= 1 + 30000 / 6000);
    assert_true(cap.watched_requests <= 1 + 30000 / 4000 + 1);
    assert_int_equal(st->consent_requests, cap.watched_requests);
    assert_int_equal(st->consent_renewed, 0);

    /* the browser's check at the deadline is answered, and changes nothing */
    assert_int_equal(check_direct(p, &s1, 1, 100, end), PARLEY_PEER_DROP_NONE);
    parley_peer_handle_timeout(p, end);

    assert_int_equal(cap.state, PARLEY_PEER_FAILED);
    assert_int_equal(st->failure, PARLEY_PEER_FAILURE_CONSENT);
    assert_int_equal(st->consent_lost, 1);
    assert_int_equal(selected_port(p), 0);

    srtp = cap.watched_srtp;
    assert_int_equal(send_media(p, seq++), PARLEY_PEER_ERR_STATE);
    assert_int_equal(check_direct(p, &s1, 1, 100, end + 500),
                     PARLEY_PEER_DROP_CLOSED);
    assert_int_equal(cap.watched_srtp, srtp);

    parley_peer_destroy(p);
}


/*
 * An address that answers the peer's checks keeps its media for good,
 * with no check of the browser's at all: our own answers are consent.
 */
static void
test_consent_fresh_kept(void **state)
{
    uint16_t                    seq;
    uint64_t                    t0, t;
    unsigned                    requests;
    capture_t                   cap;
    parley_peer_t              *p;
    parley_stun_addr_t          s1;
    struct sockaddr_in          a1;
    const parley_peer_stats_t  *st;

    (void) state;

    t0 = 1000;
    p = make_peer(&cap, NULL, t0);
    st = parley_peer_stats(p);
    a1 = sin_of("192.0.2.1", 5000);
    s1 = stun_addr(&a1);
    cap.watch = a1;

    assert_int_equal(check_direct(p, &s1, 1, 100, t0), PARLEY_PEER_DROP_NONE);
    assert_int_equal(answer_check_direct(p, &cap, &s1, t0),
                     PARLEY_PEER_DROP_NONE);
    secure_direct(p, &cap, &s1, t0);

    seq = 1;
    requests = cap.requests;

    for (t = t0 + 250; t <= t0 + 3 * PARLEY_PEER_CONSENT_TIMEOUT_MS;
         t += 250)
    {
        parley_peer_handle_timeout(p, t);

        if (cap.requests > requests) {
            requests = cap.requests;
            assert_true(sent_to(&cap.request_to, &a1));
            assert_int_equal(answer_check_direct(p, &cap, &s1, t + 20),
                             PARLEY_PEER_DROP_NONE);
        }

        assert_int_equal(send_media(p, seq++), PARLEY_PEER_OK);
        assert_int_equal(cap.state, PARLEY_PEER_CONNECTED);
    }

    assert_true(st->consent_renewed >= 3 * 30000 / 6000);
    assert_int_equal(st->consent_renewed + 1, st->consent_checks);
    assert_int_equal(st->consent_timeouts, 0);
    assert_int_equal(st->consent_lost, 0);
    assert_int_equal(selected_port(p), 5000);

    parley_peer_destroy(p);
}


/*
 * RFC 7675 5.1: the freshness checks come every 0.8 to 1.2 times the
 * interval (never sooner than 4 s by default), drawn anew each time.
 */
#define FRESH_CHECKS  40

static void
test_consent_fresh_jitter(void **state)
{
    int64_t                     ms;
    uint64_t                    t, last, gap, lo, hi;
    unsigned                    k, requests;
    capture_t                   cap;
    parley_peer_t              *p;
    parley_stun_addr_t          s1;
    struct sockaddr_in          a1;

    (void) state;

    t = 1000;
    p = make_peer_with(&cap, NULL, 3600 * 1000, t);   /* no DTLS here */
    a1 = sin_of("192.0.2.1", 5000);
    s1 = stun_addr(&a1);

    assert_int_equal(check_direct(p, &s1, 1, 100, t), PARLEY_PEER_DROP_NONE);
    assert_int_equal(answer_check_direct(p, &cap, &s1, t),
                     PARLEY_PEER_DROP_NONE);

    last = t;
    lo = UINT64_MAX;
    hi = 0;
    requests = cap.requests;

    for (k = 0; k < FRESH_CHECKS; ) {
        ms = parley_peer_timeout_ms(p, t);
        assert_true(ms > 0);
        t += (uint64_t) ms;
        parley_peer_handle_timeout(p, t);

        if (cap.requests == requests) {
            continue;
        }

        assert_int_equal(cap.requests, requests + 1);
        requests = cap.requests;

        gap = t - last;
        assert_true(gap >= PARLEY_PEER_CONSENT_INTERVAL_MS * 4 / 5);
        assert_true(gap <= PARLEY_PEER_CONSENT_INTERVAL_MS * 6 / 5);
        lo = gap < lo ? gap : lo;
        hi = gap > hi ? gap : hi;
        last = t;
        k++;

        assert_int_equal(answer_check_direct(p, &cap, &s1, t),
                         PARLEY_PEER_DROP_NONE);
    }

    assert_true(PARLEY_PEER_CONSENT_INTERVAL_MS * 4 / 5 >= 4000);
    assert_true(hi > lo);

    parley_peer_destroy(p);
}


static int
group_setup(void **state)
{
    (void) state;

    if (parley_srtp_init() != PARLEY_SRTP_OK) {
        return -1;
    }

    return parley_dtls_identity_create(&identity, NULL) == PARLEY_DTLS_OK
           ? 0 : -1;
}


static int
group_teardown(void **state)
{
    (void) state;

    parley_dtls_identity_destroy(identity);
    parley_srtp_shutdown();

    return 0;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_peer_credentials),
        cmocka_unit_test(test_endpoint_routing),
        cmocka_unit_test(test_endpoint_drops),
        cmocka_unit_test(test_endpoint_restart),
        cmocka_unit_test(test_endpoint_tables),
        cmocka_unit_test(test_peer_timers),
        cmocka_unit_test(test_consent_first_path),
        cmocka_unit_test(test_consent_redirect),
        cmocka_unit_test(test_consent_dtls_hold),
        cmocka_unit_test(test_consent_needs_password),
        cmocka_unit_test(test_consent_bounded),
        cmocka_unit_test(test_consent_restart),
        cmocka_unit_test(test_consent_fresh_lost),
        cmocka_unit_test(test_consent_fresh_kept),
        cmocka_unit_test(test_consent_fresh_jitter),
        cmocka_unit_test(test_peer_end_to_end),
        cmocka_unit_test(test_peer_dtls_client),
        cmocka_unit_test(test_peer_sheds_dtls),
        cmocka_unit_test(test_peer_consent),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
