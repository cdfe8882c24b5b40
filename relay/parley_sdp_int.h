/*
 * What the files of the SDP layer share (parley_sdp.c describes them):
 * the parser's state, the attribute table's types, the writer's buffer,
 * the small helpers of parley_sdp.c and the functions one file calls in
 * another. Not for users of the layer: they include parley_sdp.h.
 */

#ifndef _PARLEY_SDP_INT_H_INCLUDED_
#define _PARLEY_SDP_INT_H_INCLUDED_


#include <stdarg.h>

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


extern const char  *parley_sdp_hash_names[];
extern const uint8_t parley_sdp_hash_lens[];
extern const char  *parley_sdp_setup_names[];
extern const char  *parley_sdp_cand_types[];
extern const char  *parley_sdp_tcptypes[];
extern const char  *parley_sdp_kind_names[];


/* parley_sdp.c */
parley_sdp_rc_t parley_sdp_error(parley_sdp_error_t *err,
    uint32_t line, parley_sdp_rc_t rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
parley_sdp_rc_t parley_sdp_bad(parley_sdp_parser_t *ps,
    parley_sdp_rc_t rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
parley_sdp_rc_t parley_sdp_skip(parley_sdp_parser_t *ps,
    const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int parley_sdp_next(parley_sdp_str_t *rest, parley_sdp_str_t *tok);
int parley_sdp_split(parley_sdp_str_t *rest, char sep,
    parley_sdp_str_t *tok);
parley_sdp_str_t parley_sdp_skip_spaces(parley_sdp_str_t s);
int parley_sdp_number(parley_sdp_str_t s, uint64_t max,
    uint64_t *value);
int parley_sdp_eq(parley_sdp_str_t s, const char *cstr);
int parley_sdp_caseeq_str(parley_sdp_str_t a, parley_sdp_str_t b);
int parley_sdp_caseeq(parley_sdp_str_t s, const char *lit);
int parley_sdp_token_char(char c);
int parley_sdp_is_addr(parley_sdp_str_t s);
int parley_sdp_is_token(parley_sdp_str_t s);
int parley_sdp_is_ice_chars(parley_sdp_str_t s);
int parley_sdp_is_rid(parley_sdp_str_t s);
parley_sdp_rc_t parley_sdp_store(parley_sdp_parser_t *ps, char *dst,
    size_t size, parley_sdp_str_t s, const char *what);
parley_sdp_rc_t parley_sdp_store_token(parley_sdp_parser_t *ps,
    char *dst, size_t size, parley_sdp_str_t s, const char *what);
parley_sdp_rc_t parley_sdp_store_addr(parley_sdp_parser_t *ps,
    char *dst, parley_sdp_str_t s, const char *what);
void parley_sdp_copy(char *dst, size_t size, const char *src);
int parley_sdp_is_rtp(const parley_sdp_media_t *m);
parley_sdp_codec_t *parley_sdp_codec(parley_sdp_media_t *m,
    uint8_t pt);


/* parley_sdp_attr.c */
parley_sdp_rc_t parley_sdp_attribute(parley_sdp_parser_t *ps,
    parley_sdp_str_t val);


/* parley_sdp_build.c */
int parley_sdp_counts_ok(const parley_sdp_t *sdp);


#endif /* _PARLEY_SDP_INT_H_INCLUDED_ */
