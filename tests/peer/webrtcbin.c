/*
 * parley-webrtcbin: GStreamer's webrtcbin (Debian's gstreamer1.0-plugins-
 * bad) as a parley client, to show that a WebRTC stack other than the
 * browsers' publishes and subscribes through parley unchanged.
 *
 *   parley-webrtcbin --url URL --publish --room-file F [--duration S]
 *       creates a conversation, writes "ROOM WORKER" to F, and sends a VP8
 *       camera-like stream and Opus audio for S seconds (default 10), or
 *       until SIGTERM
 *   parley-webrtcbin --url URL --room ROOM --subscribe [--duration S]
 *       [--min-frames N]
 *       joins ROOM, answers every subscribe-offer and decodes what arrives
 *       until it has N (default 30) video frames and some audio, or S
 *       seconds (default 5) have passed; prints
 *       {"video_frames":N,"audio_buffers":N,"offers":N}, and exits 1 when
 *       it did not get that far
 *
 * Everything runs in one GLib main loop: the WebSocket (libsoup) and the
 * handlers of webrtcbin's promises, which webrtcbin resolves on its own
 * thread and which hop to the loop with g_main_context_invoke(). libnice
 * skips loopback when it gathers, so 127.0.0.1 is added to the ICE agent
 * by hand (tests/peer/run.sh runs in a namespace with only loopback).
 * PARLEY_WEBRTCBIN_VERBOSE in the environment prints the messages.
 */

#define GST_USE_UNSTABLE_API

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <jansson.h>
#include <libsoup/soup.h>


#define SENDER                                                                \
    "webrtcbin name=w bundle-policy=max-bundle "                              \
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,"         \
    "height=240,framerate=15/1 ! videoconvert ! vp8enc deadline=1 "           \
    "keyframe-max-dist=30 ! rtpvp8pay ! application/x-rtp,media=video,"       \
    "encoding-name=VP8,payload=96 ! w. "                                      \
    "audiotestsrc is-live=true wave=ticks ! audioconvert ! audioresample "    \
    "! opusenc ! rtpopuspay ! application/x-rtp,media=audio,"                 \
    "encoding-name=OPUS,payload=111 ! w."

#define RECEIVER  "webrtcbin name=w bundle-policy=max-bundle"


typedef struct {
    const char               *url;
    const char               *room;
    const char               *room_file;
    int                       publish;
    unsigned                  duration;
    unsigned                  min_frames;

    GMainLoop                *loop;
    SoupSession              *http;
    SoupWebsocketConnection  *ws;
    GstElement               *pipe;
    GstElement               *webrtc;

    gint                      video_frames;
    gint                      audio_buffers;
    unsigned                  offers;
    int                       worker;
    int                       verbose;
    int                       failed;
} client_t;


static client_t  c;


