/* The config loader, the only libconfig user: reads the main file, its
 * @includes and the profile library into struct conf and reports every
 * error it finds as "file:line: message". Checks that need the whole model
 * (references, duplicates, overlaps) are in validate.c; printing in print.c. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config/config.h"

#ifndef ECMON_PROFILE_DIR
#define ECMON_PROFILE_DIR "/usr/share/ecmond/profiles"
#endif

#define ZONEINFO_DIR "/usr/share/zoneinfo"

/* An integer literal too large for 32 bits, which libconfig 1.5 stores
 * truncated without a word: found by rescanning the source text. */
struct bigint {
    const char *file; /* interned */
    int line;         /* of the setting's name */
    char name[64];    /* the setting's name */
    int wrapped;      /* what libconfig stored */
    double value;     /* what the user wrote */
};

/* A meter's references by name, resolved once everything is read. */
struct pending {
    char bus[CONF_ID_MAX], profile[CONF_ID_MAX];
    struct conf_src bus_src, profile_src, slave_src;
};

struct ctx {
    struct conf *conf;
    struct conf_errors *errs;
    /* The file being walked (the main file, or one library file). */
    const char *main_raw;  /* its name as libconfig records it, or NULL */
    const char *main_name; /* interned name for messages */
    const char *main_text; /* for conf_load_string: the text itself */
    char *include_dir;     /* where @include resolves; NULL: cwd */
    /* Integer literals libconfig truncated, per file already scanned. */
    struct bigint *big;
    size_t nbig;
    const char **scanned;
    size_t nscanned;
    struct pending *pend;     /* parallel to conf->meters */
    struct conf_src *dir_src; /* parallel to conf->profile_dirs */
    bool default_dirs;        /* profile_dirs not given */
    struct conf_profile *lib; /* library profiles, in file order */
    size_t nlib;
};

/* ---- memory and messages --------------------------------------------- */

static void
oom(void)
{
    fputs("ecmond: out of memory\n", stderr);
    abort();
}

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

static void *
xreallocarray(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        oom();
    p = realloc(p, n * size != 0 ? n * size : 1);
    if (p == NULL)
        oom();
    return p;
}

static char *
xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        oom();
    return d;
}

static char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    char *s = xcalloc((size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Append a zeroed element to *arr (of *n elements) and return it. */
static void *
append(void *arr, size_t *n, size_t size)
{
    void **a = arr;
    *a = xreallocarray(*a, *n + 1, size);
    char *el = (char *)*a + *n * size;
    memset(el, 0, size);
    (*n)++;
    return el;
}

static void
errors_vadd(struct conf_errors *errs, const struct conf_src *src,
            const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        oom();
    char *msg = xcalloc((size_t)n + 1, 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    const char *file = src && src->file ? src->file : "?";
    char *line;
    if (src && src->line > 0)
        line = xasprintf("%s:%d: %s", file, src->line, msg);
    else
        line = xasprintf("%s: %s", file, msg);
    free(msg);
    errs->msgs = xreallocarray(errs->msgs, errs->n + 1, sizeof(char *));
    errs->msgs[errs->n++] = line;
}

void
conf_errors_add(struct conf_errors *errs, const struct conf_src *src,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errors_vadd(errs, src, fmt, ap);
    va_end(ap);
}

void
conf_errors_free(struct conf_errors *errs)
{
    if (errs == NULL)
        return;
    for (size_t i = 0; i < errs->n; i++)
        free(errs->msgs[i]);
    free(errs->msgs);
    errs->msgs = NULL;
    errs->n = 0;
}

/* The file name kept in conf->files equal to `name`, added if new. */
static const char *
intern(struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (strcmp(c->files[i], name) == 0)
            return c->files[i];
    char **slot = append(&c->files, &c->nfiles, sizeof(char *));
    *slot = xstrdup(name);
    return *slot;
}

/* dir/name, or name when it is absolute or dir is NULL. */
static char *
join(const char *dir, const char *name)
{
    if (dir == NULL || name[0] == '/')
        return xstrdup(name);
    return xasprintf("%s/%s", dir, name);
}

/* The name for messages of a file libconfig recorded as `raw`. */
static const char *
file_name(struct ctx *x, const char *raw)
{
    if (raw == NULL || (x->main_raw && strcmp(raw, x->main_raw) == 0))
        return x->main_name;
    char *p = join(x->include_dir, raw);
    const char *name = intern(x->conf, p);
    free(p);
    return name;
}

static struct conf_src
src_of(struct ctx *x, const config_setting_t *s)
{
    struct conf_src src = {x->main_name, 0};
    if (s != NULL) {
        src.file = file_name(x, config_setting_source_file(s));
        src.line = (int)config_setting_source_line(s);
    }
    return src;
}

static void err(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
err(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
    struct conf_src src = src_of(x, s);
    va_list ap;
    va_start(ap, fmt);
    errors_vadd(x->errs, &src, fmt, ap);
    va_end(ap);
}

static void err_src(struct ctx *x, const struct conf_src *src, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));

static void
err_src(struct ctx *x, const struct conf_src *src, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errors_vadd(x->errs, src, fmt, ap);
    va_end(ap);
}

/* ---- integers libconfig 1.5 truncates ---------------------------------- */

/* Record every integer literal without an L suffix that does not fit 32
 * bits; report those that do not even fit 64 bits. A small lexer for
 * libconfig's syntax: comments, strings, names, numbers. */
static void
scan_bigints(struct ctx *x, const char *file, const char *text)
{
    int line = 1;
    const char *p = text;
    /* The last name scanned, and the name of the setting being assigned. */
    char name[64] = "", setting[64] = "";
    int name_line = 0, setting_line = 0;
    while (*p) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n') {
            line++;
            p++;
        } else if (c == '#' || (c == '/' && p[1] == '/')) {
            while (*p && *p != '\n')
                p++;
        } else if (c == '/' && p[1] == '*') {
            for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
                if (*p == '\n')
                    line++;
            if (*p)
                p += 2;
        } else if (c == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (*p == '\n')
                    line++;
            }
            if (*p)
                p++;
        } else if (isalpha(c) || c == '*' || c == '@') {
            const char *start = p;
            for (p++; isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
                      *p == '*';
                 p++)
                ;
            size_t len = (size_t)(p - start);
            if (len >= sizeof(name))
                len = sizeof(name) - 1;
            memcpy(name, start, len);
            name[len] = '\0';
            name_line = line;
        } else if (c == '=' || c == ':') {
            memcpy(setting, name, sizeof(setting));
            setting_line = name_line;
            p++;
        } else if (isdigit(c) || c == '.' ||
                   ((c == '-' || c == '+') &&
                    (isdigit((unsigned char)p[1]) || p[1] == '.'))) {
            const char *start = p;
            bool hex = false, isfloat = false;
            if (*p == '-' || *p == '+')
                p++;
            if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                hex = true;
                for (p += 2; isxdigit((unsigned char)*p); p++)
                    ;
            } else {
                for (; isdigit((unsigned char)*p); p++)
                    ;
                if (*p == '.' || *p == 'e' || *p == 'E') {
                    isfloat = true;
                    for (; isdigit((unsigned char)*p) || *p == '.' ||
                           *p == 'e' || *p == 'E' ||
                           ((*p == '-' || *p == '+') &&
                            (p[-1] == 'e' || p[-1] == 'E'));
                         p++)
                        ;
                }
            }
            if (isfloat)
                continue;
            size_t len = (size_t)(p - start);
            bool is64 = *p == 'L';
            while (*p == 'L')
                p++;
            char buf[64];
            if (len >= sizeof(buf)) {
                struct conf_src src = {file, line};
                err_src(x, &src, "integer %.20s... is too large", start);
                continue;
            }
            memcpy(buf, start, len);
            buf[len] = '\0';
            errno = 0;
            long long v;
            if (hex) {
                const char *h = buf + (buf[0] == '-' || buf[0] == '+');
                unsigned long long u = strtoull(h, NULL, 16);
                v = (long long)u;
                if (u > LLONG_MAX)
                    errno = ERANGE;
                if (buf[0] == '-')
                    v = -v;
            } else {
                v = strtoll(buf, NULL, 10);
            }
            bool range = errno == ERANGE;
            if (range) {
                struct conf_src src = {file, line};
                err_src(x, &src, "integer %s is too large", buf);
            }
            if (range || (!is64 && (v < INT_MIN || v > INT_MAX))) {
                struct bigint *b = append(&x->big, &x->nbig, sizeof(*b));
                b->file = file;
                b->line = setting_line;
                memcpy(b->name, setting, sizeof(b->name));
                b->wrapped = (int)(unsigned)(unsigned long long)v;
                b->value = range ? NAN : (double)v;
            }
        } else {
            p++;
        }
    }
}

