"""`authorizer --check-server` on hand-written configuration text: the syntax variants the
scanners must follow (no server is started here; test_traps.py runs the real ones)."""

import textwrap

import pytest

from conftest import run_authorizer


def check(server, text, name="-"):
    r = run_authorizer("--check-server", server, name, stdin=textwrap.dedent(text))
    return r.returncode, r.stdout


def problems(server, text):
    rc, out = check(server, text)
    assert rc == (1 if out else 0), (rc, out)
    return out.splitlines()


LIGHTTPD_OK = """
    server.modules = ( "mod_magnet", "mod_fastcgi" )
    server.modules += ( "mod_proxy" )        # appended: still after mod_fastcgi
    magnet.attract-raw-url-to = ( "/etc/lighttpd/authorizer.lua" )
    fastcgi.server = ( "/" => (( "mode" => "authorizer",
        "socket" => "/run/authorizer/authorizer.sock", "check-local" => "disable" )))
"""


def test_lighttpd_clean():
    assert problems("lighttpd", LIGHTTPD_OK) == []


@pytest.mark.parametrize("value,flagged", [('"disable"', False), ('"false"', False),
                                           ("0", False), ('"enable"', True), ('"yes"', True)])
def test_lighttpd_check_local_values(value, flagged):
    text = LIGHTTPD_OK.replace('"check-local" => "disable"', '"check-local" => ' + value)
    out = problems("lighttpd", text)
    assert bool(out) == flagged, out


def test_lighttpd_modules_order_after_reassignment():
    text = LIGHTTPD_OK.replace('server.modules += ( "mod_proxy" )',
                               'server.modules = ( "mod_proxy", "mod_magnet" )\n'
                               'server.modules += ( "mod_fastcgi" )')
    out = problems("lighttpd", text)
    assert len(out) == 1 and "mod_proxy comes before mod_fastcgi" in out[0]


def test_lighttpd_authorizer_inside_a_condition():
    out = problems("lighttpd", """
        server.modules = ( "mod_magnet", "mod_fastcgi", "mod_proxy" )
        magnet.attract-raw-url-to = ( "/etc/lighttpd/authorizer.lua" )
        $HTTP["url"] =~ "^/api" {
          fastcgi.server = ( "/" => ( "authz" => (
            "mode" => "authorizer", "bin-path" => "/usr/local/bin/authorizer",
            "bin-environment" => ( "AUTHORIZER_CONFIG" => "/usr/local/etc/authorizer.conf" ),
            "socket" => "/run/lighttpd/authorizer.sock" )))
        }
    """)
    assert len(out) == 1 and ":5: fastcgi.server entry" in out[0], out


def test_lighttpd_without_authorizer_or_glue():
    out = problems("lighttpd", """
        server.modules = ( "mod_fastcgi" )
        fastcgi.server = ( ".php" => (( "socket" => "/run/php.sock" )))
    """)
    assert len(out) == 1 and "protects nothing" in out[0]
    out = problems("lighttpd", LIGHTTPD_OK.replace("magnet.attract-raw-url-to", "# no"))
    assert len(out) == 1 and "magnet.attract-raw-url-to" in out[0]


APACHE_OK = """
    <VirtualHost *:80>
      <Location "/">
        <IfModule fcgid_module>
          FcgidAccessChecker /usr/local/bin/authorizer
        </IfModule>
        CGIPassAuth On
        Require all granted
        Header always unset Variable-AUTHZ_DECISION
      </Location>
    </VirtualHost>
"""


def test_apache_clean():
    assert problems("apache", APACHE_OK) == []


def test_apache_header_unset_variants():
    out = problems("apache", APACHE_OK.replace(
        "Header always unset Variable-AUTHZ_DECISION",
        "Header unset Variable-A\n    Header onsuccess unset variable-b\n"
        "    Header unset X-Other\n    Header always unset Variable-C"))
    assert len(out) == 2, out
    assert "Variable-A" in out[0] and "variable-b" in out[1]


def test_apache_authorizer_needs_a_user_requirement():
    text = APACHE_OK.replace("FcgidAccessChecker", "FcgidAuthorizer")
    out = problems("apache", text)
    assert len(out) == 1 and "Require all granted" in out[0]
    out = problems("apache", text.replace("Require all granted", "Require ip 10.0.0.0/8"))
    assert len(out) == 1 and "without \"Require valid-user\"" in out[0]
    assert problems("apache", text.replace(
        "Require all granted",
        "<RequireAny>\n Require valid-user\n Require ip 10.0.0.1\n </RequireAny>")) == []
    out = problems("apache", text.replace(
        "Require all granted", "<RequireAny>\n Require all granted\n </RequireAny>"))
    assert len(out) == 1 and "fails open" in out[0]


