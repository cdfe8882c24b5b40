/*
 * parley: nginx glue shared by the module's files.
 *
 * ngx_http_parley_module.c  directives, the shared zone, worker start/stop
 * ngx_http_parley_ws.c      the WebSocket server (RFC 6455, over libwslay)
 * ngx_http_parley_signal.c  the JSON signaling protocol (docs/protocol.md)
 * ngx_http_parley_inbox.c   worker inboxes: events between workers
 * ngx_http_parley_app.c     the web app, compiled into the module
 */

#ifndef _NGX_HTTP_PARLEY_MODULE_H_INCLUDED_
#define _NGX_HTTP_PARLEY_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <wslay/wslay.h>

#include "parley_directory.h"
#include "parley_tracks.h"


#define NGX_HTTP_PARLEY_PROTOCOL      1
#define NGX_HTTP_PARLEY_SLOT_SIZE     1472    /* an RTP packet in a ring */


typedef struct {
    ngx_shm_zone_t              *shm_zone;
    ngx_uint_t                   max_rooms;
    ngx_uint_t                   max_participants;
    ngx_uint_t                   ice_port_min;
    ngx_uint_t                   ice_port_max;
    ngx_str_t                    ice_address;       /* "" : no media */
    ngx_str_t                    ice_announce;
    ngx_uint_t                   codecs;            /* allowed, a bit each */
    ngx_shm_zone_t              *tracks_zone;       /* with media only */
    ngx_uint_t                   max_tracks;
    ngx_uint_t                   participant_tracks;
    ngx_uint_t                   room_tracks;
    ngx_uint_t                   track_packets;
    ngx_msec_t                   resume_timeout;    /* 0: no resuming */
} ngx_http_parley_main_conf_t;


typedef struct ngx_http_parley_pc_s  ngx_http_parley_pc_t;


/* What a subscribe offer tells the client of one of its sections. */
typedef struct {
    const u_char                *mid;
    uint64_t                     participant;
    const char                  *kind;              /* audio, video, screen */
} ngx_http_parley_offer_track_t;


typedef struct {
    ngx_flag_t                   signaling;
    ngx_flag_t                   app;
    ngx_flag_t                   status;
    size_t                       max_message_size;
    size_t                       send_buffer;
    ngx_msec_t                   ping_interval;
    ngx_msec_t                   idle_timeout;
    ngx_uint_t                   message_rate;      /* a second; 0: off */
    ngx_uint_t                   message_burst;
    ngx_array_t                 *allowed_origins;   /* of ngx_str_t */
} ngx_http_parley_loc_conf_t;


typedef struct ngx_http_parley_speaker_s  ngx_http_parley_speaker_t;


/* A room with at least one participant held by this worker. */
typedef struct {
    ngx_rbtree_node_t            node;              /* key: room uid */
    uint32_t                     index;             /* in the directory */
    ngx_queue_t                  sessions;
    ngx_http_parley_speaker_t   *speaker;           /* NULL: no audio yet */
    char                         id[PARLEY_ROOM_ID_MAX + 1];
} ngx_http_parley_room_t;


/* One signaling WebSocket connection, i.e. one (would-be) participant. */
typedef struct {
    ngx_http_request_t          *request;
    ngx_connection_t            *connection;
    ngx_http_parley_loc_conf_t  *conf;
    wslay_event_context_ptr      ws;

    ngx_queue_t                  queue;             /* worker's sessions */
    ngx_queue_t                  room_queue;        /* room's sessions */
    ngx_http_parley_room_t      *room;
    ngx_http_parley_pc_t        *publisher;
    ngx_http_parley_pc_t        *subscriber;
    uint32_t                     participant;       /* directory index */
    uint64_t                     participant_id;
    uint32_t                     attach;            /* the participant's
                                                       attach count here */

    ngx_event_t                  ping;              /* keepalive / idle */
    ngx_event_t                  linger;            /* close deadline */
    ngx_event_t                  move;              /* the worker exits */
    ngx_msec_t                   last_seen;

    /* a token bucket of messages, in thousandths of one */
    ngx_int_t                    rate_tokens;
    ngx_msec_t                   rate_time;
    ngx_uint_t                   rate_refused;      /* in a row */

    /* what one read event took, against the read budget */
    ngx_uint_t                   read_messages;
    size_t                       read_bytes;

    u_char                      *preread;           /* bytes read with */
    u_char                      *preread_end;       /* the HTTP header */
    u_char                      *handshake;         /* 101 response left */
    u_char                      *handshake_end;

    unsigned                     closing:1;
    unsigned                     closed:1;
    unsigned                     recv_failed:1;
    unsigned                     close_logged:1;
    unsigned                     read_paused:1;     /* budget spent */
    unsigned                     moving:1;          /* sent away: 1001 */
} ngx_http_parley_session_t;


/* What this worker holds: set up in init_process. */
typedef struct {
    parley_dir_t                *dir;
    parley_tracks_t             *tracks;            /* NULL: no media */
    ngx_http_parley_main_conf_t *conf;
    uint32_t                     pid;
    uint16_t                     inbox;
    ngx_connection_t            *inbox_conn;
    ngx_event_t                  wake;              /* flushes wake-ups */
    ngx_event_t                  reaper;
    uint64_t                     wake_mask[PARLEY_MAX_INBOXES / 64];
    ngx_queue_t                  sessions;
    ngx_rbtree_t                 rooms;
    ngx_rbtree_node_t            rooms_sentinel;
    parley_participant_t        *roster;            /* scratch copy */
    parley_counters_t           *counters;          /* in our inbox slot */
} ngx_http_parley_worker_t;


