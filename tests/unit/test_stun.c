/*
 * Unit tests for the STUN messages (relay/parley_stun.c) and the ICE-lite
 * check handler (relay/parley_icelite.c).
 *
 * The byte arrays of section "RFC 5769" are the published test vectors of
 * RFC 5769 section 2, row by row as the RFC prints them.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "parley_icelite.h"


#define RFC5769_PASSWORD  "VOkJxbRl1RmTxUk/WvJxBt"

#define LOCAL_UFRAG       "lite"
#define LOCAL_PWD         "lite-password-0123456789"
#define REMOTE_UFRAG      "peer"

#define ATTR_UNKNOWN_REQUIRED  0x0033   /* not assigned by IANA */
#define ATTR_UNKNOWN_OPTIONAL  0x8123


/* RFC 5769 */

/* 2.1. Sample Request */
static const uint8_t  rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58,   /* Request type and message length */
    0x21, 0x12, 0xa4, 0x42,   /* Magic cookie */
    0xb7, 0xe7, 0xa7, 0x01,   /* } */
    0xbc, 0x34, 0xd6, 0x86,   /* }  Transaction ID */
    0xfa, 0x87, 0xdf, 0xae,   /* } */
    0x80, 0x22, 0x00, 0x10,   /* SOFTWARE attribute header */
    0x53, 0x54, 0x55, 0x4e,   /* } */
    0x20, 0x74, 0x65, 0x73,   /* }  User-agent... */
    0x74, 0x20, 0x63, 0x6c,   /* }  ...name */
    0x69, 0x65, 0x6e, 0x74,   /* } */
    0x00, 0x24, 0x00, 0x04,   /* PRIORITY attribute header */
    0x6e, 0x00, 0x01, 0xff,   /* ICE priority value */
    0x80, 0x29, 0x00, 0x08,   /* ICE-CONTROLLED attribute header */
    0x93, 0x2f, 0xf9, 0xb1,   /* }  Pseudo-random tie breaker... */
    0x51, 0x26, 0x3b, 0x36,   /* }   ...for ICE control */
    0x00, 0x06, 0x00, 0x09,   /* USERNAME attribute header */
    0x65, 0x76, 0x74, 0x6a,   /* } */
    0x3a, 0x68, 0x36, 0x76,   /* }  Username (9 bytes) and padding (3 bytes) */
    0x59, 0x20, 0x20, 0x20,   /* } */
    0x00, 0x08, 0x00, 0x14,   /* MESSAGE-INTEGRITY attribute header */
    0x9a, 0xea, 0xa7, 0x0c,   /* } */
    0xbf, 0xd8, 0xcb, 0x56,   /* } */
    0x78, 0x1e, 0xf2, 0xb5,   /* }  HMAC-SHA1 fingerprint */
    0xb2, 0xd3, 0xf2, 0x49,   /* } */
    0xc1, 0xb5, 0x71, 0xa2,   /* } */
    0x80, 0x28, 0x00, 0x04,   /* FINGERPRINT attribute header */
    0xe5, 0x7a, 0x3b, 0xcf    /* CRC32 fingerprint */
};

/* 2.2. Sample IPv4 Response */
static const uint8_t  rfc5769_response_ipv4[] = {
    0x01, 0x01, 0x00, 0x3c,   /* Response type and message length */
    0x21, 0x12, 0xa4, 0x42,   /* Magic cookie */
    0xb7, 0xe7, 0xa7, 0x01,   /* } */
    0xbc, 0x34, 0xd6, 0x86,   /* }  Transaction ID */
    0xfa, 0x87, 0xdf, 0xae,   /* } */
    0x80, 0x22, 0x00, 0x0b,   /* SOFTWARE attribute header */
    0x74, 0x65, 0x73, 0x74,   /* } */
    0x20, 0x76, 0x65, 0x63,   /* }  UTF-8 server name */
    0x74, 0x6f, 0x72, 0x20,   /* } */
    0x00, 0x20, 0x00, 0x08,   /* XOR-MAPPED-ADDRESS attribute header */
    0x00, 0x01, 0xa1, 0x47,   /* Address family (IPv4) and xor'd port */
    0xe1, 0x12, 0xa6, 0x43,   /* Xor'd mapped IPv4 address */
    0x00, 0x08, 0x00, 0x14,   /* MESSAGE-INTEGRITY attribute header */
    0x2b, 0x91, 0xf5, 0x99,   /* } */
    0xfd, 0x9e, 0x90, 0xc3,   /* } */
    0x8c, 0x74, 0x89, 0xf9,   /* }  HMAC-SHA1 fingerprint */
    0x2a, 0xf9, 0xba, 0x53,   /* } */
    0xf0, 0x6b, 0xe7, 0xd7,   /* } */
    0x80, 0x28, 0x00, 0x04,   /* FINGERPRINT attribute header */
    0xc0, 0x7d, 0x4c, 0x96    /* CRC32 fingerprint */
};

/* 2.3. Sample IPv6 Response */
static const uint8_t  rfc5769_response_ipv6[] = {
    0x01, 0x01, 0x00, 0x48,   /* Response type and message length */
    0x21, 0x12, 0xa4, 0x42,   /* Magic cookie */
    0xb7, 0xe7, 0xa7, 0x01,   /* } */
    0xbc, 0x34, 0xd6, 0x86,   /* }  Transaction ID */
    0xfa, 0x87, 0xdf, 0xae,   /* } */
    0x80, 0x22, 0x00, 0x0b,   /* SOFTWARE attribute header */
    0x74, 0x65, 0x73, 0x74,   /* } */
    0x20, 0x76, 0x65, 0x63,   /* }  UTF-8 server name */
    0x74, 0x6f, 0x72, 0x20,   /* } */
    0x00, 0x20, 0x00, 0x14,   /* XOR-MAPPED-ADDRESS attribute header */
    0x00, 0x02, 0xa1, 0x47,   /* Address family (IPv6) and xor'd port */
    0x01, 0x13, 0xa9, 0xfa,   /* } */
    0xa5, 0xd3, 0xf1, 0x79,   /* }  Xor'd mapped IPv6 address */
    0xbc, 0x25, 0xf4, 0xb5,   /* } */
    0xbe, 0xd2, 0xb9, 0xd9,   /* } */
    0x00, 0x08, 0x00, 0x14,   /* MESSAGE-INTEGRITY attribute header */
    0xa3, 0x82, 0x95, 0x4e,   /* } */
    0x4b, 0xe6, 0x7b, 0xf1,   /* } */
    0x17, 0x84, 0xc9, 0x7c,   /* }  HMAC-SHA1 fingerprint */
    0x82, 0x92, 0xc2, 0x75,   /* } */
    0xbf, 0xe3, 0xed, 0x41,   /* } */
    0x80, 0x28, 0x00, 0x04,   /* FINGERPRINT attribute header */
    0xc8, 0xfb, 0x0b, 0x4c    /* CRC32 fingerprint */
};

