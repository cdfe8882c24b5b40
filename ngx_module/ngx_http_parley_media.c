/*
 * parley: the media plane in a worker, the nginx side.
 *
 * Each worker binds one UDP socket, at parley_ice_ports' first port plus
 * its inbox slot, so that workers of every generation have their own. All
 * the worker's peer connections share it: parley_endpoint finds the peer
 * of each datagram (by ICE ufrag for checks, by validated address for the
 * rest), and parley_peer answers ICE, runs DTLS and decrypts SRTP. This
 * file owns the socket, the timers and the signaling that sets peers up.
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_media.h"


#define NGX_HTTP_PARLEY_UDP_BATCH     16
#define NGX_HTTP_PARLEY_PEERS         4096


static void ngx_http_parley_media_read_handler(ngx_event_t *rev);
static void ngx_http_parley_media_log_drop(ngx_http_parley_media_t *m,
    parley_endpoint_drop_t drop, struct sockaddr *sa, socklen_t len);
static void ngx_http_parley_media_timer_handler(ngx_event_t *ev);
static void ngx_http_parley_pc_after(ngx_http_parley_pc_t *pc);
static void ngx_http_parley_pc_touch(ngx_http_parley_pc_t *pc);
static ngx_http_parley_pc_t *ngx_http_parley_pc_create(
    ngx_http_parley_session_t *s, const parley_sdp_media_t *first,
    const char **error);
static const char *ngx_http_parley_pc_answer(ngx_http_parley_pc_t *pc,
    const parley_sdp_t *offer, ngx_str_t *sdp, ngx_array_t *screen,
    ngx_log_t *log);
static void ngx_http_parley_send_failed(ngx_http_parley_media_t *m,
    const char *call);
static void ngx_http_parley_peer_send(void *data, const struct sockaddr *to,
    socklen_t tolen, const uint8_t *buf, size_t len);
static void ngx_http_parley_peer_state(void *data,
    parley_peer_state_t state);
static void ngx_http_parley_peer_secure(void *data,
    parley_srtp_profile_t profile);
static void ngx_http_parley_peer_rtp(void *data, uint8_t *buf, size_t len);
static void ngx_http_parley_peer_rtcp(void *data, uint8_t *buf, size_t len);
static void ngx_http_parley_peer_consent(void *data,
    parley_peer_consent_event_t event);
static const char *ngx_http_parley_pc_tracks(ngx_http_parley_pc_t *pc,
    const parley_sdp_t *offer, const parley_sdp_t *answer,
    ngx_array_t *screen);
static ngx_int_t ngx_http_parley_pc_track(ngx_http_parley_track_t *t,
    const parley_sdp_t *offer, const parley_sdp_media_t *om,
    const parley_sdp_media_t *am, ngx_array_t *screen);


ngx_http_parley_media_t  ngx_http_parley_media;


/*
 * What the SFU takes from publishers: Opus, and the video codecs browsers
 * send (RFC 7741 VP8, RFC 6184 H.264 constrained baseline with
 * packetization-mode 1, VP9 and AV1 passed through), each with RTX, and
 * the header extensions the router reads.
 */

#define NGX_HTTP_PARLEY_VIDEO_FB                                              \
    (PARLEY_SDP_FB_NACK|PARLEY_SDP_FB_NACK_PLI|PARLEY_SDP_FB_CCM_FIR           \
     |PARLEY_SDP_FB_GOOG_REMB|PARLEY_SDP_FB_TRANSPORT_CC)

const parley_sdp_codec_conf_t  ngx_http_parley_codecs[] = {
    { "opus", 48000, 2, 111, PARLEY_SDP_NO_PT, PARLEY_SDP_FB_TRANSPORT_CC,
      NULL, "minptime=10;useinbandfec=1" },
    { "VP8", 90000, 0, 96, 97, NGX_HTTP_PARLEY_VIDEO_FB, NULL, NULL },
    { "H264", 90000, 0, 102, 103, NGX_HTTP_PARLEY_VIDEO_FB,
      "packetization-mode=1;profile-level-id=42e01f",
      "level-asymmetry-allowed=1;packetization-mode=1;"
      "profile-level-id=42e01f" },
    { "VP9", 90000, 0, 98, 99, NGX_HTTP_PARLEY_VIDEO_FB, NULL,
      "profile-id=0" },
    { "AV1", 90000, 0, 45, 46, NGX_HTTP_PARLEY_VIDEO_FB, NULL, NULL }
};

#define NGX_HTTP_PARLEY_AV  (PARLEY_SDP_KIND_BIT(PARLEY_SDP_AUDIO)            \
                             |PARLEY_SDP_KIND_BIT(PARLEY_SDP_VIDEO))
#define NGX_HTTP_PARLEY_V   PARLEY_SDP_KIND_BIT(PARLEY_SDP_VIDEO)

const parley_sdp_extmap_conf_t  ngx_http_parley_extmaps[] = {
    { "urn:ietf:params:rtp-hdrext:sdes:mid", 1, NGX_HTTP_PARLEY_AV },
    { "urn:ietf:params:rtp-hdrext:ssrc-audio-level", 2,
      PARLEY_SDP_KIND_BIT(PARLEY_SDP_AUDIO) },
    { "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", 3,
      NGX_HTTP_PARLEY_AV },
    { "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-"
      "extensions-01", 4, NGX_HTTP_PARLEY_AV },
    { "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", 5,
      NGX_HTTP_PARLEY_V },
    { "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", 6,
      NGX_HTTP_PARLEY_V }
};


#define NGX_HTTP_PARLEY_NCODECS                                               \
    (sizeof(ngx_http_parley_codecs) / sizeof(ngx_http_parley_codecs[0]))
#define NGX_HTTP_PARLEY_NEXTMAPS                                              \
    (sizeof(ngx_http_parley_extmaps) / sizeof(ngx_http_parley_extmaps[0]))


const ngx_uint_t  ngx_http_parley_ncodecs = NGX_HTTP_PARLEY_NCODECS;
const ngx_uint_t  ngx_http_parley_nextmaps = NGX_HTTP_PARLEY_NEXTMAPS;

