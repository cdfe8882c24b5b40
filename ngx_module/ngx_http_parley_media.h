/*
 * parley: the media plane's nginx side, shared by its two files.
 *
 * ngx_http_parley_media.c      the worker's UDP socket, peer connections,
 *                              their timers, the publish answer
 * ngx_http_parley_subscribe.c  the shared track table: publishing tracks,
 *                              forwarding from their rings, subscribe
 *                              offers and renegotiation, keyframes
 */

#ifndef _NGX_HTTP_PARLEY_MEDIA_H_INCLUDED_
#define _NGX_HTTP_PARLEY_MEDIA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_module.h"
#include "parley_peer.h"
#include "parley_endpoint.h"
#include "parley_sdp.h"
#include "parley_rtp.h"
#include "parley_codec.h"
#include "parley_rtcp.h"
#include "parley_forward.h"
#include "parley_simulcast.h"
#include "parley_renumber.h"
#include "parley_budget.h"
#include "parley_retransmit.h"
#include "parley_twcc.h"
#include "parley_rtcp_recv.h"
#include "parley_rtcp_send.h"
#include "parley_nack.h"
#include "parley_downlink.h"
#include "parley_rate.h"
#include "parley_leg.h"


#define NGX_HTTP_PARLEY_UDP_BUF       2048
#define NGX_HTTP_PARLEY_SEND_BATCH    64      /* datagrams per sendmmsg */
#define NGX_HTTP_PARLEY_SDP_MAX       65536
#define NGX_HTTP_PARLEY_TRACKS        8       /* per publish connection */
#define NGX_HTTP_PARLEY_LEGS          64      /* per subscribe connection */
#define NGX_HTTP_PARLEY_MID_LEN       7
#define NGX_HTTP_PARLEY_FLOOD_LOG     10000   /* ms between log lines */


/* A track a publisher sends, as its offer and our answer numbered it. */
typedef struct {
    parley_sdp_kind_t            kind;
    uint8_t                      track_kind;        /* parley_track_kind_t */
    uint32_t                     ssrc;
    uint32_t                     rtx_ssrc;
    ngx_uint_t                   codec;             /* in the allow-list */
    parley_codec_t               payload;           /* how to read it */
    uint8_t                      pt;
    uint8_t                      rtx_pt;
    uint8_t                      ext[PARLEY_TRACK_EXT_IDS];
    u_char                       mid[PARLEY_SDP_MID_LEN + 1];

    /* simulcast (RFC 8853): the encodings by rid, lowest first, whose
       SSRCs the packets' rid extensions tell */
    uint8_t                      layers;            /* 0: one encoding */
    uint8_t                      rid_id;
    uint8_t                      rrid_id;
    u_char                       rids[PARLEY_SIMULCAST_LAYERS]
                                     [PARLEY_SDP_RID_LEN];
    uint32_t                     layer_ssrc[PARLEY_SIMULCAST_LAYERS];
    uint32_t                     layer_rtx_ssrc[PARLEY_SIMULCAST_LAYERS];
    parley_retransmit_seq_t      seqs;              /* ring meta */
    parley_nack_t               *nack[PARLEY_SIMULCAST_LAYERS];  /* video */
    uint64_t                     sr_arrival[PARLEY_SIMULCAST_LAYERS];

    /* a flood stays with its sender: token buckets of packets and bytes */
    int64_t                      flood_packets;
    int64_t                      flood_bytes;
    ngx_msec_t                   flood_time;
    ngx_msec_t                   flood_logged;

    ngx_http_parley_pc_t        *pc;
    uint32_t                     index;             /* in the track table */
    uint64_t                     uid;               /* 0: not published */
    uint8_t                      level_id;          /* RFC 6464; 0: none */
    uint8_t                      pli_wanted;        /* layers asked too
                                                       soon, a bit each */
    ngx_msec_t                   last_pli[PARLEY_SIMULCAST_LAYERS];
    unsigned                     dirty:1;           /* written this batch */
} ngx_http_parley_track_t;


/*
 * One section of a subscribe connection: a track of someone else's while
 * "uid" is set, an inactive section (mid kept, RFC 8843 7.3) otherwise.
 */
typedef struct {
    ngx_queue_t                  queue;             /* the local track's */
    ngx_http_parley_pc_t        *pc;
    uint32_t                     index;
    uint64_t                     uid;
    uint64_t                     publisher;         /* participant id */
    parley_sdp_kind_t            kind;
    uint8_t                      track_kind;
    ngx_uint_t                   codec;
    uint32_t                     ssrc;
    parley_leg_t                 core;              /* the packet path */
    ngx_msec_t                   last_ask;
    uint64_t                     wish_for;          /* publisher, or 0 */
    uint8_t                      wish_kind;         /* of its track */
    uint32_t                     wish;              /* its "layer" */
    uint32_t                     cap;               /* for bandwidth */
    u_char                       mid[NGX_HTTP_PARLEY_MID_LEN + 1];
    unsigned                     fresh:1;           /* keyframe at answer */
    unsigned                     told_paused:1;     /* the client knows */
} ngx_http_parley_leg_t;


