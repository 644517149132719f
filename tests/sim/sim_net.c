/* The simulator's transports: Modbus TCP framed by hand (MBAP), Modbus RTU
 * on ptys, and the control socket; one non-blocking poll loop owns them. */
#include "tests/sim/sim_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tests/sim/sim_pdu.h"

#define RX_MAX 1024 /* control lines; several pipelined MBAP frames */
#define TX_MAX 4096
#define MBAP_MAX 260 /* 7-byte MBAP header + 253-byte PDU */
#define CTL_REPLY_MAX 1024

struct conn {
    int fd;  /* -1 once closed; freed at the end of the loop turn */
    int bus; /* -1: a control connection */
    bool close_after_tx;
    size_t rxlen, txoff, txlen;
    uint8_t rx[RX_MAX];
    uint8_t tx[TX_MAX];
};

struct bus {
    const struct conf_bus *cb;
    bool paused;
    int lfd;          /* TCP listener, -1 while paused */
    int master, keep; /* RTU: pty master, and a slave fd kept open so the
                         master never sees a hangup between clients */
    char pts[64];
    bool linked; /* we created cb->device as a symlink to pts */
    uint8_t rx[256];
    size_t rxlen;
    double last_rx, t35;
};

enum slot_kind { SLOT_CTL, SLOT_LISTEN, SLOT_RTU, SLOT_CONN };

struct slot {
    enum slot_kind kind;
    struct bus *bus;
    struct conn *conn;
};

struct net {
    struct sim *s;
    struct bus *buses;
    size_t nbuses;
    int ctl_fd;
    char *ctl_path;
    struct conn **conns;
    size_t nconns, capconns;
    struct pollfd *pfd;
    struct slot *slots;
    size_t cap;
    double backoff_until; /* accept() hit the fd limit: wait until then */
    bool warned_fds;
};

