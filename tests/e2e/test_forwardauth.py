"""Forward auth as sign-in services expect it: faithful denials, cookies, sign-in redirects."""

import subprocess
import urllib.parse

import pytest

from conftest import AUTHORIZER, CLIENT_HOST, assert_allowed, assert_status_only, build_config

GOOD = {"Authorization": "Bearer good"}
IDENTITY = [("X-Auth-UserId", "42"), ("X-Auth-UserCountryId", "DE")]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SIGN_IN = "https://auth.example.test/oauth2/start?rd="
# Two cookies whose Expires hold a comma: comma-joining them would make one broken cookie.
COOKIES = ["a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/",
           "b=2; Expires=Thu, 22 Oct 2026 07:28:00 GMT; Path=/; HttpOnly"]


@pytest.fixture
def serve(auth, shared_authorizer):
    """serve(rule_extra, **query) -> an authorizer with those rule lines; query scripts the
    auth service."""
    def get(rule_extra=(), **query):
        return shared_authorizer(build_config(auth.url(**query), rule_extra=rule_extra,
                                              required=()))
    return get


def values(resp, name):
    return [v for n, v in resp.headers if n.lower() == name.lower()]


def rd_of(location):
    assert location.startswith(SIGN_IN), location
    return urllib.parse.unquote_to_bytes(location[len(SIGN_IN):])


# ---- faithful denials ----


@pytest.mark.parametrize("status", [401, 403])
def test_large_denial_body_keeps_status_challenge_and_a_capped_body(serve, role, status):
    a = serve(mode="bigbody", status=status, n=5 * 1024 * 1024, www='Bearer realm="big"',
              ctype="text/html")
    resp = a.request("/protected", GOOD, role=role)
    assert resp.status == status, resp
    assert values(resp, "WWW-Authenticate") == ['Bearer realm="big"']
    assert resp.header("Content-Type") == "text/html"
    assert resp.body == b"x" * 8192


def test_large_allow_body_still_fails_closed(serve):
    a = serve(mode="bigbody", n=5 * 1024 * 1024, h="userId:42")
    assert_status_only(a.request("/protected", GOOD), 500, hidden=["42"])


def test_every_challenge_location_and_type_are_relayed(serve, role):
    a = serve(status=401, h=['WWW-Authenticate:Bearer realm="a"', "WWW-Authenticate:Basic realm=b",
                             "Location:https://auth.example.test/login", "Content-Type:text/html"],
              body="<p>no</p>")
    resp = a.request("/protected", GOOD, role=role)
    assert resp.status_line == "Status: 401 Unauthorized"
    assert values(resp, "WWW-Authenticate") == ['Bearer realm="a"', "Basic realm=b"]
    assert values(resp, "Location") == ["https://auth.example.test/login"]
    assert resp.header("Content-Type") == "text/html"
    assert resp.body == b"<p>no</p>"


def test_denial_cookies_reach_the_client_each_on_its_own(serve, role):
    a = serve(status=403, h=["Set-Cookie:" + c for c in COOKIES], body="no")
    resp = a.request("/protected", GOOD, role=role)
    assert resp.status == 403
    assert values(resp, "Set-Cookie") == COOKIES


@pytest.mark.parametrize("bad", ["a=1\x01", "a=1\rX-Injected: yes", "a=1\x7f", "a=1\tb"])
def test_unsafe_cookie_is_dropped_and_the_others_stay(serve, bad):
    a = serve(status=401, h=["Set-Cookie:" + bad, "Set-Cookie:ok=1"])
    resp = a.request("/protected", GOOD)
    assert resp.status == 401
    assert values(resp, "Set-Cookie") == ["ok=1"]
    assert values(resp, "X-Injected") == []


def test_nul_in_a_cookie_fails_closed(serve):
    a = serve(status=401, h=["Set-Cookie:a=1\x00b", "Set-Cookie:ok=1"])
    assert_status_only(a.request("/protected", GOOD), 500)


def test_client_cookies_are_never_echoed(serve, auth):
    a = serve(status=401)
    resp = a.request("/protected", dict(GOOD, Cookie="session=secret",
                                        **{"Set-Cookie": "evil=1"}))
    assert resp.status == 401
    assert values(resp, "Set-Cookie") == []
    assert b"secret" not in resp.raw and b"evil" not in resp.raw
    names = [n.lower() for n, _ in auth.requests()[-1]["headers"]]
    assert "set-cookie" not in names


# ---- cookies of an allow ----


