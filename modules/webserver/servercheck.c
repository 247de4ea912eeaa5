/*
 * servercheck.c - see servercheck.h.
 *
 * Three small scanners, one per server. They are not parsers: each knows just enough of its
 * server's syntax (lighttpd's `key = ( "k" => "v" )` lists, Apache's directive lines and
 * <sections>, nginx's statements and { } blocks) to find the settings below, and reports
 * them as "FILE:LINE: what is wrong".
 *
 * Detected:
 *   lighttpd  an authorizer-mode fastcgi.server entry without "check-local" => "disable"
 *             (the authorizer is skipped whenever the path is no local file: fails open);
 *             mod_proxy listed before mod_fastcgi in server.modules (mod_proxy takes the
 *             request first: fails open), or mod_fastcgi not listed at all (fastcgi.server
 *             is ignored: fails open); no magnet.attract-raw-url-to (nothing removes
 *             client-sent identity headers, nothing passes the authorizer's answer on);
 *             no authorizer-mode fastcgi.server entry at all.
 *   apache    FcgidAuthorizer, FcgidAuthenticator or AuthnzFcgiCheckAuthnProvider where the
 *             Require in effect is "all granted" (Apache never calls them: fails open) or
 *             has no valid-user, user or group (never called either); an authorizer
 *             directive with no "CGIPassAuth On" in its section or an enclosing one (the
 *             authorizer never sees Authorization); "Header unset Variable-..." without
 *             "always" (mod_fcgid's Variable- headers still reach the client); no authorizer
 *             directive at all.
 *   nginx     include fastcgi_params (or fastcgi.conf) in a location that an auth_request
 *             points to and that has a fastcgi_pass (every param is sent twice and the
 *             FastCGI library keeps the first: the location's own fastcgi_param lines cannot
 *             override the included ones); $uri or $document_uri in proxy_pass (a decoded,
 *             normalized path instead of the one the authorizer decided on); no auth_request.
 *
 * Not detected: what is not in the input. lighttpd -p and nginx -T expand every include;
 * Apache's Include is not followed, so feed each file (or `apache2ctl -DDUMP_CONFIG`, where
 * mod_info is loaded: its "# In file:" comments are used for the positions). Conditionals
 * (lighttpd $HTTP[...], nginx if, Apache <IfModule> and the like) are scanned as if always
 * true. An Apache section is judged with its enclosing sections only (<If> like any other):
 * how separate sections for the same path merge is not modelled. nginx regex locations are
 * not matched against auth_request targets, and an include nested in another included file
 * is not seen as belonging to the location. Whether the glue matches the authorizer
 * configuration is not checked: compare it with `authorizer --print-glue`.
 */
#include "webserver/servercheck.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webserver/scan.h"

static bool span_starts_nocase(struct span w, const char *lit)
{
    size_t n = strlen(lit);
    return w.len >= n && strncasecmp(w.s, lit, n) == 0;
}

/* Whether w contains the variable `name` ("$uri", not "$uri_x"; also "${uri}"). */
static bool span_has_variable(struct span w, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + 1 + n <= w.len; i++) {
        if (w.s[i] != '$')
            continue;
        const char *v = w.s + i + 1;
        size_t left = w.len - i - 1;
        if (left >= n + 2 && v[0] == '{' && memcmp(v + 1, name, n) == 0 && v[n + 1] == '}')
            return true;
        if (memcmp(v, name, n) == 0 &&
            (left == n || !(isalnum((unsigned char)v[n]) || v[n] == '_')))
            return true;
    }
    return false;
}

/* ---- lighttpd ------------------------------------------------------------------------ */

/*
 * lighttpd's configuration as tokens: "strings", words (keys, numbers, mod names outside
 * quotes) and single punctuation marks, with "=>", "+=" and ":=" as one token each.
 */
enum ltok_kind { LT_END, LT_WORD, LT_STRING, LT_PUNCT };

struct ltok {
    enum ltok_kind kind;
    struct span text; /* without the quotes for a string */
    size_t line;
};

struct lexer {
    const char *p, *end;
    size_t line;
};

