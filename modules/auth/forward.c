/* backend.c - see backend.h. */
#include "auth/forward.h"
#include "auth/forward_int.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auto_config.h"
#include "base/httpsyntax.h"

/* Request headers: forwarded client headers plus the X-Original-* / X-Forwarded-* set. */
#define MAX_REQUEST_HEADERS (CONFIG_MAX_CLIENT_HEADERS + 10)
#define REQUEST_HEADER_SPACE (64 * 1024)
#define VALUE_SPACE (64 * 1024)

struct backend {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
    char errdetail[CURL_ERROR_SIZE + 96];

    /* Request headers live in these nodes and this buffer; libcurl only reads them. */
    struct curl_slist nodes[MAX_REQUEST_HEADERS];
    char reqbuf[REQUEST_HEADER_SPACE];
    size_t reqlen;

    /* Response capture, reset at every status line (1xx responses come before the final). */
    const struct rule *rule;
    unsigned long rule_id; /* the rule the handle's options were last set for */
    struct auth_result *res;
    bool in_body;
    bool seen[CONFIG_MAX_WANTED];
    size_t nlines;
    const char *refusal;
    const char *refusal_cause;
    char values[VALUE_SPACE];
    size_t vlen;
    char body[BACKEND_MAX_BODY_KEPT];
    size_t body_total;
};

/* ---- shared DNS and TLS session caches ---- */

static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    (void)h, (void)access, (void)ud;
    pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    (void)h, (void)ud;
    pthread_mutex_unlock(&share_locks[data]);
}

const char *backend_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return "curl_global_init failed";
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
    share = curl_share_init();
    if (!share)
        return "curl_share_init failed";
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return NULL;
}

void backend_global_cleanup(void)
{
    if (share)
        curl_share_cleanup(share);
    share = NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&share_locks[i]);
    curl_global_cleanup();
}

/* ---- response capture ---- */

static void reset_capture(struct backend *b)
{
    memset(b->res->values, 0, sizeof(b->res->values));
    memset(b->seen, 0, sizeof(b->seen));
    b->res->dropped = NULL;
    b->nlines = 0;
    b->vlen = 0;
    b->in_body = false;
}

static size_t refuse(struct backend *b, const char *why, const char *cause)
{
    if (!b->refusal) {
        b->refusal = why;
        b->refusal_cause = cause;
    }
    return 0; /* makes libcurl abort the transfer */
}

static void keep_value(struct backend *b, size_t idx, const char *v, size_t vlen)
{
    b->seen[idx] = true; /* first value counts, even if it is dropped */
    if (!http_value_is_safe(v, vlen) || b->vlen + vlen + 1 > sizeof(b->values)) {
        b->res->dropped = b->rule->wanted[idx];
        return;
    }
    char *dst = b->values + b->vlen;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
    b->vlen += vlen + 1;
    b->res->values[idx] = dst;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct backend *b = ud;
    size_t total = size * n, len = total;
    if (len > BACKEND_MAX_HEADER_LINE)
        return refuse(b, "auth response header line too long", "too_large");
    if (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n')
        len -= 2;
    else if (len >= 1 && buf[len - 1] == '\n')
        len -= 1;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        reset_capture(b);
        return total;
    }
    if (len == 0) {
        b->in_body = true;
        return total;
    }
    if (b->in_body)
        return total; /* trailers never count: the auth request is decided on headers */
    if (++b->nlines > BACKEND_MAX_HEADERS)
        return refuse(b, "too many auth response headers", "too_large");
    if (buf[0] == ' ' || buf[0] == '\t')
        return refuse(b, "auth response uses obsolete header line folding", "malformed");
    const char *colon = memchr(buf, ':', len);
    if (!colon || !http_is_token(buf, (size_t)(colon - buf)))
        return refuse(b, "malformed auth response header", "malformed");
    size_t nlen = (size_t)(colon - buf);
    const char *v = colon + 1, *end = buf + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (size_t i = 0; i < b->rule->nwanted; i++) {
        const char *w = b->rule->wanted[i];
        if (!b->seen[i] && http_name_eq(buf, nlen, w, strlen(w)))
            keep_value(b, i, v, (size_t)(end - v));
    }
    return total;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct backend *b = ud;
    size_t len = size * n;
    if (b->body_total < sizeof(b->body)) {
        size_t room = sizeof(b->body) - b->body_total;
        memcpy(b->body + b->body_total, buf, len < room ? len : room);
    }
    b->body_total += len;
    if (b->body_total > BACKEND_MAX_BODY)
        return refuse(b, "auth response body too large", "too_large");
    return len;
}

void backend_capture_begin(struct backend *b, const struct rule *r, struct auth_result *res)
{
    memset(res, 0, sizeof(*res));
    b->rule = r;
    b->res = res;
    b->refusal = NULL;
    b->refusal_cause = NULL;
    b->body_total = 0;
    reset_capture(b);
}

const char *backend_capture_line(struct backend *b, char *line, size_t len)
{
    on_header(line, 1, len, b);
    return b->refusal;
}

/* ---- lifecycle ---- */

struct backend *backend_new(void)
{
    struct backend *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->curl = curl_easy_init();
    if (!b->curl) {
        free(b);
        return NULL;
    }
    CURL *c = b->curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, b->errbuf);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "fcgi-authorizer/" PACKAGE_VERSION);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, b);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    if (share)
        curl_easy_setopt(c, CURLOPT_SHARE, share);
    return b;
}

