/*
 * One ICE transport per peer connection on libnice: see parley_ice.h.
 *
 * libnice owns the sockets, the STUN handling and the check lists; this
 * file configures it, turns its signals into the handler's callbacks,
 * rewrites the candidates it signals, keeps the selected pair's socket and
 * remote address for sending without libnice, and has the pump stamp the
 * time whenever a socket is readable, for the liveness check.
 *
 * Callbacks are counted in "depth": a destroy asked for while one runs is
 * left to an idle source, because the caller of the callback (libnice, or
 * this file) still uses the transport when the callback returns.
 */

#define _GNU_SOURCE                        /* sendmmsg() */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <nice/agent.h>

#include "parley_ice.h"


#define PARLEY_ICE_COMPONENT  1        /* rtcp-mux: the only one */

/* Fields of a candidate attribute (RFC 8839 5.1) that are looked at. */
#define PARLEY_ICE_FIELD_ADDRESS    4
#define PARLEY_ICE_FIELD_TYPE       7
#define PARLEY_ICE_FIELDS           8


typedef struct {
    const char  *start[PARLEY_ICE_FIELDS];
    size_t       len[PARLEY_ICE_FIELDS];
} parley_ice_fields_t;


struct parley_ice_s {
    GMainContext             *ctx;
    parley_glib_pump_t       *pump;
    NiceAgent                *agent;
    guint                     stream;
    parley_ice_handler_t      handler;

    char                      announced[INET6_ADDRSTRLEN];
    int64_t                   disconnected_us;
    int64_t                   failed_us;

    char                      ufrag[PARLEY_ICE_UFRAG_MAX + 1];
    char                      pwd[PARLEY_ICE_PWD_MAX + 1];

    parley_ice_state_t        state;
    int64_t                   started;         /* gather or restart, us */
    int64_t                   last_rx;         /* monotonic, us */

    GSocket                  *selected_socket; /* NULL for a relayed pair */
    int                       fd;
    struct sockaddr_storage   local;
    struct sockaddr_storage   remote;
    socklen_t                 remote_len;

    int                      *fds;             /* the sockets' */
    guint                     nfds;
    GSource                  *reaper;          /* a deferred destroy */

    unsigned                  depth;           /* callbacks running */
    unsigned                  lite:1;
    unsigned                  selected:1;
    unsigned                  can_send:1;
    unsigned                  gathered:1;
    unsigned                  dead:1;          /* destroy was asked */
};


#define PARLEY_ICE_RESULT_TEXT(name, text)  text,

static const char  *parley_ice_rc_text[] = {
    PARLEY_ICE_RESULTS(PARLEY_ICE_RESULT_TEXT)
};

static const char  *parley_ice_state_text[] = {
    "new", "connecting", "connected", "disconnected", "failed"
};


static parley_ice_rc_t parley_ice_configure(parley_ice_t *ice,
    const parley_ice_options_t *options);
static parley_ice_rc_t parley_ice_add_local_addresses(parley_ice_t *ice,
    const parley_ice_options_t *options);
static void parley_ice_set_property(NiceAgent *agent, const char *name,
    gboolean value);
static parley_ice_rc_t parley_ice_read_credentials(parley_ice_t *ice);
static void parley_ice_free(parley_ice_t *ice);
static gboolean parley_ice_reap(gpointer data);
static parley_ice_rc_t parley_ice_watch_sockets(parley_ice_t *ice);

static void parley_ice_on_candidate(NiceAgent *agent,
    NiceCandidate *candidate, gpointer data);
static void parley_ice_on_gathering_done(NiceAgent *agent, guint stream,
    gpointer data);
static void parley_ice_on_state(NiceAgent *agent, guint stream,
    guint component, guint state, gpointer data);
static void parley_ice_on_selected_pair(NiceAgent *agent, guint stream,
    guint component, NiceCandidate *local, NiceCandidate *remote,
    gpointer data);
static void parley_ice_on_recv(NiceAgent *agent, guint stream,
    guint component, guint len, gchar *buf, gpointer data);

static void parley_ice_emit_candidate(parley_ice_t *ice,
    NiceCandidate *candidate);
