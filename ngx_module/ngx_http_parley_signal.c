/*
 * parley: the signaling protocol, version 1 (docs/protocol.md).
 *
 * Each client message is parsed with jansson, validated, and handled by one
 * function per type. Changes to a room are made in the shared directory
 * under its lock, and announced to the workers holding the room's other
 * participants through their inboxes; this worker's own sessions learn them
 * the same way, from its own inbox, so there is one path for everyone.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ngx_http_parley_module.h"


#define NGX_HTTP_PARLEY_REF_MAX      64
#define NGX_HTTP_PARLEY_ROOM_ID_LEN  16
#define NGX_HTTP_PARLEY_SDP_LIMIT    65536
#define NGX_HTTP_PARLEY_SCREENS      4       /* screen mids in a publish */

/* base64url of PARLEY_RESUME_SECRET_LEN bytes, without padding */
#define NGX_HTTP_PARLEY_SECRET_TEXT  22

/* the close code of a session whose participant resumed elsewhere */
#define NGX_HTTP_PARLEY_REPLACED     4001


typedef struct {
    ngx_http_parley_session_t   *session;
    json_t                      *msg;
    json_t                      *ref;
} ngx_http_parley_req_t;


typedef ngx_int_t (*ngx_http_parley_msg_pt)(ngx_http_parley_req_t *req);


typedef struct {
    const char                  *type;
    ngx_http_parley_msg_pt       handler;
} ngx_http_parley_msg_type_t;


typedef struct {
    uint64_t                     mask[PARLEY_MAX_INBOXES / 64];
} ngx_http_parley_slots_t;


/* What a session needs to know of the room it enters, read under lock. */
typedef struct {
    uint64_t                     room_uid;
    uint32_t                     room;
    uint32_t                     participant;
    uint64_t                     participant_id;
    uint32_t                     attach;
    uint32_t                     roster;            /* entries copied */
    u_char                       secret[PARLEY_RESUME_SECRET_LEN];
    char                         id[PARLEY_ROOM_ID_MAX + 1];
} ngx_http_parley_entry_t;


