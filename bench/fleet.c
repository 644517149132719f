/* ecmon-fleet: N Modbus TCP devices on loopback for benchmarks, one port
 * each, served by one epoll thread, counting the requests and polls each
 * device sees so a run can tell how a daemon polled them. Several fleets
 * can serve one range of devices between them (-o: the first's number). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define NREGS 8    /* holding registers 0..7: 4 float32 and 4 spare */
#define NPOINTS 4  /* float32 values at 0, 2, 4, 6 (abcd) */
#define RXMAX 300  /* one MBAP frame is at most 260 bytes */
#define TXMAX 4096 /* answers queued while the socket is full */
#define MAXEV 256

enum { OBJ_LISTENER, OBJ_CONN };

struct device {
    int obj; /* OBJ_LISTENER: the epoll tag */
    int fd;  /* the listener; -1 while the device has all the clients it
                takes */
    unsigned idx;
    unsigned conns;
    double phase;
    uint64_t requests, polls, ontime, bad;
    double last_req, last_poll; /* monotonic; 0 = never */
};

struct conn {
    int obj; /* OBJ_CONN */
    int fd;
    struct device *dev;
    int dead;    /* closed; freed once no delayed answer refers to it */
    int pending; /* delayed answers still queued for it */
    struct conn *next_free;
    uint8_t rx[RXMAX];
    size_t rxlen;
    uint8_t tx[TXMAX];
    size_t txlen;
};

/* A delayed answer; the delay is constant, so the queue is a FIFO. */
struct delayed {
    struct delayed *next;
    double due;
    struct conn *c;
    uint8_t len;
    uint8_t buf[NREGS * 2 + 9];
};

static struct {
    struct device *devs;
    unsigned n;
    int ep;
    double delay_s;
    unsigned max_conns; /* clients a device serves at once */
    unsigned first;     /* number of the first device (-o) */
    struct sockaddr_in addr;
    unsigned base;
    double interval_s, tolerance_s;
    const char *stats_path;
    double start_mono, start_real;
    uint64_t conns_open, conns_total, unanswered;
    struct delayed *head, *tail;
    struct conn *graveyard; /* closed, freed after the current event batch */
} F;

static volatile sig_atomic_t got_term, got_usr1;

static void
on_signal(int sig)
{
    if (sig == SIGUSR1)
        got_usr1 = 1;
    else
        got_term = 1;
}

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ecmon-fleet: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double
mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The value of point p of device d at t seconds since start: a voltage, a
 * current, the power they make and an energy total growing with it. */
static float
point_value(const struct device *d, int p, double t)
{
    double u = sin(t / 37.0 + d->phase) + 0.3 * sin(t / 5.3 + 2 * d->phase);
    double volts = 230.0 + 4.0 * u;
    double amps = 10.0 + (double)(d->idx % 40) + 3.0 * u;
    switch (p) {
    case 0:
        return (float)volts;
    case 1:
        return (float)amps;
    case 2:
        return (float)(volts * amps / 1000.0);
    default:
        /* kWh: a base reading plus the mean power (about 2.3 kW + ...) times
         * the time, rising monotonically. */
        return (float)(1000.0 * (double)(d->idx + 1) +
                       (230.0 * (10.0 + (double)(d->idx % 40)) / 1000.0) * t /
                           3600.0);
    }
}

static void
fill_regs(const struct device *d, uint16_t *regs)
{
    double t = mono_now() - F.start_mono;
    memset(regs, 0, NREGS * sizeof *regs);
    for (int p = 0; p < NPOINTS; p++) {
        float v = point_value(d, p, t);
        uint32_t bits;
        memcpy(&bits, &v, sizeof bits);
        regs[2 * p] = (uint16_t)(bits >> 16);
        regs[2 * p + 1] = (uint16_t)bits;
    }
}

static void
count_request(struct device *d, double now)
{
    d->requests++;
    /* A request after a quiet spell of half an interval starts a poll; it
     * is on time unless it came more than the tolerance after one interval
     * since the previous poll started. */
    if (d->last_req == 0 || now - d->last_req > F.interval_s / 2) {
        if (d->last_poll == 0 ||
            now - d->last_poll <= F.interval_s + F.tolerance_s)
            d->ontime++;
        d->polls++;
        d->last_poll = now;
    }
    d->last_req = now;
}