static bool lighttpd_word_char(char c)
{
    return isalnum((unsigned char)c) || (c != '\0' && strchr("._-$[]", c) != NULL);
}

static struct ltok lighttpd_next(struct lexer *lx)
{
    for (;;) {
        while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
            if (*lx->p == '\n')
                lx->line++;
            lx->p++;
        }
        if (lx->p < lx->end && *lx->p == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
            continue;
        }
        break;
    }
    struct ltok t = {LT_END, {lx->p, 0}, lx->line};
    if (lx->p >= lx->end)
        return t;
    const char *start = lx->p;
    if (*start == '"') {
        const char *q = start + 1;
        while (q < lx->end && *q != '"') {
            if (*q == '\\' && q + 1 < lx->end)
                q++;
            if (*q == '\n')
                lx->line++;
            q++;
        }
        t.kind = LT_STRING;
        t.text = (struct span){start + 1, (size_t)(q - start - 1)};
        lx->p = q < lx->end ? q + 1 : q;
        return t;
    }
    if (lighttpd_word_char(*start)) {
        const char *q = start;
        while (q < lx->end && lighttpd_word_char(*q))
            q++;
        t.kind = LT_WORD;
        t.text = (struct span){start, (size_t)(q - start)};
        lx->p = q;
        return t;
    }
    t.kind = LT_PUNCT;
    size_t n = 1;
    if (start + 1 < lx->end && start[1] == '=' && strchr("=+:!", *start))
        n = 2;
    else if (start + 1 < lx->end && *start == '=' && strchr(">~", start[1]))
        n = 2;
    t.text = (struct span){start, n};
    lx->p = start + n;
    return t;
}

static bool is_punct(struct ltok t, const char *p)
{
    return t.kind == LT_PUNCT && span_is(t.text, p);
}

static bool is_assignment(struct ltok t)
{
    return is_punct(t, "=") || is_punct(t, "+=") || is_punct(t, ":=");
}

/* lighttpd's boolean "false" spellings; anything else leaves check-local enabled. */
static bool lighttpd_false(struct ltok t)
{
    return span_is_nocase(t.text, "disable") || span_is_nocase(t.text, "disabled") ||
           span_is_nocase(t.text, "false") || span_is(t.text, "0");
}

struct lighttpd_state {
    struct report *rep;
    const char *file;
    /* server.modules, as the last assignment and its += left it */
    size_t fastcgi_pos, proxy_pos, nmodules; /* positions are 1-based; 0: not listed */
    size_t modules_line;
    bool magnet_raw_url;
    int authorizers;
};

/* server.modules = ( "mod_a", "mod_b" ) or += ( ... ): records where the two modules are. */
static void lighttpd_modules(struct lighttpd_state *st, struct lexer *lx, struct ltok op)
{
    if (!is_punct(op, "+="))
        st->nmodules = st->fastcgi_pos = st->proxy_pos = 0;
    st->modules_line = op.line;
    int depth = 0;
    do {
        struct ltok t = lighttpd_next(lx);
        if (t.kind == LT_END)
            return;
        if (is_punct(t, "("))
            depth++;
        else if (is_punct(t, ")"))
            depth--;
        else if (t.kind == LT_STRING) {
            st->nmodules++;
            if (span_is(t.text, "mod_fastcgi") && !st->fastcgi_pos)
                st->fastcgi_pos = st->nmodules;
            if (span_is(t.text, "mod_proxy") && !st->proxy_pos)
                st->proxy_pos = st->nmodules;
        }
    } while (depth > 0);
}

/*
 * fastcgi.server = ( "/" => ( ( "mode" => "authorizer", "check-local" => "disable" ) ) ):
 * every ( ) group is one level; a host is a group that holds "mode" => "authorizer".
 */
