/*
 * Micro-benchmark of the SFU's per-packet SRTP work (relay/parley_srtp.c):
 * one incoming SRTP packet is unprotected once, then copied and protected
 * once per subscriber, as a worker does for a track it forwards. Optionally
 * the protected copies also go out with sendmmsg() in batches of 32 to a
 * UDP socket on 127.0.0.1: "sendmmsg", one that nobody reads (the kernel
 * drops them once its small receive buffer is full); "drained", one that a
 * child process reads as fast as it can, as real subscribers do, so the
 * kernel delivers every datagram. The "drained" rows are the bare
 * forwarding loop that make bench compares parley with.
 *
 * Time is this process's CPU time (CLOCK_PROCESS_CPUTIME_ID), so the
 * kernel's work for sendmmsg() counts; wall time is shown beside it.
 * Packets come from a publisher session outside the timed region, and each
 * round makes fresh sessions outside it too, so that every packet is new
 * to the receiver's replay window and every index new to each sender.
 *
 * Build: cc -O2 -g -Ishm -Irelay tests/bench/bench_srtp.c relay/parley_srtp.c
 *        shm/parley_shm.c -lsrtp2 -o build/bench/bench_srtp
 * Usage: bench_srtp [protects per case, default 400000]
 */

#define _GNU_SOURCE                        /* sendmmsg() */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "parley_srtp.h"


#define BENCH_PACKETS        4096   /* distinct packets per round */
#define BENCH_BATCH          32     /* datagrams per sendmmsg() */
#define BENCH_MAX_SUBS       100
#define BENCH_BUF_SIZE       (1500 + PARLEY_SRTP_TRAILER_ROOM)
#define BENCH_DEFAULT_WORK   400000
#define BENCH_RCVBUF         4096
#define BENCH_DRAINED_RCVBUF (4 * 1024 * 1024)

#define BENCH_SEND_NONE      0
#define BENCH_SEND_UNREAD    1
#define BENCH_SEND_DRAINED   2

#define BENCH_NO_SRTP        0      /* copy and send only */
#define BENCH_SRTP           1


typedef struct {
    parley_srtp_profile_t   profile;
    size_t                  size;        /* RTP packet, header included */
    unsigned                subs;
    int                     send;
    int                     srtp;
} bench_case_t;


typedef struct {
    int                     fd;
    int                     sink;        /* the receiver, never read */
    int                     drained;     /* the one the child reads */
    pid_t                   reader;
    struct sockaddr_in      to;
    struct sockaddr_in      to_drained;
    struct mmsghdr          msgs[BENCH_BATCH];
    struct iovec            iov[BENCH_BATCH];
    uint8_t                 bufs[BENCH_BATCH][BENCH_BUF_SIZE];
    unsigned                n;
} bench_out_t;


typedef struct {
    double                  cpu_ns;
    double                  wall_ns;
    unsigned long           in;          /* packets unprotected */
    unsigned long           out;         /* packets protected */
} bench_result_t;


static uint8_t                 bench_in[BENCH_PACKETS][BENCH_BUF_SIZE];
static size_t                  bench_in_len[BENCH_PACKETS];
static parley_srtp_session_t   bench_subs[BENCH_MAX_SUBS];
static bench_out_t             bench_out;