/* Listen on the device's port. Returns 0, or -1 after saying why. */
static int
dev_listen(struct device *d)
{
    d->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0) {
        fprintf(stderr, "ecmon-fleet: socket: %s\n", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(d->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = F.addr;
    sa.sin_port = htons((uint16_t)(F.base + d->idx - F.first));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = d};
    if (bind(d->fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
        listen(d->fd, 16) == -1 ||
        epoll_ctl(F.ep, EPOLL_CTL_ADD, d->fd, &ev) == -1) {
        fprintf(stderr, "ecmon-fleet: port %u: %s\n", F.base + d->idx - F.first,
                strerror(errno));
        close(d->fd);
        d->fd = -1;
        return -1;
    }
    return 0;
}

/* Free c once nothing in the current event batch can refer to it. */
static void
bury(struct conn *c)
{
    c->next_free = F.graveyard;
    F.graveyard = c;
}

static void
free_buried(void)
{
    while (F.graveyard) {
        struct conn *c = F.graveyard;
        F.graveyard = c->next_free;
        free(c);
    }
}

static void
conn_close(struct conn *c)
{
    if (c->dead)
        return;
    epoll_ctl(F.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->dead = 1;
    F.conns_open--;
    c->dev->conns--;
    if (c->dev->fd == -1)
        dev_listen(c->dev);
    if (c->pending == 0)
        bury(c);
}

static void
conn_flush(struct conn *c)
{
    while (c->txlen > 0) {
        ssize_t w = send(c->fd, c->tx, c->txlen, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            conn_close(c);
            return;
        }
        memmove(c->tx, c->tx + w, c->txlen - (size_t)w);
        c->txlen -= (size_t)w;
    }
    struct epoll_event ev = {.events = EPOLLIN | (c->txlen ? EPOLLOUT : 0),
                             .data.ptr = c};
    epoll_ctl(F.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
conn_send(struct conn *c, const uint8_t *buf, size_t len)
{
    if (c->dead)
        return;
    if (c->txlen + len > TXMAX) {
        conn_close(c); /* a client that never reads */
        return;
    }
    memcpy(c->tx + c->txlen, buf, len);
    c->txlen += len;
    conn_flush(c);
}

/* Answer one request (MBAP header in req[0..6], PDU after) into out;
 * returns its length, 0 for no answer. */
static size_t
answer(struct device *d, const uint8_t *req, size_t pdulen, uint8_t *out)
{
    const uint8_t *pdu = req + 7;
    uint8_t fc = pdu[0];
    size_t n;

    memcpy(out, req, 4); /* transaction and protocol id */
    out[6] = req[6];
    if (req[6] != 1 && req[6] != 255) {
        out[7] = fc | 0x80;
        out[8] = 0x0B; /* gateway: target device failed to respond */
        n = 2;
    } else if (fc != 3 || pdulen != 5) {
        out[7] = fc | 0x80;
        out[8] = fc == 3 ? 0x03 : 0x01;
        n = 2;
    } else {
        unsigned addr = (unsigned)pdu[1] << 8 | pdu[2];
        unsigned count = (unsigned)pdu[3] << 8 | pdu[4];
        if (count == 0 || count > 125) {
            out[7] = fc | 0x80;
            out[8] = 0x03;
            n = 2;
        } else if (addr + count > NREGS) {
            out[7] = fc | 0x80;
            out[8] = 0x02;
            n = 2;
        } else {
            uint16_t regs[NREGS];
            fill_regs(d, regs);
            out[7] = fc;
            out[8] = (uint8_t)(count * 2);
            for (unsigned i = 0; i < count; i++) {
                out[9 + 2 * i] = (uint8_t)(regs[addr + i] >> 8);
                out[10 + 2 * i] = (uint8_t)regs[addr + i];
            }
            n = 2 + count * 2;
        }
    }
    if (n == 2)
        d->bad++;
    out[4] = (uint8_t)((n + 1) >> 8);
    out[5] = (uint8_t)(n + 1);
    return 7 + n;
}

static void
queue_answer(struct conn *c, const uint8_t *buf, size_t len, double now)
{
    if (F.delay_s <= 0) {
        conn_send(c, buf, len);
        return;
    }
    struct delayed *q = malloc(sizeof *q);
    if (q == NULL)
        die("out of memory");
    q->next = NULL;
    q->due = now + F.delay_s;
    q->c = c;
    q->len = (uint8_t)len;
    memcpy(q->buf, buf, len);
    c->pending++;
    if (F.tail)
        F.tail->next = q;
    else
        F.head = q;
    F.tail = q;
}

static void
send_due(double now)
{
    while (F.head && F.head->due <= now) {
        struct delayed *q = F.head;
        F.head = q->next;
        if (F.head == NULL)
            F.tail = NULL;
        q->c->pending--;
        if (q->c->dead) {
            if (q->c->pending == 0)
                bury(q->c);
        } else {
            conn_send(q->c, q->buf, q->len);
        }
        free(q);
    }
}

static void
conn_read(struct conn *c)
{
    for (;;) {
        ssize_t r = recv(c->fd, c->rx + c->rxlen, RXMAX - c->rxlen, 0);
        if (r == 0) {
            conn_close(c);
            return;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_close(c);
            return;
        }
        c->rxlen += (size_t)r;
        double now = mono_now();
        size_t off = 0;
        while (c->rxlen - off >= 8) {
            const uint8_t *h = c->rx + off;
            size_t len = (size_t)h[4] << 8 | h[5];
            if (h[2] != 0 || h[3] != 0 || len < 2 || len > 254) {
                conn_close(c);
                return;
            }
            if (c->rxlen - off < 6 + len)
                break;
            uint8_t out[NREGS * 2 + 9];
            count_request(c->dev, now);
            size_t n = answer(c->dev, h, len - 1, out);
            if (n > 0)
                queue_answer(c, out, n, now);
            else
                F.unanswered++;
            if (c->dead)
                return;
            off += 6 + len;
        }
        memmove(c->rx, c->rx + off, c->rxlen - off);
        c->rxlen -= off;
    }
}

static void
accept_all(struct device *d)
{
    while (d->fd != -1) {
        int fd = accept4(d->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                fprintf(stderr, "ecmon-fleet: accept: %s\n", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL)
            die("out of memory");
        c->obj = OBJ_CONN;
        c->fd = fd;
        c->dev = d;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(F.ep, EPOLL_CTL_ADD, fd, &ev) == -1)
            die("epoll_ctl: %s", strerror(errno));
        F.conns_open++;
        F.conns_total++;
        if (++d->conns >= F.max_conns) {
            /* A device with all the clients it takes refuses more, as a
             * meter with few connection slots; and the fleet needs no
             * more descriptors than N x max_conns. */
            epoll_ctl(F.ep, EPOLL_CTL_DEL, d->fd, NULL);
            close(d->fd);
            d->fd = -1;
        }
    }
}

/* Write the counters to the stats file (through a temporary file and a
 * rename, so a reader never sees half of it). */
static void
write_stats(void)
{
    uint64_t req = 0, polls = 0, ontime = 0, bad = 0;
    for (unsigned i = 0; i < F.n; i++) {
        req += F.devs[i].requests;
        polls += F.devs[i].polls;
        ontime += F.devs[i].ontime;
        bad += F.devs[i].bad;
    }
    if (F.stats_path == NULL) {
        fprintf(stderr,
                "ecmon-fleet: devices=%u requests=%llu polls=%llu "
                "ontime=%llu exceptions=%llu connections=%llu\n",
                F.n, (unsigned long long)req, (unsigned long long)polls,
                (unsigned long long)ontime, (unsigned long long)bad,
                (unsigned long long)F.conns_total);
        return;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", F.stats_path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "ecmon-fleet: %s: %s\n", tmp, strerror(errno));
        return;
    }
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    fprintf(f,
            "time %.6f\ndevices %u\nrequests %llu\npolls %llu\nontime %llu\n"
            "exceptions %llu\nunanswered %llu\nconnections_open %llu\n"
            "connections_total %llu\n# device requests polls ontime\n",
            (double)rt.tv_sec + (double)rt.tv_nsec / 1e9, F.n,
            (unsigned long long)req, (unsigned long long)polls,
            (unsigned long long)ontime, (unsigned long long)bad,
            (unsigned long long)F.unanswered, (unsigned long long)F.conns_open,
            (unsigned long long)F.conns_total);
    for (unsigned i = 0; i < F.n; i++)
        fprintf(f, "%u %llu %llu %llu\n", F.devs[i].idx,
                (unsigned long long)F.devs[i].requests,
                (unsigned long long)F.devs[i].polls,
                (unsigned long long)F.devs[i].ontime);
    if (fclose(f) != 0 || rename(tmp, F.stats_path) != 0)
        fprintf(stderr, "ecmon-fleet: %s: %s\n", F.stats_path, strerror(errno));
}

/* Raise the descriptor limit for n devices of max_conns clients each (a
 * device takes one descriptor per client, its listener while it takes
 * more); where the limit stays lower, serve fewer clients at once. */
static void
raise_nofile(unsigned n)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)n * F.max_conns + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur >= want)
        return;
    struct rlimit up = {want, rl.rlim_max > want ? rl.rlim_max : want};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0)
        return;
    rl.rlim_cur = rl.rlim_max; /* not allowed more than the hard limit */
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)n + 64)
        die("descriptor limit %llu is too low for %u devices",
            (unsigned long long)rl.rlim_cur, n);
    unsigned fit = (unsigned)((rl.rlim_cur - 64) / n);
    if (fit < F.max_conns) {
        fprintf(stderr,
                "ecmon-fleet: descriptor limit %llu: each device takes %u "
                "client%s at a time\n",
                (unsigned long long)rl.rlim_cur, fit, fit == 1 ? "" : "s");
        F.max_conns = fit;
    }
}

