"""What the authorizer answers for each kind of auth-service answer, in both roles."""

import pytest

from conftest import (assert_allowed, assert_denied, assert_status_only, build_config,
                      closed_port, middleware, SLOW)

GOOD = {"Authorization": "Bearer good"}
IDENTITY = [("X-Auth-UserId", "42"), ("X-Auth-UserCountryId", "DE")]


@pytest.fixture
def serve(auth, shared_authorizer):
    """serve(**query) -> an authorizer whose auth url scripts the service with query."""
    def get(config_kw=None, **query):
        return shared_authorizer(build_config(auth.url(**query), **(config_kw or {})))
    return get


# ---- allow ----


def test_allow_exports_identity_and_rewrites_query(serve, auth, role):
    a = serve(status=200, h=["userId:42", "userCountryId:DE"])
    resp = a.request("/protected?a=1&countryId=XX&b=2", GOOD, role=role)
    assert_allowed(resp, IDENTITY, "a=1&b=2&countryId=DE")
    assert resp.raw.startswith(b"Status: 200 OK\r\nVariable-X-Auth-UserId: 42\r\n"
                               b"Variable-X-Auth-UserCountryId: DE\r\n"
                               b"Variable-AUTHZ_QUERY_STRING: a=1&b=2&countryId=DE\r\n")
    assert resp.raw.endswith(b"\r\n\r\n")
    assert len(auth.requests()) == 1


@pytest.mark.parametrize("query,expected", [
    ("a=1&countryId=XX&b=2", "a=1&b=2&countryId=DE"),
    ("CountryID=XX&a=1", "a=1&countryId=DE"),
    ("COUNTRYID=1&countryid=2&a=3", "a=3&countryId=DE"),
    ("countryId[]=X&a=1", "a=1&countryId=DE"),
    ("countryId%5B0%5D=X&a=1", "a=1&countryId=DE"),
    ("country%49d=X&a=1", "a=1&countryId=DE"),
    ("%63ountryId=X", "countryId=DE"),
    ("x=1;countryId=X", "x=1&countryId=DE"),
    ("countryId=A&countryId=B", "countryId=DE"),
    ("countryId", "countryId=DE"),
    ("", "countryId=DE"),
    ("a=countryId&b=%20x+y&c", "a=countryId&b=%20x+y&c&countryId=DE"),
    ("z=9&y=8&x=7", "z=9&y=8&x=7&countryId=DE"),
    ("countryIdx=1&xcountryId=2", "countryIdx=1&xcountryId=2&countryId=DE"),
], ids=lambda v: v if v else "empty")
def test_query_rewrite(serve, query, expected):
    a = serve(status=200, h=["userId:42", "userCountryId:DE"])
    resp = a.request("/protected" + ("?" + query if query else ""), GOOD)
    assert_allowed(resp, IDENTITY, expected)


@pytest.mark.parametrize("value,encoded", [
    ("DE FR/\u00fc", "DE%20FR%2F%C3%BC"),
    ("a&b=c;d", "a%26b%3Dc%3Bd"),
    ("x+y%z#", "x%2By%25z%23"),
    ("-_.~AZaz09", "-_.~AZaz09"),
])
def test_param_value_is_url_encoded(serve, role, value, encoded):
    a = serve(status=200, h=["userId:42", "userCountryId:" + value])
    resp = a.request("/protected?a=1", GOOD, role=role)
    assert_allowed(resp, [("X-Auth-UserId", "42"), ("X-Auth-UserCountryId", value)],
                   "a=1&countryId=" + encoded)


def test_source_missing_removes_param_and_variable(serve, role):
    a = serve(status=200, h=["userId:7"])
    resp = a.request("/protected?a=1&countryId=XX", GOOD, role=role)
    assert_allowed(resp, [("X-Auth-UserId", "7")], "a=1")


