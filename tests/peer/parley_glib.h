/*
 * A pump that lets a single-threaded event loop (nginx's, or a test's
 * epoll loop) drive one GMainContext, so that GLib-based libraries such as
 * libnice run in that loop's thread without a GLib thread and without GLib
 * ever sleeping in poll().
 *
 * The pump does by hand what g_main_context_iteration() does, minus the
 * poll: the host loop does the waiting with its own epoll and tells the
 * pump what became ready.
 *
 * The contract, step by step:
 *
 *   1. parley_glib_pump_create(ctx, &pump) acquires ctx for the calling
 *      thread, for the pump's whole life; every pump call must be made from
 *      that thread. Create the pump on a new context, before anything is
 *      attached to it (see "GLib's wakeup fd" below).
 *
 *   2. parley_glib_pump_prepare(pump, &watch) runs GLib's prepare and query
 *      and reports, as a diff against what it reported the previous time:
 *        watch.added    fds to register with epoll, with their events;
 *        watch.changed  fds registered before whose events changed
 *                       (EPOLL_CTL_MOD);
 *        watch.removed  fds GLib no longer watches. If removed[i].closed is
 *                       set, GLib has closed that fd (its number may even
 *                       belong to another file by now): forget the host
 *                       record WITHOUT calling epoll_ctl(EPOLL_CTL_DEL) on
 *                       the number. Otherwise the fd is still open and must
 *                       be removed from epoll, or epoll will keep reporting
 *                       it.
 *        watch.timeout  milliseconds after which GLib wants to run even if
 *                       no fd becomes ready: -1 for never, 0 for "call
 *                       parley_glib_pump_timer() before sleeping at all".
 *      Apply removed before added: an fd number can appear in both (a
 *      closed fd whose number GLib reused for a new file).
 *      The arrays belong to the pump and stay valid until the next pump
 *      call. The pump never closes or reads an fd; GLib owns them all, so
 *      the host must never close them either (in nginx: free the
 *      connection, do not ngx_close_connection() it).
 *
 *   3. The host waits. Register the fds LEVEL-triggered (in nginx:
 *      NGX_LEVEL_EVENT, never NGX_CLEAR_EVENT/EPOLLET): a GLib source may
 *      read one datagram per dispatch and rely on being polled again for
 *      the rest.
 *
 *   4. When fds are ready, call parley_glib_pump_dispatch(pump, ready, n)
 *      with each ready fd and its revents (PARLEY_GLIB_IN, ...); it runs
 *      GLib's check and dispatch, that is, the sources' callbacks. Ready
 *      fds may also be handed in one at a time with parley_glib_pump_ready()
 *      and then dispatched together with parley_glib_pump_dispatch(pump,
 *      NULL, 0) - convenient when each fd has its own event handler.
 *      When the timeout expires, call parley_glib_pump_timer(pump) instead;
 *      it is the same check and dispatch with no fd ready.
 *
 *   5. Before the host loop sleeps again, call parley_glib_pump_prepare()
 *      again. This is needed after every dispatch or timer call AND after
 *      any call into a GLib-based library on this context made from outside
 *      the pump (e.g. parley_ice_add_remote_candidate() from a signaling
 *      handler): such a call can add a timer that only prepare reports. In
 *      nginx: post one event to ngx_posted_events, whose handler calls
 *      prepare and applies the diff and the timer.
 *
 * A dispatch without a prepare since the last dispatch is allowed (the
 * pump then prepares internally; the diff is kept for the next prepare),
 * and so is a prepare without a dispatch.
 *
 * Fd reuse. If GLib closes fd N and a new file gets number N before the
 * next prepare, the fd set looks unchanged, but the kernel has dropped the
 * old file from the host's epoll and the new one is not in it. Nothing in
 * GLib tells it cheaply, so whoever closes an fd GLib watches says so with
 * parley_glib_pump_closed() (parley_ice does, for its sockets); the next
 * prepare then reports N removed (closed) and, if GLib watches the number
 * again, added. A removed fd nobody announced is still recognised as
 * closed or replaced (fstat() of the removed fds only, against the
 * identity recorded when it was added).
 *
 * GLib's wakeup fd. A context polls an eventfd of its own, which GLib
 * signals whenever its poll records change - including twice per dispatch
 * of any fd source, which it blocks and unblocks around the callback.
 * Left alone that would wake the host a second time after every dispatch.
 * The pump recognises it as the only fd of a new context and drains it
 * after each dispatch: the host prepares right after a dispatch anyway,
 * which is all a wakeup asks for. So create the pump on a new context,
 * before anything is attached to it; on another context it still works,
 * one extra loop iteration per dispatch. The fd is still reported, so
 * that a wakeup from another thread is seen.
 *
 * Callbacks dispatched by GLib must not prepare, dispatch or mark fds
 * ready (PARLEY_GLIB_ERR_REENTRANT); parley_glib_pump_closed() and
 * parley_glib_pump_stamp() are allowed anywhere.
 */