/*
 * parley_codecs opus vp8 h264: the codecs publishers may send, by name
 * (any case), among those the SFU forwards.
 */

char *
ngx_http_parley_codecs_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, c;

    if (pmcf->codecs != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    pmcf->codecs = 0;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        for (c = 0; c < NGX_HTTP_PARLEY_NCODECS; c++) {
            if (value[i].len == ngx_strlen(ngx_http_parley_codecs[c].name)
                && ngx_strncasecmp(value[i].data,
                                   (u_char *) ngx_http_parley_codecs[c].name,
                                   value[i].len)
                   == 0)
            {
                break;
            }
        }

        if (c == NGX_HTTP_PARLEY_NCODECS) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown codec \"%V\": parley forwards "
                               "opus, VP8, H264, VP9 and AV1", &value[i]);
            return NGX_CONF_ERROR;
        }

        pmcf->codecs |= (ngx_uint_t) 1 << c;
    }

    return NGX_CONF_OK;
}


/* Called from init_process, once the worker holds its inbox slot. */

ngx_int_t
ngx_http_parley_media_start(ngx_cycle_t *cycle)
{
    int                           fd, on;
    ngx_uint_t                    port, i;
    ngx_event_t                  *rev;
    parley_dtls_rc_t              rc;
    ngx_connection_t             *c;
    struct sockaddr_in            sin;
    parley_endpoint_conf_t        epconf;
    ngx_http_parley_media_t      *m;
    ngx_http_parley_main_conf_t  *pmcf;

    m = &ngx_http_parley_media;
    pmcf = ngx_http_parley_worker.conf;

    if (pmcf->ice_address.len == 0) {
        return NGX_OK;
    }

    port = pmcf->ice_port_min + ngx_http_parley_worker.inbox;

    if (port > pmcf->ice_port_max) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "parley: no UDP port for inbox %ud in "
                      "parley_ice_ports %ui-%ui: the range needs one port "
                      "per worker, old ones draining after a reload "
                      "included", (ngx_uint_t) ngx_http_parley_worker.inbox,
                      pmcf->ice_port_min, pmcf->ice_port_max);
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_PARLEY_NCODECS; i++) {
        if (pmcf->codecs & ((ngx_uint_t) 1 << i)) {
            m->codecs[m->ncodecs++] = ngx_http_parley_codecs[i];
        }
    }

    if (parley_srtp_init() != PARLEY_SRTP_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "parley: srtp_init() failed");
        return NGX_ERROR;
    }

    rc = parley_dtls_identity_create(&m->identity, NULL);
    if (rc != PARLEY_DTLS_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "parley: no DTLS identity: %s", parley_dtls_rc_str(rc));
        return NGX_ERROR;
    }

    epconf.max_peers = NGX_HTTP_PARLEY_PEERS;
    epconf.address_hold_ms = 0;

    if (parley_endpoint_create(&m->endpoint, &epconf) != PARLEY_ENDPOINT_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "parley: no memory for the media endpoint");
        return NGX_ERROR;
    }

    m->bufs = ngx_alloc(NGX_HTTP_PARLEY_UDP_BATCH * NGX_HTTP_PARLEY_UDP_BUF,
                        cycle->log);
    m->out = ngx_alloc(NGX_HTTP_PARLEY_SEND_BATCH * NGX_HTTP_PARLEY_UDP_BUF,
                       cycle->log);
    m->sdp = ngx_alloc(NGX_HTTP_PARLEY_SDP_MAX, cycle->log);
    if (m->bufs == NULL || m->out == NULL || m->sdp == NULL
        || ngx_http_parley_tracks_start(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    fd = socket(AF_INET, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_socket_errno,
                      "parley: socket() failed");
        return NGX_ERROR;
    }

    on = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));

    ngx_memzero(&sin, sizeof(struct sockaddr_in));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((in_port_t) port);
    sin.sin_addr.s_addr = ngx_inet_addr(pmcf->ice_address.data,
                                        pmcf->ice_address.len);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_socket_errno,
                      "parley: bind() to %V:%ui failed",
                      &pmcf->ice_address, port);
        (void) close(fd);
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, cycle->log);
    if (c == NULL) {
        (void) close(fd);
        return NGX_ERROR;
    }

    c->shared = 1;
    rev = c->read;
    rev->handler = ngx_http_parley_media_read_handler;
    rev->log = cycle->log;

    if (ngx_add_event(rev, NGX_READ_EVENT, 0) != NGX_OK) {
        ngx_close_connection(c);
        return NGX_ERROR;
    }

    m->udp = c;
    m->port = (in_port_t) port;

    if (pmcf->ice_announce.len) {
        ngx_cpystrn(m->announce, pmcf->ice_announce.data,
                    ngx_min(pmcf->ice_announce.len + 1, sizeof(m->announce)));
    } else {
        ngx_cpystrn(m->announce, pmcf->ice_address.data,
                    ngx_min(pmcf->ice_address.len + 1, sizeof(m->announce)));
    }

    ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                  "parley: worker %i takes media on %V:%ui, announced as "
                  "%s", ngx_worker, &pmcf->ice_address, port, m->announce);

    return NGX_OK;
}


void
ngx_http_parley_media_stop(ngx_cycle_t *cycle)
{
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;

    if (m->udp == NULL) {
        return;
    }

    ngx_http_parley_send_flush();
    ngx_http_parley_tracks_stop();

    ngx_close_connection(m->udp);
    m->udp = NULL;

    parley_endpoint_destroy(m->endpoint);
    parley_dtls_identity_destroy(m->identity);
    parley_srtp_shutdown();
    ngx_free(m->bufs);
    ngx_free(m->out);
    ngx_free(m->sdp);
}


ngx_int_t
ngx_http_parley_media_available(void)
{
    return ngx_http_parley_media.udp != NULL;
}


/*
 * The datagrams waiting on the socket, read in batches; each goes to the
 * endpoint, which drops and counts what no validated peer should send.
 */

