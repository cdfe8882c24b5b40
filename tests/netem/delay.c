/*
 * parley-delay: holds every packet that iptables queues to it (the NFQUEUE
 * target) for a fixed time, then lets it go on, in the order it came.
 *
 * This machine's kernel has no netem. An impaired link in the tests is
 * tc for the rate, iptables' statistic match for random loss, and this
 * program for the delay.
 *
 * usage: parley-delay QUEUE MS
 *
 * Prints "ready" on stdout once it is bound to the queue (add the iptables
 * rule after that, with --queue-bypass so that nothing is held while no
 * delayer runs). On SIGTERM or SIGINT it lets everything it holds go,
 * prints how many packets it delayed on stderr and exits.
 */

#define _GNU_SOURCE  /* ppoll() */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* packets held at once: a second of 60,000 packets a second */
#define HELD_MAX  65536

typedef struct {
    uint32_t  id;
    uint64_t  due_ns;
} held_packet_t;

static held_packet_t   held[HELD_MAX];
static size_t          held_first, held_count;
static uint64_t        delay_ns;
static uint64_t        delayed, overflowed, lost;
static volatile sig_atomic_t  stopping;


static uint64_t
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}


static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
    struct nfq_data *nfa, void *data)
{
    uint32_t                       id;
    struct nfqnl_msg_packet_hdr   *ph;

    (void) msg;
    (void) data;

    ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == NULL) {
        return 0;
    }

    id = ntohl(ph->packet_id);

    if (held_count == HELD_MAX) {
        /* more than the table holds: let it through undelayed */
        overflowed++;
        return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
    }

    held[(held_first + held_count) % HELD_MAX] = (held_packet_t) {
        .id = id, .due_ns = now_ns() + delay_ns
    };
    held_count++;
    return 0;
}


/* Lets go every packet whose time has come (all of them when "all"). */
static void
release(struct nfq_q_handle *qh, int all)
{
    uint64_t  now;

    now = now_ns();

    while (held_count > 0
           && (all || held[held_first].due_ns <= now))
    {
        nfq_set_verdict(qh, held[held_first].id, NF_ACCEPT, 0, NULL);
        held_first = (held_first + 1) % HELD_MAX;
        held_count--;
        delayed++;
    }
}


static void
on_signal(int signo)
{
    (void) signo;
    stopping = 1;
}


int
main(int argc, char **argv)
{
    int                    fd, n;
    long                   queue, ms;
    char                  *end;
    uint64_t               now, wait_ns;
    struct pollfd          pfd;
    struct timespec        timeout;
    struct nfq_handle     *h;
    struct nfq_q_handle   *qh;
    struct sigaction       sa;
    static char            buf[65536 + 4096];

    if (argc != 3) {
        fprintf(stderr, "usage: parley-delay QUEUE MS\n");
        return 2;
    }

    queue = strtol(argv[1], &end, 10);
    if (*end != '\0' || queue < 0 || queue > 65535) {
        fprintf(stderr, "parley-delay: bad queue number \"%s\"\n", argv[1]);
        return 2;
    }

    ms = strtol(argv[2], &end, 10);
    if (*end != '\0' || ms < 0 || ms > 10000) {
        fprintf(stderr, "parley-delay: bad delay \"%s\" (0 to 10000 ms)\n",
                argv[2]);
        return 2;
    }

    delay_ns = (uint64_t) ms * 1000000u;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    h = nfq_open();
    if (h == NULL) {
        fprintf(stderr, "parley-delay: nfq_open() failed: %s\n",
                strerror(errno));
        return 1;
    }

    qh = nfq_create_queue(h, (uint16_t) queue, on_packet, NULL);
    if (qh == NULL) {
        fprintf(stderr, "parley-delay: nfq_create_queue(%ld) failed: %s\n",
                queue, strerror(errno));
        return 1;
    }

    /* the verdict needs the packet's id only, not its bytes */
    if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0
        || nfq_set_queue_maxlen(qh, HELD_MAX) < 0)
    {
        fprintf(stderr, "parley-delay: configuring queue %ld failed: %s\n",
                queue, strerror(errno));
        return 1;
    }

    fd = nfq_fd(h);
    nfnl_rcvbufsiz(nfq_nfnlh(h), 8 * 1024 * 1024);

    printf("ready\n");
    fflush(stdout);

    pfd.fd = fd;
    pfd.events = POLLIN;

    while (!stopping) {
        if (held_count > 0) {
            now = now_ns();
            wait_ns = held[held_first].due_ns > now
                      ? held[held_first].due_ns - now : 0;
            timeout.tv_sec = (time_t) (wait_ns / 1000000000u);
            timeout.tv_nsec = (long) (wait_ns % 1000000000u);

        } else {
            timeout.tv_sec = 1;
            timeout.tv_nsec = 0;
        }

        if (ppoll(&pfd, 1, &timeout, NULL) < 0 && errno != EINTR) {
            fprintf(stderr, "parley-delay: ppoll() failed: %s\n",
                    strerror(errno));
            break;
        }

        for ( ;; ) {
            n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n < 0) {
                if (errno == ENOBUFS) {
                    /* the kernel dropped notifications: those packets
                     * are lost, as on a congested link */
                    lost++;
                    continue;
                }
                break;
            }
            nfq_handle_packet(h, buf, n);
        }

        release(qh, 0);
    }

    release(qh, 1);
    fprintf(stderr, "parley-delay: %llu packets delayed %ld ms, "
            "%llu not delayed, %llu lost\n", (unsigned long long) delayed,
            ms, (unsigned long long) overflowed, (unsigned long long) lost);

    nfq_destroy_queue(qh);
    nfq_close(h);
    return 0;
}
