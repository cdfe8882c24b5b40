/*
 * parley-peer: a WebRTC endpoint without a browser, for media tests and as
 * the SFU benchmark's load generator.
 *
 * One process, one thread, one epoll loop. Each peer connection is a real
 * endpoint: libnice (full, controlling) finds the pair, an OpenSSL DTLS
 * client keys SRTP, libsrtp2 protects and unprotects. Once DTLS is done the
 * connection leaves libnice: the loop reads the selected socket itself in
 * batches (recvmmsg) and sends the consent checks (RFC 7675) itself with
 * parley_stun, because GLib walking hundreds of idle sources per wake-up
 * would cost more than the server it measures (docs/performance.md).
 *
 * What is sent is synthetic: every RTP payload ends with a trailer
 * (peer_trailer_t) that names the publisher's SSRC, its own packet counter,
 * the CLOCK_MONOTONIC send time and a checksum of the payload before it, so
 * a receiver checks integrity and measures latency without decoding.
 *
 * Signaling adapters (parley's protocol, Janus's VideoRoom) drive
 * connections through peer_conn_*; they speak JSON over peer_ws.
 */

#ifndef _PARLEY_PEER_H_INCLUDED_
#define _PARLEY_PEER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <glib.h>
#include <jansson.h>

#include "parley_dtls.h"
#include "parley_glib.h"
#include "parley_ice.h"
#include "parley_sdp.h"
#include "parley_srtp.h"
#include "parley_stun.h"


#define PEER_FD_MAX            65536
#define PEER_DATAGRAM_MAX      1500
#define PEER_PACKET_ROOM       (PEER_DATAGRAM_MAX + PARLEY_SRTP_TRAILER_ROOM)
#define PEER_BATCH             32      /* datagrams per recvmmsg() */
#define PEER_SSRCS_MAX         16      /* expected SSRCs per connection */
#define PEER_CONSENT_MS        2000    /* RFC 7675 5.1: 4-6 s; be eager */
#define PEER_TICK_MS           20
#define PEER_DROPS_MAX         64      /* dropped, not yet recovered */
#define PEER_NACK_RETRY_MS     40      /* then ask again, */
#define PEER_NACK_TRIES        3       /* and give up after so many */
#define PEER_HISTORY           256     /* video packets kept for NACKs */
#define PEER_NACK_SEQS_MAX     64      /* numbers taken from one NACK */
#define PEER_RTX_PT            97      /* as the publish offer says */

/* The payload trailer, big-endian; see peer_media.c. */
#define PEER_TRAILER_MAGIC     0x50524c59  /* "PRLY" */
#define PEER_TRAILER_LEN       24

/* Latency histogram: 10 us buckets up to 200 ms, then one overflow. */
#define PEER_LAT_BUCKET_NS     10000
#define PEER_LAT_BUCKETS       20001


typedef struct peer_loop_s   peer_loop_t;
typedef struct peer_conn_s   peer_conn_t;
typedef struct peer_ws_s     peer_ws_t;


/* What a process measured, summed over its connections. */
typedef struct {
    uint64_t   received;           /* RTP datagrams, every one counted */
    uint64_t   bytes;
    uint64_t   authenticated;      /* unprotected and checked */
    uint64_t   auth_failed;        /* SRTP said no */
    uint64_t   corrupt;            /* authentic but the trailer is wrong */
    uint64_t   unknown_ssrc;       /* an SSRC no offer announced */
    uint64_t   duplicates;
    uint64_t   rtcp;
    uint64_t   rtcp_failed;
    uint64_t   plis;               /* keyframe requests received */
    uint64_t   sent;               /* RTP sent by publishers */
    uint64_t   dropped;            /* --drop-every: dropped and NACK'd */
    uint64_t   recovered;          /* of those, back as RTX */
    uint64_t   unrecovered;        /* NACK'd PEER_NACK_TRIES times, gave up */
    uint64_t   recovery_pending;   /* still within those tries at the end */
    uint64_t   nacks_sent;         /* NACK packets a subscriber sent */
    uint64_t   rtx_received;       /* RTX packets, authentic */
    uint64_t   rtx_unsolicited;    /* RTX for no number we were missing */
    uint64_t   skipped;            /* --skip-every: not sent the first time */
    uint64_t   nacks_received;     /* NACK packets a publisher got */
    uint64_t   nacked_seqs;        /* the numbers they named */
    uint64_t   rtx_sent;
    uint64_t   rtx_missed;         /* named, but not in the send history */
    uint64_t   plis_sent;          /* --pli-burst: PLIs subscribers sent */
    uint64_t   seen_for_corruption;
    uint64_t   lat_count;
    uint32_t   lat[PEER_LAT_BUCKETS];
} peer_stats_t;

