/* The web dashboard and its JSON API (docs/HTTP.md), served by
 * libmicrohttpd from the main loop through its epoll descriptor: the only
 * libmicrohttpd user. Every handler asks views.c for its answer with the
 * viewer's enterprise, so what a role may see is decided in one place. */
#ifndef ECMON_HTTP_H
#define ECMON_HTTP_H

#include <stddef.h>

struct ecmond;
struct engine_alert;
struct http;

/* Listen on d->conf->http.listen. Returns NULL with a message in err. */
struct http *http_open(struct ecmond *d, char *err, size_t errlen);

/* The descriptor to poll for input (libmicrohttpd's epoll set). */
int http_fd(const struct http *h);

/* Milliseconds until http_run is due without input, -1 for no limit. */
long http_timeout_ms(struct http *h);

/* Serve what is ready; send keep-alives (`now` monotonic). */
void http_run(struct http *h, double now);

/* An alert transition: push it to every event stream that may see it. */
void http_alert(struct http *h, const struct engine_alert *a);

/* After a reload: close event streams whose token left the config. */
void http_reconf(struct http *h);

void http_close(struct http *h);

#endif
