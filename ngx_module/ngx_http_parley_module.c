/*
 * parley: directives, the shared zone, worker start and stop.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include <sys/eventfd.h>
#include <openssl/rand.h>

#include "ngx_http_parley_module.h"


#define NGX_HTTP_PARLEY_MIN_PING     1000


static void *ngx_http_parley_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_parley_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_parley_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_parley_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_parley_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_parley_location(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_flag_t *flag, ngx_http_handler_pt handler, ngx_uint_t needs_zone);
static char *ngx_http_parley_signaling(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_parley_app(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_parley_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_parley_ice_ports(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_parley_ice_address(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_parley_allowed_origins(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_parley_message_rate(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_parley_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static char *ngx_http_parley_tracks_zone(ngx_conf_t *cf,
    ngx_http_parley_main_conf_t *pmcf);
static ngx_int_t ngx_http_parley_init_tracks_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static char *ngx_http_parley_track_packets(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_parley_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_parley_init_process(ngx_cycle_t *cycle);
static void ngx_http_parley_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_parley_rooms_bounds = {
    ngx_conf_check_num_bounds, 1, 1000000
};

static ngx_conf_num_bounds_t  ngx_http_parley_participants_bounds = {
    ngx_conf_check_num_bounds, 2, 10000
};

static ngx_conf_num_bounds_t  ngx_http_parley_tracks_bounds = {
    ngx_conf_check_num_bounds, 4, 65536
};

static ngx_conf_num_bounds_t  ngx_http_parley_participant_tracks_bounds = {
    ngx_conf_check_num_bounds, 1, 8
};

static ngx_conf_post_t  ngx_http_parley_track_packets_post = {
    ngx_http_parley_track_packets
};


static ngx_command_t  ngx_http_parley_commands[] = {

    { ngx_string("parley_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_parley_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_max_rooms"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, max_rooms),
      &ngx_http_parley_rooms_bounds },

    { ngx_string("parley_max_participants"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, max_participants),
      &ngx_http_parley_participants_bounds },

    { ngx_string("parley_ice_ports"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_parley_ice_ports,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_max_tracks"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, max_tracks),
      &ngx_http_parley_tracks_bounds },

    { ngx_string("parley_max_participant_tracks"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, participant_tracks),
      &ngx_http_parley_participant_tracks_bounds },

    { ngx_string("parley_max_room_tracks"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, room_tracks),
      &ngx_http_parley_tracks_bounds },

    { ngx_string("parley_track_packets"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, track_packets),
      &ngx_http_parley_track_packets_post },

    { ngx_string("parley_codecs"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_parley_codecs_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_ice_address"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_parley_ice_address,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_resume_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, resume_timeout),
      NULL },

    { ngx_string("parley_signaling"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_parley_signaling,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_app"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_parley_app,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_parley_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_max_message_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, max_message_size),
      NULL },

    { ngx_string("parley_send_buffer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, send_buffer),
      NULL },

    { ngx_string("parley_ping_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, ping_interval),
      NULL },

    { ngx_string("parley_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, idle_timeout),
      NULL },

    { ngx_string("parley_message_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_parley_message_rate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_allowed_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_parley_allowed_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_parley_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_parley_create_main_conf,      /* create main configuration */
    ngx_http_parley_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_parley_create_loc_conf,       /* create location configuration */
    ngx_http_parley_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_parley_module = {
    NGX_MODULE_V1,
    &ngx_http_parley_module_ctx,           /* module context */
    ngx_http_parley_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_parley_init_module,           /* init module */
    ngx_http_parley_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_parley_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_http_parley_worker_t  ngx_http_parley_worker;

/*
 * One wake-up eventfd per inbox slot, created once by the master and kept
 * for its whole life: workers of every generation (old ones draining after
 * a reload, respawned ones) inherit the same set, so any worker can wake
 * any other whatever configuration cycle started it.
 */
int  ngx_http_parley_wake_fds[PARLEY_MAX_INBOXES];
static ngx_uint_t  ngx_http_parley_wake_fds_created;


/*
 * Every secret the module makes (conversation ids, ICE credentials, resume
 * secrets, SSRCs) comes from OpenSSL's generator, which reseeds itself
 * after fork and rarely makes a system call; when it fails, the operation
 * that wanted the bytes fails too, rather than go on with weaker ones.
 */

#if (NGX_HTTP_PARLEY_TEST_HOOKS)
/* tests only: the next calls fail, as a generator without entropy would */
ngx_uint_t  ngx_http_parley_random_failures;
#endif


ngx_int_t
ngx_http_parley_random(void *buf, size_t n)
{
#if (NGX_HTTP_PARLEY_TEST_HOOKS)
    if (ngx_http_parley_random_failures) {
        ngx_http_parley_random_failures--;
        n = (size_t) INT_MAX + 1;
    }
#endif

    if (n > INT_MAX || RAND_bytes(buf, (int) n) != 1) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "parley: RAND_bytes() failed: no random bytes");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Milliseconds of the system's monotonic clock: the same in every process,
 * so that a deadline one worker writes in the directory another can read.
 */

uint64_t
ngx_http_parley_clock_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


/*
 * Counts one more of a sparsely logged event; returns how many there were
 * since the last line when a line is due now, 0 when it is not.
 */

ngx_uint_t
ngx_http_parley_sparse_log(ngx_http_parley_sparse_log_t *sl)
{
    ngx_uint_t  n;

    sl->unlogged++;

    if (sl->logged
        && ngx_current_msec - sl->logged < NGX_HTTP_PARLEY_SPARSE_LOG)
    {
        return 0;
    }

    n = sl->unlogged;
    sl->logged = ngx_current_msec;
    sl->unlogged = 0;

    return n;
}


/*
 * What the log says of a conversation: "r:" and 12 hex digits of the
 * SHA-1 of its id. The id is the join link's only secret and must not be
 * read from a log; the tag still lets an operator follow one conversation
 * through it (and tools/room-tag computes the tag of an id).
 */

char *
ngx_http_parley_room_tag(const char *id, u_char *tag)
{
    u_char      hash[20];
    ngx_sha1_t  sha1;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, id, ngx_strlen(id));
    ngx_sha1_final(hash, &sha1);

    tag[0] = 'r';
    tag[1] = ':';
    *ngx_hex_dump(tag + 2, hash, 6) = '\0';

    return (char *) tag;
}


