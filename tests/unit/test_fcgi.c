/*
 * test_fcgi.c - the FastCGI reader: requests whole however the bytes arrive, bounds checked
 * before anything is kept, and the protocol's corners (management records, multiplexing,
 * unknown roles, aborts, kept connections).
 */
#include "http/fcgi.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

static char arena[FCGI_MAX_PARAMS_BYTES];
static char *slots[FCGI_MAX_PARAMS + 1];
static struct fcgi_parser parser;

/* A growing byte string to build inputs in. */
struct bytes {
    unsigned char *data;
    size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void record(struct bytes *b, unsigned type, unsigned id, const void *content, size_t n)
{
    unsigned char h[8] = {1,
                          (unsigned char)type,
                          (unsigned char)(id >> 8),
                          (unsigned char)id,
                          (unsigned char)(n >> 8),
                          (unsigned char)n,
                          0,
                          0};
    put(b, h, 8);
    put(b, content, n);
}

static void begin(struct bytes *b, unsigned id, unsigned role, bool keep)
{
    unsigned char body[8] = {(unsigned char)(role >> 8), (unsigned char)role, keep ? 1 : 0};
    record(b, 1, id, body, 8);
}

static void length(struct bytes *b, size_t n, bool force_long)
{
    if (n < 128 && !force_long) {
        unsigned char c = (unsigned char)n;
        put(b, &c, 1);
    } else {
        unsigned char c[4] = {(unsigned char)(0x80 | (n >> 24)), (unsigned char)(n >> 16),
                              (unsigned char)(n >> 8), (unsigned char)n};
        put(b, c, 4);
    }
}

static void pair(struct bytes *b, const char *name, const void *value, size_t vlen, bool lng)
{
    length(b, strlen(name), lng);
    length(b, vlen, lng);
    put(b, name, strlen(name));
    put(b, value, vlen);
}

/* PARAMS records of at most `chunk` bytes each, then the empty one. */
static void params(struct bytes *b, unsigned id, const struct bytes *pairs, size_t chunk)
{
    for (size_t off = 0; off < pairs->len; off += chunk) {
        size_t n = pairs->len - off < chunk ? pairs->len - off : chunk;
        record(b, 4, id, pairs->data + off, n);
    }
    record(b, 4, id, "", 0);
}

static struct bytes simple_pairs(void)
{
    struct bytes p = {0};
    pair(&p, "REQUEST_URI", "/api/x?a=1", 10, false);
    pair(&p, "HTTP_AUTHORIZATION", "Bearer t", 8, false);
    pair(&p, "EMPTY", "", 0, false);
    return p;
}

/* Feeds the input `step` bytes at a time; returns the last status and the request. */
static enum fcgi_status feed(const struct bytes *in, size_t step, struct fcgi_request *req,
                             size_t *consumed)
{
    size_t off = 0;
    enum fcgi_status st = FCGI_MORE;
    const char *why;
    while (off < in->len) {
        size_t n = in->len - off < step ? in->len - off : step;
        size_t used = 0;
        st = fcgi_feed(&parser, (const char *)in->data + off, n, &used, req, &why);
        off += used;
        if (st != FCGI_MORE)
            break;
        if (used == 0)
            buf_reset(&parser.replies); /* the caller sends them; here they are dropped */
    }
    if (consumed)
        *consumed = off;
    return st;
}

static void fresh(void)
{
    fcgi_parser_init(&parser, arena, slots, 7);
}

static void test_whole_request_any_chunking(void)
{
    struct bytes pairs = simple_pairs();
    struct bytes in = {0};
    begin(&in, 3, FCGI_ROLE_AUTHORIZER, true);
    params(&in, 3, &pairs, 1000);
    const size_t steps[] = {1, 2, 3, 7, 8, 9, 4096};
    for (size_t k = 0; k < UNIT_N(steps); k++) {
        fresh();
        struct fcgi_request req;
        size_t used;
        UNIT_INT_EQ(feed(&in, steps[k], &req, &used), FCGI_REQUEST);
        UNIT_INT_EQ(used, in.len);
        UNIT_INT_EQ(req.id, 3);
        UNIT_INT_EQ(req.role, FCGI_ROLE_AUTHORIZER);
        CU_ASSERT_TRUE(req.keep_conn);
        CU_ASSERT_PTR_NULL(req.refusal);
        UNIT_INT_EQ(req.nparams, 3);
        UNIT_STR_EQ(req.envp[0], "REQUEST_URI=/api/x?a=1");
        UNIT_STR_EQ(req.envp[1], "HTTP_AUTHORIZATION=Bearer t");
        UNIT_STR_EQ(req.envp[2], "EMPTY=");
        CU_ASSERT_PTR_NULL(req.envp[3]);
    }
    free(pairs.data);
    free(in.data);
}

static void test_pairs_split_across_records_and_long_lengths(void)
{
    struct bytes pairs = {0};
    pair(&pairs, "REQUEST_URI", "/p", 2, true);
    char big[300];
    memset(big, 'v', sizeof(big));
    pair(&pairs, "HTTP_X_BIG", big, sizeof(big), false);
    struct bytes in = {0};
    begin(&in, 1, FCGI_ROLE_RESPONDER, false);
    params(&in, 1, &pairs, 5); /* lengths and names split mid-way */
    fresh();
    struct fcgi_request req;
    UNIT_INT_EQ(feed(&in, 3, &req, NULL), FCGI_REQUEST);
    UNIT_INT_EQ(req.nparams, 2);
    UNIT_STR_EQ(req.envp[0], "REQUEST_URI=/p");
    UNIT_INT_EQ(strlen(req.envp[1]), strlen("HTTP_X_BIG=") + sizeof(big));
    CU_ASSERT_FALSE(req.keep_conn);
    UNIT_INT_EQ(req.role, FCGI_ROLE_RESPONDER);
    free(pairs.data);
    free(in.data);
}

/* A value announced at 2 GB: refused before a byte is kept, and the connection closed when the
 * parameters end in the middle of it. */
static void test_announced_lengths_allocate_nothing(void)
{
    struct bytes pairs = {0};
    length(&pairs, 11, false);
    length(&pairs, 0x7ffffff0, true);
    put(&pairs, "REQUEST_URIabc", 14);
    struct bytes in = {0};
    begin(&in, 1, FCGI_ROLE_AUTHORIZER, false);
    params(&in, 1, &pairs, 1000);
    fresh();
    struct fcgi_request req;
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_BROKEN);
    CU_ASSERT_EQUAL(parser.arena_len, 0);
    free(pairs.data);
    free(in.data);
}

