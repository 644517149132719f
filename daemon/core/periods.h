/* Pure calendar arithmetic: hours, days, months, quarters and years of the
 * park's time zone, as Unix times. */
#ifndef ECMON_PERIODS_H
#define ECMON_PERIODS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* A time zone: the offset east of UTC, in seconds, in force at a UTC time.
 * The daemon backs it with the zoneinfo database (daemon/tz.c); tests use
 * fixed offsets (offset == NULL: `fixed` is used). */
struct tzone {
    long (*offset)(const struct tzone *z, int64_t utc);
    void *arg;
    long fixed;
};

long tz_offset(const struct tzone *z, int64_t utc);

/* The local hour containing t, as [start, start + 3600). Hourly ledger rows
 * are keyed by this start. (For zones whose offset is not whole hours the
 * local hour is what counts, so day boundaries stay on hour boundaries.) */
int64_t period_hour_start(int64_t t, const struct tzone *z);

/* The calendar period (day, month, quarter, year) containing t, in local
 * time: *start is its first second, *end the first second of the next. */
void period_bounds(enum conf_period p, int64_t t, const struct tzone *z,
                   int64_t *start, int64_t *end);

/* The period's label: "2026-11-22", "2026-11", "2026-Q4", "2026". Returns
 * the length, or -1 if buf is too small. */
int period_label(enum conf_period p, int64_t t, const struct tzone *z,
                 char *buf, size_t len);

/* Parse a value-added period label ("2026", "2026-Q4", "2026-11"): fills
 * kind (PERIOD_YEAR/QUARTER/MONTH) and its bounds. Returns 0, or -1 for
 * anything else (also days, years before 1970 or after 9999). */
int period_parse(const char *label, const struct tzone *z,
                 enum conf_period *kind, int64_t *start, int64_t *end);

/* Civil date helpers (proleptic Gregorian), exposed for tests:
 * days since 1970-01-01 <-> year, month 1..12, day 1..31. */
int64_t period_days_from_civil(int64_t y, unsigned m, unsigned d);
void period_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
