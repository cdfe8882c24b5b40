/*
 * The GLib pump: see parley_glib.h for the contract.
 *
 * One iteration of GLib is prepare, query, poll, check, dispatch. The pump
 * runs prepare and query in parley_glib_pump_prepare(), leaves the poll to
 * the host, and runs check and dispatch when the host reports readiness.
 *
 * Query is always asked for every fd (max priority G_MAXINT), not only for
 * those of the priority that prepare found ready, so that the set the host
 * registers does not shrink and grow again each time a high-priority
 * source is ready. Check walks the poll records and the fds array in fd
 * order and skips records it has no entry for, so a superset array is
 * safe; it still dispatches by the priority prepare found.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "parley_glib.h"


typedef struct {
    int             fd;
    unsigned short  events;
    unsigned        known:1;       /* dev and ino are valid */
    dev_t           dev;
    ino_t           ino;
} parley_glib_watched_t;


typedef struct {
    parley_glib_fd_t  *fds;
    size_t             n;
    size_t             cap;
} parley_glib_fd_list_t;


struct parley_glib_pump_s {
    GMainContext           *ctx;

    GPollFD                *polled;        /* the last query, fd order */
    gint                    npolled;
    gint                    polled_cap;
    gint                    max_priority;
    gint                    timeout;

    parley_glib_watched_t  *watched;       /* told to the host, fd order */
    size_t                  nwatched;
    size_t                  watched_cap;
    parley_glib_watched_t  *next;          /* the set being computed */
    size_t                  next_cap;

    parley_glib_fd_list_t   added;
    parley_glib_fd_list_t   changed;
    parley_glib_fd_list_t   removed;

    int                    *closed;        /* parley_glib_pump_closed() */
    size_t                  nclosed;
    size_t                  closed_cap;

    int64_t               **stamps;        /* by fd */
    size_t                  nstamps;

    int                     wakeup_fd;     /* -1: not known */
    unsigned                prepared:1;    /* polled matches the context */
    unsigned                dispatching:1;

    parley_glib_stats_t     stats;
};


#define PARLEY_GLIB_RESULT_TEXT(name, text)  text,

static const char  *parley_glib_rc_text[] = {
    PARLEY_GLIB_RESULTS(PARLEY_GLIB_RESULT_TEXT)
};


static parley_glib_rc_t parley_glib_run_prepare(parley_glib_pump_t *pump);
static parley_glib_rc_t parley_glib_grow_polled(parley_glib_pump_t *pump,
    gint n);
static parley_glib_rc_t parley_glib_reserve(parley_glib_pump_t *pump,
    size_t n);
static parley_glib_rc_t parley_glib_list_reserve(parley_glib_fd_list_t *l,
    size_t n);
static void parley_glib_list_push(parley_glib_fd_list_t *l, int fd,
    unsigned short events, unsigned closed);
static void parley_glib_diff(parley_glib_pump_t *pump);
static void parley_glib_push_removed(parley_glib_pump_t *pump,
    const parley_glib_watched_t *old, unsigned closed);
static unsigned parley_glib_told_closed(const parley_glib_pump_t *pump,
    int fd);
static void parley_glib_identify(parley_glib_watched_t *w);
static unsigned parley_glib_replaced(const parley_glib_watched_t *w);
static void parley_glib_drain_wakeup(const parley_glib_pump_t *pump);
static void parley_glib_mark(parley_glib_pump_t *pump, int fd,
    unsigned short revents);
static void parley_glib_run_dispatch(parley_glib_pump_t *pump);


const char *
parley_glib_rc_str(parley_glib_rc_t rc)
{
    if ((unsigned) rc >= PARLEY_GLIB_NRESULTS) {
        return "unknown result";
    }

    return parley_glib_rc_text[rc];
}


parley_glib_rc_t
parley_glib_pump_create(GMainContext *ctx, parley_glib_pump_t **pump)
{
    parley_glib_pump_t  *p;
    parley_glib_rc_t     rc;

    if (ctx == NULL || pump == NULL) {
        return PARLEY_GLIB_ERR_INVAL;
    }

    p = calloc(1, sizeof(parley_glib_pump_t));
    if (p == NULL) {
        return PARLEY_GLIB_ERR_NOMEM;
    }

    if (!g_main_context_acquire(ctx)) {
        free(p);
        return PARLEY_GLIB_ERR_OWNED;
    }

    p->ctx = g_main_context_ref(ctx);
    p->wakeup_fd = -1;
    p->timeout = -1;

    rc = parley_glib_run_prepare(p);
    if (rc != PARLEY_GLIB_OK) {
        parley_glib_pump_destroy(p);
        return rc;
    }

    /* a new context polls one fd: its wakeup */
    if (p->npolled == 1) {
        p->wakeup_fd = p->polled[0].fd;
    }

    *pump = p;

    return PARLEY_GLIB_OK;
}


