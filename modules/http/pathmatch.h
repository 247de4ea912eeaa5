/*
 * pathmatch.h - which configured paths protect a request path.
 *
 * Patterns are compiled once at startup. A request path is normalized into every reading that
 * a server or application behind us might plausibly give it ("views"); each view is matched on
 * its own (the caller decides per view which middleware protects it, core/decide.h).
 * Over-protecting is safe, under-protecting is a bypass.
 *
 * Readings of a raw path, the base ones:
 *   decoded  - every %XX decoded (also %2F and %5C), '\\' taken as '/', ";params" cut from each
 *              segment, repeated slashes collapsed (Tomcat, Spring, Windows-style readings);
 *   literal  - %2F and %5C left as part of their segment, ';' kept (nginx, lighttpd and Apache
 *              readings);
 *   plain    - decoded once, %2F included, but split on '/' only with ';' and '\\' kept
 *              (servers that decode before resolving dot segments, Go's ServeMux);
 *   cut      - "decoded" up to an encoded '#' (servers that decode before splitting);
 *   twice    - decoded twice, then read as "decoded" and as "plain" (frameworks that decode
 *              again);
 *   scheme-relative - for a target starting with two or more separators, '/' and '\\' in
 *              any mix ("//host", "/\\host", "////host"), the base readings of what follows
 *              the host (URL parsers of Node and Python read "//evil/p" as host "evil", path
 *              "/p", and Node skips every further slash: "///evil/p" too); and the same of the
 *              decoded and twice-decoded forms ("/%2F/evil/p", "/%5C%5Cevil/p"), for
 *              applications that decode before they parse the URL.
 * and, from each base reading, what an application framework makes of it:
 *   app      - NFKC and Unicode case folding (fullwidth letters, compatibility forms, "ſ" for
 *              "s"), a letter whose case mapping is ASCII read as that letter first, as Java's
 *              equalsIgnoreCase compares ("İ" and "ı" are 'i'); each segment trimmed of surrounding
 * whitespace, trailing dots and a Windows stream name ("a.pdf.", "a::$DATA" are "a.pdf", "a" to
 * Windows and Spring); and the part after a front controller ("/index.php/admin" is "/admin" to PHP
 * applications; see path_options); suffix   - "app" without a format suffix on its last segment
 * ("/admin.json" is "/admin" to Rails and to Spring's suffix matching), when path_options asks for
 * it. A view that still holds an encoded slash or a backslash inside a segment is also read as if
 * those split it (an application that splits after its server resolved the path), a reading of
 * its own (see path_pattern_match_view).
 * All views are lowercased. Refused (the caller answers 400): bad escapes, NUL or other control
 * characters, a space, '#', an encoded '?' (a server that decodes before splitting would read
 * a query the authorizer never saw), invalid or overlong UTF-8 ("%c0%ae"), and paths with more
 * readings than PATH_MAX_VIEWS.
 *
 * Also refused: a path with a "." or ".." segment in any reading (PATH_DOT_SEGMENT), however it
 * got there ("%2e%2e", ".%2e", "%252e%252e", "..;", "\\..", "...", fullwidth full stops).
 * Servers resolve dot segments ("/api/.." is "/") but routers that do not (Werkzeug, Express)
 * route "/api/.." below /api; deciding on both readings would need a twin with the dots kept
 * for every reading, twice PATH_MAX_VIEWS, and a twin carried inside its view (as `split` is)
 * would share one first matching middleware with it, which lets a lenient "/public" listed
 * first decide "/api/../public". Browsers and HTTP clients resolve dot segments before they
 * send a request, so only crafted requests are refused.
 */
#ifndef AUTHZ_PATHMATCH_H
#define AUTHZ_PATHMATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest raw request path accepted; longer requests are refused with 400. */
#define PATH_MAX_RAW 8192
/* Base readings: 6 of the path, 2 of the scheme-relative rest of each of its two decoded
 * forms, 6 of the rest of the raw path; with up to three application readings of each: never
 * more. */