static void
die(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    fprintf(stderr, "parley-webrtcbin: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);

    c.failed = 1;
    g_main_loop_quit(c.loop);
}


static void
send_json(json_t *msg)
{
    char  *text;

    text = json_dumps(msg, JSON_COMPACT);

    if (c.verbose) {
        fprintf(stderr, "> %.200s\n", text);
    }

    soup_websocket_connection_send_text(c.ws, text);
    free(text);
    json_decref(msg);
}


static void
send_sdp(const char *type, GstWebRTCSessionDescription *desc)
{
    char  *text;

    text = gst_sdp_message_as_text(desc->sdp);
    send_json(json_pack("{s:s, s:s}", "type", type, "sdp", text));
    g_free(text);
}


/*
 * webrtcbin's replies: it resolves a promise on its own thread, and the
 * reply is handled on the main loop by the promise's handler.
 */

typedef struct reply_s  reply_t;

struct reply_s {
    GstPromise  *promise;
    const char  *what;
    void       (*handle)(reply_t *r, const GstStructure *s);
};


static gboolean
on_loop(gpointer data)
{
    reply_t             *r = data;
    GError              *error = NULL;
    const GstStructure  *s;

    s = NULL;

    if (gst_promise_wait(r->promise) != GST_PROMISE_RESULT_REPLIED) {
        die("webrtcbin did not answer %s", r->what);

    } else if ((s = gst_promise_get_reply(r->promise)) != NULL
               && gst_structure_has_field(s, "error"))
    {
        gst_structure_get(s, "error", G_TYPE_ERROR, &error, NULL);
        die("webrtcbin refused %s: %s", r->what,
            error ? error->message : "(no message)");
        g_clear_error(&error);

    } else {
        r->handle(r, s);
    }

    gst_promise_unref(r->promise);
    g_free(r);

    return G_SOURCE_REMOVE;
}


static void
replied(GstPromise *promise, gpointer data)
{
    (void) promise;

    g_main_context_invoke(NULL, on_loop, data);
}


static GstPromise *
promise_for(const char *what, void (*handle)(reply_t *r,
    const GstStructure *s))
{
    reply_t  *r;

    r = g_new0(reply_t, 1);
    r->what = what;
    r->handle = handle;
    r->promise = gst_promise_new_with_change_func(replied, r, NULL);

    return gst_promise_ref(r->promise);
}


/* Our offer (publishing) or answer (subscribing): set it, and send it. */
static void
described(reply_t *r, const GstStructure *s)
{
    GstWebRTCSessionDescription  *desc = NULL;

    if (s) {
        gst_structure_get(s, c.publish ? "offer" : "answer",
                          GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
    }

    if (desc == NULL) {
        die("webrtcbin gave no %s", r->what);
        return;
    }

    g_signal_emit_by_name(c.webrtc, "set-local-description", desc, NULL);
    send_sdp(c.publish ? "publish" : "subscribe-answer", desc);
    gst_webrtc_session_description_free(desc);
}


static void
create(const char *signal)
{
    GstPromise  *p;

    if (c.verbose) {
        fprintf(stderr, "= %s\n", signal);
    }

    p = promise_for(signal, described);
    g_signal_emit_by_name(c.webrtc, signal, NULL, p);
    gst_promise_unref(p);
}


/* The server's answer or offer is taken; an offer is answered. */
static void
remote_taken(reply_t *r, const GstStructure *s)
{
    (void) s;

    if (c.verbose) {
        fprintf(stderr, "= webrtcbin took %s\n", r->what);
    }

    if (!c.publish) {
        create("create-answer");
    }
}


static void
set_remote(GstWebRTCSDPType type, const char *text)
{
    GstPromise                   *p;
    GstSDPMessage                *sdp;
    GstWebRTCSessionDescription  *desc;

    if (text == NULL || gst_sdp_message_new_from_text(text, &sdp) != GST_SDP_OK)
    {
        die("GStreamer cannot read the server's SDP");
        return;
    }

    desc = gst_webrtc_session_description_new(type, sdp);
    p = promise_for(type == GST_WEBRTC_SDP_TYPE_OFFER ? "the subscribe-offer"
                                                      : "the publish-answer",
                    remote_taken);
    g_signal_emit_by_name(c.webrtc, "set-remote-description", desc, p);
    gst_promise_unref(p);
    gst_webrtc_session_description_free(desc);
}


/* the receiver: every stream webrtcbin hands out is decoded and counted */

static GstPadProbeReturn
count(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void) pad;
    (void) info;

    g_atomic_int_inc((gint *) data);

    return GST_PAD_PROBE_OK;
}


static void
decoded_pad(GstElement *decodebin, GstPad *pad, gpointer data)
{
    GstCaps       *caps;
    GstPad        *sinkpad;
    GstElement    *sink;
    const char    *name;

    (void) decodebin;
    (void) data;

    caps = gst_pad_get_current_caps(pad);
    name = gst_structure_get_name(gst_caps_get_structure(caps, 0));

    sink = gst_element_factory_make("fakesink", NULL);
    g_object_set(sink, "sync", FALSE, NULL);
    gst_bin_add(GST_BIN(c.pipe), sink);
    gst_element_sync_state_with_parent(sink);
    sinkpad = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sinkpad);

    gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count,
                      g_str_has_prefix(name, "video/") ? &c.video_frames
                                                       : &c.audio_buffers,
                      NULL);

    gst_object_unref(sinkpad);
    gst_caps_unref(caps);
}


static void
incoming_pad(GstElement *webrtc, GstPad *pad, gpointer data)
{
    GstPad      *sinkpad;
    GstElement  *decodebin;

    (void) webrtc;
    (void) data;

    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) {
        return;
    }

    decodebin = gst_element_factory_make("decodebin", NULL);
    g_signal_connect(decodebin, "pad-added", G_CALLBACK(decoded_pad), NULL);
    gst_bin_add(GST_BIN(c.pipe), decodebin);
    gst_element_sync_state_with_parent(decodebin);

    sinkpad = gst_element_get_static_pad(decodebin, "sink");
    gst_pad_link(pad, sinkpad);
    gst_object_unref(sinkpad);
}


