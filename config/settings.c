/* Typed access to libconfig settings for the loader: strings, numbers with
 * range checks (also those libconfig truncates), ids, enumerations,
 * `meter.point` references, unknown keys with a suggestion; every error is
 * reported as "file:line: message". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

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

config_setting_t *
cload_member(const config_setting_t *g, const char *key)
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

void
cload_check_keys(struct cload *x, const config_setting_t *g, const char *what,
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
            cload_err(x, m, "unknown key '%s' in %s (did you mean '%s'?)", name,
                      what, near);
        else if (what)
            cload_err(x, m, "unknown key '%s' in %s", name, what);
        else if (near)
            cload_err(x, m, "unknown top-level key '%s' (did you mean '%s'?)",
                      name, near);
        else
            cload_err(x, m, "unknown top-level key '%s'", name);
    }
}

void
cload_missing(struct cload *x, const config_setting_t *g, const char *key,
              const char *what)
{
    cload_err(x, g, "missing required key '%s' in %s", key, what);
}

const char *
cload_get_string(struct cload *x, const config_setting_t *g, const char *key,
                 const char *what, bool required, const config_setting_t **sp)
{
    const config_setting_t *s = cload_member(g, key);
    if (sp)
        *sp = s;
    if (s == NULL) {
        if (required && g)
            cload_missing(x, g, key, what);
        return NULL;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        cload_err(x, s, "'%s' must be a string, not %s", key, type_word(s));
        return NULL;
    }
    return config_setting_get_string(s);
}

bool
cload_get_strbuf(struct cload *x, const config_setting_t *g, const char *key,
                 const char *what, bool required, char *buf, size_t size)
{
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, key, what, required, &s);
    if (v == NULL)
        return false;
    if (strlen(v) >= size) {
        cload_err(x, s, "'%s' is too long (at most %zu characters): '%.40s...'",
                  key, size - 1, v);
        return false;
    }
    strcpy(buf, v);
    return true;
}

bool
cload_get_strdup(struct cload *x, const config_setting_t *g, const char *key,
                 const char *what, bool required, char **out)
{
    const char *v = cload_get_string(x, g, key, what, required, NULL);
    if (v == NULL)
        return false;
    cload_strset(out, v);
    return true;
}

void
cload_get_nonempty(struct cload *x, const config_setting_t *g, const char *key,
                   const char *what, bool required, char **out)
{
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, key, what, required, &s);
    if (v && *v == '\0')
        cload_err(x, s, "'%s' must not be empty", key);
    else if (v)
        cload_strset(out, v);
}

void
cload_get_path(struct cload *x, const config_setting_t *g, const char *key,
               const char *what, bool required, char **out)
{
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, key, what, required, &s);
    if (v && v[0] != '/')
        cload_err(x, s, "'%s' must be an absolute path, not '%s'", key, v);
    else if (v)
        cload_strset(out, v);
}

/* The number in setting s (int, int64 or float); `word` names what is
 * expected in the message if it is not a number. */
static bool
num_as(struct cload *x, const config_setting_t *s, const char *key,
       const char *word, double *out)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: {
        int v = config_setting_get_int(s);
        if (!cload_bigint_of(x, s, v, out))
            *out = v;
        return !isnan(*out);
    }
    case CONFIG_TYPE_INT64:
        *out = (double)config_setting_get_int64(s);
        return true;
    case CONFIG_TYPE_FLOAT:
        *out = config_setting_get_float(s);
        if (!isfinite(*out)) {
            cload_err(x, s, "'%s' must be a finite number", key);
            return false;
        }
        return true;
    }
    cload_err(x, s, "'%s' must be %s, not %s", key, word, type_word(s));
    return false;
}

bool
cload_num(struct cload *x, const config_setting_t *s, const char *key,
          double *out)
{
    return num_as(x, s, key, "a number", out);
}

/* 1: member `key` is a number, in *out; 0: absent (reported if required);
 * -1: error, reported. */
static int
get_num_as(struct cload *x, const config_setting_t *g, const char *key,
           const char *what, bool required, const char *word, double *out,
           const config_setting_t **sp)
{
    const config_setting_t *s = cload_member(g, key);
    if (sp)
        *sp = s;
    if (s == NULL) {
        if (required && g)
            cload_missing(x, g, key, what);
        return 0;
    }
    return num_as(x, s, key, word, out) ? 1 : -1;
}

int
cload_get_num(struct cload *x, const config_setting_t *g, const char *key,
              const char *what, bool required, double *out,
              const config_setting_t **sp)
{
    return get_num_as(x, g, key, what, required, "a number", out, sp);
}

void
cload_get_positive(struct cload *x, const config_setting_t *g, const char *key,
                   const char *what, bool required, bool zero, double *out)
{
    const config_setting_t *s;
    double v;
    if (cload_get_num(x, g, key, what, required, &v, &s) != 1)
        return;
    if (zero ? v < 0 : v <= 0)
        cload_err(x, s, "'%s' must be %s 0, not %g", key, zero ? ">=" : ">", v);
    else
        *out = v;
}

