/*
 * One peer connection of the test peer, as a browser makes it: libnice in
 * full controlling mode finds and nominates the pair (RFC 8445), an
 * OpenSSL DTLS client keys SRTP (RFC 5763: a=setup:active), libsrtp2
 * protects what is sent and unprotects what arrives.
 *
 * Once SRTP is keyed the connection goes direct: it keeps the selected
 * socket, libnice's agent is destroyed, peer_conn_on_readable() drains the
 * socket with recvmmsg() and sends go out with sendto() on it. The consent
 * checks (RFC 7675) are then ours: Binding requests with the server's
 * credentials every PEER_CONSENT_MS, their answers authenticated; and so
 * are the answers to the server's own checks.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <openssl/rand.h>

#include "parley_demux.h"
#include "parley_rtcp.h"
#include "parley_rtp.h"
#include "peer.h"


#define PEER_SETUP_MS          20000   /* ICE and DTLS done by then */
#define PEER_CONSENT_LOST_MS   30000   /* RFC 7675 5.1 */


const char  *peer_local_address = "127.0.0.1";


static void peer_conn_on_readable(void *owner, int fd, uint32_t events);
static void peer_conn_fail(peer_conn_t *c, const char *why);
static void peer_conn_report_tick(peer_conn_t *c, uint64_t now);


parley_dtls_identity_t *
peer_identity(void)
{
    static parley_dtls_identity_t  *identity;

    if (identity == NULL
        && parley_dtls_identity_create(&identity, NULL) != PARLEY_DTLS_OK)
    {
        peer_log("could not make the DTLS identity");
        exit(2);
    }

    return identity;
}


const char *
peer_conn_state_str(peer_conn_state_t s)
{
    static const char  *names[] = { "new", "ice", "dtls", "secure",
                                    "failed" };

    return names[s];
}


void
peer_conn_init(peer_conn_t *c, peer_loop_t *l, const char *name,
    const peer_conn_handler_t *h, peer_stats_t *stats, unsigned sample)
{
    memset(c, 0, sizeof(peer_conn_t));

    c->loop = l;
    c->name = name;
    c->handler = *h;
    c->stats = stats;
    c->sample = sample ? sample : 1;
    c->fd = -1;
    c->second.fd = -1;
    c->deadline_ms = peer_now_ms() + PEER_SETUP_MS;
    memset(c->rtx_apt, 0xff, sizeof(c->rtx_apt));
    (void) RAND_bytes((uint8_t *) &c->rtcp_ssrc, sizeof(c->rtcp_ssrc));
}


/* Everything goes out on the selected pair, whichever path owns it. */
static int
peer_conn_send_raw(peer_conn_t *c, const uint8_t *buf, size_t len)
{
    if (c->fd != -1) {
        if (sendto(c->fd, buf, len, 0, (struct sockaddr *) &c->remote,
                   c->remote_len) != (ssize_t) len)
        {
            return -1;
        }
        return 0;
    }

    if (c->ice == NULL) {
        return -1;
    }

    return parley_ice_send(c->ice, buf, len) == PARLEY_ICE_OK ? 0 : -1;
}


static void
peer_conn_dtls_send(void *data, const uint8_t *buf, size_t len)
{
    (void) peer_conn_send_raw(data, buf, len);
}


/*
 * libnice found the pair; the connection now keeps the selected socket and
 * lets libnice go. The socket is duplicated first, and its old number
 * taken out of epoll while it is still open (an epoll registration lives
 * as long as the file, whichever number closes), then the agent is
 * destroyed: no GLib source, timer or consent of libnice's is left to
 * wake the loop for this connection. Destruction is deferred by parley_ice
 * when this runs from libnice's own callback, as it does.
 */
