/*
 * parley-peer: the test peer and load generator. See usage() and peer.h.
 *
 * A run has three phases: setup (signaling, ICE, DTLS for every
 * participant, a bounded number at a time), warm-up, and the measured
 * window, over which every figure of the summary is taken: packets, loss,
 * latency, this process's CPU time and, given --server-pids, the server's
 * CPU time (utime + stime of /proc/PID/stat) and memory (PSS).
 */

#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "peer.h"


#define PEER_PIDS_MAX   16
#define PEER_PLI_SPAN   200     /* ms a --pli-burst's asks may take */
#define PEER_PLI_LAST   600     /* ms before the window's end: no burst */


typedef enum {
    PEER_PHASE_SETUP = 0,
    PEER_PHASE_WARMUP,
    PEER_PHASE_MEASURE,
    PEER_PHASE_DONE
} peer_phase_t;


typedef struct {
    uint64_t   received;           /* every RTP datagram */
    uint64_t   known;              /* of the offered SSRCs */
    uint64_t   expected;
    uint64_t   sent;
    uint64_t   cpu_ns;             /* this process */
    uint64_t   server_ticks;
    uint64_t   at_ms;
    uint64_t   plis;               /* received by publishers */
} peer_snapshot_t;


typedef struct {
    peer_run_t       run;
    int              create;
    int              publish;
    int              subscribe;
    unsigned         nsubscribers;
    unsigned         concurrency;
    double           duration_s;
    double           warmup_s;
    double           setup_timeout_s;
    double           max_loss_pct;
    double           min_recovered_pct;
    unsigned         batch_ms;
    uint64_t         min_packets;
    int              npids;
    int              pids[PEER_PIDS_MAX];
    uint64_t         pss_before_kb;
    uint64_t         pss_after_kb;
    peer_phase_t     phase;
    uint64_t         phase_ms;
    unsigned         started;      /* subscribers whose signaling began */
    peer_snapshot_t  start;
    peer_snapshot_t  end;
    const char      *ready_file;
    unsigned         said_subscribed:1;
    unsigned         pli_burst;    /* PLIs per video track and burst */
    unsigned         pli_left;     /* of the burst running */
    uint64_t         pli_burst_ms; /* when it started, or the next does */
    uint64_t         pli_bursts;   /* started */
} peer_main_t;


static volatile sig_atomic_t  peer_stop;


static void
peer_on_signal(int sig)
{
    (void) sig;
    peer_stop = 1;
}


static void
usage(void)
{
    fputs(
"usage: parley-peer --url ws://127.0.0.1:PORT/ws [options]\n"
"  --create            create a conversation (its id goes to stdout and\n"
"                      --room-file as \"ROOM WORKER\"); with janus, the\n"
"                      publisher's feed id stands for the room\n"
"  --room ID           join conversation ID (janus: subscribe feed ID)\n"
"  --publish           publish audio (Opus-like) and video (VP8-like)\n"
"  --subscribe         subscribe and check what arrives\n"
"  --subscribers N     subscriber connections in this process (1)\n"
"  --worker W          connections must land on worker W (reconnects)\n"
"  --duration S        measured seconds (5); a publisher: publishing time\n"
"  --warmup S          seconds between setup and measuring (1)\n"
"  --setup-timeout S   all connections must be ready by then (60)\n"
"  --concurrency K     connections set up at once (16)\n"
"  --sample N          SRTP-authenticate 1 in N packets (1: all)\n"
"  --batch-ms B        let datagrams gather B ms between loop turns (0):\n"
"                      fewer, fuller recvmmsg calls; latency is taken\n"
"                      from the kernel's arrival time all the same\n"
"  --max-loss PCT      fail above this loss (1.0)\n"
"  --min-packets N     fail if a subscriber got fewer in the window (1)\n"
"  --server-pids P,..  measure these processes' CPU time and PSS\n"
"  --signaling NAME    parley (default) or janus (VideoRoom)\n"
"  --janus-room N      the VideoRoom room (janus; created if absent)\n"
"  --room-file PATH    where --create writes the room\n"
"  --local-address IP  gather the host candidate there (127.0.0.1)\n"
"  --corrupt-every N   flip a bit in every Nth checked packet: a test of\n"
"                      the checks themselves, which must then fail\n"
"  --drop-every N      a subscriber drops every Nth video packet, NACKs\n"
"                      it and checks the RTX that comes back\n"
"  --min-recovered PCT fail if fewer of the dropped came back (0)\n"
"  --skip-every N      a publisher leaves every Nth video packet unsent\n"
"                      until the server NACKs it, then sends it as RTX\n"
"  --ssrc N            a publisher sends audio, video and RTX under SSRCs\n"
"                      N, N+1 and N+2 instead of random ones\n"
"  --second-path MODE  once media flows, a subscriber nominates a second\n"
"                      socket of its own: \"silent\" leaves the server's\n"
"                      checks there unanswered (no media may come),\n"
"                      \"answer\" answers them (the media must move)\n"
"  --bandwidth-check   a subscriber's congestion feedback goes silent after\n"
"                      one report: its video must be paused (\"paused\"),\n"
"                      then, reported again, come back\n"
"  --video-pps N       a publisher's video packets per second (130)\n"
"  --video-size B      bytes of RTP payload in each (1130, 64 to 1400)\n"
"  --video-fps F       video frames per second (30): a frame's packets go\n"
"                      out together\n"
"  --pli-burst N       subscribers ask for keyframes: at the start of each\n"
"                      second of the measured window (none in its last\n"
"                      0.6 s), N PLIs per video track, a tick (20 ms) apart\n"
"  --ready-file PATH   append a line when every subscriber's subscribe was\n"
"                      taken (\"subscribed\") and when every connection is\n"
"                      set up (\"ready\": the warm-up begins)\n"
"  -v                  log connection events; -vv also signaling\n"
"Prints one JSON summary line; exits 1 when a check fails, 2 on bad use.\n",
        stderr);
}


