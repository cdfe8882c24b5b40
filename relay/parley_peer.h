/*
 * One WebRTC peer connection on the SFU side: ICE-lite (RFC 8445 2.5),
 * DTLS-SRTP (RFC 5763, RFC 5764) and SRTP, over one transport (BUNDLE,
 * RFC 8843, and rtcp-mux, RFC 5761).
 *
 * The browser is the full, controlling ICE agent and runs the checks; the
 * peer answers them with parley_icelite's check handler. A successful,
 * authenticated check validates its source address (a peer-reflexive
 * candidate, RFC 8445 7.3.1.3); only validated addresses may bring DTLS,
 * SRTP and SRTCP (RFC 8445 7.3.1.3 with RFC 7675 4: nothing but checks is
 * accepted from an address the peer has not proven it owns). A check with
 * USE-CANDIDATE nominates its address (RFC 8445 7.3.1.5).
 *
 * Consent. A check proves that its sender knows the password, not that
 * its source address is the sender's: a client can forge it, and point
 * at a third party. So nothing is sent to an address, media or DTLS,
 * before it has answered a check of the peer's own (RFC 7675: a Binding
 * request with USERNAME "remote:local ufrag", PRIORITY, ICE-CONTROLLED,
 * MESSAGE-INTEGRITY under the browser's ice-pwd and FINGERPRINT, from a
 * random transaction id, retransmitted with backoff for about 5 s). The
 * answer must carry that id, come from that address and be signed with
 * that password; anything else is dropped and counted. The nominated
 * address with consent is the selected one, everything is sent to; a new
 * nomination moves it only once the new address has answered.
 *
 * The first address is no exception: the peer sends its check as soon as
 * an address has passed a check of the browser's (before a nomination, so
 * that the round trip overlaps the browser's own), and holds the first
 * DTLS datagram that arrives before any address has consent, to feed it
 * once one has: DTLS output never goes to an address without consent, so
 * a forged ClientHello cannot turn the handshake's flight (several times
 * its size, retransmitted) at a victim. Without the browser's ice-pwd no
 * check is sent and nothing is ever selected: there is no fallback.
 *
 * A check of the peer's own goes only to an address a valid check of the
 * browser's came from; once an address has consent, only to nominated
 * ones; at most one at a time to each of the PARLEY_PEER_MAX_PATHS
 * addresses (a slot our check is out to is not evicted for a newer one);
 * and not again for PARLEY_PEER_CONSENT_RETRY_MS after one went
 * unanswered. What a forger can aim at a victim is the answer to its
 * check and six requests of about 100 bytes over 4.7 s, three such
 * victims at a time per peer: a few hundred bytes a second per peer.
 * The freshness checks below add one request every 4 to 6 s, to the
 * selected address only: whoever gets it after its owner left receives
 * at most eight of them, and no media after 30 s.
 *
 * Consent freshness (RFC 7675 5.1). Consent is not for ever: whoever
 * answered once may lose the address (a new DHCP lease, a NAT mapping
 * reused) while its owner goes on forging checks from it. So the peer
 * checks the selected address itself every consent_interval_ms (5 s),
 * each interval drawn anew between 0.8 and 1.2 times that, each check a
 * new transaction sent once; consent lasts consent_timeout_ms (30 s)
 * after the last answer to any of the peer's checks. The browser's own
 * checks do not renew it: they prove their sender knows the password,
 * not that the address still wants the media. When the selected address
 * has gone that long without answering, nothing more is sent to it:
 * another nominated address with consent takes over, or the peer fails
 * (FAILURE_CONSENT). Another address's consent runs out the same way,
 * without checks to renew it.
 *
 * Liveness on the receiving side is the browser's: its checks, and
 * answers to ours, keep a validated address known, so that its DTLS and
 * SRTP are taken (RFC 8445 12.1); one not selected and unheard from for
 * consent_timeout_ms is forgotten; no successful check at all (the
 * browser's, or an answer to ours) within consent_timeout_ms of the
 * start, or of the last one when no address is selected, fails the peer
 * (FAILURE_ICE_TIMEOUT).
 *
 * No I/O, no clock, no allocation per packet. The caller owns the socket
 * and the timer: received datagrams come in through parley_peer_receive()
 * (or parley_endpoint_receive(), which finds the peer), every datagram to
 * send goes out through the send() callback, and the caller asks
 * parley_peer_timeout_ms() when to call parley_peer_handle_timeout(). Time
 * is the caller's monotonic clock in milliseconds ("now_ms"), the same
 * clock in every call.
 *
 * Callbacks run from inside the call that caused them, in the caller's
 * thread. None may destroy the peer or call parley_peer_receive(),
 * parley_peer_handle_timeout(), parley_peer_restart() or parley_peer_close()
 * on it: a caller that wants to destroy a failed peer looks at
 * parley_peer_state() after the call returns. on_rtp(), on_rtcp() and
 * on_app_data() may send on any peer, this one included; send() must not
 * call into the peer at all.
 */

