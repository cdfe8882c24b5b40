/*
 * libFuzzer target: the whole receive path of a bundled transport, as a
 * worker runs it on each datagram. The demultiplexer picks the class; RTP
 * goes to the header parser and the extension readers a forwarder uses,
 * RTCP to the compound validation and walk.
 */

#include <stdint.h>
#include <stdlib.h>

#include "parley_demux.h"
#include "parley_rtcp.h"


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fuzz_rtp(const uint8_t *data, size_t size)
{
    size_t                    slen;
    uint16_t                  seq;
    uint32_t                  ast;
    const uint8_t            *s;
    parley_rtp_header_t       h;
    parley_rtp_audio_level_t  al;

    if (parley_rtp_parse(data, size, &h) != PARLEY_RTP_OK) {
        return;
    }

    /* the ids browsers commonly negotiate */
    (void) parley_rtp_ext_string(data, size, &h, 4, &s, &slen);
    (void) parley_rtp_ext_string(data, size, &h, 10, &s, &slen);
    (void) parley_rtp_ext_audio_level(data, size, &h, 1, &al);
    (void) parley_rtp_ext_abs_send_time(data, size, &h, 2, &ast);
    (void) parley_rtp_ext_twcc_seq(data, size, &h, 3, &seq);
}


static void
fuzz_rtcp(const uint8_t *data, size_t size)
{
    parley_rtp_rc_t       rc;
    parley_rtcp_fb_t      fb;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    rc = parley_rtcp_validate(data, size);

    parley_rtcp_iter_init(&it, data, size);

    while (parley_rtcp_next(&it, &pkt) == PARLEY_RTP_OK) {
        (void) parley_rtcp_parse_fb(&pkt, &fb);
    }

    /* the demultiplexer only lets through what could hold one packet */
    CHECK(rc != PARLEY_RTP_ERR_TRUNCATED || size >= 4);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parley_demux_class_t  cls;

    cls = parley_demux_classify(data, size);

    CHECK(parley_demux_class_str(cls) != NULL);
    CHECK(cls == PARLEY_DEMUX_INVALID || cls == PARLEY_DEMUX_UNKNOWN
          || size > 0);

    switch (cls) {

    case PARLEY_DEMUX_RTP:
        CHECK(size >= PARLEY_DEMUX_RTP_MIN && data[0] >= 128);
        fuzz_rtp(data, size);
        break;

    case PARLEY_DEMUX_RTCP:
        CHECK(size >= PARLEY_DEMUX_RTCP_MIN);
        CHECK(data[1] >= 192 && data[1] <= 223);
        fuzz_rtcp(data, size);
        break;

    default:
        CHECK(parley_demux_is_dropped(cls) || cls == PARLEY_DEMUX_STUN
              || cls == PARLEY_DEMUX_DTLS);
        break;
    }

    return 0;
}
