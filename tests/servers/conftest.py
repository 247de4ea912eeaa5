"""Shared fixtures for the real-server tests of fcgi-authorizer.

Each deployment of etc/ (lighttpd spawning the authorizer, lighttpd on a unix socket, Apache
mod_fcgid, Apache mod_authnz_fcgi, nginx auth_request) is started with the distribution's own
server binary and the SHIPPED configuration files: only the values in each file's marked
"site values" block (ports, upstream address, paths of the program, its configuration, the
glue and the socket) are replaced, by the small regular expressions below. A change in those
blocks therefore breaks these tests loudly instead of silently testing a copy.

Behind every server: the echo application (tests/fixtures/upstream.py) reached through a
recording relay, so a test can prove that a request never reached it, and the scriptable auth
service (tests/fixtures/authservice.py). Both run as separate processes for the whole session.

Every HTTP response a test receives goes through fetch(), which fails the test if a Variable-
header reaches the client (or the application).

Ports and processes are handled by tests/fixtures/procs.py.

Environment: AUTHORIZER (the program), TOP_SRCDIR (the source tree, for etc/ and the
fixtures), as exported by `make check`; both default to paths relative to this file.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.environ.get("TOP_SRCDIR") or os.path.join(HERE, "..", ".."))
AUTHORIZER = os.path.abspath(os.environ.get("AUTHORIZER") or os.path.join(TOP, "authorizer"))
FIXTURES = os.path.join(TOP, "tests", "fixtures")
ETC = os.path.join(TOP, "etc")
if FIXTURES not in sys.path:
    sys.path.insert(0, FIXTURES)

import procs  # noqa: E402
from procs import closed_port, free_port  # noqa: E402

IS_ROOT = os.geteuid() == 0
RUN_USER = "www-data"  # what the shipped configurations run the servers as
APACHE_MODULES = "/usr/lib/apache2/modules"
LIGHTTPD_MAGNET = "/usr/lib/lighttpd/mod_magnet.so"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])

# The paths the test authorizer configuration protects, and what their auth service does.
PROTECTED = "/app"      # token mode: "Bearer good" allows, see tests/fixtures/authservice.py
ANONYMOUS = "/anon"     # the auth service allows, and sends no identity at all
LENIENT = "/app/open"   # as ANONYMOUS, listed before PROTECTED, which it lies below
ERRORING = "/err"       # the auth service answers 500
UNREACHABLE = "/down"   # nothing listens at the auth service URL
LOCAL_JWT = "/jwt"      # the authorizer verifies the token itself (see jwt_token)
BASIC = "/basic"        # basicAuth: BASIC_USER with BASIC_PASSWORD, hashed by Apache's htpasswd
BASIC_USER, BASIC_PASSWORD = "carol", "s3cret:pw"
SSO = "/sso"            # behaves like oauth2-proxy: session cookie, sign-in page, 401 for APIs
SSO_REDIRECT = "/ssorp" # the same, but its auth endpoint redirects itself (reverse-proxy mode)
SSO_START = "https://sso.example.test/oauth2/start?rd=%2Fssorp"  # where SSO_REDIRECT sends
GOOD = ("Authorization", "Bearer good")


JWT_KEY = os.path.join(TOP, "tests", "fixtures", "jwt", "keys", "rsa-a")


def jwt_token(**claims):
    """An RS256 token from the fixtures' key, made by PyJWT, valid for ten minutes."""
    import time
    import jwt
    body = {"sub": "77", "country": "SE", "iss": "https://idp.test/",
            "exp": int(time.time()) + 600}
    body.update(claims)
    with open(JWT_KEY + "-private.pem") as f:
        return jwt.encode({k: v for k, v in body.items() if v is not None}, f.read(),
                          algorithm="RS256")


def etc(*parts):
    return os.path.join(ETC, *parts)


def server_binary(name):
    return shutil.which(name, path=SEARCH_PATH)


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def new_marker():
    """A unique token to put in a request, to find it again at the auth service or upstream."""
    return "m" + uuid.uuid4().hex[:16]


