/* The RRD store: the only librrd user; maps librrd's errors once, here. */
#include "rrd/rrd_store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <rrd.h>
#include <rrd_client.h>

#include "rrd/rrd_layout.h"

#define DIR_MODE 0750

/* The longest time between updates of quota and capacity files: the daemon
 * writes them every minute, a replay once per hour of its readings. The
 * heartbeat (3 intervals) must cover both, or a replay stores unknowns. */
#define AGGREGATE_INTERVAL 3600.0

/* Most updates of one file written in one librrd call. */
#define BATCH_MAX 64

/* One RRD file of the store (a meter's, a quota's or the capacity file). */
struct rrdfile {
    struct rrdlayout *lay;
    const char *name; /* the file as librrd gets it: path, or relpath (TCP) */
    const char *sources; /* what its data sources must be, for errors */
    int64_t last;        /* last second written; valid when ready */
    bool ready;          /* the file exists with our data sources */
    bool mismatch;       /* the file has other data sources: refused */
    bool dirty;          /* updated through rrdcached since the last flush */
    /* Updates waiting to be written together (meter files, written
     * directly): nbatch NUL-terminated lines in batch[0 .. batch_len). */
    char *batch;
    size_t batch_len, batch_cap;
    unsigned nbatch;
    int64_t first; /* second of the oldest waiting update */
    double phase;  /* where in each period of batch_s the file is written */
};

/* files[] holds the meters' files (in conf.meters order), then the quotas'
 * (the park's, then each enterprise's in conf order), then the capacity
 * file if the park has a WWTP. */
struct rrdstore {
    char *daemon; /* rrdcached address, NULL: write the files directly */
    bool remote;  /* rrdcached over TCP: files named relative to rrd_dir */
    struct rrdfile *files;
    size_t nfiles;  /* files laid out so far (all of them once open) */
    size_t nmeters; /* files[0 .. nmeters) */
    /* Quota files of owner k (0: the park, e + 1: enterprise e) are
     * files[quota_base[k] .. quota_base[k + 1]); nowners + 1 entries. */
    size_t *quota_base;
    size_t nowners;
    struct rrdfile *capacity; /* NULL without park.wwtp */
    char *line;               /* the update line being sent, line_max bytes */
    size_t line_max;
    /* Meter files written directly keep their updates for up to batch_s
     * seconds (0: write each at once) and write them in one librrd call:
     * librrd opens, maps and checks the whole file on every call, which
     * costs far more than writing one more row. */
    int batch_s;
    const char **argv; /* BATCH_MAX lines for rrd_update_r */
};

/* Stores using librrd's one rrdcached connection. */
static int daemon_users;

/* librrd's error for a failed call that returned `status`: the thread's
 * librrd error if set; else, for the rrdcached client, a positive status is
 * an errno value. */
static void
rrd_errf(char *err, size_t errlen, const char *op, const char *file, int status)
{
    const char *msg;

    if (rrd_test_error())
        msg = rrd_get_error();
    else if (status > 0)
        msg = strerror(status);
    else
        msg = "failed (no detail from librrd)";
    rrdlayout_errf(err, errlen, "rrd %s %s: %s", op, file, msg);
}