/* What a publisher is told: receiver reports, transport-wide feedback. */
typedef struct {
    parley_rtcp_recv_t           recv;
    parley_twcc_t                twcc;
    uint8_t                      twcc_id;           /* 0: not negotiated */
    ngx_uint_t                   nfree;             /* NACK states to reuse */
    parley_nack_t               *free[NGX_HTTP_PARLEY_TRACKS
                                      * PARLEY_SIMULCAST_LAYERS];
} ngx_http_parley_feedback_t;


struct ngx_http_parley_pc_s {
    ngx_http_parley_session_t   *session;
    parley_peer_t               *peer;
    ngx_event_t                  timer;
    ngx_event_t                  report;            /* RTCP we send */
    ngx_event_t                  probe;             /* its padding */
    ngx_http_parley_feedback_t  *feedback;          /* publisher */
    parley_downlink_t           *downlink;          /* subscriber */
    uint64_t                     sdp_version;
    parley_peer_state_t          state;
    ngx_http_parley_pc_t        *next_touched;

    ngx_uint_t                   ntracks;           /* publisher */
    ngx_http_parley_track_t     *tracks;            /* publisher: room for
                                                       NGX_HTTP_PARLEY_TRACKS */

    ngx_uint_t                   nlegs;             /* subscriber */
    ngx_http_parley_leg_t       *legs[NGX_HTTP_PARLEY_LEGS]; /* as offered */
    u_char                       ufrag[PARLEY_PEER_UFRAG_LEN + 1];
    u_char                       pwd[PARLEY_PEER_PWD_LEN + 1];
    u_char                       remote_ufrag[PARLEY_SDP_ICE_LEN];

    unsigned                     touched:1;
    unsigned                     subscriber:1;
    unsigned                     offer_pending:1;   /* awaiting an answer */
    unsigned                     renegotiate:1;     /* changed meanwhile */
    unsigned                     restart:1;         /* in the pending offer */
};


/* A track of the table that this worker's subscribers receive. */
typedef struct {
    uint64_t                     uid;               /* 0: none here */
    parley_ring_reader_t         reader;
    ngx_queue_t                  legs;
    parley_retransmit_index_t   *index;             /* NACKs find here */
    uint32_t                     kind;              /* parley_track_kind_t */
    ngx_http_parley_room_t      *room;              /* of the legs */
    uint64_t                     publisher;
    uint8_t                      level_id;          /* audio from another
                                                       worker: speaker */
    parley_rate_t                rate[PARLEY_SIMULCAST_LAYERS];
} ngx_http_parley_local_t;


typedef struct {
    ngx_connection_t            *udp;
    in_port_t                    port;
    parley_dtls_identity_t      *identity;
    parley_endpoint_t           *endpoint;
    ngx_http_parley_pc_t        *touched;           /* during a batch */
    ngx_http_parley_sparse_log_t drops_log;
    ngx_http_parley_sparse_log_t send_failures_log;
    u_char                      *bufs;
    u_char                      *sdp;               /* an answer's text */
    u_char                       announce[NGX_INET_ADDRSTRLEN + 1];
    parley_sdp_codec_conf_t      codecs[8];         /* parley_codecs */
    ngx_uint_t                   ncodecs;

    parley_tracks_t             *tracks;
    uint32_t                     max_tracks;
    ngx_http_parley_local_t     *local;             /* [max_tracks] */
    ngx_http_parley_track_t    **owned;             /* [max_tracks] */
    uint32_t                    *dirty;             /* [max_tracks] */
    uint32_t                     ndirty;
    uint32_t                    *collected;         /* [max_tracks] */
    parley_retransmit_index_t   *indexes;           /* [max_tracks] */
    u_char                      *packet;            /* one ring slot */

    /* the fan-out's datagrams, sent with one sendmmsg per batch */
    u_char                      *out;
    ngx_uint_t                   nout;
    struct mmsghdr               msgs[NGX_HTTP_PARLEY_SEND_BATCH];
    struct iovec                 iov[NGX_HTTP_PARLEY_SEND_BATCH];
    struct sockaddr_storage      addrs[NGX_HTTP_PARLEY_SEND_BATCH];
} ngx_http_parley_media_t;


extern ngx_http_parley_media_t          ngx_http_parley_media;
extern const parley_sdp_codec_conf_t    ngx_http_parley_codecs[];
extern const ngx_uint_t                 ngx_http_parley_ncodecs;
extern const parley_sdp_extmap_conf_t   ngx_http_parley_extmaps[];
extern const ngx_uint_t                 ngx_http_parley_nextmaps;
extern const char                      *ngx_http_parley_track_kinds[];


/* ngx_http_parley_media.c */
ngx_http_parley_pc_t *ngx_http_parley_pc_alloc(ngx_http_parley_session_t *s);
ngx_int_t ngx_http_parley_pc_start(ngx_http_parley_pc_t *pc,
    parley_peer_conf_t *conf, const parley_sdp_media_t *first);
