"""Operations: reload on SIGHUP under load, systemd socket activation, metrics, the decision
log line, the systemd units and the man pages."""

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading

import pytest

import fcgiclient
from conftest import (AUTHORIZER, HERE, SLOW, build_config, cgi_params, closed_port,
                      middleware)

TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
SRC = os.environ.get("TOP_SRCDIR") or TOP


def token_config(auth, target, **kw):
    """Token-mode auth; the identity header userId is exported under `target`."""
    return build_config(auth.url(mode="token"), headers=(("userId", target),), params=(),
                        forward=(), **kw)


def wait_serving(a):
    """Waits until the authorizer logged that it serves (its signal handling is set up)."""
    for _ in range(500 * SLOW):
        if "serving with" in a.log():
            return
        threading.Event().wait(0.01)
    raise AssertionError("the authorizer did not start: " + a.log())


def write(path, text):
    tmp = path + ".new"
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(tmp, path)  # the reload never sees a half-written file


# ---- reload ----


def test_reload_under_load_loses_no_request(auth, authorizer):
    a = authorizer(token_config(auth, "X-Old-User", workers=4))
    wait_serving(a)
    new_text = token_config(auth, "X-New-User", workers=4)
    old_text = open(a.config_path).read()
    results, errors = [], []

    def client(n, user):
        for i in range(n):
            try:
                r = a.request("/protected/x", {"Authorization": "Bearer good:%s-%d" % (user, i)})
                results.append((user, i, r))
            except Exception as e:  # a refused or broken request is a lost request
                errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(150, "u%d" % t)) for t in range(6)]
    for t in threads:
        t.start()
    # Reload back and forth while the clients run, once with an invalid file in between.
    for k in range(8):
        if k == 4:
            write(a.config_path, "middlewares = ( { name = \"x\"; } );\n")
        else:
            write(a.config_path, new_text if k % 2 == 0 else old_text)
        reloads = a.log().count("reload:")
        a.proc.send_signal(signal.SIGHUP)
        # Each reload reads the file it was signalled for: signals sent faster than they are
        # taken would merge into one (under valgrind, say).
        for _ in range(500 * SLOW):
            if a.log().count("reload:") > reloads:
                break
            threading.Event().wait(0.01)
    for t in threads:
        t.join()

    assert errors == []
    assert len(results) == 6 * 150
    for user, i, r in results:
        assert r.status_line == "Status: 200 OK", r
        names = [n for n, v in r.variables if n in ("X-Old-User", "X-New-User")]
        values = [v for n, v in r.variables if n in ("X-Old-User", "X-New-User")]
        # Each answer comes whole from one configuration, never a mix.
        assert len(names) == 1 and values == ["%s-%d" % (user, i)], r
    log = a.log()
    assert "reload:" in log and "now serving" in log
    assert re.search(r"reload: .*authorizer\.conf:1: .*still serving with the previous", log), log
    assert a.alive()

    # After a last valid reload, every new request uses the new configuration.
    write(a.config_path, new_text)
    a.proc.send_signal(signal.SIGHUP)
    for _ in range(200 * SLOW):
        r = a.request("/protected/x", {"Authorization": "Bearer good:z"})
        if ("X-New-User", "z") in r.variables:
            break
        threading.Event().wait(0.01)
    assert ("X-New-User", "z") in r.variables
    assert a.stop() == 0


def test_reload_does_not_wait_for_a_slow_request(auth, authorizer):
    """A reload retires the old configuration without waiting for the requests still using
    it: the signal thread goes on answering signals (here SIGUSR1, then a second reload)
    while a slow request holds the old one, and that request still finishes on it."""
    slow = build_config(auth.url(status=200, delay_ms=1500 * SLOW, h=["userId:slow"]),
                        headers=(("userId", "X-Old-User"),), params=(), forward=(),
                        timeout=10 * SLOW, workers=2)
    a = authorizer(slow)
    wait_serving(a)
    result = {}
    t = threading.Thread(target=lambda: result.update(r=a.request(
        "/protected/x", {"Authorization": "Bearer s"}, timeout=30 * SLOW)))
    t.start()
    for _ in range(500 * SLOW):
        if auth.requests():
            break
        threading.Event().wait(0.01)
    assert auth.requests(), "the slow request never reached the auth service"
    write(a.config_path, token_config(auth, "X-New-User", workers=2))
    a.proc.send_signal(signal.SIGHUP)
    a.proc.send_signal(signal.SIGUSR1)
    for _ in range(200 * SLOW):
        if "stats cache_hits=" in a.log():
            break
        threading.Event().wait(0.01)
    assert "stats cache_hits=" in a.log(), "SIGUSR1 waited behind the reload: " + a.log()
    assert t.is_alive(), "the slow request should still be in flight"
    r = a.request("/protected/x", {"Authorization": "Bearer good:7"})
    assert ("X-New-User", "7") in r.variables
    t.join(60 * SLOW)
    assert ("X-Old-User", "slow") in result["r"].variables, a.log()
    assert a.stop() == 0


