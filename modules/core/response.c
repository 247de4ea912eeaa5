/* response.c - see response.h. */
#include "core/response.h"

#include <string.h>

#include "base/httpsyntax.h"

static void header(struct buf *out, const char *prefix, const char *name, const char *value)
{
    buf_printf(out, "%s%s: %s\r\n", prefix, name, value);
}

static bool is_allow(enum outcome o)
{
    return o == OUTCOME_ALLOWED || o == OUTCOME_UNPROTECTED;
}

bool response_write(const struct decision *d, struct buf *out)
{
    buf_printf(out, "Status: %d %s\r\n", d->status, http_reason(d->status));
    if (is_allow(d->outcome)) {
        for (size_t i = 0; i < d->nvars; i++)
            header(out, "Variable-", d->vars[i].name, d->vars[i].value);
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
    if (d->www_authenticate)
        header(out, "", "WWW-Authenticate", d->www_authenticate);
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
