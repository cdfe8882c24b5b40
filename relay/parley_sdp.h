/*
 * SDP for the SFU: parse a browser's offer or answer, build the SFU's answer
 * to an offer and the SFU's own offer, and write any of them as text.
 *
 * What is understood: RFC 8866 SDP as JSEP (RFC 8829, unified plan) uses
 * it: BUNDLE (RFC 8843), rtcp-mux (RFC 5761, RFC 8858), ICE attributes
 * (RFC 8839), DTLS fingerprint and setup role (RFC 8122, RFC 4145),
 * header extensions (RFC 8285), rid and simulcast (RFC 8851, RFC 8853),
 * rtx (RFC 4588), RTCP feedback (RFC 4585, RFC 5104) and data channels
 * (RFC 8841). Attributes it does not know are ignored.
 *
 * A description is a plain struct of fixed-size arrays: no allocation, no
 * pointers into the input. It is large (about 550 KB with the limits
 * below), so keep it in a pool or on the heap, never on a worker's stack.
 * Nothing here does I/O or keeps state between calls.
 *
 * The parser takes a buffer and a length (the text need not end in NUL),
 * accepts CRLF and LF line ends, and refuses the whole description on the
 * first malformed line it needs, with an error that names the line. Where
 * a value does not matter to the SFU (msid, cname, a peer's candidates:
 * an ICE-lite server learns addresses from checks), a malformed one is
 * skipped instead, and counted in n_skipped: WebRTC stacks differ in what
 * they put there (GStreamer's webrtcbin, for one, puts an '@' in msid).
 */

#ifndef _PARLEY_SDP_H_INCLUDED_
#define _PARLEY_SDP_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define PARLEY_SDP_DEFAULT_MAX_LEN  65536   /* bytes of SDP text accepted */

#define PARLEY_SDP_MAX_MEDIA        64      /* a subscriber's legs */
#define PARLEY_SDP_MAX_CODECS       64      /* per m= section */
#define PARLEY_SDP_MAX_EXTMAPS      16
#define PARLEY_SDP_MAX_RIDS         8
#define PARLEY_SDP_MAX_CANDIDATES   32
#define PARLEY_SDP_MAX_SSRCS        16
#define PARLEY_SDP_MAX_SSRC_GROUPS  8
#define PARLEY_SDP_MAX_GROUP_SSRCS  8
#define PARLEY_SDP_MAX_FP_BYTES     64      /* sha-512 */

/* string sizes, including the terminating NUL */
#define PARLEY_SDP_MID_LEN          32
#define PARLEY_SDP_ICE_LEN          257     /* RFC 8839 5.4: up to 256 */
#define PARLEY_SDP_NAME_LEN         32      /* encoding name */
#define PARLEY_SDP_FMTP_LEN         256
#define PARLEY_SDP_URI_LEN          256
#define PARLEY_SDP_ADDR_LEN         64      /* IP literal or mDNS name */
#define PARLEY_SDP_FOUNDATION_LEN   33      /* RFC 8839 5.1: up to 32 */
#define PARLEY_SDP_MSID_LEN         65      /* RFC 8830 2: up to 64 */
#define PARLEY_SDP_CNAME_LEN        65
#define PARLEY_SDP_RID_LEN          33
#define PARLEY_SDP_TOKEN_LEN        32      /* media, proto, first fmt */

#define PARLEY_SDP_NO_PT            0xff    /* no payload type */

/* RTCP feedback (RFC 4585 4.2, RFC 5104 7.1) a codec takes, as a mask */
#define PARLEY_SDP_FB_NACK          0x01    /* nack */
#define PARLEY_SDP_FB_NACK_PLI      0x02    /* nack pli */
#define PARLEY_SDP_FB_CCM_FIR       0x04    /* ccm fir */
#define PARLEY_SDP_FB_GOOG_REMB     0x08    /* goog-remb */
#define PARLEY_SDP_FB_TRANSPORT_CC  0x10    /* transport-cc */


typedef enum {
    PARLEY_SDP_OK = 0,
    PARLEY_SDP_ERR_INVAL,          /* bad argument from the caller */
    PARLEY_SDP_ERR_TOO_BIG,        /* text longer than the configured limit */
    PARLEY_SDP_ERR_SYNTAX,         /* not a <type>=<value> line, NUL, ... */
    PARLEY_SDP_ERR_VALUE,          /* a bad number, token or keyword */
    PARLEY_SDP_ERR_MISSING,        /* a required line or value is absent */
    PARLEY_SDP_ERR_LIMIT,          /* more items than a description keeps */
    PARLEY_SDP_ERR_OVERLONG,       /* a string longer than its field */
    PARLEY_SDP_ERR_NOSPACE         /* output buffer too small */
} parley_sdp_rc_t;