#ifndef _PARLEY_PEER_H_INCLUDED_
#define _PARLEY_PEER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "parley_dtls.h"
#include "parley_srtp.h"
#include "parley_icelite.h"


/* RFC 8839 5.4: ice-ufrag is 4 to 256 ice-chars, ice-pwd 22 to 256. */
#define PARLEY_PEER_UFRAG_MIN             4
#define PARLEY_PEER_UFRAG_MAX             256
#define PARLEY_PEER_PWD_MIN               22
#define PARLEY_PEER_PWD_MAX               256

/*
 * Generated credentials: RFC 8445 5.3 asks for at least 24 random bits in
 * the ufrag and 128 in the password; each ice-char carries 6.
 */
#define PARLEY_PEER_UFRAG_LEN             8       /* 48 bits */
#define PARLEY_PEER_PWD_LEN               24      /* 144 bits */

/* Validated remote addresses kept per peer (RFC 8445 7.3.1.3). */
#define PARLEY_PEER_MAX_PATHS             4

#define PARLEY_PEER_CONSENT_TIMEOUT_MS    30000   /* RFC 7675 5.1 */
#define PARLEY_PEER_CONSENT_INTERVAL_MS   5000    /* RFC 7675 5.1, +-20% */
#define PARLEY_PEER_HANDSHAKE_TIMEOUT_MS  30000

/*
 * The peer's own checks: sent at 0, 100, 300, 700, 1500 and 3100 ms
 * (RFC 8489 6.2.1's backoff from a shorter first RTO, for a quick setup),
 * given up 1600 ms after the last; an address that did not answer is not
 * checked again for PARLEY_PEER_CONSENT_RETRY_MS.
 */
#define PARLEY_PEER_CONSENT_RTO_MS        100
#define PARLEY_PEER_CONSENT_RTO_MAX_MS    1600
#define PARLEY_PEER_CONSENT_SENDS         6
#define PARLEY_PEER_CONSENT_RETRY_MS      10000

/*
 * What became of the peer's own checks, told to the handler's
 * on_consent() as it happens (the worker's counters), besides the stats.
 */
#define PARLEY_PEER_CONSENT_EVENTS(X)                                        \
    X(CHECK,      "a check of ours sent, retransmissions included")          \
    X(GRANTED,    "an address answered its first check: it may be sent to")  \
    X(RENEWED,    "an address with consent answered a freshness check")      \
    X(UNMATCHED,  "an answer with the id of no check of ours still out")     \
    X(MISROUTED,  "an answer from another address than its check went to")   \
    X(INVALID,    "an answer not an authenticated Binding success")          \
    X(UNANSWERED, "a check of ours given up without an answer")              \
    X(LOST,       "the selected address lost consent: no more is sent there")

#define PARLEY_PEER_CONSENT_ENUM(name, text)  PARLEY_PEER_CONSENT_##name,

typedef enum {
    PARLEY_PEER_CONSENT_EVENTS(PARLEY_PEER_CONSENT_ENUM)
    PARLEY_PEER_NCONSENT_EVENTS
} parley_peer_consent_event_t;


/* The largest DTLS datagram held until an address has consent. */
#define PARLEY_PEER_DTLS_HOLD_MAX         1500


#define PARLEY_PEER_RESULTS(X)                                               \
    X(OK,              "ok")                                                 \
    X(ERR_INVAL,       "invalid argument")                                   \
    X(ERR_NOMEM,       "out of memory")                                      \
    X(ERR_CREDENTIALS, "ufrag or password not as RFC 8839 5.4 says")         \
    X(ERR_CRYPTO,      "no random bytes, or the HMAC key failed")            \
    X(ERR_DTLS,        "DTLS refused the call")                              \
    X(ERR_STATE,       "not allowed in this state")                          \
    X(ERR_NO_PATH,     "no nominated address with consent to send to")       \
    X(ERR_NOT_SECURE,  "no SRTP keys yet")                                   \
    X(ERR_SRTP,        "SRTP protection failed")                             \
    X(ERR_REFUSED,     "the endpoint keeps that ufrag or address for another") \
    X(ERR_FULL,        "the endpoint's tables are full")

