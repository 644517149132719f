/* Unit tests of drivers/plan.c: request merging, minimality, splitting. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/plan.h"

#define MAXPTS 256

static struct conf_point
mkpt(enum conf_table table, unsigned addr, enum conf_type type)
{
    struct conf_point p;

    memset(&p, 0, sizeof p);
    p.table = table;
    p.address = (uint16_t)addr;
    p.type = type;
    p.scale = 1.0;
    return p;
}

static unsigned
width(const struct conf_point *p)
{
    return (unsigned)conf_type_width(p->type);
}

/* The invariants every plan keeps, also after plan_split: requests
 * partition the sorted points in order, each covers its points exactly from
 * the first one's address, and stays within the limits (a lone point wider
 * than max_regs excepted). */
static void
check_plan(const struct plan *pl, const struct conf_point *pts, size_t n)
{
    int seen[MAXPTS] = {0};
    size_t next = 0;

    assert_int_equal(pl->npoints, n);
    assert_true(pl->nreqs <= n);
    for (size_t k = 0; k < n; k++) {
        assert_true(pl->idx[k] < n);
        assert_int_equal(seen[pl->idx[k]], 0);
        seen[pl->idx[k]] = 1;
        if (k > 0) {
            const struct conf_point *a = &pts[pl->idx[k - 1]];
            const struct conf_point *b = &pts[pl->idx[k]];
            assert_true(a->table < b->table ||
                        (a->table == b->table && a->address <= b->address));
        }
    }
    for (size_t i = 0; i < pl->nreqs; i++) {
        const struct plan_req *r = &pl->reqs[i];
        unsigned end = r->addr;

        assert_int_equal(r->first, next);
        assert_true(r->npoints >= 1);
        next += r->npoints;
        assert_true(next <= n);
        assert_int_equal(pts[pl->idx[r->first]].address, r->addr);
        for (size_t k = r->first; k < (size_t)r->first + r->npoints; k++) {
            const struct conf_point *p = &pts[pl->idx[k]];
            assert_int_equal(p->table, r->table);
            if (p->address > end)
                assert_true(p->address - end <= pl->max_gap);
            if (p->address + width(p) > end)
                end = p->address + width(p);
        }
        assert_int_equal(r->count, end - r->addr);
        assert_true(r->count <= pl->max_regs || r->npoints == 1);
        assert_true(r->count <= PLAN_MAX_REGS);
    }
    assert_int_equal(next, n);
}

static void
build(struct plan *pl, const struct conf_point *pts, size_t n,
      unsigned max_regs, unsigned max_gap)
{
    assert_int_equal(plan_build(pl, pts, n, max_regs, max_gap), 0);
    check_plan(pl, pts, n);
}

static void
test_contiguous_float32(void **state)
{
    struct conf_point pts[4];
    struct plan pl;

    (void)state;
    for (int i = 0; i < 4; i++)
        pts[i] = mkpt(TABLE_INPUT, 100 + 2 * (unsigned)i, TYPE_FLOAT32);
    build(&pl, pts, 4, 125, 8);
    assert_int_equal(pl.nreqs, 1);
    assert_int_equal(pl.reqs[0].addr, 100);
    assert_int_equal(pl.reqs[0].count, 8);
    assert_int_equal(pl.reqs[0].npoints, 4);
    assert_int_equal(pl.reqs[0].table, TABLE_INPUT);
    assert_false(pl.reqs[0].dead);
    assert_int_equal(pl.reqs[0].fails, 0);
    plan_free(&pl);
}

static void
test_far_blocks(void **state)
{
    struct conf_point pts[4] = {
        mkpt(TABLE_HOLDING, 0, TYPE_FLOAT32),
        mkpt(TABLE_HOLDING, 2, TYPE_FLOAT32),
        mkpt(TABLE_HOLDING, 204, TYPE_FLOAT32), /* 200 registers later */
        mkpt(TABLE_HOLDING, 206, TYPE_FLOAT32),
    };
    struct plan pl;

    (void)state;
    build(&pl, pts, 4, 125, 8);
    assert_int_equal(pl.nreqs, 2);
    assert_int_equal(pl.reqs[0].addr, 0);
    assert_int_equal(pl.reqs[0].count, 4);
    assert_int_equal(pl.reqs[1].addr, 204);
    assert_int_equal(pl.reqs[1].count, 4);
    plan_free(&pl);
}

