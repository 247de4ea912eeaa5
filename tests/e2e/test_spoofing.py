"""Spoofing: nothing a client sends under the names the authorizer or its glue use can
change a decision or an exported value."""

import pytest

from conftest import header_values

FORGED = {
    # Identity the auth service is meant to set, and what the glue reads back.
    "X-Auth-UserId": "forged-user",
    "X-Auth-UserCountryId": "XX",
    "Variable-X-Auth-UserId": "forged-variable",
    "Variable-AUTHZ_QUERY_STRING": "countryId=XX",
    # Names of the authorizer's own variables, as headers.
    "Authz-Query-String": "countryId=XX",
    "AUTHZ_QUERY_STRING": "countryId=XX",
    "Authz-Decision": "allowed",
    # What the authorizer tells the auth service about the request.
    "X-Forwarded-For": "10.9.9.9",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "gopher",
    "X-Forwarded-Uri": "/public",
    "X-Forwarded-Method": "OPTIONS",
    "X-Original-URI": "/public",
    "X-Original-URL": "https://evil.example/public",
    "X-Original-Method": "OPTIONS",
}


def test_forged_headers_never_reach_the_auth_service(auth, authorizer, make_config):
    a = authorizer(make_config(auth.url(mode="token")))
    headers = dict(FORGED, Authorization="Bearer good:7")
    r = a.request("/protected/x?countryId=XX", headers, method="GET")
    assert r.status_line == "Status: 200 OK"
    seen = auth.requests()[-1]
    assert header_values(seen, "X-Forwarded-For") == ["198.51.100.23"]
    assert header_values(seen, "X-Forwarded-Host") == ["app.example.test"]
    assert header_values(seen, "X-Forwarded-Proto") == ["https"]
    assert header_values(seen, "X-Forwarded-Uri") == ["/protected/x?countryId=XX"]
    assert header_values(seen, "X-Forwarded-Method") == ["GET"]
    assert header_values(seen, "X-Original-URI") == ["/protected/x?countryId=XX"]
    assert header_values(seen, "X-Original-Method") == ["GET"]
    assert header_values(seen, "X-Original-URL") == [
        "https://app.example.test/protected/x?countryId=XX"]
    for name in ("X-Auth-UserId", "Variable-X-Auth-UserId", "Authz-Query-String",
                 "Authz-Decision"):
        assert header_values(seen, name) == [], name


@pytest.mark.parametrize("token, status", [("Bearer nope", "401"),
                                           ("Bearer forbidden", "403")])
def test_forged_headers_never_turn_a_denial_into_an_allow(auth, authorizer, make_config, token,
                                                          status):
    a = authorizer(make_config(auth.url(mode="token")))
    r = a.request("/protected/x", dict(FORGED, Authorization=token))
    assert r.status_line.startswith("Status: " + status)
    assert r.variables == []


def test_forged_values_never_exported(auth, authorizer, make_config):
    a = authorizer(make_config(auth.url(mode="token")))
    # The service answers userId 7 and userCountryId C7 for this token.
    r = a.request("/protected/x?countryId=XX&CountryId=YY&a=1",
                  dict(FORGED, Authorization="Bearer good:7"),
                  extra={"AUTHZ_QUERY_STRING": "countryId=XX", "AUTHZ_DECISION": "allowed",
                         "X-Auth-UserId": "forged-param"})
    values = dict(r.variables)
    assert values["X-Auth-UserId"] == "7"
    assert values["X-Auth-UserCountryId"] == "C7"
    assert values["AUTHZ_QUERY_STRING"] == "a=1&countryId=C7"
    for _, v in r.variables:
        assert "forged" not in v


@pytest.mark.parametrize("query", ["?countryId=XX", "??countryId=XX", "?countryId=XX&a=1",
                                   "a=1&?countryId=XX"])
def test_forged_param_behind_a_question_mark(auth, authorizer, make_config, query):
    """For "/x??countryId=XX" the first name is "?countryId", which Node's URLSearchParams
    reads as countryId (it drops a leading '?'): removed like every other spelling."""
    a = authorizer(make_config(auth.url(mode="token")))
    for path, auth_header in (("/protected/x", "Bearer good:7"), ("/public/x", None)):
        headers = {"Authorization": auth_header} if auth_header else {}
        r = a.request(path + "?" + query, headers)
        assert r.status_line == "Status: 200 OK"
        rewritten = dict(r.variables)["AUTHZ_QUERY_STRING"]
        assert "XX" not in rewritten, (path, rewritten)
        if auth_header:
            assert rewritten.endswith("countryId=C7"), rewritten


def test_unprotected_request_exports_no_forged_identity(auth, authorizer, make_config):
    a = authorizer(make_config(auth.url(mode="token")))
    r = a.request("/public/x?countryId=XX", FORGED)
    assert r.status_line == "Status: 200 OK"
    assert [n for n, _ in r.variables] == ["AUTHZ_QUERY_STRING", "AUTHZ_DECISION"]
    assert dict(r.variables)["AUTHZ_DECISION"] == "unprotected"
    assert auth.requests() == []