def replace_once(text, pattern, replacement):
    """re.sub (multiline) that must match exactly once: a shipped line that moved or changed
    is an error, not a test that silently tests something else."""
    out, n = re.subn(pattern, replacement, text, flags=re.M)
    assert n == 1, "pattern %r matched %d times in a shipped file" % (pattern, n)
    return out


def lighttpd_site(text, **values):
    """Sets `var.NAME = VALUE` lines of a shipped lighttpd configuration."""
    for name, value in values.items():
        text = replace_once(text, r"^var\.%s\s*=.*$" % re.escape(name),
                            "var.%s = %s" % (name, value))
    return text


def apache_site(text, **values):
    """Sets `Define NAME value` lines of a shipped Apache configuration."""
    for name, value in values.items():
        text = replace_once(text, r"^Define\s+%s\s.*$" % re.escape(name),
                            "Define %s %s" % (name, value))
    return text


def nginx_site(text, values):
    """Replaces the statement of each line marked `# SITE: <tag>` (values: tag -> statement)."""
    for tag, statement in values.items():
        pattern = r"^(\s*)[^#\n]*;(\s*# SITE: %s\b.*)$" % re.escape(tag)
        text, n = re.subn(pattern, lambda m: m.group(1) + statement + m.group(2), text,
                          flags=re.M)
        assert n == 1, "nginx site line %r matched %d times" % (tag, n)
    return text


def q(s):
    return '"%s"' % s


def authorizer_config(auth_base, listen=None):
    """The test configuration, derived from etc/authorizer.conf so its `headers` and `params`
    (and so the shipped glue) apply: its middleware repeated for /app (token mode), /anon
    (allowed without identity), /app/open (the same, listed first), /err (the auth service
    answers 500) and /down (nothing listens there)."""
    text = read(etc("authorizer.conf"))
    m = re.search(r"^middlewares = \(\n(.*)\n\);", text, re.M | re.S)
    assert m, "etc/authorizer.conf: no middlewares list"
    block = m.group(1)
    blocks = []
    for name, path, url in (
            # Listed first, a lenient middleware below the strict one: readings that lead to
            # both must pass both.
            ("open", LENIENT, auth_base + "/auth?status=200"),
            ("app", PROTECTED, auth_base + "/auth?mode=token"),
            ("anon", ANONYMOUS, auth_base + "/auth?status=200"),
            ("err", ERRORING, auth_base + "/auth?status=500"),
            ("down", UNREACHABLE, "http://127.0.0.1:%d/auth" % closed_port())):
        b = replace_once(block, r'name = "[^"]*";', 'name = "%s";' % name)
        b = replace_once(b, r"paths = \([^)]*\);", 'paths = ( "%s" );' % path)
        b = replace_once(b, r'url = "[^"]*";', 'url = "%s";' % url)
        b = replace_once(b, r"connectTimeout = [0-9.]+;", "connectTimeout = 1;")
        blocks.append(b)
    # A middleware that verifies tokens itself, exporting the same identity headers from the
    # token's claims (so the shipped glue applies to it too).
    blocks.append('\n  { name = "jwt"; type = "jwt"; paths = ( "%s" );\n'
                  '    rule = { publicKey = "%s"; issuer = "https://idp.test/";\n'
                  '             headers = { sub = "X-Auth-UserId"; country = "X-Auth-UserCountryId"; };\n'
                  '             params = { country = "countryId"; }; }; }' % (LOCAL_JWT, JWT_KEY + ".pem"))
    hashed = subprocess.run(["htpasswd", "-nbB", "-C", "5", BASIC_USER, BASIC_PASSWORD],
                            check=True, capture_output=True, text=True).stdout.strip()
    blocks.append('\n  { name = "basic"; type = "basicAuth"; paths = ( "%s" );\n'
                  '    rule = { users = ( "%s" ); realm = "Staging";\n'
                  '             forwardUsername = "X-Auth-UserId"; }; }' % (BASIC, hashed))
    # Sign-in with a session cookie, as oauth2-proxy answers: the identity from its
    # X-Auth-Request-User, its refreshed cookies passed to the client.
    for path, extra in ((SSO, ""), (SSO_REDIRECT, "&start=" + urllib.parse.quote(
            SSO_START, safe=""))):
        blocks.append('\n  { name = "%s"; type = "jwt"; paths = ( "%s", "%s/*" );\n'
                      '    rule = { url = "%s/oauth2/auth?mode=oauth2%s";\n'
                      '             signIn = "%s/oauth2/start?mode=signin&rd=";\n'
                      '             allowedHosts = ( "127.0.0.1" );\n'
                      '             addAuthCookiesToResponse = true;\n'
                      '             headers = { X-Auth-Request-User = "X-Auth-UserId"; }; }; }'
                      % (path.strip("/"), path, path, auth_base, extra, auth_base))
    text = text[:m.start(1)] + ",\n".join(blocks) + text[m.end(1):]
    if listen:
        text = 'listen = "%s";\nlisten_mode = "0666";\n' % listen + text
    return text


