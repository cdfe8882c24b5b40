/*
 * OpenSSL under libsrtp2: the ciphers and the authentication function of
 * the two profiles parley negotiates, plugged into libsrtp2's crypto
 * kernel in place of the ones it was built with (srtp_replace_cipher_type,
 * srtp_replace_auth_type). libsrtp2 keeps the SRTP logic: indexes, replay
 * windows, key derivation, the packet layout.
 *
 * Why: Debian's libsrtp2 is built on NSS, which sets up a cipher context
 * for every packet. Here each stream's contexts are made once, when
 * libsrtp2 creates the stream, and only re-keyed with a new IV per
 * packet: no allocation on the packet path.
 *
 * - AES-128 in counter mode (RFC 3711 4.1.1): AES_CM_128_HMAC_SHA1_80's
 *   cipher, and the key derivation of every profile (RFC 3711 4.3.3);
 * - AES-128-GCM (RFC 7714) with 16- or 8-octet tags;
 * - HMAC-SHA1 (RFC 2104), the inner and outer hash states computed once
 *   per key and copied per packet. OpenSSL 3 has no allocation-free way
 *   to copy an EVP digest context (EVP_MD_CTX_copy_ex duplicates the
 *   provider's context), so this uses its SHA1 functions directly; they
 *   are deprecated in OpenSSL 3 but present in every 3.x.
 *
 * libsrtp2 runs each type's known-answer tests when it is plugged in (the
 * library's own vectors for the ciphers, RFC 2202's first for HMAC-SHA1,
 * and then the replaced type's): a type that computes anything else is
 * refused and parley_srtp_init() fails.
 */

#define OPENSSL_SUPPRESS_DEPRECATED      /* SHA1_Init() and friends */

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <srtp2/srtp.h>
#include <srtp2/cipher.h>
#include <srtp2/auth.h>

#include "parley_srtp_ossl.h"


#define PARLEY_OSSL_AES_128_KEY_LEN      16
#define PARLEY_OSSL_ICM_SALT_LEN         14   /* RFC 3711 4.1.1: 112 bits */
#define PARLEY_OSSL_GCM_SALT_LEN         12   /* RFC 7714 8.1: 96 bits */
#define PARLEY_OSSL_GCM_IV_LEN           12
#define PARLEY_OSSL_SHA1_LEN             20
#define PARLEY_OSSL_SHA1_BLOCK           64


/* the EVP context first: parley_ossl_cipher_alloc() sets it */
typedef struct {
    EVP_CIPHER_CTX              *ctx;
    uint8_t                      offset[16];    /* salt, low 16 bits 0 */
} parley_ossl_icm_t;

typedef struct {
    EVP_CIPHER_CTX              *ctx;
    int                          tag_len;
} parley_ossl_gcm_t;

typedef struct {
    SHA_CTX                      inner;         /* after key ^ ipad */
    SHA_CTX                      outer;         /* after key ^ opad */
    SHA_CTX                      work;
} parley_ossl_hmac_t;


static srtp_err_status_t parley_ossl_cipher_alloc(srtp_cipher_t **c,
    const srtp_cipher_type_t *type, int key_len, int algorithm, size_t size);
static srtp_err_status_t parley_ossl_cipher_free(srtp_cipher_t *c,
    size_t size);
static srtp_err_status_t parley_ossl_icm_alloc(srtp_cipher_t **c,
    int key_len, int tag_len);
static srtp_err_status_t parley_ossl_icm_dealloc(srtp_cipher_t *c);
static srtp_err_status_t parley_ossl_icm_init(void *state,
    const uint8_t *key);
static srtp_err_status_t parley_ossl_icm_set_iv(void *state, uint8_t *iv,
    srtp_cipher_direction_t direction);
static srtp_err_status_t parley_ossl_icm_crypt(void *state, uint8_t *buf,
    unsigned int *len);

static srtp_err_status_t parley_ossl_gcm_alloc(srtp_cipher_t **c,
    int key_len, int tag_len);
static srtp_err_status_t parley_ossl_gcm_dealloc(srtp_cipher_t *c);
static srtp_err_status_t parley_ossl_gcm_init(void *state,
    const uint8_t *key);
