/* Parsing the value-added MQTT input. */
#include "daemon/core/va_message.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

int
va_message_parse(const char *prefix, const char *park, const char *topic,
                 const char *payload, size_t len, struct va_message *m,
                 char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    size_t pl = strlen(prefix), kl = strlen(park);
    const char *rest = topic + pl + kl + 2, *slash = NULL;
    if (strlen(topic) <= pl + kl + 2 || strncmp(topic, prefix, pl) != 0 ||
        topic[pl] != '/' || strncmp(topic + pl + 1, park, kl) != 0 ||
        topic[pl + 1 + kl] != '/' || (slash = strchr(rest, '/')) == NULL ||
        slash == rest || strcmp(slash, "/value_added/set") != 0 ||
        (size_t)(slash - rest) >= sizeof m->enterprise) {
        snprintf(err, errlen, "unexpected topic %.200s", topic);
        return -1;
    }
    memcpy(m->enterprise, rest, (size_t)(slash - rest));
    m->enterprise[slash - rest] = '\0';
    if (len > VA_MESSAGE_MAX) {
        snprintf(err, errlen, "payload larger than %d bytes", VA_MESSAGE_MAX);
        return -1;
    }
    json_error_t jerr;
    json_t *j = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *period = json_object_get(j, "period");
    json_t *yuan = json_object_get(j, "yuan");
    int rc = -1;
    if (j == NULL)
        snprintf(err, errlen, "malformed JSON");
    else if (!json_is_object(j) || !json_is_string(period) ||
             !json_is_number(yuan) || json_object_size(j) != 2)
        snprintf(err, errlen,
                 "expected {\"period\": \"YYYY[-MM|-Qn]\", \"yuan\": number}");
    else if (json_string_length(period) >= sizeof m->period)
        snprintf(err, errlen, "bad period '%.20s...'",
                 json_string_value(period));
    else {
        memcpy(m->period, json_string_value(period),
               json_string_length(period) + 1);
        m->yuan = json_number_value(yuan);
        rc = 0;
    }
    json_decref(j);
    return rc;
}