static void
test_two_tables(void **state)
{
    /* Same addresses on FC 03 and FC 04: never one request. */
    struct conf_point pts[4] = {
        mkpt(TABLE_INPUT, 0, TYPE_FLOAT32),
        mkpt(TABLE_HOLDING, 0, TYPE_FLOAT32),
        mkpt(TABLE_INPUT, 2, TYPE_FLOAT32),
        mkpt(TABLE_HOLDING, 2, TYPE_FLOAT32),
    };
    struct plan pl;

    (void)state;
    build(&pl, pts, 4, 125, 8);
    assert_int_equal(pl.nreqs, 2);
    assert_int_equal(pl.reqs[0].table, TABLE_HOLDING);
    assert_int_equal(pl.reqs[0].count, 4);
    assert_int_equal(pl.reqs[1].table, TABLE_INPUT);
    assert_int_equal(pl.reqs[1].count, 4);
    plan_free(&pl);
}

static void
test_126_registers(void **state)
{
    struct conf_point pts[126];
    struct plan pl;

    (void)state;
    for (unsigned i = 0; i < 126; i++)
        pts[i] = mkpt(TABLE_HOLDING, i, TYPE_UINT16);
    build(&pl, pts, 126, 125, 8);
    assert_int_equal(pl.nreqs, 2);
    assert_int_equal(pl.reqs[0].count, 125);
    assert_int_equal(pl.reqs[1].addr, 125);
    assert_int_equal(pl.reqs[1].count, 1);
    plan_free(&pl);

    /* 63 float32: a value is never cut, 62 * 2 = 124 then 2. */
    for (unsigned i = 0; i < 63; i++)
        pts[i] = mkpt(TABLE_INPUT, 2 * i, TYPE_FLOAT32);
    build(&pl, pts, 63, 125, 8);
    assert_int_equal(pl.nreqs, 2);
    assert_int_equal(pl.reqs[0].count, 124);
    assert_int_equal(pl.reqs[1].count, 2);
    plan_free(&pl);

    /* max_regs above 125 is clamped. */
    build(&pl, pts, 63, 1000, 8);
    assert_int_equal(pl.max_regs, PLAN_MAX_REGS);
    assert_int_equal(pl.nreqs, 2);
    plan_free(&pl);
}

static void
test_gap_limit(void **state)
{
    struct conf_point pts[2] = {
        mkpt(TABLE_HOLDING, 10, TYPE_UINT16),
        mkpt(TABLE_HOLDING, 11 + 8, TYPE_UINT16), /* 8 registers between */
    };
    struct plan pl;

    (void)state;
    build(&pl, pts, 2, 125, 8);
    assert_int_equal(pl.nreqs, 1);
    assert_int_equal(pl.reqs[0].count, 10);
    plan_free(&pl);

    build(&pl, pts, 2, 125, 7); /* max_gap + 1 holes */
    assert_int_equal(pl.nreqs, 2);
    plan_free(&pl);

    pts[1].address = 11; /* adjacent: merges even with max_gap 0 */
    build(&pl, pts, 2, 125, 0);
    assert_int_equal(pl.nreqs, 1);
    plan_free(&pl);
}

static void
test_max_regs(void **state)
{
    struct conf_point pts[10];
    struct plan pl;

    (void)state;
    for (unsigned i = 0; i < 10; i++)
        pts[i] = mkpt(TABLE_HOLDING, i, TYPE_UINT16);
    build(&pl, pts, 10, 4, 8);
    assert_int_equal(pl.nreqs, 3);
    assert_int_equal(pl.reqs[0].count, 4);
    assert_int_equal(pl.reqs[1].count, 4);
    assert_int_equal(pl.reqs[2].count, 2);
    plan_free(&pl);

    /* A point wider than max_regs still gets read, alone. */
    pts[0] = mkpt(TABLE_HOLDING, 0, TYPE_FLOAT64);
    pts[1] = mkpt(TABLE_HOLDING, 4, TYPE_UINT16);
    build(&pl, pts, 2, 2, 8);
    assert_int_equal(pl.nreqs, 2);
    assert_int_equal(pl.reqs[0].count, 4);
    plan_free(&pl);

    build(&pl, pts, 2, 0, 8); /* clamped to 1 */
    assert_int_equal(pl.max_regs, 1);
    assert_int_equal(pl.nreqs, 2);
    plan_free(&pl);
}

