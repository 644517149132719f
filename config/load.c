/* The config loader, the only libconfig user: reads the main file, its
 * @includes and the profile library into struct conf and reports every
 * error it finds as "file:line: message". This file holds the entry points,
 * file and @include handling and the top-level walk; each section has its
 * own file (loader.h lists them). Checks that need the whole model
 * (references, duplicates, overlaps) are in validate.c; printing in
 * print.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/loader.h"

char *
cload_read_text(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = cload_calloc(cap, 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            buf = cload_reallocarray(buf, cap, 2);
            cap *= 2;
        }
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void
syntax_error(struct cload *x, config_t *cfg)
{
    struct conf_src src = {x->file.name, config_error_line(cfg)};
    if (config_error_file(cfg))
        src.file = cload_file_name(x, config_error_file(cfg));
    const char *text = config_error_text(cfg);
    if (text == NULL)
        text = "unknown error";
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
        src.line = 0;
        cload_err_src(x, &src, "cannot read: %s", strerror(EIO));
        return;
    }
    if (strcmp(text, "cannot open include file") == 0) {
        /* Name the file: libconfig 1.5 does not. */
        char *t = src.file == x->file.name && x->file.text
                      ? cload_strdup(x->file.text)
                      : cload_read_text(src.file);
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
                cload_err_src(
                    x, &src,
                    "cannot include '%s': write @include paths "
                    "relative to the directory of the main config file",
                    q + 1);
            else {
                char *path = cload_join(x->file.include_dir, q + 1);
                int e = access(path, R_OK) == 0 ? 0 : errno;
                cload_err_src(x, &src, "cannot open include file '%s': %s",
                              path, e ? strerror(e) : "unreadable");
                free(path);
            }
            free(t);
            return;
        }
        free(t);
    }
    if (strcmp(text, "syntax error") == 0)
        cload_err_src(x, &src, "syntax error");
    else
        cload_err_src(x, &src, "syntax error: %s", text);
}

bool
cload_parse(struct cload *x, const char *name, const char *text,
            const char *dir, cload_root_fn *fn)
{
    struct cload_file outer = x->file;
    x->file = (struct cload_file){
        .raw = text ? NULL : name,
        .name = cload_intern(x->conf, name),
        .text = text,
        .include_dir = dir ? cload_strdup(dir) : NULL,
    };
    config_t cfg;
    config_init(&cfg);
    if (dir)
        config_set_include_dir(&cfg, dir);
    bool parsed =
        text ? config_read_string(&cfg, text) : config_read_file(&cfg, name);
    if (parsed)
        fn(x, config_root_setting(&cfg), dir);
    else
        syntax_error(x, &cfg);
    config_destroy(&cfg);
    free(x->file.include_dir);
    x->file = outer;
    return parsed;
}

static const char *const top_keys[] = {
    "park",         "mqtt",     "storage",     "control", "buses",
    "profile_dirs", "profiles", "enterprises", "alerts",  "energy_factors",
    "outbox",       "run_as",   "http",        NULL};

/* Walk the parsed main config. `base` is its directory, where relative
 * profile_dirs resolve from (NULL: cwd). */
static void
load_root(struct cload *x, const config_setting_t *root, const char *base)
{
    cload_check_keys(x, root, NULL, top_keys);
    cload_park(x, root);
    cload_mqtt(x, root);
    cload_storage(x, root);
    cload_control(x, root);
    cload_buses(x, root);
    cload_profile_dirs(x, root, base);
    cload_profiles(x, root, &x->conf->profiles, &x->conf->nprofiles, false);
    cload_enterprises(x, root);
    cload_alerts(x, root);
    cload_energy_factors(x, root);
    cload_outbox(x, root);
    cload_run_as(x, root);
    cload_http(x, root);
    cload_library(x);
    cload_resolve_meters(x);
}

/* Validate what was read (unless it could not be parsed), free the
 * loader's state, and return the config if no error was found. */
static struct conf *
finish(struct cload *x, size_t errs_before, bool parsed)
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
        return cload_strdup("/");
    char *d = cload_calloc((size_t)(slash - path) + 1, 1);
    memcpy(d, path, (size_t)(slash - path));
    return d;
}

/* Whether the main file can be read; reported if not. */
static bool
readable(struct cload *x, const char *path)
{
    struct stat st;
    FILE *f = fopen(path, "re");
    bool ok = f != NULL && fstat(fileno(f), &st) == 0 && !S_ISDIR(st.st_mode);
    if (!ok) {
        struct conf_src src = {cload_intern(x->conf, path), 0};
        cload_err_src(x, &src, "cannot read: %s",
                      f ? strerror(EISDIR) : strerror(errno));
    }
    if (f)
        fclose(f);
    return ok;
}

/* Load the main config: the file `name`, or `text` named `name` if text is
 * not NULL. */
static struct conf *
load_main(const char *name, const char *text, struct conf_errors *errs)
{
    struct cload x = {0};
    size_t before = errs->n;
    x.conf = cload_calloc(1, sizeof(*x.conf));
    x.errs = errs;
    char *dir = text ? NULL : dir_of(name);
    bool parsed = false;
    if (text || readable(&x, name))
        parsed = cload_parse(&x, name, text, dir, load_root);
    free(dir);
    return finish(&x, before, parsed);
}

struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
    return load_main(path, NULL, errs);
}

struct conf *
conf_load_string(const char *text, const char *name, struct conf_errors *errs)
{
    return load_main(name, text, errs);
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

void
conf_free(struct conf *c)
{
    if (c == NULL)
        return;
    free(c->park.name);
    free(c->park.timezone);
    free(c->park.quotas);
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
        free(e->quotas);
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
