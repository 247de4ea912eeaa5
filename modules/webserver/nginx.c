/*
 * nginx.c - nginx (auth_request to a location with fastcgi_pass): its glue, lines for each
 * protected location, and the check of its configuration.
 *
 * The check is a scanner, not a parser: it knows just enough of nginx's syntax (statements
 * and { } blocks) to find the settings below, and reports them as "FILE:LINE: what is wrong".
 *
 * Detected: include fastcgi_params (or fastcgi.conf) in a location that an auth_request points
 * to and that has a fastcgi_pass (every param is sent twice, and the authorizer refuses a
 * parameter it reads given twice: every request fails); such a location without
 * `fastcgi_param AUTHZ_PHASE auth_request` (a sign-in redirect becomes 500, a denial loses its
 * challenges, cookies and body); $uri or $document_uri in proxy_pass
 * (a decoded, normalized path instead of the one the authorizer decided on);
 * `underscores_in_headers on` or `ignore_invalid_headers off` (headers spelled with '_' reach
 * the application, where CGI-style readers take them for identity headers); no auth_request.
 *
 * Not detected: what is not in the input (`nginx -T` prints the whole configuration with
 * every include expanded: check that). `if` blocks are scanned as if always true. Regex
 * locations are not matched against auth_request targets, and an include nested in another
 * included file is not seen as belonging to the location. Whether the glue matches the
 * authorizer configuration is not checked: compare it with `authorizer --print-glue nginx`.
 */
#include "webserver/webserver.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "webserver/identity.h"
#include "webserver/scan.h"

/* ---- glue ---------------------------------------------------------------------------- */

/* nginx's name for a response header: lowercase, '-' as '_'. */
static void nginx_name(const char *header, char *out, size_t outlen)
{
    size_t i = 0;
    for (; header[i] && i + 1 < outlen; i++)
        out[i] = header[i] == '-' ? '_' : (char)tolower((unsigned char)header[i]);
    out[i] = '\0';
}

void nginx_print_glue(FILE *out, const struct identity_headers *ids)
{
    fputs("# fcgi-authorizer glue for nginx (auth_request + fastcgi_pass), printed by\n"
          "# `authorizer --print-glue nginx`. Include it in each protected location, then\n"
          "#   proxy_pass http://UPSTREAM$authz_raw_path$authz_query;\n"
          "# with the maps and the /.authz location of etc/nginx/ in place. Any\n"
          "# proxy_set_header in the location replaces those of outer levels: repeat the\n"
          "# ones you need there.\n\n"
          "auth_request /.authz;\n"
          "auth_request_set $authz_decision $upstream_http_variable_authz_decision;\n"
          "auth_request_set $authz_query_string $upstream_http_variable_authz_query_string;\n",
          out);
    for (int i = 1; i <= CONFIG_MAX_AUTH_COOKIES; i++)
        fprintf(out,
                "auth_request_set $authz_cookie_%d $upstream_http_variable_authz_set_cookie_%d;\n",
                i, i);
    for (size_t i = 0; i < ids->n; i++) {
        char name[300];
        nginx_name(ids->name[i], name, sizeof(name));
        fprintf(out, "auth_request_set $authz_h_%s $upstream_http_variable_%s;\n", name, name);
    }
    if (ids->n)
        fputs("\n# Identity headers: an empty value sends none, so a client's copy never passes.\n",
              out);
    for (size_t i = 0; i < ids->n; i++) {
        char name[300];
        nginx_name(ids->name[i], name, sizeof(name));
        fprintf(out, "proxy_set_header %s $authz_h_%s;\n", ids->name[i], name);
    }
    fputs("\n# The cookies as the auth service saw them (/.authz sends $http_cookie): several\n"
          "# Cookie headers reach the application joined into one, never as the separate\n"
          "# lines an application might read only the first or last of.\n"
          "proxy_set_header Cookie $http_cookie;\n"
          "\n# What an application may read as the request's host, scheme, port or path is what\n"
          "# the authorizer was shown, never a client's copy (an empty value sends none).\n",
          out);
    for (const char *const *h = identity_routing_headers; *h; h++) {
        const char *value = strcmp(*h, "X-Forwarded-Host") == 0    ? "$http_host"
                            : strcmp(*h, "X-Forwarded-Proto") == 0 ? "$scheme"
                                                                   : "\"\"";
        fprintf(out, "proxy_set_header %s %s;\n", *h, value);
    }
    fputs("\n# The subrequest relays only 401 and 403, without the auth service's answer: a\n"
          "# denial is asked about again as a normal request (@authz_denial), whose status,\n"
          "# challenges, Location, cookies and body reach the client (a sign-in redirect too).\n"
          "error_page 401 403 = @authz_denial;\n\n"
          "# The auth service's cookies of an allow (addAuthCookiesToResponse), each in a\n"
          "# Set-Cookie of its own; an empty value sends none. add_header here replaces the\n"
          "# add_header lines of outer levels: repeat the ones you need in the location.\n",
          out);
    for (int i = 1; i <= CONFIG_MAX_AUTH_COOKIES; i++)
        fprintf(out, "add_header Set-Cookie $authz_cookie_%d always;\n", i);
}

