/*
 * STUN messages for an ICE-lite responder: see parley_stun.h.
 *
 * Parsing walks the attributes once, checks their order and sizes, and
 * records where MESSAGE-INTEGRITY and FINGERPRINT sit so that verifying
 * them later needs no second walk. Building appends attributes to a caller
 * buffer through a small writer that keeps the header's length current, so
 * that MESSAGE-INTEGRITY and FINGERPRINT can be computed over the bytes
 * written so far, exactly as a receiver will check them.
 */

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "parley_stun.h"


#define PARLEY_STUN_ATTR_HEADER_SIZE  4
#define PARLEY_STUN_SHA1_SIZE         20
#define PARLEY_STUN_SHA256_MIN        16
#define PARLEY_STUN_SHA256_SIZE       32
#define PARLEY_STUN_FINGERPRINT_SIZE  4
#define PARLEY_STUN_FINGERPRINT_XOR   0x5354554e      /* RFC 8489 14.7 */
#define PARLEY_STUN_MAX_LENGTH        0xfffc          /* of the attributes */
#define PARLEY_STUN_FAMILY_IPV4       0x01            /* RFC 8489 14.1 */
#define PARLEY_STUN_FAMILY_IPV6       0x02

#define parley_stun_padded(len)  (((len) + 3) & ~((size_t) 3))


typedef struct {
    uint16_t        type;
    size_t          at;            /* offset of its header in the message */
    const uint8_t  *value;
    size_t          len;           /* without padding */
} parley_stun_attr_t;


typedef parley_stun_rc_t (*parley_stun_attr_parse_pt)(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);

typedef struct {
    uint16_t                   type;
    uint32_t                   flag;   /* PARLEY_STUN_HAS_* */
    parley_stun_attr_parse_pt  parse;
} parley_stun_attr_def_t;


typedef struct {
    uint8_t           *buf;
    size_t             cap;
    size_t             len;
    parley_stun_rc_t   rc;             /* the first failure; sticky */
} parley_stun_writer_t;


static uint16_t parley_stun_get16(const uint8_t *p);
static uint32_t parley_stun_get32(const uint8_t *p);
static uint64_t parley_stun_get64(const uint8_t *p);
static void parley_stun_put16(uint8_t *p, uint16_t v);
static void parley_stun_put32(uint8_t *p, uint32_t v);
static void parley_stun_put64(uint8_t *p, uint64_t v);
static uint16_t parley_stun_type(uint16_t method, parley_stun_class_t class);
static uint32_t parley_stun_crc32(const uint8_t *p, size_t n);

static parley_stun_rc_t parley_stun_parse_header(parley_stun_msg_t *msg,
    const uint8_t *buf, size_t len);
static parley_stun_rc_t parley_stun_parse_attrs(parley_stun_msg_t *msg);
static parley_stun_rc_t parley_stun_check_order(const parley_stun_msg_t *msg,
    uint16_t type);
