/*
 * One ICE transport (RFC 8445) per peer connection, on libnice.
 *
 * One stream with one component: with BUNDLE (RFC 8843) and rtcp-mux
 * (RFC 5761) everything a peer connection carries - STUN, DTLS, SRTP,
 * SRTCP - shares one 5-tuple, so there is no RTCP component.
 *
 * The SFU side is an ICE-lite agent (RFC 8445 2.5): the browser is the
 * full, controlling agent and runs the checks; we answer them. The full
 * controlling mode exists for the test peer, which plays the browser.
 *
 * Threads and loops. libnice runs on the GMainContext handed to
 * parley_ice_create(), driven by the worker's loop through parley_glib's
 * pump: libnice's timers and socket sources are dispatched from
 * parley_glib_pump_dispatch()/_timer(), in the worker's thread. No thread
 * is started here. After any parley_ice_* call other than the send calls,
 * the host must run parley_glib_pump_prepare() before it sleeps (see
 * parley_glib.h, step 5).
 *
 * Candidates are trickled (RFC 8838): parley_ice_gather() makes the host
 * candidates, one per local address, each on a UDP port of the configured
 * range, and hands each to the local_candidate callback as an SDP
 * attribute value "candidate:..." (RFC 8839 5.1), ready for signaling.
 * An operator behind a 1:1 NAT announces the public address: host
 * candidates are then signaled with that address (and the same port)
 * while libnice binds the local one (RFC 8445 5.1.1.1: the address of a
 * host candidate behind a NAT that keeps ports is the public one as far
 * as the peer is concerned).
 *
 * Receiving. libnice reads its sockets in GLib dispatch, answers STUN
 * itself, and hands every other datagram (DTLS, SRTP, SRTCP: RFC 7983) to
 * the data callback. Reading the selected socket directly instead would
 * starve libnice of the peer's consent checks (RFC 7675), which it would
 * then never answer, so the browser would drop the connection after 30 s.
 *
 * Sending. Once a pair is selected, parley_ice_send() and
 * parley_ice_send_batch() write straight to the selected socket's fd with
 * sendmsg()/sendmmsg() to the selected remote address: no GLib, no lock,
 * no allocation on that path.
 *
 * Liveness. An ICE-lite agent sends no checks (RFC 8445 2.5), so it cannot
 * verify consent itself; the browser does (RFC 7675). Its checks arrive
 * every 5 s or so (RFC 7675 5.1), so silence tells that the peer is gone
 * or its network changed. parley_ice_check_consent(), which the caller
 * runs on a timer (every second is plenty), turns silence into states:
 * DISCONNECTED after disconnected_ms without a datagram, FAILED after
 * failed_ms (RFC 7675 5.1: 30 s), and back to CONNECTED when datagrams
 * resume before that. Any datagram arriving on the transport's sockets
 * counts, STUN included: libnice does not tell when it answers a check,
 * so the pump stamps the time whenever the host reports one of the
 * sockets readable (parley_glib_pump_stamp()). FAILED is final until
 * parley_ice_restart(). libnice's own state changes are reported too
 * (CONNECTING, CONNECTED, FAILED when its checks fail).
 *
 * Callbacks run from the pump's dispatch, and also from inside
 * parley_ice_gather() and parley_ice_restart() (the candidates). They may
 * call any parley_ice_* function, including parley_ice_destroy() on their
 * own transport: destruction is then deferred until the next pump dispatch
 * (no callback runs in between), because libnice is still on the stack.
 */

#ifndef _PARLEY_ICE_H_INCLUDED_
#define _PARLEY_ICE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <glib.h>

#include "parley_glib.h"


/* RFC 8839 5.4: ice-ufrag is 4..256 characters, ice-pwd 22..256. */
#define PARLEY_ICE_UFRAG_MAX           256
#define PARLEY_ICE_PWD_MAX             256

/* Longest candidate line handed to local_candidate, NUL included. */
#define PARLEY_ICE_CANDIDATE_MAX       512

#define PARLEY_ICE_DISCONNECTED_MS     10000
#define PARLEY_ICE_FAILED_MS           30000      /* RFC 7675 5.1 */