static char *
read_text(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = xcalloc(cap, 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            buf = xreallocarray(buf, cap, 2);
            cap *= 2;
        }
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The value the user wrote for an int setting that libconfig stored as
 * `ival`, if its literal did not fit 32 bits; NAN if it did not even fit
 * 64 bits (reported when the file was scanned). */
static bool
bigint_of(struct ctx *x, const config_setting_t *s, int ival, double *out)
{
    struct conf_src src = src_of(x, s);
    bool scanned = false;
    for (size_t i = 0; i < x->nscanned; i++)
        if (x->scanned[i] == src.file)
            scanned = true;
    if (!scanned) {
        const char **slot = append(&x->scanned, &x->nscanned, sizeof(char *));
        *slot = src.file;
        if (src.file == x->main_name && x->main_text) {
            scan_bigints(x, src.file, x->main_text);
        } else {
            char *text = read_text(src.file);
            if (text) {
                scan_bigints(x, src.file, text);
                free(text);
            }
        }
    }
    const char *name = config_setting_name(s);
    for (size_t i = 0; name && i < x->nbig; i++) {
        const struct bigint *b = &x->big[i];
        if (b->file == src.file && b->line == src.line &&
            strcmp(b->name, name) == 0 &&
            (b->wrapped == ival || isnan(b->value))) {
            *out = b->value;
            return true;
        }
    }
    return false;
}

/* ---- typed access to settings ------------------------------------------- */

static const char *
type_word(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
        return "an integer";
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a number";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    }
    return "nothing";
}

static config_setting_t *
member(const config_setting_t *g, const char *key)
{
    return g ? config_setting_get_member(g, key) : NULL;
}

/* Edit distance (with transpositions) of two short strings, capped at 9. */
static int
distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31)
        return 9;
    int d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1; /* a transposition */
            d[i][j] = best;
        }
    return d[la][lb] > 9 ? 9 : d[la][lb];
}

/* Report every member of group g whose name is not in keys. */
static void
check_keys(struct ctx *x, const config_setting_t *g, const char *what,
           const char *const *keys)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        if (name == NULL)
            continue;
        const char *near = NULL;
        int best = strlen(name) <= 4 ? 2 : 3; /* suggest within 1 or 2 edits */
        bool known = false;
        for (size_t k = 0; keys[k]; k++) {
            if (strcmp(keys[k], name) == 0) {
                known = true;
                break;
            }
            int d = distance(keys[k], name);
            if (d < best) {
                best = d;
                near = keys[k];
            }
        }
        if (known)
            continue;
        if (what && near)
            err(x, m, "unknown key '%s' in %s (did you mean '%s'?)", name, what,
                near);
        else if (what)
            err(x, m, "unknown key '%s' in %s", name, what);
        else if (near)
            err(x, m, "unknown top-level key '%s' (did you mean '%s'?)", name,
                near);
        else
            err(x, m, "unknown top-level key '%s'", name);
    }
}

/* Member `key` of g if it is a string: returns it, with *sp its setting.
 * Absent: NULL, reported if required. Not a string: NULL, reported. */
static const char *
get_string(struct ctx *x, const config_setting_t *g, const char *key,
           const char *what, bool required, const config_setting_t **sp)
{
    const config_setting_t *s = member(g, key);
    if (sp)
        *sp = s;
    if (s == NULL) {
        if (required && g)
            err(x, g, "missing required key '%s' in %s", key, what);
        return NULL;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        err(x, s, "'%s' must be a string, not %s", key, type_word(s));
        return NULL;
    }
    return config_setting_get_string(s);
}

/* As get_string, copied into buf[size]; too long is an error. Returns
 * true if buf was set. */
static bool
get_strbuf(struct ctx *x, const config_setting_t *g, const char *key,
           const char *what, bool required, char *buf, size_t size)
{
    const config_setting_t *s;
    const char *v = get_string(x, g, key, what, required, &s);
    if (v == NULL)
        return false;
    if (strlen(v) >= size) {
        err(x, s, "'%s' is too long (at most %zu characters): '%.40s...'", key,
            size - 1, v);
        return false;
    }
    strcpy(buf, v);
    return true;
}

/* As get_string, strdup'ed into *out (freeing what was there). */
static bool
get_strdup(struct ctx *x, const config_setting_t *g, const char *key,
           const char *what, bool required, char **out)
{
    const char *v = get_string(x, g, key, what, required, NULL);
    if (v == NULL)
        return false;
    free(*out);
    *out = xstrdup(v);
    return true;
}

/* The number in setting s (int, int64 or float); `word` names what is
 * expected in the message if it is not a number. */
static bool
num_as(struct ctx *x, const config_setting_t *s, const char *key,
       const char *word, double *out)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: {
        int v = config_setting_get_int(s);
        if (!bigint_of(x, s, v, out))
            *out = v;
        return !isnan(*out);
    }
    case CONFIG_TYPE_INT64:
        *out = (double)config_setting_get_int64(s);
        return true;
    case CONFIG_TYPE_FLOAT:
        *out = config_setting_get_float(s);
        if (!isfinite(*out)) {
            err(x, s, "'%s' must be a finite number", key);
            return false;
        }
        return true;
    }
    err(x, s, "'%s' must be %s, not %s", key, word, type_word(s));
    return false;
}

static bool
num_of(struct ctx *x, const config_setting_t *s, const char *key, double *out)
{
    return num_as(x, s, key, "a number", out);
}

/* 1: member `key` is a number, in *out; 0: absent (reported if required);
 * -1: error, reported. */
static int
get_num_as(struct ctx *x, const config_setting_t *g, const char *key,
           const char *what, bool required, const char *word, double *out,
           const config_setting_t **sp)
{
    const config_setting_t *s = member(g, key);
    if (sp)
        *sp = s;
    if (s == NULL) {
        if (required && g)
            err(x, g, "missing required key '%s' in %s", key, what);
        return 0;
    }
    return num_as(x, s, key, word, out) ? 1 : -1;
}

static int
get_num(struct ctx *x, const config_setting_t *g, const char *key,
        const char *what, bool required, double *out,
        const config_setting_t **sp)
{
    return get_num_as(x, g, key, what, required, "a number", out, sp);
}

/* A number > 0 (or >= 0 with `zero`), kept in *out if valid. */
static void
get_positive(struct ctx *x, const config_setting_t *g, const char *key,
             const char *what, bool required, bool zero, double *out)
{
    const config_setting_t *s;
    double v;
    if (get_num(x, g, key, what, required, &v, &s) != 1)
        return;
    if (zero ? v < 0 : v <= 0)
        err(x, s, "'%s' must be %s 0, not %g", key, zero ? ">=" : ">", v);
    else
        *out = v;
}

/* An integer in [min, max] (a number with no fraction is one), kept in *out
 * if valid. Returns 1 set, 0 absent, -1 error. */
static int
get_int(struct ctx *x, const config_setting_t *g, const char *key,
        const char *what, bool required, long long min, long long max, int *out,
        const config_setting_t **sp)
{
    const config_setting_t *s;
    double v;
    if (sp)
        *sp = NULL;
    int r = get_num_as(x, g, key, what, required, "an integer", &v, &s);
    if (sp)
        *sp = s;
    if (r != 1)
        return r;
    if (v != floor(v)) {
        err(x, s, "'%s' must be an integer, not %g", key, v);
        return -1;
    }
    if (v < (double)min || v > (double)max) {
        err(x, s, "'%s' must be between %lld and %lld, not %.0f", key, min, max,
            v);
        return -1;
    }
    *out = (int)v;
    return 1;
}

static void
get_bool(struct ctx *x, const config_setting_t *g, const char *key, bool *out)
{
    const config_setting_t *s = member(g, key);
    if (s == NULL)
        return;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        err(x, s, "'%s' must be true or false, not %s", key, type_word(s));
    else
        *out = config_setting_get_bool(s) != 0;
}

/* Member `key` if it is a group; NULL if absent or not a group (reported). */
static const config_setting_t *
get_group(struct ctx *x, const config_setting_t *g, const char *key)
{
    const config_setting_t *s = member(g, key);
    if (s && !config_setting_is_group(s)) {
        err(x, s, "'%s' must be a group { ... }, not %s", key, type_word(s));
        return NULL;
    }
    return s;
}

/* Member `key` if it is a list (or an empty array); NULL if absent or not. */
static const config_setting_t *
get_list(struct ctx *x, const config_setting_t *g, const char *key)
{
    const config_setting_t *s = member(g, key);
    if (s == NULL)
        return NULL;
    if (config_setting_is_list(s) ||
        (config_setting_is_array(s) && config_setting_length(s) == 0))
        return s;
    err(x, s, "'%s' must be a list ( {...}, ... ), not %s", key, type_word(s));
    return NULL;
}

/* Member `key` as a NULL-terminated array of strings ([ "a", "b" ] or a
 * list). Returns NULL if absent or on error (reported), else *n strings. */
static char **
get_strings(struct ctx *x, const config_setting_t *g, const char *key,
            size_t *n, struct conf_src **srcs)
{
    const config_setting_t *s = member(g, key);
    *n = 0;
    if (s == NULL)
        return NULL;
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        err(x, s, "'%s' must be an array of strings [ \"...\", ... ], not %s",
            key, type_word(s));
        return NULL;
    }
    int len = config_setting_length(s);
    char **v = xcalloc((size_t)len + 1, sizeof(char *));
    if (srcs)
        *srcs = xcalloc((size_t)len + 1, sizeof(struct conf_src));
    bool ok = true;
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            err(x, e, "'%s' must hold only strings, not %s", key, type_word(e));
            ok = false;
            continue;
        }
        v[*n] = xstrdup(config_setting_get_string(e));
        if (srcs)
            (*srcs)[*n] = src_of(x, e);
        (*n)++;
    }
    (void)ok;
    return v;
}

static void
free_strv(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static bool
is_id(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

/* An id member: copied into buf when it fits (even if badly spelled, so
 * that references to it do not cascade into more errors). */
static bool
get_id(struct ctx *x, const config_setting_t *g, const char *what, char *buf)
{
    const config_setting_t *s;
    const char *v = get_string(x, g, "id", what, true, &s);
    if (v == NULL)
        return false;
    if (strlen(v) >= CONF_ID_MAX) {
        err(x, s, "%s id '%.40s...' is too long (at most %d characters)", what,
            v, CONF_ID_MAX - 1);
        return false;
    }
    strcpy(buf, v);
    if (!is_id(v)) {
        err(x, s, "%s id '%s' may only use a-z, 0-9, '_' and '-'", what, v);
        return false;
    }
    return true;
}

/* Index of v in names[0..n), or -1. */
static int
name_index(const char *v, const char *(*name)(int), int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(name(i), v) == 0)
            return i;
    return -1;
}

/* "a, b or c" of names[0..n), for messages. */
static char *
name_list(const char *(*name)(int), int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(name(i)) + 4;
    char *s = xcalloc(len, 1);
    for (int i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, i == n - 1 ? " or " : ", ");
        strcat(s, name(i));
    }
    return s;
}

