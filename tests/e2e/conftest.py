"""Shared fixtures for the end-to-end tests of fcgi-authorizer.

The program under test is $AUTHORIZER (default: ../../authorizer from this file), run under
$AUTHORIZER_WRAPPER if that is set (make check-valgrind sets it). The auth
service is tests/fixtures/authservice.py, run as a separate process for the whole session;
FastCGI requests go through tests/fixtures/fcgiclient.py; ports and processes are handled by
tests/fixtures/procs.py.

Fixtures:
  auth        the auth service (reset before each test): url(...), requests(), stats()
  authorizer  factory: authorizer(config_text) -> a running Authorizer (stopped at teardown)
  make_config builds a configuration text (see build_config)
  role        parametrizes a test over FCGI_AUTHORIZER and FCGI_RESPONDER
"""

import json
import os
import shlex
import signal
import socket
import sys
import urllib.parse
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
if FIXTURES not in sys.path:
    sys.path.insert(0, FIXTURES)

import fcgiclient  # noqa: E402
import procs  # noqa: E402
from procs import closed_port  # noqa: E402,F401  (the tests import it from here)

AUTHORIZER = os.environ.get("AUTHORIZER") or os.path.join(HERE, "..", "..", "authorizer")
AUTHORIZER = os.path.abspath(AUTHORIZER)
# The command that runs it: AUTHORIZER_WRAPPER (e.g. valgrind and its options) goes first.
AUTHORIZER_CMD = shlex.split(os.environ.get("AUTHORIZER_WRAPPER", "")) + [AUTHORIZER]

# Under a wrapper (valgrind runs it some 20 times slower) every wait is this much longer:
# timeouts are there to stop a hung test, never to measure speed.
SLOW = 10 if os.environ.get("AUTHORIZER_WRAPPER") else 1


# What AddressSanitizer, UndefinedBehaviorSanitizer, LeakSanitizer and valgrind's memcheck
# write when they find something (./configure --enable-sanitizers, make check-valgrind).
MEMORY_ERRORS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                 "Invalid read", "Invalid write", "Invalid free", "uninitialised",
                 "definitely lost in", "indirectly lost in", "Mismatched free")

# What a web server would pass along with every request (overridable per request).
CLIENT_ADDR = "198.51.100.23"
CLIENT_HOST = "app.example.test"

DEFAULT_PATHS = ("/protected", "/api/*", "/files/*.pdf")
DEFAULT_HEADERS = (("userId", "X-Auth-UserId"), ("userCountryId", "X-Auth-UserCountryId"))
DEFAULT_PARAMS = (("userCountryId", "countryId"),)


def pytest_configure(config):
    if not os.access(AUTHORIZER, os.X_OK):
        raise pytest.UsageError("the authorizer binary %s is missing or not executable "
                                "(build it with `make authorizer`, or set AUTHORIZER)"
                                % AUTHORIZER)


# ---- the auth service ----


