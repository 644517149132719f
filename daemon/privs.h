/* run_as: ecmond starts as root, opens what needs root (the control
 * socket's directory, a low HTTP port, the state directories), hands its
 * state to the configured user and becomes that user for good. */
#ifndef ECMON_PRIVS_H
#define ECMON_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct privs {
    char user[64];
    uid_t uid;
    gid_t gid;
    int active; /* started as root with run_as set */
};

/* Look up `user` (NULL: nothing to do). Returns 0, or -1 with a message in
 * err for a user that does not exist. Not root: p->active stays 0 (the
 * daemon runs as who started it). */
int privs_init(struct privs *p, const char *user, char *err, size_t errlen);

/* Give `path` to the user (and, with `recursive`, what is under it, not
 * following symbolic links). No-op unless active. Returns 0 or -1 with a
 * message in err. */
int privs_own(const struct privs *p, const char *path, int recursive, char *err,
              size_t errlen);

/* Become the user: supplementary groups, group, user; checks that root
 * cannot be regained. No-op unless active. Returns 0 or -1 with err. */
int privs_drop(const struct privs *p, char *err, size_t errlen);

#endif
