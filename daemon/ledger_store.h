/* The ledger: exact hourly rows, point baselines, value added, alert
 * state and the MQTT outbox in SQLite (<state_dir>/ecmond.db): the only
 * SQLite user. */
#ifndef ECMON_LEDGER_STORE_H
#define ECMON_LEDGER_STORE_H

#include <stddef.h>
#include <stdint.h>

struct ledger;

/* Open (creating) the database in WAL mode with the schema. Returns NULL
 * with a message in err. */
struct ledger *ledger_open(const char *path, char *err, size_t errlen);
void ledger_close(struct ledger *l);

/* Group writes into one transaction (one fsync): begin, writes, commit.
 * Returns 0 or -1 with the message in err. */
int ledger_begin(struct ledger *l, char *err, size_t errlen);
int ledger_commit(struct ledger *l, char *err, size_t errlen);
int ledger_rollback(struct ledger *l);

/* Add to an hourly row (created at 0): amount and covered seconds add up,
 * flags are ORed. owner: enterprise id or "park"; outlet "" when none. */
int ledger_add(struct ledger *l, const char *owner, const char *outlet,
               const char *measure, int64_t hour, double amount, double covered,
               unsigned flags, char *err, size_t errlen);

/* Sum of an owner's measure over the hours in [from, to), all outlets
 * (outlet NULL) or one. Returns the sum (0 when no row), or NAN on error. */
double ledger_sum(struct ledger *l, const char *owner, const char *outlet,
                  const char *measure, int64_t from, int64_t to);

/* The earliest hourly row of an owner's measure: its hour and covered
 * seconds. Returns 0, or -1 when there is none. */
int ledger_first(struct ledger *l, const char *owner, const char *measure,
                 int64_t *hour, double *covered);

/* The hourly rows of one series in [from, to), in order: calls fn for
 * each. Returns the row count or -1. */
int ledger_rows(struct ledger *l, const char *owner, const char *outlet,
                const char *measure, int64_t from, int64_t to,
                void (*fn)(void *arg, int64_t hour, double amount,
                           double covered, unsigned flags),
                void *arg);

/* The last accepted reading of a point (totals' baselines; replays refuse
 * what is older). */
int ledger_save_point(struct ledger *l, const char *meter, const char *point,
                      double ts, double value, char *err, size_t errlen);
int ledger_load_points(struct ledger *l,
                       void (*fn)(void *arg, const char *meter,
                                  const char *point, double ts, double value),
                       void *arg);

/* An accounting event (reset, jump, wrap), kept as history. */
int ledger_add_event(struct ledger *l, double ts, const char *meter,
                     const char *point, const char *kind, double from,
                     double to, char *err, size_t errlen);

/* Value added per owner and period label ("2026", "2026-Q4", "2026-11");
 * a later set replaces the earlier. */
int ledger_set_va(struct ledger *l, const char *owner, const char *period,
                  double yuan, const char *source, double now, char *err,
                  size_t errlen);
int ledger_load_va(struct ledger *l,
                   void (*fn)(void *arg, const char *owner, const char *period,
                              double yuan),
                   void *arg);

/* Alert state by key ("bomin/cod-year", "bomin/main.cod"): the last state
 * announced, since when, and its payload. */
int ledger_set_alert(struct ledger *l, const char *key, const char *state,
                     double since, const char *payload, char *err,
                     size_t errlen);
int ledger_load_alerts(struct ledger *l,
                       void (*fn)(void *arg, const char *key, const char *state,
                                  double since, const char *payload),
                       void *arg);
int ledger_add_alert_history(struct ledger *l, double ts, const char *key,
                             const char *from, const char *to,
                             const char *payload, char *err, size_t errlen);

/* Free-form settings (e.g. the energy factors in use). */
int ledger_set_meta(struct ledger *l, const char *key, const char *value,
                    char *err, size_t errlen);
/* A setting's value into buf; 0, or -1 when there is none. */
int ledger_get_meta(struct ledger *l, const char *key, char *buf, size_t len);

/* The outbox table: MQTT messages waiting for the broker's acknowledgement
 * (daemon/outbox.c keeps the rules). Ids are given by the caller, growing:
 * they are the send order. A row's size is its topic and payload bytes. */
int ledger_outbox_put(struct ledger *l, int64_t id, double created,
                      const char *topic, const char *payload, size_t len,
                      char *err, size_t errlen);
int ledger_outbox_del(struct ledger *l, int64_t id, char *err, size_t errlen);
/* Delete the rows with after < id <= upto. Returns how many, or -1. */
int ledger_outbox_del_range(struct ledger *l, int64_t after, int64_t upto,
                            char *err, size_t errlen);
/* At most max rows with id > after, oldest first, until fn returns
 * nonzero (that row is not counted). The strings live until fn returns;
 * the payload is not NUL-terminated. Returns the rows taken, or -1. */
int ledger_outbox_next(struct ledger *l, int64_t after, int max,
                       int (*fn)(void *arg, int64_t id, const char *topic,
                                 const char *payload, size_t len),
                       void *arg);
/* The rows with id > after, oldest first, with their enqueue time (Unix)
 * and size, until fn returns nonzero. Returns 0 or -1. */
int ledger_outbox_scan(struct ledger *l, int64_t after,
                       int (*fn)(void *arg, int64_t id, double created,
                                 int64_t size),
                       void *arg);
/* Row count, sum of sizes and the highest id (0 when empty). Returns 0 or
 * -1. */
int ledger_outbox_totals(struct ledger *l, int64_t *count, int64_t *bytes,
                         int64_t *max_id);
/* The enqueue time of the oldest row, NAN when there is none. */
double ledger_outbox_oldest(struct ledger *l);

#endif