/* An enumerated member: its index, -2 if absent (reported if required),
 * -1 if invalid (reported). */
static int
get_enum(struct ctx *x, const config_setting_t *g, const char *key,
         const char *what, bool required, const char *(*name)(int), int n)
{
    const config_setting_t *s;
    const char *v = get_string(x, g, key, what, required, &s);
    if (v == NULL)
        return s ? -1 : -2;
    int i = name_index(v, name, n);
    if (i < 0) {
        char *l = name_list(name, n);
        err(x, s, "'%s' must be %s, not '%s'", key, l, v);
        free(l);
    }
    return i;
}

static const char *
nm_type(int i)
{
    return conf_type_name((enum conf_type)i);
}

static const char *
nm_kind(int i)
{
    return conf_kind_name((enum conf_kind)i);
}

static const char *
nm_pollutant(int i)
{
    return conf_pollutant_name((enum conf_pollutant)i);
}

static const char *
nm_period(int i)
{
    return conf_period_name((enum conf_period)i);
}

static const char *
nm_table(int i)
{
    return i == TABLE_HOLDING ? "holding" : "input";
}

static const char *
nm_parity(int i)
{
    static const char *const p[] = {"N", "E", "O"};
    return p[i];
}

/* A `meter.point` reference, syntax only; resolved in validate.c. */
static bool
get_ref(struct ctx *x, const config_setting_t *g, const char *key,
        const char *what, bool required, struct conf_ref *r)
{
    const config_setting_t *s;
    const char *v = get_string(x, g, key, what, required, &s);
    r->meter = r->point = -1;
    if (v == NULL)
        return false;
    r->src = src_of(x, s);
    const char *dot = strchr(v, '.');
    if (dot == NULL || dot == v || dot[1] == '\0' || strchr(dot + 1, '.')) {
        err(x, s, "'%s' must be \"meter.point\", not '%s'", key, v);
        return false;
    }
    if (strlen(v) >= sizeof(r->text)) {
        err(x, s, "'%s' is too long: '%.40s...'", key, v);
        return false;
    }
    strcpy(r->text, v);
    return true;
}

/* ---- sections -------------------------------------------------------- */

static const char *const quota_keys[] = {"id", "measure", "period", "limit",
                                         NULL};

/* measure name -> measure and pollutant; false if unknown. */
static bool
parse_measure(const char *v, enum conf_measure *m, enum conf_pollutant *p)
{
    static const struct {
        const char *name;
        enum conf_measure m;
    } fixed[] = {
        {"effluent_m3", MEASURE_EFFLUENT_M3},
        {"reuse_m3", MEASURE_REUSE_M3},
        {"electricity_kwh", MEASURE_ELECTRICITY_KWH},
        {"energy_tce", MEASURE_ENERGY_TCE},
        {"energy_intensity", MEASURE_ENERGY_INTENSITY},
    };
    *p = POLL_NONE;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(v, fixed[i].name) == 0) {
            *m = fixed[i].m;
            return true;
        }
    size_t len = strlen(v);
    if (len > 3 && strcmp(v + len - 3, "_kg") == 0) {
        for (int i = 0; i < POLL_COUNT; i++) {
            const char *pn = conf_pollutant_name((enum conf_pollutant)i);
            if (strlen(pn) == len - 3 && strncmp(v, pn, len - 3) == 0) {
                *m = MEASURE_POLLUTANT_KG;
                *p = (enum conf_pollutant)i;
                return true;
            }
        }
    }
    return false;
}

static void
load_quotas(struct ctx *x, const config_setting_t *g, struct conf_quota **out,
            size_t *nout)
{
    const config_setting_t *l = get_list(x, g, "quotas");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    *out = xcalloc((size_t)n, sizeof(**out));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            err(x, e, "each quota must be a group { ... }, not %s",
                type_word(e));
            continue;
        }
        struct conf_quota *q = &(*out)[(*nout)++];
        q->src = src_of(x, e);
        q->pollutant = POLL_NONE;
        check_keys(x, e, "quota", quota_keys);
        get_id(x, e, "quota", q->id);
        const config_setting_t *s;
        const char *v = get_string(x, e, "measure", "quota", true, &s);
        if (v && !parse_measure(v, &q->measure, &q->pollutant)) {
            q->measure = (enum conf_measure) - 1; /* checked no further */
            err(x, s,
                "unknown measure '%s' (effluent_m3, reuse_m3, <pollutant>_kg "
                "with pollutant cod, nh3n, tp, tn, cu or ni, electricity_kwh, "
                "energy_tce or energy_intensity)",
                v);
        }
        int p =
            get_enum(x, e, "period", "quota", true, nm_period, PERIOD_YEAR + 1);
        if (p >= 0)
            q->period = (enum conf_period)p;
        get_positive(x, e, "limit", "quota", true, false, &q->limit);
    }
}

static const char *const meter_keys[] = {"id",      "bus",      "slave",
                                         "profile", "interval", "ratios",
                                         "max_gap", "max_regs", NULL};
static const char *const ratio_keys[] = {"ct", "pt", NULL};

static void
load_meters(struct ctx *x, const config_setting_t *g, int ent, int **idx,
            size_t *nidx)
{
    struct conf *c = x->conf;
    const config_setting_t *l = get_list(x, g, "meters");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    *idx = xcalloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            err(x, e, "each meter must be a group { ... }, not %s",
                type_word(e));
            continue;
        }
        size_t nm = c->nmeters;
        struct conf_meter *m = append(&c->meters, &c->nmeters, sizeof(*m));
        size_t np = nm;
        struct pending *pd = append(&x->pend, &np, sizeof(*pd));
        (*idx)[(*nidx)++] = (int)nm;
        m->src = src_of(x, e);
        m->enterprise = ent;
        m->bus = m->profile = -1;
        m->slave = -1;
        m->interval = 60;
        m->ct = m->pt = 1;
        m->max_gap = m->max_regs = -1;
        check_keys(x, e, "meter", meter_keys);
        if (get_id(x, e, "meter", m->id) &&
            (strcmp(m->id, "quota") == 0 || strcmp(m->id, "value_added") == 0 ||
             strncmp(m->id, "quota-", 6) == 0 ||
             (ent < 0 && strcmp(m->id, "capacity") == 0)))
            err(x, member(e, "id"),
                "meter id '%s' is reserved (it would "
                "collide with a quota's or the park's topics or RRD files)",
                m->id);
        const config_setting_t *s;
        if (get_strbuf(x, e, "bus", "meter", true, pd->bus, sizeof(pd->bus)))
            pd->bus_src = src_of(x, member(e, "bus"));
        if (get_strbuf(x, e, "profile", "meter", true, pd->profile,
                       sizeof(pd->profile)))
            pd->profile_src = src_of(x, member(e, "profile"));
        if (get_int(x, e, "slave", "meter", true, INT_MIN, INT_MAX, &m->slave,
                    &s) == 1)
            pd->slave_src = src_of(x, s);
        double v;
        if (get_num(x, e, "interval", "meter", false, &v, &s) == 1) {
            if (v <= 0)
                err(x, s, "'interval' must be > 0");
            else if (v > 86400)
                err(x, s, "'interval' must be at most 86400 seconds");
            else
                m->interval = v;
        }
        const config_setting_t *r = get_group(x, e, "ratios");
        if (r) {
            check_keys(x, r, "ratios", ratio_keys);
            get_positive(x, r, "ct", "ratios", false, false, &m->ct);
            get_positive(x, r, "pt", "ratios", false, false, &m->pt);
        }
        get_int(x, e, "max_gap", "meter", false, 0, 124, &m->max_gap, NULL);
        get_int(x, e, "max_regs", "meter", false, 1, 125, &m->max_regs, NULL);
    }
}

static bool
is_zone_name(const char *tz)
{
    if (*tz == '\0' || strlen(tz) > 255)
        return false;
    bool start = true;
    for (const char *p = tz; *p; p++) {
        if (*p == '/') {
            if (start)
                return false;
            start = true;
            continue;
        }
        if (start && *p == '.')
            return false; /* no ".", "..", hidden files */
        if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p))
            return false;
        start = false;
    }
    return !start;
}

/* Check that tz names a TZif file of the zoneinfo database. */
static void
check_timezone(struct ctx *x, const config_setting_t *s, const char *tz)
{
    if (!is_zone_name(tz)) {
        err(x, s,
            "'timezone' must be a zone name like \"Asia/Shanghai\", not '%s'",
            tz);
        return;
    }
    const char *dir = getenv("TZDIR");
    if (dir == NULL || dir[0] != '/')
        dir = ZONEINFO_DIR;
    char *path = xasprintf("%s/%s", dir, tz);
    char magic[4] = {0};
    bool ok = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0) {
        struct stat st;
        ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
             read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
             memcmp(magic, "TZif", 4) == 0;
        close(fd);
    }
    if (!ok)
        err(x, s, "unknown timezone '%s' (no TZif file %s)", tz, path);
    free(path);
}

static const char *const park_keys[] = {"id",     "name",   "timezone", "wwtp",
                                        "quotas", "meters", NULL};
