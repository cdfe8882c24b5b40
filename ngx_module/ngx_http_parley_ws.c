/*
 * parley: the WebSocket server (RFC 6455) inside nginx.
 *
 * The opening handshake is checked here and answered with a plain HTTP
 * error when it is wrong. After "101 Switching Protocols" the connection
 * leaves nginx's HTTP state machine: libwslay frames and unframes, nginx's
 * event loop drives it (non-blocking reads and writes on the connection),
 * and the request is held open (r->main->count) until the session ends.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_parley_module.h"


#define NGX_HTTP_PARLEY_WS_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define NGX_HTTP_PARLEY_LINGER   5000

/*
 * What one read event may take from a client before the others get their
 * turn: the rest waits for the next loop iteration (ngx_posted_next_events),
 * so that a client that writes as fast as it can does not hold the loop.
 */
#define NGX_HTTP_PARLEY_READ_MESSAGES  16
#define NGX_HTTP_PARLEY_READ_BYTES     65536

/*
 * A worker that shuts down (nginx -s reload, quit) sends its sessions to
 * the new workers with 1001, spread over this many milliseconds so that
 * their clients do not all come back at once.
 */
#define NGX_HTTP_PARLEY_MOVE_SPREAD    1000

#define NGX_HTTP_PARLEY_UPGRADE_REQUIRED  426


static char *ngx_http_parley_ws_check(ngx_http_request_t *r,
    ngx_http_parley_loc_conf_t *plcf, ngx_str_t *key, ngx_uint_t *status,
    char **header, char **value);
static ngx_int_t ngx_http_parley_ws_refuse(ngx_http_request_t *r,
    ngx_uint_t status, char *header, char *value, char *reason);
static ngx_table_elt_t *ngx_http_parley_ws_header(ngx_http_request_t *r,
    char *name);
static ngx_int_t ngx_http_parley_ws_has_token(ngx_http_request_t *r,
    char *name, char *token);
static ngx_int_t ngx_http_parley_ws_origin_allowed(ngx_http_request_t *r,
    ngx_http_parley_loc_conf_t *plcf);
static ngx_int_t ngx_http_parley_ws_start(ngx_http_request_t *r,
    ngx_http_parley_loc_conf_t *plcf, ngx_str_t *key);
static void ngx_http_parley_ws_read_handler(ngx_event_t *rev);
static void ngx_http_parley_ws_protocol_error(ngx_http_parley_session_t *s);
static void ngx_http_parley_ws_write_handler(ngx_event_t *wev);
static void ngx_http_parley_ws_ping_handler(ngx_event_t *ev);
static void ngx_http_parley_ws_linger_handler(ngx_event_t *ev);
static void ngx_http_parley_ws_move(ngx_http_parley_session_t *s);
static void ngx_http_parley_ws_move_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_parley_ws_flush(ngx_http_parley_session_t *s);
static ngx_int_t ngx_http_parley_ws_too_slow(ngx_http_parley_session_t *s);
static void ngx_http_parley_ws_finalize(ngx_http_parley_session_t *s);
static ssize_t ngx_http_parley_ws_recv_cb(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, int flags, void *data);
static ssize_t ngx_http_parley_ws_send_cb(wslay_event_context_ptr ctx,
    const uint8_t *buf, size_t len, int flags, void *data);
static int ngx_http_parley_ws_genmask_cb(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, void *data);
static void ngx_http_parley_ws_frame_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_start_arg *arg, void *data);
static void ngx_http_parley_ws_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *data);
static ngx_int_t ngx_http_parley_ws_admit(ngx_http_parley_session_t *s);
static void ngx_http_parley_ws_log_close(ngx_http_parley_session_t *s);
static const char *ngx_http_parley_ws_close_reason(ngx_uint_t code);


static struct wslay_event_callbacks  ngx_http_parley_ws_callbacks = {
    ngx_http_parley_ws_recv_cb,
    ngx_http_parley_ws_send_cb,
    ngx_http_parley_ws_genmask_cb,
    ngx_http_parley_ws_frame_cb,
    NULL,                                  /* on_frame_recv_chunk */
    NULL,                                  /* on_frame_recv_end */
    ngx_http_parley_ws_msg_cb
};


