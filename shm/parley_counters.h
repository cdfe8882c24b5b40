/*
 * Per-worker counters, kept in the worker's inbox slot of the directory so
 * that any worker can report every worker's figures (parley_status). Each
 * block has one writer, its worker: increments need no lock, and readers
 * tolerate a value that is one increment old.
 *
 * The list is written once, as an X-macro: name, then the help text the
 * status page prints.
 */

#ifndef _PARLEY_COUNTERS_H_INCLUDED_
#define _PARLEY_COUNTERS_H_INCLUDED_


#include <stdint.h>


#define PARLEY_COUNTERS(X)                                                    \
    X(sessions_opened, "WebSocket signaling sessions opened")                 \
    X(sessions_closed, "WebSocket signaling sessions ended")                  \
    X(handshakes_refused, "WebSocket handshakes refused with an HTTP error")  \
    X(messages_in, "signaling messages received")                             \
    X(messages_out, "signaling messages sent")                                \
    X(client_errors, "client messages refused with an error message")         \
    X(protocol_closes, "sessions closed for breaking RFC 6455 "               \
                       "(codes 1002, 1007, 1009)")                            \
    X(slow_closes, "sessions closed because the client read too slowly")      \
    X(idle_closes, "sessions closed because the client fell silent")          \
    X(messages_limited, "client messages refused: more than "                \
                        "parley_message_rate")                               \
    X(flood_closes, "sessions closed for going on past parley_message_rate") \
    X(reads_paused, "read events cut short by the per-event read budget")    \
    X(rooms_created, "conversations created")                                 \
    X(joins, "participants who joined a conversation")                        \
    X(events_sent, "events pushed to worker inboxes")                         \
    X(events_handled, "events read from this worker's inbox")                 \
    X(events_dropped, "events lost to a full inbox")                          \
    X(participants_reaped, "participants of a worker that died, set away "  \
                           "(or removed without parley_resume_timeout)")    \
    X(participants_away, "participants set away: their connection dropped")  \
    X(resumes, "participants who resumed their place")                       \
    X(resumes_refused, "resume messages refused")                            \
    X(away_expired, "away participants removed at parley_resume_timeout")    \
    X(udp_in, "UDP datagrams received on the media socket")                  \
    X(udp_out, "UDP datagrams sent from the media socket")                   \
    X(udp_send_failed, "UDP datagrams the kernel refused to send")          \
    X(udp_dropped, "UDP datagrams dropped: no peer, unvalidated address, "   \
                   "bad STUN, DTLS or SRTP")                                 \
    X(peers_created, "peer connections created")                             \
    X(peers_destroyed, "peer connections ended and freed")                   \
    X(peers_connected, "peer connections whose ICE connected")               \
    X(peers_secure, "peer connections whose DTLS handshake keyed SRTP")      \
    X(peers_failed, "peer connections that failed (ICE, consent or DTLS)")   \
    X(consent_checks, "consent checks (STUN Binding requests) sent to "      \
                      "clients' addresses, retransmissions included")        \
    X(consent_granted, "client addresses that answered the server's first "  \
                       "check: media may go there")                          \
    X(consent_renewed, "answers to the server's periodic check of an "       \
                       "address media goes to (RFC 7675 5.1)")               \
    X(consent_answers_unmatched, "answers with the id of no check still "    \
                                 "out")                                      \
    X(consent_answers_misrouted, "answers from another address than the "    \
                                 "check went to")                            \
    X(consent_answers_invalid, "answers to a check not signed with the "     \
                               "client's password, or errors")               \
    X(consent_unanswered, "consent checks given up without an answer")       \
    X(consent_lost, "addresses given up: no answer to the server's checks "  \
                    "for 30 s, no more media sent there")                    \
    X(ice_restarts, "ICE restarts (a new ufrag from the client)")           \
    X(rtp_in, "RTP packets received and decrypted")                          \
    X(rtp_bytes_in, "bytes of RTP packets received and decrypted")           \
    X(rtcp_in, "RTCP compound packets received and decrypted")             \
    X(rtcp_out, "RTCP compound packets sent: reports and feedback")         \
    X(rtp_out, "RTP packets forwarded to subscribers")                       \
    X(plis_sent, "keyframe requests (PLI) sent to publishers")             \
    X(keyframes_asked, "keyframe requests passed to another worker")        \
    X(tracks_published, "tracks published into the shared track table")    \
    X(rtp_unforwarded, "RTP packets not forwarded: unknown SSRC, too "      \
                       "large for a ring slot, or no room in the table")    \
    X(rtp_flooded, "RTP packets dropped because their track sent too many")  \
    X(rtp_over_budget, "RTP packets not sent to a subscriber: its leg was "  \
                       "past its budget")                                   \
    X(ring_laps, "times a reader fell a ring behind and skipped packets") \
    X(ring_missed, "packets a reader skipped after falling behind")        \
    X(offers_sent, "subscribe offers sent (first and renegotiations)")    \
    X(nacks_in, "NACKs received from subscribers")                          \
    X(nacks_sent, "NACKs sent to publishers for packets lost on the way")  \
    X(nacks_answered, "packets retransmitted to subscribers from a ring")    \
    X(nacks_missed, "NACK'd packets no longer (or never) in the ring")    \
    X(twcc_in, "transport-wide congestion feedback received from "          \
               "subscribers")                                              \
    X(remb_in, "REMB bandwidth estimates received from subscribers")        \
    X(feedback_malformed, "congestion feedback from subscribers that did "  \
                          "not parse")                                     \
    X(feedback_limited, "congestion feedback refused: more than 50 a "      \
                        "second from one subscribe connection")            \
    X(sections_paused, "times a subscriber's video section was paused: "    \
                       "its network would not carry it")                   \
    X(probes, "bandwidth probes started towards subscribers")               \
    X(padding_out, "padding packets sent to subscribers for probes")


typedef struct {
#define PARLEY_COUNTER_FIELD(name, help)  uint64_t name;
    PARLEY_COUNTERS(PARLEY_COUNTER_FIELD)
#undef PARLEY_COUNTER_FIELD
} parley_counters_t;


#endif /* _PARLEY_COUNTERS_H_INCLUDED_ */