static void test_too_large_is_refused_after_reading_it(void)
{
    struct bytes pairs = {0};
    pair(&pairs, "REQUEST_URI", "/p", 2, false);
    char *big = malloc(FCGI_MAX_PARAMS_BYTES);
    memset(big, 'x', FCGI_MAX_PARAMS_BYTES);
    pair(&pairs, "HTTP_X_HUGE", big, FCGI_MAX_PARAMS_BYTES, false);
    struct bytes in = {0};
    begin(&in, 1, FCGI_ROLE_AUTHORIZER, false);
    params(&in, 1, &pairs, 65535);
    fresh();
    struct fcgi_request req;
    UNIT_INT_EQ(feed(&in, 65536, &req, NULL), FCGI_REQUEST);
    UNIT_STR_HAS(req.refusal, "too large");
    UNIT_INT_EQ(req.nparams, 0);
    CU_ASSERT_PTR_NULL(req.envp[0]);
    free(big);
    free(pairs.data);
    free(in.data);
}

static void test_too_many_params_refused(void)
{
    struct bytes pairs = {0};
    for (int i = 0; i < FCGI_MAX_PARAMS + 1; i++)
        pair(&pairs, "P", "v", 1, false);
    struct bytes in = {0};
    begin(&in, 1, FCGI_ROLE_AUTHORIZER, false);
    params(&in, 1, &pairs, 65535);
    fresh();
    struct fcgi_request req;
    UNIT_INT_EQ(feed(&in, 65536, &req, NULL), FCGI_REQUEST);
    UNIT_STR_HAS(req.refusal, "too many");

    /* Exactly the bound is fine. */
    pairs.len = 0;
    for (int i = 0; i < FCGI_MAX_PARAMS; i++)
        pair(&pairs, "P", "v", 1, false);
    in.len = 0;
    begin(&in, 1, FCGI_ROLE_AUTHORIZER, false);
    params(&in, 1, &pairs, 65535);
    fresh();
    UNIT_INT_EQ(feed(&in, 65536, &req, NULL), FCGI_REQUEST);
    CU_ASSERT_PTR_NULL(req.refusal);
    UNIT_INT_EQ(req.nparams, FCGI_MAX_PARAMS);
    free(pairs.data);
    free(in.data);
}