def test_allow_cookies_only_with_add_auth_cookies(serve, role):
    query = dict(status=200, h=["userId:42", "userCountryId:DE"] + ["Set-Cookie:" + c
                                                                  for c in COOKIES])
    plain = serve(**query).request("/protected", GOOD, role=role)
    assert_allowed(plain, IDENTITY, "countryId=DE")
    resp = serve(["addAuthCookiesToResponse = true;"], **query).request("/protected", GOOD,
                                                                       role=role)
    assert resp.status == 200
    assert [v for n, v in resp.variables if n.startswith("AUTHZ_SET_COOKIE")] == COOKIES
    assert [n for n, v in resp.variables if n.startswith("AUTHZ_SET_COOKIE")] == [
        "AUTHZ_SET_COOKIE_1", "AUTHZ_SET_COOKIE_2"]
    assert values(resp, "Set-Cookie") == []  # only the glue adds them to the response


LOST_COOKIES = "more Set-Cookie headers on an allow than are passed on"


@pytest.mark.parametrize("count", [8, 12])
def test_at_most_eight_allow_cookies_and_the_log_says_when_some_were_not_passed(
        auth, authorizer, count):
    a = authorizer(build_config(auth.url(status=200, h=["Set-Cookie:c%d=1" % i
                                                        for i in range(count)]),
                                rule_extra=["addAuthCookiesToResponse = true;"], required=()))
    resp = a.request("/protected", GOOD)
    got = [v for n, v in resp.variables if n.startswith("AUTHZ_SET_COOKIE")]
    assert got == ["c%d=1" % i for i in range(8)]
    assert (LOST_COOKIES in a.log()) == (count > 8), a.log()


def test_an_answer_with_cookies_is_not_cached(serve, auth):
    a = serve(["addAuthCookiesToResponse = true;", "cache = { ttl = 60; };"], status=200,
              h=["userId:42", "Set-Cookie:s=1"])
    auth.reset()
    for _ in range(3):
        resp = a.request("/protected", GOOD)
        assert [v for n, v in resp.variables if n == "AUTHZ_SET_COOKIE_1"] == ["s=1"]
    assert len(auth.requests()) == 3


# ---- the sign-in redirect ----


@pytest.mark.parametrize("headers,redirected", [
    (BROWSER, True),
    ({"Accept": "text/html"}, True),
    ({"Accept": "application/xhtml+xml"}, True),
    ({"Accept": "text/html;q=0.9, application/json;q=0.9"}, True),
    ({"Accept": "*/*"}, False),
    ({}, False),
    ({"Accept": "application/json"}, False),
    ({"Accept": "application/json, text/html;q=0.5"}, False),
    ({"Accept": "text/html;q=0"}, False),
    (dict(BROWSER, **{"X-Requested-With": "XMLHttpRequest"}), False),
    (dict(BROWSER, **{"X-Requested-With": "xmlhttprequest"}), False),
], ids=["browser", "html", "xhtml", "tie", "any", "none", "json", "json-first", "html-q0",
        "xhr", "xhr-lower"])
def test_who_is_sent_to_sign_in(serve, role, headers, redirected):
    a = serve(['signIn = "%s";' % SIGN_IN], status=401, www='Bearer realm="x"', body="login")
    resp = a.request("/protected?a=1", headers, role=role)
    if redirected:
        assert resp.status_line == "Status: 302 Found", resp
        assert rd_of(resp.header("Location")) == b"https://" + CLIENT_HOST.encode() + \
            b"/protected?a=1"
        assert values(resp, "WWW-Authenticate") == []
        assert b"login" not in resp.body
    else:
        assert resp.status_line == "Status: 401 Unauthorized", resp
        assert values(resp, "WWW-Authenticate") == ['Bearer realm="x"']
        assert values(resp, "Location") == []
        assert resp.body == b"login"


def test_403_is_never_a_sign_in(serve):
    a = serve(['signIn = "%s";' % SIGN_IN], status=403)
    assert a.request("/protected", BROWSER).status == 403


@pytest.mark.parametrize("uri", [
    "/protected?next=/a&b=%2F#frag",
    "/protected/%25zz?q=%E2%9C%93&x=?&y=%",
    "/protected/\u00fc\u2713",
    "/protected/" + "a" * 4096 + "?" + "b=" + "%" * 40,
], ids=["query-hash", "percent", "unicode", "4KB"])
def test_rd_is_the_raw_url_percent_encoded(serve, uri):
    a = serve(['signIn = "%s";' % SIGN_IN], status=401)
    resp = a.request(uri, BROWSER)
    assert resp.status == 302, resp
    loc = resp.header("Location")
    encoded = loc[len(SIGN_IN):]
    # Nothing but unreserved characters and %XX: the URL is one value of the parameter.
    assert all(c.isalnum() or c in "-._~%" for c in encoded), encoded
    assert rd_of(loc) == b"https://" + CLIENT_HOST.encode() + uri.encode("utf-8")


