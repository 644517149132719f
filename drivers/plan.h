/* Pure request planning: a meter's points -> the fewest Modbus read requests.
 */
#ifndef ECMON_PLAN_H
#define ECMON_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define PLAN_MAX_REGS                                                          \
    125 /* Modbus: at most 125 registers per FC 03/04 read                     \
         */

/* One read request. Its points are plan.idx[first .. first + npoints - 1],
 * indices into the profile's point array, sorted by address. */
struct plan_req {
    enum conf_table table;
    uint16_t addr;
    uint16_t count;
    uint16_t first;
    uint16_t npoints;
    uint16_t fails; /* consecutive exception answers to this request */
    bool dead;      /* a single point the device rejects: not requested
                       until plan_retry_dead() */
};

struct plan {
    struct plan_req *reqs;
    size_t nreqs;
    uint16_t *idx; /* point indices ordered by (table, address) */
    size_t npoints;
    unsigned max_regs, max_gap;
    const struct conf_point *pts; /* the planned points (not owned): they
                                     must outlive the plan */
};

/* Build the plan for `n` points: group per table, merge neighbours while the
 * hole between them is at most max_gap registers and the request stays within
 * max_regs (1..125). Returns 0, or -1 on allocation failure.
 * The plan has the fewest requests these limits allow (greedy in address
 * order; the proof is in plan.c). max_regs is clamped to 1..125; a point
 * wider than max_regs gets a request of its own width. Points must not
 * overlap or pass register 65535 (config validation). Allocates twice
 * (idx and reqs, room for one request per point); nothing else allocates.
 * Also returns -1 (errno EINVAL) for more than 65535 points. */
int plan_build(struct plan *pl, const struct conf_point *pts, size_t n,
               unsigned max_regs, unsigned max_gap);

/* The device answered request `i` with an exception (e.g. illegal data
 * address): split it so that every point still gets read. A request of
 * several points becomes requests that each read through no unrequested
 * register (first split at holes, then in halves); a single-point request
 * is marked dead. The plan remembers the split (it is the plan from now on).
 * Returns the number of requests that replaced request i (>= 1), or -1 on
 * allocation failure.
 * The new requests take positions i .. i + n - 1 (later ones move up) with
 * fails 0. Never allocates in fact (build left room); -1 only for i out of
 * range. A hole-free block with one rejected point ends, after repeated
 * splits, in at most 1 + ceil(log2(points)) requests (one of them dead). */
int plan_split(struct plan *pl, size_t i);

/* Make dead requests live again (call rarely, e.g. once an hour), so a
 * device whose map was fixed is read again. Their fails go back to 0; the
 * requests stay split (plan_build again to merge them). */
void plan_retry_dead(struct plan *pl);

void plan_free(struct plan *pl);

#endif
