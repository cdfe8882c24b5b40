/*
 * SDP for the SFU: see parley_sdp.h.
 *
 * The parser walks the text line by line over (buf, len), never past len
 * and never needing a NUL. Each line is <type>=<value> (RFC 8866 5); "a="
 * lines go through a table of the attributes the SFU uses, each with its
 * own small handler; the rest are ignored (RFC 8866 5.13). Values given at
 * session level (ICE credentials, fingerprint, setup, direction) are kept
 * aside and copied into every m= section that does not give its own, so a
 * user of the result only ever looks at sections.
 *
 * The answer and offer builders fill a parley_sdp_t from an offer and the
 * SFU's configuration; the writer turns any parley_sdp_t into text. Every
 * string a builder copies from the configuration is checked first, so what
 * the writer emits cannot hold a line break.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parley_sdp.h"


#define PARLEY_SDP_AT_SESSION  0x01
#define PARLEY_SDP_AT_MEDIA    0x02
#define PARLEY_SDP_AT_BOTH     (PARLEY_SDP_AT_SESSION | PARLEY_SDP_AT_MEDIA)

#define PARLEY_SDP_RTP_PROTO   "UDP/TLS/RTP/SAVPF"
#define PARLEY_SDP_SCTP_PROTO  "UDP/DTLS/SCTP"
#define PARLEY_SDP_SCTP_FMT    "webrtc-datachannel"

/* "lit" must be a string literal */
#define parley_sdp_streq(s, lit)                                              \
    ((s).len == sizeof(lit) - 1 && memcmp((s).data, lit, (s).len) == 0)


typedef struct {
    const char  *data;
    size_t       len;
} parley_sdp_str_t;


typedef struct {
    parley_sdp_t              *sdp;
    parley_sdp_media_t        *media;      /* NULL at session level */
    parley_sdp_error_t        *err;
    uint32_t                   line;
    unsigned                   seen_v:1;
    unsigned                   seen_o:1;
    unsigned                   seen_s:1;
    unsigned                   seen_t:1;

    /* session-level values, copied into sections that lack their own */
    char                       ice_ufrag[PARLEY_SDP_ICE_LEN];
    char                       ice_pwd[PARLEY_SDP_ICE_LEN];
    char                       conn[PARLEY_SDP_ADDR_LEN];
    parley_sdp_fingerprint_t   fingerprint;
    parley_sdp_setup_t         setup;
    parley_sdp_dir_t           dir;
    unsigned                   ice_trickle:1;
    unsigned                   end_of_candidates:1;

    uint32_t                   bundle_line;
    uint32_t                   simulcast_line[PARLEY_SDP_MAX_MEDIA];
} parley_sdp_parser_t;


typedef parley_sdp_rc_t (*parley_sdp_attr_pt)(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);

typedef struct {
    const char          *name;
    parley_sdp_attr_pt   handler;
    unsigned             where;            /* PARLEY_SDP_AT_* */
    unsigned             arg;
} parley_sdp_attr_t;


enum {
    PARLEY_SDP_FLAG_ICE_LITE = 0,
    PARLEY_SDP_FLAG_EXTMAP_MIXED,
    PARLEY_SDP_FLAG_RTCP_MUX,
    PARLEY_SDP_FLAG_RTCP_MUX_ONLY,
    PARLEY_SDP_FLAG_RTCP_RSIZE,
    PARLEY_SDP_FLAG_BUNDLE_ONLY,
    PARLEY_SDP_FLAG_END_OF_CANDIDATES
};


typedef struct {
    char      *buf;
    size_t     size;
    size_t     len;
    unsigned   overflow:1;
} parley_sdp_out_t;


static parley_sdp_rc_t parley_sdp_verror(parley_sdp_error_t *err,
    uint32_t line, parley_sdp_rc_t rc, const char *fmt, va_list ap);