static double
bench_now(clockid_t clock)
{
    struct timespec  ts;

    if (clock_gettime(clock, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }

    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}


static void
bench_fail(const char *what, parley_srtp_rc_t rc)
{
    fprintf(stderr, "bench_srtp: %s: %s\n", what, parley_srtp_rc_str(rc));
    exit(1);
}


/* Master key and salt of session number n, all different. */
static parley_srtp_master_t
bench_master(parley_srtp_profile_t profile, unsigned n, uint8_t *bytes)
{
    unsigned              i;
    parley_srtp_master_t  m;

    for (i = 0; i < PARLEY_SRTP_KEY_LEN + PARLEY_SRTP_MAX_SALT_LEN; i++) {
        bytes[i] = (uint8_t) (n * 31 + i * 7 + 1);
    }

    m.key = bytes;
    m.key_len = PARLEY_SRTP_KEY_LEN;
    m.salt = bytes + PARLEY_SRTP_KEY_LEN;
    m.salt_len = parley_srtp_salt_len(profile);

    return m;
}


static void
bench_create(parley_srtp_session_t *s, parley_srtp_profile_t profile,
    parley_srtp_direction_t direction, unsigned n)
{
    uint8_t               bytes[PARLEY_SRTP_KEY_LEN
                                + PARLEY_SRTP_MAX_SALT_LEN];
    parley_srtp_rc_t      rc;
    parley_srtp_master_t  m;

    m = bench_master(profile, n, bytes);

    rc = parley_srtp_create(s, profile, direction, &m, 0);
    if (rc != PARLEY_SRTP_OK) {
        bench_fail("create", rc);
    }
}


/* A video-like RTP packet: PT 96, seq n, SSRC fixed, filler payload. */
static size_t
bench_make_rtp(uint8_t *buf, uint16_t seq, size_t size)
{
    memset(buf, 0, size);

    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t) (seq >> 8);
    buf[3] = (uint8_t) seq;
    buf[8] = 0x12;
    buf[9] = 0x34;
    buf[10] = 0x56;
    buf[11] = 0x78;
    memset(buf + 12, 0xa5, size - 12);

    return size;
}


/* The publisher's packets, protected with its key (session number 0). */
static void
bench_make_input(parley_srtp_profile_t profile, size_t size)
{
    unsigned               i;
    parley_srtp_rc_t       rc;
    parley_srtp_session_t  publisher;

    bench_create(&publisher, profile, PARLEY_SRTP_OUTBOUND, 0);

    for (i = 0; i < BENCH_PACKETS; i++) {
        bench_in_len[i] = bench_make_rtp(bench_in[i], (uint16_t) i, size);

        rc = parley_srtp_protect_rtp(&publisher, bench_in[i],
                                     &bench_in_len[i], BENCH_BUF_SIZE);
        if (rc != PARLEY_SRTP_OK) {
            bench_fail("publisher protect", rc);
        }
    }

    parley_srtp_destroy(&publisher);
}


/* A UDP socket on 127.0.0.1 with the given receive buffer. */
static int
bench_sink(int rcvbuf, struct sockaddr_in *to)
{
    int                 fd;
    socklen_t           len;
    struct sockaddr_in  addr;

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd == -1) {
        perror("socket");
        exit(1);
    }

    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))
        != 0)
    {
        perror("setsockopt(SO_RCVBUF)");
        exit(1);
    }

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    len = sizeof(addr);
    if (bind(fd, (struct sockaddr *) &addr, len) != 0
        || getsockname(fd, (struct sockaddr *) to, &len) != 0)
    {
        perror("bind");
        exit(1);
    }

    return fd;
}


/*
 * The reader of the drained socket: a process of its own, as subscribers
 * are, so its CPU time is not this process's. It reads until killed.
 */
