/* The park's time zone from the zoneinfo database, as a struct tzone. */
#ifndef ECMON_TZ_H
#define ECMON_TZ_H

#include "daemon/core/periods.h"

/* Make `name` (an IANA zone, validated by the config loader) the process's
 * local zone (TZ, tzset) and fill z to answer offsets from it. Log lines
 * then show the park's local time. */
void tz_use(const char *name, struct tzone *z);

#endif