static parley_sdp_rc_t parley_sdp_error(parley_sdp_error_t *err,
    uint32_t line, parley_sdp_rc_t rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static parley_sdp_rc_t parley_sdp_bad(parley_sdp_parser_t *ps,
    parley_sdp_rc_t rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static parley_sdp_rc_t parley_sdp_skip(parley_sdp_parser_t *ps,
    const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int parley_sdp_next(parley_sdp_str_t *rest, parley_sdp_str_t *tok);
static int parley_sdp_split(parley_sdp_str_t *rest, char sep,
    parley_sdp_str_t *tok);
static parley_sdp_str_t parley_sdp_skip_spaces(parley_sdp_str_t s);
static int parley_sdp_number(parley_sdp_str_t s, uint64_t max,
    uint64_t *value);
static int parley_sdp_eq(parley_sdp_str_t s, const char *cstr);
static int parley_sdp_caseeq_str(parley_sdp_str_t a, parley_sdp_str_t b);
static int parley_sdp_caseeq(parley_sdp_str_t s, const char *lit);
static int parley_sdp_token_char(char c);
static int parley_sdp_is_token(parley_sdp_str_t s);
static int parley_sdp_ice_char(char c);
static int parley_sdp_is_ice_chars(parley_sdp_str_t s);
static int parley_sdp_is_rid(parley_sdp_str_t s);
static int parley_sdp_is_addr(parley_sdp_str_t s);
static parley_sdp_rc_t parley_sdp_store_addr(parley_sdp_parser_t *ps,
    char *dst, parley_sdp_str_t s, const char *what);
static parley_sdp_rc_t parley_sdp_store(parley_sdp_parser_t *ps, char *dst,
    size_t size, parley_sdp_str_t s, const char *what);
static parley_sdp_rc_t parley_sdp_store_token(parley_sdp_parser_t *ps,
    char *dst, size_t size, parley_sdp_str_t s, const char *what);
static void parley_sdp_copy(char *dst, size_t size, const char *src);
static int parley_sdp_is_rtp(const parley_sdp_media_t *m);
static parley_sdp_codec_t *parley_sdp_codec(parley_sdp_media_t *m,
    uint8_t pt);

static parley_sdp_rc_t parley_sdp_line(parley_sdp_parser_t *ps,
    parley_sdp_str_t line);
static parley_sdp_str_t parley_sdp_trim_line(parley_sdp_str_t line);
static parley_sdp_rc_t parley_sdp_session_line(parley_sdp_parser_t *ps,
    char type, parley_sdp_str_t val);
static parley_sdp_rc_t parley_sdp_origin(parley_sdp_parser_t *ps,
    parley_sdp_str_t val);
static parley_sdp_rc_t parley_sdp_media_line(parley_sdp_parser_t *ps,
    parley_sdp_str_t val);
static parley_sdp_kind_t parley_sdp_kind(parley_sdp_str_t media);
static parley_sdp_rc_t parley_sdp_media_port(parley_sdp_parser_t *ps,
    parley_sdp_str_t tok);
static parley_sdp_rc_t parley_sdp_media_formats(parley_sdp_parser_t *ps,
    parley_sdp_str_t first, parley_sdp_str_t rest);
static void parley_sdp_static_pt(parley_sdp_codec_t *c);
static parley_sdp_rc_t parley_sdp_connection(parley_sdp_parser_t *ps,
    parley_sdp_str_t val);
static parley_sdp_rc_t parley_sdp_attribute(parley_sdp_parser_t *ps,
    parley_sdp_str_t val);

static parley_sdp_rc_t parley_sdp_attr_group(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_flag(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_ice(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_ice_options(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_fingerprint(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static int parley_sdp_hex_bytes(parley_sdp_str_t s, uint8_t *out,
    size_t max, size_t *n);
static int parley_sdp_hex_digit(char c);
static parley_sdp_rc_t parley_sdp_attr_setup(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_direction(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_mid(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_rtpmap(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_fmtp(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_fmtp_apt(parley_sdp_parser_t *ps,
    parley_sdp_codec_t *c, parley_sdp_str_t params);
static parley_sdp_rc_t parley_sdp_attr_rtcp_fb(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static uint32_t parley_sdp_fb_kind(parley_sdp_str_t type,
    parley_sdp_str_t param);
static parley_sdp_rc_t parley_sdp_attr_extmap(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_dir_t parley_sdp_dir_token(parley_sdp_str_t s);
static parley_sdp_rc_t parley_sdp_attr_ssrc(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_ssrc_msid(parley_sdp_parser_t *ps,
    char *stream, char *track, parley_sdp_str_t val, const char *what);
static parley_sdp_rc_t parley_sdp_attr_ssrc_group(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_msid(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_rid(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_attr_simulcast(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_simulcast_list(parley_sdp_parser_t *ps,
    parley_sdp_simulcast_t *sim, parley_sdp_str_t list);
static parley_sdp_rc_t parley_sdp_attr_candidate(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);
static parley_sdp_rc_t parley_sdp_candidate_head(parley_sdp_parser_t *ps,
    parley_sdp_candidate_t *c, parley_sdp_str_t *rest, int *usable);
static parley_sdp_rc_t parley_sdp_candidate_ext(parley_sdp_parser_t *ps,
    parley_sdp_candidate_t *c, parley_sdp_str_t rest);
static parley_sdp_rc_t parley_sdp_attr_sctp(parley_sdp_parser_t *ps,
    parley_sdp_str_t val, unsigned arg);

static parley_sdp_rc_t parley_sdp_finish(parley_sdp_parser_t *ps);
static parley_sdp_rc_t parley_sdp_finish_media(parley_sdp_parser_t *ps,
    parley_sdp_media_t *m, uint32_t index);
static void parley_sdp_link_rtx(parley_sdp_media_t *m);
static int parley_sdp_has_rid(const parley_sdp_media_t *m, const char *id,
    parley_sdp_dir_t dir);

static int parley_sdp_counts_ok(const parley_sdp_t *sdp);
static parley_sdp_rc_t parley_sdp_check_local(
    const parley_sdp_local_t *local, parley_sdp_error_t *err);
static int parley_sdp_check_codec(const parley_sdp_codec_conf_t *c);
static int parley_sdp_cstr_ok(const char *s, size_t size, int token);
static int parley_sdp_cstr_ice(const char *s, size_t min);
static int parley_sdp_cstr_addr(const char *s);
static int parley_sdp_in_bundle(const parley_sdp_t *sdp, const char *mid);
static int parley_sdp_answer_media(parley_sdp_media_t *am,
    const parley_sdp_media_t *om, const parley_sdp_local_t *local);
static int parley_sdp_answer_usable(const parley_sdp_media_t *om,
    const parley_sdp_local_t *local);
static void parley_sdp_media_head(parley_sdp_media_t *am,
    const parley_sdp_media_t *om);
static void parley_sdp_reject(parley_sdp_media_t *am,
    const parley_sdp_media_t *om);
static void parley_sdp_answer_codecs(parley_sdp_media_t *am,
    const parley_sdp_media_t *om, const parley_sdp_local_t *local);
static void parley_sdp_answer_codec(parley_sdp_media_t *am,
    const parley_sdp_media_t *om, const parley_sdp_codec_t *oc,
    const parley_sdp_codec_conf_t *conf);
static int parley_sdp_codec_matches(const parley_sdp_codec_conf_t *conf,
    const parley_sdp_codec_t *oc);
static int parley_sdp_fmtp_param_ok(const parley_sdp_codec_t *oc,
    parley_sdp_str_t key, parley_sdp_str_t value);
static int parley_sdp_fmtp_get(const char *fmtp, parley_sdp_str_t key,
    parley_sdp_str_t *value);
static void parley_sdp_answer_extmaps(parley_sdp_media_t *am,
    const parley_sdp_media_t *om, const parley_sdp_local_t *local);
static parley_sdp_dir_t parley_sdp_reverse(parley_sdp_dir_t dir,
    unsigned sendrecv);
static void parley_sdp_answer_simulcast(parley_sdp_media_t *am,
    const parley_sdp_media_t *om);
static void parley_sdp_answer_bundle(parley_sdp_t *answer,
    const parley_sdp_t *offer);
static parley_sdp_rc_t parley_sdp_check_tag(const parley_sdp_t *answer,
    const parley_sdp_t *offer, parley_sdp_error_t *err);
static void parley_sdp_local_transport(parley_sdp_media_t *m,
    const parley_sdp_local_t *local, parley_sdp_setup_t setup);
static parley_sdp_rc_t parley_sdp_check_track(const parley_sdp_track_t *t,
    const parley_sdp_track_t *tracks, uint32_t index,
    const parley_sdp_local_t *local, parley_sdp_error_t *err);
static void parley_sdp_offer_media(parley_sdp_media_t *m,
    const parley_sdp_local_t *local, const parley_sdp_track_t *t);
static void parley_sdp_offer_rtp(parley_sdp_media_t *m,
    const parley_sdp_local_t *local, const parley_sdp_track_t *t);
static void parley_sdp_offer_ssrcs(parley_sdp_media_t *m,
    const parley_sdp_track_t *t, int rtx);
static void parley_sdp_add_ssrc(parley_sdp_media_t *m, uint32_t ssrc,
    const parley_sdp_track_t *t);

static void parley_sdp_out(parley_sdp_out_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static parley_sdp_rc_t parley_sdp_write_media(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);
static void parley_sdp_write_transport(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);
static void parley_sdp_write_candidate(parley_sdp_out_t *out,
    const parley_sdp_candidate_t *c);
static void parley_sdp_write_fingerprint(parley_sdp_out_t *out,
    const parley_sdp_fingerprint_t *fp);
static void parley_sdp_write_rtp(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);
static void parley_sdp_write_codec(parley_sdp_out_t *out,
    const parley_sdp_codec_t *c);
static void parley_sdp_write_simulcast(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);
static void parley_sdp_write_sim_list(parley_sdp_out_t *out,
    const parley_sdp_simulcast_t *sim);
static void parley_sdp_write_ssrcs(parley_sdp_out_t *out,
    const parley_sdp_media_t *m);


static const parley_sdp_attr_t  parley_sdp_attrs[] = {

    { "group", parley_sdp_attr_group, PARLEY_SDP_AT_SESSION, 0 },
    { "ice-lite", parley_sdp_attr_flag, PARLEY_SDP_AT_SESSION,
      PARLEY_SDP_FLAG_ICE_LITE },
    { "extmap-allow-mixed", parley_sdp_attr_flag, PARLEY_SDP_AT_BOTH,
      PARLEY_SDP_FLAG_EXTMAP_MIXED },
    { "ice-ufrag", parley_sdp_attr_ice, PARLEY_SDP_AT_BOTH, 0 },
    { "ice-pwd", parley_sdp_attr_ice, PARLEY_SDP_AT_BOTH, 1 },
    { "ice-options", parley_sdp_attr_ice_options, PARLEY_SDP_AT_BOTH, 0 },
    { "fingerprint", parley_sdp_attr_fingerprint, PARLEY_SDP_AT_BOTH, 0 },
    { "setup", parley_sdp_attr_setup, PARLEY_SDP_AT_BOTH, 0 },
    { "sendrecv", parley_sdp_attr_direction, PARLEY_SDP_AT_BOTH,
      PARLEY_SDP_DIR_SENDRECV },
    { "sendonly", parley_sdp_attr_direction, PARLEY_SDP_AT_BOTH,
      PARLEY_SDP_DIR_SENDONLY },
    { "recvonly", parley_sdp_attr_direction, PARLEY_SDP_AT_BOTH,
      PARLEY_SDP_DIR_RECVONLY },
    { "inactive", parley_sdp_attr_direction, PARLEY_SDP_AT_BOTH,
      PARLEY_SDP_DIR_INACTIVE },
    { "end-of-candidates", parley_sdp_attr_flag, PARLEY_SDP_AT_BOTH,
      PARLEY_SDP_FLAG_END_OF_CANDIDATES },
    { "mid", parley_sdp_attr_mid, PARLEY_SDP_AT_MEDIA, 0 },
    { "rtcp-mux", parley_sdp_attr_flag, PARLEY_SDP_AT_MEDIA,
      PARLEY_SDP_FLAG_RTCP_MUX },
    { "rtcp-mux-only", parley_sdp_attr_flag, PARLEY_SDP_AT_MEDIA,
      PARLEY_SDP_FLAG_RTCP_MUX_ONLY },
    { "rtcp-rsize", parley_sdp_attr_flag, PARLEY_SDP_AT_MEDIA,
      PARLEY_SDP_FLAG_RTCP_RSIZE },
    { "bundle-only", parley_sdp_attr_flag, PARLEY_SDP_AT_MEDIA,
      PARLEY_SDP_FLAG_BUNDLE_ONLY },
    { "rtpmap", parley_sdp_attr_rtpmap, PARLEY_SDP_AT_MEDIA, 0 },
    { "fmtp", parley_sdp_attr_fmtp, PARLEY_SDP_AT_MEDIA, 0 },
    { "rtcp-fb", parley_sdp_attr_rtcp_fb, PARLEY_SDP_AT_MEDIA, 0 },
    { "extmap", parley_sdp_attr_extmap, PARLEY_SDP_AT_MEDIA, 0 },
    { "ssrc", parley_sdp_attr_ssrc, PARLEY_SDP_AT_MEDIA, 0 },
    { "ssrc-group", parley_sdp_attr_ssrc_group, PARLEY_SDP_AT_MEDIA, 0 },
    { "msid", parley_sdp_attr_msid, PARLEY_SDP_AT_MEDIA, 0 },
    { "rid", parley_sdp_attr_rid, PARLEY_SDP_AT_MEDIA, 0 },
    { "simulcast", parley_sdp_attr_simulcast, PARLEY_SDP_AT_MEDIA, 0 },
    { "candidate", parley_sdp_attr_candidate, PARLEY_SDP_AT_MEDIA, 0 },
    { "sctp-port", parley_sdp_attr_sctp, PARLEY_SDP_AT_MEDIA, 0 },
    { "max-message-size", parley_sdp_attr_sctp, PARLEY_SDP_AT_MEDIA, 1 }
};


static const char  *parley_sdp_hash_names[] = {
    "", "sha-1", "sha-224", "sha-256", "sha-384", "sha-512"
};

static const uint8_t  parley_sdp_hash_lens[] = { 0, 20, 28, 32, 48, 64 };

static const char  *parley_sdp_setup_names[] = {
    "", "actpass", "active", "passive", "holdconn"
};

static const char  *parley_sdp_cand_types[] = {
    "host", "srflx", "prflx", "relay"
};

static const char  *parley_sdp_tcptypes[] = {
    "", "active", "passive", "so"
};

static const char  *parley_sdp_kind_names[] = {
    "audio", "video", "application"
};


/* errors and small string helpers */

static parley_sdp_rc_t
parley_sdp_verror(parley_sdp_error_t *err, uint32_t line, parley_sdp_rc_t rc,
    const char *fmt, va_list ap)
{
    char  what[128];

    if (err == NULL) {
        return rc;
    }

    vsnprintf(what, sizeof(what), fmt, ap);

    err->rc = rc;
    err->line = line;

    if (line != 0) {
        snprintf(err->msg, sizeof(err->msg), "line %u: %s", line, what);

    } else {
        snprintf(err->msg, sizeof(err->msg), "%s", what);
    }

    return rc;
}


static parley_sdp_rc_t
parley_sdp_error(parley_sdp_error_t *err, uint32_t line, parley_sdp_rc_t rc,
    const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    rc = parley_sdp_verror(err, line, rc, fmt, ap);
    va_end(ap);

    return rc;
}


static parley_sdp_rc_t
parley_sdp_bad(parley_sdp_parser_t *ps, parley_sdp_rc_t rc, const char *fmt,
    ...)
{
    va_list  ap;

    va_start(ap, fmt);
    rc = parley_sdp_verror(ps->err, ps->line, rc, fmt, ap);
    va_end(ap);

    return rc;
}


/*
 * A malformed value the SFU does not need: the description goes on
 * without it, and the first such value is kept for the caller's log.
 */
static parley_sdp_rc_t
parley_sdp_skip(parley_sdp_parser_t *ps, const char *fmt, ...)
{
    va_list             ap;
    parley_sdp_error_t  note;

    if (ps->sdp->n_skipped++ > 0) {
        return PARLEY_SDP_OK;
    }

    va_start(ap, fmt);
    (void) parley_sdp_verror(&note, ps->line, PARLEY_SDP_OK, fmt, ap);
    va_end(ap);

    snprintf(ps->sdp->skipped, sizeof(ps->sdp->skipped), "%s", note.msg);

    return PARLEY_SDP_OK;
}


/* Takes the next space-separated token off "rest"; 0 when none is left. */
static int
parley_sdp_next(parley_sdp_str_t *rest, parley_sdp_str_t *tok)
{
    size_t  i;

    *rest = parley_sdp_skip_spaces(*rest);

    if (rest->len == 0) {
        tok->data = "";
        tok->len = 0;
        return 0;
    }

    for (i = 0; i < rest->len; i++) {
        if (rest->data[i] == ' ' || rest->data[i] == '\t') {
            break;
        }
    }

    tok->data = rest->data;
    tok->len = i;
    rest->data += i;
    rest->len -= i;

    return 1;
}


/*
 * Takes "rest" up to the next "sep" (dropped) off it. Once no "sep" is
 * left, rest.data becomes NULL; a call after that returns 0.
 */
static int
parley_sdp_split(parley_sdp_str_t *rest, char sep, parley_sdp_str_t *tok)
{
    const char  *p;

    if (rest->data == NULL) {
        tok->data = "";
        tok->len = 0;
        return 0;
    }

    tok->data = rest->data;
    p = memchr(rest->data, sep, rest->len);

    if (p == NULL) {
        tok->len = rest->len;
        rest->data = NULL;
        rest->len = 0;
        return 1;
    }

    tok->len = (size_t) (p - rest->data);
    rest->len -= tok->len + 1;
    rest->data = p + 1;

    return 1;
}


static parley_sdp_str_t
parley_sdp_skip_spaces(parley_sdp_str_t s)
{
    while (s.len > 0 && (s.data[0] == ' ' || s.data[0] == '\t')) {
        s.data++;
        s.len--;
    }

    return s;
}


/* A decimal number of at most "max": digits only, no sign, no overflow. */
static int
parley_sdp_number(parley_sdp_str_t s, uint64_t max, uint64_t *value)
{
    size_t    i;
    uint64_t  n, d;

    if (s.len == 0 || s.len > 20) {
        return 0;
    }

    n = 0;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] < '0' || s.data[i] > '9') {
            return 0;
        }

        d = (uint64_t) (s.data[i] - '0');

        if (n > (max - d) / 10) {
            return 0;
        }

        n = n * 10 + d;
    }

    *value = n;

    return 1;
}


static int
parley_sdp_eq(parley_sdp_str_t s, const char *cstr)
{
    return s.len == strlen(cstr) && memcmp(s.data, cstr, s.len) == 0;
}


/* ASCII case-insensitive equality of two strings */
static int
parley_sdp_caseeq_str(parley_sdp_str_t a, parley_sdp_str_t b)
{
    size_t  i;
    char    x, y;

    if (a.len != b.len) {
        return 0;
    }

    for (i = 0; i < a.len; i++) {
        x = a.data[i];
        y = b.data[i];

        if (x >= 'A' && x <= 'Z') {
            x = (char) (x - 'A' + 'a');
        }

        if (y >= 'A' && y <= 'Z') {
            y = (char) (y - 'A' + 'a');
        }

        if (x != y) {
            return 0;
        }
    }

    return 1;
}


static int
parley_sdp_caseeq(parley_sdp_str_t s, const char *lit)
{
    parley_sdp_str_t  l;

    l.data = lit;
    l.len = strlen(lit);

    return parley_sdp_caseeq_str(s, l);
}


/* RFC 8866 9: token-char is visible ASCII but for "\"(),/:;<=>?@[\\]" */
static int
parley_sdp_token_char(char c)
{
    return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]", c) == NULL;
}


/* an IP literal or a host name (RFC 8839 5.1 connection-address) */
static int
parley_sdp_is_addr(parley_sdp_str_t s)
{
    size_t  i;
    char    c;

    for (i = 0; i < s.len; i++) {
        c = s.data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || (c != '\0' && strchr(".:-_%", c) != NULL)))
        {
            return 0;
        }
    }

    return s.len > 0;
}


static int
parley_sdp_is_token(parley_sdp_str_t s)
{
    size_t  i;

    if (s.len == 0) {
        return 0;
    }

    for (i = 0; i < s.len; i++) {
        if (!parley_sdp_token_char(s.data[i])) {
            return 0;
        }
    }

    return 1;
}


/* RFC 8839 5.1: ice-char = ALPHA / DIGIT / "+" / "/" */
static int
parley_sdp_ice_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '+' || c == '/';
}


static int
parley_sdp_is_ice_chars(parley_sdp_str_t s)
{
    size_t  i;

    for (i = 0; i < s.len; i++) {
        if (!parley_sdp_ice_char(s.data[i])) {
            return 0;
        }
    }

    return s.len > 0;
}


/* RFC 8851 10: rid-id = 1*(alpha-numeric / "-" / "_") */
static int
parley_sdp_is_rid(parley_sdp_str_t s)
{
    size_t  i;
    char    c;

    for (i = 0; i < s.len; i++) {
        c = s.data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return 0;
        }
    }

    return s.len > 0;
}


static parley_sdp_rc_t
parley_sdp_store(parley_sdp_parser_t *ps, char *dst, size_t size,
    parley_sdp_str_t s, const char *what)
{
    if (s.len >= size) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_OVERLONG,
                              "%s: longer than %zu bytes", what, size - 1);
    }

    memcpy(dst, s.data, s.len);
    dst[s.len] = '\0';

    return PARLEY_SDP_OK;
}


static parley_sdp_rc_t
parley_sdp_store_token(parley_sdp_parser_t *ps, char *dst, size_t size,
    parley_sdp_str_t s, const char *what)
{
    if (!parley_sdp_is_token(s)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE, "%s: bad token",
                              what);
    }

    return parley_sdp_store(ps, dst, size, s, what);
}


static parley_sdp_rc_t
parley_sdp_store_addr(parley_sdp_parser_t *ps, char *dst, parley_sdp_str_t s,
    const char *what)
{
    if (!parley_sdp_is_addr(s)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE, "%s: bad address",
                              what);
    }

    return parley_sdp_store(ps, dst, PARLEY_SDP_ADDR_LEN, s, what);
}


/* Copies a string already checked to fit. */
static void
parley_sdp_copy(char *dst, size_t size, const char *src)
{
    size_t  n;

    n = strlen(src);

    if (n >= size) {
        n = size - 1;
    }

    memcpy(dst, src, n);
    dst[n] = '\0';
}


static int
parley_sdp_is_rtp(const parley_sdp_media_t *m)
{
    return strstr(m->proto, "RTP/") != NULL;
}


static parley_sdp_codec_t *
parley_sdp_codec(parley_sdp_media_t *m, uint8_t pt)
{
    uint32_t  i;

    for (i = 0; i < m->n_codecs; i++) {
        if (m->codecs[i].pt == pt) {
            return &m->codecs[i];
        }
    }

    return NULL;
}


/* the parser */

parley_sdp_rc_t
parley_sdp_parse(parley_sdp_t *sdp, const char *buf, size_t len,
    size_t max_len, parley_sdp_error_t *err)
{
    size_t               pos;
    const char          *eol;
    parley_sdp_rc_t      rc;
    parley_sdp_str_t     line;
    parley_sdp_parser_t  ps;

    memset(&ps, 0, sizeof(ps));
    ps.err = err;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }

    if (sdp == NULL || (buf == NULL && len > 0)) {
        return parley_sdp_bad(&ps, PARLEY_SDP_ERR_INVAL, "no SDP buffer");
    }

    if (max_len == 0) {
        max_len = PARLEY_SDP_DEFAULT_MAX_LEN;
    }

    if (len > max_len) {
        return parley_sdp_bad(&ps, PARLEY_SDP_ERR_TOO_BIG,
                              "SDP of %zu bytes, over the limit of %zu",
                              len, max_len);
    }

    /* a section is zeroed when it is reached: 64 of them are 2 MB */
    memset(sdp, 0, offsetof(parley_sdp_t, media));
    ps.sdp = sdp;

    for (pos = 0; pos < len; pos += line.len + 1) {
        ps.line++;
        line.data = buf + pos;
        eol = memchr(line.data, '\n', len - pos);
        line.len = eol ? (size_t) (eol - line.data) : len - pos;

        rc = parley_sdp_line(&ps, line);
        if (rc != PARLEY_SDP_OK) {
            return rc;
        }
    }

    return parley_sdp_finish(&ps);
}


static parley_sdp_rc_t
parley_sdp_line(parley_sdp_parser_t *ps, parley_sdp_str_t line)
{
    char              type;
    parley_sdp_str_t  val;

    line = parley_sdp_trim_line(line);

    if (line.len == 0) {
        return PARLEY_SDP_OK;
    }

    if (memchr(line.data, '\0', line.len) != NULL) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX, "NUL byte");
    }

    if (memchr(line.data, '\r', line.len) != NULL) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX, "CR inside a line");
    }

    type = line.data[0];

    if (line.len < 2 || line.data[1] != '=' || type < 'a' || type > 'z') {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "not a <type>=<value> line");
    }

    if (!ps->seen_v && type != 'v') {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_MISSING,
                              "the first line must be v=0");
    }

    val.data = line.data + 2;
    val.len = line.len - 2;

    switch (type) {

    case 'm':
        return parley_sdp_media_line(ps, val);

    case 'c':
        return parley_sdp_connection(ps, val);

    case 'a':
        return parley_sdp_attribute(ps, val);

    case 'v':
    case 'o':
    case 's':
    case 't':
        return parley_sdp_session_line(ps, type, val);

    default:
        /* i= u= e= p= b= r= z= k= carry nothing the SFU uses */
        return PARLEY_SDP_OK;
    }
}


static parley_sdp_str_t
parley_sdp_trim_line(parley_sdp_str_t line)
{
    /* RFC 8866 5: lines end in CRLF; a bare LF is accepted too */
    if (line.len > 0 && line.data[line.len - 1] == '\r') {
        line.len--;
    }

    /* trailing blanks are a common leftover of SDP munging */
    while (line.len > 0
           && (line.data[line.len - 1] == ' '
               || line.data[line.len - 1] == '\t'))
    {
        line.len--;
    }

    return line;
}


/* RFC 8866 5: v=, o=, s= and t= belong to the session, once each */
static parley_sdp_rc_t
parley_sdp_session_line(parley_sdp_parser_t *ps, char type,
    parley_sdp_str_t val)
{
    if (ps->media != NULL) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "%c= inside a media section", type);
    }

    switch (type) {

    case 'v':
        if (ps->seen_v) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                                  "second v= line");
        }

        if (!parley_sdp_streq(val, "0")) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "v=: version must be 0");
        }

        ps->seen_v = 1;
        return PARLEY_SDP_OK;

    case 'o':
        return parley_sdp_origin(ps, val);

    case 's':
        ps->seen_s = 1;
        return PARLEY_SDP_OK;

    default:
        ps->seen_t = 1;
        return PARLEY_SDP_OK;
    }
}


