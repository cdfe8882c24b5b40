/*
 * The peer's epoll loop, with libnice's GMainContext driven through
 * parley_glib's pump (see parley_glib.h for the contract).
 *
 * Every fd GLib watches is registered level-triggered as the pump asks;
 * any other fd (WebSockets, the sockets connections keep once secure) has
 * its own handler.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "peer.h"


#define PEER_EVENTS_MAX  256


int  peer_verbose;


static void peer_loop_apply(peer_loop_t *l, const parley_glib_watch_t *w);


void
peer_log(const char *fmt, ...)
{
    va_list  ap;

    fputs("parley-peer: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}


uint64_t
peer_now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}


uint64_t
peer_now_ms(void)
{
    return peer_now_ns() / 1000000;
}


int
peer_loop_init(peer_loop_t *l)
{
    memset(l, 0, sizeof(peer_loop_t));

    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep == -1) {
        peer_log("epoll_create1() failed: %s", strerror(errno));
        return -1;
    }

    /* a new context: the pump recognises GLib's own wakeup fd on it */
    l->ctx = g_main_context_new();

    if (parley_glib_pump_create(l->ctx, &l->pump) != PARLEY_GLIB_OK) {
        peer_log("parley_glib_pump_create() failed");
        return -1;
    }

    return 0;
}


void
peer_loop_free(peer_loop_t *l)
{
    parley_glib_pump_destroy(l->pump);
    g_main_context_unref(l->ctx);
    close(l->ep);
}


int
peer_loop_add(peer_loop_t *l, int fd, uint32_t events,
    peer_io_handler_pt handler, void *owner)
{
    struct epoll_event  ev;

    if (fd < 0 || fd >= PEER_FD_MAX) {
        peer_log("fd %d out of the loop's range", fd);
        return -1;
    }

    ev.events = events;
    ev.data.u64 = (uint64_t) fd;

    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
        peer_log("epoll_ctl(ADD, %d) failed: %s", fd, strerror(errno));
        return -1;
    }

    l->handler[fd] = handler;
    l->owner[fd] = owner;
    l->events[fd] = events;

    return 0;
}


int
peer_loop_mod(peer_loop_t *l, int fd, uint32_t events)
{
    struct epoll_event  ev;

    if (l->events[fd] == events) {
        return 0;
    }

    ev.events = events;
    ev.data.u64 = (uint64_t) fd;

    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == -1) {
        peer_log("epoll_ctl(MOD, %d) failed: %s", fd, strerror(errno));
        return -1;
    }

    l->events[fd] = events;

    return 0;
}


void
peer_loop_del(peer_loop_t *l, int fd)
{
    (void) epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    l->handler[fd] = NULL;
    l->owner[fd] = NULL;
    l->events[fd] = 0;
}


void
peer_loop_prepare(peer_loop_t *l)
{
    parley_glib_watch_t  w;

    if (parley_glib_pump_prepare(l->pump, &w) != PARLEY_GLIB_OK) {
        peer_log("parley_glib_pump_prepare() failed");
        return;
    }

    peer_loop_apply(l, &w);

    /* kept absolute, so that other wake-ups need no prepare */
    l->glib_deadline_ms = w.timeout < 0 ? 0
                          : peer_now_ms() + (uint64_t) w.timeout;
}


static void
peer_loop_apply(peer_loop_t *l, const parley_glib_watch_t *w)
{
    int                 fd;
    size_t              i;
    struct epoll_event  ev;

    for (i = 0; i < w->nremoved; i++) {
        fd = w->removed[i].fd;

        /* handed over to a connection already (peer_conn_go_direct) */
        if (!l->pumped[fd]) {
            continue;
        }

        /* a closed fd left epoll with its file; its number may be reused */
        if (!w->removed[i].closed) {
            (void) epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
        }

        l->pumped[fd] = 0;
    }

    for (i = 0; i < w->nadded; i++) {
        fd = w->added[i].fd;
        ev.events = w->added[i].events;
        ev.data.u64 = (uint64_t) fd;

        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
            peer_log("epoll_ctl(ADD, glib %d) failed: %s", fd,
                     strerror(errno));
            continue;
        }

        l->pumped[fd] = 1;
    }

    for (i = 0; i < w->nchanged; i++) {
        fd = w->changed[i].fd;
        ev.events = w->changed[i].events;
        ev.data.u64 = (uint64_t) fd;
        (void) epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
    }
}


void
peer_loop_once(peer_loop_t *l, int max_ms)
{
    int                  i, n, fd, npump, wait;
    uint64_t             now;
    struct epoll_event   evs[PEER_EVENTS_MAX];
    parley_glib_ready_t  ready[PEER_EVENTS_MAX];

    wait = max_ms;

    if (l->glib_deadline_ms != 0) {
        now = peer_now_ms();
        wait = l->glib_deadline_ms <= now ? 0
               : (int) MIN((uint64_t) wait, l->glib_deadline_ms - now);
    }

    n = epoll_wait(l->ep, evs, PEER_EVENTS_MAX, wait);
    if (n == -1) {
        if (errno != EINTR) {
            peer_log("epoll_wait() failed: %s", strerror(errno));
        }
        n = 0;
    }

    l->wakeups++;
    npump = 0;

    for (i = 0; i < n; i++) {
        fd = (int) evs[i].data.u64;

        if (l->pumped[fd]) {
            ready[npump].fd = fd;
            ready[npump].revents = (unsigned short) evs[i].events;
            npump++;

        } else if (l->handler[fd] != NULL) {
            l->handler[fd](l->owner[fd], fd, evs[i].events);
        }
    }

    /* GLib runs only when it has something to do: never per datagram */
    if (npump > 0) {
        (void) parley_glib_pump_dispatch(l->pump, ready, (size_t) npump);
        peer_loop_prepare(l);

    } else if (l->glib_deadline_ms != 0
               && peer_now_ms() >= l->glib_deadline_ms)
    {
        (void) parley_glib_pump_timer(l->pump);
        peer_loop_prepare(l);
    }
}
