/* glue.c - see glue.h. */
#include "webserver/glue.h"

#include <ctype.h>
#include <string.h>

#include "webserver/identity.h"

const char *const glue_servers[] = {"lighttpd", "apache", "nginx", NULL};

/* nginx's name for a response header: lowercase, '-' as '_'. */
static void nginx_name(const char *header, char *out, size_t outlen)
{
    size_t i = 0;
    for (; header[i] && i + 1 < outlen; i++)
        out[i] = header[i] == '-' ? '_' : (char)tolower((unsigned char)header[i]);
    out[i] = '\0';
}

static void print_lighttpd(FILE *out, const struct identity_headers *ids)
{
    fputs("-- fcgi-authorizer glue for lighttpd (mod_magnet), printed by\n"
          "-- `authorizer --print-glue lighttpd`. Load it with\n"
          "--   magnet.attract-raw-url-to = ( \"/etc/lighttpd/authorizer.lua\" )\n"
          "-- and list mod_magnet and mod_fastcgi before mod_proxy in server.modules.\n"
          "--\n"
          "-- lighttpd runs this script twice for an allowed request: before the authorizer,\n"
          "-- and again after it, when lighttpd restarts the request with the authorizer's\n"
          "-- Variable- values in the request environment.\n\n",
          out);
    fputs("local identity = {", out);
    for (size_t i = 0; i < ids->n; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : " ", ids->name[i]);
    fputs(ids->n ? " }\n\n" : "}\n\n", out);
    fputs("local r = lighty.r\n"
          "local env, hdr = r.req_env, r.req_header\n\n"
          "if env[\"AUTHZ_DECISION\"] == nil then\n"
          "  -- First pass: no client may bring its own identity, whatever the authorizer says.\n"
          "  for _, name in ipairs(identity) do\n"
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

static void print_apache(FILE *out, const struct identity_headers *ids)
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

static void print_nginx(FILE *out, const struct identity_headers *ids)
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
}

int glue_print(FILE *out, const char *server, const struct config *cfg)
{
    struct identity_headers ids;
    identity_collect(cfg, &ids);
    if (strcmp(server, "lighttpd") == 0)
        print_lighttpd(out, &ids);
    else if (strcmp(server, "apache") == 0)
        print_apache(out, &ids);
    else if (strcmp(server, "nginx") == 0)
        print_nginx(out, &ids);
    else
        return -1;
    return 0;
}
