/*
 * Unit tests for the SRTP layer (relay/parley_srtp.c).
 *
 * Most tests run once per profile: the cmocka state is the profile.
 *
 * Known answers. The published SRTP vectors give session keys (RFC 7714
 * 16 and 17) or single steps (RFC 3711 B.2 keystream, B.3 key derivation),
 * while libsrtp2 only takes a master key and always runs the key
 * derivation itself, so no published vector can be fed to it directly.
 * Instead a small reference SRTP is written here on OpenSSL's AES and
 * HMAC, from the RFC text alone; each of its steps is first checked
 * against a published vector (section "reference"), and then libsrtp2's
 * output for a master key is checked against the reference's byte for
 * byte, for both profiles, RTP and RTCP, both directions (section
 * "libsrtp2 against the reference").
 *
 * The byte arrays of section "RFC vectors" are those the RFCs print.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "parley_srtp.h"


/*
 * Every allocation of this process while "counting" is set, whoever makes
 * it (libsrtp2, the library under its ciphers). Under AddressSanitizer
 * (how make unit builds) through its allocation hook; otherwise this
 * program's malloc and calloc come before the C library's for every
 * shared object.
 */
static int                counting;
static volatile unsigned  allocations;

#if defined(__SANITIZE_ADDRESS__)

/* the runtime's own (its header comes with clang, not with gcc) */
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));

static void
count_malloc(const volatile void *p, size_t size)
{
    (void) p;
    (void) size;
    allocations += counting;
}


static void
count_free(const volatile void *p)
{
    (void) p;
}


static void
count_allocations(void)
{
    static int  installed;

    if (!installed) {
        __sanitizer_install_malloc_and_free_hooks(count_malloc, count_free);
        installed = 1;
    }
}

#else

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);


void *
malloc(size_t size)
{
    allocations += counting;
    return __libc_malloc(size);
}


void *
calloc(size_t n, size_t size)
{
    allocations += counting;
    return __libc_calloc(n, size);
}


void *
realloc(void *p, size_t size)
{
    allocations += counting;
    return __libc_realloc(p, size);
}


static void
count_allocations(void)
{
}

#endif


#define BUF_SIZE        (1500 + PARLEY_SRTP_TRAILER_ROOM)
#define TEST_SSRC       0x11223344
#define CM_TAG          10
#define GCM_TAG         16
#define SRTCP_INDEX     4


static const parley_srtp_profile_t  profile_cm = PARLEY_SRTP_AES128_CM_SHA1_80;
static const parley_srtp_profile_t  profile_gcm = PARLEY_SRTP_AEAD_AES_128_GCM;


/* RFC vectors */

/* RFC 3711 B.2: AES-CM keystream; the salt is printed already shifted */
static const uint8_t  b2_session_key[16] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
    0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c
};

static const uint8_t  b2_session_salt[14] = {
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd
};

static const uint8_t  b2_keystream[48] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80,   /* counter ..0000 */
    0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7,   /* counter ..0001 */
    0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
    0x41, 0xe9, 0x5b, 0x3b, 0xb0, 0xa2, 0xe8, 0xdd,   /* counter ..0002 */
    0x47, 0x79, 0x01, 0xe4, 0xfc, 0xa8, 0x94, 0xc0
};

/* RFC 3711 B.3: key derivation, packet index 0 */
static const uint8_t  b3_master_key[16] = {
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
    0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39
};

static const uint8_t  b3_master_salt[14] = {
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb,
    0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6
};

static const uint8_t  b3_cipher_key[16] = {
    0xc6, 0x1e, 0x7a, 0x93, 0x74, 0x4f, 0x39, 0xee,
    0x10, 0x73, 0x4a, 0xfe, 0x3f, 0xf7, 0xa0, 0x87
};

static const uint8_t  b3_cipher_salt[14] = {
    0x30, 0xcb, 0xbc, 0x08, 0x86, 0x3d, 0x8c, 0x85,
    0xd4, 0x9d, 0xb3, 0x4a, 0x9a, 0xe1
};

/* the first 160 bits, the HMAC-SHA1 key length */
static const uint8_t  b3_auth_key[20] = {
    0xce, 0xbe, 0x32, 0x1f, 0x6f, 0xf7, 0x71, 0x6b,
    0x6f, 0xd4, 0xab, 0x49, 0xaf, 0x25, 0x6a, 0x15,
    0x6d, 0x38, 0xba, 0xa4
};

/* RFC 7714 16.1.1 and 17.1: session key and salt ("Quid pro quo") */
static const uint8_t  rfc7714_key[16] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
};

static const uint8_t  rfc7714_salt[12] = {
    0x51, 0x75, 0x69, 0x64, 0x20, 0x70, 0x72, 0x6f,
    0x20, 0x71, 0x75, 0x6f
};

/* RFC 7714 16.1.1: SSRC 5501a0b2, ROC 0, SEQ f17b */
static const uint8_t  rfc7714_rtp_iv[12] = {
    0x51, 0x75, 0x3c, 0x65, 0x80, 0xc2, 0x72, 0x6f,
    0x20, 0x71, 0x84, 0x14
};

static const uint8_t  rfc7714_rtp[] = {
    0x80, 0x40, 0xf1, 0x7b, 0x80, 0x41, 0xf8, 0xd3,
    0x55, 0x01, 0xa0, 0xb2, 0x47, 0x61, 0x6c, 0x6c,
    0x69, 0x61, 0x20, 0x65, 0x73, 0x74, 0x20, 0x6f,
    0x6d, 0x6e, 0x69, 0x73, 0x20, 0x64, 0x69, 0x76,
    0x69, 0x73, 0x61, 0x20, 0x69, 0x6e, 0x20, 0x70,
    0x61, 0x72, 0x74, 0x65, 0x73, 0x20, 0x74, 0x72,
    0x65, 0x73
};

static const uint8_t  rfc7714_srtp[] = {
    0x80, 0x40, 0xf1, 0x7b, 0x80, 0x41, 0xf8, 0xd3,
    0x55, 0x01, 0xa0, 0xb2, 0xf2, 0x4d, 0xe3, 0xa3,
    0xfb, 0x34, 0xde, 0x6c, 0xac, 0xba, 0x86, 0x1c,
    0x9d, 0x7e, 0x4b, 0xca, 0xbe, 0x63, 0x3b, 0xd5,
    0x0d, 0x29, 0x4e, 0x6f, 0x42, 0xa5, 0xf4, 0x7a,
    0x51, 0xc7, 0xd1, 0x9b, 0x36, 0xde, 0x3a, 0xdf,
    0x88, 0x33, 0x89, 0x9d, 0x7f, 0x27, 0xbe, 0xb1,
    0x6a, 0x91, 0x52, 0xcf, 0x76, 0x5e, 0xe4, 0x39,
    0x0c, 0xce
};

/* RFC 7714 17.1: SSRC 4d617273 ("Mars"), SRTCP index 000005d4 */
#define RFC7714_SRTCP_INDEX  0x5d4

