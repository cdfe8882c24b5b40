/*
 * Unit tests for the GLib pump (tests/peer/parley_glib.c) and the ICE
 * transport on libnice (tests/peer/parley_ice.c).
 *
 * Everything runs in this one thread: a small level-triggered epoll loop
 * plays the nginx worker and drives one GMainContext through the pump, as
 * the module's glue will. Two transports, a lite "server" and a full
 * controlling "client" (the browser's role), talk over 127.0.0.1 in the
 * port range below; signaling is a queue of candidate lines the loop
 * delivers, as a WebSocket would. A third loopback address plays a 1:1
 * NAT in front of the server, so that the announced address is tested
 * end to end without leaving the host.
 *
 * The receive-cost measurement runs only with PARLEY_ICE_BENCH=1 in the
 * environment: timings belong in benchmarks (docs/performance.md), not in
 * the tests that make test runs.
 *
 * Consent (RFC 7675) is a matter of time: silence turns a transport
 * disconnected, then failed. Those tests set the time themselves (see
 * "The clock" below) instead of living through real 40-500 ms windows,
 * which a loaded machine or the sanitizers stretch past the timeouts.
 */

#define _GNU_SOURCE                        /* recvmmsg() */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include "parley_glib.h"
#include "parley_ice.h"


#define PORT_MIN         40000
#define PORT_MAX         40100
#define LOCALHOST        "127.0.0.1"
#define NAT_PUBLIC       "127.0.0.3"       /* the announced address */
#define NAT_INSIDE       "127.0.0.4"       /* the NAT's side to the server */
#define NAT_INSIDE_NEW   "127.0.0.5"       /* ... after the network changed */

#define FD_LIMIT         4096
#define TAG_PUMP         1
#define TAG_NAT          2

#define MAX_CANDIDATES   16
#define PACKETS          1000
#define BURST            50
#define PAYLOAD_MAX      1200


/* The host loop */

typedef struct loop_s  loop_t;

typedef void (*loop_fd_handler_pt)(void *arg, int fd);
typedef void (*loop_tick_pt)(void *arg);

struct loop_s {
    GMainContext         *ctx;
    parley_glib_pump_t   *pump;
    int                   ep;
    int                   timeout;
    unsigned char         registered[FD_LIMIT];
    size_t                nregistered;
    uint64_t              closed_reported;
    loop_fd_handler_pt    own_handler;     /* fds the test watches */
    void                 *own_arg;
    loop_tick_pt          tick;            /* signaling, checks */
    void                 *tick_arg;
};


/* Signaling and the two peers */

typedef struct peer_s  peer_t;

struct peer_s {
    const char          *name;
    parley_ice_t        *ice;
    peer_t              *other;

    char                 outbox[MAX_CANDIDATES][PARLEY_ICE_CANDIDATE_MAX];
    unsigned             nout;
    char                 signaled[MAX_CANDIDATES][PARLEY_ICE_CANDIDATE_MAX];
    unsigned             nsignaled;
    unsigned             gathering_done;
    unsigned             end_pending;

    parley_ice_state_t   state;
    unsigned             states[PARLEY_ICE_FAILED + 1];  /* times entered */
    unsigned             pairs;
    struct sockaddr_storage  pair_local;
    struct sockaddr_storage  pair_remote;

    uint32_t             next_seq;         /* expected */
    unsigned             received;
    unsigned             corrupt;
    unsigned             out_of_order;
    unsigned             destroy_in_callback;
};


typedef struct {
    peer_t              *server;
    peer_t              *client;
    unsigned             check_consent:1;
} pair_t;


/* A 1:1 NAT on loopback: public NAT_PUBLIC:port <-> inside socket */

typedef struct {
    int                      outside;      /* NAT_PUBLIC:server port */
    int                      inside;       /* NAT_INSIDE:any */
    struct sockaddr_in       server;       /* LOCALHOST:server port */
    struct sockaddr_storage  client;       /* last seen outside */
    socklen_t                client_len;
    unsigned                 down:1;       /* drops everything */
    unsigned                 forwarded;
} nat_t;


/*
 * The clock.
 *
 * parley_ice and the pump read the time with g_get_monotonic_time(); this
 * program defines that function, so its definition stands in for GLib's
 * there (and in libnice, which only counts its own timeouts with it;
 * GLib's main loop keeps its own clock). It follows the real monotonic
 * clock until clock_freeze(); from then on only clock_advance() moves it,
 * until clock_thaw(), after which it runs on from where it stood. The
 * test's own deadlines (now_ms) keep the real clock.
 */

static int      clock_frozen;
static int64_t  clock_frozen_us;       /* the time while frozen */
static int64_t  clock_offset_us;       /* added to the real time otherwise */


static int64_t
real_monotonic_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


gint64
g_get_monotonic_time(void)
{
    return clock_frozen ? clock_frozen_us
                        : real_monotonic_us() + clock_offset_us;
}


static void
clock_freeze(void)
{
    clock_frozen_us = g_get_monotonic_time();
    clock_frozen = 1;
}


static void
clock_advance(unsigned ms)
{
    assert_true(clock_frozen);
    clock_frozen_us += (int64_t) ms * 1000;
}


static void
clock_thaw(void)
{
    clock_offset_us = clock_frozen_us - real_monotonic_us();
    clock_frozen = 0;
}


static uint64_t
now_ms(void)
{
    return (uint64_t) (real_monotonic_us() / 1000);
}


static uint64_t
cpu_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}


static void
loop_init(loop_t *l, GMainContext *ctx)
{
    memset(l, 0, sizeof(loop_t));

    l->ctx = ctx;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(l->ep >= 0);
    assert_int_equal(parley_glib_pump_create(ctx, &l->pump), PARLEY_GLIB_OK);
}


static void
loop_free(loop_t *l)
{
    parley_glib_pump_destroy(l->pump);
    close(l->ep);
}


static void
loop_watch_own(loop_t *l, int fd)
{
    struct epoll_event  ev;

    ev.events = EPOLLIN;
    ev.data.u64 = ((uint64_t) TAG_NAT << 32) | (uint32_t) fd;
    assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev), 0);
}


/* Applies a diff the way the nginx glue must, checking its invariants. */
static void
loop_apply(loop_t *l, const parley_glib_watch_t *w)
{
    size_t              i;
    int                 fd;
    struct epoll_event  ev;

    for (i = 0; i < w->nremoved; i++) {
        fd = w->removed[i].fd;
        assert_true(fd >= 0 && fd < FD_LIMIT);
        assert_true(l->registered[fd]);

        if (w->removed[i].closed) {
            l->closed_reported++;

        } else {
            assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL), 0);
        }

        l->registered[fd] = 0;
        l->nregistered--;
    }

    for (i = 0; i < w->nadded; i++) {
        fd = w->added[i].fd;
        assert_true(fd >= 0 && fd < FD_LIMIT);
        assert_false(l->registered[fd]);

        /* level-triggered, as the contract asks */
        ev.events = w->added[i].events;
        ev.data.u64 = ((uint64_t) TAG_PUMP << 32) | (uint32_t) fd;
        assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev), 0);

        l->registered[fd] = 1;
        l->nregistered++;
    }

    for (i = 0; i < w->nchanged; i++) {
        fd = w->changed[i].fd;
        assert_true(l->registered[fd]);

        ev.events = w->changed[i].events;
        ev.data.u64 = ((uint64_t) TAG_PUMP << 32) | (uint32_t) fd;
        assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev), 0);
    }
}