static void
test_single_and_empty(void **state)
{
    struct conf_point p = mkpt(TABLE_INPUT, 0x1005, TYPE_FLOAT32);
    struct plan pl;

    (void)state;
    build(&pl, &p, 1, 125, 8);
    assert_int_equal(pl.nreqs, 1);
    assert_int_equal(pl.reqs[0].addr, 0x1005);
    assert_int_equal(pl.reqs[0].count, 2);
    assert_int_equal(pl.idx[0], 0);
    plan_free(&pl);

    assert_int_equal(plan_build(&pl, NULL, 0, 125, 8), 0);
    assert_int_equal(pl.nreqs, 0);
    plan_free(&pl);
}

static void
test_unsorted(void **state)
{
    /* Points listed out of order: idx maps back to the caller's array. */
    struct conf_point pts[5] = {
        mkpt(TABLE_INPUT, 8, TYPE_FLOAT32),  /* 0 */
        mkpt(TABLE_INPUT, 0, TYPE_FLOAT32),  /* 1 */
        mkpt(TABLE_HOLDING, 3, TYPE_UINT16), /* 2 */
        mkpt(TABLE_INPUT, 4, TYPE_FLOAT32),  /* 3 */
        mkpt(TABLE_INPUT, 2, TYPE_FLOAT32),  /* 4 */
    };
    static const uint16_t want_idx[5] = {2, 1, 4, 3, 0};
    struct plan pl;

    (void)state;
    build(&pl, pts, 5, 125, 8);
    assert_memory_equal(pl.idx, want_idx, sizeof want_idx);
    assert_int_equal(pl.nreqs, 2);
    assert_int_equal(pl.reqs[0].table, TABLE_HOLDING);
    assert_int_equal(pl.reqs[1].addr, 0);
    assert_int_equal(pl.reqs[1].count, 10);
    assert_int_equal(pl.reqs[1].npoints, 4);
    plan_free(&pl);
}

/* DESIGN §9 register maps. */
static void
test_design_maps(void **state)
{
    /* Eastron SDM630, FC 04 float32: power 0x34, import 0x48, export 0x4A. */
    struct conf_point sdm[3] = {
        mkpt(TABLE_INPUT, 0x0034, TYPE_FLOAT32),
        mkpt(TABLE_INPUT, 0x0048, TYPE_FLOAT32),
        mkpt(TABLE_INPUT, 0x004A, TYPE_FLOAT32),
    };
    /* Generic flowmeter, FC 04: flow 0x1010 float32, total 0x1018
     * int32+float32 (0x1018..0x101B). */
    struct conf_point flow[2] = {
        mkpt(TABLE_INPUT, 0x1010, TYPE_FLOAT32),
        mkpt(TABLE_INPUT, 0x1018, TYPE_INT32_FLOAT32),
    };
    /* Acrel DTSD1352, FC 03: import 0x000A uint32, power 0x016A int32. */
    struct conf_point acrel[2] = {
        mkpt(TABLE_HOLDING, 0x000A, TYPE_UINT32),
        mkpt(TABLE_HOLDING, 0x016A, TYPE_INT32),
    };
    /* TUF-2000, FC 03: flow reg 0 float32, total reg 8 int32. */
    struct conf_point tuf[2] = {
        mkpt(TABLE_HOLDING, 0, TYPE_FLOAT32),
        mkpt(TABLE_HOLDING, 8, TYPE_INT32),
    };
    struct plan pl;

    (void)state;
    /* 0x36 .. 0x47 is an 18-register hole: two requests at the default 8 */
    build(&pl, sdm, 3, 125, 8);
    assert_int_equal(pl.nreqs, 2);
    assert_int_equal(pl.reqs[0].addr, 0x34);
    assert_int_equal(pl.reqs[0].count, 2);
    assert_int_equal(pl.reqs[1].addr, 0x48);
    assert_int_equal(pl.reqs[1].count, 4);
    plan_free(&pl);
    build(&pl, sdm, 3, 125, 18); /* ... and one when 18 are allowed */
    assert_int_equal(pl.nreqs, 1);
    assert_int_equal(pl.reqs[0].count, 0x4C - 0x34);
    plan_free(&pl);

    /* 0x1012 .. 0x1017 is a 6-register hole */
    build(&pl, flow, 2, 125, 8);
    assert_int_equal(pl.nreqs, 1);
    assert_int_equal(pl.reqs[0].addr, 0x1010);
    assert_int_equal(pl.reqs[0].count, 12);
    plan_free(&pl);
    build(&pl, flow, 2, 125, 5);
    assert_int_equal(pl.nreqs, 2);
    plan_free(&pl);

    build(&pl, acrel, 2, 125, 8);
    assert_int_equal(pl.nreqs, 2);
    plan_free(&pl);

    build(&pl, tuf, 2, 125, 8); /* 2 .. 7: a 6-register hole */
    assert_int_equal(pl.nreqs, 1);
    assert_int_equal(pl.reqs[0].count, 10);
    plan_free(&pl);
}

