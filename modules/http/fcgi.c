/* fcgi.c - see fcgi.h. */
#include "http/fcgi.h"

#include <stdio.h>
#include <string.h>

enum {
    BEGIN_REQUEST = 1,
    ABORT_REQUEST = 2,
    END_REQUEST = 3,
    PARAMS = 4,
    STDIN = 5,
    STDOUT = 6,
    DATA = 8,
    GET_VALUES = 9,
    GET_VALUES_RESULT = 10,
    UNKNOWN_TYPE = 11,
};

enum { REQUEST_COMPLETE = 0, CANT_MPX_CONN = 1, UNKNOWN_ROLE = 3 };

#define KEEP_CONN 1

void fcgi_parser_init(struct fcgi_parser *p, char *arena, char **envp, unsigned max_reqs)
{
    memset(p, 0, sizeof(*p));
    p->arena = arena;
    p->envp = envp;
    p->max_reqs = max_reqs;
    buf_init(&p->replies, p->replies_mem, sizeof(p->replies_mem));
    fcgi_parser_reset(p);
}

void fcgi_parser_reset(struct fcgi_parser *p)
{
    p->head_len = 0;
    p->active = false;
    p->done = false;
    p->nparams = 0;
    p->arena_len = 0;
    p->envp[0] = NULL;
}

bool fcgi_in_request(const struct fcgi_parser *p)
{
    return p->active;
}

bool fcgi_input_ends(const char *data, size_t len, uint16_t id)
{
    const unsigned char *d = (const unsigned char *)data;
    for (size_t i = 0; len - i >= 8;) {
        const unsigned char *h = d + i;
        size_t content_len = ((size_t)h[4] << 8) | h[5];
        size_t total = 8 + content_len + h[6];
        if (total > len - i)
            return false;
        i += total;
        if (h[1] == STDIN && ((unsigned)h[2] << 8 | h[3]) == id && content_len == 0)
            return i == len;
    }
    return false;
}

/* ---- writing records ---- */

static bool record(struct buf *out, unsigned type, uint16_t id, const void *content, size_t len)
{
    unsigned char h[8] = {1,
                          (unsigned char)type,
                          (unsigned char)(id >> 8),
                          (unsigned char)id,
                          (unsigned char)(len >> 8),
                          (unsigned char)len,
                          0,
                          0};
    return buf_add(out, h, sizeof(h)) && buf_add(out, content, len);
}

static bool end_request(struct buf *out, uint16_t id, unsigned protocol_status)
{
    unsigned char body[8] = {0, 0, 0, 0, (unsigned char)protocol_status, 0, 0, 0};
    return record(out, END_REQUEST, id, body, sizeof(body));
}

bool fcgi_frame_answer(struct buf *out, uint16_t id, const char *text, size_t len)
{
    for (size_t off = 0; off < len;) {
        size_t n = len - off > 65535 ? 65535 : len - off;
        record(out, STDOUT, id, text + off, n);
        off += n;
    }
    record(out, STDOUT, id, "", 0);
    end_request(out, id, REQUEST_COMPLETE);
    return buf_ok(out);
}

/* ---- management records ---- */

/* Reads one name-value length (1 or 4 bytes) at *i of s[0..n); false if it does not fit. */
static bool read_length(const unsigned char *s, size_t n, size_t *i, size_t *out)
{
    if (*i >= n)
        return false;
    if (!(s[*i] & 0x80)) {
        *out = s[(*i)++];
        return true;
    }
    if (*i + 4 > n)
        return false;
    *out = ((size_t)(s[*i] & 0x7f) << 24) | ((size_t)s[*i + 1] << 16) | ((size_t)s[*i + 2] << 8) |
           s[*i + 3];
    *i += 4;
    return true;
}

static void add_pair(struct buf *b, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    unsigned char lens[2] = {(unsigned char)nl, (unsigned char)vl}; /* both short */
    buf_add(b, lens, 2);
    buf_add(b, name, nl);
    buf_add(b, value, vl);
}

/* GET_VALUES: the values asked for that the authorizer knows; the others are left out. */
static void answer_get_values(struct fcgi_parser *p)
{
    char content[256], reqs[16];
    struct buf b;
    buf_init(&b, content, sizeof(content));
    snprintf(reqs, sizeof(reqs), "%u", p->max_reqs);
    for (size_t i = 0; i < p->mgmt_len;) {
        size_t nl, vl;
        if (!read_length(p->mgmt, p->mgmt_len, &i, &nl) ||
            !read_length(p->mgmt, p->mgmt_len, &i, &vl) || nl + vl > p->mgmt_len - i)
            break;
        const char *name = (const char *)p->mgmt + i;
        i += nl + vl;
        if (nl == 14 && memcmp(name, "FCGI_MAX_CONNS", 14) == 0)
            add_pair(&b, "FCGI_MAX_CONNS", reqs);
        else if (nl == 13 && memcmp(name, "FCGI_MAX_REQS", 13) == 0)
            add_pair(&b, "FCGI_MAX_REQS", reqs);
        else if (nl == 15 && memcmp(name, "FCGI_MPXS_CONNS", 15) == 0)
            add_pair(&b, "FCGI_MPXS_CONNS", "0");
    }
    record(&p->replies, GET_VALUES_RESULT, 0, b.data, buf_ok(&b) ? b.len : 0);
}