static int
peer_parse_pids(peer_main_t *m, char *list)
{
    char  *tok, *end;
    long   v;

    for (tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
        v = strtol(tok, &end, 10);

        if (*end != '\0' || v <= 0 || m->npids == PEER_PIDS_MAX) {
            peer_log("--server-pids: bad pid \"%s\"", tok);
            return -1;
        }

        m->pids[m->npids++] = (int) v;
    }

    return 0;
}


static int
peer_number(const char *opt, const char *arg, double min, double max,
    double *out)
{
    char    *end;
    double   v;

    v = strtod(arg, &end);

    if (*arg == '\0' || *end != '\0' || v < min || v > max) {
        peer_log("%s: \"%s\" is not a number from %g to %g", opt, arg, min,
                 max);
        return -1;
    }

    *out = v;

    return 0;
}


static int
peer_options(peer_main_t *m, int argc, char **argv)
{
    int          c;
    double       v;
    peer_run_t  *r = &m->run;

    static const struct option  opts[] = {
        { "url", required_argument, NULL, 'u' },
        { "create", no_argument, NULL, 'c' },
        { "room", required_argument, NULL, 'r' },
        { "publish", no_argument, NULL, 'p' },
        { "subscribe", no_argument, NULL, 's' },
        { "subscribers", required_argument, NULL, 'n' },
        { "worker", required_argument, NULL, 'w' },
        { "duration", required_argument, NULL, 'd' },
        { "warmup", required_argument, NULL, 'W' },
        { "setup-timeout", required_argument, NULL, 'T' },
        { "concurrency", required_argument, NULL, 'k' },
        { "sample", required_argument, NULL, 'S' },
        { "max-loss", required_argument, NULL, 'l' },
        { "min-packets", required_argument, NULL, 'm' },
        { "server-pids", required_argument, NULL, 'P' },
        { "signaling", required_argument, NULL, 'g' },
        { "janus-room", required_argument, NULL, 'J' },
        { "room-file", required_argument, NULL, 'f' },
        { "batch-ms", required_argument, NULL, 'B' },
        { "local-address", required_argument, NULL, 'L' },
        { "corrupt-every", required_argument, NULL, 'X' },
        { "drop-every", required_argument, NULL, 'D' },
        { "min-recovered", required_argument, NULL, 'R' },
        { "skip-every", required_argument, NULL, 'K' },
        { "ssrc", required_argument, NULL, 'Z' },
        { "second-path", required_argument, NULL, '2' },
        { "bandwidth-check", no_argument, NULL, 'b' },
        { "video-pps", required_argument, NULL, 'V' },
        { "video-size", required_argument, NULL, 'E' },
        { "video-fps", required_argument, NULL, 'Y' },
        { "pli-burst", required_argument, NULL, 'I' },
        { "ready-file", required_argument, NULL, 'Q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        v = 0;

        switch (c) {
        case 'u': r->url = optarg; break;
        case 'c': m->create = 1; break;
        case 'r': snprintf(r->room, sizeof(r->room), "%s", optarg); break;
        case 'p': m->publish = 1; break;
        case 's': m->subscribe = 1; break;
        case 'f': r->room_file = optarg; break;
        case 'L': peer_local_address = optarg; break;
        case 'v': peer_verbose++; break;
        case 'P':
            if (peer_parse_pids(m, optarg) != 0) {
                return -1;
            }
            break;
        case 'g':
            if (strcmp(optarg, "parley") == 0) {
                r->signaling = &peer_signaling_parley;
            } else if (strcmp(optarg, "janus") == 0) {
                r->signaling = &peer_signaling_janus;
            } else {
                peer_log("--signaling: \"%s\" is neither parley nor janus",
                         optarg);
                return -1;
            }
            break;
        case 'n':
            if (peer_number("--subscribers", optarg, 1, 5000, &v) != 0) {
                return -1;
            }
            m->nsubscribers = (unsigned) v;
            break;
        case 'w':
            if (peer_number("--worker", optarg, 0, 127, &v) != 0) {
                return -1;
            }
            r->want_worker = (int) v;
            break;
        case 'd':
            if (peer_number("--duration", optarg, 0.1, 3600,
                            &m->duration_s) != 0)
            {
                return -1;
            }
            break;
        case 'W':
            if (peer_number("--warmup", optarg, 0, 600, &m->warmup_s) != 0) {
                return -1;
            }
            break;
        case 'T':
            if (peer_number("--setup-timeout", optarg, 1, 3600,
                            &m->setup_timeout_s) != 0)
            {
                return -1;
            }
            break;
        case 'k':
            if (peer_number("--concurrency", optarg, 1, 1000, &v) != 0) {
                return -1;
            }
            m->concurrency = (unsigned) v;
            break;
        case 'S':
            if (peer_number("--sample", optarg, 1, 1000, &v) != 0) {
                return -1;
            }
            r->sample = (unsigned) v;
            break;
        case 'l':
            if (peer_number("--max-loss", optarg, 0, 100,
                            &m->max_loss_pct) != 0)
            {
                return -1;
            }
            break;
        case 'm':
            if (peer_number("--min-packets", optarg, 0, 1e12, &v) != 0) {
                return -1;
            }
            m->min_packets = (uint64_t) v;
            break;
        case 'X':
            if (peer_number("--corrupt-every", optarg, 1, 1e6, &v) != 0) {
                return -1;
            }
            peer_corrupt_every = (unsigned) v;
            break;
        case 'D':
            if (peer_number("--drop-every", optarg, 2, 1e6, &v) != 0) {
                return -1;
            }
            peer_drop_every = (unsigned) v;
            break;
        case 'R':
            if (peer_number("--min-recovered", optarg, 0, 100,
                            &m->min_recovered_pct) != 0)
            {
                return -1;
            }
            break;
        case 'K':
            if (peer_number("--skip-every", optarg, 2, 1e6, &v) != 0) {
                return -1;
            }
            peer_skip_every = (unsigned) v;
            break;
        case 'Z':
            if (peer_number("--ssrc", optarg, 1, 4294967290.0, &v) != 0) {
                return -1;
            }
            peer_fixed_ssrc = (uint32_t) v;
            break;
        case 'B':
            if (peer_number("--batch-ms", optarg, 0, 50, &v) != 0) {
                return -1;
            }
            m->batch_ms = (unsigned) v;
            break;
        case 'J':
            if (peer_number("--janus-room", optarg, 1, 1e15, &v) != 0) {
                return -1;
            }
            r->janus_room = (uint64_t) v;
            break;
        case '2':
            if (strcmp(optarg, "silent") == 0) {
                peer_second_path = PEER_SECOND_SILENT;
            } else if (strcmp(optarg, "answer") == 0) {
                peer_second_path = PEER_SECOND_ANSWER;
            } else {
                peer_log("--second-path: \"%s\" is neither silent nor "
                         "answer", optarg);
                return -1;
            }
            break;
        case 'V':
            if (peer_number("--video-pps", optarg, 1, 20000, &v) != 0) {
                return -1;
            }
            peer_video_pps = (unsigned) v;
            break;
        case 'E':
            if (peer_number("--video-size", optarg, 64, 1400, &v) != 0) {
                return -1;
            }
            peer_video_size = (unsigned) v;
            break;
        case 'Y':
            if (peer_number("--video-fps", optarg, 1, 250, &v) != 0) {
                return -1;
            }
            peer_video_fps = (unsigned) v;
            break;
        case 'I':
            if (peer_number("--pli-burst", optarg, 1, 50, &v) != 0) {
                return -1;
            }
            m->pli_burst = (unsigned) v;
            break;
        case 'Q':
            m->ready_file = optarg;
            break;
        case 'b':
            peer_bandwidth_check = 1;
            break;
        default:
            return -1;
        }
    }

    if (optind != argc) {
        peer_log("unexpected argument \"%s\"", argv[optind]);
        return -1;
    }

    if (r->url == NULL) {
        peer_log("--url is required");
        return -1;
    }

    if (r->signaling == &peer_signaling_janus && r->janus_room == 0) {
        peer_log("--signaling janus needs --janus-room");
        return -1;
    }

    if (m->create == (r->room[0] != '\0')) {
        peer_log("give either --create or --room");
        return -1;
    }

    if (!m->publish && !m->subscribe) {
        peer_log("nothing to do: give --publish, --subscribe or both");
        return -1;
    }

    return 0;
}


static void
peer_defaults(peer_main_t *m)
{
    memset(m, 0, sizeof(peer_main_t));

    m->run.signaling = &peer_signaling_parley;
    m->run.want_worker = -1;
    m->run.max_attempts = 64;
    m->run.sample = 1;
    m->nsubscribers = 1;
    m->concurrency = 16;
    m->duration_s = 5;
    m->warmup_s = 1;
    m->setup_timeout_s = 60;
    m->max_loss_pct = 1.0;
    m->min_packets = 1;
}


/* Measurements of this process and the server's */


static uint64_t
peer_cpu_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);

    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}