def test_invalid_reload_keeps_the_old_configuration(auth, authorizer):
    a = authorizer(token_config(auth, "X-Old-User"))
    wait_serving(a)
    write(a.config_path, "workers = 0;\nmiddlewares = ();\n")
    a.proc.send_signal(signal.SIGHUP)
    for _ in range(200 * SLOW):
        if "still serving with the previous" in a.log():
            break
        threading.Event().wait(0.01)
    assert "authorizer.conf:1: workers: must be between 1 and 256" in a.log()
    r = a.request("/protected/x", {"Authorization": "Bearer good:7"})
    assert ("X-Old-User", "7") in r.variables
    r = a.request("/protected/x", {"Authorization": "Bearer bad"})
    assert r.status_line == "Status: 401 Unauthorized"


# ---- systemd socket activation ----


def test_systemd_socket_activation(auth, tmp_path):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    address = lsock.getsockname()
    conf = tmp_path / "authorizer.conf"
    # A `listen` in the file is not used when systemd passes a socket.
    unused = closed_port()
    conf.write_text(token_config(auth, "X-Auth-UserId", listen="127.0.0.1:%d" % unused))
    log = open(tmp_path / "log", "wb")
    # LISTEN_PID must be the authorizer's own pid: the shell execs into it.
    proc = subprocess.Popen(
        ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -c "$1"', AUTHORIZER, str(conf)],
        pass_fds=[3], preexec_fn=lambda: os.dup2(lsock.fileno(), 3),
        stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    lsock.close()
    try:
        from conftest import cgi_params
        r = fcgiclient.request(address, cgi_params("/protected/a", {"Authorization": "Bearer good:5"}))
        assert r.status_line == "Status: 200 OK"
        assert ("X-Auth-UserId", "5") in r.variables
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", unused), timeout=2).close()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
        log.close()


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    unit_src = os.path.join(SRC, "etc", "systemd")
    service = open(os.path.join(unit_src, "authorizer.service.in")).read()
    conf = tmp_path / "authorizer.conf"
    conf.write_text(build_config("http://127.0.0.1:9/auth"))
    bindir = os.path.dirname(AUTHORIZER)
    service = service.replace("@bindir@", bindir).replace("@sysconfdir@/authorizer.conf",
                                                          str(conf))
    assert "@bindir@" not in service and "@sysconfdir@" not in service
    (tmp_path / "authorizer.service").write_text(service)
    shutil.copy(os.path.join(unit_src, "authorizer.socket"), tmp_path / "authorizer.socket")
    out = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / "authorizer.socket"),
                          str(tmp_path / "authorizer.service")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for setting in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                    "ExecReload=/bin/kill -HUP $MAINPID"):
        assert setting in service


# ---- metrics ----


