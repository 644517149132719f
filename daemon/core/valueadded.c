/* Pure value-added arithmetic: yuan over any span from the months, quarters
 * and years known, the most specific one winning at each instant. */
#include "daemon/core/valueadded.h"

#include <math.h>

/* Lower is more specific; -1 for an entry that cannot be used. */
static int
rank(const struct va_entry *e)
{
    if (e->end <= e->start)
        return -1;
    switch (e->kind) {
    case PERIOD_DAY:
        return 0;
    case PERIOD_MONTH:
        return 1;
    case PERIOD_QUARTER:
        return 2;
    case PERIOD_YEAR:
        return 3;
    }
    return -1;
}

/* Sweeps [from, to) from one entry boundary to the next: each elementary
 * piece lies wholly inside or outside every entry, and the most specific
 * entry covering it contributes its yuan per second times the piece's
 * length. The year's density is not reduced by the months it contains that
 * have their own value: a year entry says how fast value accrues wherever
 * nothing finer is known. O(n^2) with no allocation; n is a few labels. */
double
va_for_span(const struct va_entry *e, size_t n, int64_t from, int64_t to,
            double *covered)
{
    double sum = 0, cov = 0;
    int any = 0;
    for (int64_t a = from; a < to;) {
        int64_t b = to;
        for (size_t i = 0; i < n; i++) {
            if (rank(&e[i]) < 0)
                continue;
            if (e[i].start > a && e[i].start < b)
                b = e[i].start;
            if (e[i].end > a && e[i].end < b)
                b = e[i].end;
        }
        const struct va_entry *best = NULL;
        for (size_t i = 0; i < n; i++) {
            int r = rank(&e[i]);
            if (r >= 0 && e[i].start <= a && a < e[i].end &&
                (best == NULL || r < rank(best)))
                best = &e[i];
        }
        if (best != NULL) {
            /* Product first: exact when the piece is the whole period. */
            sum += best->yuan * (double)(b - a) /
                   (double)(best->end - best->start);
            cov += (double)(b - a);
            any = 1;
        }
        a = b;
    }
    if (covered != NULL)
        *covered = cov;
    return any ? sum : NAN;
}
