/*
 * The SDP parser (parley_sdp_parse(), see parley_sdp.h). It walks the text
 * line by line over (buf, len), never past len and never needing a NUL.
 * Each line is <type>=<value> (RFC 8866 5); "a=" lines go to the handlers
 * of parley_sdp_attr.c. Values given at session level (ICE credentials,
 * fingerprint, setup, direction) are kept aside and copied into every m=
 * section that does not give its own, so a user of the result only ever
 * looks at sections.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parley_sdp_int.h"


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
static parley_sdp_rc_t parley_sdp_finish(parley_sdp_parser_t *ps);
static parley_sdp_rc_t parley_sdp_finish_media(parley_sdp_parser_t *ps,
    parley_sdp_media_t *m, uint32_t index);
static void parley_sdp_link_rtx(parley_sdp_media_t *m);
static int parley_sdp_has_rid(const parley_sdp_media_t *m, const char *id,
    parley_sdp_dir_t dir);


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
