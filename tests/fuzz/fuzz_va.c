/* Fuzz target: the value-added input checks (period labels and amounts as
 * the MQTT topic and ecmonctl deliver them) in the pure core. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/periods.h"
#include "daemon/core/valueadded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char label[64];
    size_t n = size < sizeof label - 1 ? size : sizeof label - 1;
    memcpy(label, data, n);
    label[n] = '\0';
    struct tzone z = {NULL, NULL, 8 * 3600};
    struct va_entry e[2];
    if (period_parse(label, &z, &e[0].kind, &e[0].start, &e[0].end) == 0) {
        if (e[0].end <= e[0].start)
            abort();
        e[0].yuan = 1e8;
        e[1] = e[0];
        e[1].kind = PERIOD_YEAR;
        double covered;
        double v = va_for_span(e, 2, e[0].start, e[0].end, &covered);
        if (!(fabs(v - 1e8) <= 1e-6 * 1e8))
            abort(); /* the period's own value over its own span */
    }
    return 0;
}
