/* The hand-over from bus worker threads to the main loop. */
#include "drivers/sampleq.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int
sampleq_init(struct sampleq *q, size_t max_samples)
{
    memset(q, 0, sizeof *q);
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd == -1)
        return -1;
    pthread_mutex_init(&q->mtx, NULL);
    q->max_samples = max_samples;
    return 0;
}

void
sampleq_buf_free(struct sampleq_buf *b)
{
    free(b->samples);
    free(b->events);
    memset(b, 0, sizeof *b);
}

void
sampleq_destroy(struct sampleq *q)
{
    sampleq_buf_free(&q->in);
    pthread_mutex_destroy(&q->mtx);
    close(q->efd);
}

static int
reserve(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, ncap * size);
    if (np == NULL)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

int
sampleq_buf_add(struct sampleq_buf *b, const struct sample *s, size_t n,
                const struct meter_event *ev)
{
    if (reserve((void **)&b->samples, &b->capsamples, b->nsamples + n,
                sizeof *s) == -1 ||
        (ev != NULL && reserve((void **)&b->events, &b->capevents,
                               b->nevents + 1, sizeof *ev) == -1))
        return -1;
    if (n > 0)
        memcpy(b->samples + b->nsamples, s, n * sizeof *s);
    b->nsamples += n;
    if (ev != NULL)
        b->events[b->nevents++] = *ev;
    return 0;
}

static bool
buf_empty(const struct sampleq_buf *b)
{
    return b->nsamples == 0 && b->nevents == 0;
}

/* Wake the main loop: q->in went from empty to not empty. */
static void
wake(struct sampleq *q)
{
    uint64_t one = 1;
    ssize_t r = write(q->efd, &one, sizeof one);
    (void)r; /* EAGAIN only when the counter is full: already readable */
}

void
sampleq_push(struct sampleq *q, const struct sample *s, size_t n,
             const struct meter_event *ev)
{
    struct sampleq_buf *b = &q->in;

    pthread_mutex_lock(&q->mtx);
    bool was_empty = buf_empty(b);
    if (n > 0) {
        if (b->nsamples + n > q->max_samples ||
            sampleq_buf_add(b, s, n, NULL) == -1)
            q->dropped += n;
    }
    if (ev != NULL)
        sampleq_buf_add(b, NULL, 0, ev);
    bool now_empty = buf_empty(b);
    pthread_mutex_unlock(&q->mtx);
    if (was_empty && !now_empty)
        wake(q);
}

void
sampleq_push_batch(struct sampleq *q, struct sampleq_buf *b)
{
    if (buf_empty(b))
        return;
    pthread_mutex_lock(&q->mtx);
    bool was_empty = buf_empty(&q->in);
    if (was_empty && b->nsamples <= q->max_samples) {
        /* Nothing queued: hand the whole buffer over, keep q's. */
        struct sampleq_buf tmp = q->in;
        q->in = *b;
        *b = tmp;
    } else {
        if (q->in.nsamples + b->nsamples > q->max_samples ||
            sampleq_buf_add(&q->in, b->samples, b->nsamples, NULL) == -1)
            q->dropped += b->nsamples;
        for (size_t i = 0; i < b->nevents; i++)
            sampleq_buf_add(&q->in, NULL, 0, &b->events[i]);
    }
    bool now_empty = buf_empty(&q->in);
    pthread_mutex_unlock(&q->mtx);
    b->nsamples = 0;
    b->nevents = 0;
    if (was_empty && !now_empty)
        wake(q);
}

/* A buffer keeps its memory from one batch to the next, but one that grew
 * while the main loop was held up (10,000 meters' readings while it
 * created their RRD files: megabytes) gives it back once a batch uses less
 * than a quarter of it, and grows again as needed. */
#define KEEP_SAMPLES 16384
#define KEEP_EVENTS 1024

static void
buf_shrink(struct sampleq_buf *b)
{
    if (b->capsamples > KEEP_SAMPLES && b->nsamples < b->capsamples / 4) {
        free(b->samples);
        b->samples = NULL;
        b->capsamples = 0;
    }
    if (b->capevents > KEEP_EVENTS && b->nevents < b->capevents / 4) {
        free(b->events);
        b->events = NULL;
        b->capevents = 0;
    }
}

void
sampleq_take(struct sampleq *q, struct sampleq_buf *out)
{
    uint64_t v;
    ssize_t r = read(q->efd, &v, sizeof v);
    (void)r;
    buf_shrink(out); /* every buffer passes here, sooner or later */

    pthread_mutex_lock(&q->mtx);
    struct sampleq_buf tmp = q->in;
    q->in = *out;
    q->in.nsamples = 0;
    q->in.nevents = 0;
    *out = tmp;
    pthread_mutex_unlock(&q->mtx);
}

uint64_t
sampleq_dropped(struct sampleq *q)
{
    pthread_mutex_lock(&q->mtx);
    uint64_t n = q->dropped;
    pthread_mutex_unlock(&q->mtx);
    return n;
}
