"""Sign-in, cookies and faithful denials through the five shipped deployments, with an auth
service that behaves like oauth2-proxy (tests/fixtures/authservice.py, modes oauth2 and
signin): what reaches a browser and an API client."""

import os
import subprocess
import tempfile
import urllib.parse

import pytest

from conftest import (DEPLOYMENTS, SSO, SSO_REDIRECT, SSO_START, new_marker, start_deployment,
                      variable_headers)

BROWSER = [("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")]
API = [("Accept", "application/json")]
COOKIE = ("Cookie", "_oauth2_proxy=ok")


@pytest.fixture(scope="module", params=DEPLOYMENTS, ids=lambda c: c.name)
def deployment(request, services):
    d = start_deployment(request.param, services)
    yield d
    d.stop()


def values(resp, name):
    return [v for k, v in resp.headers if k.lower() == name.lower()]


DENIED = ["_oauth2_proxy_csrf=x1; Path=/; HttpOnly",
          "_oauth2_proxy=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"]


def test_api_client_gets_401_with_the_denial_whole(deployment):
    r = deployment.get("%s/page?m=%s" % (SSO, new_marker()), API)
    assert r.status == 401, r
    assert values(r, "Location") == []
    assert r.echo is None
    assert values(r, "Set-Cookie") == DENIED
    if deployment.relays_body:
        assert r.body == b"<html>sign in</html>\n"


def test_browser_is_sent_to_sign_in_with_the_way_back(deployment, services):
    if not deployment.redirects:
        pytest.skip("%s turns every denial into 401" % deployment.name)
    m = new_marker()
    target = "%s/a%%20b/%%E2%%9C%%93?m=%s&x=%%26&y=/?#" % (SSO, m)
    r = deployment.get(target.rstrip("#"), BROWSER + [("X-Forwarded-Host", "evil.example"),
                                                      ("X-Forwarded-Uri", "/evil"),
                                                      ("X-Forwarded-Proto", "gopher")])
    assert r.status == 302, r
    start = services.auth.base + "/oauth2/start?mode=signin&rd="
    [loc] = r.header("Location")
    assert loc.startswith(start), r
    back = urllib.parse.unquote(loc[len(start):])
    assert back == "http://127.0.0.1:%d%s" % (deployment.port, target.rstrip("#")), back
    assert r.echo is None


def test_forged_host_gets_no_redirect(deployment):
    if not deployment.redirects:
        pytest.skip("%s turns every denial into 401" % deployment.name)
    r = deployment.get("%s/x?m=%s" % (SSO, new_marker()), BROWSER,
                       host="evil.example:%d" % deployment.port)
    assert r.status == 401, r
    assert values(r, "Location") == []


@pytest.mark.parametrize("suffix", [":@evil.example", ":80@evil.example"])
def test_host_hiding_another_authority_gets_no_redirect(deployment, suffix):
    """"127.0.0.1:@evil.example" names evil.example to a URL parser; nginx passes such a
    Host through to the authorizer, which refuses it (400, through the denial phase);
    lighttpd and Apache refuse it themselves (400). Before, nginx answered 302 with that
    way back."""
    r = deployment.get("%s/x?m=%s" % (SSO, new_marker()), BROWSER, host="127.0.0.1" + suffix)
    assert r.status == 400, r
    assert values(r, "Location") == []


def test_service_redirect_is_relayed_not_followed(deployment):
    if not deployment.redirects:
        pytest.skip("%s turns every denial into 401" % deployment.name)
    r = deployment.get("%s/x?m=%s" % (SSO_REDIRECT, new_marker()), BROWSER)
    assert r.status == 302, r
    assert r.header("Location") == [SSO_START]
    r = deployment.get("%s/x?m=%s" % (SSO_REDIRECT, new_marker()), API)
    assert r.status == 401, r


def test_allow_refreshes_every_cookie_separately(deployment):
    m = new_marker()
    r = deployment.get("%s/page?m=%s" % (SSO, m), BROWSER + [COOKIE])
    assert r.status == 200, r
    assert r.upstream_header("X-Auth-UserId") == ["alice"]
    if not deployment.allow_cookies:
        pytest.skip("%s cannot add the auth service's cookies to an allowed response"
                    % deployment.name)
    assert values(r, "Set-Cookie") == [
        "_oauth2_proxy=ok; Path=/; HttpOnly; SameSite=Lax",
        "_oauth2_proxy_csrf=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"]


def test_client_cookie_is_never_echoed(deployment):
    r = deployment.get("%s/page?m=%s" % (SSO, new_marker()),
                       API + [("Cookie", "mine=secret"), ("Set-Cookie", "evil=1")])
    assert r.status == 401, r
    assert not [c for c in values(r, "Set-Cookie") if "mine" in c or "evil" in c], r


def test_browser_signs_in_and_comes_back_allowed(deployment):
    """protected page -> sign-in -> back with the cookie -> allowed, as a browser does it."""
    if not deployment.redirects:
        pytest.skip("%s turns every denial into 401" % deployment.name)
    m = new_marker()
    with tempfile.TemporaryDirectory() as d:
        jar = os.path.join(d, "jar")
        out = subprocess.run(
            ["curl", "-s", "-L", "--max-redirs", "3", "-c", jar, "-b", jar,
             "-H", BROWSER[0][0] + ": " + BROWSER[0][1], "-o", os.path.join(d, "body"),
             "-w", "%{http_code} %{num_redirects}",
             "http://127.0.0.1:%d%s/page?m=%s" % (deployment.port, SSO, m)],
            capture_output=True, text=True, timeout=30)
        assert out.stdout == "200 2", out
        body = open(os.path.join(d, "body")).read()
        assert "X-Auth-UserId: alice" in body, body
        assert "_oauth2_proxy\tok" in open(jar).read()