/* RFC 8866 5.2: o=<user> <sess-id> <sess-version> <nettype> <at> <addr> */
static parley_sdp_rc_t
parley_sdp_origin(parley_sdp_parser_t *ps, parley_sdp_str_t val)
{
    int               i;
    uint64_t          id, version;
    parley_sdp_str_t  tok[6];

    if (ps->seen_o) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX, "second o= line");
    }

    for (i = 0; i < 6; i++) {
        if (!parley_sdp_next(&val, &tok[i])) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                                  "o=: expected 6 fields");
        }
    }

    if (!parley_sdp_number(tok[1], UINT64_MAX, &id)
        || !parley_sdp_number(tok[2], UINT64_MAX, &version))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "o=: bad session id or version");
    }

    ps->sdp->sess_id = id;
    ps->sdp->sess_version = version;
    ps->seen_o = 1;

    return PARLEY_SDP_OK;
}


/* RFC 8866 5.14: m=<media> <port>[/<number>] <proto> <fmt> ... */
static parley_sdp_rc_t
parley_sdp_media_line(parley_sdp_parser_t *ps, parley_sdp_str_t val)
{
    parley_sdp_rc_t      rc;
    parley_sdp_str_t     media, port, proto, fmt;
    parley_sdp_media_t  *m;

    if (!ps->seen_o || !ps->seen_s || !ps->seen_t) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_MISSING,
                              "m= before the o=, s= and t= lines");
    }

    if (ps->sdp->n_media == PARLEY_SDP_MAX_MEDIA) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                              "more than %d m= sections",
                              PARLEY_SDP_MAX_MEDIA);
    }

    if (!parley_sdp_next(&val, &media) || !parley_sdp_next(&val, &port)
        || !parley_sdp_next(&val, &proto) || !parley_sdp_next(&val, &fmt))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "m=: expected <media> <port> <proto> <fmt>");
    }

    m = &ps->sdp->media[ps->sdp->n_media++];
    memset(m, 0, sizeof(*m));
    ps->media = m;
    m->line = ps->line;

    rc = parley_sdp_store_token(ps, m->media, sizeof(m->media), media,
                                "m=: media");
    if (rc != PARLEY_SDP_OK) {
        return rc;
    }

    m->kind = parley_sdp_kind(media);

    rc = parley_sdp_media_port(ps, port);
    if (rc != PARLEY_SDP_OK) {
        return rc;
    }

    rc = parley_sdp_store(ps, m->proto, sizeof(m->proto), proto,
                          "m=: proto");
    if (rc != PARLEY_SDP_OK) {
        return rc;
    }

    return parley_sdp_media_formats(ps, fmt, val);
}


static parley_sdp_kind_t
parley_sdp_kind(parley_sdp_str_t media)
{
    parley_sdp_kind_t  kind;

    for (kind = PARLEY_SDP_AUDIO; kind < PARLEY_SDP_OTHER; kind++) {
        if (parley_sdp_eq(media, parley_sdp_kind_names[kind])) {
            return kind;
        }
    }

    return PARLEY_SDP_OTHER;
}


static parley_sdp_rc_t
parley_sdp_media_port(parley_sdp_parser_t *ps, parley_sdp_str_t tok)
{
    uint64_t          port, count;
    parley_sdp_str_t  num;

    parley_sdp_split(&tok, '/', &num);

    if (!parley_sdp_number(num, 65535, &port)
        || (tok.data != NULL && !parley_sdp_number(tok, 65535, &count)))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE, "m=: bad port");
    }

    ps->media->port = (uint16_t) port;

    return PARLEY_SDP_OK;
}


/*
 * For RTP, every fmt is a payload type and gets a codec entry now, so that
 * a=rtpmap, a=fmtp and a=rtcp-fb may come in any order; other protocols
 * keep their first fmt (RFC 8841 4.1: "webrtc-datachannel").
 */
static parley_sdp_rc_t
parley_sdp_media_formats(parley_sdp_parser_t *ps, parley_sdp_str_t first,
    parley_sdp_str_t rest)
{
    uint64_t             pt;
    parley_sdp_rc_t      rc;
    parley_sdp_str_t     fmt;
    parley_sdp_codec_t  *c;
    parley_sdp_media_t  *m;

    m = ps->media;

    rc = parley_sdp_store_token(ps, m->fmt, sizeof(m->fmt), first, "m=: fmt");
    if (rc != PARLEY_SDP_OK || !parley_sdp_is_rtp(m)) {
        return rc;
    }

    fmt = first;

    do {
        if (!parley_sdp_number(fmt, 127, &pt)) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "m=: bad payload type");
        }

        if (parley_sdp_codec(m, (uint8_t) pt) != NULL) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "m=: payload type %u twice",
                                  (unsigned) pt);
        }

        if (m->n_codecs == PARLEY_SDP_MAX_CODECS) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                                  "m=: more than %d payload types",
                                  PARLEY_SDP_MAX_CODECS);
        }

        c = &m->codecs[m->n_codecs++];
        c->pt = (uint8_t) pt;
        c->apt = PARLEY_SDP_NO_PT;
        c->rtx_pt = PARLEY_SDP_NO_PT;
        parley_sdp_static_pt(c);

    } while (parley_sdp_next(&rest, &fmt));

    return PARLEY_SDP_OK;
}


/* RFC 3551 6: static payload types need no a=rtpmap */
static void
parley_sdp_static_pt(parley_sdp_codec_t *c)
{
    switch (c->pt) {

    case 0:
        parley_sdp_copy(c->name, sizeof(c->name), "PCMU");
        break;

    case 8:
        parley_sdp_copy(c->name, sizeof(c->name), "PCMA");
        break;

    case 9:
        parley_sdp_copy(c->name, sizeof(c->name), "G722");
        break;

    case 13:
        parley_sdp_copy(c->name, sizeof(c->name), "CN");
        break;

    default:
        return;
    }

    c->clock_rate = 8000;
}


/* RFC 8866 5.7: c=IN IP4|IP6 <address>[/<ttl>][/<number>] */
static parley_sdp_rc_t
parley_sdp_connection(parley_sdp_parser_t *ps, parley_sdp_str_t val)
{
    char              *dst;
    parley_sdp_str_t   net, type, addr, host;

    if (!parley_sdp_next(&val, &net) || !parley_sdp_next(&val, &type)
        || !parley_sdp_next(&val, &addr))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "c=: expected IN <addrtype> <address>");
    }

    if (!parley_sdp_streq(net, "IN")
        || !(parley_sdp_streq(type, "IP4") || parley_sdp_streq(type, "IP6")))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "c=: not an IN IP4 or IP6 address");
    }

    parley_sdp_split(&addr, '/', &host);
    dst = ps->media ? ps->media->conn : ps->conn;

    return parley_sdp_store_addr(ps, dst, host, "c=");
}


/* RFC 8866 5.13: a=<name>[:<value>]; unknown names are ignored */
static parley_sdp_rc_t
parley_sdp_attribute(parley_sdp_parser_t *ps, parley_sdp_str_t val)
{
    size_t                    i;
    unsigned                  here;
    parley_sdp_str_t          name;
    const parley_sdp_attr_t  *a;

    parley_sdp_split(&val, ':', &name);

    if (val.data == NULL) {
        val.data = name.data + name.len;
    }

    here = ps->media ? PARLEY_SDP_AT_MEDIA : PARLEY_SDP_AT_SESSION;

    for (i = 0; i < sizeof(parley_sdp_attrs) / sizeof(parley_sdp_attrs[0]);
         i++)
    {
        a = &parley_sdp_attrs[i];

        if (name.len == strlen(a->name)
            && memcmp(name.data, a->name, name.len) == 0)
        {
            if (!(a->where & here)) {
                return PARLEY_SDP_OK;
            }

            return a->handler(ps, val, a->arg);
        }
    }

    return PARLEY_SDP_OK;
}


/* RFC 8843 7: a=group:BUNDLE <mid> ...; only the first BUNDLE group */
static parley_sdp_rc_t
parley_sdp_attr_group(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    parley_sdp_rc_t    rc;
    parley_sdp_str_t   sem, mid;
    parley_sdp_t      *sdp;

    (void) arg;

    sdp = ps->sdp;

    if (!parley_sdp_next(&val, &sem) || !parley_sdp_streq(sem, "BUNDLE")
        || ps->bundle_line != 0)
    {
        return PARLEY_SDP_OK;
    }

    ps->bundle_line = ps->line;

    while (parley_sdp_next(&val, &mid)) {
        if (sdp->n_bundle == PARLEY_SDP_MAX_MEDIA) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                                  "a=group: more than %d mids",
                                  PARLEY_SDP_MAX_MEDIA);
        }

        rc = parley_sdp_store_token(ps, sdp->bundle[sdp->n_bundle],
                                    PARLEY_SDP_MID_LEN, mid, "a=group");
        if (rc != PARLEY_SDP_OK) {
            return rc;
        }

        sdp->n_bundle++;
    }

    return PARLEY_SDP_OK;
}


static parley_sdp_rc_t
parley_sdp_attr_flag(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    parley_sdp_media_t  *m;

    (void) val;

    m = ps->media;

    switch (arg) {

    case PARLEY_SDP_FLAG_ICE_LITE:
        ps->sdp->ice_lite = 1;
        break;

    case PARLEY_SDP_FLAG_EXTMAP_MIXED:
        ps->sdp->extmap_allow_mixed = 1;
        break;

    case PARLEY_SDP_FLAG_RTCP_MUX:
        m->rtcp_mux = 1;
        break;

    case PARLEY_SDP_FLAG_RTCP_MUX_ONLY:
        m->rtcp_mux_only = 1;
        break;

    case PARLEY_SDP_FLAG_RTCP_RSIZE:
        m->rtcp_rsize = 1;
        break;

    case PARLEY_SDP_FLAG_BUNDLE_ONLY:
        m->bundle_only = 1;
        break;

    default:
        if (m != NULL) {
            m->end_of_candidates = 1;

        } else {
            ps->end_of_candidates = 1;
        }
    }

    return PARLEY_SDP_OK;
}


/* RFC 8839 5.4: ufrag is 4 to 256 ice-chars, pwd 22 to 256 */
static parley_sdp_rc_t
parley_sdp_attr_ice(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    char        *dst;
    size_t       min;
    const char  *what;

    what = arg ? "a=ice-pwd" : "a=ice-ufrag";
    min = arg ? 22 : 4;

    if (ps->media != NULL) {
        dst = arg ? ps->media->ice_pwd : ps->media->ice_ufrag;

    } else {
        dst = arg ? ps->ice_pwd : ps->ice_ufrag;
    }

    if (val.len < min || val.len > PARLEY_SDP_ICE_LEN - 1) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "%s: must be %zu to %d characters", what, min,
                              PARLEY_SDP_ICE_LEN - 1);
    }

    if (!parley_sdp_is_ice_chars(val)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE, "%s: bad character",
                              what);
    }

    return parley_sdp_store(ps, dst, PARLEY_SDP_ICE_LEN, val, what);
}


/* RFC 8840 4.6: "trickle" among the ice-options */
static parley_sdp_rc_t
parley_sdp_attr_ice_options(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    parley_sdp_str_t  opt;

    (void) arg;

    while (parley_sdp_next(&val, &opt)) {
        if (parley_sdp_streq(opt, "trickle")) {
            if (ps->media != NULL) {
                ps->media->ice_trickle = 1;

            } else {
                ps->ice_trickle = 1;
            }
        }
    }

    return PARLEY_SDP_OK;
}


/*
 * RFC 8122 5: a=fingerprint:<hash-func> <hex>:<hex>:...  Several may be
 * given; a sha-256 one is kept over others. A hash function the SFU cannot
 * compute is ignored, as if the line were not there.
 */
static parley_sdp_rc_t
parley_sdp_attr_fingerprint(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    size_t                     n;
    parley_sdp_hash_t          h;
    parley_sdp_str_t           func, hex;
    parley_sdp_fingerprint_t  *fp, parsed;

    (void) arg;

    if (!parley_sdp_next(&val, &func) || !parley_sdp_next(&val, &hex)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=fingerprint: expected <hash> <fingerprint>");
    }

    for (h = PARLEY_SDP_HASH_SHA1; h <= PARLEY_SDP_HASH_SHA512; h++) {
        if (parley_sdp_caseeq(func, parley_sdp_hash_names[h])) {
            break;
        }
    }

    if (h > PARLEY_SDP_HASH_SHA512) {
        return PARLEY_SDP_OK;
    }

    /* zeroed whole: descriptions compare byte for byte in the tests */
    memset(&parsed, 0, sizeof(parsed));

    if (!parley_sdp_hex_bytes(hex, parsed.bytes, sizeof(parsed.bytes), &n)
        || n != parley_sdp_hash_lens[h])
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=fingerprint: not a %s fingerprint",
                              parley_sdp_hash_names[h]);
    }

    parsed.hash = h;
    parsed.len = (uint8_t) n;
    fp = ps->media ? &ps->media->fingerprint : &ps->fingerprint;

    if (fp->hash == PARLEY_SDP_HASH_NONE
        || (fp->hash != PARLEY_SDP_HASH_SHA256 && h == PARLEY_SDP_HASH_SHA256))
    {
        *fp = parsed;
    }

    return PARLEY_SDP_OK;
}


static int
parley_sdp_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


