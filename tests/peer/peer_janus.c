/*
 * The Janus signaling adapter: the Janus API over WebSocket (subprotocol
 * "janus-protocol") with the VideoRoom plugin, so that the same test peer
 * measures Janus side by side with parley.
 *
 * Each participant has its own WebSocket and session: create, attach
 * janus.plugin.videoroom, join. A publisher joins as "publisher" and sends
 * "publish" with its offer; the feed id Janus gives it stands for the
 * "room" the other processes are told (--room FEED). A subscriber joins as
 * "subscriber" to that feed, gets Janus's offer, and answers with "start";
 * any later offer (an "updated" event) is answered the same way. Sessions
 * are kept alive every PEER_JANUS_KEEPALIVE_MS (Janus drops them after
 * session_timeout).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"


#define PEER_SDP_MAX               16384
#define PEER_JANUS_KEEPALIVE_MS    20000


typedef struct {
    json_int_t   session;
    json_int_t   handle;
    unsigned     tx;
    uint64_t     keepalive_ms;
} peer_janus_t;


static peer_janus_t *
peer_janus_state(peer_party_t *p)
{
    if (p->sig == NULL) {
        p->sig = calloc(1, sizeof(peer_janus_t));
        if (p->sig == NULL) {
            peer_log("out of memory");
            exit(2);
        }
    }

    return p->sig;
}


/* Every request carries a transaction; its name says what it was. */
static int
peer_janus_send(peer_party_t *p, const char *what, json_t *m)
{
    char           tx[48];
    peer_janus_t  *j = peer_janus_state(p);

    snprintf(tx, sizeof(tx), "%s-%u", what, ++j->tx);
    json_object_set_new(m, "transaction", json_string(tx));

    if (j->session != 0) {
        json_object_set_new(m, "session_id", json_integer(j->session));
    }

    if (j->handle != 0
        && (strcmp(json_string_value(json_object_get(m, "janus")),
                   "message") == 0
            || strcmp(json_string_value(json_object_get(m, "janus")),
                      "trickle") == 0))
    {
        json_object_set_new(m, "handle_id", json_integer(j->handle));
    }

    return peer_party_send(p, m);
}


static void
peer_janus_message(peer_party_t *p, const char *what, json_t *body,
    const char *jsep_type, const char *sdp)
{
    json_t  *m;

    m = json_pack("{s:s, s:o}", "janus", "message", "body", body);

    if (sdp != NULL) {
        json_object_set_new(m, "jsep", json_pack("{s:s, s:s}", "type",
                                                 jsep_type, "sdp", sdp));
    }

    (void) peer_janus_send(p, what, m);
}


/*
 * Our one candidate is in the SDP; Janus waits for the end of trickling
 * (RFC 8838 4.4) before it lets ICE fail, so say it is over.
 */
static void
peer_janus_trickle_done(peer_party_t *p)
{
    json_t  *m;

    m = json_pack("{s:s, s:{s:b}}", "janus", "trickle", "candidate",
                  "completed", 1);
    (void) peer_janus_send(p, "trickle", m);
}


static void
peer_janus_on_open(peer_party_t *p)
{
    if (p->run->want_worker >= 0) {
        peer_party_fail(p, "--worker means nothing to Janus");
        return;
    }

    (void) peer_janus_send(p, "create", json_pack("{s:s}", "janus",
                                                  "create"));
}


static void
peer_janus_join(peer_party_t *p)
{
    char       *end;
    json_t     *body;
    long long   feed;

    if (p->publisher) {
        body = json_pack("{s:s, s:s, s:I, s:s}", "request", "join",
                         "ptype", "publisher",
                         "room", (json_int_t) p->run->janus_room,
                         "display", p->name);
    } else {
        feed = strtoll(p->run->room, &end, 10);
        if (*end != '\0' || feed <= 0) {
            peer_party_fail(p, "--room \"%s\" is not a Janus feed id",
                            p->run->room);
            return;
        }

        body = json_pack("{s:s, s:s, s:I, s:[{s:I}]}", "request", "join",
                         "ptype", "subscriber",
                         "room", (json_int_t) p->run->janus_room,
                         "streams", "feed", (json_int_t) feed);
    }

    peer_janus_message(p, "join", body, NULL, NULL);
}


static void
peer_janus_on_success(peer_party_t *p, json_t *msg, const char *tx)
{
    json_int_t     id;
    peer_janus_t  *j = peer_janus_state(p);

    id = json_integer_value(json_object_get(json_object_get(msg, "data"),
                                            "id"));

    if (strncmp(tx, "create-", 7) == 0) {
        j->session = id;
        j->keepalive_ms = peer_now_ms() + PEER_JANUS_KEEPALIVE_MS;
        (void) peer_janus_send(p, "attach",
                               json_pack("{s:s, s:s}", "janus", "attach",
                                         "plugin", "janus.plugin.videoroom"));

    } else if (strncmp(tx, "attach-", 7) == 0) {
        j->handle = id;
        peer_janus_join(p);
    }
}


