/*
 * The a= attributes of SDP the SFU uses (RFC 8866 5.13), each with its own
 * small handler, from a table; the rest are ignored. Called by the parser
 * (parley_sdp_parse.c) for every a= line, at session or section level.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parley_sdp_int.h"


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
static int parley_sdp_hex_digit(char c);
static int parley_sdp_hex_bytes(parley_sdp_str_t s, uint8_t *out,
    size_t max, size_t *n);
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


/* RFC 8866 5.13: a=<name>[:<value>]; unknown names are ignored */
parley_sdp_rc_t
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