/* ---- check --------------------------------------------------------------------------- */

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

/* A location that passes to FastCGI: a possible target of auth_request. */
struct ngx_location {
    char *file;
    size_t line;         /* of the location */
    size_t include_line; /* of an include of the stock params file, 0: none */
    bool phase;          /* it sends fastcgi_param AUTHZ_PHASE auth_request */
    char *modifier;      /* "=", "^~", "~", "~*" or "" */
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
                             size_t include_line, bool phase, const struct directive *loc)
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
    l->include_line = include_line;
    l->phase = phase;
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

/* A { } block: what its statements have said so far. */
struct ngx_block {
    bool location, fastcgi_pass;
    bool phase;            /* fastcgi_param AUTHZ_PHASE auth_request */
    size_t include_line;   /* include of the stock params, 0: none */
    struct directive stmt; /* the statement that opened it */
};

/* One file's worth of nginx configuration: statements end in ';', blocks in { }. */
struct ngx_file {
    struct ngx_state *st;
    const char *name;
    const char *p, *end;
    size_t line;
    struct ngx_block stack[SCAN_MAX_DEPTH + 1]; /* [0]: the file's top level */
    int depth;
    struct directive d; /* the statement being read */
};

/* A statement that ends in ';', in block b. */
static void ngx_statement(struct ngx_state *st, struct ngx_block *b, const struct directive *d)
{
    if (span_is(d->word[0], "auth_request") && d->nwords > 1 && !span_is(d->word[1], "off")) {
        ngx_add_target(st, d->word[1]);
    } else if (span_is(d->word[0], "fastcgi_pass")) {
        b->fastcgi_pass = true;
    } else if (span_is(d->word[0], "fastcgi_param") && d->nwords > 2 &&
               span_is(d->word[1], "AUTHZ_PHASE") && span_is(d->word[2], "auth_request")) {
        b->phase = true;
    } else if (span_is(d->word[0], "include") && d->nwords > 1 && ngx_is_stock_params(d->word[1])) {
        if (!b->include_line)
            b->include_line = d->line;
    } else if ((span_is(d->word[0], "underscores_in_headers") && d->nwords > 1 &&
                span_is(d->word[1], "on")) ||
               (span_is(d->word[0], "ignore_invalid_headers") && d->nwords > 1 &&
                span_is(d->word[1], "off"))) {
        report_problem(st->rep, d->file, d->line,
                       "%.*s %.*s: nginx then passes headers spelled with '_' (X_Auth_UserId), "
                       "which CGI-style applications read as the identity headers the glue "
                       "sets, or as another spelling of the header the authorizer checked",
                       (int)d->word[0].len, d->word[0].s, (int)d->word[1].len, d->word[1].s);
    } else if (span_is(d->word[0], "proxy_pass") && d->nwords > 1) {
        if (span_has_variable(d->word[1], "uri") || span_has_variable(d->word[1], "document_uri"))
            report_problem(st->rep, d->file, d->line,
                           "proxy_pass with $uri: nginx has decoded and normalized that path, "
                           "so the application gets another path than the one the authorizer "
                           "decided on (encoded paths break); use the raw path from "
                           "$request_uri ($authz_raw_path)");
    }
}

/* '}' ends the innermost block: a location with fastcgi_pass is kept. */
static void ngx_close_block(struct ngx_file *f)
{
    struct ngx_block *b = &f->stack[f->depth];
    if (f->depth == 0)
        return;
    if (b->location && b->fastcgi_pass)
        ngx_add_location(f->st, f->name, b->stmt.line, b->include_line, b->phase, &b->stmt);
    f->depth--;
}

/* '{' after the statement just read: a block opens (deeper ones are not followed). */
static void ngx_open_block(struct ngx_file *f)
{
    if (f->depth >= SCAN_MAX_DEPTH)
        return;
    f->depth++;
    struct ngx_block *b = &f->stack[f->depth];
    memset(b, 0, sizeof(*b));
    b->location = span_is(f->d.word[0], "location");
    b->stmt = f->d;
}

/* ';', '{' or '}' at f->p: the statement read so far ends (an empty one does nothing). */
static void ngx_end_statement(struct ngx_file *f)
{
    char c = *f->p++;
    if (c == '}')
        ngx_close_block(f);
    else if (f->d.nwords > 0 && c == '{')
        ngx_open_block(f);
    else if (f->d.nwords > 0)
        ngx_statement(f->st, &f->stack[f->depth], &f->d);
    f->d.nwords = 0;
}

/* What ends an unquoted word. */
static bool ngx_ends_word(char c)
{
    return isspace((unsigned char)c) || c == ';' || c == '{' || c == '}';
}