static void
loop_prepare(loop_t *l)
{
    parley_glib_watch_t  w;

    assert_int_equal(parley_glib_pump_prepare(l->pump, &w), PARLEY_GLIB_OK);
    loop_apply(l, &w);
    l->timeout = w.timeout;
}


/* One turn: tick, prepare, wait at most max_ms, dispatch. */
static void
loop_once(loop_t *l, int max_ms)
{
    int                  i, n, wait, npump;
    struct epoll_event   evs[64];
    parley_glib_ready_t  ready[64];

    if (l->tick != NULL) {
        l->tick(l->tick_arg);
    }

    loop_prepare(l);

    wait = l->timeout < 0 || l->timeout > max_ms ? max_ms : l->timeout;

    n = epoll_wait(l->ep, evs, 64, wait);
    assert_true(n >= 0 || errno == EINTR);

    npump = 0;

    for (i = 0; i < n; i++) {
        if (evs[i].data.u64 >> 32 == TAG_NAT) {
            l->own_handler(l->own_arg, (int) (uint32_t) evs[i].data.u64);
            continue;
        }

        ready[npump].fd = (int) (uint32_t) evs[i].data.u64;
        ready[npump].revents = (unsigned short) evs[i].events;
        npump++;
    }

    if (npump > 0) {
        assert_int_equal(parley_glib_pump_dispatch(l->pump, ready,
                                                   (size_t) npump),
                         PARLEY_GLIB_OK);

    } else if (n <= 0) {
        assert_int_equal(parley_glib_pump_timer(l->pump), PARLEY_GLIB_OK);
    }
}


static int
loop_until(loop_t *l, int (*done)(void *), void *arg, unsigned ms)
{
    uint64_t  end;

    end = now_ms() + ms;

    while (!done(arg)) {
        if (now_ms() >= end) {
            return 0;
        }

        loop_once(l, 10);
    }

    return 1;
}


static void
loop_for(loop_t *l, unsigned ms)
{
    uint64_t  end;

    end = now_ms() + ms;

    while (now_ms() < end) {
        loop_once(l, 10);
    }
}


/* Pump tests */

static gboolean
on_timeout_count(gpointer data)
{
    (*(unsigned *) data)++;

    return G_SOURCE_REMOVE;
}


static int
is_nonzero(void *arg)
{
    return *(unsigned *) arg != 0;
}


static void
test_pump_timeout(void **state)
{
    unsigned       fired;
    uint64_t       start;
    GSource       *source;
    loop_t         l;
    GMainContext  *ctx;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    /* a new context watches only its wakeup fd and has no timeout */
    loop_prepare(&l);
    assert_int_equal(l.nregistered, 1);
    assert_int_equal(l.timeout, -1);

    fired = 0;
    source = g_timeout_source_new(60);
    g_source_set_callback(source, on_timeout_count, &fired, NULL);
    g_source_attach(source, ctx);

    loop_prepare(&l);
    assert_true(l.timeout > 0 && l.timeout <= 60);

    start = now_ms();
    assert_true(loop_until(&l, is_nonzero, &fired, 2000));
    assert_int_equal(fired, 1);
    assert_true(now_ms() - start >= 55);

    loop_prepare(&l);
    assert_int_equal(l.timeout, -1);

    g_source_unref(source);
    loop_free(&l);
    g_main_context_unref(ctx);
}


static gboolean
on_pipe_readable(gint fd, GIOCondition condition, gpointer data)
{
    char  c;

    assert_true(condition & G_IO_IN);
    assert_int_equal(read(fd, &c, 1), 1);
    (*(unsigned *) data)++;

    return G_SOURCE_CONTINUE;
}


static gboolean
on_socket_readable(GSocket *socket, GIOCondition condition, gpointer data)
{
    char  buf[64];

    assert_true(condition & G_IO_IN);
    assert_int_equal(g_socket_receive(socket, buf, sizeof(buf), NULL, NULL),
                     5);
    assert_memory_equal(buf, "hello", 5);
    (*(unsigned *) data)++;

    return G_SOURCE_CONTINUE;
}


static GSocket *
udp_socket(const char *ip)
{
    GSocket         *s;
    GInetAddress    *ia;
    GSocketAddress  *sa;

    s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                     G_SOCKET_PROTOCOL_UDP, NULL);
    assert_non_null(s);

    ia = g_inet_address_new_from_string(ip);
    sa = g_inet_socket_address_new(ia, 0);
    assert_true(g_socket_bind(s, sa, FALSE, NULL));
    g_object_unref(sa);
    g_object_unref(ia);

    return s;
}


static void
test_pump_fd_sources(void **state)
{
    int             p[2];
    unsigned        piped, received;
    GSocket        *rx, *tx;
    GSource        *pipe_source, *socket_source;
    loop_t          l;
    GMainContext   *ctx;
    GSocketAddress *to;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);
    loop_prepare(&l);

    assert_int_equal(pipe(p), 0);

    piped = 0;
    pipe_source = g_unix_fd_source_new(p[0], G_IO_IN);
    g_source_set_callback(pipe_source, G_SOURCE_FUNC(on_pipe_readable),
                          &piped, NULL);
    g_source_attach(pipe_source, ctx);

    rx = udp_socket(LOCALHOST);
    tx = udp_socket(LOCALHOST);
    received = 0;
    socket_source = g_socket_create_source(rx, G_IO_IN, NULL);
    g_source_set_callback(socket_source, G_SOURCE_FUNC(on_socket_readable),
                          &received, NULL);
    g_source_attach(socket_source, ctx);

    loop_prepare(&l);
    assert_int_equal(l.nregistered, 3);
    assert_true(l.registered[p[0]]);
    assert_true(l.registered[g_socket_get_fd(rx)]);

    /* nothing ready: nothing dispatched */
    loop_for(&l, 30);
    assert_int_equal(piped, 0);
    assert_int_equal(received, 0);

    assert_int_equal(write(p[1], "xy", 2), 2);
    to = g_socket_get_local_address(rx, NULL);
    assert_int_equal(g_socket_send_to(tx, to, "hello", 5, NULL, NULL), 5);
    g_object_unref(to);

    assert_true(loop_until(&l, is_nonzero, &received, 1000));
    loop_for(&l, 30);
    assert_int_equal(piped, 2);    /* level-triggered: both bytes read */
    assert_int_equal(received, 1);

    /* a source removed while its fd stays open: the host must DEL it */
    g_source_destroy(pipe_source);
    loop_prepare(&l);
    assert_false(l.registered[p[0]]);
    assert_int_equal(l.closed_reported, 0);

    g_source_destroy(socket_source);
    g_source_unref(socket_source);
    g_source_unref(pipe_source);
    g_object_unref(rx);
    g_object_unref(tx);
    close(p[0]);
    close(p[1]);

    loop_prepare(&l);
    assert_int_equal(l.nregistered, 1);

    loop_free(&l);
    g_main_context_unref(ctx);
}


/*
 * GLib closes fd N and a new file gets N before the next prepare: once the
 * closer says so, the host ends up watching the new file.
 */
