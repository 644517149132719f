/* The ledger in SQLite: the only SQLite user. Errors are mapped to text
 * here, once (sqlite3_errmsg). */
#include "daemon/ledger_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA busy_timeout=5000;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS hourly("
    " owner TEXT NOT NULL, measure TEXT NOT NULL, outlet TEXT NOT NULL,"
    " hour INTEGER NOT NULL, amount REAL NOT NULL, covered REAL NOT NULL,"
    " flags INTEGER NOT NULL, PRIMARY KEY(owner, measure, outlet, hour))"
    " WITHOUT ROWID;"
    /* Period sums read (owner, measure, hour range): a covering index
     * answers them without touching the table. */
    "DROP INDEX IF EXISTS hourly_by_hour;"
    "CREATE INDEX IF NOT EXISTS hourly_sum ON hourly(owner, measure, hour,"
    " amount, covered);"
    "CREATE TABLE IF NOT EXISTS point_state(meter TEXT NOT NULL,"
    " point TEXT NOT NULL, ts REAL NOT NULL, value REAL NOT NULL,"
    " PRIMARY KEY(meter, point)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, ts REAL,"
    " meter TEXT, point TEXT, kind TEXT, from_value REAL, to_value REAL);"
    "CREATE TABLE IF NOT EXISTS value_added(owner TEXT NOT NULL,"
    " period TEXT NOT NULL, yuan REAL NOT NULL, source TEXT, updated REAL,"
    " PRIMARY KEY(owner, period)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alert_state(key TEXT PRIMARY KEY,"
    " state TEXT NOT NULL, since REAL NOT NULL, payload TEXT) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alert_history(id INTEGER PRIMARY KEY,"
    " ts REAL, key TEXT, from_state TEXT, to_state TEXT, payload TEXT);"
    /* MQTT messages not acknowledged by the broker yet, in send order; size
     * (topic + payload bytes) comes before the text so that trimming reads
     * no overflow pages. */
    "CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY,"
    " created REAL NOT NULL, size INTEGER NOT NULL, topic TEXT NOT NULL,"
    " payload BLOB NOT NULL);";

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_ADD,
    ST_SUM_ALL,
    ST_SUM_ONE,
    ST_ROWS,
    ST_SAVE_POINT,
    ST_LOAD_POINTS,
    ST_EVENT,
    ST_SET_VA,
    ST_LOAD_VA,
    ST_SET_ALERT,
    ST_LOAD_ALERTS,
    ST_ALERT_HISTORY,
    ST_SET_META,
    ST_FIRST,
    ST_GET_META,
    ST_OB_PUT,
    ST_OB_DEL,
    ST_OB_DEL_RANGE,
    ST_OB_NEXT,
    ST_OB_SCAN,
    ST_OB_TOTALS,
    ST_OB_OLDEST,
    ST_COUNT
};