#define PARLEY_PEER_RESULT_ENUM(name, text)  PARLEY_PEER_##name,

typedef enum {
    PARLEY_PEER_RESULTS(PARLEY_PEER_RESULT_ENUM)
    PARLEY_PEER_NRESULTS
} parley_peer_rc_t;


/* What became of a received datagram; each drop is counted by reason. */
#define PARLEY_PEER_DROPS(X)                                                 \
    X(NONE,          "taken")                                                \
    X(NOT_WEBRTC,    "not STUN, DTLS, RTP or RTCP (RFC 7983)")               \
    X(MALFORMED,     "too short for its class, or STUN that does not parse") \
    X(STUN_IGNORED,  "STUN silently discarded (see checks by reason)")       \
    X(STUN_REJECTED, "check answered with an error (see checks by reason)")  \
    X(UNAUTHENTICATED, "check failed authentication: not answered")          \
    X(REFUSED,       "check not answered: address kept for another peer")    \
    X(UNVALIDATED,   "DTLS, RTP or RTCP from an address no check came from") \
    X(UNCONSENTED,   "DTLS before any address had consent, too large to hold") \
    X(RESPONSE,      "answer to a check of ours not taken (see responses)")  \
    X(DTLS,          "DTLS datagram refused (see the DTLS stats)")           \
    X(NOT_SECURE,    "SRTP or SRTCP before the DTLS keys")                   \
    X(SRTP_AUTH,     "SRTP or SRTCP authentication failed")                  \
    X(SRTP_REPLAY,   "SRTP or SRTCP replayed or too old")                    \
    X(SRTP_OTHER,    "SRTP or SRTCP refused (see unprotect by reason)")      \
    X(CLOSED,        "peer failed or closed")

#define PARLEY_PEER_DROP_ENUM(name, text)  PARLEY_PEER_DROP_##name,

typedef enum {
    PARLEY_PEER_DROPS(PARLEY_PEER_DROP_ENUM)
    PARLEY_PEER_NDROPS
} parley_peer_drop_t;


typedef enum {
    PARLEY_PEER_NEW = 0,           /* no successful check yet */
    PARLEY_PEER_CHECKING,          /* checks answered, none selected */
    PARLEY_PEER_CONNECTED,         /* a nominated address has consent */
    PARLEY_PEER_FAILED,            /* final, but see parley_peer_restart() */
    PARLEY_PEER_CLOSED             /* final */
} parley_peer_state_t;


#define PARLEY_PEER_FAILURES(X)                                              \
    X(NONE,              "none")                                             \
    X(CONSENT,           "consent on the selected address ran out")          \
    X(ICE_TIMEOUT,       "no successful check within the consent timeout")   \
    X(DTLS,              "DTLS failed (see dtls_error)")                     \
    X(HANDSHAKE_TIMEOUT, "DTLS handshake not done in time")                  \
    X(SRTP,              "SRTP sessions could not be made")

#define PARLEY_PEER_FAILURE_ENUM(name, text)  PARLEY_PEER_FAILURE_##name,

typedef enum {
    PARLEY_PEER_FAILURES(PARLEY_PEER_FAILURE_ENUM)
    PARLEY_PEER_NFAILURES
} parley_peer_failure_t;


typedef struct parley_peer_s  parley_peer_t;


typedef struct {
    void   *data;                  /* passed back to each callback */

    /* One UDP datagram to "to"; required. buf is valid during the call. */
    void  (*send)(void *data, const struct sockaddr *to, socklen_t tolen,
              const uint8_t *buf, size_t len);

    void  (*on_state)(void *data, parley_peer_state_t state);

    /* DTLS is done and SRTP keyed: media may flow. */
    void  (*on_secure)(void *data, parley_srtp_profile_t profile);

    /*
     * A decrypted RTP packet or RTCP compound, in the caller's receive
     * buffer: valid during the call, and the callee may rewrite it there.
     */
    void  (*on_rtp)(void *data, uint8_t *buf, size_t len);
    void  (*on_rtcp)(void *data, uint8_t *buf, size_t len);

    /* DTLS application data (SCTP, RFC 8261); valid during the call. */
    void  (*on_app_data)(void *data, const uint8_t *buf, size_t len);

    /* Each event of the peer's own checks (optional). */
    void  (*on_consent)(void *data, parley_peer_consent_event_t event);
} parley_peer_handler_t;


