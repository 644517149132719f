/* Everything that polls meters: the TCP engine and the RTU bus workers. */
#include "drivers/pollers.h"

#include <stdio.h>
#include <stdlib.h>

#include "drivers/bus_worker.h"
#include "drivers/tcp_engine.h"

struct pollers {
    const struct conf *conf;
    struct tcp_engine *tcp;      /* NULL without TCP buses */
    struct bus_worker **workers; /* per bus; NULL for TCP buses */
};

void
pollers_stop(struct pollers *p)
{
    if (p == NULL)
        return;
    tcpeng_request_stop(p->tcp);
    for (size_t b = 0; b < p->conf->nbuses; b++)
        busw_request_stop(p->workers[b]);
    tcpeng_stop(p->tcp);
    for (size_t b = 0; b < p->conf->nbuses; b++)
        busw_stop(p->workers[b]);
    free(p->workers);
    free(p);
}

struct pollers *
pollers_start(const struct conf *conf, struct sampleq *q, char *err,
              size_t errlen)
{
    struct pollers *p = calloc(1, sizeof *p);
    if (p == NULL || (p->workers = calloc(conf->nbuses ? conf->nbuses : 1,
                                          sizeof *p->workers)) == NULL) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->conf = conf;
    char why[400];
    size_t ntcp = 0;
    for (size_t b = 0; b < conf->nbuses; b++) {
        if (conf->buses[b].kind == BUS_TCP) {
            ntcp++;
            continue;
        }
        p->workers[b] = busw_start(conf, (int)b, q, why, sizeof why);
        if (p->workers[b] == NULL) {
            snprintf(err, errlen, "bus %s: %s", conf->buses[b].id, why);
            pollers_stop(p);
            return NULL;
        }
    }
    if (ntcp > 0 && (p->tcp = tcpeng_start(conf, q, why, sizeof why)) == NULL) {
        snprintf(err, errlen, "Modbus TCP engine: %s", why);
        pollers_stop(p);
        return NULL;
    }
    return p;
}

int
pollers_meter_stats(struct pollers *p, int meter, struct mpoll_stats *out)
{
    if (meter < 0 || (size_t)meter >= p->conf->nmeters)
        return -1;
    int bus = p->conf->meters[meter].bus;
    if (p->workers[bus])
        return busw_meter_stats(p->workers[bus], meter, out);
    if (p->tcp)
        return tcpeng_meter_stats(p->tcp, meter, out);
    return -1;
}