static ngx_int_t
ngx_http_parley_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_parley_module);

    if (pmcf == NULL || pmcf->shm_zone == NULL
        || ngx_http_parley_wake_fds_created)
    {
        return NGX_OK;
    }

    for (i = 0; i < PARLEY_MAX_INBOXES; i++) {
        ngx_http_parley_wake_fds[i] = eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC);

        if (ngx_http_parley_wake_fds[i] == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "parley: eventfd() failed");

            while (i--) {
                (void) close(ngx_http_parley_wake_fds[i]);
            }

            return NGX_ERROR;
        }
    }

    ngx_http_parley_wake_fds_created = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_parley_init_process(ngx_cycle_t *cycle)
{
    ngx_http_parley_worker_t     *w;
    ngx_http_parley_main_conf_t  *pmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_parley_module);

    if (pmcf == NULL || pmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    w = &ngx_http_parley_worker;
    ngx_memzero(w, sizeof(ngx_http_parley_worker_t));

    w->conf = pmcf;
    w->dir = pmcf->shm_zone->data;
    w->tracks = pmcf->tracks_zone ? pmcf->tracks_zone->data : NULL;
    w->pid = (uint32_t) ngx_pid;

    ngx_queue_init(&w->sessions);
    ngx_rbtree_init(&w->rooms, &w->rooms_sentinel, ngx_rbtree_insert_value);

    w->roster = ngx_alloc(pmcf->max_participants
                          * sizeof(parley_participant_t), cycle->log);
    if (w->roster == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_parley_inbox_start(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_parley_media_start(cycle);
}


static void
ngx_http_parley_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_parley_worker.dir == NULL) {
        return;
    }

    ngx_http_parley_media_stop(cycle);
    ngx_http_parley_inbox_stop(cycle);

    ngx_free(ngx_http_parley_worker.roster);
    ngx_http_parley_worker.roster = NULL;
    ngx_http_parley_worker.dir = NULL;
}


