/*
 * parley: worker inboxes, the event-loop side.
 *
 * Each worker claims an inbox slot in the directory when it starts. Another
 * worker that must tell it something pushes an event into that slot's queue
 * in shared memory, and wakes it through the slot's eventfd. Wake-ups are
 * coalesced twice: the queue asks for one only when it was not already
 * pending, and the writes are batched until the end of the event-loop
 * iteration (a posted event), one write per woken worker.
 *
 * The same file reaps what dead workers left in the directory: a worker
 * killed with SIGKILL never leaves its rooms, so every worker checks the
 * other slots' owners once a second, and a respawned worker at once. Their
 * participants are set away (parley_resume_timeout), to come back by
 * themselves, and whoever's time to resume has passed is removed.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_module.h"


#define NGX_HTTP_PARLEY_REAP_INTERVAL  1000
#define NGX_HTTP_PARLEY_REAP_ROOMS     64


typedef struct {
    ngx_uint_t                   n;
    uint32_t                     room[NGX_HTTP_PARLEY_REAP_ROOMS];
    uint64_t                     uid[NGX_HTTP_PARLEY_REAP_ROOMS];
    uint16_t                     dead;
    uint32_t                     reason;
} ngx_http_parley_reap_t;


static void ngx_http_parley_inbox_read_handler(ngx_event_t *rev);
static void ngx_http_parley_inbox_wake_handler(ngx_event_t *ev);
static void ngx_http_parley_inbox_reap_handler(ngx_event_t *ev);
static int ngx_http_parley_pid_alive(uint32_t pid);
static void ngx_http_parley_reap_gone(parley_dir_t *dir, uint32_t p,
    void *data);
static void ngx_http_parley_reap_close_rooms(ngx_http_parley_reap_t *reap);
static void ngx_http_parley_reap_tracks(void);


/* Who handles each event an inbox brings, by its code. */

typedef void (*ngx_http_parley_event_pt)(const parley_event_t *ev);

static const ngx_http_parley_event_pt  ngx_http_parley_event_handlers[] = {
    [PARLEY_EV_JOINED] = ngx_http_parley_signal_event,
    [PARLEY_EV_LEFT] = ngx_http_parley_signal_event,
    [PARLEY_EV_CLOSED] = ngx_http_parley_signal_event,
    [PARLEY_EV_KICK] = ngx_http_parley_signal_event,
    [PARLEY_EV_AWAY] = ngx_http_parley_signal_event,
    [PARLEY_EV_BACK] = ngx_http_parley_signal_event,
    [PARLEY_EV_TRACKS] = ngx_http_parley_media_tracks_event,
    [PARLEY_EV_KEYFRAME] = ngx_http_parley_media_keyframe_event
};

#define NGX_HTTP_PARLEY_NEVENTS                                               \
    (sizeof(ngx_http_parley_event_handlers)                                   \
     / sizeof(ngx_http_parley_event_handlers[0]))