/* "AB:CD:..." into bytes: exactly two hex digits between colons */
static int
parley_sdp_hex_bytes(parley_sdp_str_t s, uint8_t *out, size_t max,
    size_t *n)
{
    int     hi, lo;
    size_t  i;

    for (i = 0; i * 3 < s.len; i++) {
        if (i == max || s.len - i * 3 < 2) {
            return 0;
        }

        hi = parley_sdp_hex_digit(s.data[i * 3]);
        lo = parley_sdp_hex_digit(s.data[i * 3 + 1]);

        if (hi < 0 || lo < 0) {
            return 0;
        }

        if (i * 3 + 2 < s.len && s.data[i * 3 + 2] != ':') {
            return 0;
        }

        if (i * 3 + 2 == s.len - 1) {
            return 0;                       /* a trailing colon */
        }

        out[i] = (uint8_t) (hi << 4 | lo);
    }

    *n = i;

    return i > 0;
}


/* RFC 4145 4: a=setup:actpass|active|passive|holdconn */
static parley_sdp_rc_t
parley_sdp_attr_setup(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    parley_sdp_setup_t  s;

    (void) arg;

    for (s = PARLEY_SDP_SETUP_ACTPASS; s <= PARLEY_SDP_SETUP_HOLDCONN; s++) {
        if (parley_sdp_caseeq(val, parley_sdp_setup_names[s])) {
            break;
        }
    }

    if (s > PARLEY_SDP_SETUP_HOLDCONN) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=setup: unknown role");
    }

    if (ps->media != NULL) {
        ps->media->setup = s;

    } else {
        ps->setup = s;
    }

    return PARLEY_SDP_OK;
}


/* RFC 8866 6.7: a session-level direction is the default of each m= */
static parley_sdp_rc_t
parley_sdp_attr_direction(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    (void) val;

    if (ps->media != NULL) {
        ps->media->dir = (parley_sdp_dir_t) arg;

    } else {
        ps->dir = (parley_sdp_dir_t) arg;
    }

    return PARLEY_SDP_OK;
}


/* RFC 5888 4: a=mid:<identification-tag>, unique in the session */
static parley_sdp_rc_t
parley_sdp_attr_mid(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint32_t             i;
    parley_sdp_media_t  *m;

    (void) arg;

    m = ps->media;

    if (m->mid[0] != '\0') {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=mid: second mid in one m= section");
    }

    for (i = 0; ps->sdp->media + i != m; i++) {
        if (val.len == strlen(ps->sdp->media[i].mid)
            && memcmp(val.data, ps->sdp->media[i].mid, val.len) == 0)
        {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=mid: same mid as m= section %u",
                                  (unsigned) i);
        }
    }

    return parley_sdp_store_token(ps, m->mid, sizeof(m->mid), val, "a=mid");
}


/* RFC 8866 6.6: a=rtpmap:<pt> <name>/<clock rate>[/<channels>] */
static parley_sdp_rc_t
parley_sdp_attr_rtpmap(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint64_t             pt, clock, channels;
    parley_sdp_str_t     ptstr, enc, name, rate;
    parley_sdp_codec_t  *c;

    (void) arg;

    channels = 0;

    if (!parley_sdp_is_rtp(ps->media)) {
        return PARLEY_SDP_OK;
    }

    if (!parley_sdp_next(&val, &ptstr) || !parley_sdp_next(&val, &enc)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=rtpmap: expected <pt> <encoding>");
    }

    if (!parley_sdp_number(ptstr, 127, &pt)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=rtpmap: bad payload type");
    }

    parley_sdp_split(&enc, '/', &name);

    if (!parley_sdp_is_token(name) || !parley_sdp_split(&enc, '/', &rate)
        || !parley_sdp_number(rate, UINT32_MAX, &clock) || clock == 0
        || (enc.data != NULL && !parley_sdp_number(enc, 255, &channels)))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=rtpmap: bad encoding");
    }

    c = parley_sdp_codec(ps->media, (uint8_t) pt);
    if (c == NULL) {
        return PARLEY_SDP_OK;           /* not offered on the m= line */
    }

    c->clock_rate = (uint32_t) clock;
    c->channels = enc.data ? (uint8_t) channels : 0;

    return parley_sdp_store(ps, c->name, sizeof(c->name), name,
                            "a=rtpmap: encoding name");
}


/* RFC 8866 6.15: a=fmtp:<pt> <parameters> */
static parley_sdp_rc_t
parley_sdp_attr_fmtp(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint64_t             pt;
    parley_sdp_rc_t      rc;
    parley_sdp_str_t     ptstr;
    parley_sdp_codec_t  *c;

    (void) arg;

    if (!parley_sdp_is_rtp(ps->media)) {
        return PARLEY_SDP_OK;
    }

    if (!parley_sdp_next(&val, &ptstr)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=fmtp: expected <pt> <parameters>");
    }

    if (!parley_sdp_number(ptstr, 127, &pt)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=fmtp: bad payload type");
    }

    c = parley_sdp_codec(ps->media, (uint8_t) pt);
    if (c == NULL) {
        return PARLEY_SDP_OK;
    }

    val = parley_sdp_skip_spaces(val);

    rc = parley_sdp_store(ps, c->fmtp, sizeof(c->fmtp), val, "a=fmtp");
    if (rc != PARLEY_SDP_OK) {
        return rc;
    }

    return parley_sdp_fmtp_apt(ps, c, val);
}


/* RFC 4588 8.6: apt=<pt> names the payload type an rtx format repairs */
static parley_sdp_rc_t
parley_sdp_fmtp_apt(parley_sdp_parser_t *ps, parley_sdp_codec_t *c,
    parley_sdp_str_t params)
{
    uint64_t          apt;
    parley_sdp_str_t  param, key;

    while (parley_sdp_split(&params, ';', &param)) {
        param = parley_sdp_skip_spaces(param);
        parley_sdp_split(&param, '=', &key);

        if (!parley_sdp_streq(key, "apt")) {
            continue;
        }

        if (param.data == NULL || !parley_sdp_number(param, 127, &apt)) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=fmtp: bad apt");
        }

        c->apt = (uint8_t) apt;
    }

    return PARLEY_SDP_OK;
}


/* RFC 4585 4.2: a=rtcp-fb:<pt>|* <type> [<param>] */
static parley_sdp_rc_t
parley_sdp_attr_rtcp_fb(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint32_t             i, kind;
    uint64_t             pt;
    parley_sdp_str_t     ptstr, type, param;
    parley_sdp_codec_t  *c;
    parley_sdp_media_t  *m;

    (void) arg;

    m = ps->media;

    if (!parley_sdp_is_rtp(m)) {
        return PARLEY_SDP_OK;
    }

    if (!parley_sdp_next(&val, &ptstr) || !parley_sdp_next(&val, &type)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=rtcp-fb: expected <pt> <type>");
    }

    parley_sdp_next(&val, &param);
    kind = parley_sdp_fb_kind(type, param);

    if (parley_sdp_streq(ptstr, "*")) {
        for (i = 0; i < m->n_codecs; i++) {
            m->codecs[i].fb |= kind;
        }

        return PARLEY_SDP_OK;
    }

    if (!parley_sdp_number(ptstr, 127, &pt)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=rtcp-fb: bad payload type");
    }

    c = parley_sdp_codec(m, (uint8_t) pt);
    if (c != NULL) {
        c->fb |= kind;
    }

    return PARLEY_SDP_OK;
}


static uint32_t
parley_sdp_fb_kind(parley_sdp_str_t type, parley_sdp_str_t param)
{
    if (parley_sdp_streq(type, "nack")) {
        if (param.len == 0) {
            return PARLEY_SDP_FB_NACK;
        }

        return parley_sdp_streq(param, "pli") ? PARLEY_SDP_FB_NACK_PLI : 0;
    }

    if (parley_sdp_streq(type, "ccm")) {
        return parley_sdp_streq(param, "fir") ? PARLEY_SDP_FB_CCM_FIR : 0;
    }

    if (parley_sdp_streq(type, "goog-remb")) {
        return PARLEY_SDP_FB_GOOG_REMB;
    }

    if (parley_sdp_streq(type, "transport-cc")) {
        return PARLEY_SDP_FB_TRANSPORT_CC;
    }

    return 0;
}


/*
 * RFC 8285 8: a=extmap:<id>[/<direction>] <uri> [<attributes>]. Ids 4096
 * to 4351 ask the answerer to pick one (RFC 8285 7); no browser does, and
 * the SFU does not take them.
 */
static parley_sdp_rc_t
parley_sdp_attr_extmap(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint32_t              i;
    uint64_t              id;
    parley_sdp_rc_t       rc;
    parley_sdp_str_t      idstr, num, uri;
    parley_sdp_media_t   *m;
    parley_sdp_extmap_t  *e;

    (void) arg;

    m = ps->media;

    if (!parley_sdp_next(&val, &idstr) || !parley_sdp_next(&val, &uri)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=extmap: expected <id> <uri>");
    }

    parley_sdp_split(&idstr, '/', &num);

    if (!parley_sdp_number(num, 4351, &id) || id == 0
        || (id > 255 && id < 4096)
        || (idstr.data != NULL
            && parley_sdp_dir_token(idstr) == PARLEY_SDP_DIR_NONE))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=extmap: bad id or direction");
    }

    if (id >= 4096) {
        return PARLEY_SDP_OK;
    }

    for (i = 0; i < m->n_extmaps; i++) {
        if (m->extmaps[i].id == id) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=extmap: id %u twice", (unsigned) id);
        }
    }

    if (m->n_extmaps == PARLEY_SDP_MAX_EXTMAPS) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                              "a=extmap: more than %d",
                              PARLEY_SDP_MAX_EXTMAPS);
    }

    e = &m->extmaps[m->n_extmaps];
    e->id = (uint16_t) id;
    e->dir = idstr.data ? parley_sdp_dir_token(idstr) : PARLEY_SDP_DIR_NONE;

    rc = parley_sdp_store(ps, e->uri, sizeof(e->uri), uri, "a=extmap: uri");
    if (rc != PARLEY_SDP_OK) {
        return rc;
    }

    m->n_extmaps++;

    return PARLEY_SDP_OK;
}


static parley_sdp_dir_t
parley_sdp_dir_token(parley_sdp_str_t s)
{
    if (parley_sdp_streq(s, "sendrecv")) {
        return PARLEY_SDP_DIR_SENDRECV;
    }

    if (parley_sdp_streq(s, "sendonly")) {
        return PARLEY_SDP_DIR_SENDONLY;
    }

    if (parley_sdp_streq(s, "recvonly")) {
        return PARLEY_SDP_DIR_RECVONLY;
    }

    if (parley_sdp_streq(s, "inactive")) {
        return PARLEY_SDP_DIR_INACTIVE;
    }

    return PARLEY_SDP_DIR_NONE;
}


/* RFC 5576 4.1: a=ssrc:<ssrc-id> <attribute>[:<value>] */
static parley_sdp_rc_t
parley_sdp_attr_ssrc(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint32_t             i;
    uint64_t             id;
    parley_sdp_str_t     idstr, name, cname;
    parley_sdp_ssrc_t   *s;
    parley_sdp_media_t  *m;

    (void) arg;

    m = ps->media;

    if (!parley_sdp_next(&val, &idstr)
        || !parley_sdp_number(idstr, UINT32_MAX, &id))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE, "a=ssrc: bad ssrc");
    }

    val = parley_sdp_skip_spaces(val);

    if (!parley_sdp_split(&val, ':', &name) || name.len == 0) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=ssrc: expected <ssrc> <attribute>");
    }

    for (i = 0; i < m->n_ssrcs && m->ssrcs[i].ssrc != id; i++) {
        /* void */
    }

    if (i == PARLEY_SDP_MAX_SSRCS) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                              "a=ssrc: more than %d ssrcs",
                              PARLEY_SDP_MAX_SSRCS);
    }

    s = &m->ssrcs[i];

    if (i == m->n_ssrcs) {
        m->n_ssrcs++;
        s->ssrc = (uint32_t) id;
    }

    if (parley_sdp_streq(name, "msid")) {
        return parley_sdp_ssrc_msid(ps, s->msid_stream, s->msid_track, val,
                                    "a=ssrc: msid");
    }

    if (!parley_sdp_streq(name, "cname")) {
        return PARLEY_SDP_OK;
    }

    /* the SFU sends its own CNAME: an odd one is skipped */
    if (!parley_sdp_next(&val, &cname) || cname.len >= sizeof(s->cname)) {
        return parley_sdp_skip(ps, "a=ssrc: cname empty or longer than "
                               "%zu bytes, skipped", sizeof(s->cname) - 1);
    }

    return parley_sdp_store(ps, s->cname, sizeof(s->cname), cname,
                            "a=ssrc: cname");
}


/*
 * RFC 8830 2: <msid-id> [<msid-appdata>], each 1 to 64 token-chars. The
 * SFU names its own streams, so one that breaks the rule is skipped.
 */
static parley_sdp_rc_t
parley_sdp_ssrc_msid(parley_sdp_parser_t *ps, char *stream, char *track,
    parley_sdp_str_t val, const char *what)
{
    parley_sdp_str_t  id, appdata;

    if (!parley_sdp_next(&val, &id)) {
        return parley_sdp_skip(ps, "%s: no stream id, skipped", what);
    }

    (void) parley_sdp_next(&val, &appdata);

    if (!parley_sdp_is_token(id) || id.len >= PARLEY_SDP_MSID_LEN
        || (appdata.len && (!parley_sdp_is_token(appdata)
                            || appdata.len >= PARLEY_SDP_MSID_LEN)))
    {
        return parley_sdp_skip(ps, "%s: not 1 to %d token-chars, skipped",
                               what, PARLEY_SDP_MSID_LEN - 1);
    }

    memcpy(stream, id.data, id.len);
    stream[id.len] = '\0';
    memcpy(track, appdata.data, appdata.len);
    track[appdata.len] = '\0';

    return PARLEY_SDP_OK;
}


/* RFC 5576 4.2: a=ssrc-group:<semantics> <ssrc-id> ... (FID, SIM kept) */
static parley_sdp_rc_t
parley_sdp_attr_ssrc_group(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint64_t                  id;
    parley_sdp_str_t          sem, tok;
    parley_sdp_media_t       *m;
    parley_sdp_ssrc_group_t  *g;

    (void) arg;

    m = ps->media;

    if (!parley_sdp_next(&val, &sem)
        || !(parley_sdp_streq(sem, "FID") || parley_sdp_streq(sem, "SIM")))
    {
        return PARLEY_SDP_OK;
    }

    if (m->n_ssrc_groups == PARLEY_SDP_MAX_SSRC_GROUPS) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                              "a=ssrc-group: more than %d groups",
                              PARLEY_SDP_MAX_SSRC_GROUPS);
    }

    g = &m->ssrc_groups[m->n_ssrc_groups];
    g->semantics = parley_sdp_streq(sem, "FID") ? PARLEY_SDP_SSRC_FID
                                                : PARLEY_SDP_SSRC_SIM;
    g->n = 0;

    while (parley_sdp_next(&val, &tok)) {
        if (g->n == PARLEY_SDP_MAX_GROUP_SSRCS) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                                  "a=ssrc-group: more than %d ssrcs",
                                  PARLEY_SDP_MAX_GROUP_SSRCS);
        }

        if (!parley_sdp_number(tok, UINT32_MAX, &id)) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=ssrc-group: bad ssrc");
        }

        g->ssrcs[g->n++] = (uint32_t) id;
    }

    if (g->n == 0) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=ssrc-group: no ssrcs");
    }

    m->n_ssrc_groups++;

    return PARLEY_SDP_OK;
}