static void
test_pump_fd_reuse(void **state)
{
    int                  a[2], b[2];
    unsigned             got;
    GSource             *source;
    loop_t               l;
    GMainContext        *ctx;
    parley_glib_stats_t  stats;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    assert_int_equal(pipe(a), 0);
    got = 0;
    source = g_unix_fd_source_new(a[0], G_IO_IN);
    g_source_set_callback(source, G_SOURCE_FUNC(on_pipe_readable), &got,
                          NULL);
    g_source_attach(source, ctx);
    loop_prepare(&l);
    assert_true(l.registered[a[0]]);

    g_source_destroy(source);
    g_source_unref(source);
    close(a[0]);
    close(a[1]);
    assert_int_equal(parley_glib_pump_closed(l.pump, a[0]), PARLEY_GLIB_OK);

    assert_int_equal(pipe(b), 0);
    assert_int_equal(b[0], a[0]);          /* the number came back */

    source = g_unix_fd_source_new(b[0], G_IO_IN);
    g_source_set_callback(source, G_SOURCE_FUNC(on_pipe_readable), &got,
                          NULL);
    g_source_attach(source, ctx);

    /* removed as closed (no EPOLL_CTL_DEL), added again */
    loop_prepare(&l);
    assert_int_equal(l.closed_reported, 1);
    assert_true(l.registered[b[0]]);

    assert_int_equal(write(b[1], "z", 1), 1);
    assert_true(loop_until(&l, is_nonzero, &got, 1000));
    assert_int_equal(got, 1);

    /* closed without a word: recognised when GLib stops watching it */
    g_source_destroy(source);
    g_source_unref(source);
    close(b[0]);
    close(b[1]);
    loop_prepare(&l);
    assert_int_equal(l.closed_reported, 2);
    assert_int_equal(l.nregistered, 1);

    parley_glib_pump_stats(l.pump, &stats);
    assert_int_equal(stats.closed, 2);

    loop_free(&l);
    g_main_context_unref(ctx);
}


/* Each dispatch of an fd source signals GLib's wakeup; the pump eats it. */
static void
test_pump_no_extra_wakeup(void **state)
{
    int                  p[2];
    unsigned             got;
    GSource             *source;
    loop_t               l;
    GMainContext        *ctx;
    parley_glib_stats_t  before, after;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    assert_int_equal(pipe(p), 0);
    got = 0;
    source = g_unix_fd_source_new(p[0], G_IO_IN);
    g_source_set_callback(source, G_SOURCE_FUNC(on_pipe_readable), &got,
                          NULL);
    g_source_attach(source, ctx);
    loop_for(&l, 20);

    parley_glib_pump_stats(l.pump, &before);
    assert_int_equal(write(p[1], "z", 1), 1);
    loop_once(&l, 1000);
    assert_int_equal(got, 1);

    /* nothing is ready any more, so this turn waits and times out */
    loop_once(&l, 20);
    parley_glib_pump_stats(l.pump, &after);
    assert_int_equal(after.dispatches - before.dispatches, 2);

    g_source_destroy(source);
    g_source_unref(source);
    close(p[0]);
    close(p[1]);
    loop_free(&l);
    g_main_context_unref(ctx);
}


static gboolean
on_timeout_reenter(gpointer data)
{
    loop_t               *l = data;
    parley_glib_watch_t   w;

    assert_int_equal(parley_glib_pump_prepare(l->pump, &w),
                     PARLEY_GLIB_ERR_REENTRANT);
    assert_int_equal(parley_glib_pump_timer(l->pump),
                     PARLEY_GLIB_ERR_REENTRANT);
    l->timeout = -2;

    return G_SOURCE_REMOVE;
}


static int
timeout_is_marked(void *arg)
{
    return ((loop_t *) arg)->timeout == -2;
}


static void
test_pump_reentrant(void **state)
{
    GSource       *source;
    loop_t         l;
    GMainContext  *ctx;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    source = g_timeout_source_new(0);
    g_source_set_callback(source, on_timeout_reenter, &l, NULL);
    g_source_attach(source, ctx);

    loop_prepare(&l);
    assert_int_equal(l.timeout, 0);
    assert_int_equal(parley_glib_pump_timer(l.pump), PARLEY_GLIB_OK);
    assert_true(timeout_is_marked(&l));

    assert_int_equal(parley_glib_pump_prepare(NULL, NULL),
                     PARLEY_GLIB_ERR_INVAL);
    assert_string_equal(parley_glib_rc_str(PARLEY_GLIB_ERR_REENTRANT),
                        "pump called from a callback it dispatched");

    g_source_unref(source);
    loop_free(&l);
    g_main_context_unref(ctx);
}


/* The candidate rewriting and parsing */

static void
test_ice_rewrite_candidate(void **state)
{
    char  out[PARLEY_ICE_CANDIDATE_MAX];

    (void) state;

    assert_int_equal(parley_ice_rewrite_candidate(
        "a=candidate:1 1 UDP 2015364095 10.0.0.5 40006 typ host\r\n",
        "203.0.113.7", out, sizeof(out)), PARLEY_ICE_OK);
    assert_string_equal(out,
        "candidate:1 1 UDP 2015364095 203.0.113.7 40006 typ host");

    /* no announced address: only the "a=" and the line end go */
    assert_int_equal(parley_ice_rewrite_candidate(
        "a=candidate:1 1 UDP 2015364095 10.0.0.5 40006 typ host",
        NULL, out, sizeof(out)), PARLEY_ICE_OK);
    assert_string_equal(out,
        "candidate:1 1 UDP 2015364095 10.0.0.5 40006 typ host");

    /* only host candidates of the announced address's family */
    assert_int_equal(parley_ice_rewrite_candidate(
        "candidate:2 1 UDP 1677721855 198.51.100.1 40006 typ srflx "
        "raddr 10.0.0.5 rport 40006", "203.0.113.7", out, sizeof(out)),
        PARLEY_ICE_OK);
    assert_string_equal(out, "candidate:2 1 UDP 1677721855 198.51.100.1 "
                        "40006 typ srflx raddr 10.0.0.5 rport 40006");

    assert_int_equal(parley_ice_rewrite_candidate(
        "candidate:3 1 UDP 2015363583 fd00::5 40007 typ host",
        "203.0.113.7", out, sizeof(out)), PARLEY_ICE_OK);
    assert_string_equal(out,
        "candidate:3 1 UDP 2015363583 fd00::5 40007 typ host");

    assert_int_equal(parley_ice_rewrite_candidate(
        "candidate:3 1 UDP 2015363583 fd00::5 40007 typ host",
        "2001:db8::7", out, sizeof(out)), PARLEY_ICE_OK);
    assert_string_equal(out,
        "candidate:3 1 UDP 2015363583 2001:db8::7 40007 typ host");

    assert_int_equal(parley_ice_rewrite_candidate("candidate:1 1 UDP",
        NULL, out, sizeof(out)), PARLEY_ICE_ERR_INVAL);
    assert_int_equal(parley_ice_rewrite_candidate("a=ice-ufrag:abcd",
        NULL, out, sizeof(out)), PARLEY_ICE_ERR_INVAL);
    assert_int_equal(parley_ice_rewrite_candidate(
        "candidate:1 1 UDP 2015364095 10.0.0.5 40006 typ host",
        "203.0.113.7", out, 20), PARLEY_ICE_ERR_INVAL);
}


