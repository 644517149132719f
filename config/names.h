/* Words of the config syntax that the loader and the printer share but no
 * other module needs; private to config/, not part of config.h. */
#ifndef ECMON_CONFIG_NAMES_H
#define ECMON_CONFIG_NAMES_H

#include <stdbool.h>

#include "config/config.h"

/* The byte order's name: "abcd", ... or with `eight` "abcdefgh", ... */
const char *cname_order(enum conf_order o, bool eight);
/* "holding" or "input". */
const char *cname_table(enum conf_table t);

#endif