void
parley_glib_pump_destroy(parley_glib_pump_t *pump)
{
    if (pump == NULL) {
        return;
    }

    g_main_context_release(pump->ctx);
    g_main_context_unref(pump->ctx);

    free(pump->polled);
    free(pump->watched);
    free(pump->next);
    free(pump->added.fds);
    free(pump->changed.fds);
    free(pump->removed.fds);
    free(pump->closed);
    free(pump->stamps);
    free(pump);
}


parley_glib_rc_t
parley_glib_pump_prepare(parley_glib_pump_t *pump, parley_glib_watch_t *watch)
{
    parley_glib_rc_t  rc;

    if (pump == NULL || watch == NULL) {
        return PARLEY_GLIB_ERR_INVAL;
    }

    if (pump->dispatching) {
        return PARLEY_GLIB_ERR_REENTRANT;
    }

    rc = parley_glib_run_prepare(pump);
    if (rc != PARLEY_GLIB_OK) {
        return rc;
    }

    rc = parley_glib_reserve(pump, pump->nwatched + (size_t) pump->npolled);
    if (rc != PARLEY_GLIB_OK) {
        return rc;
    }

    parley_glib_diff(pump);
    pump->nclosed = 0;

    pump->stats.prepares++;

    watch->added = pump->added.fds;
    watch->nadded = pump->added.n;
    watch->changed = pump->changed.fds;
    watch->nchanged = pump->changed.n;
    watch->removed = pump->removed.fds;
    watch->nremoved = pump->removed.n;
    watch->timeout = pump->timeout;

    return PARLEY_GLIB_OK;
}


parley_glib_rc_t
parley_glib_pump_ready(parley_glib_pump_t *pump, int fd,
    unsigned short revents)
{
    parley_glib_rc_t  rc;

    if (pump == NULL) {
        return PARLEY_GLIB_ERR_INVAL;
    }

    if (pump->dispatching) {
        return PARLEY_GLIB_ERR_REENTRANT;
    }

    if (!pump->prepared) {
        rc = parley_glib_run_prepare(pump);
        if (rc != PARLEY_GLIB_OK) {
            return rc;
        }
    }

    parley_glib_mark(pump, fd, revents);

    return PARLEY_GLIB_OK;
}


parley_glib_rc_t
parley_glib_pump_dispatch(parley_glib_pump_t *pump,
    const parley_glib_ready_t *ready, size_t n)
{
    size_t            i;
    parley_glib_rc_t  rc;

    if (pump == NULL || (ready == NULL && n != 0)) {
        return PARLEY_GLIB_ERR_INVAL;
    }

    if (pump->dispatching) {
        return PARLEY_GLIB_ERR_REENTRANT;
    }

    if (!pump->prepared) {
        rc = parley_glib_run_prepare(pump);
        if (rc != PARLEY_GLIB_OK) {
            return rc;
        }
    }

    for (i = 0; i < n; i++) {
        parley_glib_mark(pump, ready[i].fd, ready[i].revents);
    }

    parley_glib_run_dispatch(pump);

    return PARLEY_GLIB_OK;
}


parley_glib_rc_t
parley_glib_pump_timer(parley_glib_pump_t *pump)
{
    return parley_glib_pump_dispatch(pump, NULL, 0);
}


parley_glib_rc_t
parley_glib_pump_closed(parley_glib_pump_t *pump, int fd)
{
    int     *closed;
    size_t   cap;

    if (pump == NULL || fd < 0) {
        return PARLEY_GLIB_ERR_INVAL;
    }

    if (pump->nclosed == pump->closed_cap) {
        cap = pump->closed_cap ? 2 * pump->closed_cap : 8;

        closed = realloc(pump->closed, cap * sizeof(int));
        if (closed == NULL) {
            return PARLEY_GLIB_ERR_NOMEM;
        }

        pump->closed = closed;
        pump->closed_cap = cap;
    }

    pump->closed[pump->nclosed++] = fd;

    return PARLEY_GLIB_OK;
}