class AuthService(procs.FixtureServer):
    def __init__(self):
        super().__init__("authservice.py", exit_on_stdin_eof=True)
        self.base = "http://127.0.0.1:%d" % self.port

    def url(self, path="/auth", query=None, **params):
        """The auth URL for a config; params become the scripting query (lists repeat)."""
        pairs = list(query or [])
        for k, v in params.items():
            for item in (v if isinstance(v, (list, tuple)) else [v]):
                pairs.append((k, item))
        qs = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
        return self.base + path + ("?" + qs if qs else "")

    def _control(self, what):
        req = urllib.request.Request(self.base + "/_control/" + what,
                                     headers={"Connection": "close"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def stats(self):
        return self._control("requests")

    def requests(self):
        return self.stats()["requests"]

    def reset(self):
        self._control("reset")


def header_values(entry, name):
    """All values of a header in a recorded auth request (case-insensitive)."""
    return [v for n, v in entry["headers"] if n.lower() == name.lower()]


@pytest.fixture(scope="session")
def auth_service():
    svc = AuthService()
    yield svc
    svc.stop()


@pytest.fixture
def auth(auth_service):
    auth_service.reset()
    return auth_service


# ---- configuration ----


def _q(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list(items):
    return "( " + ", ".join(_q(i) for i in items) + " )"


def _group(pairs):
    return "{ " + " ".join("%s = %s;" % (k, _q(v)) for k, v in pairs) + " }"


def middleware(url, name="main", paths=DEFAULT_PATHS, required=("Authorization",),
               forward=("X-Request-Id",), headers=DEFAULT_HEADERS, params=DEFAULT_PARAMS,
               timeout=2 * SLOW, connect_timeout=1 * SLOW, rule_extra=()):
    lines = ["  {", "    name = %s;" % _q(name), '    type = "jwt";',
             "    paths = %s;" % _list(paths), "    rule = {", "      url = %s;" % _q(url)]
    if timeout is not None:
        lines.append("      timeout = %s;" % timeout)
    if connect_timeout is not None:
        lines.append("      connectTimeout = %s;" % connect_timeout)
    if required:
        lines.append("      requiredHeaders = %s;" % _list(required))
    if forward:
        lines.append("      forwardHeaders = %s;" % _list(forward))
    if headers:
        lines.append("      headers = %s;" % _group(headers))
    if params:
        lines.append("      params = %s;" % _group(params))
    lines += ["      " + line for line in rule_extra]
    lines += ["    };", "  }"]
    return "\n".join(lines)


def build_config(url=None, middlewares=None, workers=4, log_level="info", listen=None,
                 listen_mode=None, **mw):
    """A configuration text: one middleware built from url and **mw, or the given list."""
    if middlewares is None:
        middlewares = [middleware(url, **mw)]
    out = []
    if listen is not None:
        out.append("listen = %s;" % _q(listen))
    if listen_mode is not None:
        out.append("listen_mode = %s;" % _q(listen_mode))
    if workers is not None:
        out.append("workers = %d;" % workers)
    if log_level is not None:
        out.append("log_level = %s;" % _q(log_level))
    out.append("middlewares = (\n%s\n);" % ",\n".join(middlewares))
    return "\n".join(out) + "\n"


@pytest.fixture
def make_config():
    return build_config


# ---- the authorizer ----


def cgi_params(uri, headers=None, method="GET", host=CLIENT_HOST, scheme="https",
               remote_addr=CLIENT_ADDR, extra=None, query=True):
    """The FastCGI params a web server sends for `uri` with client `headers`.

    query=True derives QUERY_STRING from uri, False omits it, a string sets it. In extra,
    a value of None removes that param.
    """
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "e2e-test",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": host,
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_ADDR": "192.0.2.1",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "SCRIPT_NAME": "",
        "REMOTE_ADDR": remote_addr,
        "REMOTE_PORT": "40000",
        "REQUEST_SCHEME": scheme,
        "HTTP_HOST": host,
    }
    if scheme == "https":
        params["HTTPS"] = "on"
    if query is True:
        params["QUERY_STRING"] = uri.split("?", 1)[1] if "?" in uri else ""
    elif query is not False:
        params["QUERY_STRING"] = query
    for name, value in (headers or {}).items():
        params["HTTP_" + name.upper().replace("-", "_")] = value
    for name, value in (extra or {}).items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


class Authorizer:
    """One authorizer process.

    With listen=None (the default) it is given a listening TCP socket as fd 0, which is
    how a web server spawns it; otherwise `address` must be where the config listens.
    """

    def __init__(self, config_text, workdir, address=None, env=None, args=None, use_c=True):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "authorizer.conf")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, "authorizer.log")
        cmd = AUTHORIZER_CMD + (["-c", self.config_path] if use_c else []) + list(args or [])
        full_env = dict(os.environ)
        full_env.pop("AUTHORIZER_CONFIG", None)
        full_env.update(env or {})
        if address is None:
            lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            lsock.bind(("127.0.0.1", 0))
            lsock.listen(4096)
            self.address = lsock.getsockname()
            try:
                self.child = procs.Child(cmd, self.log_path, env=full_env,
                                         stdin=lsock.fileno(), name="authorizer")
            finally:
                lsock.close()  # the child has it; if it dies, connections are refused
            self.proc = self.child.proc
        else:
            self.address = address
            self.child = procs.Child(cmd, self.log_path, env=full_env, name="authorizer")
            self.proc = self.child.proc
            procs.wait_accepting(address, 10 * SLOW, self.child, "the authorizer")

    def request(self, uri, headers=None, role=fcgiclient.AUTHORIZER, timeout=10 * SLOW, **kw):
        """One request over a fresh connection; kw as cgi_params()."""
        params = cgi_params(uri, headers, **kw)
        return self.send(params, role=role, timeout=timeout)

    def send(self, params, role=fcgiclient.AUTHORIZER, timeout=10 * SLOW, request_id=1):
        return fcgiclient.request(self.address, params, role=role, request_id=request_id,
                                  timeout=timeout)

    def alive(self):
        return self.child.alive()

    def stop(self, sig=signal.SIGTERM, timeout=10 * SLOW):
        """Signals the process and waits; returns its exit status."""
        if not self.child.stop(sig, timeout):
            raise AssertionError("authorizer did not exit within %ss of signal %d"
                                 % (timeout, sig))
        return self.proc.returncode

    def kill(self):
        """Stops the process (gracefully first, so that leak checkers run at its exit) and
        fails the test if a sanitizer or valgrind reported anything in its log."""
        self.child.stop(signal.SIGTERM, 10 * SLOW)
        log = self.log()
        found = [m for m in MEMORY_ERRORS if m in log]
        assert not found, "memory errors (%s) in the authorizer's log:\n%s" % (found, log[-4000:])

    def log(self):
        return self.child.log()