def test_source_header_name_is_case_insensitive(serve):
    a = serve(status=200, h=["USERID:77", "usercountryid:FR"])
    resp = a.request("/protected", GOOD)
    assert_allowed(resp, [("X-Auth-UserId", "77"), ("X-Auth-UserCountryId", "FR")],
                   "countryId=FR")


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_allows(serve, role, status):
    a = serve(status=status, h=["userId:9", "userCountryId:IT"])
    resp = a.request("/api/v1/thing?q=1", GOOD, role=role)
    assert_allowed(resp, [("X-Auth-UserId", "9"), ("X-Auth-UserCountryId", "IT")],
                   "q=1&countryId=IT")


def test_unprotected_path_keeps_query_and_skips_auth(serve, auth, role):
    a = serve(status=200, h=["userId:42", "userCountryId:DE"])
    resp = a.request("/public/page?a=1&b=%20x+y;c&d", {}, role=role)
    assert_allowed(resp, [], "a=1&b=%20x+y;c&d", decision="unprotected")
    assert auth.requests() == []


def test_unprotected_without_query(serve, auth):
    a = serve(status=500)
    resp = a.request("/", {})
    assert_allowed(resp, [], "", decision="unprotected")
    assert auth.requests() == []


def test_query_taken_from_request_uri_when_query_string_absent(serve):
    a = serve(status=200, h=["userId:1", "userCountryId:DE"])
    resp = a.request("/protected?k=v&countryId=1", GOOD, query=False)
    assert_allowed(resp, [("X-Auth-UserId", "1"), ("X-Auth-UserCountryId", "DE")],
                   "k=v&countryId=DE")
    resp = a.request("/public?k=v", {}, query=False)
    assert_allowed(resp, [], "k=v", decision="unprotected")


def test_first_matching_middleware_decides(auth, shared_authorizer):
    text = build_config(middlewares=[
        middleware(auth.url(path="/first", status=403, body="first\n"), name="admin",
                   paths=("/api/admin",)),
        middleware(auth.url(path="/second", status=200, h="userId:2"), name="api",
                   paths=("/api",)),
    ])
    a = shared_authorizer(text)
    resp = a.request("/api/admin/users", GOOD)
    assert_denied(resp, 403, b"first\n")
    resp = a.request("/api/other", GOOD)
    assert_allowed(resp, [("X-Auth-UserId", "2")], "")
    assert [r["path"] for r in auth.requests()] == ["/first", "/second"]


# ---- requiredHeaders ----


@pytest.mark.parametrize("headers", [{}, {"Authorization": ""}, {"Cookie": "a=b"}],
                         ids=["absent", "empty", "other-header-only"])
def test_required_header_missing_is_403_without_auth_call(serve, auth, role, headers):
    a = serve(status=200, h="userId:1")
    resp = a.request("/protected", headers, role=role)
    assert_status_only(resp, 403)
    assert auth.requests() == []


def test_every_required_header_is_required(auth, shared_authorizer):
    a = shared_authorizer(build_config(auth.url(status=200, h="userId:1"),
                                       required=("Authorization", "X-Tenant")))
    resp = a.request("/protected", GOOD)
    assert_status_only(resp, 403)
    assert auth.requests() == []
    resp = a.request("/protected", dict(GOOD, **{"X-Tenant": "t1"}))
    assert_allowed(resp, [("X-Auth-UserId", "1")], "")
    assert len(auth.requests()) == 1


def test_required_headers_not_needed_on_unprotected_path(serve, auth):
    a = serve(status=401)
    resp = a.request("/public", {})
    assert_allowed(resp, [], "", decision="unprotected")


# ---- deny ----


def test_401_relays_www_authenticate_content_type_and_body(serve, role):
    a = serve(status=401, www='Bearer realm="api", error="invalid_token"',
              ctype="application/json", body='{"error":"expired"}')
    resp = a.request("/protected?countryId=XX", GOOD, role=role)
    assert_denied(resp, 401, b'{"error":"expired"}', "application/json",
                  'Bearer realm="api", error="invalid_token"')