static void answer_management(struct fcgi_parser *p)
{
    if (p->type == GET_VALUES) {
        answer_get_values(p);
        return;
    }
    unsigned char body[8] = {(unsigned char)p->type};
    record(&p->replies, UNKNOWN_TYPE, 0, body, sizeof(body));
}

/* ---- parameters ---- */

static void refuse(struct fcgi_parser *p, const char *why)
{
    if (!p->refusal)
        p->refusal = why;
}

/* Both lengths of a pair are known: keep it, or refuse the request if it breaks a bound. */
static void begin_pair(struct fcgi_parser *p)
{
    size_t i = 0, nl = 0, vl = 0;
    read_length(p->lens, p->lens_len, &i, &nl);
    read_length(p->lens, p->lens_len, &i, &vl);
    p->name_left = nl;
    p->value_left = vl;
    p->pair_kept = false;
    if (p->refusal)
        return;
    if (p->nparams >= FCGI_MAX_PARAMS) {
        refuse(p, "too many FastCGI parameters");
        return;
    }
    /* Checked against the announced lengths, before a byte is kept. */
    if (nl + vl + 2 > FCGI_MAX_PARAMS_BYTES - p->arena_len) {
        refuse(p, "FastCGI parameters too large");
        return;
    }
    p->pair_kept = true;
    p->envp[p->nparams] = p->arena + p->arena_len;
    if (nl == 0)
        p->arena[p->arena_len++] = '=';
}

static void end_pair(struct fcgi_parser *p)
{
    if (p->pair_kept) {
        p->arena[p->arena_len++] = '\0';
        p->envp[++p->nparams] = NULL;
    }
    p->lens_len = 0;
    p->pair = PAIR_LENGTHS;
}

/* Copies (or skips) n bytes of the name or the value; false if a refused request is too big
 * to be read to its end. */
static bool pair_bytes(struct fcgi_parser *p, const char *s, size_t n, bool name)
{
    if (!p->pair_kept) {
        p->skipped += n;
        return p->skipped <= FCGI_MAX_SKIPPED;
    }
    if (memchr(s, '\0', n))
        refuse(p, "NUL in a FastCGI parameter");
    memcpy(p->arena + p->arena_len, s, n);
    p->arena_len += n;
    if (name && p->name_left == n)
        p->arena[p->arena_len++] = '=';
    return true;
}

/* How many length bytes the pair being read has: 1 or 4 for the name, then for the value. */
static size_t lengths_needed(const struct fcgi_parser *p)
{
    size_t name_bytes = (p->lens[0] & 0x80) ? 4 : 1;
    if (p->lens_len <= name_bytes)
        return name_bytes + 1; /* at least the value's first length byte */
    return name_bytes + ((p->lens[name_bytes] & 0x80) ? 4 : 1);
}

/* Content of a PARAMS record of the active request; false if a refused request grows too
 * big to be read to its end. */
static bool params_content(struct fcgi_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p->pair == PAIR_LENGTHS) {
            p->lens[p->lens_len++] = (unsigned char)s[i++];
            if (p->lens_len < lengths_needed(p))
                continue;
            begin_pair(p);
            p->pair = p->name_left ? PAIR_NAME : PAIR_VALUE;
        } else {
            bool name = p->pair == PAIR_NAME;
            size_t left = name ? p->name_left : p->value_left;
            size_t take = n - i < left ? n - i : left;
            if (!pair_bytes(p, s + i, take, name))
                return false;
            *(name ? &p->name_left : &p->value_left) -= take;
            i += take;
            if (name && p->name_left == 0)
                p->pair = PAIR_VALUE;
        }
        if (p->pair == PAIR_VALUE && p->value_left == 0)
            end_pair(p);
    }
    return true;
}

/* ---- records ---- */

static void begin_request(struct fcgi_parser *p)
{
    unsigned role = ((unsigned)p->body[0] << 8) | p->body[1];
    if (p->active) { /* one request at a time on a connection */
        end_request(&p->replies, p->rid, CANT_MPX_CONN);
        return;
    }
    /* FILTER is refused too: its answer would be read as the filtered page, and no web
     * server deploys an authorizer so. */
    if (role != FCGI_ROLE_RESPONDER && role != FCGI_ROLE_AUTHORIZER) {
        end_request(&p->replies, p->rid, UNKNOWN_ROLE);
        /* Without KEEP_CONN the web server waits for us to close after END_REQUEST. */
        p->done = !(p->body[2] & KEEP_CONN);
        return;
    }
    p->active = true;
    p->id = p->rid;
    p->role = role;
    p->keep_conn = (p->body[2] & KEEP_CONN) != 0;
    p->refusal = NULL;
    p->skipped = 0;
    p->nparams = 0;
    p->arena_len = 0;
    p->envp[0] = NULL;
    p->lens_len = 0;
    p->pair = PAIR_LENGTHS;
    p->name_left = p->value_left = 0;
}