static srtp_err_status_t parley_ossl_gcm_set_iv(void *state, uint8_t *iv,
    srtp_cipher_direction_t direction);
static srtp_err_status_t parley_ossl_gcm_set_aad(void *state,
    const uint8_t *aad, uint32_t len);
static srtp_err_status_t parley_ossl_gcm_encrypt(void *state, uint8_t *buf,
    unsigned int *len);
static srtp_err_status_t parley_ossl_gcm_decrypt(void *state, uint8_t *buf,
    unsigned int *len);
static srtp_err_status_t parley_ossl_gcm_get_tag(void *state, uint8_t *tag,
    uint32_t *len);

static srtp_err_status_t parley_ossl_hmac_alloc(srtp_auth_t **a,
    int key_len, int out_len);
static srtp_err_status_t parley_ossl_hmac_dealloc(srtp_auth_t *a);
static srtp_err_status_t parley_ossl_hmac_init(void *state,
    const uint8_t *key, int key_len);
static srtp_err_status_t parley_ossl_hmac_start(void *state);
static srtp_err_status_t parley_ossl_hmac_update(void *state,
    const uint8_t *buf, int len);
static srtp_err_status_t parley_ossl_hmac_compute(void *state,
    const uint8_t *buf, int len, int tag_len, uint8_t *tag);


/*
 * libsrtp2's known-answer tests of the ciphers it was built with: data it
 * exports, which its internal header declares.
 */
extern const srtp_cipher_test_case_t  srtp_aes_icm_128_test_case_0;
extern const srtp_cipher_test_case_t  srtp_aes_gcm_128_test_case_0;


/* RFC 2202 2, test case 1 */

static const uint8_t  parley_ossl_hmac_key[20] = {
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b
};

static const uint8_t  parley_ossl_hmac_data[8] = "Hi There";

static const uint8_t  parley_ossl_hmac_tag[20] = {
    0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
    0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00
};

static const srtp_auth_test_case_t  parley_ossl_hmac_test = {
    sizeof(parley_ossl_hmac_key), parley_ossl_hmac_key,
    sizeof(parley_ossl_hmac_data), parley_ossl_hmac_data,
    sizeof(parley_ossl_hmac_tag), parley_ossl_hmac_tag,
    NULL
};


static const srtp_cipher_type_t  parley_ossl_icm_128 = {
    parley_ossl_icm_alloc,
    parley_ossl_icm_dealloc,
    parley_ossl_icm_init,
    NULL,                                /* no AAD in counter mode */
    parley_ossl_icm_crypt,
    parley_ossl_icm_crypt,               /* the same keystream XOR */
    parley_ossl_icm_set_iv,
    NULL,                                /* no tag */
    "AES-128 counter mode (parley, OpenSSL)",
    &srtp_aes_icm_128_test_case_0,
    SRTP_AES_ICM_128
};

static const srtp_cipher_type_t  parley_ossl_gcm_128 = {
    parley_ossl_gcm_alloc,
    parley_ossl_gcm_dealloc,
    parley_ossl_gcm_init,
    parley_ossl_gcm_set_aad,
    parley_ossl_gcm_encrypt,
    parley_ossl_gcm_decrypt,
    parley_ossl_gcm_set_iv,
    parley_ossl_gcm_get_tag,
    "AES-128 GCM (parley, OpenSSL)",
    &srtp_aes_gcm_128_test_case_0,
    SRTP_AES_GCM_128
};

static const srtp_auth_type_t  parley_ossl_hmac_sha1 = {
    parley_ossl_hmac_alloc,
    parley_ossl_hmac_dealloc,
    parley_ossl_hmac_init,
    parley_ossl_hmac_compute,
    parley_ossl_hmac_update,
    parley_ossl_hmac_start,
    "HMAC-SHA1 (parley, OpenSSL)",
    &parley_ossl_hmac_test,
    SRTP_HMAC_SHA1
};


/* Called once, after srtp_init(); each replacement is tested first. */