static void
ngx_http_parley_media_read_handler(ngx_event_t *rev)
{
    int                       i, n;
    uint64_t                  now;
    ngx_connection_t         *c;
    parley_peer_t            *peer;
    parley_endpoint_drop_t    drop;
    ngx_http_parley_pc_t     *pc;
    ngx_http_parley_media_t  *m;
    struct iovec              iov[NGX_HTTP_PARLEY_UDP_BATCH];
    struct mmsghdr            msgs[NGX_HTTP_PARLEY_UDP_BATCH];
    struct sockaddr_storage   addrs[NGX_HTTP_PARLEY_UDP_BATCH];

    c = rev->data;
    m = &ngx_http_parley_media;

    for ( ;; ) {

        for (i = 0; i < NGX_HTTP_PARLEY_UDP_BATCH; i++) {
            iov[i].iov_base = m->bufs + i * NGX_HTTP_PARLEY_UDP_BUF;
            iov[i].iov_len = NGX_HTTP_PARLEY_UDP_BUF;
            msgs[i].msg_hdr.msg_name = &addrs[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = NULL;
            msgs[i].msg_hdr.msg_controllen = 0;
            msgs[i].msg_hdr.msg_flags = 0;
        }

        n = recvmmsg(c->fd, msgs, NGX_HTTP_PARLEY_UDP_BATCH, MSG_DONTWAIT,
                     NULL);

        if (n == -1) {
            if (ngx_socket_errno != NGX_EAGAIN
                && ngx_socket_errno != NGX_EINTR)
            {
                ngx_log_error(NGX_LOG_ALERT, rev->log, ngx_socket_errno,
                              "parley: recvmmsg() failed");
            }

            return;
        }

        ngx_time_update();
        now = ngx_current_msec;

        for (i = 0; i < n; i++) {
            ngx_http_parley_count(udp_in);

            peer = NULL;

            drop = parley_endpoint_receive(m->endpoint,
                                           (struct sockaddr *) &addrs[i],
                                           iov[i].iov_base, msgs[i].msg_len,
                                           now, &peer);

            if (drop != PARLEY_ENDPOINT_DROP_NONE) {
                ngx_http_parley_count(udp_dropped);
                ngx_http_parley_media_log_drop(m, drop,
                                               (struct sockaddr *) &addrs[i],
                                               msgs[i].msg_hdr.msg_namelen);
            }

            if (peer) {
                ngx_http_parley_pc_touch(parley_peer_data(peer));
            }
        }

        /* the peers the batch woke: their timers and states */

        while (m->touched) {
            pc = m->touched;
            m->touched = pc->next_touched;
            pc->touched = 0;

            if (pc->peer) {
                ngx_http_parley_pc_after(pc);
            }
        }

        /* the batch's packets reach the rings' readers, its replies out */

        ngx_http_parley_tracks_flush();
        ngx_http_parley_send_flush();

        if (n < NGX_HTTP_PARLEY_UDP_BATCH) {
            return;
        }
    }
}


/*
 * Datagrams that no peer takes are counted one by one (parley_status) but
 * logged sparsely.
 */

static void
ngx_http_parley_media_log_drop(ngx_http_parley_media_t *m,
    parley_endpoint_drop_t drop, struct sockaddr *sa, socklen_t len)
{
    u_char      text[NGX_SOCKADDR_STRLEN];
    ngx_uint_t  n;

    n = ngx_http_parley_sparse_log(&m->drops_log);

    if (n == 0) {
        return;
    }

    len = ngx_sock_ntop(sa, len, text, NGX_SOCKADDR_STRLEN, 1);

    ngx_log_error(NGX_LOG_INFO, m->udp->log, 0,
                  "parley: %ui media datagrams dropped since the last such "
                  "line; the last from %*s: %s", n, (size_t) len, text,
                  parley_endpoint_drop_str(drop));
}


/*
 * A peer that took a datagram of a receive batch has its timer and state
 * looked at once, after the batch; the list never outlives the batch.
 */

static void
ngx_http_parley_pc_touch(ngx_http_parley_pc_t *pc)
{
    if (!pc->touched) {
        pc->touched = 1;
        pc->next_touched = ngx_http_parley_media.touched;
        ngx_http_parley_media.touched = pc;
    }
}


/*
 * "publish": the browser's offer for the peer connection it sends on.
 * The answer takes what the SFU can forward and rejects the rest; a new
 * offer on the same connection (a screen share added) keeps the peer.
 */

ngx_int_t
ngx_http_parley_media_publish(ngx_http_parley_session_t *s,
    const char *text, size_t len, ngx_array_t *screen, ngx_str_t *answer,
    const char **error)
{
    const char                  *err;
    ngx_uint_t                   i;
    parley_sdp_t                *offer;
    parley_sdp_error_t           perr;
    ngx_http_parley_pc_t        *pc;
    const parley_sdp_media_t    *first;

    offer = ngx_alloc(sizeof(parley_sdp_t), s->connection->log);
    if (offer == NULL) {
        *error = "internal";
        return NGX_ERROR;
    }

    if (parley_sdp_parse(offer, text, len, NGX_HTTP_PARLEY_SDP_MAX, &perr)
        != PARLEY_SDP_OK)
    {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "parley: bad SDP offer: %s", perr.msg);
        ngx_free(offer);
        *error = "invalid_sdp";
        return NGX_DECLINED;
    }

    if (offer->n_skipped) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, s->connection->log, 0,
                       "parley: SDP offer: %uD values skipped, the first: %s",
                       offer->n_skipped, offer->skipped);
    }

    first = NULL;

    for (i = 0; i < offer->n_media; i++) {
        if (offer->media[i].port != 0 && offer->media[i].ice_ufrag[0]) {
            first = &offer->media[i];
            break;
        }
    }

    if (first == NULL) {
        ngx_free(offer);
        *error = "invalid_sdp";
        return NGX_DECLINED;
    }

    pc = s->publisher;

    if (pc == NULL) {
        pc = ngx_http_parley_pc_create(s, first, error);
        if (pc == NULL) {
            ngx_free(offer);
            return (ngx_strcmp(*error, "server_full") == 0) ? NGX_DECLINED
                                                            : NGX_ERROR;
        }

        s->publisher = pc;

    } else if (ngx_http_parley_pc_restart(pc, first->ice_ufrag,
                                          first->ice_pwd, NULL)
               != NGX_OK)
    {
        ngx_free(offer);
        *error = "internal";
        return NGX_ERROR;
    }

    err = ngx_http_parley_pc_answer(pc, offer, answer, screen,
                                    s->connection->log);

    ngx_free(offer);

    if (err) {
        *error = err;
        return NGX_DECLINED;
    }

    ngx_http_parley_pc_arm(pc);

    return NGX_OK;
}