def test_apache_continuation_lines_and_missing_cgipassauth():
    out = problems("apache", """
        AuthnzFcgiDefineProvider authn authorizer fcgi://127.0.0.1:9000/
        <Location />
          AuthnzFcgiCheckAuthnProvider authorizer \\
              Authoritative On \\
              RequireBasicAuth Off
          Require valid-user
        </Location>
    """)
    assert len(out) == 1 and ":4: AuthnzFcgiCheckAuthnProvider without CGIPassAuth" in out[0]


def test_apache_dump_config_positions():
    # `apache2ctl -DDUMP_CONFIG` (mod_info) says where each directive came from.
    out = problems("apache", """
        # In file: /etc/apache2/sites-enabled/app.conf
        #  12:
        <Location "/">
          #  13:
          FcgidAccessChecker /usr/local/bin/authorizer
          #  14:
          Require all granted
        # In file: /etc/apache2/authorizer-glue.conf
          #   9:
          Header unset Variable-X-Auth-UserId
        </Location>
    """)
    assert out == [
        "/etc/apache2/authorizer-glue.conf:9: \"Header unset Variable-X-Auth-UserId\" without "
        "\"always\": mod_fcgid's Variable- headers still reach the client; write "
        "\"Header always unset\"",
        "/etc/apache2/sites-enabled/app.conf:13: FcgidAccessChecker without CGIPassAuth On: "
        "Apache withholds the Authorization header from the authorizer"]


def test_apache_without_authorizer():
    out = problems("apache", "<Location />\n  Require all granted\n</Location>\n")
    assert len(out) == 1 and "protects nothing" in out[0]


NGINX_DUMP = """\
# configuration file /etc/nginx/nginx.conf:
http {
    include /etc/nginx/sites-enabled/*;
}

# configuration file /etc/nginx/sites-enabled/app:
server {
    location / {
        include snippets/authorizer-glue.conf;
        proxy_pass http://app$authz_raw_path$authz_query;
    }
    location ~ \\.php$ {
        include fastcgi_params;       # a PHP location: none of the authorizer's business
        fastcgi_pass unix:/run/php/php-fpm.sock;
    }
    location = /.authz {
        internal;
        fastcgi_pass authorizer_fcgi;
        fastcgi_param REQUEST_URI $request_uri;
        fastcgi_param AUTHZ_PHASE auth_request;
    }
}

# configuration file /etc/nginx/snippets/authorizer-glue.conf:
auth_request /.authz;
proxy_set_header X-Auth-UserId $authz_h_x_auth_userid;
"""


def test_nginx_clean_dump():
    assert problems("nginx", NGINX_DUMP) == []


def test_nginx_stock_params_in_the_authorizer_location():
    text = NGINX_DUMP.replace("        internal;\n",
                              "        internal;\n        include /etc/nginx/fastcgi.conf;\n")
    out = problems("nginx", text)
    assert len(out) == 1, out
    assert out[0].startswith("/etc/nginx/sites-enabled/app:12: include of the stock")


def test_nginx_authorizer_location_without_its_phase():
    text = NGINX_DUMP.replace("        fastcgi_param AUTHZ_PHASE auth_request;\n", "")
    out = problems("nginx", text)
    assert len(out) == 1, out
    assert out[0].startswith("/etc/nginx/sites-enabled/app:10: the authorizer's location"), out
    assert "AUTHZ_PHASE" in out[0]


def test_nginx_prefix_location_matches_the_auth_request():
    text = NGINX_DUMP.replace("location = /.authz {", "location /.authz {").replace(
        "auth_request /.authz;", "auth_request /.authz/check;").replace(
        "        internal;\n", "        include fastcgi_params;\n")
    assert len(problems("nginx", text)) == 1


@pytest.mark.parametrize("target,flagged", [("http://app$uri", True),
                                            ("http://app${uri}$is_args$args", True),
                                            ("http://app$document_uri", True),
                                            ("http://app$request_uri", False),
                                            ("http://app$uri_prefix", False)])
def test_nginx_uri_variable_in_proxy_pass(target, flagged):
    text = NGINX_DUMP.replace("http://app$authz_raw_path$authz_query", target)
    out = problems("nginx", text)
    assert bool(out) == flagged, out
    if flagged:
        assert out[0].startswith("/etc/nginx/sites-enabled/app:4: proxy_pass with $uri")


def test_nginx_without_auth_request():
    out = problems("nginx", "server { location / { proxy_pass http://app; } }\n")
    assert len(out) == 1 and "no auth_request" in out[0]


def test_usage_errors():
    r = run_authorizer("--check-server", "caddy", "-", stdin="")
    assert r.returncode == 2
    r = run_authorizer("--check-server", "nginx", "/nonexistent/nginx.conf")
    assert r.returncode == 2
