/*
 * fuzz_fcgi.c - the FastCGI reader (http/fcgi.h). The input is a byte stream as a web server
 * (or anything that reaches the socket) might send it. It is fed twice, whole and in chunks
 * whose sizes the input's first byte chooses, and both feeds must read the same requests.
 * Every request's parameters must lie in the arena, hold a '=' and no NUL, and respect the
 * bounds; the replies must be well-formed records.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http/fcgi.h"

static char arena[FCGI_MAX_PARAMS_BYTES];
static char *slots[FCGI_MAX_PARAMS + 1];

/* A short summary of what one feed read: a checksum over every request and reply. */
struct summary {
    uint64_t hash;
    unsigned requests, broken;
};

static void mix(struct summary *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        s->hash = (s->hash ^ b[i]) * 1099511628211ull;
}

static void check_replies(struct fcgi_parser *p, struct summary *s)
{
    const unsigned char *r = (const unsigned char *)p->replies.data;
    size_t n = p->replies.len;
    for (size_t i = 0; i < n;) {
        FUZZ_CHECK(n - i >= 8 && r[i] == 1, "a reply is not a record");
        size_t len = (size_t)(r[i + 4] << 8 | r[i + 5]);
        FUZZ_CHECK(n - i >= 8 + len, "a reply is cut short");
        i += 8 + len;
    }
    mix(s, r, n);
    buf_reset(&p->replies);
}

static void check_request(const struct fcgi_request *req, struct summary *s)
{
    s->requests++;
    mix(s, &req->id, sizeof(req->id));
    if (req->refusal) {
        FUZZ_CHECK(req->nparams == 0 && req->envp[0] == NULL, "a refused request has params");
        mix(s, "refused", 7);
        return;
    }
    FUZZ_CHECK(req->nparams <= FCGI_MAX_PARAMS, "too many params");
    for (size_t i = 0; i < req->nparams; i++) {
        const char *e = req->envp[i];
        FUZZ_CHECK(e >= arena && e < arena + sizeof(arena), "a param outside the arena");
        size_t len = strlen(e);
        FUZZ_CHECK(e + len < arena + sizeof(arena), "a param runs past the arena");
        FUZZ_CHECK(strchr(e, '=') != NULL, "a param without '='");
        mix(s, e, len + 1);
    }
    FUZZ_CHECK(req->envp[req->nparams] == NULL, "envp not terminated");
}

static struct summary run(const uint8_t *data, size_t size, size_t step)
{
    struct fcgi_parser p;
    fcgi_parser_init(&p, arena, slots, 4);
    struct summary s = {14695981039346656037ull, 0, 0};
    size_t off = 0;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        size_t used = 0;
        struct fcgi_request req;
        const char *why = NULL;
        enum fcgi_status st = fcgi_feed(&p, (const char *)data + off, n, &used, &req, &why);
        FUZZ_CHECK(used <= n, "used more than fed");
        off += used;
        check_replies(&p, &s);
        if (st == FCGI_BROKEN) {
            FUZZ_CHECK(why != NULL, "broken without a reason");
            s.broken++;
            break;
        }
        if (st == FCGI_REQUEST)
            check_request(&req, &s);
        else
            FUZZ_CHECK(used > 0 || n == 0, "no progress");
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)(data[0] % 31) + 1;
    data++, size--;
    struct summary whole = run(data, size, size ? size : 1);
    struct summary chunked = run(data, size, step);
    FUZZ_CHECK(whole.hash == chunked.hash && whole.requests == chunked.requests &&
                   whole.broken == chunked.broken,
               "feeding in chunks of %zu reads differently", step);
    return 0;
}