/* proc(5): utime and stime are fields 14 and 15, after "(comm)". */
static uint64_t
peer_proc_ticks(int pid)
{
    int                 n;
    char                path[64], buf[1024], *p;
    FILE               *f;
    size_t              len;
    unsigned long long  ut, st;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }

    len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';

    p = strrchr(buf, ')');
    if (p == NULL) {
        return 0;
    }

    n = sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
               &ut, &st);

    return n == 2 ? ut + st : 0;
}


static uint64_t
peer_proc_pss_kb(int pid)
{
    char                path[64], line[256];
    FILE               *f;
    unsigned long long  kb;

    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }

    kb = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "Pss: %llu kB", &kb) == 1) {
            break;
        }
    }

    fclose(f);

    return kb;
}


static uint64_t
peer_server_ticks(peer_main_t *m)
{
    int       i;
    uint64_t  t;

    for (t = 0, i = 0; i < m->npids; i++) {
        t += peer_proc_ticks(m->pids[i]);
    }

    return t;
}


static uint64_t
peer_server_pss(peer_main_t *m)
{
    int       i;
    uint64_t  kb;

    for (kb = 0, i = 0; i < m->npids; i++) {
        kb += peer_proc_pss_kb(m->pids[i]);
    }

    return kb;
}


static void
peer_snapshot(peer_main_t *m, peer_snapshot_t *s)
{
    unsigned       i;
    peer_party_t  *p;

    s->received = m->run.stats.received;
    s->sent = m->run.stats.sent;
    s->expected = 0;
    s->known = 0;

    for (i = 0; i < m->run.nparties; i++) {
        p = &m->run.parties[i];
        if (p->sub_made) {
            peer_conn_counts(&p->sub, &s->expected, &s->known);
        }
    }

    s->cpu_ns = peer_cpu_ns();
    s->server_ticks = peer_server_ticks(m);
    s->at_ms = peer_now_ms();
    s->plis = m->run.stats.plis;
}