static ngx_int_t ngx_http_parley_msg_create(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_join(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_roster(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_leave(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_close(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_ping(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_publish(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_candidate(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_subscribe(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_subscribe_answer(
    ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_layer(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_resume(ngx_http_parley_req_t *req);
#if (NGX_HTTP_PARLEY_TEST_HOOKS)
static ngx_int_t ngx_http_parley_msg_test_die(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_test_no_random(
    ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_msg_test_fill_inboxes(
    ngx_http_parley_req_t *req);
#endif
static ngx_int_t ngx_http_parley_resume_locked(parley_dir_t *dir,
    ngx_http_parley_session_t *s, const char *id, uint64_t who,
    const u_char *secret, ngx_http_parley_entry_t *entry);
static ngx_int_t ngx_http_parley_get_participant(ngx_http_parley_req_t *req,
    uint64_t *id);
static void ngx_http_parley_depart_locked(parley_dir_t *dir, uint32_t p,
    parley_reason_t reason);
static void ngx_http_parley_kick(ngx_http_parley_room_t *room,
    const parley_event_t *ev);
static void ngx_http_parley_event_came(ngx_http_parley_room_t *room,
    const parley_event_t *ev, const char *type, uint64_t below);
static void ngx_http_parley_event_gone(ngx_http_parley_room_t *room,
    const parley_event_t *ev, const char *type);
static ngx_int_t ngx_http_parley_media_ready(ngx_http_parley_req_t *req);
static ngx_int_t ngx_http_parley_screen_mids(ngx_http_parley_req_t *req,
    ngx_array_t *screen);

static ngx_int_t ngx_http_parley_error(ngx_http_parley_session_t *s,
    json_t *ref, const char *code, const char *field, const char *fmt, ...);
static ngx_int_t ngx_http_parley_send(ngx_http_parley_session_t *s,
    json_t *msg);
static ngx_int_t ngx_http_parley_answer(ngx_http_parley_req_t *req,
    json_t *msg);
static ngx_int_t ngx_http_parley_get_string(ngx_http_parley_req_t *req,
    const char *field, ngx_uint_t required, size_t max, const char **value);
static ngx_int_t ngx_http_parley_get_member(ngx_http_parley_req_t *req,
    parley_member_t *member);
static ngx_int_t ngx_http_parley_email_valid(const char *email);
static ngx_int_t ngx_http_parley_room_id_valid(const char *id);
static ngx_int_t ngx_http_parley_room_id_generate(char *id);
static ngx_int_t ngx_http_parley_rc_error(ngx_http_parley_req_t *req,
    parley_rc_t rc);
static json_t *ngx_http_parley_participant_json(parley_participant_t *p);
static json_t *ngx_http_parley_roster_json(uint32_t n);
static uint32_t ngx_http_parley_roster_copy_locked(parley_dir_t *dir,
    uint32_t room);
static ngx_int_t ngx_http_parley_entered(ngx_http_parley_req_t *req,
    const char *type, ngx_http_parley_entry_t *entry);
static void ngx_http_parley_entry_locked(parley_dir_t *dir, uint32_t room,
    uint32_t p, ngx_http_parley_entry_t *entry);
static void ngx_http_parley_event_locked(parley_dir_t *dir, uint32_t p,
    parley_event_code_t code, parley_reason_t reason, parley_event_t *ev);
static void ngx_http_parley_slots_locked(parley_dir_t *dir, uint32_t room,
    ngx_http_parley_slots_t *slots);
static void ngx_http_parley_announce(ngx_http_parley_slots_t *slots,
    parley_event_t *ev);
static void ngx_http_parley_depart(ngx_http_parley_session_t *s,
    parley_reason_t reason);
static void ngx_http_parley_room_attach(ngx_http_parley_session_t *s,
    ngx_http_parley_entry_t *entry);
static void ngx_http_parley_room_detach(ngx_http_parley_session_t *s);
static void ngx_http_parley_room_broadcast(ngx_http_parley_room_t *room,
    json_t *msg, uint64_t except, uint64_t below);
static const char *ngx_http_parley_reason_name(uint32_t reason);


static ngx_http_parley_msg_type_t  ngx_http_parley_msg_types[] = {
    { "create", ngx_http_parley_msg_create },
    { "join", ngx_http_parley_msg_join },
    { "roster", ngx_http_parley_msg_roster },
    { "leave", ngx_http_parley_msg_leave },
    { "close", ngx_http_parley_msg_close },
    { "ping", ngx_http_parley_msg_ping },
    { "publish", ngx_http_parley_msg_publish },
    { "candidate", ngx_http_parley_msg_candidate },
    { "subscribe", ngx_http_parley_msg_subscribe },
    { "subscribe-answer", ngx_http_parley_msg_subscribe_answer },
    { "layer", ngx_http_parley_msg_layer },
    { "resume", ngx_http_parley_msg_resume },
#if (NGX_HTTP_PARLEY_TEST_HOOKS)
    { "test-die-in-lock", ngx_http_parley_msg_test_die },
    { "test-no-random", ngx_http_parley_msg_test_no_random },
    { "test-fill-inboxes", ngx_http_parley_msg_test_fill_inboxes },
#endif
    { NULL, NULL }
};


void
ngx_http_parley_signal_open(ngx_http_parley_session_t *s)
{
    (void) ngx_http_parley_send(s, json_pack("{s:s, s:i, s:i}",
                                             "type", "hello",
                                             "protocol",
                                             NGX_HTTP_PARLEY_PROTOCOL,
                                             "worker", (int) ngx_worker));
}


void
ngx_http_parley_signal_text(ngx_http_parley_session_t *s, const u_char *text,
    size_t len)
{
    json_t                      *type;
    json_error_t                 err;
    ngx_http_parley_req_t        req;
    ngx_http_parley_msg_type_t  *t;

    ngx_http_parley_count(messages_in);

    req.session = s;
    req.ref = NULL;
    /* NULs inside strings are refused per member, with the member named */

    req.msg = json_loadb((const char *) text, len,
                         JSON_REJECT_DUPLICATES|JSON_ALLOW_NUL, &err);

    if (req.msg == NULL || !json_is_object(req.msg)) {
        (void) ngx_http_parley_error(s, NULL, "bad_json", NULL,
                                     "the message must be a JSON object%s%s",
                                     req.msg ? "" : ": ",
                                     req.msg ? "" : err.text);
        json_decref(req.msg);
        return;
    }

    req.ref = json_object_get(req.msg, "ref");

    if (req.ref && !json_is_integer(req.ref) && !json_is_string(req.ref)) {
        req.ref = NULL;
        (void) ngx_http_parley_error(s, NULL, "wrong_type", "ref",
                                     "\"ref\" must be an integer or a "
                                     "string");
        goto done;
    }

    if (req.ref && json_is_string(req.ref)
        && json_string_length(req.ref) > NGX_HTTP_PARLEY_REF_MAX)
    {
        req.ref = NULL;
        (void) ngx_http_parley_error(s, NULL, "too_long", "ref",
                                     "\"ref\" is longer than %d bytes",
                                     NGX_HTTP_PARLEY_REF_MAX);
        goto done;
    }

    type = json_object_get(req.msg, "type");

    if (type == NULL) {
        (void) ngx_http_parley_error(s, req.ref, "missing_field", "type",
                                     "\"type\" is required");
        goto done;
    }

    if (!json_is_string(type)) {
        (void) ngx_http_parley_error(s, req.ref, "wrong_type", "type",
                                     "\"type\" must be a string");
        goto done;
    }

    for (t = ngx_http_parley_msg_types; t->type; t++) {
        if (ngx_strlen(t->type) == json_string_length(type)
            && ngx_strcmp(t->type, json_string_value(type)) == 0)
        {
            (void) t->handler(&req);
            goto done;
        }
    }

    (void) ngx_http_parley_error(s, req.ref, "unknown_type", "type",
                                 "unknown message type \"%.64s\"",
                                 json_string_value(type));

done:

    json_decref(req.msg);
}


void
ngx_http_parley_signal_binary(ngx_http_parley_session_t *s)
{
    ngx_http_parley_count(messages_in);

    (void) ngx_http_parley_error(s, NULL, "binary_not_supported", NULL,
                                 "messages are JSON in text frames");
}


/*
 * The session sends more than parley_message_rate: the first message
 * refused is answered, the rest are dropped unread until it slows down.
 */

void
ngx_http_parley_signal_rate_limited(ngx_http_parley_session_t *s)
{
    (void) ngx_http_parley_error(s, NULL, "rate_limited", NULL,
                                 "more than %ui messages a second: "
                                 "messages are refused until the client "
                                 "slows down",
                                 s->conf->message_rate);
}


/*
 * The connection is gone: the participant, if any, is away (it may come
 * back) or gone, and the others are told.
 */

void
ngx_http_parley_signal_closed(ngx_http_parley_session_t *s)
{
    ngx_http_parley_media_session_closed(s);

    if (s->room) {
        ngx_http_parley_depart(s, s->moving ? PARLEY_REASON_SHUTDOWN
                                            : PARLEY_REASON_DISCONNECTED);
    }
}


static ngx_int_t
ngx_http_parley_msg_create(ngx_http_parley_req_t *req)
{
    char                        id[NGX_HTTP_PARLEY_ROOM_ID_LEN + 1];
    u_char                      tag[NGX_HTTP_PARLEY_TAG_LEN];
    uint32_t                    room, p;
    ngx_uint_t                  tries;
    parley_rc_t                 rc;
    parley_dir_t               *dir;
    parley_member_t             member;
    ngx_http_parley_entry_t     entry;
    ngx_http_parley_session_t  *s;

    s = req->session;
    dir = ngx_http_parley_worker.dir;

    if (s->room) {
        return ngx_http_parley_error(s, req->ref, "already_in_room", NULL,
                                     "leave the conversation first");
    }

    if (ngx_http_parley_get_member(req, &member) != NGX_OK) {
        return NGX_OK;
    }

    member.role = PARLEY_ROLE_ORGANISER;

    if (ngx_http_parley_random(entry.secret, sizeof(entry.secret)) != NGX_OK)
    {
        return ngx_http_parley_error(s, req->ref, "internal", NULL,
                                     "internal error");
    }

    /* 80 random bits: a second try is for the theory */

    for (tries = 0; tries < 4; tries++) {

        if (ngx_http_parley_room_id_generate(id) != NGX_OK) {
            return ngx_http_parley_error(s, req->ref, "internal", NULL,
                                         "internal error");
        }

        parley_dir_lock(dir, ngx_http_parley_worker.pid);

        rc = parley_dir_room_create_locked(dir, id, ngx_time(), &room);

        if (rc == PARLEY_OK) {
            rc = parley_dir_join_locked(dir, room, &member, &p);

            if (rc == PARLEY_OK) {
                ngx_memcpy(parley_dir_participant(dir, p)->secret,
                           entry.secret, sizeof(entry.secret));
                ngx_http_parley_entry_locked(dir, room, p, &entry);

            } else {
                parley_dir_room_close_locked(dir, room, NULL, NULL);
            }
        }

        parley_dir_unlock(dir, ngx_http_parley_worker.pid);

        if (rc != PARLEY_ERR_ROOM_EXISTS) {
            break;
        }
    }

    if (rc != PARLEY_OK) {
        return ngx_http_parley_rc_error(req, rc);
    }

    /* the id is the link's only secret: the log gets a digest of it */

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "parley: conversation %s created",
                  ngx_http_parley_room_tag(id, tag));

    ngx_http_parley_count(rooms_created);
    ngx_http_parley_count(joins);

    return ngx_http_parley_entered(req, "created", &entry);
}


static ngx_int_t
ngx_http_parley_msg_join(ngx_http_parley_req_t *req)
{
    uint32_t                    room, p;
    const char                 *id;
    parley_rc_t                 rc;
    parley_dir_t               *dir;
    parley_event_t              ev;
    parley_member_t             member;
    ngx_http_parley_slots_t     slots;
    ngx_http_parley_entry_t     entry;
    ngx_http_parley_session_t  *s;

    s = req->session;
    dir = ngx_http_parley_worker.dir;

    if (s->room) {
        return ngx_http_parley_error(s, req->ref, "already_in_room", NULL,
                                     "leave the conversation first");
    }

    if (ngx_http_parley_get_string(req, "room", 1, PARLEY_ROOM_ID_MAX, &id)
        != NGX_OK)
    {
        return NGX_OK;
    }

    if (!ngx_http_parley_room_id_valid(id)) {
        return ngx_http_parley_error(s, req->ref, "invalid_value", "room",
                                     "\"room\" may hold only letters, "
                                     "digits, \"-\" and \"_\"");
    }

    if (ngx_http_parley_get_member(req, &member) != NGX_OK) {
        return NGX_OK;
    }

    member.role = PARLEY_ROLE_PARTICIPANT;

    if (ngx_http_parley_random(entry.secret, sizeof(entry.secret)) != NGX_OK)
    {
        return ngx_http_parley_error(s, req->ref, "internal", NULL,
                                     "internal error");
    }

    parley_dir_lock(dir, ngx_http_parley_worker.pid);

    rc = parley_dir_room_find_locked(dir, id, &room);

    if (rc == PARLEY_OK) {
        rc = parley_dir_join_locked(dir, room, &member, &p);
    }

    if (rc == PARLEY_OK) {
        ngx_memcpy(parley_dir_participant(dir, p)->secret, entry.secret,
                   sizeof(entry.secret));
        ngx_http_parley_entry_locked(dir, room, p, &entry);

        ngx_http_parley_event_locked(dir, p, PARLEY_EV_JOINED, 0, &ev);
        ngx_http_parley_slots_locked(dir, room, &slots);
        ngx_http_parley_announce(&slots, &ev);
    }

    parley_dir_unlock(dir, ngx_http_parley_worker.pid);

    if (rc != PARLEY_OK) {
        return ngx_http_parley_rc_error(req, rc);
    }

    ngx_http_parley_count(joins);

    return ngx_http_parley_entered(req, "joined", &entry);
}


static ngx_int_t
ngx_http_parley_msg_roster(ngx_http_parley_req_t *req)
{
    json_t                     *msg;
    uint32_t                    n;
    parley_dir_t               *dir;
    ngx_http_parley_session_t  *s;

    s = req->session;
    dir = ngx_http_parley_worker.dir;

    if (s->room == NULL) {
        return ngx_http_parley_error(s, req->ref, "not_in_room", NULL,
                                     "not in a conversation");
    }

    parley_dir_lock(dir, ngx_http_parley_worker.pid);
    n = ngx_http_parley_roster_copy_locked(dir, s->room->index);
    parley_dir_unlock(dir, ngx_http_parley_worker.pid);

    msg = json_pack("{s:s, s:s, s:o}",
                    "type", "roster",
                    "room", s->room->id,
                    "participants", ngx_http_parley_roster_json(n));

    return ngx_http_parley_answer(req, msg);
}


static ngx_int_t
ngx_http_parley_msg_leave(ngx_http_parley_req_t *req)
{
    json_t                     *msg;
    ngx_http_parley_session_t  *s;
    char                        id[PARLEY_ROOM_ID_MAX + 1];

    s = req->session;

    if (s->room == NULL) {
        return ngx_http_parley_error(s, req->ref, "not_in_room", NULL,
                                     "not in a conversation");
    }

    ngx_cpystrn((u_char *) id, (u_char *) s->room->id, sizeof(id));

    ngx_http_parley_depart(s, PARLEY_REASON_LEFT);

    msg = json_pack("{s:s, s:s}", "type", "left", "room", id);

    return ngx_http_parley_answer(req, msg);
}


static ngx_int_t
ngx_http_parley_msg_close(ngx_http_parley_req_t *req)
{
    u_char                      tag[NGX_HTTP_PARLEY_TAG_LEN];
    json_t                     *msg;
    uint32_t                    room;
    parley_dir_t               *dir;
    parley_event_t              ev;
    parley_participant_t       *p;
    ngx_http_parley_slots_t     slots;
    ngx_http_parley_session_t  *s;

    s = req->session;
    dir = ngx_http_parley_worker.dir;

    if (s->room == NULL) {
        return ngx_http_parley_error(s, req->ref, "not_in_room", NULL,
                                     "not in a conversation");
    }

    parley_dir_lock(dir, ngx_http_parley_worker.pid);

    p = parley_dir_participant(dir, s->participant);

    if (p->id != s->participant_id || p->attach != s->attach
        || p->role != PARLEY_ROLE_ORGANISER)
    {
        parley_dir_unlock(dir, ngx_http_parley_worker.pid);
        return ngx_http_parley_error(s, req->ref, "not_organiser", NULL,
                                     "only the organiser may end the "
                                     "conversation");
    }

    room = p->room;

    ngx_memzero(&ev, sizeof(parley_event_t));
    ev.code = PARLEY_EV_CLOSED;
    ev.reason = PARLEY_REASON_ORGANISER_CLOSED;
    ev.room_uid = parley_dir_room(dir, room)->uid;
    ev.room = room;

    ngx_http_parley_slots_locked(dir, room, &slots);
    ngx_http_parley_announce(&slots, &ev);

    parley_dir_room_close_locked(dir, room, NULL, NULL);

    parley_dir_unlock(dir, ngx_http_parley_worker.pid);

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "parley: conversation %s closed by its organiser",
                  ngx_http_parley_room_tag(s->room->id, tag));

    /* the sender is answered now, with its ref, and not again by the event */

    msg = json_pack("{s:s, s:s, s:s}", "type", "closed", "room", s->room->id,
                    "reason", "organiser_closed");

    ngx_http_parley_room_detach(s);

    return ngx_http_parley_answer(req, msg);
}


static ngx_int_t
ngx_http_parley_msg_ping(ngx_http_parley_req_t *req)
{
    json_t  *msg;

    msg = json_pack("{s:s}", "type", "pong");

    return ngx_http_parley_answer(req, msg);
}


/*
 * "publish": the offer of the peer connection the client sends media on;
 * answered with "publish-answer". ICE is lite on the server: the client's
 * own candidates are not needed (its checks tell the server its address).
 */

static ngx_int_t
ngx_http_parley_msg_publish(ngx_http_parley_req_t *req)
{
    json_t                     *msg;
    ngx_int_t                   rc;
    ngx_str_t                   answer, mids[NGX_HTTP_PARLEY_SCREENS];
    ngx_array_t                 screen;
    const char                 *sdp, *error;
    ngx_http_parley_session_t  *s;

    s = req->session;

    screen.elts = mids;
    screen.nelts = 0;
    screen.size = sizeof(ngx_str_t);
    screen.nalloc = NGX_HTTP_PARLEY_SCREENS;
    screen.pool = NULL;

    if (ngx_http_parley_media_ready(req) != NGX_OK) {
        return NGX_OK;
    }

    if (ngx_http_parley_get_string(req, "sdp", 1, NGX_HTTP_PARLEY_SDP_LIMIT,
                                   &sdp)
        != NGX_OK)
    {
        return NGX_OK;
    }

    if (ngx_http_parley_screen_mids(req, &screen) != NGX_OK) {
        return NGX_OK;
    }

    rc = ngx_http_parley_media_publish(s, sdp, ngx_strlen(sdp), &screen,
                                       &answer, &error);

    if (rc == NGX_DECLINED && ngx_strcmp(error, "too_many_tracks") == 0) {
        return ngx_http_parley_error(s, req->ref, error, "sdp",
                                     "more tracks than a participant "
                                     "(%ui) or the conversation (%ui) may "
                                     "send",
                                     ngx_http_parley_worker.conf
                                         ->participant_tracks,
                                     ngx_http_parley_worker.conf
                                         ->room_tracks);
    }

    if (rc == NGX_DECLINED && ngx_strcmp(error, "server_full") == 0) {
        return ngx_http_parley_error(s, req->ref, error, NULL,
                                     "the server forwards as many tracks "
                                     "or connections as it may");
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_parley_error(s, req->ref, error, "sdp",
                                     "the offer cannot be answered (the "
                                     "server log says why)");
    }

    if (rc != NGX_OK) {
        return ngx_http_parley_error(s, req->ref, "internal", NULL,
                                     "internal error");
    }

    msg = json_pack("{s:s, s:s%}", "type", "publish-answer",
                    "sdp", (char *) answer.data, answer.len);

    return ngx_http_parley_answer(req, msg);
}


/*
 * "screen": the mids of the offer's sections that share a screen, so
 * that others can show them as such. Optional; at most
 * NGX_HTTP_PARLEY_SCREENS strings of at most 32 bytes.
 */

static ngx_int_t
ngx_http_parley_screen_mids(ngx_http_parley_req_t *req, ngx_array_t *screen)
{
    json_t      *list, *mid;
    size_t       i;
    ngx_str_t   *elt;
    const char  *text;

    list = json_object_get(req->msg, "screen");

    if (list == NULL) {
        return NGX_OK;
    }

    if (!json_is_array(list)) {
        (void) ngx_http_parley_error(req->session, req->ref, "wrong_type",
                                     "screen", "\"screen\" is an array of "
                                     "mids");
        return NGX_ERROR;
    }

    if (json_array_size(list) > screen->nalloc) {
        (void) ngx_http_parley_error(req->session, req->ref, "too_long",
                                     "screen", "\"screen\" has at most %d "
                                     "mids", NGX_HTTP_PARLEY_SCREENS);
        return NGX_ERROR;
    }

    json_array_foreach(list, i, mid) {
        text = json_string_value(mid);

        if (text == NULL || json_string_length(mid) > 32
            || json_string_length(mid) != ngx_strlen(text))
        {
            (void) ngx_http_parley_error(req->session, req->ref,
                                         "invalid_value", "screen",
                                         "\"screen\" holds mids: strings "
                                         "of 1 to 32 bytes");
            return NGX_ERROR;
        }

        elt = (ngx_str_t *) screen->elts + screen->nelts++;
        elt->data = (u_char *) text;
        elt->len = ngx_strlen(text);
    }

    return NGX_OK;
}


/* Media messages need a room and a server configured for media. */

static ngx_int_t
ngx_http_parley_media_ready(ngx_http_parley_req_t *req)
{
    if (req->session->room == NULL) {
        (void) ngx_http_parley_error(req->session, req->ref, "not_in_room",
                                     NULL, "join a conversation first");
        return NGX_ERROR;
    }

    if (!ngx_http_parley_media_available()) {
        (void) ngx_http_parley_error(req->session, req->ref,
                                     "media_unavailable", NULL,
                                     "this server has no parley_ice_address");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * "subscribe": the server offers the peer connection the client receives
 * the others' tracks on ("subscribe-offer"); the client answers with
 * "subscribe-answer".
 */

static ngx_int_t
ngx_http_parley_msg_subscribe(ngx_http_parley_req_t *req)
{
    json_t       *restart;
    ngx_int_t     rc;
    const char   *error;

    if (ngx_http_parley_media_ready(req) != NGX_OK) {
        return NGX_OK;
    }

    restart = json_object_get(req->msg, "restart");

    if (restart && !json_is_boolean(restart) && !json_is_null(restart)) {
        return ngx_http_parley_error(req->session, req->ref, "wrong_type",
                                     "restart", "\"restart\" is a boolean");
    }

    rc = ngx_http_parley_media_subscribe(req->session,
                                         restart && json_is_true(restart),
                                         &error);

    if (rc != NGX_OK) {
        return ngx_http_parley_error(req->session, req->ref, error, NULL,
                                     "no subscribe offer: %s", error);
    }

    return NGX_OK;
}


/*
 * "subscribe-offer", now or whenever the room's tracks change: the SDP,
 * and whose track each active section carries.
 */

ngx_int_t
ngx_http_parley_signal_subscribe_offer(ngx_http_parley_session_t *s,
    ngx_str_t *sdp, ngx_http_parley_offer_track_t *tracks, ngx_uint_t n)
{
    json_t      *msg, *list;
    ngx_uint_t   i;
    u_char       id[NGX_INT64_LEN + 1];

    list = json_array();

    for (i = 0; list && i < n; i++) {
        *ngx_sprintf(id, "%uL", tracks[i].participant) = '\0';

        if (json_array_append_new(list,
                json_pack("{s:s, s:s, s:s}", "mid", (char *) tracks[i].mid,
                          "participant", (char *) id,
                          "kind", tracks[i].kind))
            != 0)
        {
            json_decref(list);
            list = NULL;
        }
    }

    if (list == NULL) {
        return NGX_ERROR;
    }

    msg = json_pack("{s:s, s:s%, s:o}", "type", "subscribe-offer",
                    "sdp", (char *) sdp->data, sdp->len, "tracks", list);

    return ngx_http_parley_send(s, msg);
}


/*
 * "speaker": the room's active speaker changed (0: nobody speaks), for
 * every session of the room here, or for "only".
 */

void
ngx_http_parley_signal_speaker(ngx_http_parley_room_t *room,
    ngx_http_parley_session_t *only, uint64_t speaker)
{
    json_t  *msg;
    u_char   id[NGX_INT64_LEN + 1];

    *ngx_sprintf(id, "%uL", speaker) = '\0';

    msg = json_pack("{s:s, s:s, s:o}", "type", "speaker", "room", room->id,
                    "participant",
                    speaker ? json_string((char *) id) : json_null());

    if (only) {
        (void) ngx_http_parley_send(only, msg);
        return;
    }

    ngx_http_parley_room_broadcast(room, msg, 0, UINT64_MAX);
}


/*
 * "paused": a video section of the session's subscribe connection stops,
 * or starts again, because its network would not carry it.
 */

void
ngx_http_parley_signal_paused(ngx_http_parley_session_t *s,
    const u_char *mid, ngx_uint_t paused)
{
    (void) ngx_http_parley_send(s, json_pack("{s:s, s:s, s:b}",
                                             "type", "paused",
                                             "mid", (const char *) mid,
                                             "paused", (int) paused));
}


/* The session's room has tracks published or unpublished: tell its workers. */

void
ngx_http_parley_signal_tracks_changed(ngx_http_parley_session_t *s)
{
    parley_dir_t             *dir;
    parley_event_t            ev;
    ngx_http_parley_slots_t   slots;

    dir = ngx_http_parley_worker.dir;

    ngx_memzero(&ev, sizeof(parley_event_t));
    ev.code = PARLEY_EV_TRACKS;
    ev.room_uid = s->room->node.key;
    ev.room = s->room->index;
    ev.participant = s->participant;
    ev.participant_id = s->participant_id;

    parley_dir_lock(dir, ngx_http_parley_worker.pid);

    if (parley_dir_room(dir, ev.room)->uid == ev.room_uid) {
        ngx_http_parley_slots_locked(dir, ev.room, &slots);
        ngx_http_parley_announce(&slots, &ev);
    }

    parley_dir_unlock(dir, ngx_http_parley_worker.pid);
}


static ngx_int_t
ngx_http_parley_msg_subscribe_answer(ngx_http_parley_req_t *req)
{
    const char  *sdp, *error;

    if (ngx_http_parley_media_ready(req) != NGX_OK
        || ngx_http_parley_get_string(req, "sdp", 1,
                                      NGX_HTTP_PARLEY_SDP_LIMIT, &sdp)
           != NGX_OK)
    {
        return NGX_OK;
    }

    if (ngx_http_parley_media_subscribe_answer(req->session, sdp,
                                               ngx_strlen(sdp), &error)
        != NGX_OK)
    {
        return ngx_http_parley_error(req->session, req->ref, error, "sdp",
                                     "the answer cannot be taken: %s",
                                     error);
    }

    return NGX_OK;
}


/*
 * "layer": which encoding of a simulcast track the client wants on one
 * section: "high" for the large window, "low" for a thumbnail, "off" for
 * none.
 */

static ngx_int_t
ngx_http_parley_msg_layer(ngx_http_parley_req_t *req)
{
    uint32_t     layer;
    ngx_uint_t   i;
    const char  *mid, *name, *error;

    static const char  *names[] = { "low", "medium", "high", "off" };

    if (ngx_http_parley_media_ready(req) != NGX_OK
        || ngx_http_parley_get_string(req, "mid", 1, 32, &mid) != NGX_OK
        || ngx_http_parley_get_string(req, "layer", 1, 16, &name) != NGX_OK)
    {
        return NGX_OK;
    }

    for (i = 0; i < 4; i++) {
        if (ngx_strcmp(name, names[i]) == 0) {
            break;
        }
    }

    if (i == 4) {
        return ngx_http_parley_error(req->session, req->ref, "invalid_value",
                                     "layer", "\"layer\" is \"low\", "
                                     "\"medium\", \"high\" or \"off\"");
    }

    layer = (i == 3) ? PARLEY_NONE : (uint32_t) i;

    if (ngx_http_parley_media_layer(req->session, mid, layer, &error)
        != NGX_OK)
    {
        return ngx_http_parley_error(req->session, req->ref, error, "mid",
                                     "no such track: %s", error);
    }

    return NGX_OK;
}


/*
 * "candidate": a trickled ICE candidate (RFC 8838). The server is an
 * ICE-lite agent and learns addresses from the checks themselves, so a
 * well-formed candidate is taken without an answer.
 */

static ngx_int_t
ngx_http_parley_msg_candidate(ngx_http_parley_req_t *req)
{
    const char  *candidate;

    if (ngx_http_parley_get_string(req, "candidate", 0, 1024, &candidate)
        != NGX_OK)
    {
        return NGX_OK;
    }

    if (candidate && *candidate
        && ngx_strncmp(candidate, "candidate:", 10) != 0)
    {
        return ngx_http_parley_error(req->session, req->ref, "invalid_value",
                                     "candidate", "\"candidate\" starts "
                                     "with \"candidate:\"");
    }

    return NGX_OK;
}


/*
 * The session's participant goes: away, when its connection dropped and
 * it may resume (parley_resume_timeout), or out of its room, announced to
 * the others. Nothing changes if the participant is no longer this
 * session's: it resumed elsewhere, or its room was closed.
 */

static void
ngx_http_parley_depart(ngx_http_parley_session_t *s, parley_reason_t reason)
{
    uint32_t               p, attach;
    uint64_t               id;
    parley_dir_t          *dir;
    parley_participant_t  *pt;

    dir = ngx_http_parley_worker.dir;
    p = s->participant;
    id = s->participant_id;
    attach = s->attach;

    ngx_http_parley_room_detach(s);

    parley_dir_lock(dir, ngx_http_parley_worker.pid);

    pt = parley_dir_participant(dir, p);

    if (pt->id == id && pt->attach == attach) {

        if ((reason == PARLEY_REASON_DISCONNECTED
             || reason == PARLEY_REASON_SHUTDOWN)
            && ngx_http_parley_worker.conf->resume_timeout)
        {
            ngx_http_parley_signal_away_locked(dir, p, reason);

        } else {
            ngx_http_parley_depart_locked(dir, p, reason);
        }
    }

    parley_dir_unlock(dir, ngx_http_parley_worker.pid);
}


/*
 * The participant leaves its room, and the room's workers are told; when
 * it is the organiser and others remain, the conversation ends for all.
 */

static void
ngx_http_parley_depart_locked(parley_dir_t *dir, uint32_t p,
    parley_reason_t reason)
{
    uint32_t                 room;
    parley_event_t           ev;
    parley_participant_t    *pt;
    ngx_http_parley_slots_t  slots;

    pt = parley_dir_participant(dir, p);
    room = pt->room;

    if (pt->role == PARLEY_ROLE_ORGANISER
        && parley_dir_room(dir, room)->count > 1)
    {
        ngx_http_parley_event_locked(dir, p, PARLEY_EV_CLOSED,
                                     PARLEY_REASON_ORGANISER_LEFT, &ev);

        parley_dir_leave_locked(dir, p);
        ngx_http_parley_slots_locked(dir, room, &slots);
        ngx_http_parley_announce(&slots, &ev);
        parley_dir_room_close_locked(dir, room, NULL, NULL);
        return;
    }

    ngx_http_parley_event_locked(dir, p, PARLEY_EV_LEFT, reason, &ev);

    parley_dir_leave_locked(dir, p);

    if (parley_dir_room(dir, room)->uid == ev.room_uid) {
        ngx_http_parley_slots_locked(dir, room, &slots);
        ngx_http_parley_announce(&slots, &ev);
    }
}


/*
 * The participant's connection is gone (it dropped, or its worker died or
 * shut down): it stays in the room, away, until parley_resume_timeout has
 * passed, and the others hear that it is away rather than gone.
 */

void
ngx_http_parley_signal_away_locked(parley_dir_t *dir, uint32_t p,
    parley_reason_t reason)
{
    parley_event_t           ev;
    ngx_http_parley_slots_t  slots;

    parley_dir_away_locked(dir, p, ngx_http_parley_clock_ms()
                                   + ngx_http_parley_worker.conf
                                     ->resume_timeout);

    ngx_http_parley_event_locked(dir, p, PARLEY_EV_AWAY, reason, &ev);
    ngx_http_parley_slots_locked(dir, ev.room, &slots);
    ngx_http_parley_announce(&slots, &ev);

    ngx_http_parley_count(participants_away);
}


/*
 * From the reaper, once a second: the away participants whose time to
 * resume has passed leave, as if their connection had just dropped for
 * good (an organiser's conversation ends then).
 */

void
ngx_http_parley_signal_expire(void)
{
    uint32_t       p, n;
    parley_dir_t  *dir;

    dir = ngx_http_parley_worker.dir;

    if (__atomic_load_n(&dir->away, __ATOMIC_RELAXED) == 0) {
        return;
    }

    parley_dir_lock(dir, ngx_http_parley_worker.pid);

    /* a bounded share per tick: the lock is held briefly */

    for (n = 0; n < 64; n++) {
        p = parley_dir_away_expired_locked(dir, ngx_http_parley_clock_ms());

        if (p == PARLEY_NONE) {
            break;
        }

        ngx_http_parley_depart_locked(dir, p, PARLEY_REASON_DISCONNECTED);
    }

    parley_dir_unlock(dir, ngx_http_parley_worker.pid);

    if (n && ngx_http_parley_worker.counters) {
        ngx_http_parley_worker.counters->away_expired += n;
    }
}


static void
ngx_http_parley_event_locked(parley_dir_t *dir, uint32_t p,
    parley_event_code_t code, parley_reason_t reason, parley_event_t *ev)
{
    parley_participant_t  *pt;

    pt = parley_dir_participant(dir, p);

    ngx_memzero(ev, sizeof(parley_event_t));
    ev->code = code;
    ev->reason = reason;
    ev->room_uid = parley_dir_room(dir, pt->room)->uid;
    ev->room = pt->room;
    ev->participant = p;
    ev->participant_id = pt->id;
    ev->attach = pt->attach;
}


/*
 * "resume": a participant whose connection dropped comes back to its
 * place, with the secret its "created", "joined" or last "resumed" gave;
 * the secret is good once. Answered with "resumed", which carries the next
 * one. The room's id is checked first: a conversation that ended is
 * "room_not_found"; anything else that does not match is "resume_refused",
 * without saying what.
 */

static ngx_int_t
ngx_http_parley_msg_resume(ngx_http_parley_req_t *req)
{
    uint64_t                    who;
    ngx_int_t                   rc;
    ngx_str_t                   text, raw;
    const char                 *id, *secret;
    parley_dir_t               *dir;
    ngx_http_parley_entry_t     entry;
    ngx_http_parley_session_t  *s;
    u_char                      given[NGX_HTTP_PARLEY_SECRET_TEXT];

    s = req->session;
    dir = ngx_http_parley_worker.dir;

    if (s->room) {
        return ngx_http_parley_error(s, req->ref, "already_in_room", NULL,
                                     "leave the conversation first");
    }

    if (ngx_http_parley_get_string(req, "room", 1, PARLEY_ROOM_ID_MAX, &id)
            != NGX_OK
        || ngx_http_parley_get_participant(req, &who) != NGX_OK
        || ngx_http_parley_get_string(req, "secret", 1,
                                      NGX_HTTP_PARLEY_SECRET_TEXT + 2, &secret)
           != NGX_OK)
    {
        return NGX_OK;
    }

    text.data = (u_char *) secret;
    text.len = ngx_strlen(secret);
    raw.data = given;

    if (!ngx_http_parley_room_id_valid(id)
        || text.len != NGX_HTTP_PARLEY_SECRET_TEXT
        || ngx_decode_base64url(&raw, &text) != NGX_OK
        || raw.len != PARLEY_RESUME_SECRET_LEN
        || ngx_http_parley_worker.conf->resume_timeout == 0)
    {
        ngx_http_parley_count(resumes_refused);
        return ngx_http_parley_error(s, req->ref, "resume_refused", NULL,
                                     "this participant cannot resume");
    }

    if (ngx_http_parley_random(entry.secret, sizeof(entry.secret)) != NGX_OK)
    {
        return ngx_http_parley_error(s, req->ref, "internal", NULL,
                                     "internal error");
    }

    parley_dir_lock(dir, ngx_http_parley_worker.pid);
    rc = ngx_http_parley_resume_locked(dir, s, id, who, given, &entry);
    parley_dir_unlock(dir, ngx_http_parley_worker.pid);

    if (rc == NGX_DECLINED) {
        ngx_http_parley_count(resumes_refused);
        return ngx_http_parley_error(s, req->ref, "room_not_found", "room",
                                     "no conversation with that id");
    }

    if (rc != NGX_OK) {
        ngx_http_parley_count(resumes_refused);
        return ngx_http_parley_error(s, req->ref, "resume_refused", NULL,
                                     "this participant cannot resume");
    }

    ngx_http_parley_count(resumes);

    return ngx_http_parley_entered(req, "resumed", &entry);
}


/*
 * The participant is attached to this worker again, with a new attach
 * count and the new secret in entry->secret. A session that still holds it
 * (the server had not noticed the drop yet) is told to end; the others
 * hear it is back if it was away.
 */

static ngx_int_t
ngx_http_parley_resume_locked(parley_dir_t *dir,
    ngx_http_parley_session_t *s, const char *id, uint64_t who,
    const u_char *secret, ngx_http_parley_entry_t *entry)
{
    uint16_t                 old;
    uint32_t                 room, p;
    ngx_uint_t               was_away;
    parley_event_t           ev;
    parley_participant_t    *pt;
    ngx_http_parley_slots_t  slots;

    if (parley_dir_room_find_locked(dir, id, &room) != PARLEY_OK) {
        return NGX_DECLINED;
    }

    if (parley_dir_participant_find_locked(dir, room, who, &p) != PARLEY_OK) {
        return NGX_ERROR;
    }

    pt = parley_dir_participant(dir, p);

    if (CRYPTO_memcmp(pt->secret, secret, PARLEY_RESUME_SECRET_LEN) != 0) {
        return NGX_ERROR;
    }

    was_away = parley_dir_is_away(pt);
    old = pt->inbox;

    if (parley_dir_attach_locked(dir, p, ngx_http_parley_worker.inbox)
        != PARLEY_OK)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(pt->secret, entry->secret, PARLEY_RESUME_SECRET_LEN);
    ngx_http_parley_entry_locked(dir, room, p, entry);

    if (!was_away) {
        ngx_http_parley_event_locked(dir, p, PARLEY_EV_KICK, 0, &ev);
        ngx_http_parley_inbox_send(old, &ev);
        return NGX_OK;
    }

    ngx_http_parley_event_locked(dir, p, PARLEY_EV_BACK, 0, &ev);
    ngx_http_parley_slots_locked(dir, room, &slots);
    ngx_http_parley_announce(&slots, &ev);

    return NGX_OK;
}


#if (NGX_HTTP_PARLEY_TEST_HOOKS)

/*
 * Tests only (t/012-locks.t; the module operators build has no such
 * message): the worker takes a shared lock, "directory", "tracks" or
 * "inbox" (another worker's), and is killed holding it, as a worker can
 * be killed anywhere. The others must carry on.
 */

static ngx_int_t
ngx_http_parley_msg_test_die(ngx_http_parley_req_t *req)
{
    uint16_t       slot;
    const char    *lock;
    parley_dir_t  *dir;

    dir = ngx_http_parley_worker.dir;

    if (ngx_http_parley_get_string(req, "lock", 1, 16, &lock) != NGX_OK) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_NOTICE, req->session->connection->log, 0,
                  "parley: test hook: dying in the %s lock", lock);

    if (ngx_strcmp(lock, "directory") == 0) {
        parley_dir_lock(dir, ngx_http_parley_worker.pid);

    } else if (ngx_strcmp(lock, "tracks") == 0
               && ngx_http_parley_worker.tracks)
    {
        parley_tracks_lock(ngx_http_parley_worker.tracks,
                           ngx_http_parley_worker.pid);

    } else if (ngx_strcmp(lock, "inbox") == 0) {
        for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {
            if (slot != ngx_http_parley_worker.inbox
                && parley_dir_inbox(dir, slot)->pid != 0)
            {
                parley_lock(&parley_dir_inbox(dir, slot)->inbox.lock,
                            ngx_http_parley_worker.pid);
                break;
            }
        }

    } else {
        return ngx_http_parley_error(req->session, req->ref, "invalid_value",
                                     "lock", "no such lock");
    }

    (void) raise(SIGKILL);

    return NGX_OK;
}


/*
 * Tests only: the worker's next "count" calls for random bytes fail, as
 * they would with a generator that has no entropy. Answered with a pong.
 */

static ngx_int_t
ngx_http_parley_msg_test_no_random(ngx_http_parley_req_t *req)
{
    json_t  *count;

    count = json_object_get(req->msg, "count");

    ngx_http_parley_random_failures = json_is_integer(count)
                                      ? (ngx_uint_t) json_integer_value(count)
                                      : 1;

    return ngx_http_parley_answer(req, json_pack("{s:s}", "type", "pong"));
}


/*
 * Tests only: every other worker's inbox is filled up with events that
 * ask for nothing (a keyframe of no track), so that the next event pushed
 * there is lost, as when a worker falls far behind. No answer.
 */

static ngx_int_t
ngx_http_parley_msg_test_fill_inboxes(ngx_http_parley_req_t *req)
{
    int              wake;
    uint16_t         slot;
    parley_dir_t    *dir;
    parley_event_t   ev;

    dir = ngx_http_parley_worker.dir;

    ngx_memzero(&ev, sizeof(parley_event_t));
    ev.code = PARLEY_EV_KEYFRAME;
    ev.participant = PARLEY_NONE;

    for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {
        if (slot == ngx_http_parley_worker.inbox
            || parley_dir_inbox(dir, slot)->pid == 0)
        {
            continue;
        }

        while (parley_inbox_push(&parley_dir_inbox(dir, slot)->inbox, &ev,
                                 ngx_http_parley_worker.pid, &wake)
               == PARLEY_OK)
        {
            /* void */
        }

        /* the push that found it full marked it overflowed: clear that */
        __atomic_store_n(&parley_dir_inbox(dir, slot)->inbox.overflowed, 0,
                         __ATOMIC_RELEASE);
    }

    return NGX_OK;
}

#endif


/* "participant": a participant's id, a string of decimal digits. */

static ngx_int_t
ngx_http_parley_get_participant(ngx_http_parley_req_t *req, uint64_t *id)
{
    off_t        n;
    const char  *text;

    if (ngx_http_parley_get_string(req, "participant", 1, NGX_INT64_LEN,
                                   &text)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = ngx_atoof((u_char *) text, ngx_strlen(text));

    if (n <= 0) {
        (void) ngx_http_parley_error(req->session, req->ref, "invalid_value",
                                     "participant", "\"participant\" is a "
                                     "participant's id");
        return NGX_ERROR;
    }

    *id = (uint64_t) n;

    return NGX_OK;
}


/*
 * The participant resumed on another session: the session that held it
 * here ends (4001), without a word to the directory, which is no longer
 * its to change.
 */

static void
ngx_http_parley_kick(ngx_http_parley_room_t *room, const parley_event_t *ev)
{
    ngx_queue_t                *q;
    ngx_http_parley_session_t  *s;

    for (q = ngx_queue_head(&room->sessions);
         q != ngx_queue_sentinel(&room->sessions);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_parley_session_t, room_queue);

        if (s->participant_id == ev->participant_id
            && s->attach != ev->attach)
        {
            ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                          "parley: participant %uL resumed on another "
                          "connection, closing this one",
                          s->participant_id);

            ngx_http_parley_room_detach(s);
            ngx_http_parley_ws_close(s, NGX_HTTP_PARLEY_REPLACED);
            return;
        }
    }
}


/*
 * A conversation event from the inbox (joined, left, away, back, kick,
 * closed): tell this worker's sessions in the room.
 */

void
ngx_http_parley_signal_event(const parley_event_t *ev)
{
    json_t                  *msg;
    ngx_http_parley_room_t  *room;

    room = ngx_http_parley_room_lookup(ev->room_uid);

    if (room == NULL) {
        return;
    }

    switch (ev->code) {

    case PARLEY_EV_JOINED:

        /*
         * Ids only grow: a session with a larger id joined later, and its
         * own roster already had this participant.
         */

        ngx_http_parley_event_came(room, ev, "participant-joined",
                                   ev->participant_id);
        return;

    case PARLEY_EV_LEFT:
        ngx_http_parley_event_gone(room, ev, "participant-left");
        return;

    case PARLEY_EV_AWAY:
        ngx_http_parley_event_gone(room, ev, "participant-away");
        return;

    case PARLEY_EV_BACK:
        ngx_http_parley_event_came(room, ev, "participant-back", UINT64_MAX);
        return;

    case PARLEY_EV_KICK:
        ngx_http_parley_kick(room, ev);
        return;

    case PARLEY_EV_CLOSED:

        msg = json_pack("{s:s, s:s, s:s}", "type", "closed",
                        "room", room->id,
                        "reason", ngx_http_parley_reason_name(ev->reason));

        ngx_http_parley_room_broadcast(room, msg, 0, UINT64_MAX);

        /* the last detach frees the room record */

        while (!ngx_queue_empty(&room->sessions)) {
            ngx_http_parley_room_detach(
                ngx_queue_data(ngx_queue_head(&room->sessions),
                               ngx_http_parley_session_t, room_queue));
        }

        return;

    default:                    /* the inbox's table sends no other */
        return;
    }
}


/*
 * "participant-joined" or "participant-back" to the room's sessions here
 * whose ids are below "below", with the participant as the directory has
 * it; nothing if it is gone again already (its "left" follows).
 */

static void
ngx_http_parley_event_came(ngx_http_parley_room_t *room,
    const parley_event_t *ev, const char *type, uint64_t below)
{
    json_t                *who;
    parley_dir_t          *dir;
    parley_participant_t  *p;

    dir = ngx_http_parley_worker.dir;

    parley_dir_lock(dir, ngx_http_parley_worker.pid);

    p = parley_dir_participant(dir, ev->participant);
    who = (p->id == ev->participant_id)
          ? ngx_http_parley_participant_json(p) : NULL;

    parley_dir_unlock(dir, ngx_http_parley_worker.pid);

    if (who == NULL) {
        return;
    }

    ngx_http_parley_room_broadcast(room,
        json_pack("{s:s, s:s, s:o}", "type", type, "room", room->id,
                  "participant", who),
        ev->participant_id, below);
}


/*
 * "participant-left" or "participant-away" to the room's sessions here;
 * its tracks went with its connection, or with its worker.
 */

static void
ngx_http_parley_event_gone(ngx_http_parley_room_t *room,
    const parley_event_t *ev, const char *type)
{
    json_t  *msg;
    u_char   id[NGX_INT64_LEN + 1];

    *ngx_sprintf(id, "%uL", ev->participant_id) = '\0';

    msg = json_pack("{s:s, s:s, s:s, s:s}", "type", type,
                    "room", room->id, "id", (char *) id,
                    "reason", ngx_http_parley_reason_name(ev->reason));

    ngx_http_parley_room_broadcast(room, msg, ev->participant_id,
                                   UINT64_MAX);

    ngx_http_parley_media_tracks_changed(room);
}


/*
 * The inbox overflowed and events were lost: give every local participant
 * a fresh roster, and let go of those the directory no longer holds.
 */

void
ngx_http_parley_signal_resync(void)
{
    json_t                     *msg;
    uint32_t                    n;
    ngx_uint_t                  member;
    ngx_queue_t                *q, *next;
    parley_dir_t               *dir;
    parley_participant_t       *p;
    ngx_http_parley_session_t  *s;

    dir = ngx_http_parley_worker.dir;

    for (q = ngx_queue_head(&ngx_http_parley_worker.sessions);
         q != ngx_queue_sentinel(&ngx_http_parley_worker.sessions);
         q = next)
    {
        next = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_http_parley_session_t, queue);

        if (s->room == NULL) {
            continue;
        }

        parley_dir_lock(dir, ngx_http_parley_worker.pid);

        p = parley_dir_participant(dir, s->participant);
        member = (p->id == s->participant_id);
        n = member ? ngx_http_parley_roster_copy_locked(dir, p->room) : 0;

        parley_dir_unlock(dir, ngx_http_parley_worker.pid);

        if (member) {
            msg = json_pack("{s:s, s:s, s:o}", "type", "roster",
                            "room", s->room->id,
                            "participants", ngx_http_parley_roster_json(n));
        } else {
            msg = json_pack("{s:s, s:s, s:s}", "type", "closed",
                            "room", s->room->id, "reason", "removed");
            ngx_http_parley_room_detach(s);
        }

        (void) ngx_http_parley_send(s, msg);
    }

    /* track changes were lost with the rest: every subscriber catches up */
    ngx_http_parley_media_tracks_changed(NULL);
}


static void
ngx_http_parley_entry_locked(parley_dir_t *dir, uint32_t room, uint32_t p,
    ngx_http_parley_entry_t *entry)
{
    parley_room_t  *r;

    r = parley_dir_room(dir, room);

    entry->room_uid = r->uid;
    entry->room = room;
    entry->participant = p;
    entry->participant_id = parley_dir_participant(dir, p)->id;
    entry->attach = parley_dir_participant(dir, p)->attach;
    entry->roster = ngx_http_parley_roster_copy_locked(dir, room);
    ngx_cpystrn((u_char *) entry->id, (u_char *) r->id, sizeof(entry->id));
}


static ngx_int_t
ngx_http_parley_entered(ngx_http_parley_req_t *req, const char *type,
    ngx_http_parley_entry_t *entry)
{
    json_t                     *msg;
    uint32_t                    i;
    ngx_str_t                   raw, text;
    u_char                      secret[NGX_HTTP_PARLEY_SECRET_TEXT + 4];
    parley_participant_t       *me, *roster;
    ngx_http_parley_session_t  *s;

    s = req->session;
    roster = ngx_http_parley_worker.roster;
    me = NULL;

    for (i = 0; i < entry->roster; i++) {
        if (roster[i].id == entry->participant_id) {
            me = &roster[i];
        }
    }

    if (me == NULL) {
        /* the roster was cut at max_participants before reaching us */
        return ngx_http_parley_error(s, req->ref, "internal", NULL,
                                     "internal error");
    }

    s->participant = entry->participant;
    s->participant_id = entry->participant_id;
    s->attach = entry->attach;

    ngx_http_parley_room_attach(s, entry);

    /* the secret that lets this participant, and only it, come back */

    raw.data = entry->secret;
    raw.len = sizeof(entry->secret);
    text.data = secret;
    ngx_encode_base64url(&text, &raw);
    secret[text.len] = '\0';

    msg = json_pack("{s:s, s:s, s:o, s:o, s:s}", "type", type,
                    "room", entry->id,
                    "you", ngx_http_parley_participant_json(me),
                    "participants",
                    ngx_http_parley_roster_json(entry->roster),
                    "resume", (char *) secret);

    return ngx_http_parley_answer(req, msg);
}


static ngx_int_t
ngx_http_parley_error(ngx_http_parley_session_t *s, json_t *ref,
    const char *code, const char *field, const char *fmt, ...)
{
    u_char    *p;
    json_t    *msg;
    va_list    args;
    u_char     text[256];

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    msg = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
                    "message", (char *) text);

    if (msg && field) {
        json_object_set_new(msg, "field", json_string(field));
    }

    if (msg && ref) {
        json_object_set(msg, "ref", ref);
    }

    /* a client's mistake is the operator's concern only at info level */

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "parley: refused a client message: %s: %s", code, text);

    ngx_http_parley_count(client_errors);

    return ngx_http_parley_send(s, msg);
}


/* Answers the request: msg with the request's ref, if it had one. */

static ngx_int_t
ngx_http_parley_answer(ngx_http_parley_req_t *req, json_t *msg)
{
    if (msg && req->ref) {
        json_object_set(msg, "ref", req->ref);
    }

    return ngx_http_parley_send(req->session, msg);
}


/* Sends msg to the session's client and releases it. */

static ngx_int_t
ngx_http_parley_send(ngx_http_parley_session_t *s, json_t *msg)
{
    char       *text;
    ngx_int_t   rc;

    if (msg == NULL) {
        ngx_log_error(NGX_LOG_ALERT, s->connection->log, 0,
                      "parley: could not build a message: no memory");
        return NGX_ERROR;
    }

    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);

    if (text == NULL) {
        ngx_log_error(NGX_LOG_ALERT, s->connection->log, 0,
                      "parley: json_dumps() failed");
        return NGX_ERROR;
    }

    rc = ngx_http_parley_ws_send_text(s, text, ngx_strlen(text));

    free(text);

    return rc;
}


/*
 * Reads a string member. Returns NGX_OK with *value set (NULL when an
 * optional member is absent), or NGX_ERROR after telling the client.
 */

static ngx_int_t
ngx_http_parley_get_string(ngx_http_parley_req_t *req, const char *field,
    ngx_uint_t required, size_t max, const char **value)
{
    json_t  *v;

    v = json_object_get(req->msg, field);
    *value = NULL;

    if (v == NULL || json_is_null(v)) {
        if (!required) {
            return NGX_OK;
        }

        (void) ngx_http_parley_error(req->session, req->ref, "missing_field",
                                     field, "\"%s\" is required", field);
        return NGX_ERROR;
    }

    if (!json_is_string(v)) {
        (void) ngx_http_parley_error(req->session, req->ref, "wrong_type",
                                     field, "\"%s\" must be a string",
                                     field);
        return NGX_ERROR;
    }

    if (json_string_length(v) > max) {
        (void) ngx_http_parley_error(req->session, req->ref, "too_long",
                                     field, "\"%s\" is longer than %uz "
                                     "bytes", field, max);
        return NGX_ERROR;
    }

    if (ngx_strlen(json_string_value(v)) != json_string_length(v)) {
        (void) ngx_http_parley_error(req->session, req->ref, "invalid_value",
                                     field, "\"%s\" holds a NUL character",
                                     field);
        return NGX_ERROR;
    }

    *value = json_string_value(v);

    return NGX_OK;
}


/* The "name" and "email" members of create and join. */

static ngx_int_t
ngx_http_parley_get_member(ngx_http_parley_req_t *req,
    parley_member_t *member)
{
    const u_char  *c;

    ngx_memzero(member, sizeof(parley_member_t));

    if (ngx_http_parley_get_string(req, "name", 1, PARLEY_NAME_MAX,
                                   &member->name)
        != NGX_OK
        || ngx_http_parley_get_string(req, "email", 0, PARLEY_EMAIL_MAX,
                                      &member->email)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (c = (const u_char *) member->name; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            break;
        }
    }

    if (*member->name == '\0' || *c != '\0') {
        (void) ngx_http_parley_error(req->session, req->ref, "invalid_value",
                                     "name", "\"name\" must not be empty "
                                     "nor hold control characters");
        return NGX_ERROR;
    }

    if (member->email && !ngx_http_parley_email_valid(member->email)) {
        (void) ngx_http_parley_error(req->session, req->ref, "invalid_value",
                                     "email", "\"email\" must look like "
                                     "\"name@domain\"");
        return NGX_ERROR;
    }

    member->guest = (member->email != NULL);
    member->inbox = ngx_http_parley_worker.inbox;

    return NGX_OK;
}


/* local@domain: both parts present, no spaces or control characters. */

static ngx_int_t
ngx_http_parley_email_valid(const char *email)
{
    const u_char  *p, *at;

    at = NULL;

    for (p = (const u_char *) email; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f) {
            return 0;
        }

        if (*p == '@') {
            if (at) {
                return 0;
            }

            at = p;
        }
    }

    return at != NULL && at != (const u_char *) email && at[1] != '\0';
}


static ngx_int_t
ngx_http_parley_room_id_valid(const char *id)
{
    const u_char  *p;

    for (p = (const u_char *) id; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
        {
            return 0;
        }
    }

    return p != (const u_char *) id;
}


/*
 * 16 characters from a 32-letter alphabet without look-alikes (no l, o, 0,
 * 1): 80 random bits, unguessable, and easy to read aloud or retype.
 */

static ngx_int_t
ngx_http_parley_room_id_generate(char *id)
{
    ngx_uint_t  i;
    u_char      rnd[NGX_HTTP_PARLEY_ROOM_ID_LEN];

    static const char  alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

    if (ngx_http_parley_random(rnd, sizeof(rnd)) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_PARLEY_ROOM_ID_LEN; i++) {
        id[i] = alphabet[rnd[i] & 31];
    }

    id[i] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_parley_rc_error(ngx_http_parley_req_t *req, parley_rc_t rc)
{
    ngx_http_parley_session_t  *s;

    s = req->session;

    switch (rc) {

    case PARLEY_ERR_ROOM_NOT_FOUND:
        return ngx_http_parley_error(s, req->ref, "room_not_found", "room",
                                     "no conversation with that id");

    case PARLEY_ERR_ROOM_FULL:
        return ngx_http_parley_error(s, req->ref, "room_full", NULL,
                                     "the conversation is full");

    case PARLEY_ERR_TOO_MANY_ROOMS:
        ngx_log_error(NGX_LOG_WARN, s->connection->log, 0,
                      "parley: parley_max_rooms reached");
        return ngx_http_parley_error(s, req->ref, "too_many_rooms", NULL,
                                     "the server holds as many "
                                     "conversations as it may");

    case PARLEY_ERR_SERVER_FULL:
        ngx_log_error(NGX_LOG_WARN, s->connection->log, 0,
                      "parley: parley_zone is full of participants");
        return ngx_http_parley_error(s, req->ref, "server_full", NULL,
                                     "the server holds as many "
                                     "participants as it may");

    default:
        ngx_log_error(NGX_LOG_ALERT, s->connection->log, 0,
                      "parley: directory failed: %s", parley_rc_str(rc));
        return ngx_http_parley_error(s, req->ref, "internal", NULL,
                                     "internal error");
    }
}


static json_t *
ngx_http_parley_participant_json(parley_participant_t *p)
{
    u_char  id[NGX_INT64_LEN + 1];

    *ngx_sprintf(id, "%uL", p->id) = '\0';

    return json_pack("{s:s, s:s, s:s, s:b, s:b}",
                     "id", (char *) id,
                     "name", p->name,
                     "role", (p->role == PARLEY_ROLE_ORGANISER)
                             ? "organiser" : "participant",
                     "guest", p->guest,
                     "away", parley_dir_is_away(p));
}


static json_t *
ngx_http_parley_roster_json(uint32_t n)
{
    json_t    *list;
    uint32_t   i;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (json_array_append_new(list,
                ngx_http_parley_participant_json(
                    &ngx_http_parley_worker.roster[i]))
            != 0)
        {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


/* Copies the room's participants to the worker's scratch roster. */

static uint32_t
ngx_http_parley_roster_copy_locked(parley_dir_t *dir, uint32_t room)
{
    uint32_t  p, n;

    n = 0;

    for (p = parley_dir_room_first(dir, room);
         p != PARLEY_NONE && n < ngx_http_parley_worker.conf->max_participants;
         p = parley_dir_room_next(dir, p))
    {
        ngx_memcpy(&ngx_http_parley_worker.roster[n++],
                   parley_dir_participant(dir, p),
                   sizeof(parley_participant_t));
    }

    return n;
}


/* The inbox slots of the workers holding the room's participants. */

static void
ngx_http_parley_slots_locked(parley_dir_t *dir, uint32_t room,
    ngx_http_parley_slots_t *slots)
{
    parley_dir_room_slots_locked(dir, room, PARLEY_DIR_NO_INBOX,
                                 slots->mask);
}


static void
ngx_http_parley_announce(ngx_http_parley_slots_t *slots, parley_event_t *ev)
{
    uint16_t  slot;

    for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {
        if (slots->mask[slot / 64] & ((uint64_t) 1 << (slot % 64))) {
            ngx_http_parley_inbox_send(slot, ev);
        }
    }
}


static void
ngx_http_parley_room_attach(ngx_http_parley_session_t *s,
    ngx_http_parley_entry_t *entry)
{
    ngx_http_parley_room_t  *room;

    room = ngx_http_parley_room_lookup(entry->room_uid);

    if (room == NULL) {
        room = ngx_alloc(sizeof(ngx_http_parley_room_t),
                         s->connection->log);
        if (room == NULL) {
            return;
        }

        room->node.key = entry->room_uid;
        room->index = entry->room;
        ngx_memcpy(room->id, entry->id, sizeof(room->id));
        ngx_queue_init(&room->sessions);
        room->speaker = NULL;
        ngx_rbtree_insert(&ngx_http_parley_worker.rooms, &room->node);
    }

    ngx_queue_insert_tail(&room->sessions, &s->room_queue);
    s->room = room;
}


static void
ngx_http_parley_room_detach(ngx_http_parley_session_t *s)
{
    ngx_http_parley_room_t  *room;

    room = s->room;

    if (room == NULL) {
        return;
    }

    ngx_http_parley_media_session_closed(s);

    ngx_queue_remove(&s->room_queue);
    ngx_queue_init(&s->room_queue);
    s->room = NULL;
    s->participant = PARLEY_NONE;
    s->participant_id = 0;

    if (ngx_queue_empty(&room->sessions)) {
        ngx_http_parley_speaker_destroy(room);
        ngx_rbtree_delete(&ngx_http_parley_worker.rooms, &room->node);
        ngx_free(room);
    }
}


ngx_http_parley_room_t *
ngx_http_parley_room_lookup(uint64_t uid)
{
    ngx_rbtree_node_t  *node, *sentinel;

    node = ngx_http_parley_worker.rooms.root;
    sentinel = ngx_http_parley_worker.rooms.sentinel;

    while (node != sentinel) {

        if (uid == node->key) {
            return (ngx_http_parley_room_t *) node;
        }

        node = (uid < node->key) ? node->left : node->right;
    }

    return NULL;
}


/*
 * Sends msg to the room's sessions on this worker, except the participant
 * "except" and those whose participant id is not below "below".
 */

static void
ngx_http_parley_room_broadcast(ngx_http_parley_room_t *room, json_t *msg,
    uint64_t except, uint64_t below)
{
    char                       *text;
    size_t                      len;
    ngx_queue_t                *q;
    ngx_http_parley_session_t  *s;

    if (msg == NULL) {
        return;
    }

    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);

    if (text == NULL) {
        return;
    }

    len = ngx_strlen(text);

    for (q = ngx_queue_head(&room->sessions);
         q != ngx_queue_sentinel(&room->sessions);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_parley_session_t, room_queue);

        if (s->participant_id != except && s->participant_id < below) {
            (void) ngx_http_parley_ws_send_text(s, text, len);
        }
    }

    free(text);
}


static const char *
ngx_http_parley_reason_name(uint32_t reason)
{
    switch (reason) {
    case PARLEY_REASON_LEFT:
        return "left";
    case PARLEY_REASON_DISCONNECTED:
        return "disconnected";
    case PARLEY_REASON_WORKER_DIED:
        return "worker_died";
    case PARLEY_REASON_KICKED:
        return "kicked";
    case PARLEY_REASON_ORGANISER_CLOSED:
        return "organiser_closed";
    case PARLEY_REASON_ORGANISER_LEFT:
        return "organiser_left";
    case PARLEY_REASON_SHUTDOWN:
        return "server_restart";
    default:
        return "unknown";
    }
}
