/*
 * lighttpd.c - lighttpd (mod_magnet in front of mod_fastcgi): its glue, a Lua script for
 * mod_magnet, and the check of its configuration.
 *
 * The check is a scanner, not a parser: it knows just enough of lighttpd's syntax (its
 * `key = ( "k" => "v" )` lists) to find the settings below, and reports them as
 * "FILE:LINE: what is wrong".
 *
 * Detected: an authorizer-mode fastcgi.server entry without "check-local" => "disable" (the
 * authorizer is skipped whenever the path is no local file: fails open); mod_proxy listed
 * before mod_fastcgi in server.modules (mod_proxy takes the request first: fails open), or
 * mod_fastcgi not listed at all (fastcgi.server is ignored: fails open); no
 * magnet.attract-raw-url-to (nothing removes client-sent identity headers, nothing passes the
 * authorizer's answer on); no authorizer-mode fastcgi.server entry at all.
 *
 * Not detected: what is not in the input (`lighttpd -p -f lighttpd.conf` prints the whole
 * configuration with every include expanded: check that). Conditionals ($HTTP[...] and the
 * like) are scanned as if always true. Whether the glue matches the authorizer configuration
 * is not checked: compare it with `authorizer --print-glue lighttpd`.
 */
#include "webserver/webserver.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "webserver/identity.h"
#include "webserver/scan.h"

/* ---- glue ---------------------------------------------------------------------------- */

/* local NAME = { "a", "b" } */
static void lua_list(FILE *out, const char *name, const char *const *items, size_t n)
{
    fprintf(out, "local %s = {", name);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : " ", items[i]);
    fputs(n ? " }\n\n" : "}\n\n", out);
}

void lighttpd_print_glue(FILE *out, const struct identity_headers *ids)
{
    fputs("-- fcgi-authorizer glue for lighttpd (mod_magnet), printed by\n"
          "-- `authorizer --print-glue lighttpd`. Load it with\n"
          "--   magnet.attract-raw-url-to = ( \"/etc/lighttpd/authorizer.lua\" )\n"
          "-- and list mod_magnet and mod_fastcgi before mod_proxy in server.modules.\n"
          "--\n"
          "-- lighttpd runs this script twice for an allowed request: before the authorizer,\n"
          "-- and again after it, when lighttpd restarts the request with the authorizer's\n"
          "-- Variable- values in the request environment.\n"
          "--\n"
          "-- Denials reach the client as the authorizer wrote them (a sign-in redirect, every\n"
          "-- challenge and cookie). The cookies of an allow (addAuthCookiesToResponse) do\n"
          "-- not: lighttpd 1.4's mod_magnet sets one Set-Cookie at most, replacing the\n"
          "-- application's own.\n\n",
          out);
    lua_list(out, "identity", ids->name, ids->n);
    fputs("-- What an application may read as the request's host, scheme, port or path:\n"
          "-- removed as forged identities are (mod_proxy sets its own X-Forwarded-For and\n"
          "-- X-Forwarded-Proto, and X-Forwarded-Host when so configured).\n",
          out);
    size_t nrouting = 0;
    while (identity_routing_headers[nrouting])
        nrouting++;
    lua_list(out, "routing", identity_routing_headers, nrouting);
    fputs("-- The headers the authorizer reads for the auth service.\n", out);
    lua_list(out, "read", ids->read, ids->nread);
    fputs(
        "local r = lighty.r\n"
        "local env, hdr = r.req_env, r.req_header\n\n"
        "-- How an application reading CGI-style variables sees a header name: \"X_Auth_UserId\"\n"
        "-- and \"x-auth-userid\" are both X-Auth-UserId to it.\n"
        "local function spelling(name)\n"
        "  return (name:lower():gsub(\"_\", \"-\"))\n"
        "end\n"
        "local is_identity, is_read = {}, {}\n"
        "for _, name in ipairs(identity) do is_identity[spelling(name)] = true end\n"
        "for _, name in ipairs(routing) do is_identity[spelling(name)] = true end\n"
        "for _, name in ipairs(read) do is_read[spelling(name)] = true end\n\n"
        "if env[\"AUTHZ_DECISION\"] == nil then\n"
        "  -- First pass: no client may bring its own identity, in any spelling, whatever the\n"
        "  -- authorizer says; and a header it reads must come in the one spelling it is shown.\n"
        "  local forged = {}\n"
        "  for name in pairs(hdr) do\n"
        "    local s = spelling(name)\n"
        "    if is_identity[s] then\n"
        "      forged[#forged + 1] = name\n"
        "    elseif is_read[s] and name:find(\"_\", 1, true) then\n"
        "      return 400\n"
        "    end\n"
        "  end\n"
        "  for _, name in ipairs(forged) do\n"
        "    hdr[name] = nil\n"
        "  end\n"
        "  return 0\n"
        "end\n\n"
        "-- Second pass: the authorizer allowed the request. Identity comes only from it.\n"
        "for _, name in ipairs(identity) do\n"
        "  hdr[name] = env[name] -- nil (not sent by the auth service) removes the header\n"
        "end\n\n"
        "-- mod_proxy sends request.uri: the raw path as the client sent it (request.uri\n"
        "-- itself is already normalized by lighttpd), with the authorizer's query.\n"
        "local path = r.req_attr[\"request.orig-uri\"]:match(\"^[^?]*\")\n"
        "local query = env[\"AUTHZ_QUERY_STRING\"] or \"\"\n"
        "if query ~= \"\" then\n"
        "  path = path .. \"?\" .. query\n"
        "end\n"
        "r.req_attr[\"request.uri\"] = path\n"
        "return 0\n",
        out);
}