double
sim_clock(void)
{
    static struct timespec t0;
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t0.tv_sec == 0 && t0.tv_nsec == 0)
        t0 = t;
    return (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

static int
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- connections ---- */

static struct conn *
conn_add(struct net *n, int fd, int bus)
{
    if (n->nconns == n->capconns) {
        size_t cap = n->capconns ? 2 * n->capconns : 16;
        struct conn **c = realloc(n->conns, cap * sizeof *c);
        if (!c)
            return NULL;
        n->conns = c;
        n->capconns = cap;
    }
    struct conn *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->bus = bus;
    c->close_after_tx = false;
    c->rxlen = c->txoff = c->txlen = 0;
    n->conns[n->nconns++] = c;
    return c;
}

static void
conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Free the connections closed during this loop turn. */
static void
conn_reap(struct net *n)
{
    size_t j = 0;
    for (size_t i = 0; i < n->nconns; i++) {
        if (n->conns[i]->fd < 0)
            free(n->conns[i]);
        else
            n->conns[j++] = n->conns[i];
    }
    n->nconns = j;
}

static size_t
tx_room(struct conn *c)
{
    if (c->txoff > 0) {
        memmove(c->tx, c->tx + c->txoff, c->txlen - c->txoff);
        c->txlen -= c->txoff;
        c->txoff = 0;
    }
    return TX_MAX - c->txlen;
}

static void
conn_flush(struct conn *c)
{
    while (c->fd >= 0 && c->txoff < c->txlen) {
        ssize_t w = send(c->fd, c->tx + c->txoff, c->txlen - c->txoff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            conn_close(c);
            return;
        }
        c->txoff += (size_t)w;
    }
    c->txoff = c->txlen = 0;
    if (c->close_after_tx)
        conn_close(c);
}

/* Answer every complete MBAP frame buffered; a malformed header closes the
 * connection. Stops early while the transmit buffer is full. */
static void
tcp_process(struct net *n, struct conn *c, double now)
{
    size_t off = 0;

    while (c->rxlen - off >= 7) {
        const uint8_t *f = c->rx + off;
        unsigned proto = (unsigned)f[2] << 8 | f[3];
        unsigned len = (unsigned)f[4] << 8 | f[5];
        if (proto != 0 || len < 2 || len > MBAP_MAX - 6) {
            log_debug("bus %s: malformed MBAP header (protocol %u, length "
                      "%u): closing",
                      n->buses[c->bus].cb->id, proto, len);
            conn_close(c);
            return;
        }
        if (c->rxlen - off < 6 + len || tx_room(c) < MBAP_MAX)
            break;
        struct sim_answer a;
        uint8_t *out = c->tx + c->txlen;
        size_t plen = sim_pdu_answer(n->s, c->bus, f[6], f + 7, len - 1, now,
                                     &a, out + 7);
        if (plen > 0) {
            out[0] = f[0];
            out[1] = f[1];
            out[2] = out[3] = 0;
            out[4] = (uint8_t)((plen + 1) >> 8);
            out[5] = (uint8_t)(plen + 1);
            out[6] = a.unit;
            c->txlen += 7 + plen;
        }
        off += 6 + len;
    }
    memmove(c->rx, c->rx + off, c->rxlen - off);
    c->rxlen -= off;
}

static void
ctl_process(struct net *n, struct conn *c, double now)
{
    char reply[CTL_REPLY_MAX];

    while (!n->s->quit) {
        uint8_t *nl = memchr(c->rx, '\n', c->rxlen);
        if (!nl) {
            if (c->rxlen == RX_MAX) {
                static const char msg[] = "err line too long\n";
                if (tx_room(c) >= sizeof msg) {
                    memcpy(c->tx + c->txlen, msg, sizeof msg - 1);
                    c->txlen += sizeof msg - 1;
                }
                c->rxlen = 0;
                c->close_after_tx = true;
            }
            return;
        }
        if (tx_room(c) < CTL_REPLY_MAX + 1)
            return;
        size_t linelen = (size_t)(nl - c->rx);
        *nl = '\0';
        char *line = (char *)c->rx;
        if (line[strspn(line, " \t\r")] != '\0') {
            sim_ctl_exec(n->s, line, now, reply, sizeof reply);
            log_debug("control: %s", reply);
            size_t rl = strlen(reply);
            memcpy(c->tx + c->txlen, reply, rl);
            c->tx[c->txlen + rl] = '\n';
            c->txlen += rl + 1;
        }
        memmove(c->rx, nl + 1, c->rxlen - linelen - 1);
        c->rxlen -= linelen + 1;
    }
}

static void
conn_read(struct conn *c)
{
    ssize_t r = recv(c->fd, c->rx + c->rxlen, RX_MAX - c->rxlen, 0);
    if (r == 0) { /* answer what came before the end, then close */
        c->close_after_tx = true;
        return;
    }
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_close(c);
        return;
    }
    c->rxlen += (size_t)r;
}

static void
conn_serve(struct net *n, struct conn *c, double now)
{
    if (c->fd < 0)
        return;
    if (c->bus >= 0)
        tcp_process(n, c, now);
    else
        ctl_process(n, c, now);
    if (c->fd >= 0)
        conn_flush(c);
}

/* ---- TCP listeners ---- */

static int
loopback_addr(const char *host, int port, struct sockaddr_storage *ss,
              socklen_t *sl)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof *ss);
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
            return -1;
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *sl = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return -1;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *in6;
        return 0;
    }
    return -1;
}

static int
tcp_listen(struct bus *b, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1;

    if (loopback_addr(b->cb->host, b->cb->port, &ss, &sl) < 0) {
        snprintf(err, errlen,
                 "bus %s: host %s is not a loopback address "
                 "(127.0.0.0/8, ::1 or localhost); ecmon-sim serves on "
                 "loopback only",
                 b->cb->id, b->cb->host);
        return -1;
    }
    int fd =
        socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 512) < 0) {
        snprintf(err, errlen, "bus %s: listen on %s:%d: %s", b->cb->id,
                 b->cb->host, b->cb->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    b->lfd = fd;
    return 0;
}

static void
tcp_accept(struct net *n, struct bus *b, double now)
{
    int one = 1;

    for (;;) {
        int fd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                if (!n->warned_fds)
                    log_warn("bus %s: accept", b->cb->id);
                n->warned_fds = true;
                n->backoff_until = now + 0.1;
            }
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!conn_add(n, fd, (int)(b - n->buses))) {
            close(fd);
            return;
        }
    }
}

/* ---- RTU on ptys ---- */

