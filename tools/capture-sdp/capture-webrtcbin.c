/*
 * Captures the SDP of GStreamer's webrtcbin (Debian's
 * gstreamer1.0-plugins-bad) for tests/fixtures/sdp/, and checks that
 * webrtcbin accepts what relay/parley_sdp*.c make of it.
 *
 *   capture-webrtcbin offer OUTDIR
 *       writes webrtcbin-av-offer.sdp: VP8 video and Opus audio sent over
 *       one BUNDLE transport, as a sending client of parley offers them
 *   capture-webrtcbin roundtrip TOOL
 *       TOOL is a built tools/capture-sdp/sdp_tool. webrtcbin's offer is
 *       answered by TOOL and the answer given back to webrtcbin; then
 *       TOOL's SFU offer is given to webrtcbin, whose answer TOOL parses.
 *       Either refused makes this fail. Nothing is saved.
 *
 * Build (apt-get install libgstreamer-plugins-bad1.0-dev
 *        gstreamer1.0-plugins-good gstreamer1.0-nice):
 *   cc -std=gnu11 -Wall -Wextra tools/capture-sdp/capture-webrtcbin.c \
 *       $(pkg-config --cflags --libs gstreamer-webrtc-1.0 gstreamer-sdp-1.0) \
 *       -o build/capture-webrtcbin
 */

#define GST_USE_UNSTABLE_API

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>


#define PIPELINE                                                              \
    "webrtcbin name=w bundle-policy=max-bundle "                              \
    "videotestsrc is-live=true ! videoconvert ! vp8enc deadline=1 "           \
    "! rtpvp8pay ! application/x-rtp,media=video,encoding-name=VP8,"          \
    "payload=96 ! w. "                                                        \
    "audiotestsrc is-live=true ! audioconvert ! audioresample ! opusenc "     \
    "! rtpopuspay ! application/x-rtp,media=audio,encoding-name=OPUS,"        \
    "payload=111 ! w."


static GstElement  *webrtc;
static gint        negotiation_needed;


static void
on_negotiation_needed(GstElement *element, gpointer data)
{
    (void) element;
    (void) data;

    g_atomic_int_set(&negotiation_needed, 1);
}


/* Emits a webrtcbin action signal and waits for its promise's reply. */
static const GstStructure *
call(const char *signal, GstWebRTCSessionDescription *desc,
    GstPromise **promise)
{
    *promise = gst_promise_new();

    if (desc) {
        g_signal_emit_by_name(webrtc, signal, desc, *promise);

    } else {
        g_signal_emit_by_name(webrtc, signal, NULL, *promise);
    }

    if (gst_promise_wait(*promise) != GST_PROMISE_RESULT_REPLIED) {
        fprintf(stderr, "capture-webrtcbin: %s was not answered\n", signal);
        exit(1);
    }

    return gst_promise_get_reply(*promise);
}


static void
check(const char *what, const GstStructure *reply)
{
    GError  *error = NULL;

    if (reply && gst_structure_has_field(reply, "error")) {
        gst_structure_get(reply, "error", G_TYPE_ERROR, &error, NULL);
        fprintf(stderr, "capture-webrtcbin: webrtcbin refused %s: %s\n",
                what, error ? error->message : "(no message)");
        exit(1);
    }
}


static GstWebRTCSessionDescription *
described(GstWebRTCSDPType type, const char *text)
{
    GstSDPMessage  *sdp;

    if (gst_sdp_message_new_from_text(text, &sdp) != GST_SDP_OK) {
        fprintf(stderr, "capture-webrtcbin: GStreamer cannot read:\n%s", text);
        exit(1);
    }

    return gst_webrtc_session_description_new(type, sdp);
}


static GstWebRTCSessionDescription *
create(const char *signal)
{
    GstPromise                   *promise;
    const GstStructure           *reply;
    GstWebRTCSessionDescription  *desc = NULL;
    const char                   *field;

    field = strcmp(signal, "create-offer") == 0 ? "offer" : "answer";
    reply = call(signal, NULL, &promise);
    check(signal, reply);
    gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                      &desc, NULL);
    gst_promise_unref(promise);

    if (desc == NULL) {
        fprintf(stderr, "capture-webrtcbin: %s gave nothing\n", signal);
        exit(1);
    }

    return desc;
}


static void
apply(const char *signal, GstWebRTCSessionDescription *desc, const char *what)
{
    GstPromise  *promise;

    check(what, call(signal, desc, &promise));
    gst_promise_unref(promise);
}


