/* Private to the config loader (load.c and the files it is split into):
 * the state of one load, allocation helpers, `file:line: message` errors,
 * typed getters with range checks, and the loader of each section. Only
 * this header and its .c files include libconfig.h. */
#ifndef ECMON_CONFIG_LOADER_H
#define ECMON_CONFIG_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "config/config.h"

struct cload_bigint;  /* bigint.c */
struct cload_pending; /* meters.c */

/* The file being walked: the main file, or one library file. */
struct cload_file {
    const char *raw;   /* its name as libconfig records it, or NULL */
    const char *name;  /* interned name for messages */
    const char *text;  /* for conf_load_string: the text itself */
    char *include_dir; /* where @include resolves; NULL: cwd */
};

/* The state of one conf_load or conf_load_string. */
struct cload {
    struct conf *conf;
    struct conf_errors *errs;
    struct cload_file file;
    /* Integer literals libconfig truncated, per file already scanned. */
    struct cload_bigint *big;
    size_t nbig;
    const char **scanned;
    size_t nscanned;
    struct cload_pending *pend; /* parallel to conf->meters */
    struct conf_src *dir_src;   /* parallel to conf->profile_dirs */
    bool default_dirs;          /* profile_dirs not given */
    struct conf_profile *lib;   /* library profiles, in file order */
    size_t nlib;
};

/* ---- errors.c: memory, file names, messages ---------------------------- */

/* These abort with a message on stderr when memory runs out. */
void *cload_calloc(size_t n, size_t size);
void *cload_reallocarray(void *p, size_t n, size_t size);
char *cload_strdup(const char *s);
/* Free *out and set it to a copy of s. */
void cload_strset(char **out, const char *s);
char *cload_asprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Append a zeroed element of `size` bytes to the array *arr of *n elements
 * (arr is the address of the array pointer); returns the new element. */
void *cload_append(void *arr, size_t *n, size_t size);

/* The file name kept in c->files equal to `name`, added if new. */
const char *cload_intern(struct conf *c, const char *name);
/* dir/name (malloc'ed), or a copy of name when it is absolute or dir is
 * NULL. */
char *cload_join(const char *dir, const char *name);
/* The name for messages of a file libconfig recorded as `raw`. */
const char *cload_file_name(struct cload *x, const char *raw);
/* Where s came from; the file being walked, line 0, for s NULL. */
struct conf_src cload_src(struct cload *x, const config_setting_t *s);
/* Report "file:line: message" at setting s, or at src. */
void cload_err(struct cload *x, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cload_err_src(struct cload *x, const struct conf_src *src, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));

/* ---- bigint.c: integers libconfig 1.5 truncates ----------------------- */

/* The value the user wrote for an int setting that libconfig stored as
 * `ival`, if its literal did not fit 32 bits: true with *out set (NAN if it
 * did not even fit 64 bits, reported when the file was scanned). */
bool cload_bigint_of(struct cload *x, const config_setting_t *s, int ival,
                     double *out);

/* ---- settings.c: typed access to settings ----------------------------- */

/* Member `key` of group g, or NULL (also for g NULL). */
config_setting_t *cload_member(const config_setting_t *g, const char *key);
/* Report every member of group g whose name is not in the NULL-terminated
 * keys, suggesting a near one; `what` NULL means the top level. */
void cload_check_keys(struct cload *x, const config_setting_t *g,
                      const char *what, const char *const *keys);
/* Report "missing required key 'key' in what" at g. */
void cload_missing(struct cload *x, const config_setting_t *g, const char *key,
                   const char *what);

/* The getters below read member `key` of group g (which may be NULL: all
 * absent). `what` names g in "missing required key" messages; `required`
 * reports an absent member. Every error is reported. */

/* A string: returns it, with *sp its setting; NULL if absent or not a
 * string. */
const char *cload_get_string(struct cload *x, const config_setting_t *g,
                             const char *key, const char *what, bool required,
                             const config_setting_t **sp);
/* A string copied into buf[size]; too long is an error. True if set. */
bool cload_get_strbuf(struct cload *x, const config_setting_t *g,
                      const char *key, const char *what, bool required,
                      char *buf, size_t size);
/* A string strdup'ed into *out (freeing what was there). True if set. */
bool cload_get_strdup(struct cload *x, const config_setting_t *g,
                      const char *key, const char *what, bool required,
                      char **out);
/* As cload_get_strdup, for a string that must not be empty. */
void cload_get_nonempty(struct cload *x, const config_setting_t *g,
                        const char *key, const char *what, bool required,
                        char **out);
/* As cload_get_strdup, for an absolute path. */
void cload_get_path(struct cload *x, const config_setting_t *g, const char *key,
                    const char *what, bool required, char **out);
/* The number in setting s (int, int64 or float, finite); false if it is
 * not one (reported). */
bool cload_num(struct cload *x, const config_setting_t *s, const char *key,
               double *out);
/* A number: 1 set in *out, 0 absent, -1 error. *sp is its setting. */
int cload_get_num(struct cload *x, const config_setting_t *g, const char *key,
                  const char *what, bool required, double *out,
                  const config_setting_t **sp);
/* A number > 0 (or >= 0 with `zero`), kept in *out if valid. */
void cload_get_positive(struct cload *x, const config_setting_t *g,
                        const char *key, const char *what, bool required,
                        bool zero, double *out);