static void
peer_conn_go_direct(peer_conn_t *c)
{
    int                      fd, dup_fd, one;
    struct sockaddr_storage  remote;

    fd = parley_ice_selected_fd(c->ice);

    if (fd < 0 || fd >= PEER_FD_MAX
        || parley_ice_selected_pair(c->ice, NULL, &remote) != PARLEY_ICE_OK)
    {
        /* stay on libnice's path: slower, still correct */
        return;
    }

    dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd == -1 || dup_fd >= PEER_FD_MAX) {
        if (dup_fd != -1) {
            close(dup_fd);
        }
        return;
    }

    if (c->loop->pumped[fd]) {
        (void) epoll_ctl(c->loop->ep, EPOLL_CTL_DEL, fd, NULL);
        c->loop->pumped[fd] = 0;
    }

    /*
     * The kernel's arrival time, so that latency does not include how long
     * a batching loop let the datagram wait in the socket.
     */
    one = 1;
    (void) setsockopt(dup_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));

    if (peer_loop_add(c->loop, dup_fd, EPOLLIN, peer_conn_on_readable, c)
        != 0)
    {
        close(dup_fd);
        return;
    }

    c->remote = remote;
    c->remote_len = remote.ss_family == AF_INET6
                    ? sizeof(struct sockaddr_in6)
                    : sizeof(struct sockaddr_in);
    c->fd = dup_fd;
    c->next_consent_ms = peer_now_ms();
    c->last_consent_ok_ms = peer_now_ms();

    parley_ice_destroy(c->ice);
    c->ice = NULL;
}


static void
peer_conn_on_dtls_connected(void *data, const parley_dtls_srtp_keys_t *keys)
{
    peer_conn_t            *c = data;
    parley_srtp_master_t    in, out;

    if (parley_srtp_profile_from_dtls((uint16_t) keys->profile, &c->profile)
        != PARLEY_SRTP_OK)
    {
        peer_conn_fail(c, "DTLS negotiated an SRTP profile we cannot use");
        return;
    }

    out.key = keys->local;
    out.key_len = keys->key_len;
    out.salt = keys->local + keys->key_len;
    out.salt_len = keys->salt_len;
    in.key = keys->remote;
    in.key_len = keys->key_len;
    in.salt = keys->remote + keys->key_len;
    in.salt_len = keys->salt_len;

    if (parley_srtp_create(&c->srtp_out, c->profile, PARLEY_SRTP_OUTBOUND,
                           &out, 0) != PARLEY_SRTP_OK
        || parley_srtp_create(&c->srtp_in, c->profile, PARLEY_SRTP_INBOUND,
                              &in, 0) != PARLEY_SRTP_OK)
    {
        peer_conn_fail(c, "could not make the SRTP sessions");
        return;
    }

    c->state = PEER_CONN_SECURE;
    peer_conn_go_direct(c);

    if (peer_verbose) {
        peer_log("%s: secure (%s)%s", c->name,
                 parley_srtp_profile_name(c->profile),
                 c->fd != -1 ? ", reading the socket directly" : "");
    }

    if (c->handler.on_secure != NULL) {
        c->handler.on_secure(c, c->handler.arg);
    }
}


static void
peer_conn_on_dtls_error(void *data, parley_dtls_rc_t reason)
{
    peer_conn_t  *c = data;
    char          why[256];

    snprintf(why, sizeof(why), "DTLS: %s %s", parley_dtls_rc_str(reason),
             parley_dtls_error_detail(c->dtls));
    peer_conn_fail(c, why);
}


static void
peer_conn_on_rtcp(peer_conn_t *c, uint8_t *buf, size_t len)
{
    size_t                n;
    uint16_t              seqs[PEER_NACK_SEQS_MAX];
    parley_rtcp_fb_t      fb;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    if (c->state != PEER_CONN_SECURE) {
        return;
    }

    if (parley_srtp_unprotect_rtcp(&c->srtp_in, buf, &len) != PARLEY_SRTP_OK)
    {
        c->stats->rtcp_failed++;
        return;
    }

    c->stats->rtcp++;
    parley_rtcp_iter_init(&it, buf, len);

    while (parley_rtcp_next(&it, &pkt) == PARLEY_RTP_OK) {
        if (parley_rtcp_parse_pli(&pkt, &fb) == PARLEY_RTP_OK) {
            c->stats->plis++;
            if (c->handler.on_pli != NULL) {
                c->handler.on_pli(c, c->handler.arg, fb.media_ssrc);
            }

        } else if (pkt.type == PARLEY_RTCP_RTPFB
                   && pkt.count == PARLEY_RTCP_FMT_NACK)
        {
            /* more than fit: the first ones; the rest are asked again */
            if (parley_rtcp_parse_nack(&pkt, &fb, seqs,
                                       PEER_NACK_SEQS_MAX, &n)
                    != PARLEY_RTP_ERR_MALFORMED
                && c->handler.on_nack != NULL)
            {
                c->stats->nacks_received++;
                c->handler.on_nack(c, c->handler.arg, fb.media_ssrc, seqs, n);
            }
        }
    }
}


