/* Pure quota evaluation (DESIGN §5): fraction, expected share, projection,
 * exhaustion time, and the alert state with hysteresis. */
#include "daemon/core/quota.h"

#include <math.h>

static double
expected_share(int64_t start, int64_t end, int64_t now)
{
    if (now >= end)
        return 1;
    if (now <= start)
        return 0;
    return (double)(now - start) / (double)(end - start);
}

/* now + dt rounded up to the first whole second at which the projection has
 * reached the limit; -1 unless that is before end. */
static int64_t
first_second(int64_t now, double dt, int64_t end)
{
    if (!(dt > 0 && dt < (double)(end - now)))
        return -1;
    int64_t t = now + (int64_t)ceil(dt);
    return t < end ? t : -1;
}

/* The window's usage scaled to span seconds: window * span / wspan, the
 * product first so that steady whole-number inputs give exact results. */
static double
extrapolate(double window, int64_t wspan, int64_t span)
{
    return wspan > 0 ? window * (double)span / (double)wspan : 0;
}

void
quota_eval_amount(const struct quota_amount_in *in, struct quota_result *out)
{
    int64_t wspan = in->now - in->window_start;
    int64_t rem = in->now < in->end ? in->end - in->now : 0;

    out->used = in->used;
    out->fraction = in->limit > 0 ? in->used / in->limit : NAN;
    out->expected = expected_share(in->start, in->end, in->now);
    out->rate = wspan > 0 ? in->window_used / (double)wspan : 0;
    out->projected = in->used + extrapolate(in->window_used, wspan, rem);
    out->exhaust_at = -1;
    if (in->limit > 0 && in->used < in->limit && in->window_used > 0 &&
        wspan > 0 && rem > 0)
        out->exhaust_at = first_second(
            in->now, (in->limit - in->used) * (double)wspan / in->window_used,
            in->end);
}

/* Value added that can divide: finite and positive (an entry of 0 yuan is
 * taken as not known rather than as an infinite intensity). */
static int
va_known(double yuan)
{
    return isfinite(yuan) && yuan > 0;
}

void
quota_eval_intensity(const struct quota_intensity_in *in,
                     struct quota_result *out)
{
    int64_t wspan = in->now - in->window_start;
    int64_t rem = in->now < in->end ? in->end - in->now : 0;
    double s = in->va_so_far, p = in->va_period;

    out->used = va_known(s) ? in->tce_used / (s / 1e4) : NAN;
    out->fraction = in->limit > 0 ? out->used / in->limit : NAN;
    out->expected = expected_share(in->start, in->end, in->now);
    out->rate = wspan > 0 ? in->tce_window / (double)wspan : 0;
    if (rem == 0)
        out->projected = out->used;
    else if (va_known(p))
        out->projected =
            (in->tce_used + extrapolate(in->tce_window, wspan, rem)) /
            (p / 1e4);
    else
        out->projected = NAN;
    out->exhaust_at = -1;
    if (!(in->limit > 0 && va_known(s) && va_known(p) && wspan > 0 && rem > 0))
        return;
    /* With x = t - now, D = rem, r = tce_window / wspan:
     *   1e4 (tce_used + r x) = limit (s + (p - s) x / D)
     * is linear in x; multiplied through by wspan D:
     *   x = (limit s - 1e4 tce_used) wspan D
     *       / (1e4 tce_window D - limit (p - s) wspan).
     * The numerator is positive while the intensity is below the limit, the
     * denominator while it is rising towards it. */
    double num =
        (in->limit * s - 1e4 * in->tce_used) * (double)wspan * (double)rem;
    double den = 1e4 * in->tce_window * (double)rem -
                 in->limit * (p - s) * (double)wspan;
    if (num > 0 && den > 0)
        out->exhaust_at = first_second(in->now, num / den, in->end);
}

/* The state the values call for, without hysteresis. */
static enum quota_state
raw_state(double fraction, double projected_ratio,
          const struct quota_levels *lv)
{
    if (fraction >= 1)
        return QS_EXCEEDED;
    if (fraction >= lv->critical)
        return QS_CRITICAL;
    if (fraction >= lv->warn || projected_ratio > 1)
        return QS_WARN;
    return QS_OK;
}

/* Whether prev still holds, within the hysteresis band below its threshold. */
static int
holds(enum quota_state prev, double fraction, double projected_ratio,
      const struct quota_levels *lv)
{
    double h = lv->hysteresis;
    switch (prev) {
    case QS_EXCEEDED:
        return fraction >= 1 - h;
    case QS_CRITICAL:
        return fraction >= lv->critical - h;
    case QS_WARN:
        return fraction >= lv->warn - h || projected_ratio >= 1 - h;
    case QS_OK:
        return 1;
    }
    return 0;
}

/* Going up is immediate; going down needs the previous state's band left,
 * and then lands where the plain rules put the new values (so exceeded at
 * 0.94 with critical 0.95 lands on warn, not critical). */
enum quota_state
quota_next_state(enum quota_state prev, double fraction, double projected_ratio,
                 const struct quota_levels *lv)
{
    if (isnan(fraction))
        return prev;
    enum quota_state now = raw_state(fraction, projected_ratio, lv);
    if (now >= prev)
        return now;
    return holds(prev, fraction, projected_ratio, lv) ? prev : now;
}

const char *
quota_state_name(enum quota_state s)
{
    switch (s) {
    case QS_OK:
        return "ok";
    case QS_WARN:
        return "warn";
    case QS_CRITICAL:
        return "critical";
    case QS_EXCEEDED:
        return "exceeded";
    }
    return "unknown";
}