typedef struct {
    parley_sdp_rc_t  rc;
    uint32_t         line;         /* 1-based; 0: not about one line */
    char             msg[160];     /* "line 14: a=rtpmap: bad payload type" */
} parley_sdp_error_t;


typedef enum {
    PARLEY_SDP_AUDIO = 0,
    PARLEY_SDP_VIDEO,
    PARLEY_SDP_APPLICATION,
    PARLEY_SDP_OTHER
} parley_sdp_kind_t;

#define PARLEY_SDP_KIND_BIT(kind)  (1u << (kind))


/* NONE is "not given"; a parsed m= section always has one of the others */
typedef enum {
    PARLEY_SDP_DIR_NONE = 0,
    PARLEY_SDP_DIR_SENDRECV,
    PARLEY_SDP_DIR_SENDONLY,
    PARLEY_SDP_DIR_RECVONLY,
    PARLEY_SDP_DIR_INACTIVE
} parley_sdp_dir_t;


typedef enum {
    PARLEY_SDP_SETUP_NONE = 0,
    PARLEY_SDP_SETUP_ACTPASS,
    PARLEY_SDP_SETUP_ACTIVE,
    PARLEY_SDP_SETUP_PASSIVE,
    PARLEY_SDP_SETUP_HOLDCONN
} parley_sdp_setup_t;


typedef enum {
    PARLEY_SDP_HASH_NONE = 0,
    PARLEY_SDP_HASH_SHA1,
    PARLEY_SDP_HASH_SHA224,
    PARLEY_SDP_HASH_SHA256,
    PARLEY_SDP_HASH_SHA384,
    PARLEY_SDP_HASH_SHA512
} parley_sdp_hash_t;


typedef struct {
    parley_sdp_hash_t  hash;
    uint8_t            len;
    uint8_t            bytes[PARLEY_SDP_MAX_FP_BYTES];
} parley_sdp_fingerprint_t;


typedef struct {
    uint8_t   pt;
    uint8_t   channels;            /* 0 when the rtpmap gives none */
    uint8_t   apt;                 /* rtx: the payload type it repairs */
    uint8_t   rtx_pt;              /* the rtx payload type repairing this */
    uint32_t  clock_rate;
    uint32_t  fb;                  /* PARLEY_SDP_FB_* */
    char      name[PARLEY_SDP_NAME_LEN];
    char      fmtp[PARLEY_SDP_FMTP_LEN];
} parley_sdp_codec_t;


typedef struct {
    uint16_t          id;          /* RFC 8285 5: 1-14, or up to 255 */
    parley_sdp_dir_t  dir;         /* NONE unless the line gives one */
    char              uri[PARLEY_SDP_URI_LEN];
} parley_sdp_extmap_t;


typedef struct {
    uint32_t  ssrc;
    char      cname[PARLEY_SDP_CNAME_LEN];
    char      msid_stream[PARLEY_SDP_MSID_LEN];
    char      msid_track[PARLEY_SDP_MSID_LEN];
} parley_sdp_ssrc_t;


typedef enum {
    PARLEY_SDP_SSRC_FID = 0,       /* RFC 5576 4.2: rtx flow */
    PARLEY_SDP_SSRC_SIM            /* simulcast layers, lowest first */
} parley_sdp_ssrc_semantics_t;


typedef struct {
    parley_sdp_ssrc_semantics_t  semantics;
    uint32_t                     n;
    uint32_t                     ssrcs[PARLEY_SDP_MAX_GROUP_SSRCS];
} parley_sdp_ssrc_group_t;


typedef struct {
    char              id[PARLEY_SDP_RID_LEN];
    parley_sdp_dir_t  dir;         /* SENDONLY ("send") or RECVONLY */
} parley_sdp_rid_t;


/* one stream of a=simulcast: its first alternative */
typedef struct {
    char      rid[PARLEY_SDP_RID_LEN];
    unsigned  paused:1;            /* RFC 8853 5.1: "~" */
} parley_sdp_sim_stream_t;


typedef struct {
    uint32_t                 n;
    parley_sdp_sim_stream_t  streams[PARLEY_SDP_MAX_RIDS];
} parley_sdp_simulcast_t;


typedef enum {
    PARLEY_SDP_CAND_HOST = 0,
    PARLEY_SDP_CAND_SRFLX,
    PARLEY_SDP_CAND_PRFLX,
    PARLEY_SDP_CAND_RELAY
} parley_sdp_cand_type_t;


