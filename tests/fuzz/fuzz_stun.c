/*
 * libFuzzer target for relay/parley_stun.c and parley_icelite.c: parse
 * arbitrary bytes, verify them, run the ICE-lite check handler with fixed
 * credentials, and check that whatever it answers is itself a well-formed,
 * verifiable message.
 *
 * Responses go to the judge of answers to our own consent checks too, as
 * the peer hands them over once their transaction id matches: what it
 * takes must verify on its own.
 *
 * The seed corpus (tests/fuzz/corpus/stun) holds the RFC 5769 vectors,
 * and checks and consent answers built with the credentials below, so
 * that the fuzzer starts from messages that get past authentication.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "parley_icelite.h"


#define FUZZ_LOCAL_UFRAG   "lite"
#define FUZZ_LOCAL_PWD     "lite-password-0123456789"
#define FUZZ_REMOTE_UFRAG  "peer"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static parley_stun_key_t  fuzz_key;
static int                fuzz_ready;


static void
fuzz_init(void)
{
    if (parley_stun_key_init(&fuzz_key, FUZZ_LOCAL_PWD,
                             strlen(FUZZ_LOCAL_PWD))
        != PARLEY_STUN_OK)
    {
        abort();
    }

    fuzz_ready = 1;
}


/* An answer must parse, and carry a FINGERPRINT and MI that verify. */
static void
fuzz_check_answer(const uint8_t *out, const parley_icelite_result_t *res,
    const parley_stun_msg_t *req)
{
    parley_stun_msg_t  resp;

    if (res->len == 0 || res->len > PARLEY_STUN_RESPONSE_MAX
        || parley_stun_parse(&resp, out, res->len) != PARLEY_STUN_OK
        || parley_stun_verify_fingerprint(&resp) != PARLEY_STUN_OK
        || memcmp(resp.tid, req->tid, PARLEY_STUN_TID_SIZE) != 0)
    {
        abort();
    }

    if ((resp.attrs & PARLEY_STUN_HAS_INTEGRITY)
        && parley_stun_verify_integrity(&resp, &fuzz_key) != PARLEY_STUN_OK)
    {
        abort();
    }

    /* a success is only ever given to an authenticated request */
    if (res->action == PARLEY_ICELITE_SUCCESS
        && (parley_stun_verify_integrity(req, &fuzz_key) != PARLEY_STUN_OK
            || (resp.attrs & PARLEY_STUN_HAS_INTEGRITY) == 0))
    {
        abort();
    }
}


/* An answer to our own check is taken only if it verifies on its own. */
static void
fuzz_check_response(const parley_stun_msg_t *msg)
{
    parley_icelite_response_t  r;

    r = parley_icelite_check_response(msg, &fuzz_key);

    if ((size_t) r >= PARLEY_ICELITE_NRESPONSES) {
        abort();
    }

    if (r != PARLEY_ICELITE_RESPONSE_SUCCESS
        && r != PARLEY_ICELITE_RESPONSE_ERROR)
    {
        return;
    }

    if (msg->method != PARLEY_STUN_BINDING
        || parley_stun_verify_fingerprint(msg) != PARLEY_STUN_OK
        || parley_stun_verify_integrity(msg, &fuzz_key) != PARLEY_STUN_OK
        || (r == PARLEY_ICELITE_RESPONSE_SUCCESS)
           != (msg->class == PARLEY_STUN_SUCCESS))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t                   out[PARLEY_STUN_RESPONSE_MAX];
    parley_icelite_t         ice;
    parley_stun_msg_t         msg;
    parley_stun_addr_t        source;
    parley_icelite_result_t  res;

    if (!fuzz_ready) {
        fuzz_init();
    }

    if (parley_stun_parse(&msg, data, size) != PARLEY_STUN_OK) {
        return 0;
    }

    (void) parley_stun_verify_fingerprint(&msg);
    (void) parley_stun_verify_integrity(&msg, &fuzz_key);

    fuzz_check_response(&msg);

    memset(&ice, 0, sizeof(ice));
    ice.local_ufrag.data = (const uint8_t *) FUZZ_LOCAL_UFRAG;
    ice.local_ufrag.len = strlen(FUZZ_LOCAL_UFRAG);
    ice.remote_ufrag.data = (const uint8_t *) FUZZ_REMOTE_UFRAG;
    ice.remote_ufrag.len = strlen(FUZZ_REMOTE_UFRAG);
    ice.local_key = &fuzz_key;

    /* the source address family follows the input, to cover both */
    memset(&source, 0, sizeof(source));
    source.family = (size & 1) ? AF_INET6 : AF_INET;
    source.port = 3478;
    memcpy(source.addr, msg.tid, PARLEY_STUN_TID_SIZE);

    parley_icelite_check(&ice, &msg, &source, out, sizeof(out), &res);

    if (res.action != PARLEY_ICELITE_DROP) {
        fuzz_check_answer(out, &res, &msg);
    }

    return 0;
}
