/*
 * OpenSSL's AES-CM, AES-GCM and HMAC-SHA1 plugged into libsrtp2's crypto
 * kernel, with contexts made once per stream (parley_srtp_ossl.c).
 * parley_srtp_init() installs them; nothing else calls this.
 */

#ifndef _PARLEY_SRTP_OSSL_H_INCLUDED_
#define _PARLEY_SRTP_OSSL_H_INCLUDED_

#include <srtp2/srtp.h>


srtp_err_status_t parley_srtp_ossl_install(void);


#endif /* _PARLEY_SRTP_OSSL_H_INCLUDED_ */