/* --corrupt-every N: flip a bit in every Nth checked packet (0: never) */
extern unsigned  peer_corrupt_every;
/* --drop-every N: drop every Nth video packet and NACK it (0: never) */
extern unsigned  peer_drop_every;
/* --skip-every N: a publisher leaves every Nth video packet unsent */
extern unsigned  peer_skip_every;
extern uint32_t  peer_fixed_ssrc;      /* --ssrc; 0: random */
/* --video-pps, --video-size, --video-fps: a publisher's video (0: usual) */
extern unsigned  peer_video_pps;
extern unsigned  peer_video_size;
extern unsigned  peer_video_fps;


/* One expected SSRC and what arrived of it. */
typedef struct {
    uint32_t   ssrc;
    unsigned   started:1;
    unsigned   repair:1;           /* RTX: silent unless a loss is healed */
    unsigned   video:1;
    uint32_t   peer;               /* media: its RTX SSRC; RTX: the media's */
    uint32_t   first;              /* extended sequence numbers */
    uint32_t   highest;
    uint64_t   received;
    uint16_t   last_seq;
} peer_rx_ssrc_t;


/* A packet dropped on purpose, until its RTX comes or we give up. */
typedef struct {
    uint32_t   ssrc;
    uint16_t   seq;
    uint8_t    nacks;              /* sent for it so far */
    uint64_t   next_ms;            /* of the next NACK */
} peer_drop_t;


/*
 * --second-path: once its media flows, a subscriber nominates a second
 * socket of its own with a check of the highest priority, as a forged
 * source address would be nominated; the socket then answers the
 * server's checks, or stays silent. What it receives is counted by class.
 */
typedef enum {
    PEER_SECOND_NONE = 0,
    PEER_SECOND_SILENT,
    PEER_SECOND_ANSWER
} peer_second_mode_t;

extern peer_second_mode_t  peer_second_path;

/*
 * --bandwidth-check: a subscriber sends one transport-wide feedback, then
 * none until the server pauses its video, then one every 100 ms until the
 * server lets it through again (peer_bandwidth.c).
 */
extern unsigned  peer_bandwidth_check;

typedef enum {
    PEER_BW_START = 0,
    PEER_BW_SILENT,
    PEER_BW_FEEDING,
    PEER_BW_RESUMED
} peer_bw_state_t;

typedef struct {
    peer_bw_state_t            state;
    uint16_t                   last_seq;       /* transport-wide */
    int64_t                    last_us;
    uint64_t                   numbered;       /* packets that carried one */
    uint64_t                   next_ms;
    uint8_t                    count;          /* feedback packet count */
    uint64_t                   reports;
    uint64_t                   paused;         /* "paused" messages */
    uint64_t                   resumed;
    uint64_t                   video_after;    /* video after the resume */
    uint32_t                   gap;            /* the largest jump in the
                                                  video's numbers since */
} peer_bw_t;

typedef struct {
    peer_second_mode_t         mode;
    int                        fd;             /* -1: none */
    unsigned                   started;        /* its check was sent */
    uint64_t                   stun;           /* datagrams, by class */
    uint64_t                   requests;       /* of those, server checks */
    uint64_t                   answered;
    uint64_t                   srtp;           /* RTP and RTCP */
    uint64_t                   other;
} peer_second_t;


typedef enum {
    PEER_CONN_NEW = 0,
    PEER_CONN_ICE,                 /* checks running */
    PEER_CONN_DTLS,                /* pair selected, handshake running */
    PEER_CONN_SECURE,              /* SRTP keyed, direct socket path */
    PEER_CONN_FAILED
} peer_conn_state_t;


typedef struct {
    void  (*on_secure)(peer_conn_t *c, void *arg);
    void  (*on_failed)(peer_conn_t *c, void *arg, const char *why);
    void  (*on_pli)(peer_conn_t *c, void *arg, uint32_t media_ssrc);
    void  (*on_nack)(peer_conn_t *c, void *arg, uint32_t media_ssrc,
                     const uint16_t *seqs, size_t n);
    void   *arg;
} peer_conn_handler_t;