static void
negotiation_needed(GstElement *webrtc, gpointer data)
{
    (void) webrtc;
    (void) data;

    create("create-offer");
}


static void
start_pipeline(void)
{
    GError      *error = NULL;
    GstElement  *ice = NULL;
    gboolean     added = FALSE;

    c.pipe = gst_parse_launch(c.publish ? SENDER : RECEIVER, &error);
    if (c.pipe == NULL) {
        die("%s", error->message);
        return;
    }

    /* a lone webrtcbin (itself a bin) is what the receiver's gives */
    if (!GST_IS_PIPELINE(c.pipe)) {
        GstElement  *pipe = gst_pipeline_new(NULL);

        gst_bin_add(GST_BIN(pipe), c.pipe);
        c.pipe = pipe;
    }

    c.webrtc = gst_bin_get_by_name(GST_BIN(c.pipe), "w");

    g_object_get(c.webrtc, "ice-agent", &ice, NULL);
    if (ice) {
        g_signal_emit_by_name(ice, "add-local-ip-address", "127.0.0.1",
                              &added);
        gst_object_unref(ice);
    }

    if (!added) {
        die("cannot add 127.0.0.1 to webrtcbin's ICE agent");
        return;
    }

    if (c.publish) {
        g_signal_connect(c.webrtc, "on-negotiation-needed",
                         G_CALLBACK(negotiation_needed), NULL);

    } else {
        g_signal_connect(c.webrtc, "pad-added", G_CALLBACK(incoming_pad),
                         NULL);
    }

    gst_element_set_state(c.pipe, GST_STATE_PLAYING);
}


/* The subscriber stops as soon as it has decoded what it was asked for. */
static gboolean
enough(gpointer data)
{
    (void) data;

    if ((unsigned) g_atomic_int_get(&c.video_frames) >= c.min_frames
        && g_atomic_int_get(&c.audio_buffers) > 0)
    {
        g_main_loop_quit(c.loop);
        return G_SOURCE_REMOVE;
    }

    return G_SOURCE_CONTINUE;
}


/* The publisher stops on SIGTERM or SIGINT as at the end of its time. */
static gboolean
stop_signal(gpointer data)
{
    (void) data;

    g_main_loop_quit(c.loop);

    return G_SOURCE_REMOVE;
}


static gboolean
time_up(gpointer data)
{
    (void) data;

    g_main_loop_quit(c.loop);

    return G_SOURCE_REMOVE;
}


/* signaling */

static void
on_message(SoupWebsocketConnection *ws, gint type, GBytes *bytes,
    gpointer data)
{
    FILE         *f;
    gsize         len;
    json_t       *msg;
    const char   *t, *text, *room;
    json_error_t  jerr;

    (void) ws;
    (void) type;
    (void) data;

    text = g_bytes_get_data(bytes, &len);

    if (c.verbose) {
        fprintf(stderr, "< %.*s\n", (int) (len > 200 ? 200 : len), text);
    }
    msg = json_loadb(text, len, 0, &jerr);
    t = msg ? json_string_value(json_object_get(msg, "type")) : NULL;

    if (t == NULL) {
        die("the server sent what is not a message: %.*s", (int) len, text);

    } else if (strcmp(t, "hello") == 0) {
        if (c.publish) {
            send_json(json_pack("{s:s, s:s}", "type", "create",
                                "name", "webrtcbin"));
        } else {
            send_json(json_pack("{s:s, s:s, s:s}", "type", "join",
                                "room", c.room, "name", "webrtcbin"));
        }

        c.worker = (int) json_integer_value(json_object_get(msg, "worker"));

    } else if (strcmp(t, "created") == 0 || strcmp(t, "joined") == 0) {
        if (c.publish) {
            room = json_string_value(json_object_get(msg, "room"));
            f = fopen(c.room_file, "w");
            if (f == NULL || room == NULL) {
                die("cannot write %s", c.room_file);
            } else {
                fprintf(f, "%s %d\n", room, c.worker);
                fclose(f);
            }

        } else {
            send_json(json_pack("{s:s}", "type", "subscribe"));
        }

        start_pipeline();
        g_timeout_add_seconds(c.duration, time_up, NULL);

        if (!c.publish) {
            g_timeout_add(100, enough, NULL);
        }

    } else if (strcmp(t, "publish-answer") == 0) {
        set_remote(GST_WEBRTC_SDP_TYPE_ANSWER,
                   json_string_value(json_object_get(msg, "sdp")));

    } else if (strcmp(t, "subscribe-offer") == 0) {
        c.offers++;
        set_remote(GST_WEBRTC_SDP_TYPE_OFFER,
                   json_string_value(json_object_get(msg, "sdp")));

    } else if (strcmp(t, "error") == 0) {
        die("the server answered an error: %.*s", (int) len, text);
    }

    json_decref(msg);
}


