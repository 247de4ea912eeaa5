"""What reaches the auth service, as the auth service itself recorded it."""

import pytest

from conftest import (CLIENT_ADDR, CLIENT_HOST, cgi_params, assert_allowed, assert_status_only,
                      build_config, header_values)

URI = "/protected/doc?id=7&countryId=XX"


@pytest.fixture
def fwd(auth, shared_authorizer):
    return shared_authorizer(build_config(auth.url(status=200, h="userId:1", probe="yes"),
                                          required=("Authorization", "X-Tenant"),
                                          forward=("X-Request-Id",)))


def only(entry, name):
    values = header_values(entry, name)
    assert len(values) == 1, (name, entry["headers"])
    return values[0]


def test_auth_request_headers_exact(fwd, auth, role):
    client = {
        "Authorization": "Bearer abc.def",
        "Cookie": "session=s1; theme=dark",
        "X-Tenant": "t-9",
        "X-Request-Id": "rid-123",
        "X-Forwarded-For": "6.6.6.6",
        "X-Original-URI": "/forged",
        "X-Original-Method": "DELETE",
        "X-Forwarded-Host": "evil.example",
        "X-Real-IP": "7.7.7.7",
        "X-Other": "not forwarded",
    }
    resp = fwd.request(URI, client, method="POST", role=role)
    assert resp.status == 200
    [entry] = auth.requests()
    assert entry["method"] == "GET"
    assert entry["path"] == "/auth"
    assert entry["query"] == "status=200&h=userId%3A1&probe=yes"
    assert entry["body_length"] == 0
    assert header_values(entry, "Content-Length") in ([], ["0"])
    assert header_values(entry, "Transfer-Encoding") == []
    assert only(entry, "Host") == "127.0.0.1:%d" % auth.port
    assert only(entry, "Authorization") == "Bearer abc.def"
    assert only(entry, "Cookie") == "session=s1; theme=dark"
    assert only(entry, "X-Tenant") == "t-9"
    assert only(entry, "X-Request-Id") == "rid-123"
    assert only(entry, "X-Original-URI") == URI
    assert only(entry, "X-Original-Method") == "POST"
    assert only(entry, "X-Original-URL") == "https://" + CLIENT_HOST + URI
    assert only(entry, "X-Forwarded-Method") == "POST"
    assert only(entry, "X-Forwarded-Proto") == "https"
    assert only(entry, "X-Forwarded-Host") == CLIENT_HOST
    assert only(entry, "X-Forwarded-Uri") == URI
    assert only(entry, "X-Forwarded-For") == CLIENT_ADDR
    assert header_values(entry, "X-Real-IP") == []
    assert header_values(entry, "X-Other") == []
    text = repr(entry["headers"])
    for forged in ("6.6.6.6", "/forged", "DELETE", "evil.example", "7.7.7.7"):
        assert forged not in text


def test_absent_client_headers_are_not_invented(fwd, auth):
    fwd.request("/protected", {"Authorization": "Bearer a", "X-Tenant": "t"})
    [entry] = auth.requests()
    assert header_values(entry, "Cookie") == []
    assert header_values(entry, "X-Request-Id") == []


@pytest.mark.parametrize("extra,scheme", [
    ({"REQUEST_SCHEME": "https", "HTTPS": None}, "https"),
    ({"REQUEST_SCHEME": None, "HTTPS": "on"}, "https"),
    ({"REQUEST_SCHEME": "http", "HTTPS": None}, "http"),
    ({"REQUEST_SCHEME": None, "HTTPS": None}, "http"),
    ({"REQUEST_SCHEME": None, "HTTPS": "off"}, "http"),
], ids=["scheme-https", "https-on", "scheme-http", "neither", "https-off"])
def test_scheme(fwd, auth, extra, scheme):
    resp = fwd.request("/protected?a=b", {"Authorization": "Bearer a", "X-Tenant": "t"},
                       extra=extra)
    assert resp.status == 200
    [entry] = auth.requests()
    assert only(entry, "X-Forwarded-Proto") == scheme
    assert only(entry, "X-Original-URL") == "%s://%s/protected?a=b" % (scheme, CLIENT_HOST)