static void lighttpd_fastcgi(struct lighttpd_state *st, struct lexer *lx)
{
    struct group {
        size_t line;
        bool authorizer, check_local_off;
    } stack[SCAN_MAX_DEPTH];
    int depth = 0;
    struct ltok key = {LT_END, {NULL, 0}, 0}, arrow = key;
    do {
        struct ltok t = lighttpd_next(lx);
        if (t.kind == LT_END)
            return;
        if (is_punct(t, "(")) {
            if (depth < SCAN_MAX_DEPTH)
                stack[depth] = (struct group){t.line, false, false};
            depth++;
        } else if (is_punct(t, ")")) {
            depth--;
            if (depth >= 0 && depth < SCAN_MAX_DEPTH && stack[depth].authorizer) {
                st->authorizers++;
                if (!stack[depth].check_local_off)
                    report_problem(
                        st->rep, st->file, stack[depth].line,
                        "fastcgi.server entry in \"authorizer\" mode without "
                        "\"check-local\" => \"disable\": lighttpd skips the authorizer "
                        "for any path that is not a local file, so proxied requests pass "
                        "unchecked (fails open)");
            }
        } else if (depth > 0 && depth <= SCAN_MAX_DEPTH && key.kind == LT_STRING &&
                   is_punct(arrow, "=>") && t.kind != LT_PUNCT) {
            if (span_is(key.text, "mode") && span_is(t.text, "authorizer"))
                stack[depth - 1].authorizer = true;
            if (span_is(key.text, "check-local") && lighttpd_false(t))
                stack[depth - 1].check_local_off = true;
        }
        key = arrow;
        arrow = t;
    } while (depth > 0);
}

static void check_lighttpd(struct report *rep, const char *file, const char *text, size_t len)
{
    struct lighttpd_state st = {.rep = rep, .file = file};
    struct lexer lx = {text, text + len, 1};
    struct ltok prev = {LT_END, {NULL, 0}, 0};
    for (;;) {
        struct ltok t = lighttpd_next(&lx);
        if (t.kind == LT_END)
            break;
        if (prev.kind == LT_WORD && is_assignment(t)) {
            if (span_is(prev.text, "server.modules"))
                lighttpd_modules(&st, &lx, t);
            else if (span_is(prev.text, "fastcgi.server"))
                lighttpd_fastcgi(&st, &lx);
            else if (span_is(prev.text, "magnet.attract-raw-url-to"))
                st.magnet_raw_url = true;
        }
        prev = t;
    }

    if (st.authorizers == 0) {
        report_problem(rep, file, 1,
                       "no fastcgi.server entry with \"mode\" => \"authorizer\": the authorizer "
                       "protects nothing");
        return;
    }
    if (!st.fastcgi_pos)
        report_problem(rep, file, st.modules_line ? st.modules_line : 1,
                       "mod_fastcgi is not in server.modules: fastcgi.server is ignored and every "
                       "request passes unchecked (fails open)");
    else if (st.proxy_pos && st.proxy_pos < st.fastcgi_pos)
        report_problem(rep, file, st.modules_line,
                       "mod_proxy comes before mod_fastcgi in server.modules: mod_proxy takes the "
                       "request first and the authorizer is never asked (fails open)");
    if (!st.magnet_raw_url)
        report_problem(rep, file, 1,
                       "no magnet.attract-raw-url-to: nothing removes identity headers sent by the "
                       "client, and the authorizer's answer never reaches the application (load "
                       "the script printed by `authorizer --print-glue lighttpd`)");
}

/* ---- Apache -------------------------------------------------------------------------- */

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

static void check_apache(struct report *rep, const char *file, const char *text, size_t len)
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

/* ---- nginx --------------------------------------------------------------------------- */

/* A location that passes to FastCGI and includes the stock params file. */
struct ngx_location {
    char *file;
    size_t line;
    char *modifier; /* "=", "^~", "~", "~*" or "" */
    char *path;
};

struct ngx_state {
    struct report *rep;
    char **targets; /* auth_request URIs */
    size_t ntargets;
    struct ngx_location *locs;
    size_t nlocs;
    bool oom;
};

static void ngx_add_target(struct ngx_state *st, struct span uri)
{
    char **more = realloc(st->targets, (st->ntargets + 1) * sizeof(*more));
    char *copy = span_dup(uri);
    if (!more || !copy) {
        free(copy);
        if (more)
            st->targets = more;
        st->oom = true;
        return;
    }
    st->targets = more;
    st->targets[st->ntargets++] = copy;
}

