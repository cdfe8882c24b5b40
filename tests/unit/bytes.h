/*
 * Byte vectors for the unit tests: written as hex by hand, and copied to
 * the heap at exactly their length so that AddressSanitizer sees any read
 * past them. Include after <cmocka.h>; buffers hold MAX_PKT bytes.
 */

#ifndef _PARLEY_TEST_BYTES_H_INCLUDED_
#define _PARLEY_TEST_BYTES_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#ifndef MAX_PKT
#define MAX_PKT  1500
#endif


/* Hex digits to bytes; spaces and '|' separate fields for the reader. */
static inline size_t
hex(const char *s, uint8_t *out)
{
    size_t    n;
    unsigned  v;

    n = 0;

    while (*s) {
        if (*s == ' ' || *s == '|') {
            s++;
            continue;
        }

        assert_true(n < MAX_PKT);
        assert_true(sscanf(s, "%2x", &v) == 1);
        out[n++] = (uint8_t) v;
        s += 2;
    }

    return n;
}


/* A heap copy of exactly len bytes: ASan catches a read past its end. */
static inline uint8_t *
exact(const uint8_t *buf, size_t len)
{
    uint8_t  *p;

    p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, buf, len);

    return p;
}


/* The bytes of hex h, in a heap buffer of exactly their length *len. */
static inline uint8_t *
exact_hex(const char *h, size_t *len)
{
    uint8_t  buf[MAX_PKT];

    *len = hex(h, buf);

    return exact(buf, *len);
}


#endif /* _PARLEY_TEST_BYTES_H_INCLUDED_ */