ngx_int_t
ngx_http_parley_ws_handler(ngx_http_request_t *r)
{
    char                        *reason, *header, *value;
    ngx_str_t                    key;
    ngx_uint_t                   status;
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    if (ngx_http_parley_worker.dir == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "parley: signaling is not available in this process");
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    header = NULL;
    value = NULL;

    reason = ngx_http_parley_ws_check(r, plcf, &key, &status, &header,
                                      &value);
    if (reason) {
        return ngx_http_parley_ws_refuse(r, status, header, value, reason);
    }

    return ngx_http_parley_ws_start(r, plcf, &key);
}


/*
 * RFC 6455 4.2.1: what a server must find in the client's opening
 * handshake; 4.2.2 and 4.4: the answers when it is not there.
 */

static char *
ngx_http_parley_ws_check(ngx_http_request_t *r,
    ngx_http_parley_loc_conf_t *plcf, ngx_str_t *key, ngx_uint_t *status,
    char **header, char **value)
{
    u_char            decoded[32];
    ngx_str_t         dst;
    ngx_table_elt_t  *h;

    *status = NGX_HTTP_BAD_REQUEST;

    if (r->method != NGX_HTTP_GET) {
        *status = NGX_HTTP_NOT_ALLOWED;
        *header = "Allow";
        *value = "GET";
        return "the method must be GET";
    }

    if (r->http_version != NGX_HTTP_VERSION_11) {
        return "the protocol must be HTTP/1.1";
    }

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        return "a handshake has no body";
    }

    if (!ngx_http_parley_ws_has_token(r, "Upgrade", "websocket")
        || !ngx_http_parley_ws_has_token(r, "Connection", "upgrade"))
    {
        *status = NGX_HTTP_PARLEY_UPGRADE_REQUIRED;
        *header = "Upgrade";
        *value = "websocket";
        return "\"Upgrade: websocket\" and \"Connection: Upgrade\" are "
               "required";
    }

    h = ngx_http_parley_ws_header(r, "Sec-WebSocket-Version");

    if (h == NULL || h->value.len != 2
        || ngx_strncmp(h->value.data, "13", 2) != 0)
    {
        *status = NGX_HTTP_PARLEY_UPGRADE_REQUIRED;
        *header = "Sec-WebSocket-Version";
        *value = "13";
        return "\"Sec-WebSocket-Version\" must be 13";
    }

    h = ngx_http_parley_ws_header(r, "Sec-WebSocket-Key");

    dst.data = decoded;

    if (h == NULL || h->value.len != 24
        || ngx_decode_base64(&dst, &h->value) != NGX_OK
        || dst.len != 16)
    {
        return "\"Sec-WebSocket-Key\" must be the base64 of 16 bytes";
    }

    if (ngx_http_parley_ws_origin_allowed(r, plcf) != NGX_OK) {
        *status = NGX_HTTP_FORBIDDEN;
        return "the origin is not allowed";
    }

    *key = h->value;

    return NULL;
}


static ngx_int_t
ngx_http_parley_ws_refuse(ngx_http_request_t *r, ngx_uint_t status,
    char *header, char *value, char *reason)
{
    size_t            len;
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "parley: WebSocket handshake refused: %s", reason);

    ngx_http_parley_count(handshakes_refused);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (header) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        h->key.data = (u_char *) header;
        h->key.len = ngx_strlen(header);
        h->value.data = (u_char *) value;
        h->value.len = ngx_strlen(value);
    }

    len = sizeof("parley: WebSocket handshake refused: ") - 1
          + ngx_strlen(reason) + 1;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_sprintf(b->last, "parley: WebSocket handshake refused: "
                          "%s\n", reason);
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (status == NGX_HTTP_PARLEY_UPGRADE_REQUIRED) {
        /* nginx's header filter knows no reason phrase for 426 */
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");

        /*
         * RFC 7230 6.7: who sends Upgrade also sends "Connection: upgrade";
         * nginx writes its own Connection header, which must then be
         * "close" rather than "keep-alive" to go with it
         */

        r->keepalive = 0;

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Connection");
        ngx_str_set(&h->value, "upgrade");
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_table_elt_t *
ngx_http_parley_ws_header(ngx_http_request_t *r, char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * One of the request's headers "name" (a header may come more than once)
 * holds "token" in its comma-separated list, in any case (RFC 7230 3.2.6).
 */

static ngx_int_t
ngx_http_parley_ws_has_token(ngx_http_request_t *r, char *name, char *token)
{
    u_char           *p, *last, *start;
    size_t            len, nlen;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(token);
    nlen = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != nlen
            || ngx_strncasecmp(h[i].key.data, (u_char *) name, nlen) != 0)
        {
            continue;
        }

        p = h[i].value.data;
        last = p + h[i].value.len;

        while (p < last) {
            while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
                p++;
            }

            start = p;

            while (p < last && *p != ',' && *p != ' ' && *p != '\t') {
                p++;
            }

            if ((size_t) (p - start) == len
                && ngx_strncasecmp(start, (u_char *) token, len) == 0)
            {
                return 1;
            }
        }
    }
}


