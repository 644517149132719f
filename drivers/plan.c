/* Pure request planning: a meter's points -> the fewest read requests. */
#include "drivers/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Why greedy gives the fewest requests.
 *
 * Sort the points of one table by address. A request reads one register
 * range, so the points it serves are a run of consecutive points; a run is
 * feasible when its span fits max_regs and each hole inside it is at most
 * max_gap. Feasibility is hereditary: a sub-run of a feasible run has a
 * smaller span and a subset of its holes. A plan is thus a partition of the
 * sorted points into feasible runs. Greedy starts a run at the first point
 * not yet covered and extends it while it stays feasible. Let g_k and o_k be
 * the last points of the k-th run of greedy and of any other plan; we show
 * g_k >= o_k by induction. k = 1: both start at the first point and greedy
 * stops as late as possible. k > 1: by induction g_{k-1} >= o_{k-1}, so
 * greedy's k-th run starts at g_{k-1} + 1, not before the other plan's k-th
 * run (which starts at o_{k-1} + 1). If g_{k-1} >= o_k we are done. Else
 * g_{k-1} + 1 .. o_k is a sub-run of that feasible run, so greedy reaches at
 * least o_k. Hence when the other plan has covered every point after m
 * runs, so has greedy. Tables are independent, so the sum stays minimal.
 * tests/unit/test_plan.c also checks this against exhaustive search. */

static uint32_t
pt_end(const struct conf_point *p)
{
    return (uint32_t)p->address + (uint32_t)conf_type_width(p->type);
}

/* Order (table, address, index): stable, so plans are reproducible. */
static int
before(const struct conf_point *pts, uint16_t a, uint16_t b)
{
    if (pts[a].table != pts[b].table)
        return pts[a].table < pts[b].table;
    if (pts[a].address != pts[b].address)
        return pts[a].address < pts[b].address;
    return a < b;
}

static void
sift_down(const struct conf_point *pts, uint16_t *v, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        uint16_t tmp;

        if (child >= n)
            return;
        if (child + 1 < n && before(pts, v[child], v[child + 1]))
            child++;
        if (!before(pts, v[root], v[child]))
            return;
        tmp = v[root];
        v[root] = v[child];
        v[child] = tmp;
        root = child;
    }
}

/* Heapsort: O(n log n) without extra memory. */
static void
sort_points(const struct conf_point *pts, uint16_t *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(pts, v, i, n);
    for (size_t end = n; end-- > 1;) {
        uint16_t tmp = v[0];
        v[0] = v[end];
        v[end] = tmp;
        sift_down(pts, v, 0, end);
    }
}

/* Fill r with the range of the sorted points idx[first .. first + n - 1]. */
static void
make_req(const struct plan *pl, struct plan_req *r, size_t first, size_t n)
{
    const struct conf_point *p = &pl->pts[pl->idx[first]];
    uint32_t end = pt_end(p);

    for (size_t k = first + 1; k < first + n; k++) {
        uint32_t e = pt_end(&pl->pts[pl->idx[k]]);
        if (e > end)
            end = e;
    }
    memset(r, 0, sizeof *r);
    r->table = p->table;
    r->addr = p->address;
    r->count = (uint16_t)(end - p->address);
    r->first = (uint16_t)first;
    r->npoints = (uint16_t)n;
}

int
plan_build(struct plan *pl, const struct conf_point *pts, size_t n,
           unsigned max_regs, unsigned max_gap)
{
    memset(pl, 0, sizeof *pl);
    if (max_regs < 1)
        max_regs = 1;
    if (max_regs > PLAN_MAX_REGS)
        max_regs = PLAN_MAX_REGS;
    pl->max_regs = max_regs;
    pl->max_gap = max_gap;
    pl->pts = pts;
    if (n == 0)
        return 0;
    if (n > UINT16_MAX) {
        errno = EINVAL;
        return -1;
    }
    /* Every request keeps at least one point, so n requests always do,
     * also after any plan_split(). */
    pl->idx = malloc(n * sizeof *pl->idx);
    pl->reqs = malloc(n * sizeof *pl->reqs);
    if (pl->idx == NULL || pl->reqs == NULL) {
        plan_free(pl);
        return -1;
    }
    pl->npoints = n;
    for (size_t i = 0; i < n; i++)
        pl->idx[i] = (uint16_t)i;
    sort_points(pts, pl->idx, n);

    for (size_t k = 0; k < n;) {
        const struct conf_point *p = &pts[pl->idx[k]];
        uint32_t start = p->address, end = pt_end(p);
        size_t j = k + 1;

        for (; j < n; j++) {
            const struct conf_point *q = &pts[pl->idx[j]];
            uint32_t qend = pt_end(q);
            uint32_t gap = q->address > end ? q->address - end : 0;
            uint32_t new_end = qend > end ? qend : end;

            if (q->table != p->table || gap > max_gap ||
                new_end - start > max_regs)
                break;
            end = new_end;
        }
        make_req(pl, &pl->reqs[pl->nreqs++], k, j - k);
        k = j;
    }
    return 0;
}

/* The end (exclusive) of the hole-free part of sorted points that starts at
 * position k and stops before position last. */
static size_t
part_end(const struct plan *pl, size_t k, size_t last)
{
    uint32_t end = pt_end(&pl->pts[pl->idx[k]]);

    for (k++; k < last; k++) {
        const struct conf_point *q = &pl->pts[pl->idx[k]];

        if (q->address > end) /* a hole */
            break;
        if (pt_end(q) > end)
            end = pt_end(q);
    }
    return k;
}

int
plan_split(struct plan *pl, size_t i)
{
    size_t first, last, nparts = 0;

    if (i >= pl->nreqs)
        return -1;
    if (pl->reqs[i].npoints <= 1) {
        pl->reqs[i].dead = true;
        return 1;
    }
    first = pl->reqs[i].first;
    last = first + pl->reqs[i].npoints;
    for (size_t k = first; k < last; k = part_end(pl, k, last))
        nparts++;
    if (nparts == 1) /* no hole: halves by points */
        nparts = 2;

    /* Room: every request keeps a point, so nreqs + nparts - 1 <= npoints. */
    memmove(&pl->reqs[i + nparts], &pl->reqs[i + 1],
            (pl->nreqs - i - 1) * sizeof *pl->reqs);
    pl->nreqs += nparts - 1;
    if (nparts == 2 && part_end(pl, first, last) == last) {
        size_t half = (last - first) / 2;
        make_req(pl, &pl->reqs[i], first, half);
        make_req(pl, &pl->reqs[i + 1], first + half, last - first - half);
    } else {
        size_t j = i;
        for (size_t k = first, e; k < last; k = e) {
            e = part_end(pl, k, last);
            make_req(pl, &pl->reqs[j++], k, e - k);
        }
    }
    return (int)nparts;
}

void
plan_retry_dead(struct plan *pl)
{
    for (size_t i = 0; i < pl->nreqs; i++) {
        if (pl->reqs[i].dead) {
            pl->reqs[i].dead = false;
            pl->reqs[i].fails = 0;
        }
    }
}

void
plan_free(struct plan *pl)
{
    free(pl->reqs);
    free(pl->idx);
    pl->reqs = NULL;
    pl->idx = NULL;
    pl->nreqs = 0;
    pl->npoints = 0;
}