parley_glib_rc_t
parley_glib_pump_stamp(parley_glib_pump_t *pump, int fd, int64_t *when)
{
    size_t     n;
    int64_t  **stamps;

    if (pump == NULL || fd < 0) {
        return PARLEY_GLIB_ERR_INVAL;
    }

    if ((size_t) fd >= pump->nstamps) {
        if (when == NULL) {
            return PARLEY_GLIB_OK;
        }

        n = pump->nstamps ? pump->nstamps : 64;
        while (n <= (size_t) fd) {
            n *= 2;
        }

        stamps = realloc(pump->stamps, n * sizeof(int64_t *));
        if (stamps == NULL) {
            return PARLEY_GLIB_ERR_NOMEM;
        }

        memset(stamps + pump->nstamps, 0,
               (n - pump->nstamps) * sizeof(int64_t *));
        pump->stamps = stamps;
        pump->nstamps = n;
    }

    pump->stamps[fd] = when;

    return PARLEY_GLIB_OK;
}


void
parley_glib_pump_stats(const parley_glib_pump_t *pump,
    parley_glib_stats_t *stats)
{
    *stats = pump->stats;
}


static parley_glib_rc_t
parley_glib_run_prepare(parley_glib_pump_t *pump)
{
    gint              n;
    parley_glib_rc_t  rc;

    g_main_context_prepare(pump->ctx, &pump->max_priority);

    for ( ;; ) {
        n = g_main_context_query(pump->ctx, G_MAXINT, &pump->timeout,
                                 pump->polled, pump->polled_cap);
        if (n <= pump->polled_cap) {
            break;
        }

        rc = parley_glib_grow_polled(pump, n);
        if (rc != PARLEY_GLIB_OK) {
            pump->prepared = 0;
            return rc;
        }
    }

    pump->npolled = n;
    pump->prepared = 1;

    return PARLEY_GLIB_OK;
}


static parley_glib_rc_t
parley_glib_grow_polled(parley_glib_pump_t *pump, gint n)
{
    GPollFD  *fds;
    gint      cap;

    cap = pump->polled_cap ? pump->polled_cap : 16;
    while (cap < n) {
        cap *= 2;
    }

    fds = realloc(pump->polled, (size_t) cap * sizeof(GPollFD));
    if (fds == NULL) {
        return PARLEY_GLIB_ERR_NOMEM;
    }

    pump->polled = fds;
    pump->polled_cap = cap;

    return PARLEY_GLIB_OK;
}


/* Room for a diff of up to n entries in every list, and the next set. */
static parley_glib_rc_t
parley_glib_reserve(parley_glib_pump_t *pump, size_t n)
{
    parley_glib_watched_t  *next;

    if (n > pump->next_cap) {
        next = realloc(pump->next, n * sizeof(parley_glib_watched_t));
        if (next == NULL) {
            return PARLEY_GLIB_ERR_NOMEM;
        }

        pump->next = next;
        pump->next_cap = n;
    }

    if (parley_glib_list_reserve(&pump->added, n) != PARLEY_GLIB_OK
        || parley_glib_list_reserve(&pump->changed, n) != PARLEY_GLIB_OK
        || parley_glib_list_reserve(&pump->removed, n) != PARLEY_GLIB_OK)
    {
        return PARLEY_GLIB_ERR_NOMEM;
    }

    return PARLEY_GLIB_OK;
}


static parley_glib_rc_t
parley_glib_list_reserve(parley_glib_fd_list_t *l, size_t n)
{
    parley_glib_fd_t  *fds;

    l->n = 0;

    if (n <= l->cap) {
        return PARLEY_GLIB_OK;
    }

    fds = realloc(l->fds, n * sizeof(parley_glib_fd_t));
    if (fds == NULL) {
        return PARLEY_GLIB_ERR_NOMEM;
    }

    l->fds = fds;
    l->cap = n;

    return PARLEY_GLIB_OK;
}


static void
parley_glib_list_push(parley_glib_fd_list_t *l, int fd,
    unsigned short events, unsigned closed)
{
    parley_glib_fd_t  *e;

    e = &l->fds[l->n++];
    e->fd = fd;
    e->events = events;
    e->closed = closed;
}


/*
 * Merges the watched set and the polled one, both in fd order, into the
 * three lists, and makes the polled set the watched one. An fd in both
 * that was announced closed, and whose file did change, is reported
 * removed and added; fstat() has the last word, so a wrong announcement
 * costs nothing.
 */