/* Datagrams per sendmmsg() call in parley_ice_send_batch(). */
#define PARLEY_ICE_BATCH_MAX           64


#define PARLEY_ICE_RESULTS(X)                                                \
    X(OK,          "ok")                                                     \
    X(SKIPPED,     "candidate not usable here, ignored")                     \
    X(ERR_INVAL,   "invalid argument")                                       \
    X(ERR_NOMEM,   "out of memory")                                          \
    X(ERR_ADDRESS, "bad local or announced address")                         \
    X(ERR_NICE,    "libnice refused the call")                               \
    X(ERR_PORTS,   "no free UDP port in the range")                          \
    X(ERR_STATE,   "no usable selected pair")                                \
    X(ERR_AGAIN,   "socket send buffer full")                                \
    X(ERR_SEND,    "sendmsg or sendmmsg failed, errno kept")

#define PARLEY_ICE_RESULT_ENUM(name, text)  PARLEY_ICE_##name,

typedef enum {
    PARLEY_ICE_RESULTS(PARLEY_ICE_RESULT_ENUM)
    PARLEY_ICE_NRESULTS
} parley_ice_rc_t;


typedef enum {
    PARLEY_ICE_NEW = 0,
    PARLEY_ICE_CONNECTING,
    PARLEY_ICE_CONNECTED,          /* a pair is selected, the peer is heard */
    PARLEY_ICE_DISCONNECTED,       /* silent past disconnected_ms */
    PARLEY_ICE_FAILED              /* checks failed or silent past failed_ms */
} parley_ice_state_t;


typedef enum {
    PARLEY_ICE_LITE = 0,           /* the SFU: lite, controlled */
    PARLEY_ICE_FULL_CONTROLLING    /* the test peer, as a browser is */
} parley_ice_mode_t;


typedef struct parley_ice_s  parley_ice_t;


typedef struct {
    /* "candidate:...", without "a=" or line end; NUL-terminated */
    void  (*local_candidate)(void *arg, const char *candidate);
    void  (*gathering_done)(void *arg);
    void  (*state)(void *arg, parley_ice_state_t state);
    /* the pair that parley_ice_send() now uses */
    void  (*selected_pair)(void *arg, const struct sockaddr *local,
              const struct sockaddr *remote);
    /* a datagram that is not STUN; buf is valid during the call only */
    void  (*data)(void *arg, const uint8_t *buf, size_t len);
    void   *arg;
} parley_ice_handler_t;


typedef struct {
    parley_ice_mode_t      mode;
    uint16_t               port_min;          /* 0 and 0: any port */
    uint16_t               port_max;
    /*
     * Numeric addresses to gather host candidates on. libnice skips
     * loopback when it discovers interfaces itself, which it does only
     * when this list is empty.
     */
    const char *const     *local_addresses;
    size_t                 nlocal_addresses;
    const char            *announced_address; /* NULL: none */
    /*
     * The pump that drives ctx (required): it stamps the sockets' arrival
     * times and hears of their closing (see "fd reuse" in parley_glib.h).
     */
    parley_glib_pump_t    *pump;
    unsigned               disconnected_ms;   /* 0: the default */
    unsigned               failed_ms;         /* 0: the default */
    parley_ice_handler_t   handler;
} parley_ice_options_t;


const char *parley_ice_rc_str(parley_ice_rc_t rc);
const char *parley_ice_state_str(parley_ice_state_t state);

/*
 * Makes the agent and its stream on ctx (which it references) and fresh
 * local credentials. Nothing is bound until parley_ice_gather().
 */
parley_ice_rc_t parley_ice_create(GMainContext *ctx,
    const parley_ice_options_t *options, parley_ice_t **ice);

/*
 * Frees the agent, its sockets and sources. From inside one of the
 * transport's own callbacks the work is deferred (see above). NULL is
 * ignored.
 */
void parley_ice_destroy(parley_ice_t *ice);

/*
 * The local ice-ufrag and ice-pwd for SDP; the strings stay valid until
 * the next parley_ice_restart() or parley_ice_destroy().
 */
void parley_ice_local_credentials(const parley_ice_t *ice,
    const char **ufrag, const char **pwd);

