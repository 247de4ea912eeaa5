/*
 * apache.c - Apache (mod_fcgid or mod_authnz_fcgi): its glue, lines for the <Location> the
 * authorizer protects, and the check of its configuration.
 *
 * The check is a scanner, not a parser: it knows just enough of Apache's syntax (directive
 * lines and <sections>) to find the settings below, and reports them as
 * "FILE:LINE: what is wrong".
 *
 * Detected: FcgidAuthorizer, FcgidAuthenticator or AuthnzFcgiCheckAuthnProvider where the
 * Require in effect is "all granted" (Apache never calls them: fails open) or has no
 * valid-user, user or group (never called either); an authorizer directive with no
 * "CGIPassAuth On" in its section or an enclosing one (the authorizer never sees
 * Authorization); "Header unset Variable-..." without "always" (mod_fcgid's Variable- headers
 * still reach the client); no authorizer directive at all.
 *
 * Not detected: what is not in the input. Apache's Include is not followed, so feed each file
 * (or `apache2ctl -DDUMP_CONFIG`, where mod_info is loaded: its "# In file:" comments are used
 * for the positions). Conditionals (<IfModule> and the like) are scanned as if always true. A
 * section is judged with its enclosing sections only (<If> like any other): how separate
 * sections for the same path merge is not modelled. Whether the glue matches the authorizer
 * configuration is not checked: compare it with `authorizer --print-glue apache`.
 */
#include "webserver/webserver.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webserver/identity.h"
#include "webserver/scan.h"

/* ---- glue ---------------------------------------------------------------------------- */

static void unset_spelling(void *arg, const char *spelling)
{
    fprintf(arg, "RequestHeader unset %s\n", spelling);
}

/* Every '_' spelling of name unset: Apache passes them to the application, where CGI-style
 * readers take them for name itself. */
static void unset_spellings(FILE *out, const char *name)
{
    if (!identity_underscore_spellings(name, unset_spelling, out))
        fprintf(out, "# %s: too many '-' to list every spelling with '_'\n", name);
}

void apache_print_glue(FILE *out, const struct identity_headers *ids)
{
    fputs("# fcgi-authorizer glue for Apache (mod_fcgid or mod_authnz_fcgi), printed by\n"
          "# `authorizer --print-glue apache`. Put it inside the <Location> the authorizer\n"
          "# protects, after the authorizer's own directives, with\n"
          "#   Define AUTHZ_UPSTREAM http://127.0.0.1:8081\n"
          "# at server level (the application; no trailing slash), and load mod_headers,\n"
          "# mod_rewrite, mod_proxy and mod_proxy_http.\n\n"
          "# Identity headers: only the authorizer's values reach the application.\n",
          out);
    for (size_t i = 0; i < ids->n; i++) {
        const char *h = ids->name[i];
        unset_spellings(out, h);
        fprintf(out,
                "RequestHeader unset %s\n"
                "RequestHeader set %s \"%%{%s}e\" env=%s\n",
                h, h, h, h);
    }
    bool dashed = false;
    for (size_t i = 0; i < ids->nread; i++)
        dashed = dashed || strchr(ids->read[i], '-');
    if (dashed)
        fputs("\n# The headers the authorizer reads reach the application only in the spelling it\n"
              "# was shown (Apache never shows it one with '_').\n",
              out);
    for (size_t i = 0; i < ids->nread; i++)
        unset_spellings(out, ids->read[i]);
    fputs("\n# What an application may read as the request's host, scheme, port or path is what\n"
          "# the authorizer was shown, never a client's copy (mod_proxy adds its own\n"
          "# X-Forwarded-Host after these, which run before it).\n",
          out);
    for (const char *const *h = identity_routing_headers; *h; h++) {
        unset_spellings(out, *h);
        fprintf(out, "RequestHeader unset %s\n", *h);
    }
    fputs("RequestHeader set X-Forwarded-Proto \"expr=%{REQUEST_SCHEME}\"\n", out);
    fputs("\n# Variable- headers must never reach the client (mod_fcgid would send them).\n", out);
    for (size_t i = 0; i < ids->n; i++)
        fprintf(out, "Header always unset Variable-%s\n", ids->name[i]);
    for (int i = 1; i <= CONFIG_MAX_AUTH_COOKIES; i++)
        fprintf(out, "Header always unset Variable-AUTHZ_SET_COOKIE_%d\n", i);
    fputs("Header always unset Variable-AUTHZ_QUERY_STRING\n"
          "Header always unset Variable-AUTHZ_DECISION\n\n"
          "# The auth service's cookies of an allow (addAuthCookiesToResponse), each in a\n"
          "# Set-Cookie of its own (a denial's reach the client with it, from either module).\n",
          out);
    for (int i = 1; i <= CONFIG_MAX_AUTH_COOKIES; i++)
        fprintf(
            out,
            "Header always add Set-Cookie \"%%{AUTHZ_SET_COOKIE_%d}e\" env=AUTHZ_SET_COOKIE_%d\n",
            i, i);
    fputs("\n"
          "# Proxy the raw path, byte for byte, with the authorizer's query. Only a request the\n"
          "# authorizer allowed is proxied; per-directory rewriting runs after authorization.\n"
          "RewriteEngine On\n"
          "RewriteCond %{ENV:AUTHZ_DECISION} .\n"
          "RewriteCond %{THE_REQUEST} \"^\\S+ (?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*)?(/[^?\\s]*)\"\n"
          "RewriteRule ^ ${AUTHZ_UPSTREAM}%1?%{ENV:AUTHZ_QUERY_STRING} [P,NE]\n",
          out);
}