/*
 * ICE credentials as the SDP carries them: bytes, not NUL-terminated.
 * A local ufrag or password of length 0 is generated; remote ones of
 * length 0 are not known yet (parley_peer_set_remote_credentials()).
 *
 * The remote password keys the peer's own consent checks (RFC 7675): a
 * peer without it never selects an address, so never sends media.
 */
typedef struct {
    parley_stun_str_t  local_ufrag;
    parley_stun_str_t  local_pwd;
    parley_stun_str_t  remote_ufrag;
    parley_stun_str_t  remote_pwd;
} parley_peer_ice_t;


typedef struct {
    parley_peer_ice_t                 ice;

    /*
     * RFC 8842 5: a=setup:active in the browser's SDP (the usual answer
     * to our a=setup:passive) makes it the DTLS client and us the server.
     */
    parley_dtls_role_t                dtls_role;

    /* The browser's a=fingerprint lines; none yet is allowed. */
    const parley_dtls_fingerprint_t  *fingerprints;
    size_t                            nfingerprints;

    unsigned                          consent_timeout_ms;   /* 0: 30 s */
    unsigned                          consent_interval_ms;  /* 0: 5 s */
    unsigned                          handshake_timeout_ms; /* 0: 30 s */
    unsigned                          srtp_window;          /* 0: default */

    /*
     * No data channel on this connection: the DTLS association is shed
     * (parley_dtls_shed(), some 60 KB) at the first SRTP or SRTCP packet
     * the browser sends, which proves it finished the handshake too.
     * DTLS that arrives after is dropped; parley_peer_send_app_data()
     * fails; closing sends no close_notify.
     */
    unsigned                          shed_dtls:1;

    parley_peer_handler_t             handler;
} parley_peer_conf_t;


typedef struct {
    parley_peer_state_t    state;
    parley_peer_failure_t  failure;
    parley_dtls_rc_t       dtls_error;     /* FAILURE_DTLS: why */

    uint64_t  datagrams_in;        /* handed to the peer, dropped or not */
    uint64_t  bytes_in;
    uint64_t  datagrams_out;       /* handed to send() */
    uint64_t  bytes_out;

    uint64_t  rtp_in;              /* delivered to on_rtp(), decrypted */
    uint64_t  rtp_bytes_in;
    uint64_t  rtcp_in;             /* delivered to on_rtcp() */
    uint64_t  rtcp_bytes_in;
    uint64_t  rtp_out;             /* protected and sent */
    uint64_t  rtp_bytes_out;
    uint64_t  rtcp_out;
    uint64_t  rtcp_bytes_out;
    uint64_t  send_refused;        /* send calls before CONNECTED/keys */

    uint64_t  nominations;         /* checks with USE-CANDIDATE answered */
    uint64_t  path_changes;        /* the selected address changed */
    uint64_t  paths_forgotten;     /* expired, evicted or moved away */
    uint64_t  paths_refused;       /* checks unanswered: every slot busy */
    uint64_t  dtls_unsent;         /* DTLS output with no address to go */
    uint64_t  dtls_held;           /* DTLS kept until an address had consent */
    uint64_t  restarts;

    /* the peer's own checks (RFC 7675) */
    uint64_t  consent_checks;      /* transactions started, fresh ones too */
    uint64_t  consent_requests;    /* requests sent, retransmissions too */
    uint64_t  consent_granted;     /* answered: the address may be sent to */
    uint64_t  consent_renewed;     /* the selected address answered again */
    uint64_t  consent_refused;     /* answered with an authenticated error */
    uint64_t  consent_timeouts;    /* never answered */
    uint64_t  consent_lost;        /* the selected address's consent ran out */
    uint64_t  responses_unmatched; /* no transaction of ours has the id */
    uint64_t  responses_misrouted; /* the id of a check sent elsewhere */
    uint64_t  responses[PARLEY_ICELITE_NRESPONSES];  /* the matched ones */

    uint64_t  drops[PARLEY_PEER_NDROPS];
    uint64_t  checks[PARLEY_ICELITE_NREASONS];     /* but the answers */
    uint64_t  unprotect_rtp[PARLEY_SRTP_RC_COUNT];  /* failures by reason */
    uint64_t  unprotect_rtcp[PARLEY_SRTP_RC_COUNT];
    uint64_t  protect_rtp[PARLEY_SRTP_RC_COUNT];
    uint64_t  protect_rtcp[PARLEY_SRTP_RC_COUNT];
} parley_peer_stats_t;


