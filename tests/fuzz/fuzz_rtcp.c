/*
 * libFuzzer target: RTCP. The datagram is validated and walked as a
 * compound packet, and every packet goes through every parser (the wrong
 * ones must refuse it cleanly). Where a parser accepts, the matching
 * builder rebuilds the packet and the parser must read back what it read
 * the first time: NACK lists, TWCC feedback, REMB, reports, SDES and BYE.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley_rtcp.h"


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)

#define MAX_NACK     (PARLEY_RTCP_NACK_PER_ENTRY * 65536)
#define MAX_TWCC     65536

/*
 * Rebuilding may take up to twice the bytes (a NACK entry whose PID joined
 * the previous one's BLP may need a second entry): past this size the
 * builders may rightly refuse, and the round trips are not checked.
 */
#define MAX_REBUILT  65536


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static uint8_t                     out[300000];
static uint16_t                    nack1[MAX_NACK], nack2[MAX_NACK];
static uint8_t                     seen1[65536 / 8], seen2[65536 / 8];
static parley_rtcp_twcc_packet_t   twcc1[MAX_TWCC], twcc2[MAX_TWCC];
static parley_rtcp_twcc_arrival_t  arrivals[MAX_TWCC];


/* the one packet a builder wrote at the start of "out" */
static void
reparse(const parley_rtcp_writer_t *w, parley_rtcp_packet_t *pkt)
{
    parley_rtcp_iter_t  it;

    parley_rtcp_iter_init(&it, w->buf, w->len);
    CHECK(parley_rtcp_next(&it, pkt) == PARLEY_RTP_OK);
    CHECK(parley_rtcp_next(&it, pkt) == PARLEY_RTP_DONE);
    parley_rtcp_iter_init(&it, w->buf, w->len);
    CHECK(parley_rtcp_next(&it, pkt) == PARLEY_RTP_OK);
}


static void
mark(uint8_t *seen, const uint16_t *seqs, size_t n)
{
    size_t  i;

    memset(seen, 0, 65536 / 8);
    for (i = 0; i < n; i++) {
        seen[seqs[i] >> 3] |= (uint8_t) (1u << (seqs[i] & 7));
    }
}


static void
fuzz_nack(const parley_rtcp_packet_t *pkt)
{
    size_t                n, n2;
    parley_rtcp_fb_t      fb, fb2;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  p2;

    if (parley_rtcp_parse_nack(pkt, &fb, nack1, MAX_NACK, &n)
        != PARLEY_RTP_OK)
    {
        return;
    }

    /* packed again, the same set of sequence numbers */
    parley_rtcp_writer_init(&w, out, sizeof(out));
    CHECK(parley_rtcp_build_nack(&w, fb.sender_ssrc, fb.media_ssrc, nack1, n)
          == PARLEY_RTP_OK);
    reparse(&w, &p2);
    CHECK(parley_rtcp_parse_nack(&p2, &fb2, nack2, MAX_NACK, &n2)
          == PARLEY_RTP_OK);
    CHECK(fb2.sender_ssrc == fb.sender_ssrc);
    CHECK(n2 <= n);

    mark(seen1, nack1, n);
    mark(seen2, nack2, n2);
    CHECK(memcmp(seen1, seen2, sizeof(seen1)) == 0);
}


/* The received packets of a feedback, if the builder can take them. */
static int
twcc_arrivals(const parley_rtcp_twcc_t *tw, size_t *n)
{
    size_t  i;

    *n = 0;

    for (i = 0; i < tw->packet_count; i++) {
        if (twcc1[i].status == PARLEY_RTCP_TWCC_NOT_RECEIVED) {
            continue;
        }

        if (twcc1[i].arrival_us < 0
            || (*n > 0 && (uint16_t) (twcc1[i].seq - arrivals[*n - 1].seq)
                          >= 0x8000))
        {
            return 0;
        }

        arrivals[*n].seq = twcc1[i].seq;
        arrivals[*n].arrival_us = twcc1[i].arrival_us;
        (*n)++;
    }

    return *n > 0;
}