/* Make the directories above `path` (not the file itself). */
static int
mkdir_parents(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    size_t n = strlen(path), i;

    if (n >= sizeof(buf)) {
        rrdlayout_errf(err, errlen, "%s: path too long", path);
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (i = 1; i < n; i++) {
        if (buf[i] != '/' || buf[i - 1] == '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, DIR_MODE) != 0 && errno != EEXIST) {
            rrdlayout_errf(err, errlen, "mkdir %s: %s", buf, strerror(errno));
            return -1;
        }
        buf[i] = '/';
    }
    return 0;
}

static int
daemon_connect(struct rrdstore *st, char *err, size_t errlen)
{
    int status;

    if (rrdc_is_connected(st->daemon))
        return 0;
    rrd_clear_error();
    status = rrdc_connect(st->daemon);
    if (status != 0 || !rrdc_is_connected(st->daemon)) {
        rrd_errf(err, errlen, "connect", st->daemon, status);
        return -1;
    }
    return 0;
}

static void
mismatch_err(const struct rrdfile *f, char *err, size_t errlen)
{
    rrdlayout_errf(
        err, errlen,
        "%s: its data sources are not %s (%s); move the file aside to start "
        "a new one",
        f->name, f->sources, f->lay->template_);
}

/* Check an rrd_info list of f's file: its data sources must be the layout's,
 * in order. Sets f->last from last_update and f->ready, or f->mismatch. */
static int
check_info(struct rrdfile *f, const rrd_info_t *info, char *err, size_t errlen)
{
    const struct rrdlayout *l = f->lay;
    const rrd_info_t *i;
    size_t seen = 0;
    bool have_last = false, same = true;
    unsigned long last = 0;

    for (i = info; i != NULL; i = i->next) {
        const char *end;
        size_t len;

        if (i->type == RD_I_CNT && strcmp(i->key, "last_update") == 0) {
            last = i->value.u_cnt;
            have_last = true;
            continue;
        }
        if (i->type != RD_I_CNT || strncmp(i->key, "ds[", 3) != 0 ||
            (end = strstr(i->key, "].index")) == NULL || end[7] != '\0')
            continue;
        len = (size_t)(end - (i->key + 3));
        seen++;
        if (i->value.u_cnt >= l->nds ||
            strncmp(l->ds_names[i->value.u_cnt], i->key + 3, len) != 0 ||
            l->ds_names[i->value.u_cnt][len] != '\0')
            same = false;
    }
    if (!have_last || last > INT64_MAX) {
        rrdlayout_errf(err, errlen, "rrd info %s: no last_update", f->name);
        return -1;
    }
    if (!same || seen != l->nds) {
        f->mismatch = true;
        mismatch_err(f, err, errlen);
        return -1;
    }
    f->last = (int64_t)last;
    f->ready = true;
    return 0;
}

/* First sight of f's file (or after an error): create it, or read its last
 * update and check its data sources. */
static int
prepare(struct rrdstore *st, struct rrdfile *f, int64_t sec, char *err,
        size_t errlen)
{
    const struct rrdlayout *l = f->lay;
    rrd_info_t *info;
    struct stat sb;
    char why[256];
    int status;

    if (st->daemon == NULL) {
        if (stat(l->path, &sb) == 0) {
            rrd_clear_error();
            if ((info = rrd_info_r(l->path)) == NULL) {
                rrd_errf(err, errlen, "info", l->path, 0);
                return -1;
            }
            status = check_info(f, info, err, errlen);
            rrd_info_free(info);
            return status;
        }
        if (errno != ENOENT) {
            rrdlayout_errf(err, errlen, "%s: %s", l->path, strerror(errno));
            return -1;
        }
        if (mkdir_parents(l->path, err, errlen) < 0)
            return -1;
        rrd_clear_error();
        status =
            rrd_create_r2(l->path, l->step, (time_t)(sec - 1),
                          1 /* no_overwrite */, NULL, NULL, l->argc, l->argv);
        if (status != 0) {
            rrd_errf(err, errlen, "create", l->path, 0);
            return -1;
        }
        /* librrd makes it 0644 whatever the umask: state is not for
         * everyone to read. */
        chmod(l->path, 0640);
        f->last = sec - 1;
        f->ready = true;
        return 0;
    }

    if (daemon_connect(st, err, errlen) < 0)
        return -1;
    /* Through a unix socket librrd resolves the directory of every file it
     * names (realpath) and sends nothing if that fails: make it first. */
    if (!st->remote && mkdir_parents(l->path, err, errlen) < 0)
        return -1;
    /* FLUSH writes what rrdcached holds for the file, so that INFO shows
     * its true last update (LAST is rounded down to the step). */
    rrd_clear_error();
    rrdc_flush(f->name);
    rrd_clear_error();
    if ((info = rrdc_info(f->name)) != NULL) {
        status = check_info(f, info, err, errlen);
        rrd_info_free(info);
        return status;
    }
    /* No file we can read: create it. FORGET first: what rrdcached may
     * still hold for a file that is gone (moved aside) cannot be written,
     * and its last update time would refuse ours. */
    snprintf(why, sizeof(why), "%s",
             rrd_test_error() ? rrd_get_error() : "failed");
    rrd_clear_error();
    rrdc_forget(f->name);
    rrd_clear_error();
    status = rrdc_create(f->name, l->step, (time_t)(sec - 1),
                         1 /* no_overwrite */, l->argc, l->argv);
    if (status != 0) {
        char cwhy[256];

        rrd_errf(cwhy, sizeof(cwhy), "create", f->name, status);
        rrdlayout_errf(err, errlen, "rrd info %s: %s; %s", f->name, why, cwhy);
        /* rrdcached 1.7 answers some CREATE errors with two lines, which
         * would shift every later answer: start a fresh connection. */
        rrdc_disconnect();
        return -1;
    }
    f->last = sec - 1;
    f->ready = true;
    return 0;
}

/* Bytes of the rrdcached commands for f, to check against RRD_CMD_MAX. */
static size_t
daemon_cmd_len(const struct rrdfile *f)
{
    const struct rrdlayout *l = f->lay;
    size_t create = 64 + strlen(l->path), update, i;

    for (i = 0; i < (size_t)l->argc; i++)
        create += strlen(l->argv[i]) + 1;
    update = 16 + strlen(l->path) + l->line_max;
    return create > update ? create : update;
}

/* Lay out the next file of st from lay (NULL: failed, with err set). */
static int
add_file(struct rrdstore *st, struct rrdlayout *lay, const char *sources)
{
    struct rrdfile *f;

    if (lay == NULL)
        return -1;
    f = &st->files[st->nfiles++];
    f->lay = lay;
    f->name = st->remote ? lay->relpath : lay->path;
    f->sources = sources;
    if (lay->line_max > st->line_max)
        st->line_max = lay->line_max;
    return 0;
}

/* Lay out every file of c in st->files, in the order struct rrdstore
 * describes. */
static int
add_files(struct rrdstore *st, const struct conf *c, char *err, size_t errlen)
{
    size_t i, k, q;

    for (i = 0; i < c->nmeters; i++)
        if (add_file(st, rrdlayout_meter(c, (int)i, err, errlen),
                     "the meter's points") < 0)
            return -1;
    for (k = 0; k < st->nowners; k++) {
        int e = (int)k - 1;
        size_t nq = e < 0 ? c->park.nquotas : c->enterprises[e].nquotas;

        st->quota_base[k] = st->nfiles;
        for (q = 0; q < nq; q++)
            if (add_file(st,
                         rrdlayout_quota(c, e, (int)q, AGGREGATE_INTERVAL, err,
                                         errlen),
                         "those of a quota file") < 0)
                return -1;
    }
    st->quota_base[st->nowners] = st->nfiles;
    if (c->park.has_wwtp) {
        if (add_file(st, rrdlayout_capacity(c, AGGREGATE_INTERVAL, err, errlen),
                     "those of the capacity file") < 0)
            return -1;
        st->capacity = &st->files[st->nfiles - 1];
    }
    if (st->daemon == NULL)
        return 0;
    for (i = 0; i < st->nfiles; i++) {
        const struct rrdfile *f = &st->files[i];

        if (daemon_cmd_len(f) <= RRD_CMD_MAX)
            continue;
        if (i < st->nmeters)
            rrdlayout_errf(
                err, errlen,
                "meter %s: %zu points are too many for rrdcached's %d-byte "
                "commands",
                c->meters[i].id, f->lay->nds, RRD_CMD_MAX);
        else
            rrdlayout_errf(
                err, errlen,
                "%s: the path is too long for rrdcached's %d-byte commands",
                f->name, RRD_CMD_MAX);
        return -1;
    }
    return 0;
}

struct rrdstore *
rrdstore_open(const struct conf *c, char *err, size_t errlen)
{
    struct rrdstore *st;
    size_t nfiles, e;

    if (c->storage.rrd_step <= 0) {
        rrdlayout_errf(err, errlen, "rrd_step %d is not positive",
                       c->storage.rrd_step);
        return NULL;
    }
    nfiles = c->nmeters + c->park.nquotas + (c->park.has_wwtp ? 1 : 0);
    for (e = 0; e < c->nenterprises; e++)
        nfiles += c->enterprises[e].nquotas;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        goto nomem;
    st->nmeters = c->nmeters;
    st->nowners = c->nenterprises + 1;
    st->line_max = rrdlayout_update_max(0);
    if ((st->files = calloc(nfiles ? nfiles : 1, sizeof(*st->files))) == NULL ||
        (st->quota_base = calloc(st->nowners + 1, sizeof(*st->quota_base))) ==
            NULL)
        goto nomem;
    if (c->storage.rrdcached != NULL && c->storage.rrdcached[0] != '\0') {
        const char *a = c->storage.rrdcached;

        if ((st->daemon = strdup(a)) == NULL)
            goto nomem;
        st->remote = strncmp(a, "unix:", 5) != 0 && a[0] != '/';
    }
    if (add_files(st, c, err, errlen) < 0)
        goto fail;
    if ((st->line = malloc(st->line_max)) == NULL)
        goto nomem;
    if (st->daemon == NULL && c->storage.rrd_flush > 0) {
        st->batch_s = c->storage.rrd_flush;
        if ((st->argv = calloc(BATCH_MAX, sizeof(*st->argv))) == NULL)
            goto nomem;
        /* Spread the files' writes over the period. */
        for (e = 0; e < st->nmeters; e++)
            st->files[e].phase = (double)e * st->batch_s / (double)st->nmeters;
    }
    if (st->daemon != NULL) {
        if (daemon_connect(st, err, errlen) < 0)
            goto fail;
        daemon_users++;
    }
    return st;

nomem:
    rrdlayout_errf(err, errlen, "rrd store: out of memory");
fail:
    if (st != NULL) {
        free(st->daemon); /* not counted in daemon_users yet */
        st->daemon = NULL;
    }
    rrdstore_close(st);
    return NULL;
}

/* Failures of several files, reported as the first one and a count. */
struct failures {
    size_t n;
    char first[512];
};

static void
failures_report(const struct failures *fl, char *err, size_t errlen)
{
    if (fl->n == 1)
        rrdlayout_errf(err, errlen, "%s", fl->first);
    else if (fl->n > 1)
        rrdlayout_errf(err, errlen, "%s (and %zu more files)", fl->first,
                       fl->n - 1);
}

/* Write the updates waiting in f's batch in one librrd call. On an error
 * they are lost (the message says how many) and the next update reads the
 * file's state again. */
static int
batch_write(struct rrdstore *st, struct rrdfile *f, char *err, size_t errlen)
{
    const char *p = f->batch;
    unsigned i, n = f->nbatch;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        st->argv[i] = p;
        p += strlen(p) + 1;
    }
    f->nbatch = 0;
    f->batch_len = 0;
    rrd_clear_error();
    if (rrd_update_r(f->lay->path, f->lay->template_, (int)n, st->argv) != 0) {
        char why[400];

        rrd_errf(why, sizeof(why), "update", f->name, 0);
        rrdlayout_errf(err, errlen, "%s (%u updates not written)", why, n);
        f->ready = false;
        return -1;
    }
    return 0;
}

