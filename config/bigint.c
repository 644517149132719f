/* Integer literals that libconfig 1.5 stores truncated to 32 bits without
 * a word: found by rescanning the source text of the file they are in. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"

/* An integer literal too large for 32 bits. */
struct cload_bigint {
    const char *file; /* interned */
    int line;         /* of the setting's name */
    char name[64];    /* the setting's name */
    int wrapped;      /* what libconfig stored */
    double value;     /* what the user wrote */
};

/* Record every integer literal without an L suffix that does not fit 32
 * bits; report those that do not even fit 64 bits. A small lexer for
 * libconfig's syntax: comments, strings, names, numbers. */
static void
scan_bigints(struct cload *x, const char *file, const char *text)
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
                cload_err_src(x, &src, "integer %.20s... is too large", start);
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
                cload_err_src(x, &src, "integer %s is too large", buf);
            }
            if (range || (!is64 && (v < INT_MIN || v > INT_MAX))) {
                struct cload_bigint *b =
                    cload_append(&x->big, &x->nbig, sizeof(*b));
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

bool
cload_bigint_of(struct cload *x, const config_setting_t *s, int ival,
                double *out)
{
    struct conf_src src = cload_src(x, s);
    bool scanned = false;
    for (size_t i = 0; i < x->nscanned; i++)
        if (x->scanned[i] == src.file)
            scanned = true;
    if (!scanned) {
        const char **slot =
            cload_append(&x->scanned, &x->nscanned, sizeof(char *));
        *slot = src.file;
        if (src.file == x->file.name && x->file.text) {
            scan_bigints(x, src.file, x->file.text);
        } else {
            char *text = cload_read_text(src.file);
            if (text) {
                scan_bigints(x, src.file, text);
                free(text);
            }
        }
    }
    const char *name = config_setting_name(s);
    for (size_t i = 0; name && i < x->nbig; i++) {
        const struct cload_bigint *b = &x->big[i];
        if (b->file == src.file && b->line == src.line &&
            strcmp(b->name, name) == 0 &&
            (b->wrapped == ival || isnan(b->value))) {
            *out = b->value;
            return true;
        }
    }
    return false;
}