static void
parley_glib_diff(parley_glib_pump_t *pump)
{
    size_t                  i, j, k, cap;
    parley_glib_watched_t  *old, *w, *swap;
    GPollFD                *p;

    i = 0;
    j = 0;
    k = 0;

    while (i < pump->nwatched || j < (size_t) pump->npolled) {
        old = i < pump->nwatched ? &pump->watched[i] : NULL;
        p = j < (size_t) pump->npolled ? &pump->polled[j] : NULL;

        if (p == NULL || (old != NULL && old->fd < p->fd)) {
            parley_glib_push_removed(pump, old, parley_glib_replaced(old));
            i++;
            continue;
        }

        w = &pump->next[k++];
        w->fd = p->fd;
        w->events = p->events;

        if (old == NULL || p->fd < old->fd) {
            parley_glib_identify(w);
            parley_glib_list_push(&pump->added, w->fd, w->events, 0);
            j++;
            continue;
        }

        w->known = old->known;
        w->dev = old->dev;
        w->ino = old->ino;

        if (parley_glib_told_closed(pump, old->fd)
            && parley_glib_replaced(old))
        {
            parley_glib_push_removed(pump, old, 1);
            parley_glib_identify(w);
            parley_glib_list_push(&pump->added, w->fd, w->events, 0);

        } else if (old->events != p->events) {
            parley_glib_list_push(&pump->changed, w->fd, w->events, 0);
        }

        i++;
        j++;
    }

    swap = pump->watched;
    cap = pump->watched_cap;
    pump->watched = pump->next;
    pump->watched_cap = pump->next_cap;
    pump->nwatched = k;
    pump->next = swap;
    pump->next_cap = cap;
}


static void
parley_glib_push_removed(parley_glib_pump_t *pump,
    const parley_glib_watched_t *old, unsigned closed)
{
    parley_glib_list_push(&pump->removed, old->fd, old->events, closed);

    if (closed) {
        pump->stats.closed++;
    }
}


/* The list is short: the sockets of the transports destroyed lately. */
static unsigned
parley_glib_told_closed(const parley_glib_pump_t *pump, int fd)
{
    size_t  i;

    for (i = 0; i < pump->nclosed; i++) {
        if (pump->closed[i] == fd) {
            return 1;
        }
    }

    return 0;
}


static void
parley_glib_identify(parley_glib_watched_t *w)
{
    struct stat  st;

    w->known = fstat(w->fd, &st) == 0;
    if (w->known) {
        w->dev = st.st_dev;
        w->ino = st.st_ino;
    }
}


/* Whether the file once seen behind w->fd is gone from that number. */
static unsigned
parley_glib_replaced(const parley_glib_watched_t *w)
{
    struct stat  st;

    if (fstat(w->fd, &st) != 0) {
        return errno == EBADF;
    }

    return w->known && (st.st_dev != w->dev || st.st_ino != w->ino);
}


static void
parley_glib_mark(parley_glib_pump_t *pump, int fd, unsigned short revents)
{
    gint  lo, hi, mid;

    if ((size_t) fd < pump->nstamps && pump->stamps[fd] != NULL
        && (revents & G_IO_IN))
    {
        *pump->stamps[fd] = g_get_monotonic_time();
    }

    lo = 0;
    hi = pump->npolled;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (pump->polled[mid].fd < fd) {
            lo = mid + 1;

        } else if (pump->polled[mid].fd > fd) {
            hi = mid;

        } else {
            pump->polled[mid].revents |= revents
                & (pump->polled[mid].events | G_IO_ERR | G_IO_HUP
                   | G_IO_NVAL);
            return;
        }
    }
}


static void
parley_glib_run_dispatch(parley_glib_pump_t *pump)
{
    pump->dispatching = 1;

    /*
     * As g_main_context_iteration() does, dispatch even when check found
     * nothing: it is cheap, and check may have bailed out because the fd
     * set changed since query, in which case nothing is pending.
     */
    g_main_context_check(pump->ctx, pump->max_priority, pump->polled,
                         pump->npolled);
    g_main_context_dispatch(pump->ctx);

    parley_glib_drain_wakeup(pump);

    pump->dispatching = 0;
    pump->prepared = 0;
    pump->stats.dispatches++;
}


/*
 * GLib signalled its wakeup while it blocked and unblocked the sources it
 * dispatched; the host prepares after this dispatch anyway, so the signal
 * is read here rather than costing another turn of the host loop. The fd
 * is non-blocking: an eventfd, or a pipe where there is no eventfd.
 */
static void
parley_glib_drain_wakeup(const parley_glib_pump_t *pump)
{
    uint64_t  buf[8];

    if (pump->wakeup_fd == -1) {
        return;
    }

    while (read(pump->wakeup_fd, buf, sizeof(buf)) > 0) {
        /* void */
    }
}