def test_403_relays_content_type_and_body(serve, role):
    a = serve(status=403, ctype="text/html; charset=utf-8", body="<p>no</p>",
              h="userId:42")
    resp = a.request("/protected", GOOD, role=role)
    assert_denied(resp, 403, b"<p>no</p>", "text/html; charset=utf-8")
    assert "42" not in resp.raw.decode()


def test_403_with_www_authenticate(serve):
    a = serve(status=403, www="Bearer scope=admin", body="x")
    resp = a.request("/protected", GOOD)
    assert_denied(resp, 403, b"x", www="Bearer scope=admin")


@pytest.mark.parametrize("status", [401, 403])
def test_denial_without_body_gets_short_text(serve, role, status):
    a = serve(status=status)
    resp = a.request("/protected", GOOD, role=role)
    assert_denied(resp, status, None)
    assert resp.body.startswith(b"%d " % status) and len(resp.body) < 100, resp


@pytest.mark.parametrize("size", [8191, 8192, 8193, 20000, 1000000])
def test_denial_body_capped_at_8192(serve, size):
    a = serve(status=401, ctype="text/plain", body_size=size)
    resp = a.request("/protected", GOOD)
    assert_denied(resp, 401, b"b" * min(size, 8192), "text/plain")


@pytest.mark.parametrize("value", ["Bearer\x01realm", "Bearer realm=\"a\rb\"",
                                   "x" * 4097], ids=["ctl", "cr", "long"])
def test_unsafe_www_authenticate_is_not_relayed(serve, value):
    a = serve(status=401, h="WWW-Authenticate:" + value, body="no")
    resp = a.request("/protected", GOOD)
    assert_denied(resp, 401, b"no")
    assert resp.header("WWW-Authenticate") is None


def test_unsafe_content_type_is_not_relayed(serve):
    a = serve(status=403, h="Content-Type:text/html\rSet-Cookie: x=1", body="no")
    resp = a.request("/protected", GOOD)
    assert_denied(resp, 403, b"no")
    assert "Set-Cookie" not in resp.raw.decode()


# ---- auth service errors: fail closed ----


@pytest.mark.parametrize("status", [500, 503, 404, 400, 301, 302, 418, 999])
def test_other_status_is_500(serve, auth, role, status):
    a = serve(status=status, h=["userId:42", "Location:/x", "WWW-Authenticate:Basic"],
              body="SECRET-DETAIL")
    resp = a.request("/protected", GOOD, role=role)
    assert_status_only(resp, 500, hidden=["SECRET-DETAIL", "42"])
    assert len(auth.requests()) == 1


def test_redirect_is_not_followed(serve, auth):
    a = serve(mode="redirect")
    resp = a.request("/protected", GOOD)
    assert_status_only(resp, 500, hidden=["99"])
    assert len(auth.requests()) == 1


def test_connection_refused_is_500(auth, shared_authorizer, role):
    url = "http://127.0.0.1:%d/auth" % closed_port()
    a = shared_authorizer(build_config(url))
    resp = a.request("/protected", GOOD, role=role)
    assert_status_only(resp, 500)


def test_unreachable_auth_service_is_500(auth, shared_authorizer):
    # Not routable: the connect times out (or fails at once where there is no route).
    a = shared_authorizer(build_config("http://10.255.255.1:9/auth", timeout=0.5,
                                       connect_timeout=0.3))
    assert_status_only(a.request("/protected", GOOD), 500)


def test_tls_to_a_plain_http_service_is_500(auth, shared_authorizer):
    a = shared_authorizer(build_config(auth.url(status=200, h="userId:1").replace(
        "http://", "https://")))
    assert_status_only(a.request("/protected", GOOD), 500)


def test_slow_auth_service_past_timeout_is_500(auth, shared_authorizer, role):
    a = shared_authorizer(build_config(auth.url(mode="slow", delay_ms=5000, h="userId:1"),
                                       timeout=0.4, connect_timeout=0.2))
    resp = a.request("/protected", GOOD, role=role)
    assert_status_only(resp, 500)
    assert len(auth.requests()) == 1