static void parley_ice_emit_gathering_done(parley_ice_t *ice);
static void parley_ice_set_state(parley_ice_t *ice, parley_ice_state_t state);
static void parley_ice_fail(parley_ice_t *ice);
static parley_ice_rc_t parley_ice_send_nice(parley_ice_t *ice,
    const void *buf, size_t len);
static parley_ice_rc_t parley_ice_send_error(void);
static socklen_t parley_ice_sockaddr_len(const struct sockaddr_storage *ss);

static int parley_ice_split(const char *line, parley_ice_fields_t *f);
static int parley_ice_field_is(const parley_ice_fields_t *f, int i,
    const char *s);
static int parley_ice_is_mdns(const char *line);
static const char *parley_ice_skip_prefix(const char *line);


const char *
parley_ice_rc_str(parley_ice_rc_t rc)
{
    if ((unsigned) rc >= PARLEY_ICE_NRESULTS) {
        return "unknown result";
    }

    return parley_ice_rc_text[rc];
}


const char *
parley_ice_state_str(parley_ice_state_t state)
{
    if ((unsigned) state > PARLEY_ICE_FAILED) {
        return "unknown state";
    }

    return parley_ice_state_text[state];
}


parley_ice_rc_t
parley_ice_create(GMainContext *ctx, const parley_ice_options_t *options,
    parley_ice_t **ice)
{
    parley_ice_t     *t;
    parley_ice_rc_t   rc;

    if (ctx == NULL || options == NULL || ice == NULL
        || options->pump == NULL
        || options->port_min > options->port_max
        || (options->nlocal_addresses && options->local_addresses == NULL))
    {
        return PARLEY_ICE_ERR_INVAL;
    }

    t = calloc(1, sizeof(parley_ice_t));
    if (t == NULL) {
        return PARLEY_ICE_ERR_NOMEM;
    }

    t->ctx = g_main_context_ref(ctx);
    t->pump = options->pump;
    t->handler = options->handler;
    t->fd = -1;
    t->disconnected_us = 1000 * (int64_t) (options->disconnected_ms
                                           ? options->disconnected_ms
                                           : PARLEY_ICE_DISCONNECTED_MS);
    t->failed_us = 1000 * (int64_t) (options->failed_ms
                                     ? options->failed_ms
                                     : PARLEY_ICE_FAILED_MS);

    rc = parley_ice_configure(t, options);
    if (rc != PARLEY_ICE_OK) {
        parley_ice_free(t);
        return rc;
    }

    *ice = t;

    return PARLEY_ICE_OK;
}


void
parley_ice_destroy(parley_ice_t *ice)
{
    if (ice == NULL || ice->dead) {
        return;
    }

    ice->dead = 1;

    if (ice->depth == 0) {
        parley_ice_free(ice);
        return;
    }

    ice->reaper = g_idle_source_new();
    g_source_set_priority(ice->reaper, G_PRIORITY_HIGH);
    g_source_set_callback(ice->reaper, parley_ice_reap, ice, NULL);
    g_source_attach(ice->reaper, ice->ctx);
}


void
parley_ice_local_credentials(const parley_ice_t *ice, const char **ufrag,
    const char **pwd)
{
    *ufrag = ice->ufrag;
    *pwd = ice->pwd;
}


parley_ice_rc_t
parley_ice_set_remote_credentials(parley_ice_t *ice, const char *ufrag,
    const char *pwd)
{
    if (ice == NULL || ice->dead || ufrag == NULL || pwd == NULL) {
        return PARLEY_ICE_ERR_INVAL;
    }

    if (!nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag,
                                           pwd))
    {
        return PARLEY_ICE_ERR_NICE;
    }

    return PARLEY_ICE_OK;
}


parley_ice_rc_t
parley_ice_gather(parley_ice_t *ice)
{
    if (ice == NULL || ice->dead || ice->gathered) {
        return PARLEY_ICE_ERR_INVAL;
    }

    ice->gathered = 1;
    ice->started = g_get_monotonic_time();

    /* libnice emits the candidates and gathering-done from in here */
    if (!nice_agent_gather_candidates(ice->agent, ice->stream)) {
        return PARLEY_ICE_ERR_PORTS;
    }

    if (ice->dead) {
        return PARLEY_ICE_OK;
    }

    return parley_ice_watch_sockets(ice);
}