/* 2.4. Sample Request with Long-Term Authentication */
static const uint8_t  rfc5769_request_long_term[] = {
    0x00, 0x01, 0x00, 0x60,   /* Request type and message length */
    0x21, 0x12, 0xa4, 0x42,   /* Magic cookie */
    0x78, 0xad, 0x34, 0x33,   /* } */
    0xc6, 0xad, 0x72, 0xc0,   /* }  Transaction ID */
    0x29, 0xda, 0x41, 0x2e,   /* } */
    0x00, 0x06, 0x00, 0x12,   /* USERNAME attribute header */
    0xe3, 0x83, 0x9e, 0xe3,   /* } */
    0x83, 0x88, 0xe3, 0x83,   /* } */
    0xaa, 0xe3, 0x83, 0x83,   /* }  Username value (18 bytes) and padding */
    0xe3, 0x82, 0xaf, 0xe3,   /* }  (2 bytes) */
    0x82, 0xb9, 0x00, 0x00,   /* } */
    0x00, 0x15, 0x00, 0x1c,   /* NONCE attribute header */
    0x66, 0x2f, 0x2f, 0x34,   /* } */
    0x39, 0x39, 0x6b, 0x39,   /* } */
    0x35, 0x34, 0x64, 0x36,   /* } */
    0x4f, 0x4c, 0x33, 0x34,   /* }  Nonce value */
    0x6f, 0x4c, 0x39, 0x46,   /* } */
    0x53, 0x54, 0x76, 0x79,   /* } */
    0x36, 0x34, 0x73, 0x41,   /* } */
    0x00, 0x14, 0x00, 0x0b,   /* REALM attribute header */
    0x65, 0x78, 0x61, 0x6d,   /* } */
    0x70, 0x6c, 0x65, 0x2e,   /* }  Realm value (11 bytes) and padding */
    0x6f, 0x72, 0x67, 0x00,   /* }  (1 byte) */
    0x00, 0x08, 0x00, 0x14,   /* MESSAGE-INTEGRITY attribute header */
    0xf6, 0x70, 0x24, 0x65,   /* } */
    0x6d, 0xd6, 0x4a, 0x3e,   /* } */
    0x02, 0xb8, 0xe0, 0x71,   /* }  HMAC-SHA1 fingerprint */
    0x2e, 0x85, 0xc9, 0xa2,   /* } */
    0x8c, 0xa8, 0x96, 0x66    /* } */
};

/* The username of 2.4, six katakana in UTF-8 */
static const uint8_t  rfc5769_long_term_username[] = {
    0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa,
    0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9
};


static const uint8_t  test_tid[PARLEY_STUN_TID_SIZE] = {
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98
};


/* A hand-made message, to say what the builders never would. */
typedef struct {
    uint8_t  buf[512];
    size_t   len;
} tmsg_t;


/* Per-test state for the ICE handler tests. */
typedef struct {
    parley_stun_key_t         local_key;     /* LOCAL_PWD */
    parley_stun_key_t         wrong_key;
    parley_icelite_t         ice;
    parley_stun_request_t     check;         /* a good check from the peer */
    parley_stun_addr_t        source;
    uint8_t                   in[512];
    size_t                    in_len;
    uint8_t                   out[PARLEY_STUN_RESPONSE_MAX];
    parley_stun_msg_t         req;
    parley_stun_msg_t         resp;
    parley_icelite_result_t  res;
} ice_fixture_t;


static parley_stun_str_t
str(const char *s)
{
    parley_stun_str_t  v;

    v.data = (const uint8_t *) s;
    v.len = strlen(s);

    return v;
}


static void
assert_str_equal(parley_stun_str_t v, const char *expected)
{
    assert_int_equal(v.len, strlen(expected));
    assert_memory_equal(v.data, expected, v.len);
}


static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t) (v >> 16));
    put16(p + 2, (uint16_t) v);
}


/* Bit by bit, independent of the table in parley_stun.c. */
static uint32_t
crc32_bitwise(const uint8_t *p, size_t n)
{
    int       k;
    uint32_t  crc;

    crc = 0xffffffff;

    while (n-- > 0) {
        crc ^= *p++;
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
        }
    }

    return ~crc;
}


static void
tmsg_start(tmsg_t *m, uint16_t type)
{
    memset(m, 0, sizeof(tmsg_t));
    put16(m->buf, type);
    put32(m->buf + 4, PARLEY_STUN_MAGIC_COOKIE);
    memcpy(m->buf + 8, test_tid, PARLEY_STUN_TID_SIZE);
    m->len = PARLEY_STUN_HEADER_SIZE;
}


static uint8_t *
tmsg_attr(tmsg_t *m, uint16_t type, const void *value, size_t len)
{
    uint8_t  *p;

    p = m->buf + m->len;
    put16(p, type);
    put16(p + 2, (uint16_t) len);
    if (len > 0) {
        memcpy(p + 4, value, len);
    }

    m->len += 4 + ((len + 3) & ~(size_t) 3);
    put16(m->buf + 2, (uint16_t) (m->len - PARLEY_STUN_HEADER_SIZE));

    return p + 4;
}


static void
tmsg_hmac(tmsg_t *m, const EVP_MD *md, uint16_t type, size_t len,
    const char *password)
{
    size_t        at;
    uint8_t       mac[EVP_MAX_MD_SIZE];
    uint8_t       zero[32];
    unsigned int  maclen;

    memset(zero, 0, sizeof(zero));
    at = m->len;
    tmsg_attr(m, type, zero, len);

    assert_non_null(HMAC(md, password, (int) strlen(password), m->buf, at,
                         mac, &maclen));
    memcpy(m->buf + at + 4, mac, len);
}


static void
tmsg_fingerprint(tmsg_t *m)
{
    size_t   at;
    uint8_t  zero[4];

    memset(zero, 0, sizeof(zero));
    at = m->len;
    tmsg_attr(m, PARLEY_STUN_ATTR_FINGERPRINT, zero, 4);
    put32(m->buf + at + 4, crc32_bitwise(m->buf, at) ^ 0x5354554e);
}


static void
key_init(parley_stun_key_t *key, const char *password)
{
    assert_int_equal(parley_stun_key_init(key, password, strlen(password)),
                     PARLEY_STUN_OK);
}


static void
addr_ipv4(parley_stun_addr_t *addr, const char *ip, uint16_t port)
{
    memset(addr, 0, sizeof(parley_stun_addr_t));
    addr->family = AF_INET;
    addr->port = port;
    assert_int_equal(inet_pton(AF_INET, ip, addr->addr), 1);
}


static void
addr_ipv6(parley_stun_addr_t *addr, const char *ip, uint16_t port)
{
    memset(addr, 0, sizeof(parley_stun_addr_t));
    addr->family = AF_INET6;
    addr->port = port;
    assert_int_equal(inet_pton(AF_INET6, ip, addr->addr), 1);
}


static void
assert_addr_equal(const parley_stun_addr_t *a, const parley_stun_addr_t *b)
{
    assert_int_equal(a->family, b->family);
    assert_int_equal(a->port, b->port);
    assert_memory_equal(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}


/* RFC 5769 vectors */


static void
test_rfc5769_request(void **state)
{
    parley_stun_msg_t  msg;
    parley_stun_key_t  key, wrong;

    (void) state;

    assert_int_equal(parley_stun_parse(&msg, rfc5769_request,
                                       sizeof(rfc5769_request)),
                     PARLEY_STUN_OK);

    assert_int_equal(msg.method, PARLEY_STUN_BINDING);
    assert_int_equal(msg.class, PARLEY_STUN_REQUEST);
    assert_memory_equal(msg.tid, rfc5769_request + 8, PARLEY_STUN_TID_SIZE);
    assert_str_equal(msg.software, "STUN test client");
    assert_str_equal(msg.username, "evtj:h6vY");
    assert_int_equal(msg.priority, 0x6e0001ff);
    assert_true(msg.attrs & PARLEY_STUN_HAS_ICE_CONTROLLED);
    assert_false(msg.attrs & PARLEY_STUN_HAS_ICE_CONTROLLING);
    assert_true(msg.ice_controlled == 0x932ff9b151263b36ULL);
    assert_int_equal(msg.unknown_count, 0);

    key_init(&key, RFC5769_PASSWORD);
    key_init(&wrong, RFC5769_PASSWORD "x");

    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&msg, &wrong),
                     PARLEY_STUN_ERR_INTEGRITY_MISMATCH);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);

    parley_stun_key_free(&key);
    parley_stun_key_free(&wrong);
}