/* Add an update of n values at sec to f's batch; write the batch when it
 * is full. */
static int
batch_add(struct rrdstore *st, struct rrdfile *f, int64_t sec,
          const double *values, size_t n, char *err, size_t errlen)
{
    size_t need = f->batch_len + f->lay->line_max;
    int k;

    if (need > f->batch_cap) {
        size_t cap = f->batch_cap ? f->batch_cap : 4 * f->lay->line_max;
        char *b;

        while (cap < need)
            cap *= 2;
        if ((b = realloc(f->batch, cap)) == NULL) {
            rrdlayout_errf(err, errlen, "rrd update %s: out of memory",
                           f->name);
            return -1;
        }
        f->batch = b;
        f->batch_cap = cap;
    }
    k = rrdlayout_format_update(f->batch + f->batch_len, f->lay->line_max, sec,
                                values, n);
    if (k < 0) {
        rrdlayout_errf(err, errlen, "rrd update %s: line too long", f->name);
        return -1;
    }
    f->batch_len += (size_t)k + 1;
    if (f->nbatch++ == 0)
        f->first = sec;
    f->last = sec;
    return f->nbatch < BATCH_MAX ? 0 : batch_write(st, f, err, errlen);
}

/* Write one update of f: n values (its data sources') at ts. */
static int
update_file(struct rrdstore *st, struct rrdfile *f, double ts,
            const double *values, size_t n, bool batched, char *err,
            size_t errlen)
{
    int64_t sec;
    int status;

    /* 1980 .. 5138: a time rrdtool takes, and an exact int64 conversion. */
    if (!(ts >= 315532800.0 && ts < 1e11)) {
        rrdlayout_errf(err, errlen, "rrd update %s: bad timestamp %.17g",
                       f->name, ts);
        return -1;
    }
    if (n != f->lay->nds) {
        rrdlayout_errf(err, errlen,
                       "rrd update %s: %zu values for %zu data sources",
                       f->name, n, f->lay->nds);
        return -1;
    }
    sec = (int64_t)floor(ts);
    if (f->mismatch) {
        mismatch_err(f, err, errlen);
        return -1;
    }
    if (!f->ready && prepare(st, f, sec, err, errlen) < 0)
        return -1;
    if (sec <= f->last)
        return RRDSTORE_SKIPPED;
    if (batched && st->batch_s > 0)
        return batch_add(st, f, sec, values, n, err, errlen);
    if (rrdlayout_format_update(st->line, st->line_max, sec, values, n) < 0) {
        rrdlayout_errf(err, errlen, "rrd update %s: line too long", f->name);
        return -1;
    }

    if (st->daemon == NULL) {
        const char *argv[1] = {st->line};

        rrd_clear_error();
        status = rrd_update_r(f->lay->path, f->lay->template_, 1, argv);
        if (status != 0) {
            rrd_errf(err, errlen, "update", f->name, 0);
            f->ready = false;
            return -1;
        }
    } else {
        const char *const vals[1] = {st->line};

        if (daemon_connect(st, err, errlen) < 0) {
            f->ready = false;
            return -1;
        }
        rrd_clear_error();
        status = rrdc_update(f->name, 1, vals);
        if (status != 0) {
            rrd_errf(err, errlen, "update", f->name, status);
            f->ready = false;
            return -1;
        }
        f->dirty = true;
    }
    f->last = sec;
    return 0;
}