#ifndef _PARLEY_GLIB_H_INCLUDED_
#define _PARLEY_GLIB_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <glib.h>


/*
 * Event bits: GLib's, which have the values of poll(2)'s POLLIN, POLLOUT,
 * ...; on Linux the EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR and EPOLLHUP
 * bits have the same values too, but translate them explicitly.
 */
#define PARLEY_GLIB_IN    G_IO_IN
#define PARLEY_GLIB_OUT   G_IO_OUT
#define PARLEY_GLIB_PRI   G_IO_PRI
#define PARLEY_GLIB_ERR   G_IO_ERR
#define PARLEY_GLIB_HUP   G_IO_HUP
#define PARLEY_GLIB_NVAL  G_IO_NVAL


#define PARLEY_GLIB_RESULTS(X)                                               \
    X(OK,            "ok")                                                   \
    X(ERR_INVAL,     "invalid argument")                                     \
    X(ERR_NOMEM,     "out of memory")                                        \
    X(ERR_OWNED,     "context is owned by another thread")                   \
    X(ERR_REENTRANT, "pump called from a callback it dispatched")

#define PARLEY_GLIB_RESULT_ENUM(name, text)  PARLEY_GLIB_##name,

typedef enum {
    PARLEY_GLIB_RESULTS(PARLEY_GLIB_RESULT_ENUM)
    PARLEY_GLIB_NRESULTS
} parley_glib_rc_t;


typedef struct parley_glib_pump_s  parley_glib_pump_t;


typedef struct {
    int             fd;
    unsigned short  events;        /* PARLEY_GLIB_IN | PARLEY_GLIB_OUT ... */
    unsigned        closed:1;      /* removed only: see the contract */
} parley_glib_fd_t;


typedef struct {
    const parley_glib_fd_t  *added;
    size_t                   nadded;
    const parley_glib_fd_t  *changed;
    size_t                   nchanged;
    const parley_glib_fd_t  *removed;
    size_t                   nremoved;
    int                      timeout;   /* ms; -1: none */
} parley_glib_watch_t;


typedef struct {
    int             fd;
    unsigned short  revents;       /* PARLEY_GLIB_IN ... as epoll said */
} parley_glib_ready_t;


typedef struct {
    uint64_t  prepares;
    uint64_t  dispatches;          /* dispatch and timer calls */
    uint64_t  closed;              /* removed fds reported closed */
} parley_glib_stats_t;


const char *parley_glib_rc_str(parley_glib_rc_t rc);

/*
 * Acquires ctx (which must not be NULL) and takes a reference on it.
 * PARLEY_GLIB_ERR_OWNED if another thread holds it.
 */
parley_glib_rc_t parley_glib_pump_create(GMainContext *ctx,
    parley_glib_pump_t **pump);

/*
 * Releases the context and frees the pump. The sources attached to the
 * context are not touched: destroy their owners first. NULL is ignored.
 */
void parley_glib_pump_destroy(parley_glib_pump_t *pump);

/* Step 2 of the contract. */
parley_glib_rc_t parley_glib_pump_prepare(parley_glib_pump_t *pump,
    parley_glib_watch_t *watch);

/*
 * Records that fd became ready with revents, for the next dispatch. An fd
 * that GLib does not watch (any more) is ignored.
 */
parley_glib_rc_t parley_glib_pump_ready(parley_glib_pump_t *pump, int fd,
    unsigned short revents);

/*
 * Step 4: records the n ready fds (ready may be NULL if n is 0), then runs
 * GLib's check and dispatch with everything recorded.
 */
parley_glib_rc_t parley_glib_pump_dispatch(parley_glib_pump_t *pump,
    const parley_glib_ready_t *ready, size_t n);

/* Step 4 when the timeout expired: check and dispatch. */
parley_glib_rc_t parley_glib_pump_timer(parley_glib_pump_t *pump);

/*
 * Tells that fd, which GLib may watch, is being or was closed: see "fd
 * reuse". May be called at any time, from GLib callbacks too.
 */
parley_glib_rc_t parley_glib_pump_closed(parley_glib_pump_t *pump, int fd);

/*
 * From now on, each time the host reports fd readable, *when gets the
 * monotonic time (g_get_monotonic_time(), microseconds); when NULL stops
 * it. It tells its owner that something arrived even when a GLib source
 * reads and consumes it silently (libnice and STUN), at no GLib cost.
 * May be called at any time, from GLib callbacks too.
 */
parley_glib_rc_t parley_glib_pump_stamp(parley_glib_pump_t *pump, int fd,
    int64_t *when);

void parley_glib_pump_stats(const parley_glib_pump_t *pump,
    parley_glib_stats_t *stats);


#endif /* _PARLEY_GLIB_H_INCLUDED_ */