static ngx_int_t
ngx_http_parley_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                        lo, hi, mid, size;
    void                         *mem;
    u_char                        key[16];
    parley_rc_t                   rc;
    ngx_slab_pool_t              *shpool;
    parley_dir_limits_t           limits;
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    limits.max_rooms = pmcf->max_rooms;
    limits.max_per_room = pmcf->max_participants;

    if (data) {
        /* nginx -s reload with a zone of the same name and size */

        mem = data;
        rc = parley_dir_attach(mem, ((parley_dir_t *) mem)->size, &limits);

        if (rc != PARLEY_OK) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "parley_zone \"%V\" holds rooms laid out for "
                          "other parley_max_rooms/parley_max_participants "
                          "values; restart nginx, or change the zone's "
                          "name or size, to apply them",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

        shm_zone->data = mem;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    /*
     * The directory is one slab allocation; its participant pool gets what
     * the zone can hold, up to max_rooms * max_participants. Find the
     * largest pool that fits with a binary search over allocation sizes.
     */

    shpool->log_nomem = 0;

    lo = 0;
    hi = (size_t) limits.max_rooms * limits.max_per_room;
    mem = NULL;

    while (lo < hi) {
        mid = lo + (hi - lo + 1) / 2;
        mem = ngx_slab_alloc(shpool, parley_dir_size(&limits, mid));

        if (mem) {
            ngx_slab_free(shpool, mem);
            lo = mid;

        } else {
            hi = mid - 1;
        }
    }

    shpool->log_nomem = 1;

    size = parley_dir_size(&limits, lo);
    mem = (lo > 0) ? ngx_slab_alloc(shpool, size) : NULL;

    if (mem == NULL || parley_dir_init(mem, size, &limits) != PARLEY_OK
        || ngx_http_parley_random(key, sizeof(key)) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "parley_zone \"%V\" is too small for "
                      "parley_max_rooms %ui: it needs at least %uz bytes",
                      &shm_zone->shm.name, pmcf->max_rooms,
                      parley_dir_size(&limits, 1) + 2 * ngx_pagesize
                      + sizeof(ngx_slab_pool_t));
        return NGX_ERROR;
    }

    /* the id hash's key: nobody outside can choose colliding ids */
    parley_dir_seed(mem, key);

    shpool->data = mem;
    shm_zone->data = mem;

    ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                  "parley_zone \"%V\": %ui rooms, %uz participants in all",
                  &shm_zone->shm.name, pmcf->max_rooms, lo);

    return NGX_OK;
}


static void *
ngx_http_parley_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_parley_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     pmcf->shm_zone = NULL;
     */

    pmcf->max_rooms = NGX_CONF_UNSET_UINT;
    pmcf->max_participants = NGX_CONF_UNSET_UINT;
    pmcf->ice_port_min = NGX_CONF_UNSET_UINT;
    pmcf->ice_port_max = NGX_CONF_UNSET_UINT;
    pmcf->max_tracks = NGX_CONF_UNSET_UINT;
    pmcf->participant_tracks = NGX_CONF_UNSET_UINT;
    pmcf->room_tracks = NGX_CONF_UNSET_UINT;
    pmcf->track_packets = NGX_CONF_UNSET_UINT;
    pmcf->codecs = NGX_CONF_UNSET_UINT;
    pmcf->resume_timeout = NGX_CONF_UNSET_MSEC;

    return pmcf;
}