int
rrdstore_update_meter(struct rrdstore *st, int meter, double ts,
                      const double *values, char *err, size_t errlen)
{
    struct rrdfile *f;

    if (meter < 0 || (size_t)meter >= st->nmeters) {
        rrdlayout_errf(err, errlen, "rrd update: meter index %d out of range",
                       meter);
        return -1;
    }
    f = &st->files[meter];
    return update_file(st, f, ts, values, f->lay->nds, true, err, errlen);
}

int
rrdstore_update_quota(struct rrdstore *st, int enterprise, int quota, double ts,
                      double used, double limit, double projected, char *err,
                      size_t errlen)
{
    /* In the layout's DS order. */
    const double values[] = {used, limit, projected};
    size_t k = enterprise < 0 ? 0 : (size_t)enterprise + 1;

    if (enterprise < -1 || k >= st->nowners || quota < 0 ||
        (size_t)quota >= st->quota_base[k + 1] - st->quota_base[k]) {
        rrdlayout_errf(
            err, errlen,
            "rrd update: quota index %d of enterprise index %d out of range",
            quota, enterprise);
        return -1;
    }
    return update_file(st, &st->files[st->quota_base[k] + (size_t)quota], ts,
                       values, sizeof(values) / sizeof(values[0]), false, err,
                       errlen);
}