def test_host_falls_back_to_server_name(fwd, auth):
    resp = fwd.request("/protected", {"Authorization": "Bearer a", "X-Tenant": "t"},
                       extra={"HTTP_HOST": None, "SERVER_NAME": "named.example"})
    assert resp.status == 200
    [entry] = auth.requests()
    assert only(entry, "X-Forwarded-Host") == "named.example"
    assert only(entry, "X-Original-URL") == "https://named.example/protected"


@pytest.mark.parametrize("extra", [{"HTTP_HOST": None, "SERVER_NAME": None},
                                   {"HTTP_HOST": "", "SERVER_NAME": ""}], ids=["absent", "empty"])
def test_no_host_at_all_is_400_without_an_auth_call(fwd, auth, extra):
    """HTTP/1.0 without Host, on a server without a name: "http:///protected" would leave the
    service to guess which site was asked for."""
    resp = fwd.request("/protected", {"Authorization": "Bearer a", "X-Tenant": "t"},
                       extra=extra)
    assert_status_only(resp, 400)
    assert auth.requests() == []


@pytest.mark.parametrize("uri", ["https://app.example.test/protected/x?y=1",
                                 "HTTPS://app.example.test/protected/x",
                                 "https://app.example.test//protected?a=b?c"])
def test_absolute_form_request_uri(fwd, auth, role, uri):
    """Apache's REQUEST_URI is the whole URL for "GET https://host/x?y": X-Original-URI and
    X-Forwarded-Uri are still the path and query, as services that parse them (oauth2-proxy,
    Authelia) expect; only X-Original-URL names the URL."""
    query = uri.split("?", 1)[1] if "?" in uri else ""
    resp = fwd.request(uri, {"Authorization": "Bearer a", "X-Tenant": "t"}, query=query,
                       role=role)
    assert resp.status == 200
    [entry] = auth.requests()
    path_and_query = "/" + uri.split("/", 3)[3]
    assert only(entry, "X-Original-URI") == path_and_query
    assert only(entry, "X-Forwarded-Uri") == path_and_query
    assert only(entry, "X-Original-URL") == "https://app.example.test" + path_and_query
    assert only(entry, "X-Forwarded-Host") == "app.example.test"


def test_absolute_form_without_the_port_of_host_tells_the_host(fwd, auth, role):
    """"GET https://app.example.test/x" with "Host: APP.example.test:8443": the same host,
    and the auth service is told the Host's spelling and port, which the upstream gets (nginx
    sends it $http_host), not the target's shorter authority."""
    resp = fwd.request("https://app.example.test/protected/x", {"Authorization": "Bearer a",
                                                                 "X-Tenant": "t"},
                       host="APP.example.test:8443", role=role)
    assert resp.status == 200
    [entry] = auth.requests()
    assert only(entry, "X-Forwarded-Host") == "APP.example.test:8443"
    assert only(entry, "X-Original-URL") == "https://APP.example.test:8443/protected/x"


@pytest.mark.parametrize("uri,host,scheme", [
    ("https://admin.example/protected/x", "public.example", "https"),
    ("https://admin.example/protected/x", "admin.example.evil", "https"),
    ("https://admin.example:444/protected/x", "admin.example:443", "https"),
    ("http://app.example.test/protected/x", "app.example.test", "https"),
    ("https://user@app.example.test/protected/x", "app.example.test", "https"),
    ("https://app.example.test@admin.example/protected/x", "app.example.test", "https"),
], ids=["other-host", "suffix", "other-port", "other-scheme", "userinfo", "userinfo-host"])
def test_absolute_form_naming_another_host_is_400(fwd, auth, role, uri, host, scheme):
    """The host the auth service is told must be the one the upstream gets: an absolute
    target that disagrees with Host (or the connection's scheme) is not decided at all."""
    resp = fwd.request(uri, {"Authorization": "Bearer a", "X-Tenant": "t"}, host=host,
                       scheme=scheme, role=role)
    assert_status_only(resp, 400)
    assert auth.requests() == []


