/*
 * fuzz_request.c - FastCGI parameters to a request view (request_view_init), then the path.
 *
 * Input: "NAME=value" strings separated by newlines or NUL bytes, as libfcgi would hand them
 * over (NULL-terminated array). If the request is accepted, the view's fields are checked and
 * its path is normalized and checked like fuzz_path does.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "base/httpsyntax.h"
#include "http/pathmatch.h"
#include "http/request.h"

#define MAX_PARAMS 64

static struct path_views views;
static struct path_pattern prefix;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (path_pattern_compile("/p", &prefix) != NULL)
        abort();
    return 0;
}

/* The first parameter of that name, found independently of request_param. */
static const char *first_param(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (char **p = envp; *p; p++)
        if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
            return *p + n + 1;
    return NULL;
}

static bool is_clean(const char *s)
{
    return http_value_is_safe(s, strlen(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One copy, every separator turned into a NUL; each piece is one parameter. */
    char *copy = malloc(size + 1);
    char **envp = calloc(MAX_PARAMS + 1, sizeof(*envp));
    if (!copy || !envp) {
        free(copy);
        free(envp);
        return 0;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    size_t n = 0;
    for (size_t i = 0, start = 0; i <= size && n < MAX_PARAMS; i++) {
        if (i == size || copy[i] == '\n' || copy[i] == '\0') {
            copy[i] = '\0';
            if (i > start)
                envp[n++] = copy + start;
            start = i + 1;
        }
    }
    envp[n] = NULL;

    struct request_view v;
    const char *why = request_view_init(&v, envp);
    if (why) {
        FUZZ_CHECK(*why, "empty reason");
        goto out;
    }

    const char *uri = first_param(envp, "REQUEST_URI");
    FUZZ_CHECK(uri && v.request_uri == uri, "request_uri is not the first REQUEST_URI");
    size_t ulen = strlen(uri);
    FUZZ_CHECK(ulen > 0 && ulen <= REQUEST_MAX_URI, "REQUEST_URI length %zu accepted", ulen);
    for (size_t i = 0; i < ulen; i++)
        FUZZ_CHECK((unsigned char)uri[i] > 0x20 && uri[i] != 0x7f,
                   "control character or space accepted in REQUEST_URI");
    FUZZ_CHECK(v.path >= uri && v.path < uri + ulen && v.path[0] == '/', "path not in the URI");
    FUZZ_CHECK(v.path + v.path_len <= uri + ulen, "path runs past the URI");
    FUZZ_CHECK(!memchr(v.path, '?', v.path_len), "path holds the query");
    FUZZ_CHECK(v.path[v.path_len] == '\0' || v.path[v.path_len] == '?', "path cut early");
    if (v.path[v.path_len] == '?')
        FUZZ_CHECK(v.query == v.path + v.path_len + 1, "query is not what follows '?'");
    else
        FUZZ_CHECK(v.query && *v.query == '\0', "query without '?'");
    /* Origin form: the path is the whole start of the target. */
    if (uri[0] == '/')
        FUZZ_CHECK(v.path == uri, "origin-form path does not start the URI");
    FUZZ_CHECK(strcmp(v.scheme, "http") == 0 || strcmp(v.scheme, "https") == 0, "scheme '%s'",
               v.scheme);
    FUZZ_CHECK(v.method && v.host && v.remote_addr, "NULL field");
    FUZZ_CHECK(is_clean(v.method) && is_clean(v.host) && is_clean(v.remote_addr),
               "unsafe value in a forwarded field");
    const char *m = first_param(envp, "REQUEST_METHOD");
    FUZZ_CHECK(m ? v.method == m : strcmp(v.method, "GET") == 0, "method is not the first");
    const char *h = first_param(envp, "HTTP_HOST");
    if (!h)
        h = first_param(envp, "SERVER_NAME");
    if (uri[0] == '/') {
        FUZZ_CHECK(h ? v.host == h : *v.host == '\0', "host is not HTTP_HOST, then SERVER_NAME");
    } else {
        /* Absolute form: only with a Host header, which is the host (what the upstream
         * gets), and an authority without user information. */
        const char *hh = first_param(envp, "HTTP_HOST");
        const char *a = strstr(uri, "://") + 3;
        size_t alen = strcspn(a, "/?#");
        FUZZ_CHECK(hh && *hh && v.host == hh && !memchr(a, '@', alen),
                   "absolute form: host is not the Host header");
    }
    /* Every field it reads was there once at most. */
    static const char *const once[] = {"REQUEST_URI", "REQUEST_METHOD", "HTTP_HOST", "SERVER_NAME",
                                       "REMOTE_ADDR", "REQUEST_SCHEME", "HTTPS"};
    for (size_t i = 0; i < sizeof(once) / sizeof(*once); i++)
        FUZZ_CHECK(!request_param_repeated(envp, once[i]), "%s accepted twice", once[i]);
    FUZZ_CHECK(request_param(envp, "REQUEST_URI") == uri, "request_param disagrees");

    /* The path as the authorizer reads it. */
    enum path_status st = path_normalize(v.path, v.path_len, NULL, &views);
    if (st == PATH_OK) {
        fuzz_check_views(v.path, v.path_len, &views);
        fuzz_check_readings(v.path, v.path_len, &views, &prefix);
    } else {
        FUZZ_CHECK(st == PATH_MALFORMED || st == PATH_DOT_SEGMENT ||
                       (st == PATH_TOO_LONG && v.path_len > PATH_MAX_RAW),
                   "status %d for a %zu-byte path", (int)st, v.path_len);
    }

out:
    free(envp);
    free(copy);
    return 0;
}