static ngx_int_t
ngx_http_parley_ws_origin_allowed(ngx_http_request_t *r,
    ngx_http_parley_loc_conf_t *plcf)
{
    ngx_str_t        *origin;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    if (plcf->allowed_origins == NULL) {
        return NGX_OK;
    }

    h = ngx_http_parley_ws_header(r, "Origin");
    if (h == NULL) {
        return NGX_DECLINED;
    }

    origin = plcf->allowed_origins->elts;

    for (i = 0; i < plcf->allowed_origins->nelts; i++) {
        if (origin[i].len == h->value.len
            && ngx_strncasecmp(origin[i].data, h->value.data,
                               h->value.len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_parley_ws_start(ngx_http_request_t *r,
    ngx_http_parley_loc_conf_t *plcf, ngx_str_t *key)
{
    u_char                     *p;
    size_t                      len;
    ngx_str_t                   digest, accept;
    ngx_sha1_t                  sha1;
    ngx_connection_t           *c;
    ngx_pool_cleanup_t         *cln;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_parley_session_t  *s;
    u_char                      hash[20], accept_buf[32];

    static const char  guid[] = NGX_HTTP_PARLEY_WS_GUID;
    static const char  head[] = "HTTP/1.1 101 Switching Protocols" CRLF
                                "Upgrade: websocket" CRLF
                                "Connection: Upgrade" CRLF
                                "Sec-WebSocket-Accept: ";

    c = r->connection;

    s = ngx_pcalloc(r->pool, sizeof(ngx_http_parley_session_t));
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s->request = r;
    s->connection = c;
    s->conf = plcf;
    s->participant = PARLEY_NONE;
    s->last_seen = ngx_current_msec;
    s->rate_time = ngx_current_msec;
    s->rate_tokens = (ngx_int_t) plcf->message_burst * 1000;
    ngx_queue_init(&s->room_queue);

    /* RFC 6455 4.2.2: the accept value is base64(SHA-1(key + GUID)) */

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, key->data, key->len);
    ngx_sha1_update(&sha1, guid, sizeof(guid) - 1);
    ngx_sha1_final(hash, &sha1);

    digest.data = hash;
    digest.len = sizeof(hash);
    accept.data = accept_buf;
    ngx_encode_base64(&accept, &digest);

    len = sizeof(head) - 1 + accept.len + 2 * (sizeof(CRLF) - 1);

    s->handshake = ngx_pnalloc(r->pool, len);
    if (s->handshake == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(s->handshake, head, sizeof(head) - 1);
    p = ngx_cpymem(p, accept.data, accept.len);
    p = ngx_cpymem(p, CRLF CRLF, 2 * (sizeof(CRLF) - 1));
    s->handshake_end = p;

    /* bytes that came with the handshake already belong to the session */

    len = r->header_in->last - r->header_in->pos;

    if (len) {
        s->preread = ngx_pnalloc(r->pool, len);
        if (s->preread == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        s->preread_end = ngx_cpymem(s->preread, r->header_in->pos, len);
        r->header_in->pos = r->header_in->last;
    }

    if (wslay_event_context_server_init(&s->ws, &ngx_http_parley_ws_callbacks,
                                        s)
        != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "parley: wslay_event_context_server_init() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        wslay_event_context_free(s->ws);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = (ngx_pool_cleanup_pt) wslay_event_context_free;
    cln->data = s->ws;

    wslay_event_config_set_max_recv_msg_length(s->ws, plcf->max_message_size);

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /*
     * libwslay writes a frame's header and payload apart: without
     * TCP_NODELAY the payload would wait for the client's delayed ACK
     */

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, s, ngx_http_parley_module);

    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    r->keepalive = 0;
    r->lingering_close = 0;
    r->main->count++;

    c->read->handler = ngx_http_parley_ws_read_handler;
    c->write->handler = ngx_http_parley_ws_write_handler;
    c->log->action = "in parley signaling";

    s->ping.handler = ngx_http_parley_ws_ping_handler;
    s->ping.data = s;
    s->ping.log = c->log;
    ngx_add_timer(&s->ping, plcf->ping_interval);

    s->linger.handler = ngx_http_parley_ws_linger_handler;
    s->linger.data = s;
    s->linger.log = c->log;

    s->move.handler = ngx_http_parley_ws_move_handler;
    s->move.data = s;
    s->move.log = c->log;

    /* a graceful shutdown reaches the session through its read handler */
    c->idle = 1;

    /*
     * A connection accepted just before the worker began to shut down, and
     * greeted after, missed that: it is moved too, or the worker would
     * keep it (and its slot and port) for as long as the client stays.
     */

    if (ngx_exiting && ngx_http_parley_worker.conf->resume_timeout) {
        ngx_http_parley_ws_move(s);
    }

    ngx_queue_insert_tail(&ngx_http_parley_worker.sessions, &s->queue);
    ngx_http_parley_count(sessions_opened);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "parley: WebSocket session started");

    ngx_http_parley_signal_open(s);

    if (ngx_http_parley_ws_flush(s) != NGX_OK) {
        ngx_http_parley_ws_finalize(s);
        return NGX_DONE;
    }

    if (s->preread) {
        ngx_post_event(c->read, &ngx_posted_events);
    }

    return NGX_DONE;
}


static void
ngx_http_parley_ws_read_handler(ngx_event_t *rev)
{
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_parley_session_t  *s;

    c = rev->data;
    r = c->data;
    s = ngx_http_get_module_ctx(r, ngx_http_parley_module);

    if (c->close) {
        c->close = 0;

        /*
         * c->error: worker_shutdown_timeout has come, or nginx has no
         * memory: now. Otherwise the worker has just begun to shut down
         * (ngx_close_idle_connections): the session is moved, soon.
         */

        if (c->error) {
            s->moving = 1;
            ngx_http_parley_ws_close(s, WSLAY_CODE_GOING_AWAY);
            ngx_http_parley_ws_finalize(s);
            ngx_http_run_posted_requests(c);
            return;
        }

        /* without resuming, a move would be a leave: the session stays */
        if (ngx_http_parley_worker.conf->resume_timeout) {
            ngx_http_parley_ws_move(s);
        }
    }

    s->read_messages = 0;
    s->read_bytes = 0;

    if (wslay_event_recv(s->ws) != 0) {

        if (!s->recv_failed) {
            ngx_http_parley_ws_protocol_error(s);
        }

        ngx_http_parley_ws_finalize(s);
        ngx_http_run_posted_requests(c);
        return;
    }

    if (s->read_paused) {
        s->read_paused = 0;
        ngx_http_parley_count(reads_paused);
        ngx_post_event(rev, &ngx_posted_next_events);
    }

    if (ngx_http_parley_ws_flush(s) != NGX_OK) {
        ngx_http_parley_ws_finalize(s);
        ngx_http_run_posted_requests(c);
    }
}


/*
 * libwslay refuses some frames while reading their header (a fragmented or
 * oversized control frame, a 64-bit length with the top bit set) by failing
 * the read, with a close frame queued that carries no code. RFC 6455 7.4.1
 * wants 1002 there: it is written as is, best effort, before the end.
 */

static void
ngx_http_parley_ws_protocol_error(ngx_http_parley_session_t *s)
{
    ngx_connection_t  *c;

    static u_char  close_1002[] = { 0x88, 0x02, 0x03, 0xea };

    c = s->connection;

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "parley: WebSocket closed with 1002: %s",
                  ngx_http_parley_ws_close_reason(1002));

    s->close_logged = 1;
    ngx_http_parley_count(protocol_closes);

    if (s->handshake == s->handshake_end) {
        (void) c->send(c, close_1002, sizeof(close_1002));
    }
}


static void
ngx_http_parley_ws_write_handler(ngx_event_t *wev)
{
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_parley_session_t  *s;

    c = wev->data;
    r = c->data;
    s = ngx_http_get_module_ctx(r, ngx_http_parley_module);

    if (ngx_http_parley_ws_flush(s) != NGX_OK) {
        ngx_http_parley_ws_finalize(s);
        ngx_http_run_posted_requests(c);
    }
}


/*
 * Sends what is pending: the rest of the 101 answer, then wslay's queue.
 * Returns NGX_DONE when the session is over (closing handshake complete or
 * the connection failed): the caller then finalizes it.
 */

static ngx_int_t
ngx_http_parley_ws_flush(ngx_http_parley_session_t *s)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = s->connection;

    while (s->handshake < s->handshake_end) {
        n = c->send(c, s->handshake, s->handshake_end - s->handshake);

        if (n == NGX_AGAIN) {
            goto again;
        }

        if (n == NGX_ERROR) {
            return NGX_DONE;
        }

        s->handshake += n;
    }

    if (wslay_event_want_write(s->ws) && wslay_event_send(s->ws) != 0) {
        return NGX_DONE;
    }

    if (!s->close_logged && wslay_event_get_close_sent(s->ws)) {
        ngx_http_parley_ws_log_close(s);
    }

    if (!wslay_event_want_read(s->ws) && !wslay_event_want_write(s->ws)) {
        return NGX_DONE;
    }

    /* what the socket did not take is what the client has not read */

    (void) ngx_http_parley_ws_too_slow(s);

again:

    if (ngx_handle_write_event(c->write, 0) != NGX_OK
        || ngx_handle_read_event(c->read, 0) != NGX_OK)
    {
        return NGX_DONE;
    }

    return NGX_OK;
}


/* More than parley_send_buffer queued for the client: it is closed. */

static ngx_int_t
ngx_http_parley_ws_too_slow(ngx_http_parley_session_t *s)
{
    size_t  queued;

    queued = wslay_event_get_queued_msg_length(s->ws);

    if (s->closing || queued <= s->conf->send_buffer) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "parley: client reads too slowly, %uz bytes queued, "
                  "closing", queued);

    ngx_http_parley_count(slow_closes);
    ngx_http_parley_ws_close(s, WSLAY_CODE_POLICY_VIOLATION);

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_parley_ws_send_text(ngx_http_parley_session_t *s, const char *text,
    size_t len)
{
    struct wslay_event_msg  msg;

    if (s->closing || s->closed) {
        return NGX_DECLINED;
    }

    msg.opcode = WSLAY_TEXT_FRAME;
    msg.msg = (const uint8_t *) text;
    msg.msg_length = len;

    if (wslay_event_queue_msg(s->ws, &msg) != 0) {
        ngx_http_parley_ws_close(s, WSLAY_CODE_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    /* checked at every message: a queue never grows past the limit */

    if (ngx_http_parley_ws_too_slow(s) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_post_event(s->connection->write, &ngx_posted_events);
    ngx_http_parley_count(messages_out);

    return NGX_OK;
}


/*
 * Starts the closing handshake (RFC 6455 7.1.2). The connection is dropped
 * anyway after NGX_HTTP_PARLEY_LINGER if the client does not answer: a
 * client that stopped reading never will.
 */

void
ngx_http_parley_ws_close(ngx_http_parley_session_t *s, ngx_uint_t code)
{
    if (s->closing || s->closed) {
        return;
    }

    s->closing = 1;

    (void) wslay_event_queue_close(s->ws, (uint16_t) code, NULL, 0);

    ngx_add_timer(&s->linger, NGX_HTTP_PARLEY_LINGER);
    ngx_post_event(s->connection->write, &ngx_posted_events);
}


static void
ngx_http_parley_ws_ping_handler(ngx_event_t *ev)
{
    struct wslay_event_msg      msg;
    ngx_http_parley_session_t  *s;

    s = ev->data;

    if (ngx_current_msec - s->last_seen >= s->conf->idle_timeout) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "parley: client silent for %M ms, closing",
                      ngx_current_msec - s->last_seen);
        ngx_http_parley_count(idle_closes);
        ngx_http_parley_ws_close(s, WSLAY_CODE_POLICY_VIOLATION);
        return;
    }

    if (s->closing) {
        /* the linger timer ends it now */
        return;
    }

    msg.opcode = WSLAY_PING;
    msg.msg = NULL;
    msg.msg_length = 0;

    if (wslay_event_queue_msg(s->ws, &msg) == 0) {
        ngx_post_event(s->connection->write, &ngx_posted_events);
    }

    ngx_add_timer(&s->ping, s->conf->ping_interval);
}


/*
 * The worker shuts down: the client is told to go (1001) after a random
 * part of NGX_HTTP_PARLEY_MOVE_SPREAD, reconnects to a worker that stays,
 * and resumes its place there (docs/protocol.md, resume).
 */

static void
ngx_http_parley_ws_move(ngx_http_parley_session_t *s)
{
    if (s->closing || s->move.timer_set) {
        return;
    }

    ngx_add_timer(&s->move, (ngx_msec_t) ngx_random()
                            % NGX_HTTP_PARLEY_MOVE_SPREAD);
}


static void
ngx_http_parley_ws_move_handler(ngx_event_t *ev)
{
    ngx_http_parley_session_t  *s;

    s = ev->data;

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "parley: the worker shuts down, moving the session");

    s->moving = 1;
    ngx_http_parley_ws_close(s, WSLAY_CODE_GOING_AWAY);
}


static void
ngx_http_parley_ws_linger_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_parley_session_t  *s;

    s = ev->data;
    c = s->connection;

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "parley: client did not finish the closing handshake");

    ngx_http_parley_ws_finalize(s);
    ngx_http_run_posted_requests(c);
}


