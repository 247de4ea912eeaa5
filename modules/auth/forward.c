/* forward.c - see forward.h. */
#include "auto_config.h"

#include "auth/forward.h"
#include "auth/forward_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/worker.h"
#include "base/buf.h"
#include "base/httpsyntax.h"

/* Request headers: forwarded client headers plus the X-Original-* / X-Forwarded-* set. */
#define MAX_REQUEST_HEADERS (CONFIG_MAX_CLIENT_HEADERS + 10)
#define REQUEST_HEADER_SPACE (64 * 1024)
#define VALUE_SPACE (64 * 1024)
/* Sockets of one transfer: its connection, a second address family being tried, the
 * resolver thread's wake-up. */
#define FORWARD_MAX_SOCKETS 8

struct forward_client {
    CURL *curl;   /* configured, never performed: each call runs on a copy (forward_call) */
    CURLM *multi; /* runs every copy: its wake-up sockets are made once, not per call */
    /* What libcurl asked to be watched (its socket and timer callbacks), for perform. */
    struct watched {
        curl_socket_t fd;
        short events;
    } watch[FORWARD_MAX_SOCKETS];
    size_t nwatch;
    int64_t timer_ms; /* when libcurl wants to be called without an event; -1 never */
    char errbuf[CURL_ERROR_SIZE];
    char errdetail[CURL_ERROR_SIZE + 96];

    /* Request headers live in these nodes and this buffer; libcurl only reads them. */
    struct curl_slist nodes[MAX_REQUEST_HEADERS];
    size_t nnodes;
    char reqmem[REQUEST_HEADER_SPACE];
    struct buf req;

    /* Response capture, reset at every status line (1xx responses come before the final). */
    const struct rule *rule;
    unsigned long rule_id; /* the rule the handle's options were last set for */
    struct auth_result *res;
    bool in_body;
    bool seen[CONFIG_MAX_WANTED];
    size_t nlines;
    const char *refusal;
    enum cause refusal_cause;
    char values[VALUE_SPACE];
    size_t vlen;
    /* Every value of the headers that may come several times, '\n'-joined. */
    char joined[WANTED_FIXED][AUTH_MAX_JOINED];
    size_t joined_len[WANTED_FIXED];
    int status;       /* of the status line being captured, 0 before one */
    bool body_capped; /* reading stopped at the kept body: the answer is whole otherwise */
    char body[AUTH_MAX_BODY_KEPT];
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

const char *forward_global_init(void)
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
    /* Connections are kept in the share, not in a handle: each call runs on a fresh copy of
     * its worker's configured handle (see forward_call) and still reuses them. */
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    return NULL;
}

void forward_global_cleanup(void)
{
    if (share)
        curl_share_cleanup(share);
    share = NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&share_locks[i]);
    curl_global_cleanup();
}

/* ---- response capture ---- */

static void reset_capture(struct forward_client *b)
{
    memset(b->res->values, 0, sizeof(b->res->values));
    memset(b->seen, 0, sizeof(b->seen));
    b->res->dropped = NULL;
    b->nlines = 0;
    b->vlen = 0;
    memset(b->joined_len, 0, sizeof(b->joined_len));
    b->in_body = false;
}

/* The status code of a status line "HTTP/x.y NNN ...", 0 if there is none. */
static int status_of_line(const char *line, size_t len)
{
    const char *sp = memchr(line, ' ', len);
    size_t at = sp ? (size_t)(sp - line) + 1 : len;
    int code = 0;
    for (size_t i = at; i < at + 3; i++) {
        if (i >= len || line[i] < '0' || line[i] > '9')
            return 0;
        code = code * 10 + (line[i] - '0');
    }
    return code;
}

static size_t refuse(struct forward_client *b, const char *why, enum cause cause)
{
    if (!b->refusal) {
        b->refusal = why;
        b->refusal_cause = cause;
    }
    return 0; /* makes libcurl abort the transfer */
}

/* Adds one more value of a header kept whole (AUTH_WANTED_JOINED); a value that is unsafe or
 * does not fit is dropped on its own, the others stay. */