static parley_stun_rc_t parley_stun_parse_attr(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static void parley_stun_note_unknown(parley_stun_msg_t *msg, uint16_t type);
static parley_stun_rc_t parley_stun_parse_username(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_realm(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_nonce(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_software(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_integrity(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_integrity_sha256(
    parley_stun_msg_t *msg, const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_fingerprint(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_xor_address(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_error_code(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_unknown_list(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_priority(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_use_candidate(
    parley_stun_msg_t *msg, const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_ice_controlled(
    parley_stun_msg_t *msg, const parley_stun_attr_t *attr);
static parley_stun_rc_t parley_stun_parse_ice_controlling(
    parley_stun_msg_t *msg, const parley_stun_attr_t *attr);

static EVP_MAC_CTX *parley_stun_hmac_new(const char *digest,
    const void *password, size_t len);
static parley_stun_rc_t parley_stun_hmac(EVP_MAC_CTX *ctx,
    const uint8_t *msg, size_t at, size_t len, uint8_t *out);
static parley_stun_rc_t parley_stun_check_hmac(const parley_stun_msg_t *msg,
    EVP_MAC_CTX *ctx, size_t at, size_t len);
static void parley_stun_xor_address(uint8_t *out, const uint8_t *in,
    const uint8_t *header, size_t len);
static int parley_stun_addr_valid(const parley_stun_addr_t *addr);

static void parley_stun_write_header(parley_stun_writer_t *w,
    uint16_t method, parley_stun_class_t class, const uint8_t *tid);
static uint8_t *parley_stun_write_attr(parley_stun_writer_t *w,
    uint16_t type, size_t len);
static void parley_stun_write_bytes(parley_stun_writer_t *w, uint16_t type,
    const void *data, size_t len);
static void parley_stun_write_u32(parley_stun_writer_t *w, uint16_t type,
    uint32_t v);
static void parley_stun_write_u64(parley_stun_writer_t *w, uint16_t type,
    uint64_t v);
static void parley_stun_write_xor_address(parley_stun_writer_t *w,
    const parley_stun_addr_t *addr);
static void parley_stun_write_error_code(parley_stun_writer_t *w,
    unsigned code);
static void parley_stun_write_unknown(parley_stun_writer_t *w,
    const uint16_t *unknown, size_t n);
static void parley_stun_write_integrity(parley_stun_writer_t *w,
    parley_stun_key_t *key);
static void parley_stun_write_fingerprint(parley_stun_writer_t *w);
static parley_stun_rc_t parley_stun_write_done(parley_stun_writer_t *w,
    size_t *len);
static const char *parley_stun_reason_phrase(unsigned code);


#define PARLEY_STUN_RESULT_TEXT(name, text)      text,

static const char  *parley_stun_rc_text[] = {
    PARLEY_STUN_RESULTS(PARLEY_STUN_RESULT_TEXT)
};


/*
 * The attributes understood here. Any other type below 0x8000 is
 * comprehension-required and reported as unknown (RFC 8489 14).
 */
static const parley_stun_attr_def_t  parley_stun_attr_defs[] = {
    { PARLEY_STUN_ATTR_USERNAME, PARLEY_STUN_HAS_USERNAME,
      parley_stun_parse_username },
    { PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, PARLEY_STUN_HAS_INTEGRITY,
      parley_stun_parse_integrity },
    { PARLEY_STUN_ATTR_ERROR_CODE, PARLEY_STUN_HAS_ERROR_CODE,
      parley_stun_parse_error_code },
    { PARLEY_STUN_ATTR_UNKNOWN_ATTRIBUTES, PARLEY_STUN_HAS_UNKNOWN_ATTRIBUTES,
      parley_stun_parse_unknown_list },
    { PARLEY_STUN_ATTR_REALM, PARLEY_STUN_HAS_REALM,
      parley_stun_parse_realm },
    { PARLEY_STUN_ATTR_NONCE, PARLEY_STUN_HAS_NONCE,
      parley_stun_parse_nonce },
    { PARLEY_STUN_ATTR_INTEGRITY_SHA256, PARLEY_STUN_HAS_INTEGRITY_SHA256,
      parley_stun_parse_integrity_sha256 },
    { PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS, PARLEY_STUN_HAS_XOR_MAPPED_ADDRESS,
      parley_stun_parse_xor_address },
    { PARLEY_STUN_ATTR_PRIORITY, PARLEY_STUN_HAS_PRIORITY,
      parley_stun_parse_priority },
    { PARLEY_STUN_ATTR_USE_CANDIDATE, PARLEY_STUN_HAS_USE_CANDIDATE,
      parley_stun_parse_use_candidate },
    { PARLEY_STUN_ATTR_SOFTWARE, PARLEY_STUN_HAS_SOFTWARE,
      parley_stun_parse_software },
    { PARLEY_STUN_ATTR_FINGERPRINT, PARLEY_STUN_HAS_FINGERPRINT,
      parley_stun_parse_fingerprint },
    { PARLEY_STUN_ATTR_ICE_CONTROLLED, PARLEY_STUN_HAS_ICE_CONTROLLED,
      parley_stun_parse_ice_controlled },
    { PARLEY_STUN_ATTR_ICE_CONTROLLING, PARLEY_STUN_HAS_ICE_CONTROLLING,
      parley_stun_parse_ice_controlling }
};


/* CRC-32 of ISO 3309 / ITU-T V.42 (reflected polynomial 0xedb88320). */
static const uint32_t  parley_stun_crc32_table[256] = {
    0x00000000, 0x77073096, 0xee0e612c, 0x990951ba,
    0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
    0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988,
    0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
    0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de,
    0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
    0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec,
    0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
    0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172,
    0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
    0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940,
    0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
    0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116,
    0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
    0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924,
    0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
    0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a,
    0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
    0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818,
    0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
    0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e,
    0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
    0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c,
    0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
    0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2,
    0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
    0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0,
    0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
    0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086,
    0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
    0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4,
    0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
    0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a,
    0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
    0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8,
    0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
    0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe,
    0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
    0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc,
    0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
    0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252,
    0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
    0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60,
    0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
    0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236,
    0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
    0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04,
    0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
    0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a,
    0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
    0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38,
    0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
    0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e,
    0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
    0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c,
    0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
    0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2,
    0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
    0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0,
    0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
    0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6,
    0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
    0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94,
    0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};


const char *
parley_stun_rc_str(parley_stun_rc_t rc)
{
    size_t  n;

    n = sizeof(parley_stun_rc_text) / sizeof(parley_stun_rc_text[0]);

    if ((size_t) rc >= n) {
        return "unknown result";
    }

    return parley_stun_rc_text[rc];
}


/* Parsing */


parley_stun_rc_t
parley_stun_parse(parley_stun_msg_t *msg, const uint8_t *buf, size_t len)
{
    parley_stun_rc_t  rc;

    memset(msg, 0, sizeof(parley_stun_msg_t));

    if (buf == NULL) {
        return PARLEY_STUN_ERR_INVAL;
    }

    rc = parley_stun_parse_header(msg, buf, len);
    if (rc != PARLEY_STUN_OK) {
        return rc;
    }

    return parley_stun_parse_attrs(msg);
}


static parley_stun_rc_t
parley_stun_parse_header(parley_stun_msg_t *msg, const uint8_t *buf,
    size_t len)
{
    uint16_t  type, length;

    if (len < PARLEY_STUN_HEADER_SIZE) {
        return PARLEY_STUN_ERR_TOO_SHORT;
    }

    type = parley_stun_get16(buf);
    length = parley_stun_get16(buf + 2);

    /* RFC 8489 5: the two most significant bits of every message are 0 */
    if (type & 0xc000) {
        return PARLEY_STUN_ERR_NOT_STUN;
    }

    if (parley_stun_get32(buf + 4) != PARLEY_STUN_MAGIC_COOKIE) {
        return PARLEY_STUN_ERR_BAD_COOKIE;
    }

    /* RFC 8489 5: attributes are padded to 4 bytes, so is the length */
    if (length % 4 != 0) {
        return PARLEY_STUN_ERR_LENGTH_UNALIGNED;
    }

    /* over UDP one datagram carries exactly one message (RFC 8489 6.2.1) */
    if (length > len - PARLEY_STUN_HEADER_SIZE) {
        return PARLEY_STUN_ERR_LENGTH_PAST_END;
    }

    if (length < len - PARLEY_STUN_HEADER_SIZE) {
        return PARLEY_STUN_ERR_TRAILING_BYTES;
    }

    /* RFC 8489 5: M11..M7 C1 M6..M4 C0 M3..M0 */
    msg->method = (type & 0x000f) | ((type & 0x00e0) >> 1)
                  | ((type & 0x3e00) >> 2);
    msg->class = ((type & 0x0010) >> 4) | ((type & 0x0100) >> 7);

    msg->start = buf;
    msg->size = len;
    memcpy(msg->tid, buf + 8, PARLEY_STUN_TID_SIZE);

    return PARLEY_STUN_OK;
}


static parley_stun_rc_t
parley_stun_parse_attrs(parley_stun_msg_t *msg)
{
    size_t              left;
    parley_stun_rc_t    rc;
    parley_stun_attr_t  attr;

    attr.at = PARLEY_STUN_HEADER_SIZE;

    /*
     * The length and every offset are multiples of 4, so while an
     * attribute remains there is room for its 4-byte header.
     */
    while (attr.at < msg->size) {
        attr.type = parley_stun_get16(msg->start + attr.at);
        attr.len = parley_stun_get16(msg->start + attr.at + 2);
        attr.value = msg->start + attr.at + PARLEY_STUN_ATTR_HEADER_SIZE;

        left = msg->size - attr.at - PARLEY_STUN_ATTR_HEADER_SIZE;
        if (parley_stun_padded(attr.len) > left) {
            return PARLEY_STUN_ERR_ATTR_TRUNCATED;
        }

        rc = parley_stun_check_order(msg, attr.type);
        if (rc != PARLEY_STUN_OK) {
            return rc;
        }

        rc = parley_stun_parse_attr(msg, &attr);
        if (rc != PARLEY_STUN_OK) {
            msg->bad_attr = attr.type;
            return rc;
        }

        attr.at += PARLEY_STUN_ATTR_HEADER_SIZE + parley_stun_padded(attr.len);
    }

    return PARLEY_STUN_OK;
}


/*
 * RFC 8489 14.7: FINGERPRINT is the last attribute. RFC 8489 14.5, 14.6:
 * only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow
 * MESSAGE-INTEGRITY, only FINGERPRINT may follow
 * MESSAGE-INTEGRITY-SHA256. The RFC lets a receiver ignore anything else
 * there; no ICE agent sends it, so it is refused, which also keeps bytes
 * that no integrity check covers out of the parsed message.
 */
static parley_stun_rc_t
parley_stun_check_order(const parley_stun_msg_t *msg, uint16_t type)
{
    if (msg->attrs & PARLEY_STUN_HAS_FINGERPRINT) {
        return PARLEY_STUN_ERR_FINGERPRINT_NOT_LAST;
    }

    if (type == PARLEY_STUN_ATTR_FINGERPRINT) {
        return PARLEY_STUN_OK;
    }

    if (msg->attrs & PARLEY_STUN_HAS_INTEGRITY_SHA256) {
        return PARLEY_STUN_ERR_AFTER_INTEGRITY;
    }

    if ((msg->attrs & PARLEY_STUN_HAS_INTEGRITY)
        && type != PARLEY_STUN_ATTR_INTEGRITY_SHA256)
    {
        return PARLEY_STUN_ERR_AFTER_INTEGRITY;
    }

    return PARLEY_STUN_OK;
}


static parley_stun_rc_t
parley_stun_parse_attr(parley_stun_msg_t *msg, const parley_stun_attr_t *attr)
{
    size_t                         i, n;
    parley_stun_rc_t               rc;
    const parley_stun_attr_def_t  *def;

    n = sizeof(parley_stun_attr_defs) / sizeof(parley_stun_attr_defs[0]);

    for (i = 0; i < n; i++) {
        def = &parley_stun_attr_defs[i];

        if (def->type != attr->type) {
            continue;
        }

        /* RFC 8489 14: of a repeated attribute only the first counts */
        if (msg->attrs & def->flag) {
            return PARLEY_STUN_OK;
        }

        rc = def->parse(msg, attr);
        if (rc == PARLEY_STUN_OK) {
            msg->attrs |= def->flag;
        }

        return rc;
    }

    /* RFC 8489 14: unknown comprehension-optional attributes are ignored */
    if (attr->type < 0x8000) {
        parley_stun_note_unknown(msg, attr->type);
    }

    return PARLEY_STUN_OK;
}


static void
parley_stun_note_unknown(parley_stun_msg_t *msg, uint16_t type)
{
    unsigned  i;

    for (i = 0; i < msg->unknown_count; i++) {
        if (msg->unknown[i] == type) {
            return;
        }
    }

    /* the first few are enough for a 420 answer to say what went wrong */
    if (msg->unknown_count < PARLEY_STUN_MAX_UNKNOWN) {
        msg->unknown[msg->unknown_count++] = type;
    }
}


static parley_stun_rc_t
parley_stun_parse_username(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    msg->username.data = attr->value;
    msg->username.len = attr->len;

    return PARLEY_STUN_OK;
}


static parley_stun_rc_t
parley_stun_parse_realm(parley_stun_msg_t *msg, const parley_stun_attr_t *attr)
{
    msg->realm.data = attr->value;
    msg->realm.len = attr->len;

    return PARLEY_STUN_OK;
}


static parley_stun_rc_t
parley_stun_parse_nonce(parley_stun_msg_t *msg, const parley_stun_attr_t *attr)
{
    msg->nonce.data = attr->value;
    msg->nonce.len = attr->len;

    return PARLEY_STUN_OK;
}


static parley_stun_rc_t
parley_stun_parse_software(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    msg->software.data = attr->value;
    msg->software.len = attr->len;

    return PARLEY_STUN_OK;
}


/* RFC 8489 14.5: an HMAC-SHA1, 20 bytes */
static parley_stun_rc_t
parley_stun_parse_integrity(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    if (attr->len != PARLEY_STUN_SHA1_SIZE) {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    msg->integrity_at = attr->at;

    return PARLEY_STUN_OK;
}


/* RFC 8489 14.6: HMAC-SHA256 truncated to 16..32 bytes, a multiple of 4 */
static parley_stun_rc_t
parley_stun_parse_integrity_sha256(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    if (attr->len < PARLEY_STUN_SHA256_MIN
        || attr->len > PARLEY_STUN_SHA256_SIZE
        || attr->len % 4 != 0)
    {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    msg->integrity_sha256_at = attr->at;
    msg->integrity_sha256_len = attr->len;

    return PARLEY_STUN_OK;
}


static parley_stun_rc_t
parley_stun_parse_fingerprint(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    if (attr->len != PARLEY_STUN_FINGERPRINT_SIZE) {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    msg->fingerprint_at = attr->at;

    return PARLEY_STUN_OK;
}


/*
 * RFC 8489 14.2: the port is XORed with the cookie's top 16 bits, the
 * address with the cookie (IPv4) or the cookie and transaction id (IPv6).
 */
static parley_stun_rc_t
parley_stun_parse_xor_address(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    size_t               alen;
    parley_stun_addr_t  *addr;

    addr = &msg->xor_mapped_address;

    if (attr->len == 8 && attr->value[1] == PARLEY_STUN_FAMILY_IPV4) {
        addr->family = AF_INET;
        alen = 4;

    } else if (attr->len == 20 && attr->value[1] == PARLEY_STUN_FAMILY_IPV6) {
        addr->family = AF_INET6;
        alen = 16;

    } else {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    addr->port = parley_stun_get16(attr->value + 2)
                 ^ (PARLEY_STUN_MAGIC_COOKIE >> 16);
    parley_stun_xor_address(addr->addr, attr->value + 4, msg->start, alen);

    return PARLEY_STUN_OK;
}


/* RFC 8489 14.8: 21 zero bits, class (3..6) in 3 bits, number (0..99) */
static parley_stun_rc_t
parley_stun_parse_error_code(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    unsigned  class, number;

    if (attr->len < 4) {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    class = attr->value[2] & 0x07;
    number = attr->value[3];

    if (class < 3 || class > 6 || number > 99) {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    msg->error_code = (uint16_t) (class * 100 + number);
    msg->error_reason.data = attr->value + 4;
    msg->error_reason.len = attr->len - 4;

    return PARLEY_STUN_OK;
}


/* RFC 8489 14.13: a list of 16-bit attribute types */
static parley_stun_rc_t
parley_stun_parse_unknown_list(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    if (attr->len % 2 != 0) {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    msg->unknown_attributes.data = attr->value;
    msg->unknown_attributes.len = attr->len;

    return PARLEY_STUN_OK;
}


/* RFC 8445 7.1.1 */
static parley_stun_rc_t
parley_stun_parse_priority(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    if (attr->len != 4) {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    msg->priority = parley_stun_get32(attr->value);

    return PARLEY_STUN_OK;
}


/* RFC 8445 7.1.2: a flag, no value */
static parley_stun_rc_t
parley_stun_parse_use_candidate(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    (void) msg;

    return attr->len == 0 ? PARLEY_STUN_OK : PARLEY_STUN_ERR_ATTR_INVALID;
}


/* RFC 8445 7.1.3: a 64-bit tie-breaker */
static parley_stun_rc_t
parley_stun_parse_ice_controlled(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    if (attr->len != 8) {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    msg->ice_controlled = parley_stun_get64(attr->value);

    return PARLEY_STUN_OK;
}


static parley_stun_rc_t
parley_stun_parse_ice_controlling(parley_stun_msg_t *msg,
    const parley_stun_attr_t *attr)
{
    if (attr->len != 8) {
        return PARLEY_STUN_ERR_ATTR_INVALID;
    }

    msg->ice_controlling = parley_stun_get64(attr->value);

    return PARLEY_STUN_OK;
}


/* Verifying */


parley_stun_rc_t
parley_stun_verify_fingerprint(const parley_stun_msg_t *msg)
{
    uint32_t  expected;

    if ((msg->attrs & PARLEY_STUN_HAS_FINGERPRINT) == 0) {
        return PARLEY_STUN_ERR_NO_FINGERPRINT;
    }

    /*
     * RFC 8489 14.7: CRC-32 of the message before the attribute, XORed
     * with 0x5354554e. FINGERPRINT is last, so the length in the header
     * already covers it, as the RFC wants.
     */
    expected = parley_stun_crc32(msg->start, msg->fingerprint_at)
               ^ PARLEY_STUN_FINGERPRINT_XOR;

    if (parley_stun_get32(msg->start + msg->fingerprint_at
                          + PARLEY_STUN_ATTR_HEADER_SIZE)
        != expected)
    {
        return PARLEY_STUN_ERR_FINGERPRINT_MISMATCH;
    }

    return PARLEY_STUN_OK;
}


parley_stun_rc_t
parley_stun_verify_integrity(const parley_stun_msg_t *msg,
    parley_stun_key_t *key)
{
    parley_stun_rc_t  rc;

    if ((msg->attrs & (PARLEY_STUN_HAS_INTEGRITY
                       | PARLEY_STUN_HAS_INTEGRITY_SHA256))
        == 0)
    {
        return PARLEY_STUN_ERR_NO_INTEGRITY;
    }

    if (key == NULL || key->sha1 == NULL || key->sha256 == NULL) {
        return PARLEY_STUN_ERR_INVAL;
    }

    if (msg->attrs & PARLEY_STUN_HAS_INTEGRITY) {
        rc = parley_stun_check_hmac(msg, key->sha1, msg->integrity_at,
                                    PARLEY_STUN_SHA1_SIZE);
        if (rc != PARLEY_STUN_OK) {
            return rc;
        }
    }

    if (msg->attrs & PARLEY_STUN_HAS_INTEGRITY_SHA256) {
        rc = parley_stun_check_hmac(msg, key->sha256,
                                    msg->integrity_sha256_at,
                                    msg->integrity_sha256_len);
        if (rc != PARLEY_STUN_OK) {
            return rc;
        }
    }

    return PARLEY_STUN_OK;
}


static parley_stun_rc_t
parley_stun_check_hmac(const parley_stun_msg_t *msg, EVP_MAC_CTX *ctx,
    size_t at, size_t len)
{
    uint8_t           mac[EVP_MAX_MD_SIZE];
    parley_stun_rc_t  rc;

    rc = parley_stun_hmac(ctx, msg->start, at, len, mac);
    if (rc != PARLEY_STUN_OK) {
        return rc;
    }

    /* constant time, so that timing tells a forger nothing */
    if (CRYPTO_memcmp(mac, msg->start + at + PARLEY_STUN_ATTR_HEADER_SIZE,
                      len)
        != 0)
    {
        return PARLEY_STUN_ERR_INTEGRITY_MISMATCH;
    }

    return PARLEY_STUN_OK;
}


/*
 * RFC 8489 14.5, 14.6: the HMAC covers the message before the integrity
 * attribute at "at", with the header's length set as if the attribute
 * (of "len" bytes) ended the message, so that what follows it (such as
 * FINGERPRINT) may be added afterwards.
 */
static parley_stun_rc_t
parley_stun_hmac(EVP_MAC_CTX *ctx, const uint8_t *msg, size_t at, size_t len,
    uint8_t *out)
{
    size_t   outlen;
    uint8_t  header[PARLEY_STUN_HEADER_SIZE];

    memcpy(header, msg, PARLEY_STUN_HEADER_SIZE);
    parley_stun_put16(header + 2, (uint16_t) (at + PARLEY_STUN_ATTR_HEADER_SIZE
                                              + len - PARLEY_STUN_HEADER_SIZE));

    /* a NULL key re-initialises the context with the key it already has */
    if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1
        || EVP_MAC_update(ctx, header, PARLEY_STUN_HEADER_SIZE) != 1
        || EVP_MAC_update(ctx, msg + PARLEY_STUN_HEADER_SIZE,
                          at - PARLEY_STUN_HEADER_SIZE) != 1
        || EVP_MAC_final(ctx, out, &outlen, EVP_MAX_MD_SIZE) != 1
        || outlen < len)
    {
        return PARLEY_STUN_ERR_CRYPTO;
    }

    return PARLEY_STUN_OK;
}


/* Keys and addresses */


parley_stun_rc_t
parley_stun_key_init(parley_stun_key_t *key, const void *password, size_t len)
{
    key->sha1 = NULL;
    key->sha256 = NULL;

    if (password == NULL || len == 0) {
        return PARLEY_STUN_ERR_INVAL;
    }

    key->sha1 = parley_stun_hmac_new("SHA1", password, len);
    key->sha256 = parley_stun_hmac_new("SHA256", password, len);

    if (key->sha1 == NULL || key->sha256 == NULL) {
        parley_stun_key_free(key);
        return PARLEY_STUN_ERR_CRYPTO;
    }

    return PARLEY_STUN_OK;
}


void
parley_stun_key_free(parley_stun_key_t *key)
{
    EVP_MAC_CTX_free(key->sha1);
    EVP_MAC_CTX_free(key->sha256);

    key->sha1 = NULL;
    key->sha256 = NULL;
}


/*
 * The fetch and the key schedule happen here, once per password, and not
 * for every packet: parley_stun_hmac() only re-initialises the context.
 */
static EVP_MAC_CTX *
parley_stun_hmac_new(const char *digest, const void *password, size_t len)
{
    EVP_MAC      *mac;
    EVP_MAC_CTX  *ctx;
    OSSL_PARAM    params[2];

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        return NULL;
    }

    /* the context keeps its own reference to the algorithm */
    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (ctx == NULL) {
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) digest, 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, password, len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }

    return ctx;
}


parley_stun_rc_t
parley_stun_addr_from_sockaddr(parley_stun_addr_t *addr,
    const struct sockaddr *sa)
{
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(addr, 0, sizeof(parley_stun_addr_t));

    switch (sa->sa_family) {

    case AF_INET:
        memcpy(&sin, sa, sizeof(struct sockaddr_in));
        addr->family = AF_INET;
        addr->port = ntohs(sin.sin_port);
        memcpy(addr->addr, &sin.sin_addr, 4);
        return PARLEY_STUN_OK;

    case AF_INET6:
        memcpy(&sin6, sa, sizeof(struct sockaddr_in6));
        addr->family = AF_INET6;
        addr->port = ntohs(sin6.sin6_port);
        memcpy(addr->addr, &sin6.sin6_addr, 16);
        return PARLEY_STUN_OK;
    }

    return PARLEY_STUN_ERR_INVAL;
}


parley_stun_rc_t
parley_stun_addr_to_sockaddr(const parley_stun_addr_t *addr,
    struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(ss, 0, sizeof(struct sockaddr_storage));

    switch (addr->family) {

    case AF_INET:
        memset(&sin, 0, sizeof(struct sockaddr_in));
        sin.sin_family = AF_INET;
        sin.sin_port = htons(addr->port);
        memcpy(&sin.sin_addr, addr->addr, 4);
        memcpy(ss, &sin, sizeof(struct sockaddr_in));
        *len = sizeof(struct sockaddr_in);
        return PARLEY_STUN_OK;

    case AF_INET6:
        memset(&sin6, 0, sizeof(struct sockaddr_in6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(addr->port);
        memcpy(&sin6.sin6_addr, addr->addr, 16);
        memcpy(ss, &sin6, sizeof(struct sockaddr_in6));
        *len = sizeof(struct sockaddr_in6);
        return PARLEY_STUN_OK;
    }

    return PARLEY_STUN_ERR_INVAL;
}


/*
 * RFC 8489 14.2: bytes 4..19 of the header are the magic cookie followed
 * by the transaction id, exactly the XOR pad an address needs.
 */
static void
parley_stun_xor_address(uint8_t *out, const uint8_t *in,
    const uint8_t *header, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        out[i] = in[i] ^ header[4 + i];
    }
}


static int
parley_stun_addr_valid(const parley_stun_addr_t *addr)
{
    return addr != NULL
           && (addr->family == AF_INET || addr->family == AF_INET6);
}


/* Building */


parley_stun_rc_t
parley_stun_binding_success(uint8_t *buf, size_t cap, const uint8_t *tid,
    const parley_stun_addr_t *mapped, parley_stun_key_t *key, size_t *len)
{
    parley_stun_writer_t  w = { buf, cap, 0, PARLEY_STUN_OK };

    *len = 0;

    if (buf == NULL || tid == NULL || !parley_stun_addr_valid(mapped)
        || key == NULL)
    {
        return PARLEY_STUN_ERR_INVAL;
    }

    parley_stun_write_header(&w, PARLEY_STUN_BINDING, PARLEY_STUN_SUCCESS,
                             tid);
    parley_stun_write_xor_address(&w, mapped);
    parley_stun_write_integrity(&w, key);
    parley_stun_write_fingerprint(&w);

    return parley_stun_write_done(&w, len);
}


parley_stun_rc_t
parley_stun_binding_error(uint8_t *buf, size_t cap, const uint8_t *tid,
    unsigned code, const uint16_t *unknown, size_t nunknown,
    parley_stun_key_t *key, size_t *len)
{
    parley_stun_writer_t  w = { buf, cap, 0, PARLEY_STUN_OK };

    *len = 0;

    if (buf == NULL || tid == NULL || code < 300 || code > 699
        || (nunknown > 0 && unknown == NULL))
    {
        return PARLEY_STUN_ERR_INVAL;
    }

    parley_stun_write_header(&w, PARLEY_STUN_BINDING, PARLEY_STUN_ERROR, tid);
    parley_stun_write_error_code(&w, code);

    if (nunknown > 0) {
        parley_stun_write_unknown(&w, unknown, nunknown);
    }

    if (key != NULL) {
        parley_stun_write_integrity(&w, key);
    }

    parley_stun_write_fingerprint(&w);

    return parley_stun_write_done(&w, len);
}


parley_stun_rc_t
parley_stun_binding_request(uint8_t *buf, size_t cap,
    const parley_stun_request_t *req, size_t *len)
{
    parley_stun_writer_t  w = { buf, cap, 0, PARLEY_STUN_OK };

    *len = 0;

    if (buf == NULL || (req->username.len > 0 && req->username.data == NULL))
    {
        return PARLEY_STUN_ERR_INVAL;
    }

    parley_stun_write_header(&w, PARLEY_STUN_BINDING, PARLEY_STUN_REQUEST,
                             req->tid);

    if (req->username.len > 0) {
        parley_stun_write_bytes(&w, PARLEY_STUN_ATTR_USERNAME,
                                req->username.data, req->username.len);
    }

    /* RFC 8445 7.1.1: the priority a peer-reflexive candidate would get */
    parley_stun_write_u32(&w, PARLEY_STUN_ATTR_PRIORITY, req->priority);

    if (req->role == PARLEY_STUN_ROLE_CONTROLLING) {
        parley_stun_write_u64(&w, PARLEY_STUN_ATTR_ICE_CONTROLLING,
                              req->tie_breaker);

    } else if (req->role == PARLEY_STUN_ROLE_CONTROLLED) {
        parley_stun_write_u64(&w, PARLEY_STUN_ATTR_ICE_CONTROLLED,
                              req->tie_breaker);
    }

    if (req->use_candidate) {
        parley_stun_write_bytes(&w, PARLEY_STUN_ATTR_USE_CANDIDATE, NULL, 0);
    }

    if (req->key != NULL) {
        parley_stun_write_integrity(&w, req->key);
    }

    parley_stun_write_fingerprint(&w);

    return parley_stun_write_done(&w, len);
}


parley_stun_rc_t
parley_stun_binding_indication(uint8_t *buf, size_t cap, const uint8_t *tid,
    size_t *len)
{
    parley_stun_writer_t  w = { buf, cap, 0, PARLEY_STUN_OK };

    *len = 0;

    if (buf == NULL || tid == NULL) {
        return PARLEY_STUN_ERR_INVAL;
    }

    parley_stun_write_header(&w, PARLEY_STUN_BINDING, PARLEY_STUN_INDICATION,
                             tid);
    parley_stun_write_fingerprint(&w);

    return parley_stun_write_done(&w, len);
}


static void
parley_stun_write_header(parley_stun_writer_t *w, uint16_t method,
    parley_stun_class_t class, const uint8_t *tid)
{
    if (w->cap < PARLEY_STUN_HEADER_SIZE) {
        w->rc = PARLEY_STUN_ERR_NOSPACE;
        return;
    }

    parley_stun_put16(w->buf, parley_stun_type(method, class));
    parley_stun_put16(w->buf + 2, 0);
    parley_stun_put32(w->buf + 4, PARLEY_STUN_MAGIC_COOKIE);
    memcpy(w->buf + 8, tid, PARLEY_STUN_TID_SIZE);

    w->len = PARLEY_STUN_HEADER_SIZE;
}


/*
 * Appends an attribute header and "len" zeroed value bytes plus padding,
 * updates the message length, and returns the value to fill in; NULL if
 * it does not fit or an earlier step failed.
 */
static uint8_t *
parley_stun_write_attr(parley_stun_writer_t *w, uint16_t type, size_t len)
{
    size_t    padded;
    uint8_t  *p;

    if (w->rc != PARLEY_STUN_OK) {
        return NULL;
    }

    padded = parley_stun_padded(len);

    if (len > 0xffff
        || PARLEY_STUN_ATTR_HEADER_SIZE + padded > w->cap - w->len
        || w->len + PARLEY_STUN_ATTR_HEADER_SIZE + padded
           > PARLEY_STUN_HEADER_SIZE + PARLEY_STUN_MAX_LENGTH)
    {
        w->rc = PARLEY_STUN_ERR_NOSPACE;
        return NULL;
    }

    p = w->buf + w->len;
    parley_stun_put16(p, type);
    parley_stun_put16(p + 2, (uint16_t) len);

    p += PARLEY_STUN_ATTR_HEADER_SIZE;
    memset(p, 0, padded);

    w->len += PARLEY_STUN_ATTR_HEADER_SIZE + padded;
    parley_stun_put16(w->buf + 2,
                      (uint16_t) (w->len - PARLEY_STUN_HEADER_SIZE));

    return p;
}


static void
parley_stun_write_bytes(parley_stun_writer_t *w, uint16_t type,
    const void *data, size_t len)
{
    uint8_t  *value;

    value = parley_stun_write_attr(w, type, len);

    if (value != NULL && len > 0) {
        memcpy(value, data, len);
    }
}


static void
parley_stun_write_u32(parley_stun_writer_t *w, uint16_t type, uint32_t v)
{
    uint8_t  *value;

    value = parley_stun_write_attr(w, type, 4);

    if (value != NULL) {
        parley_stun_put32(value, v);
    }
}


static void
parley_stun_write_u64(parley_stun_writer_t *w, uint16_t type, uint64_t v)
{
    uint8_t  *value;

    value = parley_stun_write_attr(w, type, 8);

    if (value != NULL) {
        parley_stun_put64(value, v);
    }
}


/* RFC 8489 14.2; the header (and so the transaction id) is written first */
static void
parley_stun_write_xor_address(parley_stun_writer_t *w,
    const parley_stun_addr_t *addr)
{
    size_t    alen;
    uint8_t  *value;

    alen = (addr->family == AF_INET) ? 4 : 16;

    value = parley_stun_write_attr(w, PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS,
                                   4 + alen);
    if (value == NULL) {
        return;
    }

    value[1] = (addr->family == AF_INET) ? PARLEY_STUN_FAMILY_IPV4
                                         : PARLEY_STUN_FAMILY_IPV6;
    parley_stun_put16(value + 2, addr->port ^ (PARLEY_STUN_MAGIC_COOKIE >> 16));
    parley_stun_xor_address(value + 4, addr->addr, w->buf, alen);
}


/* RFC 8489 14.8: class and number, then the reason phrase */
static void
parley_stun_write_error_code(parley_stun_writer_t *w, unsigned code)
{
    size_t       len;
    uint8_t     *value;
    const char  *phrase;

    phrase = parley_stun_reason_phrase(code);
    len = strlen(phrase);

    value = parley_stun_write_attr(w, PARLEY_STUN_ATTR_ERROR_CODE, 4 + len);
    if (value == NULL) {
        return;
    }

    value[2] = (uint8_t) (code / 100);
    value[3] = (uint8_t) (code % 100);
    memcpy(value + 4, phrase, len);
}


/* RFC 8489 14.13: padded with zeros like any attribute, not repeated */
static void
parley_stun_write_unknown(parley_stun_writer_t *w, const uint16_t *unknown,
    size_t n)
{
    size_t    i;
    uint8_t  *value;

    if (n > 0xffff / 2) {
        w->rc = PARLEY_STUN_ERR_INVAL;
        return;
    }

    value = parley_stun_write_attr(w, PARLEY_STUN_ATTR_UNKNOWN_ATTRIBUTES,
                                   2 * n);
    if (value == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        parley_stun_put16(value + 2 * i, unknown[i]);
    }
}


static void
parley_stun_write_integrity(parley_stun_writer_t *w, parley_stun_key_t *key)
{
    size_t            at;
    uint8_t           mac[EVP_MAX_MD_SIZE];
    uint8_t          *value;
    parley_stun_rc_t  rc;

    if (key == NULL || key->sha1 == NULL) {
        w->rc = PARLEY_STUN_ERR_INVAL;
        return;
    }

    at = w->len;

    value = parley_stun_write_attr(w, PARLEY_STUN_ATTR_MESSAGE_INTEGRITY,
                                   PARLEY_STUN_SHA1_SIZE);
    if (value == NULL) {
        return;
    }

    rc = parley_stun_hmac(key->sha1, w->buf, at, PARLEY_STUN_SHA1_SIZE, mac);
    if (rc != PARLEY_STUN_OK) {
        w->rc = rc;
        return;
    }

    memcpy(value, mac, PARLEY_STUN_SHA1_SIZE);
}


static void
parley_stun_write_fingerprint(parley_stun_writer_t *w)
{
    size_t    at;
    uint8_t  *value;

    at = w->len;

    value = parley_stun_write_attr(w, PARLEY_STUN_ATTR_FINGERPRINT,
                                   PARLEY_STUN_FINGERPRINT_SIZE);
    if (value == NULL) {
        return;
    }

    parley_stun_put32(value, parley_stun_crc32(w->buf, at)
                             ^ PARLEY_STUN_FINGERPRINT_XOR);
}


static parley_stun_rc_t
parley_stun_write_done(parley_stun_writer_t *w, size_t *len)
{
    *len = (w->rc == PARLEY_STUN_OK) ? w->len : 0;

    return w->rc;
}


/* RFC 8489 14.8 and RFC 8445 16.2 */
static const char *
parley_stun_reason_phrase(unsigned code)
{
    switch (code) {

    case 300:
        return "Try Alternate";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthenticated";
    case 420:
        return "Unknown Attribute";
    case 438:
        return "Stale Nonce";
    case 487:
        return "Role Conflict";
    case 500:
        return "Server Error";
    }

    return "";
}


/* Helpers */


static uint16_t
parley_stun_type(uint16_t method, parley_stun_class_t class)
{
    /* RFC 8489 5: the class bits sit between the method bits */
    return (uint16_t) ((method & 0x000f) | ((method & 0x0070) << 1)
                       | ((method & 0x0f80) << 2) | ((class & 0x1) << 4)
                       | ((class & 0x2) << 7));
}


static uint32_t
parley_stun_crc32(const uint8_t *p, size_t n)
{
    uint32_t  crc;

    crc = 0xffffffff;

    while (n-- > 0) {
        crc = parley_stun_crc32_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }

    return crc ^ 0xffffffff;
}


static uint16_t
parley_stun_get16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static uint32_t
parley_stun_get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


static uint64_t
parley_stun_get64(const uint8_t *p)
{
    return ((uint64_t) parley_stun_get32(p) << 32) | parley_stun_get32(p + 4);
}


static void
parley_stun_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static void
parley_stun_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


static void
parley_stun_put64(uint8_t *p, uint64_t v)
{
    parley_stun_put32(p, (uint32_t) (v >> 32));
    parley_stun_put32(p + 4, (uint32_t) v);
}