# ---- processes ----


def kill_leftovers(binary):
    """Kills processes still running the given program file (a copy in a test directory,
    started by a server of this test): a server that failed to stop its children must not
    leave them behind."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
        except OSError:
            continue
        if exe == binary:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


# ---- the auth service and the application ----


class AuthService(procs.FixtureServer):
    def __init__(self, workdir):
        super().__init__("authservice.py", log_path=os.path.join(workdir, "authservice.log"))
        self.base = "http://127.0.0.1:%d" % self.port

    def calls(self, marker):
        """The auth requests made for a client request carrying marker (in its URI)."""
        req = urllib.request.Request(self.base + "/_control/requests",
                                     headers={"Connection": "close"})
        with urllib.request.urlopen(req, timeout=10) as r:
            reqs = json.loads(r.read())["requests"]
        return [r for r in reqs if any(marker in v for _, v in r["headers"])]


class Recorder:
    """A TCP relay in front of the echo application that keeps every byte sent to it, so that
    a test can prove a request (its marker) never reached the application."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.lock = threading.Lock()
        self.streams = []
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(512)
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        record = bytearray()
        with self.lock:
            self.streams.append(record)
        try:
            upstream = socket.create_connection(self.target, timeout=30)
        except OSError:
            client.close()
            return
        back = threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True)
        back.start()
        self._pump(client, upstream, record)
        back.join(30)
        client.close()
        upstream.close()

    def _pump(self, src, dst, record):
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                if record is not None:
                    with self.lock:
                        record.extend(chunk)
                dst.sendall(chunk)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def saw(self, marker):
        needle = marker.encode()
        with self.lock:
            return any(needle in bytes(s) for s in self.streams)

    def close(self):
        self.lsock.close()


class Services:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="authz-servers-")
        self.auth = AuthService(self.dir)
        self.echo = procs.FixtureServer("upstream.py",
                                        log_path=os.path.join(self.dir, "upstream.log"))
        self.upstream = Recorder(self.echo.port)

    def stop(self):
        self.upstream.close()
        self.echo.stop()
        self.auth.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def services():
    if not os.access(AUTHORIZER, os.X_OK):
        pytest.fail("the authorizer %s is missing (build it, or set AUTHORIZER)" % AUTHORIZER)
    s = Services()
    yield s
    s.stop()