/* ---- check --------------------------------------------------------------------------- */

static bool span_starts_nocase(struct span w, const char *lit)
{
    size_t n = strlen(lit);
    return w.len >= n && strncasecmp(w.s, lit, n) == 0;
}

/* Splits a logical line into words; "quoted words" lose their quotes. */
static void split_words(const char *s, const char *end, struct directive *d)
{
    d->nwords = 0;
    while (s < end && d->nwords < SCAN_MAX_WORDS) {
        while (s < end && isspace((unsigned char)*s))
            s++;
        if (s >= end)
            break;
        bool quoted = *s == '"' || *s == '\'';
        char quote = *s;
        const char *w = quoted ? ++s : s;
        while (s < end && (quoted ? *s != quote : !isspace((unsigned char)*s))) {
            if (quoted && *s == '\\' && s + 1 < end)
                s++;
            s++;
        }
        d->word[d->nwords++] = (struct span){w, (size_t)(s - w)};
        if (quoted && s < end)
            s++; /* the closing quote */
    }
}

struct ap_section {
    bool transparent;    /* <IfModule>, <RequireAny>, ...: its lines belong to the section around */
    const char *checker; /* the first directive that calls the authorizer, NULL if none */
    const char *checker_file;
    size_t checker_line;
    bool needs_user;  /* the checker runs only when a user is required (not an access checker) */
    bool pass_auth;   /* CGIPassAuth On */
    bool has_require; /* a Require line of its own */
    bool require_granted, require_user;
};

/* Sections that only group or condition lines: what they hold applies to the section around. */
static bool is_transparent(struct span name)
{
    static const char *const names[] = {"RequireAll", "RequireAny",  "RequireNone",
                                        "IfModule",   "IfDefine",    "IfVersion",
                                        "IfFile",     "IfDirective", "IfSection"};
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (span_is_nocase(name, names[i]))
            return true;
    return false;
}

/* The section a directive belongs to: the innermost one that is not transparent. */
static struct ap_section *owner_of(struct ap_section *stack, int depth)
{
    int i = depth;
    while (i > 0 && stack[i].transparent)
        i--;
    return &stack[i];
}

/* Judges a section once it is complete, with the sections around it. */
static void apache_close(struct report *rep, struct ap_section *stack, int depth)
{
    const struct ap_section *s = &stack[depth];
    if (s->transparent || !s->checker)
        return;
    bool pass_auth = false;
    for (int i = depth; i >= 0; i--)
        pass_auth = pass_auth || stack[i].pass_auth;
    if (!pass_auth)
        report_problem(rep, s->checker_file, s->checker_line,
                       "%s without CGIPassAuth On: Apache withholds the Authorization header from "
                       "the authorizer",
                       s->checker);
    if (!s->needs_user)
        return;
    const struct ap_section *req = NULL;
    for (int i = depth; i >= 0 && !req; i--)
        if (stack[i].has_require)
            req = &stack[i];
    if (req && req->require_granted)
        report_problem(rep, s->checker_file, s->checker_line,
                       "%s with \"Require all granted\": Apache never calls it and every request "
                       "passes unchecked (fails open); require valid-user, or with mod_fcgid use "
                       "FcgidAccessChecker",
                       s->checker);
    else if (!req || !req->require_user)
        report_problem(rep, s->checker_file, s->checker_line,
                       "%s without \"Require valid-user\" in effect: Apache never calls it (fails "
                       "open unless something else refuses the request)",
                       s->checker);
}