static void join_value(struct forward_client *b, size_t idx, const char *v, size_t vlen)
{
    char *dst = b->joined[idx];
    size_t at = b->joined_len[idx], sep = at > 0;
    if (vlen == 0 || !http_value_is_exportable(v, vlen) ||
        at + sep + vlen + 1 > sizeof(b->joined[idx])) {
        b->res->dropped = b->rule->wanted[idx];
        return;
    }
    if (sep)
        dst[at] = '\n';
    memcpy(dst + at + sep, v, vlen);
    dst[at + sep + vlen] = '\0';
    b->joined_len[idx] = at + sep + vlen;
    b->res->values[idx] = dst;
}

static void keep_value(struct forward_client *b, size_t idx, const char *v, size_t vlen)
{
    if (AUTH_WANTED_JOINED(idx)) {
        join_value(b, idx, v, vlen);
        return;
    }
    b->seen[idx] = true; /* first value counts, even if it is dropped */
    if (!http_value_is_exportable(v, vlen) || b->vlen + vlen + 1 > sizeof(b->values)) {
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
    struct forward_client *b = ud;
    size_t total = size * n, len = total;
    if (len > FORWARD_MAX_HEADER_LINE)
        return refuse(b, "auth response header line too long", CAUSE_TOO_LARGE);
    if (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n')
        len -= 2;
    else if (len >= 1 && buf[len - 1] == '\n')
        len -= 1;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        reset_capture(b);
        b->status = status_of_line(buf, len);
        return total;
    }
    if (len == 0) {
        b->in_body = true;
        return total;
    }
    if (b->in_body)
        return total; /* trailers never count: the auth request is decided on headers */
    if (++b->nlines > FORWARD_MAX_HEADERS)
        return refuse(b, "too many auth response headers", CAUSE_TOO_LARGE);
    if (buf[0] == ' ' || buf[0] == '\t')
        return refuse(b, "auth response uses obsolete header line folding", CAUSE_MALFORMED);
    const char *colon = memchr(buf, ':', len);
    if (!colon || !http_is_token(buf, (size_t)(colon - buf)))
        return refuse(b, "malformed auth response header", CAUSE_MALFORMED);
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
    struct forward_client *b = ud;
    size_t len = size * n;
    if (b->body_total < sizeof(b->body)) {
        size_t room = sizeof(b->body) - b->body_total;
        memcpy(b->body + b->body_total, buf, len < room ? len : room);
    }
    b->body_total += len;
    /* Only a denial or a redirect relays its body, and no more of it than is kept: a large
     * login page must not turn a 401 into an error. Stopping closes the connection. */
    if (b->body_total >= sizeof(b->body) && (b->status < 200 || b->status > 299)) {
        b->body_capped = true;
        return 0;
    }
    if (b->body_total > FORWARD_MAX_BODY)
        return refuse(b, "auth response body too large", CAUSE_TOO_LARGE);
    return len;
}

void forward_capture_begin(struct forward_client *b, const struct rule *r, struct auth_result *res)
{
    memset(res, 0, sizeof(*res));
    b->rule = r;
    b->res = res;
    b->refusal = NULL;
    b->refusal_cause = CAUSE_NONE;
    b->body_total = 0;
    b->body_capped = false;
    b->status = 0;
    reset_capture(b);
}

const char *forward_capture_line(struct forward_client *b, char *line, size_t len)
{
    on_header(line, 1, len, b);
    return b->refusal;
}

/* ---- libcurl's socket interface (see perform) ---- */

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* libcurl's socket callback: which of its sockets to watch, and for what. */
static int on_socket(CURL *h, curl_socket_t fd, int what, void *ud, void *sockp)
{
    (void)h, (void)sockp;
    struct forward_client *b = ud;
    size_t i = 0;
    while (i < b->nwatch && b->watch[i].fd != fd)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < b->nwatch)
            b->watch[i] = b->watch[--b->nwatch];
        return 0;
    }
    if (i == b->nwatch) {
        if (b->nwatch == FORWARD_MAX_SOCKETS)
            return -1; /* libcurl then fails the transfer */
        b->nwatch++;
    }
    b->watch[i].fd = fd;
    b->watch[i].events =
        (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    return 0;
}

/* libcurl's timer callback: when it wants to be called although no socket is ready. */
static int on_timer(CURLM *multi, long ms, void *ud)
{
    (void)multi;
    struct forward_client *b = ud;
    b->timer_ms = ms < 0 ? -1 : now_ms() + ms;
    return 0;
}