/* The parties */


static int
peer_make_parties(peer_main_t *m)
{
    unsigned       i, n, first_sub;
    peer_party_t  *p;

    n = (m->publish ? 1 : 0) + (m->subscribe ? m->nsubscribers : 0);
    m->run.parties = calloc(n, sizeof(peer_party_t));
    if (m->run.parties == NULL) {
        peer_log("out of memory for %u participants", n);
        return -1;
    }

    m->run.nparties = n;
    first_sub = m->publish ? 1 : 0;

    for (i = 0; i < n; i++) {
        p = &m->run.parties[i];
        p->run = &m->run;
        p->index = i;
        p->worker = -1;
        p->publisher = m->publish && i == 0;
        p->subscriber = m->subscribe && i >= first_sub;
        p->creator = m->create && i == 0;
        snprintf(p->name, sizeof(p->name), "%s-%u",
                 p->publisher ? "pub" : "sub", i);
    }

    return 0;
}


static int
peer_party_ready(const peer_party_t *p)
{
    if (p->done) {
        return 1;                   /* counted as a failure, not waited for */
    }

    if (p->publisher && p->pub.state != PEER_CONN_SECURE) {
        return 0;
    }

    return !p->subscriber
           || (p->sub_made && p->sub.state == PEER_CONN_SECURE
               && p->sub.received > 0);
}


/* Subscribers begin once the room is known, "concurrency" at a time. */
static void
peer_start_parties(peer_main_t *m)
{
    unsigned       i, busy;
    peer_party_t  *p;

    busy = 0;

    for (i = 0; i < m->started; i++) {
        busy += !peer_party_ready(&m->run.parties[i]);
    }

    while (m->started < m->run.nparties && busy < m->concurrency) {
        p = &m->run.parties[m->started];

        if (!p->creator && m->run.room[0] == '\0') {
            return;                 /* the creator has not created yet */
        }

        if (p->creator && m->started > 0) {
            return;
        }

        peer_party_connect(p);
        m->started++;
        busy++;

        if (p->creator) {
            return;
        }
    }
}


static int
peer_all_ready(peer_main_t *m)
{
    unsigned  i;

    if (m->started < m->run.nparties) {
        return 0;
    }

    for (i = 0; i < m->run.nparties; i++) {
        if (!peer_party_ready(&m->run.parties[i])) {
            return 0;
        }
    }

    return 1;
}


static void
peer_tick_parties(peer_main_t *m, uint64_t now)
{
    unsigned       i;
    peer_party_t  *p;

    for (i = 0; i < m->run.nparties; i++) {
        p = &m->run.parties[i];

        if (p->done) {
            continue;
        }

        if (m->run.signaling->tick != NULL) {
            m->run.signaling->tick(p, now);
        }

        if (p->pub_made) {
            peer_conn_tick(&p->pub, now);
        }

        if (p->sub_made) {
            peer_conn_tick(&p->sub, now);
        }
    }
}