static const char *const wwtp_keys[] = {"capacity_m3_per_day", "inflow", NULL};

static void
load_park(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = get_group(x, root, "park");
    if (g == NULL) {
        if (member(root, "park") == NULL) {
            struct conf_src src = {x->main_name, 0};
            err_src(x, &src, "missing required group 'park'");
        }
        return;
    }
    check_keys(x, g, "park", park_keys);
    get_id(x, g, "park", c->park.id);
    get_strdup(x, g, "name", "park", false, &c->park.name);
    if (c->park.name == NULL)
        c->park.name = xstrdup(c->park.id);
    const config_setting_t *s;
    const char *tz = get_string(x, g, "timezone", "park", true, &s);
    if (tz) {
        check_timezone(x, s, tz);
        c->park.timezone = xstrdup(tz);
    }
    const config_setting_t *w = get_group(x, g, "wwtp");
    if (w) {
        c->park.has_wwtp = true;
        check_keys(x, w, "wwtp", wwtp_keys);
        get_positive(x, w, "capacity_m3_per_day", "wwtp", true, false,
                     &c->park.wwtp_capacity_m3_per_day);
        c->park.has_wwtp_inflow =
            get_ref(x, w, "inflow", "wwtp", false, &c->park.wwtp_inflow);
    }
    load_quotas(x, g, &c->park.quotas, &c->park.nquotas);
    load_meters(x, g, -1, &c->park.meters, &c->park.nmeters);
}

static bool
is_abs_path(struct ctx *x, const config_setting_t *g, const char *key)
{
    const config_setting_t *s = member(g, key);
    if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
        return true;
    const char *v = config_setting_get_string(s);
    if (v[0] != '/') {
        err(x, s, "'%s' must be an absolute path, not '%s'", key, v);
        return false;
    }
    return true;
}

static const char *const mqtt_keys[] = {
    "host",      "port",     "prefix",        "qos", "keepalive",
    "client_id", "username", "password_file", "tls", NULL};
static const char *const tls_keys[] = {"ca_file",  "ca_path",  "cert_file",
                                       "key_file", "insecure", NULL};

static bool
topic_level_ok(const char *prefix)
{
    if (*prefix == '\0' || prefix[0] == '/' ||
        prefix[strlen(prefix) - 1] == '/' || strstr(prefix, "//"))
        return false;
    return strpbrk(prefix, "+#") == NULL;
}

static void
load_mqtt(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = get_group(x, root, "mqtt");
    const config_setting_t *t = get_group(x, g, "tls");
    if (g)
        check_keys(x, g, "mqtt", mqtt_keys);
    c->mqtt.tls = t != NULL;
    c->mqtt.host = xstrdup("127.0.0.1");
    c->mqtt.port = c->mqtt.tls ? 8883 : 1883;
    c->mqtt.prefix = xstrdup("ecmon");
    c->mqtt.qos = 1;
    c->mqtt.keepalive = 30;
    c->mqtt.client_id = xasprintf("ecmond-%s", c->park.id);
    const config_setting_t *s;
    const char *v = get_string(x, g, "host", "mqtt", false, &s);
    if (v && *v == '\0')
        err(x, s, "'host' must not be empty");
    else if (v)
        get_strdup(x, g, "host", "mqtt", false, &c->mqtt.host);
    get_int(x, g, "port", "mqtt", false, 1, 65535, &c->mqtt.port, NULL);
    v = get_string(x, g, "prefix", "mqtt", false, &s);
    if (v && !topic_level_ok(v))
        err(x, s,
            "'prefix' must be a topic without '+', '#', empty levels or "
            "leading/trailing '/', not '%s'",
            v);
    else if (v)
        get_strdup(x, g, "prefix", "mqtt", false, &c->mqtt.prefix);
    get_int(x, g, "qos", "mqtt", false, 0, 2, &c->mqtt.qos, NULL);
    get_int(x, g, "keepalive", "mqtt", false, 5, 65535, &c->mqtt.keepalive,
            NULL);
    v = get_string(x, g, "client_id", "mqtt", false, &s);
    if (v && (*v == '\0' || strlen(v) > 65535))
        err(x, s, "'client_id' must not be empty");
    else if (v)
        get_strdup(x, g, "client_id", "mqtt", false, &c->mqtt.client_id);
    get_strdup(x, g, "username", "mqtt", false, &c->mqtt.username);
    if (is_abs_path(x, g, "password_file"))
        get_strdup(x, g, "password_file", "mqtt", false,
                   &c->mqtt.password_file);
    if (member(g, "password_file") && !member(g, "username"))
        err(x, member(g, "password_file"), "'password_file' needs 'username'");
    if (t == NULL)
        return;
    check_keys(x, t, "tls", tls_keys);
    if (is_abs_path(x, t, "ca_file"))
        get_strdup(x, t, "ca_file", "tls", false, &c->mqtt.ca_file);
    if (is_abs_path(x, t, "ca_path"))
        get_strdup(x, t, "ca_path", "tls", false, &c->mqtt.ca_path);
    if (is_abs_path(x, t, "cert_file"))
        get_strdup(x, t, "cert_file", "tls", false, &c->mqtt.cert_file);
    if (is_abs_path(x, t, "key_file"))
        get_strdup(x, t, "key_file", "tls", false, &c->mqtt.key_file);
    get_bool(x, t, "insecure", &c->mqtt.tls_insecure);
    if (!member(t, "ca_file") && !member(t, "ca_path"))
        err(x, t, "'tls' needs 'ca_file' or 'ca_path'");
    if (!member(t, "cert_file") != !member(t, "key_file"))
        err(x, t, "'tls' needs both 'cert_file' and 'key_file', or neither");
}

static const char *const storage_keys[] = {"state_dir", "rrd_dir", "rrd_step",
                                           "rrdcached", NULL};

static void
load_storage(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = get_group(x, root, "storage");
    if (g)
        check_keys(x, g, "storage", storage_keys);
    c->storage.state_dir = xstrdup("/var/lib/ecmond");
    c->storage.rrd_step = 60;
    if (is_abs_path(x, g, "state_dir"))
        get_strdup(x, g, "state_dir", "storage", false, &c->storage.state_dir);
    if (is_abs_path(x, g, "rrd_dir"))
        get_strdup(x, g, "rrd_dir", "storage", false, &c->storage.rrd_dir);
    if (c->storage.rrd_dir == NULL)
        c->storage.rrd_dir = xasprintf("%s/rrd", c->storage.state_dir);
    get_int(x, g, "rrd_step", "storage", false, 1, 86400, &c->storage.rrd_step,
            NULL);
    const config_setting_t *s;
    const char *v = get_string(x, g, "rrdcached", "storage", false, &s);
    if (v && *v == '\0')
        err(x, s,
            "'rrdcached' must not be empty (leave it out to write "
            "files directly)");
    else if (v)
        c->storage.rrdcached = xstrdup(v);
}

static const char *const control_keys[] = {"socket", NULL};

static void
load_control(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = get_group(x, root, "control");
    if (g)
        check_keys(x, g, "control", control_keys);
    c->control.socket = xstrdup("/run/ecmond/ecmond.sock");
    const config_setting_t *s;
    const char *v = get_string(x, g, "socket", "control", false, &s);
    if (v == NULL)
        return;
    if (v[0] != '/')
        err(x, s, "'socket' must be an absolute path, not '%s'", v);
    else if (strlen(v) > 107)
        err(x, s,
            "'socket' is too long for a unix socket (at most 107 "
            "bytes)");
    else
        get_strdup(x, g, "socket", "control", false, &c->control.socket);
}

static const char *const bus_keys[] = {"id",         "tcp",      "rtu",
                                       "timeout_ms", "retries",  "frame_gap_ms",
                                       "max_gap",    "max_regs", NULL};
static const char *const tcp_keys[] = {"host", "port", NULL};
static const char *const rtu_keys[] = {"device",    "baud",      "parity",
                                       "data_bits", "stop_bits", NULL};

static bool
standard_baud(int b)
{
    static const int rates[] = {300,   600,   1200,  2400,   4800,  9600,
                                19200, 38400, 57600, 115200, 230400};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
        if (rates[i] == b)
            return true;
    return false;
}

/* Milliseconds of 3.5 characters at the bus's speed, at least 2 (Modbus
 * over serial line: a fixed 1.75 ms above 19200 baud). */
static int
rtu_min_gap(const struct conf_bus *b)
{
    if (b->baud > 19200)
        return 2;
    int bits = 1 + b->data_bits + (b->parity != 'N') + b->stop_bits;
    return (int)ceil(3.5 * bits * 1000.0 / b->baud);
}