/* ---- A fake device: any request touching a bad register is refused. ---- */

struct device {
    enum conf_table table;
    unsigned char bad[65536 + 8];
};

static int
refuses(const struct device *dev, const struct plan_req *r)
{
    if (r->table != dev->table)
        return 0;
    for (unsigned a = r->addr; a < (unsigned)r->addr + r->count; a++)
        if (dev->bad[a])
            return 1;
    return 0;
}

/* Poll until one whole poll sees no exception, the way the bus worker does:
 * read each live request once; on an exception, split and go on after the
 * new requests (they are read at the next poll). Returns the polls done. */
static int
poll_until_stable(struct plan *pl, const struct device *dev)
{
    for (int polls = 1; polls <= 64; polls++) {
        int refused = 0;

        for (size_t i = 0; i < pl->nreqs; i++) {
            int k;

            if (pl->reqs[i].dead || !refuses(dev, &pl->reqs[i]))
                continue;
            refused = 1;
            pl->reqs[i].fails++;
            k = plan_split(pl, i);
            assert_true(k >= 1);
            i += (size_t)k - 1;
        }
        if (!refused)
            return polls;
    }
    fail_msg("plan did not settle");
    return -1;
}

/* After settling: every point free of bad registers is read by a live
 * request the device accepts; each point on a bad register is dead, alone. */
static void
check_settled(const struct plan *pl, const struct conf_point *pts, size_t n,
              const struct device *dev)
{
    check_plan(pl, pts, n);
    for (size_t i = 0; i < pl->nreqs; i++) {
        const struct plan_req *r = &pl->reqs[i];
        if (r->dead) {
            const struct conf_point *p = &pts[pl->idx[r->first]];
            int on_bad = 0;

            assert_int_equal(r->npoints, 1);
            for (unsigned a = p->address; a < p->address + width(p); a++)
                on_bad |= p->table == dev->table && dev->bad[a];
            assert_true(on_bad);
        } else {
            assert_false(refuses(dev, r));
        }
    }
}

static size_t
count_dead(const struct plan *pl)
{
    size_t d = 0;

    for (size_t i = 0; i < pl->nreqs; i++)
        d += pl->reqs[i].dead;
    return d;
}

static void
test_split_at_holes(void **state)
{
    /* uint16 at 0, 1, 4, 5, 9 merge into [0, 10); the device refuses reads
     * of the unmapped 2, 3, 6, 7, 8. One split, along the holes. */
    struct conf_point pts[5] = {
        mkpt(TABLE_HOLDING, 0, TYPE_UINT16),
        mkpt(TABLE_HOLDING, 1, TYPE_UINT16),
        mkpt(TABLE_HOLDING, 4, TYPE_UINT16),
        mkpt(TABLE_HOLDING, 5, TYPE_UINT16),
        mkpt(TABLE_HOLDING, 9, TYPE_UINT16),
    };
    static struct device dev;
    struct plan pl;

    (void)state;
    memset(&dev, 0, sizeof dev);
    dev.table = TABLE_HOLDING;
    dev.bad[2] = dev.bad[3] = dev.bad[6] = dev.bad[7] = dev.bad[8] = 1;
    build(&pl, pts, 5, 125, 8);
    assert_int_equal(pl.nreqs, 1);
    pl.reqs[0].fails = 3;
    assert_int_equal(plan_split(&pl, 0), 3);
    check_plan(&pl, pts, 5);
    assert_int_equal(pl.nreqs, 3);
    assert_int_equal(pl.reqs[0].addr, 0);
    assert_int_equal(pl.reqs[0].count, 2);
    assert_int_equal(pl.reqs[1].addr, 4);
    assert_int_equal(pl.reqs[1].count, 2);
    assert_int_equal(pl.reqs[2].addr, 9);
    assert_int_equal(pl.reqs[2].count, 1);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(pl.reqs[i].fails, 0);
    assert_int_equal(poll_until_stable(&pl, &dev), 1);
    check_settled(&pl, pts, 5, &dev);
    assert_int_equal(count_dead(&pl), 0);
    assert_int_equal(plan_split(&pl, 3), -1); /* out of range */
    plan_free(&pl);
}

