/* fleet-quick: N Modbus TCP devices on loopback for a quick scale check of
 * ecmond's TCP engine, one epoll thread. Device i listens on BASE + i and
 * answers FC 03/04 reads of any unit id at once: register k holds 0x4148 for
 * even k, 0 for odd, so every float32 abcd point reads 12.5. Anything else
 * gets exception 01. Prints the request count on SIGINT/SIGTERM.
 *
 *   cc -O2 -Wall -o /tmp/fleet-quick bench/fleet-quick.c
 *   /tmp/fleet-quick -n 1000 -p 30000
 *
 * The frame is Modbus TCP (MODBUS Messaging on TCP/IP Implementation Guide
 * V1.0b): MBAP header (transaction id, protocol id 0, length, unit id), then
 * the PDU. Not part of the build or the tests: the benchmark tooling of issue
 * 6 lives beside it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
    int fd;
    int listener; /* 1: a listening socket */
    size_t len;
    uint8_t buf[512];
};

static volatile sig_atomic_t done;

static void
on_signal(int sig)
{
    (void)sig;
    done = 1;
}

static void
answer(int fd, const uint8_t *req, size_t pdulen)
{
    uint8_t out[7 + 2 + 250];
    const uint8_t *pdu = req + 7;
    unsigned fc = pdu[0];
    size_t n;

    memcpy(out, req, 4);
    out[6] = req[6];
    unsigned addr = 0, count = 0;
    if ((fc == 3 || fc == 4) && pdulen == 5) {
        addr = (unsigned)pdu[1] << 8 | pdu[2];
        count = (unsigned)pdu[3] << 8 | pdu[4];
    }
    if (count >= 1 && count <= 125) {
        out[7] = (uint8_t)fc;
        out[8] = (uint8_t)(2 * count);
        for (unsigned k = 0; k < count; k++) {
            uint16_t v = (addr + k) % 2 == 0 ? 0x4148 : 0;
            out[9 + 2 * k] = (uint8_t)(v >> 8);
            out[10 + 2 * k] = (uint8_t)v;
        }
        n = 9 + 2 * (size_t)count;
    } else {
        out[7] = (uint8_t)(fc | 0x80);
        out[8] = 1; /* illegal function */
        n = 9;
    }
    out[4] = (uint8_t)((n - 6) >> 8);
    out[5] = (uint8_t)(n - 6);
    if (write(fd, out, n) != (ssize_t)n)
        perror("write");
}

int
main(int argc, char **argv)
{
    int n = 10, base = 30000, opt;
    while ((opt = getopt(argc, argv, "n:p:")) != -1) {
        if (opt == 'n')
            n = atoi(optarg);
        else if (opt == 'p')
            base = atoi(optarg);
        else {
            fprintf(stderr, "usage: fleet-quick [-n DEVICES] [-p BASEPORT]\n");
            return 2;
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)(base + i)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
            listen(fd, 64) == -1) {
            fprintf(stderr, "port %d: %s\n", base + i, strerror(errno));
            return 1;
        }
        struct conn *c = calloc(1, sizeof *c);
        c->fd = fd;
        c->listener = 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    fprintf(stderr, "fleet-quick: %d devices on 127.0.0.1:%d..%d\n", n, base,
            base + n - 1);
    unsigned long long requests = 0, accepts = 0;
    struct epoll_event evs[512];
    while (!done) {
        int k = epoll_wait(ep, evs, 512, 500);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->listener) {
                int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK);
                if (fd == -1)
                    continue;
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct conn *nc = calloc(1, sizeof *nc);
                nc->fd = fd;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                accepts++;
                continue;
            }
            ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
            if (r <= 0) {
                close(c->fd);
                free(c);
                continue;
            }
            c->len += (size_t)r;
            for (;;) {
                if (c->len < 7)
                    break;
                size_t flen = (size_t)c->buf[4] << 8 | c->buf[5];
                if (flen < 2 || flen > 254 || c->buf[2] || c->buf[3]) {
                    c->len = 0; /* garbage: drop it */
                    break;
                }
                if (c->len < 6 + flen)
                    break;
                answer(c->fd, c->buf, flen - 1);
                requests++;
                memmove(c->buf, c->buf + 6 + flen, c->len - 6 - flen);
                c->len -= 6 + flen;
            }
        }
    }
    printf("requests=%llu connections=%llu\n", requests, accepts);
    return 0;
}
