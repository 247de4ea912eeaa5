/* signin.c - see signin.h. */
#include "core/signin.h"

#include <ctype.h>
#include <string.h>

#include "base/buf.h"
#include "base/httpsyntax.h"

/* The q of one media range ("text/html;level=1;q=0.8"): 1000 for q=1, 0 for q=0. */
static int range_q(const char *params, size_t len)
{
    for (size_t i = 0; i + 2 <= len; i++) {
        if (params[i] != ';')
            continue;
        size_t j = i + 1;
        while (j < len && (params[j] == ' ' || params[j] == '\t'))
            j++;
        if (j + 2 > len || tolower((unsigned char)params[j]) != 'q' || params[j + 1] != '=')
            continue;
        j += 2;
        int q = 0, scale = 1000;
        if (j < len && params[j] == '1')
            return 1000;
        if (j >= len || params[j] != '0')
            return 0; /* not a qvalue: counted as not wanted */
        for (j += 2; j < len && isdigit((unsigned char)params[j]) && scale > 1; j++) {
            scale /= 10;
            q += (params[j] - '0') * scale;
        }
        return q;
    }
    return 1000;
}

bool signin_wants_page(char *const *envp)
{
    const char *xrw = request_param(envp, "HTTP_X_REQUESTED_WITH");
    if (xrw && http_name_eq(xrw, strlen(xrw), "XMLHttpRequest", 14))
        return false;
    const char *accept = request_param(envp, "HTTP_ACCEPT");
    if (!accept)
        return false;
    int html = 0, best_other = 0;
    for (const char *p = accept; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        if (n == 0)
            break;
        size_t type = strcspn(p, ";");
        if (type > n)
            type = n;
        while (type > 0 && (p[type - 1] == ' ' || p[type - 1] == '\t'))
            type--;
        int q = range_q(p + type, n - type);
        if (http_name_eq(p, type, "text/html", 9) ||
            http_name_eq(p, type, "application/xhtml+xml", 21)) {
            if (q > html)
                html = q;
        } else if (!http_name_eq(p, type, "*/*", 3) && q > best_other) {
            best_other = q; /* "*" takes whatever is offered: it prefers nothing */
        }
        p += n;
    }
    return html > 0 && html >= best_other;
}

/* Whether host ("name" or "name:port") is one of the allowed ones; an entry without a port
 * allows the name on any port. */
static bool host_allowed(const struct rule *r, const char *host)
{
    size_t len = strlen(host);
    const char *colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
    size_t name_len = colon ? (size_t)(colon - host) + (host[0] == '[') : len;
    for (size_t i = 0; i < r->nallowed_hosts; i++) {
        const char *a = r->allowed_hosts[i];
        size_t alen = strlen(a);
        if (http_name_eq(a, alen, host, len) || http_name_eq(a, alen, host, name_len))
            return true;
    }
    return false;
}

const char *signin_location(const struct rule *r, const struct request_view *req, char *out,
                            size_t outlen)
{
    char authority[REQUEST_MAX_AUTHORITY + 16];
    const char *host = req->host;
    if (r->nallowed_hosts > 0) {
        if (!*host || !host_allowed(r, host))
            return "the Host is not in allowedHosts: no sign-in redirect";
    } else {
        /* The server's own name: with no list to check it against, a Host could be anything. */
        const char *name = request_param(req->envp, "SERVER_NAME");
        const char *port = request_param(req->envp, "SERVER_PORT");
        if (!name || !*name || strlen(name) > REQUEST_MAX_AUTHORITY ||
            !http_authority_is_valid(name, strlen(name)) || (name[0] != '[' && strchr(name, ':')))
            return "the server sent no SERVER_NAME: no sign-in redirect";
        bool default_port =
            !port || !*port || strcmp(port, strcmp(req->scheme, "https") == 0 ? "443" : "80") == 0;
        struct buf a;
        buf_init(&a, authority, sizeof(authority));
        buf_adds(&a, name);
        if (!default_port && strlen(port) <= 5 && strspn(port, "0123456789") == strlen(port)) {
            buf_addc(&a, ':');
            buf_adds(&a, port);
        }
        if (!buf_addc(&a, '\0'))
            return "the server's name is too long: no sign-in redirect";
        host = authority;
    }
    /* The path and query as sent: an absolute-form target is cut to them (its authority
     * was checked equal to Host when the request was read). */
    const char *target = req->path;
    struct buf b;
    buf_init(&b, out, outlen);
    buf_adds(&b, r->sign_in);
    /* Every byte but the unreserved ones encoded: the URL stays one value of the sign-in
     * page's parameter, whatever '?', '&', '#' or '%' it holds. */
    buf_add_urlencoded(&b, req->scheme, strlen(req->scheme));
    buf_add_urlencoded(&b, "://", 3);
    buf_add_urlencoded(&b, host, strlen(host));
    buf_add_urlencoded(&b, target, strlen(target));
    if (!buf_addc(&b, '\0'))
        return "the sign-in URL would be too long";
    return NULL;
}

bool signin_location_ok(const char *location)
{
    if (!location || !*location)
        return false;
    if (location[0] == '/')
        return location[1] != '/' && location[1] != '\\';
    return strncmp(location, "https://", 8) == 0 || strncmp(location, "http://", 7) == 0;
}
