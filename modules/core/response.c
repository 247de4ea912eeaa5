/* response.c - see response.h. */
#include "core/response.h"

#include <stdio.h>
#include <string.h>

#include "base/httpsyntax.h"

static void puts_sink(response_sink sink, void *ud, const char *s)
{
    sink(ud, s, strlen(s));
}

static void header(response_sink sink, void *ud, const char *prefix, const char *name,
                   const char *value)
{
    puts_sink(sink, ud, prefix);
    puts_sink(sink, ud, name);
    sink(ud, ": ", 2);
    puts_sink(sink, ud, value);
    sink(ud, "\r\n", 2);
}

void response_write(const struct decision *d, response_sink sink, void *ud)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "Status: %d %s\r\n", d->status, http_reason(d->status));
    sink(ud, line, (size_t)n);

    if (d->status == 200) {
        for (size_t i = 0; i < d->nvars; i++)
            header(sink, ud, "Variable-", d->vars[i].name, d->vars[i].value);
        header(sink, ud, "Variable-", "AUTHZ_QUERY_STRING", d->query ? d->query : "");
        /* Never empty: lighttpd drops empty variables, so glue keys on this one. */
        header(sink, ud, "Variable-", "AUTHZ_DECISION", d->mw ? "allowed" : "unprotected");
        sink(ud, "\r\n", 2);
        return;
    }

    const char *type = "text/plain; charset=utf-8";
    const char *body = NULL;
    size_t body_len = 0;
    char fallback[64];
    if ((d->status == 401 || d->status == 403) && d->body_len > 0) {
        body = d->body;
        body_len = d->body_len;
        if (d->content_type)
            type = d->content_type;
    } else {
        body_len = (size_t)snprintf(fallback, sizeof(fallback), "%d %s\n", d->status,
                                    http_reason(d->status));
        body = fallback;
    }
    if (d->www_authenticate)
        header(sink, ud, "", "WWW-Authenticate", d->www_authenticate);
    header(sink, ud, "", "Content-Type", type);
    n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n\r\n", body_len);
    sink(ud, line, (size_t)n);
    sink(ud, body, body_len);
}