/* RFC 8830 2: a=msid; a track in several streams keeps the first */
static parley_sdp_rc_t
parley_sdp_attr_msid(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    parley_sdp_media_t  *m;

    (void) arg;

    m = ps->media;

    if (m->msid_stream[0] != '\0') {
        return PARLEY_SDP_OK;
    }

    return parley_sdp_ssrc_msid(ps, m->msid_stream, m->msid_track, val,
                                "a=msid");
}


/* RFC 8851 4: a=rid:<rid-id> send|recv [<restrictions>] */
static parley_sdp_rc_t
parley_sdp_attr_rid(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint32_t             i;
    parley_sdp_rc_t      rc;
    parley_sdp_str_t     id, dir;
    parley_sdp_rid_t    *r;
    parley_sdp_media_t  *m;

    (void) arg;

    m = ps->media;

    if (!parley_sdp_next(&val, &id) || !parley_sdp_next(&val, &dir)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=rid: expected <rid> send|recv");
    }

    if (!parley_sdp_is_rid(id)
        || !(parley_sdp_streq(dir, "send") || parley_sdp_streq(dir, "recv")))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=rid: bad rid or direction");
    }

    for (i = 0; i < m->n_rids; i++) {
        if (id.len == strlen(m->rids[i].id)
            && memcmp(id.data, m->rids[i].id, id.len) == 0)
        {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=rid: same rid twice");
        }
    }

    if (m->n_rids == PARLEY_SDP_MAX_RIDS) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                              "a=rid: more than %d rids", PARLEY_SDP_MAX_RIDS);
    }

    r = &m->rids[m->n_rids];
    r->dir = parley_sdp_streq(dir, "send") ? PARLEY_SDP_DIR_SENDONLY
                                           : PARLEY_SDP_DIR_RECVONLY;

    rc = parley_sdp_store(ps, r->id, sizeof(r->id), id, "a=rid");
    if (rc == PARLEY_SDP_OK) {
        m->n_rids++;
    }

    return rc;
}


/* RFC 8853 5.1: a=simulcast:<dir> <streams> [<dir> <streams>] */
static parley_sdp_rc_t
parley_sdp_attr_simulcast(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    int                      i;
    parley_sdp_rc_t          rc;
    parley_sdp_str_t         dir, list;
    parley_sdp_media_t      *m;
    parley_sdp_simulcast_t  *sim;

    (void) arg;

    m = ps->media;

    if (m->sim_send.n != 0 || m->sim_recv.n != 0) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=simulcast: second simulcast line");
    }

    for (i = 0; i < 2 && parley_sdp_next(&val, &dir); i++) {
        if (!parley_sdp_next(&val, &list)) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                                  "a=simulcast: expected send|recv <rids>");
        }

        sim = parley_sdp_streq(dir, "send") ? &m->sim_send
              : parley_sdp_streq(dir, "recv") ? &m->sim_recv : NULL;

        if (sim == NULL || sim->n != 0) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=simulcast: bad direction");
        }

        rc = parley_sdp_simulcast_list(ps, sim, list);
        if (rc != PARLEY_SDP_OK) {
            return rc;
        }
    }

    if (i == 0 || parley_sdp_next(&val, &dir)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                              "a=simulcast: expected send|recv <rids>");
    }

    ps->simulcast_line[m - ps->sdp->media] = ps->line;

    return PARLEY_SDP_OK;
}


/*
 * "h;~m;l1,l2": streams split by ";", alternatives by ","; "~" marks a
 * paused one. The SFU keeps the first alternative of each stream. Drafts
 * before RFC 8853 (old Firefox) wrote "rid=" in front of the list.
 */
static parley_sdp_rc_t
parley_sdp_simulcast_list(parley_sdp_parser_t *ps,
    parley_sdp_simulcast_t *sim, parley_sdp_str_t list)
{
    int                       first, paused;
    parley_sdp_str_t          stream, alt;
    parley_sdp_sim_stream_t  *st;

    if (list.len > 4 && memcmp(list.data, "rid=", 4) == 0) {
        list.data += 4;
        list.len -= 4;
    }

    while (parley_sdp_split(&list, ';', &stream)) {
        if (sim->n == PARLEY_SDP_MAX_RIDS) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_LIMIT,
                                  "a=simulcast: more than %d streams",
                                  PARLEY_SDP_MAX_RIDS);
        }

        st = &sim->streams[sim->n++];

        for (first = 1; parley_sdp_split(&stream, ',', &alt); first = 0) {
            paused = alt.len > 0 && alt.data[0] == '~';

            if (paused) {
                alt.data++;
                alt.len--;
            }

            if (!parley_sdp_is_rid(alt) || alt.len >= PARLEY_SDP_RID_LEN) {
                return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                      "a=simulcast: bad rid");
            }

            if (first) {
                memcpy(st->rid, alt.data, alt.len);
                st->rid[alt.len] = '\0';
                st->paused = paused;
            }
        }
    }

    return PARLEY_SDP_OK;
}


/*
 * RFC 8839 5.1: a=candidate:<foundation> <component> <transport>
 * <priority> <address> <port> typ <type> [raddr <a>] [rport <p>]
 * *(<name> <value>). A transport other than UDP and TCP is skipped.
 */
static parley_sdp_rc_t
parley_sdp_attr_candidate(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    int                      usable;
    uint32_t                 line;
    parley_sdp_rc_t          rc;
    parley_sdp_media_t      *m;
    parley_sdp_error_t       note, *err;
    parley_sdp_candidate_t  *c;

    (void) arg;

    m = ps->media;

    /*
     * The server learns its peers' addresses from their checks (ICE-lite)
     * and the test peer needs one good candidate of the server's: one
     * past the limit, or malformed, is skipped like a browser skips it.
     */

    if (m->n_candidates == PARLEY_SDP_MAX_CANDIDATES) {
        return parley_sdp_skip(ps, "a=candidate: more than %d candidates, "
                               "skipped", PARLEY_SDP_MAX_CANDIDATES);
    }

    c = &m->candidates[m->n_candidates];
    memset(c, 0, sizeof(*c));

    /*
     * Its errors go to a note without a line number, and only for the
     * first value skipped (the one named): no formatting for the rest.
     */
    note.msg[0] = '\0';
    err = ps->err;
    line = ps->line;
    ps->err = (ps->sdp->n_skipped == 0) ? &note : NULL;
    ps->line = 0;

    rc = parley_sdp_candidate_head(ps, c, &val, &usable);
    if (rc == PARLEY_SDP_OK) {
        rc = parley_sdp_candidate_ext(ps, c, val);
    }

    ps->err = err;
    ps->line = line;

    if (rc != PARLEY_SDP_OK) {
        memset(c, 0, sizeof(*c));
        return parley_sdp_skip(ps, "%s, skipped",
                               ps->sdp->n_skipped ? "" : note.msg);
    }

    if (usable) {
        m->n_candidates++;
    }

    return PARLEY_SDP_OK;
}


static parley_sdp_rc_t
parley_sdp_candidate_head(parley_sdp_parser_t *ps, parley_sdp_candidate_t *c,
    parley_sdp_str_t *rest, int *usable)
{
    int               i;
    uint64_t          component, priority, port;
    parley_sdp_str_t  f[8];

    *usable = 0;

    for (i = 0; i < 8; i++) {
        if (!parley_sdp_next(rest, &f[i])) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                                  "a=candidate: expected 8 fields");
        }
    }

    if (!parley_sdp_is_ice_chars(f[0]) || f[0].len >= sizeof(c->foundation)
        || !parley_sdp_number(f[1], 256, &component) || component == 0
        || !parley_sdp_number(f[3], UINT32_MAX, &priority)
        || !parley_sdp_number(f[5], 65535, &port)
        || !parley_sdp_streq(f[6], "typ"))
    {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=candidate: bad field");
    }

    for (i = PARLEY_SDP_CAND_HOST; i <= PARLEY_SDP_CAND_RELAY; i++) {
        if (parley_sdp_eq(f[7], parley_sdp_cand_types[i])) {
            break;
        }
    }

    if (i > PARLEY_SDP_CAND_RELAY) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=candidate: unknown type");
    }

    /* transport names are case-insensitive (RFC 8839 5.1) */
    *usable = parley_sdp_caseeq(f[2], "udp") || parley_sdp_caseeq(f[2], "tcp");

    memcpy(c->foundation, f[0].data, f[0].len);
    c->component = (uint16_t) component;
    c->tcp = parley_sdp_caseeq(f[2], "tcp");
    c->priority = (uint32_t) priority;
    c->port = (uint16_t) port;
    c->type = (parley_sdp_cand_type_t) i;

    return parley_sdp_store_addr(ps, c->address, f[4], "a=candidate");
}


static parley_sdp_rc_t
parley_sdp_candidate_ext(parley_sdp_parser_t *ps, parley_sdp_candidate_t *c,
    parley_sdp_str_t rest)
{
    int               i;
    uint64_t          port;
    parley_sdp_rc_t   rc;
    parley_sdp_str_t  name, value;

    while (parley_sdp_next(&rest, &name)) {
        if (!parley_sdp_next(&rest, &value)) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_SYNTAX,
                                  "a=candidate: extension without a value");
        }

        if (parley_sdp_streq(name, "raddr")) {
            rc = parley_sdp_store_addr(ps, c->raddr, value,
                                       "a=candidate: raddr");
            if (rc != PARLEY_SDP_OK) {
                return rc;
            }

        } else if (parley_sdp_streq(name, "rport")) {
            if (!parley_sdp_number(value, 65535, &port)) {
                return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                      "a=candidate: bad rport");
            }

            c->rport = (uint16_t) port;

        } else if (parley_sdp_streq(name, "tcptype")) {
            for (i = PARLEY_SDP_TCP_ACTIVE; i <= PARLEY_SDP_TCP_SO; i++) {
                if (parley_sdp_eq(value, parley_sdp_tcptypes[i])) {
                    c->tcptype = (parley_sdp_tcptype_t) i;
                }
            }
        }
    }

    return PARLEY_SDP_OK;
}


/* RFC 8841 5, 6: a=sctp-port:<port>, a=max-message-size:<bytes> */
static parley_sdp_rc_t
parley_sdp_attr_sctp(parley_sdp_parser_t *ps, parley_sdp_str_t val,
    unsigned arg)
{
    uint64_t  n;

    if (arg == 0) {
        if (!parley_sdp_number(val, 65535, &n)) {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=sctp-port: bad port");
        }

        ps->media->sctp_port = (uint16_t) n;
        return PARLEY_SDP_OK;
    }

    if (!parley_sdp_number(val, UINT64_MAX, &n)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                              "a=max-message-size: bad size");
    }

    /* 0 means "no limit" (RFC 8841 6); so does anything past 4 GiB here */
    ps->media->max_message_size = n > UINT32_MAX ? 0 : (uint32_t) n;

    return PARLEY_SDP_OK;
}


/* after the last line: defaults, links and checks across lines */
static parley_sdp_rc_t
parley_sdp_finish(parley_sdp_parser_t *ps)
{
    uint32_t         i;
    parley_sdp_rc_t  rc;
    parley_sdp_t    *sdp;

    sdp = ps->sdp;
    ps->line = 0;

    if (!ps->seen_v) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_MISSING, "missing v= line");
    }

    if (!ps->seen_o || !ps->seen_s || !ps->seen_t) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_MISSING,
                              "missing o=, s= or t= line");
    }

    for (i = 0; i < sdp->n_media; i++) {
        rc = parley_sdp_finish_media(ps, &sdp->media[i], i);
        if (rc != PARLEY_SDP_OK) {
            return rc;
        }
    }

    /* RFC 8843 7.2: each mid of the group names an m= section */
    for (i = 0; i < sdp->n_bundle; i++) {
        if (parley_sdp_find_mid(sdp, sdp->bundle[i]) == NULL) {
            ps->line = ps->bundle_line;
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=group: mid \"%s\" has no m= section",
                                  sdp->bundle[i]);
        }
    }

    return PARLEY_SDP_OK;
}


static parley_sdp_rc_t
parley_sdp_finish_media(parley_sdp_parser_t *ps, parley_sdp_media_t *m,
    uint32_t index)
{
    uint32_t  i;

    if (m->dir == PARLEY_SDP_DIR_NONE) {
        m->dir = ps->dir ? ps->dir : PARLEY_SDP_DIR_SENDRECV;
    }

    if (m->ice_ufrag[0] == '\0') {
        memcpy(m->ice_ufrag, ps->ice_ufrag, sizeof(m->ice_ufrag));
    }

    if (m->ice_pwd[0] == '\0') {
        memcpy(m->ice_pwd, ps->ice_pwd, sizeof(m->ice_pwd));
    }

    if (m->conn[0] == '\0') {
        memcpy(m->conn, ps->conn, sizeof(m->conn));
    }

    if (m->fingerprint.hash == PARLEY_SDP_HASH_NONE) {
        m->fingerprint = ps->fingerprint;
    }

    if (m->setup == PARLEY_SDP_SETUP_NONE) {
        m->setup = ps->setup;
    }

    m->ice_trickle |= ps->ice_trickle;
    m->end_of_candidates |= ps->end_of_candidates;

    parley_sdp_link_rtx(m);

    /* RFC 8853 5.1: each rid of a=simulcast is an a=rid of that direction */
    ps->line = ps->simulcast_line[index];

    for (i = 0; i < m->sim_send.n; i++) {
        if (!parley_sdp_has_rid(m, m->sim_send.streams[i].rid,
                                PARLEY_SDP_DIR_SENDONLY))
        {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=simulcast: no a=rid:%s send",
                                  m->sim_send.streams[i].rid);
        }
    }

    for (i = 0; i < m->sim_recv.n; i++) {
        if (!parley_sdp_has_rid(m, m->sim_recv.streams[i].rid,
                                PARLEY_SDP_DIR_RECVONLY))
        {
            return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE,
                                  "a=simulcast: no a=rid:%s recv",
                                  m->sim_recv.streams[i].rid);
        }
    }

    return PARLEY_SDP_OK;
}


/* RFC 4588 8.6: an rtx format points at the one it repairs by apt= */
static void
parley_sdp_link_rtx(parley_sdp_media_t *m)
{
    uint32_t             i;
    parley_sdp_str_t     name;
    parley_sdp_codec_t  *c, *primary;

    for (i = 0; i < m->n_codecs; i++) {
        c = &m->codecs[i];
        name.data = c->name;
        name.len = strlen(c->name);

        if (c->apt == PARLEY_SDP_NO_PT || !parley_sdp_caseeq(name, "rtx")) {
            continue;
        }

        primary = parley_sdp_codec(m, c->apt);

        if (primary != NULL && primary != c) {
            primary->rtx_pt = c->pt;
        }
    }
}


