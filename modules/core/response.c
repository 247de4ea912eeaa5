/* response.c - see response.h. */
#include "core/response.h"

#include <string.h>

#include "base/httpsyntax.h"

static void header(struct buf *out, const char *prefix, const char *name, const char *value)
{
    buf_printf(out, "%s%s: %s\r\n", prefix, name, value);
}

/* One header line per value of a '\n'-joined list (core/policy.h): never comma-joined, which
 * would break a cookie whose Expires holds a comma. */
static void header_each(struct buf *out, const char *name, const char *values)
{
    for (const char *v = values; v && *v;) {
        size_t n = strcspn(v, "\n");
        buf_printf(out, "%s: %.*s\r\n", name, (int)n, v);
        v += n + (v[n] == '\n');
    }
}

/* Allowed cookies as Variable-AUTHZ_SET_COOKIE_1, _2, ...: a server keeps one value per
 * variable, so each cookie has its own, for the glue to add to the client's response. */
static size_t cookie_variables(struct buf *out, const char *values)
{
    size_t n = 0;
    for (const char *v = values; v && *v && n < CONFIG_MAX_AUTH_COOKIES;) {
        size_t len = strcspn(v, "\n");
        buf_printf(out, "Variable-AUTHZ_SET_COOKIE_%zu: %.*s\r\n", ++n, (int)len, v);
        v += len + (v[len] == '\n');
    }
    return n;
}

static bool is_allow(enum outcome o)
{
    return o == OUTCOME_ALLOWED || o == OUTCOME_UNPROTECTED;
}

bool response_write(const struct decision *d, struct buf *out)
{
    if (d->status_only && (d->outcome == OUTCOME_DENIED || d->outcome == OUTCOME_BAD_REQUEST)) {
        /* auth_request turns any status but 401 and 403 into 500: a sign-in redirect goes as
         * 401 and a bad request as 403, and the denial phase answers them whole */
        int status = d->outcome == OUTCOME_BAD_REQUEST ? 403 : d->status == 302 ? 401 : d->status;
        buf_printf(out, "Status: %d %s\r\nContent-Length: 0\r\n\r\n", status, http_reason(status));
        return buf_ok(out);
    }

    buf_printf(out, "Status: %d %s\r\n", d->status, http_reason(d->status));
    if (is_allow(d->outcome)) {
        for (size_t i = 0; i < d->nvars; i++)
            header(out, "Variable-", d->vars[i].name, d->vars[i].value);
        cookie_variables(out, d->set_cookie);
        header(out, "Variable-", "AUTHZ_QUERY_STRING", d->query ? d->query : "");
        /* Never empty: lighttpd drops empty variables, so glue keys on this one. */
        header(out, "Variable-", "AUTHZ_DECISION", outcome_name(d->outcome));
        buf_add(out, "\r\n", 2);
        return buf_ok(out);
    }

    const char *type = "text/plain; charset=utf-8";
    if (d->outcome == OUTCOME_DENIED && d->body_len > 0) {
        if (d->content_type)
            type = d->content_type;
    }
    header_each(out, "WWW-Authenticate", d->www_authenticate);
    if (d->location)
        header(out, "", "Location", d->location);
    header_each(out, "Set-Cookie", d->set_cookie);
    header(out, "", "Content-Type", type);
    if (d->outcome == OUTCOME_DENIED && d->body_len > 0) {
        buf_printf(out, "Content-Length: %zu\r\n\r\n", d->body_len);
        buf_add(out, d->body, d->body_len);
    } else {
        /* A short text that says nothing about the cause, which goes to the log only. */
        const char *reason = http_reason(d->status);
        buf_printf(out, "Content-Length: %zu\r\n\r\n%d %s\n", strlen(reason) + 5, d->status,
                   reason);
    }
    return buf_ok(out);
}