static void
bench_start_reader(void)
{
    unsigned            i;
    struct iovec        iov[BENCH_BATCH];
    struct mmsghdr      msgs[BENCH_BATCH];
    static uint8_t      bufs[BENCH_BATCH][BENCH_BUF_SIZE];

    bench_out.drained = bench_sink(BENCH_DRAINED_RCVBUF,
                                   &bench_out.to_drained);

    bench_out.reader = fork();
    if (bench_out.reader == -1) {
        perror("fork");
        exit(1);
    }

    if (bench_out.reader > 0) {
        close(bench_out.drained);
        return;
    }

    memset(msgs, 0, sizeof(msgs));
    for (i = 0; i < BENCH_BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = BENCH_BUF_SIZE;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    for ( ;; ) {
        if (recvmmsg(bench_out.drained, msgs, BENCH_BATCH, 0, NULL) == -1
            && errno != EINTR)
        {
            _exit(0);
        }
    }
}


/* A receiver nobody reads, with a small buffer, so the kernel drops. */
static void
bench_open_socket(void)
{
    unsigned  i;

    bench_out.sink = bench_sink(BENCH_RCVBUF, &bench_out.to);

    bench_out.fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (bench_out.fd == -1) {
        perror("socket");
        exit(1);
    }

    /* unconnected, as a worker's socket shared by many peers would be */
    for (i = 0; i < BENCH_BATCH; i++) {
        bench_out.iov[i].iov_base = bench_out.bufs[i];
        bench_out.msgs[i].msg_hdr.msg_iov = &bench_out.iov[i];
        bench_out.msgs[i].msg_hdr.msg_iovlen = 1;
        bench_out.msgs[i].msg_hdr.msg_namelen = sizeof(bench_out.to);
    }
}


/* Where this case's datagrams go. */
static void
bench_aim(int send)
{
    unsigned  i;

    for (i = 0; i < BENCH_BATCH; i++) {
        bench_out.msgs[i].msg_hdr.msg_name =
            (send == BENCH_SEND_DRAINED) ? &bench_out.to_drained
                                         : &bench_out.to;
    }
}


static void
bench_flush(int send)
{
    int  n;

    if (send && bench_out.n > 0) {
        n = sendmmsg(bench_out.fd, bench_out.msgs, bench_out.n, 0);
        if (n != (int) bench_out.n) {
            fprintf(stderr, "bench_srtp: sendmmsg sent %d of %u: %s\n", n,
                    bench_out.n, strerror(errno));
            exit(1);
        }
    }

    bench_out.n = 0;
}


/* Copies the decrypted packet for one subscriber, protects, queues it. */
static void
bench_forward(const bench_case_t *c, parley_srtp_session_t *sub,
    const uint8_t *rtp, size_t len)
{
    uint8_t           *buf;
    parley_srtp_rc_t   rc;

    buf = bench_out.bufs[bench_out.n];
    memcpy(buf, rtp, len);

    if (c->srtp) {
        rc = parley_srtp_protect_rtp(sub, buf, &len, BENCH_BUF_SIZE);
        if (rc != PARLEY_SRTP_OK) {
            bench_fail("subscriber protect", rc);
        }
    }

    bench_out.iov[bench_out.n].iov_len = len;

    if (++bench_out.n == BENCH_BATCH) {
        bench_flush(c->send);
    }
}


static void
bench_round(const bench_case_t *c, parley_srtp_session_t *sfu,
    bench_result_t *r)
{
    size_t            len;
    uint8_t           rtp[BENCH_BUF_SIZE];
    unsigned          i, k;
    parley_srtp_rc_t  rc;

    for (i = 0; i < BENCH_PACKETS; i++) {

        /* the receive buffer, refilled: unprotect works in place */
        len = bench_in_len[i];
        memcpy(rtp, bench_in[i], len);

        if (c->srtp) {
            rc = parley_srtp_unprotect_rtp(sfu, rtp, &len);
            if (rc != PARLEY_SRTP_OK) {
                bench_fail("unprotect", rc);
            }
        }

        for (k = 0; k < c->subs; k++) {
            bench_forward(c, &bench_subs[k], rtp, len);
        }
    }

    bench_flush(c->send);

    r->in += BENCH_PACKETS;
    r->out += (unsigned long) BENCH_PACKETS * c->subs;
}


static void
bench_run(const bench_case_t *c, unsigned long work, bench_result_t *r)
{
    double                 cpu, wall;
    unsigned               k, round, rounds;
    parley_srtp_session_t  sfu;

    memset(r, 0, sizeof(bench_result_t));

    bench_make_input(c->profile, c->size);
    bench_aim(c->send);

    rounds = (unsigned) (work / ((unsigned long) BENCH_PACKETS * c->subs));
    if (rounds == 0) {
        rounds = 1;
    }

    for (round = 0; round < rounds; round++) {
        bench_create(&sfu, c->profile, PARLEY_SRTP_INBOUND, 0);

        for (k = 0; k < c->subs; k++) {
            bench_create(&bench_subs[k], c->profile, PARLEY_SRTP_OUTBOUND,
                         k + 1);
        }

        cpu = bench_now(CLOCK_PROCESS_CPUTIME_ID);
        wall = bench_now(CLOCK_MONOTONIC);

        bench_round(c, &sfu, r);

        r->cpu_ns += bench_now(CLOCK_PROCESS_CPUTIME_ID) - cpu;
        r->wall_ns += bench_now(CLOCK_MONOTONIC) - wall;

        for (k = 0; k < c->subs; k++) {
            parley_srtp_destroy(&bench_subs[k]);
        }

        parley_srtp_destroy(&sfu);
    }
}


static void
bench_print(const bench_case_t *c, const bench_result_t *r)
{
    const char  *name;

    name = c->srtp ? (c->profile == PARLEY_SRTP_AEAD_AES_128_GCM
                      ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80")
                   : "none (copy only)";

    printf("%-24s %5zu %4u %-9s %11.0f %11.0f %11.0f\n", name, c->size,
           c->subs, c->send == BENCH_SEND_DRAINED ? "drained"
                    : c->send == BENCH_SEND_UNREAD ? "sendmmsg" : "-",
           r->cpu_ns / (double) r->in,
           r->cpu_ns / (double) r->out, r->wall_ns / (double) r->out);
}


int
main(int argc, char **argv)
{
    size_t                  s;
    unsigned                p, n, send;
    unsigned long           work;
    bench_case_t            c;
    bench_result_t          r;
    parley_srtp_rc_t        rc;

    static const size_t                 sizes[] = { 1200, 100 };
    static const unsigned               subs[] = { 1, 10, 100 };
    static const parley_srtp_profile_t  profiles[] = {
        PARLEY_SRTP_AEAD_AES_128_GCM, PARLEY_SRTP_AES128_CM_SHA1_80
    };

    work = (argc > 1) ? strtoul(argv[1], NULL, 10) : BENCH_DEFAULT_WORK;

    rc = parley_srtp_init();
    if (rc != PARLEY_SRTP_OK) {
        bench_fail("init", rc);
    }

    bench_open_socket();
    bench_start_reader();

    printf("%s; per incoming packet: 1 unprotect + N x (copy + protect)\n",
           srtp_get_version_string());
    printf("%-24s %5s %4s %-9s %11s %11s %11s\n", "profile", "bytes", "N",
           "send", "cpu ns/in", "cpu ns/out", "wall ns/out");

    memset(&c, 0, sizeof(c));

    for (send = BENCH_SEND_NONE; send <= BENCH_SEND_DRAINED; send++) {
        for (p = 0; p < 2; p++) {
            for (s = 0; s < 2; s++) {
                for (n = 0; n < 3; n++) {
                    c.profile = profiles[p];
                    c.size = sizes[s];
                    c.subs = subs[n];
                    c.send = (int) send;
                    c.srtp = BENCH_SRTP;

                    bench_run(&c, work, &r);
                    bench_print(&c, &r);
                }
            }
        }
    }

    /* what the copies and the syscalls cost without any SRTP */
    for (s = 0; s < 2; s++) {
        c.profile = PARLEY_SRTP_AEAD_AES_128_GCM;
        c.size = sizes[s];
        c.subs = 10;
        c.srtp = BENCH_NO_SRTP;

        for (send = BENCH_SEND_UNREAD; send <= BENCH_SEND_DRAINED; send++) {
            c.send = (int) send;
            bench_run(&c, work, &r);
            bench_print(&c, &r);
        }
    }

    kill(bench_out.reader, SIGTERM);
    waitpid(bench_out.reader, NULL, 0);
    close(bench_out.fd);
    close(bench_out.sink);
    parley_srtp_shutdown();

    return 0;
}
