/* The park section: its id, name, timezone (checked against the zoneinfo
 * database), the wastewater treatment plant, and the park's own quotas and
 * meters. */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/loader.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"

static bool
is_zone_name(const char *tz)
{
    if (*tz == '\0' || strlen(tz) > 255)
        return false;
    bool start = true;
    for (const char *p = tz; *p; p++) {
        if (*p == '/') {
            if (start)
                return false;
            start = true;
            continue;
        }
        if (start && *p == '.')
            return false; /* no ".", "..", hidden files */
        if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p))
            return false;
        start = false;
    }
    return !start;
}

/* Check that tz names a TZif file of the zoneinfo database. */
static void
check_timezone(struct cload *x, const config_setting_t *s, const char *tz)
{
    if (!is_zone_name(tz)) {
        cload_err(
            x, s,
            "'timezone' must be a zone name like \"Asia/Shanghai\", not '%s'",
            tz);
        return;
    }
    const char *dir = getenv("TZDIR");
    if (dir == NULL || dir[0] != '/')
        dir = ZONEINFO_DIR;
    char *path = cload_join(dir, tz);
    char magic[4] = {0};
    bool ok = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0) {
        struct stat st;
        ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
             read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
             memcmp(magic, "TZif", 4) == 0;
        close(fd);
    }
    if (!ok)
        cload_err(x, s, "unknown timezone '%s' (no TZif file %s)", tz, path);
    free(path);
}

static const char *const park_keys[] = {"id",     "name",   "timezone", "wwtp",
                                        "quotas", "meters", NULL};
static const char *const wwtp_keys[] = {"capacity_m3_per_day", "inflow", NULL};

void
cload_park(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = cload_get_group(x, root, "park");
    if (g == NULL) {
        if (cload_member(root, "park") == NULL)
            cload_err(x, NULL, "missing required group 'park'");
        return;
    }
    cload_check_keys(x, g, "park", park_keys);
    cload_get_id(x, g, "park", c->park.id);
    cload_get_strdup(x, g, "name", "park", false, &c->park.name);
    if (c->park.name == NULL)
        c->park.name = cload_strdup(c->park.id);
    const config_setting_t *s;
    const char *tz = cload_get_string(x, g, "timezone", "park", true, &s);
    if (tz) {
        check_timezone(x, s, tz);
        c->park.timezone = cload_strdup(tz);
    }
    const config_setting_t *w = cload_get_group(x, g, "wwtp");
    if (w) {
        c->park.has_wwtp = true;
        cload_check_keys(x, w, "wwtp", wwtp_keys);
        cload_get_positive(x, w, "capacity_m3_per_day", "wwtp", true, false,
                           &c->park.wwtp_capacity_m3_per_day);
        c->park.has_wwtp_inflow =
            cload_get_ref(x, w, "inflow", "wwtp", false, &c->park.wwtp_inflow);
    }
    cload_quotas(x, g, &c->park.quotas, &c->park.nquotas);
    cload_meters(x, g, -1, &c->park.meters, &c->park.nmeters);
}