ngx_http_parley_pc_t *
ngx_http_parley_pc_alloc(ngx_http_parley_session_t *s)
{
    ngx_http_parley_pc_t  *pc;

    /*
     * Not from the request's pool: a session may leave and come back many
     * times, and each connection it ends is freed with it (pc_free).
     */

    pc = ngx_calloc(sizeof(ngx_http_parley_pc_t), s->connection->log);
    if (pc == NULL) {
        return NULL;
    }

    pc->session = s;
    pc->timer.handler = ngx_http_parley_media_timer_handler;
    pc->timer.data = pc;
    pc->timer.log = s->connection->log;
    pc->timer.cancelable = 1;
    pc->report.handler = ngx_http_parley_report_handler;
    pc->report.data = pc;
    pc->report.log = s->connection->log;
    pc->report.cancelable = 1;
    pc->probe.handler = ngx_http_parley_bandwidth_probe_handler;
    pc->probe.data = pc;
    pc->probe.log = s->connection->log;
    pc->probe.cancelable = 1;

    return pc;
}


/*
 * Makes the peer of a peer connection from the remote description's first
 * accepted section, and gives it to the worker's endpoint.
 */

ngx_int_t
ngx_http_parley_pc_start(ngx_http_parley_pc_t *pc, parley_peer_conf_t *conf,
    const parley_sdp_media_t *first)
{
    parley_peer_rc_t            rc;
    parley_endpoint_rc_t        eprc;
    parley_dtls_fingerprint_t   fp;

    /* the ice-pwd keys the peer's own checks: no media without it */
    conf->ice.remote_ufrag.data = (const uint8_t *) first->ice_ufrag;
    conf->ice.remote_ufrag.len = ngx_strlen(first->ice_ufrag);
    conf->ice.remote_pwd.data = (const uint8_t *) first->ice_pwd;
    conf->ice.remote_pwd.len = ngx_strlen(first->ice_pwd);

    /* RFC 8842 5: the browser's a=setup decides who is the DTLS client */
    conf->dtls_role = (first->setup == PARLEY_SDP_SETUP_PASSIVE)
                      ? PARLEY_DTLS_ROLE_CLIENT : PARLEY_DTLS_ROLE_SERVER;

    if (first->fingerprint.len) {
        fp.hash = (first->fingerprint.hash == PARLEY_SDP_HASH_SHA1)
                  ? PARLEY_DTLS_HASH_SHA1
                  : (first->fingerprint.hash == PARLEY_SDP_HASH_SHA384)
                  ? PARLEY_DTLS_HASH_SHA384
                  : (first->fingerprint.hash == PARLEY_SDP_HASH_SHA512)
                  ? PARLEY_DTLS_HASH_SHA512 : PARLEY_DTLS_HASH_SHA256;
        fp.len = first->fingerprint.len;
        ngx_memcpy(fp.digest, first->fingerprint.bytes, fp.len);

        conf->fingerprints = &fp;
        conf->nfingerprints = 1;
    }

    /*
     * No connection carries a data channel yet: once the browser's SRTP
     * shows the handshake done, OpenSSL's 60 KB of the association go.
     */
    conf->shed_dtls = 1;

    conf->handler.data = pc;
    conf->handler.send = ngx_http_parley_peer_send;
    conf->handler.on_state = ngx_http_parley_peer_state;
    conf->handler.on_secure = ngx_http_parley_peer_secure;
    conf->handler.on_rtp = ngx_http_parley_peer_rtp;
    conf->handler.on_rtcp = ngx_http_parley_peer_rtcp;
    conf->handler.on_consent = ngx_http_parley_peer_consent;

    ngx_cpystrn(pc->remote_ufrag, (u_char *) first->ice_ufrag,
                sizeof(pc->remote_ufrag));

    rc = parley_peer_create(&pc->peer, ngx_http_parley_media.identity, conf,
                            ngx_current_msec);

    if (rc != PARLEY_PEER_OK) {
        ngx_log_error(NGX_LOG_ERR, pc->timer.log, 0,
                      "parley: no peer connection: %s",
                      parley_peer_rc_str(rc));
        return NGX_ERROR;
    }

    eprc = parley_endpoint_add_peer(ngx_http_parley_media.endpoint, pc->peer);

    if (eprc != PARLEY_ENDPOINT_OK) {
        ngx_log_error(NGX_LOG_WARN, pc->timer.log, 0,
                      "parley: no peer connection: %s",
                      parley_endpoint_rc_str(eprc));
        parley_peer_destroy(pc->peer);
        pc->peer = NULL;
        return (eprc == PARLEY_ENDPOINT_ERR_FULL) ? NGX_DECLINED : NGX_ERROR;
    }

    ngx_http_parley_count(peers_created);

    return NGX_OK;
}


static ngx_http_parley_pc_t *
ngx_http_parley_pc_create(ngx_http_parley_session_t *s,
    const parley_sdp_media_t *first, const char **error)
{
    ngx_int_t              rc;
    parley_peer_conf_t     conf;
    ngx_http_parley_pc_t  *pc;

    *error = "internal";

    pc = ngx_http_parley_pc_alloc(s);
    if (pc == NULL) {
        return NULL;
    }

    /* a subscribe connection has none: 3 KB it would never use */
    pc->tracks = ngx_calloc(NGX_HTTP_PARLEY_TRACKS
                            * sizeof(ngx_http_parley_track_t),
                            s->connection->log);
    if (pc->tracks == NULL) {
        ngx_http_parley_pc_free(pc);
        return NULL;
    }

    ngx_memzero(&conf, sizeof(parley_peer_conf_t));

    rc = ngx_http_parley_pc_start(pc, &conf, first);

    if (rc != NGX_OK) {
        *error = (rc == NGX_DECLINED) ? "server_full" : "internal";
        ngx_http_parley_pc_free(pc);
        return NULL;
    }

    return pc;
}