/* Publishers send what is due; the ms until the next packet. */
static int
peer_run_senders(peer_main_t *m)
{
    int            wait, w;
    unsigned       i;
    peer_party_t  *p;

    wait = PEER_TICK_MS;

    for (i = 0; i < m->run.nparties; i++) {
        p = &m->run.parties[i];

        if (p->publisher && !p->done && p->pub.state == PEER_CONN_SECURE) {
            w = peer_sender_run(&p->sender, &m->run.stats);
            wait = w < wait ? w : wait;
        }
    }

    return wait;
}


/* --ready-file: one line per milestone, for a script to wait on */
static void
peer_ready_line(peer_main_t *m, const char *what)
{
    FILE  *f;

    if (m->ready_file == NULL) {
        return;
    }

    f = fopen(m->ready_file, "a");

    if (f == NULL || fprintf(f, "%s\n", what) < 0 || fclose(f) != 0) {
        peer_log("could not write %s", m->ready_file);
        m->run.failures++;
    }
}


static void
peer_check_subscribed(peer_main_t *m)
{
    unsigned  i;

    if (m->said_subscribed || !m->subscribe
        || m->started < m->run.nparties)
    {
        return;
    }

    for (i = 0; i < m->run.nparties; i++) {
        if (m->run.parties[i].subscriber && !m->run.parties[i].subscribed) {
            return;
        }
    }

    m->said_subscribed = 1;
    peer_ready_line(m, "subscribed");
}


/*
 * --pli-burst: every subscriber asks for a keyframe of each video track
 * it receives (RFC 4585 6.3.1), pli_burst times a tick apart, once a
 * second of the measured window. The asks of a burst stay within
 * PEER_PLI_SPAN of its start, however late the loop turns, and no burst
 * starts so late that its answers could fall outside the window.
 */
static void
peer_pli_burst(peer_main_t *m, uint64_t now)
{
    uint32_t       j;
    unsigned       i;
    peer_conn_t   *c;
    peer_party_t  *p;

    if (m->pli_burst == 0 || m->phase != PEER_PHASE_MEASURE) {
        return;
    }

    if (m->pli_left > 0 && now - m->pli_burst_ms > PEER_PLI_SPAN) {
        m->pli_left = 0;
        m->pli_burst_ms += 1000;
    }

    if (m->pli_left == 0) {
        if (now < m->pli_burst_ms
            || now + PEER_PLI_LAST > m->phase_ms + m->duration_s * 1000)
        {
            return;
        }

        m->pli_burst_ms = now;
        m->pli_left = m->pli_burst;
        m->pli_bursts++;
    }

    for (i = 0; i < m->run.nparties; i++) {
        p = &m->run.parties[i];
        c = &p->sub;

        if (!p->subscriber || p->done || !p->sub_made
            || c->state != PEER_CONN_SECURE)
        {
            continue;
        }

        for (j = 0; j < c->nssrcs; j++) {
            if (c->ssrcs[j].video && !c->ssrcs[j].repair) {
                (void) peer_conn_send_pli(c, c->ssrcs[j].ssrc);
            }
        }
    }

    if (--m->pli_left == 0) {
        m->pli_burst_ms += 1000;
    }
}


static void
peer_phase(peer_main_t *m, peer_phase_t phase)
{
    m->phase = phase;
    m->phase_ms = peer_now_ms();

    if (phase == PEER_PHASE_WARMUP) {
        m->pss_after_kb = peer_server_pss(m);
        peer_ready_line(m, "ready");
    }

    if (phase == PEER_PHASE_MEASURE) {
        memset(m->run.stats.lat, 0, sizeof(m->run.stats.lat));
        m->run.stats.lat_count = 0;
        peer_snapshot(m, &m->start);
        m->pli_burst_ms = m->phase_ms;
    }

    if (phase == PEER_PHASE_DONE) {
        peer_snapshot(m, &m->end);
    }
}


static void
peer_advance(peer_main_t *m, uint64_t now)
{
    switch (m->phase) {

    case PEER_PHASE_SETUP:
        if (peer_all_ready(m)) {
            peer_phase(m, PEER_PHASE_WARMUP);

        } else if (now - m->phase_ms > m->setup_timeout_s * 1000) {
            peer_log("setup timed out: not every connection is ready");
            m->run.failures++;
            peer_phase(m, PEER_PHASE_WARMUP);
            peer_phase(m, PEER_PHASE_MEASURE);
            peer_phase(m, PEER_PHASE_DONE);
        }
        break;

    case PEER_PHASE_WARMUP:
        if (now - m->phase_ms >= m->warmup_s * 1000) {
            peer_phase(m, PEER_PHASE_MEASURE);
        }
        break;

    case PEER_PHASE_MEASURE:
        if (now - m->phase_ms >= m->duration_s * 1000) {
            peer_phase(m, PEER_PHASE_DONE);
        }
        break;

    default:
        break;
    }
}


static void
peer_sleep_ms(unsigned ms)
{
    struct timespec  ts;

    ts.tv_sec = 0;
    ts.tv_nsec = (long) ms * 1000000L;
    (void) nanosleep(&ts, NULL);
}


