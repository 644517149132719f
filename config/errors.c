/* Collected config errors (conf_errors_*) and how the loader reports them
 * as "file:line: message", with the allocation helpers it uses: all of
 * them abort when memory runs out. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

static void
oom(void)
{
    fputs("ecmond: out of memory\n", stderr);
    abort();
}

void *
cload_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *
cload_reallocarray(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        oom();
    p = realloc(p, n * size != 0 ? n * size : 1);
    if (p == NULL)
        oom();
    return p;
}

char *
cload_strdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        oom();
    return d;
}

void
cload_strset(char **out, const char *s)
{
    free(*out);
    *out = cload_strdup(s);
}

static char *vasprintf_or_die(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *
vasprintf_or_die(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        oom();
    char *s = cload_calloc((size_t)n + 1, 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *
cload_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vasprintf_or_die(fmt, ap);
    va_end(ap);
    return s;
}

void *
cload_append(void *arr, size_t *n, size_t size)
{
    void **a = arr;
    *a = cload_reallocarray(*a, *n + 1, size);
    char *el = (char *)*a + *n * size;
    memset(el, 0, size);
    (*n)++;
    return el;
}

static void
errors_vadd(struct conf_errors *errs, const struct conf_src *src,
            const char *fmt, va_list ap)
{
    char *msg = vasprintf_or_die(fmt, ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    const char *file = src && src->file ? src->file : "?";
    char *line;
    if (src && src->line > 0)
        line = cload_asprintf("%s:%d: %s", file, src->line, msg);
    else
        line = cload_asprintf("%s: %s", file, msg);
    free(msg);
    errs->msgs = cload_reallocarray(errs->msgs, errs->n + 1, sizeof(char *));
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

const char *
cload_intern(struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (strcmp(c->files[i], name) == 0)
            return c->files[i];
    char **slot = cload_append(&c->files, &c->nfiles, sizeof(char *));
    *slot = cload_strdup(name);
    return *slot;
}

char *
cload_join(const char *dir, const char *name)
{
    if (dir == NULL || name[0] == '/')
        return cload_strdup(name);
    return cload_asprintf("%s/%s", dir, name);
}

const char *
cload_file_name(struct cload *x, const char *raw)
{
    if (raw == NULL || (x->file.raw && strcmp(raw, x->file.raw) == 0))
        return x->file.name;
    char *p = cload_join(x->file.include_dir, raw);
    const char *name = cload_intern(x->conf, p);
    free(p);
    return name;
}

struct conf_src
cload_src(struct cload *x, const config_setting_t *s)
{
    struct conf_src src = {x->file.name, 0};
    if (s != NULL) {
        src.file = cload_file_name(x, config_setting_source_file(s));
        src.line = (int)config_setting_source_line(s);
    }
    return src;
}

void
cload_err(struct cload *x, const config_setting_t *s, const char *fmt, ...)
{
    struct conf_src src = cload_src(x, s);
    va_list ap;
    va_start(ap, fmt);
    errors_vadd(x->errs, &src, fmt, ap);
    va_end(ap);
}

void
cload_err_src(struct cload *x, const struct conf_src *src, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errors_vadd(x->errs, src, fmt, ap);
    va_end(ap);
}