static void test_nul_in_a_parameter_is_refused(void)
{
    const char *names[] = {"REQUEST_URI", "HTTP_X"};
    for (size_t k = 0; k < 2; k++) {
        struct bytes pairs = {0};
        pair(&pairs, "REQUEST_URI", "/pub", 4, false);
        pair(&pairs, names[k], "/a\0/protected", 13, false);
        struct bytes in = {0};
        begin(&in, 1, FCGI_ROLE_AUTHORIZER, false);
        params(&in, 1, &pairs, 100);
        fresh();
        struct fcgi_request req;
        UNIT_INT_EQ(feed(&in, 100, &req, NULL), FCGI_REQUEST);
        UNIT_STR_HAS(req.refusal, "NUL");
        free(pairs.data);
        free(in.data);
    }
}

/* The replies the parser made, as records: type and request id of the first. */
static void first_reply(unsigned *type, unsigned *id, const unsigned char **content, size_t *len)
{
    const unsigned char *r = (const unsigned char *)parser.replies.data;
    CU_ASSERT_FATAL(parser.replies.len >= 8);
    *type = r[1];
    *id = (unsigned)(r[2] << 8 | r[3]);
    *len = (size_t)(r[4] << 8 | r[5]);
    *content = r + 8;
}

static void test_management_records(void)
{
    struct bytes q = {0};
    pair(&q, "FCGI_MAX_CONNS", "", 0, false);
    pair(&q, "FCGI_MPXS_CONNS", "", 0, false);
    pair(&q, "OTHER", "", 0, false);
    struct bytes in = {0};
    record(&in, 9, 0, q.data, q.len);
    fresh();
    struct fcgi_request req;
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_MORE);
    unsigned type, id;
    const unsigned char *c;
    size_t len;
    first_reply(&type, &id, &c, &len);
    UNIT_INT_EQ(type, 10);
    UNIT_INT_EQ(id, 0);
    const unsigned char want[] = "\x0e\x01"
                                 "FCGI_MAX_CONNS7\x0f\x01"
                                 "FCGI_MPXS_CONNS0";
    UNIT_INT_EQ(len, sizeof(want) - 1);
    CU_ASSERT_EQUAL(memcmp(c, want, sizeof(want) - 1), 0);

    in.len = 0;
    record(&in, 99, 0, "\0\0\0\0\0\0\0\0", 8);
    fresh();
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_MORE);
    first_reply(&type, &id, &c, &len);
    UNIT_INT_EQ(type, 11);
    UNIT_INT_EQ(len, 8);
    UNIT_INT_EQ(c[0], 99);
    free(q.data);
    free(in.data);
}

static void test_one_request_at_a_time(void)
{
    struct bytes pairs = simple_pairs();
    struct bytes in = {0};
    begin(&in, 1, FCGI_ROLE_AUTHORIZER, false);
    begin(&in, 2, FCGI_ROLE_AUTHORIZER, false);
    params(&in, 2, &pairs, 1000); /* another request's parameters are ignored */
    params(&in, 1, &pairs, 1000);
    fresh();
    struct fcgi_request req;
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_REQUEST);
    UNIT_INT_EQ(req.id, 1);
    UNIT_INT_EQ(req.nparams, 3);
    unsigned type, id;
    const unsigned char *c;
    size_t len;
    first_reply(&type, &id, &c, &len);
    UNIT_INT_EQ(type, 3); /* END_REQUEST */
    UNIT_INT_EQ(id, 2);
    UNIT_INT_EQ(c[4], 1); /* FCGI_CANT_MPX_CONN */
    free(pairs.data);
    free(in.data);
}