static void
load_bus(struct ctx *x, const config_setting_t *e, struct conf_bus *b)
{
    b->src = src_of(x, e);
    b->timeout_ms = 1000;
    b->retries = 1;
    b->max_gap = 8;
    b->max_regs = 125;
    check_keys(x, e, "bus", bus_keys);
    get_id(x, e, "bus", b->id);
    const config_setting_t *tcp = get_group(x, e, "tcp");
    const config_setting_t *rtu = get_group(x, e, "rtu");
    if (member(e, "tcp") && member(e, "rtu"))
        err(x, member(e, "rtu"),
            "bus '%s' has both 'tcp' and 'rtu'; "
            "give one",
            b->id);
    else if (!member(e, "tcp") && !member(e, "rtu"))
        err(x, e,
            "bus '%s' needs 'tcp' = { host; port; } or 'rtu' = "
            "{ device; ... }",
            b->id);
    if (tcp) {
        b->kind = BUS_TCP;
        b->port = 502;
        check_keys(x, tcp, "tcp", tcp_keys);
        const config_setting_t *s;
        const char *h = get_string(x, tcp, "host", "tcp", true, &s);
        if (h && *h == '\0')
            err(x, s, "'host' must not be empty");
        else if (h)
            b->host = xstrdup(h);
        get_int(x, tcp, "port", "tcp", false, 1, 65535, &b->port, NULL);
    } else if (rtu) {
        b->kind = BUS_RTU;
        b->baud = 9600;
        b->parity = 'N';
        b->data_bits = 8;
        b->stop_bits = 1;
        check_keys(x, rtu, "rtu", rtu_keys);
        const config_setting_t *s;
        const char *d = get_string(x, rtu, "device", "rtu", true, &s);
        if (d && d[0] != '/')
            err(x, s, "'device' must be an absolute path, not '%s'", d);
        else if (d)
            b->device = xstrdup(d);
        int baud;
        if (get_int(x, rtu, "baud", "rtu", false, INT_MIN, INT_MAX, &baud,
                    &s) == 1) {
            if (!standard_baud(baud))
                err(x, s,
                    "'baud' must be a standard rate (300, 600, 1200, "
                    "2400, 4800, 9600, 19200, 38400, 57600, 115200 or "
                    "230400), not %d",
                    baud);
            else
                b->baud = baud;
        }
        int p = get_enum(x, rtu, "parity", "rtu", false, nm_parity, 3);
        if (p >= 0)
            b->parity = nm_parity(p)[0];
        if (get_int(x, rtu, "data_bits", "rtu", false, 7, 8, &b->data_bits,
                    NULL) < 0)
            b->data_bits = 8;
        if (get_int(x, rtu, "stop_bits", "rtu", false, 1, 2, &b->stop_bits,
                    NULL) < 0)
            b->stop_bits = 1;
    }
    get_int(x, e, "timeout_ms", "bus", false, 1, 60000, &b->timeout_ms, NULL);
    get_int(x, e, "retries", "bus", false, 0, 10, &b->retries, NULL);
    get_int(x, e, "max_gap", "bus", false, 0, 124, &b->max_gap, NULL);
    get_int(x, e, "max_regs", "bus", false, 1, 125, &b->max_regs, NULL);
    int min_gap = b->kind == BUS_RTU && rtu ? rtu_min_gap(b) : 0;
    b->frame_gap_ms = min_gap;
    const config_setting_t *s;
    int gap;
    if (get_int(x, e, "frame_gap_ms", "bus", false, 0, 10000, &gap, &s) == 1) {
        if (gap < min_gap)
            err(x, s,
                "'frame_gap_ms' must be at least %d at %d baud (3.5 "
                "characters), not %d",
                min_gap, b->baud, gap);
        else
            b->frame_gap_ms = gap;
    }
}

static void
load_buses(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *l = get_list(x, root, "buses");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    c->buses = xcalloc((size_t)n, sizeof(*c->buses));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            err(x, e, "each bus must be a group { ... }, not %s", type_word(e));
            continue;
        }
        load_bus(x, e, &c->buses[c->nbuses++]);
    }
}

/* ---- profiles -------------------------------------------------------- */

static const char *const profile_keys[] = {"id", "points", NULL};
static const char *const point_keys[] = {
    "name",    "kind", "pollutant", "unit",  "table",
    "address", "type", "order",     "scale", "offset",
    "min",     "max",  "max_rate",  "ratio", NULL};

/* The unit a kind is accounted in; NULL: free (info, ph). */
static const char *
kind_unit(enum conf_kind k)
{
    switch (k) {
    case KIND_VOLUME_TOTAL:
        return "m3";
    case KIND_FLOW_RATE:
        return "m3/h";
    case KIND_REUSE_TOTAL:
        return "m3";
    case KIND_ELECTRICITY_TOTAL:
        return "kWh";
    case KIND_GAS_TOTAL:
        return "m3";
    case KIND_STEAM_TOTAL:
        return "t";
    case KIND_HEAT_TOTAL:
        return "GJ";
    case KIND_POWER:
        return "kW";
    case KIND_CONCENTRATION:
        return "mg/L";
    case KIND_PH:
    case KIND_INFO:
        return NULL;
    }
    return NULL;
}

static bool
is_total(enum conf_kind k)
{
    return k == KIND_VOLUME_TOTAL || k == KIND_REUSE_TOTAL ||
           k == KIND_ELECTRICITY_TOTAL || k == KIND_GAS_TOTAL ||
           k == KIND_STEAM_TOTAL || k == KIND_HEAT_TOTAL;
}

static bool
is_ds_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* order name -> order; 8-byte names only for 4-register types. */
static int
parse_order(const char *v, int width)
{
    static const char *const four[] = {"abcd", "cdab", "badc", "dcba"};
    static const char *const eight[] = {"abcdefgh", "ghefcdab", "badcfehg",
                                        "hgfedcba"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(v, four[i]) == 0)
            return i;
        if (width == 4 && strcmp(v, eight[i]) == 0)
            return i;
    }
    return -1;
}

static void
load_point(struct ctx *x, const config_setting_t *e, struct conf_point *p)
{
    p->src = src_of(x, e);
    p->pollutant = POLL_NONE;
    p->scale = 1;
    p->order = ORDER_ABCD;
    check_keys(x, e, "point", point_keys);
    const config_setting_t *s;
    const char *name = get_string(x, e, "name", "point", true, &s);
    if (name) {
        if (strlen(name) >= CONF_DS_MAX)
            err(x, s,
                "point name '%s' is too long (at most %d characters: "
                "it is an RRD DS name)",
                name, CONF_DS_MAX - 1);
        else if (!is_ds_name(name))
            err(x, s,
                "point name '%s' may only use A-Z, a-z, 0-9 and '_' "
                "(it is an RRD DS name)",
                name);
        else if (strcmp(name, "status") == 0)
            err(x, s,
                "point name 'status' is reserved (the meter's status "
                "topic)");
        size_t len = strlen(name);
        if (len >= sizeof(p->name))
            len = sizeof(p->name) - 1; /* for later messages only */
        memcpy(p->name, name, len);
        p->name[len] = '\0';
    }
    int kind = get_enum(x, e, "kind", "point", true, nm_kind, KIND_INFO + 1);
    if (kind >= 0)
        p->kind = (enum conf_kind)kind;
    else
        p->kind = KIND_INFO;
    int pol =
        get_enum(x, e, "pollutant", "point", false, nm_pollutant, POLL_COUNT);
    if (kind == KIND_CONCENTRATION) {
        if (pol >= 0)
            p->pollutant = (enum conf_pollutant)pol;
        else if (pol == -2)
            err(x, e,
                "point '%s' of kind concentration needs 'pollutant' "
                "(cod, nh3n, tp, tn, cu or ni)",
                p->name);
    } else if (pol != -2 && kind >= 0) {
        err(x, member(e, "pollutant"),
            "'pollutant' is only for kind "
            "concentration, not %s",
            conf_kind_name(p->kind));
    }
    const char *want = kind >= 0 ? kind_unit(p->kind) : NULL;
    const char *unit = get_string(x, e, "unit", "point", false, &s);
    if (unit) {
        if (strlen(unit) >= sizeof(p->unit))
            err(x, s, "'unit' is too long (at most %zu characters)",
                sizeof(p->unit) - 1);
        else if (want && strcmp(unit, want) != 0)
            err(x, s,
                "kind %s is accounted in %s, not '%s' (convert with "
                "'scale')",
                conf_kind_name(p->kind), want, unit);
        else
            strcpy(p->unit, unit);
    } else if (want) {
        strcpy(p->unit, want);
    } else if (kind == KIND_PH) {
        strcpy(p->unit, "pH");
    }
    int table = get_enum(x, e, "table", "point", true, nm_table, 2);
    if (table >= 0)
        p->table = (enum conf_table)table;
    int type =
        get_enum(x, e, "type", "point", true, nm_type, TYPE_UINT32_MILLI + 1);
    if (type >= 0)
        p->type = (enum conf_type)type;
    int width = type >= 0 ? conf_type_width(p->type) : 1;
    int addr;
    bool placed = false;
    if (get_int(x, e, "address", "point", true, 0, 65535, &addr, &s) == 1) {
        p->address = (uint16_t)addr;
        if (addr + width - 1 > 65535)
            err(x, s,
                "point '%s' at %d with type %s ends beyond register "
                "65535",
                p->name, addr, conf_type_name(p->type));
        else
            placed = type >= 0 && table >= 0;
    }
    if (!placed) /* no overlap checks for a point in no known place */
        p->table = (enum conf_table) - 1;
    const char *order = get_string(x, e, "order", "point", false, &s);
    if (order) {
        int o = parse_order(order, type >= 0 ? width : 4);
        if (o < 0 && (width == 4 || type < 0))
            err(x, s,
                "'order' must be abcd, cdab, badc, dcba or for 4 "
                "registers abcdefgh, ghefcdab, badcfehg, hgfedcba, not '%s'",
                order);
        else if (o < 0)
            err(x, s, "'order' must be abcd, cdab, badc or dcba, not '%s'",
                order);
        else if (width == 1 && (o == ORDER_CDAB || o == ORDER_DCBA) &&
                 type >= 0)
            err(x, s,
                "'order' %s needs a type of 2 or more registers; a "
                "%s is abcd or badc",
                order, conf_type_name(p->type));
        else
            p->order = (enum conf_order)o;
    }
    double v;
    if (get_num(x, e, "scale", "point", false, &v, &s) == 1) {
        if (v == 0)
            err(x, s, "'scale' must not be 0");
        else
            p->scale = v;
    }
    get_num(x, e, "offset", "point", false, &p->offset, NULL);
    p->has_min = get_num(x, e, "min", "point", false, &p->min, NULL) == 1;
    p->has_max = get_num(x, e, "max", "point", false, &p->max, &s) == 1;
    if (p->has_min && p->has_max && !(p->min < p->max))
        err(x, s, "'min' (%g) must be below 'max' (%g)", p->min, p->max);
    if (get_num(x, e, "max_rate", "point", false, &v, &s) == 1) {
        if (kind >= 0 && !is_total(p->kind))
            err(x, s,
                "'max_rate' is only for totals (volume_total, "
                "reuse_total, electricity_total, gas_total, steam_total, "
                "heat_total), not %s",
                conf_kind_name(p->kind));
        else if (v <= 0)
            err(x, s, "'max_rate' must be > 0, not %g", v);
        else {
            p->has_max_rate = true;
            p->max_rate = v;
        }
    }
    const char *ratio = get_string(x, e, "ratio", "point", false, &s);
    if (ratio) {
        if (strcmp(ratio, "ct") == 0)
            p->ratio = RATIO_CT;
        else if (strcmp(ratio, "pt") == 0)
            p->ratio = RATIO_PT;
        else if (strcmp(ratio, "ct*pt") == 0 || strcmp(ratio, "pt*ct") == 0)
            p->ratio = RATIO_CT | RATIO_PT;
        else
            err(x, s, "'ratio' must be \"ct\", \"pt\" or \"ct*pt\", not '%s'",
                ratio);
    }
}