static speed_t
baud_const(int baud)
{
    static const struct {
        int baud;
        speed_t c;
    } t[] = {{1200, B1200},   {2400, B2400},     {4800, B4800},
             {9600, B9600},   {19200, B19200},   {38400, B38400},
             {57600, B57600}, {115200, B115200}, {230400, B230400}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].baud == baud)
            return t[i].c;
    return B9600;
}

static int
rtu_open(struct bus *b, char *err, size_t errlen)
{
    const char *dev = b->cb->device;
    struct stat st;
    struct termios tio;

    if (lstat(dev, &st) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            snprintf(err, errlen,
                     "bus %s: %s exists and is not a symlink; "
                     "refusing to replace it",
                     b->cb->id, dev);
            return -1;
        }
        if (unlink(dev) < 0) {
            snprintf(err, errlen, "bus %s: remove stale %s: %s", b->cb->id, dev,
                     strerror(errno));
            return -1;
        }
    }
    b->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (b->master < 0 || grantpt(b->master) < 0 || unlockpt(b->master) < 0 ||
        ptsname_r(b->master, b->pts, sizeof b->pts) != 0) {
        snprintf(err, errlen, "bus %s: pty: %s", b->cb->id, strerror(errno));
        return -1;
    }
    b->keep = open(b->pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (b->keep < 0 || tcgetattr(b->keep, &tio) < 0) {
        snprintf(err, errlen, "bus %s: %s: %s", b->cb->id, b->pts,
                 strerror(errno));
        return -1;
    }
    cfmakeraw(&tio);
    cfsetspeed(&tio, baud_const(b->cb->baud));
    if (tcsetattr(b->keep, TCSANOW, &tio) < 0 || set_nonblock(b->master) < 0) {
        snprintf(err, errlen, "bus %s: %s: %s", b->cb->id, b->pts,
                 strerror(errno));
        return -1;
    }
    if (symlink(b->pts, dev) < 0) {
        snprintf(err, errlen, "bus %s: symlink %s -> %s: %s", b->cb->id, dev,
                 b->pts, strerror(errno));
        return -1;
    }
    b->linked = true;
    /* 3.5 characters of 11 bits, at least 1.75 ms (the spec above 19200). */
    b->t35 =
        b->cb->baud > 19200 || b->cb->baud <= 0 ? 0.00175 : 38.5 / b->cb->baud;
    return 0;
}

static bool
crc_ok(const uint8_t *f, size_t len)
{
    return len >= 4 &&
           sim_crc16(f, len - 2) == (uint16_t)(f[len - 2] | f[len - 1] << 8);
}

static void
rtu_answer(struct net *n, struct bus *b, const uint8_t *f, size_t len,
           double now)
{
    uint8_t out[1 + SIM_PDU_MAX + 2];
    struct sim_answer a;

    size_t plen = sim_pdu_answer(n->s, (int)(b - n->buses), f[0], f + 1,
                                 len - 3, now, &a, out + 1);
    if (plen == 0 || f[0] == 0) /* no answer, or a broadcast */
        return;
    out[0] = a.unit;
    uint16_t crc = sim_crc16(out, plen + 1);
    if (a.badcrc)
        crc ^= 0xffff;
    out[plen + 1] = (uint8_t)crc;
    out[plen + 2] = (uint8_t)(crc >> 8);
    ssize_t w = write(b->master, out, plen + 3);
    if (w != (ssize_t)(plen + 3))
        log_debug("bus %s: answer dropped (%zd of %zu bytes written)",
                  b->cb->id, w, plen + 3);
}

/* Answer the FC 03/04 requests at the head of the buffer as soon as their 8
 * bytes are in with a good CRC; anything else waits for t3.5 of silence. */
static void
rtu_eager(struct net *n, struct bus *b, double now)
{
    size_t off = 0;
    while (b->rxlen - off >= 8 &&
           (b->rx[off + 1] == 0x03 || b->rx[off + 1] == 0x04) &&
           crc_ok(b->rx + off, 8)) {
        rtu_answer(n, b, b->rx + off, 8, now);
        off += 8;
    }
    memmove(b->rx, b->rx + off, b->rxlen - off);
    b->rxlen -= off;
}