def test_absolute_form_without_host_is_400(fwd, auth, role):
    """HTTP/1.0 "GET http://evil.test/x" without Host: Apache's proxy sends the upstream its
    own ServerName, so the host the service would be told is not the one the upstream gets."""
    resp = fwd.request("https://evil.test/protected/x", {"Authorization": "Bearer a",
                                                          "X-Tenant": "t"},
                       extra={"HTTP_HOST": None, "SERVER_NAME": "localhost"}, role=role)
    assert_status_only(resp, 400)
    assert auth.requests() == []


@pytest.mark.parametrize("name", ["HTTP_AUTHORIZATION", "HTTP_X_TENANT", "HTTP_X_REQUEST_ID",
                                  "HTTP_HOST", "REQUEST_URI", "REMOTE_ADDR"])
def test_a_field_given_twice_is_400(fwd, auth, role, name):
    """lighttpd hands "X_Tenant: a" and "X-Tenant: b" over as two HTTP_X_TENANT params: the
    authorizer would check one while the application reads the other."""
    params = cgi_params("/protected", {"Authorization": "Bearer a", "X-Tenant": "t",
                                       "X-Request-Id": "r"})
    params = list(params.items()) + [(name, dict(params).get(name, "x") + "-other")]
    resp = fwd.send(params, role=role)
    assert_status_only(resp, 400)
    assert auth.requests() == []


def test_forged_forwarded_for_without_remote_addr(fwd, auth):
    resp = fwd.request("/protected", {"Authorization": "Bearer a", "X-Tenant": "t",
                                      "X-Forwarded-For": "6.6.6.6"},
                       extra={"REMOTE_ADDR": None})
    assert resp.status == 200
    [entry] = auth.requests()
    assert header_values(entry, "X-Forwarded-For") in ([], [""])


def test_method_defaults_and_is_passed(fwd, auth):
    fwd.request("/protected", {"Authorization": "Bearer a", "X-Tenant": "t"}, method="PATCH")
    fwd.request("/protected", {"Authorization": "Bearer a", "X-Tenant": "t"},
                extra={"REQUEST_METHOD": None})
    first, second = auth.requests()
    assert only(first, "X-Original-Method") == "PATCH"
    assert only(first, "X-Forwarded-Method") == "PATCH"
    assert first["method"] == "GET"
    assert only(second, "X-Original-Method") == "GET"


def test_client_header_size_limit(fwd, auth, role):
    exact = "Bearer " + "a" * (16384 - len("Bearer "))
    resp = fwd.request("/protected", {"Authorization": exact, "X-Tenant": "t"}, role=role)
    assert_allowed(resp, [("X-Auth-UserId", "1")], "")
    [entry] = auth.requests()
    assert only(entry, "Authorization") == exact
    auth.reset()
    resp = fwd.request("/protected", {"Authorization": exact + "a", "X-Tenant": "t"},
                       role=role)
    assert_status_only(resp, 400)
    assert auth.requests() == []


@pytest.mark.parametrize("header,value", [
    ("Authorization", "Bearer a\x01b"),
    ("Authorization", "Bearer a\tb"),
    ("Cookie", "a=b\r\nX-Injected: 1"),
    ("X-Request-Id", "id\x7f"),
    ("X-Tenant", "t\n"),
    ("X-Request-Id", "x" * 100 * 1024),
], ids=["ctl", "tab", "crlf-cookie", "del", "lf-required", "100KB"])
def test_bad_client_header_is_400_without_auth_call(fwd, auth, role, header, value):
    headers = {"Authorization": "Bearer a", "X-Tenant": "t"}
    headers[header] = value
    resp = fwd.request("/protected", headers, role=role)
    assert_status_only(resp, 400)
    assert auth.requests() == []


# A NUL inside a FastCGI parameter is seen whole (the reader keeps every byte with its
# length) and refused with 400: nothing is cut short at it.


@pytest.mark.parametrize("header", ["Authorization", "X-Request-Id"])
def test_nul_in_client_header_is_400(fwd, auth, header):
    """A NUL is a control character like any other: 400, and nothing cut short at it
    reaches the auth service."""
    headers = {"Authorization": "Bearer a", "X-Tenant": "t"}
    headers[header] = "good\x00tail"
    resp = fwd.request("/protected", headers)
    assert auth.requests() == [] or all(
        "good" not in v for n, v in auth.requests()[0]["headers"]), auth.requests()
    assert_status_only(resp, 400)
