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
        fprintf(out,
                "RequestHeader unset %s\n"
                "RequestHeader set %s \"%%{%s}e\" env=%s\n",
                h, h, h, h);
    }
    fputs("\n# Variable- headers must never reach the client (mod_fcgid would send them).\n", out);
    for (size_t i = 0; i < ids->n; i++)
        fprintf(out, "Header always unset Variable-%s\n", ids->name[i]);
    fputs("Header always unset Variable-AUTHZ_QUERY_STRING\n"
          "Header always unset Variable-AUTHZ_DECISION\n\n"
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

/* Records what a directive means for its section; returns whether it calls the authorizer. */
static bool apache_directive(struct report *rep, struct ap_section *stack, int depth,
                             const struct directive *d)
{
    static const struct {
        const char *name;
        bool needs_user;
    } checkers[] = {
        {"FcgidAccessChecker", false},
        {"FcgidAuthorizer", true},
        {"FcgidAuthenticator", true},
        {"AuthnzFcgiCheckAuthnProvider", true},
    };
    struct ap_section *s = owner_of(stack, depth);
    struct span name = d->word[0];
    bool is_checker = false;
    for (size_t i = 0; i < sizeof(checkers) / sizeof(*checkers); i++) {
        if (!span_is_nocase(name, checkers[i].name))
            continue;
        is_checker = true;
        if (!s->checker) {
            s->checker = checkers[i].name;
            s->checker_file = d->file;
            s->checker_line = d->line;
            s->needs_user = checkers[i].needs_user;
        }
    }
    if (span_is_nocase(name, "CGIPassAuth") && d->nwords > 1 && span_is_nocase(d->word[1], "on"))
        s->pass_auth = true;
    if (span_is_nocase(name, "Require") && d->nwords > 1) {
        s->has_require = true;
        if (span_is_nocase(d->word[1], "all") && d->nwords > 2 &&
            span_is_nocase(d->word[2], "granted"))
            s->require_granted = true;
        if (span_is_nocase(d->word[1], "valid-user") || span_is_nocase(d->word[1], "user") ||
            span_is_nocase(d->word[1], "group"))
            s->require_user = true;
    }
    if (span_is_nocase(name, "Header")) {
        /* Header [always|onsuccess] unset NAME: onsuccess (the default) misses them. */
        size_t a = 1;
        if (a < d->nwords && span_is_nocase(d->word[a], "onsuccess"))
            a++;
        if (a + 1 < d->nwords && span_is_nocase(d->word[a], "unset") &&
            span_starts_nocase(d->word[a + 1], "Variable-"))
            report_problem(
                rep, d->file, d->line,
                "\"Header unset %.*s\" without \"always\": mod_fcgid's Variable- headers "
                "still reach the client; write \"Header always unset\"",
                (int)d->word[a + 1].len, d->word[a + 1].s);
    }
    return is_checker;
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

void apache_check(struct report *rep, const char *file, const char *text, size_t len)
{
    struct ap_section stack[SCAN_MAX_DEPTH + 1];
    int depth = 0, too_deep = 0, checkers = 0;
    memset(&stack[0], 0, sizeof(stack[0]));
    struct names names = {NULL, 0};
    const char *cur_file = file;
    size_t dump_line = 0; /* from a dump's "#  12:" comment, 0: none */
    const char *p = text, *end = text + len;
    size_t line = 1;
    char *logical = malloc(len + 1);
    if (!logical) {
        report_problem(rep, file, 1, "out of memory");
        return;
    }
    while (p < end) {
        /* One logical line: physical lines ending in a backslash continue it. */
        size_t first_line = line, n = 0;
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *last = nl ? nl : end;
            if (last > p && last[-1] == '\r')
                last--;
            bool more = last > p && last[-1] == '\\';
            if (more)
                last--;
            memcpy(logical + n, p, (size_t)(last - p));
            n += (size_t)(last - p);
            p = nl ? nl + 1 : end;
            line++;
            if (!more || p >= end)
                break;
            logical[n++] = ' ';
        }
        const char *s = logical, *e = logical + n;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (s >= e)
            continue;
        if (*s == '#') {
            apache_dump_comment(s, e, &names, &cur_file, &dump_line);
            continue;
        }

        struct directive d;
        d.file = cur_file;
        d.line = dump_line ? dump_line : first_line;
        dump_line = 0;
        if (s[0] == '<' && s + 1 < e && s[1] == '/') {
            if (too_deep > 0) {
                too_deep--;
            } else if (depth > 0) {
                apache_close(rep, stack, depth);
                depth--;
            }
        } else if (s[0] == '<') {
            const char *gt = memchr(s, '>', (size_t)(e - s));
            split_words(s + 1, gt ? gt : e, &d);
            if (depth < SCAN_MAX_DEPTH) {
                depth++;
                memset(&stack[depth], 0, sizeof(stack[depth]));
                stack[depth].transparent = d.nwords > 0 && is_transparent(d.word[0]);
            } else {
                too_deep++;
            }
        } else {
            split_words(s, e, &d);
            if (d.nwords > 0 && apache_directive(rep, stack, depth, &d))
                checkers++;
        }
    }
    while (depth >= 0) {
        apache_close(rep, stack, depth);
        depth--;
    }
    if (checkers == 0)
        report_problem(rep, file, 1,
                       "no FcgidAccessChecker, FcgidAuthorizer, FcgidAuthenticator or "
                       "AuthnzFcgiCheckAuthnProvider: the authorizer protects nothing");
    free(logical);
    for (size_t i = 0; i < names.n; i++)
        free(names.name[i]);
    free(names.name);
}
