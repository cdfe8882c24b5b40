/*
 * The parley signaling adapter (docs/protocol.md): hello, create or join,
 * publish / publish-answer, subscribe / subscribe-offer / subscribe-answer.
 *
 * Every subscribe-offer is answered, the first and every unsolicited
 * re-offer after it (tracks come and go on the same peer connection).
 * A subscribe sent before anyone publishes gets its offer later.
 */

#include <stdio.h>
#include <string.h>

#include "peer.h"


#define PEER_SDP_MAX               16384
#define PEER_RESUBSCRIBE_MS        500


static void
peer_parley_enter(peer_party_t *p)
{
    json_t  *m;

    if (p->creator) {
        m = json_pack("{s:s, s:s}", "type", "create", "name", p->name);
    } else {
        m = json_pack("{s:s, s:s, s:s}", "type", "join", "room",
                      p->run->room, "name", p->name);
    }

    (void) peer_party_send(p, m);
}


static void
peer_parley_on_hello(peer_party_t *p, json_t *msg)
{
    json_t  *w;

    w = json_object_get(msg, "worker");
    p->worker = json_is_integer(w) ? (int) json_integer_value(w) : -1;

    if (p->run->want_worker >= 0 && p->worker != p->run->want_worker) {
        peer_party_reconnect(p);
        return;
    }

    peer_parley_enter(p);
}


static void
peer_parley_publish(peer_party_t *p)
{
    char   sdp[PEER_SDP_MAX];

    if (peer_party_publish_offer(p, sdp, sizeof(sdp)) == NULL) {
        return;
    }

    (void) peer_party_send(p, json_pack("{s:s, s:s}", "type", "publish",
                                        "sdp", sdp));
}


static void
peer_parley_in_room(peer_party_t *p, json_t *msg)
{
    const char  *room;

    room = json_string_value(json_object_get(msg, "room"));
    if (room == NULL) {
        peer_party_fail(p, "created/joined without a room");
        return;
    }

    peer_party_entered(p, room);

    if (p->publisher) {
        peer_parley_publish(p);
    }

    if (p->subscriber) {
        (void) peer_party_send(p, json_pack("{s:s}", "type", "subscribe"));

        /* answered in order: its pong says the subscribe was taken */
        (void) peer_party_send(p, json_pack("{s:s}", "type", "ping"));
    }
}


/* The entry of "tracks" for a mid, NULL if none. */
static json_t *
peer_parley_track(json_t *tracks, const char *mid)
{
    size_t       i;
    json_t      *t;
    const char  *m;

    json_array_foreach(tracks, i, t) {
        m = json_string_value(json_object_get(t, "mid"));
        if (m != NULL && strcmp(m, mid) == 0) {
            return t;
        }
    }

    return NULL;
}


/*
 * docs/protocol.md: "tracks" says whose track each active section carries
 * and what it is. Every section that sends (it has SSRCs) must be named,
 * with a participant and a kind that fits the section; an offer without
 * "tracks" (older servers) is taken as it is.
 */
static int
peer_parley_check_tracks(peer_party_t *p, json_t *tracks,
    const parley_sdp_t *offer)
{
    uint32_t                   i;
    json_t                    *t;
    const char                *kind;
    const parley_sdp_media_t  *m;

    if (tracks == NULL) {
        return 0;
    }

    if (!json_is_array(tracks)) {
        peer_party_fail(p, "subscribe-offer: \"tracks\" is not an array");
        return -1;
    }

    for (i = 0; i < offer->n_media; i++) {
        m = &offer->media[i];

        if (m->port == 0 || m->dir != PARLEY_SDP_DIR_SENDONLY
            || m->n_ssrcs == 0)
        {
            continue;
        }

        t = peer_parley_track(tracks, m->mid);
        kind = json_string_value(json_object_get(t, "kind"));

        if (t == NULL || kind == NULL
            || !json_is_string(json_object_get(t, "participant"))
            || (m->kind == PARLEY_SDP_AUDIO && strcmp(kind, "audio") != 0)
            || (m->kind == PARLEY_SDP_VIDEO && strcmp(kind, "video") != 0
                && strcmp(kind, "screen") != 0))
        {
            peer_party_fail(p, "subscribe-offer: \"tracks\" does not "
                            "describe section %s (%s) rightly", m->mid,
                            m->media);
            return -1;
        }
    }

    return 0;
}