ngx_int_t
ngx_http_parley_inbox_start(ngx_cycle_t *cycle)
{
    int                        fd;
    ngx_event_t               *rev;
    parley_rc_t                rc;
    ngx_connection_t          *c;
    ngx_http_parley_worker_t  *w;

    w = &ngx_http_parley_worker;

    w->wake.handler = ngx_http_parley_inbox_wake_handler;
    w->wake.log = cycle->log;
    w->wake.data = w;

    w->reaper.handler = ngx_http_parley_inbox_reap_handler;
    w->reaper.log = cycle->log;
    w->reaper.data = w;
    w->reaper.cancelable = 1;

    /* a respawned worker first clears what its predecessor left */
    ngx_http_parley_inbox_reap();

    rc = parley_dir_inbox_claim(w->dir, w->pid, &w->inbox);

    if (rc != PARLEY_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "parley: no free inbox slot (at most %d workers, old "
                      "ones still draining after reloads included)",
                      PARLEY_MAX_INBOXES);
        return NGX_ERROR;
    }

    fd = ngx_http_parley_wake_fds[w->inbox];

    c = ngx_get_connection(fd, cycle->log);
    if (c == NULL) {
        parley_dir_inbox_release(w->dir, w->inbox);
        return NGX_ERROR;
    }

    rev = c->read;
    rev->handler = ngx_http_parley_inbox_read_handler;
    rev->log = cycle->log;
    c->data = w;

    if (ngx_add_event(rev, NGX_READ_EVENT, 0) != NGX_OK) {
        ngx_free_connection(c);
        parley_dir_inbox_release(w->dir, w->inbox);
        return NGX_ERROR;
    }

    w->inbox_conn = c;
    w->counters = &parley_dir_inbox(w->dir, w->inbox)->counters;
    parley_dir_inbox(w->dir, w->inbox)->worker = (uint32_t) ngx_worker;

    ngx_add_timer(&w->reaper, NGX_HTTP_PARLEY_REAP_INTERVAL);

    ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                  "parley: worker %i holds inbox %ud", ngx_worker,
                  (ngx_uint_t) w->inbox);

    /*
     * The event loop has not run yet and would first wait for a timer:
     * the reaping's wake-ups go out now, and the inbox is read now, for
     * events pushed into the slot before this worker claimed it.
     */

    ngx_http_parley_inbox_wake_handler(&w->wake);
    ngx_http_parley_inbox_read_handler(rev);

    return NGX_OK;
}


/*
 * The worker exits: whatever participants it still holds (after a fast
 * shutdown, or worker_shutdown_timeout) are set away, to resume on another
 * worker, and its slot is freed, under the directory lock taken as itself.
 */

void
ngx_http_parley_inbox_stop(ngx_cycle_t *cycle)
{
    ngx_http_parley_worker_t  *w;
    ngx_http_parley_reap_t     reap;

    w = &ngx_http_parley_worker;

    if (w->inbox_conn == NULL) {
        return;
    }

    ngx_memzero(&reap, sizeof(ngx_http_parley_reap_t));
    reap.reason = PARLEY_REASON_SHUTDOWN;

    (void) parley_dir_release_slot(w->dir, w->inbox, w->pid,
                                   ngx_http_parley_reap_gone, &reap);
    ngx_http_parley_reap_close_rooms(&reap);

    w->counters = NULL;

    ngx_http_parley_inbox_wake_handler(&w->wake);

    if (w->reaper.timer_set) {
        ngx_del_timer(&w->reaper);
    }

    /* the eventfd stays open in the master for the next worker */
    ngx_del_conn(w->inbox_conn, NGX_CLOSE_EVENT);
    ngx_free_connection(w->inbox_conn);
    w->inbox_conn->fd = (ngx_socket_t) -1;
    w->inbox_conn = NULL;
}


void
ngx_http_parley_inbox_send(uint16_t slot, const parley_event_t *ev)
{
    int                        wake;
    parley_rc_t                rc;
    ngx_http_parley_worker_t  *w;

    w = &ngx_http_parley_worker;

    rc = parley_inbox_push(&parley_dir_inbox(w->dir, slot)->inbox, ev,
                           w->pid, &wake);

    if (rc == PARLEY_OK) {
        ngx_http_parley_count(events_sent);

    } else {
        ngx_http_parley_count(events_dropped);
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "parley: inbox %ud is full, an event was dropped",
                      (ngx_uint_t) slot);
    }

    if (wake) {
        ngx_http_parley_inbox_wake(slot);
    }
}


/*
 * Wakes the worker of the slot at the end of this loop iteration: one
 * eventfd write per woken worker, however many events and tracks.
 */

void
ngx_http_parley_inbox_wake(uint16_t slot)
{
    ngx_http_parley_worker_t  *w;

    w = &ngx_http_parley_worker;

    if (slot == w->inbox && w->inbox_conn) {
        ngx_post_event(w->inbox_conn->read, &ngx_posted_events);
        return;
    }

    w->wake_mask[slot / 64] |= (uint64_t) 1 << (slot % 64);

    if (!w->wake.posted) {
        ngx_post_event(&w->wake, &ngx_posted_events);
    }
}


