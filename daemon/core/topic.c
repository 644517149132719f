/* Pure MQTT topic and payload formatting (DESIGN §6). */
#include "daemon/core/topic.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int
fitted(int n, size_t len)
{
    return n < 0 || (size_t)n >= len ? -1 : n;
}

int
topic_reading(char *buf, size_t len, const char *prefix, const char *park,
              const char *owner, const char *meter, const char *point)
{
    return fitted(
        snprintf(buf, len, "%s/%s/%s/%s/%s", prefix, park, owner, meter, point),
        len);
}

int
topic_meter_status(char *buf, size_t len, const char *prefix, const char *park,
                   const char *owner, const char *meter)
{
    return topic_reading(buf, len, prefix, park, owner, meter, "status");
}

int
topic_park_status(char *buf, size_t len, const char *prefix, const char *park)
{
    return fitted(snprintf(buf, len, "%s/%s/status", prefix, park), len);
}

int
topic_fmt_double(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        return fitted(snprintf(buf, len, "null"), len);
    /* Most values are short: try 15 digits first, then 17 (always exact). */
    int n = snprintf(buf, len, "%.15g", v);
    if (n > 0 && (size_t)n < len && strtod(buf, NULL) == v)
        return n;
    n = snprintf(buf, len, "%.16g", v);
    if (n > 0 && (size_t)n < len && strtod(buf, NULL) == v)
        return n;
    return fitted(snprintf(buf, len, "%.17g", v), len);
}

int
topic_json_string(char *buf, size_t len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

#define PUT(c)                                                                 \
    do {                                                                       \
        if (o + 1 >= len)                                                      \
            return -1;                                                         \
        buf[o++] = (c);                                                        \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT((char)*p);
        } else if (*p < 0x20) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[*p >> 4]);
            PUT(hex[*p & 15]);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    buf[o] = '\0';
    return (int)o;
}

int
payload_reading(char *buf, size_t len, double ts, double value,
                const char *unit, char flag)
{
    char val[32], u[96];
    if (topic_json_string(u, sizeof u, unit) < 0)
        return -1;
    topic_fmt_double(val, sizeof val, value);
    return fitted(snprintf(buf, len,
                           "{\"ts\":%.3f,\"value\":%s,\"unit\":%s,"
                           "\"flag\":\"%c\"}",
                           ts, val, u, flag),
                  len);
}

int
payload_meter_status(char *buf, size_t len, int online, uint64_t errors,
                     double last_ok, double since, const char *reason)
{
    char lok[32], why[256] = "";
    if (last_ok > 0)
        snprintf(lok, sizeof lok, "%.3f", last_ok);
    else
        snprintf(lok, sizeof lok, "null");
    if (!online && reason != NULL) {
        int n = snprintf(why, sizeof why, ",\"reason\":");
        if (topic_json_string(why + n, sizeof why - (size_t)n, reason) < 0)
            snprintf(why, sizeof why, ",\"reason\":\"?\"");
    }
    return fitted(snprintf(buf, len,
                           "{\"state\":\"%s\",\"errors\":%" PRIu64
                           ",\"last_ok\":%s,\"since\":%.3f%s}",
                           online ? "online" : "offline", errors, lok, since,
                           why),
                  len);
}
