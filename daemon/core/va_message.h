/* The value-added MQTT input, parsed without I/O so that it is fuzzed:
 * topic <prefix>/<park>/<enterprise>/value_added/set, payload
 * {"period": "YYYY[-MM|-Qn]", "yuan": number}. */
#ifndef ECMON_VA_MESSAGE_H
#define ECMON_VA_MESSAGE_H

#include <stddef.h>

#include "config/config.h"

#define VA_MESSAGE_MAX 4096 /* bytes of a payload */

struct va_message {
    char enterprise[CONF_ID_MAX];
    char period[16];
    double yuan;
};

/* Split the topic and parse the payload (`len` bytes, not NUL-terminated).
 * Returns 0, or -1 with the reason in err: an unexpected topic, a payload
 * larger than VA_MESSAGE_MAX, malformed JSON, or a document that is not
 * exactly {"period": string, "yuan": number}. The enterprise, the period
 * label and the amount are checked by the engine (engine_set_va). */
int va_message_parse(const char *prefix, const char *park, const char *topic,
                     const char *payload, size_t len, struct va_message *m,
                     char *err, size_t errlen);

#endif
