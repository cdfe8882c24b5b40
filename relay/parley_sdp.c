/*
 * SDP for the SFU: see parley_sdp.h. The work is in four files, along the
 * seams of what it does:
 *
 *   parley_sdp_parse.c   the parser: lines, sessions, sections, and the
 *                        checks across lines after the last one;
 *   parley_sdp_attr.c    the a= attributes the SFU uses, each with its own
 *                        small handler;
 *   parley_sdp_build.c   the SFU's answer to an offer, and its own offer;
 *   parley_sdp_write.c   any parley_sdp_t as text.
 *
 * This file holds what they share (errors, small string helpers, the
 * names of enumerated values) and the lookups of parley_sdp.h;
 * parley_sdp_int.h declares the shared parts.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parley_sdp_int.h"


static parley_sdp_rc_t parley_sdp_verror(parley_sdp_error_t *err,
    uint32_t line, parley_sdp_rc_t rc, const char *fmt, va_list ap);
static int parley_sdp_ice_char(char c);


const char  *parley_sdp_hash_names[] = {
    "", "sha-1", "sha-224", "sha-256", "sha-384", "sha-512"
};

const uint8_t  parley_sdp_hash_lens[] = { 0, 20, 28, 32, 48, 64 };

const char  *parley_sdp_setup_names[] = {
    "", "actpass", "active", "passive", "holdconn"
};

const char  *parley_sdp_cand_types[] = {
    "host", "srflx", "prflx", "relay"
};

const char  *parley_sdp_tcptypes[] = {
    "", "active", "passive", "so"
};

const char  *parley_sdp_kind_names[] = {
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


parley_sdp_rc_t
parley_sdp_error(parley_sdp_error_t *err, uint32_t line, parley_sdp_rc_t rc,
    const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    rc = parley_sdp_verror(err, line, rc, fmt, ap);
    va_end(ap);

    return rc;
}


parley_sdp_rc_t
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
parley_sdp_rc_t
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
int
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
int
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


parley_sdp_str_t
parley_sdp_skip_spaces(parley_sdp_str_t s)
{
    while (s.len > 0 && (s.data[0] == ' ' || s.data[0] == '\t')) {
        s.data++;
        s.len--;
    }

    return s;
}


/* A decimal number of at most "max": digits only, no sign, no overflow. */
int
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


int
parley_sdp_eq(parley_sdp_str_t s, const char *cstr)
{
    return s.len == strlen(cstr) && memcmp(s.data, cstr, s.len) == 0;
}


/* ASCII case-insensitive equality of two strings */
int
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


int
parley_sdp_caseeq(parley_sdp_str_t s, const char *lit)
{
    parley_sdp_str_t  l;

    l.data = lit;
    l.len = strlen(lit);

    return parley_sdp_caseeq_str(s, l);
}


/* RFC 8866 9: token-char is visible ASCII but for "\"(),/:;<=>?@[\\]" */
int
parley_sdp_token_char(char c)
{
    return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]", c) == NULL;
}


/* an IP literal or a host name (RFC 8839 5.1 connection-address) */
int
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


int
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


int
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
int
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


parley_sdp_rc_t
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


parley_sdp_rc_t
parley_sdp_store_token(parley_sdp_parser_t *ps, char *dst, size_t size,
    parley_sdp_str_t s, const char *what)
{
    if (!parley_sdp_is_token(s)) {
        return parley_sdp_bad(ps, PARLEY_SDP_ERR_VALUE, "%s: bad token",
                              what);
    }

    return parley_sdp_store(ps, dst, size, s, what);
}


parley_sdp_rc_t
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
void
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


int
parley_sdp_is_rtp(const parley_sdp_media_t *m)
{
    return strstr(m->proto, "RTP/") != NULL;
}


parley_sdp_codec_t *
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