struct peer_conn_s {
    peer_loop_t               *loop;
    peer_conn_state_t          state;
    peer_conn_handler_t        handler;
    const char                *name;   /* for messages */
    parley_ice_t              *ice;
    parley_ice_state_t         ice_state;
    parley_dtls_t             *dtls;
    parley_srtp_session_t      srtp_in;
    parley_srtp_session_t      srtp_out;
    parley_srtp_profile_t      profile;
    char                       candidate[PARLEY_ICE_CANDIDATE_MAX];
    char                       remote_ufrag[PARLEY_SDP_ICE_LEN];
    char                       remote_pwd[PARLEY_SDP_ICE_LEN];
    parley_stun_key_t          remote_key;
    unsigned                   have_key:1;
    unsigned                   dtls_started:1;
    unsigned                   dtls_server:1;

    /* the direct path once secure */
    int                        fd;
    /* kept: libnice's agent is gone once secure, re-offers are not */
    char                       local_ufrag[PARLEY_ICE_UFRAG_MAX + 1];
    char                       local_pwd[PARLEY_ICE_PWD_MAX + 1];
    struct sockaddr_storage    remote;
    socklen_t                  remote_len;
    uint64_t                   next_consent_ms;
    uint64_t                   last_consent_ok_ms;
    uint64_t                   consent_sent;
    uint64_t                   consent_ok;
    uint8_t                    consent_tid[PARLEY_STUN_TID_SIZE];
    uint64_t                   deadline_ms;    /* to be secure by */

    /* the server's own checks (RFC 7675), answered once libnice is gone */
    parley_stun_key_t          local_key;
    unsigned                   have_local_key:1;
    uint64_t                   checks_answered;
    peer_second_t              second;
    peer_bw_t                  bw;

    /* receiving */
    unsigned                   sample;         /* unprotect 1 in sample */
    uint32_t                   nssrcs;
    peer_rx_ssrc_t             ssrcs[PEER_SSRCS_MAX];
    peer_stats_t              *stats;          /* shared by the process */
    uint64_t                   received;       /* this connection's */
    uint64_t                   next_report_ms; /* a receiver report */

    /* --drop-every: the numbers dropped and asked for again */
    uint8_t                    rtx_apt[128];   /* RTX PT -> its codec's */
    uint32_t                   rtcp_ssrc;      /* ours, as NACK sender */
    uint64_t                   video_seen;
    uint32_t                   ndrops;
    peer_drop_t                drops[PEER_DROPS_MAX];
};


/* The loop */

typedef void (*peer_io_handler_pt)(void *owner, int fd, uint32_t events);

struct peer_loop_s {
    int                        ep;
    GMainContext              *ctx;
    parley_glib_pump_t        *pump;
    uint64_t                   glib_deadline_ms;   /* 0: none */
    unsigned char              pumped[PEER_FD_MAX];   /* GLib watches it */
    peer_io_handler_pt         handler[PEER_FD_MAX];  /* other fds */
    void                      *owner[PEER_FD_MAX];
    uint32_t                   events[PEER_FD_MAX];
    uint64_t                   wakeups;
    uint64_t                   recv_calls;
};


int peer_loop_init(peer_loop_t *l);
void peer_loop_free(peer_loop_t *l);
int peer_loop_add(peer_loop_t *l, int fd, uint32_t events,
    peer_io_handler_pt handler, void *owner);
int peer_loop_mod(peer_loop_t *l, int fd, uint32_t events);
void peer_loop_del(peer_loop_t *l, int fd);
/* After a call into libnice from outside the pump (parley_glib.h, step 5) */
void peer_loop_prepare(peer_loop_t *l);
/* One turn: waits at most max_ms. */
void peer_loop_once(peer_loop_t *l, int max_ms);

uint64_t peer_now_ms(void);
uint64_t peer_now_ns(void);


/* Connections */

void peer_conn_init(peer_conn_t *c, peer_loop_t *l, const char *name,
    const peer_conn_handler_t *h, peer_stats_t *stats, unsigned sample);
/*
 * Agent and host candidate; c->candidate, c->local_ufrag and c->local_pwd
 * hold them after. -1 on failure.
 */
int peer_conn_gather(peer_conn_t *c);
/*
 * The remote description's transport: ICE credentials, its candidates,
 * its fingerprint. Makes the DTLS client on the first call.
 */
int peer_conn_set_remote(peer_conn_t *c, const parley_sdp_media_t *m,
    char *err, size_t errlen);
/* The SSRCs the remote offered, for the receive checks. */
void peer_conn_expect_ssrcs(peer_conn_t *c, const parley_sdp_t *sdp);
void peer_conn_tick(peer_conn_t *c, uint64_t now_ms);
int peer_conn_send_rtp(peer_conn_t *c, uint8_t *buf, size_t len);
int peer_conn_send_rtcp(peer_conn_t *c, uint8_t *buf, size_t len);
/* RFC 4585 6.2.1: a generic NACK for seqs of media_ssrc */
int peer_conn_send_nack(peer_conn_t *c, uint32_t media_ssrc,
    const uint16_t *seqs, size_t n);