static void
rtu_silence(struct net *n, struct bus *b, double now)
{
    if (b->rxlen == 0 || now < b->last_rx + b->t35)
        return;
    if (crc_ok(b->rx, b->rxlen)) {
        rtu_answer(n, b, b->rx, b->rxlen, now);
    } else {
        n->s->bad_frames++;
        log_debug("bus %s: dropped a %zu-byte frame (bad CRC)", b->cb->id,
                  b->rxlen);
    }
    b->rxlen = 0;
}

static void
rtu_read(struct net *n, struct bus *b, double now)
{
    ssize_t r = read(b->master, b->rx + b->rxlen, sizeof b->rx - b->rxlen);
    if (r <= 0)
        return;
    if (b->paused)
        return;
    b->rxlen += (size_t)r;
    b->last_rx = now;
    rtu_eager(n, b, now);
    if (b->rxlen == sizeof b->rx) {
        n->s->bad_frames++;
        b->rxlen = 0;
    }
}

/* ---- pause / resume ---- */

static int
bus_pause(void *arg, int bi, bool pause, char *err, size_t errlen)
{
    struct net *n = arg;
    struct bus *b = &n->buses[bi];

    if (pause == b->paused)
        return 0;
    if (b->cb->kind == BUS_RTU) {
        b->paused = pause;
        b->rxlen = 0;
        return 0;
    }
    if (pause) {
        close(b->lfd);
        b->lfd = -1;
        for (size_t i = 0; i < n->nconns; i++)
            if (n->conns[i]->bus == bi)
                conn_close(n->conns[i]);
    } else if (tcp_listen(b, err, errlen) < 0) {
        return -1;
    }
    b->paused = pause;
    return 0;
}

/* ---- control socket ---- */

