/* The control socket: non-blocking clients served from the main loop, one
 * request line each, one JSON reply, then close. */
#include "daemon/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/memtrim.h"

#define MAX_CLIENTS 16
#define CLIENT_TIMEOUT_S 5.0

struct client {
    int fd;
    double since;
    char in[CTL_MAX_LINE + 2];
    size_t nin;
    char *out;
    size_t nout, sent;
};

struct control {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    control_handler handler;
    void *arg;
    struct client clients[MAX_CLIENTS];
    double paused_until; /* accept failed (out of fds): listener not polled */
    int accept_failing;  /* that was logged */
};

struct control *
control_open(const char *path, control_handler h, void *arg, char *err,
             size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "control socket path too long: %s", path);
        return NULL;
    }
    strcpy(sun.sun_path, path);

    /* Is someone answering on it? Then we are a second instance. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe != -1 &&
        connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
        close(probe);
        snprintf(err, errlen, "%s: another ecmond is running", path);
        return NULL;
    }
    if (probe != -1)
        close(probe);
    /* Remove a stale socket, never a file that a wrong path points at. */
    struct stat sb;
    if (lstat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket", path);
        return NULL;
    }
    unlink(path);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return NULL;
    }
    mode_t old = umask(0117);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    umask(old);
    if (rc == -1 || listen(fd, 8) == -1) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    chmod(path, 0660);
    struct control *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        unlink(path);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->fd = fd;
    snprintf(c->path, sizeof c->path, "%s", path);
    c->handler = h;
    c->arg = arg;
    for (int i = 0; i < MAX_CLIENTS; i++)
        c->clients[i].fd = -1;
    return c;
}

size_t
control_pollfds(struct control *c, struct pollfd *fds, size_t max)
{
    size_t n = 0;
    if (max == 0)
        return 0;
    /* poll ignores a negative fd: a listener that cannot accept would
     * stay readable and turn the loop into a busy loop. */
    fds[n++] = (struct pollfd){c->paused_until > 0 ? -1 : c->fd, POLLIN, 0};
    for (int i = 0; i < MAX_CLIENTS && n < max; i++) {
        struct client *cl = &c->clients[i];
        if (cl->fd != -1)
            fds[n++] = (struct pollfd){cl->fd, cl->out ? POLLOUT : POLLIN, 0};
    }
    return n;
}

static void
drop(struct client *cl)
{
    size_t n = cl->out != NULL ? cl->nout : 0;

    close(cl->fd);
    free(cl->out);
    memtrim(n);
    cl->fd = -1;
    cl->out = NULL;
    cl->nin = cl->nout = cl->sent = 0;
}

static char *
error_reply(const char *msg)
{
    char *s = malloc(strlen(msg) * 6 + 32), *o;
    if (s == NULL)
        return NULL;
    o = s + sprintf(s, "{\"error\":\"");
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            o += sprintf(o, "\\%c", *p);
        else if (*p < 0x20)
            o += sprintf(o, "\\u%04x", *p);
        else
            *o++ = (char)*p;
    }
    strcpy(o, "\"}\n");
    return s;
}

static void
answer(struct control *c, struct client *cl, size_t linelen)
{
    struct ctl_req req;
    char err[160];
    if (ctl_parse(cl->in, linelen, &req, err, sizeof err) == -1) {
        log_debug("control: bad request: %s", err);
        cl->out = error_reply(err);
    } else {
        cl->out = c->handler(&req, c->arg);
        if (cl->out == NULL)
            cl->out = error_reply("internal error");
    }
    if (cl->out == NULL) {
        drop(cl);
        return;
    }
    cl->nout = strlen(cl->out);
    cl->sent = 0;
    shutdown(cl->fd, SHUT_RD);
}

static void
client_io(struct control *c, struct client *cl, short revents)
{
    if (cl->out == NULL && (revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t r = read(cl->fd, cl->in + cl->nin, sizeof cl->in - cl->nin);
        if (r <= 0) {
            if (r == 0 || (errno != EAGAIN && errno != EINTR))
                drop(cl);
            return;
        }
        cl->nin += (size_t)r;
        char *nl = memchr(cl->in, '\n', cl->nin);
        if (nl != NULL)
            answer(c, cl, (size_t)(nl - cl->in) + 1);
        else if (cl->nin == sizeof cl->in)
            answer(c, cl, cl->nin); /* too long: the parser says so */
        return;
    }
    if (cl->out != NULL && (revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t w =
            send(cl->fd, cl->out + cl->sent, cl->nout - cl->sent, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN && errno != EINTR)
                drop(cl);
            return;
        }
        cl->sent += (size_t)w;
        if (cl->sent == cl->nout)
            drop(cl);
    }
}

void
control_handle(struct control *c, const struct pollfd *fds, size_t n,
               double now)
{
    if (c->paused_until > 0 && now >= c->paused_until)
        c->paused_until = 0;
    for (size_t i = 0; i < n; i++) {
        if (fds[i].revents == 0)
            continue;
        if (fds[i].fd == c->fd) {
            for (;;) {
                int fd =
                    accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd == -1) {
                    if (errno == EMFILE || errno == ENFILE ||
                        errno == ENOBUFS || errno == ENOMEM) {
                        if (!c->accept_failing)
                            log_warn("control: accept");
                        c->accept_failing = 1;
                        c->paused_until = now + 1.0;
                    }
                    break;
                }
                if (c->accept_failing)
                    log_info("control: accepting connections again");
                c->accept_failing = 0;
                struct client *cl = NULL;
                for (int k = 0; k < MAX_CLIENTS && cl == NULL; k++)
                    if (c->clients[k].fd == -1)
                        cl = &c->clients[k];
                if (cl == NULL) {
                    close(fd); /* busy: the client sees EOF and retries */
                    continue;
                }
                cl->fd = fd;
                cl->since = now;
            }
            continue;
        }
        for (int k = 0; k < MAX_CLIENTS; k++)
            if (c->clients[k].fd == fds[i].fd) {
                client_io(c, &c->clients[k], fds[i].revents);
                break;
            }
    }
    for (int k = 0; k < MAX_CLIENTS; k++)
        if (c->clients[k].fd != -1 &&
            now - c->clients[k].since > CLIENT_TIMEOUT_S)
            drop(&c->clients[k]);
}

void
control_close(struct control *c)
{
    if (c == NULL)
        return;
    for (int k = 0; k < MAX_CLIENTS; k++)
        if (c->clients[k].fd != -1)
            drop(&c->clients[k]);
    close(c->fd);
    unlink(c->path);
    free(c);
}