/* Ends the session and the request; s and the connection are gone after. */

static void
ngx_http_parley_ws_finalize(ngx_http_parley_session_t *s)
{
    if (s->closed) {
        return;
    }

    s->closed = 1;
    ngx_http_parley_count(sessions_closed);

    ngx_http_parley_signal_closed(s);

    if (s->ping.timer_set) {
        ngx_del_timer(&s->ping);
    }

    if (s->linger.timer_set) {
        ngx_del_timer(&s->linger);
    }

    if (s->move.timer_set) {
        ngx_del_timer(&s->move);
    }

    if (s->ping.posted) {
        ngx_delete_posted_event(&s->ping);
    }

    ngx_queue_remove(&s->queue);

    ngx_http_finalize_request(s->request, NGX_HTTP_CLOSE);
}


static ssize_t
ngx_http_parley_ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, int flags, void *data)
{
    ngx_http_parley_session_t *s = data;

    ssize_t            n;
    ngx_connection_t  *c;

    c = s->connection;

    if (s->read_messages >= NGX_HTTP_PARLEY_READ_MESSAGES
        || s->read_bytes >= NGX_HTTP_PARLEY_READ_BYTES)
    {
        s->read_paused = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (s->preread < s->preread_end) {
        n = ngx_min((size_t) (s->preread_end - s->preread), len);
        ngx_memcpy(buf, s->preread, n);
        s->preread += n;
        s->read_bytes += n;
        return n;
    }

    n = c->recv(c, buf, len);

    if (n == NGX_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (n == 0 || n == NGX_ERROR) {
        s->recv_failed = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    s->last_seen = ngx_current_msec;
    s->read_bytes += n;

    return n;
}


static ssize_t
ngx_http_parley_ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *buf,
    size_t len, int flags, void *data)
{
    ngx_http_parley_session_t *s = data;

    ssize_t            n;
    ngx_connection_t  *c;

    c = s->connection;

    n = c->send(c, (u_char *) buf, len);

    if (n == NGX_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (n == NGX_ERROR) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    return n;
}


static int
ngx_http_parley_ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, void *data)
{
    /* a server never masks (RFC 6455 5.1); wslay asks only clients */

    ngx_memzero(buf, len);

    return 0;
}


/*
 * RFC 6455 5.5.1: a close frame's body is empty or holds a 2-byte code;
 * libwslay answers a 1-byte body as if it were empty, so the 1002 it
 * deserves is queued first, and libwslay then sends no answer of its own.
 */

static void
ngx_http_parley_ws_frame_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_start_arg *arg, void *data)
{
    if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->payload_length == 1) {
        (void) wslay_event_queue_close(ctx, WSLAY_CODE_PROTOCOL_ERROR,
                                       NULL, 0);
    }
}