static int
ctl_open(struct net *n, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;

    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "control socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket", path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int live = probe >= 0 &&
                   connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (probe >= 0)
            close(probe);
        if (live) {
            snprintf(err, errlen, "%s: another simulator is listening", path);
            return -1;
        }
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "control socket: %s", strerror(errno));
        return -1;
    }
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
        snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
        close(fd);
        if (rc == 0)
            unlink(path);
        return -1;
    }
    n->ctl_fd = fd;
    n->ctl_path = strdup(path);
    if (!n->ctl_path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void
ctl_accept(struct net *n)
{
    for (;;) {
        int fd = accept4(n->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (!conn_add(n, fd, -1)) {
            close(fd);
            return;
        }
    }
}

/* ---- open / run / close ---- */

struct net *
net_open(struct sim *s, const char *ctl_path, char *err, size_t errlen)
{
    struct net *n = calloc(1, sizeof *n);
    if (!n)
        goto oom;
    n->s = s;
    n->ctl_fd = -1;
    n->nbuses = s->conf->nbuses;
    n->buses = calloc(n->nbuses ? n->nbuses : 1, sizeof *n->buses);
    if (!n->buses)
        goto oom;
    for (size_t i = 0; i < n->nbuses; i++) {
        struct bus *b = &n->buses[i];
        b->cb = &s->conf->buses[i];
        b->lfd = b->master = b->keep = -1;
    }
    for (size_t i = 0; i < n->nbuses; i++) {
        struct bus *b = &n->buses[i];
        if (b->cb->kind == BUS_TCP ? tcp_listen(b, err, errlen)
                                   : rtu_open(b, err, errlen))
            goto fail;
    }
    if (ctl_path && ctl_open(n, ctl_path, err, errlen) < 0)
        goto fail;
    s->net = n;
    s->bus_pause = bus_pause;
    return n;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    net_close(n);
    return NULL;
}

/* Fill the poll set; returns its size and the wait in *timeout (-1: none). */
static size_t
poll_build(struct net *n, double now, double *timeout)
{
    size_t need = 1 + n->nbuses + n->nconns;
    size_t k = 0;

    if (need > n->cap) {
        size_t cap = 2 * need;
        struct pollfd *p = realloc(n->pfd, cap * sizeof *p);
        if (p)
            n->pfd = p;
        struct slot *sl = realloc(n->slots, cap * sizeof *sl);
        if (sl)
            n->slots = sl;
        if (!p || !sl)
            fatalx("out of memory");
        n->cap = cap;
    }
    *timeout = -1;
    if (n->ctl_fd >= 0) {
        n->pfd[k] = (struct pollfd){n->ctl_fd, POLLIN, 0};
        n->slots[k++] = (struct slot){SLOT_CTL, NULL, NULL};
    }
    for (size_t i = 0; i < n->nbuses; i++) {
        struct bus *b = &n->buses[i];
        if (b->lfd >= 0) {
            if (now < n->backoff_until) {
                *timeout = n->backoff_until - now;
                continue;
            }
            n->pfd[k] = (struct pollfd){b->lfd, POLLIN, 0};
            n->slots[k++] = (struct slot){SLOT_LISTEN, b, NULL};
        } else if (b->master >= 0) {
            n->pfd[k] = (struct pollfd){b->master, POLLIN, 0};
            n->slots[k++] = (struct slot){SLOT_RTU, b, NULL};
            if (b->rxlen > 0) {
                double left = b->last_rx + b->t35 - now;
                if (left < 0)
                    left = 0;
                if (*timeout < 0 || left < *timeout)
                    *timeout = left;
            }
        }
    }
    for (size_t i = 0; i < n->nconns; i++) {
        struct conn *c = n->conns[i];
        short ev = 0;
        if (c->rxlen < RX_MAX && !c->close_after_tx)
            ev |= POLLIN;
        if (c->txoff < c->txlen)
            ev |= POLLOUT;
        n->pfd[k] = (struct pollfd){c->fd, ev, 0};
        n->slots[k++] = (struct slot){SLOT_CONN, NULL, c};
    }
    return k;
}

int
net_run(struct net *n, volatile sig_atomic_t *stop, const sigset_t *sigmask)
{
    while (!*stop && !n->s->quit) {
        double timeout;
        size_t np = poll_build(n, sim_clock(), &timeout);
        struct timespec ts, *tsp = NULL;
        if (timeout >= 0) {
            timeout += 0.0002; /* wake just after the deadline, not before */
            ts.tv_sec = (time_t)timeout;
            ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
            tsp = &ts;
        }
        int r = ppoll(n->pfd, np, tsp, sigmask);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            log_warn("poll");
            return -1;
        }
        double now = sim_clock();
        for (size_t i = 0; i < np; i++) {
            short re = n->pfd[i].revents;
            struct slot *sl = &n->slots[i];
            if (!re)
                continue;
            switch (sl->kind) {
            case SLOT_CTL:
                ctl_accept(n);
                break;
            case SLOT_LISTEN:
                if (sl->bus->lfd >= 0)
                    tcp_accept(n, sl->bus, now);
                break;
            case SLOT_RTU:
                rtu_read(n, sl->bus, now);
                break;
            case SLOT_CONN:
                if (sl->conn->fd < 0)
                    break;
                if (re & POLLIN)
                    conn_read(sl->conn);
                else if (re & (POLLERR | POLLHUP | POLLNVAL))
                    conn_close(sl->conn);
                conn_serve(n, sl->conn, now);
                break;
            }
        }
        for (size_t i = 0; i < n->nbuses; i++)
            if (n->buses[i].master >= 0)
                rtu_silence(n, &n->buses[i], sim_clock());
        conn_reap(n);
    }
    return 0;
}

void
net_close(struct net *n)
{
    char target[sizeof n->buses[0].pts];

    if (!n)
        return;
    for (size_t i = 0; i < n->nconns; i++) {
        conn_flush(n->conns[i]); /* the reply to `quit` */
        conn_close(n->conns[i]);
        free(n->conns[i]);
    }
    free(n->conns);
    for (size_t i = 0; n->buses && i < n->nbuses; i++) {
        struct bus *b = &n->buses[i];
        if (b->lfd >= 0)
            close(b->lfd);
        if (b->linked) {
            ssize_t l = readlink(b->cb->device, target, sizeof target - 1);
            if (l >= 0) {
                target[l] = '\0';
                if (strcmp(target, b->pts) == 0)
                    unlink(b->cb->device);
            }
        }
        if (b->keep >= 0)
            close(b->keep);
        if (b->master >= 0)
            close(b->master);
    }
    free(n->buses);
    if (n->ctl_fd >= 0) {
        close(n->ctl_fd);
        unlink(n->ctl_path);
    }
    free(n->ctl_path);
    free(n->pfd);
    free(n->slots);
    free(n);
}