static int
parley_sdp_has_rid(const parley_sdp_media_t *m, const char *id,
    parley_sdp_dir_t dir)
{
    uint32_t  i;

    for (i = 0; i < m->n_rids; i++) {
        if (m->rids[i].dir == dir && strcmp(m->rids[i].id, id) == 0) {
            return 1;
        }
    }

    return 0;
}


/* the SFU's answer */

parley_sdp_rc_t
parley_sdp_answer(parley_sdp_t *answer, const parley_sdp_t *offer,
    const parley_sdp_local_t *local, parley_sdp_error_t *err)
{
    int                        bundled;
    uint32_t                   i, accepted;
    parley_sdp_rc_t            rc;
    const parley_sdp_media_t  *om;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }

    if (answer == NULL || offer == NULL || answer == offer
        || !parley_sdp_counts_ok(offer))
    {
        return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                "no offer or no room for the answer");
    }

    rc = parley_sdp_check_local(local, err);
    if (rc != PARLEY_SDP_OK) {
        return rc;
    }

    memset(answer, 0, offsetof(parley_sdp_t, media));
    answer->sess_id = local->sess_id;
    answer->sess_version = local->sess_version;
    answer->ice_lite = 1;
    /* RFC 8285 6: the answer may allow mixed headers only if offered */
    answer->extmap_allow_mixed = offer->extmap_allow_mixed;
    answer->n_media = offer->n_media;

    for (i = 0, accepted = 0; i < offer->n_media; i++) {
        om = &offer->media[i];

        /*
         * One transport for all: the sections of the offer's BUNDLE
         * group, or with no group only the first section, as a
         * "max-bundle" answerer does (RFC 8829 5.3.1).
         */
        bundled = offer->n_bundle ? parley_sdp_in_bundle(offer, om->mid)
                                  : accepted == 0;

        memset(&answer->media[i], 0, sizeof(parley_sdp_media_t));

        if (bundled && parley_sdp_answer_media(&answer->media[i], om, local))
        {
            accepted++;

        } else {
            parley_sdp_reject(&answer->media[i], om);
        }
    }

    parley_sdp_answer_bundle(answer, offer);

    return parley_sdp_check_tag(answer, offer, err);
}


/* Every count fits its array: a description not from the parser may lie. */
static int
parley_sdp_counts_ok(const parley_sdp_t *sdp)
{
    uint32_t                   i, j;
    const parley_sdp_media_t  *m;

    if (sdp->n_media > PARLEY_SDP_MAX_MEDIA
        || sdp->n_bundle > PARLEY_SDP_MAX_MEDIA)
    {
        return 0;
    }

    for (i = 0; i < sdp->n_media; i++) {
        m = &sdp->media[i];

        if (m->n_codecs > PARLEY_SDP_MAX_CODECS
            || m->n_extmaps > PARLEY_SDP_MAX_EXTMAPS
            || m->n_ssrcs > PARLEY_SDP_MAX_SSRCS
            || m->n_ssrc_groups > PARLEY_SDP_MAX_SSRC_GROUPS
            || m->n_rids > PARLEY_SDP_MAX_RIDS
            || m->sim_send.n > PARLEY_SDP_MAX_RIDS
            || m->sim_recv.n > PARLEY_SDP_MAX_RIDS
            || m->n_candidates > PARLEY_SDP_MAX_CANDIDATES)
        {
            return 0;
        }

        for (j = 0; j < m->n_ssrc_groups; j++) {
            if (m->ssrc_groups[j].n > PARLEY_SDP_MAX_GROUP_SSRCS) {
                return 0;
            }
        }
    }

    return 1;
}


static parley_sdp_rc_t
parley_sdp_check_local(const parley_sdp_local_t *local,
    parley_sdp_error_t *err)
{
    uint32_t                         i;
    const parley_sdp_extmap_conf_t  *e;

    if (local == NULL
        || !parley_sdp_cstr_ice(local->ice_ufrag, 4)
        || !parley_sdp_cstr_ice(local->ice_pwd, 22))
    {
        return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                "local: bad ICE ufrag or pwd");
    }

    if (local->n_hosts == 0 || local->n_hosts > PARLEY_SDP_MAX_CANDIDATES
        || local->hosts == NULL)
    {
        return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                "local: 1 to %d host addresses needed",
                                PARLEY_SDP_MAX_CANDIDATES);
    }

    for (i = 0; i < local->n_hosts; i++) {
        if (!parley_sdp_cstr_addr(local->hosts[i].address)
            || local->hosts[i].port == 0)
        {
            return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                    "local: bad host address %u", i);
        }
    }

    if ((local->n_codecs != 0 && local->codecs == NULL)
        || (local->n_extmaps != 0 && local->extmaps == NULL))
    {
        return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                "local: no codec or extmap array");
    }

    for (i = 0; i < local->n_codecs; i++) {
        if (!parley_sdp_check_codec(&local->codecs[i])) {
            return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                    "local: bad codec %u", i);
        }
    }

    for (i = 0; i < local->n_extmaps; i++) {
        e = &local->extmaps[i];

        if (!parley_sdp_cstr_ok(e->uri, PARLEY_SDP_URI_LEN, 0)
            || strchr(e->uri, ' ') != NULL || e->id == 0 || e->id > 255)
        {
            return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                    "local: bad extmap %u", i);
        }
    }

    return PARLEY_SDP_OK;
}


static int
parley_sdp_check_codec(const parley_sdp_codec_conf_t *c)
{
    return c->name != NULL
           && parley_sdp_cstr_ok(c->name, PARLEY_SDP_NAME_LEN, 1)
           && c->clock_rate != 0 && c->pt <= 127
           && (c->rtx_pt == PARLEY_SDP_NO_PT
               || (c->rtx_pt <= 127 && c->rtx_pt != c->pt))
           && (c->match == NULL
               || parley_sdp_cstr_ok(c->match, PARLEY_SDP_FMTP_LEN, 0))
           && (c->fmtp == NULL
               || parley_sdp_cstr_ok(c->fmtp, PARLEY_SDP_FMTP_LEN, 0));
}


/*
 * A caller's string is safe to write into SDP: shorter than "size", no
 * control characters, and with "token" non-empty token-chars only.
 */
static int
parley_sdp_cstr_ok(const char *s, size_t size, int token)
{
    size_t  i;

    if (s == NULL) {
        return 0;
    }

    for (i = 0; s[i] != '\0'; i++) {
        if (i == size - 1 || (unsigned char) s[i] < 0x20 || s[i] == 0x7f
            || (token && !parley_sdp_token_char(s[i])))
        {
            return 0;
        }
    }

    return !token || i > 0;
}


static int
parley_sdp_cstr_ice(const char *s, size_t min)
{
    parley_sdp_str_t  str;

    if (s == NULL) {
        return 0;
    }

    str.data = s;
    str.len = strlen(s);

    return str.len >= min && str.len < PARLEY_SDP_ICE_LEN
           && parley_sdp_is_ice_chars(str);
}


static int
parley_sdp_cstr_addr(const char *s)
{
    parley_sdp_str_t  str;

    if (s == NULL) {
        return 0;
    }

    str.data = s;
    str.len = strlen(s);

    return str.len < PARLEY_SDP_ADDR_LEN && parley_sdp_is_addr(str);
}


