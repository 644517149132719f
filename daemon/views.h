/* JSON views of the daemon's state: the one source of what the control
 * socket (ecmonctl) and the HTTP API answer, so the two always agree. Each
 * takes `only`: NULL for everything (staff), or an enterprise id whose data
 * alone may appear in the answer (a role "enterprise:<id>"). */
#ifndef ECMON_VIEWS_H
#define ECMON_VIEWS_H

#include <stdbool.h>

#include <jansson.h>

struct ecmond;

/* May a viewer limited to `only` see the data of `owner` (an enterprise id
 * or "park")? Everything for NULL, else its own enterprise alone. */
bool view_may_see(const char *only, const char *owner);

/* Who a token's role is: {"role":"staff"} or {"role":"enterprise",
 * "enterprise":id}, with the park's id, name and time zone. */
json_t *view_whoami(struct ecmond *d, const char *role);

/* What the viewer may see of the configuration: enterprises with their
 * names, quotas and meters; for staff also the park's quotas, meters and
 * whether it has a treatment plant. */
json_t *view_park(struct ecmond *d, const char *only);

/* The daemon's status; for an enterprise, the park and its own meters. */
json_t *view_status(struct ecmond *d, const char *only);

/* The JSON text of {"meters": [...]}: all, or those whose id or owner is
 * `sel`, that `only` may see; written meter by meter: the tree of every
 * meter at once takes about ten times the answer (some 50 MB for the 5.3 MB
 * answer about 10,000 meters). *found is false for the {"error"} answer
 * (`sel` matches none). NULL when out of memory. */
char *view_meters_dump(struct ecmond *d, const char *sel, const char *only,
                       bool *found);

/* {"usage": [...], "timezone"}: the evaluated quotas of `owner` (NULL:
 * every owner `only` may see); {"error"} for an unknown owner. */
json_t *view_usage(struct ecmond *d, const char *owner, const char *only);

/* {"alerts": [...], "timezone"}: quotas and concentration limits not ok. */
json_t *view_alerts(struct ecmond *d, const char *only);

/* The park's treatment capacity, or {"error"} without park.wwtp. */
json_t *view_capacity(struct ecmond *d);

/* j as compact JSON ending in a newline, malloc'd; NULL when out of
 * memory. Takes j's reference. */
char *view_dump(json_t *j);

#endif