static void
test_ice_remote_candidates(void **state)
{
    loop_t                 l;
    parley_ice_t          *ice;
    GMainContext          *ctx;
    parley_ice_options_t   o;
    const char            *addrs[] = { LOCALHOST };

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    memset(&o, 0, sizeof(o));
    o.mode = PARLEY_ICE_LITE;
    o.local_addresses = addrs;
    o.nlocal_addresses = 1;

    /* the pump is required */
    assert_int_equal(parley_ice_create(ctx, &o, &ice), PARLEY_ICE_ERR_INVAL);
    o.pump = l.pump;

    assert_int_equal(parley_ice_create(ctx, &o, &ice), PARLEY_ICE_OK);

    assert_int_equal(parley_ice_add_remote_candidate(ice,
        "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host "
        "generation 0\r\n"), PARLEY_ICE_OK);
    assert_int_equal(parley_ice_add_remote_candidate(ice,
        "a=candidate:2 1 udp 1686052607 198.51.100.9 6000 typ srflx "
        "raddr 192.0.2.1 rport 54321"), PARLEY_ICE_OK);
    assert_int_equal(parley_ice_add_remote_candidate(ice,
        "candidate:3 1 udp 2122260223 0d6f9a50-1c3a.local 54321 typ host"),
        PARLEY_ICE_SKIPPED);
    assert_int_equal(parley_ice_add_remote_candidate(ice,
        "candidate:4 2 udp 2122260222 192.0.2.1 54322 typ host"),
        PARLEY_ICE_SKIPPED);
    assert_int_equal(parley_ice_add_remote_candidate(ice,
        "candidate:5 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active"),
        PARLEY_ICE_SKIPPED);
    assert_int_equal(parley_ice_add_remote_candidate(ice, "candidate:x"),
                     PARLEY_ICE_ERR_INVAL);
    assert_int_equal(parley_ice_end_of_candidates(ice), PARLEY_ICE_OK);

    assert_int_equal(parley_ice_send(ice, "x", 1), PARLEY_ICE_ERR_STATE);
    assert_int_equal(parley_ice_selected_fd(ice), -1);
    assert_int_equal(parley_ice_state(ice), PARLEY_ICE_NEW);
    assert_string_equal(parley_ice_state_str(PARLEY_ICE_DISCONNECTED),
                        "disconnected");

    /* a lite agent sends nothing to the candidates it is given */
    loop_for(&l, 100);
    assert_int_equal(l.nregistered, 1);

    parley_ice_destroy(ice);

    o.announced_address = "not-an-address";
    assert_int_equal(parley_ice_create(ctx, &o, &ice), PARLEY_ICE_ERR_ADDRESS);

    loop_free(&l);
    g_main_context_unref(ctx);
}


/* Two transports */

static void
on_local_candidate(void *arg, const char *candidate)
{
    peer_t  *p = arg;

    assert_true(p->nout < MAX_CANDIDATES);
    assert_true(p->nsignaled < MAX_CANDIDATES);
    assert_int_equal(strncmp(candidate, "candidate:", 10), 0);

    strcpy(p->outbox[p->nout++], candidate);
    strcpy(p->signaled[p->nsignaled++], candidate);
}


static void
on_gathering_done(void *arg)
{
    peer_t  *p = arg;

    p->gathering_done++;
    p->end_pending = 1;
}


static void
on_state(void *arg, parley_ice_state_t state)
{
    peer_t  *p = arg;

    p->state = state;
    p->states[state]++;
}


static void
on_selected_pair(void *arg, const struct sockaddr *local,
    const struct sockaddr *remote)
{
    peer_t  *p = arg;

    p->pairs++;
    memcpy(&p->pair_local, local, sizeof(struct sockaddr_in));
    memcpy(&p->pair_remote, remote, sizeof(struct sockaddr_in));
}


/*
 * Payload i: 0x80 (an RTP-like first byte, RFC 7983), the sequence number,
 * then bytes derived from it; its length varies with i.
 */
static size_t
make_payload(uint8_t *buf, uint32_t seq)
{
    size_t  i, len;

    len = 8 + (seq * 37) % (PAYLOAD_MAX - 8);

    buf[0] = 0x80;
    buf[1] = 0;
    buf[2] = 0;
    buf[3] = 0;
    memcpy(buf + 4, &seq, 4);

    for (i = 8; i < len; i++) {
        buf[i] = (uint8_t) (seq * 7 + i);
    }

    return len;
}


static void
on_data(void *arg, const uint8_t *buf, size_t len)
{
    peer_t    *p = arg;
    size_t     want;
    uint8_t    expect[PAYLOAD_MAX];
    uint32_t   seq;

    if (p->destroy_in_callback) {
        parley_ice_destroy(p->ice);
        p->ice = NULL;
        p->received++;
        return;
    }

    if (len < 8 || buf[0] != 0x80) {
        p->corrupt++;
        return;
    }

    memcpy(&seq, buf + 4, 4);
    want = make_payload(expect, seq);

    if (want != len || memcmp(expect, buf, len) != 0) {
        p->corrupt++;
        return;
    }

    if (seq != p->next_seq) {
        p->out_of_order++;
    }

    p->next_seq = seq + 1;
    p->received++;
}


static void
peer_create(peer_t *p, const char *name, loop_t *l, parley_ice_mode_t mode,
    const char *announced)
{
    parley_ice_options_t   o;
    static const char     *addrs[] = { LOCALHOST };

    memset(p, 0, sizeof(peer_t));
    p->name = name;

    memset(&o, 0, sizeof(o));
    o.mode = mode;
    o.port_min = PORT_MIN;
    o.port_max = PORT_MAX;
    o.local_addresses = addrs;
    o.nlocal_addresses = 1;
    o.announced_address = announced;
    o.pump = l->pump;
    o.disconnected_ms = 150;
    o.failed_ms = 500;
    o.handler.local_candidate = on_local_candidate;
    o.handler.gathering_done = on_gathering_done;
    o.handler.state = on_state;
    o.handler.selected_pair = on_selected_pair;
    o.handler.data = on_data;
    o.handler.arg = p;

    assert_int_equal(parley_ice_create(l->ctx, &o, &p->ice), PARLEY_ICE_OK);
}


static void
exchange_credentials(peer_t *a, peer_t *b)
{
    const char  *ufrag, *pwd;

    parley_ice_local_credentials(a->ice, &ufrag, &pwd);
    assert_true(strlen(ufrag) >= 4 && strlen(pwd) >= 22);  /* RFC 8839 5.4 */
    assert_int_equal(parley_ice_set_remote_credentials(b->ice, ufrag, pwd),
                     PARLEY_ICE_OK);

    parley_ice_local_credentials(b->ice, &ufrag, &pwd);
    assert_int_equal(parley_ice_set_remote_credentials(a->ice, ufrag, pwd),
                     PARLEY_ICE_OK);
}


/* Delivers what each peer trickled to the other, as signaling would. */
static void
signal_flush(peer_t *p)
{
    unsigned  i;

    if (p->other->ice == NULL) {
        p->nout = 0;
        return;
    }

    for (i = 0; i < p->nout; i++) {
        assert_int_equal(parley_ice_add_remote_candidate(p->other->ice,
                                                         p->outbox[i]),
                         PARLEY_ICE_OK);
    }

    p->nout = 0;

    if (p->end_pending) {
        assert_int_equal(parley_ice_end_of_candidates(p->other->ice),
                         PARLEY_ICE_OK);
        p->end_pending = 0;
    }
}