static int
parley_sdp_in_bundle(const parley_sdp_t *sdp, const char *mid)
{
    uint32_t  i;

    if (mid[0] == '\0') {
        return 0;
    }

    for (i = 0; i < sdp->n_bundle; i++) {
        if (strcmp(sdp->bundle[i], mid) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
parley_sdp_answer_media(parley_sdp_media_t *am, const parley_sdp_media_t *om,
    const parley_sdp_local_t *local)
{
    if (!parley_sdp_answer_usable(om, local)) {
        return 0;
    }

    parley_sdp_media_head(am, om);

    if (om->kind == PARLEY_SDP_APPLICATION) {
        am->sctp_port = local->sctp_port;
        am->max_message_size = local->max_message_size;

    } else {
        parley_sdp_answer_codecs(am, om, local);

        if (am->n_codecs == 0) {
            return 0;
        }

        parley_sdp_answer_extmaps(am, om, local);
        am->dir = parley_sdp_reverse(om->dir, local->answer_sendrecv);
        am->rtcp_mux = 1;
        am->rtcp_rsize = om->rtcp_rsize;

        if (am->dir == PARLEY_SDP_DIR_RECVONLY
            || am->dir == PARLEY_SDP_DIR_SENDRECV)
        {
            parley_sdp_answer_simulcast(am, om);
        }
    }

    /*
     * RFC 5763 5: the answerer takes "active" or "passive". The SFU waits
     * as DTLS server: the browser, controlling ICE against an ice-lite
     * peer, starts DTLS as soon as it has a working pair.
     */
    parley_sdp_local_transport(am, local,
                               om->setup == PARLEY_SDP_SETUP_PASSIVE
                               ? PARLEY_SDP_SETUP_ACTIVE
                               : PARLEY_SDP_SETUP_PASSIVE);

    return 1;
}


static int
parley_sdp_answer_usable(const parley_sdp_media_t *om,
    const parley_sdp_local_t *local)
{
    /*
     * RFC 3264 6: a section the offerer disabled stays rejected; port 0
     * with a=bundle-only is not disabled (RFC 8843 6).
     */
    if (om->port == 0 && !om->bundle_only) {
        return 0;
    }

    switch (om->kind) {

    case PARLEY_SDP_AUDIO:
    case PARLEY_SDP_VIDEO:
        /* DTLS-SRTP, and RTCP on the RTP port (RFC 8858 3) */
        return strcmp(om->proto, PARLEY_SDP_RTP_PROTO) == 0 && om->rtcp_mux;

    case PARLEY_SDP_APPLICATION:
        return local->sctp_port != 0
               && strcmp(om->proto, PARLEY_SDP_SCTP_PROTO) == 0
               && strcmp(om->fmt, PARLEY_SDP_SCTP_FMT) == 0;

    default:
        return 0;
    }
}


/* what an answer section repeats from the offer's (RFC 3264 6) */
static void
parley_sdp_media_head(parley_sdp_media_t *am, const parley_sdp_media_t *om)
{
    am->kind = om->kind;
    memcpy(am->media, om->media, sizeof(am->media));
    memcpy(am->proto, om->proto, sizeof(am->proto));
    memcpy(am->fmt, om->fmt, sizeof(am->fmt));
    memcpy(am->mid, om->mid, sizeof(am->mid));
}


/* RFC 3264 6: port 0; of a rejected section only its identity is kept */
static void
parley_sdp_reject(parley_sdp_media_t *am, const parley_sdp_media_t *om)
{
    memset(am, 0, sizeof(*am));
    parley_sdp_media_head(am, om);
    am->port = 0;
    am->dir = PARLEY_SDP_DIR_INACTIVE;
}


/*
 * The SFU's codecs the offer has, in the SFU's order of preference
 * (RFC 3264 6.1), each with its rtx when both sides have one.
 */
static void
parley_sdp_answer_codecs(parley_sdp_media_t *am, const parley_sdp_media_t *om,
    const parley_sdp_local_t *local)
{
    uint32_t                        i, j;
    const parley_sdp_codec_conf_t  *conf;

    for (i = 0; i < local->n_codecs; i++) {
        conf = &local->codecs[i];

        for (j = 0; j < om->n_codecs; j++) {
            if (parley_sdp_codec_matches(conf, &om->codecs[j])) {
                parley_sdp_answer_codec(am, om, &om->codecs[j], conf);
                break;
            }
        }
    }
}


/* RFC 3264 6.1: the answer keeps the offer's payload type numbers */
static void
parley_sdp_answer_codec(parley_sdp_media_t *am, const parley_sdp_media_t *om,
    const parley_sdp_codec_t *oc, const parley_sdp_codec_conf_t *conf)
{
    parley_sdp_codec_t        *c;
    const parley_sdp_codec_t  *rtx;

    if (parley_sdp_codec(am, oc->pt) != NULL
        || am->n_codecs == PARLEY_SDP_MAX_CODECS)
    {
        return;
    }

    c = &am->codecs[am->n_codecs++];
    *c = *oc;
    c->fb = oc->fb & conf->fb;
    c->rtx_pt = PARLEY_SDP_NO_PT;

    if (conf->rtx_pt == PARLEY_SDP_NO_PT || oc->rtx_pt == PARLEY_SDP_NO_PT) {
        return;
    }

    rtx = parley_sdp_find_codec(om, oc->rtx_pt);

    if (rtx == NULL || parley_sdp_codec(am, rtx->pt) != NULL
        || am->n_codecs == PARLEY_SDP_MAX_CODECS)
    {
        return;
    }

    c->rtx_pt = rtx->pt;
    am->codecs[am->n_codecs] = *rtx;
    am->codecs[am->n_codecs].fb = 0;
    am->n_codecs++;
}


static int
parley_sdp_codec_matches(const parley_sdp_codec_conf_t *conf,
    const parley_sdp_codec_t *oc)
{
    parley_sdp_str_t  name, match, param, key;

    name.data = oc->name;
    name.len = strlen(oc->name);

    if (!parley_sdp_caseeq(name, conf->name)
        || oc->clock_rate != conf->clock_rate)
    {
        return 0;
    }

    /* RFC 8866 6.6: no channel count means one channel */
    if ((oc->channels ? oc->channels : 1)
        != (conf->channels ? conf->channels : 1))
    {
        return 0;
    }

    if (conf->match == NULL) {
        return 1;
    }

    match.data = conf->match;
    match.len = strlen(conf->match);

    while (parley_sdp_split(&match, ';', &param)) {
        param = parley_sdp_skip_spaces(param);

        if (param.len == 0) {
            continue;
        }

        parley_sdp_split(&param, '=', &key);

        if (!parley_sdp_fmtp_param_ok(oc, key, param)) {
            return 0;
        }
    }

    return 1;
}


/*
 * The offered format has key=value (compared without regard to case),
 * given or, for the few parameters whose absence means a value, implied.
 */
static int
parley_sdp_fmtp_param_ok(const parley_sdp_codec_t *oc, parley_sdp_str_t key,
    parley_sdp_str_t value)
{
    size_t            i;
    parley_sdp_str_t  name, have;

    static const struct {
        const char  *codec;
        const char  *key;
        const char  *value;
    } defaults[] = {
        { "H264", "packetization-mode", "0" },         /* RFC 6184 8.1 */
        { "H264", "profile-level-id", "42000a" },      /* RFC 6184 8.1 */
        { "VP9", "profile-id", "0" },                  /* RFC 9628 6 */
        { "AV1", "profile", "0" }          /* the AV1 RTP payload format */
    };

    if (parley_sdp_fmtp_get(oc->fmtp, key, &have)) {
        return parley_sdp_caseeq_str(have, value);
    }

    name.data = oc->name;
    name.len = strlen(oc->name);

    for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
        if (parley_sdp_caseeq(name, defaults[i].codec)
            && parley_sdp_caseeq(key, defaults[i].key))
        {
            return parley_sdp_caseeq(value, defaults[i].value);
        }
    }

    return 0;
}


/* The value of "key" in an fmtp string of key=value pairs split by ";". */
static int
parley_sdp_fmtp_get(const char *fmtp, parley_sdp_str_t key,
    parley_sdp_str_t *value)
{
    parley_sdp_str_t  params, param, k;

    params.data = fmtp;
    params.len = strlen(fmtp);

    while (parley_sdp_split(&params, ';', &param)) {
        param = parley_sdp_skip_spaces(param);
        parley_sdp_split(&param, '=', &k);

        if (parley_sdp_caseeq_str(k, key)) {
            *value = param;
            return 1;
        }
    }

    return 0;
}


/* RFC 8285 7: the answer keeps the offer's ids for what it accepts */
static void
parley_sdp_answer_extmaps(parley_sdp_media_t *am,
    const parley_sdp_media_t *om, const parley_sdp_local_t *local)
{
    uint32_t                         i, j;
    parley_sdp_extmap_t             *e;
    const parley_sdp_extmap_conf_t  *conf;

    for (i = 0; i < om->n_extmaps; i++) {
        for (j = 0; j < local->n_extmaps; j++) {
            conf = &local->extmaps[j];

            if (strcmp(conf->uri, om->extmaps[i].uri) != 0
                || !(conf->kinds & PARLEY_SDP_KIND_BIT(om->kind)))
            {
                continue;
            }

            e = &am->extmaps[am->n_extmaps++];
            *e = om->extmaps[i];
            e->dir = parley_sdp_reverse(e->dir, 1);
            break;
        }
    }
}


/* RFC 3264 6.1: what one side sends, the other receives */
static parley_sdp_dir_t
parley_sdp_reverse(parley_sdp_dir_t dir, unsigned sendrecv)
{
    switch (dir) {

    case PARLEY_SDP_DIR_SENDONLY:
        return PARLEY_SDP_DIR_RECVONLY;

    case PARLEY_SDP_DIR_RECVONLY:
        return PARLEY_SDP_DIR_SENDONLY;

    case PARLEY_SDP_DIR_SENDRECV:
        return sendrecv ? PARLEY_SDP_DIR_SENDRECV : PARLEY_SDP_DIR_RECVONLY;

    case PARLEY_SDP_DIR_INACTIVE:
        return PARLEY_SDP_DIR_INACTIVE;

    default:
        return PARLEY_SDP_DIR_NONE;
    }
}


/*
 * RFC 8853 5.3: the answerer receives the simulcast streams the offerer
 * sends, declaring each rid "recv", in the offer's order.
 */
static void
parley_sdp_answer_simulcast(parley_sdp_media_t *am,
    const parley_sdp_media_t *om)
{
    uint32_t  i;

    for (i = 0; i < om->n_rids; i++) {
        if (om->rids[i].dir == PARLEY_SDP_DIR_SENDONLY) {
            am->rids[am->n_rids] = om->rids[i];
            am->rids[am->n_rids].dir = PARLEY_SDP_DIR_RECVONLY;
            am->n_rids++;
        }
    }

    am->sim_recv = om->sim_send;
}


/*
 * RFC 8843 7.3.1: the offerer-tagged section, when accepted, stays first
 * and is the answerer's tag; rejected sections leave the group (7.3.3).
 */
static void
parley_sdp_answer_bundle(parley_sdp_t *answer, const parley_sdp_t *offer)
{
    uint32_t                   i;
    const parley_sdp_media_t  *am;

    for (i = 0; i < offer->n_bundle; i++) {
        am = parley_sdp_find_mid(answer, offer->bundle[i]);

        if (am != NULL && am->port != 0) {
            memcpy(answer->bundle[answer->n_bundle++], offer->bundle[i],
                   PARLEY_SDP_MID_LEN);
        }
    }
}


/* The offer's transport is the tagged section's: it must be complete. */
static parley_sdp_rc_t
parley_sdp_check_tag(const parley_sdp_t *answer, const parley_sdp_t *offer,
    parley_sdp_error_t *err)
{
    uint32_t                   i;
    const parley_sdp_media_t  *am, *om;

    for (i = 0; i < answer->n_media; i++) {
        am = &answer->media[i];

        if (am->port != 0
            && (answer->n_bundle == 0
                || strcmp(am->mid, answer->bundle[0]) == 0))
        {
            break;
        }
    }

    if (i == answer->n_media) {
        return PARLEY_SDP_OK;               /* everything rejected */
    }

    om = &offer->media[i];

    if (om->ice_ufrag[0] == '\0' || om->ice_pwd[0] == '\0'
        || om->fingerprint.hash == PARLEY_SDP_HASH_NONE)
    {
        return parley_sdp_error(err, om->line, PARLEY_SDP_ERR_MISSING,
                                "m= section %u: no ice-ufrag, ice-pwd or "
                                "fingerprint", i);
    }

    return PARLEY_SDP_OK;
}


/*
 * The SFU's side of the one transport: ICE credentials, certificate
 * fingerprint, DTLS role and host candidates, all gathered already.
 */
static void
parley_sdp_local_transport(parley_sdp_media_t *m,
    const parley_sdp_local_t *local, parley_sdp_setup_t setup)
{
    uint32_t                  i;
    const parley_sdp_host_t  *h;
    parley_sdp_candidate_t   *c;

    parley_sdp_copy(m->ice_ufrag, sizeof(m->ice_ufrag), local->ice_ufrag);
    parley_sdp_copy(m->ice_pwd, sizeof(m->ice_pwd), local->ice_pwd);
    m->fingerprint.hash = PARLEY_SDP_HASH_SHA256;
    m->fingerprint.len = sizeof(local->fingerprint);
    memcpy(m->fingerprint.bytes, local->fingerprint,
           sizeof(local->fingerprint));
    m->setup = setup;

    /* RFC 8839 4.3: the default address is that of the first candidate */
    m->port = local->hosts[0].port;
    parley_sdp_copy(m->conn, sizeof(m->conn), local->hosts[0].address);

    for (i = 0; i < local->n_hosts; i++) {
        h = &local->hosts[i];
        c = &m->candidates[i];
        memset(c, 0, sizeof(*c));
        snprintf(c->foundation, sizeof(c->foundation), "%u", i + 1);
        c->component = 1;
        c->tcp = h->tcp;
        c->type = PARLEY_SDP_CAND_HOST;
        c->tcptype = h->tcp ? PARLEY_SDP_TCP_PASSIVE : PARLEY_SDP_TCP_NONE;
        c->port = h->port;
        parley_sdp_copy(c->address, sizeof(c->address), h->address);

        /*
         * RFC 8445 5.1.2.1: (2^24) type preference (126, host) + (2^8)
         * local preference + (256 - component); UDP ranks above TCP.
         */
        c->priority = (126u << 24) + ((h->tcp ? 32767u : 65535u) - i) * 256
                      + 255;
    }

    m->n_candidates = local->n_hosts;
    m->end_of_candidates = 1;
}


/* the SFU's offer */

parley_sdp_rc_t
parley_sdp_offer(parley_sdp_t *offer, const parley_sdp_local_t *local,
    const parley_sdp_track_t *tracks, uint32_t n_tracks,
    parley_sdp_error_t *err)
{
    uint32_t         i;
    parley_sdp_rc_t  rc;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }

    if (offer == NULL || tracks == NULL || n_tracks == 0
        || n_tracks > PARLEY_SDP_MAX_MEDIA)
    {
        return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                "1 to %d tracks needed",
                                PARLEY_SDP_MAX_MEDIA);
    }

    rc = parley_sdp_check_local(local, err);
    if (rc != PARLEY_SDP_OK) {
        return rc;
    }

    for (i = 0; i < n_tracks; i++) {
        rc = parley_sdp_check_track(&tracks[i], tracks, i, local, err);
        if (rc != PARLEY_SDP_OK) {
            return rc;
        }
    }

    memset(offer, 0, offsetof(parley_sdp_t, media));
    offer->sess_id = local->sess_id;
    offer->sess_version = local->sess_version;
    /* RFC 8839 5.3: a lite agent says so in its offers too */
    offer->ice_lite = 1;

    for (i = 0; i < n_tracks; i++) {
        parley_sdp_offer_media(&offer->media[i], local, &tracks[i]);
        parley_sdp_copy(offer->bundle[i], PARLEY_SDP_MID_LEN, tracks[i].mid);
    }

    offer->n_media = n_tracks;
    offer->n_bundle = n_tracks;

    return PARLEY_SDP_OK;
}


static parley_sdp_rc_t
parley_sdp_check_track(const parley_sdp_track_t *t,
    const parley_sdp_track_t *tracks, uint32_t index,
    const parley_sdp_local_t *local, parley_sdp_error_t *err)
{
    uint32_t  i;

    if (!parley_sdp_cstr_ok(t->mid, PARLEY_SDP_MID_LEN, 1)) {
        return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                "track %u: bad mid", index);
    }

    for (i = 0; i < index; i++) {
        if (strcmp(tracks[i].mid, t->mid) == 0) {
            return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                    "track %u: same mid as track %u",
                                    index, i);
        }
    }

    if (t->kind == PARLEY_SDP_APPLICATION && local->sctp_port == 0) {
        return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                "track %u: data channels need an SCTP port",
                                index);
    }

    if (t->kind == PARLEY_SDP_APPLICATION) {
        return PARLEY_SDP_OK;
    }

    if ((t->kind != PARLEY_SDP_AUDIO && t->kind != PARLEY_SDP_VIDEO)
        || t->codec == NULL || !parley_sdp_check_codec(t->codec)
        || (t->ssrc != 0
            && (!parley_sdp_cstr_ok(t->cname, PARLEY_SDP_CNAME_LEN, 1)
                || !parley_sdp_cstr_ok(t->stream_id, PARLEY_SDP_MSID_LEN, 1)
                || !parley_sdp_cstr_ok(t->track_id, PARLEY_SDP_MSID_LEN, 1)
                || t->rtx_ssrc == t->ssrc)))
    {
        return parley_sdp_error(err, 0, PARLEY_SDP_ERR_INVAL,
                                "track %u: bad kind, codec, cname or msid",
                                index);
    }

    return PARLEY_SDP_OK;
}


static void
parley_sdp_offer_media(parley_sdp_media_t *m, const parley_sdp_local_t *local,
    const parley_sdp_track_t *t)
{
    memset(m, 0, sizeof(*m));
    m->kind = t->kind;
    parley_sdp_copy(m->media, sizeof(m->media),
                    parley_sdp_kind_names[t->kind]);
    parley_sdp_copy(m->mid, sizeof(m->mid), t->mid);

    /* RFC 5763 5: the offerer lets the answerer pick the DTLS role */
    parley_sdp_local_transport(m, local, PARLEY_SDP_SETUP_ACTPASS);

    if (t->kind == PARLEY_SDP_APPLICATION) {
        parley_sdp_copy(m->proto, sizeof(m->proto), PARLEY_SDP_SCTP_PROTO);
        parley_sdp_copy(m->fmt, sizeof(m->fmt), PARLEY_SDP_SCTP_FMT);
        m->sctp_port = local->sctp_port;
        m->max_message_size = local->max_message_size;
        return;
    }

    parley_sdp_offer_rtp(m, local, t);
}


static void
parley_sdp_offer_rtp(parley_sdp_media_t *m, const parley_sdp_local_t *local,
    const parley_sdp_track_t *t)
{
    int                             rtx;
    uint32_t                        i;
    parley_sdp_codec_t             *c;
    const parley_sdp_codec_conf_t  *conf;

    conf = t->codec;
    parley_sdp_copy(m->proto, sizeof(m->proto), PARLEY_SDP_RTP_PROTO);
    snprintf(m->fmt, sizeof(m->fmt), "%u", conf->pt);
    m->dir = t->ssrc ? PARLEY_SDP_DIR_SENDONLY : PARLEY_SDP_DIR_INACTIVE;
    m->rtcp_mux = 1;
    m->rtcp_rsize = 1;

    c = &m->codecs[m->n_codecs++];
    c->pt = conf->pt;
    c->apt = PARLEY_SDP_NO_PT;
    c->rtx_pt = conf->rtx_pt;
    c->clock_rate = conf->clock_rate;
    c->channels = conf->channels;
    c->fb = conf->fb;
    parley_sdp_copy(c->name, sizeof(c->name), conf->name);
    parley_sdp_copy(c->fmtp, sizeof(c->fmtp), conf->fmtp ? conf->fmtp : "");

    rtx = conf->rtx_pt != PARLEY_SDP_NO_PT;

    if (rtx) {
        c = &m->codecs[m->n_codecs++];
        c->pt = conf->rtx_pt;
        c->apt = conf->pt;
        c->rtx_pt = PARLEY_SDP_NO_PT;
        c->clock_rate = conf->clock_rate;
        parley_sdp_copy(c->name, sizeof(c->name), "rtx");
        snprintf(c->fmtp, sizeof(c->fmtp), "apt=%u", conf->pt);
    }

    for (i = 0; i < local->n_extmaps; i++) {
        if ((local->extmaps[i].kinds & PARLEY_SDP_KIND_BIT(t->kind))
            && m->n_extmaps < PARLEY_SDP_MAX_EXTMAPS)
        {
            m->extmaps[m->n_extmaps].id = local->extmaps[i].id;
            parley_sdp_copy(m->extmaps[m->n_extmaps].uri,
                            PARLEY_SDP_URI_LEN, local->extmaps[i].uri);
            m->n_extmaps++;
        }
    }

    if (t->ssrc != 0) {
        parley_sdp_offer_ssrcs(m, t, rtx && t->rtx_ssrc != 0);
    }
}


/* RFC 8830 2 and RFC 5576 4: who sends, in which stream, with what rtx */
static void
parley_sdp_offer_ssrcs(parley_sdp_media_t *m, const parley_sdp_track_t *t,
    int rtx)
{
    parley_sdp_ssrc_group_t  *g;

    parley_sdp_copy(m->msid_stream, sizeof(m->msid_stream), t->stream_id);
    parley_sdp_copy(m->msid_track, sizeof(m->msid_track), t->track_id);

    parley_sdp_add_ssrc(m, t->ssrc, t);

    if (!rtx) {
        return;
    }

    parley_sdp_add_ssrc(m, t->rtx_ssrc, t);

    g = &m->ssrc_groups[m->n_ssrc_groups++];
    g->semantics = PARLEY_SDP_SSRC_FID;
    g->n = 2;
    g->ssrcs[0] = t->ssrc;
    g->ssrcs[1] = t->rtx_ssrc;
}