/* An integer in [min, max] (a number with no fraction is one), kept in
 * *out if valid. Returns 1 set, 0 absent, -1 error. */
int cload_get_int(struct cload *x, const config_setting_t *g, const char *key,
                  const char *what, bool required, long long min, long long max,
                  int *out, const config_setting_t **sp);
void cload_get_bool(struct cload *x, const config_setting_t *g, const char *key,
                    bool *out);
/* A group; NULL if absent or not a group (reported). */
const config_setting_t *
cload_get_group(struct cload *x, const config_setting_t *g, const char *key);
/* A list (or an empty array); NULL if absent or not a list (reported). */
const config_setting_t *
cload_get_list(struct cload *x, const config_setting_t *g, const char *key);
/* Element i of list l if it is a group, else NULL with "each <what> must
 * be a group" reported. */
const config_setting_t *cload_elem_group(struct cload *x,
                                         const config_setting_t *l, int i,
                                         const char *what);
/* A NULL-terminated array of the strings in [ "a", "b" ] or a list, *n of
 * them, with their sources in *srcs if srcs is not NULL; NULL if absent or
 * not an array (reported). Elements that are not strings are reported and
 * skipped. */
char **cload_get_strings(struct cload *x, const config_setting_t *g,
                         const char *key, size_t *n, struct conf_src **srcs);
/* Member "id" ([a-z0-9_-]+) into buf[CONF_ID_MAX]: copied when it fits,
 * even if badly spelled, so that references to it do not cascade into more
 * errors. True if valid. */
bool cload_get_id(struct cload *x, const config_setting_t *g, const char *what,
                  char *buf);

/* A table of n names, name(0) .. name(n - 1), for enumerated members. */
typedef const char *cload_names_fn(int i);
/* Index of v in the table, or -1. */
int cload_name_index(const char *v, cload_names_fn *name, int n);
/* An enumerated member: its index, -2 if absent (reported if required),
 * -1 if invalid (reported). */
int cload_get_enum(struct cload *x, const config_setting_t *g, const char *key,
                   const char *what, bool required, cload_names_fn *name,
                   int n);
/* conf_pollutant_name as a cload_names_fn. */
const char *cload_pollutant_word(int i);
/* A `meter.point` reference, syntax only (validate.c resolves it). True if
 * set. */
bool cload_get_ref(struct cload *x, const config_setting_t *g, const char *key,
                   const char *what, bool required, struct conf_ref *r);

/* ---- load.c: parsing one file ---------------------------------------- */

typedef void cload_root_fn(struct cload *x, const config_setting_t *root,
                           const char *dir);
/* Parse the file `name`, or `text` if it is not NULL (named `name` in
 * messages), with @include resolving from dir (NULL: cwd), and walk its
 * root with fn(x, root, dir), x reporting errors in that file. Returns
 * whether it parsed; if not, the syntax error is reported. */
bool cload_parse(struct cload *x, const char *name, const char *text,
                 const char *dir, cload_root_fn *fn);
/* The whole file at path, NUL-terminated (malloc'ed); NULL if unreadable. */
char *cload_read_text(const char *path);

/* ---- the sections ------------------------------------------------------ */

/* Each reads its member of the main file's root, reports every error in
 * it and sets the defaults of what is left out. load.c calls them in a
 * fixed order, which is the order of their messages. */

/* park.c */
void cload_park(struct cload *x, const config_setting_t *root);

/* services.c */
void cload_mqtt(struct cload *x, const config_setting_t *root);
void cload_storage(struct cload *x, const config_setting_t *root);
void cload_control(struct cload *x, const config_setting_t *root);
void cload_alerts(struct cload *x, const config_setting_t *root);
void cload_energy_factors(struct cload *x, const config_setting_t *root);
void cload_outbox(struct cload *x, const config_setting_t *root);
void cload_run_as(struct cload *x, const config_setting_t *root);
void cload_http(struct cload *x, const config_setting_t *root);

/* buses.c */
void cload_buses(struct cload *x, const config_setting_t *root);

/* enterprises.c */
void cload_enterprises(struct cload *x, const config_setting_t *root);
/* Member `quotas` of g (the park or an enterprise) into *out, *nout. */
void cload_quotas(struct cload *x, const config_setting_t *g,
                  struct conf_quota **out, size_t *nout);

/* meters.c */
/* Member `meters` of g, appended to conf->meters for enterprise `ent` (-1:
 * the park), their indices into *idx, *nidx. */
void cload_meters(struct cload *x, const config_setting_t *g, int ent,
                  int **idx, size_t *nidx);
/* Resolve the meters' bus and profile names once all are read, and check
 * their slave ids against their bus. */
void cload_resolve_meters(struct cload *x);

/* profiles.c: the `profiles` list of group g, appended to *out, *nout. */
void cload_profiles(struct cload *x, const config_setting_t *g,
                    struct conf_profile **out, size_t *nout, bool builtin);

/* library.c */
/* profile_dirs of root, relative ones resolved from base (NULL: cwd); the
 * built-in directory when it is absent. */
void cload_profile_dirs(struct cload *x, const config_setting_t *root,
                        const char *base);
/* Read every profile file of the profile_dirs, then append to
 * conf->profiles the library profiles no inline profile overrides. */
void cload_library(struct cload *x);

#endif