static void
ngx_http_parley_inbox_wake_handler(ngx_event_t *ev)
{
    uint16_t                   slot;
    uint64_t                   one;
    ngx_http_parley_worker_t  *w;

    w = ev->data;
    one = 1;

    for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {

        if (!(w->wake_mask[slot / 64] & ((uint64_t) 1 << (slot % 64)))) {
            continue;
        }

        if (write(ngx_http_parley_wake_fds[slot], &one, sizeof(one)) == -1
            && ngx_errno != NGX_EAGAIN)
        {
            ngx_log_error(NGX_LOG_ALERT, ev->log, ngx_errno,
                          "parley: write() to inbox %ud eventfd failed",
                          (ngx_uint_t) slot);
        }
    }

    ngx_memzero(w->wake_mask, sizeof(w->wake_mask));
}


static void
ngx_http_parley_inbox_read_handler(ngx_event_t *rev)
{
    uint64_t                   count;
    parley_event_t             ev;
    parley_inbox_t            *inbox;
    ngx_connection_t          *c;
    ngx_http_parley_worker_t  *w;

    c = rev->data;
    w = c->data;

    if (read(c->fd, &count, sizeof(count)) == -1 && ngx_errno != NGX_EAGAIN) {
        ngx_log_error(NGX_LOG_ALERT, rev->log, ngx_errno,
                      "parley: read() from inbox eventfd failed");
    }

    inbox = &parley_dir_inbox(w->dir, w->inbox)->inbox;

    if (parley_inbox_drain_begin(inbox)) {
        ngx_log_error(NGX_LOG_WARN, rev->log, 0,
                      "parley: inbox overflowed, resending rosters and "
                      "tracks");
        ngx_http_parley_signal_resync();
    }

    while (parley_inbox_pop(inbox, &ev, w->pid) == PARLEY_OK) {
        ngx_http_parley_count(events_handled);

        if (ev.code < NGX_HTTP_PARLEY_NEVENTS
            && ngx_http_parley_event_handlers[ev.code])
        {
            ngx_http_parley_event_handlers[ev.code](&ev);

        } else {
            ngx_log_error(NGX_LOG_ALERT, rev->log, 0,
                          "parley: unknown inbox event %uD", ev.code);
        }
    }

    /* the same wake-up also says that tracks have new packets */

    ngx_http_parley_media_collect();
}


/*
 * Once a second: reap dead workers, and read the inbox whether woken or
 * not. A producer sets the inbox's wake flag and writes the eventfd later
 * in its loop iteration; one that dies in between leaves the flag set and
 * no wake-up coming, and every later producer then trusts the flag. The
 * read clears it, so a lost wake-up costs at most this interval.
 */

static void
ngx_http_parley_inbox_reap_handler(ngx_event_t *ev)
{
    ngx_http_parley_worker_t  *w;

    w = ev->data;

    ngx_http_parley_inbox_reap();
    ngx_http_parley_signal_expire();

    if (w->inbox_conn) {
        ngx_http_parley_inbox_read_handler(w->inbox_conn->read);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_PARLEY_REAP_INTERVAL);
    }
}


void
ngx_http_parley_inbox_reap(void)
{
    uint32_t                n;
    ngx_http_parley_reap_t  reap;

    ngx_memzero(&reap, sizeof(ngx_http_parley_reap_t));
    reap.reason = PARLEY_REASON_WORKER_DIED;

    /* tracks first: the rooms' workers hear of the departures next */
    ngx_http_parley_reap_tracks();

    n = parley_dir_reap(ngx_http_parley_worker.dir, ngx_http_parley_worker.pid,
                        ngx_http_parley_pid_alive, ngx_http_parley_reap_gone,
                        &reap);

    if (n) {
        if (ngx_http_parley_worker.counters) {
            ngx_http_parley_worker.counters->participants_reaped += n;
        }

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "parley: removed %uD participants of a dead worker",
                      n);
    }

    ngx_http_parley_reap_close_rooms(&reap);
}


/*
 * The tracks of a slot whose worker is gone (dead, or exited and its slot
 * free) leave the table; their subscribers' workers let go when the
 * departures are announced.
 */