int
rrdstore_update_capacity(struct rrdstore *st, double ts, double inflow_m3_day,
                         double capacity_m3_day, double headroom_m3_day,
                         char *err, size_t errlen)
{
    /* In the layout's DS order. */
    const double values[] = {inflow_m3_day, capacity_m3_day, headroom_m3_day};

    if (st->capacity == NULL) {
        rrdlayout_errf(err, errlen,
                       "rrd update: no capacity file: the park has no wwtp");
        return -1;
    }
    return update_file(st, st->capacity, ts, values,
                       sizeof(values) / sizeof(values[0]), false, err, errlen);
}

size_t
rrdstore_prepare_all(struct rrdstore *st, double now)
{
    size_t i, failed = 0;
    char err[512];

    for (i = 0; i < st->nfiles; i++) {
        struct rrdfile *f = &st->files[i];

        if (!f->ready && !f->mismatch &&
            prepare(st, f, (int64_t)floor(now), err, sizeof(err)) < 0)
            failed++;
    }
    return failed;
}

int
rrdstore_tick(struct rrdstore *st, double now, char *err, size_t errlen)
{
    struct failures fl = {0};
    size_t i;

    if (st->batch_s <= 0)
        return 0;
    for (i = 0; i < st->nmeters; i++) {
        struct rrdfile *f = &st->files[i];
        double period = st->batch_s;

        /* Due once its period (shifted by its phase) has turned since the
         * oldest update, or if the clock went back. */
        if (f->nbatch == 0 ||
            (floor((now + f->phase) / period) <=
                 floor(((double)f->first + f->phase) / period) &&
             now >= (double)f->first))
            continue;
        if (batch_write(st, f, fl.n ? NULL : fl.first, sizeof(fl.first)) < 0)
            fl.n++;
    }
    failures_report(&fl, err, errlen);
    return fl.n ? -1 : 0;
}