static void
peer_run(peer_main_t *m)
{
    int       wait;
    uint64_t  now, next_tick;

    next_tick = 0;
    m->phase_ms = peer_now_ms();

    while (m->phase != PEER_PHASE_DONE) {
        now = peer_now_ms();

        if (peer_stop) {
            peer_log("stopped by a signal");
            m->run.failures++;
            if (m->phase != PEER_PHASE_MEASURE) {
                peer_phase(m, PEER_PHASE_MEASURE);
            }
            peer_phase(m, PEER_PHASE_DONE);
            break;
        }

        if (m->run.ended) {
            if (m->phase != PEER_PHASE_MEASURE) {
                m->run.failures++;
                snprintf(m->run.first_failure, sizeof(m->run.first_failure),
                         "the conversation closed before the measurement");
                peer_phase(m, PEER_PHASE_MEASURE);
            }
            peer_phase(m, PEER_PHASE_DONE);
            break;
        }

        if (now >= next_tick) {
            peer_start_parties(m);
            peer_tick_parties(m, now);
            peer_check_subscribed(m);
            peer_advance(m, now);
            peer_pli_burst(m, now);
            next_tick = now + PEER_TICK_MS;
        }

        wait = peer_run_senders(m);
        wait = (int) MIN((uint64_t) wait, next_tick - MIN(next_tick, now));

        peer_loop_once(&m->run.loop, wait);

        if (m->batch_ms > 0 && m->phase >= PEER_PHASE_WARMUP) {
            peer_sleep_ms(m->batch_ms);
        }
    }
}


/* The summary */


typedef struct {
    uint64_t  received;
    uint64_t  known;
    uint64_t  expected;
    uint64_t  silent;              /* offered tracks that never came */
    uint64_t  offers;
    uint64_t  consent_ok;
    uint64_t  ready;
    uint64_t  on_worker[2];        /* subscribers per worker, 0 and 1 */
    double    recovered_pct;       /* of the drops decided */
    peer_second_t  second;         /* --second-path, summed */
    peer_bw_t      bw;             /* --bandwidth-check, summed */
} peer_totals_t;


static void
peer_totals(peer_main_t *m, peer_totals_t *t)
{
    unsigned        i, j;
    peer_conn_t    *c;
    peer_party_t   *p;

    memset(t, 0, sizeof(peer_totals_t));

    for (i = 0; i < m->run.nparties; i++) {
        p = &m->run.parties[i];
        t->ready += !p->done && peer_party_ready(p);

        if (!p->subscriber || !p->sub_made) {
            continue;
        }

        if (p->worker == 0 || p->worker == 1) {
            t->on_worker[p->worker]++;
        }

        c = &p->sub;
        peer_media_finish(c);
        t->offers += p->offers;
        t->consent_ok += c->consent_ok;
        t->second.started += c->second.started;
        t->second.stun += c->second.stun;
        t->second.requests += c->second.requests;
        t->second.answered += c->second.answered;
        t->second.srtp += c->second.srtp;
        t->second.other += c->second.other;
        t->bw.reports += c->bw.reports;
        t->bw.paused += c->bw.paused;
        t->bw.resumed += c->bw.resumed;
        t->bw.video_after += c->bw.video_after;
        if (c->bw.gap > t->bw.gap) {
            t->bw.gap = c->bw.gap;
        }

        for (j = 0; j < c->nssrcs; j++) {
            t->silent += !c->ssrcs[j].repair && !c->ssrcs[j].started;
        }
    }

    t->received = m->end.received - m->start.received;
    t->known = m->end.known - m->start.known;
    t->expected = m->end.expected - m->start.expected;

    /* the pending ones were asked for too recently to judge */
    t->recovered_pct = m->run.stats.recovered + m->run.stats.unrecovered
                       ? 100.0 * (double) m->run.stats.recovered
                         / (double) (m->run.stats.recovered
                                     + m->run.stats.unrecovered)
                       : 0;
}


static const char *peer_verdict_second(const peer_totals_t *t);
static const char *peer_verdict_bandwidth(const peer_totals_t *t);


/* The checks a subscriber run must pass; the first that fails, or NULL. */
static const char *
peer_verdict(peer_main_t *m, const peer_totals_t *t, double loss_pct)
{
    const char          *second;
    const peer_stats_t  *st = &m->run.stats;

    if (m->run.failures > 0) {
        return m->run.first_failure[0] ? m->run.first_failure
                                       : "a participant failed";
    }

    if (st->auth_failed > 0) {
        return "packets failed SRTP authentication";
    }

    if (st->corrupt > 0) {
        return "authentic packets with a wrong trailer or checksum";
    }

    if (!m->subscribe) {
        return st->sent > 0 ? NULL : "nothing was sent";
    }

    if (st->unknown_ssrc > 0) {
        return "packets of an SSRC no offer announced";
    }

    /* a redirect also starves the first socket: name the cause first */
    second = peer_verdict_second(t);
    if (second != NULL) {
        return second;
    }

    if (t->silent > 0) {
        return "an offered track never arrived";
    }

    if (t->received < m->min_packets * m->nsubscribers) {
        return "fewer packets than --min-packets";
    }

    if (loss_pct > m->max_loss_pct) {
        return "loss above --max-loss";
    }

    if (peer_drop_every != 0 && st->recovered + st->unrecovered == 0) {
        return "--drop-every: nothing was dropped and decided";
    }

    if (peer_drop_every != 0 && t->recovered_pct < m->min_recovered_pct) {
        return "fewer dropped packets came back than --min-recovered";
    }

    if (peer_bandwidth_check) {
        return peer_verdict_bandwidth(t);
    }

    return NULL;
}