static void
listen_all(const char *host, unsigned base)
{
    F.addr.sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &F.addr.sin_addr) != 1)
        die("%s: not an IPv4 address", host);
    F.base = base;
    for (unsigned i = 0; i < F.n; i++) {
        struct device *d = &F.devs[i];
        d->obj = OBJ_LISTENER;
        d->idx = F.first + i;
        d->phase = fmod((double)i * 2.399963, 6.283185);
        if (dev_listen(d) == -1)
            exit(1);
    }
}

static void
usage(void)
{
    fprintf(
        stderr,
        "usage: ecmon-fleet -n N -p BASE_PORT [-H HOST] [-d "
        "DELAY_MS] [-i INTERVAL_S]\n"
        "                   [-c MAX_CLIENTS] [-o FIRST] [-s STATS_FILE] [-r "
        "READY_FILE]\n");
    exit(2);
}

static double
parse_num(const char *s, const char *what, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        die("%s: %s is not a number in [%g, %g]", what, s, lo, hi);
    return v;
}

int
main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *ready = NULL;
    unsigned base = 0;
    int ch;

    F.interval_s = 1.0;
    F.max_conns = 4;
    while ((ch = getopt(argc, argv, "n:p:H:d:i:c:o:s:r:")) != -1) {
        switch (ch) {
        case 'n':
            F.n = (unsigned)parse_num(optarg, "-n", 1, 60000);
            break;
        case 'p':
            base = (unsigned)parse_num(optarg, "-p", 1, 65535);
            break;
        case 'H':
            host = optarg;
            break;
        case 'd':
            F.delay_s = parse_num(optarg, "-d", 0, 60000) / 1000.0;
            break;
        case 'i':
            F.interval_s = parse_num(optarg, "-i", 0.01, 86400);
            break;
        case 'c':
            F.max_conns = (unsigned)parse_num(optarg, "-c", 1, 64);
            break;
        case 'o':
            F.first = (unsigned)parse_num(optarg, "-o", 0, 1000000);
            break;
        case 's':
            F.stats_path = optarg;
            break;
        case 'r':
            ready = optarg;
            break;
        default:
            usage();
        }
    }
    if (F.n == 0 || base == 0 || optind != argc)
        usage();
    if (base + F.n - 1 > 65535)
        die("ports %u..%u do not fit", base, base + F.n - 1);
    F.tolerance_s = fmin(0.5, F.interval_s / 2);

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_nofile(F.n);
    F.devs = calloc(F.n, sizeof *F.devs);
    if (F.devs == NULL)
        die("out of memory");
    F.ep = epoll_create1(EPOLL_CLOEXEC);
    if (F.ep == -1)
        die("epoll_create1: %s", strerror(errno));
    F.start_mono = mono_now();
    listen_all(host, base);
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
            fclose(f) != 0)
            die("%s: %s", ready, strerror(errno));
    }
    fprintf(stderr, "ecmon-fleet: %u devices on %s:%u..%u, delay %.0f ms\n",
            F.n, host, base, base + F.n - 1, F.delay_s * 1000);

    struct epoll_event evs[MAXEV];
    while (!got_term) {
        if (got_usr1) {
            got_usr1 = 0;
            write_stats();
        }
        int timeout = -1;
        if (F.head) {
            double wait = F.head->due - mono_now();
            timeout = wait <= 0 ? 0 : (int)ceil(wait * 1000);
        }
        int n = epoll_wait(F.ep, evs, MAXEV, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            int obj = *(int *)evs[i].data.ptr;
            if (obj == OBJ_LISTENER) {
                accept_all(evs[i].data.ptr);
                continue;
            }
            struct conn *c = evs[i].data.ptr;
            if (c->dead)
                continue;
            if (evs[i].events & EPOLLOUT)
                conn_flush(c);
            if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                conn_read(c);
        }
        send_due(mono_now());
        free_buried();
    }
    write_stats();
    if (F.stats_path) {
        F.stats_path = NULL;
        write_stats(); /* and the totals on stderr */
    }
    if (ready)
        unlink(ready);
    return 0;
}