static void
peer_conn_on_stun(peer_conn_t *c, const uint8_t *buf, size_t len)
{
    parley_stun_msg_t  msg;

    if (parley_stun_parse(&msg, buf, len) != PARLEY_STUN_OK) {
        return;
    }

    /* the server checks where it sends (RFC 7675): answer as libnice did */
    if (msg.class == PARLEY_STUN_REQUEST) {
        (void) peer_conn_answer_check(c, c->fd, (struct sockaddr *) &c->remote,
                                      c->remote_len, &msg);
        return;
    }

    if (msg.class != PARLEY_STUN_SUCCESS
        || memcmp(msg.tid, c->consent_tid, PARLEY_STUN_TID_SIZE) != 0)
    {
        /* libnice's consent answers, which it no longer hears */
        return;
    }

    /* RFC 7675 5.1: only an authenticated answer renews consent */
    if (!c->have_key
        || parley_stun_verify_integrity(&msg, &c->remote_key)
           != PARLEY_STUN_OK)
    {
        return;
    }

    c->consent_ok++;
    c->last_consent_ok_ms = peer_now_ms();
}


/*
 * RFC 8445 7.3, as a full agent answers the lite server's own check: its
 * USERNAME is "our ufrag:the server's", its MESSAGE-INTEGRITY made with
 * our password; the answer carries XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY
 * with the same password and FINGERPRINT.
 */
int
peer_conn_answer_check(peer_conn_t *c, int fd, const struct sockaddr *from,
    socklen_t fromlen, const parley_stun_msg_t *msg)
{
    size_t              n, r, len;
    uint8_t             buf[256];
    parley_stun_addr_t  mapped;

    n = strlen(c->local_ufrag);
    r = strlen(c->remote_ufrag);

    if (!c->have_local_key || fd == -1
        || msg->class != PARLEY_STUN_REQUEST
        || msg->method != PARLEY_STUN_BINDING
        || (msg->attrs & PARLEY_STUN_HAS_USERNAME) == 0
        || msg->username.len != n + 1 + r
        || memcmp(msg->username.data, c->local_ufrag, n) != 0
        || msg->username.data[n] != ':'
        || memcmp(msg->username.data + n + 1, c->remote_ufrag, r) != 0
        || parley_stun_verify_fingerprint(msg) != PARLEY_STUN_OK
        || parley_stun_verify_integrity(msg, &c->local_key) != PARLEY_STUN_OK
        || parley_stun_addr_from_sockaddr(&mapped, from) != PARLEY_STUN_OK
        || parley_stun_binding_success(buf, sizeof(buf), msg->tid, &mapped,
                                       &c->local_key, &len)
           != PARLEY_STUN_OK
        || sendto(fd, buf, len, 0, from, fromlen) != (ssize_t) len)
    {
        return -1;
    }

    c->checks_answered++;

    return 0;
}


/* One datagram of the bundled transport (RFC 7983), buf writable. */
void
peer_conn_datagram(peer_conn_t *c, uint8_t *buf, size_t len,
    uint64_t now_ns)
{
    switch (parley_demux_classify(buf, len)) {

    case PARLEY_DEMUX_RTP:
        if (c->state == PEER_CONN_SECURE) {
            peer_media_receive(c, buf, len, now_ns);
        }
        break;

    case PARLEY_DEMUX_RTCP:
        peer_conn_on_rtcp(c, buf, len);
        break;

    case PARLEY_DEMUX_DTLS:
        if (c->dtls != NULL) {
            (void) parley_dtls_feed(c->dtls, buf, len);
        }
        break;

    case PARLEY_DEMUX_STUN:
        peer_conn_on_stun(c, buf, len);
        break;

    default:
        break;
    }
}