/*
 * RFC 8445 9, RFC 8839 4.4.1.1.1: a remote description with a new ufrag
 * restarts ICE: new local credentials ("local_pwd" given: those, else
 * fresh ones) and the new remote ufrag and password; DTLS and SRTP carry
 * on, media keeps the old path until the browser nominates a new one and
 * it answers the peer's check.
 */

ngx_int_t
ngx_http_parley_pc_restart(ngx_http_parley_pc_t *pc, const char *ufrag,
    const char *pwd, const u_char *local_pwd)
{
    parley_peer_ice_t  ice;

    if (pc->peer == NULL
        || ngx_strcmp(pc->remote_ufrag, (u_char *) ufrag) == 0)
    {
        return NGX_OK;
    }

    ngx_memzero(&ice, sizeof(parley_peer_ice_t));
    ice.remote_ufrag.data = (const uint8_t *) ufrag;
    ice.remote_ufrag.len = ngx_strlen(ufrag);
    ice.remote_pwd.data = (const uint8_t *) pwd;
    ice.remote_pwd.len = ngx_strlen(pwd);

    if (local_pwd) {
        ice.local_ufrag.data = pc->ufrag;
        ice.local_ufrag.len = PARLEY_PEER_UFRAG_LEN;
        ice.local_pwd.data = local_pwd;
        ice.local_pwd.len = PARLEY_PEER_PWD_LEN;
    }

    if (parley_peer_restart(pc->peer, &ice, ngx_current_msec)
        != PARLEY_PEER_OK)
    {
        ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                      "parley: ICE restart refused: the connection is "
                      "closed or its DTLS failed");
        return NGX_ERROR;
    }

    ngx_cpystrn(pc->remote_ufrag, (u_char *) ufrag, sizeof(pc->remote_ufrag));
    ngx_http_parley_count(ice_restarts);

    /* another network: what the old one carried says nothing of it */
    ngx_http_parley_bandwidth_restart(pc);

    ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                  "parley: %s peer connection: ICE restart",
                  pc->subscriber ? "subscribe" : "publish");

    return NGX_OK;
}


/* The SFU's side of an SDP exchange: credentials, certificate, address. */

ngx_int_t
ngx_http_parley_pc_local(ngx_http_parley_pc_t *pc, parley_sdp_local_t *local,
    parley_sdp_host_t *host, u_char *ufrag, u_char *pwd)
{
    parley_dtls_fingerprint_t  fp;

    if (parley_dtls_identity_fingerprint(ngx_http_parley_media.identity,
                                         PARLEY_DTLS_HASH_SHA256, &fp)
        != PARLEY_DTLS_OK)
    {
        return NGX_ERROR;
    }

    host->address = (const char *) ngx_http_parley_media.announce;
    host->port = ngx_http_parley_media.port;
    host->tcp = 0;

    ngx_memzero(local, sizeof(parley_sdp_local_t));
    local->ice_ufrag = (const char *) ufrag;
    local->ice_pwd = (const char *) pwd;
    ngx_memcpy(local->fingerprint, fp.digest, sizeof(local->fingerprint));
    local->sess_id = (uint64_t) (uintptr_t) pc & 0x3fffffffffffffffULL;
    local->sess_version = ++pc->sdp_version;
    local->hosts = host;
    local->n_hosts = 1;
    local->codecs = ngx_http_parley_media.codecs;
    local->n_codecs = ngx_http_parley_media.ncodecs;
    local->extmaps = ngx_http_parley_extmaps;
    local->n_extmaps = NGX_HTTP_PARLEY_NEXTMAPS;

    return NGX_OK;
}


static const char *
ngx_http_parley_pc_answer(ngx_http_parley_pc_t *pc, const parley_sdp_t *offer,
    ngx_str_t *sdp, ngx_array_t *screen, ngx_log_t *log)
{
    const char                 *err;
    size_t                      len;
    parley_sdp_t               *answer;
    parley_stun_str_t           ufrag, pwd;
    parley_sdp_host_t           host;
    parley_sdp_local_t          local;
    parley_sdp_error_t          perr;
    u_char                      ufrag_z[PARLEY_PEER_UFRAG_MAX + 1];
    u_char                      pwd_z[PARLEY_PEER_PWD_MAX + 1];

    parley_peer_local_credentials(pc->peer, &ufrag, &pwd);
    ngx_cpystrn(ufrag_z, (u_char *) ufrag.data, ufrag.len + 1);
    ngx_cpystrn(pwd_z, (u_char *) pwd.data, pwd.len + 1);

    if (ngx_http_parley_pc_local(pc, &local, &host, ufrag_z, pwd_z)
        != NGX_OK)
    {
        return "internal";
    }

    /* the answer is copied into its message before the next one is made */

    answer = ngx_alloc(sizeof(parley_sdp_t), log);
    sdp->data = ngx_http_parley_media.sdp;

    if (answer == NULL) {
        return "internal";
    }

    if (parley_sdp_answer(answer, offer, &local, &perr) != PARLEY_SDP_OK
        || parley_sdp_write(answer, (char *) sdp->data,
                            NGX_HTTP_PARLEY_SDP_MAX, &len)
           != PARLEY_SDP_OK)
    {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "parley: no answer to the SDP offer: %s", perr.msg);
        ngx_free(answer);
        return "invalid_sdp";
    }

    if (ngx_http_parley_feedback_start(pc) != NGX_OK) {
        ngx_free(answer);
        return "internal";
    }

    err = ngx_http_parley_pc_tracks(pc, offer, answer, screen);
    ngx_http_parley_feedback_tracks(pc);

    ngx_free(answer);
    sdp->len = len;

    return err;
}


/*
 * The tracks the answer took, with the numbers the publisher's browser
 * uses: SSRCs from its offer (RFC 5576), the payload types and extension
 * ids of the answer, which keeps the offer's (RFC 8829 5.3.1). A track the
 * previous offer had already (the same SSRC) stays published as it was;
 * the others are published now, and those gone are unpublished. Returns
 * NULL, or why the new ones could not be published.
 */