srtp_err_status_t
parley_srtp_ossl_install(void)
{
    srtp_err_status_t  status;

    status = srtp_replace_cipher_type(&parley_ossl_icm_128,
                                      SRTP_AES_ICM_128);
    if (status != srtp_err_status_ok) {
        return status;
    }

    status = srtp_replace_cipher_type(&parley_ossl_gcm_128,
                                      SRTP_AES_GCM_128);
    if (status != srtp_err_status_ok) {
        return status;
    }

    return srtp_replace_auth_type(&parley_ossl_hmac_sha1, SRTP_HMAC_SHA1);
}


/*
 * A cipher of "type" and its state of "size" bytes, zeroed, whose first
 * member is its EVP context (parley_ossl_icm_t and parley_ossl_gcm_t).
 */

static srtp_err_status_t
parley_ossl_cipher_alloc(srtp_cipher_t **c, const srtp_cipher_type_t *type,
    int key_len, int algorithm, size_t size)
{
    void            *state;
    srtp_cipher_t   *cipher;
    EVP_CIPHER_CTX  *ctx;

    cipher = calloc(1, sizeof(srtp_cipher_t));
    state = calloc(1, size);
    ctx = EVP_CIPHER_CTX_new();

    if (cipher == NULL || state == NULL || ctx == NULL) {
        EVP_CIPHER_CTX_free(ctx);
        free(cipher);
        free(state);
        return srtp_err_status_alloc_fail;
    }

    *(EVP_CIPHER_CTX **) state = ctx;

    cipher->type = type;
    cipher->state = state;
    cipher->key_len = key_len;
    cipher->algorithm = algorithm;

    *c = cipher;

    return srtp_err_status_ok;
}


/* The keys go with it: the state is wiped before it is freed. */

static srtp_err_status_t
parley_ossl_cipher_free(srtp_cipher_t *c, size_t size)
{
    if (c->state != NULL) {
        EVP_CIPHER_CTX_free(*(EVP_CIPHER_CTX **) c->state);
        OPENSSL_cleanse(c->state, size);
        free(c->state);
    }

    free(c);

    return srtp_err_status_ok;
}


/* AES-128 in counter mode (RFC 3711 4.1.1) */

static srtp_err_status_t
parley_ossl_icm_alloc(srtp_cipher_t **c, int key_len, int tag_len)
{
    (void) tag_len;

    if (key_len != PARLEY_OSSL_AES_128_KEY_LEN + PARLEY_OSSL_ICM_SALT_LEN) {
        return srtp_err_status_bad_param;
    }

    return parley_ossl_cipher_alloc(c, &parley_ossl_icm_128, key_len,
                                    SRTP_AES_ICM_128,
                                    sizeof(parley_ossl_icm_t));
}


static srtp_err_status_t
parley_ossl_icm_dealloc(srtp_cipher_t *c)
{
    return parley_ossl_cipher_free(c, sizeof(parley_ossl_icm_t));
}


/* key: the 16-octet key, then the 14-octet salt */

