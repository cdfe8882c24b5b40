/*
 * A WebSocket client (RFC 6455) on the peer's loop: a non-blocking TCP
 * connect, the HTTP/1.1 upgrade written and checked here, then wslay's
 * client context for frames (it masks, answers pings, and reassembles).
 * Messages are JSON text frames, handed up parsed.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#include "peer.h"


#define PEER_WS_HEAD_MAX   8192
#define PEER_WS_GUID       "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


typedef enum {
    PEER_WS_CONNECTING = 0,
    PEER_WS_HANDSHAKE,
    PEER_WS_OPEN,
    PEER_WS_CLOSED
} peer_ws_state_t;


struct peer_ws_s {
    peer_loop_t                *loop;
    int                         fd;
    peer_ws_state_t             state;
    peer_ws_handler_t           handler;
    wslay_event_context_ptr     ctx;
    char                        host[64];
    char                        path[256];
    char                        subprotocol[64];
    uint16_t                    port;
    char                        key[32];         /* base64 of 16 bytes */
    char                        head[PEER_WS_HEAD_MAX + 1];
    size_t                      head_len;
    size_t                      rest;            /* bytes after the head */
    size_t                      rest_off;
    unsigned                    busy;            /* in a handler */
    unsigned                    dead:1;
};


static void peer_ws_on_io(void *owner, int fd, uint32_t events);
static void peer_ws_fail(peer_ws_t *ws, const char *why);


static int
peer_ws_parse_url(peer_ws_t *ws, const char *url)
{
    int           n;
    unsigned      port;
    const char   *p, *slash;

    if (strncmp(url, "ws://", 5) != 0) {
        peer_log("URL \"%s\": only ws:// is spoken", url);
        return -1;
    }

    p = url + 5;
    slash = strchr(p, '/');
    if (slash == NULL) {
        slash = p + strlen(p);
    }

    n = sscanf(p, "%63[^:/]:%u", ws->host, &port);
    if (n < 1 || (n == 2 && (port == 0 || port > 65535))) {
        peer_log("URL \"%s\": bad host or port", url);
        return -1;
    }

    ws->port = (uint16_t) (n == 2 ? port : 80);
    snprintf(ws->path, sizeof(ws->path), "%s", *slash ? slash : "/");

    return 0;
}


static int
peer_ws_connect(peer_ws_t *ws)
{
    int                 one;
    struct sockaddr_in  sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(ws->port);

    if (inet_pton(AF_INET, ws->host, &sin.sin_addr) != 1) {
        peer_log("host \"%s\" is not an IPv4 address", ws->host);
        return -1;
    }

    ws->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ws->fd == -1) {
        peer_log("socket() failed: %s", strerror(errno));
        return -1;
    }

    one = 1;
    (void) setsockopt(ws->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (connect(ws->fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        && errno != EINPROGRESS)
    {
        peer_log("connect() to %s:%u failed: %s", ws->host,
                 (unsigned) ws->port, strerror(errno));
        close(ws->fd);
        ws->fd = -1;
        return -1;
    }

    return peer_loop_add(ws->loop, ws->fd, EPOLLOUT, peer_ws_on_io, ws);
}


peer_ws_t *
peer_ws_open(peer_loop_t *l, const char *url, const char *subprotocol,
    const peer_ws_handler_t *h)
{
    uint8_t     raw[16];
    peer_ws_t  *ws;

    ws = calloc(1, sizeof(peer_ws_t));
    if (ws == NULL) {
        peer_log("out of memory");
        return NULL;
    }

    ws->loop = l;
    ws->fd = -1;
    ws->handler = *h;

    if (subprotocol != NULL) {
        snprintf(ws->subprotocol, sizeof(ws->subprotocol), "%s",
                 subprotocol);
    }

    if (peer_ws_parse_url(ws, url) != 0) {
        free(ws);
        return NULL;
    }

    /* RFC 6455 4.1: a random 16-byte nonce, base64 */
    (void) RAND_bytes(raw, sizeof(raw));
    EVP_EncodeBlock((unsigned char *) ws->key, raw, sizeof(raw));

    if (peer_ws_connect(ws) != 0) {
        free(ws);
        return NULL;
    }

    return ws;
}


static int
peer_ws_send_request(peer_ws_t *ws)
{
    int      n;
    char     req[1024];
    ssize_t  w;

    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\n"
                 "Host: %s:%u\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n"
                 "%s%s%s"
                 "\r\n",
                 ws->path, ws->host, (unsigned) ws->port, ws->key,
                 ws->subprotocol[0] ? "Sec-WebSocket-Protocol: " : "",
                 ws->subprotocol, ws->subprotocol[0] ? "\r\n" : "");

    /* a fresh socket's buffer takes a request this small at once */
    w = send(ws->fd, req, (size_t) n, MSG_NOSIGNAL);
    if (w != n) {
        peer_ws_fail(ws, "could not send the upgrade request");
        return -1;
    }

    ws->state = PEER_WS_HANDSHAKE;

    return peer_loop_mod(ws->loop, ws->fd, EPOLLIN);
}