parley_ice_rc_t
parley_ice_add_remote_candidate(parley_ice_t *ice, const char *candidate)
{
    int              added;
    char             line[PARLEY_ICE_CANDIDATE_MAX + 2];
    size_t           len;
    GSList          *list;
    const char      *p;
    NiceCandidate   *c;

    if (ice == NULL || ice->dead || candidate == NULL) {
        return PARLEY_ICE_ERR_INVAL;
    }

    /* libnice parses the attribute with its "a=" */
    p = parley_ice_skip_prefix(candidate);
    len = strcspn(p, "\r\n");
    if (len + 3 > sizeof(line)) {
        return PARLEY_ICE_ERR_INVAL;
    }

    memcpy(line, "a=", 2);
    memcpy(line + 2, p, len);
    line[len + 2] = '\0';

    c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream, line);
    if (c == NULL) {
        return parley_ice_is_mdns(line) ? PARLEY_ICE_SKIPPED
                                        : PARLEY_ICE_ERR_INVAL;
    }

    if (c->component_id != PARLEY_ICE_COMPONENT
        || c->transport != NICE_CANDIDATE_TRANSPORT_UDP)
    {
        nice_candidate_free(c);
        return PARLEY_ICE_SKIPPED;
    }

    /*
     * A lite agent sends no checks (RFC 8445 2.5), so it has no use for
     * the peer's candidates: the peer's checks make its addresses known as
     * peer-reflexive. libnice in lite mode would still check every
     * candidate it is given, which would let a client make the server send
     * STUN to any address it names (RFC 8445 19.5.1); so they stop here.
     */
    if (ice->lite) {
        nice_candidate_free(c);
        return PARLEY_ICE_OK;
    }

    list = g_slist_prepend(NULL, c);
    added = nice_agent_set_remote_candidates(ice->agent, ice->stream,
                                             PARLEY_ICE_COMPONENT, list);
    g_slist_free(list);
    nice_candidate_free(c);

    return added < 0 ? PARLEY_ICE_ERR_NICE : PARLEY_ICE_OK;
}


parley_ice_rc_t
parley_ice_end_of_candidates(parley_ice_t *ice)
{
    if (ice == NULL || ice->dead) {
        return PARLEY_ICE_ERR_INVAL;
    }

    /* with no remote candidate, libnice would fail the lite component */
    if (ice->lite) {
        return PARLEY_ICE_OK;
    }

    if (!nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream)) {
        return PARLEY_ICE_ERR_NICE;
    }

    return PARLEY_ICE_OK;
}


parley_ice_rc_t
parley_ice_send(parley_ice_t *ice, const void *buf, size_t len)
{
    ssize_t  n;

    if (!ice->can_send || ice->dead) {
        return PARLEY_ICE_ERR_STATE;
    }

    if (ice->fd == -1) {
        return parley_ice_send_nice(ice, buf, len);
    }

    n = sendto(ice->fd, buf, len, 0, (struct sockaddr *) &ice->remote,
               ice->remote_len);
    if (n < 0) {
        return parley_ice_send_error();
    }

    return PARLEY_ICE_OK;
}