/*
 * What a peer tells the owner of the shared socket (parley_endpoint) so
 * that its tables follow the peer's ufrag and addresses. Each call is made
 * before the change it announces takes effect in the peer; a refusal
 * (ERR_REFUSED, ERR_FULL) cancels the change.
 */
typedef struct {
    parley_peer_rc_t  (*address_validated)(void *data, parley_peer_t *peer,
                          const parley_stun_addr_t *addr, uint64_t now_ms);
    void              (*address_forgotten)(void *data, parley_peer_t *peer,
                          const parley_stun_addr_t *addr);
    /* the local ufrag is about to become "ufrag" (ICE restart) */
    parley_peer_rc_t  (*ufrag_changing)(void *data, parley_peer_t *peer,
                          const uint8_t *ufrag, size_t len);
    /* the peer is being destroyed: forget it */
    void              (*detach)(void *data, parley_peer_t *peer);
} parley_peer_registry_t;


const char *parley_peer_rc_str(parley_peer_rc_t rc);
const char *parley_peer_drop_str(parley_peer_drop_t drop);
const char *parley_peer_state_str(parley_peer_state_t state);
const char *parley_peer_failure_str(parley_peer_failure_t failure);
const char *parley_peer_consent_event_str(parley_peer_consent_event_t event);

/*
 * Makes the peer and its DTLS transport (which references the identity).
 * A DTLS server takes a ClientHello from then on; a client sends its own
 * once an address is nominated (RFC 5763 5). parley_srtp_init() must have
 * been called in the process.
 */
parley_peer_rc_t parley_peer_create(parley_peer_t **out,
    parley_dtls_identity_t *identity, const parley_peer_conf_t *conf,
    uint64_t now_ms);

/*
 * Frees the peer without a word to the browser (parley_peer_close() says
 * goodbye first), and takes it out of its endpoint. NULL is ignored.
 */
void parley_peer_destroy(parley_peer_t *peer);

/* The local ice-ufrag and ice-pwd for the SDP; also NUL-terminated. */
void parley_peer_local_credentials(const parley_peer_t *peer,
    parley_stun_str_t *ufrag, parley_stun_str_t *pwd);

/*
 * The browser's ice-ufrag and ice-pwd, when its SDP comes after the peer
 * was made: the addresses its checks brought are checked at once.
 * ERR_STATE if the peer has them already (parley_peer_restart() changes
 * them).
 */
parley_peer_rc_t parley_peer_set_remote_credentials(parley_peer_t *peer,
    const parley_stun_str_t *ufrag, const parley_stun_str_t *pwd,
    uint64_t now_ms);

/* The browser's a=fingerprint lines, when they were not known at create. */
parley_peer_rc_t parley_peer_set_remote_fingerprints(parley_peer_t *peer,
    const parley_dtls_fingerprint_t *fps, size_t n);

/*
 * One received datagram from "from". SRTP and SRTCP are decrypted in
 * place, so buf is the caller's to lend. Returns what became of it.
 */
parley_peer_drop_t parley_peer_receive(parley_peer_t *peer,
    const parley_stun_addr_t *from, uint8_t *buf, size_t len,
    uint64_t now_ms);

/* The same for a STUN message already parsed (by the endpoint). */
parley_peer_drop_t parley_peer_receive_stun(parley_peer_t *peer,
    const parley_stun_addr_t *from, const parley_stun_msg_t *msg,
    uint64_t now_ms);

/*
 * Protect in place (cap >= len + PARLEY_SRTP_TRAILER_ROOM) and send to the
 * selected address. ERR_STATE unless CONNECTED (RFC 7675 5.2: no consent,
 * no sending), ERR_NOT_SECURE before the keys, ERR_SRTP with the reason
 * counted in the stats.
 */
