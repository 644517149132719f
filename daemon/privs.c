/* Dropping root for run_as. */
#include "daemon/privs.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
privs_init(struct privs *p, const char *user, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (user == NULL)
        return 0;
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        snprintf(err, errlen, "run_as \"%s\": %s", user,
                 errno ? strerror(errno) : "no such user");
        return -1;
    }
    snprintf(p->user, sizeof p->user, "%s", user);
    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
    p->active = geteuid() == 0 && p->uid != 0;
    return 0;
}

/* nftw has no closure: the ids and the first error of the walk. */
static uid_t walk_uid;
static gid_t walk_gid;
static int walk_errno;
static char walk_path[512];

static int
own_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)type;
    (void)f;
    if (lchown(path, walk_uid, walk_gid) == -1 && walk_errno == 0) {
        walk_errno = errno;
        snprintf(walk_path, sizeof walk_path, "%s", path);
    }
    return 0;
}

int
privs_own(const struct privs *p, const char *path, int recursive, char *err,
          size_t errlen)
{
    if (!p->active)
        return 0;
    walk_uid = p->uid;
    walk_gid = p->gid;
    walk_errno = 0;
    if (!recursive)
        own_one(path, NULL, 0, NULL);
    else if (nftw(path, own_one, 16, FTW_PHYS) == -1 && walk_errno == 0) {
        walk_errno = errno;
        snprintf(walk_path, sizeof walk_path, "%s", path);
    }
    if (walk_errno == 0)
        return 0;
    snprintf(err, errlen, "chown %s to %s: %s", walk_path, p->user,
             strerror(walk_errno));
    return -1;
}

int
privs_drop(const struct privs *p, char *err, size_t errlen)
{
    if (!p->active)
        return 0;
    if (initgroups(p->user, p->gid) == -1 || setgid(p->gid) == -1 ||
        setuid(p->uid) == -1) {
        snprintf(err, errlen, "run_as \"%s\": %s", p->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 || geteuid() == 0) {
        snprintf(err, errlen, "run_as \"%s\": root could be regained", p->user);
        return -1;
    }
    return 0;
}