parley_ice_rc_t
parley_ice_send_batch(parley_ice_t *ice, const struct iovec *bufs, size_t n,
    size_t *sent)
{
    int              r;
    size_t           i, chunk, done;
    parley_ice_rc_t  rc;
    struct mmsghdr   msgs[PARLEY_ICE_BATCH_MAX];

    *sent = 0;

    if (!ice->can_send || ice->dead) {
        return PARLEY_ICE_ERR_STATE;
    }

    if (ice->fd == -1) {
        for (i = 0; i < n; i++) {
            rc = parley_ice_send_nice(ice, bufs[i].iov_base, bufs[i].iov_len);
            if (rc != PARLEY_ICE_OK) {
                return rc;
            }

            (*sent)++;
        }

        return PARLEY_ICE_OK;
    }

    memset(msgs, 0, sizeof(msgs));

    for (done = 0; done < n; done += (size_t) r) {
        chunk = n - done;
        if (chunk > PARLEY_ICE_BATCH_MAX) {
            chunk = PARLEY_ICE_BATCH_MAX;
        }

        for (i = 0; i < chunk; i++) {
            msgs[i].msg_hdr.msg_name = &ice->remote;
            msgs[i].msg_hdr.msg_namelen = ice->remote_len;
            msgs[i].msg_hdr.msg_iov = (struct iovec *) &bufs[done + i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }

        /* a short count is followed by a call that returns the error */
        r = sendmmsg(ice->fd, msgs, (unsigned) chunk, 0);
        if (r < 0) {
            *sent = done;
            return parley_ice_send_error();
        }

        *sent = done + (size_t) r;
    }

    return PARLEY_ICE_OK;
}


parley_ice_rc_t
parley_ice_restart(parley_ice_t *ice)
{
    GSList           *list, *l;
    parley_ice_rc_t   rc;

    if (ice == NULL || ice->dead) {
        return PARLEY_ICE_ERR_INVAL;
    }

    /* RFC 8445 9: new ufrag and pwd, the remote ones and checks forgotten */
    if (!nice_agent_restart_stream(ice->agent, ice->stream)) {
        return PARLEY_ICE_ERR_NICE;
    }

    rc = parley_ice_read_credentials(ice);
    if (rc != PARLEY_ICE_OK) {
        return rc;
    }

    ice->started = g_get_monotonic_time();

    if (ice->state == PARLEY_ICE_FAILED
        || ice->state == PARLEY_ICE_DISCONNECTED)
    {
        parley_ice_set_state(ice, PARLEY_ICE_CONNECTING);
    }

    if (!ice->gathered) {
        return PARLEY_ICE_OK;
    }

    list = nice_agent_get_local_candidates(ice->agent, ice->stream,
                                           PARLEY_ICE_COMPONENT);

    ice->depth++;

    for (l = list; l != NULL && !ice->dead; l = l->next) {
        parley_ice_emit_candidate(ice, l->data);
    }

    if (!ice->dead) {
        parley_ice_emit_gathering_done(ice);
    }

    ice->depth--;

    g_slist_free_full(list, (GDestroyNotify) nice_candidate_free);

    return PARLEY_ICE_OK;
}


parley_ice_state_t
parley_ice_check_consent(parley_ice_t *ice)
{
    int64_t  now, silence;

    if (ice->dead) {
        return ice->state;
    }

    now = g_get_monotonic_time();

    switch (ice->state) {

    case PARLEY_ICE_NEW:
    case PARLEY_ICE_CONNECTING:
        if (ice->gathered && now - ice->started >= ice->failed_us) {
            parley_ice_fail(ice);
        }
        break;

    case PARLEY_ICE_CONNECTED:
    case PARLEY_ICE_DISCONNECTED:
        silence = now - ice->last_rx;

        if (silence >= ice->failed_us) {
            parley_ice_fail(ice);

        } else if (silence >= ice->disconnected_us) {
            parley_ice_set_state(ice, PARLEY_ICE_DISCONNECTED);

        } else {
            parley_ice_set_state(ice, PARLEY_ICE_CONNECTED);
        }
        break;

    case PARLEY_ICE_FAILED:
        break;
    }

    return ice->state;
}


parley_ice_state_t
parley_ice_state(const parley_ice_t *ice)
{
    return ice->state;
}


parley_ice_rc_t
parley_ice_selected_pair(const parley_ice_t *ice,
    struct sockaddr_storage *local, struct sockaddr_storage *remote)
{
    if (!ice->selected) {
        return PARLEY_ICE_ERR_STATE;
    }

    if (local != NULL) {
        *local = ice->local;
    }

    if (remote != NULL) {
        *remote = ice->remote;
    }

    return PARLEY_ICE_OK;
}


int
parley_ice_selected_fd(const parley_ice_t *ice)
{
    return ice->fd;
}


parley_ice_rc_t
parley_ice_rewrite_candidate(const char *in, const char *announced,
    char *out, size_t cap)
{
    size_t               len, head, tail;
    const char          *p, *addr;
    parley_ice_fields_t  f;

    if (in == NULL || out == NULL) {
        return PARLEY_ICE_ERR_INVAL;
    }

    p = parley_ice_skip_prefix(in);
    len = strcspn(p, "\r\n");

    if (strncmp(p, "candidate:", 10) != 0 || !parley_ice_split(p, &f)) {
        return PARLEY_ICE_ERR_INVAL;
    }

    addr = f.start[PARLEY_ICE_FIELD_ADDRESS];

    if (announced == NULL || announced[0] == '\0'
        || !parley_ice_field_is(&f, PARLEY_ICE_FIELD_TYPE, "host")
        || (memchr(addr, ':', f.len[PARLEY_ICE_FIELD_ADDRESS]) != NULL)
           != (strchr(announced, ':') != NULL))
    {
        if (len + 1 > cap) {
            return PARLEY_ICE_ERR_INVAL;
        }

        memcpy(out, p, len);
        out[len] = '\0';

        return PARLEY_ICE_OK;
    }

    head = (size_t) (addr - p);
    tail = len - head - f.len[PARLEY_ICE_FIELD_ADDRESS];

    if (head + strlen(announced) + tail + 1 > cap) {
        return PARLEY_ICE_ERR_INVAL;
    }

    memcpy(out, p, head);
    memcpy(out + head, announced, strlen(announced));
    memcpy(out + head + strlen(announced),
           addr + f.len[PARLEY_ICE_FIELD_ADDRESS], tail);
    out[head + strlen(announced) + tail] = '\0';

    return PARLEY_ICE_OK;
}


static parley_ice_rc_t
parley_ice_configure(parley_ice_t *ice, const parley_ice_options_t *options)
{
    int               lite;
    NiceAgentOption   flags;
    parley_ice_rc_t   rc;
    struct in6_addr   a6;

    if (options->announced_address != NULL) {
        if (inet_pton(AF_INET, options->announced_address, &a6) != 1
            && inet_pton(AF_INET6, options->announced_address, &a6) != 1)
        {
            return PARLEY_ICE_ERR_ADDRESS;
        }

        strcpy(ice->announced, options->announced_address);
    }

    /*
     * Trickle (RFC 8838) in both modes. The lite agent sends no checks
     * (RFC 8445 2.5), so no consent checks either: liveness is the silence
     * check. The full agent plays a browser, which runs RFC 7675.
     */
    lite = options->mode == PARLEY_ICE_LITE;
    ice->lite = lite;
    flags = NICE_AGENT_OPTION_ICE_TRICKLE
            | (lite ? NICE_AGENT_OPTION_LITE_MODE
                    : NICE_AGENT_OPTION_CONSENT_FRESHNESS);

    ice->agent = nice_agent_new_full(ice->ctx, NICE_COMPATIBILITY_RFC5245,
                                     flags);
    if (ice->agent == NULL) {
        return PARLEY_ICE_ERR_NICE;
    }

    /* RFC 8445 6.1.1: a lite agent is controlled */
    parley_ice_set_property(ice->agent, "controlling-mode", !lite);
    parley_ice_set_property(ice->agent, "ice-tcp", FALSE);
    parley_ice_set_property(ice->agent, "upnp", FALSE);

    rc = parley_ice_add_local_addresses(ice, options);
    if (rc != PARLEY_ICE_OK) {
        return rc;
    }

    ice->stream = nice_agent_add_stream(ice->agent, 1);
    if (ice->stream == 0) {
        return PARLEY_ICE_ERR_NICE;
    }

    if (options->port_max != 0) {
        nice_agent_set_port_range(ice->agent, ice->stream,
                                  PARLEY_ICE_COMPONENT, options->port_min,
                                  options->port_max);
    }

    g_signal_connect(ice->agent, "new-candidate-full",
                     G_CALLBACK(parley_ice_on_candidate), ice);
    g_signal_connect(ice->agent, "candidate-gathering-done",
                     G_CALLBACK(parley_ice_on_gathering_done), ice);
    g_signal_connect(ice->agent, "component-state-changed",
                     G_CALLBACK(parley_ice_on_state), ice);
    g_signal_connect(ice->agent, "new-selected-pair-full",
                     G_CALLBACK(parley_ice_on_selected_pair), ice);

    if (!nice_agent_attach_recv(ice->agent, ice->stream,
                                PARLEY_ICE_COMPONENT, ice->ctx,
                                parley_ice_on_recv, ice))
    {
        return PARLEY_ICE_ERR_NICE;
    }

    return parley_ice_read_credentials(ice);
}


static parley_ice_rc_t
parley_ice_add_local_addresses(parley_ice_t *ice,
    const parley_ice_options_t *options)
{
    size_t       i;
    NiceAddress  addr;

    for (i = 0; i < options->nlocal_addresses; i++) {
        nice_address_init(&addr);

        if (options->local_addresses[i] == NULL
            || !nice_address_set_from_string(&addr,
                                             options->local_addresses[i]))
        {
            return PARLEY_ICE_ERR_ADDRESS;
        }

        if (!nice_agent_add_local_address(ice->agent, &addr)) {
            return PARLEY_ICE_ERR_NICE;
        }
    }

    return PARLEY_ICE_OK;
}


/* Properties that a libnice built without an option may lack. */
static void
parley_ice_set_property(NiceAgent *agent, const char *name, gboolean value)
{
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), name)) {
        g_object_set(agent, name, value, NULL);
    }
}


