/* A sample: one decoded reading of one point, handed from a bus worker to the
 * main loop. */
#ifndef ECMON_SAMPLE_H
#define ECMON_SAMPLE_H

#include <stdint.h>

/* HJ 212-2017 data flags. */
#define FLAG_NORMAL 'N'
#define FLAG_DEVICE 'D'    /* device fault: NaN, bad fraction, exception */
#define FLAG_COMM 'B'      /* communication failure */
#define FLAG_OVERRANGE 'T' /* outside the point's min/max */
#define FLAG_CALIBRATION 'C'
#define FLAG_MAINTENANCE 'M'

struct sample {
    double ts;      /* Unix time of the poll, seconds */
    double value;   /* NAN when the flag says there is no value */
    uint32_t meter; /* index into conf.meters */
    uint16_t point; /* index into the meter's profile points */
    char flag;
};

#endif