/* Write out f's waiting updates (batched, or held by rrdcached). */
static int
flush_file(struct rrdstore *st, struct rrdfile *f, char *err, size_t errlen)
{
    int status;

    if (f->nbatch > 0)
        return batch_write(st, f, err, errlen);
    if (!f->dirty)
        return 0;
    if (daemon_connect(st, err, errlen) < 0)
        return -1;
    rrd_clear_error();
    status = rrdc_flush(f->name);
    if (status != 0) {
        rrd_errf(err, errlen, "flush", f->name, status);
        return -1;
    }
    f->dirty = false;
    return 0;
}

int
rrdstore_flush(struct rrdstore *st, char *err, size_t errlen)
{
    struct failures fl = {0};
    size_t i;

    for (i = 0; i < st->nfiles; i++) {
        struct rrdfile *f = &st->files[i];

        if (f->dirty &&
            daemon_connect(st, fl.n ? NULL : fl.first, sizeof(fl.first)) < 0) {
            for (; i < st->nfiles; i++) /* no daemon: all of them fail */
                fl.n += st->files[i].dirty;
            break;
        }
        if (flush_file(st, f, fl.n ? NULL : fl.first, sizeof(fl.first)) < 0)
            fl.n++;
    }
    failures_report(&fl, err, errlen);
    return fl.n ? -1 : 0;
}

int
rrdstore_flush_meter(struct rrdstore *st, int meter, char *err, size_t errlen)
{
    if (meter < 0 || (size_t)meter >= st->nmeters) {
        rrdlayout_errf(err, errlen, "rrd flush: meter index %d out of range",
                       meter);
        return -1;
    }
    return flush_file(st, &st->files[meter], err, errlen);
}

void
rrdstore_close(struct rrdstore *st)
{
    size_t i;

    if (st == NULL)
        return;
    if (st->daemon != NULL && --daemon_users == 0)
        rrdc_disconnect();
    for (i = 0; i < st->nfiles; i++) {
        rrdlayout_free(st->files[i].lay);
        free(st->files[i].batch);
    }
    free(st->files);
    free(st->argv);
    free(st->quota_base);
    free(st->line);
    free(st->daemon);
    free(st);
}