static const uint8_t  rfc7714_rtcp[] = {
    0x81, 0xc8, 0x00, 0x0d, 0x4d, 0x61, 0x72, 0x73,
    0x4e, 0x54, 0x50, 0x31, 0x4e, 0x54, 0x50, 0x32,
    0x52, 0x54, 0x50, 0x20, 0x00, 0x00, 0x04, 0x2a,
    0x00, 0x00, 0xe9, 0x30, 0x4c, 0x75, 0x6e, 0x61,
    0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
    0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
    0xde, 0xad, 0xbe, 0xef
};

static const uint8_t  rfc7714_srtcp[] = {
    0x81, 0xc8, 0x00, 0x0d, 0x4d, 0x61, 0x72, 0x73,
    0x63, 0xe9, 0x48, 0x85, 0xdc, 0xda, 0xb6, 0x7c,
    0xa7, 0x27, 0xd7, 0x66, 0x2f, 0x6b, 0x7e, 0x99,
    0x7f, 0xf5, 0xc0, 0xf7, 0x6c, 0x06, 0xf3, 0x2d,
    0xc6, 0x76, 0xa5, 0xf1, 0x73, 0x0d, 0x6f, 0xda,
    0x4c, 0xe0, 0x9b, 0x46, 0x86, 0x30, 0x3d, 0xed,
    0x0b, 0xb9, 0x27, 0x5b, 0xc8, 0x4a, 0xa4, 0x58,
    0x96, 0xcf, 0x4d, 0x2f, 0xc5, 0xab, 0xf8, 0x72,
    0x45, 0xd9, 0xea, 0xde, 0x80, 0x00, 0x05, 0xd4
};


/* keys and packets */

static const uint8_t  test_key[16] = {
    0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
    0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f
};

static const uint8_t  test_salt[14] = {
    0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0x06, 0x17,
    0x28, 0x39, 0x4a, 0x5b, 0x6c, 0x7d
};

static const uint8_t  other_key[16] = {
    0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
    0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0e
};


static parley_srtp_profile_t
profile_of(void **state)
{
    return *(const parley_srtp_profile_t *) *state;
}


static size_t
tag_len(parley_srtp_profile_t profile)
{
    return (profile == PARLEY_SRTP_AEAD_AES_128_GCM) ? GCM_TAG : CM_TAG;
}


static parley_srtp_master_t
master_of(parley_srtp_profile_t profile, const uint8_t *key,
    const uint8_t *salt)
{
    parley_srtp_master_t  m;

    m.key = key;
    m.key_len = 16;
    m.salt = salt;
    m.salt_len = parley_srtp_salt_len(profile);

    return m;
}


static void
create_with_key(parley_srtp_session_t *s, parley_srtp_profile_t profile,
    parley_srtp_direction_t direction, const uint8_t *key)
{
    parley_srtp_master_t  m;

    m = master_of(profile, key, test_salt);

    assert_int_equal(parley_srtp_create(s, profile, direction, &m, 0),
                     PARLEY_SRTP_OK);
}


/* A sender and a receiver keyed alike. */
static void
create_pair(parley_srtp_profile_t profile, parley_srtp_session_t *tx,
    parley_srtp_session_t *rx)
{
    create_with_key(tx, profile, PARLEY_SRTP_OUTBOUND, test_key);
    create_with_key(rx, profile, PARLEY_SRTP_INBOUND, test_key);
}


/* V=2, PT 96, the given seq and SSRC, a patterned payload. */
static size_t
make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload_len)
{
    size_t  i;

    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t) (seq >> 8);
    buf[3] = (uint8_t) seq;
    buf[4] = 0x00;
    buf[5] = 0x01;
    buf[6] = (uint8_t) (seq >> 8);
    buf[7] = (uint8_t) seq;
    buf[8] = (uint8_t) (ssrc >> 24);
    buf[9] = (uint8_t) (ssrc >> 16);
    buf[10] = (uint8_t) (ssrc >> 8);
    buf[11] = (uint8_t) ssrc;

    for (i = 0; i < payload_len; i++) {
        buf[12 + i] = (uint8_t) (i * 7 + seq);
    }

    return 12 + payload_len;
}


/*
 * A receiver report with one report block (RFC 3550 6.4.2) followed by a
 * PLI (RFC 4585 6.3.1): a compound packet as a browser sends.
 */
static size_t
make_rtcp(uint8_t *buf, uint32_t ssrc)
{
    static const uint8_t  rr_pli[] = {
        0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00,
        0x55, 0x66, 0x77, 0x88, 0x01, 0x00, 0x00, 0x02,
        0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x10,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x81, 0xce, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x55, 0x66, 0x77, 0x88
    };

    memcpy(buf, rr_pli, sizeof(rr_pli));

    buf[4] = (uint8_t) (ssrc >> 24);
    buf[5] = (uint8_t) (ssrc >> 16);
    buf[6] = (uint8_t) (ssrc >> 8);
    buf[7] = (uint8_t) ssrc;
    memcpy(buf + 36, buf + 4, 4);

    return sizeof(rr_pli);
}