static const char *
ngx_http_parley_pc_tracks(ngx_http_parley_pc_t *pc, const parley_sdp_t *offer,
    const parley_sdp_t *answer, ngx_array_t *screen)
{
    ngx_uint_t                i, j, n;
    ngx_http_parley_track_t  *t, found[NGX_HTTP_PARLEY_TRACKS + 1];

    n = 0;

    for (i = 0; i < answer->n_media && i < offer->n_media; i++) {
        if (ngx_http_parley_pc_track(&found[n], offer, &offer->media[i],
                                     &answer->media[i], screen)
            != NGX_OK)
        {
            continue;
        }

        /* no section is answered that would not be published */

        if (++n > NGX_HTTP_PARLEY_TRACKS
            || n > ngx_http_parley_worker.conf->participant_tracks)
        {
            ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                          "parley: an offer of more than %ui tracks "
                          "refused (parley_max_participant_tracks)",
                          ngx_http_parley_worker.conf->participant_tracks);
            return "too_many_tracks";
        }
    }

    /* kept tracks move to the front, keeping their table entries */

    for (i = 0; i < n; i++) {
        for (j = 0; j < pc->ntracks; j++) {
            t = &pc->tracks[j];

            if (t->uid && t->ssrc == found[i].ssrc
                && t->track_kind == found[i].track_kind
                && t->layers == found[i].layers
                && (t->ssrc || ngx_strcmp(t->mid, found[i].mid) == 0))
            {
                found[i].index = t->index;
                found[i].uid = t->uid;
                ngx_memcpy(found[i].last_pli, t->last_pli,
                           sizeof(t->last_pli));
                found[i].seqs = t->seqs;
                ngx_memcpy(found[i].nack, t->nack, sizeof(t->nack));
                ngx_memzero(t->nack, sizeof(t->nack));
                ngx_memcpy(found[i].layer_ssrc, t->layer_ssrc,
                           sizeof(t->layer_ssrc));
                ngx_memcpy(found[i].layer_rtx_ssrc, t->layer_rtx_ssrc,
                           sizeof(t->layer_rtx_ssrc));
                t->uid = 0;
            }
        }
    }

    ngx_http_parley_tracks_unpublish(pc);

    ngx_memcpy(pc->tracks, found, n * sizeof(ngx_http_parley_track_t));
    pc->ntracks = n;

    return ngx_http_parley_tracks_publish(pc);
}


static ngx_int_t
ngx_http_parley_pc_track(ngx_http_parley_track_t *t, const parley_sdp_t *offer,
    const parley_sdp_media_t *om, const parley_sdp_media_t *am,
    ngx_array_t *screen)
{
    ngx_str_t                 *mid;
    ngx_uint_t                 j, c;
    parley_forward_ext_kind_t  kind;

    if (am->port == 0 || am->n_codecs == 0
        || (om->n_ssrcs == 0 && am->sim_recv.n < 2)
        || (am->kind != PARLEY_SDP_AUDIO && am->kind != PARLEY_SDP_VIDEO))
    {
        return NGX_DECLINED;
    }

    for (c = 0; c < NGX_HTTP_PARLEY_NCODECS; c++) {
        if (ngx_strcasecmp((u_char *) am->codecs[0].name,
                           (u_char *) ngx_http_parley_codecs[c].name)
            == 0)
        {
            break;
        }
    }

    if (c == NGX_HTTP_PARLEY_NCODECS) {
        return NGX_DECLINED;
    }

    ngx_memzero(t, sizeof(ngx_http_parley_track_t));

    t->kind = am->kind;
    t->track_kind = (am->kind == PARLEY_SDP_AUDIO) ? PARLEY_TRACK_AUDIO
                                                   : PARLEY_TRACK_VIDEO;
    t->codec = c;
    t->payload = parley_codec_of(ngx_http_parley_codecs[c].name);
    t->pt = am->codecs[0].pt;
    t->rtx_pt = am->codecs[0].rtx_pt;
    ngx_cpystrn(t->mid, (u_char *) om->mid, sizeof(t->mid));

    if (om->n_ssrcs) {
        t->ssrc = om->ssrcs[0].ssrc;
        t->layer_ssrc[0] = t->ssrc;

    } else {
        /* RFC 8853: the encodings in a=simulcast order, lowest first */

        t->layers = (uint8_t) ngx_min(am->sim_recv.n,
                                      PARLEY_SIMULCAST_LAYERS);

        for (j = 0; j < t->layers; j++) {
            ngx_cpystrn(t->rids[j], (u_char *) am->sim_recv.streams[j].rid,
                        PARLEY_SDP_RID_LEN);
        }
    }

    parley_retransmit_seq_init(&t->seqs);

    if (screen && am->kind == PARLEY_SDP_VIDEO) {
        mid = screen->elts;

        for (j = 0; j < screen->nelts; j++) {
            if (mid[j].len == ngx_strlen(om->mid)
                && ngx_strncmp(mid[j].data, om->mid, mid[j].len) == 0)
            {
                t->track_kind = PARLEY_TRACK_SCREEN;
            }
        }
    }

    for (j = 0; j < om->n_ssrc_groups; j++) {
        if (om->ssrc_groups[j].semantics == PARLEY_SDP_SSRC_FID
            && om->ssrc_groups[j].n == 2
            && om->ssrc_groups[j].ssrcs[0] == t->ssrc)
        {
            t->rtx_ssrc = om->ssrc_groups[j].ssrcs[1];
            t->layer_rtx_ssrc[0] = t->rtx_ssrc;
        }
    }

    for (j = 0; j < am->n_extmaps; j++) {
        if (am->extmaps[j].id >= 1 && am->extmaps[j].id <= 14) {
            kind = ngx_http_parley_ext_kind(am->extmaps[j].uri);
            t->ext[am->extmaps[j].id] = (uint8_t) kind + 1;

            if (kind == PARLEY_FORWARD_EXT_RID) {
                t->rid_id = (uint8_t) am->extmaps[j].id;

            } else if (kind == PARLEY_FORWARD_EXT_REPAIRED_RID) {
                t->rrid_id = (uint8_t) am->extmaps[j].id;
            }
        }
    }

    (void) offer;

    return NGX_OK;
}