/* RFC 4585 6.3.1: a PLI for media_ssrc */
int peer_conn_send_pli(peer_conn_t *c, uint32_t media_ssrc);
void peer_conn_fingerprint(peer_conn_t *c, char *out, size_t size);
void peer_conn_free(peer_conn_t *c);
const char *peer_conn_state_str(peer_conn_state_t s);
/* One datagram of the connection's transport (RFC 7983), buf writable. */
void peer_conn_datagram(peer_conn_t *c, uint8_t *buf, size_t len,
    uint64_t now_ns);
/*
 * Answers the server's Binding request "msg" from "from" on socket "fd"
 * (RFC 8445 7.3), if it is signed with our password: 0 if answered.
 */
int peer_conn_answer_check(peer_conn_t *c, int fd, const struct sockaddr *from,
    socklen_t fromlen, const parley_stun_msg_t *msg);

/* --bandwidth-check (peer_bandwidth.c) */
void peer_bandwidth_receive(peer_conn_t *c, const peer_rx_ssrc_t *r,
    const uint8_t *buf, size_t len, uint64_t now_ns);
void peer_bandwidth_paused(peer_conn_t *c, int paused);
void peer_bandwidth_tick(peer_conn_t *c, uint64_t now_ms);

/* The second path (peer_second.c) */
void peer_second_tick(peer_conn_t *c, uint64_t now_ms);
void peer_second_free(peer_conn_t *c);

/* Where host candidates are gathered: --local-address, 127.0.0.1 */
extern const char  *peer_local_address;

/* The process's DTLS identity, made once. */
parley_dtls_identity_t *peer_identity(void);


/* Media */

/* A video packet as first built, before SRTP. */
typedef struct {
    uint16_t       seq;
    uint16_t       len;            /* 0: empty */
    uint8_t        buf[PEER_DATAGRAM_MAX];
} peer_sent_t;

typedef struct {
    peer_conn_t   *conn;
    uint32_t       audio_ssrc;
    uint32_t       video_ssrc;
    uint32_t       rtx_ssrc;
    uint8_t        audio_pt;
    uint8_t        video_pt;
    uint8_t        mid_ext;        /* 0: none */
    uint8_t        twcc_ext;
    char           audio_mid[8];
    char           video_mid[8];
    uint16_t       audio_seq;
    uint16_t       video_seq;
    uint16_t       twcc_seq;
    uint16_t       picture_id;
    uint32_t       counter;
    uint64_t       start_ns;
    uint64_t       audio_sent;     /* packets */
    uint64_t       video_frames;
    uint64_t       video_sent;
    unsigned       keyframe_due:1;
    unsigned       video_pps;      /* packets per second */
    size_t         video_size;     /* bytes of RTP payload */
    uint64_t       keyframes;
    uint8_t        rtx_pt;
    uint16_t       rtx_seq;
    peer_sent_t   *history;        /* PEER_HISTORY, by seq modulo */
    unsigned       video_fps;
} peer_sender_t;

void peer_sender_init(peer_sender_t *s, peer_conn_t *c);
void peer_sender_free(peer_sender_t *s);
/* RFC 4588: what a NACK names, again as RTX, from the history */
void peer_sender_on_nack(peer_sender_t *s, peer_stats_t *st,
    const uint16_t *seqs, size_t n);
/* Sends what is due by now; returns ms until the next packet is due. */
int peer_sender_run(peer_sender_t *s, peer_stats_t *st);

/*
 * One received SRTP datagram (still protected) on a secure connection.
 * "now_ns" is when the batch arrived.
 */
void peer_media_receive(peer_conn_t *c, uint8_t *buf, size_t len,
    uint64_t now_ns);
void peer_stats_latency(const peer_stats_t *st, double *p50_us,
    double *p99_us);
/* Percent of the samples later than ms */
double peer_stats_later_than(const peer_stats_t *st, unsigned ms);
/* By sequence number ranges, and what arrived of them, known SSRCs only */
void peer_conn_counts(const peer_conn_t *c, uint64_t *expected,
    uint64_t *received);
/* NACKs again for the drops still missing, gives up on the old ones */
void peer_media_tick(peer_conn_t *c, uint64_t now_ms);
/* At the end: what is still missing is unrecovered */
void peer_media_finish(peer_conn_t *c);