static const char *const sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_ADD] = "INSERT INTO hourly VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
               " ON CONFLICT(owner, measure, outlet, hour) DO UPDATE SET"
               " amount = amount + excluded.amount,"
               " covered = covered + excluded.covered,"
               " flags = flags | excluded.flags",
    [ST_SUM_ALL] = "SELECT total(amount) FROM hourly WHERE owner = ?1 AND"
                   " measure = ?2 AND hour >= ?3 AND hour < ?4",
    [ST_SUM_ONE] = "SELECT total(amount) FROM hourly WHERE owner = ?1 AND"
                   " measure = ?2 AND outlet = ?5 AND hour >= ?3 AND"
                   " hour < ?4",
    [ST_ROWS] = "SELECT hour, amount, covered, flags FROM hourly WHERE"
                " owner = ?1 AND measure = ?2 AND outlet = ?5 AND"
                " hour >= ?3 AND hour < ?4 ORDER BY hour",
    [ST_SAVE_POINT] = "INSERT OR REPLACE INTO point_state VALUES(?1, ?2, ?3,"
                      " ?4)",
    [ST_LOAD_POINTS] = "SELECT meter, point, ts, value FROM point_state",
    [ST_EVENT] = "INSERT INTO events(ts, meter, point, kind, from_value,"
                 " to_value) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SET_VA] = "INSERT OR REPLACE INTO value_added VALUES(?1, ?2, ?3, ?4,"
                  " ?5)",
    [ST_LOAD_VA] = "SELECT owner, period, yuan FROM value_added",
    [ST_SET_ALERT] = "INSERT OR REPLACE INTO alert_state VALUES(?1, ?2, ?3,"
                     " ?4)",
    [ST_LOAD_ALERTS] = "SELECT key, state, since, payload FROM alert_state",
    [ST_ALERT_HISTORY] = "INSERT INTO alert_history(ts, key, from_state,"
                         " to_state, payload) VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_SET_META] = "INSERT OR REPLACE INTO meta VALUES(?1, ?2)",
    [ST_FIRST] = "SELECT hour, covered FROM hourly WHERE owner = ?1 AND"
                 " measure = ?2 ORDER BY hour LIMIT 1",
    [ST_GET_META] = "SELECT value FROM meta WHERE key = ?1",
    [ST_OB_PUT] = "INSERT INTO outbox VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_OB_DEL] = "DELETE FROM outbox WHERE id = ?1",
    [ST_OB_DEL_RANGE] = "DELETE FROM outbox WHERE id > ?1 AND id <= ?2",
    [ST_OB_NEXT] = "SELECT id, topic, payload FROM outbox WHERE id > ?1"
                   " ORDER BY id LIMIT ?2",
    [ST_OB_SCAN] = "SELECT id, created, size FROM outbox WHERE id > ?1"
                   " ORDER BY id",
    [ST_OB_TOTALS] = "SELECT count(*), total(size), ifnull(max(id), 0) FROM"
                     " outbox",
    [ST_OB_OLDEST] = "SELECT created FROM outbox ORDER BY id LIMIT 1",
};

struct ledger {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

static int
fail(struct ledger *l, char *err, size_t errlen, const char *what)
{
    if (err)
        snprintf(err, errlen, "ledger: %s: %s", what, sqlite3_errmsg(l->db));
    return -1;
}

struct ledger *
ledger_open(const char *path, char *err, size_t errlen)
{
    struct ledger *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "ledger: out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &l->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "ledger %s: %s", path,
                 l->db ? sqlite3_errmsg(l->db) : "out of memory");
        goto fail;
    }
    char *msg = NULL;
    if (sqlite3_exec(l->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "ledger %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(l->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &l->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "ledger: %s: %s", sql[i],
                     sqlite3_errmsg(l->db));
            goto fail;
        }
    return l;
fail:
    ledger_close(l);
    return NULL;
}

void
ledger_close(struct ledger *l)
{
    if (l == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(l->st[i]);
    sqlite3_close(l->db);
    free(l);
}

/* Run a statement that returns no rows. */
static int
step_done(struct ledger *l, int which, char *err, size_t errlen)
{
    sqlite3_stmt *s = l->st[which];
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE)
        return fail(l, err, errlen, sql[which]);
    return 0;
}

int
ledger_begin(struct ledger *l, char *err, size_t errlen)
{
    return step_done(l, ST_BEGIN, err, errlen);
}

int
ledger_commit(struct ledger *l, char *err, size_t errlen)
{
    return step_done(l, ST_COMMIT, err, errlen);
}

int
ledger_rollback(struct ledger *l)
{
    return step_done(l, ST_ROLLBACK, NULL, 0);
}

int
ledger_add(struct ledger *l, const char *owner, const char *outlet,
           const char *measure, int64_t hour, double amount, double covered,
           unsigned flags, char *err, size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_ADD];
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, measure, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, outlet, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, hour);
    sqlite3_bind_double(s, 5, amount);
    sqlite3_bind_double(s, 6, covered);
    sqlite3_bind_int64(s, 7, flags);
    return step_done(l, ST_ADD, err, errlen);
}

