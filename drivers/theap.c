/* Pure timers: a binary min-heap of deadlines. */
#include "drivers/theap.h"

#include <stdint.h>
#include <stdlib.h>

/* a fires before b: equal deadlines go by address, so that timers of one
 * array set for the same time fire in array order. */
static int
before(const struct theap_node *a, const struct theap_node *b)
{
    if (a->at != b->at)
        return a->at < b->at;
    return (uintptr_t)a < (uintptr_t)b;
}

int
theap_init(struct theap *h, size_t cap)
{
    h->n = 0;
    h->cap = cap;
    h->v = malloc((cap ? cap : 1) * sizeof *h->v);
    return h->v ? 0 : -1;
}

void
theap_free(struct theap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

static void
place(struct theap *h, size_t i, struct theap_node *t)
{
    h->v[i] = t;
    t->pos = i + 1;
}

static void
sift_up(struct theap *h, size_t i)
{
    struct theap_node *t = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(t, h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void
sift_down(struct theap *h, size_t i)
{
    struct theap_node *t = h->v[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && before(h->v[child + 1], h->v[child]))
            child++;
        if (!before(h->v[child], t))
            break;
        place(h, i, h->v[child]);
        i = child;
    }
    place(h, i, t);
}

int
theap_set(struct theap *h, struct theap_node *t, double at)
{
    if (t->pos == 0) {
        if (h->n == h->cap)
            return -1;
        t->at = at;
        place(h, h->n++, t);
        sift_up(h, h->n - 1);
        return 0;
    }
    t->at = at;
    sift_up(h, t->pos - 1);
    sift_down(h, t->pos - 1);
    return 0;
}

void
theap_del(struct theap *h, struct theap_node *t)
{
    if (t->pos == 0)
        return;
    size_t i = t->pos - 1;
    struct theap_node *last = h->v[--h->n];
    t->pos = 0;
    if (last == t)
        return;
    place(h, i, last);
    /* The moved timer may belong above or below its new place. */
    sift_up(h, i);
    sift_down(h, last->pos - 1);
}
