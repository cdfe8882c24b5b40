/*
 * libFuzzer target for relay/parley_dtls.c: a server transport, as the SFU
 * runs one for a browser that took a=setup:active, fed arbitrary datagrams.
 *
 * Input: one byte of modes, then steps. A step is a 16-bit big-endian
 * length and that many bytes, fed as one datagram (fewer if the input ends
 * first); three lengths are not datagrams but calls: 0 is a timeout,
 * 0xfffe a close, 0xffff a 16-byte write.
 *
 * It checks, besides what ASan, UBSan and LSan see, that every datagram the
 * transport sends fits the MTU and that no call leaves an error in
 * OpenSSL's queue for the next peer.
 *
 * The seed corpus (tests/fuzz/corpus/dtls) is what the client sent in the
 * handshakes of tests/unit/test_dtls.c (PARLEY_DTLS_CORPUS=DIR).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>

#include "parley_dtls.h"


/* The first byte. */
#define FUZZ_MODE_FINGERPRINT  0x01    /* expected at creation */
#define FUZZ_MODE_LATE         0x02    /* given after the steps */

#define FUZZ_STEP_TIMEOUT      0x0000
#define FUZZ_STEP_CLOSE        0xfffe
#define FUZZ_STEP_WRITE        0xffff

/* Steps in one input: enough for a handshake and some. */
#define FUZZ_MAX_STEPS         64


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static parley_dtls_identity_t     *fuzz_identity;
static parley_dtls_fingerprint_t   fuzz_fingerprint;


static void
fuzz_init(void)
{
    if (parley_dtls_identity_create(&fuzz_identity, NULL) != PARLEY_DTLS_OK) {
        abort();
    }

    /* no client can have this certificate: any handshake ends in a refusal */
    fuzz_fingerprint.hash = PARLEY_DTLS_HASH_SHA256;
    fuzz_fingerprint.len = 32;
    memset(fuzz_fingerprint.digest, 0xa5, fuzz_fingerprint.len);
}


static void
fuzz_send(void *data, const uint8_t *buf, size_t len)
{
    (void) data;

    if (buf == NULL || len == 0 || len > PARLEY_DTLS_MTU_DEFAULT) {
        abort();
    }
}


static void
fuzz_check_queue(void)
{
    if (ERR_peek_error() != 0) {
        abort();
    }
}


static void
fuzz_step(parley_dtls_t *dtls, const uint8_t *buf, size_t len,
    unsigned step)
{
    static const uint8_t  app[16] = "fuzz application";

    switch (step) {

    case FUZZ_STEP_TIMEOUT:
        (void) parley_dtls_timeout_ms(dtls);
        (void) parley_dtls_handle_timeout(dtls);
        break;

    case FUZZ_STEP_CLOSE:
        (void) parley_dtls_close(dtls);
        break;

    case FUZZ_STEP_WRITE:
        (void) parley_dtls_write(dtls, app, sizeof(app));
        break;

    default:
        (void) parley_dtls_feed(dtls, buf, len);
        break;
    }

    fuzz_check_queue();
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               off, len, n;
    unsigned             step, mode;
    parley_dtls_t       *dtls;
    parley_dtls_conf_t   conf;

    if (fuzz_identity == NULL) {
        fuzz_init();
    }

    if (size == 0) {
        return 0;
    }

    mode = data[0];

    memset(&conf, 0, sizeof(conf));
    conf.role = PARLEY_DTLS_ROLE_SERVER;
    conf.handler.send = fuzz_send;

    if (mode & FUZZ_MODE_FINGERPRINT) {
        conf.fingerprints = &fuzz_fingerprint;
        conf.nfingerprints = 1;
    }

    if (parley_dtls_create(&dtls, fuzz_identity, &conf) != PARLEY_DTLS_OK) {
        abort();
    }

    (void) parley_dtls_start(dtls);

    for (off = 1, n = 0; size - off >= 2 && n < FUZZ_MAX_STEPS; n++) {
        step = (unsigned) data[off] << 8 | data[off + 1];
        off += 2;

        len = 0;

        if (step != FUZZ_STEP_TIMEOUT && step != FUZZ_STEP_CLOSE
            && step != FUZZ_STEP_WRITE)
        {
            len = step < size - off ? step : size - off;
        }

        fuzz_step(dtls, data + off, len, step);
        off += len;
    }

    if (mode & FUZZ_MODE_LATE) {
        (void) parley_dtls_set_fingerprints(dtls, &fuzz_fingerprint, 1);
        fuzz_check_queue();
    }

    if (parley_dtls_state(dtls) == PARLEY_DTLS_CONNECTED) {
        abort();
    }

    parley_dtls_destroy(dtls);

    return 0;
}
