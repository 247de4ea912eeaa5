"""Command line and configuration checking: -t, -h, -V, AUTHORIZER_CONFIG, start-up errors."""

import os
import re
import socket
import subprocess

import pytest

from conftest import AUTHORIZER_CMD, build_config

GOOD_URL = "http://127.0.0.1:9/auth"


def run(args, env=None, stdin=subprocess.DEVNULL, timeout=10):
    full_env = dict(os.environ)
    full_env.pop("AUTHORIZER_CONFIG", None)
    full_env.update(env or {})
    return subprocess.run(AUTHORIZER_CMD + args, stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=full_env, timeout=timeout)


def write(tmp_path, text, name="authorizer.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_check_good_config(tmp_path):
    path = write(tmp_path, build_config(GOOD_URL, listen="127.0.0.1:9000"))
    r = run(["-t", "-c", path])
    assert r.returncode == 0, r.stderr
    assert path in r.stdout.decode()
    assert r.stderr == b""


def test_check_full_example_config(tmp_path):
    text = """\
listen = "127.0.0.1:9000";
workers = 4;            # 1..256
log_level = "info";     # error|warn|info|debug
middlewares = (
  { name = "main"; type = "jwt";
    paths = ( "/protected", "/api/*", "/files/*.pdf" );
    rule = {
      url = "http://127.0.0.1:8080/auth?x=1";
      timeout = 2.5;
      connectTimeout = 1;
      requiredHeaders = ( "Authorization" );
      forwardHeaders = ( "X-Request-Id" );
      headers = { userId = "X-Auth-UserId"; userCountryId = "X-Auth-UserCountryId"; };
      params = { userCountryId = "countryId"; };
    };
  },
  { name = "other"; type = "jwt"; paths = ( "/admin" ); rule = { url = "https://a.example/x"; }; }
);
"""
    r = run(["-t", "-c", write(tmp_path, text)])
    assert r.returncode == 0, r.stderr


def _mw(lines_rule="", lines_mw="", name="main", paths='( "/protected" )',
        url='"http://127.0.0.1:9/auth"'):
    return ("  { name = \"%s\"; type = \"jwt\";\n"
            "    paths = %s;\n%s"
            "    rule = {\n"
            "      url = %s;\n%s"
            "    };\n"
            "  }" % (name, paths, lines_mw, url, lines_rule))


def _cfg(top="", mws=None):
    mws = mws if mws is not None else [_mw()]
    return "workers = 2;\n%smiddlewares = (\n%s\n);\n" % (top, ",\n".join(mws))


# (id, config text with the offending line marked "#<-", words the message must contain)
BAD_CONFIGS = [
    ("unknown-root-setting", _cfg(top="wokers = 4; #<-\n"), ["wokers", "unknown"]),
    ("unknown-middleware-setting",
     _cfg(mws=[_mw(lines_mw='    pathz = ( "/x" ); #<-\n')]), ["middlewares[0].pathz"]),
    ("unknown-rule-setting",
     _cfg(mws=[_mw(lines_rule="      timeOut = 1; #<-\n")]), ["middlewares[0].rule.timeOut"]),
    ("bad-url-scheme",
     _cfg(mws=[_mw(url='"ftp://127.0.0.1/auth" #<-')]), ["middlewares[0].rule.url"]),
    ("url-without-host",
     _cfg(mws=[_mw(url='"http:///auth" #<-')]), ["middlewares[0].rule.url"]),
    ("bad-header-name-in-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "X Auth"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId"]),
    ("forbidden-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "Content-Type"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId"]),
    ("authorization-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "Authorization"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "credentials"]),
    ("cookie-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "cookie"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "credentials"]),
    ("proxy-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "Proxy-Authorization"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "Proxy-"]),
    ("variable-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "Variable-X-Auth-UserId"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "Variable-"]),
    ("authz-dash-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "AUTHZ-Decision"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "AUTHZ-"]),
    ("authz-underscore-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "authz_user"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "AUTHZ_"]),
    ("host-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "Host"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "own header"]),
    ("content-length-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "Content-Length"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "own header"]),
    ("transfer-encoding-headers-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "Transfer-Encoding"; }; #<-\n')]),
     ["middlewares[0].rule.headers.userId", "own header"]),
    ("required-header-is-a-target",
     _cfg(mws=[_mw(lines_rule='      headers = { userId = "X-Auth-UserId"; };\n'
                              '      requiredHeaders = ( "Authorization",\n'
                              '        "X_Auth_UserId" ); #<-\n')]),
     ["middlewares[0].rule.requiredHeaders[1]", "also a header target"]),
    ("bad-params-target",
     _cfg(mws=[_mw(lines_rule='      params = { userCountryId = "country id"; }; #<-\n')]),
     ["middlewares[0].rule.params.userCountryId"]),
    ("bad-required-header-name",
     _cfg(mws=[_mw(lines_rule='      requiredHeaders = ( "Bad Header" ); #<-\n')]),
     ["middlewares[0].rule.requiredHeaders[0]"]),
    ("reserved-required-header",
     _cfg(mws=[_mw(lines_rule='      requiredHeaders = ( "X-Forwarded-For" ); #<-\n')]),
     ["middlewares[0].rule.requiredHeaders[0]"]),
    ("workers-zero", _cfg(top="workers = 0; #<-\n").replace("workers = 2;\n", ""),
     ["workers"]),
    ("workers-too-many", _cfg(top="workers = 257; #<-\n").replace("workers = 2;\n", ""),
     ["workers"]),
    ("workers-not-int", _cfg(top='workers = "4"; #<-\n').replace("workers = 2;\n", ""),
     ["workers"]),
    ("empty-paths", _cfg(mws=[_mw(paths="( ) #<-")]), ["middlewares[0].paths"]),
    ("path-with-dotdot", _cfg(mws=[_mw(paths='( "/a/../b" ) #<-')]),
     ["middlewares[0].paths[0]"]),
    ("path-with-dot", _cfg(mws=[_mw(paths='( "/ok", "/a/./b" ) #<-')]),
     ["middlewares[0].paths[1]"]),
    ("relative-path", _cfg(mws=[_mw(paths='( "protected" ) #<-')]),
     ["middlewares[0].paths[0]"]),
    ("duplicate-middleware-name",
     """workers = 2;
middlewares = (
  { name = "main"; type = "jwt"; paths = ( "/a" ); rule = { url = "http://127.0.0.1:9/a"; }; },
  { type = "jwt";
    name = "main"; #<-
    paths = ( "/b" ); rule = { url = "http://127.0.0.1:9/b"; }; }
);
""",
     ["middlewares[1]", "main"]),
    ("syntax-error", "workers = 2;\nlog_level = = \"info\"; #<-\n" + _cfg().split("\n", 1)[1],
     ["syntax error"]),
    ("bad-log-level", _cfg(top='log_level = "verbose"; #<-\n'), ["log_level"]),
    ("bad-listen-mode", _cfg(top='listen = "/tmp/x.sock";\nlisten_mode = "0999"; #<-\n'),
     ["listen_mode"]),
    ("unsupported-type",
     _cfg(mws=[_mw().replace('type = "jwt";', 'type = "oauth"; #<-\n   ')]),
     ["middlewares[0]", "oauth"]),
    ("zero-timeout", _cfg(mws=[_mw(lines_rule="      timeout = 0; #<-\n")]),
     ["middlewares[0].rule.timeout"]),
    ("connect-timeout-over-timeout",
     _cfg(mws=[_mw(lines_rule="      timeout = 1;\n      connectTimeout = 5; #<-\n")]),
     ["connectTimeout"]),
    ("target-twice",
     _cfg(mws=[_mw(lines_rule='      headers = { a = "X-Id";\n b = "x-id"; #<-\n };\n')]),
     ["middlewares[0].rule.headers.b"]),
]


@pytest.mark.parametrize("text,words", [c[1:] for c in BAD_CONFIGS],
                         ids=[c[0] for c in BAD_CONFIGS])
def test_check_bad_config_names_file_line_and_setting(tmp_path, text, words):
    marked = [i + 1 for i, line in enumerate(text.split("\n")) if "#<-" in line]
    assert len(marked) == 1, text
    path = write(tmp_path, text)
    r = run(["-t", "-c", path])
    err = r.stderr.decode()
    assert r.returncode == 1, (r.returncode, err, text)
    assert r.stdout == b""
    assert "%s:%d:" % (path, marked[0]) in err, (err, text)
    for w in words:
        assert w in err, (w, err)
    # One message, not a stack of them.
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("key,required,warned", [
    ('( "X-Tenant" )', '( "X-Other" )', True),
    ('( "X-Tenant", "authorization" )', '( "X-Other" )', False),
    ('( "Cookie" )', '( "X-Other" )', False),
    ('( "X-Other" )', '( "X-Other" )', False),
    (None, '( "X-Other" )', False),
], ids=["no-credential", "authorization", "cookie", "required-header", "default-key"])
def test_check_warns_about_a_cache_key_without_credential(tmp_path, key, required, warned):
    """A cache key that names no credential serves one caller's allow to every other caller
    whose key headers match: -t says so (with the place), and still accepts the file."""
    cache = "      cache = { ttl = 5;\n%s      };\n" % (
        "        key = %s;\n" % key if key else "")
    text = _cfg(mws=[_mw(lines_rule='      requiredHeaders = %s;\n'
                                    '      forwardHeaders = ( "X-Tenant" );\n%s'
                         % (required, cache))])
    path = write(tmp_path, text)
    r = run(["-t", "-c", path])
    err = r.stderr.decode()
    assert r.returncode == 0, err
    if warned:
        line = [i + 1 for i, l in enumerate(text.split("\n")) if "key =" in l][0]
        assert "%s:%d: middlewares[0].rule.cache.key: names no credential" % (path, line) in err, \
            err
        assert len(err.strip().splitlines()) == 1, err
    else:
        assert err == "", err


def test_missing_middlewares_is_an_error(tmp_path):
    path = write(tmp_path, "workers = 2;\n")
    r = run(["-t", "-c", path])
    assert r.returncode == 1
    assert path in r.stderr.decode() and "middlewares" in r.stderr.decode()


def test_missing_config_file(tmp_path):
    path = str(tmp_path / "nope.conf")
    r = run(["-t", "-c", path])
    assert r.returncode == 1
    assert path in r.stderr.decode()


def test_bad_config_also_stops_a_normal_start(tmp_path):
    path = write(tmp_path, _cfg(top="wokers = 4;\n"))
    r = run(["-c", path])
    assert r.returncode == 1
    assert "wokers" in r.stderr.decode()


def test_version():
    r = run(["-V"])
    assert r.returncode == 0
    assert re.search(rb"authorizer.*\d+\.\d+", r.stdout), r.stdout


def test_help():
    r = run(["-h"])
    assert r.returncode == 0
    out = r.stdout.decode()
    assert "Usage" in out and "-c" in out and "-t" in out


def test_unknown_option_fails():
    r = run(["--no-such-option"])
    assert r.returncode not in (0, None)
    assert r.stdout == b""


def test_authorizer_config_env_used_without_c(tmp_path):
    good = write(tmp_path, build_config(GOOD_URL), "good.conf")
    bad = write(tmp_path, _cfg(top="wokers = 4;\n"), "bad.conf")
    r = run(["-t"], env={"AUTHORIZER_CONFIG": good})
    assert r.returncode == 0, r.stderr
    assert good in r.stdout.decode()
    r = run(["-t"], env={"AUTHORIZER_CONFIG": bad})
    assert r.returncode == 1
    assert bad in r.stderr.decode()
    # -c wins over the environment.
    r = run(["-t", "-c", good], env={"AUTHORIZER_CONFIG": bad})
    assert r.returncode == 0, r.stderr


def test_authorizer_config_env_serves(auth, authorizer):
    text = build_config(auth.url(status=200, h="userId:5"))
    a = authorizer(text)  # the config is written by the fixture; restart it from the env
    a.kill()
    b = authorizer(text, env={"AUTHORIZER_CONFIG": a.config_path}, use_c=False)
    resp = b.request("/protected", {"Authorization": "Bearer x"})
    assert resp.status == 200
    assert resp.header("Variable-X-Auth-UserId") == "5"


@pytest.mark.parametrize("stdin_kind", ["devnull", "file", "connected-socket"])
def test_no_listen_and_stdin_not_a_listener(tmp_path, stdin_kind):
    path = write(tmp_path, build_config(GOOD_URL))
    keep = []
    if stdin_kind == "devnull":
        stdin = subprocess.DEVNULL
    elif stdin_kind == "file":
        f = open(path, "rb")
        keep.append(f)
        stdin = f
    else:
        a, b = socket.socketpair()
        keep += [a, b]
        stdin = a.fileno()
    try:
        r = run(["-c", path], stdin=stdin)
    finally:
        for k in keep:
            k.close()
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "listen" in err and "fd 0" in err, err