/*
 * parley_message_rate: a token bucket of messages per session. A message
 * past it is refused unread (one "rate_limited" error tells the client,
 * not one per message); a client that goes on for a whole burst more is
 * closed with 1008.
 */

static ngx_int_t
ngx_http_parley_ws_admit(ngx_http_parley_session_t *s)
{
    ngx_int_t    cap;
    ngx_msec_t   elapsed;

    if (s->conf->message_rate == 0) {
        return NGX_OK;
    }

    cap = (ngx_int_t) s->conf->message_burst * 1000;
    elapsed = ngx_current_msec - s->rate_time;
    s->rate_time = ngx_current_msec;

    /* a long silence fills the bucket whatever the limits: no overflow */
    if (elapsed > 10000000) {
        elapsed = 10000000;
    }

    s->rate_tokens += (ngx_int_t) (elapsed * s->conf->message_rate);

    if (s->rate_tokens > cap) {
        s->rate_tokens = cap;
    }

    if (s->rate_tokens >= 1000) {
        s->rate_tokens -= 1000;
        s->rate_refused = 0;
        return NGX_OK;
    }

    s->rate_refused++;
    ngx_http_parley_count(messages_limited);

    if (s->rate_refused == 1) {
        ngx_http_parley_signal_rate_limited(s);
    }

    if (s->rate_refused > s->conf->message_burst) {
        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "parley: client goes on past parley_message_rate "
                      "(%ui refused in a row), closing", s->rate_refused);
        ngx_http_parley_count(flood_closes);
        ngx_http_parley_ws_close(s, WSLAY_CODE_POLICY_VIOLATION);
    }

    return NGX_DECLINED;
}


