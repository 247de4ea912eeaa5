/*
 * settings.h - reading libconfig settings into plain structs, with errors that name the file,
 * the line and the setting.
 *
 * A group of settings is declared as a table (struct setting): each row names a setting, its
 * type, where its value goes in the struct being filled, whether it is required, its range
 * and default. settings_load checks the whole group against its table: a setting the table
 * does not name is an error (a typo must never silently drop protection), as is a value of
 * the wrong type or out of range. Rows of type SETTING_CUSTOM hand the setting to a parser of
 * their own. The dotted name of a setting in messages ("middlewares[0].rule.url") is derived
 * from the setting itself, never built by hand.
 *
 * Errors are values: every function returns 0, or -1 after writing the message into the
 * loader's err buffer (the first message wins).
 */
#ifndef AUTHZ_SETTINGS_H
#define AUTHZ_SETTINGS_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

struct loader {
    const char *file; /* for messages where libconfig knows no file */
    char *err;
    size_t errlen;
    /* The group settings_load is filling: where a custom parser of a setting that is absent
     * reports what is wrong. */
    const config_setting_t *group;
};

enum setting_type {
    SETTING_STRING,  /* char *: non-empty, no control characters; NULL when absent */
    SETTING_BOOL,    /* bool */
    SETTING_INT,     /* int, within [min, max] */
    SETTING_SIZE,    /* size_t, within [min, max] */
    SETTING_SECONDS, /* long milliseconds: a number of seconds within [min, max] ms */
    SETTING_CUSTOM,  /* parse(ld, s, field): s is NULL when the setting is absent */
};

struct setting {
    const char *name;
    enum setting_type type;
    size_t offset; /* of the field in the struct being filled */
    bool required;
    long min, max, def; /* ranges and defaults; SETTING_SECONDS in milliseconds */
    int (*parse)(struct loader *ld, const config_setting_t *s, void *field);
};

/* The table's end. */
#define SETTINGS_END                                                                               \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* Fills obj from group by table (terminated by SETTINGS_END), in the table's order. */
int settings_load(struct loader *ld, const config_setting_t *group, const struct setting *table,
                  void *obj);

/* Writes "FILE:LINE: PATH: message" for setting s (its file and line, its dotted path). */
int settings_fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same for a setting `name` that is missing from (or wrong as a whole in) parent: the
 * line is the parent's, the path is the parent's followed by name. */
int settings_fail_in(struct loader *ld, const config_setting_t *parent, const char *name,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The same at the line of `at`, naming the setting `path`. */
int settings_fail_at(struct loader *ld, const config_setting_t *at, const char *path,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The dotted path of s ("middlewares[0].rule.url"; "" for the root). */
void settings_path(const config_setting_t *s, char *out, size_t outlen);

/* A list written ( ... ) or [ ... ]. */
bool settings_is_list(const config_setting_t *s);

/* A non-empty string without control characters, copied into *out; 0 or -1. */
int settings_string(struct loader *ld, const config_setting_t *s, char **out);

#endif