static void ngx_add_location(struct ngx_state *st, const char *file, size_t line,
                             const struct directive *loc)
{
    struct ngx_location *more = realloc(st->locs, (st->nlocs + 1) * sizeof(*more));
    if (!more) {
        st->oom = true;
        return;
    }
    st->locs = more;
    struct ngx_location *l = &st->locs[st->nlocs];
    bool has_modifier = loc->nwords > 2;
    l->file = strdup(file);
    l->line = line;
    l->modifier = has_modifier ? span_dup(loc->word[1]) : strdup("");
    l->path = loc->nwords > 1 ? span_dup(loc->word[has_modifier ? 2 : 1]) : strdup("");
    if (!l->file || !l->modifier || !l->path) {
        free(l->file);
        free(l->modifier);
        free(l->path);
        st->oom = true;
        return;
    }
    st->nlocs++;
}

/* Whether an auth_request to `uri` lands in location l (regex locations are not matched). */
static bool ngx_location_matches(const struct ngx_location *l, const char *uri)
{
    if (strcmp(l->modifier, "=") == 0)
        return strcmp(l->path, uri) == 0;
    if (l->modifier[0] == '\0' || strcmp(l->modifier, "^~") == 0)
        return strncmp(uri, l->path, strlen(l->path)) == 0;
    return false;
}

/* Whether an include names the stock params file (fastcgi_params or fastcgi.conf). */
static bool ngx_is_stock_params(struct span w)
{
    const char *base = w.s;
    for (size_t i = 0; i < w.len; i++)
        if (w.s[i] == '/')
            base = w.s + i + 1;
    struct span b = {base, (size_t)(w.s + w.len - base)};
    return span_is(b, "fastcgi_params") || span_is(b, "fastcgi.conf");
}

/* One file's worth of nginx configuration: statements end in ';', blocks in { }. */
static void ngx_scan(struct ngx_state *st, const char *file, const char *p, const char *end)
{
    struct block {
        bool location, fastcgi_pass;
        size_t include_line; /* include of the stock params, 0: none */
        struct directive stmt;
    } stack[SCAN_MAX_DEPTH + 1];
    int depth = 0;
    memset(&stack[0], 0, sizeof(stack[0]));
    struct directive d = {.nwords = 0, .file = file, .line = 1};
    size_t line = 1;
    while (p < end) {
        char c = *p;
        if (c == '\n' || isspace((unsigned char)c)) {
            if (c == '\n')
                line++;
            p++;
        } else if (c == '#') {
            while (p < end && *p != '\n')
                p++;
        } else if (c == ';' || c == '{' || c == '}') {
            p++;
            struct block *b = &stack[depth];
            if (c == '}') {
                if (depth > 0) {
                    if (b->location && b->fastcgi_pass && b->include_line)
                        ngx_add_location(st, file, b->include_line, &b->stmt);
                    depth--;
                }
            } else if (d.nwords == 0) {
                /* an empty statement */
            } else if (c == '{') {
                if (depth < SCAN_MAX_DEPTH) {
                    depth++;
                    memset(&stack[depth], 0, sizeof(stack[depth]));
                    stack[depth].location = span_is(d.word[0], "location");
                    stack[depth].stmt = d;
                }
            } else if (span_is(d.word[0], "auth_request") && d.nwords > 1 &&
                       !span_is(d.word[1], "off")) {
                ngx_add_target(st, d.word[1]);
            } else if (span_is(d.word[0], "fastcgi_pass")) {
                b->fastcgi_pass = true;
            } else if (span_is(d.word[0], "include") && d.nwords > 1 &&
                       ngx_is_stock_params(d.word[1])) {
                if (!b->include_line)
                    b->include_line = d.line;
            } else if (span_is(d.word[0], "proxy_pass") && d.nwords > 1) {
                if (span_has_variable(d.word[1], "uri") ||
                    span_has_variable(d.word[1], "document_uri"))
                    report_problem(
                        st->rep, file, d.line,
                        "proxy_pass with $uri: nginx has decoded and normalized that path, "
                        "so the application gets another path than the one the authorizer "
                        "decided on (encoded paths break); use the raw path from "
                        "$request_uri ($authz_raw_path)");
            }
            d.nwords = 0;
        } else {
            /* A word, quoted or not. */
            bool quoted = c == '"' || c == '\'';
            const char *w = quoted ? ++p : p;
            size_t wline = line;
            while (p < end &&
                   (quoted ? *p != c
                           : !isspace((unsigned char)*p) && *p != ';' && *p != '{' && *p != '}')) {
                if (quoted && *p == '\\' && p + 1 < end)
                    p++;
                else if (*p == '$' && p + 1 < end && p[1] == '{') /* ${var} is one word */
                    while (p + 1 < end && *p != '}')
                        p++;
                if (*p == '\n')
                    line++;
                p++;
            }
            if (d.nwords == 0)
                d.line = wline;
            if (d.nwords < SCAN_MAX_WORDS)
                d.word[d.nwords++] = (struct span){w, (size_t)(p - w)};
            if (quoted && p < end)
                p++; /* the closing quote */
        }
    }
}

