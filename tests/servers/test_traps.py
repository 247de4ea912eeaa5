"""The documented traps, each proven on the real server and caught by the checker.

Each test breaks a SHIPPED configuration the way an operator could, shows what the server
then really does (a request reaches the application without the authorizer, the
Authorization header never reaches it, Variable- headers leak, the path or the params are not
what the authorizer was given), and that `authorizer --check-server` reports it (exit 1).
The shipped configurations themselves pass the check (exit 0).
"""

import os

import pytest

from conftest import (GOOD, PROTECTED, ApacheAuthnz, ApacheFcgid, LighttpdSocket, LighttpdSpawn,
                      Nginx, etc, new_marker, read, replace_once, run_authorizer)


def check(server, text):
    r = run_authorizer("--check-server", server, "-", stdin=text)
    return r.returncode, r.stdout + r.stderr


def assert_flagged(server, text, expected):
    rc, out = check(server, text)
    assert rc == 1, out
    assert expected in out, out


def assert_unchecked(services, m, r):
    """The request reached the application and the authorizer was never asked."""
    assert r.status == 200 and r.echo is not None, r
    assert services.upstream.saw(m)
    assert services.auth.calls(m) == []


# ---- lighttpd ----


@pytest.mark.parametrize("cls", [LighttpdSpawn, LighttpdSocket], ids=lambda c: c.name)
def test_lighttpd_shipped_configuration_passes_the_check(deploy, cls):
    d = deploy(cls)
    rc, out = check("lighttpd", d.dump())
    assert rc == 0, out


LIGHTTPD_TRAPS = {
    "mod_proxy before mod_fastcgi": (
        lambda t: replace_once(t, r"^server\.modules\s*=.*$",
                               'server.modules = ( "mod_magnet", "mod_proxy", "mod_fastcgi" )'),
        "mod_proxy comes before mod_fastcgi"),
    "check-local left at its default": (
        lambda t: replace_once(t, r'^[ \t]*"check-local"\s*=>.*\n', ""),
        "without \"check-local\" => \"disable\""),
    "mod_fastcgi not loaded": (
        lambda t: replace_once(t, r"^server\.modules\s*=.*$",
                               'server.modules = ( "mod_magnet", "mod_proxy" )'),
        "mod_fastcgi is not in server.modules"),
}


@pytest.mark.parametrize("trap", sorted(LIGHTTPD_TRAPS))
def test_lighttpd_trap_fails_open_and_is_flagged(deploy, services, trap):
    mutate, message = LIGHTTPD_TRAPS[trap]
    d = deploy(LighttpdSpawn, {"site": mutate})
    m = new_marker()
    r = d.get("%s/secret?m=%s" % (PROTECTED, m))  # no Authorization at all
    assert_unchecked(services, m, r)
    assert_flagged("lighttpd", d.dump(), message)


# ---- Apache ----


@pytest.mark.parametrize("name", ["fcgid.conf", "authnz-fcgi.conf"])
def test_apache_shipped_configuration_passes_the_check(name):
    text = read(etc("apache", name)) + read(etc("apache", "authorizer-glue.conf"))
    rc, out = check("apache", text)
    assert rc == 0, out


def to_fcgid_authorizer(text):
    """FcgidAuthorizer instead of FcgidAccessChecker, "Require all granted" kept."""
    text = replace_once(text, r"^([ \t]*)FcgidAccessChecker ", r"\1FcgidAuthorizer ")
    return replace_once(text, r"^([ \t]*)FcgidAccessCheckerAuthoritative",
                        r"\1FcgidAuthorizerAuthoritative")


def to_all_granted(text):
    return replace_once(text, r"^([ \t]*)Require valid-user", r"\1Require all granted")


def without_fail_closed_rule(text):
    return replace_once(text, r"^[ \t]*RewriteRule \^ - \[F\][ \t]*\n", "")


APACHE_NEVER_CALLED = {
    "apache-fcgid FcgidAuthorizer": (ApacheFcgid, to_fcgid_authorizer),
    "apache-authnz Require all granted": (ApacheAuthnz, to_all_granted),
}