static char *
ngx_http_parley_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_parley_main_conf_t  *pmcf = conf;

    ngx_conf_init_uint_value(pmcf->max_rooms, 1000);
    ngx_conf_init_uint_value(pmcf->max_participants, 50);
    ngx_conf_init_uint_value(pmcf->ice_port_min, 40000);
    ngx_conf_init_uint_value(pmcf->ice_port_max, 40127);
    ngx_conf_init_uint_value(pmcf->max_tracks, 128);
    ngx_conf_init_uint_value(pmcf->participant_tracks, 4);

    /* one room may not take the whole table: half of it by default */
    ngx_conf_init_uint_value(pmcf->room_tracks,
                             ngx_min(64, ngx_max(pmcf->max_tracks / 2, 4)));
    ngx_conf_init_uint_value(pmcf->track_packets, 256);

    if (pmcf->room_tracks > pmcf->max_tracks) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_max_room_tracks\" %ui is more than "
                           "\"parley_max_tracks\" %ui", pmcf->room_tracks,
                           pmcf->max_tracks);
        return NGX_CONF_ERROR;
    }
    ngx_conf_init_uint_value(pmcf->codecs, (ngx_uint_t) -1);
    ngx_conf_init_msec_value(pmcf->resume_timeout, 20000);

    if (pmcf->shm_zone && pmcf->ice_address.len) {
        return ngx_http_parley_tracks_zone(cf, pmcf);
    }

    return NGX_CONF_OK;
}


/*
 * The track table and its rings get a zone of their own, named after
 * parley_zone with ":media" added and sized from parley_max_tracks and
 * parley_track_packets: it exists only where there is media.
 */

static char *
ngx_http_parley_tracks_zone(ngx_conf_t *cf, ngx_http_parley_main_conf_t *pmcf)
{
    size_t                    size;
    ngx_str_t                 name;
    parley_tracks_geometry_t  geometry;

    geometry.max_tracks = (uint32_t) pmcf->max_tracks;
    geometry.ring_slots = (uint32_t) pmcf->track_packets;
    geometry.slot_size = NGX_HTTP_PARLEY_SLOT_SIZE;

    size = parley_tracks_size(&geometry);

    if (size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "parley_max_tracks %ui with parley_track_packets "
                           "%ui is too large", pmcf->max_tracks,
                           pmcf->track_packets);
        return NGX_CONF_ERROR;
    }

    /* the slab pool's header and page table, and page alignment */
    size = ngx_align(size + 8 * ngx_pagesize + size / ngx_pagesize * 32,
                     ngx_pagesize);

    name.len = pmcf->shm_zone->shm.name.len + sizeof(":media") - 1;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(name.data, "%V:media", &pmcf->shm_zone->shm.name);

    pmcf->tracks_zone = ngx_shared_memory_add(cf, &name, size,
                                              &ngx_http_parley_module);
    if (pmcf->tracks_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    pmcf->tracks_zone->init = ngx_http_parley_init_tracks_zone;
    pmcf->tracks_zone->data = pmcf;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_parley_init_tracks_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                        size;
    void                         *mem;
    ngx_slab_pool_t              *shpool;
    parley_tracks_t              *tracks;
    parley_tracks_geometry_t      geometry;
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    geometry.max_tracks = (uint32_t) pmcf->max_tracks;
    geometry.ring_slots = (uint32_t) pmcf->track_packets;
    geometry.slot_size = NGX_HTTP_PARLEY_SLOT_SIZE;
    size = parley_tracks_size(&geometry);

    if (data) {
        /* a reload: the tracks published so far keep flowing */

        if (parley_tracks_attach(data, size, &geometry, &tracks)
            != PARLEY_OK)
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "parley zone \"%V\" holds tracks laid out for "
                          "other parley_max_tracks/parley_track_packets "
                          "values; restart nginx to apply them",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

        shm_zone->data = data;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    mem = ngx_slab_alloc(shpool, size);

    if (mem == NULL || parley_tracks_init(mem, size, &geometry) != PARLEY_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "parley zone \"%V\": no memory for %ui tracks",
                      &shm_zone->shm.name, pmcf->max_tracks);
        return NGX_ERROR;
    }

    shpool->data = mem;
    shm_zone->data = mem;

    ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                  "parley zone \"%V\": %ui tracks of %ui packets, %uz "
                  "bytes", &shm_zone->shm.name, pmcf->max_tracks,
                  pmcf->track_packets, size);

    return NGX_OK;
}


/* A ring's slot count is a power of two: sequence & (slots - 1). */

