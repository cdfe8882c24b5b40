/*
 * parley: the status location. Every worker's counters and the directory's
 * occupancy, in the Prometheus text exposition format (version 0.0.4), so
 * that any scraper reads it as is. Whichever worker answers, it reports all
 * of them: the counters live in the workers' inbox slots in the zone.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_module.h"


#define NGX_HTTP_PARLEY_STATUS_LINE  160


typedef struct {
    uint32_t                pid;
    uint16_t                slot;
    uint32_t                worker;
    parley_counters_t       counters;
} ngx_http_parley_status_worker_t;


static ngx_uint_t ngx_http_parley_status_snapshot(
    ngx_http_parley_status_worker_t *workers);
static u_char *ngx_http_parley_status_gauge(u_char *p, const char *name,
    const char *help, uint64_t value);


ngx_int_t
ngx_http_parley_status_handler(ngx_http_request_t *r)
{
    u_char                           *p;
    size_t                            size;
    uint32_t                          rooms, participants, capacity, away;
    uint32_t                          tracks;
    ngx_int_t                         rc;
    ngx_buf_t                        *b;
    ngx_uint_t                        i, n;
    ngx_chain_t                       out;
    parley_dir_t                     *dir;
    ngx_http_parley_status_worker_t  *w;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    dir = ngx_http_parley_worker.dir;
    if (dir == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    w = ngx_palloc(r->pool, PARLEY_MAX_INBOXES
                            * sizeof(ngx_http_parley_status_worker_t));
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_http_parley_status_snapshot(w);

    parley_dir_lock(dir, ngx_http_parley_worker.pid);
    rooms = dir->rooms_in_use;
    participants = dir->participants_in_use;
    away = dir->away;
    capacity = dir->max_participants;
    parley_dir_unlock(dir, ngx_http_parley_worker.pid);

    tracks = 0;

    if (ngx_http_parley_worker.tracks) {
        parley_tracks_lock(ngx_http_parley_worker.tracks,
                           ngx_http_parley_worker.pid);
        tracks = ngx_http_parley_worker.tracks->in_use;
        parley_tracks_unlock(ngx_http_parley_worker.tracks,
                             ngx_http_parley_worker.pid);
    }

#define PARLEY_COUNTER_SIZE(name, help)  + 1
    size = (0 PARLEY_COUNTERS(PARLEY_COUNTER_SIZE) + 8)
           * (n + 2) * NGX_HTTP_PARLEY_STATUS_LINE;
#undef PARLEY_COUNTER_SIZE

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

#define PARLEY_COUNTER_PRINT(name, help)                                      \
    p = ngx_sprintf(p, "# HELP parley_" #name "_total " help "\n"             \
                       "# TYPE parley_" #name "_total counter\n");            \
    for (i = 0; i < n; i++) {                                                 \
        p = ngx_sprintf(p, "parley_" #name "_total{pid=\"%uD\",inbox="     \
                        "\"%ud\",worker=\"%uD\"} %uL\n", w[i].pid,          \
                        (ngx_uint_t) w[i].slot, w[i].worker,                  \
                        w[i].counters.name);                                  \
    }

    PARLEY_COUNTERS(PARLEY_COUNTER_PRINT)

#undef PARLEY_COUNTER_PRINT

    p = ngx_http_parley_status_gauge(p, "workers",
                                     "workers holding an inbox, old ones "
                                     "still draining included", n);
    p = ngx_http_parley_status_gauge(p, "rooms", "conversations held now",
                                     rooms);
    p = ngx_http_parley_status_gauge(p, "rooms_capacity",
                                     "parley_max_rooms",
                                     dir->limits.max_rooms);
    p = ngx_http_parley_status_gauge(p, "participants",
                                     "participants in conversations now",
                                     participants);
    p = ngx_http_parley_status_gauge(p, "participants_away",
                                     "participants whose connection is "
                                     "gone and who may still resume", away);
    p = ngx_http_parley_status_gauge(p, "participants_capacity",
                                     "participants the zone can hold",
                                     capacity);

    if (ngx_http_parley_worker.tracks) {
        p = ngx_http_parley_status_gauge(p, "tracks",
                                         "tracks published now", tracks);
        p = ngx_http_parley_status_gauge(p, "tracks_capacity",
                                         "parley_max_tracks",
                                         ngx_http_parley_worker.tracks
                                             ->geometry.max_tracks);
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * Copies the counters of every claimed slot. The copy is not atomic as a
 * whole: each figure is at most a few increments behind the others, which
 * a scraper cannot tell from a scrape taken a moment earlier.
 */

static ngx_uint_t
ngx_http_parley_status_snapshot(ngx_http_parley_status_worker_t *workers)
{
    uint32_t             pid;
    uint16_t             slot;
    ngx_uint_t           n;
    parley_dir_inbox_t  *ib;

    n = 0;

    for (slot = 0; slot < PARLEY_MAX_INBOXES; slot++) {
        ib = parley_dir_inbox(ngx_http_parley_worker.dir, slot);
        pid = __atomic_load_n(&ib->pid, __ATOMIC_ACQUIRE);

        if (pid == 0) {
            continue;
        }

        workers[n].pid = pid;
        workers[n].slot = slot;
        workers[n].worker = ib->worker;
        ngx_memcpy(&workers[n].counters, &ib->counters,
                   sizeof(parley_counters_t));
        n++;
    }

    return n;
}


static u_char *
ngx_http_parley_status_gauge(u_char *p, const char *name, const char *help,
    uint64_t value)
{
    return ngx_sprintf(p, "# HELP parley_%s %s\n"
                          "# TYPE parley_%s gauge\n"
                          "parley_%s %uL\n", name, help, name, name, value);
}
