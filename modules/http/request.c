/* request.c - see request.h. */
#include "http/request.h"

#include <string.h>
#include <strings.h>

#include "base/httpsyntax.h"

const char *request_param(char *const *envp, const char *name)
{
    if (!envp)
        return NULL;
    size_t len = strlen(name);
    for (char *const *p = envp; *p; p++)
        if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
            return *p + len + 1;
    return NULL;
}

bool request_param_repeated(char *const *envp, const char *name)
{
    size_t len = strlen(name), seen = 0;
    for (char *const *p = envp; p && *p; p++)
        if (strncmp(*p, name, len) == 0 && (*p)[len] == '=' && ++seen > 1)
            return true;
    return false;
}

static const char *param_or(char *const *envp, const char *name, const char *def)
{
    const char *v = request_param(envp, name);
    return v ? v : def;
}

static const char *last_of(const char *s, size_t len, char c)
{
    while (len-- > 0)
        if (s[len] == c)
            return s + len;
    return NULL;
}

/* host:port or host, compared as names: case-insensitively, a port only if both have one. */
static bool same_host(const char *a, size_t alen, const char *b, size_t blen)
{
    const char *ac = last_of(a, alen, ':'), *bc = last_of(b, blen, ':');
    /* "[::1]:80": the colon that separates the port comes after the bracket. */
    if (ac && memchr(a, ']', alen) && ac < (const char *)memchr(a, ']', alen))
        ac = NULL;
    if (bc && memchr(b, ']', blen) && bc < (const char *)memchr(b, ']', blen))
        bc = NULL;
    size_t an = ac ? (size_t)(ac - a) : alen, bn = bc ? (size_t)(bc - b) : blen;
    if (an != bn || strncasecmp(a, b, an) != 0)
        return false;
    return !ac || !bc || (alen - an == blen - bn && memcmp(ac, bc, alen - an) == 0);
}

/* Checks the authority of an absolute-form target against the Host header; see request.h for
 * what is refused. The host stays the Host header's: it is what the upstream gets (nginx sends
 * $http_host; Apache has already put the target's authority there), port and case included,
 * where the authority may leave the port out ("http://app/x" with "Host: app:9999"). */
static const char *check_authority(struct request_view *v, const char *a, size_t alen,
                                   const char *scheme)
{
    if (alen == 0 || alen > REQUEST_MAX_AUTHORITY)
        return "absolute-form REQUEST_URI with an empty or overlong host";
    if (memchr(a, '@', alen))
        return "absolute-form REQUEST_URI with user information";
    if (strcmp(scheme, v->scheme) != 0)
        return "absolute-form REQUEST_URI with another scheme than the connection's";
    /* Without a Host header a server may send the upstream a Host of its own (Apache's
     * ServerName with ProxyPreserveHost), not the target's, which the service was told. */
    const char *header = request_param(v->envp, "HTTP_HOST");
    if (!header || !*header)
        return "absolute-form REQUEST_URI without a Host header";
    if (!same_host(a, alen, header, strlen(header)))
        return "absolute-form REQUEST_URI naming another host than Host";
    return NULL;
}

const char *request_view_init(struct request_view *v, char **envp)
{
    memset(v, 0, sizeof(*v));
    v->envp = envp;
    v->method = param_or(envp, "REQUEST_METHOD", "GET");
    v->request_uri = request_param(envp, "REQUEST_URI");
    if (!v->request_uri || !*v->request_uri)
        return "no REQUEST_URI";
    size_t ulen = strlen(v->request_uri);
    if (ulen > REQUEST_MAX_URI)
        return "REQUEST_URI too long";
    for (size_t i = 0; i < ulen; i++)
        if ((unsigned char)v->request_uri[i] <= 0x20 || v->request_uri[i] == 0x7f)
            return "space or control character in REQUEST_URI";

    /* Absolute-form targets ("GET http://host/path"): the path starts after the authority. */
    const char *p = v->request_uri;
    const char *authority = NULL, *target_scheme = NULL;
    size_t alen = 0;
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
        target_scheme = p[4] == ':' ? "http" : "https";
        authority = strstr(p, "://") + 3;
        alen = strcspn(authority, "/?#");
        p = authority + alen;
        if (*p != '/')
            return "absolute-form REQUEST_URI without a path";
    }
    if (*p != '/')
        return "REQUEST_URI is not a path";
    v->path = p;
    v->path_len = strcspn(p, "?");

    /* The client's own query, never QUERY_STRING: nginx's auth_request subrequest has none,
     * and a server-side rewrite may have changed it. REQUEST_URI was checked clean above. */
    v->query = p[v->path_len] == '?' ? p + v->path_len + 1 : "";

    const char *https = request_param(envp, "HTTPS");
    const char *scheme = request_param(envp, "REQUEST_SCHEME");
    if (scheme && (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0))
        v->scheme = scheme;
    else
        v->scheme = https && strcasecmp(https, "on") == 0 ? "https" : "http";
    v->host = param_or(envp, "HTTP_HOST", param_or(envp, "SERVER_NAME", ""));
    v->remote_addr = param_or(envp, "REMOTE_ADDR", "");
    if (authority) {
        const char *why = check_authority(v, authority, alen, target_scheme);
        if (why)
            return why;
    }
    static const char *const read_once[] = {"REQUEST_URI", "REQUEST_METHOD", "HTTP_HOST",
                                            "SERVER_NAME", "REMOTE_ADDR",    "REQUEST_SCHEME",
                                            "HTTPS"};
    for (size_t i = 0; i < sizeof(read_once) / sizeof(*read_once); i++)
        if (request_param_repeated(envp, read_once[i]))
            return "a request field given twice";
    if (!http_value_is_safe(v->host, strlen(v->host)) ||
        !http_value_is_safe(v->method, strlen(v->method)) ||
        !http_value_is_safe(v->remote_addr, strlen(v->remote_addr)))
        return "control character in a request field";
    /* A Host a URL parser would read as another host ("a.example:@b.example") would be
     * told to the auth service, and be the way back of a sign-in redirect. */
    if (*v->host && !http_authority_is_valid(v->host, strlen(v->host)))
        return "a Host that is not host[:port]";
    return NULL;
}
