/* ecmon-rtu-line: a paced RS-485 line between two ptys for benchmarks.
 *
 * One side is an existing tty (the device side, e.g. the pty ecmon-sim
 * serves an RTU bus on); the other is a new pty whose slave is linked at a
 * path for the master (ecmond). Bytes cross no faster than the baud rate:
 * each takes one character time (start + data + parity + stop bits) on one
 * shared, half-duplex wire. When the direction turns, the wire is silent for
 * 3.5 characters first (a device only sees the end of a request after that
 * silence; 1.75 ms above 19200 baud), plus the device's turnaround before
 * an answer. Counts the bytes so a run can tell how busy the wire was. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define QMAX 65536 /* bytes on their way, both directions */

enum { TO_DEV, TO_HOST };

struct byte_slot {
    double due; /* monotonic time its last bit leaves the wire */
    uint8_t dir;
    uint8_t b;
};

static struct {
    int dev, host, host_keep;
    double chartime, gap, turnaround;
    struct byte_slot q[QMAX];
    size_t qhead, qlen;
    double wire_free; /* when the wire's last scheduled byte ends */
    int last_dir;
    uint64_t bytes[2], turns;
    double late_max, late_sum;
    uint64_t late_n;
    const char *stats, *link;
    double start;
} L;

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
    fputs("ecmon-rtu-line: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (L.link)
        unlink(L.link);
    exit(1);
}

static double
mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
make_raw(int fd, const char *what)
{
    struct termios tio;
    if (tcgetattr(fd, &tio) == -1)
        die("%s: tcgetattr: %s", what, strerror(errno));
    cfmakeraw(&tio);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &tio) == -1)
        die("%s: tcsetattr: %s", what, strerror(errno));
}

/* Put bytes that arrived now on the wire, after what is already on it. */
static void
schedule(const uint8_t *buf, size_t n, int dir, double now)
{
    for (size_t i = 0; i < n; i++) {
        if (L.qlen == QMAX)
            die("more than %d bytes queued on the line", QMAX);
        double start = fmax(now, L.wire_free);
        if (dir != L.last_dir && L.last_dir != -1) {
            /* The wire turns: 3.5 characters of silence, and the device's
             * processing time before it answers. */
            double quiet = L.gap + (dir == TO_HOST ? L.turnaround : 0);
            start = fmax(start, L.wire_free + quiet);
            L.turns++;
        }
        L.last_dir = dir;
        L.wire_free = start + L.chartime;
        struct byte_slot *s = &L.q[(L.qhead + L.qlen) % QMAX];
        s->due = L.wire_free;
        s->dir = (uint8_t)dir;
        s->b = buf[i];
        L.qlen++;
    }
}

/* Deliver every byte whose time has come, in order. */
static void
deliver(double now)
{
    while (L.qlen > 0) {
        struct byte_slot *s = &L.q[L.qhead];
        if (s->due > now)
            return;
        /* The run of due bytes going the same way, up to the ring's end. */
        uint8_t out[256];
        size_t n = 0;
        int dir = s->dir;
        while (n < L.qlen && n < sizeof out) {
            struct byte_slot *t = &L.q[(L.qhead + n) % QMAX];
            if (t->due > now || t->dir != dir)
                break;
            out[n++] = t->b;
        }
        ssize_t w = write(dir == TO_DEV ? L.dev : L.host, out, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            die("write: %s", strerror(errno));
        }
        for (ssize_t i = 0; i < w; i++) {
            double late = now - L.q[L.qhead].due;
            L.late_sum += late;
            L.late_n++;
            if (late > L.late_max)
                L.late_max = late;
            L.qhead = (L.qhead + 1) % QMAX;
            L.qlen--;
        }
        L.bytes[dir] += (uint64_t)w;
    }
}

static void
write_stats(void)
{
    double now = mono_now();
    char body[1024];
    snprintf(body, sizeof body,
             "elapsed %.6f\nchartime %.9f\ngap %.9f\nturnaround %.9f\n"
             "bytes_to_device %llu\nbytes_to_host %llu\nturns %llu\n"
             "late_max_ms %.3f\nlate_mean_ms %.3f\n",
             now - L.start, L.chartime, L.gap, L.turnaround,
             (unsigned long long)L.bytes[TO_DEV],
             (unsigned long long)L.bytes[TO_HOST], (unsigned long long)L.turns,
             L.late_max * 1000,
             L.late_n ? L.late_sum / (double)L.late_n * 1000 : 0.0);
    if (L.stats == NULL) {
        fputs(body, stderr);
        return;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", L.stats);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fputs(body, f) == EOF || fclose(f) != 0 ||
        rename(tmp, L.stats) != 0)
        fprintf(stderr, "ecmon-rtu-line: %s: %s\n", L.stats, strerror(errno));
}

