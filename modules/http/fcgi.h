/*
 * fcgi.h - the FastCGI protocol (version 1), as much of it as an authorizer needs: requests
 * read from bytes with every bound checked before anything is kept, answers framed as records.
 *
 * The parser is fed whatever arrived on a connection and never allocates: a request's
 * parameters are copied, as "NAME=value" strings, into memory its owner gave it once. Bounds
 * (FCGI_MAX_*) are checked against the lengths the peer announces, before a byte is copied,
 * so no announcement can make the process allocate or wait for more than they allow. A
 * request whose parameters exceed them, or hold a NUL, is still read to its end and then
 * reported (struct fcgi_request.refusal) so that it can be answered 400; a connection that
 * breaks the protocol is reported as an error and must be closed.
 *
 * Handled here: BEGIN_REQUEST (roles RESPONDER and AUTHORIZER; any other, FILTER included,
 * is answered FCGI_UNKNOWN_ROLE; KEEP_CONN), PARAMS,
 * ABORT_REQUEST, one request at a time per connection (another BEGIN_REQUEST meanwhile is
 * answered FCGI_CANT_MPX_CONN), records of requests no longer active (ignored, as the
 * specification says: a request's STDIN is never read), management records (GET_VALUES is
 * answered, any other type gets UNKNOWN_TYPE). Replies to management records and refused
 * requests are appended to the parser's `replies` buffer for the caller to send.
 */
#ifndef AUTHZ_FCGI_H
#define AUTHZ_FCGI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define FCGI_MAX_PARAMS 4096               /* parameters of one request */
#define FCGI_MAX_PARAMS_BYTES (512 * 1024) /* their names and values, in all */
#define FCGI_MAX_SKIPPED (4 * 1024 * 1024) /* bytes of a refused request read before closing */
#define FCGI_REPLIES_SPACE 4096            /* room for management replies between reads */

enum fcgi_role { FCGI_ROLE_RESPONDER = 1, FCGI_ROLE_AUTHORIZER = 2, FCGI_ROLE_FILTER = 3 };

/* One request whose parameters are complete. */
struct fcgi_request {
    uint16_t id;
    enum fcgi_role role;
    bool keep_conn; /* the web server keeps the connection for further requests */
    char **envp;    /* "NAME=value" strings, NULL-terminated, in arrival order */
    size_t nparams;
    const char *refusal; /* non-NULL: the parameters broke a bound (answer 400; envp empty) */
};

struct fcgi_parser {
    /* Memory for one request's parameters, given by the owner (fcgi_parser_init). */
    char *arena;
    char **envp; /* FCGI_MAX_PARAMS + 1 slots */
    size_t arena_len, nparams;

    /* The record being read. */
    unsigned char head[8];
    size_t head_len;
    unsigned type;
    uint16_t rid;
    size_t record_len, content_left, padding_left;
    unsigned char body[8]; /* BEGIN_REQUEST's body, or a management record's first bytes */
    size_t body_len;

    /* The request being read. */
    bool active;
    uint16_t id;
    unsigned role;
    bool keep_conn;
    bool done; /* a refused request without KEEP_CONN: nothing more comes on this connection */
    const char *refusal;
    size_t skipped; /* parameter bytes not kept, once refused */

    /* The name-value pair being read, which may span records. */
    enum { PAIR_LENGTHS, PAIR_NAME, PAIR_VALUE } pair;
    unsigned char lens[8]; /* 2 to 8 length bytes */
    size_t lens_len;
    size_t name_left, value_left;
    bool pair_kept; /* copied into the arena (not refused) */

    /* Management record contents (GET_VALUES), bounded; replies to send. */
    unsigned char mgmt[512];
    size_t mgmt_len;
    struct buf replies;
    char replies_mem[FCGI_REPLIES_SPACE];
    unsigned max_reqs; /* what GET_VALUES answers for FCGI_MAX_CONNS and FCGI_MAX_REQS */
};

enum fcgi_status {
    FCGI_MORE,    /* everything fed was used: feed more when it arrives */
    FCGI_REQUEST, /* a request is complete (*used: the bytes it took; feed the rest later) */
    FCGI_BROKEN,  /* the protocol was broken, or the connection is done (a refused role
                   * without KEEP_CONN): send the replies, then close the connection */
};

/* Memory the caller keeps for a parser: FCGI_MAX_PARAMS_BYTES and FCGI_MAX_PARAMS + 1 slots. */
void fcgi_parser_init(struct fcgi_parser *p, char *arena, char **envp, unsigned max_reqs);

/* Starts reading a new connection (after an earlier one, or a request answered). */
void fcgi_parser_reset(struct fcgi_parser *p);

/*
 * Feeds bytes. Sets *used to how many were consumed; on FCGI_REQUEST fills req, whose strings
 * live in the parser's arena until the next feed. *why says what broke (FCGI_BROKEN).
 */
enum fcgi_status fcgi_feed(struct fcgi_parser *p, const char *data, size_t len, size_t *used,
                           struct fcgi_request *req, const char **why);

/* True while a request has begun and its parameters are not complete. */
bool fcgi_in_request(const struct fcgi_parser *p);

/*
 * True if data[0..len), the bytes read after request id's parameters, is whole records that
 * end its input: the empty STDIN record comes last. Then a web server that does not keep the
 * connection sends nothing more on it.
 */
bool fcgi_input_ends(const char *data, size_t len, uint16_t id);

/*
 * Frames an answer for request id: STDOUT records with the CGI-style response text, the empty
 * STDOUT record that ends the stream, and END_REQUEST (request complete). Appends to out;
 * false if it does not fit.
 */
bool fcgi_frame_answer(struct buf *out, uint16_t id, const char *text, size_t len);

/* Bytes fcgi_frame_answer adds around len bytes of text. */
#define FCGI_FRAMING(len) ((((len) + 65534) / 65535) * 8 + 8 + 16)

#endif
