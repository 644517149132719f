/* The hand-over from bus worker threads to the main loop: samples and meter
 * status changes, woken by an eventfd. */
#ifndef ECMON_SAMPLEQ_H
#define ECMON_SAMPLEQ_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/core/sample.h"

/* A meter's reachability changed, or its counters moved. */
struct meter_event {
    double ts;
    uint32_t meter;
    int online;       /* 1 online, 0 offline */
    uint64_t errors;  /* failed polls since start */
    double last_ok;   /* time of the last good poll, 0 if none */
    char reason[120]; /* why it went offline */
};

struct sampleq_buf {
    struct sample *samples;
    size_t nsamples, capsamples;
    struct meter_event *events;
    size_t nevents, capevents;
};

struct sampleq {
    pthread_mutex_t mtx;
    int efd;               /* readable while something is queued */
    struct sampleq_buf in; /* filled by workers */
    size_t max_samples;    /* beyond this, new samples are dropped */
    uint64_t dropped;
};

/* Returns 0, or -1 with errno set (eventfd). */
int sampleq_init(struct sampleq *q, size_t max_samples);
void sampleq_destroy(struct sampleq *q);

/* Queue one meter's samples of one poll (all or none) and/or an event.
 * Thread-safe; never blocks on the consumer. */
void sampleq_push(struct sampleq *q, const struct sample *s, size_t n,
                  const struct meter_event *ev);

/* Append one poll's samples and/or an event to a batch of the caller's
 * (no lock: the batch is the caller's own). Returns 0, or -1 when out of
 * memory (nothing appended). */
int sampleq_buf_add(struct sampleq_buf *b, const struct sample *s, size_t n,
                    const struct meter_event *ev);

/* Queue everything in batch b at once: one lock, and at most one wake of
 * the main loop for the whole batch. Samples beyond max_samples are dropped
 * (counted); b is left empty, with memory to reuse. Thread-safe. */
void sampleq_push_batch(struct sampleq *q, struct sampleq_buf *b);

/* Main loop: swap the queued items into `out` (whose previous contents are
 * discarded, its memory reused unless they used little of a large buffer)
 * and clear the eventfd. */
void sampleq_take(struct sampleq *q, struct sampleq_buf *out);

void sampleq_buf_free(struct sampleq_buf *b);

/* Samples dropped because the queue was full. Thread-safe. */
uint64_t sampleq_dropped(struct sampleq *q);

#endif