static void
load_profile(struct ctx *x, const config_setting_t *e, struct conf_profile *p,
             bool builtin)
{
    p->src = src_of(x, e);
    p->builtin = builtin;
    check_keys(x, e, "profile", profile_keys);
    get_id(x, e, "profile", p->id);
    const config_setting_t *l = get_list(x, e, "points");
    if (l == NULL) {
        if (member(e, "points") == NULL)
            err(x, e, "missing required key 'points' in profile");
        return;
    }
    int n = config_setting_length(l);
    if (n == 0)
        err(x, l, "profile '%s' has no points", p->id);
    p->points = xcalloc((size_t)n, sizeof(*p->points));
    for (int i = 0; i < n; i++) {
        const config_setting_t *pe = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(pe)) {
            err(x, pe, "each point must be a group { ... }, not %s",
                type_word(pe));
            continue;
        }
        load_point(x, pe, &p->points[p->npoints++]);
    }
}

/* Read the `profiles` list of group g into *out. */
static void
load_profiles(struct ctx *x, const config_setting_t *g,
              struct conf_profile **out, size_t *nout, bool builtin)
{
    const config_setting_t *l = get_list(x, g, "profiles");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            err(x, e, "each profile must be a group { ... }, not %s",
                type_word(e));
            continue;
        }
        struct conf_profile *p = append(out, nout, sizeof(**out));
        load_profile(x, e, p, builtin);
    }
}

/* ---- enterprises, alerts and the rest ---------------------------------- */

static const char *const outlet_keys[] = {"id", "volume", "concentrations",
                                          "limits_mg_l", NULL};

/* A group whose keys are pollutant names: calls fn for each valid one. */
static void
each_pollutant(struct ctx *x, const config_setting_t *g, const char *what,
               void (*fn)(struct ctx *, const config_setting_t *,
                          enum conf_pollutant, struct conf_outlet *),
               struct conf_outlet *o)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        int p = name_index(config_setting_name(m), nm_pollutant, POLL_COUNT);
        if (p < 0)
            err(x, m,
                "unknown pollutant '%s' in %s (cod, nh3n, tp, tn, cu or "
                "ni)",
                config_setting_name(m), what);
        else
            fn(x, m, (enum conf_pollutant)p, o);
    }
}

static void
outlet_conc(struct ctx *x, const config_setting_t *m, enum conf_pollutant p,
            struct conf_outlet *o)
{
    const char *key = config_setting_name(m);
    o->has_conc[p] = get_ref(x, config_setting_parent(m), key, "concentrations",
                             false, &o->conc[p]);
}

static void
outlet_limit(struct ctx *x, const config_setting_t *m, enum conf_pollutant p,
             struct conf_outlet *o)
{
    double v;
    if (!num_of(x, m, config_setting_name(m), &v))
        return;
    if (v <= 0) {
        err(x, m, "limit of %s must be > 0 mg/L, not %g",
            conf_pollutant_name(p), v);
        return;
    }
    o->has_limit[p] = true;
    o->limit_mg_l[p] = v;
}

static void
load_outlets(struct ctx *x, const config_setting_t *g,
             struct conf_enterprise *ent)
{
    const config_setting_t *l = get_list(x, g, "outlets");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    ent->outlets = xcalloc((size_t)n, sizeof(*ent->outlets));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            err(x, e, "each outlet must be a group { ... }, not %s",
                type_word(e));
            continue;
        }
        struct conf_outlet *o = &ent->outlets[ent->noutlets++];
        o->src = src_of(x, e);
        o->volume.meter = o->volume.point = -1;
        check_keys(x, e, "outlet", outlet_keys);
        get_id(x, e, "outlet", o->id);
        get_ref(x, e, "volume", "outlet", true, &o->volume);
        const config_setting_t *c = get_group(x, e, "concentrations");
        if (c)
            each_pollutant(x, c, "concentrations", outlet_conc, o);
        const config_setting_t *lim = get_group(x, e, "limits_mg_l");
        if (lim)
            each_pollutant(x, lim, "limits_mg_l", outlet_limit, o);
    }
}

/* "YYYY", "YYYY-Qn" or "YYYY-MM". */
static bool
is_va_period(const char *s)
{
    size_t n = strlen(s);
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    if (s[0] == '0' || (n != 4 && n != 7) || (n == 7 && s[4] != '-'))
        return false;
    if (n == 4)
        return true;
    if (s[5] == 'Q')
        return s[6] >= '1' && s[6] <= '4';
    if (!isdigit((unsigned char)s[5]) || !isdigit((unsigned char)s[6]))
        return false;
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    return m >= 1 && m <= 12;
}

static const char *const va_keys[] = {"period", "yuan", NULL};

static void
load_value_added(struct ctx *x, const config_setting_t *g,
                 struct conf_enterprise *ent)
{
    const config_setting_t *l = get_list(x, g, "value_added");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    ent->value_added = xcalloc((size_t)n, sizeof(*ent->value_added));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            err(x, e, "each value_added entry must be a group { ... }, not %s",
                type_word(e));
            continue;
        }
        struct conf_value_added *va = &ent->value_added[ent->nvalue_added++];
        va->src = src_of(x, e);
        check_keys(x, e, "value_added", va_keys);
        const config_setting_t *s;
        const char *p = get_string(x, e, "period", "value_added", true, &s);
        if (p && !is_va_period(p))
            err(x, s,
                "'period' must be \"YYYY\", \"YYYY-Qn\" or \"YYYY-MM\", "
                "not '%s'",
                p);
        else if (p)
            strcpy(va->period, p);
        get_positive(x, e, "yuan", "value_added", true, true, &va->yuan);
    }
}

static const char *const ent_keys[] = {"id",          "name",    "land_mu",
                                       "meters",      "outlets", "quotas",
                                       "value_added", NULL};

/* Enterprise ids that would collide with the park's own topics or files. */
static const char *const reserved_ent[] = {CONF_PARK_ID, "alerts",   "events",
                                           "status",     "capacity", NULL};

static void
load_enterprises(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *l = get_list(x, root, "enterprises");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    c->enterprises = xcalloc((size_t)n, sizeof(*c->enterprises));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            err(x, e, "each enterprise must be a group { ... }, not %s",
                type_word(e));
            continue;
        }
        int idx = (int)c->nenterprises++;
        struct conf_enterprise *ent = &c->enterprises[idx];
        ent->src = src_of(x, e);
        check_keys(x, e, "enterprise", ent_keys);
        if (get_id(x, e, "enterprise", ent->id))
            for (size_t r = 0; reserved_ent[r]; r++)
                if (strcmp(ent->id, reserved_ent[r]) == 0)
                    err(x, member(e, "id"),
                        "enterprise id '%s' is reserved "
                        "(it is a topic level of the park)",
                        ent->id);
        get_strdup(x, e, "name", "enterprise", false, &ent->name);
        if (ent->name == NULL)
            ent->name = xstrdup(ent->id);
        get_positive(x, e, "land_mu", "enterprise", false, true, &ent->land_mu);
        load_meters(x, e, idx, &ent->meters, &ent->nmeters);
        load_outlets(x, e, ent);
        load_quotas(x, e, &ent->quotas, &ent->nquotas);
        load_value_added(x, e, ent);
    }
}

static const char *const alerts_keys[] = {
    "warn", "critical",     "hysteresis", "forecast_window_days",
    "exec", "exec_timeout", NULL};