static size_t
protect_rtp(parley_srtp_session_t *tx, uint8_t *buf, size_t len)
{
    assert_int_equal(parley_srtp_protect_rtp(tx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_OK);
    return len;
}


static size_t
protect_rtcp(parley_srtp_session_t *tx, uint8_t *buf, size_t len)
{
    assert_int_equal(parley_srtp_protect_rtcp(tx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_OK);
    return len;
}


/* Unprotects a copy, so that the caller's SRTP packet can be sent again. */
static parley_srtp_rc_t
unprotect_rtp_copy(parley_srtp_session_t *rx, const uint8_t *srtp,
    size_t len)
{
    uint8_t  buf[BUF_SIZE];

    memcpy(buf, srtp, len);

    return parley_srtp_unprotect_rtp(rx, buf, &len);
}


static void
send_seq(parley_srtp_session_t *tx, parley_srtp_session_t *rx,
    uint16_t seq)
{
    size_t   len;
    uint8_t  buf[BUF_SIZE];

    len = protect_rtp(tx, buf, make_rtp(buf, seq, TEST_SSRC, 20));
    assert_int_equal(unprotect_rtp_copy(rx, buf, len), PARLEY_SRTP_OK);
}


/* round trips */

/*
 * SRTP allocates nothing per packet: the ciphers' contexts are made with
 * each stream (parley_srtp_ossl.c); only their IV changes per packet.
 */
static void
test_no_allocation_per_packet(void **state)
{
    size_t                  len, rtcp_len;
    uint8_t                 buf[BUF_SIZE], rtcp[BUF_SIZE];
    unsigned                i;
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);
    count_allocations();

    /* the first packet of an SSRC makes its stream in libsrtp2: that
     * allocates, once per stream; the 99 packets after it are counted */

    for (i = 0; i < 100; i++) {
        if (i == 1) {
            allocations = 0;
            counting = 1;
        }

        len = make_rtp(buf, (uint16_t) (2000 + i), TEST_SSRC, 1100);
        if (parley_srtp_protect_rtp(&tx, buf, &len, BUF_SIZE)
            != PARLEY_SRTP_OK
            || parley_srtp_unprotect_rtp(&rx, buf, &len) != PARLEY_SRTP_OK)
        {
            break;
        }

        rtcp_len = make_rtcp(rtcp, TEST_SSRC);
        if (parley_srtp_protect_rtcp(&tx, rtcp, &rtcp_len, BUF_SIZE)
            != PARLEY_SRTP_OK
            || parley_srtp_unprotect_rtcp(&rx, rtcp, &rtcp_len)
               != PARLEY_SRTP_OK)
        {
            break;
        }
    }

    counting = 0;

    assert_int_equal(i, 100);
    assert_int_equal(allocations, 0);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static void
test_rtp_round_trip(void **state)
{
    size_t                  len, plain_len, sizes[] = { 0, 1, 15, 160, 1188 };
    uint8_t                 buf[BUF_SIZE], plain[BUF_SIZE];
    unsigned                i;
    parley_srtp_session_t   tx, rx;
    parley_srtp_profile_t   profile;

    profile = profile_of(state);
    create_pair(profile, &tx, &rx);

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        plain_len = make_rtp(plain, (uint16_t) (1000 + i), TEST_SSRC,
                             sizes[i]);
        memcpy(buf, plain, plain_len);

        len = protect_rtp(&tx, buf, plain_len);
        assert_int_equal(len, plain_len + tag_len(profile));

        /* RFC 3711 3.1: the header stays in the clear, the payload not */
        assert_memory_equal(buf, plain, 12);
        if (sizes[i] >= 8) {
            assert_memory_not_equal(buf + 12, plain + 12, 8);
        }

        assert_int_equal(parley_srtp_unprotect_rtp(&rx, buf, &len),
                         PARLEY_SRTP_OK);
        assert_int_equal(len, plain_len);
        assert_memory_equal(buf, plain, plain_len);
    }

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static void
test_rtcp_round_trip(void **state)
{
    size_t                  len, plain_len;
    uint8_t                 buf[BUF_SIZE], plain[BUF_SIZE];
    unsigned                i;
    parley_srtp_session_t   tx, rx;
    parley_srtp_profile_t   profile;

    profile = profile_of(state);
    create_pair(profile, &tx, &rx);

    for (i = 0; i < 3; i++) {
        plain_len = make_rtcp(plain, TEST_SSRC);
        memcpy(buf, plain, plain_len);

        len = protect_rtcp(&tx, buf, plain_len);
        assert_int_equal(len, plain_len + SRTCP_INDEX + tag_len(profile));

        /* RFC 3711 3.4: E flag set, the index counts up from 1 */
        assert_int_equal(buf[plain_len + (profile == profile_gcm ? 16 : 0)],
                         0x80);
        assert_int_equal(buf[plain_len + (profile == profile_gcm ? 19 : 3)],
                         i + 1);

        assert_int_equal(parley_srtp_unprotect_rtcp(&rx, buf, &len),
                         PARLEY_SRTP_OK);
        assert_int_equal(len, plain_len);
        assert_memory_equal(buf, plain, plain_len);
    }

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


/* authentication */

static void
test_tampered_rtp(void **state)
{
    size_t                  len, at, positions[4];
    uint8_t                 srtp[BUF_SIZE], buf[BUF_SIZE];
    unsigned                i;
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    len = protect_rtp(&tx, srtp, make_rtp(srtp, 7, TEST_SSRC, 100));

    /* a header byte (the marker bit), payload bytes, the tag's last byte */
    positions[0] = 1;
    positions[1] = 12;
    positions[2] = 60;
    positions[3] = len - 1;

    for (i = 0; i < 4; i++) {
        at = positions[i];
        memcpy(buf, srtp, len);
        buf[at] ^= (at == 1) ? 0x80 : 0x01;

        assert_int_equal(unprotect_rtp_copy(&rx, buf, len),
                         PARLEY_SRTP_ERR_AUTH);
    }

    /* the failures left no trace in the window: the original passes */
    assert_int_equal(unprotect_rtp_copy(&rx, srtp, len), PARLEY_SRTP_OK);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static void
test_tampered_rtcp(void **state)
{
    size_t                  len, n;
    uint8_t                 srtcp[BUF_SIZE], buf[BUF_SIZE];
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    len = protect_rtcp(&tx, srtcp, make_rtcp(srtcp, TEST_SSRC));

    memcpy(buf, srtcp, len);
    buf[20] ^= 0x04;
    n = len;
    assert_int_equal(parley_srtp_unprotect_rtcp(&rx, buf, &n),
                     PARLEY_SRTP_ERR_AUTH);

    /* clearing the E flag claims an unencrypted packet: still caught */
    memcpy(buf, srtcp, len);
    buf[len - 1 - (profile_of(state) == profile_gcm ? 3 : 13)] ^= 0x80;
    n = len;
    assert_int_not_equal(parley_srtp_unprotect_rtcp(&rx, buf, &n),
                         PARLEY_SRTP_OK);

    n = len;
    assert_int_equal(parley_srtp_unprotect_rtcp(&rx, srtcp, &n),
                     PARLEY_SRTP_OK);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static void
test_wrong_key(void **state)
{
    size_t                  len;
    uint8_t                 buf[BUF_SIZE];
    parley_srtp_session_t   tx, rx;
    parley_srtp_profile_t   profile;

    profile = profile_of(state);
    create_with_key(&tx, profile, PARLEY_SRTP_OUTBOUND, test_key);
    create_with_key(&rx, profile, PARLEY_SRTP_INBOUND, other_key);

    len = protect_rtp(&tx, buf, make_rtp(buf, 1, TEST_SSRC, 50));
    assert_int_equal(parley_srtp_unprotect_rtp(&rx, buf, &len),
                     PARLEY_SRTP_ERR_AUTH);

    len = protect_rtcp(&tx, buf, make_rtcp(buf, TEST_SSRC));
    assert_int_equal(parley_srtp_unprotect_rtcp(&rx, buf, &len),
                     PARLEY_SRTP_ERR_AUTH);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


/* replay (RFC 3711 3.3.2) */

static void
test_replay_rtp(void **state)
{
    size_t                  len;
    uint8_t                 srtp[BUF_SIZE];
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    len = protect_rtp(&tx, srtp, make_rtp(srtp, 500, TEST_SSRC, 40));

    assert_int_equal(unprotect_rtp_copy(&rx, srtp, len), PARLEY_SRTP_OK);
    assert_int_equal(unprotect_rtp_copy(&rx, srtp, len),
                     PARLEY_SRTP_ERR_REPLAY);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static void
test_replay_rtcp(void **state)
{
    size_t                  len, n;
    uint8_t                 srtcp[BUF_SIZE], buf[BUF_SIZE];
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    len = protect_rtcp(&tx, srtcp, make_rtcp(srtcp, TEST_SSRC));

    memcpy(buf, srtcp, len);
    n = len;
    assert_int_equal(parley_srtp_unprotect_rtcp(&rx, buf, &n),
                     PARLEY_SRTP_OK);

    memcpy(buf, srtcp, len);
    n = len;
    assert_int_equal(parley_srtp_unprotect_rtcp(&rx, buf, &n),
                     PARLEY_SRTP_ERR_REPLAY);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


/*
 * With the default window of 1024, a packet held back while 1023 newer
 * ones pass (a NACK answered late) is still accepted; one 1100 behind the
 * newest is too old, whether or not it was seen. The sender keeps the
 * same window: it cannot protect an index that old again either.
 */
static void
test_replay_window(void **state)
{
    size_t                  late_len, old_len, unseen_len, len;
    uint8_t                 late[BUF_SIZE], old[BUF_SIZE], buf[BUF_SIZE];
    uint8_t                 unseen[BUF_SIZE];
    uint16_t                seq;
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    unseen_len = protect_rtp(&tx, unseen, make_rtp(unseen, 0, TEST_SSRC, 20));

    for (seq = 1; seq <= 100; seq++) {
        send_seq(&tx, &rx, seq);
    }

    old_len = protect_rtp(&tx, old, make_rtp(old, 101, TEST_SSRC, 20));
    assert_int_equal(unprotect_rtp_copy(&rx, old, old_len), PARLEY_SRTP_OK);

    late_len = protect_rtp(&tx, late, make_rtp(late, 102, TEST_SSRC, 20));

    for (seq = 103; seq <= 1125; seq++) {
        send_seq(&tx, &rx, seq);
    }

    /* 1125 - 102 = 1023 behind: inside the window, never seen */
    assert_int_equal(unprotect_rtp_copy(&rx, late, late_len),
                     PARLEY_SRTP_OK);
    assert_int_equal(unprotect_rtp_copy(&rx, late, late_len),
                     PARLEY_SRTP_ERR_REPLAY);

    for (seq = 1126; seq <= 1201; seq++) {
        send_seq(&tx, &rx, seq);
    }

    /* 1201 - 101 = 1100 behind */
    assert_int_equal(unprotect_rtp_copy(&rx, old, old_len),
                     PARLEY_SRTP_ERR_REPLAY_OLD);

    assert_int_equal(unprotect_rtp_copy(&rx, unseen, unseen_len),
                     PARLEY_SRTP_ERR_REPLAY_OLD);

    len = make_rtp(buf, 101, TEST_SSRC, 20);
    assert_int_equal(parley_srtp_protect_rtp(&tx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_ERR_REPLAY_OLD);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


/*
 * An index goes out once: protecting it again fails, even with the same
 * bytes, and leaves the buffer unsent, so that no caller can reuse a
 * keystream or a GCM nonce on another plaintext (RFC 3711 9.1). The next
 * index still goes out.
 */
static void
test_repeat_tx(void **state)
{
    size_t                  plain_len, first_len, again_len;
    uint8_t                 plain[BUF_SIZE], first[BUF_SIZE];
    uint8_t                 again[BUF_SIZE];
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    plain_len = make_rtp(plain, 42, TEST_SSRC, 300);

    memcpy(first, plain, plain_len);
    first_len = protect_rtp(&tx, first, plain_len);

    memcpy(again, plain, plain_len);
    again_len = plain_len;
    assert_int_equal(parley_srtp_protect_rtp(&tx, again, &again_len,
                                             BUF_SIZE),
                     PARLEY_SRTP_ERR_REPLAY);

    /* another payload under the same number: refused just the same */
    plain[plain_len - 1] ^= 0xff;
    memcpy(again, plain, plain_len);
    again_len = plain_len;
    assert_int_equal(parley_srtp_protect_rtp(&tx, again, &again_len,
                                             BUF_SIZE),
                     PARLEY_SRTP_ERR_REPLAY);

    assert_int_equal(unprotect_rtp_copy(&rx, first, first_len),
                     PARLEY_SRTP_OK);

    plain_len = make_rtp(plain, 43, TEST_SSRC, 300);
    memcpy(first, plain, plain_len);
    first_len = protect_rtp(&tx, first, plain_len);
    assert_int_equal(unprotect_rtp_copy(&rx, first, first_len),
                     PARLEY_SRTP_OK);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


/* ssrc_any: each SSRC gets its own stream, keyed alike, no policy change */
static void
test_many_ssrcs(void **state)
{
    size_t                  len;
    uint8_t                 buf[BUF_SIZE];
    uint32_t                ssrc;
    unsigned                i;
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    for (i = 0; i < 8; i++) {
        ssrc = 0x1000 + i * 0x01010101;

        /* the same sequence number on every SSRC is no replay */
        len = protect_rtp(&tx, buf, make_rtp(buf, 9, ssrc, 64));
        assert_int_equal(unprotect_rtp_copy(&rx, buf, len), PARLEY_SRTP_OK);

        len = protect_rtcp(&tx, buf, make_rtcp(buf, ssrc));
        assert_int_equal(parley_srtp_unprotect_rtcp(&rx, buf, &len),
                         PARLEY_SRTP_OK);
    }

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


/*
 * A packet that fails authentication leaves no per-SSRC state behind, so
 * that packets with made-up SSRCs cannot grow a session's memory.
 */
static void
test_unauthenticated_ssrcs(void **state)
{
    size_t                  len;
    uint8_t                 buf[BUF_SIZE];
    uint32_t                ssrc;
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    for (ssrc = 1; ssrc <= 1000; ssrc++) {
        len = make_rtp(buf, 1, ssrc, 64 + tag_len(profile_of(state)));
        assert_int_equal(parley_srtp_unprotect_rtp(&rx, buf, &len),
                         PARLEY_SRTP_ERR_AUTH);
    }

    for (ssrc = 1; ssrc <= 1000; ssrc += 111) {
        assert_int_equal(parley_srtp_forget_ssrc(&rx, ssrc),
                         PARLEY_SRTP_ERR_NOT_FOUND);
    }

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static void
test_forget_ssrc(void **state)
{
    size_t                  len;
    uint8_t                 srtp[BUF_SIZE];
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    assert_int_equal(parley_srtp_forget_ssrc(&rx, TEST_SSRC),
                     PARLEY_SRTP_ERR_NOT_FOUND);

    len = protect_rtp(&tx, srtp, make_rtp(srtp, 3, TEST_SSRC, 10));
    assert_int_equal(unprotect_rtp_copy(&rx, srtp, len), PARLEY_SRTP_OK);
    assert_int_equal(unprotect_rtp_copy(&rx, srtp, len),
                     PARLEY_SRTP_ERR_REPLAY);

    /* the stream is gone, and with it the window, as the header warns */
    assert_int_equal(parley_srtp_forget_ssrc(&rx, TEST_SSRC), PARLEY_SRTP_OK);
    assert_int_equal(unprotect_rtp_copy(&rx, srtp, len), PARLEY_SRTP_OK);

    assert_int_equal(parley_srtp_forget_ssrc(&tx, TEST_SSRC), PARLEY_SRTP_OK);
    assert_int_equal(parley_srtp_forget_ssrc(&tx, TEST_SSRC),
                     PARLEY_SRTP_ERR_NOT_FOUND);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


/* bad input */

/*
 * Every prefix of a valid SRTP or SRTCP packet, in a heap block of exactly
 * that size so that AddressSanitizer sees any read past it, is refused.
 */
static void
test_truncated(void **state)
{
    size_t                  rtp_len, rtcp_len, n, len;
    uint8_t                 rtp[BUF_SIZE], rtcp[BUF_SIZE], *p;
    parley_srtp_rc_t        rc;
    parley_srtp_session_t   tx, rx;
    parley_srtp_profile_t   profile;

    profile = profile_of(state);
    create_pair(profile, &tx, &rx);

    rtp_len = protect_rtp(&tx, rtp, make_rtp(rtp, 77, TEST_SSRC, 40));
    rtcp_len = protect_rtcp(&tx, rtcp, make_rtcp(rtcp, TEST_SSRC));

    for (n = 0; n < rtp_len; n++) {
        p = malloc(n ? n : 1);
        assert_non_null(p);
        memcpy(p, rtp, n);
        len = n;

        rc = parley_srtp_unprotect_rtp(&rx, p, &len);
        if (n < 12 + tag_len(profile)) {
            assert_int_equal(rc, PARLEY_SRTP_ERR_TOO_SHORT);
        } else {
            assert_int_not_equal(rc, PARLEY_SRTP_OK);
        }

        free(p);
    }

    for (n = 0; n < rtcp_len; n++) {
        p = malloc(n ? n : 1);
        assert_non_null(p);
        memcpy(p, rtcp, n);
        len = n;

        rc = parley_srtp_unprotect_rtcp(&rx, p, &len);
        if (n < 8 + SRTCP_INDEX + tag_len(profile)) {
            assert_int_equal(rc, PARLEY_SRTP_ERR_TOO_SHORT);
        } else {
            assert_int_not_equal(rc, PARLEY_SRTP_OK);
        }

        free(p);
    }

    /* nothing above disturbed the receiver */
    assert_int_equal(unprotect_rtp_copy(&rx, rtp, rtp_len), PARLEY_SRTP_OK);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


/* A CSRC count or header extension that runs past the end. */
static void
test_malformed_header(void **state)
{
    size_t                  len;
    uint8_t                 buf[BUF_SIZE];
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    len = make_rtp(buf, 5, TEST_SSRC, 4);
    buf[0] = 0x8f;                        /* 15 CSRCs, 60 bytes */
    assert_int_equal(parley_srtp_protect_rtp(&tx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_ERR_MALFORMED);

    len = make_rtp(buf, 6, TEST_SSRC, 40);
    buf[0] = 0x8f;
    assert_int_equal(parley_srtp_unprotect_rtp(&rx, buf, &len),
                     PARLEY_SRTP_ERR_MALFORMED);

    len = make_rtp(buf, 7, TEST_SSRC, 40);
    buf[0] = 0x90;                        /* extension of 0xffff words */
    buf[12] = 0xbe;
    buf[13] = 0xde;
    buf[14] = 0xff;
    buf[15] = 0xff;
    assert_int_equal(parley_srtp_unprotect_rtp(&rx, buf, &len),
                     PARLEY_SRTP_ERR_MALFORMED);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static void
test_protect_limits(void **state)
{
    size_t                  len;
    uint8_t                 buf[BUF_SIZE];
    parley_srtp_session_t   tx, rx;

    create_pair(profile_of(state), &tx, &rx);

    len = make_rtp(buf, 1, TEST_SSRC, 100);
    assert_int_equal(parley_srtp_protect_rtp(&tx, buf, &len,
                         len + PARLEY_SRTP_TRAILER_ROOM - 1),
                     PARLEY_SRTP_ERR_NOSPACE);
    assert_int_equal(parley_srtp_protect_rtp(&tx, buf, &len, len - 1),
                     PARLEY_SRTP_ERR_NOSPACE);
    assert_int_equal(len, 112);

    len = 11;
    assert_int_equal(parley_srtp_protect_rtp(&tx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_ERR_TOO_SHORT);
    len = 7;
    assert_int_equal(parley_srtp_protect_rtcp(&tx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_ERR_TOO_SHORT);

    len = PARLEY_SRTP_MAX_PACKET + 1;
    assert_int_equal(parley_srtp_protect_rtp(&tx, buf, &len, SIZE_MAX),
                     PARLEY_SRTP_ERR_TOO_LONG);
    assert_int_equal(parley_srtp_unprotect_rtp(&rx, buf, &len),
                     PARLEY_SRTP_ERR_TOO_LONG);

    /* each session works one way only */
    len = make_rtp(buf, 2, TEST_SSRC, 10);
    assert_int_equal(parley_srtp_protect_rtp(&rx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_ERR_DIRECTION);
    assert_int_equal(parley_srtp_unprotect_rtp(&tx, buf, &len),
                     PARLEY_SRTP_ERR_DIRECTION);
    assert_int_equal(parley_srtp_protect_rtcp(&rx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_ERR_DIRECTION);
    assert_int_equal(parley_srtp_unprotect_rtcp(&tx, buf, &len),
                     PARLEY_SRTP_ERR_DIRECTION);

    assert_int_equal(parley_srtp_protect_rtp(&tx, NULL, &len, BUF_SIZE),
                     PARLEY_SRTP_ERR_INVAL);
    assert_int_equal(parley_srtp_unprotect_rtp(NULL, buf, &len),
                     PARLEY_SRTP_ERR_INVAL);

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);

    /* a destroyed session is no session, and destroying it again is fine */
    assert_int_equal(parley_srtp_protect_rtp(&tx, buf, &len, BUF_SIZE),
                     PARLEY_SRTP_ERR_INVAL);
    parley_srtp_destroy(&tx);
}


/* creation */

static void
test_create_checks(void **state)
{
    uint8_t                 long_salt[16];
    parley_srtp_master_t    m;
    parley_srtp_session_t   s;

    (void) state;

    memset(long_salt, 0x5a, sizeof(long_salt));

    /* CM wants a 14-byte salt, GCM a 12-byte one (RFC 7714 12) */
    m = master_of(profile_gcm, test_key, long_salt);
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_OUTBOUND, &m, 0),
                     PARLEY_SRTP_ERR_KEY_LENGTH);

    m = master_of(profile_cm, test_key, long_salt);
    assert_int_equal(parley_srtp_create(&s, profile_gcm,
                         PARLEY_SRTP_INBOUND, &m, 0),
                     PARLEY_SRTP_ERR_KEY_LENGTH);

    m = master_of(profile_cm, test_key, long_salt);
    m.key_len = 32;
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_OUTBOUND, &m, 0),
                     PARLEY_SRTP_ERR_KEY_LENGTH);

    m = master_of(profile_cm, test_key, long_salt);
    assert_int_equal(parley_srtp_create(&s, (parley_srtp_profile_t) 7,
                         PARLEY_SRTP_OUTBOUND, &m, 0),
                     PARLEY_SRTP_ERR_PROFILE);
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         (parley_srtp_direction_t) 2, &m, 0),
                     PARLEY_SRTP_ERR_INVAL);
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_INBOUND, &m, 63),
                     PARLEY_SRTP_ERR_WINDOW);
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_INBOUND, &m, 32768),
                     PARLEY_SRTP_ERR_WINDOW);

    m.key = NULL;
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_INBOUND, &m, 0),
                     PARLEY_SRTP_ERR_INVAL);

    m = master_of(profile_cm, test_key, long_salt);
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_INBOUND, &m, 64),
                     PARLEY_SRTP_OK);
    parley_srtp_destroy(&s);
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_INBOUND, &m, 32767),
                     PARLEY_SRTP_OK);
    parley_srtp_destroy(&s);
}


/* init is idempotent; create refuses to run before it */
static void
test_init_shutdown(void **state)
{
    parley_srtp_master_t    m;
    parley_srtp_session_t   s;

    (void) state;

    assert_int_equal(parley_srtp_init(), PARLEY_SRTP_OK);
    assert_int_equal(parley_srtp_init(), PARLEY_SRTP_OK);

    parley_srtp_shutdown();
    parley_srtp_shutdown();

    m = master_of(profile_cm, test_key, test_salt);
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_OUTBOUND, &m, 0),
                     PARLEY_SRTP_ERR_NOT_READY);

    assert_int_equal(parley_srtp_init(), PARLEY_SRTP_OK);
    assert_int_equal(parley_srtp_create(&s, profile_cm,
                         PARLEY_SRTP_OUTBOUND, &m, 0),
                     PARLEY_SRTP_OK);
    parley_srtp_destroy(&s);
}


static void
test_profiles(void **state)
{
    parley_srtp_profile_t  p;

    (void) state;

    assert_int_equal(parley_srtp_profile_from_dtls(0x0001, &p),
                     PARLEY_SRTP_OK);
    assert_int_equal(p, PARLEY_SRTP_AES128_CM_SHA1_80);
    assert_int_equal(parley_srtp_profile_from_dtls(0x0007, &p),
                     PARLEY_SRTP_OK);
    assert_int_equal(p, PARLEY_SRTP_AEAD_AES_128_GCM);

    /* SRTP_AES128_CM_SHA1_32 and SRTP_AEAD_AES_256_GCM are not offered */
    assert_int_equal(parley_srtp_profile_from_dtls(0x0002, &p),
                     PARLEY_SRTP_ERR_PROFILE);
    assert_int_equal(parley_srtp_profile_from_dtls(0x0008, &p),
                     PARLEY_SRTP_ERR_PROFILE);

    assert_string_equal(parley_srtp_profile_name(profile_cm),
                        "SRTP_AES128_CM_SHA1_80");
    assert_string_equal(parley_srtp_profile_name(profile_gcm),
                        "SRTP_AEAD_AES_128_GCM");

    assert_int_equal(parley_srtp_salt_len(profile_cm), 14);
    assert_int_equal(parley_srtp_salt_len(profile_gcm), 12);
    assert_int_equal(parley_srtp_salt_len((parley_srtp_profile_t) 9), 0);
}


static void
test_rc_str(void **state)
{
    int  rc;

    (void) state;

    for (rc = 0; rc < PARLEY_SRTP_RC_COUNT; rc++) {
        assert_string_not_equal(parley_srtp_rc_str((parley_srtp_rc_t) rc),
                                "unknown result");
    }

    assert_string_equal(parley_srtp_rc_str(PARLEY_SRTP_ERR_REPLAY_OLD),
                        "packet older than the replay window");
    assert_string_equal(parley_srtp_rc_str(PARLEY_SRTP_RC_COUNT),
                        "unknown result");
}


/*
 * reference
 *
 * SRTP from the RFC text, on OpenSSL, for packets without padding and a
 * rollover counter given by the caller. It keys with a session key set
 * derived from a master key as RFC 3711 4.3 says.
 */

typedef struct {
    uint8_t  enc[16];
    uint8_t  auth[20];
    uint8_t  salt[14];             /* 12 used by GCM */
} ref_keys_t;


static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


/* XORs AES-128 in counter mode, counter block iv, into buf. */
static void
ref_aes_ctr(const uint8_t *key, const uint8_t *iv, uint8_t *buf, size_t len)
{
    int              n;
    EVP_CIPHER_CTX  *ctx;

    ctx = EVP_CIPHER_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key,
                                        iv), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, buf, &n, buf, (int) len), 1);
    EVP_CIPHER_CTX_free(ctx);
}