static void
bind_series(sqlite3_stmt *s, const char *owner, const char *outlet,
            const char *measure, int64_t from, int64_t to)
{
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, measure, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, from);
    sqlite3_bind_int64(s, 4, to);
    if (outlet)
        sqlite3_bind_text(s, 5, outlet, -1, SQLITE_STATIC);
}

double
ledger_sum(struct ledger *l, const char *owner, const char *outlet,
           const char *measure, int64_t from, int64_t to)
{
    sqlite3_stmt *s = l->st[outlet ? ST_SUM_ONE : ST_SUM_ALL];
    bind_series(s, owner, outlet, measure, from, to);
    double v = NAN;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_double(s, 0);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return v;
}

int
ledger_rows(struct ledger *l, const char *owner, const char *outlet,
            const char *measure, int64_t from, int64_t to,
            void (*fn)(void *arg, int64_t hour, double amount, double covered,
                       unsigned flags),
            void *arg)
{
    sqlite3_stmt *s = l->st[ST_ROWS];
    int n = 0, rc;
    bind_series(s, owner, outlet ? outlet : "", measure, from, to);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        fn(arg, sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1),
           sqlite3_column_double(s, 2), (unsigned)sqlite3_column_int64(s, 3));
        n++;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? n : -1;
}

int
ledger_save_point(struct ledger *l, const char *meter, const char *point,
                  double ts, double value, char *err, size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_SAVE_POINT];
    sqlite3_bind_text(s, 1, meter, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, point, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, ts);
    sqlite3_bind_double(s, 4, value);
    return step_done(l, ST_SAVE_POINT, err, errlen);
}

int
ledger_load_points(struct ledger *l,
                   void (*fn)(void *arg, const char *meter, const char *point,
                              double ts, double value),
                   void *arg)
{
    sqlite3_stmt *s = l->st[ST_LOAD_POINTS];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(s, 0),
           (const char *)sqlite3_column_text(s, 1), sqlite3_column_double(s, 2),
           sqlite3_column_double(s, 3));
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
ledger_add_event(struct ledger *l, double ts, const char *meter,
                 const char *point, const char *kind, double from, double to,
                 char *err, size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_EVENT];
    sqlite3_bind_double(s, 1, ts);
    sqlite3_bind_text(s, 2, meter, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, point, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 5, from);
    sqlite3_bind_double(s, 6, to);
    return step_done(l, ST_EVENT, err, errlen);
}

int
ledger_set_va(struct ledger *l, const char *owner, const char *period,
              double yuan, const char *source, double now, char *err,
              size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_SET_VA];
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, period, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, yuan);
    sqlite3_bind_text(s, 4, source, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 5, now);
    return step_done(l, ST_SET_VA, err, errlen);
}

int
ledger_load_va(struct ledger *l,
               void (*fn)(void *arg, const char *owner, const char *period,
                          double yuan),
               void *arg)
{
    sqlite3_stmt *s = l->st[ST_LOAD_VA];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(s, 0),
           (const char *)sqlite3_column_text(s, 1),
           sqlite3_column_double(s, 2));
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
ledger_set_alert(struct ledger *l, const char *key, const char *state,
                 double since, const char *payload, char *err, size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_SET_ALERT];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, since);
    sqlite3_bind_text(s, 4, payload, -1, SQLITE_STATIC);
    return step_done(l, ST_SET_ALERT, err, errlen);
}

