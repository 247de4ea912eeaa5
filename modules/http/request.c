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

static const char *param_or(char *const *envp, const char *name, const char *def)
{
    const char *v = request_param(envp, name);
    return v ? v : def;
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
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
        p = strstr(p, "://") + 3;
        p += strcspn(p, "/?#");
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
    if (!http_value_is_safe(v->host, strlen(v->host)) ||
        !http_value_is_safe(v->method, strlen(v->method)) ||
        !http_value_is_safe(v->remote_addr, strlen(v->remote_addr)))
        return "control character in a request field";
    return NULL;
}