static void
pair_tick(void *arg)
{
    pair_t  *pr = arg;

    signal_flush(pr->server);
    signal_flush(pr->client);

    if (pr->check_consent && pr->server->ice != NULL) {
        parley_ice_check_consent(pr->server->ice);
    }
}


static int
both_connected(void *arg)
{
    pair_t  *pr = arg;

    return pr->server->state == PARLEY_ICE_CONNECTED
           && pr->client->state == PARLEY_ICE_CONNECTED
           && pr->server->pairs > 0 && pr->client->pairs > 0;
}


static void
pair_setup(pair_t *pr, peer_t *server, peer_t *client, loop_t *l)
{
    pr->server = server;
    pr->client = client;
    pr->check_consent = 0;
    server->other = client;
    client->other = server;

    l->tick = pair_tick;
    l->tick_arg = pr;
}


static void
pair_connect(pair_t *pr, loop_t *l)
{
    exchange_credentials(pr->server, pr->client);

    assert_int_equal(parley_ice_gather(pr->server->ice), PARLEY_ICE_OK);
    assert_int_equal(parley_ice_gather(pr->client->ice), PARLEY_ICE_OK);
    assert_int_equal(pr->server->gathering_done, 1);

    assert_true(loop_until(l, both_connected, pr, 3000));
}


typedef struct {
    peer_t    *peer;
    unsigned   want;
} wait_rx_t;


static int
received_enough(void *arg)
{
    wait_rx_t  *w = arg;

    return w->peer->received >= w->want;
}


/*
 * count packets from "from" to "to", in bursts of BURST, alternately with
 * parley_ice_send() and parley_ice_send_batch(); the loop runs between
 * bursts so that the receiver's socket buffer never overflows.
 */
static void
send_packets(loop_t *l, peer_t *from, peer_t *to, unsigned count)
{
    uint8_t        bufs[BURST][PAYLOAD_MAX];
    size_t         i, n, sent;
    uint32_t       base;
    unsigned       done, start;
    wait_rx_t      w;
    struct iovec   iov[BURST];

    base = to->next_seq;
    start = to->received;

    for (done = 0; done < count; done += (unsigned) n) {
        n = count - done < BURST ? count - done : BURST;

        for (i = 0; i < n; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = make_payload(bufs[i], base + done + (uint32_t) i);
        }

        if ((done / BURST) % 2 == 0) {
            for (i = 0; i < n; i++) {
                assert_int_equal(parley_ice_send(from->ice, iov[i].iov_base,
                                                 iov[i].iov_len),
                                 PARLEY_ICE_OK);
            }

        } else {
            assert_int_equal(parley_ice_send_batch(from->ice, iov, n, &sent),
                             PARLEY_ICE_OK);
            assert_int_equal(sent, n);
        }

        w.peer = to;
        w.want = start + done + (unsigned) n;
        assert_true(loop_until(l, received_enough, &w, 2000));
    }

    assert_int_equal(to->received - start, count);
    assert_int_equal(to->corrupt, 0);
    assert_int_equal(to->out_of_order, 0);
}


static unsigned
candidate_port(const char *line)
{
    unsigned  port;
    char      addr[64];

    assert_int_equal(sscanf(line, "candidate:%*s %*u %*s %*u %63s %u typ",
                            addr, &port), 2);

    return port;
}


static void
assert_address(const struct sockaddr_storage *ss, const char *ip,
    unsigned port_min, unsigned port_max)
{
    char                       buf[INET_ADDRSTRLEN];
    unsigned                   port;
    const struct sockaddr_in  *sin;

    assert_int_equal(ss->ss_family, AF_INET);
    sin = (const struct sockaddr_in *) ss;
    assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)));
    assert_string_equal(buf, ip);

    port = ntohs(sin->sin_port);
    assert_true(port >= port_min && port <= port_max);
}


/* Waits until the pump watches nothing but GLib's own wakeup fd. */
static int
only_wakeup_left(void *arg)
{
    return ((loop_t *) arg)->nregistered == 1;
}


typedef struct {
    peer_t    *peer;
    unsigned   pairs;
} wait_pair_t;


static int
reconnected(void *arg)
{
    wait_pair_t  *w = arg;

    return w->peer->state == PARLEY_ICE_CONNECTED && w->peer->pairs > w->pairs;
}


static void
restart_both(peer_t *server, peer_t *client)
{
    char         old_ufrag[PARLEY_ICE_UFRAG_MAX + 1];
    char         old_pwd[PARLEY_ICE_PWD_MAX + 1];
    unsigned     signaled, done;
    const char  *ufrag, *pwd;

    /* the browser restarts (a new offer), then the SFU (its answer) */
    parley_ice_local_credentials(client->ice, &ufrag, &pwd);
    strcpy(old_ufrag, ufrag);
    strcpy(old_pwd, pwd);
    assert_int_equal(parley_ice_restart(client->ice), PARLEY_ICE_OK);
    parley_ice_local_credentials(client->ice, &ufrag, &pwd);
    assert_string_not_equal(ufrag, old_ufrag);
    assert_string_not_equal(pwd, old_pwd);

    signaled = server->nsignaled;
    done = server->gathering_done;

    parley_ice_local_credentials(server->ice, &ufrag, &pwd);
    strcpy(old_ufrag, ufrag);
    assert_int_equal(parley_ice_restart(server->ice), PARLEY_ICE_OK);
    parley_ice_local_credentials(server->ice, &ufrag, &pwd);
    assert_string_not_equal(ufrag, old_ufrag);

    /* the candidates come again, for the answer */
    assert_true(server->nsignaled > signaled);
    assert_int_equal(server->gathering_done, done + 1);

    exchange_credentials(server, client);
}


static void
test_ice_connect_data_restart(void **state)
{
    int             fd;
    unsigned        i;
    loop_t          l;
    peer_t          server, client;
    pair_t          pr;
    wait_pair_t     ws, wc;
    GMainContext   *ctx;
    struct sockaddr_storage  local;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    peer_create(&server, "server", &l, PARLEY_ICE_LITE, NULL);
    peer_create(&client, "client", &l, PARLEY_ICE_FULL_CONTROLLING, NULL);
    pair_setup(&pr, &server, &client, &l);
    pair_connect(&pr, &l);

    /* the host candidate: 127.0.0.1, a port of the range */
    assert_true(server.nsignaled >= 1);
    for (i = 0; i < server.nsignaled; i++) {
        assert_non_null(strstr(server.signaled[i], " " LOCALHOST " "));
        assert_in_range(candidate_port(server.signaled[i]), PORT_MIN,
                        PORT_MAX);
    }

    assert_address(&server.pair_local, LOCALHOST, PORT_MIN, PORT_MAX);
    assert_address(&server.pair_remote, LOCALHOST, PORT_MIN, PORT_MAX);
    assert_int_equal(parley_ice_selected_pair(server.ice, &local, NULL),
                     PARLEY_ICE_OK);
    assert_memory_equal(&local, &server.pair_local,
                        sizeof(struct sockaddr_in));
    fd = parley_ice_selected_fd(server.ice);
    assert_true(fd >= 0 && l.registered[fd]);

    send_packets(&l, &client, &server, PACKETS);
    send_packets(&l, &server, &client, PACKETS);

    /* RFC 8445 9: new credentials, the same sockets, a new pair */
    ws.peer = &server;
    ws.pairs = server.pairs;
    wc.peer = &client;
    wc.pairs = client.pairs;

    restart_both(&server, &client);

    assert_true(loop_until(&l, reconnected, &ws, 3000));
    assert_true(loop_until(&l, reconnected, &wc, 3000));

    send_packets(&l, &client, &server, 200);
    send_packets(&l, &server, &client, 200);

    parley_ice_destroy(client.ice);
    client.ice = NULL;
    parley_ice_destroy(server.ice);
    server.ice = NULL;

    /* the sockets are closed: the pump says so */
    assert_true(loop_until(&l, only_wakeup_left, &l, 1000));
    assert_true(l.closed_reported >= 2);

    loop_free(&l);
    g_main_context_unref(ctx);
}