static void
on_closed(SoupWebsocketConnection *ws, gpointer data)
{
    (void) ws;
    (void) data;

    die("the server closed the WebSocket (%u)",
        soup_websocket_connection_get_close_code(c.ws));
}


static void
connected(GObject *session, GAsyncResult *res, gpointer data)
{
    GError  *error = NULL;

    (void) data;

    c.ws = soup_session_websocket_connect_finish(SOUP_SESSION(session), res,
                                                 &error);
    if (c.ws == NULL) {
        die("cannot connect to %s: %s", c.url, error->message);
        g_clear_error(&error);
        return;
    }

    g_signal_connect(c.ws, "message", G_CALLBACK(on_message), NULL);
    g_signal_connect(c.ws, "closed", G_CALLBACK(on_closed), NULL);
}


static void
usage(void)
{
    fprintf(stderr,
            "usage: parley-webrtcbin --url URL --publish --room-file F "
            "[--duration S]\n"
            "       parley-webrtcbin --url URL --room ROOM --subscribe "
            "[--duration S] [--min-frames N]\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int           i, subscribe;
    SoupMessage  *msg;

    gst_init(&argc, &argv);

    c.duration = 0;
    c.min_frames = 30;
    subscribe = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--publish") == 0) {
            c.publish = 1;
        } else if (strcmp(argv[i], "--subscribe") == 0) {
            subscribe = 1;
        } else if (i + 1 == argc) {
            usage();
        } else if (strcmp(argv[i], "--url") == 0) {
            c.url = argv[++i];
        } else if (strcmp(argv[i], "--room") == 0) {
            c.room = argv[++i];
        } else if (strcmp(argv[i], "--room-file") == 0) {
            c.room_file = argv[++i];
        } else if (strcmp(argv[i], "--duration") == 0) {
            c.duration = (unsigned) atoi(argv[++i]);
        } else if (strcmp(argv[i], "--min-frames") == 0) {
            c.min_frames = (unsigned) atoi(argv[++i]);
        } else {
            usage();
        }
    }

    if (c.url == NULL || c.publish == subscribe
        || (c.publish && c.room_file == NULL)
        || (subscribe && c.room == NULL))
    {
        usage();
    }

    if (c.duration == 0) {
        c.duration = c.publish ? 10 : 5;
    }

    c.verbose = getenv("PARLEY_WEBRTCBIN_VERBOSE") != NULL;
    c.loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, stop_signal, NULL);
    g_unix_signal_add(SIGINT, stop_signal, NULL);
    c.http = soup_session_new();
    msg = soup_message_new("GET", c.url);
    if (msg == NULL) {
        fprintf(stderr, "parley-webrtcbin: bad URL %s\n", c.url);
        return 2;
    }

    soup_session_websocket_connect_async(c.http, msg, NULL, NULL,
                                         G_PRIORITY_DEFAULT, NULL, connected,
                                         NULL);
    g_main_loop_run(c.loop);

    if (c.pipe) {
        gst_element_set_state(c.pipe, GST_STATE_NULL);
    }

    if (c.failed) {
        return 1;
    }

    if (c.publish) {
        printf("{\"published\":true}\n");
        return 0;
    }

    printf("{\"video_frames\":%d,\"audio_buffers\":%d,\"offers\":%u}\n",
           g_atomic_int_get(&c.video_frames),
           g_atomic_int_get(&c.audio_buffers), c.offers);

    if ((unsigned) g_atomic_int_get(&c.video_frames) < c.min_frames
        || g_atomic_int_get(&c.audio_buffers) == 0)
    {
        fprintf(stderr, "parley-webrtcbin: decoded %d video frames (wanted "
                "%u) and %d audio buffers\n", c.video_frames, c.min_frames,
                c.audio_buffers);
        return 1;
    }

    return 0;
}