@pytest.fixture
def authorizer(tmp_path):
    started = []

    def start(config_text, address=None, env=None, args=None, use_c=True):
        workdir = tmp_path / ("run%d" % len(started))
        workdir.mkdir()
        a = Authorizer(config_text, str(workdir), address=address, env=env, args=args,
                       use_c=use_c)
        started.append(a)
        return a

    yield start
    for a in started:
        a.kill()


@pytest.fixture(scope="session")
def shared_authorizer(tmp_path_factory):
    """Long-running authorizers shared by tests, one per configuration text.

    For tests that neither stop the process nor look at its log or connection counts; a
    process that died is replaced (and the next test using it will show what went wrong).
    """
    pool = {}

    def get(config_text):
        a = pool.get(config_text)
        if a is None or not a.alive():
            workdir = tmp_path_factory.mktemp("shared")
            a = Authorizer(config_text, str(workdir))
            pool[config_text] = a
        return a

    yield get
    for a in pool.values():
        a.kill()


# ---- expectations ----


def assert_allowed(resp, variables=(), query="", decision="allowed"):
    """An allow answer that exports exactly `variables` ((target, value) pairs, in order)
    and AUTHZ_QUERY_STRING `query`, with no body.

    A Variable-AUTHZ_DECISION line (added to the format after this suite's contract was
    written) is tolerated, but when present it must say `decision`.
    """
    assert resp.status_line == "Status: 200 OK", resp
    assert resp.raw.startswith(b"Status: 200 OK\r\n"), resp.raw
    assert resp.body == b"", resp
    assert [h for h in resp.headers if not h[0].startswith("Variable-")] == [], resp
    got = [(n, v) for n, v in resp.variables if n != "AUTHZ_DECISION"]
    assert got == list(variables) + [("AUTHZ_QUERY_STRING", query)], resp
    assert [v for n, v in resp.variables if n == "AUTHZ_DECISION"] in ([], [decision]), resp


def assert_denied(resp, status, body, content_type=None, www=None):
    """A 401/403 answer relaying exactly these (content_type None: any text/plain)."""
    line = {401: "Status: 401 Unauthorized", 403: "Status: 403 Forbidden"}[status]
    assert resp.status_line == line, resp
    assert resp.raw.startswith(line.encode() + b"\r\n"), resp.raw
    names = [n for n, _ in resp.headers]
    expected = (["WWW-Authenticate"] if www is not None else []) + ["Content-Type",
                                                                    "Content-Length"]
    assert names == expected, resp
    if www is not None:
        assert resp.header("WWW-Authenticate") == www
    if content_type is None:
        assert resp.header("Content-Type").startswith("text/plain"), resp
    else:
        assert resp.header("Content-Type") == content_type, resp
    assert resp.header("Content-Length") == str(len(resp.body)), resp
    if body is not None:
        assert resp.body == body, resp


# Words a failure body must not contain: they would tell the client why the auth call failed.
CAUSE_WORDS = ("curl", "timeout", "timed out", "refused", "reset", "127.0.0.1", "auth",
               "header", "body", "redirect", "status", "connect", "response", "malformed",
               "too large", "too long", "fold", "garbage")


def assert_status_only(resp, status, hidden=()):
    """A 400/403/500 answer of the authorizer's own: status, text body, nothing exported,
    and a body that tells nothing about the cause (no CAUSE_WORDS and none of `hidden`)."""
    reasons = {400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error"}
    line = "Status: %d %s" % (status, reasons[status])
    assert resp.status_line == line, resp
    assert resp.raw.startswith(line.encode() + b"\r\n"), resp.raw
    assert resp.variables == [], resp
    assert resp.header("WWW-Authenticate") is None, resp
    assert resp.header("Content-Length") == str(len(resp.body)), resp
    assert len(resp.body) < 200, resp
    text = resp.body.decode("utf-8", "replace").lower()
    for word in CAUSE_WORDS + tuple(hidden):
        assert word.lower() not in text, (word, resp)


@pytest.fixture(params=[fcgiclient.AUTHORIZER, fcgiclient.RESPONDER],
                ids=["authorizer", "responder"])
def role(request):
    return request.param


@pytest.fixture
def token_authorizer(auth, authorizer):
    """An authorizer with the default middleware and the auth service in token mode."""
    return authorizer(build_config(auth.url(mode="token")))