/* libnice's data callback: the datagram is read-only, copy it. */
static void
peer_conn_on_ice_data(void *arg, const uint8_t *buf, size_t len)
{
    uint8_t  copy[PEER_PACKET_ROOM];

    if (len > PEER_DATAGRAM_MAX) {
        return;
    }

    memcpy(copy, buf, len);
    peer_conn_datagram(arg, copy, len, peer_now_ns());
}


/* SO_TIMESTAMPNS is CLOCK_REALTIME; the trailer's time is monotonic. */
static uint64_t
peer_conn_arrival(struct msghdr *h, uint64_t fallback)
{
    int64_t          t;
    struct cmsghdr  *cm;
    struct timespec  ts;
    static int64_t   offset;

    cm = CMSG_FIRSTHDR(h);

    if (cm == NULL || cm->cmsg_level != SOL_SOCKET
        || cm->cmsg_type != SCM_TIMESTAMPNS)
    {
        return fallback;
    }

    if (offset == 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
        offset = (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec
                 - (int64_t) peer_now_ns();
    }

    memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
    t = (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec - offset;

    return t > 0 ? (uint64_t) t : fallback;
}


static void
peer_conn_on_readable(void *owner, int fd, uint32_t events)
{
    int              i, n;
    uint64_t         now;
    peer_conn_t     *c = owner;
    struct iovec     iov[PEER_BATCH];
    struct mmsghdr   msgs[PEER_BATCH];
    static uint8_t   bufs[PEER_BATCH][PEER_PACKET_ROOM];
    static uint8_t   ctl[PEER_BATCH][CMSG_SPACE(sizeof(struct timespec))];

    (void) events;

    for (i = 0; i < PEER_BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = PEER_DATAGRAM_MAX;
        memset(&msgs[i].msg_hdr, 0, sizeof(struct msghdr));
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctl[i];
        msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
    }

    /* level-triggered: what is left is reported again next turn */
    n = recvmmsg(fd, msgs, PEER_BATCH, MSG_DONTWAIT, NULL);
    c->loop->recv_calls++;

    if (n <= 0) {
        return;
    }

    now = peer_now_ns();

    for (i = 0; i < n; i++) {
        peer_conn_datagram(c, bufs[i], msgs[i].msg_len,
                           peer_conn_arrival(&msgs[i].msg_hdr, now));

        if (c->fd == -1) {
            return;                 /* freed or failed by a callback */
        }
    }
}


static void
peer_conn_on_candidate(void *arg, const char *candidate)
{
    peer_conn_t  *c = arg;

    if (c->candidate[0] == '\0') {
        snprintf(c->candidate, sizeof(c->candidate), "%s", candidate);
    }
}


static void
peer_conn_on_ice_state(void *arg, parley_ice_state_t state)
{
    peer_conn_t  *c = arg;

    c->ice_state = state;

    if (state == PARLEY_ICE_FAILED && c->state < PEER_CONN_SECURE) {
        peer_conn_fail(c, "ICE failed");
    }
}


int
peer_conn_gather(peer_conn_t *c)
{
    const char            *ufrag, *pwd;
    parley_ice_rc_t        rc;
    parley_ice_options_t   o;
    const char            *addrs[1];

    addrs[0] = peer_local_address;

    memset(&o, 0, sizeof(o));
    o.mode = PARLEY_ICE_FULL_CONTROLLING;
    o.local_addresses = addrs;
    o.nlocal_addresses = 1;
    o.pump = c->loop->pump;
    o.handler.local_candidate = peer_conn_on_candidate;
    o.handler.state = peer_conn_on_ice_state;
    o.handler.data = peer_conn_on_ice_data;
    o.handler.arg = c;

    rc = parley_ice_create(c->loop->ctx, &o, &c->ice);
    if (rc == PARLEY_ICE_OK) {
        rc = parley_ice_gather(c->ice);
    }

    peer_loop_prepare(c->loop);

    if (rc != PARLEY_ICE_OK) {
        peer_log("%s: ICE: %s", c->name, parley_ice_rc_str(rc));
        return -1;
    }

    parley_ice_local_credentials(c->ice, &ufrag, &pwd);
    snprintf(c->local_ufrag, sizeof(c->local_ufrag), "%s", ufrag);
    snprintf(c->local_pwd, sizeof(c->local_pwd), "%s", pwd);
    c->state = PEER_CONN_ICE;

    if (parley_stun_key_init(&c->local_key, c->local_pwd,
                             strlen(c->local_pwd))
        == PARLEY_STUN_OK)
    {
        c->have_local_key = 1;
    }

    return 0;
}


static int
peer_conn_make_dtls(peer_conn_t *c, const parley_sdp_media_t *m, char *err,
    size_t errlen)
{
    parley_dtls_conf_t          dc;
    parley_dtls_fingerprint_t   fp;

    /* the two enums name the same RFC 8122 hashes in the same order */
    fp.hash = (parley_dtls_hash_t) m->fingerprint.hash;
    fp.len = m->fingerprint.len;
    memcpy(fp.digest, m->fingerprint.bytes, fp.len);

    (void) err;
    (void) errlen;

    /*
     * RFC 5763 5: we answer a=setup:active, or offer actpass; an answerer
     * that picks active (Janus does) makes us the server.
     */
    memset(&dc, 0, sizeof(dc));
    dc.role = m->setup == PARLEY_SDP_SETUP_ACTIVE ? PARLEY_DTLS_ROLE_SERVER
                                                   : PARLEY_DTLS_ROLE_CLIENT;
    c->dtls_server = dc.role == PARLEY_DTLS_ROLE_SERVER;
    dc.fingerprints = &fp;
    dc.nfingerprints = 1;
    dc.handler.data = c;
    dc.handler.send = peer_conn_dtls_send;
    dc.handler.on_connected = peer_conn_on_dtls_connected;
    dc.handler.on_error = peer_conn_on_dtls_error;

    if (parley_dtls_create(&c->dtls, peer_identity(), &dc)
        != PARLEY_DTLS_OK)
    {
        snprintf(err, errlen, "could not make the DTLS client");
        return -1;
    }

    return 0;
}


static int
peer_conn_add_candidates(peer_conn_t *c, const parley_sdp_media_t *m)
{
    uint32_t                      i, added;
    char                          line[PARLEY_ICE_CANDIDATE_MAX];
    const parley_sdp_candidate_t  *k;

    added = 0;

    for (i = 0; i < m->n_candidates; i++) {
        k = &m->candidates[i];

        if (k->tcp || k->component != 1) {
            continue;
        }

        snprintf(line, sizeof(line), "candidate:%s 1 udp %u %s %u typ %s",
                 k->foundation, (unsigned) k->priority, k->address,
                 (unsigned) k->port,
                 k->type == PARLEY_SDP_CAND_HOST ? "host"
                 : k->type == PARLEY_SDP_CAND_SRFLX ? "srflx"
                 : k->type == PARLEY_SDP_CAND_PRFLX ? "prflx" : "relay");

        if (parley_ice_add_remote_candidate(c->ice, line) == PARLEY_ICE_OK) {
            added++;
        }
    }

    (void) parley_ice_end_of_candidates(c->ice);

    return added > 0 ? 0 : -1;
}


int
peer_conn_set_remote(peer_conn_t *c, const parley_sdp_media_t *m,
    char *err, size_t errlen)
{
    if (c->remote_ufrag[0] != '\0') {
        /* a re-offer: the same transport, or it is an ICE restart */
        if (strcmp(c->remote_ufrag, m->ice_ufrag) != 0
            || strcmp(c->remote_pwd, m->ice_pwd) != 0)
        {
            snprintf(err, errlen, "a re-offer changed the ICE credentials "
                     "(an ICE restart, which the test peer does not do)");
            return -1;
        }
        return 0;
    }

    snprintf(c->remote_ufrag, sizeof(c->remote_ufrag), "%s", m->ice_ufrag);
    snprintf(c->remote_pwd, sizeof(c->remote_pwd), "%s", m->ice_pwd);

    if (parley_stun_key_init(&c->remote_key, (const uint8_t *) m->ice_pwd,
                             strlen(m->ice_pwd)) == PARLEY_STUN_OK)
    {
        c->have_key = 1;
    }

    if (parley_ice_set_remote_credentials(c->ice, m->ice_ufrag, m->ice_pwd)
        != PARLEY_ICE_OK)
    {
        snprintf(err, errlen, "libnice refused the remote credentials");
        return -1;
    }

    if (peer_conn_add_candidates(c, m) != 0) {
        snprintf(err, errlen, "the remote description has no usable UDP "
                 "candidate");
        return -1;
    }

    peer_loop_prepare(c->loop);

    return peer_conn_make_dtls(c, m, err, errlen);
}


/* RFC 5576 4.2: the second SSRC of an FID group repairs the first */
static int
peer_conn_is_repair(const parley_sdp_media_t *m, uint32_t ssrc)
{
    uint32_t  i;

    for (i = 0; i < m->n_ssrc_groups; i++) {
        if (m->ssrc_groups[i].semantics == PARLEY_SDP_SSRC_FID
            && m->ssrc_groups[i].n == 2 && m->ssrc_groups[i].ssrcs[1] == ssrc)
        {
            return 1;
        }
    }

    return 0;
}


/* RFC 5576 4.2: the other SSRC of the FID group ssrc is in, or 0 */
static uint32_t
peer_conn_fid_peer(const parley_sdp_media_t *m, uint32_t ssrc)
{
    uint32_t  i;

    for (i = 0; i < m->n_ssrc_groups; i++) {
        if (m->ssrc_groups[i].semantics != PARLEY_SDP_SSRC_FID
            || m->ssrc_groups[i].n != 2)
        {
            continue;
        }

        if (m->ssrc_groups[i].ssrcs[0] == ssrc) {
            return m->ssrc_groups[i].ssrcs[1];
        }

        if (m->ssrc_groups[i].ssrcs[1] == ssrc) {
            return m->ssrc_groups[i].ssrcs[0];
        }
    }

    return 0;
}


/* RFC 4588 8.6: a=fmtp:<rtx> apt=<pt>; one map for the BUNDLE */
static void
peer_conn_expect_rtx(peer_conn_t *c, const parley_sdp_media_t *m)
{
    uint32_t  i;

    for (i = 0; i < m->n_codecs; i++) {
        if (strcasecmp(m->codecs[i].name, "rtx") == 0
            && m->codecs[i].pt < 128 && m->codecs[i].apt < 128)
        {
            c->rtx_apt[m->codecs[i].pt] = m->codecs[i].apt;
        }
    }
}


void
peer_conn_expect_ssrcs(peer_conn_t *c, const parley_sdp_t *sdp)
{
    uint32_t                   i, j, k;
    peer_rx_ssrc_t            *r;
    const parley_sdp_media_t  *m;

    for (i = 0; i < sdp->n_media; i++) {
        m = &sdp->media[i];
        peer_conn_expect_rtx(c, m);

        for (j = 0; j < m->n_ssrcs; j++) {
            for (k = 0; k < c->nssrcs; k++) {
                if (c->ssrcs[k].ssrc == m->ssrcs[j].ssrc) {
                    break;
                }
            }

            if (k == c->nssrcs && c->nssrcs < PEER_SSRCS_MAX) {
                r = &c->ssrcs[k];
                r->ssrc = m->ssrcs[j].ssrc;
                r->repair = peer_conn_is_repair(m, r->ssrc);
                r->video = m->kind == PARLEY_SDP_VIDEO;
                r->peer = peer_conn_fid_peer(m, r->ssrc);
                c->nssrcs++;
            }
        }
    }
}


/* RFC 7675 5.1: a Binding request on the selected pair, authenticated. */
static void
peer_conn_send_consent(peer_conn_t *c, uint64_t now)
{
    char                   username[2 * PARLEY_SDP_ICE_LEN + 2];
    size_t                 len;
    uint8_t                buf[512];
    parley_stun_request_t  req;

    if (!c->have_key) {
        return;
    }

    snprintf(username, sizeof(username), "%s:%s", c->remote_ufrag,
             c->local_ufrag);

    memset(&req, 0, sizeof(req));
    (void) RAND_bytes(req.tid, sizeof(req.tid));
    memcpy(c->consent_tid, req.tid, sizeof(req.tid));
    req.username.data = (const uint8_t *) username;
    req.username.len = strlen(username);
    req.priority = 2130706431;
    req.role = PARLEY_STUN_ROLE_CONTROLLING;
    (void) RAND_bytes((uint8_t *) &req.tie_breaker, sizeof(req.tie_breaker));
    req.key = &c->remote_key;

    if (parley_stun_binding_request(buf, sizeof(buf), &req, &len)
        == PARLEY_STUN_OK
        && peer_conn_send_raw(c, buf, len) == 0)
    {
        c->consent_sent++;
    }

    c->next_consent_ms = now + PEER_CONSENT_MS;
}


void
peer_conn_tick(peer_conn_t *c, uint64_t now)
{
    if (c->state == PEER_CONN_FAILED) {
        return;
    }

    if (c->state == PEER_CONN_ICE && c->dtls != NULL && c->ice != NULL
        && c->ice_state == PARLEY_ICE_CONNECTED)
    {
        /* RFC 5763 5: the active side starts once ICE has a pair */
        c->state = PEER_CONN_DTLS;
        c->dtls_started = 1;
        if (!c->dtls_server) {
            (void) parley_dtls_start(c->dtls);
        }
    }

    if (c->dtls != NULL && c->dtls_started
        && parley_dtls_timeout_ms(c->dtls) == 0)
    {
        (void) parley_dtls_handle_timeout(c->dtls);
    }

    if (c->state == PEER_CONN_FAILED) {
        return;
    }

    if (c->state < PEER_CONN_SECURE && now > c->deadline_ms) {
        peer_conn_fail(c, c->state == PEER_CONN_ICE
                          ? "ICE did not connect in time"
                          : "DTLS did not finish in time");
        return;
    }

    if (c->fd != -1 && now >= c->next_consent_ms) {
        peer_conn_send_consent(c, now);
    }

    if (c->state == PEER_CONN_SECURE) {
        peer_media_tick(c, now);
        peer_second_tick(c, now);
        peer_bandwidth_tick(c, now);
        peer_conn_report_tick(c, now);
    }

    /* RFC 7675 5.1: no authenticated answer for 30 s, consent is lost */
    if (c->fd != -1 && now - c->last_consent_ok_ms > PEER_CONSENT_LOST_MS) {
        peer_conn_fail(c, "consent lost: no answer to our checks for 30 s");
    }
}


int
peer_conn_send_rtp(peer_conn_t *c, uint8_t *buf, size_t len)
{
    if (c->state != PEER_CONN_SECURE
        || parley_srtp_protect_rtp(&c->srtp_out, buf, &len, PEER_PACKET_ROOM)
           != PARLEY_SRTP_OK)
    {
        return -1;
    }

    return peer_conn_send_raw(c, buf, len);
}


int
peer_conn_send_rtcp(peer_conn_t *c, uint8_t *buf, size_t len)
{
    if (c->state != PEER_CONN_SECURE
        || parley_srtp_protect_rtcp(&c->srtp_out, buf, &len,
                                    PEER_PACKET_ROOM)
           != PARLEY_SRTP_OK)
    {
        return -1;
    }

    return peer_conn_send_raw(c, buf, len);
}


/*
 * An empty RR first: RFC 3550 6.1 wants a compound to start with a report
 * unless reduced size was agreed (RFC 5506), and the RR costs 8 bytes.
 */
int
peer_conn_send_nack(peer_conn_t *c, uint32_t media_ssrc,
    const uint16_t *seqs, size_t n)
{
    uint8_t               buf[PEER_PACKET_ROOM];
    parley_rtcp_rr_t      rr;
    parley_rtcp_writer_t  w;

    memset(&rr, 0, sizeof(rr));
    rr.ssrc = c->rtcp_ssrc;
    parley_rtcp_writer_init(&w, buf, PEER_DATAGRAM_MAX);

    if (parley_rtcp_build_rr(&w, &rr) != PARLEY_RTP_OK
        || parley_rtcp_build_nack(&w, c->rtcp_ssrc, media_ssrc, seqs, n)
           != PARLEY_RTP_OK
        || peer_conn_send_rtcp(c, buf, w.len) != 0)
    {
        return -1;
    }

    c->stats->nacks_sent++;

    return 0;
}


/*
 * A connection that receives media reports on it every second, as
 * browsers do (RFC 3550 6.2): an empty receiver report is enough for the
 * server, which learns from it that the handshake is done on this side.
 */
static void
peer_conn_report_tick(peer_conn_t *c, uint64_t now)
{
    uint8_t               buf[PEER_PACKET_ROOM];
    parley_rtcp_rr_t      rr;
    parley_rtcp_writer_t  w;

    if (c->received == 0 || now < c->next_report_ms) {
        return;
    }

    c->next_report_ms = now + 1000;

    memset(&rr, 0, sizeof(rr));
    rr.ssrc = c->rtcp_ssrc;
    parley_rtcp_writer_init(&w, buf, PEER_DATAGRAM_MAX);

    if (parley_rtcp_build_rr(&w, &rr) == PARLEY_RTP_OK) {
        (void) peer_conn_send_rtcp(c, buf, w.len);
    }
}


int
peer_conn_send_pli(peer_conn_t *c, uint32_t media_ssrc)
{
    uint8_t               buf[PEER_PACKET_ROOM];
    parley_rtcp_rr_t      rr;
    parley_rtcp_writer_t  w;

    memset(&rr, 0, sizeof(rr));
    rr.ssrc = c->rtcp_ssrc;
    parley_rtcp_writer_init(&w, buf, PEER_DATAGRAM_MAX);

    if (parley_rtcp_build_rr(&w, &rr) != PARLEY_RTP_OK
        || parley_rtcp_build_pli(&w, c->rtcp_ssrc, media_ssrc)
           != PARLEY_RTP_OK
        || peer_conn_send_rtcp(c, buf, w.len) != 0)
    {
        return -1;
    }

    c->stats->plis_sent++;

    return 0;
}


void
peer_conn_fingerprint(peer_conn_t *c, char *out, size_t size)
{
    (void) c;

    snprintf(out, size, "%s",
             parley_dtls_identity_fingerprint_str(peer_identity()));
}


static void
peer_conn_fail(peer_conn_t *c, const char *why)
{
    if (c->state == PEER_CONN_FAILED) {
        return;
    }

    c->state = PEER_CONN_FAILED;

    if (c->handler.on_failed != NULL) {
        c->handler.on_failed(c, c->handler.arg, why);
    }
}


void
peer_conn_free(peer_conn_t *c)
{
    if (c->fd != -1) {
        peer_loop_del(c->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }

    parley_dtls_destroy(c->dtls);
    c->dtls = NULL;
    parley_srtp_destroy(&c->srtp_in);
    parley_srtp_destroy(&c->srtp_out);
    parley_ice_destroy(c->ice);
    c->ice = NULL;

    if (c->have_key) {
        parley_stun_key_free(&c->remote_key);
        c->have_key = 0;
    }

    if (c->have_local_key) {
        parley_stun_key_free(&c->local_key);
        c->have_local_key = 0;
    }

    peer_second_free(c);

    peer_loop_prepare(c->loop);
}