static parley_ice_rc_t
parley_ice_read_credentials(parley_ice_t *ice)
{
    gchar            *ufrag, *pwd;
    parley_ice_rc_t   rc;

    if (!nice_agent_get_local_credentials(ice->agent, ice->stream, &ufrag,
                                          &pwd))
    {
        return PARLEY_ICE_ERR_NICE;
    }

    rc = PARLEY_ICE_ERR_NICE;

    if (strlen(ufrag) <= PARLEY_ICE_UFRAG_MAX
        && strlen(pwd) <= PARLEY_ICE_PWD_MAX)
    {
        strcpy(ice->ufrag, ufrag);
        strcpy(ice->pwd, pwd);
        rc = PARLEY_ICE_OK;
    }

    g_free(ufrag);
    g_free(pwd);

    return rc;
}


/*
 * Sources first, so that nothing of ours is dispatched any more; then the
 * agent, which closes its sockets; then the pump hears of the closed fds,
 * whose numbers the next socket may well get.
 */
static void
parley_ice_free(parley_ice_t *ice)
{
    guint  i;

    if (ice->selected_socket != NULL) {
        g_object_unref(ice->selected_socket);
    }

    for (i = 0; i < ice->nfds; i++) {
        (void) parley_glib_pump_stamp(ice->pump, ice->fds[i], NULL);
    }

    if (ice->agent != NULL) {
        if (ice->stream != 0) {
            nice_agent_attach_recv(ice->agent, ice->stream,
                                   PARLEY_ICE_COMPONENT, ice->ctx, NULL,
                                   NULL);
        }

        g_signal_handlers_disconnect_by_data(ice->agent, ice);
        g_object_unref(ice->agent);
    }

    for (i = 0; i < ice->nfds; i++) {
        (void) parley_glib_pump_closed(ice->pump, ice->fds[i]);
    }

    free(ice->fds);

    if (ice->reaper != NULL) {
        /* called from the reaper's dispatch, which then removes it */
        g_source_unref(ice->reaper);
    }

    g_main_context_unref(ice->ctx);
    free(ice);
}