typedef enum {
    PARLEY_SDP_TCP_NONE = 0,       /* a UDP candidate */
    PARLEY_SDP_TCP_ACTIVE,
    PARLEY_SDP_TCP_PASSIVE,
    PARLEY_SDP_TCP_SO
} parley_sdp_tcptype_t;


typedef struct {
    char                    foundation[PARLEY_SDP_FOUNDATION_LEN];
    uint16_t                component;
    unsigned                tcp:1;         /* transport TCP, else UDP */
    parley_sdp_cand_type_t  type;
    parley_sdp_tcptype_t    tcptype;
    uint32_t                priority;
    uint16_t                port;
    uint16_t                rport;
    char                    address[PARLEY_SDP_ADDR_LEN];
    char                    raddr[PARLEY_SDP_ADDR_LEN];  /* "" if none */
} parley_sdp_candidate_t;


typedef struct {
    parley_sdp_kind_t         kind;
    char                      media[PARLEY_SDP_TOKEN_LEN];  /* "audio" */
    char                      proto[PARLEY_SDP_TOKEN_LEN];
    char                      fmt[PARLEY_SDP_TOKEN_LEN];    /* first fmt */
    uint16_t                  port;        /* 0: rejected or bundle-only */
    uint32_t                  line;        /* of the m= line, 0 if built */
    char                      conn[PARLEY_SDP_ADDR_LEN];    /* c= address */
    char                      mid[PARLEY_SDP_MID_LEN];
    parley_sdp_dir_t          dir;

    /* transport; given at session level, they are copied here */
    char                      ice_ufrag[PARLEY_SDP_ICE_LEN];
    char                      ice_pwd[PARLEY_SDP_ICE_LEN];
    parley_sdp_fingerprint_t  fingerprint;
    parley_sdp_setup_t        setup;
    unsigned                  ice_trickle:1;
    unsigned                  end_of_candidates:1;
    unsigned                  bundle_only:1;
    unsigned                  rtcp_mux:1;
    unsigned                  rtcp_mux_only:1;
    unsigned                  rtcp_rsize:1;

    uint32_t                  n_codecs;    /* in m= line order */
    parley_sdp_codec_t        codecs[PARLEY_SDP_MAX_CODECS];
    uint32_t                  n_extmaps;
    parley_sdp_extmap_t       extmaps[PARLEY_SDP_MAX_EXTMAPS];
    uint32_t                  n_ssrcs;
    parley_sdp_ssrc_t         ssrcs[PARLEY_SDP_MAX_SSRCS];
    uint32_t                  n_ssrc_groups;
    parley_sdp_ssrc_group_t   ssrc_groups[PARLEY_SDP_MAX_SSRC_GROUPS];
    char                      msid_stream[PARLEY_SDP_MSID_LEN];
    char                      msid_track[PARLEY_SDP_MSID_LEN];
    uint32_t                  n_rids;
    parley_sdp_rid_t          rids[PARLEY_SDP_MAX_RIDS];
    parley_sdp_simulcast_t    sim_send;
    parley_sdp_simulcast_t    sim_recv;
    uint32_t                  n_candidates;
    parley_sdp_candidate_t    candidates[PARLEY_SDP_MAX_CANDIDATES];

    uint16_t                  sctp_port;   /* application sections */
    uint32_t                  max_message_size;
} parley_sdp_media_t;


typedef struct {
    uint64_t                  sess_id;
    uint64_t                  sess_version;
    unsigned                  ice_lite:1;
    unsigned                  extmap_allow_mixed:1;

    /* the first a=group:BUNDLE; its first mid is the tagged section */
    uint32_t                  n_bundle;
    char                      bundle[PARLEY_SDP_MAX_MEDIA]
                                    [PARLEY_SDP_MID_LEN];

    /* malformed values the SFU does not need, left out; the first one */
    uint32_t                  n_skipped;
    char                      skipped[160];  /* "line 9: a=msid: ..." */

    uint32_t                  n_media;
    parley_sdp_media_t        media[PARLEY_SDP_MAX_MEDIA];
} parley_sdp_t;


/* What the SFU accepts and sends: codecs, header extensions, addresses. */