# ---- HTTP ----


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.echo = None
        if body.startswith(b"{"):
            try:
                self.echo = json.loads(body)
            except ValueError:
                pass

    def header(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def upstream_header(self, name):
        """The values of a header as the application received it."""
        assert self.echo is not None, "not an answer from the application: %r" % self.body[:200]
        prefix = name.lower() + ":"
        return [h.split(":", 1)[1].strip() for h in self.echo["headers"]
                if h.lower().startswith(prefix)]

    def __repr__(self):
        return "<%d %s %r %r>" % (self.status, self.reason, self.headers, self.body[:300])


def variable_headers(resp):
    """Variable- headers in a response, or in what the application received."""
    found = [k for k, _ in resp.headers if k.lower().startswith("variable-")]
    if resp.echo is not None:
        found += [h for h in resp.echo["headers"] if h.lower().startswith("variable-")]
    return found


def fetch(port, target, headers=(), method="GET", body=None, timeout=20, allow_variable=False,
          host=None):
    """One request on its own connection, the request target sent byte for byte (and the
    Host header given, or the server's own address)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or "127.0.0.1:%d" % port)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        resp = Response(r.status, r.reason, r.getheaders(), r.read())
    finally:
        conn.close()
    if not allow_variable:
        assert not variable_headers(resp), "Variable- header leaked: %r" % resp
    return resp


# ---- the deployments ----


class Deployment:
    """One web server with a shipped configuration of etc/, in its own temporary directory.

    `mutate` maps a file role ("site", "glue") to a function applied to that file's text after
    the site values are set: how the trap tests break a shipped configuration on purpose.
    """

    name = None
    binary = None           # the server program this deployment needs
    # The status the client gets when the authorizer answers 403, 401, 500 (or 400).
    status_403 = 403
    status_401 = 401
    status_error = 500
    relays_body = False     # the auth service's denial body reaches the client
    asks_per_denial = 1     # how often the auth service is asked about a denied request
    redirects = True        # a sign-in redirect (302) reaches the client
    allow_cookies = True    # the glue adds an allow's cookies to the client's response

    def __init__(self, services, mutate=None):
        self.services = services
        self.mutate = mutate or {}
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="authz-%s-" % self.name)
        os.chmod(self.dir, 0o755)
        self.bin = os.path.join(self.dir, "authorizer")
        shutil.copy(AUTHORIZER, self.bin)
        os.chmod(self.bin, 0o755)
        self.procs = []
        self.authorizer = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def runtime_dir(self, name):
        """A directory the server (running as www-data) can write to."""
        d = self.path(name)
        os.mkdir(d)
        os.chmod(d, 0o755)
        if IS_ROOT:
            shutil.chown(d, RUN_USER, RUN_USER)
        return d

    def apply(self, role, text):
        return self.mutate[role](text) if role in self.mutate else text

    def write_authorizer_config(self, listen=None):
        conf = self.path("authorizer.conf")
        write(conf, authorizer_config(self.services.auth.base, listen))
        return conf

    def start_authorizer(self, listen, address):
        """A standalone authorizer listening on `listen`: address is where it accepts (a
        port on 127.0.0.1 or a socket path)."""
        conf = self.write_authorizer_config(listen)
        self.authorizer = procs.Child([self.bin, "-c", conf], self.path("authorizer.log"),
                                      name="authorizer")
        self.procs.append(self.authorizer)
        try:
            procs.wait_accepting(address, 10, self.authorizer, "the authorizer")
        except procs.StartError as e:
            raise procs.StartError("authorizer did not start: %s" % e)

    def start_server(self, cmd, log_name):
        p = procs.Child(cmd, self.path(log_name), env=dict(os.environ, PATH=SEARCH_PATH),
                        name=self.name)
        self.procs.append(p)
        try:
            procs.wait_accepting(self.port, 20, p, self.name)
        except procs.StartError as e:
            raise procs.StartError("%s did not start: %s\n%s" % (self.name, e, self.logs()))
        self.server = p

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                try:
                    out.append("== %s\n%s" % (name, read(self.path(name))[-4000:]))
                except (OSError, UnicodeDecodeError):
                    pass
        return "\n".join(out)

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
        kill_leftovers(self.bin)
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop_authorizer(self):
        """Stops a standalone authorizer (the "authorizer down" tests)."""
        self.authorizer.stop()

    def get(self, target, headers=(), **kw):
        return fetch(self.port, target, headers, **kw)


class LighttpdDeployment(Deployment):
    binary = "lighttpd"
    relays_body = True
    allow_cookies = False   # mod_magnet sets one Set-Cookie at most

    def configure(self):
        raise NotImplementedError

    def start(self):
        conf = self.configure()
        write(self.path("lighttpd.conf"), conf)
        self.conf_path = self.path("lighttpd.conf")
        self.start_server([server_binary("lighttpd"), "-D", "-f", self.conf_path],
                          "lighttpd.log")

    def glue(self):
        glue = self.path("authorizer.lua")
        write(glue, self.apply("glue", read(etc("lighttpd", "authorizer.lua"))))
        return glue

    def common_values(self):
        return {"listen_addr": q("127.0.0.1"), "listen_port": str(self.port),
                "upstream_host": q("127.0.0.1"),
                "upstream_port": str(self.services.upstream.port),
                "authorizer_glue": q(self.glue())}

    def dump(self):
        """lighttpd's own view of the configuration (`lighttpd -p`)."""
        return subprocess.run([server_binary("lighttpd"), "-p", "-f", self.conf_path],
                              capture_output=True, text=True, check=True).stdout


class LighttpdSpawn(LighttpdDeployment):
    name = "lighttpd-spawn"

    def configure(self):
        run = self.runtime_dir("run")
        text = lighttpd_site(read(etc("lighttpd", "lighttpd-spawn.conf")),
                             authorizer_bin=q(self.bin),
                             authorizer_conf=q(self.write_authorizer_config()),
                             authorizer_sock=q(os.path.join(run, "authorizer.sock")),
                             **self.common_values())
        return self.apply("site", text)


class LighttpdSocket(LighttpdDeployment):
    name = "lighttpd-socket"

    def configure(self):
        sock = self.path("authorizer.sock")
        self.start_authorizer(sock, sock)
        text = lighttpd_site(read(etc("lighttpd", "lighttpd-socket.conf")),
                             authorizer_sock=q(sock), **self.common_values())
        return self.apply("site", text)


class ApacheDeployment(Deployment):
    binary = "apache2"
    modules = ("mpm_event", "authz_core", "headers", "rewrite", "proxy", "proxy_http")

    def start(self):
        site = self.path("site.conf")
        write(site, self.apply("site", self.site_config()))
        glue = self.path("authorizer-glue.conf")
        write(glue, self.apply("glue", read(etc("apache", "authorizer-glue.conf"))))
        lines = ["ServerRoot %s" % self.dir,
                 "PidFile %s" % self.path("httpd.pid"),
                 "DefaultRuntimeDir %s" % self.dir,
                 "ErrorLog %s" % self.path("error.log"),
                 "LogLevel warn",
                 "ServerName 127.0.0.1",
                 "Listen 127.0.0.1:%d" % self.port]
        if IS_ROOT:
            lines += ["User %s" % RUN_USER, "Group %s" % RUN_USER]
        lines += ["LoadModule %s_module %s/mod_%s.so" % (m, APACHE_MODULES, m)
                  for m in self.modules]
        lines += self.server_lines()
        lines.append("Include %s" % site)
        self.conf_path = self.path("httpd.conf")
        write(self.conf_path, "\n".join(lines) + "\n")
        self.start_server([server_binary("apache2"), "-f", self.conf_path, "-DFOREGROUND"],
                          "apache2.log")

    def server_lines(self):
        return []

    def glue_path(self):
        return self.path("authorizer-glue.conf")

    def site_text(self):
        return read(self.path("site.conf"))


class ApacheFcgid(ApacheDeployment):
    name = "apache-fcgid"
    modules = ApacheDeployment.modules + ("fcgid",)
    # mod_fcgid answers every denial with 401 and its own page.
    status_403 = 401
    redirects = False       # every denial becomes 401
    status_error = 401

    def server_lines(self):
        ipc = self.runtime_dir("fcgid")
        return ["FcgidIPCDir %s" % ipc, "FcgidProcessTableFile %s/shm" % ipc]

    def site_config(self):
        return apache_site(read(etc("apache", "fcgid.conf")),
                           AUTHZ_PORT=str(self.port),
                           AUTHZ_UPSTREAM="http://127.0.0.1:%d" % self.services.upstream.port,
                           AUTHZ_BINARY=self.bin,
                           AUTHZ_CONFIG=self.write_authorizer_config(),
                           AUTHZ_GLUE=self.glue_path())


class ApacheAuthnz(ApacheDeployment):
    name = "apache-authnz"
    modules = ApacheDeployment.modules + ("authn_core", "authz_user", "authnz_fcgi")
    relays_body = True

    def site_config(self):
        fcgi_port = free_port()
        self.start_authorizer("127.0.0.1:%d" % fcgi_port, fcgi_port)
        return apache_site(read(etc("apache", "authnz-fcgi.conf")),
                           AUTHZ_PORT=str(self.port),
                           AUTHZ_UPSTREAM="http://127.0.0.1:%d" % self.services.upstream.port,
                           AUTHZ_AUTHORIZER="fcgi://127.0.0.1:%d/" % fcgi_port,
                           AUTHZ_GLUE=self.glue_path())


class Nginx(Deployment):
    name = "nginx"
    binary = "nginx"
    relays_body = True      # error_page asks the authorizer again (etc/nginx)
    asks_per_denial = 2

    def start(self):
        sock = self.path("authorizer.sock")
        self.start_authorizer(sock, sock)
        os.mkdir(self.path("snippets"))
        os.chmod(self.path("snippets"), 0o755)
        write(self.path("snippets/authorizer-glue.conf"),
              self.apply("glue", read(etc("nginx", "authorizer-glue.conf"))))
        write(self.path("authorizer-http.conf"), read(etc("nginx", "authorizer-http.conf")))
        site = nginx_site(read(etc("nginx", "authorizer-site.conf")), {
            "the application": "server 127.0.0.1:%d;" % self.services.upstream.port,
            "the authorizer's socket": "server unix:%s;" % sock,
            "where clients connect": "listen 127.0.0.1:%d;" % self.port})
        write(self.path("authorizer-site.conf"), self.apply("site", site))
        tmp = self.runtime_dir("tmp")
        lines = ["daemon off;",
                 "worker_processes 2;",
                 "pid %s;" % self.path("nginx.pid"),
                 "error_log %s warn;" % self.path("error.log")]
        if IS_ROOT:
            lines.append("user %s;" % RUN_USER)
        lines += ["events { worker_connections 1024; }",
                  "http {",
                  "    access_log off;"]
        lines += ["    %s_temp_path %s/%s;" % (k, tmp, k)
                  for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")]
        lines += ["    include %s;" % self.path("authorizer-http.conf"),
                  "    include %s;" % self.path("authorizer-site.conf"),
                  "}"]
        self.conf_path = self.path("nginx.conf")
        write(self.conf_path, "\n".join(lines) + "\n")
        self.start_server(self.command(), "nginx.log")

    def command(self, *extra):
        return [server_binary("nginx"), "-p", self.dir + "/", "-c", self.conf_path,
                "-e", self.path("error.log")] + list(extra)

    def dump(self):
        """nginx's own view of the whole configuration (`nginx -T`)."""
        return subprocess.run(self.command("-T"), capture_output=True, text=True,
                              check=True).stdout


DEPLOYMENTS = [LighttpdSpawn, LighttpdSocket, ApacheFcgid, ApacheAuthnz, Nginx]


def require_server(cls):
    if not server_binary(cls.binary):
        pytest.skip("%s is not installed" % cls.binary)
    if issubclass(cls, LighttpdDeployment) and not os.path.exists(LIGHTTPD_MAGNET):
        pytest.skip("lighttpd's mod_magnet (lighttpd-modules-lua) is not installed")
    if issubclass(cls, ApacheDeployment):
        for m in cls.modules:
            if not os.path.exists("%s/mod_%s.so" % (APACHE_MODULES, m)):
                pytest.skip("Apache module %s is not installed" % m)


def start_deployment(cls, services, mutate=None):
    require_server(cls)
    d = cls(services, mutate)
    try:
        d.start()
    except BaseException:
        d.stop()
        raise
    return d


@pytest.fixture
def deploy(services):
    """Factory: deploy(cls, mutate=...) -> a started deployment, stopped at teardown."""
    started = []

    def start(cls, mutate=None):
        d = start_deployment(cls, services, mutate)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def run_authorizer(*args, stdin=None):
    return subprocess.run([AUTHORIZER] + list(args), input=stdin, capture_output=True,
                          text=True, timeout=30)