static gboolean
parley_ice_reap(gpointer data)
{
    parley_ice_free(data);

    return G_SOURCE_REMOVE;
}


/*
 * The liveness check needs to know when anything, STUN included, arrives.
 * libnice reads the sockets and says nothing about STUN, so the pump,
 * which hears of every readable fd, stamps the time for these.
 */
static parley_ice_rc_t
parley_ice_watch_sockets(parley_ice_t *ice)
{
    guint             i;
    GPtrArray        *sockets;
    parley_ice_rc_t   rc;

    sockets = nice_agent_get_sockets(ice->agent, ice->stream,
                                     PARLEY_ICE_COMPONENT);
    if (sockets == NULL) {
        return PARLEY_ICE_ERR_NICE;
    }

    rc = PARLEY_ICE_OK;

    ice->fds = calloc(sockets->len ? sockets->len : 1, sizeof(int));
    if (ice->fds == NULL) {
        rc = PARLEY_ICE_ERR_NOMEM;
    }

    for (i = 0; rc == PARLEY_ICE_OK && i < sockets->len; i++) {
        ice->fds[i] = g_socket_get_fd(g_ptr_array_index(sockets, i));
        ice->nfds++;

        if (parley_glib_pump_stamp(ice->pump, ice->fds[i], &ice->last_rx)
            != PARLEY_GLIB_OK)
        {
            rc = PARLEY_ICE_ERR_NOMEM;
        }
    }

    g_ptr_array_unref(sockets);

    return rc;
}