/*
 * A hole-free block of m points with one rejected point is halved until the
 * rejected point is alone: each split leaves one accepted half behind and
 * the part holding the bad point at least halves, so the block ends as at
 * most 1 + ceil(log2 m) requests (one dead). That takes ceil(log2 m) + 1
 * refused polls (the last one marks the point dead), then a clean one.
 * The best possible is 3 (before, after, dead); for m = 8 halving gives 4.
 */
static void
test_split_bad_middle_point(void **state)
{
    struct conf_point pts[10];
    static struct device dev;
    struct plan pl;
    int polls;

    (void)state;
    for (unsigned i = 0; i < 8; i++)
        pts[i] = mkpt(TABLE_INPUT, 0x100 + 2 * i, TYPE_FLOAT32);
    /* another block, far away, that must not be disturbed */
    pts[8] = mkpt(TABLE_INPUT, 0x400, TYPE_FLOAT32);
    pts[9] = mkpt(TABLE_INPUT, 0x402, TYPE_FLOAT32);
    memset(&dev, 0, sizeof dev);
    dev.table = TABLE_INPUT;
    dev.bad[0x100 + 2 * 3 + 1] = 1; /* point 3: 0x106..0x107 */

    build(&pl, pts, 10, 125, 8);
    assert_int_equal(pl.nreqs, 2);
    polls = poll_until_stable(&pl, &dev);
    check_settled(&pl, pts, 10, &dev);
    assert_int_equal(count_dead(&pl), 1);
    /* halves: [0..3][4..7] -> [0,1][2,3] -> [2][3]: 4 for the block */
    assert_int_equal(pl.nreqs, 1 + 4);
    assert_true(pl.nreqs - 1 <= 1 + 3); /* 1 + ceil(log2 8) */
    assert_int_equal(polls, 3 + 1 + 1);
    assert_int_equal(pl.reqs[pl.nreqs - 1].addr, 0x400);
    assert_int_equal(pl.reqs[pl.nreqs - 1].count, 4);
    for (size_t i = 0; i < pl.nreqs; i++)
        if (pl.reqs[i].dead)
            assert_int_equal(pl.idx[pl.reqs[i].first], 3);

    /* plan_retry_dead: alive again, and dead again after one refusal. */
    pl.reqs[2].fails = 5;
    plan_retry_dead(&pl);
    assert_int_equal(count_dead(&pl), 0);
    for (size_t i = 0; i < pl.nreqs; i++)
        assert_int_equal(pl.reqs[i].fails, 0);
    assert_int_equal(pl.nreqs, 5);
    assert_int_equal(poll_until_stable(&pl, &dev), 2);
    check_settled(&pl, pts, 10, &dev);
    assert_int_equal(count_dead(&pl), 1);
    assert_int_equal(pl.nreqs, 5);

    /* The map got fixed: after a retry every point is read. */
    dev.bad[0x107] = 0;
    plan_retry_dead(&pl);
    assert_int_equal(poll_until_stable(&pl, &dev), 1);
    assert_int_equal(count_dead(&pl), 0);
    plan_free(&pl);
}

static void
test_split_single_point(void **state)
{
    struct conf_point pts[3] = {
        mkpt(TABLE_HOLDING, 0, TYPE_FLOAT32),
        mkpt(TABLE_HOLDING, 2, TYPE_FLOAT32),
        mkpt(TABLE_HOLDING, 100, TYPE_UINT16),
    };
    struct plan pl;

    (void)state;
    build(&pl, pts, 3, 125, 8);
    assert_int_equal(pl.nreqs, 2);
    assert_int_equal(plan_split(&pl, 1), 1);
    assert_int_equal(pl.nreqs, 2);
    assert_true(pl.reqs[1].dead);
    assert_false(pl.reqs[0].dead);
    assert_int_equal(pl.reqs[0].npoints, 2);
    /* splitting again changes nothing */
    assert_int_equal(plan_split(&pl, 1), 1);
    assert_true(pl.reqs[1].dead);
    check_plan(&pl, pts, 3);
    plan_free(&pl);
}

/* ---- Randomized checks. ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static unsigned
rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* Up to n non-overlapping points of random types and holes on 1 or 2
 * tables, listed in a shuffled order. */
