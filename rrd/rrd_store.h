/* The RRD store: creates and updates the meters', quotas' and park capacity
 * RRD files (DESIGN §7), directly with librrd or through rrdcached. The only
 * librrd user. */
#ifndef ECMON_RRD_STORE_H
#define ECMON_RRD_STORE_H

#include <stddef.h>

#include "config/config.h"

/* rrdstore_update_*: the update was not newer than the file's last. */
#define RRDSTORE_SKIPPED 1

struct rrdstore;

/* Open a store for the meters and quotas of c, and the park capacity when
 * c has park.wwtp (storage.rrd_dir, rrd_step, rrdcached, rrd_flush). Lays out
 * every file now (nothing is created yet; quota and capacity files with the
 * heartbeat of an update every 60 s) and, when
 * storage.rrdcached is set, connects to it ("unix:/path", "/path",
 * "host:port", "[v6addr]:port"). The store copies what it needs; c may be
 * freed afterwards. Returns NULL with a message in err on a meter whose
 * points cannot be RRD data sources, a path too long, an rrdcached that
 * does not answer, or no memory.
 *
 * rrdcached: through a unix socket, files are named by their absolute path
 * and ecmond makes their directories (so rrdcached must see the same
 * filesystem, with write access to those 0750 directories, e.g. the same
 * user or group). Through TCP, files are named relative to rrd_dir, so
 * rrdcached must run with -b set to that directory, and with -R to create
 * the enterprise directories. A meter with so many points that an update or
 * create does not fit rrdcached's 4096-byte command line is refused here.
 * librrd's rrdcached client is one connection per process: open at most one
 * store with rrdcached at a time (a new one before closing the old is fine
 * when both use the same address). The process must ignore SIGPIPE: librrd
 * writes to the socket without MSG_NOSIGNAL.
 *
 * A store is used by one thread at a time. */
struct rrdstore *rrdstore_open(const struct conf *c, char *err, size_t errlen);

/* Write one reading of meter (index into c->meters) at ts (Unix seconds,
 * truncated to the whole second, 1980 or later): values has one value per
 * profile point, in profile order, NAN (or an infinity) for unknown; they go
 * into the file in one update. The first update of a meter creates its file
 * (and directories) with --start ts-1 if it is missing; if the file exists it
 * reads its last update time and checks that its data sources are the
 * profile's points, in order (refusing the meter until the next open if
 * not: move the file aside to start a new one).
 * With storage.rrd_flush > 0 and no rrdcached, the update waits in memory
 * with the file's others and is written by rrdstore_tick, rrdstore_flush or
 * rrdstore_flush_meter, or when BATCH_MAX (64) wait.
 * Returns 0 when written or kept, RRDSTORE_SKIPPED (nothing written, not an
 * error) when ts is not in a later second than the file's last update (rrdtool
 * accepts at most one update per second), or -1 with a message in err. After
 * an error the next update reads the file's state again. No allocation in
 * the steady state (librrd allocates inside). */
int rrdstore_update_meter(struct rrdstore *st, int meter, double ts,
                          const double *values, char *err, size_t errlen);

/* Write the state of quota (index into the quotas of enterprise, an index
 * into c->enterprises; enterprise -1: c->park.quotas) at ts into its file
 * quota-<id>.rrd: used, limit and projected, each NAN (or an infinity) for
 * unknown. The file's life, ts and the result are as for
 * rrdstore_update_meter. Updates once a minute fit the file's heartbeat. */
int rrdstore_update_quota(struct rrdstore *st, int enterprise, int quota,
                          double ts, double used, double limit,
                          double projected, char *err, size_t errlen);

/* Write the park WWTP's inflow, capacity and headroom (m3/day, NAN or an
 * infinity for unknown) at ts into park/capacity.rrd, as
 * rrdstore_update_quota does. Returns -1 with a message in err if the
 * config the store was opened with has no park.wwtp. */
int rrdstore_update_capacity(struct rrdstore *st, double ts,
                             double inflow_m3_day, double capacity_m3_day,
                             double headroom_m3_day, char *err, size_t errlen);

/* Create every missing file (with --start now-1) and check every existing
 * one now, rather than at each one's first update: a daemon does this
 * before it starts polling, so that creating thousands of files (each
 * ~2 MB at rrd_step 60) does not hold up the readings. Returns how many
 * failed; their next update tries again and reports why. */
size_t rrdstore_prepare_all(struct rrdstore *st, double now);

/* Write the meter files' waiting updates whose time has come: each file
 * once per storage.rrd_flush seconds, the files' turns spread over that
 * period; now is Unix time. Call it about once a second. Returns 0, or -1
 * with a message in err naming the first failure and how many other files
 * failed (their waiting updates are lost; the files' next updates read
 * their state again). */
int rrdstore_tick(struct rrdstore *st, double now, char *err, size_t errlen);

/* Write every waiting update now, and through rrdcached write out the files
 * updated since the last flush (each FLUSH waits until rrdcached has
 * written the file). Returns 0, or -1 with a message in err naming the
 * first failure and how many other files failed (with rrdcached those stay
 * to be flushed next time). */
int rrdstore_flush(struct rrdstore *st, char *err, size_t errlen);

/* rrdstore_flush for the file of one meter (index into c->meters): before
 * reading the file, e.g. to draw it. */
int rrdstore_flush_meter(struct rrdstore *st, int meter, char *err,
                         size_t errlen);

/* Free the store; with rrdcached, disconnect when no other store uses the
 * connection. Does not flush: call rrdstore_flush first on shutdown. NULL
 * is allowed. */
void rrdstore_close(struct rrdstore *st);

#endif