static char *
ngx_http_parley_track_packets(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *np = data;

    if (*np < 32 || *np > 8192 || (*np & (*np - 1)) != 0) {
        return "must be a power of two from 32 to 8192";
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_parley_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_parley_loc_conf_t));
    if (plcf == NULL) {
        return NULL;
    }

    plcf->signaling = NGX_CONF_UNSET;
    plcf->app = NGX_CONF_UNSET;
    plcf->status = NGX_CONF_UNSET;
    plcf->max_message_size = NGX_CONF_UNSET_SIZE;
    plcf->send_buffer = NGX_CONF_UNSET_SIZE;
    plcf->ping_interval = NGX_CONF_UNSET_MSEC;
    plcf->idle_timeout = NGX_CONF_UNSET_MSEC;
    plcf->message_rate = NGX_CONF_UNSET_UINT;
    plcf->message_burst = NGX_CONF_UNSET_UINT;
    plcf->allowed_origins = NGX_CONF_UNSET_PTR;

    return plcf;
}


static char *
ngx_http_parley_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_parley_loc_conf_t *prev = parent;
    ngx_http_parley_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->signaling, prev->signaling, 0);
    ngx_conf_merge_value(conf->app, prev->app, 0);
    ngx_conf_merge_value(conf->status, prev->status, 0);
    ngx_conf_merge_size_value(conf->max_message_size,
                              prev->max_message_size, 64 * 1024);
    ngx_conf_merge_size_value(conf->send_buffer, prev->send_buffer,
                              1024 * 1024);
    ngx_conf_merge_msec_value(conf->ping_interval, prev->ping_interval,
                              30000);
    ngx_conf_merge_msec_value(conf->idle_timeout, prev->idle_timeout,
                              75000);
    ngx_conf_merge_ptr_value(conf->allowed_origins, prev->allowed_origins,
                             NULL);

    if (conf->message_rate == NGX_CONF_UNSET_UINT) {
        conf->message_rate = (prev->message_rate == NGX_CONF_UNSET_UINT)
                             ? 50 : prev->message_rate;
        conf->message_burst = (prev->message_burst == NGX_CONF_UNSET_UINT)
                              ? 200 : prev->message_burst;
    }

    if (conf->max_message_size < 256) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_max_message_size\" must be at least "
                           "256 bytes");
        return NGX_CONF_ERROR;
    }

    if (conf->send_buffer < conf->max_message_size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_send_buffer\" must be at least "
                           "\"parley_max_message_size\"");
        return NGX_CONF_ERROR;
    }

    if (conf->ping_interval < NGX_HTTP_PARLEY_MIN_PING) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_ping_interval\" must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (conf->idle_timeout <= conf->ping_interval) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_idle_timeout\" must be longer than "
                           "\"parley_ping_interval\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_parley_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t  *pmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (pmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    pmcf->shm_zone = ngx_shared_memory_add(cf, &value[1], size,
                                           &ngx_http_parley_module);
    if (pmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (pmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &value[1]);
        return NGX_CONF_ERROR;
    }

    pmcf->shm_zone->init = ngx_http_parley_init_zone;
    pmcf->shm_zone->data = pmcf;

    return NGX_CONF_OK;
}


/*
 * parley_signaling, parley_app and parley_status: each makes its location
 * one of the module's handlers; those that use the directory need the zone.
 */

static char *
ngx_http_parley_location(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_flag_t *flag, ngx_http_handler_pt handler, ngx_uint_t needs_zone)
{
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_parley_main_conf_t  *pmcf;

    if (*flag != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_parley_module);

    if (needs_zone && pmcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" requires \"parley_zone\" in the http "
                           "block, before it", &cmd->name);
        return NGX_CONF_ERROR;
    }

    *flag = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_parley_signaling(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_loc_conf_t  *plcf = conf;

    return ngx_http_parley_location(cf, cmd, &plcf->signaling,
                                    ngx_http_parley_ws_handler, 1);
}


static char *
ngx_http_parley_app(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_loc_conf_t  *plcf = conf;

    return ngx_http_parley_location(cf, cmd, &plcf->app,
                                    ngx_http_parley_app_handler, 0);
}