static void
ngx_http_parley_ws_log_close(ngx_http_parley_session_t *s)
{
    ngx_uint_t  code;

    s->close_logged = 1;

    code = wslay_event_get_status_code_sent(s->ws);

    if (code == WSLAY_CODE_NORMAL_CLOSURE) {
        return;
    }

    if (code == WSLAY_CODE_PROTOCOL_ERROR
        || code == WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA
        || code == WSLAY_CODE_MESSAGE_TOO_BIG)
    {
        ngx_http_parley_count(protocol_closes);
    }

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "parley: WebSocket closed with %ui: %s", code,
                  ngx_http_parley_ws_close_reason(code));
}


static const char *
ngx_http_parley_ws_close_reason(ngx_uint_t code)
{
    switch (code) {
    case WSLAY_CODE_GOING_AWAY:
        return "the worker is shutting down";
    case WSLAY_CODE_PROTOCOL_ERROR:
        return "the client broke the WebSocket protocol";
    case WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA:
        return "a text message is not valid UTF-8";
    case WSLAY_CODE_POLICY_VIOLATION:
        return "the client is too slow, silent, or sends too much";
    case WSLAY_CODE_MESSAGE_TOO_BIG:
        return "a message is larger than parley_max_message_size";
    case WSLAY_CODE_INTERNAL_SERVER_ERROR:
        return "internal error";
    default:
        return "closing";
    }
}


static void
ngx_http_parley_ws_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *data)
{
    ngx_http_parley_session_t *s = data;

    s->read_messages++;

    if (s->closing) {
        return;
    }

    switch (arg->opcode) {

    case WSLAY_TEXT_FRAME:
        if (ngx_http_parley_ws_admit(s) == NGX_OK) {
            /* libwslay has checked that it is UTF-8, or closed with 1007 */
            ngx_http_parley_signal_text(s, arg->msg, arg->msg_length);
        }

        return;

    case WSLAY_BINARY_FRAME:
        if (ngx_http_parley_ws_admit(s) == NGX_OK) {
            ngx_http_parley_signal_binary(s);
        }

        return;

    case WSLAY_CONNECTION_CLOSE:
        /* wslay answers the close frame itself */
        s->closing = 1;
        ngx_add_timer(&s->linger, NGX_HTTP_PARLEY_LINGER);
        return;

    default:
        /* ping is answered by wslay; pong only proves the client lives */
        return;
    }
}