/* One writer per block (this worker): a plain increment is enough. */
#define ngx_http_parley_count(name)                                         \
    do {                                                                      \
        if (ngx_http_parley_worker.counters) {                                \
            ngx_http_parley_worker.counters->name++;                          \
        }                                                                     \
    } while (0)


/*
 * Something a client (or the network) may cause thousands of times a
 * second is counted each time but logged at most once per
 * NGX_HTTP_PARLEY_SPARSE_LOG, with how many there were since the line
 * before: a flood must not become a flood of log lines.
 */
#define NGX_HTTP_PARLEY_SPARSE_LOG  10000           /* ms between lines */

typedef struct {
    ngx_msec_t                   logged;
    ngx_uint_t                   unlogged;
} ngx_http_parley_sparse_log_t;


extern ngx_module_t               ngx_http_parley_module;
extern ngx_http_parley_worker_t   ngx_http_parley_worker;
extern int                        ngx_http_parley_wake_fds[PARLEY_MAX_INBOXES];


/* ngx_http_parley_module.c */
#define NGX_HTTP_PARLEY_TAG_LEN  sizeof("r:0123456789ab")
ngx_int_t ngx_http_parley_random(void *buf, size_t n);
#if (NGX_HTTP_PARLEY_TEST_HOOKS)
extern ngx_uint_t  ngx_http_parley_random_failures;
#endif
char *ngx_http_parley_room_tag(const char *id, u_char *tag);
uint64_t ngx_http_parley_clock_ms(void);
ngx_uint_t ngx_http_parley_sparse_log(ngx_http_parley_sparse_log_t *sl);

/* ngx_http_parley_ws.c */
ngx_int_t ngx_http_parley_ws_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_parley_ws_send_text(ngx_http_parley_session_t *s,
    const char *text, size_t len);
void ngx_http_parley_ws_close(ngx_http_parley_session_t *s, ngx_uint_t code);

/* ngx_http_parley_signal.c */
void ngx_http_parley_signal_open(ngx_http_parley_session_t *s);
void ngx_http_parley_signal_text(ngx_http_parley_session_t *s,
    const u_char *text, size_t len);
void ngx_http_parley_signal_binary(ngx_http_parley_session_t *s);
void ngx_http_parley_signal_rate_limited(ngx_http_parley_session_t *s);
void ngx_http_parley_signal_closed(ngx_http_parley_session_t *s);
void ngx_http_parley_signal_event(const parley_event_t *ev);
ngx_http_parley_room_t *ngx_http_parley_room_lookup(uint64_t uid);
void ngx_http_parley_signal_resync(void);
void ngx_http_parley_signal_away_locked(parley_dir_t *dir, uint32_t p,
    parley_reason_t reason);
void ngx_http_parley_signal_expire(void);
void ngx_http_parley_signal_tracks_changed(ngx_http_parley_session_t *s);
void ngx_http_parley_signal_paused(ngx_http_parley_session_t *s,
    const u_char *mid, ngx_uint_t paused);
void ngx_http_parley_signal_speaker(ngx_http_parley_room_t *room,
    ngx_http_parley_session_t *only, uint64_t speaker);
ngx_int_t ngx_http_parley_signal_subscribe_offer(ngx_http_parley_session_t *s,
    ngx_str_t *sdp, ngx_http_parley_offer_track_t *tracks, ngx_uint_t n);

/* ngx_http_parley_inbox.c */
ngx_int_t ngx_http_parley_inbox_start(ngx_cycle_t *cycle);
void ngx_http_parley_inbox_stop(ngx_cycle_t *cycle);
void ngx_http_parley_inbox_send(uint16_t slot, const parley_event_t *ev);
void ngx_http_parley_inbox_wake(uint16_t slot);
void ngx_http_parley_inbox_reap(void);

/* ngx_http_parley_media.c */
ngx_int_t ngx_http_parley_media_start(ngx_cycle_t *cycle);
void ngx_http_parley_media_stop(ngx_cycle_t *cycle);
ngx_int_t ngx_http_parley_media_available(void);
char *ngx_http_parley_codecs_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_parley_media_publish(ngx_http_parley_session_t *s,
    const char *text, size_t len, ngx_array_t *screen, ngx_str_t *answer,
    const char **error);
void ngx_http_parley_media_session_closed(ngx_http_parley_session_t *s);

/* ngx_http_parley_subscribe.c */
ngx_int_t ngx_http_parley_media_subscribe(ngx_http_parley_session_t *s,
    ngx_uint_t restart, const char **error);
ngx_int_t ngx_http_parley_media_subscribe_answer(ngx_http_parley_session_t *s,
    const char *text, size_t len, const char **error);
void ngx_http_parley_media_tracks_changed(ngx_http_parley_room_t *room);
void ngx_http_parley_media_tracks_event(const parley_event_t *ev);
void ngx_http_parley_media_collect(void);
void ngx_http_parley_media_keyframe(uint32_t index, uint64_t uid,
    uint32_t layer);
void ngx_http_parley_media_keyframe_event(const parley_event_t *ev);
ngx_int_t ngx_http_parley_media_layer(ngx_http_parley_session_t *s,
    const char *mid, uint32_t layer, const char **error);

/* ngx_http_parley_speaker.c */
uint64_t ngx_http_parley_speaker_current(ngx_http_parley_room_t *room);
void ngx_http_parley_speaker_destroy(ngx_http_parley_room_t *room);

/* ngx_http_parley_app.c */
ngx_int_t ngx_http_parley_app_handler(ngx_http_request_t *r);

/* ngx_http_parley_status.c */
ngx_int_t ngx_http_parley_status_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_PARLEY_MODULE_H_INCLUDED_ */
