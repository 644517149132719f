/* Pure timers: a binary min-heap of deadlines with O(log n) insert, move and
 * removal, and no allocation after theap_init. */
#ifndef ECMON_THEAP_H
#define ECMON_THEAP_H

#include <stdbool.h>
#include <stddef.h>

/* A timer, embedded in its owner (recover the owner with offsetof). */
struct theap_node {
    double at;  /* deadline */
    size_t pos; /* index in the heap + 1; 0 while not queued */
};

struct theap {
    struct theap_node **v;
    size_t n, cap;
};

/* Room for `cap` timers at once. Returns 0, or -1 when out of memory. */
int theap_init(struct theap *h, size_t cap);
void theap_free(struct theap *h);

/* Queue t at `at`, or move it there if queued. Returns -1 when the heap
 * is full (cap timers queued), else 0. */
int theap_set(struct theap *h, struct theap_node *t, double at);

/* Take t out of the heap if it is queued. */
void theap_del(struct theap *h, struct theap_node *t);

static inline bool
theap_queued(const struct theap_node *t)
{
    return t->pos != 0;
}

/* The earliest timer, or NULL if none is queued. Of timers with the same
 * deadline, the one at the lowest address (so, in one array, the first). */
static inline struct theap_node *
theap_top(const struct theap *h)
{
    return h->n ? h->v[0] : NULL;
}

#endif
