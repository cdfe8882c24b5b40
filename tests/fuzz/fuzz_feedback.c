/*
 * libFuzzer target: the RTCP feedback engines driven by a script of
 * network events. The input is a sequence of records, each starting with
 * an operation byte:
 *
 *   0  an RTP packet arrives: seq (2), SSRC choice (1), transport-wide
 *      seq (2), time step in us (2)
 *   1  an RTCP datagram arrives: length (1), bytes; to the publisher's
 *      and to the leg's engine
 *   2  every engine builds what it would send now
 *   3  a long time step: seconds (1)
 *   4  the ring's writer publishes a packet: layer (1), seq (2)
 *   5  a NACK'd number is looked up in the ring: layer (1), seq (2)
 *   6  the reader's index forgets its entries, so lookups must guess
 *
 * Checked: no engine reads or writes out of bounds (ASan), every built
 * compound is valid RTCP and its TWCC and NACK packets parse, the loss
 * list stays bounded, and a packet found in the ring is the one asked
 * for.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley_nack.h"
#include "parley_retransmit.h"
#include "parley_rtcp_recv.h"
#include "parley_rtcp_send.h"
#include "parley_twcc.h"


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)

#define SLOTS      64
#define SLOT_SIZE  64


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static parley_twcc_t              twcc;
static parley_nack_t              nack;
static parley_rtcp_recv_t         rr;
static parley_rtcp_send_t         leg;
static parley_retransmit_seq_t    wseq;
static parley_retransmit_index_t  idx;
static parley_ring_t             *ring;
static uint8_t                    region[65536]
                                  __attribute__((aligned(PARLEY_RING_ALIGN)));
static uint8_t                    out[1500];
static uint16_t                   seqs[4096];
static parley_rtcp_twcc_packet_t  twcc_pkts[65536];


static void
setup(void)
{
    size_t  sz;

    parley_twcc_init(&twcc, 1, 0);
    parley_nack_init(&nack, NULL);
    CHECK(parley_rtcp_recv_init(&rr, 1, (const uint8_t *) "sfu", 3, 0)
          == PARLEY_RTP_OK);
    CHECK(parley_rtcp_recv_enable_remb(&rr, 300000, 30000, 3000000)
          == PARLEY_RTP_OK);
    CHECK(parley_rtcp_send_init(&leg, 0x01020304, 90000,
                                (const uint8_t *) "sfu", 3, 0)
          == PARLEY_RTP_OK);

    parley_retransmit_seq_init(&wseq);
    parley_retransmit_index_init(&idx);

    sz = parley_ring_size(SLOTS, SLOT_SIZE);
    CHECK(sz != 0 && sz <= sizeof(region));
    CHECK(parley_ring_init(region, sz, SLOTS, SLOT_SIZE) == PARLEY_OK);
    CHECK(parley_ring_attach(region, sz, &ring) == PARLEY_OK);
}


/* every packet of what an engine built must parse */
static void
check_built(const uint8_t *buf, size_t len)
{
    size_t                n;
    parley_rtcp_fb_t      fb;
    parley_rtcp_twcc_t    t;
    parley_rtcp_iter_t    it;
    parley_rtcp_packet_t  pkt;

    if (len == 0) {
        return;
    }

    CHECK(parley_rtcp_validate(buf, len) == PARLEY_RTP_OK);
    parley_rtcp_iter_init(&it, buf, len);

    while (parley_rtcp_next(&it, &pkt) == PARLEY_RTP_OK) {
        if (pkt.type != PARLEY_RTCP_RTPFB) {
            continue;
        }

        if (pkt.count == PARLEY_RTCP_FMT_TWCC) {
            CHECK(parley_rtcp_parse_twcc(&pkt, &t, twcc_pkts, 65536)
                  == PARLEY_RTP_OK);
            CHECK(t.packet_count >= 1);

        } else {
            CHECK(parley_rtcp_parse_nack(&pkt, &fb, seqs, 4096, &n)
                  == PARLEY_RTP_OK);
            CHECK(n >= 1 && n <= PARLEY_NACK_MAX_PER_BUILD);
        }
    }
}


