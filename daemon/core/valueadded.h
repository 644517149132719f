/* Pure value-added arithmetic: yuan over any span, from the periods given. */
#ifndef ECMON_VALUEADDED_H
#define ECMON_VALUEADDED_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* One known value added: a month, quarter or year and its yuan. */
struct va_entry {
    enum conf_period kind; /* PERIOD_MONTH, PERIOD_QUARTER or PERIOD_YEAR */
    int64_t start, end;    /* from period_parse() */
    double yuan;
};

/* Value added over [from, to), in yuan. At each instant the most specific
 * period known wins (month, then quarter, then year); a period counts pro
 * rata by time (its yuan / its length, per second). *covered (may be NULL)
 * gets the seconds of [from, to) that some entry covers; where nothing
 * covers an instant it adds nothing. Returns NAN when nothing covers any of
 * the span. Entries of the same kind must not overlap (the caller keeps one
 * per period label). */
double va_for_span(const struct va_entry *e, size_t n, int64_t from, int64_t to,
                   double *covered);

#endif