static void
parley_sdp_add_ssrc(parley_sdp_media_t *m, uint32_t ssrc,
    const parley_sdp_track_t *t)
{
    parley_sdp_ssrc_t  *s;

    s = &m->ssrcs[m->n_ssrcs++];
    s->ssrc = ssrc;
    parley_sdp_copy(s->cname, sizeof(s->cname), t->cname);
    parley_sdp_copy(s->msid_stream, sizeof(s->msid_stream), t->stream_id);
    parley_sdp_copy(s->msid_track, sizeof(s->msid_track), t->track_id);
}


/* the writer */

parley_sdp_rc_t
parley_sdp_write(const parley_sdp_t *sdp, char *buf, size_t size,
    size_t *len)
{
    uint32_t          i;
    parley_sdp_rc_t   rc;
    parley_sdp_out_t  out;

    if (sdp == NULL || buf == NULL || len == NULL
        || !parley_sdp_counts_ok(sdp))
    {
        return PARLEY_SDP_ERR_INVAL;
    }

    out.buf = buf;
    out.size = size;
    out.len = 0;
    out.overflow = 0;

    /*
     * RFC 8866 5: v=, o=, s=, t= in this order; RFC 8829 5.2.1: an origin
     * address that means nothing, s=- and t=0 0
     */
    parley_sdp_out(&out, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\n"
                   "s=-\r\nt=0 0\r\n",
                   (unsigned long long) sdp->sess_id,
                   (unsigned long long) sdp->sess_version);

    if (sdp->ice_lite) {
        parley_sdp_out(&out, "a=ice-lite\r\n");
    }

    if (sdp->n_bundle > 0) {
        parley_sdp_out(&out, "a=group:BUNDLE");

        for (i = 0; i < sdp->n_bundle; i++) {
            parley_sdp_out(&out, " %s", sdp->bundle[i]);
        }

        parley_sdp_out(&out, "\r\n");
    }

    if (sdp->extmap_allow_mixed) {
        parley_sdp_out(&out, "a=extmap-allow-mixed\r\n");
    }

    for (i = 0; i < sdp->n_media; i++) {
        rc = parley_sdp_write_media(&out, &sdp->media[i]);
        if (rc != PARLEY_SDP_OK) {
            return rc;
        }
    }

    if (out.overflow) {
        if (size > 0) {
            buf[0] = '\0';
        }

        return PARLEY_SDP_ERR_NOSPACE;
    }

    *len = out.len;

    return PARLEY_SDP_OK;
}


/* Appends to the output, always leaving room for the final NUL. */
static void
parley_sdp_out(parley_sdp_out_t *out, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  ap;

    if (out->overflow) {
        return;
    }

    room = out->size - out->len;

    va_start(ap, fmt);
    n = vsnprintf(out->buf + out->len, room, fmt, ap);
    va_end(ap);

    if (n < 0 || (size_t) n >= room) {
        out->overflow = 1;
        return;
    }

    out->len += (size_t) n;
}


static parley_sdp_rc_t
parley_sdp_write_media(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t  i;
    int       rtp;

    rtp = parley_sdp_is_rtp(m);

    if (m->media[0] == '\0' || m->proto[0] == '\0'
        || (m->fmt[0] == '\0' && !(rtp && m->n_codecs > 0)))
    {
        return PARLEY_SDP_ERR_INVAL;
    }

    parley_sdp_out(out, "m=%s %u %s", m->media, m->port, m->proto);

    if (rtp && m->n_codecs > 0) {
        for (i = 0; i < m->n_codecs; i++) {
            parley_sdp_out(out, " %u", m->codecs[i].pt);
        }

    } else {
        parley_sdp_out(out, " %s", m->fmt);
    }

    parley_sdp_out(out, "\r\nc=IN %s %s\r\n",
                   strchr(m->conn, ':') ? "IP6" : "IP4",
                   m->conn[0] ? m->conn : "0.0.0.0");

    parley_sdp_write_transport(out, m);

    if (m->mid[0] != '\0') {
        parley_sdp_out(out, "a=mid:%s\r\n", m->mid);
    }

    if (rtp) {
        parley_sdp_write_rtp(out, m);
    }

    if (m->sctp_port != 0) {
        parley_sdp_out(out, "a=sctp-port:%u\r\n", m->sctp_port);
    }

    if (m->max_message_size != 0) {
        parley_sdp_out(out, "a=max-message-size:%u\r\n",
                       m->max_message_size);
    }

    return PARLEY_SDP_OK;
}


static void
parley_sdp_write_transport(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t  i;

    if (m->bundle_only) {
        parley_sdp_out(out, "a=bundle-only\r\n");
    }

    for (i = 0; i < m->n_candidates; i++) {
        parley_sdp_write_candidate(out, &m->candidates[i]);
    }

    if (m->end_of_candidates) {
        parley_sdp_out(out, "a=end-of-candidates\r\n");
    }

    if (m->ice_ufrag[0] != '\0') {
        parley_sdp_out(out, "a=ice-ufrag:%s\r\n", m->ice_ufrag);
    }

    if (m->ice_pwd[0] != '\0') {
        parley_sdp_out(out, "a=ice-pwd:%s\r\n", m->ice_pwd);
    }

    if (m->ice_trickle) {
        parley_sdp_out(out, "a=ice-options:trickle\r\n");
    }

    parley_sdp_write_fingerprint(out, &m->fingerprint);

    if (m->setup > PARLEY_SDP_SETUP_NONE
        && m->setup <= PARLEY_SDP_SETUP_HOLDCONN)
    {
        parley_sdp_out(out, "a=setup:%s\r\n",
                       parley_sdp_setup_names[m->setup]);
    }
}


static void
parley_sdp_write_candidate(parley_sdp_out_t *out,
    const parley_sdp_candidate_t *c)
{
    parley_sdp_out(out, "a=candidate:%s %u %s %u %s %u typ %s",
                   c->foundation, c->component, c->tcp ? "tcp" : "udp",
                   c->priority, c->address, c->port,
                   parley_sdp_cand_types[c->type & 3]);

    if (c->raddr[0] != '\0') {
        parley_sdp_out(out, " raddr %s rport %u", c->raddr, c->rport);
    }

    if (c->tcptype > PARLEY_SDP_TCP_NONE && c->tcptype <= PARLEY_SDP_TCP_SO) {
        parley_sdp_out(out, " tcptype %s", parley_sdp_tcptypes[c->tcptype]);
    }

    parley_sdp_out(out, "\r\n");
}


static void
parley_sdp_write_fingerprint(parley_sdp_out_t *out,
    const parley_sdp_fingerprint_t *fp)
{
    char    hex[PARLEY_SDP_MAX_FP_BYTES * 3];
    size_t  i;

    if (fp->hash <= PARLEY_SDP_HASH_NONE || fp->hash > PARLEY_SDP_HASH_SHA512
        || fp->len == 0 || fp->len > PARLEY_SDP_MAX_FP_BYTES)
    {
        return;
    }

    for (i = 0; i < fp->len; i++) {
        hex[i * 3] = "0123456789ABCDEF"[fp->bytes[i] >> 4];
        hex[i * 3 + 1] = "0123456789ABCDEF"[fp->bytes[i] & 0x0f];
        hex[i * 3 + 2] = ':';
    }

    hex[fp->len * 3 - 1] = '\0';

    parley_sdp_out(out, "a=fingerprint:%s %s\r\n",
                   parley_sdp_hash_names[fp->hash], hex);
}


static void
parley_sdp_write_rtp(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t                    i;
    const parley_sdp_extmap_t  *e;

    for (i = 0; i < m->n_extmaps; i++) {
        e = &m->extmaps[i];

        if (e->dir != PARLEY_SDP_DIR_NONE) {
            parley_sdp_out(out, "a=extmap:%u/%s %s\r\n", e->id,
                           parley_sdp_dir_str(e->dir), e->uri);

        } else {
            parley_sdp_out(out, "a=extmap:%u %s\r\n", e->id, e->uri);
        }
    }

    if (m->dir != PARLEY_SDP_DIR_NONE) {
        parley_sdp_out(out, "a=%s\r\n", parley_sdp_dir_str(m->dir));
    }

    if (m->msid_stream[0] != '\0') {
        parley_sdp_out(out, "a=msid:%s%s%s\r\n", m->msid_stream,
                       m->msid_track[0] ? " " : "", m->msid_track);
    }

    if (m->rtcp_mux) {
        parley_sdp_out(out, "a=rtcp-mux\r\n");
    }

    if (m->rtcp_mux_only) {
        parley_sdp_out(out, "a=rtcp-mux-only\r\n");
    }

    if (m->rtcp_rsize) {
        parley_sdp_out(out, "a=rtcp-rsize\r\n");
    }

    for (i = 0; i < m->n_codecs; i++) {
        parley_sdp_write_codec(out, &m->codecs[i]);
    }

    parley_sdp_write_simulcast(out, m);
    parley_sdp_write_ssrcs(out, m);
}


static void
parley_sdp_write_codec(parley_sdp_out_t *out, const parley_sdp_codec_t *c)
{
    size_t  i;

    static const struct {
        uint32_t     kind;
        const char  *text;
    } fb[] = {
        { PARLEY_SDP_FB_GOOG_REMB, "goog-remb" },
        { PARLEY_SDP_FB_TRANSPORT_CC, "transport-cc" },
        { PARLEY_SDP_FB_CCM_FIR, "ccm fir" },
        { PARLEY_SDP_FB_NACK, "nack" },
        { PARLEY_SDP_FB_NACK_PLI, "nack pli" }
    };

    if (c->name[0] != '\0') {
        parley_sdp_out(out, "a=rtpmap:%u %s/%u", c->pt, c->name,
                       c->clock_rate);

        if (c->channels != 0) {
            parley_sdp_out(out, "/%u", c->channels);
        }

        parley_sdp_out(out, "\r\n");
    }

    for (i = 0; i < sizeof(fb) / sizeof(fb[0]); i++) {
        if (c->fb & fb[i].kind) {
            parley_sdp_out(out, "a=rtcp-fb:%u %s\r\n", c->pt, fb[i].text);
        }
    }

    if (c->fmtp[0] != '\0') {
        parley_sdp_out(out, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
    }
}


static void
parley_sdp_write_simulcast(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t  i;

    for (i = 0; i < m->n_rids; i++) {
        parley_sdp_out(out, "a=rid:%s %s\r\n", m->rids[i].id,
                       m->rids[i].dir == PARLEY_SDP_DIR_SENDONLY
                       ? "send" : "recv");
    }

    if (m->sim_send.n == 0 && m->sim_recv.n == 0) {
        return;
    }

    parley_sdp_out(out, "a=simulcast:");

    if (m->sim_send.n != 0) {
        parley_sdp_out(out, "send ");
        parley_sdp_write_sim_list(out, &m->sim_send);
    }

    if (m->sim_recv.n != 0) {
        parley_sdp_out(out, "%srecv ", m->sim_send.n ? " " : "");
        parley_sdp_write_sim_list(out, &m->sim_recv);
    }

    parley_sdp_out(out, "\r\n");
}


static void
parley_sdp_write_sim_list(parley_sdp_out_t *out,
    const parley_sdp_simulcast_t *sim)
{
    uint32_t  i;

    for (i = 0; i < sim->n; i++) {
        parley_sdp_out(out, "%s%s%s", i ? ";" : "",
                       sim->streams[i].paused ? "~" : "",
                       sim->streams[i].rid);
    }
}


static void
parley_sdp_write_ssrcs(parley_sdp_out_t *out, const parley_sdp_media_t *m)
{
    uint32_t                        i, j;
    const parley_sdp_ssrc_t        *s;
    const parley_sdp_ssrc_group_t  *g;

    for (i = 0; i < m->n_ssrc_groups; i++) {
        g = &m->ssrc_groups[i];
        parley_sdp_out(out, "a=ssrc-group:%s",
                       g->semantics == PARLEY_SDP_SSRC_FID ? "FID" : "SIM");

        for (j = 0; j < g->n; j++) {
            parley_sdp_out(out, " %u", g->ssrcs[j]);
        }

        parley_sdp_out(out, "\r\n");
    }

    for (i = 0; i < m->n_ssrcs; i++) {
        s = &m->ssrcs[i];

        if (s->cname[0] != '\0') {
            parley_sdp_out(out, "a=ssrc:%u cname:%s\r\n", s->ssrc, s->cname);
        }

        if (s->msid_stream[0] != '\0') {
            parley_sdp_out(out, "a=ssrc:%u msid:%s%s%s\r\n", s->ssrc,
                           s->msid_stream, s->msid_track[0] ? " " : "",
                           s->msid_track);
        }
    }
}


/* lookups */

const parley_sdp_codec_t *
parley_sdp_find_codec(const parley_sdp_media_t *m, uint8_t pt)
{
    uint32_t  i;

    for (i = 0; i < m->n_codecs; i++) {
        if (m->codecs[i].pt == pt) {
            return &m->codecs[i];
        }
    }

    return NULL;
}


uint16_t
parley_sdp_extmap_id(const parley_sdp_media_t *m, const char *uri)
{
    uint32_t  i;

    for (i = 0; i < m->n_extmaps; i++) {
        if (strcmp(m->extmaps[i].uri, uri) == 0) {
            return m->extmaps[i].id;
        }
    }

    return 0;
}


const parley_sdp_media_t *
parley_sdp_find_mid(const parley_sdp_t *sdp, const char *mid)
{
    uint32_t  i;

    if (mid[0] == '\0') {
        return NULL;
    }

    for (i = 0; i < sdp->n_media; i++) {
        if (strcmp(sdp->media[i].mid, mid) == 0) {
            return &sdp->media[i];
        }
    }

    return NULL;
}


const char *
parley_sdp_rc_str(parley_sdp_rc_t rc)
{
    switch (rc) {

    case PARLEY_SDP_OK:
        return "ok";
    case PARLEY_SDP_ERR_INVAL:
        return "invalid argument";
    case PARLEY_SDP_ERR_TOO_BIG:
        return "SDP too big";
    case PARLEY_SDP_ERR_SYNTAX:
        return "SDP syntax error";
    case PARLEY_SDP_ERR_VALUE:
        return "bad SDP value";
    case PARLEY_SDP_ERR_MISSING:
        return "SDP line or value missing";
    case PARLEY_SDP_ERR_LIMIT:
        return "too many SDP items";
    case PARLEY_SDP_ERR_OVERLONG:
        return "SDP string too long";
    case PARLEY_SDP_ERR_NOSPACE:
        return "SDP output buffer too small";
    }

    return "unknown error";
}


const char *
parley_sdp_dir_str(parley_sdp_dir_t dir)
{
    switch (dir) {

    case PARLEY_SDP_DIR_SENDRECV:
        return "sendrecv";
    case PARLEY_SDP_DIR_SENDONLY:
        return "sendonly";
    case PARLEY_SDP_DIR_RECVONLY:
        return "recvonly";
    case PARLEY_SDP_DIR_INACTIVE:
        return "inactive";
    default:
        return "";
    }
}
