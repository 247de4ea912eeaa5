/* settings.c - see settings.h. */
#include "config/settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define MAX_DEPTH 16

void settings_path(const config_setting_t *s, char *out, size_t outlen)
{
    const config_setting_t *chain[MAX_DEPTH];
    size_t n = 0;
    for (; s && config_setting_parent(s) && n < MAX_DEPTH; s = config_setting_parent(s))
        chain[n++] = s;
    struct buf b;
    buf_init(&b, out, outlen);
    while (n-- > 0) {
        const config_setting_t *e = chain[n];
        const char *name = config_setting_name(e);
        if (settings_is_list(config_setting_parent(e)) || !name)
            buf_printf(&b, "[%d]", config_setting_index(e));
        else
            buf_printf(&b, "%s%s", b.len ? "." : "", name);
    }
}

bool settings_is_list(const config_setting_t *s)
{
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY;
}

static int vfail(struct loader *ld, const config_setting_t *at, const char *path, const char *fmt,
                 va_list ap)
{
    if (ld->err[0])
        return -1; /* the first message is the one that counts */
    const char *file = at ? config_setting_source_file(at) : NULL;
    int line = at ? (int)config_setting_source_line(at) : 0;
    struct buf b;
    buf_init(&b, ld->err, ld->errlen);
    /* The root setting has no line of its own: name the file only. */
    if (line > 0)
        buf_printf(&b, "%s:%d: %s: ", file ? file : ld->file, line, path);
    else
        buf_printf(&b, "%s: %s: ", file ? file : ld->file, path);
    vsnprintf(ld->err + b.len, ld->errlen - b.len, fmt, ap);
    return -1;
}

int settings_fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    char path[512];
    settings_path(s, path, sizeof(path));
    va_list ap;
    va_start(ap, fmt);
    vfail(ld, s, path, fmt, ap);
    va_end(ap);
    return -1;
}

int settings_fail_in(struct loader *ld, const config_setting_t *parent, const char *name,
                     const char *fmt, ...)
{
    char path[512];
    settings_path(parent, path, sizeof(path));
    size_t n = strlen(path);
    snprintf(path + n, sizeof(path) - n, "%s%s", n ? "." : "", name);
    va_list ap;
    va_start(ap, fmt);
    vfail(ld, parent, path, fmt, ap);
    va_end(ap);
    return -1;
}

int settings_fail_at(struct loader *ld, const config_setting_t *at, const char *path,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ld, at, path, fmt, ap);
    va_end(ap);
    return -1;
}

int settings_string(struct loader *ld, const config_setting_t *s, char **out)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return settings_fail(ld, s, "must be a string");
    const char *v = config_setting_get_string(s);
    if (!*v)
        return settings_fail(ld, s, "must not be empty");
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return settings_fail(ld, s, "must not contain control characters");
    *out = strdup(v);
    return *out ? 0 : settings_fail(ld, s, "out of memory");
}

static bool is_int(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64;
}

static int get_seconds(struct loader *ld, const config_setting_t *s, const struct setting *t,
                       long *out_ms)
{
    double v;
    if (is_int(s))
        v = (double)config_setting_get_int64(s);
    else if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
        v = config_setting_get_float(s);
    else
        return settings_fail(ld, s, "must be a number of seconds");
    if (!(v * 1000 >= (double)t->min && v * 1000 <= (double)t->max))
        return settings_fail(ld, s, "must be between %g and %g seconds", (double)t->min / 1000,
                             (double)t->max / 1000);
    *out_ms = (long)(v * 1000 + 0.5);
    return 0;
}

static int get_integer(struct loader *ld, const config_setting_t *s, const struct setting *t,
                       long long *out)
{
    /* An int64 is taken where a size is meant; `workers` and other counts are plain ints. */
    if (t->type == SETTING_INT ? config_setting_type(s) != CONFIG_TYPE_INT : !is_int(s))
        return settings_fail(ld, s, "must be an integer");
    long long v = config_setting_get_int64(s);
    if (v < t->min || v > t->max)
        return settings_fail(ld, s, "must be between %ld and %ld", t->min, t->max);
    *out = v;
    return 0;
}

/* One row: the member s of the group (NULL if absent) into the field. */
static int load_one(struct loader *ld, const config_setting_t *group, const config_setting_t *s,
                    const struct setting *t, void *field)
{
    if (!s && t->required)
        return settings_fail_in(ld, group, t->name, "is required");
    long long v = t->def;
    switch (t->type) {
    case SETTING_STRING:
        *(char **)field = NULL;
        return s ? settings_string(ld, s, (char **)field) : 0;
    case SETTING_BOOL:
        if (s && config_setting_type(s) != CONFIG_TYPE_BOOL)
            return settings_fail(ld, s, "must be true or false");
        *(bool *)field = s ? config_setting_get_bool(s) != 0 : t->def != 0;
        return 0;
    case SETTING_INT:
        if (s && get_integer(ld, s, t, &v) < 0)
            return -1;
        *(int *)field = (int)v;
        return 0;
    case SETTING_SIZE:
        if (s && get_integer(ld, s, t, &v) < 0)
            return -1;
        *(size_t *)field = (size_t)v;
        return 0;
    case SETTING_SECONDS:
        *(long *)field = t->def;
        return s ? get_seconds(ld, s, t, (long *)field) : 0;
    case SETTING_CUSTOM:
        return t->parse(ld, s, field);
    }
    return -1;
}

int settings_load(struct loader *ld, const config_setting_t *group, const struct setting *table,
                  void *obj)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        const struct setting *t = table;
        while (t->name && !(name && strcmp(name, t->name) == 0))
            t++;
        if (!t->name)
            return settings_fail(ld, s, "unknown setting");
    }
    const config_setting_t *outer = ld->group;
    int rc = 0;
    for (const struct setting *t = table; t->name && rc == 0; t++) {
        const config_setting_t *s = config_setting_get_member(group, t->name);
        ld->group = group;
        rc = load_one(ld, group, s, t, (char *)obj + t->offset);
    }
    ld->group = outer;
    return rc;
}
