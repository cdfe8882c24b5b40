/*
 * The SFU's answer to an offer (parley_sdp_answer()) and its own offer to
 * a subscriber (parley_sdp_offer()): each fills a parley_sdp_t from the
 * SFU's configuration (and the offer). Every string a builder copies from
 * the configuration is checked first, so what the writer emits cannot hold
 * a line break.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parley_sdp_int.h"


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
int
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
