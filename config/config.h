/* The validated configuration of ecmond: the one data model every module reads.
 */
#ifndef ECMON_CONFIG_H
#define ECMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_ID_MAX 64      /* ids: [a-z0-9_-]+, at most 63 chars */
#define CONF_PARK_ID "park" /* reserved: the park's own meters and quotas */
#define CONF_DS_MAX 20      /* point names become RRD DS names: <= 19 chars */

enum conf_table { TABLE_HOLDING, TABLE_INPUT };

/* Value types of DESIGN §3. The split types read an integer part and then a
 * fraction: int32+float32 is 4 registers (int32, then float32 fraction);
 * uint32+milli is 3 registers (uint32, then uint16 thousandths 0..999). */
enum conf_type {
    TYPE_UINT16,
    TYPE_INT16,
    TYPE_UINT32,
    TYPE_INT32,
    TYPE_UINT64,
    TYPE_INT64,
    TYPE_FLOAT32,
    TYPE_FLOAT64,
    TYPE_INT32_FLOAT32,
    TYPE_UINT32_MILLI,
};

/* Byte order of a multi-register value, named as libmodbus does for 4 bytes;
 * the 8-byte names are the same rules applied to 4 registers:
 * abcd/abcdefgh big-endian, cdab/ghefcdab word-swapped (low word first),
 * badc/badcfehg bytes swapped in each word, dcba/hgfedcba little-endian. */
enum conf_order { ORDER_ABCD, ORDER_CDAB, ORDER_BADC, ORDER_DCBA };

enum conf_kind {
    KIND_VOLUME_TOTAL,
    KIND_FLOW_RATE,
    KIND_REUSE_TOTAL,
    KIND_ELECTRICITY_TOTAL,
    KIND_GAS_TOTAL,
    KIND_STEAM_TOTAL,
    KIND_HEAT_TOTAL,
    KIND_POWER,
    KIND_CONCENTRATION,
    KIND_PH,
    KIND_INFO,
};

enum conf_pollutant {
    POLL_COD,
    POLL_NH3N,
    POLL_TP,
    POLL_TN,
    POLL_CU,
    POLL_NI,
    POLL_COUNT,
    POLL_NONE = -1,
};

enum conf_measure {
    MEASURE_EFFLUENT_M3,
    MEASURE_REUSE_M3,
    MEASURE_POLLUTANT_KG, /* with quota.pollutant */
    MEASURE_ELECTRICITY_KWH,
    MEASURE_ENERGY_TCE,
    MEASURE_ENERGY_INTENSITY,
};

enum conf_period { PERIOD_DAY, PERIOD_MONTH, PERIOD_QUARTER, PERIOD_YEAR };

#define RATIO_CT 0x1u
#define RATIO_PT 0x2u

/* Where a setting came from, for `file:line: message`. */
struct conf_src {
    const char *file; /* interned in struct conf, never freed separately */
    int line;
};

struct conf_point {
    char name[CONF_DS_MAX];
    enum conf_kind kind;
    enum conf_pollutant pollutant; /* KIND_CONCENTRATION only, else POLL_NONE */
    char unit[16];
    enum conf_table table;
    uint16_t address; /* 0-based, as on the wire */
    enum conf_type type;
    enum conf_order order;
    double scale;  /* default 1 */
    double offset; /* default 0 */
    bool has_min, has_max, has_max_rate;
    double min, max, max_rate;
    unsigned ratio; /* RATIO_CT | RATIO_PT, from `ratio = "ct*pt"` */
    struct conf_src src;
};

struct conf_profile {
    char id[CONF_ID_MAX];
    struct conf_point *points;
    size_t npoints;
    bool builtin; /* came from a profile_dirs file */
    struct conf_src src;
};

enum conf_bus_kind { BUS_TCP, BUS_RTU };

