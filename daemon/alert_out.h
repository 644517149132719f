/* Alert delivery: retained MQTT state, an event message, a log line and
 * the optional exec hook (argv, ECMON_* environment, a timeout, no shell,
 * never blocking the main loop). */
#ifndef ECMON_ALERT_OUT_H
#define ECMON_ALERT_OUT_H

#include <stdbool.h>

#include "config/config.h"
#include "daemon/engine.h"

struct outbox;
struct alert_out;

struct alert_out *alert_out_new(const struct conf *c);
void alert_out_free(struct alert_out *a);

/* Where to publish (NULL: nowhere): the retained state and, queued until
 * the broker acknowledges it, the event. */
void alert_out_set_outbox(struct alert_out *a, struct outbox *o);

/* Replay: when MAX_HOOKS hooks are running, wait for one to end (or be
 * killed at exec_timeout) instead of skipping the next hook. The daemon
 * never waits. */
void alert_out_set_wait(struct alert_out *a, bool wait);

/* Deliver one transition (an engine_out.alert). */
void alert_out_deliver(struct alert_out *a, const struct engine_alert *al);

/* Reap finished hooks and kill those past exec_timeout; call about once a
 * second (`now` monotonic). Returns how many hooks are still running. */
int alert_out_tick(struct alert_out *a, double now);

/* Wait (at most `timeout` seconds) for running hooks, then kill the rest. */
void alert_out_drain(struct alert_out *a, double timeout);

#endif