parley_forward_ext_kind_t
ngx_http_parley_ext_kind(const char *uri)
{
    ngx_uint_t  i;

    static const parley_forward_ext_kind_t  kinds[] = {
        PARLEY_FORWARD_EXT_MID, PARLEY_FORWARD_EXT_AUDIO_LEVEL,
        PARLEY_FORWARD_EXT_ABS_SEND_TIME, PARLEY_FORWARD_EXT_TWCC,
        PARLEY_FORWARD_EXT_RID, PARLEY_FORWARD_EXT_REPAIRED_RID
    };

    for (i = 0; i < NGX_HTTP_PARLEY_NEXTMAPS; i++) {
        if (ngx_strcmp(uri, ngx_http_parley_extmaps[i].uri) == 0) {
            return kinds[i];
        }
    }

    return PARLEY_FORWARD_EXT_OTHER;
}


/* The session ends, or leaves its room: its peer connections go with it. */

void
ngx_http_parley_media_session_closed(ngx_http_parley_session_t *s)
{
    if (s->publisher) {
        ngx_http_parley_tracks_unpublish(s->publisher);
        ngx_http_parley_pc_destroy(s->publisher);
        ngx_http_parley_pc_free(s->publisher);
    }

    if (s->subscriber) {
        ngx_http_parley_subscriber_closed(s->subscriber);
        ngx_http_parley_pc_destroy(s->subscriber);
        ngx_http_parley_pc_free(s->subscriber);
    }

    s->publisher = NULL;
    s->subscriber = NULL;
}


void
ngx_http_parley_pc_destroy(ngx_http_parley_pc_t *pc)
{
    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    ngx_http_parley_report_stop(pc);
    ngx_http_parley_bandwidth_stop(pc);

    if (pc->peer) {
        parley_peer_close(pc->peer);
        ngx_http_parley_send_flush();
        parley_peer_destroy(pc->peer);
        pc->peer = NULL;
        ngx_http_parley_count(peers_destroyed);
    }
}


/*
 * What the connection record holds besides itself: the publisher's
 * feedback state with its NACK lists, the legs and their retransmission
 * limiters.
 */

void
ngx_http_parley_pc_free(ngx_http_parley_pc_t *pc)
{
    ngx_uint_t  i, k;

    for (k = 0; k < pc->nlegs; k++) {
        ngx_free(pc->legs[k]->core.limiter);
        ngx_free(pc->legs[k]);
    }

    for (i = 0; i < pc->ntracks; i++) {
        for (k = 0; k < PARLEY_SIMULCAST_LAYERS; k++) {
            ngx_free(pc->tracks[i].nack[k]);
        }
    }

    if (pc->tracks) {
        ngx_free(pc->tracks);
    }

    ngx_http_parley_bandwidth_free(pc);

    if (pc->feedback) {
        for (k = 0; k < pc->feedback->nfree; k++) {
            ngx_free(pc->feedback->free[k]);
        }

        ngx_free(pc->feedback);
    }

    ngx_free(pc);
}


/* RFC 8839 5.4 ice-chars, from the cryptographic generator. */

ngx_int_t
ngx_http_parley_random_chars(u_char *p, size_t n)
{
    size_t   i;
    u_char   rnd[PARLEY_PEER_PWD_LEN];

    static const char  chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                 "qrstuvwxyz0123456789+/";

    if (n > sizeof(rnd) || ngx_http_parley_random(rnd, n) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        p[i] = chars[rnd[i] & 63];
    }

    p[n] = '\0';

    return NGX_OK;
}


static void
ngx_http_parley_media_timer_handler(ngx_event_t *ev)
{
    ngx_http_parley_pc_t  *pc;

    pc = ev->data;

    parley_peer_handle_timeout(pc->peer, ngx_current_msec);
    ngx_http_parley_pc_after(pc);
}


/* After any call into the peer: its timer, and what its state became. */

static void
ngx_http_parley_pc_after(ngx_http_parley_pc_t *pc)
{
    parley_peer_state_t  state;

    state = parley_peer_state(pc->peer);

    if (state != pc->state) {
        pc->state = state;

        if (state == PARLEY_PEER_FAILED) {
            ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                          "parley: peer connection failed: %s",
                          parley_peer_failure_str(
                              parley_peer_stats(pc->peer)->failure));
            ngx_http_parley_count(peers_failed);
        }
    }

    ngx_http_parley_pc_arm(pc);
}


void
ngx_http_parley_pc_arm(ngx_http_parley_pc_t *pc)
{
    int64_t  ms;

    ms = parley_peer_timeout_ms(pc->peer, ngx_current_msec);

    if (ms < 0) {
        if (pc->timer.timer_set) {
            ngx_del_timer(&pc->timer);
        }

        return;
    }

    ngx_add_timer(&pc->timer, (ngx_msec_t) ms);
}


ngx_int_t
ngx_http_parley_random32(uint32_t *r)
{
    return ngx_http_parley_random(r, sizeof(uint32_t));
}


/*
 * A datagram the fan-out protected in place in the current send slot is
 * queued for one sendmmsg; anything else (STUN, DTLS, RTCP) goes at once.
 */

static void
ngx_http_parley_peer_send(void *data, const struct sockaddr *to,
    socklen_t tolen, const uint8_t *buf, size_t len)
{
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;

    if (sendto(m->udp->fd, buf, len, 0, to, tolen) == -1) {
        if (ngx_socket_errno != NGX_EAGAIN) {
            ngx_http_parley_send_failed(m, "sendto()");
        }
        return;
    }

    ngx_http_parley_count(udp_out);
}


/*
 * A datagram the kernel refused (a local firewall's rule, a route gone):
 * it is lost, as on the network; counted, logged sparsely.
 */

static void
ngx_http_parley_send_failed(ngx_http_parley_media_t *m, const char *call)
{
    ngx_err_t   err;
    ngx_uint_t  n;

    err = ngx_socket_errno;

    ngx_http_parley_count(udp_send_failed);

    n = ngx_http_parley_sparse_log(&m->send_failures_log);

    if (n) {
        ngx_log_error(NGX_LOG_INFO, m->udp->log, err,
                      "parley: %ui datagrams refused by the kernel since "
                      "the last such line; the last by %s", n, call);
    }
}