static void
parley_ice_on_candidate(NiceAgent *agent, NiceCandidate *candidate,
    gpointer data)
{
    parley_ice_t  *ice = data;

    (void) agent;

    if (candidate->stream_id == ice->stream
        && candidate->component_id == PARLEY_ICE_COMPONENT)
    {
        parley_ice_emit_candidate(ice, candidate);
    }
}


static void
parley_ice_on_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
    parley_ice_t  *ice = data;

    (void) agent;

    if (stream == ice->stream) {
        parley_ice_emit_gathering_done(ice);
    }
}


static void
parley_ice_on_state(NiceAgent *agent, guint stream, guint component,
    guint state, gpointer data)
{
    parley_ice_t  *ice = data;

    (void) agent;

    if (stream != ice->stream || component != PARLEY_ICE_COMPONENT) {
        return;
    }

    switch (state) {

    case NICE_COMPONENT_STATE_CONNECTING:
        parley_ice_set_state(ice, PARLEY_ICE_CONNECTING);
        break;

    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
        ice->last_rx = g_get_monotonic_time();
        ice->can_send = ice->selected;
        parley_ice_set_state(ice, PARLEY_ICE_CONNECTED);
        break;

    case NICE_COMPONENT_STATE_FAILED:
        parley_ice_fail(ice);
        break;

    default:
        /* gathering, and disconnected before anything happened */
        break;
    }
}


static void
parley_ice_on_selected_pair(NiceAgent *agent, guint stream, guint component,
    NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
    parley_ice_t  *ice = data;
    NiceAddress   *base;

    if (stream != ice->stream || component != PARLEY_ICE_COMPONENT) {
        return;
    }

    if (ice->selected_socket != NULL) {
        g_object_unref(ice->selected_socket);
    }

    /* NULL for a relayed pair: then libnice sends */
    ice->selected_socket = nice_agent_get_selected_socket(agent, stream,
                                                          component);
    ice->fd = ice->selected_socket ? g_socket_get_fd(ice->selected_socket)
                                   : -1;

    base = nice_address_is_valid(&local->base_addr) ? &local->base_addr
                                                    : &local->addr;
    memset(&ice->local, 0, sizeof(ice->local));
    memset(&ice->remote, 0, sizeof(ice->remote));
    nice_address_copy_to_sockaddr(base, (struct sockaddr *) &ice->local);
    nice_address_copy_to_sockaddr(&remote->addr,
                                  (struct sockaddr *) &ice->remote);
    ice->remote_len = parley_ice_sockaddr_len(&ice->remote);

    /* a nominated pair is fresh consent (RFC 7675 5.1) */
    ice->selected = 1;
    ice->can_send = 1;
    ice->last_rx = g_get_monotonic_time();

    if (ice->dead || ice->handler.selected_pair == NULL) {
        return;
    }

    ice->depth++;
    ice->handler.selected_pair(ice->handler.arg,
                               (struct sockaddr *) &ice->local,
                               (struct sockaddr *) &ice->remote);
    ice->depth--;
}