/*
 * RFC 3711 4.3.1 and 4.3.3, key derivation rate 0: x = (label || r) XOR
 * master_salt, right-aligned, r = 0; the output is AES-CM keystream with
 * IV x * 2^16. RFC 7714 11 keeps this KDF for GCM's 96-bit master salt,
 * which is taken as the high 96 bits of the 112-bit x (followed by two
 * zero octets), as libsrtp2 and so the browsers do.
 */
static void
ref_kdf(const uint8_t *master_key, const uint8_t *master_salt,
    size_t salt_len, uint8_t label, uint8_t *out, size_t len)
{
    uint8_t  iv[16];

    memset(iv, 0, sizeof(iv));
    memcpy(iv, master_salt, salt_len);
    iv[7] ^= label;

    memset(out, 0, len);
    ref_aes_ctr(master_key, iv, out, len);
}


/* labels 0, 1, 2 for SRTP; 3, 4, 5 for SRTCP (RFC 3711 4.3.2) */
static void
ref_derive(const uint8_t *master_key, const uint8_t *master_salt,
    size_t salt_len, int rtcp, ref_keys_t *k)
{
    uint8_t  base;

    base = rtcp ? 3 : 0;

    ref_kdf(master_key, master_salt, salt_len, base, k->enc, 16);
    ref_kdf(master_key, master_salt, salt_len, base + 1, k->auth, 20);
    ref_kdf(master_key, master_salt, salt_len, base + 2, k->salt, 14);
}