static void
load_alerts(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    c->alerts.warn = 0.80;
    c->alerts.critical = 0.95;
    c->alerts.hysteresis = 0.02;
    c->alerts.forecast_window_days = 7;
    c->alerts.exec_timeout = 10;
    const config_setting_t *g = get_group(x, root, "alerts");
    if (g == NULL)
        return;
    check_keys(x, g, "alerts", alerts_keys);
    const config_setting_t *s, *sc;
    double warn = c->alerts.warn, crit = c->alerts.critical,
           hyst = c->alerts.hysteresis;
    get_num(x, g, "warn", "alerts", false, &warn, &s);
    get_num(x, g, "critical", "alerts", false, &crit, &sc);
    get_num(x, g, "hysteresis", "alerts", false, &hyst, NULL);
    if (warn <= 0)
        err(x, s ? s : g, "'warn' must be > 0, not %g", warn);
    else if (warn >= crit)
        err(x,
            s    ? s
            : sc ? sc
                 : g,
            "'warn' (%g) must be below 'critical' "
            "(%g)",
            warn, crit);
    else if (crit >= 1)
        err(x, sc ? sc : g,
            "'critical' must be below 1 (1 is 'exceeded'), "
            "not %g",
            crit);
    c->alerts.warn = warn;
    c->alerts.critical = crit;
    if (hyst < 0 || hyst >= warn)
        err(x, member(g, "hysteresis") ? member(g, "hysteresis") : g,
            "'hysteresis' must be >= 0 and below "
            "'warn' (%g), not %g",
            warn, hyst);
    c->alerts.hysteresis = hyst;
    get_int(x, g, "forecast_window_days", "alerts", false, 1, 366,
            &c->alerts.forecast_window_days, NULL);
    size_t n;
    c->alerts.exec = get_strings(x, g, "exec", &n, NULL);
    if (c->alerts.exec && n == 0) {
        err(x, member(g, "exec"), "'exec' must name a program");
    } else if (c->alerts.exec && c->alerts.exec[0][0] != '/') {
        err(x, member(g, "exec"),
            "'exec' must start with an absolute path "
            "(no shell, no PATH search), not '%s'",
            c->alerts.exec[0]);
    }
    get_int(x, g, "exec_timeout", "alerts", false, 1, 3600,
            &c->alerts.exec_timeout, NULL);
}

static const char *const factor_keys[] = {"electricity_kgce_per_kwh",
                                          "gas_kgce_per_m3", "steam_kgce_per_t",
                                          "heat_kgce_per_gj", NULL};

static void
load_energy_factors(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    c->energy_factors.electricity_kgce_per_kwh = 0.1229;
    c->energy_factors.gas_kgce_per_m3 = 1.2143;
    c->energy_factors.steam_kgce_per_t = 128.6;
    c->energy_factors.heat_kgce_per_gj = 34.12;
    const config_setting_t *g = get_group(x, root, "energy_factors");
    if (g == NULL)
        return;
    check_keys(x, g, "energy_factors", factor_keys);
    get_positive(x, g, factor_keys[0], "energy_factors", false, false,
                 &c->energy_factors.electricity_kgce_per_kwh);
    get_positive(x, g, factor_keys[1], "energy_factors", false, false,
                 &c->energy_factors.gas_kgce_per_m3);
    get_positive(x, g, factor_keys[2], "energy_factors", false, false,
                 &c->energy_factors.steam_kgce_per_t);
    get_positive(x, g, factor_keys[3], "energy_factors", false, false,
                 &c->energy_factors.heat_kgce_per_gj);
}

static const char *const outbox_keys[] = {"max_mb", "max_age_days", NULL};

static void
load_outbox(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    c->outbox.max_mb = 256;
    c->outbox.max_age_days = 30;
    const config_setting_t *g = get_group(x, root, "outbox");
    if (g == NULL)
        return;
    check_keys(x, g, "outbox", outbox_keys);
    get_positive(x, g, "max_mb", "outbox", false, false, &c->outbox.max_mb);
    get_int(x, g, "max_age_days", "outbox", false, 1, 3650,
            &c->outbox.max_age_days, NULL);
}

static void
load_run_as(struct ctx *x, const config_setting_t *root)
{
    const config_setting_t *s;
    const char *v = get_string(x, root, "run_as", "", false, &s);
    if (v == NULL)
        return;
    bool ok = *v != '\0' && *v != '-' && strlen(v) <= 32;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
            ok = false;
    if (!ok)
        err(x, s, "'run_as' must be a user name, not '%s'", v);
    else
        x->conf->run_as = xstrdup(v);
}

/* "host:port" with a port in 1..65535; host may be [v6]. */
static bool
is_listen(const char *v)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL || colon == v || colon[1] == '\0')
        return false;
    if (v[0] == '[' && colon[-1] != ']')
        return false;
    if (v[0] != '[' && memchr(v, ':', (size_t)(colon - v)))
        return false;
    long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (!isdigit((unsigned char)*p) || port > 65535)
            return false;
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535;
}

static const char *const http_keys[] = {"listen", "tokens", NULL};
static const char *const token_keys[] = {"role", "sha256", NULL};

static void
load_http(struct ctx *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = get_group(x, root, "http");
    if (g == NULL)
        return;
    c->http.enabled = true;
    check_keys(x, g, "http", http_keys);
    const config_setting_t *s;
    const char *v = get_string(x, g, "listen", "http", false, &s);
    if (v && !is_listen(v))
        err(x, s, "'listen' must be \"host:port\", not '%s'", v);
    c->http.listen = xstrdup(v && is_listen(v) ? v : "127.0.0.1:8080");
    const config_setting_t *l = get_list(x, g, "tokens");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    c->http.tokens = xcalloc((size_t)n, sizeof(*c->http.tokens));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            err(x, e, "each token must be a group { ... }, not %s",
                type_word(e));
            continue;
        }
        struct conf_token *t = &c->http.tokens[c->http.ntokens++];
        t->src = src_of(x, e);
        check_keys(x, e, "token", token_keys);
        const char *role = get_string(x, e, "role", "token", true, &s);
        if (role) {
            if (strcmp(role, "staff") != 0 &&
                strncmp(role, "enterprise:", 11) != 0)
                err(x, s,
                    "'role' must be \"staff\" or \"enterprise:<id>\", "
                    "not '%s'",
                    role);
            else if (strlen(role) >= sizeof(t->role))
                err(x, s, "'role' is too long: '%.40s...'", role);
            else
                strcpy(t->role, role);
        }
        const char *h = get_string(x, e, "sha256", "token", true, &s);
        if (h) {
            bool ok = strlen(h) == 64;
            for (size_t k = 0; ok && k < 64; k++)
                ok = isxdigit((unsigned char)h[k]) != 0;
            if (!ok)
                err(x, s,
                    "'sha256' must be 64 hex digits (sha256sum of the "
                    "token), not '%.70s'",
                    h);
            else
                for (size_t k = 0; k <= 64; k++)
                    t->sha256[k] = (char)tolower((unsigned char)h[k]);
        }
    }
}

/* ---- the profile library ---------------------------------------------- */

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

/* Report libconfig's failure to read cfg; `name` is the main file. */
static void
syntax_error(struct ctx *x, config_t *cfg)
{
    struct conf_src src = {x->main_name, config_error_line(cfg)};
    if (config_error_file(cfg))
        src.file = file_name(x, config_error_file(cfg));
    const char *text = config_error_text(cfg);
    if (text == NULL)
        text = "unknown error";
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
        src.line = 0;
        err_src(x, &src, "cannot read: %s", strerror(EIO));
        return;
    }
    if (strcmp(text, "cannot open include file") == 0) {
        /* Name the file: libconfig 1.5 does not. */
        char *t = src.file == x->main_name && x->main_text
                      ? xstrdup(x->main_text)
                      : read_text(src.file);
        char *line = t;
        for (int i = 1; line && i < src.line; i++) {
            line = strchr(line, '\n');
            if (line)
                line++;
        }
        char *q = line ? strchr(line, '"') : NULL;
        char *end = q ? strchr(q + 1, '"') : NULL;
        if (q && end && memchr(q, '\n', (size_t)(end - q)) == NULL) {
            *end = '\0';
            if (q[1] == '/')
                err_src(x, &src,
                        "cannot include '%s': write @include paths "
                        "relative to the directory of the main config file",
                        q + 1);
            else {
                char *path = join(x->include_dir, q + 1);
                int e = access(path, R_OK) == 0 ? 0 : errno;
                err_src(x, &src, "cannot open include file '%s': %s", path,
                        e ? strerror(e) : "unreadable");
                free(path);
            }
            free(t);
            return;
        }
        free(t);
    }
    if (strcmp(text, "syntax error") == 0)
        err_src(x, &src, "syntax error");
    else
        err_src(x, &src, "syntax error: %s", text);
}

/* Set up ctx to walk one file; returns the old state to restore. */
struct walk_state {
    const char *main_raw, *main_name, *main_text;
    char *include_dir;
};

static struct walk_state
walk_begin(struct ctx *x, const char *raw, const char *name, const char *text,
           char *include_dir)
{
    struct walk_state old = {x->main_raw, x->main_name, x->main_text,
                             x->include_dir};
    x->main_raw = raw;
    x->main_name = intern(x->conf, name);
    x->main_text = text;
    x->include_dir = include_dir;
    return old;
}

static void
walk_end(struct ctx *x, struct walk_state old)
{
    free(x->include_dir);
    x->main_raw = old.main_raw;
    x->main_name = old.main_name;
    x->main_text = old.main_text;
    x->include_dir = old.include_dir;
}

static const char *const library_keys[] = {"profiles", NULL};

static void
load_library_file(struct ctx *x, const char *dir, const char *path)
{
    config_t cfg;
    config_init(&cfg);
    config_set_include_dir(&cfg, dir);
    struct walk_state old = walk_begin(x, path, path, NULL, xstrdup(dir));
    if (!config_read_file(&cfg, path)) {
        syntax_error(x, &cfg);
    } else {
        const config_setting_t *root = config_root_setting(&cfg);
        check_keys(x, root, "a profile file", library_keys);
        if (member(root, "profiles") == NULL) {
            struct conf_src src = {x->main_name, 0};
            err_src(x, &src, "missing 'profiles = ( ... );'");
        }
        load_profiles(x, root, &x->lib, &x->nlib, true);
    }
    config_destroy(&cfg);
    walk_end(x, old);
}