parley_peer_rc_t parley_peer_send_rtp(parley_peer_t *peer, uint8_t *buf,
    size_t len, size_t cap);
parley_peer_rc_t parley_peer_send_rtcp(parley_peer_t *peer, uint8_t *buf,
    size_t len, size_t cap);

/*
 * As parley_peer_send_rtp(), for a caller that sends many datagrams at
 * once (sendmmsg): the packet is protected in place, *len becomes its
 * protected length, and *to, *tolen say where it goes (the selected
 * address, valid until the next call into the peer); the caller sends
 * it. Counted as sent.
 */
parley_peer_rc_t parley_peer_protect_rtp(parley_peer_t *peer, uint8_t *buf,
    size_t *len, size_t cap, const struct sockaddr **to, socklen_t *tolen);

/* One DTLS application record (SCTP), at most one datagram's worth. */
parley_peer_rc_t parley_peer_send_app_data(parley_peer_t *peer,
    const uint8_t *buf, size_t len);

/*
 * Milliseconds from now_ms until parley_peer_handle_timeout() is due (0:
 * now), or -1 when nothing is pending. Ask again after every call into the
 * peer: each may arm or move a deadline.
 */
int64_t parley_peer_timeout_ms(parley_peer_t *peer, uint64_t now_ms);

/*
 * DTLS retransmissions, the peer's own checks, consent and handshake
 * deadlines; early is harmless.
 */
void parley_peer_handle_timeout(parley_peer_t *peer, uint64_t now_ms);

/*
 * ICE restart (RFC 8445 9): new local credentials (generated where the
 * length is 0) and the browser's new ufrag and password. DTLS and SRTP
 * are kept, and so are the validated addresses and their consent, so
 * that media flows on the old path until the browser nominates a new one
 * and it answers; checks of ours still out are forgotten (they were
 * signed with the old password). A peer that FAILED for consent or
 * ICE_TIMEOUT becomes live again; ERR_STATE after a DTLS failure or close.
 */
parley_peer_rc_t parley_peer_restart(parley_peer_t *peer,
    const parley_peer_ice_t *ice, uint64_t now_ms);

/*
 * Sends close_notify (RFC 5246 7.2.1) if the handshake is done, and
 * becomes CLOSED: nothing is received or sent after.
 */
void parley_peer_close(parley_peer_t *peer);

parley_peer_state_t parley_peer_state(const parley_peer_t *peer);

/* handler.data: the caller's object, from the peer the endpoint names. */
void *parley_peer_data(const parley_peer_t *peer);

const parley_peer_stats_t *parley_peer_stats(const parley_peer_t *peer);
const parley_dtls_stats_t *parley_peer_dtls_stats(const parley_peer_t *peer);

/* 1 once SRTP is keyed; *profile (may be NULL) says which profile. */
int parley_peer_secure(const parley_peer_t *peer,
    parley_srtp_profile_t *profile);

/* The nominated address everything is sent to; ERR_NO_PATH if none. */
parley_peer_rc_t parley_peer_selected_address(const parley_peer_t *peer,
    struct sockaddr_storage *ss, socklen_t *len);

/* For parley_endpoint. */

/*
 * Links the peer to the owner of its socket. ERR_STATE if it already has
 * a registry or a validated address: attach right after creating it.
 */
parley_peer_rc_t parley_peer_attach(parley_peer_t *peer,
    const parley_peer_registry_t *registry, void *data);

/*
 * Unlinks it, first telling address_forgotten() of every address; the
 * peer keeps its addresses and goes on working standalone.
 */
void parley_peer_detach(parley_peer_t *peer);

/* Forgets a validated address (it moved to another peer). */
void parley_peer_forget_address(parley_peer_t *peer,
    const parley_stun_addr_t *addr);

/*
 * 1 if the peer is alive and a check from addr succeeded within hold_ms
 * of now_ms: the address is still in use and is not to be taken away.
 */
int parley_peer_holds_address(const parley_peer_t *peer,
    const parley_stun_addr_t *addr, uint64_t now_ms, uint64_t hold_ms);

/* Family, port and address bytes equal: the endpoint's key comparison. */
int parley_peer_addr_equal(const parley_stun_addr_t *a,
    const parley_stun_addr_t *b);


#endif /* _PARLEY_PEER_H_INCLUDED_ */
