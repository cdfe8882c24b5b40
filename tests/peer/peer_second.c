/*
 * --second-path: the redirect a client could try on an SFU, played with
 * a socket of our own so that what reaches it can be counted.
 *
 * Once a subscriber's media flows, it opens a second UDP socket on the
 * same host and sends from it one check with USE-CANDIDATE and the
 * highest priority, signed with the server's password, as a client would
 * with a forged source address (RFC 8445 7.2.2). The server may answer
 * it, and checks the address itself before it sends media there (RFC
 * 7675). "silent" leaves those checks unanswered, as a victim of a forged
 * address would: nothing but STUN may arrive. "answer" answers them with
 * our password, as a client that moved would: the media moves there, and
 * is handed to the connection like the first path's.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <openssl/rand.h>

#include "parley_demux.h"
#include "peer.h"


/* RFC 8445 5.1.2.1: 2^31 - 1, above any priority a host candidate gets */
#define PEER_SECOND_PRIORITY  0x7fffffffu


peer_second_mode_t  peer_second_path;


static void peer_second_on_readable(void *owner, int fd, uint32_t events);


static int
peer_second_open(peer_conn_t *c)
{
    int                 fd;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        peer_log("%s: second path: socket(): %s", c->name, strerror(errno));
        return -1;
    }

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;

    if (inet_pton(AF_INET, peer_local_address, &sin.sin_addr) != 1
        || bind(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || fd >= PEER_FD_MAX
        || peer_loop_add(c->loop, fd, EPOLLIN, peer_second_on_readable, c)
           != 0)
    {
        peer_log("%s: second path: no socket on %s", c->name,
                 peer_local_address);
        close(fd);
        return -1;
    }

    return fd;
}


/* USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MI, FINGERPRINT */
static int
peer_second_nominate(peer_conn_t *c)
{
    char                   username[2 * PARLEY_SDP_ICE_LEN + 2];
    size_t                 len;
    uint8_t                buf[512];
    parley_stun_request_t  req;

    snprintf(username, sizeof(username), "%s:%s", c->remote_ufrag,
             c->local_ufrag);

    memset(&req, 0, sizeof(req));
    (void) RAND_bytes(req.tid, sizeof(req.tid));
    (void) RAND_bytes((uint8_t *) &req.tie_breaker, sizeof(req.tie_breaker));
    req.username.data = (const uint8_t *) username;
    req.username.len = strlen(username);
    req.priority = PEER_SECOND_PRIORITY;
    req.role = PARLEY_STUN_ROLE_CONTROLLING;
    req.use_candidate = 1;
    req.key = &c->remote_key;

    if (parley_stun_binding_request(buf, sizeof(buf), &req, &len)
            != PARLEY_STUN_OK
        || sendto(c->second.fd, buf, len, 0, (struct sockaddr *) &c->remote,
                  c->remote_len) != (ssize_t) len)
    {
        return -1;
    }

    return 0;
}


/* Once, when the first path's media flows: the socket and its check. */
void
peer_second_tick(peer_conn_t *c, uint64_t now_ms)
{
    (void) now_ms;

    if (c->second.mode == PEER_SECOND_NONE || c->second.started
        || c->state != PEER_CONN_SECURE || c->received == 0 || c->fd == -1
        || !c->have_key)
    {
        return;
    }

    c->second.started = 1;
    c->second.fd = peer_second_open(c);

    if (c->second.fd == -1 || peer_second_nominate(c) != 0) {
        peer_log("%s: second path: the check could not be sent", c->name);
        return;
    }

    if (peer_verbose) {
        peer_log("%s: second path: nominated (%s)", c->name,
                 c->second.mode == PEER_SECOND_ANSWER ? "answering"
                                                      : "silent");
    }
}


static void
peer_second_datagram(peer_conn_t *c, uint8_t *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
    parley_stun_msg_t  msg;

    switch (parley_demux_classify(buf, len)) {

    case PARLEY_DEMUX_STUN:
        c->second.stun++;

        if (parley_stun_parse(&msg, buf, len) != PARLEY_STUN_OK
            || msg.class != PARLEY_STUN_REQUEST)
        {
            return;
        }

        c->second.requests++;

        if (c->second.mode == PEER_SECOND_ANSWER
            && peer_conn_answer_check(c, c->second.fd, from, fromlen, &msg)
               == 0)
        {
            c->second.answered++;
        }

        return;

    case PARLEY_DEMUX_RTP:
    case PARLEY_DEMUX_RTCP:
        c->second.srtp++;

        /* the media moved here: it counts as the connection's */
        if (c->second.mode == PEER_SECOND_ANSWER) {
            peer_conn_datagram(c, buf, len, peer_now_ns());
        }

        return;

    default:
        c->second.other++;
        return;
    }
}


static void
peer_second_on_readable(void *owner, int fd, uint32_t events)
{
    ssize_t                  n;
    uint8_t                  buf[PEER_PACKET_ROOM];
    socklen_t                fromlen;
    peer_conn_t             *c = owner;
    struct sockaddr_storage  from;

    (void) events;

    for ( ;; ) {
        fromlen = sizeof(from);
        n = recvfrom(fd, buf, PEER_DATAGRAM_MAX, MSG_DONTWAIT,
                     (struct sockaddr *) &from, &fromlen);

        if (n <= 0) {
            return;
        }

        peer_second_datagram(c, buf, (size_t) n, (struct sockaddr *) &from,
                             fromlen);
    }
}


void
peer_second_free(peer_conn_t *c)
{
    if (c->second.fd != -1) {
        peer_loop_del(c->loop, c->second.fd);
        close(c->second.fd);
        c->second.fd = -1;
    }
}