static bool mine(const struct fcgi_parser *p)
{
    return p->active && p->rid == p->id;
}

/* Content bytes of the current record; false if they break the protocol. */
static bool content(struct fcgi_parser *p, const char *s, size_t n, const char **why)
{
    if (p->rid == 0) {
        size_t room = sizeof(p->mgmt) - p->mgmt_len;
        size_t take = n < room ? n : room;
        memcpy(p->mgmt + p->mgmt_len, s, take);
        p->mgmt_len += take;
        return true;
    }
    switch (p->type) {
    case BEGIN_REQUEST:
        if (p->body_len + n > sizeof(p->body)) {
            *why = "BEGIN_REQUEST body longer than 8 bytes";
            return false;
        }
        memcpy(p->body + p->body_len, s, n);
        p->body_len += n;
        return true;
    case PARAMS:
        if (mine(p) && !params_content(p, s, n)) {
            *why = "refused parameters too large to read to their end";
            return false;
        }
        return true;
    default:
        if (mine(p)) {
            *why = "a record other than PARAMS before the parameters ended";
            return false;
        }
        return true; /* a request no longer active: ignored */
    }
}

/* The current record has ended. */
static enum fcgi_status record_end(struct fcgi_parser *p, struct fcgi_request *req,
                                   const char **why)
{
    if (p->rid == 0) {
        answer_management(p);
        return FCGI_MORE;
    }
    switch (p->type) {
    case BEGIN_REQUEST:
        if (p->body_len != 8) {
            *why = "BEGIN_REQUEST body shorter than 8 bytes";
            return FCGI_BROKEN;
        }
        if (p->active && p->rid == p->id) {
            *why = "BEGIN_REQUEST for the request being read";
            return FCGI_BROKEN;
        }
        begin_request(p);
        return FCGI_MORE;
    case ABORT_REQUEST:
        if (mine(p)) {
            end_request(&p->replies, p->id, REQUEST_COMPLETE);
            p->active = false;
        }
        return FCGI_MORE;
    case PARAMS:
        if (!mine(p) || p->record_len != 0)
            return FCGI_MORE;
        /* The empty PARAMS record: the parameters are complete. */
        if (p->pair != PAIR_LENGTHS || p->lens_len) {
            *why = "parameters end in the middle of a name-value pair";
            return FCGI_BROKEN;
        }
        p->active = false;
        req->id = p->id;
        req->role = (enum fcgi_role)p->role;
        req->keep_conn = p->keep_conn;
        req->refusal = p->refusal;
        if (p->refusal)
            p->nparams = 0, p->envp[0] = NULL;
        req->envp = p->envp;
        req->nparams = p->nparams;
        return FCGI_REQUEST;
    default:
        return FCGI_MORE;
    }
}

enum fcgi_status fcgi_feed(struct fcgi_parser *p, const char *data, size_t len, size_t *used,
                           struct fcgi_request *req, const char **why)
{
    size_t i = 0;
    *why = NULL;
    while (i < len) {
        if (p->head_len < sizeof(p->head)) {
            /* Replies must be sent before more are made: the caller sends, then feeds on. */
            if (p->head_len == 0 && p->replies.len > sizeof(p->replies_mem) - 64)
                break;
            p->head[p->head_len++] = (unsigned char)data[i++];
            if (p->head_len < sizeof(p->head))
                continue;
            if (p->head[0] != 1) {
                *used = i;
                *why = "not FastCGI version 1";
                return FCGI_BROKEN;
            }
            p->type = p->head[1];
            p->rid = (uint16_t)((p->head[2] << 8) | p->head[3]);
            p->record_len = p->content_left = ((size_t)p->head[4] << 8) | p->head[5];
            p->padding_left = p->head[6];
            p->body_len = 0;
            p->mgmt_len = 0;
        } else if (p->content_left > 0) {
            size_t n = len - i < p->content_left ? len - i : p->content_left;
            if (!content(p, data + i, n, why)) {
                *used = i;
                return FCGI_BROKEN;
            }
            p->content_left -= n;
            i += n;
        } else {
            size_t n = len - i < p->padding_left ? len - i : p->padding_left;
            p->padding_left -= n;
            i += n;
        }
        if (p->head_len == sizeof(p->head) && p->content_left == 0 && p->padding_left == 0) {
            p->head_len = 0;
            enum fcgi_status st = record_end(p, req, why);
            if (st == FCGI_MORE && p->done) {
                *why = "a request of a role this authorizer does not play: refused, closing";
                st = FCGI_BROKEN;
            }
            if (st != FCGI_MORE) {
                *used = i;
                return st;
            }
        }
    }
    *used = i;
    return FCGI_MORE;
}