int
ledger_load_alerts(struct ledger *l,
                   void (*fn)(void *arg, const char *key, const char *state,
                              double since, const char *payload),
                   void *arg)
{
    sqlite3_stmt *s = l->st[ST_LOAD_ALERTS];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(s, 3);
        fn(arg, (const char *)sqlite3_column_text(s, 0),
           (const char *)sqlite3_column_text(s, 1), sqlite3_column_double(s, 2),
           p ? p : "");
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
ledger_add_alert_history(struct ledger *l, double ts, const char *key,
                         const char *from, const char *to, const char *payload,
                         char *err, size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_ALERT_HISTORY];
    sqlite3_bind_double(s, 1, ts);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, payload, -1, SQLITE_STATIC);
    return step_done(l, ST_ALERT_HISTORY, err, errlen);
}

int
ledger_set_meta(struct ledger *l, const char *key, const char *value, char *err,
                size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_SET_META];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    return step_done(l, ST_SET_META, err, errlen);
}

int
ledger_first(struct ledger *l, const char *owner, const char *measure,
             int64_t *hour, double *covered)
{
    sqlite3_stmt *s = l->st[ST_FIRST];
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, measure, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *hour = sqlite3_column_int64(s, 0);
        *covered = sqlite3_column_double(s, 1);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

int
ledger_get_meta(struct ledger *l, const char *key, char *buf, size_t len)
{
    sqlite3_stmt *s = l->st[ST_GET_META];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

int
ledger_outbox_put(struct ledger *l, int64_t id, double created,
                  const char *topic, const char *payload, size_t len, char *err,
                  size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_OB_PUT];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_double(s, 2, created);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)(strlen(topic) + len));
    sqlite3_bind_text(s, 4, topic, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, len ? payload : "", (int)len, SQLITE_STATIC);
    return step_done(l, ST_OB_PUT, err, errlen);
}

int
ledger_outbox_del(struct ledger *l, int64_t id, char *err, size_t errlen)
{
    sqlite3_bind_int64(l->st[ST_OB_DEL], 1, id);
    return step_done(l, ST_OB_DEL, err, errlen);
}

int
ledger_outbox_del_range(struct ledger *l, int64_t after, int64_t upto,
                        char *err, size_t errlen)
{
    sqlite3_stmt *s = l->st[ST_OB_DEL_RANGE];
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, upto);
    if (step_done(l, ST_OB_DEL_RANGE, err, errlen) == -1)
        return -1;
    return sqlite3_changes(l->db);
}

int
ledger_outbox_next(struct ledger *l, int64_t after, int max,
                   int (*fn)(void *arg, int64_t id, const char *topic,
                             const char *payload, size_t len),
                   void *arg)
{
    sqlite3_stmt *s = l->st[ST_OB_NEXT];
    int n = 0, rc;
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int(s, 2, max);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *p = sqlite3_column_blob(s, 2);
        size_t len = (size_t)sqlite3_column_bytes(s, 2);
        const char *topic = (const char *)sqlite3_column_text(s, 1);
        if (fn(arg, sqlite3_column_int64(s, 0), topic ? topic : "", p ? p : "",
               len) != 0) {
            rc = SQLITE_DONE;
            break;
        }
        n++;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? n : -1;
}

int
ledger_outbox_scan(struct ledger *l, int64_t after,
                   int (*fn)(void *arg, int64_t id, double created,
                             int64_t size),
                   void *arg)
{
    sqlite3_stmt *s = l->st[ST_OB_SCAN];
    int rc;
    sqlite3_bind_int64(s, 1, after);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(arg, sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1),
               sqlite3_column_int64(s, 2)) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
ledger_outbox_totals(struct ledger *l, int64_t *count, int64_t *bytes,
                     int64_t *max_id)
{
    sqlite3_stmt *s = l->st[ST_OB_TOTALS];
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *count = sqlite3_column_int64(s, 0);
        *bytes = (int64_t)sqlite3_column_double(s, 1);
        *max_id = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

double
ledger_outbox_oldest(struct ledger *l)
{
    sqlite3_stmt *s = l->st[ST_OB_OLDEST];
    double v = NAN;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_double(s, 0);
    sqlite3_reset(s);
    return v;
}