static void test_unknown_role_and_abort(void)
{
    struct bytes pairs = simple_pairs();
    struct bytes in = {0};
    begin(&in, 5, 99, false);
    params(&in, 5, &pairs, 1000);
    fresh();
    struct fcgi_request req;
    /* Refused, and without KEEP_CONN nothing more comes: close after the reply. */
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_BROKEN);
    unsigned type, id;
    const unsigned char *c;
    size_t len;
    first_reply(&type, &id, &c, &len);
    UNIT_INT_EQ(type, 3);
    UNIT_INT_EQ(id, 5);
    UNIT_INT_EQ(c[4], 3); /* FCGI_UNKNOWN_ROLE */

    in.len = 0; /* FILTER: its answer would be taken for the page itself */
    begin(&in, 7, FCGI_ROLE_FILTER, true); /* kept: the connection goes on */
    params(&in, 7, &pairs, 1000);
    fresh();
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_MORE);
    first_reply(&type, &id, &c, &len);
    UNIT_INT_EQ(type, 3);
    UNIT_INT_EQ(id, 7);
    UNIT_INT_EQ(c[4], 3);

    in.len = 0;
    begin(&in, 6, FCGI_ROLE_AUTHORIZER, true);
    record(&in, 2, 6, "", 0); /* ABORT_REQUEST */
    params(&in, 6, &pairs, 1000);
    fresh();
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_MORE);
    CU_ASSERT_FALSE(fcgi_in_request(&parser));
    free(pairs.data);
    free(in.data);
}

static void test_protocol_violations_close(void)
{
    struct bytes pairs = simple_pairs();
    struct bytes in = {0};
    struct fcgi_request req;
    /* Version 2. */
    unsigned char v2[16] = {2, 1, 0, 1, 0, 8, 0, 0, 0, 2};
    put(&in, v2, sizeof(v2));
    fresh();
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_BROKEN);
    /* STDIN, or any other record of the request, before its parameters end. */
    const unsigned types[] = {5, 6, 7, 8, 99};
    for (size_t k = 0; k < UNIT_N(types); k++) {
        in.len = 0;
        begin(&in, 1, FCGI_ROLE_AUTHORIZER, false);
        record(&in, types[k], 1, "x", 1);
        params(&in, 1, &pairs, 1000);
        fresh();
        UNIT_CHECK(feed(&in, 4096, &req, NULL) == FCGI_BROKEN, "record type %u", types[k]);
    }
    /* A BEGIN_REQUEST body of the wrong size. */
    in.len = 0;
    record(&in, 1, 1, "\0\2\0", 3);
    fresh();
    UNIT_INT_EQ(feed(&in, 4096, &req, NULL), FCGI_BROKEN);
    free(pairs.data);
    free(in.data);
}

static void test_kept_connection_serves_the_next_request(void)
{
    struct bytes pairs = simple_pairs();
    struct bytes in = {0};
    begin(&in, 1, FCGI_ROLE_RESPONDER, true);
    params(&in, 1, &pairs, 1000);
    size_t first_end = in.len;
    record(&in, 5, 1, "body of the first", 17); /* its STDIN is never read */
    record(&in, 5, 1, "", 0);
    begin(&in, 2, FCGI_ROLE_RESPONDER, true);
    params(&in, 2, &pairs, 1000);
    fresh();
    struct fcgi_request req;
    size_t used = 0;
    const char *why;
    UNIT_INT_EQ(fcgi_feed(&parser, (const char *)in.data, in.len, &used, &req, &why), FCGI_REQUEST);
    UNIT_INT_EQ(used, first_end);
    UNIT_INT_EQ(req.id, 1);
    size_t used2 = 0;
    UNIT_INT_EQ(fcgi_feed(&parser, (const char *)in.data + used, in.len - used, &used2, &req, &why),
                FCGI_REQUEST);
    UNIT_INT_EQ(used + used2, in.len);
    UNIT_INT_EQ(req.id, 2);
    UNIT_STR_EQ(req.envp[0], "REQUEST_URI=/api/x?a=1");
    free(pairs.data);
    free(in.data);
}

