"""basicAuth middlewares: hashes made by Apache's own htpasswd (apache2-utils) for every
format it writes, checked by the authorizer; answers, bounds, reloads and the cache."""

import base64
import os
import shutil
import subprocess
import threading
import time
import urllib.request

import pytest

import procs
from conftest import AUTHORIZER_CMD, SLOW, assert_allowed, assert_denied, assert_status_only

HTPASSWD = shutil.which("htpasswd")
pytestmark = pytest.mark.skipif(not HTPASSWD, reason="htpasswd (apache2-utils) not installed")
CHALLENGE = 'Basic realm="Staging", charset="UTF-8"'


def line(user, password, flag="-B"):
    extra = ["-C", "5"] if flag == "-B" else []
    out = subprocess.run([HTPASSWD, "-nb", flag] + extra + [user, password], check=True,
                         capture_output=True, text=True).stdout
    return out.strip()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def config(path, extra="", metrics=None):
    top = 'metrics_listen = "127.0.0.1:%d";\n' % metrics if metrics else ""
    return (top + 'log_level = "info";\nworkers = 4;\nmiddlewares = (\n'
            '  { name = "staging"; type = "basicAuth"; paths = ( "/staging" );\n'
            '    rule = { htpasswd = "%s"; realm = "Staging"; forwardUsername = "X-Auth-User";\n'
            '             params = { user = "user"; }; %s }; }\n);\n' % (path, extra))


@pytest.fixture(scope="module")
def lines():
    return {
        "bcrypt": line("bcrypt", "pw-b", "-B"),
        "apr1": line("apr1", "pw-m", "-m"),
        "sha256": line("sha256", "pw-2", "-2"),
        "sha512": line("sha512", "pw-5", "-5"),
        "sha1": line("sha1", "pw-s", "-s"),
        "colon": line("colon", "a:b:c", "-m"),
        "empty": line("empty", "", "-m"),
        "utf8": line("j\u00fcrgen", "p\u00e4ss", "-B"),
    }


@pytest.fixture
def staging(lines, tmp_path, authorizer):
    path = tmp_path / "htpasswd"
    path.write_text("# staging users\n\n" + "\n".join(lines.values()) + "\n")
    return authorizer(config(path))


@pytest.mark.parametrize("user,password", [
    ("bcrypt", "pw-b"), ("apr1", "pw-m"), ("sha256", "pw-2"), ("sha512", "pw-5"),
    ("sha1", "pw-s"), ("colon", "a:b:c"), ("empty", ""), ("j\u00fcrgen", "p\u00e4ss")])
def test_every_format_and_odd_passwords(staging, user, password):
    r = staging.request("/staging/x?user=forged&a=1", basic(user, password))
    assert_allowed(r, [("X-Auth-User", user)],
                   "a=1&user=" + urllib.request.quote(user, safe=""))


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Basic"},
    {"Authorization": "Basic "},
    {"Authorization": "Basic !!!not-base64!!!"},
    {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    {"Authorization": "Bearer x"},
    {"Authorization": "Basic " + "A" * 10 * 1024},
    basic("bcrypt", "wrong"),
    basic("bcrypt", "pw-b "),
    basic("nobody", "pw-b"),
    basic("BCRYPT", "pw-b"),
    basic("bcrypt", ""),
], ids=["none", "scheme-only", "scheme-space", "garbage", "no-colon", "bearer", "10KB",
        "wrong", "trailing-space", "unknown-user", "user-case", "empty"])
def test_refused_with_the_challenge(staging, headers):
    r = staging.request("/staging/x", headers)
    assert_denied(r, 401, b"401 Unauthorized\n", www=CHALLENGE)
    assert b"Variable-" not in r.raw


def test_passwords_never_logged(staging):
    staging.request("/staging/x", basic("bcrypt", "SECRET-PASSWORD-1"))
    staging.request("/staging/x", basic("bcrypt", "pw-b"))
    log = staging.log()
    assert "SECRET-PASSWORD-1" not in log and "pw-b" not in log
    assert "YmNyeXB0" not in log  # nor the base64 of the credential


def test_inline_users(tmp_path, authorizer):
    a = authorizer(config(tmp_path / "none", "").replace(
        'htpasswd = "%s";' % (tmp_path / "none"),
        'users = ( "%s", "%s" );' % (line("alice", "a1", "-m"), line("bob", "b1", "-B"))))
    assert a.request("/staging/x", basic("alice", "a1")).status == 200
    assert a.request("/staging/x", basic("bob", "b1")).status == 200
    assert a.request("/staging/x", basic("alice", "b1")).status == 401


def check(tmp_path, text):
    conf = tmp_path / "t.conf"
    conf.write_text(text)
    return subprocess.run(AUTHORIZER_CMD + ["-t", "-c", str(conf)], capture_output=True,
                          text=True)