void backend_free(struct backend *b)
{
    if (!b)
        return;
    curl_easy_cleanup(b->curl);
    free(b);
}

/* ---- the request ---- */

/* Appends "Name: value" as the next request header. */
static bool add_header(struct backend *b, size_t *count, const char *name, const char *v1,
                       const char *v2)
{
    size_t nlen = strlen(name), l1 = strlen(v1), l2 = v2 ? strlen(v2) : 0;
    size_t need = nlen + 2 + l1 + l2 + 1;
    if (*count >= MAX_REQUEST_HEADERS || b->reqlen + need > sizeof(b->reqbuf))
        return false;
    char *dst = b->reqbuf + b->reqlen;
    memcpy(dst, name, nlen);
    memcpy(dst + nlen, ": ", 2);
    memcpy(dst + nlen + 2, v1, l1);
    if (l2)
        memcpy(dst + nlen + 2 + l1, v2, l2);
    dst[need - 1] = '\0';
    b->reqlen += need;
    struct curl_slist *node = &b->nodes[*count];
    node->data = dst;
    node->next = NULL;
    if (*count > 0)
        b->nodes[*count - 1].next = node;
    (*count)++;
    return true;
}

static enum backend_status build_headers(struct backend *b, const struct rule *r,
                                         const struct request_view *req, const char **why)
{
    size_t count = 0;
    b->reqlen = 0;
    for (size_t i = 0; i < r->nforward; i++) {
        const char *v = request_param(req->envp, r->forward[i].cgi);
        if (!v)
            continue;
        size_t vlen = strlen(v);
        if (vlen > BACKEND_MAX_CLIENT_VALUE || !http_value_is_clean(v, vlen)) {
            *why = "client header too long or with control characters";
            return BACKEND_BAD_REQUEST;
        }
        if (!add_header(b, &count, r->forward[i].name, v, NULL)) {
            *why = "client headers too large";
            return BACKEND_BAD_REQUEST;
        }
    }
    /* A request target that is already absolute is its own URL. */
    bool absolute = req->request_uri[0] != '/';
    char url_prefix[1024];
    snprintf(url_prefix, sizeof(url_prefix), "%s://%s", req->scheme, req->host);
    if (!add_header(b, &count, "X-Original-URI", req->request_uri, NULL) ||
        !add_header(b, &count, "X-Original-Method", req->method, NULL) ||
        !add_header(b, &count, "X-Original-URL", absolute ? "" : url_prefix, req->request_uri) ||
        !add_header(b, &count, "X-Forwarded-Method", req->method, NULL) ||
        !add_header(b, &count, "X-Forwarded-Proto", req->scheme, NULL) ||
        !add_header(b, &count, "X-Forwarded-Host", req->host, NULL) ||
        !add_header(b, &count, "X-Forwarded-Uri", req->request_uri, NULL) ||
        (*req->remote_addr && !add_header(b, &count, "X-Forwarded-For", req->remote_addr, NULL))) {
        *why = "request too large to forward";
        return BACKEND_BAD_REQUEST;
    }
    curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, &b->nodes[0]);
    return BACKEND_OK;
}

static void set_rule_options(CURL *c, const struct rule *r)
{
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r->tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r->tls_verify ? 2L : 0L);
    curl_easy_setopt(c, CURLOPT_CAINFO, r->tls_ca_file);
    curl_easy_setopt(c, CURLOPT_SSLCERT, r->tls_client_cert);
    curl_easy_setopt(c, CURLOPT_SSLKEY, r->tls_client_key);
}

static const char *failure_cause(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return "connect";
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return "tls";
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "malformed";
    case CURLE_FILESIZE_EXCEEDED:
        return "too_large";
    default:
        return "transport"; /* reset, closed early, receive errors */
    }
}

enum backend_status backend_call(struct backend *b, const struct rule *r,
                                 const struct request_view *req, struct auth_result *res)
{
    backend_capture_begin(b, r, res);
    b->errbuf[0] = '\0';

    const char *why = NULL;
    if (build_headers(b, r, req, &why) != BACKEND_OK) {
        res->error = why;
        return BACKEND_BAD_REQUEST;
    }
    if (b->rule_id != r->id) { /* libcurl copies each string option: set them once */
        set_rule_options(b->curl, r);
        b->rule_id = r->id;
    }

    CURLcode rc = curl_easy_perform(b->curl);
    curl_off_t us = 0;
    if (curl_easy_getinfo(b->curl, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
        res->seconds = (double)us / 1e6;
    res->body = b->body;
    res->body_len = b->body_total < sizeof(b->body) ? b->body_total : sizeof(b->body);
    if (b->refusal) {
        res->error = b->refusal;
        res->cause = b->refusal_cause;
        return BACKEND_FAILED;
    }
    if (rc != CURLE_OK) {
        /* The final error first: libcurl keeps the message of the first failure of a
         * transfer, which is not this one when it retried a reused connection. */
        if (b->errbuf[0])
            snprintf(b->errdetail, sizeof(b->errdetail), "%s (%s)", curl_easy_strerror(rc),
                     b->errbuf);
        else
            snprintf(b->errdetail, sizeof(b->errdetail), "%s", curl_easy_strerror(rc));
        res->error = b->errdetail;
        res->cause = failure_cause(rc);
        return BACKEND_FAILED;
    }
    long status = 0;
    curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 100 || status > 999) {
        res->error = "auth response without a valid status";
        res->cause = "malformed";
        return BACKEND_FAILED;
    }
    res->status = (int)status;
    return BACKEND_OK;
}
