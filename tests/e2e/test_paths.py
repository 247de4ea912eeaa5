"""Which request paths are protected, through the real binary.

The auth service answers 401 for everything, so a protected path shows as 401 with exactly
one auth call, an unprotected one as 200 with none, a malformed one as 400 with none.
"""

import pytest

from conftest import assert_allowed, assert_denied, assert_status_only, build_config

PROTECTED = [
    "/protected",
    "/Protected",
    "/PROTECTED/x",
    "//protected",
    "/%70rotected",
    "/protected;jsessionid=1",
    "/PrOtEcTeD;a=b/c",
    "/protected%3Bx",
    "/protected/",
    "/protected/sub/deeper",
    "/protected?x=1",
    "/protected?",
    "/%2570rotected",
    "/%2fprotected",
    "/protected%2Fx",
    "/;x/protected",
    "/files/a.pd%66",
    "/files/a.pdf;v=1",
    "https://app.example.test/protected",
    "https://APP.example.test/Protected/x?y=1",
    "/api",
    "/api/",
    "/api/v1/users",
    "/API/V1",
    "/files/report.pdf",
    "/files/REPORT.PDF",
    "/files/.pdf",
    "/files/a.pdf/x",
    "/files/a%2epdf",
    "/files//a.pdf",
    # Node's URL parser skips any run of slashes and backslashes before a host: the path
    # after "evil" is /api/x to it, also when the run is encoded and decoded first.
    "///evil/api/x",
    "//\\evil/api/x",
    "/\\/evil/api/x",
    "////evil/api/x",
    "/%2F/evil/api/x",
    "/%5C%5Cevil/api/x",
    "/%252F%252Fevil/api/x",
    # Java's equalsIgnoreCase reads the dotted and the dotless i as 'i'.
    "/AP%C4%B0/x",
    "/ap%C4%B1/v1",
]

UNPROTECTED = [
    "/",
    "/protectedx",
    "/protected-x",
    "/prot",
    "/public",
    "/public/protected",
    "/x/protected",
    "/%70ublic",
    "/public?next=/protected",
    "/public?/protected",
    "/apix",
    "/apis/v1",
    "/files",
    "/files/a.txt",
    "/files/a.pdfx",
    "/files/x/a.pdf",
    "/filesx/a.pdf",
    "https://app.example.test/public",
]

# Dot segments, however written, in protected and unprotected paths alike: 400. Servers
# resolve "/api/.." to "/", but routers that keep dot segments (Werkzeug) route it below /api.
DOT_SEGMENTS = [
    "/x/../protected",
    "/x/%2e%2e/protected",
    "/x/%2E%2E/protected",
    "/public/.%2e/protected",
    "/public/..;/protected",
    "/public%2F..%2Fprotected",
    "/public%2f..%2fprotected",
    "/public/..%2Fprotected",
    "/./protected",
    "/protected/./",
    "/x/%252e%252e/protected",
    "/public%252F..%252Fprotected",
    "/x\\..\\protected",
    "/x%5C..%5Cprotected",
    "/x%5c..%5cprotected",
    "/public\\..\\Protected\\x",
    "/a/b/../../protected",
    "/public/%2e%2e;/protected",
    "/public/../api/x",
    "/protected/../public",
    "/api/..",
    "/api/.",
    "/api/%2e%2e",
    "/api/%2E%2E/",
    "/api/.%2e",
    "/api/%2e.",
    "/api/x/../..",
    "/api/x/../../public",
    "/protected/..",
    "/protected/.",
    "/protected\\..",
    "/protected%5C..",
    "/protected%2F..",
    "/protected/%252e%252e",
    "/protected/..;x",
    "/protected/...",
    "/protected/..%20",
    "/protected/%EF%BC%8E%EF%BC%8E",
    "//evil/protected/..",
    "/..",
    "/.",
    "/public/./x",
]

MALFORMED = [
    "/%zz",
    "/%4",
    "/protected%4",
    "/protected%",
    "/%g0protected",
    "/%00",
    "/protected%00",
    "/public%00/../protected",
    "/%0a",
    "/protected%0D%0AX:1",
    "/x%1f",
    "/%7f",
]


@pytest.fixture
def deny_all(auth, shared_authorizer):
    return shared_authorizer(build_config(auth.url(status=401, www='Bearer realm="t"',
                                                   body="denied"),
                                          required=()))


@pytest.mark.parametrize("uri", PROTECTED)
def test_protected(deny_all, auth, role, uri):
    resp = deny_all.request(uri, {}, role=role)
    assert_denied(resp, 401, b"denied", www='Bearer realm="t"')
    [entry] = auth.requests()
    path_and_query = uri if uri.startswith("/") else "/" + uri.split("/", 3)[3]
    assert [v for n, v in entry["headers"] if n == "X-Original-URI"] == [path_and_query]


@pytest.mark.parametrize("uri", UNPROTECTED)
def test_unprotected(deny_all, auth, role, uri):
    resp = deny_all.request(uri, {}, role=role)
    query = uri.split("?", 1)[1] if "?" in uri else ""
    assert_allowed(resp, [], query, decision="unprotected")
    assert auth.requests() == []


@pytest.mark.parametrize("uri", MALFORMED)
def test_malformed_path_is_400(deny_all, auth, role, uri):
    resp = deny_all.request(uri, {}, role=role)
    assert_status_only(resp, 400)
    assert auth.requests() == []


@pytest.mark.parametrize("uri", DOT_SEGMENTS)
def test_dot_segment_is_400(deny_all, auth, role, uri):
    resp = deny_all.request(uri, {}, role=role)
    assert_status_only(resp, 400)
    assert auth.requests() == []


@pytest.mark.parametrize("uri", ["", " ", "/protected x", "/pro\ttected", "/public\x01",
                                 "/protected\r\nX: y", "/public\x7f"],
                         ids=["empty", "space", "inner-space", "tab", "ctl", "crlf", "del"])
def test_bad_request_uri_is_400(deny_all, auth, role, uri):
    resp = deny_all.request(uri, {}, role=role, query="")
    assert_status_only(resp, 400)
    assert auth.requests() == []


def test_missing_request_uri_is_400(deny_all, auth, role):
    resp = deny_all.request("/protected", {}, role=role, extra={"REQUEST_URI": None})
    assert_status_only(resp, 400)
    assert auth.requests() == []


# A NUL inside a FastCGI parameter is seen whole (the reader keeps every byte with its
# length) and refused with 400: nothing is cut short at it.


def test_nul_in_request_uri_is_400(deny_all, auth):
    """REQUEST_URI "/public<NUL>/../protected": a control character, so 400 by contract.
    Read as a C string it is "/public" (unprotected) - it must not be let through."""
    resp = deny_all.request("/public\x00/../protected", {}, query="")
    assert resp.status != 200, resp
    assert_status_only(resp, 400)


def test_very_long_path_is_not_allowed(deny_all, auth, role):
    resp = deny_all.request("/protected/" + "a" * 100 * 1024, {}, role=role, query="")
    assert_status_only(resp, 400)
    assert auth.requests() == []


def test_long_but_acceptable_path_is_still_protected(deny_all, auth):
    resp = deny_all.request("/protected/" + "a" * 4000, {})
    assert resp.status == 401
    assert len(auth.requests()) == 1


def test_glob_star_alone_protects_everything(auth, shared_authorizer):
    a = shared_authorizer(build_config(auth.url(status=403, body="no"), paths=("/*",),
                                       required=()))
    for uri in ("/", "/anything", "/a/b/c?d=e", "/%70"):
        assert_denied(a.request(uri, {}), 403, b"no")
    assert len(auth.requests()) == 4