static void
load_library(struct ctx *x)
{
    struct conf *c = x->conf;
    for (size_t i = 0; i < c->nprofile_dirs; i++) {
        const char *dir = c->profile_dirs[i];
        struct dirent **list;
        int n = scandir(dir, &list, conf_file_filter, name_cmp);
        if (n < 0) {
            if (!x->default_dirs)
                err_src(x, &x->dir_src[i],
                        "cannot read profile directory "
                        "'%s': %s",
                        dir, strerror(errno));
            continue;
        }
        for (int k = 0; k < n; k++) {
            char *path = xasprintf("%s/%s", dir, list[k]->d_name);
            load_library_file(x, dir, path);
            free(path);
            free(list[k]);
        }
        free(list);
    }
}

/* conf->profiles = the inline ones, then every library profile not
 * overridden by an inline one of the same id. */
static void
merge_profiles(struct ctx *x)
{
    struct conf *c = x->conf;
    size_t ninline = c->nprofiles;
    for (size_t i = 0; i < x->nlib; i++) {
        struct conf_profile *p = &x->lib[i];
        bool keep = p->id[0] != '\0';
        for (size_t k = 0; keep && k < i; k++)
            if (strcmp(x->lib[k].id, p->id) == 0) {
                err_src(x, &p->src, "profile '%s' is also defined at %s:%d",
                        p->id, x->lib[k].src.file, x->lib[k].src.line);
                keep = false;
            }
        for (size_t k = 0; keep && k < ninline; k++)
            if (strcmp(c->profiles[k].id, p->id) == 0)
                keep = false; /* overridden */
        if (keep) {
            struct conf_profile *d =
                append(&c->profiles, &c->nprofiles, sizeof(*d));
            *d = *p;
        } else {
            free(p->points);
        }
    }
    free(x->lib);
    x->lib = NULL;
    x->nlib = 0;
}

static void
load_profile_dirs(struct ctx *x, const config_setting_t *root, const char *base)
{
    struct conf *c = x->conf;
    size_t n;
    struct conf_src *srcs = NULL;
    char **dirs = get_strings(x, root, "profile_dirs", &n, &srcs);
    if (member(root, "profile_dirs") == NULL) {
        x->default_dirs = true;
        dirs = xcalloc(2, sizeof(char *));
        dirs[0] = xstrdup(ECMON_PROFILE_DIR);
        n = 1;
        srcs = xcalloc(1, sizeof(*srcs));
        srcs[0].file = x->main_name;
    }
    if (dirs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        if (dirs[i][0] != '/' && base) {
            char *abs = join(base, dirs[i]);
            free(dirs[i]);
            dirs[i] = abs;
        }
    }
    c->profile_dirs = dirs;
    c->nprofile_dirs = n;
    x->dir_src = srcs;
}

/* ---- resolution of bus and profile names ------------------------------ */

static void
resolve_meters(struct ctx *x)
{
    struct conf *c = x->conf;
    for (size_t i = 0; i < c->nmeters; i++) {
        struct conf_meter *m = &c->meters[i];
        const struct pending *pd = &x->pend[i];
        if (pd->bus[0]) {
            for (size_t b = 0; b < c->nbuses; b++)
                if (strcmp(c->buses[b].id, pd->bus) == 0) {
                    m->bus = (int)b;
                    break;
                }
            if (m->bus < 0)
                err_src(x, &pd->bus_src,
                        "meter '%s' refers to unknown bus "
                        "'%s'",
                        m->id, pd->bus);
        }
        if (pd->profile[0]) {
            for (size_t p = 0; p < c->nprofiles; p++)
                if (strcmp(c->profiles[p].id, pd->profile) == 0) {
                    m->profile = (int)p;
                    break;
                }
            if (m->profile < 0)
                err_src(x, &pd->profile_src,
                        "meter '%s' refers to unknown "
                        "profile '%s'",
                        m->id, pd->profile);
        }
        if (pd->slave_src.file == NULL)
            continue;
        if (m->bus >= 0 && c->buses[m->bus].kind == BUS_RTU) {
            if (m->slave < 1 || m->slave > 247)
                err_src(x, &pd->slave_src,
                        "'slave' must be between 1 and 247 "
                        "on serial bus '%s', not %d",
                        c->buses[m->bus].id, m->slave);
        } else if (m->slave < 0 || (m->slave > 247 && m->slave != 255)) {
            err_src(x, &pd->slave_src,
                    "'slave' must be between 0 and 247 "
                    "(or 255) on a TCP bus, not %d",
                    m->slave);
        }
    }
}

/* ---- entry points ------------------------------------------------------- */

static const char *const top_keys[] = {
    "park",         "mqtt",     "storage",     "control", "buses",
    "profile_dirs", "profiles", "enterprises", "alerts",  "energy_factors",
    "outbox",       "run_as",   "http",        NULL};

/* Walk the parsed main config. `base` is the directory relative
 * profile_dirs resolve from (NULL: cwd). */
static void
load_root(struct ctx *x, const config_setting_t *root, const char *base)
{
    check_keys(x, root, NULL, top_keys);
    load_park(x, root);
    load_mqtt(x, root);
    load_storage(x, root);
    load_control(x, root);
    load_buses(x, root);
    load_profile_dirs(x, root, base);
    load_profiles(x, root, &x->conf->profiles, &x->conf->nprofiles, false);
    load_enterprises(x, root);
    load_alerts(x, root);
    load_energy_factors(x, root);
    load_outbox(x, root);
    load_run_as(x, root);
    load_http(x, root);
    load_library(x);
    merge_profiles(x);
    resolve_meters(x);
}

/* Validate what was read (unless it could not be parsed), free the
 * loader's state, and return the config if no error was found. */
static struct conf *
finish(struct ctx *x, size_t errs_before, bool parsed)
{
    if (parsed)
        conf_validate(x->conf, x->errs);
    free(x->big);
    free(x->scanned);
    free(x->pend);
    free(x->dir_src);
    for (size_t i = 0; i < x->nlib; i++)
        free(x->lib[i].points);
    free(x->lib);
    if (x->errs->n != errs_before) {
        conf_free(x->conf);
        return NULL;
    }
    return x->conf;
}

/* Directory part of path ("dir" of "dir/x.conf"), or NULL for none. */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return NULL;
    if (slash == path)
        return xstrdup("/");
    char *d = xcalloc((size_t)(slash - path) + 1, 1);
    memcpy(d, path, (size_t)(slash - path));
    return d;
}

struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
    struct ctx x = {0};
    size_t before = errs->n;
    x.conf = xcalloc(1, sizeof(*x.conf));
    x.errs = errs;
    char *dir = dir_of(path);
    struct walk_state old =
        walk_begin(&x, path, path, NULL, dir ? xstrdup(dir) : NULL);
    config_t cfg;
    config_init(&cfg);
    if (dir)
        config_set_include_dir(&cfg, dir);
    bool parsed = false;
    struct stat st;
    FILE *f = fopen(path, "re");
    if (f == NULL || fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        struct conf_src src = {x.main_name, 0};
        err_src(&x, &src, "cannot read: %s",
                f ? strerror(EISDIR) : strerror(errno));
    } else if (!config_read_file(&cfg, path)) {
        syntax_error(&x, &cfg);
    } else {
        load_root(&x, config_root_setting(&cfg), dir);
        parsed = true;
    }
    if (f)
        fclose(f);
    config_destroy(&cfg);
    walk_end(&x, old);
    free(dir);
    return finish(&x, before, parsed);
}

struct conf *
conf_load_string(const char *text, const char *name, struct conf_errors *errs)
{
    struct ctx x = {0};
    size_t before = errs->n;
    x.conf = xcalloc(1, sizeof(*x.conf));
    x.errs = errs;
    struct walk_state old = walk_begin(&x, NULL, name, text, NULL);
    config_t cfg;
    config_init(&cfg);
    bool parsed = false;
    if (!config_read_string(&cfg, text)) {
        syntax_error(&x, &cfg);
    } else {
        load_root(&x, config_root_setting(&cfg), NULL);
        parsed = true;
    }
    config_destroy(&cfg);
    walk_end(&x, old);
    return finish(&x, before, parsed);
}

static void
free_quotas(struct conf_quota *q)
{
    free(q);
}

void
conf_free(struct conf *c)
{
    if (c == NULL)
        return;
    free(c->park.name);
    free(c->park.timezone);
    free_quotas(c->park.quotas);
    free(c->park.meters);
    free(c->mqtt.host);
    free(c->mqtt.prefix);
    free(c->mqtt.client_id);
    free(c->mqtt.username);
    free(c->mqtt.password_file);
    free(c->mqtt.ca_file);
    free(c->mqtt.ca_path);
    free(c->mqtt.cert_file);
    free(c->mqtt.key_file);
    free(c->storage.state_dir);
    free(c->storage.rrd_dir);
    free(c->storage.rrdcached);
    free(c->control.socket);
    free_strv(c->profile_dirs);
    for (size_t i = 0; i < c->nbuses; i++) {
        free(c->buses[i].host);
        free(c->buses[i].device);
    }
    free(c->buses);
    for (size_t i = 0; i < c->nprofiles; i++)
        free(c->profiles[i].points);
    free(c->profiles);
    free(c->meters);
    for (size_t i = 0; i < c->nenterprises; i++) {
        struct conf_enterprise *e = &c->enterprises[i];
        free(e->name);
        free(e->meters);
        free(e->outlets);
        free_quotas(e->quotas);
        free(e->value_added);
    }
    free(c->enterprises);
    free_strv(c->alerts.exec);
    free(c->run_as);
    free(c->http.listen);
    free(c->http.tokens);
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i]);
    free(c->files);
    free(c);
}