/* ---- lifecycle ---- */

/* The options every call relies on for its safety: a client without them is not made. */
static const char *set_fixed_options(struct forward_client *b)
{
    CURL *c = b->curl;
    if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, b->errbuf) != CURLE_OK)
        return "libcurl refused NOSIGNAL or ERRORBUFFER";
    if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
        return "libcurl refused to limit the protocols to http and https";
    if (curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK)
        return "libcurl refused to stop following redirects";
    if (curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK) /* never one from the environment */
        return "libcurl refused to ignore proxies";
    if (curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_USERAGENT, "fcgi-authorizer/" PACKAGE_VERSION) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HEADERDATA, b) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, b) != CURLE_OK)
        return "libcurl refused the request or callback options";
    /* Speed only: a libcurl without them still answers correctly. The shared pool keeps
     * one idle connection per worker (libcurl's default keeps five in all). */
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_MAXCONNECTS, (long)CONFIG_MAX_WORKERS);
    /* The transfers run on b->multi (see perform), whose own limit is the one libcurl
     * applies: by default four per easy handle it runs, which is four for the whole shared
     * pool, and every worker beyond the fourth would reconnect for each call. */
    curl_multi_setopt(b->multi, CURLMOPT_MAXCONNECTS, (long)CONFIG_MAX_WORKERS);
    if (curl_multi_setopt(b->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(b->multi, CURLMOPT_SOCKETDATA, b) != CURLM_OK ||
        curl_multi_setopt(b->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
        curl_multi_setopt(b->multi, CURLMOPT_TIMERDATA, b) != CURLM_OK)
        return "libcurl refused the socket and timer callbacks";
    if (share && curl_easy_setopt(c, CURLOPT_SHARE, share) != CURLE_OK)
        return "libcurl refused the shared DNS and TLS session caches";
    return NULL;
}

struct forward_client *forward_client_new(char *err, size_t errlen)
{
    struct forward_client *b = calloc(1, sizeof(*b));
    if (!b || !(b->curl = curl_easy_init()) || !(b->multi = curl_multi_init())) {
        if (b)
            curl_easy_cleanup(b->curl);
        free(b);
        snprintf(err, errlen, "cannot create a libcurl handle");
        return NULL;
    }
    buf_init(&b->req, b->reqmem, sizeof(b->reqmem));
    const char *why = set_fixed_options(b);
    if (why) {
        snprintf(err, errlen, "%s", why);
        forward_client_free(b);
        return NULL;
    }
    return b;
}

void forward_client_free(struct forward_client *b)
{
    if (!b)
        return;
    curl_multi_cleanup(b->multi);
    curl_easy_cleanup(b->curl);
    free(b);
}

/* ---- the request ---- */

/* Appends "Name: " and the NULL-terminated value parts as the next request header. */
static bool add_header_parts(struct forward_client *b, const char *name, const char *const *parts)
{
    if (b->nnodes >= MAX_REQUEST_HEADERS)
        return false;
    size_t start = b->req.len;
    buf_adds(&b->req, name);
    buf_add(&b->req, ": ", 2);
    for (; *parts; parts++)
        buf_adds(&b->req, *parts);
    /* Each header is its own C string: the NUL after it belongs to it. */
    if (!buf_addc(&b->req, '\0'))
        return false;
    struct curl_slist *node = &b->nodes[b->nnodes];
    node->data = b->req.data + start;
    node->next = NULL;
    if (b->nnodes > 0)
        b->nodes[b->nnodes - 1].next = node;
    b->nnodes++;
    return true;
}

static bool add_header(struct forward_client *b, const char *name, const char *value)
{
    return add_header_parts(b, name, (const char *const[]){value, NULL});
}

static enum auth_status build_headers(struct forward_client *b, const struct rule *r,
                                      const struct request_view *req, const char **why)
{
    b->nnodes = 0;
    buf_reset(&b->req);
    for (size_t i = 0; i < r->nforward; i++) {
        const char *v = request_param(req->envp, r->forward[i].cgi);
        if (!v)
            continue;
        size_t vlen = strlen(v);
        if (vlen > FORWARD_MAX_CLIENT_VALUE || !http_value_is_clean(v, vlen)) {
            *why = "client header too long or with control characters";
            return AUTH_BAD_REQUEST;
        }
        if (!add_header(b, r->forward[i].name, v)) {
            *why = "client headers too large";
            return AUTH_BAD_REQUEST;
        }
    }
    /* The URL is the scheme, the host the upstream gets and the path with its query (req->path
     * runs on to the end of the target), an absolute target's too: its authority was checked
     * against Host, which may carry a port the authority leaves out. The URI headers carry
     * path and query only: Apache's REQUEST_URI is the whole URL for "GET http://host/x?y",
     * and services parse these as a path. */
    const char *const url[] = {req->scheme, "://", req->host, req->path, NULL};
    /* Without forwardHostHeaders the service is not told which host was asked for. With it,
     * a request that names none (HTTP/1.0 without Host, a server without a name) cannot be
     * shown: "http:///x" would leave the service to guess, perhaps a default site's rules. */
    bool host = r->forward_host;
    if (host && !*req->host) {
        *why = "no host to show the auth service (no Host, no SERVER_NAME)";
        return AUTH_BAD_REQUEST;
    }
    if (!add_header(b, "X-Original-URI", req->path) ||
        !add_header(b, "X-Original-Method", req->method) ||
        (host && !add_header_parts(b, "X-Original-URL", url)) ||
        !add_header(b, "X-Forwarded-Method", req->method) ||
        !add_header(b, "X-Forwarded-Proto", req->scheme) ||
        (host && !add_header(b, "X-Forwarded-Host", req->host)) ||
        !add_header(b, "X-Forwarded-Uri", req->path) ||
        (*req->remote_addr && !add_header(b, "X-Forwarded-For", req->remote_addr))) {
        *why = "request too large to forward";
        return AUTH_BAD_REQUEST;
    }
    curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, &b->nodes[0]);
    return AUTH_OK;
}