static void test_frame_answer(void)
{
    static char mem[200000];
    static char text[70000];
    memset(text, 't', sizeof(text));
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    CU_ASSERT_TRUE(fcgi_frame_answer(&out, 0x0102, text, sizeof(text)));
    UNIT_INT_EQ(out.len, sizeof(text) + FCGI_FRAMING(sizeof(text)));
    const unsigned char *r = (const unsigned char *)mem;
    /* STDOUT 65535, STDOUT the rest, the empty STDOUT, END_REQUEST. */
    UNIT_INT_EQ(r[1], 6);
    UNIT_INT_EQ(r[2] << 8 | r[3], 0x0102);
    UNIT_INT_EQ(r[4] << 8 | r[5], 65535);
    r += 8 + 65535;
    UNIT_INT_EQ(r[1], 6);
    UNIT_INT_EQ(r[4] << 8 | r[5], sizeof(text) - 65535);
    r += 8 + sizeof(text) - 65535;
    UNIT_INT_EQ(r[1], 6);
    UNIT_INT_EQ(r[4] << 8 | r[5], 0);
    r += 8;
    UNIT_INT_EQ(r[1], 3);
    UNIT_INT_EQ(r[4] << 8 | r[5], 8);
    UNIT_INT_EQ(r[8 + 4], 0); /* FCGI_REQUEST_COMPLETE */

    char small[40];
    buf_init(&out, small, sizeof(small));
    CU_ASSERT_FALSE(fcgi_frame_answer(&out, 1, text, 10));
}

/* What may follow a request's parameters for the connection to be closed without lingering. */
static void test_input_ends(void)
{
    struct bytes b = {0};
    record(&b, 5, 1, "", 0); /* the empty STDIN alone: the input has ended */
    CU_ASSERT_TRUE(fcgi_input_ends((const char *)b.data, b.len, 1));
    CU_ASSERT_FALSE(fcgi_input_ends((const char *)b.data, b.len, 2));     /* another request's */
    CU_ASSERT_FALSE(fcgi_input_ends((const char *)b.data, b.len - 1, 1)); /* cut short */
    CU_ASSERT_FALSE(fcgi_input_ends("", 0, 1)); /* nothing read yet: it may still come */

    b.len = 0;
    record(&b, 5, 1, "body", 4); /* a body read whole, then its end */
    record(&b, 5, 1, "", 0);
    CU_ASSERT_TRUE(fcgi_input_ends((const char *)b.data, b.len, 1));

    record(&b, 2, 1, "", 0); /* anything after the end: the web server is still sending */
    CU_ASSERT_FALSE(fcgi_input_ends((const char *)b.data, b.len, 1));

    b.len = 0;
    record(&b, 5, 1, "body", 4); /* a body whose end has not come */
    CU_ASSERT_FALSE(fcgi_input_ends((const char *)b.data, b.len, 1));

    b.len = 0; /* an announced length longer than what is there */
    record(&b, 5, 1, "", 0);
    b.data[5] = 200;
    CU_ASSERT_FALSE(fcgi_input_ends((const char *)b.data, b.len, 1));
    free(b.data);
}

int main(void)
{
    static const struct unit_case reading[] = {
        UNIT_CASE(test_whole_request_any_chunking),
        UNIT_CASE(test_pairs_split_across_records_and_long_lengths),
        UNIT_CASE(test_kept_connection_serves_the_next_request),
        UNIT_END,
    };
    static const struct unit_case bounds[] = {
        UNIT_CASE(test_announced_lengths_allocate_nothing),
        UNIT_CASE(test_too_large_is_refused_after_reading_it),
        UNIT_CASE(test_too_many_params_refused),
        UNIT_CASE(test_nul_in_a_parameter_is_refused),
        UNIT_END,
    };
    static const struct unit_case protocol[] = {
        UNIT_CASE(test_management_records),
        UNIT_CASE(test_one_request_at_a_time),
        UNIT_CASE(test_unknown_role_and_abort),
        UNIT_CASE(test_protocol_violations_close),
        UNIT_CASE(test_frame_answer),
        UNIT_CASE(test_input_ends),
        UNIT_END,
    };
    static const struct unit_suite suites[] = {
        {"reading", reading}, {"bounds", bounds}, {"protocol", protocol}, {NULL, NULL}};
    return unit_main(suites);
}