struct conf_bus {
    char id[CONF_ID_MAX];
    enum conf_bus_kind kind;
    char *host; /* TCP */
    int port;
    char *device; /* RTU */
    int baud;
    char parity; /* 'N', 'E', 'O' */
    int data_bits, stop_bits;
    int timeout_ms;   /* default 1000 */
    int retries;      /* default 1 */
    int frame_gap_ms; /* default 0 TCP; RTU: at least 3.5 chars at baud */
    int max_gap;      /* registers to read through when merging, default 8 */
    int max_regs;     /* registers per request, 1..125, default 125 */
    struct conf_src src;
};

/* A reference `meter.point`, resolved to indices into conf.meters and the
 * meter's profile points. */
struct conf_ref {
    char text[2 * CONF_ID_MAX + 2];
    int meter;
    int point;
    struct conf_src src;
};

struct conf_meter {
    char id[CONF_ID_MAX];
    int enterprise;        /* index into conf.enterprises; -1 for park meters */
    int bus;               /* index into conf.buses */
    int slave;             /* Modbus unit id 1..247 (on TCP also 0 and 255) */
    int profile;           /* index into conf.profiles */
    double interval;       /* seconds, > 0 */
    double ct, pt;         /* ratios, default 1 */
    int max_gap, max_regs; /* -1: the bus's */
    struct conf_src src;
};

struct conf_outlet {
    char id[CONF_ID_MAX];
    struct conf_ref volume; /* volume_total or flow_rate point */
    bool has_conc[POLL_COUNT];
    struct conf_ref conc[POLL_COUNT]; /* concentration points */
    bool has_limit[POLL_COUNT];
    double limit_mg_l[POLL_COUNT];
    struct conf_src src;
};

struct conf_quota {
    char id[CONF_ID_MAX];
    enum conf_measure measure;
    enum conf_pollutant pollutant; /* MEASURE_POLLUTANT_KG only */
    enum conf_period period;
    double limit; /* > 0 */
    struct conf_src src;
};

struct conf_value_added {
    char period[16]; /* "2026", "2026-Q4", "2026-11" */
    double yuan;     /* >= 0 */
    struct conf_src src;
};

struct conf_enterprise {
    char id[CONF_ID_MAX];
    char *name;
    double land_mu; /* 0 if unset */
    int *meters;    /* indices into conf.meters */
    size_t nmeters;
    struct conf_outlet *outlets;
    size_t noutlets;
    struct conf_quota *quotas;
    size_t nquotas;
    struct conf_value_added *value_added;
    size_t nvalue_added;
    struct conf_src src;
};

struct conf_token {
    char role[CONF_ID_MAX + 16]; /* "staff" or "enterprise:<id>" */
    char sha256[65];
    struct conf_src src;
};

struct conf {
    struct {
        char id[CONF_ID_MAX];
        char *name;
        char *timezone; /* IANA name, checked against the zoneinfo database */
        bool has_wwtp;
        double wwtp_capacity_m3_per_day;
        bool has_wwtp_inflow;
        struct conf_ref wwtp_inflow;
        struct conf_quota *quotas;
        size_t nquotas;
        int *meters; /* the park's own meters (enterprise -1), into conf.meters
                      */
        size_t nmeters;
    } park;
    struct {
        char *host;      /* default 127.0.0.1 */
        int port;        /* default 1883, 8883 with tls */
        char *prefix;    /* default "ecmon" */
        int qos;         /* default 1 */
        int keepalive;   /* default 30 */
        char *client_id; /* default "ecmond-<park>" */
        char *username, *password_file;
        bool tls;
        char *ca_file, *ca_path, *cert_file, *key_file;
        bool tls_insecure;
    } mqtt;
    struct {
        char *state_dir; /* default /var/lib/ecmond */
        char *rrd_dir;   /* default <state_dir>/rrd */
        int rrd_step;    /* default 60 */
        char *rrdcached; /* NULL: write files directly */
        int rrd_flush;   /* s a meter's RRD updates may wait to be written
                          * together (no rrdcached); 0: at once; default 60 */
    } storage;
    struct {
        char *socket; /* default /run/ecmond/ecmond.sock */
    } control;
    char **profile_dirs;
    size_t nprofile_dirs;
    struct conf_bus *buses;
    size_t nbuses;
    struct conf_profile *profiles; /* inline first, then library ones
                                      (sorted by file name) that no inline
                                      profile overrides */
    size_t nprofiles;
    struct conf_meter *meters; /* all meters, enterprise order */
    size_t nmeters;
    struct conf_enterprise *enterprises;
    size_t nenterprises;
    struct {
        double warn, critical, hysteresis; /* 0.80 0.95 0.02 */
        int forecast_window_days;          /* 7 */
        char **exec;                       /* NULL-terminated argv or NULL */
        int exec_timeout;                  /* seconds, default 10 */
    } alerts;
    struct {
        double electricity_kgce_per_kwh, gas_kgce_per_m3, steam_kgce_per_t,
            heat_kgce_per_gj;
    } energy_factors;
    struct {
        double max_mb;    /* 256 */
        int max_age_days; /* 30 */
        int hold_ms;      /* a message acknowledged sooner is never written to
                           * ecmond.db; 1000 (0: write every message) */
    } outbox;
    char *run_as;
    struct {
        bool enabled;
        char *listen;
        struct conf_token *tokens;
        size_t ntokens;
    } http;