static size_t
random_points(struct conf_point *pts, size_t maxn, unsigned maxhole)
{
    size_t n = 1 + rnd((unsigned)maxn);
    unsigned next[2] = {rnd(50), rnd(50)};
    int tables = 1 + (int)rnd(2);

    for (size_t i = 0; i < n; i++) {
        enum conf_table t = (enum conf_table)rnd((unsigned)tables);
        enum conf_type ty = (enum conf_type)rnd(TYPE_UINT32_MILLI + 1);

        next[t] += rnd(maxhole + 1);
        pts[i] = mkpt(t, next[t], ty);
        next[t] += (unsigned)conf_type_width(ty);
    }
    for (size_t i = n; i-- > 1;) {
        size_t j = rnd((unsigned)i + 1);
        struct conf_point tmp = pts[i];
        pts[i] = pts[j];
        pts[j] = tmp;
    }
    return n;
}

/* Fewest requests by trying every way to cut the (table, address) order
 * into runs: 2^(n-1) cut sets. A run is a request when it stays on one
 * table, has no hole above max_gap, and spans at most max_regs (or is a
 * single point). */
static size_t
brute_force_min(const struct conf_point *pts, size_t n, unsigned max_regs,
                unsigned max_gap)
{
    const struct conf_point *s[8];
    size_t best = SIZE_MAX;

    for (size_t i = 0; i < n; i++) { /* selection sort by table, address */
        s[i] = &pts[i];
        for (size_t j = i; j-- > 0 && (s[j]->table > s[j + 1]->table ||
                                       (s[j]->table == s[j + 1]->table &&
                                        s[j]->address > s[j + 1]->address));) {
            const struct conf_point *tmp = s[j];
            s[j] = s[j + 1];
            s[j + 1] = tmp;
        }
    }
    for (unsigned cuts = 0; cuts < (1u << (n - 1)); cuts++) {
        size_t runs = 0, start = 0;
        int ok = 1;

        for (size_t k = 1; k <= n && ok; k++) {
            if (k < n && !(cuts & (1u << (k - 1))))
                continue;
            /* run s[start .. k - 1] */
            unsigned lo = s[start]->address, end = lo + width(s[start]);
            for (size_t m = start + 1; m < k; m++) {
                if (s[m]->table != s[start]->table ||
                    s[m]->address - end > max_gap)
                    ok = 0;
                end = s[m]->address + width(s[m]);
            }
            if (k - start > 1 && end - lo > max_regs)
                ok = 0;
            runs++;
            start = k;
        }
        if (ok && runs < best)
            best = runs;
    }
    return best;
}

static void
test_minimal_brute_force(void **state)
{
    struct conf_point pts[8];
    struct plan pl;

    (void)state;
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = random_points(pts, 8, 1 + rnd(12));
        unsigned max_regs = 1 + rnd(24), max_gap = rnd(10);
        size_t want = brute_force_min(pts, n, max_regs, max_gap);

        build(&pl, pts, n, max_regs, max_gap);
        if (pl.nreqs != want)
            fail_msg("case %d: %zu points, max_regs %u, max_gap %u: "
                     "%zu requests, brute force %zu",
                     iter, n, max_regs, max_gap, pl.nreqs, want);
        plan_free(&pl);
    }
}

/* Random devices refusing random registers: the plan always settles with
 * every readable point read and only refused points dead. */
static void
test_split_random(void **state)
{
    static struct conf_point pts[64];
    static struct device dev;
    struct plan pl;

    (void)state;
    for (int iter = 0; iter < 500; iter++) {
        size_t n = random_points(pts, 64, rnd(4));
        unsigned nbad = rnd(6);

        memset(&dev, 0, sizeof dev);
        dev.table = (enum conf_table)rnd(2);
        for (unsigned b = 0; b < nbad; b++)
            dev.bad[rnd(300)] = 1;
        build(&pl, pts, n, 4 + rnd(122), rnd(10));
        poll_until_stable(&pl, &dev);
        check_settled(&pl, pts, n, &dev);
        plan_retry_dead(&pl);
        assert_int_equal(count_dead(&pl), 0);
        poll_until_stable(&pl, &dev);
        check_settled(&pl, pts, n, &dev);
        plan_free(&pl);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_float32),
        cmocka_unit_test(test_far_blocks),
        cmocka_unit_test(test_two_tables),
        cmocka_unit_test(test_126_registers),
        cmocka_unit_test(test_gap_limit),
        cmocka_unit_test(test_max_regs),
        cmocka_unit_test(test_single_and_empty),
        cmocka_unit_test(test_unsorted),
        cmocka_unit_test(test_design_maps),
        cmocka_unit_test(test_split_at_holes),
        cmocka_unit_test(test_split_bad_middle_point),
        cmocka_unit_test(test_split_single_point),
        cmocka_unit_test(test_minimal_brute_force),
        cmocka_unit_test(test_split_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
