/* Pure MQTT topic and payload formatting (DESIGN §6). */
#ifndef ECMON_TOPIC_H
#define ECMON_TOPIC_H

#include <stddef.h>
#include <stdint.h>

/* The enterprise part of topics and paths for the park's own meters. */
#define TOPIC_PARK_OWNER "park"

/* Each formatter writes a NUL-terminated string into buf and returns its
 * length, or -1 when it does not fit (buf then holds a truncated string). */

/* <prefix>/<park>/<owner>/<meter>/<point> */
int topic_reading(char *buf, size_t len, const char *prefix, const char *park,
                  const char *owner, const char *meter, const char *point);
/* <prefix>/<park>/<owner>/<meter>/status */
int topic_meter_status(char *buf, size_t len, const char *prefix,
                       const char *park, const char *owner, const char *meter);
/* <prefix>/<park>/status */
int topic_park_status(char *buf, size_t len, const char *prefix,
                      const char *park);

/* The shortest decimal text that reads back as exactly v ("12.5", "0.1",
 * "123.45600128173828"); "null" for NaN and infinities. */
int topic_fmt_double(char *buf, size_t len, double v);

/* {"ts":1763791200.123,"value":12.5,"unit":"m3/h","flag":"N"} */
int payload_reading(char *buf, size_t len, double ts, double value,
                    const char *unit, char flag);

/* {"state":"online","errors":0,"last_ok":1763791200.123,"since":...,
 *  "reason":"..."}; last_ok null when never, reason only when offline. */
int payload_meter_status(char *buf, size_t len, int online, uint64_t errors,
                         double last_ok, double since, const char *reason);

/* Append s as a JSON string (with quotes) at buf; returns the length
 * written or -1 when it does not fit. */
int topic_json_string(char *buf, size_t len, const char *s);

#endif