ngx_int_t ngx_http_parley_pc_local(ngx_http_parley_pc_t *pc,
    parley_sdp_local_t *local, parley_sdp_host_t *host, u_char *ufrag,
    u_char *pwd);
void ngx_http_parley_pc_arm(ngx_http_parley_pc_t *pc);
ngx_int_t ngx_http_parley_pc_restart(ngx_http_parley_pc_t *pc,
    const char *ufrag, const char *pwd, const u_char *local_pwd);
void ngx_http_parley_pc_destroy(ngx_http_parley_pc_t *pc);
void ngx_http_parley_pc_free(ngx_http_parley_pc_t *pc);
parley_forward_ext_kind_t ngx_http_parley_ext_kind(const char *uri);
ngx_int_t ngx_http_parley_random_chars(u_char *p, size_t n);
ngx_int_t ngx_http_parley_random32(uint32_t *r);
u_char *ngx_http_parley_send_slot(void);
ngx_int_t ngx_http_parley_send_rtp(parley_peer_t *peer, size_t len);
void ngx_http_parley_send_flush(void);

/* ngx_http_parley_subscribe.c */
ngx_int_t ngx_http_parley_tracks_start(ngx_cycle_t *cycle);
void ngx_http_parley_tracks_stop(void);
const char *ngx_http_parley_tracks_publish(ngx_http_parley_pc_t *pc);
void ngx_http_parley_tracks_unpublish(ngx_http_parley_pc_t *pc);
void ngx_http_parley_tracks_write(ngx_http_parley_pc_t *pc, uint8_t *buf,
    size_t len, parley_rtp_header_t *h);
void ngx_http_parley_tracks_flush(void);
void ngx_http_parley_unforwarded(ngx_http_parley_pc_t *pc, const char *why);
void ngx_http_parley_subscriber_closed(ngx_http_parley_pc_t *pc);
void ngx_http_parley_subscriber_secure(ngx_http_parley_pc_t *pc);
void ngx_http_parley_subscriber_rtcp(ngx_http_parley_pc_t *pc, uint8_t *buf,
    size_t len);

/* ngx_http_parley_bandwidth.c */
ngx_int_t ngx_http_parley_bandwidth_start(ngx_http_parley_pc_t *pc);
void ngx_http_parley_bandwidth_free(ngx_http_parley_pc_t *pc);
uint32_t ngx_http_parley_bandwidth_seq(ngx_http_parley_pc_t *pc);
void ngx_http_parley_bandwidth_sent(ngx_http_parley_pc_t *pc, size_t len);
void ngx_http_parley_bandwidth_rtcp(ngx_http_parley_pc_t *pc,
    const parley_rtcp_packet_t *pkt);
void ngx_http_parley_bandwidth_check(ngx_http_parley_pc_t *pc);
void ngx_http_parley_bandwidth_allocate(ngx_http_parley_pc_t *pc);
void ngx_http_parley_bandwidth_stop(ngx_http_parley_pc_t *pc);
void ngx_http_parley_bandwidth_restart(ngx_http_parley_pc_t *pc);
void ngx_http_parley_bandwidth_probe_handler(ngx_event_t *ev);

/* ngx_http_parley_rtcp.c */
ngx_uint_t ngx_http_parley_leg_keyframe(ngx_http_parley_leg_t *leg,
    uint32_t layer);
void ngx_http_parley_track_pli(ngx_http_parley_track_t *t, uint32_t layer);
void ngx_http_parley_track_pli_due(ngx_http_parley_track_t *t);
uint64_t ngx_http_parley_now_us(void);
ngx_int_t ngx_http_parley_feedback_start(ngx_http_parley_pc_t *pc);
void ngx_http_parley_feedback_tracks(ngx_http_parley_pc_t *pc);
void ngx_http_parley_feedback_rtp(ngx_http_parley_pc_t *pc,
    parley_rtp_header_t *h, uint8_t *buf, size_t len);
void ngx_http_parley_report_handler(ngx_event_t *ev);
void ngx_http_parley_feedback_rtcp(ngx_http_parley_pc_t *pc, uint8_t *buf,
    size_t len);
void ngx_http_parley_leg_report_start(ngx_http_parley_leg_t *leg);
void ngx_http_parley_report_stop(ngx_http_parley_pc_t *pc);
void ngx_http_parley_track_nack_start(ngx_http_parley_track_t *t);
void ngx_http_parley_track_nack_stop(ngx_http_parley_track_t *t);
void ngx_http_parley_track_nack_gap(ngx_http_parley_track_t *t);

/* ngx_http_parley_speaker.c */
void ngx_http_parley_speaker_feed(ngx_http_parley_room_t *room,
    uint32_t index, uint64_t uid, uint64_t publisher, const uint8_t *buf,
    size_t len, const parley_rtp_header_t *h, uint8_t id);
uint8_t ngx_http_parley_level_id(const uint8_t *ext);


#endif /* _NGX_HTTP_PARLEY_MEDIA_H_INCLUDED_ */