/* RFC 3550 5.1 and 5.3.1: the header, with CSRCs and extension */
static size_t
ref_rtp_header_len(const uint8_t *pkt)
{
    size_t  len;

    len = 12 + 4 * (size_t) (pkt[0] & 0x0f);

    if (pkt[0] & 0x10) {
        len += 4 + 4 * (((size_t) pkt[len + 2] << 8) | pkt[len + 3]);
    }

    return len;
}


static void
ref_hmac_sha1_80(const uint8_t *key, const uint8_t *msg, size_t len,
    uint8_t *tag)
{
    uint8_t   md[EVP_MAX_MD_SIZE];
    unsigned  md_len;

    assert_non_null(HMAC(EVP_sha1(), key, 20, msg, len, md, &md_len));
    memcpy(tag, md, CM_TAG);
}


/*
 * RFC 3711 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), and
 * 4.2: the tag is HMAC-SHA1 over the packet then the ROC, cut to 80 bits.
 */
static size_t
ref_cm_protect_rtp(const ref_keys_t *k, uint32_t roc, const uint8_t *pkt,
    size_t len, uint8_t *out)
{
    size_t    hlen;
    uint8_t   iv[16];
    uint8_t   roc_be[4];
    uint8_t   msg[BUF_SIZE];
    unsigned  i;

    hlen = ref_rtp_header_len(pkt);

    memset(iv, 0, sizeof(iv));
    memcpy(iv, k->salt, 14);
    for (i = 0; i < 4; i++) {
        iv[4 + i] ^= pkt[8 + i];
    }
    put32(roc_be, roc);
    for (i = 0; i < 4; i++) {
        iv[8 + i] ^= roc_be[i];
    }
    iv[12] ^= pkt[2];
    iv[13] ^= pkt[3];

    memcpy(out, pkt, len);
    ref_aes_ctr(k->enc, iv, out + hlen, len - hlen);

    memcpy(msg, out, len);
    memcpy(msg + len, roc_be, 4);
    ref_hmac_sha1_80(k->auth, msg, len + 4, out + len);

    return len + CM_TAG;
}