typedef struct {
    const char  *name;             /* "opus", "VP8": any case matches */
    uint32_t     clock_rate;
    uint8_t      channels;         /* 2 for opus, 0 for video */
    uint8_t      pt;               /* payload type in the SFU's offers */
    uint8_t      rtx_pt;           /* PARLEY_SDP_NO_PT: no rtx */
    uint32_t     fb;               /* PARLEY_SDP_FB_* the SFU handles */
    const char  *match;            /* "k=v;k=v" an offer's fmtp must have */
    const char  *fmtp;             /* fmtp of the SFU's offers, or NULL */
} parley_sdp_codec_conf_t;


typedef struct {
    const char  *uri;
    uint16_t     id;               /* in the SFU's offers */
    uint32_t     kinds;            /* PARLEY_SDP_KIND_BIT() of each kind */
} parley_sdp_extmap_conf_t;


typedef struct {
    const char  *address;          /* IPv4 or IPv6 literal */
    uint16_t     port;
    unsigned     tcp:1;            /* passive ICE-TCP (RFC 6544) */
} parley_sdp_host_t;


typedef struct {
    const char                      *ice_ufrag;
    const char                      *ice_pwd;
    uint8_t                          fingerprint[32];   /* sha-256 */

    /* o= line: an id below 2^62, a version that grows (RFC 3264 5) */
    uint64_t                         sess_id;
    uint64_t                         sess_version;

    const parley_sdp_host_t         *hosts;             /* at least one */
    uint32_t                         n_hosts;
    const parley_sdp_codec_conf_t   *codecs;            /* by preference */
    uint32_t                         n_codecs;
    const parley_sdp_extmap_conf_t  *extmaps;
    uint32_t                         n_extmaps;

    uint16_t                         sctp_port;         /* 0: no data */
    uint32_t                         max_message_size;

    /* answer a sendrecv offer sendrecv; otherwise the SFU only receives */
    unsigned                         answer_sendrecv:1;
} parley_sdp_local_t;


/* One m= section of an SFU offer (the subscriber's peer connection). */
typedef struct {
    parley_sdp_kind_t               kind;   /* AUDIO, VIDEO, APPLICATION */
    const char                      *mid;
    const parley_sdp_codec_conf_t   *codec; /* audio and video */
    uint32_t                         ssrc;  /* 0: nothing to send now */
    uint32_t                         rtx_ssrc;          /* 0: none */
    const char                      *cname;
    const char                      *stream_id;
    const char                      *track_id;
} parley_sdp_track_t;


/*
 * Parses "len" bytes of SDP into *sdp. Text longer than max_len bytes
 * (0: PARLEY_SDP_DEFAULT_MAX_LEN) is refused. On error *err (if not NULL)
 * tells what and where; *sdp is then partly filled and must not be used.
 */
parley_sdp_rc_t parley_sdp_parse(parley_sdp_t *sdp, const char *buf,
    size_t len, size_t max_len, parley_sdp_error_t *err);

/*
 * Builds the SFU's answer to "offer" (JSEP 5.3): ice-lite, one BUNDLE
 * transport, the codecs and header extensions of "local" that the offer
 * has, direction reversed, simulcast received. Sections it cannot take
 * are rejected (port 0). The answer says which payload types, extension
 * ids and rids the browser will use; write it with parley_sdp_write().
 */
parley_sdp_rc_t parley_sdp_answer(parley_sdp_t *answer,
    const parley_sdp_t *offer, const parley_sdp_local_t *local,
    parley_sdp_error_t *err);

/* Builds the SFU's offer sending "tracks" (in mid order) to a browser. */
parley_sdp_rc_t parley_sdp_offer(parley_sdp_t *offer,
    const parley_sdp_local_t *local, const parley_sdp_track_t *tracks,
    uint32_t n_tracks, parley_sdp_error_t *err);

/*
 * Writes "sdp" as text with CRLF line ends into buf, followed by a NUL;
 * *len gets the length without the NUL. PARLEY_SDP_ERR_NOSPACE if buf is
 * too small for both.
 */
parley_sdp_rc_t parley_sdp_write(const parley_sdp_t *sdp, char *buf,
    size_t size, size_t *len);

const parley_sdp_codec_t *parley_sdp_find_codec(const parley_sdp_media_t *m,
    uint8_t pt);
/* The id an m= section gives the header extension "uri", or 0. */
uint16_t parley_sdp_extmap_id(const parley_sdp_media_t *m, const char *uri);
/* The m= section with this mid, or NULL. */
const parley_sdp_media_t *parley_sdp_find_mid(const parley_sdp_t *sdp,
    const char *mid);

const char *parley_sdp_rc_str(parley_sdp_rc_t rc);
const char *parley_sdp_dir_str(parley_sdp_dir_t dir);


#endif /* _PARLEY_SDP_H_INCLUDED_ */