/* The directives that call the authorizer; only an access checker runs without a user. */
static const struct {
    const char *name;
    bool needs_user;
} authorizer_directives[] = {
    {"FcgidAccessChecker", false},
    {"FcgidAuthorizer", true},
    {"FcgidAuthenticator", true},
    {"AuthnzFcgiCheckAuthnProvider", true},
};

/* Records a directive that calls the authorizer (the first one counts for its section). */
static bool apache_checker(struct ap_section *s, const struct directive *d)
{
    bool is_checker = false;
    for (size_t i = 0; i < sizeof(authorizer_directives) / sizeof(*authorizer_directives); i++) {
        if (!span_is_nocase(d->word[0], authorizer_directives[i].name))
            continue;
        is_checker = true;
        if (!s->checker) {
            s->checker = authorizer_directives[i].name;
            s->checker_file = d->file;
            s->checker_line = d->line;
            s->needs_user = authorizer_directives[i].needs_user;
        }
    }
    return is_checker;
}

/* Require all granted, or Require valid-user / user / group. */
static void apache_require(struct ap_section *s, const struct directive *d)
{
    s->has_require = true;
    if (span_is_nocase(d->word[1], "all") && d->nwords > 2 && span_is_nocase(d->word[2], "granted"))
        s->require_granted = true;
    if (span_is_nocase(d->word[1], "valid-user") || span_is_nocase(d->word[1], "user") ||
        span_is_nocase(d->word[1], "group"))
        s->require_user = true;
}

/* Header [always|onsuccess] unset NAME: onsuccess (the default) misses mod_fcgid's headers. */
static void apache_header(struct report *rep, const struct directive *d)
{
    size_t a = 1;
    if (a < d->nwords && span_is_nocase(d->word[a], "onsuccess"))
        a++;
    if (a + 1 < d->nwords && span_is_nocase(d->word[a], "unset") &&
        span_starts_nocase(d->word[a + 1], "Variable-"))
        report_problem(rep, d->file, d->line,
                       "\"Header unset %.*s\" without \"always\": mod_fcgid's Variable- headers "
                       "still reach the client; write \"Header always unset\"",
                       (int)d->word[a + 1].len, d->word[a + 1].s);
}

/* Records what a directive means for its section; returns whether it calls the authorizer. */
static bool apache_directive(struct report *rep, struct ap_section *stack, int depth,
                             const struct directive *d)
{
    struct ap_section *s = owner_of(stack, depth);
    struct span name = d->word[0];
    if (span_is_nocase(name, "CGIPassAuth") && d->nwords > 1 && span_is_nocase(d->word[1], "on"))
        s->pass_auth = true;
    if (span_is_nocase(name, "Require") && d->nwords > 1)
        apache_require(s, d);
    if (span_is_nocase(name, "Header"))
        apache_header(rep, d);
    return apache_checker(s, d);
}

/* File names seen in a dump; they live until the check ends. */
struct names {
    char **name;
    size_t n;
};

static const char *names_add(struct names *ns, struct span name, const char *fallback)
{
    char **more = realloc(ns->name, (ns->n + 1) * sizeof(*more));
    if (!more)
        return fallback;
    ns->name = more;
    char *copy = span_dup(name);
    if (!copy)
        return fallback;
    ns->name[ns->n++] = copy;
    return copy;
}

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->name[i]);
    free(ns->name);
}

/*
 * The comments of `apache2ctl -DDUMP_CONFIG` say where each directive came from:
 * "# In file: PATH" and "#  12:" before the directive of line 12.
 */
static void apache_dump_comment(const char *s, const char *e, struct names *ns, const char **file,
                                size_t *line)
{
    static const char in_file[] = "# In file: ";
    if ((size_t)(e - s) > sizeof(in_file) - 1 && strncmp(s, in_file, sizeof(in_file) - 1) == 0) {
        const char *name = s + sizeof(in_file) - 1;
        *file = names_add(ns, (struct span){name, (size_t)(e - name)}, *file);
        return;
    }
    const char *q = s + 1;
    while (q < e && *q == ' ')
        q++;
    size_t n = 0;
    const char *digits = q;
    while (q < e && isdigit((unsigned char)*q))
        n = n * 10 + (size_t)(*q++ - '0');
    if (q > digits && q + 1 == e && *q == ':')
        *line = n;
}