static void
fuzz_twcc(const parley_rtcp_packet_t *pkt)
{
    int                   wrapped;
    size_t                i, k, n;
    int64_t               first;
    parley_rtcp_twcc_t    tw, tw2;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  p2;

    if (parley_rtcp_parse_twcc(pkt, &tw, twcc1, MAX_TWCC) != PARLEY_RTP_OK) {
        return;
    }

    CHECK(tw.packet_count == tw.status_count);

    if (!twcc_arrivals(&tw, &n)) {
        return;
    }

    /* rebuilt from its arrivals */
    parley_rtcp_writer_init(&w, out, sizeof(out));
    CHECK(parley_rtcp_build_twcc(&w, tw.sender_ssrc, tw.media_ssrc,
                                 tw.fb_count, arrivals, n)
          == PARLEY_RTP_OK);
    reparse(&w, &p2);
    CHECK(parley_rtcp_parse_twcc(&p2, &tw2, twcc2, MAX_TWCC)
          == PARLEY_RTP_OK);
    CHECK(tw2.base_seq == arrivals[0].seq);
    CHECK(tw2.fb_count == tw.fb_count);

    /*
     * The same arrivals, to the microsecond; if the first one lies past
     * 2^24 reference times, the reference wrapped: the same differences.
     */
    wrapped = arrivals[0].arrival_us / PARLEY_RTCP_TWCC_REF_US > 0xffffff;
    first = 0;
    k = 0;

    for (i = 0; i < tw2.packet_count; i++) {
        if (twcc2[i].status == PARLEY_RTCP_TWCC_NOT_RECEIVED) {
            continue;
        }
        if (k == 0) {
            first = twcc2[i].arrival_us;
        }
        CHECK(k < n);
        CHECK(twcc2[i].seq == arrivals[k].seq);
        CHECK(wrapped || twcc2[i].arrival_us == arrivals[k].arrival_us);
        CHECK(twcc2[i].arrival_us - first
              == arrivals[k].arrival_us - arrivals[0].arrival_us);
        k++;
    }
    CHECK(k == n);
}


static void
fuzz_remb(const parley_rtcp_packet_t *pkt)
{
    parley_rtcp_remb_t    remb, remb2;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  p2;

    if (parley_rtcp_parse_remb(pkt, &remb) != PARLEY_RTP_OK) {
        return;
    }

    parley_rtcp_writer_init(&w, out, sizeof(out));
    CHECK(parley_rtcp_build_remb(&w, remb.sender_ssrc, remb.bitrate,
                                 remb.ssrcs, remb.ssrc_count)
          == PARLEY_RTP_OK);
    reparse(&w, &p2);
    CHECK(parley_rtcp_parse_remb(&p2, &remb2) == PARLEY_RTP_OK);
    CHECK(remb2.ssrc_count == remb.ssrc_count);
    CHECK(memcmp(remb2.ssrcs, remb.ssrcs, 4 * remb.ssrc_count) == 0);

    /* exact, unless the wire value overflowed 64 bits and saturated */
    CHECK(remb.bitrate == UINT64_MAX || remb2.bitrate == remb.bitrate);
}


static void
fuzz_reports(const parley_rtcp_packet_t *pkt)
{
    size_t                i;
    parley_rtcp_sr_t      sr, sr2;
    parley_rtcp_rr_t      rr, rr2;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  p2;

    parley_rtcp_writer_init(&w, out, sizeof(out));

    if (parley_rtcp_parse_sr(pkt, &sr) == PARLEY_RTP_OK) {
        CHECK(parley_rtcp_build_sr(&w, &sr) == PARLEY_RTP_OK);
        reparse(&w, &p2);
        CHECK(parley_rtcp_parse_sr(&p2, &sr2) == PARLEY_RTP_OK);
        CHECK(sr2.ntp_frac == sr.ntp_frac && sr2.block_count == sr.block_count);
        for (i = 0; i < sr.block_count; i++) {
            CHECK(sr2.blocks[i].cumulative_lost
                  == sr.blocks[i].cumulative_lost);
            CHECK(sr2.blocks[i].dlsr == sr.blocks[i].dlsr);
        }
    }

    if (parley_rtcp_parse_rr(pkt, &rr) == PARLEY_RTP_OK) {
        CHECK(parley_rtcp_build_rr(&w, &rr) == PARLEY_RTP_OK);
        reparse(&w, &p2);
        CHECK(parley_rtcp_parse_rr(&p2, &rr2) == PARLEY_RTP_OK);
        CHECK(rr2.block_count == rr.block_count);
        for (i = 0; i < rr.block_count; i++) {
            CHECK(rr2.blocks[i].cumulative_lost
                  == rr.blocks[i].cumulative_lost);
            CHECK(rr2.blocks[i].fraction_lost == rr.blocks[i].fraction_lost);
        }
    }
}


