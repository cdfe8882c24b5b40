/*
 * libFuzzer target for relay/parley_srtp.c: arbitrary bytes are
 * unprotected as SRTP or SRTCP by a fresh inbound session, in a heap block
 * of exactly their size; what authenticates must have shrunk by at least a
 * tag, and an SRTP packet that authenticates must come back byte for byte
 * when a fresh outbound session with the same key protects it again.
 *
 * The first input byte chooses: bit 0 the profile (GCM when set), bit 1
 * SRTCP when set. The seed corpus (tests/fuzz/corpus/srtp) holds packets
 * protected with the key below, so that the fuzzer starts from packets
 * that get past authentication.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley_srtp.h"


#define FUZZ_MIN_TAG     10
#define FUZZ_BUF_SIZE    (PARLEY_SRTP_MAX_PACKET + PARLEY_SRTP_TRAILER_ROOM)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const uint8_t  fuzz_key[PARLEY_SRTP_KEY_LEN] = {
    0xf0, 0x0d, 0xfa, 0xce, 0x01, 0x23, 0x45, 0x67,
    0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76
};

static const uint8_t  fuzz_salt[PARLEY_SRTP_MAX_SALT_LEN] = {
    0x5a, 0x17, 0x5a, 0x17, 0x5a, 0x17, 0x5a, 0x17,
    0x5a, 0x17, 0x5a, 0x17, 0x5a, 0x17
};

static uint8_t  fuzz_out[FUZZ_BUF_SIZE];


static void
fuzz_create(parley_srtp_session_t *s, parley_srtp_profile_t profile,
    parley_srtp_direction_t direction)
{
    parley_srtp_master_t  m;

    m.key = fuzz_key;
    m.key_len = sizeof(fuzz_key);
    m.salt = fuzz_salt;
    m.salt_len = parley_srtp_salt_len(profile);

    if (parley_srtp_create(s, profile, direction, &m, 0) != PARLEY_SRTP_OK) {
        abort();
    }
}


/* RFC 3711 3.3: for the first packet of a stream both ends take ROC 0. */
static void
fuzz_protect_again(parley_srtp_profile_t profile, const uint8_t *rtp,
    size_t len, const uint8_t *srtp, size_t srtp_len)
{
    parley_srtp_session_t  tx;

    fuzz_create(&tx, profile, PARLEY_SRTP_OUTBOUND);

    memcpy(fuzz_out, rtp, len);

    if (parley_srtp_protect_rtp(&tx, fuzz_out, &len, sizeof(fuzz_out))
            != PARLEY_SRTP_OK
        || len != srtp_len || memcmp(fuzz_out, srtp, len) != 0)
    {
        abort();
    }

    parley_srtp_destroy(&tx);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     rtcp;
    size_t                  len;
    uint8_t                *pkt;
    parley_srtp_rc_t        rc;
    parley_srtp_profile_t   profile;
    parley_srtp_session_t   rx;

    if (size < 1 || size - 1 > PARLEY_SRTP_MAX_PACKET) {
        return 0;
    }

    if (parley_srtp_init() != PARLEY_SRTP_OK) {
        abort();
    }

    profile = (data[0] & 1) ? PARLEY_SRTP_AEAD_AES_128_GCM
                            : PARLEY_SRTP_AES128_CM_SHA1_80;
    rtcp = (data[0] & 2) != 0;

    len = size - 1;
    pkt = malloc(len ? len : 1);
    if (pkt == NULL) {
        return 0;
    }
    memcpy(pkt, data + 1, len);

    fuzz_create(&rx, profile, PARLEY_SRTP_INBOUND);

    rc = rtcp ? parley_srtp_unprotect_rtcp(&rx, pkt, &len)
              : parley_srtp_unprotect_rtp(&rx, pkt, &len);

    if (rc == PARLEY_SRTP_OK) {
        if (len + FUZZ_MIN_TAG > size - 1) {
            abort();
        }

        if (!rtcp) {
            fuzz_protect_again(profile, pkt, len, data + 1, size - 1);
        }
    }

    parley_srtp_destroy(&rx);
    free(pkt);

    return 0;
}