#define PATH_MAX_VIEWS 64
/* Readings of the views: each as is, and split where it holds an encoded slash or a '\\'. */
#define PATH_MAX_READINGS (2 * PATH_MAX_VIEWS)
/* Bytes of all views of one path together: enough for every view of an ASCII path at its
 * longest; a folded reading that expands (NFKC) may not fit, and then the path is refused. */
#define PATH_ARENA (PATH_MAX_VIEWS * (PATH_MAX_RAW + 2))

struct path_segment {
    char *text;
    size_t len;
    bool glob;  /* contains '*' */
    bool dstar; /* is "**": any number of segments, none included */
};

/* One configured entry of `paths`. A pattern with no segments matches every path. */
struct path_pattern {
    char *source; /* as written in the configuration, for logs */
    struct path_segment *segs;
    size_t nsegs;
};

/* Which application readings to add (a configuration's `formatSuffixes`, `frontControllers`). */
struct path_options {
    bool format_suffixes;
    const struct path_segment *front_controllers; /* segment globs, compiled lowercase */
    size_t nfront_controllers;
};

struct path_views {
    size_t n;
    const char *view[PATH_MAX_VIEWS]; /* "/a/b", "/" for the root; NUL-terminated */
    size_t len[PATH_MAX_VIEWS];
    bool split[PATH_MAX_VIEWS]; /* also matched with encoded slashes and '\\' as separators */
    char arena[PATH_ARENA];     /* the views' bytes */
    size_t used;
    bool dots; /* a reading had a "." or ".." segment: the path is refused */
    /* Scratch space the views are built from. */
    char once[PATH_MAX_RAW], literal[PATH_MAX_RAW], twice[PATH_MAX_RAW];
    char work[4 * PATH_MAX_RAW + 8];
};

enum path_status { PATH_OK = 0, PATH_MALFORMED = -1, PATH_TOO_LONG = -2, PATH_DOT_SEGMENT = -3 };

/*
 * Compiles a configured path. "/api" and "/api/" protect /api and everything below it, and so
 * do "/api/" followed by a lone '*' or "**" segment; "/", "/" + '*' and "*" protect
 * everything; a "**" segment elsewhere stands for any number of segments ("/" "**" "/secret"
 * protects /secret, /a/secret, /a/b/secret and below); any other '*' is a glob within one
 * segment that never crosses '/'. Non-ASCII text is compared after NFKC and case folding.
 * Returns NULL on success, or a static message saying what is wrong.
 */
const char *path_pattern_compile(const char *source, struct path_pattern *out);
void path_pattern_free(struct path_pattern *p);

/* Compiles one segment glob (a front controller, "index.php" or "*.php"); NULL or why not. */
const char *path_segment_compile(const char *source, struct path_segment *out);

/* True if every path q matches is matched by p too (best effort: false when unsure). */
bool path_pattern_covers(const struct path_pattern *p, const struct path_pattern *q);

/*
 * Normalizes the raw path (the request target up to '?', not NUL-terminated) into views;
 * opt NULL: no application readings beyond the always-on ones.
 */
enum path_status path_normalize(const char *raw, size_t len, const struct path_options *opt,
                                struct path_views *out);

/*
 * True if the pattern matches view k, read as is or, with split, with its encoded slashes and
 * '\\' as separators too. A view with split[k] set has both readings: it still holds an encoded
 * slash or a '\\' inside a segment (the literal view, or the decoded one of a double-encoded
 * path), and a server that resolves dot segments with them opaque may hand the path to an
 * application that splits on them anyway ("/protected%2F..%2Fpublic" is below /protected), or
 * to one that keeps them in the segment ("/public%2Fadmin" is one segment below "/", not
 * below /public). The two readings are two views to decide on, each by the first middleware
 * that matches it: a lenient "/public" listed first must not decide the reading that only a
 * strict "/" matches.
 */
bool path_pattern_match_view(const struct path_pattern *p, const struct path_views *v, size_t k,
                             bool split);

/* True if the pattern matches any reading of any of the views. */
bool path_pattern_match(const struct path_pattern *p, const struct path_views *v);

#endif