static char *
ngx_http_parley_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_loc_conf_t  *plcf = conf;

    return ngx_http_parley_location(cf, cmd, &plcf->status,
                                    ngx_http_parley_status_handler, 1);
}


/* parley_ice_ports 40000-40127: one port per worker, at min + inbox slot */

static char *
ngx_http_parley_ice_ports(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t  *pmcf = conf;

    u_char     *dash;
    ngx_int_t   min, max;
    ngx_str_t  *value;

    if (pmcf->ice_port_min != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    dash = ngx_strlchr(value[1].data, value[1].data + value[1].len, '-');

    if (dash == NULL) {
        goto invalid;
    }

    min = ngx_atoi(value[1].data, dash - value[1].data);
    max = ngx_atoi(dash + 1, value[1].data + value[1].len - dash - 1);

    if (min < 1 || max > 65535 || min > max) {
        goto invalid;
    }

    pmcf->ice_port_min = min;
    pmcf->ice_port_max = max;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid port range \"%V\": it is \"MIN-MAX\", "
                       "1 <= MIN <= MAX <= 65535", &value[1]);
    return NGX_CONF_ERROR;
}


/*
 * parley_ice_address 10.0.0.5 [announce=203.0.113.7]: the IPv4 address the
 * workers' media sockets bind, and the one put in ICE candidates when the
 * server is behind a 1:1 NAT (RFC 8445 5.1.1.1).
 */

static char *
ngx_http_parley_ice_address(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t  *pmcf = conf;

    ngx_str_t  *value, announce;

    if (pmcf->ice_address.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_inet_addr(value[1].data, value[1].len) == INADDR_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid address \"%V\": an IPv4 address is "
                           "expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    pmcf->ice_address = value[1];

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "announce=", 9) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    announce.data = value[2].data + 9;
    announce.len = value[2].len - 9;

    if (ngx_inet_addr(announce.data, announce.len) == INADDR_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid announced address \"%V\": an IPv4 "
                           "address is expected", &announce);
        return NGX_CONF_ERROR;
    }

    pmcf->ice_announce = announce;

    return NGX_CONF_OK;
}


/*
 * parley_message_rate 50 [burst=200] | off: the messages a session may
 * send a second, on average, and in a burst.
 */

static char *
ngx_http_parley_message_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_loc_conf_t  *plcf = conf;

    ngx_int_t   rate, burst;
    ngx_str_t  *value;

    if (plcf->message_rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        plcf->message_rate = 0;
        plcf->message_burst = 0;
        return NGX_CONF_OK;
    }

    rate = ngx_atoi(value[1].data, value[1].len);

    if (rate < 1 || rate > 100000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\": messages a second, 1 to "
                           "100000, or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    burst = 4 * rate;

    if (cf->args->nelts == 3) {
        if (value[2].len <= 6
            || ngx_strncmp(value[2].data, "burst=", 6) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        burst = ngx_atoi(value[2].data + 6, value[2].len - 6);

        if (burst < 1 || burst > 1000000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid burst \"%V\": 1 to 1000000",
                               &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    plcf->message_rate = rate;
    plcf->message_burst = burst;

    return NGX_CONF_OK;
}


static char *
ngx_http_parley_allowed_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_parley_loc_conf_t  *plcf = conf;

    ngx_str_t   *value, *origin;
    ngx_uint_t   i;

    if (plcf->allowed_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        plcf->allowed_origins = NULL;
        return NGX_CONF_OK;
    }

    plcf->allowed_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                             sizeof(ngx_str_t));
    if (plcf->allowed_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "http://", 7) != 0
            && ngx_strncmp(value[i].data, "https://", 8) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\": an origin is "
                               "\"http://host[:port]\" or "
                               "\"https://host[:port]\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (value[i].data[value[i].len - 1] == '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\": no path or "
                               "trailing \"/\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        origin = ngx_array_push(plcf->allowed_origins);
        if (origin == NULL) {
            return NGX_CONF_ERROR;
        }

        *origin = value[i];
    }

    return NGX_CONF_OK;
}
