/* Alert delivery: retained MQTT state, an event message, a log line and the
 * optional exec hook, run with fork/exec (no shell) and reaped from the main
 * loop, killed after exec_timeout. */
#include "daemon/alert_out.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/clock.h"
#include "daemon/core/topic.h"
#include "daemon/log.h"
#include "daemon/outbox.h"
#include "daemon/spawn.h"

#define MAX_HOOKS 16

struct hook {
    pid_t pid;
    double deadline;
    char what[160];
};

struct alert_out {
    const struct conf *c;
    struct outbox *outbox;
    struct hook hooks[MAX_HOOKS];
    int nrunning;
    int skipped_logged;
    bool wait; /* for a free slot rather than skip (replay) */
};

struct alert_out *
alert_out_new(const struct conf *c)
{
    struct alert_out *a = calloc(1, sizeof *a);
    if (a)
        a->c = c;
    return a;
}

void
alert_out_set_outbox(struct alert_out *a, struct outbox *o)
{
    a->outbox = o;
}

void
alert_out_set_wait(struct alert_out *a, bool wait)
{
    a->wait = wait;
}

static struct hook *
free_slot(struct alert_out *a)
{
    for (int i = 0; i < MAX_HOOKS; i++)
        if (a->hooks[i].pid == 0)
            return &a->hooks[i];
    return NULL;
}

static void
run_hook(struct alert_out *a, const struct engine_alert *al)
{
    char *const *argv = a->c->alerts.exec;
    if (argv == NULL || argv[0] == NULL)
        return;
    struct hook *h = free_slot(a);
    /* A slot frees within exec_timeout: tick kills a hook past it. */
    while (h == NULL && a->wait) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
        alert_out_tick(a, mono_now());
        h = free_slot(a);
    }
    if (h == NULL) {
        if (!a->skipped_logged)
            log_warnx("alert hook: %d hooks still running; not running it "
                      "for %s/%s",
                      MAX_HOOKS, al->owner, al->name);
        a->skipped_logged = 1;
        return;
    }
    a->skipped_logged = 0;

    /* Everything the child needs is built before spawn_child. */
    char env_park[96], env_ent[96], env_alert[128], env_from[48], env_to[48],
        env_ts[48], env_topic[320];
    char *env_payload = malloc(strlen(al->payload) + 16);
    if (env_payload == NULL)
        return;
    snprintf(env_park, sizeof env_park, "ECMON_PARK=%s", a->c->park.id);
    snprintf(env_ent, sizeof env_ent, "ECMON_ENTERPRISE=%s", al->owner);
    snprintf(env_alert, sizeof env_alert, "ECMON_ALERT=%s", al->name);
    snprintf(env_from, sizeof env_from, "ECMON_FROM=%s", al->from);
    snprintf(env_to, sizeof env_to, "ECMON_STATE=%s", al->to);
    snprintf(env_ts, sizeof env_ts, "ECMON_TS=%.3f", al->ts);
    snprintf(env_topic, sizeof env_topic, "ECMON_TOPIC=%s/%s/alerts/%s/%s",
             a->c->mqtt.prefix, a->c->park.id, al->owner, al->name);
    sprintf(env_payload, "ECMON_PAYLOAD=%s", al->payload);
    char *envp[] = {env_park,  env_ent,     env_alert,
                    env_from,  env_to,      env_ts,
                    env_topic, env_payload, "PATH=/usr/local/bin:/usr/bin:/bin",
                    NULL};

    pid_t pid = spawn_child(argv, envp, -1, -1);
    free(env_payload);
    if (pid == -1) {
        log_warn("alert hook: fork");
        return;
    }
    h->pid = pid;
    h->deadline = mono_now() + a->c->alerts.exec_timeout;
    snprintf(h->what, sizeof h->what, "%s/%s %s", al->owner, al->name, al->to);
    a->nrunning++;
}

void
alert_out_deliver(struct alert_out *a, const struct engine_alert *al)
{
    const struct conf *c = a->c;
    char topic[320], event[2048], owner[96], name[160];

    if (strcmp(al->to, "ok") == 0)
        log_info("alert %s/%s: %s -> ok (cleared)", al->owner, al->name,
                 al->from);
    else
        log_warnx("alert %s/%s: %s -> %s: %s", al->owner, al->name, al->from,
                  al->to, al->payload);
    if (a->outbox) {
        snprintf(topic, sizeof topic, "%s/%s/alerts/%s/%s", c->mqtt.prefix,
                 c->park.id, al->owner, al->name);
        outbox_publish(a->outbox, topic, al->payload, strlen(al->payload),
                       true);
        topic_json_string(owner, sizeof owner, al->owner);
        topic_json_string(name, sizeof name, al->name);
        int n = snprintf(event, sizeof event,
                         "{\"ts\":%.3f,\"enterprise\":%s,\"alert\":%s,"
                         "\"from\":\"%s\",\"to\":\"%s\",\"detail\":%s}",
                         al->ts, owner, name, al->from, al->to, al->payload);
        snprintf(topic, sizeof topic, "%s/%s/events", c->mqtt.prefix,
                 c->park.id);
        if (n > 0 && (size_t)n < sizeof event)
            outbox_publish(a->outbox, topic, event, (size_t)n, false);
    }
    run_hook(a, al);
}

int
alert_out_tick(struct alert_out *a, double now)
{
    for (int i = 0; i < MAX_HOOKS; i++) {
        struct hook *h = &a->hooks[i];
        if (h->pid == 0)
            continue;
        int status;
        pid_t r = waitpid(h->pid, &status, WNOHANG);
        if (r == h->pid) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                log_warnx("alert hook for %s: cannot run %s", h->what,
                          a->c->alerts.exec[0]);
            else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                log_warnx("alert hook for %s: exit status %d", h->what,
                          WEXITSTATUS(status));
            else if (WIFSIGNALED(status))
                log_warnx("alert hook for %s: killed by signal %d", h->what,
                          WTERMSIG(status));
            h->pid = 0;
            a->nrunning--;
        } else if (r == -1 && errno == ECHILD) {
            h->pid = 0;
            a->nrunning--;
        } else if (now >= h->deadline) {
            kill(-h->pid, SIGKILL); /* the hook and what it started */
            log_warnx("alert hook for %s: killed after %d s", h->what,
                      a->c->alerts.exec_timeout);
            h->deadline = now + 3600; /* reaped on a later tick */
        }
    }
    return a->nrunning;
}

void
alert_out_drain(struct alert_out *a, double timeout)
{
    double end = mono_now() + timeout;
    while (alert_out_tick(a, mono_now()) > 0 && mono_now() < end) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < MAX_HOOKS; i++)
        if (a->hooks[i].pid > 0) {
            kill(-a->hooks[i].pid, SIGKILL);
            waitpid(a->hooks[i].pid, NULL, 0);
            a->hooks[i].pid = 0;
        }
    a->nrunning = 0;
}

void
alert_out_free(struct alert_out *a)
{
    if (a == NULL)
        return;
    alert_out_drain(a, 0);
    free(a);
}