static void
open_host_side(const char *link)
{
    L.host = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (L.host < 0 || grantpt(L.host) < 0 || unlockpt(L.host) < 0)
        die("pty: %s", strerror(errno));
    const char *name = ptsname(L.host);
    if (name == NULL)
        die("ptsname: %s", strerror(errno));
    /* Kept open so the master never sees a hang-up between the client's
     * opens and closes. */
    L.host_keep = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (L.host_keep < 0)
        die("%s: %s", name, strerror(errno));
    make_raw(L.host_keep, name);
    if (fcntl(L.host, F_SETFL, O_NONBLOCK) == -1)
        die("fcntl: %s", strerror(errno));
    unlink(link);
    if (symlink(name, link) == -1)
        die("symlink %s: %s", link, strerror(errno));
    L.link = link;
}

static void
usage(void)
{
    fprintf(stderr, "usage: ecmon-rtu-line -b BAUD [-P N|E|O] [-t STOP_BITS] "
                    "[-T TURNAROUND_MS]\n"
                    "                      -D DEVICE_TTY -l LINK [-S STATS] "
                    "[-r READY]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *devpath = NULL, *link = NULL, *ready = NULL;
    long baud = 0, stop = 1, prio = 0;
    char parity = 'N';
    int ch;

    while ((ch = getopt(argc, argv, "b:P:t:T:D:l:S:r:R:")) != -1) {
        switch (ch) {
        case 'b':
            baud = strtol(optarg, NULL, 10);
            break;
        case 'P':
            parity = optarg[0];
            break;
        case 't':
            stop = strtol(optarg, NULL, 10);
            break;
        case 'T':
            L.turnaround = strtod(optarg, NULL) / 1000.0;
            break;
        case 'D':
            devpath = optarg;
            break;
        case 'l':
            link = optarg;
            break;
        case 'S':
            L.stats = optarg;
            break;
        case 'r':
            ready = optarg;
            break;
        case 'R':
            prio = strtol(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (baud < 300 || baud > 4000000 || (stop != 1 && stop != 2) ||
        !strchr("NEO", parity) || parity == 0 || L.turnaround < 0 ||
        devpath == NULL || link == NULL || optind != argc)
        usage();
    int bits = 1 + 8 + (parity != 'N') + (int)stop;
    L.chartime = bits / (double)baud;
    L.gap = baud > 19200 ? 0.00175 : 3.5 * L.chartime;
    L.last_dir = -1;

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* A wire does not pause: on a busy machine, a real-time priority keeps
     * the relay from stopping in the middle of a frame, which a device
     * would take for the end of it. */
    if (prio > 0) {
        struct sched_param sp = {.sched_priority = (int)prio};
        if (sched_setscheduler(0, SCHED_FIFO, &sp) == -1)
            fprintf(stderr,
                    "ecmon-rtu-line: SCHED_FIFO %ld: %s; pacing "
                    "may stall under load\n",
                    prio, strerror(errno));
    }
    L.dev = open(devpath, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (L.dev < 0)
        die("%s: %s", devpath, strerror(errno));
    make_raw(L.dev, devpath);
    open_host_side(link);
    L.start = mono_now();
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
            fclose(f) != 0)
            die("%s: %s", ready, strerror(errno));
    }
    fprintf(stderr,
            "ecmon-rtu-line: %s <-> %s at %ld baud, %d bits a character "
            "(%.3f ms), gap %.3f ms, turnaround %.1f ms\n",
            link, devpath, baud, bits, L.chartime * 1000, L.gap * 1000,
            L.turnaround * 1000);

    while (!got_term) {
        if (got_usr1) {
            got_usr1 = 0;
            write_stats();
        }
        struct pollfd p[2] = {{L.dev, POLLIN, 0}, {L.host, POLLIN, 0}};
        struct timespec to, *top = NULL;
        if (L.qlen > 0) {
            double wait = fmax(0, L.q[L.qhead].due - mono_now());
            to.tv_sec = (time_t)wait;
            to.tv_nsec = (long)((wait - (double)to.tv_sec) * 1e9);
            top = &to;
        }
        int n = ppoll(p, 2, top, NULL);
        if (n < 0 && errno != EINTR)
            die("ppoll: %s", strerror(errno));
        double now = mono_now();
        for (int i = 0; n > 0 && i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            uint8_t buf[512];
            ssize_t r = read(p[i].fd, buf, sizeof buf);
            if (r > 0)
                schedule(buf, (size_t)r, i == 0 ? TO_HOST : TO_DEV, now);
            else if (i == 0 && (r == 0 || (errno != EAGAIN && errno != EINTR)))
                die("%s: the device side went away", devpath);
        }
        deliver(mono_now());
    }
    write_stats();
    if (L.stats) {
        L.stats = NULL;
        write_stats();
    }
    unlink(link);
    if (ready)
        unlink(ready);
    return 0;
}