static void
build_all(uint64_t now)
{
    parley_rtcp_writer_t  w;

    parley_rtcp_writer_init(&w, out, sizeof(out));
    (void) parley_twcc_build(&twcc, &w, now);
    check_built(out, w.len);

    parley_rtcp_writer_init(&w, out, sizeof(out));
    (void) parley_nack_build(&nack, &w, 1, 2, now, 0);
    check_built(out, w.len);
    (void) parley_nack_keyframe_wanted(&nack);

    parley_rtcp_writer_init(&w, out, sizeof(out));
    (void) parley_rtcp_recv_build(&rr, &w, now, (uint32_t) now * 2654435761u);
    check_built(out, w.len);

    parley_rtcp_writer_init(&w, out, sizeof(out));
    (void) parley_rtcp_send_build(&leg, &w, now, now << 12, 12345);
    check_built(out, w.len);

    CHECK(parley_nack_missing(&nack) <= PARLEY_NACK_MAX_MISSING);
}


static void
on_rtp(const uint8_t *p, uint64_t now)
{
    parley_rtp_header_t    h;
    parley_rtcp_sr_info_t  sr;

    memset(&h, 0, sizeof(h));
    h.seq = (uint16_t) ((p[0] << 8) | p[1]);
    h.ssrc = 0x1000 + p[2] % 10;
    h.ts = (uint32_t) (now * 90 / 1000);

    (void) parley_twcc_on_packet(&twcc, h.ssrc,
                                 (uint16_t) ((p[3] << 8) | p[4]), now);
    (void) parley_nack_on_packet(&nack, h.seq, now);
    (void) parley_rtcp_recv_on_rtp(&rr, &h, 100 + p[2], 90000, now);
    parley_rtcp_send_on_rtp(&leg, h.ts, 100, now);

    if (parley_rtcp_recv_last_sr(&rr, h.ssrc, &sr)) {
        parley_rtcp_send_set_source(&leg, &sr, p[2]);
    }
}


static void
publish(uint32_t layer, uint16_t seq)
{
    uint8_t   pkt[16];
    uint64_t  ext, r;

    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x80;
    pkt[2] = (uint8_t) (seq >> 8);
    pkt[3] = (uint8_t) seq;
    pkt[12] = (uint8_t) layer;

    ext = parley_retransmit_extend(&wseq, layer, seq);
    if (ext == UINT64_MAX) {
        return;
    }

    r = parley_ring_head(ring);
    CHECK(parley_ring_publish(ring, pkt, sizeof(pkt),
                              parley_retransmit_meta(ext, layer, 0))
          == PARLEY_OK);
    parley_retransmit_index_note(&idx, r, parley_retransmit_meta(ext, layer,
                                                                 0));
}


static void
lookup(uint32_t layer, uint16_t seq)
{
    uint8_t   buf[SLOT_SIZE];
    uint32_t  len;

    if (parley_retransmit_find(ring, &idx, layer, seq, buf, sizeof(buf),
                               &len, NULL)
        != PARLEY_OK)
    {
        return;
    }

    CHECK(len == 16);
    CHECK(((buf[2] << 8) | buf[3]) == seq);
    CHECK(buf[12] == layer);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t    i, n;
    uint64_t  now;

    setup();
    now = 1000000;
    i = 0;

    while (i < size) {

        switch (data[i++] % 7) {

        case 0:
            if (size - i < 7) {
                return 0;
            }
            now += (uint64_t) ((data[i + 5] << 8) | data[i + 6]);
            on_rtp(data + i, now);
            i += 7;
            break;

        case 1:
            if (i >= size) {
                return 0;
            }
            n = data[i++];
            if (n > size - i) {
                n = size - i;
            }
            (void) parley_rtcp_recv_on_rtcp(&rr, data + i, n, now);
            (void) parley_rtcp_send_on_rtcp(&leg, data + i, n, now);
            i += n;
            break;

        case 2:
            build_all(now);
            break;

        case 3:
            if (i >= size) {
                return 0;
            }
            now += (uint64_t) data[i++] * 1000000;
            break;

        case 4:
            if (size - i < 3) {
                return 0;
            }
            publish(data[i] % 4, (uint16_t) ((data[i + 1] << 8)
                                             | data[i + 2]));
            i += 3;
            break;

        case 6:
            memset(idx.ring_lo, 0, sizeof(idx.ring_lo));
            break;

        default:
            if (size - i < 3) {
                return 0;
            }
            lookup(data[i] % 4, (uint16_t) ((data[i + 1] << 8)
                                            | data[i + 2]));
            i += 3;
            break;
        }
    }

    build_all(now);

    return 0;
}