/* CRC-32 as STUN's FINGERPRINT uses it (RFC 8489 14.7). */
static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
    int       k;
    uint32_t  crc;

    crc = 0xffffffff;

    while (n--) {
        crc ^= *p++;
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
        }
    }

    return ~crc;
}


/*
 * A Binding indication (RFC 8445 11 keepalive) from the client's socket to
 * the server: STUN that libnice consumes and the data callback never sees.
 */
static void
send_stun_indication(peer_t *client, peer_t *server, uint8_t n)
{
    uint8_t   m[28];
    uint32_t  fp;

    memset(m, 0, sizeof(m));
    m[1] = 0x11;                                   /* Binding indication */
    m[3] = 8;                                      /* FINGERPRINT follows */
    m[4] = 0x21; m[5] = 0x12; m[6] = 0xa4; m[7] = 0x42;
    m[8] = n;                                      /* transaction id */
    m[20] = 0x80; m[21] = 0x28; m[23] = 4;         /* FINGERPRINT */

    fp = crc32_ieee(m, 20) ^ 0x5354554e;
    m[24] = (uint8_t) (fp >> 24);
    m[25] = (uint8_t) (fp >> 16);
    m[26] = (uint8_t) (fp >> 8);
    m[27] = (uint8_t) fp;

    assert_int_equal(sendto(parley_ice_selected_fd(client->ice), m,
                            sizeof(m), 0,
                            (struct sockaddr *) &server->pair_local,
                            sizeof(struct sockaddr_in)),
                     sizeof(m));
}


/*
 * Waits until a datagram sent to fd is there, then turns the loop until
 * the pump has read it: the transport has heard it at the clock's time.
 */
static void
loop_drain(loop_t *l, int fd)
{
    uint64_t       end;
    struct pollfd  p;

    p.fd = fd;
    p.events = POLLIN;
    assert_int_equal(poll(&p, 1, 2000), 1);

    end = now_ms() + 2000;

    for ( ;; ) {
        p.revents = 0;
        if (poll(&p, 1, 0) == 0) {
            return;
        }

        assert_true(now_ms() < end);
        loop_once(l, 10);
    }
}


/* The clock moves on by ms; one turn runs the consent check at that time. */
static parley_ice_state_t
consent_after(loop_t *l, peer_t *p, unsigned ms)
{
    clock_advance(ms);
    loop_once(l, 0);

    return p->state;
}


static void
test_ice_consent_loss(void **state)
{
    unsigned       i, received;
    loop_t         l;
    peer_t         server, client;
    pair_t         pr;
    GMainContext  *ctx;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    peer_create(&server, "server", &l, PARLEY_ICE_LITE, NULL);
    peer_create(&client, "client", &l, PARLEY_ICE_FULL_CONTROLLING, NULL);
    pair_setup(&pr, &server, &client, &l);
    pair_connect(&pr, &l);

    /*
     * heard every 40 ms: stays connected (disconnected_ms is 150), on the
     * test's clock: 400 ms pass, however long the machine takes
     */
    clock_freeze();
    send_packets(&l, &client, &server, 1);
    pr.check_consent = 1;

    for (i = 0; i < 10; i++) {
        assert_int_equal(consent_after(&l, &server, 40),
                         PARLEY_ICE_CONNECTED);
        send_packets(&l, &client, &server, 1);
    }

    assert_int_equal(server.states[PARLEY_ICE_DISCONNECTED], 0);

    /* STUN alone keeps it alive too, though libnice eats it */
    received = server.received;
    for (i = 0; i < 10; i++) {
        send_stun_indication(&client, &server, (uint8_t) i);
        loop_drain(&l, parley_ice_selected_fd(server.ice));
        assert_int_equal(consent_after(&l, &server, 40),
                         PARLEY_ICE_CONNECTED);
    }

    assert_int_equal(server.received, received);
    assert_int_equal(server.corrupt, 0);
    assert_int_equal(server.states[PARLEY_ICE_DISCONNECTED], 0);

    /*
     * the browser vanishes, last heard 40 ms ago: disconnected past
     * 150 ms of silence, failed past 500
     */
    parley_ice_destroy(client.ice);
    client.ice = NULL;

    assert_int_equal(consent_after(&l, &server, 100), PARLEY_ICE_CONNECTED);
    assert_int_equal(consent_after(&l, &server, 20),
                     PARLEY_ICE_DISCONNECTED);
    assert_int_equal(consent_after(&l, &server, 330),
                     PARLEY_ICE_DISCONNECTED);
    assert_int_equal(consent_after(&l, &server, 20), PARLEY_ICE_FAILED);
    assert_int_equal(server.states[PARLEY_ICE_DISCONNECTED], 1);
    assert_int_equal(parley_ice_check_consent(server.ice), PARLEY_ICE_FAILED);
    clock_thaw();

    /* RFC 7675 5.2: no sending without consent */
    assert_int_equal(parley_ice_send(server.ice, "\x80", 1),
                     PARLEY_ICE_ERR_STATE);

    parley_ice_destroy(server.ice);
    server.ice = NULL;

    assert_true(loop_until(&l, only_wakeup_left, &l, 1000));
    loop_free(&l);
    g_main_context_unref(ctx);
}


static int
server_gone(void *arg)
{
    peer_t  *server = arg;

    return server->ice == NULL;
}


static void
test_ice_destroy_in_callback(void **state)
{
    loop_t         l;
    peer_t         server, client;
    pair_t         pr;
    GMainContext  *ctx;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    peer_create(&server, "server", &l, PARLEY_ICE_LITE, NULL);
    peer_create(&client, "client", &l, PARLEY_ICE_FULL_CONTROLLING, NULL);
    pair_setup(&pr, &server, &client, &l);
    pair_connect(&pr, &l);

    /* the server's data callback destroys its own transport */
    server.destroy_in_callback = 1;
    assert_int_equal(parley_ice_send(client.ice, "\x80...", 4),
                     PARLEY_ICE_OK);
    assert_int_equal(parley_ice_send(client.ice, "\x80...", 4),
                     PARLEY_ICE_OK);
    assert_true(loop_until(&l, server_gone, &server, 1000));

    /* freed on a later dispatch; no callback after the destroy */
    loop_for(&l, 50);
    assert_int_equal(server.received, 1);

    parley_ice_destroy(client.ice);
    client.ice = NULL;

    assert_true(loop_until(&l, only_wakeup_left, &l, 1000));
    loop_free(&l);
    g_main_context_unref(ctx);
}


