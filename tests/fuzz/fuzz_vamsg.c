/* Fuzz target: the value-added MQTT input (daemon/core/va_message.c). The
 * input is "TOPIC\nPAYLOAD"; whatever it is, a parsed message names an
 * enterprise from the topic and carries a finite or infinite number that
 * JSON allowed, and a refusal says why. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/va_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    char *nl = memchr(in, '\n', size);
    const char *payload = "";
    size_t plen = 0;
    if (nl) {
        *nl = '\0';
        payload = nl + 1;
        plen = size - (size_t)(nl + 1 - in);
    }
    struct va_message m;
    char err[256] = "";
    if (va_message_parse("ecmon", "park", in, payload, plen, &m, err,
                         sizeof err) == 0) {
        assert(strncmp(in, "ecmon/park/", 11) == 0);
        assert(m.enterprise[0] != '\0' && strchr(m.enterprise, '/') == NULL);
        assert(strlen(m.period) < sizeof m.period);
    } else {
        assert(err[0] != '\0');
    }
    free(in);
    return 0;
}