static srtp_err_status_t
parley_ossl_icm_init(void *state, const uint8_t *key)
{
    parley_ossl_icm_t  *icm = state;

    memset(icm->offset, 0, sizeof(icm->offset));
    memcpy(icm->offset, key + PARLEY_OSSL_AES_128_KEY_LEN,
           PARLEY_OSSL_ICM_SALT_LEN);

    if (!EVP_EncryptInit_ex(icm->ctx, EVP_aes_128_ctr(), NULL, key, NULL)) {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


/* RFC 3711 4.1.1: the counter block is the salt XOR the IV */

static srtp_err_status_t
parley_ossl_icm_set_iv(void *state, uint8_t *iv,
    srtp_cipher_direction_t direction)
{
    size_t              i;
    uint8_t             counter[16];
    parley_ossl_icm_t  *icm = state;

    (void) direction;

    for (i = 0; i < sizeof(counter); i++) {
        counter[i] = icm->offset[i] ^ iv[i];
    }

    if (!EVP_EncryptInit_ex(icm->ctx, NULL, NULL, NULL, counter)) {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_icm_crypt(void *state, uint8_t *buf, unsigned int *len)
{
    int                 out;
    parley_ossl_icm_t  *icm = state;

    if (*len == 0) {
        return srtp_err_status_ok;
    }

    if (*len > INT32_MAX
        || !EVP_EncryptUpdate(icm->ctx, buf, &out, buf, (int) *len))
    {
        return srtp_err_status_cipher_fail;
    }

    *len = (unsigned int) out;

    return srtp_err_status_ok;
}


/* AES-128-GCM (RFC 7714) */

static srtp_err_status_t
parley_ossl_gcm_alloc(srtp_cipher_t **c, int key_len, int tag_len)
{
    srtp_err_status_t   status;
    parley_ossl_gcm_t  *gcm;

    if (key_len != PARLEY_OSSL_AES_128_KEY_LEN + PARLEY_OSSL_GCM_SALT_LEN
        || (tag_len != 16 && tag_len != 8))
    {
        return srtp_err_status_bad_param;
    }

    status = parley_ossl_cipher_alloc(c, &parley_ossl_gcm_128, key_len,
                                      SRTP_AES_GCM_128,
                                      sizeof(parley_ossl_gcm_t));
    if (status != srtp_err_status_ok) {
        return status;
    }

    gcm = (*c)->state;
    gcm->tag_len = tag_len;

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_gcm_dealloc(srtp_cipher_t *c)
{
    return parley_ossl_cipher_free(c, sizeof(parley_ossl_gcm_t));
}


/* key: the 16-octet key (libsrtp2 builds the IV from the salt itself) */

static srtp_err_status_t
parley_ossl_gcm_init(void *state, const uint8_t *key)
{
    parley_ossl_gcm_t  *gcm = state;

    EVP_CIPHER_CTX_reset(gcm->ctx);

    if (!EVP_CipherInit_ex(gcm->ctx, EVP_aes_128_gcm(), NULL, key, NULL, 1)
        || !EVP_CIPHER_CTX_ctrl(gcm->ctx, EVP_CTRL_GCM_SET_IVLEN,
                                PARLEY_OSSL_GCM_IV_LEN, NULL))
    {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_gcm_set_iv(void *state, uint8_t *iv,
    srtp_cipher_direction_t direction)
{
    parley_ossl_gcm_t  *gcm = state;

    if (direction != srtp_direction_encrypt
        && direction != srtp_direction_decrypt)
    {
        return srtp_err_status_bad_param;
    }

    if (!EVP_CipherInit_ex(gcm->ctx, NULL, NULL, NULL, iv,
                           direction == srtp_direction_encrypt))
    {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_gcm_set_aad(void *state, const uint8_t *aad, uint32_t len)
{
    int                 n;
    parley_ossl_gcm_t  *gcm = state;

    if (len > INT32_MAX) {
        return srtp_err_status_bad_param;
    }

    n = EVP_Cipher(gcm->ctx, NULL, aad, len);

    if (n < 0 || (uint32_t) n != len) {
        return srtp_err_status_algo_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_gcm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
    parley_ossl_gcm_t  *gcm = state;

    /* nothing to encrypt (an SRTCP packet left in the clear): a call
     * with no data would finish the tag early */

    if (*len == 0) {
        return srtp_err_status_ok;
    }

    if (*len > INT32_MAX || EVP_Cipher(gcm->ctx, buf, buf, *len) < 0) {
        return srtp_err_status_cipher_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
    parley_ossl_gcm_t  *gcm = state;

    if (EVP_Cipher(gcm->ctx, NULL, NULL, 0) < 0
        || !EVP_CIPHER_CTX_ctrl(gcm->ctx, EVP_CTRL_GCM_GET_TAG,
                                gcm->tag_len, tag))
    {
        return srtp_err_status_algo_fail;
    }

    *len = (uint32_t) gcm->tag_len;

    return srtp_err_status_ok;
}


/* buf holds the ciphertext and then the tag; *len counts both */

static srtp_err_status_t
parley_ossl_gcm_decrypt(void *state, uint8_t *buf, unsigned int *len)
{
    unsigned int        n;
    parley_ossl_gcm_t  *gcm = state;

    if (*len < (unsigned int) gcm->tag_len || *len > INT32_MAX) {
        return srtp_err_status_bad_param;
    }

    n = *len - (unsigned int) gcm->tag_len;

    if (!EVP_CIPHER_CTX_ctrl(gcm->ctx, EVP_CTRL_GCM_SET_TAG, gcm->tag_len,
                             buf + n))
    {
        return srtp_err_status_auth_fail;
    }

    if (n > 0 && EVP_Cipher(gcm->ctx, buf, buf, n) < 0) {
        return srtp_err_status_auth_fail;
    }

    /* the tag is checked here: non-zero is a mismatch */

    if (EVP_Cipher(gcm->ctx, NULL, NULL, 0) != 0) {
        return srtp_err_status_auth_fail;
    }

    *len = n;

    return srtp_err_status_ok;
}


/* HMAC-SHA1 (RFC 2104) */

static srtp_err_status_t
parley_ossl_hmac_alloc(srtp_auth_t **a, int key_len, int out_len)
{
    srtp_auth_t         *auth;
    parley_ossl_hmac_t  *hmac;

    if (key_len < 0 || key_len > PARLEY_OSSL_SHA1_LEN
        || out_len < 0 || out_len > PARLEY_OSSL_SHA1_LEN)
    {
        return srtp_err_status_bad_param;
    }

    auth = calloc(1, sizeof(srtp_auth_t));
    hmac = calloc(1, sizeof(parley_ossl_hmac_t));

    if (auth == NULL || hmac == NULL) {
        free(auth);
        free(hmac);
        return srtp_err_status_alloc_fail;
    }

    auth->type = &parley_ossl_hmac_sha1;
    auth->state = hmac;
    auth->out_len = out_len;
    auth->key_len = key_len;
    auth->prefix_len = 0;

    *a = auth;

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_hmac_dealloc(srtp_auth_t *a)
{
    if (a->state != NULL) {
        OPENSSL_cleanse(a->state, sizeof(parley_ossl_hmac_t));
        free(a->state);
    }

    free(a);

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_hmac_init(void *state, const uint8_t *key, int key_len)
{
    int                  i;
    uint8_t              ipad[PARLEY_OSSL_SHA1_BLOCK];
    uint8_t              opad[PARLEY_OSSL_SHA1_BLOCK];
    parley_ossl_hmac_t  *hmac = state;

    if (key_len < 0 || key_len > PARLEY_OSSL_SHA1_LEN) {
        return srtp_err_status_bad_param;
    }

    memset(ipad, 0x36, sizeof(ipad));
    memset(opad, 0x5c, sizeof(opad));

    for (i = 0; i < key_len; i++) {
        ipad[i] ^= key[i];
        opad[i] ^= key[i];
    }

    if (!SHA1_Init(&hmac->inner)
        || !SHA1_Update(&hmac->inner, ipad, sizeof(ipad))
        || !SHA1_Init(&hmac->outer)
        || !SHA1_Update(&hmac->outer, opad, sizeof(opad)))
    {
        return srtp_err_status_init_fail;
    }

    hmac->work = hmac->inner;

    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_hmac_start(void *state)
{
    parley_ossl_hmac_t  *hmac = state;

    hmac->work = hmac->inner;

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_hmac_update(void *state, const uint8_t *buf, int len)
{
    parley_ossl_hmac_t  *hmac = state;

    if (len < 0 || !SHA1_Update(&hmac->work, buf, (size_t) len)) {
        return srtp_err_status_auth_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
parley_ossl_hmac_compute(void *state, const uint8_t *buf, int len,
    int tag_len, uint8_t *tag)
{
    uint8_t              digest[PARLEY_OSSL_SHA1_LEN];
    parley_ossl_hmac_t  *hmac = state;

    if (len < 0 || tag_len < 0 || tag_len > PARLEY_OSSL_SHA1_LEN) {
        return srtp_err_status_bad_param;
    }

    if (!SHA1_Update(&hmac->work, buf, (size_t) len)
        || !SHA1_Final(digest, &hmac->work))
    {
        return srtp_err_status_auth_fail;
    }

    hmac->work = hmac->outer;

    if (!SHA1_Update(&hmac->work, digest, sizeof(digest))
        || !SHA1_Final(digest, &hmac->work))
    {
        return srtp_err_status_auth_fail;
    }

    memcpy(tag, digest, (size_t) tag_len);

    return srtp_err_status_ok;
}