/*
 * A peer leaves and another joins before the loop turns: the new socket
 * gets the old one's fd number, and must still be watched.
 */
static void
test_ice_fd_reuse(void **state)
{
    int            old_fd;
    loop_t         l;
    peer_t         server, client;
    pair_t         pr;
    GMainContext  *ctx;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    peer_create(&server, "server", &l, PARLEY_ICE_LITE, NULL);
    peer_create(&client, "client", &l, PARLEY_ICE_FULL_CONTROLLING, NULL);
    pair_setup(&pr, &server, &client, &l);
    pair_connect(&pr, &l);
    old_fd = parley_ice_selected_fd(server.ice);

    parley_ice_destroy(server.ice);
    parley_ice_destroy(client.ice);

    peer_create(&server, "server", &l, PARLEY_ICE_LITE, NULL);
    peer_create(&client, "client", &l, PARLEY_ICE_FULL_CONTROLLING, NULL);
    pair_setup(&pr, &server, &client, &l);
    pair_connect(&pr, &l);

    assert_int_equal(parley_ice_selected_fd(server.ice), old_fd);
    assert_true(l.closed_reported >= 2);
    send_packets(&l, &client, &server, 100);
    send_packets(&l, &server, &client, 100);

    parley_ice_destroy(server.ice);
    server.ice = NULL;
    parley_ice_destroy(client.ice);
    client.ice = NULL;

    assert_true(loop_until(&l, only_wakeup_left, &l, 1000));
    loop_free(&l);
    g_main_context_unref(ctx);
}


/* The NAT */

static int
udp_bind(const char *ip, unsigned port)
{
    int                 fd;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);

    return fd;
}


static void
nat_handle(void *arg, int fd)
{
    nat_t                    *nat = arg;
    ssize_t                   n;
    uint8_t                   buf[2048];
    socklen_t                 len;
    struct sockaddr_storage   from;

    len = sizeof(from);
    n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *) &from, &len);
    if (n < 0 || nat->down) {
        return;
    }

    if (fd == nat->outside) {
        nat->client = from;
        nat->client_len = len;
        (void) sendto(nat->inside, buf, (size_t) n, 0,
                      (struct sockaddr *) &nat->server, sizeof(nat->server));

    } else if (nat->client_len != 0) {
        (void) sendto(nat->outside, buf, (size_t) n, 0,
                      (struct sockaddr *) &nat->client, nat->client_len);
    }

    nat->forwarded++;
}


static void
nat_open(nat_t *nat, loop_t *l, unsigned port)
{
    memset(nat, 0, sizeof(nat_t));

    nat->outside = udp_bind(NAT_PUBLIC, port);
    nat->inside = udp_bind(NAT_INSIDE, 0);
    nat->server.sin_family = AF_INET;
    nat->server.sin_port = htons((uint16_t) port);
    assert_int_equal(inet_pton(AF_INET, LOCALHOST, &nat->server.sin_addr), 1);

    l->own_handler = nat_handle;
    l->own_arg = nat;
    loop_watch_own(l, nat->outside);
    loop_watch_own(l, nat->inside);
}


/* The network changed: a new mapping, from a new inside address. */
static void
nat_rebind(nat_t *nat, loop_t *l)
{
    assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_DEL, nat->inside, NULL), 0);
    close(nat->inside);

    nat->inside = udp_bind(NAT_INSIDE_NEW, 0);
    loop_watch_own(l, nat->inside);
    nat->client_len = 0;
}


static void
test_ice_announced_nat_restart(void **state)
{
    unsigned       i;
    loop_t         l;
    nat_t          nat;
    peer_t         server, client;
    pair_t         pr;
    wait_pair_t    ws, wc;
    GMainContext  *ctx;

    (void) state;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    peer_create(&server, "server", &l, PARLEY_ICE_LITE, NAT_PUBLIC);
    peer_create(&client, "client", &l, PARLEY_ICE_FULL_CONTROLLING, NULL);
    pair_setup(&pr, &server, &client, &l);
    exchange_credentials(&server, &client);

    /* the server binds 127.0.0.1 and signals the announced address */
    assert_int_equal(parley_ice_gather(server.ice), PARLEY_ICE_OK);
    assert_true(server.nsignaled >= 1);
    for (i = 0; i < server.nsignaled; i++) {
        assert_non_null(strstr(server.signaled[i], " " NAT_PUBLIC " "));
        assert_null(strstr(server.signaled[i], LOCALHOST));
    }

    nat_open(&nat, &l, candidate_port(server.signaled[0]));

    assert_int_equal(parley_ice_gather(client.ice), PARLEY_ICE_OK);
    assert_true(loop_until(&l, both_connected, &pr, 3000));
    assert_true(nat.forwarded > 0);

    /* the browser sees the public address, the server the NAT's inside */
    assert_address(&client.pair_remote, NAT_PUBLIC, PORT_MIN, PORT_MAX);
    assert_address(&server.pair_local, LOCALHOST, PORT_MIN, PORT_MAX);
    assert_address(&server.pair_remote, NAT_INSIDE, 1, 65535);

    send_packets(&l, &client, &server, 200);
    send_packets(&l, &server, &client, 200);

    /* the network breaks: silence, then failed past failed_ms */
    clock_freeze();
    send_packets(&l, &client, &server, 1);
    nat.down = 1;
    pr.check_consent = 1;
    assert_int_equal(consent_after(&l, &server, 200),
                     PARLEY_ICE_DISCONNECTED);
    assert_int_equal(consent_after(&l, &server, 310), PARLEY_ICE_FAILED);
    clock_thaw();
    assert_int_equal(parley_ice_send(server.ice, "\x80", 1),
                     PARLEY_ICE_ERR_STATE);

    /* a new network; an ICE restart recovers the connection */
    nat_rebind(&nat, &l);
    nat.down = 0;
    pr.check_consent = 0;

    ws.peer = &server;
    ws.pairs = server.pairs;
    wc.peer = &client;
    wc.pairs = client.pairs;

    restart_both(&server, &client);
    assert_int_equal(server.state, PARLEY_ICE_CONNECTING);

    assert_true(loop_until(&l, reconnected, &ws, 3000));
    assert_true(loop_until(&l, reconnected, &wc, 3000));
    assert_address(&server.pair_remote, NAT_INSIDE_NEW, 1, 65535);

    /*
     * the new path is heard: a second later than anything before it,
     * what arrives on it keeps the consent
     */
    clock_freeze();
    clock_advance(1000);
    send_packets(&l, &client, &server, 200);
    send_packets(&l, &server, &client, 200);
    pr.check_consent = 1;
    assert_int_equal(consent_after(&l, &server, 100), PARLEY_ICE_CONNECTED);
    clock_thaw();

    parley_ice_destroy(server.ice);
    server.ice = NULL;
    parley_ice_destroy(client.ice);
    client.ice = NULL;

    assert_true(loop_until(&l, only_wakeup_left, &l, 1000));

    close(nat.outside);
    close(nat.inside);
    loop_free(&l);
    g_main_context_unref(ctx);
}


/* What a received datagram costs: through GLib, and read directly */

#define BENCH_BATCH  64
#define IDLE_SOURCES 500