static void check_nginx(struct report *rep, const char *file, const char *text, size_t len)
{
    static const char marker[] = "# configuration file ";
    struct ngx_state st = {.rep = rep};
    /* `nginx -T` prints each file after a "# configuration file PATH:" line. */
    const char *p = text, *end = text + len;
    const char *chunk = p;
    char *chunk_file = strdup(file);
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        if (chunk_file && n > sizeof(marker) && strncmp(p, marker, sizeof(marker) - 1) == 0 &&
            eol[-1] == ':') {
            ngx_scan(&st, chunk_file, chunk, p);
            free(chunk_file);
            chunk_file = span_dup((struct span){p + sizeof(marker) - 1, n - sizeof(marker)});
            chunk = nl ? nl + 1 : end;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    if (chunk_file)
        ngx_scan(&st, chunk_file, chunk, end);
    else
        st.oom = true;
    free(chunk_file);

    for (size_t i = 0; i < st.nlocs; i++) {
        const struct ngx_location *l = &st.locs[i];
        for (size_t k = 0; k < st.ntargets; k++) {
            if (ngx_location_matches(l, st.targets[k])) {
                report_problem(rep, l->file, l->line,
                               "include of the stock FastCGI params in the authorizer's location "
                               "(auth_request %s): every param is sent twice and the first one "
                               "wins, so this location's own fastcgi_param lines cannot override "
                               "them; list the authorizer's params yourself",
                               st.targets[k]);
                break;
            }
        }
    }
    if (st.ntargets == 0)
        report_problem(rep, file, 1,
                       "no auth_request: the authorizer protects nothing (check `nginx -T` "
                       "output, which includes every file)");
    if (st.oom)
        report_problem(rep, file, 1, "out of memory: the check is incomplete");

    for (size_t i = 0; i < st.ntargets; i++)
        free(st.targets[i]);
    free(st.targets);
    for (size_t i = 0; i < st.nlocs; i++) {
        free(st.locs[i].file);
        free(st.locs[i].modifier);
        free(st.locs[i].path);
    }
    free(st.locs);
}

/* ---- entry point --------------------------------------------------------------------- */

int servercheck_run(const char *server, FILE *in, const char *name, FILE *out)
{
    static const struct {
        const char *server;
        void (*check)(struct report *, const char *, const char *, size_t);
    } checks[] = {
        {"lighttpd", check_lighttpd},
        {"apache", check_apache},
        {"nginx", check_nginx},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(*checks); i++) {
        if (strcmp(server, checks[i].server) != 0)
            continue;
        const char *err = NULL;
        size_t len = 0;
        char *text = scan_read_all(in, &len, &err);
        if (!text) {
            fprintf(out, "%s: %s\n", name, err);
            return -1;
        }
        struct report rep = {out, 0};
        checks[i].check(&rep, name, text, len);
        free(text);
        return rep.problems;
    }
    fprintf(out, "%s: unknown server '%s' (lighttpd, apache, nginx)\n", name, server);
    return -1;
}
