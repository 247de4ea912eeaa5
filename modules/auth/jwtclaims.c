/*
 * jwtclaims.c - claim lookup by path, requiredClaims matching, and header-value export.
 */
#include "auth/jwtclaims.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/httpsyntax.h"

/* Room for the text of a number. */
#define NUMBER_TEXT 48

const json_t *jwt_claim_find(const json_t *claims, const char *const *path, size_t npath)
{
    const json_t *v = claims;
    for (size_t i = 0; i < npath && v; i++)
        v = json_is_object(v) && path[i] ? json_object_get(v, path[i]) : NULL;
    return npath && !json_is_null(v) ? v : NULL;
}

/*
 * The text of a string, number or boolean (*s: the string's own bytes or tmp); false for
 * anything else.
 */
static bool scalar_text(const json_t *v, char tmp[NUMBER_TEXT], const char **s, size_t *len)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        *s = json_string_value(v);
        *len = json_string_length(v);
        return true;
    case JSON_INTEGER:
        *len = (size_t)snprintf(tmp, NUMBER_TEXT, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *s = tmp;
        return true;
    case JSON_REAL:
        /* jansson's own formatting, at the first precision that reads back the same value. */
        for (int precision = 15; precision <= 17; precision++) {
            size_t n = json_dumpb(v, tmp, NUMBER_TEXT - 1,
                                  JSON_ENCODE_ANY | JSON_REAL_PRECISION(precision));
            if (n == 0 || n >= NUMBER_TEXT)
                return false;
            tmp[n] = '\0';
            if (strtod(tmp, NULL) == json_real_value(v) || precision == 17) {
                *s = tmp;
                *len = n;
                return true;
            }
        }
        return false;
    case JSON_TRUE:
        *s = "true";
        *len = 4;
        return true;
    case JSON_FALSE:
        *s = "false";
        *len = 5;
        return true;
    default:
        return false;
    }
}

static bool accepted_text(const char *s, size_t len, const char *const *accepted, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (accepted[i] && strlen(accepted[i]) == len && memcmp(accepted[i], s, len) == 0)
            return true;
    return false;
}

static bool scalar_accepted(const json_t *v, const char *const *accepted, size_t n)
{
    char tmp[NUMBER_TEXT];
    const char *s;
    size_t len;
    return scalar_text(v, tmp, &s, &len) && accepted_text(s, len, accepted, n);
}

/* Whether one of the space-separated words of s is accepted. */
static bool word_accepted(const char *s, size_t len, const char *const *accepted, size_t n)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && s[i] != ' ')
            i++;
        if (i > start && accepted_text(s + start, i - start, accepted, n))
            return true;
    }
    return false;
}

enum jwt_claim_match jwt_claim_require(const json_t *claims, const char *const *path, size_t npath,
                                       const char *const *accepted, size_t naccepted)
{
    const json_t *v = jwt_claim_find(claims, path, npath);
    if (!v)
        return JWT_CLAIM_MISSING;
    bool match = false;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (scalar_accepted(e, accepted, naccepted)) {
                match = true;
                break;
            }
        }
    } else if (json_is_string(v) && npath == 1 && strcmp(path[0], "scope") == 0) {
        match = word_accepted(json_string_value(v), json_string_length(v), accepted, naccepted);
    } else {
        match = scalar_accepted(v, accepted, naccepted);
    }
    return match ? JWT_CLAIM_MATCH : JWT_CLAIM_MISMATCH;
}

/*
 * One scalar's text. An element of an array must be exportable on its own (the whole value is
 * checked by the caller): a space at its end would be trimmed by an application splitting
 * the joined text, and an empty element the joined text cannot show.
 */
static enum jwt_export append_scalar(const json_t *v, bool element, struct buf *out)
{
    char tmp[NUMBER_TEXT];
    const char *s;
    size_t len;
    if (!scalar_text(v, tmp, &s, &len))
        return JWT_EXPORT_UNSUPPORTED;
    if (element && (len == 0 || !http_value_is_exportable(s, len)))
        return JWT_EXPORT_UNSAFE;
    if (len > HTTP_MAX_VALUE || !buf_add(out, s, len))
        return JWT_EXPORT_TOO_LONG;
    return JWT_EXPORT_OK;
}

enum jwt_export jwt_claim_export(const json_t *claims, const char *const *path, size_t npath,
                                 struct buf *out)
{
    const json_t *v = jwt_claim_find(claims, path, npath);
    if (!v)
        return JWT_EXPORT_MISSING;
    size_t mark = out->len;
    enum jwt_export e = JWT_EXPORT_OK;
    if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item) && !json_is_number(item) && !json_is_boolean(item))
                return JWT_EXPORT_UNSUPPORTED;
        }
        json_array_foreach(v, i, item)
        {
            e = i > 0 && !buf_addc(out, ',') ? JWT_EXPORT_TOO_LONG : append_scalar(item, true, out);
            if (e != JWT_EXPORT_OK)
                break;
        }
    } else {
        e = append_scalar(v, false, out);
    }
    size_t len = out->len - mark;
    if (e == JWT_EXPORT_OK && len > HTTP_MAX_VALUE)
        e = JWT_EXPORT_TOO_LONG;
    if (e == JWT_EXPORT_OK && !http_value_is_exportable(out->data + mark, len))
        e = JWT_EXPORT_UNSAFE;
    if (e != JWT_EXPORT_OK)
        buf_truncate(out, mark);
    return e;
}

const char *jwt_export_name(enum jwt_export e)
{
    switch (e) {
    case JWT_EXPORT_OK:
        return "ok";
    case JWT_EXPORT_MISSING:
        return "missing";
    case JWT_EXPORT_UNSUPPORTED:
        return "not a string, number, boolean or array of those";
    case JWT_EXPORT_UNSAFE:
        return "holds a control character, a line separator or a space at an end";
    case JWT_EXPORT_TOO_LONG:
        return "too long for a header value";
    }
    return "?";
}