/* RFC 3711 3.4 and 4.1.1: from octet 8, IV with the 31-bit SRTCP index */
static size_t
ref_cm_protect_rtcp(const ref_keys_t *k, uint32_t index, const uint8_t *pkt,
    size_t len, uint8_t *out)
{
    uint8_t   iv[16], e_index[4];
    unsigned  i;

    memset(iv, 0, sizeof(iv));
    memcpy(iv, k->salt, 14);
    for (i = 0; i < 4; i++) {
        iv[4 + i] ^= pkt[4 + i];
    }
    put32(e_index, index);
    for (i = 0; i < 4; i++) {
        iv[10 + i] ^= e_index[i];
    }

    memcpy(out, pkt, len);
    ref_aes_ctr(k->enc, iv, out + 8, len - 8);

    put32(out + len, 0x80000000 | index);
    ref_hmac_sha1_80(k->auth, out, len + 4, out + len + 4);

    return len + 4 + CM_TAG;
}


/* AES-128-GCM with a 12-octet IV and a 16-octet tag after the text. */
static void
ref_gcm(const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
    size_t aad_len, uint8_t *buf, size_t len)
{
    int              n;
    EVP_CIPHER_CTX  *ctx;

    ctx = EVP_CIPHER_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key,
                                        iv), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) aad_len),
                     1);
    assert_int_equal(EVP_EncryptUpdate(ctx, buf, &n, buf, (int) len), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, buf + len, &n), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG,
                                         buf + len), 1);
    EVP_CIPHER_CTX_free(ctx);
}


/* RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt */
static void
ref_gcm_rtp_iv(const uint8_t *salt, const uint8_t *pkt, uint32_t roc,
    uint8_t *iv)
{
    unsigned  i;

    memset(iv, 0, 12);
    memcpy(iv + 2, pkt + 8, 4);
    put32(iv + 6, roc);
    memcpy(iv + 10, pkt + 2, 2);

    for (i = 0; i < 12; i++) {
        iv[i] ^= salt[i];
    }
}


/* RFC 7714 8.2: the header is the associated data */
static size_t
ref_gcm_protect_rtp(const uint8_t *key, const uint8_t *salt, uint32_t roc,
    const uint8_t *pkt, size_t len, uint8_t *out)
{
    size_t   hlen;
    uint8_t  iv[12];

    hlen = ref_rtp_header_len(pkt);
    ref_gcm_rtp_iv(salt, pkt, roc, iv);

    memcpy(out, pkt, len);
    ref_gcm(key, iv, pkt, hlen, out + hlen, len - hlen);

    return len + GCM_TAG;
}


/*
 * RFC 7714 9.1 and 9.2: IV = (00 00 || SSRC || 00 00 || 0 || index) XOR
 * salt; the associated data is the first 8 octets and E || index, which
 * follows the tag.
 */
static size_t
ref_gcm_protect_rtcp(const uint8_t *key, const uint8_t *salt,
    uint32_t index, const uint8_t *pkt, size_t len, uint8_t *out)
{
    uint8_t   iv[12], aad[12];
    unsigned  i;

    memset(iv, 0, sizeof(iv));
    memcpy(iv + 2, pkt + 4, 4);
    put32(iv + 8, index);
    for (i = 0; i < 12; i++) {
        iv[i] ^= salt[i];
    }

    memcpy(aad, pkt, 8);
    put32(aad + 8, 0x80000000 | index);

    memcpy(out, pkt, len);
    ref_gcm(key, iv, aad, sizeof(aad), out + 8, len - 8);
    memcpy(out + len + GCM_TAG, aad + 8, 4);

    return len + GCM_TAG + 4;
}


static void
test_ref_keystream_rfc3711_b2(void **state)
{
    uint8_t  iv[16], out[48];

    (void) state;

    memset(iv, 0, sizeof(iv));
    memcpy(iv, b2_session_salt, sizeof(b2_session_salt));
    memset(out, 0, sizeof(out));

    ref_aes_ctr(b2_session_key, iv, out, sizeof(out));

    assert_memory_equal(out, b2_keystream, sizeof(b2_keystream));
}


static void
test_ref_kdf_rfc3711_b3(void **state)
{
    ref_keys_t  k;

    (void) state;

    ref_derive(b3_master_key, b3_master_salt, 14, 0, &k);

    assert_memory_equal(k.enc, b3_cipher_key, 16);
    assert_memory_equal(k.salt, b3_cipher_salt, 14);
    assert_memory_equal(k.auth, b3_auth_key, 20);
}


static void
test_ref_gcm_rtp_rfc7714_16(void **state)
{
    size_t   len;
    uint8_t  iv[12], out[BUF_SIZE];

    (void) state;

    ref_gcm_rtp_iv(rfc7714_salt, rfc7714_rtp, 0, iv);
    assert_memory_equal(iv, rfc7714_rtp_iv, sizeof(iv));

    len = ref_gcm_protect_rtp(rfc7714_key, rfc7714_salt, 0, rfc7714_rtp,
                              sizeof(rfc7714_rtp), out);

    assert_int_equal(len, sizeof(rfc7714_srtp));
    assert_memory_equal(out, rfc7714_srtp, sizeof(rfc7714_srtp));
}


static void
test_ref_gcm_rtcp_rfc7714_17(void **state)
{
    size_t   len;
    uint8_t  out[BUF_SIZE];

    (void) state;

    len = ref_gcm_protect_rtcp(rfc7714_key, rfc7714_salt,
                               RFC7714_SRTCP_INDEX, rfc7714_rtcp,
                               sizeof(rfc7714_rtcp), out);

    assert_int_equal(len, sizeof(rfc7714_srtcp));
    assert_memory_equal(out, rfc7714_srtcp, sizeof(rfc7714_srtcp));
}


/* libsrtp2 against the reference */