/* --second-path: the server checked the socket; media came iff answered */
static const char *
peer_verdict_second(const peer_totals_t *t)
{
    if (peer_second_path == PEER_SECOND_NONE) {
        return NULL;
    }

    if (t->second.started == 0) {
        return "--second-path: the second socket was never nominated";
    }

    if (t->second.requests == 0) {
        return "--second-path: the server never checked the second socket";
    }

    if (peer_second_path == PEER_SECOND_SILENT && t->second.srtp > 0) {
        return "--second-path silent: media reached a socket that never "
               "answered the server's check";
    }

    if (peer_second_path == PEER_SECOND_ANSWER
        && (t->second.answered == 0 || t->second.srtp == 0))
    {
        return "--second-path answer: the media did not move to the "
               "socket that answered";
    }

    return NULL;
}


/* --bandwidth-check: paused while silent, back once reported again */
static const char *
peer_verdict_bandwidth(const peer_totals_t *t)
{
    peer_log("bandwidth check: %llu reports, paused %llu, resumed %llu, "
             "%llu video packets after, largest gap %u",
             (unsigned long long) t->bw.reports,
             (unsigned long long) t->bw.paused,
             (unsigned long long) t->bw.resumed,
             (unsigned long long) t->bw.video_after, t->bw.gap);

    if (t->bw.reports == 0) {
        return "--bandwidth-check: no packet carried a transport-wide "
               "number to report";
    }

    if (t->bw.paused == 0) {
        return "--bandwidth-check: the video was never paused while the "
               "feedback was silent";
    }

    if (t->bw.resumed == 0) {
        return "--bandwidth-check: the video was not let through again "
               "once reported";
    }

    if (t->bw.video_after == 0) {
        return "--bandwidth-check: no video arrived after it was let "
               "through again";
    }

    if (t->bw.gap > 2) {
        return "--bandwidth-check: the video's numbers jumped over the "
               "pause: a gap the subscriber would NACK";
    }

    return NULL;
}