static void
ngx_http_parley_reap_tracks(void)
{
    uint16_t                   slot;
    uint32_t                   pid, n;
    ngx_http_parley_worker_t  *w;

    w = &ngx_http_parley_worker;

    if (w->tracks == NULL) {
        return;
    }

    n = 0;

    for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {
        pid = parley_dir_inbox(w->dir, slot)->pid;

        if (pid == w->pid || (pid != 0 && ngx_http_parley_pid_alive(pid))) {
            continue;
        }

        /* it may have died holding the table's lock */
        if (pid != 0) {
            (void) parley_lock_force_unlock(&w->tracks->lock, pid);
        }

        parley_tracks_lock(w->tracks, w->pid);
        n += parley_tracks_release_slot_locked(w->tracks, slot);
        parley_tracks_unlock(w->tracks, w->pid);
    }

    if (n) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "parley: removed %uD tracks of a gone worker", n);
    }
}


/*
 * A pid that exists is alive; EPERM means it exists under another user,
 * which happens when a reload changes "user" while old workers drain.
 */

static int
ngx_http_parley_pid_alive(uint32_t pid)
{
    return kill((pid_t) pid, 0) == 0 || ngx_errno == NGX_EPERM;
}


/*
 * Called under the directory lock for each participant of a dead (or
 * exiting) worker: it is set away, to resume elsewhere, and the room's
 * other workers are told. Without parley_resume_timeout it is removed after
 * this, as before: an organiser's room is closed once the reaping is over.
 */

static void
ngx_http_parley_reap_gone(parley_dir_t *dir, uint32_t p, void *data)
{
    ngx_http_parley_reap_t *reap = data;

    uint16_t               slot;
    uint32_t               q, inbox;
    parley_room_t         *room;
    parley_event_t         ev;
    parley_participant_t  *part;
    uint64_t               mask[PARLEY_MAX_INBOXES / 64];

    if (ngx_http_parley_worker.conf->resume_timeout) {
        ngx_http_parley_signal_away_locked(dir, p, reap->reason);
        return;
    }

    part = parley_dir_participant(dir, p);
    room = parley_dir_room(dir, part->room);

    ngx_memzero(&ev, sizeof(parley_event_t));
    ev.room_uid = room->uid;
    ev.room = part->room;
    ev.participant = p;
    ev.participant_id = part->id;

    if (part->role == PARLEY_ROLE_ORGANISER && room->count > 1) {
        ev.code = PARLEY_EV_CLOSED;
        ev.reason = PARLEY_REASON_ORGANISER_LEFT;

        if (reap->n < NGX_HTTP_PARLEY_REAP_ROOMS) {
            reap->room[reap->n] = part->room;
            reap->uid[reap->n] = room->uid;
            reap->n++;
        }

    } else {
        ev.code = PARLEY_EV_LEFT;
        ev.reason = reap->reason;
    }

    ngx_memzero(mask, sizeof(mask));

    for (q = parley_dir_room_first(dir, part->room);
         q != PARLEY_NONE;
         q = parley_dir_room_next(dir, q))
    {
        inbox = parley_dir_participant(dir, q)->inbox;

        if (inbox != part->inbox && inbox < PARLEY_MAX_INBOXES) {
            mask[inbox / 64] |= (uint64_t) 1 << (inbox % 64);
        }
    }

    for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {
        if (mask[slot / 64] & ((uint64_t) 1 << (slot % 64))) {
            ngx_http_parley_inbox_send(slot, &ev);
        }
    }
}


static void
ngx_http_parley_reap_close_rooms(ngx_http_parley_reap_t *reap)
{
    ngx_uint_t     i;
    parley_dir_t  *dir;

    dir = ngx_http_parley_worker.dir;

    if (reap->n == 0) {
        return;
    }

    parley_dir_lock(dir, ngx_http_parley_worker.pid);

    for (i = 0; i < reap->n; i++) {
        if (parley_dir_room(dir, reap->room[i])->uid == reap->uid[i]) {
            parley_dir_room_close_locked(dir, reap->room[i], NULL, NULL);
        }
    }

    parley_dir_unlock(dir, ngx_http_parley_worker.pid);
}