static void
peer_janus_publish(peer_party_t *p, json_t *data)
{
    char        sdp[PEER_SDP_MAX], feed[32];
    json_int_t  id;

    id = json_integer_value(json_object_get(data, "id"));
    snprintf(feed, sizeof(feed), "%" JSON_INTEGER_FORMAT, id);
    peer_party_entered(p, feed);

    if (peer_party_publish_offer(p, sdp, sizeof(sdp)) == NULL) {
        return;
    }

    peer_janus_message(p, "publish",
                       json_pack("{s:s, s:b, s:b}", "request", "publish",
                                 "audio", 1, "video", 1),
                       "offer", sdp);
    peer_janus_trickle_done(p);
}


static void
peer_janus_on_jsep(peer_party_t *p, json_t *jsep)
{
    char         answer[PEER_SDP_MAX];
    const char  *type, *sdp;

    type = json_string_value(json_object_get(jsep, "type"));
    sdp = json_string_value(json_object_get(jsep, "sdp"));

    if (type == NULL || sdp == NULL) {
        peer_party_fail(p, "a jsep without type or sdp");
        return;
    }

    if (strcmp(type, "answer") == 0 && p->publisher) {
        (void) peer_party_publish_answer(p, sdp);
        return;
    }

    if (strcmp(type, "offer") != 0 || !p->subscriber) {
        peer_party_fail(p, "an unexpected jsep %s", type);
        return;
    }

    if (peer_party_subscribe_offer(p, sdp, answer, sizeof(answer)) == NULL) {
        return;
    }

    peer_janus_message(p, "start", json_pack("{s:s}", "request", "start"),
                       "answer", answer);
    peer_janus_trickle_done(p);
}


static void
peer_janus_on_event(peer_party_t *p, json_t *msg)
{
    json_t       *data, *jsep, *err;
    const char   *what;

    data = json_object_get(json_object_get(msg, "plugindata"), "data");
    what = json_string_value(json_object_get(data, "videoroom"));
    err = json_object_get(data, "error");

    if (err != NULL) {
        peer_party_fail(p, "VideoRoom error %" JSON_INTEGER_FORMAT ": %s",
                        json_integer_value(json_object_get(data,
                                                           "error_code")),
                        json_string_value(err) ?: "");
        return;
    }

    if (what != NULL && strcmp(what, "joined") == 0 && p->publisher) {
        peer_janus_publish(p, data);
        return;
    }

    if (what != NULL && strcmp(what, "attached") == 0) {
        p->in_room = 1;
    }

    jsep = json_object_get(msg, "jsep");
    if (jsep != NULL) {
        peer_janus_on_jsep(p, jsep);
    }
}


static void
peer_janus_on_message(peer_party_t *p, json_t *msg)
{
    const char  *janus, *tx;

    janus = json_string_value(json_object_get(msg, "janus"));
    tx = json_string_value(json_object_get(msg, "transaction"));

    if (janus == NULL) {
        peer_party_fail(p, "a Janus message without \"janus\"");
        return;
    }

    if (strcmp(janus, "success") == 0 && tx != NULL) {
        peer_janus_on_success(p, msg, tx);

    } else if (strcmp(janus, "event") == 0) {
        peer_janus_on_event(p, msg);

    } else if (strcmp(janus, "error") == 0) {
        peer_party_fail(p, "Janus error: %s",
                        json_string_value(json_object_get(
                            json_object_get(msg, "error"), "reason")) ?: "?");

    } else if (strcmp(janus, "hangup") == 0 || strcmp(janus, "timeout") == 0
               || strcmp(janus, "detached") == 0)
    {
        peer_party_fail(p, "Janus: %s (%s)", janus,
                        json_string_value(json_object_get(msg, "reason"))
                        ?: "no reason");
    }

    /* ack, webrtcup, media, slowlink, trickle: nothing to do */
}


static void
peer_janus_tick(peer_party_t *p, uint64_t now)
{
    peer_janus_t  *j = p->sig;

    if (j != NULL && j->session != 0 && now >= j->keepalive_ms) {
        j->keepalive_ms = now + PEER_JANUS_KEEPALIVE_MS;
        (void) peer_janus_send(p, "keepalive",
                               json_pack("{s:s}", "janus", "keepalive"));
    }
}


const peer_signaling_t  peer_signaling_janus = {
    "janus",
    "janus-protocol",
    peer_janus_on_open,
    peer_janus_on_message,
    peer_janus_tick
};