/* RFC 6455 4.2.2 5.4: base64(SHA-1(key + GUID)) */
static int
peer_ws_accept_ok(peer_ws_t *ws, const char *head)
{
    char           expect[64], line[128];
    const char    *p;
    unsigned char  digest[SHA_DIGEST_LENGTH];

    snprintf(line, sizeof(line), "%s%s", ws->key, PEER_WS_GUID);
    SHA1((unsigned char *) line, strlen(line), digest);
    EVP_EncodeBlock((unsigned char *) expect, digest, sizeof(digest));

    p = strcasestr(head, "\r\nSec-WebSocket-Accept:");
    if (p == NULL) {
        return 0;
    }

    p += sizeof("\r\nSec-WebSocket-Accept:") - 1;
    while (*p == ' ') {
        p++;
    }

    return strncmp(p, expect, strlen(expect)) == 0;
}


static ssize_t
peer_ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    int flags, void *user)
{
    size_t      n;
    ssize_t     r;
    peer_ws_t  *ws = user;

    (void) flags;

    /* what came after the handshake's head first */
    if (ws->rest > 0) {
        n = ws->rest < len ? ws->rest : len;
        memcpy(buf, ws->head + ws->rest_off, n);
        ws->rest -= n;
        ws->rest_off += n;
        return (ssize_t) n;
    }

    r = recv(ws->fd, buf, len, 0);

    if (r == -1) {
        wslay_event_set_error(ctx, errno == EAGAIN
                                   ? WSLAY_ERR_WOULDBLOCK
                                   : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    if (r == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    return r;
}


static ssize_t
peer_ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *buf, size_t len,
    int flags, void *user)
{
    ssize_t     r;
    peer_ws_t  *ws = user;

    (void) flags;

    r = send(ws->fd, buf, len, MSG_NOSIGNAL);

    if (r == -1) {
        wslay_event_set_error(ctx, errno == EAGAIN
                                   ? WSLAY_ERR_WOULDBLOCK
                                   : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    return r;
}


static int
peer_ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    void *user)
{
    (void) ctx;
    (void) user;

    return RAND_bytes(buf, (int) len) == 1 ? 0 : -1;
}


static void
peer_ws_on_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    json_t        *msg;
    peer_ws_t     *ws = user;
    json_error_t   err;

    (void) ctx;

    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        peer_ws_fail(ws, "the server closed the WebSocket");
        return;
    }

    if (arg->opcode != WSLAY_TEXT_FRAME || ws->dead) {
        return;
    }

    msg = json_loadb((const char *) arg->msg, arg->msg_length, 0, &err);
    if (msg == NULL || !json_is_object(msg)) {
        peer_log("server sent a message that is not a JSON object: %.*s",
                 (int) (arg->msg_length > 200 ? 200 : arg->msg_length),
                 arg->msg);
        json_decref(msg);
        return;
    }

    if (peer_verbose > 1) {
        peer_log("<- %.*s", (int) (arg->msg_length > 300 ? 300
                                                         : arg->msg_length),
                 arg->msg);
    }

    ws->handler.on_message(ws, ws->handler.arg, msg);
    json_decref(msg);
}


static const struct wslay_event_callbacks  peer_ws_callbacks = {
    peer_ws_recv_cb,
    peer_ws_send_cb,
    peer_ws_genmask_cb,
    NULL,
    NULL,
    NULL,
    peer_ws_on_msg_cb
};


static void
peer_ws_read_head(peer_ws_t *ws)
{
    char     *end;
    ssize_t   r;

    r = recv(ws->fd, ws->head + ws->head_len,
             PEER_WS_HEAD_MAX - ws->head_len, 0);

    if (r == 0 || (r == -1 && errno != EAGAIN)) {
        peer_ws_fail(ws, "the server closed before the handshake's end");
        return;
    }

    if (r == -1) {
        return;
    }

    ws->head_len += (size_t) r;
    ws->head[ws->head_len] = '\0';

    end = strstr(ws->head, "\r\n\r\n");
    if (end == NULL) {
        if (ws->head_len == PEER_WS_HEAD_MAX) {
            peer_ws_fail(ws, "handshake answer too long");
        }
        return;
    }

    end += 4;
    ws->rest_off = (size_t) (end - ws->head);
    ws->rest = ws->head_len - ws->rest_off;
    end[-1] = '\0';

    if (strncmp(ws->head, "HTTP/1.1 101", 12) != 0) {
        peer_log("handshake refused: %.*s", (int) strcspn(ws->head, "\r"),
                 ws->head);
        peer_ws_fail(ws, "handshake refused");
        return;
    }

    if (!peer_ws_accept_ok(ws, ws->head)) {
        peer_ws_fail(ws, "Sec-WebSocket-Accept is wrong");
        return;
    }

    if (wslay_event_context_client_init(&ws->ctx, &peer_ws_callbacks, ws)
        != 0)
    {
        peer_ws_fail(ws, "wslay_event_context_client_init() failed");
        return;
    }

    ws->state = PEER_WS_OPEN;
    ws->handler.on_open(ws, ws->handler.arg);
}


static void
peer_ws_pump(peer_ws_t *ws)
{
    uint32_t  events;

    if (wslay_event_recv(ws->ctx) != 0) {
        peer_ws_fail(ws, "the connection dropped");
        return;
    }

    if (ws->dead) {
        return;
    }

    if (wslay_event_send(ws->ctx) != 0) {
        peer_ws_fail(ws, "send failed");
        return;
    }

    if (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx))
    {
        peer_ws_fail(ws, "the WebSocket was closed");
        return;
    }

    events = EPOLLIN | (wslay_event_want_write(ws->ctx) ? EPOLLOUT : 0);
    (void) peer_loop_mod(ws->loop, ws->fd, events);
}