/* RFC 3711 B.3's master key; GCM takes the first 12 octets of its salt */
static void
create_b3(parley_srtp_session_t *s, parley_srtp_profile_t profile,
    parley_srtp_direction_t direction)
{
    parley_srtp_master_t  m;

    m = master_of(profile, b3_master_key, b3_master_salt);

    assert_int_equal(parley_srtp_create(s, profile, direction, &m, 0),
                     PARLEY_SRTP_OK);
}


static size_t
ref_protect_rtp(parley_srtp_profile_t profile, uint32_t roc,
    const uint8_t *pkt, size_t len, uint8_t *out)
{
    size_t      salt_len;
    ref_keys_t  k;

    salt_len = parley_srtp_salt_len(profile);
    ref_derive(b3_master_key, b3_master_salt, salt_len, 0, &k);

    if (profile == PARLEY_SRTP_AEAD_AES_128_GCM) {
        return ref_gcm_protect_rtp(k.enc, k.salt, roc, pkt, len, out);
    }

    return ref_cm_protect_rtp(&k, roc, pkt, len, out);
}


static size_t
ref_protect_rtcp(parley_srtp_profile_t profile, uint32_t index,
    const uint8_t *pkt, size_t len, uint8_t *out)
{
    size_t      salt_len;
    ref_keys_t  k;

    salt_len = parley_srtp_salt_len(profile);
    ref_derive(b3_master_key, b3_master_salt, salt_len, 1, &k);

    if (profile == PARLEY_SRTP_AEAD_AES_128_GCM) {
        return ref_gcm_protect_rtcp(k.enc, k.salt, index, pkt, len, out);
    }

    return ref_cm_protect_rtcp(&k, index, pkt, len, out);
}


/*
 * Packets of several shapes, among them one with CSRCs and a header
 * extension (left in the clear, RFC 3711 3.1) and a run across a sequence
 * number wrap, so that the rollover counter becomes 1 (RFC 3711 3.3.1).
 */
static void
test_libsrtp_rtp_matches_reference(void **state)
{
    size_t                  len, ref_len, plain_len;
    uint8_t                 buf[BUF_SIZE], ref[BUF_SIZE], plain[BUF_SIZE];
    uint32_t                roc;
    uint16_t                seq;
    unsigned                i;
    parley_srtp_session_t   tx, rx;
    parley_srtp_profile_t   profile;

    static const uint8_t  csrc_ext[] = {
        0x92, 0xe0, 0xff, 0xfd, 0x00, 0x00, 0x03, 0xe8,
        0xca, 0xfe, 0xba, 0xbe, 0x0a, 0x0a, 0x0a, 0x0a,
        0x0b, 0x0b, 0x0b, 0x0b, 0xbe, 0xde, 0x00, 0x02,
        0x10, 0x30, 0x20, 0x95, 0x32, 0x12, 0x34, 0x56,
        0x61, 0x62, 0x63, 0x64, 0x65
    };

    profile = profile_of(state);
    create_b3(&tx, profile, PARLEY_SRTP_OUTBOUND);
    create_b3(&rx, profile, PARLEY_SRTP_INBOUND);

    memcpy(plain, csrc_ext, sizeof(csrc_ext));
    plain_len = sizeof(csrc_ext);
    roc = 0;

    for (i = 0; i < 6; i++) {
        if (i > 0) {
            seq = (uint16_t) (0xfffd + i);
            plain_len = make_rtp(plain, seq, 0xcafebabe, 16 * i + 3);
            roc = (seq < 0xfffd) ? 1 : 0;
        }

        memcpy(buf, plain, plain_len);
        len = protect_rtp(&tx, buf, plain_len);
        ref_len = ref_protect_rtp(profile, roc, plain, plain_len, ref);

        assert_int_equal(len, ref_len);
        assert_memory_equal(buf, ref, ref_len);

        assert_int_equal(parley_srtp_unprotect_rtp(&rx, ref, &ref_len),
                         PARLEY_SRTP_OK);
        assert_int_equal(ref_len, plain_len);
        assert_memory_equal(ref, plain, plain_len);
    }

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static void
test_libsrtp_rtcp_matches_reference(void **state)
{
    size_t                  len, ref_len, plain_len;
    uint8_t                 buf[BUF_SIZE], ref[BUF_SIZE], plain[BUF_SIZE];
    uint32_t                index;
    parley_srtp_session_t   tx, rx;
    parley_srtp_profile_t   profile;

    profile = profile_of(state);
    create_b3(&tx, profile, PARLEY_SRTP_OUTBOUND);
    create_b3(&rx, profile, PARLEY_SRTP_INBOUND);

    for (index = 1; index <= 3; index++) {
        plain_len = make_rtcp(plain, 0x4d617273);

        memcpy(buf, plain, plain_len);
        len = protect_rtcp(&tx, buf, plain_len);
        ref_len = ref_protect_rtcp(profile, index, plain, plain_len, ref);

        assert_int_equal(len, ref_len);
        assert_memory_equal(buf, ref, ref_len);

        assert_int_equal(parley_srtp_unprotect_rtcp(&rx, ref, &ref_len),
                         PARLEY_SRTP_OK);
        assert_int_equal(ref_len, plain_len);
        assert_memory_equal(ref, plain, plain_len);
    }

    parley_srtp_destroy(&tx);
    parley_srtp_destroy(&rx);
}


static int
group_setup(void **state)
{
    (void) state;

    return parley_srtp_init() == PARLEY_SRTP_OK ? 0 : -1;
}


static int
group_teardown(void **state)
{
    (void) state;

    parley_srtp_shutdown();

    return 0;
}


/* cmocka_unit_test_prestate() under a name that tells the profile */
#define BOTH(f)                                                              \
    { #f " [AES-CM]", f, NULL, NULL, (void *) &profile_cm },                 \
    { #f " [GCM]", f, NULL, NULL, (void *) &profile_gcm }


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        BOTH(test_rtp_round_trip),
        BOTH(test_no_allocation_per_packet),
        BOTH(test_rtcp_round_trip),
        BOTH(test_tampered_rtp),
        BOTH(test_tampered_rtcp),
        BOTH(test_wrong_key),
        BOTH(test_replay_rtp),
        BOTH(test_replay_rtcp),
        BOTH(test_replay_window),
        BOTH(test_repeat_tx),
        BOTH(test_many_ssrcs),
        BOTH(test_unauthenticated_ssrcs),
        BOTH(test_forget_ssrc),
        BOTH(test_truncated),
        BOTH(test_malformed_header),
        BOTH(test_protect_limits),
        cmocka_unit_test(test_create_checks),
        cmocka_unit_test(test_init_shutdown),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_rc_str),
        cmocka_unit_test(test_ref_keystream_rfc3711_b2),
        cmocka_unit_test(test_ref_kdf_rfc3711_b3),
        cmocka_unit_test(test_ref_gcm_rtp_rfc7714_16),
        cmocka_unit_test(test_ref_gcm_rtcp_rfc7714_17),
        BOTH(test_libsrtp_rtp_matches_reference),
        BOTH(test_libsrtp_rtcp_matches_reference),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