    char **files; /* interned file names for conf_src */
    size_t nfiles;
};

/* Collected error messages, each already "file:line: message". */
struct conf_errors {
    char **msgs;
    size_t n;
};

/* Load and validate the configuration at `path`. Returns the config, or NULL
 * with every error found appended to `errs` (all of them, not only the
 * first). The caller frees both with conf_free / conf_errors_free.
 * Relative @include paths (also those in included files) and relative
 * profile_dirs resolve from the directory of `path`; libconfig 1.5 cannot
 * mix in absolute @include paths, so those are an error. */
struct conf *conf_load(const char *path, struct conf_errors *errs);

/* Same, from an in-memory buffer; `name` is used as the file name in
 * messages and relative @include and profile_dirs resolve from the current
 * directory. For tests and fuzzing. */
struct conf *conf_load_string(const char *text, const char *name,
                              struct conf_errors *errs);

void conf_free(struct conf *conf);
void conf_errors_free(struct conf_errors *errs);

/* Append "file:line: message" to errs (just "file: message" when src->line
 * is 0). Control characters in the message become '?', so that every error
 * stays on one line. Aborts if memory runs out. */
void conf_errors_add(struct conf_errors *errs, const struct conf_src *src,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Cross-reference checks of a config whose meters' bus and profile indices
 * are already resolved (-1 where unknown): duplicate ids, dangling or
 * wrongly-typed `meter.point` references (which it resolves), overlapping
 * registers, quotas that nothing can measure. Appends every error to errs
 * and returns how many it found. Called by the loader. */
size_t conf_validate(struct conf *conf, struct conf_errors *errs);

/* Print the normalized config (every default made explicit, the profiles
 * that meters use expanded inline after `profile_dirs = [ ];`, stable
 * order, floats that reparse exactly) in libconfig syntax that conf_load
 * reads back to the same print. Never reads password_file. */
void conf_print(const struct conf *conf, FILE *out);

/* Name tables for printing and messages. */
const char *conf_type_name(enum conf_type t);
const char *conf_kind_name(enum conf_kind k);
const char *conf_pollutant_name(enum conf_pollutant p);
const char *conf_measure_unit(const struct conf_quota *q);
const char *conf_period_name(enum conf_period p);
/* A quota's measure as written in the config ("cod_kg"), in buf. */
const char *conf_measure_name(const struct conf_quota *q, char *buf,
                              size_t len);
/* Registers a point occupies: 1, 2, 3 or 4. */
int conf_type_width(enum conf_type t);

/* Index of the meter with this id, or -1. */
int conf_find_meter(const struct conf *c, const char *id);
/* Index of the named point in a meter's profile, or -1. */
int conf_find_point(const struct conf *c, int meter, const char *name);

/* The meter and its profile's point, for a sample's indices. */
static inline const struct conf_point *
conf_meter_point(const struct conf *c, int meter, int point)
{
    return &c->profiles[c->meters[meter].profile].points[point];
}

#endif