static void
fuzz_sdes_bye(const parley_rtcp_packet_t *pkt)
{
    parley_rtcp_bye_t     bye, bye2;
    parley_rtcp_sdes_t    sdes, sdes2;
    parley_rtcp_writer_t  w;
    parley_rtcp_packet_t  p2;

    parley_rtcp_writer_init(&w, out, sizeof(out));

    if (parley_rtcp_parse_sdes(pkt, &sdes) == PARLEY_RTP_OK
        && sdes.chunk_count > 0 && sdes.chunks[0].cname_len > 0)
    {
        CHECK(parley_rtcp_build_sdes_cname(&w, sdes.chunks[0].ssrc,
                                           sdes.chunks[0].cname,
                                           sdes.chunks[0].cname_len)
              == PARLEY_RTP_OK);
        reparse(&w, &p2);
        CHECK(parley_rtcp_parse_sdes(&p2, &sdes2) == PARLEY_RTP_OK);
        CHECK(sdes2.chunks[0].cname_len == sdes.chunks[0].cname_len);
        CHECK(memcmp(sdes2.chunks[0].cname, sdes.chunks[0].cname,
                     sdes.chunks[0].cname_len) == 0);
    }

    if (parley_rtcp_parse_bye(pkt, &bye) == PARLEY_RTP_OK) {
        parley_rtcp_writer_init(&w, out, sizeof(out));
        CHECK(parley_rtcp_build_bye(&w, bye.ssrcs, bye.ssrc_count, bye.reason,
                                    bye.reason_len)
              == PARLEY_RTP_OK);
        reparse(&w, &p2);
        CHECK(parley_rtcp_parse_bye(&p2, &bye2) == PARLEY_RTP_OK);
        CHECK(bye2.ssrc_count == bye.ssrc_count);
        CHECK(bye2.reason_len == bye.reason_len);
    }
}


static void
fuzz_packet(const uint8_t *data, size_t size, const parley_rtcp_packet_t *pkt)
{
    size_t                   n;
    parley_rtcp_fb_t         fb;
    parley_rtcp_fir_entry_t  fir[64];

    CHECK(pkt->data >= data && pkt->data + pkt->len <= data + size);
    CHECK(pkt->body_len + PARLEY_RTCP_HEADER_LEN <= pkt->len);

    (void) parley_rtcp_parse_fb(pkt, &fb);
    (void) parley_rtcp_parse_pli(pkt, &fb);
    (void) parley_rtcp_parse_fir(pkt, &fb, fir, 64, &n);

    if (pkt->len > MAX_REBUILT) {
        return;
    }

    fuzz_reports(pkt);
    fuzz_sdes_bye(pkt);
    fuzz_nack(pkt);
    fuzz_twcc(pkt);
    fuzz_remb(pkt);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parley_rtp_rc_t       rc, valid;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    valid = parley_rtcp_validate(data, size);

    parley_rtcp_iter_init(&it, data, size);

    while ((rc = parley_rtcp_next(&it, &pkt)) == PARLEY_RTP_OK) {
        fuzz_packet(data, size, &pkt);
    }

    /* the walk and the validation agree on how the compound ends */
    CHECK(rc == PARLEY_RTP_DONE ? valid == PARLEY_RTP_OK : valid == rc);

    return 0;
}