/* ---- check --------------------------------------------------------------------------- */

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

/* Skips white space and # comments, counting lines. */
static void lighttpd_skip_blank(struct lexer *lx)
{
    for (;;) {
        while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
            if (*lx->p == '\n')
                lx->line++;
            lx->p++;
        }
        if (lx->p >= lx->end || *lx->p != '#')
            return;
        while (lx->p < lx->end && *lx->p != '\n')
            lx->p++;
    }
}

/* A "string" at lx->p (a backslash escapes the next byte), into t. */
static struct ltok lighttpd_string(struct lexer *lx, struct ltok t)
{
    const char *start = lx->p, *q = start + 1;
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

static struct ltok lighttpd_word(struct lexer *lx, struct ltok t)
{
    const char *start = lx->p, *q = start;
    while (q < lx->end && lighttpd_word_char(*q))
        q++;
    t.kind = LT_WORD;
    t.text = (struct span){start, (size_t)(q - start)};
    lx->p = q;
    return t;
}

/* One punctuation mark, or two for "==", "+=", ":=", "!=", "=>" and "=~". */
static struct ltok lighttpd_punct(struct lexer *lx, struct ltok t)
{
    const char *start = lx->p;
    size_t n = 1;
    if (start + 1 < lx->end && start[1] == '=' && strchr("=+:!", *start))
        n = 2;
    else if (start + 1 < lx->end && *start == '=' && strchr(">~", start[1]))
        n = 2;
    t.kind = LT_PUNCT;
    t.text = (struct span){start, n};
    lx->p = start + n;
    return t;
}

static struct ltok lighttpd_next(struct lexer *lx)
{
    lighttpd_skip_blank(lx);
    struct ltok t = {LT_END, {lx->p, 0}, lx->line};
    if (lx->p >= lx->end)
        return t;
    if (*lx->p == '"')
        return lighttpd_string(lx, t);
    if (lighttpd_word_char(*lx->p))
        return lighttpd_word(lx, t);
    return lighttpd_punct(lx, t);
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

/* A ( ) group of fastcgi.server; a host is a group that holds "mode" => "authorizer". */
struct fcgi_group {
    size_t line;
    bool authorizer, check_local_off;
};

/* A group closes: an authorizer host must turn check-local off. */
static void lighttpd_group_end(struct lighttpd_state *st, const struct fcgi_group *g)
{
    if (!g->authorizer)
        return;
    st->authorizers++;
    if (!g->check_local_off)
        report_problem(st->rep, st->file, g->line,
                       "fastcgi.server entry in \"authorizer\" mode without "
                       "\"check-local\" => \"disable\": lighttpd skips the authorizer "
                       "for any path that is not a local file, so proxied requests pass "
                       "unchecked (fails open)");
}

/*
 * fastcgi.server = ( "/" => ( ( "mode" => "authorizer", "check-local" => "disable" ) ) ):
 * every ( ) group is one level; groups deeper than SCAN_MAX_DEPTH are not followed.
 */
static void lighttpd_fastcgi(struct lighttpd_state *st, struct lexer *lx)
{
    struct fcgi_group stack[SCAN_MAX_DEPTH];
    int depth = 0;
    struct ltok key = {LT_END, {NULL, 0}, 0}, arrow = key;
    do {
        struct ltok t = lighttpd_next(lx);
        if (t.kind == LT_END)
            return;
        if (is_punct(t, "(")) {
            if (depth < SCAN_MAX_DEPTH)
                stack[depth] = (struct fcgi_group){t.line, false, false};
            depth++;
        } else if (is_punct(t, ")")) {
            depth--;
            if (depth >= 0 && depth < SCAN_MAX_DEPTH)
                lighttpd_group_end(st, &stack[depth]);
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

/* The verdict on the whole input, once every assignment is seen. */
static void lighttpd_verdict(struct report *rep, const char *file, const struct lighttpd_state *st)
{
    if (st->authorizers == 0) {
        report_problem(rep, file, 1,
                       "no fastcgi.server entry with \"mode\" => \"authorizer\": the authorizer "
                       "protects nothing");
        return;
    }
    if (!st->fastcgi_pos)
        report_problem(rep, file, st->modules_line ? st->modules_line : 1,
                       "mod_fastcgi is not in server.modules: fastcgi.server is ignored and every "
                       "request passes unchecked (fails open)");
    else if (st->proxy_pos && st->proxy_pos < st->fastcgi_pos)
        report_problem(rep, file, st->modules_line,
                       "mod_proxy comes before mod_fastcgi in server.modules: mod_proxy takes the "
                       "request first and the authorizer is never asked (fails open)");
    if (!st->magnet_raw_url)
        report_problem(rep, file, 1,
                       "no magnet.attract-raw-url-to: nothing removes identity headers sent by the "
                       "client, and the authorizer's answer never reaches the application (load "
                       "the script printed by `authorizer --print-glue lighttpd`)");
}

void lighttpd_check(struct report *rep, const char *file, const char *text, size_t len)
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
    lighttpd_verdict(rep, file, &st);
}