static void
check_rfc5769_response(const uint8_t *vector, size_t len,
    const parley_stun_addr_t *expected)
{
    parley_stun_msg_t  msg;
    parley_stun_key_t  key;

    assert_int_equal(parley_stun_parse(&msg, vector, len), PARLEY_STUN_OK);

    assert_int_equal(msg.method, PARLEY_STUN_BINDING);
    assert_int_equal(msg.class, PARLEY_STUN_SUCCESS);
    assert_str_equal(msg.software, "test vector");
    assert_true(msg.attrs & PARLEY_STUN_HAS_XOR_MAPPED_ADDRESS);
    assert_addr_equal(&msg.xor_mapped_address, expected);

    key_init(&key, RFC5769_PASSWORD);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);
    parley_stun_key_free(&key);
}


static void
test_rfc5769_response_ipv4(void **state)
{
    parley_stun_addr_t  expected;

    (void) state;

    addr_ipv4(&expected, "192.0.2.1", 32853);
    check_rfc5769_response(rfc5769_response_ipv4,
                           sizeof(rfc5769_response_ipv4), &expected);
}


static void
test_rfc5769_response_ipv6(void **state)
{
    parley_stun_addr_t  expected;

    (void) state;

    addr_ipv6(&expected, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
    check_rfc5769_response(rfc5769_response_ipv6,
                           sizeof(rfc5769_response_ipv6), &expected);
}


/*
 * RFC 5769 2.4 / RFC 8489 9.2.2: key = MD5(username ":" realm ":"
 * password), the password "TheMatrIX" being the SASLprep output the RFC
 * gives for its password.
 */
static void
test_rfc5769_request_long_term(void **state)
{
    uint8_t            input[64], md5[16];
    size_t             n;
    unsigned int       md5_len;
    parley_stun_msg_t  msg;
    parley_stun_key_t  key;

    (void) state;

    assert_int_equal(parley_stun_parse(&msg, rfc5769_request_long_term,
                                       sizeof(rfc5769_request_long_term)),
                     PARLEY_STUN_OK);

    assert_int_equal(msg.class, PARLEY_STUN_REQUEST);
    assert_int_equal(msg.username.len, sizeof(rfc5769_long_term_username));
    assert_memory_equal(msg.username.data, rfc5769_long_term_username,
                        sizeof(rfc5769_long_term_username));
    assert_str_equal(msg.nonce, "f//499k954d6OL34oL9FSTvy64sA");
    assert_str_equal(msg.realm, "example.org");

    n = 0;
    memcpy(input, msg.username.data, msg.username.len);
    n += msg.username.len;
    memcpy(input + n, ":example.org:TheMatrIX", 22);
    n += 22;
    assert_int_equal(EVP_Digest(input, n, md5, &md5_len, EVP_md5(), NULL), 1);

    assert_int_equal(parley_stun_key_init(&key, md5, md5_len),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_fingerprint(&msg),
                     PARLEY_STUN_ERR_NO_FINGERPRINT);
    parley_stun_key_free(&key);
}


/* Our XOR-MAPPED-ADDRESS encoder against the vectors' bytes. */
static void
test_xor_mapped_address_matches_rfc5769(void **state)
{
    size_t              len;
    uint8_t             buf[128];
    parley_stun_key_t   key;
    parley_stun_addr_t  v4, v6;

    (void) state;

    key_init(&key, RFC5769_PASSWORD);
    addr_ipv4(&v4, "192.0.2.1", 32853);
    addr_ipv6(&v6, "2001:db8:1234:5678:11:2233:4455:6677", 32853);

    assert_int_equal(parley_stun_binding_success(buf, sizeof(buf),
                                                 rfc5769_request + 8, &v4,
                                                 &key, &len),
                     PARLEY_STUN_OK);
    assert_memory_equal(buf + 20, rfc5769_response_ipv4 + 36, 12);

    assert_int_equal(parley_stun_binding_success(buf, sizeof(buf),
                                                 rfc5769_request + 8, &v6,
                                                 &key, &len),
                     PARLEY_STUN_OK);
    assert_memory_equal(buf + 20, rfc5769_response_ipv6 + 36, 24);

    parley_stun_key_free(&key);
}


/* Tampering */


static void
test_tampered_integrity(void **state)
{
    uint8_t            copy[sizeof(rfc5769_request)];
    parley_stun_msg_t  msg;
    parley_stun_key_t  key;

    (void) state;

    key_init(&key, RFC5769_PASSWORD);

    /* a bit of the HMAC itself */
    memcpy(copy, rfc5769_request, sizeof(copy));
    copy[80] ^= 0x01;
    assert_int_equal(parley_stun_parse(&msg, copy, sizeof(copy)),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_ERR_INTEGRITY_MISMATCH);

    /* a bit of the USERNAME that the HMAC covers */
    memcpy(copy, rfc5769_request, sizeof(copy));
    copy[65] ^= 0x20;
    assert_int_equal(parley_stun_parse(&msg, copy, sizeof(copy)),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_ERR_INTEGRITY_MISMATCH);
    assert_int_equal(parley_stun_verify_fingerprint(&msg),
                     PARLEY_STUN_ERR_FINGERPRINT_MISMATCH);

    parley_stun_key_free(&key);
}


static void
test_tampered_fingerprint(void **state)
{
    uint8_t            copy[sizeof(rfc5769_request)];
    parley_stun_msg_t  msg;
    parley_stun_key_t  key;

    (void) state;

    key_init(&key, RFC5769_PASSWORD);

    memcpy(copy, rfc5769_request, sizeof(copy));
    copy[sizeof(copy) - 1] ^= 0x80;

    assert_int_equal(parley_stun_parse(&msg, copy, sizeof(copy)),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_fingerprint(&msg),
                     PARLEY_STUN_ERR_FINGERPRINT_MISMATCH);

    /* FINGERPRINT follows MESSAGE-INTEGRITY, which does not cover it */
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);

    parley_stun_key_free(&key);
}


/* Malformed messages: each mistake has its own result */


static parley_stun_rc_t
parse_copy(const uint8_t *data, size_t len)
{
    parley_stun_msg_t  msg;

    return parley_stun_parse(&msg, data, len);
}


static parley_stun_rc_t
parse_tmsg(const tmsg_t *m, parley_stun_msg_t *msg)
{
    return parley_stun_parse(msg, m->buf, m->len);
}