/* Runs "tool mode" with "input" on its standard input; its output. */
static char *
run_tool(const char *tool, const char *mode, const char *input)
{
    int      fd;
    char    *cmd, *out = NULL;
    char    *shell[4];
    gint     status;
    GError  *error = NULL;
    char     in_path[] = "/tmp/capture-webrtcbin.XXXXXX";

    fd = mkstemp(in_path);
    if (fd < 0 || write(fd, input, strlen(input)) != (ssize_t) strlen(input)
        || close(fd) != 0)
    {
        perror("capture-webrtcbin: temporary file");
        exit(1);
    }

    cmd = g_strdup_printf("'%s' %s < '%s'", tool, mode, in_path);
    shell[0] = "/bin/sh";
    shell[1] = "-c";
    shell[2] = cmd;
    shell[3] = NULL;

    if (!g_spawn_sync(NULL, shell, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                      NULL, &status, &error)
        || !g_spawn_check_wait_status(status, &error))
    {
        fprintf(stderr, "capture-webrtcbin: %s %s failed: %s\n", tool, mode,
                error ? error->message : "?");
        exit(1);
    }

    unlink(in_path);
    g_free(cmd);

    return out;
}


static void
directions(const char *what)
{
    guint                     i;
    GArray                   *list = NULL;
    GstWebRTCRTPTransceiver  *t;
    GstWebRTCRTPTransceiverDirection  dir;

    g_signal_emit_by_name(webrtc, "get-transceivers", &list);
    printf("webrtcbin accepted %s:", what);

    for (i = 0; list && i < list->len; i++) {
        t = g_array_index(list, GstWebRTCRTPTransceiver *, i);
        g_object_get(t, "current-direction", &dir, NULL);
        printf(" %u:%s", i,
               dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY
               ? "sendonly"
               : dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY
               ? "recvonly"
               : dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV
               ? "sendrecv"
               : dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE
               ? "inactive" : "none");
    }

    printf("\n");

    if (list) {
        g_array_unref(list);
    }
}


static GstElement *
start(const char *description)
{
    int          i;
    GstElement  *pipe;
    GError      *error = NULL;

    pipe = gst_parse_launch(description, &error);
    if (pipe == NULL) {
        fprintf(stderr, "capture-webrtcbin: %s\n", error->message);
        exit(1);
    }

    /* a lone webrtcbin (itself a bin) is what the description gives */
    webrtc = GST_IS_PIPELINE(pipe) ? gst_bin_get_by_name(GST_BIN(pipe), "w")
                                   : gst_object_ref(pipe);
    g_atomic_int_set(&negotiation_needed, 0);
    g_signal_connect(webrtc, "on-negotiation-needed",
                     G_CALLBACK(on_negotiation_needed), NULL);
    gst_element_set_state(pipe, GST_STATE_PLAYING);

    /*
     * A sender: once its streams have caps, it says (from its own thread)
     * that it has an offer to make.
     */
    for (i = 0; GST_IS_PIPELINE(pipe) && !g_atomic_int_get(&negotiation_needed);
         i++)
    {
        if (i == 1000) {
            fprintf(stderr, "capture-webrtcbin: no negotiation in 10 s\n");
            exit(1);
        }

        g_usleep(10000);
    }

    return pipe;
}


static void
stop(GstElement *pipe)
{
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(webrtc);
    gst_object_unref(pipe);
}


int
main(int argc, char **argv)
{
    char                         *text, *path, *reply;
    FILE                         *f;
    GstElement                   *pipe;
    GstWebRTCSessionDescription  *offer, *answer;

    gst_init(&argc, &argv);

    if (argc != 3
        || (strcmp(argv[1], "offer") != 0 && strcmp(argv[1], "roundtrip") != 0))
    {
        fprintf(stderr, "usage: capture-webrtcbin offer OUTDIR\n"
                        "       capture-webrtcbin roundtrip SDP_TOOL\n");
        return 2;
    }

    /* webrtcbin as a sender: its offer */
    pipe = start(PIPELINE);
    offer = create("create-offer");
    text = gst_sdp_message_as_text(offer->sdp);

    if (strcmp(argv[1], "offer") == 0) {
        path = g_build_filename(argv[2], "webrtcbin-av-offer.sdp", NULL);
        f = fopen(path, "w");
        if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
            perror(path);
            return 1;
        }

        printf("wrote %s\n", path);
        return 0;
    }

    apply("set-local-description", offer, "its own offer");
    reply = run_tool(argv[2], "answer", text);
    answer = described(GST_WEBRTC_SDP_TYPE_ANSWER, reply);
    apply("set-remote-description", answer, "the SFU answer");
    directions("the SFU answer to its offer");
    stop(pipe);
    g_free(reply);
    g_free(text);

    /* webrtcbin as a receiver: the SFU's offer, and its answer */
    pipe = start("webrtcbin name=w bundle-policy=max-bundle");
    reply = run_tool(argv[2], "offer", "");
    offer = described(GST_WEBRTC_SDP_TYPE_OFFER, reply);
    apply("set-remote-description", offer, "the SFU offer");
    answer = create("create-answer");
    apply("set-local-description", answer, "its own answer");
    text = gst_sdp_message_as_text(answer->sdp);
    g_free(reply);
    reply = run_tool(argv[2], "parse", text);
    directions("the SFU offer");
    printf("the SFU parsed webrtcbin's answer:\n%s", reply);
    stop(pipe);

    return 0;
}