def test_rd_uses_the_server_name_without_allowed_hosts(serve):
    a = serve(['signIn = "%s";' % SIGN_IN], status=401)
    resp = a.request("/protected", BROWSER, host="evil.example",
                     extra={"SERVER_NAME": "app.example.test", "SERVER_PORT": "8443"})
    assert rd_of(resp.header("Location")) == b"https://app.example.test:8443/protected"


def test_rd_takes_an_allowed_host_and_refuses_a_forged_one(serve):
    a = serve(['signIn = "%s";' % SIGN_IN,
               'allowedHosts = ( "app.example.test", "other.example.test:8443" );'], status=401,
              www="Bearer")
    ok = a.request("/protected", BROWSER, host="App.Example.Test:444")
    assert rd_of(ok.header("Location")) == b"https://App.Example.Test:444/protected"
    ok = a.request("/protected", BROWSER, host="other.example.test:8443")
    assert rd_of(ok.header("Location")) == b"https://other.example.test:8443/protected"
    for forged in ("evil.example", "other.example.test:9", "app.example.test.evil.example"):
        resp = a.request("/protected", BROWSER, host=forged)
        assert resp.status == 401, (forged, resp)
        assert values(resp, "WWW-Authenticate") == ["Bearer"]
        assert values(resp, "Location") == []


@pytest.mark.parametrize("host", ["app.example.test:@evil.example",
                                  "app.example.test:80@evil.example", "app.example.test:8x",
                                  "app.example.test\\evil.example", "app.example.test/evil"])
def test_a_host_that_names_another_authority_is_refused(serve, host):
    """A Host whose "port" hides user information: a URL parser reads the way back as
    another host; nginx passes such a Host through, so the authorizer must refuse it."""
    a = serve(['signIn = "%s";' % SIGN_IN, 'allowedHosts = ( "app.example.test" );'],
              status=401)
    resp = a.request("/protected", BROWSER, host=host)
    assert resp.status == 400, (host, resp)
    assert values(resp, "Location") == []


def test_rd_refuses_a_server_name_that_is_not_a_host(serve):
    a = serve(['signIn = "%s";' % SIGN_IN], status=401, www="Bearer")
    resp = a.request("/protected", BROWSER, extra={"SERVER_NAME": "app.example.test:@evil"})
    assert resp.status == 401 and values(resp, "Location") == []


def test_forwarded_headers_never_change_rd(serve):
    a = serve(['signIn = "%s";' % SIGN_IN], status=401)
    forged = dict(BROWSER, **{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "gopher",
                              "X-Forwarded-Uri": "/evil", "X-Original-URL": "https://evil/"})
    resp = a.request("/protected?x=1", forged, scheme="http")
    assert rd_of(resp.header("Location")) == b"http://" + CLIENT_HOST.encode() + \
        b"/protected?x=1"


def test_sign_in_keeps_the_denial_cookies(serve):
    a = serve(['signIn = "%s";' % SIGN_IN], status=401, h=["Set-Cookie:" + c for c in COOKIES])
    resp = a.request("/protected", BROWSER)
    assert resp.status == 302
    assert values(resp, "Set-Cookie") == COOKIES


# ---- a redirect the auth service answers ----


def test_service_redirect_without_sign_in_fails_closed(serve):
    a = serve(status=302, h=["Location:https://auth.example.test/start"])
    assert_status_only(a.request("/protected", BROWSER), 500)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_service_redirect_is_relayed_to_a_browser_never_followed(serve, auth, status):
    target = auth.url(status=200, h="userId:99")  # followed, it would allow
    a = serve(['signIn = "%s";' % SIGN_IN], status=status, h=["Location:" + target,
                                                            "Set-Cookie:csrf=1"])
    auth.reset()
    resp = a.request("/protected", BROWSER)
    assert resp.status_line == "Status: 302 Found", resp
    assert resp.header("Location") == target
    assert values(resp, "Set-Cookie") == ["csrf=1"]
    assert resp.variables == []
    assert len(auth.requests()) == 1