@pytest.mark.parametrize("trap", sorted(APACHE_NEVER_CALLED))
def test_apache_authorizer_never_called_is_flagged(deploy, services, trap):
    cls, mutate = APACHE_NEVER_CALLED[trap]
    # With the shipped fail-closed rule the request is refused even so ...
    d = deploy(cls, {"site": mutate})
    m = new_marker()
    r = d.get("%s/secret?m=%s" % (PROTECTED, m), [GOOD])
    assert r.status == 403 and r.echo is None, r
    assert services.auth.calls(m) == [], "the authorizer was called after all"
    assert not services.upstream.saw(m)
    assert_flagged("apache", d.site_text(), "Apache never calls it")

    # ... without it (an operator's plain ProxyPass setup) it fails open.
    d = deploy(cls, {"site": lambda t: without_fail_closed_rule(mutate(t))})
    m = new_marker()
    r = d.get("%s/secret?m=%s" % (PROTECTED, m))
    assert_unchecked(services, m, r)
    assert r.upstream_header("X-Auth-UserId") == []


@pytest.mark.parametrize("cls", [ApacheFcgid, ApacheAuthnz], ids=lambda c: c.name)
def test_apache_missing_cgipassauth_is_flagged(deploy, services, cls):
    d = deploy(cls, {"site": lambda t: replace_once(t, r"^[ \t]*CGIPassAuth On[ \t]*\n", "")})
    m = new_marker()
    r = d.get("%s/x?m=%s" % (PROTECTED, m), [GOOD])
    # The authorizer never sees Authorization: "missing header", the auth service unasked.
    assert r.status == d.status_403 and r.echo is None, r
    assert services.auth.calls(m) == []
    assert_flagged("apache", d.site_text(), "without CGIPassAuth On")


def test_apache_header_unset_without_always_leaks(deploy):
    d = deploy(ApacheFcgid,
               {"glue": lambda t: t.replace("Header always unset", "Header unset")})
    m = new_marker()
    r = d.get("%s/x?m=%s" % (PROTECTED, m), [GOOD], allow_variable=True)
    assert r.status == 200, r
    assert r.header("Variable-X-Auth-UserId") == ["42"]
    assert r.header("Variable-AUTHZ_DECISION") == ["allowed"]
    assert_flagged("apache", d.site_text() + read(d.glue_path()), 'without "always"')


# ---- nginx ----


def test_nginx_shipped_configuration_passes_the_check(deploy):
    d = deploy(Nginx)
    rc, out = check("nginx", d.dump())
    assert rc == 0, out


def test_nginx_uri_in_proxy_pass_changes_the_path(deploy):
    shipped = deploy(Nginx)
    trap = deploy(Nginx, {"site": lambda t: t.replace("$authz_raw_path$authz_query",
                                                       "$uri$authz_query")})
    for d, expected in ((shipped, "/app/x%2Fy"), (trap, "/app/x/y")):
        r = d.get("/app/x%2Fy?m=" + new_marker(), [GOOD])
        assert r.status == 200, r
        assert r.echo["target"].split("?")[0] == expected
    assert_flagged("nginx", trap.dump(), "proxy_pass with $uri")


def test_nginx_stock_fastcgi_params_send_every_param_twice(deploy, services):
    params = "/etc/nginx/fastcgi_params"
    if not os.path.exists(params) or "HTTP_HOST" not in read(params):
        pytest.skip("this nginx has no stock fastcgi_params with HTTP_HOST")

    def include_stock_params(text):
        # The operator includes the stock file, then tries to send the Host with its port.
        return replace_once(text, r"^([ \t]*)internal;\n",
                            r"\1internal;\n\1include %s;\n\1fastcgi_param HTTP_HOST $http_host;\n"
                            % params)

    shipped = deploy(Nginx)
    trap = deploy(Nginx, {"site": include_stock_params})
    m = new_marker()
    r = shipped.get("%s/x?m=%s" % (PROTECTED, m), [GOOD])
    assert r.status == 200, r
    [call] = services.auth.calls(m)
    assert ["X-Forwarded-Host", "127.0.0.1:%d" % shipped.port] in call["headers"], call
    # Both HTTP_HOST lines are sent: which one a reader takes is a guess, so the authorizer
    # refuses the subrequest instead of deciding on either. The denial phase (the shipped
    # @authz_denial, one HTTP_HOST) then finds it allowed, which fails closed: 500.
    m = new_marker()
    r = trap.get("%s/x?m=%s" % (PROTECTED, m), [GOOD])
    assert r.status == 500 and r.echo is None, r
    assert not services.upstream.saw(m)
    assert len(services.auth.calls(m)) <= 1  # the denial phase's, never the subrequest's
    assert_flagged("nginx", trap.dump(), "include of the stock FastCGI params")