static void
test_malformed_distinct_errors(void **state)
{
    size_t             i, j, n;
    uint8_t            copy[sizeof(rfc5769_request) + 4];
    uint8_t            priority[4] = { 0, 0, 0, 1 };
    tmsg_t             m;
    parley_stun_rc_t   seen[10];
    parley_stun_msg_t  msg;

    (void) state;

    n = 0;

    /* RFC 8489 5: 20 bytes of header at least */
    seen[n] = parse_copy(rfc5769_request, PARLEY_STUN_HEADER_SIZE - 1);
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_TOO_SHORT);

    memcpy(copy, rfc5769_request, sizeof(rfc5769_request));
    copy[0] |= 0x40;
    seen[n] = parse_copy(copy, sizeof(rfc5769_request));
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_NOT_STUN);

    memcpy(copy, rfc5769_request, sizeof(rfc5769_request));
    copy[7] ^= 0x01;
    seen[n] = parse_copy(copy, sizeof(rfc5769_request));
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_BAD_COOKIE);

    memcpy(copy, rfc5769_request, sizeof(rfc5769_request));
    copy[3] = 0x56;
    seen[n] = parse_copy(copy, sizeof(rfc5769_request) - 2);
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_LENGTH_UNALIGNED);

    seen[n] = parse_copy(rfc5769_request, sizeof(rfc5769_request) - 4);
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_LENGTH_PAST_END);

    memcpy(copy, rfc5769_request, sizeof(rfc5769_request));
    memset(copy + sizeof(rfc5769_request), 0, 4);
    seen[n] = parse_copy(copy, sizeof(copy));
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_TRAILING_BYTES);

    /* USERNAME (at 60) claims more bytes than the message holds */
    memcpy(copy, rfc5769_request, sizeof(rfc5769_request));
    copy[62] = 0x00;
    copy[63] = 0x40;
    seen[n] = parse_copy(copy, sizeof(rfc5769_request));
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_ATTR_TRUNCATED);

    tmsg_start(&m, 0x0001);
    tmsg_fingerprint(&m);
    tmsg_attr(&m, PARLEY_STUN_ATTR_PRIORITY, priority, 4);
    seen[n] = parse_tmsg(&m, &msg);
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_FINGERPRINT_NOT_LAST);

    tmsg_start(&m, 0x0001);
    tmsg_hmac(&m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20, "pw");
    tmsg_attr(&m, PARLEY_STUN_ATTR_PRIORITY, priority, 4);
    seen[n] = parse_tmsg(&m, &msg);
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_AFTER_INTEGRITY);

    tmsg_start(&m, 0x0001);
    tmsg_attr(&m, PARLEY_STUN_ATTR_PRIORITY, priority, 3);
    seen[n] = parse_tmsg(&m, &msg);
    assert_int_equal(seen[n++], PARLEY_STUN_ERR_ATTR_INVALID);
    assert_int_equal(msg.bad_attr, PARLEY_STUN_ATTR_PRIORITY);

    for (i = 0; i < n; i++) {
        assert_string_not_equal(parley_stun_rc_str(seen[i]), "ok");
        for (j = i + 1; j < n; j++) {
            assert_int_not_equal(seen[i], seen[j]);
        }
    }
}


static void
test_order_after_integrity(void **state)
{
    uint8_t            priority[4] = { 0, 0, 0, 1 };
    tmsg_t             m;
    parley_stun_msg_t  msg;
    parley_stun_key_t  key, wrong;

    (void) state;

    key_init(&key, "pw");
    key_init(&wrong, "pW");

    /* RFC 8489 14.6: MESSAGE-INTEGRITY, -SHA256 (truncated), FINGERPRINT */
    tmsg_start(&m, 0x0001);
    tmsg_attr(&m, PARLEY_STUN_ATTR_PRIORITY, priority, 4);
    tmsg_hmac(&m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20, "pw");
    tmsg_hmac(&m, EVP_sha256(), PARLEY_STUN_ATTR_INTEGRITY_SHA256, 24, "pw");
    tmsg_fingerprint(&m);

    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_OK);
    assert_int_equal(msg.integrity_sha256_len, 24);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&msg, &wrong),
                     PARLEY_STUN_ERR_INTEGRITY_MISMATCH);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);

    /* a wrong SHA-256 HMAC fails even when the SHA-1 one is right */
    m.buf[m.len - 8 - 1] ^= 0x01;
    m.len -= 8;
    put16(m.buf + 2, (uint16_t) (m.len - 20));
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_ERR_INTEGRITY_MISMATCH);

    /* only FINGERPRINT may follow MESSAGE-INTEGRITY-SHA256 */
    tmsg_start(&m, 0x0001);
    tmsg_hmac(&m, EVP_sha256(), PARLEY_STUN_ATTR_INTEGRITY_SHA256, 32, "pw");
    tmsg_hmac(&m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20, "pw");
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_ERR_AFTER_INTEGRITY);

    /* a second MESSAGE-INTEGRITY is an attribute after the first */
    tmsg_start(&m, 0x0001);
    tmsg_hmac(&m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20, "pw");
    tmsg_hmac(&m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20, "pw");
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_ERR_AFTER_INTEGRITY);

    /* a second FINGERPRINT makes the first one not last */
    tmsg_start(&m, 0x0001);
    tmsg_fingerprint(&m);
    tmsg_fingerprint(&m);
    assert_int_equal(parse_tmsg(&m, &msg),
                     PARLEY_STUN_ERR_FINGERPRINT_NOT_LAST);

    parley_stun_key_free(&key);
    parley_stun_key_free(&wrong);
}


static void
test_attribute_values(void **state)
{
    uint8_t            v[32];
    tmsg_t             m;
    parley_stun_msg_t  msg;

    (void) state;

    memset(v, 0, sizeof(v));

    /* padding: a 1-byte attribute takes 8 bytes, the next one follows */
    tmsg_start(&m, 0x0001);
    tmsg_attr(&m, PARLEY_STUN_ATTR_USERNAME, "a", 1);
    tmsg_attr(&m, PARLEY_STUN_ATTR_USE_CANDIDATE, NULL, 0);
    tmsg_attr(&m, ATTR_UNKNOWN_OPTIONAL, v, 3);
    tmsg_attr(&m, ATTR_UNKNOWN_REQUIRED, v, 5);
    tmsg_attr(&m, ATTR_UNKNOWN_REQUIRED, v, 5);
    tmsg_attr(&m, PARLEY_STUN_ATTR_USERNAME, "second", 6);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_OK);
    assert_str_equal(msg.username, "a");       /* the first one counts */
    assert_true(msg.attrs & PARLEY_STUN_HAS_USE_CANDIDATE);
    assert_int_equal(msg.unknown_count, 1);    /* reported once */
    assert_int_equal(msg.unknown[0], ATTR_UNKNOWN_REQUIRED);

    /* USE-CANDIDATE has no value */
    tmsg_start(&m, 0x0001);
    tmsg_attr(&m, PARLEY_STUN_ATTR_USE_CANDIDATE, v, 4);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_ERR_ATTR_INVALID);

    /* ICE-CONTROLLING is 8 bytes */
    tmsg_start(&m, 0x0001);
    tmsg_attr(&m, PARLEY_STUN_ATTR_ICE_CONTROLLING, v, 4);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_ERR_ATTR_INVALID);
    assert_int_equal(msg.bad_attr, PARLEY_STUN_ATTR_ICE_CONTROLLING);

    /* XOR-MAPPED-ADDRESS: family 3 does not exist */
    v[1] = 3;
    tmsg_start(&m, 0x0101);
    tmsg_attr(&m, PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS, v, 8);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_ERR_ATTR_INVALID);

    /* IPv4 family with an IPv6 length */
    v[1] = 1;
    tmsg_start(&m, 0x0101);
    tmsg_attr(&m, PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS, v, 20);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_ERR_ATTR_INVALID);

    /* ERROR-CODE class 7 does not exist */
    memset(v, 0, sizeof(v));
    v[2] = 7;
    tmsg_start(&m, 0x0111);
    tmsg_attr(&m, PARLEY_STUN_ATTR_ERROR_CODE, v, 4);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_ERR_ATTR_INVALID);

    /* MESSAGE-INTEGRITY-SHA256 shorter than 16 bytes */
    tmsg_start(&m, 0x0001);
    tmsg_attr(&m, PARLEY_STUN_ATTR_INTEGRITY_SHA256, v, 12);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_ERR_ATTR_INVALID);

    /* a bare header is a valid, empty message */
    tmsg_start(&m, 0x0011);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_OK);
    assert_int_equal(msg.class, PARLEY_STUN_INDICATION);
    assert_int_equal(msg.attrs, 0);
}