static void
peer_parley_on_offer(peer_party_t *p, json_t *msg)
{
    char         answer[PEER_SDP_MAX];
    const char  *sdp;

    sdp = json_string_value(json_object_get(msg, "sdp"));
    if (sdp == NULL) {
        peer_party_fail(p, "subscribe-offer without sdp");
        return;
    }

    if (peer_party_subscribe_offer(p, sdp, answer, sizeof(answer)) == NULL
        || peer_parley_check_tracks(p, json_object_get(msg, "tracks"),
                                    peer_sdp_scratch()) != 0)
    {
        return;
    }

    (void) peer_party_send(p, json_pack("{s:s, s:s}", "type",
                                        "subscribe-answer", "sdp", answer));
}


static void
peer_parley_on_error(peer_party_t *p, json_t *msg)
{
    const char  *code, *text;

    code = json_string_value(json_object_get(msg, "code"));
    text = json_string_value(json_object_get(msg, "message"));

    /* servers before offers-on-publish refuse an early subscribe */
    if (code != NULL && strcmp(code, "nothing_to_subscribe") == 0) {
        p->retry_ms = peer_now_ms() + PEER_RESUBSCRIBE_MS;
        return;
    }

    peer_party_fail(p, "server error %s: %s", code ? code : "?",
                    text ? text : "");
}


static void
peer_parley_on_message(peer_party_t *p, json_t *msg)
{
    const char  *type;

    type = json_string_value(json_object_get(msg, "type"));
    if (type == NULL) {
        peer_party_fail(p, "a server message without a type");
        return;
    }

    if (strcmp(type, "hello") == 0) {
        peer_parley_on_hello(p, msg);

    } else if (strcmp(type, "created") == 0 || strcmp(type, "joined") == 0) {
        peer_parley_in_room(p, msg);

    } else if (strcmp(type, "publish-answer") == 0) {
        (void) peer_party_publish_answer(p,
                   json_string_value(json_object_get(msg, "sdp")) ?: "");

    } else if (strcmp(type, "subscribe-offer") == 0) {
        peer_parley_on_offer(p, msg);

    } else if (strcmp(type, "error") == 0) {
        peer_parley_on_error(p, msg);

    } else if (strcmp(type, "closed") == 0) {
        /* the organiser left: the run ends, what it measured stands */
        peer_log("%s: the conversation was closed (%s)", p->name,
                 json_string_value(json_object_get(msg, "reason")) ?: "?");
        p->run->ended = 1;

    } else if (strcmp(type, "left") == 0) {
        peer_party_fail(p, "the server says we left the conversation");

    } else if (strcmp(type, "pong") == 0) {
        p->subscribed = p->subscriber;

    } else if (strcmp(type, "paused") == 0 && p->sub_made) {
        peer_bandwidth_paused(&p->sub,
                              json_is_true(json_object_get(msg, "paused")));
    }

    /* participant-joined, participant-left, roster: nothing to do */
}


static void
peer_parley_on_open(peer_party_t *p)
{
    (void) p;                       /* the server speaks first: hello */
}


static void
peer_parley_tick(peer_party_t *p, uint64_t now)
{
    if (p->retry_ms != 0 && now >= p->retry_ms) {
        p->retry_ms = 0;
        (void) peer_party_send(p, json_pack("{s:s}", "type", "subscribe"));
    }
}


const peer_signaling_t  peer_signaling_parley = {
    "parley",
    NULL,
    peer_parley_on_open,
    peer_parley_on_message,
    peer_parley_tick
};