def test_auth_service_that_never_finishes_its_answer_is_500_at_the_timeout(auth, authorizer):
    """Bytes keep coming, so the connection is never idle: the transfer's own timeout must
    still end it, and nothing of the half answer is exported."""
    a = authorizer(build_config(auth.url(mode="drip"), timeout=0.5, connect_timeout=0.2))
    assert_status_only(a.request("/protected", GOOD, timeout=30 * SLOW), 500)
    assert "Operation timed out" in a.log(), a.log()


HOSTILE = [
    ("close", {"mode": "close"}),
    ("reset", {"mode": "reset"}),
    ("garbage", {"mode": "garbage"}),
    ("bigbody-5MB", {"mode": "bigbody", "h": "userId:42"}),
    ("bigbody-over-1MB", {"mode": "bigbody", "n": 1024 * 1024 + 1, "h": "userId:42"}),
    ("manyheaders-20000", {"mode": "manyheaders", "h": "userId:42"}),
    ("manyheaders-101", {"mode": "manyheaders", "n": 101, "h": "userId:42"}),
    ("longheader-1MB", {"mode": "longheader", "h": "userId:42"}),
    ("longheader-20KB", {"mode": "longheader", "n": 20000, "h": "userId:42"}),
    ("fold", {"mode": "fold"}),
    ("badheader", {"mode": "badheader"}),
    ("informational-then-close", {"mode": "info_only", "early_status": 150}),
    ("101-final", {"mode": "info_only", "early_status": 101}),
    ("bad-chunk", {"mode": "badchunk", "h": "userId:42"}),
    ("short-body", {"mode": "shortbody", "h": "userId:42"}),
    # Closed before the blank line that ends the headers: whatever arrived is not trusted.
    ("truncated-headers", {"mode": "truncated", "h": ["userId:42", "userCountryId:DE"]}),
    ("truncated-mid-value", {"mode": "truncated", "h": ["userId:4242"], "cut": 28}),
    ("truncated-status-line", {"mode": "truncated", "cut": 12}),
    ("truncated-401", {"mode": "truncated", "status": 401, "www": "Bearer"}),
]


