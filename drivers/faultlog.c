/* Fault reports of one meter's points: conditions compared poll to poll,
 * lines only for what began, changed or ended. */
#include "drivers/faultlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
faultlog_init(struct faultlog *f, const char *meter,
              const struct conf_point *points, size_t npoints)
{
    size_t n = npoints ? npoints : 1;
    f->meter = meter;
    f->points = points;
    f->npoints = npoints;
    f->was = calloc(n, sizeof *f->was);
    f->now = calloc(n, sizeof *f->now);
    if (f->was == NULL || f->now == NULL) {
        faultlog_free(f);
        return -1;
    }
    return 0;
}

void
faultlog_free(struct faultlog *f)
{
    free(f->was);
    free(f->now);
    f->was = f->now = NULL;
}

void
faultlog_set(struct faultlog *f, size_t i, enum faultlog_cond cond, int code,
             double value)
{
    if (i >= f->npoints)
        return;
    f->now[i] = (struct faultlog_point){(uint8_t)cond, (uint8_t)code, value};
}

void
faultlog_discard(struct faultlog *f)
{
    memcpy(f->now, f->was, f->npoints * sizeof *f->now);
}

/* One fault, whatever the value: an out-of-range value that moves stays
 * the same fault. */
static bool
same(const struct faultlog_point *a, const struct faultlog_point *b)
{
    return a->cond == b->cond &&
           (a->cond != FAULTLOG_EXCEPTION || a->code == b->code);
}

static bool
changed(const struct faultlog *f, size_t i)
{
    return !same(&f->was[i], &f->now[i]);
}

/* Append ", name" (or the first name) to buf (len >= 4); once it is full,
 * it ends in "...". */
static void
add_name(char *buf, size_t len, const char *name)
{
    size_t n = strlen(buf);
    int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
    if (w < 0 || (size_t)w >= len - n)
        memcpy(buf + len - 4, "...", 4);
}

static void
cause(const struct faultlog *f, size_t i, const char *(*exc_name)(int),
      char *buf, size_t len)
{
    const struct faultlog_point *p = &f->now[i];
    const struct conf_point *cp = &f->points[i];
    switch ((enum faultlog_cond)p->cond) {
    case FAULTLOG_EXCEPTION:
        snprintf(buf, len, "exception %d (%s); flagged D", p->code,
                 exc_name(p->code));
        break;
    case FAULTLOG_NAN:
        snprintf(buf, len, "not a finite number (NaN or infinity); flagged D");
        break;
    case FAULTLOG_BADFRAC:
        snprintf(buf, len, "fraction register out of range; flagged D");
        break;
    case FAULTLOG_RANGE:
        if (cp->has_min && cp->has_max)
            snprintf(buf, len, "%.6g %s outside %.6g..%.6g; flagged T",
                     p->value, cp->unit, cp->min, cp->max);
        else if (cp->has_min)
            snprintf(buf, len, "%.6g %s below the minimum %.6g; flagged T",
                     p->value, cp->unit, cp->min);
        else
            snprintf(buf, len, "%.6g %s above the maximum %.6g; flagged T",
                     p->value, cp->unit, cp->max);
        break;
    case FAULTLOG_NORMAL:
        snprintf(buf, len, "normal again");
        break;
    }
}

/* Whether point i leads its group: the first changed point in that
 * condition (out-of-range points are each their own group). */
static bool
leads(const struct faultlog *f, size_t i)
{
    if (f->now[i].cond == FAULTLOG_RANGE)
        return true;
    for (size_t j = 0; j < i; j++)
        if (changed(f, j) && same(&f->now[j], &f->now[i]))
            return false;
    return true;
}

void
faultlog_report(struct faultlog *f, const char *(*exc_name)(int),
                faultlog_emit *emit, void *arg)
{
    char names[512], why[192], line[768];

    /* Faults first, then the points that are normal again. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < f->npoints; i++) {
            bool normal = f->now[i].cond == FAULTLOG_NORMAL;
            if (!changed(f, i) || normal != (pass == 1) || !leads(f, i))
                continue;
            names[0] = '\0';
            add_name(names, sizeof names, f->points[i].name);
            for (size_t k = i + 1;
                 k < f->npoints && f->now[i].cond != FAULTLOG_RANGE; k++)
                if (changed(f, k) && same(&f->now[k], &f->now[i]))
                    add_name(names, sizeof names, f->points[k].name);
            cause(f, i, exc_name, why, sizeof why);
            snprintf(line, sizeof line, "meter %s: %s: %s", f->meter, names,
                     why);
            emit(arg, !normal, line);
        }
    }
    memcpy(f->was, f->now, f->npoints * sizeof *f->was);
}