static void
test_method_and_class_bits(void **state)
{
    tmsg_t             m;
    parley_stun_msg_t  msg;

    (void) state;

    /* RFC 8489 5: 0x0113 is an Allocate (0x003) error response */
    tmsg_start(&m, 0x0113);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_OK);
    assert_int_equal(msg.method, 0x003);
    assert_int_equal(msg.class, PARLEY_STUN_ERROR);

    /* every method bit set, class success */
    tmsg_start(&m, 0x3fef);
    assert_int_equal(parse_tmsg(&m, &msg), PARLEY_STUN_OK);
    assert_int_equal(msg.method, 0xfff);
    assert_int_equal(msg.class, PARLEY_STUN_SUCCESS);
}


/* Build, then parse */


static void
test_roundtrip_success(void **state)
{
    size_t              len;
    uint8_t             buf[PARLEY_STUN_RESPONSE_MAX];
    parley_stun_msg_t   msg;
    parley_stun_key_t   key;
    parley_stun_addr_t  addr;

    (void) state;

    key_init(&key, LOCAL_PWD);

    addr_ipv4(&addr, "203.0.113.7", 51000);
    assert_int_equal(parley_stun_binding_success(buf, sizeof(buf), test_tid,
                                                 &addr, &key, &len),
                     PARLEY_STUN_OK);
    assert_int_equal(len, 20 + 12 + 24 + 8);
    assert_int_equal(parley_stun_parse(&msg, buf, len), PARLEY_STUN_OK);
    assert_int_equal(msg.class, PARLEY_STUN_SUCCESS);
    assert_int_equal(msg.method, PARLEY_STUN_BINDING);
    assert_memory_equal(msg.tid, test_tid, PARLEY_STUN_TID_SIZE);
    assert_addr_equal(&msg.xor_mapped_address, &addr);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);

    addr_ipv6(&addr, "2001:db8::1", 443);
    assert_int_equal(parley_stun_binding_success(buf, sizeof(buf), test_tid,
                                                 &addr, &key, &len),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_parse(&msg, buf, len), PARLEY_STUN_OK);
    assert_addr_equal(&msg.xor_mapped_address, &addr);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);

    parley_stun_key_free(&key);
}


static void
test_roundtrip_request(void **state)
{
    size_t                 len;
    uint8_t                buf[256];
    parley_stun_msg_t      msg;
    parley_stun_key_t      key;
    parley_stun_request_t  req;

    (void) state;

    key_init(&key, LOCAL_PWD);

    memset(&req, 0, sizeof(req));
    memcpy(req.tid, test_tid, PARLEY_STUN_TID_SIZE);
    req.username = str(LOCAL_UFRAG ":" REMOTE_UFRAG);
    req.priority = 0x6e7f1eff;
    req.role = PARLEY_STUN_ROLE_CONTROLLING;
    req.tie_breaker = 0x0102030405060708ULL;
    req.use_candidate = 1;
    req.key = &key;

    assert_int_equal(parley_stun_binding_request(buf, sizeof(buf), &req,
                                                 &len),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_parse(&msg, buf, len), PARLEY_STUN_OK);

    assert_int_equal(msg.class, PARLEY_STUN_REQUEST);
    assert_str_equal(msg.username, LOCAL_UFRAG ":" REMOTE_UFRAG);
    assert_int_equal(msg.priority, 0x6e7f1eff);
    assert_true(msg.attrs & PARLEY_STUN_HAS_ICE_CONTROLLING);
    assert_false(msg.attrs & PARLEY_STUN_HAS_ICE_CONTROLLED);
    assert_true(msg.ice_controlling == 0x0102030405060708ULL);
    assert_true(msg.attrs & PARLEY_STUN_HAS_USE_CANDIDATE);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);

    /* controlled, no nomination, no integrity */
    req.role = PARLEY_STUN_ROLE_CONTROLLED;
    req.use_candidate = 0;
    req.key = NULL;

    assert_int_equal(parley_stun_binding_request(buf, sizeof(buf), &req,
                                                 &len),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_parse(&msg, buf, len), PARLEY_STUN_OK);
    assert_true(msg.attrs & PARLEY_STUN_HAS_ICE_CONTROLLED);
    assert_true(msg.ice_controlled == 0x0102030405060708ULL);
    assert_false(msg.attrs & PARLEY_STUN_HAS_USE_CANDIDATE);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_ERR_NO_INTEGRITY);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);

    parley_stun_key_free(&key);
}