@pytest.mark.parametrize("query", [h[1] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_auth_service_is_500(serve, role, query):
    a = serve(**query)
    resp = a.request("/protected?countryId=XX", GOOD, role=role)
    assert_status_only(resp, 500, hidden=["42"])


def test_a_folded_first_header_after_a_good_answer(auth, authorizer, role):
    """A continuation line first, on a handle that already finished a transfer, once made
    libcurl read a header it had freed (and the process die): it is a 500 like any fold,
    and the worker goes on."""
    text = build_config(middlewares=[
        middleware(auth.url(mode="token"), name="good", paths=("/protected",)),
        middleware(auth.url(mode="foldfirst"), name="fold", paths=("/fold",))], workers=1)
    a = authorizer(text)
    for _ in range(5):
        assert a.request("/protected", GOOD, role=role).status == 200
        assert_status_only(a.request("/fold", GOOD, role=role), 500)
    assert a.alive(), a.log()
    assert a.request("/protected", GOOD, role=role).status == 200


def test_limits_are_not_off_by_one(serve):
    # Exactly 100 header lines and exactly 1 MB of body are still fine.
    a = serve(mode="manyheaders", n=100, h=["userId:42", "userCountryId:DE"])
    assert_allowed(a.request("/protected", GOOD), IDENTITY, "countryId=DE")
    a = serve(mode="bigbody", n=1024 * 1024, h=["userId:42", "userCountryId:DE"])
    assert_allowed(a.request("/protected", GOOD), IDENTITY, "countryId=DE")


def test_dead_auth_service_is_500(auth, authorizer, role):
    from conftest import AuthService
    other = AuthService()
    try:
        a = authorizer(build_config(other.url(status=200, h="userId:3")))
        assert_allowed(a.request("/protected", GOOD, role=role), [("X-Auth-UserId", "3")], "")
    finally:
        other.stop()  # the kept-alive connection dies with it
    resp = a.request("/protected", GOOD, role=role)
    assert_status_only(resp, 500)
    resp = a.request("/protected", GOOD, role=role)
    assert_status_only(resp, 500)


# ---- odd but valid auth answers ----


@pytest.mark.parametrize("ctl", ["cr", "tab", "del", "esc", "bel", "nel", "rawnel", "csi",
                                 "lsep", "latin1"])
def test_control_character_value_is_dropped(serve, role, ctl):
    # The service sends "userId: 4<ctl>2" and a clean "userCountryId: DE".
    a = serve(mode="ctlvalue", ctl=ctl)
    resp = a.request("/protected?countryId=XX&a=1", GOOD, role=role)
    assert b"Variable-X-Auth-UserId" not in resp.raw
    assert_allowed(resp, [("X-Auth-UserCountryId", "DE")], "a=1&countryId=DE")


@pytest.mark.parametrize("value", ["\u00a042", "42\u00a0", "\u300042", "42\ufeff",
                                   "\u200b42", "42\u2003"],
                         ids=["nbsp-first", "nbsp-last", "ideographic", "bom", "zwsp", "em"])
def test_white_space_at_an_end_of_a_value_is_dropped(serve, role, value):
    """An application that trims reads " 42" as 42: a value with white space at an end is
    not the one the auth service sent, so it is dropped, header and parameter alike."""
    a = serve(status=200, h=["userId:" + value, "userCountryId:" + value])
    resp = a.request("/protected?countryId=XX&a=1", GOOD, role=role)
    assert_allowed(resp, [], "a=1")


def test_nul_value_fails_closed(serve, role):
    """A NUL byte in an auth-response header makes libcurl refuse the whole response, so the
    answer is 500 (fail closed), never an allow, and the NUL is never emitted."""
    a = serve(mode="ctlvalue", ctl="nul")
    resp = a.request("/protected?countryId=XX&a=1", GOOD, role=role)
    assert b"\0" not in resp.raw
    assert_status_only(resp, 500)


def test_control_character_in_param_source_removes_param(serve):
    a = serve(status=200, h=["userId:5", "userCountryId:D\x01E"])
    resp = a.request("/protected?countryId=XX&a=1", GOOD)
    assert_allowed(resp, [("X-Auth-UserId", "5")], "a=1")


@pytest.mark.parametrize("length,kept", [(4096, True), (4097, False), (10000, False)])
def test_value_length_limit(serve, length, kept):
    value = "v" * length
    a = serve(status=200, h=["userId:" + value, "userCountryId:DE"])
    resp = a.request("/protected", GOOD)
    expected = ([("X-Auth-UserId", value)] if kept else []) + [("X-Auth-UserCountryId", "DE")]
    assert_allowed(resp, expected, "countryId=DE")


def test_duplicate_header_first_value_wins(serve, role):
    a = serve(mode="dupheader")
    resp = a.request("/protected", GOOD, role=role)
    assert_allowed(resp, [("X-Auth-UserId", "1"), ("X-Auth-UserCountryId", "DE")],
                   "countryId=DE")


@pytest.mark.parametrize("early_status", [100, 103])
def test_informational_response_then_final(serve, role, early_status):
    a = serve(mode="early", early_status=early_status)
    resp = a.request("/protected?countryId=XX", GOOD, role=role)
    # Only the final response's headers count: userCountryId came in the 1xx only.
    assert_allowed(resp, [("X-Auth-UserId", "42")], "")


def test_chunked_and_http10_answers_are_understood(serve, role):
    a = serve(mode="chunked", h=["userId:42", "userCountryId:DE"], body="some body text")
    assert_allowed(a.request("/protected", GOOD, role=role), IDENTITY, "countryId=DE")
    a = serve(mode="chunked", status=401, www="Bearer", ctype="text/plain",
              body="chunked denial body")
    assert_denied(a.request("/protected", GOOD, role=role), 401, b"chunked denial body",
                  "text/plain", "Bearer")
    a = serve(mode="http10", h=["userId:42", "userCountryId:DE"], body="x")
    assert_allowed(a.request("/protected", GOOD, role=role), IDENTITY, "countryId=DE")