def test_service_redirect_is_a_401_for_an_api_client(serve):
    a = serve(['signIn = "%s";' % SIGN_IN], status=302,
              h=["Location:https://auth.example.test/start"])
    resp = a.request("/protected", {"Accept": "application/json"})
    assert resp.status_line == "Status: 401 Unauthorized", resp
    assert values(resp, "Location") == []


@pytest.mark.parametrize("location", ["//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                                      "evil.example", ""])
def test_hostile_service_location_fails_closed(serve, location):
    a = serve(['signIn = "%s";' % SIGN_IN], status=302, h=["Location:" + location])
    assert_status_only(a.request("/protected", BROWSER), 500)


# ---- configuration ----


@pytest.mark.parametrize("line,message", [
    ('signIn = "ftp://x/";', "must start with http:// or https://"),
    ('signIn = "https://x/?rd=\\n";', "control characters"),
    ('allowedHosts = ( "a/b" );', "is not a host name"),
    ('allowedHosts = "a";', "non-empty list"),
    ('addAuthCookiesToResponse = "yes";', "addAuthCookiesToResponse"),
    ('headers = { Set-Cookie = "X-Cookie"; };', "cannot be exported"),
])
def test_check_refuses(auth, tmp_path, line, message):
    conf = tmp_path / "a.conf"
    conf.write_text(build_config(auth.url(), rule_extra=[line], headers=()))
    out = subprocess.run([AUTHORIZER, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert out.returncode == 1, out
    assert message in out.stderr + out.stdout, out


# ---- nginx's two phases (etc/nginx: auth_request, then error_page asks again) ----


@pytest.mark.parametrize("status,expected", [(401, 401), (403, 403)])
def test_auth_request_phase_gets_the_status_alone(serve, status, expected):
    a = serve(status=status, www="Bearer", h=["Set-Cookie:a=1"], body="page")
    resp = a.request("/protected", GOOD, extra={"AUTHZ_PHASE": "auth_request"})
    assert resp.status == expected, resp
    assert resp.headers == [("Content-Length", "0")], resp
    assert resp.body == b""


def test_auth_request_phase_turns_a_sign_in_into_401(serve):
    a = serve(['signIn = "%s";' % SIGN_IN], status=401)
    resp = a.request("/protected", BROWSER, extra={"AUTHZ_PHASE": "auth_request"})
    assert resp.raw == b"Status: 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
    again = a.request("/protected", BROWSER, extra={"AUTHZ_PHASE": "denial"})
    assert again.status == 302 and again.header("Location").startswith(SIGN_IN), again


@pytest.mark.parametrize("uri,headers", [
    ("/protected/a%00b", GOOD),                                     # refused before a view
    ("/protected", dict(GOOD, **{"X-Request-Id": "a\x01b"})),      # refused by the rule
    ("/protected", dict(GOOD, **{"X-Request-Id": "x" * 20000})),
], ids=["encoded-nul", "control-in-forwarded", "forwarded-too-long"])
def test_auth_request_phase_turns_a_bad_request_into_403(serve, auth, uri, headers):
    """auth_request makes any status but 401 and 403 a 500: a bad request goes as 403, which
    the glue's error_page asks about again, and the denial phase answers 400 whole."""
    a = serve(status=200, h=["userId:42"])
    resp = a.request(uri, headers, extra={"AUTHZ_PHASE": "auth_request"})
    assert resp.raw == b"Status: 403 Forbidden\r\nContent-Length: 0\r\n\r\n", resp
    again = a.request(uri, headers, extra={"AUTHZ_PHASE": "denial"})
    assert_status_only(again, 400)
    plain = a.request(uri, headers)
    assert_status_only(plain, 400)
    assert auth.requests() == []
    assert "status=400" in a.log()


def test_auth_request_phase_allows_as_usual(serve):
    a = serve(status=200, h=["userId:42", "userCountryId:DE"])
    resp = a.request("/protected", GOOD, extra={"AUTHZ_PHASE": "auth_request"})
    assert_allowed(resp, IDENTITY, "countryId=DE")


def test_denial_phase_never_allows(serve):
    a = serve(status=200, h=["userId:42", "userCountryId:DE"])
    resp = a.request("/protected", GOOD, extra={"AUTHZ_PHASE": "denial"})
    assert_status_only(resp, 500, hidden=["42"])
    resp = a.request("/elsewhere", GOOD, extra={"AUTHZ_PHASE": "denial"})
    assert_status_only(resp, 500)


def test_denial_phase_relays_the_denial_whole(serve):
    a = serve(status=403, h=["Set-Cookie:a=1", "Set-Cookie:b=2"], ctype="text/html", body="<b>")
    resp = a.request("/protected", GOOD, extra={"AUTHZ_PHASE": "denial"})
    assert resp.status == 403
    assert values(resp, "Set-Cookie") == ["a=1", "b=2"]
    assert resp.body == b"<b>"


# ---- the gateway's forwardAuth names ----


def forward_auth_config(url, *lines):
    return ('workers = 2;\nmiddlewares = ( { name = "fa"; type = "forwardAuth";\n'
            '  paths = ( "/protected", "/api/*" );\n  rule = {\n    authUrl = "%s";\n%s\n  };\n'
            '} );\n' % (url, "\n".join("    " + line for line in lines)))


def test_forward_auth_names_map_onto_the_settings(auth, shared_authorizer):
    a = shared_authorizer(forward_auth_config(
        auth.url(status=200, h=["userId:42", "X-Plain:p", "userCountryId:DE", "Set-Cookie:s=1"]),
        'authSignIn = "%s";' % SIGN_IN,
        'authRequestHeaders = ( "X-Api-Key" );',
        'authResponseHeaders = ( "userId: X-Auth-UserId", "X-Plain" );',
        'authResponseHeadersAsParams = ( "userCountryId: countryId" );',
        "addAuthCookiesToResponse = true;",
        "forwardHostHeaders = false;"))
    auth.reset()
    resp = a.request("/protected?countryId=XX&a=1", {"X-Api-Key": "k1", "X-Other": "o"})
    assert resp.status == 200, resp
    got = [(n, v) for n, v in resp.variables if n != "AUTHZ_DECISION"]
    assert got == [("X-Auth-UserId", "42"), ("X-Plain", "p"), ("AUTHZ_SET_COOKIE_1", "s=1"),
                   ("AUTHZ_QUERY_STRING", "a=1&countryId=DE")]
    sent = {n.lower(): v for n, v in auth.requests()[-1]["headers"]}
    assert sent["x-api-key"] == "k1"
    assert "x-other" not in sent
    assert "x-forwarded-host" not in sent and "x-original-url" not in sent
    assert sent["x-forwarded-uri"] == "/protected?countryId=XX&a=1"


def test_forward_auth_sign_in_and_host_headers_by_default(auth, shared_authorizer):
    a = shared_authorizer(forward_auth_config(auth.url(status=401),
                                              'authSignIn = "%s";' % SIGN_IN))
    auth.reset()
    resp = a.request("/protected", BROWSER)
    assert resp.status == 302 and resp.header("Location").startswith(SIGN_IN), resp
    sent = {n.lower(): v for n, v in auth.requests()[-1]["headers"]}
    assert sent["x-forwarded-host"] == CLIENT_HOST


@pytest.mark.parametrize("lines,message", [
    (['url = "http://127.0.0.1:1/";'], "give url or this, not both"),
    (['signIn = "https://a/";', 'authSignIn = "https://b/";'], "give signIn or this"),
    (['authSignIn = "ftp://a/";'], "must start with http:// or https://"),
    (['headers = { a = "X-A"; };', 'authResponseHeaders = ( "b" );'], "give headers or this"),
    (['authResponseHeaders = ( "a: Host" );'], "the web server's own header"),
    (['authResponseHeaders = ( ": X" );'], "must be \"Name\" or \"From: To\""),
    (['authResponseHeaders = ( "Set-Cookie" );'], "cannot be exported"),
    (['authResponseHeadersAsParams = ( "a: b c" );'], "may contain only"),
    (['authRequestHeaders = ( "Host" );'], "set by the authorizer itself"),
    (['jwksUrl = "https://idp/jwks";'], "forwardAuth rule asks an auth service"),
    (['forwardHostHeaders = 1;'], "forwardHostHeaders"),
])
def test_forward_auth_check_refuses(tmp_path, lines, message):
    conf = tmp_path / "a.conf"
    conf.write_text(forward_auth_config("http://127.0.0.1:9/auth", *lines))
    out = subprocess.run([AUTHORIZER, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert out.returncode == 1, out
    assert message in out.stderr + out.stdout, out


def test_forward_auth_needs_auth_url(tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text('middlewares = ( { name = "fa"; type = "forwardAuth"; paths = ( "/p" );\n'
                    '  rule = { authSignIn = "https://a/?rd="; }; } );\n')
    out = subprocess.run([AUTHORIZER, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert out.returncode == 1 and "authUrl" in out.stderr, out
