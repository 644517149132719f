/* The park's time zone from the zoneinfo database, as a struct tzone. */
#include "daemon/tz.h"

#include <stdlib.h>
#include <time.h>

static long
zoneinfo_offset(const struct tzone *z, int64_t utc)
{
    (void)z;
    time_t t = (time_t)utc;
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL)
        return 0;
    return tm.tm_gmtoff;
}

void
tz_use(const char *name, struct tzone *z)
{
    setenv("TZ", name, 1);
    tzset();
    z->offset = zoneinfo_offset;
    z->arg = NULL;
    z->fixed = 0;
}