/* The input as logical lines: physical lines ending in a backslash continue one. */
struct ap_lines {
    const char *p, *end;
    size_t line; /* of the physical line at p */
    char *buf;   /* as large as the input: a logical line is never longer */
};

static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/*
 * Joins the next logical line into l->buf and returns it, trimmed, in [*s, *e), with the line
 * it starts on in *first. Returns false at the end of the input.
 */
static bool next_logical_line(struct ap_lines *l, const char **s, const char **e, size_t *first)
{
    if (l->p >= l->end)
        return false;
    *first = l->line;
    size_t n = 0;
    for (;;) {
        const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
        const char *last = nl ? nl : l->end;
        if (last > l->p && last[-1] == '\r')
            last--;
        bool more = last > l->p && last[-1] == '\\';
        if (more)
            last--;
        memcpy(l->buf + n, l->p, (size_t)(last - l->p));
        n += (size_t)(last - l->p);
        l->p = nl ? nl + 1 : l->end;
        l->line++;
        if (!more || l->p >= l->end)
            break;
        l->buf[n++] = ' ';
    }
    *s = l->buf;
    *e = l->buf + n;
    trim(s, e);
    return true;
}

/* One scan of an Apache configuration. */
struct ap_scan {
    struct report *rep;
    struct ap_section stack[SCAN_MAX_DEPTH + 1]; /* [0]: the server level */
    int depth;
    int too_deep; /* sections open beyond SCAN_MAX_DEPTH: not followed */
    int checkers; /* directives that call the authorizer */
    struct names names;
    const char *file; /* where directives come from: the input, or a dump's "# In file:" */
    size_t dump_line; /* the next directive's line from a dump's "#  12:" comment, 0: none */
};

/* <Name ...>: a section opens. */
static void apache_open(struct ap_scan *sc, const char *s, const char *e, struct directive *d)
{
    const char *gt = memchr(s, '>', (size_t)(e - s));
    split_words(s + 1, gt ? gt : e, d);
    if (sc->depth >= SCAN_MAX_DEPTH) {
        sc->too_deep++;
        return;
    }
    sc->depth++;
    struct ap_section *sec = &sc->stack[sc->depth];
    memset(sec, 0, sizeof(*sec));
    sec->transparent = d->nwords > 0 && is_transparent(d->word[0]);
}

/* </Name>: the innermost section closes and is judged (unless it was too deep to follow). */
static void apache_end(struct ap_scan *sc)
{
    if (sc->too_deep > 0) {
        sc->too_deep--;
    } else if (sc->depth > 0) {
        apache_close(sc->rep, sc->stack, sc->depth);
        sc->depth--;
    }
}

/* One logical line, trimmed and not empty: a comment, a section's start or end, a directive. */
static void apache_line(struct ap_scan *sc, const char *s, const char *e, size_t line)
{
    if (*s == '#') {
        apache_dump_comment(s, e, &sc->names, &sc->file, &sc->dump_line);
        return;
    }
    struct directive d;
    d.file = sc->file;
    d.line = sc->dump_line ? sc->dump_line : line;
    sc->dump_line = 0;
    if (s[0] == '<' && s + 1 < e && s[1] == '/') {
        apache_end(sc);
    } else if (s[0] == '<') {
        apache_open(sc, s, e, &d);
    } else {
        split_words(s, e, &d);
        if (d.nwords > 0 && apache_directive(sc->rep, sc->stack, sc->depth, &d))
            sc->checkers++;
    }
}

void apache_check(struct report *rep, const char *file, const char *text, size_t len)
{
    struct ap_scan sc = {.rep = rep, .file = file};
    struct ap_lines lines = {text, text + len, 1, malloc(len + 1)};
    if (!lines.buf) {
        report_problem(rep, file, 1, "out of memory");
        return;
    }
    const char *s, *e;
    size_t first;
    while (next_logical_line(&lines, &s, &e, &first))
        if (s < e)
            apache_line(&sc, s, e, first);
    for (; sc.depth >= 0; sc.depth--)
        apache_close(rep, sc.stack, sc.depth);
    if (sc.checkers == 0)
        report_problem(rep, file, 1,
                       "no FcgidAccessChecker, FcgidAuthorizer, FcgidAuthenticator or "
                       "AuthnzFcgiCheckAuthnProvider: the authorizer protects nothing");
    free(lines.buf);
    names_free(&sc.names);
}