parley_ice_rc_t parley_ice_set_remote_credentials(parley_ice_t *ice,
    const char *ufrag, const char *pwd);

/*
 * Binds one UDP socket per local address in the port range and emits the
 * host candidates, then gathering_done. PARLEY_ICE_ERR_PORTS if a port
 * could not be had.
 */
parley_ice_rc_t parley_ice_gather(parley_ice_t *ice);

/*
 * One trickled remote candidate, "candidate:..." or "a=candidate:...", a
 * line end allowed. PARLEY_ICE_SKIPPED for a candidate of another
 * component, a TCP one, or one with an mDNS name (.local) that libnice
 * cannot resolve: the peer's checks will make it known as peer-reflexive.
 * PARLEY_ICE_ERR_INVAL if it does not parse.
 *
 * In lite mode a valid candidate is checked and then dropped: a lite agent
 * sends no checks (RFC 8445 2.5) and learns the peer's addresses from the
 * peer's checks. libnice 0.1.21 in lite mode would run checks towards the
 * candidates it is given, letting a client make the server send STUN to
 * any address (RFC 8445 19.5.1). The same goes for end-of-candidates.
 */
parley_ice_rc_t parley_ice_add_remote_candidate(parley_ice_t *ice,
    const char *candidate);

/* The peer's end-of-candidates (RFC 8838 4.4 / 8840). */
parley_ice_rc_t parley_ice_end_of_candidates(parley_ice_t *ice);

/*
 * Sends one datagram on the selected pair. PARLEY_ICE_ERR_STATE with no
 * selected pair, or after consent was lost (RFC 7675 5.2), until a new
 * pair is selected; PARLEY_ICE_ERR_AGAIN if the socket buffer is full;
 * PARLEY_ICE_ERR_SEND with errno as sendmsg() left it.
 */
parley_ice_rc_t parley_ice_send(parley_ice_t *ice, const void *buf,
    size_t len);

/*
 * Sends n datagrams, in order, with as few sendmmsg() calls as
 * PARLEY_ICE_BATCH_MAX allows; *sent tells how many left. On
 * PARLEY_ICE_ERR_AGAIN the first *sent went out and the rest did not.
 */
parley_ice_rc_t parley_ice_send_batch(parley_ice_t *ice,
    const struct iovec *bufs, size_t n, size_t *sent);

/*
 * ICE restart (RFC 8445 9): new local credentials (read them with
 * parley_ice_local_credentials()), remote credentials and candidates
 * forgotten: set the peer's new ones again. The local candidates are
 * emitted again through local_candidate, then gathering_done, for the new
 * offer or answer. Data keeps flowing on the old pair, if it still works,
 * until a new one is selected.
 */
parley_ice_rc_t parley_ice_restart(parley_ice_t *ice);

/*
 * The liveness check described above, on the monotonic clock; run it on
 * a timer. Returns the state after the check. A transport that has not
 * connected within failed_ms of its gather or restart fails too: a lite
 * agent has no check of its own that would ever give up.
 */
parley_ice_state_t parley_ice_check_consent(parley_ice_t *ice);

parley_ice_state_t parley_ice_state(const parley_ice_t *ice);

/*
 * The selected pair's addresses, PARLEY_ICE_ERR_STATE if none. Either
 * pointer may be NULL.
 */
parley_ice_rc_t parley_ice_selected_pair(const parley_ice_t *ice,
    struct sockaddr_storage *local, struct sockaddr_storage *remote);

/*
 * The selected socket's fd, -1 if none: for measurements and socket
 * options. It belongs to libnice; reading it steals libnice's STUN.
 */
int parley_ice_selected_fd(const parley_ice_t *ice);

/*
 * The candidate rewriting used for local_candidate, exposed for tests:
 * copies "in" ("candidate:..." or "a=candidate:...") into out without
 * "a=", with the address of a host candidate of the announced address's
 * family replaced by "announced" (which may be NULL: no change).
 * PARLEY_ICE_ERR_INVAL if "in" is not a candidate line or does not fit in
 * cap bytes.
 */
parley_ice_rc_t parley_ice_rewrite_candidate(const char *in,
    const char *announced, char *out, size_t cap);


#endif /* _PARLEY_ICE_H_INCLUDED_ */