/* A word at f->p, quoted or not, added to the statement being read. */
static void ngx_read_word(struct ngx_file *f)
{
    const char *p = f->p, *end = f->end;
    char c = *p;
    bool quoted = c == '"' || c == '\'';
    const char *w = quoted ? ++p : p;
    size_t wline = f->line;
    while (p < end && (quoted ? *p != c : !ngx_ends_word(*p))) {
        if (quoted && *p == '\\' && p + 1 < end)
            p++;
        else if (*p == '$' && p + 1 < end && p[1] == '{') /* ${var} is one word */
            while (p + 1 < end && *p != '}')
                p++;
        if (*p == '\n')
            f->line++;
        p++;
    }
    struct directive *d = &f->d;
    if (d->nwords == 0)
        d->line = wline;
    if (d->nwords < SCAN_MAX_WORDS)
        d->word[d->nwords++] = (struct span){w, (size_t)(p - w)};
    if (quoted && p < end)
        p++; /* the closing quote */
    f->p = p;
}

static void ngx_scan(struct ngx_state *st, const char *file, const char *p, const char *end)
{
    struct ngx_file f = {.st = st, .name = file, .p = p, .end = end, .line = 1};
    f.d = (struct directive){.nwords = 0, .file = file, .line = 1};
    while (f.p < f.end) {
        char c = *f.p;
        if (c == '\n') {
            f.line++;
            f.p++;
        } else if (isspace((unsigned char)c)) {
            f.p++;
        } else if (c == '#') {
            while (f.p < f.end && *f.p != '\n')
                f.p++;
        } else if (c == ';' || c == '{' || c == '}') {
            ngx_end_statement(&f);
        } else {
            ngx_read_word(&f);
        }
    }
}

/*
 * `nginx -T` prints each file after a "# configuration file PATH:" line: each such part is
 * scanned as that file, what comes before the first one as the input itself.
 */
static void ngx_scan_dump(struct ngx_state *st, const char *file, const char *text, size_t len)
{
    static const char marker[] = "# configuration file ";
    const char *p = text, *end = text + len;
    const char *chunk = p;
    char *chunk_file = strdup(file);
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        if (chunk_file && n > sizeof(marker) && strncmp(p, marker, sizeof(marker) - 1) == 0 &&
            eol[-1] == ':') {
            ngx_scan(st, chunk_file, chunk, p);
            free(chunk_file);
            chunk_file = span_dup((struct span){p + sizeof(marker) - 1, n - sizeof(marker)});
            chunk = nl ? nl + 1 : end;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    if (chunk_file)
        ngx_scan(st, chunk_file, chunk, end);
    else
        st->oom = true;
    free(chunk_file);
}

/* The authorizer's location, once an auth_request points to it: the stock params in it, and
 * no AUTHZ_PHASE (the authorizer then answers the subrequest in full, and auth_request turns
 * a sign-in redirect into 500 and drops the challenges, cookies and body of a denial). */
static void ngx_report_includes(struct report *rep, const struct ngx_state *st)
{
    for (size_t i = 0; i < st->nlocs; i++) {
        const struct ngx_location *l = &st->locs[i];
        for (size_t k = 0; k < st->ntargets; k++) {
            if (!ngx_location_matches(l, st->targets[k]))
                continue;
            if (!l->phase)
                report_problem(rep, l->file, l->line,
                               "the authorizer's location (auth_request %s) lacks "
                               "`fastcgi_param AUTHZ_PHASE auth_request;`: a sign-in redirect "
                               "becomes 500 and a denial reaches the client without its "
                               "challenges, cookies and body (see the @authz_denial location "
                               "of etc/nginx)",
                               st->targets[k]);
            if (l->include_line) {
                report_problem(rep, l->file, l->include_line,
                               "include of the stock FastCGI params in the authorizer's location "
                               "(auth_request %s): every param is sent twice and the first one "
                               "wins, so this location's own fastcgi_param lines cannot override "
                               "them; list the authorizer's params yourself",
                               st->targets[k]);
            }
            break; /* one auth_request to it is enough to say so */
        }
    }
}

static void ngx_state_free(struct ngx_state *st)
{
    for (size_t i = 0; i < st->ntargets; i++)
        free(st->targets[i]);
    free(st->targets);
    for (size_t i = 0; i < st->nlocs; i++) {
        free(st->locs[i].file);
        free(st->locs[i].modifier);
        free(st->locs[i].path);
    }
    free(st->locs);
}

void nginx_check(struct report *rep, const char *file, const char *text, size_t len)
{
    struct ngx_state st = {.rep = rep};
    ngx_scan_dump(&st, file, text, len);
    ngx_report_includes(rep, &st);
    if (st.ntargets == 0)
        report_problem(rep, file, 1,
                       "no auth_request: the authorizer protects nothing (check `nginx -T` "
                       "output, which includes every file)");
    if (st.oom)
        report_problem(rep, file, 1, "out of memory: the check is incomplete");
    ngx_state_free(&st);
}
