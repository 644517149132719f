/* The profile library: profile_dirs, the profile files in them (in name
 * order), and merging their profiles with the inline ones. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

#ifndef ECMON_PROFILE_DIR
#define ECMON_PROFILE_DIR "/usr/share/ecmond/profiles"
#endif

void
cload_profile_dirs(struct cload *x, const config_setting_t *root,
                   const char *base)
{
    struct conf *c = x->conf;
    size_t n;
    struct conf_src *srcs = NULL;
    char **dirs = cload_get_strings(x, root, "profile_dirs", &n, &srcs);
    if (cload_member(root, "profile_dirs") == NULL) {
        x->default_dirs = true;
        dirs = cload_calloc(2, sizeof(char *));
        dirs[0] = cload_strdup(ECMON_PROFILE_DIR);
        n = 1;
        srcs = cload_calloc(1, sizeof(*srcs));
        srcs[0] = cload_src(x, NULL);
    }
    if (dirs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        char *abs = cload_join(base, dirs[i]);
        free(dirs[i]);
        dirs[i] = abs;
    }
    c->profile_dirs = dirs;
    c->nprofile_dirs = n;
    x->dir_src = srcs;
}

static int
conf_file_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 &&
           strcmp(d->d_name + n - 5, ".conf") == 0;
}

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static const char *const library_keys[] = {"profiles", NULL};

static void
walk_library_file(struct cload *x, const config_setting_t *root,
                  const char *dir)
{
    (void)dir;
    cload_check_keys(x, root, "a profile file", library_keys);
    if (cload_member(root, "profiles") == NULL)
        cload_err(x, NULL, "missing 'profiles = ( ... );'");
    cload_profiles(x, root, &x->lib, &x->nlib, true);
}

static void
load_files(struct cload *x)
{
    struct conf *c = x->conf;
    for (size_t i = 0; i < c->nprofile_dirs; i++) {
        const char *dir = c->profile_dirs[i];
        struct dirent **list;
        int n = scandir(dir, &list, conf_file_filter, name_cmp);
        if (n < 0) {
            if (!x->default_dirs)
                cload_err_src(x, &x->dir_src[i],
                              "cannot read profile directory "
                              "'%s': %s",
                              dir, strerror(errno));
            continue;
        }
        for (int k = 0; k < n; k++) {
            char *path = cload_join(dir, list[k]->d_name);
            cload_parse(x, path, NULL, dir, walk_library_file);
            free(path);
            free(list[k]);
        }
        free(list);
    }
}

/* conf->profiles = the inline ones, then every library profile not
 * overridden by an inline one of the same id. */
static void
merge_profiles(struct cload *x)
{
    struct conf *c = x->conf;
    size_t ninline = c->nprofiles;
    for (size_t i = 0; i < x->nlib; i++) {
        struct conf_profile *p = &x->lib[i];
        bool keep = p->id[0] != '\0';
        for (size_t k = 0; keep && k < i; k++)
            if (strcmp(x->lib[k].id, p->id) == 0) {
                cload_err_src(x, &p->src,
                              "profile '%s' is also defined at %s:%d", p->id,
                              x->lib[k].src.file, x->lib[k].src.line);
                keep = false;
            }
        for (size_t k = 0; keep && k < ninline; k++)
            if (strcmp(c->profiles[k].id, p->id) == 0)
                keep = false; /* overridden */
        if (keep) {
            struct conf_profile *d =
                cload_append(&c->profiles, &c->nprofiles, sizeof(*d));
            *d = *p;
        } else {
            free(p->points);
        }
    }
    free(x->lib);
    x->lib = NULL;
    x->nlib = 0;
}

void
cload_library(struct cload *x)
{
    load_files(x);
    merge_profiles(x);
}
