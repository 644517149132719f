/* Pure quota evaluation: fraction, expected, projection, exhaustion time and
 * the state with hysteresis (DESIGN §5). */
#ifndef ECMON_QUOTA_H
#define ECMON_QUOTA_H

#include <stdint.h>

enum quota_state { QS_OK, QS_WARN, QS_CRITICAL, QS_EXCEEDED };

struct quota_levels {
    double warn, critical, hysteresis; /* 0.80, 0.95, 0.02 */
};

/* An amount quota (m3, kg, kWh, tce) in a period [start, end). */
struct quota_amount_in {
    double limit;         /* > 0 */
    double used;          /* in [start, now) */
    double window_used;   /* in [window_start, now) */
    int64_t window_start; /* max(start, now - forecast_window_days) */
    int64_t start, end, now;
};

/* An intensity quota: tce per 10^4 yuan of value added. */
struct quota_intensity_in {
    double limit;      /* tce per 10^4 yuan, > 0 */
    double tce_used;   /* in [start, now) */
    double tce_window; /* in [window_start, now) */
    int64_t window_start;
    double va_so_far; /* yuan over [start, now); NAN if unknown */
    double va_period; /* yuan over [start, end); NAN if unknown */
    int64_t start, end, now;
};

struct quota_result {
    double used;        /* amount, or intensity so far (NAN if no VA) */
    double fraction;    /* used / limit */
    double expected;    /* elapsed share of the period, 0..1 */
    double projected;   /* at the end of the period, same unit as used */
    double rate;        /* per second over the window (amount quotas; tce/s
                           for intensity) */
    int64_t exhaust_at; /* when projected usage reaches the limit, if within
                           the period and not reached yet; -1 otherwise */
};

/* rate = window_used / (now - window_start) (0 when that span is 0),
 * projected = used + rate * (end - now), exhaust_at = now + (limit - used) /
 * rate when used < limit, rate > 0 and that falls before end. */
void quota_eval_amount(const struct quota_amount_in *in,
                       struct quota_result *out);

/* used = tce_used / (va_so_far / 1e4); projected = (tce_used + rate *
 * (end - now)) / (va_period / 1e4); exhaust_at: the time t < end at which
 * (tce_used + rate * (t - now)) / (va_over(start, t) / 1e4) reaches limit,
 * with va_over pro-rated linearly between va_so_far at now and va_period at
 * end; -1 if none. Unknown value added gives used, fraction and projected
 * NAN and exhaust_at -1. */
void quota_eval_intensity(const struct quota_intensity_in *in,
                          struct quota_result *out);

/* The next state from the previous one (DESIGN §5): exceeded when fraction
 * >= 1, critical when >= critical, warn when >= warn or projected/limit > 1;
 * a state falls back only once fraction drops below its threshold minus the
 * hysteresis (for warn-by-projection: once projected/limit < 1 -
 * hysteresis). NAN fraction keeps the previous state. */
enum quota_state quota_next_state(enum quota_state prev, double fraction,
                                  double projected_ratio,
                                  const struct quota_levels *lv);

const char *quota_state_name(enum quota_state s); /* "ok" "warn" ... */

#endif