int
cload_get_int(struct cload *x, const config_setting_t *g, const char *key,
              const char *what, bool required, long long min, long long max,
              int *out, const config_setting_t **sp)
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
        cload_err(x, s, "'%s' must be an integer, not %g", key, v);
        return -1;
    }
    if (v < (double)min || v > (double)max) {
        cload_err(x, s, "'%s' must be between %lld and %lld, not %.0f", key,
                  min, max, v);
        return -1;
    }
    *out = (int)v;
    return 1;
}

void
cload_get_bool(struct cload *x, const config_setting_t *g, const char *key,
               bool *out)
{
    const config_setting_t *s = cload_member(g, key);
    if (s == NULL)
        return;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        cload_err(x, s, "'%s' must be true or false, not %s", key,
                  type_word(s));
    else
        *out = config_setting_get_bool(s) != 0;
}

const config_setting_t *
cload_get_group(struct cload *x, const config_setting_t *g, const char *key)
{
    const config_setting_t *s = cload_member(g, key);
    if (s && !config_setting_is_group(s)) {
        cload_err(x, s, "'%s' must be a group { ... }, not %s", key,
                  type_word(s));
        return NULL;
    }
    return s;
}

const config_setting_t *
cload_get_list(struct cload *x, const config_setting_t *g, const char *key)
{
    const config_setting_t *s = cload_member(g, key);
    if (s == NULL)
        return NULL;
    if (config_setting_is_list(s) ||
        (config_setting_is_array(s) && config_setting_length(s) == 0))
        return s;
    cload_err(x, s, "'%s' must be a list ( {...}, ... ), not %s", key,
              type_word(s));
    return NULL;
}

const config_setting_t *
cload_elem_group(struct cload *x, const config_setting_t *l, int i,
                 const char *what)
{
    const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
    if (!config_setting_is_group(e)) {
        cload_err(x, e, "each %s must be a group { ... }, not %s", what,
                  type_word(e));
        return NULL;
    }
    return e;
}

char **
cload_get_strings(struct cload *x, const config_setting_t *g, const char *key,
                  size_t *n, struct conf_src **srcs)
{
    const config_setting_t *s = cload_member(g, key);
    *n = 0;
    if (s == NULL)
        return NULL;
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        cload_err(x, s,
                  "'%s' must be an array of strings [ \"...\", ... ], not %s",
                  key, type_word(s));
        return NULL;
    }
    int len = config_setting_length(s);
    char **v = cload_calloc((size_t)len + 1, sizeof(char *));
    if (srcs)
        *srcs = cload_calloc((size_t)len + 1, sizeof(struct conf_src));
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            cload_err(x, e, "'%s' must hold only strings, not %s", key,
                      type_word(e));
            continue;
        }
        v[*n] = cload_strdup(config_setting_get_string(e));
        if (srcs)
            (*srcs)[*n] = cload_src(x, e);
        (*n)++;
    }
    return v;
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

bool
cload_get_id(struct cload *x, const config_setting_t *g, const char *what,
             char *buf)
{
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, "id", what, true, &s);
    if (v == NULL)
        return false;
    if (strlen(v) >= CONF_ID_MAX) {
        cload_err(x, s, "%s id '%.40s...' is too long (at most %d characters)",
                  what, v, CONF_ID_MAX - 1);
        return false;
    }
    strcpy(buf, v);
    if (!is_id(v)) {
        cload_err(x, s, "%s id '%s' may only use a-z, 0-9, '_' and '-'", what,
                  v);
        return false;
    }
    return true;
}

int
cload_name_index(const char *v, cload_names_fn *name, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(name(i), v) == 0)
            return i;
    return -1;
}

/* "a, b or c" of the table, for messages. */
static char *
name_list(cload_names_fn *name, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(name(i)) + 4;
    char *s = cload_calloc(len, 1);
    for (int i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, i == n - 1 ? " or " : ", ");
        strcat(s, name(i));
    }
    return s;
}

int
cload_get_enum(struct cload *x, const config_setting_t *g, const char *key,
               const char *what, bool required, cload_names_fn *name, int n)
{
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, key, what, required, &s);
    if (v == NULL)
        return s ? -1 : -2;
    int i = cload_name_index(v, name, n);
    if (i < 0) {
        char *l = name_list(name, n);
        cload_err(x, s, "'%s' must be %s, not '%s'", key, l, v);
        free(l);
    }
    return i;
}

const char *
cload_pollutant_word(int i)
{
    return conf_pollutant_name((enum conf_pollutant)i);
}

bool
cload_get_ref(struct cload *x, const config_setting_t *g, const char *key,
              const char *what, bool required, struct conf_ref *r)
{
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, key, what, required, &s);
    r->meter = r->point = -1;
    if (v == NULL)
        return false;
    r->src = cload_src(x, s);
    const char *dot = strchr(v, '.');
    if (dot == NULL || dot == v || dot[1] == '\0' || strchr(dot + 1, '.')) {
        cload_err(x, s, "'%s' must be \"meter.point\", not '%s'", key, v);
        return false;
    }
    if (strlen(v) >= sizeof(r->text)) {
        cload_err(x, s, "'%s' is too long: '%.40s...'", key, v);
        return false;
    }
    strcpy(r->text, v);
    return true;
}