def test_dash_t_refuses_bad_lines(tmp_path):
    cases = [
        ("%s\nbob:Pl41nTextPw\n" % line("alice", "x", "-m"), ":2:"),
        ("alice:%s\n" % line("alice", "x", "-d").split(":", 1)[1], "DES"),
        ("%s\n%s\n" % (line("alice", "x", "-m"), line("alice", "y", "-m")), "alice"),
        ("no colon here\n", ":1:"),
    ]
    for text, part in cases:
        path = tmp_path / "bad.htpasswd"
        path.write_text(text)
        out = check(tmp_path, config(path))
        assert out.returncode == 1, (text, out.stderr)
        assert "bad.htpasswd" in out.stderr and part in out.stderr, (text, out.stderr)
        assert "Pl41nTextPw" not in out.stderr  # a password in clear is never echoed
    path = tmp_path / "good.htpasswd"
    path.write_text(line("alice", "x") + "\n")
    assert check(tmp_path, config(path)).returncode == 0


def metric(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        for l in r.read().decode().splitlines():
            if l.startswith(name + " "):
                return float(l.split()[1])
    raise AssertionError("no metric " + name)


def test_cache_saves_hashes_and_dies_with_the_line(tmp_path, authorizer):
    path = tmp_path / "htpasswd"
    path.write_text(line("alice", "a1") + "\n" + line("bob", "b1") + "\n")
    port = procs.free_port()
    a = authorizer(config(path, "cache = { ttl = 300; };", metrics=port))
    # The metrics listener is a thread of its own: it may accept a little after FastCGI does.
    procs.wait_accepting(("127.0.0.1", port), 10 * SLOW, a.child, "the metrics listener")
    assert a.request("/staging/x", basic("alice", "a1")).status == 200
    hashes = metric(port, "authorizer_password_hashes_total")
    for _ in range(5):
        r = a.request("/staging/x", basic("alice", "a1"))
        assert ("X-Auth-User", "alice") in r.variables
    assert metric(port, "authorizer_password_hashes_total") == hashes  # no hash at all
    # Never another user's answer: bob with alice's password, and bob with his own.
    assert a.request("/staging/x", basic("bob", "a1")).status == 401
    r = a.request("/staging/x", basic("bob", "b1"))
    assert ("X-Auth-User", "bob") in r.variables
    # A changed password: the cached allow dies at once (within the file check's second).
    tmp = tmp_path / "new"
    tmp.write_text(line("alice", "a2") + "\n" + line("bob", "b1") + "\n")
    os.replace(tmp, path)
    deadline = time.time() + 5 * SLOW
    while time.time() < deadline and a.request("/staging/x", basic("alice", "a1")).status == 200:
        time.sleep(0.1)
    assert a.request("/staging/x", basic("alice", "a1")).status == 401
    assert a.request("/staging/x", basic("alice", "a2")).status == 200


def test_file_change_under_load(tmp_path, authorizer):
    """Clients keep asking while the password changes: no request fails, the old password
    works until the change is seen (within about a second), the new one from then on."""
    path = tmp_path / "htpasswd"
    path.write_text(line("alice", "old", "-m") + "\n")
    a = authorizer(config(path))
    assert a.request("/staging/x", basic("alice", "old")).status == 200
    results, stop = [], threading.Event()

    def client(password):
        while not stop.is_set():
            r = a.request("/staging/x", basic("alice", password))
            results.append((time.time(), password, r.status))

    threads = [threading.Thread(target=client, args=(p,)) for p in ("old", "new", "old", "new")]
    for t in threads:
        t.start()
    time.sleep(0.5)
    tmp = tmp_path / "next"
    tmp.write_text(line("alice", "new", "-m") + "\n")
    changed = time.time()
    os.replace(tmp, path)
    time.sleep(2.5 * SLOW)
    stop.set()
    for t in threads:
        t.join()
    assert all(s in (200, 401) for _, _, s in results), set(s for _, _, s in results)
    late = [(p, s) for t, p, s in results if t > changed + 1.5 * SLOW]
    assert late and all((s == 200) == (p == "new") for p, s in late), late[:10]
    assert any(p == "old" and s == 200 for t, p, s in results if t < changed)


def test_invalid_change_keeps_the_old_users(tmp_path, authorizer):
    path = tmp_path / "htpasswd"
    path.write_text(line("alice", "a1", "-m") + "\n")
    a = authorizer(config(path))
    assert a.request("/staging/x", basic("alice", "a1")).status == 200  # it has read the file
    tmp = tmp_path / "next"
    tmp.write_text("alice:plaintext\n")
    os.replace(tmp, path)
    time.sleep(1.2)
    for _ in range(3):
        assert a.alive(), a.log()
        assert a.request("/staging/x", basic("alice", "a1")).status == 200
        time.sleep(0.4)
    log = a.log()
    assert log.count("still checking with the users it had") == 1, log