static void
parley_ice_on_recv(NiceAgent *agent, guint stream, guint component,
    guint len, gchar *buf, gpointer data)
{
    parley_ice_t  *ice = data;

    (void) agent;
    (void) stream;
    (void) component;

    if (ice->dead || ice->handler.data == NULL) {
        return;
    }

    ice->depth++;
    ice->handler.data(ice->handler.arg, (uint8_t *) buf, len);
    ice->depth--;
}


static void
parley_ice_emit_candidate(parley_ice_t *ice, NiceCandidate *candidate)
{
    char   line[PARLEY_ICE_CANDIDATE_MAX];
    gchar  *sdp;

    if (ice->dead || ice->handler.local_candidate == NULL) {
        return;
    }

    sdp = nice_agent_generate_local_candidate_sdp(ice->agent, candidate);
    if (sdp == NULL) {
        return;
    }

    if (parley_ice_rewrite_candidate(sdp, ice->announced, line, sizeof(line))
        == PARLEY_ICE_OK)
    {
        ice->depth++;
        ice->handler.local_candidate(ice->handler.arg, line);
        ice->depth--;
    }

    g_free(sdp);
}


static void
parley_ice_emit_gathering_done(parley_ice_t *ice)
{
    if (ice->dead || ice->handler.gathering_done == NULL) {
        return;
    }

    ice->depth++;
    ice->handler.gathering_done(ice->handler.arg);
    ice->depth--;
}


static void
parley_ice_set_state(parley_ice_t *ice, parley_ice_state_t state)
{
    if (ice->state == state) {
        return;
    }

    ice->state = state;

    if (ice->dead || ice->handler.state == NULL) {
        return;
    }

    ice->depth++;
    ice->handler.state(ice->handler.arg, state);
    ice->depth--;
}


/* RFC 7675 5.2: without consent, stop sending until a new pair is had. */
static void
parley_ice_fail(parley_ice_t *ice)
{
    ice->can_send = 0;
    parley_ice_set_state(ice, PARLEY_ICE_FAILED);
}


static parley_ice_rc_t
parley_ice_send_nice(parley_ice_t *ice, const void *buf, size_t len)
{
    if (len > G_MAXUINT) {
        return PARLEY_ICE_ERR_INVAL;
    }

    if (nice_agent_send(ice->agent, ice->stream, PARLEY_ICE_COMPONENT,
                        (guint) len, buf)
        < 0)
    {
        return PARLEY_ICE_ERR_SEND;
    }

    return PARLEY_ICE_OK;
}


static parley_ice_rc_t
parley_ice_send_error(void)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return PARLEY_ICE_ERR_AGAIN;
    }

    return PARLEY_ICE_ERR_SEND;
}


static socklen_t
parley_ice_sockaddr_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);
}


/*
 * Finds the first PARLEY_ICE_FIELDS space-separated fields of a candidate
 * attribute value; 0 if it has fewer.
 */
static int
parley_ice_split(const char *line, parley_ice_fields_t *f)
{
    int          i;
    const char  *p;

    p = line;

    for (i = 0; i < PARLEY_ICE_FIELDS; i++) {
        while (*p == ' ') {
            p++;
        }

        f->start[i] = p;
        f->len[i] = strcspn(p, " \r\n");

        if (f->len[i] == 0) {
            return 0;
        }

        p += f->len[i];
    }

    return 1;
}


static int
parley_ice_field_is(const parley_ice_fields_t *f, int i, const char *s)
{
    return f->len[i] == strlen(s) && strncmp(f->start[i], s, f->len[i]) == 0;
}


/* RFC 8839 5.1 allows an FQDN; browsers put an mDNS name there. */
static int
parley_ice_is_mdns(const char *line)
{
    size_t               n;
    const char          *addr;
    parley_ice_fields_t  f;

    if (!parley_ice_split(parley_ice_skip_prefix(line), &f)) {
        return 0;
    }

    addr = f.start[PARLEY_ICE_FIELD_ADDRESS];
    n = f.len[PARLEY_ICE_FIELD_ADDRESS];

    return n > 6 && strncmp(addr + n - 6, ".local", 6) == 0;
}


static const char *
parley_ice_skip_prefix(const char *line)
{
    return strncmp(line, "a=", 2) == 0 ? line + 2 : line;
}