/* The rule's options; false if libcurl refused one (the call then fails closed). */
static bool set_rule_options(CURL *c, const struct rule *r)
{
    return curl_easy_setopt(c, CURLOPT_URL, r->url) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r->tls_verify ? 1L : 0L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r->tls_verify ? 2L : 0L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_CAINFO, r->tls_ca_file) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_SSLCERT, r->tls_client_cert) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_SSLKEY, r->tls_client_key) == CURLE_OK;
}

/*
 * Performs one transfer of h on the client's multi handle, through libcurl's socket
 * interface: one poll on the sockets libcurl named, and each ready socket handed back with
 * what it is ready for. curl_easy_perform would make a multi handle (with its pair of wake-up
 * sockets) for every copy it is given, and curl_multi_poll leaves libcurl to ask the kernel
 * again, with a poll of its own, which socket is ready. The timeouts are h's: the timer
 * fires when they pass and libcurl ends the transfer.
 */
static CURLcode perform(struct forward_client *b, CURL *h)
{
    b->timer_ms = -1;
    if (curl_multi_add_handle(b->multi, h) != CURLM_OK)
        return CURLE_FAILED_INIT;
    int running = 1;
    CURLMcode mc = curl_multi_socket_action(b->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    while (running && mc == CURLM_OK) {
        struct pollfd p[FORWARD_MAX_SOCKETS];
        size_t n = b->nwatch;
        for (size_t i = 0; i < n; i++)
            p[i] = (struct pollfd){.fd = b->watch[i].fd, .events = b->watch[i].events};
        int64_t wait = b->timer_ms < 0 ? 1000 : b->timer_ms - now_ms();
        int rc = wait <= 0 ? 0 : poll(p, n, wait > 1000 ? 1000 : (int)wait);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            mc = CURLM_INTERNAL_ERROR;
            break;
        }
        if (rc == 0) { /* the timer is due, or a second passed without news: libcurl looks */
            mc = curl_multi_socket_action(b->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            continue;
        }
        for (size_t i = 0; i < n && mc == CURLM_OK; i++) {
            if (!p[i].revents)
                continue;
            int ev = ((p[i].revents & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
                     ((p[i].revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                     ((p[i].revents & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
            mc = curl_multi_socket_action(b->multi, p[i].fd, ev, &running);
        }
    }
    CURLcode rc = mc == CURLM_OK ? CURLE_RECV_ERROR : CURLE_FAILED_INIT;
    int left;
    for (CURLMsg *m; (m = curl_multi_info_read(b->multi, &left));) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == h)
            rc = m->data.result;
    }
    curl_multi_remove_handle(b->multi, h);
    return rc;
}

static enum cause failure_cause(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return CAUSE_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return CAUSE_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return CAUSE_TLS;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return CAUSE_MALFORMED;
    case CURLE_FILESIZE_EXCEEDED:
        return CAUSE_TOO_LARGE;
    default:
        return CAUSE_TRANSPORT; /* reset, closed early, receive errors */
    }
}

enum auth_status forward_call(struct forward_client *b, const struct rule *r,
                              const struct request_view *req, struct auth_result *res)
{
    forward_capture_begin(b, r, res);
    b->errbuf[0] = '\0';

    const char *why = NULL;
    if (build_headers(b, r, req, &why) != AUTH_OK) {
        res->error = why;
        return AUTH_BAD_REQUEST;
    }
    if (b->rule_id != r->id) { /* libcurl copies each string option: set them once */
        if (!set_rule_options(b->curl, r)) {
            b->rule_id = 0;
            res->error = "libcurl refused the rule's URL, timeout or TLS options";
            res->cause = CAUSE_TLS;
            return AUTH_FAILED;
        }
        b->rule_id = r->id;
    }

    /*
     * Each call runs on a fresh copy of the configured handle. libcurl up to 8.0 keeps a
     * pointer to the last header of the previous transfer of a handle, which it has freed:
     * an answer whose first header line is a continuation (" x") made it write there, and a
     * hostile auth service could take the process down. A copy starts with none.
     */
    CURL *h = curl_easy_duphandle(b->curl);
    if (h && share && curl_easy_setopt(h, CURLOPT_SHARE, share) != CURLE_OK) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    if (!h) {
        res->error = "cannot copy the libcurl handle";
        res->cause = CAUSE_TRANSPORT;
        return AUTH_FAILED;
    }
    CURLcode rc = perform(b, h);
    curl_off_t us = 0;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
        res->seconds = (double)us / 1e6;
    curl_easy_cleanup(h); /* its connection stays in the share for the next call */
    res->body = b->body;
    res->body_len = b->body_total < sizeof(b->body) ? b->body_total : sizeof(b->body);
    if (b->refusal) {
        res->error = b->refusal;
        res->cause = b->refusal_cause;
        return AUTH_FAILED;
    }
    /* A connection closed before the blank line that ends the headers may have cut off a
     * header, or a whole answer: nothing of it is trusted. */
    if (rc == CURLE_OK && !b->in_body) {
        res->error = "auth response ended before the end of its headers";
        res->cause = CAUSE_MALFORMED;
        return AUTH_FAILED;
    }
    if (rc == CURLE_WRITE_ERROR && b->body_capped)
        rc = CURLE_OK; /* the headers are whole: only the rest of the body was not read */
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
        return AUTH_FAILED;
    }
    if (status < 100 || status > 999) {
        res->error = "auth response without a valid status";
        res->cause = CAUSE_MALFORMED;
        return AUTH_FAILED;
    }
    res->status = (int)status;
    return AUTH_OK;
}

/* ---- the authenticator ---- */

struct forward_authenticator {
    struct authenticator base; /* first: the interface's pointer is this one's */
    const struct rule *rule;
};

static enum auth_status forward_ask(const struct authenticator *self, struct auth_worker *w,
                                    const struct request_view *req, struct auth_result *res,
                                    enum cache_state *cache)
{
    const struct forward_authenticator *fa = (const struct forward_authenticator *)self;
    *cache = CACHE_OFF;
    if (auth_worker_gave_up(w, res))
        return AUTH_FAILED;
    return forward_call(w->forward, fa->rule, req, res);
}

struct authenticator *forward_authenticator_new(const struct rule *rule)
{
    struct forward_authenticator *fa = calloc(1, sizeof(*fa));
    if (!fa)
        return NULL;
    fa->base.ask = forward_ask;
    fa->rule = rule;
    return &fa->base;
}

void forward_authenticator_free(struct authenticator *a)
{
    free(a);
}