static void
test_roundtrip_error_and_indication(void **state)
{
    size_t             len;
    uint8_t            buf[128];
    uint16_t           unknown[3] = { 0x0033, 0x0044, 0x7fff };
    parley_stun_msg_t  msg;
    parley_stun_key_t  key;

    (void) state;

    key_init(&key, LOCAL_PWD);

    assert_int_equal(parley_stun_binding_error(buf, sizeof(buf), test_tid,
                                               420, unknown, 3, &key, &len),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_parse(&msg, buf, len), PARLEY_STUN_OK);
    assert_int_equal(msg.class, PARLEY_STUN_ERROR);
    assert_int_equal(msg.error_code, 420);
    assert_str_equal(msg.error_reason, "Unknown Attribute");
    assert_int_equal(msg.unknown_attributes.len, 6);
    assert_memory_equal(msg.unknown_attributes.data,
                        "\x00\x33\x00\x44\x7f\xff", 6);
    assert_int_equal(parley_stun_verify_integrity(&msg, &key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);

    assert_int_equal(parley_stun_binding_error(buf, sizeof(buf), test_tid,
                                               401, NULL, 0, NULL, &len),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_parse(&msg, buf, len), PARLEY_STUN_OK);
    assert_int_equal(msg.error_code, 401);
    assert_str_equal(msg.error_reason, "Unauthenticated");
    assert_false(msg.attrs & PARLEY_STUN_HAS_INTEGRITY);
    assert_false(msg.attrs & PARLEY_STUN_HAS_UNKNOWN_ATTRIBUTES);

    assert_int_equal(parley_stun_binding_error(buf, sizeof(buf), test_tid,
                                               700, NULL, 0, NULL, &len),
                     PARLEY_STUN_ERR_INVAL);

    assert_int_equal(parley_stun_binding_indication(buf, sizeof(buf),
                                                    test_tid, &len),
                     PARLEY_STUN_OK);
    assert_int_equal(len, 28);
    assert_int_equal(parley_stun_parse(&msg, buf, len), PARLEY_STUN_OK);
    assert_int_equal(msg.class, PARLEY_STUN_INDICATION);
    assert_int_equal(msg.attrs, PARLEY_STUN_HAS_FINGERPRINT);
    assert_int_equal(parley_stun_verify_fingerprint(&msg), PARLEY_STUN_OK);

    parley_stun_key_free(&key);
}


/* Every buffer shorter than the message is refused, none overrun. */
static void
test_build_nospace(void **state)
{
    size_t              len, full, cap;
    uint8_t             buf[PARLEY_STUN_RESPONSE_MAX];
    parley_stun_key_t   key;
    parley_stun_addr_t  addr;

    (void) state;

    key_init(&key, LOCAL_PWD);
    addr_ipv6(&addr, "2001:db8::2", 3478);

    assert_int_equal(parley_stun_binding_success(buf, sizeof(buf), test_tid,
                                                 &addr, &key, &full),
                     PARLEY_STUN_OK);

    for (cap = 0; cap < full; cap++) {
        len = 1;
        assert_int_equal(parley_stun_binding_success(buf, cap, test_tid,
                                                     &addr, &key, &len),
                         PARLEY_STUN_ERR_NOSPACE);
        assert_int_equal(len, 0);
    }

    parley_stun_key_free(&key);
}


static void
test_key_and_addr(void **state)
{
    socklen_t                sl;
    parley_stun_key_t        key;
    parley_stun_addr_t       a, b;
    struct sockaddr_in       sin;
    struct sockaddr_storage  ss;

    (void) state;

    assert_int_equal(parley_stun_key_init(&key, "", 0),
                     PARLEY_STUN_ERR_INVAL);
    parley_stun_key_free(&key);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(40000);
    assert_int_equal(inet_pton(AF_INET, "198.51.100.20", &sin.sin_addr), 1);

    assert_int_equal(parley_stun_addr_from_sockaddr(&a,
                                                    (struct sockaddr *) &sin),
                     PARLEY_STUN_OK);
    addr_ipv4(&b, "198.51.100.20", 40000);
    assert_addr_equal(&a, &b);

    addr_ipv6(&a, "2001:db8::33", 9);
    assert_int_equal(parley_stun_addr_to_sockaddr(&a, &ss, &sl),
                     PARLEY_STUN_OK);
    assert_int_equal(sl, sizeof(struct sockaddr_in6));
    assert_int_equal(parley_stun_addr_from_sockaddr(&b,
                                                    (struct sockaddr *) &ss),
                     PARLEY_STUN_OK);
    assert_addr_equal(&a, &b);

    ss.ss_family = AF_UNIX;
    assert_int_equal(parley_stun_addr_from_sockaddr(&b,
                                                    (struct sockaddr *) &ss),
                     PARLEY_STUN_ERR_INVAL);
}


static void
test_strings(void **state)
{
    int  i;

    (void) state;

    for (i = 0; i < PARLEY_ICELITE_NREASONS; i++) {
        assert_true(strlen(parley_icelite_reason_str(i)) > 0);
    }

    assert_string_equal(parley_icelite_reason_str(PARLEY_ICELITE_NREASONS),
                        "unknown reason");

    for (i = 0; i < PARLEY_ICELITE_NRESPONSES; i++) {
        assert_true(strlen(parley_icelite_response_str(i)) > 0);
    }

    assert_string_equal(
        parley_icelite_response_str(PARLEY_ICELITE_NRESPONSES),
        "unknown response");
    assert_string_equal(parley_stun_rc_str(PARLEY_STUN_ERR_CRYPTO),
                        "HMAC computation failed");
    assert_string_equal(parley_stun_rc_str((parley_stun_rc_t) 1000),
                        "unknown result");
}


/* The ICE-lite check handler */


static int
ice_setup(void **state)
{
    ice_fixture_t  *f;

    f = test_calloc(1, sizeof(ice_fixture_t));
    assert_non_null(f);

    key_init(&f->local_key, LOCAL_PWD);
    key_init(&f->wrong_key, "not-the-password-at-all");

    f->ice.local_ufrag = str(LOCAL_UFRAG);
    f->ice.remote_ufrag = str(REMOTE_UFRAG);
    f->ice.local_key = &f->local_key;

    /* RFC 8445 7.2.2: the peer signs with the password we gave it */
    memcpy(f->check.tid, test_tid, PARLEY_STUN_TID_SIZE);
    f->check.username = str(LOCAL_UFRAG ":" REMOTE_UFRAG);
    f->check.priority = 0x6e0001ff;
    f->check.role = PARLEY_STUN_ROLE_CONTROLLING;
    f->check.tie_breaker = 0x1122334455667788ULL;
    f->check.use_candidate = 1;
    f->check.key = &f->local_key;

    addr_ipv4(&f->source, "192.0.2.99", 61234);

    *state = f;

    return 0;
}


static int
ice_teardown(void **state)
{
    ice_fixture_t  *f = *state;

    parley_stun_key_free(&f->local_key);
    parley_stun_key_free(&f->wrong_key);
    test_free(f);

    return 0;
}


static void
ice_send_bytes(ice_fixture_t *f, const uint8_t *data, size_t len)
{
    assert_true(len <= sizeof(f->in));
    memcpy(f->in, data, len);
    f->in_len = len;

    assert_int_equal(parley_stun_parse(&f->req, f->in, f->in_len),
                     PARLEY_STUN_OK);

    parley_icelite_check(&f->ice, &f->req, &f->source, f->out,
                               sizeof(f->out), &f->res);
}


static void
ice_send_check(ice_fixture_t *f)
{
    size_t   len;
    uint8_t  buf[512];

    assert_int_equal(parley_stun_binding_request(buf, sizeof(buf), &f->check,
                                                 &len),
                     PARLEY_STUN_OK);
    ice_send_bytes(f, buf, len);
}


/* Parses the answer and checks what every answer must carry. */
static void
ice_parse_answer(ice_fixture_t *f, parley_stun_class_t class)
{
    assert_int_not_equal(f->res.action, PARLEY_ICELITE_DROP);
    assert_int_equal(parley_stun_parse(&f->resp, f->out, f->res.len),
                     PARLEY_STUN_OK);
    assert_int_equal(f->resp.class, class);
    assert_int_equal(f->resp.method, PARLEY_STUN_BINDING);
    assert_memory_equal(f->resp.tid, f->req.tid, PARLEY_STUN_TID_SIZE);
    assert_int_equal(parley_stun_verify_fingerprint(&f->resp),
                     PARLEY_STUN_OK);
}


static void
ice_expect_error(ice_fixture_t *f, parley_icelite_reason_t reason,
    unsigned code)
{
    assert_int_equal(f->res.action, PARLEY_ICELITE_ERROR);
    assert_int_equal(f->res.reason, reason);
    assert_int_equal(f->res.error_code, code);
    assert_false(f->res.nominated);

    ice_parse_answer(f, PARLEY_STUN_ERROR);
    assert_int_equal(f->resp.error_code, code);

    /* only an authenticated check gets an error, under the same password */
    assert_int_equal(parley_stun_verify_integrity(&f->resp, &f->local_key),
                     PARLEY_STUN_OK);
}


static void
ice_expect_drop(ice_fixture_t *f, parley_icelite_reason_t reason)
{
    assert_int_equal(f->res.action, PARLEY_ICELITE_DROP);
    assert_int_equal(f->res.reason, reason);
    assert_int_equal(f->res.len, 0);
}


static void
test_ice_good_check(void **state)
{
    ice_fixture_t  *f = *state;

    ice_send_check(f);

    assert_int_equal(f->res.action, PARLEY_ICELITE_SUCCESS);
    assert_int_equal(f->res.reason, PARLEY_ICELITE_OK);
    assert_true(f->res.nominated);
    assert_int_equal(f->res.priority, 0x6e0001ff);

    ice_parse_answer(f, PARLEY_STUN_SUCCESS);
    assert_addr_equal(&f->resp.xor_mapped_address, &f->source);
    assert_int_equal(parley_stun_verify_integrity(&f->resp, &f->local_key),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_verify_integrity(&f->resp, &f->wrong_key),
                     PARLEY_STUN_ERR_INTEGRITY_MISMATCH);
}


static void
test_ice_check_not_nominating(void **state)
{
    ice_fixture_t  *f = *state;

    f->check.use_candidate = 0;
    addr_ipv6(&f->source, "2001:db8:ffff::5", 5000);
    ice_send_check(f);

    assert_int_equal(f->res.action, PARLEY_ICELITE_SUCCESS);
    assert_false(f->res.nominated);
    ice_parse_answer(f, PARLEY_STUN_SUCCESS);
    assert_addr_equal(&f->resp.xor_mapped_address, &f->source);
}


/* RFC 8445 7.3: a check may come before the answer names the peer. */
static void
test_ice_remote_ufrag_not_known_yet(void **state)
{
    ice_fixture_t  *f = *state;

    f->ice.remote_ufrag.data = NULL;
    f->ice.remote_ufrag.len = 0;
    f->check.username = str(LOCAL_UFRAG ":whoever");
    ice_send_check(f);

    assert_int_equal(f->res.action, PARLEY_ICELITE_SUCCESS);
}


static void
test_ice_wrong_username(void **state)
{
    size_t          i;
    ice_fixture_t  *f = *state;
    const char     *bad[] = {
        REMOTE_UFRAG ":" LOCAL_UFRAG,          /* the sender's order */
        LOCAL_UFRAG "x:" REMOTE_UFRAG,
        LOCAL_UFRAG ":" REMOTE_UFRAG "x",
        LOCAL_UFRAG ":",
        LOCAL_UFRAG,
        LOCAL_UFRAG REMOTE_UFRAG
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f->check.username = str(bad[i]);
        ice_send_check(f);
        ice_expect_drop(f, PARLEY_ICELITE_BAD_USERNAME);
    }
}


/*
 * A check that fails authentication is not answered (RFC 8445 7.3 allows
 * it): its source may be forged, and a 401 would be aimed at a victim.
 */
static void
test_ice_wrong_password(void **state)
{
    ice_fixture_t  *f = *state;

    f->check.key = &f->wrong_key;
    ice_send_check(f);

    ice_expect_drop(f, PARLEY_ICELITE_BAD_INTEGRITY);
}


/* No MESSAGE-INTEGRITY or no USERNAME: dropped, not answered with 400. */
static void
test_ice_missing_credentials(void **state)
{
    ice_fixture_t  *f = *state;

    f->check.key = NULL;
    ice_send_check(f);
    ice_expect_drop(f, PARLEY_ICELITE_NO_CREDENTIALS);

    f->check.key = &f->local_key;
    f->check.username.len = 0;
    ice_send_check(f);
    ice_expect_drop(f, PARLEY_ICELITE_NO_CREDENTIALS);
}


static void
test_ice_role_conflict(void **state)
{
    ice_fixture_t  *f = *state;

    f->check.role = PARLEY_STUN_ROLE_CONTROLLED;
    ice_send_check(f);

    ice_expect_error(f, PARLEY_ICELITE_ROLE_CONFLICT, 487);
}


/* The RFC 5769 request says ICE-CONTROLLED: a conflict for a lite agent. */
static void
test_ice_rfc5769_request(void **state)
{
    ice_fixture_t      *f = *state;
    parley_stun_key_t   key;

    key_init(&key, RFC5769_PASSWORD);
    f->ice.local_ufrag = str("evtj");
    f->ice.remote_ufrag = str("h6vY");
    f->ice.local_key = &key;

    ice_send_bytes(f, rfc5769_request, sizeof(rfc5769_request));

    assert_int_equal(f->res.action, PARLEY_ICELITE_ERROR);
    assert_int_equal(f->res.reason, PARLEY_ICELITE_ROLE_CONFLICT);
    ice_parse_answer(f, PARLEY_STUN_ERROR);
    assert_int_equal(parley_stun_verify_integrity(&f->resp, &key),
                     PARLEY_STUN_OK);

    parley_stun_key_free(&key);
}


/* A check as a browser would send it, plus one attribute. */
static void
make_check_with(tmsg_t *m, uint16_t extra_type)
{
    uint8_t  v[8] = { 0x6e, 0x00, 0x01, 0xff, 0, 0, 0, 0 };

    tmsg_start(m, 0x0001);
    tmsg_attr(m, PARLEY_STUN_ATTR_USERNAME, LOCAL_UFRAG ":" REMOTE_UFRAG, 9);
    tmsg_attr(m, PARLEY_STUN_ATTR_PRIORITY, v, 4);
    tmsg_attr(m, PARLEY_STUN_ATTR_ICE_CONTROLLING, v, 8);
    tmsg_attr(m, extra_type, v, 6);
    tmsg_hmac(m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20,
              LOCAL_PWD);
    tmsg_fingerprint(m);
}


static void
test_ice_unknown_attribute(void **state)
{
    tmsg_t          m;
    ice_fixture_t  *f = *state;

    make_check_with(&m, ATTR_UNKNOWN_REQUIRED);
    ice_send_bytes(f, m.buf, m.len);

    ice_expect_error(f, PARLEY_ICELITE_UNKNOWN_ATTRIBUTE, 420);
    assert_true(f->resp.attrs & PARLEY_STUN_HAS_UNKNOWN_ATTRIBUTES);
    assert_int_equal(f->resp.unknown_attributes.len, 2);
    assert_memory_equal(f->resp.unknown_attributes.data, "\x00\x33", 2);

    /* a comprehension-optional one is ignored */
    make_check_with(&m, ATTR_UNKNOWN_OPTIONAL);
    ice_send_bytes(f, m.buf, m.len);
    assert_int_equal(f->res.action, PARLEY_ICELITE_SUCCESS);
    assert_false(f->res.nominated);
}


/* More unknown types than a 420 lists: the answer still fits. */
static void
test_ice_many_unknown_attributes(void **state)
{
    uint8_t         v[4] = { 0x6e, 0x00, 0x01, 0xff };
    uint16_t        type;
    tmsg_t          m;
    ice_fixture_t  *f = *state;

    tmsg_start(&m, 0x0001);
    tmsg_attr(&m, PARLEY_STUN_ATTR_USERNAME, LOCAL_UFRAG ":" REMOTE_UFRAG, 9);
    tmsg_attr(&m, PARLEY_STUN_ATTR_PRIORITY, v, 4);

    for (type = 0x7ff0; type < 0x7ff0 + 2 * PARLEY_STUN_MAX_UNKNOWN; type++) {
        tmsg_attr(&m, type, NULL, 0);
    }

    tmsg_hmac(&m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20,
              LOCAL_PWD);
    tmsg_fingerprint(&m);
    ice_send_bytes(f, m.buf, m.len);

    ice_expect_error(f, PARLEY_ICELITE_UNKNOWN_ATTRIBUTE, 420);
    assert_int_equal(f->resp.unknown_attributes.len,
                     2 * PARLEY_STUN_MAX_UNKNOWN);
    assert_memory_equal(f->resp.unknown_attributes.data, "\x7f\xf0\x7f\xf1",
                        4);
}


/* RFC 8489 9.1.3: authentication comes before the unknown attributes. */
static void
test_ice_unknown_attribute_unauthenticated(void **state)
{
    tmsg_t          m;
    ice_fixture_t  *f = *state;

    make_check_with(&m, ATTR_UNKNOWN_REQUIRED);
    m.buf[m.len - 8 - 1] ^= 0x01;          /* last byte of the HMAC */
    m.len -= 8;                            /* and no FINGERPRINT */
    put16(m.buf + 2, (uint16_t) (m.len - 20));
    ice_send_bytes(f, m.buf, m.len);

    ice_expect_drop(f, PARLEY_ICELITE_BAD_INTEGRITY);
}


static void
test_ice_fingerprint(void **state)
{
    size_t          len;
    uint8_t         buf[512];
    ice_fixture_t  *f = *state;

    assert_int_equal(parley_stun_binding_request(buf, sizeof(buf), &f->check,
                                                 &len),
                     PARLEY_STUN_OK);

    buf[len - 1] ^= 0x01;
    ice_send_bytes(f, buf, len);
    ice_expect_drop(f, PARLEY_ICELITE_BAD_FINGERPRINT);

    /* without FINGERPRINT: answered, unless the caller requires it */
    put16(buf + 2, (uint16_t) (len - 8 - 20));
    ice_send_bytes(f, buf, len - 8);
    assert_int_equal(f->res.action, PARLEY_ICELITE_SUCCESS);

    f->ice.require_fingerprint = 1;
    ice_send_bytes(f, buf, len - 8);
    ice_expect_drop(f, PARLEY_ICELITE_NO_FINGERPRINT);
}


static void
test_ice_not_answered(void **state)
{
    size_t          len;
    uint8_t         buf[128];
    tmsg_t          m;
    ice_fixture_t  *f = *state;

    assert_int_equal(parley_stun_binding_indication(buf, sizeof(buf),
                                                    test_tid, &len),
                     PARLEY_STUN_OK);
    ice_send_bytes(f, buf, len);
    ice_expect_drop(f, PARLEY_ICELITE_INDICATION);

    ice_send_bytes(f, rfc5769_response_ipv4, sizeof(rfc5769_response_ipv4));
    ice_expect_drop(f, PARLEY_ICELITE_NOT_REQUEST);

    /* an Allocate request (RFC 8656) is not for an ICE agent */
    tmsg_start(&m, 0x0003);
    ice_send_bytes(f, m.buf, m.len);
    ice_expect_drop(f, PARLEY_ICELITE_NOT_BINDING);
}


static void
test_ice_answer_does_not_fit(void **state)
{
    size_t          len;
    uint8_t         buf[512];
    ice_fixture_t  *f = *state;

    assert_int_equal(parley_stun_binding_request(buf, sizeof(buf), &f->check,
                                                 &len),
                     PARLEY_STUN_OK);
    assert_int_equal(parley_stun_parse(&f->req, buf, len), PARLEY_STUN_OK);

    parley_icelite_check(&f->ice, &f->req, &f->source, f->out, 40,
                               &f->res);
    ice_expect_drop(f, PARLEY_ICELITE_NO_SPACE);
}


/* Responses to our own checks (consent, RFC 7675) */


static parley_icelite_response_t
ice_judge(ice_fixture_t *f, const uint8_t *buf, size_t len)
{
    parley_stun_msg_t  msg;

    assert_int_equal(parley_stun_parse(&msg, buf, len), PARLEY_STUN_OK);

    return parley_icelite_check_response(&msg, &f->local_key);
}


/* A success signed with the password the request used is consent. */
static void
test_ice_response_success(void **state)
{
    size_t          len;
    uint8_t         buf[128];
    ice_fixture_t  *f = *state;

    assert_int_equal(parley_stun_binding_success(buf, sizeof(buf), test_tid,
                                                 &f->source, &f->local_key,
                                                 &len),
                     PARLEY_STUN_OK);
    assert_int_equal(ice_judge(f, buf, len), PARLEY_ICELITE_RESPONSE_SUCCESS);

    /* another password: the answer is not the peer's */
    assert_int_equal(parley_stun_binding_success(buf, sizeof(buf), test_tid,
                                                 &f->source, &f->wrong_key,
                                                 &len),
                     PARLEY_STUN_OK);
    assert_int_equal(ice_judge(f, buf, len),
                     PARLEY_ICELITE_RESPONSE_BAD_INTEGRITY);

    /* an authenticated error is told apart, and is no consent */
    assert_int_equal(parley_stun_binding_error(buf, sizeof(buf), test_tid,
                                               487, NULL, 0, &f->local_key,
                                               &len),
                     PARLEY_STUN_OK);
    assert_int_equal(ice_judge(f, buf, len), PARLEY_ICELITE_RESPONSE_ERROR);

    assert_int_equal(parley_stun_binding_error(buf, sizeof(buf), test_tid,
                                               401, NULL, 0, NULL, &len),
                     PARLEY_STUN_OK);
    assert_int_equal(ice_judge(f, buf, len),
                     PARLEY_ICELITE_RESPONSE_NO_INTEGRITY);
}


/* Forged or mangled answers, each with its own reason. */
static void
test_ice_response_refused(void **state)
{
    size_t          len;
    uint8_t         xma[8] = { 0, 1, 0x21, 0x12, 0x21, 0x12, 0xa4, 0x43 };
    uint8_t         buf[512];
    tmsg_t          m;
    ice_fixture_t  *f = *state;

    /* a success without MESSAGE-INTEGRITY */
    tmsg_start(&m, 0x0101);
    tmsg_attr(&m, PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS, xma, sizeof(xma));
    tmsg_fingerprint(&m);
    assert_int_equal(ice_judge(f, m.buf, m.len),
                     PARLEY_ICELITE_RESPONSE_NO_INTEGRITY);

    /* signed, but without FINGERPRINT (RFC 8445 7) */
    tmsg_start(&m, 0x0101);
    tmsg_attr(&m, PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS, xma, sizeof(xma));
    tmsg_hmac(&m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20,
              LOCAL_PWD);
    assert_int_equal(ice_judge(f, m.buf, m.len),
                     PARLEY_ICELITE_RESPONSE_NO_FINGERPRINT);

    tmsg_fingerprint(&m);
    assert_int_equal(ice_judge(f, m.buf, m.len),
                     PARLEY_ICELITE_RESPONSE_SUCCESS);

    m.buf[m.len - 1] ^= 0x01;
    assert_int_equal(ice_judge(f, m.buf, m.len),
                     PARLEY_ICELITE_RESPONSE_BAD_FINGERPRINT);

    /* a success of another method (an Allocate's, RFC 8656) */
    tmsg_start(&m, 0x0103);
    tmsg_hmac(&m, EVP_sha1(), PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, 20,
              LOCAL_PWD);
    tmsg_fingerprint(&m);
    assert_int_equal(ice_judge(f, m.buf, m.len),
                     PARLEY_ICELITE_RESPONSE_NOT_BINDING);

    /* a request signed with the right password is no answer */
    assert_int_equal(parley_stun_binding_request(buf, sizeof(buf), &f->check,
                                                 &len),
                     PARLEY_STUN_OK);
    assert_int_equal(ice_judge(f, buf, len),
                     PARLEY_ICELITE_RESPONSE_NOT_RESPONSE);

    /* RFC 5769 2.2: authentic, under its own password only */
    assert_int_equal(ice_judge(f, rfc5769_response_ipv4,
                               sizeof(rfc5769_response_ipv4)),
                     PARLEY_ICELITE_RESPONSE_BAD_INTEGRITY);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_rfc5769_request),
        cmocka_unit_test(test_rfc5769_response_ipv4),
        cmocka_unit_test(test_rfc5769_response_ipv6),
        cmocka_unit_test(test_rfc5769_request_long_term),
        cmocka_unit_test(test_xor_mapped_address_matches_rfc5769),
        cmocka_unit_test(test_tampered_integrity),
        cmocka_unit_test(test_tampered_fingerprint),
        cmocka_unit_test(test_malformed_distinct_errors),
        cmocka_unit_test(test_order_after_integrity),
        cmocka_unit_test(test_attribute_values),
        cmocka_unit_test(test_method_and_class_bits),
        cmocka_unit_test(test_roundtrip_success),
        cmocka_unit_test(test_roundtrip_request),
        cmocka_unit_test(test_roundtrip_error_and_indication),
        cmocka_unit_test(test_build_nospace),
        cmocka_unit_test(test_key_and_addr),
        cmocka_unit_test(test_strings),
        cmocka_unit_test_setup_teardown(test_ice_good_check,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_check_not_nominating,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_remote_ufrag_not_known_yet,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_wrong_username,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_wrong_password,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_missing_credentials,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_role_conflict,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_rfc5769_request,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_unknown_attribute,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_many_unknown_attributes,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(
            test_ice_unknown_attribute_unauthenticated,
            ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_fingerprint,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_not_answered,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_answer_does_not_fit,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_response_success,
                                        ice_setup, ice_teardown),
        cmocka_unit_test_setup_teardown(test_ice_response_refused,
                                        ice_setup, ice_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