def scrape(path):
    """GET /metrics over the metrics listener's unix socket (no port to race for)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        raw = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 "), head
    assert b"Content-Type: text/plain" in head
    text = body.decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_match_the_requests_sent(auth, authorizer, tmp_path):
    port = str(tmp_path / "metrics.sock")
    text = build_config(middlewares=[
        middleware(auth.url(mode="token"), name="main", paths=("/protected",), forward=()),
        middleware("http://127.0.0.1:%d/auth" % closed_port(), name="down", paths=("/down",),
                   required=(), forward=()),
        middleware(auth.url(status=503), name="broken", paths=("/broken",), required=(),
                   forward=()),
    ])
    a = authorizer("metrics_listen = \"%s\";\n" % port + text)
    wait_serving(a)
    before = scrape(port)
    assert before['authorizer_decisions_total{outcome="allowed"}'] == 0
    sent = {"allowed": 7, "denied401": 3, "denied403": 2, "missing": 4, "unprotected": 5,
            "down": 2, "broken": 3, "bad": 1}
    for _ in range(sent["allowed"]):
        assert a.request("/protected/a", {"Authorization": "Bearer good"}).status_line.endswith("200 OK")
    for _ in range(sent["denied401"]):
        a.request("/protected/a", {"Authorization": "Bearer nope"})
    for _ in range(sent["denied403"]):
        a.request("/protected/a", {"Authorization": "Bearer forbidden"})
    for _ in range(sent["missing"]):
        a.request("/protected/a")
    for _ in range(sent["unprotected"]):
        a.request("/public")
    for _ in range(sent["down"]):
        a.request("/down")
    for _ in range(sent["broken"]):
        a.request("/broken")
    for _ in range(sent["bad"]):
        a.request("/bad%zz")
    m = scrape(port)
    assert m['authorizer_decisions_total{outcome="allowed"}'] == sent["allowed"]
    assert m['authorizer_decisions_total{outcome="denied"}'] == (
        sent["denied401"] + sent["denied403"] + sent["missing"])
    assert m['authorizer_decisions_total{outcome="unprotected"}'] == sent["unprotected"]
    assert m['authorizer_decisions_total{outcome="error"}'] == sent["down"] + sent["broken"]
    assert m['authorizer_decisions_total{outcome="bad_request"}'] == sent["bad"]
    assert m['authorizer_auth_responses_total{code="2xx"}'] == sent["allowed"]
    assert m['authorizer_auth_responses_total{code="401"}'] == sent["denied401"]
    assert m['authorizer_auth_responses_total{code="403"}'] == sent["denied403"]
    assert m['authorizer_auth_responses_total{code="5xx"}'] == sent["broken"]
    assert m['authorizer_errors_total{cause="connect"}'] == sent["down"]
    assert m['authorizer_errors_total{cause="status"}'] == sent["broken"]
    total = sum(sent.values())
    assert m["authorizer_decision_duration_seconds_count"] == total
    assert m['authorizer_decision_duration_seconds_bucket{le="+Inf"}'] == total
    calls = sent["allowed"] + sent["denied401"] + sent["denied403"] + sent["broken"]
    assert m["authorizer_auth_request_duration_seconds_count"] >= calls
    assert m["authorizer_requests_in_flight"] == 0


# ---- the decision log ----


def test_decision_log_line(auth, authorizer):
    a = authorizer(token_config(auth, "X-Auth-UserId"))
    a.request("/protected/a", {"Authorization": "Bearer good:SECRET-TOKEN",
                               "X-Request-Id": "req-42"})
    a.request("/protected/a", {"Authorization": "Bearer good", "X-Request-Id": "a b\x01c"})
    log = a.log()
    line = [l for l in log.splitlines() if "request_id=req-42" in l]
    assert len(line) == 1, log
    fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line[0]))
    assert fields["middleware"] == "main" and fields["status"] == "200"
    assert fields["auth_status"] == "200" and fields["path"] == "/protected/a"
    assert float(fields["ms"]) >= 0
    assert "SECRET-TOKEN" not in log
    assert "Bearer" not in log


# ---- documentation ----


def test_man_pages_render_without_warnings(tmp_path):
    man = shutil.which("man")
    if not man:
        pytest.skip("man is not installed")
    page8 = open(os.path.join(SRC, "doc", "authorizer.8.in")).read().replace(
        "@sysconfdir@", "/usr/local/etc")
    (tmp_path / "authorizer.8").write_text(page8)
    for page in (str(tmp_path / "authorizer.8"), os.path.join(SRC, "doc", "authorizer.conf.5")):
        out = subprocess.run([man, "--warnings", "-l", page], capture_output=True, text=True,
                             env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
        assert out.returncode == 0 and out.stderr.strip() == "", out.stderr
        text = re.sub(".\x08", "", out.stdout)  # overstrike bold and underline
        assert "SYNOPSIS" in text or "SETTINGS" in text


def test_every_setting_is_documented():
    """Every setting the loader accepts is in the README and in authorizer.conf(5)."""
    src = open(os.path.join(SRC, "modules", "config", "schema.c")).read()
    names = set(re.findall(r'\{"(\w+)",\s*SETTING_', src))
    assert {"listen", "workers", "url", "requiredHeaders", "tlsVerify"} <= names
    readme = open(os.path.join(SRC, "README")).read()
    page = open(os.path.join(SRC, "doc", "authorizer.conf.5")).read()
    for name in sorted(names):
        assert re.search(r"\b%s\b" % name, readme), "README lacks " + name
        assert re.search(r"\b%s\b" % name, page), "authorizer.conf.5 lacks " + name


# ---- overload ----


def abandoned_config(url, path, htpasswd):
    """One worker on a unix socket; /protected asks the service, /cached too with a cache,
    /staging checks a bcrypt htpasswd."""
    cached = middleware(url, name="cached", paths=("/cached",), forward=(), params=()).replace(
        "rule = {", "rule = {\n      cache = { ttl = 30; };", 1)
    staging = ('  { name = "staging"; type = "basicAuth"; paths = ( "/staging" );\n'
               '    rule = { htpasswd = "%s"; realm = "Staging"; }; }' % htpasswd)
    return build_config(middlewares=[middleware(url), cached, staging], workers=1, listen=path)


# (path, Authorization) of the request that is given up on, and whether it is still decided:
# an answer from the cache costs no more than the check, so it is not made.
ABANDONED = {
    "forward": ("/protected/2", "Bearer good:2", False),
    "cache-miss": ("/cached/2", "Bearer good:2", False),
    "cache-hit": ("/cached/1", "Bearer good:1", True),
    "basic": ("/staging/2", "Basic " + base64.b64encode(b"bob:pw-b").decode(), False),
}


@pytest.mark.parametrize("kind", sorted(ABANDONED))
def test_abandoned_requests_cost_no_auth_call(auth, authorizer, kind):
    """A request whose web server closed the connection while it waited for a worker is not
    sent to the auth service, nor its password hashed (unix socket); one the cache answers is
    answered. The next request is served as usual."""
    d = tempfile.mkdtemp(prefix="authz-")
    try:
        path = os.path.join(d, "a.sock")
        htpasswd = os.path.join(d, "htpasswd")
        with open(htpasswd, "w") as f:
            f.write(subprocess.run(["htpasswd", "-nbB", "-C", "5", "bob", "pw-b"], check=True,
                                   capture_output=True, text=True).stdout)
        a = authorizer(abandoned_config(auth.url(mode="token", delay_ms=800), path, htpasswd),
                       address=path)
        given_up, token, decided = ABANDONED[kind]
        if kind == "cache-hit":  # in the cache before
            r = a.request(given_up, {"Authorization": token})
            assert ("X-Auth-UserId", "1") in r.variables
        results = []
        busy = threading.Thread(target=lambda: results.append(
            a.request("/protected/1", {"Authorization": "Bearer good:1"})))
        busy.start()
        for _ in range(500 * SLOW):  # the only worker is now waiting for the auth service
            if len(auth.requests()) == 1 + (kind == "cache-hit"):
                break
            threading.Event().wait(0.01)
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(fcgiclient.build_request(cgi_params(given_up, {"Authorization": token})))
        s.close()  # the web server's client gave up
        busy.join()
        assert ("X-Auth-UserId", "1") in results[0].variables
        r = a.request("/protected/3", {"Authorization": "Bearer good:3"})
        assert ("X-Auth-UserId", "3") in r.variables
        asked = [v for e in auth.requests() for n, v in e["headers"] if n == "Authorization"]
        assert asked == ["Bearer good:1"] * (1 + (kind == "cache-hit")) + ["Bearer good:3"]
        # Decided (and logged) before /protected/3, which waited behind it for the worker.
        line = [ln for ln in a.log().splitlines() if "path=%s " % given_up in ln][-1]
        if decided:
            assert "status=200" in line and "cache=hit" in line, line
        else:
            assert 'reason="abandoned"' in line and "status=500" in line, line
    finally:
        shutil.rmtree(d, ignore_errors=True)