static int
peer_summary(peer_main_t *m)
{
    long            hz;
    double          loss, p50, p99, secs, srv_s;
    uint64_t        lost, gen;
    const char     *verdict;
    peer_totals_t   t;
    peer_stats_t   *st = &m->run.stats;

    peer_totals(m, &t);
    peer_stats_latency(st, &p50, &p99);

    /* duplicates must not hide losses: only first arrivals count here */
    lost = t.expected > t.known ? t.expected - t.known : 0;
    loss = t.expected ? 100.0 * (double) lost / (double) t.expected : 0;
    secs = (double) (m->end.at_ms - m->start.at_ms) / 1000.0;
    hz = sysconf(_SC_CLK_TCK);
    srv_s = (double) (m->end.server_ticks - m->start.server_ticks)
            / (double) (hz > 0 ? hz : 100);
    gen = m->end.cpu_ns - m->start.cpu_ns;
    verdict = peer_verdict(m, &t, loss);

    printf("{\"signaling\":\"%s\",\"subscribers\":%u,\"publisher\":%s,"
           "\"ready\":%llu,\"seconds\":%.2f,\"sent\":%llu,"
           "\"received\":%llu,\"expected\":%llu,\"lost\":%llu,"
           "\"loss_pct\":%.4f,\"authenticated\":%llu,\"auth_failed\":%llu,"
           "\"corrupt\":%llu,\"unknown_ssrc\":%llu,\"duplicates\":%llu,"
           "\"silent_tracks\":%llu,\"offers\":%llu,\"plis\":%llu,"
           "\"consent_ok\":%llu,\"latency_p50_us\":%.1f,"
           "\"latency_p99_us\":%.1f,\"latency_over_10ms_pct\":%.3f,"
           "\"latency_over_100ms_pct\":%.3f,\"latency_samples\":%llu,"
           "\"gen_cpu_ns_per_packet\":%.0f,\"server_cpu_s\":%.2f,"
           "\"server_cpu_ns_per_packet\":%.0f,\"server_pss_kb_before\":%llu,"
           "\"server_pss_kb_after\":%llu,\"server_kb_per_subscriber\":%.1f,"
           "\"on_worker0\":%llu,\"on_worker1\":%llu,"
           "\"recv_calls\":%llu,\"dropped\":%llu,\"recovered\":%llu,"
           "\"unrecovered\":%llu,\"recovery_pending\":%llu,"
           "\"recovered_pct\":%.2f,\"nacks_sent\":%llu,"
           "\"rtx_received\":%llu,\"rtx_unsolicited\":%llu,"
           "\"skipped\":%llu,\"nacks_received\":%llu,"
           "\"nacked_seqs\":%llu,\"rtx_sent\":%llu,\"rtx_missed\":%llu,"
           "\"second_stun\":%llu,\"second_checks\":%llu,"
           "\"second_answered\":%llu,\"second_srtp\":%llu,"
           "\"second_other\":%llu,"
           "\"pli_bursts\":%llu,\"plis_asked\":%llu,\"plis_window\":%llu,"
           "\"ok\":%s,\"error\":\"%s\"}\n",
           m->run.signaling->name, m->subscribe ? m->nsubscribers : 0,
           m->publish ? "true" : "false",
           (unsigned long long) t.ready, secs,
           (unsigned long long) (m->end.sent - m->start.sent),
           (unsigned long long) t.received, (unsigned long long) t.expected,
           (unsigned long long) lost, loss,
           (unsigned long long) st->authenticated,
           (unsigned long long) st->auth_failed,
           (unsigned long long) st->corrupt,
           (unsigned long long) st->unknown_ssrc,
           (unsigned long long) st->duplicates,
           (unsigned long long) t.silent, (unsigned long long) t.offers,
           (unsigned long long) st->plis,
           (unsigned long long) t.consent_ok, p50, p99,
           peer_stats_later_than(st, 10), peer_stats_later_than(st, 100),
           (unsigned long long) st->lat_count,
           t.received ? (double) gen / (double) t.received : 0,
           srv_s,
           t.received && m->npids ? srv_s * 1e9 / (double) t.received : 0,
           (unsigned long long) m->pss_before_kb,
           (unsigned long long) m->pss_after_kb,
           m->subscribe && m->npids
           ? ((double) m->pss_after_kb - (double) m->pss_before_kb)
             / m->nsubscribers
           : 0,
           (unsigned long long) t.on_worker[0],
           (unsigned long long) t.on_worker[1],
           (unsigned long long) m->run.loop.recv_calls,
           (unsigned long long) st->dropped,
           (unsigned long long) st->recovered,
           (unsigned long long) st->unrecovered,
           (unsigned long long) st->recovery_pending, t.recovered_pct,
           (unsigned long long) st->nacks_sent,
           (unsigned long long) st->rtx_received,
           (unsigned long long) st->rtx_unsolicited,
           (unsigned long long) st->skipped,
           (unsigned long long) st->nacks_received,
           (unsigned long long) st->nacked_seqs,
           (unsigned long long) st->rtx_sent,
           (unsigned long long) st->rtx_missed,
           (unsigned long long) t.second.stun,
           (unsigned long long) t.second.requests,
           (unsigned long long) t.second.answered,
           (unsigned long long) t.second.srtp,
           (unsigned long long) t.second.other,
           (unsigned long long) m->pli_bursts,
           (unsigned long long) st->plis_sent,
           (unsigned long long) (m->end.plis - m->start.plis),
           verdict ? "false" : "true", verdict ? verdict : "");
    fflush(stdout);

    if (verdict != NULL) {
        peer_log("FAILED: %s", verdict);
        return 1;
    }

    return 0;
}


/* Every connection, socket and agent goes before the loop does. */
static void
peer_cleanup(peer_main_t *m)
{
    unsigned       i;
    peer_party_t  *p;

    for (i = 0; i < m->run.nparties; i++) {
        p = &m->run.parties[i];

        if (p->pub_made) {
            peer_conn_free(&p->pub);
            peer_sender_free(&p->sender);
        }

        if (p->sub_made) {
            peer_conn_free(&p->sub);
        }

        peer_ws_close(p->ws);
        free(p->sig);
    }

    /* libnice closes its sockets on a later dispatch */
    (void) parley_glib_pump_dispatch(m->run.loop.pump, NULL, 0);

    free(m->run.parties);
    peer_loop_free(&m->run.loop);
    parley_srtp_shutdown();
    free(m);
}


static void
peer_raise_fd_limit(void)
{
    struct rlimit  rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < PEER_FD_MAX ? rl.rlim_max : PEER_FD_MAX;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }
}


int
main(int argc, char **argv)
{
    int           rc;
    peer_main_t  *m;

    /* the loop's fd tables make this large: keep it off the stack */
    m = malloc(sizeof(peer_main_t));
    if (m == NULL) {
        return 2;
    }

    peer_defaults(m);

    if (peer_options(m, argc, argv) != 0) {
        usage();
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, peer_on_signal);
    signal(SIGTERM, peer_on_signal);
    peer_raise_fd_limit();
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (parley_srtp_init() != PARLEY_SRTP_OK
        || peer_loop_init(&m->run.loop) != 0
        || peer_make_parties(m) != 0)
    {
        peer_log("could not initialise");
        return 2;
    }

    (void) peer_identity();
    m->pss_before_kb = peer_server_pss(m);

    peer_run(m);
    rc = peer_summary(m);
    peer_cleanup(m);

    return rc;
}
