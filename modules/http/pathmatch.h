/*
 * pathmatch.h - which configured paths protect a request path.
 *
 * Patterns are compiled once at startup. A request path is normalized into every reading that
 * a server or application behind us might plausibly give it, and a pattern protects the request
 * if it matches any of those readings: over-protecting is safe, under-protecting is a bypass.
 *
 * Readings ("views") of a raw path:
 *   decoded  - every %XX decoded (also %2F and %5C), '\\' taken as '/', ";params" cut from each
 *              segment, dot segments resolved, repeated slashes collapsed (Tomcat, Spring,
 *              Windows-style readings);
 *   literal  - %2F and %5C left as part of their segment, ';' kept, dot segments resolved after
 *              decoding (nginx, lighttpd and Apache readings);
 *   plain    - decoded once, %2F included, but split on '/' only with ';' and '\\' kept
 *              (servers that decode before resolving dot segments, Go's ServeMux);
 *   cut      - "decoded" up to an encoded '?' or '#' (servers that decode before splitting
 *              off the query, as mod_rewrite did);
 *   twice    - decoded twice, then read as "decoded" and as "plain" (frameworks that decode
 *              again).
 * A view that still holds an encoded slash or a backslash inside a segment is also matched as
 * if those split it (an application that splits after its server resolved the path).
 * All views are lowercased. Malformed paths (bad escapes, NUL or other control characters, a
 * space, '#') are rejected: the caller answers 400.
 */
#ifndef AUTHZ_PATHMATCH_H
#define AUTHZ_PATHMATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest raw request path accepted; longer requests are refused with 400. */
#define PATH_MAX_RAW 8192
#define PATH_MAX_VIEWS 6

struct path_segment {
    char *text;
    size_t len;
    bool glob; /* contains '*' */
};

/* One configured entry of `paths`. A pattern with no segments matches every path. */
struct path_pattern {
    char *source; /* as written in the configuration, for logs */
    struct path_segment *segs;
    size_t nsegs;
};

struct path_views {
    size_t n;
    const char *view[PATH_MAX_VIEWS]; /* "/a/b", "/" for the root; NUL-terminated */
    size_t len[PATH_MAX_VIEWS];
    char buf[PATH_MAX_VIEWS][PATH_MAX_RAW + 2];
    /* Decoded bytes the views are built from. */
    char once[PATH_MAX_RAW], literal[PATH_MAX_RAW], twice[PATH_MAX_RAW];
};

enum path_status { PATH_OK = 0, PATH_MALFORMED = -1, PATH_TOO_LONG = -2 };

/*
 * Compiles a configured path. "/api" and "/api/" protect /api and everything below it, and so
 * does "/api/" followed by a lone '*' segment; "/", "/" + '*' and "*" protect everything; any
 * other '*' is a glob within one segment that never crosses '/'. Returns NULL on success, or a
 * static message saying what is wrong.
 */
const char *path_pattern_compile(const char *source, struct path_pattern *out);
void path_pattern_free(struct path_pattern *p);

/* Normalizes the raw path (the request target up to '?', not NUL-terminated) into views. */
enum path_status path_normalize(const char *raw, size_t len, struct path_views *out);

/* True if the pattern matches any of the views. */
bool path_pattern_match(const struct path_pattern *p, const struct path_views *v);

#endif