/* SDP text */

typedef struct {
    const char   *ufrag;
    const char   *pwd;
    const char   *fingerprint;     /* "sha-256 AB:..." */
    const char   *candidate;       /* "candidate:..." or NULL */
    const char   *setup;           /* "actpass", "active" */
} peer_sdp_transport_t;

/* The publisher's offer: audio mid 0, video mid 1 with RTX. */
int peer_sdp_publish_offer(char *buf, size_t size,
    const peer_sdp_transport_t *t, const peer_sender_t *s);
/* The answer to an SFU's offer: every section received, or inactive. */
int peer_sdp_subscribe_answer(char *buf, size_t size,
    const peer_sdp_transport_t *t, const parley_sdp_t *offer);
/* The first section with ICE credentials, NULL if none. */
const parley_sdp_media_t *peer_sdp_transport_of(const parley_sdp_t *sdp);
/* The process's scratch description: it is large (parley_sdp.h). */
parley_sdp_t *peer_sdp_scratch(void);


/* WebSocket client */

typedef struct {
    void  (*on_open)(peer_ws_t *ws, void *arg);
    void  (*on_message)(peer_ws_t *ws, void *arg, json_t *msg);
    void  (*on_close)(peer_ws_t *ws, void *arg, const char *why);
    void   *arg;
} peer_ws_handler_t;

/* ws://host:port/path; subprotocol may be NULL. NULL on a bad URL. */
peer_ws_t *peer_ws_open(peer_loop_t *l, const char *url,
    const char *subprotocol, const peer_ws_handler_t *h);
int peer_ws_send(peer_ws_t *ws, json_t *msg);   /* steals msg */
void peer_ws_close(peer_ws_t *ws);


/* Participants: one signaling session with its peer connections */

typedef struct peer_run_s        peer_run_t;
typedef struct peer_party_s      peer_party_t;

typedef struct {
    const char  *name;
    const char  *subprotocol;      /* of the WebSocket, NULL: none */
    void  (*on_open)(peer_party_t *p);
    void  (*on_message)(peer_party_t *p, json_t *msg);
    void  (*tick)(peer_party_t *p, uint64_t now_ms);
} peer_signaling_t;

extern const peer_signaling_t  peer_signaling_parley;
extern const peer_signaling_t  peer_signaling_janus;


struct peer_party_s {
    peer_run_t            *run;
    unsigned               index;
    char                   name[32];
    peer_ws_t             *ws;
    unsigned               attempts;       /* connections opened */
    int                    worker;         /* from hello; -1: unknown */
    unsigned               creator:1;
    unsigned               publisher:1;
    unsigned               subscriber:1;
    unsigned               in_room:1;
    unsigned               done:1;         /* failed or finished */
    peer_conn_t            pub;
    peer_sender_t          sender;
    unsigned               pub_made:1;
    peer_conn_t            sub;
    unsigned               sub_made:1;
    unsigned               offers;         /* answered */
    uint64_t               retry_ms;       /* adapter's timer, 0: none */
    void                  *sig;            /* adapter state */
    unsigned               subscribed;     /* the server took "subscribe" */
};


struct peer_run_s {
    peer_loop_t            loop;
    const peer_signaling_t *signaling;
    const char            *url;
    char                   room[128];
    const char            *room_file;
    int                    want_worker;    /* -1: wherever it lands */
    unsigned               max_attempts;
    unsigned               sample;
    unsigned               nparties;
    peer_party_t          *parties;
    peer_stats_t           stats;
    unsigned               failures;
    unsigned               ended:1;        /* the conversation closed */
    char                   first_failure[320];
    uint64_t               janus_room;
};


/* The adapters call these; peer_party.c. */
void peer_party_connect(peer_party_t *p);
void peer_party_reconnect(peer_party_t *p);
void peer_party_fail(peer_party_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void peer_party_entered(peer_party_t *p, const char *room);
/* The publish offer in buf, NULL on failure. */
char *peer_party_publish_offer(peer_party_t *p, char *buf, size_t size);
int peer_party_publish_answer(peer_party_t *p, const char *sdp);
/* The answer in buf to the server's (re-)offer; NULL on failure. */
char *peer_party_subscribe_offer(peer_party_t *p, const char *sdp,
    char *buf, size_t size);
int peer_party_send(peer_party_t *p, json_t *msg);


/* Logging: to stderr, one line, with the program's name. */
void peer_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int  peer_verbose;


#endif /* _PARLEY_PEER_H_INCLUDED_ */