typedef struct {
    uint64_t  ns;
    uint64_t  dispatches;
} cost_t;


/*
 * count datagrams from the client to the server, sent "batch" at a time,
 * received through the pump: the receiving loop's CPU time per datagram.
 */
static void
measure_pump(loop_t *l, peer_t *client, peer_t *server, unsigned count,
    unsigned batch, cost_t *cost)
{
    uint8_t              bufs[BENCH_BATCH][PAYLOAD_MAX];
    size_t               i, sent;
    uint64_t             t;
    unsigned             done;
    wait_rx_t            w;
    struct iovec         iov[BENCH_BATCH];
    parley_glib_stats_t  before, after;

    cost->ns = 0;
    parley_glib_pump_stats(l->pump, &before);

    for (done = 0; done < count; done += batch) {
        for (i = 0; i < batch; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = make_payload(bufs[i], server->next_seq
                                                   + (uint32_t) i);
        }

        assert_int_equal(parley_ice_send_batch(client->ice, iov, batch,
                                               &sent), PARLEY_ICE_OK);

        w.peer = server;
        w.want = server->received + batch;

        t = cpu_ns();
        assert_true(loop_until(l, received_enough, &w, 2000));
        cost->ns += cpu_ns() - t;
    }

    parley_glib_pump_stats(l->pump, &after);
    cost->dispatches = after.dispatches - before.dispatches;

    assert_int_equal(server->corrupt, 0);
    assert_int_equal(server->out_of_order, 0);
}


/* The same datagrams read from the selected fd with recvmmsg(). */
static void
measure_direct(peer_t *client, peer_t *server, unsigned count,
    unsigned batch, cost_t *cost, unsigned *stun)
{
    int              fd, r;
    uint8_t          bufs[BENCH_BATCH][PAYLOAD_MAX];
    size_t           i, sent;
    uint64_t         t;
    unsigned         done, got;
    struct pollfd    pfd;
    struct iovec     iov[BENCH_BATCH];
    struct mmsghdr   msgs[BENCH_BATCH];

    fd = parley_ice_selected_fd(server->ice);
    assert_true(fd >= 0);

    cost->ns = 0;
    cost->dispatches = 0;

    for (done = 0; done < count; done += batch) {
        for (i = 0; i < batch; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = make_payload(bufs[i], (uint32_t) i);
        }

        assert_int_equal(parley_ice_send_batch(client->ice, iov, batch,
                                               &sent), PARLEY_ICE_OK);

        t = cpu_ns();

        for (got = 0; got < batch; /* void */) {
            memset(msgs, 0, sizeof(msgs));
            for (i = 0; i < BENCH_BATCH; i++) {
                iov[i].iov_len = PAYLOAD_MAX;
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
            }

            r = recvmmsg(fd, msgs, BENCH_BATCH, MSG_DONTWAIT, NULL);
            if (r < 0 && errno == EAGAIN) {
                /* loopback may hand the datagrams over a little later */
                pfd.fd = fd;
                pfd.events = POLLIN;
                assert_int_equal(poll(&pfd, 1, 1000), 1);
                r = 0;
                continue;
            }

            assert_true(r > 0);

            for (i = 0; i < (size_t) r; i++) {
                /* RFC 7983: 0..3 is STUN, which libnice never sees now */
                if (bufs[i][0] < 4) {
                    (*stun)++;

                } else {
                    got++;
                }
            }
        }

        cost->ns += cpu_ns() - t;
    }
}


static void
print_cost(const char *what, unsigned count, const cost_t *c)
{
    print_message("  %-44s %6.0f ns/datagram, %.3f dispatches/datagram\n",
                  what, (double) c->ns / count,
                  (double) c->dispatches / count);
}


static void
test_ice_receive_cost(void **state)
{
    int            p[IDLE_SOURCES][2];
    unsigned       i, count, stun;
    cost_t         c;
    loop_t         l;
    peer_t         server, client;
    pair_t         pr;
    GSource       *idle[IDLE_SOURCES];
    const char    *bench;
    GMainContext  *ctx;

    (void) state;

    bench = getenv("PARLEY_ICE_BENCH");

    if (bench == NULL || bench[0] != '1') {
        skip();
    }

    count = 64 * 1000;

    ctx = g_main_context_new();
    loop_init(&l, ctx);

    peer_create(&server, "server", &l, PARLEY_ICE_LITE, NULL);
    peer_create(&client, "client", &l, PARLEY_ICE_FULL_CONTROLLING, NULL);
    pair_setup(&pr, &server, &client, &l);
    pair_connect(&pr, &l);

    print_message("receive cost, %u datagrams of 8..1200 bytes, "
                  "loop CPU time:\n", count);

    measure_pump(&l, &client, &server, count, 1, &c);
    print_cost("GLib pump, 1 datagram per wakeup", count, &c);
    assert_true(c.dispatches > 0);
    measure_pump(&l, &client, &server, count, BENCH_BATCH, &c);
    print_cost("GLib pump, 64 datagrams per wakeup", count, &c);

    /* a busy worker's context: many transports' sources, all idle */
    for (i = 0; i < IDLE_SOURCES; i++) {
        assert_int_equal(pipe(p[i]), 0);
        idle[i] = i % 2 ? g_unix_fd_source_new(p[i][0], G_IO_IN)
                        : g_timeout_source_new_seconds(3600);
        g_source_set_callback(idle[i], on_timeout_count, NULL, NULL);
        g_source_attach(idle[i], ctx);
    }

    measure_pump(&l, &client, &server, count, 1, &c);
    print_cost("same, 1 per wakeup, 500 idle sources", count, &c);
    measure_pump(&l, &client, &server, count, BENCH_BATCH, &c);
    print_cost("same, 64 per wakeup, 500 idle sources", count, &c);

    for (i = 0; i < IDLE_SOURCES; i++) {
        g_source_destroy(idle[i]);
        g_source_unref(idle[i]);
        close(p[i][0]);
        close(p[i][1]);
    }

    stun = 0;
    measure_direct(&client, &server, count, 1, &c, &stun);
    print_cost("recvmmsg() on the selected fd, 1 per call", count, &c);
    measure_direct(&client, &server, count, BENCH_BATCH, &c, &stun);
    print_cost("recvmmsg() on the selected fd, 64 per call", count, &c);

    parley_ice_destroy(server.ice);
    server.ice = NULL;
    parley_ice_destroy(client.ice);
    client.ice = NULL;

    assert_true(loop_until(&l, only_wakeup_left, &l, 1000));
    loop_free(&l);
    g_main_context_unref(ctx);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_pump_timeout),
        cmocka_unit_test(test_pump_fd_sources),
        cmocka_unit_test(test_pump_fd_reuse),
        cmocka_unit_test(test_pump_no_extra_wakeup),
        cmocka_unit_test(test_pump_reentrant),
        cmocka_unit_test(test_ice_rewrite_candidate),
        cmocka_unit_test(test_ice_remote_candidates),
        cmocka_unit_test(test_ice_connect_data_restart),
        cmocka_unit_test(test_ice_consent_loss),
        cmocka_unit_test(test_ice_destroy_in_callback),
        cmocka_unit_test(test_ice_fd_reuse),
        cmocka_unit_test(test_ice_announced_nat_restart),
        cmocka_unit_test(test_ice_receive_cost),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