static void
peer_ws_on_io(void *owner, int fd, uint32_t events)
{
    int         err;
    socklen_t   len;
    peer_ws_t  *ws = owner;

    (void) fd;

    ws->busy++;

    switch (ws->state) {

    case PEER_WS_CONNECTING:
        len = sizeof(err);
        if (getsockopt(ws->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1
            || err != 0)
        {
            peer_log("connect() to %s:%u failed: %s", ws->host,
                     (unsigned) ws->port, strerror(err));
            peer_ws_fail(ws, "could not connect");
            break;
        }
        (void) peer_ws_send_request(ws);
        break;

    case PEER_WS_HANDSHAKE:
        peer_ws_read_head(ws);
        if (ws->state == PEER_WS_OPEN && !ws->dead) {
            peer_ws_pump(ws);
        }
        break;

    case PEER_WS_OPEN:
        (void) events;
        peer_ws_pump(ws);
        break;

    default:
        break;
    }

    ws->busy--;

    if (ws->dead && ws->busy == 0) {
        peer_ws_close(ws);
    }
}


static void
peer_ws_fail(peer_ws_t *ws, const char *why)
{
    if (ws->state == PEER_WS_CLOSED) {
        return;
    }

    ws->state = PEER_WS_CLOSED;

    /* level-triggered: a dead socket left in epoll would spin the loop */
    if (ws->fd != -1) {
        peer_loop_del(ws->loop, ws->fd);
        close(ws->fd);
        ws->fd = -1;
    }

    if (!ws->dead && ws->handler.on_close != NULL) {
        ws->busy++;
        ws->handler.on_close(ws, ws->handler.arg, why);
        ws->busy--;
    }
}


int
peer_ws_send(peer_ws_t *ws, json_t *msg)
{
    int                     rc;
    char                   *text;
    struct wslay_event_msg  m;

    if (ws->state != PEER_WS_OPEN || ws->dead) {
        json_decref(msg);
        return -1;
    }

    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);

    if (text == NULL) {
        return -1;
    }

    if (peer_verbose > 1) {
        peer_log("-> %.300s", text);
    }

    m.opcode = WSLAY_TEXT_FRAME;
    m.msg = (const uint8_t *) text;
    m.msg_length = strlen(text);

    /* wslay copies the message */
    rc = wslay_event_queue_msg(ws->ctx, &m);
    free(text);

    if (rc != 0 || wslay_event_send(ws->ctx) != 0) {
        return -1;
    }

    if (wslay_event_want_write(ws->ctx)) {
        (void) peer_loop_mod(ws->loop, ws->fd, EPOLLIN | EPOLLOUT);
    }

    return 0;
}


/* Frees now, or when the handler on the stack returns. */
void
peer_ws_close(peer_ws_t *ws)
{
    if (ws == NULL) {
        return;
    }

    ws->dead = 1;

    if (ws->fd != -1) {
        peer_loop_del(ws->loop, ws->fd);
        close(ws->fd);
        ws->fd = -1;
    }

    if (ws->busy > 0) {
        return;
    }

    if (ws->ctx != NULL) {
        wslay_event_context_free(ws->ctx);
    }

    free(ws);
}