/*
 * The packet the caller wrote into the send slot (ngx_http_parley_send_slot)
 * for this peer, protected and queued for the next sendmmsg: the one way
 * into the batch. NGX_DECLINED when the peer refuses it (no path, not
 * secure, SRTP), counted in its stats.
 */

ngx_int_t
ngx_http_parley_send_rtp(parley_peer_t *peer, size_t len)
{
    u_char                   *out;
    socklen_t                 tolen;
    const struct sockaddr    *to;
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;
    out = ngx_http_parley_send_slot();

    if (parley_peer_protect_rtp(peer, out, &len, NGX_HTTP_PARLEY_UDP_BUF,
                                &to, &tolen)
            != PARLEY_PEER_OK
        || tolen > sizeof(struct sockaddr_storage))
    {
        return NGX_DECLINED;
    }

    ngx_memcpy(&m->addrs[m->nout], to, tolen);
    m->msgs[m->nout].msg_hdr.msg_namelen = tolen;
    m->iov[m->nout].iov_len = len;
    m->nout++;

    if (m->nout == NGX_HTTP_PARLEY_SEND_BATCH) {
        ngx_http_parley_send_flush();
    }

    return NGX_OK;
}


/* Where the fan-out writes its next datagram. */

u_char *
ngx_http_parley_send_slot(void)
{
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;

    return m->out + m->nout * NGX_HTTP_PARLEY_UDP_BUF;
}


void
ngx_http_parley_send_flush(void)
{
    int                       n;
    ngx_uint_t                i, sent;
    ngx_http_parley_media_t  *m;

    m = &ngx_http_parley_media;
    sent = 0;

    for (i = 0; i < m->nout; i++) {
        m->iov[i].iov_base = m->out + i * NGX_HTTP_PARLEY_UDP_BUF;
        m->msgs[i].msg_hdr.msg_name = &m->addrs[i];
        m->msgs[i].msg_hdr.msg_iov = &m->iov[i];
        m->msgs[i].msg_hdr.msg_iovlen = 1;
        m->msgs[i].msg_hdr.msg_control = NULL;
        m->msgs[i].msg_hdr.msg_controllen = 0;
        m->msgs[i].msg_hdr.msg_flags = 0;
    }

    while (sent < m->nout) {
        n = sendmmsg(m->udp->fd, &m->msgs[sent], m->nout - sent, 0);

        if (n == -1) {
            if (ngx_socket_errno == NGX_EINTR) {
                continue;
            }

            /* a full socket buffer loses the rest, as a network would */

            if (ngx_socket_errno == NGX_EAGAIN) {
                break;
            }

            /* one datagram the kernel refused: skip it, send the rest */

            ngx_http_parley_send_failed(m, "sendmmsg()");
            sent++;
            continue;
        }

        sent += n;

        if (ngx_http_parley_worker.counters) {
            ngx_http_parley_worker.counters->udp_out += n;
        }
    }

    m->nout = 0;
}


static void
ngx_http_parley_peer_state(void *data, parley_peer_state_t state)
{
    ngx_http_parley_pc_t *pc = data;

    if (state == PARLEY_PEER_CONNECTED) {
        ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                      "parley: peer connection: ICE connected");
        ngx_http_parley_count(peers_connected);
    }
}


static void
ngx_http_parley_peer_secure(void *data, parley_srtp_profile_t profile)
{
    ngx_http_parley_pc_t *pc = data;

    ngx_log_error(NGX_LOG_INFO, pc->timer.log, 0,
                  "parley: %s peer connection: DTLS done, SRTP with %s",
                  pc->subscriber ? "subscribe" : "publish",
                  parley_srtp_profile_name(profile));

    ngx_http_parley_count(peers_secure);

    if (pc->subscriber) {
        ngx_http_parley_subscriber_secure(pc);
    }
}


static void
ngx_http_parley_peer_rtp(void *data, uint8_t *buf, size_t len)
{
    ngx_http_parley_pc_t *pc = data;

    parley_rtp_header_t  h;

    ngx_http_parley_count(rtp_in);

    if (ngx_http_parley_worker.counters) {
        ngx_http_parley_worker.counters->rtp_bytes_in += len;
    }

    if (pc->subscriber) {
        return;
    }

    if (parley_rtp_parse(buf, len, &h) != PARLEY_RTP_OK) {
        ngx_http_parley_unforwarded(pc, "malformed");
        return;
    }

    ngx_http_parley_feedback_rtp(pc, &h, buf, len);
    ngx_http_parley_tracks_write(pc, buf, len, &h);
}


static void
ngx_http_parley_peer_rtcp(void *data, uint8_t *buf, size_t len)
{
    ngx_http_parley_pc_t *pc = data;

    ngx_http_parley_count(rtcp_in);

    if (pc->subscriber) {
        ngx_http_parley_subscriber_rtcp(pc, buf, len);

    } else {
        ngx_http_parley_feedback_rtcp(pc, buf, len);
    }
}


/* The peer's own checks (RFC 7675), in the worker's counters. */

static void
ngx_http_parley_peer_consent(void *data, parley_peer_consent_event_t event)
{
    switch (event) {

    case PARLEY_PEER_CONSENT_CHECK:
        ngx_http_parley_count(consent_checks);
        break;

    case PARLEY_PEER_CONSENT_GRANTED:
        ngx_http_parley_count(consent_granted);
        break;

    case PARLEY_PEER_CONSENT_RENEWED:
        ngx_http_parley_count(consent_renewed);
        break;

    case PARLEY_PEER_CONSENT_UNMATCHED:
        ngx_http_parley_count(consent_answers_unmatched);
        break;

    case PARLEY_PEER_CONSENT_MISROUTED:
        ngx_http_parley_count(consent_answers_misrouted);
        break;

    case PARLEY_PEER_CONSENT_INVALID:
        ngx_http_parley_count(consent_answers_invalid);
        break;

    case PARLEY_PEER_CONSENT_UNANSWERED:
        ngx_http_parley_count(consent_unanswered);
        break;

    case PARLEY_PEER_CONSENT_LOST:
        ngx_http_parley_count(consent_lost);
        break;

    default:
        break;
    }
}
